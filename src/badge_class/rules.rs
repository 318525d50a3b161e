//! A badge class's award rules (`[[recognises]]` in its TOML file, `docs/BADGE-CLASSES.md`): the
//! référentiel competences the class recognises, and at what level, as read and checked from the
//! class file; and what one rule finds in a carnet ([`Outcome`], with the [`Shortfall`]s of an
//! entry that does not match yet), the result `crate::award_rules::proposal` computes and
//! credentials and narratives are made from. A rule's level is found in the référentiel by
//! [`resolve_level`] (its id, else its name: `cercle-2` and `Cercle 2` name the same level).
//!
//! Checking the rules against the référentiels carnet knows, and proposing awards from a carnet,
//! are `crate::award_rules`'.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use crate::referentiel::carnet::{Answer, CarnetEntry, Recognition};
use crate::referentiel::{Competence, Level, Referentiel, is_token};

/// At most this many rules per class.
pub const MAX_RULES: usize = 50;

/// One `[[recognises]]` rule of a badge class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The référentiel's id (`rectec`).
    pub referentiel: String,
    /// Only carnets on this version, when given.
    pub version: Option<String>,
    /// The competence's id in the référentiel (`1`).
    pub competence: String,
    /// The lowest level accepted, as written: a level's id (`2`) or its name (`Cercle 2`,
    /// `cercle-2`). See [`resolve_level`].
    pub minimum_level: Option<String>,
    /// The least answer accepted: [`Answer::JeFais`] (the default) or [`Answer::JeFaisEnPartie`].
    pub answer: Answer,
    /// The least recognition accepted: [`Recognition::Validated`] (the default) or
    /// [`Recognition::Declared`] (declared or validated).
    pub recognition: Recognition,
}

impl Rule {
    /// Does the rule accept this answer? *Je ne fais pas* never; *en partie* only when the class says so.
    pub fn accepts_answer(&self, answer: Answer) -> bool {
        match answer {
            Answer::JeFais => true,
            Answer::JeFaisEnPartie => self.answer == Answer::JeFaisEnPartie,
            Answer::JeNeFaisPas => false,
        }
    }

    /// Does the rule accept this recognition? A declared competence only when the class says so.
    pub fn accepts_recognition(&self, recognition: Recognition) -> bool {
        recognition == Recognition::Validated || self.recognition == Recognition::Declared
    }

    /// Does the rule concern carnets on this référentiel version?
    pub fn applies_to(&self, referentiel: &Referentiel) -> bool {
        self.referentiel == referentiel.id
            && self
                .version
                .as_ref()
                .is_none_or(|v| *v == referentiel.version)
    }
}

/// A level of the référentiel by its id, else by its name (case, spaces, hyphens and underscores
/// ignored: `cercle-2`, `Cercle 2` and `cercle_2` all name « Cercle 2 »).
pub fn resolve_level<'a>(referentiel: &'a Referentiel, written: &str) -> Option<&'a Level> {
    let written = written.trim();
    referentiel.level(written).or_else(|| {
        let wanted = loose(written);
        referentiel.levels.iter().find(|l| loose(&l.name) == wanted)
    })
}

fn loose(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            ' ' | '_' => '-',
            c => c.to_lowercase().next().unwrap_or(c),
        })
        .collect()
}

// ---- reading the class file ------------------------------------------------------------

/// A `[[recognises]]` table as written. Values are read as TOML values so that `competence = 1`
/// is accepted as well as `competence = "1"`, and every problem names its field and line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleFile {
    referentiel: Option<Spanned<toml::Value>>,
    version: Option<Spanned<toml::Value>>,
    competence: Option<Spanned<toml::Value>>,
    minimum_level: Option<Spanned<toml::Value>>,
    answer: Option<Spanned<toml::Value>>,
    recognition: Option<Spanned<toml::Value>>,
}

