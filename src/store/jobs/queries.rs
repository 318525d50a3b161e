//! Bulk-award jobs and their rows (migrations `0005_jobs.sql`, `0008_carnet_batches.sql`): CSV
//! jobs and carnet batches alike, on both backends.
//!
//! Creating a job inserts with `ON CONFLICT DO NOTHING` on the partial unique index of
//! unfinished jobs, so two submissions of one file at once make one job (PostgreSQL waits on
//! the index until the other commits; SQLite already serialises writers). Marking a row is an
//! `UPDATE … WHERE status = 'pending'`, which locks the row, so a concurrent marking waits,
//! then changes nothing and is not counted.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{INSERT_CHUNK, JobToWrite, initial_counts, tally};
use crate::store::db::{self, On, Row, Tx};
use crate::store::{
    AwardCounts, BulkJob, BulkRow, CreatedJob, JobCounts, JobKind, JobState, MarkedRows,
    NewBulkJob, NewCarnetBatch, NewRowContent, PendingBulkRow, RowError, RowOutcome, RowStatus,
    Store, StoreError, to_micros,
};

const JOB_COLUMNS: &str = "id, issuer_slug, kind, badge_class_slug, batch, file_sha256, \
     created_by, created_at, updated_at, state, total, issued, already, failed, awards_issued, \
     awards_already, error, lease_holder, lease_until";

/// Columns of `bulk_rows` written per row beside the two shared by the whole chunk.
const ROW_PARAMS: usize = 7;

impl Store {
    /// Writes the job (state `queued`) and ALL its rows in ONE transaction, before anything is
    /// issued. If an unfinished (queued or running) job of the same issuer, class, batch and
    /// file digest exists, writes nothing and returns it ([`CreatedJob::Existing`]).
    pub async fn create_bulk_job(&self, job: &NewBulkJob) -> Result<CreatedJob, StoreError> {
        self.create_job(&job.to_write()).await
    }

    /// Writes a batch of carnets as a bulk job ([`JobKind::Carnets`], state `queued`) with ALL
    /// its rows in ONE transaction, before anything is imported or issued; then it is run,
    /// marked, listed and resumed like any bulk job. If an unfinished job of the same issuer,
    /// class filter and batch digest exists, writes nothing and returns it
    /// ([`CreatedJob::Existing`]).
    pub async fn create_carnet_batch(
        &self,
        job: &NewCarnetBatch,
    ) -> Result<CreatedJob, StoreError> {
        self.create_job(&job.to_write()).await
    }

    pub async fn get_bulk_job(&self, id: Uuid) -> Result<Option<BulkJob>, StoreError> {
        job_by_id(&self.db, id).await
    }

    /// Every row of the job, by line (empty for an unknown job).
    pub async fn bulk_rows(&self, job: Uuid) -> Result<Vec<BulkRow>, StoreError> {
        db::query(
            "SELECT line, label, idempotency_key, status, award_id, error_field, error, detail, \
             updated_at FROM bulk_rows WHERE job_id = $1 ORDER BY line",
        )
        .bind(job)
        .fetch_all_with(&self.db, bulk_row_from_row)
        .await
    }

    /// Up to `limit` pending rows of the job with a line after `after_line`, by line, with their
    /// sealed data.
    pub async fn pending_bulk_rows(
        &self,
        job: Uuid,
        after_line: u32,
        limit: u32,
    ) -> Result<Vec<PendingBulkRow>, StoreError> {
        db::query(
            "SELECT line, idempotency_key, payload FROM bulk_rows \
             WHERE job_id = $1 AND status = 'pending' AND line > $2 ORDER BY line LIMIT $3",
        )
        .bind(job)
        .bind(after_line)
        .bind(limit)
        .fetch_all_with(&self.db, |row| {
            Ok(PendingBulkRow {
                line: row.u32("line")?,
                idempotency_key: row.text("idempotency_key")?,
                payload: row.text("payload")?,
            })
        })
        .await
    }

