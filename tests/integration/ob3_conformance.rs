//! OB 3.0 data-model conformance (`carnet::verify::conformance`), run over the 1EdTech validator's
//! own test credentials and over hand-made cases, plus `schema_errors`, which validates a credential
//! against the official OB 3.0 JSON schema for the issuer's tests.
//!
//! Fixtures: `../shared/spec/data/ob3/1edtech-validator-tests/` = 1EdTech
//! digital-credentials-public-validator @ 38254719, `inspector-vc/src/test/resources/ob30/`;
//! schema: `../shared/spec/data/schemas/ob-v3p0/achievementcredential.json` = 1EdTech
//! openbadges-specification gh-pages @ a4e4e709 (see `data/SOURCES.md`). Expected outcomes follow
//! the validator's `OB30Tests.java`, restricted to what conformance owns: a sample that is invalid
//! for another reason (expired, bad proof) must give no conformance failure.

use std::path::PathBuf;
use std::sync::OnceLock;

use carnet::verify::conformance::{self, CredentialKind, Subject, VcVersion};
use carnet::verify::report::{Check, Status, check_id};
use serde_json::{Value, json};

fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP: ../shared not found");
        None
    }
}

fn samples_dir(shared: &std::path::Path) -> PathBuf {
    shared.join("spec/data/ob3/1edtech-validator-tests")
}

fn load(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fails(findings: &[Check]) -> Vec<&Check> {
    findings
        .iter()
        .filter(|c| c.status == Status::Fail)
        .collect()
}

fn warns(findings: &[Check]) -> Vec<&Check> {
    findings
        .iter()
        .filter(|c| c.status == Status::Warn)
        .collect()
}

fn path_of(c: &Check) -> &str {
    c.path.as_deref().unwrap_or("-")
}

fn fail_paths(findings: &[Check]) -> Vec<&str> {
    fails(findings).into_iter().map(path_of).collect()
}

// --- JSON schema -----------------------------------------------------------------------------

/// Errors of `cred` against the official OB 3.0 AchievementCredential JSON schema (draft 2019-09,
/// formats checked), as `instance path: message`. Empty means valid. Nothing is fetched: the
/// schema only has local `$ref`s and jsonschema is built without its HTTP/file resolvers.
fn schema_errors(cred: &Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let path = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/spec/data/schemas/ob-v3p0/achievementcredential.json"
        ));
        jsonschema::draft201909::options()
            .should_validate_formats(true)
            .build(&load(&path))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    });
    validator
        .iter_errors(cred)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("{}: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect()
}

#[test]
fn official_schema_accepts_the_valid_samples_and_rejects_a_bad_type() {
    let Some(shared) = shared_dir() else { return };
    let dir = samples_dir(&shared);
    for ok in ["simple.json", "complete.json"] {
        let errors = schema_errors(&load(&dir.join(ok)));
        assert!(errors.is_empty(), "{ok}: {errors:#?}");
    }
    let errors = schema_errors(&load(&dir.join("simple-err-type.json")));
    assert!(errors.iter().any(|e| e.starts_with("/type")), "{errors:#?}");

    // What the issuer must emit: arrays, not the single values JSON-LD would also allow.
    let mut single_proof = load(&dir.join("simple.json"));
    single_proof["proof"] = single_proof["proof"][0].clone();
    assert!(
        schema_errors(&single_proof)
            .iter()
            .any(|e| e.starts_with("/proof"))
    );
    let mut single_type = load(&dir.join("simple.json"));
    single_type["credentialSubject"]["type"] = json!("AchievementSubject");
    assert!(
        schema_errors(&single_type)
            .iter()
            .any(|e| e.starts_with("/credentialSubject/type"))
    );
    let mut bare_issuer = load(&dir.join("simple.json"));
    bare_issuer["issuer"] = json!("https://example.com/issuers/876543");
    assert!(
        schema_errors(&bare_issuer).is_empty(),
        "the schema allows a bare issuer URI"
    );
    let mut local_time = load(&dir.join("simple.json"));
    local_time["validFrom"] = json!("2010-01-01T00:00:00");
    assert!(
        schema_errors(&local_time)
            .iter()
            .any(|e| e.starts_with("/validFrom"))
    );
}

