//! `carnet demo` (issue #5 §9) on an empty installation: every state is there once, a second
//! run adds nothing, and the awards and requests it made are what `carnet awards list` and
//! `carnet requests list` show; its endorsements (an issued award endorsed by a tutor, a request
//! endorsed then approved, an invitation left open) are what `carnet endorsements list` shows,
//! and the endorsed award verifies with `carnet verify`.

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

/// The signed OB 3.0 credential of an award, read from the demo's database.
fn credential(dir: &std::path::Path, award: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = carnet::store::open(&format!("sqlite://{}/c.db", dir.display()))
            .await
            .unwrap();
        let award = store
            .get_award(award.parse().unwrap())
            .await
            .unwrap()
            .expect("the award is stored");
        store.close().await;
        award.credential_json
    })
}

/// `carnet endorsements list … --json`.
fn endorsements(dir: &std::path::Path, target: &str, id: &str) -> Value {
    let out = run(dir, &["endorsements", "list", target, id, "--json"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    json(&out)
}

#[test]
fn the_demo_endorses_an_award_and_a_request_and_leaves_one_link_open_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &["demo"], &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stdout.contains("\nendorsements:\n"),
        "{}",
        first.stdout
    );
    // the open invitation's link, printed by the run that made it
    let link = first
        .stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http://localhost:8080/endorse/"))
        .unwrap_or_else(|| panic!("no open link: {}", first.stdout))
        .to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    assert!(first.stdout.contains("carnet endorsements list --award "));

    let (awards, requests) = snapshot(dir.path());
    // the tutor endorsed the award Noah's carnet earned: it carries the endorsement
    let cuisine = awards
        .iter()
        .find(|a| a["badge_class"] == "organiser-mon-activite-en-cuisine")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = endorsements(dir.path(), "--award", &cuisine);
    let given = listed["endorsements"].as_array().unwrap();
    assert_eq!(given.len(), 1, "{listed:#}");
    assert_eq!(given[0]["endorser"]["name"], "Sophie Martin (fictive)");
    assert_eq!(given[0]["endorser"]["kind"], "tutor");
    assert_eq!(
        given[0]["endorser"]["organisation"],
        "Restaurant Le Bon Goût (fictif)"
    );
    assert_eq!(given[0]["embedded"], true);
    assert_eq!(listed["invitations"][0]["state"], "used");
    assert!(!serde_json::to_string(&listed).unwrap().contains("@"));

    // ... and verifies: the badge and its endorsement, with `carnet verify`
    let file = dir.path().join("noah-cuisine.json");
    let cred = credential(dir.path(), &cuisine);
    let parsed: Value = serde_json::from_str(&cred).unwrap();
    assert_eq!(
        parsed["endorsement"][0]["issuer"]["name"],
        "Sophie Martin (fictive)"
    );
    std::fs::write(&file, cred).unwrap();
    let verified = run(
        dir.path(),
        &["verify", file.to_str().unwrap(), "--json", "--offline"],
        &[],
    );
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
    let report = json(&verified);
    assert_eq!(report["verdict"], "valid", "{report:#}");
    let checks: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == "endorsement")
        .collect();
    assert_eq!(checks.len(), 1, "{report:#}");
    assert_eq!(checks[0]["status"], "pass");

    // an educator endorsed Noah's request before it was approved: the award carries it
    let approved = requests.iter().find(|r| r["state"] == "approved").unwrap();
    let request = approved["id"].as_str().unwrap();
    let listed = endorsements(dir.path(), "--request", request);
    assert_eq!(listed["state"], "approved");
    assert_eq!(listed["reserved_award_id"], approved["award_id"]);
    let given = listed["endorsements"].as_array().unwrap();
    assert_eq!(given.len(), 1, "{listed:#}");
    assert_eq!(given[0]["endorser"]["kind"], "educator");
    assert_eq!(given[0]["embedded"], true);
    let cred: Value = serde_json::from_str(&credential(
        dir.path(),
        approved["award_id"].as_str().unwrap(),
    ))
    .unwrap();
    assert_eq!(cred["endorsement"].as_array().unwrap().len(), 1);
    let events = run(dir.path(), &["requests", "show", request, "--json"], &[]);
    let kinds: Vec<String> = json(&events)["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["submitted", "evidence_added", "approved"]);

    // one invitation left open, on Inès's request, never listed with its link
    let submitted: Vec<&Value> = requests
        .iter()
        .filter(|r| r["state"] == "submitted")
        .collect();
    let open: Vec<Value> = submitted
        .iter()
        .map(|r| endorsements(dir.path(), "--request", r["id"].as_str().unwrap()))
        .filter(|l| !l["invitations"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0]["invitations"].as_array().unwrap().len(), 1);
    assert_eq!(open[0]["invitations"][0]["state"], "pending");
    assert!(!serde_json::to_string(&open).unwrap().contains(&token));

    // a second run adds nothing: no second endorsement, no second invitation; it says why the
    // open link is not shown again
    let second = run(dir.path(), &["demo"], &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.stdout.contains("created 0,"), "{}", second.stdout);
    assert!(!second.stdout.contains("/endorse/"), "{}", second.stdout);
    assert!(
        second.stdout.contains("made by an earlier run"),
        "{}",
        second.stdout
    );
    assert!(second.stdout.contains("carnet endorsements revoke "));
    let again = endorsements(dir.path(), "--award", &cuisine);
    assert_eq!(again["endorsements"].as_array().unwrap().len(), 1);
    assert_eq!(again["invitations"].as_array().unwrap().len(), 1);
    let again = endorsements(dir.path(), "--request", request);
    assert_eq!(again["endorsements"].as_array().unwrap().len(), 1);
    assert_eq!(again["invitations"].as_array().unwrap().len(), 1);
    let open_id = open[0]["badge_request"].as_str().unwrap();
    let again = endorsements(dir.path(), "--request", open_id);
    assert_eq!(again["invitations"].as_array().unwrap().len(), 1);
    // the award was not signed again
    assert_eq!(
        credential(dir.path(), &cuisine),
        std::fs::read_to_string(&file).unwrap()
    );
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
