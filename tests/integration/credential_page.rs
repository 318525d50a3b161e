//! A badge's own page (`/credentials/{id}` in a browser) tells the truth: its first sentence is
//! its state now, read from the store (valid, withdrawn with its date and reason, no longer valid
//! since …), in French and English; it links to the verifier, the badge class and the issuer; it
//! previews well when shared (Open Graph); its images are cacheable, the page itself is not.

use crate::common;

use common::server::*;

/// The text of `<main>` up to its first sentence's end: what a person reads first.
fn first_words(html: &str) -> String {
    let main = &html[html.find("<main").expect("a main landmark")..];
    let text: String = {
        let mut out = String::new();
        let mut tag = false;
        for c in main.chars() {
            match c {
                '<' => tag = true,
                '>' => {
                    tag = false;
                    out.push(' ');
                }
                c if !tag => out.push(c),
                _ => {}
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    text.chars().take(160).collect()
}

async fn page(s: &Server, award: &serde_json::Value, lang: &str) -> (Resp, String) {
    let url = format!("{}?lang={lang}", award["credential_id"].as_str().unwrap());
    let r = s.get_html(&url).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    (r, html)
}

#[tokio::test]
async fn a_valid_badge_says_so_first_and_links_to_its_verification() {
    let s = Server::new().await;
    let award = s.issue().await;
    let credential = award["credential_id"].as_str().unwrap();
    let (r, html) = page(&s, &award, "fr").await;
    assert!(
        first_words(&html).starts_with("✔ Ce badge est valable."),
        "{}",
        first_words(&html)
    );
    assert!(
        html.contains("Il a été donné à Léa par IME Les Tilleuls le"),
        "{html}"
    );
    assert!(
        html.contains("/verify?url=http%3A%2F%2F127.0.0.1"),
        "{html}"
    );
    // in the language of the page
    assert!(html.contains("href=\"/badge-classes/securite-hygiene-au-travail?lang=fr\""));
    assert!(html.contains("href=\"/issuers/"));
    // a shared link previews the badge
    assert!(html.contains(&format!(
        "<meta property=\"og:image\" content=\"{credential}.png\">"
    )));
    assert!(
        html.contains("<meta property=\"og:title\" content=\"Sécurité et hygiène au travail\">")
    );
    assert!(!html.contains("lea@example.org"), "no clear email");
    assert_eq!(r.header("cache-control"), "no-cache");
    assert!(r.header("vary").contains("Accept"));
    let (_, en) = page(&s, &award, "en").await;
    assert!(
        first_words(&en).starts_with("✔ This badge is valid."),
        "{}",
        first_words(&en)
    );
    assert!(en.contains("<html lang=\"en\">"));

    // the images are cacheable and revalidated by their ETag
    let png = s.get(award["urls"]["png"].as_str().unwrap()).await;
    assert_eq!(png.status, 200);
    assert_eq!(png.header("cache-control"), "public, max-age=3600");
    let etag = png.header("etag").to_string();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let again = s
        .request(
            None,
            award["urls"]["png"].as_str().unwrap(),
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    s.shutdown().await;
}

#[tokio::test]
async fn a_withdrawn_badge_says_so_in_its_first_sentence() {
    let s = Server::new().await;
    let award = s.issue().await;
    s.revoke(&award, "Donné par erreur").await;
    let (_, html) = page(&s, &award, "fr").await;
    let first = first_words(&html);
    assert!(
        first.starts_with("✘ Ce badge a été retiré par IME Les Tilleuls le "),
        "{first}"
    );
    assert!(
        html.contains("Il n&#39;est plus valable.") || html.contains("Il n'est plus valable."),
        "{html}"
    );
    assert!(html.contains("La raison\u{a0}: Donné par erreur"), "{html}");
    assert!(html.contains("verdict-invalid"));
    let (_, en) = page(&s, &award, "en").await;
    assert!(
        first_words(&en).starts_with("✘ This badge was withdrawn by IME Les Tilleuls on "),
        "{}",
        first_words(&en)
    );
    s.shutdown().await;
}

#[tokio::test]
async fn an_expired_badge_says_since_when() {
    let s = Server::new().await;
    let until = chrono::Utc::now() + chrono::Duration::seconds(2);
    let mut body = lea();
    body["valid_until"] = until.to_rfc3339().into();
    let r = s.post_award(Some(TOKEN), body.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let award = r.json();
    let (_, html) = page(&s, &award, "fr").await;
    assert!(first_words(&html).starts_with("✔ Ce badge est valable."));
    assert!(
        html.contains("Il est valable jusqu&#39;au") || html.contains("Il est valable jusqu'au"),
        "{html}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (_, html) = page(&s, &award, "fr").await;
    let first = first_words(&html);
    assert!(
        first.starts_with("✘ Ce badge n'est plus valable depuis le ")
            || first.starts_with("✘ Ce badge n&#39;est plus valable depuis le "),
        "{first}"
    );
    assert!(!html.contains("valable jusqu"), "{html}");
    let (_, en) = page(&s, &award, "en").await;
    assert!(
        first_words(&en).starts_with("✘ This badge is no longer valid since "),
        "{}",
        first_words(&en)
    );
    s.shutdown().await;
}
