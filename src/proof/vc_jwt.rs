//! VC-JWT (OB 3.0 §"JSON Web Token Proof Format", CHECKLIST §6): the credential itself is the JWT
//! payload (VC 2.0 shape, not nested under `vc`), with the registered claims `iss` (issuer id),
//! `jti` (credential id), `nbf` (validFrom), `exp` (validUntil, when there is one) and `sub`
//! (credentialSubject.id, when there is one). Header: `alg`, `typ: JWT`, `kid` = the key's URL.
//!
//! Signing: RS256 (carnet's VC-JWTs) and EdDSA (an optional form; the 1EdTech validator accepts
//! only RS256 / ES256). Verification accepts RS256, ES256 and EdDSA only, and only with the
//! matching key type: `none`, HMAC (algorithm confusion with a public key) and anything else are
//! refused before any crypto.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, EdDSA, JwsHeader, RS256};
use serde_json::{Map, Value};

/// Largest compact JWS accepted (bytes).
pub const MAX_JWS_BYTES: usize = 1024 * 1024;

/// JWT registered claims carnet adds to (and strips from) the credential.
pub const JWT_CLAIMS: &[&str] = &["iss", "jti", "nbf", "exp", "sub", "iat", "aud"];

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("not a compact JWS (expected three base64url parts separated by dots)")]
    NotCompact,
    #[error("the token is larger than {MAX_JWS_BYTES} bytes")]
    TooLarge,
    #[error("the {0} part is not valid base64url JSON")]
    BadPart(&'static str),
    #[error("the algorithm \"{0}\" is not accepted (RS256, ES256 or EdDSA only)")]
    AlgorithmRefused(String),
    #[error("the key (kty {kty}) does not fit the algorithm {alg}")]
    KeyMismatch { alg: String, kty: String },
    #[error("the signature does not match")]
    BadSignature,
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// A decoded (not yet verified) compact JWS.
#[derive(Debug, Clone)]
pub struct DecodedJws {
    pub header: Map<String, Value>,
    pub payload: Value,
    compact: String,
}

impl DecodedJws {
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
    pub fn embedded_jwk(&self) -> Option<&Value> {
        self.header.get("jwk")
    }
    pub fn compact(&self) -> &str {
        &self.compact
    }
}

/// Does this text look like a compact JWS?
pub fn looks_like_compact_jws(s: &str) -> bool {
    let s = s.trim();
    s.split('.').count() == 3
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && s.starts_with("eyJ")
}

pub fn decode(compact: &str) -> Result<DecodedJws, JwtError> {
    let compact = compact.trim();
    if compact.len() > MAX_JWS_BYTES {
        return Err(JwtError::TooLarge);
    }
    let parts: Vec<&str> = compact.split('.').collect();
    if parts.len() != 3 {
        return Err(JwtError::NotCompact);
    }
    let json = |part: &str, name: &'static str| -> Result<Value, JwtError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| JwtError::BadPart(name))?;
        crate::json::parse(&bytes).map_err(|_| JwtError::BadPart(name))
    };
    let header = match json(parts[0], "header")? {
        Value::Object(m) => m,
        _ => return Err(JwtError::BadPart("header")),
    };
    let payload = json(parts[1], "payload")?;
    if !payload.is_object() {
        return Err(JwtError::BadPart("payload"));
    }
    Ok(DecodedJws {
        header,
        payload,
        compact: compact.to_string(),
    })
}

/// Verifies the signature with a public JWK; the algorithm must be allowed and fit the key type.
pub fn verify_signature(jws: &DecodedJws, jwk: &Value) -> Result<(), JwtError> {
    let alg = jws.alg().unwrap_or("(none)").to_string();
    let kty = jwk
        .get("kty")
        .and_then(Value::as_str)
        .unwrap_or("(none)")
        .to_string();
    let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or("");
    let fits = match alg.as_str() {
        "RS256" => kty == "RSA",
        "ES256" => kty == "EC" && crv == "P-256",
        "EdDSA" => kty == "OKP" && crv == "Ed25519",
        _ => return Err(JwtError::AlgorithmRefused(alg)),
    };
    if !fits {
        return Err(JwtError::KeyMismatch { alg, kty });
    }
    let mut public = jwk.as_object().cloned().ok_or(JwtError::KeyMismatch {
        alg: alg.clone(),
        kty: kty.clone(),
    })?;
    // Never use private members even if a careless publisher left them in.
    for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        public.remove(private);
    }
    let key = Jwk::from_map(public).map_err(|_| JwtError::KeyMismatch {
        alg: alg.clone(),
        kty: kty.clone(),
    })?;
    let result = match alg.as_str() {
        "RS256" => RS256
            .verifier_from_jwk(&key)
            .and_then(|v| josekit::jws::deserialize_compact(jws.compact(), &v)),
        "ES256" => ES256
            .verifier_from_jwk(&key)
            .and_then(|v| josekit::jws::deserialize_compact(jws.compact(), &v)),
        _ => EdDSA
            .verifier_from_jwk(&key)
            .and_then(|v| josekit::jws::deserialize_compact(jws.compact(), &v)),
    };
    result.map(|_| ()).map_err(|_| JwtError::BadSignature)
}

