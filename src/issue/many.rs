//! Issuing many awards of one class at once (bulk awards): [`issue_many`] = [`sign_many`] (=
//! [`reserve_many`]: the awards already given, the checks, every status slot in one transaction;
//! then [`sign_reserved`]: the signatures on several threads) then [`store_many`] (every award in
//! ONE transaction). The same credentials as [`super::issue`].
//!
//! [`reserve_many`] looks up the idempotency keys in one query and takes the status slots from a
//! [`SlotPool`] (which a bulk job fills several pages ahead); [`sign_reserved`] signs on
//! `parallel` blocking threads; [`store_many`] stores the BadgeClass version once, then every
//! award with its event (`Store::insert_awards`: multi-row INSERTs, a taken key skipped; a key
//! taken meanwhile by another writer: one by one instead).

use std::sync::Arc;

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use super::AwardRequest;
use super::{Core, IssueError, Prepared, check_endorsements, prepare, save_class_version};
use crate::badge_class::BadgeClass;
use crate::issuer::Issuer;
use crate::recipient::hash_email;
use crate::status::StatusPurpose;
use crate::store::{Award, NewAward, StatusSlot, Store, StoreError};

/// Issues several awards of one class at once (bulk awards): the same checks and the same
/// credentials as [`issue`], one by one, but with their status slots taken in one transaction,
/// signed on `parallel` threads, and stored in ONE transaction (all or none). Each request gets
/// its own result (an award, or why it is refused); `Err` only when the store fails, and then
/// nothing of this call is stored.
pub async fn issue_many(
    issuer: &Arc<Issuer>,
    class: &Arc<BadgeClass>,
    store: &Store,
    requests: Vec<AwardRequest>,
    parallel: usize,
) -> Result<Vec<Result<Award, IssueError>>, StoreError> {
    let batch = sign_many(issuer, class, store, requests, parallel).await?;
    store_many(issuer, class, store, batch).await
}

/// Awards signed by [`sign_many`], to store with [`store_many`] (bulk awards sign the next page
/// while the previous one is being stored).
pub struct SignedBatch {
    results: Vec<Option<Result<Award, IssueError>>>,
    /// (request index, recipient for the logs, the award).
    prepared: Vec<(usize, String, Prepared)>,
}

/// Requests checked by [`reserve_many`], with their status slots: what [`sign_reserved`] signs.
pub struct ReservedBatch {
    results: Vec<Option<Result<Award, IssueError>>>,
    /// ((request index, recipient for the logs, what to build), its status slot).
    todo: Vec<((usize, String, Core), StatusSlot)>,
    now: DateTime<Utc>,
}

/// The first half of [`issue_many`]: [`reserve_many`] then [`sign_reserved`]; nothing stored but
/// the slots.
pub async fn sign_many(
    issuer: &Arc<Issuer>,
    class: &Arc<BadgeClass>,
    store: &Store,
    requests: Vec<AwardRequest>,
    parallel: usize,
) -> Result<SignedBatch, StoreError> {
    let reserved = reserve_many(issuer, class, store, requests, &mut SlotPool::default()).await?;
    sign_reserved(issuer, class, reserved, parallel).await
}

/// Revocation status slots taken ahead for the next pages of a bulk job: one transaction for
/// several pages, so that reserving a page seldom waits for the page being stored (SQLite has
/// one writer). Slots taken and never used (at most `ahead`, when the job ends or stops) stay
/// unused: a list's bit that no credential names.
#[derive(Debug, Default)]
pub struct SlotPool {
    slots: VecDeque<StatusSlot>,
    ahead: u32,
}

impl SlotPool {
    /// A pool that takes `ahead` slots more than asked whenever it runs short.
    pub fn ahead(ahead: u32) -> Self {
        SlotPool {
            slots: VecDeque::new(),
            ahead,
        }
    }

    /// `n` slots of the issuer's revocation lists, taken from the store when the pool has too few.
    async fn take(
        &mut self,
        issuer: &Issuer,
        store: &Store,
        n: usize,
    ) -> Result<Vec<StatusSlot>, StoreError> {
        if self.slots.len() < n {
            let missing = u32::try_from(n - self.slots.len()).unwrap_or(u32::MAX);
            let more = store
                .allocate_status_indices(
                    issuer.slug(),
                    StatusPurpose::Revocation,
                    missing.saturating_add(self.ahead),
                )
                .await?;
            self.slots.extend(more);
        }
        Ok(self.slots.drain(..n).collect())
    }
}

