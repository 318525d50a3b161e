//! The endorser's page `/endorse/{token}` (issue #5 §6): a tutor, a colleague or a partner who has
//! no account opens the link an educator sent, reads what they are asked to endorse, and writes a
//! recommendation. French by default, English with `?lang=en` (as `/verify`); easy to read (FALC:
//! short sentences, one idea per line); labelled fields; no JavaScript.
//!
//! CSRF: the token is in the URL and used once, so a forged form can only spend a link its author
//! already has. A used, expired, revoked or unknown link gets a plain page (410, or 404), never an
//! error 500. The token is never logged nor sent on (`Referrer-Policy: no-referrer`).

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::HttpState;
use super::html::escape;
use super::verify_page::Lang;
use crate::endorsement::documents::endorsement_url;
use crate::endorsement::flow::{self, FlowError, LinkProblem, Opened};
use crate::endorsement::{
    EndorserInput, FieldProblem, MAX_NAME, MAX_ORGANISATION, MAX_RECOMMENDATION, MAX_ROLE,
};
use crate::store::Endorsement;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

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

fn lang_of(query: &Result<Query<PageQuery>, QueryRejection>, headers: &HeaderMap) -> Lang {
    let param = query.as_ref().ok().and_then(|Query(q)| q.lang.as_deref());
    Lang::pick(param, headers)
}

/// `GET /endorse/{token}`: the form, or why the link cannot be used.
pub async fn get(
    State(s): State<HttpState>,
    Path(token): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&query, &headers);
    match flow::open(&s.app, &token).await {
        Ok(opened) => page(
            lang,
            StatusCode::OK,
            &form(&s, lang, &token, &opened, &EndorseForm::default(), &[]),
        ),
        Err(e) => failure(&s, lang, e),
    }
}

/// `POST /endorse/{token}` (`application/x-www-form-urlencoded`).
pub async fn post(
    State(s): State<HttpState>,
    Path(token): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Form<EndorseForm>, FormRejection>,
) -> Response {
    let mut lang = lang_of(&query, &headers);
    let fields = match body {
        Ok(Form(f)) => f,
        Err(rejection) => {
            let status = rejection.status();
            let (fr, en) = if status == StatusCode::PAYLOAD_TOO_LARGE {
                (
                    "Votre texte est trop long. Raccourcissez-le, puis envoyez-le encore.",
                    "Your text is too long. Shorten it, then send it again.",
                )
            } else {
                (
                    "Le formulaire n'a pas pu être lu. Revenez en arrière et réessayez.",
                    "The form could not be read. Go back and try again.",
                )
            };
            return message_page(
                lang,
                status,
                lang.t("Un problème", "A problem"),
                lang.t(fr, en),
            );
        }
    };
    if let Some(l) = fields.lang.as_deref() {
        lang = Lang::pick(Some(l), &headers);
    }
    let input = EndorserInput {
        name: fields.name.clone(),
        role: fields.role.clone(),
        organisation: fields.organisation.clone(),
        recommendation: fields.recommendation.clone(),
        consent: fields.consent.is_some(),
    };
    match flow::submit(&s.app, &token, &input).await {
        Ok((opened, endorsement)) => page(
            lang,
            StatusCode::OK,
            &thanks(&s, lang, &opened, &endorsement),
        ),
        Err(FlowError::Form(problems)) => match flow::open(&s.app, &token).await {
            Ok(opened) => page(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form(&s, lang, &token, &opened, &fields, &problems),
            ),
            Err(e) => failure(&s, lang, e),
        },
        Err(e) => failure(&s, lang, e),
    }
}

