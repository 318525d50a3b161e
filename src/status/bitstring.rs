//! W3C Bitstring Status List v1.0: the bit array, its `encodedList` form, and the two documents that use it.
//!
//! - Bit order (§2.1 `encodedList`, §3.2): index 0 is the left-most bit of the bitstring, i.e. the most significant
//!   bit (`0x80`) of the first byte; index `len - 1` is the least significant bit of the last byte.
//! - `encodedList` (§2.2, §3.2 Bitstring Generation Algorithm): the bitstring, GZIP-compressed (RFC 1952), then
//!   base64url without padding (RFC 4648 §5) behind the multibase prefix `u`.
//! - Size (§2.2, §6.1): the uncompressed bitstring is at least 16 KiB, i.e. 131,072 entries, so that one
//!   credential hides among many ("group privacy"). A shorter list is a STATUS_LIST_LENGTH_ERROR when decoding.
//! - Decoding (§3.2 Bitstring Expansion Algorithm) inflates under a limit: a few kilobytes of `encodedList` can
//!   expand to gigabytes, and a verifier fetches status lists from anyone.
//!
//! These are unsigned documents; `proof` adds the issuer's Data Integrity proof to the status-list credential.

use std::fmt;
use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

use super::{StatusError, StatusPurpose};
// The only context the status-list credential needs: VC Data Model 2.0 defines every status-list term.
use crate::issuer::VC_V2_CONTEXT;
use crate::keys::rfc3339;

/// The fewest entries a status list may have (§2.2: "at least 16KB", 16 × 1024 × 8 bits).
pub const MIN_ENTRIES: usize = 131_072;
/// The most bytes [`decode`] inflates by default: 16 MiB, 134 million entries, far beyond any real list.
pub const DEFAULT_MAX_DECODED_BYTES: usize = 16 << 20;

/// A status list: one bit per entry, index 0 first (the most significant bit of byte 0).
#[derive(Clone, PartialEq, Eq)]
pub struct Bitstring {
    bytes: Vec<u8>,
}

impl Bitstring {
    /// A list of all-zero bits with room for `entries` entries, enlarged to [`MIN_ENTRIES`] when smaller and
    /// rounded up to whole bytes.
    pub fn new(entries: usize) -> Self {
        let entries = entries.max(MIN_ENTRIES);
        Bitstring {
            bytes: vec![0; entries.div_ceil(8)],
        }
    }

    /// A list of at least `entries` entries (as [`Bitstring::new`]) with the given indexes set.
    pub fn with_set(
        entries: usize,
        indexes: impl IntoIterator<Item = u32>,
    ) -> Result<Self, StatusError> {
        let mut bits = Bitstring::new(entries);
        for index in indexes {
            bits.set(index as usize, true)?;
        }
        Ok(bits)
    }

    /// The bitstring made of these bytes, as they are (no minimum size: for decoding and for tests).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Bitstring { bytes }
    }

    /// The number of entries (bits).
    pub fn len(&self) -> usize {
        self.bytes.len() * 8
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bit at `index`; past the end is the spec's RANGE_ERROR.
    pub fn get(&self, index: usize) -> Result<bool, StatusError> {
        let (byte, mask) = self.position(index)?;
        Ok(self.bytes[byte] & mask != 0)
    }

    pub fn set(&mut self, index: usize, value: bool) -> Result<(), StatusError> {
        let (byte, mask) = self.position(index)?;
        if value {
            self.bytes[byte] |= mask;
        } else {
            self.bytes[byte] &= !mask;
        }
        Ok(())
    }

    /// The indexes whose bit is set, in increasing order.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.bytes
            .iter()
            .enumerate()
            .filter(|(_, byte)| **byte != 0)
            .flat_map(|(i, byte)| {
                (0..8)
                    .filter(move |bit| byte & (0x80 >> bit) != 0)
                    .map(move |bit| i * 8 + bit)
            })
    }

    fn position(&self, index: usize) -> Result<(usize, u8), StatusError> {
        if index >= self.len() {
            return Err(StatusError::IndexOutOfRange {
                index,
                len: self.len(),
            });
        }
        Ok((index / 8, 0x80 >> (index % 8)))
    }
}

