//! Parsing and validation of référentiels (JSON, CSV) and carnets: every error kind, with its
//! file, line and field; CSV quoting; the shipped RECTEC file.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::carnet::{self, Answer, Modality, Recognition};
use super::*;

fn shipped_rectec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("referentiels/rectec.json")
}

fn json_problems(text: &str) -> Vec<ImportError> {
    parse(text.as_bytes(), "r.json", Format::Json).expect_err("should be refused")
}

fn csv_problems(text: &str) -> Vec<ImportError> {
    parse(text.as_bytes(), "r.csv", Format::Csv).expect_err("should be refused")
}

/// The one problem about `field`, or a panic listing them all.
fn about<'a>(problems: &'a [ImportError], field: &str) -> &'a ImportError {
    problems
        .iter()
        .find(|p| p.field == field)
        .unwrap_or_else(|| panic!("no problem about {field}: {problems:#?}"))
}

/// A small trade référentiel with parts to strike out, one line per value (line numbers below).
const TRADE: &str = r##"{
  "id": "agent-test",
  "name": "Agent de test",
  "version": "2024-1",
  "source": "Fictif, pour les tests",
  "licence": "Domaine public",
  "groups": [
    {"id": "cuisine", "name": "Cuisine", "colour": "#1b7f4a"}
  ],
  "levels": [
    {"id": "1", "name": "Niveau 1"},
    {"id": "2", "name": "Niveau 2"}
  ],
  "competences": [
    {
      "id": "C1",
      "wording": "Mettre la table, ranger la vaisselle",
      "group": "cuisine",
      "parts": [
        {"id": "a", "wording": "Mettre la table"},
        {"id": "b", "wording": "ranger la vaisselle"}
      ]
    },
    {"id": "C2", "wording": "Préparer son matériel"}
  ]
}"##;

fn trade() -> Referentiel {
    parse(TRADE.as_bytes(), "trade.json", Format::Json).expect("the test référentiel is valid")
}

// ---- the shipped RECTEC structure -------------------------------------------------------

#[test]
fn the_shipped_rectec_file_has_12_competences_in_4_poles_and_4_cercles() {
    let r = load_file(&shipped_rectec()).expect("referentiels/rectec.json is valid");
    assert_eq!((r.id.as_str(), r.version.as_str()), ("rectec", "2021"));
    assert_eq!(r.competences.len(), 12);
    let poles: Vec<(&str, Option<&str>)> = r
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.colour.as_deref()))
        .collect();
    assert_eq!(
        poles,
        [
            ("Pôle organisationnel", Some("bleu")),
            ("Pôle communicationnel", Some("vert")),
            ("Pôle réflexif à visée actionnelle", Some("rouge")),
            ("Pôle réflexif à visée personnelle", Some("jaune")),
        ]
    );
    let per_pole: Vec<usize> = r
        .groups
        .iter()
        .map(|g| {
            r.competences
                .iter()
                .filter(|c| c.group.as_deref() == Some(g.id.as_str()))
                .count()
        })
        .collect();
    assert_eq!(per_pole, [4, 4, 2, 2]);
    let cercles: Vec<&str> = r.levels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(cercles, ["Cercle 1", "Cercle 2", "Cercle 3", "Cercle 4"]);

    let one = r.competence("1").unwrap();
    assert_eq!(one.wording, "Organiser son activité");
    assert_eq!(one.descriptors.len(), 4);
    assert_eq!(
        one.descriptors[1].wording,
        "Applique l'organisation prévue pour son activité"
    );
    assert!(
        one.descriptors
            .iter()
            .all(|d| d.autonomy.is_some() && d.indicators.is_some())
    );
    assert_eq!(one.mastery_elements.len(), 3);
    // Only competence 1's descriptors are published: nothing is invented for the others.
    assert!(
        r.competences[1..].iter().all(|c| c.descriptors.is_empty()
            && c.parts.is_empty()
            && c.mastery_elements.is_empty())
    );
    assert_eq!(
        r.competence("12").unwrap().wording,
        "Développer ses savoirs et ses modes d'apprentissage"
    );
    assert!(r.licence.contains("Différent et Compétent Réseau"));
    assert_eq!(r.level_rank("2"), Some(1));
}

