//! Errors by content negotiation (`src/http/error_page.rs`), on a running server: outside
//! `/api/`, a browser gets an HTML page in its language (the page shell: `lang`, a title, header,
//! `<main>`, footer, an `<h1>` in plain words, a way back); under `/api/`, and for programs
//! everywhere, RFC 9457 problem JSON — axum's own rejections included. Successful answers and
//! pages that are already HTML are left alone.

use serde_json::{Value, json};

use crate::common;
use common::server::*;

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

async fn browser(s: &Server, path: &str, lang: Option<&str>) -> Resp {
    let mut headers = vec![("accept", BROWSER)];
    if let Some(l) = lang {
        headers.push(("accept-language", l));
    }
    s.request(None, path, &headers).await
}

fn assert_problem(r: &Resp, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("content-type"), "application/problem+json");
    let p = r.json();
    assert!(
        p["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:carnet:error:")),
        "{p}"
    );
    assert_eq!(p["status"], status, "{p}");
    assert!(p["title"].is_string(), "{p}");
    assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()), "{p}");
    p
}

/// An error page in the shell: its status, `lang`, `<h1>`, landmarks and ways back.
fn assert_page(r: &Resp, status: u16, lang: &str, h1: &str) -> String {
    assert_eq!(r.status, status, "{}", r.text());
    assert!(
        r.header("content-type").starts_with("text/html"),
        "{}",
        r.header("content-type")
    );
    let html = r.text();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{html}");
    assert!(html.contains(&format!("<h1>{h1}</h1>")), "{html}");
    assert!(
        html.contains(&format!("<title>{h1} – {ISSUER_NAME}</title>")),
        "{html}"
    );
    for landmark in ["<header", "<main", "<footer", "<nav"] {
        assert!(html.contains(landmark), "no {landmark}: {html}");
    }
    assert!(html.contains("<meta name=\"viewport\""), "{html}");
    assert!(html.contains(&format!("href=\"/?lang={lang}\"")), "{html}");
    assert!(
        html.contains(&format!("href=\"/verify?lang={lang}\"")),
        "{html}"
    );
    assert!(r.header("vary").contains("Accept"), "{:?}", r.headers);
    html
}

/// askama escapes `'` in text.
fn esc(s: &str) -> String {
    s.replace('\'', "&#39;")
}

#[tokio::test]
async fn a_browser_gets_a_page_in_its_language_a_program_problem_json() {
    let s = Server::new().await;

    // French by default, English by Accept-Language or ?lang=
    let fr = browser(&s, "/no/such/page", None).await;
    let html = assert_page(&fr, 404, "fr", &esc("Cette page n'existe pas."));
    // the language switch keeps the address
    assert!(html.contains("href=\"/no/such/page?lang=en\""), "{html}");
    assert!(
        html.contains("aria-current=\"page\">Français</a>"),
        "{html}"
    );
    // the detail, folded away, in English
    assert!(html.contains("<details class=\"technical\">"), "{html}");
    assert!(html.contains("no such page"), "{html}");
    let en = browser(&s, "/no/such/page", Some("en-GB,en;q=0.9,fr;q=0.5")).await;
    assert_page(&en, 404, "en", "This page does not exist.");
    let en = browser(&s, "/no/such/page?lang=en&x=1", None).await;
    let html = assert_page(&en, 404, "en", "This page does not exist.");
    assert!(
        html.contains("href=\"/no/such/page?x=1&#38;lang=fr\""),
        "{html}"
    );
    let fr = browser(&s, "/no/such/page?lang=fr", Some("en")).await;
    assert_page(&fr, 404, "fr", &esc("Cette page n'existe pas."));

    // unknown badge, unknown badge class
    let id = uuid::Uuid::new_v4();
    let r = browser(&s, &format!("/credentials/{id}"), None).await;
    assert_page(&r, 404, "fr", &esc("Ce badge n'existe pas."));
    let r = browser(&s, &format!("/credentials/{id}"), Some("en")).await;
    assert_page(&r, 404, "en", "This badge does not exist.");
    let r = browser(&s, "/badge-classes/cuisine", None).await;
    assert_page(&r, 404, "fr", &esc("Ce type de badge n'existe pas."));

    // a bad percent-encoding in the path (axum's own rejection, text/plain before)
    let r = browser(&s, "/credentials/%FF", None).await;
    assert_page(&r, 400, "fr", &esc("Cette demande n'est pas correcte."));
    // a method the page does not take
    let r = s
        .request(Some(b"x".to_vec()), "/issuers/ime", &[("accept", BROWSER)])
        .await;
    assert_page(
        &r,
        405,
        "fr",
        &esc("Cette page ne s'utilise pas de cette façon."),
    );

    // programs outside /api: problem JSON, whatever they accept
    for accept in [None, Some("application/json"), Some("*/*")] {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
        let r = s.request(None, "/no/such/page", &headers).await;
        assert_problem(&r, 404);
        let r = s
            .request(None, &format!("/credentials/{id}"), &headers)
            .await;
        assert_problem(&r, 404);
        let r = s.request(None, "/credentials/%FF", &headers).await;
        assert_problem(&r, 400);
    }
    // what was HTML before stays HTML: the endorser's own page for an unknown link
    let r = browser(
        &s,
        "/endorse/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    assert!(r.text().contains("ne marche pas"), "{}", r.text());
    // and a successful answer is untouched
    let r = s.get("/issuers/ime").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "application/ld+json");
    s.shutdown().await;
}

