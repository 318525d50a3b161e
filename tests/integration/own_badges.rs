//! carnet verifies the badges it issued from its own store and keys, whatever its base URL: here
//! the base is an address that resolves nowhere (`.invalid`, RFC 6761), so any fetch of its own
//! documents would fail — a link to a credential, its VC-JWT, its hosted OB 2.0 assertion (with
//! its badge class and issuer) verifies without one, and a withdrawal is reported with its date
//! and reason from the store.

use crate::common;

use common::server::*;
use serde_json::{Value, json};

const BASE: &str = "https://badges.ime-test.invalid";

async fn server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        Some(BASE),
        &["--issuer-email=contact@ime.example.org".to_string()],
    )
    .await;
    (s, dir)
}

async fn verify_link(s: &Server, url: &str) -> Value {
    s.verify(
        "application/json",
        json!({"url": url}).to_string().into_bytes(),
        None,
    )
    .await
}

fn describe(r: &Value) -> String {
    serde_json::to_string_pretty(&r["checks"]).unwrap()
}

#[tokio::test]
async fn links_to_its_own_badges_verify_from_the_store() {
    let (s, _dir) = server().await;
    let award = s.issue().await;
    let credential = award["credential_id"].as_str().unwrap().to_string();
    assert!(credential.starts_with(BASE), "{credential}");
    for url in [
        credential.clone(),
        award["urls"]["json"].as_str().unwrap().to_string(),
        award["urls"]["jwt"].as_str().unwrap().to_string(),
        award["urls"]["png"].as_str().unwrap().to_string(),
        award["ob2"]["assertion"].as_str().unwrap().to_string(),
    ] {
        let r = verify_link(&s, &url).await;
        assert_eq!(r["verdict"], "valid", "{url}: {}", describe(&r));
        assert!(
            !r.to_string().contains("loopback"),
            "{url}: nothing about local addresses"
        );
    }
    // the page a QR code opens says it in French, with no English inside
    let page = s
        .get_html(&format!("/verify?url={}", urlencode(&credential)))
        .await
        .text();
    assert!(page.contains("Ce badge est authentique."), "{page}");
    assert!(!page.contains("Vérification incomplète"), "{page}");

    // withdrawn: the status list says so, the store says when and why
    s.revoke(&award, "Donné par erreur").await;
    let r = verify_link(&s, &credential).await;
    assert_eq!(r["verdict"], "invalid", "{}", describe(&r));
    assert_eq!(r["reason"], "revoked");
    assert_eq!(r["deciding"], "status");
    let status = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "status")
        .unwrap();
    let today = chrono::Utc::now().format("%d/%m/%Y").to_string();
    let fr = status["message"]["fr"].as_str().unwrap();
    assert!(
        fr.contains(&today) && fr.contains("Donné par erreur"),
        "{fr}"
    );
    let r = verify_link(&s, award["ob2"]["assertion"].as_str().unwrap()).await;
    assert_eq!(r["verdict"], "invalid", "{}", describe(&r));
    assert_eq!(r["reason"], "revoked", "{}", describe(&r));
    s.shutdown().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A link another verifier may not follow (a private address) is « could not check », said in
/// French on the French side, without naming the address it refused.
#[tokio::test]
async fn a_refused_link_is_explained_in_each_language() {
    let (s, _dir) = server().await;
    let r = verify_link(&s, "https://10.1.2.3/badge.json").await;
    assert_eq!(r["verdict"], "indeterminate", "{}", describe(&r));
    let fr = r["checks"][0]["message"]["fr"].as_str().unwrap();
    assert!(fr.contains("réseau privé ou local"), "{fr}");
    assert!(!fr.contains("private") && !fr.contains("resolves"), "{fr}");
    let en = r["checks"][0]["message"]["en"].as_str().unwrap();
    assert!(en.contains("private"), "{en}");
    s.shutdown().await;
}
