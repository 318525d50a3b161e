//! Bulk awards through the API (bearer token): `POST /api/v1/bulk-awards?badge_class=SLUG` with a
//! CSV body (`docs/BULK.md`) stores a job and answers 202 at once; the job runs in the background
//! (`bulk::spawn`, two awards at a time); `GET /api/v1/bulk-awards/{job}` tells its progress.
//! A file that cannot be read as a whole answers 422 with every problem in `errors` (`line`,
//! `field`, `problem`), like the référentiel import; rows in error do not refuse the file, they are
//! reported in the job.
//!
//! Batches of carnets are jobs too: `POST /api/v1/carnet-batches[?badge_class=SLUG]` with a JSON
//! array of carnet documents, `GET /api/v1/carnet-batches/{job}` (`bulk::carnets`). Each address
//! shows the jobs of its kind only.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::api::body_error;
use super::api::{Caller, PageQuery, Tenanted, page_document};
use super::referentiels::require_json;
use super::{AppError, HttpState};
use crate::bulk::carnets::{self, MAX_BATCH_BYTES, MAX_BATCH_CARNETS, Source};
use crate::bulk::{self, BulkError, FileProblem};
use crate::store::{BulkJob, CreatedJob, JobKind};

/// At most this many problems are listed in one answer (the count says how many there were).
const MAX_LISTED_PROBLEMS: usize = 200;

/// Content types a CSV file may come with (spreadsheets and browsers disagree).
const CSV_TYPES: &[&str] = &[
    "",
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",
    "application/octet-stream",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitQuery {
    badge_class: Option<String>,
    batch: Option<String>,
}

/// `POST /api/v1/bulk-awards?badge_class=SLUG[&batch=NAME]`, body `text/csv`: 202 with the job
/// and its `Location`. The same file for the same class and batch while its job is unfinished
/// answers that job (and resumes it if it was interrupted).
pub async fn submit(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    headers: HeaderMap,
    query: Result<Query<SubmitQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let Query(q) = query?;
    let body = body.map_err(body_error)?;
    let class = q
        .badge_class
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| {
            AppError::unprocessable(
                "badge_class",
                "name the badge class in the query: ?badge_class=SLUG",
            )
        })?;
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !CSV_TYPES.contains(&mime.as_str()) {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("content type \"{mime}\" is not accepted: send the CSV file as text/csv"),
        ));
    }
    if body.len() > bulk::MAX_BULK_BYTES {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the file is {} bytes; the limit is {} (at most {} rows): split it",
                body.len(),
                bulk::MAX_BULK_BYTES,
                bulk::MAX_ROWS
            ),
        ));
    }
    let created = match bulk::submit(
        &s.app,
        &class,
        q.batch.as_deref(),
        body.to_vec(),
        &format!("api:{who}"),
    )
    .await
    {
        Ok(c) => c,
        Err(BulkError::File(problems)) => return Ok(problem_list(&problems)),
        Err(e) => return Err(e.into()),
    };
    let resubmitted = matches!(created, CreatedJob::Existing(_));
    let job = created.into_job();
    // Runs in the background; a no-op if this process already runs it.
    bulk::spawn(s.app.clone(), job.id);
    let rows = s.app.store.bulk_rows(job.id).await?;
    let base = &s.app.issuer.base_url;
    let mut doc = bulk::job_document(base, &job, &rows);
    doc["resubmitted"] = json!(resubmitted);
    let mut resp = (StatusCode::ACCEPTED, axum::Json(doc)).into_response();
    resp.headers_mut().insert(
        header::LOCATION,
        bulk::job_url(base, job.id)
            .parse()
            .map_err(|_| AppError::internal("bad location"))?,
    );
    Ok(resp)
}

/// `GET /api/v1/bulk-awards/{job}`: state, counts, rows in error (line, field, reason) and the
/// award of every row.
pub async fn get(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let job = find_job(&s, &id, JobKind::Csv, "no such bulk job").await?;
    let rows = s.app.store.bulk_rows(job.id).await?;
    Ok(axum::Json(bulk::job_document(&s.app.issuer.base_url, &job, &rows)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchQuery {
    badge_class: Option<String>,
}

/// `POST /api/v1/carnet-batches[?badge_class=SLUG]`, body a JSON array of carnet documents (at
/// most 500): 202 with the job and its `Location`. Each carnet is imported (or found) and every
/// class it earns confirmed, in the background. The same batch while its job is unfinished
/// answers that job (and resumes it if it was interrupted).
pub async fn submit_carnets(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    headers: HeaderMap,
    query: Result<Query<BatchQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let Query(q) = query?;
    let body = body.map_err(body_error)?;
    require_json(&headers)?;
    if body.len() > MAX_BATCH_BYTES {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the batch is {} bytes; the limit is {MAX_BATCH_BYTES} (at most {MAX_BATCH_CARNETS} carnets): split it",
                body.len()
            ),
        ));
    }
    let source = Source {
        label: None,
        bytes: body.to_vec(),
    };
    let created = match carnets::submit(
        &s.app,
        q.badge_class.as_deref(),
        vec![source],
        &format!("api:{who}"),
    )
    .await
    {
        Ok(c) => c,
        Err(BulkError::File(problems)) => return Ok(problem_list(&problems)),
        Err(e) => return Err(e.into()),
    };
    let resubmitted = matches!(created, CreatedJob::Existing(_));
    let job = created.into_job();
    // Runs in the background; a no-op if this process already runs it.
    bulk::spawn(s.app.clone(), job.id);
    let rows = s.app.store.bulk_rows(job.id).await?;
    let base = &s.app.issuer.base_url;
    let mut doc = carnets::batch_document(base, &job, &rows);
    doc["resubmitted"] = json!(resubmitted);
    let mut resp = (StatusCode::ACCEPTED, axum::Json(doc)).into_response();
    resp.headers_mut().insert(
        header::LOCATION,
        carnets::batch_url(base, job.id)
            .parse()
            .map_err(|_| AppError::internal("bad location"))?,
    );
    Ok(resp)
}

