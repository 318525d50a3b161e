//! Endorsements by people without an account (issue #5 §6; OB 3.0 `EndorsementCredential`,
//! CHECKLIST §9; OB 2.0 `Endorsement`, CHECKLIST §1).
//!
//! An educator invites an endorser (a company tutor, a colleague, another educator, a partner
//! organisation) with a single-use, expiring link `{base}/endorse/{token}`; only the token's
//! SHA-256 is kept. The endorser states their name, role and organisation, writes a
//! recommendation and agrees that it will be public. carnet then:
//!
//! - creates a **Profile for that endorser, hosted and signed for by carnet** and labelled so
//!   ([`profile`]): `{base}/issuers/{slug}/endorsers/{id}`, with the DID
//!   `did:web:{host}:issuers:{slug}:endorsers:{id}` whose methods are the institution's Ed25519
//!   keys (carnet signs for the endorser; the description says carnet did not check who they are);
//! - signs the OB 3.0 `EndorsementCredential` (eddsa-rdfc-2022) about the award's credential
//!   `{base}/credentials/{award}` and hosts the OB 2.0 `Endorsement` about its assertion
//!   ([`documents`]);
//! - embeds it in the award: a badge request reserves its award id at the first invitation, and
//!   the approval issues with the request's endorsements; an award already issued is re-signed
//!   under the same id and status slot ([`flow`]).
//!
//! A class with `[endorsements] minimum = N` is not approved before N endorsements are in.
//!
//! This file: the endorser's form ([`validate`]: every problem with its field; name, role,
//! organisation and recommendation bounded, consent required) and the invitation's fields
//! ([`validate_invitation`]: kind, note, days before the link expires, 14 by default, 60 at
//! most).

pub mod documents;
pub mod flow;
pub mod profile;

use crate::store::EndorserKind;

/// Bounds of what an endorser writes (characters, after trimming).
pub const MAX_NAME: usize = 200;
pub const MAX_ROLE: usize = 200;
pub const MAX_ORGANISATION: usize = 200;
pub const MAX_RECOMMENDATION: usize = 4000;
/// The educator's note to the endorser.
pub const MAX_NOTE: usize = 1000;
/// How long a link lives by default, and at most (days).
pub const DEFAULT_EXPIRY_DAYS: u32 = 14;
pub const MAX_EXPIRY_DAYS: u32 = 60;
/// The longest token accepted in a link (tokens are 43 characters): longer ones are not looked up.
pub const MAX_TOKEN_LEN: usize = 64;

/// What the endorser's form gives, as typed.
#[derive(Debug, Clone, Default)]
pub struct EndorserInput {
    pub name: String,
    pub role: String,
    pub organisation: String,
    pub recommendation: String,
    /// The box "my text will be public in the badge" was ticked.
    pub consent: bool,
}

/// What an endorser wrote, checked: trimmed, bounded, without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidEndorser {
    pub name: String,
    pub role: String,
    pub organisation: Option<String>,
    pub comment: String,
}

/// One problem with one field of the form, in both languages of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The form field: `name`, `role`, `organisation`, `recommendation`, `consent`.
    pub field: &'static str,
    pub fr: String,
    pub en: String,
}

fn problem(field: &'static str, fr: impl Into<String>, en: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field,
        fr: fr.into(),
        en: en.into(),
    }
}

/// A one-line text: trimmed, `min..=max` characters, no control character (no line break).
fn line(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
    what: (&str, &str),
    problems: &mut Vec<FieldProblem>,
) -> Option<String> {
    let v = value.trim();
    let len = v.chars().count();
    if len < min {
        problems.push(problem(
            field,
            format!("Écrivez {}.", what.0),
            format!("Write {}.", what.1),
        ));
        None
    } else if len > max {
        problems.push(problem(
            field,
            format!("Ce texte est trop long : {max} caractères au plus ({len} écrits)."),
            format!("This text is too long: {max} characters at most ({len} written)."),
        ));
        None
    } else if v.chars().any(char::is_control) {
        problems.push(problem(
            field,
            "Écrivez ce texte sur une seule ligne.",
            "Write this text on one line.",
        ));
        None
    } else {
        Some(v.to_owned())
    }
}

/// Checks the endorser's form; every problem is reported, each with its field.
pub fn validate(input: &EndorserInput) -> Result<ValidEndorser, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let name = line(
        "name",
        &input.name,
        1,
        MAX_NAME,
        ("votre nom", "your name"),
        &mut problems,
    );
    let role = line(
        "role",
        &input.role,
        1,
        MAX_ROLE,
        ("votre rôle", "your role"),
        &mut problems,
    );
    let organisation = line(
        "organisation",
        &input.organisation,
        0,
        MAX_ORGANISATION,
        ("votre organisation", "your organisation"),
        &mut problems,
    );
    let comment = recommendation(&input.recommendation, &mut problems);
    if !input.consent {
        problems.push(problem(
            "consent",
            "Cochez la case pour accepter que votre texte soit public.",
            "Tick the box to agree that your text will be public.",
        ));
    }
    match (name, role, organisation, comment) {
        (Some(name), Some(role), Some(organisation), Some(comment)) if problems.is_empty() => {
            Ok(ValidEndorser {
                name,
                role,
                organisation: Some(organisation).filter(|o| !o.is_empty()),
                comment,
            })
        }
        _ => Err(problems),
    }
}

