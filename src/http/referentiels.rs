//! The référentiel and carnet API (bearer token, like issuing): import a référentiel (JSON or CSV)
//! and list or read them; import a person's carnet, read it, edit one of its entries.
//!
//! Référentiels may be licensed to the institution only and carnets hold personal data, so every
//! route here needs a token. Import problems answer one RFC 9457 document (422) whose `field` is
//! the first problem's, with every problem in `errors` (`line`, `field`, `problem`).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::api::body_error;
use super::api::{Caller, PageQuery, Tenanted, page_document};
use super::{AppError, HttpState};
use crate::referentiel::{self, Format, ImportError, Referentiel, carnet};
use crate::store::{Carnet, SavedReferentiel, StoreError};

/// At most this many problems are listed in one answer (the count says how many there were).
const MAX_LISTED_PROBLEMS: usize = 200;
/// Edits re-read and re-applied when another edit of the same carnet came first.
const EDIT_ATTEMPTS: usize = 3;

/// `GET /api/v1/referentiels`: the issuer's référentiels, every version.
pub async fn list(Tenanted(s): Tenanted, _caller: Caller) -> Result<Response, AppError> {
    let base = &s.app.issuer.base_url;
    let list = s.app.store.list_referentiels(issuer_slug(&s)).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "version": r.version,
                "name": r.name,
                "competences": r.competences,
                "digest": r.digest,
                "imported_by": r.imported_by,
                "imported_at": r.imported_at,
                "url": referentiel_url(base, &r.id, &r.version),
            })
        })
        .collect();
    Ok(axum::Json(json!({ "referentiels": items })).into_response())
}

/// `GET /api/v1/referentiels/{id}/{version}`: the référentiel in its JSON import format.
pub async fn get(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let stored = s
        .app
        .store
        .get_referentiel(issuer_slug(&s), &id, &version)
        .await?
        .ok_or_else(|| not_imported(&id, &version))?;
    let mut resp = axum::Json(&stored.referentiel).into_response();
    if let Ok(etag) = format!("\"{}\"", stored.digest).parse() {
        resp.headers_mut().insert(header::ETAG, etag);
    }
    Ok(resp)
}

/// `POST /api/v1/referentiels`: imports a référentiel, JSON or CSV by `Content-Type`. 201 when
/// new, 200 when this version was already imported with the same content, 409 when with another.
pub async fn import(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = body.map_err(body_error)?;
    within(&body, referentiel::MAX_REFERENTIEL_BYTES)?;
    let content_type = content_type(&headers);
    let Some(format) = Format::of_content_type(content_type) else {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "content type \"{content_type}\" is not accepted: send application/json or text/csv (see docs/REFERENTIELS.md)"
            ),
        ));
    };
    // Up to 4 MiB of text to read and check: off the async runtime.
    let parsed = tokio::task::spawn_blocking(move || referentiel::parse(&body, "body", format))
        .await
        .map_err(|e| AppError::internal(format!("référentiel parsing failed: {e}")))?;
    let r = match parsed {
        Ok(r) => r,
        Err(problems) => return Ok(import_problems(&problems)),
    };
    let saved = s
        .app
        .store
        .save_referentiel(issuer_slug(&s), &r, &format!("api:{who}"))
        .await?;
    let url = referentiel_url(&s.app.issuer.base_url, &r.id, &r.version);
    let created = saved == SavedReferentiel::Created;
    if created {
        tracing::info!(referentiel.id = %r.id, referentiel.version = %r.version, "imported référentiel {} {}", r.id, r.version);
    }
    let doc = json!({
        "id": r.id,
        "version": r.version,
        "name": r.name,
        "competences": r.competences.len(),
        "digest": r.digest(),
        "created": created,
        "url": url,
    });
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    with_location((status, axum::Json(doc)).into_response(), &url)
}

