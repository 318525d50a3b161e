//! Differential tests of the fast path: on every document, when the fast path answers, its canonical N-Quads are
//! those of the slow path (the `json-ld` crate), and whenever the slow path fails the fast path does not answer.
//! The real documents (carnet's credentials, proof configurations, status lists, the samples of
//! `../shared/spec/data`) must take the fast path.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use serde_json::{Map, Value, json};

use super::{CanonError, canonicalize, canonicalize_slow, fast, fast_path_handles};
use crate::issuer::Issuer;
use crate::issuer::IssuerSettings;
use crate::ob3::credential::{AwardDetails, build};
use crate::recipient::{Email, hash_email};
use crate::status::StatusPurpose;
use crate::status::bitstring::{Bitstring, BitstringStatusListCredential, StatusListIssuer};

/// What happened to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The fast path answered, as the slow path does.
    Fast,
    /// The fast path gave up; the slow path succeeded.
    SlowOk,
    /// The fast path gave up; the slow path failed.
    SlowErr,
}

/// The fast path's answer. Other tests fill the context registry on purpose: a document that met it starting
/// afresh (more than the fast path's own retries) is tried again.
fn fast_retrying(doc: &Value) -> Option<String> {
    let mut fast = fast::canonicalize(doc);
    for _ in 0..100 {
        if fast.is_some() || matches!(fast::explain(doc), Err(Some(_))) {
            break;
        }
        fast = fast::canonicalize(doc);
    }
    fast
}

/// Runs both paths on `doc` and checks they agree. `name` identifies the document in failures. With
/// `CARNET_FAST_EXPLAIN=1`, prints where the fast path gave up on documents the slow path accepts.
fn differential(name: &str, doc: &Value) -> Outcome {
    let slow = canonicalize_slow(doc);
    let fast = fast_retrying(doc);
    match (fast, &slow) {
        (Some(f), Ok(s)) => {
            assert_eq!(&f, s, "{name}: fast and slow canonical forms differ");
            // And the public entry point answers the same.
            assert_eq!(&canonicalize(doc).expect("canonicalize"), s, "{name}");
            Outcome::Fast
        }
        (Some(f), Err(e)) => {
            panic!("{name}: the slow path fails ({e}) but the fast path answered:\n{f}")
        }
        (None, Ok(s)) => {
            if std::env::var_os("CARNET_FAST_EXPLAIN").is_some() {
                eprintln!("SLOWOK {:?} {name}", fast::explain(doc));
            }
            assert_eq!(&canonicalize(doc).expect("canonicalize"), s, "{name}");
            Outcome::SlowOk
        }
        (None, Err(e)) => {
            // The public entry point keeps the slow path's error.
            let public = canonicalize(doc).expect_err("the public path fails too");
            assert_eq!(public.to_string(), e.to_string(), "{name}");
            Outcome::SlowErr
        }
    }
}

/// Asserts `doc` takes the fast path (and agrees with the slow one).
fn assert_fast(name: &str, doc: &Value) {
    assert_eq!(
        differential(name, doc),
        Outcome::Fast,
        "{name}: not handled by the fast path: {:?}",
        fast::explain(doc)
    );
}

// ---------------------------------------------------------------------------------------------------------------
// carnet's own documents

struct Carnet {
    issuer: Issuer,
    classes: Vec<crate::badge_class::BadgeClass>,
    _keys: tempfile::TempDir,
}

fn carnet() -> &'static Carnet {
    static CARNET: OnceLock<Carnet> = OnceLock::new();
    CARNET.get_or_init(|| {
        let keys_dir = tempfile::tempdir().expect("tempdir");
        let keys = crate::keys::load_or_create(keys_dir.path(), "ime-test").expect("keys");
        let settings = IssuerSettings {
            slug: "ime-test".into(),
            name: "IME de test".into(),
            url: Some("https://ime.example.org".into()),
            email: Some("contact@ime.example.org".into()),
            description: Some("Un IME pour les tests.".into()),
            image: None,
        };
        let issuer = Issuer::new(settings, "https://badges.example.org", keys);
        let classes = crate::badge_class::load_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("badge-classes"),
        )
        .expect("badge classes");
        Carnet {
            issuer,
            classes: classes.into_values().collect(),
            _keys: keys_dir,
        }
    })
}

fn full_details() -> AwardDetails {
    AwardDetails {
        recipient_name: Some("Léa Martin".into()),
        evidence_url: Some("https://ime.example.org/preuves/42".into()),
        narrative: Some("J'ai montré les EPI à mon tuteur.\n\"Sans\" aide.".into()),
        valid_until: Some(Utc.with_ymd_and_hms(2031, 5, 4, 3, 2, 1).unwrap()),
        evidence_files: vec![crate::ob3::credential::FileEvidence {
            url: "https://ime.example.org/evidence/0b6c5e1a-3f7e-4d6a-9a8b-1c2d3e4f5a6b".into(),
            name: "gants.png".into(),
            genre: "image".into(),
            description: "Photo apportée avec la demande de badge".into(),
        }],
        ..Default::default()
    }
}

/// The unsigned credentials carnet builds (every badge class, with and without the optional details).
fn carnet_credentials() -> Vec<(String, Value)> {
    let c = carnet();
    let email = hash_email(&Email::parse("lea.martin@example.org").unwrap());
    let now = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let mut docs = Vec::new();
    for class in &c.classes {
        for (label, details) in [
            ("minimal", AwardDetails::default()),
            ("full", full_details()),
        ] {
            let mut cred = build(
                &c.issuer,
                class,
                uuid::Uuid::from_u128(0x1234),
                &email,
                &details,
                now,
            );
            cred["credentialStatus"] = crate::status_publisher::entry(
                &c.issuer,
                StatusPurpose::Revocation,
                crate::status::StatusSlot { list: 0, index: 7 },
            );
            docs.push((format!("{} {label}", class.slug), cred));
        }
    }
    docs
}

/// The proof configuration of `proof` for `doc`, as `proof::data_integrity` canonicalises it.
fn proof_configuration(proof: &Value, doc: &Value) -> Value {
    let mut config = Map::new();
    config.insert("@context".into(), doc["@context"].clone());
    for (k, v) in proof.as_object().expect("proof object") {
        if k != "@context" && k != "proofValue" {
            config.insert(k.clone(), v.clone());
        }
    }
    Value::Object(config)
}

/// Signed credentials, their proof configurations and their unsecured forms.
fn carnet_signed() -> Vec<(String, Value)> {
    let c = carnet();
    let now = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let mut docs = Vec::new();
    for (name, cred) in carnet_credentials() {
        let signed = crate::issue::sign(&c.issuer, &cred, now)
            .expect("sign")
            .json;
        for proof in crate::proof::data_integrity::proofs(&signed) {
            docs.push((
                format!("{name} proof configuration"),
                proof_configuration(proof, &signed),
            ));
        }
        docs.push((format!("{name} signed"), signed));
    }
    docs
}

fn status_lists() -> Vec<(String, Value)> {
    let c = carnet();
    let mut docs = Vec::new();
    for purpose in StatusPurpose::ALL {
        let mut bits = Bitstring::new(0);
        bits.set(3, true).unwrap();
        let url = crate::status_publisher::list_url(&c.issuer, purpose, 0);
        let plain = BitstringStatusListCredential::new(
            &url,
            StatusListIssuer::Id(c.issuer.id()),
            purpose,
            &bits,
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        );
        docs.push((format!("status list {purpose}"), plain.to_json()));
        let named = BitstringStatusListCredential::new(
            &url,
            StatusListIssuer::Named {
                id: c.issuer.id(),
                name: c.issuer.settings.name.clone(),
            },
            purpose,
            &bits,
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        )
        .with_valid_until(Utc.with_ymd_and_hms(2027, 1, 2, 3, 4, 5).unwrap())
        .with_ttl_ms(300_000);
        let unsigned = named.to_json();
        let key = c.issuer.keys.active_ed25519();
        let proof = crate::proof::data_integrity::sign_eddsa_rdfc_2022(
            &unsigned,
            key.signing_key(),
            &c.issuer.verification_method(&key.kid),
            "2026-01-02T03:04:05Z",
        )
        .expect("sign");
        let mut signed = unsigned.clone();
        signed["proof"] = json!([proof.clone()]);
        docs.push((format!("status list {purpose} named"), unsigned));
        docs.push((
            format!("status list {purpose} proof configuration"),
            proof_configuration(&proof, &signed),
        ));
        docs.push((format!("status list {purpose} signed"), signed));
    }
    docs
}

fn carnet_documents() -> Vec<(String, Value)> {
    let mut docs = carnet_credentials();
    docs.extend(carnet_signed());
    docs.extend(status_lists());
    docs.push((
        "issuer profile document".into(),
        carnet().issuer.profile_document(),
    ));
    docs
}