/// The page for a link that cannot be used, or for our own failure (logged, never detailed).
fn failure(s: &HttpState, lang: Lang, e: FlowError) -> Response {
    let who = &s.app.issuer.settings.name;
    let ask = lang.t(
        "Si besoin, demandez un nouveau lien à la personne qui vous l'a envoyé.",
        "If needed, ask the person who sent it for a new link.",
    );
    let (status, title, text) = match e {
        FlowError::Link(LinkProblem::Unknown) => (
            StatusCode::NOT_FOUND,
            lang.t("Ce lien ne marche pas", "This link does not work"),
            format!(
                "<p>{}</p><p>{}</p><p>{}</p>",
                lang.t("Nous ne trouvons pas ce lien.", "We cannot find this link."),
                lang.t(
                    "Vérifiez que l'adresse est complète.",
                    "Check that the address is complete."
                ),
                ask
            ),
        ),
        FlowError::Link(LinkProblem::Used) => (
            StatusCode::GONE,
            lang.t("Ce lien a déjà servi", "This link was already used"),
            format!(
                "<p>{}</p><p>{}</p><p>{}</p>",
                lang.t(
                    "Une recommandation a déjà été envoyée avec ce lien.",
                    "An endorsement was already sent with this link."
                ),
                lang.t("Un lien ne sert qu'une fois.", "A link works only once."),
                lang.t("Merci !", "Thank you!")
            ),
        ),
        FlowError::Link(LinkProblem::Expired(at)) => (
            StatusCode::GONE,
            lang.t("Ce lien n'est plus valable", "This link is no longer valid"),
            format!(
                "<p>{} {}.</p><p>{}</p>",
                lang.t("Il a expiré le", "It expired on"),
                escape(&date(lang, at)),
                ask
            ),
        ),
        FlowError::Link(LinkProblem::Revoked) => (
            StatusCode::GONE,
            lang.t("Ce lien a été annulé", "This link was cancelled"),
            format!(
                "<p>{}</p><p>{}</p>",
                escape(&match lang {
                    Lang::Fr => format!("{who} a annulé ce lien."),
                    Lang::En => format!("{who} cancelled this link."),
                }),
                ask
            ),
        ),
        FlowError::Link(LinkProblem::RequestClosed) => (
            StatusCode::GONE,
            lang.t("Cette demande est fermée", "This request is closed"),
            format!(
                "<p>{}</p><p>{}</p>",
                lang.t(
                    "Cette demande de badge a été refusée.",
                    "This badge request was declined."
                ),
                lang.t("Vous n'avez rien à faire.", "You have nothing to do.")
            ),
        ),
        FlowError::Link(LinkProblem::AwardRevoked) => (
            StatusCode::GONE,
            lang.t("Ce badge a été retiré", "This badge was withdrawn"),
            format!(
                "<p>{}</p><p>{}</p>",
                escape(&match lang {
                    Lang::Fr => format!("{who} a retiré ce badge."),
                    Lang::En => format!("{who} withdrew this badge."),
                }),
                lang.t("Vous n'avez rien à faire.", "You have nothing to do.")
            ),
        ),
        other => {
            tracing::error!("endorsement page: {other}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.t("Un problème de notre côté", "A problem on our side"),
                format!(
                    "<p>{}</p><p>{}</p>",
                    lang.t(
                        "Votre recommandation n'a pas pu être enregistrée.",
                        "Your endorsement could not be saved."
                    ),
                    lang.t(
                        "Réessayez dans quelques minutes.",
                        "Try again in a few minutes."
                    )
                ),
            )
        }
    };
    page(lang, status, &format!("<h1>{}</h1>{text}", escape(title)))
}

fn message_page(lang: Lang, status: StatusCode, title: &str, text: &str) -> Response {
    page(
        lang,
        status,
        &format!("<h1>{}</h1><p>{}</p>", escape(title), escape(text)),
    )
}

fn date(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    match lang {
        Lang::Fr => at.format("%d/%m/%Y").to_string(),
        Lang::En => at.format("%Y-%m-%d").to_string(),
    }
}

/// Who is endorsed, in words: the recipient's name when public, else "a person".
fn whom(lang: Lang, opened: &Opened) -> String {
    opened
        .recipient_name
        .clone()
        .unwrap_or_else(|| lang.t("une personne", "a person").to_owned())
}

