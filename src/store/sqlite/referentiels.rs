//! SQLite: référentiels and carnets (migration `0004_referentiels.sql`). Dates are `YYYY-MM-DD`
//! text; writes that must not interleave take the write lock up front (`BEGIN IMMEDIATE`).

use chrono::{NaiveDate, Utc};
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use uuid::Uuid;

use super::{column, db_error, time_column, to_text};
use crate::referentiel::Referentiel;
use crate::referentiel::carnet::{CarnetEntry, Person};
use crate::store::referentiels::{
    Carnet, CarnetEntryRecord, CarnetEvent, CarnetEventKind, EntryColumns, NewCarnet,
    ReferentielSummary, SavedReferentiel, StoredReferentiel, entry_from_columns,
    entry_saved_detail, imported_event_detail, referentiel_from_document,
};
use crate::store::{StoreError, parse_event_detail, stored_u32, to_micros};

pub(super) async fn save_referentiel(
    pool: &SqlitePool,
    issuer_slug: &str,
    referentiel: &Referentiel,
    imported_by: &str,
) -> Result<SavedReferentiel, StoreError> {
    let digest = referentiel.digest();
    let inserted = sqlx::query(
        "INSERT INTO referentiels (issuer_slug, id, version, name, competences, digest, \
         document, imported_by, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(issuer_slug)
    .bind(&referentiel.id)
    .bind(&referentiel.version)
    .bind(&referentiel.name)
    .bind(referentiel.competences.len() as i64)
    .bind(&digest)
    .bind(referentiel.to_json())
    .bind(imported_by)
    .bind(to_text(to_micros(Utc::now())))
    .execute(pool)
    .await
    .map_err(db_error)?
    .rows_affected();
    if inserted == 1 {
        return Ok(SavedReferentiel::Created);
    }
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT digest FROM referentiels WHERE issuer_slug = ? AND id = ? AND version = ?",
    )
    .bind(issuer_slug)
    .bind(&referentiel.id)
    .bind(&referentiel.version)
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
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

pub(super) async fn get_referentiel(
    pool: &SqlitePool,
    issuer_slug: &str,
    id: &str,
    version: &str,
) -> Result<Option<StoredReferentiel>, StoreError> {
    let row = sqlx::query(
        "SELECT document, digest, imported_by, imported_at FROM referentiels \
         WHERE issuer_slug = ? AND id = ? AND version = ?",
    )
    .bind(issuer_slug)
    .bind(id)
    .bind(version)
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(StoredReferentiel {
        referentiel: referentiel_from_document(&column::<String>(&row, "document")?)?,
        digest: column(&row, "digest")?,
        imported_by: column(&row, "imported_by")?,
        imported_at: time_column(&row, "imported_at")?,
    }))
}

pub(super) async fn list_referentiels(
    pool: &SqlitePool,
    issuer_slug: &str,
) -> Result<Vec<ReferentielSummary>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, version, name, competences, digest, imported_by, imported_at \
         FROM referentiels WHERE issuer_slug = ? ORDER BY id, version",
    )
    .bind(issuer_slug)
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.iter()
        .map(|row| {
            Ok(ReferentielSummary {
                id: column(row, "id")?,
                version: column(row, "version")?,
                name: column(row, "name")?,
                competences: stored_u32("competences", column(row, "competences")?)?,
                digest: column(row, "digest")?,
                imported_by: column(row, "imported_by")?,
                imported_at: time_column(row, "imported_at")?,
            })
        })
        .collect()
}

