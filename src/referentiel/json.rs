//! The JSON import formats: reading with every problem reported, each at the line of the value.
//!
//! serde_json gives a line and column for syntax errors only, and a typed `Deserialize` stops at
//! the first problem. So the text is parsed once into a `serde_json::Value` (syntax errors, with
//! their line), scanned once more by [`Lines`] to note the line of every key and array element by
//! its path (`competences[2].wording`) and to catch duplicate keys (which `Value` silently merges),
//! and then read field by field by [`Reader`], which collects every problem with its path and line.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{
    Draft, DraftCompetence, DraftDescriptor, DraftGroup, DraftLevel, DraftPart, Loc, Problems,
    Spanned,
};

/// The line of every value of a JSON text, by path.
#[derive(Debug, Default)]
pub struct Lines {
    by_path: HashMap<String, usize>,
    /// Keys given twice in one object: (path, line of the second).
    duplicates: Vec<(String, usize)>,
}

enum Frame {
    Object {
        path: String,
        key: Option<String>,
        expecting_key: bool,
        keys: HashSet<String>,
    },
    Array {
        path: String,
        index: usize,
    },
}

/// `parent.key` (or `key` at the root).
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

impl Lines {
    /// Scans a text that serde_json has already parsed (so it is valid JSON).
    pub fn scan(text: &str) -> Lines {
        let mut lines = Lines::default();
        let mut stack: Vec<Frame> = Vec::new();
        let bytes = text.as_bytes();
        let mut line = 1;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'\n' => line += 1,
                b'{' | b'[' => {
                    let path = lines.value_starts(&mut stack, line);
                    stack.push(if b == b'{' {
                        Frame::Object {
                            path,
                            key: None,
                            expecting_key: true,
                            keys: HashSet::new(),
                        }
                    } else {
                        Frame::Array { path, index: 0 }
                    });
                }
                b'}' | b']' => {
                    stack.pop();
                }
                b',' => match stack.last_mut() {
                    Some(Frame::Object { expecting_key, .. }) => *expecting_key = true,
                    Some(Frame::Array { index, .. }) => *index += 1,
                    None => {}
                },
                b'"' => {
                    let start = i;
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        if bytes[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    let raw = &text[start..=i.min(bytes.len() - 1)];
                    match stack.last_mut() {
                        Some(Frame::Object {
                            path,
                            key,
                            expecting_key,
                            keys,
                        }) if *expecting_key => {
                            let name: String = serde_json::from_str(raw).unwrap_or_default();
                            let full = join(path, &name);
                            if keys.insert(name.clone()) {
                                lines.by_path.insert(full, line);
                            } else {
                                lines.duplicates.push((full, line));
                            }
                            *key = Some(name);
                            *expecting_key = false;
                        }
                        _ => {
                            lines.value_starts(&mut stack, line);
                        }
                    }
                }
                b':' => {}
                b if b.is_ascii_whitespace() => {}
                _ => {
                    // A number or a literal: one value, then skip to its end.
                    lines.value_starts(&mut stack, line);
                    while i + 1 < bytes.len()
                        && !matches!(bytes[i + 1], b',' | b'}' | b']')
                        && !bytes[i + 1].is_ascii_whitespace()
                    {
                        i += 1;
                    }
                }
            }
            i += 1;
        }
        lines
    }

    /// Notes where a value starts and returns its path. Object members were noted at their key.
    fn value_starts(&mut self, stack: &mut [Frame], line: usize) -> String {
        match stack.last() {
            None => {
                self.by_path.entry(String::new()).or_insert(line);
                String::new()
            }
            Some(Frame::Object { path, key, .. }) => join(path, key.as_deref().unwrap_or("")),
            Some(Frame::Array { path, index: i }) => {
                let p = index(path, *i);
                self.by_path.insert(p.clone(), line);
                p
            }
        }
    }

    /// The line of `path`, or of the nearest enclosing value that has one.
    pub fn line(&self, path: &str) -> Option<usize> {
        let mut p = path;
        loop {
            if let Some(line) = self.by_path.get(p) {
                return Some(*line);
            }
            if p.is_empty() {
                return None;
            }
            p = parent_path(p);
        }
    }

    pub fn loc(&self, path: &str) -> Loc {
        Loc {
            line: self.line(path),
            field: if path.is_empty() {
                "(document)".into()
            } else {
                path.to_owned()
            },
        }
    }

    /// Reports every key given twice (`Value` keeps only the last one).
    pub fn report_duplicates(&self, problems: &mut Problems) {
        for (path, line) in &self.duplicates {
            problems.add(
                &Loc {
                    line: Some(*line),
                    field: path.clone(),
                },
                "this key is given twice in the same object",
            );
        }
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → ``.
fn parent_path(path: &str) -> &str {
    if path.ends_with(']')
        && let Some(open) = path.rfind('[')
    {
        return &path[..open];
    }
    match path.rfind('.') {
        Some(dot) => &path[..dot],
        None => "",
    }
}

/// Parses JSON text, reporting a syntax error at its line; then scans the lines of its values.
pub fn parse(text: &str, problems: &mut Problems) -> Option<(Value, Lines)> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => {
            let lines = Lines::scan(text);
            lines.report_duplicates(problems);
            Some((value, lines))
        }
        Err(e) => {
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            problems.add(
                &Loc {
                    line: Some(e.line()),
                    field: "(syntax)".into(),
                },
                format!("this is not valid JSON: {message} (column {})", e.column()),
            );
            None
        }
    }
}