/// The database part of [`sign_many`]: the awards already given under the requests' keys (one
/// query), the checks, and the new awards' status slots (one transaction). Bulk awards run it
/// between pages, so that signing a page (CPU) never waits for the database.
pub async fn reserve_many(
    issuer: &Arc<Issuer>,
    class: &Arc<BadgeClass>,
    store: &Store,
    requests: Vec<AwardRequest>,
    slots: &mut SlotPool,
) -> Result<ReservedBatch, StoreError> {
    let keys: Vec<String> = requests
        .iter()
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    let existing: HashMap<String, Award> = store
        .find_by_idempotency_keys(issuer.slug(), &keys)
        .await?
        .into_iter()
        .filter_map(|a| a.idempotency_key.clone().map(|k| (k, a)))
        .collect();
    let mut results: Vec<Option<Result<Award, IssueError>>> = Vec::with_capacity(requests.len());
    let mut todo = Vec::new();
    let now = Utc::now();
    for (i, request) in requests.into_iter().enumerate() {
        if let Some(found) = request
            .idempotency_key
            .as_ref()
            .and_then(|key| existing.get(key).cloned())
        {
            results.push(Some(Ok(found)));
            continue;
        }
        if !class.rules.is_empty() {
            results.push(Some(Err(IssueError::Invalid {
                field: "badge_class",
                problem: format!(
                    "« {} » recognises référentiel competences: it is awarded from a carnet that earns it",
                    class.name
                ),
            })));
            continue;
        }
        if let Err(e) = request
            .validate(now)
            .and_then(|()| check_endorsements(class, &request.details))
        {
            results.push(Some(Err(e)));
            continue;
        }
        results.push(None);
        let recipient = request.recipient.to_string();
        todo.push((
            i,
            recipient,
            Core {
                person_key: Some(crate::referentiel::carnet::person_key(
                    issuer.slug(),
                    &request.recipient,
                )),
                recipient: hash_email(&request.recipient),
                details: request.details,
                issued_by: request.issued_by,
                idempotency_key: request.idempotency_key,
                recognised: None,
            },
        ));
    }
    if todo.is_empty() {
        return Ok(ReservedBatch {
            results,
            todo: Vec::new(),
            now,
        });
    }
    let slots = slots.take(issuer, store, todo.len()).await?;
    Ok(ReservedBatch {
        results,
        todo: todo.into_iter().zip(slots).collect(),
        now,
    })
}

/// The CPU part of [`sign_many`]: builds and signs the reserved awards on `parallel` blocking
/// threads, each a share.
pub async fn sign_reserved(
    issuer: &Arc<Issuer>,
    class: &Arc<BadgeClass>,
    reserved: ReservedBatch,
    parallel: usize,
) -> Result<SignedBatch, StoreError> {
    let ReservedBatch {
        mut results,
        todo,
        now,
    } = reserved;
    if todo.is_empty() {
        return Ok(SignedBatch {
            results,
            prepared: Vec::new(),
        });
    }
    let parallel = parallel.clamp(1, todo.len());
    let mut shares: Vec<Vec<_>> = (0..parallel).map(|_| Vec::new()).collect();
    for (n, item) in todo.into_iter().enumerate() {
        shares[n % parallel].push(item);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for share in shares {
        let (issuer, class) = (issuer.clone(), class.clone());
        tasks.spawn_blocking(move || {
            share
                .into_iter()
                .map(|((i, recipient, core), slot)| {
                    (i, recipient, prepare(&issuer, &class, core, slot, now))
                })
                .collect::<Vec<_>>()
        });
    }
    let mut prepared = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let share = done.map_err(|e| StoreError::Corrupt(format!("a signing task failed: {e}")))?;
        for (i, recipient, p) in share {
            match p {
                Ok(p) => prepared.push((i, recipient, p)),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
    }
    Ok(SignedBatch { results, prepared })
}

/// The second half of [`issue_many`]: the awards stored in one transaction, each request's result.
pub async fn store_many(
    issuer: &Arc<Issuer>,
    class: &Arc<BadgeClass>,
    store: &Store,
    batch: SignedBatch,
) -> Result<Vec<Result<Award, IssueError>>, StoreError> {
    let SignedBatch {
        mut results,
        mut prepared,
    } = batch;
    prepared.sort_by_key(|(i, _, _)| *i);
    let mut versions: Vec<&(String, String)> = Vec::new();
    for (_, _, p) in &prepared {
        if let Some(v) = &p.class_version
            && !versions.contains(&v)
        {
            versions.push(v);
        }
    }
    for (version, document) in versions {
        // Once per call, not once per award.
        save_class_version(issuer, class, store, version, document).await?;
    }
    let news: Vec<NewAward> = prepared.iter().map(|(_, _, p)| p.new.clone()).collect();
    let stored = match store.insert_awards(&news).await {
        Ok(stored) => stored,
        // Another writer took one of these keys meanwhile (PostgreSQL): one by one instead.
        Err(StoreError::Conflict(_)) => {
            let mut stored = Vec::with_capacity(news.len());
            for new in &news {
                match store.insert_award(new).await {
                    Ok(a) => stored.push(Some(a)),
                    Err(StoreError::Conflict(_)) if new.idempotency_key.is_some() => {
                        stored.push(None)
                    }
                    Err(e) => return Err(e),
                }
            }
            stored
        }
        Err(e) => return Err(e),
    };
    for ((i, recipient, p), award) in prepared.into_iter().zip(stored) {
        results[i] = Some(match award {
            Some(award) => {
                tracing::info!(award.id = %award.id, badge_class = %class.slug, recipient = %recipient, "issued badge {}", award.id);
                Ok(award)
            }
            None => store
                .find_by_idempotency_key(
                    issuer.slug(),
                    p.new.idempotency_key.as_deref().unwrap_or_default(),
                )
                .await?
                .ok_or_else(|| IssueError::Signing("conflicting award vanished".into())),
        });
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every request answered"))
        .collect())
}
