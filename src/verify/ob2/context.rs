//! The `@context` of an OB 2.0 document and the terms it defines (CHECKLIST §1, §3 step 3).
//!
//! carnet does not run JSON-LD compaction (validator-core compacts every node into the v2 context):
//! it reads documents by property name, which is the same thing as long as the document's context is
//! the OB 2.0 one. So the check is strict about that: the first context must be
//! `https://w3id.org/openbadges/v2` (or a copy of it written inline, as some 1EdTech samples do), no
//! context may redefine an OB 2.0 term, and a further context carnet does not ship makes the result
//! "could not check" (contexts are never fetched).

use std::collections::{BTreeSet, HashSet};
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::finding::Finding;
use crate::verify::report::Status;

pub const OB2_CONTEXT: &str = "https://w3id.org/openbadges/v2";
/// The same document under its older address (1EdTech's validator ships it under both).
const OB2_CONTEXT_ALIAS: &str = "https://openbadgespec.org/v2/context.json";
pub const OB1_CONTEXTS: [&str; 2] = [
    "https://w3id.org/openbadges/v1",
    "https://openbadgespec.org/v1/context.json",
];

/// Terms whose definition differs between published copies of the v2 context: the 2020 fix maps
/// `targetFramework` to `schema:educationalFramework` (see `data/SOURCES.md`).
const TOLERATED_REDEFINITIONS: [&str; 1] = ["targetFramework"];

/// The term definitions of the shipped OB 2.0 context.
fn v2_terms() -> &'static Map<String, Value> {
    static TERMS: OnceLock<Map<String, Value>> = OnceLock::new();
    TERMS.get_or_init(|| {
        let text =
            crate::jsonld::known_context(OB2_CONTEXT).expect("carnet ships the OB 2.0 context");
        let doc: Value = serde_json::from_str(text).expect("the shipped OB 2.0 context is JSON");
        doc.get("@context")
            .and_then(Value::as_object)
            .cloned()
            .expect("the OB 2.0 context has an @context object")
    })
}

pub fn is_v2_term(term: &str) -> bool {
    v2_terms().contains_key(term)
}

/// Which Open Badges version a document's `@context` announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2,
    V1_1,
    /// No `@context`: OB 1.0 (or the 0.5 form, told apart by the upgrade).
    V1_0,
    /// Some other context: not an Open Badges 2.0 document.
    Other,
}

/// Terms a document may use: the OB 2.0 ones plus those its inline contexts add.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    extra: HashSet<String>,
}

impl Terms {
    pub fn defines(&self, term: &str) -> bool {
        is_v2_term(term) || self.extra.contains(term)
    }

    /// A valid `type` value: a defined term, or an (absolute or compact) IRI.
    pub fn is_rdf_type(&self, value: &str) -> bool {
        !value.is_empty() && (self.defines(value) || super::values::is_iri(value))
    }
}

pub fn version_of(doc: &Value) -> Version {
    let Some(ctx) = doc.get("@context") else {
        return Version::V1_0;
    };
    let first = match ctx {
        Value::Array(a) => a.first(),
        other => Some(other),
    };
    match first {
        Some(Value::String(s)) if s == OB2_CONTEXT || s == OB2_CONTEXT_ALIAS => Version::V2,
        Some(Value::String(s)) if OB1_CONTEXTS.contains(&s.as_str()) => Version::V1_1,
        Some(Value::Object(o)) if inline_is_v2(o) => Version::V2,
        _ => Version::Other,
    }
}

/// An inline context object is the OB 2.0 context written out if it defines the `obi` prefix
/// and the class names as the v2 context does.
fn inline_is_v2(o: &Map<String, Value>) -> bool {
    ["obi", "Assertion", "BadgeClass", "Profile"]
        .iter()
        .all(|t| o.get(*t).is_some_and(|v| v2_terms().get(*t) == Some(v)))
}

