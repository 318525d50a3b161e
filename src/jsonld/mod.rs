//! JSON-LD for Data Integrity proofs: the contexts carnet ships, strict expansion, toRdf, RDFC-1.0.
//!
//! `canonicalize` is the one canonicalisation function: every signer and verifier goes through
//! it, so a faster path can replace it in one place. Contexts are pinned and shipped
//! (`contexts/`, provenance in its README), never fetched; an unknown one makes the verdict
//! `indeterminate`, reported by URL.
//!
//! - Expansion and toRdf: JSON-LD 1.1 Processing Algorithms §5.1 and §6.3, through the `json-ld` crate, with an
//!   offline loader (`contexts`) and a strict policy: a term the contexts do not define (including one that only
//!   the `@vocab` catch-all of VCDM 2.0 would map), an invalid IRI or a malformed language tag is an error. This is
//!   the data-loss detection VC Data Integrity 1.0 §2.4.1 asks for: what is not signed must not pass for signed.
//! - Canonicalisation: W3C RDF Dataset Canonicalization (RDFC-1.0) with SHA-256, implemented in `rdfc` (not with
//!   `oxrdf`: see there why), with a work budget against dataset poisoning (RDFC-1.0 §6.1).
//!
//! Two paths give the same result:
//!
//! - **Fast path** (`fast`), tried first, on the calling thread: expansion and toRdf straight from `serde_json`
//!   to RDF quads, against *compiled* contexts. Each active context met (a top-level or embedded `@context` of
//!   shipped URLs or inline definitions, and every property- or type-scoped context applied to it) is processed
//!   once by the `json-ld` crate itself, so with the same term definitions, protection and propagation rules and
//!   errors, then flattened into a term table; the transitions between contexts are memoised in a bounded
//!   registry. The walk follows the crate's expansion step by step for node and value objects, `@id`, `@type`,
//!   compact IRIs, type coercion (`@id`, `@vocab`, `@json`, datatypes), `@set`, `@list` and `@graph` containers
//!   (a proof goes in a graph of its own), native literals (the crate's number forms included) and
//!   language-tagged strings, then RDFC-1.0 as below. About ten times faster than the slow path on an Open Badge.
//! - **Slow path** (`canonicalize_slow`): the crate's full expansion and toRdf, on a thread with a large stack.
//!
//! The fast path gives up, and the slow path answers with its result or its error, on anything it does not
//! implement (list and set objects, `@graph`, `@included`, `@reverse`, `@nest`, language, index, id or type maps,
//! a context it cannot process or that sets `@base`, inline contexts nested more than 8 levels deep, a blank node
//! identifier as a type, datatype or property...) and on every condition the strict policy turns into an error (an
//! undefined term, one only `@vocab` maps, a relative or invalid IRI, a malformed language tag, a keyword-like or
//! colliding key) or that the crate would silently drop: a fast result is never one the slow path would refuse,
//! and errors keep their messages. Both count the same bounds (`MAX_JSON_DEPTH`,
//! `MAX_JSON_VALUES`, `MAX_CONTEXT_ENTRIES`; the fast path counts conservatively and leaves anything near them to
//! the slow path) and share RDFC-1.0 and its work budget. `fast_tests.rs` checks them against each other on the
//! samples, carnet's documents and thousands of mutated or generated ones.
//!
//! Slow-path performance: processing a top-level `@context` is most of its cost, so the processed context of each
//! list of shipped context URLs is kept (`context_cache`) and reused for every document and proof configuration
//! that names the same list.

mod contexts;
mod fast;
mod rdfc;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context as TaskContext, Poll, Waker};

use json_ld::context_processing::{Options as ProcessingOptions, Process};
use json_ld::expansion::{Action, Error as ExpansionError, Options as ExpansionOptions, Policy};
use json_ld::rdf_types::generator::Blank as BlankGenerator;
use json_ld::syntax::TryFromJson;
use json_ld::{BlankIdBuf, Expand, Id, IriBuf, RdfQuads, ValidId};
use serde_json::Value;

pub use contexts::{known_context, known_context_urls};

