//! PostgreSQL backend: migrations in `migrations/postgres/`.
//!
//! Ids are `UUID` and timestamps `TIMESTAMPTZ`. sqlx's `uuid` feature is not enabled, so
//! ids cross the wire as text (`$1::uuid` in, `id::text` out). Tables are created in the
//! first schema of `search_path`, which the URL may set (`?options=-c search_path=...`).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use uuid::Uuid;

use super::{
    Award, AwardEvent, AwardEventKind, Carnet, CarnetEvent, ConflictOn, NewAward, NewCarnet,
    ReferentielSummary, RevokedAward, SavedReferentiel, StatusListInfo, StatusPurpose, StatusSlot,
    Store, StoreError, StoreOptions, StoredReferentiel, issued_event_detail, parse_event_detail,
    revoked_event_detail, stored_purpose, stored_u32, to_micros,
};
use crate::referentiel::Referentiel;
use crate::referentiel::carnet::CarnetEntry;

mod awards_batch;
mod endorsements;
mod jobs;
mod referentiels;
mod requests;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The columns of `awards`, in the order `award_from_row` reads them.
macro_rules! award_columns {
    () => {
        "id::text AS id, issuer_slug, badge_class_slug, badge_class_digest, recipient_identity, \
         recipient_salt, recipient_name, credential_id, credential_json, credential_jwt, \
         status_list, status_index, assertion_json, assertion_jws, \
         valid_from, valid_until, issued_by, idempotency_key, created_at, revoked_at, \
         revocation_reason, rsa_kid"
    };
}

/// The columns of `status_lists`, in the order `status_list_from_row` reads them.
macro_rules! status_list_columns {
    () => {
        "issuer_slug, purpose, list_number, size, next_index, revision, created_at, updated_at"
    };
}

/// Rounds of "the newest list is full, open the next one" before giving up. Each lost round means that
/// another allocator opened a list, so this is only reached if something is badly wrong.
const MAX_LIST_OPENING_ROUNDS: usize = 64;

pub struct PostgresStore {
    pool: PgPool,
    options: StoreOptions,
}

impl PostgresStore {
    /// Connects to the database named by a `postgres://` URL and migrates it.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, StoreOptions::default()).await
    }

    /// [`PostgresStore::open`] with options.
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Self, StoreError> {
        let options = options.validate()?;
        let connect = PgConnectOptions::from_str(url).map_err(StoreError::Database)?;
        let pool = PgPoolOptions::new()
            .connect_with(connect)
            .await
            .map_err(StoreError::Database)?;
        MIGRATOR.run(&pool).await.map_err(StoreError::Migration)?;
        Ok(PostgresStore { pool, options })
    }

    async fn fetch_one_award(
        &self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<Option<Award>, StoreError> {
        query
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .as_ref()
            .map(award_from_row)
            .transpose()
    }
}

/// The one place where PostgreSQL errors are classified: unique violations become
/// `Conflict`, told apart by the constraint names of `migrations/postgres/0001_awards.sql`.
fn db_error(error: sqlx::Error) -> StoreError {
    if let Some(db) = error.as_database_error()
        && db.is_unique_violation()
    {
        let on = match db.constraint() {
            Some("awards_pkey") => ConflictOn::AwardId,
            Some("awards_credential_id_key") => ConflictOn::CredentialId,
            Some("awards_issuer_idempotency_key") => ConflictOn::IdempotencyKey,
            Some("awards_status_slot") => ConflictOn::StatusSlot,
            Some(other) => ConflictOn::Other(other.to_owned()),
            None => ConflictOn::Other(db.message().to_owned()),
        };
        return StoreError::Conflict(on);
    }
    StoreError::Database(error)
}

fn column<'r, T>(row: &'r PgRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

fn optional_u32_column(row: &PgRow, name: &str) -> Result<Option<u32>, StoreError> {
    column::<Option<i32>>(row, name)?
        .map(|value| stored_u32(name, i64::from(value)))
        .transpose()
}

