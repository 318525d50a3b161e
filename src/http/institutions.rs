//! The institutions API: `GET | POST /api/v1/institutions`, `GET | PATCH
//! /api/v1/institutions/{slug}`. An instance token (`CARNET_API_TOKENS`) sees and changes every
//! institution and adds new ones; an institution's token sees and changes its own only (another
//! answers 404; adding one, 403). `carnet institutions` does the same on the command line.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Authenticated, body_error};
use super::referentiels::with_location;
use super::{AppError, HttpState};
use crate::institution::{self, Fields, Urls};
use crate::store::Institution;

fn document(s: &HttpState, i: &Institution) -> Value {
    let f = &i.fields;
    let base = &s.app.config.base_url;
    json!({
        "slug": i.slug,
        "name": f.name,
        "url": f.url,
        "email": f.email,
        "description": f.description,
        "image": f.image,
        "language": f.language,
        "issuer_id": format!("{base}/issuers/{}", i.slug),
        "api_url": format!("{base}/api/v1/institutions/{}", i.slug),
        "documents": match i.urls {
            Urls::Instance => base.clone(),
            Urls::Scoped => format!("{base}/issuers/{}", i.slug),
        },
        "revision": i.revision,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
    })
}

/// The institution `slug` as the caller may see it: any for an instance token, its own for an
/// institution's token; 404 otherwise.
async fn visible(s: &HttpState, auth: &Authenticated, slug: &str) -> Result<Institution, AppError> {
    let missing = || AppError::not_found(format!("no institution \"{slug}\""));
    if auth.institution.as_deref().is_some_and(|own| own != slug) {
        return Err(missing());
    }
    s.app.store.institution(slug).await?.ok_or_else(missing)
}

/// `GET /api/v1/institutions`.
pub async fn list(State(s): State<HttpState>, auth: Authenticated) -> Result<Response, AppError> {
    let all = s.app.store.institutions().await?;
    let items: Vec<Value> = all
        .iter()
        .filter(|i| auth.institution.as_deref().is_none_or(|own| own == i.slug))
        .map(|i| document(&s, i))
        .collect();
    Ok(axum::Json(json!({ "items": items })).into_response())
}

/// `GET /api/v1/institutions/{slug}`.
pub async fn get(
    State(s): State<HttpState>,
    auth: Authenticated,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let found = visible(&s, &auth, &slug).await?;
    Ok(axum::Json(document(&s, &found)).into_response())
}

/// `POST /api/v1/institutions` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInstitution {
    slug: String,
    name: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    language: Option<String>,
}

fn read<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, AppError> {
    let body = body.map_err(body_error)?;
    crate::json::parse(&body)
        .map_err(|e| AppError::unprocessable("(body)", format!("invalid JSON body: {e}")))
}

/// `POST /api/v1/institutions`: a new institution with new keys (instance tokens only).
pub async fn create(
    State(s): State<HttpState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    if auth.institution.is_some() {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "adding an institution needs an instance token (CARNET_API_TOKENS)",
        ));
    }
    let new: NewInstitution = read(body)?;
    let fields = Fields {
        name: new.name.trim().to_owned(),
        url: new.url,
        email: new.email,
        description: new.description,
        image: new.image,
        language: new.language.unwrap_or_else(|| "fr".into()),
    };
    let made = institution::create(&s.app.store, &s.app.instance_key, &new.slug, &fields).await?;
    tracing::info!(institution = %made.slug, by = %auth.who, "institution added");
    let doc = document(&s, &made);
    let url = doc["api_url"].as_str().unwrap_or_default().to_owned();
    with_location((StatusCode::CREATED, axum::Json(doc)).into_response(), &url)
}

/// `PATCH /api/v1/institutions/{slug}` body: the fields to change; `null` removes an optional
/// one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstitutionPatch {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    url: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    email: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    image: Option<Value>,
    #[serde(default)]
    language: Option<String>,
}

/// A field that is present, `null` included (absent: `None`, by `default`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// An optional field of a patch: absent keeps, `null` removes, a string sets.
fn patched(
    field: &str,
    given: Option<Value>,
    current: Option<String>,
) -> Result<Option<String>, AppError> {
    match given {
        None => Ok(current),
        Some(Value::Null) => Ok(None),
        Some(Value::String(v)) => Ok(Some(v)),
        Some(_) => Err(AppError::unprocessable(
            field,
            "a string, or null to remove it",
        )),
    }
}

/// `PATCH /api/v1/institutions/{slug}`.
pub async fn update(
    State(s): State<HttpState>,
    auth: Authenticated,
    Path(slug): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let current = visible(&s, &auth, &slug).await?;
    let patch: InstitutionPatch = read(body)?;
    let f = current.fields;
    let fields = Fields {
        name: patch.name.map_or(f.name, |n| n.trim().to_owned()),
        url: patched("url", patch.url, f.url)?,
        email: patched("email", patch.email, f.email)?,
        description: patched("description", patch.description, f.description)?,
        image: patched("image", patch.image, f.image)?,
        language: patch.language.unwrap_or(f.language),
    };
    let updated = institution::update(&s.app.store, &slug, &fields).await?;
    tracing::info!(institution = %slug, by = %auth.who, "institution updated");
    Ok(axum::Json(document(&s, &updated)).into_response())
}