/// Why a document could not be canonicalised.
#[derive(Debug, thiserror::Error)]
pub enum CanonError {
    /// A context URL carnet does not ship: reported by URL, never fetched.
    #[error("unknown JSON-LD context {0} (carnet ships its contexts and never fetches one)")]
    UnknownContext(String),
    /// Strict expansion refused a term the document's contexts do not define.
    #[error("term not defined by the document's JSON-LD contexts: {0}")]
    UndefinedTerm(String),
    /// Any other JSON-LD error (invalid IRI, malformed value, invalid context...).
    #[error("invalid JSON-LD: {0}")]
    Invalid(String),
    /// Refused before doing unbounded work (deep nesting, too many nodes, dataset poisoning).
    #[error("document too complex to canonicalize: {0}")]
    TooComplex(String),
}

/// Strict JSON-LD expansion, toRdf, then RDFC-1.0 canonical N-Quads (sorted lines, each ending in `\n`).
///
/// CPU-bound (about a millisecond for a typical badge): call it from `spawn_blocking` in async code.
pub fn canonicalize(doc: &Value) -> Result<String, CanonError> {
    match fast::canonicalize(doc) {
        Some(canonical) => Ok(canonical),
        None => canonicalize_slow(doc),
    }
}

/// `canonicalize` without the fast path: the `json-ld` crate's expansion and toRdf, then RDFC-1.0. Gives the same
/// result as `canonicalize` (kept for the fallback, the differential tests and `carnet bench`).
pub(crate) fn canonicalize_slow(doc: &Value) -> Result<String, CanonError> {
    // Expansion recurses through nested futures, several large frames per JSON level: at the deepest nesting
    // accepted, a debug build needs ~16 MiB of stack, far more than a test or Tokio thread (2 MiB) has. So the work
    // runs on a thread of its own (≈20 µs); only if none can be started does it run here.
    //
    // `pct-str` 2.0.0 unwraps when an IRI's percent-encoding is not UTF-8 (`…/a%b1`, `cr%ed…`),
    // found twice by the `jsonld_rdf` fuzzer (fuzz/regressions/jsonld_rdf/): such a document is
    // refused before the processor sees it, and a panic inside the `json-ld` stack is still a
    // refusal of this document, never the caller's failure.
    if let Some(iri) = percent_encoding_not_utf8(doc) {
        let shown: String = iri.chars().take(80).collect();
        return Err(CanonError::Invalid(format!(
            "\"{shown}\": its percent-encoding does not decode to UTF-8, which carnet cannot read as an IRI"
        )));
    }
    let refused = |_| {
        tracing::warn!("the JSON-LD processor failed on a document (refused as invalid)");
        Err(CanonError::Invalid(
            "the JSON-LD processor cannot read this document (an IRI whose percent-encoding is not UTF-8?)"
                .into(),
        ))
    };
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("carnet-jsonld".into())
            .stack_size(WORKER_STACK)
            .spawn_scoped(scope, || canonicalize_here(doc));
        match worker {
            Ok(handle) => handle.join().unwrap_or_else(refused),
            Err(_) => {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| canonicalize_here(doc)))
                    .unwrap_or_else(refused)
            }
        }
    })
}

