//! Configuration: every setting has a command-line flag, an environment variable and a documented
//! default. `carnet config example` prints a commented example (an environment file).
//!
//! Settings are validated once, at start-up; a wrong one stops carnet with a message naming it.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

pub use crate::issuer::IssuerSettings;
use crate::recipient::looks_like_email;
use crate::text::is_slug;
use crate::verify::fetch::{FetchPolicy, IpNetwork};

/// Settings shared by every command that touches the database, keys or badge classes.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Public base URL of this carnet instance, used in every published id (issuer, credentials, keys).
    #[arg(
        long,
        env = "CARNET_BASE_URL",
        default_value = "http://localhost:8080",
        global = true
    )]
    pub base_url: String,

    /// Database URL: `sqlite://PATH` (embedded, default) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "CARNET_DATABASE_URL",
        default_value = "sqlite://data/carnet.db",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,

    /// Directory holding the issuer's key material (created on first start, owner-only permissions).
    #[arg(long, env = "CARNET_KEYS_DIR", default_value = "keys", global = true)]
    pub keys_dir: PathBuf,

    /// File holding the instance key (64 hexadecimal digits), under which every institution's
    /// private keys are sealed in the database; made on the first start. Give every node the
    /// same one, and keep it apart from the database's backups. Default: `KEYS_DIR/instance.key`.
    #[arg(long, env = "CARNET_INSTANCE_KEY_FILE", global = true)]
    pub instance_key_file: Option<PathBuf>,

    /// The instance key itself (64 hexadecimal digits), instead of a file.
    #[arg(
        long,
        env = "CARNET_INSTANCE_KEY",
        global = true,
        hide_env_values = true
    )]
    pub instance_key: Option<Secret>,

    /// Directory of co-built badge classes (one TOML file per class, plus its image).
    #[arg(
        long,
        env = "CARNET_BADGE_CLASSES_DIR",
        default_value = "badge-classes",
        global = true
    )]
    pub badge_classes_dir: PathBuf,

    /// Short name of the issuing institution, used in its URLs (letters, digits, hyphens).
    #[arg(long, env = "CARNET_ISSUER_SLUG", default_value = "ime", global = true)]
    pub issuer_slug: String,

    /// The institution a command acts for (its slug), e.g. `carnet issue --institution
    /// esat-tilly`. Default: the first institution (CARNET_ISSUER_SLUG).
    #[arg(long, env = "CARNET_INSTITUTION", global = true)]
    pub institution: Option<String>,

    /// Name of the issuing institution, as recipients and employers will read it.
    #[arg(
        long,
        env = "CARNET_ISSUER_NAME",
        default_value = "IME (nom à configurer)",
        global = true
    )]
    pub issuer_name: String,

    /// Web site of the issuing institution.
    #[arg(long, env = "CARNET_ISSUER_URL", global = true)]
    pub issuer_url: Option<String>,

    /// Contact email of the issuing institution (published in its profile).
    #[arg(long, env = "CARNET_ISSUER_EMAIL", global = true)]
    pub issuer_email: Option<String>,

    /// One-sentence description of the issuing institution.
    #[arg(long, env = "CARNET_ISSUER_DESCRIPTION", global = true)]
    pub issuer_description: Option<String>,

    /// URL of the institution's logo (PNG or SVG).
    #[arg(long, env = "CARNET_ISSUER_IMAGE", global = true)]
    pub issuer_image: Option<String>,

    /// Hosts the verifier may fetch over plain http (comma-separated), e.g. `127.0.0.1` for tests.
    /// By default every fetch must use https.
    #[arg(
        long,
        env = "CARNET_FETCH_ALLOW_HTTP",
        value_delimiter = ',',
        global = true
    )]
    pub fetch_allow_http: Vec<String>,

    /// Private, local or reserved addresses the verifier may nevertheless fetch from
    /// (comma-separated IP addresses or networks, e.g. `127.0.0.1` for tests or `10.0.0.0/8` for an
    /// internal issuer). By default the verifier never connects to loopback, private, link-local,
    /// cloud-metadata or other non-public addresses.
    #[arg(
        long,
        env = "CARNET_FETCH_ALLOW_ADDRESSES",
        value_delimiter = ',',
        global = true
    )]
    pub fetch_allow_addresses: Vec<String>,

    /// Seconds a node holds a bulk job without renewing: the node running a job renews its lease
    /// every third of this, and when it dies another node sharing the database takes the job
    /// over once the lease has run out.
    #[arg(long, env = "CARNET_JOB_LEASE_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(3..=3600), global = true)]
    pub job_lease_seconds: u64,
}

