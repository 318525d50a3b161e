use super::*;
use crate::proof::multikey::{decode_p256_multibase, p256_multikey};
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer;
use serde_json::json;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared");
const SAMPLE: &str = "spec/data/ob3/1edtech-validator-tests/sd/derivedcredential.json";

/// The 1EdTech sample (1EdTech expects it VALID) and its issuer key, read from the `#zDna…` fragment.
fn sample() -> Option<(Value, VerifyingKey)> {
    let path = std::path::Path::new(SHARED).join(SAMPLE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "SKIP: {} not found: the ecdsa-sd-2023 sample was not checked",
            path.display()
        );
        return None;
    };
    let doc: Value = serde_json::from_str(&text).unwrap();
    let vm = doc["proof"][0]["verificationMethod"].as_str().unwrap();
    let key = decode_p256_multibase(vm.split_once('#').unwrap().1).unwrap();
    Some((doc, key))
}

fn with_proof_value(doc: &Value, bytes: &[u8]) -> Value {
    let mut doc = doc.clone();
    doc["proof"][0]["proofValue"] = format!("u{}", URL_SAFE_NO_PAD.encode(bytes)).into();
    doc
}

fn proof_bytes(doc: &Value) -> Vec<u8> {
    let text = doc["proof"][0]["proofValue"].as_str().unwrap();
    URL_SAFE_NO_PAD.decode(&text[1..]).unwrap()
}

#[test]
fn the_1edtech_sample_verifies() {
    let Some((doc, key)) = sample() else { return };
    verify_ecdsa_sd_2023(&doc, &doc["proof"][0], &key).unwrap();
}

#[test]
fn a_changed_disclosed_value_fails() {
    let Some((mut doc, key)) = sample() else {
        return;
    };
    doc["credentialSubject"]["achievement"]["name"] = json!("Leadership");
    assert!(matches!(
        verify_ecdsa_sd_2023(&doc, &doc["proof"][0], &key),
        Err(DiError::SignatureMismatch)
    ));
    // The proof options are covered too.
    let Some((mut doc, key)) = sample() else {
        return;
    };
    doc["proof"][0]["created"] = json!("2011-01-01T19:23:24Z");
    assert!(matches!(
        verify_ecdsa_sd_2023(&doc, &doc["proof"][0], &key),
        Err(DiError::SignatureMismatch)
    ));
    // An undisclosed statement cannot be added.
    let Some((mut doc, key)) = sample() else {
        return;
    };
    doc["credentialSubject"]["achievement"]["criteria"]["id"] = json!("https://example.com/c");
    assert!(matches!(
        verify_ecdsa_sd_2023(&doc, &doc["proof"][0], &key),
        Err(DiError::SignatureMismatch)
    ));
}

#[test]
fn another_issuer_key_fails() {
    let Some((doc, _)) = sample() else { return };
    let other = *SigningKey::from_slice(&[9u8; 32]).unwrap().verifying_key();
    assert!(matches!(
        verify_ecdsa_sd_2023(&doc, &doc["proof"][0], &other),
        Err(DiError::SignatureMismatch)
    ));
}

#[test]
fn a_truncated_proof_value_is_malformed() {
    let Some((doc, key)) = sample() else { return };
    let bytes = proof_bytes(&doc);
    for cut in [3, 4, 70, bytes.len() / 2, bytes.len() - 1] {
        let truncated = with_proof_value(&doc, &bytes[..cut]);
        assert!(
            matches!(
                verify_ecdsa_sd_2023(&truncated, &truncated["proof"][0], &key),
                Err(DiError::Malformed(_))
            ),
            "cut at {cut}"
        );
    }
    // And cut inside the base64url text itself.
    let mut doc2 = doc.clone();
    let text = doc["proof"][0]["proofValue"].as_str().unwrap();
    doc2["proof"][0]["proofValue"] = json!(&text[..text.len() / 3]);
    assert!(matches!(
        verify_ecdsa_sd_2023(&doc2, &doc2["proof"][0], &key),
        Err(DiError::Malformed(_))
    ));
}

#[test]
fn a_base_proof_is_not_for_verifiers() {
    let Some((doc, key)) = sample() else { return };
    let mut bytes = proof_bytes(&doc);
    bytes[2] = 0x00;
    let base = with_proof_value(&doc, &bytes);
    assert!(matches!(
        verify_ecdsa_sd_2023(&base, &base["proof"][0], &key),
        Err(DiError::UnsupportedProof(s)) if s.contains("base proof")
    ));
    bytes[2] = 0x07;
    let other = with_proof_value(&doc, &bytes);
    assert!(matches!(
        verify_ecdsa_sd_2023(&other, &other["proof"][0], &key),
        Err(DiError::Malformed(_))
    ));
}

// --- Proofs made here, to cover what the sample does not: mandatory statements, several blank nodes. ---

