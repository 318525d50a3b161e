//! One verification run: the documents fetched so far (each URL once), the checks found, and the
//! steps that read a linked node (validator-core `FETCH_HTTP_NODE`, `INTAKE_JSON`, the upgrades and
//! `DETECT_AND_VALIDATE_NODE_CLASS`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::classes::{self, Class};
use super::context::{self, Terms, Version};
use super::finding::Finding;
use super::source::{Body, DocumentSource, Fetched, SourceError};
use super::upgrade::upgrade;
use super::values::{self, show};
use super::{DOCUMENT, ENDORSEMENT};
use crate::verify::report::{Check, Status, check_id as id};

/// A node read from its site or from the document embedding it, in the 2.0 shape.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    /// Where it was fetched from (`None`: embedded).
    pub url: Option<String>,
    pub terms: Terms,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.value.get(key)
    }

    pub fn id(&self) -> Option<&str> {
        self.value.get("id").and_then(Value::as_str)
    }
}

pub struct Run<'a> {
    source: &'a dyn DocumentSource,
    cache: HashMap<String, Result<Fetched, SourceError>>,
    checks: Vec<Check>,
    pub now: DateTime<Utc>,
    /// While checking endorsements: problems are reported as warnings (they do not make the badge
    /// invalid, as in validator-core where a withdrawn endorsement does not disrupt verification).
    pub soft: bool,
}

impl<'a> Run<'a> {
    pub fn new(source: &'a dyn DocumentSource, now: DateTime<Utc>) -> Self {
        Self {
            source,
            cache: HashMap::new(),
            checks: Vec::new(),
            now,
            soft: false,
        }
    }

    pub fn push(&mut self, mut check: Check) {
        if self.soft {
            if matches!(check.status, Status::Fail | Status::Unknown) {
                check.status = Status::Warn;
            }
            if check.status != Status::Pass {
                check.id = ENDORSEMENT;
            } else {
                return; // an endorsement's passing details would only add noise
            }
        }
        self.checks.push(check);
    }

    pub fn push_findings(&mut self, findings: Vec<Finding>, check_id: &'static str) {
        for f in findings {
            self.push(f.into_check(check_id));
        }
    }

    pub fn into_checks(self) -> Vec<Check> {
        self.checks
    }

    /// How many checks so far have this id and status.
    pub fn count(&self, check_id: &str, status: Status) -> usize {
        self.checks
            .iter()
            .filter(|c| c.id == check_id && c.status == status)
            .count()
    }

    /// GET `url` through the source, once per run.
    pub async fn get(&mut self, url: &str) -> Result<Fetched, SourceError> {
        if let Some(answer) = self.cache.get(url) {
            return answer.clone();
        }
        let answer = self.source.get(url).await;
        self.cache.insert(url.to_string(), answer.clone());
        answer
    }

    /// Resolves a reference to a node of `class`: fetches an IRI, or takes an embedded object.
    /// On failure, returns the check that says why (the caller reports it, possibly re-labelled).
    pub async fn node(
        &mut self,
        reference: &Value,
        class: Class,
        path: &str,
    ) -> Result<Node, Check> {
        let (fr_what, en_what) = class.names();
        let url = match reference {
            Value::Object(_) => {
                return Ok(Node {
                    value: upgrade(reference.clone(), None, Some(class)).doc,
                    url: None,
                    terms: Terms::default(),
                });
            }
            Value::String(s) if values::is_url(s) => s.clone(),
            other => {
                return Err(Check::fail(
                    DOCUMENT,
                    format!(
                        "{fr_what} ({}) ne peut pas être obtenu(e) : ce n'est pas une adresse web.",
                        show(other)
                    ),
                    format!(
                        "{en_what} ({}) cannot be obtained: it is not a web address.",
                        show(other)
                    ),
                )
                .at(path));
            }
        };
        let fetched = match self.get(&url).await {
            Ok(f) => f,
            Err(e) => return Err(unreachable_check(fr_what, en_what, &url, &e.0).at(path)),
        };
        if !fetched.is_success() {
            return Err(status_check(fr_what, en_what, &url, fetched.status).at(path));
        }
        match fetched.body {
            Body::Json(v) if v.is_object() => Ok(self.intake(v, Some(&url), Some(class), path)),
            _ => Err(Check::fail(
                DOCUMENT,
                format!("{fr_what} ({url}) n'est pas un document JSON."),
                format!("{en_what} ({url}) is not a JSON document."),
            )
            .at(path)),
        }
    }

