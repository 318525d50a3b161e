//! What a carnet earns: for each badge class whose rules concern the carnet's référentiel, each
//! rule's outcome (the entry it matched, or why it does not match yet). A pure function of the
//! carnet's entries, its référentiel version and the classes; nothing is stored or issued here.
//!
//! An entry matches a rule when its answer, its recognition and its level are all accepted:
//! *je ne fais pas* never, *je fais en partie* only if the class accepts it explicitly, a
//! declared competence only if the class accepts declared ones explicitly, and the level reached
//! at least the rule's minimum (levels compared by rank in the référentiel, lowest first).
//!
//! The outcome of one rule ([`Outcome`], [`Shortfall`]) is a type of the class's rules,
//! `crate::badge_class::rules`.

use super::level_names;
use crate::badge_class::BadgeClass;
use crate::badge_class::rules::{Outcome, Rule, Shortfall, resolve_level};
use crate::referentiel::carnet::{Answer, CarnetEntry};
use crate::referentiel::{Level, Referentiel};

/// One badge class against the carnet.
#[derive(Debug, Clone)]
pub struct Proposal<'a> {
    pub class: &'a BadgeClass,
    /// One per rule, in the class's order (rules that cannot apply are in `problems` instead).
    pub outcomes: Vec<Outcome>,
    /// Rules that cannot apply to this référentiel version: a competence or level it lacks (an
    /// error in the class file, or a version the rule was not checked against).
    pub problems: Vec<String>,
}

impl Proposal<'_> {
    /// Does the carnet earn the class: every rule met, none in error?
    pub fn earned(&self) -> bool {
        self.problems.is_empty()
            && !self.outcomes.is_empty()
            && self.outcomes.iter().all(Outcome::met)
    }
}

/// What the carnet (its entries on `referentiel`) earns among `classes`: one proposal per class
/// whose rules concern this référentiel version, earned or not, in the order of `classes`.
pub fn propose<'a>(
    referentiel: &Referentiel,
    entries: &[CarnetEntry],
    classes: impl IntoIterator<Item = &'a BadgeClass>,
) -> Vec<Proposal<'a>> {
    classes
        .into_iter()
        .filter(|c| !c.rules.is_empty() && c.rules.iter().all(|r| r.applies_to(referentiel)))
        .map(|class| propose_class(referentiel, entries, class))
        .collect()
}

/// One class against the carnet (the caller has checked that its rules concern this référentiel).
pub fn propose_class<'a>(
    referentiel: &Referentiel,
    entries: &[CarnetEntry],
    class: &'a BadgeClass,
) -> Proposal<'a> {
    let mut outcomes = Vec::new();
    let mut problems = Vec::new();
    for (i, rule) in class.rules.iter().enumerate() {
        let Some(competence) = referentiel.competence(&rule.competence) else {
            problems.push(format!(
                "recognises[{i}] : le référentiel {} version {} n'a pas de compétence « {} »",
                referentiel.id, referentiel.version, rule.competence
            ));
            continue;
        };
        let required_level = match &rule.minimum_level {
            None => None,
            Some(written) => match resolve_level(referentiel, written) {
                Some(level) => Some(level.clone()),
                None => {
                    problems.push(format!(
                        "recognises[{i}] : le référentiel {} version {} n'a pas de niveau « {written} » (niveaux : {})",
                        referentiel.id,
                        referentiel.version,
                        level_names(referentiel)
                    ));
                    continue;
                }
            },
        };
        let entry = entries
            .iter()
            .find(|e| e.competence == competence.id)
            .cloned();
        let level = entry
            .as_ref()
            .and_then(|e| e.level.as_deref())
            .and_then(|l| referentiel.level(l))
            .cloned();
        let shortfalls = shortfalls(rule, entry.as_ref(), referentiel, &level, &required_level);
        outcomes.push(Outcome {
            rule: rule.clone(),
            competence: competence.clone(),
            entry,
            level,
            required_level,
            shortfalls,
        });
    }
    Proposal {
        class,
        outcomes,
        problems,
    }
}

fn shortfalls(
    rule: &Rule,
    entry: Option<&CarnetEntry>,
    referentiel: &Referentiel,
    level: &Option<Level>,
    required: &Option<Level>,
) -> Vec<Shortfall> {
    let Some(entry) = entry else {
        return vec![Shortfall::NotPositioned];
    };
    let mut found = Vec::new();
    if entry.answer == Answer::JeNeFaisPas {
        // Nothing else to say about a competence the person does not do.
        return vec![Shortfall::JeNeFaisPas];
    }
    if !rule.accepts_answer(entry.answer) {
        found.push(Shortfall::EnPartie);
    }
    if !rule.accepts_recognition(entry.recognition) {
        found.push(Shortfall::Declared);
    }
    if let Some(required) = required {
        match level {
            None => found.push(Shortfall::NoLevel {
                required: required.clone(),
            }),
            Some(reached) => {
                let rank = |l: &Level| referentiel.level_rank(&l.id);
                if rank(reached) < rank(required) {
                    found.push(Shortfall::LevelBelow {
                        reached: reached.clone(),
                        required: required.clone(),
                    });
                }
            }
        }
    }
    found
}
