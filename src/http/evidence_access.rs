//! Opening a private evidence file (issue #5 §5) and its share links: `GET /evidence/{id}`
//! answers 401 without `?access=TOKEN` (a share link) or the issuer's bearer token, and 404 for a
//! token that does not open it; the issuer's token creates and revokes share links.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::api::authenticate;
use super::api::{Caller, Tenanted};
use super::requests::{evidence_url, parse_id};
use super::{AppError, HttpState};
use crate::evidence;
use crate::store::NewEvidenceShare;

#[derive(Debug, Deserialize)]
pub struct AccessQuery {
    #[serde(default)]
    access: Option<String>,
}

/// `GET /evidence/{id}`: with the issuer's bearer token or `?access=TOKEN` of an unrevoked share.
pub async fn serve_evidence(
    State(s): State<HttpState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<AccessQuery>,
) -> Result<Response, AppError> {
    let not_found = || AppError::not_found("no such evidence file, or this link does not open it");
    let id = parse_id(&id, "evidence file")?;
    let issuer_token = headers.contains_key(header::AUTHORIZATION);
    // an institution's token opens its own files only; the instance's and a share link, the file
    let mut only = None;
    if issuer_token {
        only = authenticate(&s, &headers).await?.institution;
    } else {
        let Some(token) = q.access.filter(|t| !t.is_empty()) else {
            return Err(AppError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this evidence file is private: open it with its share link",
            ));
        };
        s.app
            .store
            .find_evidence_share(id, &evidence::token_sha256(&token))
            .await?
            .ok_or_else(not_found)?;
    }
    let (file, content) = evidence_of(&s, id, only.as_deref()).await?;
    let mut resp = content.into_response();
    let h = resp.headers_mut();
    let value = |v: &str| HeaderValue::from_str(v).map_err(|_| AppError::internal("header"));
    h.insert(header::CONTENT_TYPE, value(&file.media_type)?);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, value("nosniff")?);
    h.insert(header::CACHE_CONTROL, value("private, no-store")?);
    if file.genre != "image" {
        h.insert(header::CONTENT_DISPOSITION, value("attachment")?);
    }
    Ok(resp)
}

/// The evidence file and its content, if it exists and belongs to one of this issuer's requests
/// (several institutions may share one database).
async fn own_evidence(
    s: &HttpState,
    id: Uuid,
) -> Result<(crate::store::EvidenceFile, Vec<u8>), AppError> {
    evidence_of(s, id, Some(s.app.issuer.slug())).await
}

/// An evidence file and its content, when it belongs to a request of `institution` (any, for
/// `None`).
async fn evidence_of(
    s: &HttpState,
    id: Uuid,
    institution: Option<&str>,
) -> Result<(crate::store::EvidenceFile, Vec<u8>), AppError> {
    let not_found = || AppError::not_found("no such evidence file");
    let (file, content) = s
        .app
        .store
        .evidence_content(id)
        .await?
        .ok_or_else(not_found)?;
    s.app
        .store
        .get_badge_request(file.request_id)
        .await?
        .filter(|r| institution.is_none_or(|slug| r.issuer_slug == slug))
        .ok_or_else(not_found)?;
    Ok((file, content))
}

/// `POST /api/v1/evidence/{id}/shares`: a share link (the token is shown once).
pub async fn create_share(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id, "evidence file")?;
    own_evidence(&s, id).await?;
    let (token, token_sha256) = evidence::new_share_token();
    let share = s
        .app
        .store
        .create_evidence_share(&NewEvidenceShare {
            id: Uuid::new_v4(),
            evidence_id: id,
            token_sha256,
            created_by: format!("api:{who}"),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "id": share.id,
            "evidence_id": share.evidence_id,
            "url": format!("{}?access={token}", evidence_url(&s.app.issuer.base_url, id)),
            "created_by": share.created_by,
            "created_at": share.created_at,
        })),
    )
        .into_response())
}

/// `DELETE /api/v1/evidence/{id}/shares/{share}`.
pub async fn revoke_share(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    Path((id, share)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = parse_id(&id, "evidence file")?;
    let share = parse_id(&share, "share")?;
    own_evidence(&s, id).await?;
    let revoked = s
        .app
        .store
        .revoke_evidence_share(id, share, &format!("api:{who}"))
        .await?
        .ok_or_else(|| AppError::not_found("no such share"))?;
    Ok(axum::Json(json!({
        "id": revoked.id,
        "revoked_at": revoked.revoked_at,
        "revoked_by": revoked.revoked_by,
    }))
    .into_response())
}
