//! The endorser's page `/endorse/{token}`: a tutor, a colleague or a partner who has no account
//! opens the link an educator sent, reads what they are asked to endorse, and writes a
//! recommendation. In the page shell (`html.rs`), French by default, English with `?lang=en`;
//! easy to read (FALC: short sentences, one idea per line); labelled fields; no JavaScript.
//! Templates `endorse_form.html` (the form, with its problems on a 422) and
//! `endorse_message.html` (thanks, and why a link cannot be used); words in `[endorse]` of the
//! message catalogues.
//!
//! CSRF: the token is in the URL and used once, so a forged form can only spend a link its author
//! already has. A used, expired, revoked or unknown link gets a plain page (410, or 404), never an
//! error 500. The token is never logged nor sent on (`Referrer-Policy: no-referrer`), and the
//! pages are neither kept nor indexed.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::HttpState;
use super::html::{PageRequest, Shell, render};
use super::i18n::Lang;
use super::verify_answer::long_date;
use crate::endorsement::documents::endorsement_url;
use crate::endorsement::flow::{self, FlowError, LinkProblem, Opened};
use crate::endorsement::{
    EndorserInput, FieldProblem, MAX_NAME, MAX_ORGANISATION, MAX_RECOMMENDATION, MAX_ROLE,
};
use crate::store::Endorsement;

/// The form's fields (anything else is ignored).
#[derive(Debug, Default, Deserialize)]
pub struct EndorseForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    recommendation: String,
    #[serde(default)]
    consent: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

/// The state acting for the institution whose link this is (unchanged for a link that is not
/// one: the flow then says so).
async fn for_link(s: HttpState, token: &str) -> HttpState {
    if !crate::endorsement::plausible_token(token) {
        return s;
    }
    let found = s
        .app
        .store
        .find_endorsement_invitation(&crate::evidence::token_sha256(token))
        .await;
    match found {
        Ok(Some(invitation)) => super::public::scoped(&s, &invitation.issuer_slug)
            .await
            .unwrap_or(s),
        _ => s,
    }
}

/// `GET /endorse/{token}`: the form, or why the link cannot be used.
pub async fn get(
    State(s): State<HttpState>,
    Path(token): Path<String>,
    page: PageRequest,
) -> Response {
    let s = for_link(s, &token).await;
    match flow::open(&s.app, &token).await {
        Ok(opened) => form_page(
            &s,
            &page,
            StatusCode::OK,
            &token,
            &opened,
            &EndorseForm::default(),
            &[],
        ),
        Err(e) => failure(&s, &page, e),
    }
}

/// `POST /endorse/{token}` (`application/x-www-form-urlencoded`).
pub async fn post(
    State(s): State<HttpState>,
    Path(token): Path<String>,
    mut page: PageRequest,
    body: Result<Form<EndorseForm>, FormRejection>,
) -> Response {
    let s = for_link(s, &token).await;
    let fields = match body {
        Ok(Form(f)) => f,
        Err(rejection) => {
            let status = rejection.status();
            let lang = page.lang;
            let text = if status == StatusCode::PAYLOAD_TOO_LARGE {
                lang.msg("endorse.unreadable.too_long")
            } else {
                lang.msg("endorse.unreadable.text")
            };
            let title = lang.msg("endorse.unreadable.title");
            return message_page(&s, &page, status, title, vec![text.to_owned()], None);
        }
    };
    if let Some(l) = fields.lang.as_deref().and_then(Lang::parse) {
        page.lang = l;
    }
    let input = EndorserInput {
        name: fields.name.clone(),
        role: fields.role.clone(),
        organisation: fields.organisation.clone(),
        recommendation: fields.recommendation.clone(),
        consent: fields.consent.is_some(),
    };
    match flow::submit(&s.app, &token, &input).await {
        Ok((opened, endorsement)) => thanks(&s, &page, &opened, &endorsement),
        Err(FlowError::Form(problems)) => match flow::open(&s.app, &token).await {
            Ok(opened) => form_page(
                &s,
                &page,
                StatusCode::UNPROCESSABLE_ENTITY,
                &token,
                &opened,
                &fields,
                &problems,
            ),
            Err(e) => failure(&s, &page, e),
        },
        Err(e) => failure(&s, &page, e),
    }
}