// --- the validator's samples -----------------------------------------------------------------

enum Expect {
    /// At least one Fail, and one at each of these paths.
    FailAt(&'static [&'static str]),
    /// No Fail (warnings allowed).
    NoFail,
    /// No Fail, and a Warn with this check id at this path.
    WarnAt(&'static str, &'static str),
    /// Fails only at these paths (the sample is broken in another way too).
    OnlyFailsAt(&'static [&'static str]),
}

const SAMPLES: &[(&str, Expect)] = &[
    ("simple.json", Expect::NoFail),
    ("simple-did-key-method.json", Expect::NoFail),
    ("simple-did-web-method.json", Expect::NoFail),
    ("simple-context-alias.json", Expect::NoFail),
    // No proof (not ours to judge), and no credentialSubject.achievement.
    (
        "simple-noproof.json",
        Expect::OnlyFailsAt(&["credentialSubject.achievement"]),
    ),
    ("complete.json", Expect::NoFail),
    ("endorsement-valid.json", Expect::NoFail),
    (
        "simple-context-version.json",
        Expect::WarnAt("context", "@context[1]"),
    ),
    ("simple_v1.json", Expect::WarnAt("context", "@context[1]")),
    ("complete_v1.json", Expect::WarnAt("context", "@context[1]")),
    (
        "simple-eddsa-2022.json",
        Expect::WarnAt("context", "@context[1]"),
    ),
    ("simple-err-context.json", Expect::FailAt(&["@context[0]"])),
    ("simple-err-type.json", Expect::FailAt(&["type"])),
    ("simple-err-issuer.json", Expect::FailAt(&["issuer"])),
    (
        "simple-err-issuer-type.json",
        Expect::FailAt(&["issuer.type"]),
    ),
    (
        "simple-err-issuer-otheridentifier-type.json",
        Expect::FailAt(&["issuer.otherIdentifier[1].type"]),
    ),
    (
        "simple-err-issuer-parentorg-type.json",
        Expect::FailAt(&["issuer.parentOrg.type"]),
    ),
    (
        "simple-err-evidence-type.json",
        Expect::FailAt(&["evidence[1].type"]),
    ),
    (
        "simple-err-credential-subject-type.json",
        Expect::FailAt(&["credentialSubject.type"]),
    ),
    (
        "simple-err-credential-subject-identifier-type.json",
        Expect::FailAt(&[
            "credentialSubject.identifier[0].type",
            "credentialSubject.identifier[0].identityHash",
        ]),
    ),
    (
        "simple-err-credential-subject-profile-type.json",
        Expect::FailAt(&["credentialSubject.source.type"]),
    ),
    (
        "simple-err-credential-subject-result-type.json",
        Expect::FailAt(&["credentialSubject.result[1].type"]),
    ),
    (
        "simple-err-credential-subject-achievement-result-description-type.json",
        Expect::FailAt(&["credentialSubject.achievement.resultDescription[2].type"]),
    ),
    // Invalid for the validator for reasons conformance does not own (clock, proof, network).
    ("simple-err-expired.json", Expect::NoFail),
    // Not yet valid (validFrom 2040); the sample also lacks credentialSubject.achievement.
    (
        "simple-err-issued.json",
        Expect::OnlyFailsAt(&["credentialSubject.achievement"]),
    ),
    ("simple-err-proof-method.json", Expect::NoFail),
    ("simple-err-proof-method-no-scheme.json", Expect::NoFail),
    (
        "simple-err-proof-method-unknown-did-method.json",
        Expect::NoFail,
    ),
    (
        "simple-err-proof-method-unknown-scheme.json",
        Expect::NoFail,
    ),
    ("simple-err-proof-value.json", Expect::NoFail),
    ("simple-multiple-proofs.json", Expect::NoFail),
    ("credential-status-revoked.json", Expect::NoFail),
    ("endorsement-err-schema-status-refresh.json", Expect::NoFail),
];

