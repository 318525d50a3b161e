//! Référentiels (competence frameworks) as imported data, and a person's carnet on one of them.
//!
//! A référentiel is data an institution imports, never code: the RAE trade référentiels belong to
//! Différent et Compétent Réseau and only its members may use them, so carnet ships nothing but the
//! RECTEC structure published in the PRITH Normandie report (seed 002; `referentiels/rectec.json`).
//! The two import formats, JSON (`json.rs`) and CSV (`csv.rs`), are described in `docs/REFERENTIELS.md`;
//! both read into one [`Draft`] that [`validate`] turns into a [`Referentiel`], so the rules are the
//! same whatever the format. Every problem is reported, with the file, the line and the field.
//!
//! The validated [`Referentiel`] serialises to the JSON import format itself: what is stored and
//! what `GET /api/v1/referentiels/{id}/{version}` answers can be imported again unchanged.
//! A person's positioning on a référentiel lives in `carnet.rs`.

pub mod carnet;
pub mod csv;
pub mod json;

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::hex::hex;

/// Largest référentiel file or request body accepted (a trade référentiel is a few hundred KiB).
pub const MAX_REFERENTIEL_BYTES: usize = 4 * 1024 * 1024;
/// Bounds on what one référentiel may hold.
pub const MAX_COMPETENCES: usize = 2000;
pub const MAX_PARTS: usize = 100;
pub const MAX_LEVELS: usize = 10;
pub const MAX_GROUPS: usize = 50;
pub const MAX_MASTERY_ELEMENTS: usize = 20;

/// A problem in an imported file: where (file, line when known, field) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    pub file: String,
    /// 1-based; `None` when the problem concerns the whole file.
    pub line: Option<usize>,
    /// JSON: the path of the value (`competences[2].wording`); CSV: the column (`text`).
    pub field: String,
    pub problem: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}: {}", self.file, self.field, self.problem),
            None => write!(f, "{}: {}: {}", self.file, self.field, self.problem),
        }
    }
}

/// Where a value was read: its line (when known) and how to name its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub line: Option<usize>,
    pub field: String,
}

/// A value with the place it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub at: Loc,
}

/// The problems found in one file so far.
#[derive(Debug)]
pub struct Problems {
    file: String,
    list: Vec<ImportError>,
}

impl Problems {
    pub fn new(file: &str) -> Self {
        Problems {
            file: file.to_owned(),
            list: Vec::new(),
        }
    }

