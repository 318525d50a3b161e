//! `DataIntegrityProof` + `ecdsa-sd-2023` (W3C VC Data Integrity ECDSA Cryptosuites v1.0 §3.3): verification of
//! **derived** (selective disclosure) proofs, the form a holder shows a verifier.
//!
//! The issuer signs, with its P-256 key, proofHash ‖ publicKey ‖ mandatoryHash ("serializeSignData"), where
//! `publicKey` is a proof-scoped P-256 Multikey (0x80 0x24 ‖ compressed point) that signs each non-mandatory
//! N-Quad on its own. A derived proof value ("parseDerivedProofValue") is `u` + base64url-no-pad of the header
//! 0xd9 0x5d 0x01 followed by the CBOR array [baseSignature (64 bytes), publicKey (35 bytes), signatures (64 bytes
//! each), compressed label map {n → 32 bytes}, mandatoryIndexes].
//!
//! Verification ("createVerifyData", "verifyDerivedProof"): the revealed document (without `proof`) is canonicalised
//! with RDFC-1.0 (`jsonld::canonicalize`, the only canonicalisation entry), each `_:c14nN` label is replaced by the
//! label the issuer signed (`_:u…`, from the label map: "createLabelMapFunction", "labelReplacementCanonicalizeJsonLd")
//! and the quads are sorted again. The quads at `mandatoryIndexes` are hashed together (mandatoryHash); each other
//! quad must carry, in order, a signature by the proof-scoped key. Signatures are ECDSA P-256 with SHA-256 in IEEE
//! P1363 form (r ‖ s).
//!
//! A base proof (header 0xd9 0x5d 0x00) is for the holder only: it is refused as unsupported.
//!
//! The CBOR is read by a small reader of our own, bounded: only the few item types a derived proof
//! holds, every length checked against the bytes left before anything is allocated.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::data_integrity::{DATA_INTEGRITY_PROOF, DiError, canonical_proof_configuration};
use super::multikey::decode_p256_multikey;
use crate::jsonld::canonicalize;

pub const ECDSA_SD_2023: &str = "ecdsa-sd-2023";

/// CBOR tag 0x5d00 (base proof) / 0x5d01 (derived proof), as the three header bytes.
const BASE_HEADER: [u8; 3] = [0xd9, 0x5d, 0x00];
pub(crate) const DERIVED_HEADER: [u8; 3] = [0xd9, 0x5d, 0x01];

/// Longest `proofValue` read (characters). A derived proof costs 64 bytes per disclosed statement: this allows
/// some 12,000, more than a document that canonicalisation accepts can have.
const MAX_PROOF_VALUE_CHARS: usize = 1 << 20;
/// Most label map entries or mandatory indexes in one proof.
const MAX_ITEMS: usize = 10_000;
/// Most non-mandatory statements (one P-256 signature check each, ~0.1 ms) a derived proof may
/// disclose: an Open Badge discloses a few dozen; this keeps one anonymous verification well
/// under 50 ms of CPU (`carnet bench --hostile`).
pub const MAX_SIGNATURES: usize = 64;

const SIGNATURE_LEN: usize = 64;
/// 0x80 0x24 ‖ 33-byte compressed P-256 point.
const PUBLIC_KEY_LEN: usize = 35;
const LABEL_LEN: usize = 32;

/// The parts of a derived proof value.
#[derive(Debug)]
pub(crate) struct DerivedProof {
    base_signature: Signature,
    /// The proof-scoped key's Multikey bytes, as signed (0x80 0x24 ‖ compressed point).
    public_key_bytes: Vec<u8>,
    public_key: VerifyingKey,
    signatures: Vec<Signature>,
    /// `c14nN` → `u<base64url>` (decompressed label map).
    label_map: HashMap<String, String>,
    mandatory_indexes: Vec<usize>,
}

