//! The public `/verify` page in a real browser (issue #4 §6): Debian's Chromium driven by
//! playwright-core, with the axe-core accessibility engine (`tests/interop/page_check.mjs`).
//!
//! Starts a carnet server, issues two awards, revokes the second, writes both baked PNGs to a
//! temporary folder, and runs the node script, which prints one JSON line. This test then
//! asserts that axe-core finds the defects of a canary page made to fail (contrast, lang, alt:
//! the engine works in this browser), and, in French and in English:
//!
//! - axe-core (WCAG 2.0 and 2.1, A and AA, and best practices; colour contrast included) finds
//!   no violation on the form, on the form's error (sent empty), on the answer for a valid
//!   badge, and on the answer for a revoked one;
//! - the keyboard alone: Tab from the top of the page reaches the file input, the textarea, the
//!   email input and the submit button, in that order and with no other stop between them, each
//!   visibly focused (`:focus-visible`, an outline, pixels that change when it gets the focus);
//! - the PNG put in the file input and sent with Enter on the button gives the answer, whose
//!   sentence starts with « Ce badge est authentique. » / "This badge is authentic."; the revoked
//!   one says it was withdrawn;
//! - with JavaScript disabled (and the page's Content-Security-Policy in force), the upload and
//!   the submit give the same verdict, and the browser reports no CSP refusal.
//!
//! Needs `/usr/bin/chromium` and the npm packages in `.tools/node` (both installed by
//! `scripts/setup-interop.sh`). Without them the test fails and says so, unless
//! `CARNET_SKIP_INTEROP=1`, which skips it with a visible line on stderr.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common;
use common::browser::{run_node, tools_or_skip};
use common::server::*;

/// A browser run that lasts longer than this is killed and the test fails.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);
/// The form's controls, in the order Tab must reach them (as the script names them).
const FORM_ORDER: [&str; 4] = ["#file", "#badge", "#recipient", "button[type=submit]"];

