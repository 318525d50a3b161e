//! What the store keeps of bulk-award jobs (migration 0005), shared by both backends.
//!
//! A job is one CSV file of recipients for one badge class. It is written with one row per CSV
//! line, in ONE transaction, before anything is issued: a row is `pending` (its idempotency key
//! and its sealed data, see `bulk::seal`) or already `error` (it failed the up-front checks).
//! Once issued, pending rows become `issued`, `already` or `error` (a few at a time) in one
//! transaction with the job's counts, and their sealed data is erased. After a crash, the pending
//! rows are what is left to do (a pending row whose award was stored just before the crash finds
//! it again by its idempotency key).

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Written, not started yet.
    Queued,
    /// Being worked on (or interrupted: resumed at the next start).
    Running,
    /// Every row was processed (some may be in error).
    Done,
    /// Stopped before the end for a reason that concerns the whole job (its `error`).
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "queued" => Ok(JobState::Queued),
            "running" => Ok(JobState::Running),
            "done" => Ok(JobState::Done),
            "failed" => Ok(JobState::Failed),
            other => Err(StoreError::Corrupt(format!("unknown job state {other:?}"))),
        }
    }

    /// Queued or running: the job still has work to do.
    pub fn is_unfinished(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowStatus {
    Pending,
    /// Issued by this job.
    Issued,
    /// The row's idempotency key already had an award (an earlier run or job): nothing issued.
    Already,
    Error,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Pending => "pending",
            RowStatus::Issued => "issued",
            RowStatus::Already => "already",
            RowStatus::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "pending" => Ok(RowStatus::Pending),
            "issued" => Ok(RowStatus::Issued),
            "already" => Ok(RowStatus::Already),
            "error" => Ok(RowStatus::Error),
            other => Err(StoreError::Corrupt(format!("unknown row status {other:?}"))),
        }
    }
}

impl fmt::Display for RowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a row was not issued: the CSV column (or `(row)`, `(syntax)`) and the reason. Never holds
/// the recipient's email.
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

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkJob {
    pub id: Uuid,
    pub issuer_slug: String,
    pub badge_class_slug: String,
    pub batch: Option<String>,
    pub file_sha256: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub state: JobState,
    pub counts: JobCounts,
    /// Why the job failed (state `failed`).
    pub error: Option<String>,
}

/// A stored row (its sealed data is never read back here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRow {
    pub line: u32,
    /// `None` for a row refused before a key could be given to it.
    pub idempotency_key: Option<String>,
    pub status: RowStatus,
    /// The award issued (`issued`) or found (`already`).
    pub award_id: Option<Uuid>,
    pub error: Option<RowError>,
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
}

impl RowOutcome {
    pub fn status(&self) -> RowStatus {
        match self {
            RowOutcome::Issued(_) => RowStatus::Issued,
            RowOutcome::Already(_) => RowStatus::Already,
            RowOutcome::Error(_) => RowStatus::Error,
        }
    }
    pub fn award_id(&self) -> Option<Uuid> {
        match self {
            RowOutcome::Issued(id) | RowOutcome::Already(id) => Some(*id),
            RowOutcome::Error(_) => None,
        }
    }
    pub fn error(&self) -> Option<&RowError> {
        match self {
            RowOutcome::Error(e) => Some(e),
            _ => None,
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
}

/// What [`super::Store::create_bulk_job`] did.
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

/// The job's counts as written: the rows refused up front are counted as failed at once.
pub(super) fn initial_counts(job: &NewBulkJob) -> Result<JobCounts, StoreError> {
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

/// Counts one marked row.
pub(super) fn tally(counts: &mut JobCounts, outcome: &RowOutcome) {
    match outcome {
        RowOutcome::Issued(_) => counts.issued += 1,
        RowOutcome::Already(_) => counts.already += 1,
        RowOutcome::Error(_) => counts.failed += 1,
    }
}

/// Rows per multi-row INSERT (8 parameters each: well under both backends' limits).
pub(super) const INSERT_CHUNK: usize = 500;
