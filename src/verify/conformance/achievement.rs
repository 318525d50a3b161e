//! `Achievement` and what describes it: `Criteria`, `Alignment`, `ResultDescription`,
//! `RubricCriterionLevel`, `Related` (OB 3.0 data model, CHECKLIST §5; JSON schema
//! `achievementcredential.json`, `$defs`).

use serde_json::Value;

use super::credential::{Credential, read_endorsements};
use super::profile::{
    IdentifierEntry, Image, Profile, read_identifier_entry, read_image, read_profile,
};
use super::reader::{Ctx, Object, TypeShape, join};

use crate::badge_class::ACHIEVEMENT_TYPES;

const ALIGNMENT_TARGET_TYPES: &[&str] = &[
    "ceasn:Competency",
    "ceterms:Credential",
    "CFItem",
    "CFRubric",
    "CFRubricCriterion",
    "CFRubricCriterionLevel",
    "CTDL",
];

const RESULT_TYPES: &[&str] = &[
    "GradePointAverage",
    "LetterGrade",
    "Percent",
    "PerformanceLevel",
    "PredictedScore",
    "RawScore",
    "Result",
    "RubricCriterion",
    "RubricCriterionLevel",
    "RubricScore",
    "ScaledScore",
    "Status",
];

/// What was achieved: the badge class of OB 3.0.
#[derive(Debug, Clone, PartialEq)]
pub struct Achievement {
    pub id: String,
    pub types: Vec<String>,
    pub name: String,
    pub description: String,
    pub criteria: Criteria,
    pub achievement_type: Option<String>,
    pub alignment: Vec<Alignment>,
    pub creator: Option<Profile>,
    pub credits_available: Option<f64>,
    pub field_of_study: Option<String>,
    pub human_code: Option<String>,
    pub image: Option<Image>,
    pub in_language: Option<String>,
    pub other_identifier: Vec<IdentifierEntry>,
    pub related: Vec<Related>,
    pub result_description: Vec<ResultDescription>,
    pub specialization: Option<String>,
    pub tag: Vec<String>,
    pub version: Option<String>,
    pub endorsement: Vec<Credential>,
    pub endorsement_jwt: Vec<String>,
}

/// How the achievement is earned: a page (`id`) and/or a Markdown `narrative`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criteria {
    pub id: Option<String>,
    pub narrative: Option<String>,
}

