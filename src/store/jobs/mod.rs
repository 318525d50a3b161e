//! What the store keeps of bulk-award jobs (migrations 0005 and 0008); the queries are in
//! `queries.rs`.
//!
//! A job is one CSV file of recipients for one badge class ([`JobKind::Csv`]), or a batch of
//! carnets ([`JobKind::Carnets`]). It is written with one row per CSV line (or per carnet), in ONE
//! transaction, before anything is issued: a row is `pending` (its key and its sealed data, see
//! `bulk::seal`) or already `error` (it failed the up-front checks). Once done, pending rows
//! become `issued`, `already` or `error` (a few at a time) in one transaction with the job's
//! counts, and their sealed data is erased. After a crash, the pending rows are what is left to
//! do (a pending row whose award was stored just before the crash finds it again by its
//! idempotency key).
//!
//! A carnet row can give several awards or none: it is `issued` when the job issued at least one
//! award from it, `already` when it issued none (see its `detail`), and the job counts awards
//! ([`AwardCounts`]) apart from rows.

mod queries;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;

text_enum! {
    /// Where a job is.
    pub enum JobState ("job state") {
        /// Written, not started yet.
        Queued = "queued",
        /// Being worked on (or interrupted: resumed at the next start).
        Running = "running",
        /// Every row was processed (some may be in error).
        Done = "done",
        /// Stopped before the end for a reason that concerns the whole job (its `error`).
        Failed = "failed",
    }
}

impl JobState {
    /// Queued or running: the job still has work to do.
    pub fn is_unfinished(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

text_enum! {
    /// What a job's rows are.
    pub enum JobKind ("job kind") {
        /// CSV lines of recipients for one badge class.
        Csv = "csv",
        /// Carnets: each imported (or found) and its earned classes confirmed.
        Carnets = "carnets",
    }
}

text_enum! {
    /// Where a row is.
    pub enum RowStatus ("row status") {
        Pending = "pending",
        /// Issued by this job.
        Issued = "issued",
        /// The row's idempotency key already had an award (an earlier run or job): nothing issued.
        Already = "already",
        Error = "error",
    }
}

/// Why a row was not issued: the CSV column or carnet field (or `(row)`, `(syntax)`) and the
/// reason. Never holds the recipient's email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub field: String,
    pub reason: String,
}

/// A row to write with its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBulkRow {
    /// The CSV line the row starts on (1-based, the header is line 1 or later).
    pub line: u32,
    pub content: NewRowContent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewRowContent {
    /// To issue: the award's idempotency key and the row's data, sealed.
    Pending {
        idempotency_key: String,
        payload: String,
    },
    /// Refused by the up-front checks.
    Invalid(RowError),
}

/// A job to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBulkJob {
    pub id: Uuid,
    pub issuer_slug: String,
    pub badge_class_slug: String,
    /// The batch name given by the user, if any (it enters the rows' idempotency keys).
    pub batch: Option<String>,
    /// SHA-256 (hex) of the file as sent: with the class and batch, finds an unfinished job of
    /// the same file.
    pub file_sha256: String,
    /// Who submitted it: CLI user or API token name.
    pub created_by: String,
    /// In line order, lines unique.
    pub rows: Vec<NewBulkRow>,
}

/// How many rows are where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobCounts {
    pub total: u32,
    pub issued: u32,
    pub already: u32,
    pub failed: u32,
}

impl JobCounts {
    pub fn pending(&self) -> u32 {
        self.total
            .saturating_sub(self.issued + self.already + self.failed)
    }
    pub fn processed(&self) -> u32 {
        self.issued + self.already + self.failed
    }
}

