//! The public pages in the page shell (`templates/`): what they say, and how they render in a real
//! browser (Debian's Chromium driven by playwright-core, with axe-core:
//! `tests/interop/public_pages_check.mjs`).
//!
//! The browser test starts a carnet server whose institution has a logo, a long web address and
//! a long email (they must wrap), issues an award and revokes it, then checks in French and in
//! English, at 320, 390 and 1280 px: the home page, the issuer page, a badge class page, and the
//! error pages « this page does not exist » (404), « this badge does not exist » (404) and « this
//! badge was withdrawn » (410, the OB 2.0 assertion of the revoked award). On each: no axe-core
//! violation (WCAG 2.0 and 2.1, A and AA, and best practices; colour contrast included), no
//! sideways scrolling (`scrollWidth <= innerWidth`), one `<main>`, one `<h1>`, the right
//! `<html lang>`. Screenshots are kept in `$CARGO_TARGET_TMPDIR/public_pages_browser/`.
//!
//! Needs `/usr/bin/chromium` and the npm packages in `.tools/node` (both installed by
//! `scripts/setup-interop.sh`). Without them the browser test fails and says so, unless
//! `CARNET_SKIP_INTEROP=1`, which skips it with a visible line on stderr.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use common::server::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CHROMIUM: &str = "/usr/bin/chromium";
/// A browser run that lasts longer than this is killed and the test fails.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);
const WIDTHS: [u64; 3] = [320, 390, 1280];
const LONG_URL: &str = "https://www.ime-les-tilleuls.example.org/etablissement/presentation-des-ateliers-professionnels";
const LONG_EMAIL: &str = "secretariat.accompagnement.professionnel@ime-les-tilleuls.example.org";
const DESCRIPTION: &str = "Institut médico-éducatif : des ateliers pour apprendre un métier.";

/// `None` (after a visible line on stderr) when `CARNET_SKIP_INTEROP=1`; otherwise the tools must
/// be there.
fn tools_or_skip() -> Option<()> {
    if std::env::var("CARNET_SKIP_INTEROP").as_deref() == Ok("1") {
        // straight to the process's stderr: libtest's capture would hide an eprintln!
        let _ = std::io::stderr().write_all(
            b"SKIP public_pages_browser: CARNET_SKIP_INTEROP=1 (no Chromium page test)\n",
        );
        return None;
    }
    let root = Path::new(ROOT);
    let needed = [
        PathBuf::from(CHROMIUM),
        root.join(".tools/node/node_modules/playwright-core/package.json"),
        root.join(".tools/node/node_modules/axe-core/axe.min.js"),
    ];
    let missing: Vec<String> = needed
        .iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "the browser page test needs Chromium and the npm packages (missing: {}): run \
         scripts/setup-interop.sh (or set CARNET_SKIP_INTEROP=1 to skip this test)",
        missing.join(", ")
    );
    Some(())
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "public_pages_check.mjs exited {:?} after {:.1?}\n    stdout: {}\n    stderr: {}",
            self.code,
            self.took,
            cut(&self.stdout, 4000),
            cut(&self.stderr, 4000)
        )
    }
}

