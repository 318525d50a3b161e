//! The référentiel and carnet API through the real router: imports (JSON, CSV), problems with their
//! lines, idempotent re-import, carnets and the edit of one entry, tokens everywhere.

use crate::common;

use common::server::*;
use serde_json::{Value, json};

const RECTEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/referentiels/rectec.json");
const CSV: &str = "text/csv";

/// A small trade référentiel with parts to strike out, in CSV (`;`, as French spreadsheets write).
const TRADE_CSV: &str = "kind;id;parent;text;description;colour\n\
referentiel;agent-test;;Agent de test;;\n\
version;;;2024-1;;\n\
source;;;Fictif, pour les tests;;\n\
licence;;;\"Domaine public; fictif\";;\n\
level;1;;Niveau 1;;\n\
level;2;;Niveau 2;;\n\
competence;C1;;\"Mettre la table; ranger la vaisselle\";;\n\
part;a;C1;Mettre la table;;\n\
part;b;C1;ranger la vaisselle;;\n\
competence;C2;;Préparer son matériel;;\n";

fn auth() -> String {
    format!("Bearer {TOKEN}")
}

async fn post(s: &Server, path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Resp {
    let auth = auth();
    s.request(
        Some(body.into()),
        path,
        &[("content-type", content_type), ("authorization", &auth)],
    )
    .await
}

async fn get(s: &Server, path: &str) -> Resp {
    let auth = auth();
    s.request(None, path, &[("authorization", &auth)]).await
}

async fn patch(s: &Server, path: &str, body: Value) -> Resp {
    let r = s
        .client
        .patch(s.url(path))
        .header("authorization", auth())
        .header("content-type", JSON)
        .body(body.to_string())
        .send()
        .await
        .expect("request sent");
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    Resp {
        status,
        headers,
        body: r.bytes().await.expect("body").to_vec(),
    }
}

/// Asserts a 422 problem document and returns its `errors`.
fn problems(r: &Resp) -> Vec<Value> {
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.header("content-type"), "application/problem+json");
    let doc = r.json();
    assert_eq!(doc["type"], "urn:carnet:error:invalid_field");
    let errors = doc["errors"].as_array().expect("errors").clone();
    assert_eq!(doc["field"], errors[0]["field"]);
    assert_eq!(doc["error_count"], errors.len());
    errors
}

fn find<'a>(errors: &'a [Value], field: &str) -> &'a Value {
    errors
        .iter()
        .find(|e| e["field"] == field)
        .unwrap_or_else(|| panic!("no problem about {field}: {errors:#?}"))
}

fn lea_carnet(entries: Value) -> Value {
    json!({
        "referentiel": {"id": "agent-test", "version": "2024-1"},
        "person": {"email": "lea.martin@example.org", "display_name": "Léa"},
        "entries": entries,
    })
}

async fn with_trade() -> Server {
    let s = Server::new().await;
    let r = post(&s, "/api/v1/referentiels", CSV, TRADE_CSV).await;
    assert_eq!(r.status, 201, "{}", r.text());
    s
}

