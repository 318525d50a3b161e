//! The walk: JSON values expanded (the crate's `expand_element`, `expand_node`, `expand_value`, `expand_literal`)
//! and turned into quads as they go (the crate's toRdf), each node's quads emitted once its identifier is known.

use std::collections::HashMap;
use std::sync::Arc;

use json_ld::syntax::{Keyword, LenientLangTag};
use serde_json::{Map, Value};

use super::compile::{self, Coercion, Compiled, Mode, Shape};
use super::literal;
use super::rdfc::{Quad, Term};
use super::{Expanded, Expansion, Obj, Step, available, embedded_scope, expand_iri, give_up, need};

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const RDF_FIRST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
const RDF_REST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
const RDF_NIL: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";

pub(super) struct Walker<'d> {
    quads: Vec<Quad>,
    blanks: usize,
    /// Blank node identifiers written in the document, relabelled consistently (as the crate does).
    labels: HashMap<&'d str, Term>,
}

impl<'d> Walker<'d> {
    pub(super) fn new() -> Self {
        Walker {
            quads: Vec::with_capacity(64),
            blanks: 0,
            labels: HashMap::new(),
        }
    }

    pub(super) fn into_quads(self) -> Vec<Quad> {
        self.quads
    }

    fn fresh(&mut self) -> Term {
        let t = Term::Blank(format!("b{}", self.blanks));
        self.blanks += 1;
        t
    }

    fn blank(&mut self, label: &'d str) -> Term {
        if let Some(t) = self.labels.get(label) {
            return t.clone();
        }
        let t = self.fresh();
        self.labels.insert(label, t.clone());
        t
    }

    fn emit(&mut self, subject: &Term, predicate: &str, object: Term, graph: &Option<Term>) {
        self.quads.push(Quad {
            subject: subject.clone(),
            predicate: predicate.to_string(),
            object,
            graph: graph.clone(),
        });
    }

    /// A node identifier: an `@id` value, or a string coerced with `@type: @id`.
    fn node_id(&mut self, ctx: &Compiled, value: &'d str) -> Step<Term> {
        match expand_iri(ctx, value, true, false)? {
            Expansion::Iri(iri) => Ok(Term::Iri(iri.to_string())),
            Expansion::Concat(iri) => Ok(Term::Iri(iri)),
            Expansion::Blank if value.starts_with("_:") => Ok(self.blank(value)),
            // Keywords, `null` (an anonymous node!), invalid or relative IRIs.
            _ => give_up(),
        }
    }

    /// A value expanded with `vocab` true (`@type` values, `@type: @vocab` strings): an IRI only.
    fn vocab_iri(ctx: &Compiled, value: &str) -> Step<String> {
        match expand_iri(ctx, value, true, true)? {
            Expansion::Iri(iri) => Ok(iri.to_string()),
            Expansion::Concat(iri) => Ok(iri),
            _ => give_up(),
        }
    }

    /// Expansion of one JSON value under `active_property` (the crate's `expand_element`).
    fn element(
        &mut self,
        ctx: &Arc<Compiled>,
        property: Option<&'d str>,
        element: &'d Value,
        graph: &Option<Term>,
    ) -> Step<Expanded> {
        match element {
            Value::Null => Ok(Expanded::Null),
            Value::Array(items) => {
                let is_list = property
                    .and_then(|p| ctx.terms.get(p))
                    .is_some_and(|d| d.shape == Shape::List);
                let mut result = Vec::with_capacity(items.len());
                for item in items {
                    match self.element(ctx, property, item, graph)? {
                        Expanded::Null => {}
                        Expanded::One(o) => result.push(o),
                        Expanded::Many(v) => result.extend(v),
                    }
                }
                Ok(if is_list {
                    Expanded::One(Obj::List(result))
                } else {
                    Expanded::Many(result)
                })
            }
            Value::Object(map) => self.object(ctx, property, map, graph, false),
            scalar => {
                let Some(property) = property else {
                    return give_up();
                };
                self.scalar(ctx, property, scalar, graph).map(Expanded::One)
            }
        }
    }

