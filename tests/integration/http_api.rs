//! The HTTP interface through the real router, served on 127.0.0.1 like `carnet serve` does: a
//! temporary keys directory and SQLite file, the shipped `badge-classes/`, settings parsed by clap
//! (so every default applies) and a listener bound before the app is built (no sleeps).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common;
use common::server::*;

/// Asserts an RFC 9457 problem answer with `status` (and `field` when given).
fn assert_problem(r: &Resp, status: u16, field: Option<&str>) -> Value {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), "application/problem+json");
    let p = r.json();
    assert!(p["type"].as_str().unwrap().starts_with("urn:carnet:error:"));
    assert_eq!(p["status"], status);
    assert!(!p["detail"].as_str().unwrap().is_empty(), "{p}");
    if let Some(f) = field {
        assert_eq!(p["field"], f, "{p}");
    }
    p
}

/// The statuses of the checks with this id in a report.
fn statuses<'a>(report: &'a Value, id: &str) -> Vec<&'a str> {
    let checks = report["checks"].as_array().unwrap();
    let with_id = checks.iter().filter(|c| c["id"] == id);
    with_id.map(|c| c["status"].as_str().unwrap()).collect()
}

fn assert_verdict(report: &Value, verdict: &str) {
    assert_eq!(report["verdict"], verdict, "{report:#}");
}

