//! The fuzzers' corpora and findings, replayed as ordinary tests (no fuzzing build).
//!
//! Every file of `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` goes through
//! `carnet::fuzzing::<target>`, the function the fuzzer calls: a finding, once fixed and its
//! input kept under `fuzz/regressions/`, stays fixed. `scripts/fuzz.sh` runs the fuzzers;
//! `scripts/fuzz.sh seed` rewrites the seeds below (the ignored test `write_seeds`).

use std::path::{Path, PathBuf};

use crate::common;
use carnet::bake::{self, Keyword, svg::SvgPayload};
use serde_json::json;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_and_finding_replays_without_a_panic() {
    let mut failures = vec![];
    for (name, target) in carnet::fuzzing::TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(name));
        assert!(
            corpus.len() >= 3,
            "fuzz/corpus/{name} holds {} inputs: run scripts/fuzz.sh seed",
            corpus.len()
        );
        let findings = files(&fuzz_dir().join("regressions").join(name));
        for path in corpus.iter().chain(&findings) {
            let data = std::fs::read(path).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&data));
            if outcome.is_err() {
                failures.push(path.display().to_string());
            }
        }
        eprintln!(
            "{name}: {} corpus inputs, {} findings replayed",
            corpus.len(),
            findings.len()
        );
    }
    assert!(failures.is_empty(), "inputs that panic: {failures:#?}");
}

#[test]
fn every_fuzz_target_has_a_fuzzer() {
    let declared = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for (name, _) in carnet::fuzzing::TARGETS {
        let source = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&source).unwrap();
        assert!(
            text.contains(&format!("carnet::fuzzing::{name}(data)")),
            "{}",
            source.display()
        );
        assert!(declared.contains(&format!("name = \"{name}\"")), "{name}");
    }
}

/// Writes the seed inputs, made by carnet itself, into `fuzz/corpus/<target>/seed-*`.
#[test]
#[ignore = "writes files: run by `scripts/fuzz.sh seed`"]
fn write_seeds() {
    let f = common::fixture();
    let signed = f.issue("lea@example.org", &common::full_details());
    let json = serde_json::to_string(&signed.json).unwrap();
    let png = &f.class.image_png;
    let hosted = "https://ime.example/ob2/assertions/1.json";
    let svg = bake::svg_wrapping_png(png, "Badge");
    let rectec = std::fs::read(common::carnets::RECTEC).unwrap();
    let carnet = json!({
        "referentiel": {"id": "rectec", "version": "2021"},
        "person": {"email": "lea@example.org", "display_name": "Léa"},
        "entries": [
            {"competence": "1", "answer": "je_fais", "recognition": "validated",
             "modality": "en_situation_de_travail", "date": "2024-06-14", "level": "2",
             "jury": [{"name": "Un jury", "role": "formateur"}]},
            {"competence": "5", "answer": "je_fais_en_partie", "date": "2024-05-02",
             "struck": ["a"], "comment": "avec aide"}
        ]
    })
    .to_string();

    let seeds: Vec<(&str, &str, Vec<u8>)> = vec![
        ("unbake_png", "plain", png.clone()),
        (
            "unbake_png",
            "ob3-json",
            bake::bake_png(png, Keyword::Ob3Credential, &json).unwrap(),
        ),
        (
            "unbake_png",
            "ob3-jwt",
            bake::bake_png(png, Keyword::Ob3Credential, &signed.jwt).unwrap(),
        ),
        (
            "unbake_png",
            "ob2-hosted",
            bake::bake_png(png, Keyword::Ob2Assertion, hosted).unwrap(),
        ),
        ("unbake_svg", "plain", svg.clone().into_bytes()),
        (
            "unbake_svg",
            "ob3-json",
            bake::bake_svg(&svg, Keyword::Ob3Credential, SvgPayload::Json(json.clone()))
                .unwrap()
                .into_bytes(),
        ),
        (
            "unbake_svg",
            "ob3-jwt",
            bake::bake_svg(&svg, Keyword::Ob3Credential, SvgPayload::Jws(signed.jwt.clone()))
                .unwrap()
                .into_bytes(),
        ),
        (
            "unbake_svg",
            "ob2-hosted",
            bake::bake_svg(
                &svg,
                Keyword::Ob2Assertion,
                SvgPayload::HostedJson {
                    url: hosted.into(),
                    json: json!({"id": hosted}).to_string(),
                },
            )
            .unwrap()
            .into_bytes(),
        ),
        ("jws", "vc-jwt", signed.jwt.clone().into_bytes()),
        ("jws", "two-parts", b"eyJhbGciOiJFZERTQSJ9.e30".to_vec()),
        ("jws", "empty-parts", b"..".to_vec()),
        ("cbor", "derived", derived_proof_cbor()),
        ("cbor", "empty-array", vec![0x85, 0x40, 0x40, 0x80, 0xa0, 0x80]),
        ("cbor", "indefinite", vec![0x9f, 0xff]),
        ("jsonld_rdf", "credential", json.clone().into_bytes()),
        (
            "jsonld_rdf",
            "inline-context",
            json!({"@context": {"@vocab": "https://example.org/", "n": {"@id": "https://example.org/n", "@type": "@id"}},
                   "@id": "urn:x", "n": ["urn:a", {"@list": [1, 2.5, true]}], "@type": "T"})
            .to_string()
            .into_bytes(),
        ),
        (
            "jsonld_rdf",
            "blank-nodes",
            json!({"@context": {"@vocab": "https://example.org/"},
                   "a": {"b": {"c": "é"}}, "d": [{"e": 1}, {"e": 1}]})
            .to_string()
            .into_bytes(),
        ),
        ("csv", "comma", TRADE_CSV.replace(';', ",").into_bytes()),
        ("csv", "semicolon", TRADE_CSV.as_bytes().to_vec()),
        (
            "csv",
            "quotes",
            b"a;\"b;c\";\"d \"\"e\"\"\"\r\n\"f\ng\";h;\n\"open".to_vec(),
        ),
        ("referentiel", "rectec-json", [&[0u8][..], &rectec].concat()),
        (
            "referentiel",
            "trade-csv",
            [&[1u8][..], TRADE_CSV.as_bytes()].concat(),
        ),
        (
            "referentiel",
            "carnet",
            [&[2u8][..], carnet.as_bytes()].concat(),
        ),
    ];
    for (target, name, bytes) in seeds {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
}

const TRADE_CSV: &str = common::carnets::TRADE_CSV;

/// A structurally valid derived proof value (CBOR, after the header): five components, one
/// signature, one label, one mandatory index; the public key is P-256's generator point.
fn derived_proof_cbor() -> Vec<u8> {
    let generator = [
        0x03, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4,
        0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8,
        0x98, 0xc2, 0x96,
    ];
    let mut out = vec![0x85];
    let bytes = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&[0x58, b.len() as u8]);
        out.extend_from_slice(b);
    };
    bytes(&mut out, &[1; 64]);
    let mut key = vec![0x80, 0x24];
    key.extend_from_slice(&generator);
    bytes(&mut out, &key);
    out.push(0x81);
    bytes(&mut out, &[2; 64]);
    out.extend_from_slice(&[0xa1, 0x00]);
    bytes(&mut out, &[3; 32]);
    out.extend_from_slice(&[0x81, 0x00]);
    out
}
