//! Running a batch of carnets (`carnets.rs`): each pending carnet is opened from its sealed data,
//! imported (or found: the carnet already imported for the same person and référentiel version,
//! when its entries are the same), then every class it earns is confirmed through
//! [`award::confirm`] (the same step as the API's confirmation, idempotent by its key). Each row
//! is marked, with its outcome and the job's counts, in one transaction once all its classes are
//! done. Carnets run a few at a time (at most `super::MAX_CONCURRENT_AWARDS`, 2). A person's
//! carnet on that version with other entries is the row's error, saying how to go on (carnet
//! does not guess which is right). A row's outcome names its carnet and, per class, `issued`,
//! `already`, or not earned and why.
//!
//! **Crash-safe.** The carnet is stored with its entries in one transaction, and each award with
//! its audit event in one: a crash leaves each of them complete or absent, and the row pending.
//! The rerun finds the carnet (same person, référentiel version and entries) and each award by its
//! key, and issues only what is missing. Awards this job issued before the crash are told apart
//! from older ones by who issued them ([`super::job_actor`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::carnets::SealedCarnet;
use super::{BulkError, ISSUING, PAGE, Progress, job_actor, seal};
use crate::app::App;
use crate::award_rules::award::{self, ConfirmError, Confirmation};
use crate::badge_class::BadgeClass;
use crate::issue::IssueError;
use crate::referentiel::Referentiel;
use crate::referentiel::carnet::{CarnetEntry, ValidCarnet, entry_problems, person_key};
use crate::store::{
    AwardCounts, BulkJob, Carnet, CarnetOutcome, JobState, MarkedRows, PendingBulkRow, RowError,
    RowOutcome, StoreError,
};

/// Largest outcome kept for a row; beyond it the reasons of classes not earned are left out.
const MAX_DETAIL_CHARS: usize = 60_000;

/// Runs a batch to its end, `concurrency` carnets at a time (each holding one of the process's
/// signing permits while it issues); a carnet in error is recorded and the others go on. A store
/// failure stops the run and leaves the job `running`, to be resumed.
pub(super) async fn run_batch(
    app: &App,
    job: BulkJob,
    concurrency: usize,
    progress: &Progress<'_>,
) -> Result<BulkJob, BulkError> {
    let store = app.store.clone();
    let job_id = job.id;
    let only = if job.badge_class_slug.is_empty() {
        None
    } else {
        match app.class(&job.badge_class_slug) {
            Some(class) if !class.rules.is_empty() => Some(Arc::new(class.clone())),
            _ => {
                let why = format!(
                    "the badge class \"{}\" is no longer in the badge-classes directory (or has no award rules now): put it back, then resume the job",
                    job.badge_class_slug
                );
                tracing::warn!(bulk.job = %job_id, "batch of carnets {job_id} failed: {why}");
                return store
                    .set_bulk_job_state(job_id, JobState::Failed, Some(&why))
                    .await?
                    .ok_or(BulkError::NotFound(job_id));
            }
        }
    };
    let job = Arc::new(
        store
            .set_bulk_job_state(job_id, JobState::Running, None)
            .await?
            .ok_or(BulkError::NotFound(job_id))?,
    );
    progress(job.counts, job.awards);
    let mut after = 0;
    let mut running: JoinSet<Result<MarkedRows, BulkError>> = JoinSet::new();
    let mut failure = None;
    'pages: loop {
        let page = store.pending_bulk_rows(job_id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.line;
        for row in page {
            while running.len() >= concurrency {
                if let Some(e) = finished(running.join_next().await, progress) {
                    failure = Some(e);
                    break 'pages;
                }
            }
            let (app, job, only) = (app.clone(), job.clone(), only.clone());
            running.spawn(async move {
                let _permit = ISSUING
                    .acquire()
                    .await
                    .map_err(|e| BulkError::Internal(e.to_string()))?;
                let outcome = carnet_row(&app, &job, only.as_deref(), &row).await?;
                if let Some(e) = outcome.error() {
                    let position = row.line;
                    tracing::info!(bulk.job = %job.id, position, field = %e.field, "carnet {position} of the batch in error: {}", e.reason);
                }
                Ok(app
                    .store
                    .finish_bulk_rows(job.id, &[(row.line, outcome)])
                    .await?)
            });
        }
    }
    // The carnets under way finish (or fail) before the run ends either way.
    while !running.is_empty() {
        if let Some(e) = finished(running.join_next().await, progress) {
            failure.get_or_insert(e);
        }
    }
    if let Some(e) = failure {
        tracing::error!(bulk.job = %job_id, "batch of carnets {job_id} stopped (it will be resumed): {e}");
        return Err(e);
    }
    let job = store
        .set_bulk_job_state(job_id, JobState::Done, None)
        .await?
        .ok_or(BulkError::NotFound(job_id))?;
    tracing::info!(bulk.job = %job_id, awards_issued = job.awards.issued, awards_already = job.awards.already, failed = job.counts.failed, "batch of carnets {job_id} done");
    Ok(job)
}

