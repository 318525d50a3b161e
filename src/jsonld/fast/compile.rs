//! Compiled contexts: each active context the fast path meets, processed once by the `json-ld` crate (the same
//! context processing as the slow path, so the same term definitions, protection checks and errors) and turned
//! into a flat term table; and the transitions between them (an embedded `@context`, a property-scoped or a
//! type-scoped context), memoised, so a document only looks tables up.
//!
//! Everything the expansion of `super` does not implement makes a term or a whole context unusable; meeting it
//! makes the fast path give up (the slow path then answers). The registry is bounded (`MAX_COMPILED` contexts,
//! `MAX_TRANSITIONS`, `MAX_SCOPES`, `MAX_EMBEDDED_BYTES`): when full it starts afresh, a new generation; a
//! document that meets a new generation is walked again (see `super::to_rdf`). A context not compiled yet is
//! processed on a thread with the slow path's large stack (context processing recurses).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use json_ld::context_processing::{Options as ProcessingOptions, Process};
use json_ld::syntax::context::Context as SyntaxContext;
use json_ld::syntax::{ContextEntry, Keyword, LenientLangTagBuf, Nullable, TryFromJson};
use json_ld::{Container, Id, IriBuf, Term, Type, ValidId};
use serde_json::Value;

use super::super::{ActiveContext, Budget, WORKER_STACK, block_on, contexts, to_json_syntax};

/// Compiled contexts kept before the registry starts afresh. Each keeps the crate's processed context (about
/// 200 KiB for VCDM 2.0 + OB 3.0), so this bounds the registry at about 30 MiB. carnet's own documents need about
/// 25; every sample of `shared/spec/data` (several context versions, inline contexts) about 115.
pub(super) const MAX_COMPILED: usize = 128;
/// Memoised transitions (including those that cannot be used) before the registry starts afresh.
const MAX_TRANSITIONS: usize = 4096;
/// Local contexts known (each scoped term of each compiled context, each embedded `@context` value met).
const MAX_SCOPES: usize = 16_384;
/// Bytes of embedded `@context` values kept as keys.
const MAX_EMBEDDED_BYTES: usize = 1 << 20;

/// What a term maps to (`Term` of the crate, flattened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Mapping {
    /// `null`: the term is explicitly undefined.
    Null,
    /// An alias of `@id`.
    Id,
    /// An alias of `@type`.
    Type,
    /// An alias of another keyword.
    OtherKeyword(Keyword),
    Iri(Arc<str>),
    Blank(Arc<str>),
    /// Neither an IRI nor a blank node identifier.
    Invalid,
}

/// The type mapping of a term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Coercion {
    Absent,
    Id,
    Vocab,
    Json,
    /// `@none`: as absent for expansion.
    NoneKw,
    Iri(Arc<str>),
}

/// The containers the fast path implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// No container, or `@set` (no difference once expanded).
    Plain,
    List,
    /// `@graph` (or `@graph` + `@set`): each value in a graph of its own.
    Graph,
}

#[derive(Debug, Clone)]
pub(super) struct TermDef {
    pub mapping: Mapping,
    /// Usable as a compact IRI prefix, with this IRI mapping (`None`: not a prefix).
    pub prefix: Option<Arc<str>>,
    /// A prefix whose mapping is not an IRI (not handled).
    pub odd_prefix: bool,
    pub coercion: Coercion,
    pub shape: Shape,
    /// Index of its local (scoped) context in the registry, if it has one.
    pub scope: Option<u32>,
    /// Its language mapping, if it has one (`Some(None)`: explicitly none).
    pub language: Option<Option<LenientLangTagBuf>>,
    /// Uses something the fast path does not implement (reverse, `@nest`, `@index`, a language, index, id or type
    /// container): using the term makes it give up.
    pub unsupported: bool,
}

/// A small, fast hasher for term lookups (keys are short, not attacker-chosen in any way that matters: a slow
/// bucket only costs time, bounded by the document size).
#[derive(Default)]
pub(super) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One active context, compiled.
pub(super) struct Compiled {
    pub id: u32,
    pub generation: u64,
    /// The crate's processed context, to process further contexts from it.
    ctx: Arc<ActiveContext>,
    pub terms: FxMap<Box<str>, TermDef>,
    /// The context a new node object reverts to (type-scoped contexts do not propagate).
    pub previous: Option<Arc<Compiled>>,
    /// The default language (`@language`) of plain strings.
    pub default_language: Option<LenientLangTagBuf>,
    /// Has a `@vocab` mapping to an IRI or blank node: strict expansion refuses what only it would map.
    pub vocab_id: bool,
    /// Has another `@vocab` mapping (a term then expands to an invalid IRI).
    pub vocab_other: bool,
}

