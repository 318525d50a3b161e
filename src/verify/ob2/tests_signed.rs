//! Hand-made OB 2.0 badges served from memory: a signed assertion (RSA key generated here) that is
//! valid, tampered with, signed with a key the issuer does not list, revoked in the issuer's
//! revocation list, or whose list cannot be read; hosted assertions answering `410 Gone` or
//! `revoked: true`; an OB 1.0 hosted assertion read in the 2.0 shape.

use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::KeyPair;
use josekit::jws::{HS256, JwsHeader, RS256};
use serde_json::{Value, json};

use super::{Fetched, Ob2Verifier, REVOCATION, StaticSource};
use crate::recipient::identity_hash;
use crate::verify::report::{Report, Status, Verdict, check_id as id};

const ISSUER: &str = "https://issuer.example/profile";
const KEY: &str = "https://issuer.example/keys/1";
const BADGE: &str = "https://issuer.example/badges/robot";
const LIST: &str = "https://issuer.example/revocations";
const HOSTED_ID: &str = "https://issuer.example/assertions/42";

/// (private PEM, public PEM), generated once: RSA key generation is slow.
fn keys() -> &'static (Vec<u8>, String) {
    static KEYS: OnceLock<(Vec<u8>, String)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pair = RS256.generate_key_pair(2048).expect("RSA key");
        let public = String::from_utf8(pair.to_pem_public_key()).expect("PEM");
        (pair.to_pem_private_key(), public)
    })
}

fn issuer(public_key: &str, with_list: bool) -> Value {
    let mut p = json!({"@context": "https://w3id.org/openbadges/v2", "type": "Profile", "id": ISSUER,
        "name": "IME Les Tilleuls", "url": "https://issuer.example", "email": "contact@issuer.example",
        "publicKey": public_key});
    if with_list {
        p["revocationList"] = json!(LIST);
    }
    p
}

fn assertion(id: &str, verification: Value) -> Value {
    json!({"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": id,
        "recipient": {"type": "email", "hashed": true, "salt": "sel",
            "identity": identity_hash("lea@example.org", "sel")},
        "badge": BADGE, "issuedOn": "2024-03-01T10:00:00+01:00", "verification": verification})
}

fn signed_verification() -> Value {
    json!({"type": "SignedBadge", "creator": KEY})
}

fn source(issuer_doc: Value) -> StaticSource {
    let mut s = StaticSource::new();
    s.insert_json(ISSUER, issuer_doc);
    s.insert_json(
        KEY,
        json!({"@context": "https://w3id.org/openbadges/v2", "type": "CryptographicKey",
        "id": KEY, "owner": ISSUER, "publicKeyPem": keys().1}),
    );
    s.insert_json(BADGE, json!({"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass", "id": BADGE,
        "name": "Utiliser un robot", "description": "Programmer un petit robot.",
        "image": "https://issuer.example/badges/robot.png", "criteria": {"narrative": "Faire avancer le robot."},
        "issuer": ISSUER}));
    s.insert_json(LIST, json!({"@context": "https://w3id.org/openbadges/v2", "type": "RevocationList", "id": LIST,
        "issuer": ISSUER, "revokedAssertions": [
            {"id": "urn:uuid:0b5e5b1e-0000-4000-8000-000000000001", "revocationReason": "Donné par erreur"},
            "urn:uuid:0b5e5b1e-0000-4000-8000-000000000002"]}));
    s
}

fn sign(payload: &Value) -> String {
    let signer = RS256.signer_from_pem(&keys().0).expect("signer");
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    josekit::jws::serialize_compact(payload.to_string().as_bytes(), &header, &signer).expect("JWS")
}

async fn verify(source: StaticSource, text: &str, recipient: Option<&str>) -> Report {
    Ob2Verifier::new(Arc::new(source))
        .verify_text(text, "text", recipient)
        .await
}

fn status_of(r: &Report, check: &str) -> Vec<Status> {
    r.checks
        .iter()
        .filter(|c| c.id == check)
        .map(|c| c.status)
        .collect()
}

fn explain(r: &Report) -> String {
    format!(
        "{:#?}",
        r.checks
            .iter()
            .filter(|c| c.status != Status::Pass)
            .collect::<Vec<_>>()
    )
}

const GOOD: &str = "urn:uuid:0b5e5b1e-0000-4000-8000-0000000000aa";

