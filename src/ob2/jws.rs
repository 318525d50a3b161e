//! OB 2.0 signed assertions (IMS OB 2.0 Final §SignedBadge, CHECKLIST §2): a compact JWS whose
//! payload is the Assertion JSON, signed RS256 by the key its `verification.creator` names.
//!
//! The header is just `{"alg":"RS256"}`, as in the spec's example: the IMS validator (python-jose)
//! verifies with the key found through `creator`, never through the header, and both 1EdTech
//! validators verify RSA only. Verification refuses every other algorithm (`none`, HMAC with the
//! public key as secret, ECDSA…) and any `crit` header before doing any cryptography.

use josekit::jws::{JwsHeader, RS256};
use serde_json::Value;

use crate::keys::RsaKey;
use crate::proof::vc_jwt::{self, JwtError};

#[derive(Debug, thiserror::Error)]
pub enum JwsError {
    #[error(transparent)]
    Malformed(#[from] JwtError),
    #[error(
        "the algorithm \"{0}\" is not accepted: Open Badges 2.0 signed assertions use RS256 only"
    )]
    AlgorithmRefused(String),
    #[error("the JWS names critical header parameters carnet does not understand")]
    CriticalHeader,
    #[error("the public key is not a usable RSA key: {0}")]
    BadKey(String),
    #[error("the signature does not match")]
    BadSignature,
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// The public key a verifier found through `verification.creator`.
#[derive(Debug, Clone, Copy)]
pub enum PublicKey<'a> {
    /// `CryptographicKey.publicKeyPem` (SPKI `PUBLIC KEY`, or PKCS#1 `RSA PUBLIC KEY`).
    Pem(&'a str),
    /// A public JWK (`kty: RSA`).
    Jwk(&'a Value),
}

/// Signs an assertion as a compact JWS with header `{"alg":"RS256"}`.
///
/// The assertion must be a signed one naming this key: `verification.type` `SignedBadge` and a
/// `creator` ending in `/keys/{kid}`, so that a verifier fetches the key that signed it.
pub fn sign_assertion(assertion: &Value, key: &RsaKey) -> Result<String, JwsError> {
    let verification = &assertion["verification"];
    let names_key = verification["creator"]
        .as_str()
        .is_some_and(|c| c.ends_with(&format!("/keys/{}", key.kid)));
    if verification["type"] != "SignedBadge" || !names_key {
        return Err(JwsError::Sign(format!(
            "the assertion's verification must be SignedBadge with creator …/keys/{}",
            key.kid
        )));
    }
    let signer = key.signer().map_err(|e| JwsError::Sign(e.to_string()))?;
    let payload = serde_json::to_vec(assertion).map_err(|e| JwsError::Sign(e.to_string()))?;
    josekit::jws::serialize_compact(&payload, &JwsHeader::new(), signer)
        .map_err(|e| JwsError::Sign(e.to_string()))
}

/// The assertion a JWS carries, **not verified**: what a verifier reads to find `creator`.
pub fn unverified_assertion(jws: &str) -> Result<Value, JwsError> {
    Ok(vc_jwt::decode(jws)?.payload)
}

/// Verifies an RS256 compact JWS with the given public key and returns the assertion it carries.
pub fn verify_assertion_jws(jws: &str, key: PublicKey<'_>) -> Result<Value, JwsError> {
    let decoded = vc_jwt::decode(jws)?;
    match decoded.alg() {
        Some("RS256") => {}
        other => return Err(JwsError::AlgorithmRefused(other.unwrap_or("(none)").into())),
    }
    if decoded.header.contains_key("crit") {
        return Err(JwsError::CriticalHeader);
    }
    match key {
        PublicKey::Pem(pem) => {
            let verifier = RS256
                .verifier_from_pem(pem.trim().as_bytes())
                .map_err(|e| JwsError::BadKey(e.to_string()))?;
            josekit::jws::deserialize_compact(decoded.compact(), &verifier)
                .map_err(|_| JwsError::BadSignature)?;
        }
        PublicKey::Jwk(jwk) => vc_jwt::verify_signature(&decoded, jwk).map_err(|e| match e {
            JwtError::BadSignature => JwsError::BadSignature,
            other => JwsError::BadKey(other.to_string()),
        })?,
    }
    Ok(decoded.payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    fn key() -> (RsaKey, tempfile::TempDir) {
        let tmp = tempfile::tempdir().unwrap();
        let keys = crate::keys::load_or_create(tmp.path(), "ime").unwrap();
        (keys.active_rsa().clone(), tmp)
    }

    fn signed(kid: &str) -> Value {
        json!({"id": "https://b.example/ob2/assertions/1", "type": "Assertion",
               "verification": {"type": "SignedBadge", "creator": format!("https://b.example/ob2/issuers/ime/keys/{kid}")}})
    }

    fn with_header(jws: &str, header: Value) -> String {
        let parts: Vec<&str> = jws.split('.').collect();
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        format!("{h}.{}.{}", parts[1], parts[2])
    }

    #[test]
    fn header_is_minimal_and_both_key_forms_verify() {
        let (k, _t) = key();
        let jws = sign_assertion(&signed(&k.kid), &k).unwrap();
        let header = URL_SAFE_NO_PAD
            .decode(jws.split('.').next().unwrap())
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&header).unwrap(),
            json!({"alg": "RS256"})
        );
        let pem = k.public_pem().unwrap();
        assert_eq!(
            verify_assertion_jws(&jws, PublicKey::Pem(&pem)).unwrap(),
            signed(&k.kid)
        );
        let jwk = k.public_jwk();
        assert!(verify_assertion_jws(&jws, PublicKey::Jwk(&jwk)).is_ok());
        assert_eq!(unverified_assertion(&jws).unwrap(), signed(&k.kid));
    }

    #[test]
    fn refuses_other_algorithms_critical_headers_and_other_keys() {
        let (k, _t) = key();
        let jws = sign_assertion(&signed(&k.kid), &k).unwrap();
        let pem = k.public_pem().unwrap();
        for alg in ["none", "HS256", "ES256", "PS256", "rs256"] {
            let t = with_header(&jws, json!({"alg": alg}));
            assert!(
                matches!(verify_assertion_jws(&t, PublicKey::Pem(&pem)), Err(JwsError::AlgorithmRefused(a)) if a == alg),
                "{alg}"
            );
        }
        let t = with_header(&jws, json!({"alg": "RS256", "crit": ["b64"], "b64": false}));
        assert!(matches!(
            verify_assertion_jws(&t, PublicKey::Pem(&pem)),
            Err(JwsError::CriticalHeader)
        ));
        let (other, _t2) = key();
        let other_pem = other.public_pem().unwrap();
        assert!(matches!(
            verify_assertion_jws(&jws, PublicKey::Pem(&other_pem)),
            Err(JwsError::BadSignature)
        ));
        let okp = json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"});
        assert!(matches!(
            verify_assertion_jws(&jws, PublicKey::Jwk(&okp)),
            Err(JwsError::BadKey(_))
        ));
        assert!(matches!(
            verify_assertion_jws(&jws, PublicKey::Pem("not a pem")),
            Err(JwsError::BadKey(_))
        ));
        assert!(matches!(
            verify_assertion_jws("abc", PublicKey::Pem(&pem)),
            Err(JwsError::Malformed(_))
        ));
    }

    #[test]
    fn refuses_to_sign_what_does_not_name_the_key() {
        let (k, _t) = key();
        assert!(sign_assertion(&signed("rsa-9"), &k).is_err());
        let mut hosted = signed(&k.kid);
        hosted["verification"] = json!({"type": "HostedBadge"});
        assert!(sign_assertion(&hosted, &k).is_err());
    }
}
