//! Ed25519 keys as Multikey multibase strings and `did:key` identifiers.
//!
//! W3C Controlled Identifiers §2.2.2 (Multikey): `publicKeyMultibase` = `z` + base58btc(0xed 0x01 ‖ 32-byte key),
//! `secretKeyMultibase` = `z` + base58btc(0x80 0x26 ‖ 32-byte seed). The 1EdTech test keys (dc-bootcamp signer)
//! use the older Digital Bazaar form, 0x80 0x26 ‖ seed ‖ public key (64 bytes); both are read.
//! did:key (W3C CCG did:key §3.1.2): `did:key:<publicKeyMultibase>`, optionally `#<publicKeyMultibase>`.

use ed25519_dalek::{SigningKey, VerifyingKey};

/// Multicodec varint for `ed25519-pub` (0xed).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Multicodec varint for `ed25519-priv` (0x1300).
const ED25519_PRIV: [u8; 2] = [0x80, 0x26];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyDecodeError {
    #[error("not a base58btc multibase string (expected a leading 'z')")]
    NotBase58Multibase,
    #[error("invalid base58btc: {0}")]
    Base58(String),
    #[error("not an Ed25519 key (multicodec prefix {0})")]
    WrongCodec(String),
    #[error("wrong key length: {0} bytes")]
    WrongLength(usize),
    #[error("not a valid Ed25519 public key")]
    InvalidKey,
    #[error("secret key does not match the public key it carries")]
    KeyPairMismatch,
    #[error("not a did:key DID URL: {0}")]
    NotDidKey(String),
    #[error("did:key fragment {0} does not name the DID's own key")]
    FragmentMismatch(String),
}

/// `z6Mk…`: the Multikey `publicKeyMultibase` of an Ed25519 public key.
pub fn ed25519_public_multibase(key: &VerifyingKey) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_PUB);
    bytes.extend_from_slice(key.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Reads a `publicKeyMultibase` (`z6Mk…`).
pub fn decode_ed25519_multibase(s: &str) -> Result<VerifyingKey, KeyDecodeError> {
    let bytes = decode_with_codec(s, ED25519_PUB)?;
    let raw: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| KeyDecodeError::WrongLength(bytes.len()))?;
    VerifyingKey::from_bytes(&raw).map_err(|_| KeyDecodeError::InvalidKey)
}

/// Reads `did:key:z6Mk…`, with or without a `#z6Mk…` fragment (which must repeat the key).
pub fn did_key_to_ed25519(did_url: &str) -> Result<VerifyingKey, KeyDecodeError> {
    let rest = did_url
        .strip_prefix("did:key:")
        .ok_or_else(|| KeyDecodeError::NotDidKey(did_url.to_string()))?;
    let (id, fragment) = match rest.split_once('#') {
        Some((id, fragment)) => (id, Some(fragment)),
        None => (rest, None),
    };
    if id.contains(['/', '?', ':']) {
        return Err(KeyDecodeError::NotDidKey(did_url.to_string()));
    }
    if let Some(fragment) = fragment
        && fragment != id
    {
        return Err(KeyDecodeError::FragmentMismatch(fragment.to_string()));
    }
    decode_ed25519_multibase(id)
}

/// `did:key:z6Mk…#z6Mk…`: the verification method URL of an Ed25519 did:key.
pub fn ed25519_did_key_url(key: &VerifyingKey) -> String {
    let mb = ed25519_public_multibase(key);
    format!("did:key:{mb}#{mb}")
}

/// Reads a `secretKeyMultibase` (multicodec `ed25519-priv`): 32-byte seed (W3C Multikey), or 64-byte
/// seed ‖ public key (Digital Bazaar's older form, used by the 1EdTech test keys; the halves must agree).
pub fn decode_ed25519_secret_multibase(s: &str) -> Result<SigningKey, KeyDecodeError> {
    let bytes = decode_with_codec(s, ED25519_PRIV)?;
    match bytes.len() {
        32 => {
            let seed: [u8; 32] = bytes.as_slice().try_into().expect("length checked");
            Ok(SigningKey::from_bytes(&seed))
        }
        64 => {
            let pair: [u8; 64] = bytes.as_slice().try_into().expect("length checked");
            SigningKey::from_keypair_bytes(&pair).map_err(|_| KeyDecodeError::KeyPairMismatch)
        }
        n => Err(KeyDecodeError::WrongLength(n)),
    }
}