#[tokio::test]
async fn a_valid_signed_assertion() {
    let jws = sign(&assertion(GOOD, signed_verification()));
    let r = verify(source(issuer(KEY, true)), &jws, Some("Lea@example.org")).await;
    assert_eq!(r.verdict, Verdict::Valid, "{}", explain(&r));
    assert_eq!(status_of(&r, id::PROOF), [Status::Pass]);
    assert_eq!(status_of(&r, id::CONTROLLER), [Status::Pass]);
    assert_eq!(status_of(&r, REVOCATION), [Status::Pass]);
    assert_eq!(status_of(&r, id::RECIPIENT), [Status::Pass]);
    let summary = r.summary.expect("summary");
    assert_eq!(summary.name.as_deref(), Some("Utiliser un robot"));
    assert_eq!(summary.issuer_name.as_deref(), Some("IME Les Tilleuls"));
    assert_eq!(summary.format, "text+ob2-jws");
    // Someone else's address.
    let r = verify(source(issuer(KEY, true)), &jws, Some("paul@example.org")).await;
    assert_eq!(status_of(&r, id::RECIPIENT), [Status::Fail]);
}

#[tokio::test]
async fn a_tampered_payload_fails_the_signature() {
    let jws = sign(&assertion(GOOD, signed_verification()));
    let mut changed = assertion(GOOD, signed_verification());
    changed["issuedOn"] = json!("2020-01-01T00:00:00Z");
    let parts: Vec<&str> = jws.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(changed.to_string()),
        parts[2]
    );
    let r = verify(source(issuer(KEY, true)), &forged, None).await;
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(status_of(&r, id::PROOF), [Status::Fail], "{}", explain(&r));
}

#[tokio::test]
async fn a_key_the_issuer_does_not_list_is_refused() {
    let jws = sign(&assertion(GOOD, signed_verification()));
    let r = verify(
        source(issuer("https://issuer.example/keys/other", true)),
        &jws,
        None,
    )
    .await;
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(
        status_of(&r, id::CONTROLLER).contains(&Status::Fail),
        "{}",
        explain(&r)
    );
    // The key names another owner: refused too, even if the profile lists it.
    let mut s = source(issuer(KEY, true));
    s.insert_json(
        KEY,
        json!({"type": "CryptographicKey", "id": KEY, "owner": "https://other.example/profile",
        "publicKeyPem": keys().1}),
    );
    let r = verify(s, &jws, None).await;
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(
        status_of(&r, id::CONTROLLER).contains(&Status::Fail),
        "{}",
        explain(&r)
    );
}

#[tokio::test]
async fn revoked_in_the_revocation_list() {
    for revoked in [
        "urn:uuid:0b5e5b1e-0000-4000-8000-000000000001",
        "urn:uuid:0b5e5b1e-0000-4000-8000-000000000002",
    ] {
        let jws = sign(&assertion(revoked, signed_verification()));
        let r = verify(source(issuer(KEY, true)), &jws, None).await;
        assert_eq!(r.verdict, Verdict::Invalid);
        assert_eq!(status_of(&r, REVOCATION), [Status::Fail], "{}", explain(&r));
    }
    let jws = sign(&assertion(
        "urn:uuid:0b5e5b1e-0000-4000-8000-000000000001",
        signed_verification(),
    ));
    let r = verify(source(issuer(KEY, true)), &jws, None).await;
    assert!(
        r.checks
            .iter()
            .any(|c| c.message.fr.contains("Donné par erreur"))
    );
}

#[tokio::test]
async fn an_unreadable_revocation_list_means_status_unknown() {
    let jws = sign(&assertion(GOOD, signed_verification()));
    let mut s = source(issuer(KEY, true));
    s.insert(LIST, Fetched::status(503));
    let r = verify(s, &jws, None).await;
    assert_eq!(r.verdict, Verdict::Indeterminate, "{}", explain(&r));
    assert_eq!(status_of(&r, REVOCATION), [Status::Unknown]);
}

#[tokio::test]
async fn only_rs256_is_accepted() {
    let signer = HS256
        .signer_from_bytes(b"a shared secret of thirty-two bytes!")
        .expect("HS256");
    let payload = assertion(GOOD, signed_verification()).to_string();
    let jws =
        josekit::jws::serialize_compact(payload.as_bytes(), &JwsHeader::new(), &signer).unwrap();
    let r = verify(source(issuer(KEY, true)), &jws, None).await;
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(status_of(&r, id::PROOF), [Status::Fail]);
}

