//! The checks of a verification report, one function each: how a finding becomes a bilingual
//! message (proof, key, controller, JSON-LD, dates, recipient, JWT claims) and the report's summary.
//! A VC-JWT's `nbf` and `exp` are each honoured on their own beside the credential's dates: when
//! they disagree, the stricter date counts.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::conformance;
use super::report::{self, Check, Report, Summary, check_id as id};
use super::resolve::{ResolveError, ResolvedKey};
use crate::jsonld::{self, CanonError};
use crate::proof::data_integrity::DiError;

pub(super) fn parse_failure(fr: &str, en: &str) -> Report {
    Report::from_checks(
        vec![Check::fail(
            id::PARSE,
            format!("Impossible de lire le badge : {fr}."),
            format!("The badge cannot be read: {en}."),
        )],
        None,
    )
}

pub(super) fn first_context(cred: &Value) -> Option<&str> {
    match cred.get("@context")? {
        Value::Array(a) => a.first()?.as_str(),
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// The types that make a credential an Open Badge (OB 3.0 §8.1, and the endorsement of §8.4).
const OPEN_BADGE_TYPES: [&str; 3] = [
    "OpenBadgeCredential",
    "AchievementCredential",
    "EndorsementCredential",
];

fn types(cred: &Value) -> Vec<&str> {
    match cred.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// What the document is, by its most specific type.
pub(super) fn kind(cred: &Value) -> Option<String> {
    let types = types(cred);
    types
        .iter()
        .rev()
        .find(|t| **t != "VerifiableCredential")
        .or(types.first())
        .map(|t| t.to_string())
}

pub(super) fn conformance_checks(cred: &Value, checks: &mut Vec<Check>) {
    let types = types(cred);
    if types.contains(&"VerifiableCredential")
        && !types.iter().any(|t| OPEN_BADGE_TYPES.contains(t))
    {
        // A signed credential of another kind: judged on its signature, issuer and dates; the
        // Open Badges data model does not apply to it, so its rules are not listed one by one.
        let list = types.join(", ");
        checks.push(
            Check::fail(
                id::CONFORMANCE,
                format!(
                    "Ce document n'est pas un badge Open Badges : c'est une attestation numérique signée d'un autre genre (type : {list}). Sa signature, son émetteur et ses dates ont été vérifiés comme pour un badge."
                ),
                format!(
                    "This document is not an Open Badge: it is a signed digital credential of another kind (type: {list}). Its signature, issuer and dates were checked as for a badge."
                ),
            )
            .at("type")
            .because(report::reason::NOT_AN_OPEN_BADGE),
        );
        return;
    }
    let problems = conformance::check_credential(cred);
    let failed = problems.iter().any(|c| c.status == report::Status::Fail);
    checks.extend(problems);
    if !failed {
        checks.push(Check::pass(
            id::CONFORMANCE,
            "Le badge respecte le modèle Open Badges 3.0.",
            "The badge follows the Open Badges 3.0 data model.",
        ));
    }
}

pub(super) async fn jsonld_check(cred: &Value, checks: &mut Vec<Check>) {
    let doc = cred.clone();
    match tokio::task::spawn_blocking(move || jsonld::canonicalize(&doc)).await {
        Ok(Ok(_)) => checks.push(Check::pass(
            id::JSONLD,
            "Tous les termes du badge sont définis par ses contextes.",
            "Every term of the badge is defined by its contexts.",
        )),
        Ok(Err(e)) => checks.push(canon_failure(&e)),
        Err(_) => checks.push(Check::unknown(
            id::JSONLD,
            "Vérification JSON-LD interrompue.",
            "JSON-LD check interrupted.",
        )),
    }
}

pub(super) fn canon_failure(e: &CanonError) -> Check {
    match e {
        CanonError::UnknownContext(url) => Check::unknown(
            id::CONTEXT,
            format!(
                "Le contexte {url} est inconnu de carnet : il n'a pas été téléchargé, le badge n'a pas pu être vérifié."
            ),
            format!(
                "The context {url} is unknown to carnet: it was not fetched, so the badge could not be checked."
            ),
        )
        // without the context, the signature cannot be checked
        .in_section(report::Section::Authenticity),
        CanonError::UndefinedTerm(t) => Check::fail(
            id::JSONLD,
            format!("Le badge contient un terme que ses contextes ne définissent pas : {t}."),
            format!("The badge contains a term its contexts do not define: {t}."),
        ),
        other => Check::fail(
            id::JSONLD,
            format!("Le badge n'est pas un JSON-LD valide : {other}."),
            format!("The badge is not valid JSON-LD: {other}."),
        ),
    }
}

pub(super) fn di_failure(e: &DiError) -> Check {
    match e {
        DiError::Canon(c) => canon_failure(c),
        DiError::SignatureMismatch => Check::fail(
            id::PROOF,
            "La signature ne correspond pas : le badge a été modifié après sa signature, ou signé avec une autre clé.",
            "The signature does not match: the badge was changed after it was signed, or signed with another key.",
        ),
        DiError::UnsupportedProof(what) => Check::unknown(
            id::PROOF,
            format!("Ce type de preuve n'est pas pris en charge : {what}."),
            format!("This proof type is not supported: {what}."),
        ),
        other => Check::fail(
            id::PROOF,
            format!("La preuve est mal formée : {other}."),
            format!("The proof is malformed: {other}."),
        ),
    }
}

pub(super) fn resolve_failure(reference: &str, e: &ResolveError) -> Check {
    match e {
        ResolveError::Offline => Check::unknown(
            id::KEY,
            format!(
                "La clé {reference} n'a pas pu être obtenue : le vérificateur ne consulte pas le réseau."
            ),
            format!("The key {reference} could not be obtained: network lookups are turned off."),
        ),
        ResolveError::Fetch(e) => Check::unknown(
            id::KEY,
            format!(
                "La clé {reference} n'a pas pu être obtenue : {}.",
                e.in_french()
            ),
            format!("The key {reference} could not be obtained: {e}."),
        ),
        ResolveError::Invalid(why) => Check::fail(
            id::KEY,
            format!("La clé {reference} est refusée : {why}."),
            format!("The key {reference} is refused: {why}."),
        ),
    }
}

pub(super) fn key_check(reference: &str, key: &ResolvedKey) -> Check {
    if key.confirmed {
        Check::pass(
            id::KEY,
            format!("La clé {reference} a été trouvée ({}).", key.how),
            format!("The key {reference} was found ({}).", key.how),
        )
    } else {
        Check::warn(
            id::KEY,
            format!(
                "La clé est écrite dans le badge ({reference}) : carnet n'a pas pu confirmer sur le site de l'émetteur qu'elle est la sienne."
            ),
            format!(
                "The key is written in the badge ({reference}): carnet could not confirm on the issuer's site that it is theirs."
            ),
        )
    }
}

pub(super) fn issuer_id(cred: &Value) -> Option<&str> {
    cred.get("issuer")
        .and_then(|i| i.get("id").and_then(Value::as_str).or_else(|| i.as_str()))
}

pub(super) fn controller_check(cred: &Value, key: &ResolvedKey) -> Check {
    let issuer = issuer_id(cred).unwrap_or("");
    match key.controller.as_deref() {
        Some(c) if c == issuer => Check::pass(
            id::CONTROLLER,
            "La clé appartient bien à l'émetteur du badge.",
            "The key belongs to the badge's issuer.",
        ),
        // did:key names only a key: nothing ties it to an issuer id of another form (1EdTech accepts it).
        // Only for issuer ids that cannot publish keys (urn:uuid...): an issuer with an https or
        // DID id must sign with a key it controls.
        Some(c)
            if key.how == "did:key"
                && !(issuer.starts_with("https://")
                    || issuer.starts_with("http://")
                    || issuer.starts_with("did:")) =>
        {
            Check::warn(
                id::CONTROLLER,
                format!(
                    "La clé {c} n'est pas liée à l'identifiant de l'émetteur ({issuer}) : rien ne prouve qu'elle est la sienne."
                ),
                format!(
                    "The key {c} is not tied to the issuer's id ({issuer}): nothing proves it is theirs."
                ),
            )
        }
        Some(c) => Check::fail(
            id::CONTROLLER,
            format!("La clé appartient à {c}, pas à l'émetteur du badge ({issuer})."),
            format!("The key belongs to {c}, not to the badge's issuer ({issuer})."),
        ),
        None => Check::warn(
            id::CONTROLLER,
            "Le propriétaire de la clé est inconnu.",
            "The key's owner is unknown.",
        ),
    }
}

/// The JWT claims that repeat the credential (VC-JOSE-COSE §3.1.2, and VC-JWT 1.1 §6.3.1 for the
/// `vc` shape): `iss`, `jti` and `sub` must match it. The date claims are judged with the dates
/// (`date_checks`).
pub(super) fn claims_checks(payload: &Value, cred: &Value, checks: &mut Vec<Check>) {
    let mut mismatch = |claim: &str, expected: Option<&str>, what: &str| {
        let got = payload.get(claim);
        match (got, expected) {
            (None, _) => {}
            (Some(g), Some(e)) if g.as_str() == Some(e) => {}
            (Some(_), _) => checks.push(Check::fail(
                id::PROOF,
                format!("La revendication JWT « {claim} » ne correspond pas à {what}."),
                format!("The JWT claim \"{claim}\" does not match {what}."),
            )),
        }
    };
    mismatch("iss", issuer_id(cred), "issuer.id");
    mismatch("jti", cred.get("id").and_then(Value::as_str), "id");
    mismatch(
        "sub",
        cred.pointer("/credentialSubject/id")
            .and_then(Value::as_str),
        "credentialSubject.id",
    );
}

/// A JWT NumericDate claim (`nbf`, `exp`): seconds since the epoch, fractions allowed (RFC 7519
/// §2). `Some(Err)` when present but unreadable.
fn claim_date(claims: Option<&Value>, claim: &str) -> Option<Result<DateTime<Utc>, String>> {
    let v = claims?.get(claim)?;
    Some(
        v.as_f64()
            .filter(|s| s.is_finite())
            .and_then(|s| DateTime::from_timestamp(s.floor() as i64, 0))
            .ok_or_else(|| format!("JWT {claim}")),
    )
}

/// One end of the validity window, from the credential's date and the JWT claim, each honoured on
/// its own: when both exist and disagree, the stricter wins (`later` picks the later date for a
/// start, the earlier for an end) and a warning says so.
fn window_end(
    field: Option<Result<DateTime<Utc>, String>>,
    claim: Option<Result<DateTime<Utc>, String>>,
    names: (&str, &str),
    later: bool,
    checks: &mut Vec<Check>,
) -> Option<Result<DateTime<Utc>, String>> {
    match (field, claim) {
        (Some(Ok(a)), Some(Ok(b))) if a.timestamp() != b.timestamp() => {
            let (field, claim) = names;
            checks.push(
                Check::warn(
                    id::CONFORMANCE,
                    format!(
                        "La revendication JWT « {claim} » ({}) ne correspond pas à {field} ({}) : la date la plus stricte compte.",
                        b.format("%d/%m/%Y %H:%M"),
                        a.format("%d/%m/%Y %H:%M")
                    ),
                    format!(
                        "The JWT claim \"{claim}\" ({}) does not match {field} ({}): the stricter date counts.",
                        b.format("%Y-%m-%d %H:%M"),
                        a.format("%Y-%m-%d %H:%M")
                    ),
                )
                .at(claim),
            );
            Some(Ok(if later == (a > b) { a } else { b }))
        }
        (Some(Err(e)), _) | (_, Some(Err(e))) => Some(Err(e)),
        (Some(a), _) => Some(a),
        (None, b) => b,
    }
}

pub(super) fn date_of(cred: &Value, keys: &[&str]) -> Option<Result<DateTime<Utc>, String>> {
    let (k, v) = keys.iter().find_map(|k| cred.get(*k).map(|v| (*k, v)))?;
    Some(
        v.as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| k.to_string()),
    )
}

/// The validity window against the clock: `validFrom` / `issuanceDate` and `validUntil` /
/// `expirationDate`, and for a VC-JWT its `nbf` and `exp` claims too.
pub(super) fn date_checks(cred: &Value, claims: Option<&Value>, checks: &mut Vec<Check>) {
    let now = Utc::now();
    let from = window_end(
        date_of(cred, &["validFrom", "issuanceDate"]),
        claim_date(claims, "nbf"),
        ("validFrom", "nbf"),
        true,
        checks,
    );
    let until = window_end(
        date_of(cred, &["validUntil", "expirationDate"]),
        claim_date(claims, "exp"),
        ("validUntil", "exp"),
        false,
        checks,
    );
    match from {
        Some(Ok(from)) if from > now => checks.push(
            Check::fail(
                id::VALID_FROM,
                format!(
                    "Le badge n'est pas encore valable : il le sera le {}.",
                    from.format("%d/%m/%Y")
                ),
                format!(
                    "The badge is not valid yet: it will be on {}.",
                    from.format("%Y-%m-%d")
                ),
            )
            .because(report::reason::NOT_YET_VALID),
        ),
        Some(Ok(from)) => checks.push(Check::pass(
            id::VALID_FROM,
            format!(
                "Le badge est valable depuis le {}.",
                from.format("%d/%m/%Y")
            ),
            format!("The badge is valid since {}.", from.format("%Y-%m-%d")),
        )),
        Some(Err(k)) => checks.push(Check::fail(
            id::VALID_FROM,
            format!("La date {k} est illisible."),
            format!("The date {k} cannot be read."),
        )),
        None => {}
    }
    match until {
        Some(Ok(until)) if until < now => checks.push(
            Check::fail(
                id::VALID_UNTIL,
                format!("Le badge a expiré le {}.", until.format("%d/%m/%Y")),
                format!("The badge expired on {}.", until.format("%Y-%m-%d")),
            )
            .because(report::reason::EXPIRED),
        ),
        Some(Ok(until)) => checks.push(Check::pass(
            id::VALID_UNTIL,
            format!(
                "Le badge est valable jusqu'au {}.",
                until.format("%d/%m/%Y")
            ),
            format!("The badge is valid until {}.", until.format("%Y-%m-%d")),
        )),
        Some(Err(k)) => checks.push(Check::fail(
            id::VALID_UNTIL,
            format!("La date {k} est illisible."),
            format!("The date {k} cannot be read."),
        )),
        None => {}
    }
}

/// Compares a known identifier (an email) with the credential's subject, hashing it with each salt.
pub(super) fn recipient_check(cred: &Value, candidate: &str, checks: &mut Vec<Check>) {
    let subject = cred.get("credentialSubject");
    let by_id = subject
        .and_then(|s| s.get("id"))
        .and_then(Value::as_str)
        .is_some_and(|i| {
            i == candidate
                || i.strip_prefix("mailto:")
                    .is_some_and(|m| m.eq_ignore_ascii_case(candidate.trim()))
        });
    let identifiers = subject.and_then(|s| s.get("identifier")).map(|v| match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    });
    let by_identifier = identifiers.into_iter().flatten().any(|ident| {
        let kind = ident
            .get("identityType")
            .and_then(Value::as_str)
            .unwrap_or("");
        if kind != "emailAddress" {
            return false;
        }
        let value = ident
            .get("identityHash")
            .and_then(Value::as_str)
            .unwrap_or("");
        if ident
            .get("hashed")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            crate::recipient::matches(candidate, value, ident.get("salt").and_then(Value::as_str))
        } else {
            value.trim().eq_ignore_ascii_case(candidate.trim())
        }
    });
    if by_id || by_identifier {
        checks.push(Check::pass(
            id::RECIPIENT,
            "Le badge a bien été donné à cette personne.",
            "The badge was given to this person.",
        ));
    } else {
        checks.push(
            Check::fail(
                id::RECIPIENT,
                "Le badge n'a pas été donné à cette adresse email.",
                "The badge was not given to this email address.",
            )
            .because(report::reason::RECIPIENT_MISMATCH),
        );
    }
}

