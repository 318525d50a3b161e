//! Award rules: reading them from a class file, checking them against référentiels, and what a
//! carnet earns (levels, answers, recognition, struck parts, all-of), with the narrative.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::narrative::{french_date, narrative};
use super::proposal::propose;
use super::*;
use crate::badge_class::rules::Shortfall;
use crate::badge_class::{BadgeClass, BadgeClassError, load_file};
use crate::referentiel::carnet::{Answer, CarnetEntry, JuryMember, Modality, Recognition};
use crate::referentiel::{Format, parse};

/// A fictitious référentiel with groups, three levels, descriptors and parts to strike out.
fn referentiel() -> Referentiel {
    referentiel_version("2024")
}

fn referentiel_version(version: &str) -> Referentiel {
    let json = serde_json::json!({
        "id": "cuisine-test",
        "name": "Cuisine (test)",
        "version": version,
        "source": "fictif",
        "licence": "fictif",
        "groups": [{"id": "org", "name": "Pôle organisationnel", "colour": "bleu"}],
        "levels": [
            {"id": "1", "name": "Cercle 1"},
            {"id": "2", "name": "Cercle 2"},
            {"id": "3", "name": "Cercle 3"}
        ],
        "competences": [
            {"id": "1", "wording": "Organiser son activité", "group": "org",
             "descriptors": [
                {"level": "1", "wording": "Identifie les éléments de l'activité prévue"},
                {"level": "2", "wording": "Applique l'organisation prévue pour son activité"}
             ]},
            {"id": "2", "wording": "Mettre la table et ranger la vaisselle",
             "parts": [{"id": "table", "wording": "mettre la table"},
                       {"id": "vaisselle", "wording": "ranger la vaisselle"}]},
            {"id": "3", "wording": "Travailler en équipe", "group": "org"}
        ]
    });
    parse(json.to_string().as_bytes(), "t.json", Format::Json).expect("test référentiel")
}

fn shipped_image() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("badge-classes/securite-hygiene-au-travail.png")
}

const CLASS: &str = r#"
name = "Organiser mon activité"
for_whom = "Les jeunes de l'atelier cuisine."
description = "Je montre que j'organise mon activité."
criteria = "Un jury a validé ma compétence."
image = "img.png"
[evidence]
expected = "Mon dossier de preuves."
[endorsements]
who = ["mon éducateur"]
"#;

/// Writes a class file `name.toml` (CLASS plus `rules`) in `dir` and loads it.
fn class_in(dir: &Path, name: &str, rules: &str) -> Result<BadgeClass, Vec<BadgeClassError>> {
    fs::copy(shipped_image(), dir.join("img.png")).unwrap();
    let path = dir.join(format!("{name}.toml"));
    fs::write(&path, format!("{CLASS}{rules}")).unwrap();
    load_file(&path)
}

fn class(rules: &str) -> (BadgeClass, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let c = class_in(tmp.path(), "organiser", rules).unwrap_or_else(|e| panic!("{e:?}"));
    (c, tmp)
}

fn errors(rules: &str) -> Vec<BadgeClassError> {
    let tmp = tempfile::tempdir().unwrap();
    class_in(tmp.path(), "bad", rules).expect_err("the rules are refused")
}

fn error_on<'a>(errors: &'a [BadgeClassError], field: &str) -> &'a BadgeClassError {
    errors
        .iter()
        .find(|e| e.field == field)
        .unwrap_or_else(|| panic!("no error on {field}: {errors:#?}"))
}

const RULE_1_CERCLE_2: &str = r#"
[[recognises]]
referentiel = "cuisine-test"
competence = "1"
minimum_level = "cercle-2"
"#;

fn validated(competence: &str, answer: Answer, level: Option<&str>) -> CarnetEntry {
    CarnetEntry {
        competence: competence.into(),
        answer,
        struck: Vec::new(),
        recognition: Recognition::Validated,
        modality: Some(Modality::EnSituationDeTravail),
        date: NaiveDate::from_ymd_opt(2024, 6, 14),
        jury: vec![JuryMember {
            name: "Mme Durand".into(),
            role: Some("professionnelle extérieure".into()),
        }],
        level: level.map(Into::into),
        comment: None,
    }
}

fn declared(competence: &str, answer: Answer, level: Option<&str>) -> CarnetEntry {
    CarnetEntry {
        recognition: Recognition::Declared,
        modality: None,
        jury: Vec::new(),
        date: NaiveDate::from_ymd_opt(2024, 5, 2),
        ..validated(competence, answer, level)
    }
}