/// Reads values out of a parsed document, collecting every problem.
pub struct Reader<'a> {
    pub lines: &'a Lines,
    pub problems: &'a mut Problems,
}

impl<'a> Reader<'a> {
    pub fn loc(&self, path: &str) -> Loc {
        self.lines.loc(path)
    }

    pub fn problem(&mut self, path: &str, problem: impl Into<String>) {
        let at = self.loc(path);
        self.problems.add(&at, problem);
    }

    /// The value as an object whose keys are all in `known` (others are reported).
    pub fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(map) = value else {
            self.problem(
                path,
                format!("must be an object {{…}}, not {}", kind(value)),
            );
            return None;
        };
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                self.problem(
                    &join(path, key),
                    format!("unknown field; expected one of: {}", known.join(", ")),
                );
            }
        }
        Some(map)
    }

    /// A member that must be present (reported at the object's line when missing).
    pub fn required<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'v Value> {
        match map.get(key) {
            Some(Value::Null) | None => {
                let at = Loc {
                    line: self.lines.line(path),
                    field: join(path, key),
                };
                self.problems.add(&at, "is required");
                None
            }
            Some(value) => Some(value),
        }
    }

    /// A string member; `None` (reported when `required`) when absent, `null` or of another type.
    pub fn string(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
    ) -> Option<Spanned<String>> {
        let value = if required {
            self.required(map, path, key)?
        } else {
            map.get(key).filter(|v| !v.is_null())?
        };
        let at = self.loc(&join(path, key));
        match value {
            Value::String(s) => Some(Spanned {
                value: s.clone(),
                at,
            }),
            // Ids and versions are often typed as numbers (`"version": 2021`): take their text.
            Value::Number(n) => Some(Spanned {
                value: n.to_string(),
                at,
            }),
            other => {
                self.problems
                    .add(&at, format!("must be text, not {}", kind(other)));
                None
            }
        }
    }

    /// An array member: its elements with their paths (empty when absent or not an array).
    pub fn array<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
    ) -> Vec<(String, &'v Value)> {
        let here = join(path, key);
        let value = if required {
            self.required(map, path, key)
        } else {
            map.get(key).filter(|v| !v.is_null())
        };
        match value {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (index(&here, i), v))
                .collect(),
            Some(other) => {
                self.problem(&here, format!("must be a list […], not {}", kind(other)));
                Vec::new()
            }
        }
    }

    /// An array of strings.
    pub fn strings(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Vec<Spanned<String>> {
        let mut out = Vec::new();
        for (p, v) in self.array(map, path, key, false) {
            match v {
                Value::String(s) => out.push(Spanned {
                    value: s.clone(),
                    at: self.loc(&p),
                }),
                other => self.problem(&p, format!("must be text, not {}", kind(other))),
            }
        }
        out
    }
}