pub(super) async fn insert_carnet(
    pool: &SqlitePool,
    carnet: &NewCarnet,
) -> Result<Carnet, StoreError> {
    let now = to_text(to_micros(Utc::now()));
    // IMMEDIATE: the checks below and the inserts see the same database.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    let known: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM referentiels WHERE issuer_slug = ? AND id = ? AND version = ?",
    )
    .bind(&carnet.issuer_slug)
    .bind(&carnet.referentiel_id)
    .bind(&carnet.referentiel_version)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if known.is_none() {
        return Err(StoreError::UnknownReferentiel {
            id: carnet.referentiel_id.clone(),
            version: carnet.referentiel_version.clone(),
        });
    }
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT id FROM carnets WHERE issuer_slug = ? AND person_key = ? \
         AND referentiel_id = ? AND referentiel_version = ?",
    )
    .bind(&carnet.issuer_slug)
    .bind(&carnet.person.person_key)
    .bind(&carnet.referentiel_id)
    .bind(&carnet.referentiel_version)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if let Some(existing) = existing {
        return Err(StoreError::CarnetExists(parse_id(&existing)?));
    }
    sqlx::query(
        "INSERT INTO carnets (id, issuer_slug, person_key, recipient_identity, recipient_salt, \
         display_name, referentiel_id, referentiel_version, revision, created_by, created_at, \
         updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
    )
    .bind(carnet.id.to_string())
    .bind(&carnet.issuer_slug)
    .bind(&carnet.person.person_key)
    .bind(&carnet.person.recipient_identity)
    .bind(&carnet.person.recipient_salt)
    .bind(&carnet.person.display_name)
    .bind(&carnet.referentiel_id)
    .bind(&carnet.referentiel_version)
    .bind(&carnet.created_by)
    .bind(&now)
    .bind(&now)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    for entry in &carnet.entries {
        upsert_entry(&mut tx, carnet.id, entry, &carnet.created_by, &now).await?;
    }
    insert_event(
        &mut tx,
        carnet.id,
        CarnetEventKind::Imported,
        &carnet.created_by,
        &now,
        &imported_event_detail(carnet),
    )
    .await?;
    let stored = fetch_carnet(&mut tx, carnet.id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("the carnet just written is not there".into()))?;
    tx.commit().await.map_err(db_error)?;
    Ok(stored)
}

pub(super) async fn get_carnet(pool: &SqlitePool, id: Uuid) -> Result<Option<Carnet>, StoreError> {
    let mut conn = pool.acquire().await.map_err(db_error)?;
    fetch_carnet(&mut conn, id).await
}

pub(super) async fn person_carnets(
    pool: &SqlitePool,
    issuer_slug: &str,
    person_key: &str,
) -> Result<Vec<Carnet>, StoreError> {
    // One read transaction: the carnets and their entries as of one moment.
    let mut tx = pool.begin().await.map_err(db_error)?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM carnets WHERE issuer_slug = ? AND person_key = ? \
         ORDER BY created_at, id",
    )
    .bind(issuer_slug)
    .bind(person_key)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    let mut carnets = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(carnet) = fetch_carnet(&mut tx, parse_id(&id)?).await? {
            carnets.push(carnet);
        }
    }
    tx.commit().await.map_err(db_error)?;
    Ok(carnets)
}

pub(super) async fn save_carnet_entry(
    pool: &SqlitePool,
    id: Uuid,
    expected_revision: u64,
    entry: &CarnetEntry,
    actor: &str,
) -> Result<Carnet, StoreError> {
    let now = to_text(to_micros(Utc::now()));
    let expected = i64::try_from(expected_revision).map_err(|_| StoreError::CarnetChanged(id))?;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    let bumped = sqlx::query(
        "UPDATE carnets SET revision = revision + 1, updated_at = ? WHERE id = ? AND revision = ?",
    )
    .bind(&now)
    .bind(id.to_string())
    .bind(expected)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if bumped == 0 {
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM carnets WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        return Err(match exists {
            Some(_) => StoreError::CarnetChanged(id),
            None => StoreError::CarnetNotFound(id),
        });
    }
    let before = fetch_entries(&mut tx, id)
        .await?
        .into_iter()
        .map(|r| r.entry)
        .find(|e| e.competence == entry.competence);
    upsert_entry(&mut tx, id, entry, actor, &now).await?;
    insert_event(
        &mut tx,
        id,
        CarnetEventKind::EntrySaved,
        actor,
        &now,
        &entry_saved_detail(before.as_ref(), entry),
    )
    .await?;
    let stored = fetch_carnet(&mut tx, id)
        .await?
        .ok_or(StoreError::CarnetNotFound(id))?;
    tx.commit().await.map_err(db_error)?;
    Ok(stored)
}

