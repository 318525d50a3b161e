//! Embedded Data Integrity proofs with Ed25519 over RDFC-1.0 canonical N-Quads.
//!
//! - `DataIntegrityProof` + `eddsa-rdfc-2022`: W3C VC Data Integrity EdDSA Cryptosuites v1.0 §3.3 (sign and verify);
//!   OB 3.0 §8.3 requires it. The legacy draft name `eddsa-2022` (same algorithm) is verified too.
//! - `Ed25519Signature2020` (W3C CCG, legacy): verified only. Same hashing: the proof options, carrying the
//!   document's `@context`, and the document without `proof` are each canonicalised and hashed (SHA-256);
//!   the signature is over proofHash ‖ documentHash.
//!
//! `verify_proof` answers "does this proof hold for this document and this key": resolving the key from
//! `verificationMethod`, and checking its controller against the issuer, belong to the caller.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::jsonld::{CanonError, canonicalize};

pub const DATA_INTEGRITY_PROOF: &str = "DataIntegrityProof";
pub const EDDSA_RDFC_2022: &str = "eddsa-rdfc-2022";
/// Draft name of `eddsa-rdfc-2022` (2022-2023 drafts), still found in issued credentials.
pub const EDDSA_2022: &str = "eddsa-2022";
pub const ED25519_SIGNATURE_2020: &str = "Ed25519Signature2020";
pub const ASSERTION_METHOD: &str = "assertionMethod";

#[derive(Debug, thiserror::Error)]
pub enum DiError {
    #[error(transparent)]
    Canon(#[from] CanonError),
    /// The proof's type (and cryptosuite) are not ones carnet verifies.
    #[error("unsupported proof type {0}")]
    UnsupportedProof(String),
    #[error("malformed proof: {0}")]
    Malformed(String),
    #[error("the signature does not match the document")]
    SignatureMismatch,
    #[error("proof purpose {0:?} is not assertionMethod")]
    WrongPurpose(String),
}

/// Signs `unsigned` (its `proof`, if any, is not covered) and returns the proof object to embed:
/// `DataIntegrityProof`, `eddsa-rdfc-2022`, `assertionMethod`, `proofValue` = `z` + base58btc(signature).
pub fn sign_eddsa_rdfc_2022(
    unsigned: &Value,
    key: &SigningKey,
    verification_method: &str,
    created: &str,
) -> Result<Value, DiError> {
    let doc = document_object(unsigned)?;
    chrono::DateTime::parse_from_rfc3339(created).map_err(|_| {
        DiError::Malformed(format!("created {created:?} is not an XSD dateTimeStamp"))
    })?;
    if verification_method.is_empty() {
        return Err(DiError::Malformed("empty verificationMethod".into()));
    }
    let mut proof = Map::new();
    proof.insert("type".into(), DATA_INTEGRITY_PROOF.into());
    proof.insert("created".into(), created.into());
    proof.insert("verificationMethod".into(), verification_method.into());
    proof.insert("cryptosuite".into(), EDDSA_RDFC_2022.into());
    proof.insert("proofPurpose".into(), ASSERTION_METHOD.into());

    let config = proof_configuration(&proof, doc)?;
    let data = hash_data(&config, &without_proof(doc))?;
    let signature = key.sign(&data);
    proof.insert(
        "proofValue".into(),
        format!("z{}", bs58::encode(signature.to_bytes()).into_string()).into(),
    );
    Ok(Value::Object(proof))
}

/// Verifies one proof of `secured` (the document including its `proof` property, object or array) with `key`.
/// Accepts `DataIntegrityProof` with `eddsa-rdfc-2022` or legacy `eddsa-2022`, and legacy `Ed25519Signature2020`;
/// the purpose must be `assertionMethod`.
pub fn verify_proof(secured: &Value, proof: &Value, key: &VerifyingKey) -> Result<(), DiError> {
    let doc = document_object(secured)?;
    let proof = proof
        .as_object()
        .ok_or_else(|| DiError::Malformed("proof is not a JSON object".into()))?;
    let proof_type = proof
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| DiError::Malformed("proof has no type".into()))?;
    match proof_type {
        DATA_INTEGRITY_PROOF => match proof.get("cryptosuite").and_then(Value::as_str) {
            Some(EDDSA_RDFC_2022 | EDDSA_2022) => {}
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
        },
        ED25519_SIGNATURE_2020 => {}
        other => return Err(DiError::UnsupportedProof(other.to_string())),
    }
    check_purpose_and_method(proof)?;
    let signature = decode_proof_value(proof.get("proofValue"))?;

