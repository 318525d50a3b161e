//! The fuzzers' entry points (`fuzz/fuzz_targets/`), one per reader of untrusted bytes: PNG and SVG
//! unbaking, compact JWS, the ecdsa-sd-2023 CBOR reader, JSON-LD to RDF, CSV, référentiels and
//! carnets. `fuzz/` is the cargo-fuzz crate (a workspace of its own; its README, `fuzz/LOG.tsv`
//! the time each has run); `scripts/fuzz.sh` runs them.
//!
//! Each takes any bytes, must never panic, and checks what must hold whatever the input: a round
//! trip where there is one, the two JSON-LD paths agreeing, errors that say something. The test
//! command replays every file of `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` through
//! the same function (`tests/integration/fuzz_corpora.rs`), so a finding stays fixed.

use crate::bake::{self, Keyword, Limits};
use crate::proof::{ecdsa_sd, vc_jwt};
use crate::referentiel::{self, Format};

/// A fuzz target: any bytes in, a panic when something that must hold does not.
pub type Target = fn(&[u8]);

/// The targets, by the name of their fuzzer and corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("unbake_png", unbake_png),
    ("unbake_svg", unbake_svg),
    ("jws", jws),
    ("cbor", cbor),
    ("jsonld_rdf", jsonld_rdf),
    ("csv", csv),
    ("referentiel", referentiel),
];

/// Unbakes a PNG; when its chunks read, baking a text into it and unbaking gives the text back.
pub fn unbake_png(data: &[u8]) {
    let limits = Limits::default();
    if let Err(e) = bake::unbake_png(data, &limits) {
        assert!(!e.to_string().is_empty());
    }
    if bake::png::chunks(data).is_ok() {
        let text = "{\"fuzz\":\"é\"}";
        if let Ok(baked) = bake::bake_png(data, Keyword::Ob3Credential, text) {
            let back = bake::unbake_png(&baked, &limits).expect("a PNG carnet baked unbakes");
            assert_eq!(back.text, text, "the baked text comes back unchanged");
        }
    }
}

/// Unbakes an SVG.
pub fn unbake_svg(data: &[u8]) {
    if let Err(e) = bake::unbake_svg(data, &Limits::default()) {
        assert!(!e.to_string().is_empty());
    }
}

/// Decodes a compact JWS and reads the credential of its payload.
pub fn jws(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = vc_jwt::looks_like_compact_jws(text);
    if let Ok(decoded) = vc_jwt::decode(text) {
        let _ = decoded.alg();
        let _ = decoded.kid();
        let _ = vc_jwt::credential_of(&decoded.payload);
    }
}

/// Reads an ecdsa-sd-2023 derived proof value (CBOR) after its header.
pub fn cbor(data: &[u8]) {
    let mut bytes = ecdsa_sd::DERIVED_HEADER.to_vec();
    bytes.extend_from_slice(data);
    let _ = ecdsa_sd::read_derived_proof(&bytes);
}

/// JSON (I-JSON) to canonical N-Quads; when the fast path takes the document, the general path
/// (the `json-ld` crate's expansion and toRdf, then RDFC-1.0) agrees with it.
pub fn jsonld_rdf(data: &[u8]) {
    let Ok(doc) = crate::json::from_slice(data) else {
        return;
    };
    let fast = crate::jsonld::canonicalize_fast(&doc);
    let slow = crate::jsonld::canonicalize_slow(&doc);
    if let (Some(fast), Ok(slow)) = (fast, &slow) {
        assert_eq!(&fast, slow, "the fast path and the json-ld crate agree");
    }
}

/// The CSV reader: every record it gives back has at least one field.
pub fn csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (records, _) = crate::csv::records(text);
    assert!(records.iter().all(|r| !r.fields.is_empty()));
}

/// The référentiel reader (JSON and CSV) and the carnet reader, validated against RECTEC.
pub fn referentiel(data: &[u8]) {
    let (format, rest) = match data.split_first() {
        Some((b, rest)) if b % 3 == 0 => (Some(Format::Json), rest),
        Some((b, rest)) if b % 3 == 1 => (Some(Format::Csv), rest),
        Some((_, rest)) => (None, rest),
        None => return,
    };
    match format {
        Some(format) => {
            if let Err(errors) = referentiel::parse(rest, "fuzz", format) {
                assert!(!errors.is_empty(), "a refused référentiel says why");
            }
        }
        None => {
            if let Ok(draft) = referentiel::carnet::parse_carnet(rest, "fuzz") {
                let _ = draft.validate(Some(rectec()));
            }
        }
    }
}

fn rectec() -> &'static referentiel::Referentiel {
    static RECTEC: std::sync::OnceLock<referentiel::Referentiel> = std::sync::OnceLock::new();
    RECTEC.get_or_init(|| {
        referentiel::parse(
            include_bytes!("../referentiels/rectec.json"),
            "rectec.json",
            Format::Json,
        )
        .expect("the shipped RECTEC référentiel reads")
    })
}
