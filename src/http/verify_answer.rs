//! The answer of the verification page (`/verify`): the plain sentence that opens it, the badge as
//! its issuer describes it, and every check. Everything here is escaped; nothing is fetched.
//!
//! In order: the plain sentence, « Pourquoi : » the deciding check, the badge, its endorsements
//! (each with the role and organisation its endorser declared, the comment, the date, its own
//! check, and « carnet n'a pas vérifié son identité » for a Profile carnet made), then the checks
//! by section under « Informations techniques » (`templates/verify_answer.html`).

use chrono::{DateTime, Datelike};

use super::html::{escape, markdown};
use super::i18n::Lang;
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
        .or_else(|| summary.issuer_id.clone())
        .unwrap_or_else(|| lang.msg("verdict.its_issuer").to_string());
    let deciding = report.deciding_check();
    let decided_by = |r: &str| report.reason == Some(r);
    let say = |key: &str| lang.fill(key, &[("issuer", &issuer)]);
    match report.verdict {
        Verdict::Valid => {
            let to = summary.recipient_name.as_deref();
            let on = summary
                .valid_from
                .as_deref()
                .and_then(|d| long_date(lang, d));
            let given = match (to, &on) {
                (Some(n), Some(d)) => lang.fill(
                    "verdict.given_to_by_on",
                    &[("name", n), ("issuer", &issuer), ("date", d)],
                ),
                (Some(n), None) => {
                    lang.fill("verdict.given_to_by", &[("name", n), ("issuer", &issuer)])
                }
                (None, Some(d)) => {
                    lang.fill("verdict.given_by_on", &[("issuer", &issuer), ("date", d)])
                }
                (None, None) => say("verdict.given_by"),
            };
            let until = match summary
                .valid_until
                .as_deref()
                .and_then(|d| long_date(lang, d))
            {
                Some(until) => lang.fill("verdict.valid_until", &[("date", &until)]),
                None => lang.msg("verdict.valid").to_string(),
            };
            (
                format!("{} {given} {until}", lang.msg("verdict.authentic")),
                "valid",
            )
        }
        Verdict::Invalid => {
            let s = if decided_by(reason::REVOKED) {
                say("verdict.revoked")
            } else if decided_by(reason::SUSPENDED) {
                say("verdict.suspended")
            } else if decided_by(reason::EXPIRED) {
                expired_sentence(lang, summary.valid_until.as_deref())
            } else if decided_by(reason::NOT_YET_VALID) {
                lang.msg("verdict.not_yet_valid").to_string()
            } else if decided_by(reason::RECIPIENT_MISMATCH) {
                lang.msg("verdict.recipient_mismatch").to_string()
            } else if deciding.is_some_and(|c| c.id == check_id::PARSE) {
                lang.msg("verdict.unreadable").to_string()
            } else if deciding.is_some_and(|c| c.section == Section::Conformance) {
                lang.msg("verdict.not_conformant").to_string()
            } else if deciding.is_some_and(|c| c.section == Section::Endorsement) {
                lang.msg("verdict.endorsement").to_string()
            } else {
                lang.msg("verdict.not_authentic").to_string()
            };
            (s, "invalid")
        }
        Verdict::Indeterminate => (
            lang.msg("verdict.indeterminate").to_string(),
            "indeterminate",
        ),
    }
}