/// A carnet's task ended: progress told, or the failure that stops the run.
fn finished(
    joined: Option<Result<Result<MarkedRows, BulkError>, tokio::task::JoinError>>,
    progress: &Progress<'_>,
) -> Option<BulkError> {
    match joined? {
        Ok(Ok(marked)) => {
            progress(marked.counts, marked.awards);
            None
        }
        Ok(Err(e)) => Some(e),
        Err(e) => Some(BulkError::Internal(format!("a carnet's task failed: {e}"))),
    }
}

/// What became of one pending carnet; `Err` only when the store fails (the row stays pending).
async fn carnet_row(
    app: &App,
    job: &BulkJob,
    only: Option<&BadgeClass>,
    row: &PendingBulkRow,
) -> Result<RowOutcome, BulkError> {
    let refuse = |field: &str, reason: String| {
        Ok(RowOutcome::Error(RowError {
            field: field.to_string(),
            reason,
        }))
    };
    let valid = match seal::open_json::<SealedCarnet>(&app.issuer, &row.payload)
        .and_then(SealedCarnet::into_valid)
    {
        Ok(v) => v,
        Err(why) => return refuse("(carnet)", why),
    };
    let Some(referentiel) = app
        .store
        .get_referentiel(
            app.issuer.slug(),
            &valid.referentiel_id,
            &valid.referentiel_version,
        )
        .await?
        .map(|s| s.referentiel)
    else {
        return refuse(
            "referentiel",
            format!(
                "no référentiel {} version {} is imported",
                valid.referentiel_id, valid.referentiel_version
            ),
        );
    };
    if let Some((field, problem)) = valid
        .entries
        .iter()
        .find_map(|e| entry_problems(e, &referentiel).into_iter().next())
    {
        return refuse(&format!("entries.{field}"), problem);
    }
    let actor = job_actor(job);
    let (carnet, imported) = match import_or_find(app, &valid, &actor).await? {
        Ok(found) => found,
        Err(e) => return Ok(RowOutcome::Error(e)),
    };
    let classes: Vec<&BadgeClass> = match only {
        Some(class) => vec![class],
        None => app
            .classes
            .values()
            .filter(|c| !c.rules.is_empty() && c.rules.iter().all(|r| r.applies_to(&referentiel)))
            .collect(),
    };
    let mut awards = AwardCounts::default();
    let mut outcomes = Vec::new();
    let mut error = None;
    for class in classes {
        let confirmation = Confirmation {
            recipient_email: Some(valid.email.clone()),
            ..Confirmation::default()
        };
        let done = award::confirm(
            &app.issuer,
            app.store.as_ref(),
            class,
            &carnet,
            &referentiel,
            confirmation,
            &actor,
        )
        .await;
        let mut outcome = json!({"badge_class": class.slug, "name": class.name});
        match done {
            Ok((a, created)) => {
                let now = created || a.issued_by == actor;
                if now {
                    awards.issued += 1;
                } else {
                    awards.already += 1;
                }
                outcome["outcome"] = json!(if now { "issued" } else { "already" });
                outcome["award_id"] = json!(a.id);
            }
            Err(ConfirmError::NotEarned { reasons, .. }) => {
                outcome["outcome"] = json!("not_earned");
                outcome["reasons"] = json!(reasons);
            }
            Err(e @ ConfirmError::NotConcerned { .. }) => {
                outcome["outcome"] = json!("not_earned");
                outcome["reasons"] = json!([e.to_string()]);
            }
            Err(ConfirmError::Store(e) | ConfirmError::Issue(IssueError::Store(e))) => {
                return Err(e.into());
            }
            Err(e) => {
                outcome["outcome"] = json!("error");
                outcome["reasons"] = json!([e.to_string()]);
                error.get_or_insert(RowError {
                    field: "badge_class".into(),
                    reason: format!("« {} » could not be issued: {e}", class.name),
                });
            }
        }
        outcomes.push(outcome);
    }
    let detail = detail(&carnet, imported, &referentiel, outcomes);
    Ok(RowOutcome::Carnet(CarnetOutcome {
        awards,
        detail,
        error,
    }))
}

