//! What the store keeps of référentiels and carnets (migration 0004); the queries are in
//! [`queries`].
//!
//! A référentiel version is kept whole, as its JSON import document: it is imported at once, never
//! edited, and read at once (to check a carnet, to apply an award rule); imported again, it is
//! unchanged with the same digest and refused (a conflict) with another. A carnet is a row plus one
//! row per positioned competence, so that one entry can be edited on its own; the three answers,
//! the two recognitions and the modalities are stored as their names, and the database refuses
//! an entry that breaks the rules a row can state (a validated entry without date or jury, a
//! validated *je ne fais pas*, struck parts on another answer than *en partie*). A carnet is
//! written with its entries and its "imported" event in one transaction, one per person and
//! référentiel version.

mod queries;

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::StoreError;
use crate::referentiel::Referentiel;
/// A carnet to store, built by [`crate::referentiel::carnet::ValidCarnet::into_new_carnet`].
pub use crate::referentiel::carnet::NewCarnet;
use crate::referentiel::carnet::{Answer, CarnetEntry, JuryMember, Modality, Person, Recognition};

/// A stored référentiel version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReferentiel {
    pub referentiel: Referentiel,
    /// [`Referentiel::digest`] of what was imported.
    pub digest: String,
    /// Who imported it: CLI user or API token name.
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
}

/// One line of the list of référentiels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferentielSummary {
    pub id: String,
    pub version: String,
    pub name: String,
    pub competences: u32,
    pub digest: String,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
}

/// What [`super::Store::save_referentiel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedReferentiel {
    /// A new version was stored.
    Created,
    /// This version was already stored with the same content: nothing changed.
    Unchanged,
}

/// One entry as stored, with who changed it last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarnetEntryRecord {
    pub entry: CarnetEntry,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// A stored carnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carnet {
    pub id: Uuid,
    pub issuer_slug: String,
    pub person: Person,
    pub referentiel_id: String,
    pub referentiel_version: String,
    /// Ordered by competence id (callers order them as their référentiel does).
    pub entries: Vec<CarnetEntryRecord>,
    /// Bumped by every change of an entry: an edit names the revision it was made from.
    pub revision: u64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Carnet {
    pub fn entry(&self, competence: &str) -> Option<&CarnetEntry> {
        self.entries
            .iter()
            .map(|r| &r.entry)
            .find(|e| e.competence == competence)
    }
}

/// What happened to a carnet; stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CarnetEventKind {
    /// Imported with its entries.
    Imported,
    /// One entry positioned or changed; the detail holds it before and after.
    EntrySaved,
}

impl CarnetEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CarnetEventKind::Imported => "imported",
            CarnetEventKind::EntrySaved => "entry_saved",
        }
    }

    pub(super) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "imported" => Ok(CarnetEventKind::Imported),
            "entry_saved" => Ok(CarnetEventKind::EntrySaved),
            other => Err(StoreError::Corrupt(format!(
                "unknown carnet event kind {other:?}"
            ))),
        }
    }
}

impl fmt::Display for CarnetEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a carnet's audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct CarnetEvent {
    pub kind: CarnetEventKind,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub detail: serde_json::Value,
}

/// An entry's columns as they are written (the date is bound as `YYYY-MM-DD` text).
pub(super) struct EntryColumns<'a> {
    pub competence: &'a str,
    pub answer: &'static str,
    /// JSON array of part ids.
    pub struck: String,
    pub recognition: &'static str,
    pub modality: Option<&'static str>,
    pub date: Option<NaiveDate>,
    /// JSON array of `{"name", "role"?}`.
    pub jury: String,
    pub level: Option<&'a str>,
    pub comment: Option<&'a str>,
}

impl<'a> EntryColumns<'a> {
    pub fn of(entry: &'a CarnetEntry) -> Self {
        EntryColumns {
            competence: &entry.competence,
            answer: entry.answer.as_str(),
            struck: serde_json::to_string(&entry.struck).expect("ids serialise"),
            recognition: entry.recognition.as_str(),
            modality: entry.modality.map(Modality::as_str),
            date: entry.date,
            jury: serde_json::to_string(&entry.jury).expect("jury serialises"),
            level: entry.level.as_deref(),
            comment: entry.comment.as_deref(),
        }
    }
}

/// An entry read back from its columns.
#[expect(clippy::too_many_arguments, reason = "one argument per column")]
pub(super) fn entry_from_columns(
    competence: String,
    answer: &str,
    struck: &str,
    recognition: &str,
    modality: Option<&str>,
    date: Option<NaiveDate>,
    jury: &str,
    level: Option<String>,
    comment: Option<String>,
) -> Result<CarnetEntry, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("carnet entry {competence}: {what}"));
    Ok(CarnetEntry {
        answer: Answer::parse(answer).ok_or_else(|| corrupt("unknown answer"))?,
        struck: serde_json::from_str(struck).map_err(|_| corrupt("struck is not a JSON list"))?,
        recognition: Recognition::parse(recognition)
            .ok_or_else(|| corrupt("unknown recognition"))?,
        modality: modality
            .map(|m| Modality::parse(m).ok_or_else(|| corrupt("unknown modality")))
            .transpose()?,
        date,
        jury: serde_json::from_str::<Vec<JuryMember>>(jury)
            .map_err(|_| corrupt("jury is not a JSON list of members"))?,
        level,
        comment,
        competence,
    })
}

/// Reads back a stored référentiel document.
pub(super) fn referentiel_from_document(document: &str) -> Result<Referentiel, StoreError> {
    serde_json::from_str(document)
        .map_err(|e| StoreError::Corrupt(format!("stored référentiel document: {e}")))
}

/// The detail of the "imported" event.
pub(super) fn imported_event_detail(carnet: &NewCarnet) -> String {
    serde_json::json!({
        "referentiel": carnet.referentiel_id,
        "version": carnet.referentiel_version,
        "entries": carnet.entries.len(),
    })
    .to_string()
}

/// The detail of an "entry_saved" event: the entry before (null when new) and after.
pub(super) fn entry_saved_detail(before: Option<&CarnetEntry>, after: &CarnetEntry) -> String {
    serde_json::json!({
        "competence": after.competence,
        "before": before,
        "after": after,
    })
    .to_string()
}
