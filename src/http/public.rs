//! Public, unauthenticated documents: what verifiers, wallets and browsers fetch.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::html::{escape, markdown, page};
use super::{AppError, HttpState, wants_html};
use crate::ob3::credential::{achievement, achievement_id};

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

pub async fn home(State(s): State<HttpState>) -> Html<String> {
    let issuer = &s.app.issuer;
    let mut classes = String::new();
    for c in s.app.classes.values() {
        classes.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>",
            escape(&achievement_id(&issuer.base_url, c)),
            escape(&c.name)
        ));
    }
    Html(page(
        "fr",
        "carnet",
        &format!(
            "<h1>{}</h1><p>Cette institution donne des badges numériques (Open Badges).</p>\
             <h2>Les badges</h2><ul>{classes}</ul><p><a href=\"{}\">Qui donne ces badges ?</a></p>",
            escape(&issuer.settings.name),
            escape(&issuer.id())
        ),
    ))
}

pub async fn health(State(s): State<HttpState>) -> Result<axum::Json<Value>, AppError> {
    s.app.store.ping().await?;
    Ok(axum::Json(
        json!({"status": "ok", "database": s.app.store.backend(), "version": env!("CARGO_PKG_VERSION")}),
    ))
}

pub async fn jwks(State(s): State<HttpState>) -> Response {
    json_ld(s.app.issuer.jwks(), "application/jwk-set+json")
}

pub(super) fn check_issuer(s: &HttpState, slug: &str) -> Result<(), AppError> {
    if s.app.issuer.slug() == slug {
        Ok(())
    } else {
        Err(AppError::not_found(format!("no issuer \"{slug}\"")))
    }
}

pub async fn issuer_profile(
    State(s): State<HttpState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    check_issuer(&s, &slug)?;
    let issuer = &s.app.issuer;
    if wants_html(&headers) {
        let st = &issuer.settings;
        let mut body = format!("<h1>{}</h1>", escape(&st.name));
        if let Some(d) = &st.description {
            body.push_str(&format!("<p>{}</p>", escape(d)));
        }
        if let Some(u) = &st.url {
            body.push_str(&format!("<p>Site : <a href=\"{0}\">{0}</a></p>", escape(u)));
        }
        if let Some(e) = &st.email {
            body.push_str(&format!(
                "<p>Contact : <a href=\"mailto:{0}\">{0}</a></p>",
                escape(e)
            ));
        }
        body.push_str(&format!(
            "<p class=\"note\">Clés publiques : <a href=\"{}\">document DID</a>, <a href=\"{}\">JWKS</a>.</p>",
            escape(&issuer.did_document_url()),
            escape(&format!("{}/.well-known/jwks.json", issuer.base_url))
        ));
        return Ok(Html(page("fr", &st.name, &body)).into_response());
    }
    Ok(json_ld(issuer.profile_document(), "application/ld+json"))
}

pub async fn did_document(
    State(s): State<HttpState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    check_issuer(&s, &slug)?;
    Ok(json_ld(s.app.issuer.did_document(), "application/did+json"))
}

pub async fn key(
    State(s): State<HttpState>,
    Path((slug, kid)): Path<(String, String)>,
) -> Result<Response, AppError> {
    check_issuer(&s, &slug)?;
    let jwk = s
        .app
        .issuer
        .key_jwk(&kid)
        .ok_or_else(|| AppError::not_found(format!("no key \"{kid}\"")))?;
    Ok(json_ld(jwk, "application/jwk+json"))
}