#[tokio::test]
async fn under_api_every_error_is_problem_json_even_for_a_browser() {
    let s = Server::with_body_limit(4096).await;
    let auth = format!("Bearer {TOKEN}");
    let json_body = ("content-type", JSON);

    // 404 and 405
    assert_problem(&browser(&s, "/api/v1/nothing-here", None).await, 404);
    let p = assert_problem(&browser(&s, "/api/v1/awards", None).await, 405);
    assert_eq!(p["type"], "urn:carnet:error:method_not_allowed");
    // a bad percent-encoding in the path: axum's rejection, as problem JSON
    let r = s
        .request(
            None,
            "/api/v1/awards/%FF",
            &[("accept", BROWSER), ("authorization", &auth)],
        )
        .await;
    let p = assert_problem(&r, 400);
    assert_eq!(p["type"], "urn:carnet:error:bad_request");
    // 413: over the body limit
    let big = json!({"badge_class": CLASS, "narrative": "x".repeat(8000)}).to_string();
    let r = s
        .request(
            Some(big.into_bytes()),
            "/api/v1/awards",
            &[("accept", BROWSER), ("authorization", &auth), json_body],
        )
        .await;
    assert_problem(&r, 413);
    // 415: a body the verifier does not read
    let r = s
        .request(
            Some(b"a,b".to_vec()),
            "/api/v1/verify",
            &[("accept", BROWSER), ("content-type", "text/csv")],
        )
        .await;
    assert_problem(&r, 415);
    // 422: JSON that does not fit
    let r = s
        .request(
            Some(b"[1]".to_vec()),
            "/api/v1/awards",
            &[("accept", BROWSER), ("authorization", &auth), json_body],
        )
        .await;
    assert_problem(&r, 422);

    // 401 keeps WWW-Authenticate, under /api and on a page
    let r = s
        .request(
            Some(b"{}".to_vec()),
            "/api/v1/awards",
            &[("accept", BROWSER), json_body],
        )
        .await;
    assert_problem(&r, 401);
    assert_eq!(r.header("www-authenticate"), "Bearer realm=\"carnet\"");
    let id = uuid::Uuid::new_v4();
    let r = browser(&s, &format!("/evidence/{id}"), None).await;
    assert_page(&r, 401, "fr", "Cette page est réservée.");
    assert_eq!(r.header("www-authenticate"), "Bearer realm=\"carnet\"");
    let r = s.get(&format!("/evidence/{id}")).await;
    assert_problem(&r, 401);
    assert_eq!(r.header("www-authenticate"), "Bearer realm=\"carnet\"");
    s.shutdown().await;
}

#[tokio::test]
async fn a_withdrawn_badge_says_so_to_a_browser_and_stays_json_for_verifiers() {
    let s = Server::with_args(&["--issuer-email=contact@ime.example.org"]).await;
    let award = s.issue().await;
    let id = award["id"].as_str().expect("id");
    let r = s
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
    assert_eq!(r.status, 200, "{}", r.text());
    let assertion = award["ob2"]["assertion"]
        .as_str()
        .expect("OB 2.0 assertion");

    let fr = browser(&s, assertion, None).await;
    let html = assert_page(&fr, 410, "fr", &esc("Ce badge a été retiré."));
    assert!(html.contains("Raison donnée"), "{html}");
    assert!(html.contains("Donné par erreur"), "{html}");
    let en = browser(&s, assertion, Some("en")).await;
    let html = assert_page(&en, 410, "en", "This badge was withdrawn.");
    assert!(html.contains("Reason given: Donné par erreur"), "{html}");

    // a verifier still gets the OB 2.0 revocation answer
    for accept in [None, Some("application/ld+json"), Some("application/json")] {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
        let r = s.request(None, assertion, &headers).await;
        assert_eq!(r.status, 410);
        let doc = r.json();
        assert_eq!(doc["revoked"], true, "{doc}");
    }
    s.shutdown().await;
}
