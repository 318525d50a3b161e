//! Two institutions on one instance, side by side (issue #13 « Done when »): `ime` (the instance
//! token) and `esat-tilly` (a token of its own) each run a CSV bulk job, import a référentiel and a
//! carnet, confirm what the carnet earns and run a batch of carnets, all interleaved (every job
//! started before any is waited on), on SQLite and on PostgreSQL. Each sees only its own: every
//! award is issued under its institution's name, the other's jobs, carnets and awards answer 404
//! to its token, and no award id of one ever appears in an answer to the other.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::backends::{on_postgres, on_sqlite};
use crate::common::carnets::{RECTEC, RECTEC_CLASS};
use crate::common::server::{CLASS, ISSUER_NAME, JSON, Resp, Server, TOKEN, add_institution};

#[tokio::test]
async fn two_institutions_side_by_side_on_sqlite() {
    on_sqlite(side_by_side).await
}

#[tokio::test]
async fn two_institutions_side_by_side_on_postgres() {
    on_postgres(side_by_side).await
}

/// One institution as the API sees it: its slug, its token, and every answer it was given (to
/// look for the other's award ids in them).
struct Inst {
    slug: &'static str,
    name: &'static str,
    token: String,
    answers: Mutex<Vec<String>>,
}

impl Inst {
    fn new(slug: &'static str, name: &'static str, token: String) -> Inst {
        Inst {
            slug,
            name,
            token,
            answers: Mutex::new(Vec::new()),
        }
    }

    /// An API call with this institution's token; the answer is kept.
    async fn call(&self, s: &Server, body: Option<(&str, Vec<u8>)>, path: &str) -> Resp {
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![("authorization", auth.as_str())];
        let post = body.map(|(content_type, bytes)| {
            headers.push(("content-type", content_type));
            bytes
        });
        let r = s.request(post, path, &headers).await;
        self.answers.lock().unwrap().push(r.text());
        r
    }

    async fn get(&self, s: &Server, path: &str) -> Resp {
        self.call(s, None, path).await
    }

    async fn post(&self, s: &Server, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
        self.call(s, Some((content_type, body)), path).await
    }

    /// Emails of this institution's people (none shared with the other).
    fn email(&self, who: &str) -> String {
        format!("{who}.{}@example.org", self.slug)
    }
}

/// 3 rows, `;`-separated as French Excel writes them (with its byte-order mark), as in
/// `bulk_awards.rs`; emails and names of this institution's own.
fn csv(inst: &Inst) -> String {
    let mut text = String::from("\u{feff}email;name;narrative;valid_until\r\n");
    for i in 1..=3 {
        text.push_str(&format!(
            "{};Personne {i} {};\"A rangé l'atelier ; seul\";2030-06-30\r\n",
            inst.email(&format!("p{i}")),
            inst.slug
        ));
    }
    text
}

fn jury() -> Value {
    json!([{"name": "Mme Durand", "role": "professionnelle extérieure, métiers de la cuisine"},
           {"name": "M. Petit", "role": "directeur de l'établissement"}])
}

/// A RECTEC carnet that earns the RECTEC class: competence 1 validated by a jury at cercle 2
/// (as in `carnet_batch.rs`).
fn rectec_validated(email: &str) -> Value {
    json!({
        "referentiel": {"id": "rectec", "version": "2021"},
        "person": {"email": email, "display_name": "Une personne"},
        "entries": [
            {"competence": "1", "answer": "je_fais", "recognition": "validated",
             "modality": "en_situation_de_travail", "date": "2024-06-14", "level": "2",
             "jury": jury()},
            {"competence": "5", "answer": "je_fais_en_partie", "date": "2024-05-02"}
        ]
    })
}