    /// Marks PENDING rows (by line) issued, already or error, erases their sealed data and counts
    /// them in the job, all in ONE transaction (all or nothing). Rows that are not pending (or
    /// unknown) are left as they are and not counted, so marking twice never counts twice.
    pub async fn finish_bulk_rows(
        &self,
        job: Uuid,
        rows: &[(u32, RowOutcome)],
    ) -> Result<MarkedRows, StoreError> {
        let now = to_micros(Utc::now());
        let mut tx = self.db.begin().await?;
        let mut added = JobCounts::default();
        let mut awards = AwardCounts::default();
        for (line, outcome) in rows {
            let changed = db::query(
                "UPDATE bulk_rows SET status = $1, payload = NULL, award_id = $2, \
                 error_field = $3, error = $4, detail = $5, updated_at = $6 \
                 WHERE job_id = $7 AND line = $8 AND status = 'pending'",
            )
            .bind(outcome.status().as_str())
            .bind(outcome.award_id())
            .bind(outcome.error().map(|e| e.field.as_str()))
            .bind(outcome.error().map(|e| e.reason.as_str()))
            .bind(outcome.detail())
            .bind(now)
            .bind(job)
            .bind(*line)
            .execute(&mut tx)
            .await?;
            if changed == 1 {
                tally(&mut added, &mut awards, outcome);
            }
        }
        let row = db::query(
            "UPDATE bulk_jobs SET issued = issued + $1, already = already + $2, \
             failed = failed + $3, awards_issued = awards_issued + $4, \
             awards_already = awards_already + $5, updated_at = $6 WHERE id = $7 \
             RETURNING total, issued, already, failed, awards_issued, awards_already",
        )
        .bind(added.issued)
        .bind(added.already)
        .bind(added.failed)
        .bind(awards.issued)
        .bind(awards.already)
        .bind(now)
        .bind(job)
        .fetch_optional(&mut tx)
        .await?;
        let (counts, awards) = match &row {
            Some(row) => (counts_from_row(row)?, awards_from_row(row)?),
            None => Default::default(),
        };
        tx.commit().await?;
        Ok(MarkedRows {
            changed: added.processed(),
            counts,
            awards,
        })
    }