/// Reads the rules of a class file; `problem(field, text)` receives each problem. `text` is the
/// file, for line numbers.
pub(crate) fn read_rules(
    files: &[RuleFile],
    text: &str,
    problem: &mut impl FnMut(String, String),
) -> Vec<Rule> {
    if files.len() > MAX_RULES {
        problem(
            "recognises".into(),
            format!("has {} rules; the limit is {MAX_RULES}", files.len()),
        );
        return Vec::new();
    }
    let line = |v: &Spanned<toml::Value>| text[..v.span().start.min(text.len())].lines().count();
    let mut rules = Vec::new();
    let mut seen = HashSet::new();
    for (i, f) in files.iter().enumerate() {
        let field = |name: &str| format!("recognises[{i}].{name}");
        let mut bad = |name: &str, v: Option<&Spanned<toml::Value>>, text: String| {
            let at = v
                .map(|v| format!(" (line {})", line(v)))
                .unwrap_or_default();
            problem(field(name), format!("{text}{at}"));
        };
        let referentiel = match &f.referentiel {
            None => {
                bad(
                    "referentiel",
                    None,
                    "is required: the id of a référentiel (e.g. rectec)".into(),
                );
                None
            }
            Some(v) => match v.get_ref().as_str().map(str::trim) {
                Some(id) if crate::text::is_slug(id) => Some(id.to_owned()),
                _ => {
                    bad(
                        "referentiel",
                        Some(v),
                        format!(
                            "{} is not a référentiel id: lowercase letters, digits and hyphens (e.g. rectec)",
                            shown(v)
                        ),
                    );
                    None
                }
            },
        };
        let mut token = |name: &str, v: &Option<Spanned<toml::Value>>, what: &str| {
            let v = v.as_ref()?;
            match scalar(v.get_ref()) {
                Some(t) if is_token(&t) => Some(t),
                _ => {
                    bad(
                        name,
                        Some(v),
                        format!(
                            "{} is not a {what} id: 1 to 40 letters, digits, '.', '_' or '-'",
                            shown(v)
                        ),
                    );
                    None
                }
            }
        };
        let version = token("version", &f.version, "version");
        let competence = token("competence", &f.competence, "competence");
        if f.competence.is_none() {
            bad(
                "competence",
                None,
                "is required: the id of a competence of the référentiel (e.g. \"1\")".into(),
            );
        }
        let minimum_level = match &f.minimum_level {
            None => None,
            Some(v) => match scalar(v.get_ref()) {
                Some(t) if t.chars().count() <= 100 => Some(t),
                _ => {
                    bad(
                        "minimum_level",
                        Some(v),
                        format!(
                            "{} is not a level: give the id or the name of a level of the référentiel (e.g. \"2\" or \"cercle-2\")",
                            shown(v)
                        ),
                    );
                    None
                }
            },
        };
        let answer = match &f.answer {
            None => Some(Answer::JeFais),
            Some(v) => match v.get_ref().as_str().map(str::trim) {
                Some("je_fais") => Some(Answer::JeFais),
                Some("je_fais_en_partie") => Some(Answer::JeFaisEnPartie),
                Some("je_ne_fais_pas") => {
                    bad(
                        "answer",
                        Some(v),
                        "a badge never recognises « je ne fais pas »: use je_fais (the default) or je_fais_en_partie".into(),
                    );
                    None
                }
                other => {
                    let hint = match other.map(|s| s.replace('-', "_")).as_deref() {
                        Some("je_fais" | "je_fais_en_partie") => {
                            " (write it with underscores, as in the carnet format)"
                        }
                        _ => "",
                    };
                    bad(
                        "answer",
                        Some(v),
                        format!(
                            "{} is not an answer: use je_fais (only « je fais », the default) or je_fais_en_partie (« je fais » or « je fais en partie »){hint}",
                            shown(v)
                        ),
                    );
                    None
                }
            },
        };
        let recognition = match &f.recognition {
            None => Some(Recognition::Validated),
            Some(v) => match v.get_ref().as_str().map(str::trim) {
                Some("validated") => Some(Recognition::Validated),
                Some("declared") => Some(Recognition::Declared),
                _ => {
                    bad(
                        "recognition",
                        Some(v),
                        format!(
                            "{} is not a recognition: use validated (by an RAE jury only, the default) or declared (declared by the person, or validated)",
                            shown(v)
                        ),
                    );
                    None
                }
            },
        };
        if let (Some(competence), Some(c)) = (&competence, &f.competence)
            && !seen.insert(competence.clone())
        {
            bad(
                "competence",
                Some(c),
                format!("competence \"{competence}\" has two rules: give each competence once"),
            );
            continue;
        }
        if let (Some(referentiel), Some(competence), Some(answer), Some(recognition)) =
            (referentiel, competence, answer, recognition)
        {
            rules.push(Rule {
                referentiel,
                version,
                competence,
                minimum_level,
                answer,
                recognition,
            });
        }
    }
    if let Some(first) = rules.first() {
        for (i, r) in rules.iter().enumerate().skip(1) {
            if r.referentiel != first.referentiel || r.version != first.version {
                problem(
                    format!("recognises[{i}].referentiel"),
                    format!(
                        "all the rules of a class name the same référentiel (and version): a carnet is one person on one référentiel; recognises[0] names {}",
                        named(first)
                    ),
                );
            }
        }
    }
    rules
}

/// A TOML string or integer as text (ids are often typed as numbers: `competence = 1`).
fn scalar(v: &toml::Value) -> Option<String> {
    let text = match v {
        toml::Value::String(s) => s.trim().to_owned(),
        toml::Value::Integer(n) => n.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn shown(v: &Spanned<toml::Value>) -> String {
    match v.get_ref() {
        toml::Value::String(s) => format!("\"{s}\""),
        other => format!("{} {other}", other.type_str()),
    }
}

pub(crate) fn named(rule: &Rule) -> String {
    match &rule.version {
        Some(v) => format!("{} version {v}", rule.referentiel),
        None => rule.referentiel.clone(),
    }
}

// ---- what a rule finds in a carnet ----------------------------------------------------

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
