//! Verification of Open Badges 2.0 (and 1.x) badges, following openbadges-validator-core's task
//! graph (CHECKLIST §3): detect the input (URL, JSON, compact JWS; images are unbaked by the caller)
//! → fetch the hosted assertion at its id → read 1.x documents in the 2.0 shape → validate each
//! class (assertion, badge class, issuer profile, key, revocation list, endorsements) → check the
//! dates → hosted verification (scope, `410 Gone`, `revoked`) or signed verification (RS256 JWS, key
//! listed by the issuer and owned by it, revocation list) → the recipient, when an identifier is
//! given. The result is a [`Report`]: a badge that fails is an outcome, not an error, and a site that
//! does not answer makes the verdict "indeterminate", never "valid".
//!
//! Linked documents come from a [`DocumentSource`]; the OB 2.0 context is never fetched.

mod classes;
mod context;
mod extras;
mod finding;
mod graph;
mod input;
mod recipient;
mod rules;
pub mod source;
#[cfg(test)]
mod tests_signed;
mod upgrade;
mod values;
mod verification;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::verify::report::{Check, Report, Summary, check_id as id};
use classes::Class;
use graph::{Node, Run};
use input::Input;
use verification::Hosted;

pub use input::is_ob2_text;
pub use source::{
    Body, DocumentSource, Fetched, FetcherSource, OfflineSource, SourceError, StaticSource,
};

/// Check ids added for OB 2.0 (besides those of [`crate::verify::report::check_id`]).
/// The assertion is published by its issuer at its id, inside the issuer's verification scope.
pub const HOSTED: &str = "hosted";
/// Revoked (`410 Gone`, `revoked: true`, listed in the revocation list), not revoked, or unknown.
pub const REVOCATION: &str = "revocation";
/// A linked document (badge class, issuer profile, key, list) could be obtained where it says it is.
pub const DOCUMENT: &str = "document";
/// An endorsement of the badge, its class or its issuer (problems are warnings).
pub const ENDORSEMENT: &str = "endorsement";
/// An extension carnet cannot check (warning).
pub const EXTENSION: &str = "extension";

/// The OB 2.0 verifier.
pub struct Ob2Verifier {
    source: Arc<dyn DocumentSource>,
    now: Option<DateTime<Utc>>,
}

enum Mode {
    /// Read at its own address (`fetched`) or given as JSON whose address did not answer.
    Hosted {
        fetched: bool,
    },
    Signed(input::Jws),
    /// JSON that says it is signed, without its signature.
    SignedWithoutJws,
}

impl Ob2Verifier {
    pub fn new(source: Arc<dyn DocumentSource>) -> Self {
        Self { source, now: None }
    }

    /// Checks dates against `now` instead of the clock (tests).
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    /// Verifies a badge given as text: a URL, a JSON document or a compact JWS (e.g. what
    /// `bake::unbake` read from a PNG or SVG). `container` names where it came from (`text`, `png`,
    /// `svg`) for the summary; `recipient` is an identifier (email) to check the badge was given to.
    pub async fn verify_text(
        &self,
        text: &str,
        container: &str,
        recipient: Option<&str>,
    ) -> Report {
        let mut run = Run::new(self.source.as_ref(), self.now.unwrap_or_else(Utc::now));
        let summary = verify_in(&mut run, text, container, recipient).await;
        Report::from_checks(run.into_checks(), summary)
    }
}

fn parse_failure(run: &mut Run<'_>, fr: &str, en: &str) {
    run.push(Check::fail(
        id::PARSE,
        format!("Impossible de lire le badge : {fr}."),
        format!("The badge cannot be read: {en}."),
    ));
}

/// Reads the input; a URL answering with a baked image is unbaked once.
async fn read_input(run: &mut Run<'_>, text: &str) -> Option<(Input, Option<Value>)> {
    let mut text = text.to_string();
    for _ in 0..2 {
        let input = match input::detect(&text) {
            Ok(i) => i,
            Err((fr, en)) => {
                parse_failure(run, &fr, &en);
                return None;
            }
        };
        let Input::Url(url) = &input else {
            return Some((input, None));
        };
        match verification::fetch_hosted(run, url).await {
            Hosted::Found(v) => return Some((input, Some(v))),
            Hosted::Bytes(bytes) => {
                match crate::bake::unbake(&bytes, &crate::bake::Limits::default()) {
                    Ok(baked) => {
                        text = baked
                            .verify_attr
                            .filter(|v| input::looks_like_jws(v))
                            .unwrap_or(baked.text)
                    }
                    Err(e) => {
                        parse_failure(
                            run,
                            &format!(
                                "l'adresse ne renvoie ni un badge JSON ni une image de badge ({e})"
                            ),
                            &format!(
                                "the address answers neither a JSON badge nor a badge image ({e})"
                            ),
                        );
                        return None;
                    }
                }
            }
            Hosted::Revoked | Hosted::Failed => return None,
        }
    }
    parse_failure(
        run,
        "l'image renvoie vers une autre adresse",
        "the image points to yet another address",
    );
    None
}