pub async fn badge_class(
    State(s): State<HttpState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let class = s
        .app
        .class(&slug)
        .ok_or_else(|| AppError::not_found(format!("no badge class \"{slug}\"")))?;
    let base = &s.app.issuer.base_url;
    if wants_html(&headers) {
        let mut body = format!(
            "<h1>{}</h1><img src=\"{}/image.png\" alt=\"{}\">\
             <h2>Pour qui ?</h2>{}<h2>Ce que le badge montre</h2>{}<h2 id=\"criteria\">Ce que je dois faire</h2>{}\
             <h2>Les preuves</h2>{}<h2>Qui peut me recommander ?</h2><ul>{}</ul>",
            escape(&class.name),
            escape(&achievement_id(base, class)),
            escape(class.image_caption.as_deref().unwrap_or(&class.name)),
            markdown(&class.for_whom),
            markdown(&class.description),
            markdown(&class.criteria),
            markdown(&class.evidence_expected),
            class
                .endorsers
                .iter()
                .map(|w| format!("<li>{}</li>", escape(w)))
                .collect::<String>(),
        );
        if !class.alignments.is_empty() {
            body.push_str("<h2>Compétences liées</h2><ul>");
            for (i, a) in class.alignments.iter().enumerate() {
                body.push_str(&format!(
                    "<li id=\"alignment-{}\">{} {} : {}{}</li>",
                    i + 1,
                    escape(&a.framework),
                    escape(a.target_code.as_deref().unwrap_or("")),
                    escape(&a.target_name),
                    a.level
                        .as_ref()
                        .map(|l| format!(" ({})", escape(l)))
                        .unwrap_or_default()
                ));
            }
            body.push_str("</ul>");
        }
        if !class.rules.is_empty() {
            body.push_str("<h2>Les compétences reconnues</h2><ul>");
            for rule in &class.rules {
                body.push_str(&format!(
                    "<li id=\"{}\">{}</li>",
                    escape(&crate::ob3::recognition::competence_anchor(
                        &rule.referentiel,
                        &rule.competence
                    )),
                    escape(&rule_sentence(rule))
                ));
            }
            body.push_str("</ul>");
        }
        return Ok(Html(page(&class.language, &class.name, &body)).into_response());
    }
    let mut doc = json!({"@context": [crate::issuer::VC_V2_CONTEXT, crate::issuer::OB3_CONTEXT]});
    for (k, v) in achievement(base, class).as_object().expect("object") {
        doc[k] = v.clone();
    }
    doc["creator"] = s.app.issuer.profile();
    Ok(json_ld(doc, "application/ld+json"))
}

/// A rule in one sentence: « Référentiel rectec, compétence 1 : au moins « cercle-2 », réponse
/// « je fais », validée par un jury. »
fn rule_sentence(rule: &crate::award_rules::Rule) -> String {
    use crate::referentiel::carnet::{Answer, Recognition};
    let mut text = format!(
        "Référentiel {}{}, compétence {}",
        rule.referentiel,
        rule.version
            .as_ref()
            .map(|v| format!(" (version {v})"))
            .unwrap_or_default(),
        rule.competence
    );
    if let Some(level) = &rule.minimum_level {
        text.push_str(&format!(", niveau {level} au moins"));
    }
    text.push_str(match rule.answer {
        Answer::JeFaisEnPartie => ", réponse « je fais » ou « je fais en partie »",
        _ => ", réponse « je fais »",
    });
    text.push_str(match rule.recognition {
        Recognition::Declared => ", validée par un jury ou déclarée.",
        Recognition::Validated => ", validée par un jury.",
    });
    text
}

pub async fn badge_class_image(
    State(s): State<HttpState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let class = s
        .app
        .class(&slug)
        .ok_or_else(|| AppError::not_found(format!("no badge class \"{slug}\"")))?;
    Ok((
        [(header::CONTENT_TYPE, "image/png")],
        class.image_png.clone(),
    )
        .into_response())
}

/// `/credentials/{uuid}[.json|.jwt|.png|.svg]`; without an extension, by `Accept`.
#[derive(Debug, serde::Deserialize)]
pub struct ImageQuery {
    /// `di` (default) or `jwt`: which signed form to bake into an image.
    proof: Option<String>,
}

