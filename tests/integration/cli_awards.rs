//! The issue #5 §8 command line, run as an educator would (the built binary, settings from
//! `CARNET_*` variables, a SQLite file and keys in a temporary directory): `awards list | bulk |
//! revoke`, `referentials`, `carnets import`, `requests …`. Exit codes: 0 done, 1 refused or
//! some rows in error, 2 could not run; never a panic.

use std::fs;

use crate::common::backends;
use crate::common::cli::Installation;
use chrono::{Duration, Utc};
use serde_json::Value;

const SAFETY: &str = "securite-hygiene-au-travail";
const CUISINE: &str = "organiser-mon-activite-en-cuisine";
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Stores awards straight into the database (no signing): for states and sizes the
/// command line cannot make quickly, such as an expired award or hundreds of them.
async fn store_awards(c: &Installation, awards: &[(String, &str, Option<&str>, i64)]) {
    let store = carnet::store::open(&c.database_url()).await.unwrap();
    for (id, class, name, valid_days) in awards {
        let now = Utc::now();
        store
            .insert_award(&carnet::store::NewAward {
                id: id.parse().unwrap(),
                issuer_slug: "ime".into(),
                badge_class_slug: (*class).into(),
                badge_class_digest: "sha256:test".into(),
                recipient_identity: "sha256$00".into(),
                recipient_salt: "salt".into(),
                recipient_name: name.map(str::to_owned),
                credential_id: format!("http://localhost:8080/credentials/{id}"),
                credential_json: "{}".into(),
                credential_jwt: Some("x.y.z".into()),
                rsa_kid: None,
                status_list: None,
                status_index: None,
                assertion_json: None,
                assertion_jws: None,
                valid_from: now - Duration::days(30),
                valid_until: Some(now + Duration::days(*valid_days)),
                issued_by: "test".into(),
                idempotency_key: None,
                person_key: None,
            })
            .await
            .unwrap();
    }
    store.close().await;
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn awards_list_shows_issued_and_revoked_awards_without_any_email() {
    let c = Installation::new();
    let empty = c.run(&["awards", "list", "--json"]);
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert_eq!(empty.json(), serde_json::json!([]));

    let issue = |email: &str, name: Option<&str>, out: &str| {
        let mut args = vec![
            "issue",
            "--badge-class",
            SAFETY,
            "--recipient",
            email,
            "--out",
            out,
        ];
        if let Some(n) = name {
            args.extend(["--name", n]);
        }
        let o = c.run(&args);
        assert_eq!(o.code, 0, "{}", o.stderr);
        o.stdout.trim().to_owned()
    };
    let lea = issue("lea.martin@example.org", Some("Léa"), "lea.png");
    let anon = issue("sam.petit@example.org", None, "sam.json");

    // `awards revoke` is `revoke`
    let revoke = c.run(&["awards", "revoke", &anon, "--reason", "Donné par erreur"]);
    assert_eq!(revoke.code, 0, "{}", revoke.stderr);
    let again = c.run(&["awards", "revoke", &anon, "--reason", "encore"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert_eq!(
        c.run(&["awards", "revoke", "pas-un-id", "--reason", "x"])
            .code,
        2
    );

    let table = c.run(&["awards", "list"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let line = |id: &str| {
        table
            .stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} not listed: {}", table.stdout))
            .to_owned()
    };
    let lea_line = line(&lea);
    assert!(
        lea_line.contains("Léa") && lea_line.contains("valid"),
        "{lea_line}"
    );
    assert!(
        lea_line.contains(SAFETY) && lea_line.contains("cli:camille"),
        "{lea_line}"
    );
    let anon_line = line(&anon);
    assert!(anon_line.contains("(anonyme)"), "{anon_line}");
    assert!(anon_line.contains("revoked"), "{anon_line}");
    assert!(
        table
            .stdout
            .contains("2 award(s): 1 valid, 1 revoked, 0 expired")
    );

    let json = c.run(&["awards", "list", "--json"]).json();
    assert_eq!(ids(&json), vec![anon.clone(), lea.clone()], "newest first");
    let first = &json[0];
    assert_eq!(first["state"], "revoked");
    assert_eq!(first["revocation_reason"], "Donné par erreur");
    assert_eq!(first["recipient_name"], Value::Null);
    assert_eq!(json[1]["recipient_name"], "Léa");
    assert_eq!(
        json[1]["url"],
        format!("http://localhost:8080/credentials/{lea}")
    );
    for out in [&table.stdout, &json.to_string()] {
        assert!(!out.contains("@example.org"), "an email is shown: {out}");
    }
}

#[tokio::test]
async fn awards_list_pages_through_a_large_store_filters_by_class_and_shows_expired_ones() {
    let c = Installation::new();
    // the binary creates the database first (migrations)
    assert_eq!(c.run(&["awards", "list"]).code, 0);
    let mut awards: Vec<(String, &str, Option<&str>, i64)> = (0..450)
        .map(|i| {
            let class = if i % 3 == 0 { CUISINE } else { SAFETY };
            (uuid::Uuid::new_v4().to_string(), class, None, 10)
        })
        .collect();
    let expired = uuid::Uuid::new_v4().to_string();
    awards.push((expired.clone(), SAFETY, Some("Noa"), -1));
    store_awards(&c, &awards).await;

    let all = c.run(&["awards", "list", "--json"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let listed = ids(&all.json());
    assert_eq!(listed.len(), 451, "every award once, across pages");
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 451);
    // newest first: the last one stored comes first
    assert_eq!(listed[0], expired);
    assert_eq!(all.json()[0]["state"], "expired");

    let cuisine = c
        .run(&["awards", "list", "--badge-class", CUISINE, "--json"])
        .json();
    let cuisine = cuisine.as_array().unwrap();
    assert_eq!(cuisine.len(), 150);
    assert!(cuisine.iter().all(|a| a["badge_class"] == CUISINE));

    let table = c.run(&["awards", "list", "--badge-class", SAFETY]);
    assert!(
        table
            .stdout
            .contains("301 award(s): 300 valid, 0 revoked, 1 expired"),
        "{}",
        table.stdout
    );
    // a closed pipe ends the listing without a message
    let head = c
        .cli()
        .args(["awards", "list"])
        .pipe_into("head -n 2")
        .run();
    assert_eq!(head.stdout.lines().count(), 2, "{}", head.describe());
}

#[test]
fn awards_list_refuses_unknown_classes_and_bad_input_clearly() {
    let c = Installation::new();
    let unknown = c.run(&["awards", "list", "--badge-class", "inconnue"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no badge class \"inconnue\""),
        "{}",
        unknown.stderr
    );
    assert!(unknown.stdout.is_empty(), "{}", unknown.stdout);
    let bad = c.run(&["awards", "list", "--badge-class", "../etc/passwd", "--json"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--badge-class"), "{}", bad.stderr);
    let db = c.run(&["--database-url", "mysql://x", "awards", "list"]);
    assert_eq!(db.code, 2);
    assert!(db.stderr.contains("unsupported scheme"), "{}", db.stderr);
}

#[test]
fn awards_bulk_is_bulk_issue_and_is_safe_to_rerun() {
    let c = Installation::new();
    fs::write(
        c.path("groupe.csv"),
        "email;name\nlea@example.org;Léa\nsam@example.org;\npas-un-email;Noa\n",
    )
    .unwrap();
    let args = [
        "awards",
        "bulk",
        "--badge-class",
        SAFETY,
        "--csv",
        "groupe.csv",
    ];
    let first = c.run(&args);
    assert_eq!(first.code, 1, "a row in error: {}", first.stderr);
    assert!(
        first.stdout.contains("issued:         2"),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("line 4, email"), "{}", first.stdout);
    let second = c.run(&args);
    assert_eq!(second.code, 1);
    assert!(
        second.stdout.contains("issued:         0"),
        "{}",
        second.stdout
    );
    assert!(
        second.stdout.contains("already issued: 2"),
        "{}",
        second.stdout
    );
    let listed = c.run(&["awards", "list", "--json"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    // the old name still works
    let old = c.run(&["bulk", "issue", "--badge-class", SAFETY, "groupe.csv"]);
    assert!(old.stdout.contains("already issued: 2"), "{}", old.stdout);

    let missing = c.run(&[
        "awards",
        "bulk",
        "--badge-class",
        SAFETY,
        "--csv",
        "absent.csv",
    ]);
    assert_eq!(missing.code, 2);
    let unknown = c.run(&[
        "awards",
        "bulk",
        "--badge-class",
        "inconnue",
        "--csv",
        "groupe.csv",
    ]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("unknown badge class"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn referentials_is_an_alias_and_carnets_import_prints_the_proposals() {
    let c = Installation::new();
    let rectec = format!("{ROOT}/referentiels/rectec.json");
    let import = c.run(&["referentials", "import", &rectec]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(
        import.stdout.contains("imported rectec 2021"),
        "{}",
        import.stdout
    );
    let list = c.run(&["referentials", "list"]);
    assert!(list.stdout.starts_with("rectec  2021"), "{}", list.stdout);
    assert_eq!(c.run(&["referentiels", "list"]).stdout, list.stdout);

    fs::write(
        c.path("noa.json"),
        r#"{"referentiel": {"id": "rectec", "version": "2021"},
            "person": {"email": "noa@example.org", "display_name": "Noa"},
            "entries": [{"competence": "1", "answer": "je_fais", "recognition": "validated",
                         "level": "2", "modality": "externe", "date": "2025-06-12",
                         "jury": ["Mme Morel (fictive)"]}]}"#,
    )
    .unwrap();
    let carnet = c.run(&["carnets", "import", "noa.json"]);
    assert_eq!(carnet.code, 0, "{}", carnet.stderr);
    assert!(
        carnet.stdout.contains(&format!(
            "earned  {CUISINE} « Organiser mon activité en cuisine »: to confirm"
        )),
        "{}",
        carnet.stdout
    );
}

#[test]
fn requests_go_through_the_api_state_machine() {
    let c = Installation::new();
    assert_eq!(c.run(&["demo"]).code, 0);
    let list = c.run(&["requests", "list", "--json"]).json();
    let items = list["items"].as_array().unwrap();
    let find = |state: &str| {
        items
            .iter()
            .find(|r| r["state"] == state)
            .unwrap_or_else(|| panic!("no {state} request"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let submitted = find("submitted");
    let declined = find("declined");

    // a refused transition: exit 1 with the API's reason; the request is unchanged
    let refused = c.run(&["requests", "approve", &declined]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("declined"), "{}", refused.stderr);
    let no_reason = c.run(&["requests", "decline", &submitted, "--reason", "  "]);
    assert_eq!(no_reason.code, 1, "{}", no_reason.stderr);

    // return with a comment, recorded under --by
    let returned = c.run(&[
        "requests",
        "--by",
        "Karim",
        "return",
        &submitted,
        "--comment",
        "Ajoute une photo.",
    ]);
    assert_eq!(returned.code, 0, "{}", returned.stderr);
    assert!(
        returned.stdout.contains(": returned"),
        "{}",
        returned.stdout
    );
    assert!(
        returned
            .stdout
            .contains("returned by api:Karim: Ajoute une photo."),
        "{}",
        returned.stdout
    );
    let resubmitted = c.run(&["requests", "resubmit", &submitted]);
    assert_eq!(resubmitted.code, 0, "{}", resubmitted.stderr);
    let approved = c.run(&["requests", "approve", &submitted]);
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    assert!(
        approved.stdout.contains("approved by api:camille"),
        "{}",
        approved.stdout
    );
    assert!(
        approved
            .stdout
            .contains("badge: http://localhost:8080/credentials/")
    );
    let shown = c.run(&["requests", "show", &submitted, "--json"]).json();
    assert_eq!(shown["state"], "approved");
    assert!(shown["award_id"].is_string());

    assert_eq!(c.run(&["requests", "show", "pas-un-id"]).code, 2);
    let unknown = c.run(&["requests", "show", &uuid::Uuid::new_v4().to_string()]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no such badge request"),
        "{}",
        unknown.stderr
    );
    assert_eq!(c.run(&["requests", "list", "--state", "perdu"]).code, 2);
    assert_eq!(c.run(&["requests", "--by", "a:b", "list"]).code, 2);
    let approved_list = c.run(&["requests", "list", "--state", "approved"]);
    assert!(
        approved_list.stdout.contains("2 request(s)"),
        "{}",
        approved_list.stdout
    );
}

/// The demo and the class filter on both backends.
async fn the_demo_and_awards_list_work(database: String) {
    let c = Installation::with_database(database);
    for _ in 0..2 {
        let demo = c.run(&["demo"]);
        assert_eq!(demo.code, 0, "{}", demo.stderr);
    }
    let all = c.run(&["awards", "list", "--json"]).json();
    assert_eq!(all.as_array().unwrap().len(), 4, "{all:#}");
    let cuisine = c
        .run(&["awards", "list", "--badge-class", CUISINE, "--json"])
        .json();
    assert_eq!(cuisine.as_array().unwrap().len(), 1, "{cuisine:#}");
    assert_eq!(cuisine[0]["badge_class"], CUISINE);
}

backends::suite!(database: [the_demo_and_awards_list_work]);
