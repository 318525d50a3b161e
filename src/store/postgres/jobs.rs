//! PostgreSQL: bulk-award jobs and their rows (migrations `0005_jobs.sql`,
//! `0008_carnet_batches.sql`): CSV jobs and carnet batches alike. Ids cross the wire as
//! text (`$1::uuid`, `id::text`). Creating a job inserts with `ON CONFLICT DO NOTHING` on the
//! partial unique index of unfinished jobs, so two submissions of one file at once make one job;
//! marking a row is an `UPDATE … WHERE status = 'pending'`, which locks the row, so a concurrent
//! marking waits, then changes nothing.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgRow};
use uuid::Uuid;

use super::{column, db_error, int4, u32_column};
use crate::store::jobs::{INSERT_CHUNK, JobToWrite, initial_counts, tally};
use crate::store::{
    AwardCounts, BulkJob, BulkRow, CreatedJob, JobCounts, JobKind, JobState, MarkedRows,
    NewBulkJob, NewCarnetBatch, PendingBulkRow, RowError, RowOutcome, RowStatus, StoreError,
    to_micros,
};

macro_rules! job_columns {
    () => {
        "id::text AS id, issuer_slug, kind, badge_class_slug, batch, file_sha256, created_by, \
         created_at, updated_at, state, total, issued, already, failed, awards_issued, \
         awards_already, error"
    };
}

fn uuid_column(row: &PgRow, name: &str) -> Result<Uuid, StoreError> {
    let text: String = column(row, name)?;
    Uuid::parse_str(&text).map_err(|e| StoreError::Corrupt(format!("{name} {text:?}: {e}")))
}

fn counts_from_row(row: &PgRow) -> Result<JobCounts, StoreError> {
    Ok(JobCounts {
        total: u32_column(row, "total")?,
        issued: u32_column(row, "issued")?,
        already: u32_column(row, "already")?,
        failed: u32_column(row, "failed")?,
    })
}

fn awards_from_row(row: &PgRow) -> Result<AwardCounts, StoreError> {
    Ok(AwardCounts {
        issued: u32_column(row, "awards_issued")?,
        already: u32_column(row, "awards_already")?,
    })
}

fn job_from_row(row: &PgRow) -> Result<BulkJob, StoreError> {
    let batch: String = column(row, "batch")?;
    Ok(BulkJob {
        id: uuid_column(row, "id")?,
        issuer_slug: column(row, "issuer_slug")?,
        kind: JobKind::parse(&column::<String>(row, "kind")?)?,
        badge_class_slug: column(row, "badge_class_slug")?,
        batch: (!batch.is_empty()).then_some(batch),
        file_sha256: column(row, "file_sha256")?,
        created_by: column(row, "created_by")?,
        created_at: column::<DateTime<Utc>>(row, "created_at")?,
        updated_at: column::<DateTime<Utc>>(row, "updated_at")?,
        state: JobState::parse(&column::<String>(row, "state")?)?,
        counts: counts_from_row(row)?,
        awards: awards_from_row(row)?,
        error: column(row, "error")?,
    })
}

fn bulk_row_from_row(row: &PgRow) -> Result<BulkRow, StoreError> {
    let award_id: Option<String> = column(row, "award_id")?;
    let field: Option<String> = column(row, "error_field")?;
    let reason: Option<String> = column(row, "error")?;
    Ok(BulkRow {
        line: u32_column(row, "line")?,
        label: column(row, "label")?,
        idempotency_key: column(row, "idempotency_key")?,
        status: RowStatus::parse(&column::<String>(row, "status")?)?,
        award_id: award_id
            .map(|id| {
                Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(format!("award_id: {e}")))
            })
            .transpose()?,
        error: reason.map(|reason| RowError {
            field: field.unwrap_or_default(),
            reason,
        }),
        detail: column(row, "detail")?,
        updated_at: column::<DateTime<Utc>>(row, "updated_at")?,
    })
}

pub(super) async fn create_bulk_job(
    pool: &PgPool,
    job: &NewBulkJob,
) -> Result<CreatedJob, StoreError> {
    create_job(pool, &job.to_write()).await
}