fn form(
    s: &HttpState,
    lang: Lang,
    token: &str,
    opened: &Opened,
    values: &EndorseForm,
    problems: &[FieldProblem],
) -> String {
    let inv = &opened.invitation;
    let institution = &s.app.issuer.settings.name;
    let whom = whom(lang, opened);
    let msg = |p: &FieldProblem| match lang {
        Lang::Fr => p.fr.clone(),
        Lang::En => p.en.clone(),
    };
    let error_of = |field: &str| problems.iter().find(|p| p.field == field).map(msg);
    let mut out = format!(
        "<h1>{}</h1><p>{}</p><p>{}</p><p>{}</p>",
        escape(&match lang {
            Lang::Fr => format!("Recommander {whom}"),
            Lang::En => format!("Endorse {whom}"),
        }),
        escape(&match lang {
            Lang::Fr => format!("{institution} vous demande une recommandation."),
            Lang::En => format!("{institution} asks you for an endorsement."),
        }),
        escape(&match lang {
            Lang::Fr => format!("Elle concerne le badge « {} ».", opened.class_name),
            Lang::En => format!("It is about the badge “{}”.", opened.class_name),
        }),
        escape(&match lang {
            Lang::Fr => format!("On vous invite comme : {}.", inv.endorser_kind.label_fr()),
            Lang::En => format!("You are invited as: {}.", inv.endorser_kind.label_en()),
        }),
    );
    if let Some(note) = &inv.note {
        out.push_str(&format!(
            "<h2>{}</h2><p class=\"note\">{}</p>",
            lang.t("Le message de l'éducateur", "The educator's message"),
            escape(note).replace('\n', "<br>")
        ));
    }
    out.push_str(&format!(
        "<h2>{}</h2><p>{}</p><p>{}</p><p>{}</p>",
        lang.t(
            "Ce que vous écrivez sera public",
            "What you write will be public"
        ),
        lang.t(
            "Votre nom, votre rôle, votre organisation et votre texte seront dans le badge.",
            "Your name, your role, your organisation and your text will be in the badge."
        ),
        lang.t(
            "Tout le monde pourra les lire.",
            "Anyone will be able to read them."
        ),
        lang.t(
            "carnet ne vérifie pas votre identité. Le badge le dit.",
            "carnet does not check your identity. The badge says so."
        ),
    ));
    if !problems.is_empty() {
        out.push_str(&format!(
            "<div class=\"problems\" role=\"alert\"><h2>{}</h2><ul>",
            lang.t("Il y a un problème", "There is a problem")
        ));
        for p in problems {
            out.push_str(&format!(
                "<li><a href=\"#{}\">{}</a></li>",
                p.field,
                escape(&msg(p))
            ));
        }
        out.push_str("</ul></div>");
    }
    out.push_str(&format!(
        "<form method=\"post\" action=\"/endorse/{token}?lang={code}\">\
         <input type=\"hidden\" name=\"lang\" value=\"{code}\">",
        token = escape(token),
        code = lang.code()
    ));
    let field = |name: &str, label: &str, hint: &str, value: &str, max: usize, extra: &str| {
        let error = error_of(name);
        let described = if error.is_some() {
            format!("{name}-hint {name}-error")
        } else {
            format!("{name}-hint")
        };
        format!(
            "<label for=\"{name}\">{label}</label>\
             <p class=\"hint\" id=\"{name}-hint\">{hint}</p>{err}\
             <input type=\"text\" id=\"{name}\" name=\"{name}\" value=\"{value}\" maxlength=\"{max}\" \
             aria-describedby=\"{described}\"{invalid}{extra}>",
            label = escape(label),
            hint = escape(hint),
            err = error
                .as_deref()
                .map(|e| format!("<p class=\"error\" id=\"{name}-error\">{}</p>", escape(e)))
                .unwrap_or_default(),
            value = escape(value),
            invalid = if error.is_some() {
                " aria-invalid=\"true\""
            } else {
                ""
            },
        )
    };
    out.push_str(&field(
        "name",
        lang.t(
            "1. Votre prénom et votre nom",
            "1. Your first and last name",
        ),
        lang.t("Par exemple : Marie Durand.", "For example: Mary Smith."),
        &values.name,
        MAX_NAME,
        " required autocomplete=\"name\"",
    ));
    out.push_str(&field(
        "role",
        lang.t("2. Votre rôle", "2. Your role"),
        lang.t(
            "Par exemple : tutrice de stage, chef d'équipe.",
            "For example: internship tutor, team leader.",
        ),
        &values.role,
        MAX_ROLE,
        " required autocomplete=\"organization-title\"",
    ));
    out.push_str(&field(
        "organisation",
        lang.t(
            "3. Votre entreprise ou organisation (si vous voulez)",
            "3. Your company or organisation (optional)",
        ),
        lang.t(
            "Par exemple : Boulangerie Martin.",
            "For example: Martin's Bakery.",
        ),
        &values.organisation,
        MAX_ORGANISATION,
        " autocomplete=\"organization\"",
    ));
    let rec_error = error_of("recommendation");
    out.push_str(&format!(
        "<label for=\"recommendation\">{label}</label>\
         <p class=\"hint\" id=\"recommendation-hint\">{hint}</p>{err}\
         <textarea id=\"recommendation\" name=\"recommendation\" rows=\"8\" maxlength=\"{MAX_RECOMMENDATION}\" \
         required aria-describedby=\"recommendation-hint{more}\"{invalid}>{value}</textarea>",
        label = escape(lang.t("4. Votre recommandation", "4. Your endorsement")),
        hint = escape(&match lang {
            Lang::Fr => format!(
                "Dites ce que {whom} sait faire. Donnez un exemple. {MAX_RECOMMENDATION} caractères au plus."
            ),
            Lang::En => format!(
                "Say what {whom} can do. Give an example. {MAX_RECOMMENDATION} characters at most."
            ),
        }),
        err = rec_error
            .as_deref()
            .map(|e| format!(
                "<p class=\"error\" id=\"recommendation-error\">{}</p>",
                escape(e)
            ))
            .unwrap_or_default(),
        more = if rec_error.is_some() {
            " recommendation-error"
        } else {
            ""
        },
        invalid = if rec_error.is_some() {
            " aria-invalid=\"true\""
        } else {
            ""
        },
        value = escape(&values.recommendation),
    ));
    let consent_error = error_of("consent");
    out.push_str(&format!(
        "<div class=\"consent\">{err}<input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\" required{checked}{described}>\
         <label for=\"consent\">{label}</label></div>\
         <button type=\"submit\">{submit}</button></form>\
         <p class=\"hint\">{once} {until} {date}.</p>",
        err = consent_error
            .as_deref()
            .map(|e| format!("<p class=\"error\" id=\"consent-error\">{}</p>", escape(e)))
            .unwrap_or_default(),
        checked = if values.consent.is_some() {
            " checked"
        } else {
            ""
        },
        described = if consent_error.is_some() {
            " aria-describedby=\"consent-error\" aria-invalid=\"true\""
        } else {
            ""
        },
        label = escape(lang.t(
            "5. J'accepte que mon nom, mon rôle, mon organisation et mon texte soient publics dans le badge.",
            "5. I agree that my name, my role, my organisation and my text will be public in the badge.",
        )),
        submit = escape(lang.t("Envoyer ma recommandation", "Send my endorsement")),
        once = escape(lang.t("Ce lien ne sert qu'une fois.", "This link works only once.")),
        until = escape(lang.t("Il est valable jusqu'au", "It is valid until")),
        date = escape(&date(lang, inv.expires_at)),
    ));
    out
}

