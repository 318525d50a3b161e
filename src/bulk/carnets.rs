//! A batch of carnets (`docs/BULK.md`, « Un lot de carnets »): several carnet documents (the
//! format of `docs/REFERENTIELS.md`), e.g. a group's after an RAE jury session, become ONE bulk
//! job ([`crate::store::JobKind::Carnets`]) with one row per carnet. Running a row imports the
//! carnet (or finds the one already imported for the same person and référentiel version, when
//! it has the same entries), then confirms every class it earns, or only the class the batch is
//! limited to (`carnet_rows.rs`). The batch is a JSON array (the CLI reads files or folders of
//! them); a batch holds one carnet per person and référentiel version. Its job as the API shows it
//! is in `carnet_document.rs`.
//!
//! Everything the CSV jobs guarantee holds here, with the same machinery (`super::run`,
//! `Store::finish_bulk_rows`, [`super::resume_unfinished`]):
//!
//! - **checked up front**: every carnet is read and checked against its référentiel before the
//!   job is stored; a carnet in error is stored as such (its position, its file, every problem
//!   with its line and field) and the others go on;
//! - **stored before anything is done**: the job and all its rows in one transaction, each
//!   carnet document sealed ([`super::seal`]: it holds an email) and erased once its row is done;
//! - **nothing twice**: an award confirmed from a carnet has the key
//!   `carnet:{carnet}:{class}:{référentiel}:{version}` (`award_rules::award`), and the carnet is
//!   found again by its person and référentiel version, so re-sending a batch, resuming it after
//!   a crash, or confirming by hand afterwards never issues an award twice;
//! - **the same batch** (same bytes, same class filter) while its job is unfinished gives that
//!   job back.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use super::carnet_document::{batch_document, batch_url};
use super::{BulkError, FileProblem, seal};
use crate::app::App;
use crate::hex::hex;
use crate::issuer::Issuer;
use crate::recipient::Email;
use crate::referentiel::carnet::{self, CarnetDraft, CarnetEntry, ValidCarnet, person_key};
use crate::referentiel::json::{self as json_lines, Lines, join};
use crate::referentiel::{ImportError, Problems, Referentiel};
use crate::store::{CreatedJob, NewCarnetBatch, NewCarnetRow, NewRowContent, RowError};

/// At most this many carnets in one batch.
pub const MAX_BATCH_CARNETS: usize = 500;
/// At most this many bytes in one batch, all files together (the API's body limit applies too).
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Longest label kept for a carnet's file (the end of the path is kept).
const MAX_LABEL_CHARS: usize = 300;
/// Problems of one carnet kept in its row's reason (the count says how many there were).
const MAX_ROW_PROBLEMS: usize = 20;

/// Where carnets come from: a file (the CLI: one carnet object, or an array of them) or a
/// request body (the API: an array; `label` is `None`).
#[derive(Debug, Clone)]
pub struct Source {
    pub label: Option<String>,
    pub bytes: Vec<u8>,
}

/// A carnet as sealed in its pending row: what [`ValidCarnet`] holds, email included.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SealedCarnet {
    pub referentiel_id: String,
    pub referentiel_version: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub entries: Vec<CarnetEntry>,
}

/// One problem of a carnet: line (in its file or the body, when known), field, what.
type Problem = (Option<usize>, String, String);

/// One carnet of the batch as read, before it is checked against its référentiel.
struct Item {
    position: u32,
    label: Option<String>,
    /// The lines of its source and its path there (`[2]`), when it is an element of an array
    /// (its problems are then given the source's lines); `None` when it is a whole file.
    within: Option<(usize, String)>,
    read: Result<CarnetDraft, Vec<Problem>>,
}