fn cut(s: &str, n: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Runs `node tests/interop/public_pages_check.mjs JSON` to completion, killed after
/// `BROWSER_TIMEOUT`. Blocking: call it from `spawn_blocking` so the server keeps serving.
fn run_check(input: Value) -> Run {
    let started = Instant::now();
    let script = Path::new(ROOT).join("tests/interop/public_pages_check.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .arg(input.to_string())
        .current_dir(ROOT)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node {}: {e}", script.display()));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = started + BROWSER_TIMEOUT;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait().expect("wait for node") {
            Some(status) => break status,
            None if Instant::now() > deadline => {
                timed_out = true;
                // node's own children (Chromium) exit when their pipe to node closes
                let _ = child.kill();
                break child.wait().expect("wait for the killed node");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let mut stderr = err_reader.join().unwrap_or_default();
    if timed_out {
        stderr.push_str(&format!("\n(killed after {BROWSER_TIMEOUT:?})"));
    }
    Run {
        code: status.code(),
        stdout: out_reader.join().unwrap_or_default(),
        stderr,
        took: started.elapsed(),
    }
}

/// The one JSON line the script prints.
fn json_line(stdout: &str) -> Value {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or("");
    serde_json::from_str(line).unwrap_or(Value::Null)
}

/// A server whose institution has a logo (served by `logo_host`), a long web address and email.
async fn institution(logo_host: &Server) -> Server {
    let image = format!(
        "--issuer-image={}/badge-classes/{CLASS}/image.png",
        logo_host.addr
    );
    let url = format!("--issuer-url={LONG_URL}");
    let email = format!("--issuer-email={LONG_EMAIL}");
    let description = format!("--issuer-description={DESCRIPTION}");
    Server::with_args(&[&image, &url, &email, &description]).await
}

async fn revoke(s: &Server, award: &Value) {
    let id = award["id"].as_str().expect("award id");
    let r = s
        .request(
            Some(
                json!({"reason": "Donné par erreur"})
                    .to_string()
                    .into_bytes(),
            ),
            &format!("/api/v1/awards/{id}/revoke"),
            &[
                ("content-type", JSON),
                ("authorization", &format!("Bearer {TOKEN}")),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

async fn html(s: &Server, path: &str) -> String {
    let r = s.get_html(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    assert!(r.header("content-type").starts_with("text/html"));
    r.text()
}

/// The position of `needle` in `page`, which must hold it.
fn at(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in {page}"))
}

#[tokio::test]
async fn the_public_pages_say_who_the_institution_is_in_both_languages() {
    let logo_host = Server::new().await;
    let s = institution(&logo_host).await;

    // the issuer page: who, how to reach them, their badges, and only then the keys
    let page = html(&s, "/issuers/ime").await;
    assert!(page.contains("<html lang=\"fr\">"), "{page}");
    let logo = at(&page, "class=\"logo\"");
    let name = at(&page, &format!("<h1>{ISSUER_NAME}</h1>"));
    let description = at(&page, DESCRIPTION);
    let website = at(&page, &format!("href=\"{LONG_URL}\""));
    let email = at(&page, &format!("href=\"mailto:{LONG_EMAIL}\""));
    let badges = at(&page, "Les badges que nous donnons");
    let class = at(&page, &format!("href=\"/badge-classes/{CLASS}?lang=fr\""));
    let keys = at(&page, "<details class=\"technical\">");
    let did = at(&page, "/issuers/ime/did.json");
    assert!(
        logo < name
            && name < description
            && description < website
            && website < email
            && email < badges
            && badges < class
            && class < keys
            && keys < did,
        "{page}"
    );
    assert!(
        page.contains(&format!("alt=\"Logo de {ISSUER_NAME}\"")),
        "{page}"
    );
    assert!(page.contains("/.well-known/jwks.json"), "{page}");
    // the shell: the institution, the language switch to this page, a footer
    assert!(page.contains(&format!(
        "<a class=\"home\" href=\"/?lang=fr\">{ISSUER_NAME}</a>"
    )));
    assert!(page.contains("href=\"/issuers/ime?lang=en\" lang=\"en\" hreflang=\"en\">English</a>"));
    assert!(page.contains("<footer"), "{page}");

    let page = html(&s, "/issuers/ime?lang=en").await;
    assert!(page.contains("<html lang=\"en\">"), "{page}");
    assert!(page.contains("The badges we give"), "{page}");
    assert!(page.contains("Technical information"), "{page}");
    // the institution's own words stay marked as French
    assert!(
        page.contains(&format!("<p lang=\"fr\">{DESCRIPTION}</p>")),
        "{page}"
    );

    // the home page
    let page = html(&s, "/").await;
    assert!(page.contains(&format!("<h1>{ISSUER_NAME}</h1>")), "{page}");
    assert!(
        page.contains(&format!("href=\"/badge-classes/{CLASS}?lang=fr\"")),
        "{page}"
    );
    assert!(page.contains("href=\"/verify?lang=fr\""), "{page}");
    let page = html(&s, "/?lang=en").await;
    assert!(page.contains("The badges"), "{page}");

    // the badge class page: its headings in the visitor's language, its text in its own
    let page = html(&s, &format!("/badge-classes/{CLASS}")).await;
    assert!(
        page.contains("<h1>Sécurité et hygiène au travail</h1>"),
        "{page}"
    );
    assert!(
        page.contains("<h2 id=\"criteria\">Ce que je dois faire</h2>"),
        "{page}"
    );
    assert!(page.contains(&format!("src=\"/badge-classes/{CLASS}/image.png\"")));
    let page = html(&s, &format!("/badge-classes/{CLASS}?lang=en")).await;
    assert!(
        page.contains("<h1 lang=\"fr\">Sécurité et hygiène au travail</h1>"),
        "{page}"
    );
    assert!(
        page.contains("<h2 id=\"criteria\">What I must do</h2>"),
        "{page}"
    );
    assert!(page.contains("<div lang=\"fr\">"), "{page}");

    // programs still get the documents
    let profile = s.get("/issuers/ime").await.json();
    assert_eq!(profile["name"], ISSUER_NAME);
    assert_eq!(profile["image"]["type"], "Image");
    s.shutdown().await;
    logo_host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_pages_and_error_pages_fit_small_screens_and_pass_axe_in_chromium() {
    if tools_or_skip().is_none() {
        return;
    }
    let logo_host = Server::new().await;
    let s = institution(&logo_host).await;
    let award = s.issue().await;
    revoke(&s, &award).await;
    let withdrawn = award["ob2"]["assertion"]
        .as_str()
        .expect("an OB 2.0 assertion (the issuer has an email)")
        .to_string();
    assert_eq!(s.get_html(&withdrawn).await.status, 410);
    let unknown_badge = format!("/credentials/{}", uuid::Uuid::new_v4());

    // name, path, expected status
    let pages: Vec<(&str, String, u16)> = vec![
        ("home", "/".into(), 200),
        ("issuer", "/issuers/ime".into(), 200),
        ("badge-class", format!("/badge-classes/{CLASS}"), 200),
        ("not-found", "/no/such/page".into(), 404),
        ("unknown-badge", unknown_badge, 404),
        ("withdrawn-badge", s.url(&withdrawn), 410),
    ];
    let mut list = vec![];
    for (name, path, _) in &pages {
        for lang in ["fr", "en"] {
            let url = s.url(path);
            let sep = if url.contains('?') { '&' } else { '?' };
            list.push(
                json!({"name": format!("{name}-{lang}"), "url": format!("{url}{sep}lang={lang}")}),
            );
        }
    }
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("public_pages_browser");
    let input = json!({
        "pages": list,
        "widths": WIDTHS,
        "screenshots": shots.display().to_string(),
    });
    let run = tokio::task::spawn_blocking(move || run_check(input))
        .await
        .expect("node task");
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let report = json_line(&run.stdout);
    assert!(report.is_object(), "no JSON line: {}", run.describe());
    let _ = std::io::stderr().write_all(
        format!(
            "public_pages_browser: {}, axe-core {}: {} page views in {:.1?}; screenshots in {}\n",
            report["browser"].as_str().unwrap_or(""),
            report["versions"]["axe-core"].as_str().unwrap_or(""),
            report["results"].as_array().map_or(0, Vec::len),
            run.took,
            shots.display()
        )
        .as_bytes(),
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
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), pages.len() * 2 * WIDTHS.len(), "{report}");
    for (name, _, status) in &pages {
        for lang in ["fr", "en"] {
            for width in WIDTHS {
                let r = results
                    .iter()
                    .find(|r| r["name"] == format!("{name}-{lang}") && r["width"] == width)
                    .unwrap_or_else(|| panic!("no {name}-{lang} at {width} px: {report}"));
                let what = format!("{name}-{lang} at {width} px");
                assert_eq!(r["status"], *status, "{what}: {r}");
                assert_eq!(r["html_lang"], lang, "{what}: {r}");
                assert_eq!(r["has_main"], true, "{what}: {r}");
                assert_eq!(
                    r["h1"].as_array().map(Vec::len),
                    Some(1),
                    "{what}: one <h1>: {r}"
                );
                assert!(
                    r["passes"].as_u64().is_some_and(|n| n >= 10),
                    "{what}: axe-core checked too little: {r}"
                );
                let violations = r["violations"].as_array().expect("violations");
                assert!(
                    violations.is_empty(),
                    "{what}: axe-core violations: {}",
                    serde_json::to_string_pretty(violations).unwrap()
                );
                let scroll = r["scroll_width"].as_u64().expect("scroll_width");
                let inner = r["inner_width"].as_u64().expect("inner_width");
                assert!(
                    scroll <= inner,
                    "{what}: sideways scrolling ({scroll} > {inner}), too wide: {}",
                    r["wide"]
                );
            }
        }
    }
    // the words of the error pages
    let h1 = |name: &str| {
        results
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["h1"][0].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    assert_eq!(h1("not-found-fr"), "Cette page n'existe pas.");
    assert_eq!(h1("not-found-en"), "This page does not exist.");
    assert_eq!(h1("unknown-badge-fr"), "Ce badge n'existe pas.");
    assert_eq!(h1("withdrawn-badge-fr"), "Ce badge a été retiré.");
    assert_eq!(h1("withdrawn-badge-en"), "This badge was withdrawn.");
    assert_eq!(report["problems"], json!([]), "{report}");
    assert_eq!(report["ok"], true, "{report}");
    s.shutdown().await;
    logo_host.shutdown().await;
}