// ---- reading rules --------------------------------------------------------------------

#[test]
fn a_rule_reads_with_its_defaults() {
    let (c, _tmp) = class(RULE_1_CERCLE_2);
    assert_eq!(
        c.rules,
        vec![Rule {
            referentiel: "cuisine-test".into(),
            version: None,
            competence: "1".into(),
            minimum_level: Some("cercle-2".into()),
            answer: Answer::JeFais,
            recognition: Recognition::Validated,
        }]
    );
    // Ids typed as numbers, explicit en partie and declared, a pinned version.
    let (c, _tmp) = class(
        r#"
[[recognises]]
referentiel = "cuisine-test"
version = 2024
competence = 2
minimum_level = 1
answer = "je_fais_en_partie"
recognition = "declared"
"#,
    );
    let r = &c.rules[0];
    assert_eq!(
        (r.competence.as_str(), r.version.as_deref()),
        ("2", Some("2024"))
    );
    assert_eq!(r.minimum_level.as_deref(), Some("1"));
    assert_eq!(
        (r.answer, r.recognition),
        (Answer::JeFaisEnPartie, Recognition::Declared)
    );
    // A class without rules has none, and the digest covers the rules.
    let (plain, _tmp) = class("");
    assert!(plain.rules.is_empty());
    let (with, _tmp2) = class(RULE_1_CERCLE_2);
    assert_ne!(plain.digest, with.digest);
}

#[test]
fn rule_errors_name_the_field_the_line_and_the_fix() {
    let e = errors(
        r#"
[[recognises]]
referentiel = "cuisine-test"
competence = "1"
answer = "je-fais"
recognition = "jury"
"#,
    );
    let answer = error_on(&e, "recognises[0].answer");
    assert!(answer.problem.contains("with underscores"), "{answer}");
    assert!(answer.problem.contains("(line 15)"), "{answer}");
    assert!(answer.file.ends_with("bad.toml"));
    let recognition = error_on(&e, "recognises[0].recognition");
    assert!(
        recognition
            .problem
            .contains("use validated (by an RAE jury only, the default) or declared"),
        "{recognition}"
    );

    let e = errors(
        "[[recognises]]\nreferentiel = \"cuisine-test\"\ncompetence = \"1\"\nanswer = \"je_ne_fais_pas\"\n",
    );
    assert!(
        error_on(&e, "recognises[0].answer")
            .problem
            .contains("never recognises « je ne fais pas »")
    );

    let e = errors("[[recognises]]\nreferentiel = \"Cuisine Test\"\n");
    assert!(
        error_on(&e, "recognises[0].referentiel")
            .problem
            .contains("is not a référentiel id")
    );
    assert!(
        error_on(&e, "recognises[0].competence")
            .problem
            .contains("is required")
    );

    let e = errors(
        "[[recognises]]\nreferentiel = \"cuisine-test\"\ncompetence = \"1\"\n\
         [[recognises]]\nreferentiel = \"cuisine-test\"\ncompetence = 1\n\
         [[recognises]]\nreferentiel = \"rectec\"\ncompetence = \"2\"\n",
    );
    assert!(
        error_on(&e, "recognises[1].competence")
            .problem
            .contains("has two rules")
    );
    assert!(
        error_on(&e, "recognises[1].referentiel")
            .problem
            .contains("all the rules of a class name the same référentiel")
    );

    // An unknown key is refused by name, with its line.
    let e =
        errors("[[recognises]]\nreferentiel = \"cuisine-test\"\ncompetence = \"1\"\ncercle = 2\n");
    assert_eq!(e[0].field, "cercle", "{e:?}");
    assert!(e[0].problem.contains("line"), "{}", e[0]);
}

// ---- checking rules against référentiels ----------------------------------------------

