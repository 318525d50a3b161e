//! Key resolution over the network: a verifier that does not hold carnet's keys fetches them the
//! way any verifier would — the did:web DID document for Data Integrity proofs, the `kid` URL for
//! VC-JWTs — from a carnet serving on 127.0.0.1 (plain http allowed for that host only, and that
//! loopback address explicitly allow-listed past the verifier's address filter).

use std::sync::Arc;

use carnet::issue::{AwardRequest, issue};
use carnet::ob3::credential::AwardDetails;
use carnet::recipient::Email;
use carnet::verify::Verifier;
use carnet::verify::fetch::{FetchPolicy, Fetcher};
use carnet::verify::report::{Report, Status, Verdict};
use carnet::verify::resolve::Resolver;
use clap::Parser;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    settings: carnet::config::Settings,
}

struct Served {
    json: String,
    jwt: String,
    /// Requests the server answered, by path.
    hits: Arc<std::sync::Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

async fn serve_and_issue() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let args = Args::try_parse_from([
        "carnet".to_string(),
        format!("--base-url={base}"),
        format!("--database-url=sqlite://{}/carnet.db", dir.path().display()),
        format!("--keys-dir={}", dir.path().join("keys").display()),
        format!(
            "--badge-classes-dir={}/badge-classes",
            env!("CARGO_MANIFEST_DIR")
        ),
    ])
    .unwrap();
    let app = carnet::app::App::start(args.settings.validate().unwrap())
        .await
        .unwrap();
    let class = app.class("securite-hygiene-au-travail").unwrap().clone();
    let request = AwardRequest {
        badge_class: class.slug.clone(),
        recipient: Email::parse("lea@example.org").unwrap(),
        details: AwardDetails::default(),
        issued_by: "test".into(),
        idempotency_key: None,
    };
    let award = issue(&app.issuer, &class, app.store.as_ref(), request)
        .await
        .unwrap();
    let jwt = carnet::issue::vc_jwt(&app.issuer, app.store.as_ref(), &award)
        .await
        .unwrap();
    let hits = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = hits.clone();
    let router = carnet::http::router(app, vec![], 1 << 20).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            seen.lock().unwrap().push(req.uri().path().to_string());
            next.run(req)
        },
    ));
    tokio::spawn(carnet::http::serve(
        listener,
        router,
        std::future::pending(),
    ));
    Served {
        json: award.credential_json,
        jwt,
        hits,
        _dir: dir,
    }
}

fn remote_verifier(allow_http: &[&str]) -> Verifier {
    // The hosts allowed over plain http are the test server's address, allow-listed too.
    let fetcher = Fetcher::new(FetchPolicy {
        allow_http: allow_http.iter().map(|h| h.to_string()).collect(),
        allow_addresses: allow_http.iter().map(|h| h.parse().unwrap()).collect(),
    });
    Verifier::new(Resolver::new(vec![], Some(Arc::new(fetcher))))
}

fn status(report: &Report, id: &str) -> Option<Status> {
    report.checks.iter().find(|c| c.id == id).map(|c| c.status)
}

#[tokio::test]
async fn did_web_and_kid_urls_resolve_over_the_network() {
    let served = serve_and_issue().await;
    let verifier = remote_verifier(&["127.0.0.1"]);
    for (label, input) in [
        ("Data Integrity via did:web", &served.json),
        ("VC-JWT via kid URL", &served.jwt),
    ] {
        let report = verifier.verify_bytes(input.as_bytes(), None).await;
        assert_eq!(report.verdict, Verdict::Valid, "{label}: {report:#?}");
        assert_eq!(status(&report, "key"), Some(Status::Pass), "{label}");
        assert_eq!(status(&report, "controller"), Some(Status::Pass), "{label}");
    }
}

#[tokio::test]
async fn verifying_the_same_badge_twice_costs_no_fetch() {
    let served = serve_and_issue().await;
    let verifier = remote_verifier(&["127.0.0.1"]);
    for _ in 0..3 {
        let report = verifier.verify_bytes(served.json.as_bytes(), None).await;
        assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
        assert_eq!(status(&report, "status"), Some(Status::Pass));
    }
    let hits = served.hits.lock().unwrap().clone();
    let lists = hits.iter().filter(|p| p.contains("/status/")).count();
    let dids = hits.iter().filter(|p| p.ends_with("did.json")).count();
    // One fetch of the status list (kept for its ttl) and of the DID document (kept 5 minutes).
    assert_eq!((lists, dids), (1, 1), "{hits:?}");
}

#[tokio::test]
async fn plain_http_to_a_host_not_allowed_is_could_not_check_not_invalid() {
    let served = serve_and_issue().await;
    let report = remote_verifier(&[])
        .verify_bytes(served.json.as_bytes(), None)
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(status(&report, "key"), Some(Status::Unknown));
    let report = remote_verifier(&[])
        .verify_bytes(served.jwt.as_bytes(), None)
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
}

#[tokio::test]
async fn an_unreachable_issuer_is_could_not_check() {
    let served = serve_and_issue().await;
    // Point the credential's key at a port where nothing listens: the signature no longer matters,
    // the key cannot be obtained.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = listener.local_addr().unwrap().port();
    drop(listener);
    let mut cred: serde_json::Value = serde_json::from_str(&served.json).unwrap();
    let vm = cred["proof"][0]["verificationMethod"]
        .as_str()
        .unwrap()
        .to_string();
    let port = vm
        .split("%3A")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_string();
    cred["proof"][0]["verificationMethod"] = vm
        .replace(&format!("%3A{port}"), &format!("%3A{dead}"))
        .into();
    let report = remote_verifier(&["127.0.0.1"])
        .verify_bytes(cred.to_string().as_bytes(), None)
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    let key = report.checks.iter().find(|c| c.id == "key").unwrap();
    assert_eq!(key.status, Status::Unknown);
    assert!(
        key.message.en.contains("did not answer"),
        "{}",
        key.message.en
    );
}
