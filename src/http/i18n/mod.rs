//! The pages' languages and their words: one message catalogue per language (`fr.toml`,
//! `en.toml`, compiled in and parsed once), and the choice of language for a request (`?lang=`,
//! then `Accept-Language`, else French).
//!
//! A catalogue is a TOML file whose tables group messages by page; a message's key is its dotted
//! path (`[error] not_found = "…"` → `error.not_found`). Both catalogues have the same keys (a
//! test checks it). Placeholders are written `{name}` and filled by [`Lang::fill`].

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::http::{HeaderMap, header};

/// The languages of the pages. French is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    /// Every language, in the order the language switch shows them.
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];

    /// `lang=fr|en` if given; otherwise the browser's first preference if it is English; else French.
    pub fn pick(param: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(lang) = param.and_then(Lang::parse) {
            return lang;
        }
        let first = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if first.starts_with("en") {
            Lang::En
        } else {
            Lang::Fr
        }
    }

    /// `fr` or `en` (surrounding spaces ignored); anything else is `None`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The BCP 47 code, as `<html lang>` wants it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The language's own name, as the language switch shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Fr => "Français",
            Lang::En => "English",
        }
    }

    /// One of two texts written in place (the older pages); new pages use [`Lang::msg`].
    pub fn t<'a>(self, fr: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }

    /// The message `key` of this language's catalogue. An unknown key is answered as itself, so
    /// a mistake shows on the page instead of failing it (a test keeps templates' keys known).
    pub fn msg(self, key: &str) -> &str {
        match CATALOGUES[self as usize].get(key) {
            Some(text) => text.as_str(),
            None => {
                tracing::warn!(key, lang = self.code(), "no such message");
                key
            }
        }
    }

    /// The message `key` with its `{name}` placeholders replaced by `args`.
    pub fn fill(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.msg(key).to_string();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

/// A catalogue: dotted key → text.
type Catalogue = BTreeMap<String, String>;

/// The catalogues, in the order of [`Lang`]'s variants.
static CATALOGUES: LazyLock<[Catalogue; 2]> = LazyLock::new(|| {
    [
        parse_catalogue("fr.toml", include_str!("fr.toml")),
        parse_catalogue("en.toml", include_str!("en.toml")),
    ]
});

/// Reads a catalogue. The files are compiled in and tested, so a broken one is a bug in this
/// build: it is logged and the catalogue keeps what could be read.
fn parse_catalogue(name: &str, text: &str) -> Catalogue {
    let mut out = Catalogue::new();
    match text.parse::<toml::Table>() {
        Ok(table) => flatten("", &table, &mut out),
        Err(e) => tracing::error!("message catalogue {name}: {e}"),
    }
    out
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(name: &str, text: &str) -> Catalogue {
        let table: toml::Table = text
            .parse()
            .unwrap_or_else(|e| panic!("{name} is not TOML: {e}"));
        let mut out = Catalogue::new();
        flatten("", &table, &mut out);
        for (k, v) in &table {
            assert!(v.is_table(), "{name}: top-level {k} is not a table");
        }
        out
    }

    #[test]
    fn both_catalogues_have_the_same_keys_and_no_empty_message() {
        let fr = strict("fr.toml", include_str!("fr.toml"));
        let en = strict("en.toml", include_str!("en.toml"));
        let only_fr: Vec<&String> = fr.keys().filter(|k| !en.contains_key(*k)).collect();
        let only_en: Vec<&String> = en.keys().filter(|k| !fr.contains_key(*k)).collect();
        assert!(only_fr.is_empty(), "only in fr.toml: {only_fr:?}");
        assert!(only_en.is_empty(), "only in en.toml: {only_en:?}");
        for (name, c) in [("fr.toml", &fr), ("en.toml", &en)] {
            assert!(c.len() > 20, "{name}: {} messages", c.len());
            for (k, v) in c {
                assert!(!v.trim().is_empty(), "{name}: {k} is empty");
            }
        }
        // The same placeholders on both sides.
        let holes = |s: &str| {
            let mut h: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                .collect();
            h.sort();
            h
        };
        for (k, v) in &fr {
            assert_eq!(holes(v), holes(&en[k]), "placeholders of {k}");
        }
    }

    #[test]
    fn every_key_the_templates_and_pages_use_is_in_the_catalogue() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = vec![];
        for dir in ["templates", "src/http"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("dir") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == "html" || e == "rs") {
                    sources.push(path);
                }
            }
        }
        let mut used = 0;
        for path in sources {
            let text = std::fs::read_to_string(&path).expect("read");
            // templates: `t("key")`, `fill("key", …)`; Rust: `msg("key")`, `fill("key", …)`,
            // `shell.t("key")` (`lang.t("…", "…")` is a text written in place)
            let calls: &[&str] = if path.extension().is_some_and(|e| e == "html") {
                &["t(\"", "fill(\""]
            } else {
                &["msg(\"", "fill(\"", "shell.t(\""]
            };
            for call in calls {
                for part in text.split(call).skip(1) {
                    let Some((key, _)) = part.split_once('"') else {
                        continue;
                    };
                    used += 1;
                    for lang in Lang::ALL {
                        assert!(
                            CATALOGUES[lang as usize].contains_key(key),
                            "{}: {key} is not in {}.toml",
                            path.display(),
                            lang.code()
                        );
                    }
                }
            }
        }
        assert!(used > 20, "only {used} keys found in use");
    }

    #[test]
    fn picks_the_parameter_then_the_browser_then_french() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::pick(None, &h), Lang::Fr);
        h.insert(
            header::ACCEPT_LANGUAGE,
            "en-GB,en;q=0.9,fr;q=0.5".parse().unwrap(),
        );
        assert_eq!(Lang::pick(None, &h), Lang::En);
        assert_eq!(Lang::pick(Some("fr"), &h), Lang::Fr);
        assert_eq!(Lang::pick(Some("de"), &h), Lang::En);
        h.insert(header::ACCEPT_LANGUAGE, "de-DE,en;q=0.9".parse().unwrap());
        assert_eq!(Lang::pick(None, &h), Lang::Fr);
        assert_eq!(Lang::pick(Some(" en "), &HeaderMap::new()), Lang::En);
    }

    #[test]
    fn fills_placeholders_and_answers_an_unknown_key_as_itself() {
        assert_eq!(Lang::Fr.msg("shell.home"), "Accueil");
        assert_eq!(
            Lang::En.fill("class.rule.level", &[("level", "cercle-2")]),
            ", at least level cercle-2"
        );
        assert_eq!(Lang::Fr.msg("no.such.key"), "no.such.key");
    }
}