    pub fn add(&mut self, at: &Loc, problem: impl Into<String>) {
        self.list.push(ImportError {
            file: self.file.clone(),
            line: at.line,
            field: at.field.clone(),
            problem: problem.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The problems in file order (line, then the order they were found).
    pub fn into_vec(mut self) -> Vec<ImportError> {
        self.list.sort_by_key(|e| e.line.unwrap_or(0));
        self.list
    }

    pub fn file(&self) -> &str {
        &self.file
    }
}

/// A validated référentiel. Its serde form is the JSON import format (see `docs/REFERENTIELS.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Referentiel {
    /// Lowercase letters, digits and hyphens (`rectec`, `agent-restauration`).
    pub id: String,
    pub name: String,
    /// Letters, digits, `.`, `_`, `-` (`2021`, `2024-1`): a carnet points at one version.
    pub version: String,
    /// Who publishes it and where it was taken from.
    pub source: String,
    /// Who owns it and who may use it.
    pub licence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Poles or blocks grouping the competences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
    /// Levels of mastery, lowest first (RECTEC's cercles 1 to 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<Level>,
    pub competences: Vec<Competence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub name: String,
    /// As the référentiel names it (`bleu`) or `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competence {
    pub id: String,
    pub wording: String,
    /// The id of its group (pole), if the référentiel has groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Parts of the wording a person may strike out ("barrer") to say what they do not do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
    /// What the levels of this competence take into account (RECTEC: « Éléments considérés pour les
    /// niveaux de maîtrise »).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mastery_elements: Vec<String>,
    /// What each level means for this competence, lowest level first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub descriptors: Vec<Descriptor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub id: String,
    pub wording: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Descriptor {
    /// The id of a level of the référentiel.
    pub level: String,
    pub wording: String,
    /// RECTEC: « Autonomie et responsabilité ».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autonomy: Option<String>,
    /// RECTEC: « Indicateurs génériques ».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicators: Option<String>,
}

impl Referentiel {
    pub fn competence(&self, id: &str) -> Option<&Competence> {
        self.competences.iter().find(|c| c.id == id)
    }

    pub fn level(&self, id: &str) -> Option<&Level> {
        self.levels.iter().find(|l| l.id == id)
    }

    /// The rank of a level, 0 for the lowest: award rules compare levels by rank, never by id.
    pub fn level_rank(&self, id: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.id == id)
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The position of a competence in the référentiel (for listing a carnet in its order).
    pub fn position(&self, competence: &str) -> Option<usize> {
        self.competences.iter().position(|c| c.id == competence)
    }

    /// The référentiel in its JSON import format (what is stored and exported).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a référentiel serialises")
    }

    /// SHA-256 (hex) of [`Referentiel::to_json`]: the same content imported from JSON or CSV has the
    /// same digest, which is how re-importing a version is recognised as harmless.
    pub fn digest(&self) -> String {
        hex(&Sha256::digest(self.to_json().as_bytes()))
    }
}

/// The two import formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    /// By the file's extension (`.json`, `.csv`), else by its first character.
    pub fn of_file(path: &Path, bytes: &[u8]) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
            Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => {
                let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
                match text.iter().find(|b| !b.is_ascii_whitespace()) {
                    Some(b'{') => Format::Json,
                    _ => Format::Csv,
                }
            }
        }
    }

    /// By a request's `Content-Type` (parameters such as `charset` ignored).
    pub fn of_content_type(content_type: &str) -> Option<Format> {
        let mime = content_type.split(';').next().unwrap_or("").trim();
        match mime.to_ascii_lowercase().as_str() {
            "application/json" => Some(Format::Json),
            "text/csv" | "application/csv" | "text/comma-separated-values" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Reads and validates a référentiel file (bounded in size).
pub fn load_file(path: &Path) -> Result<Referentiel, Vec<ImportError>> {
    let file = path.display().to_string();
    let whole = |problem: String| {
        vec![ImportError {
            file: file.clone(),
            line: None,
            field: "(file)".into(),
            problem,
        }]
    };
    let size = std::fs::metadata(path)
        .map_err(|e| whole(format!("cannot read the file: {e}")))?
        .len();
    if size > MAX_REFERENTIEL_BYTES as u64 {
        return Err(whole(format!(
            "the file is {size} bytes; the limit is {MAX_REFERENTIEL_BYTES}"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| whole(format!("cannot read the file: {e}")))?;
    parse(&bytes, &file, Format::of_file(path, &bytes))
}

/// Parses and validates a référentiel in either format; `file` names it in the errors.
pub fn parse(bytes: &[u8], file: &str, format: Format) -> Result<Referentiel, Vec<ImportError>> {
    let mut problems = Problems::new(file);
    let text = match utf8_text(bytes, MAX_REFERENTIEL_BYTES) {
        Ok(text) => text,
        Err(problem) => {
            problems.add(&whole_file(), problem);
            return Err(problems.into_vec());
        }
    };
    let draft = match format {
        Format::Json => json::referentiel_draft(text, &mut problems),
        Format::Csv => csv::referentiel_draft(text, &mut problems),
    };
    let referentiel = draft.and_then(|draft| validate(draft, &mut problems));
    match referentiel {
        Some(r) if problems.is_empty() => Ok(r),
        _ => Err(problems.into_vec()),
    }
}

/// The input as text: bounded, UTF-8, without a byte-order mark (spreadsheets add one).
pub(crate) fn utf8_text(bytes: &[u8], limit: usize) -> Result<&str, String> {
    if bytes.len() > limit {
        return Err(format!(
            "the input is {} bytes; the limit is {limit}",
            bytes.len()
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "the input is not UTF-8 text (byte {}): save it as UTF-8",
            e.valid_up_to()
        )
    })?;
    if text.trim().is_empty() {
        return Err("the input is empty".into());
    }
    Ok(text)
}

pub(crate) fn whole_file() -> Loc {
    Loc {
        line: None,
        field: "(file)".into(),
    }
}

/// A référentiel as read from a file, before the rules are checked. Required values that were
/// missing are already reported and left `None`.
#[derive(Debug)]
pub struct Draft {
    /// Where to report problems about the whole référentiel (no competence...).
    pub at: Loc,
    pub id: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub version: Option<Spanned<String>>,
    pub source: Option<Spanned<String>>,
    pub licence: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub groups: Vec<DraftGroup>,
    pub levels: Vec<DraftLevel>,
    pub competences: Vec<DraftCompetence>,
}

#[derive(Debug)]
pub struct DraftGroup {
    pub id: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub colour: Option<Spanned<String>>,
}

#[derive(Debug)]
pub struct DraftLevel {
    pub id: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
}

#[derive(Debug)]
pub struct DraftCompetence {
    pub id: Option<Spanned<String>>,
    pub wording: Option<Spanned<String>>,
    pub group: Option<Spanned<String>>,
    pub parts: Vec<DraftPart>,
    pub mastery_elements: Vec<Spanned<String>>,
    pub descriptors: Vec<DraftDescriptor>,
}

#[derive(Debug)]
pub struct DraftPart {
    pub id: Option<Spanned<String>>,
    pub wording: Option<Spanned<String>>,
}

#[derive(Debug)]
pub struct DraftDescriptor {
    /// Where to report a problem about the descriptor as a whole (a second one for a level).
    pub at: Loc,
    pub level: Option<Spanned<String>>,
    pub wording: Option<Spanned<String>>,
    pub autonomy: Option<Spanned<String>>,
    pub indicators: Option<Spanned<String>>,
}

/// Is `s` an identifier usable in a URL and a CSV cell: 1 to 40 letters, digits, `.`, `_` or `-`?
pub fn is_token(s: &str) -> bool {
    (1..=40).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Checks a text value: trimmed, not empty, at most `max` characters, no control characters
/// other than line breaks and tabs.
fn text(value: &Option<Spanned<String>>, max: usize, problems: &mut Problems) -> Option<String> {
    let value = value.as_ref()?;
    let trimmed = value.value.trim();
    if trimmed.is_empty() {
        problems.add(&value.at, "must not be empty");
        return None;
    }
    if trimmed.chars().count() > max {
        problems.add(&value.at, format!("is longer than {max} characters"));
        return None;
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        problems.add(&value.at, "contains control characters");
        return None;
    }
    Some(trimmed.to_owned())
}

/// Checks an identifier (see [`is_token`]) and that it is unique among `seen`.
fn token(
    value: &Option<Spanned<String>>,
    what: &str,
    seen: &mut HashSet<String>,
    problems: &mut Problems,
) -> Option<String> {
    let value = value.as_ref()?;
    let id = value.value.trim();
    if !is_token(id) {
        problems.add(
            &value.at,
            format!(
                "\"{id}\" is not a usable {what} id: use 1 to 40 letters, digits, '.', '_' or '-'"
            ),
        );
        return None;
    }
    if !seen.insert(id.to_owned()) {
        problems.add(&value.at, format!("the {what} id \"{id}\" is used twice"));
        return None;
    }
    Some(id.to_owned())
}

fn count(n: usize, max: usize, what: &str, at: &Loc, problems: &mut Problems) {
    if n > max {
        problems.add(at, format!("has {n} {what}; the limit is {max}"));
    }
}

/// Applies the rules of `docs/REFERENTIELS.md` to a draft. Returns the référentiel only when no
/// problem at all was found (in `problems`, including those found while reading).
pub fn validate(draft: Draft, problems: &mut Problems) -> Option<Referentiel> {
    let id = draft.id.as_ref().and_then(|v| {
        let id = v.value.trim();
        if crate::text::is_slug(id) {
            Some(id.to_owned())
        } else {
            problems.add(
                &v.at,
                format!("\"{id}\" is not a usable référentiel id: use 1 to 40 lowercase letters, digits and hyphens (e.g. agent-restauration)"),
            );
            None
        }
    });
    let version = draft.version.as_ref().and_then(|v| {
        let version = v.value.trim();
        if is_token(version) {
            Some(version.to_owned())
        } else {
            problems.add(
                &v.at,
                format!("\"{version}\" is not a usable version: use 1 to 40 letters, digits, '.', '_' or '-' (e.g. 2024-1)"),
            );
            None
        }
    });
    let name = text(&draft.name, 200, problems);
    let source = text(&draft.source, 1000, problems);
    let licence = text(&draft.licence, 2000, problems);
    let description = text(&draft.description, 4000, problems);

    count(
        draft.groups.len(),
        MAX_GROUPS,
        "groups",
        &draft.at,
        problems,
    );
    let mut group_ids = HashSet::new();
    let mut groups = Vec::new();
    for g in &draft.groups {
        let id = token(&g.id, "group", &mut group_ids, problems);
        let name = text(&g.name, 200, problems);
        let colour = text(&g.colour, 40, problems);
        if let (Some(id), Some(name)) = (id, name) {
            groups.push(Group { id, name, colour });
        }
    }

    count(
        draft.levels.len(),
        MAX_LEVELS,
        "levels",
        &draft.at,
        problems,
    );
    let mut level_ids = HashSet::new();
    let mut levels = Vec::new();
    for l in &draft.levels {
        let id = token(&l.id, "level", &mut level_ids, problems);
        let name = text(&l.name, 100, problems);
        let description = text(&l.description, 2000, problems);
        if let (Some(id), Some(name)) = (id, name) {
            levels.push(Level {
                id,
                name,
                description,
            });
        }
    }

    if draft.competences.is_empty() {
        problems.add(&draft.at, "a référentiel needs at least one competence");
    }
    count(
        draft.competences.len(),
        MAX_COMPETENCES,
        "competences",
        &draft.at,
        problems,
    );
    let mut competence_ids = HashSet::new();
    let mut competences = Vec::new();
    for c in &draft.competences {
        if let Some(competence) = validate_competence(c, &mut competence_ids, &draft, problems) {
            competences.push(competence);
        }
    }

    if !problems.is_empty() {
        return None;
    }
    Some(Referentiel {
        id: id?,
        name: name?,
        version: version?,
        source: source?,
        licence: licence?,
        description,
        groups,
        levels,
        competences,
    })
}

fn validate_competence(
    c: &DraftCompetence,
    competence_ids: &mut HashSet<String>,
    draft: &Draft,
    problems: &mut Problems,
) -> Option<Competence> {
    let id = token(&c.id, "competence", competence_ids, problems);
    let wording = text(&c.wording, 2000, problems);
    let group = c.group.as_ref().and_then(|g| {
        let wanted = g.value.trim();
        let known: Vec<&str> = draft
            .groups
            .iter()
            .filter_map(|d| d.id.as_ref().map(|s| s.value.trim()))
            .collect();
        if known.contains(&wanted) {
            Some(wanted.to_owned())
        } else if known.is_empty() {
            problems.add(
                &g.at,
                format!("names the group \"{wanted}\" but the référentiel declares no groups"),
            );
            None
        } else {
            problems.add(
                &g.at,
                format!(
                    "no group has the id \"{wanted}\" (groups: {})",
                    known.join(", ")
                ),
            );
            None
        }
    });

    let label =
        c.id.as_ref()
            .map(|s| s.value.trim().to_owned())
            .unwrap_or_default();
    if let Some(at) = c.id.as_ref().map(|s| &s.at) {
        count(c.parts.len(), MAX_PARTS, "parts", at, problems);
        count(
            c.mastery_elements.len(),
            MAX_MASTERY_ELEMENTS,
            "mastery elements",
            at,
            problems,
        );
    }
    let mut part_ids = HashSet::new();
    let mut parts = Vec::new();
    for p in &c.parts {
        let id = token(&p.id, "part", &mut part_ids, problems);
        let wording = text(&p.wording, 1000, problems);
        if let (Some(id), Some(wording)) = (id, wording) {
            parts.push(Part { id, wording });
        }
    }
    let mastery_elements: Vec<String> = c
        .mastery_elements
        .iter()
        .filter_map(|m| text(&Some(m.clone()), 1000, problems))
        .collect();

    let level_ids: Vec<&str> = draft
        .levels
        .iter()
        .filter_map(|l| l.id.as_ref().map(|s| s.value.trim()))
        .collect();
    let mut described = BTreeSet::new();
    let mut descriptors = Vec::new();
    for d in &c.descriptors {
        let level = d.level.as_ref().and_then(|l| {
            let wanted = l.value.trim();
            if level_ids.is_empty() {
                problems.add(
                    &l.at,
                    "a descriptor needs the référentiel's levels: declare them first",
                );
                None
            } else if !level_ids.contains(&wanted) {
                problems.add(
                    &l.at,
                    format!(
                        "no level has the id \"{wanted}\" (levels: {})",
                        level_ids.join(", ")
                    ),
                );
                None
            } else if !described.insert(wanted.to_owned()) {
                problems.add(
                    &d.at,
                    format!("competence {label} has two descriptors for level \"{wanted}\""),
                );
                None
            } else {
                Some(wanted.to_owned())
            }
        });
        let wording = text(&d.wording, 2000, problems);
        let autonomy = text(&d.autonomy, 2000, problems);
        let indicators = text(&d.indicators, 2000, problems);
        if let (Some(level), Some(wording)) = (level, wording) {
            descriptors.push(Descriptor {
                level,
                wording,
                autonomy,
                indicators,
            });
        }
    }
    // Lowest level first, whatever the order in the file.
    descriptors.sort_by_key(|d| level_ids.iter().position(|l| *l == d.level));
    Some(Competence {
        id: id?,
        wording: wording?,
        group,
        parts,
        mastery_elements,
        descriptors,
    })
}

#[cfg(test)]
mod tests;