/// Reads, checks and seals the batch, then stores it as a job with all its rows (state `queued`,
/// nothing imported or issued yet). `class` limits it to one badge class (which must have award
/// rules). The same sources and class while their job is unfinished give that job back
/// ([`CreatedJob::Existing`]).
pub async fn submit(
    app: &App,
    class: Option<&str>,
    sources: Vec<Source>,
    created_by: &str,
) -> Result<CreatedJob, BulkError> {
    let class = match class.map(str::trim).filter(|c| !c.is_empty()) {
        Some(slug) => {
            let class = app
                .class(slug)
                .ok_or_else(|| BulkError::UnknownBadgeClass(slug.to_string()))?;
            if class.rules.is_empty() {
                return Err(BulkError::NotFromCarnets(class.slug.clone()));
            }
            Some(class.slug.clone())
        }
        None => None,
    };
    let digest = batch_digest(&sources);
    let (lines, items) = tokio::task::spawn_blocking(move || read_sources(&sources))
        .await
        .map_err(|e| BulkError::Internal(format!("reading the batch failed: {e}")))??;
    let referentiels = referentiels_of(app, &items).await?;
    let issuer = app.issuer.clone();
    let created_by = created_by.to_string();
    let job = tokio::task::spawn_blocking(move || {
        let rows = check_and_seal(&issuer, &referentiels, &lines, items)?;
        Ok::<_, BulkError>(NewCarnetBatch {
            id: Uuid::new_v4(),
            issuer_slug: issuer.slug().to_string(),
            badge_class_slug: class,
            batch_sha256: digest,
            created_by,
            rows,
        })
    })
    .await
    .map_err(|e| BulkError::Internal(format!("checking the batch failed: {e}")))??;
    let created = app.store.create_carnet_batch(&job).await?;
    if let CreatedJob::Created(j) = &created {
        tracing::info!(bulk.job = %j.id, carnets = j.counts.total, refused = j.counts.failed, "batch of carnets {} stored", j.id);
    }
    Ok(created)
}

/// SHA-256 (hex) of the sources as sent, in order: with the class filter, it finds an unfinished
/// job of the same batch.
fn batch_digest(sources: &[Source]) -> String {
    let mut h = Sha256::new();
    h.update(b"carnet batch v1\0");
    for s in sources {
        let label = s.label.as_deref().unwrap_or("");
        h.update((label.len() as u64).to_be_bytes());
        h.update(label.as_bytes());
        h.update((s.bytes.len() as u64).to_be_bytes());
        h.update(&s.bytes);
    }
    hex(&h.finalize())
}

/// A refusal of the whole batch.
fn refuse(line: Option<usize>, field: &str, problem: impl Into<String>) -> BulkError {
    BulkError::File(vec![FileProblem {
        line,
        field: field.to_string(),
        problem: problem.into(),
    }])
}

/// Splits the sources into carnets and reads each one. Refuses the whole batch only when it is too
/// big, has no carnet or too many, or when the API's body is not a JSON array.
fn read_sources(sources: &[Source]) -> Result<(Vec<Lines>, Vec<Item>), BulkError> {
    let bytes: usize = sources.iter().map(|s| s.bytes.len()).sum();
    if bytes > MAX_BATCH_BYTES {
        return Err(refuse(
            None,
            "(batch)",
            format!("the batch is {bytes} bytes; the limit is {MAX_BATCH_BYTES}: split it"),
        ));
    }
    let mut lines = Vec::new();
    let mut items = Vec::new();
    for source in sources {
        let label = source.label.as_deref().map(short_label);
        let file = label.clone().unwrap_or_else(|| "body".into());
        let mut problems = Problems::new(&file);
        let parsed = match crate::referentiel::utf8_text(&source.bytes, MAX_BATCH_BYTES) {
            Ok(text) => json_lines::parse(text, &mut problems),
            // A file's own reading says it; a body is refused.
            Err(why) if label.is_none() => return Err(refuse(None, "(body)", why)),
            Err(_) => None,
        };
        match (parsed, &label) {
            (Some((Value::Array(elements), source_lines)), _) => {
                if items.len() + elements.len() > MAX_BATCH_CARNETS {
                    return Err(too_many());
                }
                let mut duplicates = by_element(problems.into_vec());
                for (i, element) in elements.iter().enumerate() {
                    let path = format!("[{i}]");
                    let label = label.as_ref().map(|l| format!("{l}{path}"));
                    let read = read_element(element, &file, duplicates.remove(&i));
                    items.push(Item {
                        position: 0,
                        label,
                        within: Some((lines.len(), path)),
                        read,
                    });
                }
                lines.push(source_lines);
            }
            // A file holding one carnet (or something else: its own problems say what).
            (_, Some(label)) => items.push(Item {
                position: 0,
                label: Some(label.clone()),
                within: None,
                read: carnet::parse_carnet(&source.bytes, label).map_err(problem_list),
            }),
            (parsed, None) => {
                let problems = problems.into_vec();
                return Err(match (parsed, problems.first()) {
                    (None, Some(p)) => refuse(p.line, &p.field, p.problem.clone()),
                    _ => refuse(
                        None,
                        "(body)",
                        "send a JSON array of carnet documents (docs/REFERENTIELS.md); to import one carnet, POST /api/v1/carnets",
                    ),
                });
            }
        }
        if items.len() > MAX_BATCH_CARNETS {
            return Err(too_many());
        }
    }
    if items.is_empty() {
        return Err(refuse(None, "(batch)", "the batch holds no carnet"));
    }
    for (i, item) in items.iter_mut().enumerate() {
        item.position = u32::try_from(i + 1)
            .map_err(|_| BulkError::Internal("position out of range".into()))?;
    }
    Ok((lines, items))
}