fn u32_column(row: &PgRow, name: &str) -> Result<u32, StoreError> {
    stored_u32(name, i64::from(column::<i32>(row, name)?))
}

/// Binds a list number, index or size to an `INTEGER` parameter.
fn int4(value: u32) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} does not fit INTEGER")))
}

fn award_from_row(row: &PgRow) -> Result<Award, StoreError> {
    let id: String = column(row, "id")?;
    Ok(Award {
        id: Uuid::parse_str(&id)
            .map_err(|e| StoreError::Corrupt(format!("award id {id:?}: {e}")))?,
        issuer_slug: column(row, "issuer_slug")?,
        badge_class_slug: column(row, "badge_class_slug")?,
        badge_class_digest: column(row, "badge_class_digest")?,
        recipient_identity: column(row, "recipient_identity")?,
        recipient_salt: column(row, "recipient_salt")?,
        recipient_name: column(row, "recipient_name")?,
        credential_id: column(row, "credential_id")?,
        credential_json: column(row, "credential_json")?,
        credential_jwt: column(row, "credential_jwt")?,
        rsa_kid: column(row, "rsa_kid")?,
        status_list: optional_u32_column(row, "status_list")?,
        status_index: optional_u32_column(row, "status_index")?,
        assertion_json: column(row, "assertion_json")?,
        assertion_jws: column(row, "assertion_jws")?,
        valid_from: column::<DateTime<Utc>>(row, "valid_from")?,
        valid_until: column::<Option<DateTime<Utc>>>(row, "valid_until")?,
        issued_by: column(row, "issued_by")?,
        idempotency_key: column(row, "idempotency_key")?,
        created_at: column::<DateTime<Utc>>(row, "created_at")?,
        revoked_at: column::<Option<DateTime<Utc>>>(row, "revoked_at")?,
        revocation_reason: column(row, "revocation_reason")?,
    })
}

fn status_list_from_row(row: &PgRow) -> Result<StatusListInfo, StoreError> {
    let revision: i64 = column(row, "revision")?;
    Ok(StatusListInfo {
        issuer_slug: column(row, "issuer_slug")?,
        purpose: stored_purpose(&column::<String>(row, "purpose")?)?,
        list: u32_column(row, "list_number")?,
        size: u32_column(row, "size")?,
        allocated: u32_column(row, "next_index")?,
        revision: u64::try_from(revision)
            .map_err(|_| StoreError::Corrupt(format!("negative revision {revision}")))?,
        created_at: column::<DateTime<Utc>>(row, "created_at")?,
        updated_at: column::<DateTime<Utc>>(row, "updated_at")?,
    })
}

fn revoked_from_row(row: &PgRow) -> Result<RevokedAward, StoreError> {
    let id: String = column(row, "id")?;
    Ok(RevokedAward {
        id: Uuid::parse_str(&id)
            .map_err(|e| StoreError::Corrupt(format!("award id {id:?}: {e}")))?,
        credential_id: column(row, "credential_id")?,
        revoked_at: column::<DateTime<Utc>>(row, "revoked_at")?,
        reason: column(row, "revocation_reason")?,
    })
}