#[test]
fn rules_are_checked_against_the_known_versions() {
    let r = referentiel();
    let check = |rules: &str| {
        let (c, _tmp) = class(rules);
        check_rules(&c.rules, &[&r])
    };
    assert_eq!(check(RULE_1_CERCLE_2), RuleCheck::default());
    // A level by its id, its name, or its name loosely written.
    for level in ["2", "Cercle 2", "cercle_2", "CERCLE-2"] {
        let rules = RULE_1_CERCLE_2.replace("cercle-2", level);
        assert_eq!(check(&rules), RuleCheck::default(), "{level}");
    }
    // An unknown competence is an error naming the référentiel's competences.
    let c = check(&RULE_1_CERCLE_2.replace("competence = \"1\"", "competence = \"13\""));
    assert_eq!(c.errors.len(), 1);
    assert_eq!(c.errors[0].0, "recognises[0].competence");
    assert!(
        c.errors[0].1.contains(
            "the référentiel cuisine-test (version 2024) has no competence \"13\" (competences: 1, 2, 3)"
        ),
        "{c:?}"
    );
    // An unknown level names the levels.
    let c = check(&RULE_1_CERCLE_2.replace("cercle-2", "cercle-5"));
    assert_eq!(c.errors[0].0, "recognises[0].minimum_level");
    assert!(
        c.errors[0]
            .1
            .contains("no level \"cercle-5\" (levels: 1 (Cercle 1), 2 (Cercle 2), 3 (Cercle 3))"),
        "{c:?}"
    );
    // A référentiel that is neither imported nor shipped cannot be checked: a warning.
    let c = check(&RULE_1_CERCLE_2.replace("cuisine-test", "agent-propre"));
    assert!(c.errors.is_empty());
    assert!(
        c.warnings[0].contains("no référentiel agent-propre is imported or shipped"),
        "{c:?}"
    );
    // A pinned version is checked against that version only.
    let c = check(&format!("{RULE_1_CERCLE_2}version = \"2030\"\n"));
    assert!(c.warnings[0].contains("cuisine-test version 2030"), "{c:?}");
    // A competence that exists in one known version is enough.
    let (cl, _tmp) = class(RULE_1_CERCLE_2);
    let mut other = referentiel_version("2020");
    other.competences.retain(|c| c.id != "1");
    assert_eq!(check_rules(&cl.rules, &[&other, &r]), RuleCheck::default());
    assert_eq!(check_rules(&cl.rules, &[&other]).errors.len(), 1);
}

#[test]
fn the_shipped_classes_check_against_the_shipped_referentiels() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let classes = crate::badge_class::load_dir(&root.join("badge-classes")).unwrap();
    let known = shipped_referentiels(&shipped_dir(&root.join("badge-classes")));
    assert!(known.iter().any(|r| r.id == "rectec"));
    let (errors, warnings) = check_classes(&classes, &known);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(warnings.is_empty(), "{warnings:?}");
}

// ---- proposals ------------------------------------------------------------------------

fn earned_by(rules: &str, entries: &[CarnetEntry]) -> (bool, Vec<Vec<String>>) {
    let (c, _tmp) = class(rules);
    let r = referentiel();
    let proposals = propose(&r, entries, [&c]);
    assert_eq!(proposals.len(), 1, "the class concerns the référentiel");
    let p = &proposals[0];
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let reasons = p
        .outcomes
        .iter()
        .map(|o| o.shortfalls.iter().map(|s| s.to_string()).collect())
        .collect();
    (p.earned(), reasons)
}

#[test]
fn levels_below_at_and_above_the_minimum() {
    let at = validated("1", Answer::JeFais, Some("2"));
    assert_eq!(earned_by(RULE_1_CERCLE_2, &[at]), (true, vec![vec![]]));
    let above = validated("1", Answer::JeFais, Some("3"));
    assert!(earned_by(RULE_1_CERCLE_2, &[above]).0);
    let below = validated("1", Answer::JeFais, Some("1"));
    assert_eq!(
        earned_by(RULE_1_CERCLE_2, &[below]),
        (
            false,
            vec![vec!["cercle 1 atteint, cercle 2 demandé".into()]]
        )
    );
    let none = validated("1", Answer::JeFais, None);
    assert_eq!(
        earned_by(RULE_1_CERCLE_2, &[none]),
        (
            false,
            vec![vec!["aucun niveau indiqué, cercle 2 demandé".into()]]
        )
    );
    // Without a minimum, any level (or none) will do.
    let rule = RULE_1_CERCLE_2.replace("minimum_level = \"cercle-2\"\n", "");
    assert!(earned_by(&rule, &[validated("1", Answer::JeFais, None)]).0);
    assert!(earned_by(&rule, &[validated("1", Answer::JeFais, Some("1"))]).0);
}

