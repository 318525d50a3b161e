//! Evidence files of badge requests and their share links, written once for both backends.

use chrono::Utc;
use uuid::Uuid;

use super::queries::{Event, insert_event, request_in};
use crate::store::db::{self, Row};
use crate::store::{
    AddedEvidence, EvidenceFile, EvidenceShare, NewEvidence, NewEvidenceShare, RequestEventKind,
    Store, StoreError, to_micros,
};

const EVIDENCE_COLUMNS: &str =
    "id, request_id, sha256, media_type, genre, name, size, added_by, created_at";

const SHARE_COLUMNS: &str = "id, evidence_id, created_by, created_at, revoked_at, revoked_by";

impl Store {
    /// Adds a file to a submitted or returned request with its "evidence_added" event, in ONE
    /// transaction; the same content twice in one request is kept once
    /// ([`AddedEvidence::Existing`], no event). An unknown request gives
    /// [`StoreError::RequestNotFound`], one in another state [`StoreError::RequestState`].
    pub async fn add_evidence(&self, evidence: &NewEvidence) -> Result<AddedEvidence, StoreError> {
        let size = i64::try_from(evidence.content.len())
            .map_err(|_| StoreError::Corrupt("evidence too large".to_owned()))?;
        let mut tx = self.db.begin().await?;
        // Locking the request serialises additions to it, so the same content sent twice at
        // once is kept once and never fails on the unique constraint.
        let request = request_in(&mut tx, evidence.request_id, true)
            .await?
            .ok_or(StoreError::RequestNotFound(evidence.request_id))?;
        if !request.state.accepts_evidence() {
            return Err(StoreError::RequestState {
                id: request.id,
                state: request.state,
                action: "change",
            });
        }
        let existing = db::query(format!(
            "SELECT {EVIDENCE_COLUMNS} FROM evidence_files WHERE request_id = $1 AND sha256 = $2"
        ))
        .bind(evidence.request_id)
        .bind(&evidence.sha256)
        .fetch_optional_with(&mut tx, evidence_from_row)
        .await?;
        if let Some(file) = existing {
            return Ok(AddedEvidence::Existing(file));
        }
        let now = to_micros(Utc::now());
        let file = db::query(format!(
            "INSERT INTO evidence_files ({EVIDENCE_COLUMNS}, content) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {EVIDENCE_COLUMNS}"
        ))
        .bind(evidence.id)
        .bind(evidence.request_id)
        .bind(&evidence.sha256)
        .bind(&evidence.media_type)
        .bind(&evidence.genre)
        .bind(&evidence.name)
        .bind(size)
        .bind(&evidence.added_by)
        .bind(now)
        .bind(evidence.content.as_slice())
        .fetch_one_with(&mut tx, evidence_from_row)
        .await?;
        let event = Event {
            subject: Some(evidence.id),
            ..Event::new(
                evidence.request_id,
                now,
                &evidence.added_by,
                RequestEventKind::EvidenceAdded,
            )
        };
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(AddedEvidence::Added(file))
    }

    /// The request's files, in the order they were added.
    pub async fn request_evidence(
        &self,
        request_id: Uuid,
    ) -> Result<Vec<EvidenceFile>, StoreError> {
        // Files added within one microsecond keep their order through their events' `seq`
        // (additions to a request are serialised); the id only breaks ties of rows without one.
        db::query(format!(
            "SELECT {EVIDENCE_COLUMNS} FROM evidence_files f WHERE f.request_id = $1 \
             ORDER BY f.created_at, (SELECT MIN(e.seq) FROM badge_request_events e \
             WHERE e.request_id = f.request_id AND e.kind = 'evidence_added' \
             AND e.subject = f.id), f.id"
        ))
        .bind(request_id)
        .fetch_all_with(&self.db, evidence_from_row)
        .await
    }