/// The page for a link that cannot be used, or for our own failure (logged, never detailed).
fn failure(s: &HttpState, page: &PageRequest, e: FlowError) -> Response {
    let lang = page.lang;
    let institution = s.app.issuer.settings.name.as_str();
    let msg = |key: &'static str| lang.msg(key).to_owned();
    let (status, title, lines) = match e {
        FlowError::Link(LinkProblem::Unknown) => (
            StatusCode::NOT_FOUND,
            lang.msg("endorse.link.unknown.title"),
            vec![
                msg("endorse.link.unknown.text"),
                msg("endorse.link.unknown.check"),
                msg("endorse.link.ask_again"),
            ],
        ),
        FlowError::Link(LinkProblem::Used) => (
            StatusCode::GONE,
            lang.msg("endorse.link.used.title"),
            vec![
                msg("endorse.link.used.text"),
                msg("endorse.link.used.once"),
                msg("endorse.link.used.thanks"),
            ],
        ),
        FlowError::Link(LinkProblem::Expired(at)) => (
            StatusCode::GONE,
            lang.msg("endorse.link.expired.title"),
            vec![
                lang.fill("endorse.link.expired.text", &[("date", &date(lang, at))]),
                msg("endorse.link.ask_again"),
            ],
        ),
        FlowError::Link(LinkProblem::Revoked) => (
            StatusCode::GONE,
            lang.msg("endorse.link.revoked.title"),
            vec![
                lang.fill("endorse.link.revoked.text", &[("institution", institution)]),
                msg("endorse.link.ask_again"),
            ],
        ),
        FlowError::Link(LinkProblem::RequestClosed) => (
            StatusCode::GONE,
            lang.msg("endorse.link.closed.title"),
            vec![
                msg("endorse.link.closed.text"),
                msg("endorse.link.nothing_to_do"),
            ],
        ),
        FlowError::Link(LinkProblem::AwardRevoked) => (
            StatusCode::GONE,
            lang.msg("endorse.link.withdrawn.title"),
            vec![
                lang.fill(
                    "endorse.link.withdrawn.text",
                    &[("institution", institution)],
                ),
                msg("endorse.link.nothing_to_do"),
            ],
        ),
        other => {
            tracing::error!("endorsement page: {other}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.msg("endorse.failed.title"),
                vec![msg("endorse.failed.text"), msg("endorse.failed.later")],
            )
        }
    };
    message_page(s, page, status, title, lines, None)
}

/// « 22 novembre 2026 » / "22 November 2026".
fn date(lang: Lang, at: DateTime<Utc>) -> String {
    long_date(lang, &at.to_rfc3339()).unwrap_or_else(|| at.format("%Y-%m-%d").to_string())
}

/// Who is endorsed, in words: the recipient's name when public, else "a person".
fn whom(lang: Lang, opened: &Opened) -> String {
    opened
        .recipient_name
        .clone()
        .unwrap_or_else(|| lang.msg("endorse.someone").to_owned())
}

/// A field's problem in the visitor's language (the domain words it in both).
fn problem_text(lang: Lang, p: &FieldProblem) -> String {
    lang.t(&p.fr, &p.en).to_owned()
}

#[derive(Template)]
#[template(path = "endorse_form.html")]
struct FormPage {
    shell: Shell,
    asks: String,
    about: String,
    invited_as: String,
    /// The educator's note, line by line (empty: none).
    note: Vec<String>,
    problems: Vec<ProblemView>,
    action: String,
    fields: Vec<FieldView>,
    consent_checked: bool,
    consent_error: Option<String>,
    valid_until: String,
}

/// One line of the error summary: a link to the field.
struct ProblemView {
    field: &'static str,
    text: String,
}

/// A labelled text field, with its hint, what was typed and its problem (if any).
struct FieldView {
    name: &'static str,
    label: &'static str,
    hint: String,
    value: String,
    max: usize,
    required: bool,
    /// A `<textarea>` rather than a one-line `<input>`.
    multiline: bool,
    autocomplete: Option<&'static str>,
    error: Option<String>,
}

