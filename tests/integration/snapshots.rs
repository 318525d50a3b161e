//! Snapshots of what carnet answers, whole: the API's JSON (an award, its credential, verification
//! reports, a badge request and its events), RFC 9457 problem documents, and rendered pages. An
//! assertion on one field says what a test author thought of; a snapshot shows every field, header
//! and sentence, so an unintended change (a field renamed, a detail leaked, a translation lost)
//! shows up in review.
//!
//! A snapshot is the status, the headers a client acts on and the body (JSON pretty-printed in the
//! server's own order), after [`redact`] has replaced what changes from run to run — ids, dates,
//! keys, signatures, the test server's port — by placeholders such as `[uuid-1]` and `[datetime]`.
//! The pages' inline stylesheet is left out (`[css]`): it is the same on every page.
//!
//! The snapshots live in `snapshots/` next to this file. After an intended change, rewrite them
//! with `INSTA_UPDATE=always cargo test --test integration snapshots::`, then read the diff
//! (`git diff tests/integration/snapshots/`) before committing it. Without `INSTA_UPDATE`, a
//! mismatch fails the test and leaves a `.snap.new` beside the old file; with `CI` set, it fails
//! without writing anything.

use std::collections::HashMap;
use std::fmt::Write as _;

use insta::assert_snapshot;
use serde_json::{Value, json};

use crate::common;
use common::server::*;

const AUTH: &str = "Bearer 0123456789abcdefghijklmnopqrstuv";

/// The headers a client acts on; the others (`date`, `content-length`) say nothing about carnet.
const HEADERS: [&str; 8] = [
    "content-type",
    "location",
    "www-authenticate",
    "allow",
    "vary",
    "cache-control",
    "etag",
    "content-language",
];

/// A response as a snapshot shows it: status, [`HEADERS`], body; redacted.
fn show(r: &Resp) -> String {
    let mut out = format!("{}\n", r.status);
    for name in HEADERS {
        for value in r.headers.get_all(name) {
            let value = value.to_str().unwrap_or("(not text)");
            let value = if name == "etag" { "[etag]" } else { value };
            writeln!(out, "{name}: {value}").unwrap();
        }
    }
    out.push('\n');
    if r.header("content-type").contains("json") && !r.body.is_empty() {
        out.push_str(&serde_json::to_string_pretty(&r.json()).unwrap());
    } else {
        out.push_str(&without_css(&r.text()));
    }
    redact(&out)
}

/// The page with its inline stylesheet left out: one copy of `carnet.css` per page snapshot would
/// make every style change a change of every snapshot.
fn without_css(html: &str) -> String {
    match (html.find("<style>"), html.find("</style>")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}<style>[css]{}", &html[..start], &html[end..])
        }
        _ => html.to_string(),
    }
}