/// How a local context is applied (the options of the crate's context processing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Mode {
    /// An embedded `@context`, or a property-scoped context met by a scalar value.
    Plain,
    /// A property-scoped context met by a node object (overrides protected terms).
    Override,
    /// A type-scoped context (does not propagate).
    NoPropagate,
}

enum Scope {
    /// The local context of `term` in compiled context `owner`.
    Term {
        owner: Arc<Compiled>,
        term: Box<str>,
    },
    /// An embedded `@context` value.
    Embedded(Arc<SyntaxContext>),
}

struct Registry {
    generation: u64,
    contexts: Vec<Arc<Compiled>>,
    scopes: Vec<Scope>,
    embedded: HashMap<String, u32>,
    embedded_bytes: usize,
    /// (from, scope, mode) → result, `None` when it cannot be used (processing error or unsupported feature).
    transitions: FxMap<(u32, u32, Mode), Option<Arc<Compiled>>>,
}

impl Registry {
    fn new(generation: u64) -> Self {
        let mut registry = Registry {
            generation,
            contexts: Vec::new(),
            scopes: Vec::new(),
            embedded: HashMap::new(),
            embedded_bytes: 0,
            transitions: FxMap::default(),
        };
        let empty = Arc::new(ActiveContext::new(None));
        let compiled = registry
            .compile(empty, None)
            .expect("the empty context compiles");
        registry.contexts.push(compiled);
        registry
    }

    /// Whether it holds as much as it may: then it starts afresh (`Registry::new`) rather than grow.
    fn full(&self) -> bool {
        self.contexts.len() >= MAX_COMPILED
            || self.transitions.len() >= MAX_TRANSITIONS
            || self.scopes.len() >= MAX_SCOPES
            || self.embedded_bytes >= MAX_EMBEDDED_BYTES
    }

    /// Starts afresh (a new generation): what documents being processed hold is no longer valid here.
    fn reset(&mut self) {
        *self = Registry::new(self.generation + 1);
    }

    /// Builds the table of `ctx` (not yet registered: its id is the next one).
    fn compile(
        &mut self,
        ctx: Arc<ActiveContext>,
        previous: Option<Arc<Compiled>>,
    ) -> Option<Arc<Compiled>> {
        // A base IRI changes how IRIs expand: not handled. (A default direction changes nothing in RDF here.)
        if ctx.base_iri().is_some() {
            return None;
        }
        let id = u32::try_from(self.contexts.len()).ok()?;
        let mut terms = FxMap::default();
        let mut pending_scopes = Vec::new();
        for binding in ctx.definitions().iter() {
            let json_ld::context::BindingRef::Normal(key, def) = binding else {
                continue; // the `@type` definition: only its container, no effect on expansion here
            };
            let mapping = match &def.value {
                None | Some(Term::Null) => Mapping::Null,
                Some(Term::Keyword(Keyword::Id)) => Mapping::Id,
                Some(Term::Keyword(Keyword::Type)) => Mapping::Type,
                Some(Term::Keyword(k)) => Mapping::OtherKeyword(*k),
                Some(Term::Id(Id::Valid(ValidId::Iri(iri)))) => Mapping::Iri(iri.as_str().into()),
                Some(Term::Id(Id::Valid(ValidId::Blank(b)))) => Mapping::Blank(b.as_str().into()),
                Some(Term::Id(Id::Invalid(_))) => Mapping::Invalid,
            };
            let (prefix, odd_prefix) = match (&mapping, def.prefix) {
                (_, false) => (None, false),
                (Mapping::Iri(iri), true) => (Some(iri.clone()), false),
                (_, true) => (None, true),
            };
            let coercion = match &def.typ {
                None => Coercion::Absent,
                Some(Type::Id) => Coercion::Id,
                Some(Type::Vocab) => Coercion::Vocab,
                Some(Type::Json) => Coercion::Json,
                Some(Type::None) => Coercion::NoneKw,
                Some(Type::Iri(iri)) => Coercion::Iri(iri.as_str().into()),
            };
            let (shape, odd_container) = match def.container {
                Container::None | Container::Set => (Shape::Plain, false),
                Container::List => (Shape::List, false),
                Container::Graph | Container::GraphSet => (Shape::Graph, false),
                _ => (Shape::Plain, true),
            };
            let unsupported =
                odd_container || def.reverse_property || def.nest.is_some() || def.index.is_some();
            let language = def.language.as_ref().map(|l| match l {
                Nullable::Null => None,
                Nullable::Some(tag) => Some(tag.clone()),
            });
            let scope = if def.context.is_some() {
                pending_scopes.push(key.as_str().into());
                Some(u32::try_from(self.scopes.len() + pending_scopes.len() - 1).ok()?)
            } else {
                None
            };
            terms.insert(
                key.as_str().into(),
                TermDef {
                    mapping,
                    prefix,
                    odd_prefix,
                    coercion,
                    shape,
                    scope,
                    language,
                    unsupported,
                },
            );
        }
        let compiled = Arc::new(Compiled {
            id,
            generation: self.generation,
            default_language: ctx.default_language().map(|l| l.to_owned()),
            vocab_id: matches!(ctx.vocabulary(), Some(Term::Id(_))),
            vocab_other: matches!(ctx.vocabulary(), Some(t) if !matches!(t, Term::Id(_))),
            ctx,
            terms,
            previous,
        });
        for term in pending_scopes {
            self.scopes.push(Scope::Term {
                owner: compiled.clone(),
                term,
            });
        }
        Some(compiled)
    }
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(Registry::new(0)))
}

