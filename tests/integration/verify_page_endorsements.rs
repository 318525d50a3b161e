//! The `/verify` page on a badge that carries endorsements (issue #5 §6): for each one, the
//! endorser's name, declared role and organisation, what they wrote, the date and its own check;
//! for a Profile carnet made, the two plain sentences that say carnet wrote down what the person
//! declared and did not check who they are (French, and English with `lang=en`). A profile
//! carnet did not make gets no such sentence, and a forged endorsement shows its failed check.
//! Then axe-core in Chromium on the answer page (`tests/interop/page_check.mjs`, as
//! `tests/page_browser.rs` runs it), unless `CARNET_SKIP_INTEROP=1`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common;
use common::cli::Cli;
use common::server::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const AUTH: &str = "Bearer 0123456789abcdefghijklmnopqrstuv";
const FORM: &str = "application/x-www-form-urlencoded";

/// `application/x-www-form-urlencoded` of these fields.
fn urlencoded(fields: &[(&str, &str)]) -> Vec<u8> {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// The page's form with one field: `(content type, body)`.
fn multipart(lang: &str, name: &str, filename: Option<&str>, value: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----carnet-endorsed-page-4f8e2b";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"lang\"\r\n\r\n{lang}\r\n--{boundary}\r\n"
    )
    .into_bytes();
    let disposition = match filename {
        Some(f) => format!(
            "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        ),
        None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
    };
    body.extend_from_slice(disposition.as_bytes());
    body.extend_from_slice(value);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn verify_page(
    s: &Server,
    lang: &str,
    name: &str,
    file: Option<&str>,
    value: &[u8],
) -> String {
    let (ct, body) = multipart(lang, name, file, value);
    let r = s
        .request(Some(body), "/verify", &[("content-type", &ct)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

/// An award to Léa endorsed by a tutor (with an organisation) and a colleague (without one).
async fn endorsed_award(s: &Server) -> Value {
    let award = s.issue().await;
    let id = award["id"].as_str().unwrap();
    for (kind, name, role, organisation, text) in [
        (
            "tutor",
            "Sophie Martin",
            "Tutrice de stage",
            "Restaurant Le Bon Goût",
            "Léa prépare son poste avant le service.\nElle suit la fiche recette.",
        ),
        (
            "colleague",
            "Paul <b>Durand</b>",
            "Commis",
            "",
            "Léa range son plan de travail.",
        ),
    ] {
        let r = s
            .request(
                Some(json!({ "endorser_kind": kind }).to_string().into_bytes()),
                &format!("/api/v1/awards/{id}/endorsement-invitations"),
                &[("content-type", JSON), ("authorization", AUTH)],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let url = r.json()["url"].as_str().unwrap().to_owned();
        let link = &url[url.find("/endorse/").unwrap()..];
        let form = urlencoded(&[
            ("name", name),
            ("role", role),
            ("organisation", organisation),
            ("recommendation", text),
            ("consent", "yes"),
        ]);
        let done = s.request(Some(form), link, &[("content-type", FORM)]).await;
        assert_eq!(done.status, 200, "{}", done.text());
    }
    award
}

/// The HTML of one endorsement on the page (from its heading to the end of its article).
fn article<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!("\">{name}</h3>"))
        .unwrap_or_else(|| panic!("no endorsement by {name}: {html}"));
    let end = html[start..].find("</article>").unwrap() + start;
    &html[start..end]
}

#[tokio::test]
async fn each_endorsement_is_shown_with_its_check_and_what_carnet_did_not_check() {
    let s = Server::new().await;
    let award = endorsed_award(&s).await;
    let png = s.form(&award, "png").await.body;

    let fr = verify_page(&s, "fr", "file", Some("badge.png"), &png).await;
    assert!(fr.contains("Ce badge est authentique."), "{fr}");
    assert!(fr.contains("<h2 id=\"endorsements-h\">Recommandations</h2>"));
    assert!(fr.contains("2 personnes recommandent ce badge."));
    let sophie = article(&fr, "Sophie Martin");
    for shown in [
        "<p>Rôle déclaré : Tutrice de stage.</p>",
        "<p>Organisation déclarée : Restaurant Le Bon Goût.</p>",
        "<p>carnet a écrit ce que cette personne a déclaré.</p>",
        "<p>carnet n&#39;a pas vérifié son identité.</p>",
        "<blockquote><p>Léa prépare son poste avant le service.</p><p>Elle suit la fiche recette.</p></blockquote>",
        "<strong>Vérification réussie.</strong> La recommandation de Sophie Martin est authentique",
        "/endorsers/",
    ] {
        assert!(sophie.contains(shown), "{shown}: {sophie}");
    }
    let today = chrono::Utc::now();
    assert!(
        sophie.contains(&format!("<p>Date : {} ", chrono::Datelike::day(&today))),
        "{sophie}"
    );
    // no organisation declared: no line for it; the name is escaped
    let paul = article(&fr, "Paul &#60;b&#62;Durand&#60;/b&#62;");
    assert!(paul.contains("<p>Rôle déclaré : Commis.</p>"), "{paul}");
    assert!(!paul.contains("Organisation"), "{paul}");
    assert!(!fr.contains("<b>Durand"));
    // each one's check, and the page stays within its budget
    assert!(fr.contains("(endorsement, endorsement[0])"), "{fr}");
    let without_image = fr.len()
        - fr.find("base64,")
            .map_or(0, |i| fr[i..].find('"').unwrap_or(0));
    assert!(without_image < 100 * 1024, "{without_image} bytes");

    let en = verify_page(&s, "en", "file", Some("badge.png"), &png).await;
    assert!(en.contains("<h2 id=\"endorsements-h\">Endorsements</h2>"));
    assert!(en.contains("2 people endorse this badge."));
    let sophie = article(&en, "Sophie Martin");
    for shown in [
        "<p>Declared role: Tutrice de stage.</p>",
        "<p>Declared organisation: Restaurant Le Bon Goût.</p>",
        "<p>carnet wrote down what this person declared.</p>",
        "<p>carnet did not check who this person is.</p>",
        "<strong>Check passed.</strong> The endorsement by Sophie Martin is authentic",
        ">This person&#39;s profile</a>",
    ] {
        assert!(sophie.contains(shown), "{shown}: {sophie}");
    }

    // A badge without endorsements has no such section.
    let plain = s.issue().await;
    let plain_png = s.form(&plain, "png").await.body;
    let html = verify_page(&s, "fr", "file", Some("badge.png"), &plain_png).await;
    assert!(html.contains("Ce badge est authentique."));
    assert!(!html.contains("endorsements-h"), "{html}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_profile_carnet_did_not_make_gets_no_such_sentence_and_a_forgery_shows_its_check() {
    let s = Server::new().await;
    let award = endorsed_award(&s).await;
    let mut cred = s.form(&award, "json").await.json();
    // Someone rewrote the first endorser's profile: the text is no longer carnet's.
    cred["endorsement"][0]["issuer"]["description"] = "Une tutrice très connue.".into();
    let html = verify_page(&s, "fr", "badge", None, cred.to_string().as_bytes()).await;
    assert!(html.contains("✘ Badge non valable"), "{html}");
    let sophie = article(&html, "Sophie Martin");
    assert!(
        sophie.contains("<p>Ce que dit son profil : Une tutrice très connue.</p>"),
        "{sophie}"
    );
    assert!(!sophie.contains("carnet a écrit"), "{sophie}");
    assert!(!sophie.contains("Rôle déclaré"), "{sophie}");
    assert!(
        sophie.contains("<strong>Vérification en échec.</strong> La recommandation de Sophie Martin n&#39;est pas valide"),
        "{sophie}"
    );
    // the other one is still carnet's, and still checks
    let paul = article(&html, "Paul &#60;b&#62;Durand&#60;/b&#62;");
    assert!(paul.contains("carnet a écrit"), "{paul}");
    assert!(
        paul.contains("<strong>Vérification réussie.</strong>"),
        "{paul}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn the_report_names_each_endorsement_as_its_check_does_and_matches_the_openapi_schema() {
    let s = Server::new().await;
    let award = endorsed_award(&s).await;
    let png = s.form(&award, "png").await.body;
    let report = s.verify(PNG, png, None).await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    let listed = report["summary"]["endorsements"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{report:#}");
    for (i, e) in listed.iter().enumerate() {
        let path = format!("endorsement[{i}]");
        assert_eq!(e["path"], path.as_str());
        assert!(
            report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == "endorsement" && c["path"] == path.as_str()),
            "no check at {path}: {report:#}"
        );
        assert!(e["issuer_id"].as_str().unwrap().contains("/endorsers/"));
        assert!(
            e["issuer_description"]
                .as_str()
                .unwrap()
                .starts_with("Ce profil a été créé par carnet")
        );
        assert!(e["valid_from"].is_string());
    }
    assert_eq!(listed[0]["issuer_name"], "Sophie Martin");

    let mut schema = s.get("/api/v1/openapi.json").await.json();
    schema["$ref"] = json!("#/components/schemas/Report");
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    s.shutdown().await;
}

// ---- the same answer in Chromium, with axe-core -------------------------------------------

const BROWSER_TIMEOUT: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_with_endorsements_is_accessible_in_chromium() {
    if std::env::var("CARNET_SKIP_INTEROP").as_deref() == Ok("1") {
        let _ = std::io::stderr()
            .write_all(b"SKIP verify_page_endorsements: CARNET_SKIP_INTEROP=1 (no Chromium)\n");
        return;
    }
    for needed in [
        "/usr/bin/chromium".to_owned(),
        format!("{ROOT}/.tools/node/node_modules/axe-core/axe.min.js"),
    ] {
        assert!(
            Path::new(&needed).exists(),
            "{needed} is missing: run scripts/setup-interop.sh (or set CARNET_SKIP_INTEROP=1)"
        );
    }
    let s = Server::new().await;
    let award = endorsed_award(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("endorsed.png");
    std::fs::write(&png, s.form(&award, "png").await.body).unwrap();
    let args = vec![
        "--base".to_owned(),
        s.addr.clone(),
        "--png".to_owned(),
        png.display().to_string(),
    ];
    let ran = Cli::program("node")
        .arg(Path::new(ROOT).join("tests/interop/page_check.mjs"))
        .args(args)
        .time_limit(BROWSER_TIMEOUT)
        .run_async()
        .await;
    assert_eq!(ran.code, 0, "{}", ran.describe());
    let report = ran.json_line();
    assert!(report.is_object(), "one JSON line: {}", ran.describe());
    for (lang, authentic) in [
        ("fr", "Ce badge est authentique."),
        ("en", "This badge is authentic."),
    ] {
        let answer = report["pages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == "answer" && p["lang"] == lang)
            .unwrap_or_else(|| panic!("no answer page in {lang}: {report}"));
        assert!(
            answer["verdict"]
                .as_str()
                .is_some_and(|v| v.starts_with(authentic)),
            "{answer}"
        );
        assert!(
            answer["passes"].as_u64().is_some_and(|n| n >= 10),
            "{answer}"
        );
        assert_eq!(
            answer["violations"],
            json!([]),
            "axe-core on the answer with endorsements in {lang}"
        );
    }
    s.shutdown().await;
}