pub(super) async fn carnet_events(
    pool: &SqlitePool,
    id: Uuid,
) -> Result<Vec<CarnetEvent>, StoreError> {
    let rows = sqlx::query(
        "SELECT kind, actor, at, detail FROM carnet_events WHERE carnet_id = ? ORDER BY id",
    )
    .bind(id.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.iter()
        .map(|row| {
            Ok(CarnetEvent {
                kind: CarnetEventKind::parse(&column::<String>(row, "kind")?)?,
                actor: column(row, "actor")?,
                at: time_column(row, "at")?,
                detail: parse_event_detail(&column::<String>(row, "detail")?)?,
            })
        })
        .collect()
}

async fn upsert_entry(
    conn: &mut SqliteConnection,
    carnet_id: Uuid,
    entry: &CarnetEntry,
    actor: &str,
    now: &str,
) -> Result<(), StoreError> {
    let c = EntryColumns::of(entry);
    sqlx::query(
        "INSERT INTO carnet_entries (carnet_id, competence, answer, struck, recognition, \
         modality, entry_date, jury, level, comment, updated_by, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (carnet_id, competence) DO UPDATE SET answer = excluded.answer, \
         struck = excluded.struck, recognition = excluded.recognition, \
         modality = excluded.modality, entry_date = excluded.entry_date, jury = excluded.jury, \
         level = excluded.level, comment = excluded.comment, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(carnet_id.to_string())
    .bind(c.competence)
    .bind(c.answer)
    .bind(c.struck)
    .bind(c.recognition)
    .bind(c.modality)
    .bind(c.date.map(|d| d.format("%Y-%m-%d").to_string()))
    .bind(c.jury)
    .bind(c.level)
    .bind(c.comment)
    .bind(actor)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

async fn insert_event(
    conn: &mut SqliteConnection,
    carnet_id: Uuid,
    kind: CarnetEventKind,
    actor: &str,
    now: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO carnet_events (carnet_id, kind, actor, at, detail) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(carnet_id.to_string())
    .bind(kind.as_str())
    .bind(actor)
    .bind(now)
    .bind(detail)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

async fn fetch_carnet(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Carnet>, StoreError> {
    let row = sqlx::query(
        "SELECT id, issuer_slug, person_key, recipient_identity, recipient_salt, display_name, \
         referentiel_id, referentiel_version, revision, created_by, created_at, updated_at \
         FROM carnets WHERE id = ?",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let Some(row) = row else { return Ok(None) };
    let entries = fetch_entries(conn, id).await?;
    carnet_from_row(&row, entries).map(Some)
}

fn carnet_from_row(row: &SqliteRow, entries: Vec<CarnetEntryRecord>) -> Result<Carnet, StoreError> {
    let revision: i64 = column(row, "revision")?;
    Ok(Carnet {
        id: parse_id(&column::<String>(row, "id")?)?,
        issuer_slug: column(row, "issuer_slug")?,
        person: Person {
            person_key: column(row, "person_key")?,
            recipient_identity: column(row, "recipient_identity")?,
            recipient_salt: column(row, "recipient_salt")?,
            display_name: column(row, "display_name")?,
        },
        referentiel_id: column(row, "referentiel_id")?,
        referentiel_version: column(row, "referentiel_version")?,
        entries,
        revision: u64::try_from(revision)
            .map_err(|_| StoreError::Corrupt(format!("negative carnet revision {revision}")))?,
        created_by: column(row, "created_by")?,
        created_at: time_column(row, "created_at")?,
        updated_at: time_column(row, "updated_at")?,
    })
}

async fn fetch_entries(
    conn: &mut SqliteConnection,
    id: Uuid,
) -> Result<Vec<CarnetEntryRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT competence, answer, struck, recognition, modality, entry_date, jury, level, \
         comment, updated_by, updated_at FROM carnet_entries WHERE carnet_id = ? \
         ORDER BY competence",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let date = column::<Option<String>>(row, "entry_date")?
                .map(|d| {
                    NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                        .map_err(|e| StoreError::Corrupt(format!("carnet entry date {d:?}: {e}")))
                })
                .transpose()?;
            Ok(CarnetEntryRecord {
                entry: entry_from_columns(
                    column(row, "competence")?,
                    &column::<String>(row, "answer")?,
                    &column::<String>(row, "struck")?,
                    &column::<String>(row, "recognition")?,
                    column::<Option<String>>(row, "modality")?.as_deref(),
                    date,
                    &column::<String>(row, "jury")?,
                    column(row, "level")?,
                    column(row, "comment")?,
                )?,
                updated_by: column(row, "updated_by")?,
                updated_at: time_column(row, "updated_at")?,
            })
        })
        .collect()
}

fn parse_id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("carnet id {text:?}: {e}")))
}