fn judge(findings: &[Check], expect: &Expect) -> Result<(), String> {
    let failed = fail_paths(findings);
    match expect {
        Expect::FailAt(paths) => {
            let missing: Vec<_> = paths.iter().filter(|p| !failed.contains(p)).collect();
            if failed.is_empty() || !missing.is_empty() {
                return Err(format!(
                    "expected a Fail at {missing:?}, got Fails at {failed:?}"
                ));
            }
        }
        Expect::NoFail if !failed.is_empty() => {
            return Err(format!("expected no Fail, got {failed:?}"));
        }
        Expect::NoFail => {}
        Expect::WarnAt(id, path) => {
            if !failed.is_empty() {
                return Err(format!("expected no Fail, got {failed:?}"));
            }
            if !warns(findings)
                .iter()
                .any(|c| c.id == *id && path_of(c) == *path)
            {
                return Err(format!("expected a {id} Warn at {path}"));
            }
        }
        Expect::OnlyFailsAt(paths) => {
            if failed.iter().any(|p| !paths.contains(p)) || failed.is_empty() {
                return Err(format!("expected Fails only at {paths:?}, got {failed:?}"));
            }
        }
    }
    Ok(())
}

#[test]
fn validator_samples() {
    let Some(shared) = shared_dir() else { return };
    let dir = samples_dir(&shared);

    // Every `simple-err-*type*` sample of the validator has an expectation here.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    for name in names.iter().filter(|n| n.starts_with("simple-err-")) {
        assert!(
            SAMPLES.iter().any(|(s, _)| s == name),
            "{name} has no expectation"
        );
    }

    let mut table = String::from(
        "\nfile | verdict | official schema errors | findings (status id path)\n--- | --- | --- | ---\n",
    );
    let mut problems = Vec::new();
    for (name, expect) in SAMPLES {
        let cred = load(&dir.join(name));
        let findings = conformance::check_credential(&cred);
        // The AchievementCredential schema does not apply to endorsements.
        let schema = if cred["type"].to_string().contains("EndorsementCredential") {
            "n/a".to_string()
        } else {
            schema_errors(&cred).len().to_string()
        };
        let verdict = judge(&findings, expect);
        let listed: Vec<String> = findings
            .iter()
            .map(|c| format!("{:?} {} {}", c.status, c.id, path_of(c)))
            .collect();
        table += &format!(
            "{name} | {} | {schema} | {}\n",
            if verdict.is_ok() { "ok" } else { "MISMATCH" },
            if listed.is_empty() {
                "-".to_string()
            } else {
                listed.join("; ")
            }
        );
        if let Err(why) = verdict {
            problems.push(format!("{name}: {why}"));
        }
        for c in &findings {
            assert!(
                c.status == Status::Fail || c.status == Status::Warn,
                "{name}: {c:?}"
            );
            assert!(c.path.is_some(), "{name}: finding without path: {c:?}");
            assert!(
                !c.message.fr.is_empty()
                    && !c.message.en.is_empty()
                    && c.message.fr != c.message.en,
                "{c:?}"
            );
        }
    }
    println!("{table}");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn sample_messages_are_precise() {
    let Some(shared) = shared_dir() else { return };
    let dir = samples_dir(&shared);
    let findings =
        conformance::check_credential(&load(&dir.join("simple-err-credential-subject-type.json")));
    let c = fails(&findings)[0];
    assert_eq!(c.id, check_id::CONFORMANCE);
    assert_eq!(c.path.as_deref(), Some("credentialSubject.type"));
    assert_eq!(
        c.message.fr,
        r#"credentialSubject.type doit contenir "AchievementSubject" (trouvé : ["InvalidAchievementSubject"])"#
    );
    assert_eq!(
        c.message.en,
        r#"credentialSubject.type must contain "AchievementSubject" (found: ["InvalidAchievementSubject"])"#
    );

    let findings = conformance::check_credential(&load(&dir.join("simple-err-context.json")));
    assert!(
        fails(&findings)
            .iter()
            .all(|c| c.id == check_id::CONTEXT || path_of(c).starts_with("credentialSubject"))
    );
}