/// « Ce badge n'est plus valable depuis le 3 mars 2025. »
pub(super) fn expired_sentence(lang: Lang, valid_until: Option<&str>) -> String {
    match valid_until.and_then(|d| long_date(lang, d)) {
        Some(d) => lang.fill("verdict.expired_on", &[("date", &d)]),
        None => lang.msg("verdict.expired").to_string(),
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

/// The answer page's content: the verdict box, the badge as its issuer describes it, its
/// endorsements, every check by section (`templates/verify_answer.html`).
pub(super) struct AnswerView {
    pub verdict_class: &'static str,
    pub heading: &'static str,
    pub sentence: String,
    /// What decided a verdict that is not « valid » (the signature, the withdrawal, the expiry).
    pub why: Option<String>,
    pub badge: Option<BadgeView>,
    pub endorsements: Vec<EndorsementView>,
    pub endorsement_count: String,
    pub sections: Vec<SectionView>,
    pub profile_note: &'static str,
    /// The link verified, for the form that checks its recipient (the email goes in a POST).
    pub url: Option<String>,
}

pub(super) struct BadgeView {
    pub name: String,
    pub image: Option<String>,
    pub image_alt: String,
    pub facts: Vec<Fact>,
}

/// A term and its value, as HTML made here (escaped text, `markdown`, links).
pub(super) struct Fact {
    pub term: &'static str,
    pub html: String,
}

pub(super) struct EndorsementView {
    pub name: String,
    pub lines: Vec<String>,
    /// What the endorser wrote, as HTML made by `markdown`.
    pub comment: Option<String>,
    pub check: Option<CheckView>,
    pub profile: Option<String>,
}

pub(super) struct SectionView {
    pub title: &'static str,
    pub checks: Vec<CheckView>,
}

pub(super) struct CheckView {
    pub mark: &'static str,
    pub word: &'static str,
    pub message: String,
    pub id: &'static str,
    pub path: Option<String>,
}

pub(super) fn answer(
    lang: Lang,
    report: &Report,
    uploaded_image: Option<&str>,
    url: Option<&str>,
) -> AnswerView {
    let (sentence, class) = verdict_sentence(lang, report);
    let (summary, endorsements) = match &report.summary {
        Some(s) => (
            Some(badge_details(lang, s, uploaded_image)),
            endorsements(lang, &s.endorsements, &report.checks),
        ),
        None => (None, vec![]),
    };
    AnswerView {
        verdict_class: match class {
            "valid" => "verdict-valid",
            "invalid" => "verdict-invalid",
            _ => "verdict-indeterminate",
        },
        heading: lang.msg(match report.verdict {
            Verdict::Valid => "verify.answer.valid",
            Verdict::Invalid => "verify.answer.invalid",
            Verdict::Indeterminate => "verify.answer.indeterminate",
        }),
        sentence,
        why: report
            .deciding_check()
            .map(|c| message_in(lang, c).to_string()),
        badge: summary,
        endorsement_count: match endorsements.len() {
            1 => lang.msg("verify.answer.one_endorsement").to_string(),
            n => lang.fill(
                "verify.answer.many_endorsements",
                &[("count", &n.to_string())],
            ),
        },
        endorsements,
        sections: sections(lang, report),
        profile_note: lang.msg(match report.profile {
            Profile::Default => "verify.answer.profile_default",
            Profile::Strict => "verify.answer.profile_strict",
        }),
        url: url.map(str::to_string),
    }
}

fn message_in(lang: Lang, c: &Check) -> &str {
    match lang {
        Lang::Fr => &c.message.fr,
        Lang::En => &c.message.en,
    }
}

fn badge_details(lang: Lang, s: &Summary, uploaded_image: Option<&str>) -> BadgeView {
    let name = s
        .achievement_name
        .as_deref()
        .or(s.name.as_deref())
        .unwrap_or(lang.msg("verify.answer.unnamed_badge"))
        .to_string();
    let mut facts = Vec::new();
    let mut item = |key: &'static str, html: String| {
        facts.push(Fact {
            term: lang.msg(key),
            html,
        })
    };
    if let Some(n) = &s.recipient_name {
        item("verify.answer.given_to", escape(n));
    }
    match (&s.issuer_name, &s.issuer_id) {
        (Some(n), Some(id)) if is_web(id) => item(
            "verify.answer.given_by",
            format!(r#"<a href="{}">{}</a>"#, escape(id), escape(n)),
        ),
        (Some(n), _) => item("verify.answer.given_by", escape(n)),
        (None, Some(id)) => item("verify.answer.given_by", escape(id)),
        (None, None) => {}
    }
    if let Some(d) = s.valid_from.as_deref().and_then(|d| long_date(lang, d)) {
        item("verify.answer.date", escape(&d));
    }
    if let Some(d) = s.valid_until.as_deref().and_then(|d| long_date(lang, d)) {
        item("verify.answer.valid_until", escape(&d));
    }
    if let Some(d) = &s.description {
        item("verify.answer.what_it_is", markdown(d));
    }
    if s.criteria.is_some() || s.criteria_url.is_some() {
        let mut v = s.criteria.as_deref().map(markdown).unwrap_or_default();
        if let Some(u) = s.criteria_url.as_deref().filter(|u| is_web(u)) {
            v.push_str(&format!(
                r#" <a href="{}">{}</a>"#,
                escape(u),
                escape(lang.msg("verify.answer.see_criteria"))
            ));
        }
        item("verify.answer.what_to_do", v);
    }
    if let Some(n) = &s.narrative {
        item("verify.answer.what_done", markdown(n));
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
                    escape(lang.msg("verify.answer.see_evidence"))
                )
            });
            v.push_str(&format!("<li>{text}{}</li>", link.unwrap_or_default()));
        }
        v.push_str("</ul>");
        item("verify.answer.evidence", v);
    }
    BadgeView {
        image: uploaded_image.or(s.image.as_deref()).map(str::to_string),
        image_alt: lang.fill("verify.answer.image_of", &[("name", &name)]),
        name,
        facts,
    }
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
fn endorsements(lang: Lang, list: &[EndorsementSummary], checks: &[Check]) -> Vec<EndorsementView> {
    list.iter().map(|e| endorsement(lang, e, checks)).collect()
}