/// Checks a v2 document's `@context` (the caller has already told the version apart) and returns
/// the terms it may use. `node_level` is for a context inside the document (an extension's).
pub fn check(ctx: Option<&Value>, node_level: bool, out: &mut Vec<Finding>) -> Terms {
    let mut terms = Terms::default();
    let Some(ctx) = ctx else {
        return terms;
    };
    let items: Vec<&Value> = match ctx {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut unknown = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(s) if s == OB2_CONTEXT || s == OB2_CONTEXT_ALIAS => {}
            Value::String(s) if i == 0 && !node_level => out.push(Finding::new(
                Status::Fail,
                "@context",
                format!("Le contexte doit être celui d'Open Badges 2.0 ({OB2_CONTEXT}), pas {s}."),
                format!("The context must be the Open Badges 2.0 one ({OB2_CONTEXT}), not {s}."),
            )),
            Value::String(s) if crate::jsonld::known_context(s).is_none() => {
                unknown.insert(s.clone());
            }
            Value::String(_) => {}
            Value::Object(o) => inline_terms(o, &mut terms, out),
            other => out.push(Finding::new(
                Status::Fail,
                "@context",
                format!(
                    "Valeur de contexte incompréhensible : {}.",
                    super::values::show(other)
                ),
                format!("Unreadable context value: {}.", super::values::show(other)),
            )),
        }
    }
    for url in unknown {
        let (status, fr, en) = if node_level {
            (
                Status::Warn,
                format!(
                    "L'extension utilise le contexte {url}, que carnet ne connaît pas : elle n'a pas été vérifiée."
                ),
                format!(
                    "The extension uses the context {url}, which carnet does not know: it was not checked."
                ),
            )
        } else {
            (
                Status::Unknown,
                format!(
                    "Le contexte {url} est inconnu de carnet (il n'est jamais téléchargé) : les termes qu'il définit n'ont pas pu être vérifiés."
                ),
                format!(
                    "The context {url} is unknown to carnet (contexts are never downloaded): the terms it defines could not be checked."
                ),
            )
        };
        out.push(Finding::new(status, "@context", fr, en));
    }
    terms
}

fn inline_terms(o: &Map<String, Value>, terms: &mut Terms, out: &mut Vec<Finding>) {
    for (k, v) in o {
        match v2_terms().get(k) {
            Some(def) if def != v && !TOLERATED_REDEFINITIONS.contains(&k.as_str()) => {
                out.push(Finding::new(
                    Status::Fail,
                    "@context",
                    format!("Le contexte redéfinit le terme Open Badges « {k} » : le document ne se lit plus comme un badge 2.0."),
                    format!("The context redefines the Open Badges term \"{k}\": the document no longer reads as a 2.0 badge."),
                ));
            }
            Some(_) => {}
            None => {
                terms.extra.insert(k.clone());
            }
        }
    }
}

/// Top-level properties the contexts do not define (JSON-LD processing would drop them).
pub fn undefined_terms(doc: &Value, terms: &Terms) -> Vec<String> {
    doc.as_object()
        .map(|o| {
            o.keys()
                .filter(|k| !k.starts_with('@') && !k.contains(':') && !terms.defines(k))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions() {
        assert_eq!(version_of(&json!({"@context": OB2_CONTEXT})), Version::V2);
        assert_eq!(
            version_of(&json!({"@context": [OB2_CONTEXT, "https://x.example/ctx"]})),
            Version::V2
        );
        assert_eq!(
            version_of(&json!({"@context": "https://w3id.org/openbadges/v1"})),
            Version::V1_1
        );
        assert_eq!(version_of(&json!({"verify": {}})), Version::V1_0);
        assert_eq!(
            version_of(&json!({"@context": "https://w3id.org/openbadges/invalid"})),
            Version::Other
        );
    }

    #[test]
    fn unknown_extra_context_is_unknown_and_redefinition_fails() {
        let mut out = Vec::new();
        check(
            Some(&json!([OB2_CONTEXT, "https://x.example/ctx"])),
            false,
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status, Status::Unknown);
        let mut out = Vec::new();
        check(
            Some(&json!([OB2_CONTEXT, {"badge": "http://evil.example/badge"}])),
            false,
            &mut out,
        );
        assert_eq!(out[0].status, Status::Fail);
    }

    #[test]
    fn types() {
        let t = Terms::default();
        assert!(t.is_rdf_type("Assertion"));
        assert!(t.is_rdf_type("http://example.com/CoolClass"));
        assert!(t.is_rdf_type("extensions:ExampleExtension"));
        assert!(!t.is_rdf_type("NotAKnownClass"));
        assert!(!t.is_rdf_type(""));
    }
}
