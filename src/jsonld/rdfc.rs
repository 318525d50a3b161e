//! RDFC-1.0 canonical N-Quads (W3C RDF Dataset Canonicalization, SHA-256) via `oxrdf`, with a guard against
//! dataset poisoning (RDFC-1.0 §6.1): the Hash N-Degree Quads step is exponential in the number of blank nodes
//! that share a first-degree hash, so such datasets are refused before `oxrdf` starts.

use std::collections::HashMap;

use oxrdf::dataset::{CanonicalizationAlgorithm, CanonicalizationHashAlgorithm};
use oxrdf::{Dataset, GraphNameRef, NamedOrBlankNodeRef, QuadRef, TermRef};

use super::CanonError;

/// Quads in one document (an Open Badge has a few dozen).
pub(super) const MAX_QUADS: usize = 20_000;
/// Blank nodes in one document.
pub(super) const MAX_BLANK_NODES: usize = 2_000;
/// Blank nodes whose first-degree hash is not unique (each needs the n-degree step).
pub(super) const MAX_SHARED_HASH_NODES: usize = 64;
/// Blank nodes sharing one first-degree hash (permutations grow as its factorial).
pub(super) const MAX_SHARED_HASH_GROUP: usize = 4;

pub(super) fn canonical_nquads(quads: &[oxrdf::Quad]) -> Result<String, CanonError> {
    guard(quads)?;
    let mut dataset: Dataset = quads.iter().collect();
    dataset.canonicalize(CanonicalizationAlgorithm::Rdfc10 {
        hash_algorithm: CanonicalizationHashAlgorithm::Sha256,
    });
    let mut lines: Vec<String> = dataset.iter().map(|q| format!("{q} .\n")).collect();
    lines.sort_unstable();
    lines.dedup();
    Ok(lines.concat())
}

/// Refuses datasets whose canonicalisation could take unbounded time.
fn guard(quads: &[oxrdf::Quad]) -> Result<(), CanonError> {
    if quads.len() > MAX_QUADS {
        return Err(CanonError::TooComplex(format!(
            "{} RDF quads (at most {MAX_QUADS})",
            quads.len()
        )));
    }
    // First-degree "hash" of each blank node (RDFC-1.0 §4.6): its quads, itself as _:a, other blank nodes as _:z.
    // Equal strings are equal hashes, so the strings themselves are compared.
    let mut per_node: HashMap<&str, Vec<String>> = HashMap::new();
    for quad in quads {
        let q = quad.as_ref();
        for b in blank_nodes(q) {
            per_node.entry(b).or_default();
        }
    }
    if per_node.len() > MAX_BLANK_NODES {
        return Err(CanonError::TooComplex(format!(
            "{} blank nodes (at most {MAX_BLANK_NODES})",
            per_node.len()
        )));
    }
    for quad in quads {
        let q = quad.as_ref();
        let mut seen: Vec<&str> = Vec::new();
        for b in blank_nodes(q) {
            if !seen.contains(&b) {
                seen.push(b);
                let line = first_degree_line(q, b);
                per_node.get_mut(b).expect("collected above").push(line);
            }
        }
    }
    let mut groups: HashMap<String, usize> = HashMap::new();
    for lines in per_node.values_mut() {
        lines.sort_unstable();
        *groups.entry(lines.concat()).or_default() += 1;
    }
    let shared: usize = groups.values().filter(|&&n| n > 1).sum();
    let largest = groups.values().copied().max().unwrap_or(0);
    if shared > MAX_SHARED_HASH_NODES || largest > MAX_SHARED_HASH_GROUP {
        return Err(CanonError::TooComplex(format!(
            "{shared} blank nodes with non-unique first-degree hashes, up to {largest} alike \
             (at most {MAX_SHARED_HASH_NODES}, and {MAX_SHARED_HASH_GROUP} alike)"
        )));
    }
    Ok(())
}

fn blank_nodes(q: QuadRef<'_>) -> impl Iterator<Item = &str> {
    let s = match q.subject {
        NamedOrBlankNodeRef::BlankNode(b) => Some(b.as_str()),
        _ => None,
    };
    let o = match q.object {
        TermRef::BlankNode(b) => Some(b.as_str()),
        _ => None,
    };
    let g = match q.graph_name {
        GraphNameRef::BlankNode(b) => Some(b.as_str()),
        _ => None,
    };
    [s, o, g].into_iter().flatten()
}

fn first_degree_line(q: QuadRef<'_>, reference: &str) -> String {
    let label = |b: &str| if b == reference { "_:a" } else { "_:z" };
    let subject = match q.subject {
        NamedOrBlankNodeRef::BlankNode(b) => label(b.as_str()).to_string(),
        other => other.to_string(),
    };
    let object = match q.object {
        TermRef::BlankNode(b) => label(b.as_str()).to_string(),
        other => other.to_string(),
    };
    let graph = match q.graph_name {
        GraphNameRef::BlankNode(b) => format!(" {}", label(b.as_str())),
        GraphNameRef::NamedNode(n) => format!(" {n}"),
        GraphNameRef::DefaultGraph => String::new(),
    };
    format!("{subject} {} {object}{graph} .\n", q.predicate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::{BlankNode, NamedNode, Quad};

    fn p(n: usize) -> NamedNode {
        NamedNode::new_unchecked(format!("http://example.org/p{n}"))
    }

    /// A clique of `n` blank nodes, all alike: the classic poisoning shape.
    fn clique(n: usize) -> Vec<Quad> {
        let nodes: Vec<BlankNode> = (0..n)
            .map(|i| BlankNode::new_unchecked(format!("x{i}")))
            .collect();
        let mut quads = Vec::new();
        for a in &nodes {
            for b in &nodes {
                if a != b {
                    quads.push(Quad::new(
                        a.clone(),
                        p(0),
                        b.clone(),
                        oxrdf::GraphName::DefaultGraph,
                    ));
                }
            }
        }
        quads
    }

    #[test]
    fn canonicalizes_and_relabels() {
        let b = BlankNode::new_unchecked("anything");
        let quads = vec![Quad::new(
            b,
            p(1),
            oxrdf::Literal::new_simple_literal("v"),
            oxrdf::GraphName::DefaultGraph,
        )];
        assert_eq!(
            canonical_nquads(&quads).unwrap(),
            "_:c14n0 <http://example.org/p1> \"v\" .\n"
        );
    }

    #[test]
    fn small_symmetric_graphs_pass() {
        assert!(canonical_nquads(&clique(2)).is_ok());
        assert!(canonical_nquads(&clique(MAX_SHARED_HASH_GROUP)).is_ok());
    }

    #[test]
    fn poisoned_dataset_is_refused_quickly() {
        let start = std::time::Instant::now();
        assert!(matches!(
            canonical_nquads(&clique(40)),
            Err(CanonError::TooComplex(_))
        ));
        assert!(start.elapsed().as_secs() < 5);
    }
}