#[test]
fn answers_je_fais_en_partie_and_je_ne_fais_pas() {
    let partly = validated("1", Answer::JeFaisEnPartie, Some("2"));
    assert_eq!(
        earned_by(RULE_1_CERCLE_2, std::slice::from_ref(&partly)),
        (
            false,
            vec![vec![
                "« je fais en partie » ; le badge demande « je fais »".into()
            ]]
        )
    );
    let accepting = format!("{RULE_1_CERCLE_2}answer = \"je_fais_en_partie\"\n");
    assert!(earned_by(&accepting, &[partly]).0);
    assert!(earned_by(&accepting, &[validated("1", Answer::JeFais, Some("2"))]).0);
    // « Je ne fais pas » is one reason, whatever else the entry says.
    let not = declared("1", Answer::JeNeFaisPas, None);
    assert_eq!(
        earned_by(&accepting, &[not]),
        (false, vec![vec!["« je ne fais pas »".into()]])
    );
    // Not positioned at all.
    assert_eq!(
        earned_by(RULE_1_CERCLE_2, &[]),
        (
            false,
            vec![vec!["pas encore positionnée dans le carnet".into()]]
        )
    );
}

#[test]
fn validated_versus_declared() {
    let decl = declared("1", Answer::JeFais, Some("2"));
    assert_eq!(
        earned_by(RULE_1_CERCLE_2, std::slice::from_ref(&decl)),
        (
            false,
            vec![vec!["déclarée, pas validée par un jury".into()]]
        )
    );
    let accepting = format!("{RULE_1_CERCLE_2}recognition = \"declared\"\n");
    assert!(earned_by(&accepting, &[decl]).0);
    assert!(earned_by(&accepting, &[validated("1", Answer::JeFais, Some("2"))]).0);
    // Several shortfalls at once are all stated.
    let (earned, reasons) = earned_by(
        RULE_1_CERCLE_2,
        &[declared("1", Answer::JeFaisEnPartie, Some("1"))],
    );
    assert!(!earned);
    assert_eq!(
        reasons[0],
        vec![
            "« je fais en partie » ; le badge demande « je fais »",
            "déclarée, pas validée par un jury",
            "cercle 1 atteint, cercle 2 demandé"
        ]
    );
}

const ALL_OF: &str = r#"
[[recognises]]
referentiel = "cuisine-test"
competence = "1"
minimum_level = "2"

[[recognises]]
referentiel = "cuisine-test"
competence = "2"
answer = "je_fais_en_partie"
"#;

#[test]
fn several_competences_are_all_required() {
    let one = validated("1", Answer::JeFais, Some("2"));
    let mut two = validated("2", Answer::JeFaisEnPartie, None);
    two.struck = vec!["vaisselle".into()];
    let (earned, reasons) = earned_by(ALL_OF, std::slice::from_ref(&one));
    assert!(!earned);
    assert_eq!(
        reasons,
        vec![
            vec![],
            vec!["pas encore positionnée dans le carnet".to_string()]
        ]
    );
    assert!(earned_by(ALL_OF, &[one.clone(), two.clone()]).0);
    let (earned, reasons) = earned_by(
        ALL_OF,
        &[validated("1", Answer::JeFais, Some("1")), two.clone()],
    );
    assert!(!earned);
    assert_eq!(reasons[1], Vec::<String>::new());

    // The reasons for the educator, and the struck part, in one sentence each.
    let (c, _tmp) = class(ALL_OF);
    let r = referentiel();
    let p = &propose(&r, &[one, two], [&c])[0];
    assert!(p.earned());
    assert_eq!(
        p.outcomes[0].why(),
        "compétence 1 « Organiser son activité » : je fais, validée par un jury le 14/06/2024, cercle 2 atteint (cercle 2 demandé)"
    );
    assert_eq!(
        p.outcomes[1].why(),
        "compétence 2 « Mettre la table et ranger la vaisselle » : je fais en partie, sauf : ranger la vaisselle, validée par un jury le 14/06/2024"
    );
}

#[test]
fn rules_that_cannot_apply_are_stated_never_silent() {
    let (c, _tmp) = class(&RULE_1_CERCLE_2.replace("competence = \"1\"", "competence = \"9\""));
    let r = referentiel();
    let p = &propose(&r, &[validated("1", Answer::JeFais, Some("3"))], [&c])[0];
    assert!(!p.earned());
    assert_eq!(
        p.problems,
        vec![
            "recognises[0] : le référentiel cuisine-test version 2024 n'a pas de compétence « 9 »"
        ]
    );
    let (c, _tmp) = class(&RULE_1_CERCLE_2.replace("cercle-2", "expert"));
    let p = &propose(&r, &[validated("1", Answer::JeFais, Some("3"))], [&c])[0];
    assert!(!p.earned());
    assert!(p.problems[0].contains("pas de niveau « expert »"), "{p:?}");
}