/// `GET /api/v1/carnet-batches/{job}`: state, counts (carnets, awards), the carnets in error
/// (position, field, reason) and each carnet with its awards issued, already issued and not
/// earned (and why).
pub async fn get_carnets(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let job = find_job(&s, &id, JobKind::Carnets, "no such batch of carnets").await?;
    let rows = s.app.store.bulk_rows(job.id).await?;
    Ok(axum::Json(carnets::batch_document(&s.app.issuer.base_url, &job, &rows)).into_response())
}

/// `GET /api/v1/bulk-awards` and `GET /api/v1/carnet-batches`: the institution's jobs of that
/// kind, newest first, a page at a time (`?limit=&after=`).
async fn list_jobs(
    s: &HttpState,
    kind: JobKind,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = query?;
    let (limit, after) = q.read("jobs")?;
    let jobs = s
        .app
        .store
        .list_bulk_jobs(s.app.issuer.slug(), kind, limit, after)
        .await?;
    let base = &s.app.issuer.base_url;
    let path = match kind {
        JobKind::Csv => "bulk-awards",
        JobKind::Carnets => "carnet-batches",
    };
    let items = jobs
        .iter()
        .map(|j| {
            json!({
                "id": j.id,
                "url": format!("{base}/api/v1/{path}/{}", j.id),
                "state": j.state.as_str(),
                "badge_class": (!j.badge_class_slug.is_empty()).then_some(&j.badge_class_slug),
                "created_by": j.created_by,
                "created_at": j.created_at,
                "updated_at": j.updated_at,
                "rows": j.counts.total,
                "done": j.counts.processed(),
            })
        })
        .collect();
    let doc = page_document(
        &format!("{base}/api/v1/{path}"),
        limit,
        items,
        jobs.last().map(|j| j.id),
    );
    Ok(axum::Json(doc).into_response())
}

/// `GET /api/v1/bulk-awards`.
pub async fn list(
    Tenanted(s): Tenanted,
    _caller: Caller,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    list_jobs(&s, JobKind::Csv, query).await
}

/// `GET /api/v1/carnet-batches`.
pub async fn list_carnets(
    Tenanted(s): Tenanted,
    _caller: Caller,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    list_jobs(&s, JobKind::Carnets, query).await
}

/// This issuer's job of this kind with this id, or 404.
async fn find_job(
    s: &HttpState,
    id: &str,
    kind: JobKind,
    missing: &'static str,
) -> Result<BulkJob, AppError> {
    let not_found = || AppError::not_found(missing);
    let id: Uuid = id.parse().map_err(|_| not_found())?;
    s.app
        .store
        .get_bulk_job(id)
        .await?
        .filter(|j| j.issuer_slug == s.app.issuer.slug() && j.kind == kind)
        .ok_or_else(not_found)
}

/// 422 with every problem of a refused file.
fn problem_list(problems: &[FileProblem]) -> Response {
    let Some(first) = problems.first() else {
        return AppError::internal("a refusal without a problem").into_response();
    };
    let at = first
        .line
        .map(|l| format!("line {l}: "))
        .unwrap_or_default();
    let detail = match problems.len() {
        1 => format!("{at}{}: {}", first.field, first.problem),
        n => format!(
            "{n} problems; the first: {at}{}: {}",
            first.field, first.problem
        ),
    };
    let errors: Vec<Value> = problems
        .iter()
        .take(MAX_LISTED_PROBLEMS)
        .map(|p| json!({"line": p.line, "field": p.field, "problem": p.problem}))
        .collect();
    let body = json!({
        "type": "urn:carnet:error:invalid_field",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": detail,
        "field": first.field,
        "errors": errors,
        "error_count": problems.len(),
    });
    let mut resp = (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    resp
}
