//! Institutions as data (migration 0016): each is an issuer with its own signing keys (sealed
//! under the instance key: the store never sees a private key in clear) and its badge classes
//! (their TOML file and PNG image). Every change bumps the institution's `revision`, which is
//! how every node learns that what it holds in memory is stale.

use chrono::{DateTime, Utc};

use super::db::{self, Row, Tx};
use super::{Store, StoreError, to_micros};

text_enum! {
    /// Where an institution's documents answer.
    pub enum InstitutionUrls ("institution URLs") {
        /// At the instance's own paths (`/badge-classes/…`, `/ob2/…`, `/credentials/…`): the
        /// institution made from `CARNET_ISSUER_*`, whose badges were issued before institutions
        /// were data.
        Instance = "instance",
        /// Under `/issuers/{slug}/…`.
        Scoped = "scoped",
    }
}

/// What an institution says about itself (its Profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstitutionFields {
    pub name: String,
    pub url: Option<String>,
    pub email: Option<String>,
    pub description: Option<String>,
    /// The logo: an https URL or a `data:` URI.
    pub image: Option<String>,
    /// `fr` or `en`.
    pub language: String,
}

/// An institution as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institution {
    pub slug: String,
    pub fields: InstitutionFields,
    pub urls: InstitutionUrls,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One signing key as stored: its private part sealed (`crate::keys::sealed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    /// `ed25519` or `rsa`.
    pub alg: String,
    pub active: bool,
    pub sealed: String,
    pub created_at: DateTime<Utc>,
}

/// A badge class as stored: its file and image, as an educator wrote and drew them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBadgeClass {
    pub slug: String,
    /// The TOML file (docs/BADGE-CLASSES.md).
    pub file: String,
    pub image_name: String,
    pub image: Vec<u8>,
    /// `sha256:` of file and image.
    pub digest: String,
    pub revision: i64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

const COLUMNS: &str =
    "slug, name, url, email, description, image, language, urls, revision, created_at, updated_at";
const KEY_COLUMNS: &str = "kid, alg, status, sealed, created_at";
const CLASS_COLUMNS: &str =
    "slug, file, image_name, image, digest, revision, updated_at, updated_by";

fn institution_from_row(row: &Row) -> Result<Institution, StoreError> {
    Ok(Institution {
        slug: row.text("slug")?,
        fields: InstitutionFields {
            name: row.text("name")?,
            url: row.opt_text("url")?,
            email: row.opt_text("email")?,
            description: row.opt_text("description")?,
            image: row.opt_text("image")?,
            language: row.text("language")?,
        },
        urls: InstitutionUrls::from_name(&row.text("urls")?).unwrap_or(InstitutionUrls::Scoped),
        revision: row.int("revision")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

fn key_from_row(row: &Row) -> Result<StoredKey, StoreError> {
    Ok(StoredKey {
        kid: row.text("kid")?,
        alg: row.text("alg")?,
        active: row.text("status")? == "active",
        sealed: row.text("sealed")?,
        created_at: row.time("created_at")?,
    })
}

fn class_from_row(row: &Row) -> Result<StoredBadgeClass, StoreError> {
    Ok(StoredBadgeClass {
        slug: row.text("slug")?,
        file: row.text("file")?,
        image_name: row.text("image_name")?,
        image: row.bytes("image")?,
        digest: row.text("digest")?,
        revision: row.int("revision")?,
        updated_at: row.time("updated_at")?,
        updated_by: row.text("updated_by")?,
    })
}

async fn insert_keys(tx: &mut Tx, slug: &str, keys: &[StoredKey]) -> Result<(), StoreError> {
    for key in keys {
        db::query(
            "INSERT INTO institution_keys (issuer_slug, kid, alg, status, sealed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(slug)
        .bind(&key.kid)
        .bind(&key.alg)
        .bind(if key.active { "active" } else { "retired" })
        .bind(&key.sealed)
        .bind(to_micros(key.created_at))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Bumps the institution's revision (every node reloads it); `false` when there is none.
async fn bump(tx: &mut Tx, slug: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed = db::query(
        "UPDATE institutions SET revision = revision + 1, updated_at = $2 WHERE slug = $1",
    )
    .bind(slug)
    .bind(to_micros(now))
    .execute(&mut *tx)
    .await?;
    Ok(changed > 0)
}

impl Store {
    /// Creates an institution with its first keys, in one transaction: an institution never
    /// exists without keys. A slug already taken is a conflict (`institutions_pkey`).
    pub async fn create_institution(
        &self,
        slug: &str,
        fields: &InstitutionFields,
        urls: InstitutionUrls,
        keys: &[StoredKey],
    ) -> Result<Institution, StoreError> {
        let now = to_micros(Utc::now());
        let mut tx = self.db.begin().await?;
        let row = db::query(format!(
            "INSERT INTO institutions \
             (slug, name, url, email, description, image, language, urls, revision, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9) RETURNING {COLUMNS}"
        ))
        .bind(slug)
        .bind(&fields.name)
        .bind(&fields.url)
        .bind(&fields.email)
        .bind(&fields.description)
        .bind(&fields.image)
        .bind(&fields.language)
        .bind(urls.as_str())
        .bind(now)
        .fetch_one(&mut tx)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(super::ConflictOn::Other(c)) if c == "institutions_pkey" => {
                StoreError::InstitutionExists(slug.to_owned())
            }
            other => other,
        })?;
        insert_keys(&mut tx, slug, keys).await?;
        tx.commit().await?;
        institution_from_row(&row)
    }

    pub async fn institution(&self, slug: &str) -> Result<Option<Institution>, StoreError> {
        db::query(format!(
            "SELECT {COLUMNS} FROM institutions WHERE slug = $1"
        ))
        .bind(slug)
        .fetch_optional_with(&self.db, institution_from_row)
        .await
    }

    /// Every institution of the instance, oldest first.
    pub async fn institutions(&self) -> Result<Vec<Institution>, StoreError> {
        db::query(format!(
            "SELECT {COLUMNS} FROM institutions ORDER BY created_at, slug"
        ))
        .fetch_all_with(&self.db, institution_from_row)
        .await
    }

    /// The revision of one institution, cheap enough to ask on every use of a cached copy.
    pub async fn institution_revision(&self, slug: &str) -> Result<Option<i64>, StoreError> {
        db::query("SELECT revision FROM institutions WHERE slug = $1")
            .bind(slug)
            .fetch_optional_with(&self.db, |row| row.int("revision"))
            .await
    }

    /// Changes what an institution says about itself; `None` when there is no such
    /// institution. The slug and where its documents answer never change.
    pub async fn update_institution(
        &self,
        slug: &str,
        fields: &InstitutionFields,
    ) -> Result<Option<Institution>, StoreError> {
        db::query(format!(
            "UPDATE institutions SET name = $2, url = $3, email = $4, description = $5, \
             image = $6, language = $7, revision = revision + 1, updated_at = $8 \
             WHERE slug = $1 RETURNING {COLUMNS}"
        ))
        .bind(slug)
        .bind(&fields.name)
        .bind(&fields.url)
        .bind(&fields.email)
        .bind(&fields.description)
        .bind(&fields.image)
        .bind(&fields.language)
        .bind(to_micros(Utc::now()))
        .fetch_optional_with(&self.db, institution_from_row)
        .await
    }

    /// An institution's keys, oldest first (active and retired).
    pub async fn institution_keys(&self, slug: &str) -> Result<Vec<StoredKey>, StoreError> {
        db::query(format!(
            "SELECT {KEY_COLUMNS} FROM institution_keys WHERE issuer_slug = $1 \
             ORDER BY created_at, kid"
        ))
        .bind(slug)
        .fetch_all_with(&self.db, key_from_row)
        .await
    }

    /// Adds keys (a rotation, or the import of key files): the active keys of the same
    /// algorithms are retired, in the same transaction. `false` when there is no such
    /// institution.
    pub async fn add_institution_keys(
        &self,
        slug: &str,
        keys: &[StoredKey],
    ) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await?;
        if !bump(&mut tx, slug, Utc::now()).await? {
            return Ok(false);
        }
        for key in keys.iter().filter(|k| k.active) {
            db::query(
                "UPDATE institution_keys SET status = 'retired' \
                 WHERE issuer_slug = $1 AND alg = $2 AND status = 'active'",
            )
            .bind(slug)
            .bind(&key.alg)
            .execute(&mut tx)
            .await?;
        }
        insert_keys(&mut tx, slug, keys).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// An institution's badge classes, by slug.
    pub async fn badge_classes(&self, slug: &str) -> Result<Vec<StoredBadgeClass>, StoreError> {
        db::query(format!(
            "SELECT {CLASS_COLUMNS} FROM badge_classes WHERE issuer_slug = $1 ORDER BY slug"
        ))
        .bind(slug)
        .fetch_all_with(&self.db, class_from_row)
        .await
    }

    /// Creates or replaces a badge class. The same digest changes nothing (`false`); another
    /// one replaces it and bumps the institution's revision. `StoreError::NotFound` when the
    /// institution does not exist.
    pub async fn put_badge_class(
        &self,
        institution: &str,
        class: &StoredBadgeClass,
    ) -> Result<bool, StoreError> {
        let now = to_micros(Utc::now());
        let mut tx = self.db.begin().await?;
        let current = db::query(
            "SELECT digest FROM badge_classes WHERE issuer_slug = $1 AND slug = $2 FOR UPDATE",
        )
        .bind(institution)
        .bind(&class.slug)
        .fetch_optional_with(&mut tx, |row| row.text("digest"))
        .await?;
        if current.as_deref() == Some(class.digest.as_str()) {
            return Ok(false);
        }
        if !bump(&mut tx, institution, now).await? {
            return Err(StoreError::InstitutionNotFound(institution.to_owned()));
        }
        let sql = if current.is_some() {
            "UPDATE badge_classes SET file = $3, image_name = $4, image = $5, digest = $6, \
             revision = revision + 1, updated_at = $7, updated_by = $8 \
             WHERE issuer_slug = $1 AND slug = $2"
        } else {
            "INSERT INTO badge_classes \
             (issuer_slug, slug, file, image_name, image, digest, revision, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)"
        };
        db::query(sql)
            .bind(institution)
            .bind(&class.slug)
            .bind(&class.file)
            .bind(&class.image_name)
            .bind(class.image.as_slice())
            .bind(&class.digest)
            .bind(now)
            .bind(&class.updated_by)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