fn decode_with_codec(s: &str, codec: [u8; 2]) -> Result<Vec<u8>, KeyDecodeError> {
    let b58 = s
        .strip_prefix('z')
        .ok_or(KeyDecodeError::NotBase58Multibase)?;
    let bytes = bs58::decode(b58)
        .into_vec()
        .map_err(|e| KeyDecodeError::Base58(e.to_string()))?;
    match bytes.strip_prefix(&codec[..]) {
        Some(key) => Ok(key.to_vec()),
        None => Err(KeyDecodeError::WrongCodec(
            bytes.iter().take(2).map(|b| format!("{b:02x}")).collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OB 3.0 implementation guide test vector key (`test-vector-values.json`).
    const PUB_HEX: &str = "4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5";
    const PUB_MB: &str = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi";
    /// The same key pair as a 1EdTech dc-bootcamp `secretKeyMultibase` (seed ‖ public).
    const SECRET_MB: &str = "zrv2bqTbNwCTsRrHFcJCPjVAduh4Ezcnoq1A3ZxH1GWTNkxipLVuaAoMFmze2gFN9oNXfJjufxSHWVZzsJiUsMHFMcx";

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn encodes_the_spec_vector_key() {
        let key = VerifyingKey::from_bytes(&hex32(PUB_HEX)).unwrap();
        assert_eq!(ed25519_public_multibase(&key), PUB_MB);
        assert_eq!(decode_ed25519_multibase(PUB_MB).unwrap(), key);
    }

    #[test]
    fn round_trips_generated_keys() {
        for seed in [[0u8; 32], [7u8; 32], [255u8; 32]] {
            let key = SigningKey::from_bytes(&seed).verifying_key();
            let mb = ed25519_public_multibase(&key);
            assert!(mb.starts_with("z6Mk"), "{mb}");
            assert_eq!(decode_ed25519_multibase(&mb).unwrap(), key);
            assert_eq!(did_key_to_ed25519(&ed25519_did_key_url(&key)).unwrap(), key);
        }
    }

    #[test]
    fn reads_did_key_with_and_without_fragment() {
        let key = decode_ed25519_multibase(PUB_MB).unwrap();
        assert_eq!(
            did_key_to_ed25519(&format!("did:key:{PUB_MB}")).unwrap(),
            key
        );
        assert_eq!(
            did_key_to_ed25519(&format!("did:key:{PUB_MB}#{PUB_MB}")).unwrap(),
            key
        );
        let other = ed25519_public_multibase(&SigningKey::from_bytes(&[1; 32]).verifying_key());
        assert_eq!(
            did_key_to_ed25519(&format!("did:key:{PUB_MB}#{other}")),
            Err(KeyDecodeError::FragmentMismatch(other))
        );
        assert!(matches!(
            did_key_to_ed25519(&format!("did:web:{PUB_MB}")),
            Err(KeyDecodeError::NotDidKey(_))
        ));
    }

    #[test]
    fn rejects_malformed_keys() {
        assert_eq!(
            decode_ed25519_multibase(&PUB_MB[1..]),
            Err(KeyDecodeError::NotBase58Multibase)
        );
        assert!(matches!(
            decode_ed25519_multibase("z0OIl"),
            Err(KeyDecodeError::Base58(_))
        ));
        // A secret key where a public key is expected: wrong multicodec.
        assert!(matches!(
            decode_ed25519_multibase(SECRET_MB),
            Err(KeyDecodeError::WrongCodec(_))
        ));
        // Truncated key.
        let short = format!("z{}", bs58::encode([0xed, 0x01, 1, 2, 3]).into_string());
        assert_eq!(
            decode_ed25519_multibase(&short),
            Err(KeyDecodeError::WrongLength(3))
        );
    }

    #[test]
    fn reads_secret_key_multibase_both_lengths() {
        let sk = decode_ed25519_secret_multibase(SECRET_MB).unwrap();
        assert_eq!(ed25519_public_multibase(&sk.verifying_key()), PUB_MB);
        let mut seed_only = ED25519_PRIV.to_vec();
        seed_only.extend_from_slice(&sk.to_bytes());
        let mb = format!("z{}", bs58::encode(seed_only).into_string());
        assert_eq!(
            decode_ed25519_secret_multibase(&mb)
                .unwrap()
                .verifying_key(),
            sk.verifying_key()
        );
        // seed ‖ wrong public key
        let mut bad = ED25519_PRIV.to_vec();
        bad.extend_from_slice(&sk.to_bytes());
        bad.extend_from_slice(&[9u8; 32]);
        let mb = format!("z{}", bs58::encode(bad).into_string());
        assert!(decode_ed25519_secret_multibase(&mb).is_err());
    }
}
