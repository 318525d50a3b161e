//! The public pages in the page shell (`templates/`): what they say, and how they render in a real
//! browser (Debian's Chromium driven by playwright-core, with axe-core:
//! `tests/interop/public_pages_check.mjs`).
//!
//! The browser test starts one carnet server whose institution has a logo, a long web address and
//! a long email (they must wrap), issues a valid award, a revoked one and one that expires two
//! seconds later, then opens in one Chromium, in French and in English, at 320, 390 and 1280 px:
//!
//! - the home page, the issuer page, a badge class page;
//! - the error pages « this page does not exist » (404), « this badge does not exist » (404) and
//!   « this badge was withdrawn » (410, the OB 2.0 assertion of the revoked award);
//! - each award's own page (`/credentials/{id}`), whose first sentence, as the browser renders
//!   `<main>`, is its state: « ✔ Ce badge est valable. », « ✘ Ce badge a été retiré par … »,
//!   « ✘ Ce badge n'est plus valable depuis le … »;
//! - the verify page: its form, and its answer for a link to the valid award, to the revoked one,
//!   to the valid award's hosted OB 2.0 assertion, to a URL where nothing answers (« could not
//!   check »), and for a badge pasted in the form that is authentic but departs from the OB 3.0
//!   data model (its conformance warning shown).
//!
//! On each: no axe-core violation (WCAG 2.0 and 2.1, A and AA, and best practices; colour
//! contrast included), no sideways scrolling (`scrollWidth <= innerWidth`, every `<details>`
//! opened first), one `<main>`, one `<h1>`, the right `<html lang>`. Every defect of every view is
//! listed in one failure (the text or element that sticks out, the axe rule and its targets).
//! Screenshots and the script's report are kept in `$CARGO_TARGET_TMPDIR/public_pages_browser/`.
//!
//! Needs `/usr/bin/chromium` and the npm packages in `.tools/node` (both installed by
//! `scripts/setup-interop.sh`). Without them the browser test fails and says so, unless
//! `CARNET_SKIP_INTEROP=1`, which skips it with a visible line on stderr.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use carnet::issue::sign;
use carnet::ob3::credential::{AwardDetails, build};
use carnet::recipient::{Email, hash_email};
use serde_json::{Value, json};

use crate::common;
use common::browser::{cut, run_node, tools_or_skip};
use common::server::*;

/// A browser run that lasts longer than this is killed and the test fails.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);
const WIDTHS: [u64; 3] = [320, 390, 1280];
const LONG_URL: &str = "https://www.ime-les-tilleuls.example.org/etablissement/presentation-des-ateliers-professionnels";
const LONG_EMAIL: &str = "secretariat.accompagnement.professionnel@ime-les-tilleuls.example.org";
const DESCRIPTION: &str = "Institut médico-éducatif : des ateliers pour apprendre un métier.";

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

/// `s` percent-encoded for a query string.
fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A credential signed by the server's own issuer whose data departs from the OB 3.0 data model
/// (`achievementType` "Workshop": not in the vocabulary, no `ext:` prefix): authentic, in force,
/// and reported with a conformance warning under the default profile.
fn deviating_credential(s: &Server) -> String {
    let app = &s.app;
    let class = app.class(CLASS).expect("the badge class");
    let recipient = hash_email(&Email::parse("lea@example.org").expect("an email"));
    let details = AwardDetails {
        recipient_name: Some("Léa".into()),
        ..Default::default()
    };
    let now = chrono::Utc::now();
    let mut unsigned = build(
        &app.issuer,
        class,
        uuid::Uuid::new_v4(),
        &recipient,
        &details,
        now,
    );
    unsigned["credentialSubject"]["achievement"]["achievementType"] = "Workshop".into();
    sign(&app.issuer, &unsigned, now)
        .expect("signed")
        .json
        .to_string()
}

