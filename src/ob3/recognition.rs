//! The OB 3.0 form of competences recognised from a carnet (award rules, `crate::award_rules`):
//! alignments and result descriptions on the `Achievement`, results on the `AchievementSubject`,
//! and the narrative as `Evidence` (OB 3.0 data model §Alignment, §ResultDescription,
//! §RubricCriterionLevel, §Result, §Evidence).
//!
//! Per competence the class recognises, the Achievement gains:
//! - an `Alignment`: `targetName` the competence's wording, `targetCode` its id, `targetFramework`
//!   the référentiel's name and version, `targetType` `ext:ReferentielCompetence` (none of the
//!   AlignmentTargetType values fits a référentiel that is not published in CASE or CTDL, so an
//!   extension term, as the enumeration allows), `targetUrl` the competence's anchor on the class's
//!   public page;
//! - up to three `ResultDescription`s of `resultType` `RubricCriterionLevel`, each listing its
//!   `rubricCriterionLevel`s lowest first with the class's minimum as `requiredLevel`: the level
//!   (the référentiel's levels, described by the competence's descriptors), the answer in the
//!   carnet (*je ne fais pas* < *je fais en partie* < *je fais*) and the recognition (declared <
//!   validated by an RAE jury).
//!
//! The subject gains one `Result` per description, whose `achievedLevel` is the id of the
//! rubric level reached: a *je fais en partie* entry is stated as such, a declared competence as
//! declared, in data as in the narrative.
//!
//! None of this depends on the person: the Achievement is the same for every award of the class
//! from carnets on one référentiel version; only the results and the narrative differ. So the
//! Achievement's `version` (and the OB 2.0 BadgeClass version) is the class's digest plus that
//! référentiel version: [`edition_version`].

use serde_json::{Value, json};

use crate::badge_class::BadgeClass;
use crate::badge_class::rules::Outcome;
use crate::referentiel::carnet::{Answer, Recognition};
use crate::referentiel::{Competence, Referentiel};

/// The alignment target type of a référentiel competence (an extension of AlignmentTargetType).
pub const TARGET_TYPE: &str = "ext:ReferentielCompetence";

/// What an award earned from a carnet adds to the credential.
#[derive(Debug, Clone)]
pub struct Recognised {
    /// The carnet's référentiel version.
    pub referentiel: Referentiel,
    /// The class's rules, each met (in the class's order).
    pub outcomes: Vec<Outcome>,
    /// `crate::award_rules::narrative::narrative` of the outcomes.
    pub narrative: String,
}

/// The version of a class as awarded from carnets on a référentiel version: the first 12 hex
/// digits of the class's digest, the référentiel's id and its version (`3f2a…-rectec-2021`). A
/// référentiel version never changes once imported, so neither does what this names.
pub fn edition_version(class: &BadgeClass, referentiel: &Referentiel) -> String {
    format!(
        "{}-{}-{}",
        class.version(),
        referentiel.id,
        referentiel.version
    )
}

/// The anchor of a recognised competence on the class's public page.
pub fn competence_anchor(referentiel_id: &str, competence: &str) -> String {
    format!("competence-{referentiel_id}-{competence}")
}

fn prefix(achievement_id: &str, r: &Referentiel, c: &Competence) -> String {
    format!("{achievement_id}#{}-{}-{}", r.id, r.version, c.id)
}

/// The alignment of one recognised competence.
pub fn alignment(achievement_id: &str, r: &Referentiel, c: &Competence) -> Value {
    let mut a = json!({
        "type": ["Alignment"],
        "targetName": c.wording,
        "targetCode": c.id,
        "targetFramework": format!("{}, version {}", r.name, r.version),
        "targetType": TARGET_TYPE,
        "targetUrl": format!("{achievement_id}#{}", competence_anchor(&r.id, &c.id)),
    });
    if let Some(group) = c.group.as_deref().and_then(|g| r.group(g)) {
        a["targetDescription"] = group.name.clone().into();
    }
    a
}

