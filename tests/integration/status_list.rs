//! W3C Bitstring Status List v1.0 (`carnet::status::bitstring`): the `encodedList` codec, its limits, and the two
//! documents carnet publishes (status-list credential, `credentialStatus` entry).
//!
//! The 1EdTech fixture (`../shared/spec/data/ob3/1edtech-validator-tests/bit-string-list/`, from the 1EdTech
//! digital-credentials-public-validator, `inspector-vc/src/test/resources/ob30/bit-string-list/`) is read when
//! present; without `../shared` those checks print a SKIP line.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use carnet::status::bitstring::{
    self, Bitstring, BitstringStatusListCredential, BitstringStatusListEntry, DecodeLimits,
    MIN_ENTRIES, StatusListIssuer,
};
use carnet::status::{StatusError, StatusPurpose};
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use serde_json::{Value, json};

// ---- allocation accounting --------------------------------------------------------------

/// Counts the bytes each thread holds, so that a test can tell how much decoding a gzip bomb allocated.
/// Tests run one per thread, so other tests do not disturb the count. (The one `unsafe` of the project: a
/// global allocator cannot be written without it; it only forwards to `System`.)
struct CountingAllocator;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // `try_with`: the allocator may run while this thread's locals are being torn down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            track(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            track(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if !moved.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `work` and returns its result with the most bytes this thread held at once meanwhile, beyond what it
/// held before.
fn peak_allocation<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    let result = work();
    let peak = PEAK.with(Cell::get);
    (result, usize::try_from(peak - start).unwrap_or(0))
}

// ---- helpers ------------------------------------------------------------------------------

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn multibase(compressed: &[u8]) -> String {
    format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn shared_fixture(relative: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/spec/data/ob3/1edtech-validator-tests")
        .join(relative);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("SKIP: {} is absent", path.display());
        None
    }
}

const LIST_URL: &str = "https://badges.example/issuers/ime-les-tilleuls/status/revocation/0";
const ISSUER_ID: &str = "https://badges.example/issuers/ime-les-tilleuls";

// ---- the codec ----------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn encode_then_decode_gives_back_exactly_the_set_bits(
        indexes in proptest::collection::btree_set(0..MIN_ENTRIES as u32, 0..200),
        extra_bytes in 0usize..4096,
    ) {
        let entries = MIN_ENTRIES + extra_bytes * 8;
        let bits = Bitstring::with_set(entries, indexes.iter().copied()).unwrap();
        let encoded = bitstring::encode(&bits);
        prop_assert!(encoded.starts_with('u'));
        prop_assert!(!encoded.contains('='));
        let decoded = bitstring::decode(&encoded, &DecodeLimits::default()).unwrap();
        prop_assert_eq!(decoded.len(), entries);
        let ones: Vec<u32> = decoded.ones().map(|i| i as u32).collect();
        let expected: Vec<u32> = indexes.iter().copied().collect();
        prop_assert_eq!(ones, expected);
        prop_assert_eq!(&decoded, &bits);
    }
}

#[test]
fn index_zero_is_the_most_significant_bit_of_the_first_byte() {
    // written by hand, not by carnet's encoder: 0x80 in byte 0, 0x01 in byte 2
    let mut bytes = vec![0u8; MIN_ENTRIES / 8];
    bytes[0] = 0x80;
    bytes[2] = 0x01;
    let decoded = bitstring::decode(&multibase(&gzip(&bytes)), &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.ones().collect::<Vec<_>>(), [0, 23]);
    assert!(decoded.get(0).unwrap());
    assert!(!decoded.get(1).unwrap() && !decoded.get(7).unwrap() && !decoded.get(22).unwrap());
    assert!(decoded.get(23).unwrap());

    // and carnet's encoder writes the same bytes
    let bits = Bitstring::with_set(MIN_ENTRIES, [0, 23]).unwrap();
    assert_eq!(bits.as_bytes(), bytes.as_slice());
}

