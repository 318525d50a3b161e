//! Référentiels and carnets (migration `0004_referentiels.sql`), written once for both backends.
//!
//! A carnet is read with its entries in ONE statement (a join), so that its revision and its
//! entries are always of the same moment, without a transaction. An edit's
//! `UPDATE … WHERE revision = $n` locks the carnet row (PostgreSQL) or runs under the write
//! lock (SQLite), so a concurrent edit waits, then finds the revision changed.
//!
//! The entry date is a `DATE` on PostgreSQL and `YYYY-MM-DD` text on SQLite: it is bound as
//! that text through `date($n)` (a cast on PostgreSQL, the identity on SQLite) and read back
//! as `CAST(entry_date AS TEXT)` (sqlx sets `DateStyle` to ISO, so PostgreSQL writes the
//! same text).

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use super::{
    Carnet, CarnetEntryRecord, CarnetEvent, CarnetEventKind, NewCarnet, ReferentielSummary,
    SavedReferentiel, StoredReferentiel, entry_saved_detail, imported_event_detail,
    referentiel_from_document,
};
use crate::referentiel::Referentiel;
use crate::referentiel::carnet::{Answer, CarnetEntry, JuryMember, Modality, Person, Recognition};
use crate::store::db::{self, On, Row, Tx};
use crate::store::{ConflictOn, Store, StoreError, parse_event_detail, to_micros};

/// How an entry date is written as text, on both backends.
const DATE_FORMAT: &str = "%Y-%m-%d";

/// A carnet's columns, `c` aliased.
const CARNET_COLUMNS: &str = "c.id, c.issuer_slug, c.person_key, c.recipient_identity, \
     c.recipient_salt, c.display_name, c.referentiel_id, c.referentiel_version, c.revision, \
     c.created_by, c.created_at, c.updated_at";

/// An entry's columns, aliased so that they do not clash with the carnet's in a join.
const ENTRY_COLUMNS: &str = "e.competence, e.answer, e.struck, e.recognition, e.modality, \
     CAST(e.entry_date AS TEXT) AS entry_date, e.jury, e.level, e.comment, \
     e.updated_by AS entry_updated_by, e.updated_at AS entry_updated_at";

/// A carnet's columns and, per row, one of its entries (all NULL for a carnet without entries).
fn carnet_select(filter: &str, order: &str) -> String {
    format!(
        "SELECT {CARNET_COLUMNS}, {ENTRY_COLUMNS} \
         FROM carnets c LEFT JOIN carnet_entries e ON e.carnet_id = c.id \
         WHERE {filter} ORDER BY {order}e.competence COLLATE \"C\""
    )
}

impl Store {
    pub async fn save_referentiel(
        &self,
        issuer_slug: &str,
        referentiel: &Referentiel,
        imported_by: &str,
    ) -> Result<SavedReferentiel, StoreError> {
        let digest = referentiel.digest();
        // The column is a PostgreSQL INTEGER: refuse here what it would refuse.
        let competences = i32::try_from(referentiel.competences.len())
            .map_err(|_| StoreError::Corrupt("too many competences".into()))?;
        let inserted = db::query(
            "INSERT INTO referentiels (issuer_slug, id, version, name, competences, digest, \
             document, imported_by, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT DO NOTHING",
        )
        .bind(issuer_slug)
        .bind(&referentiel.id)
        .bind(&referentiel.version)
        .bind(&referentiel.name)
        .bind(i64::from(competences))
        .bind(&digest)
        .bind(referentiel.to_json())
        .bind(imported_by)
        .bind(to_micros(Utc::now()))
        .execute(&self.db)
        .await?;
        if inserted == 1 {
            return Ok(SavedReferentiel::Created);
        }
        // Versions are never deleted: the row that stopped the insert is still there.
        let stored = db::query(
            "SELECT digest FROM referentiels WHERE issuer_slug = $1 AND id = $2 AND version = $3",
        )
        .bind(issuer_slug)
        .bind(&referentiel.id)
        .bind(&referentiel.version)
        .fetch_optional_with(&self.db, |row| row.text("digest"))
        .await?;
        match stored {
            Some(stored) if stored == digest => Ok(SavedReferentiel::Unchanged),
            Some(_) => Err(StoreError::ReferentielVersionExists {
                id: referentiel.id.clone(),
                version: referentiel.version.clone(),
            }),
            None => Err(StoreError::Corrupt(
                "a référentiel insert conflicted with a row that is not there".into(),
            )),
        }
    }