fn lock() -> std::sync::MutexGuard<'static, Registry> {
    registry().lock().unwrap_or_else(|e| e.into_inner())
}

/// (generation, contexts compiled in it), for tests.
#[cfg(test)]
pub(super) fn stats() -> (u64, usize) {
    let registry = lock();
    (registry.generation, registry.contexts.len())
}

/// The empty active context (a document without `@context` starts there).
pub(super) fn empty() -> Arc<Compiled> {
    lock().contexts[0].clone()
}

/// Why a context is not available to the fast path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unavailable {
    /// It cannot be used: a processing error (the slow path reports it) or a feature not handled.
    Unusable,
    /// The registry started afresh meanwhile: the document may be tried again.
    Reset,
}

/// The scope of an embedded `@context` value: shipped context URLs (a string or an array of strings) or inline
/// context definitions.
pub(super) fn embedded_scope(value: &Value, generation: u64) -> Result<u32, Unavailable> {
    use Unavailable::{Reset, Unusable};
    let key = match value {
        Value::String(url) => format!("s{url}"),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut key = String::from("a");
            for item in items {
                key.push_str(item.as_str().unwrap_or_default());
                key.push('\n');
            }
            key
        }
        Value::Array(_) | Value::Object(_) => {
            format!("j{}", serde_json::to_string(value).map_err(|_| Unusable)?)
        }
        _ => return Err(Unusable),
    };
    {
        let registry = lock();
        if registry.generation != generation {
            return Err(Reset);
        }
        if let Some(scope) = registry.embedded.get(&key) {
            return Ok(*scope);
        }
    }
    // Not seen yet: parse it (outside the lock), as the slow path does.
    let mut budget = Budget {
        values: usize::MAX,
        contexts: usize::MAX,
        typed: usize::MAX,
    };
    let json = to_json_syntax(value, 1, &mut budget).map_err(|_| Unusable)?;
    let syntax = SyntaxContext::try_from_json(json).map_err(|_| Unusable)?;
    let mut registry = lock();
    if registry.generation != generation {
        return Err(Reset);
    }
    if let Some(scope) = registry.embedded.get(&key) {
        return Ok(*scope);
    }
    if registry.full() {
        registry.reset();
        return Err(Reset);
    }
    let scope = u32::try_from(registry.scopes.len()).map_err(|_| Unusable)?;
    registry.scopes.push(Scope::Embedded(Arc::new(syntax)));
    registry.embedded_bytes += key.len();
    registry.embedded.insert(key, scope);
    Ok(scope)
}

