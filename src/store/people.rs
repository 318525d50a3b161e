//! People (migration 0017): a record per person and institution, known by the salted identity
//! carnets use (`referentiel::carnet::person_key`, never an email), linking that person's awards,
//! carnets and badge requests. Awards and requests made before have no person key: they are
//! linked when the person's email is given again ([`Store::link_earlier`]), by recomputing each
//! one's salted hash — carnet keeps no email to link them otherwise.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::db::{self, Row, Tx};
use super::{Award, Store, StoreError, to_micros};

/// What a person record links, in one institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub person_key: String,
    pub created_at: DateTime<Utc>,
    /// Oldest first.
    pub awards: Vec<Award>,
    pub carnets: Vec<Uuid>,
    pub requests: Vec<Uuid>,
}

/// Records these (institution, person, first seen) people, the known ones left as they are.
pub(super) async fn insert_people(
    tx: &mut Tx,
    people: &[(&str, &str, DateTime<Utc>)],
) -> Result<(), StoreError> {
    if people.is_empty() {
        return Ok(());
    }
    let mut insert = db::query(format!(
        "INSERT INTO people (issuer_slug, person_key, created_at) VALUES {} \
         ON CONFLICT DO NOTHING",
        db::values(people.len(), 3)
    ));
    for (issuer, key, at) in people {
        insert = insert.bind(*issuer).bind(*key).bind(to_micros(*at));
    }
    insert.execute(tx).await?;
    Ok(())
}

fn ids(rows: &[Row]) -> Result<Vec<Uuid>, StoreError> {
    rows.iter().map(|r| r.id("id")).collect()
}

impl Store {
    /// Whether the awards and requests made before people were recorded were already looked
    /// for this person ([`Store::link_earlier`]): false for a person not met yet, and for the
    /// people migration 0017 found in carnets.
    pub async fn person_known(
        &self,
        issuer_slug: &str,
        person_key: &str,
    ) -> Result<bool, StoreError> {
        Ok(db::query(
            "SELECT 1 AS known FROM people \
                 WHERE issuer_slug = $1 AND person_key = $2 AND linked_at IS NOT NULL",
        )
        .bind(issuer_slug)
        .bind(person_key)
        .fetch_optional(&self.db)
        .await?
        .is_some())
    }

    /// The person `person_key` of `issuer_slug` and what it links; `None` when unknown.
    pub async fn person(
        &self,
        issuer_slug: &str,
        person_key: &str,
    ) -> Result<Option<Person>, StoreError> {
        let Some(row) =
            db::query("SELECT created_at FROM people WHERE issuer_slug = $1 AND person_key = $2")
                .bind(issuer_slug)
                .bind(person_key)
                .fetch_optional(&self.db)
                .await?
        else {
            return Ok(None);
        };
        let awards = db::query(format!(
            "SELECT {} FROM awards WHERE issuer_slug = $1 AND person_key = $2 \
             ORDER BY created_at, id",
            super::awards::AWARD_COLUMNS
        ))
        .bind(issuer_slug)
        .bind(person_key)
        .fetch_all_with(&self.db, super::awards::award_from_row)
        .await?;
        let linked = |table: &str| {
            db::query(format!(
                "SELECT id FROM {table} WHERE issuer_slug = $1 AND person_key = $2 \
                 ORDER BY created_at, id"
            ))
            .bind(issuer_slug)
            .bind(person_key)
        };
        Ok(Some(Person {
            person_key: person_key.to_owned(),
            created_at: row.time("created_at")?,
            awards,
            carnets: ids(&linked("carnets").fetch_all(&self.db).await?)?,
            requests: ids(&linked("badge_requests").fetch_all(&self.db).await?)?,
        }))
    }

    /// Links to `person_key` the institution's awards and requests made before people were
    /// recorded whose salted hash `is_theirs` (the email given again, hashed with each one's
    /// salt). Returns how many it linked; the person is recorded, with when this was done.
    pub async fn link_earlier(
        &self,
        issuer_slug: &str,
        person_key: &str,
        is_theirs: impl Fn(&str, &str) -> bool,
    ) -> Result<usize, StoreError> {
        let mut linked = 0;
        let mut tx = self.db.begin().await?;
        for table in ["awards", "badge_requests"] {
            let unlinked = db::query(format!(
                "SELECT id, recipient_identity, recipient_salt FROM {table} \
                 WHERE issuer_slug = $1 AND person_key IS NULL"
            ))
            .bind(issuer_slug)
            .fetch_all(&mut tx)
            .await?;
            let mut theirs = Vec::new();
            for row in &unlinked {
                if is_theirs(
                    &row.text("recipient_identity")?,
                    &row.text("recipient_salt")?,
                ) {
                    theirs.push(row.id("id")?);
                }
            }
            for chunk in theirs.chunks(500) {
                db::query(format!(
                    "UPDATE {table} SET person_key = $1 WHERE issuer_slug = $2 AND id IN ({})",
                    db::in_list(3, chunk.len())
                ))
                .bind(person_key)
                .bind(issuer_slug)
                .bind_all(chunk.iter().copied())
                .execute(&mut tx)
                .await?;
            }
            linked += theirs.len();
        }
        // a person met for the first time, or already recorded, is marked as looked for; one
        // the institution knows nothing of stays unknown
        let now = to_micros(Utc::now());
        let upsert = if linked > 0 {
            "INSERT INTO people (issuer_slug, person_key, created_at, linked_at) \
             VALUES ($1, $2, $3, $3) ON CONFLICT (issuer_slug, person_key) \
             DO UPDATE SET linked_at = $3"
        } else {
            "UPDATE people SET linked_at = $3 WHERE issuer_slug = $1 AND person_key = $2"
        };
        db::query(upsert)
            .bind(issuer_slug)
            .bind(person_key)
            .bind(now)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(linked)
    }
}
