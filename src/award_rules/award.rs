//! From a carnet to issued awards: the proposals with the awards already issued from them, and the
//! educator's confirmation, which issues the award (OB 3.0 + OB 2.0) through
//! [`crate::issue::issue_recognised`]. Shared by the API and the CLI.
//!
//! An award confirmed from a carnet has an idempotency key derived from the carnet, the class and
//! the référentiel version ([`idempotency_key`]): a double click, a retry or a second educator
//! confirming the same proposal gets the award already issued, never a second one (the key is
//! unique per issuer in the store, so a concurrent confirmation gets the winner's award). A
//! confirmation checks the proposal again (not earned now: refused with the reasons), writes the
//! narrative, and issues to the carnet's salted hash, or to a fresh one when the educator gives
//! the person's email again (it must be the carnet's person).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::narrative::narrative;
use super::proposal::{Proposal, propose, propose_class};
use crate::badge_class::BadgeClass;
use crate::issue::{IssueError, RecognisedAwardRequest, issue_recognised};
use crate::issuer::Issuer;
use crate::ob3::credential::AwardDetails;
use crate::ob3::recognition::Recognised;
use crate::recipient::{Email, HashedIdentity, hash_email};
use crate::referentiel::Referentiel;
use crate::referentiel::carnet::{CarnetEntry, person_key};
use crate::store::{Award, Carnet, Store, StoreError};

/// The idempotency key of the award of `class` from `carnet`.
pub fn idempotency_key(carnet: &Carnet, class: &BadgeClass) -> String {
    format!(
        "carnet:{}:{}:{}:{}",
        carnet.id, class.slug, carnet.referentiel_id, carnet.referentiel_version
    )
}

/// A proposal, with the award already issued from it if any.
#[derive(Debug, Clone)]
pub struct Listed<'a> {
    pub proposal: Proposal<'a>,
    pub award: Option<Award>,
}

/// The carnet's entries.
pub fn entries(carnet: &Carnet) -> Vec<CarnetEntry> {
    carnet.entries.iter().map(|r| r.entry.clone()).collect()
}

/// What the carnet earns among the classes, and what was already issued from it.
pub async fn proposals<'a>(
    store: &Store,
    classes: &'a BTreeMap<String, BadgeClass>,
    carnet: &Carnet,
    referentiel: &Referentiel,
) -> Result<Vec<Listed<'a>>, StoreError> {
    let entries = entries(carnet);
    let mut listed = Vec::new();
    for proposal in propose(referentiel, &entries, classes.values()) {
        let award = store
            .find_by_idempotency_key(
                &carnet.issuer_slug,
                &idempotency_key(carnet, proposal.class),
            )
            .await?;
        listed.push(Listed { proposal, award });
    }
    Ok(listed)
}

/// What the educator may add when confirming.
#[derive(Debug, Clone, Default)]
pub struct Confirmation {
    /// The person's email, given again: the award then gets a fresh salted hash (carnet keeps
    /// only hashes; without it the award uses the carnet's). Must be the carnet's person.
    pub recipient_email: Option<Email>,
    /// Published in the badge only when given.
    pub recipient_name: Option<String>,
    pub evidence_url: Option<String>,
    /// In the person's or the educator's words, beside the generated narrative.
    pub narrative: Option<String>,
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// The class recognises no competence of the carnet's référentiel version.
    #[error(
        "« {class} » does not recognise competences of the référentiel {referentiel} version {version}"
    )]
    NotConcerned {
        class: String,
        referentiel: String,
        version: String,
    },
    /// The carnet does not (or no longer) earn the class; the reasons, in French.
    #[error("this carnet does not earn « {class} »: {}", reasons.join(" ; "))]
    NotEarned { class: String, reasons: Vec<String> },
    /// The email given is not the carnet's person.
    #[error("this email is not the one of the carnet's person")]
    WrongPerson,
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::problem::Problem for ConfirmError {
    fn kind(&self) -> crate::problem::Kind {
        use crate::problem::Kind;
        match self {
            ConfirmError::NotConcerned { .. } | ConfirmError::NotEarned { .. } => Kind::Conflict,
            ConfirmError::WrongPerson => Kind::Invalid,
            ConfirmError::Issue(e) => e.kind(),
            ConfirmError::Store(e) => e.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ConfirmError::NotConcerned { .. } | ConfirmError::NotEarned { .. } => "not_earned",
            other => other.kind().code(),
        }
    }

    fn field(&self) -> Option<&str> {
        matches!(self, ConfirmError::WrongPerson).then_some("recipient_email")
    }

    /// `reasons`: why the carnet does not earn the class, in French (none when the class is not
    /// about its référentiel).
    fn members(&self) -> serde_json::Map<String, serde_json::Value> {
        let reasons = match self {
            ConfirmError::NotEarned { reasons, .. } => reasons.clone(),
            ConfirmError::NotConcerned { .. } => Vec::new(),
            _ => return serde_json::Map::new(),
        };
        serde_json::Map::from_iter([("reasons".to_owned(), serde_json::json!(reasons))])
    }

    fn transparent(&self) -> Option<&dyn crate::problem::Problem> {
        match self {
            ConfirmError::Issue(e) => Some(e),
            ConfirmError::Store(e) => Some(e),
            _ => None,
        }
    }
}

