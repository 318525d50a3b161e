//! Badge requests and their trail, written once for both backends (see [`crate::store::db`]).
//!
//! A write that reads a request first (transition, link correction, evidence) reads it
//! `FOR UPDATE`: PostgreSQL then makes a concurrent write to the same request wait and see the
//! new state; SQLite already holds the write lock from `BEGIN IMMEDIATE`. Timestamps are taken
//! once that lock is held, so that a request's trail is in time order as well as in `seq` order.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{check_transition, links_from_json, links_to_json};
use crate::store::db::{self, On, Row, Tx};
use crate::store::{
    BadgeRequest, NewBadgeRequest, RequestEvent, RequestEventKind, RequestState, RequestTransition,
    Store, StoreError, to_micros,
};

const REQUEST_COLUMNS: &str = "id, issuer_slug, badge_class_slug, recipient_identity, \
     recipient_salt, recipient_name, sealed_recipient, narrative, links, requested_by, \
     submitted_by, state, award_id, created_at, updated_at";

impl Store {
    /// Writes the request (state `submitted`) and its "submitted" event in ONE transaction.
    pub async fn insert_badge_request(
        &self,
        request: &NewBadgeRequest,
    ) -> Result<BadgeRequest, StoreError> {
        let now = to_micros(Utc::now());
        let mut tx = self.db.begin().await?;
        let stored = db::query(format!(
            "INSERT INTO badge_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, 'submitted', NULL, $12, $12) RETURNING {REQUEST_COLUMNS}"
        ))
        .bind(request.id)
        .bind(&request.issuer_slug)
        .bind(&request.badge_class_slug)
        .bind(&request.recipient_identity)
        .bind(&request.recipient_salt)
        .bind(&request.recipient_name)
        .bind(&request.sealed_recipient)
        .bind(&request.narrative)
        .bind(links_to_json(&request.links))
        .bind(&request.requested_by)
        .bind(&request.submitted_by)
        .bind(now)
        .fetch_one_with(&mut tx, request_from_row)
        .await?;
        if let Some(key) = &request.person_key {
            db::query("UPDATE badge_requests SET person_key = $2 WHERE id = $1")
                .bind(request.id)
                .bind(key)
                .execute(&mut tx)
                .await?;
            crate::store::people::insert_people(&mut tx, &[(&request.issuer_slug, key, now)])
                .await?;
        }
        let event = Event::new(
            request.id,
            now,
            &request.submitted_by,
            RequestEventKind::Submitted,
        );
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn get_badge_request(&self, id: Uuid) -> Result<Option<BadgeRequest>, StoreError> {
        request_in(&self.db, id, false).await
    }

    /// An issuer's requests (only those in `state` when given), oldest first, `limit` at a time:
    /// the page after the request `after`, or the first page. Keyset pagination (index
    /// `badge_requests_issuer_created`, migration 0013): every page costs the same, and requests
    /// made meanwhile never shift one. An `after` that is not one of the issuer's requests gives
    /// an empty page.
    pub async fn list_badge_requests(
        &self,
        issuer_slug: &str,
        state: Option<RequestState>,
        limit: u32,
        after: Option<Uuid>,
    ) -> Result<Vec<BadgeRequest>, StoreError> {
        let mut filter = String::from("issuer_slug = $1");
        if state.is_some() {
            filter.push_str(" AND state = $2");
        }
        if after.is_some() {
            filter.push_str(
                " AND (created_at, id) > \
                 (SELECT created_at, id FROM badge_requests WHERE id = $4 AND issuer_slug = $1)",
            );
        }
        // every argument is bound, used or not, so that the placeholders keep their numbers
        db::query(format!(
            "SELECT {REQUEST_COLUMNS} FROM badge_requests WHERE {filter} \
             ORDER BY created_at, id LIMIT $3"
        ))
        .bind(issuer_slug)
        .bind(state.map_or("", |s| s.as_str()))
        .bind(limit)
        .bind(after)
        .fetch_all_with(&self.db, request_from_row)
        .await
    }

    /// Moves the request and writes the event (who, when, comment) in ONE transaction. An unknown
    /// request gives [`StoreError::RequestNotFound`]; a request not in the state the action needs
    /// gives [`StoreError::RequestState`] and is left as it was; a return or decline without a
    /// comment, or an approval without its award, gives [`StoreError::InvalidTransition`].
    pub async fn transition_badge_request(
        &self,
        id: Uuid,
        transition: &RequestTransition<'_>,
    ) -> Result<BadgeRequest, StoreError> {
        check_transition(transition)?;
        let action = transition.action;
        let mut tx = self.db.begin().await?;
        let current = request_in(&mut tx, id, true)
            .await?
            .ok_or(StoreError::RequestNotFound(id))?;
        if current.state != action.from_state() {
            return Err(StoreError::RequestState {
                id,
                state: current.state,
                action: action.as_str(),
            });
        }
        let now = to_micros(Utc::now());
        // A closed request (approved or declined) never issues again: its sealed email is erased.
        let stored = db::query(format!(
            "UPDATE badge_requests SET state = $1, award_id = $2, updated_at = $3, \
             sealed_recipient = CASE WHEN $1 IN ('approved', 'declined') THEN '' \
             ELSE sealed_recipient END WHERE id = $4 RETURNING {REQUEST_COLUMNS}"
        ))
        .bind(action.to_state().as_str())
        .bind(transition.award_id)
        .bind(now)
        .bind(id)
        .fetch_one_with(&mut tx, request_from_row)
        .await?;
        let event = Event {
            comment: transition.comment,
            subject: transition.award_id,
            ..Event::new(id, now, transition.actor, action.event())
        };
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Replaces the links of a submitted or returned request and writes a "links_corrected" event
    /// (who, when, `comment`) in ONE transaction: the way out for a link stored before links were
    /// checked, which could not be signed. The caller checks the new links. An unknown request
    /// gives [`StoreError::RequestNotFound`], one in another state [`StoreError::RequestState`].
    pub async fn correct_badge_request_links(
        &self,
        id: Uuid,
        links: &[String],
        actor: &str,
        comment: Option<&str>,
    ) -> Result<BadgeRequest, StoreError> {
        let mut tx = self.db.begin().await?;
        let current = request_in(&mut tx, id, true)
            .await?
            .ok_or(StoreError::RequestNotFound(id))?;
        if !matches!(
            current.state,
            RequestState::Submitted | RequestState::Returned
        ) {
            return Err(StoreError::RequestState {
                id,
                state: current.state,
                action: "correct",
            });
        }
        let now = to_micros(Utc::now());
        let stored = db::query(format!(
            "UPDATE badge_requests SET links = $1, updated_at = $2 WHERE id = $3 \
             RETURNING {REQUEST_COLUMNS}"
        ))
        .bind(links_to_json(links))
        .bind(now)
        .bind(id)
        .fetch_one_with(&mut tx, request_from_row)
        .await?;
        let event = Event {
            comment,
            ..Event::new(id, now, actor, RequestEventKind::LinksCorrected)
        };
        insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The request's trail, oldest first; empty for an unknown request.
    pub async fn badge_request_events(&self, id: Uuid) -> Result<Vec<RequestEvent>, StoreError> {
        db::query(
            "SELECT at, actor, kind, comment, subject FROM badge_request_events \
             WHERE request_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all_with(&self.db, |row| {
            Ok(RequestEvent {
                at: row.time("at")?,
                actor: row.text("actor")?,
                kind: RequestEventKind::parse(&row.text("kind")?)?,
                comment: row.opt_text("comment")?,
                subject: row.opt_id("subject")?,
            })
        })
        .await
    }
}

fn request_from_row(row: &Row) -> Result<BadgeRequest, StoreError> {
    Ok(BadgeRequest {
        id: row.id("id")?,
        issuer_slug: row.text("issuer_slug")?,
        badge_class_slug: row.text("badge_class_slug")?,
        recipient_identity: row.text("recipient_identity")?,
        recipient_salt: row.text("recipient_salt")?,
        recipient_name: row.opt_text("recipient_name")?,
        sealed_recipient: row.text("sealed_recipient")?,
        narrative: row.opt_text("narrative")?,
        links: links_from_json(&row.text("links")?)?,
        requested_by: row.text("requested_by")?,
        submitted_by: row.text("submitted_by")?,
        state: RequestState::parse(&row.text("state")?)?,
        award_id: row.opt_id("award_id")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// The request; with `lock`, locked until the end of the transaction (PostgreSQL: a concurrent
/// writer waits, then reads the new state; SQLite: the transaction holds the write lock anyway).
pub(super) async fn request_in(
    on: impl Into<On<'_>>,
    id: Uuid,
    lock: bool,
) -> Result<Option<BadgeRequest>, StoreError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    db::query(format!(
        "SELECT {REQUEST_COLUMNS} FROM badge_requests WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional_with(on, request_from_row)
    .await
}

/// One line of a request's trail, to write.
pub(super) struct Event<'a> {
    pub(super) request_id: Uuid,
    pub(super) at: DateTime<Utc>,
    pub(super) actor: &'a str,
    pub(super) kind: RequestEventKind,
    pub(super) comment: Option<&'a str>,
    pub(super) subject: Option<Uuid>,
}

impl<'a> Event<'a> {
    pub(super) fn new(
        request_id: Uuid,
        at: DateTime<Utc>,
        actor: &'a str,
        kind: RequestEventKind,
    ) -> Self {
        Event {
            request_id,
            at,
            actor,
            kind,
            comment: None,
            subject: None,
        }
    }
}

pub(super) async fn insert_event(tx: &mut Tx, event: Event<'_>) -> Result<(), StoreError> {
    db::query(
        "INSERT INTO badge_request_events (request_id, at, actor, kind, comment, subject) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event.request_id)
    .bind(event.at)
    .bind(event.actor)
    .bind(event.kind.as_str())
    .bind(event.comment)
    .bind(event.subject)
    .execute(tx)
    .await?;
    Ok(())
}
