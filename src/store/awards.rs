//! Awards, their audit trail, revocation and kept BadgeClass versions: one body for both
//! backends (`db.rs` holds what differs). An award's status slot is checked against its
//! issuer's lists in the insert's transaction (`status.rs`). Also the RS256 forms, stored once on
//! their first download (`set_signed_form`), and a page of awards (bulk awards) written in ONE
//! transaction with multi-row INSERTs (`insert_awards`).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::db::{self, Row, Tx};
use super::status::check_slots_allocated;
use super::{
    Award, AwardCursor, AwardEvent, AwardEventKind, NewAward, RevokedAward, Rs256Form,
    StatusPurpose, Store, StoreError, issued_event_detail, parse_event_detail,
    revoked_event_detail, to_micros,
};

/// The columns of `awards`, in the order [`insert_awards_in`] binds them.
pub(crate) const AWARD_COLUMNS: &str = "id, issuer_slug, badge_class_slug, badge_class_digest, \
     recipient_identity, recipient_salt, recipient_name, credential_id, credential_json, \
     credential_jwt, status_list, status_index, assertion_json, assertion_jws, valid_from, \
     valid_until, issued_by, idempotency_key, created_at, revoked_at, revocation_reason, rsa_kid, \
     person_key";

const AWARD_COLUMN_COUNT: usize = 23;

/// Awards per INSERT statement: 64 × 23 arguments, far below both backends' limits.
const ROWS_PER_INSERT: usize = 64;

fn select_awards(filter: &str) -> String {
    format!("SELECT {AWARD_COLUMNS} FROM awards {filter}")
}

pub(crate) fn award_from_row(row: &Row) -> Result<Award, StoreError> {
    Ok(Award {
        id: row.id("id")?,
        issuer_slug: row.text("issuer_slug")?,
        badge_class_slug: row.text("badge_class_slug")?,
        badge_class_digest: row.text("badge_class_digest")?,
        recipient_identity: row.text("recipient_identity")?,
        recipient_salt: row.text("recipient_salt")?,
        recipient_name: row.opt_text("recipient_name")?,
        credential_id: row.text("credential_id")?,
        credential_json: row.text("credential_json")?,
        // '' until signed (migrations 0009 and 0011)
        credential_jwt: row
            .opt_text("credential_jwt")?
            .filter(|jwt| !jwt.is_empty()),
        rsa_kid: row.opt_text("rsa_kid")?,
        person_key: row.opt_text("person_key")?,
        status_list: row.opt_u32("status_list")?,
        status_index: row.opt_u32("status_index")?,
        assertion_json: row.opt_text("assertion_json")?,
        assertion_jws: row.opt_text("assertion_jws")?,
        valid_from: row.time("valid_from")?,
        valid_until: row.opt_time("valid_until")?,
        issued_by: row.text("issued_by")?,
        idempotency_key: row.opt_text("idempotency_key")?,
        created_at: row.time("created_at")?,
        revoked_at: row.opt_time("revoked_at")?,
        revocation_reason: row.opt_text("revocation_reason")?,
    })
}

fn event_from_row(row: &Row) -> Result<AwardEvent, StoreError> {
    Ok(AwardEvent {
        kind: AwardEventKind::parse(&row.text("kind")?)?,
        actor: row.text("actor")?,
        at: row.time("at")?,
        detail: parse_event_detail(&row.text("detail")?)?,
    })
}

impl Store {
    /// Writes the award and its "issued" audit event in ONE transaction (both or neither).
    /// A duplicate id, credential id, (issuer, idempotency key) or status slot gives
    /// [`StoreError::Conflict`]; a status slot not allocated to the issuer gives
    /// [`StoreError::UnallocatedStatusSlot`].
    pub async fn insert_award(&self, new: &NewAward) -> Result<Award, StoreError> {
        let award = Award::from_new(new, Utc::now());
        let mut tx = self.db.begin().await?;
        check_slots_allocated(&mut tx, std::iter::once(&award)).await?;
        insert_awards_in(&mut tx, &[(award.clone(), issued_event_detail(new))]).await?;
        tx.commit().await?;
        Ok(award)
    }