async fn verify_in(
    run: &mut Run<'_>,
    text: &str,
    container: &str,
    recipient: Option<&str>,
) -> Option<Summary> {
    let (input, fetched) = read_input(run, text).await?;
    run.push(Check::pass(
        id::PARSE,
        "Le badge a été lu.",
        "The badge was read.",
    ));
    let (kind, subject, mode) = match input {
        Input::Url(url) => {
            let subject = run.intake(fetched.unwrap_or_default(), Some(&url), None, "");
            let signed = is_signed(&subject.value);
            let mode = if signed {
                Mode::SignedWithoutJws
            } else {
                Mode::Hosted { fetched: true }
            };
            ("url", subject, mode)
        }
        Input::Json(given) => match json_subject(run, given).await {
            Ok((subject, mode)) => ("json", subject, mode),
            Err(pre) => return Some(summary(&pre, None, None, &format!("{container}+ob2-json"))),
        },
        Input::Jws(jws) => {
            let subject = run.intake(jws.payload.clone(), None, Some(Class::Assertion), "");
            ("jws", subject, Mode::Signed(jws))
        }
    };
    let format = format!("{container}+ob2-{kind}");
    match classes::class_of(&subject.value) {
        Some(Class::Assertion) => {
            Some(assertion_steps(run, &subject, mode, recipient, &format).await)
        }
        _ if matches!(mode, Mode::Signed(_)) => {
            run.push(Check::fail(
                id::CONFORMANCE,
                "Le document signé n'est pas une assertion (un badge remis).",
                "The signed document is not an assertion (an awarded badge).",
            ));
            Some(summary(&subject.value, None, None, &format))
        }
        Some(class) => {
            run.validate(&subject, class, "");
            let issuer = linked_issuer(run, &subject, class).await;
            extras::extension_checks(run, &[(&subject, "")]);
            Some(summary(&subject.value, None, issuer.as_ref(), &format))
        }
        None => {
            unknown_class(run, &subject);
            Some(summary(&subject.value, None, None, &format))
        }
    }
}

/// A JSON badge: a hosted assertion is checked as its issuer publishes it at its id (validator-core
/// fetches the id of JSON input too); anything else is checked as given. `Err` carries the
/// assertion when its address says it is revoked, or could not be read (both reported): nothing
/// more to check, the copy given is not what hosted verification checks (its faults would make
/// "could not check" an "invalid" that the published assertion may not deserve).
async fn json_subject(run: &mut Run<'_>, given: Value) -> Result<(Node, Mode), Value> {
    let pre = upgrade::upgrade(given.clone(), None, None).doc;
    if classes::class_of(&pre) != Some(Class::Assertion) {
        return Ok((
            run.intake(given, None, None, ""),
            Mode::Hosted { fetched: false },
        ));
    }
    if is_signed(&pre) {
        return Ok((run.intake(given, None, None, ""), Mode::SignedWithoutJws));
    }
    let Some(url) = pre
        .get("id")
        .and_then(Value::as_str)
        .filter(|u| values::is_url(u))
    else {
        run.push(Check::fail(
            HOSTED,
            "Le badge ne donne pas l'adresse où son émetteur le publie (id) : il ne peut pas être vérifié.",
            "The badge does not give the address where its issuer publishes it (id): it cannot be verified.",
        ).at("id"));
        return Ok((
            run.intake(given, None, None, ""),
            Mode::Hosted { fetched: false },
        ));
    };
    let url = url.to_string();
    match verification::fetch_hosted(run, &url).await {
        Hosted::Found(v) => {
            let differs = upgrade::upgrade(v.clone(), Some(&url), None).doc != pre;
            let subject = run.intake(v, Some(&url), None, "");
            if differs {
                run.push(Check::warn(
                    HOSTED,
                    "Le badge fourni diffère de celui que l'émetteur publie : carnet a vérifié la version publiée.",
                    "The badge given differs from the one the issuer publishes: carnet checked the published one.",
                ));
            }
            Ok((subject, Mode::Hosted { fetched: true }))
        }
        Hosted::Revoked => Err(pre),
        Hosted::Bytes(_) => {
            run.push(Check::fail(
                HOSTED,
                format!(
                    "L'adresse du badge ({url}) ne renvoie pas le badge mais un autre document."
                ),
                format!("The badge's address ({url}) answers another document, not the badge."),
            ));
            Ok((
                run.intake(given, None, None, ""),
                Mode::Hosted { fetched: false },
            ))
        }
        Hosted::Failed => Err(pre),
    }
}