    /// A scalar under `property` (the crate's `expand_element` then `expand_literal`).
    fn scalar(
        &mut self,
        ctx: &Arc<Compiled>,
        property: &'d str,
        value: &'d Value,
        graph: &Option<Term>,
    ) -> Step<Obj> {
        let scoped;
        let ctx = match ctx.terms.get(property).and_then(|d| d.scope) {
            Some(scope) => {
                scoped = available(compile::transition(ctx, scope, Mode::Plain))?;
                &scoped
            }
            None => ctx,
        };
        let def = ctx.terms.get(property);
        if def.is_some_and(|d| d.unsupported) {
            return give_up();
        }
        let coercion = def.map_or(&Coercion::Absent, |d| &d.coercion);
        let canonical = graph.is_none();
        match (coercion, value) {
            (Coercion::Id, Value::String(s)) => self.node_id(ctx, s).map(Obj::Node),
            (Coercion::Vocab, Value::String(s)) => {
                Self::vocab_iri(ctx, s).map(|iri| Obj::Node(Term::Iri(iri)))
            }
            (Coercion::Json, _) => give_up(),
            (Coercion::Iri(datatype), v) => literal(v, Some(datatype), canonical).map(Obj::Literal),
            (_, Value::String(s)) => {
                // The term's language, or the context's default one (a direction changes nothing in RDF here).
                let language = match def.and_then(|d| d.language.as_ref()) {
                    Some(explicit) => explicit.as_ref(),
                    None => ctx.default_language.as_ref(),
                };
                string_literal(s, language.map(|l| l.as_lenient_lang_tag_ref())).map(Obj::Literal)
            }
            (_, v) => literal(v, None, canonical).map(Obj::Literal),
        }
    }

    /// A JSON object (the crate's `expand_element` for maps, then `expand_node` or `expand_value`): node and value
    /// objects are handled, list and set objects are not. `top`: the document itself, whose `@context` is already
    /// processed into `ctx`.
    pub(super) fn object(
        &mut self,
        ctx: &Arc<Compiled>,
        property: Option<&'d str>,
        map: &'d Map<String, Value>,
        graph: &Option<Term>,
        top: bool,
    ) -> Step<Expanded> {
        let entries = || {
            map.iter()
                .filter(move |(k, _)| !(top && k.as_str() == "@context"))
        };
        // Preliminary key expansions: is it a value object, or a lone `@id` (a node reference)?
        let mut len = 0;
        let mut has_id = false;
        let mut has_value = false;
        for (key, _) in entries() {
            len += 1;
            match expand_iri(ctx, key, false, true)? {
                Expansion::Id => has_id = true,
                Expansion::OtherKeyword(Keyword::Value) => has_value = true,
                _ => {}
            }
        }
        // Type-scoped contexts do not apply to new node objects (but do to a value or a lone reference).
        let mut active = match &ctx.previous {
            Some(previous) if !(has_value || len == 1 && has_id) => previous.clone(),
            _ => ctx.clone(),
        };
        if let Some(scope) = property
            .and_then(|p| ctx.terms.get(p))
            .and_then(|d| d.scope)
        {
            active = available(compile::transition(&active, scope, Mode::Override))?;
        }
        if !top && let Some(local) = map.get("@context") {
            let scope = available(embedded_scope(local, active.generation))?;
            active = available(compile::transition(&active, scope, Mode::Plain))?;
        }
        // Type-scoped contexts, by `@type` entry key then by type, lexicographically.
        let mut type_entries: Vec<(&'d str, &'d Value)> = Vec::new();
        for (key, value) in entries() {
            if let Expansion::Type = expand_iri(&active, key, false, true)? {
                type_entries.push((key, value));
            }
        }
        type_entries.sort_unstable_by_key(|(k, _)| *k);
        let type_scoped = active.clone();
        for (_, value) in &type_entries {
            let mut terms: Vec<&str> = as_array(value).filter_map(Value::as_str).collect();
            terms.sort_unstable();
            for term in terms {
                if let Some(scope) = type_scoped.terms.get(term).and_then(|d| d.scope) {
                    active = available(compile::transition(&active, scope, Mode::NoPropagate))?;
                }
            }
        }

        let mut expanded = Vec::with_capacity(len);
        let mut value_object = false;
        for (key, value) in entries() {
            let expansion = expand_iri(&active, key, false, true)?;
            match expansion {
                // List and set objects are not handled.
                Expansion::OtherKeyword(Keyword::List | Keyword::Set) => return give_up(),
                Expansion::OtherKeyword(Keyword::Value) => value_object = true,
                _ => {}
            }
            expanded.push((expansion, key.as_str(), value));
        }
        if value_object {
            // The input type: the last value of the first `@type` entry (an error only if `@vocab` rejects it).
            if let Some((_, value)) = type_entries.first()
                && let Some(Value::String(last)) = as_array(value).last()
            {
                expand_iri(&active, last, false, true)?;
            }
            return self.value(&type_scoped, expanded, graph);
        }

        // The node: its identifier first (quads need it), then types and properties in document order.
        let mut subject = None;
        let mut rest: Vec<(&'d str, Option<String>, &'d Value)> = Vec::with_capacity(len);
        // `@language` or `@direction` in a node: ignored, but an otherwise empty anonymous node is then dropped.
        let mut value_object_entries = false;
        for (expansion, key, value) in expanded {
            match expansion {
                Expansion::Context => {}
                Expansion::OtherKeyword(Keyword::Language | Keyword::Direction) => {
                    value_object_entries = true;
                }
                Expansion::OtherKeyword(Keyword::Index) => {
                    if !value.is_string() {
                        return give_up();
                    }
                }
                Expansion::Id => {
                    let (None, Value::String(id)) = (&subject, value) else {
                        // A second `@id` (colliding keywords) or not a string: errors.
                        return give_up();
                    };
                    subject = Some(self.node_id(&active, id)?);
                }
                Expansion::Type => rest.push((key, None, value)),
                Expansion::Iri(iri) => rest.push((key, Some(iri.to_string()), value)),
                Expansion::Concat(iri) => rest.push((key, Some(iri), value)),
                // A blank node identifier as a property (generalized RDF, dropped by toRdf), keywords the fast
                // path does not handle (`@graph`, `@reverse`, `@included`, `@nest`...), a key dropped as `null`,
                // an undefined term (an error under the strict policy)...
                _ => return give_up(),
            }
        }
        let anonymous = subject.is_none();
        let subject = match subject {
            Some(s) => s,
            None => self.fresh(),
        };
        // Whether the crate's node would be empty (no type, no property entry, even an empty one).
        let mut empty = true;
        for (key, predicate, value) in rest {
            match predicate {
                None => {
                    for ty in as_array(value) {
                        let Value::String(ty) = ty else {
                            return give_up();
                        };
                        let iri = Self::vocab_iri(&type_scoped, ty)?;
                        self.emit(&subject, RDF_TYPE, Term::Iri(iri), graph);
                        empty = false;
                    }
                }
                Some(predicate) => {
                    if self.property(&active, &subject, key, &predicate, value, graph)? {
                        empty = false;
                    }
                }
            }
        }
        if value_object_entries && empty && anonymous {
            return Ok(Expanded::Null);
        }
        Ok(Expanded::One(Obj::Node(subject)))
    }