#[test]
fn a_referentiel_exports_to_its_own_import_format() {
    let r = load_file(&shipped_rectec()).unwrap();
    let again = parse(r.to_json().as_bytes(), "export.json", Format::Json).unwrap();
    assert_eq!(again, r);
    assert_eq!(again.digest(), r.digest());
    assert_eq!(r.digest().len(), 64);
}

// ---- JSON: reading --------------------------------------------------------------------

#[test]
fn json_syntax_errors_give_line_and_column() {
    let text = "{\n  \"id\": \"x\",\n  \"name\": \"y\"\n  \"version\": \"1\"\n}";
    let problems = json_problems(text);
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(
        (p.file.as_str(), p.line, p.field.as_str()),
        ("r.json", Some(4), "(syntax)")
    );
    assert!(p.problem.contains("column"), "{p}");
    assert_eq!(p.to_string().split(':').nth(1), Some("4"));
}

#[test]
fn json_structure_problems_are_all_reported_at_their_lines() {
    let text = TRADE
        .replace(
            r#""source": "Fictif, pour les tests","#,
            r#""source": 12.5e400,"#,
        )
        .replace(
            r#""licence": "Domaine public","#,
            r#""licence": "Domaine public", "colour": "red","#,
        )
        .replace(
            r#"{"id": "C2", "wording": "Préparer son matériel"}"#,
            r#"{"id": "C2"}"#,
        )
        .replace(r#""group": "cuisine","#, r#""group": ["cuisine"],"#);
    // serde_json refuses 12.5e400 (out of range): use a real type error instead.
    let text = text.replace("12.5e400", "true");
    let problems = json_problems(&text);
    assert_eq!(about(&problems, "source").line, Some(5));
    assert!(about(&problems, "source").problem.contains("must be text"));
    assert_eq!(about(&problems, "colour").line, Some(6));
    assert!(about(&problems, "colour").problem.contains("unknown field"));
    let group = about(&problems, "competences[0].group");
    assert_eq!(group.line, Some(18));
    let missing = about(&problems, "competences[1].wording");
    assert_eq!(missing.line, Some(24), "the line of the competence");
    assert_eq!(missing.problem, "is required");
    assert_eq!(problems.len(), 4, "{problems:#?}");
}

#[test]
fn json_duplicate_keys_are_reported() {
    let text = TRADE.replace(
        r#""version": "2024-1","#,
        "\"version\": \"2024-1\",\n  \"version\": \"2024-2\",",
    );
    let problems = json_problems(&text);
    let p = about(&problems, "version");
    assert_eq!(p.line, Some(5));
    assert!(p.problem.contains("twice"));
}

#[test]
fn json_rule_problems_are_all_reported_at_their_lines() {
    let text = TRADE
        .replace(r#""id": "agent-test""#, r#""id": "Agent Test""#)
        .replace(r#""version": "2024-1""#, r#""version": "2024 v1""#)
        .replace(r#""group": "cuisine""#, r#""group": "salle""#)
        .replace(r#"{"id": "b", "wording""#, r#"{"id": "a", "wording""#)
        .replace(
            r#"{"id": "C2", "wording": "Préparer son matériel"}"#,
            r#"{"id": "C1", "wording": "  ", "descriptors": [{"level": "3", "wording": "x"}]}"#,
        );
    let problems = json_problems(&text);
    assert_eq!(about(&problems, "id").line, Some(2));
    assert!(about(&problems, "id").problem.contains("lowercase"));
    assert_eq!(about(&problems, "version").line, Some(4));
    let group = about(&problems, "competences[0].group");
    assert_eq!(group.line, Some(18));
    assert!(
        group
            .problem
            .contains("no group has the id \"salle\" (groups: cuisine)")
    );
    let part = about(&problems, "competences[0].parts[1].id");
    assert_eq!(part.line, Some(21));
    assert!(part.problem.contains("used twice"));
    assert!(
        about(&problems, "competences[1].id")
            .problem
            .contains("used twice")
    );
    assert_eq!(
        about(&problems, "competences[1].wording").problem,
        "must not be empty"
    );
    let level = about(&problems, "competences[1].descriptors[0].level");
    assert!(
        level
            .problem
            .contains("no level has the id \"3\" (levels: 1, 2)")
    );
    assert_eq!(problems.len(), 7, "{problems:#?}");
    // In file order.
    let lines: Vec<usize> = problems.iter().map(|p| p.line.unwrap()).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn descriptors_need_levels_and_one_per_level() {
    let no_levels = json!({
        "id": "x", "name": "X", "version": "1", "source": "s", "licence": "l",
        "competences": [{"id": "1", "wording": "w", "descriptors": [{"level": "1", "wording": "d"}]}]
    });
    let problems = json_problems(&no_levels.to_string());
    assert!(
        about(&problems, "competences[0].descriptors[0].level")
            .problem
            .contains("declare them first")
    );

    let twice = json!({
        "id": "x", "name": "X", "version": "1", "source": "s", "licence": "l",
        "levels": [{"id": "1", "name": "N1"}],
        "competences": [{"id": "1", "wording": "w", "descriptors": [
            {"level": "1", "wording": "d"}, {"level": "1", "wording": "e"}]}]
    });
    let problems = json_problems(&twice.to_string());
    assert!(
        about(&problems, "competences[0].descriptors[1]")
            .problem
            .contains("two descriptors for level \"1\"")
    );
}

#[test]
fn groups_must_exist_and_competences_are_required() {
    let text = json!({
        "id": "x", "name": "X", "version": "1", "source": "s", "licence": "l",
        "competences": [{"id": "1", "wording": "w", "group": "g"}]
    });
    let problems = json_problems(&text.to_string());
    assert!(
        about(&problems, "competences[0].group")
            .problem
            .contains("declares no groups")
    );
    let empty = json!({"id": "x", "name": "X", "version": "1", "source": "s", "licence": "l",
        "competences": []});
    let problems = json_problems(&empty.to_string());
    assert!(
        about(&problems, "competences")
            .problem
            .contains("at least one")
    );
    let problems = json_problems("[1, 2]");
    assert!(
        about(&problems, "(document)")
            .problem
            .contains("must be an object")
    );
}

#[test]
fn lengths_counts_and_sizes_are_bounded() {
    let long = "x".repeat(201);
    let text = TRADE.replace("Agent de test", &long);
    assert!(
        about(&json_problems(&text), "name")
            .problem
            .contains("longer than 200")
    );

    let many: Vec<_> = (0..=MAX_LEVELS)
        .map(|i| json!({"id": i.to_string(), "name": "n"}))
        .collect();
    let text = json!({"id": "x", "name": "X", "version": "1", "source": "s", "licence": "l",
        "levels": many, "competences": [{"id": "1", "wording": "w"}]});
    assert!(
        about(&json_problems(&text.to_string()), "competences")
            .problem
            .contains("levels; the limit is 10")
    );

    let huge = vec![b' '; MAX_REFERENTIEL_BYTES + 1];
    let problems = parse(&huge, "big.json", Format::Json).unwrap_err();
    assert!(about(&problems, "(file)").problem.contains("limit"));
    assert!(
        about(
            &parse(b"{\xff}", "bin.json", Format::Json).unwrap_err(),
            "(file)"
        )
        .problem
        .contains("UTF-8")
    );
    assert!(
        about(
            &parse(b"  \n", "e.json", Format::Json).unwrap_err(),
            "(file)"
        )
        .problem
        .contains("empty")
    );
    let tab = TRADE.replace("Agent de test", "Agent\\u0007de test");
    assert!(
        about(&json_problems(&tab), "name")
            .problem
            .contains("control")
    );
}

#[test]
fn a_byte_order_mark_and_numeric_ids_are_accepted() {
    let text = format!(
        "\u{feff}{}",
        TRADE.replace(r#""version": "2024-1""#, r#""version": 2024"#)
    );
    let r = parse(text.as_bytes(), "bom.json", Format::Json).unwrap();
    assert_eq!(r.version, "2024");
}

#[test]
fn the_format_follows_the_extension_then_the_content() {
    assert_eq!(Format::of_file(Path::new("a.CSV"), b"{"), Format::Csv);
    assert_eq!(Format::of_file(Path::new("a.json"), b"kind"), Format::Json);
    assert_eq!(
        Format::of_file(Path::new("a.txt"), b"\xEF\xBB\xBF {"),
        Format::Json
    );
    assert_eq!(Format::of_file(Path::new("a"), b"kind,id"), Format::Csv);
    assert_eq!(
        Format::of_content_type("text/csv; charset=utf-8"),
        Some(Format::Csv)
    );
    assert_eq!(
        Format::of_content_type("application/json"),
        Some(Format::Json)
    );
    assert_eq!(Format::of_content_type("text/plain"), None);
}

// ---- CSV ------------------------------------------------------------------------------

/// The same référentiel as TRADE, in CSV, with quoting in every form.
const TRADE_CSV: &str = "kind,id,parent,text,description,colour,autonomy,indicators\r
referentiel,agent-test,,Agent de test,,,,\r
version,,,2024-1,,,,\r
source,,,\"Fictif, pour les tests\",,,,\r
licence,,,Domaine public,,,,\r
group,cuisine,,Cuisine,,#1b7f4a,,\r
level,1,,Niveau 1,,,,\r
level,2,,Niveau 2,,,,\r
competence,C1,cuisine,\"Mettre la table, ranger la vaisselle\",,,,\r
part,a,C1,Mettre la table,,,,\r
part,b,C1,ranger la vaisselle,,,,\r
competence,C2,,Préparer son matériel,,,,\r
";

#[test]
fn csv_and_json_of_the_same_referentiel_are_equal() {
    let from_csv = parse(TRADE_CSV.as_bytes(), "t.csv", Format::Csv).unwrap();
    assert_eq!(from_csv, trade());
    assert_eq!(from_csv.digest(), trade().digest());
}

#[test]
fn csv_quoting_separators_and_line_breaks() {
    let mut problems = Problems::new("q.csv");
    let text = "a;b;c\n\"x;y\";\"il a dit \"\"oui\"\"\";\"deux\r\nlignes\"\n\n1;;3\n\"\";z;\"\"\n";
    let records = csv::records(text, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(csv::separator(text), ';');
    let fields: Vec<&Vec<String>> = records.iter().map(|r| &r.fields).collect();
    assert_eq!(
        fields,
        [
            &vec!["a".to_string(), "b".into(), "c".into()],
            &vec![
                "x;y".to_string(),
                "il a dit \"oui\"".into(),
                "deux\nlignes".into()
            ],
            &vec!["1".to_string(), "".into(), "3".into()],
            &vec!["".to_string(), "z".into(), "".into()],
        ]
    );
    // The line each record starts on, counting the line break inside the quoted field.
    let lines: Vec<usize> = records.iter().map(|r| r.line).collect();
    assert_eq!(lines, [1, 2, 5, 6]);
    // No final line break; a comma inside quotes does not make the separator a comma.
    let records = csv::records("\"a,b\";c", &mut problems);
    assert_eq!(records[0].fields, ["a,b", "c"]);
}

#[test]
fn csv_quoting_errors_name_their_line() {
    let mut problems = Problems::new("q.csv");
    csv::records("a,b\nx,\"never closed\n\nmore\n", &mut problems);
    let p = problems.into_vec();
    assert_eq!((p[0].line, p[0].field.as_str()), (Some(2), "(syntax)"));
    assert!(p[0].problem.contains("never closed"));

    let mut problems = Problems::new("q.csv");
    let records = csv::records("a,b\nx,5\"\n\"ok\"x,y\nlast,row\n", &mut problems);
    let p = problems.into_vec();
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(p[0].line, Some(2));
    assert!(p[0].problem.contains("write the quote twice"));
    assert_eq!(p[1].line, Some(3));
    assert!(p[1].problem.contains("after the closing quote"));
    assert_eq!(records.last().unwrap().fields, ["last", "row"]);
}

#[test]
fn csv_row_problems_are_all_reported_with_line_and_column() {
    let text = TRADE_CSV
        .replace(
            "group,cuisine,,Cuisine,,#1b7f4a,,",
            "group,cuisine,,Cuisine,une description,#1b7f4a,,",
        )
        .replace("part,b,C1,", "part,b,C9,")
        .replace("level,2,,Niveau 2,,,,", "niveau,2,,Niveau 2,,,,")
        .replace(
            "competence,C2,,Préparer son matériel,,,,",
            "competence,C2,,,,,,",
        )
        .replace(
            "licence,,,Domaine public,,,,",
            "licence,,,Domaine public,,,,\r\nlicence,,,Autre,,,,",
        );
    let problems = csv_problems(&(text + "part,c,C1,x,,,,,extra\r\n"));
    let at = |line: usize| {
        problems
            .iter()
            .find(|p| p.line == Some(line))
            .unwrap_or_else(|| panic!("nothing on line {line}: {problems:#?}"))
    };
    assert_eq!(at(6).field, "kind");
    assert!(
        at(6)
            .problem
            .contains("second licence row (the first is on line 5)")
    );
    assert_eq!(at(7).field, "description");
    assert!(
        at(7)
            .problem
            .contains("does not use the description column")
    );
    assert_eq!(at(9).field, "kind");
    assert!(at(9).problem.contains("unknown kind \"niveau\""));
    assert_eq!(at(12).field, "parent");
    assert!(
        at(12)
            .problem
            .contains("no competence row has the id \"C9\"")
    );
    assert_eq!(at(13).field, "text");
    assert!(at(13).problem.contains("a competence row needs its text"));
    assert_eq!(at(14).field, "(row)");
    assert_eq!(problems.len(), 6, "{problems:#?}");
}

#[test]
fn csv_header_and_meta_rows_are_checked() {
    let problems = csv_problems("kind,id,text,couleur\nreferentiel,x,X,\n");
    assert_eq!(about(&problems, "couleur").line, Some(1));
    assert!(
        about(&problems, "parent")
            .problem
            .contains("missing: parent")
    );

    let problems = csv_problems("kind,id,parent,text\ncompetence,1,,Faire\n");
    for kind in ["referentiel", "version", "source", "licence"] {
        assert!(
            problems
                .iter()
                .any(|p| p.field == "kind" && p.problem.contains(kind)),
            "{kind}: {problems:#?}"
        );
    }
    // Trailing unnamed columns are ignored while empty.
    let ok = TRADE_CSV.replace("indicators\r\n", "indicators,,\r\n");
    assert!(parse(ok.as_bytes(), "t.csv", Format::Csv).is_ok());
    let bad = ok.replace(
        "part,a,C1,Mettre la table,,,,",
        "part,a,C1,Mettre la table,,,,,,oops",
    );
    let problems = csv_problems(&bad);
    assert_eq!(about(&problems, "column 10").line, Some(10));
}

#[test]
fn csv_descriptors_and_mastery_elements_attach_to_their_competence() {
    let text = format!(
        "{TRADE_CSV}descriptor,2,C2,\"Prépare seul\",,,\"En autonomie\",\"Rien ne manque\"\r\n\
         descriptor,1,C2,Prépare avec aide,,,,\r\nmastery_element,,C2,Anticipation,,,,\r\n"
    );
    let r = parse(text.as_bytes(), "t.csv", Format::Csv).unwrap();
    let c2 = r.competence("C2").unwrap();
    // Lowest level first, whatever the order of the rows.
    let levels: Vec<&str> = c2.descriptors.iter().map(|d| d.level.as_str()).collect();
    assert_eq!(levels, ["1", "2"]);
    assert_eq!(c2.descriptors[1].autonomy.as_deref(), Some("En autonomie"));
    assert_eq!(c2.mastery_elements, ["Anticipation"]);
}

// ---- carnets --------------------------------------------------------------------------

fn carnet_text(entries: serde_json::Value) -> String {
    serde_json::to_string_pretty(&json!({
        "referentiel": {"id": "agent-test", "version": "2024-1"},
        "person": {"email": "Lea.Martin@example.org", "display_name": "Léa"},
        "entries": entries,
    }))
    .unwrap()
}

fn import(text: &str) -> Result<carnet::ValidCarnet, Vec<ImportError>> {
    let draft = carnet::parse_carnet(text.as_bytes(), "c.json")?;
    assert_eq!(draft.referentiel(), Some(("agent-test", "2024-1")));
    draft.validate(Some(&trade()))
}

fn jury() -> serde_json::Value {
    json!([{"name": "Mme Durand", "role": "représentante du DAVA"}, "M. Petit (directeur d'ESMS)"])
}

#[test]
fn a_valid_carnet_keeps_every_answer_as_given() {
    let text = carnet_text(json!([
        {"competence": "C2", "answer": "je_fais", "recognition": "validated",
         "modality": "externe", "date": "2024-06-14", "jury": jury(), "level": 2},
        {"competence": "C1", "answer": "je_fais_en_partie", "struck": ["b"],
         "comment": "Je range avec de l'aide."},
    ]));
    let c = import(&text).unwrap();
    assert_eq!(c.email.as_str(), "lea.martin@example.org");
    assert_eq!(c.display_name.as_deref(), Some("Léa"));
    // In the référentiel's order.
    assert_eq!(c.entries[0].competence, "C1");
    assert_eq!(c.entries[0].answer, Answer::JeFaisEnPartie);
    assert_eq!(c.entries[0].struck, ["b"]);
    assert_eq!(
        c.entries[0].recognition,
        Recognition::Declared,
        "the default"
    );
    let validated = &c.entries[1];
    assert_eq!(validated.recognition, Recognition::Validated);
    assert_eq!(validated.modality, Some(Modality::Externe));
    assert_eq!(validated.level.as_deref(), Some("2"));
    assert_eq!(validated.jury[1].name, "M. Petit (directeur d'ESMS)");
    assert_eq!(validated.jury[1].role, None);
    assert_eq!(validated.date.unwrap().to_string(), "2024-06-14");
}

#[test]
fn carnet_rule_problems_are_all_reported_at_their_lines() {
    let text = carnet_text(json!([
        {"competence": "C9", "answer": "je_fais"},
        {"competence": "C1", "answer": "je_fais", "struck": ["b", "z"]},
        {"competence": "C2", "answer": "je_ne_fais_pas", "recognition": "validated", "level": "1"},
    ]));
    let problems = import(&text).unwrap_err();
    let unknown = about(&problems, "entries[0].competence");
    assert!(unknown.problem.contains("has no competence \"C9\""));
    assert_eq!(unknown.line, Some(12));
    assert!(
        about(&problems, "entries[1].struck[1]")
            .problem
            .contains("no part \"z\" (its parts: a, b)")
    );
    assert!(
        about(&problems, "entries[1].struck")
            .problem
            .contains("must then be je_fais_en_partie")
    );
    assert!(
        about(&problems, "entries[2].recognition")
            .problem
            .contains("cannot be validated")
    );
    assert!(
        about(&problems, "entries[2].date")
            .problem
            .contains("date of the jury")
    );
    assert!(
        about(&problems, "entries[2].jury")
            .problem
            .contains("needs the jury")
    );
    assert!(
        about(&problems, "entries[2].modality")
            .problem
            .contains("needs the modality")
    );
    assert!(
        about(&problems, "entries[2].level")
            .problem
            .contains("no level reached")
    );
    assert_eq!(problems.len(), 8, "{problems:#?}");
    assert!(
        problems
            .iter()
            .all(|p| p.file == "c.json" && p.line.is_some())
    );
}

#[test]
fn more_carnet_rules() {
    let problems = import(&carnet_text(json!([
        {"competence": "C1", "answer": "je_fais_en_partie", "struck": ["a", "b"]},
        {"competence": "C2", "answer": "je_fais", "jury": ["Mme Durand"], "level": "7"},
        {"competence": "C1", "answer": "je_fais"},
    ])))
    .unwrap_err();
    assert!(
        about(&problems, "entries[0].struck")
            .problem
            .contains("je_ne_fais_pas")
    );
    assert!(
        about(&problems, "entries[1].jury")
            .problem
            .contains("only a competence validated")
    );
    assert!(
        about(&problems, "entries[1].level")
            .problem
            .contains("no level \"7\" (levels: 1, 2)")
    );
    assert!(
        about(&problems, "entries[2].competence")
            .problem
            .contains("positioned twice")
    );

    let problems = import(&carnet_text(json!([
        {"competence": "C2", "answer": "je_fais", "struck": ["a", "a"]},
        {"competence": "C1", "answer": "je_fais_en_partie", "struck": ["a", "a"]},
    ])))
    .unwrap_err();
    assert!(
        about(&problems, "entries[0].struck[0]")
            .problem
            .contains("no parts that can be struck")
    );
    assert!(
        about(&problems, "entries[1].struck[1]")
            .problem
            .contains("struck out twice")
    );
}

#[test]
fn carnet_field_problems_are_all_reported() {
    let text = serde_json::to_string_pretty(&json!({
        "referentiel": {"id": "agent-test", "version": "2024-1"},
        "person": {"email": "not an email", "display_name": "x".repeat(81)},
        "entries": [
            {"competence": "C1", "answer": "oui", "date": "14/06/2024", "modality": "stage",
             "recognition": "jury", "jury": [{"role": "DAVA"}], "level": true, "note": 1},
            {"answer": "je_fais", "struck": "a", "comment": 3},
        ],
    }))
    .unwrap();
    let problems = carnet::parse_carnet(text.as_bytes(), "c.json")
        .unwrap()
        .validate(Some(&trade()))
        .unwrap_err();
    for (field, words) in [
        ("person.email", "not an email"),
        ("person.display_name", "1 to 80"),
        (
            "entries[0].answer",
            "je_fais, je_fais_en_partie, je_ne_fais_pas",
        ),
        ("entries[0].date", "YYYY-MM-DD"),
        (
            "entries[0].modality",
            "en_situation_de_travail, externe, externe_avec_stage",
        ),
        ("entries[0].recognition", "declared or validated"),
        ("entries[0].jury[0].name", "needs a name"),
        ("entries[0].level", "id of a level"),
        ("entries[0].note", "unknown field"),
        ("entries[1].competence", "is required"),
        ("entries[1].struck", "list of part ids"),
        ("entries[1].comment", "must be text"),
    ] {
        let p = about(&problems, field);
        assert!(p.problem.contains(words), "{field}: {p}");
        assert!(p.line.is_some(), "{p}");
    }
    assert_eq!(problems.len(), 12, "{problems:#?}");
}

#[test]
fn a_carnet_on_an_unknown_referentiel_or_without_person_is_refused() {
    let text = carnet_text(json!([]));
    let draft = carnet::parse_carnet(text.as_bytes(), "c.json").unwrap();
    let problems = draft.validate(None).unwrap_err();
    let p = about(&problems, "referentiel.id");
    assert!(
        p.problem
            .contains("no référentiel \"agent-test\" version \"2024-1\"")
    );
    assert_eq!(p.line, Some(3));

    let problems = carnet::parse_carnet(b"{\"entries\": []}", "c.json")
        .unwrap()
        .validate(Some(&trade()))
        .unwrap_err();
    assert!(about(&problems, "referentiel").problem.contains("required"));
    assert!(about(&problems, "person").problem.contains("required"));
    let syntax = carnet::parse_carnet(b"{\"entries\": [}", "c.json").unwrap_err();
    assert_eq!(syntax[0].field, "(syntax)");
}

#[test]
fn the_person_is_kept_only_as_hashes() {
    let c = import(&carnet_text(json!([]))).unwrap();
    let new = c.into_new_carnet("ime", "api:test");
    let debug = format!("{new:?}");
    assert!(!debug.to_lowercase().contains("lea.martin"), "{debug}");
    assert!(new.person.person_key.starts_with("sha256$"));
    assert!(crate::recipient::matches(
        "lea.martin@example.org",
        &new.person.recipient_identity,
        Some(&new.person.recipient_salt)
    ));
    let email = crate::recipient::Email::parse("LEA.MARTIN@example.org ").unwrap();
    assert_eq!(carnet::person_key("ime", &email), new.person.person_key);
    assert_ne!(carnet::person_key("esat", &email), new.person.person_key);
}

// ---- editing one entry ----------------------------------------------------------------

fn validated_in_part() -> carnet::CarnetEntry {
    carnet::apply_patch(
        None,
        "C1",
        &json!({"answer": "je_fais_en_partie", "struck": ["b"], "recognition": "validated",
                "modality": "en_situation_de_travail", "date": "2024-06-14", "jury": jury(),
                "level": "1"}),
        &trade(),
    )
    .unwrap()
}

#[test]
fn an_edit_positions_a_competence_and_removes_fields_with_null() {
    let r = trade();
    let new = carnet::apply_patch(
        None,
        "C2",
        &json!({"answer": "je_fais", "comment": "Seul"}),
        &r,
    )
    .unwrap();
    assert_eq!(new.recognition, Recognition::Declared);
    let edited = carnet::apply_patch(
        Some(&new),
        "C2",
        &json!({"comment": null, "level": "2"}),
        &r,
    )
    .unwrap();
    assert_eq!((edited.comment, edited.level.as_deref()), (None, Some("2")));

    let problems = carnet::apply_patch(None, "C2", &json!({"comment": "x"}), &r).unwrap_err();
    assert_eq!(problems[0].0, "answer");
    let problems = carnet::apply_patch(None, "C9", &json!({"answer": "je_fais"}), &r).unwrap_err();
    assert_eq!(problems[0].0, "competence");
    let problems = carnet::apply_patch(
        None,
        "C2",
        &json!({"answer": "je_fais", "competence": "C1"}),
        &r,
    )
    .unwrap_err();
    assert_eq!(problems[0].0, "competence");
    assert!(problems[0].1.contains("in the address"));
    let problems = carnet::apply_patch(None, "C2", &json!(["je_fais"]), &r).unwrap_err();
    assert_eq!(problems[0].0, "(body)");
}

#[test]
fn what_a_jury_validated_changes_only_with_a_new_decision() {
    let r = trade();
    let before = validated_in_part();
    // « en partie » never quietly becomes « je fais »: not by the answer...
    let problems = carnet::apply_patch(
        Some(&before),
        "C1",
        &json!({"answer": "je_fais", "struck": []}),
        &r,
    )
    .unwrap_err();
    assert_eq!(problems[0].0, "recognition");
    assert!(problems[0].1.contains("new jury decision"), "{problems:?}");
    // ...nor by un-striking a part, nor by a higher level.
    for patch in [json!({"struck": []}), json!({"level": "2"})] {
        let problems = carnet::apply_patch(Some(&before), "C1", &patch, &r).unwrap_err();
        assert_eq!(problems[0].0, "recognition", "{patch}");
    }
    // A comment is not a decision and needs none.
    carnet::apply_patch(Some(&before), "C1", &json!({"comment": "Bravo"}), &r).unwrap();
    // A new jury decision may change it.
    let after = carnet::apply_patch(
        Some(&before),
        "C1",
        &json!({"answer": "je_fais", "struck": [], "date": "2025-01-20", "jury": jury()}),
        &r,
    )
    .unwrap();
    assert_eq!(
        (after.answer, after.recognition),
        (Answer::JeFais, Recognition::Validated)
    );
    // Or the person declares it, which is then shown as declared, without a jury.
    let declared = carnet::apply_patch(
        Some(&before),
        "C1",
        &json!({"answer": "je_fais", "struck": [], "recognition": "declared", "jury": null}),
        &r,
    )
    .unwrap();
    assert_eq!(declared.recognition, Recognition::Declared);
    // Declaring while keeping the jury is refused: a jury means validated.
    let problems =
        carnet::apply_patch(Some(&before), "C1", &json!({"recognition": "declared"}), &r)
            .unwrap_err();
    assert_eq!(problems[0].0, "jury");
}

// ---- the documented examples ---------------------------------------------------------------

/// The fenced blocks of `docs/REFERENTIELS.md` in a language, in order.
fn doc_blocks(language: &str) -> Vec<String> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/REFERENTIELS.md"))
            .unwrap();
    let fence = format!("```{language}\n");
    doc.split(&fence)
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap().to_owned())
        .collect()
}

#[test]
fn the_documented_examples_are_valid_and_agree() {
    let json = doc_blocks("json");
    let csv = doc_blocks("csv");
    let from_json = parse(json[0].as_bytes(), "doc.json", Format::Json).unwrap();
    let from_csv = parse(csv[0].as_bytes(), "doc.csv", Format::Csv).unwrap();
    assert_eq!(from_csv, from_json);
    assert_eq!(from_json.competence("P1").unwrap().descriptors.len(), 2);

    let rectec = load_file(&shipped_rectec()).unwrap();
    let carnet = carnet::parse_carnet(json[1].as_bytes(), "doc-carnet.json")
        .unwrap()
        .validate(Some(&rectec))
        .unwrap();
    assert_eq!(carnet.entries.len(), 3);
    assert_eq!(carnet.entries[0].jury.len(), 3);
}