fn is_signed(doc: &Value) -> bool {
    matches!(
        doc.get("verification")
            .and_then(|v| v.get("type"))
            .and_then(Value::as_str),
        Some("signed" | "SignedBadge")
    )
}

/// A badge class or endorsement given on its own: its issuer is fetched and validated too.
async fn linked_issuer(run: &mut Run<'_>, subject: &Node, class: Class) -> Option<Node> {
    if !matches!(class, Class::BadgeClass | Class::Endorsement) {
        return None;
    }
    let reference = subject.get("issuer")?.clone();
    match run.node(&reference, Class::Profile, "issuer").await {
        Ok(issuer) => {
            run.validate(&issuer, Class::Profile, "issuer");
            Some(issuer)
        }
        Err(check) => {
            run.push(check);
            None
        }
    }
}

/// A document whose types carnet does not know: only its id and types can be checked.
fn unknown_class(run: &mut Run<'_>, subject: &Node) {
    let types: Vec<&Value> = values::list_of(subject.get("type"));
    let bad: Vec<String> = types
        .iter()
        .filter(|t| !t.as_str().is_some_and(|s| subject.terms.is_rdf_type(s)))
        .map(|t| values::show(t))
        .collect();
    if types.is_empty() || !bad.is_empty() {
        run.push(
            Check::fail(
                id::CONFORMANCE,
                format!(
                    "Le type du document n'est ni un type Open Badges ni une adresse (IRI) : {}.",
                    if bad.is_empty() {
                        "aucun".into()
                    } else {
                        bad.join(", ")
                    }
                ),
                format!(
                    "The document's type is neither an Open Badges type nor an IRI: {}.",
                    if bad.is_empty() {
                        "none".into()
                    } else {
                        bad.join(", ")
                    }
                ),
            )
            .at("type"),
        );
    } else if subject.id().is_some_and(|i| !values::is_iri(i)) {
        run.push(
            Check::fail(
                id::CONFORMANCE,
                "L'identifiant (id) n'est pas une adresse (IRI).",
                "The id is not an IRI.",
            )
            .at("id"),
        );
    } else {
        let list: Vec<String> = types.iter().map(|t| values::show(t)).collect();
        run.push(Check::warn(
            id::CONFORMANCE,
            format!("carnet ne connaît pas la classe {} : seuls son identifiant et son type ont été vérifiés.", list.join(", ")),
            format!("carnet does not know the class {}: only its id and type were checked.", list.join(", ")),
        ));
    }
}

async fn assertion_steps(
    run: &mut Run<'_>,
    subject: &Node,
    mode: Mode,
    recipient: Option<&str>,
    format: &str,
) -> Summary {
    run.validate(subject, Class::Assertion, "");
    let badge = match subject.get("badge").cloned() {
        Some(r) => match run.node(&r, Class::BadgeClass, "badge").await {
            Ok(b) => Some(b),
            Err(check) => {
                run.push(check);
                None
            }
        },
        None => None,
    };
    if let Some(b) = &badge {
        run.validate(b, Class::BadgeClass, "badge");
    }
    let issuer = match &badge {
        Some(b) => linked_issuer(run, b, Class::BadgeClass).await,
        None => None,
    };
    verification::timestamp_checks(run, &subject.value);
    match mode {
        Mode::Hosted { fetched } => verification::hosted_checks(run, subject, issuer.as_ref(), fetched),
        Mode::Signed(jws) => {
            if !is_signed(&subject.value) {
                run.push(Check::warn(
                    id::CONFORMANCE,
                    "Le badge est signé mais se déclare « hébergé » (verification.type).",
                    "The badge is signed but says it is hosted (verification.type).",
                ));
            }
            verification::signed_checks(run, &jws, subject, issuer.as_ref()).await;
        }
        Mode::SignedWithoutJws => run.push(Check::fail(
            id::PROOF,
            "Ce badge est signé : il faut le vérifier avec sa signature (le jeton JWS), pas avec le seul JSON.",
            "This badge is signed: it must be verified with its signature (the JWS), not the JSON alone.",
        )),
    }
    let mut nodes: Vec<(&Node, &str)> = vec![(subject, "")];
    if let Some(b) = &badge {
        nodes.push((b, "badge."));
    }
    if let Some(i) = &issuer {
        nodes.push((i, "badge.issuer."));
    }
    extras::endorsement_checks(run, &nodes).await;
    extras::extension_checks(run, &nodes);
    if let Some(candidate) = recipient {
        run.push(recipient::recipient_check(&subject.value, candidate));
    }
    summary(&subject.value, badge.as_ref(), issuer.as_ref(), format)
}

