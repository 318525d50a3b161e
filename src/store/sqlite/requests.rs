//! SQLite: badge requests, their evidence files and share links (migration `0006_requests.sql`).
//! Writes that read then write take the write lock up front (`BEGIN IMMEDIATE`).

use chrono::Utc;
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use uuid::Uuid;

use super::{column, db_error, optional_time_column, time_column, to_text};
use crate::store::requests::{check_transition, links_from_json, links_to_json, parse_uuid};
use crate::store::{
    AddedEvidence, BadgeRequest, EvidenceFile, EvidenceShare, NewBadgeRequest, NewEvidence,
    NewEvidenceShare, RequestEvent, RequestEventKind, RequestState, RequestTransition, StoreError,
    to_micros,
};

macro_rules! request_columns {
    () => {
        "id, issuer_slug, badge_class_slug, recipient_identity, \
     recipient_salt, recipient_name, sealed_recipient, narrative, links, requested_by, \
     submitted_by, state, award_id, created_at, updated_at"
    };
}

macro_rules! evidence_columns {
    () => {
        "id, request_id, sha256, media_type, genre, name, size, added_by, created_at"
    };
}

macro_rules! share_columns {
    () => {
        "id, evidence_id, created_by, created_at, revoked_at, revoked_by"
    };
}

fn uuid_column(row: &SqliteRow, name: &str) -> Result<Uuid, StoreError> {
    parse_uuid(name, &column::<String>(row, name)?)
}

fn optional_uuid_column(row: &SqliteRow, name: &str) -> Result<Option<Uuid>, StoreError> {
    column::<Option<String>>(row, name)?
        .map(|text| parse_uuid(name, &text))
        .transpose()
}

fn request_from_row(row: &SqliteRow) -> Result<BadgeRequest, StoreError> {
    Ok(BadgeRequest {
        id: uuid_column(row, "id")?,
        issuer_slug: column(row, "issuer_slug")?,
        badge_class_slug: column(row, "badge_class_slug")?,
        recipient_identity: column(row, "recipient_identity")?,
        recipient_salt: column(row, "recipient_salt")?,
        recipient_name: column(row, "recipient_name")?,
        sealed_recipient: column(row, "sealed_recipient")?,
        narrative: column(row, "narrative")?,
        links: links_from_json(&column::<String>(row, "links")?)?,
        requested_by: column(row, "requested_by")?,
        submitted_by: column(row, "submitted_by")?,
        state: RequestState::parse(&column::<String>(row, "state")?)?,
        award_id: optional_uuid_column(row, "award_id")?,
        created_at: time_column(row, "created_at")?,
        updated_at: time_column(row, "updated_at")?,
    })
}

fn evidence_from_row(row: &SqliteRow) -> Result<EvidenceFile, StoreError> {
    let size: i64 = column(row, "size")?;
    Ok(EvidenceFile {
        id: uuid_column(row, "id")?,
        request_id: uuid_column(row, "request_id")?,
        sha256: column(row, "sha256")?,
        media_type: column(row, "media_type")?,
        genre: column(row, "genre")?,
        name: column(row, "name")?,
        size: u64::try_from(size)
            .map_err(|_| StoreError::Corrupt(format!("evidence size {size}")))?,
        added_by: column(row, "added_by")?,
        created_at: time_column(row, "created_at")?,
    })
}

fn share_from_row(row: &SqliteRow) -> Result<EvidenceShare, StoreError> {
    Ok(EvidenceShare {
        id: uuid_column(row, "id")?,
        evidence_id: uuid_column(row, "evidence_id")?,
        created_by: column(row, "created_by")?,
        created_at: time_column(row, "created_at")?,
        revoked_at: optional_time_column(row, "revoked_at")?,
        revoked_by: column(row, "revoked_by")?,
    })
}

async fn insert_event(
    tx: &mut SqliteConnection,
    request_id: Uuid,
    at: &str,
    actor: &str,
    kind: RequestEventKind,
    comment: Option<&str>,
    subject: Option<Uuid>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO badge_request_events (request_id, at, actor, kind, comment, subject) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(request_id.to_string())
    .bind(at)
    .bind(actor)
    .bind(kind.as_str())
    .bind(comment)
    .bind(subject.map(|id| id.to_string()))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

async fn request_in(
    tx: &mut SqliteConnection,
    id: Uuid,
) -> Result<Option<BadgeRequest>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        request_columns!(),
        " FROM badge_requests WHERE id = ?"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?
    .as_ref()
    .map(request_from_row)
    .transpose()
}

