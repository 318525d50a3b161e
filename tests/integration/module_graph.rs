//! One-way dependencies between the crate's top-level modules (issue #13 §6): the layers are
//! model → crypto and proofs → storage → domain services → HTTP and CLI, so no two top-level
//! modules may reach each other, even through others.
//!
//! Every `.rs` file under `src/` is read (`src/foo.rs` and `src/foo/**` belong to `foo`; `lib.rs`
//! and `main.rs` are skipped); each `crate::foo` path (uses, expressions, types, `crate::{a, b}`
//! groups over several lines) and each `super::` chain climbing to the crate root is an edge,
//! outside comments (block comments taken as not nested) and string literals. Test-only code does
//! not count: items under `#[cfg(test)]` (e.g. `mod tests { … }`) and files named `tests.rs`,
//! `tests_*.rs` or `*_tests.rs`. A strongly connected component of more than one module fails the
//! test, naming for each edge inside it a `file:line` that makes it: what to cut. Std only: a
//! small scanner, not a Rust parser.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// (from, to) → every `src/…:line` where `from` names `to`.
type Edges = BTreeMap<(String, String), Vec<String>>;

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn word_at(c: &[char], i: usize) -> String {
    c[i..].iter().take_while(|&&ch| is_ident(ch)).collect()
}

fn skip_ws(c: &[char], i: usize) -> usize {
    (i..c.len())
        .find(|&k| !c[k].is_whitespace())
        .unwrap_or(c.len())
}

/// The last non-blank character before `i`.
fn before(c: &[char], i: usize) -> Option<char> {
    c[..i].iter().rev().copied().find(|ch| !ch.is_whitespace())
}

/// The index just past the first `pat` at or after `from` (the end if none).
fn after(c: &[char], from: usize, pat: &str) -> usize {
    let (pat, from) = (pat.chars().collect::<Vec<_>>(), from.min(c.len()));
    let found = c[from..].windows(pat.len()).position(|w| w == pat);
    found.map_or(c.len(), |p| from + p + pat.len())
}

/// The index just past the bracket that closes the one at `open` (else `open + 1`).
fn matching(c: &[char], open: usize) -> usize {
    let mut depth = 0;
    for (i, &ch) in c.iter().enumerate().skip(open) {
        depth += matches!(ch, '{' | '[' | '(') as i32 - matches!(ch, '}' | ']' | ')') as i32;
        if depth == 0 {
            return i + 1;
        }
    }
    c.len()
}

/// Blanks `c[from..to]`, keeping newlines: offsets and line numbers still hold.
fn blank(c: &mut [char], from: usize, to: usize) {
    let to = to.min(c.len());
    for ch in &mut c[from..to] {
        if *ch != '\n' {
            *ch = ' ';
        }
    }
}

/// The code of `src`: comments, string and char literals and `#[cfg(test)]` items blanked.
fn code(src: &str) -> Vec<char> {
    let src: Vec<char> = src.chars().collect();
    let (mut out, mut i) = (src.clone(), 0);
    let at = |i: usize| src.get(i).copied().unwrap_or(' ');
    while i < src.len() {
        let start = i;
        let hashes = src[i + 1..].iter().take_while(|&&ch| ch == '#').count();
        i = match (src[i], at(i + 1)) {
            ('/', '/') => after(&src, i, "\n"),
            ('/', '*') => after(&src, i + 2, "*/"),
            ('r', _) if at(i + 1 + hashes) == '"' => {
                after(&src, i + 2 + hashes, &format!("\"{}", "#".repeat(hashes)))
            }
            ('"', _) => {
                let mut j = i + 1;
                while j < src.len() && src[j] != '"' {
                    j += if src[j] == '\\' { 2 } else { 1 };
                }
                j + 1
            }
            ('\'', '\\') => after(&src, i + 3, "'"),
            ('\'', _) if at(i + 2) == '\'' => i + 3,
            _ => {
                i += 1;
                continue;
            }
        };
        blank(&mut out, start, i);
    }
    // each `#[cfg(test)]` item
    let mut from = 0;
    while let Some(start) = Some(after(&out, from, "#[cfg(test)]")).filter(|&i| i < out.len()) {
        let mut end = start; // past brackets (attributes, arguments) to a `;` or a `{ … }` block
        while end < out.len() && !matches!(out[end], ';' | '{') {
            end = matching(&out, end);
        }
        end = matching(&out, end);
        blank(&mut out, start - "#[cfg(test)]".len(), end);
        from = end;
    }
    out
}