/// Starts a job (202): its `Location`, checked against the document's `url` and `id`.
async fn start_job(
    s: &Server,
    inst: &Inst,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> String {
    let r = inst.post(s, path, content_type, body).await;
    let who = inst.slug;
    assert_eq!(r.status, 202, "{who}: POST {path}: {}", r.text());
    let location = r.header("location").to_string();
    let job = r.json();
    assert_eq!(
        location,
        job["url"].as_str().unwrap_or(""),
        "{who}: POST {path}: Location and url: {job:#}"
    );
    let id = job["id"].as_str().unwrap_or("");
    assert!(
        !id.is_empty() && location.ends_with(&format!("/{id}")),
        "{who}: POST {path}: Location {location} and id {id}"
    );
    assert_eq!(job["resubmitted"], false, "{who}: POST {path}: {job:#}");
    location
}

/// Polls a job with the institution's token until it is done (or failed).
async fn until_finished(s: &Server, inst: &Inst, url: &str) -> Value {
    let who = inst.slug;
    for _ in 0..1200 {
        let r = inst.get(s, url).await;
        assert_eq!(r.status, 200, "{who}: GET {url}: {}", r.text());
        let job = r.json();
        if job["state"] == "done" || job["state"] == "failed" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{who}: GET {url}: the job did not finish");
}

/// An award (its API document at `url`, read with the institution's token) and its credential,
/// checked to be the institution's: its issuer, its name, the credential's address under it.
async fn own_award(s: &Server, inst: &Inst, url: &str, call: &str) -> (Value, Value) {
    let who = inst.slug;
    let r = inst.get(s, url).await;
    assert_eq!(r.status, 200, "{who}: {call}: GET {url}: {}", r.text());
    let award = r.json();
    let credential = credential_of(s, inst, &award, call).await;
    (award, credential)
}

/// The credential of an award document, checked to be issued by the institution.
async fn credential_of(s: &Server, inst: &Inst, award: &Value, call: &str) -> Value {
    let who = inst.slug;
    let r = s.form(award, "json").await;
    assert_eq!(
        r.status,
        200,
        "{who}: {call}: the credential's JSON: {}",
        r.text()
    );
    let credential = r.json();
    let issuer = credential["issuer"]["id"].as_str().unwrap_or("");
    assert!(
        issuer.ends_with(&format!("/issuers/{who}")),
        "{who}: {call}: the credential's issuer.id is {issuer:?}"
    );
    assert_eq!(
        credential["issuer"]["name"], inst.name,
        "{who}: {call}: the credential's issuer.name"
    );
    credential
}

/// Every award id of a finished bulk job, each row issued.
fn bulk_award_ids(inst: &Inst, job: &Value) -> Vec<String> {
    let who = inst.slug;
    assert_eq!(job["state"], "done", "{who}: the bulk job: {job:#}");
    let c = &job["counts"];
    assert_eq!(
        [
            &c["total"],
            &c["issued"],
            &c["already"],
            &c["failed"],
            &c["pending"]
        ],
        [&json!(3), &json!(3), &json!(0), &json!(0), &json!(0)],
        "{who}: the bulk job's counts: {job:#}"
    );
    let rows = job["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3, "{who}: the bulk job's rows: {job:#}");
    let ids: Vec<String> = rows
        .iter()
        .map(|r| {
            assert_eq!(r["status"], "issued", "{who}: a bulk row: {job:#}");
            r["award_id"].as_str().expect("award_id").to_string()
        })
        .collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        3,
        "{who}: the bulk job's awards are distinct: {job:#}"
    );
    ids
}

/// The awards of a finished batch of 2 carnets, each carnet done and its RECTEC class issued:
/// (carnet URL, award document as the batch shows it).
fn batch_awards(inst: &Inst, job: &Value) -> Vec<(String, Value)> {
    let who = inst.slug;
    assert_eq!(job["state"], "done", "{who}: the carnet batch: {job:#}");
    let c = &job["counts"];
    let counts = [
        "carnets",
        "pending",
        "done",
        "failed",
        "awards_issued",
        "awards_already",
        "not_earned",
    ]
    .map(|k| c[k].as_u64());
    assert_eq!(
        counts,
        [2, 0, 2, 0, 2, 0, 0].map(Some),
        "{who}: the carnet batch's counts: {job:#}"
    );
    let carnets = job["carnets"].as_array().expect("carnets");
    assert_eq!(carnets.len(), 2, "{who}: the carnet batch: {job:#}");
    carnets
        .iter()
        .map(|carnet| {
            assert_eq!(
                (&carnet["status"], &carnet["imported"]),
                (&json!("done"), &json!(true)),
                "{who}: a carnet of the batch: {job:#}"
            );
            let awards = carnet["awards"].as_array().expect("awards");
            assert_eq!(awards.len(), 1, "{who}: a carnet of the batch: {job:#}");
            let award = &awards[0];
            assert_eq!(
                (&award["badge_class"], &award["outcome"]),
                (&json!(RECTEC_CLASS), &json!("issued")),
                "{who}: a carnet of the batch: {job:#}"
            );
            (
                carnet["carnet_url"]
                    .as_str()
                    .expect("carnet_url")
                    .to_string(),
                award.clone(),
            )
        })
        .collect()
}

/// What one institution did, to check against the other.
#[derive(Default)]
struct Done {
    bulk_job: String,
    batch_job: String,
    carnets: Vec<String>,
    awards: Vec<String>,
}

async fn side_by_side(url: String) {
    let keys = tempfile::tempdir().unwrap();
    let s = Server::start_configured(
        None,
        &[
            format!("--database-url={url}"),
            format!("--keys-dir={}", keys.path().display()),
            format!("--issuer-name={ISSUER_NAME}"),
        ],
    )
    .await;
    let esat = add_institution(&s, "esat-tilly").await;
    let ime = Inst::new("ime", ISSUER_NAME, TOKEN.to_string());
    let esat = Inst::new("esat-tilly", "Institution esat-tilly", esat);
    let both = [&ime, &esat];
    let mut done = [Done::default(), Done::default()];
    let bulk_path = format!("/api/v1/bulk-awards?badge_class={CLASS}");

    // 1. Both bulk jobs started before either is waited on.
    for (inst, d) in both.iter().zip(done.iter_mut()) {
        d.bulk_job = start_job(
            &s,
            inst,
            &bulk_path,
            "text/csv; charset=utf-8",
            csv(inst).into_bytes(),
        )
        .await;
    }

    // 2. While they run: each imports RECTEC (its own copy: 201 for both) and starts a batch of
    // carnets.
    for inst in both {
        let r = inst
            .post(
                &s,
                "/api/v1/referentiels",
                JSON,
                std::fs::read(RECTEC).unwrap(),
            )
            .await;
        let who = inst.slug;
        assert_eq!(
            r.status,
            201,
            "{who}: POST /api/v1/referentiels: {}",
            r.text()
        );
        assert_eq!(
            r.json()["created"],
            true,
            "{who}: POST /api/v1/referentiels"
        );
    }
    for (inst, d) in both.iter().zip(done.iter_mut()) {
        let batch = vec![
            rectec_validated(&inst.email("batch1")),
            rectec_validated(&inst.email("batch2")),
        ];
        d.batch_job = start_job(
            &s,
            inst,
            "/api/v1/carnet-batches",
            JSON,
            serde_json::to_vec_pretty(&batch).unwrap(),
        )
        .await;
    }

    // 3. Each imports a carnet, lists what it earns and confirms it.
    for (inst, d) in both.iter().zip(done.iter_mut()) {
        let who = inst.slug;
        let email = inst.email("lea");
        let body = rectec_validated(&email).to_string().into_bytes();
        let r = inst.post(&s, "/api/v1/carnets", JSON, body).await;
        assert_eq!(r.status, 201, "{who}: POST /api/v1/carnets: {}", r.text());
        let carnet = r.json()["id"].as_str().expect("carnet id").to_string();
        d.carnets
            .push(format!("{}/api/v1/carnets/{carnet}", s.base));
    }
    for (inst, d) in both.iter().zip(done.iter_mut()) {
        let who = inst.slug;
        let carnet = d.carnets[0].clone();
        let call = format!("GET {carnet}/proposals");
        let r = inst.get(&s, &format!("{carnet}/proposals")).await;
        assert_eq!(r.status, 200, "{who}: {call}: {}", r.text());
        let doc = r.json();
        let earned = doc["earned"]
            .as_array()
            .and_then(|e| e.iter().find(|p| p["badge_class"] == RECTEC_CLASS))
            .unwrap_or_else(|| panic!("{who}: {call}: {RECTEC_CLASS} not earned: {doc:#}"));
        assert_eq!(earned["award"], Value::Null, "{who}: {call}: {doc:#}");
        let confirm = format!("{carnet}/proposals/{RECTEC_CLASS}/confirm");
        assert_eq!(
            earned["confirm_url"],
            confirm.as_str(),
            "{who}: {call}: {doc:#}"
        );
        let call = format!("POST {confirm}");
        let body = json!({"recipient_email": inst.email("lea")});
        let r = inst
            .post(&s, &confirm, JSON, body.to_string().into_bytes())
            .await;
        assert_eq!(r.status, 201, "{who}: {call}: {}", r.text());
        let award = r.json();
        assert_eq!(award["already_issued"], false, "{who}: {call}: {award:#}");
        let id = award["id"].as_str().expect("award id").to_string();
        credential_of(&s, inst, &award, &call).await;
        own_award(&s, inst, &format!("/api/v1/awards/{id}"), &call).await;
        d.awards.push(id);
    }

    // 4. Now the jobs: every row issued under its institution.
    for (inst, d) in both.iter().zip(done.iter_mut()) {
        let job = until_finished(&s, inst, &d.bulk_job).await;
        let call = format!("GET {}", d.bulk_job);
        for row in job["rows"].as_array().into_iter().flatten() {
            if let Some(url) = row["award_url"].as_str() {
                let (_, credential) = own_award(&s, inst, url, &call).await;
                let line = row["line"].as_u64().unwrap_or(0);
                let name = format!("Personne {} {}", line - 1, inst.slug);
                assert!(
                    credential.to_string().contains(&name),
                    "{}: {call}: the credential of line {line} names {name}",
                    inst.slug
                );
            }
        }
        d.awards.extend(bulk_award_ids(inst, &job));
    }
    for (inst, d) in both.iter().zip(done.iter_mut()) {
        let job = until_finished(&s, inst, &d.batch_job).await;
        let call = format!("GET {}", d.batch_job);
        for (carnet, award) in batch_awards(inst, &job) {
            let r = inst.get(&s, &carnet).await;
            assert_eq!(
                r.status,
                200,
                "{}: {call}: GET {carnet}: {}",
                inst.slug,
                r.text()
            );
            let url = award["award_url"].as_str().expect("award_url");
            own_award(&s, inst, url, &call).await;
            d.awards
                .push(award["award_id"].as_str().expect("award_id").to_string());
            d.carnets.push(carnet);
        }
    }

    // One credential of each verifies as carnet's own (signed with its institution's keys).
    for (inst, d) in both.iter().zip(done.iter()) {
        let (award, _) = own_award(
            &s,
            inst,
            &format!("/api/v1/awards/{}", d.awards[0]),
            "verify",
        )
        .await;
        let credential = s.form(&award, "json").await.body;
        let report = s.verify(JSON, credential, Some(&inst.email("lea"))).await;
        assert_eq!(
            report["verdict"], "valid",
            "{}: POST /api/v1/verify of its confirmed award: {report:#}",
            inst.slug
        );
    }

    // 5. Each institution's own things answer it again; the other's answer 404.
    for (i, (inst, d)) in both.iter().zip(done.iter()).enumerate() {
        let other = &done[1 - i];
        let who = inst.slug;
        let ids: HashSet<&String> = d.awards.iter().collect();
        assert_eq!(ids.len(), 6, "{who}: 6 distinct awards: {:?}", d.awards);
        for id in &d.awards {
            let path = format!("/api/v1/awards/{id}");
            let r = inst.get(&s, &path).await;
            assert_eq!(r.status, 200, "{who}: GET {path} (its own): {}", r.text());
        }
        let mut theirs: Vec<String> = vec![
            other.bulk_job.clone(),
            other.batch_job.clone(),
            // the other's jobs at the other kind's address too
            other.bulk_job.replace("/bulk-awards/", "/carnet-batches/"),
            other.batch_job.replace("/carnet-batches/", "/bulk-awards/"),
        ];
        for carnet in &other.carnets {
            theirs.push(carnet.clone());
            theirs.push(format!("{carnet}/proposals"));
        }
        theirs.extend(other.awards.iter().map(|id| format!("/api/v1/awards/{id}")));
        for path in &theirs {
            let r = inst.get(&s, path).await;
            assert_eq!(
                r.status,
                404,
                "{who}: GET {path} (the other institution's): {}",
                r.text()
            );
        }
        // confirming on the other's carnet issues nothing
        for carnet in &other.carnets {
            let path = format!("{carnet}/proposals/{RECTEC_CLASS}/confirm");
            let r = inst.post(&s, &path, JSON, b"{}".to_vec()).await;
            assert_eq!(
                r.status,
                404,
                "{who}: POST {path} (the other institution's carnet): {}",
                r.text()
            );
        }
        let path = format!("/api/v1/awards/{}/revoke", other.awards[0]);
        let body = json!({"reason": "test"}).to_string().into_bytes();
        let r = inst.post(&s, &path, JSON, body).await;
        assert_eq!(
            r.status,
            404,
            "{who}: POST {path} (the other institution's award): {}",
            r.text()
        );
        // its référentiels: its own RECTEC, once
        let r = inst.get(&s, "/api/v1/referentiels").await;
        assert_eq!(
            r.status,
            200,
            "{who}: GET /api/v1/referentiels: {}",
            r.text()
        );
        let list = r.json();
        let listed: Vec<(&Value, &Value)> = list["referentiels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| (&r["id"], &r["version"]))
            .collect();
        assert_eq!(
            listed,
            [(&json!("rectec"), &json!("2021"))],
            "{who}: GET /api/v1/referentiels: {list:#}"
        );
    }

    // 6. In the store: 3 + 2 + 1 awards each, under its own slug.
    for (inst, d) in both.iter().zip(done.iter()) {
        let who = inst.slug;
        let count = s.app.store.count_awards(who).await.unwrap();
        assert_eq!(count, 6, "{who}: awards in the store");
        for id in &d.awards {
            let award = s
                .app
                .store
                .get_award(id.parse().unwrap())
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{who}: award {id} not in the store"));
            assert_eq!(award.issuer_slug, who, "{who}: award {id} in the store");
        }
    }

    // 7. No award id of one institution in any answer the other was given (jobs, batches,
    // carnets, proposals, awards, the 404s included).
    for (i, inst) in both.iter().enumerate() {
        let other = both[1 - i];
        let answers = inst.answers.lock().unwrap();
        for id in &done[1 - i].awards {
            if let Some(answer) = answers.iter().find(|a| a.contains(id.as_str())) {
                panic!(
                    "{}: an answer names {}'s award {id}: {answer}",
                    inst.slug, other.slug
                );
            }
        }
    }
    s.shutdown().await;
}
