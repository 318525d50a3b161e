//! Server-side request forgery: carnet's public verifier fetches URLs that strangers give it, and
//! must never be made to connect to the machine it runs on, its private network or a cloud metadata
//! service — whatever the spelling of the address, through a name that resolves there, or through a
//! redirect — unless an operator allow-lists the address (`--fetch-allow-addresses`).
//!
//! Local servers on loopback addresses stand in for the targets: each counts the connections it
//! accepts, so "refused" also means "never connected to". Nothing here needs the internet, and every
//! refusal must come at once (no connect timeout is waited for).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use carnet::verify::Verifier;
use carnet::verify::fetch::{FetchError, FetchPolicy, Fetcher};
use carnet::verify::report::{Status, Verdict};
use carnet::verify::resolve::Resolver;
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ACCEPT: &str = "application/json";

#[derive(Clone)]
enum Answer {
    Json(&'static str),
    Redirect(String),
}

/// A tiny HTTP/1.1 server counting the connections it accepts. Unknown paths answer 404.
struct Server {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    routes: Arc<Mutex<HashMap<String, Answer>>>,
}

impl Server {
    async fn start(ip: &str) -> Option<Server> {
        let listener = TcpListener::bind((ip.parse::<IpAddr>().unwrap(), 0))
            .await
            .ok()?;
        let server = Server {
            addr: listener.local_addr().unwrap(),
            connections: Arc::default(),
            routes: Arc::default(),
        };
        let (connections, routes) = (server.connections.clone(), server.routes.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                let routes = routes.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head);
                    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                    let answer = routes.lock().unwrap().get(&path).cloned();
                    let response = match answer {
                        Some(Answer::Json(body)) => format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        ),
                        Some(Answer::Redirect(to)) => format!(
                            "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        ),
                        None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string(),
                    };
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Some(server)
    }

