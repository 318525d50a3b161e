//! The page shell every HTML page is built in: `templates/layout.html` (the institution's name,
//! the language switch, `<main>`, a footer; one stylesheet, `templates/carnet.css`, sent inline)
//! and what it needs from the request ([`PageRequest`]: the visitor's language and the address).
//! Plain, large, high-contrast, French first; no JavaScript.
//!
//! A page is an askama template that extends `layout.html` and holds a [`Shell`] named `shell`:
//!
//! ```ignore
//! #[derive(askama::Template)]
//! #[template(path = "home.html")] // {% extends "layout.html" %}{% block content %}…{% endblock %}
//! struct HomePage { shell: Shell, … }
//!
//! async fn home(State(s): State<HttpState>, page: PageRequest) -> Response {
//!     let shell = page.shell(&s, page.lang.msg("home.title"));
//!     render(StatusCode::OK, &HomePage { shell, … })
//! }
//! ```
//!
//! In the template, `{{ shell.t("home.title") }}` is a message of the visitor's catalogue
//! (`super::i18n`), `{{ shell.href("/verify") }}` a link that keeps the language. Values are
//! escaped by askama; `|safe` only for HTML made here (`markdown`, which escapes with `escape`).

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

use super::i18n::Lang;
use super::{AppError, HttpState};

/// The stylesheet of every page in the shell.
const CSS: &str = include_str!("../../templates/carnet.css");

/// What a page needs from its request: the visitor's language (`?lang=`, then `Accept-Language`,
/// else French) and the address, to link to the same page in the other language. An extractor
/// that never fails.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub lang: Lang,
    path: String,
    /// The query without `lang`, as sent (still percent-encoded).
    query: Vec<String>,
}

impl PageRequest {
    pub fn from_parts(parts: &Parts) -> PageRequest {
        PageRequest::new(&parts.uri, &parts.headers)
    }

    pub fn new(uri: &Uri, headers: &HeaderMap) -> PageRequest {
        let mut lang = None;
        let mut query = vec![];
        for pair in uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
        {
            match pair.strip_prefix("lang=") {
                Some(code) => lang = lang.or(Lang::parse(code)),
                None if pair == "lang" => {}
                None => query.push(pair.to_string()),
            }
        }
        // `//host/…` (or `/\host`) would link to another site: such a page links to `/`
        let path = uri.path();
        let path = match path.as_bytes() {
            [b'/', b'/' | b'\\', ..] => "/",
            _ => path,
        };
        PageRequest {
            lang: lang.unwrap_or_else(|| Lang::pick(None, headers)),
            path: path.to_string(),
            query,
        }
    }

    /// The shell of a page titled `title`, for the institution this server speaks for.
    pub fn shell(&self, s: &HttpState, title: impl Into<String>) -> Shell {
        self.shell_for(&Site::of(s), title)
    }

    /// The shell of a page titled `title` on `site`.
    pub fn shell_for(&self, site: &Site, title: impl Into<String>) -> Shell {
        Shell {
            lang: self.lang,
            title: title.into(),
            institution: site.institution.clone(),
            issuer_path: site.issuer_path.clone(),
            request: self.clone(),
        }
    }
}

/// Who the pages speak for: what the shell shows of the institution.
#[derive(Debug, Clone)]
pub struct Site {
    pub institution: String,
    /// The institution's page, `/issuers/{slug}`.
    pub issuer_path: String,
}

impl Site {
    pub fn of(s: &HttpState) -> Site {
        let issuer = &s.app.issuer;
        Site {
            institution: issuer.settings.name.clone(),
            issuer_path: format!("/issuers/{}", issuer.slug()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageRequest {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PageRequest::from_parts(parts))
    }
}

/// What `templates/layout.html` shows around a page: the `<title>`, the institution's name
/// (linked to `/`), the language switch and the footer.
#[derive(Debug, Clone)]
pub struct Shell {
    pub lang: Lang,
    /// The page's own title; `<title>` adds the institution's name.
    pub title: String,
    pub institution: String,
    /// The institution's page, `/issuers/{slug}`.
    pub issuer_path: String,
    request: PageRequest,
}

impl Shell {
    /// The message `key` in the visitor's language.
    pub fn t<'k>(&self, key: &'k str) -> &'k str {
        self.lang.msg(key)
    }