pub(super) async fn create_carnet_batch(
    pool: &PgPool,
    job: &NewCarnetBatch,
) -> Result<CreatedJob, StoreError> {
    create_job(pool, &job.to_write()).await
}

async fn create_job(pool: &PgPool, job: &JobToWrite<'_>) -> Result<CreatedJob, StoreError> {
    let counts = initial_counts(job)?;
    let now = to_micros(Utc::now());
    let mut tx = pool.begin().await.map_err(db_error)?;
    // A concurrent insert of the same unfinished file waits on the unique index, then does
    // nothing here once the other commits.
    let inserted = sqlx::query(
        "INSERT INTO bulk_jobs (id, issuer_slug, kind, badge_class_slug, batch, file_sha256, \
         created_by, created_at, updated_at, state, total, issued, already, failed, \
         awards_issued, awards_already, error) \
         VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $8, 'queued', $9, 0, 0, $10, 0, 0, NULL) \
         ON CONFLICT DO NOTHING",
    )
    .bind(job.id.to_string())
    .bind(job.issuer_slug)
    .bind(job.kind.as_str())
    .bind(job.badge_class_slug)
    .bind(job.batch)
    .bind(job.file_sha256)
    .bind(job.created_by)
    .bind(now)
    .bind(int4(counts.total)?)
    .bind(int4(counts.failed)?)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if inserted == 0 {
        let existing = sqlx::query(concat!(
            "SELECT ",
            job_columns!(),
            " FROM bulk_jobs WHERE issuer_slug = $1 AND kind = $2 AND badge_class_slug = $3 \
             AND batch = $4 AND file_sha256 = $5 AND state IN ('queued', 'running')"
        ))
        .bind(job.issuer_slug)
        .bind(job.kind.as_str())
        .bind(job.badge_class_slug)
        .bind(job.batch)
        .bind(job.file_sha256)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        return match existing {
            Some(row) => Ok(CreatedJob::Existing(job_from_row(&row)?)),
            // The conflict was on the id itself.
            None => Err(StoreError::Conflict(crate::store::ConflictOn::Other(
                "bulk_jobs_pkey".into(),
            ))),
        };
    }
    for chunk in job.rows.chunks(INSERT_CHUNK) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new(
            "INSERT INTO bulk_rows (job_id, line, label, idempotency_key, status, payload, \
             error_field, error, updated_at) ",
        );
        let mut bad_line = None;
        insert.push_values(chunk, |mut b, row| {
            let (key, status, payload, error) = row.columns();
            let line = int4(row.line).unwrap_or_else(|_| {
                bad_line = Some(row.line);
                0
            });
            b.push_bind(job.id.to_string())
                .push_unseparated("::uuid")
                .push_bind(line)
                .push_bind(row.label.map(str::to_owned))
                .push_bind(key)
                .push_bind(status.as_str())
                .push_bind(payload)
                .push_bind(error.as_ref().map(|e| e.field.clone()))
                .push_bind(error.map(|e| e.reason))
                .push_bind(now);
        });
        if let Some(line) = bad_line {
            return Err(StoreError::Corrupt(format!(
                "line {line} does not fit INTEGER"
            )));
        }
        insert.build().execute(&mut *tx).await.map_err(db_error)?;
    }
    let created = sqlx::query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM bulk_jobs WHERE id = $1::uuid"
    ))
    .bind(job.id.to_string())
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let created = job_from_row(&created)?;
    tx.commit().await.map_err(db_error)?;
    Ok(CreatedJob::Created(created))
}

pub(super) async fn get_bulk_job(pool: &PgPool, id: Uuid) -> Result<Option<BulkJob>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM bulk_jobs WHERE id = $1::uuid"
    ))
    .bind(id.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_error)?
    .as_ref()
    .map(job_from_row)
    .transpose()
}

pub(super) async fn bulk_rows(pool: &PgPool, job: Uuid) -> Result<Vec<BulkRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT line, label, idempotency_key, status, award_id::text AS award_id, error_field, \
         error, detail, updated_at FROM bulk_rows WHERE job_id = $1::uuid ORDER BY line",
    )
    .bind(job.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.iter().map(bulk_row_from_row).collect()
}

