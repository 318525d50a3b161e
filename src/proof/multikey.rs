//! Ed25519 and P-256 keys as Multikey multibase strings; Ed25519 `did:key` identifiers.
//!
//! W3C Controlled Identifiers §2.2.2 (Multikey): `publicKeyMultibase` = `z` + base58btc(0xed 0x01 ‖ 32-byte key),
//! `secretKeyMultibase` = `z` + base58btc(0x80 0x26 ‖ 32-byte seed). The 1EdTech test keys (dc-bootcamp signer)
//! use the older Digital Bazaar form, 0x80 0x26 ‖ seed ‖ public key (64 bytes); both are read.
//! did:key (W3C CCG did:key §3.1.2): `did:key:<publicKeyMultibase>`, optionally `#<publicKeyMultibase>`.
//! P-256 (VC DI ECDSA Cryptosuites v1.0 §2.1.1): `z` + base58btc(0x80 0x24 ‖ 33-byte compressed point), `zDna…`.

use ed25519_dalek::{SigningKey, VerifyingKey};

/// Multicodec varint for `ed25519-pub` (0xed).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Multicodec varint for `ed25519-priv` (0x1300).
const ED25519_PRIV: [u8; 2] = [0x80, 0x26];
/// Multicodec varint for `p256-pub` (0x1200).
pub const P256_PUB: [u8; 2] = [0x80, 0x24];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyDecodeError {
    #[error("not a base58btc multibase string (expected a leading 'z')")]
    NotBase58Multibase,
    #[error("invalid base58btc: {0}")]
    Base58(String),
    #[error("not a key of the expected type (multicodec prefix {0})")]
    WrongCodec(String),
    #[error("wrong key length: {0} bytes")]
    WrongLength(usize),
    #[error("not a valid Ed25519 public key")]
    InvalidKey,
    #[error("not a valid compressed P-256 public key")]
    InvalidP256Key,
    #[error("secret key does not match the public key it carries")]
    KeyPairMismatch,
    #[error("not a did:key DID URL: {0}")]
    NotDidKey(String),
    #[error("did:key fragment {0} does not name the DID's own key")]
    FragmentMismatch(String),
}

/// The most bytes a supported multibase key holds (an Ed25519 or P-256 public key, an Ed25519
/// secret key with its public half): anything longer is refused before it is decoded.
pub const MAX_KEY_BYTES: usize = 128;

/// Decodes base58btc text that holds at most `max_bytes` bytes. Longer text is refused before
/// decoding: base58 decoding costs the square of its length, and a `proofValue` or a key longer
/// than any supported one is only someone's attempt to make the verifier work.
pub fn decode_base58(b58: &str, max_bytes: usize) -> Result<Vec<u8>, String> {
    // a base58 character carries log2(58) ≈ 5.86 bits: n bytes take at most ⌈8n / 5.86⌉ ≤ 1.37n + 1
    // characters (a leading zero byte is one '1')
    let max_chars = max_bytes * 137 / 100 + 1;
    if b58.len() > max_chars {
        return Err(format!(
            "{} characters, more than the {max_chars} that {max_bytes} bytes take",
            b58.len()
        ));
    }
    bs58::decode(b58).into_vec().map_err(|e| e.to_string())
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

/// Reads a P-256 `publicKeyMultibase` (`zDna…`).
pub fn decode_p256_multibase(s: &str) -> Result<p256::ecdsa::VerifyingKey, KeyDecodeError> {
    let b58 = s
        .strip_prefix('z')
        .ok_or(KeyDecodeError::NotBase58Multibase)?;
    let bytes = decode_base58(b58, MAX_KEY_BYTES).map_err(KeyDecodeError::Base58)?;
    decode_p256_multikey(&bytes)
}

/// Reads the bytes of a P-256 Multikey: 0x80 0x24 ‖ compressed SEC1 point (0x02/0x03 ‖ x), 35 bytes.
pub fn decode_p256_multikey(bytes: &[u8]) -> Result<p256::ecdsa::VerifyingKey, KeyDecodeError> {
    let point = bytes.strip_prefix(&P256_PUB[..]).ok_or_else(|| {
        KeyDecodeError::WrongCodec(bytes.iter().take(2).map(|b| format!("{b:02x}")).collect())
    })?;
    if point.len() != 33 {
        return Err(KeyDecodeError::WrongLength(point.len()));
    }
    if !matches!(point[0], 0x02 | 0x03) {
        return Err(KeyDecodeError::InvalidP256Key);
    }
    p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| KeyDecodeError::InvalidP256Key)
}

