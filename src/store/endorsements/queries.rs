//! Endorsement invitations, endorsements, the award ids requests reserve, and the re-signed
//! documents of an endorsed award (migration `0007_endorsements.sql`), written once for both
//! backends. A write that reads first does it in a transaction ([`crate::store::db::Db::begin`]):
//! SQLite holds the write lock from its start, PostgreSQL locks the rows it reads `FOR UPDATE`.

use chrono::Utc;
use uuid::Uuid;

use super::{endorsed_event_detail, usable};
use crate::store::awards::{AWARD_COLUMNS, award_from_row, insert_event};
use crate::store::db::{self, On, Row};
use crate::store::{
    Award, AwardDocuments, AwardEventKind, Endorsement, EndorserKind, Invitation, NewEndorsement,
    NewInvitation, Store, StoreError, to_micros,
};

/// The columns of an invitation (with the endorsement given through it), `i` and `e` aliased.
const INVITATION_SELECT: &str = "SELECT i.id, i.issuer_slug, i.award_id, i.request_id, \
     i.badge_class_slug, i.endorser_kind, i.note, i.created_by, i.created_at, i.expires_at, \
     i.used_at, i.revoked_at, i.revoked_by, e.id AS endorsement_id \
     FROM endorsement_invitations i LEFT JOIN endorsements e ON e.invitation_id = i.id ";

/// The columns of `endorsements`, in the order `endorsement_from_row` reads them.
const ENDORSEMENT_COLUMNS: &str = "id, issuer_slug, invitation_id, endorser_id, award_id, \
     request_id, endorser_kind, endorser_name, endorser_role, endorser_organisation, comment, \
     credential_json, ob2_json, created_at";

fn invitation_from_row(row: &Row) -> Result<Invitation, StoreError> {
    Ok(Invitation {
        id: row.id("id")?,
        issuer_slug: row.text("issuer_slug")?,
        award_id: row.id("award_id")?,
        request_id: row.opt_id("request_id")?,
        badge_class_slug: row.text("badge_class_slug")?,
        endorser_kind: EndorserKind::parse(&row.text("endorser_kind")?)?,
        note: row.opt_text("note")?,
        created_by: row.text("created_by")?,
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
        used_at: row.opt_time("used_at")?,
        revoked_at: row.opt_time("revoked_at")?,
        revoked_by: row.opt_text("revoked_by")?,
        endorsement_id: row.opt_id("endorsement_id")?,
    })
}

fn endorsement_from_row(row: &Row) -> Result<Endorsement, StoreError> {
    Ok(Endorsement {
        id: row.id("id")?,
        issuer_slug: row.text("issuer_slug")?,
        invitation_id: row.id("invitation_id")?,
        endorser_id: row.id("endorser_id")?,
        award_id: row.id("award_id")?,
        request_id: row.opt_id("request_id")?,
        endorser_kind: EndorserKind::parse(&row.text("endorser_kind")?)?,
        endorser_name: row.text("endorser_name")?,
        endorser_role: row.text("endorser_role")?,
        endorser_organisation: row.opt_text("endorser_organisation")?,
        comment: row.text("comment")?,
        credential_json: row.text("credential_json")?,
        ob2_json: row.opt_text("ob2_json")?,
        created_at: row.time("created_at")?,
    })
}

async fn invitation_in(on: impl Into<On<'_>>, id: Uuid) -> Result<Option<Invitation>, StoreError> {
    db::query(format!("{INVITATION_SELECT}WHERE i.id = $1"))
        .bind(id)
        .fetch_optional_with(on, invitation_from_row)
        .await
}

