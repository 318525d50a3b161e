//! Table test: the badge-like files of `../shared/spec/data` that the 1EdTech sample tables
//! (`samples_1edtech.rs`, `samples_1edtech_ob2.rs`) do not cover get a verdict decided here, each
//! with its reason (issue #4 §6):
//!
//! - `ob2/baked-legacy/**`: the test images of the two OB 1.x/2.0 bakeries
//!   (mozilla/openbadges-bakery @3057b06 `test/`, concentricsky/openbadges-bakery @b985422
//!   `openbadges_bakery/testfiles/`; see `data/SOURCES.md`). Their payloads are OB 1.0-era hosted assertions
//!   (`verify.url`) on example.org. carnet must unbake what is baked; the verifier here never goes
//!   online (no fetcher), so a hosted assertion is "could not check" (indeterminate), saying that
//!   its issuer's site did not answer, and never judged on the copy in the image (hosted
//!   verification checks the assertion its issuer publishes). Bad JSON is invalid with a parse
//!   message; an image without a badge fails with "carries no badge".
//! - `clr2/1edtech-validator-tests/*`: CLR 2.0 records (`ClrCredential`), Verifiable Credentials
//!   but not Open Badges. carnet does not verify CLR: "could not check", with a message saying what
//!   the document is, rather than "invalid" for records 1EdTech's CLR inspector accepts
//!   (`inspector-clr/.../CLR20Tests.java`); one without any proof is invalid.
//! - `ob3/1edtech-test-keys/*`: published test keys, not a credential: invalid.
//!
//! A second test checks that the table covers every file of those folders.

use std::path::{Path, PathBuf};

use carnet::bake::{self, Keyword};
use carnet::verify::Verifier;
use carnet::verify::report::{Report, Status, Verdict};
use carnet::verify::resolve::Resolver;

/// The folders this table covers (relative to `shared/spec/data`), walked recursively.
const FOLDERS: &[&str] = &[
    "ob2/baked-legacy",
    "clr2/1edtech-validator-tests",
    "ob3/1edtech-test-keys",
];

struct Case {
    file: &'static str,
    verdict: Verdict,
    /// The check that carries the verdict, its status, and words its English message must contain.
    check: (&'static str, Status, &'static str),
    /// For images: the start of what carnet must unbake (OB 2.0 carrier), or `None` if nothing.
    unbaked: Option<&'static str>,
    why: &'static str,
}

const NO_NETWORK: &str = "network lookups are turned off";
const NO_BADGE: &str = "the image carries no badge";
const CLR: &str = "is a CLR 2.0 record (ClrCredential), not an Open Badge";

use Status::{Fail, Unknown};
use Verdict::{Indeterminate, Invalid};

