//! The answer of the verification page (`/verify`): the plain sentence that opens it, the badge as
//! its issuer describes it, and every check. Everything here is escaped; nothing is fetched.

use chrono::{DateTime, Datelike};

use super::html::{escape, markdown};
use super::verify_page::Lang;
use crate::endorsement::MAX_RECOMMENDATION;
use crate::endorsement::profile::{declared, made_by_carnet};
use crate::verify::report::{
    Check, EndorsementSummary, Profile, Report, Section, Status, Summary, Verdict, check_id, reason,
};

/// The plain sentence that opens the answer, and the CSS class of its box.
pub fn verdict_sentence(lang: Lang, report: &Report) -> (String, &'static str) {
    let summary = report.summary.clone().unwrap_or_default();
    let issuer = summary
        .issuer_name
        .clone()
        .or_else(|| summary.issuer_id.clone());
    let by_issuer = |fr: &str, en: &str| match (&issuer, lang) {
        (Some(i), Lang::Fr) => format!("{fr} {i}"),
        (Some(i), Lang::En) => format!("{en} {i}"),
        (None, Lang::Fr) => format!("{fr} son émetteur"),
        (None, Lang::En) => format!("{en} its issuer"),
    };
    let deciding = report.deciding_check();
    let decided_by = |r: &str| report.reason == Some(r);
    match report.verdict {
        Verdict::Valid => {
            let mut s = lang
                .t("Ce badge est authentique.", "This badge is authentic.")
                .to_string();
            let to = summary.recipient_name.as_deref();
            let on = summary
                .valid_from
                .as_deref()
                .and_then(|d| long_date(lang, d));
            s.push(' ');
            s.push_str(&match (lang, to) {
                (Lang::Fr, Some(n)) => format!("Il a été donné à {n}"),
                (Lang::Fr, None) => "Il a été donné".into(),
                (Lang::En, Some(n)) => format!("It was given to {n}"),
                (Lang::En, None) => "It was given".into(),
            });
            s.push(' ');
            s.push_str(&by_issuer("par", "by"));
            if let Some(on) = on {
                s.push_str(&match lang {
                    Lang::Fr => format!(" le {on}"),
                    Lang::En => format!(" on {on}"),
                });
            }
            s.push_str(". ");
            match summary
                .valid_until
                .as_deref()
                .and_then(|d| long_date(lang, d))
            {
                Some(until) => s.push_str(&match lang {
                    Lang::Fr => format!("Il est valable jusqu'au {until}."),
                    Lang::En => format!("It is valid until {until}."),
                }),
                None => s.push_str(lang.t("Il est valable.", "It is valid.")),
            }
            (s, "valid")
        }
        Verdict::Invalid => {
            let s = if decided_by(reason::REVOKED) {
                format!(
                    "{}. {}",
                    by_issuer("Ce badge a été retiré par", "This badge was withdrawn by"),
                    lang.t("Il n'est plus valable.", "It is no longer valid.")
                )
            } else if decided_by(reason::SUSPENDED) {
                format!(
                    "{} {}",
                    by_issuer("Ce badge est suspendu par", "This badge is suspended by"),
                    lang.t("pour le moment.", "for now.")
                )
            } else if decided_by(reason::EXPIRED) {
                expired_sentence(lang, summary.valid_until.as_deref())
            } else if decided_by(reason::NOT_YET_VALID) {
                lang.t(
                    "Ce badge n'est pas encore valable.",
                    "This badge is not valid yet.",
                )
                .into()
            } else if decided_by(reason::RECIPIENT_MISMATCH) {
                lang.t(
                    "Ce badge n'a pas été donné à cette adresse email.",
                    "This badge was not given to this email address.",
                )
                .into()
            } else if deciding.is_some_and(|c| c.id == check_id::PARSE) {
                lang.t(
                    "Ce n'est pas un badge que nous pouvons lire.",
                    "This is not a badge we can read.",
                )
                .into()
            } else if deciding.is_some_and(|c| c.section == Section::Conformance) {
                lang.t(
                    "Ce badge ne suit pas les règles de la norme Open Badges.",
                    "This badge does not follow the rules of the Open Badges standard.",
                )
                .into()
            } else if deciding.is_some_and(|c| c.section == Section::Endorsement) {
                lang.t(
                    "Une recommandation de ce badge n'a pas pu être vérifiée.",
                    "An endorsement of this badge could not be verified.",
                )
                .into()
            } else {
                lang.t(
                    "Attention : ce badge n'est pas authentique. Il a peut-être été modifié.",
                    "Warning: this badge is not authentic. It may have been altered.",
                )
                .into()
            };
            (s, "invalid")
        }
        Verdict::Indeterminate => (
            lang.t(
                "Nous n'avons pas pu tout vérifier. Nous ne pouvons pas dire si ce badge est authentique.",
                "We could not check everything. We cannot say whether this badge is authentic.",
            )
            .into(),
            "indeterminate",
        ),
    }
}