fn thanks(s: &HttpState, lang: Lang, opened: &Opened, e: &Endorsement) -> String {
    let institution = &s.app.issuer.settings.name;
    let whom = whom(lang, opened);
    let issued = opened.award_issued;
    format!(
        "<h1>{}</h1><p>{}</p><p>{}</p><p>{}</p><p>{}</p><p><a href=\"{}\">{}</a></p>",
        escape(lang.t("Merci !", "Thank you!")),
        escape(lang.t(
            "Votre recommandation est enregistrée.",
            "Your endorsement is saved."
        )),
        escape(&match lang {
            Lang::Fr => format!("carnet l'a signée pour {institution}."),
            Lang::En => format!("carnet signed it for {institution}."),
        }),
        escape(&match (lang, issued) {
            (Lang::Fr, true) => format!(
                "Elle est maintenant dans le badge « {} » de {whom}.",
                opened.class_name
            ),
            (Lang::Fr, false) => format!(
                "Elle sera dans le badge « {} » de {whom}, quand le badge sera donné.",
                opened.class_name
            ),
            (Lang::En, true) => format!("It is now in {whom}'s badge “{}”.", opened.class_name),
            (Lang::En, false) => format!(
                "It will be in {whom}'s badge “{}”, when the badge is given.",
                opened.class_name
            ),
        }),
        escape(lang.t("Vous pouvez fermer cette page.", "You can close this page.")),
        escape(&endorsement_url(&s.app.issuer.base_url, e.id)),
        escape(lang.t("Voir ma recommandation", "See my endorsement")),
    )
}

fn page(lang: Lang, status: StatusCode, body: &str) -> Response {
    let title = lang.t("Recommander", "Endorse");
    let html = format!(
        r#"<!doctype html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title} – carnet</title>
<style>{STYLE}</style>
</head>
<body>
<main id="main">
{body}
</main>
</body>
</html>
"#,
        code = lang.code(),
    );
    let mut resp = (status, Html(html)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    // the token is in this page's address: never sent on to another site
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

const STYLE: &str = "body{font-family:system-ui,sans-serif;font-size:1.25rem;line-height:1.6;max-width:46rem;margin:0 auto;padding:1rem;color:#111;background:#fff}\
h1{font-size:2rem;line-height:1.25}h2{font-size:1.5rem;margin-top:2rem}\
a{color:#0645ad}a:focus,button:focus,input:focus,textarea:focus{outline:3px solid #b35c00;outline-offset:2px}\
label{display:block;font-weight:bold;margin-top:1.25rem}\
input,textarea,button{font:inherit}textarea,input[type=text]{width:100%;box-sizing:border-box;border:2px solid #333;padding:.5rem}\
.consent{margin-top:1.5rem}.consent input{width:1.5rem;height:1.5rem;vertical-align:middle}.consent label{display:inline;margin-left:.5rem}\
button{margin-top:1.5rem;padding:.75rem 1.5rem;background:#1a4d8f;color:#fff;border:0;border-radius:.3rem;cursor:pointer}\
.hint{font-size:1rem;color:#333;margin:.25rem 0}.note{border-left:4px solid #1a4d8f;padding-left:1rem}\
.error{color:#a30000;font-weight:bold}.problems{border:4px solid #a30000;padding:1rem;border-radius:.5rem;background:#fdeeee}";
