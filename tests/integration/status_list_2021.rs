//! StatusList2021 (`StatusList2021Entry`, context `https://w3id.org/vc/status-list/2021/v1`) end to end, with
//! documents nobody on the project wrote: `tests/interop/dcc_status_list_2021.mjs` makes the lists with
//! `@digitalbazaar/vc-status-list` and signs them, and OB 3.0 credentials pointing at them, with the DCC stack
//! (`@digitalbazaar/vc`, eddsa-rdfc-2022, a did:key issuer). A local HTTP server on 127.0.0.1 serves the lists;
//! carnet's verifier fetches them the way it fetches any status list (its `Fetcher`, with plain http and that
//! loopback address allow-listed), through one `Verifier` and so one status-list cache.
//!
//! The tools live in `.tools/node` (`scripts/setup-interop.sh`; `CARNET_INTEROP_NODE_DIR` names another folder
//! holding `node_modules`). Without them the test fails and says so, unless `CARNET_SKIP_INTEROP=1`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::common::cli::Cli;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet::verify::Verifier;
use carnet::verify::fetch::{FetchPolicy, Fetcher};
use carnet::verify::report::{Check, Report, Status, Verdict};
use carnet::verify::resolve::Resolver;
use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SCRIPT: &str = "tests/interop/dcc_status_list_2021.mjs";
const CONTEXT: &str = "https://w3id.org/vc/status-list/2021/v1";

/// The folder holding `node_modules`; `None` (after a visible message) when `CARNET_SKIP_INTEROP=1`.
fn node_tools() -> Option<PathBuf> {
    if std::env::var("CARNET_SKIP_INTEROP").as_deref() == Ok("1") {
        // straight to the process's stderr: libtest's capture would hide an eprintln!
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"SKIP status_list_2021: CARNET_SKIP_INTEROP=1\n",
        );
        return None;
    }
    let dir = std::env::var_os("CARNET_INTEROP_NODE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join(".tools/node"));
    assert!(
        dir.join("node_modules/@digitalbazaar/vc-status-list")
            .exists(),
        "the interop npm packages are not installed in {} (no @digitalbazaar/vc-status-list): run \
         scripts/setup-interop.sh (or set CARNET_SKIP_INTEROP=1 to skip these checks)",
        dir.display()
    );
    Some(dir)
}

/// An OB 3.0 credential, unsigned; the script gives it the DCC contexts, its issuer id and a status.
fn unsigned_credential() -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:2fe53dc9-b2ec-4939-9b2c-0d00f6663b6c",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Atelier cuisine : service en salle",
        "issuer": {"id": "https://dcc.example.org/issuer", "type": ["Profile"], "name": "Issuer using the DCC tools"},
        "validFrom": "2025-09-01T08:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "urn:uuid:bd6d9316-f7ae-4073-a1e5-2f7f5bd22922",
                "type": ["Achievement"],
                "name": "Service en salle",
                "description": "Dresser une table et servir un repas.",
                "criteria": {"narrative": "Observé en situation réelle par un éducateur."}
            }
        }
    })
}

/// The documents the script wrote, served at `/lists/{name}` (the file `lists/{name}.json`); each request's
/// path is recorded.
#[derive(Clone)]
struct Lists {
    dir: PathBuf,
    hits: Arc<Mutex<Vec<String>>>,
}

