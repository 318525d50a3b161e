//! Batches of carnets (issue #5 §7, `docs/BULK.md` « Un lot de carnets »): through the real server
//! (`POST /api/v1/carnet-batches`, `GET /api/v1/carnet-batches/{job}`), the CLI (`carnet carnets
//! batch`, killed mid-way with SIGKILL then `carnet bulk resume`), and the store on both backends
//! (PostgreSQL when `TEST_DATABASE_URL` is set).
//!
//! What must hold: each carnet imported (or found) and every class it earns issued, with the
//! alignments and levels of its entries; a carnet in error reported with its position, file, line
//! and reason while the others go on; the same batch again issues nothing; a kill mid-way leaves
//! every award complete or absent and the resume finishes exactly the rest; no clear email in the
//! database, sealed or not.

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use common::carnets::*;
use common::cli::Installation;
use common::server::*;
use serde_json::{Value, json};

async fn import_referentiels(s: &Server, trade: bool) {
    let r = post(
        s,
        "/api/v1/referentiels",
        JSON,
        std::fs::read(RECTEC).unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    if trade {
        let r = post(s, "/api/v1/referentiels", "text/csv", TRADE_CSV).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

fn jury() -> Value {
    json!([{"name": "Mme Durand", "role": "professionnelle extérieure, métiers de la cuisine"},
           {"name": "M. Petit", "role": "directeur de l'établissement"}])
}

/// A RECTEC carnet: competence 1 validated by a jury at this cercle.
fn rectec_validated(email: &str, cercle: &str) -> Value {
    json!({
        "referentiel": {"id": "rectec", "version": "2021"},
        "person": {"email": email, "display_name": "Une personne"},
        "entries": [
            {"competence": "1", "answer": "je_fais", "recognition": "validated",
             "modality": "en_situation_de_travail", "date": "2024-06-14", "level": cercle,
             "jury": jury()},
            {"competence": "5", "answer": "je_fais_en_partie", "date": "2024-05-02"}
        ]
    })
}

/// The batch of a jury session: line numbers matter (pretty-printed, one value per line).
fn session() -> Vec<Value> {
    vec![
        // 1: earns the RECTEC class at cercle 2.
        rectec_validated("lea.martin@example.org", "2"),
        // 2: declared only: earns nothing, and says why.
        json!({"referentiel": {"id": "rectec", "version": "2021"},
               "person": {"email": "sam@example.org"},
               "entries": [{"competence": "1", "answer": "je_fais", "level": "2"}]}),
        // 3: a level RECTEC does not have.
        json!({"referentiel": {"id": "rectec", "version": "2021"},
               "person": {"email": "paul@example.org"},
               "entries": [{"competence": "1", "answer": "je_fais", "level": "9"}]}),
        // 4: the trade class, en partie with a struck part.
        json!({"referentiel": {"id": "agent-test", "version": "2024-1"},
               "person": {"email": "noa@example.org"},
               "entries": [{"competence": "C1", "answer": "je_fais_en_partie", "struck": ["b"],
                            "recognition": "validated", "modality": "externe",
                            "date": "2024-06-20", "jury": jury()},
                           {"competence": "C2", "answer": "je_fais"}]}),
        // 5: Léa again on the same référentiel version.
        rectec_validated("Lea.Martin@example.org", "3"),
        // 6: a référentiel that is not imported.
        json!({"referentiel": {"id": "inconnu", "version": "1"},
               "person": {"email": "ines@example.org"}, "entries": []}),
        // 7: the RECTEC class at cercle 3.
        rectec_validated("leo@example.org", "3"),
    ]
}

fn body(carnets: &[Value]) -> Vec<u8> {
    serde_json::to_vec_pretty(&Value::Array(carnets.to_vec())).unwrap()
}

async fn get_job(s: &Server, url: &str) -> Value {
    let r = get(s, url).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Polls the job until it is done (or failed).
async fn until_finished(s: &Server, url: &str) -> Value {
    for _ in 0..1200 {
        let job = get_job(s, url).await;
        if job["state"] == "done" || job["state"] == "failed" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the batch did not finish: {}", get_job(s, url).await);
}

/// Sends a batch (202) and waits: the finished job and whether it was an unfinished one.
async fn run_batch(s: &Server, query: &str, carnets: &[Value]) -> Value {
    let r = post(
        s,
        &format!("/api/v1/carnet-batches{query}"),
        JSON,
        body(carnets),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let location = r.header("location").to_string();
    let job = r.json();
    assert_eq!(location, job["url"].as_str().unwrap());
    assert!(location.ends_with(&format!(
        "/api/v1/carnet-batches/{}",
        job["id"].as_str().unwrap()
    )));
    until_finished(s, &location).await
}

fn counts(job: &Value) -> [u64; 6] {
    let c = &job["counts"];
    [
        "carnets",
        "done",
        "failed",
        "awards_issued",
        "awards_already",
        "not_earned",
    ]
    .map(|k| c[k].as_u64().unwrap_or_else(|| panic!("{k}: {c}")))
}

fn carnet_at(job: &Value, position: u64) -> &Value {
    job["carnets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["position"] == position)
        .unwrap_or_else(|| panic!("no carnet at {position}: {job:#}"))
}

fn award_of<'a>(carnet: &'a Value, class: &str) -> &'a Value {
    carnet["awards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["badge_class"] == class)
        .unwrap_or_else(|| panic!("no {class}: {carnet:#}"))
}

async fn awards_in_store(s: &Server) -> u64 {
    s.app.store.count_awards(s.app.issuer.slug()).await.unwrap()
}

/// The credential of an award the batch document names.
async fn credential(s: &Server, award: &Value) -> Value {
    let doc = get(s, award["award_url"].as_str().unwrap()).await;
    assert_eq!(doc.status, 200, "{}", doc.text());
    s.form(&doc.json(), "json").await.json()
}

/// The level a credential says was reached for competence `competence`'s rule.
fn achieved_level(cred: &Value) -> String {
    let achievement = &cred["credentialSubject"]["achievement"];
    let results = cred["credentialSubject"]["result"].as_array().unwrap();
    let level = results
        .iter()
        .find(|r| r["resultDescription"].as_str().unwrap().ends_with("-level"))
        .expect("a level result");
    let description = achievement["resultDescription"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == level["resultDescription"])
        .expect("its description");
    description["rubricCriterionLevel"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == level["achievedLevel"])
        .expect("a level of the description")["name"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_batch_issues_what_each_carnet_earns_and_reports_the_others() {
    let dir = classes_dir(true);
    let s = Server::with_args(&[&format!("--badge-classes-dir={}", dir.path().display())]).await;
    import_referentiels(&s, true).await;
    let job = run_batch(&s, "", &session()).await;
    assert_eq!(job["state"], "done", "{job:#}");
    assert_eq!(job["badge_class"], Value::Null);
    assert_eq!(job["created_by"], "api:test");
    assert_eq!(job["counts"]["pending"], 0);
    // 7 carnets: 4 done, 3 in error; 3 awards issued; Sam's class not earned.
    assert_eq!(counts(&job), [7, 4, 3, 3, 0, 1], "{job:#}");

    // The carnets in error: position, field, reason (with the line in the body); no email.
    let errors: Vec<(u64, &str)> = job["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["position"].as_u64().unwrap(),
                e["field"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "entries[0].level"),
            (5, "person.email"),
            (6, "referentiel.id")
        ],
        "{job:#}"
    );
    let paul = carnet_at(&job, 3);
    assert_eq!(paul["status"], "error");
    let reason = paul["reason"].as_str().unwrap();
    let text = String::from_utf8(body(&session())).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("\"9\""))
        .map(|i| i + 1)
        .unwrap();
    assert!(
        reason.starts_with(&format!("line {line}: entries[0].level: no level \"9\"")),
        "{reason}"
    );
    assert!(
        carnet_at(&job, 5)["reason"]
            .as_str()
            .unwrap()
            .contains("already at position 1"),
        "{job:#}"
    );
    assert!(!job.to_string().contains("@example.org"), "{job:#}");
    // The document the OpenAPI document describes, once `CarnetBatch` is in it.
    let mut schema = s.get("/api/v1/openapi.json").await.json();
    if schema["components"]["schemas"]["CarnetBatch"].is_object() {
        schema["$ref"] = json!("#/components/schemas/CarnetBatch");
        schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
        let errors: Vec<String> = validator.iter_errors(&job).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    } else {
        eprintln!("SKIP: no CarnetBatch schema in openapi.json yet");
    }

    // Léa: imported, the RECTEC class issued with the alignment and the level reached.
    let lea = carnet_at(&job, 1);
    assert_eq!(
        (&lea["status"], &lea["imported"]),
        (&json!("done"), &json!(true))
    );
    assert_eq!(
        lea["referentiel"],
        json!({"id": "rectec", "version": "2021"})
    );
    let award = award_of(lea, RECTEC_CLASS);
    assert_eq!(award["outcome"], "issued");
    let cred = credential(&s, award).await;
    let aligned = cred["credentialSubject"]["achievement"]["alignment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["targetType"] == "ext:ReferentielCompetence")
        .expect("an alignment to the competence")
        .clone();
    assert_eq!(
        (&aligned["targetCode"], &aligned["targetName"]),
        (&json!("1"), &json!("Organiser son activité"))
    );
    assert_eq!(achieved_level(&cred), "Cercle 2");
    let report = s
        .verify(
            JSON,
            serde_json::to_vec(&cred).unwrap(),
            Some("lea.martin@example.org"),
        )
        .await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    // The carnet is the one imported, with its entries.
    let carnet = get(&s, lea["carnet_url"].as_str().unwrap()).await;
    assert_eq!(carnet.status, 200, "{}", carnet.text());
    assert_eq!(carnet.json()["entries"].as_array().unwrap().len(), 2);
    // Léo: cercle 3.
    let leo = award_of(carnet_at(&job, 7), RECTEC_CLASS);
    assert_eq!(achieved_level(&credential(&s, leo).await), "Cercle 3");
    // Sam: not earned, and why (declared); the trade class does not concern RECTEC.
    let sam = carnet_at(&job, 2);
    let not = award_of(sam, RECTEC_CLASS);
    assert_eq!(not["outcome"], "not_earned");
    assert!(
        not["reasons"][0]
            .as_str()
            .unwrap()
            .contains("déclarée, pas validée par un jury"),
        "{sam:#}"
    );
    assert_eq!(sam["awards"].as_array().unwrap().len(), 1);
    // Noa: the trade class, en partie and the struck part in the narrative.
    let noa = award_of(carnet_at(&job, 4), TABLE_CLASS);
    let cred = credential(&s, noa).await;
    let narrative = cred["evidence"][0]["narrative"].as_str().unwrap();
    assert!(narrative.contains("« Je fais en partie »"), "{narrative}");
    assert!(narrative.contains("ranger la vaisselle"), "{narrative}");
    assert_eq!(awards_in_store(&s).await, 3);

    // The same batch again: a new job (the first is done), nothing imported or issued.
    let again = run_batch(&s, "", &session()).await;
    assert_ne!(again["id"], job["id"]);
    assert_eq!(counts(&again), [7, 4, 3, 0, 3, 1], "{again:#}");
    let lea_again = carnet_at(&again, 1);
    assert_eq!(lea_again["imported"], false);
    assert_eq!(lea_again["carnet_id"], lea["carnet_id"]);
    assert_eq!(
        award_of(lea_again, RECTEC_CLASS)["award_id"],
        award["award_id"]
    );
    assert_eq!(award_of(lea_again, RECTEC_CLASS)["outcome"], "already");
    assert_eq!(awards_in_store(&s).await, 3);

    // A carnet that differs from the one imported for the same person is an error saying how
    // to go on; the others go on (a new person is issued).
    let mut changed = rectec_validated("lea.martin@example.org", "3");
    changed["entries"][1]["answer"] = json!("je_fais");
    let batch = vec![changed, rectec_validated("zoe@example.org", "4")];
    let mixed = run_batch(&s, "", &batch).await;
    assert_eq!(counts(&mixed), [2, 1, 1, 1, 0, 0], "{mixed:#}");
    let refused = carnet_at(&mixed, 1);
    assert_eq!(refused["field"], "entries");
    let reason = refused["reason"].as_str().unwrap();
    let lea_id = lea["carnet_id"].as_str().unwrap();
    assert!(
        reason.contains(&format!("PATCH /api/v1/carnets/{lea_id}/entries/")),
        "{reason}"
    );
    assert!(reason.contains("(competences 1, 5)"), "{reason}");
    assert_eq!(awards_in_store(&s).await, 4);

    // Limited to one class: only that one is confirmed; a class it does not concern is said so.
    let only = run_batch(
        &s,
        &format!("?badge_class={TABLE_CLASS}"),
        &[rectec_validated("lea.martin@example.org", "2")],
    )
    .await;
    assert_eq!(only["badge_class"], TABLE_CLASS);
    let awards = carnet_at(&only, 1)["awards"].as_array().unwrap().clone();
    assert_eq!(awards.len(), 1, "{only:#}");
    assert_eq!(awards[0]["outcome"], "not_earned");
    assert!(awards[0]["reasons"][0].as_str().unwrap().contains("rectec"));
    s.shutdown().await;
}

#[tokio::test]
async fn a_stored_batch_is_sealed_resent_as_the_same_job_and_leaves_no_email() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), None, 8 * 1024 * 1024).await;
    import_referentiels(&s, false).await;
    let carnets: Vec<Value> = (1..=6)
        .map(|i| rectec_validated(&format!("personne{i}@example.org"), "2"))
        .collect();
    // Stored, not started (as if the server stopped right after storing it).
    let source = carnet::bulk::carnets::Source {
        label: None,
        bytes: body(&carnets),
    };
    let job = carnet::bulk::carnets::submit(&s.app, None, vec![source], "api:test")
        .await
        .unwrap()
        .into_job();
    assert_eq!(job.kind, carnet::store::JobKind::Carnets);
    let pending = s.app.store.pending_bulk_rows(job.id, 0, 64).await.unwrap();
    assert_eq!(pending.len(), 6);
    for row in &pending {
        assert!(row.idempotency_key.starts_with("carnet-"));
        for clear in ["personne", "example.org", "rectec"] {
            assert!(!row.payload.contains(clear), "{clear} in {}", row.payload);
            assert!(!row.idempotency_key.contains(clear));
        }
    }
    // The same batch: the same job, resumed.
    let r = post(&s, "/api/v1/carnet-batches", JSON, body(&carnets)).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["id"], job.id.to_string());
    assert_eq!(doc["resubmitted"], true);
    let done = until_finished(&s, r.header("location")).await;
    assert_eq!(counts(&done), [6, 6, 0, 6, 0, 0], "{done:#}");
    // Done: the sealed data is erased; the database holds no email anywhere.
    assert!(
        s.app
            .store
            .pending_bulk_rows(job.id, 0, 64)
            .await
            .unwrap()
            .is_empty()
    );
    s.shutdown().await;
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file()
            && path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("carnet.db")
        {
            let bytes = std::fs::read(&path).unwrap();
            files += 1;
            assert!(
                !bytes.windows(11).any(|w| w == b"example.org"),
                "an email in {}",
                path.display()
            );
        }
    }
    assert!(files >= 1);
}

#[tokio::test]
async fn refusals_are_problem_documents() {
    let s = Server::with_body_limit(16 * 1024 * 1024).await;
    import_referentiels(&s, false).await;
    let one = body(&[rectec_validated("lea@example.org", "2")]);
    // No token.
    let r = s
        .request(
            Some(one.clone()),
            "/api/v1/carnet-batches",
            &[("content-type", JSON)],
        )
        .await;
    assert_eq!(r.status, 401);
    // Not JSON.
    let r = post(&s, "/api/v1/carnet-batches", "text/csv", one.clone()).await;
    assert_eq!(r.status, 415, "{}", r.text());
    // Unknown class, a class not earned from a carnet, an unknown parameter.
    for (q, status) in [
        ("?badge_class=inconnue", 422),
        (&*format!("?badge_class={CLASS}"), 422),
        ("?batch=x", 400),
    ] {
        let r = post(&s, &format!("/api/v1/carnet-batches{q}"), JSON, one.clone()).await;
        assert_eq!(r.status, status, "{q}: {}", r.text());
        assert_eq!(r.header("content-type"), "application/problem+json");
        if status == 422 {
            assert_eq!(r.json()["field"], "badge_class", "{q}");
        }
    }
    // Bodies that are no batch: each said, with its line when it has one; no job.
    let many = body(&vec![rectec_validated("lea@example.org", "2"); 501]);
    for (bytes, expected) in [
        (b"[\n{\"referentiel\":\n".to_vec(), "not valid JSON"),
        (b"{}".to_vec(), "JSON array"),
        (b"[]".to_vec(), "no carnet"),
        (many, "more than 500"),
    ] {
        let r = post(&s, "/api/v1/carnet-batches", JSON, bytes).await;
        assert_eq!(r.status, 422, "{}", r.text());
        let p = r.json();
        assert!(p["detail"].as_str().unwrap().contains(expected), "{p:#}");
    }
    let r = post(
        &s,
        "/api/v1/carnet-batches",
        JSON,
        b"[\n{\"referentiel\":\n".to_vec(),
    )
    .await;
    assert_eq!(r.json()["errors"][0]["line"], 3);
    let mut big = b"[".to_vec();
    big.extend(std::iter::repeat_n(b' ', 8 * 1024 * 1024));
    big.push(b']');
    let r = post(&s, "/api/v1/carnet-batches", JSON, big).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(
        s.app
            .store
            .unfinished_bulk_jobs(s.app.issuer.slug())
            .await
            .unwrap()
            .is_empty()
    );
    // Unknown jobs; a CSV job is not a batch of carnets, nor the other way round.
    let csv = post(
        &s,
        &format!("/api/v1/bulk-awards?badge_class={CLASS}"),
        "text/csv",
        "email\nlea@example.org\n",
    )
    .await;
    assert_eq!(csv.status, 202, "{}", csv.text());
    let csv_id = csv.json()["id"].as_str().unwrap().to_string();
    let batch = run_batch(&s, "", &[rectec_validated("lea@example.org", "2")]).await;
    let batch_id = batch["id"].as_str().unwrap();
    for path in [
        "/api/v1/carnet-batches/not-a-uuid".to_string(),
        "/api/v1/carnet-batches/00000000-0000-4000-8000-000000000000".to_string(),
        format!("/api/v1/carnet-batches/{csv_id}"),
        format!("/api/v1/bulk-awards/{batch_id}"),
    ] {
        let r = get(&s, &path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text());
    }
    let r = s.get(&format!("/api/v1/carnet-batches/{batch_id}")).await;
    assert_eq!(r.status, 401);
    s.shutdown().await;
}

// ---- the CLI, killed mid-way ---------------------------------------------------------

/// (awards stored, people with a carnet, people with two) for these emails.
fn stored(c: &Installation, emails: &[String]) -> (u64, usize, usize) {
    let url = c.database_url();
    let emails = emails.to_vec();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let store = carnet::store::open(&url).await.unwrap();
            let awards = store.count_awards("ime").await.unwrap();
            let (mut with, mut twice) = (0, 0);
            for e in &emails {
                let email = carnet::recipient::Email::parse(e).unwrap();
                let key = carnet::referentiel::carnet::person_key("ime", &email);
                match store.person_carnets("ime", &key).await.unwrap().len() {
                    0 => {}
                    1 => with += 1,
                    _ => twice += 1,
                }
            }
            store.close().await;
            (awards, with, twice)
        })
}