#[test]
fn a_list_has_at_least_the_minimum_number_of_entries() {
    assert_eq!(MIN_ENTRIES, 131_072);
    for asked in [0, 1, 1000, MIN_ENTRIES - 1, MIN_ENTRIES] {
        let bits = Bitstring::new(asked);
        assert_eq!(bits.len(), MIN_ENTRIES, "{asked}");
        let decoded = bitstring::decode(&bitstring::encode(&bits), &DecodeLimits::default());
        assert_eq!(decoded.unwrap().as_bytes().len(), 16 * 1024);
    }
    // larger lists are rounded up to whole bytes
    assert_eq!(Bitstring::new(MIN_ENTRIES + 1).len(), MIN_ENTRIES + 8);
    // an empty list compresses to almost nothing
    assert!(bitstring::encode(&Bitstring::new(0)).len() < 100);
}

#[test]
fn a_shorter_list_is_a_status_list_length_error() {
    let short = multibase(&gzip(&vec![0u8; MIN_ENTRIES / 8 - 1]));
    let error = bitstring::decode(&short, &DecodeLimits::default()).unwrap_err();
    assert_eq!(
        error,
        StatusError::TooShort {
            entries: MIN_ENTRIES - 8,
            minimum: MIN_ENTRIES
        }
    );
    assert!(
        error.to_string().contains("STATUS_LIST_LENGTH_ERROR"),
        "{error}"
    );
    // a verifier may accept shorter lists where an ecosystem says so
    let lenient = DecodeLimits {
        min_entries: 8,
        ..DecodeLimits::default()
    };
    assert_eq!(
        bitstring::decode(&short, &lenient).unwrap().len(),
        MIN_ENTRIES - 8
    );
}

#[test]
fn an_index_past_the_end_is_a_range_error() {
    let mut bits = Bitstring::new(0);
    let error = bits.get(MIN_ENTRIES).unwrap_err();
    assert_eq!(
        error,
        StatusError::IndexOutOfRange {
            index: MIN_ENTRIES,
            len: MIN_ENTRIES
        }
    );
    assert!(error.to_string().contains("RANGE_ERROR"));
    assert!(bits.set(MIN_ENTRIES, true).is_err());
    assert!(Bitstring::with_set(0, [MIN_ENTRIES as u32]).is_err());
    bits.set(MIN_ENTRIES - 1, true).unwrap();
}

/// 100 MiB of zeros, compressed to about 100 KiB, must be refused after inflating at most the limit, and
/// without ever holding much more than that.
#[test]
fn a_gzip_bomb_is_refused_without_allocating_it() {
    const BOMB: usize = 100 << 20;
    const LIMIT: usize = 16 << 20;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..BOMB / zeros.len() {
        encoder.write_all(&zeros).unwrap();
    }
    drop(zeros);
    let encoded = multibase(&encoder.finish().unwrap());
    assert!(encoded.len() < 1 << 20, "{}", encoded.len());

    let limits = DecodeLimits::default();
    assert_eq!(limits.max_bytes, LIMIT);
    let (outcome, peak) = peak_allocation(|| bitstring::decode(&encoded, &limits));
    assert_eq!(outcome.unwrap_err(), StatusError::TooLarge { limit: LIMIT });
    // the limit, plus the compressed input decoded from base64 and the inflater's state
    assert!(
        peak <= LIMIT + encoded.len() + (1 << 20),
        "peak {peak} bytes"
    );
    assert!(
        peak >= LIMIT,
        "the bomb was inflated up to the limit: {peak}"
    );

    // a smaller limit holds less
    let tight = DecodeLimits {
        max_bytes: 1 << 20,
        ..limits
    };
    let (outcome, peak) = peak_allocation(|| bitstring::decode(&encoded, &tight));
    assert_eq!(
        outcome.unwrap_err(),
        StatusError::TooLarge { limit: 1 << 20 }
    );
    assert!(peak <= (2 << 20) + encoded.len(), "peak {peak} bytes");
}