/// Verifies an `ecdsa-sd-2023` derived proof of `secured` (the revealed document including its `proof`, object or
/// array) with the issuer's P-256 key. The purpose must be `assertionMethod`.
pub fn verify_ecdsa_sd_2023(
    secured: &Value,
    proof: &Value,
    issuer_key: &VerifyingKey,
) -> Result<(), DiError> {
    let doc = secured
        .as_object()
        .ok_or_else(|| DiError::Malformed("document is not a JSON object".into()))?;
    let proof_map = proof
        .as_object()
        .ok_or_else(|| DiError::Malformed("proof is not a JSON object".into()))?;
    match proof_map.get("type").and_then(Value::as_str) {
        Some(DATA_INTEGRITY_PROOF) => {}
        Some(other) => return Err(DiError::UnsupportedProof(other.to_string())),
        None => return Err(DiError::Malformed("proof has no type".into())),
    }
    match proof_map.get("cryptosuite").and_then(Value::as_str) {
        Some(ECDSA_SD_2023) => {}
        Some(other) => {
            return Err(DiError::UnsupportedProof(format!(
                "{DATA_INTEGRITY_PROOF} with cryptosuite {other}"
            )));
        }
        None => {
            return Err(DiError::Malformed(
                "DataIntegrityProof without cryptosuite".into(),
            ));
        }
    }
    super::data_integrity::check_purpose_and_method(proof_map)?;
    // Cheap checks first: the proof value is read before any canonicalisation.
    let derived = parse_derived_proof_value(proof_map.get("proofValue"))?;

    // createVerifyData.
    let proof_hash = Sha256::digest(canonical_proof_configuration(proof, secured)?.as_bytes());
    let unsecured = without_proof(doc);
    let quads = relabel(&canonicalize(&unsecured)?, &derived.label_map)?;
    let mut is_mandatory = vec![false; quads.len()];
    for &index in &derived.mandatory_indexes {
        let slot = is_mandatory.get_mut(index).ok_or_else(|| {
            DiError::Malformed(format!(
                "mandatory index {index} is past the document's {} statements",
                quads.len()
            ))
        })?;
        *slot = true;
    }
    let mut mandatory = Sha256::new();
    let mut non_mandatory = Vec::with_capacity(quads.len());
    for (quad, mandatory_quad) in quads.iter().zip(&is_mandatory) {
        if *mandatory_quad {
            mandatory.update(quad.as_bytes());
        } else {
            non_mandatory.push(quad);
        }
    }
    let mandatory_hash = mandatory.finalize();

    // verifyDerivedProof. A statement added or removed changes the count: the document is not the one signed.
    if derived.signatures.len() != non_mandatory.len() {
        return Err(DiError::SignatureMismatch);
    }
    let mut to_verify = Vec::with_capacity(32 + PUBLIC_KEY_LEN + 32);
    to_verify.extend_from_slice(&proof_hash);
    to_verify.extend_from_slice(&derived.public_key_bytes);
    to_verify.extend_from_slice(&mandatory_hash);
    issuer_key
        .verify(&to_verify, &derived.base_signature)
        .map_err(|_| DiError::SignatureMismatch)?;
    for (quad, signature) in non_mandatory.iter().zip(&derived.signatures) {
        derived
            .public_key
            .verify(quad.as_bytes(), signature)
            .map_err(|_| DiError::SignatureMismatch)?;
    }
    Ok(())
}

fn without_proof(doc: &Map<String, Value>) -> Value {
    let mut unsecured = doc.clone();
    unsecured.remove("proof");
    Value::Object(unsecured)
}

/// parseDerivedProofValue (with decompressLabelMap).
fn parse_derived_proof_value(value: Option<&Value>) -> Result<DerivedProof, DiError> {
    let text = value
        .and_then(Value::as_str)
        .ok_or_else(|| DiError::Malformed("proof has no proofValue".into()))?;
    if text.len() > MAX_PROOF_VALUE_CHARS {
        return Err(DiError::Malformed(format!(
            "proofValue longer than {MAX_PROOF_VALUE_CHARS} characters"
        )));
    }
    let b64 = text.strip_prefix('u').ok_or_else(|| {
        DiError::Malformed("proofValue is not base64url-no-pad multibase (no leading 'u')".into())
    })?;
    let bytes = URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|e| DiError::Malformed(format!("proofValue: {e}")))?;
    read_derived_proof(&bytes)
}