#[test]
fn carnet_documents_take_the_fast_path() {
    for (name, doc) in carnet_documents() {
        assert_fast(&name, &doc);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// ../shared/spec/data

fn shared_data() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP: ../shared not found: the shared samples were not run through the fast path"
        );
        None
    }
}

/// Every JSON document under `dir` (walked recursively), except the context copies and schemas.
fn json_files(dir: &Path) -> Vec<(String, Value)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Value)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("readable dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            if path.is_dir() {
                walk(root, &path, out);
            } else if rel.ends_with(".json") || rel.ends_with(".jsonld") {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if let Ok(doc) = serde_json::from_str::<Value>(&text) {
                    out.push((rel, doc));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// Documents of a JSON file worth canonicalising: the file itself, each embedded credential with its own
/// `@context`, and the proof configurations of their proofs.
fn sample_documents(name: &str, doc: &Value) -> Vec<(String, Value)> {
    let mut docs = vec![(name.to_string(), doc.clone())];
    fn embedded(v: &Value, path: &str, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    if let Value::Object(inner) = x
                        && inner.contains_key("@context")
                    {
                        out.push((format!("{path}/{k}"), x.clone()));
                    }
                    embedded(x, &format!("{path}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    if let Value::Object(inner) = x
                        && inner.contains_key("@context")
                    {
                        out.push((format!("{path}[{i}]"), x.clone()));
                    }
                    embedded(x, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    embedded(doc, name, &mut docs);
    let mut configs = Vec::new();
    for (n, d) in &docs {
        if d.get("@context").is_some() {
            for proof in crate::proof::data_integrity::proofs(d) {
                if proof.is_object() {
                    configs.push((
                        format!("{n} proof configuration"),
                        proof_configuration(proof, d),
                    ));
                }
                let mut unsecured = d.clone();
                if let Some(m) = unsecured.as_object_mut() {
                    m.remove("proof");
                }
                configs.push((format!("{n} unsecured"), unsecured));
            }
        }
    }
    docs.extend(configs);
    docs
}

#[test]
fn shared_samples_agree_and_take_the_fast_path() {
    let Some(dir) = shared_data() else {
        return;
    };
    let mut counts = [0usize; 3];
    let mut slow_ok = Vec::new();
    for (rel, file) in json_files(&dir) {
        if rel.starts_with("contexts/") || rel.starts_with("schemas/") {
            continue;
        }
        for (name, doc) in sample_documents(&rel, &file) {
            let outcome = differential(&name, &doc);
            counts[outcome as usize] += 1;
            if outcome == Outcome::SlowOk {
                slow_ok.push(format!("{name}: {:?}", fast::explain(&doc)));
            }
        }
    }
    eprintln!(
        "shared samples: {} fast, {} slow (ok), {} slow (error)",
        counts[0], counts[1], counts[2]
    );
    // Every document the slow path accepts and that uses shipped contexts only is handled by the fast path.
    assert!(
        slow_ok.is_empty(),
        "not handled by the fast path: {slow_ok:#?}"
    );
    assert!(counts[0] >= 50, "{counts:?}");
}

// ---------------------------------------------------------------------------------------------------------------
// A rich hand-written OB 3.0 credential (works without ../shared): lists, numbers, booleans, embedded
// credentials with their own `@context`, several proofs, status, evidence, results.

const VC2: &str = "https://www.w3.org/ns/credentials/v2";
const OB303: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
const OBX: &str = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json";

fn rich_issuer() -> Value {
    json!({
        "id": "https://badges.example.org/issuers/atelier",
        "type": ["Profile"],
        "name": "Atelier",
        "url": "https://atelier.example.org",
        "email": "contact@atelier.example.org",
        "address": {"type": ["Address"], "addressCountry": "FR", "postalCode": "75001",
                    "geo": {"type": "GeoCoordinates", "latitude": 48.8566, "longitude": 2.3522}},
        "otherIdentifier": [{"type": "IdentifierEntry", "identifier": "123", "identifierType": "sourcedId"}],
        "parentOrg": {"id": "https://example.org/parent", "type": "Profile", "name": "Parent"}
    })
}

fn rich_endorsement() -> Value {
    json!({
        "@context": [VC2, OB303],
        "id": "urn:uuid:0d3a1a5e-0000-4000-8000-00000000e001",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Endossement",
        "issuer": {"id": "https://example.org/endorser", "type": ["Profile"], "name": "E"},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://example.org/creator", "type": ["EndorsementSubject"],
                              "endorsementComment": "Bien."},
        "proof": [{
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2025-01-01T00:00:00Z",
            "verificationMethod": "https://example.org/endorser#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gk"
        }]
    })
}

fn rich_achievement() -> Value {
    let result_description = json!({
        "id": "urn:uuid:f6ab24cd-86e8-4eaf-b8c6-ded74e8fd41c",
        "type": ["ResultDescription"],
        "name": "Note",
        "resultType": "LetterGrade",
        "allowedValue": ["A", "B", "C", "D"],
        "requiredValue": "C",
        "valueMax": "A", "valueMin": "D",
        "rubricCriterionLevel": [{"id": "urn:uuid:d05a0867-d0ad-4b03-bdb5-28fb5d2aab7a",
                                  "type": ["RubricCriterionLevel"], "level": "Bien", "points": "3"}]
    });
    json!({
        "id": "https://badges.example.org/badge-classes/bois",
        "type": ["Achievement"],
        "achievementType": "Competency",
        "name": "Bois",
        "description": "Travail du bois",
        "criteria": {"id": "https://badges.example.org/badge-classes/bois#criteria", "narrative": "Savoir scier."},
        "creditsAvailable": 5,
        "fieldOfStudy": "Menuiserie",
        "humanCode": "B2",
        "inLanguage": "fr",
        "version": "abc123",
        "tag": ["bois", "atelier", "bois"],
        "alignment": [{"type": ["Alignment"], "targetName": "Bois", "targetUrl": "https://example.org/fw/bois",
                       "targetType": "CFItem", "targetCode": "B"}],
        "related": [{"id": "https://example.org/ob2/bois", "type": ["Related", "https://w3id.org/openbadges#BadgeClass"],
                     "version": "Open Badges v2p0", "inLanguage": "fr"}],
        "resultDescription": [result_description],
        "creator": {
            "id": "https://example.org/creator",
            "type": ["Profile"],
            "name": "Créateur",
            "endorsement": [rich_endorsement()]
        }
    })
}

fn rich_subject() -> Value {
    json!({
        "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
        "type": ["AchievementSubject"],
        "activityStartDate": "2025-09-01",
        "creditsEarned": 4.5,
        "licenseNumber": "A-1",
        "role": "Apprenti",
        "term": "Automne",
        "identifier": [
            {"type": "IdentityObject", "identityHash": "sha256$abc", "identityType": "emailAddress",
             "hashed": true, "salt": "pepper"},
            {"type": "IdentityObject", "identityHash": "Léa", "identityType": "name", "hashed": false}
        ],
        "result": [
            {"type": ["Result"], "resultDescription": "urn:uuid:f6ab24cd-86e8-4eaf-b8c6-ded74e8fd41c",
             "value": "B", "status": "Completed", "achievedLevel": "urn:uuid:d05a0867-d0ad-4b03-bdb5-28fb5d2aab7a"}
        ],
        "achievement": rich_achievement()
    })
}

fn rich_proofs() -> Value {
    json!([
        {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-02T03:04:05Z",
         "verificationMethod": "did:web:badges.example.org:issuers:atelier#ed25519-1",
         "proofPurpose": "assertionMethod",
         "proofValue": "z5vgFc7fJ2Nz8GQtM4cTbPgZQ1W2R6pNQvJ4pyA6Zqk2QwXr3Vv1"},
        {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-02T03:04:06Z",
         "verificationMethod": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
         "proofPurpose": "assertionMethod", "previousProof": "urn:uuid:p1", "nonce": "1234", "domain": "example.org",
         "proofValue": "z5vgFc7fJ2Nz8GQtM4cTbPgZQ1W2R6pNQvJ4pyA6Zqk2QwXr3Vv2"}
    ])
}

fn rich() -> Value {
    json!({
        "@context": [VC2, OB303, OBX],
        "id": "urn:uuid:6f2c8a64-8d07-4b0f-9d3e-1f1b8a3c0a11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Atelier bois — niveau 2",
        "description": "Ligne 1\nLigne 2 \"guillemets\" \\ et tab\t.",
        "issuer": rich_issuer(),
        "validFrom": "2026-01-02T03:04:05Z",
        "validUntil": "2031-01-02T03:04:05Z",
        "awardedDate": "2026-01-02T03:04:05Z",
        "image": {"id": "https://badges.example.org/img.png", "type": "Image", "caption": "Médaille"},
        "credentialSubject": rich_subject(),
        "evidence": [{"id": "https://example.org/evidence/1", "type": ["Evidence"], "name": "Photo",
                      "narrative": "Une photo.", "genre": "Photo", "audience": "Public"}],
        "credentialSchema": [{"id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
                              "type": "1EdTechJsonSchemaValidator2019"}],
        "credentialStatus": {"id": "https://badges.example.org/status/revocation/0#7", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": "7",
                             "statusListCredential": "https://badges.example.org/status/revocation/0"},
        "proof": rich_proofs()
    })
}

#[test]
fn rich_credential_and_its_proof_configurations_take_the_fast_path() {
    let doc = rich();
    assert_fast("rich", &doc);
    for (i, proof) in crate::proof::data_integrity::proofs(&doc)
        .into_iter()
        .enumerate()
    {
        assert_fast(
            &format!("rich proof {i}"),
            &proof_configuration(proof, &doc),
        );
    }
    let mut unsecured = doc.clone();
    unsecured.as_object_mut().unwrap().remove("proof");
    assert_fast("rich unsecured", &unsecured);
    // The embedded endorsement on its own.
    let endorsement = doc["credentialSubject"]["achievement"]["creator"]["endorsement"][0].clone();
    assert_fast("rich endorsement", &endorsement);
}

// ---------------------------------------------------------------------------------------------------------------
// StatusList2021 (context `https://w3id.org/vc/status-list/2021/v1`), in the shapes the DCC stack signs
// (`tests/interop/dcc_status_list_2021.mjs`): the list credential and an OB 3.0 credential pointing at it, VC 1.1.

const VC1: &str = "https://www.w3.org/2018/credentials/v1";
const STATUS_LIST_2021: &str = "https://w3id.org/vc/status-list/2021/v1";
const DI2: &str = "https://w3id.org/security/data-integrity/v2";

fn status_list_2021_documents() -> Vec<(String, Value)> {
    let did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    let proof = json!({
        "type": "DataIntegrityProof", "created": "2026-01-02T03:04:05Z", "cryptosuite": "eddsa-rdfc-2022",
        "verificationMethod": format!("{did}#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
        "proofPurpose": "assertionMethod",
        "proofValue": "z5vgFc7fJ2Nz8GQtM4cTbPgZQ1W2R6pNQvJ4pyA6Zqk2QwXr3Vv2"
    });
    let list = json!({
        "@context": [VC1, STATUS_LIST_2021, DI2],
        "id": "https://status.example.org/lists/revocation",
        "type": ["VerifiableCredential", "StatusList2021Credential"],
        "credentialSubject": {
            "id": "https://status.example.org/lists/revocation#list", "type": "StatusList2021",
            "encodedList": "H4sIAAAAAAAAA-3OMQEAMAgAoNlkUYxmdF8beAgJqHww_O0AAAAAAAAAAAAAAAAAAADARdFi0MEFAEAAAA",
            "statusPurpose": "revocation"
        },
        "issuer": did,
        "issuanceDate": "2026-01-02T03:04:05Z",
        "proof": proof.clone()
    });
    let entry = |index: Value| {
        json!({"id": "https://status.example.org/lists/revocation#4242", "type": "StatusList2021Entry",
               "statusPurpose": "revocation", "statusListIndex": index,
               "statusListCredential": "https://status.example.org/lists/revocation"})
    };
    let mut credential = vc(json!({
        "@context": [VC1, OB303, STATUS_LIST_2021, DI2],
        "issuer": {"id": did, "type": ["Profile"], "name": "DCC test issuer"},
        "validFrom": null,
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialStatus": entry(json!("4242")),
        "proof": proof
    }));
    let mut docs = vec![
        ("StatusList2021Credential".to_string(), list.clone()),
        (
            "OB 3.0 with a StatusList2021Entry".to_string(),
            credential.clone(),
        ),
    ];
    // The DCC status service writes the index as a number.
    credential["credentialStatus"] = entry(json!(4242));
    docs.push(("numeric statusListIndex".into(), credential.clone()));
    // VC 2.0 with the StatusList2021 context after it.
    let mut v2 = vc(json!({"@context": [VC2, OB303, STATUS_LIST_2021]}));
    v2["credentialStatus"] = entry(json!("4242"));
    docs.push(("VC 2.0 with a StatusList2021Entry".into(), v2));
    for (name, doc) in [("list", &list), ("credential", &credential)] {
        let proof = crate::proof::data_integrity::proofs(doc)[0].clone();
        docs.push((
            format!("{name} proof configuration"),
            proof_configuration(&proof, doc),
        ));
    }
    docs
}

#[test]
fn status_list_2021_documents_take_the_fast_path() {
    for (name, doc) in status_list_2021_documents() {
        assert_fast(&name, &doc);
    }
    // Without the context, the StatusList2021 terms are undefined, on both paths.
    let (_, mut list) = status_list_2021_documents().swap_remove(0);
    list["@context"] = json!([VC1, DI2]);
    assert_refused("list without its context", &list, undefined);
    // An entry term the context does not define for StatusList2021Entry.
    let (_, mut credential) = status_list_2021_documents().swap_remove(1);
    credential["credentialStatus"]["statusSize"] = json!(1);
    assert_refused("undefined entry term", &credential, undefined);
}

// ---------------------------------------------------------------------------------------------------------------
// Strictness: whatever the slow path refuses, the fast path does not answer.

fn vc(extra: Value) -> Value {
    let mut doc = json!({
        "@context": [VC2, OB303],
        "id": "urn:uuid:0b7b2a1e-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://example.com/issuer", "type": "Profile", "name": "I"},
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:1", "type": "AchievementSubject",
                              "achievement": {"id": "https://example.com/a", "type": "Achievement", "name": "A",
                                              "criteria": {"narrative": "n"}}}
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            doc.as_object_mut().unwrap().remove(k);
        } else {
            doc[k] = v.clone();
        }
    }
    doc
}

/// The slow path refuses `doc` (with an error of the expected kind) and the fast path does not answer.
fn assert_refused(name: &str, doc: &Value, kind: fn(&CanonError) -> bool) {
    assert_eq!(differential(name, doc), Outcome::SlowErr, "{name}");
    let err = canonicalize(doc).unwrap_err();
    assert!(kind(&err), "{name}: unexpected error {err:?}");
    assert!(!fast_path_handles(doc), "{name}");
}

fn undefined(e: &CanonError) -> bool {
    matches!(e, CanonError::UndefinedTerm(_))
}
fn invalid(e: &CanonError) -> bool {
    matches!(e, CanonError::Invalid(_))
}
fn any(_: &CanonError) -> bool {
    true
}

#[test]
fn the_base_of_the_strictness_tests_takes_the_fast_path() {
    assert_fast("vc", &vc(json!({})));
}

#[test]
fn undefined_terms_are_refused_everywhere() {
    assert_refused("top", &vc(json!({"foo": 1})), undefined);
    assert_refused("top, null value", &vc(json!({"foo": []})), undefined);
    let mut doc = vc(json!({}));
    doc["credentialSubject"]["foo"] = json!("x");
    assert_refused("subject", &doc, undefined);
    let mut doc = vc(json!({}));
    doc["credentialSubject"]["achievement"]["criteria"]["foo"] = json!({"id": "https://e/x"});
    assert_refused("criteria", &doc, undefined);
    // A term of a type-scoped context used outside that type.
    let mut doc = vc(json!({}));
    doc["credentialSubject"]["achievement"]["identityHash"] = json!("x");
    assert_refused("identityHash outside IdentityObject", &doc, undefined);
    // A term of the VerifiableCredential scope in a nested node (type-scoped contexts do not propagate).
    let mut doc = vc(json!({}));
    doc["credentialSubject"]["validFrom"] = json!("2024-01-01T00:00:00Z");
    assert_refused("validFrom in the subject", &doc, undefined);
    // In a proof.
    let mut doc = vc(json!({}));
    doc["proof"] = json!({"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "madeUp": "x",
                          "proofPurpose": "assertionMethod", "verificationMethod": "did:example:1#k"});
    assert_refused("proof", &doc, undefined);
    // Case matters.
    assert_refused("case", &vc(json!({"Name": "x"})), undefined);
}

#[test]
fn terms_only_vocab_maps_are_refused() {
    let mut doc = vc(json!({"foo": "x"}));
    doc["@context"] = json!([VC2, OB303, {"@vocab": "https://example.org/vocab#"}]);
    assert_refused("vocab", &doc, undefined);
    let mut doc = vc(json!({}));
    doc["@context"] = json!([VC2, OB303, {"@vocab": "https://example.org/vocab#"}]);
    doc["type"] = json!(["VerifiableCredential", "Unheard"]);
    assert_refused("vocab type", &doc, undefined);
    // Even defined terms: the crate expands every key against the context the node starts with (before its
    // type-scoped contexts apply), and under the strict policy a key only `@vocab` maps there is an error.
    let mut doc = vc(json!({}));
    doc["@context"] = json!([VC2, OB303, {"@vocab": "https://example.org/vocab#"}]);
    assert_refused("vocab, defined terms only", &doc, undefined);
    // Where every key is defined from the start, a `@vocab` changes nothing.
    let doc = json!({"@context": [VC2, {"@vocab": "https://example.org/vocab#"}],
                     "id": "https://example.org/x", "type": "VerifiableCredential",
                     "name": "n", "description": "d"});
    assert_fast("vocab, top-level terms only", &doc);
}

#[test]
fn undefined_types_are_refused() {
    assert_refused(
        "type",
        &vc(json!({"type": ["VerifiableCredential", "MadeUp"]})),
        undefined,
    );
    let mut doc = vc(json!({}));
    doc["credentialSubject"]["achievement"]["type"] = json!(["Achievment"]);
    assert_refused("nested type", &doc, undefined);
    assert_refused(
        "relative type",
        &vc(json!({"type": ["VerifiableCredential", "a/b"]})),
        undefined,
    );
    assert_refused(
        "number type",
        &vc(json!({"type": ["VerifiableCredential", 5]})),
        any,
    );
    assert_refused("object type", &vc(json!({"type": {"id": "x"}})), any);
}

#[test]
fn relative_and_invalid_iris_are_refused() {
    for (name, extra) in [
        ("relative id", json!({"id": "credentials/1"})),
        ("fragment id", json!({"id": "#c"})),
        ("relative issuer", json!({"issuer": "issuers/1"})),
        ("network-path issuer", json!({"issuer": "//example.org/i"})),
        ("invalid issuer", json!({"issuer": "http://exa mple.org/i"})),
        ("invalid id", json!({"id": "https://example.org/<x>"})),
        ("empty id", json!({"id": ""})),
        ("bare blank", json!({"id": "_:"})),
    ] {
        assert_refused(name, &vc(extra), invalid);
    }
    let mut doc = vc(json!({}));
    doc["credentialSubject"]["achievement"]["image"] = json!("img.png");
    assert_refused("relative image", &doc, invalid);
    let mut doc = vc(json!({}));
    doc["credentialStatus"] = json!({"id": "https://e/s#1", "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation", "statusListIndex": "1", "statusListCredential": "status/1"});
    assert_refused("relative status list", &doc, invalid);
    let mut doc = vc(json!({}));
    doc["proof"] = json!({"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod", "verificationMethod": "keys/1"});
    assert_refused("relative verification method", &doc, invalid);
}

#[test]
fn keywords_and_odd_values_go_to_the_slow_path() {
    // Each of these is either refused by the slow path or handled by it alone; never a fast answer that differs.
    let cases = [
        json!({"name": {"@value": "x", "@language": "not a tag"}}),
        json!({"name": {"@value": "x", "@language": "en"}}),
        json!({"name": {"@value": "x", "@direction": "rtl"}}),
        json!({"name": {"@value": 5, "@type": "http://www.w3.org/2001/XMLSchema#double"}}),
        json!({"name": {"@list": ["a"]}}),
        json!({"name": {"@set": ["a"]}}),
        json!({"@graph": [{"id": "https://e/x"}]}),
        json!({"@included": [{"id": "https://e/x", "type": "Profile"}]}),
        json!({"@reverse": {"https://e/r": {"id": "https://e/x"}}}),
        json!({"@foo": "dropped"}),
        json!({"@index": "i"}),
        json!({"@index": 5}),
        json!({"@language": "fr"}),
        json!({"_:b": "x"}),
        json!({"id": "@foo"}),
        json!({"id": 5}),
        json!({"issuer": "@id"}),
        json!({"issuer": "_:b1"}),
        json!({"type": ["VerifiableCredential", "_:t"]}),
        json!({"https://example.org/p": {"@value": null}}),
        json!({"validFrom": {"@value": "2024", "@type": "xsd:dateTime"}}),
    ];
    for (i, extra) in cases.into_iter().enumerate() {
        differential(&format!("case {i}: {extra}"), &vc(extra));
    }
}

#[test]
fn unknown_contexts_keep_their_error() {
    let mut doc = vc(json!({}));
    doc["@context"] = json!([VC2, "https://example.org/ctx.json"]);
    assert_refused(
        "unknown top",
        &doc,
        |e| matches!(e, CanonError::UnknownContext(u) if u == "https://example.org/ctx.json"),
    );
    let mut doc = vc(json!({}));
    doc["credentialSubject"]["@context"] = json!("https://example.org/nested.json");
    assert_refused(
        "unknown nested",
        &doc,
        |e| matches!(e, CanonError::UnknownContext(u) if u == "https://example.org/nested.json"),
    );
    let mut doc = vc(json!({}));
    doc["@context"] = json!([VC2, OB303, {"@import": "https://example.org/i.json"}]);
    assert_refused("unknown import", &doc, |e| {
        matches!(e, CanonError::UnknownContext(_))
    });
    let mut doc = vc(json!({}));
    doc["@context"] = json!([VC2, OB303, {"name": "https://example.org/name"}]);
    assert_refused("protected redefinition", &doc, invalid);
}

#[test]
fn too_complex_documents_keep_their_error() {
    let items: Vec<Value> = (0..super::MAX_JSON_VALUES).map(|i| json!(i)).collect();
    let mut doc = vc(json!({"n": items}));
    doc["@context"] = json!([VC2, OB303, {"n": "https://example.org/n"}]);
    assert_refused("values", &doc, |e| matches!(e, CanonError::TooComplex(_)));
    let mut inner = json!({"id": "did:example:1"});
    for _ in 0..100 {
        inner = json!({"id": "did:example:1", "next": inner});
    }
    let mut doc = vc(json!({"next": inner}));
    doc["@context"] = json!([VC2, OB303, {"next": "https://example.org/next"}]);
    assert_refused("depth", &doc, |e| matches!(e, CanonError::TooComplex(_)));
}

#[test]
fn the_deepest_accepted_document_takes_the_fast_path_on_a_small_stack() {
    let mut inner = json!({"id": "did:example:1"});
    for _ in 0..super::MAX_JSON_DEPTH - 2 {
        inner = json!({"id": "did:example:1", "next": inner});
    }
    let mut doc = vc(json!({"next": inner}));
    doc["@context"] = json!([VC2, OB303, {"next": "https://example.org/next"}]);
    let fast = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn({
            let doc = doc.clone();
            move || fast_retrying(&doc)
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(fast.is_some(), "{:?}", fast::explain(&doc));
    assert_eq!(fast.unwrap(), canonicalize_slow(&doc).unwrap());
}

// ---------------------------------------------------------------------------------------------------------------
// Literals

/// A deterministic xorshift generator (tests must be reproducible).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn numbers(rng: &mut Rng, n: usize) -> Vec<Value> {
    let mut out: Vec<Value> = [
        json!(0),
        json!(-0.0),
        json!(0.0),
        json!(1.0),
        json!(-1),
        json!(5.1),
        json!(0.1),
        json!(100.0),
        json!(1e21),
        json!(1e22),
        json!(1.5e-7),
        json!(123456789.125),
        json!(9007199254740992u64),
        json!(9007199254740993u64),
        json!(9223372036854775807i64),
        json!(-9223372036854775808i64),
        json!(18446744073709551615u64),
        json!(f64::MAX),
        json!(f64::MIN_POSITIVE),
        json!(5e-324),
        json!(2.5e-308),
        json!(1.7976931348623157e308),
        json!(4.35),
        json!(0.3),
        json!(2.0f64.powi(63)),
        json!(1e20),
        json!(123e18),
    ]
    .into();
    while out.len() < n {
        let v = match rng.below(4) {
            0 => f64::from_bits(rng.next()),
            1 => (rng.next() % 2_000_000) as f64 / 1000.0 - 1000.0,
            2 => (rng.next() as i64 >> rng.below(60)) as f64,
            _ => json!(rng.next() as i64 >> rng.below(64))
                .as_f64()
                .unwrap()
                .trunc(),
        };
        if let Some(number) = serde_json::Number::from_f64(v) {
            out.push(Value::Number(number));
        }
        if rng.below(3) == 0 {
            out.push(json!(rng.next() as i64 >> rng.below(64)));
        }
    }
    out
}

#[test]
fn numbers_booleans_and_coercions_match_the_slow_path() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let context = json!([VC2, OB303, {
        "n": "https://example.org/n",
        "d": {"@id": "https://example.org/d", "@type": "http://www.w3.org/2001/XMLSchema#double"},
        "f": {"@id": "https://example.org/f", "@type": "http://www.w3.org/2001/XMLSchema#float"},
        "i": {"@id": "https://example.org/i", "@type": "@id"},
        "l": {"@id": "https://example.org/l", "@container": "@list"},
        "g": {"@id": "https://example.org/g", "@container": "@graph"},
        "b": {"@id": "https://example.org/b", "@type": "http://www.w3.org/2001/XMLSchema#boolean"},
        "s": {"@id": "https://example.org/s", "@type": "http://www.w3.org/2001/XMLSchema#string"}
    }]);
    for round in 0..6 {
        let values = numbers(&mut rng, 200);
        let mut doc = vc(json!({}));
        doc["@context"] = context.clone();
        doc["n"] = json!(values);
        doc["d"] = json!(values);
        doc["f"] = json!(values);
        doc["i"] = json!(values);
        doc["l"] = json!(values);
        doc["b"] = json!([true, false, 0, 1, "true", "yes"]);
        doc["s"] = json!([true, 1, 1.5, "x"]);
        // Inside a named graph numbers are not put in canonical form first.
        doc["g"] = json!({"n": values, "d": values, "l": values});
        assert_fast(&format!("numbers round {round}"), &doc);
    }
}

#[test]
fn xsd_double_lexical_forms() {
    use super::fast::literal_xsd_double as d;
    assert_eq!(d(5.1).unwrap(), "5.1E0");
    assert_eq!(d(100.0).unwrap(), "1.0E2");
    assert_eq!(d(0.0).unwrap(), "0.0E0");
    assert_eq!(d(-0.0).unwrap(), "-0.0E0");
    assert_eq!(d(1e21).unwrap(), "1.0E21");
    assert_eq!(d(1.5e-7).unwrap(), "1.5E-7");
    assert_eq!(d(-123.456).unwrap(), "-1.23456E2");
    assert!(d(f64::NAN).is_none() && d(f64::INFINITY).is_none());
    // exactly halfway between two 17-digit decimals: left to the slow path
    assert!(d(1902259491222736.2).is_none());
    assert_eq!(d(1902259491222736.0).unwrap(), "1.902259491222736E15");
}

#[test]
fn json_literals_match_the_slow_path() {
    let context = json!([VC2, OB303, {
        "j": {"@id": "https://example.org/j", "@type": "@json"},
        "g": {"@id": "https://example.org/g", "@container": "@graph"}
    }]);
    let values = json!([
        {"b": 1, "a": [1.0, 2.50, 1e21, -0.0, "é\u{1}\"\\\n"], "c": {"z": null, "y": true}},
        [3, 2, 1],
        "a string",
        5.0,
        null,
        true,
        {}
    ]);
    for (i, v) in values.as_array().unwrap().iter().enumerate() {
        let mut doc = vc(json!({}));
        doc["@context"] = context.clone();
        doc["j"] = v.clone();
        assert_fast(&format!("json {i}"), &doc);
        // And inside a named graph (no canonical form first).
        let mut doc = vc(json!({}));
        doc["@context"] = context.clone();
        doc["g"] = json!({"j": v});
        assert_fast(&format!("json in graph {i}"), &doc);
    }
    // The VCDM 2.0 `@json` terms.
    let mut doc = vc(json!({}));
    doc["credentialSchema"] = json!({"id": "https://example.org/schema", "type": "JsonSchema",
        "jsonSchema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "n": 1.50}});
    assert_fast("jsonSchema", &doc);
}

// ---------------------------------------------------------------------------------------------------------------
// Systematic mutations of real documents

/// A position in a JSON document.
#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

fn at<'v>(v: &'v mut Value, path: &[Seg]) -> &'v mut Value {
    path.iter().fold(v, |v, seg| match seg {
        Seg::Key(k) => &mut v[k.as_str()],
        Seg::Index(i) => &mut v[*i],
    })
}

/// Every object and array position of `v` (not inside `@context` values).
fn positions(v: &Value) -> Vec<Vec<Seg>> {
    fn walk(v: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
        match v {
            Value::Object(map) => {
                out.push(path.clone());
                for (k, x) in map {
                    if k != "@context" {
                        path.push(Seg::Key(k.clone()));
                        walk(x, path, out);
                        path.pop();
                    }
                }
            }
            Value::Array(items) => {
                out.push(path.clone());
                for (i, x) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    walk(x, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// Values that are valid, invalid, or handled by the slow path only, in every position.
fn value_pool() -> Vec<Value> {
    vec![
        json!(null),
        json!([]),
        json!([[]]),
        json!(true),
        json!(false),
        json!(0),
        json!(-7),
        json!(9007199254740993u64),
        json!(18446744073709551615u64),
        json!(1.0),
        json!(5.1),
        json!(-0.0),
        json!(1e21),
        json!(""),
        json!("plain text"),
        json!("Ünïcödé 😀 \"q\" \\ \n\t\u{7f}"),
        json!("relative/iri"),
        json!("#fragment"),
        json!("http://exa mple.org/"),
        json!("https://example.org/ok"),
        json!("urn:uuid:00000000-0000-4000-8000-000000000000"),
        json!("did:example:abc"),
        json!("_:b0"),
        json!("_:"),
        json!("@id"),
        json!("@foo"),
        json!("xsd:string"),
        json!("ex:thing"),
        json!("Profile"),
        json!("assertionMethod"),
        json!({"@value": "x"}),
        json!({"@value": "x", "@language": "en"}),
        json!({"@value": "x", "@language": "not a tag"}),
        json!({"@value": 1, "@type": "http://www.w3.org/2001/XMLSchema#double"}),
        json!({"@list": ["a", 1]}),
        json!({"@set": ["a"]}),
        json!({}),
        json!({"id": "https://example.org/n1"}),
        json!({"id": "relative"}),
        json!({"id": "_:b0", "name": "blank"}),
        json!({"type": "Profile", "name": "P"}),
        json!({"type": "MadeUp"}),
        json!({"type": "https://example.org/T"}),
        json!({"type": ["Image", "Profile"], "id": "https://example.org/ip", "caption": "c", "email": "e"}),
        json!({"type": "IdentityObject", "hashed": "true", "identityHash": 5}),
        json!({"type": "ResultDescription", "allowedValue": "one"}),
        json!({"type": "ResultDescription", "allowedValue": [["a", "b"], [], null, {"id": "https://e/x"}]}),
        json!({"type": "ResultDescription", "allowedValue": null}),
        json!({"type": "DataIntegrityProof", "proofPurpose": "authentication", "created": 5}),
        json!({"@context": {"foo": "https://example.org/foo"}, "foo": 1}),
        json!({"@context": "https://www.w3.org/ns/credentials/v2", "name": "n"}),
        json!({"@context": "https://example.org/unknown", "name": "n"}),
        json!({"@reverse": {"https://example.org/r": {"id": "https://e/x"}}}),
        json!({"@graph": [{"id": "https://e/g"}]}),
        json!({"@index": "i", "id": "https://e/i"}),
        json!({"@language": "en"}),
        json!({"@direction": "rtl", "name": "x"}),
        json!(["a", ["b", ["c"]]]),
        json!([null, 1, "x"]),
        json!([{"type": "Image", "id": "https://e/img"}, {"type": "Image", "id": "https://e/img"}]),
    ]
}

/// Inline contexts (each with a key using what it defines).
fn context_pool() -> Vec<(Value, Option<(&'static str, Value)>)> {
    vec![
        (
            json!({"foo": "https://example.org/foo"}),
            Some(("foo", json!("x"))),
        ),
        (
            json!({"@vocab": "https://example.org/vocab#"}),
            Some(("undefinedHere", json!(1))),
        ),
        (json!({"@language": "fr"}), None),
        (json!({"@direction": "rtl"}), None),
        (
            json!({"@base": "https://example.org/base/"}),
            Some(("foo2", json!("x"))),
        ),
        (
            json!({"@propagate": false, "p": "https://example.org/p"}),
            Some(("p", json!({"p": 1}))),
        ),
        (
            json!({"@version": 1.1, "v": "https://example.org/v"}),
            Some(("v", json!(2))),
        ),
        (
            json!({"j": {"@id": "https://example.org/j", "@type": "@json"}}),
            Some(("j", json!({"b": [2, 1.50], "a": null}))),
        ),
        (
            json!({"l": {"@id": "https://example.org/l", "@container": "@list"}}),
            Some(("l", json!([1, [2, 3], {"id": "https://e/li"}]))),
        ),
        (
            json!({"g": {"@id": "https://example.org/g", "@container": "@graph"}}),
            Some(("g", json!([{"name": "in a graph"}, "https://e/x"]))),
        ),
        (
            json!({"r": {"@reverse": "https://example.org/r"}}),
            Some(("r", json!({"id": "https://e/x"}))),
        ),
        (
            json!({"lm": {"@id": "https://example.org/lm", "@container": "@language"}}),
            Some(("lm", json!({"fr": "bonjour", "en": ["hello"]}))),
        ),
        (
            json!({"im": {"@id": "https://example.org/im", "@container": "@index"}}),
            Some(("im", json!({"a": {"id": "https://e/a"}}))),
        ),
        (
            json!({"n": "@nest"}),
            Some(("n", json!({"name": "nested"}))),
        ),
        (
            json!({"ex": "https://example.org/ex#"}),
            Some(("ex:thing", json!("y"))),
        ),
        (
            json!({"ex": {"@id": "https://example.org/ex", "@prefix": true}}),
            Some(("ex:other", json!("z"))),
        ),
        (json!({"name": "https://example.org/name"}), None),
        (
            json!({"@protected": true, "x": "https://example.org/x"}),
            Some(("x", json!("x"))),
        ),
        (
            json!({"@import": "https://www.w3.org/ns/credentials/v2", "y": "https://example.org/y"}),
            Some(("y", json!(1))),
        ),
        (json!({"foo": null}), Some(("foo", json!("dropped?")))),
        (json!({"id": null}), None),
        (
            json!({"d": {"@id": "https://example.org/d", "@type": "http://www.w3.org/2001/XMLSchema#double"}}),
            Some(("d", json!([1, 2.5, "3"]))),
        ),
        (
            json!({"vv": {"@id": "https://example.org/vv", "@type": "@vocab"}}),
            Some(("vv", json!(["Profile", "https://e/v", "nope"]))),
        ),
        (
            json!({"i": {"@id": "https://example.org/i", "@type": "@id"}}),
            Some(("i", json!(["https://e/i", "_:b7", 3]))),
        ),
        (
            json!({"s": {"@id": "https://example.org/s", "@context": {"t": "https://example.org/t"}}}),
            Some(("s", json!({"t": "scoped"}))),
        ),
        (
            json!({"T": {"@id": "https://example.org/T", "@context": {"u": "https://example.org/u"}}}),
            Some(("type", json!(["T"]))),
        ),
        (json!(null), None),
        (json!("https://www.w3.org/ns/credentials/v2"), None),
        (json!(["https://www.w3.org/ns/credentials/v2", OB303]), None),
        (json!("https://w3id.org/security/data-integrity/v2"), None),
        (json!(5), None),
    ]
}

/// Applies mutation number `m` (out of `mutation_count`) at `path` of `doc`.
fn mutate(doc: &Value, path: &[Seg], m: usize, rng: &mut Rng) -> Option<(String, Value)> {
    let mut out = doc.clone();
    let target = at(&mut out, path);
    let values = value_pool();
    let contexts = context_pool();
    let label;
    match target {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().filter(|k| *k != "@context").cloned().collect();
            match m % 6 {
                // Remove a key.
                0 if !keys.is_empty() => {
                    let k = &keys[rng.below(keys.len())];
                    map.shift_remove(k);
                    label = format!("remove {k}");
                }
                // Rename a key.
                1 if !keys.is_empty() => {
                    let k = keys[rng.below(keys.len())].clone();
                    let renames = [
                        "undefinedTerm".to_string(),
                        k.to_uppercase(),
                        format!("{k}s"),
                        "https://example.org/vocab#p".to_string(),
                        "ex:p".to_string(),
                        "_:p".to_string(),
                        "@foo".to_string(),
                        "@index".to_string(),
                        "@language".to_string(),
                        "@id".to_string(),
                        "@type".to_string(),
                        "id".to_string(),
                        "type".to_string(),
                        String::new(),
                    ];
                    let new = renames[rng.below(renames.len())].clone();
                    let v = map.shift_remove(&k).unwrap_or(Value::Null);
                    map.insert(new.clone(), v);
                    label = format!("rename {k} to {new:?}");
                }
                // Replace a value.
                2 | 3 if !keys.is_empty() => {
                    let k = &keys[rng.below(keys.len())];
                    let v = values[rng.below(values.len())].clone();
                    label = format!("{k} = {v}");
                    map.insert(k.clone(), v);
                }
                // Add an inline context (and a use of it).
                4 => {
                    let (ctx, usage) = contexts[rng.below(contexts.len())].clone();
                    let new_ctx = match map.get("@context") {
                        Some(Value::Array(items)) if rng.below(2) == 0 => {
                            let mut items = items.clone();
                            items.push(ctx.clone());
                            Value::Array(items)
                        }
                        _ => ctx.clone(),
                    };
                    map.insert("@context".into(), new_ctx);
                    if let Some((k, v)) = &usage {
                        map.insert((*k).into(), v.clone());
                    }
                    label = format!("@context {ctx} using {usage:?}");
                }
                // Change the types.
                _ => {
                    let types = [
                        json!("Achievement"),
                        json!(["Profile"]),
                        json!(["Image", "Evidence"]),
                        json!(["Result", "ResultDescription", "Alignment"]),
                        json!("MadeUp"),
                        json!(["https://example.org/T", "IdentityObject"]),
                        json!([]),
                        json!(["VerifiableCredential", "VerifiablePresentation"]),
                        json!("DataIntegrityProof"),
                        json!("xsd:string"),
                        json!(5),
                    ];
                    let t = types[rng.below(types.len())].clone();
                    label = format!("type = {t}");
                    map.insert("type".into(), t);
                }
            }
        }
        Value::Array(items) => match m % 3 {
            0 if !items.is_empty() => {
                let first = items[0].clone();
                items.push(first);
                label = "duplicate an item".into();
            }
            1 => {
                let v = values[rng.below(values.len())].clone();
                label = format!("push {v}");
                items.push(v);
            }
            _ => {
                let inner = std::mem::take(items);
                items.push(Value::Array(inner));
                label = "nest the array".into();
            }
        },
        _ => return None,
    }
    Some((label, out))
}

/// Mutates `doc` `count` times (deterministically), one or two mutations at a time; returns the outcome counts.
fn mutation_round(name: &str, doc: &Value, count: usize, seed: u64) -> [usize; 3] {
    let mut rng = Rng(seed);
    let mut counts = [0; 3];
    for i in 0..count {
        let mut current = doc.clone();
        let mut labels = Vec::new();
        for _ in 0..1 + rng.below(2) {
            let spots = positions(&current);
            let path = &spots[rng.below(spots.len())];
            if let Some((label, mutated)) = mutate(&current, path, rng.below(60), &mut rng) {
                labels.push(format!("{path:?}: {label}"));
                current = mutated;
            }
        }
        let outcome = differential(&format!("{name} mutation {i} {labels:?}"), &current);
        counts[outcome as usize] += 1;
    }
    counts
}

#[test]
fn mutated_carnet_credential() {
    let (_, cred) = carnet_credentials().pop().expect("a credential");
    let counts = mutation_round("carnet", &cred, 300, 0x1234_5678_9abc_def1);
    eprintln!("carnet mutations: {counts:?} (fast, slow ok, slow error)");
    assert!(counts[0] > 50 && counts[2] > 30, "{counts:?}");
}

#[test]
fn mutated_signed_carnet_credential() {
    let (_, signed) = carnet_signed()
        .into_iter()
        .find(|(n, _)| n.ends_with("signed"))
        .expect("a signed credential");
    let counts = mutation_round("carnet signed", &signed, 250, 0x0f0e_0d0c_0b0a_0908);
    eprintln!("signed carnet mutations: {counts:?} (fast, slow ok, slow error)");
    assert!(counts[0] > 50 && counts[2] > 30, "{counts:?}");
}

#[test]
fn mutated_rich_credential() {
    let counts = mutation_round("rich", &rich(), 400, 0xdead_beef_cafe_f00d);
    eprintln!("rich mutations: {counts:?} (fast, slow ok, slow error)");
    assert!(counts[0] > 80 && counts[2] > 50, "{counts:?}");
}

#[test]
fn mutated_shared_samples() {
    let Some(dir) = shared_data() else {
        return;
    };
    let mut total = [0; 3];
    for (i, rel) in [
        "ob3/1edtech-validator-tests/complete.json",
        "ob3/1edtech-spec-test-vector/signed-credential.json",
        "ob3/1edtech-validator-tests/simple-multiple-proofs.json",
    ]
    .iter()
    .enumerate()
    {
        let Ok(text) = std::fs::read_to_string(dir.join(rel)) else {
            continue;
        };
        let doc: Value = serde_json::from_str(&text).expect("json");
        let counts = mutation_round(rel, &doc, 120, 0x5eed + i as u64);
        for (t, c) in total.iter_mut().zip(counts) {
            *t += c;
        }
    }
    eprintln!("shared sample mutations: {total:?} (fast, slow ok, slow error)");
}

#[test]
fn every_key_removed_or_undefined() {
    // Exhaustive over the keys of carnet's full credential: removing any key, or renaming it to an undefined term.
    let (_, cred) = carnet_credentials().pop().expect("a credential");
    let mut counts = [0; 3];
    for path in positions(&cred) {
        let Value::Object(map) = at(&mut cred.clone(), &path).clone() else {
            continue;
        };
        for key in map.keys().filter(|k| *k != "@context") {
            let mut removed = cred.clone();
            at(&mut removed, &path)
                .as_object_mut()
                .unwrap()
                .shift_remove(key);
            counts[differential(&format!("{path:?} remove {key}"), &removed) as usize] += 1;
            let mut renamed = cred.clone();
            let obj = at(&mut renamed, &path).as_object_mut().unwrap();
            let v = obj.shift_remove(key).unwrap();
            obj.insert(format!("{key}Undefined"), v);
            assert_eq!(
                differential(&format!("{path:?} rename {key}"), &renamed),
                Outcome::SlowErr,
                "{path:?} {key}"
            );
        }
    }
    eprintln!("key removals: {counts:?} (fast, slow ok, slow error)");
}

// ---------------------------------------------------------------------------------------------------------------
// Generated credentials (proptest): valid OB 3.0 credentials built from the shape of the data model (optional
// parts, arrays, nested profiles, proofs, numbers, unicode), then corrupted 0 to 2 times by the mutations above.

mod generated {
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    use super::{OB303, OBX, Outcome, Rng, VC2, differential, mutate, positions};

    const TEXT: &[&str] = &[
        "",
        "Atelier",
        "Léa \"M\" \\ \n\t",
        "😀 ünïcödé",
        "a\u{0}b\u{1f}c\u{7f}",
        "  spaces  ",
        "https://not.an/iri/here",
        "2024-01-01T00:00:00Z",
    ];
    const IRIS: &[&str] = &[
        "https://example.org/a",
        "https://example.org/a#b",
        "https://example.org/é?q=1#f",
        "urn:uuid:1",
        "did:example:1",
        "did:web:example.org:issuers:a#k",
        "http://example.org:8080/p/./q/../r",
        "mailto:a@example.org",
    ];

    fn text() -> impl Strategy<Value = Value> + Clone {
        prop_oneof![
            3 => prop::sample::select(TEXT).prop_map(Value::from),
            1 => "\\PC{0,12}".prop_map(Value::from),
        ]
    }

    fn iri() -> impl Strategy<Value = Value> + Clone {
        prop::sample::select(IRIS).prop_map(Value::from)
    }

    fn number() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1000i32..1000).prop_map(Value::from),
            // finite, and not exactly halfway between two 17-digit decimals (left to the slow
            // path: `xsd_double_lexical_forms`)
            any::<f64>().prop_filter_map("finite, no tie", |f| {
                super::super::fast::literal_xsd_double(f)?;
                serde_json::Number::from_f64(f).map(Value::Number)
            }),
            (0u32..100_000).prop_map(|n| json!(f64::from(n) / 100.0)),
        ]
    }

    /// An object from required and optional entries.
    fn object(
        required: Vec<(&'static str, Value)>,
        optional: Vec<(&'static str, Option<Value>)>,
    ) -> Value {
        let mut map = Map::new();
        for (k, v) in required {
            map.insert(k.into(), v);
        }
        for (k, v) in optional {
            if let Some(v) = v {
                map.insert(k.into(), v);
            }
        }
        Value::Object(map)
    }

    fn one_or_many<S: Strategy<Value = Value> + Clone>(s: S) -> impl Strategy<Value = Value> {
        prop_oneof![
            s.clone(),
            prop::collection::vec(s, 0..3).prop_map(Value::Array)
        ]
    }

    fn image() -> impl Strategy<Value = Value> {
        (iri(), prop::option::of(text())).prop_map(|(id, caption)| {
            object(
                vec![("id", id), ("type", json!("Image"))],
                vec![("caption", caption)],
            )
        })
    }

    fn profile() -> impl Strategy<Value = Value> {
        let leaf = (
            iri(),
            text(),
            prop::option::of(iri()),
            prop::option::of(text()),
            prop::option::of(image()),
        )
            .prop_map(|(id, name, url, email, image)| {
                object(
                    vec![("id", id), ("type", json!(["Profile"])), ("name", name)],
                    vec![("url", url), ("email", email), ("image", image)],
                )
            });
        leaf.prop_recursive(2, 4, 1, |inner| {
            (iri(), text(), prop::option::of(inner)).prop_map(|(id, name, parent)| {
                object(
                    vec![("id", id), ("type", json!("Profile")), ("name", name)],
                    vec![("parentOrg", parent)],
                )
            })
        })
    }

    fn identity() -> impl Strategy<Value = Value> {
        (text(), any::<bool>(), prop::option::of(text())).prop_map(|(hash, hashed, salt)| {
            object(
                vec![
                    ("type", json!("IdentityObject")),
                    ("identityHash", hash),
                    ("identityType", json!("emailAddress")),
                    ("hashed", json!(hashed)),
                ],
                vec![("salt", salt)],
            )
        })
    }

    fn alignment() -> impl Strategy<Value = Value> {
        (text(), iri(), prop::option::of(text())).prop_map(|(name, url, code)| {
            object(
                vec![
                    ("type", json!(["Alignment"])),
                    ("targetName", name),
                    ("targetUrl", url),
                ],
                vec![("targetCode", code)],
            )
        })
    }

    fn result_description() -> impl Strategy<Value = Value> {
        (
            iri(),
            text(),
            prop::option::of(prop::collection::vec(text(), 0..4).prop_map(Value::Array)),
        )
            .prop_map(|(id, name, allowed)| {
                object(
                    vec![
                        ("id", id),
                        ("type", json!(["ResultDescription"])),
                        ("name", name),
                        ("resultType", json!("LetterGrade")),
                    ],
                    vec![("allowedValue", allowed)],
                )
            })
    }

    fn achievement() -> impl Strategy<Value = Value> {
        (
            (iri(), text(), text(), prop::option::of(iri()), text()),
            (
                prop::option::of(image()),
                prop::option::of(prop::collection::vec(alignment(), 0..3).prop_map(Value::Array)),
                prop::option::of(one_or_many(text())),
                prop::option::of(number()),
                prop::option::of(
                    prop::collection::vec(result_description(), 1..3).prop_map(Value::Array),
                ),
                prop::option::of(profile()),
            ),
        )
            .prop_map(
                |(
                    (id, name, description, criteria_id, narrative),
                    (image, alignment, tag, credits, rd, creator),
                )| {
                    let criteria =
                        object(vec![("narrative", narrative)], vec![("id", criteria_id)]);
                    object(
                        vec![
                            ("id", id),
                            ("type", json!(["Achievement"])),
                            ("name", name),
                            ("description", description),
                            ("criteria", criteria),
                        ],
                        vec![
                            ("image", image),
                            ("alignment", alignment),
                            ("tag", tag),
                            ("creditsAvailable", credits),
                            ("resultDescription", rd),
                            ("creator", creator),
                        ],
                    )
                },
            )
    }

    fn subject() -> impl Strategy<Value = Value> {
        (
            prop::option::of(iri()),
            prop::collection::vec(identity(), 0..3),
            achievement(),
            prop::option::of(number()),
            prop::option::of(text()),
        )
            .prop_map(|(id, identifiers, achievement, credits, role)| {
                object(
                    vec![
                        ("type", json!(["AchievementSubject"])),
                        ("identifier", json!(identifiers)),
                        ("achievement", achievement),
                    ],
                    vec![("id", id), ("creditsEarned", credits), ("role", role)],
                )
            })
    }

    fn proof() -> impl Strategy<Value = Value> + Clone {
        (
            iri(),
            prop::sample::select(vec!["assertionMethod", "authentication"]),
            prop::option::of(text()),
        )
            .prop_map(|(vm, purpose, nonce)| {
                object(
                    vec![
                        ("type", json!("DataIntegrityProof")),
                        ("cryptosuite", json!("eddsa-rdfc-2022")),
                        ("created", json!("2024-01-01T00:00:00Z")),
                        ("verificationMethod", vm),
                        ("proofPurpose", json!(purpose)),
                        ("proofValue", json!("z3FXQ")),
                    ],
                    vec![("nonce", nonce)],
                )
            })
    }

    fn credential() -> impl Strategy<Value = Value> {
        (
            (
                prop::sample::select(vec![json!([VC2, OB303]), json!([VC2, OB303, OBX])]),
                prop::option::of(iri()),
                prop_oneof![profile(), iri()],
                subject(),
                text(),
            ),
            (
                prop::option::of(
                    prop::collection::vec(
                        (prop::option::of(iri()), text()).prop_map(|(id, name)| {
                            object(
                                vec![("type", json!(["Evidence"])), ("name", name)],
                                vec![("id", id)],
                            )
                        }),
                        0..3,
                    )
                    .prop_map(Value::Array),
                ),
                prop::option::of(one_or_many(proof())),
                prop::option::of(image()),
            ),
        )
            .prop_map(
                |((context, id, issuer, subject, name), (evidence, proof, image))| {
                    object(
                        vec![
                            ("@context", context),
                            (
                                "type",
                                json!(["VerifiableCredential", "OpenBadgeCredential"]),
                            ),
                            ("name", name),
                            ("issuer", issuer),
                            ("validFrom", json!("2024-01-01T00:00:00Z")),
                            ("credentialSubject", subject),
                        ],
                        vec![
                            ("id", id),
                            ("evidence", evidence),
                            ("proof", proof),
                            ("image", image),
                        ],
                    )
                },
            )
    }

    /// A credential and 0 to 2 corruptions of it.
    fn corrupted() -> impl Strategy<Value = Value> {
        (credential(), 0usize..3, any::<u64>()).prop_map(|(doc, n, seed)| {
            let mut rng = Rng(seed | 1);
            let mut doc = doc;
            for _ in 0..n {
                let spots = positions(&doc);
                let path = spots[rng.below(spots.len())].clone();
                if let Some((_, mutated)) = mutate(&doc, &path, rng.below(60), &mut rng) {
                    doc = mutated;
                }
            }
            doc
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn generated_credentials_take_the_fast_path(doc in credential()) {
            prop_assert_eq!(differential(&doc.to_string(), &doc), Outcome::Fast);
        }

        #[test]
        fn corrupted_credentials_agree(doc in corrupted()) {
            // `differential` panics on any disagreement; every outcome is otherwise acceptable.
            let outcome = differential(&doc.to_string(), &doc);
            prop_assert!(matches!(outcome, Outcome::Fast | Outcome::SlowOk | Outcome::SlowErr));
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The compiled-context registry: concurrent use, and starting afresh when full.

#[test]
fn concurrent_documents_agree() {
    let docs: Vec<(String, Value)> = carnet_documents()
        .into_iter()
        .chain([("rich".to_string(), rich())])
        .collect();
    let expected: Vec<String> = docs
        .iter()
        .map(|(_, d)| canonicalize_slow(d).expect("slow"))
        .collect();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (docs, expected) = (&docs, &expected);
            scope.spawn(move || {
                for round in 0..3 {
                    for (i, (name, doc)) in docs.iter().enumerate().skip((t + round) % 3) {
                        let fast = fast_retrying(doc).unwrap_or_else(|| panic!("{name}"));
                        assert_eq!(fast, expected[i], "{name}");
                    }
                }
            });
        }
    });
}

#[test]
fn a_full_registry_starts_afresh_without_changing_results() {
    // Distinct inline contexts, each compiled once: enough to fill the registry at least once.
    let base = vc(json!({}));
    let expected = canonicalize_slow(&base).unwrap();
    let (generation, _) = fast::registry_stats();
    for i in 0..super::fast::MAX_COMPILED_FOR_TESTS + 40 {
        let mut doc = base.clone();
        doc["@context"] =
            json!([VC2, OB303, {format!("t{i}"): format!("https://example.org/t{i}")}]);
        // The extra term is unused: the result is the base one. (Another test may fill the registry meanwhile:
        // then this document is not handled, and the next one is.)
        if let Some(fast) = fast::canonicalize(&doc) {
            assert_eq!(fast, expected, "{i}");
        }
    }
    let (now, compiled) = fast::registry_stats();
    assert!(now > generation, "the registry never started afresh");
    assert!(compiled <= super::fast::MAX_COMPILED_FOR_TESTS);
    // Still answering, and right, afterwards.
    assert_fast("after", &base);
    assert_fast("rich after", &rich());
}

#[test]
fn symmetric_blank_nodes_canonicalize_alike() {
    // Identical anonymous nodes (automorphisms), where RDFC-1.0 needs its n-degree hashing and tie-breaks: the
    // blank node labels and quad order of the two paths differ, their canonical forms must not.
    let identity = json!({"type": "IdentityObject", "identityHash": "h", "identityType": "emailAddress",
                          "hashed": true});
    let proof = json!({"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                       "created": "2024-01-01T00:00:00Z", "verificationMethod": "did:example:1#k",
                       "proofPurpose": "assertionMethod", "proofValue": "z1"});
    let mut doc = vc(json!({}));
    doc["credentialSubject"]["identifier"] = json!(vec![identity.clone(); 6]);
    doc["proof"] = json!([proof.clone(), proof.clone(), proof]);
    doc["evidence"] = json!([{"type": "Evidence", "name": "e"}, {"type": "Evidence", "name": "e"},
                             {"type": "Evidence", "name": "e", "audience": "a"}]);
    assert_fast("symmetric", &doc);
    let mut doc = vc(json!({}));
    doc["@context"] = json!([VC2, OB303, {"l": {"@id": "https://example.org/l", "@container": "@list"},
                                          "p": "https://example.org/p"}]);
    doc["l"] = json!([[{"p": 1}, {"p": 1}], [{"p": 1}, {"p": 1}], [], [[]]]);
    doc["p"] = json!([{"l": [{"p": {"p": 2}}]}, {"l": [{"p": {"p": 2}}]}, {"id": "_:x", "p": {"id": "_:x"}}]);
    assert_fast("symmetric lists", &doc);
}

#[test]
fn value_objects_and_languages_take_the_fast_path() {
    let context = json!([VC2, OB303, {
        "p": "https://example.org/p",
        "en": {"@id": "https://example.org/en", "@language": "en"},
        "none": {"@id": "https://example.org/none", "@language": null},
        "rtl": {"@id": "https://example.org/rtl", "@direction": "rtl"},
        "l": {"@id": "https://example.org/l", "@container": "@list"},
        "g": {"@id": "https://example.org/g", "@container": "@graph"}
    }]);
    let values = [
        json!({"@value": "x", "@language": "en"}),
        json!({"@value": "x", "@language": "fr-CA", "@direction": "ltr"}),
        json!({"@value": "x", "@direction": "rtl"}),
        json!({"@value": "x", "@language": "@none"}),
        json!({"@value": "x", "@language": "EN-gb"}),
        json!({"@value": "x", "@index": "i"}),
        json!({"@value": 5, "@type": "http://www.w3.org/2001/XMLSchema#double"}),
        json!({"@value": "5", "@type": "xsd:string"}),
        json!({"@value": true, "@type": "https://example.org/bool"}),
        json!({"@value": 1.5}),
        json!({"@value": null}),
        json!({"@value": {"b": 1, "a": [1.0]}, "@type": "@json"}),
        json!({"@value": null, "@type": "@json"}),
        json!({"@value": "x", "type": "Achievement"}),
        json!([{"@value": "a", "@language": "en"}, {"@value": "a", "@language": "fr"}, "a"]),
    ];
    for (i, v) in values.iter().enumerate() {
        let mut doc = vc(json!({}));
        doc["@context"] = context.clone();
        doc["p"] = v.clone();
        doc["l"] = json!([v, v]);
        doc["g"] = json!({"p": v});
        doc["name"] = v.clone();
        assert_fast(&format!("value {i}: {v}"), &doc);
    }
    // Language mappings of terms and contexts.
    let mut doc = vc(json!({"en": "hello", "none": "plain", "rtl": "مرحبا", "p": "default"}));
    doc["@context"] = context.clone();
    assert_fast("term languages", &doc);
    let mut doc = vc(json!({"en": "hello", "none": "plain", "p": ["default", 5]}));
    let mut with_default = context.as_array().unwrap().clone();
    with_default.push(json!({"@language": "fr", "@direction": "ltr"}));
    doc["@context"] = json!(with_default);
    assert_fast("default language", &doc);
    // Malformed language tags are refused by the slow path.
    let mut doc = vc(json!({"p": {"@value": "x", "@language": "not a tag"}}));
    doc["@context"] = context.clone();
    assert_refused("malformed tag", &doc, invalid);
    let mut doc = vc(json!({"p": "x"}));
    let mut bad_default = context.as_array().unwrap().clone();
    bad_default.push(json!({"@language": "not a tag"}));
    doc["@context"] = json!(bad_default);
    differential("malformed default language", &doc);
    // Invalid value objects.
    for (i, v) in [
        json!({"@value": "x", "@language": "en", "@type": "https://example.org/t"}),
        json!({"@value": 5, "@language": "en"}),
        json!({"@value": "x", "@direction": "up"}),
        json!({"@value": [1]}),
        json!({"@value": "x", "p": 1}),
        json!({"@value": "x", "@id": "https://example.org/x"}),
        json!({"@value": "x", "@type": "_:b"}),
        json!({"@value": "x", "@type": "relative"}),
        json!({"@value": "x", "@language": 5}),
        json!({"@value": "x", "@context": {"q": "https://example.org/q"}}),
    ]
    .into_iter()
    .enumerate()
    {
        let mut doc = vc(json!({"p": v}));
        doc["@context"] = context.clone();
        assert_refused(&format!("invalid value {i}"), &doc, any);
    }
}

#[test]
fn contexts_that_cannot_be_used_do_not_grow_the_registry_without_bound() {
    // Each document brings a distinct inline context that fails (a protected term redefined): nothing is compiled,
    // but what is remembered about them is bounded too.
    let (generation, _) = fast::registry_stats();
    let padding = "x".repeat(4000);
    let mut doc = vc(json!({}));
    for i in 0..300 {
        doc["@context"] =
            json!([VC2, OB303, {"name": format!("https://example.org/{padding}/{i}")}]);
        assert_eq!(fast::canonicalize(&doc), None, "{i}");
    }
    assert!(
        fast::registry_stats().0 > generation,
        "the registry never started afresh"
    );
    assert_refused("the last one", &doc, invalid);
}
