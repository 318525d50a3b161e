//! The dates of a VC-JWT: its `exp` and `nbf` claims are honoured each on its own, in the VC 2.0
//! shape (the credential is the payload) and the VC 1.1 shape (the credential under `vc`); when a
//! claim and `validFrom` / `validUntil` both exist and disagree, the stricter wins and a warning
//! says so.

use crate::common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use carnet::verify::report::{Report, Status, Verdict, reason};
use chrono::{Duration, Utc};
use ed25519_dalek::Signer;
use serde_json::{Value, json};

/// A compact JWS of `payload`, EdDSA, signed by the fixture issuer's Ed25519 key (its `kid` is
/// the key's URL, which the verifier resolves to the issuer).
fn sign(f: &common::Fixture, payload: &Value) -> String {
    let key = f.issuer.keys.active_ed25519();
    let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": f.issuer.key_url(&key.kid)});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap())
    );
    let sig = key.signing_key().sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// carnet's credential without its proof, its `validUntil` removed, as a VC 2.0 JWT payload.
fn credential(f: &common::Fixture) -> Value {
    let mut cred = f.issue("lea@example.org", &common::full_details()).json;
    let map = cred.as_object_mut().unwrap();
    map.shift_remove("proof");
    map.shift_remove("validUntil");
    cred
}

fn ago(days: i64) -> i64 {
    (Utc::now() - Duration::days(days)).timestamp()
}

async fn verify(f: &common::Fixture, payload: &Value) -> Report {
    f.verifier()
        .verify_bytes(sign(f, payload).as_bytes(), None)
        .await
}

fn describe(r: &Report) -> String {
    r.checks
        .iter()
        .filter(|c| c.status != Status::Pass)
        .map(|c| format!("{:?} {} {:?}: {}", c.status, c.id, c.path, c.message.en))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_jwt_whose_only_end_date_is_a_past_exp_is_expired() {
    let f = common::fixture();
    let mut payload = credential(&f);
    payload["exp"] = ago(2).into();
    let r = verify(&f, &payload).await;
    assert_eq!(r.verdict, Verdict::Invalid, "{}", describe(&r));
    assert_eq!(r.reason, Some(reason::EXPIRED), "{}", describe(&r));
    assert_eq!(r.deciding, Some("validUntil"));

    // the same with exp in the future: valid
    payload["exp"] = ago(-30).into();
    let r = verify(&f, &payload).await;
    assert_eq!(r.verdict, Verdict::Valid, "{}", describe(&r));
}

#[tokio::test]
async fn a_jwt_whose_nbf_is_in_the_future_is_not_valid_yet() {
    let f = common::fixture();
    let mut payload = credential(&f);
    payload["nbf"] = ago(-3).into();
    let r = verify(&f, &payload).await;
    assert_eq!(r.verdict, Verdict::Invalid, "{}", describe(&r));
    assert_eq!(r.reason, Some(reason::NOT_YET_VALID), "{}", describe(&r));
    // validFrom (now) and nbf (in 3 days) disagree: the later one counts, with a warning
    assert!(
        r.checks
            .iter()
            .any(|c| c.status == Status::Warn && c.path.as_deref() == Some("nbf")),
        "{}",
        describe(&r)
    );
}

#[tokio::test]
async fn a_vc_1_1_jwt_has_its_claims_checked() {
    let f = common::fixture();
    let mut cred = credential(&f);
    // VC 1.1 shape: the credential under `vc`, its dates as issuanceDate
    cred["@context"][0] = "https://www.w3.org/2018/credentials/v1".into();
    let from = cred["validFrom"].clone();
    let map = cred.as_object_mut().unwrap();
    map.shift_remove("validFrom");
    map.insert("issuanceDate".into(), from);
    let payload = json!({
        "iss": cred["issuer"]["id"],
        "jti": cred["id"],
        "nbf": ago(10),
        "exp": ago(1),
        "vc": cred,
    });
    let r = verify(&f, &payload).await;
    assert_eq!(r.verdict, Verdict::Invalid, "{}", describe(&r));
    assert_eq!(r.reason, Some(reason::EXPIRED), "{}", describe(&r));

    // and a claim that does not match the credential is refused in this shape too
    let mut wrong = payload.clone();
    wrong["exp"] = ago(-30).into();
    wrong["iss"] = "https://someone-else.example.org".into();
    let r = verify(&f, &wrong).await;
    assert_eq!(r.verdict, Verdict::Invalid, "{}", describe(&r));
    assert_eq!(r.deciding, Some("proof"), "{}", describe(&r));
}

#[tokio::test]
async fn when_exp_and_valid_until_disagree_the_earlier_wins_with_a_warning() {
    let f = common::fixture();
    // validUntil passed, exp in the future
    let mut payload = credential(&f);
    payload["validUntil"] = (Utc::now() - Duration::days(1)).to_rfc3339().into();
    payload["exp"] = ago(-30).into();
    let r = verify(&f, &payload).await;
    assert_eq!(r.reason, Some(reason::EXPIRED), "{}", describe(&r));
    assert!(
        r.checks
            .iter()
            .any(|c| c.status == Status::Warn && c.path.as_deref() == Some("exp")),
        "{}",
        describe(&r)
    );
    // validUntil in the future, exp passed
    payload["validUntil"] = (Utc::now() + Duration::days(30)).to_rfc3339().into();
    payload["exp"] = ago(1).into();
    let r = verify(&f, &payload).await;
    assert_eq!(r.reason, Some(reason::EXPIRED), "{}", describe(&r));
    // the same date on both: no warning
    let until = Utc::now() + Duration::days(30);
    payload["validUntil"] = until.to_rfc3339().into();
    payload["exp"] = until.timestamp().into();
    let r = verify(&f, &payload).await;
    assert_eq!(r.verdict, Verdict::Valid, "{}", describe(&r));
    assert!(!r.has_warnings(), "{}", describe(&r));
}
