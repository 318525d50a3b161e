//! The JSON API: issuing, reading and revoking awards (bearer token) and verifying badges
//! (public: a file, JSON or JWT in the body, or `{"url"}` for a link to a badge).
//!
//! [`Caller`], the API token checked from the headers alone, answers 401 before a byte of the body
//! is read. The verifier's bodies (API and page) share one budget of
//! [`VERIFY_BODY_BUDGET_BYTES`] (16 MiB), each reserving its `Content-Length` before a byte is
//! read; a body announced over its limit gets 413 unread.

use std::time::Duration;

use axum::RequestExt as _;
use axum::body::{Bytes, HttpBody as _};
use axum::extract::rejection::BytesRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};
use uuid::Uuid;

use super::{AppError, HttpState};
use crate::issue::{AwardRequest, issue};
use crate::ob3::credential::AwardDetails;
use crate::recipient::Email;
use crate::store::Award;
use crate::verify::Options;
use crate::verify::report::Profile;

pub(super) fn body_error(e: BytesRejection) -> AppError {
    if stopped_coming(&e) {
        body_timeout()
    } else if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        body_too_large()
    } else {
        AppError::bad_request(format!("the request body could not be read: {e}"))
    }
}

/// A body that stopped coming (`RequestBodyTimeoutLayer` in the router)?
fn stopped_coming(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(err) = source {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = err.source();
    }
    false
}

fn body_timeout() -> AppError {
    AppError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "the request body stopped coming: send it whole, then try again",
    )
}

fn body_too_large() -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "the request body is larger than the server accepts",
    )
}

/// Bytes of request bodies the public verifier (the API and the page) holds in memory at once,
/// all requests of the process together. A body takes its share — its `Content-Length`, or the
/// body limit when it announces none, at most the whole budget — before a byte of it is read;
/// the others wait with their bytes left in their sockets (TCP backpressure), and the body read
/// timeout, which starts at the first read, does not run while they wait. 16 MiB keeps 64
/// uploads of 5 MB at once near 110 MiB of resident memory (32 MiB: 150 MiB, the allocator
/// keeping about as much again as the bodies; docs/BENCHMARKS.md), lets hundreds of ordinary
/// badges (20 KiB) through at once, and verifies a burst of large ones as fast: on two cores,
/// more large bodies at once would not be verified any sooner.
pub const VERIFY_BODY_BUDGET_BYTES: u32 = 16 * 1024 * 1024;

/// Longest wait for a share of [`VERIFY_BODY_BUDGET_BYTES`]; then 503 with `Retry-After`.
pub const VERIFY_BODY_WAIT: Duration = Duration::from_secs(30);

static VERIFY_BODY_BUDGET: Semaphore = Semaphore::const_new(VERIFY_BODY_BUDGET_BYTES as usize);

/// A verification body's share of [`VERIFY_BODY_BUDGET_BYTES`], held until it is dropped.
pub(super) struct BodyShare {
    _permit: SemaphorePermit<'static>,
    /// The announced `Content-Length` (within the body limit).
    pub length: Option<usize>,
}

/// Why a verification body was refused before it was read.
pub(super) enum BodyRefusal {
    /// Its `Content-Length` is over the body limit.
    TooLarge,
    /// No share of the budget came free within [`VERIFY_BODY_WAIT`].
    Busy,
}

impl IntoResponse for BodyRefusal {
    fn into_response(self) -> Response {
        match self {
            BodyRefusal::TooLarge => body_too_large().into_response(),
            BodyRefusal::Busy => {
                let mut busy = AppError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "the verifier is busy with other uploads: try again in a few seconds",
                )
                .into_response();
                busy.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
                busy
            }
        }
    }
}