fn page<'a>(report: &'a Value, kind: &str, lang: &str) -> &'a Value {
    report["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .find(|p| p["kind"] == kind && p["lang"] == lang)
        .unwrap_or_else(|| panic!("no {kind} page in {lang}: {report}"))
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verify_page_is_accessible_and_works_by_keyboard_and_without_javascript_in_chromium() {
    if tools_or_skip("page_browser").is_none() {
        return;
    }
    let s = Server::new().await;
    let valid = s.issue().await;
    let revoked = s.issue().await;
    s.revoke(&revoked, "Donné par erreur").await;

    let dir = tempfile::tempdir().unwrap();
    let valid_png = dir.path().join("badge.png");
    let revoked_png = dir.path().join("revoked.png");
    for (award, file) in [(&valid, &valid_png), (&revoked, &revoked_png)] {
        let r = s.form(award, "png").await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), PNG);
        std::fs::write(file, &r.body).unwrap();
    }

    let args = vec![
        "--base".to_string(),
        s.addr.clone(),
        "--png".to_string(),
        valid_png.display().to_string(),
        "--revoked-png".to_string(),
        revoked_png.display().to_string(),
    ];
    let run =
        tokio::task::spawn_blocking(move || run_node("page_check.mjs", &args, BROWSER_TIMEOUT))
            .await
            .expect("node task");
    assert_eq!(run.code, 0, "{}", run.describe());
    let report = run.json_line();
    assert!(report.is_object(), "no JSON line: {}", run.describe());
    let _ = std::io::stderr().write_all(
        format!(
            "page_browser: {}, playwright-core {}, axe-core {}: the run took {:.1?}\n",
            str_of(&report, "browser"),
            str_of(&report["versions"], "playwright-core"),
            str_of(&report["versions"], "axe-core"),
            run.took
        )
        .as_bytes(),
    );
    assert!(
        report["browser"]
            .as_str()
            .is_some_and(|b| b.starts_with("chromium ")),
        "{report}"
    );
    // axe-core works in this browser: it finds the canary page's defects, contrast included.
    let canary = &report["axe_canary"];
    for rule in ["color-contrast", "html-has-lang", "image-alt"] {
        assert!(
            canary
                .as_array()
                .is_some_and(|c| c.iter().any(|r| r == rule)),
            "axe-core missed {rule} on the canary page: {canary}"
        );
    }

    for (lang, authentic, withdrawn) in [
        (
            "fr",
            "Ce badge est authentique.",
            "Ce badge a été retiré par IME Les Tilleuls.",
        ),
        (
            "en",
            "This badge is authentic.",
            "This badge was withdrawn by IME Les Tilleuls.",
        ),
    ] {
        // axe-core: no violation on the form, its error, and both answers.
        for kind in ["form", "form-error", "answer", "revoked"] {
            let p = page(&report, kind, lang);
            assert_eq!(str_of(p, "html_lang"), lang, "{kind} {lang}: {p}");
            assert!(
                p["passes"].as_u64().is_some_and(|n| n >= 10),
                "axe-core checked too little on the {kind} page in {lang}: {p}"
            );
            let violations = p["violations"].as_array().expect("violations");
            assert!(
                violations.is_empty(),
                "axe-core found violations on the {kind} page in {lang} ({}): {}",
                str_of(p, "url"),
                serde_json::to_string_pretty(violations).unwrap()
            );
        }
        assert_eq!(page(&report, "form", lang)["status"], 200);
        assert!(
            page(&report, "form-error", lang)["error"].is_string(),
            "{lang}: the empty form gave no error: {report}"
        );

        // The verdict sentences.
        let verdict = str_of(page(&report, "answer", lang), "verdict");
        assert!(verdict.starts_with(authentic), "{lang}: {verdict}");
        let verdict = str_of(page(&report, "revoked", lang), "verdict");
        assert!(verdict.starts_with(withdrawn), "{lang}: {verdict}");

        // The keyboard alone: the form's controls in order, nothing else between them, each
        // visibly focused.
        let kb = report["keyboard"]
            .as_array()
            .expect("keyboard")
            .iter()
            .find(|k| k["lang"] == lang)
            .unwrap_or_else(|| panic!("no keyboard run in {lang}: {report}"));
        let stops = kb["stops"].as_array().expect("stops");
        let targets: Vec<&str> = stops.iter().map(|s| str_of(s, "target")).collect();
        let first = targets
            .iter()
            .position(|t| *t == FORM_ORDER[0])
            .unwrap_or_else(|| panic!("{lang}: Tab never reached the file input: {targets:?}"));
        assert_eq!(
            targets.get(first..first + FORM_ORDER.len()),
            Some(&FORM_ORDER[..]),
            "{lang}: Tab order {targets:?}"
        );
        assert!(
            first <= 3,
            "{lang}: {first} stops before the form: {targets:?}"
        );
        for stop in &stops[first..first + FORM_ORDER.len()] {
            assert_eq!(stop["focus_visible"], true, "{lang}: {stop}");
            assert!(stop["outline"].is_string(), "{lang}: no outline: {stop}");
            assert_eq!(
                stop["pixels_change"], true,
                "{lang}: focus not visible on screen: {stop}"
            );
        }
        assert_eq!(kb["order_ok"], true, "{lang}: {kb}");

        // JavaScript disabled: the upload and the submit still answer, CSP in force.
        let nojs = report["nojs"]
            .as_array()
            .expect("nojs")
            .iter()
            .find(|n| n["lang"] == lang)
            .unwrap_or_else(|| panic!("no JavaScript-disabled run in {lang}: {report}"));
        assert_eq!(nojs["javascript"], false);
        assert_eq!(str_of(nojs, "html_lang"), lang, "{nojs}");
        assert!(
            str_of(nojs, "verdict").starts_with(authentic),
            "{lang} without JavaScript: {nojs}"
        );
        assert_eq!(nojs["has_script"], false, "{nojs}");
        let refused: Vec<&Value> = nojs["console_errors"]
            .as_array()
            .expect("console_errors")
            .iter()
            .filter(|e| {
                let e = e.as_str().unwrap_or("");
                e.contains("Content Security Policy") || e.contains("Refused to")
            })
            .collect();
        assert!(refused.is_empty(), "{lang}: CSP refusals: {refused:?}");
    }
    assert_eq!(report["problems"], json!([]), "{report}");
    assert_eq!(report["ok"], true, "{report}");
    s.shutdown().await;
}