#[rustfmt::skip]
const CASES: &[Case] = &[
    // concentricsky/openbadges-bakery openbadges_bakery/testfiles
    Case { file: "ob2/baked-legacy/concentricsky-openbadges-bakery/baked_example.svg",
        verdict: Indeterminate, check: ("hosted", Unknown, NO_NETWORK), unbaked: Some("{"),
        why: "OB 1.0 hosted assertion (verify.url https://example.org/assertion.json, also the verify attribute); offline, the published assertion cannot be read" },
    Case { file: "ob2/baked-legacy/concentricsky-openbadges-bakery/baked_heart.png",
        verdict: Indeterminate, check: ("hosted", Unknown, NO_NETWORK), unbaked: Some(r#"{"uid":"123""#),
        why: "OB 1.0 hosted assertion in an iTXt `openbadges` chunk (verify.url http://example.org/badgeinstance1); the baked copy (no recipient.type) is not what is verified" },
    Case { file: "ob2/baked-legacy/concentricsky-openbadges-bakery/public_domain_heart.png",
        verdict: Invalid, check: ("parse", Fail, NO_BADGE), unbaked: None,
        why: "the same heart before baking: no badge in it" },
    Case { file: "ob2/baked-legacy/concentricsky-openbadges-bakery/unbaked_example.svg",
        verdict: Invalid, check: ("parse", Fail, NO_BADGE), unbaked: None,
        why: "the SVG before baking: no <openbadges:assertion>" },
    // mozilla/openbadges-bakery test/ (svg.test.js: baked.svg and no-json.svg extract
    // http://example.org, bad-json.svg is an INVALID_JSON error)
    Case { file: "ob2/baked-legacy/mozilla-openbadges-bakery/baked.svg",
        verdict: Indeterminate, check: ("hosted", Unknown, NO_NETWORK), unbaked: Some(r#"{"verify""#),
        why: "{\"verify\":{\"url\":\"http://example.org\"}}: a hosted assertion at http://example.org, which cannot be read offline" },
    Case { file: "ob2/baked-legacy/mozilla-openbadges-bakery/bad-json.svg",
        verdict: Invalid, check: ("parse", Fail, "the JSON is malformed"), unbaked: Some("{verify:"),
        why: "the baked body is not JSON ({verify:...}): the image's badge cannot be read" },
    Case { file: "ob2/baked-legacy/mozilla-openbadges-bakery/no-json.svg",
        verdict: Indeterminate, check: ("hosted", Unknown, NO_NETWORK), unbaked: Some("http://example.org"),
        why: "empty body, verify=\"http://example.org\": the OB 2.0 SVG carrier of a hosted assertion's URL (as the bakery reads it); unreachable offline" },
    Case { file: "ob2/baked-legacy/mozilla-openbadges-bakery/unbaked.png",
        verdict: Invalid, check: ("parse", Fail, NO_BADGE), unbaked: None,
        why: "a PNG with only a tEXt Software chunk: no badge" },
    Case { file: "ob2/baked-legacy/mozilla-openbadges-bakery/unbaked.svg",
        verdict: Invalid, check: ("parse", Fail, NO_BADGE), unbaked: None,
        why: "an SVG without the openbadges namespace or element: no badge" },
    // 1EdTech inspector-clr src/test/resources/clr20 (CLR20Tests.java)
    Case { file: "clr2/1edtech-validator-tests/simple.json",
        verdict: Indeterminate, check: ("conformance", Unknown, CLR), unbaked: None,
        why: "ClrCredential, eddsa-rdfc-2022: valid for 1EdTech's CLR inspector (testSimpleJsonValid); carnet does not verify CLR" },
    Case { file: "clr2/1edtech-validator-tests/simple_v1.json",
        verdict: Indeterminate, check: ("conformance", Unknown, CLR), unbaked: None,
        why: "VC 1.1 ClrCredential: valid with warnings for 1EdTech (testSimpleV1JsonValid); not an Open Badge" },
    Case { file: "clr2/1edtech-validator-tests/complex.json",
        verdict: Indeterminate, check: ("conformance", Unknown, CLR), unbaked: None,
        why: "ClrCredential holding OpenBadgeCredentials (1EdTech's test is commented out: network); not an Open Badge" },
    Case { file: "clr2/1edtech-validator-tests/simple.jwt",
        verdict: Indeterminate, check: ("conformance", Unknown, CLR), unbaked: None,
        why: "ClrCredential as a VC-JWT (1EdTech's test is @Disabled); not an Open Badge" },
    Case { file: "clr2/1edtech-validator-tests/simple_old_safesigned.json",
        verdict: Indeterminate, check: ("conformance", Unknown, CLR), unbaked: None,
        why: "ClrCredential with a legacy proof, no 1EdTech expectation; not an Open Badge" },
    Case { file: "clr2/1edtech-validator-tests/simple-noproof.json",
        verdict: Invalid, check: ("proof", Fail, "has no proof"), unbaked: None,
        why: "ClrCredential without any proof: no verifier can accept it" },
    // dc-bootcamp keys (DERIVED, see SOURCES.md)
    Case { file: "ob3/1edtech-test-keys/dc-bootcamp-test-keys.json",
        // what decides is the missing proof; the missing type is a conformance warning (default profile)
        verdict: Invalid, check: ("proof", Fail, "has no proof"), unbaked: None,
        why: "published test keys, not a credential: no type, issuer, proof" },
];

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        // straight to the process's stderr: libtest's capture would hide an eprintln!
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!(
                "SKIP: ../shared not found ({}): the other-samples table was not run\n",
                dir.display()
            )
            .as_bytes(),
        );
        None
    }
}