#[test]
fn typed_model_of_the_samples() {
    let Some(shared) = shared_dir() else { return };
    let dir = samples_dir(&shared);

    let read = conformance::read_credential(&load(&dir.join("complete.json")));
    assert!(read.findings.is_empty(), "{:#?}", read.findings);
    let cred = read.credential.expect("complete.json reads");
    assert_eq!(cred.version, VcVersion::V2);
    assert_eq!(cred.kind, CredentialKind::Achievement);
    assert_eq!(cred.issuer.name.as_deref(), Some("1EdTech University"));
    assert_eq!(
        cred.issuer.parent_org.as_ref().map(|p| p.id.as_str()),
        Some("did:example:123456789")
    );
    assert_eq!(cred.evidence.len(), 2);
    assert_eq!(cred.endorsement.len(), 1);
    assert_eq!(cred.proof_count, 1);
    assert_eq!(
        cred.valid_until.map(|d| d.to_rfc3339()).as_deref(),
        Some("2030-01-01T00:00:00+00:00")
    );
    let Subject::Achievement(subject) = &cred.subject else {
        panic!("achievement subject")
    };
    assert_eq!(subject.identifier.len(), 2);
    assert_eq!(subject.identifier[0].identity_type, "emailAddress");
    assert_eq!(subject.achievement.name, "1EdTech University Degree");
    assert_eq!(
        subject.achievement.achievement_type.as_deref(),
        Some("Degree")
    );
    assert_eq!(
        subject.achievement.result_description[1]
            .rubric_criterion_level
            .len(),
        2
    );
    assert_eq!(
        subject
            .achievement
            .creator
            .as_ref()
            .map(|c| c.endorsement.len()),
        Some(2)
    );

    let v1 = conformance::read_credential(&load(&dir.join("simple_v1.json")));
    assert_eq!(v1.credential.map(|c| c.version), Some(VcVersion::V1_1));

    let endorsement = conformance::read_credential(&load(&dir.join("endorsement-valid.json")));
    let cred = endorsement.credential.expect("endorsement reads");
    assert_eq!(cred.kind, CredentialKind::Endorsement);
    let Subject::Endorsement(subject) = &cred.subject else {
        panic!("endorsement subject")
    };
    assert_eq!(subject.id, "https://1edtech.edu/issuers/565049");

    // An invalid required part means no typed credential, only findings.
    let broken = conformance::read_credential(&load(&dir.join("simple-err-issuer-type.json")));
    assert!(broken.credential.is_none());
}

// --- hand-made cases ---------------------------------------------------------------------------

/// A minimal conformant OpenBadgeCredential (VC 2.0), written for these tests.
fn minimal() -> Value {
    json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ],
        "id": "urn:uuid:0b7c2a52-6a7e-4b8e-9a57-2d1c3f7e9a10",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": "https://ime.example.fr/issuer",
            "type": ["Profile"],
            "name": "IME Les Tilleuls"
        },
        "validFrom": "2025-03-01T09:00:00+01:00",
        "name": "Préparer un plateau repas",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject",
                "hashed": true,
                "identityHash": "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399",
                "identityType": "emailAddress",
                "salt": "Kosher"
            }],
            "achievement": {
                "id": "https://ime.example.fr/achievements/plateau-repas",
                "type": ["Achievement"],
                "name": "Préparer un plateau repas",
                "description": "Dresser un plateau complet en suivant la fiche illustrée.",
                "criteria": { "narrative": "Trois plateaux réussis en autonomie." },
                "achievementType": "Competency",
                "image": { "id": "https://ime.example.fr/img/plateau.png", "type": "Image" }
            }
        }
    })
}

