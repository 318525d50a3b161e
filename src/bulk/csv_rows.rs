//! The rows of a CSV job, a page at a time: [`reserve_page`] opens the sealed rows and reserves
//! their awards ([`issue::reserve_many`], the database), then [`sign_page`] signs them
//! ([`issue::sign_reserved`], the CPU) while the previous page goes through [`store_page`]
//! ([`issue::store_many`], then the rows marked). [`issue_row`] is the one-row path.

use std::sync::Arc;

use super::{BulkError, ISSUING, MAX_CONCURRENT_AWARDS, job_actor, seal};
use crate::app::App;
use crate::badge_class::BadgeClass;
use crate::issue::{self, AwardRequest, IssueError};
use crate::ob3::credential::AwardDetails;
use crate::recipient::{self, Email};
use crate::store::{Award, BulkJob, MarkedRows, PendingBulkRow, RowError, RowOutcome};

/// A page of rows reserved ([`reserve_page`]), to sign.
pub(super) struct ReservedPage {
    outcomes: Vec<(u32, RowOutcome)>,
    /// (line, email, the column the row's key comes from), in the batch's order.
    opened: Vec<(u32, Email, &'static str)>,
    batch: issue::ReservedBatch,
}

/// A page of rows signed, not stored yet: the rows refused already, and the others' awards.
pub(super) struct SignedPage {
    outcomes: Vec<(u32, RowOutcome)>,
    /// (line, email, the column the row's key comes from), in the batch's order.
    opened: Vec<(u32, Email, &'static str)>,
    batch: issue::SignedBatch,
}

/// Opens a page of pending rows and reserves their awards ([`issue::reserve_many`]: the awards
/// their keys already gave, in one query; the new ones' status slots, from `slots`, which takes
/// them a few pages ahead in one transaction). The database part of a page.
pub(super) async fn reserve_page(
    app: &App,
    class: &Arc<BadgeClass>,
    job: &BulkJob,
    page: &[PendingBulkRow],
    slots: &mut issue::SlotPool,
) -> Result<ReservedPage, BulkError> {
    let mut outcomes = Vec::with_capacity(page.len());
    let mut requests = Vec::new();
    let mut opened = Vec::new();
    for row in page {
        match open_row(app, class, job, row) {
            Ok((request, email, key_field)) => {
                requests.push(request);
                opened.push((row.line, email, key_field));
            }
            Err(outcome) => outcomes.push((row.line, outcome)),
        }
    }
    let batch =
        issue::reserve_many(&app.issuer, class, app.store.as_ref(), requests, slots).await?;
    Ok(ReservedPage {
        outcomes,
        opened,
        batch,
    })
}

/// Signs a reserved page's awards on `parallel` threads ([`issue::sign_reserved`]): CPU only.
pub(super) async fn sign_page(
    app: &App,
    class: &Arc<BadgeClass>,
    page: ReservedPage,
    parallel: usize,
) -> Result<SignedPage, BulkError> {
    let ReservedPage {
        outcomes,
        opened,
        batch,
    } = page;
    // Every permit: bulk jobs take turns, a page at a time, and leave the cores to verification
    // traffic between pages.
    let _permits = ISSUING
        .acquire_many(MAX_CONCURRENT_AWARDS as u32)
        .await
        .map_err(|e| BulkError::Internal(e.to_string()))?;
    let batch = issue::sign_reserved(&app.issuer, class, batch, parallel).await?;
    Ok(SignedPage {
        outcomes,
        opened,
        batch,
    })
}

/// Stores a signed page's awards (ONE transaction: the whole page or nothing), then marks its
/// rows (one transaction); returns the marking (the job's counts). A crash between the two
/// leaves the rows pending with their awards stored: the rerun finds each award by its row's key
/// and issues nothing.
pub(super) async fn store_page(
    app: &App,
    class: &Arc<BadgeClass>,
    job: &BulkJob,
    page: SignedPage,
) -> Result<MarkedRows, BulkError> {
    let SignedPage {
        mut outcomes,
        opened,
        batch,
    } = page;
    let results = issue::store_many(&app.issuer, class, app.store.as_ref(), batch).await?;
    let actor = job_actor(job);
    for ((line, email, key_field), result) in opened.into_iter().zip(results) {
        outcomes.push((line, row_outcome(result, class, &email, &actor, key_field)?));
    }
    outcomes.sort_by_key(|(line, _)| *line);
    for (line, outcome) in &outcomes {
        if let RowOutcome::Error(e) = outcome {
            tracing::info!(line, field = %e.field, "bulk row {line} not issued: {}", e.reason);
        }
    }
    Ok(app.store.finish_bulk_rows(job.id, &outcomes).await?)
}

/// A pending row's award request, opened from its sealed data; or the row's error.
fn open_row(
    app: &App,
    class: &BadgeClass,
    job: &BulkJob,
    row: &PendingBulkRow,
) -> Result<(AwardRequest, Email, &'static str), RowOutcome> {
    let refuse = |field: &str, reason: String| {
        RowOutcome::Error(RowError {
            field: field.to_string(),
            reason,
        })
    };
    let data = seal::open(&app.issuer, &row.payload).map_err(|e| refuse("(row)", e))?;
    let email = Email::parse(&data.email).map_err(|e| refuse("email", e))?;
    let key_field = if data.keyed { "key" } else { "email" };
    let request = AwardRequest {
        badge_class: class.slug.clone(),
        recipient: email.clone(),
        details: AwardDetails {
            recipient_name: data.name,
            evidence_url: data.evidence_url,
            narrative: data.narrative,
            valid_until: data.valid_until,
            ..Default::default()
        },
        issued_by: job_actor(job),
        idempotency_key: Some(row.idempotency_key.clone()),
    };
    Ok((request, email, key_field))
}

/// A row's outcome from its award (or why it was refused); `Err` when the store failed.
fn row_outcome(
    result: Result<Award, IssueError>,
    class: &BadgeClass,
    email: &Email,
    actor: &str,
    key_field: &str,
) -> Result<RowOutcome, BulkError> {
    let refuse = |field: &str, reason: String| {
        Ok(RowOutcome::Error(RowError {
            field: field.to_string(),
            reason,
        }))
    };
    match result {
        Ok(award) => Ok(outcome_for(award, class, email, actor, key_field)),
        Err(IssueError::Store(e)) => Err(e.into()),
        Err(IssueError::Invalid { field, problem }) => refuse(field, problem),
        Err(e) => refuse("(row)", e.to_string()),
    }
}

/// Issues one pending row through [`issue::issue`] with its idempotency key, or finds the award
/// already stored under that key; does not mark the row. `Err` only when the store fails (the
/// row stays pending).
pub async fn issue_row(
    app: &App,
    class: &BadgeClass,
    job: &BulkJob,
    row: &PendingBulkRow,
) -> Result<RowOutcome, BulkError> {
    let (request, email, key_field) = match open_row(app, class, job, row) {
        Ok(opened) => opened,
        Err(outcome) => return Ok(outcome),
    };
    let actor = request.issued_by.clone();
    let result = issue::issue(&app.issuer, class, app.store.as_ref(), request).await;
    row_outcome(result, class, &email, &actor, key_field)
}

/// The award under a row's key: this job's (`issued`), an earlier one for the same class and
/// person (`already`), or one for something else (an error: the key is taken).
fn outcome_for(
    award: Award,
    class: &BadgeClass,
    email: &Email,
    actor: &str,
    key_field: &str,
) -> RowOutcome {
    let same = award.badge_class_slug == class.slug
        && recipient::matches(
            email.as_str(),
            &award.recipient_identity,
            Some(&award.recipient_salt),
        );
    if !same {
        return RowOutcome::Error(RowError {
            field: key_field.to_string(),
            reason: format!(
                "this row's key already names another award ({}) for another person or class: give the row another key, or use another batch name",
                award.id
            ),
        });
    }
    if award.issued_by == actor {
        RowOutcome::Issued(award.id)
    } else {
        RowOutcome::Already(award.id)
    }
}
