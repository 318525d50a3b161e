//! The one HTTP client the verifier uses to fetch keys and DID documents from other issuers:
//! https only (plain http only for explicitly allowed hosts), connect and total timeouts, a redirect
//! cap, a response size cap, and a small cache with a time-to-live so that verifying the same badge
//! twice costs no fetch. (The address filter against private networks comes with the public
//! verifier page.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
const CACHE_TTL: Duration = Duration::from_secs(300);
const CACHE_MAX_ENTRIES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not an https address")]
    NotHttps(String),
    #[error("the site did not answer ({0})")]
    Unreachable(String),
    #[error("the site answered with status {0}")]
    Status(u16),
    #[error("the document is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    #[error("the document is not JSON")]
    NotJson,
}

/// A fetched document, whatever its status.
#[derive(Debug, Clone)]
pub struct Document {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

pub struct Fetcher {
    client: reqwest::Client,
    allow_http: Vec<String>,
    cache: Mutex<HashMap<String, (Instant, Value)>>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("allow_http", &self.allow_http)
            .finish_non_exhaustive()
    }
}

/// The host of an http(s) URL, without port or credentials.
pub fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next();
    }
    Some(authority.split(':').next().unwrap_or(authority))
}

impl Fetcher {
    pub fn new(allow_http: Vec<String>) -> Self {
        let allowed = allow_http.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 3 {
                return attempt.error("too many redirects");
            }
            let url = attempt.url().as_str().to_string();
            let ok = url.starts_with("https://")
                || host_of(&url).is_some_and(|h| allowed.iter().any(|a| a == h));
            if ok {
                attempt.follow()
            } else {
                attempt.error("redirect to a non-https address")
            }
        });
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(8))
            .redirect(policy)
            .no_proxy()
            .user_agent(concat!(
                "carnet/",
                env!("CARGO_PKG_VERSION"),
                " (Open Badges verifier)"
            ))
            .build()
            .expect("the HTTP client builds");
        Self {
            client,
            allow_http,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn http_allowed(&self, host: &str) -> bool {
        self.allow_http.iter().any(|h| h == host)
    }

    /// GET a document without the cache, whatever its status and type (for documents whose answer
    /// may change at any moment: hosted assertions, revocation and status lists). The body is
    /// bounded like every fetch.
    pub async fn get_document(&self, url: &str, accept: &str) -> Result<Document, FetchError> {
        self.check_scheme(url)?;
        let mut resp = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| FetchError::Unreachable(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if resp
            .content_length()
            .is_some_and(|l| l as usize > MAX_DOCUMENT_BYTES)
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| FetchError::Unreachable(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Document {
            status,
            content_type,
            body,
        })
    }

    fn check_scheme(&self, url: &str) -> Result<(), FetchError> {
        let allowed = url.starts_with("https://")
            || (url.starts_with("http://") && host_of(url).is_some_and(|h| self.http_allowed(h)));
        if allowed {
            Ok(())
        } else {
            Err(FetchError::NotHttps(url.to_string()))
        }
    }

    /// GET a JSON document (cached for a few minutes).
    pub async fn get_json(&self, url: &str, accept: &str) -> Result<Value, FetchError> {
        self.check_scheme(url)?; // before the cache: a refused address never answers from it
        if let Some((at, v)) = self.cache.lock().expect("cache lock").get(url)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(v.clone());
        }
        let doc = self.get_document(url, accept).await?;
        if !(200..300).contains(&doc.status) {
            return Err(FetchError::Status(doc.status));
        }
        let value: Value = serde_json::from_slice(&doc.body).map_err(|_| FetchError::NotJson)?;
        let mut cache = self.cache.lock().expect("cache lock");
        if cache.len() >= CACHE_MAX_ENTRIES {
            cache.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            if cache.len() >= CACHE_MAX_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(url.to_string(), (Instant::now(), value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(host_of("http://127.0.0.1:8080/x"), Some("127.0.0.1"));
        assert_eq!(host_of("https://u:p@example.org/x"), Some("example.org"));
        assert_eq!(host_of("https://[::1]:8/x"), Some("::1"));
    }

    #[tokio::test]
    async fn plain_http_is_refused_unless_allowed() {
        let f = Fetcher::new(vec![]);
        assert!(matches!(
            f.get_json("http://127.0.0.1:1/x", "application/json").await,
            Err(FetchError::NotHttps(_))
        ));
        let f = Fetcher::new(vec!["127.0.0.1".into()]);
        assert!(matches!(
            f.get_json("http://127.0.0.1:1/x", "application/json").await,
            Err(FetchError::Unreachable(_))
        ));
    }
}