fn describe(report: &Report) -> String {
    report
        .checks
        .iter()
        .map(|c| format!("{:?} {}: {}", c.status, c.id, c.message.en))
        .collect::<Vec<_>>()
        .join("\n      ")
}

#[tokio::test]
async fn other_samples_get_their_verdict() {
    let Some(dir) = data_dir() else { return };
    // No fetcher: nothing goes online; hosted documents and remote keys are "could not check".
    let verifier = Verifier::new(Resolver::new(vec![], None));
    let mut wrong = Vec::new();
    for c in CASES {
        let bytes = std::fs::read(dir.join(c.file)).unwrap_or_else(|e| panic!("{}: {e}", c.file));
        let report = verifier.verify_bytes(&bytes, None).await;
        let (id, status, words) = c.check;
        let carried = report
            .checks
            .iter()
            .any(|k| k.id == id && k.status == status && k.message.en.contains(words));
        // An image: carnet's baker reads exactly what the bakeries baked (or says there is nothing).
        let unbaked = if c.file.ends_with(".png") || c.file.ends_with(".svg") {
            let got = bake::unbake(&bytes, &bake::Limits::default());
            match (c.unbaked, &got) {
                (Some(start), Ok(b)) => {
                    let payload = if b.text.is_empty() {
                        b.verify_attr.clone().unwrap_or_default()
                    } else {
                        b.text.clone()
                    };
                    b.keyword == Keyword::Ob2Assertion && payload.starts_with(start)
                }
                (None, Err(bake::BakeError::NotBaked)) => true,
                _ => false,
            }
        } else {
            true
        };
        let ok = report.verdict == c.verdict && carried && unbaked;
        eprintln!(
            "{} {}: {:?} (wanted {:?}: {})\n      {}",
            if ok { "ok  " } else { "FAIL" },
            c.file,
            report.verdict,
            c.verdict,
            c.why,
            describe(&report)
        );
        if !ok {
            wrong.push(format!(
                "{}: got {:?}, wanted {:?} with {id} {status:?} \"{words}\"{}",
                c.file,
                report.verdict,
                c.verdict,
                if unbaked { "" } else { " (unbaking differs)" }
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "samples with the wrong outcome:\n{}",
        wrong.join("\n")
    );
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, root, out);
        } else {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy();
            out.push(rel.replace('\\', "/"));
        }
    }
}

/// Every file of the covered folders has a row, and every row names an existing file: a new
/// sample cannot be forgotten.
#[test]
fn the_table_covers_the_other_sample_folders() {
    let Some(dir) = data_dir() else { return };
    let mut files = Vec::new();
    for folder in FOLDERS {
        walk(&dir.join(folder), &dir, &mut files);
    }
    files.sort();
    let missing: Vec<&String> = files
        .iter()
        .filter(|f| !CASES.iter().any(|c| c.file == f.as_str()))
        .collect();
    assert!(missing.is_empty(), "files without a row: {missing:?}");
    for c in CASES {
        assert!(
            files.iter().any(|f| f == c.file),
            "{} is in the table but not in the folders",
            c.file
        );
        assert!(
            FOLDERS.iter().any(|f| c.file.starts_with(&format!("{f}/"))),
            "{} is outside the covered folders",
            c.file
        );
    }
}
