//! The issuers' revocation status lists (Bitstring Status List): slots handed out under a row
//! lock on the newest list, in an order no one can guess (each list opened since migration 0015
//! has its own permutation key: `status/shuffle.rs`) (`FOR UPDATE`; SQLite holds the database's write lock anyway), so
//! concurrent allocators queue and never share a slot; an award may only carry a slot its
//! issuer's list handed out (`check_slots_allocated`, in the insert's transaction:
//! `next_index` only grows, so a slot found allocated stays so). A revocation bumps its list's
//! revision (`awards.rs`).

use std::collections::BTreeMap;

use chrono::Utc;

use super::db::{self, Row, Tx};
use super::{
    Award, ConflictOn, StatusListInfo, StatusPurpose, StatusSlot, Store, StoreError,
    stored_purpose, to_micros,
};
use crate::status::shuffle::{self, ShuffleKey};

/// Rounds of "the newest list is full, open the next one" before giving up: each lost round
/// means another allocator opened a list, so this is only reached if something is badly wrong.
const MAX_LIST_OPENING_ROUNDS: usize = 64;

fn status_list_from_row(row: &Row) -> Result<StatusListInfo, StoreError> {
    Ok(StatusListInfo {
        issuer_slug: row.text("issuer_slug")?,
        purpose: stored_purpose(&row.text("purpose")?)?,
        list: row.u32("list_number")?,
        size: row.u32("size")?,
        allocated: row.u32("next_index")?,
        revision: row.u64("revision")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

impl Store {
    /// Hands out the next free slot of the issuer's newest status list for `purpose`, opening
    /// a new list (of [`super::StoreOptions::status_list_size`] entries) when it is full. A
    /// slot is never handed out twice, even to concurrent callers, and never reused.
    pub async fn allocate_status_index(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
    ) -> Result<StatusSlot, StoreError> {
        let slots = self
            .allocate_status_indices(issuer_slug, purpose, 1)
            .await?;
        slots
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt("no status slot was allocated".to_owned()))
    }
    /// `n` slots in ONE transaction (bulk awards), in order, spanning lists when one fills up.
    pub async fn allocate_status_indices(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
        n: u32,
    ) -> Result<Vec<StatusSlot>, StoreError> {
        let mut tx = self.db.begin().await?;
        let mut slots = Vec::with_capacity(n as usize);
        let mut openings = 0;
        while slots.len() < n as usize {
            let need = n - slots.len() as u32;
            // The newest list, locked until the commit: allocators queue on it.
            let newest = db::query(
                "SELECT list_number, size, next_index, shuffle_key FROM status_lists \
                 WHERE issuer_slug = $1 AND purpose = $2 \
                 ORDER BY list_number DESC LIMIT 1 FOR UPDATE",
            )
            .bind(issuer_slug)
            .bind(purpose.as_str())
            .fetch_optional_with(&mut tx, |row| {
                Ok((row.u32("list_number")?, list_counter(row)?))
            })
            .await?;
            match newest {
                Some((list, (size, next, key))) if next < size => {
                    let taken = need.min(size - next);
                    db::query(
                        "UPDATE status_lists SET next_index = next_index + $4 \
                         WHERE issuer_slug = $1 AND purpose = $2 AND list_number = $3",
                    )
                    .bind(issuer_slug)
                    .bind(purpose.as_str())
                    .bind(list)
                    .bind(taken)
                    .execute(&mut tx)
                    .await?;
                    slots.extend((next..next + taken).map(|turn| StatusSlot {
                        list,
                        index: slot_index(key.as_ref(), size, turn),
                    }));
                }
                full_or_none => {
                    // Open the next list. Another allocator may have opened it meanwhile
                    // (PostgreSQL: its insert was not visible to our read); then nothing is
                    // inserted and the next round reads the list it opened.
                    openings += 1;
                    if openings > MAX_LIST_OPENING_ROUNDS {
                        return Err(StoreError::Conflict(ConflictOn::Other(format!(
                            "status list allocation for {issuer_slug} lost \
                             {MAX_LIST_OPENING_ROUNDS} races in a row"
                        ))));
                    }
                    let list = full_or_none.map_or(0, |(list, _)| list + 1);
                    let now = to_micros(Utc::now());
                    db::query(
                        "INSERT INTO status_lists (issuer_slug, purpose, list_number, size, \
                         next_index, revision, created_at, updated_at, shuffle_key) \
                         VALUES ($1, $2, $3, $4, 0, 0, $5, $5, $6) \
                         ON CONFLICT (issuer_slug, purpose, list_number) DO NOTHING",
                    )
                    .bind(issuer_slug)
                    .bind(purpose.as_str())
                    .bind(list)
                    .bind(self.options.status_list_size)
                    .bind(now)
                    .bind(shuffle::key_to_hex(&shuffle::new_key()))
                    .execute(&mut tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(slots)
    }
    /// One status list of an issuer, or `None` when it was never opened.
    pub async fn status_list(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
        list: u32,
    ) -> Result<Option<StatusListInfo>, StoreError> {
        db::query(
            "SELECT issuer_slug, purpose, list_number, size, next_index, revision, created_at, \
             updated_at FROM status_lists \
             WHERE issuer_slug = $1 AND purpose = $2 AND list_number = $3",
        )
        .bind(issuer_slug)
        .bind(purpose.as_str())
        .bind(list)
        .fetch_optional_with(&self.db, status_list_from_row)
        .await
    }
    /// The revoked indexes of one list, ascending (only revocation lists have any).
    pub async fn revoked_in_list(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
        list: u32,
    ) -> Result<Vec<u32>, StoreError> {
        if purpose != StatusPurpose::Revocation {
            return Ok(Vec::new());
        }
        db::query(
            "SELECT status_index FROM awards \
             WHERE issuer_slug = $1 AND status_list = $2 AND revoked_at IS NOT NULL \
             ORDER BY status_index",
        )
        .bind(issuer_slug)
        .bind(list)
        .fetch_all_with(&self.db, |row| row.u32("status_index"))
        .await
    }
}

/// A list's size, counter (`next_index`) and permutation key (migration 0015; `None` for the
/// lists opened before, which hand out their slots in order).
fn list_counter(row: &Row) -> Result<(u32, u32, Option<ShuffleKey>), StoreError> {
    let key = row
        .opt_text("shuffle_key")?
        .map(|hex| {
            shuffle::key_from_hex(&hex)
                .ok_or_else(|| StoreError::Corrupt(format!("status list shuffle key {hex:?}")))
        })
        .transpose()?;
    Ok((row.u32("size")?, row.u32("next_index")?, key))
}

/// The index of a list's `turn`-th slot.
fn slot_index(key: Option<&ShuffleKey>, size: u32, turn: u32) -> u32 {
    key.map_or(turn, |key| shuffle::permute(key, size, turn))
}

/// Refuses a slot that the issuer's revocation lists never handed out: one query per list,
/// then each slot's turn compared with the list's counter (`next_index` only grows, so a slot
/// found allocated stays so).
pub(crate) async fn check_slots_allocated<'a>(
    tx: &mut Tx,
    awards: impl Iterator<Item = &'a Award>,
) -> Result<(), StoreError> {
    let mut by_list: BTreeMap<(&str, u32), Vec<u32>> = BTreeMap::new();
    for a in awards {
        if let (Some(list), Some(index)) = (a.status_list, a.status_index) {
            by_list
                .entry((&a.issuer_slug, list))
                .or_default()
                .push(index);
        }
    }
    for ((issuer, list), indexes) in by_list {
        let counter = db::query(
            "SELECT size, next_index, shuffle_key FROM status_lists \
             WHERE issuer_slug = $1 AND purpose = $2 AND list_number = $3",
        )
        .bind(issuer)
        .bind(StatusPurpose::Revocation.as_str())
        .bind(list)
        .fetch_optional_with(&mut *tx, list_counter)
        .await?;
        for index in indexes {
            let handed_out = counter.as_ref().is_some_and(|(size, next, key)| {
                index < *size
                    && key
                        .as_ref()
                        .map_or(index, |k| shuffle::unpermute(k, *size, index))
                        < *next
            });
            if !handed_out {
                return Err(StoreError::UnallocatedStatusSlot(StatusSlot {
                    list,
                    index,
                }));
            }
        }
    }
    Ok(())
}
