//! The public verification page `/verify`, for employers with only a browser: choose or drop a
//! badge image, paste a link, JSON or a JWT, or open `/verify?url=...` (what a QR code on a printed
//! CV points to). French by default, English with `lang=en`. No JavaScript: a plain form posted as
//! `multipart/form-data`; the answer starts with one plain sentence, then the badge, then the
//! details of every check.
//!
//! The optional email is hashed and compared inside the verifier (`recipient` check); it is never
//! stored, logged, or put back in the page.

use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;

use super::HttpState;
use super::html::escape;
use super::verify_answer::answer;
use crate::verify::MAX_URL_BYTES;

/// The two languages of the page (moved to `super::i18n`, where every page finds it).
pub use super::i18n::Lang;

#[derive(Debug, Deserialize)]
pub struct VerifyPageQuery {
    lang: Option<String>,
    url: Option<String>,
}

/// `GET /verify[?url=...][&lang=en]`: the form, or the answer for a link.
pub async fn get(
    State(s): State<HttpState>,
    headers: HeaderMap,
    query: Result<Query<VerifyPageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).ok();
    let lang = Lang::pick(q.as_ref().and_then(|q| q.lang.as_deref()), &headers);
    let url = q
        .and_then(|q| q.url)
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    let Some(url) = url else {
        return page(lang, StatusCode::OK, &form(lang, None));
    };
    if url.len() > MAX_URL_BYTES {
        let msg = lang.t("Ce lien est trop long.", "This link is too long.");
        return page(lang, StatusCode::BAD_REQUEST, &form(lang, Some(msg)));
    }
    let report = s.app.verifier.verify_url(&url, None).await;
    page(
        lang,
        StatusCode::OK,
        &answer(lang, &report, None, Some(&url)),
    )
}

/// `POST /verify` (multipart form): `file` (PNG, SVG, JSON or JWT file), or `badge` (a link, JSON
/// or a JWT as text), optional `recipient` (email), `lang`.
pub async fn post(
    State(s): State<HttpState>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let mut lang = Lang::pick(None, &headers);
    let mut form_in = match read_form(multipart).await {
        Ok(f) => f,
        Err(problem) => {
            let msg = problem.message(lang);
            return page(lang, problem.status(), &form(lang, Some(&msg)));
        }
    };
    if let Some(l) = form_in.lang.as_deref() {
        lang = Lang::pick(Some(l), &headers);
    }
    let recipient = form_in
        .recipient
        .take()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    let text = form_in
        .badge
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let (report, image, url) = match (&form_in.file, text) {
        (Some(file), _) => {
            let report = s
                .app
                .verifier
                .verify_bytes(file, recipient.as_deref())
                .await;
            (report, image_data_uri(file), None)
        }
        (None, Some(t)) if t.starts_with("https://") || t.starts_with("http://") => {
            let report = s.app.verifier.verify_url(t, recipient.as_deref()).await;
            (report, None, Some(t.to_string()))
        }
        (None, Some(t)) => {
            let report = s
                .app
                .verifier
                .verify_bytes(t.as_bytes(), recipient.as_deref())
                .await;
            (report, None, None)
        }
        (None, None) => {
            let msg = lang.t(
                "Choisissez l'image du badge, ou collez son lien ou son texte.",
                "Choose the badge image, or paste its link or its text.",
            );
            return page(lang, StatusCode::BAD_REQUEST, &form(lang, Some(msg)));
        }
    };
    page(
        lang,
        StatusCode::OK,
        &answer(lang, &report, image.as_deref(), url.as_deref()),
    )
}

#[derive(Debug, Default)]
struct FormInput {
    file: Option<Vec<u8>>,
    badge: Option<String>,
    recipient: Option<String>,
    lang: Option<String>,
}

enum FormProblem {
    TooLarge,
    Malformed,
}

impl FormProblem {
    fn status(&self) -> StatusCode {
        match self {
            FormProblem::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            FormProblem::Malformed => StatusCode::BAD_REQUEST,
        }
    }
    fn message(&self, lang: Lang) -> String {
        match self {
            FormProblem::TooLarge => lang
                .t(
                    "Ce fichier est trop gros. Un badge pèse en général moins de 1 Mo.",
                    "This file is too large. A badge usually weighs less than 1 MB.",
                )
                .into(),
            FormProblem::Malformed => lang
                .t(
                    "Le formulaire n'a pas pu être lu. Réessayez.",
                    "The form could not be read. Please try again.",
                )
                .into(),
        }
    }
}

/// Text fields are short; the file is bounded by the server's body limit.
const MAX_TEXT_FIELD: usize = 2 * 1024 * 1024;