    fn route(&self, path: &str, answer: Answer) -> String {
        self.routes.lock().unwrap().insert(path.into(), answer);
        self.url(path)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn fetcher(allow_http: &[&str], allow_addresses: &[&str]) -> Fetcher {
    Fetcher::new(FetchPolicy {
        allow_http: allow_http.iter().map(|h| h.to_string()).collect(),
        allow_addresses: allow_addresses.iter().map(|a| a.parse().unwrap()).collect(),
    })
}

/// GET `url` as JSON, failing the test if it takes long enough to have tried a connection.
async fn get(f: &Fetcher, url: &str) -> Result<serde_json::Value, FetchError> {
    tokio::time::timeout(Duration::from_secs(2), f.get_json(url, ACCEPT))
        .await
        .unwrap_or_else(|_| panic!("{url}: not refused at once"))
}

/// Asserts a refusal by the address filter, naming `ip`, in plain words.
fn assert_refused(url: &str, got: Result<serde_json::Value, FetchError>, ip: &str) {
    match got {
        Err(FetchError::Refused(r)) => {
            assert_eq!(r.ip, ip.parse::<IpAddr>().unwrap(), "{url}");
            let message = FetchError::Refused(r).to_string();
            assert!(
                message.contains("the verifier does not fetch from private or local networks")
                    && message.contains(ip),
                "{url}: {message}"
            );
        }
        other => panic!("{url}: expected the address filter to refuse it, got {other:?}"),
    }
}

/// Plain http is allowed for every host used below, so that only the address filter is tested:
/// allowing http never allows an address.
const HTTP_HOSTS: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "127.0.0.2",
    "0.0.0.0",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:127.0.0.2",
    "10.0.0.1",
    "169.254.169.254",
    "fd00:ec2::254",
];

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_without_connecting() {
    let trap = Server::start("127.0.0.1").await.unwrap();
    trap.route("/doc.json", Answer::Json(r#"{"secret": true}"#));
    let f = fetcher(HTTP_HOSTS, &[]);
    let url = format!("http://localhost:{}/doc.json", trap.port());
    let got = get(&f, &url).await;
    let Err(FetchError::Refused(r)) = &got else {
        panic!("{got:?}")
    };
    assert_eq!(r.name.as_deref(), Some("localhost"));
    assert!(
        got.unwrap_err()
            .to_string()
            .starts_with("localhost resolves to an address of the verifying machine"),
    );
    assert!(
        !got_text(&f, &url).await.contains("127.0.0.1"),
        "the address is not said"
    );
    // https too: the name is refused before any TLS.
    let got = get(&f, &format!("https://localhost:{}/doc.json", trap.port())).await;
    assert!(matches!(got, Err(FetchError::Refused(_))), "{got:?}");
    assert_eq!(trap.connections(), 0);
}

async fn got_text(f: &Fetcher, url: &str) -> String {
    get(f, url).await.unwrap_err().to_string()
}

#[tokio::test]
async fn local_addresses_in_any_spelling_are_refused_without_connecting() {
    let trap = Server::start("127.0.0.1").await.unwrap();
    let trap6 = Server::start("::1").await; // where the sandbox has IPv6
    let p = trap.port();
    let f = fetcher(HTTP_HOSTS, &[]);
    let mut cases = vec![
        (format!("http://127.0.0.1:{p}/doc.json"), "127.0.0.1"),
        (format!("http://2130706433:{p}/doc.json"), "127.0.0.1"), // decimal
        (format!("http://0x7f000001:{p}/doc.json"), "127.0.0.1"), // hexadecimal
        (format!("http://0x7f.1:{p}/doc.json"), "127.0.0.1"),
        (format!("http://0177.0.0.1:{p}/doc.json"), "127.0.0.1"), // octal
        (format!("http://127.1:{p}/doc.json"), "127.0.0.1"),      // short
        (format!("http://0.0.0.0:{p}/doc.json"), "0.0.0.0"),
        (format!("http://0:{p}/doc.json"), "0.0.0.0"),
        (
            format!("http://[::ffff:127.0.0.1]:{p}/doc.json"),
            "::ffff:127.0.0.1",
        ),
        (
            format!("http://[::ffff:7f00:1]:{p}/doc.json"),
            "::ffff:127.0.0.1",
        ),
        ("http://[::1]/doc.json".to_string(), "::1"),
        ("http://10.0.0.1/".to_string(), "10.0.0.1"),
        ("https://10.0.0.1/".to_string(), "10.0.0.1"),
        ("https://172.16.5.4/".to_string(), "172.16.5.4"),
        ("https://192.168.1.1/".to_string(), "192.168.1.1"),
        ("https://100.64.0.1/".to_string(), "100.64.0.1"),
        (
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "169.254.169.254",
        ),
        (
            "https://0xa9fea9fe/latest/meta-data/".to_string(),
            "169.254.169.254",
        ),
        (
            "http://[fd00:ec2::254]/latest/meta-data/".to_string(),
            "fd00:ec2::254",
        ),
        ("https://[fe80::1]/".to_string(), "fe80::1"),
        ("https://224.0.0.1/".to_string(), "224.0.0.1"),
        ("https://255.255.255.255/".to_string(), "255.255.255.255"),
    ];
    if let Some(t6) = &trap6 {
        cases.push((format!("http://[::1]:{}/doc.json", t6.port()), "::1"));
    }
    for (url, ip) in &cases {
        assert_refused(url, get(&f, url).await, ip);
        // The uncached path refuses the same way.
        let doc = tokio::time::timeout(Duration::from_secs(2), f.get_document(url, ACCEPT))
            .await
            .unwrap();
        assert!(matches!(doc, Err(FetchError::Refused(_))), "{url}: {doc:?}");
    }
    assert_eq!(trap.connections(), 0);
    assert_eq!(trap6.map_or(0, |t| t.connections()), 0);
}

#[tokio::test]
async fn an_allow_listed_address_is_fetched() {
    let server = Server::start("127.0.0.1").await.unwrap();
    let url = server.route("/doc.json", Answer::Json(r#"{"hello": "world"}"#));
    // Plain http allowed, but not the address: refused.
    let got = get(&fetcher(&["127.0.0.1"], &[]), &url).await;
    assert_refused(&url, got, "127.0.0.1");
    assert_eq!(server.connections(), 0);
    // Allow-listed exactly.
    let f = fetcher(&["127.0.0.1", "localhost"], &["127.0.0.1"]);
    assert_eq!(get(&f, &url).await.unwrap()["hello"], "world");
    assert_eq!(server.connections(), 1);
    // Through a name that resolves to it.
    let by_name = format!("http://localhost:{}/doc.json", server.port());
    assert_eq!(get(&f, &by_name).await.unwrap()["hello"], "world");
    // Odd spellings of an allowed address are the allowed address.
    let decimal = format!("http://2130706433:{}/doc.json", server.port());
    assert_eq!(get(&f, &decimal).await.unwrap()["hello"], "world");
    // A network.
    let f = fetcher(&["127.0.0.1"], &["127.0.0.0/8"]);
    assert!(f.get_document(&url, ACCEPT).await.is_ok());
    // An allowed redirect is followed.
    let hop = server.route("/hop", Answer::Redirect(url.clone()));
    assert_eq!(get(&f, &hop).await.unwrap()["hello"], "world");
}

#[tokio::test]
async fn redirects_to_refused_addresses_are_refused_without_connecting() {
    // The first hop is allowed (127.0.0.1 exactly); every target is not.
    let server = Server::start("127.0.0.1").await.unwrap();
    let trap = Server::start("127.0.0.2")
        .await
        .expect("127.0.0.2 is loopback");
    trap.route("/doc.json", Answer::Json(r#"{"secret": true}"#));
    let trap6 = Server::start("::1").await;
    let t = trap.port();
    let mut targets = vec![
        (format!("http://127.0.0.2:{t}/doc.json"), "127.0.0.2"),
        (format!("//127.0.0.2:{t}/doc.json"), "127.0.0.2"), // scheme-relative
        (format!("http://2130706434:{t}/doc.json"), "127.0.0.2"),
        (format!("http://0x7f.0.0.2:{t}/doc.json"), "127.0.0.2"),
        (
            format!("http://[::ffff:127.0.0.2]:{t}/doc.json"),
            "::ffff:127.0.0.2",
        ),
        (
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "169.254.169.254",
        ),
        (
            "https://169.254.169.254/latest/meta-data/".to_string(),
            "169.254.169.254",
        ),
        ("http://10.0.0.1/".to_string(), "10.0.0.1"),
        ("http://[::1]/".to_string(), "::1"),
        (
            "http://[fd00:ec2::254]/latest/meta-data/".to_string(),
            "fd00:ec2::254",
        ),
    ];
    if let Some(t6) = &trap6 {
        targets.push((format!("http://[::1]:{}/doc.json", t6.port()), "::1"));
    }
    let f = fetcher(HTTP_HOSTS, &["127.0.0.1"]);
    for (i, (target, ip)) in targets.iter().enumerate() {
        let url = server.route(&format!("/r{i}"), Answer::Redirect(target.clone()));
        assert_refused(target, get(&f, &url).await, ip);
        // Also after an allowed hop first.
        let twice = server.route(&format!("/rr{i}"), Answer::Redirect(url.clone()));
        assert_refused(target, get(&f, &twice).await, ip);
    }
    assert!(server.connections() >= 2 * targets.len());
    assert_eq!(trap.connections(), 0);
    assert_eq!(trap6.map_or(0, |t| t.connections()), 0);
}

#[tokio::test]
async fn a_redirect_to_a_name_that_resolves_to_a_refused_address_is_refused() {
    // The first hop on 127.0.0.2 (allow-listed); `localhost` resolves to 127.0.0.1 (not).
    let server = Server::start("127.0.0.2").await.unwrap();
    let trap = Server::start("127.0.0.1").await.unwrap();
    trap.route("/doc.json", Answer::Json(r#"{"secret": true}"#));
    let target = format!("http://localhost:{}/doc.json", trap.port());
    let url = server.route("/r", Answer::Redirect(target.clone()));
    let f = fetcher(HTTP_HOSTS, &["127.0.0.2"]);
    let got = get(&f, &url).await;
    let Err(FetchError::Refused(r)) = &got else {
        panic!("{got:?}")
    };
    assert_eq!(r.name.as_deref(), Some("localhost"));
    assert_eq!(server.connections(), 1);
    assert_eq!(trap.connections(), 0);
}

#[tokio::test]
async fn allowing_plain_http_does_not_allow_the_address_nor_the_reverse() {
    let server = Server::start("127.0.0.1").await.unwrap();
    let url = server.route("/doc.json", Answer::Json("{}"));
    // The address allowed, not plain http: refused as not https.
    let got = get(&fetcher(&[], &["127.0.0.1"]), &url).await;
    assert!(matches!(got, Err(FetchError::NotHttps(_))), "{got:?}");
    // A redirect from an allowed http server to a non-https host is refused too.
    let hop = server.route(
        "/to-http",
        Answer::Redirect("http://example.org/x".to_string()),
    );
    let got = get(&fetcher(&["127.0.0.1"], &["127.0.0.1"]), &hop).await;
    assert!(matches!(got, Err(FetchError::NotHttps(_))), "{got:?}");
    assert_eq!(server.connections(), 1);
}

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    settings: carnet::config::Settings,
}

fn verifier() -> Verifier {
    let f = fetcher(HTTP_HOSTS, &[]);
    Verifier::new(Resolver::new(vec![], Some(Arc::new(f))))
}

fn refused_in(report: &carnet::verify::report::Report, id: &str) -> bool {
    report.checks.iter().any(|c| {
        c.id == id
            && c.status == Status::Unknown
            && c.message
                .en
                .contains("the verifier does not fetch from private or local networks")
    })
}

#[tokio::test]
async fn the_verifier_reports_a_hosted_assertion_on_a_metadata_address_as_could_not_check() {
    let report = verifier()
        .verify_bytes(
            b"http://169.254.169.254/latest/meta-data/iam/assertion.json",
            None,
        )
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert!(
        report.checks.iter().any(|c| c.status == Status::Unknown
            && c.message.en.contains("169.254.169.254")
            && c.message.en.contains("cloud metadata service")),
        "{report:#?}"
    );
}

#[tokio::test]
async fn the_verifier_reports_keys_on_a_private_address_as_could_not_check() {
    // An issuer whose ids (did:web, key URLs, status list) all live on 10.0.0.1.
    let dir = tempfile::tempdir().unwrap();
    let args = Args::try_parse_from([
        "carnet".to_string(),
        "--base-url=https://10.0.0.1".to_string(),
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
    let award = carnet::issue::issue(
        &app.issuer,
        &class,
        app.store.as_ref(),
        carnet::issue::AwardRequest {
            badge_class: class.slug.clone(),
            recipient: carnet::recipient::Email::parse("lea@example.org").unwrap(),
            details: Default::default(),
            issued_by: "test".into(),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    assert!(award.credential_json.contains("did:web:10.0.0.1"));
    let jwt = carnet::issue::vc_jwt(&app.issuer, app.store.as_ref(), &award)
        .await
        .unwrap();
    // A verifier that does not hold carnet's keys must fetch them: refused at once.
    let v = verifier();
    for (label, input) in [
        ("Data Integrity via did:web", &award.credential_json),
        ("VC-JWT via kid URL", &jwt),
    ] {
        let report = tokio::time::timeout(
            Duration::from_secs(5),
            v.verify_bytes(input.as_bytes(), None),
        )
        .await
        .expect("refused at once");
        assert_eq!(
            report.verdict,
            Verdict::Indeterminate,
            "{label}: {report:#?}"
        );
        assert!(refused_in(&report, "key"), "{label}: {report:#?}");
        let key = report.checks.iter().find(|c| c.id == "key").unwrap();
        assert!(
            key.message
                .en
                .contains("10.0.0.1 is a private network address"),
            "{label}: {}",
            key.message.en
        );
    }
}
