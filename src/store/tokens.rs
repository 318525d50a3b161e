//! API tokens created per institution (migration 0014): only the SHA-256 of a token is kept
//! (the token itself is shown once, by `carnet tokens create`); a revoked token opens nothing;
//! its last use is kept to the minute.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::db::{self, Row};
use super::{Store, StoreError, to_micros};

/// A token as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    pub id: Uuid,
    pub issuer_slug: String,
    pub name: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

/// What `create_api_token` records.
#[derive(Debug, Clone)]
pub struct NewApiToken<'a> {
    pub issuer_slug: &'a str,
    pub name: &'a str,
    /// The SHA-256 (hex) of the token, given once to its holder.
    pub token_sha256: &'a str,
    pub created_by: &'a str,
}

const COLUMNS: &str =
    "id, issuer_slug, name, created_by, created_at, last_used_at, revoked_at, revoked_by";

/// A use within this long of the last one recorded is not written again.
const USE_PRECISION: TimeDelta = TimeDelta::minutes(1);

fn token_from_row(row: &Row) -> Result<ApiTokenRecord, StoreError> {
    Ok(ApiTokenRecord {
        id: row.id("id")?,
        issuer_slug: row.text("issuer_slug")?,
        name: row.text("name")?,
        created_by: row.text("created_by")?,
        created_at: row.time("created_at")?,
        last_used_at: row.opt_time("last_used_at")?,
        revoked_at: row.opt_time("revoked_at")?,
        revoked_by: row.opt_text("revoked_by")?,
    })
}

impl Store {
    pub async fn create_api_token(
        &self,
        new: &NewApiToken<'_>,
    ) -> Result<ApiTokenRecord, StoreError> {
        db::query(format!(
            "INSERT INTO api_tokens (id, issuer_slug, name, token_sha256, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
        ))
        .bind(Uuid::new_v4())
        .bind(new.issuer_slug)
        .bind(new.name)
        .bind(new.token_sha256)
        .bind(new.created_by)
        .bind(to_micros(Utc::now()))
        .fetch_one_with(&self.db, token_from_row)
        .await
    }

    /// The token with this SHA-256 while it is not revoked; its use at `now` is recorded (at
    /// most once a minute, so that a busy client does not write on every call).
    pub async fn use_api_token(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiTokenRecord>, StoreError> {
        let found = db::query(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL"
        ))
        .bind(token_sha256)
        .fetch_optional_with(&self.db, token_from_row)
        .await?;
        if let Some(token) = &found
            && token.last_used_at.is_none_or(|at| at + USE_PRECISION < now)
        {
            db::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(token.id)
                .bind(to_micros(now))
                .execute(&self.db)
                .await?;
        }
        Ok(found)
    }

    /// An institution's tokens, oldest first, revoked ones included.
    pub async fn list_api_tokens(
        &self,
        issuer_slug: &str,
    ) -> Result<Vec<ApiTokenRecord>, StoreError> {
        db::query(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE issuer_slug = $1 ORDER BY created_at, id"
        ))
        .bind(issuer_slug)
        .fetch_all_with(&self.db, token_from_row)
        .await
    }

    /// Revokes one of the institution's tokens; `None` when it has no such token. Revoking
    /// again keeps the first who and when.
    pub async fn revoke_api_token(
        &self,
        issuer_slug: &str,
        id: Uuid,
        by: &str,
    ) -> Result<Option<ApiTokenRecord>, StoreError> {
        db::query(
            "UPDATE api_tokens SET revoked_at = $3, revoked_by = $4 \
             WHERE id = $1 AND issuer_slug = $2 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(issuer_slug)
        .bind(to_micros(Utc::now()))
        .bind(by)
        .execute(&self.db)
        .await?;
        db::query(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE id = $1 AND issuer_slug = $2"
        ))
        .bind(id)
        .bind(issuer_slug)
        .fetch_optional_with(&self.db, token_from_row)
        .await
    }
}