fn findings_for(cred: &Value) -> Vec<Check> {
    conformance::check_credential(cred)
}

#[test]
fn minimal_credential_is_conformant_and_schema_valid() {
    assert_eq!(findings_for(&minimal()), Vec::<Check>::new());
    if shared_dir().is_some() {
        assert_eq!(schema_errors(&minimal()), Vec::<String>::new());
    }
    assert_eq!(conformance::vc_version(&minimal()), Some(VcVersion::V2));
}

#[test]
fn missing_achievement_fails_at_its_path() {
    let mut cred = minimal();
    cred["credentialSubject"]
        .as_object_mut()
        .unwrap()
        .remove("achievement");
    let f = findings_for(&cred);
    assert_eq!(fail_paths(&f), ["credentialSubject.achievement"]);
    assert_eq!(
        fails(&f)[0].message.fr,
        "credentialSubject.achievement est obligatoire mais absent"
    );
}

#[test]
fn subject_needs_an_id_or_an_identifier() {
    let mut cred = minimal();
    cred["credentialSubject"]
        .as_object_mut()
        .unwrap()
        .remove("identifier");
    assert_eq!(fail_paths(&findings_for(&cred)), ["credentialSubject"]);

    cred["credentialSubject"]["identifier"] = json!([]);
    assert_eq!(fail_paths(&findings_for(&cred)), ["credentialSubject"]);

    cred["credentialSubject"]["id"] = json!("did:example:ebfeb1f712ebc6f1c276e12ec21");
    assert!(fails(&findings_for(&cred)).is_empty());

    cred["credentialSubject"]["id"] = json!("not a uri");
    assert_eq!(fail_paths(&findings_for(&cred)), ["credentialSubject.id"]);
}

#[test]
fn hashed_identity_must_look_like_a_hash() {
    let at = "credentialSubject.identifier[0].identityHash";
    for bad in [
        "sha256$b5809d8a",
        "b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399",
        "sha1$abcd",
    ] {
        let mut cred = minimal();
        cred["credentialSubject"]["identifier"][0]["identityHash"] = json!(bad);
        assert_eq!(fail_paths(&findings_for(&cred)), [at], "{bad}");
    }
    let mut md5 = minimal();
    md5["credentialSubject"]["identifier"][0]["identityHash"] =
        json!("md5$0123456789abcdef0123456789abcdef");
    assert!(fails(&findings_for(&md5)).is_empty());

    // In clear, any string will do.
    let mut plain = minimal();
    plain["credentialSubject"]["identifier"][0]["hashed"] = json!(false);
    plain["credentialSubject"]["identifier"][0]["identityHash"] = json!("lea.martin@example.fr");
    assert!(fails(&findings_for(&plain)).is_empty());
}

#[test]
fn identity_object_is_closed_and_typed() {
    let mut cred = minimal();
    let id0 = &mut cred["credentialSubject"]["identifier"][0];
    id0["hashed"] = json!("yes");
    id0["identityType"] = json!("email");
    id0["telephone"] = json!("0102030405");
    let f = findings_for(&cred);
    let paths = fail_paths(&f);
    for p in [
        "credentialSubject.identifier[0].hashed",
        "credentialSubject.identifier[0].identityType",
        "credentialSubject.identifier[0].telephone",
    ] {
        assert!(paths.contains(&p), "{p} in {paths:?}");
    }
}

#[test]
fn issuer_as_bare_uri_fails_like_the_1edtech_validator() {
    let mut cred = minimal();
    cred["issuer"] = json!("https://ime.example.fr/issuer");
    let f = findings_for(&cred);
    assert_eq!(fail_paths(&f), ["issuer"]);
    assert!(
        fails(&f)[0].message.en.contains("Profile object"),
        "{:?}",
        fails(&f)[0]
    );
}

