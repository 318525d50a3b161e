//! The bulk-award CSV format (`docs/BULK.md`): one recipient per row, for one badge class.
//!
//! UTF-8 (a byte-order mark is ignored), `,` or `;` chosen from the header line (French Excel
//! writes `;`), quoted fields, read by the shared reader (`crate::csv`). The header line names the
//! columns, in any order and case: `email` (required), `name`, `narrative`, `evidence_url`,
//! `valid_until`, `key`. Every row is checked here, before anything is issued: a row in error is
//! reported with its line, column and reason and the other rows go on; only what makes the whole
//! file unreadable (size, encoding, header, an unclosed quote, no row, too many rows) refuses it.
//! A second row for the same person (or the same `key`) is a duplicate, reported with the line of
//! the first; to award one person twice, give each row its own key.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::recipient::Email;

/// Largest file accepted (10,000 rows with a narrative each fit).
pub const MAX_BULK_BYTES: usize = 4 * 1024 * 1024;
/// Most rows (under the header) in one file.
pub const MAX_ROWS: usize = 10_000;

/// The columns a header may name; `email` is required.
pub const COLUMNS: &[&str] = &[
    "email",
    "name",
    "narrative",
    "evidence_url",
    "valid_until",
    "key",
];

/// The limits of issuing (`issue::AwardRequest`), checked up front.
const MAX_NAME_CHARS: usize = 200;
const MAX_NARRATIVE_CHARS: usize = 8000;
const MAX_URL_CHARS: usize = 2048;
const MAX_KEY_CHARS: usize = 200;

/// A problem that refuses the whole file; `line` when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    pub line: Option<usize>,
    pub field: String,
    pub problem: String,
}

/// A problem of one row: the column (or `(row)`, `(syntax)`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

/// A row that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowData {
    pub email: Email,
    pub name: Option<String>,
    pub narrative: Option<String>,
    pub evidence_url: Option<String>,
    pub valid_until: Option<DateTime<Utc>>,
    /// The row's own idempotency key (`key` column), if given.
    pub key: Option<String>,
}

/// One data row and its line: its data, or every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub content: Result<RowData, Vec<FieldProblem>>,
}

fn problem(field: &str, problem: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        problem: problem.into(),
    }
}

fn whole(line: Option<usize>, field: &str, problem: impl Into<String>) -> Vec<FileProblem> {
    vec![FileProblem {
        line,
        field: field.into(),
        problem: problem.into(),
    }]
}

/// Reads and checks a bulk file. `now` is the time `valid_until` must be after.
pub fn read(bytes: &[u8], now: DateTime<Utc>) -> Result<Vec<Row>, Vec<FileProblem>> {
    let text = crate::referentiel::utf8_text(bytes, MAX_BULK_BYTES)
        .map_err(|p| whole(None, "(file)", p))?;
    let (records, syntax) = crate::csv::records(text);
    if let Some(p) = syntax.iter().find(|p| p.unclosed) {
        return Err(whole(Some(p.line), "(syntax)", p.problem.clone()));
    }
    let mut records = records.into_iter();
    let Some(header) = records.next() else {
        return Err(whole(
            None,
            "(file)",
            format!(
                "the file is empty: its first line names the columns ({}), then one row per recipient",
                COLUMNS.join(", ")
            ),
        ));
    };
    if let Some(p) = syntax.iter().find(|p| p.line == header.line) {
        return Err(whole(Some(p.line), "(syntax)", p.problem.clone()));
    }
    let columns = header_columns(&header)?;
    let records: Vec<crate::csv::Record> = records.collect();
    if records.is_empty() {
        return Err(whole(
            None,
            "(file)",
            "the file has a header line but no row under it",
        ));
    }
    if records.len() > MAX_ROWS {
        return Err(whole(
            None,
            "(file)",
            format!(
                "the file has {} rows; the limit is {MAX_ROWS}: split it into several files",
                records.len()
            ),
        ));
    }
    // A quoting problem belongs to the record it is in: the last one starting at or before it.
    let mut broken: HashMap<usize, String> = HashMap::new();
    for p in &syntax {
        if let Some(r) = records.iter().rev().find(|r| r.line <= p.line) {
            broken.entry(r.line).or_insert_with(|| p.problem.clone());
        }
    }
    let width = header.fields.len();
    // The first line of each identity (email, or key when given), for duplicates.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let rows = records
        .iter()
        .map(|record| {
            let content = match broken.get(&record.line) {
                Some(p) => Err(vec![problem("(syntax)", p.clone())]),
                None => read_row(record, &columns, width, now),
            };
            let content = content.and_then(|data| {
                let (identity, field) = match &data.key {
                    Some(k) => (format!("key:{k}"), "key"),
                    None => (format!("email:{}", data.email.as_str()), "email"),
                };
                match seen.get(&identity) {
                    Some(first) => Err(vec![problem(
                        field,
                        if field == "key" {
                            format!("a duplicate: line {first} has the same key")
                        } else {
                            format!(
                                "a duplicate: line {first} is for the same person (to award twice, give each row its own key)"
                            )
                        },
                    )]),
                    None => {
                        seen.insert(identity, record.line);
                        Ok(data)
                    }
                }
            });
            Row {
                line: record.line,
                content,
            }
        })
        .collect();
    Ok(rows)
}