/// A link to a competency framework item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    pub target_name: String,
    pub target_url: String,
    pub target_type: Option<String>,
    pub target_code: Option<String>,
    pub target_description: Option<String>,
    pub target_framework: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultDescription {
    pub id: String,
    pub name: String,
    pub result_type: String,
    pub allowed_value: Vec<String>,
    pub required_level: Option<String>,
    pub required_value: Option<String>,
    pub value_max: Option<String>,
    pub value_min: Option<String>,
    pub rubric_criterion_level: Vec<RubricCriterionLevel>,
    pub alignment: Vec<Alignment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RubricCriterionLevel {
    pub id: String,
    pub name: String,
    pub level: Option<String>,
    pub points: Option<String>,
    pub description: Option<String>,
    pub alignment: Vec<Alignment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub id: String,
    pub in_language: Option<String>,
    pub version: Option<String>,
}

fn has(types: &[String], class: &str) -> Option<()> {
    types.iter().any(|t| t == class).then_some(())
}

pub(super) fn read_achievement(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Achievement> {
    let obj = ctx.object(v, path, "Achievement")?;
    let id = ctx.req_uri(obj, path, "id");
    let types = ctx.types(obj, path, "Achievement", TypeShape::List);
    let name = ctx.req_str(obj, path, "name");
    let description = ctx.req_str(obj, path, "description");
    let criteria = ctx
        .required(obj, path, "criteria")
        .and_then(|v| read_criteria(ctx, v, &join(path, "criteria")));
    let achievement_type = ctx.vocabulary(obj, path, "achievementType", false, ACHIEVEMENT_TYPES);
    let alignment = ctx.list(obj, path, "alignment", read_alignment);
    let creator =
        Ctx::get(obj, "creator").and_then(|v| read_profile(ctx, v, &join(path, "creator")));
    let credits_available = ctx.opt_number(obj, path, "creditsAvailable");
    let mut opt = |key: &str| ctx.opt_str(obj, path, key);
    let (field_of_study, human_code, specialization, version) = (
        opt("fieldOfStudy"),
        opt("humanCode"),
        opt("specialization"),
        opt("version"),
    );
    let image = Ctx::get(obj, "image").and_then(|v| read_image(ctx, v, &join(path, "image")));
    let in_language = language(ctx, obj, path);
    let other_identifier = ctx.list(obj, path, "otherIdentifier", read_identifier_entry);
    let related = ctx.list(obj, path, "related", read_related);
    let result_description = ctx.list(obj, path, "resultDescription", read_result_description);
    let tag = ctx.strings(obj, path, "tag");
    let endorsement = read_endorsements(ctx, obj, path);
    let endorsement_jwt = ctx.compact_jws_list(obj, path);

    has(&types, "Achievement")?;
    Some(Achievement {
        id: id?,
        types,
        name: name?,
        description: description?,
        criteria: criteria?,
        achievement_type,
        alignment,
        creator,
        credits_available,
        field_of_study,
        human_code,
        image,
        in_language,
        other_identifier,
        related,
        result_description,
        specialization,
        tag,
        version,
        endorsement,
        endorsement_jwt,
    })
}

fn read_criteria(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Criteria> {
    let obj = ctx.object(v, path, "Criteria")?;
    let id = ctx.opt_uri(obj, path, "id");
    let narrative = ctx.opt_str(obj, path, "narrative");
    if Ctx::get(obj, "id").is_none() && Ctx::get(obj, "narrative").is_none() {
        ctx.fail(
            path,
            format!("{path} doit avoir un id (page des critères) et/ou un narrative (texte des critères)"),
            format!("{path} must have an id (criteria page) and/or a narrative (criteria text)"),
        );
        return None;
    }
    Some(Criteria { id, narrative })
}

pub(super) fn read_alignment(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Alignment> {
    let obj = ctx.object(v, path, "Alignment")?;
    let types = ctx.types(obj, path, "Alignment", TypeShape::List);
    let target_name = ctx.req_str(obj, path, "targetName");
    let target_url = ctx.req_uri(obj, path, "targetUrl");
    let target_type = ctx.vocabulary(obj, path, "targetType", false, ALIGNMENT_TARGET_TYPES);
    let mut opt = |key: &str| ctx.opt_str(obj, path, key);
    let (target_code, target_description, target_framework) = (
        opt("targetCode"),
        opt("targetDescription"),
        opt("targetFramework"),
    );
    has(&types, "Alignment")?;
    Some(Alignment {
        target_name: target_name?,
        target_url: target_url?,
        target_type,
        target_code,
        target_description,
        target_framework,
    })
}

fn read_result_description(ctx: &mut Ctx, v: &Value, path: &str) -> Option<ResultDescription> {
    let obj = ctx.object(v, path, "ResultDescription")?;
    let id = ctx.req_uri(obj, path, "id");
    let types = ctx.types(obj, path, "ResultDescription", TypeShape::List);
    let name = ctx.req_str(obj, path, "name");
    let result_type = ctx.vocabulary(obj, path, "resultType", true, RESULT_TYPES);
    let allowed_value = ctx.strings(obj, path, "allowedValue");
    let mut opt = |key: &str| ctx.opt_str(obj, path, key);
    let (required_level, required_value, value_max, value_min) = (
        opt("requiredLevel"),
        opt("requiredValue"),
        opt("valueMax"),
        opt("valueMin"),
    );
    let rubric_criterion_level = ctx.list(obj, path, "rubricCriterionLevel", read_rubric_level);
    let alignment = ctx.list(obj, path, "alignment", read_alignment);
    has(&types, "ResultDescription")?;
    Some(ResultDescription {
        id: id?,
        name: name?,
        result_type: result_type?,
        allowed_value,
        required_level,
        required_value,
        value_max,
        value_min,
        rubric_criterion_level,
        alignment,
    })
}

fn read_rubric_level(ctx: &mut Ctx, v: &Value, path: &str) -> Option<RubricCriterionLevel> {
    let obj = ctx.object(v, path, "RubricCriterionLevel")?;
    let id = ctx.req_uri(obj, path, "id");
    let types = ctx.types(obj, path, "RubricCriterionLevel", TypeShape::List);
    let name = ctx.req_str(obj, path, "name");
    let mut opt = |key: &str| ctx.opt_str(obj, path, key);
    let (level, points, description) = (opt("level"), opt("points"), opt("description"));
    let alignment = ctx.list(obj, path, "alignment", read_alignment);
    has(&types, "RubricCriterionLevel")?;
    Some(RubricCriterionLevel {
        id: id?,
        name: name?,
        level,
        points,
        description,
        alignment,
    })
}

fn read_related(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Related> {
    let obj = ctx.object(v, path, "Related")?;
    let id = ctx.req_uri(obj, path, "id");
    let types = ctx.types(obj, path, "Related", TypeShape::List);
    let in_language = language(ctx, obj, path);
    let version = ctx.opt_str(obj, path, "version");
    has(&types, "Related")?;
    Some(Related {
        id: id?,
        in_language,
        version,
    })
}

/// `inLanguage`: a BCP 47 tag in the schema's simple form (`fr`, `fr-FR`, `zh-Hant-TW`, `es-419`).
fn language(ctx: &mut Ctx, obj: &Object, base: &str) -> Option<String> {
    let s = ctx.opt_str(obj, base, "inLanguage")?;
    if is_language_tag(&s) {
        return Some(s);
    }
    let path = join(base, "inLanguage");
    ctx.fail(
        &path,
        format!("{path} doit être un code de langue comme \"fr\" ou \"fr-FR\" (trouvé : \"{s}\")"),
        format!("{path} must be a language code such as \"fr\" or \"fr-FR\" (found: \"{s}\")"),
    );
    None
}

/// The schema's pattern `^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$`.
fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let lang = parts.next().unwrap_or_default();
    if !(2..=4).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    let mut rest: Vec<&str> = parts.collect();
    let is_script = |p: &str| {
        p.len() == 4
            && p.as_bytes()[0].is_ascii_uppercase()
            && p.bytes().skip(1).all(|b| b.is_ascii_lowercase())
    };
    if rest.first().is_some_and(|p| is_script(p)) {
        rest.remove(0);
    }
    let is_region = |p: &str| {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_uppercase()))
            || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    match rest.as_slice() {
        [] => true,
        [region] => is_region(region),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_language_tag;

    #[test]
    fn language_tags() {
        for ok in ["fr", "fr-FR", "zh-Hant-TW", "es-419", "zh-Hant"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "f", "FR", "fr_FR", "fr-fr", "fr-FR-x", "français"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }
}
