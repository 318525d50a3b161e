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

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;
use crate::referentiel::Referentiel;
/// A carnet to store, built by [`crate::referentiel::carnet::ValidCarnet::into_new_carnet`].
pub use crate::referentiel::carnet::NewCarnet;
use crate::referentiel::carnet::{CarnetEntry, Person};

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

text_enum! {
    /// What happened to a carnet; stored as text.
    pub enum CarnetEventKind ("carnet event kind") {
        /// Imported with its entries.
        Imported = "imported",
        /// One entry positioned or changed; the detail holds it before and after.
        EntrySaved = "entry_saved",
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
