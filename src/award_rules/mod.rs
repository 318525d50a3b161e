//! Award rules: which référentiel competences a badge class recognises, and at what level
//! (`[[recognises]]` in the class's TOML file, `docs/BADGE-CLASSES.md`).
//!
//! A rule names one competence of one référentiel, the lowest level accepted (a RECTEC cercle), the
//! answers accepted (*je fais* only, unless the class accepts *je fais en partie* explicitly) and
//! the recognition accepted (validated by an RAE jury only, unless the class accepts declared
//! competences explicitly). A class's rules combine with all-of, on one référentiel: a carnet is
//! one person on one référentiel version.
//!
//! - `crate::badge_class::rules`: the rules as read from the class file ([`Rule`]), and what one
//!   rule finds in a carnet (`Outcome`, `Shortfall`);
//! - this file: the rules' check against the référentiels carnet knows (imported, or shipped in
//!   `referentiels/`), so that a rule naming a competence or a level that does not exist is an
//!   error at start-up, never a rule that silently never matches; a référentiel with no known
//!   version is a warning ([`known_referentiels`]: every version in the store, and the shipped
//!   folder `referentiels/` beside `badge-classes/`; [`check_classes`]);
//! - `proposal.rs`: what a carnet earns (a pure function), with the reasons of what it does not;
//! - `narrative.rs`: the award's narrative in plain French (FALC);
//! - `award.rs`: proposals with the awards already issued, and the educator's confirmation.

pub mod award;
pub mod narrative;
pub mod proposal;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::badge_class::BadgeClass;
use crate::badge_class::rules::{Rule, named, resolve_level};
use crate::referentiel::Referentiel;

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