    /// Reads a document: its context and version, the upgrade to 2.0, whether it says it lives
    /// where it was found, and properties its context does not define.
    pub fn intake(
        &mut self,
        value: Value,
        url: Option<&str>,
        class: Option<Class>,
        path: &str,
    ) -> Node {
        let mut findings = Vec::new();
        let version = context::version_of(&value);
        let terms = match version {
            Version::V2 => context::check(value.get("@context"), false, &mut findings),
            Version::V1_1 | Version::V1_0 => {
                findings.push(Finding::warn(
                    "@context",
                    "Document au format Open Badges 1.x, relu au format 2.0 pour être vérifié.",
                    "Open Badges 1.x document, read in the 2.0 form to be checked.",
                ));
                Terms::default()
            }
            Version::Other => {
                let ctx = value.get("@context").map(show).unwrap_or_default();
                findings.push(Finding::fail(
                    "@context",
                    format!(
                        "Le contexte n'est pas celui d'Open Badges 2.0 ({}) : {ctx}.",
                        context::OB2_CONTEXT
                    ),
                    format!(
                        "The context is not the Open Badges 2.0 one ({}): {ctx}.",
                        context::OB2_CONTEXT
                    ),
                ));
                Terms::default()
            }
        };
        let prefix = path.to_string();
        let findings = findings.into_iter().map(|f| f.under(&prefix)).collect();
        self.push_findings(findings, id::CONTEXT);
        let doc = upgrade(value, url, class).doc;
        if let (Some(url), Some(declared)) = (url, doc.get("id").and_then(Value::as_str))
            && declared != url
        {
            self.push(
                Check::warn(
                    DOCUMENT,
                    format!("Le document obtenu à l'adresse {url} se présente sous une autre adresse : {declared}."),
                    format!("The document obtained at {url} gives another address as its id: {declared}."),
                )
                .at(path),
            );
        }
        let undefined = context::undefined_terms(&doc, &terms);
        if !undefined.is_empty() && version == Version::V2 {
            let list = undefined.join(", ");
            self.push(
                Check::warn(
                    id::JSONLD,
                    format!("Ces propriétés ne sont pas définies par le contexte et seront ignorées : {list}."),
                    format!("These properties are not defined by the context and will be ignored: {list}."),
                )
                .at(path),
            );
        }
        Node {
            value: doc,
            url: url.map(str::to_string),
            terms,
        }
    }

    /// Validates `node` as `class` and reports the findings as conformance checks (one pass
    /// check when all is well). Returns whether it passed.
    pub fn validate(&mut self, node: &Node, class: Class, path: &str) -> bool {
        let mut findings = Vec::new();
        classes::validate(&node.value, class, &node.terms, path, &mut findings);
        let ok = !findings.iter().any(|f| f.status == Status::Fail);
        self.push_findings(findings, id::CONFORMANCE);
        if ok {
            let (fr, en) = class.names();
            let check = Check::pass(
                id::CONFORMANCE,
                format!("{} respecte le modèle Open Badges 2.0.", capitalise(fr)),
                format!("{} follows the Open Badges 2.0 data model.", capitalise(en)),
            );
            self.push(if path.is_empty() {
                check
            } else {
                check.at(path)
            });
        }
        ok
    }
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

pub fn unreachable_check(fr_what: &str, en_what: &str, url: &str, why: &str) -> Check {
    Check::unknown(
        DOCUMENT,
        format!("Impossible d'obtenir {fr_what} ({url}) : le site n'a pas répondu ({why})."),
        format!("Could not obtain {en_what} ({url}): the site did not answer ({why})."),
    )
}

pub fn status_check(fr_what: &str, en_what: &str, url: &str, status: u16) -> Check {
    match status {
        404 => Check::fail(
            DOCUMENT,
            format!(
                "{} n'existe pas à l'adresse {url} (erreur 404).",
                capitalise(fr_what)
            ),
            format!(
                "{} does not exist at {url} (error 404).",
                capitalise(en_what)
            ),
        ),
        500.. => Check::unknown(
            DOCUMENT,
            format!(
                "Le site de {fr_what} ({url}) est en panne (erreur {status}) : réessayez plus tard."
            ),
            format!("The site of {en_what} ({url}) is failing (error {status}): try again later."),
        ),
        _ => Check::fail(
            DOCUMENT,
            format!(
                "{} ({url}) n'est pas disponible (erreur {status}).",
                capitalise(fr_what)
            ),
            format!(
                "{} ({url}) is not available (error {status}).",
                capitalise(en_what)
            ),
        ),
    }
}
