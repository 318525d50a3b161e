//! The HTTP interface: public documents (issuer profile, DID document, keys, badge classes,
//! credentials), the issuing API (bearer token) and the verification endpoint; [`local_api`] is
//! the same router called in this process (the CLI's request and endorsement commands, the demo).
//!
//! Errors use one JSON shape, RFC 9457 problem details:
//! `{"type": "urn:carnet:error:<code>", "title": "...", "status": 400, "detail": "...", "field"?: "..."}`;
//! outside `/api/`, a browser gets them as a page in its language (`error_page.rs`). Every error
//! type says its kind (`crate::problem`) and one `From` turns it into a status here: no handler
//! maps errors itself.
//!
//! The axum router is served by `serve.rs` (carnet's own accept loop). A request body that stalls
//! longer than the body read timeout is answered 408; API tokens are checked by the `Caller`
//! extractor before any body is read (`api.rs`); the public verifier, page and endpoint, is rate
//! limited per client address (`rate_limit.rs`).

mod api;
mod bulk;
mod caller;
mod credential_page;
mod endorse_page;
mod endorsements;
mod error_page;
mod evidence_access;
mod html;
mod i18n;
mod institutions;
pub mod local_api;
mod ob2;
mod openapi;
mod proposals;
mod public;
pub mod rate_limit;
mod referentiels;
mod request_evidence;
mod requests;
mod serve;
mod verify_answer;
pub mod verify_page;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::app::App;
use crate::config::ApiToken;
pub use api::API_TOKEN_PREFIX;
pub use error_page::prefers_html;
pub use serve::{
    HEADER_READ_TIMEOUT, MAX_CONNECTIONS_PER_ADDRESS, ServeOptions, serve, serve_with,
};

/// What handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub app: App,
    pub tokens: Arc<Vec<ApiToken>>,
    /// Largest evidence file accepted (`CARNET_MAX_EVIDENCE_BYTES`).
    pub max_evidence_bytes: u64,
}

/// What `carnet serve` configures of the HTTP interface.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub tokens: Vec<ApiToken>,
    /// Bounds every request body.
    pub max_body_bytes: usize,
    /// Public verifier: verifications a minute per client address (0: no limit) and burst.
    pub verify_rate_per_minute: u32,
    pub verify_rate_burst: u32,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Largest evidence file accepted on a badge request.
    pub max_evidence_bytes: u64,
    /// Longest wait for the next part of a request body.
    pub body_read_timeout: std::time::Duration,
}

/// How long a request body may stall before the request is answered 408.
pub const DEFAULT_BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The router without a verification rate limit (for embedding carnet and for tests);
/// `max_body_bytes` bounds every request body.
pub fn router(app: App, tokens: Vec<ApiToken>, max_body_bytes: usize) -> Router {
    router_with(
        app,
        HttpOptions {
            tokens,
            max_body_bytes,
            verify_rate_per_minute: 0,
            verify_rate_burst: 1,
            trusted_proxies: vec![],
            max_evidence_bytes: crate::evidence::DEFAULT_MAX_EVIDENCE_BYTES,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
        },
    )
}

