//! Bulk awards: a CSV file of recipients for one badge class becomes a job that issues one award
//! per valid row (`docs/BULK.md`).
//!
//! **Idempotent.** Each row has an idempotency key: derived from the class, the batch name and the
//! row's `key` column, or its normalised email when there is none ([`row_key`]). The key goes to
//! [`issue::issue_many`], which returns the award already stored under it instead of issuing
//! again; so re-running a file, or a corrected copy of it, issues nothing twice (those rows are
//! `already`).
//!
//! **Crash-safe.** The job and one row per CSV line are stored in ONE transaction before anything
//! is issued ([`submit`]). Then, a page of pending rows at a time ([`run`]): their status slots
//! are taken (one transaction), their awards signed, then stored with their audit events (ONE
//! transaction: the whole page complete or absent), then the rows are marked (rows and job counts
//! in one transaction). A crash between the two leaves the rows pending with their awards stored;
//! the rerun finds each award by its row's key and marks the row, issuing nothing. So after any
//! crash, every award is complete or absent, and a rerun (`carnet bulk resume`, re-sending the same
//! file, or the server's start, [`resume_unfinished`]) completes exactly the rest. Slots taken for
//! a page that a crash stopped stay unused: a gap in the status list, never a slot used twice.
//!
//! **A pipeline.** [`run`] takes the pending rows a page (64) at a time (`csv_rows.rs`). One side
//! reserves (`issue::reserve_many`: the page's idempotency keys in one query, status slots from
//! an `issue::SlotPool` that takes three pages ahead in one transaction) and signs
//! (`issue::sign_reserved`, the CPU: at most [`MAX_CONCURRENT_AWARDS`] threads for all jobs of the
//! process, leaving the cores to verification) page after page; the other stores a page behind
//! (`issue::store_many`: the page's awards in ONE transaction, then `Store::finish_bulk_rows`);
//! they are joined by a channel of one page, and either side stopping stops the other. One node
//! at a time runs a job, under a lease ([`lease`]).
//!
//! **Private.** A pending row's data (email, name...) is stored sealed ([`seal`]) and erased once
//! the row is done; keys are hashes; error reasons never repeat an email.
//!
//! A **batch of carnets** is a job of another kind ([`JobKind::Carnets`], [`carnets`]): the same
//! job, rows, counts, marking and resuming; [`run`] hands its rows to `carnet_rows.rs`.

mod carnet_document;
mod carnet_rows;
pub mod carnets;
mod csv_rows;
pub mod file;
pub mod lease;
pub mod seal;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::app::App;
use crate::hex::hex;
use crate::recipient::Email;
use crate::store::{
    AwardCounts, BulkJob, BulkRow, CreatedJob, JobCounts, JobKind, JobState, NewBulkJob,
    NewBulkRow, NewRowContent, RowError, RowStatus, StoreError,
};

use crate::issue::SlotPool;
pub use csv_rows::issue_row;
use csv_rows::{SignedPage, reserve_page, sign_page, store_page};
pub use file::{FileProblem, MAX_BULK_BYTES, MAX_ROWS};

/// Bulk awards signed at once in one process, whatever the number of jobs: signing is CPU-bound,
/// and big batches must not starve verification traffic on 2 cores.
pub const MAX_CONCURRENT_AWARDS: usize = 2;
static ISSUING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_CONCURRENT_AWARDS);
/// Pending rows issued together: their status slots in one transaction, their awards in one,
/// their marking in one. A page is also what a crash can leave issued but not yet marked.
const PAGE: u32 = 64;
/// Longest batch name.
const MAX_BATCH_CHARS: usize = 64;

/// Told the job's counts (rows, awards) as rows are marked.
pub type Progress<'a> = dyn Fn(JobCounts, AwardCounts) + Send + Sync + 'a;