pub(super) async fn insert_badge_request(
    pool: &SqlitePool,
    request: &NewBadgeRequest,
) -> Result<BadgeRequest, StoreError> {
    let now = to_text(to_micros(Utc::now()));
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    sqlx::query(concat!(
        "INSERT INTO badge_requests (",
        request_columns!(),
        ") \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted', NULL, ?, ?)"
    ))
    .bind(request.id.to_string())
    .bind(&request.issuer_slug)
    .bind(&request.badge_class_slug)
    .bind(&request.recipient_identity)
    .bind(&request.recipient_salt)
    .bind(&request.recipient_name)
    .bind(&request.sealed_recipient)
    .bind(&request.narrative)
    .bind(links_to_json(&request.links))
    .bind(&request.requested_by)
    .bind(&request.submitted_by)
    .bind(&now)
    .bind(&now)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    insert_event(
        &mut tx,
        request.id,
        &now,
        &request.submitted_by,
        RequestEventKind::Submitted,
        None,
        None,
    )
    .await?;
    let stored = request_in(&mut tx, request.id)
        .await?
        .ok_or(StoreError::RequestNotFound(request.id))?;
    tx.commit().await.map_err(db_error)?;
    Ok(stored)
}

pub(super) async fn get_badge_request(
    pool: &SqlitePool,
    id: Uuid,
) -> Result<Option<BadgeRequest>, StoreError> {
    let mut conn = pool.acquire().await.map_err(db_error)?;
    request_in(&mut conn, id).await
}

pub(super) async fn list_badge_requests(
    pool: &SqlitePool,
    issuer_slug: &str,
    state: Option<RequestState>,
) -> Result<Vec<BadgeRequest>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        request_columns!(),
        " FROM badge_requests WHERE issuer_slug = ? \
         AND (? IS NULL OR state = ?) ORDER BY created_at, id"
    ))
    .bind(issuer_slug)
    .bind(state.map(RequestState::as_str))
    .bind(state.map(RequestState::as_str))
    .fetch_all(pool)
    .await
    .map_err(db_error)?
    .iter()
    .map(request_from_row)
    .collect()
}

pub(super) async fn transition_badge_request(
    pool: &SqlitePool,
    id: Uuid,
    transition: &RequestTransition<'_>,
) -> Result<BadgeRequest, StoreError> {
    check_transition(transition)?;
    let now = to_text(to_micros(Utc::now()));
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    let current = request_in(&mut tx, id)
        .await?
        .ok_or(StoreError::RequestNotFound(id))?;
    let action = transition.action;
    if current.state != action.from_state() {
        return Err(StoreError::RequestState {
            id,
            state: current.state,
            action: action.as_str(),
        });
    }
    // A closed request (approved or declined) never issues again: its sealed email is erased.
    sqlx::query(
        "UPDATE badge_requests SET state = ?1, award_id = ?2, updated_at = ?3, \
         sealed_recipient = CASE WHEN ?1 IN ('approved', 'declined') THEN '' \
         ELSE sealed_recipient END WHERE id = ?4",
    )
    .bind(action.to_state().as_str())
    .bind(transition.award_id.map(|id| id.to_string()))
    .bind(&now)
    .bind(id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    insert_event(
        &mut tx,
        id,
        &now,
        transition.actor,
        action.event(),
        transition.comment,
        transition.award_id,
    )
    .await?;
    let stored = request_in(&mut tx, id)
        .await?
        .ok_or(StoreError::RequestNotFound(id))?;
    tx.commit().await.map_err(db_error)?;
    Ok(stored)
}

pub(super) async fn correct_badge_request_links(
    pool: &SqlitePool,
    id: Uuid,
    links: &[String],
    actor: &str,
    comment: Option<&str>,
) -> Result<BadgeRequest, StoreError> {
    let now = to_text(to_micros(Utc::now()));
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    let current = request_in(&mut tx, id)
        .await?
        .ok_or(StoreError::RequestNotFound(id))?;
    if !matches!(
        current.state,
        RequestState::Submitted | RequestState::Returned
    ) {
        return Err(StoreError::RequestState {
            id,
            state: current.state,
            action: "correct",
        });
    }
    sqlx::query("UPDATE badge_requests SET links = ?, updated_at = ? WHERE id = ?")
        .bind(links_to_json(links))
        .bind(&now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    insert_event(
        &mut tx,
        id,
        &now,
        actor,
        RequestEventKind::LinksCorrected,
        comment,
        None,
    )
    .await?;
    let stored = request_in(&mut tx, id)
        .await?
        .ok_or(StoreError::RequestNotFound(id))?;
    tx.commit().await.map_err(db_error)?;
    Ok(stored)
}

pub(super) async fn badge_request_events(
    pool: &SqlitePool,
    id: Uuid,
) -> Result<Vec<RequestEvent>, StoreError> {
    sqlx::query(
        "SELECT at, actor, kind, comment, subject FROM badge_request_events \
         WHERE request_id = ? ORDER BY seq",
    )
    .bind(id.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_error)?
    .iter()
    .map(|row| {
        Ok(RequestEvent {
            at: time_column(row, "at")?,
            actor: column(row, "actor")?,
            kind: RequestEventKind::parse(&column::<String>(row, "kind")?)?,
            comment: column(row, "comment")?,
            subject: optional_uuid_column(row, "subject")?,
        })
    })
    .collect()
}

pub(super) async fn add_evidence(
    pool: &SqlitePool,
    evidence: &NewEvidence,
) -> Result<AddedEvidence, StoreError> {
    let now = to_text(to_micros(Utc::now()));
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    let request = request_in(&mut tx, evidence.request_id)
        .await?
        .ok_or(StoreError::RequestNotFound(evidence.request_id))?;
    if !request.state.accepts_evidence() {
        return Err(StoreError::RequestState {
            id: request.id,
            state: request.state,
            action: "change",
        });
    }
    let existing = sqlx::query(concat!(
        "SELECT ",
        evidence_columns!(),
        " FROM evidence_files WHERE request_id = ? AND sha256 = ?"
    ))
    .bind(evidence.request_id.to_string())
    .bind(&evidence.sha256)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if let Some(row) = existing {
        return Ok(AddedEvidence::Existing(evidence_from_row(&row)?));
    }
    let row = sqlx::query(concat!(
        "INSERT INTO evidence_files (",
        evidence_columns!(),
        ", content) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
        evidence_columns!()
    ))
    .bind(evidence.id.to_string())
    .bind(evidence.request_id.to_string())
    .bind(&evidence.sha256)
    .bind(&evidence.media_type)
    .bind(&evidence.genre)
    .bind(&evidence.name)
    .bind(evidence.content.len() as i64)
    .bind(&evidence.added_by)
    .bind(&now)
    .bind(&evidence.content)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let file = evidence_from_row(&row)?;
    insert_event(
        &mut tx,
        evidence.request_id,
        &now,
        &evidence.added_by,
        RequestEventKind::EvidenceAdded,
        None,
        Some(evidence.id),
    )
    .await?;
    tx.commit().await.map_err(db_error)?;
    Ok(AddedEvidence::Added(file))
}

pub(super) async fn request_evidence(
    pool: &SqlitePool,
    request_id: Uuid,
) -> Result<Vec<EvidenceFile>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        evidence_columns!(),
        " FROM evidence_files WHERE request_id = ? \
         ORDER BY created_at, rowid"
    ))
    .bind(request_id.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_error)?
    .iter()
    .map(evidence_from_row)
    .collect()
}