fn hosted_source(answer: Fetched) -> StaticSource {
    let mut s = source(issuer(KEY, false));
    s.insert(HOSTED_ID, answer);
    s
}

#[tokio::test]
async fn hosted_410_gone_is_revoked() {
    let hosted = assertion(HOSTED_ID, json!({"type": "HostedBadge"}));
    let r = verify(
        hosted_source(Fetched::json(hosted.clone())),
        HOSTED_ID,
        None,
    )
    .await;
    assert_eq!(r.verdict, Verdict::Valid, "{}", explain(&r));
    let gone = json!({"@context": "https://w3id.org/openbadges/v2", "id": HOSTED_ID, "revoked": true,
        "revocationReason": "Erreur de destinataire"});
    for answer in [
        Fetched::status_json(410, gone.clone()),
        Fetched::status(410),
    ] {
        // Given as its URL, and as the JSON a backpack kept.
        for input in [HOSTED_ID.to_string(), hosted.to_string()] {
            let r = verify(hosted_source(answer.clone()), &input, None).await;
            assert_eq!(r.verdict, Verdict::Invalid);
            assert_eq!(status_of(&r, REVOCATION), [Status::Fail], "{}", explain(&r));
        }
    }
    let r = verify(
        hosted_source(Fetched::status_json(410, gone.clone())),
        HOSTED_ID,
        None,
    )
    .await;
    assert!(
        r.checks
            .iter()
            .any(|c| c.message.en.contains("Erreur de destinataire"))
    );
    // 200 with `revoked: true` is revoked too.
    let mut revoked = hosted.clone();
    revoked["revoked"] = json!(true);
    let r = verify(hosted_source(Fetched::json(revoked)), HOSTED_ID, None).await;
    assert_eq!(status_of(&r, REVOCATION), [Status::Fail], "{}", explain(&r));
    // The address answers something else, or nothing (404): not valid.
    let html = Fetched {
        status: 200,
        body: super::Body::Bytes(b"<html></html>".to_vec()),
    };
    for answer in [html, Fetched::status(404)] {
        let r = verify(hosted_source(answer), &hosted.to_string(), None).await;
        assert_eq!(r.verdict, Verdict::Invalid, "{}", explain(&r));
    }
    // A site that does not answer: indeterminate.
    let r = verify(source(issuer(KEY, false)), HOSTED_ID, None).await;
    assert_eq!(r.verdict, Verdict::Indeterminate, "{}", explain(&r));
    // Published outside the issuer's site.
    let outside = "https://elsewhere.example/a/42";
    let mut s = source(issuer(KEY, false));
    s.insert_json(outside, assertion(outside, json!({"type": "HostedBadge"})));
    let r = verify(s, outside, None).await;
    assert_eq!(r.verdict, Verdict::Invalid, "{}", explain(&r));
    // Served outside the issuer's site while claiming an id on it: what counts is where it was read.
    let mut s = source(issuer(KEY, false));
    s.insert_json(outside, hosted.clone());
    let r = verify(s, outside, None).await;
    assert_eq!(r.verdict, Verdict::Invalid, "{}", explain(&r));
    assert!(status_of(&r, super::HOSTED).contains(&Status::Fail));
}

#[tokio::test]
async fn an_ob_1_0_hosted_assertion_is_read_as_2_0() {
    let url = "https://issuer.example/v1/assertion.json";
    let mut s = StaticSource::new();
    s.insert_json(url, json!({"uid": "42", "recipient": {"type": "email", "hashed": false, "identity": "lea@example.org"},
        "badge": "https://issuer.example/v1/badge.json", "issuedOn": 1451606400,
        "verify": {"type": "hosted", "url": url}}));
    s.insert_json("https://issuer.example/v1/badge.json", json!({"name": "Robot", "description": "d",
        "image": "https://issuer.example/v1/badge.png", "criteria": "https://issuer.example/v1/criteria",
        "issuer": "https://issuer.example/v1/issuer.json"}));
    s.insert_json(
        "https://issuer.example/v1/issuer.json",
        json!({"name": "IME", "url": "https://issuer.example",
        "email": "contact@issuer.example"}),
    );
    let r = verify(s, url, Some("lea@example.org")).await;
    assert_eq!(r.verdict, Verdict::Valid, "{}", explain(&r));
    assert!(r.has_warnings(), "the upgrade is reported");
    assert_eq!(
        r.summary.and_then(|s| s.valid_from).as_deref(),
        Some("2016-01-01T00:00:00+00:00")
    );
}
