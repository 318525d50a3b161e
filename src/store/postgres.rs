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
    Award, AwardEvent, AwardEventKind, ConflictOn, NewAward, Store, StoreError,
    issued_event_detail, parse_event_detail,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The columns of `awards`, in the order `award_from_row` reads them.
macro_rules! award_columns {
    () => {
        "id::text AS id, issuer_slug, badge_class_slug, badge_class_digest, recipient_identity, \
         recipient_salt, recipient_name, credential_id, credential_json, credential_jwt, \
         valid_from, valid_until, issued_by, idempotency_key, created_at, revoked_at, \
         revocation_reason"
    };
}

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database named by a `postgres://` URL and migrates it.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(StoreError::Database)?;
        let pool = PgPoolOptions::new()
            .connect_with(options)
            .await
            .map_err(StoreError::Database)?;
        MIGRATOR.run(&pool).await.map_err(StoreError::Migration)?;
        Ok(PostgresStore { pool })
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
        valid_from: column::<DateTime<Utc>>(row, "valid_from")?,
        valid_until: column::<Option<DateTime<Utc>>>(row, "valid_until")?,
        issued_by: column(row, "issued_by")?,
        idempotency_key: column(row, "idempotency_key")?,
        created_at: column::<DateTime<Utc>>(row, "created_at")?,
        revoked_at: column::<Option<DateTime<Utc>>>(row, "revoked_at")?,
        revocation_reason: column(row, "revocation_reason")?,
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
        let award = Award::from_new(new, Utc::now());
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query(concat!(
            "INSERT INTO awards (id, issuer_slug, badge_class_slug, badge_class_digest, \
             recipient_identity, recipient_salt, recipient_name, credential_id, credential_json, \
             credential_jwt, valid_from, valid_until, issued_by, idempotency_key, created_at, \
             revoked_at, revocation_reason) ",
            "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             $16, $17)"
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
        .bind(award.valid_from)
        .bind(award.valid_until)
        .bind(&award.issued_by)
        .bind(&award.idempotency_key)
        .bind(award.created_at)
        .bind(award.revoked_at)
        .bind(&award.revocation_reason)
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
        tx.commit().await.map_err(db_error)?;
        Ok(award)
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
}
