mod common;
use std::sync::Arc;
use carnet::ob2::{self, AssertionParts, Ob2Urls, RevokedAward, Verification};
use carnet::ob3::credential::credential_url;
use carnet::recipient::{Email, hash_email};
use carnet::verify::ob2::{Fetched, Ob2Verifier, StaticSource};
use chrono::{Duration, Utc};
use uuid::Uuid;

#[tokio::test]
async fn carnet_documents_verify() {
    let f = common::fixture();
    let urls = Ob2Urls::new(&f.issuer);
    let id = Uuid::new_v4();
    let recipient = hash_email(&Email::parse("lea@example.org").unwrap());
    let details = common::full_details();
    let ob3 = credential_url(&f.issuer.base_url, id);
    let kid = f.issuer.keys.active_rsa().kid.clone();
    let mk = |v| {
        let parts = AssertionParts { award_id: id, recipient: &recipient, details: &details,
            issued_at: Utc::now() - Duration::minutes(1), verification: v, ob3_credential_id: &ob3 };
        ob2::assertion(&f.issuer, &f.class, &parts).unwrap()
    };
    let hosted = mk(Verification::Hosted);
    let signed = mk(Verification::Signed { kid: kid.clone() });
    let mut s = StaticSource::new();
    s.insert_json(urls.profile(), ob2::issuer_profile(&f.issuer).unwrap());
    s.insert_json(urls.key(&kid), ob2::cryptographic_key(&f.issuer, &kid).unwrap());
    s.insert_json(urls.badge_class(&f.class), ob2::badge_class(&f.issuer, &f.class));
    s.insert_json(urls.revocation_list(), ob2::revocation_list(&f.issuer, &[]));
    s.insert_json(urls.assertion(id), hosted.clone());
    let v = Ob2Verifier::new(Arc::new(s.clone()));
    let r = v.verify_text(&urls.assertion(id), "text", Some("lea@example.org")).await;
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
    assert_eq!(r.verdict, carnet::verify::report::Verdict::Valid);
    let t = std::time::Instant::now();
    for _ in 0..1000 { let r = v.verify_text(&urls.assertion(id), "text", None).await; assert_eq!(r.verdict, carnet::verify::report::Verdict::Valid); }
    println!("TIMING hosted: {:?} per verification", t.elapsed() / 1000);
    let jws = ob2::sign_assertion(&signed, f.issuer.keys.active_rsa()).unwrap();
    let r = v.verify_text(&jws, "text", Some("lea@example.org")).await;
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
    assert_eq!(r.verdict, carnet::verify::report::Verdict::Valid);
    // revoke
    s.insert_json(urls.revocation_list(), ob2::revocation_list(&f.issuer, &[RevokedAward { award_id: id, reason: Some("oops".into()) }]));
    s.insert(urls.assertion(id), Fetched::status_json(410, ob2::revoked_assertion(&f.issuer, id, Some("oops"))));
    let v = Ob2Verifier::new(Arc::new(s));
    let r = v.verify_text(&jws, "text", None).await;
    assert_eq!(r.verdict, carnet::verify::report::Verdict::Invalid);
    let r = v.verify_text(&urls.assertion(id), "text", None).await;
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
    assert_eq!(r.verdict, carnet::verify::report::Verdict::Invalid);
}