fn job_id(stdout: &str) -> String {
    let first = stdout.lines().next().unwrap_or("");
    let id = first
        .strip_prefix("job ")
        .expect("stdout starts with the job");
    uuid::Uuid::parse_str(id).expect("a job id").to_string()
}

#[test]
fn a_killed_batch_is_resumed_and_finishes_exactly_the_rest() {
    use std::io::{BufRead, BufReader};

    let c = Installation::new();
    let imported = c.run(&["referentiels", "import", RECTEC]);
    assert_eq!(imported.code, 0, "{}", imported.stderr);
    let n = 120;
    let emails: Vec<String> = (1..=n).map(|i| format!("p{i}@example.org")).collect();
    // One file with most of the group, and a directory with the rest (one file each).
    let group: Vec<Value> = emails[..100]
        .iter()
        .map(|e| rectec_validated(e, "2"))
        .collect();
    std::fs::write(
        c.path("groupe.json"),
        serde_json::to_vec_pretty(&group).unwrap(),
    )
    .unwrap();
    std::fs::create_dir(c.path("autres")).unwrap();
    for (i, e) in emails[100..].iter().enumerate() {
        std::fs::write(
            c.path(&format!("autres/{i:02}.json")),
            rectec_validated(e, "3").to_string(),
        )
        .unwrap();
    }
    let mut child = c
        .cli()
        .args(["carnets", "batch", "groupe.json", "autres"])
        // its hold on the job outlives it by this: the resume below waits for it
        .args(["--job-lease-seconds", "3"])
        .spawn();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let job = job_id(&first);
    // Killed (SIGKILL: no clean-up) a moment after the first carnets were marked, so that some
    // carnets and awards are likely stored and not yet marked.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    for line in stderr.lines() {
        if line.unwrap().starts_with("bulk: ") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();

    let before = c.run(&["bulk", "status", &job, "--json"]);
    assert_eq!(before.code, 0, "{}", before.stderr);
    let before: Value = serde_json::from_str(&before.stdout).unwrap();
    let marked = before["counts"]["done"].as_u64().unwrap();
    assert!(marked >= 1, "{before:#}");
    // Every award and carnet is complete or absent: only the carnets under way (2 at a time)
    // can be stored and not yet marked.
    let (awards, people, twice) = stored(&c, &emails);
    eprintln!("killed after {marked} of {n} carnets marked, {awards} awards, {people} carnets");
    assert!(
        awards >= marked && awards <= marked + 2,
        "{awards} {marked}"
    );
    assert!(people as u64 >= marked && people as u64 <= marked + 2);
    assert_eq!(twice, 0);
    if marked < n as u64 {
        assert_eq!(before["state"], "running");
    }

    let resume = c.run(&["bulk", "resume", &job]);
    assert_eq!(resume.code, 0, "{}{}", resume.stdout, resume.stderr);
    let status = c.run(&["bulk", "status", &job]);
    assert!(
        status.stdout.contains(&format!(
            "done — batch of {n} carnets, every class they earn"
        )),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains("#120 autres"), "{}", status.stdout);
    assert!(
        resume.stdout.contains("awards issued:    "),
        "{}",
        resume.stdout
    );
    let after: Value =
        serde_json::from_str(&c.run(&["bulk", "status", &job, "--json"]).stdout).unwrap();
    assert_eq!(after["state"], "done");
    assert_eq!(
        counts(&after),
        [n as u64, n as u64, 0, n as u64, 0, 0],
        "{after:#}"
    );
    let ids: HashSet<&str> = after["carnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["imported"], true, "{c:#}");
            c["awards"][0]["award_id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), n);
    assert_eq!(
        carnet_at(&after, 101)["file"],
        json!(format!("autres{}00.json", std::path::MAIN_SEPARATOR))
    );
    assert_eq!(carnet_at(&after, 1)["file"], "groupe.json[0]");
    assert_eq!(stored(&c, &emails), (n as u64, n, 0), "no duplicate");

    // The same batch again: nothing imported or issued, exit 0.
    let again = c.run(&["carnets", "batch", "groupe.json", "autres"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_ne!(job_id(&again.stdout), job);
    assert!(
        again.stdout.contains("awards issued:    0"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains(&format!("already issued:   {n}")));
    assert!(
        again.stderr.contains(&format!("bulk: {n}/{n} carnets")),
        "{}",
        again.stderr
    );
    assert!(!again.stdout.contains("@example.org") && !again.stderr.contains("@example.org"));
    assert_eq!(stored(&c, &emails).0, n as u64);

    // A carnet in error: exit 1, with its file and line; the other one is issued.
    std::fs::write(
        c.path("jury.json"),
        "{\"referentiel\": {\"id\": \"rectec\", \"version\": \"2021\"},\n \"person\": {\"email\": \"x@example.org\"},\n \"entries\": [{\"competence\": \"99\", \"answer\": \"je_fais\"}]}\n",
    )
    .unwrap();
    std::fs::write(
        c.path("ok.json"),
        rectec_validated("new@example.org", "2").to_string(),
    )
    .unwrap();
    let mixed = c.run(&["carnets", "batch", "jury.json", "ok.json"]);
    assert_eq!(mixed.code, 1, "{}{}", mixed.stdout, mixed.stderr);
    assert!(
        mixed
            .stdout
            .contains("#1 jury.json: ERROR: line 3: entries[0].competence:"),
        "{}",
        mixed.stdout
    );
    assert!(
        mixed.stdout.contains("awards issued:    1"),
        "{}",
        mixed.stdout
    );
    // Could not run: an unknown class, a missing file.
    assert_eq!(
        c.run(&["carnets", "batch", "--badge-class", "inconnue", "ok.json"])
            .code,
        2
    );
    assert_eq!(c.run(&["carnets", "batch", "absent.json"]).code, 2);
}

// ---- the store, on both backends -----------------------------------------------------

mod store_suite {
    use std::sync::Arc;

    use crate::common::backends;
    use carnet::store::{
        AwardCounts, CarnetOutcome, CreatedJob, JobKind, JobState, NewCarnetBatch, NewCarnetRow,
        NewRowContent, RowError, RowOutcome, RowStatus, Store,
    };
    use uuid::Uuid;

    fn batch(issuer: &str, digest: &str, class: Option<&str>) -> NewCarnetBatch {
        let pending = |position: u32| NewCarnetRow {
            position,
            label: Some(format!("groupe.json[{}]", position - 1)),
            content: NewRowContent::Pending {
                idempotency_key: format!("carnet-{digest}-{position}"),
                payload: format!("sealed-{position}"),
            },
        };
        NewCarnetBatch {
            id: Uuid::new_v4(),
            issuer_slug: issuer.to_string(),
            badge_class_slug: class.map(str::to_string),
            batch_sha256: format!("{digest:0>64}"),
            created_by: "api:educ".into(),
            rows: vec![
                pending(1),
                pending(2),
                NewCarnetRow {
                    position: 3,
                    label: None,
                    content: NewRowContent::Invalid(RowError {
                        field: "entries[0].level".into(),
                        reason: "line 9: no level \"9\"".into(),
                    }),
                },
            ],
        }
    }

    fn done(issued: u32, already: u32, error: bool) -> RowOutcome {
        RowOutcome::Carnet(CarnetOutcome {
            awards: AwardCounts { issued, already },
            detail: format!("{{\"issued\": {issued}}}"),
            error: error.then(|| RowError {
                field: "badge_class".into(),
                reason: "« X » could not be issued".into(),
            }),
        })
    }

    async fn batches_are_stored_marked_and_counted(store: Arc<Store>) {
        let issuer = format!("ime-{}", Uuid::new_v4().simple());
        let new = batch(&issuer, "a", None);
        let CreatedJob::Created(job) = store.create_carnet_batch(&new).await.unwrap() else {
            panic!("a new job")
        };
        assert_eq!((job.kind, job.state), (JobKind::Carnets, JobState::Queued));
        assert_eq!(job.badge_class_slug, "");
        assert_eq!(
            (job.counts.total, job.counts.failed, job.counts.pending()),
            (3, 1, 2)
        );
        assert_eq!(job.awards, AwardCounts::default());
        // The same batch while unfinished: that job; another class filter, or a CSV job of the
        // same digest, is another job.
        let again = store
            .create_carnet_batch(&batch(&issuer, "a", None))
            .await
            .unwrap();
        assert!(
            matches!(&again, CreatedJob::Existing(j) if j.id == job.id),
            "{again:?}"
        );
        let other = store
            .create_carnet_batch(&batch(&issuer, "a", Some("atelier")))
            .await
            .unwrap();
        assert!(matches!(&other, CreatedJob::Created(j) if j.badge_class_slug == "atelier"));
        let csv = carnet::store::NewBulkJob {
            id: Uuid::new_v4(),
            issuer_slug: issuer.clone(),
            badge_class_slug: String::new(),
            batch: None,
            file_sha256: format!("{:0>64}", "a"),
            created_by: "api:educ".into(),
            rows: vec![],
        };
        let csv = store.create_bulk_job(&csv).await.unwrap();
        assert!(matches!(&csv, CreatedJob::Created(j) if j.kind == JobKind::Csv));
        let unfinished = store.unfinished_bulk_jobs(&issuer).await.unwrap();
        assert_eq!(unfinished.len(), 3);
        // Rows with their labels; pending ones with their sealed data.
        let rows = store.bulk_rows(job.id).await.unwrap();
        let seen: Vec<(u32, Option<&str>, RowStatus)> = rows
            .iter()
            .map(|r| (r.line, r.label.as_deref(), r.status))
            .collect();
        assert_eq!(
            seen,
            [
                (1, Some("groupe.json[0]"), RowStatus::Pending),
                (2, Some("groupe.json[1]"), RowStatus::Pending),
                (3, None, RowStatus::Error),
            ]
        );
        assert_eq!(
            store.pending_bulk_rows(job.id, 0, 10).await.unwrap().len(),
            2
        );
        // A carnet with two awards issued and one already; one in error after an award.
        let marked = store
            .finish_bulk_rows(job.id, &[(1, done(2, 1, false))])
            .await
            .unwrap();
        assert_eq!(marked.changed, 1);
        assert_eq!((marked.counts.issued, marked.counts.pending()), (1, 1));
        assert_eq!(
            marked.awards,
            AwardCounts {
                issued: 2,
                already: 1
            }
        );
        // Marked again: nothing counted twice.
        let twice = store
            .finish_bulk_rows(job.id, &[(1, done(2, 1, false))])
            .await
            .unwrap();
        assert_eq!((twice.changed, twice.awards.issued), (0, 2));
        let marked = store
            .finish_bulk_rows(job.id, &[(2, done(0, 1, true))])
            .await
            .unwrap();
        assert_eq!((marked.counts.failed, marked.counts.pending()), (2, 0));
        assert_eq!(
            marked.awards,
            AwardCounts {
                issued: 2,
                already: 2
            }
        );
        let stored = store.get_bulk_job(job.id).await.unwrap().unwrap();
        assert_eq!(stored.awards, marked.awards);
        let rows = store.bulk_rows(job.id).await.unwrap();
        assert_eq!(rows[0].status, RowStatus::Issued);
        assert_eq!(rows[0].detail.as_deref(), Some("{\"issued\": 2}"));
        assert_eq!(rows[0].award_id, None);
        assert_eq!(rows[1].status, RowStatus::Error);
        assert_eq!(rows[1].detail.as_deref(), Some("{\"issued\": 0}"));
        assert_eq!(rows[1].error.as_ref().unwrap().field, "badge_class");
        assert!(
            store
                .pending_bulk_rows(job.id, 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // A carnet row done without its outcome, or a pending row with one: refused.
        let CreatedJob::Created(third) = store
            .create_carnet_batch(&batch(&issuer, "b", None))
            .await
            .unwrap()
        else {
            panic!("a new job")
        };
        let no_award = store
            .finish_bulk_rows(third.id, &[(1, RowOutcome::Issued(Uuid::new_v4()))])
            .await;
        assert!(no_award.is_err(), "an award that does not exist");
        // A CSV row counts its award.
        assert_eq!(
            RowOutcome::Already(Uuid::new_v4()).awards(),
            AwardCounts {
                issued: 0,
                already: 1
            }
        );
    }

    backends::suite!(store: [batches_are_stored_marked_and_counted]);
}