    /// Writes a page of awards (bulk awards) in ONE transaction and a handful of statements:
    /// the keys already taken in one query, the slots checked once per list, the awards and
    /// their events as multi-row INSERTs. An award whose (issuer, key) is taken, or used earlier
    /// in the page, is skipped (`None` at its place); another writer inserting one of the same
    /// keys meanwhile makes the whole call fail with a conflict, nothing stored.
    pub async fn insert_awards(
        &self,
        awards: &[NewAward],
    ) -> Result<Vec<Option<Award>>, StoreError> {
        let mut tx = self.db.begin().await?;
        let taken = taken_keys(&mut tx, awards).await?;
        let Split { stored, new_rows } = split(awards, taken, Utc::now());
        check_slots_allocated(&mut tx, new_rows.iter().map(|(a, _)| a)).await?;
        for chunk in new_rows.chunks(ROWS_PER_INSERT) {
            insert_awards_in(&mut tx, chunk).await?;
        }
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn get_award(&self, id: Uuid) -> Result<Option<Award>, StoreError> {
        db::query(select_awards("WHERE id = $1"))
            .bind(id)
            .fetch_optional_with(&self.db, award_from_row)
            .await
    }

    /// Looks an award up by its OB 3.0 credential id (what a verifier holds).
    pub async fn get_award_by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<Award>, StoreError> {
        let query = db::query(select_awards("WHERE credential_id = $1")).bind(credential_id);
        query.fetch_optional_with(&self.db, award_from_row).await
    }

    /// The award an issuer already gave under an idempotency key, if any.
    pub async fn find_by_idempotency_key(
        &self,
        issuer_slug: &str,
        key: &str,
    ) -> Result<Option<Award>, StoreError> {
        let query = db::query(select_awards(
            "WHERE issuer_slug = $1 AND idempotency_key = $2",
        ))
        .bind(issuer_slug)
        .bind(key);
        query.fetch_optional_with(&self.db, award_from_row).await
    }

    /// The awards an issuer gave under any of `keys`, in one query (bulk awards).
    pub async fn find_by_idempotency_keys(
        &self,
        issuer_slug: &str,
        keys: &[String],
    ) -> Result<Vec<Award>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let filter = format!(
            "WHERE issuer_slug = $1 AND idempotency_key IN ({})",
            db::in_list(2, keys.len())
        );
        let query = db::query(select_awards(&filter))
            .bind(issuer_slug)
            .bind_all(keys);
        query.fetch_all_with(&self.db, award_from_row).await
    }

    /// One issuer's awards, newest first, `limit` at a time: the page after the award `after`
    /// (its `created_at` and id, [`Award::cursor`]), or the first page. Keyset pagination: a
    /// page costs the same at the millionth award as at the first (index
    /// `awards_issuer_created`), and awards issued meanwhile never shift a page.
    pub async fn list_awards(
        &self,
        issuer_slug: &str,
        limit: u32,
        after: Option<AwardCursor>,
    ) -> Result<Vec<Award>, StoreError> {
        self.page_of_awards("issuer_slug = $1", issuer_slug, None, limit, after)
            .await
    }

    /// One badge class's awards, newest first, a page at a time as [`Store::list_awards`]
    /// (`carnet awards list --badge-class`).
    pub async fn list_awards_of_class(
        &self,
        issuer_slug: &str,
        badge_class_slug: &str,
        limit: u32,
        after: Option<AwardCursor>,
    ) -> Result<Vec<Award>, StoreError> {
        let filter = "issuer_slug = $1 AND badge_class_slug = $2";
        self.page_of_awards(filter, issuer_slug, Some(badge_class_slug), limit, after)
            .await
    }

    async fn page_of_awards(
        &self,
        filter: &str,
        issuer_slug: &str,
        class: Option<&str>,
        limit: u32,
        after: Option<AwardCursor>,
    ) -> Result<Vec<Award>, StoreError> {
        let order = "ORDER BY created_at DESC, id DESC LIMIT $3";
        let sql = match after {
            None => select_awards(&format!("WHERE {filter} {order}")),
            Some(_) => select_awards(&format!(
                "WHERE {filter} AND (created_at, id) < ($4, $5) {order}"
            )),
        };
        // $2 is the class when there is one; a filter without it leaves $2 unused but bound
        let mut query = db::query(sql)
            .bind(issuer_slug)
            .bind(class.unwrap_or_default())
            .bind(limit);
        if let Some(cursor) = after {
            query = query.bind(cursor.created_at).bind(cursor.id);
        }
        query.fetch_all_with(&self.db, award_from_row).await
    }

    pub async fn count_awards(&self, issuer_slug: &str) -> Result<u64, StoreError> {
        db::query("SELECT COUNT(*) AS n FROM awards WHERE issuer_slug = $1")
            .bind(issuer_slug)
            .fetch_one(&self.db)
            .await?
            .u64("n")
    }