/// Builds the router.
pub fn router_with(app: App, options: HttpOptions) -> Router {
    let max_body_bytes = options.max_body_bytes;
    let state = HttpState {
        app,
        tokens: Arc::new(options.tokens),
        max_evidence_bytes: options.max_evidence_bytes,
    };
    let evidence_body_limit =
        usize::try_from(options.max_evidence_bytes.saturating_add(1)).unwrap_or(usize::MAX);
    let limiter = Arc::new(rate_limit::RateLimiter::new(
        options.verify_rate_per_minute,
        options.verify_rate_burst,
        options.trusted_proxies,
    ));
    // The public verifier, page and endpoint, shares one budget per client address.
    let verifier = Router::new()
        .route("/verify", get(verify_page::get).post(verify_page::post))
        .route("/api/v1/verify", post(api::verify))
        .route_layer(axum::middleware::from_fn_with_state(
            limiter,
            rate_limit::limit,
        ));
    Router::new()
        .merge(verifier)
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/", get(public::home))
        .route("/health", get(public::health))
        .route("/.well-known/jwks.json", get(public::jwks))
        .route("/issuers/{slug}", get(public::issuer_profile))
        .route("/issuers/{slug}/did.json", get(public::did_document))
        .route("/issuers/{slug}/keys/{kid}", get(public::key))
        .route("/badge-classes/{class}", get(public::badge_class))
        .route(
            "/badge-classes/{class}/image.png",
            get(public::badge_class_image),
        )
        .route("/credentials/{file}", get(public::credential))
        // the documents of the institutions added since institutions are data
        .route(
            "/issuers/{slug}/badge-classes/{class}",
            get(public::badge_class),
        )
        .route(
            "/issuers/{slug}/badge-classes/{class}/image.png",
            get(public::badge_class_image),
        )
        .route(
            "/issuers/{slug}/credentials/{file}",
            get(public::credential),
        )
        .route(
            "/issuers/{slug}/ob2/badge-classes/{class}/{version}",
            get(ob2::badge_class),
        )
        .route("/issuers/{slug}/ob2/assertions/{file}", get(ob2::assertion))
        .route(
            "/issuers/{slug}/status/{purpose}/{list}",
            get(public::status_list),
        )
        .route("/ob2/issuers/{slug}", get(ob2::profile))
        .route("/ob2/issuers/{slug}/keys/{kid}", get(ob2::key))
        .route("/ob2/issuers/{slug}/revocations", get(ob2::revocation_list))
        .route(
            "/ob2/badge-classes/{class}/{version}",
            get(ob2::badge_class),
        )
        .route("/ob2/assertions/{file}", get(ob2::assertion))
        .route(
            "/api/v1/institutions",
            get(institutions::list).post(institutions::create),
        )
        .route(
            "/api/v1/institutions/{slug}",
            get(institutions::get).patch(institutions::update),
        )
        .route("/api/v1/awards/{id}/revoke", post(api::revoke_award))
        .route("/api/v1/awards", post(api::create_award))
        .route("/api/v1/awards/{id}", get(api::get_award))
        .route("/api/v1/bulk-awards", get(bulk::list).post(bulk::submit))
        .route(
            "/api/v1/badge-requests",
            get(requests::list).post(requests::create),
        )
        .route("/api/v1/badge-requests/{id}", get(requests::get))
        .route(
            "/api/v1/badge-requests/{id}/evidence",
            post(request_evidence::add_evidence).layer(DefaultBodyLimit::max(evidence_body_limit)),
        )
        .route(
            "/api/v1/badge-requests/{id}/links",
            axum::routing::put(requests::correct_links),
        )
        .route(
            "/api/v1/badge-requests/{id}/approve",
            post(requests::approve),
        )
        .route(
            "/api/v1/badge-requests/{id}/return",
            post(requests::return_for_revision),
        )
        .route(
            "/api/v1/badge-requests/{id}/decline",
            post(requests::decline),
        )
        .route(
            "/api/v1/badge-requests/{id}/resubmit",
            post(requests::resubmit),
        )
        .route("/evidence/{id}", get(evidence_access::serve_evidence))
        .route(
            "/api/v1/evidence/{id}/shares",
            post(evidence_access::create_share),
        )
        .route(
            "/api/v1/evidence/{id}/shares/{share}",
            axum::routing::delete(evidence_access::revoke_share),
        )
        .route("/api/v1/bulk-awards/{job}", get(bulk::get))
        .route(
            "/api/v1/carnet-batches",
            get(bulk::list_carnets).post(bulk::submit_carnets),
        )
        .route("/api/v1/carnet-batches/{job}", get(bulk::get_carnets))
        .merge(endorsements::routes())
        .route(
            "/api/v1/referentiels",
            get(referentiels::list).post(referentiels::import),
        )
        .route(
            "/api/v1/referentiels/{id}/{version}",
            get(referentiels::get),
        )
        .route(
            "/api/v1/carnets",
            get(referentiels::list_carnets).post(referentiels::import_carnet),
        )
        .route("/api/v1/carnets/{id}", get(referentiels::get_carnet))
        .route(
            "/api/v1/carnets/{id}/entries/{competence}",
            axum::routing::patch(referentiels::patch_entry),
        )
        .route("/api/v1/carnets/{id}/proposals", get(proposals::list))
        .route(
            "/api/v1/carnets/{id}/proposals/{badge_class}/confirm",
            post(proposals::confirm),
        )
        .fallback(|| async { AppError::not_found("no such page") })
        .method_not_allowed_fallback(|| async {
            AppError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this address does not accept this method",
            )
        })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        // a body that stops coming fails its read (answered 408 by `body_error`)
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            options.body_read_timeout,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            AppError::internal("a request handler failed").into_response()
        }))
        // every error, the panic's included: a page for browsers, problem JSON for programs
        .layer(axum::middleware::from_fn_with_state(
            html::Site::of(&state),
            error_page::negotiate,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// An error answered to a client, as RFC 9457 problem details. 5xx details are logged, not sent.
#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    field: Option<String>,
    /// More members of the problem document ([`crate::problem::Problem::members`]).
    members: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            field: None,
            members: None,
        }
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }
    pub fn unprocessable(field: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", detail).field(field)
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        let detail = detail.into();
        tracing::error!("internal error: {detail}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let detail = if self.status.is_server_error() {
            "Something went wrong on our side; the error was logged.".to_string()
        } else {
            self.detail
        };
        let mut body = json!({
            "type": format!("urn:carnet:error:{}", self.code),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": detail,
        });
        if let Some(f) = self.field {
            body["field"] = f.into();
        }
        if let Some(members) = self.members
            && !self.status.is_server_error()
        {
            for (name, value) in *members {
                body[name] = value;
            }
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            "application/problem+json".parse().expect("header"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"carnet\"".parse().expect("header"),
            );
        }
        resp
    }
}

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        AppError::bad_request(format!("invalid query string: {}", e.body_text()))
    }
}