fn credential() -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:6a1c0f42-0000-4000-8000-000000000003",
        "type": ["VerifiableCredential"],
        "issuer": "https://example.com/issuers/1",
        "validFrom": "2024-05-01T12:00:00Z",
        "name": "_:c14n0 is not a blank node here",
        "credentialSubject": {"name": "Ada", "description": "first \"subject\""},
        "description": "second"
    })
}

fn proof_options() -> Value {
    json!({
        "type": "DataIntegrityProof",
        "created": "2024-05-01T12:00:00Z",
        "verificationMethod": "https://example.com/issuers/1#key",
        "cryptosuite": "ecdsa-sd-2023",
        "proofPurpose": "assertionMethod"
    })
}

#[derive(Default)]
struct Encoder(Vec<u8>);

impl Encoder {
    fn head(&mut self, major: u8, n: usize) {
        let n = n as u64;
        match n {
            0..=23 => self.0.push(major << 5 | n as u8),
            24..=0xff => self.0.extend([major << 5 | 24, n as u8]),
            _ => {
                self.0.push(major << 5 | 25);
                self.0.extend((n as u16).to_be_bytes());
            }
        }
    }
    fn bytes(&mut self, b: &[u8]) {
        self.head(MAJOR_BYTES, b.len());
        self.0.extend_from_slice(b);
    }
}

/// Issues and derives in one go, revealing everything: the holder's steps reduced to what a verifier sees.
fn derive(doc: &Value, issuer: &SigningKey, mandatory: &[usize]) -> Value {
    let ephemeral = SigningKey::from_slice(&[5u8; 32]).unwrap();
    let canonical = canonicalize(doc).unwrap();
    // RDFC-1.0 labels are c14n0, c14n1, ... in order.
    let blanks = (0..)
        .take_while(|n| canonical.contains(&format!("_:c14n{n} ")))
        .count();
    let label_map: HashMap<String, String> = (0..blanks)
        .map(|n| {
            let digest = Sha256::digest(format!("label {n}"));
            (
                format!("c14n{n}"),
                format!("u{}", URL_SAFE_NO_PAD.encode(digest)),
            )
        })
        .collect();
    let quads = relabel(&canonical, &label_map).unwrap();
    let proof_hash = Sha256::digest(
        canonical_proof_configuration(&proof_options(), doc)
            .unwrap()
            .as_bytes(),
    );
    let public = p256_multikey(ephemeral.verifying_key());
    let mut mandatory_hash = Sha256::new();
    let mut signatures = Vec::new();
    for (i, quad) in quads.iter().enumerate() {
        if mandatory.contains(&i) {
            mandatory_hash.update(quad.as_bytes());
        } else {
            let s: Signature = ephemeral.sign(quad.as_bytes());
            signatures.push(s.to_bytes().to_vec());
        }
    }
    let mut to_sign = proof_hash.to_vec();
    to_sign.extend_from_slice(&public);
    to_sign.extend_from_slice(&mandatory_hash.finalize());
    let base: Signature = issuer.sign(&to_sign);

    let mut e = Encoder(DERIVED_HEADER.to_vec());
    e.head(MAJOR_ARRAY, 5);
    e.bytes(&base.to_bytes());
    e.bytes(&public);
    e.head(MAJOR_ARRAY, signatures.len());
    signatures.iter().for_each(|s| e.bytes(s));
    e.head(MAJOR_MAP, blanks);
    for n in 0..blanks {
        e.head(MAJOR_UINT, n);
        e.bytes(
            &URL_SAFE_NO_PAD
                .decode(&label_map[&format!("c14n{n}")][1..])
                .unwrap(),
        );
    }
    e.head(MAJOR_ARRAY, mandatory.len());
    mandatory.iter().for_each(|m| e.head(MAJOR_UINT, *m));

    let mut proof = proof_options();
    proof["proofValue"] = format!("u{}", URL_SAFE_NO_PAD.encode(&e.0)).into();
    let mut secured = doc.clone();
    secured["proof"] = json!([proof]);
    secured
}