    let mut options = proof.clone();
    options.remove("proofValue");
    let mut unsecured = without_proof(doc);
    let config = match options.get("@context") {
        // VC DI 1.0 §4.3 step 4: the document's context must begin with the proof's, which then governs both.
        Some(proof_context) => {
            if !context_starts_with(doc.get("@context"), proof_context) {
                return Err(DiError::Malformed(
                    "the proof's @context is not a prefix of the document's".into(),
                ));
            }
            if let Value::Object(u) = &mut unsecured {
                u.insert("@context".into(), proof_context.clone());
            }
            Value::Object(options)
        }
        None => proof_configuration(&options, doc)?,
    };
    let data = hash_data(&config, &unsecured)?;
    key.verify_strict(&data, &signature)
        .map_err(|_| DiError::SignatureMismatch)
}

/// The proofs of a document, as a list, whatever the form (object or array; absent or null → empty).
pub fn proofs(doc: &Value) -> Vec<&Value> {
    match doc.get("proof") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
    }
}

/// The canonical proof configuration (proof options with the document's `@context`), as N-Quads.
pub fn canonical_proof_configuration(proof: &Value, doc: &Value) -> Result<String, DiError> {
    let proof = proof
        .as_object()
        .ok_or_else(|| DiError::Malformed("proof is not a JSON object".into()))?;
    let mut options = proof.clone();
    options.remove("proofValue");
    Ok(canonicalize(&proof_configuration(
        &options,
        document_object(doc)?,
    )?)?)
}

fn document_object(doc: &Value) -> Result<&Map<String, Value>, DiError> {
    doc.as_object()
        .ok_or_else(|| DiError::Malformed("document is not a JSON object".into()))
}

/// Proof options plus the document's `@context` (eddsa-rdfc-2022 §3.3.5 step 5).
fn proof_configuration(
    options: &Map<String, Value>,
    doc: &Map<String, Value>,
) -> Result<Value, DiError> {
    let context = doc
        .get("@context")
        .ok_or_else(|| DiError::Malformed("document has no @context".into()))?;
    let mut config = Map::new();
    config.insert("@context".into(), context.clone());
    for (k, v) in options {
        if k != "@context" {
            config.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(config))
}

fn without_proof(doc: &Map<String, Value>) -> Value {
    let mut unsecured = doc.clone();
    unsecured.remove("proof");
    Value::Object(unsecured)
}

/// SHA-256(canonical proof configuration) ‖ SHA-256(canonical document) (eddsa-rdfc-2022 §3.3.4).
fn hash_data(config: &Value, unsecured: &Value) -> Result<[u8; 64], DiError> {
    let config_hash = Sha256::digest(canonicalize(config)?.as_bytes());
    let document_hash = document_hash(unsecured)?;
    let mut data = [0u8; 64];
    data[..32].copy_from_slice(&config_hash);
    data[32..].copy_from_slice(&document_hash);
    Ok(data)
}

/// SHA-256 of the canonical document. The last answer is remembered per thread, by the SHA-256 of
/// the document's JSON text (never the document): the proofs of one document (up to
/// `verify::MAX_PROOFS`) share it, and serialising costs far less than canonicalising. A document
/// refused as too complex is refused once, not once per proof.
fn document_hash(unsecured: &Value) -> Result<[u8; 32], DiError> {
    type Answer = Result<[u8; 32], String>;
    thread_local! {
        static LAST: std::cell::RefCell<Option<([u8; 32], Answer)>> =
            const { std::cell::RefCell::new(None) };
    }
    let text = serde_json::to_vec(unsecured)
        .map_err(|e| DiError::Malformed(format!("the document cannot be serialised: {e}")))?;
    let key: [u8; 32] = Sha256::digest(&text).into();
    let known = LAST.with(|last| {
        last.borrow()
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, answer)| answer.clone())
    });
    let answer = match known {
        Some(answer) => answer,
        None => {
            let answer = match canonicalize(unsecured) {
                Ok(canonical) => Ok(Sha256::digest(canonical.as_bytes()).into()),
                Err(CanonError::TooComplex(why)) => Err(why),
                Err(other) => return Err(other.into()),
            };
            LAST.with(|last| *last.borrow_mut() = Some((key, answer.clone())));
            answer
        }
    };
    answer.map_err(|why| CanonError::TooComplex(why).into())
}

