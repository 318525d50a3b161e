//! An award's RS256 forms (the VC-JWT and the OB 2.0 signed assertion) are signed on their first
//! download, with the RSA key of issue time even after a rotation, then kept (migration 0009).

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::server::Server;
use serde_json::Value;
use uuid::Uuid;

const EMAIL: &str = "--issuer-email=contact@ime.example.org";

fn part(compact: &str, n: usize) -> Value {
    let text = compact.split('.').nth(n).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).unwrap()).unwrap()
}

async fn stored(s: &Server, id: Uuid) -> carnet::store::Award {
    s.app.store.get_award(id).await.unwrap().expect("stored")
}

#[tokio::test]
async fn rs256_forms_are_signed_on_first_download_with_the_key_of_issue_then_kept() {
    let dir = tempfile::tempdir().unwrap();
    let extra = [EMAIL.to_string()];
    let first = Server::start_with(dir.path(), None, &extra).await;
    let award = first.issue().await;
    let id: Uuid = award["id"].as_str().unwrap().parse().unwrap();
    let at_issue = stored(&first, id).await;
    assert_eq!(at_issue.credential_jwt, None, "not signed at issue time");
    assert_eq!(at_issue.assertion_jws, None);
    assert!(at_issue.assertion_json.is_some());
    assert_eq!(at_issue.rsa_kid.as_deref(), Some("rsa-1"));
    let base = first.base.clone();
    first.shutdown().await;

    // A rotation before anyone downloaded them: they are still signed by the key of issue time.
    let rotated = crate::common::server::rotate_keys(dir.path()).await;
    assert_eq!(rotated.active_rsa().kid, "rsa-2");
    let s = Server::start_with(dir.path(), Some(&base), &extra).await;

    let r = s.form(&award, "jwt").await;
    assert_eq!(r.status, 200);
    let jwt = r.text();
    let header = part(&jwt, 0);
    assert!(
        header["kid"].as_str().unwrap().ends_with("rsa-1"),
        "{header}"
    );
    // the payload is the stored credential without its proof (plus the registered claims)
    let payload = part(&jwt, 1);
    let credential: Value = serde_json::from_str(&at_issue.credential_json).unwrap();
    for (key, value) in credential.as_object().unwrap() {
        if key != "proof" {
            assert_eq!(&payload[key], value, "{key}");
        }
    }
    assert!(payload.get("proof").is_none());
    let report = s
        .verify(
            "text/plain",
            jwt.clone().into_bytes(),
            Some("lea@example.org"),
        )
        .await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    // kept: the same bytes again, from the database
    assert_eq!(s.form(&award, "jwt").await.text(), jwt);
    assert_eq!(stored(&s, id).await.credential_jwt.as_deref(), Some(&*jwt));
    let baked = s.form(&award, "png_jwt").await.body;
    let unbaked = carnet::bake::unbake(&baked, &carnet::bake::Limits::default()).unwrap();
    assert_eq!(unbaked.text, jwt);

    let r = s.get(award["ob2"]["jws"].as_str().unwrap()).await;
    assert_eq!(r.status, 200);
    let jws = r.text();
    let signed = part(&jws, 1);
    let creator = signed["verification"]["creator"].as_str().unwrap();
    assert!(creator.ends_with("/keys/rsa-1"), "{creator}");
    assert_eq!(signed["verification"]["type"], "SignedBadge");
    let key = s.get(creator).await.json();
    let pem = key["publicKeyPem"].as_str().unwrap();
    let verified =
        carnet::ob2::verify_assertion_jws(&jws, carnet::ob2::PublicKey::Pem(pem)).unwrap();
    // the hosted assertion, byte for byte in the same order, but for its verification
    let mut hosted: Value =
        serde_json::from_str(at_issue.assertion_json.as_deref().unwrap()).unwrap();
    hosted["verification"] = signed["verification"].clone();
    assert_eq!(
        serde_json::to_string(&verified).unwrap(),
        serde_json::to_string(&hosted).unwrap()
    );
    // (carnet's verifier would fetch the OB 2.0 documents at the first server's address, gone
    // now: the IMS validator checks deferred JWS in tests/interop.rs)
    assert_eq!(
        s.get(award["ob2"]["jws"].as_str().unwrap()).await.text(),
        jws
    );
    let baked = s.get(award["ob2"]["png"].as_str().unwrap()).await.body;
    let unbaked = carnet::bake::unbake(&baked, &carnet::bake::Limits::default()).unwrap();
    assert_eq!(unbaked.text, jws);
    assert_eq!(stored(&s, id).await.assertion_jws.as_deref(), Some(&*jws));

    // an award issued now will be signed by the new key
    let fresh = s.issue().await;
    let fresh_id: Uuid = fresh["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(stored(&s, fresh_id).await.rsa_kid.as_deref(), Some("rsa-2"));
    let header = part(&s.form(&fresh, "jwt").await.text(), 0);
    assert!(
        header["kid"].as_str().unwrap().ends_with("rsa-2"),
        "{header}"
    );
}

#[tokio::test]
async fn concurrent_first_downloads_sign_the_same_bytes() {
    let s = Server::with_args(&[EMAIL]).await;
    let award = s.issue().await;
    let (a, b, c, d) = tokio::join!(
        s.form(&award, "jwt"),
        s.form(&award, "jwt"),
        s.get(award["ob2"]["jws"].as_str().unwrap()),
        s.get(award["ob2"]["jws"].as_str().unwrap()),
    );
    assert_eq!((a.status, c.status), (200, 200));
    assert_eq!(a.text(), b.text(), "RS256 is deterministic");
    assert_eq!(c.text(), d.text());
}
