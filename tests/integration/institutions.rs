//! Several institutions in one instance (issue #13 §1), through the `carnet` binary: added with
//! their own keys, listed, shown, updated; badge classes imported and exported per institution;
//! commands acting for one with `--institution`.

use std::fs;

use crate::common::cli::{BADGE_CLASSES, Installation};
use serde_json::Value;

const CLASS: &str = "securite-hygiene-au-travail";

fn json(out: &crate::common::cli::Output) -> Value {
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn institutions_are_added_with_their_own_keys_and_classes_and_act_apart() {
    let c = Installation::new();
    let all = json(&c.run(&["institutions", "list", "--json"]));
    assert_eq!(
        all[0]["slug"], "ime",
        "the first start made the first institution: {all}"
    );
    assert_eq!(all[0]["urls"], "instance");

    let out = c.run(&[
        "institutions",
        "add",
        "esat-tilly",
        "--name",
        "ESAT de Tilly",
        "--email",
        "contact@esat-tilly.example",
        "--url",
        "https://esat-tilly.example",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let again = c.run(&["institutions", "add", "esat-tilly", "--name", "Autre"]);
    assert_ne!(again.code, 0);
    assert!(
        again.stderr.contains("already has the slug esat-tilly"),
        "{}",
        again.stderr
    );
    for (args, says) in [
        (
            vec!["institutions", "add", "Bad_Slug", "--name", "X"],
            "slug",
        ),
        (vec!["institutions", "add", "ok-slug"], "--name"),
        (
            vec![
                "institutions",
                "add",
                "ok-slug",
                "--name",
                "X",
                "--email",
                "pas-un-email",
            ],
            "email",
        ),
        (
            vec![
                "institutions",
                "add",
                "ok-slug",
                "--name",
                "X",
                "--url",
                "ftp://x",
            ],
            "url",
        ),
        (
            vec![
                "institutions",
                "add",
                "ok-slug",
                "--name",
                "X",
                "--language",
                "de",
            ],
            "language",
        ),
        (
            vec!["institutions", "update", "nope", "--name", "X"],
            "no institution nope",
        ),
    ] {
        let out = c.run(&args);
        assert_ne!(out.code, 0, "{args:?}");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    let shown = json(&c.run(&["institutions", "show", "esat-tilly", "--json"]));
    assert_eq!(shown["urls"], "scoped");
    assert_eq!(
        shown["issuer_id"],
        "http://localhost:8080/issuers/esat-tilly"
    );
    let kids: Vec<&str> = shown["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["ed25519-1", "rsa-1"]);
    assert_eq!(shown["badge_classes"], serde_json::json!([]));

    // classes are the institution's own: imported, then unchanged when imported again
    let esat = ["--institution", "esat-tilly"];
    let import = |extra: &[&str]| {
        let mut args = vec!["badge-classes", "import"];
        args.extend_from_slice(extra);
        c.run(&args)
    };
    let out = import(&esat);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!("stored    {CLASS}")),
        "{}",
        out.stdout
    );
    let out = import(&esat);
    assert!(
        out.stdout.contains(&format!("unchanged {CLASS}")),
        "{}",
        out.stdout
    );
    let export = c.path("export");
    let out = c.run(&[
        "badge-classes",
        "export",
        export.to_str().unwrap(),
        "--institution",
        "esat-tilly",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for name in [format!("{CLASS}.toml"), format!("{CLASS}.png")] {
        assert_eq!(
            fs::read(export.join(&name)).unwrap(),
            fs::read(std::path::Path::new(BADGE_CLASSES).join(&name)).unwrap(),
            "{name} exported as imported"
        );
    }

    // a badge issued for the new institution is signed by it, and verifies with its keys
    let file = c.path("esat.json");
    let out = c.run(&[
        "issue",
        "--institution",
        "esat-tilly",
        "--badge-class",
        CLASS,
        "--recipient",
        "lea@example.org",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let credential: Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        credential["issuer"]["id"],
        "http://localhost:8080/issuers/esat-tilly"
    );
    assert_eq!(credential["issuer"]["name"], "ESAT de Tilly");
    let out = c.run(&[
        "verify",
        file.to_str().unwrap(),
        "--offline",
        "--institution",
        "esat-tilly",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // rotating one institution's keys leaves the other's alone
    let out = c.run(&["keys", "rotate", "--institution", "esat-tilly"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ime = json(&c.run(&["institutions", "show", "ime", "--json"]));
    assert_eq!(ime["keys"].as_array().unwrap().len(), 2);
    let shown = json(&c.run(&["institutions", "show", "esat-tilly", "--json"]));
    assert_eq!(shown["keys"].as_array().unwrap().len(), 4);

    // an update changes only what is given; an empty value removes an optional one
    let out = c.run(&[
        "institutions",
        "update",
        "esat-tilly",
        "--name",
        "ESAT APEER Tilly",
        "--email",
        "",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown = json(&c.run(&["institutions", "show", "esat-tilly", "--json"]));
    assert_eq!(shown["name"], "ESAT APEER Tilly");
    assert_eq!(shown["email"], Value::Null);
    assert_eq!(shown["url"], "https://esat-tilly.example");
    let out_file = c.path("nope.json");
    let unknown = c.run(&[
        "issue",
        "--institution",
        "nope",
        "--badge-class",
        CLASS,
        "--recipient",
        "a@b.example",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_ne!(unknown.code, 0);
    assert!(
        unknown.stderr.contains("no institution has the slug nope"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_persons_record_lists_their_awards_in_one_institution() {
    let c = Installation::new();
    let issue = |email: &str| {
        let file = c.path(&format!("{}.json", uuid::Uuid::new_v4()));
        let out = c.run(&[
            "issue",
            "--badge-class",
            CLASS,
            "--recipient",
            email,
            "--out",
            file.to_str().unwrap(),
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout
            .split_whitespace()
            .find_map(|w| uuid::Uuid::parse_str(w).ok())
            .unwrap()
    };
    let first = issue("lea@example.org");
    let second = issue("Lea@Example.org");
    issue("karim@example.org");
    let out = c.run(&["revoke", &first.to_string(), "--reason", "erreur de saisie"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let person = json(&c.run(&["people", "show", "--email", "lea@example.org", "--json"]));
    let awards = person["awards"].as_array().unwrap();
    let ids: Vec<&str> = awards.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [first.to_string(), second.to_string()], "{person}");
    assert!(
        awards[0]["state"]
            .as_str()
            .unwrap()
            .starts_with("revoked on"),
        "{person}"
    );
    assert_eq!(awards[1]["state"], "valid");
    let text = c.run(&["people", "show", "--email", "lea@example.org"]);
    assert!(text.stdout.contains("Awards: 2"), "{}", text.stdout);
    assert!(!text.stdout.contains("lea@"), "the email is never printed");
    // nobody else's record, and none in another institution
    let out = c.run(&["people", "show", "--email", "nobody@example.org"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("no record of this person"),
        "{}",
        out.stderr
    );
    let out = c.run(&["institutions", "add", "esat", "--name", "ESAT"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = c.run(&[
        "people",
        "show",
        "--email",
        "lea@example.org",
        "--institution",
        "esat",
    ]);
    assert_ne!(out.code, 0, "{}", out.stdout);
}
