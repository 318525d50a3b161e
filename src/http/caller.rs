//! Who an API call is and which institution it acts for, checked from the headers alone (before
//! any byte of a body is read): [`Caller`] (the token's name, for trails), [`Tenanted`] (the
//! state acting for the token's institution), [`Authenticated`]; and [`PageQuery`], the
//! `?limit=&after=` of list routes.

use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AppError, HttpState};

/// The API tokens `carnet tokens create` makes: this prefix, then 43 base64url characters (32
/// random bytes). The prefix lets secret scanners find a token pasted where it should not be.
pub const API_TOKEN_PREFIX: &str = "carnet_";

/// Who a request's token belongs to.
#[derive(Debug, Clone)]
pub(super) struct Authenticated {
    /// As trails show it: the name of a `CARNET_API_TOKENS` token, or `token:NAME`.
    pub who: String,
    /// The institution an institution's token opens; `None` for the instance's tokens.
    pub institution: Option<String>,
}

/// The header an instance token names the institution it acts for with (default: the one the
/// server was started for, the first).
pub const INSTITUTION_HEADER: &str = "carnet-institution";

/// Who the request's token belongs to, or 401: a token of `CARNET_API_TOKENS` (instance-wide,
/// compared in constant time) by its name, or a token of an institution's (`carnet tokens`),
/// looked up by its SHA-256 only when it has the shape of one, as `token:NAME`.
pub(super) async fn authenticate(
    s: &HttpState,
    headers: &HeaderMap,
) -> Result<Authenticated, AppError> {
    let unauthorized = |why: &str| AppError::new(StatusCode::UNAUTHORIZED, "unauthorized", why);
    let refused = || unauthorized("this API token is not accepted");
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        unauthorized("this call needs an API token: Authorization: Bearer <token>")
    })?;
    let presented = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("use Authorization: Bearer <token>"))?
        .trim();
    if let Some(t) = s.tokens.iter().find(|t| t.matches(presented)) {
        return Ok(Authenticated {
            who: t.name.clone(),
            institution: None,
        });
    }
    let shaped = presented
        .strip_prefix(API_TOKEN_PREFIX)
        .is_some_and(|rest| {
            rest.len() == 43
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !shaped {
        return Err(refused());
    }
    let token = s
        .app
        .store
        .use_api_token(
            &crate::evidence::token_sha256(presented),
            chrono::Utc::now(),
        )
        .await?
        .ok_or_else(refused)?;
    Ok(Authenticated {
        who: format!("token:{}", token.name),
        institution: Some(token.issuer_slug),
    })
}

/// The request's authentication, checked once per request (several extractors ask).
async fn authenticated(
    parts: &mut axum::http::request::Parts,
    s: &HttpState,
) -> Result<Authenticated, AppError> {
    if let Some(done) = parts.extensions.get::<Authenticated>() {
        return Ok(done.clone());
    }
    let done = authenticate(s, &parts.headers).await?;
    parts.extensions.insert(done.clone());
    Ok(done)
}

impl axum::extract::FromRequestParts<HttpState> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &HttpState,
    ) -> Result<Self, AppError> {
        authenticated(parts, s).await
    }
}

/// The API token a request presents, checked from its headers alone: as an extractor placed
/// before the body's, it answers 401 before any byte of the body is read.
pub struct Caller(pub String);

impl axum::extract::FromRequestParts<HttpState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &HttpState,
    ) -> Result<Self, AppError> {
        authenticated(parts, s).await.map(|a| Caller(a.who))
    }
}

/// The state acting for the institution the request's token opens (an instance token: the one
/// the `carnet-institution` header names, by default the server's own). Everything an API call
/// reads or writes is that institution's: another's ids answer 404. Checked from the headers
/// alone, like [`Caller`].
pub struct Tenanted(pub HttpState);

impl axum::extract::FromRequestParts<HttpState> for Tenanted {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &HttpState,
    ) -> Result<Self, AppError> {
        let auth = authenticated(parts, s).await?;
        let named = parts
            .headers
            .get(INSTITUTION_HEADER)
            .map(|v| {
                v.to_str()
                    .map(|v| v.trim().to_owned())
                    .map_err(|_| AppError::bad_request("carnet-institution: an institution's slug"))
            })
            .transpose()?;
        let slug = match (auth.institution, named) {
            (Some(own), Some(named)) if named != own => {
                return Err(AppError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "this token opens its own institution only",
                ));
            }
            (Some(own), _) => {
                // a token whose institution is not here opens nothing
                return match s.app.for_institution(&own).await? {
                    Some(app) => Ok(Tenanted(HttpState { app, ..s.clone() })),
                    None => Err(AppError::new(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "this API token is not accepted",
                    )),
                };
            }
            (None, Some(named)) => named,
            (None, None) => s.app.issuer.slug().to_owned(),
        };
        super::public::scoped(s, &slug).await.map(Tenanted)
    }
}

/// `?limit=&after=` of a list route: keyset pages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Items per page (default [`PAGE`], at most [`MAX_PAGE`]).
    #[serde(default)]
    limit: Option<u32>,
    /// The last item of the previous page (its id, as `next` gives it).
    #[serde(default)]
    after: Option<String>,
}

/// Items per page of a list route, unless `limit` says otherwise.
pub(super) const PAGE: u32 = 50;
pub(super) const MAX_PAGE: u32 = 200;

impl PageQuery {
    /// The page size and the id the page starts after, checked; `what` names the items.
    pub(super) fn read(&self, what: &str) -> Result<(u32, Option<Uuid>), AppError> {
        let limit = self.limit.unwrap_or(PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(AppError::unprocessable(
                "limit",
                format!("between 1 and {MAX_PAGE} {what} a page"),
            ));
        }
        let after = self
            .after
            .as_deref()
            .map(|a| {
                a.parse::<Uuid>().map_err(|_| {
                    AppError::unprocessable("after", "the id of the last item, as `next` gives it")
                })
            })
            .transpose()?;
        Ok((limit, after))
    }
}

/// `{items, next}`: `next` the URL of the following page when this one is full.
pub(super) fn page_document(url: &str, limit: u32, items: Vec<Value>, last: Option<Uuid>) -> Value {
    let next = (items.len() == limit as usize)
        .then_some(last)
        .flatten()
        .map(|last| format!("{url}?limit={limit}&after={last}"));
    json!({ "items": items, "next": next })
}