impl BodyShare {
    /// Checks the announced length against the router's body limit (413 before anything is
    /// read), then waits for the body's share of the budget (503 after [`VERIFY_BODY_WAIT`]).
    /// Gives the request back with its body limited.
    pub(super) async fn take(req: Request) -> Result<(Request, BodyShare), BodyRefusal> {
        let req = req.with_limited_body();
        // The limited body's size hint is at most the limit (the limit itself when the length is
        // not known: the router's body timeout hides `Content-Length` from it).
        let bound = req.body().size_hint().upper();
        let length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let (Some(length), Some(bound)) = (length, bound)
            && length > bound
        {
            return Err(BodyRefusal::TooLarge);
        }
        let need = length.or(bound).map_or(VERIFY_BODY_BUDGET_BYTES, |n| {
            u32::try_from(n)
                .unwrap_or(u32::MAX)
                .min(VERIFY_BODY_BUDGET_BYTES)
        });
        let waited =
            tokio::time::timeout(VERIFY_BODY_WAIT, VERIFY_BODY_BUDGET.acquire_many(need)).await;
        // (the semaphore is never closed: `Ok(Err(_))` cannot happen)
        let Ok(Ok(permit)) = waited else {
            tracing::warn!(
                "a verification body waited {} s for its {need} bytes of the budget: answered 503",
                VERIFY_BODY_WAIT.as_secs()
            );
            return Err(BodyRefusal::Busy);
        };
        let share = BodyShare {
            _permit: permit,
            length: length.and_then(|n| usize::try_from(n).ok()),
        };
        Ok((req, share))
    }
}

/// The body of a verification, read whole within the body limit while it holds its
/// [`BodyShare`]; a body of announced length is read into one buffer of that size (no second
/// copy when it is put together).
pub struct VerifyBody {
    pub bytes: Bytes,
    _share: BodyShare,
}

impl<S: Send + Sync> FromRequest<S> for VerifyBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (req, share) = BodyShare::take(req)
            .await
            .map_err(IntoResponse::into_response)?;
        let bytes = match share.length {
            Some(length) => read_announced(req.into_body(), length).await,
            None => Bytes::from_request(req, state).await.map_err(body_error),
        };
        Ok(VerifyBody {
            bytes: bytes.map_err(IntoResponse::into_response)?,
            _share: share,
        })
    }
}

/// Reads a body whose `Content-Length` is `length` (hyper ends it there; within the limit).
async fn read_announced(mut body: axum::body::Body, length: usize) -> Result<Bytes, AppError> {
    let mut bytes = Vec::with_capacity(length);
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(|e| {
            if stopped_coming(&e) {
                body_timeout()
            } else {
                AppError::bad_request(format!("the request body could not be read: {e}"))
            }
        })?;
        if let Ok(data) = frame.into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(bytes))
}

pub use super::caller::API_TOKEN_PREFIX;
pub(super) use super::caller::{
    Authenticated, Caller, PageQuery, Tenanted, authenticate, page_document,
};

/// `POST /api/v1/awards` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAward {
    badge_class: String,
    recipient_email: String,
    #[serde(default)]
    recipient_name: Option<String>,
    #[serde(default)]
    evidence_url: Option<String>,
    #[serde(default)]
    narrative: Option<String>,
    /// RFC 3339 date-time or a date (YYYY-MM-DD, end of that day UTC).
    #[serde(default)]
    valid_until: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// `docs`: where the institution's credentials answer (`Issuer::docs`).
pub fn award_urls(docs: &str, award: &Award) -> Value {
    let base = docs;
    let c = format!("{base}/credentials/{}", award.id);
    let mut doc = json!({
        "id": award.id,
        "credential_id": award.credential_id,
        "badge_class": award.badge_class_slug,
        "valid_from": award.valid_from,
        "valid_until": award.valid_until,
        "urls": {
            "json": format!("{c}.json"),
            "jwt": format!("{c}.jwt"),
            "png": format!("{c}.png"),
            "png_jwt": format!("{c}.png?proof=jwt"),
            "svg": format!("{c}.svg"),
        }
    });
    if award.assertion_json.is_some() {
        let a = format!("{base}/ob2/assertions/{}", award.id);
        doc["ob2"] = json!({
            "assertion": a,
            "jws": format!("{a}.jws"),
            "png": format!("{a}.png"),
            "png_hosted": format!("{a}.png?verification=hosted"),
            "svg": format!("{a}.svg"),
            "svg_hosted": format!("{a}.svg?verification=hosted"),
        });
    }
    doc
}

