//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API and the verification
//! page (`openapi.json` next to this file, kept in step with the handlers by `tests/http_verify.rs`,
//! which checks every documented path answers and every report validates against its schema).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> Response {
    let mut resp = DOCUMENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}