/// The first key or string of `doc` that reads as an absolute IRI (a scheme, no white space)
/// and whose percent-encoded bytes do not decode to UTF-8. Both paths refuse such a document, so
/// that they agree.
pub(super) fn percent_encoding_not_utf8(doc: &Value) -> Option<&str> {
    fn bad(s: &str) -> bool {
        if !s.contains('%') || s.chars().any(char::is_whitespace) {
            return false;
        }
        let scheme = s.split_once(':').is_some_and(|(scheme, _)| {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if !scheme {
            return false;
        }
        let hex = |b: u8| (b as char).to_digit(16);
        let bytes = s.as_bytes();
        let mut decoded = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match (
                bytes[i],
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (b'%', Some(h), Some(l)) => {
                    decoded.push((h * 16 + l) as u8);
                    i += 3;
                }
                (b, _, _) => {
                    decoded.push(b);
                    i += 1;
                }
            }
        }
        std::str::from_utf8(&decoded).is_err()
    }
    let mut todo = vec![doc];
    while let Some(v) = todo.pop() {
        match v {
            Value::String(s) if bad(s) => return Some(s),
            Value::Array(items) => todo.extend(items),
            Value::Object(map) => {
                for (k, v) in map {
                    if bad(k) {
                        return Some(k);
                    }
                    todo.push(v);
                }
            }
            _ => {}
        }
    }
    None
}

fn canonicalize_here(doc: &Value) -> Result<String, CanonError> {
    let quads = to_rdf(doc)?;
    rdfc::canonical_nquads(&quads)
}

/// Stack of the canonicalisation thread (reserved, not committed: only the pages used are).
const WORKER_STACK: usize = 32 << 20;

/// Nesting deeper than this is refused: expansion recurses once per level.
const MAX_JSON_DEPTH: usize = 64;
/// JSON values (objects, arrays, scalars) in one document, on either path. The general path costs
/// some microseconds per value (a typed node about 0.2 ms: see `MAX_TYPED_NODES`), so this keeps
/// one canonicalisation of an anonymous client's document within the verifier's budget of 50 ms of
/// CPU (`carnet bench --hostile`); the 1EdTech `complete.json` sample, with every OB 3.0 property
/// and embedded endorsements, has 553.
const MAX_JSON_VALUES: usize = 5_000;
/// Typed nodes (objects with `type` or `@type`) in one document on this path: each costs about
/// 0.2 ms, so this keeps a document the fast path leaves here (an inline or unusual context) within
/// the verifier's budget of 50 ms of CPU (`carnet bench --hostile`). the 1EdTech `complete.json` sample has 86.
const MAX_TYPED_NODES: usize = 150;
/// Context references (URLs or inline objects) in all `@context` entries of one document: each one is processed
/// again wherever it appears below the top level. `complete.json` has 13.
const MAX_CONTEXT_ENTRIES: usize = 64;
/// Distinct processed top-level contexts kept; further lists are processed per call.
const MAX_CACHED_CONTEXTS: usize = 64;

type ActiveContext = json_ld::Context<IriBuf, BlankIdBuf>;

fn strict_policy(vocab: Action) -> ExpansionOptions {
    ExpansionOptions {
        policy: Policy {
            invalid: Action::Reject,
            vocab,
            allow_undefined: false,
        },
        ..ExpansionOptions::default()
    }
}

/// The RDF dataset of `doc` (JSON-LD toRdf), under strict expansion.
fn to_rdf(doc: &Value) -> Result<Vec<rdfc::Quad>, CanonError> {
    let Value::Object(map) = doc else {
        return Err(CanonError::Invalid(
            "expected a JSON object at the top level".into(),
        ));
    };
    let mut budget = Budget {
        values: MAX_JSON_VALUES,
        contexts: MAX_CONTEXT_ENTRIES,
        typed: MAX_TYPED_NODES,
    };
    let active = match map.get("@context") {
        Some(ctx) => {
            budget.spend_contexts(ctx)?;
            active_context(ctx, &mut budget)?
        }
        None => Arc::new(ActiveContext::new(None)),
    };
    // The top-level context is already processed: expand the rest of the document against it.
    let mut body = json_ld::syntax::Object::new();
    for (key, value) in map {
        if key != "@context" {
            body.push(key.as_str().into(), to_json_syntax(value, 1, &mut budget)?);
        }
    }
    let body = json_ld::syntax::Value::Object(body);

    let mut expanded = match expand(&body, &active, Action::Reject) {
        Ok(expanded) => expanded,
        // Name the offending terms when only the `@vocab` catch-all would have mapped them.
        Err(e @ (ExpansionError::ForbiddenVocab | ExpansionError::InvalidTypeValue)) => {
            return Err(match vocab_only_terms(&body, &active) {
                Some(terms) => CanonError::UndefinedTerm(terms),
                None => expansion_error(e),
            });
        }
        Err(e) => return Err(expansion_error(e)),
    };

    let mut generator = BlankGenerator::new_with_prefix("n".to_string());
    expanded.relabel_and_canonicalize_with(&mut (), &mut generator);
    reject_dropped_values(&expanded)?;

    let quads = expanded
        .rdf_quads_full(&mut (), &mut generator, None, false)
        .cloned()
        .map(|quad| to_rdfc_quad(&quad))
        .collect();
    Ok(quads)
}

fn expand(
    body: &json_ld::syntax::Value,
    active: &ActiveContext,
    vocab: Action,
) -> Result<json_ld::ExpandedDocument<IriBuf, BlankIdBuf>, ExpansionError> {
    block_on(body.expand_full(
        &mut (),
        active.clone(),
        None,
        &contexts::StaticLoader,
        strict_policy(vocab),
        (),
    ))
    .unwrap_or_else(|| Err(ExpansionError::ContextProcessing(stalled())))
}

/// Names the offending terms (for the error message): expands again leniently and lists the properties and types
/// that landed under the top-level `@vocab` IRI or did not expand to an IRI at all.
fn vocab_only_terms(body: &json_ld::syntax::Value, active: &ActiveContext) -> Option<String> {
    let vocab = match active.vocabulary() {
        Some(json_ld::Term::Id(Id::Valid(ValidId::Iri(vocab)))) => Some(vocab.as_str()),
        _ => None,
    };
    let lenient = ExpansionOptions {
        policy: Policy::default(),
        ..ExpansionOptions::default()
    };
    let expanded = block_on(body.expand_full(
        &mut (),
        active.clone(),
        None,
        &contexts::StaticLoader,
        lenient,
        (),
    ))?
    .ok()?;
    let mut terms: Vec<String> = Vec::new();
    let mut note = |id: &Id<IriBuf, BlankIdBuf>| {
        let term = match id {
            Id::Invalid(name) => Some(name.as_str()),
            Id::Valid(ValidId::Iri(iri)) => vocab.and_then(|v| iri.as_str().strip_prefix(v)),
            Id::Valid(ValidId::Blank(_)) => None,
        };
        if let Some(term) = term
            && !terms.iter().any(|t| t == term)
        {
            terms.push(term.to_string());
        }
    };
    for object in expanded.iter() {
        for node in object.inner().traverse() {
            match node {
                json_ld::object::FragmentRef::NodeFragment(
                    json_ld::object::node::FragmentRef::TypeFragment(ty),
                ) => note(ty),
                json_ld::object::FragmentRef::NodeFragment(
                    json_ld::object::node::FragmentRef::Key(
                        json_ld::object::node::EntryKeyRef::Property(p),
                    ),
                ) => note(p),
                _ => {}
            }
        }
    }
    (!terms.is_empty()).then(|| terms.join(", "))
}

/// toRdf silently skips triples whose subject or object is not an absolute IRI, and literals whose language tag
/// is malformed. Under strict processing those are errors, not silent data loss.
fn reject_dropped_values(
    expanded: &json_ld::ExpandedDocument<IriBuf, BlankIdBuf>,
) -> Result<(), CanonError> {
    expanded.iter().try_for_each(|o| check_object(o.inner()))
}

fn check_id(id: &Id<IriBuf, BlankIdBuf>) -> Result<(), CanonError> {
    match id {
        Id::Invalid(s) => Err(CanonError::Invalid(format!(
            "{s:?} is not an absolute IRI (no base IRI is used)"
        ))),
        Id::Valid(_) => Ok(()),
    }
}

fn check_object(object: &json_ld::Object<IriBuf, BlankIdBuf>) -> Result<(), CanonError> {
    match object {
        json_ld::Object::Value(json_ld::Value::LangString(s)) => match s.language() {
            Some(lang) if lang.as_well_formed().is_none() => Err(CanonError::Invalid(format!(
                "malformed language tag {:?}",
                lang.as_str()
            ))),
            _ => Ok(()),
        },
        json_ld::Object::Value(_) => Ok(()),
        json_ld::Object::List(list) => list.iter().try_for_each(|o| check_object(o.inner())),
        json_ld::Object::Node(node) => check_node(node),
    }
}

fn check_node(node: &json_ld::Node<IriBuf, BlankIdBuf>) -> Result<(), CanonError> {
    if let Some(id) = &node.id {
        check_id(id)?;
    }
    node.types().iter().try_for_each(check_id)?;
    for (property, objects) in node.properties() {
        check_id(property)?;
        objects.iter().try_for_each(|o| check_object(o.inner()))?;
    }
    if let Some(reverse) = node.reverse_properties_entry() {
        for (property, nodes) in reverse.iter() {
            check_id(property)?;
            nodes.iter().try_for_each(|n| check_node(n.inner()))?;
        }
    }
    if let Some(graph) = node.graph_entry() {
        graph.iter().try_for_each(|o| check_object(o.inner()))?;
    }
    if let Some(included) = node.included_entry() {
        included.iter().try_for_each(|n| check_node(n.inner()))?;
    }
    Ok(())
}

type JsonLdQuad = json_ld::rdf::Quad<IriBuf, BlankIdBuf, json_ld::rdf_types::Literal>;

fn to_rdfc_quad(quad: &JsonLdQuad) -> rdfc::Quad {
    fn node(id: &ValidId<IriBuf, BlankIdBuf>) -> rdfc::Term {
        match id {
            ValidId::Iri(iri) => rdfc::Term::Iri(iri.as_str().to_string()),
            ValidId::Blank(b) => rdfc::Term::Blank(b.suffix().to_string()),
        }
    }
    let json_ld::rdf_types::Quad(subject, predicate, object, graph) = quad;
    let object = match object {
        json_ld::rdf_types::Term::Id(id) => node(id),
        json_ld::rdf_types::Term::Literal(lit) => match lit.as_type() {
            json_ld::rdf_types::LiteralType::Any(ty) => rdfc::Term::Literal {
                value: lit.as_str().to_string(),
                datatype: Some(ty.as_str().to_string()),
                language: None,
            },
            // As written in the document (JSON-LD does not normalise case).
            json_ld::rdf_types::LiteralType::LangString(tag) => rdfc::Term::Literal {
                value: lit.as_str().to_string(),
                datatype: None,
                language: Some(tag.as_str().to_string()),
            },
        },
    };
    rdfc::Quad {
        subject: node(subject),
        // Generalized RDF is not produced (`produce_generalized_rdf` is false): predicates are IRIs.
        predicate: predicate.to_string(),
        object,
        graph: graph.as_ref().map(node),
    }
}

/// The processed form of a top-level `@context`, cached when it is a list of shipped context URLs.
fn active_context(ctx: &Value, budget: &mut Budget) -> Result<Arc<ActiveContext>, CanonError> {
    let urls: Option<Vec<&str>> = match ctx {
        Value::String(url) => Some(vec![url.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    };
    if let Some(urls) = &urls {
        // Report the first unknown URL before any work (and keep it out of the cache).
        if let Some(unknown) = urls.iter().find(|u| known_context(u).is_none()) {
            return Err(CanonError::UnknownContext((*unknown).to_string()));
        }
    }
    let cache_key = urls.as_ref().map(|u| u.join("\n"));
    if let Some(key) = &cache_key
        && let Some(hit) = context_cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
    {
        return Ok(hit.clone());
    }

    let json = to_json_syntax(ctx, 1, budget)?;
    let syntax = json_ld::syntax::context::Context::try_from_json(json)
        .map_err(|e| CanonError::Invalid(format!("invalid @context: {e}")))?;
    let processed = block_on(syntax.process_full(
        &mut (),
        &ActiveContext::new(None),
        &contexts::StaticLoader,
        None,
        ProcessingOptions::default(),
        (),
    ))
    .unwrap_or_else(|| Err(stalled()))
    .map_err(context_error)?;
    let processed = Arc::new(processed.into_processed());

    if let Some(key) = cache_key {
        let mut cache = context_cache().lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() < MAX_CACHED_CONTEXTS {
            cache.insert(key, processed.clone());
        }
    }
    Ok(processed)
}

fn context_cache() -> &'static Mutex<HashMap<String, Arc<ActiveContext>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<ActiveContext>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn context_error(e: json_ld::context_processing::Error) -> CanonError {
    match e {
        json_ld::context_processing::Error::ContextLoadingFailed(load) => {
            CanonError::UnknownContext(load.target.to_string())
        }
        other => CanonError::Invalid(format!("@context: {other}")),
    }
}

fn expansion_error(e: ExpansionError) -> CanonError {
    match e {
        ExpansionError::ContextProcessing(e) => context_error(e),
        ExpansionError::KeyExpansionFailed(key) => CanonError::UndefinedTerm(key),
        ExpansionError::InvalidTypeValue => CanonError::UndefinedTerm(
            "a type that is neither a defined term nor an absolute IRI".into(),
        ),
        ExpansionError::ForbiddenVocab => {
            CanonError::UndefinedTerm("a term mapped only by @vocab".into())
        }
        other => CanonError::Invalid(other.to_string()),
    }
}

fn stalled() -> json_ld::context_processing::Error {
    // Not reachable with the static loader; reported rather than spinning.
    json_ld::context_processing::Error::LoadingDocumentFailed
}

/// What one document may still use.
struct Budget {
    values: usize,
    contexts: usize,
    typed: usize,
}

impl Budget {
    fn spend_contexts(&mut self, context: &Value) -> Result<(), CanonError> {
        let n = match context {
            Value::Array(items) => items.len(),
            _ => 1,
        };
        self.contexts = self.contexts.checked_sub(n).ok_or_else(|| {
            CanonError::TooComplex(format!("more than {MAX_CONTEXT_ENTRIES} @context entries"))
        })?;
        Ok(())
    }
}

/// `serde_json` → `json_syntax`, refusing excessive depth or size.
fn to_json_syntax(
    v: &Value,
    depth: usize,
    budget: &mut Budget,
) -> Result<json_ld::syntax::Value, CanonError> {
    if depth > MAX_JSON_DEPTH {
        return Err(CanonError::TooComplex(format!(
            "JSON nested deeper than {MAX_JSON_DEPTH} levels"
        )));
    }
    budget.values = budget.values.checked_sub(1).ok_or_else(|| {
        CanonError::TooComplex(format!("more than {MAX_JSON_VALUES} JSON values"))
    })?;
    use json_ld::syntax::Value as J;
    Ok(match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Boolean(*b),
        Value::Number(n) => {
            let text = n.to_string();
            let number = json_ld::syntax::Number::new(text.as_str())
                .map_err(|_| CanonError::Invalid(format!("unrepresentable number {text}")))?;
            J::Number(json_ld::syntax::NumberBuf::from_number(number))
        }
        Value::String(s) => J::String(s.as_str().into()),
        Value::Array(items) => J::Array(
            items
                .iter()
                .map(|i| to_json_syntax(i, depth + 1, budget))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            if map.contains_key("type") || map.contains_key("@type") {
                budget.typed = budget.typed.checked_sub(1).ok_or_else(|| {
                    CanonError::TooComplex(format!(
                        "more than {MAX_TYPED_NODES} typed objects for the general JSON-LD path"
                    ))
                })?;
            }
            let mut obj = json_ld::syntax::Object::new();
            for (k, v) in map {
                if k == "@context" {
                    budget.spend_contexts(v)?;
                }
                obj.push(k.as_str().into(), to_json_syntax(v, depth + 1, budget)?);
            }
            J::Object(obj)
        }
    })
}

/// Runs a `json-ld` future to completion. With the static loader nothing ever waits, so the first poll finishes;
/// `None` if it did not (never expected), instead of blocking a thread.
fn block_on<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut cx = TaskContext::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// The fast path alone: `None` when it leaves `doc` to the slow path.
pub(crate) fn canonicalize_fast(doc: &Value) -> Option<String> {
    fast::canonicalize(doc)
}

/// Whether the fast path handles `doc` (gives a result without the slow path).
#[cfg(test)]
pub(crate) fn fast_path_handles(doc: &Value) -> bool {
    fast::canonicalize(doc).is_some()
}

#[cfg(test)]
#[path = "tests_mod.rs"]
mod tests;

#[cfg(test)]
#[path = "fast_tests.rs"]
mod fast_tests;