#[tokio::test]
async fn every_route_needs_a_token() {
    let s = Server::new().await;
    let id = "00000000-0000-4000-8000-000000000000";
    for (method, path) in [
        ("GET", "/api/v1/referentiels".to_string()),
        ("POST", "/api/v1/referentiels".into()),
        ("GET", "/api/v1/referentiels/rectec/2021".into()),
        ("POST", "/api/v1/carnets".into()),
        ("GET", format!("/api/v1/carnets/{id}")),
        ("PATCH", format!("/api/v1/carnets/{id}/entries/1")),
    ] {
        let req = match method {
            "GET" => s.client.get(s.url(&path)),
            "POST" => s.client.post(s.url(&path)).body("{}"),
            _ => s.client.patch(s.url(&path)).body("{}"),
        };
        let r = req
            .header("authorization", "Bearer wrong-token-wrong-token-wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn the_rectec_file_imports_once_and_reads_back_unchanged() {
    let s = Server::new().await;
    let text = std::fs::read(RECTEC).unwrap();
    let r = post(&s, "/api/v1/referentiels", JSON, text.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    assert_eq!(created["created"], true);
    assert_eq!(created["competences"], 12);
    let url = format!("{}/api/v1/referentiels/rectec/2021", s.base);
    assert_eq!(created["url"], url.as_str());
    assert_eq!(r.header("location"), url);

    // The same file again: nothing changes.
    let again = post(
        &s,
        "/api/v1/referentiels",
        "application/json; charset=utf-8",
        text.clone(),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["created"], false);
    assert_eq!(again.json()["digest"], created["digest"]);

    let read = get(&s, "/api/v1/referentiels/rectec/2021").await;
    assert_eq!(read.status, 200);
    let expected: Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(read.json(), expected, "the export is the import format");
    assert_eq!(
        read.header("etag"),
        format!("\"{}\"", created["digest"].as_str().unwrap())
    );

    let list = get(&s, "/api/v1/referentiels").await.json();
    let items = list["referentiels"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], "rectec");
    assert_eq!(items[0]["imported_by"], "api:test");
    assert_eq!(
        get(&s, "/api/v1/referentiels/rectec/1999").await.status,
        404
    );

    // Other content under the same version is refused.
    let changed = String::from_utf8(text)
        .unwrap()
        .replace("Travailler en équipe", "Travailler à plusieurs");
    let r = post(&s, "/api/v1/referentiels", JSON, changed).await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.json()["type"], "urn:carnet:error:conflict");
    s.shutdown().await;
}

#[tokio::test]
async fn a_csv_referentiel_reads_back_as_json() {
    let s = with_trade().await;
    let r = get(&s, "/api/v1/referentiels/agent-test/2024-1")
        .await
        .json();
    assert_eq!(r["licence"], "Domaine public; fictif");
    assert_eq!(
        r["competences"][0]["wording"],
        "Mettre la table; ranger la vaisselle"
    );
    assert_eq!(r["competences"][0]["parts"][1]["id"], "b");
    s.shutdown().await;
}

#[tokio::test]
async fn import_problems_name_line_and_field_and_are_all_listed() {
    let s = Server::new().await;
    // JSON syntax: the line of the error.
    let r = post(
        &s,
        "/api/v1/referentiels",
        JSON,
        "{\n\"id\": \"x\"\n\"name\": 1}",
    )
    .await;
    let errors = problems(&r);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["field"].as_str()),
        (Some(3), Some("(syntax)"))
    );
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("line 3: (syntax):")
    );

    // JSON rules: every problem, at the line of its value.
    let body = "{\n\"id\": \"Bad Id\",\n\"name\": \"N\",\n\"version\": \"1\",\n\"source\": \"s\",\n\
                \"licence\": \"l\",\n\"competences\": [\n{\"id\": \"1\", \"wording\": \"\"},\n\
                {\"id\": \"1\", \"wording\": \"w\", \"group\": \"g\"}\n]\n}";
    let errors = problems(&post(&s, "/api/v1/referentiels", JSON, body).await);
    assert_eq!(find(&errors, "id")["line"], 2);
    assert_eq!(find(&errors, "competences[0].wording")["line"], 8);
    assert_eq!(find(&errors, "competences[1].id")["line"], 9);
    assert_eq!(find(&errors, "competences[1].group")["line"], 9);
    assert_eq!(errors.len(), 4, "{errors:#?}");

    // CSV: the line and the column.
    let broken = TRADE_CSV
        .replace("part;b;C1;", "part;b;C7;")
        .replace("level;2;;Niveau 2;;", "level;2;;Niveau 2;;vert");
    let errors = problems(&post(&s, "/api/v1/referentiels", CSV, broken).await);
    assert_eq!(find(&errors, "colour")["line"], 7);
    assert_eq!(find(&errors, "parent")["line"], 10);
    let unclosed = format!("{TRADE_CSV}competence;C3;;\"jamais fermé\n");
    let errors = problems(&post(&s, "/api/v1/referentiels", CSV, unclosed).await);
    assert_eq!(find(&errors, "(syntax)")["line"], 12);

    // Over the size limit (4 MiB for a référentiel).
    let big = vec![b' '; 4 * 1024 * 1024 + 1];
    let r = post(&s, "/api/v1/referentiels", JSON, big).await;
    assert_eq!(r.status, 413, "{}", r.text());

    // Neither JSON nor CSV.
    let r = post(&s, "/api/v1/referentiels", "text/plain", TRADE_CSV).await;
    assert_eq!(r.status, 415, "{}", r.text());
    assert_eq!(
        get(&s, "/api/v1/referentiels").await.json()["referentiels"],
        json!([])
    );
    s.shutdown().await;
}