#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error("unknown badge class \"{0}\"")]
    UnknownBadgeClass(String),
    /// A batch of carnets limited to a class that is not earned from a carnet (no award rules).
    #[error(
        "the badge class \"{0}\" has no award rules: it is not earned from a carnet (give its recipients in a CSV file: carnet bulk issue)"
    )]
    NotFromCarnets(String),
    #[error("batch: {0}")]
    InvalidBatch(String),
    /// The file cannot be read as a whole (each problem has its line when it has one).
    #[error("the file is refused: {}", .0.first().map(|p| p.problem.as_str()).unwrap_or(""))]
    File(Vec<FileProblem>),
    #[error("no bulk job has the id {0}")]
    NotFound(Uuid),
    #[error("the job {0} is already being run (by this node or another)")]
    AlreadyRunning(Uuid),
    /// This node stopped renewing the job's lease in time and another node took the job over.
    #[error("the job {0} was taken over by another node")]
    LeaseLost(Uuid),
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::problem::Problem for BulkError {
    fn kind(&self) -> crate::problem::Kind {
        use crate::problem::Kind;
        match self {
            BulkError::UnknownBadgeClass(_)
            | BulkError::NotFromCarnets(_)
            | BulkError::InvalidBatch(_)
            | BulkError::File(_) => Kind::Invalid,
            BulkError::NotFound(_) => Kind::NotFound,
            BulkError::AlreadyRunning(_) | BulkError::LeaseLost(_) => Kind::WrongState,
            BulkError::Internal(_) => Kind::Internal,
            BulkError::Store(e) => e.kind(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            BulkError::UnknownBadgeClass(_) | BulkError::NotFromCarnets(_) => Some("badge_class"),
            BulkError::InvalidBatch(_) => Some("batch"),
            BulkError::File(problems) => problems.first().map(|p| p.field.as_str()),
            _ => None,
        }
    }

    fn detail(&self) -> String {
        match self {
            BulkError::InvalidBatch(why) => why.clone(),
            other => other.to_string(),
        }
    }

    fn transparent(&self) -> Option<&dyn crate::problem::Problem> {
        match self {
            BulkError::Store(e) => Some(e),
            _ => None,
        }
    }
}

/// A batch name: letters, digits, `.`, `_`, `-`, 1 to 64 characters (`2026-juin`).
pub fn validate_batch(batch: &str) -> Result<String, String> {
    let b = batch.trim();
    if b.is_empty()
        || b.chars().count() > MAX_BATCH_CHARS
        || !b
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(format!(
            "give 1 to {MAX_BATCH_CHARS} letters, digits, '.', '_' or '-' (e.g. 2026-juin)"
        ));
    }
    Ok(b.to_string())
}

/// The idempotency key of a row: `bulk-` and the SHA-256 (hex) of the class, the batch name and
/// the row's identity, the `key` column when given, else the normalised email. The same person in
/// the same class and batch always gets the same key, whatever the file or the job; the key shows
/// no email (like any unsalted hash of an email, it is a pseudonym, not anonymity).
pub fn row_key(
    class: &str,
    batch: Option<&str>,
    row_key_column: Option<&str>,
    email: &Email,
) -> String {
    let mut h = Sha256::new();
    h.update(b"carnet bulk v1\0");
    h.update(class.as_bytes());
    h.update(b"\0");
    h.update(batch.unwrap_or("").as_bytes());
    h.update(b"\0");
    match row_key_column {
        Some(k) => {
            h.update(b"key:");
            h.update(k.as_bytes());
        }
        None => {
            h.update(b"email:");
            h.update(email.as_str().as_bytes());
        }
    }
    format!("bulk-{}", hex(&h.finalize()))
}

/// Who issued a job's awards (`Award::issued_by`): the submitter and the job, so that a rerun
/// tells the awards of this job (`issued`) from earlier ones (`already`).
pub fn job_actor(job: &BulkJob) -> String {
    format!("{} (bulk {})", job.created_by, job.id)
}

/// Reads and checks the file, then stores it as a job with all its rows (state `queued`, nothing
/// issued yet). The same file (bytes), class and batch while its job is unfinished gives that job
/// back ([`CreatedJob::Existing`]). Rows in error are stored as such, with line, column and reason.
pub async fn submit(
    app: &App,
    class_slug: &str,
    batch: Option<&str>,
    bytes: Vec<u8>,
    created_by: &str,
) -> Result<CreatedJob, BulkError> {
    let class = app
        .class(class_slug)
        .ok_or_else(|| BulkError::UnknownBadgeClass(class_slug.to_string()))?;
    let batch = batch
        .map(validate_batch)
        .transpose()
        .map_err(BulkError::InvalidBatch)?;
    let issuer = app.issuer.clone();
    let (class_slug, created_by) = (class.slug.clone(), created_by.to_string());
    // Up to 10,000 rows to check and seal: off the async runtime.
    let job = tokio::task::spawn_blocking(move || {
        prepare(&issuer, &class_slug, batch, &bytes, &created_by)
    })
    .await
    .map_err(|e| BulkError::Internal(format!("reading the file failed: {e}")))??;
    let created = app.store.create_bulk_job(&job).await?;
    if let CreatedJob::Created(j) = &created {
        tracing::info!(bulk.job = %j.id, badge_class = %j.badge_class_slug, rows = j.counts.total, refused = j.counts.failed, "bulk job {} stored", j.id);
    }
    Ok(created)
}

