//! Bulk awards through a real server (`POST /api/v1/bulk-awards`, `GET /api/v1/bulk-awards/{job}`):
//! rows in error reported with their lines while the others are issued, re-sending a file issues
//! nothing twice, and a job interrupted between issuing and marking is completed at the next start
//! without a duplicate (awards counted in the store).

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::common;
use common::server::*;

/// 20 rows, `;`-separated as French Excel writes them (with its byte-order mark); line 7 has a bad
/// email and line 15 a date in the past. Lines are 2..=21.
fn twenty_rows() -> String {
    let mut text = String::from("\u{feff}email;name;narrative;valid_until\r\n");
    for i in 1..=20 {
        let line = match i {
            6 => "pas-un-courriel;Paul;;\r\n".to_string(),
            14 => format!("p{i}@example.org;;;2020-01-01\r\n"),
            _ => {
                format!("p{i}@example.org;Personne {i};\"A rangé l'atelier ; seul\";2030-06-30\r\n")
            }
        };
        text.push_str(&line);
    }
    text
}

async fn submit(server: &Server, query: &str, csv: &str) -> Resp {
    let auth = format!("Bearer {TOKEN}");
    server
        .request(
            Some(csv.as_bytes().to_vec()),
            &format!("/api/v1/bulk-awards{query}"),
            &[
                ("content-type", "text/csv; charset=utf-8"),
                ("authorization", &auth),
            ],
        )
        .await
}