/// The recommendation: several lines allowed (`\r\n` kept as `\n`), tabs too, no other control
/// character.
fn recommendation(value: &str, problems: &mut Vec<FieldProblem>) -> Option<String> {
    let v = value.replace("\r\n", "\n");
    let v = v.trim();
    let len = v.chars().count();
    if len == 0 {
        problems.push(problem(
            "recommendation",
            "Écrivez votre recommandation.",
            "Write your recommendation.",
        ));
        None
    } else if len > MAX_RECOMMENDATION {
        problems.push(problem(
            "recommendation",
            format!(
                "Ce texte est trop long : {MAX_RECOMMENDATION} caractères au plus ({len} écrits)."
            ),
            format!(
                "This text is too long: {MAX_RECOMMENDATION} characters at most ({len} written)."
            ),
        ));
        None
    } else if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        problems.push(problem(
            "recommendation",
            "Ce texte contient des caractères invisibles. Enlevez-les.",
            "This text contains invisible characters. Remove them.",
        ));
        None
    } else {
        Some(v.to_owned())
    }
}

/// What an educator asks for when inviting an endorser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationInput {
    pub kind: EndorserKind,
    pub note: Option<String>,
    pub expires_in_days: u32,
}

/// Checks an invitation's fields (API): `(field, problem)` on the first problem.
pub fn validate_invitation(
    kind: Option<&str>,
    note: Option<&str>,
    expires_in_days: Option<i64>,
) -> Result<InvitationInput, (&'static str, String)> {
    let names = || {
        EndorserKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let kind = match kind {
        None => return Err(("endorser_kind", format!("is required: one of {}", names()))),
        Some(k) => EndorserKind::from_name(k.trim())
            .ok_or_else(|| ("endorser_kind", format!("{k:?} is not one of {}", names())))?,
    };
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note {
        if n.chars().count() > MAX_NOTE {
            return Err(("note", format!("must be at most {MAX_NOTE} characters")));
        }
        if n.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(("note", "must not contain control characters".to_owned()));
        }
    }
    let days = expires_in_days.unwrap_or(i64::from(DEFAULT_EXPIRY_DAYS));
    if !(1..=i64::from(MAX_EXPIRY_DAYS)).contains(&days) {
        return Err((
            "expires_in_days",
            format!("must be between 1 and {MAX_EXPIRY_DAYS} days ({days} given)"),
        ));
    }
    Ok(InvitationInput {
        kind,
        note: note.map(str::to_owned),
        expires_in_days: days as u32,
    })
}

/// Does this look like a token carnet could have made (base64url, bounded)? Others are not
/// looked up.
pub fn plausible_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> EndorserInput {
        EndorserInput {
            name: "  Marc Dupont ".into(),
            role: "Tuteur".into(),
            organisation: " ".into(),
            recommendation: "Léa travaille bien.\r\nElle est soigneuse.".into(),
            consent: true,
        }
    }

    #[test]
    fn a_good_form_is_trimmed_and_an_empty_organisation_is_none() {
        let v = validate(&input()).unwrap();
        assert_eq!(v.name, "Marc Dupont");
        assert_eq!(v.organisation, None);
        assert_eq!(v.comment, "Léa travaille bien.\nElle est soigneuse.");
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut bad = input();
        bad.name = "x".repeat(201);
        bad.role = "\n".into();
        bad.organisation = "a\u{7}b".into();
        bad.recommendation = "é".repeat(4001);
        bad.consent = false;
        let fields: Vec<&str> = validate(&bad)
            .unwrap_err()
            .iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            ["name", "role", "organisation", "recommendation", "consent"]
        );
        let mut limits = input();
        limits.name = "x".repeat(200);
        limits.recommendation = "é".repeat(4000);
        assert!(validate(&limits).is_ok());
        let mut hidden = input();
        hidden.recommendation = "bien\u{0}".into();
        assert_eq!(validate(&hidden).unwrap_err()[0].field, "recommendation");
    }

    #[test]
    fn invitations_are_bounded() {
        let ok = validate_invitation(Some("tutor"), Some("  "), None).unwrap();
        assert_eq!(ok.expires_in_days, DEFAULT_EXPIRY_DAYS);
        assert_eq!(ok.note, None);
        assert_eq!(
            validate_invitation(Some("boss"), None, None).unwrap_err().0,
            "endorser_kind"
        );
        assert_eq!(
            validate_invitation(None, None, None).unwrap_err().0,
            "endorser_kind"
        );
        for days in [0, 61, -3] {
            assert_eq!(
                validate_invitation(Some("partner"), None, Some(days))
                    .unwrap_err()
                    .0,
                "expires_in_days"
            );
        }
        assert!(validate_invitation(Some("partner"), None, Some(60)).is_ok());
        let long = "n".repeat(1001);
        assert_eq!(
            validate_invitation(Some("colleague"), Some(&long), None)
                .unwrap_err()
                .0,
            "note"
        );
    }

    #[test]
    fn tokens() {
        assert!(plausible_token("abcDEF-_09"));
        assert!(!plausible_token(""));
        assert!(!plausible_token("a/b"));
        assert!(!plausible_token(&"a".repeat(65)));
    }
}