pub(super) fn finish(
    cred: &Value,
    claims: Option<&Value>,
    mut checks: Vec<Check>,
    summary: Summary,
    recipient: Option<&str>,
) -> Report {
    date_checks(cred, claims, &mut checks);
    if let Some(r) = recipient {
        recipient_check(cred, r, &mut checks);
    }
    Report::from_checks(checks, Some(summary))
}

pub(super) fn summary(cred: &Value, format: &str) -> Summary {
    let s = |p: &str| cred.pointer(p).and_then(Value::as_str).map(str::to_string);
    let t = |p: &str| report::text_of(cred.pointer(p));
    // OB 3.0 puts the recipient's name, when published, in an unhashed `name` identifier.
    let recipient_name = subjects(cred).find_map(|subject| {
        subject
            .get("identifier")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|i| {
                i.get("identityType").and_then(Value::as_str) == Some("name")
                    && i.get("hashed").and_then(Value::as_bool) != Some(true)
            })
            .and_then(|i| i.get("identityHash"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let evidence = as_list(cred.get("evidence"))
        .map(|e| report::EvidenceSummary {
            name: report::text_of(e.get("name")),
            description: report::text_of(e.get("description")),
            narrative: report::text_of(e.get("narrative")),
            url: e
                .get("id")
                .and_then(Value::as_str)
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .map(str::to_string),
        })
        .take(20)
        .collect();
    // paths as `verify/endorsements.rs` names them in its checks
    let at = |path: &'static str| move |(i, e)| (format!("{path}[{i}]"), e);
    let endorsements = as_list(cred.get("endorsement"))
        .enumerate()
        .map(at("endorsement"))
        .chain(
            as_list(cred.pointer("/credentialSubject/achievement/endorsement"))
                .enumerate()
                .map(at("credentialSubject.achievement.endorsement")),
        )
        .map(|(path, e): (String, &Value)| report::EndorsementSummary {
            path: Some(path),
            issuer_id: issuer_id(e).map(str::to_string),
            issuer_name: report::text_of(e.pointer("/issuer/name")),
            issuer_description: report::text_of(e.pointer("/issuer/description")),
            comment: report::text_of(e.pointer("/credentialSubject/endorsementComment")),
            valid_from: ["validFrom", "issuanceDate", "issuedOn"]
                .iter()
                .find_map(|k| e.get(*k).and_then(Value::as_str))
                .map(str::to_string),
        })
        .take(20)
        .collect();
    Summary {
        format: format.to_string(),
        kind: kind(cred),
        credential_id: s("/id"),
        name: t("/name"),
        issuer_id: issuer_id(cred).map(str::to_string),
        issuer_name: t("/issuer/name"),
        achievement_name: t("/credentialSubject/achievement/name"),
        valid_from: s("/validFrom").or_else(|| s("/issuanceDate")),
        valid_until: s("/validUntil").or_else(|| s("/expirationDate")),
        description: t("/credentialSubject/achievement/description").or_else(|| t("/description")),
        criteria: t("/credentialSubject/achievement/criteria/narrative"),
        criteria_url: s("/credentialSubject/achievement/criteria/id"),
        image: report::safe_image(cred.pointer("/credentialSubject/achievement/image"))
            .or_else(|| report::safe_image(cred.get("image"))),
        recipient_name,
        narrative: t("/credentialSubject/narrative"),
        evidence,
        endorsements,
    }
}

/// A JSON value that may be one object or an array of them.
fn as_list(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    let items: &[Value] = match v {
        Some(Value::Array(a)) => a,
        Some(one) => std::slice::from_ref(one),
        None => &[],
    };
    items.iter().filter(|v| v.is_object())
}

fn subjects(cred: &Value) -> impl Iterator<Item = &Value> {
    as_list(cred.get("credentialSubject"))
}