/// Shows the size and the set indexes, not kilobytes of zeros.
impl fmt::Debug for Bitstring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 16;
        let ones: Vec<usize> = self.ones().take(SHOWN + 1).collect();
        let mut debug = f.debug_struct("Bitstring");
        debug.field("len", &self.len());
        if ones.len() > SHOWN {
            debug.field("ones", &format_args!("{:?}...", &ones[..SHOWN]));
        } else {
            debug.field("ones", &ones);
        }
        debug.finish()
    }
}

/// The `encodedList` of a bitstring: `u` + base64url (no padding) of its GZIP compression (§3.2).
/// Deterministic: the GZIP header carries no time stamp or file name.
pub fn encode(bits: &Bitstring) -> String {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(&bits.bytes)
        .expect("compressing into memory cannot fail");
    let compressed = gzip.finish().expect("compressing into memory cannot fail");
    let mut encoded = String::with_capacity(1 + compressed.len().div_ceil(3) * 4);
    encoded.push('u');
    URL_SAFE_NO_PAD.encode_string(&compressed, &mut encoded);
    encoded
}

/// What [`decode`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Inflating stops with [`StatusError::TooLarge`] past this many bytes; nothing larger is allocated.
    pub max_bytes: usize,
    /// Fewer entries is [`StatusError::TooShort`] (the spec's `minimumNumberOfEntries`).
    pub min_entries: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_bytes: DEFAULT_MAX_DECODED_BYTES,
            min_entries: MIN_ENTRIES,
        }
    }
}

/// Reads an `encodedList` (§3.2 Bitstring Expansion Algorithm) under `limits`.
pub fn decode(encoded: &str, limits: &DecodeLimits) -> Result<Bitstring, StatusError> {
    let body = encoded
        .strip_prefix('u')
        .ok_or(StatusError::NotMultibaseBase64Url)?;
    refuse_oversized(body, limits)?;
    let compressed = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|e| StatusError::Base64(e.to_string()))?;
    expand(&compressed, limits)
}

/// Refuses, before decoding it, a base64 text whose GZIP stream cannot inflate within `limits.max_bytes`.
///
/// DEFLATE never grows data by more than a few bytes per 64 KiB block, so a GZIP stream that inflates to at most
/// `max_bytes` has a base64 form well under twice that: a longer one is refused before decoding it.
pub(super) fn refuse_oversized(base64: &str, limits: &DecodeLimits) -> Result<(), StatusError> {
    if base64.len() / 2 > limits.max_bytes.saturating_add(1024) {
        return Err(StatusError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

/// The rest of the expansion, once base64 is decoded: inflates the GZIP stream under `limits.max_bytes` and checks
/// the minimum number of entries. Shared with StatusList2021, whose bits are the same.
pub(super) fn expand(compressed: &[u8], limits: &DecodeLimits) -> Result<Bitstring, StatusError> {
    if compressed.is_empty() {
        return Err(StatusError::Gzip("no compressed data".into()));
    }
    let bits = Bitstring::from_bytes(inflate_bounded(compressed, limits.max_bytes)?);
    if bits.len() < limits.min_entries {
        return Err(StatusError::TooShort {
            entries: bits.len(),
            minimum: limits.min_entries,
        });
    }
    Ok(bits)
}

/// Inflates a GZIP file (one or more members, RFC 1952 §2.2) without ever holding more than `limit` bytes of
/// output: the output buffer grows by doubling, capped at `limit`.
fn inflate_bounded(compressed: &[u8], limit: usize) -> Result<Vec<u8>, StatusError> {
    let mut decoder = flate2::bufread::MultiGzDecoder::new(compressed);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 32 * 1024];
    loop {
        let read = match decoder.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StatusError::Gzip(e.to_string())),
        };
        if read > limit - out.len() {
            return Err(StatusError::TooLarge { limit });
        }
        if out.capacity() - out.len() < read {
            let grown = (out.capacity() * 2).max(64 * 1024).min(limit);
            out.reserve_exact(grown.max(out.len() + read) - out.len());
        }
        out.extend_from_slice(&chunk[..read]);
    }
}

/// The issuer of a status-list credential: its id, with a display name if wanted.
///
/// Only terms of the VC 2.0 context may appear (the document has no other context), so no `type: Profile`.
/// Verifiers compare this id with the `issuer` id of the credentials that point at the list (the DCC checker,
/// `@digitalbazaar/vc-bitstring-status-list` `checkStatus`, accepts a string or an object with `id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StatusListIssuer {
    Id(String),
    Named { id: String, name: String },
}

