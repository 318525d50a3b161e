//! Awards earned from a carnet, through the real server: import RECTEC and a trade référentiel,
//! import carnets, list what they earn (and why not), confirm, and check the issued badge — its
//! alignments, results (`achievedLevel`), narrative (*en partie*, struck parts, declared), its OB 2.0
//! twin — and that it verifies, that a second confirmation gives the same award, and that a carnet
//! that no longer earns a class is refused.

use crate::common;

use std::path::Path;

use common::carnets::*;
use common::cli::Installation;
use common::server::*;
use serde_json::{Value, json};

async fn patch(s: &Server, path: &str, body: Value) -> Resp {
    let r = s
        .client
        .patch(s.url(path))
        .header("authorization", auth())
        .header("content-type", JSON)
        .body(body.to_string())
        .send()
        .await
        .expect("request sent");
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    Resp {
        status,
        headers,
        body: r.bytes().await.expect("body").to_vec(),
    }
}

async fn server(classes: &Path) -> Server {
    let s = Server::with_args(&[
        &format!("--badge-classes-dir={}", classes.display()),
        "--issuer-email=contact@ime.example.org",
    ])
    .await;
    let r = post(
        &s,
        "/api/v1/referentiels",
        JSON,
        std::fs::read(RECTEC).unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = post(&s, "/api/v1/referentiels", "text/csv", TRADE_CSV).await;
    assert_eq!(r.status, 201, "{}", r.text());
    s
}

/// Imports a carnet; its id.
async fn carnet(s: &Server, referentiel: (&str, &str), email: &str, entries: Value) -> String {
    let body = json!({
        "referentiel": {"id": referentiel.0, "version": referentiel.1},
        "person": {"email": email, "display_name": "Léa"},
        "entries": entries,
    });
    let r = post(s, "/api/v1/carnets", JSON, body.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

fn jury() -> Value {
    json!([{"name": "Mme Durand", "role": "professionnelle extérieure, métiers de la cuisine"},
           {"name": "M. Petit", "role": "directeur de l'établissement"}])
}

async fn confirm(s: &Server, carnet: &str, class: &str, body: &str) -> Resp {
    post(
        s,
        &format!("/api/v1/carnets/{carnet}/proposals/{class}/confirm"),
        JSON,
        body,
    )
    .await
}

fn find<'a>(list: &'a Value, class: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["badge_class"] == class)
        .unwrap_or_else(|| panic!("no proposal for {class}: {list:#}"))
}

#[tokio::test]
async fn a_validated_rectec_carnet_earns_its_badge_once() {
    let dir = classes_dir(false);
    let s = server(dir.path()).await;
    let lea = carnet(
        &s,
        ("rectec", "2021"),
        "lea.martin@example.org",
        json!([
            {"competence": "1", "answer": "je_fais", "recognition": "validated",
             "modality": "en_situation_de_travail", "date": "2024-06-14", "level": "2",
             "jury": jury()},
            {"competence": "5", "answer": "je_fais_en_partie", "date": "2024-05-02"}
        ]),
    )
    .await;

    // The proposals: RECTEC's class is earned, with why; the trade class is not about RECTEC.
    let r = get(&s, &format!("/api/v1/carnets/{lea}/proposals")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["referentiel"]["id"], "rectec");
    assert_eq!(doc["not_earned"], json!([]));
    let earned = find(&doc["earned"], RECTEC_CLASS);
    assert_eq!(earned["award"], Value::Null);
    let confirm_url = format!(
        "{}/api/v1/carnets/{lea}/proposals/{RECTEC_CLASS}/confirm",
        s.base
    );
    assert_eq!(earned["confirm_url"], confirm_url.as_str());
    let c = &earned["competences"][0];
    assert_eq!(c["competence"], "1");
    assert_eq!(c["met"], true);
    assert_eq!(c["level"], json!({"id": "2", "name": "Cercle 2"}));
    assert_eq!(
        c["required"]["level"],
        json!({"id": "2", "name": "Cercle 2"})
    );
    assert_eq!(
        c["why"],
        "compétence 1 « Organiser son activité » : je fais, validée par un jury le 14/06/2024, cercle 2 atteint (cercle 2 demandé)"
    );
    assert!(
        earned["narrative"]
            .as_str()
            .unwrap()
            .contains("Mon niveau : Cercle 2")
    );

    // A class with rules is never issued on request alone.
    let direct = json!({"badge_class": RECTEC_CLASS, "recipient_email": "lea.martin@example.org"});
    let r = s.post_award(Some(TOKEN), direct.to_string()).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], "badge_class");

    // The email given again must be the carnet's person.
    let r = confirm(
        &s,
        &lea,
        RECTEC_CLASS,
        r#"{"recipient_email": "someone.else@example.org"}"#,
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], "recipient_email");

    // Confirm (with the email again, as typed: the award gets a fresh salted hash): issued, 201.
    let r = confirm(
        &s,
        &lea,
        RECTEC_CLASS,
        r#"{"recipient_email": "Lea.Martin@example.org"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let award = r.json();
    assert_eq!(award["already_issued"], false);
    assert_eq!(award["badge_class"], RECTEC_CLASS);
    assert_eq!(
        r.header("location"),
        format!("{}/api/v1/awards/{}", s.base, award["id"].as_str().unwrap())
    );

    // The credential: the class's alignment to RECTEC competence 1, the results, the narrative.
    let cred = s.form(&award, "json").await.json();
    let achievement = &cred["credentialSubject"]["achievement"];
    let aligned = achievement["alignment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["targetType"] == "ext:ReferentielCompetence")
        .expect("an alignment to the competence");
    assert_eq!(aligned["targetName"], "Organiser son activité");
    assert_eq!(aligned["targetCode"], "1");
    assert!(
        aligned["targetFramework"]
            .as_str()
            .unwrap()
            .starts_with("RECTEC — ")
            && aligned["targetFramework"]
                .as_str()
                .unwrap()
                .ends_with(", version 2021"),
        "{aligned}"
    );
    assert_eq!(aligned["targetDescription"], "Pôle organisationnel");
    let class_page = format!("{}/badge-classes/{RECTEC_CLASS}", s.base);
    assert_eq!(
        aligned["targetUrl"],
        format!("{class_page}#competence-rectec-1").as_str()
    );
    let version = achievement["version"].as_str().unwrap();
    assert!(version.ends_with("-rectec-2021"), "{version}");
    // The level reached points at a rubric level of a result description of the achievement.
    let results = cred["credentialSubject"]["result"].as_array().unwrap();
    let level = results
        .iter()
        .find(|r| r["resultDescription"].as_str().unwrap().ends_with("-level"))
        .expect("a level result");
    let description = achievement["resultDescription"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == level["resultDescription"])
        .expect("the result's description is on the achievement");
    assert_eq!(description["resultType"], "RubricCriterionLevel");
    let reached = description["rubricCriterionLevel"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == level["achievedLevel"])
        .expect("the level reached is one of the description's levels");
    assert_eq!(reached["name"], "Cercle 2");
    assert_eq!(
        reached["description"],
        "Applique l'organisation prévue pour son activité"
    );
    assert_eq!(description["requiredLevel"], level["achievedLevel"]);
    let answer = results
        .iter()
        .find(|r| {
            r["resultDescription"]
                .as_str()
                .unwrap()
                .ends_with("-answer")
        })
        .unwrap();
    assert!(
        answer["achievedLevel"]
            .as_str()
            .unwrap()
            .ends_with("-answer-je_fais")
    );
    let recognition = results
        .iter()
        .find(|r| {
            r["resultDescription"]
                .as_str()
                .unwrap()
                .ends_with("-recognition")
        })
        .unwrap();
    assert!(
        recognition["achievedLevel"]
            .as_str()
            .unwrap()
            .ends_with("-recognition-validated")
    );
    let evidence = &cred["evidence"][0];
    assert_eq!(
        evidence["genre"],
        "Reconnaissance des acquis de l'expérience (RAE)"
    );
    let narrative = evidence["narrative"].as_str().unwrap();
    for expected in [
        "Compétence 1 : Organiser son activité",
        "- Ma réponse dans mon carnet : « Je fais ».",
        "- Mon niveau : Cercle 2 (sur 4 niveaux). Cela veut dire : « Applique l'organisation prévue pour son activité ».",
        "- Un jury a validé cette compétence le 14 juin 2024.",
        "- Le jury est venu sur mon lieu de travail. J'ai montré ce que je sais faire.",
    ] {
        assert!(narrative.contains(expected), "{expected}\n{narrative}");
    }
    // Only the class's competence: the declared competence 5 is not in this badge.
    assert!(!narrative.contains("oral"), "{narrative}");
    assert!(!narrative.contains("Durand"), "jury members are not named");

    // It verifies, PNG and JSON, and names its recipient.
    let png = s.form(&award, "png").await.body;
    let report = s.verify(PNG, png, Some("lea.martin@example.org")).await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    let report = s
        .verify(JSON, serde_json::to_vec(&cred).unwrap(), None)
        .await;
    assert_eq!(report["verdict"], "valid", "{report:#}");

    // OB 2.0: the assertion names the BadgeClass of this référentiel version, which has the
    // alignment, and carries the same narrative.
    let assertion = s
        .get(award["ob2"]["assertion"].as_str().unwrap())
        .await
        .json();
    let badge = assertion["badge"].as_str().unwrap().to_owned();
    assert!(badge.ends_with(&format!("/{version}")), "{badge}");
    assert_eq!(assertion["evidence"][0]["narrative"], narrative);
    let bc = s.get(&badge).await;
    assert_eq!(bc.status, 200, "{}", bc.text());
    let bc = bc.json();
    assert_eq!(bc["version"], version);
    assert!(
        bc["alignment"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["targetCode"] == "1" && a["targetName"] == "Organiser son activité"),
        "{bc:#}"
    );
    assert_eq!(
        cred["credentialSubject"]["achievement"]["related"][0]["id"],
        badge.as_str()
    );
    let report = s
        .verify(
            "text/plain",
            award["ob2"]["assertion"]
                .as_str()
                .unwrap()
                .as_bytes()
                .to_vec(),
            None,
        )
        .await;
    assert_eq!(report["verdict"], "valid", "{report:#}");

    // A second confirmation (a double click, a retry): the same award, 200.
    let again = confirm(&s, &lea, RECTEC_CLASS, "").await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["id"], award["id"]);
    assert_eq!(again.json()["already_issued"], true);
    // The proposals now show it issued.
    let doc = get(&s, &format!("/api/v1/carnets/{lea}/proposals"))
        .await
        .json();
    let earned = find(&doc["earned"], RECTEC_CLASS);
    assert_eq!(earned["award"]["id"], award["id"]);
    assert!(earned.get("confirm_url").is_none());
    // The BadgeClass of that version does not change.
    assert_eq!(s.get(&badge).await.json(), bc);

    // The class's public page lists the recognised competence at the alignment's anchor.
    let page = s.get_html(&class_page).await.text();
    assert!(page.contains("id=\"competence-rectec-1\""), "{page}");
    s.shutdown().await;
}

