//! The public verifier through a real server: the `/verify` page (form, upload, link, languages,
//! weight, no script), `POST /api/v1/verify` with a link, the OpenAPI document (served, every
//! documented path answers, real reports validate against its schema), and the rate limit.

use serde_json::{Value, json};

use crate::common;
use common::server::*;

/// A `multipart/form-data` body (what a browser sends for the page's form).
fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----carnet-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, filename, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Server {
    async fn post_form(&self, fields: &[(&str, Option<&str>, &[u8])]) -> Resp {
        let (ct, body) = multipart(fields);
        self.request(Some(body), "/verify", &[("content-type", &ct)])
            .await
    }
}

/// The opening sentence of an answer page.
fn verdict_of(html: &str) -> String {
    let start = html
        .find("<section class=\"verdict")
        .expect("a verdict section");
    let p = html[start..].find("<p>").unwrap() + start + 3;
    let end = html[p..].find("</p>").unwrap() + p;
    html[p..end].to_string()
}

#[tokio::test]
async fn the_form_is_light_plain_html_in_french_and_english() {
    let s = Server::new().await;
    let fr = s.get("/verify").await;
    assert_eq!(fr.status, 200);
    assert!(fr.header("content-type").starts_with("text/html"));
    let html = fr.text();
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(html.contains("Vérifier un badge"));
    for field in [
        "name=\"file\"",
        "name=\"badge\"",
        "name=\"recipient\"",
        "enctype=\"multipart/form-data\"",
    ] {
        assert!(html.contains(field), "{field} missing");
    }
    // Works without JavaScript; every input has its label.
    assert!(!html.contains("<script"));
    for id in ["file", "badge", "recipient"] {
        assert!(
            html.contains(&format!("<label for=\"{id}\">")),
            "label {id}"
        );
    }
    assert!(fr.body.len() < 100 * 1024, "{} bytes", fr.body.len());
    assert!(
        fr.header("content-security-policy")
            .contains("default-src 'none'")
    );

    let en = s.get("/verify?lang=en").await;
    assert!(en.text().contains("<html lang=\"en\">"));
    assert!(en.text().contains("Verify a badge"));
    // The browser's preference is followed when no lang is given.
    let pref = s
        .request(None, "/verify", &[("accept-language", "en-GB,en;q=0.8")])
        .await;
    assert!(pref.text().contains("<html lang=\"en\">"));
    s.shutdown().await;
}

#[tokio::test]
async fn an_uploaded_baked_png_gets_a_plain_answer_and_the_email_is_not_echoed() {
    let s = Server::new().await;
    let award = s.issue().await;
    let png = s.form(&award, "png").await.body;

    let r = s
        .post_form(&[
            ("lang", None, b"fr"),
            ("file", Some("badge.png"), &png),
            ("recipient", None, b"lea@example.org"),
        ])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    let sentence = verdict_of(&html);
    assert!(
        sentence
            .starts_with("Ce badge est authentique. Il a été donné à Léa par IME Les Tilleuls le "),
        "{sentence}"
    );
    assert!(sentence.ends_with("Il est valable."), "{sentence}");
    assert!(html.contains("Sécurité et hygiène au travail"));
    assert!(
        html.contains("data:image/png;base64,"),
        "the badge image is shown"
    );
    assert!(
        html.contains("J&#39;ai rempli la fiche de sécurité"),
        "narrative shown"
    );
    assert!(
        html.contains("https://example.org/photo.jpg"),
        "evidence link shown"
    );
    assert!(
        !html.contains("lea@example.org"),
        "the email is not put back in the page"
    );
    assert!(html.contains("(recipient)"));
    let without_image = html.len()
        - html
            .find("base64,")
            .map_or(0, |i| html[i..].find('"').unwrap_or(0));
    assert!(
        without_image < 100 * 1024,
        "{without_image} bytes before the image"
    );

    // Another person's email: the sentence says so, in English when asked.
    let r = s
        .post_form(&[
            ("lang", None, b"en"),
            ("file", Some("badge.png"), &png),
            ("recipient", None, b"someone.else@example.org"),
        ])
        .await;
    assert_eq!(
        verdict_of(&r.text()),
        "This badge was not given to this email address."
    );

    // Revoked: the page says it was withdrawn.
    let id = award["id"].as_str().unwrap();
    let rv = s
        .request(
            Some(
                json!({"reason": "Donné par erreur"})
                    .to_string()
                    .into_bytes(),
            ),
            &format!("/api/v1/awards/{id}/revoke"),
            &[
                ("content-type", JSON),
                ("authorization", &format!("Bearer {TOKEN}")),
            ],
        )
        .await;
    assert_eq!(rv.status, 200, "{}", rv.text());
    let r = s.post_form(&[("file", Some("badge.png"), &png)]).await;
    assert_eq!(
        verdict_of(&r.text()),
        "Ce badge a été retiré par IME Les Tilleuls. Il n&#39;est plus valable."
    );
    s.shutdown().await;
}