/// The reservation of a request, read on the pool or inside the reserving transaction.
async fn reservation_in(
    on: impl Into<On<'_>>,
    request_id: Uuid,
) -> Result<Option<Uuid>, StoreError> {
    db::query("SELECT award_id FROM request_award_reservations WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional_with(on, |row| row.id("award_id"))
        .await
}

impl Store {
    /// Records an invitation (its token only as SHA-256).
    pub async fn create_endorsement_invitation(
        &self,
        invitation: &NewInvitation,
    ) -> Result<Invitation, StoreError> {
        let mut tx = self.db.begin().await?;
        db::query(
            "INSERT INTO endorsement_invitations (id, issuer_slug, token_sha256, award_id, \
             request_id, badge_class_slug, endorser_kind, note, created_by, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(invitation.id)
        .bind(&invitation.issuer_slug)
        .bind(&invitation.token_sha256)
        .bind(invitation.award_id)
        .bind(invitation.request_id)
        .bind(&invitation.badge_class_slug)
        .bind(invitation.endorser_kind.as_str())
        .bind(&invitation.note)
        .bind(&invitation.created_by)
        .bind(to_micros(invitation.created_at))
        .bind(to_micros(invitation.expires_at))
        .execute(&mut tx)
        .await?;
        let stored = invitation_in(&mut tx, invitation.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the invitation just written is missing".into()))?;
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn get_endorsement_invitation(
        &self,
        id: Uuid,
    ) -> Result<Option<Invitation>, StoreError> {
        invitation_in(&self.db, id).await
    }

    /// The invitation whose token has this SHA-256, whatever its state.
    pub async fn find_endorsement_invitation(
        &self,
        token_sha256: &str,
    ) -> Result<Option<Invitation>, StoreError> {
        db::query(format!("{INVITATION_SELECT}WHERE i.token_sha256 = $1"))
            .bind(token_sha256)
            .fetch_optional_with(&self.db, invitation_from_row)
            .await
    }

    /// The invitations about an award id (issued or reserved by a request), oldest first.
    pub async fn endorsement_invitations(
        &self,
        award_id: Uuid,
    ) -> Result<Vec<Invitation>, StoreError> {
        db::query(format!(
            "{INVITATION_SELECT}WHERE i.award_id = $1 ORDER BY i.created_at, i.id"
        ))
        .bind(award_id)
        .fetch_all_with(&self.db, invitation_from_row)
        .await
    }

    /// Revokes an unused invitation (a second revocation keeps the first one's who and when; a
    /// used one stays used); `None` for an unknown invitation.
    pub async fn revoke_endorsement_invitation(
        &self,
        id: Uuid,
        actor: &str,
    ) -> Result<Option<Invitation>, StoreError> {
        let mut tx = self.db.begin().await?;
        // The conditions are checked by the UPDATE itself: on PostgreSQL it waits for a
        // concurrent use of the invitation, then sees it used and changes nothing.
        db::query(
            "UPDATE endorsement_invitations SET revoked_at = $1, revoked_by = $2 \
             WHERE id = $3 AND revoked_at IS NULL AND used_at IS NULL",
        )
        .bind(to_micros(Utc::now()))
        .bind(actor)
        .bind(id)
        .execute(&mut tx)
        .await?;
        let stored = invitation_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Writes the endorsement and marks its invitation used, in ONE transaction, after checking
    /// there that the invitation is still usable at `endorsement.created_at`: an unknown, used,
    /// expired or revoked invitation gives [`StoreError::InvitationUnusable`] and writes nothing.
    pub async fn insert_endorsement(
        &self,
        endorsement: &NewEndorsement,
    ) -> Result<Endorsement, StoreError> {
        let e = endorsement;
        let at = to_micros(e.created_at);
        let mut tx = self.db.begin().await?;
        // The lock makes a concurrent use (or revocation) of the same invitation wait, then see
        // it used. It is taken apart from the read: PostgreSQL cannot lock the nullable side of
        // the read's outer join. SQLite already holds the write lock.
        db::query("SELECT id FROM endorsement_invitations WHERE id = $1 FOR UPDATE")
            .bind(e.invitation_id)
            .execute(&mut tx)
            .await?;
        let invitation = invitation_in(&mut tx, e.invitation_id).await?;
        usable(invitation.as_ref(), at)?;
        let stored = db::query(format!(
            "INSERT INTO endorsements ({ENDORSEMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, $12, $13, $14) RETURNING {ENDORSEMENT_COLUMNS}"
        ))
        .bind(e.id)
        .bind(&e.issuer_slug)
        .bind(e.invitation_id)
        .bind(e.endorser_id)
        .bind(e.award_id)
        .bind(e.request_id)
        .bind(e.endorser_kind.as_str())
        .bind(&e.endorser_name)
        .bind(&e.endorser_role)
        .bind(&e.endorser_organisation)
        .bind(&e.comment)
        .bind(&e.credential_json)
        .bind(&e.ob2_json)
        .bind(at)
        .fetch_one_with(&mut tx, endorsement_from_row)
        .await?;
        db::query(
            "UPDATE endorsement_invitations SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
        )
        .bind(at)
        .bind(e.invitation_id)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn get_endorsement(&self, id: Uuid) -> Result<Option<Endorsement>, StoreError> {
        self.one_endorsement("id", id).await
    }

    /// The endorsement whose endorser Profile has this id.
    pub async fn endorsement_by_endorser(
        &self,
        endorser_id: Uuid,
    ) -> Result<Option<Endorsement>, StoreError> {
        self.one_endorsement("endorser_id", endorser_id).await
    }

    /// The endorsement whose `column` (a unique one) is `id`.
    async fn one_endorsement(
        &self,
        column: &'static str,
        id: Uuid,
    ) -> Result<Option<Endorsement>, StoreError> {
        db::query(format!(
            "SELECT {ENDORSEMENT_COLUMNS} FROM endorsements WHERE {column} = $1"
        ))
        .bind(id)
        .fetch_optional_with(&self.db, endorsement_from_row)
        .await
    }

    /// The endorsements of an award id (issued or reserved), oldest first.
    pub async fn award_endorsements(&self, award_id: Uuid) -> Result<Vec<Endorsement>, StoreError> {
        db::query(format!(
            "SELECT {ENDORSEMENT_COLUMNS} FROM endorsements WHERE award_id = $1 \
             ORDER BY created_at, id"
        ))
        .bind(award_id)
        .fetch_all_with(&self.db, endorsement_from_row)
        .await
    }

    /// The award id reserved for a badge request: `candidate` the first time, then always the
    /// same (concurrent callers all get the winner's).
    pub async fn reserve_request_award_id(
        &self,
        request_id: Uuid,
        candidate: Uuid,
    ) -> Result<Uuid, StoreError> {
        let mut tx = self.db.begin().await?;
        // On PostgreSQL a concurrent insert of the same request makes this one wait for its
        // commit, then do nothing; the SELECT that follows (a new snapshot under READ
        // COMMITTED) sees the winner's row.
        db::query(
            "INSERT INTO request_award_reservations (request_id, award_id, created_at) \
             VALUES ($1, $2, $3) ON CONFLICT (request_id) DO NOTHING",
        )
        .bind(request_id)
        .bind(candidate)
        .bind(to_micros(Utc::now()))
        .execute(&mut tx)
        .await?;
        let reserved = reservation_in(&mut tx, request_id).await?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the award id reserved by request {request_id} is missing"
            ))
        })?;
        tx.commit().await?;
        Ok(reserved)
    }

    pub async fn reserved_request_award_id(
        &self,
        request_id: Uuid,
    ) -> Result<Option<Uuid>, StoreError> {
        reservation_in(&self.db, request_id).await
    }

    /// Replaces an award's signed documents and writes its "endorsed" event in ONE transaction,
    /// only if its credential is still `expected_credential_json` (compare and swap): `None`
    /// when it changed meanwhile (read it again and retry) or the award is unknown.
    pub async fn replace_award_documents(
        &self,
        id: Uuid,
        expected_credential_json: &str,
        documents: &AwardDocuments,
    ) -> Result<Option<Award>, StoreError> {
        let mut tx = self.db.begin().await?;
        // The compare is in the UPDATE's WHERE: PostgreSQL re-checks it after waiting for a
        // concurrent replacement, so only one of two racing swaps wins. The RS256 forms of the
        // old documents are dropped, to be signed again on first download: "" is "not signed
        // yet" for credential_jwt (NOT NULL on SQLite), as the award reader knows.
        let sql = format!(
            "UPDATE awards SET credential_json = $1, credential_jwt = '', rsa_kid = $2, \
             assertion_json = $3, assertion_jws = NULL WHERE id = $4 AND credential_json = $5 \
             RETURNING {AWARD_COLUMNS}"
        );
        let Some(row) = db::query(sql)
            .bind(&documents.credential_json)
            .bind(&documents.rsa_kid)
            .bind(&documents.assertion_json)
            .bind(id)
            .bind(expected_credential_json)
            .fetch_optional(&mut tx)
            .await?
        else {
            return Ok(None);
        };
        let award = award_from_row(&row)?;
        let detail = endorsed_event_detail(&award.credential_id, &documents.endorsements);
        let at = to_micros(Utc::now());
        insert_event(
            &mut tx,
            id,
            AwardEventKind::Endorsed,
            &documents.actor,
            at,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(award))
    }
}