/// The job to store for a file: every row checked, keyed and sealed.
fn prepare(
    issuer: &crate::issuer::Issuer,
    class_slug: &str,
    batch: Option<String>,
    bytes: &[u8],
    created_by: &str,
) -> Result<NewBulkJob, BulkError> {
    let rows = file::read(bytes, Utc::now()).map_err(BulkError::File)?;
    let mut new_rows = Vec::with_capacity(rows.len());
    for row in rows {
        let line = u32::try_from(row.line)
            .map_err(|_| BulkError::Internal(format!("line {} is out of range", row.line)))?;
        let content = match row.content {
            Ok(data) => {
                let idempotency_key = row_key(
                    class_slug,
                    batch.as_deref(),
                    data.key.as_deref(),
                    &data.email,
                );
                let payload = seal::seal(
                    issuer,
                    &seal::Payload {
                        email: data.email.as_str().to_string(),
                        name: data.name,
                        narrative: data.narrative,
                        evidence_url: data.evidence_url,
                        valid_until: data.valid_until,
                        keyed: data.key.is_some(),
                    },
                )
                .map_err(BulkError::Internal)?;
                NewRowContent::Pending {
                    idempotency_key,
                    payload,
                }
            }
            Err(problems) => NewRowContent::Invalid(row_error(&problems)),
        };
        new_rows.push(NewBulkRow { line, content });
    }
    Ok(NewBulkJob {
        id: Uuid::new_v4(),
        issuer_slug: issuer.slug().to_string(),
        badge_class_slug: class_slug.to_string(),
        batch,
        file_sha256: hex(&Sha256::digest(bytes)),
        created_by: created_by.to_string(),
        rows: new_rows,
    })
}

/// One stored error for a row: its first problem's column, every reason.
fn row_error(problems: &[file::FieldProblem]) -> RowError {
    let first = problems.first();
    let mut reason = first.map(|p| p.problem.clone()).unwrap_or_default();
    for p in problems.iter().skip(1) {
        reason.push_str(&format!("; {}: {}", p.field, p.problem));
    }
    RowError {
        field: first.map_or_else(|| "(row)".into(), |p| p.field.clone()),
        reason,
    }
}

/// The job ids this process is running, so that one job never runs twice in one process.
static RUNNING: Mutex<Option<HashSet<Uuid>>> = Mutex::new(None);

struct RunGuard(Uuid);

impl RunGuard {
    fn take(id: Uuid) -> Option<RunGuard> {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = running.get_or_insert_with(HashSet::new).insert(id);
        drop(running);
        // Never build a guard for a job already running: its drop would take the lock (held
        // above, a deadlock of the whole process) and free the other run's id.
        if fresh { Some(RunGuard(id)) } else { None }
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(set) = running.as_mut() {
            set.remove(&self.0);
        }
    }
}

/// Runs a job to its end: its pending rows a page at a time (`csv_rows.rs`: signed on
/// `concurrency` threads, at most [`MAX_CONCURRENT_AWARDS`], one job's page at a time in the
/// process), each page stored then marked; `progress` is told the counts after each page. A row in
/// error is recorded and the others go on. A store failure stops the run and leaves the job `running`, to be resumed
/// (what was done stays done). A job already done is returned as it is. A batch of carnets runs
/// its carnets instead (`carnet_rows.rs`).
pub async fn run(
    app: &App,
    job_id: Uuid,
    concurrency: usize,
    progress: &Progress<'_>,
) -> Result<BulkJob, BulkError> {
    let _guard = RunGuard::take(job_id).ok_or(BulkError::AlreadyRunning(job_id))?;
    let job = app
        .store
        .get_bulk_job(job_id)
        .await?
        .ok_or(BulkError::NotFound(job_id))?;
    if job.state == JobState::Done {
        return Ok(job);
    }
    // one node at a time (lease.rs)
    let Some(lease) = lease::Lease::take(app, job_id).await? else {
        return Err(BulkError::AlreadyRunning(job_id));
    };
    let outcome = lease
        .hold_while(run_leased(app, job, concurrency, progress))
        .await;
    lease.release().await;
    outcome
}

