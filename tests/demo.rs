//! `carnet demo` (issue #5 §9) on an empty installation: every state is there once, a second
//! run adds nothing, and the awards and requests it made are what `carnet awards list` and
//! `carnet requests list` show.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carnet"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("CARNET_") {
            cmd.env_remove(k);
        }
    }
    let o = cmd
        .current_dir(dir)
        .env(
            "CARNET_DATABASE_URL",
            format!("sqlite://{}/c.db", dir.display()),
        )
        .env("CARNET_KEYS_DIR", dir.join("keys"))
        .env("CARNET_BADGE_CLASSES_DIR", format!("{ROOT}/badge-classes"))
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("carnet runs");
    let out = Out {
        code: o.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(o.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(o.stderr).expect("UTF-8 stderr"),
    };
    assert!(!out.stderr.contains("panicked"), "{args:?}: {}", out.stderr);
    out
}

fn json(out: &Out) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.stdout))
}

/// How many items have each value of `key`.
fn count_by(items: &[Value], key: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for i in items {
        *counts
            .entry(i[key].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    counts
}

/// What the installation holds: awards by state, requests by state, carnets' awards by class.
fn snapshot(dir: &std::path::Path) -> (Vec<Value>, Vec<Value>) {
    let awards = run(dir, &["awards", "list", "--json"], &[]);
    assert_eq!(awards.code, 0, "{}", awards.stderr);
    let requests = run(dir, &["requests", "list", "--json"], &[]);
    assert_eq!(requests.code, 0, "{}", requests.stderr);
    (
        json(&awards).as_array().unwrap().clone(),
        json(&requests)["items"].as_array().unwrap().clone(),
    )
}

#[test]
fn the_demo_loads_every_state_once_and_a_second_run_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &["demo"], &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    // the tour: the default issuer is pointed out, and what to open after `carnet serve`
    assert!(
        first.stdout.contains("CARNET_ISSUER_NAME="),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("http://localhost:8080/verify"));
    assert!(first.stdout.contains("http://localhost:8080/credentials/"));
    assert!(first.stdout.contains("/api/v1/badge-requests"));
    assert!(
        first.stdout.contains("carnet carnets confirm "),
        "{}",
        first.stdout
    );
    // RECTEC imported, with a carnet for each way of not earning the class yet
    for shown in [
        "rectec 2021",
        "« je fais en partie » ; le badge demande « je fais »",
        "déclarée, pas validée par un jury",
        "cercle 1 atteint, cercle 2 demandé",
        "parties barrées",
    ] {
        assert!(first.stdout.contains(shown), "{shown}: {}", first.stdout);
    }
    assert!(
        !first.stdout.contains("already there 0 ("),
        "{}",
        first.stdout
    );

    let (awards, requests) = snapshot(dir.path());
    // requests: one per learner, one in each state (resubmitted is submitted again)
    assert_eq!(requests.len(), 5);
    let states = count_by(&requests, "state");
    assert_eq!(states.get("submitted"), Some(&2), "{states:?}");
    assert_eq!(states.get("returned"), Some(&1), "{states:?}");
    assert_eq!(states.get("approved"), Some(&1), "{states:?}");
    assert_eq!(states.get("declined"), Some(&1), "{states:?}");
    let approved = requests.iter().find(|r| r["state"] == "approved").unwrap();
    // awards: confirmed from a carnet, approved from a request, revoked, short-lived
    assert_eq!(awards.len(), 4, "{awards:#?}");
    let classes = count_by(&awards, "badge_class");
    assert_eq!(classes.get("organiser-mon-activite-en-cuisine"), Some(&1));
    assert_eq!(classes.get("securite-hygiene-au-travail"), Some(&3));
    assert!(awards.iter().any(|a| a["id"] == approved["award_id"]));
    let by_state = count_by(&awards, "state");
    assert_eq!(by_state.get("revoked"), Some(&1), "{by_state:?}");
    // the one-minute award is valid, or expired on a slow machine
    let short: Vec<&Value> = awards
        .iter()
        .filter(|a| a["valid_until"].is_string())
        .collect();
    assert_eq!(short.len(), 1);
    assert!(short[0]["state"] == "valid" || short[0]["state"] == "expired");
    // every name is marked fictional, no email is shown, both educators appear
    for a in &awards {
        let name = a["recipient_name"].as_str().unwrap();
        assert!(
            name.contains("(fictif)") || name.contains("(fictive)"),
            "{name}"
        );
    }
    let issuers: Vec<&str> = awards
        .iter()
        .filter_map(|a| a["issued_by"].as_str())
        .collect();
    assert!(
        issuers.iter().any(|i| i.contains("Camille Rivière")),
        "{issuers:?}"
    );
    assert!(
        issuers.iter().any(|i| i.contains("Karim Benali")),
        "{issuers:?}"
    );
    assert!(
        !serde_json::to_string(&awards)
            .unwrap()
            .contains("@example.org")
    );

    // the returned request carries the educator's comment, through the real API
    let returned = requests.iter().find(|r| r["state"] == "returned").unwrap();
    let shown = run(
        dir.path(),
        &[
            "requests",
            "show",
            returned["id"].as_str().unwrap(),
            "--json",
        ],
        &[],
    );
    let shown = json(&shown);
    let events: Vec<&str> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["submitted", "evidence_added", "returned"]);
    assert!(
        shown["events"][2]["comment"]
            .as_str()
            .unwrap()
            .contains("photo")
    );
    assert_eq!(shown["evidence"][0]["media_type"], "image/png");
    assert_eq!(
        shown["links"][0],
        "https://example.org/carnet-demo/yanis/armoire"
    );

    // a second run creates nothing and changes nothing
    let second = run(dir.path(), &["demo"], &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.stdout.contains("created 0,"), "{}", second.stdout);
    let (awards_again, requests_again) = snapshot(dir.path());
    let ids = |v: &[Value]| v.iter().map(|a| a["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&awards_again), ids(&awards));
    assert_eq!(ids(&requests_again), ids(&requests));
    assert_eq!(
        count_by(&requests_again, "state"),
        count_by(&requests, "state")
    );
    let revisions = |v: &[Value]| {
        v.iter()
            .map(|r| r["updated_at"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(revisions(&requests_again), revisions(&requests));
}

#[test]
fn a_configured_issuer_gets_no_hint_and_missing_classes_stop_the_demo_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let named = run(
        dir.path(),
        &["demo"],
        &[("CARNET_ISSUER_NAME", "IME Les Tilleuls (fictif)")],
    );
    assert_eq!(named.code, 0, "{}", named.stderr);
    assert!(
        !named.stdout.contains("CARNET_ISSUER_NAME="),
        "{}",
        named.stdout
    );

    let empty = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let out = run(
        other.path(),
        &["demo"],
        &[("CARNET_BADGE_CLASSES_DIR", empty.path().to_str().unwrap())],
    );
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("securite-hygiene-au-travail"),
        "{}",
        out.stderr
    );
}