/// Column name → position, checking the header.
fn header_columns(header: &crate::csv::Record) -> Result<HashMap<String, usize>, Vec<FileProblem>> {
    let mut columns = HashMap::new();
    let mut problems = Vec::new();
    for (i, name) in header.fields.iter().enumerate() {
        let name = name.trim().to_lowercase();
        if name.is_empty() {
            // Spreadsheets export trailing empty columns; a value under one is reported per row.
            continue;
        }
        let at = |p: String| FileProblem {
            line: Some(header.line),
            field: name.clone(),
            problem: p,
        };
        if !COLUMNS.contains(&name.as_str()) {
            problems.push(at(format!(
                "unknown column; the first line names the columns among: {} (is the first line the header?)",
                COLUMNS.join(", ")
            )));
        } else if columns.insert(name.clone(), i).is_some() {
            problems.push(at("this column is named twice in the header".into()));
        }
    }
    if !columns.contains_key("email") {
        problems.push(FileProblem {
            line: Some(header.line),
            field: "email".into(),
            problem: format!(
                "the header line must name an email column (columns: {})",
                COLUMNS.join(", ")
            ),
        });
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(problems)
    }
}

/// Checks one data row; every problem of the row is reported.
fn read_row(
    record: &crate::csv::Record,
    columns: &HashMap<String, usize>,
    width: usize,
    now: DateTime<Utc>,
) -> Result<RowData, Vec<FieldProblem>> {
    if record.fields.len() > width {
        return Err(vec![problem(
            "(row)",
            format!(
                "the row has {} values but the header line has {width} columns (a separator inside a value? put that value in quotes)",
                record.fields.len()
            ),
        )]);
    }
    for (i, value) in record.fields.iter().enumerate() {
        if !value.trim().is_empty() && !columns.values().any(|&c| c == i) {
            return Err(vec![problem(
                &format!("column {}", i + 1),
                "a value in a column the header line does not name",
            )]);
        }
    }
    let cell = |name: &str| -> Option<&str> {
        let value = record.fields.get(*columns.get(name)?)?.trim();
        (!value.is_empty()).then_some(value)
    };
    let mut problems = Vec::new();
    let email = match cell("email") {
        None => {
            problems.push(problem("email", "missing: every row needs an email"));
            None
        }
        Some(raw) => match Email::parse(raw) {
            Ok(e) => Some(e),
            // The value is not repeated: error reports are kept.
            Err(e) => {
                problems.push(problem("email", e));
                None
            }
        },
    };
    let name = cell("name").map(str::to_owned);
    if name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
    {
        problems.push(problem(
            "name",
            format!("longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    let narrative = cell("narrative").map(str::to_owned);
    if narrative
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NARRATIVE_CHARS)
    {
        problems.push(problem(
            "narrative",
            format!("longer than {MAX_NARRATIVE_CHARS} characters"),
        ));
    }
    let evidence_url = cell("evidence_url").map(str::to_owned);
    if let Some(url) = &evidence_url {
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || url.contains(char::is_whitespace)
        {
            problems.push(problem(
                "evidence_url",
                "not an http(s) address (https://…)",
            ));
        } else if url.chars().count() > MAX_URL_CHARS {
            problems.push(problem(
                "evidence_url",
                format!("longer than {MAX_URL_CHARS} characters"),
            ));
        }
    }
    let valid_until = match cell("valid_until").map(crate::issue::parse_valid_until) {
        None => None,
        Some(Ok(at)) if at <= now => {
            problems.push(problem("valid_until", "must be in the future"));
            None
        }
        Some(Ok(at)) => Some(at),
        Some(Err(e)) => {
            problems.push(problem("valid_until", e));
            None
        }
    };
    let key = cell("key").map(str::to_owned);
    if key
        .as_ref()
        .is_some_and(|k| k.chars().count() > MAX_KEY_CHARS)
    {
        problems.push(problem(
            "key",
            format!("longer than {MAX_KEY_CHARS} characters"),
        ));
    }
    match email {
        Some(email) if problems.is_empty() => Ok(RowData {
            email,
            name,
            narrative,
            evidence_url,
            valid_until,
            key,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn rows(text: &str) -> Vec<Row> {
        read(text.as_bytes(), now()).unwrap_or_else(|p| panic!("{p:?}"))
    }

    fn file_problems(text: &[u8]) -> Vec<FileProblem> {
        read(text, now()).expect_err("the file is refused")
    }

    /// (line, first field, first problem) of the rows in error.
    fn errors(rows: &[Row]) -> Vec<(usize, String, String)> {
        rows.iter()
            .filter_map(|r| {
                r.content
                    .as_ref()
                    .err()
                    .map(|p| (r.line, p[0].field.clone(), p[0].problem.clone()))
            })
            .collect()
    }

    fn data(row: &Row) -> &RowData {
        row.content.as_ref().unwrap()
    }

    #[test]
    fn semicolons_from_french_excel_with_a_bom_and_crlf() {
        let text = "\u{feff}Email;Nom;narrative\r\nlea@example.org;;\"Elle a dit : \"\"je sais\"\" ; puis\r\nelle l'a fait\"\r\n\r\nSAM@Example.org;;\r\n";
        // `Nom` is not a column: refused, naming the columns.
        let p = file_problems(text.as_bytes());
        assert_eq!((p[0].line, p[0].field.as_str()), (Some(1), "nom"));
        assert!(p[0].problem.contains("email, name, narrative"), "{p:?}");

        let text = text.replace("Nom", "name");
        let rows = rows(&text);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(
            data(&rows[0]).narrative.as_deref(),
            Some("Elle a dit : \"je sais\" ; puis\nelle l'a fait")
        );
        assert_eq!(data(&rows[0]).name, None);
        // The record after a quoted line break starts on line 5 (line 4 is blank).
        assert_eq!(rows[1].line, 5);
        assert_eq!(data(&rows[1]).email.as_str(), "sam@example.org");
    }

    #[test]
    fn commas_quotes_and_every_column() {
        let text = "email,name,narrative,evidence_url,valid_until,key\n\
                    lea@example.org,\"Martin, Léa\",\"Trois, deux, un\",https://example.org/p/1,2030-06-30,row-1\n\
                    sam@example.org,Sam,,,2030-06-30T12:00:00Z,\n";
        let rows = rows(text);
        let lea = data(&rows[0]);
        assert_eq!(lea.name.as_deref(), Some("Martin, Léa"));
        assert_eq!(lea.narrative.as_deref(), Some("Trois, deux, un"));
        assert_eq!(lea.evidence_url.as_deref(), Some("https://example.org/p/1"));
        assert_eq!(
            lea.valid_until.unwrap().to_rfc3339(),
            "2030-06-30T23:59:59+00:00"
        );
        assert_eq!(lea.key.as_deref(), Some("row-1"));
        let sam = data(&rows[1]);
        assert_eq!(
            (sam.key.as_deref(), sam.evidence_url.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn a_missing_email_column_refuses_the_file() {
        let p = file_problems(b"name;narrative\nLea;ok\n");
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].line, p[0].field.as_str()), (Some(1), "email"));
        assert!(p[0].problem.contains("must name an email column"));
        // Named twice.
        let p = file_problems(b"email;EMAIL\na@example.org;b@example.org\n");
        assert!(p[0].problem.contains("named twice"), "{p:?}");
    }

    #[test]
    fn bad_rows_are_reported_with_line_field_and_reason_and_the_others_kept() {
        let text = "email;name;valid_until;evidence_url\n\
                    lea@example.org;Léa;;\n\
                    pas-un-email;Paul;;\n\
                    ;Sans courriel;;\n\
                    sam@example.org;Sam;31/12/2030;\n\
                    zoe@example.org;Zoé;2020-01-01;\n\
                    max@example.org;Max;;ftp://example.org/x\n\
                    eva@example.org;Eva;;;en trop\n\
                    ugo@example.org;Ugo;2030-01-01;https://example.org/ugo\n";
        let rows = rows(text);
        assert_eq!(rows.len(), 8);
        let errors = errors(&rows);
        let at: Vec<(usize, &str)> = errors.iter().map(|(l, f, _)| (*l, f.as_str())).collect();
        assert_eq!(
            at,
            [
                (3, "email"),
                (4, "email"),
                (5, "valid_until"),
                (6, "valid_until"),
                (7, "evidence_url"),
                (8, "(row)")
            ]
        );
        // The bad email is not repeated in the reason.
        assert!(!errors[0].2.contains("pas-un-email"), "{}", errors[0].2);
        assert!(errors[1].2.contains("missing"));
        assert!(errors[2].2.contains("YYYY-MM-DD"), "{}", errors[2].2);
        assert!(errors[3].2.contains("future"));
        assert!(errors[5].2.contains("5 values"), "{}", errors[5].2);
        assert!(rows[0].content.is_ok() && rows[7].content.is_ok());
    }

    #[test]
    fn every_problem_of_a_row_is_reported() {
        let rows = rows("email,valid_until,evidence_url\nnope,hier,mailto:x\n");
        let p = rows[0].content.as_ref().unwrap_err();
        let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["email", "evidence_url", "valid_until"]);
    }

    #[test]
    fn two_rows_for_one_person_are_a_duplicate_unless_keyed() {
        let rows = rows(
            "email;name;key\nlea@example.org;Léa;\nLEA@example.org ;Léa bis;\nsam@example.org;;a\nsam@example.org;;b\nzoe@example.org;;a\n",
        );
        let errors = errors(&rows);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!((errors[0].0, errors[0].1.as_str()), (3, "email"));
        assert!(errors[0].2.contains("line 2"), "{}", errors[0].2);
        // Two keys for one person: both issued; one key for two people: a duplicate.
        assert_eq!((errors[1].0, errors[1].1.as_str()), (6, "key"));
        assert!(errors[1].2.contains("line 4"));
    }

    #[test]
    fn too_many_rows_or_bytes_or_none_refuse_the_file() {
        let mut text = String::from("email\n");
        for i in 0..=MAX_ROWS {
            text.push_str(&format!("p{i}@example.org\n"));
        }
        let p = file_problems(text.as_bytes());
        assert!(p[0].problem.contains("limit is 10000"), "{p:?}");
        let big = vec![b'a'; MAX_BULK_BYTES + 1];
        assert!(file_problems(&big)[0].problem.contains("limit"));
        assert!(file_problems(b"email\n\n")[0].problem.contains("no row"));
        assert!(file_problems(b"")[0].problem.contains("empty"));
        assert!(
            file_problems(b"email\n\xff\xfe\n")[0]
                .problem
                .contains("UTF-8")
        );
    }

    #[test]
    fn the_documented_example_is_valid() {
        let doc = include_str!("../../docs/BULK.md");
        let start = doc.find("```csv\n").expect("a csv example") + "```csv\n".len();
        let example = &doc[start..start + doc[start..].find("```").unwrap()];
        let rows = rows(example);
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.content.is_ok()), "{rows:?}");
        assert_eq!(data(&rows[1]).name, None);
        assert_eq!(rows[2].line, 4);
    }

    #[test]
    fn quoting_problems_refuse_their_row_or_the_file() {
        let rows = rows("email;name\nlea@example.org;Lé\"a\nsam@example.org;Sam\n");
        let errors = errors(&rows);
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].0, errors[0].1.as_str()), (2, "(syntax)"));
        assert!(rows[1].content.is_ok());
        let p = file_problems(b"email;name\nlea@example.org;\"Lea\nsam@example.org;Sam\n");
        assert_eq!((p[0].line, p[0].field.as_str()), (Some(2), "(syntax)"));
        assert!(p[0].problem.contains("never closed"));
    }
}
