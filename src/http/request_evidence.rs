//! `POST /api/v1/badge-requests/{id}/evidence`: a file added to a badge request, its size refused
//! before it is read when announced over the limit, its type judged by its bytes
//! (`crate::evidence`), kept in the store with the request's trail.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::api::{Caller, Tenanted, body_error};
use super::requests::{evidence_url, load};
use super::{AppError, HttpState};
use crate::evidence::{self, FileError};
use crate::store::{AddedEvidence, NewEvidence};

#[derive(Debug, Deserialize)]
pub struct EvidenceQuery {
    #[serde(default)]
    filename: Option<String>,
}

/// Refuses with 413, before a byte of the body is read, a file whose declared length
/// (`Content-Length`) is over the evidence limit; a body without one is cut at the limit as it is
/// read.
pub struct DeclaredLength;

impl axum::extract::FromRequestParts<HttpState> for DeclaredLength {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &HttpState,
    ) -> Result<Self, AppError> {
        let declared = parts
            .headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match declared {
            Some(size) if size > s.max_evidence_bytes => Err(AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                FileError::TooLarge {
                    size,
                    limit: s.max_evidence_bytes,
                }
                .to_string(),
            )),
            _ => Ok(DeclaredLength),
        }
    }
}

pub async fn add_evidence(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    _: DeclaredLength,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<EvidenceQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let request = load(&s, &id).await?;
    let body = body.map_err(body_error)?;
    let name = q
        .filename
        .or_else(|| {
            headers
                .get("x-filename")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .map(|n| n.trim().chars().take(200).collect::<String>())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "preuve".to_owned());
    let checked = evidence::check_file(&body, s.max_evidence_bytes).map_err(|e| match e {
        FileError::TooLarge { .. } => {
            AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
        }
        FileError::Refused(_) => AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file",
            e.to_string(),
        ),
    })?;
    let added = s
        .app
        .store
        .add_evidence(&NewEvidence {
            id: Uuid::new_v4(),
            request_id: request.id,
            sha256: checked.sha256,
            media_type: checked.sniffed.media_type.to_owned(),
            genre: checked.sniffed.genre.as_str().to_owned(),
            name,
            content: body.to_vec(),
            added_by: format!("api:{who}"),
        })
        .await?;
    let status = match added {
        AddedEvidence::Added(_) => StatusCode::CREATED,
        AddedEvidence::Existing(_) => StatusCode::OK,
    };
    let f = added.file();
    Ok((
        status,
        axum::Json(json!({
            "id": f.id,
            "url": evidence_url(&s.app.issuer.base_url, f.id),
            "name": f.name,
            "media_type": f.media_type,
            "genre": f.genre,
            "size": f.size,
            "sha256": f.sha256,
            "duplicate": matches!(added, AddedEvidence::Existing(_)),
        })),
    )
        .into_response())
}