/// The row's outcome as stored: the carnet, whether this job imported it, each class's outcome.
fn detail(
    carnet: &Carnet,
    imported: bool,
    referentiel: &Referentiel,
    classes: Vec<Value>,
) -> String {
    let mut doc = json!({
        "carnet": carnet.id,
        "imported": imported,
        "referentiel": {"id": referentiel.id, "version": referentiel.version},
        "classes": classes,
    });
    let mut text = doc.to_string();
    if text.chars().count() > MAX_DETAIL_CHARS {
        if let Some(list) = doc["classes"].as_array_mut() {
            for c in list {
                if let Some(o) = c.as_object_mut() {
                    o.remove("reasons");
                }
            }
        }
        text = doc.to_string();
    }
    text
}

/// The carnet of this person on this référentiel version: imported now (`true`: by this job,
/// now or in an interrupted run), or the one already imported when its entries are the same. One
/// with other entries is the row's error, saying how to go on: carnet does not guess which one
/// is right.
async fn import_or_find(
    app: &App,
    valid: &ValidCarnet,
    actor: &str,
) -> Result<Result<(Carnet, bool), RowError>, StoreError> {
    let slug = app.issuer.slug();
    let key = person_key(slug, &valid.email);
    let existing = app
        .store
        .person_carnets(slug, &key)
        .await?
        .into_iter()
        .find(|c| {
            c.referentiel_id == valid.referentiel_id
                && c.referentiel_version == valid.referentiel_version
        });
    let existing = match existing {
        Some(c) => c,
        None => match app
            .store
            .insert_carnet(&valid.clone().into_new_carnet(slug, actor))
            .await
        {
            Ok(c) => {
                tracing::info!(carnet.id = %c.id, "imported carnet {} (batch)", c.id);
                return Ok(Ok((c, true)));
            }
            // Imported meanwhile by someone else: compare with that one.
            Err(StoreError::CarnetExists(id)) => match app.store.get_carnet(id).await? {
                Some(c) => c,
                None => return Err(StoreError::CarnetNotFound(id)),
            },
            Err(e @ StoreError::UnknownReferentiel { .. }) => {
                return Ok(Err(RowError {
                    field: "referentiel".into(),
                    reason: e.to_string(),
                }));
            }
            Err(e) => return Err(e),
        },
    };
    let differing = differing_competences(&existing, &valid.entries);
    if differing.is_empty() {
        let imported = existing.created_by == actor;
        return Ok(Ok((existing, imported)));
    }
    Ok(Err(RowError {
        field: "entries".into(),
        reason: format!(
            "this person already has a carnet on the référentiel {} version {} ({}, imported on {} by {}) whose entries differ from this one (competences {}); carnet does not guess which is right: change that carnet entry by entry (PATCH /api/v1/carnets/{}/entries/{{competence}}) until it says what this one says, then send the batch again; or take this carnet out of the batch to keep that one",
            existing.referentiel_id,
            existing.referentiel_version,
            existing.id,
            existing.created_at.format("%Y-%m-%d"),
            existing.created_by,
            differing.into_iter().collect::<Vec<_>>().join(", "),
            existing.id,
        ),
    }))
}

/// The competences whose entries are not the same in the stored carnet and the document.
fn differing_competences(carnet: &Carnet, entries: &[CarnetEntry]) -> BTreeSet<String> {
    let mut differing = BTreeSet::new();
    for e in entries {
        if carnet.entry(&e.competence) != Some(e) {
            differing.insert(e.competence.clone());
        }
    }
    for r in &carnet.entries {
        if !entries.iter().any(|e| e.competence == r.entry.competence) {
            differing.insert(r.entry.competence.clone());
        }
    }
    differing
}