/// [`run`], once this node holds the job's lease.
async fn run_leased(
    app: &App,
    job: BulkJob,
    concurrency: usize,
    progress: &Progress<'_>,
) -> Result<BulkJob, BulkError> {
    let store = app.store.clone();
    let job_id = job.id;
    let concurrency = concurrency.clamp(1, MAX_CONCURRENT_AWARDS);
    if job.kind == JobKind::Carnets {
        return carnet_rows::run_batch(app, job, concurrency, progress).await;
    }
    let Some(class) = app.class(&job.badge_class_slug) else {
        let why = format!(
            "the badge class \"{}\" is no longer in the badge-classes directory: put it back, then resume the job",
            job.badge_class_slug
        );
        tracing::warn!(bulk.job = %job_id, "bulk job {job_id} failed: {why}");
        return store
            .set_bulk_job_state(job_id, JobState::Failed, Some(&why))
            .await?
            .ok_or(BulkError::NotFound(job_id));
    };
    let class = Arc::new(class.clone());
    let job = Arc::new(
        store
            .set_bulk_job_state(job_id, JobState::Running, None)
            .await?
            .ok_or(BulkError::NotFound(job_id))?,
    );
    progress(job.counts, job.awards);
    // A pipeline: one side reserves (the database: one query, and a transaction every few pages
    // for the status slots) and signs (the CPU) page after page; the other stores and marks
    // them (the database), a page behind. Either side stopping stops the other.
    let (to_store, mut signed_pages) = tokio::sync::mpsc::channel::<SignedPage>(1);
    let produce = async {
        let to_store = to_store;
        let mut slots = SlotPool::ahead(PAGE * 3);
        let mut after = 0;
        loop {
            let page = store.pending_bulk_rows(job_id, after, PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.line;
            let reserved = reserve_page(app, &class, &job, &page, &mut slots).await?;
            let signed = sign_page(app, &class, reserved, concurrency).await?;
            if to_store.send(signed).await.is_err() {
                // the storing side stopped: its error is the one reported
                return Ok(());
            }
        }
    };
    let consume = async {
        while let Some(page) = signed_pages.recv().await {
            let marked = match store_page(app, &class, &job, page).await {
                Ok(marked) => marked,
                Err(e) => {
                    signed_pages.close();
                    return Err(e);
                }
            };
            progress(marked.counts, marked.awards);
        }
        Ok::<(), BulkError>(())
    };
    let (produced, consumed) = tokio::join!(produce, consume);
    if let Err(e) = consumed.and(produced) {
        tracing::error!(bulk.job = %job_id, "bulk job {job_id} stopped (it will be resumed): {e}");
        return Err(e);
    }
    let job = store
        .set_bulk_job_state(job_id, JobState::Done, None)
        .await?
        .ok_or(BulkError::NotFound(job_id))?;
    tracing::info!(bulk.job = %job_id, issued = job.counts.issued, already = job.counts.already, failed = job.counts.failed, "bulk job {job_id} done");
    Ok(job)
}

/// Runs a job in the background (the server), unless this process already runs it.
pub fn spawn(app: App, job_id: Uuid) {
    tokio::spawn(async move {
        match run(&app, job_id, MAX_CONCURRENT_AWARDS, &|_, _| {}).await {
            Ok(_) | Err(BulkError::AlreadyRunning(_)) => {}
            Err(e) => tracing::error!(bulk.job = %job_id, "bulk job {job_id}: {e}"),
        }
    });
}

/// Resumes in the background the issuer's jobs left queued or running (by a crash, a stop, or
/// a node that died: [`lease`]) that no live node holds. Returns how many it started.
pub async fn resume_unfinished(app: &App) -> Result<usize, StoreError> {
    let now = chrono::Utc::now();
    let jobs = app.store.unfinished_bulk_jobs(app.issuer.slug()).await?;
    let mut resumed = 0;
    for job in jobs
        .iter()
        .filter(|j| j.lease_until.is_none_or(|until| until < now))
    {
        tracing::info!(bulk.job = %job.id, pending = job.counts.pending(), "resuming bulk job {}", job.id);
        spawn(app.clone(), job.id);
        resumed += 1;
    }
    Ok(resumed)
}

/// The server's sweep: every third of a lease, resumes the jobs whose node died, in every
/// institution.
pub async fn sweep(app: App) {
    loop {
        tokio::time::sleep(app.config.job_lease / 3).await;
        let institutions = match app.store.institutions().await {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!("institutions could not be read: {e}");
                continue;
            }
        };
        for institution in institutions {
            let view = match app.for_institution(&institution.slug).await {
                Ok(Some(view)) => view,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(institution = %institution.slug, "cannot act for it: {e}");
                    continue;
                }
            };
            if let Err(e) = resume_unfinished(&view).await {
                tracing::warn!("bulk jobs to resume could not be read: {e}");
            }
        }
    }
}