#[tokio::test]
async fn a_carnet_imports_reads_back_and_keeps_no_email() {
    let s = with_trade().await;
    let carnet = lea_carnet(json!([
        {"competence": "C2", "answer": "je_fais", "recognition": "validated",
         "modality": "en_situation_de_travail", "date": "2024-06-14", "level": "2",
         "jury": [{"name": "Mme Durand", "role": "professionnelle extérieure"},
                  {"name": "M. Petit", "role": "directeur"}]},
        {"competence": "C1", "answer": "je_fais_en_partie", "struck": ["b"]},
    ]));
    let r = post(&s, "/api/v1/carnets", JSON, carnet.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let doc = r.json();
    let id = doc["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        format!("{}/api/v1/carnets/{id}", s.base)
    );
    assert_eq!(doc["person"], json!({"display_name": "Léa"}));
    assert_eq!(doc["referentiel"]["name"], "Agent de test");
    assert_eq!(doc["revision"], 0);
    // In the référentiel's order, with the wording; answers and recognitions as given.
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries[0]["competence"], "C1");
    assert_eq!(entries[0]["answer"], "je_fais_en_partie");
    assert_eq!(entries[0]["recognition"], "declared");
    assert_eq!(entries[0]["struck"], json!(["b"]));
    assert_eq!(
        entries[0]["wording"],
        "Mettre la table; ranger la vaisselle"
    );
    assert_eq!(entries[1]["recognition"], "validated");
    assert_eq!(entries[1]["jury"][0]["role"], "professionnelle extérieure");
    assert_eq!(entries[1]["updated_by"], "api:test");
    let text = r.text();
    assert!(
        !text.contains("lea.martin") && !text.contains("sha256$"),
        "{text}"
    );

    let read = get(&s, &format!("/api/v1/carnets/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json(), doc);

    // One carnet per person and référentiel version (the email is compared hashed).
    let mut again = lea_carnet(json!([]));
    again["person"]["email"] = "LEA.MARTIN@example.org".into();
    let r = post(&s, "/api/v1/carnets", JSON, again.to_string()).await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.json()["detail"].as_str().unwrap().contains(&id));

    assert_eq!(get(&s, "/api/v1/carnets/not-a-uuid").await.status, 404);
    let unknown = get(&s, "/api/v1/carnets/00000000-0000-4000-8000-000000000000").await;
    assert_eq!(unknown.status, 404);
    s.shutdown().await;
}

#[tokio::test]
async fn carnet_problems_are_all_listed_with_their_lines() {
    let s = with_trade().await;
    let body = serde_json::to_string_pretty(&lea_carnet(json!([
        {"competence": "C1", "answer": "je_fais", "struck": ["z"]},
        {"competence": "C2", "answer": "je_fais", "recognition": "validated"},
    ])))
    .unwrap();
    let errors = problems(&post(&s, "/api/v1/carnets", JSON, body).await);
    assert!(
        find(&errors, "entries[0].struck[0]")["problem"]
            .as_str()
            .unwrap()
            .contains("no part \"z\"")
    );
    assert!(
        find(&errors, "entries[0].struck")["problem"]
            .as_str()
            .unwrap()
            .contains("je_fais_en_partie")
    );
    for field in ["date", "jury", "modality"] {
        let e = find(&errors, &format!("entries[1].{field}"));
        assert!(e["line"].as_u64().is_some(), "{e}");
    }

    let mut unknown = lea_carnet(json!([]));
    unknown["referentiel"]["version"] = "2030".into();
    let errors = problems(&post(&s, "/api/v1/carnets", JSON, unknown.to_string()).await);
    assert!(
        find(&errors, "referentiel.id")["problem"]
            .as_str()
            .unwrap()
            .contains("import it first")
    );
    let r = post(&s, "/api/v1/carnets", CSV, "a;b").await;
    assert_eq!(r.status, 415);
    s.shutdown().await;
}

#[tokio::test]
async fn one_entry_is_edited_and_a_jury_decision_is_never_changed_quietly() {
    let s = with_trade().await;
    let carnet = lea_carnet(json!([
        {"competence": "C1", "answer": "je_fais_en_partie", "struck": ["b"],
         "recognition": "validated", "modality": "externe", "date": "2024-06-14",
         "jury": ["Mme Durand (DAVA)", "M. Petit (directeur d'ESMS)"], "level": "1"},
    ]));
    let r = post(&s, "/api/v1/carnets", JSON, carnet.to_string()).await;
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let entry = |c: &str| format!("/api/v1/carnets/{id}/entries/{c}");

    // Positioning a new competence.
    let r = patch(
        &s,
        &entry("C2"),
        json!({"answer": "je_fais", "comment": "Je prépare seul."}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["revision"], 1);
    assert_eq!(doc["entries"][1]["competence"], "C2");
    assert_eq!(doc["entries"][1]["recognition"], "declared");

    // A comment with a control character is refused, naming it; nothing changes.
    let r = patch(
        &s,
        &entry("C2"),
        json!({"comment": "Je pr\u{1b}[31mépare seul."}),
    )
    .await;
    let errors = problems(&r);
    assert_eq!(errors[0]["field"], "comment", "{errors:?}");
    assert!(
        errors[0]["problem"]
            .as_str()
            .unwrap()
            .contains("control character (U+001B)"),
        "{errors:?}"
    );
    assert_eq!(
        get(&s, &format!("/api/v1/carnets/{id}")).await.json()["revision"],
        1
    );

    // « en partie » validated by a jury does not become « je fais » without a new decision.
    let r = patch(&s, &entry("C1"), json!({"answer": "je_fais", "struck": []})).await;
    let errors = problems(&r);
    assert_eq!(errors[0]["field"], "recognition");
    assert_eq!(errors[0]["line"], Value::Null);
    let unchanged = get(&s, &format!("/api/v1/carnets/{id}")).await.json();
    assert_eq!(unchanged["entries"][0]["answer"], "je_fais_en_partie");
    assert_eq!(unchanged["revision"], 1);

    // With the new jury decision it does.
    let r = patch(
        &s,
        &entry("C1"),
        json!({"answer": "je_fais", "struck": null, "date": "2025-02-03",
               "jury": [{"name": "Mme Durand", "role": "DAVA"}], "level": "2"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let c1 = &r.json()["entries"][0];
    assert_eq!(
        (c1["answer"].as_str(), c1["level"].as_str()),
        (Some("je_fais"), Some("2"))
    );
    assert_eq!(c1.get("struck"), None);

    // Field problems, each named.
    let errors = problems(
        &patch(
            &s,
            &entry("C2"),
            json!({"answer": "oui", "level": "9", "colour": "bleu"}),
        )
        .await,
    );
    assert!(errors.iter().any(|e| e["field"] == "answer"));
    assert!(errors.iter().any(|e| e["field"] == "colour"));
    let errors = problems(&patch(&s, &entry("C9"), json!({"answer": "je_fais"})).await);
    assert_eq!(errors[0]["field"], "competence");
    let errors = problems(&patch(&s, &entry("C2"), json!({"level": "9"})).await);
    assert!(
        errors[0]["problem"]
            .as_str()
            .unwrap()
            .contains("levels: 1, 2")
    );
    let r = patch(
        &s,
        "/api/v1/carnets/00000000-0000-4000-8000-000000000000/entries/C1",
        json!({"answer": "je_fais"}),
    )
    .await;
    assert_eq!(r.status, 404);
    s.shutdown().await;
}

#[tokio::test]
async fn the_referentiel_routes_are_documented() {
    let s = Server::new().await;
    let doc = s.get("/api/v1/openapi.json").await.json();
    for (path, method) in [
        ("/api/v1/referentiels", "get"),
        ("/api/v1/referentiels", "post"),
        ("/api/v1/referentiels/{id}/{version}", "get"),
        ("/api/v1/carnets", "post"),
        ("/api/v1/carnets/{id}", "get"),
        ("/api/v1/carnets/{id}/entries/{competence}", "patch"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    s.shutdown().await;
}