/// Settings of `carnet serve` only.
#[derive(Debug, Clone, Args)]
pub struct ServeSettings {
    /// Address and port the HTTP server listens on.
    #[arg(long, env = "CARNET_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// API tokens allowed to issue badges, comma-separated, each `NAME:SECRET` (secret ≥ 24 characters).
    /// Without any, the issuing API answers 401 to every request.
    #[arg(
        long,
        env = "CARNET_API_TOKENS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_tokens: Vec<String>,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CARNET_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Longest wait, in seconds, for the next part of a request body: a client that stops sending
    /// (a body shorter than its Content-Length, a slow upload that stalls) gets 408 instead of
    /// holding a connection.
    #[arg(long, env = "CARNET_BODY_READ_TIMEOUT", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_read_timeout: u64,

    /// Connections one client address (IPv6: its /64) may hold open at once; more are closed at
    /// once. Trusted reverse proxies are not capped. 0 turns the cap off.
    #[arg(long, env = "CARNET_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = MAX_CONNECTIONS_PER_ADDRESS)]
    pub max_connections_per_address: usize,

    /// Largest evidence file accepted on a badge request (images, PDF, audio, video), in bytes.
    #[arg(long, env = "CARNET_MAX_EVIDENCE_BYTES", default_value_t = crate::evidence::DEFAULT_MAX_EVIDENCE_BYTES)]
    pub max_evidence_bytes: u64,

    /// Verifications a minute allowed per client address on the public verifier (the `/verify`
    /// page and `POST /api/v1/verify`); 0 turns the limit off.
    #[arg(long, env = "CARNET_VERIFY_RATE_PER_MINUTE", default_value_t = 60)]
    pub verify_rate_per_minute: u32,

    /// Verifications a client address may make at once before the per-minute rate applies.
    #[arg(long, env = "CARNET_VERIFY_RATE_BURST", default_value_t = 20)]
    pub verify_rate_burst: u32,

    /// Addresses of reverse proxies in front of carnet (comma-separated): for requests from them,
    /// the client address is read from `X-Forwarded-For`. Empty: the peer address is the client.
    #[arg(long, env = "CARNET_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
}

/// Connections one address may hold open at once by default: a whole IME behind one address
/// (a few dozen people, each browser opening up to six) stays well under it.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 256;

/// A configuration mistake, naming the setting.
#[derive(Debug, thiserror::Error)]
#[error("setting {setting} ({env}): {problem}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub env: &'static str,
    pub problem: String,
}

fn err(setting: &'static str, env: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        env,
        problem: problem.into(),
    }
}

/// An API token: a name (logged) and a secret (never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub name: String,
    secret: String,
}

