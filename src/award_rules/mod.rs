//! Award rules: which référentiel competences a badge class recognises, and at what level
//! (`[[recognises]]` in the class's TOML file, `docs/BADGE-CLASSES.md`).
//!
//! A rule names one competence of one référentiel, the lowest level accepted (a RECTEC cercle), the
//! answers accepted (*je fais* only, unless the class accepts *je fais en partie* explicitly) and
//! the recognition accepted (validated by an RAE jury only, unless the class accepts declared
//! competences explicitly). A class's rules combine with all-of, on one référentiel: a carnet is
//! one person on one référentiel version.
//!
//! - this file: the rules as read from the class file, and their check against the référentiels
//!   carnet knows (imported, or shipped in `referentiels/`), so that a rule naming a competence or
//!   a level that does not exist is an error at start-up, never a rule that silently never matches;
//! - `proposal.rs`: what a carnet earns (a pure function), with the reasons of what it does not;
//! - `narrative.rs`: the award's narrative in plain French (FALC);
//! - `award.rs`: proposals with the awards already issued, and the educator's confirmation.

pub mod award;
pub mod narrative;
pub mod proposal;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::badge_class::BadgeClass;
use crate::referentiel::carnet::{Answer, Recognition};
use crate::referentiel::{Level, Referentiel, is_token};

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
                Some(id) if crate::config::is_slug(id) => Some(id.to_owned()),
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

fn named(rule: &Rule) -> String {
    match &rule.version {
        Some(v) => format!("{} version {v}", rule.referentiel),
        None => rule.referentiel.clone(),
    }
}

// ---- checking the rules against the known référentiels ---------------------------------

/// What checking a class's rules found: errors (field, problem) and warnings.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RuleCheck {
    pub errors: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

/// Checks a class's rules against the versions of their référentiel that carnet knows (`known`
/// may hold other référentiels too). With no known version the rules cannot be checked: a warning
/// (the institution may import its référentiel later; carnets on it then show any mismatch in
/// their proposals). Otherwise a competence or a level that no known version has is an error.
pub fn check_rules(rules: &[Rule], known: &[&Referentiel]) -> RuleCheck {
    let mut check = RuleCheck::default();
    let Some(first) = rules.first() else {
        return check;
    };
    let versions: Vec<&Referentiel> = known
        .iter()
        .copied()
        .filter(|r| first.applies_to(r))
        .collect();
    if versions.is_empty() {
        check.warnings.push(format!(
            "no référentiel {} is imported or shipped: its competences and levels could not be checked (import it: carnet referentiels import FILE)",
            named(first)
        ));
        return check;
    }
    let version_list = versions
        .iter()
        .map(|r| r.version.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    for (i, rule) in rules.iter().enumerate() {
        let having: Vec<&Referentiel> = versions
            .iter()
            .copied()
            .filter(|r| r.competence(&rule.competence).is_some())
            .collect();
        let Some(example) = having.first().or(versions.first()) else {
            continue;
        };
        if having.is_empty() {
            let ids: Vec<&str> = example
                .competences
                .iter()
                .take(20)
                .map(|c| c.id.as_str())
                .collect();
            let more = if example.competences.len() > 20 {
                ", …"
            } else {
                ""
            };
            check.errors.push((
                format!("recognises[{i}].competence"),
                format!(
                    "the référentiel {} (version {version_list}) has no competence \"{}\" (competences: {}{more})",
                    rule.referentiel,
                    rule.competence,
                    ids.join(", ")
                ),
            ));
            continue;
        }
        if let Some(level) = &rule.minimum_level
            && !having.iter().any(|r| resolve_level(r, level).is_some())
        {
            let problem = if example.levels.is_empty() {
                format!(
                    "the référentiel {} (version {version_list}) has no levels: leave minimum_level out",
                    rule.referentiel
                )
            } else {
                format!(
                    "the référentiel {} (version {version_list}) has no level \"{level}\" (levels: {})",
                    rule.referentiel,
                    level_names(example)
                )
            };
            check
                .errors
                .push((format!("recognises[{i}].minimum_level"), problem));
        }
    }
    check
}

/// `1 (Cercle 1), 2 (Cercle 2)…`
pub fn level_names(r: &Referentiel) -> String {
    r.levels
        .iter()
        .map(|l| format!("{} ({})", l.id, l.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The référentiels a set of classes names, from the store (every imported version) and from the
/// shipped folder (`dir`: `*.json` and `*.csv` files that validate; others are skipped, `carnet
/// referentiels check` reports them).
pub async fn known_referentiels(
    classes: &BTreeMap<String, BadgeClass>,
    store: &crate::store::Store,
    issuer_slug: &str,
    dir: Option<&Path>,
) -> Result<Vec<Referentiel>, crate::store::StoreError> {
    let wanted: BTreeSet<&str> = classes
        .values()
        .flat_map(|c| c.rules.iter().map(|r| r.referentiel.as_str()))
        .collect();
    let mut known = Vec::new();
    if wanted.is_empty() {
        return Ok(known);
    }
    for summary in store.list_referentiels(issuer_slug).await? {
        if wanted.contains(summary.id.as_str())
            && let Some(stored) = store
                .get_referentiel(issuer_slug, &summary.id, &summary.version)
                .await?
        {
            known.push(stored.referentiel);
        }
    }
    for r in dir.map(shipped_referentiels).unwrap_or_default() {
        if wanted.contains(r.id.as_str())
            && !known.iter().any(|k| k.id == r.id && k.version == r.version)
        {
            known.push(r);
        }
    }
    Ok(known)
}

/// The référentiels of a folder (`*.json`, `*.csv`) that validate.
pub fn shipped_referentiels(dir: &Path) -> Vec<Referentiel> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| x.eq_ignore_ascii_case("json") || x.eq_ignore_ascii_case("csv"))
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|p| crate::referentiel::load_file(p).ok())
        .collect()
}

/// Where the shipped référentiels are: the `referentiels` folder beside the badge-classes folder
/// (as in the repository: `badge-classes/` and `referentiels/`).
pub fn shipped_dir(badge_classes_dir: &Path) -> std::path::PathBuf {
    badge_classes_dir
        .parent()
        .unwrap_or(Path::new("."))
        .join("referentiels")
}

/// Checks every class's rules against the known référentiels: the errors as badge-class errors
/// (file, field, problem), and the warnings as text naming the file.
pub fn check_classes(
    classes: &BTreeMap<String, BadgeClass>,
    known: &[Referentiel],
) -> (Vec<crate::badge_class::BadgeClassError>, Vec<String>) {
    let known: Vec<&Referentiel> = known.iter().collect();
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    for class in classes.values() {
        let check = check_rules(&class.rules, &known);
        let file = class.file_name();
        errors.extend(check.errors.into_iter().map(|(field, problem)| {
            crate::badge_class::BadgeClassError {
                file: file.clone(),
                field,
                problem,
            }
        }));
        warnings.extend(check.warnings.into_iter().map(|w| format!("{file}: {w}")));
    }
    (errors, warnings)
}

#[cfg(test)]
mod tests;