    /// One file with its content.
    pub async fn evidence_content(
        &self,
        id: Uuid,
    ) -> Result<Option<(EvidenceFile, Vec<u8>)>, StoreError> {
        db::query(format!(
            "SELECT {EVIDENCE_COLUMNS}, content FROM evidence_files WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional_with(&self.db, |row| {
            Ok((evidence_from_row(row)?, row.bytes("content")?))
        })
        .await
    }

    /// Records a share link of a file; an unknown file gives [`StoreError::EvidenceNotFound`].
    pub async fn create_evidence_share(
        &self,
        share: &NewEvidenceShare,
    ) -> Result<EvidenceShare, StoreError> {
        // One statement: the file cannot vanish between the check and the insert.
        db::query(format!(
            "INSERT INTO evidence_shares (id, evidence_id, token_sha256, created_by, created_at) \
             SELECT $1, id, $2, $3, $4 FROM evidence_files WHERE id = $5 RETURNING {SHARE_COLUMNS}"
        ))
        .bind(share.id)
        .bind(&share.token_sha256)
        .bind(&share.created_by)
        .bind(to_micros(Utc::now()))
        .bind(share.evidence_id)
        .fetch_optional_with(&self.db, share_from_row)
        .await?
        .ok_or(StoreError::EvidenceNotFound(share.evidence_id))
    }

    /// The unrevoked share of `evidence_id` whose token has this SHA-256, if any.
    pub async fn find_evidence_share(
        &self,
        evidence_id: Uuid,
        token_sha256: &str,
    ) -> Result<Option<EvidenceShare>, StoreError> {
        db::query(format!(
            "SELECT {SHARE_COLUMNS} FROM evidence_shares WHERE evidence_id = $1 \
             AND token_sha256 = $2 AND revoked_at IS NULL"
        ))
        .bind(evidence_id)
        .bind(token_sha256)
        .fetch_optional_with(&self.db, share_from_row)
        .await
    }

    /// Revokes a share of `evidence_id` (a second revocation keeps the first one's who and
    /// when); `None` when the file has no such share.
    pub async fn revoke_evidence_share(
        &self,
        evidence_id: Uuid,
        share_id: Uuid,
        actor: &str,
    ) -> Result<Option<EvidenceShare>, StoreError> {
        let mut tx = self.db.begin().await?;
        // `revoked_at IS NULL` is checked again after a concurrent revocation's row lock is
        // released (PostgreSQL), so the first revocation stays; the read then sees it.
        db::query(
            "UPDATE evidence_shares SET revoked_at = $1, revoked_by = $2 \
             WHERE id = $3 AND evidence_id = $4 AND revoked_at IS NULL",
        )
        .bind(to_micros(Utc::now()))
        .bind(actor)
        .bind(share_id)
        .bind(evidence_id)
        .execute(&mut tx)
        .await?;
        let share = db::query(format!(
            "SELECT {SHARE_COLUMNS} FROM evidence_shares WHERE id = $1 AND evidence_id = $2"
        ))
        .bind(share_id)
        .bind(evidence_id)
        .fetch_optional_with(&mut tx, share_from_row)
        .await?;
        tx.commit().await?;
        Ok(share)
    }
}

fn evidence_from_row(row: &Row) -> Result<EvidenceFile, StoreError> {
    Ok(EvidenceFile {
        id: row.id("id")?,
        request_id: row.id("request_id")?,
        sha256: row.text("sha256")?,
        media_type: row.text("media_type")?,
        genre: row.text("genre")?,
        name: row.text("name")?,
        size: row.u64("size")?,
        added_by: row.text("added_by")?,
        created_at: row.time("created_at")?,
    })
}

fn share_from_row(row: &Row) -> Result<EvidenceShare, StoreError> {
    Ok(EvidenceShare {
        id: row.id("id")?,
        evidence_id: row.id("evidence_id")?,
        created_by: row.text("created_by")?,
        created_at: row.time("created_at")?,
        revoked_at: row.opt_time("revoked_at")?,
        revoked_by: row.opt_text("revoked_by")?,
    })
}