/// Awards a job issued, and awards its rows found already issued (a CSV row is one award, a
/// carnet row any number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AwardCounts {
    pub issued: u32,
    pub already: u32,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkJob {
    pub id: Uuid,
    pub issuer_slug: String,
    pub kind: JobKind,
    /// The class of a CSV job; the class a carnet batch is limited to, or empty (every class
    /// the carnets earn).
    pub badge_class_slug: String,
    pub batch: Option<String>,
    pub file_sha256: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub state: JobState,
    /// Rows.
    pub counts: JobCounts,
    pub awards: AwardCounts,
    /// Why the job failed (state `failed`).
    pub error: Option<String>,
    /// The node running it and until when, unless it renews (migration 0012, `bulk/lease.rs`).
    pub lease_holder: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
}

/// A stored row (its sealed data is never read back here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRow {
    /// The CSV line, or the carnet's position in its batch (1-based).
    pub line: u32,
    /// Where a carnet came from (its file), when given.
    pub label: Option<String>,
    /// `None` for a row refused before a key could be given to it.
    pub idempotency_key: Option<String>,
    pub status: RowStatus,
    /// The award issued (`issued`) or found (`already`).
    pub award_id: Option<Uuid>,
    pub error: Option<RowError>,
    /// A carnet row's outcome (JSON, see `bulk::carnets`).
    pub detail: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A row still to issue, with its sealed data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBulkRow {
    pub line: u32,
    pub idempotency_key: String,
    pub payload: String,
}

/// What became of a pending row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Issued(Uuid),
    Already(Uuid),
    Error(RowError),
    /// A carnet of a batch, done (or in error, with what it did before).
    Carnet(CarnetOutcome),
}

/// What became of a carnet row: the awards it gave, its outcome as JSON (no email), and why it
/// is in error if it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarnetOutcome {
    pub awards: AwardCounts,
    pub detail: String,
    pub error: Option<RowError>,
}

impl RowOutcome {
    pub fn status(&self) -> RowStatus {
        match self {
            RowOutcome::Issued(_) => RowStatus::Issued,
            RowOutcome::Already(_) => RowStatus::Already,
            RowOutcome::Error(_) => RowStatus::Error,
            RowOutcome::Carnet(c) if c.error.is_some() => RowStatus::Error,
            RowOutcome::Carnet(c) if c.awards.issued > 0 => RowStatus::Issued,
            RowOutcome::Carnet(_) => RowStatus::Already,
        }
    }
    pub fn award_id(&self) -> Option<Uuid> {
        match self {
            RowOutcome::Issued(id) | RowOutcome::Already(id) => Some(*id),
            RowOutcome::Error(_) | RowOutcome::Carnet(_) => None,
        }
    }
    pub fn error(&self) -> Option<&RowError> {
        match self {
            RowOutcome::Error(e) => Some(e),
            RowOutcome::Carnet(c) => c.error.as_ref(),
            _ => None,
        }
    }
    pub fn detail(&self) -> Option<&str> {
        match self {
            RowOutcome::Carnet(c) => Some(&c.detail),
            _ => None,
        }
    }
    /// The awards it counts for in its job.
    pub fn awards(&self) -> AwardCounts {
        match self {
            RowOutcome::Issued(_) => AwardCounts {
                issued: 1,
                already: 0,
            },
            RowOutcome::Already(_) => AwardCounts {
                issued: 0,
                already: 1,
            },
            RowOutcome::Error(_) => AwardCounts::default(),
            RowOutcome::Carnet(c) => c.awards,
        }
    }
}

/// What [`super::Store::finish_bulk_rows`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MarkedRows {
    /// Rows that were pending and are now marked.
    pub changed: u32,
    /// The job's counts after (zero for an unknown job).
    pub counts: JobCounts,
    pub awards: AwardCounts,
}

/// A batch of carnets to write as a job ([`JobKind::Carnets`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCarnetBatch {
    pub id: Uuid,
    pub issuer_slug: String,
    /// Only this class, or (`None`) every class the carnets earn.
    pub badge_class_slug: Option<String>,
    /// SHA-256 (hex) of the batch as sent: with the class, finds an unfinished job of the same
    /// batch.
    pub batch_sha256: String,
    pub created_by: String,
    /// In position order, positions unique.
    pub rows: Vec<NewCarnetRow>,
}