/// Every error type says what kind of failure it is ([`crate::problem::Problem`], next to the
/// type): this is the one place that turns a kind into a status.
impl<E: crate::problem::Problem> From<E> for AppError {
    fn from(error: E) -> Self {
        use crate::problem::Kind;
        let problem = crate::problem::innermost(&error);
        let status = match problem.kind() {
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::Gone => StatusCode::GONE,
            Kind::Conflict | Kind::WrongState => StatusCode::CONFLICT,
            Kind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Internal => {
                let mut chain = error.to_string();
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    chain.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                return AppError::internal(chain);
            }
        };
        AppError {
            status,
            code: problem.code(),
            detail: problem.detail(),
            field: problem.field().map(str::to_owned),
            members: Some(problem.members())
                .filter(|m| !m.is_empty())
                .map(Box::new),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;
    use uuid::Uuid;

    use super::*;
    use crate::award_rules::award::ConfirmError;
    use crate::issue::IssueError;
    use crate::store::{RequestState, StoreError};

    async fn answer(error: AppError) -> (u16, serde_json::Value) {
        let response = error.into_response();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn each_error_says_its_status_once_and_wrapped_errors_keep_it() {
        let id = Uuid::nil();
        let cases: Vec<(AppError, u16, &str)> = vec![
            (StoreError::CarnetNotFound(id).into(), 404, "not_found"),
            (StoreError::RequestNotFound(id).into(), 404, "not_found"),
            (StoreError::CarnetChanged(id).into(), 409, "conflict"),
            (
                StoreError::RequestState {
                    id,
                    state: RequestState::Declined,
                    action: "approve",
                }
                .into(),
                409,
                "wrong_state",
            ),
            (
                IssueError::Store(StoreError::CarnetNotFound(id)).into(),
                404,
                "not_found",
            ),
            (
                ConfirmError::Issue(IssueError::Store(StoreError::EvidenceNotFound(id))).into(),
                404,
                "not_found",
            ),
            (StoreError::Corrupt("x".into()).into(), 500, "internal"),
        ];
        for (error, status, code) in cases {
            let (got, body) = answer(error).await;
            assert_eq!(got, status, "{body}");
            assert_eq!(body["type"], format!("urn:carnet:error:{code}"), "{body}");
        }
    }

    #[tokio::test]
    async fn fields_and_members_reach_the_problem_document_but_never_internal_details() {
        let (status, body) =
            answer(StoreError::InvalidTransition("a reason is needed".into()).into()).await;
        assert_eq!((status, body["field"].as_str()), (422, Some("comment")));
        assert_eq!(body["detail"], "a reason is needed");
        let not_earned = ConfirmError::NotEarned {
            class: "c".into(),
            reasons: vec!["pas encore".into()],
        };
        let (status, body) = answer(not_earned.into()).await;
        assert_eq!(status, 409);
        assert_eq!(body["type"], "urn:carnet:error:not_earned");
        assert_eq!(body["reasons"], serde_json::json!(["pas encore"]));
        let (status, body) = answer(StoreError::Corrupt("secret path /srv/x".into()).into()).await;
        assert_eq!(status, 500);
        assert!(!body.to_string().contains("secret"), "{body}");
    }
}
