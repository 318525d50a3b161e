//! W3C CCG StatusList2021 (Draft Community Group Report): the status list that came before Bitstring Status List
//! v1.0, still issued by the DCC tools (Learner Credential Wallet, VerifierPlus, the DCC status service), whose
//! terms come from the context `https://w3id.org/vc/status-list/2021/v1` (shipped: `jsonld/contexts/`, from
//! `@digitalbazaar/vc-status-list-context`).
//!
//! - The entry (`StatusList2021Entry`): `statusPurpose` (`revocation`, `suspension`; others are left open), `statusListIndex`,
//!   `statusListCredential`, as in a `BitstringStatusListEntry`.
//! - The list: a credential of type `StatusList2021Credential` whose subject has type `StatusList2021`,
//!   `statusPurpose` and `encodedList`.
//! - `encodedList` (Bitstring Generation Algorithm): the bitstring, GZIP-compressed, then "base-64
//!   encoded" — with **no** multibase prefix (the `u` is Bitstring Status List's addition).
//!   `@digitalbazaar/vc-status-list` (through `@digitalbazaar/bitstring`) and the spec's examples write base64url
//!   without padding; as the spec says only "base-64" (RFC 4648), padding and the standard alphabet are accepted too.
//! - The bits are those of Bitstring Status List: index 0 is the left-most bit (the most significant bit of the first
//!   byte), at least 16 KiB (131,072 entries) uncompressed (for group privacy), inflated under the same bound.
//!
//! carnet only reads these lists (`verify::status`); it publishes Bitstring Status Lists.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::StatusError;
use super::bitstring::{Bitstring, DecodeLimits, expand, refuse_oversized};

/// The JSON-LD context that defines the StatusList2021 terms.
pub const CONTEXT: &str = "https://w3id.org/vc/status-list/2021/v1";
/// `credentialStatus.type` of an entry.
pub const ENTRY_TYPE: &str = "StatusList2021Entry";
/// A `type` of the status-list credential.
pub const CREDENTIAL_TYPE: &str = "StatusList2021Credential";
/// `credentialSubject.type` of the status-list credential.
pub const LIST_TYPE: &str = "StatusList2021";

const LENIENT_PADDING: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT_PADDING);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT_PADDING);

