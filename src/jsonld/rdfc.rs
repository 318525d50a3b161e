//! W3C RDF Dataset Canonicalization (RDFC-1.0, W3C Recommendation 2024-05-21) with SHA-256, and canonical N-Quads.
//!
//! Written here rather than taken from `oxrdf` 0.3.5, whose RDFC-1.0 keeps the related blank nodes of Hash
//! N-Degree Quads (§4.8.3 step 3.1.2) in a set instead of a list: a node related through several quads (the
//! usual case for a named graph's blank node name, e.g. an embedded proof graph) is counted once, and datasets
//! with such ties get labels that differ from the reference implementation (Digital Bazaar `rdf-canonize`),
//! which breaks signatures (1EdTech sample `complete.json`). Tie-breaks follow `rdf-canonize` 4 exactly (the
//! permutation order of its `Permuter`, stable sorts), so both agree even where the spec leaves a choice.
//!
//! Dataset poisoning (§6.1): the n-degree step can be exponential. Every Hash N-Degree Quads call and every
//! permutation costs units of a fixed budget (one, plus the identifiers it copies); blank nodes and quads are capped too. Beyond that the document
//! is refused (`CanonError::TooComplex`), never processed for an unbounded time.

use std::collections::{BTreeMap, HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::CanonError;

/// Quads in one document (an Open Badge has a few dozen to a few hundred).
pub(super) const MAX_QUADS: usize = 20_000;
/// Blank nodes in one document.
pub(super) const MAX_BLANK_NODES: usize = 2_000;
/// Work units for the whole dataset: each Hash N-Degree Quads call and each permutation costs one,
/// plus one per blank node identifier it copies. Real credentials use a handful; the budget keeps
/// the worst dataset to a few milliseconds (`carnet bench --hostile`).
pub(super) const MAX_WORK: usize = 50_000;

/// An RDF term as produced by JSON-LD toRdf.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Term {
    Iri(String),
    /// A blank node, by its label (without `_:`).
    Blank(String),
    Literal {
        value: String,
        /// `None` for a language-tagged string.
        datatype: Option<String>,
        language: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Quad {
    pub subject: Term,
    pub predicate: String,
    pub object: Term,
    /// `None`: the default graph.
    pub graph: Option<Term>,
}

const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";

/// The canonical N-Quads of `quads` (a dataset: duplicates count once): sorted lines, each ending in " .\n".
pub(super) fn canonical_nquads(quads: &[Quad]) -> Result<String, CanonError> {
    if quads.len() > MAX_QUADS {
        return Err(CanonError::TooComplex(format!(
            "{} RDF quads (at most {MAX_QUADS})",
            quads.len()
        )));
    }
    let mut canon = Canonicalizer::new(quads)?;
    canon.run()?;
    let mut lines: Vec<String> = canon
        .quads
        .iter()
        .map(|q| q.serialize(&|b| format!("_:{}", canon.canonical.get(b).expect("all issued"))))
        .collect();
    lines.sort_unstable();
    Ok(lines.concat())
}

/// One quad position: a serialized non-blank term, or a blank node index.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Slot {
    Fixed(String),
    Blank(usize),
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct IQuad {
    subject: Slot,
    /// The predicate IRI as given (Hash Related Blank Node uses it unescaped, as `rdf-canonize` does).
    predicate_iri: String,
    /// `<predicate>`, escaped.
    predicate: String,
    object: Slot,
    graph: Option<Slot>,
}

impl IQuad {
    fn serialize(&self, blank: &dyn Fn(usize) -> String) -> String {
        let slot = |s: &Slot| match s {
            Slot::Fixed(text) => text.clone(),
            Slot::Blank(b) => blank(*b),
        };
        let mut line = format!(
            "{} {} {}",
            slot(&self.subject),
            self.predicate,
            slot(&self.object)
        );
        if let Some(g) = &self.graph {
            line.push(' ');
            line.push_str(&slot(g));
        }
        line.push_str(" .\n");
        line
    }

    fn blanks(&self) -> impl Iterator<Item = (usize, &'static str)> + '_ {
        let blank = |s: &Slot| match s {
            Slot::Blank(b) => Some(*b),
            Slot::Fixed(_) => None,
        };
        [
            blank(&self.subject).map(|b| (b, "s")),
            blank(&self.object).map(|b| (b, "o")),
            self.graph.as_ref().and_then(blank).map(|b| (b, "g")),
        ]
        .into_iter()
        .flatten()
    }
}

/// Identifier issuer (RDFC-1.0 §4.5): issued identifiers, in issue order.
#[derive(Clone)]
struct Issuer {
    prefix: &'static str,
    issued: HashMap<usize, String>,
    order: Vec<usize>,
}

impl Issuer {
    fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            issued: HashMap::new(),
            order: Vec::new(),
        }
    }

    fn issue(&mut self, b: usize) -> String {
        if let Some(id) = self.issued.get(&b) {
            return id.clone();
        }
        let id = format!("{}{}", self.prefix, self.order.len());
        self.issued.insert(b, id.clone());
        self.order.push(b);
        id
    }

    fn get(&self, b: usize) -> Option<&String> {
        self.issued.get(&b)
    }
}

struct Canonicalizer {
    quads: Vec<IQuad>,
    /// Input labels, by blank node index (tie-breaks compare them, as `rdf-canonize` does).
    labels: Vec<String>,
    /// Quads mentioning each blank node, each once, in dataset order.
    quads_of: Vec<Vec<usize>>,
    first_degree: Vec<String>,
    canonical: Issuer,
    work_left: usize,
}

impl Canonicalizer {
    fn new(input: &[Quad]) -> Result<Self, CanonError> {
        let mut labels: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut slot = |t: &Term, labels: &mut Vec<String>| -> Slot {
            match t {
                Term::Blank(label) => {
                    Slot::Blank(*index.entry(label.clone()).or_insert_with(|| {
                        labels.push(label.clone());
                        labels.len() - 1
                    }))
                }
                Term::Iri(iri) => Slot::Fixed(format!("<{}>", escape_iri(iri))),
                Term::Literal {
                    value,
                    datatype,
                    language,
                } => {
                    let mut text = format!("\"{}\"", escape_literal(value));
                    match (language, datatype) {
                        (Some(lang), _) => {
                            text.push('@');
                            text.push_str(lang);
                        }
                        (None, Some(dt)) if dt != XSD_STRING => {
                            text.push_str(&format!("^^<{}>", escape_iri(dt)));
                        }
                        (None, _) => {}
                    }
                    Slot::Fixed(text)
                }
            }
        };
        let mut seen = HashSet::new();
        let mut quads = Vec::with_capacity(input.len());
        for q in input {
            let iq = IQuad {
                subject: slot(&q.subject, &mut labels),
                predicate_iri: q.predicate.clone(),
                predicate: format!("<{}>", escape_iri(&q.predicate)),
                object: slot(&q.object, &mut labels),
                graph: q.graph.as_ref().map(|g| slot(g, &mut labels)),
            };
            if seen.insert(iq.clone()) {
                quads.push(iq);
            }
        }
        if labels.len() > MAX_BLANK_NODES {
            return Err(CanonError::TooComplex(format!(
                "{} blank nodes (at most {MAX_BLANK_NODES})",
                labels.len()
            )));
        }
        let mut quads_of = vec![Vec::new(); labels.len()];
        for (i, q) in quads.iter().enumerate() {
            for (b, _) in q.blanks() {
                if quads_of[b].last() != Some(&i) {
                    quads_of[b].push(i);
                }
            }
        }
        let mut canon = Self {
            quads,
            labels,
            quads_of,
            first_degree: Vec::new(),
            canonical: Issuer::new("c14n"),
            work_left: MAX_WORK,
        };
        canon.first_degree = (0..canon.labels.len())
            .map(|b| canon.hash_first_degree(b))
            .collect();
        Ok(canon)
    }

    /// §4.4.3 steps 3–6: issue every canonical identifier.
    fn run(&mut self) -> Result<(), CanonError> {
        // Blank nodes in order of first mention (the order `rdf-canonize` keeps for ties).
        let mut by_hash: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for b in 0..self.labels.len() {
            by_hash.entry(&self.first_degree[b]).or_default().push(b);
        }
        let mut shared: Vec<Vec<usize>> = Vec::new();
        for list in by_hash.into_values() {
            if list.len() == 1 {
                self.canonical.issue(list[0]);
            } else {
                shared.push(list);
            }
        }
        for list in shared {
            let mut results: Vec<(String, Issuer)> = Vec::new();
            for b in list {
                if self.canonical.get(b).is_some() {
                    continue;
                }
                let mut temporary = Issuer::new("b");
                temporary.issue(b);
                results.push(self.hash_n_degree(b, temporary)?);
            }
            results.sort_by(|a, b| a.0.cmp(&b.0));
            for (_, issuer) in results {
                for b in issuer.order {
                    self.canonical.issue(b);
                }
            }
        }
        Ok(())
    }

    /// §4.6 Hash First Degree Quads.
    fn hash_first_degree(&self, reference: usize) -> String {
        let mut lines: Vec<String> = self.quads_of[reference]
            .iter()
            .map(|&i| {
                self.quads[i].serialize(&|b| if b == reference { "_:a" } else { "_:z" }.to_string())
            })
            .collect();
        lines.sort_unstable();
        sha256_hex(lines.concat().as_bytes())
    }

    /// §4.7 Hash Related Blank Node.
    fn hash_related(
        &self,
        related: usize,
        quad: &IQuad,
        issuer: &Issuer,
        position: &str,
    ) -> String {
        let mut input = position.to_string();
        if position != "g" {
            input.push('<');
            input.push_str(&quad.predicate_iri);
            input.push('>');
        }
        match self.canonical.get(related).or_else(|| issuer.get(related)) {
            Some(id) => {
                input.push_str("_:");
                input.push_str(id);
            }
            None => input.push_str(&self.first_degree[related]),
        }
        sha256_hex(input.as_bytes())
    }

    /// Spends `units` of the budget: a step costs one unit plus one per identifier its issuer
    /// holds (the copy each step makes), so that long paths cost what they take.
    fn spend(&mut self, units: usize) -> Result<(), CanonError> {
        self.work_left = self.work_left.checked_sub(units).ok_or_else(|| {
            CanonError::TooComplex(format!(
                "blank node structure needs more than {MAX_WORK} canonicalization steps \
                 (possible dataset poisoning)"
            ))
        })?;
        Ok(())
    }

    /// §4.8 Hash N-Degree Quads: (hash, issuer).
    fn hash_n_degree(
        &mut self,
        identifier: usize,
        mut issuer: Issuer,
    ) -> Result<(String, Issuer), CanonError> {
        self.spend(1 + issuer.order.len())?;
        // 1–3: related hash → related blank nodes, as a list: one entry per mention.
        let mut related_by_hash: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for &i in &self.quads_of[identifier] {
            let quad = &self.quads[i];
            for (related, position) in quad.blanks() {
                if related != identifier {
                    let hash = self.hash_related(related, quad, &issuer, position);
                    related_by_hash.entry(hash).or_default().push(related);
                }
            }
        }
        // 4–5
        let mut data = String::new();
        for (related_hash, list) in related_by_hash {
            data.push_str(&related_hash);
            let mut chosen_path = String::new();
            let mut chosen_issuer: Option<Issuer> = None;
            let mut permutations = Permuter::new(list, &self.labels);
            while let Some(permutation) = permutations.next(&self.labels) {
                self.spend(1 + issuer.order.len())?;
                let mut issuer_copy = issuer.clone();
                let mut path = String::new();
                let mut recursion = Vec::new();
                let mut skip = false;
                for related in permutation {
                    match self.canonical.get(related) {
                        Some(id) => {
                            path.push_str("_:");
                            path.push_str(id);
                        }
                        None => {
                            if issuer_copy.get(related).is_none() {
                                recursion.push(related);
                            }
                            path.push_str("_:");
                            path.push_str(&issuer_copy.issue(related));
                        }
                    }
                    if !chosen_path.is_empty() && path > chosen_path {
                        skip = true;
                        break;
                    }
                }
                if skip {
                    continue;
                }
                for related in recursion {
                    let (hash, result_issuer) = self.hash_n_degree(related, issuer_copy.clone())?;
                    path.push_str("_:");
                    path.push_str(&issuer_copy.issue(related));
                    path.push('<');
                    path.push_str(&hash);
                    path.push('>');
                    issuer_copy = result_issuer;
                    if !chosen_path.is_empty() && path > chosen_path {
                        skip = true;
                        break;
                    }
                }
                if skip {
                    continue;
                }
                if chosen_path.is_empty() || path < chosen_path {
                    chosen_path = path;
                    chosen_issuer = Some(issuer_copy);
                }
            }
            data.push_str(&chosen_path);
            if let Some(chosen) = chosen_issuer {
                issuer = chosen;
            }
        }
        Ok((sha256_hex(data.as_bytes()), issuer))
    }
}

/// Steinhaus–Johnson–Trotter over the list sorted by label, as `rdf-canonize`'s `Permuter` (equal elements, i.e.
/// repeated mentions of one node, are never mobile, so repeats add no permutations).
struct Permuter {
    current: Vec<usize>,
    left: HashMap<usize, bool>,
    done: bool,
}

impl Permuter {
    fn new(mut list: Vec<usize>, labels: &[String]) -> Self {
        list.sort_by(|a, b| labels[*a].cmp(&labels[*b]));
        let left = list.iter().map(|&b| (b, true)).collect();
        Self {
            current: list,
            left,
            done: false,
        }
    }

    fn next(&mut self, labels: &[String]) -> Option<Vec<usize>> {
        if self.done {
            return None;
        }
        let result = self.current.clone();
        let gt = |a: usize, b: usize| labels[a] > labels[b];
        let n = self.current.len();
        let mut mobile: Option<(usize, usize)> = None; // (element, position)
        for i in 0..n {
            let e = self.current[i];
            let left = self.left[&e];
            let looks_at_smaller = if left {
                i > 0 && gt(e, self.current[i - 1])
            } else {
                i + 1 < n && gt(e, self.current[i + 1])
            };
            if looks_at_smaller && mobile.is_none_or(|(k, _)| gt(e, k)) {
                mobile = Some((e, i));
            }
        }
        match mobile {
            None => self.done = true,
            Some((k, pos)) => {
                let swap = if self.left[&k] { pos - 1 } else { pos + 1 };
                self.current.swap(pos, swap);
                for e in self.current.clone() {
                    if gt(e, k) {
                        let d = self
                            .left
                            .get_mut(&e)
                            .expect("every element has a direction");
                        *d = !*d;
                    }
                }
            }
        }
        Some(result)
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(data)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Canonical N-Quads string escaping (RDFC-1.0 §4.3 / RDF 1.2 N-Quads canonical form).
fn escape_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0'..='\u{1f}' | '\u{7f}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// IRIs: characters N-Quads does not allow in IRIREF become UCHAR escapes.
fn escape_iri(s: &str) -> String {
    if !s.chars().any(|c| c <= ' ' || "<>\"{}|^`\\".contains(c)) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c <= ' ' || "<>\"{}|^`\\".contains(c) {
            out.push_str(&format!("\\u{:04X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
#[path = "rdfc_tests.rs"]
mod tests;