/// `i` just past a path root's `::` (`crate::`, `super::…`): the first name after it, or each
/// element's first name in a group `{ a::b, c }`, with their offsets.
fn names_at(c: &[char], i: usize) -> Vec<(usize, String)> {
    let i = skip_ws(c, i);
    if c.get(i) != Some(&'{') {
        return vec![(i, word_at(c, i))];
    }
    let (mut depth, mut names) = (0, vec![]);
    for k in i..matching(c, i) {
        depth += (c[k] == '{') as i32 - (c[k] == '}') as i32;
        let starts = is_ident(c[k]) && !is_ident(c[k - 1]);
        if depth == 1 && starts && matches!(before(c, k), Some('{' | ',')) {
            names.push((k, word_at(c, k)));
        }
    }
    names
}

/// The offset past `::` if `c[i..]` starts with (blanks and) `::`.
fn colons(c: &[char], i: usize) -> Option<usize> {
    let i = skip_ws(c, i);
    (c.get(i..i + 2) == Some(&[':', ':'][..])).then_some(i + 2)
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The edges between top-level modules, with every reference that makes each.
fn graph() -> Edges {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (src, mut files) = (root.join("src"), vec![]);
    rs_files(&src, &mut files);
    let (mut modules, mut edges) = (BTreeSet::new(), Edges::new());
    for file in files {
        // src/a/b/mod.rs → [a, b]; src/a/b/c.rs → [a, b, c]
        let rel = file.strip_prefix(&src).unwrap().with_extension("");
        let mut path: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into()).collect();
        if path.len() > 1 && path[path.len() - 1] == "mod" {
            path.pop();
        }
        let (top, name) = (path[0].clone(), path[path.len() - 1].as_str());
        if path.len() == 1 && (top == "lib" || top == "main") {
            continue;
        }
        modules.insert(top.clone());
        if name == "tests" || name.starts_with("tests_") || name.ends_with("_tests") {
            continue;
        }
        let c = code(&std::fs::read_to_string(&file).unwrap());
        let newlines: Vec<usize> = (0..c.len()).filter(|&i| c[i] == '\n').collect();
        let starts = (0..c.len()).filter(|&i| is_ident(c[i]) && (i == 0 || !is_ident(c[i - 1])));
        let words: Vec<(usize, String)> = starts.map(|i| (i, word_at(&c, i))).collect();
        // inline `mod x { … }` blocks: one more `super::` to climb out of each
        let mut inline = vec![];
        for w in words.windows(2).filter(|w| w[0].1 == "mod") {
            let open = skip_ws(&c, w[1].0 + w[1].1.len());
            if c.get(open) == Some(&'{') {
                inline.push(open..matching(&c, open));
            }
        }
        for (at, word) in &words {
            let targets = match word.as_str() {
                "crate" => colons(&c, at + 5).map_or(vec![], |i| names_at(&c, i)),
                "super" if before(&c, *at) != Some(':') => {
                    let (mut n, mut i) = (0, *at);
                    while let Some(next) = colons(&c, i + 5).filter(|_| word_at(&c, i) == "super") {
                        (n, i) = (n + 1, skip_ws(&c, next));
                    }
                    let depth = path.len() + inline.iter().filter(|r| r.contains(at)).count();
                    if n == depth { names_at(&c, i) } else { vec![] }
                }
                _ => vec![],
            };
            for (to_at, to) in targets.into_iter().filter(|(_, to)| *to != top) {
                let line = newlines.partition_point(|&nl| nl < to_at) + 1;
                let shown = format!("{}:{line}", file.strip_prefix(root).unwrap().display());
                edges.entry((top.clone(), to)).or_default().push(shown);
            }
        }
    }
    edges.retain(|(_, to), _| modules.contains(to));
    edges
}

/// The strongly connected components of more than one module: modules that reach each other.
fn cycles(edges: &Edges) -> Vec<BTreeSet<String>> {
    let mut reach: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, _) in edges.keys() {
        let mut todo = vec![from.as_str()];
        while let Some(a) = todo.pop() {
            for (_, b) in edges.keys().filter(|(x, _)| x == a) {
                if reach.entry(from).or_default().insert(b) {
                    todo.push(b);
                }
            }
        }
    }
    let mut out = vec![];
    for (m, to) in &reach {
        let back = |n: &&&str| reach.get(**n).is_some_and(|r| r.contains(m));
        let scc: BTreeSet<String> = to.iter().filter(back).map(|n| n.to_string()).collect();
        if scc.len() > 1 && !out.contains(&scc) {
            out.push(scc);
        }
    }
    out
}

#[test]
fn no_cycle_between_top_level_modules() {
    let edges = graph();
    assert!(edges.len() > 20, "found too little: {edges:?}");
    let mut report = String::new();
    for scc in cycles(&edges) {
        let names = scc.iter().cloned().collect::<Vec<_>>().join(", ");
        report += &format!("\n{} modules reach each other: {names}\n", scc.len());
        for ((a, b), refs) in &edges {
            if scc.contains(a) && scc.contains(b) {
                report += &format!("  {a} -> {b}: {} ({} in all)\n", refs[0], refs.len());
            }
        }
    }
    assert!(report.is_empty(), "top-level modules in cycles:{report}");
}