/// Adds the recognised competences to a class's Achievement (`achievement` already built from
/// the class): alignments after the class's own, result descriptions, and the edition version.
pub fn extend_achievement(achievement: &mut Value, class: &BadgeClass, r: &Referentiel) {
    let id = achievement["id"].as_str().unwrap_or_default().to_owned();
    let mut alignments = achievement["alignment"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut descriptions = Vec::new();
    for rule in &class.rules {
        let Some(c) = r.competence(&rule.competence) else {
            continue;
        };
        let aligned = alignment(&id, r, c);
        alignments.push(aligned.clone());
        let p = prefix(&id, r, c);
        if !r.levels.is_empty() {
            let levels: Vec<Value> = r
                .levels
                .iter()
                .map(|l| {
                    let mut v = json!({
                        "id": format!("{p}-level-{}", l.id),
                        "type": ["RubricCriterionLevel"],
                        "name": l.name,
                    });
                    let described = c.descriptors.iter().find(|d| d.level == l.id);
                    if let Some(text) = described
                        .map(|d| d.wording.clone())
                        .or_else(|| l.description.clone())
                    {
                        v["description"] = text.into();
                    }
                    v
                })
                .collect();
            let mut d = json!({
                "id": format!("{p}-level"),
                "type": ["ResultDescription"],
                "name": format!("{} : niveau atteint", c.wording),
                "resultType": "RubricCriterionLevel",
                "rubricCriterionLevel": levels,
                "alignment": [aligned.clone()],
            });
            if let Some(min) = rule
                .minimum_level
                .as_deref()
                .and_then(|m| crate::badge_class::rules::resolve_level(r, m))
            {
                d["requiredLevel"] = format!("{p}-level-{}", min.id).into();
            }
            descriptions.push(d);
        }
        let answers = [
            (Answer::JeNeFaisPas, "Je ne fais pas"),
            (Answer::JeFaisEnPartie, "Je fais en partie"),
            (Answer::JeFais, "Je fais"),
        ];
        descriptions.push(json!({
            "id": format!("{p}-answer"),
            "type": ["ResultDescription"],
            "name": format!("{} : réponse dans le carnet", c.wording),
            "resultType": "RubricCriterionLevel",
            "requiredLevel": format!("{p}-answer-{}", rule.answer.as_str()),
            "rubricCriterionLevel": answers.iter().map(|(a, name)| json!({
                "id": format!("{p}-answer-{}", a.as_str()),
                "type": ["RubricCriterionLevel"],
                "name": name,
            })).collect::<Vec<_>>(),
            "alignment": [aligned.clone()],
        }));
        let recognitions = [
            (
                Recognition::Declared,
                "Déclarée",
                "La personne déclare cette compétence dans son carnet. Aucun jury ne l'a validée.",
            ),
            (
                Recognition::Validated,
                "Validée par un jury",
                "Un jury de reconnaissance des acquis de l'expérience (RAE) a validé cette compétence.",
            ),
        ];
        descriptions.push(json!({
            "id": format!("{p}-recognition"),
            "type": ["ResultDescription"],
            "name": format!("{} : reconnaissance", c.wording),
            "resultType": "RubricCriterionLevel",
            "requiredLevel": format!("{p}-recognition-{}", rule.recognition.as_str()),
            "rubricCriterionLevel": recognitions.iter().map(|(rec, name, description)| json!({
                "id": format!("{p}-recognition-{}", rec.as_str()),
                "type": ["RubricCriterionLevel"],
                "name": name,
                "description": description,
            })).collect::<Vec<_>>(),
            "alignment": [aligned],
        }));
    }
    achievement["alignment"] = Value::Array(alignments);
    achievement["resultDescription"] = Value::Array(descriptions);
    achievement["version"] = edition_version(class, r).into();
}

/// The subject's results: for each met rule, the answer and the recognition reached, and the
/// level when the entry gives one.
pub fn results(achievement_id: &str, r: &Referentiel, outcomes: &[Outcome]) -> Vec<Value> {
    let mut results = Vec::new();
    for o in outcomes {
        let Some(entry) = &o.entry else { continue };
        let p = prefix(achievement_id, r, &o.competence);
        if let Some(level) = &o.level {
            results.push(json!({
                "type": ["Result"],
                "resultDescription": format!("{p}-level"),
                "achievedLevel": format!("{p}-level-{}", level.id),
            }));
        }
        results.push(json!({
            "type": ["Result"],
            "resultDescription": format!("{p}-answer"),
            "achievedLevel": format!("{p}-answer-{}", entry.answer.as_str()),
        }));
        results.push(json!({
            "type": ["Result"],
            "resultDescription": format!("{p}-recognition"),
            "achievedLevel": format!("{p}-recognition-{}", entry.recognition.as_str()),
        }));
    }
    results
}

/// The narrative as the credential's first `Evidence`: how the competences were recognised.
pub fn evidence(recognised: &Recognised) -> Value {
    let recognitions: Vec<Recognition> = recognised
        .outcomes
        .iter()
        .filter_map(|o| o.entry.as_ref().map(|e| e.recognition))
        .collect();
    let genre = match (
        recognitions.contains(&Recognition::Validated),
        recognitions.contains(&Recognition::Declared),
    ) {
        (true, false) => "Reconnaissance des acquis de l'expérience (RAE)",
        (true, true) => {
            "Reconnaissance des acquis de l'expérience (RAE) et compétences déclarées dans mon carnet"
        }
        _ => "Compétences déclarées dans mon carnet",
    };
    json!({
        "type": ["Evidence"],
        "name": "Mes compétences reconnues",
        "genre": genre,
        "narrative": recognised.narrative,
    })
}
