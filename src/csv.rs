//! The CSV reader shared by the import formats (référentiels, bulk awards): our own, because the
//! formats are small and the errors must name their line.
//!
//! RFC 4180 fields, quoted with `"` when they hold the separator, a quote or a line break, a quote
//! inside written twice (`""`); CRLF or LF line ends; the separator is `,` or `;` (what French
//! spreadsheets write), chosen from the header line. Blank lines are skipped. Each record keeps the
//! line it starts on. The caller strips a UTF-8 byte-order mark and bounds the size
//! (`referentiel::utf8_text`).

/// One CSV record and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// A quoting problem: the line where it is, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub problem: String,
    /// A quoted field is never closed: nothing after `line` can be read as records.
    pub unclosed: bool,
}

/// The separator of a CSV text: `;` when its first line has more semicolons than commas outside
/// quotes, else `,`.
pub fn separator(text: &str) -> char {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            '\n' if !quoted => break,
            _ => {}
        }
    }
    if semicolons > commas { ';' } else { ',' }
}

/// Splits a CSV text into records, skipping blank lines. Malformed quoting is reported (with its
/// line, at most one problem per record) and the rest of the text is still read where that makes
/// sense.
pub fn records(text: &str) -> (Vec<Record>, Vec<SyntaxError>) {
    let sep = separator(text);
    let mut problems = Vec::new();
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let (mut line, mut record_line) = (1, 1);
    // Within a quoted field; just after its closing quote; the line where the quote opened.
    let (mut quoted, mut closed, mut opened_at) = (false, false, 0);
    // One problem per record is enough: the rest of a broken row says nothing more.
    let mut broken = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    closed = true;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !closed => {
                quoted = true;
                opened_at = line;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                fields.push(std::mem::take(&mut field));
                if !(fields.len() == 1 && fields[0].trim().is_empty()) {
                    records.push(Record {
                        line: record_line,
                        fields: std::mem::take(&mut fields),
                    });
                }
                fields.clear();
                line += 1;
                record_line = line;
                closed = false;
                broken = false;
            }
            c if c == sep => {
                fields.push(std::mem::take(&mut field));
                closed = false;
            }
            '"' if !broken => {
                broken = true;
                problems.push(SyntaxError {
                    line,
                    problem: "a quote (\") inside a field that does not start with one: put the whole field in quotes and write the quote twice (\"\")".into(),
                    unclosed: false,
                });
            }
            c if closed && !broken => {
                if !c.is_whitespace() {
                    broken = true;
                    problems.push(SyntaxError {
                        line,
                        problem: format!("text after the closing quote of a field: the field must end at its closing quote, before the separator ({sep})"),
                        unclosed: false,
                    });
                }
            }
            c => field.push(c),
        }
    }
    if quoted {
        problems.push(SyntaxError {
            line: opened_at,
            problem: "a quoted field is never closed: a quote (\") is missing".into(),
            unclosed: true,
        });
        return (records, problems);
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        if !(fields.len() == 1 && fields[0].trim().is_empty()) {
            records.push(Record {
                line: record_line,
                fields,
            });
        }
    }
    (records, problems)
}
