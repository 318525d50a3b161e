//! The fast path of `canonicalize`: JSON-LD expansion and toRdf straight from `serde_json::Value` to the quads
//! `rdfc` canonicalises, against compiled contexts (`compile`), without building the crate's expanded document.
//!
//! It follows the `json-ld` 0.21 crate step by step (its expansion, JSON-LD 1.1 Processing Algorithms §5.1, with
//! the slow path's strict policy; its toRdf, §6.3 and §8, without `rdfDirection`), for the subset it implements:
//! node and value objects, `@id`, `@type`, embedded `@context` (shipped URLs or inline definitions), property- and
//! type-scoped contexts and their propagation, compact IRIs, type coercion (`@id`, `@vocab`, `@json`, datatypes),
//! `@set`, `@list` and `@graph` containers, native literals, language-tagged strings (value objects, term and
//! default languages; a direction is dropped, as there). Anything else, and every case where the slow path would
//! fail or drop something (an undefined term, a relative or invalid IRI, a malformed language tag, a keyword it
//! does not handle, a `@list` or `@set` object, `@graph`, `@included`, `@reverse`, `@nest`, language, index, id or
//! type maps, a value that would be silently dropped...), makes it give up: `None`, and the slow path answers
//! (the same result or the same error as before the fast path existed).

mod compile;
mod literal;
mod walk;

use json_ld::syntax::{CompactIri, Keyword, is_keyword_like};
use json_ld::{BlankId, Iri, IriRef};
use serde_json::Value;

use compile::{Compiled, Mapping, Mode};
use walk::Walker;

use super::rdfc::{self, Quad, Term};
use super::{MAX_CONTEXT_ENTRIES, MAX_JSON_DEPTH, MAX_JSON_VALUES};

/// Inline contexts nested deeper than this are left to the slow path (real ones are flat; this bounds what a
/// document can make the registry compile).
const MAX_INLINE_CONTEXT_DEPTH: usize = 8;

/// Canonical N-Quads of `doc`, or `None` when the fast path does not handle it (the slow path must answer).
pub(super) fn canonicalize(doc: &Value) -> Option<String> {
    let quads = to_rdf(doc)?;
    rdfc::canonical_nquads(&quads).ok()
}

/// The RDF dataset of `doc`, or `None` when the fast path does not handle it.
pub(super) fn to_rdf(doc: &Value) -> Option<Vec<Quad>> {
    // what the slow path refuses, it answers (`super::percent_encoding_not_utf8`)
    if super::percent_encoding_not_utf8(doc).is_some() {
        return None;
    }
    // A document that met a registry starting afresh is tried again (twice at most: under a flood of new
    // contexts, the slow path answers).
    for _ in 0..3 {
        match dataset(doc) {
            Ok(quads) => return Some(quads),
            Err(GiveUp { reset: true, .. }) => continue,
            Err(_) => return None,
        }
    }
    None
}

fn dataset(doc: &Value) -> Step<Vec<Quad>> {
    let Value::Object(map) = doc else {
        return give_up();
    };
    if !within_bounds(doc) {
        return give_up();
    }
    let empty = compile::empty();
    let root = match map.get("@context") {
        None => empty,
        Some(ctx) => {
            let scope = available(embedded_scope(ctx, empty.generation))?;
            available(compile::transition(&empty, scope, Mode::Plain))?
        }
    };
    let mut walker = Walker::new();
    match walker.object(&root, None, map, &None, true)? {
        // The top-level node object (an empty one produces no quad either way).
        Expanded::One(Obj::Node(_)) => Ok(walker.into_quads()),
        _ => give_up(),
    }
}

/// How many contexts the registry keeps, for tests.
#[cfg(test)]
pub(super) const MAX_COMPILED_FOR_TESTS: usize = compile::MAX_COMPILED;

/// (generation, compiled contexts) of the registry, for tests.
#[cfg(test)]
pub(super) fn registry_stats() -> (u64, usize) {
    compile::stats()
}

/// `literal::xsd_double`, for tests.
#[cfg(test)]
pub(super) fn literal_xsd_double(value: f64) -> Option<String> {
    literal::xsd_double(value)
}

/// Where the fast path gives up on `doc` (`Ok` when it handles it), for tests. `Err(None)`: it met a registry that
/// started afresh (another thread filled it), not a reason to give up on the document.
#[cfg(test)]
pub(super) fn explain(doc: &Value) -> Result<(), Option<String>> {
    let quads = dataset(doc).map_err(|e| (!e.reset).then(|| e.at.to_string()))?;
    rdfc::canonical_nquads(&quads)
        .map(|_| ())
        .map_err(|e| Some(e.to_string()))
}

/// The bounds of the slow path (`MAX_JSON_DEPTH`, `MAX_JSON_VALUES`, `MAX_CONTEXT_ENTRIES`), counted here over the
/// whole document including its top-level `@context` (the slow path may not count that one): within them here means
/// within them there.
fn within_bounds(doc: &Value) -> bool {
    fn walk(v: &Value, depth: usize, values: &mut usize, contexts: &mut usize) -> bool {
        if depth > MAX_JSON_DEPTH {
            return false;
        }
        *values += 1;
        if *values > MAX_JSON_VALUES {
            return false;
        }
        match v {
            Value::Array(items) => items.iter().all(|i| walk(i, depth + 1, values, contexts)),
            Value::Object(map) => map.iter().all(|(k, x)| {
                if k == "@context" {
                    *contexts += match x {
                        Value::Array(items) => items.len(),
                        _ => 1,
                    };
                    if *contexts > MAX_CONTEXT_ENTRIES {
                        return false;
                    }
                }
                walk(x, depth + 1, values, contexts)
            }),
            _ => true,
        }
    }
    let (mut values, mut contexts) = (0, 0);
    walk(doc, 0, &mut values, &mut contexts)
}