#[test]
fn images_are_objects() {
    let mut cred = minimal();
    cred["credentialSubject"]["achievement"]["image"] =
        json!("https://ime.example.fr/img/plateau.png");
    assert_eq!(
        fail_paths(&findings_for(&cred)),
        ["credentialSubject.achievement.image"]
    );

    let mut cred = minimal();
    cred["credentialSubject"]["achievement"]["image"]["width"] = json!(300);
    assert_eq!(
        fail_paths(&findings_for(&cred)),
        ["credentialSubject.achievement.image.width"]
    );
}

#[test]
fn dates_need_a_time_zone_and_the_right_model() {
    let mut cred = minimal();
    cred["validFrom"] = json!("2025-03-01T09:00:00");
    let f = findings_for(&cred);
    assert_eq!(fail_paths(&f), ["validFrom"]);
    assert!(fails(&f)[0].message.fr.contains("fuseau horaire"));

    cred["validFrom"] = json!("2025-03-01 09:00:00Z");
    assert_eq!(fail_paths(&findings_for(&cred)), ["validFrom"]);

    cred["validFrom"] = json!("2025-03-01T09:00:00Z");
    cred["validUntil"] = json!("bientôt");
    assert_eq!(fail_paths(&findings_for(&cred)), ["validUntil"]);

    // VC 2.0 credential with the VC 1.1 property name.
    let mut cred = minimal();
    let date = cred.as_object_mut().unwrap().remove("validFrom").unwrap();
    cred["issuanceDate"] = date;
    let f = findings_for(&cred);
    assert_eq!(fail_paths(&f), ["validFrom"]);
    assert!(fails(&f)[0].message.en.contains("issuanceDate"));

    // VC 1.1 credential: issuanceDate is the one.
    let mut v1 = minimal();
    v1["@context"][0] = json!("https://www.w3.org/2018/credentials/v1");
    assert_eq!(conformance::vc_version(&v1), Some(VcVersion::V1_1));
    assert_eq!(fail_paths(&findings_for(&v1)), ["issuanceDate"]);
    let date = v1.as_object_mut().unwrap().remove("validFrom").unwrap();
    v1["issuanceDate"] = date;
    let f = findings_for(&v1);
    assert!(fails(&f).is_empty(), "{f:#?}");
    assert!(
        warns(&f)
            .iter()
            .any(|c| c.id == check_id::CONTEXT && path_of(c) == "@context[0]")
    );

    // Until before from: never valid, which the clock check will report; here only a warning.
    let mut cred = minimal();
    cred["validUntil"] = json!("2020-01-01T00:00:00Z");
    let f = findings_for(&cred);
    assert!(fails(&f).is_empty());
    assert_eq!(
        warns(&f).iter().map(|c| path_of(c)).collect::<Vec<_>>(),
        ["validUntil"]
    );
}

#[test]
fn contexts() {
    let with_contexts = |ctx: Value| {
        let mut cred = minimal();
        cred["@context"] = ctx;
        findings_for(&cred)
    };
    let vc2 = "https://www.w3.org/ns/credentials/v2";
    let alias = "https://purl.imsglobal.org/spec/ob/v3p0/context.json";
    let f = with_contexts(json!([vc2, alias]));
    assert!(fails(&f).is_empty());
    assert!(
        warns(&f)
            .iter()
            .any(|c| c.id == check_id::CONTEXT && path_of(c) == "@context[1]")
    );

    let f = with_contexts(json!([vc2]));
    assert_eq!(fail_paths(&f), ["@context"]);
    assert_eq!(fails(&f)[0].id, check_id::CONTEXT);

    let f = with_contexts(json!([
        vc2,
        "https://example.org/ctx",
        conformance::OB_V3_CONTEXT
    ]));
    assert_eq!(fail_paths(&f), ["@context[1]"]);

    let f = with_contexts(json!([conformance::OB_V3_CONTEXT, vc2]));
    assert_eq!(fail_paths(&f), ["@context[0]"]);
    assert_eq!(
        conformance::vc_version(&json!({"@context": [conformance::OB_V3_CONTEXT]})),
        None
    );

    let f = with_contexts(json!([vc2, conformance::OB_V3_CONTEXT, 42]));
    assert_eq!(fail_paths(&f), ["@context[2]"]);

    let mut cred = minimal();
    cred.as_object_mut().unwrap().remove("@context");
    assert_eq!(fail_paths(&findings_for(&cred)), ["@context"]);
}

