//! The HTTP API called in this process, without a network: the router of `carnet serve`, a
//! one-off token per person acting, and `tower::ServiceExt::oneshot`. Commands whose logic lives
//! in the API handlers (badge requests: validation, the state machine, the approval that issues)
//! and `carnet demo` go through it, so they take exactly the path a client of the API takes.
//!
//! The tokens exist only in this process (random secrets, never printed or stored). The API
//! records the token's name as the actor (`api:NAME`), so the name is the person acting.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

use crate::app::App;
use crate::config::ServeSettings;

/// Largest answer read back (an answer is a JSON document, never a file).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Bodies accepted, as `carnet serve` accepts them by default.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The API of `app`, with one token for each person named.
pub struct LocalApi {
    router: Router,
    /// (name, secret) per person.
    tokens: Vec<(String, String)>,
}

/// A refused or failed call: the HTTP status and the API's explanation.
#[derive(Debug, thiserror::Error)]
#[error("{method} {path}: {status}: {detail}")]
pub struct ApiError {
    pub method: Method,
    pub path: String,
    pub status: StatusCode,
    /// The problem's `detail` (and `field` when the API names one).
    pub detail: String,
}

impl LocalApi {
    /// The API with a token per name. A name is recorded as given; it may not hold `:` (the
    /// token syntax) nor be empty.
    pub fn new(app: App, names: &[&str]) -> Result<LocalApi, String> {
        let mut tokens = Vec::new();
        for name in names {
            let name = name.trim();
            if name.is_empty() || name.contains(':') || name.chars().count() > 100 {
                return Err(format!(
                    "\"{name}\": give a name of 1 to 100 characters, without ':'"
                ));
            }
            // Two v4 UUIDs: 244 random bits, far beyond the 24 characters a token needs.
            let secret = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            tokens.push((name.to_owned(), secret));
        }
        let settings = ServeSettings {
            bind: "127.0.0.1:0".into(),
            api_tokens: tokens.iter().map(|(n, s)| format!("{n}:{s}")).collect(),
            max_body_bytes: MAX_BODY_BYTES,
            max_evidence_bytes: crate::evidence::DEFAULT_MAX_EVIDENCE_BYTES,
            body_read_timeout: crate::http::DEFAULT_BODY_READ_TIMEOUT.as_secs(),
            max_connections_per_address: crate::http::MAX_CONNECTIONS_PER_ADDRESS,
            verify_rate_per_minute: 0,
            verify_rate_burst: 1,
            trusted_proxies: vec![],
        };
        let api_tokens = settings.tokens().map_err(|e| e.to_string())?;
        Ok(LocalApi {
            router: crate::http::router(app, api_tokens, MAX_BODY_BYTES),
            tokens,
        })
    }

    /// Calls the API as `who` (one of the names given to [`LocalApi::new`]); a JSON answer with a
    /// 2xx status, or the API's refusal.
    pub async fn call(
        &self,
        who: &str,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Value), ApiError> {
        let refused = |status: StatusCode, detail: String| ApiError {
            method: method.clone(),
            path: path.to_owned(),
            status,
            detail,
        };
        let secret = self
            .tokens
            .iter()
            .find(|(name, _)| name == who.trim())
            .map(|(_, secret)| secret.as_str())
            .ok_or_else(|| {
                refused(
                    StatusCode::UNAUTHORIZED,
                    format!("no token for \"{who}\" in this process"),
                )
            })?;
        let request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {secret}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .map_err(|e| refused(StatusCode::BAD_REQUEST, e.to_string()))?;
        let response = match self.router.clone().oneshot(request).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES)
            .await
            .map_err(|e| refused(status, format!("the answer could not be read: {e}")))?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            let detail = value["detail"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            let detail = match value["field"].as_str() {
                Some(field) => format!("{field}: {detail}"),
                None => detail,
            };
            return Err(refused(status, detail));
        }
        Ok((status, value))
    }

    /// [`LocalApi::call`] with a JSON body (`None`: an empty one).
    pub async fn json(
        &self,
        who: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.call(who, method, path, "application/json", bytes)
            .await
            .map(|(_, v)| v)
    }
}