async fn get_job(server: &Server, url: &str) -> Value {
    let auth = format!("Bearer {TOKEN}");
    let r = server.request(None, url, &[("authorization", &auth)]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Polls the job until it is done (or failed).
async fn until_finished(server: &Server, url: &str) -> Value {
    for _ in 0..1200 {
        let job = get_job(server, url).await;
        if job["state"] == "done" || job["state"] == "failed" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the job did not finish: {}", get_job(server, url).await);
}

/// Submits and waits: the finished job document.
async fn run_file(server: &Server, csv: &str) -> Value {
    let r = submit(server, &format!("?badge_class={CLASS}"), csv).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let location = r.header("location").to_string();
    let job = r.json();
    assert_eq!(location, job["url"].as_str().unwrap());
    assert!(location.ends_with(&format!(
        "/api/v1/bulk-awards/{}",
        job["id"].as_str().unwrap()
    )));
    until_finished(server, &location).await
}

fn counts(job: &Value) -> (u64, u64, u64, u64) {
    let c = &job["counts"];
    let n = |k: &str| c[k].as_u64().unwrap();
    (n("total"), n("issued"), n("already"), n("failed"))
}

fn award_ids(job: &Value) -> Vec<String> {
    job["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["award_id"].as_str().map(str::to_string))
        .collect()
}

async fn awards_in_store(server: &Server) -> u64 {
    server
        .app
        .store
        .count_awards(server.app.issuer.slug())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_file_is_issued_row_by_row_and_resending_it_issues_nothing_twice() {
    let server = Server::new().await;
    let job = run_file(&server, &twenty_rows()).await;
    assert_eq!(job["state"], "done", "{job:#}");
    assert_eq!(counts(&job), (20, 18, 0, 2), "{job:#}");
    assert_eq!(job["counts"]["pending"], 0);
    assert_eq!(job["badge_class"], CLASS);
    assert_eq!(job["created_by"], "api:test");
    // The rows in error, with their lines, columns and reasons (no email repeated).
    let errors = job["errors"].as_array().unwrap();
    let at: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(at, [(7, "email"), (15, "valid_until")], "{errors:?}");
    assert!(!job.to_string().contains("pas-un-courriel"));
    assert!(!job.to_string().contains("@example.org"));
    // 18 distinct awards, each one stored and served.
    let ids = award_ids(&job);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 18);
    assert_eq!(awards_in_store(&server).await, 18);
    let row = &job["rows"][0];
    assert_eq!(
        (row["line"].as_u64(), row["status"].as_str()),
        (Some(2), Some("issued"))
    );
    let auth = format!("Bearer {TOKEN}");
    let award = server
        .request(
            None,
            row["award_url"].as_str().unwrap(),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(award.status, 200, "{}", award.text());
    let credential = server.form(&award.json(), "json").await.json();
    let subject = &credential["credentialSubject"];
    assert_eq!(subject["identifier"][0]["hashed"], true, "{subject:#}");
    assert!(credential.to_string().contains("Personne 1"));
    assert!(credential.to_string().contains("A rangé l'atelier ; seul"));

    // The job document is the one the OpenAPI document describes.
    let mut schema = server.get("/api/v1/openapi.json").await.json();
    schema["$ref"] = serde_json::json!("#/components/schemas/BulkJob");
    schema["$schema"] = serde_json::json!("https://json-schema.org/draft/2020-12/schema");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator.iter_errors(&job).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");

    // The same file again: a new job, every row already issued (or in error again).
    let again = run_file(&server, &twenty_rows()).await;
    assert_ne!(again["id"], job["id"]);
    assert_eq!(counts(&again), (20, 0, 18, 2), "{again:#}");
    let mut first = ids.clone();
    let mut second = award_ids(&again);
    first.sort();
    second.sort();
    assert_eq!(first, second, "the same awards");
    assert_eq!(awards_in_store(&server).await, 18);

    // The file corrected (the two rows fixed): only those two are issued.
    let fixed = twenty_rows()
        .replace("pas-un-courriel", "p6@example.org")
        .replace("2020-01-01", "2031-01-01");
    let fixed = run_file(&server, &fixed).await;
    assert_eq!(counts(&fixed), (20, 2, 18, 0), "{fixed:#}");
    assert_eq!(awards_in_store(&server).await, 20);

    // A batch name awards the class again to the same people.
    let r = submit(
        &server,
        &format!("?badge_class={CLASS}&batch=2026-juin"),
        "email\np1@example.org\n",
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let batch = until_finished(&server, r.header("location")).await;
    assert_eq!(
        (counts(&batch), &batch["batch"]),
        ((1, 1, 0, 0), &Value::from("2026-juin"))
    );
    assert_eq!(awards_in_store(&server).await, 21);
    server.shutdown().await;
}

#[tokio::test]
async fn a_job_interrupted_mid_way_is_completed_at_the_next_start_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), None, 8 * 1024 * 1024).await;
    let app = server.app.clone();
    // The job as `submit` stores it (nothing issued), then a run that "crashes": rows 2..=7
    // issued and marked, rows 8..=10 issued but never marked, the rest untouched.
    let job = carnet::bulk::submit(&app, CLASS, None, twenty_rows().into_bytes(), "api:test")
        .await
        .unwrap()
        .into_job();
    let job = app
        .store
        .set_bulk_job_state(job.id, carnet::store::JobState::Running, None)
        .await
        .unwrap()
        .unwrap();
    let class = app.class(CLASS).unwrap().clone();
    let pending = app.store.pending_bulk_rows(job.id, 0, 9).await.unwrap();
    assert_eq!(pending.len(), 9);
    let mut marked = Vec::new();
    for row in &pending {
        let outcome = carnet::bulk::issue_row(&app, &class, &job, row)
            .await
            .unwrap();
        assert!(
            matches!(outcome, carnet::store::RowOutcome::Issued(_)),
            "{outcome:?}"
        );
        if row.line <= 7 {
            marked.push((row.line, outcome));
        }
    }
    app.store.finish_bulk_rows(job.id, &marked).await.unwrap();
    assert_eq!(awards_in_store(&server).await, 9);
    server.shutdown().await;

    // The restart: what `carnet serve` does at start.
    let server = Server::start_in(dir.path(), None, 8 * 1024 * 1024).await;
    assert_eq!(
        carnet::bulk::resume_unfinished(&server.app).await.unwrap(),
        1
    );
    let url = carnet::bulk::job_url(&server.base, job.id);
    let done = until_finished(&server, &url).await;
    // Rows 8..=10 found their awards by key: issued by this job, not again.
    assert_eq!(counts(&done), (20, 18, 0, 2), "{done:#}");
    assert_eq!(awards_in_store(&server).await, 18);
    assert_eq!(award_ids(&done).iter().collect::<HashSet<_>>().len(), 18);
    // Nothing more to resume.
    assert_eq!(
        carnet::bulk::resume_unfinished(&server.app).await.unwrap(),
        0
    );
    server.shutdown().await;
}

/// Sending a file again while its job runs finds that job and leaves the server answering (it
/// once deadlocked the whole process: found by schemathesis).
#[tokio::test]
async fn resending_a_file_while_its_job_runs_leaves_the_server_answering() {
    let server = Server::new().await;
    let query = format!("?badge_class={CLASS}");
    let first = submit(&server, &query, &twenty_rows()).await;
    assert_eq!(first.status, 202, "{}", first.text());
    let again = submit(&server, &query, &twenty_rows()).await;
    assert_eq!(again.status, 202, "{}", again.text());
    assert_eq!(again.json()["id"], first.json()["id"]);
    let health = tokio::time::timeout(Duration::from_secs(10), server.get("/health"))
        .await
        .expect("the server still answers");
    assert_eq!(health.status, 200);
    let done = tokio::time::timeout(
        Duration::from_secs(120),
        until_finished(&server, first.header("location")),
    )
    .await
    .expect("the job ends");
    assert_eq!(counts(&done), (20, 18, 0, 2));
    assert_eq!(awards_in_store(&server).await, 18);
    server.shutdown().await;
}

#[tokio::test]
async fn resending_the_file_of_an_unfinished_job_continues_that_job() {
    let server = Server::new().await;
    // Stored but never started (as if the server stopped right after storing it).
    let job = carnet::bulk::submit(
        &server.app,
        CLASS,
        None,
        twenty_rows().into_bytes(),
        "api:test",
    )
    .await
    .unwrap()
    .into_job();
    let r = submit(&server, &format!("?badge_class={CLASS}"), &twenty_rows()).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["id"], job.id.to_string());
    assert_eq!(doc["resubmitted"], true);
    let done = until_finished(&server, r.header("location")).await;
    assert_eq!(counts(&done), (20, 18, 0, 2));
    assert_eq!(awards_in_store(&server).await, 18);
    server.shutdown().await;
}

#[tokio::test]
async fn refusals_are_problem_documents() {
    let server = Server::new().await;
    let csv = "email\nlea@example.org\n";
    let query = format!("?badge_class={CLASS}");
    // No token.
    let r = server
        .request(
            Some(csv.into()),
            &format!("/api/v1/bulk-awards{query}"),
            &[("content-type", "text/csv")],
        )
        .await;
    assert_eq!(r.status, 401);
    // No or unknown class, bad batch.
    for (q, field) in [
        ("", "badge_class"),
        ("?badge_class=inconnue", "badge_class"),
        (&*format!("{query}&batch=a%20b"), "batch"),
    ] {
        let r = submit(&server, q, csv).await;
        assert_eq!(r.status, 422, "{q}: {}", r.text());
        assert_eq!(r.header("content-type"), "application/problem+json");
        assert_eq!(r.json()["field"], field, "{q}");
    }
    // Not CSV.
    let auth = format!("Bearer {TOKEN}");
    let r = server
        .request(
            Some(b"{}".to_vec()),
            &format!("/api/v1/bulk-awards{query}"),
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
        )
        .await;
    assert_eq!(r.status, 415, "{}", r.text());
    // A file that cannot be read as a whole: every problem, with its line; no job.
    let r = submit(&server, &query, "name;courriel\nLéa;lea@example.org\n").await;
    assert_eq!(r.status, 422, "{}", r.text());
    let p = r.json();
    assert_eq!(p["error_count"], 2, "{p:#}");
    assert_eq!(p["errors"][0]["line"], 1);
    assert_eq!(p["errors"][1]["field"], "email");
    assert!(
        server
            .app
            .store
            .unfinished_bulk_jobs(server.app.issuer.slug())
            .await
            .unwrap()
            .is_empty()
    );
    // Unknown jobs.
    for path in [
        "/api/v1/bulk-awards/not-a-uuid",
        "/api/v1/bulk-awards/00000000-0000-4000-8000-000000000000",
    ] {
        let r = server
            .request(None, path, &[("authorization", &auth)])
            .await;
        assert_eq!(r.status, 404, "{path}");
    }
    let r = server
        .get("/api/v1/bulk-awards/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(r.status, 401);
    server.shutdown().await;
}
