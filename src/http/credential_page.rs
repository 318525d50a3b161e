//! The page a person sees when they open a badge's link in a browser (`/credentials/{id}`, the
//! address printed on a CV): first its state now, from the store — valid, withdrawn (when, why),
//! no longer valid (since when), not valid yet — in the words, colours and icons of the
//! verification answer; then the badge, who gave it, its endorsements, a « Vérifier ce badge »
//! link, the badge class and the issuer; the signed files under « Informations techniques ».
//! Open Graph tags make a shared link preview the badge. The badge's images are cacheable, kept
//! an hour then revalidated by their `ETag` (`public.rs`).

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::html::{PageRequest, Shell, markdown, render};
use super::i18n::Lang;
use super::verify_answer::long_date;
use crate::endorsement::profile::{declared, made_by_carnet};
use crate::own_documents::AwardState;
use crate::store::Award;

/// The state box: CSS class, icon, first sentence, what follows it.
pub(super) struct StateView {
    pub class: &'static str,
    pub icon: &'static str,
    pub sentence: String,
    pub more: Vec<String>,
}

pub(super) struct EvidenceView {
    title: String,
    narrative: Option<String>,
    url: Option<String>,
}

pub(super) struct EndorsementView {
    who: String,
    role: Option<String>,
    on: Option<String>,
    comment: Option<String>,
    made_by_carnet: bool,
}

#[derive(Template)]
#[template(path = "credential.html")]
struct CredentialPage {
    shell: Shell,
    state: StateView,
    name: String,
    language: String,
    url: String,
    image: String,
    image_alt: String,
    og_description: String,
    given: String,
    verify_href: String,
    criteria: Option<String>,
    narrative: Option<String>,
    evidence: Vec<EvidenceView>,
    endorsements: Vec<EndorsementView>,
    class_href: Option<String>,
}

fn day(lang: Lang, d: DateTime<Utc>) -> String {
    long_date(lang, &d.to_rfc3339()).unwrap_or_default()
}

/// The state box of an award, as the verification answer words it.
pub(super) fn state_view(lang: Lang, state: &AwardState, issuer: &str) -> StateView {
    match state {
        AwardState::Valid { until } => StateView {
            class: "verdict-valid",
            icon: "✔",
            sentence: lang.msg("badge.state.valid").to_string(),
            more: until
                .iter()
                .map(|u| lang.fill("badge.state.valid_until", &[("date", &day(lang, *u))]))
                .collect(),
        },
        AwardState::Revoked { at, reason } => StateView {
            class: "verdict-invalid",
            icon: "✘",
            sentence: lang.fill(
                "badge.state.revoked",
                &[("issuer", issuer), ("date", &day(lang, *at))],
            ),
            more: std::iter::once(lang.msg("badge.state.revoked_more").to_string())
                .chain(
                    reason
                        .iter()
                        .map(|r| lang.fill("badge.state.revoked_reason", &[("reason", r)])),
                )
                .collect(),
        },
        AwardState::Expired { since } => StateView {
            class: "verdict-invalid",
            icon: "✘",
            sentence: lang.fill("badge.state.expired", &[("date", &day(lang, *since))]),
            more: vec![],
        },
        AwardState::NotYetValid { from } => StateView {
            class: "verdict-indeterminate",
            icon: "…",
            sentence: lang.fill("badge.state.not_yet", &[("date", &day(lang, *from))]),
            more: vec![],
        },
    }
}

/// The page of `award` (its stored credential `cred`), whose public address is `url`.
pub(super) fn render_page(
    page: &PageRequest,
    shell_site: &super::html::Site,
    award: &Award,
    cred: &Value,
    url: &str,
    class_href: Option<String>,
) -> Response {
    let lang = page.lang;
    let text = |p: &str| {
        cred.pointer(p)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let name = text("/name")
        .or_else(|| text("/credentialSubject/achievement/name"))
        .unwrap_or_default();
    let issuer = text("/issuer/name").unwrap_or_else(|| shell_site.institution.clone());
    let state = state_view(lang, &AwardState::of(award, Utc::now()), &issuer);
    let recipient = cred
        .pointer("/credentialSubject/identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|i| {
            i.get("identityType").and_then(Value::as_str) == Some("name")
                && i.get("hashed").and_then(Value::as_bool) != Some(true)
        })
        .and_then(|i| i.get("identityHash").and_then(Value::as_str));
    let on = day(lang, award.valid_from);
    let given = match recipient {
        Some(to) => lang.fill(
            "badge.given_to",
            &[("name", to), ("issuer", &issuer), ("date", &on)],
        ),
        None => lang.fill("badge.given", &[("issuer", &issuer), ("date", &on)]),
    };
    let evidence = cred
        .get("evidence")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| EvidenceView {
            title: e
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| lang.msg("badge.evidence").to_string()),
            narrative: e.get("narrative").and_then(Value::as_str).map(markdown),
            url: e
                .get("id")
                .and_then(Value::as_str)
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .map(str::to_string),
        })
        .collect();
    let endorsements = cred
        .get("endorsement")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            let description = e
                .pointer("/issuer/description")
                .and_then(Value::as_str)
                .unwrap_or("");
            let id = e
                .pointer("/issuer/id")
                .and_then(Value::as_str)
                .unwrap_or("");
            let by_carnet = made_by_carnet(id, description);
            let said = declared(description).filter(|_| by_carnet);
            EndorsementView {
                who: e
                    .pointer("/issuer/name")
                    .and_then(Value::as_str)
                    .unwrap_or(lang.msg("badge.unnamed"))
                    .to_string(),
                role: said.map(|d| match d.organisation {
                    Some(org) => format!(
                        "{}, {}",
                        d.role.trim_end_matches('.'),
                        org.trim_end_matches('.')
                    ),
                    None => d.role.trim_end_matches('.').to_string(),
                }),
                on: ["validFrom", "issuanceDate"]
                    .iter()
                    .find_map(|k| e.get(*k).and_then(Value::as_str))
                    .and_then(|d| long_date(lang, d)),
                comment: e
                    .pointer("/credentialSubject/endorsementComment")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                made_by_carnet: by_carnet,
            }
        })
        .collect();
    let og_description = format!("{} {given}", state.sentence);
    let shell: Shell = page.shell_for(shell_site, name.clone());
    let verify_href = shell.href(&format!("/verify?url={}", percent_encode(url)));
    let body = CredentialPage {
        verify_href,
        image_alt: text("/credentialSubject/achievement/image/caption")
            .unwrap_or_else(|| name.clone()),
        image: format!("{url}.png"),
        language: text("/credentialSubject/achievement/inLanguage")
            .or_else(|| text("/inLanguage"))
            .unwrap_or_else(|| "fr".into()),
        criteria: text("/credentialSubject/achievement/criteria/narrative").map(|c| markdown(&c)),
        narrative: text("/credentialSubject/narrative").map(|n| markdown(&n)),
        shell,
        state,
        name,
        url: url.to_string(),
        og_description,
        given,
        evidence,
        endorsements,
        class_href,
    };
    let mut resp = render(StatusCode::OK, &body);
    // the state is live: browsers ask again each time
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    resp
}

/// A URL as one query value (RFC 3986 unreserved characters kept).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
