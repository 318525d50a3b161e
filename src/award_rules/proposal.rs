//! What a carnet earns: for each badge class whose rules concern the carnet's référentiel, each
//! rule's outcome (the entry it matched, or why it does not match yet). A pure function of the
//! carnet's entries, its référentiel version and the classes; nothing is stored or issued here.
//!
//! An entry matches a rule when its answer, its recognition and its level are all accepted:
//! *je ne fais pas* never, *je fais en partie* only if the class accepts it explicitly, a
//! declared competence only if the class accepts declared ones explicitly, and the level reached
//! at least the rule's minimum (levels compared by rank in the référentiel, lowest first).

use std::fmt;

use super::{Rule, level_names, resolve_level};
use crate::badge_class::BadgeClass;
use crate::referentiel::carnet::{Answer, CarnetEntry, Recognition};
use crate::referentiel::{Competence, Level, Referentiel};

/// Why an entry does not (yet) match a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shortfall {
    /// The competence is not positioned in the carnet.
    NotPositioned,
    /// « Je ne fais pas ».
    JeNeFaisPas,
    /// « Je fais en partie », and the class asks for « je fais ».
    EnPartie,
    /// Declared by the person, and the class asks for a jury's validation.
    Declared,
    /// No level is given, and the class asks for one.
    NoLevel { required: Level },
    /// A lower level than the class asks for.
    LevelBelow { reached: Level, required: Level },
}

impl Shortfall {
    /// A stable code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            Shortfall::NotPositioned => "not_positioned",
            Shortfall::JeNeFaisPas => "je_ne_fais_pas",
            Shortfall::EnPartie => "en_partie",
            Shortfall::Declared => "declared",
            Shortfall::NoLevel { .. } => "no_level",
            Shortfall::LevelBelow { .. } => "level_below",
        }
    }
}

/// In French, for the educator: « cercle 1 atteint, cercle 2 demandé ».
impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shortfall::NotPositioned => f.write_str("pas encore positionnée dans le carnet"),
            Shortfall::JeNeFaisPas => f.write_str("« je ne fais pas »"),
            Shortfall::EnPartie => {
                f.write_str("« je fais en partie » ; le badge demande « je fais »")
            }
            Shortfall::Declared => f.write_str("déclarée, pas validée par un jury"),
            Shortfall::NoLevel { required } => {
                write!(f, "aucun niveau indiqué, {} demandé", lower(&required.name))
            }
            Shortfall::LevelBelow { reached, required } => write!(
                f,
                "{} atteint, {} demandé",
                lower(&reached.name),
                lower(&required.name)
            ),
        }
    }
}

/// « Cercle 2 » → « cercle 2 » inside a sentence.
fn lower(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One rule against the carnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub rule: Rule,
    pub competence: Competence,
    /// The carnet's entry for the competence, if positioned.
    pub entry: Option<CarnetEntry>,
    /// The level the entry reached (resolved in the référentiel).
    pub level: Option<Level>,
    /// The rule's minimum level (resolved in the référentiel).
    pub required_level: Option<Level>,
    /// Empty when the entry matches the rule.
    pub shortfalls: Vec<Shortfall>,
}

impl Outcome {
    pub fn met(&self) -> bool {
        self.shortfalls.is_empty()
    }

    /// « compétence 1 « Organiser son activité » »
    pub fn label(&self) -> String {
        format!(
            "compétence {} « {} »",
            self.competence.id, self.competence.wording
        )
    }

    /// Why it matches or not, in one French sentence for the educator.
    pub fn why(&self) -> String {
        if !self.met() {
            let reasons: Vec<String> = self.shortfalls.iter().map(|s| s.to_string()).collect();
            return format!("{} : {}", self.label(), reasons.join(" ; "));
        }
        let Some(entry) = &self.entry else {
            return self.label();
        };
        let mut parts = vec![entry.answer.label_fr().to_lowercase()];
        if !entry.struck.is_empty() {
            parts.push(format!(
                "sauf : {}",
                struck_wordings(&self.competence, entry).join(" ; ")
            ));
        }
        parts.push(match (entry.recognition, entry.date) {
            (Recognition::Validated, Some(d)) => {
                format!("validée par un jury le {}", d.format("%d/%m/%Y"))
            }
            (Recognition::Validated, None) => "validée par un jury".into(),
            (Recognition::Declared, _) => "déclarée (pas validée par un jury)".into(),
        });
        if let Some(level) = &self.level {
            let mut text = format!("{} atteint", lower(&level.name));
            if let Some(required) = &self.required_level {
                text.push_str(&format!(" ({} demandé)", lower(&required.name)));
            }
            parts.push(text);
        }
        format!("{} : {}", self.label(), parts.join(", "))
    }
}

/// The wordings of an entry's struck-out parts, in the competence's order.
pub fn struck_wordings(competence: &Competence, entry: &CarnetEntry) -> Vec<String> {
    competence
        .parts
        .iter()
        .filter(|p| entry.struck.contains(&p.id))
        .map(|p| p.wording.clone())
        .collect()
}

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
