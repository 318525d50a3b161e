//! Badge requests (the OB-HERO flow) and their private evidence, against a real server.

use serde_json::{Value, json};

use crate::common;
use common::server::*;

const PNG_BYTES: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
const PDF_BYTES: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n";
const AUTH: &str = "Bearer 0123456789abcdefghijklmnopqrstuv";

async fn post_json(s: &Server, path: &str, body: Value) -> Resp {
    s.request(
        Some(body.to_string().into_bytes()),
        path,
        &[("content-type", JSON), ("authorization", AUTH)],
    )
    .await
}

async fn post_file(
    s: &Server,
    request: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> Resp {
    s.request(
        Some(bytes.to_vec()),
        &format!("/api/v1/badge-requests/{request}/evidence?filename={name}"),
        &[("content-type", content_type), ("authorization", AUTH)],
    )
    .await
}

async fn create(s: &Server) -> Value {
    let r = post_json(
        s,
        "/api/v1/badge-requests",
        json!({
            "badge_class": CLASS,
            "recipient_email": "lea@example.org",
            "recipient_name": "Léa",
            "narrative": "Je mets mes gants et mes lunettes à l'atelier.",
            "links": ["https://video.example.org/lea-atelier"],
            "requested_by": "Léa (apprenante)",
        }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

async fn act(s: &Server, id: &str, action: &str, body: Value) -> Resp {
    post_json(s, &format!("/api/v1/badge-requests/{id}/{action}"), body).await
}

#[tokio::test]
async fn a_request_with_evidence_is_returned_resubmitted_and_approved_with_private_evidence() {
    // with an issuer email, awards also get their Open Badges 2.0 assertion
    let s = Server::with_args(&["--issuer-email=contact@ime.example"]).await;
    let req = create(&s).await;
    let id = req["id"].as_str().unwrap().to_owned();
    assert_eq!(req["state"], "submitted");
    assert_eq!(req["requested_by"], "Léa (apprenante)");
    assert_eq!(req["submitted_by"], "api:test");
    // the clear email is never shown
    assert!(!req.to_string().contains("lea@example.org"));

    // a PNG sent as octet-stream and a PDF: the type comes from the bytes
    let png = post_file(&s, &id, "gants.png", "application/octet-stream", PNG_BYTES).await;
    assert_eq!(png.status, 201, "{}", png.text());
    assert_eq!(png.json()["media_type"], "image/png");
    let pdf = post_file(&s, &id, "consignes.pdf", "image/png", PDF_BYTES).await;
    assert_eq!(pdf.status, 201, "{}", pdf.text());
    assert_eq!(pdf.json()["genre"], "document");
    // the same content again is kept once
    let again = post_file(&s, &id, "copie.png", "image/png", PNG_BYTES).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["id"], png.json()["id"]);

    // returned without a comment: refused; with one: returned
    let r = act(&s, &id, "return", json!({})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = act(
        &s,
        &id,
        "return",
        json!({"comment": "Ajoute une photo des lunettes"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["state"], "returned");
    // a returned request cannot be approved before it is resubmitted
    let r = act(&s, &id, "approve", json!({})).await;
    assert_eq!(r.status, 409, "{}", r.text());
    let r = act(&s, &id, "resubmit", json!({})).await;
    assert_eq!(r.json()["state"], "submitted", "{}", r.text());
    let listed = s
        .request(
            None,
            "/api/v1/badge-requests?state=submitted",
            &[("authorization", AUTH)],
        )
        .await
        .json();
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str())
    );

    let approved = act(&s, &id, "approve", json!({})).await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    let approved = approved.json();
    assert_eq!(approved["state"], "approved");
    let award_id = approved["award_id"].as_str().unwrap().to_owned();
    // approving again: the same award
    let twice = act(&s, &id, "approve", json!({})).await;
    assert_eq!(twice.status, 200, "{}", twice.text());
    assert_eq!(twice.json()["award_id"], award_id.as_str());

    // the credential's evidence: the narrative, the files as private URLs, the link
    let credential = s.form(&approved["award"], "json").await.json();
    let evidence = credential["evidence"].as_array().unwrap();
    let files: Vec<&Value> = evidence
        .iter()
        .filter(|e| e["id"].as_str().is_some_and(|u| u.contains("/evidence/")))
        .collect();
    assert_eq!(files.len(), 2, "{evidence:?}");
    assert!(evidence.iter().any(|e| e["genre"] == "link"));
    for f in &files {
        assert_eq!(f.as_object().unwrap().len(), 5, "{f}");
        assert!(!f["id"].as_str().unwrap().contains("access="));
    }
    let png_url = files.iter().find(|f| f["genre"] == "image").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // the OB 2.0 assertion carries the same entries
    let assertion = s
        .get(approved["award"]["ob2"]["assertion"].as_str().unwrap())
        .await
        .json();
    assert!(
        assertion["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == png_url.as_str())
    );

    // private: nothing without access, a wrong token opens nothing
    assert_eq!(s.get(&png_url).await.status, 401);
    assert_eq!(s.get(&format!("{png_url}?access=nope")).await.status, 404);
    // the issuer's token opens it, with safe headers
    let r = s.request(None, &png_url, &[("authorization", AUTH)]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, PNG_BYTES);
    assert_eq!(r.header("content-type"), "image/png");
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    assert_eq!(r.header("cache-control"), "private, no-store");
    let pdf_url = files.iter().find(|f| f["genre"] == "document").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s.request(None, &pdf_url, &[("authorization", AUTH)]).await;
    assert_eq!(r.header("content-type"), "application/pdf");
    assert_eq!(r.header("content-disposition"), "attachment");

    // a share link opens it until revoked
    let evidence_id = png_url.rsplit('/').next().unwrap();
    let share = post_json(
        &s,
        &format!("/api/v1/evidence/{evidence_id}/shares"),
        json!({}),
    )
    .await;
    assert_eq!(share.status, 201, "{}", share.text());
    let share = share.json();
    assert_eq!(share["created_by"], "api:test");
    let link = share["url"].as_str().unwrap();
    let r = s.get(link).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, PNG_BYTES);
    let revoked = s
        .client
        .delete(s.url(&format!(
            "/api/v1/evidence/{evidence_id}/shares/{}",
            share["id"].as_str().unwrap()
        )))
        .header("authorization", AUTH)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 200);
    assert_eq!(s.get(link).await.status, 404);

    // every transition recorded with who and when
    let trail = s
        .request(
            None,
            &format!("/api/v1/badge-requests/{id}"),
            &[("authorization", AUTH)],
        )
        .await
        .json();
    let kinds: Vec<&str> = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["by"], "api:test");
            assert!(e["at"].as_str().is_some());
            e["kind"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "submitted",
            "evidence_added",
            "evidence_added",
            "returned",
            "resubmitted",
            "approved"
        ]
    );
    assert_eq!(
        trail["events"][3]["comment"],
        "Ajoute une photo des lunettes"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn the_list_comes_a_page_at_a_time_by_its_next_link() {
    let s = Server::new().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(create(&s).await["id"].as_str().unwrap().to_owned());
    }
    let get = |path: String| {
        let s = &s;
        async move { s.request(None, &path, &[("authorization", AUTH)]).await }
    };
    let first = get("/api/v1/badge-requests?state=submitted&limit=2".into()).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let first = first.json();
    let next = first["next"]
        .as_str()
        .expect("a full page links the next")
        .to_owned();
    assert!(
        next.contains("state=submitted") && next.contains("limit=2"),
        "{next}"
    );
    let path = next
        .split_once("/api/")
        .map(|(_, p)| format!("/api/{p}"))
        .unwrap();
    let second = get(path).await.json();
    assert_eq!(second["next"], Value::Null, "the last page");
    let listed: Vec<&str> = [&first, &second]
        .iter()
        .flat_map(|page| page["items"].as_array().unwrap())
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids, "oldest first, each once");
    for bad in ["limit=0", "limit=201", "after=nope"] {
        let r = get(format!("/api/v1/badge-requests?{bad}")).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
    }
}

#[tokio::test]
async fn decline_needs_a_reason_and_is_final() {
    let s = Server::new().await;
    let id = create(&s).await["id"].as_str().unwrap().to_owned();
    assert_eq!(act(&s, &id, "decline", json!({})).await.status, 422);
    let r = act(
        &s,
        &id,
        "decline",
        json!({"reason": "Ce badge ne correspond pas"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["state"], "declined");
    assert_eq!(act(&s, &id, "resubmit", json!({})).await.status, 409);
    assert_eq!(act(&s, &id, "approve", json!({})).await.status, 409);
    s.shutdown().await;
}

#[tokio::test]
async fn files_are_judged_by_their_bytes_and_their_size() {
    let s = Server::with_args(&["--max-evidence-bytes=4096", "--max-body-bytes=1024"]).await;
    let id = create(&s).await["id"].as_str().unwrap().to_owned();
    // a ".png" that is really a ZIP
    let r = post_file(
        &s,
        &id,
        "photo.png",
        "image/png",
        b"PK\x03\x04\x14\0\0\0\x08\0",
    )
    .await;
    assert_eq!(r.status, 415, "{}", r.text());
    assert!(
        r.json()["detail"].as_str().unwrap().contains("ZIP"),
        "{}",
        r.text()
    );
    // the evidence limit, not the general body limit, applies to evidence files
    let mut within = PNG_BYTES.to_vec();
    within.resize(3000, 0);
    let r = post_file(&s, &id, "photo.png", "application/octet-stream", &within).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let mut big = PNG_BYTES.to_vec();
    big.resize(5000, 0);
    let r = post_file(&s, &id, "big.png", "image/png", &big).await;
    assert_eq!(r.status, 413, "{}", r.text());
    s.shutdown().await;
}

#[tokio::test]
async fn classes_with_award_rules_and_anonymous_callers_are_refused() {
    let s = Server::new().await;
    let r = post_json(
        &s,
        "/api/v1/badge-requests",
        json!({
            "badge_class": "organiser-mon-activite-en-cuisine",
            "recipient_email": "lea@example.org",
            "requested_by": "Léa",
        }),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.json()["detail"].as_str().unwrap().contains("carnet"));
    let r = s
        .request(
            Some(b"{}".to_vec()),
            "/api/v1/badge-requests",
            &[("content-type", JSON)],
        )
        .await;
    assert_eq!(r.status, 401);
    s.shutdown().await;
}

#[tokio::test]
async fn a_class_that_requires_evidence_is_not_approved_without_any() {
    let s = Server::new().await;
    let r = post_json(
        &s,
        "/api/v1/badge-requests",
        json!({
            "badge_class": CLASS,
            "recipient_email": "lea@example.org",
            "requested_by": "Mme Durand, éducatrice, pour Léa",
        }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = act(&s, &id, "approve", json!({})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], "evidence");
    // still submitted, no award
    let r = s
        .request(
            None,
            &format!("/api/v1/badge-requests/{id}"),
            &[("authorization", AUTH)],
        )
        .await
        .json();
    assert_eq!(r["state"], "submitted");
    assert!(r["award_id"].is_null());
    s.shutdown().await;
}

async fn put_links(s: &Server, id: &str, body: Value) -> Resp {
    let r = s
        .client
        .put(s.url(&format!("/api/v1/badge-requests/{id}/links")))
        .header("content-type", JSON)
        .header("authorization", AUTH)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().await.unwrap().to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

/// A link stored before links were checked at the door: approval names it instead of failing at
/// signing; the educator corrects or drops it, and approval then works.
#[tokio::test]
async fn a_stored_link_that_cannot_be_signed_is_corrected_then_approved() {
    let s = Server::new().await;
    let created = create(&s).await;
    let id = created["id"].as_str().unwrap().to_owned();
    // the state an older carnet may have stored
    let legacy = vec![
        "https://video.example.org/lea-atelier".to_owned(),
        "https://x.invalid/a b".to_owned(),
    ];
    s.app
        .store
        .correct_badge_request_links(id.parse().unwrap(), &legacy, "test:legacy", None)
        .await
        .unwrap();

    let r = act(&s, &id, "approve", json!({})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], "links[1]");
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("/api/v1/badge-requests/{id}/links")),
        "{}",
        r.text()
    );
    // no award, still submitted
    let doc = s
        .request(
            None,
            &format!("/api/v1/badge-requests/{id}"),
            &[("authorization", AUTH)],
        )
        .await
        .json();
    assert_eq!(doc["state"], "submitted");
    assert!(doc["award_id"].is_null());

    // the correction is checked like a new request's links, and needs a token
    let r = put_links(
        &s,
        &id,
        json!({"links": ["https://ok.example/", "http://[::1"]}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], "links[1]");
    let r = s
        .client
        .put(s.url(&format!("/api/v1/badge-requests/{id}/links")))
        .header("content-type", JSON)
        .body(json!({"links": []}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let r = put_links(
        &s,
        &id,
        json!({"links": ["https://video.example.org/lea-atelier"], "comment": "Le 2e lien était cassé."}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = r.json();
    assert_eq!(
        doc["links"],
        json!(["https://video.example.org/lea-atelier"])
    );
    let last = doc["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "links_corrected");
    assert_eq!(last["comment"], "Le 2e lien était cassé.");

    let r = act(&s, &id, "approve", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["state"], "approved");
    // closed: the links stay as they were signed
    let r = put_links(&s, &id, json!({"links": []})).await;
    assert_eq!(r.status, 409, "{}", r.text());
    s.shutdown().await;
}
