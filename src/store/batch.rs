//! What both backends' `insert_awards` (`<backend>/awards_batch.rs`) share: a page's keys and
//! status slots grouped for one query each, and the page split into the awards to insert and
//! those whose key is taken.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};

use super::{Award, NewAward, issued_event_detail};

/// The idempotency keys of a page, per issuer (a page has one).
pub(super) fn keys_by_issuer(awards: &[NewAward]) -> BTreeMap<&str, Vec<&str>> {
    let mut by_issuer: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for a in awards {
        if let Some(key) = &a.idempotency_key {
            by_issuer.entry(&a.issuer_slug).or_default().push(key);
        }
    }
    by_issuer
}

/// The highest status slot the awards use in each (issuer, list): checking it is allocated
/// checks them all (slots are handed out in order).
pub(super) fn highest_slots<'a>(
    awards: impl Iterator<Item = &'a Award>,
) -> BTreeMap<(&'a str, u32), u32> {
    let mut highest: BTreeMap<(&str, u32), u32> = BTreeMap::new();
    for a in awards {
        if let (Some(list), Some(index)) = (a.status_list, a.status_index) {
            let top = highest.entry((&a.issuer_slug, list)).or_insert(index);
            *top = (*top).max(index);
        }
    }
    highest
}

/// A page split by [`split`].
pub(super) struct Split {
    /// Each award's result, in order: `None` when its key is taken.
    pub stored: Vec<Option<Award>>,
    /// The awards to insert, each with its `issued` event's detail.
    pub new_rows: Vec<(Award, String)>,
}

/// Splits a page: an award whose (issuer, key) is `taken`, or used earlier in the page, is
/// skipped; the others are written at `now`.
pub(super) fn split(
    awards: &[NewAward],
    mut taken: HashSet<(String, String)>,
    now: DateTime<Utc>,
) -> Split {
    let mut stored = Vec::with_capacity(awards.len());
    let mut new_rows = Vec::with_capacity(awards.len());
    for new in awards {
        if let Some(key) = &new.idempotency_key
            && !taken.insert((new.issuer_slug.clone(), key.clone()))
        {
            stored.push(None);
            continue;
        }
        let award = Award::from_new(new, now);
        stored.push(Some(award.clone()));
        new_rows.push((award, issued_event_detail(new)));
    }
    Split { stored, new_rows }
}