fn summary(subject: &Value, badge: Option<&Node>, issuer: Option<&Node>, format: &str) -> Summary {
    use crate::verify::report::{EndorsementSummary, EvidenceSummary, safe_image, text_of};
    let s = |v: Option<&Value>, k: &str| {
        v.and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let badge_v = badge.map(|b| &b.value);
    let issuer_v = issuer.map(|i| &i.value);
    let list = |v: Option<&Value>| -> Vec<Value> {
        match v {
            Some(Value::Array(a)) => a.clone(),
            Some(one) => vec![one.clone()],
            None => vec![],
        }
    };
    let is_url = |u: &&str| u.starts_with("https://") || u.starts_with("http://");
    let evidence = list(subject.get("evidence"))
        .iter()
        .take(20)
        .map(|e| match e {
            Value::String(url) => EvidenceSummary {
                url: Some(url.clone()).filter(|u| is_url(&u.as_str())),
                ..EvidenceSummary::default()
            },
            e => EvidenceSummary {
                name: text_of(e.get("name")),
                description: text_of(e.get("description")),
                narrative: text_of(e.get("narrative")),
                url: e
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(is_url)
                    .map(str::to_string),
            },
        })
        .collect();
    // Embedded OB 2.0 endorsements (claim + issuer); referenced ones are only named by URL.
    let endorsements = [Some(subject), badge_v, issuer_v]
        .into_iter()
        .flat_map(|v| list(v.and_then(|v| v.get("endorsement"))))
        .filter(Value::is_object)
        .take(20)
        .map(|e| EndorsementSummary {
            issuer_id: e
                .pointer("/issuer/id")
                .and_then(Value::as_str)
                .map(str::to_string),
            issuer_name: text_of(e.pointer("/issuer/name")),
            issuer_description: text_of(e.pointer("/issuer/description")),
            comment: text_of(e.pointer("/claim/endorsementComment")),
            valid_from: e
                .get("issuedOn")
                .and_then(Value::as_str)
                .map(str::to_string),
            // the checks of OB 2.0 endorsements are named by node; the page lists them apart
            path: None,
        })
        .collect();
    let criteria = badge_v.and_then(|b| b.get("criteria"));
    Summary {
        format: format.to_string(),
        kind: Some("Assertion".to_string()),
        credential_id: s(Some(subject), "id"),
        name: s(badge_v, "name").or_else(|| s(Some(subject), "name")),
        issuer_id: s(issuer_v, "id")
            .or_else(|| extras::first_ref(badge_v.and_then(|b| b.get("issuer")))),
        issuer_name: s(issuer_v, "name"),
        achievement_name: s(badge_v, "name"),
        valid_from: s(Some(subject), "issuedOn"),
        valid_until: s(Some(subject), "expires"),
        description: text_of(badge_v.and_then(|b| b.get("description"))),
        criteria: text_of(criteria.and_then(|c| c.get("narrative"))),
        criteria_url: criteria
            .and_then(|c| c.as_str().or_else(|| c.get("id").and_then(Value::as_str)))
            .filter(is_url)
            .map(str::to_string),
        image: safe_image(subject.get("image"))
            .or_else(|| safe_image(badge_v.and_then(|b| b.get("image")))),
        recipient_name: None,
        narrative: text_of(subject.get("narrative")),
        evidence,
        endorsements,
    }
}
