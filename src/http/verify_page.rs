//! The public verification page `/verify`, for employers with only a browser: choose or drop a
//! badge image, paste a link, JSON or a JWT, or open `/verify?url=...` (what a QR code on a printed
//! CV points to). French by default, English with `lang=en`. No JavaScript: a plain form posted as
//! `multipart/form-data`; the answer starts with one plain sentence, then the badge, then the
//! details of every check. Templates `verify_form.html` and `verify_answer.html`; the answer as
//! data is `verify_answer.rs`.
//!
//! The optional email is hashed and compared inside the verifier (`recipient` check); it is never
//! stored, logged, or put back in the page.

use axum::extract::{FromRequest as _, Multipart, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use base64::Engine as _;
use serde::Deserialize;

use askama::Template;

use super::HttpState;
use super::api::{BodyRefusal, BodyShare};
use super::html::{PageRequest, Shell, render};
use super::verify_answer::{AnswerView, answer};
use crate::verify::MAX_URL_BYTES;
use crate::verify::report::Report;

/// The two languages of the page (moved to `super::i18n`, where every page finds it).
pub use super::i18n::Lang;

#[derive(Debug, Deserialize)]
pub struct VerifyPageQuery {
    url: Option<String>,
}

/// `GET /verify[?url=...][&lang=en]`: the form, or the answer for a link.
pub async fn get(
    State(s): State<HttpState>,
    page: PageRequest,
    query: Result<Query<VerifyPageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).ok();
    let url = q
        .and_then(|q| q.url)
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    let Some(url) = url else {
        return form_page(&s, &page, StatusCode::OK, None);
    };
    if url.len() > MAX_URL_BYTES {
        return form_page(&s, &page, StatusCode::BAD_REQUEST, Some("verify.too_long"));
    }
    let report = s.app.verifier.verify_url(&url, None).await;
    answer_page(&s, &page, &report, None, Some(&url))
}

/// `POST /verify` (multipart form): `file` (PNG, SVG, JSON or JWT file), or `badge` (a link, JSON
/// or a JWT as text), optional `recipient` (email), `lang`.
pub async fn post(State(s): State<HttpState>, mut page: PageRequest, request: Request) -> Response {
    // the form's share of the verifier's memory, taken before it is read, held until the answer
    // is written
    let (request, share) = match BodyShare::take(request).await {
        Ok(taken) => taken,
        Err(BodyRefusal::TooLarge) => {
            let problem = FormProblem::TooLarge;
            return form_page(&s, &page, problem.status(), Some(problem.message()));
        }
        Err(busy) => return busy.into_response(),
    };
    let multipart = Multipart::from_request(request, &s).await;
    let mut form_in = match read_form(multipart, share.length.unwrap_or(0)).await {
        Ok(f) => f,
        Err(problem) => {
            return form_page(&s, &page, problem.status(), Some(problem.message()));
        }
    };
    if let Some(l) = form_in.lang.as_deref().and_then(Lang::parse) {
        page.lang = l;
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
            return form_page(&s, &page, StatusCode::BAD_REQUEST, Some("verify.empty"));
        }
    };
    answer_page(&s, &page, &report, image.as_deref(), url.as_deref())
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
    /// The key of the message that says it.
    fn message(&self) -> &'static str {
        match self {
            FormProblem::TooLarge => "verify.too_large",
            FormProblem::Malformed => "verify.malformed",
        }
    }
}

/// Text fields are short; the file is bounded by the server's body limit.
const MAX_TEXT_FIELD: usize = 2 * 1024 * 1024;

/// Reads the form; `form_length` (its `Content-Length`, 0 if unknown) sizes the file's buffer
/// once, so that the file is not copied as it grows.
async fn read_form(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
    form_length: usize,
) -> Result<FormInput, FormProblem> {
    let mut multipart = multipart.map_err(|_| FormProblem::Malformed)?;
    let mut out = FormInput::default();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_problem(&e)),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let mut file = Vec::with_capacity(form_length);
            while let Some(chunk) = field.chunk().await.map_err(|e| multipart_problem(&e))? {
                file.extend_from_slice(&chunk);
            }
            if !file.is_empty() {
                out.file = Some(file);
            }
            continue;
        }
        let bytes = field.bytes().await.map_err(|e| multipart_problem(&e))?;
        match name.as_str() {
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

/// Largest uploaded image shown back in the answer. A badge image is a few dozen KiB; a larger
/// one would come back in the page a third larger (base64), copied as the page is written: the
/// badge's own image is shown instead.
const MAX_SHOWN_IMAGE_BYTES: usize = 256 * 1024;

/// The uploaded image, to show it back (a data URI: the page stays self-contained).
fn image_data_uri(file: &[u8]) -> Option<String> {
    if file.len() > MAX_SHOWN_IMAGE_BYTES {
        return None;
    }
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

#[derive(Template)]
#[template(path = "verify_form.html")]
struct FormPage {
    shell: Shell,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "verify_answer.html")]
struct AnswerPage {
    shell: Shell,
    a: AnswerView,
}

/// The form, with the message `error` (a catalogue key) above it when there is one.
fn form_page(
    s: &HttpState,
    page: &PageRequest,
    status: StatusCode,
    error: Option<&'static str>,
) -> Response {
    let lang = page.lang;
    let body = FormPage {
        shell: page.shell(s, lang.msg("verify.title")),
        error: error.map(|key| lang.msg(key)),
    };
    with_headers(render(status, &body))
}

fn answer_page(
    s: &HttpState,
    page: &PageRequest,
    report: &Report,
    image: Option<&str>,
    url: Option<&str>,
) -> Response {
    let lang = page.lang;
    let body = AnswerPage {
        shell: page.shell(s, lang.msg("verify.answer.title")),
        a: answer(lang, report, image, url),
    };
    with_headers(render(StatusCode::OK, &body))
}

/// No script, no framing, nothing kept: the answer may hold a person's name.
fn with_headers(mut resp: Response) -> Response {
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