pub(super) async fn evidence_content(
    pool: &SqlitePool,
    id: Uuid,
) -> Result<Option<(EvidenceFile, Vec<u8>)>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        evidence_columns!(),
        ", content FROM evidence_files WHERE id = ?"
    ))
    .bind(id.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_error)?
    .map(|row| {
        Ok((
            evidence_from_row(&row)?,
            column::<Vec<u8>>(&row, "content")?,
        ))
    })
    .transpose()
}

pub(super) async fn create_evidence_share(
    pool: &SqlitePool,
    share: &NewEvidenceShare,
) -> Result<EvidenceShare, StoreError> {
    let now = to_text(to_micros(Utc::now()));
    let row = sqlx::query(concat!(
        "INSERT INTO evidence_shares (id, evidence_id, token_sha256, created_by, created_at) \
         SELECT ?, id, ?, ?, ? FROM evidence_files WHERE id = ? RETURNING ",
        share_columns!()
    ))
    .bind(share.id.to_string())
    .bind(&share.token_sha256)
    .bind(&share.created_by)
    .bind(&now)
    .bind(share.evidence_id.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_error)?
    .ok_or(StoreError::EvidenceNotFound(share.evidence_id))?;
    share_from_row(&row)
}

pub(super) async fn find_evidence_share(
    pool: &SqlitePool,
    evidence_id: Uuid,
    token_sha256: &str,
) -> Result<Option<EvidenceShare>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        share_columns!(),
        " FROM evidence_shares WHERE evidence_id = ? \
         AND token_sha256 = ? AND revoked_at IS NULL"
    ))
    .bind(evidence_id.to_string())
    .bind(token_sha256)
    .fetch_optional(pool)
    .await
    .map_err(db_error)?
    .as_ref()
    .map(share_from_row)
    .transpose()
}

pub(super) async fn revoke_evidence_share(
    pool: &SqlitePool,
    evidence_id: Uuid,
    share_id: Uuid,
    actor: &str,
) -> Result<Option<EvidenceShare>, StoreError> {
    let now = to_text(to_micros(Utc::now()));
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    sqlx::query(
        "UPDATE evidence_shares SET revoked_at = ?, revoked_by = ? \
         WHERE id = ? AND evidence_id = ? AND revoked_at IS NULL",
    )
    .bind(&now)
    .bind(actor)
    .bind(share_id.to_string())
    .bind(evidence_id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let share = sqlx::query(concat!(
        "SELECT ",
        share_columns!(),
        " FROM evidence_shares WHERE id = ? AND evidence_id = ?"
    ))
    .bind(share_id.to_string())
    .bind(evidence_id.to_string())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?
    .as_ref()
    .map(share_from_row)
    .transpose()?;
    tx.commit().await.map_err(db_error)?;
    Ok(share)
}
