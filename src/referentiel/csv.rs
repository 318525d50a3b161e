//! The CSV import format of référentiels: one row per item, its `kind` in the first column
//! (`docs/REFERENTIELS.md`). Spreadsheets write it directly.
//!
//! The reader is the shared one (`crate::csv`, also used by bulk awards): RFC 4180 fields, `,` or
//! `;` chosen from the header line; a UTF-8 byte-order mark is ignored. Each row keeps the line it
//! starts on, for the errors.

use std::collections::HashMap;

use super::{
    Draft, DraftCompetence, DraftDescriptor, DraftGroup, DraftLevel, DraftPart, Loc, Problems,
    Spanned,
};

pub use crate::csv::{Record, separator};

/// Splits a CSV text into records (`crate::csv::records`), adding its quoting problems to the
/// file's problems with their line.
pub fn records(text: &str, problems: &mut Problems) -> Vec<Record> {
    let (records, syntax) = crate::csv::records(text);
    for p in syntax {
        problems.add(
            &Loc {
                line: Some(p.line),
                field: "(syntax)".into(),
            },
            p.problem,
        );
    }
    records
}

/// The columns of the référentiel CSV format.
const REQUIRED: &[&str] = &["kind", "id", "parent", "text"];
const OPTIONAL: &[&str] = &["description", "colour", "autonomy", "indicators"];

/// Row kinds and the columns each may fill (besides `kind`).
const KINDS: &[(&str, &[&str])] = &[
    ("referentiel", &["id", "text", "description"]),
    ("version", &["text"]),
    ("source", &["text"]),
    ("licence", &["text"]),
    ("group", &["id", "text", "colour"]),
    ("level", &["id", "text", "description"]),
    ("competence", &["id", "parent", "text"]),
    ("part", &["id", "parent", "text"]),
    (
        "descriptor",
        &["id", "parent", "text", "autonomy", "indicators"],
    ),
    ("mastery_element", &["parent", "text"]),
];

/// One data row, with its cells by column name.
struct Row<'a> {
    line: usize,
    kind: String,
    cells: HashMap<&'a str, &'a str>,
}

impl Row<'_> {
    fn at(&self, column: &str) -> Loc {
        Loc {
            line: Some(self.line),
            field: column.to_owned(),
        }
    }

    /// A non-empty cell.
    fn cell(&self, column: &str) -> Option<Spanned<String>> {
        let value = self.cells.get(column)?.trim();
        (!value.is_empty()).then(|| Spanned {
            value: value.to_owned(),
            at: self.at(column),
        })
    }

    /// A cell that must be filled (reported when empty).
    fn required(&self, column: &str, problems: &mut Problems) -> Option<Spanned<String>> {
        let cell = self.cell(column);
        if cell.is_none() {
            problems.add(
                &self.at(column),
                format!("a {} row needs its {column}", self.kind),
            );
        }
        cell
    }
}

/// Reads the CSV référentiel format into a draft (the rules are checked by `validate`).
pub fn referentiel_draft(text: &str, problems: &mut Problems) -> Option<Draft> {
    let records = records(text, problems);
    let mut records = records.iter();
    // nothing at all (a file of blank lines, `""`): say so, never refuse without a reason
    // (found by the `referentiel` fuzzer: fuzz/regressions/referentiel/)
    let Some(header) = records.next() else {
        if problems.is_empty() {
            problems.add(
                &super::whole_file(),
                "the file is empty: its first line names the columns (kind, id, label…)",
            );
        }
        return None;
    };
    let columns = header_columns(header, problems)?;
    let width = header.fields.len();

    let mut draft = Draft {
        at: Loc {
            line: None,
            field: "(file)".into(),
        },
        id: None,
        name: None,
        version: None,
        source: None,
        licence: None,
        description: None,
        groups: Vec::new(),
        levels: Vec::new(),
        competences: Vec::new(),
    };
    // Rows that belong to a competence, attached once every competence is known.
    let mut children: Vec<Row<'_>> = Vec::new();
    let mut seen_meta: HashMap<String, usize> = HashMap::new();
    for record in records {
        let Some(row) = data_row(record, &columns, width, problems) else {
            continue;
        };
        if matches!(
            row.kind.as_str(),
            "referentiel" | "version" | "source" | "licence"
        ) && let Some(first) = seen_meta.insert(row.kind.clone(), row.line)
        {
            problems.add(
                &row.at("kind"),
                format!("a second {} row (the first is on line {first})", row.kind),
            );
            continue;
        }
        match row.kind.as_str() {
            "referentiel" => {
                draft.id = row.required("id", problems);
                draft.name = row.required("text", problems);
                draft.description = row.cell("description");
            }
            "version" => draft.version = row.required("text", problems),
            "source" => draft.source = row.required("text", problems),
            "licence" => draft.licence = row.required("text", problems),
            "group" => draft.groups.push(DraftGroup {
                id: row.required("id", problems),
                name: row.required("text", problems),
                colour: row.cell("colour"),
            }),
            "level" => draft.levels.push(DraftLevel {
                id: row.required("id", problems),
                name: row.required("text", problems),
                description: row.cell("description"),
            }),
            "competence" => draft.competences.push(DraftCompetence {
                id: row.required("id", problems),
                wording: row.required("text", problems),
                group: row.cell("parent"),
                parts: Vec::new(),
                mastery_elements: Vec::new(),
                descriptors: Vec::new(),
            }),
            _ => children.push(row),
        }
    }
    for (kind, column) in [
        ("referentiel", "id"),
        ("version", "text"),
        ("source", "text"),
        ("licence", "text"),
    ] {
        if !seen_meta.contains_key(kind) {
            problems.add(
                &Loc {
                    line: None,
                    field: "kind".into(),
                },
                format!("the file needs a {kind} row (its {column} column gives the {kind})"),
            );
        }
    }
    attach_children(&mut draft, children, problems);
    Some(draft)
}