fn form_page(
    s: &HttpState,
    page: &PageRequest,
    status: StatusCode,
    token: &str,
    opened: &Opened,
    values: &EndorseForm,
    problems: &[FieldProblem],
) -> Response {
    let lang = page.lang;
    let inv = &opened.invitation;
    let institution = s.app.issuer.settings.name.as_str();
    let whom = whom(lang, opened);
    let error_of = |field: &str| {
        problems
            .iter()
            .find(|p| p.field == field)
            .map(|p| problem_text(lang, p))
    };
    let field = |name: &'static str, label: &'static str, hint: String, value: &str, max: usize| {
        FieldView {
            name,
            label,
            hint,
            value: value.to_owned(),
            max,
            required: true,
            multiline: false,
            autocomplete: None,
            error: error_of(name),
        }
    };
    let fields = vec![
        FieldView {
            autocomplete: Some("name"),
            ..field(
                "name",
                lang.msg("endorse.form.name"),
                lang.msg("endorse.form.name_hint").to_owned(),
                &values.name,
                MAX_NAME,
            )
        },
        FieldView {
            autocomplete: Some("organization-title"),
            ..field(
                "role",
                lang.msg("endorse.form.role"),
                lang.msg("endorse.form.role_hint").to_owned(),
                &values.role,
                MAX_ROLE,
            )
        },
        FieldView {
            autocomplete: Some("organization"),
            required: false,
            ..field(
                "organisation",
                lang.msg("endorse.form.organisation"),
                lang.msg("endorse.form.organisation_hint").to_owned(),
                &values.organisation,
                MAX_ORGANISATION,
            )
        },
        FieldView {
            multiline: true,
            ..field(
                "recommendation",
                lang.msg("endorse.form.recommendation"),
                lang.fill(
                    "endorse.form.recommendation_hint",
                    &[("whom", &whom), ("max", &MAX_RECOMMENDATION.to_string())],
                ),
                &values.recommendation,
                MAX_RECOMMENDATION,
            )
        },
    ];
    let kind = inv.endorser_kind;
    let body = FormPage {
        shell: page.shell(s, lang.fill("endorse.form.title", &[("whom", &whom)])),
        asks: lang.fill("endorse.form.asks", &[("institution", institution)]),
        about: lang.fill("endorse.form.about", &[("badge", &opened.class_name)]),
        invited_as: lang.fill(
            "endorse.form.invited_as",
            &[("kind", lang.t(kind.label_fr(), kind.label_en()))],
        ),
        note: inv
            .note
            .as_deref()
            .map(|n| n.lines().map(str::to_owned).collect())
            .unwrap_or_default(),
        problems: problems
            .iter()
            .map(|p| ProblemView {
                field: p.field,
                text: problem_text(lang, p),
            })
            .collect(),
        action: format!("/endorse/{token}?lang={}", lang.code()),
        fields,
        consent_checked: values.consent.is_some(),
        consent_error: error_of("consent"),
        valid_until: lang.fill(
            "endorse.form.valid_until",
            &[("date", &date(lang, inv.expires_at))],
        ),
    };
    with_headers(render(status, &body))
}

#[derive(Template)]
#[template(path = "endorse_message.html")]
struct MessagePage {
    shell: Shell,
    lines: Vec<String>,
    link: Option<LinkView>,
}

struct LinkView {
    href: String,
    text: &'static str,
}

/// A page of a few sentences under its title, and maybe a link.
fn message_page(
    s: &HttpState,
    page: &PageRequest,
    status: StatusCode,
    title: &str,
    lines: Vec<String>,
    link: Option<LinkView>,
) -> Response {
    let body = MessagePage {
        shell: page.shell(s, title),
        lines,
        link,
    };
    with_headers(render(status, &body))
}

fn thanks(s: &HttpState, page: &PageRequest, opened: &Opened, e: &Endorsement) -> Response {
    let lang = page.lang;
    let institution = s.app.issuer.settings.name.as_str();
    let whom = whom(lang, opened);
    let args = [("badge", opened.class_name.as_str()), ("whom", &whom)];
    let where_it_is = if opened.award_issued {
        lang.fill("endorse.thanks.in_badge", &args)
    } else {
        lang.fill("endorse.thanks.later", &args)
    };
    let lines = vec![
        lang.msg("endorse.thanks.saved").to_owned(),
        lang.fill("endorse.thanks.signed", &[("institution", institution)]),
        where_it_is,
        lang.msg("endorse.thanks.close").to_owned(),
    ];
    let link = LinkView {
        href: format!(
            "{}?lang={}",
            endorsement_url(&s.app.issuer.base_url, e.id),
            lang.code()
        ),
        text: lang.msg("endorse.thanks.see"),
    };
    let title = lang.msg("endorse.thanks.title");
    message_page(s, page, StatusCode::OK, title, lines, Some(link))
}

/// No script, no framing, nothing kept, nothing indexed; the token in this page's address is
/// never sent on to another site.
fn with_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
    resp
}