pub async fn create_award(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = body.map_err(body_error)?;
    let req: CreateAward = crate::json::parse(&body)
        .map_err(|e| AppError::unprocessable("(body)", format!("invalid JSON body: {e}")))?;
    let class = s.app.class(&req.badge_class).ok_or_else(|| {
        AppError::unprocessable(
            "badge_class",
            format!("unknown badge class \"{}\"", req.badge_class),
        )
    })?;
    let recipient = Email::parse(&req.recipient_email)
        .map_err(|e| AppError::unprocessable("recipient_email", e))?;
    let valid_until = req
        .valid_until
        .as_deref()
        .map(crate::issue::parse_valid_until)
        .transpose()
        .map_err(|e| AppError::unprocessable("valid_until", e))?;
    if let Some(k) = &req.idempotency_key
        && (k.is_empty() || k.len() > 200)
    {
        return Err(AppError::unprocessable(
            "idempotency_key",
            "must be 1 to 200 characters",
        ));
    }
    let request = AwardRequest {
        badge_class: class.slug.clone(),
        recipient,
        details: AwardDetails {
            recipient_name: req.recipient_name,
            evidence_url: req.evidence_url,
            narrative: req.narrative,
            valid_until,
            ..Default::default()
        },
        issued_by: format!("api:{who}"),
        idempotency_key: req.idempotency_key,
    };
    let award = issue(&s.app.issuer, class, s.app.store.as_ref(), request).await?;
    let location = format!("{}/api/v1/awards/{}", s.app.issuer.base_url, award.id);
    let mut resp = (
        StatusCode::CREATED,
        axum::Json(award_urls(&s.app.issuer.docs, &award)),
    )
        .into_response();
    resp.headers_mut().insert(
        header::LOCATION,
        location
            .parse()
            .map_err(|_| AppError::internal("bad location"))?,
    );
    Ok(resp)
}