/// A carnet to write with its batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCarnetRow {
    /// 1-based, over the whole batch.
    pub position: u32,
    /// Its file, when it came from one (at most 1000 characters).
    pub label: Option<String>,
    /// The row's key (unique in the batch) and the sealed carnet, or why it was refused.
    pub content: NewRowContent,
}

/// What [`super::Store::create_bulk_job`] and [`super::Store::create_carnet_batch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreatedJob {
    /// The job and its rows were written.
    Created(BulkJob),
    /// An unfinished job of the same issuer, class, batch and file exists: that one (nothing
    /// was written).
    Existing(BulkJob),
}

impl CreatedJob {
    pub fn job(&self) -> &BulkJob {
        match self {
            CreatedJob::Created(j) | CreatedJob::Existing(j) => j,
        }
    }
    pub fn into_job(self) -> BulkJob {
        match self {
            CreatedJob::Created(j) | CreatedJob::Existing(j) => j,
        }
    }
}

/// A job as it is written, whatever its kind.
struct JobToWrite<'a> {
    pub id: Uuid,
    pub issuer_slug: &'a str,
    pub kind: JobKind,
    pub badge_class_slug: &'a str,
    /// `''` when none.
    pub batch: &'a str,
    pub file_sha256: &'a str,
    pub created_by: &'a str,
    pub rows: Vec<RowToWrite<'a>>,
}

struct RowToWrite<'a> {
    pub line: u32,
    pub label: Option<&'a str>,
    pub content: &'a NewRowContent,
}

impl NewBulkJob {
    fn to_write(&self) -> JobToWrite<'_> {
        JobToWrite {
            id: self.id,
            issuer_slug: &self.issuer_slug,
            kind: JobKind::Csv,
            badge_class_slug: &self.badge_class_slug,
            batch: self.batch.as_deref().unwrap_or(""),
            file_sha256: &self.file_sha256,
            created_by: &self.created_by,
            rows: self
                .rows
                .iter()
                .map(|r| RowToWrite {
                    line: r.line,
                    label: None,
                    content: &r.content,
                })
                .collect(),
        }
    }
}

impl NewCarnetBatch {
    fn to_write(&self) -> JobToWrite<'_> {
        JobToWrite {
            id: self.id,
            issuer_slug: &self.issuer_slug,
            kind: JobKind::Carnets,
            badge_class_slug: self.badge_class_slug.as_deref().unwrap_or(""),
            batch: "",
            file_sha256: &self.batch_sha256,
            created_by: &self.created_by,
            rows: self
                .rows
                .iter()
                .map(|r| RowToWrite {
                    line: r.position,
                    label: r.label.as_deref(),
                    content: &r.content,
                })
                .collect(),
        }
    }
}

/// The job's counts as written: the rows refused up front are counted as failed at once.
fn initial_counts(job: &JobToWrite<'_>) -> Result<JobCounts, StoreError> {
    let count = |n: usize| {
        u32::try_from(n).map_err(|_| StoreError::InvalidOptions("too many rows in one job".into()))
    };
    let invalid = job
        .rows
        .iter()
        .filter(|r| matches!(r.content, NewRowContent::Invalid(_)))
        .count();
    Ok(JobCounts {
        total: count(job.rows.len())?,
        issued: 0,
        already: 0,
        failed: count(invalid)?,
    })
}

/// Counts one marked row, and its awards.
fn tally(counts: &mut JobCounts, awards: &mut AwardCounts, outcome: &RowOutcome) {
    match outcome.status() {
        RowStatus::Issued => counts.issued += 1,
        RowStatus::Already => counts.already += 1,
        RowStatus::Error => counts.failed += 1,
        RowStatus::Pending => {}
    }
    let a = outcome.awards();
    awards.issued += a.issued;
    awards.already += a.already;
}

/// Rows per multi-row INSERT (7 parameters each, plus 2 shared: well under both backends'
/// limits).
const INSERT_CHUNK: usize = 500;
