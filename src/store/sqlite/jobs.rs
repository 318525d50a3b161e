//! SQLite: bulk-award jobs and their rows (migrations `0005_jobs.sql`, `0008_carnet_batches.sql`):
//! CSV jobs and carnet batches alike. Writes that read then write take the write lock up front
//! (`BEGIN IMMEDIATE`).

use chrono::Utc;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use uuid::Uuid;

use super::{column, db_error, time_column, to_text};
use crate::store::jobs::{INSERT_CHUNK, JobToWrite, initial_counts, tally};
use crate::store::{
    AwardCounts, BulkJob, BulkRow, CreatedJob, JobCounts, JobKind, JobState, MarkedRows,
    NewBulkJob, NewCarnetBatch, PendingBulkRow, RowError, RowOutcome, RowStatus, StoreError,
    stored_u32, to_micros,
};

macro_rules! job_columns {
    () => {
        "id, issuer_slug, kind, badge_class_slug, batch, file_sha256, created_by, created_at, \
         updated_at, state, total, issued, already, failed, awards_issued, awards_already, error"
    };
}

fn uuid_column(row: &SqliteRow, name: &str) -> Result<Uuid, StoreError> {
    let text: String = column(row, name)?;
    Uuid::parse_str(&text).map_err(|e| StoreError::Corrupt(format!("{name} {text:?}: {e}")))
}

fn counts_from_row(row: &SqliteRow) -> Result<JobCounts, StoreError> {
    let n = |name: &str| -> Result<u32, StoreError> { stored_u32(name, column(row, name)?) };
    Ok(JobCounts {
        total: n("total")?,
        issued: n("issued")?,
        already: n("already")?,
        failed: n("failed")?,
    })
}

fn awards_from_row(row: &SqliteRow) -> Result<AwardCounts, StoreError> {
    let n = |name: &str| -> Result<u32, StoreError> { stored_u32(name, column(row, name)?) };
    Ok(AwardCounts {
        issued: n("awards_issued")?,
        already: n("awards_already")?,
    })
}

fn job_from_row(row: &SqliteRow) -> Result<BulkJob, StoreError> {
    let batch: String = column(row, "batch")?;
    Ok(BulkJob {
        id: uuid_column(row, "id")?,
        issuer_slug: column(row, "issuer_slug")?,
        kind: JobKind::parse(&column::<String>(row, "kind")?)?,
        badge_class_slug: column(row, "badge_class_slug")?,
        batch: (!batch.is_empty()).then_some(batch),
        file_sha256: column(row, "file_sha256")?,
        created_by: column(row, "created_by")?,
        created_at: time_column(row, "created_at")?,
        updated_at: time_column(row, "updated_at")?,
        state: JobState::parse(&column::<String>(row, "state")?)?,
        counts: counts_from_row(row)?,
        awards: awards_from_row(row)?,
        error: column(row, "error")?,
    })
}

fn bulk_row_from_row(row: &SqliteRow) -> Result<BulkRow, StoreError> {
    let award_id: Option<String> = column(row, "award_id")?;
    let field: Option<String> = column(row, "error_field")?;
    let reason: Option<String> = column(row, "error")?;
    Ok(BulkRow {
        line: stored_u32("line", column(row, "line")?)?,
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
        updated_at: time_column(row, "updated_at")?,
    })
}

async fn unfinished_job_for(
    tx: &mut sqlx::SqliteConnection,
    job: &JobToWrite<'_>,
) -> Result<Option<BulkJob>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM bulk_jobs WHERE issuer_slug = ? AND kind = ? AND badge_class_slug = ? \
         AND batch = ? AND file_sha256 = ? AND state IN ('queued', 'running')"
    ))
    .bind(job.issuer_slug)
    .bind(job.kind.as_str())
    .bind(job.badge_class_slug)
    .bind(job.batch)
    .bind(job.file_sha256)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?
    .as_ref()
    .map(job_from_row)
    .transpose()
}

pub(super) async fn create_bulk_job(
    pool: &SqlitePool,
    job: &NewBulkJob,
) -> Result<CreatedJob, StoreError> {
    create_job(pool, &job.to_write()).await
}

pub(super) async fn create_carnet_batch(
    pool: &SqlitePool,
    job: &NewCarnetBatch,
) -> Result<CreatedJob, StoreError> {
    create_job(pool, &job.to_write()).await
}