#[test]
fn achievement_requirements() {
    let mut cred = minimal();
    let a = cred["credentialSubject"]["achievement"]
        .as_object_mut()
        .unwrap();
    a.remove("description");
    a.insert("criteria".into(), json!({}));
    a.insert("achievementType".into(), json!("Skill"));
    a.insert(
        "alignment".into(),
        json!([{ "type": ["Alignment"], "targetName": "Cuisine" }]),
    );
    a.insert("inLanguage".into(), json!("français"));
    let f = findings_for(&cred);
    let base = "credentialSubject.achievement";
    let mut got = fail_paths(&f);
    got.sort();
    let mut want = [
        format!("{base}.achievementType"),
        format!("{base}.alignment[0].targetUrl"),
        format!("{base}.criteria"),
        format!("{base}.description"),
        format!("{base}.inLanguage"),
    ];
    want.sort();
    assert_eq!(got, want);

    // Extension terms are allowed wherever the vocabulary is open that way.
    let mut cred = minimal();
    cred["credentialSubject"]["achievement"]["achievementType"] = json!("ext:SavoirFaire");
    assert!(fails(&findings_for(&cred)).is_empty());
}

#[test]
fn single_values_where_the_schema_wants_arrays_are_warnings() {
    let mut cred = minimal();
    cred["credentialSubject"]["type"] = json!("AchievementSubject");
    cred["evidence"] = json!({ "type": ["Evidence"], "narrative": "Photo du plateau." });
    cred["proof"] = json!({ "type": "DataIntegrityProof" });
    let f = findings_for(&cred);
    assert!(fails(&f).is_empty(), "{f:#?}");
    let warned: Vec<_> = warns(&f).into_iter().map(path_of).collect();
    assert_eq!(warned, ["credentialSubject.type", "evidence"]);

    cred["proof"] = json!("z3abc");
    assert_eq!(fail_paths(&findings_for(&cred)), ["proof"]);
}

#[test]
fn endorsement_credentials() {
    let endorsement = json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ],
        "id": "urn:uuid:5a1f0f1e-7d7e-4c43-8d0b-1b8f6a0c2e11",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Soutien de l'ESAT",
        "issuer": { "id": "https://esat.example.fr", "type": ["Profile"] },
        "validFrom": "2025-04-01T00:00:00Z",
        "credentialSubject": {
            "id": "https://ime.example.fr/achievements/plateau-repas",
            "type": ["EndorsementSubject"],
            "endorsementComment": "Compétence utile en atelier restauration."
        }
    });
    assert_eq!(findings_for(&endorsement), Vec::<Check>::new());

    let mut no_name = endorsement.clone();
    no_name.as_object_mut().unwrap().remove("name");
    no_name["credentialSubject"]
        .as_object_mut()
        .unwrap()
        .remove("id");
    let f = findings_for(&no_name);
    assert_eq!(fail_paths(&f), ["name", "credentialSubject.id"]);

    // Embedded in a badge, its problems carry the full path.
    let mut cred = minimal();
    let mut bad = endorsement.clone();
    bad["credentialSubject"]["type"] = json!(["Endorsement"]);
    cred["credentialSubject"]["achievement"]["endorsement"] = json!([endorsement, bad]);
    assert_eq!(
        fail_paths(&findings_for(&cred)),
        ["credentialSubject.achievement.endorsement[1].credentialSubject.type"]
    );

    let mut wrong_kind = minimal();
    wrong_kind["endorsement"] = json!([minimal()]);
    assert!(fail_paths(&findings_for(&wrong_kind)).contains(&"endorsement[0].type"));
}