/// The active context after applying local context `scope` to `from` with `mode`, compiled (and memoised).
pub(super) fn transition(
    from: &Arc<Compiled>,
    scope: u32,
    mode: Mode,
) -> Result<Arc<Compiled>, Unavailable> {
    use Unavailable::{Reset, Unusable};
    let key = (from.id, scope, mode);
    let (local, base_url) = {
        let registry = lock();
        if registry.generation != from.generation {
            return Err(Reset);
        }
        if let Some(known) = registry.transitions.get(&key) {
            return known.clone().ok_or(Unusable);
        }
        match registry.scopes.get(scope as usize).ok_or(Unusable)? {
            Scope::Embedded(syntax) => (Local::Embedded(syntax.clone()), None),
            Scope::Term { owner, term } => {
                let def = owner.ctx.get_normal(&**term).ok_or(Unusable)?;
                (
                    Local::Term(owner.clone(), term.clone()),
                    def.base_url.clone(),
                )
            }
        }
    };
    let syntax: &SyntaxContext = match &local {
        Local::Embedded(syntax) => syntax,
        Local::Term(owner, term) => owner
            .ctx
            .get_normal(&**term)
            .and_then(|def| def.context.as_deref())
            .ok_or(Unusable)?,
    };
    let result = process(from, syntax, base_url, mode);
    let mut registry = lock();
    if registry.generation != from.generation {
        return Err(Reset);
    }
    if let Some(known) = registry.transitions.get(&key) {
        return known.clone().ok_or(Unusable);
    }
    if registry.full() {
        registry.reset();
        return Err(Reset);
    }
    let compiled = result.and_then(|(ctx, previous)| {
        let previous = match previous {
            Previous::None => None,
            Previous::From => Some(from.clone()),
            Previous::Inherited => from.previous.clone(),
        };
        registry.compile(Arc::new(ctx), previous)
    });
    if let Some(c) = &compiled {
        registry.contexts.push(c.clone());
    }
    registry.transitions.insert(key, compiled.clone());
    compiled.ok_or(Unusable)
}

enum Local {
    Embedded(Arc<SyntaxContext>),
    Term(Arc<Compiled>, Box<str>),
}

/// Which context the result reverts to.
enum Previous {
    None,
    /// The context it was processed from.
    From,
    /// The one the context it was processed from reverts to.
    Inherited,
}

/// Context processing as the crate's expansion does it, and the previous context of the result (the crate keeps
/// it as a copy; here it is named): JSON-LD 1.1 Processing Algorithms §4.1.2 steps 1–3. A `null` entry (which may
/// reset it) is not handled.
fn process(
    from: &Compiled,
    local: &SyntaxContext,
    base_url: Option<IriBuf>,
    mode: Mode,
) -> Option<(ActiveContext, Previous)> {
    let entries: &[ContextEntry] = match local {
        SyntaxContext::One(entry) => std::slice::from_ref(entry),
        SyntaxContext::Many(entries) => entries,
    };
    if entries.iter().any(|e| matches!(e, ContextEntry::Null)) {
        return None;
    }
    let mut propagate = mode != Mode::NoPropagate;
    if let SyntaxContext::One(ContextEntry::Definition(def)) = local
        && let Some(p) = def.propagate
    {
        propagate = p;
    }
    let previous = if from.previous.is_some() {
        Previous::Inherited
    } else if !propagate {
        Previous::From
    } else {
        Previous::None
    };
    let options = match mode {
        Mode::Plain => ProcessingOptions::default(),
        Mode::Override => ProcessingOptions::default().with_override(),
        Mode::NoPropagate => ProcessingOptions::default().without_propagation(),
    };
    // Context processing recurses (scoped contexts are processed when defined): like the slow path, it runs on a
    // thread with a large stack. Only a context not compiled yet gets here, so the thread costs little.
    let run = |base_url: Option<IriBuf>| {
        block_on(local.process_full(
            &mut (),
            &from.ctx,
            &contexts::StaticLoader,
            base_url,
            options,
            (),
        ))?
        .ok()
        .map(|processed| processed.into_processed())
    };
    let processed = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("carnet-jsonld-context".into())
            .stack_size(WORKER_STACK)
            .spawn_scoped(scope, || run(base_url.clone()));
        match worker {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => run(base_url.clone()),
        }
    })?;
    Some((processed, previous))
}