impl ApiToken {
    pub fn matches(&self, presented: &str) -> bool {
        // Constant-time comparison: the length is not secret, the content is.
        let (a, b) = (self.secret.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiToken({}:***)", self.name)
    }
}

/// A secret setting: never shown by `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where the instance key comes from (`crate::keys::InstanceKey`).
#[derive(Debug, Clone)]
pub enum InstanceKeySource {
    /// `CARNET_INSTANCE_KEY`, checked.
    Given(crate::keys::InstanceKey),
    /// A file, made on the first start when it does not exist.
    File(PathBuf),
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL without trailing slash.
    pub base_url: String,
    pub database_url: String,
    pub keys_dir: PathBuf,
    /// Where this node's instance key comes from.
    pub instance_key: InstanceKeySource,
    pub badge_classes_dir: PathBuf,
    /// The first institution, made from these settings on the first start.
    pub issuer: IssuerSettings,
    /// The institution a command acts for (`--institution`, default the first).
    pub institution: String,
    pub fetch_allow_http: Vec<String>,
    pub fetch_allow_addresses: Vec<IpNetwork>,
    /// How long a node holds a bulk job without renewing (`bulk/lease.rs`).
    pub job_lease: std::time::Duration,
}

impl Config {
    /// What the verifier's HTTP client may fetch besides public https addresses.
    pub fn fetch_policy(&self) -> FetchPolicy {
        FetchPolicy {
            allow_http: self.fetch_allow_http.clone(),
            allow_addresses: self.fetch_allow_addresses.clone(),
        }
    }
}

impl Settings {
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let base_url = validate_base_url(&self.base_url)?;
        let scheme = self.database_url.split(':').next().unwrap_or_default();
        if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
            return Err(err(
                "--database-url",
                "CARNET_DATABASE_URL",
                format!(
                    "unsupported scheme \"{scheme}\"; use sqlite://PATH or postgres://USER@HOST/DB"
                ),
            ));
        }
        if !is_slug(&self.issuer_slug) {
            return Err(err(
                "--issuer-slug",
                "CARNET_ISSUER_SLUG",
                "use 1 to 40 lowercase letters, digits or hyphens (e.g. ime-beaumesnil)",
            ));
        }
        if self.issuer_name.trim().is_empty() {
            return Err(err(
                "--issuer-name",
                "CARNET_ISSUER_NAME",
                "must not be empty",
            ));
        }
        for (value, setting, env) in [
            (&self.issuer_url, "--issuer-url", "CARNET_ISSUER_URL"),
            (&self.issuer_image, "--issuer-image", "CARNET_ISSUER_IMAGE"),
        ] {
            if let Some(v) = value
                && !(v.starts_with("https://") || v.starts_with("http://"))
            {
                return Err(err(setting, env, format!("\"{v}\" is not an http(s) URL")));
            }
        }
        if let Some(email) = &self.issuer_email
            && !looks_like_email(email)
        {
            return Err(err(
                "--issuer-email",
                "CARNET_ISSUER_EMAIL",
                format!("\"{email}\" is not an email address"),
            ));
        }
        let fetch_allow_addresses = self
            .fetch_allow_addresses
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.parse::<IpNetwork>().map_err(|problem| {
                    err(
                        "--fetch-allow-addresses",
                        "CARNET_FETCH_ALLOW_ADDRESSES",
                        problem,
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let institution = self
            .institution
            .clone()
            .unwrap_or_else(|| self.issuer_slug.clone());
        if !is_slug(&institution) {
            return Err(err(
                "--institution",
                "CARNET_INSTITUTION",
                "an institution's slug: 1 to 40 lowercase letters, digits or hyphens",
            ));
        }
        let instance_key = match (&self.instance_key, &self.instance_key_file) {
            (Some(text), _) => InstanceKeySource::Given(
                crate::keys::InstanceKey::from_text(&text.0)
                    .map_err(|problem| err("--instance-key", "CARNET_INSTANCE_KEY", problem))?,
            ),
            (None, Some(file)) => InstanceKeySource::File(file.clone()),
            (None, None) => InstanceKeySource::File(self.keys_dir.join("instance.key")),
        };
        Ok(Config {
            base_url,
            database_url: self.database_url.clone(),
            keys_dir: self.keys_dir.clone(),
            instance_key,
            institution,
            badge_classes_dir: self.badge_classes_dir.clone(),
            issuer: IssuerSettings {
                slug: self.issuer_slug.clone(),
                name: self.issuer_name.trim().to_string(),
                url: self.issuer_url.clone(),
                email: self.issuer_email.clone(),
                description: self.issuer_description.clone(),
                image: self.issuer_image.clone(),
            },
            fetch_allow_http: self
                .fetch_allow_http
                .iter()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect(),
            fetch_allow_addresses,
            job_lease: std::time::Duration::from_secs(self.job_lease_seconds),
        })
    }
}

impl ServeSettings {
    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.bind.parse().map_err(|_| {
            err(
                "--bind",
                "CARNET_BIND",
                format!(
                    "\"{}\" is not an address:port such as 127.0.0.1:8080",
                    self.bind
                ),
            )
        })
    }

    pub fn trusted_proxy_addrs(&self) -> Result<Vec<std::net::IpAddr>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.parse().map_err(|_| {
                    err(
                        "--trusted-proxies",
                        "CARNET_TRUSTED_PROXIES",
                        format!("\"{a}\" is not an IP address"),
                    )
                })
            })
            .collect()
    }

    pub fn tokens(&self) -> Result<Vec<ApiToken>, ConfigError> {
        self.api_tokens
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| {
                let (name, secret) = t.trim().split_once(':').ok_or_else(|| {
                    err("--api-tokens", "CARNET_API_TOKENS", "each token must be NAME:SECRET")
                })?;
                if name.is_empty() || secret.chars().count() < 24 {
                    return Err(err(
                        "--api-tokens",
                        "CARNET_API_TOKENS",
                        format!("token \"{name}\": the name must not be empty and the secret needs at least 24 characters"),
                    ));
                }
                Ok(ApiToken { name: name.to_string(), secret: secret.to_string() })
            })
            .collect()
    }
}