/// « Ce badge n'est plus valable depuis le 3 mars 2025. »
pub(super) fn expired_sentence(lang: Lang, valid_until: Option<&str>) -> String {
    match valid_until.and_then(|d| long_date(lang, d)) {
        Some(d) => match lang {
            Lang::Fr => format!("Ce badge n'est plus valable depuis le {d}."),
            Lang::En => format!("This badge is no longer valid: it expired on {d}."),
        },
        None => lang
            .t(
                "Ce badge n'est plus valable : sa date de fin est passée.",
                "This badge is no longer valid: it has expired.",
            )
            .into(),
    }
}

/// `2026-11-22T10:00:00Z` → « 22 novembre 2026 » / "22 November 2026".
pub(super) fn long_date(lang: Lang, date: &str) -> Option<String> {
    const FR: [&str; 12] = [
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
    ];
    const EN: [&str; 12] = [
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
    let d = DateTime::parse_from_rfc3339(date.trim()).ok()?;
    let m = d.month0() as usize;
    Some(match lang {
        Lang::Fr => format!("{} {} {}", d.day(), FR[m], d.year()),
        Lang::En => format!("{} {} {}", d.day(), EN[m], d.year()),
    })
}

pub(super) fn answer(
    lang: Lang,
    report: &Report,
    uploaded_image: Option<&str>,
    url: Option<&str>,
) -> String {
    let (sentence, class) = verdict_sentence(lang, report);
    let mut out = format!(
        r#"<h1>{title}</h1>
<section class="verdict {class}" aria-labelledby="verdict"><h2 id="verdict">{heading}</h2><p>{sentence}</p>{why}</section>
"#,
        title = lang.t("Résultat de la vérification", "Verification result"),
        heading = match report.verdict {
            Verdict::Valid => lang.t("✔ Badge authentique", "✔ Authentic badge"),
            Verdict::Invalid => lang.t("✘ Badge non valable", "✘ Badge not valid"),
            Verdict::Indeterminate => lang.t("? Vérification incomplète", "? Incomplete check"),
        },
        sentence = escape(&sentence),
        why = deciding_line(lang, report),
    );
    if let Some(summary) = &report.summary {
        out.push_str(&badge_details(lang, summary, uploaded_image));
        out.push_str(&endorsements(lang, &summary.endorsements, &report.checks));
    }
    out.push_str(&checks_details(lang, report));
    if let Some(url) = url {
        // Check the recipient of a badge reached by link (the email goes in a POST, not the URL).
        out.push_str(&format!(
            r#"<h2>{h}</h2>
<form method="post" action="/verify" enctype="multipart/form-data">
<input type="hidden" name="lang" value="{code}"><input type="hidden" name="badge" value="{url}">
<label for="recipient">{label}</label><p class="hint" id="recipient-hint">{hint}</p>
<input type="email" id="recipient" name="recipient" autocomplete="off" aria-describedby="recipient-hint">
<button type="submit">{submit}</button></form>"#,
            h = lang.t(
                "Est-ce bien le badge de cette personne ?",
                "Is this badge really this person's?"
            ),
            code = lang.code(),
            url = escape(url),
            label = lang.t("Adresse email de la personne", "The person's email address"),
            hint = lang.t("L'adresse n'est pas gardée.", "The address is not kept."),
            submit = lang.t("Vérifier la personne", "Check the person"),
        ));
    }
    out.push_str(&format!(
        r#"<p><a href="/verify?lang={}">{}</a></p>"#,
        lang.code(),
        lang.t("Vérifier un autre badge", "Verify another badge")
    ));
    out
}

fn badge_details(lang: Lang, s: &Summary, uploaded_image: Option<&str>) -> String {
    let mut out = String::from(r#"<section class="badge" aria-labelledby="badge-h">"#);
    let name = s
        .achievement_name
        .as_deref()
        .or(s.name.as_deref())
        .unwrap_or(lang.t("Badge sans nom", "Unnamed badge"));
    out.push_str(&format!(r#"<h2 id="badge-h">{}</h2>"#, escape(name)));
    if let Some(img) = uploaded_image.or(s.image.as_deref()) {
        out.push_str(&format!(
            r#"<p><img src="{}" alt="{}"></p>"#,
            escape(img),
            escape(&format!(
                "{} {name}",
                lang.t("Image du badge", "Badge image")
            ))
        ));
    }
    let mut dl = String::new();
    let mut item = |term: &str, value: String| {
        dl.push_str(&format!("<dt>{}</dt><dd>{value}</dd>", escape(term)));
    };
    if let Some(n) = &s.recipient_name {
        item(lang.t("Donné à", "Given to"), escape(n));
    }
    match (&s.issuer_name, &s.issuer_id) {
        (Some(n), Some(id)) if is_web(id) => item(
            lang.t("Donné par", "Given by"),
            format!(r#"<a href="{}">{}</a>"#, escape(id), escape(n)),
        ),
        (Some(n), _) => item(lang.t("Donné par", "Given by"), escape(n)),
        (None, Some(id)) => item(lang.t("Donné par", "Given by"), escape(id)),
        (None, None) => {}
    }
    if let Some(d) = s.valid_from.as_deref().and_then(|d| long_date(lang, d)) {
        item(lang.t("Date", "Date"), escape(&d));
    }
    if let Some(d) = s.valid_until.as_deref().and_then(|d| long_date(lang, d)) {
        item(lang.t("Valable jusqu'au", "Valid until"), escape(&d));
    }
    if let Some(d) = &s.description {
        item(lang.t("Ce que c'est", "What it is"), markdown(d));
    }
    if s.criteria.is_some() || s.criteria_url.is_some() {
        let mut v = s.criteria.as_deref().map(markdown).unwrap_or_default();
        if let Some(u) = s.criteria_url.as_deref().filter(|u| is_web(u)) {
            v.push_str(&format!(
                r#" <a href="{}">{}</a>"#,
                escape(u),
                lang.t("(voir les critères)", "(see the criteria)")
            ));
        }
        item(lang.t("Ce qu'il fallait faire", "What had to be done"), v);
    }
    if let Some(n) = &s.narrative {
        item(
            lang.t("Ce que la personne a fait", "What the person did"),
            markdown(n),
        );
    }
    if !s.evidence.is_empty() {
        let mut v = String::from("<ul>");
        for e in &s.evidence {
            let text = [&e.name, &e.description, &e.narrative]
                .into_iter()
                .flatten()
                .map(|t| escape(t))
                .collect::<Vec<_>>()
                .join(" — ");
            let link = e.url.as_deref().filter(|u| is_web(u)).map(|u| {
                format!(
                    r#" <a href="{}">{}</a>"#,
                    escape(u),
                    lang.t("(voir la preuve)", "(see the evidence)")
                )
            });
            v.push_str(&format!("<li>{text}{}</li>", link.unwrap_or_default()));
        }
        v.push_str("</ul>");
        item(lang.t("Preuves", "Evidence"), v);
    }
    if !dl.is_empty() {
        out.push_str(&format!("<dl>{dl}</dl>"));
    }
    out.push_str("</section>");
    out
}

/// The longest profile description shown for an endorser carnet did not make (characters).
const MAX_DESCRIPTION: usize = 1000;

/// At most `max` characters of `text`, with « … » when it was cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// Text whose every line stays its own paragraph once read as Markdown (an endorser writes one
/// idea per line); `- ` lists stay lists.
fn line_by_line(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("- ") {
            out.push_str(line);
            out.push('\n');
        } else {
            out.push_str(&format!("\n{line}\n\n"));
        }
    }
    out
}

/// The endorsements the badge carries, each with what its endorser declared, what they wrote,
/// when, and its own check (`endorsement` at the same `path`). For a Profile carnet made, two
/// plain sentences say that carnet wrote down what the person declared without checking who
/// they are.
fn endorsements(lang: Lang, list: &[EndorsementSummary], checks: &[Check]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let mut out = format!(
        r#"<section class="endorsements" aria-labelledby="endorsements-h"><h2 id="endorsements-h">{}</h2><p>{}</p>"#,
        lang.t("Recommandations", "Endorsements"),
        if list.len() == 1 {
            lang.t(
                "Une personne recommande ce badge.",
                "One person endorses this badge.",
            )
            .to_owned()
        } else {
            match lang {
                Lang::Fr => format!("{} personnes recommandent ce badge.", list.len()),
                Lang::En => format!("{} people endorse this badge.", list.len()),
            }
        }
    );
    for (i, e) in list.iter().enumerate() {
        out.push_str(&endorsement(lang, i, e, checks));
    }
    out.push_str("</section>");
    out
}

fn endorsement(lang: Lang, i: usize, e: &EndorsementSummary, checks: &[Check]) -> String {
    let name = e
        .issuer_name
        .as_deref()
        .unwrap_or(lang.t("Personne sans nom", "Unnamed person"));
    let mut out = format!(
        r#"<article aria-labelledby="endorsement-{i}"><h3 id="endorsement-{i}">{}</h3>"#,
        escape(name)
    );
    let line = |out: &mut String, text: String| out.push_str(&format!("<p>{text}</p>"));
    let description = e.issuer_description.as_deref().unwrap_or("");
    let by_carnet = e
        .issuer_id
        .as_deref()
        .is_some_and(|id| made_by_carnet(id, description));
    match declared(description).filter(|_| by_carnet) {
        Some(d) => {
            line(
                &mut out,
                format!(
                    "{}{}.",
                    lang.t("Rôle déclaré : ", "Declared role: "),
                    escape(d.role.trim_end_matches('.'))
                ),
            );
            if let Some(org) = &d.organisation {
                line(
                    &mut out,
                    format!(
                        "{}{}.",
                        lang.t("Organisation déclarée : ", "Declared organisation: "),
                        escape(org.trim_end_matches('.'))
                    ),
                );
            }
        }
        None if !description.is_empty() && !by_carnet => line(
            &mut out,
            format!(
                "{}{}",
                lang.t("Ce que dit son profil : ", "What their profile says: "),
                escape(&cut(description, MAX_DESCRIPTION))
            ),
        ),
        None => {}
    }
    if by_carnet {
        line(
            &mut out,
            lang.t(
                "carnet a écrit ce que cette personne a déclaré.",
                "carnet wrote down what this person declared.",
            )
            .to_owned(),
        );
        line(
            &mut out,
            lang.t(
                "carnet n'a pas vérifié son identité.",
                "carnet did not check who this person is.",
            )
            .to_owned(),
        );
    }
    if let Some(d) = e.valid_from.as_deref().and_then(|d| long_date(lang, d)) {
        line(
            &mut out,
            format!("{}{}.", lang.t("Date : ", "Date: "), escape(&d)),
        );
    }
    if let Some(c) = &e.comment {
        line(
            &mut out,
            lang.t("Ce que cette personne a écrit :", "What this person wrote:")
                .to_owned(),
        );
        out.push_str(&format!(
            "<blockquote>{}</blockquote>",
            markdown(&line_by_line(&cut(c, MAX_RECOMMENDATION)))
        ));
    }
    let check = e.path.as_deref().and_then(|path| {
        checks
            .iter()
            .find(|c| c.id == check_id::ENDORSEMENT && c.path.as_deref() == Some(path))
    });
    if let Some(c) = check {
        let (mark, word) = match c.status {
            Status::Pass => ("✔", lang.t("Vérification réussie.", "Check passed.")),
            Status::Fail => ("✘", lang.t("Vérification en échec.", "Check failed.")),
            Status::Warn => ("!", lang.t("Attention.", "Warning.")),
            Status::Unknown => ("?", lang.t("Pas vérifiée.", "Not checked.")),
        };
        line(
            &mut out,
            format!(
                r#"<span aria-hidden="true">{mark}</span> <strong>{word}</strong> {}"#,
                escape(match lang {
                    Lang::Fr => &c.message.fr,
                    Lang::En => &c.message.en,
                })
            ),
        );
    }
    if let Some(id) = e.issuer_id.as_deref().filter(|id| is_web(id)) {
        line(
            &mut out,
            format!(
                r#"<a href="{}">{}</a>"#,
                escape(id),
                lang.t("Le profil de cette personne", "This person's profile")
            ),
        );
    }
    out.push_str("</article>");
    out
}

fn is_web(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// What decided a verdict that is not « valid », in the verdict box: the signature, the
/// revocation, the expiry... as its check says it.
fn deciding_line(lang: Lang, report: &Report) -> String {
    let Some(c) = report.deciding_check() else {
        return String::new();
    };
    format!(
        r#"<p class="why"><strong>{}</strong> {}</p>"#,
        lang.t("Pourquoi :", "Why:"),
        escape(match lang {
            Lang::Fr => &c.message.fr,
            Lang::En => &c.message.en,
        })
    )
}

/// Every check, by section, folded under « Informations techniques »: the verdict and what
/// decided it come first, the details after.
fn checks_details(lang: Lang, report: &Report) -> String {
    let mut out = String::new();
    let mut open: Option<Section> = None;
    for c in &report.checks {
        if open != Some(c.section) {
            if open.is_some() {
                out.push_str("</ul>");
            }
            open = Some(c.section);
            out.push_str(&format!(
                "<h3>{}</h3><ul class=\"checks\">",
                match c.section {
                    Section::Authenticity => lang.t(
                        "Est-il authentique ? (lecture, signature, clé)",
                        "Is it authentic? (reading, signature, key)"
                    ),
                    Section::InForce => lang.t(
                        "Est-il valable aujourd'hui ? (retrait, dates, personne)",
                        "Is it in force? (withdrawal, dates, person)"
                    ),
                    Section::Conformance => lang.t(
                        "Suit-il la norme Open Badges à la lettre ?",
                        "Does it follow the Open Badges standard to the letter?"
                    ),
                    Section::Endorsement => lang.t("Les recommandations", "The endorsements"),
                }
            ));
        }
        let (mark, word) = match c.status {
            Status::Pass => ("✔", lang.t("réussi", "passed")),
            Status::Fail => ("✘", lang.t("échec", "failed")),
            Status::Warn => ("!", lang.t("attention", "warning")),
            Status::Unknown => ("?", lang.t("pas vérifié", "not checked")),
        };
        let msg = match lang {
            Lang::Fr => &c.message.fr,
            Lang::En => &c.message.en,
        };
        let path = c
            .path
            .as_deref()
            .map(|p| format!(", {}", escape(p)))
            .unwrap_or_default();
        out.push_str(&format!(
            r#"<li><span aria-hidden="true">{mark}</span> <strong>{word}</strong>{colon}{msg} <span class="hint">({id}{path})</span></li>"#,
            colon = lang.t(" : ", ": "),
            msg = escape(msg),
            id = escape(c.id),
        ));
    }
    if open.is_some() {
        out.push_str("</ul>");
    }
    let profile = match report.profile {
        Profile::Default => lang.t(
            "Le badge est jugé sur son authenticité et sa validité ; un écart à la norme est signalé sans changer le résultat.",
            "The badge is judged on whether it is authentic and in force; a departure from the standard is reported without changing the result.",
        ),
        Profile::Strict => lang.t(
            "Le badge est jugé selon les règles strictes de 1EdTech : un écart à la norme le rend non valable.",
            "The badge is judged by 1EdTech's strict rules: a departure from the standard makes it not valid.",
        ),
    };
    format!(
        r#"<details class="technical"><summary>{}</summary><p class="hint">{profile}</p>{out}</details>"#,
        lang.t("Informations techniques", "Technical information")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endorsers_lines_stay_lines_and_lists_stay_lists() {
        assert_eq!(
            markdown(&line_by_line("Une idée.\r\nUne autre.\n- a\n- b\nFin.")),
            "<p>Une idée.</p><p>Une autre.</p><ul><li>a</li><li>b</li></ul><p>Fin.</p>"
        );
    }

    #[test]
    fn long_texts_are_cut_on_a_character() {
        assert_eq!(cut("éàü", 2), "éà…");
        assert_eq!(cut("éà", 2), "éà");
    }
}