fn too_many() -> BulkError {
    refuse(
        None,
        "(batch)",
        format!(
            "the batch holds more than {MAX_BATCH_CARNETS} carnets: split it (at most {MAX_BATCH_CARNETS} at a time)"
        ),
    )
}

/// One element of an array: its own document, with the keys its source gave twice.
fn read_element(
    element: &Value,
    file: &str,
    duplicates: Option<Vec<ImportError>>,
) -> Result<CarnetDraft, Vec<Problem>> {
    let bytes = serde_json::to_vec(element).unwrap_or_default();
    let read = carnet::parse_carnet(&bytes, file);
    match (duplicates, read) {
        (None, Ok(draft)) => Ok(draft),
        (Some(d), Ok(_)) => Err(problem_list(d)),
        (d, Err(p)) => Err(problem_list(d.into_iter().flatten().chain(p).collect())),
    }
}

/// The problems of a source about its elements (`[2].person.email`), by element, each field made
/// relative to its element.
fn by_element(problems: Vec<ImportError>) -> HashMap<usize, Vec<ImportError>> {
    let mut by = HashMap::<usize, Vec<ImportError>>::new();
    for mut p in problems {
        let Some((i, rest)) = p
            .field
            .strip_prefix('[')
            .and_then(|f| f.split_once(']'))
            .and_then(|(i, rest)| Some((i.parse::<usize>().ok()?, rest.to_string())))
        else {
            continue;
        };
        p.field = match rest.strip_prefix('.') {
            Some(field) => field.to_string(),
            None => "(document)".into(),
        };
        by.entry(i).or_default().push(p);
    }
    by
}

fn problem_list(problems: Vec<ImportError>) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|p| (p.line, p.field, p.problem))
        .collect()
}

/// A path as a label: at most [`MAX_LABEL_CHARS`] characters (its end kept).
fn short_label(label: &str) -> String {
    let label = label.trim();
    let n = label.chars().count();
    if n == 0 {
        return "(file)".into();
    }
    if n <= MAX_LABEL_CHARS {
        return label.to_string();
    }
    let tail: String = label.chars().skip(n - (MAX_LABEL_CHARS - 1)).collect();
    format!("…{tail}")
}

/// The référentiel versions the carnets name, from the store (`None`: not imported).
async fn referentiels_of(
    app: &App,
    items: &[Item],
) -> Result<BTreeMap<(String, String), Option<Referentiel>>, BulkError> {
    let mut found = BTreeMap::new();
    for item in items {
        let Ok(draft) = &item.read else { continue };
        let Some((id, version)) = draft.referentiel() else {
            continue;
        };
        let key = (id.to_string(), version.to_string());
        if found.contains_key(&key) {
            continue;
        }
        let stored = app
            .store
            .get_referentiel(app.issuer.slug(), id, version)
            .await?;
        found.insert(key, stored.map(|s| s.referentiel));
    }
    Ok(found)
}