/// One page the browser opens, in French and in English.
struct Page {
    name: &'static str,
    /// Without `lang`.
    path: String,
    status: u16,
    /// The verify form's textarea, filled and sent (the answer is a POST's).
    paste: Option<String>,
    /// How the text of `<main>` starts (French, English), whitespace folded.
    starts: Option<[&'static str; 2]>,
    /// What the text of `<main>` says (French, English), within what the script reads of it.
    says: Vec<[&'static str; 2]>,
}

impl Page {
    fn new(name: &'static str, path: impl Into<String>, status: u16) -> Page {
        Page {
            name,
            path: path.into(),
            status,
            paste: None,
            starts: None,
            says: vec![],
        }
    }
    fn starts(mut self, fr: &'static str, en: &'static str) -> Page {
        self.starts = Some([fr, en]);
        self
    }
    fn says(mut self, fr: &'static str, en: &'static str) -> Page {
        self.says.push([fr, en]);
        self
    }
    fn paste(mut self, badge: String) -> Page {
        self.paste = Some(badge);
        self
    }
}

/// How many characters of `<main>`'s text the script reports (all of it for a pasted badge, whose
/// conformance warning comes after the badge and the checks).
const MAIN_TEXT: u64 = 400;
const MAIN_TEXT_ALL: u64 = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_public_page_fits_small_screens_and_passes_axe_in_chromium() {
    if tools_or_skip("public_pages_browser").is_none() {
        return;
    }
    let logo_host = Server::new().await;
    let s = institution(&logo_host).await;

    // first, so that its two seconds pass while the rest is set up
    let until = chrono::Utc::now() + chrono::Duration::seconds(2);
    let mut body = lea();
    body["valid_until"] = until.to_rfc3339().into();
    let r = s.post_award(Some(TOKEN), body.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let expired = r.json();

    let valid = s.issue().await;
    let revoked = s.issue().await;
    s.revoke(&revoked, "Donné par erreur").await;
    let credential = |award: &Value| {
        award["credential_id"]
            .as_str()
            .expect("a credential id")
            .to_string()
    };
    let ob2 = |award: &Value| {
        award["ob2"]["assertion"]
            .as_str()
            .expect("an OB 2.0 assertion (the issuer has an email)")
            .to_string()
    };
    assert_eq!(s.get_html(&ob2(&revoked)).await.status, 410);
    let unknown_badge = format!("/credentials/{}", uuid::Uuid::new_v4());

    // the pasted badge must be what this test says it is
    let deviating = deviating_credential(&s);
    let report = s.verify(JSON, deviating.clone().into_bytes(), None).await;
    assert_eq!(report["verdict"], "valid", "{report}");
    assert!(
        report["checks"].as_array().is_some_and(|c| c
            .iter()
            .any(|c| c["status"] == "warn" && c["section"] == "conformance")),
        "no conformance warning: {report}"
    );

    let verify_link = |url: &str| format!("/verify?url={}", query_value(url));
    let pages = vec![
        Page::new("home", "/", 200),
        Page::new("issuer", "/issuers/ime", 200),
        Page::new("badge-class", format!("/badge-classes/{CLASS}"), 200),
        Page::new("not-found", "/no/such/page", 404),
        Page::new("unknown-badge", unknown_badge, 404),
        // the OB 2.0 assertion of a withdrawn award, opened in a browser
        Page::new("withdrawn-ob2", s.url(&ob2(&revoked)), 410),
        // a badge's own page
        Page::new("badge-valid", s.url(&credential(&valid)), 200)
            .starts("✔ Ce badge est valable.", "✔ This badge is valid."),
        Page::new("badge-withdrawn", s.url(&credential(&revoked)), 200).starts(
            "✘ Ce badge a été retiré par",
            "✘ This badge was withdrawn by",
        ),
        Page::new("badge-expired", s.url(&credential(&expired)), 200).starts(
            "✘ Ce badge n'est plus valable depuis le",
            "✘ This badge is no longer valid since",
        ),
        // the verifier: its form, and its answers
        Page::new("verify-form", "/verify", 200),
        Page::new("verify-valid", verify_link(&credential(&valid)), 200)
            .says("Ce badge est authentique.", "This badge is authentic."),
        Page::new("verify-withdrawn", verify_link(&credential(&revoked)), 200)
            .says("Ce badge a été retiré par", "This badge was withdrawn by"),
        Page::new("verify-ob2", verify_link(&ob2(&valid)), 200)
            .says("Ce badge est authentique.", "This badge is authentic."),
        // pasted in the form: the answer to a POST
        Page::new("verify-deviation", "/verify", 200)
            .paste(deviating)
            .says("Ce badge est authentique.", "This badge is authentic.")
            .says(
                "ne suit pas exactement la norme Open Badges 3.0",
                "does not follow the Open Badges 3.0 standard exactly",
            ),
        Page::new(
            "verify-unreachable",
            verify_link("http://127.0.0.1:1/nothing"),
            200,
        )
        .says(
            "Nous n'avons pas pu tout vérifier.",
            "We could not check everything.",
        ),
    ];
    let mut list = vec![];
    for page in &pages {
        for lang in ["fr", "en"] {
            let url = s.url(&page.path);
            let sep = if url.contains('?') { '&' } else { '?' };
            let mut view = json!({"name": format!("{}-{lang}", page.name), "url": format!("{url}{sep}lang={lang}")});
            if let Some(badge) = &page.paste {
                view["fill"] = json!({"#badge": badge});
                view["submit"] = json!("main form button[type=submit]");
                view["main_text"] = json!(MAIN_TEXT_ALL);
            }
            list.push(view);
        }
    }
    let wait = until - chrono::Utc::now() + chrono::Duration::milliseconds(500);
    if let Ok(wait) = wait.to_std() {
        tokio::time::sleep(wait).await;
    }

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("public_pages_browser");
    let input = json!({
        "pages": list,
        "widths": WIDTHS,
        "main_text": MAIN_TEXT,
        "parallel": 2,
        "screenshots": shots.display().to_string(),
    });
    let run = tokio::task::spawn_blocking(move || {
        run_node(
            "public_pages_check.mjs",
            &[input.to_string()],
            BROWSER_TIMEOUT,
        )
    })
    .await
    .expect("node task");
    assert_eq!(run.code, 0, "{}", run.describe());
    let report = run.json_line();
    assert!(report.is_object(), "no JSON line: {}", run.describe());
    // kept with the screenshots: every view's measures, for whoever fixes a page
    std::fs::write(shots.join("report.json"), report.to_string()).expect("report.json");
    let _ = std::io::stderr().write_all(
        format!(
            "public_pages_browser: {}, axe-core {}: {} page views in {:.1?}; screenshots and \
             report.json in {}\n",
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
    // every defect of every view, then one failure that lists them all
    let mut defects: Vec<String> = vec![];
    for page in &pages {
        for (l, lang) in ["fr", "en"].into_iter().enumerate() {
            for width in WIDTHS {
                let name = format!("{}-{lang}", page.name);
                let r = results
                    .iter()
                    .find(|r| r["name"] == name && r["width"] == width)
                    .unwrap_or_else(|| panic!("no {name} at {width} px: {report}"));
                let what = format!("{name} at {width} px ({})", r["url"].as_str().unwrap_or(""));
                let mut defect = |d: String| defects.push(format!("{what}: {d}"));
                if r["status"] != page.status {
                    defect(format!("status {} instead of {}", r["status"], page.status));
                }
                if r["html_lang"] != lang {
                    defect(format!("<html lang={}>", r["html_lang"]));
                }
                if r["has_main"] != true {
                    defect("not exactly one <main>".into());
                }
                if r["h1"].as_array().map(Vec::len) != Some(1) {
                    defect(format!("not one <h1>: {}", r["h1"]));
                }
                if r["passes"].as_u64().is_none_or(|n| n < 10) {
                    defect(format!("axe-core checked too little: {}", r["passes"]));
                }
                let violations = r["violations"].as_array().expect("violations");
                if !violations.is_empty() {
                    defect(format!(
                        "axe-core violations: {}",
                        serde_json::to_string_pretty(violations).unwrap()
                    ));
                }
                let scroll = r["scroll_width"].as_u64().expect("scroll_width");
                let inner = r["inner_width"].as_u64().expect("inner_width");
                if scroll > inner {
                    defect(format!(
                        "sideways scrolling ({scroll} > {inner} px), too wide: {}",
                        r["wide"]
                    ));
                }
                let text = r["main_text"]
                    .as_str()
                    .unwrap_or("")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                // a shorter quote in the failure; report.json has all of it
                let shown = cut(&text, 200);
                if let Some(starts) = page.starts
                    && !text.starts_with(starts[l])
                {
                    defect(format!(
                        "<main> does not start with {:?}: {shown:?}",
                        starts[l]
                    ));
                }
                for says in &page.says {
                    if !text.contains(says[l]) {
                        defect(format!("<main> does not say {:?}: {shown:?}", says[l]));
                    }
                }
            }
        }
    }
    assert!(
        defects.is_empty(),
        "{} defects:\n{}",
        defects.len(),
        defects.join("\n")
    );
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
    assert_eq!(h1("withdrawn-ob2-fr"), "Ce badge a été retiré.");
    assert_eq!(h1("withdrawn-ob2-en"), "This badge was withdrawn.");
    assert_eq!(report["problems"], json!([]), "{report}");
    assert_eq!(report["ok"], true, "{report}");
    s.shutdown().await;
    logo_host.shutdown().await;
}