#[tokio::test]
async fn en_partie_struck_parts_and_declared_competences_are_said_as_they_are() {
    let dir = classes_dir(false);
    let s = server(dir.path()).await;
    let tom = carnet(
        &s,
        ("agent-test", "2024-1"),
        "tom@example.org",
        json!([
            {"competence": "C1", "answer": "je_fais_en_partie", "struck": ["b"],
             "recognition": "validated", "modality": "externe", "date": "2024-06-20",
             "jury": jury()},
            {"competence": "C2", "answer": "je_fais", "date": "2024-05-02"}
        ]),
    )
    .await;
    let doc = get(&s, &format!("/api/v1/carnets/{tom}/proposals"))
        .await
        .json();
    let earned = find(&doc["earned"], TABLE_CLASS);
    assert_eq!(
        earned["competences"][0]["struck"],
        json!([{"id": "b", "wording": "ranger la vaisselle"}])
    );
    assert_eq!(earned["competences"][1]["recognition"], "declared");

    let r = confirm(&s, &tom, TABLE_CLASS, r#"{"recipient_name": "Tom"}"#).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let award = r.json();
    let cred = s.form(&award, "json").await.json();
    let narrative = cred["evidence"][0]["narrative"].as_str().unwrap();
    assert_eq!(
        cred["evidence"][0]["genre"],
        "Reconnaissance des acquis de l'expérience (RAE) et compétences déclarées dans mon carnet"
    );
    for expected in [
        "Compétence C1 : Mettre la table et ranger la vaisselle\n\
         - Ma réponse dans mon carnet : « Je fais en partie ».\n\
         - Sauf : ranger la vaisselle.\n\
         - Un jury a validé cette compétence le 20 juin 2024.",
        "- J'ai expliqué ce que je sais faire au jury, dans un entretien.",
        "Compétence C2 : Accueillir les convives\n\
         - Je déclare que je fais cette compétence.\n\
         - Ma réponse dans mon carnet : « Je fais ».\n\
         - Aucun jury n'a validé cette compétence.\n\
         - Je l'ai déclarée le 2 mai 2024.",
    ] {
        assert!(narrative.contains(expected), "{expected}\n---\n{narrative}");
    }
    // En partie never becomes « je fais », in the results either; declared stays declared.
    let achieved: Vec<&str> = cred["credentialSubject"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["achievedLevel"].as_str().unwrap())
        .collect();
    assert!(
        achieved
            .iter()
            .any(|a| a.ends_with("-C1-answer-je_fais_en_partie")),
        "{achieved:?}"
    );
    assert!(
        achieved
            .iter()
            .any(|a| a.ends_with("-C1-recognition-validated"))
    );
    assert!(
        achieved
            .iter()
            .any(|a| a.ends_with("-C2-recognition-declared"))
    );
    assert!(!achieved.iter().any(|a| a.ends_with("-C1-answer-je_fais")));
    // No levels in this référentiel: no level result.
    assert!(!achieved.iter().any(|a| a.contains("-level-")));
    // Without the email, the award names Tom by the carnet's salted hash; the name is published
    // because it was given.
    assert!(cred.to_string().contains("\"identityHash\":\"Tom\""));
    let png = s.form(&award, "png").await.body;
    let report = s.verify(PNG, png, Some("tom@example.org")).await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    s.shutdown().await;
}

#[tokio::test]
async fn near_misses_are_explained_and_a_carnet_that_no_longer_earns_is_refused() {
    let dir = classes_dir(false);
    let s = server(dir.path()).await;
    let sam = carnet(
        &s,
        ("rectec", "2021"),
        "sam@example.org",
        json!([
            {"competence": "1", "answer": "je_fais", "recognition": "validated",
             "modality": "externe_avec_stage", "date": "2024-06-14", "level": "2",
             "jury": jury()}
        ]),
    )
    .await;
    let r = get(&s, &format!("/api/v1/carnets/{sam}/proposals")).await;
    assert_eq!(
        find(&r.json()["earned"], RECTEC_CLASS)["competences"][0]["met"],
        true
    );

    // A new jury decision puts competence 1 at cercle 1: the proposal says why it is not earned.
    let r = patch(
        &s,
        &format!("/api/v1/carnets/{sam}/entries/1"),
        json!({"level": "1", "date": "2024-09-10", "jury": jury()}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = get(&s, &format!("/api/v1/carnets/{sam}/proposals"))
        .await
        .json();
    assert_eq!(doc["earned"], json!([]));
    let missed = find(&doc["not_earned"], RECTEC_CLASS);
    assert_eq!(
        missed["competences"][0]["reasons"],
        json!([{"code": "level_below", "message": "cercle 1 atteint, cercle 2 demandé"}])
    );
    assert!(missed.get("confirm_url").is_none());

    // Confirming now is refused, with the reason.
    let r = confirm(&s, &sam, RECTEC_CLASS, "").await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.header("content-type"), "application/problem+json");
    let problem = r.json();
    assert_eq!(problem["type"], "urn:carnet:error:not_earned");
    assert_eq!(
        problem["reasons"],
        json!(["compétence 1 « Organiser son activité » : cercle 1 atteint, cercle 2 demandé"])
    );

    // A declared « je fais » is never taken for a validated one.
    let r = patch(
        &s,
        &format!("/api/v1/carnets/{sam}/entries/1"),
        json!({"recognition": "declared", "jury": [], "modality": null, "level": "3"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = get(&s, &format!("/api/v1/carnets/{sam}/proposals"))
        .await
        .json();
    assert_eq!(
        find(&doc["not_earned"], RECTEC_CLASS)["competences"][0]["reasons"][0]["message"],
        "déclarée, pas validée par un jury"
    );

    // A carnet on a référentiel the class does not recognise: 409 too.
    let other = carnet(&s, ("agent-test", "2024-1"), "sam@example.org", json!([])).await;
    let r = confirm(&s, &other, RECTEC_CLASS, "").await;
    assert_eq!(r.status, 409, "{}", r.text());
    let doc = get(&s, &format!("/api/v1/carnets/{other}/proposals"))
        .await
        .json();
    let table = find(&doc["not_earned"], TABLE_CLASS);
    assert_eq!(
        table["competences"][0]["reasons"][0]["code"],
        "not_positioned"
    );

    // Unknown class or carnet: 404; no token: 401.
    assert_eq!(confirm(&s, &sam, "inconnu", "").await.status, 404);
    let nobody = "00000000-0000-4000-8000-000000000000";
    assert_eq!(
        get(&s, &format!("/api/v1/carnets/{nobody}/proposals"))
            .await
            .status,
        404
    );
    let r = s
        .request(None, &format!("/api/v1/carnets/{sam}/proposals"), &[])
        .await;
    assert_eq!(r.status, 401);
    let r = s
        .request(
            Some(Vec::new()),
            &format!("/api/v1/carnets/{sam}/proposals/{RECTEC_CLASS}/confirm"),
            &[],
        )
        .await;
    assert_eq!(r.status, 401);
    s.shutdown().await;
}

#[tokio::test]
async fn a_rule_naming_an_unknown_competence_stops_the_start() {
    // RECTEC is shipped beside the classes: a class asking for its competence 13 is an error.
    let root = tempfile::tempdir().unwrap();
    let classes = root.path().join("badge-classes");
    std::fs::create_dir(&classes).unwrap();
    std::fs::create_dir(root.path().join("referentiels")).unwrap();
    std::fs::copy(RECTEC, root.path().join("referentiels/rectec.json")).unwrap();
    let toml = std::fs::read_to_string(Path::new(CLASSES_DIR).join(format!("{RECTEC_CLASS}.toml")))
        .unwrap()
        .replace("competence = \"1\"", "competence = \"13\"");
    std::fs::write(classes.join(format!("{RECTEC_CLASS}.toml")), toml).unwrap();
    std::fs::copy(
        Path::new(CLASSES_DIR).join(format!("{RECTEC_CLASS}.png")),
        classes.join(format!("{RECTEC_CLASS}.png")),
    )
    .unwrap();
    let args = Args::try_parse_from([
        "carnet".to_string(),
        "--base-url=http://127.0.0.1:1".into(),
        format!("--database-url=sqlite://{}/c.db", root.path().display()),
        format!("--keys-dir={}", root.path().join("keys").display()),
        format!("--badge-classes-dir={}", classes.display()),
    ])
    .unwrap();
    let config = args.settings.validate().unwrap();
    let Err(e) = carnet::app::App::start(config).await else {
        panic!("a class naming RECTEC competence 13 must not start");
    };
    let text = e.to_string();
    assert!(
        text.contains("recognises[0].competence")
            && text.contains("the référentiel rectec (version 2021) has no competence \"13\""),
        "{text}"
    );
}

use clap::Parser;

/// The same through the command line: import RECTEC and a carnet (which prints what it earns),
/// confirm twice (one award), and `badge-classes check` with the award rules.
#[test]
fn the_cli_imports_a_carnet_proposes_and_confirms_once() {
    let c = Installation::new();
    let run = |args: &[&str]| {
        let out = c
            .cli()
            .args(args)
            .env("CARNET_ISSUER_EMAIL", "contact@ime.example.org")
            .run();
        (out.code, out.stdout, out.stderr)
    };
    let (code, stdout, stderr) = run(&["badge-classes", "check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!(
            "ok  {RECTEC_CLASS} — Organiser mon activité en cuisine"
        )),
        "{stdout}"
    );
    let (code, _, stderr) = run(&["referentiels", "import", RECTEC]);
    assert_eq!(code, 0, "{stderr}");
    let file = c.path("lea.json");
    std::fs::write(
        &file,
        json!({
            "referentiel": {"id": "rectec", "version": "2021"},
            "person": {"email": "lea.martin@example.org"},
            "entries": [{"competence": "1", "answer": "je_fais", "recognition": "validated",
                         "modality": "externe", "date": "2024-06-14", "level": "3",
                         "jury": ["Mme Durand"]}]
        })
        .to_string(),
    )
    .unwrap();
    let (code, stdout, stderr) = run(&["carnets", "import", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let id = stdout
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("imported carnet "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_owned();
    assert!(
        stdout.contains(&format!(
            "earned  {RECTEC_CLASS} « Organiser mon activité en cuisine »: to confirm: carnet carnets confirm {id} {RECTEC_CLASS}"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("compétence 1 « Organiser son activité » : je fais, validée par un jury le 14/06/2024, cercle 3 atteint (cercle 2 demandé)"),
        "{stdout}"
    );
    let (code, first, stderr) = run(&["carnets", "confirm", &id, RECTEC_CLASS]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("issued"), "{stderr}");
    let (code, second, stderr) = run(&["carnets", "confirm", &id, RECTEC_CLASS]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(first, second, "the same award");
    assert!(stderr.contains("already issued"), "{stderr}");
    let (code, stdout, _) = run(&["carnets", "proposals", &id, "--json"]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["earned"][0]["award"]["id"].as_str(), Some(first.trim()));
    let (code, _, stderr) = run(&["carnets", "confirm", &id, CLASS]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("does not recognise competences of the référentiel rectec"),
        "{stderr}"
    );
}