/// The scope of an embedded `@context`, refusing deeply nested inline definitions.
fn embedded_scope(ctx: &Value, generation: u64) -> Result<u32, compile::Unavailable> {
    fn depth(v: &Value) -> usize {
        match v {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    if !ctx.is_string() && depth(ctx) > MAX_INLINE_CONTEXT_DEPTH {
        return Err(compile::Unavailable::Unusable);
    }
    compile::embedded_scope(ctx, generation)
}

/// The fast path does not handle this document.
#[derive(Debug)]
struct GiveUp {
    /// Where it gave up (for tests and debugging).
    #[cfg_attr(not(test), allow(dead_code))]
    at: &'static std::panic::Location<'static>,
    /// Because the context registry started afresh meanwhile (not because of the document).
    reset: bool,
}

type Step<T> = Result<T, GiveUp>;

#[track_caller]
fn give_up<T>() -> Step<T> {
    Err(GiveUp {
        at: std::panic::Location::caller(),
        reset: false,
    })
}

/// A compiled context, or give up.
#[track_caller]
fn available<T>(value: Result<T, compile::Unavailable>) -> Step<T> {
    value.map_err(|why| GiveUp {
        at: std::panic::Location::caller(),
        reset: why == compile::Unavailable::Reset,
    })
}

/// `Some` or give up.
#[track_caller]
fn need<T>(value: Option<T>) -> Step<T> {
    match value {
        Some(v) => Ok(v),
        None => give_up(),
    }
}

/// An expanded object, reduced to what toRdf needs.
enum Obj {
    /// A node object (its own quads already emitted), by its identifier.
    Node(Term),
    /// A value object, as its literal.
    Literal(Term),
    /// A list object.
    List(Vec<Obj>),
}

/// The result of expanding one JSON value (the crate's `Expanded`).
enum Expanded {
    Null,
    One(Obj),
    Many(Vec<Obj>),
}

impl Expanded {
    fn into_vec(self) -> Vec<Obj> {
        match self {
            Expanded::Null => Vec::new(),
            Expanded::One(o) => vec![o],
            Expanded::Many(v) => v,
        }
    }
}

/// The result of IRI expansion.
enum Expansion<'a> {
    Id,
    Type,
    Context,
    /// Another keyword (or a term aliasing one).
    OtherKeyword(Keyword),
    /// `null`: a keyword-like string or a term mapped to `null` (silently dropped by the crate).
    Null,
    Iri(&'a str),
    /// A compact IRI, expanded.
    Concat(String),
    /// A blank node identifier (the value itself, or a term's mapping).
    Blank,
    /// Not an IRI, with no base IRI to resolve against (an error where an IRI is needed, under the strict policy).
    Invalid,
    /// Something the fast path does not reproduce exactly (never a keyword): it gives up if it needs the value.
    Doubtful,
}

/// IRI expansion (JSON-LD 1.1 Processing Algorithms §5.2) as the crate's `expand_iri_simple`, with the policy of
/// the slow path: `vocab` true means the strict `Action::Reject` for what only `@vocab` maps (an error: `Err`).
fn expand_iri<'a>(
    ctx: &'a Compiled,
    value: &'a str,
    document_relative: bool,
    vocab: bool,
) -> Step<Expansion<'a>> {
    if value.starts_with('@') {
        match value {
            "@id" => return Ok(Expansion::Id),
            "@type" => return Ok(Expansion::Type),
            "@context" => return Ok(Expansion::Context),
            _ => {
                if let Ok(keyword) = Keyword::try_from(value) {
                    return Ok(Expansion::OtherKeyword(keyword));
                }
                if is_keyword_like(value) {
                    return Ok(Expansion::Null);
                }
            }
        }
    }
    if let Some(def) = ctx.terms.get(value) {
        match &def.mapping {
            Mapping::Id => return Ok(Expansion::Id),
            Mapping::Type => return Ok(Expansion::Type),
            Mapping::OtherKeyword(k) => return Ok(Expansion::OtherKeyword(*k)),
            _ => {}
        }
        if vocab {
            return Ok(match &def.mapping {
                Mapping::Iri(iri) => Expansion::Iri(iri),
                Mapping::Blank(_) => Expansion::Blank,
                Mapping::Null => Expansion::Null,
                _ => Expansion::Invalid,
            });
        }
    }
    if let Some(colon) = value.find(':')
        && colon > 0
    {
        if BlankId::new(value).is_ok() {
            return Ok(Expansion::Blank);
        }
        if value == "_:" {
            return Ok(Expansion::Invalid);
        }
        if CompactIri::new(value).is_ok()
            && let Some(def) = ctx.terms.get(&value[..colon])
        {
            if def.odd_prefix {
                return Ok(Expansion::Doubtful);
            }
            if let Some(prefix) = &def.prefix {
                let expanded = format!("{prefix}{}", &value[colon + 1..]);
                if Iri::new(expanded.as_str()).is_ok() {
                    return Ok(Expansion::Concat(expanded));
                }
                // A blank node identifier or an invalid IRI: not reproduced.
                return Ok(Expansion::Doubtful);
            }
        }
        if Iri::new(value).is_ok() {
            return Ok(Expansion::Iri(value));
        }
    }
    if vocab {
        if ctx.vocab_id {
            // Only `@vocab` would map it: an error under the strict policy.
            return give_up();
        }
        if ctx.vocab_other {
            return Ok(Expansion::Invalid);
        }
    }
    if document_relative
        && let Ok(reference) = IriRef::new(value)
        && reference.as_iri().is_some()
    {
        return Ok(Expansion::Iri(value));
    }
    // Not an absolute IRI, and no base IRI is used.
    Ok(Expansion::Invalid)
}