/// How to name a JSON value's type in a message.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

const TOP: &[&str] = &[
    "id",
    "name",
    "version",
    "source",
    "licence",
    "description",
    "groups",
    "levels",
    "competences",
];

/// Reads the JSON référentiel format into a draft (the rules are checked by `validate`).
pub fn referentiel_draft(text: &str, problems: &mut Problems) -> Option<Draft> {
    let (value, lines) = parse(text, problems)?;
    let mut r = Reader {
        lines: &lines,
        problems,
    };
    let top = r.object(&value, "", TOP)?;
    let mut draft = Draft {
        at: r.loc("competences"),
        id: r.string(top, "", "id", true),
        name: r.string(top, "", "name", true),
        version: r.string(top, "", "version", true),
        source: r.string(top, "", "source", true),
        licence: r.string(top, "", "licence", true),
        description: r.string(top, "", "description", false),
        groups: Vec::new(),
        levels: Vec::new(),
        competences: Vec::new(),
    };
    for (p, v) in r.array(top, "", "groups", false) {
        if let Some(g) = r.object(v, &p, &["id", "name", "colour"]) {
            draft.groups.push(DraftGroup {
                id: r.string(g, &p, "id", true),
                name: r.string(g, &p, "name", true),
                colour: r.string(g, &p, "colour", false),
            });
        }
    }
    for (p, v) in r.array(top, "", "levels", false) {
        if let Some(l) = r.object(v, &p, &["id", "name", "description"]) {
            draft.levels.push(DraftLevel {
                id: r.string(l, &p, "id", true),
                name: r.string(l, &p, "name", true),
                description: r.string(l, &p, "description", false),
            });
        }
    }
    for (p, v) in r.array(top, "", "competences", true) {
        if let Some(c) = competence(&mut r, v, &p) {
            draft.competences.push(c);
        }
    }
    Some(draft)
}

fn competence(r: &mut Reader<'_>, value: &Value, p: &str) -> Option<DraftCompetence> {
    let c = r.object(
        value,
        p,
        &[
            "id",
            "wording",
            "group",
            "parts",
            "mastery_elements",
            "descriptors",
        ],
    )?;
    let mut draft = DraftCompetence {
        id: r.string(c, p, "id", true),
        wording: r.string(c, p, "wording", true),
        group: r.string(c, p, "group", false),
        parts: Vec::new(),
        mastery_elements: r.strings(c, p, "mastery_elements"),
        descriptors: Vec::new(),
    };
    for (pp, v) in r.array(c, p, "parts", false) {
        if let Some(part) = r.object(v, &pp, &["id", "wording"]) {
            draft.parts.push(DraftPart {
                id: r.string(part, &pp, "id", true),
                wording: r.string(part, &pp, "wording", true),
            });
        }
    }
    for (dp, v) in r.array(c, p, "descriptors", false) {
        if let Some(d) = r.object(v, &dp, &["level", "wording", "autonomy", "indicators"]) {
            draft.descriptors.push(DraftDescriptor {
                at: r.loc(&dp),
                level: r.string(d, &dp, "level", true),
                wording: r.string(d, &dp, "wording", true),
                autonomy: r.string(d, &dp, "autonomy", false),
                indicators: r.string(d, &dp, "indicators", false),
            });
        }
    }
    Some(draft)
}