fn validate_base_url(raw: &str) -> Result<String, ConfigError> {
    let problem = |p: &str| err("--base-url", "CARNET_BASE_URL", format!("\"{raw}\": {p}"));
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or_else(|| problem("must start with https:// (or http:// for local use)"))?;
    if raw.contains(['?', '#', ' ']) {
        return Err(problem("must not contain a query, a fragment or spaces"));
    }
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(problem("has no host"));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// The commented example printed by `carnet config example`.
pub const EXAMPLE: &str = r#"# carnet configuration, as environment variables (each also has a command-line flag).
# Copy to carnet.env, edit, then: set -a; . ./carnet.env; set +a; carnet serve

# Public base URL of this instance; every id carnet publishes starts with it. Use https in production.
CARNET_BASE_URL=https://badges.ime-exemple.fr
# Address and port to listen on (put a TLS reverse proxy in front).
CARNET_BIND=127.0.0.1:8080
# Database: embedded SQLite file (default) or PostgreSQL for several app nodes.
CARNET_DATABASE_URL=sqlite://data/carnet.db
# CARNET_DATABASE_URL=postgres://carnet@127.0.0.1:5432/carnet
# Key folder: the instance key, and the key files of an older carnet, imported on the first start.
CARNET_KEYS_DIR=keys
# The instance key, under which the institutions' private keys are sealed in the database
# (made on the first start; give every node the same, keep it out of database backups).
# CARNET_INSTANCE_KEY_FILE=keys/instance.key
# Or the key itself, 64 hexadecimal digits (e.g. from a secret store):
# CARNET_INSTANCE_KEY=
# Co-built badge classes, one TOML file per class (imported for the first institution on the
# first start; then `carnet badge-classes import`).
CARNET_BADGE_CLASSES_DIR=badge-classes
# The first institution, made from these on the first start (then: carnet institutions update).
CARNET_ISSUER_SLUG=ime-exemple
CARNET_ISSUER_NAME="IME Exemple"
CARNET_ISSUER_URL=https://www.ime-exemple.fr
CARNET_ISSUER_EMAIL=contact@ime-exemple.fr
CARNET_ISSUER_DESCRIPTION="Institut médico-éducatif: ateliers cuisine, espaces verts, propreté."
# CARNET_ISSUER_IMAGE=https://www.ime-exemple.fr/logo.png
# The institution a command acts for (default: the first one), e.g. carnet issue for another.
# CARNET_INSTITUTION=esat-exemple
# API tokens allowed to issue badges: NAME:SECRET, comma-separated, secrets of 24+ characters.
CARNET_API_TOKENS=atelier-cuisine:change-me-to-a-long-random-secret
# Largest accepted request body, in bytes.
CARNET_MAX_BODY_BYTES=8388608
# Longest wait, in seconds, for the next part of a request body (a stalled client gets 408).
CARNET_BODY_READ_TIMEOUT=15
# Connections one client address (IPv6: its /64) may hold open at once (0 = no cap); trusted
# reverse proxies are not capped.
CARNET_MAX_CONNECTIONS_PER_ADDRESS=256
# Largest evidence file (image, PDF, audio, video) on a badge request, in bytes (20 MiB).
CARNET_MAX_EVIDENCE_BYTES=20971520
# Public verifier (/verify page and POST /api/v1/verify): verifications a minute per client
# address (0 = no limit), and how many may come at once.
CARNET_VERIFY_RATE_PER_MINUTE=60
CARNET_VERIFY_RATE_BURST=20
# Reverse proxies in front of carnet (their X-Forwarded-For is trusted), comma-separated.
CARNET_TRUSTED_PROXIES=
# Hosts the verifier may fetch over plain http (tests only; empty in production).
CARNET_FETCH_ALLOW_HTTP=
# Private, local or reserved addresses the verifier may still fetch from: comma-separated IP
# addresses or networks (e.g. 127.0.0.1 for tests, 10.0.0.0/8 for an issuer on your own network).
# Empty (the default): the verifier never connects to loopback, private (10/8, 172.16/12,
# 192.168/16), link-local, cloud-metadata (169.254.169.254) or other non-public addresses.
CARNET_FETCH_ALLOW_ADDRESSES=
# Several nodes on one database: a bulk job is run by one node at a time, which renews its hold
# every third of this many seconds; when that node dies, another takes the job over after it.
CARNET_JOB_LEASE_SECONDS=30
# Log filter (tracing syntax).
RUST_LOG=info
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
        #[command(flatten)]
        serve: ServeSettings,
    }

    fn parse(args: &[&str]) -> Cli {
        let mut all = vec!["carnet"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("parse")
    }

    #[test]
    fn defaults_are_valid() {
        let cli = parse(&[]);
        let cfg = cli.settings.validate().expect("defaults validate");
        assert_eq!(cfg.base_url, "http://localhost:8080");
        assert_eq!(cli.serve.bind_addr().unwrap().port(), 8080);
    }

    #[test]
    fn wrong_settings_name_themselves() {
        let e = parse(&["--base-url", "ftp://x"])
            .settings
            .validate()
            .unwrap_err();
        assert_eq!(e.setting, "--base-url");
        let e = parse(&["--database-url", "mysql://x"])
            .settings
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("CARNET_DATABASE_URL") && e.to_string().contains("mysql"));
        let e = parse(&["--issuer-slug", "Bad Slug"])
            .settings
            .validate()
            .unwrap_err();
        assert_eq!(e.setting, "--issuer-slug");
        let e = parse(&["--bind", "nowhere"]).serve.bind_addr().unwrap_err();
        assert_eq!(e.setting, "--bind");
        let e = parse(&["--api-tokens", "short:abc"])
            .serve
            .tokens()
            .unwrap_err();
        assert!(e.to_string().contains("24"));
        let e = parse(&["--fetch-allow-addresses", "127.0.0.1,intranet.local"])
            .settings
            .validate()
            .unwrap_err();
        assert_eq!(e.setting, "--fetch-allow-addresses");
        assert!(
            e.to_string().contains("CARNET_FETCH_ALLOW_ADDRESSES")
                && e.to_string().contains("intranet.local"),
            "{e}"
        );
        let e = parse(&["--fetch-allow-addresses", "10.0.0.0/40"])
            .settings
            .validate()
            .unwrap_err();
        assert_eq!(e.setting, "--fetch-allow-addresses");
    }

    #[test]
    fn allowed_addresses_reach_the_fetch_policy() {
        let cfg = parse(&[
            "--fetch-allow-http",
            "127.0.0.1",
            "--fetch-allow-addresses",
            " 127.0.0.1 , 10.0.0.0/8,,fd00::/8",
        ])
        .settings
        .validate()
        .unwrap();
        let policy = cfg.fetch_policy();
        assert_eq!(policy.allow_http, ["127.0.0.1"]);
        let shown: Vec<String> = policy
            .allow_addresses
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]);
        // Nothing is allowed by default, and plain http does not imply an address allowance.
        let cfg = parse(&["--fetch-allow-http", "127.0.0.1"])
            .settings
            .validate()
            .unwrap();
        assert!(cfg.fetch_policy().allow_addresses.is_empty());
    }

    #[test]
    fn token_debug_hides_secret() {
        let t = parse(&["--api-tokens", "cli:abcdefghijklmnopqrstuvwxyz"])
            .serve
            .tokens()
            .unwrap();
        assert!(t[0].matches("abcdefghijklmnopqrstuvwxyz"));
        assert!(!t[0].matches("abcdefghijklmnopqrstuvwxy"));
        assert!(!format!("{t:?}").contains("abcdef"));
    }
}