#[test]
fn classes_of_other_referentiels_or_versions_are_not_proposed() {
    let r = referentiel();
    let entries = [validated("1", Answer::JeFais, Some("3"))];
    let (plain, _t1) = class("");
    let (other, _t2) = class(&RULE_1_CERCLE_2.replace("cuisine-test", "rectec"));
    let (pinned, _t3) = class(&format!("{RULE_1_CERCLE_2}version = \"2030\"\n"));
    let (this, _t4) = class(&format!("{RULE_1_CERCLE_2}version = \"2024\"\n"));
    let proposals = propose(&r, &entries, [&plain, &other, &pinned, &this]);
    assert_eq!(proposals.len(), 1);
    assert!(std::ptr::eq(proposals[0].class, &this));
    assert!(proposals[0].earned());
    assert_eq!(Shortfall::EnPartie.code(), "en_partie");
}

// ---- the narrative --------------------------------------------------------------------

#[test]
fn the_narrative_says_what_how_and_how_far() {
    let (c, _tmp) = class(ALL_OF);
    let r = referentiel();
    let one = validated("1", Answer::JeFais, Some("2"));
    let mut two = validated("2", Answer::JeFaisEnPartie, None);
    two.struck = vec!["vaisselle".into()];
    two.modality = Some(Modality::ExterneAvecStage);
    let p = &propose(&r, &[one, two], [&c])[0];
    let text = narrative(&r, &p.outcomes);
    assert_eq!(
        text,
        "Ce badge reconnaît mes compétences du référentiel « Cuisine (test) » (version 2024).\n\n\
         Compétence 1 : Organiser son activité\n\
         - Ma réponse dans mon carnet : « Je fais ».\n\
         - Mon niveau : Cercle 2 (sur 3 niveaux). Cela veut dire : « Applique l'organisation prévue pour son activité ».\n\
         - Un jury a validé cette compétence le 14 juin 2024. C'était ma reconnaissance des acquis de l'expérience (RAE).\n\
         - Le jury est venu sur mon lieu de travail. J'ai montré ce que je sais faire.\n\n\
         Compétence 2 : Mettre la table et ranger la vaisselle\n\
         - Ma réponse dans mon carnet : « Je fais en partie ».\n\
         - Sauf : ranger la vaisselle.\n\
         - Un jury a validé cette compétence le 14 juin 2024. C'était ma reconnaissance des acquis de l'expérience (RAE).\n\
         - J'ai fait un stage de 6 semaines en entreprise. Au jury, j'ai montré que je sais comparer et m'adapter."
    );
}

#[test]
fn a_declared_competence_is_written_as_declared() {
    let rules =
        format!("{RULE_1_CERCLE_2}recognition = \"declared\"\nanswer = \"je_fais_en_partie\"\n");
    let (c, _tmp) = class(&rules);
    let r = referentiel();
    let mut entry = declared("1", Answer::JeFaisEnPartie, Some("3"));
    entry.date = NaiveDate::from_ymd_opt(2024, 3, 1);
    let p = &propose(&r, &[entry], [&c])[0];
    assert!(p.earned());
    let text = narrative(&r, &p.outcomes);
    assert!(
        text.contains("- Je déclare que je fais une partie de cette compétence.\n"),
        "{text}"
    );
    assert!(text.contains("« Je fais en partie »"), "{text}");
    assert!(!text.contains("« Je fais »"), "{text}");
    assert!(
        text.contains("- Je pense avoir le niveau Cercle 3 (sur 3 niveaux)."),
        "{text}"
    );
    assert!(text.contains("- Aucun jury n'a validé cette compétence."));
    assert!(
        text.contains("- Je l'ai déclarée le 1er mars 2024."),
        "{text}"
    );
    assert!(!text.contains("Un jury a validé"), "{text}");
    assert!(!text.contains("RAE"), "{text}");
    // Jury members are never named.
    assert!(!text.contains("Durand"));
}

#[test]
fn dates_are_written_out() {
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert_eq!(french_date(d(2024, 6, 14)), "14 juin 2024");
    assert_eq!(french_date(d(2025, 8, 1)), "1er août 2025");
    assert_eq!(french_date(d(2023, 12, 31)), "31 décembre 2023");
}
