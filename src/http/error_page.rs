//! Error answers for people and for programs, decided in one place: a middleware around the whole
//! router ([`negotiate`]).
//!
//! - Under `/api/`, always RFC 9457 problem JSON. axum's own rejections (a bad percent-encoding in
//!   the path, a body over the limit, a wrong content type, JSON that does not fit) answer
//!   `text/plain`; they are turned into the same problem shape as [`AppError`].
//! - Elsewhere, a browser (its `Accept` prefers `text/html`) gets an HTML page in its language, in
//!   the page shell: what happened in plain words, the detail when it helps, and a way back. A
//!   5xx page never shows detail. Any non-HTML error body becomes that page, the OB 2.0 answer
//!   for a withdrawn badge (`410`, JSON-LD with its `revocationReason`) included. Programs keep
//!   problem JSON, as under `/api/`.
//!
//! Never touched: a successful answer (< 400), an answer that is already HTML (the endorser's and
//! the verifier's own error pages), and a JSON error body answered to a program. Headers are kept
//! (`WWW-Authenticate` on 401, `Retry-After` on 429); at most [`MAX_ERROR_BODY`] bytes of an error
//! body are read.

use askama::Template;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::AppError;
use super::html::{PageRequest, Shell, Site, render};

/// The most of an error body read to rewrite it; a longer one is answered without its detail.
const MAX_ERROR_BODY: usize = 16 * 1024;
/// The most of a detail shown on a page (characters).
const MAX_DETAIL_CHARS: usize = 500;

/// Does the client prefer HTML over JSON? `Accept` with q-values: `text/html` (or XHTML) must be
/// listed and weigh more than any JSON type. `*/*` alone, or no `Accept`, is a program.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (mut html, mut json) = (0.0_f32, 0.0_f32);
    for range in accept.split(',') {
        let mut params = range.split(';');
        let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = params
            .find_map(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .or_else(|| p.strip_prefix("Q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        if media == "text/html" || media == "application/xhtml+xml" {
            html = html.max(q);
        } else if media.ends_with("/json") || media.ends_with("+json") {
            json = json.max(q);
        }
    }
    html > 0.0 && html > json
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The middleware (`axum::middleware::from_fn_with_state` with the [`Site`]).
pub async fn negotiate(State(site): State<Site>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let api = is_api(&path);
    let page = (!api && prefers_html(request.headers()))
        .then(|| PageRequest::new(request.uri(), request.headers()));
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("text/html") {
        return response;
    }
    let mut response = match page {
        Some(page) => html_page(&site, &page, &path, response).await,
        // a program: problem JSON stays, any JSON body too; plain text becomes problem JSON
        None if content_type.contains("json") => response,
        None => problem_json(response).await,
    };
    if !api {
        // the same address answers HTML or JSON by `Accept`, in the visitor's language
        response.headers_mut().insert(
            header::VARY,
            HeaderValue::from_static("Accept, Accept-Language"),
        );
    }
    response
}

/// The body of an error response, if it is short enough; nothing for a 5xx (never shown).
async fn read_detail(status: StatusCode, body: Body) -> Option<Vec<u8>> {
    if status.is_server_error() {
        return None;
    }
    axum::body::to_bytes(body, MAX_ERROR_BODY)
        .await
        .ok()
        .map(|b| b.to_vec())
}

/// Copies `from`'s headers onto `to`, except the body's type and length.
fn keep_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for name in from.keys() {
        if name == header::CONTENT_TYPE || name == header::CONTENT_LENGTH {
            continue;
        }
        to.remove(name);
        for value in from.get_all(name) {
            to.append(name.clone(), value.clone());
        }
    }
}

/// The problem `type` code of a rejection that carries none, by status.
fn code_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_server_error() => "internal",
        _ => "error",
    }
}

/// A plain-text (or empty) error answered as problem JSON, its headers kept.
async fn problem_json(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let text = read_detail(parts.status, body)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .filter(|t| !t.is_empty());
    let detail = text.unwrap_or_else(|| {
        parts
            .status
            .canonical_reason()
            .unwrap_or("Error")
            .to_string()
    });
    let mut problem = AppError::new(parts.status, code_of(parts.status), detail).into_response();
    keep_headers(&parts.headers, problem.headers_mut());
    problem
}

