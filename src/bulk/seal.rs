//! The data of a pending row (the recipient's email, name, narrative...; or a whole carnet
//! document for a batch of carnets) is kept in the database only sealed, so that the database
//! never holds a clear email, and only until the row is done.
//!
//! Sealing is a compact JWE, `dir` + `A256GCM` (josekit): the 256-bit key is derived from the
//! issuer's Ed25519 private key, which lives in the keys directory and never in the database, and
//! the key's `kid` goes in the JWE header so that a row sealed before a key rotation still opens
//! (rotation keeps the old keys).

use josekit::jwe::{self, Dir, JweDecrypter, JweHeader};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::issuer::Issuer;
use crate::keys::Ed25519Key;

/// What a pending row needs to be issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The row's idempotency key came from its `key` column (not from its email).
    #[serde(default)]
    pub keyed: bool,
}

const ENC: &str = "A256GCM";

/// The sealing key of one Ed25519 key: SHA-256 of a label, the kid and the private key bytes.
fn sealing_key(key: &Ed25519Key) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"carnet bulk row seal v1\0");
    h.update(key.kid.as_bytes());
    h.update(b"\0");
    h.update(key.signing_key().to_bytes());
    h.finalize().into()
}

/// Seals a row's data with the issuer's active Ed25519 key.
pub fn seal(issuer: &Issuer, payload: &Payload) -> Result<String, String> {
    seal_json(issuer, payload)
}

/// Opens a sealed row; the error says why in words (never with the row's content).
pub fn open(issuer: &Issuer, sealed: &str) -> Result<Payload, String> {
    open_json(issuer, sealed)
}

/// Seals any row data (as JSON) with the issuer's active Ed25519 key.
pub fn seal_json<T: Serialize>(issuer: &Issuer, payload: &T) -> Result<String, String> {
    let key = issuer.keys.active_ed25519();
    let mut header = JweHeader::new();
    header.set_content_encryption(ENC);
    header.set_key_id(key.kid.clone());
    let encrypter = Dir
        .encrypter_from_bytes(sealing_key(key))
        .map_err(|e| e.to_string())?;
    let json = serde_json::to_vec(payload).map_err(|e| e.to_string())?;
    jwe::serialize_compact(&json, &header, &encrypter).map_err(|e| e.to_string())
}

/// Opens row data sealed by [`seal_json`]; the error says why in words (never with the content).
pub fn open_json<T: DeserializeOwned>(issuer: &Issuer, sealed: &str) -> Result<T, String> {
    let decrypters = issuer
        .keys
        .ed25519
        .iter()
        .map(|k| {
            Dir.decrypter_from_bytes(sealing_key(k))
                .map(|d| (k.kid.as_str(), d))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let (json, header) = jwe::deserialize_compact_with_selector(sealed, |header| {
        Ok(header.key_id().and_then(|kid| {
            decrypters
                .iter()
                .find(|(k, _)| *k == kid)
                .map(|(_, d)| d as &dyn JweDecrypter)
        }))
    })
    .map_err(|_| {
        "the row's data cannot be opened: it was sealed with a key this issuer no longer has, or it was altered".to_string()
    })?;
    if header.content_encryption() != Some(ENC) {
        return Err("the row's data is sealed in an unexpected way".into());
    }
    serde_json::from_slice(&json).map_err(|e| format!("the row's data is unreadable: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(dir: &std::path::Path) -> Issuer {
        let keys = crate::keys::load_or_create(dir, "ime-test").unwrap();
        let settings = crate::config::IssuerSettings {
            slug: "ime-test".into(),
            name: "IME de test".into(),
            url: None,
            email: None,
            description: None,
            image: None,
        };
        Issuer::new(settings, "https://badges.example.org", keys)
    }

    #[test]
    fn sealed_rows_hide_the_email_and_open_again() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = issuer(dir.path());
        let payload = Payload {
            email: "lea@example.org".into(),
            name: Some("Léa".into()),
            narrative: None,
            evidence_url: None,
            valid_until: None,
            keyed: false,
        };
        let sealed = seal(&issuer, &payload).unwrap();
        assert!(!sealed.contains("lea"), "{sealed}");
        assert_eq!(open(&issuer, &sealed).unwrap(), payload);
        // Altered: refused, without saying what it held.
        let mut altered = sealed.clone().into_bytes();
        let n = altered.len() - 30;
        altered[n] = if altered[n] == b'A' { b'B' } else { b'A' };
        let e = open(&issuer, &String::from_utf8(altered).unwrap()).unwrap_err();
        assert!(e.contains("cannot be opened"), "{e}");
        // Another issuer's keys cannot open it.
        let other = tempfile::tempdir().unwrap();
        assert!(open(&self::issuer(other.path()), &sealed).is_err());
    }

    #[test]
    fn rows_sealed_before_a_key_rotation_still_open() {
        let dir = tempfile::tempdir().unwrap();
        let before = issuer(dir.path());
        let payload = Payload {
            email: "sam@example.org".into(),
            name: None,
            narrative: Some("Une phrase".into()),
            evidence_url: None,
            valid_until: None,
            keyed: true,
        };
        let sealed = seal(&before, &payload).unwrap();
        crate::keys::rotate(dir.path(), "ime-test").unwrap();
        let after = issuer(dir.path());
        assert_ne!(
            after.keys.active_ed25519().kid,
            before.keys.active_ed25519().kid
        );
        assert_eq!(open(&after, &sealed).unwrap(), payload);
    }
}