fn endorsement(lang: Lang, e: &EndorsementSummary, checks: &[Check]) -> EndorsementView {
    let mut lines = Vec::new();
    let description = e.issuer_description.as_deref().unwrap_or("");
    let by_carnet = e
        .issuer_id
        .as_deref()
        .is_some_and(|id| made_by_carnet(id, description));
    match declared(description).filter(|_| by_carnet) {
        Some(d) => {
            lines.push(lang.fill(
                "verify.answer.declared_role",
                &[("role", d.role.trim_end_matches('.'))],
            ));
            if let Some(org) = &d.organisation {
                lines.push(lang.fill(
                    "verify.answer.declared_organisation",
                    &[("organisation", org.trim_end_matches('.'))],
                ));
            }
        }
        None if !description.is_empty() && !by_carnet => lines.push(lang.fill(
            "verify.answer.profile_says",
            &[("description", &cut(description, MAX_DESCRIPTION))],
        )),
        None => {}
    }
    if by_carnet {
        lines.push(lang.msg("verify.answer.carnet_wrote").to_string());
        lines.push(lang.msg("verify.answer.identity_not_checked").to_string());
    }
    if let Some(d) = e.valid_from.as_deref().and_then(|d| long_date(lang, d)) {
        lines.push(lang.fill("verify.answer.endorsed_on", &[("date", &d)]));
    }
    let check = e.path.as_deref().and_then(|path| {
        checks
            .iter()
            .find(|c| c.id == check_id::ENDORSEMENT && c.path.as_deref() == Some(path))
    });
    EndorsementView {
        name: e
            .issuer_name
            .clone()
            .unwrap_or_else(|| lang.msg("verify.answer.unnamed_person").to_string()),
        lines,
        comment: e
            .comment
            .as_deref()
            .map(|c| markdown(&line_by_line(&cut(c, MAX_RECOMMENDATION)))),
        check: check.map(|c| {
            let (mark, key) = match c.status {
                Status::Pass => ("✔", "verify.answer.check_pass"),
                Status::Fail => ("✘", "verify.answer.check_fail"),
                Status::Warn => ("!", "verify.answer.check_warn"),
                Status::Unknown => ("?", "verify.answer.check_unknown"),
            };
            CheckView {
                mark,
                word: lang.msg(key),
                message: message_in(lang, c).to_string(),
                id: c.id,
                path: c.path.clone(),
            }
        }),
        profile: e
            .issuer_id
            .as_deref()
            .filter(|id| is_web(id))
            .map(str::to_string),
    }
}

fn is_web(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// Every check, by section (the report keeps them in that order), for « Informations
/// techniques »: the verdict and what decided it come first, the details after.
fn sections(lang: Lang, report: &Report) -> Vec<SectionView> {
    let mut out: Vec<(Section, SectionView)> = Vec::new();
    for c in &report.checks {
        if out.last().map(|(s, _)| *s) != Some(c.section) {
            out.push((
                c.section,
                SectionView {
                    title: lang.msg(match c.section {
                        Section::Authenticity => "verify.answer.section_authenticity",
                        Section::InForce => "verify.answer.section_in_force",
                        Section::Conformance => "verify.answer.section_conformance",
                        Section::Endorsement => "verify.answer.section_endorsement",
                    }),
                    checks: vec![],
                },
            ));
        }
        let (mark, key) = match c.status {
            Status::Pass => ("✔", "verify.answer.passed"),
            Status::Fail => ("✘", "verify.answer.failed"),
            Status::Warn => ("!", "verify.answer.warning"),
            Status::Unknown => ("?", "verify.answer.not_checked"),
        };
        if let Some((_, section)) = out.last_mut() {
            section.checks.push(CheckView {
                mark,
                word: lang.msg(key),
                message: message_in(lang, c).to_string(),
                id: c.id,
                path: c.path.clone(),
            });
        }
    }
    out.into_iter().map(|(_, v)| v).collect()
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
