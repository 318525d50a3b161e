//! Credentials that depart from the Open Badges 3.0 data model, signed by the Digital Bazaar / DCC
//! JavaScript stack (nothing here is signed by hand), and what carnet's verifier answers.
//!
//! The verdict answers "is it authentic and in force?": under the default profile a data-model
//! deviation is a `warn` check of the `conformance` section and the badge stays `valid`, as the DCC
//! verifier (Learner Credential Wallet, VerifierPlus) judges it; under the strict profile it makes
//! the badge `invalid`. A changed signed field and a past `validUntil` make it `invalid` in both.
//!
//! `tests/interop/dcc_sign_variants.mjs` signs, from carnet's unsigned credential, one credential
//! per deviation (did:key issuer, eddsa-rdfc-2022), checks each with the DCC verifier, and writes a
//! tampered copy and an expired variant of each. The DCC stack signed every form asked of it; in
//! particular `credentialSubject: {name}` alone passes JSON-LD safe mode, `name` being a protected
//! top-level term of the VC 2.0 context (the script would fall back to a typed
//! `AchievementSubject` with a name, and report the refusal, if it did not).
//!
//! carnet's verifier runs offline (`Resolver::new(vec![], None)`): a did:key needs no network.
//! Needs `.tools/node` (`scripts/setup-interop.sh`); `CARNET_SKIP_INTEROP=1` skips the test.

use crate::common;

use std::path::Path;
use std::time::Duration;

use carnet::ob3::credential::{AwardDetails, build};
use carnet::recipient::{Email, hash_email};
use carnet::verify::report::{Check, Profile, Report, Section, Status, Verdict, reason};
use carnet::verify::resolve::Resolver;
use carnet::verify::{Options, Verifier};
use common::cli::Cli;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);
/// How the default profile words a deviation from the OB 3.0 data model.
const DEVIATION_FR: &str = "Ce badge ne suit pas exactement la norme Open Badges 3.0 : ";

/// The cases of `dcc_sign_variants.mjs`, and where the deviation is (the `path` of the warning
/// that reports it). `None`: not an Open Badge at all, reported as such.
const CASES: &[(&str, Option<&str>)] = &[
    ("issuer-image-url", Some("issuer.image")),
    (
        "achievement-type",
        Some("credentialSubject.achievement.achievementType"),
    ),
    ("subject-name-only", Some("credentialSubject")),
    ("issuer-string", Some("issuer")),
    ("plain-vc", None),
];

/// `.tools/node` installed; `false` (after a visible message) when `CARNET_SKIP_INTEROP=1`.
fn node_tools() -> bool {
    if std::env::var("CARNET_SKIP_INTEROP").as_deref() == Ok("1") {
        // straight to the process's stderr: libtest's capture would hide an eprintln!
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"SKIP dcc_deviations: CARNET_SKIP_INTEROP=1\n",
        );
        return false;
    }
    let node_modules = Path::new(ROOT).join(".tools/node/node_modules/@digitalbazaar/vc");
    assert!(
        node_modules.exists(),
        "the interop tools are not installed (missing: {}): run scripts/setup-interop.sh \
         (or set CARNET_SKIP_INTEROP=1 to skip these checks)",
        node_modules.display()
    );
    true
}

/// carnet's unsigned OB 3.0 credential, as `POST /api/v1/awards` builds it (no credentialStatus:
/// the status list would be carnet's, and a did:key issuer has no entry in it).
fn template() -> Value {
    let f = common::fixture();
    let details = AwardDetails {
        recipient_name: Some("Camille Interop".into()),
        evidence_url: Some("https://example.org/evidence/interop".into()),
        narrative: Some("A checked **badge**.".into()),
        ..Default::default()
    };
    let now = chrono::Utc::now();
    let mut unsigned = build(
        &f.issuer,
        &f.class,
        uuid::Uuid::new_v4(),
        &hash_email(&Email::parse("interop.test@example.org").expect("email")),
        &details,
        now,
    );
    if let Some(o) = unsigned.as_object_mut() {
        o.remove("credentialStatus");
        o.remove("proof");
    }
    unsigned
}

/// Runs `dcc_sign_variants.mjs` into `out`; its JSON line. Panics with its output on failure.
fn sign_variants(dir: &Path, out: &Path) -> Value {
    let unsigned = dir.join("unsigned.json");
    std::fs::write(
        &unsigned,
        serde_json::to_vec_pretty(&template()).expect("json"),
    )
    .expect("write the template");
    let ran = Cli::program("node")
        .arg(Path::new(ROOT).join("tests/interop/dcc_sign_variants.mjs"))
        .arg("--unsigned")
        .arg(&unsigned)
        .arg("--out-dir")
        .arg(out)
        .time_limit(SCRIPT_TIMEOUT)
        .run();
    let info = ran.json_line();
    assert!(
        ran.success() && info["ok"] == true,
        "dcc_sign_variants.mjs failed: {}",
        ran.describe()
    );
    info
}

/// The report in a few lines: the verdict and every check that did not pass.
fn describe(report: &Report) -> String {
    let mut lines = vec![verdict_line(report)];
    lines.extend(
        report
            .checks
            .iter()
            .filter(|c| c.status != Status::Pass)
            .map(|c| {
                format!(
                    "{:?} {:?} {}{}{}: {} / {}",
                    c.section,
                    c.status,
                    c.id,
                    c.path
                        .as_ref()
                        .map(|p| format!(" [{p}]"))
                        .unwrap_or_default(),
                    c.reason.map(|r| format!(" ({r})")).unwrap_or_default(),
                    c.message.fr,
                    c.message.en
                )
            }),
    );
    lines.join("\n      ")
}