    pub async fn get_referentiel(
        &self,
        issuer_slug: &str,
        id: &str,
        version: &str,
    ) -> Result<Option<StoredReferentiel>, StoreError> {
        db::query(
            "SELECT document, digest, imported_by, imported_at FROM referentiels \
             WHERE issuer_slug = $1 AND id = $2 AND version = $3",
        )
        .bind(issuer_slug)
        .bind(id)
        .bind(version)
        .fetch_optional_with(&self.db, |row| {
            Ok(StoredReferentiel {
                referentiel: referentiel_from_document(&row.text("document")?)?,
                digest: row.text("digest")?,
                imported_by: row.text("imported_by")?,
                imported_at: row.time("imported_at")?,
            })
        })
        .await
    }

    /// The issuer's référentiels, by id then version (every version).
    pub async fn list_referentiels(
        &self,
        issuer_slug: &str,
    ) -> Result<Vec<ReferentielSummary>, StoreError> {
        db::query(
            "SELECT id, version, name, competences, digest, imported_by, imported_at \
             FROM referentiels WHERE issuer_slug = $1 \
             ORDER BY id COLLATE \"C\", version COLLATE \"C\"",
        )
        .bind(issuer_slug)
        .fetch_all_with(&self.db, |row| {
            Ok(ReferentielSummary {
                id: row.text("id")?,
                version: row.text("version")?,
                name: row.text("name")?,
                competences: row.u32("competences")?,
                digest: row.text("digest")?,
                imported_by: row.text("imported_by")?,
                imported_at: row.time("imported_at")?,
            })
        })
        .await
    }

    /// Writes the carnet, all its entries and its "imported" event in ONE transaction (all or
    /// nothing). Its référentiel version must be stored ([`StoreError::UnknownReferentiel`]); one
    /// carnet per person and référentiel version ([`StoreError::CarnetExists`] names it). The
    /// caller has checked the entries against the référentiel
    /// (`referentiel::carnet::entry_problems`); the database refuses what breaks its row rules.
    pub async fn insert_carnet(&self, carnet: &NewCarnet) -> Result<Carnet, StoreError> {
        match self.try_insert_carnet(carnet).await {
            // Two imports of the same person's carnet at once (PostgreSQL; SQLite's write lock
            // lets the check below see the winner): the loser's transaction is rolled back
            // (dropped); name the winner's carnet.
            Err(StoreError::Conflict(ConflictOn::Other(constraint)))
                if constraint == "carnets_person_referentiel" =>
            {
                match existing_carnet(&self.db, carnet).await? {
                    Some(id) => Err(StoreError::CarnetExists(id)),
                    None => Err(StoreError::Conflict(ConflictOn::Other(constraint))),
                }
            }
            other => other,
        }
    }