#[test]
fn a_bomb_split_into_many_gzip_members_is_refused_too() {
    let member = gzip(&vec![0u8; 1 << 20]);
    let many: Vec<u8> = std::iter::repeat_n(member.as_slice(), 40)
        .flatten()
        .copied()
        .collect();
    let tight = DecodeLimits {
        max_bytes: 8 << 20,
        ..DecodeLimits::default()
    };
    let error = bitstring::decode(&multibase(&many), &tight).unwrap_err();
    assert_eq!(error, StatusError::TooLarge { limit: 8 << 20 });
    // and members that fit are all read (RFC 1952 §2.2: a file is a series of members)
    let two: Vec<u8> = [member.as_slice(), member.as_slice()].concat();
    // two members of 1 MiB each: 2 MiB, 16 Mi entries
    let decoded = bitstring::decode(&multibase(&two), &tight).unwrap();
    assert_eq!(decoded.len(), 16 << 20);
}

#[test]
fn an_oversized_encoded_list_is_refused_before_decoding() {
    let tight = DecodeLimits {
        max_bytes: 1024,
        min_entries: 8,
    };
    let huge = format!("u{}", "A".repeat(8000));
    assert_eq!(
        bitstring::decode(&huge, &tight).unwrap_err(),
        StatusError::TooLarge { limit: 1024 }
    );
}

#[test]
fn garbage_is_a_clear_error() {
    let valid = bitstring::encode(&Bitstring::new(0));
    let body = &valid[1..];
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "multibase"),
        ("H4sIAAAAAAAA".to_owned(), "multibase"),
        // base58btc, base64 with padding: other multibase encodings
        (format!("z{body}"), "multibase"),
        (format!("U{body}"), "multibase"),
        ("u".to_owned(), "GZIP"),
        ("u!!!!".to_owned(), "base64url"),
        (format!("{valid}=="), "base64url"),
        // standard base64 alphabet
        ("u+/+/".to_owned(), "base64url"),
        // valid base64url, not gzip
        (multibase(b"not a gzip stream at all"), "GZIP"),
        // a zlib stream is not a gzip file
        (multibase(&zlib(&[0u8; 16384])), "GZIP"),
        // cut short, and trailing junk after the member
        (multibase(&gzip(&[0u8; 16384])[..20]), "GZIP"),
        (
            multibase(&[gzip(&[0u8; 16384]), b"junk".to_vec()].concat()),
            "GZIP",
        ),
    ];
    for (encoded, expected) in cases {
        let error = bitstring::decode(&encoded, &DecodeLimits::default())
            .expect_err(&format!("{encoded:?} must be refused"));
        let message = error.to_string();
        assert!(message.contains(expected), "{encoded:?}: {message}");
    }
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn a_corrupted_checksum_is_refused() {
    let mut compressed = gzip(&[0u8; 16384]);
    let crc = compressed.len() - 8;
    compressed[crc] ^= 0xff;
    let error = bitstring::decode(&multibase(&compressed), &DecodeLimits::default());
    assert!(matches!(error, Err(StatusError::Gzip(_))), "{error:?}");
}

#[test]
fn encoding_is_deterministic() {
    let bits = Bitstring::with_set(0, [3, 99, 70_000]).unwrap();
    assert_eq!(bitstring::encode(&bits), bitstring::encode(&bits.clone()));
}

#[test]
fn debug_shows_the_set_indexes_not_the_bytes() {
    let bits = Bitstring::with_set(0, [5, 42]).unwrap();
    assert_eq!(
        format!("{bits:?}"),
        "Bitstring { len: 131072, ones: [5, 42] }"
    );
}

// ---- the 1EdTech fixture ------------------------------------------------------------------

