//! The `carnet` binary, run as an educator would: settings from `CARNET_*` environment variables,
//! a SQLite file and a keys directory in a temporary directory, the shipped `badge-classes/`.
//! Exit codes of `verify`: 0 valid, 1 invalid, 2 could not check.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::common::cli::{BADGE_CLASSES as CLASSES_DIR, Installation, Output};
use serde_json::Value;

const CLASS: &str = "securite-hygiene-au-travail";

/// Issues the reference badge to Léa into `name`; returns the award id and the file.
fn issue(c: &Installation, name: &str, extra: &[&str]) -> (uuid::Uuid, PathBuf) {
    let file = c.path(name);
    let mut args = vec![
        "issue",
        "--badge-class",
        CLASS,
        "--recipient",
        "lea@example.org",
        "--name",
        "Léa",
        "--out",
        file.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = c.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let id = uuid::Uuid::parse_str(out.stdout.trim()).expect("stdout is the award id");
    (id, file)
}

fn verify(c: &Installation, file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["verify", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    c.run(&args)
}

fn statuses<'a>(report: &'a Value, id: &str) -> Vec<&'a str> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .map(|c| c["status"].as_str().unwrap())
        .collect()
}

#[test]
fn config_example_lists_every_setting() {
    let c = Installation::new();
    let out = c.run(&["config", "example"]);
    assert_eq!(out.code, 0);
    let documented = [
        "CARNET_BASE_URL",
        "CARNET_DATABASE_URL",
        "CARNET_KEYS_DIR",
        "CARNET_INSTANCE_KEY_FILE",
        "CARNET_INSTANCE_KEY",
        "CARNET_BADGE_CLASSES_DIR",
        "CARNET_ISSUER_SLUG",
        "CARNET_ISSUER_NAME",
        "CARNET_ISSUER_URL",
        "CARNET_ISSUER_EMAIL",
        "CARNET_ISSUER_DESCRIPTION",
        "CARNET_ISSUER_IMAGE",
        "CARNET_INSTITUTION",
        "CARNET_FETCH_ALLOW_HTTP",
        "CARNET_FETCH_ALLOW_ADDRESSES",
        "CARNET_JOB_LEASE_SECONDS",
        "CARNET_BIND",
        "CARNET_API_TOKENS",
        "CARNET_MAX_BODY_BYTES",
        "CARNET_BODY_READ_TIMEOUT",
        "CARNET_MAX_CONNECTIONS_PER_ADDRESS",
        "CARNET_MAX_EVIDENCE_BYTES",
        "CARNET_VERIFY_RATE_PER_MINUTE",
        "CARNET_VERIFY_RATE_BURST",
        "CARNET_TRUSTED_PROXIES",
    ];
    // And whatever the binary itself accepts, so that a new setting cannot be forgotten.
    let help = c.run(&["serve", "--help"]).stdout;
    let accepted: Vec<&str> = help
        .split("env: ")
        .skip(1)
        .map(|s| {
            s.split(|ch: char| ch != '_' && !ch.is_ascii_uppercase())
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(accepted.len(), documented.len(), "{accepted:?}");
    for var in documented.iter().chain(&accepted) {
        let line = format!("{var}=");
        assert!(
            out.stdout
                .lines()
                .any(|l| l.trim_start_matches(['#', ' ']).starts_with(&line)),
            "{var} missing from the example"
        );
    }
}

#[test]
fn issue_writes_each_format_and_each_verifies() {
    let c = Installation::new();
    let (png_id, png) = issue(&c, "x.png", &[]);
    let bytes = fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let (json_id, json) = issue(&c, "x.json", &[]);
    let cred: Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    assert!(cred["id"].as_str().unwrap().ends_with(&json_id.to_string()));
    assert_eq!(cred["proof"][0]["cryptosuite"], "eddsa-rdfc-2022");
    assert!(
        !fs::read_to_string(&json)
            .unwrap()
            .contains("lea@example.org")
    );
    let (_, jwt) = issue(&c, "x.jwt", &[]);
    let token = fs::read_to_string(&jwt).unwrap();
    assert_eq!(token.trim().split('.').count(), 3);
    let (_, svg) = issue(&c, "x.svg", &["--proof", "jwt"]);
    assert!(fs::read_to_string(&svg).unwrap().contains("<svg"));
    assert_ne!(png_id, json_id);

    for file in [&png, &json, &jwt, &svg] {
        let out = verify(&c, file, &["--lang", "en"]);
        assert_eq!(
            out.code,
            0,
            "{}: {}{}",
            file.display(),
            out.stdout,
            out.stderr
        );
        assert!(
            out.stdout.contains("This badge is authentic and valid."),
            "{}",
            out.stdout
        );
    }
    let out = verify(&c, &png, &[]);
    assert!(
        out.stdout.contains("Ce badge est authentique"),
        "{}",
        out.stdout
    );

    let out = c.run(&[
        "issue",
        "--badge-class",
        "cuisine",
        "--recipient",
        "lea@example.org",
        "--out",
        "y.png",
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(CLASS),
        "known classes are listed: {}",
        out.stderr
    );
    let out = c.run(&[
        "issue",
        "--badge-class",
        CLASS,
        "--recipient",
        "lea",
        "--out",
        "y.png",
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--recipient"), "{}", out.stderr);
    let out = c.run(&[
        "issue",
        "--badge-class",
        CLASS,
        "--recipient",
        "lea@example.org",
        "--out",
        "y.pdf",
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--out"), "{}", out.stderr);
}

#[test]
fn verify_reports_and_exit_codes() {
    let c = Installation::new();
    let (_, png) = issue(&c, "x.png", &[]);
    let out = verify(&c, &png, &["--json"]);
    assert_eq!(out.code, 0);
    let report = out.json();
    assert_eq!(report["verdict"], "valid");
    assert_eq!(statuses(&report, "proof"), ["pass"]);

    let out = verify(&c, &png, &["--recipient", "lea@example.org", "--json"]);
    assert_eq!(out.code, 0);
    assert_eq!(statuses(&out.json(), "recipient"), ["pass"]);
    let out = verify(&c, &png, &["--recipient", "tom@example.org", "--json"]);
    assert_eq!(out.code, 1);
    assert_eq!(statuses(&out.json(), "recipient"), ["fail"]);

    let (_, json) = issue(&c, "x.json", &[]);
    let mut cred: Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    cred["credentialSubject"]["achievement"]["name"] = "Conduite de chariot élévateur".into();
    let tampered = c.path("tampered.json");
    fs::write(&tampered, cred.to_string()).unwrap();
    let out = verify(&c, &tampered, &["--json"]);
    assert_eq!(out.code, 1);
    let report = out.json();
    assert_eq!(report["verdict"], "invalid");
    assert!(statuses(&report, "proof").contains(&"fail"), "{report:#}");
    assert_eq!(report["deciding"], "proof", "{report:#}");
    // for a person: the verdict, what decided it, then the checks by section
    let out = verify(&c, &tampered, &[]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "✘ Ce badge n'est pas valable.", "{}", out.stdout);
    assert!(
        lines[1].starts_with("  Ce qui décide : La signature ne correspond pas"),
        "{}",
        out.stdout
    );
    let first_failure = lines.iter().find(|l| l.contains("[ÉCHEC]")).unwrap();
    assert!(first_failure.contains("[ÉCHEC] proof"), "{}", out.stdout);
    assert!(out.stdout.contains("\nAuthenticité\n"), "{}", out.stdout);
    // the strict profile judges carnet's own badge valid too, and says which profile it used
    let out = verify(&c, &png, &["--strict", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(out.json()["profile"], "strict");

    let garbage = c.path("garbage.png");
    fs::write(&garbage, b"hello, this is not a badge\n\x00\x01\x02").unwrap();
    let out = verify(&c, &garbage, &["--json"]);
    assert_eq!(out.code, 1);
    assert_eq!(statuses(&out.json(), "parse"), ["fail"]);

    let missing = c.path("missing.png");
    let out = verify(&c, &missing, &[]);
    assert_eq!(out.code, 2, "a missing file could not be checked");
    assert!(out.stderr.starts_with("carnet: "), "{}", out.stderr);
    assert!(out.stderr.contains("missing.png"), "{}", out.stderr);
}

#[test]
fn unbake_then_bake_again() {
    let c = Installation::new();
    let (id, png) = issue(&c, "x.png", &[]);
    let out = c.run(&["unbake", png.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let cred = out.json();
    assert!(cred["id"].as_str().unwrap().ends_with(&id.to_string()));
    assert!(cred["proof"].is_array());

    let (_, jwt) = issue(&c, "x.jwt", &[]);
    let baked = c.path("y.png");
    let image = format!("{CLASSES_DIR}/{CLASS}.png");
    let out = c.run(&[
        "bake",
        "--credential",
        jwt.to_str().unwrap(),
        "--image",
        &image,
        "--out",
        baked.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = c.run(&["unbake", baked.to_str().unwrap()]);
    assert_eq!(out.stdout.trim(), fs::read_to_string(&jwt).unwrap().trim());
    let out = verify(&c, &baked, &["--json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(out.json()["summary"]["format"], "png+jwt");

    let out = c.run(&["unbake", image.as_str()]);
    assert_eq!(out.code, 2, "an image without a badge");
    assert!(out.stderr.contains("no baked"), "{}", out.stderr);
}

#[test]
fn badge_classes_check_names_file_and_field() {
    let c = Installation::new();
    let out = c.run(&["badge-classes", "check"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains(&format!("ok  {CLASS} — Sécurité et hygiène au travail"))
    );

    let broken = c.path("classes");
    fs::create_dir(&broken).unwrap();
    let toml = fs::read_to_string(format!("{CLASSES_DIR}/{CLASS}.toml")).unwrap();
    fs::copy(
        format!("{CLASSES_DIR}/{CLASS}.png"),
        broken.join(format!("{CLASS}.png")),
    )
    .unwrap();
    let bad_language = toml.replace("language = \"fr\"", "language = \"en français\"");
    assert_ne!(bad_language, toml);
    fs::write(broken.join(format!("{CLASS}.toml")), bad_language).unwrap();
    let criteria = toml.find("criteria = \"\"\"").unwrap();
    let end = criteria + toml[criteria..].find("\"\"\"\n\n").unwrap() + 4;
    let no_criteria = format!("{}{}", &toml[..criteria], &toml[end..]);
    fs::write(broken.join("cuisine.toml"), no_criteria).unwrap();

    let dir = broken.to_str().unwrap();
    let out = c
        .cli()
        .args(["badge-classes", "check"])
        .env("CARNET_BADGE_CLASSES_DIR", dir)
        .run();
    assert_eq!(out.code, 1);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("{CLASS}.toml")) && l.contains(": language:")),
        "{}",
        out.stderr
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cuisine.toml") && l.contains(": criteria:")),
        "{}",
        out.stderr
    );
}

#[test]
fn a_wrong_setting_is_named() {
    let c = Installation::new();
    let out = c
        .cli()
        .args([
            "issue",
            "--badge-class",
            CLASS,
            "--recipient",
            "lea@example.org",
            "--out",
            "x.png",
        ])
        .env("CARNET_BASE_URL", "ftp://x")
        .run();
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("CARNET_BASE_URL"), "{}", out.stderr);
    assert!(!c.path("x.png").exists());
    let out = c
        .cli()
        .args(["keys", "show"])
        .env("CARNET_DATABASE_URL", "mysql://x")
        .run();
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("CARNET_DATABASE_URL"), "{}", out.stderr);
}

#[test]
fn keys_are_sealed_in_the_database_under_a_private_instance_key_and_rotate() {
    let c = Installation::new();
    let out = c.run(&["keys", "show"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("Issuer: http://localhost:8080/issuers/ime")
    );
    assert!(
        out.stdout.contains("active  Ed25519 ed25519-1"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("active  RSA-2048 rsa-1"),
        "{}",
        out.stdout
    );
    let instance = fs::read_to_string(c.path("keys/instance.key")).unwrap();
    assert_eq!(instance.trim().len(), 64);
    for printed in [&out.stdout, &out.stderr] {
        assert!(!printed.contains(instance.trim()));
        assert!(!printed.to_uppercase().contains("PRIVATE"));
    }
    let mode = |p: &str| fs::metadata(c.path(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("keys/instance.key"), 0o600);
    assert_eq!(mode("keys"), 0o700);
    // no key file is written any more: the keys are in the database, sealed
    assert!(!c.path("keys/ime").exists());

    let out = c.run(&["keys", "rotate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = c.run(&["keys", "show"]);
    for line in [
        "retired Ed25519 ed25519-1",
        "active  Ed25519 ed25519-2",
        "retired RSA-2048 rsa-1",
        "active  RSA-2048 rsa-2",
    ] {
        assert!(out.stdout.contains(line), "{line}: {}", out.stdout);
    }
    // neither a private key nor the instance key is in the database in clear
    let mut db = Vec::new();
    for entry in fs::read_dir(c.path("")).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("c.db")
        {
            db.extend(fs::read(path).unwrap());
        }
    }
    let db = String::from_utf8_lossy(&db);
    assert!(db.contains("ed25519-2"), "the keys are stored there");
    assert!(!db.contains("PRIVATE KEY"));
    assert!(!db.contains(instance.trim()));
}

#[test]
fn an_unknown_key_offline_is_indeterminate() {
    let c = Installation::new();
    let (_, json) = issue(&c, "x.json", &[]);
    let (_, jwt) = issue(&c, "x.jwt", &[]);
    let elsewhere = c.path("other-keys");
    for file in [&json, &jwt] {
        let args = ["verify", file.to_str().unwrap(), "--offline", "--json"];
        let out = c.cli().args(args).env("CARNET_KEYS_DIR", &elsewhere).run();
        assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
        let report = out.json();
        assert_eq!(report["verdict"], "indeterminate");
        assert_eq!(statuses(&report, "key"), ["unknown"], "{report:#}");
    }
    assert!(!elsewhere.exists(), "verifying creates no keys");
}

#[test]
fn referentiels_check_import_and_list() {
    let c = Installation::new();
    let rectec = concat!(env!("CARGO_MANIFEST_DIR"), "/referentiels/rectec.json");
    let out = c.run(&["referentiels", "check", rectec]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("rectec 2021 « RECTEC — REconnaître les Compétences Transversales"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("12 competences, 4 groups, 4 levels"));

    // Without FILE: every file of ./referentiels, each problem with its file, line and field.
    fs::create_dir(c.path("referentiels")).unwrap();
    fs::copy(rectec, c.path("referentiels/rectec.json")).unwrap();
    fs::write(
        c.path("referentiels/metier.csv"),
        "kind,id,parent,text\nreferentiel,Métier X,,Métier\ncompetence,1,,\n",
    )
    .unwrap();
    let out = c.run(&["referentiels", "check"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("ok  referentiels/rectec.json"),
        "{}",
        out.stdout
    );
    for expected in [
        "metier.csv:2: id:",
        "metier.csv:3: text:",
        "metier.csv: kind:",
    ] {
        assert!(out.stderr.contains(expected), "{expected}: {}", out.stderr);
    }

    // Importing twice stores one version; other content under that version is refused.
    let out = c.run(&["referentiels", "import", rectec]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("imported rectec 2021"),
        "{}",
        out.stdout
    );
    let out = c.run(&["referentiels", "import", rectec]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("unchanged: rectec 2021"),
        "{}",
        out.stdout
    );
    let changed = fs::read_to_string(rectec)
        .unwrap()
        .replace("Gérer des informations", "Gérer l'information");
    fs::write(c.path("changed.json"), changed).unwrap();
    let out = c.run(&["referentiels", "import", "changed.json"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("a new version"), "{}", out.stderr);
    let out = c.run(&["referentiels", "import", "referentiels/metier.csv"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("metier.csv:2: id:"), "{}", out.stderr);

    let out = c.run(&["referentiels", "list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stdout);
    assert!(
        lines[0].starts_with("rectec  2021  « RECTEC"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("12 competences"));
}

// ---- bulk awards ------------------------------------------------------------------------

/// `n` recipients, `;`-separated; with `bad`, line 4 has a bad email and line 6 a past date.
fn bulk_csv(n: usize, bad: bool) -> String {
    let mut text = String::from("email;name;valid_until\n");
    for i in 1..=n {
        let line = match i {
            3 if bad => "pas-un-courriel;Paul;\n".to_string(),
            5 if bad => format!("p{i}@example.org;;2020-01-01\n"),
            _ => format!("p{i}@example.org;Personne {i};\n"),
        };
        text.push_str(&line);
    }
    text
}

/// The job id that `carnet bulk issue` prints first on stdout.
fn bulk_job_id(stdout: &str) -> String {
    let first = stdout.lines().next().unwrap_or("");
    let id = first
        .strip_prefix("job ")
        .expect("stdout starts with the job");
    uuid::Uuid::parse_str(id).expect("a job id").to_string()
}

fn awards_in(c: &Installation) -> u64 {
    let url = c.database_url();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = carnet::store::open(&url).await.unwrap();
        let n = store.count_awards("ime").await.unwrap();
        store.close().await;
        n
    })
}

#[test]
fn bulk_issue_prints_a_summary_and_a_rerun_issues_nothing_twice() {
    let c = Installation::new();
    fs::write(c.path("classe.csv"), bulk_csv(10, true)).unwrap();
    let out = c.run(&["bulk", "issue", "--badge-class", CLASS, "classe.csv"]);
    // Rows in error: exit 1, each with its line and reason; the others issued.
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let job = bulk_job_id(&out.stdout);
    assert!(out.stdout.contains("issued:         8"), "{}", out.stdout);
    assert!(out.stdout.contains("already issued: 0"));
    assert!(out.stdout.contains("errors:         2"));
    assert!(
        out.stdout
            .contains("line 4, email: this is not an email address")
    );
    assert!(
        out.stdout
            .contains("line 6, valid_until: must be in the future")
    );
    // Not a terminal: progress comes as lines on stderr.
    assert!(out.stderr.contains("bulk: 10/10 rows"), "{}", out.stderr);
    assert!(!out.stdout.contains("@example.org") && !out.stderr.contains("pas-un-courriel"));
    assert_eq!(awards_in(&c), 8);

    // The same file again: nothing new.
    let again = c.run(&["bulk", "issue", "--badge-class", CLASS, "classe.csv"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_ne!(bulk_job_id(&again.stdout), job);
    assert!(
        again.stdout.contains("issued:         0"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("already issued: 8"));
    assert_eq!(awards_in(&c), 8);

    // Corrected: the two rows are issued, exit 0.
    let fixed = bulk_csv(10, true)
        .replace("pas-un-courriel", "p3@example.org")
        .replace("2020-01-01", "2031-01-01");
    fs::write(c.path("classe.csv"), fixed).unwrap();
    let fixed = c.run(&["bulk", "issue", "--badge-class", CLASS, "classe.csv"]);
    assert_eq!(fixed.code, 0, "{}{}", fixed.stdout, fixed.stderr);
    assert!(
        fixed.stdout.contains("issued:         2"),
        "{}",
        fixed.stdout
    );
    assert_eq!(awards_in(&c), 10);

    // Status, as text and as the API's JSON.
    let status = c.run(&["bulk", "status", &job]);
    assert_eq!(status.code, 0);
    assert!(status.stdout.contains("done"), "{}", status.stdout);
    let doc = c.run(&["bulk", "status", &job, "--json"]).json();
    assert_eq!(doc["counts"]["issued"], 8);
    assert_eq!(doc["errors"][0]["line"], 4);
    // Resuming a finished job does nothing.
    let resume = c.run(&["bulk", "resume", &job]);
    assert_eq!(resume.code, 1, "{}", resume.stderr);
    assert!(resume.stderr.contains("nothing to resume"));
    assert_eq!(awards_in(&c), 10);

    // A file that cannot be read: exit 1, each problem with file and line, no job.
    fs::write(c.path("mauvais.csv"), "nom;courriel\nLéa;lea@example.org\n").unwrap();
    let bad = c.run(&["bulk", "issue", "--badge-class", CLASS, "mauvais.csv"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("mauvais.csv:1: email:"),
        "{}",
        bad.stderr
    );
    assert!(bad.stdout.is_empty());
    // Unknown class or job: exit 2.
    assert_eq!(
        c.run(&["bulk", "issue", "--badge-class", "inconnue", "classe.csv"])
            .code,
        2
    );
    assert_eq!(c.run(&["bulk", "status", "pas-un-id"]).code, 2);
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(c.run(&["bulk", "resume", &unknown]).code, 2);
}

#[test]
fn a_killed_bulk_run_is_resumed_and_finishes_exactly_the_rest() {
    use std::io::{BufRead, BufReader};

    let c = Installation::new();
    let rows = 120;
    fs::write(c.path("grand.csv"), bulk_csv(rows, false)).unwrap();
    let mut child = c
        .cli()
        .args(["bulk", "issue", "--badge-class", CLASS, "grand.csv"])
        // its hold on the job outlives it by this: the resume below waits for it
        .args(["--job-lease-seconds", "3"])
        .spawn();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let job = bulk_job_id(&first);
    // Killed (SIGKILL: no clean-up) a moment after the first rows were marked, so that some
    // awards are likely stored and not yet marked.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    for line in stderr.lines() {
        if line.unwrap().starts_with("bulk: ") {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();

    let before = c.run(&["bulk", "status", &job, "--json"]).json();
    let done_before = before["counts"]["issued"].as_u64().unwrap();
    assert!(done_before >= 1, "{before:#}");
    // Every award is complete or absent: only the page stored and not yet marked (at most 64
    // rows: a page's awards are stored in one transaction, then its rows marked) is stored and
    // not marked; the next page, signed meanwhile, is not stored.
    let awards_before = awards_in(&c);
    eprintln!("killed after {done_before} of {rows} rows marked, {awards_before} awards stored");
    assert!(awards_before >= done_before && awards_before <= done_before + 64);
    if done_before < rows as u64 {
        assert_eq!(before["state"], "running");
    }

    let resume = c.run(&["bulk", "resume", &job]);
    assert_eq!(resume.code, 0, "{}{}", resume.stdout, resume.stderr);
    let after = c.run(&["bulk", "status", &job, "--json"]).json();
    assert_eq!(after["state"], "done");
    assert_eq!(after["counts"]["issued"], rows);
    assert_eq!(after["counts"]["already"], 0);
    assert_eq!(after["counts"]["failed"], 0);
    let ids: std::collections::HashSet<&str> = after["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["award_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), rows);
    assert_eq!(awards_in(&c), rows as u64, "no duplicate");
}