pub async fn get_award(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id: Uuid = id
        .parse()
        .map_err(|_| AppError::not_found("no such award"))?;
    let award = s
        .app
        .store
        .get_award(id)
        .await?
        .filter(|a| a.issuer_slug == s.app.issuer.slug())
        .ok_or_else(|| AppError::not_found("no such award"))?;
    Ok(axum::Json(award_urls(&s.app.issuer.docs, &award)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    /// The email the badge should have been given to (prefer the `X-Recipient-Email` header: query
    /// strings end up in logs).
    recipient: Option<String>,
    /// `default` (authentic and in force is valid; data-model deviations are warnings) or
    /// `strict` (the 1EdTech rules: a conformance failure makes the badge invalid).
    profile: Option<String>,
}

/// `POST /api/v1/verify`: the body is a PNG, an SVG, a JSON credential or a compact JWS.
pub async fn verify(
    State(s): State<HttpState>,
    headers: HeaderMap,
    query: Result<Query<VerifyQuery>, QueryRejection>,
    upload: VerifyBody,
) -> Result<Response, AppError> {
    let Query(q) = query?;
    let profile: Profile = match q.profile.as_deref() {
        None => Profile::Default,
        Some(p) => p
            .parse()
            .map_err(|e: String| AppError::bad_request(e).field("profile"))?,
    };
    // its share of the verifier's memory is held until the report is written
    let body = &upload.bytes;
    if body.is_empty() {
        return Err(AppError::bad_request(
            "send the badge in the request body (PNG, SVG, JSON or JWT)",
        ));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    let accepted = [
        "",
        "image/png",
        "image/svg+xml",
        "application/json",
        "application/ld+json",
        "application/vc+ld+json",
        "application/vc",
        "text/plain",
        "application/jwt",
        "application/vc+jwt",
        "application/octet-stream",
    ];
    if !accepted.contains(&mime) {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "content type \"{mime}\" is not accepted: send image/png, image/svg+xml, application/json or text/plain (JWT)"
            ),
        ));
    }
    let mut recipient = headers
        .get("x-recipient-email")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(q.recipient);
    // `{"url": "...", "recipient"?: "..."}`: a link to the badge (a hosted assertion, a
    // credential or a baked image), as a QR code gives it.
    if let Some(link) = link_request(mime, body)? {
        recipient = recipient.or(link.recipient);
        let options = Options {
            recipient: recipient.as_deref(),
            profile,
        };
        let report = s.app.verifier.verify_url_with(&link.url, options).await;
        return Ok(axum::Json(report).into_response());
    }
    let options = Options {
        recipient: recipient.as_deref(),
        profile,
    };
    let report = s.app.verifier.verify_bytes_with(body, options).await;
    Ok(axum::Json(report).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    url: String,
    recipient: Option<String>,
}

/// A JSON body whose only members are `url` (and `recipient`) asks to verify a link; any other
/// JSON is a credential.
fn link_request(mime: &str, body: &[u8]) -> Result<Option<LinkRequest>, AppError> {
    if !matches!(mime, "application/json" | "") || body.len() > 16 * 1024 {
        return Ok(None);
    }
    let Ok(serde_json::Value::Object(map)) = crate::json::from_slice(body) else {
        return Ok(None);
    };
    if !map.contains_key("url") || map.keys().any(|k| k != "url" && k != "recipient") {
        return Ok(None);
    }
    let link: LinkRequest = serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| AppError::unprocessable("url", format!("invalid link request: {e}")))?;
    let url = link.url.trim();
    if url.is_empty() || url.len() > crate::verify::MAX_URL_BYTES {
        return Err(AppError::unprocessable(
            "url",
            format!(
                "give a link of 1 to {} characters",
                crate::verify::MAX_URL_BYTES
            ),
        ));
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(AppError::unprocessable(
            "url",
            "the link must be an https:// (or http://) address",
        ));
    }
    Ok(Some(link))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeAward {
    reason: String,
}

/// `POST /api/v1/awards/{id}/revoke` `{"reason": "..."}`: withdraws the award everywhere at once
/// (OB 3.0 status list bit, OB 2.0 hosted 410 and RevocationList), in one transaction.
pub async fn revoke_award(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let id: Uuid = id
        .parse()
        .map_err(|_| AppError::not_found("no such award"))?;
    // another institution's award is unknown here, whatever the body says
    s.app
        .store
        .get_award(id)
        .await?
        .filter(|a| a.issuer_slug == s.app.issuer.slug())
        .ok_or_else(|| AppError::not_found("no such award"))?;
    let body = body.map_err(body_error)?;
    let req: RevokeAward = crate::json::parse(&body)
        .map_err(|e| AppError::unprocessable("(body)", format!("invalid JSON body: {e}")))?;
    let reason = crate::issue::validate_reason(&req.reason)
        .map_err(|e| AppError::unprocessable("reason", e))?;
    let award = s
        .app
        .store
        .revoke_award(s.app.issuer.slug(), id, &reason, &format!("api:{who}"))
        .await?;
    tracing::info!(award.id = %award.id, "revoked badge {}", award.id);
    let mut doc = award_urls(&s.app.issuer.docs, &award);
    doc["revoked_at"] = serde_json::to_value(award.revoked_at).unwrap_or_default();
    doc["revocation_reason"] = reason.into();
    Ok(axum::Json(doc).into_response())
}