#[test]
fn the_1edtech_test_list_has_index_23_set() {
    let Some(path) = shared_fixture("bit-string-list/testlist") else {
        return;
    };
    let list: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let subject = &list["credentialSubject"];
    assert_eq!(subject["type"], "BitstringStatusList");
    assert_eq!(subject["statusPurpose"], "revocation");
    let encoded = subject["encodedList"].as_str().unwrap();
    let bits = bitstring::decode(encoded, &DecodeLimits::default()).unwrap();
    let ones: Vec<usize> = bits.ones().collect();
    eprintln!("1EdTech testlist: {} entries, set: {ones:?}", bits.len());
    assert_eq!(bits.len(), MIN_ENTRIES);
    assert_eq!(ones, [23]);
    // carnet encodes the same content to a list that decodes the same
    let again = bitstring::encode(&Bitstring::with_set(0, [23]).unwrap());
    assert_eq!(
        bitstring::decode(&again, &DecodeLimits::default()).unwrap(),
        bits
    );

    // the sample credential that points at it is therefore revoked
    for sample in [
        "bit-string-list/credential-status-revoked.json",
        "bit-string-list/credential-status-revoked-blank-nodes.json",
    ] {
        let Some(path) = shared_fixture(sample) else {
            continue;
        };
        let credential: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let status = &credential["credentialStatus"];
        assert_eq!(status["type"], "BitstringStatusListEntry", "{sample}");
        // a number here, though the spec asks for a string
        let index = match &status["statusListIndex"] {
            Value::Number(n) => n.as_u64().unwrap(),
            Value::String(s) => s.parse().unwrap(),
            other => panic!("{sample}: statusListIndex {other}"),
        };
        assert!(bits.get(index as usize).unwrap(), "{sample}: index {index}");
    }
}

// ---- the documents ------------------------------------------------------------------------

#[test]
fn the_status_list_credential_has_the_shape_of_the_spec() {
    let bits = Bitstring::with_set(0, [7, 12]).unwrap();
    let issuer = StatusListIssuer::Id(ISSUER_ID.to_owned());
    let credential = BitstringStatusListCredential::new(
        LIST_URL,
        issuer,
        StatusPurpose::Revocation,
        &bits,
        at("2025-09-01T08:30:00.123Z"),
    );
    let document = credential.to_json();
    assert_eq!(
        document,
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": LIST_URL,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": ISSUER_ID,
            "validFrom": "2025-09-01T08:30:00Z",
            "credentialSubject": {
                "id": format!("{LIST_URL}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": bitstring::encode(&bits),
            },
        })
    );
    let encoded = document["credentialSubject"]["encodedList"]
        .as_str()
        .unwrap();
    let decoded = bitstring::decode(encoded, &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.ones().collect::<Vec<_>>(), [7, 12]);

    // and it reads back
    let parsed: BitstringStatusListCredential = serde_json::from_value(document).unwrap();
    assert_eq!(parsed, credential);
}

#[test]
fn the_status_list_credential_canonicalizes_under_strict_json_ld() {
    let named = StatusListIssuer::Named {
        id: ISSUER_ID.to_owned(),
        name: "IME Les Tilleuls".to_owned(),
    };
    let plain = StatusListIssuer::Id(ISSUER_ID.to_owned());
    for (issuer, purpose) in [
        (plain, StatusPurpose::Revocation),
        (named, StatusPurpose::Suspension),
    ] {
        let credential = BitstringStatusListCredential::new(
            LIST_URL,
            issuer.clone(),
            purpose,
            &Bitstring::new(0),
            at("2025-09-01T08:30:00Z"),
        )
        .with_valid_until(at("2025-09-02T08:30:00Z"))
        .with_ttl_ms(300_000);
        let document = credential.to_json();
        assert_eq!(document["credentialSubject"]["ttl"], 300_000);
        assert_eq!(document["validUntil"], "2025-09-02T08:30:00Z");
        let nquads = carnet::jsonld::canonicalize(&document)
            .unwrap_or_else(|e| panic!("{issuer:?}: {e}\n{document:#}"));
        assert!(
            nquads.contains(
                "<https://www.w3.org/ns/credentials/status#statusPurpose> \
                 \"{purpose}\""
                    .replace("{purpose}", purpose.as_str())
                    .as_str()
            ),
            "{nquads}"
        );
        assert!(
            nquads.contains("<https://w3id.org/security#multibase>"),
            "{nquads}"
        );
    }

    // a type the VC 2.0 context does not define would be refused (so the check above means something)
    let mut with_profile = BitstringStatusListCredential::new(
        LIST_URL,
        StatusListIssuer::Id(ISSUER_ID.to_owned()),
        StatusPurpose::Revocation,
        &Bitstring::new(0),
        at("2025-09-01T08:30:00Z"),
    )
    .to_json();
    with_profile["issuer"] = json!({"id": ISSUER_ID, "type": ["Profile"]});
    assert!(carnet::jsonld::canonicalize(&with_profile).is_err());
}