/// The payload for a credential: the credential plus the registered claims.
pub fn payload_for(credential: &Value) -> Value {
    let mut payload = credential.clone();
    let seconds = |key: &str| {
        credential
            .get(key)
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.timestamp())
    };
    if let Some(iss) = credential
        .pointer("/issuer/id")
        .or_else(|| credential.get("issuer"))
        .and_then(Value::as_str)
    {
        payload["iss"] = iss.into();
    }
    if let Some(id) = credential.get("id").and_then(Value::as_str) {
        payload["jti"] = id.into();
    }
    if let Some(nbf) = seconds("validFrom") {
        payload["nbf"] = nbf.into();
    }
    if let Some(exp) = seconds("validUntil") {
        payload["exp"] = exp.into();
    }
    if let Some(sub) = credential
        .pointer("/credentialSubject/id")
        .and_then(Value::as_str)
    {
        payload["sub"] = sub.into();
    }
    payload
}

/// Signs a credential as a VC-JWT with RS256.
pub fn sign_rs256(
    credential: &Value,
    signer: &dyn josekit::jws::JwsSigner,
    kid_url: &str,
) -> Result<String, JwtError> {
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    header.set_key_id(kid_url);
    let payload =
        serde_json::to_vec(&payload_for(credential)).map_err(|e| JwtError::Sign(e.to_string()))?;
    josekit::jws::serialize_compact(&payload, &header, signer)
        .map_err(|e| JwtError::Sign(e.to_string()))
}

/// Signs a credential as a VC-JWT with EdDSA (optional form; the 1EdTech validator accepts only RS256/ES256).
pub fn sign_eddsa(
    credential: &Value,
    key: &ed25519_dalek::SigningKey,
    kid_url: &str,
) -> Result<String, JwtError> {
    use ed25519_dalek::Signer;
    let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid_url});
    let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("json"));
    let p = URL_SAFE_NO_PAD.encode(
        serde_json::to_vec(&payload_for(credential)).map_err(|e| JwtError::Sign(e.to_string()))?,
    );
    let signing_input = format!("{h}.{p}");
    let sig = key.sign(signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(sig.to_bytes())
    ))
}

/// The credential carried by a VC-JWT payload: VC 1.1 nests it under `vc`; VC 2.0 is the payload
/// itself minus the registered claims.
pub fn credential_of(payload: &Value) -> (Value, bool) {
    if let Some(vc) = payload.get("vc").filter(|v| v.is_object()) {
        return (vc.clone(), true);
    }
    let mut cred = payload.clone();
    if let Some(m) = cred.as_object_mut() {
        for c in JWT_CLAIMS {
            m.remove(*c);
        }
    }
    (cred, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cred() -> Value {
        json!({"id": "urn:uuid:1", "issuer": {"id": "https://i.example/issuers/a"}, "validFrom": "2026-01-01T00:00:00Z",
               "credentialSubject": {"type": ["AchievementSubject"]}})
    }

    #[test]
    fn eddsa_round_trip_and_refusals() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let jwt = sign_eddsa(&cred(), &key, "https://i.example/issuers/a/keys/ed25519-1").unwrap();
        let decoded = decode(&jwt).unwrap();
        assert_eq!(decoded.payload["iss"], "https://i.example/issuers/a");
        assert_eq!(decoded.payload["jti"], "urn:uuid:1");
        assert_eq!(decoded.payload["nbf"], 1767225600);
        assert!(decoded.payload.get("sub").is_none());
        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": x});
        verify_signature(&decoded, &jwk).unwrap();

        // One changed payload byte breaks the signature.
        let parts: Vec<&str> = jwt.split('.').collect();
        let mut payload = decoded.payload.clone();
        payload["jti"] = "urn:uuid:2".into();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            parts[2]
        );
        assert!(matches!(
            verify_signature(&decode(&forged).unwrap(), &jwk),
            Err(JwtError::BadSignature)
        ));

        // alg none and HS256 with the public key as secret are refused before any crypto.
        for alg in ["none", "HS256"] {
            let h = URL_SAFE_NO_PAD.encode(json!({"alg": alg}).to_string());
            let t = format!("{h}.{}.{}", parts[1], parts[2]);
            assert!(matches!(
                verify_signature(&decode(&t).unwrap(), &jwk),
                Err(JwtError::AlgorithmRefused(_))
            ));
        }
        // RS256 header with an OKP key: mismatch.
        let h = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256"}).to_string());
        let t = format!("{h}.{}.{}", parts[1], parts[2]);
        assert!(matches!(
            verify_signature(&decode(&t).unwrap(), &jwk),
            Err(JwtError::KeyMismatch { .. })
        ));
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert!(matches!(decode("abc"), Err(JwtError::NotCompact)));
        assert!(matches!(decode("a.b.c"), Err(JwtError::BadPart("header"))));
        assert!(!looks_like_compact_jws("{\"a\":1}"));
    }

    #[test]
    fn vc11_payload_nests_under_vc() {
        let (c, v1) = credential_of(&json!({"vc": {"id": "x"}, "iss": "y"}));
        assert!(v1);
        assert_eq!(c["id"], "x");
        let (c, v1) = credential_of(&json!({"id": "x", "iss": "y", "jti": "x"}));
        assert!(!v1 && c.get("iss").is_none() && c["id"] == "x");
    }
}