const MONTHS: [&str; 24] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Replaces what differs from one run to the next by a placeholder:
///
/// - the test server's address `http://127.0.0.1:PORT` (also percent-encoded) → `[base]`, its
///   host in a `did:web` (`127.0.0.1%3APORT`) or alone → `[host]`;
/// - UUIDs → `[uuid-N]`, numbered by first appearance, so that two mentions of one id still show
///   they are the same;
/// - RFC 3339 date-times → `[datetime]`, dates `YYYY-MM-DD` → `[date]`, dates in words
///   (« 12 juin 2025 », "12 June 2025") → `[long date]`, French short dates `07/12/2026` →
///   `[date]`;
/// - compact JWS (`eyJ….….…`) → `[jwt]`;
/// - 64 hex digits (SHA-256 hashes) → `[sha256]`, other runs of 32 hex digits or more → `[hex]`;
/// - runs of 40 or more base64url / base58 characters that mix upper case, lower case and digits
///   (proof values, multibase keys, tokens) → `[key]`.
///
/// Only whole words are replaced: a word is a run of `[A-Za-z0-9_-]`, and a percent-escape
/// (`%2F`) ends one.
/// A credential's slot in its status list, drawn at random (`status/shuffle.rs`).
fn redact_status_index(text: &str) -> String {
    let mut text = text.to_owned();
    for key in ["\"statusListIndex\": \"", "\"statusListIndex\":\""] {
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(key) {
            let (before, after) = rest.split_at(at + key.len());
            out.push_str(before);
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                out.push_str("[index]");
            }
            rest = &after[digits..];
        }
        out.push_str(rest);
        text = out;
    }
    // the status entry's id: …/status/revocation/LIST#INDEX
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("/status/revocation/") {
        let (before, after) = rest.split_at(at + "/status/revocation/".len());
        out.push_str(before);
        let list = after.bytes().take_while(u8::is_ascii_digit).count();
        let (list_part, after) = after.split_at(list);
        out.push_str(list_part);
        rest = after;
        if let Some(index) = rest.strip_prefix('#') {
            let digits = index.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                out.push_str("#[index]");
                rest = &index[digits..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn redact(text: &str) -> String {
    let text = &redact_status_index(text);
    // the address is marked with a NUL (`[base]`) or a SOH (`[host]`), its port dropped below
    let text = text
        .replace("http%3A%2F%2F127.0.0.1%3A", "http://127.0.0.1:")
        .replace("http://127.0.0.1:", "\u{0}")
        .replace("127.0.0.1%3A", "\u{1}")
        .replace("127.0.0.1:", "\u{1}");
    let mut uuids: HashMap<&str, usize> = HashMap::new();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().unwrap_or_default();
        if c == '\u{0}' || c == '\u{1}' {
            let port = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
            out.push_str(if c == '\u{0}' { "[base]" } else { "[host]" });
            i += 1 + port;
            continue;
        }
        let escape = rest.as_bytes().get(1..3);
        if c == '%' && escape.is_some_and(|e| e.iter().all(u8::is_ascii_hexdigit)) {
            out.push_str(&rest[..3]);
            i += 3;
            continue;
        }
        if !is_word(c) {
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let word = rest.split(|c: char| !is_word(c)).next().unwrap_or(rest);
        if let Some(n) = jwt(rest) {
            out.push_str("[jwt]");
            i += n;
        } else if let Some(n) = datetime(rest) {
            out.push_str("[datetime]");
            i += n;
        } else if let Some(n) = long_date(rest) {
            out.push_str("[long date]");
            i += n;
        } else if is_uuid(word) {
            let next = uuids.len() + 1;
            let n = *uuids.entry(word).or_insert(next);
            write!(out, "[uuid-{n}]").unwrap();
            i += word.len();
        } else if let Some(n) = short_date(rest) {
            out.push_str("[date]");
            i += n;
        } else if is_date(word) {
            out.push_str("[date]");
            i += word.len();
        } else {
            out.push_str(match word {
                w if w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()) => "[sha256]",
                w if w.len() >= 32 && w.bytes().all(|b| b.is_ascii_hexdigit()) => "[hex]",
                w if w.len() >= 40 && is_mixed(w) => "[key]",
                w => w,
            });
            i += word.len();
        }
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// `n` ASCII digits at the start of `b`.
fn digits(b: &[u8], n: usize) -> bool {
    b.len() >= n && b[..n].iter().all(u8::is_ascii_digit)
}

/// `2025-06-12`, as a whole word.
fn is_date(word: &str) -> bool {
    word.len() == 10 && date_at(word.as_bytes())
}

/// `2025-06-12` at the start of `b`.
fn date_at(b: &[u8]) -> bool {
    b.len() >= 10
        && digits(b, 4)
        && b[4] == b'-'
        && digits(&b[5..], 2)
        && b[7] == b'-'
        && digits(&b[8..], 2)
}

/// The length of an RFC 3339 date-time at the start of `s` (`T` or a space between the date and
/// the time; fractional seconds and the offset optional).
fn datetime(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let hms = b.len() >= 19
        && date_at(b)
        && matches!(b[10], b'T' | b' ')
        && digits(&b[11..], 2)
        && b[13] == b':'
        && digits(&b[14..], 2)
        && b[16] == b':'
        && digits(&b[17..], 2);
    if !hms {
        return None;
    }
    let mut n = 19;
    if b.get(n) == Some(&b'.') {
        n += 1 + b[n + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
    }
    match b.get(n) {
        Some(b'Z') => n += 1,
        Some(b'+' | b'-') if digits(&b[n + 1..], 2) && b.get(n + 3) == Some(&b':') => n += 6,
        _ => {}
    }
    Some(n)
}

/// The length of `07/12/2026` at the start of `s`.
fn short_date(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let date = b.len() >= 10
        && digits(b, 2)
        && b[2] == b'/'
        && digits(&b[3..], 2)
        && b[5] == b'/'
        && digits(&b[6..], 4);
    (date && !b.get(10).is_some_and(u8::is_ascii_digit)).then_some(10)
}

/// The length of « 12 juin 2025 » or "12 June 2025" at the start of `s`.
fn long_date(s: &str) -> Option<usize> {
    let day = s.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=2).contains(&day) || !s[day..].starts_with(' ') {
        return None;
    }
    let after_day = &s[day + 1..];
    let month = MONTHS.iter().find(|m| after_day.starts_with(*m))?;
    let year = &after_day[month.len()..];
    let year = year.strip_prefix(' ')?.as_bytes();
    digits(year, 4).then_some(day + 1 + month.len() + 5)
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(word: &str) -> bool {
    let groups: Vec<&str> = word.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The length of a compact JWS (`eyJ…` header, payload, signature) at the start of `s`.
fn jwt(s: &str) -> Option<usize> {
    if !s.starts_with("eyJ") {
        return None;
    }
    let b64 = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-';
    let mut n = 0;
    for part in 0..3 {
        if part > 0 {
            if s.as_bytes().get(n) != Some(&b'.') {
                return None;
            }
            n += 1;
        }
        n += s[n..].bytes().take_while(b64).count();
    }
    Some(n)
}

/// Upper case, lower case and digits together: what encoded random bytes look like, and what
/// words and slugs do not.
fn is_mixed(word: &str) -> bool {
    word.bytes().any(|b| b.is_ascii_uppercase())
        && word.bytes().any(|b| b.is_ascii_lowercase())
        && word.bytes().any(|b| b.is_ascii_digit())
}

/// `s` as a query value: everything but the unreserved characters percent-encoded.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn post_json(s: &Server, path: &str, body: &Value) -> Resp {
    s.request(
        Some(body.to_string().into_bytes()),
        path,
        &[("content-type", JSON), ("authorization", AUTH)],
    )
    .await
}

#[test]
fn redaction_replaces_what_changes_and_keeps_words() {
    let text = "http://127.0.0.1:40123/credentials/67e55044-10b1-426f-9247-bb680e5fe0c8.json \
                67e55044-10b1-426f-9247-bb680e5fe0c8 0b5b2a2c-1f2e-4b7a-8a7d-3f0e2d1c4b5a \
                2025-06-12T10:01:02.123456Z 2025-06-12T10:01:02+02:00 2025-06-12 \
                le 3 mars 2025, on 22 November 2026 \
                eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl \
                sha256$0a4d55a8d778e5022fab701977c5d840bbc486d0a4d55a8d778e5022fab70197 \
                z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gkfUKods5D2UA \
                /verify?url=http%3A%2F%2F127.0.0.1%3A40123%2Fcredentials%2F67e55044-10b1-426f-9247-bb680e5fe0c8 \
                did:web:127.0.0.1%3A40123:issuers:ime#ed25519-1 depuis le 07/12/2026. \
                securite-hygiene-au-travail 1EdTechJsonSchemaValidator2019 Sécurité 2025";
    assert_eq!(
        redact(text),
        "[base]/credentials/[uuid-1].json [uuid-1] [uuid-2] [datetime] [datetime] [date] \
         le [long date], on [long date] [jwt] sha256$[sha256] [key] \
         /verify?url=[base]%2Fcredentials%2F[uuid-1] did:web:[host]:issuers:ime#ed25519-1 \
         depuis le [date]. securite-hygiene-au-travail 1EdTechJsonSchemaValidator2019 Sécurité 2025"
    );
}

#[tokio::test]
async fn an_award_its_credential_and_their_verification() {
    let s = Server::new().await;
    let created = s.post_award(Some(TOKEN), lea().to_string()).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_snapshot!("award_created", show(&created));
    let award = created.json();

    let location = created.header("location").to_string();
    let fetched = s.request(None, &location, &[("authorization", AUTH)]).await;
    assert_snapshot!("award_fetched", show(&fetched));

    let credential = s.form(&award, "json").await;
    assert_eq!(credential.status, 200, "{}", credential.text());
    assert_snapshot!("credential_json", show(&credential));

    let valid = s.verify_raw(JSON, credential.body.clone(), None).await;
    assert_eq!(valid.json()["verdict"], "valid", "{}", valid.text());
    assert_snapshot!("verify_report_valid", show(&valid));

    let mut tampered = credential.json();
    tampered["credentialSubject"]["achievement"]["name"] = "Conduite de chariot élévateur".into();
    let invalid = s.verify_raw(JSON, tampered.to_string().into(), None).await;
    assert_eq!(invalid.json()["verdict"], "invalid", "{}", invalid.text());
    assert_snapshot!("verify_report_tampered", show(&invalid));
    s.shutdown().await;
}

#[tokio::test]
async fn problem_documents() {
    let s = Server::new().await;
    let r = s.post_award(None, lea().to_string()).await;
    assert_eq!(r.status, 401);
    assert_snapshot!("problem_401_without_token", show(&r));

    let r = s.get("/api/v1/nothing-here").await;
    assert_eq!(r.status, 404);
    assert_snapshot!("problem_404", show(&r));

    let r = s.get("/api/v1/verify").await;
    assert_eq!(r.status, 405);
    assert_snapshot!("problem_405", show(&r));

    let mut body = lea();
    body["recipient_email"] = "lea".into();
    let r = s.post_award(Some(TOKEN), body.to_string()).await;
    assert_eq!(r.status, 422);
    assert_snapshot!("problem_422_field", show(&r));

    let r = s.post_award(Some(TOKEN), r#"{"badge_class": "#).await;
    assert_eq!(r.status, 422);
    assert_snapshot!("problem_invalid_json", show(&r));

    let duplicate = format!(
        r#"{{"badge_class": "{CLASS}", "recipient_email": "lea@example.org", "badge_class": "{CLASS}"}}"#
    );
    let r = s.post_award(Some(TOKEN), duplicate).await;
    assert_eq!(r.status, 422);
    assert_snapshot!("problem_duplicate_key", show(&r));
    s.shutdown().await;

    let s = Server::with_body_limit(1024).await;
    let mut big = lea();
    big["narrative"] = "x".repeat(4000).into();
    let r = s.post_award(Some(TOKEN), big.to_string()).await;
    assert_eq!(r.status, 413);
    assert_snapshot!("problem_413", show(&r));
    s.shutdown().await;
}

#[tokio::test]
async fn a_badge_request_and_its_events() {
    let s = Server::new().await;
    let created = post_json(
        &s,
        "/api/v1/badge-requests",
        &json!({
            "badge_class": CLASS,
            "recipient_email": "lea@example.org",
            "recipient_name": "Léa",
            "narrative": "Je mets mes gants et mes lunettes à l'atelier.",
            "links": ["https://video.example.org/lea-atelier"],
            "requested_by": "Léa (apprenante)",
        }),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    let r = s
        .request(
            Some(png.to_vec()),
            &format!("/api/v1/badge-requests/{id}/evidence?filename=gants.png"),
            &[("content-type", PNG), ("authorization", AUTH)],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let steps = [
        (
            "return",
            json!({"comment": "Ajoute une photo des lunettes"}),
        ),
        ("resubmit", json!({})),
        ("approve", json!({})),
    ];
    for (action, body) in steps {
        let r = post_json(&s, &format!("/api/v1/badge-requests/{id}/{action}"), &body).await;
        assert_eq!(r.status, 200, "{action}: {}", r.text());
    }
    let r = s
        .request(
            None,
            &format!("/api/v1/badge-requests/{id}"),
            &[("authorization", AUTH)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_snapshot!("badge_request_with_events", show(&r));
    s.shutdown().await;
}

#[tokio::test]
async fn rendered_pages() {
    let s = Server::new().await;
    let award = s.issue().await;
    let credential = award["credential_id"].as_str().unwrap();

    let home = s.get_html("/").await;
    assert_eq!(home.status, 200);
    assert_snapshot!("page_home", show(&home));

    let fr = s.get_html("/verify").await;
    assert_eq!(fr.status, 200);
    assert_snapshot!("page_verify_form_fr", show(&fr));
    let en = s
        .request(
            None,
            "/verify",
            &[
                ("accept", "text/html"),
                ("accept-language", "en-GB,en;q=0.9"),
            ],
        )
        .await;
    assert_eq!(en.status, 200);
    assert_snapshot!("page_verify_form_en", show(&en));
    // `?lang=` picks the same page as the browser's preference
    assert_eq!(show(&s.get_html("/verify?lang=en").await), show(&en));

    // what the QR code of a printed badge opens
    let answer = s
        .get_html(&format!("/verify?url={}", percent_encode(credential)))
        .await;
    assert_eq!(answer.status, 200);
    assert_snapshot!("page_verify_answer", show(&answer));

    let page = s.get_html(credential).await;
    assert_eq!(page.status, 200);
    assert_snapshot!("page_credential", show(&page));

    let missing = s.get_html("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert_snapshot!("page_error_404", show(&missing));
    s.shutdown().await;
}
