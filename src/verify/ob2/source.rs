//! Where the OB 2.0 verifier gets the documents an assertion links to (hosted assertion, badge class,
//! issuer profile, key, revocation list, endorsements): a [`DocumentSource`]. Production uses the
//! verifier's HTTP client ([`FetcherSource`]); tests and offline checks use a [`StaticSource`]
//! (documents in memory, or URL prefixes mapped to a folder, as 1EdTech's `OB20Tests.java` maps
//! `https://example.org/` to its `assets/` folder). The OB 2.0 context itself is never fetched: carnet
//! ships it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;

use crate::verify::fetch::Fetcher;

/// What OB 2.0 documents are asked for with.
pub const ACCEPT: &str = "application/ld+json, application/json";

/// A response body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    /// Not JSON (an image, HTML...). May be empty when the source does not keep such bodies.
    Bytes(Vec<u8>),
    /// No body (or one that was not read).
    Empty,
}

/// A document as answered by its site: the HTTP status (after redirects) and the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub status: u16,
    pub body: Body,
}

impl Fetched {
    pub fn json(value: Value) -> Self {
        Self {
            status: 200,
            body: Body::Json(value),
        }
    }

    /// A bare status, e.g. `404` or `410` without a body.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            body: Body::Empty,
        }
    }

    /// A status with a JSON body, e.g. `410 Gone` with `{"revoked": true, "revocationReason": …}`.
    pub fn status_json(status: u16, value: Value) -> Self {
        Self {
            status,
            body: Body::Json(value),
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The document could not be asked for at all (network down, address refused, too large): the
/// verifier reports "could not check", never "valid".
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

#[async_trait]
pub trait DocumentSource: Send + Sync {
    /// GET `url`. An HTTP error status is an `Ok` answer (a `410 Gone` says "revoked"); `Err` means
    /// the site could not be asked.
    async fn get(&self, url: &str) -> Result<Fetched, SourceError>;
}

/// Production source: the verifier's shared HTTP client (https only, timeouts, size cap).
///
/// Documents that describe rather than attest — BadgeClass, Issuer/Profile, CryptographicKey — are
/// kept for a few minutes, as the IMS validator's own cache does; assertions and revocation lists
/// are always fetched fresh, since a revocation must be seen at once.
pub struct FetcherSource {
    fetcher: Arc<Fetcher>,
    cache: Mutex<HashMap<String, (Instant, Fetched)>>,
}

const DESCRIPTIVE_TTL: Duration = Duration::from_secs(300);
const DESCRIPTIVE_MAX: usize = 1024;

impl FetcherSource {
    pub fn new(fetcher: Arc<Fetcher>) -> Self {
        Self {
            fetcher,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

/// Is this a document whose content may be cached (not an assertion nor a revocation list)?
fn descriptive(fetched: &Fetched) -> bool {
    let Body::Json(v) = &fetched.body else {
        return false;
    };
    let types: Vec<&str> = match v.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    fetched.is_success()
        && !types.is_empty()
        && types
            .iter()
            .all(|t| matches!(*t, "BadgeClass" | "Issuer" | "Profile" | "CryptographicKey"))
}

#[async_trait]
impl DocumentSource for FetcherSource {
    async fn get(&self, url: &str) -> Result<Fetched, SourceError> {
        if let Some((at, f)) = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(url)
            && at.elapsed() < DESCRIPTIVE_TTL
        {
            return Ok(f.clone());
        }
        let fetched = self.fetch(url).await?;
        if descriptive(&fetched) {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if cache.len() >= DESCRIPTIVE_MAX {
                cache.clear();
            }
            cache.insert(url.to_string(), (Instant::now(), fetched.clone()));
        }
        Ok(fetched)
    }
}

impl FetcherSource {
    async fn fetch(&self, url: &str) -> Result<Fetched, SourceError> {
        // Uncached: a hosted assertion or a revocation list may change at any moment.
        let doc = self
            .fetcher
            .get_document(url, ACCEPT)
            .await
            .map_err(|e| SourceError(e.to_string()))?;
        let body = if doc.body.is_empty() {
            Body::Empty
        } else {
            match serde_json::from_slice::<Value>(&doc.body) {
                Ok(v) => Body::Json(v),
                Err(_) => Body::Bytes(doc.body),
            }
        };
        Ok(Fetched {
            status: doc.status,
            body,
        })
    }
}

/// A source that never answers: network lookups are turned off.
pub struct OfflineSource;

#[async_trait]
impl DocumentSource for OfflineSource {
    async fn get(&self, _url: &str) -> Result<Fetched, SourceError> {
        Err(SourceError("network lookups are turned off".into()))
    }
}

/// Documents held in memory, and URL prefixes served from folders. Anything else is unreachable.
#[derive(Debug, Default, Clone)]
pub struct StaticSource {
    docs: HashMap<String, Fetched>,
    dirs: Vec<(String, PathBuf)>,
}

impl StaticSource {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `url` with `answer` (takes precedence over mounted folders).
    pub fn insert(&mut self, url: impl Into<String>, answer: Fetched) -> &mut Self {
        self.docs.insert(url.into(), answer);
        self
    }

    pub fn insert_json(&mut self, url: impl Into<String>, value: Value) -> &mut Self {
        self.insert(url, Fetched::json(value))
    }

    /// Serves `prefix` + `name` from `dir/name`; a missing file answers `404`.
    pub fn mount_dir(&mut self, prefix: impl Into<String>, dir: impl Into<PathBuf>) -> &mut Self {
        self.dirs.push((prefix.into(), dir.into()));
        self
    }
}

#[async_trait]
impl DocumentSource for StaticSource {
    async fn get(&self, url: &str) -> Result<Fetched, SourceError> {
        if let Some(f) = self.docs.get(url) {
            return Ok(f.clone());
        }
        for (prefix, dir) in &self.dirs {
            let Some(name) = url.strip_prefix(prefix.as_str()) else {
                continue;
            };
            if name.split('/').any(|part| part == "..") {
                return Ok(Fetched::status(404));
            }
            return Ok(match tokio::fs::read(dir.join(name)).await {
                Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                    Ok(v) => Fetched::json(v),
                    Err(_) => Fetched {
                        status: 200,
                        body: Body::Bytes(bytes),
                    },
                },
                Err(_) => Fetched::status(404),
            });
        }
        Err(SourceError(format!("no document is known for {url}")))
    }
}