#[test]
fn made_here_with_mandatory_statements() {
    let issuer = SigningKey::from_slice(&[3u8; 32]).unwrap();
    let key = *issuer.verifying_key();
    let doc = credential();
    let secured = derive(&doc, &issuer, &[0, 2, 5]);
    verify_ecdsa_sd_2023(&secured, &secured["proof"][0], &key).unwrap();

    let quads = relabel(&canonicalize(&doc).unwrap(), &HashMap::new());
    assert!(
        matches!(quads, Err(DiError::Malformed(_))),
        "blank nodes need labels"
    );
    // Any statement changed fails: a mandatory one (base signature) or another (its own signature).
    for (field, value) in [("description", "changed"), ("name", "changed")] {
        let mut changed = secured.clone();
        changed[field] = json!(value);
        assert!(matches!(
            verify_ecdsa_sd_2023(&changed, &changed["proof"][0], &key),
            Err(DiError::SignatureMismatch)
        ));
    }
    let mut changed = secured.clone();
    changed["credentialSubject"]["name"] = json!("Grace");
    assert!(matches!(
        verify_ecdsa_sd_2023(&changed, &changed["proof"][0], &key),
        Err(DiError::SignatureMismatch)
    ));
    // An index past the end.
    let far = derive(&doc, &issuer, &[0, 99]);
    assert!(matches!(
        verify_ecdsa_sd_2023(&far, &far["proof"][0], &key),
        Err(DiError::Malformed(m)) if m.contains("99")
    ));
}

#[test]
fn labels_inside_literals_are_left_alone() {
    let mut map = HashMap::new();
    map.insert("c14n0".to_string(), "uAA".to_string());
    let canonical = "_:c14n0 <http://e/p> \"_:c14n0 \\\" _:c14n0\" _:c14n0 .\n\
                     <http://e/s> <http://e/p> _:c14n0 .\n";
    let out = relabel(canonical, &map).unwrap();
    assert_eq!(
        out,
        vec![
            "<http://e/s> <http://e/p> _:uAA .\n".to_string(),
            "_:uAA <http://e/p> \"_:c14n0 \\\" _:c14n0\" _:uAA .\n".to_string(),
        ]
    );
}

#[test]
fn cbor_is_bounded_and_strict() {
    let bad = |bytes: &[u8]| {
        let mut v = DERIVED_HEADER.to_vec();
        v.extend_from_slice(bytes);
        let text = format!("u{}", URL_SAFE_NO_PAD.encode(v));
        parse_derived_proof_value(Some(&json!(text))).unwrap_err()
    };
    // An array claiming 2^32 items in a few bytes.
    assert!(matches!(
        bad(&[0x9a, 0xff, 0xff, 0xff, 0xff]),
        DiError::Malformed(_)
    ));
    // Indefinite length, tag, wrong type, wrong size.
    assert!(matches!(bad(&[0x9f]), DiError::Malformed(_)));
    assert!(matches!(bad(&[0xc2, 0x85]), DiError::Malformed(_)));
    assert!(matches!(bad(&[0xa5]), DiError::Malformed(_)));
    assert!(
        matches!(bad(&[0x85, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00]), DiError::Malformed(m) if m.contains("baseSignature"))
    );
    assert!(matches!(
        parse_derived_proof_value(Some(&json!("z123"))),
        Err(DiError::Malformed(_))
    ));
    assert!(matches!(
        parse_derived_proof_value(None),
        Err(DiError::Malformed(_))
    ));
}

#[test]
fn type_cryptosuite_and_purpose_are_checked() {
    let issuer = SigningKey::from_slice(&[3u8; 32]).unwrap();
    let key = *issuer.verifying_key();
    let secured = derive(&credential(), &issuer, &[]);
    verify_ecdsa_sd_2023(&secured, &secured["proof"][0], &key).unwrap();
    let mut p = secured["proof"][0].clone();
    p["proofPurpose"] = json!("authentication");
    assert!(matches!(
        verify_ecdsa_sd_2023(&secured, &p, &key),
        Err(DiError::WrongPurpose(_))
    ));
    let mut p = secured["proof"][0].clone();
    p["cryptosuite"] = json!("ecdsa-rdfc-2019");
    assert!(matches!(
        verify_ecdsa_sd_2023(&secured, &p, &key),
        Err(DiError::UnsupportedProof(s)) if s.contains("ecdsa-rdfc-2019")
    ));
}

/// A derived proof value (after its header) with `n` signatures, a valid key, no labels.
fn derived_with_signatures(n: usize) -> Vec<u8> {
    let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let mut out = DERIVED_HEADER.to_vec();
    out.push(0x85);
    let bytes = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&[0x58, b.len() as u8]);
        out.extend_from_slice(b);
    };
    bytes(&mut out, &[1; 64]);
    bytes(&mut out, &p256_multikey(key.verifying_key()));
    out.extend_from_slice(&[0x99, (n >> 8) as u8, n as u8]);
    for _ in 0..n {
        bytes(&mut out, &[2; 64]);
    }
    out.extend_from_slice(&[0xa0, 0x80]);
    out
}

#[test]
fn the_number_of_signed_statements_is_bounded() {
    let at_limit = read_derived_proof(&derived_with_signatures(MAX_SIGNATURES)).unwrap();
    assert_eq!(at_limit.signatures.len(), MAX_SIGNATURES);
    let over = read_derived_proof(&derived_with_signatures(MAX_SIGNATURES + 1)).unwrap_err();
    assert!(over.to_string().contains("at most 64"), "{over}");
}