#[tokio::test]
async fn a_link_is_verified_from_the_page_and_the_api() {
    let s = Server::new().await;
    let award = s.issue().await;
    let assertion = award["ob2"]["assertion"].as_str().map(str::to_string);
    let mut links = vec![award["credential_id"].as_str().unwrap().to_string()];
    links.extend(assertion);
    for link in &links {
        // What a QR code on a printed CV opens.
        let page = s
            .get(&format!("/verify?lang=en&url={}", urlencode(link)))
            .await;
        assert_eq!(page.status, 200);
        let sentence = verdict_of(&page.text());
        assert!(
            sentence.starts_with("This badge is authentic."),
            "{link}: {sentence}"
        );
        // The same through the API.
        let r = s
            .request(
                Some(
                    json!({"url": link, "recipient": "lea@example.org"})
                        .to_string()
                        .into_bytes(),
                ),
                "/api/v1/verify",
                &[("content-type", JSON)],
            )
            .await;
        let report = r.json();
        assert_eq!(report["verdict"], "valid", "{link}: {report:#}");
        assert!(
            report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == "recipient" && c["status"] == "pass"),
            "{report:#}"
        );
    }
    // A link that answers nothing useful is explained, not a 500.
    let r = s
        .request(
            Some(
                json!({"url": s.url("/no-such-badge")})
                    .to_string()
                    .into_bytes(),
            ),
            "/api/v1/verify",
            &[("content-type", JSON)],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["verdict"], "indeterminate", "{}", r.text());
    // Not a link at all: a precise 422.
    let r = s
        .request(
            Some(
                json!({"url": "ftp://example.org/x"})
                    .to_string()
                    .into_bytes(),
            ),
            "/api/v1/verify",
            &[("content-type", JSON)],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], "url");
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

#[tokio::test]
async fn nothing_to_verify_and_junk_get_a_readable_page_not_a_500() {
    let s = Server::new().await;
    let r = s.post_form(&[("lang", None, b"fr")]).await;
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("Choisissez l&#39;image du badge"),
        "{}",
        r.text()
    );
    let r = s
        .post_form(&[("file", Some("x.png"), b"\x89PNG\r\n\x1a\nnot really")])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        verdict_of(&r.text()),
        "Ce n&#39;est pas un badge que nous pouvons lire."
    );
    let r = s
        .request(
            Some(b"garbage".to_vec()),
            "/verify",
            &[("content-type", "multipart/form-data; boundary=x")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let r = s
        .request(
            Some(b"a=b".to_vec()),
            "/verify",
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    s.shutdown().await;
}

#[tokio::test]
async fn the_openapi_document_matches_what_the_server_does() {
    let s = Server::new().await;
    let r = s.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    // Every documented path and method is routed (a wrong method answers 405, an unknown path 404).
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path.replace("{id}", "00000000-0000-4000-8000-000000000000");
        for method in item.as_object().unwrap().keys() {
            let resp = match method.as_str() {
                "get" => s.get(&concrete).await,
                "post" => s.request(Some(Vec::new()), &concrete, &[]).await,
                "patch" => {
                    let r = s.client.patch(s.url(&concrete)).send().await.unwrap();
                    let status = r.status().as_u16();
                    Resp {
                        status,
                        headers: r.headers().clone(),
                        body: r.bytes().await.unwrap().to_vec(),
                    }
                }
                "put" => {
                    let r = s.client.put(s.url(&concrete)).send().await.unwrap();
                    let status = r.status().as_u16();
                    Resp {
                        status,
                        headers: r.headers().clone(),
                        body: r.bytes().await.unwrap().to_vec(),
                    }
                }
                "delete" => {
                    let r = s.client.delete(s.url(&concrete)).send().await.unwrap();
                    let status = r.status().as_u16();
                    Resp {
                        status,
                        headers: r.headers().clone(),
                        body: r.bytes().await.unwrap().to_vec(),
                    }
                }
                other => panic!("undocumented method {other}"),
            };
            assert_ne!(resp.status, 405, "{method} {path}");
            if !path.contains("{id}") {
                assert_ne!(resp.status, 404, "{method} {path}: {}", resp.text());
            }
        }
    }
    // Real reports validate against the documented schema.
    let mut schema = doc.clone();
    schema["$ref"] = json!("#/components/schemas/Report");
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let award = s.issue().await;
    let png = s.form(&award, "png").await.body;
    let mut reports: Vec<Value> = vec![
        s.verify(PNG, png.clone(), Some("lea@example.org")).await,
        s.verify(JSON, b"{}".to_vec(), None).await,
        s.verify("text/plain", b"eyJhbGciOiJub25lIn0.e30.".to_vec(), None)
            .await,
    ];
    if let Some(a) = award["ob2"]["assertion"].as_str() {
        reports.push(s.verify("text/plain", a.as_bytes().to_vec(), None).await);
    }
    for report in &reports {
        let errors: Vec<String> = validator
            .iter_errors(report)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{report:#}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn too_many_verifications_from_one_address_get_a_clear_429() {
    let s = Server::with_args(&["--verify-rate-per-minute=6", "--verify-rate-burst=2"]).await;
    for _ in 0..2 {
        let r = s.verify_raw(JSON, b"{}".to_vec(), None).await;
        assert_eq!(r.status, 200);
    }
    let r = s.verify_raw(JSON, b"{}".to_vec(), None).await;
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(r.json()["type"], "urn:carnet:error:rate_limited");
    let wait: u64 = r
        .header("retry-after")
        .parse()
        .expect("Retry-After seconds");
    assert!((1..=10).contains(&wait), "{wait}");
    // The page shares the budget and answers a browser in words, saying how long to wait.
    let page = s.get_html("/verify").await;
    assert_eq!(page.status, 429);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(page.text().contains("Attendez"), "{}", page.text());
    assert!(page.header("retry-after").parse::<u64>().is_ok());
    // Other pages are not limited.
    assert_eq!(s.get("/health").await.status, 200);
    s.shutdown().await;
}
