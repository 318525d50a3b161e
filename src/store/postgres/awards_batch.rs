//! PostgreSQL: a page of awards in ONE transaction and a handful of statements (bulk awards): the
//! keys already taken in one query, the status slots checked per list, the awards and their
//! `issued` events as multi-row INSERTs. Each statement costs a round trip to the server, which
//! is what bounded a bulk page when it took four per award. Another writer inserting one of the
//! same keys meanwhile makes an INSERT fail (unique index): the whole call then fails with a
//! conflict, nothing stored.

use std::collections::HashSet;

use chrono::Utc;
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::{db_error, int4};
use crate::store::batch::{Split, highest_slots, keys_by_issuer, split};
use crate::store::{Award, AwardEventKind, NewAward, StatusPurpose, StatusSlot, StoreError};

/// Awards per INSERT statement: 64 × 22 parameters, far below PostgreSQL's limit (65,535).
const ROWS_PER_INSERT: usize = 64;

/// [`crate::store::Store::insert_awards`].
pub(super) async fn insert_awards(
    pool: &PgPool,
    awards: &[NewAward],
) -> Result<Vec<Option<Award>>, StoreError> {
    let mut tx = pool.begin().await.map_err(db_error)?;
    let taken = taken_keys(&mut tx, awards).await?;
    let Split { stored, new_rows } = split(awards, taken, Utc::now());
    check_slots_allocated(&mut tx, new_rows.iter().map(|(a, _)| a)).await?;
    for chunk in new_rows.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Postgres>::new(
            "INSERT INTO awards (id, issuer_slug, badge_class_slug, badge_class_digest, \
             recipient_identity, recipient_salt, recipient_name, credential_id, credential_json, \
             credential_jwt, status_list, status_index, assertion_json, assertion_jws, \
             valid_from, valid_until, issued_by, idempotency_key, created_at, \
             revoked_at, revocation_reason, rsa_kid) ",
        );
        let mut slots = Vec::with_capacity(chunk.len());
        for (a, _) in chunk {
            slots.push((
                a.status_list.map(int4).transpose()?,
                a.status_index.map(int4).transpose()?,
            ));
        }
        insert.push_values(chunk.iter().zip(slots), |mut b, ((a, _), (list, index))| {
            b.push_bind(a.id.to_string())
                .push_unseparated("::uuid")
                .push_bind(a.issuer_slug.clone())
                .push_bind(a.badge_class_slug.clone())
                .push_bind(a.badge_class_digest.clone())
                .push_bind(a.recipient_identity.clone())
                .push_bind(a.recipient_salt.clone())
                .push_bind(a.recipient_name.clone())
                .push_bind(a.credential_id.clone())
                .push_bind(a.credential_json.clone())
                .push_bind(a.credential_jwt.clone())
                .push_bind(list)
                .push_bind(index)
                .push_bind(a.assertion_json.clone())
                .push_bind(a.assertion_jws.clone())
                .push_bind(a.valid_from)
                .push_bind(a.valid_until)
                .push_bind(a.issued_by.clone())
                .push_bind(a.idempotency_key.clone())
                .push_bind(a.created_at)
                .push_bind(a.revoked_at)
                .push_bind(a.revocation_reason.clone())
                .push_bind(a.rsa_kid.clone());
        });
        insert.build().execute(&mut *tx).await.map_err(db_error)?;
        let mut events = QueryBuilder::<Postgres>::new(
            "INSERT INTO award_events (award_id, kind, actor, at, detail) ",
        );
        events.push_values(chunk, |mut b, (a, detail)| {
            b.push_bind(a.id.to_string())
                .push_unseparated("::uuid")
                .push_bind(AwardEventKind::Issued.as_str())
                .push_bind(a.issued_by.clone())
                .push_bind(a.created_at)
                .push_bind(detail.clone());
        });
        events.build().execute(&mut *tx).await.map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(stored)
}

/// The (issuer, key) pairs of `awards` already given, one query per issuer (a page has one).
async fn taken_keys(
    tx: &mut sqlx::PgConnection,
    awards: &[NewAward],
) -> Result<HashSet<(String, String)>, StoreError> {
    let mut taken = HashSet::new();
    for (issuer, keys) in keys_by_issuer(awards) {
        let found: Vec<String> = sqlx::query_scalar(
            "SELECT idempotency_key FROM awards WHERE issuer_slug = $1 \
             AND idempotency_key = ANY($2)",
        )
        .bind(issuer)
        .bind(keys)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        taken.extend(found.into_iter().map(|k| (issuer.to_owned(), k)));
    }
    Ok(taken)
}

/// Refuses a slot that the issuer's revocation lists never handed out: one query per list.
/// `next_index` only grows, so a slot found allocated here stays allocated.
async fn check_slots_allocated(
    tx: &mut sqlx::PgConnection,
    awards: impl Iterator<Item = &Award>,
) -> Result<(), StoreError> {
    for ((issuer, list), index) in highest_slots(awards) {
        let next: Option<i32> = sqlx::query_scalar(
            "SELECT next_index FROM status_lists \
             WHERE issuer_slug = $1 AND purpose = $2 AND list_number = $3",
        )
        .bind(issuer)
        .bind(StatusPurpose::Revocation.as_str())
        .bind(int4(list)?)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        if next.is_none_or(|next| i64::from(index) >= i64::from(next)) {
            return Err(StoreError::UnallocatedStatusSlot(StatusSlot {
                list,
                index,
            }));
        }
    }
    Ok(())
}