/// Every carnet checked against its référentiel, one person's carnet on one référentiel version
/// once, and sealed: the rows to store.
fn check_and_seal(
    issuer: &Issuer,
    referentiels: &BTreeMap<(String, String), Option<Referentiel>>,
    lines: &[Lines],
    items: Vec<Item>,
) -> Result<Vec<NewCarnetRow>, BulkError> {
    let slug = issuer.slug();
    let mut seen: HashMap<String, (u32, Option<String>)> = HashMap::new();
    let mut rows = Vec::with_capacity(items.len());
    for item in items {
        let remap = |problems: Vec<Problem>| match &item.within {
            Some((source, path)) => relocate(&lines[*source], path, problems),
            None => problems,
        };
        let valid = item.read.map_err(&remap).and_then(|draft| {
            let referentiel = draft
                .referentiel()
                .and_then(|(id, v)| referentiels.get(&(id.to_string(), v.to_string())))
                .and_then(Option::as_ref);
            draft
                .validate(referentiel)
                .map_err(|p| remap(problem_list(p)))
        });
        let content = match valid {
            Ok(valid) => {
                let person = person_key(slug, &valid.email);
                let key = row_key(&person, &valid);
                if let Some((position, label)) = seen.get(&key) {
                    NewRowContent::Invalid(RowError {
                        field: "person.email".into(),
                        reason: format!(
                            "this person's carnet on the référentiel {} version {} is already at position {position}{} of this batch: one carnet per person and référentiel version",
                            valid.referentiel_id,
                            valid.referentiel_version,
                            label
                                .as_deref()
                                .map(|l| format!(" ({l})"))
                                .unwrap_or_default()
                        ),
                    })
                } else {
                    seen.insert(key.clone(), (item.position, item.label.clone()));
                    let payload =
                        seal::seal_json(issuer, &sealed(valid)).map_err(BulkError::Internal)?;
                    NewRowContent::Pending {
                        idempotency_key: key,
                        payload,
                    }
                }
            }
            Err(problems) => NewRowContent::Invalid(row_error(&problems)),
        };
        rows.push(NewCarnetRow {
            position: item.position,
            label: item.label,
            content,
        });
    }
    Ok(rows)
}

/// Gives an element's problems the lines of its source.
fn relocate(lines: &Lines, path: &str, problems: Vec<Problem>) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|(_, field, problem)| {
            let at = if field.starts_with('(') {
                path.to_string()
            } else {
                join(path, &field)
            };
            (lines.line(&at), field, problem)
        })
        .collect()
}

/// A carnet's row error: its first problem's field, every problem (up to
/// [`MAX_ROW_PROBLEMS`]) with its line.
fn row_error(problems: &[Problem]) -> RowError {
    let mut reason = problems
        .iter()
        .take(MAX_ROW_PROBLEMS)
        .map(|(line, field, problem)| match line {
            Some(line) => format!("line {line}: {field}: {problem}"),
            None => format!("{field}: {problem}"),
        })
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > MAX_ROW_PROBLEMS {
        reason.push_str(&format!(
            "; and {} more problems",
            problems.len() - MAX_ROW_PROBLEMS
        ));
    }
    RowError {
        field: problems
            .first()
            .map_or_else(|| "(carnet)".into(), |p| p.1.clone()),
        reason,
    }
}

/// The row's key: unique per person and référentiel version in a batch; a hash of the person's
/// key (itself a salted hash), so it shows no email.
fn row_key(person_key: &str, carnet: &ValidCarnet) -> String {
    let mut h = Sha256::new();
    h.update(b"carnet batch row v1\0");
    h.update(person_key.as_bytes());
    h.update(b"\0");
    h.update(carnet.referentiel_id.as_bytes());
    h.update(b"\0");
    h.update(carnet.referentiel_version.as_bytes());
    format!("carnet-{}", hex(&h.finalize()))
}

fn sealed(valid: ValidCarnet) -> SealedCarnet {
    SealedCarnet {
        referentiel_id: valid.referentiel_id,
        referentiel_version: valid.referentiel_version,
        email: valid.email.as_str().to_string(),
        display_name: valid.display_name,
        entries: valid.entries,
    }
}