/// Which message explains this error to a person (`error.{kind}.title` and `.text`).
fn kind_of(status: StatusCode, path: &str) -> &'static str {
    // an institution's own documents under /issuers/{slug}/ are read as the instance's
    let path = path
        .strip_prefix("/issuers/")
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(path);
    let badge = path.starts_with("/credentials/") || path.starts_with("/ob2/assertions/");
    let class = path.starts_with("/badge-classes/") || path.starts_with("/ob2/badge-classes/");
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 if badge => "badge_not_found",
        404 if class => "class_not_found",
        404 => "not_found",
        405 => "method",
        409 => "conflict",
        410 if badge => "badge_gone",
        410 => "gone",
        413 => "too_large",
        415 => "unsupported",
        422 => "unprocessable",
        429 => "too_many",
        500..=599 => "server",
        _ => "other",
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    text: String,
    /// Why a badge was withdrawn, when its issuer said so (public in the OB 2.0 answer).
    reason: Option<String>,
    /// « Erreur 404 »
    status: String,
    /// What the server said (4xx only; in English, for whoever helps the visitor).
    detail: Option<String>,
}

/// The error as a page in the visitor's language, its headers kept.
async fn html_page(site: &Site, page: &PageRequest, path: &str, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let status = parts.status;
    let body = read_detail(status, body).await.unwrap_or_default();
    let (detail, reason) = match serde_json::from_slice::<Value>(&body) {
        Ok(v) => (
            v.get("detail").and_then(Value::as_str).map(str::to_string),
            v.get("revocationReason")
                .and_then(Value::as_str)
                .map(str::to_string),
        ),
        Err(_) => (
            Some(String::from_utf8_lossy(&body).trim().to_string()),
            None,
        ),
    };
    let detail = detail
        .filter(|d| !d.is_empty() && !status.is_server_error())
        .map(|d| match d.char_indices().nth(MAX_DETAIL_CHARS) {
            Some((i, _)) => format!("{}…", &d[..i]),
            None => d,
        });
    let lang = page.lang;
    let kind = kind_of(status, path);
    let code = status.as_u16().to_string();
    // how long to wait, when the server said it (`Retry-After` in seconds)
    let wait = parts
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|_| kind == "too_many");
    let error = ErrorPage {
        shell: page.shell_for(site, lang.msg(&format!("error.{kind}.title")).to_string()),
        text: match wait {
            Some(seconds) => lang.fill("error.too_many.wait", &[("seconds", &seconds.to_string())]),
            None => lang.msg(&format!("error.{kind}.text")).to_string(),
        },
        reason: reason
            .filter(|r| !r.trim().is_empty())
            .map(|r| lang.fill("error.reason", &[("reason", r.trim())])),
        status: lang.fill("error.status", &[("status", &code)]),
        detail,
    };
    let mut html = render(status, &error);
    keep_headers(&parts.headers, html.headers_mut());
    html
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::extract::DefaultBodyLimit;
    use axum::routing::{get, post};
    use tower::ServiceExt as _;

    use super::super::i18n::Lang;
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, value.parse().unwrap());
        h
    }

    #[test]
    fn browsers_prefer_html_and_programs_do_not() {
        // Firefox, Chromium
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
        )));
        assert!(prefers_html(&accept("text/html")));
        assert!(prefers_html(&accept("application/json;q=0.5, text/html")));
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!prefers_html(&accept("*/*")));
        assert!(!prefers_html(&accept("application/json")));
        assert!(!prefers_html(&accept(
            "application/ld+json, text/html;q=0.5"
        )));
        assert!(!prefers_html(&accept("text/html, application/json")));
        assert!(!prefers_html(&accept("text/html;q=0")));
        assert!(!prefers_html(&accept("image/png,image/*;q=0.8,*/*;q=0.5")));
    }

    #[test]
    fn every_kind_of_error_has_its_words_in_both_languages() {
        for code in [
            400, 401, 403, 404, 405, 409, 410, 413, 415, 418, 422, 429, 500, 502, 503,
        ] {
            let status = StatusCode::from_u16(code).unwrap();
            for path in ["/", "/credentials/x", "/badge-classes/x"] {
                let kind = kind_of(status, path);
                for lang in Lang::ALL {
                    for part in ["title", "text"] {
                        let key = format!("error.{kind}.{part}");
                        assert_ne!(lang.msg(&key), key, "{code} {path}: no {key}");
                    }
                }
            }
        }
        assert_eq!(
            Lang::Fr.msg(&format!(
                "error.{}.title",
                kind_of(StatusCode::GONE, "/ob2/assertions/x")
            )),
            "Ce badge a été retiré."
        );
    }

    fn site() -> Site {
        Site {
            institution: "IME Les Tilleuls".into(),
            issuer_path: "/issuers/ime".into(),
        }
    }

    /// A router answering axum's own rejections, behind the middleware.
    fn app() -> Router {
        Router::new()
            .route(
                "/api/echo",
                post(|axum::Json(v): axum::Json<Vec<String>>| async move { axum::Json(v) }),
            )
            .route(
                "/page/{n}",
                get(
                    |axum::extract::Path(n): axum::extract::Path<u32>| async move { n.to_string() },
                ),
            )
            .route(
                "/api/boom",
                get(|| async { (StatusCode::BAD_GATEWAY, "secret upstream 10.0.0.7") }),
            )
            .route(
                "/boom",
                get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "secret at db.rs:12") }),
            )
            .route("/ok", get(|| async { "fine" }))
            .layer(DefaultBodyLimit::max(64))
            .layer(axum::middleware::from_fn_with_state(site(), negotiate))
    }

    async fn call(
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, HeaderMap, String) {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = app()
            .oneshot(req.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    const BROWSER: (&str, &str) = ("accept", "text/html,*/*;q=0.8");

    fn assert_problem(status: StatusCode, headers: &HeaderMap, body: &str, code: u16) {
        assert_eq!(status.as_u16(), code, "{body}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(v["status"], code, "{v}");
        assert!(
            v["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:carnet:error:")),
            "{v}"
        );
        assert!(v["title"].is_string() && v["detail"].is_string(), "{v}");
    }

    #[tokio::test]
    async fn axum_rejections_under_api_are_problem_json_even_for_a_browser() {
        let json = ("content-type", "application/json");
        // 415: no JSON content type
        let (st, h, b) = call("POST", "/api/echo", &[BROWSER], "{}").await;
        assert_problem(st, &h, &b, 415);
        // 400: not JSON; 422: JSON of the wrong shape
        let (st, h, b) = call("POST", "/api/echo", &[json], "nope").await;
        assert_problem(st, &h, &b, 400);
        let (st, h, b) = call("POST", "/api/echo", &[json, BROWSER], "[1]").await;
        assert_problem(st, &h, &b, 422);
        assert!(b.contains("invalid type"), "{b}");
        // 413: over the body limit
        let big = format!("[\"{}\"]", "x".repeat(200));
        let (st, h, b) = call("POST", "/api/echo", &[json, BROWSER], &big).await;
        assert_problem(st, &h, &b, 413);
        // 405
        let (st, h, b) = call("GET", "/api/echo", &[BROWSER], "").await;
        assert_problem(st, &h, &b, 405);
        assert!(h.contains_key(header::ALLOW), "{h:?}");
        // 5xx: no detail
        let (st, h, b) = call("GET", "/api/boom", &[], "").await;
        assert_problem(st, &h, &b, 502);
        assert!(!b.contains("10.0.0.7"), "{b}");
    }

    #[tokio::test]
    async fn a_browser_gets_a_page_in_its_language_and_a_program_problem_json() {
        // bad path segment, French by default
        let (st, h, b) = call("GET", "/page/abc", &[BROWSER], "").await;
        assert_eq!(st, 400);
        assert!(
            h[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(b.contains("<html lang=\"fr\">"), "{b}");
        assert!(
            b.contains("<h1>Cette demande n&#x27;est pas correcte.</h1>")
                || b.contains("<h1>Cette demande n&#39;est pas correcte.</h1>"),
            "{b}"
        );
        assert!(b.contains("href=\"/page/abc?lang=en\""), "{b}");
        // in English by ?lang=, then by Accept-Language
        let (_, _, b) = call("GET", "/page/abc?lang=en", &[BROWSER], "").await;
        assert!(b.contains("<html lang=\"en\">") && b.contains("This request is not correct."));
        let (_, _, b) = call(
            "GET",
            "/page/abc",
            &[BROWSER, ("accept-language", "en-GB,en;q=0.8")],
            "",
        )
        .await;
        assert!(b.contains("<html lang=\"en\">"), "{b}");
        // a program
        let (st, h, b) = call("GET", "/page/abc", &[("accept", "application/json")], "").await;
        assert_problem(st, &h, &b, 400);
        assert_eq!(h[header::VARY], "Accept, Accept-Language");
        // 5xx page: no detail
        let (st, _, b) = call("GET", "/boom", &[BROWSER], "").await;
        assert_eq!(st, 500);
        assert!(b.contains("Un problème est arrivé de notre côté."), "{b}");
        assert!(!b.contains("db.rs"), "{b}");
        // success untouched
        let (st, h, b) = call("GET", "/ok", &[BROWSER], "").await;
        assert_eq!((st, b.as_str()), (StatusCode::OK, "fine"));
        assert!(!h.contains_key(header::VARY));
    }
}