fn verdict_line(report: &Report) -> String {
    format!(
        "verdict {:?} (profile {:?}, deciding {:?}, reason {:?})",
        report.verdict, report.profile, report.deciding, report.reason
    )
}

/// Failures are gathered, so that one run shows every case's answer.
#[derive(Default)]
struct Checks {
    passed: usize,
    failures: Vec<String>,
}

impl Checks {
    fn check(&mut self, name: &str, ok: bool, report: &Report) {
        if ok {
            self.passed += 1;
            eprintln!("PASS  {name}");
        } else {
            let detail = format!("{name}\n      {}", describe(report));
            eprintln!("FAIL  {detail}");
            self.failures.push(detail);
        }
    }
}

/// The default profile's answer to a deviation: valid, no failing check, and a conformance
/// warning about it.
fn warns_about(report: &Report, path: Option<&str>) -> bool {
    let conformance_warning =
        |c: &&Check| c.section == Section::Conformance && c.status == Status::Warn;
    let mut warnings = report.checks.iter().filter(conformance_warning);
    let found = match path {
        Some(prefix) => warnings.any(|c| {
            c.path
                .as_deref()
                .is_some_and(|p| !p.is_empty() && p.starts_with(prefix))
                && c.message.fr.starts_with(DEVIATION_FR)
        }),
        None => warnings.any(|c| c.reason == Some(reason::NOT_AN_OPEN_BADGE)),
    };
    report.verdict == Verdict::Valid
        && report.deciding.is_none()
        && !report.checks.iter().any(|c| c.status == Status::Fail)
        && found
}

#[tokio::test]
async fn dcc_signed_deviations_are_valid_with_warnings_and_invalid_when_strict() {
    if !node_tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("signed");
    let info = sign_variants(dir.path(), &out);
    for case in info["cases"].as_array().into_iter().flatten() {
        eprintln!(
            "DCC   {}: form {}; verifies: {}; tampered ({}): {}; expired: {}",
            case["case"],
            case["form"],
            case["self_verified"],
            case["tampered"]["field"],
            case["tampered"]["dcc_error"],
            case["expired"]["dcc_error"],
        );
    }
    if let Some(refused) = info["refused"].as_array().filter(|r| !r.is_empty()) {
        eprintln!("NOTE  forms the DCC stack refused to sign: {refused:?}");
    }

    let verifier = Verifier::new(Resolver::new(vec![], None));
    let strict = Options {
        recipient: None,
        profile: Profile::Strict,
    };
    let mut c = Checks::default();
    for &(case, path) in CASES {
        let dcc = info["cases"]
            .as_array()
            .and_then(|cases| cases.iter().find(|c| c["case"] == case))
            .unwrap_or_else(|| panic!("{case}: not in the script's answer: {info}"));
        assert!(
            dcc["signed"] == true
                && dcc["self_verified"] == true
                && dcc["tampered"]["dcc_verified"] == false
                && dcc["expired"]["dcc_verified"] == false,
            "{case}: the DCC stack's own answer: {dcc}"
        );
        let read = |suffix: &str| {
            let file = out.join(format!("{case}{suffix}.json"));
            std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        };
        let (signed, tampered, expired) = (read(""), read(".tampered"), read(".expired"));

        let r = verifier.verify_bytes(&signed, None).await;
        let what = match path {
            Some(p) => format!("a conformance warning at {p}… saying « {DEVIATION_FR}»"),
            None => "a conformance warning saying it is not an Open Badge".to_string(),
        };
        c.check(
            &format!("{case}, default profile: valid, no failing check, {what}"),
            warns_about(&r, path),
            &r,
        );
        eprintln!("      {}", describe(&r));
        let r = verifier.verify_bytes_with(&signed, strict).await;
        c.check(
            &format!("{case}, strict profile: invalid, decided by conformance or context"),
            r.verdict == Verdict::Invalid && matches!(r.deciding, Some("conformance" | "context")),
            &r,
        );
        eprintln!("      {}", verdict_line(&r));

        for (profile, options) in [("default", Options::default()), ("strict", strict)] {
            let r = verifier.verify_bytes_with(&tampered, options).await;
            c.check(
                &format!(
                    "{case} with {} changed, {profile} profile: invalid, decided by proof",
                    dcc["tampered"]["field"]
                ),
                r.verdict == Verdict::Invalid && r.deciding == Some("proof"),
                &r,
            );
            let r = verifier.verify_bytes_with(&expired, options).await;
            c.check(
                &format!(
                    "{case} signed with validUntil 2020-01-01, {profile} profile: invalid, \
                     expired, decided by validUntil"
                ),
                r.verdict == Verdict::Invalid
                    && r.reason == Some(reason::EXPIRED)
                    && r.deciding == Some("validUntil"),
                &r,
            );
        }
    }
    eprintln!(
        "dcc_deviations: {} passed, {} failed",
        c.passed,
        c.failures.len()
    );
    assert!(
        c.failures.is_empty(),
        "{} check(s) failed:\n- {}",
        c.failures.len(),
        c.failures.join("\n- ")
    );
}