async fn list(State(lists): State<Lists>, UrlPath(name): UrlPath<String>) -> impl IntoResponse {
    lists.hits.lock().unwrap().push(format!("/lists/{name}"));
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return StatusCode::NOT_FOUND.into_response();
    }
    match std::fs::read(lists.dir.join(format!("lists/{name}.json"))) {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/vc+ld+json")],
            body,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn verifier() -> Verifier {
    let fetcher = Fetcher::new(FetchPolicy {
        allow_http: vec!["127.0.0.1".to_string()],
        allow_addresses: vec!["127.0.0.1".parse().unwrap()],
    });
    Verifier::new(Resolver::new(vec![], Some(Arc::new(fetcher))))
}

fn status_check(report: &Report) -> &Check {
    let status: Vec<&Check> = report.checks.iter().filter(|c| c.id == "status").collect();
    assert_eq!(status.len(), 1, "one status check: {report:#?}");
    status[0]
}

/// What the script printed for one case.
struct Case {
    dcc_verified: bool,
    dcc_status_set: Option<bool>,
    credential: String,
}

#[tokio::test]
async fn status_list_2021_lists_signed_by_the_dcc_stack() {
    let Some(node_dir) = node_tools() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let unsigned = work.path().join("unsigned.json");
    std::fs::write(&unsigned, unsigned_credential().to_string()).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/lists", listener.local_addr().unwrap());
    let out = work.path().join("out");
    let args = [
        Path::new(ROOT).join(SCRIPT).display().to_string(),
        format!("--unsigned={}", unsigned.display()),
        format!("--out={}", out.display()),
        format!("--list-base={base}"),
        "--revoked=4242".into(),
        "--suspended=77".into(),
    ];
    let ran = Cli::program("node")
        .args(args)
        .env("CARNET_INTEROP_NODE_DIR", node_dir)
        .run_async()
        .await;
    let printed: Value = ran
        .stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    assert!(
        ran.success() && printed["ok"] == true,
        "{SCRIPT} failed: {}",
        ran.describe()
    );

    // carnet ships the context the package exports, unchanged.
    assert_eq!(printed["context_url"], CONTEXT);
    let exported: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("context.json")).unwrap()).unwrap();
    let shipped: Value = serde_json::from_str(
        carnet::jsonld::known_context(CONTEXT).expect("the StatusList2021 context is shipped"),
    )
    .unwrap();
    assert_eq!(shipped, exported);

    let cases: BTreeMap<String, Case> = printed["cases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, c)| {
            let credential =
                std::fs::read_to_string(out.join(format!("credentials/{name}.json"))).unwrap();
            let case = Case {
                dcc_verified: c["dcc"]["verified"] == true,
                dcc_status_set: c["dcc"]["status_set"].as_bool(),
                credential,
            };
            (name.clone(), case)
        })
        .collect();
    let lists = Lists {
        dir: out.clone(),
        hits: Arc::new(Mutex::new(Vec::new())),
    };
    let router = axum::Router::new()
        .route("/lists/{name}", axum::routing::get(list))
        .with_state(lists.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let verifier = verifier();
    let mut reports = BTreeMap::new();
    for (name, case) in &cases {
        let report = verifier
            .verify_bytes(case.credential.as_bytes(), None)
            .await;
        reports.insert(name.as_str(), report);
    }
    let report = |name: &str| &reports[name];

    // Bits not set: valid, the status check passing (an index written as a string or as a number).
    for name in [
        "revocation-clear",
        "revocation-clear-number",
        "suspension-clear",
    ] {
        let r = report(name);
        assert_eq!(r.verdict, Verdict::Valid, "{name}: {r:#?}");
        assert_eq!(status_check(r).status, Status::Pass, "{name}");
        assert_eq!(status_check(r).reason, None, "{name}");
    }
    assert!(
        status_check(report("suspension-clear"))
            .message
            .en
            .contains("not suspended")
    );

    // Bits set: invalid, with the reason a person acts on.
    for (name, reason, words) in [
        ("revoked", "revoked", "withdrawn"),
        ("suspended", "suspended", "suspended"),
    ] {
        let r = report(name);
        assert_eq!(r.verdict, Verdict::Invalid, "{name}: {r:#?}");
        let check = status_check(r);
        assert_eq!(
            (check.status, check.reason),
            (Status::Fail, Some(reason)),
            "{name}"
        );
        assert!(
            check.message.en.contains(words),
            "{name}: {:?}",
            check.message
        );
        // Only the status is wrong with these badges.
        assert!(
            r.checks
                .iter()
                .filter(|c| c.id != "status")
                .all(|c| matches!(c.status, Status::Pass | Status::Warn)),
            "{name}: {r:#?}"
        );
    }

    // A list whose content was changed after signing (its revoked bit cleared), and a list signed by another
    // issuer: never "not revoked".
    for (name, words) in [
        ("tampered-list", "signature of the list"),
        ("other-issuer", "not published by the badge's issuer"),
    ] {
        let r = report(name);
        assert_ne!(r.verdict, Verdict::Valid, "{name}: {r:#?}");
        assert_eq!(r.verdict, Verdict::Indeterminate, "{name}: {r:#?}");
        let check = status_check(r);
        assert_eq!(check.status, Status::Unknown, "{name}");
        assert!(
            check.message.en.contains(words),
            "{name}: {:?}",
            check.message
        );
    }

    // carnet and the DCC stack agree on every case.
    for (name, case) in &cases {
        assert_eq!(
            report(name).verdict == Verdict::Valid,
            case.dcc_verified,
            "{name}: carnet {:?}, the DCC stack verified={}",
            report(name).verdict,
            case.dcc_verified
        );
    }
    assert_eq!(cases["revoked"].dcc_status_set, Some(true));
    assert_eq!(cases["revocation-clear"].dcc_status_set, Some(false));

    // One fetch per list: the revocation list, read for three credentials, came from the cache after the first.
    let hits = lists.hits.lock().unwrap().clone();
    let count = |path: &str| hits.iter().filter(|h| *h == path).count();
    assert_eq!(count("/lists/revocation"), 1, "{hits:?}");
    assert_eq!(count("/lists/suspension"), 1, "{hits:?}");

    // A BitstringStatusListEntry pointing at a StatusList2021 list does not read it (the proof of this changed
    // credential no longer holds either; only the status check is looked at).
    let mut bitstring_entry: Value = serde_json::from_str(&cases["revoked"].credential).unwrap();
    bitstring_entry["credentialStatus"]["type"] = json!("BitstringStatusListEntry");
    let r = verifier
        .verify_bytes(bitstring_entry.to_string().as_bytes(), None)
        .await;
    let check = status_check(&r);
    assert_eq!(check.status, Status::Unknown, "{r:#?}");
    assert!(
        check
            .message
            .en
            .contains("is not a BitstringStatusListCredential"),
        "{:?}",
        check.message
    );
}