async fn read_form(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<FormInput, FormProblem> {
    let mut multipart = multipart.map_err(|_| FormProblem::Malformed)?;
    let mut out = FormInput::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_problem(&e)),
        };
        let name = field.name().unwrap_or("").to_string();
        let bytes = field.bytes().await.map_err(|e| multipart_problem(&e))?;
        match name.as_str() {
            "file" if !bytes.is_empty() => out.file = Some(bytes.to_vec()),
            "badge" | "recipient" | "lang" => {
                if bytes.len() > MAX_TEXT_FIELD {
                    return Err(FormProblem::TooLarge);
                }
                let text = String::from_utf8(bytes.to_vec()).map_err(|_| FormProblem::Malformed)?;
                match name.as_str() {
                    "badge" => out.badge = Some(text),
                    "recipient" => out.recipient = Some(text),
                    _ => out.lang = Some(text),
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn multipart_problem(e: &axum::extract::multipart::MultipartError) -> FormProblem {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        FormProblem::TooLarge
    } else {
        FormProblem::Malformed
    }
}

/// The uploaded image, to show it back (a data URI: the page stays self-contained).
fn image_data_uri(file: &[u8]) -> Option<String> {
    let mime = if file.starts_with(crate::bake::png::SIGNATURE) {
        "image/png"
    } else if String::from_utf8_lossy(&file[..file.len().min(1024)]).contains("<svg") {
        "image/svg+xml"
    } else {
        return None;
    };
    Some(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(file)
    ))
}

fn page(lang: Lang, status: StatusCode, body: &str) -> Response {
    let title = lang.t("Vérifier un badge", "Verify a badge");
    let other = match lang {
        Lang::Fr => r#"<a href="/verify?lang=en" lang="en" hreflang="en">English</a>"#,
        Lang::En => r#"<a href="/verify?lang=fr" lang="fr" hreflang="fr">Français</a>"#,
    };
    let html = format!(
        r#"<!doctype html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – carnet</title>
<style>{STYLE}</style>
</head>
<body>
<header><nav aria-label="{nav}"><a href="/verify?lang={code}">{title}</a> · {other}</nav></header>
<main id="main">
{body}
</main>
</body>
</html>
"#,
        code = lang.code(),
        nav = lang.t("Langue et accueil", "Language and home"),
    );
    let mut resp = (status, Html(html)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;font-size:1.25rem;line-height:1.6;max-width:46rem;margin:0 auto;padding:1rem;color:#111;background:#fff}\
h1{font-size:2rem;line-height:1.25}h2{font-size:1.5rem;margin-top:2rem}\
a{color:#0645ad}a:focus,button:focus,input:focus,textarea:focus,summary:focus{outline:3px solid #b35c00;outline-offset:2px}\
label{display:block;font-weight:bold;margin-top:1.25rem}\
input,textarea,button{font:inherit}textarea,input[type=email]{width:100%;box-sizing:border-box;border:2px solid #333;padding:.5rem}\
input[type=file]{padding:.5rem 0}\
button{margin-top:1.5rem;padding:.75rem 1.5rem;background:#1a4d8f;color:#fff;border:0;border-radius:.3rem;cursor:pointer}\
.hint{font-size:1rem;color:#333;margin:.25rem 0}\
.verdict{border:4px solid;padding:1rem;border-radius:.5rem}.verdict h2{margin-top:0}\
.valid{border-color:#1b6e20;background:#eef8ee}.invalid{border-color:#a30000;background:#fdeeee}.indeterminate{border-color:#8a5a00;background:#fff6e0}\
.badge img{max-width:12rem;height:auto}dl dt{font-weight:bold;margin-top:.75rem}dl dd{margin-left:0}\
.checks li{margin:.5rem 0}.error{color:#a30000;font-weight:bold}";

fn form(lang: Lang, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    format!(
        r#"<h1>{title}</h1>
<p>{intro}</p>
{error}
<form method="post" action="/verify" enctype="multipart/form-data">
<input type="hidden" name="lang" value="{code}">
<label for="file">{file_label}</label>
<p class="hint" id="file-hint">{file_hint}</p>
<input type="file" id="file" name="file" accept="image/png,image/svg+xml,.png,.svg,.json,.jwt,.txt" aria-describedby="file-hint">
<label for="badge">{text_label}</label>
<p class="hint" id="badge-hint">{text_hint}</p>
<textarea id="badge" name="badge" rows="4" aria-describedby="badge-hint"></textarea>
<label for="recipient">{email_label}</label>
<p class="hint" id="recipient-hint">{email_hint}</p>
<input type="email" id="recipient" name="recipient" autocomplete="off" aria-describedby="recipient-hint">
<button type="submit">{submit}</button>
</form>
<p class="hint">{about}</p>"#,
        code = lang.code(),
        title = lang.t("Vérifier un badge", "Verify a badge"),
        intro = lang.t(
            "Vous avez reçu un badge ? Vérifiez ici qu'il est vrai, qui l'a donné, et s'il est toujours valable.",
            "Did you receive a badge? Check here that it is real, who gave it, and whether it still holds."
        ),
        file_label = lang.t("1. Choisissez l'image du badge", "1. Choose the badge image"),
        file_hint = lang.t(
            "Un fichier PNG ou SVG. Vous pouvez aussi le glisser ici.",
            "A PNG or SVG file. You can also drop it here."
        ),
        text_label = lang.t(
            "Ou collez le lien du badge, ou son texte",
            "Or paste the badge's link, or its text"
        ),
        text_hint = lang.t(
            "Un lien qui commence par https://, ou le texte JSON ou JWT du badge.",
            "A link starting with https://, or the badge's JSON or JWT text."
        ),
        email_label = lang.t(
            "2. Adresse email de la personne (si vous voulez)",
            "2. The person's email address (optional)"
        ),
        email_hint = lang.t(
            "Pour vérifier que le badge a été donné à cette personne. L'adresse n'est pas gardée.",
            "To check that the badge was given to this person. The address is not kept."
        ),
        submit = lang.t("Vérifier le badge", "Verify the badge"),
        about = lang.t(
            "Ce service vérifie les Open Badges 2.0 et 3.0 de tous les émetteurs.",
            "This service verifies Open Badges 2.0 and 3.0 from any issuer."
        ),
    )
}
