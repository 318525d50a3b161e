//! `carnet demo` (issue #5 §9) on an empty installation: every state is there once, a second
//! run adds nothing, and the awards and requests it made are what `carnet awards list` and
//! `carnet requests list` show; its endorsements (an issued award endorsed by a tutor, a request
//! endorsed then approved, an invitation left open) are what `carnet endorsements list` shows,
//! and the endorsed award verifies with `carnet verify`.

use std::collections::BTreeMap;

use crate::common::cli::Installation;
use serde_json::Value;

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
fn snapshot(c: &Installation) -> (Vec<Value>, Vec<Value>) {
    let awards = c.run(&["awards", "list", "--json"]);
    assert_eq!(awards.code, 0, "{}", awards.stderr);
    let requests = c.run(&["requests", "list", "--json"]);
    assert_eq!(requests.code, 0, "{}", requests.stderr);
    (
        awards.json().as_array().unwrap().clone(),
        requests.json()["items"].as_array().unwrap().clone(),
    )
}

#[test]
fn the_demo_loads_every_state_once_and_a_second_run_adds_nothing() {
    let c = Installation::new();
    let first = c.run(&["demo"]);
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

    let (awards, requests) = snapshot(&c);
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
    let shown = c.run(&[
        "requests",
        "show",
        returned["id"].as_str().unwrap(),
        "--json",
    ]);
    let shown = shown.json();
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
    let second = c.run(&["demo"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.stdout.contains("created 0,"), "{}", second.stdout);
    let (awards_again, requests_again) = snapshot(&c);
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
fn credential(c: &Installation, award: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = carnet::store::open(&c.database_url()).await.unwrap();
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
fn endorsements(c: &Installation, target: &str, id: &str) -> Value {
    let out = c.run(&["endorsements", "list", target, id, "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()
}

#[test]
fn the_demo_endorses_an_award_and_a_request_and_leaves_one_link_open_once() {
    let c = Installation::new();
    let first = c.run(&["demo"]);
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

    let (awards, requests) = snapshot(&c);
    // the tutor endorsed the award Noah's carnet earned: it carries the endorsement
    let cuisine = awards
        .iter()
        .find(|a| a["badge_class"] == "organiser-mon-activite-en-cuisine")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = endorsements(&c, "--award", &cuisine);
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
    let file = c.path("noah-cuisine.json");
    let cred = credential(&c, &cuisine);
    let parsed: Value = serde_json::from_str(&cred).unwrap();
    assert_eq!(
        parsed["endorsement"][0]["issuer"]["name"],
        "Sophie Martin (fictive)"
    );
    std::fs::write(&file, cred).unwrap();
    let verified = c.run(&["verify", file.to_str().unwrap(), "--json", "--offline"]);
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
    let report = verified.json();
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
    let listed = endorsements(&c, "--request", request);
    assert_eq!(listed["state"], "approved");
    assert_eq!(listed["reserved_award_id"], approved["award_id"]);
    let given = listed["endorsements"].as_array().unwrap();
    assert_eq!(given.len(), 1, "{listed:#}");
    assert_eq!(given[0]["endorser"]["kind"], "educator");
    assert_eq!(given[0]["embedded"], true);
    let cred: Value =
        serde_json::from_str(&credential(&c, approved["award_id"].as_str().unwrap())).unwrap();
    assert_eq!(cred["endorsement"].as_array().unwrap().len(), 1);
    let events = c.run(&["requests", "show", request, "--json"]);
    let kinds: Vec<String> = events.json()["events"]
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
        .map(|r| endorsements(&c, "--request", r["id"].as_str().unwrap()))
        .filter(|l| !l["invitations"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0]["invitations"].as_array().unwrap().len(), 1);
    assert_eq!(open[0]["invitations"][0]["state"], "pending");
    assert!(!serde_json::to_string(&open).unwrap().contains(&token));

    // a second run adds nothing: no second endorsement, no second invitation; it says why the
    // open link is not shown again
    let second = c.run(&["demo"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.stdout.contains("created 0,"), "{}", second.stdout);
    assert!(!second.stdout.contains("/endorse/"), "{}", second.stdout);
    assert!(
        second.stdout.contains("made by an earlier run"),
        "{}",
        second.stdout
    );
    assert!(second.stdout.contains("carnet endorsements revoke "));
    let again = endorsements(&c, "--award", &cuisine);
    assert_eq!(again["endorsements"].as_array().unwrap().len(), 1);
    assert_eq!(again["invitations"].as_array().unwrap().len(), 1);
    let again = endorsements(&c, "--request", request);
    assert_eq!(again["endorsements"].as_array().unwrap().len(), 1);
    assert_eq!(again["invitations"].as_array().unwrap().len(), 1);
    let open_id = open[0]["badge_request"].as_str().unwrap();
    let again = endorsements(&c, "--request", open_id);
    assert_eq!(again["invitations"].as_array().unwrap().len(), 1);
    // the award was not signed again
    assert_eq!(
        credential(&c, &cuisine),
        std::fs::read_to_string(&file).unwrap()
    );
}

#[test]
fn a_configured_issuer_gets_no_hint_and_missing_classes_stop_the_demo_cleanly() {
    let c = Installation::new();
    let named = c
        .cli()
        .arg("demo")
        .env("CARNET_ISSUER_NAME", "IME Les Tilleuls (fictif)")
        .run();
    assert_eq!(named.code, 0, "{}", named.stderr);
    assert!(
        !named.stdout.contains("CARNET_ISSUER_NAME="),
        "{}",
        named.stdout
    );

    let empty = tempfile::tempdir().unwrap();
    let other = Installation::new();
    let out = other
        .cli()
        .arg("demo")
        .env("CARNET_BADGE_CLASSES_DIR", empty.path())
        .run();
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("securite-hygiene-au-travail"),
        "{}",
        out.stderr
    );
}
