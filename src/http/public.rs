//! Public, unauthenticated documents: what verifiers, wallets and browsers fetch. The home page,
//! the JWK set, the issuer's Profile, DID document and keys, badge classes and their images, the
//! signed status lists, and each award as `/credentials/{id}` (its page, `.json`, `.jwt`, `.png`,
//! `.svg`; images cacheable with an `ETag`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::error_page::prefers_html;
use super::html::{PageRequest, Shell, markdown, render};
use super::i18n::Lang;
use super::{AppError, HttpState};
use crate::badge_class::BadgeClass;
use crate::ob3::credential::achievement;

pub(super) fn json_ld(value: Value, content_type: &'static str) -> Response {
    with_json_ld_headers(axum::Json(value).into_response(), content_type)
}

/// A stored JSON document sent as it was stored (no parse, no re-serialisation).
pub(super) fn json_ld_text(text: String, content_type: &'static str) -> Response {
    with_json_ld_headers(text.into_response(), content_type)
}

fn with_json_ld_headers(mut resp: Response, content_type: &'static str) -> Response {
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

/// A badge class in a list: its page, its name and the language it is written in.
struct ClassLink {
    path: String,
    name: String,
    language: String,
}

fn class_links(s: &HttpState) -> Vec<ClassLink> {
    s.app
        .classes
        .values()
        .map(|c| ClassLink {
            path: format!("{}/badge-classes/{}", s.app.issuer.docs_path(), c.slug),
            name: c.name.clone(),
            language: c.language.clone(),
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    description: Option<String>,
    classes: Vec<ClassLink>,
}

/// `GET /`: who this institution is, its badges, and where to verify one.
pub async fn home(State(s): State<HttpState>, page: PageRequest) -> Response {
    // the institution at the instance's own paths, as it is now (another node may have changed it)
    let s = documents_of(&s, None).await.unwrap_or(s);
    render(
        StatusCode::OK,
        &HomePage {
            shell: page.shell(&s, page.lang.msg("home.title")),
            description: s.app.issuer.settings.description.clone(),
            classes: class_links(&s),
        },
    )
}

pub async fn health(State(s): State<HttpState>) -> Result<axum::Json<Value>, AppError> {
    s.app.store.ping().await?;
    Ok(axum::Json(
        json!({"status": "ok", "database": s.app.store.backend(), "version": env!("CARGO_PKG_VERSION")}),
    ))
}

/// The JWK set of the institution at the instance's own paths (each institution's keys also
/// answer one by one at `/issuers/{slug}/keys/{kid}`, the VC-JWT `kid`).
pub async fn jwks(State(s): State<HttpState>) -> Result<Response, AppError> {
    let s = documents_of(&s, None).await?;
    Ok(json_ld(s.app.issuer.jwks(), "application/jwk-set+json"))
}

/// The state acting for the institution `slug` (named in the URL, or owning what the URL
/// names); 404 when there is none.
pub(super) async fn scoped(s: &HttpState, slug: &str) -> Result<HttpState, AppError> {
    match s.app.for_institution(slug).await? {
        Some(app) => Ok(HttpState { app, ..s.clone() }),
        None => Err(AppError::not_found(format!("no issuer \"{slug}\""))),
    }
}

/// The state acting for the institution whose documents answer at the instance's own paths
/// (`/badge-classes/…`, `/credentials/…`, `/ob2/…`), or for `inst` when the URL starts with
/// `/issuers/{inst}/`.
pub(super) async fn documents_of(s: &HttpState, inst: Option<&str>) -> Result<HttpState, AppError> {
    let slug = inst.unwrap_or(s.app.tenants.instance_slug()).to_owned();
    let scoped = scoped(s, &slug).await?;
    // an institution's documents answer at one place only
    let at_instance_paths = scoped.app.issuer.docs == scoped.app.issuer.base_url;
    if inst.is_some() == at_instance_paths {
        return Err(AppError::not_found("no such page"));
    }
    Ok(scoped)
}

#[derive(askama::Template)]
#[template(path = "issuer.html")]
struct IssuerPage {
    shell: Shell,
    image: Option<String>,
    logo_alt: String,
    description: Option<String>,
    website: Option<String>,
    email: Option<String>,
    classes: Vec<ClassLink>,
    did: String,
    did_document: String,
    jwks: String,
    ob2_profile: String,
}

/// `GET /issuers/{slug}`: the Profile (and controller document) for programs; for a browser, who
/// the institution is and its badges, then where its public keys are.
pub async fn issuer_profile(
    State(s): State<HttpState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    page: PageRequest,
) -> Result<Response, AppError> {
    let s = scoped(&s, &slug).await?;
    let issuer = &s.app.issuer;
    if prefers_html(&headers) {
        let st = &issuer.settings;
        return Ok(render(
            StatusCode::OK,
            &IssuerPage {
                shell: page.shell(&s, st.name.clone()),
                image: st.image.clone(),
                logo_alt: page.lang.fill("issuer.logo_alt", &[("name", &st.name)]),
                description: st.description.clone(),
                website: st.url.clone(),
                email: st.email.clone(),
                classes: class_links(&s),
                did: issuer.did(),
                did_document: issuer.did_document_url(),
                jwks: format!("{}/.well-known/jwks.json", issuer.base_url),
                ob2_profile: format!("{}/ob2/issuers/{}", issuer.base_url, issuer.slug()),
            },
        ));
    }
    Ok(json_ld(issuer.profile_document(), "application/ld+json"))
}

pub async fn did_document(
    State(s): State<HttpState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let s = scoped(&s, &slug).await?;
    Ok(json_ld(s.app.issuer.did_document(), "application/did+json"))
}

pub async fn key(
    State(s): State<HttpState>,
    Path((slug, kid)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let s = scoped(&s, &slug).await?;
    let jwk = s
        .app
        .issuer
        .key_jwk(&kid)
        .ok_or_else(|| AppError::not_found(format!("no key \"{kid}\"")))?;
    Ok(json_ld(jwk, "application/jwk+json"))
}

#[derive(askama::Template)]
#[template(path = "badge_class.html")]
struct BadgeClassPage<'a> {
    shell: Shell,
    class: &'a BadgeClass,
    /// The class's language when the page is in the other one (`lang` on its name).
    other_lang: Option<&'a str>,
    image: String,
    image_alt: &'a str,
    // the class's Markdown texts, as HTML (escaped by `markdown`)
    for_whom: String,
    description: String,
    criteria: String,
    evidence: String,
    /// Each award rule: its anchor (the credential's alignments point to it) and its sentence.
    rules: Vec<(String, String)>,
}

/// `GET /badge-classes/{slug}`: the Achievement for programs; for a browser, what the badge
/// shows, for whom, what to do, and the competences it recognises.
/// The path of a badge class: `/badge-classes/{class}` or `/issuers/{slug}/badge-classes/{class}`.
#[derive(Debug, serde::Deserialize)]
pub struct ClassPath {
    #[serde(rename = "slug")]
    inst: Option<String>,
    class: String,
}

/// The path of an award's document: `/credentials/{file}` or `/issuers/{slug}/credentials/{file}`
/// (and the same under `ob2/assertions/`).
#[derive(Debug, serde::Deserialize)]
pub struct FilePath {
    #[serde(rename = "slug")]
    pub(super) inst: Option<String>,
    pub(super) file: String,
}

pub async fn badge_class(
    State(s): State<HttpState>,
    Path(ClassPath { inst, class: slug }): Path<ClassPath>,
    headers: HeaderMap,
    page: PageRequest,
) -> Result<Response, AppError> {
    let s = documents_of(&s, inst.as_deref()).await?;
    let class = s
        .app
        .class(&slug)
        .ok_or_else(|| AppError::not_found(format!("no badge class \"{slug}\"")))?;
    let base = &s.app.issuer.base_url;
    if prefers_html(&headers) {
        return Ok(render(
            StatusCode::OK,
            &BadgeClassPage {
                shell: page.shell(&s, class.name.clone()),
                class,
                other_lang: Some(class.language.as_str()).filter(|l| *l != page.lang.code()),
                image: format!(
                    "{}/badge-classes/{}/image.png",
                    s.app.issuer.docs_path(),
                    class.slug
                ),
                image_alt: class.image_caption.as_deref().unwrap_or(&class.name),
                for_whom: markdown(&class.for_whom),
                description: markdown(&class.description),
                criteria: markdown(&class.criteria),
                evidence: markdown(&class.evidence_expected),
                rules: class
                    .rules
                    .iter()
                    .map(|rule| {
                        (
                            crate::ob3::recognition::competence_anchor(
                                &rule.referentiel,
                                &rule.competence,
                            ),
                            rule_sentence(page.lang, rule),
                        )
                    })
                    .collect(),
            },
        ));
    }
    let mut doc = json!({"@context": [crate::issuer::VC_V2_CONTEXT, crate::issuer::OB3_CONTEXT]});
    for (k, v) in achievement(base, class).as_object().expect("object") {
        doc[k] = v.clone();
    }
    doc["creator"] = s.app.issuer.profile();
    Ok(json_ld(doc, "application/ld+json"))
}

/// A rule in one sentence: « Référentiel rectec, compétence 1, niveau cercle-2 au moins, réponse
/// « je fais », validée par un jury. »
fn rule_sentence(lang: Lang, rule: &crate::badge_class::rules::Rule) -> String {
    use crate::referentiel::carnet::{Answer, Recognition};
    let mut text = lang.fill(
        "class.rule.referentiel",
        &[("referentiel", &rule.referentiel)],
    );
    if let Some(v) = &rule.version {
        text.push_str(&lang.fill("class.rule.version", &[("version", v)]));
    }
    text.push_str(&lang.fill("class.rule.competence", &[("competence", &rule.competence)]));
    if let Some(level) = &rule.minimum_level {
        text.push_str(&lang.fill("class.rule.level", &[("level", level)]));
    }
    text.push_str(lang.msg(match rule.answer {
        Answer::JeFaisEnPartie => "class.rule.answer_partial",
        _ => "class.rule.answer_full",
    }));
    text.push_str(lang.msg(match rule.recognition {
        Recognition::Declared => "class.rule.declared",
        Recognition::Validated => "class.rule.validated",
    }));
    text
}

pub async fn badge_class_image(
    State(s): State<HttpState>,
    Path(ClassPath { inst, class: slug }): Path<ClassPath>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let s = documents_of(&s, inst.as_deref()).await?;
    let class = s
        .app
        .class(&slug)
        .ok_or_else(|| AppError::not_found(format!("no badge class \"{slug}\"")))?;
    Ok(cacheable_image(
        &headers,
        "image/png",
        class.image_png.clone(),
    ))
}

/// `/credentials/{uuid}[.json|.jwt|.png|.svg]`; without an extension, by `Accept`.
#[derive(Debug, serde::Deserialize)]
pub struct ImageQuery {
    /// `di` (default) or `jwt`: which signed form to bake into an image.
    proof: Option<String>,
}

pub async fn credential(
    State(s): State<HttpState>,
    Path(FilePath { inst, file }): Path<FilePath>,
    query: Result<Query<ImageQuery>, QueryRejection>,
    headers: HeaderMap,
    page: super::html::PageRequest,
) -> Result<Response, AppError> {
    let Query(q) = query?;
    let s = documents_of(&s, inst.as_deref()).await?;
    let (id, ext) = file.split_once('.').unwrap_or((&file, ""));
    let id: Uuid = id
        .parse()
        .map_err(|_| AppError::not_found("no such credential"))?;
    let award = s
        .app
        .store
        .get_award(id)
        .await?
        .filter(|a| a.issuer_slug == s.app.issuer.slug())
        .ok_or_else(|| AppError::not_found("no such credential"))?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ext = match ext {
        "" if prefers_html(&headers) => "html",
        "" if accept.contains("text/plain") || accept.contains("jwt") => "jwt",
        "" => "json",
        other => other,
    };
    let class = s.app.class(&award.badge_class_slug);
    match ext {
        "json" => {
            let v: Value = serde_json::from_str(&award.credential_json)
                .map_err(|e| AppError::internal(e.to_string()))?;
            Ok(json_ld(v, "application/vc+ld+json"))
        }
        "html" => {
            let v: Value = serde_json::from_str(&award.credential_json)
                .map_err(|e| AppError::internal(e.to_string()))?;
            let class_href =
                class.map(|c| format!("{}/badge-classes/{}", s.app.issuer.docs_path(), c.slug));
            Ok(super::credential_page::render_page(
                &page,
                &super::html::Site::of(&s),
                &award,
                &v,
                &crate::ob3::credential::credential_url(&s.app.issuer.docs, award.id),
                class_href,
            ))
        }
        "jwt" => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            crate::issue::vc_jwt(&s.app.issuer, s.app.store.as_ref(), &award).await?,
        )
            .into_response()),
        "png" | "svg" => {
            let class = class.ok_or_else(|| {
                AppError::new(
                    StatusCode::GONE,
                    "gone",
                    "the badge class of this credential was removed",
                )
            })?;
            let form = match q.proof.as_deref() {
                None => crate::baked::Proof::DataIntegrity,
                Some(p) => crate::baked::Proof::parse(p).ok_or_else(|| {
                    AppError::bad_request(format!("proof=\"{p}\": use di or jwt")).field("proof")
                })?,
            };
            let signed =
                crate::baked::signed_form(&s.app.issuer, s.app.store.as_ref(), &award, form)
                    .await
                    .map_err(|e| AppError::internal(e.to_string()))?;
            let (bytes, content_type) = if ext == "png" {
                (
                    crate::baked::png(class, &signed)
                        .map_err(|e| AppError::internal(e.to_string()))?,
                    "image/png",
                )
            } else {
                (
                    crate::baked::svg(class, form, signed)
                        .map_err(|e| AppError::internal(e.to_string()))?
                        .into_bytes(),
                    "image/svg+xml",
                )
            };
            Ok(cacheable_image(&headers, content_type, bytes))
        }
        _ => Err(AppError::not_found(
            "unknown format: use .json, .jwt, .png or .svg",
        )),
    }
}

/// A badge image with its cache headers: kept an hour, then revalidated by its `ETag` (an
/// endorsement re-signs the badge, so the image may change; a withdrawal does not change it, the
/// status list says it).
pub(super) fn cacheable_image(
    headers: &HeaderMap,
    content_type: &'static str,
    bytes: Vec<u8>,
) -> Response {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(&bytes);
    let etag = format!(
        "\"{}\"",
        digest[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
    };
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    resp
}

/// `GET /issuers/{slug}/status/{purpose}/{list}`: the signed BitstringStatusListCredential.
pub async fn status_list(
    State(s): State<HttpState>,
    Path((slug, purpose, list)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let s = scoped(&s, &slug).await?;
    let purpose: crate::status::StatusPurpose = purpose
        .parse()
        .map_err(|_| AppError::not_found(format!("no status purpose \"{purpose}\"")))?;
    let list: u32 = list
        .parse()
        .map_err(|_| AppError::not_found("no such status list"))?;
    let doc = s
        .app
        .status
        .signed_list(purpose, list)
        .await
        .map_err(|e| match e {
            crate::status_publisher::PublishError::Store(e) => AppError::from(e),
            other => AppError::internal(other.to_string()),
        })?
        .ok_or_else(|| AppError::not_found("no such status list"))?;
    let mut resp = json_ld(doc, "application/vc+ld+json");
    // A revocation must be seen at once: verifiers revalidate every time.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}
