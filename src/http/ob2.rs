//! Open Badges 2.0 documents (CHECKLIST §1–§2, §4): issuer Profile, CryptographicKey,
//! RevocationList, versioned BadgeClass, and each award's Assertion — hosted (JSON, `410 Gone`
//! once revoked), signed (compact JWS) and baked (PNG, SVG).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::public::{FilePath, cacheable_image, documents_of, json_ld, json_ld_text, scoped};
use super::{AppError, HttpState};
use crate::bake::{self, Keyword, SvgPayload};
use crate::ob2::{self, Ob2Urls};

const OB2_JSON: &str = "application/ld+json";

pub async fn profile(
    State(s): State<HttpState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let s = scoped(&s, &slug).await?;
    Ok(json_ld(ob2::issuer_profile(&s.app.issuer)?, OB2_JSON))
}

pub async fn key(
    State(s): State<HttpState>,
    Path((slug, kid)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let s = scoped(&s, &slug).await?;
    Ok(json_ld(
        ob2::cryptographic_key(&s.app.issuer, &kid)?,
        OB2_JSON,
    ))
}

pub async fn revocation_list(
    State(s): State<HttpState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let s = scoped(&s, &slug).await?;
    let list = s.app.own.ob2_revocation_list().await?;
    let mut resp = json_ld(list, OB2_JSON);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

/// `/ob2/badge-classes/{class}/{version}` or the same under `/issuers/{slug}/`.
#[derive(Debug, serde::Deserialize)]
pub struct ClassVersionPath {
    #[serde(rename = "slug")]
    inst: Option<String>,
    class: String,
    version: String,
}

pub async fn badge_class(
    State(s): State<HttpState>,
    Path(ClassVersionPath {
        inst,
        class: slug,
        version,
    }): Path<ClassVersionPath>,
) -> Result<Response, AppError> {
    let s = documents_of(&s, inst.as_deref()).await?;
    let doc = s
        .app
        .own
        .ob2_badge_class(&slug, &version)
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!("no version {version} of badge class \"{slug}\""))
        })?;
    Ok(json_ld(doc, OB2_JSON))
}

#[derive(Debug, serde::Deserialize)]
pub struct AssertionQuery {
    /// For images: `signed` (default: the image carries the whole signed assertion) or `hosted`.
    verification: Option<String>,
}

/// `/ob2/assertions/{uuid}[.json|.jws|.png|.svg]`.
pub async fn assertion(
    State(s): State<HttpState>,
    Path(FilePath { inst, file }): Path<FilePath>,
    query: Result<Query<AssertionQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Query(q) = query?;
    let s = documents_of(&s, inst.as_deref()).await?;
    let (id, ext) = file.split_once('.').unwrap_or((&file, ""));
    let id: Uuid = id
        .parse()
        .map_err(|_| AppError::not_found("no such assertion"))?;
    let award = s
        .app
        .store
        .get_award(id)
        .await?
        .filter(|a| a.issuer_slug == s.app.issuer.slug())
        .ok_or_else(|| AppError::not_found("no such assertion"))?;
    let Some(hosted) = &award.assertion_json else {
        return Err(AppError::not_found(
            "this award has no Open Badges 2.0 form (its issuer had no email)",
        ));
    };
    if let Some(body) = s.app.own.ob2_withdrawn(&award) {
        let mut resp = json_ld(body, OB2_JSON);
        *resp.status_mut() = StatusCode::GONE;
        return Ok(resp);
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ext = match ext {
        "" if accept.contains("text/plain") => "jws",
        "" => "json",
        other => other,
    };
    let signed = match q.verification.as_deref() {
        None | Some("signed") => true,
        Some("hosted") => false,
        Some(other) => {
            return Err(AppError::bad_request(format!(
                "verification=\"{other}\": use signed or hosted"
            ))
            .field("verification"));
        }
    };
    // the signed assertion, signed on its first download (`issue::ob2_jws`)
    let jws = if ext == "jws" || (signed && matches!(ext, "png" | "svg")) {
        crate::issue::ob2_jws(&s.app.issuer, s.app.store.as_ref(), &award)
            .await?
            .unwrap_or_default()
    } else {
        String::new()
    };
    let class = || {
        s.app.class(&award.badge_class_slug).ok_or_else(|| {
            AppError::new(
                StatusCode::GONE,
                "gone",
                "the badge class of this assertion was removed",
            )
        })
    };
    match ext {
        "json" => Ok(json_ld_text(hosted.clone(), OB2_JSON)),
        "jws" => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            jws.clone(),
        )
            .into_response()),
        "png" => {
            let class = class()?;
            let text = if signed {
                jws.as_str()
            } else {
                hosted.as_str()
            };
            let baked = class
                .png_template
                .bake(Keyword::Ob2Assertion, text)
                .map_err(|e| AppError::internal(e.to_string()))?;
            Ok(cacheable_image(&headers, "image/png", baked))
        }
        "svg" => {
            let class = class()?;
            let payload = if signed {
                SvgPayload::Jws(jws.clone())
            } else {
                SvgPayload::HostedJson {
                    url: Ob2Urls::new(&s.app.issuer).assertion(award.id),
                    json: hosted.clone(),
                }
            };
            let svg = bake::bake_svg(
                &bake::svg_wrapping_png(&class.image_png, &class.name),
                Keyword::Ob2Assertion,
                payload,
            )
            .map_err(|e| AppError::internal(e.to_string()))?;
            Ok(cacheable_image(&headers, "image/svg+xml", svg.into_bytes()))
        }
        _ => Err(AppError::not_found(
            "unknown format: use .json, .jws, .png or .svg",
        )),
    }
}