/// `zDna…`: the Multikey `publicKeyMultibase` of a P-256 public key (compressed point).
pub fn p256_public_multibase(key: &p256::ecdsa::VerifyingKey) -> String {
    format!("z{}", bs58::encode(p256_multikey(key)).into_string())
}

/// The bytes of a P-256 Multikey: 0x80 0x24 ‖ compressed SEC1 point.
pub fn p256_multikey(key: &p256::ecdsa::VerifyingKey) -> Vec<u8> {
    let mut bytes = P256_PUB.to_vec();
    bytes.extend_from_slice(key.to_sec1_point(true).as_bytes());
    bytes
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
    let bytes = decode_base58(b58, MAX_KEY_BYTES).map_err(KeyDecodeError::Base58)?;
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

    #[test]
    fn base58_longer_than_its_bytes_is_refused_before_decoding() {
        // at the limit: 64 bytes of 0xff are 88 characters, and decode
        let most = bs58::encode([0xffu8; 64]).into_string();
        assert_eq!(most.len(), 88);
        assert_eq!(decode_base58(&most, 64).unwrap(), vec![0xff; 64]);
        let zeros = bs58::encode([0u8; 64]).into_string();
        assert_eq!(decode_base58(&zeros, 64).unwrap(), vec![0; 64]);
        // one more character, or a 128 KB proofValue: refused, not decoded
        assert!(decode_base58(&format!("{most}2"), 64).is_err());
        let huge = "2".repeat(128 * 1024);
        let e = decode_base58(&huge, 64).unwrap_err();
        assert!(e.contains("131072 characters"), "{e}");
        let e = decode_ed25519_multibase(&format!("z{huge}")).unwrap_err();
        assert!(matches!(e, KeyDecodeError::Base58(_)), "{e}");
    }

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

    /// The P-256 key of VC DI ECDSA's ecdsa-sd-2023 examples (also the 1EdTech `sd/` sample's issuer key).
    const P256_MB: &str = "zDnaekGZTbQBerwcehBSXLqAg6s55hVEBms1zFy89VHXtJSa9";

    #[test]
    fn reads_p256_multikeys() {
        let key = decode_p256_multibase(P256_MB).unwrap();
        assert_eq!(p256_public_multibase(&key), P256_MB);
        let generated = p256::ecdsa::SigningKey::from_slice(&[7u8; 32])
            .unwrap()
            .verifying_key()
            .to_owned();
        let mb = p256_public_multibase(&generated);
        assert!(mb.starts_with("zDna"), "{mb}");
        assert_eq!(decode_p256_multibase(&mb).unwrap(), generated);
        // An Ed25519 key where a P-256 key is expected, and the reverse.
        assert!(matches!(
            decode_p256_multibase(PUB_MB),
            Err(KeyDecodeError::WrongCodec(_))
        ));
        assert!(matches!(
            decode_ed25519_multibase(P256_MB),
            Err(KeyDecodeError::WrongCodec(_))
        ));
        // Uncompressed points are not a Multikey encoding; a bad point is refused.
        let mut uncompressed = P256_PUB.to_vec();
        uncompressed.extend_from_slice(generated.to_sec1_point(false).as_bytes());
        assert_eq!(
            decode_p256_multikey(&uncompressed),
            Err(KeyDecodeError::WrongLength(65))
        );
        let mut bad = p256_multikey(&generated);
        bad[2] = 0x05;
        assert_eq!(
            decode_p256_multikey(&bad),
            Err(KeyDecodeError::InvalidP256Key)
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