/// Column name → position, checking the header.
fn header_columns(header: &Record, problems: &mut Problems) -> Option<HashMap<String, usize>> {
    let mut columns = HashMap::new();
    let mut ok = true;
    for (i, name) in header.fields.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() {
            // Spreadsheets export trailing empty columns; a value under one is reported per row.
            continue;
        }
        let at = Loc {
            line: Some(header.line),
            field: name.clone(),
        };
        if !REQUIRED.contains(&name.as_str()) && !OPTIONAL.contains(&name.as_str()) {
            problems.add(
                &at,
                format!(
                    "unknown column; the header names columns among: {}, {}",
                    REQUIRED.join(", "),
                    OPTIONAL.join(", ")
                ),
            );
            ok = false;
        } else if columns.insert(name, i).is_some() {
            problems.add(&at, "this column is named twice in the header");
            ok = false;
        }
    }
    for name in REQUIRED {
        if !columns.contains_key(*name) {
            problems.add(
                &Loc {
                    line: Some(header.line),
                    field: (*name).to_owned(),
                },
                format!(
                    "the header line must name the columns {} (missing: {name})",
                    REQUIRED.join(", ")
                ),
            );
            ok = false;
        }
    }
    ok.then_some(columns)
}

/// A record as a row of a known kind; filled cells its kind does not use are reported.
fn data_row<'a>(
    record: &'a Record,
    columns: &'a HashMap<String, usize>,
    width: usize,
    problems: &mut Problems,
) -> Option<Row<'a>> {
    let at = |field: &str| Loc {
        line: Some(record.line),
        field: field.to_owned(),
    };
    if record.fields.len() > width {
        problems.add(
            &at("(row)"),
            format!(
                "the row has {} values but the header line has {width} columns (a separator inside a value? put that value in quotes)",
                record.fields.len(),
            ),
        );
        return None;
    }
    for (i, value) in record.fields.iter().enumerate() {
        if !value.trim().is_empty() && !columns.values().any(|&c| c == i) {
            problems.add(
                &at(&format!("column {}", i + 1)),
                "a value in a column the header line does not name",
            );
            return None;
        }
    }
    let mut cells = HashMap::new();
    for (name, &i) in columns {
        let value = record.fields.get(i).map_or("", String::as_str);
        cells.insert(name.as_str(), value);
    }
    let kind = cells
        .get("kind")
        .copied()
        .unwrap_or("")
        .trim()
        .to_lowercase();
    let Some((_, allowed)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        let kinds: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        problems.add(
            &at("kind"),
            if kind.is_empty() {
                format!("every row needs a kind: {}", kinds.join(", "))
            } else {
                format!("unknown kind \"{kind}\"; use one of: {}", kinds.join(", "))
            },
        );
        return None;
    };
    // A stray value is reported, and the row is still read (so that the rows that refer to it
    // do not fail in turn).
    let mut names: Vec<&&str> = cells.keys().collect();
    names.sort();
    for name in names {
        if *name != "kind" && !allowed.contains(name) && !cells[*name].trim().is_empty() {
            problems.add(
                &at(name),
                format!(
                    "a {kind} row does not use the {name} column (it uses: {}); is a value in the wrong column?",
                    allowed.join(", ")
                ),
            );
        }
    }
    Some(Row {
        line: record.line,
        kind,
        cells,
    })
}

/// Attaches part, descriptor and mastery_element rows to the competence their `parent` names.
fn attach_children(draft: &mut Draft, children: Vec<Row<'_>>, problems: &mut Problems) {
    for row in children {
        let Some(parent) = row.required("parent", problems) else {
            continue;
        };
        let Some(competence) = draft
            .competences
            .iter_mut()
            .find(|c| c.id.as_ref().is_some_and(|id| id.value == parent.value))
        else {
            problems.add(
                &parent.at,
                format!(
                    "no competence row has the id \"{}\" (a {} belongs to a competence)",
                    parent.value, row.kind
                ),
            );
            continue;
        };
        match row.kind.as_str() {
            "part" => competence.parts.push(DraftPart {
                id: row.required("id", problems),
                wording: row.required("text", problems),
            }),
            "descriptor" => competence.descriptors.push(DraftDescriptor {
                at: row.at("id"),
                level: row.required("id", problems),
                wording: row.required("text", problems),
                autonomy: row.cell("autonomy"),
                indicators: row.cell("indicators"),
            }),
            _ => {
                if let Some(text) = row.required("text", problems) {
                    competence.mastery_elements.push(text);
                }
            }
        }
    }
}
