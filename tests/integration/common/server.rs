//! A running carnet server on its own port, for the HTTP tests (`tests/http_api.rs`,
//! `tests/http_verify.rs`).

use std::path::Path;

use carnet::config::{ServeSettings, Settings};
use clap::Parser;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const JSON: &str = "application/json";
pub const PNG: &str = "image/png";
pub const TOKEN: &str = "0123456789abcdefghijklmnopqrstuv";
pub const CLASS: &str = "securite-hygiene-au-travail";
pub const ISSUER_NAME: &str = "IME Les Tilleuls";
pub const CLASSES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/badge-classes");

#[derive(Parser)]
#[command(args_override_self = true)]
pub struct Args {
    #[command(flatten)]
    pub settings: Settings,
    #[command(flatten)]
    pub serve: ServeSettings,
}

/// A running carnet server on its own port.
pub struct Server {
    /// The public base URL (ids in documents start with it).
    pub base: String,
    /// Where the server listens (equal to `base` unless a test chose another base).
    pub addr: String,
    pub client: reqwest::Client,
    pub app: carnet::app::App,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: Option<tempfile::TempDir>,
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> &str {
        let value = self.headers.get(name).and_then(|v| v.to_str().ok());
        value.unwrap_or("")
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Server {
    /// A server with its own temporary data directory.
    pub async fn new() -> Server {
        Self::with_body_limit(8 * 1024 * 1024).await
    }

    pub async fn with_body_limit(max_body: usize) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Self::start_in(dir.path(), None, max_body).await;
        s._dir = Some(dir);
        s
    }

    /// Starts a server whose data lives in `dir`; `base` defaults to the listener's own address.
    pub async fn start_in(dir: &Path, base: Option<&str>, max_body: usize) -> Server {
        Self::start_with(dir, base, &[format!("--max-body-bytes={max_body}")]).await
    }

    /// A server with its own temporary data directory and these extra `carnet serve` arguments
    /// (e.g. `--verify-rate-per-minute=60`); it may fetch from 127.0.0.1 (explicitly allowed).
    pub async fn with_args(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let extra: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        let mut s = Self::start_with(dir.path(), None, &extra).await;
        s._dir = Some(dir);
        s
    }

    /// A server whose data lives in `dir`, with these extra `carnet serve` arguments.
    pub async fn start_with(dir: &Path, base: Option<&str>, extra: &[String]) -> Server {
        let data = [
            format!("--database-url=sqlite://{}/carnet.db", dir.display()),
            format!("--keys-dir={}", dir.join("keys").display()),
            format!("--issuer-name={ISSUER_NAME}"),
        ];
        let extra: Vec<String> = data.into_iter().chain(extra.iter().cloned()).collect();
        Self::start_configured(base, &extra).await
    }

    /// A server configured by `settings` alone (its database, keys and issuer included), with
    /// the test token, the shipped badge classes and fetches from 127.0.0.1 allowed.
    pub async fn start_configured(base: Option<&str>, settings: &[String]) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let base = base.map_or_else(|| addr.clone(), str::to_string);
        let args = Args::try_parse_from(
            [
                "carnet".to_string(),
                format!("--base-url={base}"),
                format!("--badge-classes-dir={CLASSES_DIR}"),
                format!("--api-tokens=test:{TOKEN}"),
                "--fetch-allow-http=127.0.0.1".to_string(),
                "--fetch-allow-addresses=127.0.0.1".to_string(),
                "--verify-rate-per-minute=0".to_string(),
            ]
            .into_iter()
            .chain(settings.iter().cloned()),
        )
        .expect("settings parse");
        let config = args.settings.validate().expect("settings validate");
        let app = carnet::app::App::start(config).await.expect("app starts");
        let router = carnet::http::router_with(
            app.clone(),
            carnet::http::HttpOptions {
                tokens: args.serve.tokens().expect("tokens"),
                max_body_bytes: args.serve.max_body_bytes,
                verify_rate_per_minute: args.serve.verify_rate_per_minute,
                verify_rate_burst: args.serve.verify_rate_burst,
                trusted_proxies: args.serve.trusted_proxy_addrs().expect("proxies"),
                max_evidence_bytes: args.serve.max_evidence_bytes,
                body_read_timeout: std::time::Duration::from_secs(args.serve.body_read_timeout),
            },
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(carnet::http::serve(listener, router, async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        Server {
            base,
            addr,
            client,
            app,
            stop: Some(stop),
            task,
            _dir: None,
        }
    }

    pub async fn shutdown(mut self) {
        let _ = self.stop.take().expect("running").send(());
        self.task.await.unwrap().unwrap();
        self.app.store.close().await;
    }

    /// `path` is relative to the listener or an absolute URL under the public base.
    pub fn url(&self, path: &str) -> String {
        let rest = path.strip_prefix(&self.base).unwrap_or(path);
        format!("{}{rest}", self.addr)
    }

    pub async fn request(
        &self,
        post: Option<Vec<u8>>,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = match post {
            Some(body) => self.client.post(self.url(path)).body(body),
            None => self.client.get(self.url(path)),
        };
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.expect("request sent");
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        let body = r.bytes().await.expect("body").to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.request(None, path, &[]).await
    }

    /// One of an award's forms (`json`, `jwt`, `png`, `svg`), by the URL the API answered.
    pub async fn form(&self, award: &Value, form: &str) -> Resp {
        self.get(award["urls"][form].as_str().expect("url")).await
    }

    pub async fn get_html(&self, path: &str) -> Resp {
        self.request(None, path, &[("accept", "text/html")]).await
    }

    pub async fn post_award(&self, token: Option<&str>, body: impl Into<Vec<u8>>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        headers.extend(auth.as_deref().map(|a| ("authorization", a)));
        self.request(Some(body.into()), "/api/v1/awards", &headers)
            .await
    }

    /// Issues the reference award to Léa; returns the 201 body.
    pub async fn issue(&self) -> Value {
        let r = self.post_award(Some(TOKEN), lea().to_string()).await;
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()
    }

    pub async fn verify_raw(&self, content_type: &str, body: Vec<u8>, email: Option<&str>) -> Resp {
        let mut headers = vec![("content-type", content_type)];
        headers.extend(email.map(|e| ("x-recipient-email", e)));
        self.request(Some(body), "/api/v1/verify", &headers).await
    }

    /// Withdraws an award through the API, with `reason`.
    pub async fn revoke(&self, award: &Value, reason: &str) {
        let id = award["id"].as_str().expect("award id");
        let auth = format!("Bearer {TOKEN}");
        let r = self
            .request(
                Some(json!({ "reason": reason }).to_string().into_bytes()),
                &format!("/api/v1/awards/{id}/revoke"),
                &[
                    ("content-type", "application/json"),
                    ("authorization", &auth),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }

    /// Posts a badge to the verifier under the strict profile and returns its report.
    pub async fn verify_strict(&self, content_type: &str, body: Vec<u8>) -> Value {
        let headers = [("content-type", content_type)];
        let r = self
            .request(Some(body), "/api/v1/verify?profile=strict", &headers)
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    /// Posts a badge to the verifier and returns its report (always 200).
    pub async fn verify(&self, content_type: &str, body: Vec<u8>, email: Option<&str>) -> Value {
        let r = self.verify_raw(content_type, body, email).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }
}

pub fn lea() -> Value {
    json!({
        "badge_class": CLASS,
        "recipient_email": "lea@example.org",
        "recipient_name": "Léa",
        "narrative": "J'ai rempli la fiche de sécurité de l'atelier cuisine.",
        "evidence_url": "https://example.org/photo.jpg",
    })
}

/// `carnet keys rotate` on the data directory of a stopped server (its institution `ime`):
/// the keys it then holds.
pub async fn rotate_keys(dir: &Path) -> carnet::keys::IssuerKeys {
    let store = carnet::store::open(&format!("sqlite://{}/carnet.db", dir.display()))
        .await
        .unwrap();
    let key = carnet::keys::InstanceKey::read_file(&dir.join("keys/instance.key"))
        .unwrap()
        .expect("the server made its instance key");
    carnet::institution::rotate_keys(&store, &key, "ime")
        .await
        .unwrap();
    let tenant = carnet::institution::load(&store, &key, "http://localhost", "ime")
        .await
        .unwrap()
        .unwrap();
    store.close().await;
    tenant.issuer.keys.clone()
}

/// Adds the institution `slug` to a running server (as `carnet institutions add` does), with
/// the shipped badge classes and an API token of its own (`carnet tokens create`): the token.
pub async fn add_institution(s: &Server, slug: &str) -> String {
    let app = &s.app;
    let fields = carnet::store::InstitutionFields {
        name: format!("Institution {slug}"),
        url: Some(format!("https://{slug}.example.org")),
        email: Some(format!("contact@{slug}.example.org")),
        description: None,
        image: None,
        language: "fr".into(),
    };
    carnet::institution::create(&app.store, &app.instance_key, slug, &fields)
        .await
        .unwrap();
    let classes = carnet::badge_class::load_dir(Path::new(CLASSES_DIR)).unwrap();
    carnet::institution::import_classes(&app.store, slug, classes.values(), "test")
        .await
        .unwrap();
    // the shape of a token `carnet tokens create` makes: the prefix and 43 characters
    let token = format!("carnet_{slug:_<43}");
    app.store
        .create_api_token(&carnet::store::NewApiToken {
            issuer_slug: slug,
            name: "test",
            token_sha256: &carnet::evidence::token_sha256(&token),
            created_by: "test",
        })
        .await
        .unwrap();
    token
}