impl StatusListIssuer {
    pub fn id(&self) -> &str {
        match self {
            StatusListIssuer::Id(id) | StatusListIssuer::Named { id, .. } => id,
        }
    }
}

/// The status-list credential (§2.2), unsigned. Its `id` is the URL it is served at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BitstringStatusListCredential {
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    pub id: String,
    #[serde(rename = "type")]
    pub types: Vec<String>,
    pub issuer: StatusListIssuer,
    pub valid_from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    pub credential_subject: BitstringStatusList,
}

/// The credential subject of a status-list credential (§2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BitstringStatusList {
    /// `<list URL>#list`.
    pub id: String,
    /// Always `BitstringStatusList` (a string: the DCC checker compares it as one).
    #[serde(rename = "type")]
    pub kind: String,
    pub status_purpose: StatusPurpose,
    pub encoded_list: String,
    /// How long, in milliseconds, a verifier may cache the list (§2.2 `ttl`, optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

impl BitstringStatusListCredential {
    /// The credential for the list served at `list_url`, with `bits` as its content.
    pub fn new(
        list_url: &str,
        issuer: StatusListIssuer,
        purpose: StatusPurpose,
        bits: &Bitstring,
        valid_from: DateTime<Utc>,
    ) -> Self {
        BitstringStatusListCredential {
            context: vec![VC_V2_CONTEXT.to_owned()],
            id: list_url.to_owned(),
            types: vec![
                "VerifiableCredential".to_owned(),
                "BitstringStatusListCredential".to_owned(),
            ],
            issuer,
            valid_from: rfc3339(valid_from),
            valid_until: None,
            credential_subject: BitstringStatusList {
                id: format!("{list_url}#list"),
                kind: "BitstringStatusList".to_owned(),
                status_purpose: purpose,
                encoded_list: encode(bits),
                ttl: None,
            },
        }
    }

    pub fn with_valid_until(mut self, valid_until: DateTime<Utc>) -> Self {
        self.valid_until = Some(rfc3339(valid_until));
        self
    }

    pub fn with_ttl_ms(mut self, ttl: u64) -> Self {
        self.credential_subject.ttl = Some(ttl);
        self
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a status-list credential is plain JSON")
    }
}

/// The `credentialStatus` entry of a credential whose status is bit `index` of the list at `statusListCredential`
/// (§2.1). `statusListIndex` is a base-10 string, as the spec requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BitstringStatusListEntry {
    /// `<list URL>#<index>`: identifies this entry, and is never the list's own URL (§2.1).
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status_purpose: StatusPurpose,
    pub status_list_index: String,
    pub status_list_credential: String,
}

impl BitstringStatusListEntry {
    pub fn new(list_url: &str, purpose: StatusPurpose, index: u32) -> Self {
        BitstringStatusListEntry {
            id: format!("{list_url}#{index}"),
            kind: "BitstringStatusListEntry".to_owned(),
            status_purpose: purpose,
            status_list_index: index.to_string(),
            status_list_credential: list_url.to_owned(),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a status entry is plain JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_zero_is_the_most_significant_bit_of_the_first_byte() {
        let mut bits = Bitstring::new(0);
        bits.set(0, true).unwrap();
        bits.set(9, true).unwrap();
        bits.set(MIN_ENTRIES - 1, true).unwrap();
        assert_eq!(bits.as_bytes()[0], 0x80);
        assert_eq!(bits.as_bytes()[1], 0x40);
        assert_eq!(bits.as_bytes()[MIN_ENTRIES / 8 - 1], 0x01);
        assert_eq!(bits.ones().collect::<Vec<_>>(), [0, 9, MIN_ENTRIES - 1]);
        bits.set(9, false).unwrap();
        assert!(!bits.get(9).unwrap());
    }

    #[test]
    fn inflating_never_holds_more_than_the_limit() {
        let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
        gzip.write_all(&vec![0; 300_000]).unwrap();
        let compressed = gzip.finish().unwrap();
        assert_eq!(
            inflate_bounded(&compressed, 299_999),
            Err(StatusError::TooLarge { limit: 299_999 })
        );
        let out = inflate_bounded(&compressed, 300_000).unwrap();
        assert_eq!(out.len(), 300_000);
        assert!(out.capacity() <= 300_000, "{}", out.capacity());
    }
}