/// Inserts an award and its `issued` event inside the caller's transaction.
async fn insert_award_in(tx: &mut sqlx::PgConnection, new: &NewAward) -> Result<Award, StoreError> {
    let award = Award::from_new(new, Utc::now());
    check_slot_allocated(tx, &award).await?;
    sqlx::query(concat!(
        "INSERT INTO awards (id, issuer_slug, badge_class_slug, badge_class_digest, \
         recipient_identity, recipient_salt, recipient_name, credential_id, credential_json, \
         credential_jwt, status_list, status_index, assertion_json, assertion_jws, \
         valid_from, valid_until, issued_by, idempotency_key, created_at, \
         revoked_at, revocation_reason, rsa_kid) ",
        "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21, $22)"
    ))
    .bind(award.id.to_string())
    .bind(&award.issuer_slug)
    .bind(&award.badge_class_slug)
    .bind(&award.badge_class_digest)
    .bind(&award.recipient_identity)
    .bind(&award.recipient_salt)
    .bind(&award.recipient_name)
    .bind(&award.credential_id)
    .bind(&award.credential_json)
    .bind(&award.credential_jwt)
    .bind(award.status_list.map(int4).transpose()?)
    .bind(award.status_index.map(int4).transpose()?)
    .bind(&award.assertion_json)
    .bind(&award.assertion_jws)
    .bind(award.valid_from)
    .bind(award.valid_until)
    .bind(&award.issued_by)
    .bind(&award.idempotency_key)
    .bind(award.created_at)
    .bind(award.revoked_at)
    .bind(&award.revocation_reason)
    .bind(&award.rsa_kid)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    sqlx::query(
        "INSERT INTO award_events (award_id, kind, actor, at, detail) \
         VALUES ($1::uuid, $2, $3, $4, $5)",
    )
    .bind(award.id.to_string())
    .bind(AwardEventKind::Issued.as_str())
    .bind(&award.issued_by)
    .bind(award.created_at)
    .bind(issued_event_detail(new))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    Ok(award)
}

/// Refuses a slot that the issuer's revocation lists never handed out (inside the insert transaction).
/// `next_index` only grows, so a slot found allocated here stays allocated.
async fn check_slot_allocated(
    tx: &mut sqlx::PgConnection,
    award: &Award,
) -> Result<(), StoreError> {
    let (Some(list), Some(index)) = (award.status_list, award.status_index) else {
        return Ok(());
    };
    let next: Option<i32> = sqlx::query_scalar(
        "SELECT next_index FROM status_lists \
         WHERE issuer_slug = $1 AND purpose = $2 AND list_number = $3",
    )
    .bind(&award.issuer_slug)
    .bind(StatusPurpose::Revocation.as_str())
    .bind(int4(list)?)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    match next {
        Some(next) if i64::from(index) < i64::from(next) => Ok(()),
        _ => Err(StoreError::UnallocatedStatusSlot(StatusSlot {
            list,
            index,
        })),
    }
}

fn slot_from_row(row: &PgRow) -> Result<StatusSlot, StoreError> {
    Ok(StatusSlot {
        list: u32_column(row, "list_number")?,
        index: u32_column(row, "slot_index")?,
    })
}