async fn create_job(pool: &SqlitePool, job: &JobToWrite<'_>) -> Result<CreatedJob, StoreError> {
    let counts = initial_counts(job)?;
    let now = to_text(to_micros(Utc::now()));
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    if let Some(existing) = unfinished_job_for(&mut tx, job).await? {
        return Ok(CreatedJob::Existing(existing));
    }
    sqlx::query(concat!(
        "INSERT INTO bulk_jobs (",
        job_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, 0, 0, ?, 0, 0, NULL)"
    ))
    .bind(job.id.to_string())
    .bind(job.issuer_slug)
    .bind(job.kind.as_str())
    .bind(job.badge_class_slug)
    .bind(job.batch)
    .bind(job.file_sha256)
    .bind(job.created_by)
    .bind(&now)
    .bind(&now)
    .bind(i64::from(counts.total))
    .bind(i64::from(counts.failed))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    for chunk in job.rows.chunks(INSERT_CHUNK) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO bulk_rows (job_id, line, label, idempotency_key, status, payload, \
             error_field, error, updated_at) ",
        );
        insert.push_values(chunk, |mut b, row| {
            let (key, status, payload, error) = row.columns();
            b.push_bind(job.id.to_string())
                .push_bind(i64::from(row.line))
                .push_bind(row.label.map(str::to_owned))
                .push_bind(key)
                .push_bind(status.as_str())
                .push_bind(payload)
                .push_bind(error.as_ref().map(|e| e.field.clone()))
                .push_bind(error.map(|e| e.reason))
                .push_bind(now.clone());
        });
        insert.build().execute(&mut *tx).await.map_err(db_error)?;
    }
    let created = sqlx::query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM bulk_jobs WHERE id = ?"
    ))
    .bind(job.id.to_string())
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let created = job_from_row(&created)?;
    tx.commit().await.map_err(db_error)?;
    Ok(CreatedJob::Created(created))
}

pub(super) async fn get_bulk_job(
    pool: &SqlitePool,
    id: Uuid,
) -> Result<Option<BulkJob>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM bulk_jobs WHERE id = ?"
    ))
    .bind(id.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_error)?
    .as_ref()
    .map(job_from_row)
    .transpose()
}

pub(super) async fn bulk_rows(pool: &SqlitePool, job: Uuid) -> Result<Vec<BulkRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT line, label, idempotency_key, status, award_id, error_field, error, detail, \
         updated_at FROM bulk_rows WHERE job_id = ? ORDER BY line",
    )
    .bind(job.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.iter().map(bulk_row_from_row).collect()
}

pub(super) async fn pending_bulk_rows(
    pool: &SqlitePool,
    job: Uuid,
    after_line: u32,
    limit: u32,
) -> Result<Vec<PendingBulkRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT line, idempotency_key, payload FROM bulk_rows \
         WHERE job_id = ? AND status = 'pending' AND line > ? ORDER BY line LIMIT ?",
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
                line: stored_u32("line", column(row, "line")?)?,
                idempotency_key: column(row, "idempotency_key")?,
                payload: column(row, "payload")?,
            })
        })
        .collect()
}

pub(super) async fn finish_bulk_rows(
    pool: &SqlitePool,
    job: Uuid,
    rows: &[(u32, RowOutcome)],
) -> Result<MarkedRows, StoreError> {
    let now = to_text(to_micros(Utc::now()));
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    let mut added = JobCounts::default();
    let mut awards = AwardCounts::default();
    for (line, outcome) in rows {
        let changed = sqlx::query(
            "UPDATE bulk_rows SET status = ?, payload = NULL, award_id = ?, error_field = ?, \
             error = ?, detail = ?, updated_at = ? \
             WHERE job_id = ? AND line = ? AND status = 'pending'",
        )
        .bind(outcome.status().as_str())
        .bind(outcome.award_id().map(|id| id.to_string()))
        .bind(outcome.error().map(|e| e.field.clone()))
        .bind(outcome.error().map(|e| e.reason.clone()))
        .bind(outcome.detail())
        .bind(&now)
        .bind(job.to_string())
        .bind(i64::from(*line))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if changed == 1 {
            tally(&mut added, &mut awards, outcome);
        }
    }
    let row = sqlx::query(
        "UPDATE bulk_jobs SET issued = issued + ?, already = already + ?, failed = failed + ?, \
         awards_issued = awards_issued + ?, awards_already = awards_already + ?, \
         updated_at = ? WHERE id = ? \
         RETURNING total, issued, already, failed, awards_issued, awards_already",
    )
    .bind(i64::from(added.issued))
    .bind(i64::from(added.already))
    .bind(i64::from(added.failed))
    .bind(i64::from(awards.issued))
    .bind(i64::from(awards.already))
    .bind(&now)
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
    pool: &SqlitePool,
    job: Uuid,
    state: JobState,
    error: Option<&str>,
) -> Result<Option<BulkJob>, StoreError> {
    let error = error.filter(|_| state == JobState::Failed);
    sqlx::query(concat!(
        "UPDATE bulk_jobs SET state = ?, error = ?, updated_at = ? WHERE id = ? RETURNING ",
        job_columns!()
    ))
    .bind(state.as_str())
    .bind(error)
    .bind(to_text(to_micros(Utc::now())))
    .bind(job.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_error)?
    .as_ref()
    .map(job_from_row)
    .transpose()
}

pub(super) async fn unfinished_bulk_jobs(
    pool: &SqlitePool,
    issuer_slug: &str,
) -> Result<Vec<BulkJob>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM bulk_jobs WHERE issuer_slug = ? AND state IN ('queued', 'running') \
         ORDER BY created_at, id"
    ))
    .bind(issuer_slug)
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.iter().map(job_from_row).collect()
}