/// The job's URL in the API.
pub fn job_url(base_url: &str, id: Uuid) -> String {
    format!("{base_url}/api/v1/bulk-awards/{id}")
}

/// The job as the API and `carnet bulk status --json` show it: state, counts, the rows in error
/// (line, column, reason) and every row with its award. A batch of carnets is shown by
/// [`carnets::batch_document`].
pub fn job_document(base_url: &str, job: &BulkJob, rows: &[BulkRow]) -> Value {
    if job.kind == JobKind::Carnets {
        return carnets::batch_document(base_url, job, rows);
    }
    let c = job.counts;
    let row_doc = |r: &BulkRow| {
        let mut d = json!({"line": r.line, "status": r.status.as_str()});
        if let Some(id) = r.award_id {
            d["award_id"] = json!(id);
            d["award_url"] = json!(format!("{base_url}/api/v1/awards/{id}"));
        }
        if let Some(e) = &r.error {
            d["field"] = json!(e.field);
            d["reason"] = json!(e.reason);
        }
        d
    };
    let errors: Vec<Value> = rows
        .iter()
        .filter(|r| r.status == RowStatus::Error)
        .map(|r| {
            let e = r.error.as_ref();
            json!({
                "line": r.line,
                "field": e.map(|e| e.field.as_str()),
                "reason": e.map(|e| e.reason.as_str()),
            })
        })
        .collect();
    json!({
        "id": job.id,
        "url": job_url(base_url, job.id),
        "badge_class": job.badge_class_slug,
        "batch": job.batch,
        "state": job.state.as_str(),
        "error": job.error,
        "created_by": job.created_by,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "file_sha256": job.file_sha256,
        "counts": {
            "total": c.total,
            "pending": c.pending(),
            "issued": c.issued,
            "already": c.already,
            "failed": c.failed,
        },
        "errors": errors,
        "rows": rows.iter().map(row_doc).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_class_batch_and_identity_but_not_on_the_file() {
        let lea = Email::parse(" Lea@Example.org ").unwrap();
        let k = row_key("cuisine", None, None, &lea);
        assert!(k.starts_with("bulk-") && k.len() == 69, "{k}");
        assert!(!k.contains("lea"));
        assert_eq!(
            k,
            row_key(
                "cuisine",
                None,
                None,
                &Email::parse("lea@example.org").unwrap()
            )
        );
        assert_ne!(k, row_key("atelier", None, None, &lea));
        assert_ne!(k, row_key("cuisine", Some("2026-juin"), None, &lea));
        assert_ne!(k, row_key("cuisine", None, Some("r1"), &lea));
        // The `key` column replaces the email.
        let sam = Email::parse("sam@example.org").unwrap();
        assert_eq!(
            row_key("cuisine", None, Some("r1"), &lea),
            row_key("cuisine", None, Some("r1"), &sam)
        );
    }

    #[test]
    fn batch_names_are_short_words() {
        assert_eq!(validate_batch(" 2026-juin ").unwrap(), "2026-juin");
        assert!(validate_batch("").is_err());
        assert!(validate_batch("a b").is_err());
        assert!(validate_batch(&"x".repeat(65)).is_err());
    }

    #[test]
    fn a_row_with_several_problems_is_stored_with_all_of_them() {
        let e = row_error(&[
            file::FieldProblem {
                field: "email".into(),
                problem: "missing".into(),
            },
            file::FieldProblem {
                field: "valid_until".into(),
                problem: "must be in the future".into(),
            },
        ]);
        assert_eq!(e.field, "email");
        assert_eq!(e.reason, "missing; valid_until: must be in the future");
    }
}