    /// Sets the job's state (and, for `failed`, why; cleared otherwise). An unknown job gives
    /// `None`.
    pub async fn set_bulk_job_state(
        &self,
        job: Uuid,
        state: JobState,
        error: Option<&str>,
    ) -> Result<Option<BulkJob>, StoreError> {
        let error = error.filter(|_| state == JobState::Failed);
        db::query(format!(
            "UPDATE bulk_jobs SET state = $1, error = $2, updated_at = $3 WHERE id = $4 \
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(state.as_str())
        .bind(error)
        .bind(to_micros(Utc::now()))
        .bind(job)
        .fetch_optional_with(&self.db, job_from_row)
        .await
    }

    /// An institution's jobs of one kind, newest first, `limit` at a time: the page after the
    /// job `after`, or the first page (keyset, index `bulk_jobs_issuer_kind_created`). An
    /// `after` that is not one of its jobs of that kind gives an empty page.
    pub async fn list_bulk_jobs(
        &self,
        issuer_slug: &str,
        kind: JobKind,
        limit: u32,
        after: Option<Uuid>,
    ) -> Result<Vec<BulkJob>, StoreError> {
        let after_filter = if after.is_some() {
            " AND (created_at, id) < (SELECT created_at, id FROM bulk_jobs \
             WHERE id = $4 AND issuer_slug = $1 AND kind = $2)"
        } else {
            ""
        };
        db::query(format!(
            "SELECT {JOB_COLUMNS} FROM bulk_jobs \
             WHERE issuer_slug = $1 AND kind = $2{after_filter} \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(issuer_slug)
        .bind(kind.as_str())
        .bind(limit)
        .bind(after)
        .fetch_all_with(&self.db, job_from_row)
        .await
    }

    /// The issuer's queued and running jobs, oldest first (resumed at start).
    pub async fn unfinished_bulk_jobs(
        &self,
        issuer_slug: &str,
    ) -> Result<Vec<BulkJob>, StoreError> {
        db::query(format!(
            "SELECT {JOB_COLUMNS} FROM bulk_jobs \
             WHERE issuer_slug = $1 AND state IN ('queued', 'running') ORDER BY created_at, id"
        ))
        .bind(issuer_slug)
        .fetch_all_with(&self.db, job_from_row)
        .await
    }

    /// Takes the job's lease for `holder` until `until` (migration 0012): when nobody holds
    /// it, when it expired before `now` (its holder died), or when `holder` holds it already.
    /// One statement, so two nodes racing for it cannot both win. `true` when taken.
    pub async fn take_job_lease(
        &self,
        job: Uuid,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let taken = db::query(
            "UPDATE bulk_jobs SET lease_holder = $2, lease_until = $4 \
             WHERE id = $1 AND state <> 'done' \
               AND (lease_until IS NULL OR lease_until < $3 OR lease_holder = $2)",
        )
        .bind(job)
        .bind(holder)
        .bind(to_micros(now))
        .bind(to_micros(until))
        .execute(&self.db)
        .await?;
        Ok(taken == 1)
    }

    /// Extends a lease `holder` still holds; `false` when it lost it (it expired and another
    /// node took it): the holder must then stop.
    pub async fn renew_job_lease(
        &self,
        job: Uuid,
        holder: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let renewed =
            db::query("UPDATE bulk_jobs SET lease_until = $3 WHERE id = $1 AND lease_holder = $2")
                .bind(job)
                .bind(holder)
                .bind(to_micros(until))
                .execute(&self.db)
                .await?;
        Ok(renewed == 1)
    }

    /// Gives a lease back (the run stopped), so that another node may resume the job at once.
    pub async fn release_job_lease(&self, job: Uuid, holder: &str) -> Result<(), StoreError> {
        db::query(
            "UPDATE bulk_jobs SET lease_holder = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_holder = $2",
        )
        .bind(job)
        .bind(holder)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    async fn create_job(&self, job: &JobToWrite<'_>) -> Result<CreatedJob, StoreError> {
        let counts = initial_counts(job)?;
        // The column is a 32-bit INTEGER on PostgreSQL: refuse on both backends alike.
        if let Some(row) = job.rows.iter().find(|r| i32::try_from(r.line).is_err()) {
            return Err(StoreError::InvalidOptions(format!(
                "line {} is past the last line a job can hold",
                row.line
            )));
        }
        let now = to_micros(Utc::now());
        let mut tx = self.db.begin().await?;
        if insert_job(&mut tx, job, counts, now, " ON CONFLICT DO NOTHING").await? == 0 {
            if let Some(existing) = unfinished_job_like(&mut tx, job).await? {
                return Ok(CreatedJob::Existing(existing));
            }
            // No unfinished twin: the id is taken, or (PostgreSQL) the twin finished between
            // the two statements. Inserting again either writes the job or names the conflict.
            insert_job(&mut tx, job, counts, now, "").await?;
        }
        for chunk in job.rows.chunks(INSERT_CHUNK) {
            let values = (0..chunk.len())
                .map(|i| format!("($1, {}, $2)", db::in_list(3 + i * ROW_PARAMS, ROW_PARAMS)))
                .collect::<Vec<_>>()
                .join(", ");
            let mut insert = db::query(format!(
                "INSERT INTO bulk_rows (job_id, line, label, idempotency_key, status, payload, \
                 error_field, error, updated_at) VALUES {values}"
            ))
            .bind(job.id)
            .bind(now);
            for row in chunk {
                let (key, status, payload, error) = match row.content {
                    NewRowContent::Pending {
                        idempotency_key,
                        payload,
                    } => (
                        Some(idempotency_key),
                        RowStatus::Pending,
                        Some(payload),
                        None,
                    ),
                    NewRowContent::Invalid(e) => (None, RowStatus::Error, None, Some(e)),
                };
                let (field, reason) = error.map(|e| (&e.field, &e.reason)).unzip();
                insert = insert
                    .bind(row.line)
                    .bind(row.label)
                    .bind(key)
                    .bind(status.as_str())
                    .bind(payload)
                    .bind(field)
                    .bind(reason);
            }
            insert.execute(&mut tx).await?;
        }
        let created = job_by_id(&mut tx, job.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("bulk job {} vanished", job.id)))?;
        tx.commit().await?;
        Ok(CreatedJob::Created(created))
    }
}

/// Inserts the job's own row (`on_conflict` is `""` or `" ON CONFLICT DO NOTHING"`): the
/// number of rows written.
async fn insert_job(
    tx: &mut Tx,
    job: &JobToWrite<'_>,
    counts: JobCounts,
    now: DateTime<Utc>,
    on_conflict: &str,
) -> Result<u64, StoreError> {
    db::query(format!(
        "INSERT INTO bulk_jobs ({JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, \
         'queued', $9, 0, 0, $10, 0, 0, NULL, NULL, NULL){on_conflict}"
    ))
    .bind(job.id)
    .bind(job.issuer_slug)
    .bind(job.kind.as_str())
    .bind(job.badge_class_slug)
    .bind(job.batch)
    .bind(job.file_sha256)
    .bind(job.created_by)
    .bind(now)
    .bind(counts.total)
    .bind(counts.failed)
    .execute(tx)
    .await
}

/// The unfinished job of the same issuer, kind, class, batch and file, if any.
async fn unfinished_job_like(
    tx: &mut Tx,
    job: &JobToWrite<'_>,
) -> Result<Option<BulkJob>, StoreError> {
    db::query(format!(
        "SELECT {JOB_COLUMNS} FROM bulk_jobs WHERE issuer_slug = $1 AND kind = $2 \
         AND badge_class_slug = $3 AND batch = $4 AND file_sha256 = $5 \
         AND state IN ('queued', 'running')"
    ))
    .bind(job.issuer_slug)
    .bind(job.kind.as_str())
    .bind(job.badge_class_slug)
    .bind(job.batch)
    .bind(job.file_sha256)
    .fetch_optional_with(tx, job_from_row)
    .await
}

async fn job_by_id<'e>(on: impl Into<On<'e>>, id: Uuid) -> Result<Option<BulkJob>, StoreError> {
    db::query(format!("SELECT {JOB_COLUMNS} FROM bulk_jobs WHERE id = $1"))
        .bind(id)
        .fetch_optional_with(on, job_from_row)
        .await
}

fn counts_from_row(row: &Row) -> Result<JobCounts, StoreError> {
    Ok(JobCounts {
        total: row.u32("total")?,
        issued: row.u32("issued")?,
        already: row.u32("already")?,
        failed: row.u32("failed")?,
    })
}

fn awards_from_row(row: &Row) -> Result<AwardCounts, StoreError> {
    Ok(AwardCounts {
        issued: row.u32("awards_issued")?,
        already: row.u32("awards_already")?,
    })
}

fn job_from_row(row: &Row) -> Result<BulkJob, StoreError> {
    let batch = row.text("batch")?;
    Ok(BulkJob {
        id: row.id("id")?,
        issuer_slug: row.text("issuer_slug")?,
        kind: JobKind::parse(&row.text("kind")?)?,
        badge_class_slug: row.text("badge_class_slug")?,
        // '' in the table stands for "no batch" (it enters the unique index).
        batch: (!batch.is_empty()).then_some(batch),
        file_sha256: row.text("file_sha256")?,
        created_by: row.text("created_by")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        state: JobState::parse(&row.text("state")?)?,
        counts: counts_from_row(row)?,
        awards: awards_from_row(row)?,
        error: row.opt_text("error")?,
        lease_holder: row.opt_text("lease_holder")?,
        lease_until: row.opt_time("lease_until")?,
    })
}

fn bulk_row_from_row(row: &Row) -> Result<BulkRow, StoreError> {
    let field = row.opt_text("error_field")?;
    Ok(BulkRow {
        line: row.u32("line")?,
        label: row.opt_text("label")?,
        idempotency_key: row.opt_text("idempotency_key")?,
        status: RowStatus::parse(&row.text("status")?)?,
        award_id: row.opt_id("award_id")?,
        error: row.opt_text("error")?.map(|reason| RowError {
            field: field.unwrap_or_default(),
            reason,
        }),
        detail: row.opt_text("detail")?,
        updated_at: row.time("updated_at")?,
    })
}