#[test]
fn the_credential_status_entry_has_the_shape_of_the_spec() {
    let entry = BitstringStatusListEntry::new(LIST_URL, StatusPurpose::Revocation, 94_567);
    assert_eq!(
        entry.to_json(),
        json!({
            "id": format!("{LIST_URL}#94567"),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": LIST_URL,
        })
    );
    // §2.1: the entry's id is never the list's URL (the DCC checker refuses that)
    assert_ne!(entry.id, entry.status_list_credential);
}

/// The entry inside a minimal OB 3.0 credential (VC 2.0 + OB 3.0.3 contexts, as carnet issues): every term is
/// defined, so strict canonicalization (and hence a Data Integrity proof) covers it.
#[test]
fn the_credential_status_entry_canonicalizes_inside_an_open_badge_credential() {
    let entry = BitstringStatusListEntry::new(LIST_URL, StatusPurpose::Revocation, 5);
    let credential = json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ],
        "id": "https://badges.example/credentials/0b4f1c2e-5d7a-4d1e-9b0a-2f3c4d5e6f70",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": ISSUER_ID, "type": ["Profile"], "name": "IME Les Tilleuls"},
        "validFrom": "2025-09-01T08:30:00Z",
        "name": "Cuisine, niveau 1",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject",
                "identityHash": format!("sha256${}", "0f".repeat(32)),
                "identityType": "emailAddress",
                "hashed": true,
                "salt": "grain-de-sel"
            }],
            "achievement": {
                "id": "https://badges.example/achievements/cuisine-niveau-1",
                "type": ["Achievement"],
                "name": "Cuisine, niveau 1",
                "description": "Prépare un repas simple en sécurité.",
                "criteria": {"narrative": "Observé trois fois en atelier."}
            }
        },
        "credentialStatus": entry.to_json(),
    });
    let nquads = carnet::jsonld::canonicalize(&credential).unwrap();
    assert!(
        nquads.contains("<https://www.w3.org/ns/credentials/status#statusListIndex> \"5\""),
        "{nquads}"
    );
    assert!(nquads.contains(&format!(
        "<https://www.w3.org/ns/credentials/status#statusListCredential> <{LIST_URL}>"
    )));

    // and in the 1EdTech sample credential, in place of its own entry
    let Some(path) = shared_fixture("bit-string-list/credential-status-revoked.json") else {
        return;
    };
    let mut sample: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    sample.as_object_mut().unwrap().remove("proof");
    sample["credentialStatus"] = entry.to_json();
    carnet::jsonld::canonicalize(&sample).unwrap();
}

#[test]
fn status_purposes_read_and_print_as_the_spec_spells_them() {
    for purpose in StatusPurpose::ALL {
        assert_eq!(purpose.as_str().parse::<StatusPurpose>().unwrap(), purpose);
        assert_eq!(
            serde_json::to_value(purpose).unwrap(),
            Value::String(purpose.to_string())
        );
    }
    let error = "message".parse::<StatusPurpose>().unwrap_err();
    assert_eq!(error, StatusError::UnknownPurpose("message".to_owned()));
}