    /// A link to another page of this site that keeps the visitor's language.
    pub fn href(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}lang={}", self.lang.code())
    }

    /// This very page in `lang` (its other query parameters kept).
    pub fn switch_href(&self, lang: Lang) -> String {
        let mut query = self.request.query.clone();
        query.push(format!("lang={}", lang.code()));
        format!("{}?{}", self.request.path, query.join("&"))
    }

    /// The language switch: each language, a link to this page in it, and whether it is the
    /// page's.
    pub fn languages(&self) -> Vec<LanguageLink> {
        Lang::ALL
            .iter()
            .map(|&lang| LanguageLink {
                code: lang.code(),
                name: lang.name(),
                href: self.switch_href(lang),
                current: lang == self.lang,
            })
            .collect()
    }

    pub fn css(&self) -> &'static str {
        CSS
    }
}

/// One link of the language switch.
#[derive(Debug, Clone)]
pub struct LanguageLink {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

/// A page as a response (`text/html; charset=utf-8`); a template that fails to render is a 500.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut resp = (status, Html(html)).into_response();
            // the pages change with the visitor's language
            resp.headers_mut().insert(
                header::VARY,
                HeaderValue::from_static("Accept, Accept-Language"),
            );
            resp
        }
        Err(e) => AppError::internal(format!("page template: {e}")).into_response(),
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A tiny, safe subset of Markdown: paragraphs and `-` lists (nested by indentation are flattened).
pub fn markdown(md: &str) -> String {
    let mut out = String::new();
    let mut in_list = false;
    let mut para = Vec::new();
    let flush = |para: &mut Vec<String>, out: &mut String| {
        if !para.is_empty() {
            out.push_str(&format!("<p>{}</p>", para.join(" ")));
            para.clear();
        }
    };
    for line in md.lines() {
        let t = line.trim();
        if let Some(item) = t.strip_prefix("- ") {
            flush(&mut para, &mut out);
            if !in_list {
                out.push_str("<ul>");
                in_list = true;
            }
            out.push_str(&format!("<li>{}</li>", escape(item)));
        } else if t.is_empty() {
            flush(&mut para, &mut out);
            if in_list {
                out.push_str("</ul>");
                in_list = false;
            }
        } else if in_list {
            // continuation of the previous item
            if out.ends_with("</li>") {
                out.truncate(out.len() - "</li>".len());
                out.push_str(&format!(" {}</li>", escape(t)));
            }
        } else {
            para.push(escape(t));
        }
    }
    flush(&mut para, &mut out);
    if in_list {
        out.push_str("</ul>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(uri: &str, accept_language: Option<&str>) -> Shell {
        let mut headers = HeaderMap::new();
        if let Some(l) = accept_language {
            headers.insert(header::ACCEPT_LANGUAGE, l.parse().unwrap());
        }
        let site = Site {
            institution: "IME".into(),
            issuer_path: "/issuers/ime".into(),
        };
        PageRequest::new(&uri.parse().unwrap(), &headers).shell_for(&site, "Titre")
    }

    #[test]
    fn the_language_switch_keeps_the_page_and_its_other_parameters() {
        let s = shell("/verify?url=https%3A%2F%2Fx.example&lang=en", None);
        assert_eq!(s.lang, Lang::En);
        assert_eq!(
            s.switch_href(Lang::Fr),
            "/verify?url=https%3A%2F%2Fx.example&lang=fr"
        );
        assert_eq!(s.href("/"), "/?lang=en");
        assert_eq!(s.href("/verify?url=x"), "/verify?url=x&lang=en");
        let links = s.languages();
        assert_eq!(links.len(), 2);
        assert!(links[1].current && !links[0].current);
        // the language from the browser when the address names none
        let s = shell("/issuers/ime", Some("en-GB"));
        assert_eq!(s.lang, Lang::En);
        assert_eq!(s.switch_href(Lang::Fr), "/issuers/ime?lang=fr");
        assert_eq!(shell("/?lang=de", None).lang, Lang::Fr);
        // never a link to another site
        assert_eq!(
            shell("//evil.example/x", None).switch_href(Lang::En),
            "/?lang=en"
        );
        assert_eq!(
            shell("/\\evil.example", None).switch_href(Lang::En),
            "/?lang=en"
        );
    }

    #[test]
    fn escapes_and_renders_lists() {
        assert_eq!(
            escape("<a href=\"x\">'&'"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;"
        );
        let html = markdown("Intro <b>\n\n- one\n  more\n- two\n\nEnd");
        assert_eq!(
            html,
            "<p>Intro &lt;b&gt;</p><ul><li>one more</li><li>two</li></ul><p>End</p>"
        );
    }
}