    /// A value object (the crate's `expand_value`), its entries expanded.
    fn value(
        &mut self,
        type_scoped: &Compiled,
        entries: Vec<(Expansion<'_>, &'d str, &'d Value)>,
        graph: &Option<Term>,
    ) -> Step<Expanded> {
        let mut json = false;
        let mut datatype: Option<String> = None;
        let mut language: Option<&str> = None;
        let mut direction = false;
        let mut value = &Value::Null;
        for (expansion, _, v) in entries {
            match (expansion, v) {
                (Expansion::OtherKeyword(Keyword::Language), Value::String(tag)) => {
                    if tag != "@none" {
                        language = Some(tag);
                    }
                }
                (Expansion::OtherKeyword(Keyword::Direction), Value::String(d))
                    if d == "ltr" || d == "rtl" =>
                {
                    direction = true;
                }
                (Expansion::OtherKeyword(Keyword::Index), Value::String(_)) => {}
                (Expansion::Type, Value::String(ty)) => {
                    match expand_iri(type_scoped, ty, true, true)? {
                        Expansion::OtherKeyword(Keyword::Json) => json = true,
                        Expansion::Iri(iri) => {
                            json = false;
                            datatype = Some(iri.to_string());
                        }
                        Expansion::Concat(iri) => {
                            json = false;
                            datatype = Some(iri);
                        }
                        // Errors, or a blank node as datatype.
                        _ => return give_up(),
                    }
                }
                (Expansion::OtherKeyword(Keyword::Value), v) => value = v,
                // Any other entry (or value) is an error of the slow path.
                _ => return give_up(),
            }
        }
        let canonical = graph.is_none();
        if json {
            if language.is_some() || direction {
                return give_up();
            }
            let lexical = need(literal::json(value, canonical))?;
            return Ok(Expanded::One(Obj::Literal(Term::Literal {
                value: lexical,
                datatype: Some(literal::RDF_JSON.to_string()),
                language: None,
            })));
        }
        match value {
            Value::Null => return Ok(Expanded::Null),
            Value::Array(_) | Value::Object(_) => return give_up(),
            _ => {}
        }
        if language.is_some() || direction {
            let (Value::String(s), None) = (value, &datatype) else {
                return give_up();
            };
            let language = language.map(LenientLangTag::new).map(|(tag, _)| tag);
            return string_literal(s, language).map(|t| Expanded::One(Obj::Literal(t)));
        }
        literal(value, datatype.as_deref(), canonical).map(|t| Expanded::One(Obj::Literal(t)))
    }

    /// One property of a node (the crate's `expand_node_entries` for a non-keyword key). `true` when the crate would
    /// add an entry to the node (even an empty one).
    fn property(
        &mut self,
        ctx: &Arc<Compiled>,
        subject: &Term,
        key: &'d str,
        predicate: &str,
        value: &'d Value,
        graph: &Option<Term>,
    ) -> Step<bool> {
        let def = ctx.terms.get(key);
        if def.is_some_and(|d| d.unsupported) {
            return give_up();
        }
        let shape = def.map_or(Shape::Plain, |d| d.shape);
        if def.is_some_and(|d| d.coercion == Coercion::Json) {
            if shape != Shape::Plain {
                return give_up();
            }
            let lexical = need(literal::json(value, graph.is_none()))?;
            let object = Term::Literal {
                value: lexical,
                datatype: Some(literal::RDF_JSON.to_string()),
                language: None,
            };
            self.emit(subject, predicate, object, graph);
            return Ok(true);
        }
        match shape {
            Shape::Plain => {
                let expanded = self.element(ctx, Some(key), value, graph)?;
                if let Expanded::Null = expanded {
                    return Ok(false);
                }
                for obj in expanded.into_vec() {
                    let object = self.rdf_object(obj, graph);
                    self.emit(subject, predicate, object, graph);
                }
            }
            Shape::List => {
                let list = match self.element(ctx, Some(key), value, graph)? {
                    Expanded::One(Obj::List(items)) => items,
                    other => other.into_vec(),
                };
                let object = self.rdf_object(Obj::List(list), graph);
                self.emit(subject, predicate, object, graph);
            }
            // Even `null` leaves an (empty) entry there.
            Shape::Graph => self.graph_values(ctx, subject, key, predicate, value, graph)?,
        }
        Ok(true)
    }

    /// The values of a `@graph` container: each one a node whose graph holds it, so its quads go into a graph named
    /// by a fresh blank node, object of the property.
    fn graph_values(
        &mut self,
        ctx: &Arc<Compiled>,
        subject: &Term,
        key: &'d str,
        predicate: &str,
        value: &'d Value,
        graph: &Option<Term>,
    ) -> Step<()> {
        match value {
            Value::Null => Ok(()),
            Value::Array(items) => {
                for item in items {
                    self.graph_values(ctx, subject, key, predicate, item, graph)?;
                }
                Ok(())
            }
            _ => {
                let name = self.fresh();
                match self.element(ctx, Some(key), value, &Some(name.clone()))? {
                    Expanded::One(Obj::Node(_) | Obj::Literal(_)) => {
                        self.emit(subject, predicate, name, graph);
                        Ok(())
                    }
                    _ => give_up(),
                }
            }
        }
    }

    /// The RDF term of an expanded object used as a property value; a list emits its `rdf:first`/`rdf:rest` chain.
    fn rdf_object(&mut self, obj: Obj, graph: &Option<Term>) -> Term {
        match obj {
            Obj::Node(t) | Obj::Literal(t) => t,
            Obj::List(items) if items.is_empty() => Term::Iri(RDF_NIL.to_string()),
            Obj::List(items) => {
                let head = self.fresh();
                let mut previous: Option<Term> = None;
                for item in items {
                    let node = match previous {
                        None => head.clone(),
                        Some(_) => self.fresh(),
                    };
                    let value = self.rdf_object(item, graph);
                    if let Some(p) = &previous {
                        self.emit(p, RDF_REST, node.clone(), graph);
                    }
                    self.emit(&node, RDF_FIRST, value, graph);
                    previous = Some(node);
                }
                if let Some(p) = &previous {
                    self.emit(p, RDF_REST, Term::Iri(RDF_NIL.to_string()), graph);
                }
                head
            }
        }
    }
}

/// A native or coerced literal (the crate's `expand_literal` then toRdf): `canonical` when in the default graph.
fn literal(value: &Value, datatype: Option<&str>, canonical: bool) -> Step<Term> {
    let (lexical, datatype) = match value {
        Value::Bool(b) => (
            b.to_string(),
            datatype.unwrap_or(literal::XSD_BOOLEAN).to_string(),
        ),
        Value::Number(n) => need(literal::number(n, datatype, canonical))?,
        Value::String(s) => (
            s.clone(),
            datatype.unwrap_or(literal::XSD_STRING).to_string(),
        ),
        _ => return give_up(),
    };
    Ok(Term::Literal {
        value: lexical,
        datatype: Some(datatype),
        language: None,
    })
}

/// A string, language-tagged when `language` is given (the slow path refuses a malformed tag). A direction alone
/// gives a plain string: the slow path converts to RDF without an `rdfDirection` option.
fn string_literal(s: &str, language: Option<&LenientLangTag>) -> Step<Term> {
    match language {
        None => Ok(Term::Literal {
            value: s.to_string(),
            datatype: Some(literal::XSD_STRING.to_string()),
            language: None,
        }),
        Some(tag) => {
            let tag = need(tag.as_well_formed())?;
            Ok(Term::Literal {
                value: s.to_string(),
                datatype: None,
                language: Some(tag.as_str().to_string()),
            })
        }
    }
}

fn as_array(v: &Value) -> std::slice::Iter<'_, Value> {
    match v {
        Value::Array(items) => items.iter(),
        other => std::slice::from_ref(other).iter(),
    }
}