/// `POST /api/v1/carnets`: imports a person's carnet (JSON, `docs/REFERENTIELS.md`).
pub async fn import_carnet(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = body.map_err(body_error)?;
    within(&body, carnet::MAX_CARNET_BYTES)?;
    require_json(&headers)?;
    let draft = match carnet::parse_carnet(&body, "body") {
        Ok(draft) => draft,
        Err(problems) => return Ok(import_problems(&problems)),
    };
    let stored = match draft.referentiel() {
        Some((id, version)) => {
            s.app
                .store
                .get_referentiel(issuer_slug(&s), id, version)
                .await?
        }
        None => None,
    };
    let valid = match draft.validate(stored.as_ref().map(|r| &r.referentiel)) {
        Ok(valid) => valid,
        Err(problems) => return Ok(import_problems(&problems)),
    };
    let new = valid.into_new_carnet(issuer_slug(&s), &format!("api:{who}"));
    let carnet = s.app.store.insert_carnet(&new).await?;
    tracing::info!(carnet.id = %carnet.id, "imported carnet {}", carnet.id);
    let url = carnet_url(&s.app.issuer.base_url, carnet.id);
    let view = carnet_view(&carnet, stored.as_ref().map(|r| &r.referentiel));
    with_location(
        (StatusCode::CREATED, axum::Json(view)).into_response(),
        &url,
    )
}

/// `GET /api/v1/carnets`: the institution's carnets, newest first, a page at a time
/// (`?limit=&after=`), without their entries (`GET /api/v1/carnets/{id}` gives them).
pub async fn list_carnets(
    Tenanted(s): Tenanted,
    _caller: Caller,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = query?;
    let (limit, after) = q.read("carnets")?;
    let carnets = s
        .app
        .store
        .list_carnets(issuer_slug(&s), limit, after)
        .await?;
    let base = &s.app.issuer.base_url;
    let items = carnets
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "url": carnet_url(base, c.id),
                "display_name": c.person.display_name,
                "referentiel": {"id": c.referentiel_id, "version": c.referentiel_version},
                "revision": c.revision,
                "created_by": c.created_by,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
            })
        })
        .collect();
    let doc = page_document(
        &format!("{base}/api/v1/carnets"),
        limit,
        items,
        carnets.last().map(|c| c.id),
    );
    Ok(axum::Json(doc).into_response())
}

/// `GET /api/v1/carnets/{id}`.
pub async fn get_carnet(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let carnet = find_carnet(&s, &id).await?;
    let r = carnet_referentiel(&s, &carnet).await?;
    Ok(axum::Json(carnet_view(&carnet, Some(&r))).into_response())
}

