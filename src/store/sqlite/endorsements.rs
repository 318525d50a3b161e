//! SQLite: endorsement invitations, endorsements, the award ids requests reserve, and the
//! re-signed documents of an endorsed award (migration `0007_endorsements.sql`). Writes that
//! read then write take the write lock up front (`BEGIN IMMEDIATE`).

use chrono::Utc;
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use uuid::Uuid;

use super::{column, db_error, optional_time_column, time_column, to_text};
use crate::store::endorsements::{endorsed_event_detail, usable};
use crate::store::requests::parse_uuid;
use crate::store::{
    AwardDocuments, AwardEventKind, Endorsement, EndorserKind, Invitation, NewEndorsement,
    NewInvitation, StoreError, to_micros,
};

/// The columns of an invitation (with the endorsement given through it), `i` and `e` aliased.
macro_rules! invitation_select {
    () => {
        "SELECT i.id, i.issuer_slug, i.award_id, i.request_id, i.badge_class_slug, \
         i.endorser_kind, i.note, i.created_by, i.created_at, i.expires_at, i.used_at, \
         i.revoked_at, i.revoked_by, e.id AS endorsement_id \
         FROM endorsement_invitations i LEFT JOIN endorsements e ON e.invitation_id = i.id "
    };
}

macro_rules! endorsement_columns {
    () => {
        "id, issuer_slug, invitation_id, endorser_id, award_id, request_id, endorser_kind, \
         endorser_name, endorser_role, endorser_organisation, comment, credential_json, \
         ob2_json, created_at"
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

fn invitation_from_row(row: &SqliteRow) -> Result<Invitation, StoreError> {
    Ok(Invitation {
        id: uuid_column(row, "id")?,
        issuer_slug: column(row, "issuer_slug")?,
        award_id: uuid_column(row, "award_id")?,
        request_id: optional_uuid_column(row, "request_id")?,
        badge_class_slug: column(row, "badge_class_slug")?,
        endorser_kind: EndorserKind::parse(&column::<String>(row, "endorser_kind")?)?,
        note: column(row, "note")?,
        created_by: column(row, "created_by")?,
        created_at: time_column(row, "created_at")?,
        expires_at: time_column(row, "expires_at")?,
        used_at: optional_time_column(row, "used_at")?,
        revoked_at: optional_time_column(row, "revoked_at")?,
        revoked_by: column(row, "revoked_by")?,
        endorsement_id: optional_uuid_column(row, "endorsement_id")?,
    })
}

fn endorsement_from_row(row: &SqliteRow) -> Result<Endorsement, StoreError> {
    Ok(Endorsement {
        id: uuid_column(row, "id")?,
        issuer_slug: column(row, "issuer_slug")?,
        invitation_id: uuid_column(row, "invitation_id")?,
        endorser_id: uuid_column(row, "endorser_id")?,
        award_id: uuid_column(row, "award_id")?,
        request_id: optional_uuid_column(row, "request_id")?,
        endorser_kind: EndorserKind::parse(&column::<String>(row, "endorser_kind")?)?,
        endorser_name: column(row, "endorser_name")?,
        endorser_role: column(row, "endorser_role")?,
        endorser_organisation: column(row, "endorser_organisation")?,
        comment: column(row, "comment")?,
        credential_json: column(row, "credential_json")?,
        ob2_json: column(row, "ob2_json")?,
        created_at: time_column(row, "created_at")?,
    })
}

async fn invitation_in(
    conn: &mut SqliteConnection,
    id: Uuid,
) -> Result<Option<Invitation>, StoreError> {
    sqlx::query(concat!(invitation_select!(), "WHERE i.id = ?"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?
        .as_ref()
        .map(invitation_from_row)
        .transpose()
}

pub(super) async fn create_invitation(
    pool: &SqlitePool,
    invitation: &NewInvitation,
) -> Result<Invitation, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    sqlx::query(
        "INSERT INTO endorsement_invitations (id, issuer_slug, token_sha256, award_id, \
         request_id, badge_class_slug, endorser_kind, note, created_by, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(invitation.id.to_string())
    .bind(&invitation.issuer_slug)
    .bind(&invitation.token_sha256)
    .bind(invitation.award_id.to_string())
    .bind(invitation.request_id.map(|id| id.to_string()))
    .bind(&invitation.badge_class_slug)
    .bind(invitation.endorser_kind.as_str())
    .bind(&invitation.note)
    .bind(&invitation.created_by)
    .bind(to_text(to_micros(invitation.created_at)))
    .bind(to_text(to_micros(invitation.expires_at)))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let stored = invitation_in(&mut tx, invitation.id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("the invitation just written is missing".into()))?;
    tx.commit().await.map_err(db_error)?;
    Ok(stored)
}

pub(super) async fn get_invitation(
    pool: &SqlitePool,
    id: Uuid,
) -> Result<Option<Invitation>, StoreError> {
    let mut conn = pool.acquire().await.map_err(db_error)?;
    invitation_in(&mut conn, id).await
}

pub(super) async fn find_invitation(
    pool: &SqlitePool,
    token_sha256: &str,
) -> Result<Option<Invitation>, StoreError> {
    sqlx::query(concat!(invitation_select!(), "WHERE i.token_sha256 = ?"))
        .bind(token_sha256)
        .fetch_optional(pool)
        .await
        .map_err(db_error)?
        .as_ref()
        .map(invitation_from_row)
        .transpose()
}

pub(super) async fn invitations(
    pool: &SqlitePool,
    award_id: Uuid,
) -> Result<Vec<Invitation>, StoreError> {
    sqlx::query(concat!(
        invitation_select!(),
        "WHERE i.award_id = ? ORDER BY i.created_at, i.id"
    ))
    .bind(award_id.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_error)?
    .iter()
    .map(invitation_from_row)
    .collect()
}

pub(super) async fn revoke_invitation(
    pool: &SqlitePool,
    id: Uuid,
    actor: &str,
) -> Result<Option<Invitation>, StoreError> {
    let now = to_text(to_micros(Utc::now()));
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    sqlx::query(
        "UPDATE endorsement_invitations SET revoked_at = ?, revoked_by = ? \
         WHERE id = ? AND revoked_at IS NULL AND used_at IS NULL",
    )
    .bind(&now)
    .bind(actor)
    .bind(id.to_string())
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let stored = invitation_in(&mut tx, id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(stored)
}

pub(super) async fn insert_endorsement(
    pool: &SqlitePool,
    e: &NewEndorsement,
) -> Result<Endorsement, StoreError> {
    let at = to_micros(e.created_at);
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    let invitation = invitation_in(&mut tx, e.invitation_id).await?;
    usable(invitation.as_ref(), at)?;
    let row = sqlx::query(concat!(
        "INSERT INTO endorsements (",
        endorsement_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
        endorsement_columns!()
    ))
    .bind(e.id.to_string())
    .bind(&e.issuer_slug)
    .bind(e.invitation_id.to_string())
    .bind(e.endorser_id.to_string())
    .bind(e.award_id.to_string())
    .bind(e.request_id.map(|id| id.to_string()))
    .bind(e.endorser_kind.as_str())
    .bind(&e.endorser_name)
    .bind(&e.endorser_role)
    .bind(&e.endorser_organisation)
    .bind(&e.comment)
    .bind(&e.credential_json)
    .bind(&e.ob2_json)
    .bind(to_text(at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let stored = endorsement_from_row(&row)?;
    sqlx::query("UPDATE endorsement_invitations SET used_at = ? WHERE id = ? AND used_at IS NULL")
        .bind(to_text(at))
        .bind(e.invitation_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(stored)
}

async fn one_endorsement(
    pool: &SqlitePool,
    column_name: &'static str,
    id: Uuid,
) -> Result<Option<Endorsement>, StoreError> {
    let sql = format!(
        "SELECT {} FROM endorsements WHERE {column_name} = ?",
        endorsement_columns!()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(db_error)?
        .as_ref()
        .map(endorsement_from_row)
        .transpose()
}

pub(super) async fn get_endorsement(
    pool: &SqlitePool,
    id: Uuid,
) -> Result<Option<Endorsement>, StoreError> {
    one_endorsement(pool, "id", id).await
}

pub(super) async fn endorsement_by_endorser(
    pool: &SqlitePool,
    endorser_id: Uuid,
) -> Result<Option<Endorsement>, StoreError> {
    one_endorsement(pool, "endorser_id", endorser_id).await
}

pub(super) async fn award_endorsements(
    pool: &SqlitePool,
    award_id: Uuid,
) -> Result<Vec<Endorsement>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        endorsement_columns!(),
        " FROM endorsements WHERE award_id = ? ORDER BY created_at, id"
    ))
    .bind(award_id.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_error)?
    .iter()
    .map(endorsement_from_row)
    .collect()
}

pub(super) async fn reserve_award_id(
    pool: &SqlitePool,
    request_id: Uuid,
    candidate: Uuid,
) -> Result<Uuid, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    sqlx::query(
        "INSERT INTO request_award_reservations (request_id, award_id, created_at) \
         VALUES (?, ?, ?) ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(request_id.to_string())
    .bind(candidate.to_string())
    .bind(to_text(to_micros(Utc::now())))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let reserved: String =
        sqlx::query_scalar("SELECT award_id FROM request_award_reservations WHERE request_id = ?")
            .bind(request_id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    parse_uuid("award_id", &reserved)
}

pub(super) async fn reserved_award_id(
    pool: &SqlitePool,
    request_id: Uuid,
) -> Result<Option<Uuid>, StoreError> {
    let reserved: Option<String> =
        sqlx::query_scalar("SELECT award_id FROM request_award_reservations WHERE request_id = ?")
            .bind(request_id.to_string())
            .fetch_optional(pool)
            .await
            .map_err(db_error)?;
    reserved.map(|r| parse_uuid("award_id", &r)).transpose()
}

/// Compare and swap of the award's documents, with its "endorsed" event; `false` when the
/// credential changed meanwhile (or the award is unknown): nothing is written then.
pub(super) async fn replace_award_documents(
    pool: &SqlitePool,
    id: Uuid,
    expected_credential_json: &str,
    documents: &AwardDocuments,
) -> Result<bool, StoreError> {
    let now = to_text(to_micros(Utc::now()));
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    let credential_id: Option<String> = sqlx::query_scalar(
        "UPDATE awards SET credential_json = ?, credential_jwt = '', rsa_kid = ?, \
         assertion_json = ?, assertion_jws = NULL WHERE id = ? AND credential_json = ? \
         RETURNING credential_id",
    )
    .bind(&documents.credential_json)
    .bind(&documents.rsa_kid)
    .bind(&documents.assertion_json)
    .bind(id.to_string())
    .bind(expected_credential_json)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let Some(credential_id) = credential_id else {
        return Ok(false);
    };
    sqlx::query(
        "INSERT INTO award_events (award_id, kind, actor, at, detail) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(AwardEventKind::Endorsed.as_str())
    .bind(&documents.actor)
    .bind(&now)
    .bind(endorsed_event_detail(
        &credential_id,
        &documents.endorsements,
    ))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(true)
}