    /// The award's audit trail, oldest first.
    pub async fn award_events(&self, id: Uuid) -> Result<Vec<AwardEvent>, StoreError> {
        db::query(
            "SELECT kind, actor, at, detail FROM award_events WHERE award_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all_with(&self.db, event_from_row)
        .await
    }

    /// Marks the award revoked, bumps its status list's revision and writes the "revoked"
    /// event, in ONE transaction. A second revocation gives [`StoreError::AlreadyRevoked`].
    pub async fn revoke_award(
        &self,
        issuer_slug: &str,
        id: Uuid,
        reason: &str,
        actor: &str,
    ) -> Result<Award, StoreError> {
        let revoked_at = to_micros(Utc::now());
        let mut tx = self.db.begin().await?;
        // FOR UPDATE: a concurrent revocation of the same award waits here, then sees it revoked.
        let query = db::query(select_awards(
            "WHERE id = $1 AND issuer_slug = $2 FOR UPDATE",
        ))
        .bind(id)
        .bind(issuer_slug);
        let Some(mut award) = query.fetch_optional_with(&mut tx, award_from_row).await? else {
            return Err(StoreError::AwardNotFound(id));
        };
        if let Some(revoked_at) = award.revoked_at {
            return Err(StoreError::AlreadyRevoked { id, revoked_at });
        }
        db::query("UPDATE awards SET revoked_at = $2, revocation_reason = $3 WHERE id = $1")
            .bind(id)
            .bind(revoked_at)
            .bind(reason)
            .execute(&mut tx)
            .await?;
        if let Some(list) = award.status_list {
            db::query(
                "UPDATE status_lists SET revision = revision + 1, updated_at = $4 \
                 WHERE issuer_slug = $1 AND purpose = $2 AND list_number = $3",
            )
            .bind(&award.issuer_slug)
            .bind(StatusPurpose::Revocation.as_str())
            .bind(list)
            .bind(revoked_at)
            .execute(&mut tx)
            .await?;
        }
        insert_event(
            &mut tx,
            id,
            AwardEventKind::Revoked,
            actor,
            revoked_at,
            &revoked_event_detail(&award, reason),
        )
        .await?;
        tx.commit().await?;
        award.revoked_at = Some(revoked_at);
        award.revocation_reason = Some(reason.to_owned());
        Ok(award)
    }

    /// An issuer's revoked awards (the OB 2.0 revocation list), oldest revocation first.
    pub async fn revoked_awards(&self, issuer_slug: &str) -> Result<Vec<RevokedAward>, StoreError> {
        db::query(
            "SELECT id, credential_id, revoked_at, revocation_reason FROM awards \
             WHERE issuer_slug = $1 AND revoked_at IS NOT NULL ORDER BY revoked_at, id",
        )
        .bind(issuer_slug)
        .fetch_all_with(&self.db, |row| {
            Ok(RevokedAward {
                id: row.id("id")?,
                credential_id: row.text("credential_id")?,
                revoked_at: row.time("revoked_at")?,
                reason: row.opt_text("revocation_reason")?,
            })
        })
        .await
    }

    /// Keeps the OB 2.0 BadgeClass document of a class version; the first write wins, so a
    /// published version never changes.
    pub async fn save_badge_class_version(
        &self,
        issuer_slug: &str,
        badge_class_slug: &str,
        version: &str,
        document: &str,
    ) -> Result<(), StoreError> {
        db::query(
            "INSERT INTO badge_class_versions \
             (issuer_slug, badge_class_slug, version, document, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(issuer_slug)
        .bind(badge_class_slug)
        .bind(version)
        .bind(document)
        .bind(to_micros(Utc::now()))
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// The kept document of a class version, if any.
    pub async fn badge_class_version(
        &self,
        issuer_slug: &str,
        badge_class_slug: &str,
        version: &str,
    ) -> Result<Option<String>, StoreError> {
        db::query(
            "SELECT document FROM badge_class_versions \
             WHERE issuer_slug = $1 AND badge_class_slug = $2 AND version = $3",
        )
        .bind(issuer_slug)
        .bind(badge_class_slug)
        .bind(version)
        .fetch_optional_with(&self.db, |row| row.text("document"))
        .await
    }

    /// Stores an RS256 form signed on its first download, unless one is already stored (the
    /// first write wins; RS256 is deterministic, so both are the same). `true` when written.
    pub async fn set_signed_form(
        &self,
        award_id: Uuid,
        form: Rs256Form,
        compact: &str,
    ) -> Result<bool, StoreError> {
        let sql = match form {
            // '' stands for "not signed yet" (migrations 0009 and 0011)
            Rs256Form::VcJwt => {
                "UPDATE awards SET credential_jwt = $1 WHERE id = $2 AND credential_jwt = ''"
            }
            Rs256Form::Ob2Jws => {
                "UPDATE awards SET assertion_jws = $1 \
                 WHERE id = $2 AND assertion_jws IS NULL AND assertion_json IS NOT NULL"
            }
        };
        let changed = db::query(sql)
            .bind(compact)
            .bind(award_id)
            .execute(&self.db)
            .await?;
        Ok(changed == 1)
    }
}

/// Inserts awards and their "issued" events (at most [`ROWS_PER_INSERT`]) with two statements.
async fn insert_awards_in(tx: &mut Tx, rows: &[(Award, String)]) -> Result<(), StoreError> {
    let mut insert = db::query(format!(
        "INSERT INTO awards ({AWARD_COLUMNS}) VALUES {}",
        db::values(rows.len(), AWARD_COLUMN_COUNT)
    ));
    for (a, _) in rows {
        insert = insert
            .bind(a.id)
            .bind(&a.issuer_slug)
            .bind(&a.badge_class_slug)
            .bind(&a.badge_class_digest)
            .bind(&a.recipient_identity)
            .bind(&a.recipient_salt)
            .bind(&a.recipient_name)
            .bind(&a.credential_id)
            .bind(&a.credential_json)
            // '' stands for "not signed yet" (migrations 0009 and 0011)
            .bind(a.credential_jwt.clone().unwrap_or_default())
            .bind(a.status_list)
            .bind(a.status_index)
            .bind(&a.assertion_json)
            .bind(&a.assertion_jws)
            .bind(a.valid_from)
            .bind(a.valid_until)
            .bind(&a.issued_by)
            .bind(&a.idempotency_key)
            .bind(a.created_at)
            .bind(a.revoked_at)
            .bind(&a.revocation_reason)
            .bind(&a.rsa_kid)
            .bind(&a.person_key);
    }
    insert.execute(&mut *tx).await?;
    let mut people: Vec<(&str, &str, DateTime<Utc>)> = rows
        .iter()
        .filter_map(|(a, _)| {
            Some((
                a.issuer_slug.as_str(),
                a.person_key.as_deref()?,
                a.created_at,
            ))
        })
        .collect();
    people.sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
    people.dedup_by(|x, y| (x.0, x.1) == (y.0, y.1));
    super::people::insert_people(tx, &people).await?;
    let mut events = db::query(format!(
        "INSERT INTO award_events (award_id, kind, actor, at, detail) VALUES {}",
        db::values(rows.len(), 5)
    ));
    for (a, detail) in rows {
        events = events
            .bind(a.id)
            .bind(AwardEventKind::Issued.as_str())
            .bind(&a.issued_by)
            .bind(a.created_at)
            .bind(detail);
    }
    events.execute(tx).await?;
    Ok(())
}

/// Appends one event to an award's audit trail, inside the caller's transaction.
pub(crate) async fn insert_event(
    tx: &mut Tx,
    award_id: Uuid,
    kind: AwardEventKind,
    actor: &str,
    at: DateTime<Utc>,
    detail: &str,
) -> Result<(), StoreError> {
    db::query(
        "INSERT INTO award_events (award_id, kind, actor, at, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(award_id)
    .bind(kind.as_str())
    .bind(actor)
    .bind(at)
    .bind(detail)
    .execute(tx)
    .await?;
    Ok(())
}

/// The (issuer, key) pairs of `awards` already given, one query per issuer (a page has one).
async fn taken_keys(
    tx: &mut Tx,
    awards: &[NewAward],
) -> Result<HashSet<(String, String)>, StoreError> {
    let mut by_issuer: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for a in awards {
        if let Some(key) = &a.idempotency_key {
            by_issuer.entry(&a.issuer_slug).or_default().push(key);
        }
    }
    let mut taken = HashSet::new();
    for (issuer, keys) in by_issuer {
        let rows = db::query(format!(
            "SELECT idempotency_key FROM awards WHERE issuer_slug = $1 AND idempotency_key IN ({})",
            db::in_list(2, keys.len())
        ))
        .bind(issuer)
        .bind_all(keys)
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            taken.insert((issuer.to_owned(), row.text("idempotency_key")?));
        }
    }
    Ok(taken)
}

/// A page split by [`split`].
struct Split {
    /// Each award's result, in order: `None` when its key is taken.
    stored: Vec<Option<Award>>,
    /// The awards to insert, each with its `issued` event's detail.
    new_rows: Vec<(Award, String)>,
}

/// Splits a page: an award whose (issuer, key) is `taken`, or used earlier in the page, is
/// skipped; the others are written at `now`.
fn split(awards: &[NewAward], mut taken: HashSet<(String, String)>, now: DateTime<Utc>) -> Split {
    let mut stored = Vec::with_capacity(awards.len());
    let mut new_rows = Vec::with_capacity(awards.len());
    for new in awards {
        if let Some(key) = &new.idempotency_key
            && !taken.insert((new.issuer_slug.clone(), key.clone()))
        {
            stored.push(None);
            continue;
        }
        let award = Award::from_new(new, now);
        stored.push(Some(award.clone()));
        new_rows.push((award, issued_event_detail(new)));
    }
    Split { stored, new_rows }
}