/// Reads a StatusList2021 `encodedList` under `limits` (the same limits as Bitstring Status List's).
pub fn decode(encoded: &str, limits: &DecodeLimits) -> Result<Bitstring, StatusError> {
    refuse_oversized(encoded, limits)?;
    // The two alphabets differ only in the characters for 62 and 63.
    let engine = if encoded.contains(['+', '/']) {
        &STANDARD
    } else {
        &URL_SAFE
    };
    let compressed = engine
        .decode(encoded)
        .map_err(|e| StatusError::NotBase64(e.to_string()))?;
    expand(&compressed, limits)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use base64::engine::general_purpose::{STANDARD as PADDED, URL_SAFE_NO_PAD};
    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;
    use crate::status::bitstring::{self, MIN_ENTRIES};

    /// Written by `@digitalbazaar/vc-status-list` 8.0.1 (`createList({length: 131072})`, `setStatus(i, true)` for
    /// 0, 9, 4242 and 131071, `encode()`; `@digitalbazaar/bitstring` 3.1.0 with pako).
    const DCC_LIST: &str =
        "H4sIAAAAAAAAA-3OMQEAMAgAoNlkUYxmdF8beAgJqHww_O0AAAAAAAAAAAAAAAAAAADARdFi0MEFAEAAAA";
    /// The same package, a list of 131,136 entries with only the last one set.
    const DCC_LONGER_LIST: &str =
        "H4sIAAAAAAAAA-3BIQEAAAACIP1_2hsGIAEAAAAAAAAAAAAAAAAAAABOdKiVxSsIQAAA";
    /// The `encodedList` of the spec's examples: 16 KiB of zeros.
    const SPEC_EXAMPLE: &str =
        "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn reads_the_lists_the_dcc_stack_writes() {
        let bits = decode(DCC_LIST, &DecodeLimits::default()).unwrap();
        assert_eq!(bits.len(), MIN_ENTRIES);
        assert_eq!(
            bits.ones().collect::<Vec<_>>(),
            [0, 9, 4242, MIN_ENTRIES - 1]
        );
        // Index 0 is the most significant bit of the first byte, as in Bitstring Status List.
        assert_eq!(bits.as_bytes()[0], 0x80);
        assert_eq!(bits.as_bytes()[1], 0x40);

        let longer = decode(DCC_LONGER_LIST, &DecodeLimits::default()).unwrap();
        assert_eq!(longer.len(), MIN_ENTRIES + 64);
        assert_eq!(longer.ones().collect::<Vec<_>>(), [MIN_ENTRIES + 63]);

        let example = decode(SPEC_EXAMPLE, &DecodeLimits::default()).unwrap();
        assert_eq!((example.len(), example.ones().count()), (MIN_ENTRIES, 0));
    }

    #[test]
    fn the_same_bits_as_bitstring_status_list_without_the_multibase_prefix() {
        let bits = Bitstring::with_set(MIN_ENTRIES, [3, 77, 4242]).unwrap();
        let multibase = bitstring::encode(&bits);
        assert_eq!(
            decode(&multibase[1..], &DecodeLimits::default()),
            Ok(bits.clone())
        );
        // A Bitstring Status List `encodedList` is not a StatusList2021 one, nor the reverse.
        assert!(matches!(
            decode(&multibase, &DecodeLimits::default()),
            Err(StatusError::Gzip(_) | StatusError::NotBase64(_))
        ));
        assert_eq!(
            bitstring::decode(DCC_LIST, &DecodeLimits::default()),
            Err(StatusError::NotMultibaseBase64Url)
        );
    }

    #[test]
    fn padding_and_the_standard_alphabet_are_accepted() {
        // A list whose base64 form uses the characters for 62 or 63 and needs padding.
        let (compressed, standard) = (0u8..=255)
            .map(|last| {
                let mut bytes = vec![0u8; MIN_ENTRIES / 8];
                bytes.extend([last, 0xfb, 0xff, 0xbf]);
                let compressed = gzip(&bytes);
                let standard = PADDED.encode(&compressed);
                (compressed, standard)
            })
            .find(|(_, text)| text.contains(['+', '/']) && text.ends_with('='))
            .expect("some list has both");
        let bits = decode(
            &URL_SAFE_NO_PAD.encode(&compressed),
            &DecodeLimits::default(),
        )
        .unwrap();
        assert_eq!(bits.len(), MIN_ENTRIES + 32);
        assert_eq!(
            decode(&standard, &DecodeLimits::default()),
            Ok(bits.clone())
        );
        let padded_url_safe = base64::engine::general_purpose::URL_SAFE.encode(&compressed);
        assert_eq!(decode(&padded_url_safe, &DecodeLimits::default()), Ok(bits));
    }

    #[test]
    fn the_limits_of_bitstring_status_list_apply() {
        let short = URL_SAFE_NO_PAD.encode(gzip(&vec![0u8; MIN_ENTRIES / 8 - 1]));
        assert_eq!(
            decode(&short, &DecodeLimits::default()),
            Err(StatusError::TooShort {
                entries: MIN_ENTRIES - 8,
                minimum: MIN_ENTRIES
            })
        );
        // 1 MiB of zeros inflates past a limit of 64 KiB: refused while inflating.
        let bomb = URL_SAFE_NO_PAD.encode(gzip(&vec![0u8; 1 << 20]));
        let tight = DecodeLimits {
            max_bytes: 64 * 1024,
            min_entries: 8,
        };
        assert_eq!(
            decode(&bomb, &tight),
            Err(StatusError::TooLarge { limit: 64 * 1024 })
        );
        // A text too long for the limit is refused before decoding.
        assert_eq!(
            decode(&"A".repeat(200_000), &tight),
            Err(StatusError::TooLarge { limit: 64 * 1024 })
        );
    }

    #[test]
    fn garbage_is_a_clear_error() {
        for (encoded, expected) in [
            ("", "GZIP"),
            ("!!!!", "base64"),
            ("H4sI-+AA", "base64"),
            ("bm90IGd6aXA", "GZIP"),
        ] {
            let error = decode(encoded, &DecodeLimits::default())
                .expect_err(&format!("{encoded:?} must be refused"));
            assert!(error.to_string().contains(expected), "{encoded:?}: {error}");
        }
    }
}