impl SealedCarnet {
    /// The carnet again, its email parsed (as it was when sealed).
    pub(super) fn into_valid(self) -> Result<ValidCarnet, String> {
        Ok(ValidCarnet {
            email: Email::parse(&self.email)?,
            referentiel_id: self.referentiel_id,
            referentiel_version: self.referentiel_version,
            display_name: self.display_name,
            entries: self.entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(email: &str, answer: &str) -> Value {
        json!({"referentiel": {"id": "rectec", "version": "2021"},
               "person": {"email": email},
               "entries": [{"competence": "1", "answer": answer}]})
    }

    #[test]
    fn an_array_is_split_into_carnets_with_their_lines_and_duplicate_keys() {
        let body = format!(
            "[\n{},\n{{\"referentiel\": {{\"id\": \"rectec\", \"version\": \"2021\"}},\n \"person\": {{\"email\": \"a@example.org\", \"email\": \"b@example.org\"}},\n \"entries\": []}},\n 3\n]",
            doc("lea@example.org", "je_fais")
        );
        let (lines, items) = read_sources(&[Source {
            label: Some("groupe.json".into()),
            bytes: body.into_bytes(),
        }])
        .unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].label.as_deref(), Some("groupe.json[0]"));
        assert_eq!(items[2].position, 3);
        assert!(items[0].read.is_ok());
        let Err(dup) = &items[1].read else {
            panic!("a key given twice")
        };
        assert_eq!(dup[0].0, Some(4), "{dup:?}");
        assert_eq!(dup[0].1, "person.email");
        let Err(not_object) = &items[2].read else {
            panic!("3 is no carnet")
        };
        let relocated = relocate(&lines[0], "[2]", not_object.clone());
        assert_eq!(relocated[0].0, Some(6), "{relocated:?}");
    }

    #[test]
    fn the_api_body_must_be_an_array_of_at_most_500_carnets() {
        let one = |bytes: Vec<u8>| {
            read_sources(&[Source { label: None, bytes }])
                .err()
                .map(|e| match e {
                    BulkError::File(p) => p[0].problem.clone(),
                    other => other.to_string(),
                })
        };
        assert!(one(doc("lea@example.org", "je_fais").to_string().into_bytes()).is_some());
        assert!(one(b"[".to_vec()).unwrap().contains("not valid JSON"));
        assert!(one(b"[]".to_vec()).unwrap().contains("no carnet"));
        assert!(one(b"[\xff]".to_vec()).unwrap().contains("not UTF-8"));
        let many = Value::Array(vec![doc("a@example.org", "je_fais"); 501]);
        assert!(
            one(many.to_string().into_bytes())
                .unwrap()
                .contains("more than 500")
        );
        let fine = Value::Array(vec![doc("a@example.org", "je_fais"); 500]);
        assert_eq!(one(fine.to_string().into_bytes()), None);
    }

    #[test]
    fn labels_keep_the_end_of_long_paths_and_keys_show_no_email() {
        let long = format!("{}/lea.json", "d".repeat(400));
        let short = short_label(&long);
        assert_eq!(short.chars().count(), MAX_LABEL_CHARS);
        assert!(short.starts_with('…') && short.ends_with("/lea.json"));
        let valid = ValidCarnet {
            referentiel_id: "rectec".into(),
            referentiel_version: "2021".into(),
            email: Email::parse("lea@example.org").unwrap(),
            display_name: None,
            entries: vec![],
        };
        let key = row_key(&person_key("ime", &valid.email), &valid);
        assert!(key.starts_with("carnet-") && !key.contains("lea"), "{key}");
    }

    #[test]
    fn a_row_error_lists_every_problem_with_its_line() {
        let e = row_error(&[
            (
                Some(3),
                "person.email".into(),
                "this is not an email address".into(),
            ),
            (None, "entries[0].level".into(), "no level \"9\"".into()),
        ]);
        assert_eq!(e.field, "person.email");
        assert_eq!(
            e.reason,
            "line 3: person.email: this is not an email address; entries[0].level: no level \"9\""
        );
    }
}
