//! The awards a carnet earns (bearer token): `GET /api/v1/carnets/{id}/proposals` lists them, with
//! the near misses explained; `POST /api/v1/carnets/{id}/proposals/{badge_class}/confirm` is the
//! educator's confirmation, which issues the award (OB 3.0 + OB 2.0) once, whatever the retries.

use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppError;
use super::api::{Caller, Tenanted};
use super::api::{award_urls, body_error};
use super::referentiels::{
    carnet_referentiel, carnet_url, find_carnet, require_json, with_location,
};
use crate::award_rules::award::{self, Confirmation};
use crate::badge_class::BadgeClass;
use crate::recipient::Email;
use crate::store::Carnet;

fn confirm_url(base: &str, carnet: &Carnet, class: &BadgeClass) -> String {
    format!(
        "{}/proposals/{}/confirm",
        carnet_url(base, carnet.id),
        class.slug
    )
}

/// `GET /api/v1/carnets/{id}/proposals`.
pub async fn list(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let carnet = find_carnet(&s, &id).await?;
    let referentiel = carnet_referentiel(&s, &carnet).await?;
    let listed =
        award::proposals(s.app.store.as_ref(), &s.app.classes, &carnet, &referentiel).await?;
    let base = &s.app.issuer.base_url;
    let doc = award::proposals_document(
        &carnet,
        &referentiel,
        &listed,
        |class| confirm_url(base, &carnet, class),
        |a| award_urls(&s.app.issuer.docs, a),
    );
    Ok(axum::Json(doc).into_response())
}

/// The confirmation's optional body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    /// The person's email again (must be the carnet's): the award then gets a fresh salted hash.
    #[serde(default)]
    recipient_email: Option<String>,
    /// Published in the badge only when given.
    #[serde(default)]
    recipient_name: Option<String>,
    #[serde(default)]
    evidence_url: Option<String>,
    #[serde(default)]
    narrative: Option<String>,
    #[serde(default)]
    valid_until: Option<String>,
}

/// `POST /api/v1/carnets/{id}/proposals/{badge_class}/confirm`: 201 with the award when issued
/// now, 200 with the same award when it was issued before (a retry), 409 with the reasons when
/// the carnet does not (or no longer) earn the class.
pub async fn confirm(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    headers: HeaderMap,
    Path((id, slug)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = body.map_err(body_error)?;
    let req: ConfirmBody = if body.iter().all(u8::is_ascii_whitespace) {
        ConfirmBody::default()
    } else {
        require_json(&headers)?;
        crate::json::parse(&body)
            .map_err(|e| AppError::unprocessable("(body)", format!("invalid JSON body: {e}")))?
    };
    let carnet = find_carnet(&s, &id).await?;
    let class = s
        .app
        .class(&slug)
        .ok_or_else(|| AppError::not_found(format!("no badge class \"{slug}\"")))?;
    let referentiel = carnet_referentiel(&s, &carnet).await?;
    let confirmation = Confirmation {
        recipient_email: req
            .recipient_email
            .as_deref()
            .map(Email::parse)
            .transpose()
            .map_err(|e| AppError::unprocessable("recipient_email", e))?,
        recipient_name: req.recipient_name,
        evidence_url: req.evidence_url,
        narrative: req.narrative,
        valid_until: req
            .valid_until
            .as_deref()
            .map(crate::issue::parse_valid_until)
            .transpose()
            .map_err(|e| AppError::unprocessable("valid_until", e))?,
    };
    let outcome = award::confirm(
        &s.app.issuer,
        s.app.store.as_ref(),
        class,
        &carnet,
        &referentiel,
        confirmation,
        &format!("api:{who}"),
    )
    .await;
    let (issued, created) = match outcome {
        Ok(done) => done,
        Err(e) => return Err(e.into()),
    };
    let base = &s.app.issuer.base_url;
    let mut doc = award_urls(&s.app.issuer.docs, &issued);
    doc["carnet"] = json!(carnet.id);
    doc["already_issued"] = (!created).into();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    with_location(
        (status, axum::Json(doc)).into_response(),
        &format!("{base}/api/v1/awards/{}", issued.id),
    )
}