fn event_from_row(row: &PgRow) -> Result<AwardEvent, StoreError> {
    Ok(AwardEvent {
        kind: AwardEventKind::parse(&column::<String>(row, "kind")?)?,
        actor: column(row, "actor")?,
        at: column::<DateTime<Utc>>(row, "at")?,
        detail: parse_event_detail(&column::<String>(row, "detail")?)?,
    })
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn insert_award(&self, new: &NewAward) -> Result<Award, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let award = insert_award_in(&mut tx, new).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(award)
    }

    async fn insert_awards(&self, awards: &[NewAward]) -> Result<Vec<Option<Award>>, StoreError> {
        awards_batch::insert_awards(&self.pool, awards).await
    }

    async fn allocate_status_indices(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
        n: u32,
    ) -> Result<Vec<StatusSlot>, StoreError> {
        let mut slots = Vec::with_capacity(n as usize);
        while slots.len() < n as usize {
            let need = i64::from(n) - slots.len() as i64;
            // The newest list, locked until the commit: allocators queue on it.
            let mut tx = self.pool.begin().await.map_err(db_error)?;
            let newest: Option<(i32, i32, i32)> = sqlx::query_as(
                "SELECT list_number, size, next_index FROM status_lists \
                 WHERE issuer_slug = $1 AND purpose = $2 \
                 ORDER BY list_number DESC LIMIT 1 FOR UPDATE",
            )
            .bind(issuer_slug)
            .bind(purpose.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
            match newest {
                Some((list, size, next)) if next < size => {
                    let taken = need.min(i64::from(size - next));
                    sqlx::query(
                        "UPDATE status_lists SET next_index = next_index + $4 \
                         WHERE issuer_slug = $1 AND purpose = $2 AND list_number = $3",
                    )
                    .bind(issuer_slug)
                    .bind(purpose.as_str())
                    .bind(list)
                    .bind(taken as i32)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                    tx.commit().await.map_err(db_error)?;
                    let list = stored_u32("list_number", i64::from(list))?;
                    let first = stored_u32("next_index", i64::from(next))?;
                    slots.extend(
                        (first..first + taken as u32).map(|index| StatusSlot { list, index }),
                    );
                }
                _ => {
                    // No list or the newest is full: the one-by-one allocation opens the next
                    // list (and copes with a concurrent opener).
                    drop(tx);
                    slots.push(self.allocate_status_index(issuer_slug, purpose).await?);
                }
            }
        }
        Ok(slots)
    }

    async fn get_award(&self, id: Uuid) -> Result<Option<Award>, StoreError> {
        self.fetch_one_award(
            sqlx::query(concat!(
                "SELECT ",
                award_columns!(),
                " FROM awards WHERE id = $1::uuid"
            ))
            .bind(id.to_string()),
        )
        .await
    }

    async fn get_award_by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<Award>, StoreError> {
        self.fetch_one_award(
            sqlx::query(concat!(
                "SELECT ",
                award_columns!(),
                " FROM awards WHERE credential_id = $1"
            ))
            .bind(credential_id.to_owned()),
        )
        .await
    }

    async fn find_by_idempotency_key(
        &self,
        issuer_slug: &str,
        key: &str,
    ) -> Result<Option<Award>, StoreError> {
        self.fetch_one_award(
            sqlx::query(concat!(
                "SELECT ",
                award_columns!(),
                " FROM awards WHERE issuer_slug = $1 AND idempotency_key = $2"
            ))
            .bind(issuer_slug.to_owned())
            .bind(key.to_owned()),
        )
        .await
    }

    async fn list_awards(
        &self,
        issuer_slug: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Award>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            award_columns!(),
            " FROM awards WHERE issuer_slug = $1 ORDER BY created_at DESC, id DESC \
             LIMIT $2 OFFSET $3"
        ))
        .bind(issuer_slug)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(award_from_row).collect()
    }

    async fn count_awards(&self, issuer_slug: &str) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM awards WHERE issuer_slug = $1")
            .bind(issuer_slug)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        u64::try_from(count).map_err(|_| StoreError::Corrupt(format!("negative count {count}")))
    }

    async fn award_events(&self, id: Uuid) -> Result<Vec<AwardEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, actor, at, detail FROM award_events \
             WHERE award_id = $1::uuid ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn allocate_status_index(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
    ) -> Result<StatusSlot, StoreError> {
        let size = int4(self.options.status_list_size)?;
        for _ in 0..MAX_LIST_OPENING_ROUNDS {
            // One statement, so atomic: concurrent allocators queue on the row lock, and each
            // re-checks `next_index < size` on the row as the previous one left it.
            let taken = sqlx::query(
                "UPDATE status_lists SET next_index = next_index + 1 \
                 WHERE issuer_slug = $1 AND purpose = $2 AND next_index < size \
                   AND list_number = (SELECT max(list_number) FROM status_lists \
                                      WHERE issuer_slug = $1 AND purpose = $2) \
                 RETURNING list_number, next_index - 1 AS slot_index",
            )
            .bind(issuer_slug)
            .bind(purpose.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
            if let Some(row) = taken {
                return slot_from_row(&row);
            }
            // No list yet, or the newest is full: open the next one and take its index 0. If
            // another allocator opened it first (committed: the newest list has room again; or
            // not yet: the insert waits for it, then conflicts), nothing is inserted and the loop
            // takes a slot from the list the other one opened.
            let now = to_micros(Utc::now());
            let opened = sqlx::query(
                "WITH newest AS (SELECT list_number, size, next_index FROM status_lists \
                                 WHERE issuer_slug = $1 AND purpose = $2 \
                                 ORDER BY list_number DESC LIMIT 1) \
                 INSERT INTO status_lists \
                 (issuer_slug, purpose, list_number, size, next_index, revision, created_at, \
                  updated_at) \
                 SELECT $1, $2, COALESCE((SELECT list_number + 1 FROM newest), 0), $3, 1, 0, \
                        $4, $4 \
                 WHERE NOT EXISTS (SELECT 1 FROM newest WHERE next_index < size) \
                 ON CONFLICT ON CONSTRAINT status_lists_pkey DO NOTHING \
                 RETURNING list_number, 0 AS slot_index",
            )
            .bind(issuer_slug)
            .bind(purpose.as_str())
            .bind(size)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
            if let Some(row) = opened {
                return slot_from_row(&row);
            }
        }
        Err(StoreError::Conflict(ConflictOn::Other(format!(
            "status list allocation for {issuer_slug} lost {MAX_LIST_OPENING_ROUNDS} races in a row"
        ))))
    }

    async fn status_list(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
        list: u32,
    ) -> Result<Option<StatusListInfo>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            status_list_columns!(),
            " FROM status_lists WHERE issuer_slug = $1 AND purpose = $2 AND list_number = $3"
        ))
        .bind(issuer_slug)
        .bind(purpose.as_str())
        .bind(int4(list)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .as_ref()
        .map(status_list_from_row)
        .transpose()
    }

    async fn revoke_award(&self, id: Uuid, reason: &str, actor: &str) -> Result<Award, StoreError> {
        let revoked_at = to_micros(Utc::now());
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // FOR UPDATE: a concurrent revocation of the same award waits here, then sees it revoked.
        let row = sqlx::query(concat!(
            "SELECT ",
            award_columns!(),
            " FROM awards WHERE id = $1::uuid FOR UPDATE"
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let mut award = match row {
            Some(row) => award_from_row(&row)?,
            None => return Err(StoreError::AwardNotFound(id)),
        };
        if let Some(revoked_at) = award.revoked_at {
            return Err(StoreError::AlreadyRevoked { id, revoked_at });
        }
        sqlx::query(
            "UPDATE awards SET revoked_at = $2, revocation_reason = $3 WHERE id = $1::uuid",
        )
        .bind(id.to_string())
        .bind(revoked_at)
        .bind(reason)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if let Some(list) = award.status_list {
            sqlx::query(
                "UPDATE status_lists SET revision = revision + 1, updated_at = $4 \
                 WHERE issuer_slug = $1 AND purpose = $2 AND list_number = $3",
            )
            .bind(&award.issuer_slug)
            .bind(StatusPurpose::Revocation.as_str())
            .bind(int4(list)?)
            .bind(revoked_at)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        sqlx::query(
            "INSERT INTO award_events (award_id, kind, actor, at, detail) \
             VALUES ($1::uuid, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(AwardEventKind::Revoked.as_str())
        .bind(actor)
        .bind(revoked_at)
        .bind(revoked_event_detail(&award, reason))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        award.revoked_at = Some(revoked_at);
        award.revocation_reason = Some(reason.to_owned());
        Ok(award)
    }

    async fn revoked_in_list(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
        list: u32,
    ) -> Result<Vec<u32>, StoreError> {
        if purpose != StatusPurpose::Revocation {
            return Ok(Vec::new());
        }
        let indexes: Vec<i32> = sqlx::query_scalar(
            "SELECT status_index FROM awards \
             WHERE issuer_slug = $1 AND status_list = $2 AND revoked_at IS NOT NULL \
             ORDER BY status_index",
        )
        .bind(issuer_slug)
        .bind(int4(list)?)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        indexes
            .into_iter()
            .map(|index| stored_u32("status_index", i64::from(index)))
            .collect()
    }

    async fn revoked_awards(&self, issuer_slug: &str) -> Result<Vec<RevokedAward>, StoreError> {
        let rows = sqlx::query(
            "SELECT id::text AS id, credential_id, revoked_at, revocation_reason FROM awards \
             WHERE issuer_slug = $1 AND revoked_at IS NOT NULL ORDER BY revoked_at, id",
        )
        .bind(issuer_slug)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(revoked_from_row).collect()
    }

    async fn save_badge_class_version(
        &self,
        issuer_slug: &str,
        badge_class_slug: &str,
        version: &str,
        document: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO badge_class_versions \
             (issuer_slug, badge_class_slug, version, document, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(issuer_slug)
        .bind(badge_class_slug)
        .bind(version)
        .bind(document)
        .bind(Utc::now())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn badge_class_version(
        &self,
        issuer_slug: &str,
        badge_class_slug: &str,
        version: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT document FROM badge_class_versions \
             WHERE issuer_slug = $1 AND badge_class_slug = $2 AND version = $3",
        )
        .bind(issuer_slug)
        .bind(badge_class_slug)
        .bind(version)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(|(d,)| d))
    }

    async fn save_referentiel(
        &self,
        issuer_slug: &str,
        referentiel: &Referentiel,
        imported_by: &str,
    ) -> Result<SavedReferentiel, StoreError> {
        referentiels::save_referentiel(&self.pool, issuer_slug, referentiel, imported_by).await
    }

    async fn get_referentiel(
        &self,
        issuer_slug: &str,
        id: &str,
        version: &str,
    ) -> Result<Option<StoredReferentiel>, StoreError> {
        referentiels::get_referentiel(&self.pool, issuer_slug, id, version).await
    }

    async fn list_referentiels(
        &self,
        issuer_slug: &str,
    ) -> Result<Vec<ReferentielSummary>, StoreError> {
        referentiels::list_referentiels(&self.pool, issuer_slug).await
    }

    async fn insert_carnet(&self, carnet: &NewCarnet) -> Result<Carnet, StoreError> {
        referentiels::insert_carnet(&self.pool, carnet).await
    }

    async fn get_carnet(&self, id: Uuid) -> Result<Option<Carnet>, StoreError> {
        referentiels::get_carnet(&self.pool, id).await
    }

    async fn person_carnets(
        &self,
        issuer_slug: &str,
        person_key: &str,
    ) -> Result<Vec<Carnet>, StoreError> {
        referentiels::person_carnets(&self.pool, issuer_slug, person_key).await
    }

    async fn save_carnet_entry(
        &self,
        id: Uuid,
        expected_revision: u64,
        entry: &CarnetEntry,
        actor: &str,
    ) -> Result<Carnet, StoreError> {
        referentiels::save_carnet_entry(&self.pool, id, expected_revision, entry, actor).await
    }

    async fn carnet_events(&self, id: Uuid) -> Result<Vec<CarnetEvent>, StoreError> {
        referentiels::carnet_events(&self.pool, id).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn create_bulk_job(
        &self,
        job: &super::NewBulkJob,
    ) -> Result<super::CreatedJob, StoreError> {
        jobs::create_bulk_job(&self.pool, job).await
    }

    async fn get_bulk_job(&self, id: Uuid) -> Result<Option<super::BulkJob>, StoreError> {
        jobs::get_bulk_job(&self.pool, id).await
    }

    async fn bulk_rows(&self, job: Uuid) -> Result<Vec<super::BulkRow>, StoreError> {
        jobs::bulk_rows(&self.pool, job).await
    }

    async fn pending_bulk_rows(
        &self,
        job: Uuid,
        after_line: u32,
        limit: u32,
    ) -> Result<Vec<super::PendingBulkRow>, StoreError> {
        jobs::pending_bulk_rows(&self.pool, job, after_line, limit).await
    }

    async fn finish_bulk_rows(
        &self,
        job: Uuid,
        rows: &[(u32, super::RowOutcome)],
    ) -> Result<super::MarkedRows, StoreError> {
        jobs::finish_bulk_rows(&self.pool, job, rows).await
    }

    async fn set_bulk_job_state(
        &self,
        job: Uuid,
        state: super::JobState,
        error: Option<&str>,
    ) -> Result<Option<super::BulkJob>, StoreError> {
        jobs::set_bulk_job_state(&self.pool, job, state, error).await
    }

    async fn unfinished_bulk_jobs(
        &self,
        issuer_slug: &str,
    ) -> Result<Vec<super::BulkJob>, StoreError> {
        jobs::unfinished_bulk_jobs(&self.pool, issuer_slug).await
    }

    async fn insert_badge_request(
        &self,
        request: &super::NewBadgeRequest,
    ) -> Result<super::BadgeRequest, StoreError> {
        requests::insert_badge_request(&self.pool, request).await
    }

    async fn get_badge_request(&self, id: Uuid) -> Result<Option<super::BadgeRequest>, StoreError> {
        requests::get_badge_request(&self.pool, id).await
    }

    async fn list_badge_requests(
        &self,
        issuer_slug: &str,
        state: Option<super::RequestState>,
    ) -> Result<Vec<super::BadgeRequest>, StoreError> {
        requests::list_badge_requests(&self.pool, issuer_slug, state).await
    }

    async fn transition_badge_request(
        &self,
        id: Uuid,
        transition: &super::RequestTransition<'_>,
    ) -> Result<super::BadgeRequest, StoreError> {
        requests::transition_badge_request(&self.pool, id, transition).await
    }

    async fn correct_badge_request_links(
        &self,
        id: Uuid,
        links: &[String],
        actor: &str,
        comment: Option<&str>,
    ) -> Result<super::BadgeRequest, StoreError> {
        requests::correct_badge_request_links(&self.pool, id, links, actor, comment).await
    }

    async fn badge_request_events(&self, id: Uuid) -> Result<Vec<super::RequestEvent>, StoreError> {
        requests::badge_request_events(&self.pool, id).await
    }

    async fn add_evidence(
        &self,
        evidence: &super::NewEvidence,
    ) -> Result<super::AddedEvidence, StoreError> {
        requests::add_evidence(&self.pool, evidence).await
    }

    async fn request_evidence(
        &self,
        request_id: Uuid,
    ) -> Result<Vec<super::EvidenceFile>, StoreError> {
        requests::request_evidence(&self.pool, request_id).await
    }

    async fn evidence_content(
        &self,
        id: Uuid,
    ) -> Result<Option<(super::EvidenceFile, Vec<u8>)>, StoreError> {
        requests::evidence_content(&self.pool, id).await
    }

    async fn create_evidence_share(
        &self,
        share: &super::NewEvidenceShare,
    ) -> Result<super::EvidenceShare, StoreError> {
        requests::create_evidence_share(&self.pool, share).await
    }

    async fn find_evidence_share(
        &self,
        evidence_id: Uuid,
        token_sha256: &str,
    ) -> Result<Option<super::EvidenceShare>, StoreError> {
        requests::find_evidence_share(&self.pool, evidence_id, token_sha256).await
    }

    async fn revoke_evidence_share(
        &self,
        evidence_id: Uuid,
        share_id: Uuid,
        actor: &str,
    ) -> Result<Option<super::EvidenceShare>, StoreError> {
        requests::revoke_evidence_share(&self.pool, evidence_id, share_id, actor).await
    }

    async fn list_awards_of_class(
        &self,
        issuer_slug: &str,
        badge_class_slug: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Award>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            award_columns!(),
            " FROM awards WHERE issuer_slug = $1 AND badge_class_slug = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(issuer_slug)
        .bind(badge_class_slug)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(award_from_row).collect()
    }

    async fn create_endorsement_invitation(
        &self,
        invitation: &super::NewInvitation,
    ) -> Result<super::Invitation, StoreError> {
        endorsements::create_invitation(&self.pool, invitation).await
    }

    async fn get_endorsement_invitation(
        &self,
        id: Uuid,
    ) -> Result<Option<super::Invitation>, StoreError> {
        endorsements::get_invitation(&self.pool, id).await
    }

    async fn find_endorsement_invitation(
        &self,
        token_sha256: &str,
    ) -> Result<Option<super::Invitation>, StoreError> {
        endorsements::find_invitation(&self.pool, token_sha256).await
    }

    async fn endorsement_invitations(
        &self,
        award_id: Uuid,
    ) -> Result<Vec<super::Invitation>, StoreError> {
        endorsements::invitations(&self.pool, award_id).await
    }

    async fn revoke_endorsement_invitation(
        &self,
        id: Uuid,
        actor: &str,
    ) -> Result<Option<super::Invitation>, StoreError> {
        endorsements::revoke_invitation(&self.pool, id, actor).await
    }

    async fn insert_endorsement(
        &self,
        endorsement: &super::NewEndorsement,
    ) -> Result<super::Endorsement, StoreError> {
        endorsements::insert_endorsement(&self.pool, endorsement).await
    }

    async fn get_endorsement(&self, id: Uuid) -> Result<Option<super::Endorsement>, StoreError> {
        endorsements::get_endorsement(&self.pool, id).await
    }

    async fn endorsement_by_endorser(
        &self,
        endorser_id: Uuid,
    ) -> Result<Option<super::Endorsement>, StoreError> {
        endorsements::endorsement_by_endorser(&self.pool, endorser_id).await
    }

    async fn award_endorsements(
        &self,
        award_id: Uuid,
    ) -> Result<Vec<super::Endorsement>, StoreError> {
        endorsements::award_endorsements(&self.pool, award_id).await
    }

    async fn reserve_request_award_id(
        &self,
        request_id: Uuid,
        candidate: Uuid,
    ) -> Result<Uuid, StoreError> {
        endorsements::reserve_award_id(&self.pool, request_id, candidate).await
    }

    async fn reserved_request_award_id(
        &self,
        request_id: Uuid,
    ) -> Result<Option<Uuid>, StoreError> {
        endorsements::reserved_award_id(&self.pool, request_id).await
    }

    async fn replace_award_documents(
        &self,
        id: Uuid,
        expected_credential_json: &str,
        documents: &super::AwardDocuments,
    ) -> Result<Option<Award>, StoreError> {
        if endorsements::replace_award_documents(
            &self.pool,
            id,
            expected_credential_json,
            documents,
        )
        .await?
        {
            self.get_award(id).await
        } else {
            Ok(None)
        }
    }

    async fn create_carnet_batch(
        &self,
        job: &super::NewCarnetBatch,
    ) -> Result<super::CreatedJob, StoreError> {
        jobs::create_carnet_batch(&self.pool, job).await
    }

    async fn set_signed_form(
        &self,
        award_id: Uuid,
        form: super::Rs256Form,
        compact: &str,
    ) -> Result<bool, StoreError> {
        let sql = match form {
            super::Rs256Form::VcJwt => {
                "UPDATE awards SET credential_jwt = $1 WHERE id = $2::uuid AND credential_jwt IS NULL"
            }
            super::Rs256Form::Ob2Jws => {
                "UPDATE awards SET assertion_jws = $1 WHERE id = $2::uuid AND assertion_jws IS NULL AND assertion_json IS NOT NULL"
            }
        };
        let done = sqlx::query(sql)
            .bind(compact)
            .bind(award_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn find_by_idempotency_keys(
        &self,
        issuer_slug: &str,
        keys: &[String],
    ) -> Result<Vec<Award>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            award_columns!(),
            " FROM awards WHERE issuer_slug = $1 AND idempotency_key = ANY($2)"
        ))
        .bind(issuer_slug)
        .bind(keys)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(award_from_row).collect()
    }
}