fn jwt_header(jwt: &str) -> Value {
    let header = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

fn unbake(bytes: &[u8]) -> String {
    carnet::bake::unbake(bytes, &carnet::bake::Limits::default())
        .expect("unbakes")
        .text
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Changes one character of the achievement name inside the baked JSON of a PNG, then fixes the
/// chunk CRC so that the image stays well-formed: only the signature can notice.
fn tamper_baked_png(png: &[u8]) -> Vec<u8> {
    let mut out = png.to_vec();
    let mut pos = 8;
    loop {
        let len = u32::from_be_bytes(out[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = out[pos + 4..pos + 8].to_vec();
        assert_ne!(kind, b"IEND", "no openbadgecredential chunk");
        let data = pos + 8..pos + 8 + len;
        if kind == b"iTXt" && out[data.clone()].starts_with(b"openbadgecredential\0") {
            let text = &out[data.clone()];
            let achievement = find(text, b"\"achievement\":").expect("achievement");
            let name = achievement
                + find(&text[achievement..], "\"name\":\"Sécurité".as_bytes()).expect("name");
            let at = data.start + name + "\"name\":\"".len();
            assert_eq!(out[at], b'S');
            out[at] = b'Z';
            let crc = crc32fast::hash(&out[pos + 4..data.end]);
            out[data.end..data.end + 4].copy_from_slice(&crc.to_be_bytes());
            return out;
        }
        pos = data.end + 4;
    }
}

#[tokio::test]
async fn health_names_the_database() {
    let s = Server::new().await;
    let r = s.get("/health").await;
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "sqlite");
    assert_problem(&s.get("/no/such/page").await, 404, None);
}

#[tokio::test]
async fn issuing_needs_a_valid_token() {
    let s = Server::new().await;
    for token in [None, Some("0123456789abcdefghijklmnopqrstuX"), Some("")] {
        let r = s.post_award(token, lea().to_string()).await;
        assert_problem(&r, 401, None);
        assert_eq!(r.header("www-authenticate"), "Bearer realm=\"carnet\"");
    }
    // The token is checked before the body is even parsed.
    let r = s.post_award(None, "not json").await;
    assert_problem(&r, 401, None);
}

#[tokio::test]
async fn an_award_answers_its_urls_and_location() {
    let s = Server::new().await;
    let r = s.post_award(Some(TOKEN), lea().to_string()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let award = r.json();
    let id = award["id"].as_str().unwrap();
    uuid::Uuid::parse_str(id).unwrap();
    let c = format!("{}/credentials/{id}", s.base);
    assert_eq!(award["credential_id"], c);
    assert_eq!(award["badge_class"], CLASS);
    for form in ["json", "jwt", "png", "svg"] {
        assert_eq!(award["urls"][form], format!("{c}.{form}"));
    }
    let location = r.header("location").to_string();
    assert_eq!(location, format!("{}/api/v1/awards/{id}", s.base));
    let auth = format!("Bearer {TOKEN}");
    let auth = [("authorization", auth.as_str())];
    let again = s.request(None, &location, &auth).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], id);
    assert_problem(&s.get(&location).await, 401, None);
}

#[tokio::test]
async fn invalid_awards_name_the_field() {
    let s = Server::new().await;
    let with = |k: &str, v: Value| {
        let mut b = lea();
        b[k] = v;
        b.to_string()
    };
    let cases = [
        (with("badge_class", json!("cuisine")), "badge_class"),
        (with("recipient_email", json!("lea")), "recipient_email"),
        (with("valid_until", json!("2020-01-01")), "valid_until"),
        (with("valid_until", json!("bientôt")), "valid_until"),
        (with("evidence_url", json!("ftp://x")), "evidence_url"),
        (with("colour", json!("blue")), "(body)"),
        (r#"{"badge_class": "#.to_string(), "(body)"),
        (json!({"badge_class": CLASS}).to_string(), "(body)"),
    ];
    for (body, field) in cases {
        let p = assert_problem(&s.post_award(Some(TOKEN), body).await, 422, Some(field));
        if field == "badge_class" {
            assert!(p["detail"].as_str().unwrap().contains("\"cuisine\""), "{p}");
        }
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let s = Server::with_body_limit(1024).await;
    // A small award still fits.
    let small = json!({"badge_class": CLASS, "recipient_email": "lea@example.org"});
    let r = s.post_award(Some(TOKEN), small.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let mut big = lea();
    big["narrative"] = "x".repeat(4000).into();
    assert_problem(&s.post_award(Some(TOKEN), big.to_string()).await, 413, None);
    let r = s.verify_raw(PNG, vec![0x89; 4096], None).await;
    assert_problem(&r, 413, None);
}

#[tokio::test]
async fn the_same_idempotency_key_gives_the_same_award() {
    let s = Server::new().await;
    let mut body = lea();
    body["idempotency_key"] = "import-2025-06-12-lea".into();
    let first = s.post_award(Some(TOKEN), body.to_string()).await;
    let second = s.post_award(Some(TOKEN), body.to_string()).await;
    assert_eq!(first.status, 201);
    assert!([200, 201].contains(&second.status), "{}", second.text());
    assert_eq!(first.json()["id"], second.json()["id"]);
    assert_ne!(s.issue().await["id"], first.json()["id"]);
    body["idempotency_key"] = "".into();
    let r = s.post_award(Some(TOKEN), body.to_string()).await;
    assert_problem(&r, 422, Some("idempotency_key"));
}

#[tokio::test]
async fn a_credential_is_served_in_every_form() {
    let s = Server::new().await;
    let award = s.issue().await;
    let png = award["urls"]["png"].as_str().unwrap();

    let r = s.form(&award, "json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "application/vc+ld+json");
    assert!(!r.text().contains("lea@example.org"));
    let cred = r.json();
    assert_eq!(cred["id"], award["credential_id"]);
    assert_eq!(cred["proof"][0]["cryptosuite"], "eddsa-rdfc-2022");
    assert_eq!(cred["proof"].as_array().unwrap().len(), 1);
    let ident = &cred["credentialSubject"]["identifier"][0];
    let hash = ident["identityHash"].as_str().unwrap();
    assert!(hash.starts_with("sha256$"), "{hash}");
    assert_eq!(ident["identityType"], "emailAddress");

    let r = s.form(&award, "jwt").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/plain"));
    let jwt = r.text();
    assert_eq!(jwt.split('.').count(), 3);
    assert!(jwt.split('.').all(|p| !p.is_empty()));
    assert!(!jwt.contains("lea@example.org"));

    let r = s.form(&award, "png").await;
    assert_eq!(r.header("content-type"), "image/png");
    assert!(r.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    let baked: Value = serde_json::from_str(&unbake(&r.body)).unwrap();
    assert_eq!(baked, cred);

    let r = s.get(&format!("{png}?proof=jwt")).await;
    assert_eq!(r.status, 200);
    assert_eq!(unbake(&r.body), jwt);

    let r = s.form(&award, "svg").await;
    assert_eq!(r.header("content-type"), "image/svg+xml");
    assert!(r.text().contains("<svg"));
    let baked: Value = serde_json::from_str(&unbake(&r.body)).unwrap();
    assert_eq!(baked["id"], cred["id"]);

    let r = s.get(&format!("{png}?proof=bad")).await;
    assert_problem(&r, 400, Some("proof"));
    let unknown = format!("/credentials/{}.json", uuid::Uuid::new_v4());
    assert_problem(&s.get(&unknown).await, 404, None);
    assert_problem(&s.get("/credentials/not-a-uuid.json").await, 404, None);
    let id = award["id"].as_str().unwrap();
    // Without an extension, `Accept` chooses.
    let bare = format!("/credentials/{id}");
    let r = s.request(None, &bare, &[("accept", "text/plain")]).await;
    assert_eq!(r.text(), jwt);
    assert_eq!(s.get(&bare).await.json(), cred);
    assert_problem(&s.get(&format!("/credentials/{id}.pdf")).await, 404, None);
}

#[tokio::test]
async fn issuer_documents_publish_the_keys_that_signed() {
    let s = Server::new().await;
    let award = s.issue().await;
    let cred = s.form(&award, "json").await.json();
    let jwt = s.form(&award, "jwt").await.text();
    let issuer_id = cred["issuer"]["id"].as_str().unwrap().to_string();
    assert_eq!(issuer_id, format!("{}/issuers/ime", s.base));

    let profile = s.get(&issuer_id).await;
    assert_eq!(profile.status, 200);
    let p = profile.json();
    assert_eq!(p["id"], issuer_id);
    assert_eq!(p["type"], json!(["Profile"]));
    assert_eq!(p["name"], ISSUER_NAME);
    let html = s.get_html(&issuer_id).await;
    assert!(html.header("content-type").starts_with("text/html"));
    assert!(html.text().contains(&format!("<h1>{ISSUER_NAME}</h1>")));
    assert_problem(&s.get("/issuers/other").await, 404, None);

    let did = s.get(&format!("{issuer_id}/did.json")).await.json();
    let methods = did["verificationMethod"].as_array().unwrap();
    let ids: Vec<&Value> = methods.iter().map(|m| &m["id"]).collect();
    let assertion: Vec<&Value> = did["assertionMethod"].as_array().unwrap().iter().collect();
    assert!(assertion.iter().all(|a| a.is_string()), "{did}");
    assert_eq!(assertion, ids);
    let issuer = Value::from(issuer_id.as_str());
    assert!(methods.iter().all(|m| m["controller"] == issuer), "{did}");
    let vm = &cred["proof"][0]["verificationMethod"];
    assert!(ids.contains(&vm), "{vm} not in {did}");

    let jwks = s.get("/.well-known/jwks.json").await;
    assert_eq!(jwks.status, 200);
    let keys = jwks.json()["keys"].as_array().unwrap().clone();
    for k in &keys {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(private).is_none(), "{private} in {k}");
        }
    }
    let kid = jwt_header(&jwt)["kid"].as_str().unwrap().to_string();
    let entry = keys.iter().find(|k| k["kid"] == kid.as_str()).expect("kid");
    let single = s.get(&kid).await;
    assert_eq!(single.status, 200);
    assert_eq!(single.header("content-type"), "application/jwk+json");
    assert!(single.json().get("keys").is_none());
    assert_eq!(&single.json(), entry);
    assert_problem(&s.get(&format!("{issuer_id}/keys/rsa-99")).await, 404, None);

    let class_url = &*format!("{}/badge-classes/{CLASS}", s.base);
    assert_eq!(cred["credentialSubject"]["achievement"]["id"], class_url);
    let class = s.get(class_url).await.json();
    assert_eq!(class["id"], class_url);
    assert_eq!(class["name"], "Sécurité et hygiène au travail");
    assert_eq!(class["creator"]["id"], issuer_id);
    let html = s.get_html(class_url).await.text();
    let h1 = "<h1>Sécurité et hygiène au travail</h1>";
    assert!(html.contains(h1), "{html}");
    let image = s.get(&format!("{class_url}/image.png")).await;
    assert_eq!(image.header("content-type"), "image/png");
    assert!(image.body.starts_with(b"\x89PNG"));
    assert_problem(&s.get("/badge-classes/cuisine").await, 404, None);
}

#[tokio::test]
async fn every_form_verifies_and_the_recipient_is_checked() {
    let s = Server::new().await;
    let award = s.issue().await;
    let forms = [
        ("png", PNG),
        ("svg", "image/svg+xml"),
        ("json", JSON),
        ("jwt", "text/plain"),
    ];
    for (form, content_type) in forms {
        let body = s.form(&award, form).await.body;
        let report = s.verify(content_type, body.clone(), None).await;
        assert_verdict(&report, "valid");
        assert_eq!(statuses(&report, "proof"), ["pass"], "{content_type}");
        assert!(statuses(&report, "recipient").is_empty());
        let id = &report["summary"]["credential_id"];
        assert_eq!(id, &award["credential_id"], "{content_type}");
        let report = s
            .verify(content_type, body.clone(), Some("Lea@Example.org"))
            .await;
        assert_verdict(&report, "valid");
        assert_eq!(statuses(&report, "recipient"), ["pass"], "{content_type}");
        let report = s.verify(content_type, body, Some("tom@example.org")).await;
        assert_verdict(&report, "invalid");
        assert_eq!(statuses(&report, "recipient"), ["fail"], "{content_type}");
    }
}

#[tokio::test]
async fn tampered_or_unreadable_badges_are_invalid_not_errors() {
    let s = Server::new().await;
    let award = s.issue().await;
    let mut cred = s.form(&award, "json").await.json();
    cred["credentialSubject"]["achievement"]["name"] = "Conduite de chariot élévateur".into();
    let report = s.verify(JSON, cred.to_string().into(), None).await;
    assert_verdict(&report, "invalid");
    assert!(statuses(&report, "proof").contains(&"fail"), "{report:#}");

    let png = s.form(&award, "png").await.body;
    let tampered = tamper_baked_png(&png);
    let readable = unbake(&tampered);
    assert!(readable.contains("Zécurité"), "{readable}");
    let report = s.verify(PNG, tampered, None).await;
    assert_verdict(&report, "invalid");
    assert_eq!(statuses(&report, "parse"), ["pass"]);
    assert!(statuses(&report, "proof").contains(&"fail"), "{report:#}");

    // Unreadable input: deterministic noise (neither JSON, JWS, PNG nor XML), broken JSON.
    let noise = (1..4097u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8);
    let unreadable = [
        ("application/octet-stream", noise.collect()),
        (JSON, b"{\"a\":".to_vec()),
    ];
    for (content_type, body) in unreadable {
        let report = s.verify(content_type, body, None).await;
        assert_verdict(&report, "invalid");
        assert_eq!(statuses(&report, "parse"), ["fail"]);
    }
    for (content_type, body, status) in [
        ("application/xml", b"<x/>".to_vec(), 415),
        (PNG, vec![], 400),
    ] {
        assert_problem(&s.verify_raw(content_type, body, None).await, status, None);
    }
}

#[tokio::test]
async fn rotated_keys_keep_old_badges_verifying() {
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start_in(dir.path(), None, 8 * 1024 * 1024).await;
    let award = first.issue().await;
    let png = first.form(&award, "png").await.body;
    let jwt = first.form(&award, "jwt").await.body;
    let base = first.base.clone();
    first.shutdown().await;

    let rotated = crate::common::server::rotate_keys(dir.path()).await;
    assert_eq!(rotated.active_ed25519().kid, "ed25519-2");
    // The restarted instance keeps its public base URL (ids must not change); it listens elsewhere.
    let s = Server::start_in(dir.path(), Some(&base), 8 * 1024 * 1024).await;
    let old = s.form(&award, "json").await;
    assert_eq!(old.status, 200, "the award is still in the database");
    for (content_type, body) in [("image/png", png), ("text/plain", jwt)] {
        let report = s.verify(content_type, body, Some("lea@example.org")).await;
        assert_verdict(&report, "valid");
    }

    let did = s.get("/issuers/ime/did.json").await.json();
    let methods = did["verificationMethod"].as_array().unwrap();
    let ids: Vec<&str> = methods.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2, "{did}");
    assert!(ids[0].ends_with("#ed25519-1") && ids[1].ends_with("#ed25519-2"));
    assert_eq!(did["assertionMethod"], json!(ids));

    let fresh = s.issue().await;
    let cred = s.form(&fresh, "json").await.json();
    let vm = cred["proof"][0]["verificationMethod"].as_str().unwrap();
    assert!(vm.ends_with("#ed25519-2"), "{vm}");
}

#[tokio::test]

async fn every_error_is_problem_json() {
    let s = Server::new().await;
    let award = s.issue().await;
    assert_problem(&s.get("/api/v1/verify").await, 405, None);
    let png = award["urls"]["png"].as_str().unwrap();
    let duplicate = format!("{png}?proof=di&proof=jwt");
    assert_problem(&s.get(&duplicate).await, 400, None);
}

#[tokio::test]
async fn a_credential_link_opened_in_a_browser_shows_a_plain_page() {
    let server = Server::new().await;
    let award = server.issue().await;
    let url = award["credential_id"].as_str().unwrap().to_string();
    let r = server.get_html(&url).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/html"));
    let html = r.text();
    // the state first, then who gave it to whom
    let main = &html[html.find("<main").unwrap()..];
    let first = main
        .find("Ce badge est valable.")
        .expect("the state is said");
    assert!(main[..first].find("<p").is_none(), "{main}");
    assert!(html.contains("Il a été donné à Léa par"), "{html}");
    assert!(html.contains("Sécurité et hygiène au travail"));
    assert!(html.contains(&format!("{url}.png")));
    assert!(
        html.contains("J&#39;ai rempli la fiche de sécurité"),
        "the evidence narrative, escaped"
    );
    assert!(
        !html.contains("lea@example.org"),
        "no clear email on a public page"
    );
    // A client asking for JSON still gets the credential.
    assert_eq!(
        server.get(&url).await.header("content-type"),
        "application/vc+ld+json"
    );
}