/// `PATCH /api/v1/carnets/{id}/entries/{competence}`: positions or changes one competence. The body
/// holds the fields to change (`null` removes one); answers the whole carnet.
pub async fn patch_entry(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    headers: HeaderMap,
    Path((id, competence)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = body.map_err(body_error)?;
    require_json(&headers)?;
    let patch: Value = crate::json::from_slice(&body)
        .map_err(|e| AppError::unprocessable("(body)", format!("invalid JSON body: {e}")))?;
    for _ in 0..EDIT_ATTEMPTS {
        let carnet = find_carnet(&s, &id).await?;
        let r = carnet_referentiel(&s, &carnet).await?;
        let entry = match carnet::apply_patch(carnet.entry(&competence), &competence, &patch, &r) {
            Ok(entry) => entry,
            Err(problems) => {
                let problems: Vec<(Option<usize>, String, String)> = problems
                    .into_iter()
                    .map(|(field, problem)| (None, field, problem))
                    .collect();
                return Ok(problem_list(&problems));
            }
        };
        match s
            .app
            .store
            .save_carnet_entry(carnet.id, carnet.revision, &entry, &format!("api:{who}"))
            .await
        {
            Ok(saved) => return Ok(axum::Json(carnet_view(&saved, Some(&r))).into_response()),
            // Another edit came first: apply this one to what it wrote.
            Err(StoreError::CarnetChanged(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::new(
        StatusCode::CONFLICT,
        "conflict",
        "the carnet is being edited by someone else right now: try again",
    ))
}

pub(super) fn issuer_slug(s: &HttpState) -> &str {
    &s.app.issuer.settings.slug
}

fn referentiel_url(base: &str, id: &str, version: &str) -> String {
    format!("{base}/api/v1/referentiels/{id}/{version}")
}

pub(super) fn carnet_url(base: &str, id: Uuid) -> String {
    format!("{base}/api/v1/carnets/{id}")
}

fn not_imported(id: &str, version: &str) -> AppError {
    AppError::not_found(format!(
        "no référentiel \"{id}\" version \"{version}\" is imported"
    ))
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn within(body: &[u8], limit: usize) -> Result<(), AppError> {
    if body.len() > limit {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is {} bytes; the limit is {limit}", body.len()),
        ));
    }
    Ok(())
}

pub(super) fn require_json(headers: &HeaderMap) -> Result<(), AppError> {
    match Format::of_content_type(content_type(headers)) {
        Some(Format::Json) => Ok(()),
        _ if content_type(headers).is_empty() => Ok(()),
        _ => Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json",
        )),
    }
}

pub(super) fn with_location(mut resp: Response, url: &str) -> Result<Response, AppError> {
    let location = url
        .parse()
        .map_err(|_| AppError::internal("bad location"))?;
    resp.headers_mut().insert(header::LOCATION, location);
    Ok(resp)
}

/// The carnet of this issuer with this id, or 404.
pub(super) async fn find_carnet(s: &HttpState, id: &str) -> Result<Carnet, AppError> {
    let missing = || AppError::not_found("no such carnet");
    let id: Uuid = id.parse().map_err(|_| missing())?;
    match s.app.store.get_carnet(id).await? {
        Some(c) if c.issuer_slug == issuer_slug(s) => Ok(c),
        _ => Err(missing()),
    }
}

/// The référentiel version a stored carnet points at (always stored: a foreign key says so).
pub(super) async fn carnet_referentiel(
    s: &HttpState,
    carnet: &Carnet,
) -> Result<Referentiel, AppError> {
    s.app
        .store
        .get_referentiel(
            &carnet.issuer_slug,
            &carnet.referentiel_id,
            &carnet.referentiel_version,
        )
        .await?
        .map(|stored| stored.referentiel)
        .ok_or_else(|| {
            AppError::internal(format!(
                "carnet {} points at a missing référentiel {} {}",
                carnet.id, carnet.referentiel_id, carnet.referentiel_version
            ))
        })
}

/// A carnet as the API shows it: its entries in the référentiel's order, each with the
/// competence's wording; the person by the name they chose only (never a hash).
fn carnet_view(carnet: &Carnet, r: Option<&Referentiel>) -> Value {
    let mut records: Vec<_> = carnet.entries.iter().collect();
    if let Some(r) = r {
        records.sort_by_key(|e| r.position(&e.entry.competence));
    }
    let entries: Vec<Value> = records
        .into_iter()
        .map(|record| {
            let mut entry = serde_json::to_value(&record.entry).unwrap_or_default();
            if let Some(c) = r.and_then(|r| r.competence(&record.entry.competence)) {
                entry["wording"] = c.wording.clone().into();
                if let Some(group) = &c.group {
                    entry["group"] = group.clone().into();
                }
            }
            entry["updated_by"] = record.updated_by.clone().into();
            entry["updated_at"] = serde_json::to_value(record.updated_at).unwrap_or_default();
            entry
        })
        .collect();
    json!({
        "id": carnet.id,
        "referentiel": {
            "id": carnet.referentiel_id,
            "version": carnet.referentiel_version,
            "name": r.map(|r| r.name.clone()),
        },
        "person": { "display_name": carnet.person.display_name },
        "entries": entries,
        "revision": carnet.revision,
        "created_by": carnet.created_by,
        "created_at": carnet.created_at,
        "updated_at": carnet.updated_at,
    })
}

fn import_problems(problems: &[ImportError]) -> Response {
    let list: Vec<(Option<usize>, String, String)> = problems
        .iter()
        .map(|p| (p.line, p.field.clone(), p.problem.clone()))
        .collect();
    problem_list(&list)
}

/// 422 with every problem: (line, field, problem).
fn problem_list(problems: &[(Option<usize>, String, String)]) -> Response {
    let Some((line, field, problem)) = problems.first() else {
        return AppError::internal("a refusal without a problem").into_response();
    };
    let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    let detail = match problems.len() {
        1 => format!("{at}{field}: {problem}"),
        n => format!("{n} problems; the first: {at}{field}: {problem}"),
    };
    let errors: Vec<Value> = problems
        .iter()
        .take(MAX_LISTED_PROBLEMS)
        .map(|(line, field, problem)| json!({"line": line, "field": field, "problem": problem}))
        .collect();
    let body = json!({
        "type": "urn:carnet:error:invalid_field",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": detail,
        "field": field,
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