#[test]
fn deep_nesting_is_cut_short() {
    let mut org = json!({ "id": "https://org.example/0", "type": ["Profile"] });
    for i in 1..40 {
        org = json!({ "id": format!("https://org.example/{i}"), "type": ["Profile"], "parentOrg": org });
    }
    let mut cred = minimal();
    cred["issuer"] = org;
    let f = findings_for(&cred);
    assert_eq!(fails(&f).len(), 1, "{f:#?}");
    assert!(path_of(fails(&f)[0]).starts_with("issuer.parentOrg.parentOrg"));
}

#[test]
fn not_an_object() {
    let f = findings_for(&json!(["not", "a", "credential"]));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].status, Status::Fail);
}

use crate::common;

/// What carnet issues passes its own conformance checks and the official JSON schema.
#[test]
fn carnet_credentials_pass_the_official_schema() {
    let f = common::fixture();
    for details in [
        carnet::ob3::credential::AwardDetails::default(),
        common::full_details(),
    ] {
        let signed = f.issue("lea@example.org", &details);
        let problems = conformance::check_credential(&signed.json);
        assert!(problems.is_empty(), "{problems:#?}");
        if shared_dir().is_none() {
            return;
        }
        let errors = schema_errors(&signed.json);
        assert!(
            errors.is_empty(),
            "{errors:#?}\n{}",
            serde_json::to_string_pretty(&signed.json).unwrap()
        );
        assert!(
            !signed.json.to_string().contains("lea@example.org"),
            "no clear email in a credential"
        );
    }
}

/// An award earned from a carnet (alignments, result descriptions with rubric levels, results,
/// the narrative as evidence) passes carnet's conformance checks and the official JSON schema.
#[test]
fn awards_earned_from_a_carnet_pass_the_official_schema() {
    use carnet::award_rules::{narrative::narrative, proposal::propose};
    use carnet::ob3::recognition::Recognised;
    use carnet::referentiel::carnet::{Answer, CarnetEntry, JuryMember, Modality, Recognition};

    let f = common::fixture();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let classes = carnet::badge_class::load_dir(&root.join("badge-classes")).unwrap();
    let class = &classes["organiser-mon-activite-en-cuisine"];
    let rectec = carnet::referentiel::load_file(&root.join("referentiels/rectec.json")).unwrap();
    let entry = CarnetEntry {
        competence: "1".into(),
        answer: Answer::JeFais,
        struck: Vec::new(),
        recognition: Recognition::Validated,
        modality: Some(Modality::Externe),
        date: chrono::NaiveDate::from_ymd_opt(2024, 6, 14),
        jury: vec![JuryMember {
            name: "Mme Durand".into(),
            role: None,
        }],
        level: Some("3".into()),
        comment: None,
    };
    let proposal = propose(&rectec, &[entry], [class]).remove(0);
    assert!(proposal.earned());
    let recognised = Recognised {
        narrative: narrative(&rectec, &proposal.outcomes),
        referentiel: rectec.clone(),
        outcomes: proposal.outcomes,
    };
    let now = chrono::Utc::now();
    let hashed =
        carnet::recipient::hash_email(&carnet::recipient::Email::parse("lea@example.org").unwrap());
    for details in [
        carnet::ob3::credential::AwardDetails::default(),
        common::full_details(),
    ] {
        let unsigned = carnet::ob3::credential::build_with(
            &f.issuer,
            class,
            uuid::Uuid::new_v4(),
            &hashed,
            &details,
            now,
            Some(&recognised),
        );
        assert_eq!(
            unsigned["credentialSubject"]["result"]
                .as_array()
                .map(Vec::len),
            Some(3),
            "level, answer and recognition"
        );
        let signed = carnet::issue::sign(&f.issuer, &unsigned, now).unwrap();
        let problems = conformance::check_credential(&signed.json);
        assert!(problems.is_empty(), "{problems:#?}");
        if shared_dir().is_none() {
            return;
        }
        let errors = schema_errors(&signed.json);
        assert!(
            errors.is_empty(),
            "{errors:#?}\n{}",
            serde_json::to_string_pretty(&signed.json).unwrap()
        );
    }
}