/// Issues `class` from `carnet` if it earns it now. Answers the award and whether it was issued
/// now (`false`: it had been issued before, with the same key).
pub async fn confirm(
    issuer: &Arc<Issuer>,
    store: &Store,
    class: &BadgeClass,
    carnet: &Carnet,
    referentiel: &Referentiel,
    confirmation: Confirmation,
    issued_by: &str,
) -> Result<(Award, bool), ConfirmError> {
    let key = idempotency_key(carnet, class);
    if let Some(existing) = store
        .find_by_idempotency_key(&carnet.issuer_slug, &key)
        .await?
    {
        return Ok((existing, false));
    }
    if class.rules.is_empty() || !class.rules.iter().all(|r| r.applies_to(referentiel)) {
        return Err(ConfirmError::NotConcerned {
            class: class.name.clone(),
            referentiel: referentiel.id.clone(),
            version: referentiel.version.clone(),
        });
    }
    let entries = entries(carnet);
    let proposal = propose_class(referentiel, &entries, class);
    if !proposal.earned() {
        let mut reasons = proposal.problems.clone();
        reasons.extend(
            proposal
                .outcomes
                .iter()
                .filter(|o| !o.met())
                .map(|o| o.why()),
        );
        return Err(ConfirmError::NotEarned {
            class: class.name.clone(),
            reasons,
        });
    }
    let recipient = match &confirmation.recipient_email {
        Some(email) => {
            if person_key(&carnet.issuer_slug, email) != carnet.person.person_key {
                return Err(ConfirmError::WrongPerson);
            }
            hash_email(email)
        }
        None => HashedIdentity {
            identity_hash: carnet.person.recipient_identity.clone(),
            salt: carnet.person.recipient_salt.clone(),
        },
    };
    let text = narrative(referentiel, &proposal.outcomes);
    let request = RecognisedAwardRequest {
        recipient,
        person_key: carnet.person.person_key.clone(),
        details: AwardDetails {
            recipient_name: confirmation.recipient_name,
            evidence_url: confirmation.evidence_url,
            narrative: confirmation.narrative,
            valid_until: confirmation.valid_until,
            ..Default::default()
        },
        issued_by: issued_by.to_owned(),
        idempotency_key: key.clone(),
        recognised: Recognised {
            referentiel: referentiel.clone(),
            outcomes: proposal.outcomes,
            narrative: text,
        },
        carnet_id: carnet.id,
    };
    let award = issue_recognised(issuer, class, store, request).await?;
    Ok((award, true))
}

/// The proposals as the API answers them (and `carnet carnets proposals --json` prints them):
/// `earned` and `not_earned`, each class with its competences, what they reached, what the
/// class asks for and why; `award` is the award already issued (shown by `award_doc`).
pub fn proposals_document(
    carnet: &Carnet,
    referentiel: &Referentiel,
    listed: &[Listed<'_>],
    confirm_url: impl Fn(&BadgeClass) -> String,
    award_doc: impl Fn(&Award) -> serde_json::Value,
) -> serde_json::Value {
    use serde_json::{Value, json};
    let level = |l: &Option<crate::referentiel::Level>| {
        l.as_ref()
            .map(|l| json!({"id": l.id, "name": l.name}))
            .unwrap_or(Value::Null)
    };
    let (mut earned, mut not_earned) = (Vec::new(), Vec::new());
    for item in listed {
        let p = &item.proposal;
        let competences: Vec<Value> = p
            .outcomes
            .iter()
            .map(|o| {
                let e = o.entry.as_ref();
                let struck: Vec<Value> = o
                    .competence
                    .parts
                    .iter()
                    .filter(|part| e.is_some_and(|e| e.struck.contains(&part.id)))
                    .map(|part| json!({"id": part.id, "wording": part.wording}))
                    .collect();
                json!({
                    "competence": o.competence.id,
                    "wording": o.competence.wording,
                    "met": o.met(),
                    "answer": e.map(|e| e.answer.as_str()),
                    "recognition": e.map(|e| e.recognition.as_str()),
                    "date": e.and_then(|e| e.date),
                    "modality": e.and_then(|e| e.modality.map(|m| m.as_str())),
                    "level": level(&o.level),
                    "struck": struck,
                    "required": {
                        "answer": o.rule.answer.as_str(),
                        "recognition": o.rule.recognition.as_str(),
                        "level": level(&o.required_level),
                    },
                    "why": o.why(),
                    "reasons": o.shortfalls.iter().map(|s| json!({"code": s.code(), "message": s.to_string()})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut doc = json!({
            "badge_class": p.class.slug,
            "name": p.class.name,
            "earned": p.earned(),
            "competences": competences,
            "problems": p.problems,
            "award": item.award.as_ref().map(&award_doc),
        });
        if p.earned() {
            doc["narrative"] = narrative(referentiel, &p.outcomes).into();
            if item.award.is_none() {
                doc["confirm_url"] = confirm_url(p.class).into();
            }
            earned.push(doc);
        } else {
            not_earned.push(doc);
        }
    }
    json!({
        "carnet": carnet.id,
        "referentiel": {"id": referentiel.id, "version": referentiel.version, "name": referentiel.name},
        "revision": carnet.revision,
        "earned": earned,
        "not_earned": not_earned,
    })
}