pub(super) async fn pending_bulk_rows(
    pool: &PgPool,
    job: Uuid,
    after_line: u32,
    limit: u32,
) -> Result<Vec<PendingBulkRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT line, idempotency_key, payload FROM bulk_rows \
         WHERE job_id = $1::uuid AND status = 'pending' AND line > $2 ORDER BY line LIMIT $3",
    )
    .bind(job.to_string())
    .bind(i64::from(after_line))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.iter()
        .map(|row| {
            Ok(PendingBulkRow {
                line: u32_column(row, "line")?,
                idempotency_key: column(row, "idempotency_key")?,
                payload: column(row, "payload")?,
            })
        })
        .collect()
}

pub(super) async fn finish_bulk_rows(
    pool: &PgPool,
    job: Uuid,
    rows: &[(u32, RowOutcome)],
) -> Result<MarkedRows, StoreError> {
    let now = to_micros(Utc::now());
    let mut tx = pool.begin().await.map_err(db_error)?;
    let mut added = JobCounts::default();
    let mut awards = AwardCounts::default();
    for (line, outcome) in rows {
        let changed = sqlx::query(
            "UPDATE bulk_rows SET status = $1, payload = NULL, award_id = $2::uuid, \
             error_field = $3, error = $4, detail = $5, updated_at = $6 \
             WHERE job_id = $7::uuid AND line = $8 AND status = 'pending'",
        )
        .bind(outcome.status().as_str())
        .bind(outcome.award_id().map(|id| id.to_string()))
        .bind(outcome.error().map(|e| e.field.clone()))
        .bind(outcome.error().map(|e| e.reason.clone()))
        .bind(outcome.detail())
        .bind(now)
        .bind(job.to_string())
        .bind(int4(*line)?)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if changed == 1 {
            tally(&mut added, &mut awards, outcome);
        }
    }
    let row = sqlx::query(
        "UPDATE bulk_jobs SET issued = issued + $1, already = already + $2, \
         failed = failed + $3, awards_issued = awards_issued + $4, \
         awards_already = awards_already + $5, updated_at = $6 WHERE id = $7::uuid \
         RETURNING total, issued, already, failed, awards_issued, awards_already",
    )
    .bind(int4(added.issued)?)
    .bind(int4(added.already)?)
    .bind(int4(added.failed)?)
    .bind(int4(awards.issued)?)
    .bind(int4(awards.already)?)
    .bind(now)
    .bind(job.to_string())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let counts = row
        .as_ref()
        .map(counts_from_row)
        .transpose()?
        .unwrap_or_default();
    let awards = row
        .as_ref()
        .map(awards_from_row)
        .transpose()?
        .unwrap_or_default();
    tx.commit().await.map_err(db_error)?;
    Ok(MarkedRows {
        changed: added.processed(),
        counts,
        awards,
    })
}

pub(super) async fn set_bulk_job_state(
    pool: &PgPool,
    job: Uuid,
    state: JobState,
    error: Option<&str>,
) -> Result<Option<BulkJob>, StoreError> {
    let error = error.filter(|_| state == JobState::Failed);
    sqlx::query(concat!(
        "UPDATE bulk_jobs SET state = $1, error = $2, updated_at = $3 WHERE id = $4::uuid \
         RETURNING ",
        job_columns!()
    ))
    .bind(state.as_str())
    .bind(error)
    .bind(to_micros(Utc::now()))
    .bind(job.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_error)?
    .as_ref()
    .map(job_from_row)
    .transpose()
}

pub(super) async fn unfinished_bulk_jobs(
    pool: &PgPool,
    issuer_slug: &str,
) -> Result<Vec<BulkJob>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM bulk_jobs WHERE issuer_slug = $1 AND state IN ('queued', 'running') \
         ORDER BY created_at, id"
    ))
    .bind(issuer_slug)
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.iter().map(job_from_row).collect()
}