fn decode_proof_value(value: Option<&Value>) -> Result<Signature, DiError> {
    let text = value
        .and_then(Value::as_str)
        .ok_or_else(|| DiError::Malformed("proof has no proofValue".into()))?;
    let b58 = text
        .strip_prefix('z')
        .ok_or_else(|| DiError::Malformed("proofValue is not base58btc multibase".into()))?;
    let bytes = crate::proof::multikey::decode_base58(b58, 64)
        .map_err(|e| DiError::Malformed(format!("proofValue: {e}")))?;
    let bytes: [u8; 64] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| DiError::Malformed(format!("proofValue is {} bytes, not 64", bytes.len())))?;
    Ok(Signature::from_bytes(&bytes))
}

fn context_starts_with(document: Option<&Value>, prefix: &Value) -> bool {
    fn as_list(v: &Value) -> Vec<&Value> {
        match v {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        }
    }
    let Some(document) = document else {
        return false;
    };
    let document = as_list(document);
    let prefix = as_list(prefix);
    prefix.len() <= document.len() && prefix.iter().zip(&document).all(|(a, b)| a == b)
}

/// Every proof carnet verifies is for `assertionMethod` and names its verification method.
pub(crate) fn check_purpose_and_method(
    proof: &serde_json::Map<String, Value>,
) -> Result<(), DiError> {
    match proof.get("proofPurpose").and_then(Value::as_str) {
        Some(ASSERTION_METHOD) => {}
        Some(other) => return Err(DiError::WrongPurpose(other.to_string())),
        None => return Err(DiError::Malformed("proof has no proofPurpose".into())),
    }
    if !proof
        .get("verificationMethod")
        .is_some_and(Value::is_string)
    {
        return Err(DiError::Malformed("proof has no verificationMethod".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn credential() -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:6a1c0f42-0000-4000-8000-000000000002",
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "validFrom": "2024-05-01T12:00:00Z",
            "name": "A credential",
            "credentialSubject": {"id": "did:example:subject"}
        })
    }

    fn signed(key: &SigningKey) -> Value {
        let mut doc = credential();
        let proof = sign_eddsa_rdfc_2022(
            &doc,
            key,
            "did:example:issuer#key-1",
            "2024-05-01T12:00:00Z",
        )
        .unwrap();
        doc["proof"] = proof;
        doc
    }

    #[test]
    fn sign_then_verify() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let doc = signed(&key);
        let proof = proofs(&doc)[0];
        assert_eq!(proof["cryptosuite"], EDDSA_RDFC_2022);
        assert!(proof["proofValue"].as_str().unwrap().starts_with('z'));
        assert!(proof.get("@context").is_none());
        verify_proof(&doc, proof, &key.verifying_key()).unwrap();
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let mut doc = signed(&key);
        doc["name"] = json!("Another credential");
        let proof = doc["proof"].clone();
        assert!(matches!(
            verify_proof(&doc, &proof, &key.verifying_key()),
            Err(DiError::SignatureMismatch)
        ));
        // Changing the proof options is caught too.
        let mut doc = signed(&key);
        doc["proof"]["created"] = json!("2025-05-01T12:00:00Z");
        let proof = doc["proof"].clone();
        assert!(matches!(
            verify_proof(&doc, &proof, &key.verifying_key()),
            Err(DiError::SignatureMismatch)
        ));
    }

    #[test]
    fn wrong_key_fails() {
        let doc = signed(&SigningKey::from_bytes(&[3; 32]));
        let other = SigningKey::from_bytes(&[4; 32]).verifying_key();
        assert!(matches!(
            verify_proof(&doc, &doc["proof"], &other),
            Err(DiError::SignatureMismatch)
        ));
    }

    #[test]
    fn purpose_type_and_value_are_checked() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let vk = key.verifying_key();
        let doc = signed(&key);
        let mut p = doc["proof"].clone();
        p["proofPurpose"] = json!("authentication");
        assert!(
            matches!(verify_proof(&doc, &p, &vk), Err(DiError::WrongPurpose(s)) if s == "authentication")
        );
        let mut p = doc["proof"].clone();
        p["cryptosuite"] = json!("ecdsa-rdfc-2019");
        assert!(
            matches!(verify_proof(&doc, &p, &vk), Err(DiError::UnsupportedProof(s)) if s.contains("ecdsa-rdfc-2019"))
        );
        let mut p = doc["proof"].clone();
        p["type"] = json!("BbsBlsSignature2020");
        assert!(
            matches!(verify_proof(&doc, &p, &vk), Err(DiError::UnsupportedProof(s)) if s == "BbsBlsSignature2020")
        );
        let mut p = doc["proof"].clone();
        p["proofValue"] = json!("uAAAA");
        assert!(matches!(
            verify_proof(&doc, &p, &vk),
            Err(DiError::Malformed(_))
        ));
        let mut p = doc["proof"].clone();
        p["proofValue"] = json!("z3yMApqCuCjXDWPrbjfR5mjCPTHqFG8Pux1TxQrEM35jj");
        assert!(matches!(
            verify_proof(&doc, &p, &vk),
            Err(DiError::Malformed(_))
        ));
    }

    #[test]
    fn created_must_be_a_timestamp() {
        let key = SigningKey::from_bytes(&[3; 32]);
        assert!(matches!(
            sign_eddsa_rdfc_2022(&credential(), &key, "did:example:issuer#key-1", "yesterday"),
            Err(DiError::Malformed(_))
        ));
    }

    #[test]
    fn proofs_in_every_form() {
        assert!(proofs(&json!({})).is_empty());
        assert!(proofs(&json!({"proof": null})).is_empty());
        assert_eq!(proofs(&json!({"proof": {"type": "X"}})).len(), 1);
        assert_eq!(
            proofs(&json!({"proof": [{"type": "X"}, {"type": "Y"}]})).len(),
            2
        );
    }

    #[test]
    fn proof_set_member_verifies_without_the_others() {
        let a = SigningKey::from_bytes(&[5; 32]);
        let b = SigningKey::from_bytes(&[6; 32]);
        let mut doc = credential();
        let pa =
            sign_eddsa_rdfc_2022(&doc, &a, "did:example:issuer#a", "2024-05-01T12:00:00Z").unwrap();
        let pb =
            sign_eddsa_rdfc_2022(&doc, &b, "did:example:issuer#b", "2024-05-01T12:00:00Z").unwrap();
        doc["proof"] = json!([pa, pb]);
        let list = proofs(&doc);
        verify_proof(&doc, list[0], &a.verifying_key()).unwrap();
        verify_proof(&doc, list[1], &b.verifying_key()).unwrap();
    }
}