pub async fn credential(
    State(s): State<HttpState>,
    Path(file): Path<String>,
    query: Result<Query<ImageQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Query(q) = query?;
    let (id, ext) = file.split_once('.').unwrap_or((&file, ""));
    let id: Uuid = id
        .parse()
        .map_err(|_| AppError::not_found("no such credential"))?;
    let award = s
        .app
        .store
        .get_award(id)
        .await?
        .ok_or_else(|| AppError::not_found("no such credential"))?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ext = match ext {
        "" if wants_html(&headers) => "html",
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
            Ok(Html(credential_page(
                &v,
                &format!("{}/credentials/{}", s.app.issuer.base_url, award.id),
            ))
            .into_response())
        }
        "jwt" => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            crate::issue::vc_jwt(&s.app.issuer, s.app.store.as_ref(), &award)
                .await
                .map_err(|e| AppError::internal(e.to_string()))?,
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
            Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
        }
        _ => Err(AppError::not_found(
            "unknown format: use .json, .jwt, .png or .svg",
        )),
    }
}

/// A plain page for people who open a credential's link: what the badge is, who gave it, when, and
/// the files to download. Short sentences (FALC), French.
fn credential_page(cred: &Value, base: &str) -> String {
    let text = |p: &str| cred.pointer(p).and_then(Value::as_str).unwrap_or("");
    let date = |p: &str| {
        chrono::DateTime::parse_from_rfc3339(text(p))
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_default()
    };
    let name = cred
        .pointer("/credentialSubject/identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|i| i.get("identityType").and_then(Value::as_str) == Some("name"))
        .and_then(|i| i.get("identityHash").and_then(Value::as_str));
    let mut body = format!(
        "<h1>{}</h1><img src=\"{base}.png\" alt=\"{}\">",
        escape(text("/name")),
        escape(text("/credentialSubject/achievement/image/caption"))
    );
    body.push_str(&format!(
        "<p>Ce badge a été donné{} par <strong>{}</strong> le {}.</p>",
        name.map(|n| format!(" à <strong>{}</strong>", escape(n)))
            .unwrap_or_default(),
        escape(text("/issuer/name")),
        date("/validFrom")
    ));
    if cred.get("validUntil").is_some() {
        body.push_str(&format!(
            "<p>Il est valable jusqu'au {}.</p>",
            date("/validUntil")
        ));
    }
    body.push_str(&format!(
        "<h2>Ce que j'ai montré</h2>{}",
        markdown(text("/credentialSubject/achievement/criteria/narrative"))
    ));
    for evidence in cred
        .get("evidence")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let title = evidence
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("La preuve");
        body.push_str(&format!("<h2>{}</h2>", escape(title)));
        if let Some(n) = evidence.get("narrative").and_then(Value::as_str) {
            body.push_str(&markdown(n));
        }
        if let Some(u) = evidence.get("id").and_then(Value::as_str) {
            body.push_str(&format!(
                "<p><a href=\"{0}\">Voir la preuve</a></p>",
                escape(u)
            ));
        }
    }
    body.push_str(&format!(
        "<h2>Télécharger</h2><ul><li><a href=\"{base}.png\">L'image du badge (PNG)</a></li>\
         <li><a href=\"{base}.svg\">L'image du badge (SVG)</a></li>\
         <li><a href=\"{base}.json\">Le badge signé (JSON, Open Badges 3.0)</a></li>\
         <li><a href=\"{base}.jwt\">Le badge signé (JWT)</a></li></ul>\
         <p class=\"note\">Pour vérifier ce badge : <code>POST /api/v1/verify</code> avec l'image.</p>"
    ));
    page("fr", text("/name"), &body)
}

/// `GET /issuers/{slug}/status/{purpose}/{list}`: the signed BitstringStatusListCredential.
pub async fn status_list(
    State(s): State<HttpState>,
    Path((slug, purpose, list)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    check_issuer(&s, &slug)?;
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