    async fn try_insert_carnet(&self, carnet: &NewCarnet) -> Result<Carnet, StoreError> {
        let now = to_micros(Utc::now());
        let mut tx = self.db.begin().await?;
        // Référentiel versions are never deleted, so this check holds until the commit.
        let known = db::query(
            "SELECT 1 AS known FROM referentiels \
             WHERE issuer_slug = $1 AND id = $2 AND version = $3",
        )
        .bind(&carnet.issuer_slug)
        .bind(&carnet.referentiel_id)
        .bind(&carnet.referentiel_version)
        .fetch_optional(&mut tx)
        .await?;
        if known.is_none() {
            return Err(StoreError::UnknownReferentiel {
                id: carnet.referentiel_id.clone(),
                version: carnet.referentiel_version.clone(),
            });
        }
        if let Some(existing) = existing_carnet(&mut tx, carnet).await? {
            return Err(StoreError::CarnetExists(existing));
        }
        db::query(
            "INSERT INTO carnets (id, issuer_slug, person_key, recipient_identity, \
             recipient_salt, display_name, referentiel_id, referentiel_version, revision, \
             created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $10)",
        )
        .bind(carnet.id)
        .bind(&carnet.issuer_slug)
        .bind(&carnet.person.person_key)
        .bind(&carnet.person.recipient_identity)
        .bind(&carnet.person.recipient_salt)
        .bind(&carnet.person.display_name)
        .bind(&carnet.referentiel_id)
        .bind(&carnet.referentiel_version)
        .bind(&carnet.created_by)
        .bind(now)
        .execute(&mut tx)
        .await?;
        crate::store::people::insert_people(
            &mut tx,
            &[(&carnet.issuer_slug, &carnet.person.person_key, now)],
        )
        .await?;
        for entry in &carnet.entries {
            upsert_entry(&mut tx, carnet.id, entry, &carnet.created_by, now).await?;
        }
        insert_event(
            &mut tx,
            carnet.id,
            CarnetEventKind::Imported,
            &carnet.created_by,
            now,
            &imported_event_detail(carnet),
        )
        .await?;
        let stored = fetch_carnet(&mut tx, carnet.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the carnet just written is not there".into()))?;
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn get_carnet(&self, id: Uuid) -> Result<Option<Carnet>, StoreError> {
        fetch_carnet(&self.db, id).await
    }

    /// An institution's carnets without their entries, newest first, `limit` at a time: the
    /// page after the carnet `after`, or the first page (keyset, index
    /// `carnets_issuer_created`). An `after` that is not one of its carnets gives an empty page.
    pub async fn list_carnets(
        &self,
        issuer_slug: &str,
        limit: u32,
        after: Option<Uuid>,
    ) -> Result<Vec<Carnet>, StoreError> {
        let after_filter = if after.is_some() {
            " AND (created_at, id) < \
             (SELECT created_at, id FROM carnets WHERE id = $3 AND issuer_slug = $1)"
        } else {
            ""
        };
        db::query(format!(
            "SELECT {CARNET_COLUMNS} FROM carnets c WHERE issuer_slug = $1{after_filter} \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(issuer_slug)
        .bind(limit)
        .bind(after)
        .fetch_all_with(&self.db, carnet_from_row)
        .await
    }

    /// One person's carnets within an issuer (by `Person::person_key`), oldest first.
    pub async fn person_carnets(
        &self,
        issuer_slug: &str,
        person_key: &str,
    ) -> Result<Vec<Carnet>, StoreError> {
        // One statement: the carnets and their entries as of one moment.
        let rows = db::query(carnet_select(
            "c.issuer_slug = $1 AND c.person_key = $2",
            "c.created_at, c.id, ",
        ))
        .bind(issuer_slug)
        .bind(person_key)
        .fetch_all(&self.db)
        .await?;
        carnets_from_rows(&rows)
    }

    /// Positions or changes one entry, in ONE transaction with its "entry_saved" event and the
    /// carnet's revision bump. `expected_revision` is the revision the edit was made from: if
    /// another edit came first, nothing is written and [`StoreError::CarnetChanged`] is returned
    /// (read again, re-apply, retry). An unknown carnet gives [`StoreError::CarnetNotFound`].
    pub async fn save_carnet_entry(
        &self,
        id: Uuid,
        expected_revision: u64,
        entry: &CarnetEntry,
        actor: &str,
    ) -> Result<Carnet, StoreError> {
        let now = to_micros(Utc::now());
        let expected =
            i64::try_from(expected_revision).map_err(|_| StoreError::CarnetChanged(id))?;
        let mut tx = self.db.begin().await?;
        // Locks the carnet (PostgreSQL; SQLite holds the write lock already) until the commit,
        // so the entry read below is the one this edit replaces.
        let bumped = db::query(
            "UPDATE carnets SET revision = revision + 1, updated_at = $1 \
             WHERE id = $2 AND revision = $3",
        )
        .bind(now)
        .bind(id)
        .bind(expected)
        .execute(&mut tx)
        .await?;
        if bumped == 0 {
            let exists = db::query("SELECT 1 AS known FROM carnets WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut tx)
                .await?;
            return Err(match exists {
                Some(_) => StoreError::CarnetChanged(id),
                None => StoreError::CarnetNotFound(id),
            });
        }
        let before = db::query(format!(
            "SELECT {ENTRY_COLUMNS} FROM carnet_entries e \
             WHERE e.carnet_id = $1 AND e.competence = $2"
        ))
        .bind(id)
        .bind(&entry.competence)
        .fetch_optional_with(&mut tx, |row| entry_from_row(row).map(|r| r.entry))
        .await?;
        upsert_entry(&mut tx, id, entry, actor, now).await?;
        insert_event(
            &mut tx,
            id,
            CarnetEventKind::EntrySaved,
            actor,
            now,
            &entry_saved_detail(before.as_ref(), entry),
        )
        .await?;
        let stored = fetch_carnet(&mut tx, id)
            .await?
            .ok_or(StoreError::CarnetNotFound(id))?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The carnet's audit trail, oldest first; empty for an unknown carnet.
    pub async fn carnet_events(&self, id: Uuid) -> Result<Vec<CarnetEvent>, StoreError> {
        db::query(
            "SELECT kind, actor, at, detail FROM carnet_events WHERE carnet_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all_with(&self.db, |row| {
            Ok(CarnetEvent {
                kind: CarnetEventKind::parse(&row.text("kind")?)?,
                actor: row.text("actor")?,
                at: row.time("at")?,
                detail: parse_event_detail(&row.text("detail")?)?,
            })
        })
        .await
    }
}

/// The id of the person's carnet on the same référentiel version, if any.
async fn existing_carnet(
    on: impl Into<On<'_>>,
    carnet: &NewCarnet,
) -> Result<Option<Uuid>, StoreError> {
    db::query(
        "SELECT id FROM carnets WHERE issuer_slug = $1 AND person_key = $2 \
         AND referentiel_id = $3 AND referentiel_version = $4",
    )
    .bind(&carnet.issuer_slug)
    .bind(&carnet.person.person_key)
    .bind(&carnet.referentiel_id)
    .bind(&carnet.referentiel_version)
    .fetch_optional_with(on, |row| row.id("id"))
    .await
}

async fn upsert_entry(
    tx: &mut Tx,
    carnet_id: Uuid,
    entry: &CarnetEntry,
    actor: &str,
    now: chrono::DateTime<Utc>,
) -> Result<(), StoreError> {
    db::query(
        "INSERT INTO carnet_entries (carnet_id, competence, answer, struck, recognition, \
         modality, entry_date, jury, level, comment, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, date($7), $8, $9, $10, $11, $12) \
         ON CONFLICT (carnet_id, competence) DO UPDATE SET answer = excluded.answer, \
         struck = excluded.struck, recognition = excluded.recognition, \
         modality = excluded.modality, entry_date = excluded.entry_date, jury = excluded.jury, \
         level = excluded.level, comment = excluded.comment, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(carnet_id)
    .bind(&entry.competence)
    .bind(entry.answer.as_str())
    .bind(serde_json::to_string(&entry.struck).expect("ids serialise"))
    .bind(entry.recognition.as_str())
    .bind(entry.modality.map(Modality::as_str))
    .bind(entry.date.map(|d| d.format(DATE_FORMAT).to_string()))
    .bind(serde_json::to_string(&entry.jury).expect("jury serialises"))
    .bind(entry.level.as_deref())
    .bind(entry.comment.as_deref())
    .bind(actor)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

async fn insert_event(
    tx: &mut Tx,
    carnet_id: Uuid,
    kind: CarnetEventKind,
    actor: &str,
    now: chrono::DateTime<Utc>,
    detail: &str,
) -> Result<(), StoreError> {
    db::query(
        "INSERT INTO carnet_events (carnet_id, kind, actor, at, detail) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(carnet_id)
    .bind(kind.as_str())
    .bind(actor)
    .bind(now)
    .bind(detail)
    .execute(tx)
    .await?;
    Ok(())
}

async fn fetch_carnet(on: impl Into<On<'_>>, id: Uuid) -> Result<Option<Carnet>, StoreError> {
    let rows = db::query(carnet_select("c.id = $1", ""))
        .bind(id)
        .fetch_all(on)
        .await?;
    let mut carnets = carnets_from_rows(&rows)?;
    match carnets.len() {
        0 | 1 => Ok(carnets.pop()),
        n => Err(StoreError::Corrupt(format!("{n} carnets have the id {id}"))),
    }
}

/// Carnets from the rows of [`carnet_select`], which come carnet by carnet.
fn carnets_from_rows(rows: &[Row]) -> Result<Vec<Carnet>, StoreError> {
    let mut carnets: Vec<Carnet> = Vec::new();
    for row in rows {
        let id = row.id("id")?;
        if carnets.last().is_none_or(|last| last.id != id) {
            carnets.push(carnet_from_row(row)?);
        }
        if row.opt_text("competence")?.is_some() {
            let entry = entry_from_row(row)?;
            if let Some(carnet) = carnets.last_mut() {
                carnet.entries.push(entry);
            }
        }
    }
    Ok(carnets)
}

/// The carnet of a row of [`carnet_select`], without its entries.
fn carnet_from_row(row: &Row) -> Result<Carnet, StoreError> {
    Ok(Carnet {
        id: row.id("id")?,
        issuer_slug: row.text("issuer_slug")?,
        person: Person {
            person_key: row.text("person_key")?,
            recipient_identity: row.text("recipient_identity")?,
            recipient_salt: row.text("recipient_salt")?,
            display_name: row.opt_text("display_name")?,
        },
        referentiel_id: row.text("referentiel_id")?,
        referentiel_version: row.text("referentiel_version")?,
        entries: Vec::new(),
        revision: row.u64("revision")?,
        created_by: row.text("created_by")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// The entry of a row holding [`ENTRY_COLUMNS`].
fn entry_from_row(row: &Row) -> Result<CarnetEntryRecord, StoreError> {
    let competence = row.text("competence")?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("carnet entry {competence}: {what}"));
    let entry = CarnetEntry {
        answer: Answer::parse(&row.text("answer")?).ok_or_else(|| corrupt("unknown answer"))?,
        struck: serde_json::from_str(&row.text("struck")?)
            .map_err(|_| corrupt("struck is not a JSON list"))?,
        recognition: Recognition::parse(&row.text("recognition")?)
            .ok_or_else(|| corrupt("unknown recognition"))?,
        modality: row
            .opt_text("modality")?
            .map(|m| Modality::parse(&m).ok_or_else(|| corrupt("unknown modality")))
            .transpose()?,
        date: row
            .opt_text("entry_date")?
            .map(|d| {
                NaiveDate::parse_from_str(&d, DATE_FORMAT)
                    .map_err(|e| StoreError::Corrupt(format!("carnet entry date {d:?}: {e}")))
            })
            .transpose()?,
        jury: serde_json::from_str::<Vec<JuryMember>>(&row.text("jury")?)
            .map_err(|_| corrupt("jury is not a JSON list of members"))?,
        level: row.opt_text("level")?,
        comment: row.opt_text("comment")?,
        competence,
    };
    Ok(CarnetEntryRecord {
        entry,
        updated_by: row.text("entry_updated_by")?,
        updated_at: row.time("entry_updated_at")?,
    })
}