/// The derived proof in its decoded bytes: the ecdsa-sd-2023 header, then CBOR (also the fuzzers' entry point).
pub(crate) fn read_derived_proof(bytes: &[u8]) -> Result<DerivedProof, DiError> {
    let body = match bytes.get(..3) {
        Some(h) if h == DERIVED_HEADER => &bytes[3..],
        Some(h) if h == BASE_HEADER => {
            return Err(DiError::UnsupportedProof(
                "ecdsa-sd-2023 base proof (must be derived before it is shown)".into(),
            ));
        }
        _ => {
            return Err(DiError::Malformed(
                "proofValue does not start with the ecdsa-sd-2023 header".into(),
            ));
        }
    };

    let mut cbor = Cbor::new(body);
    if cbor.array()? != 5 {
        return Err(DiError::Malformed(
            "derived proof value is not an array of five components".into(),
        ));
    }
    let base_signature = signature(cbor.bytes(Some(SIGNATURE_LEN), "baseSignature")?)?;
    let public_key_bytes = cbor.bytes(Some(PUBLIC_KEY_LEN), "publicKey")?.to_vec();
    let public_key = decode_p256_multikey(&public_key_bytes)
        .map_err(|e| DiError::Malformed(format!("publicKey: {e}")))?;

    let count = cbor.array()?;
    if count > MAX_SIGNATURES {
        return Err(DiError::Malformed(format!(
            "{count} signed statements: carnet verifies at most {MAX_SIGNATURES} in a selectively disclosed credential"
        )));
    }
    let signatures = (0..count)
        .map(|_| signature(cbor.bytes(Some(SIGNATURE_LEN), "signature")?))
        .collect::<Result<Vec<_>, _>>()?;

    let entries = cbor.map()?;
    bound(entries, "label map entries")?;
    let mut label_map = HashMap::with_capacity(entries);
    for _ in 0..entries {
        let key = cbor.uint()?;
        let value = cbor.bytes(Some(LABEL_LEN), "label map value")?;
        let label = format!("u{}", URL_SAFE_NO_PAD.encode(value));
        if label_map.insert(format!("c14n{key}"), label).is_some() {
            return Err(DiError::Malformed(format!("label map has c14n{key} twice")));
        }
    }

    let count = cbor.array()?;
    bound(count, "mandatory indexes")?;
    let mandatory_indexes = (0..count)
        .map(|_| {
            let index = cbor.uint()?;
            usize::try_from(index)
                .map_err(|_| DiError::Malformed(format!("mandatory index {index} is too large")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !cbor.is_at_end() {
        return Err(DiError::Malformed(
            "bytes left after the derived proof value".into(),
        ));
    }
    Ok(DerivedProof {
        base_signature,
        public_key_bytes,
        public_key,
        signatures,
        label_map,
        mandatory_indexes,
    })
}

fn bound(count: usize, what: &str) -> Result<(), DiError> {
    if count > MAX_ITEMS {
        return Err(DiError::Malformed(format!(
            "more than {MAX_ITEMS} {what} in the proof"
        )));
    }
    Ok(())
}

/// IEEE P1363 (r ‖ s) signature; r and s must be in range.
fn signature(bytes: &[u8]) -> Result<Signature, DiError> {
    Signature::from_slice(bytes)
        .map_err(|_| DiError::Malformed("an ECDSA signature is out of range".into()))
}

/// Replaces each `_:c14nN` blank node label of canonical N-Quads by `_:` + its label map entry, then sorts the
/// quads (labelReplacementCanonicalizeNQuads). Each returned quad ends with `\n`. Labels are replaced only where
/// a term starts (subject, object, graph), never inside a literal.
fn relabel(canonical: &str, label_map: &HashMap<String, String>) -> Result<Vec<String>, DiError> {
    let mut quads = Vec::new();
    for line in canonical.split_terminator('\n') {
        let bytes = line.as_bytes();
        let mut out: Vec<u8> = Vec::with_capacity(line.len() + 64);
        let mut in_literal = false;
        let mut term_start = true;
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            if in_literal {
                match c {
                    // An escape: the next byte is never the end of the literal.
                    b'\\' => {
                        out.extend_from_slice(&bytes[i..(i + 2).min(bytes.len())]);
                        i += 2;
                        continue;
                    }
                    b'"' => in_literal = false,
                    _ => {}
                }
                out.push(c);
                i += 1;
                continue;
            }
            if term_start && bytes[i..].starts_with(b"_:") {
                let end = line[i..].find(' ').map_or(line.len(), |n| i + n);
                let label = &line[i + 2..end];
                let new = label_map.get(label).ok_or_else(|| {
                    DiError::Malformed(format!(
                        "the label map has no entry for the blank node _:{label}"
                    ))
                })?;
                out.extend_from_slice(b"_:");
                out.extend_from_slice(new.as_bytes());
                i = end;
                term_start = false;
                continue;
            }
            if c == b'"' {
                in_literal = true;
            }
            term_start = c == b' ';
            out.push(c);
            i += 1;
        }
        out.push(b'\n');
        // Only whole UTF-8 sequences were copied, and ASCII inserted.
        quads.push(String::from_utf8(out).expect("relabelled N-Quads stay UTF-8"));
    }
    quads.sort_unstable();
    Ok(quads)
}

/// Reader for the few CBOR (RFC 8949) items a derived proof holds: definite-length arrays, maps, byte strings and
/// unsigned integers. Tags, indefinite lengths and every other type are refused; lengths are checked against the
/// bytes left before anything is allocated.
struct Cbor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

const MAJOR_UINT: u8 = 0;
const MAJOR_BYTES: u8 = 2;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;

impl<'a> Cbor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn is_at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DiError> {
        if n > self.remaining() {
            return Err(DiError::Malformed(
                "derived proof value is truncated".into(),
            ));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// The major type and argument of the next item.
    fn head(&mut self) -> Result<(u8, u64), DiError> {
        let initial = self.take(1)?[0];
        let (major, info) = (initial >> 5, initial & 0x1f);
        let argument = match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.take(1)?[0]),
            25 => u64::from(u16::from_be_bytes(
                self.take(2)?.try_into().expect("two bytes"),
            )),
            26 => u64::from(u32::from_be_bytes(
                self.take(4)?.try_into().expect("four bytes"),
            )),
            27 => u64::from_be_bytes(self.take(8)?.try_into().expect("eight bytes")),
            31 => {
                return Err(DiError::Malformed(
                    "indefinite-length CBOR is not allowed in a proof value".into(),
                ));
            }
            _ => {
                return Err(DiError::Malformed("invalid CBOR in the proof value".into()));
            }
        };
        if major == 6 {
            return Err(DiError::Malformed(
                "CBOR tags are not allowed inside the proof value".into(),
            ));
        }
        Ok((major, argument))
    }

    fn expect(&mut self, major: u8, what: &str) -> Result<u64, DiError> {
        let (found, argument) = self.head()?;
        if found != major {
            return Err(DiError::Malformed(format!(
                "derived proof value: expected {what}"
            )));
        }
        Ok(argument)
    }

    /// A length, which cannot exceed the bytes left (every item takes at least one).
    fn length(&self, argument: u64) -> Result<usize, DiError> {
        usize::try_from(argument)
            .ok()
            .filter(|n| *n <= self.remaining())
            .ok_or_else(|| DiError::Malformed("derived proof value is truncated".into()))
    }

    fn array(&mut self) -> Result<usize, DiError> {
        let n = self.expect(MAJOR_ARRAY, "an array")?;
        self.length(n)
    }

    fn map(&mut self) -> Result<usize, DiError> {
        let n = self.expect(MAJOR_MAP, "a map")?;
        // Each entry takes at least two bytes.
        let n = self.length(n)?;
        if n > self.remaining() / 2 {
            return Err(DiError::Malformed(
                "derived proof value is truncated".into(),
            ));
        }
        Ok(n)
    }

    fn uint(&mut self) -> Result<u64, DiError> {
        self.expect(MAJOR_UINT, "an unsigned integer")
    }

    fn bytes(&mut self, len: Option<usize>, what: &str) -> Result<&'a [u8], DiError> {
        let n = self.expect(MAJOR_BYTES, &format!("a byte string ({what})"))?;
        let n = self.length(n)?;
        if let Some(expected) = len
            && n != expected
        {
            return Err(DiError::Malformed(format!(
                "{what} is {n} bytes, not {expected}"
            )));
        }
        self.take(n)
    }
}

#[cfg(test)]
#[path = "ecdsa_sd_tests.rs"]
mod tests;
