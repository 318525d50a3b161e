//! Badge requests (issue #5 §4, the OB-HERO flow) and their private evidence files (§5).
//!
//! A learner, or an educator on their behalf, requests a badge class with files, links and a
//! narrative; an educator approves (the award is issued through `issue::issue` with the
//! idempotency key `request:{id}`, then the request is marked: approving twice gives the same
//! award), returns it with a comment, or declines it with a reason. Sign-in does not exist yet:
//! the API token's name is the "who" of every transition.
//!
//! The list comes a page at a time (`limit`, `after`, a `next` link), oldest first, by keyset on
//! (created_at, id) (migration 0013, written once: PostgreSQL's file links to SQLite's).
//! `PUT …/links` corrects or drops the links of an open request: the way out for a link stored
//! before links were checked.
//!
//! Evidence files are private: opening them and their share links are in `evidence_access.rs`;
//! adding one is `request_evidence.rs`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query};

use crate::referentiel::carnet::person_key;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::api::{Caller, Tenanted};
use super::api::{award_urls, body_error};
use super::{AppError, HttpState};
use crate::issue::{AwardRequest, IssueError, issue};
use crate::ob3::credential::{AwardDetails, FileEvidence};
use crate::recipient::{Email, hash_email};
use crate::store::{
    BadgeRequest, NewBadgeRequest, RequestAction, RequestState, RequestTransition, StoreError,
};

const MAX_TEXT: usize = 4000;
const MAX_LINKS: usize = 20;

/// `POST /api/v1/badge-requests` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    badge_class: String,
    recipient_email: String,
    #[serde(default)]
    recipient_name: Option<String>,
    #[serde(default)]
    narrative: Option<String>,
    #[serde(default)]
    links: Vec<String>,
    requested_by: String,
}

/// Body of a transition: the comment of a return, the reason of a decline.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: Option<String>,
    /// Requests per page (default [`PAGE`], at most [`MAX_PAGE`]).
    #[serde(default)]
    limit: Option<u32>,
    /// The last request of the previous page (its id, as `next` gives it).
    #[serde(default)]
    after: Option<String>,
}

/// Requests per page of `GET /api/v1/badge-requests`, unless `limit` says otherwise.
const PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

pub(super) fn parse_id(id: &str, what: &str) -> Result<Uuid, AppError> {
    id.parse()
        .map_err(|_| AppError::not_found(format!("no such {what}")))
}

fn optional_text(field: &str, value: Option<String>) -> Result<Option<String>, AppError> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(v) = &value
        && let Err(why) = crate::text::check(v, MAX_TEXT, crate::text::Lines::Many)
    {
        return Err(AppError::unprocessable(field, why));
    }
    Ok(value)
}

/// A request's links: at most [`MAX_LINKS`], each a web link the signer accepts; the error names
/// the first wrong one (`links[2]`).
fn check_links(links: &[String]) -> Result<(), AppError> {
    if links.len() > MAX_LINKS {
        return Err(AppError::unprocessable(
            "links",
            format!("at most {MAX_LINKS} links"),
        ));
    }
    for (i, link) in links.iter().enumerate() {
        if let Err(why) = crate::iri::check_web_link(link) {
            return Err(AppError::unprocessable(
                &format!("links[{i}]"),
                format!("{link:?} {why}"),
            ));
        }
    }
    Ok(())
}

pub fn evidence_url(base: &str, id: Uuid) -> String {
    format!("{base}/evidence/{id}")
}

async fn request_document(s: &HttpState, r: &BadgeRequest) -> Result<Value, AppError> {
    let store = s.app.store.as_ref();
    let base = &s.app.issuer.base_url;
    let files = store.request_evidence(r.id).await?;
    let events = store.badge_request_events(r.id).await?;
    let mut doc = json!({
        "id": r.id,
        "badge_class": r.badge_class_slug,
        "state": r.state.as_str(),
        "recipient_name": r.recipient_name,
        "narrative": r.narrative,
        "links": r.links,
        "requested_by": r.requested_by,
        "submitted_by": r.submitted_by,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "award_id": r.award_id,
        "evidence": files.iter().map(|f| json!({
            "id": f.id,
            "url": evidence_url(base, f.id),
            "name": f.name,
            "media_type": f.media_type,
            "genre": f.genre,
            "size": f.size,
            "sha256": f.sha256,
            "added_by": f.added_by,
            "created_at": f.created_at,
        })).collect::<Vec<_>>(),
        "events": events.iter().map(|e| json!({
            "at": e.at,
            "by": e.actor,
            "kind": e.kind.as_str(),
            "comment": e.comment,
            "subject": e.subject,
        })).collect::<Vec<_>>(),
    });
    if let Some(award_id) = r.award_id
        && let Some(award) = store.get_award(award_id).await?
    {
        doc["award"] = award_urls(&s.app.issuer.docs, &award);
    }
    // endorsements (issue #5 §6): how many the class requires, those given, the invitations
    let endorsements = super::endorsements::request_part(s, r).await?;
    for (k, v) in endorsements.as_object().into_iter().flatten() {
        doc[k] = v.clone();
    }
    Ok(doc)
}

pub(super) async fn load(s: &HttpState, id: &str) -> Result<BadgeRequest, AppError> {
    let id = parse_id(id, "badge request")?;
    s.app
        .store
        .get_badge_request(id)
        .await?
        .filter(|r| r.issuer_slug == s.app.issuer.slug())
        .ok_or_else(|| AppError::not_found("no such badge request"))
}

pub async fn create(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = body.map_err(body_error)?;
    let req: CreateRequest = crate::json::parse(&body)
        .map_err(|e| AppError::unprocessable("(body)", format!("invalid JSON body: {e}")))?;
    let class = s.app.class(&req.badge_class).ok_or_else(|| {
        AppError::unprocessable(
            "badge_class",
            format!("unknown badge class \"{}\"", req.badge_class),
        )
    })?;
    if !class.rules.is_empty() {
        return Err(AppError::unprocessable(
            "badge_class",
            format!(
                "« {} » recognises référentiel competences: it is awarded from a carnet that earns it (GET /api/v1/carnets/{{id}}/proposals), not on request",
                class.name
            ),
        ));
    }
    let email = Email::parse(&req.recipient_email)
        .map_err(|e| AppError::unprocessable("recipient_email", e))?;
    let requested_by = optional_text("requested_by", Some(req.requested_by))?.ok_or_else(|| {
        AppError::unprocessable(
            "requested_by",
            "who asks (the learner's or the educator's name) is required",
        )
    })?;
    let narrative = optional_text("narrative", req.narrative)?;
    let recipient_name = optional_text("recipient_name", req.recipient_name)?;
    check_links(&req.links)?;
    let hashed = hash_email(&email);
    let sealed = crate::bulk::seal::seal(
        &s.app.issuer,
        &crate::bulk::seal::Payload {
            email: email.as_str().to_owned(),
            name: None,
            narrative: None,
            evidence_url: None,
            valid_until: None,
            keyed: false,
        },
    )
    .map_err(AppError::internal)?;
    let first_sighting =
        crate::issue::first_sighting(&s.app.store, s.app.issuer.slug(), &email).await;
    let stored = s
        .app
        .store
        .insert_badge_request(&NewBadgeRequest {
            id: Uuid::new_v4(),
            issuer_slug: s.app.issuer.slug().to_owned(),
            badge_class_slug: class.slug.clone(),
            recipient_identity: hashed.identity_hash,
            recipient_salt: hashed.salt,
            recipient_name,
            sealed_recipient: sealed,
            narrative,
            links: req.links,
            requested_by,
            submitted_by: format!("api:{who}"),
            person_key: Some(person_key(s.app.issuer.slug(), &email)),
        })
        .await?;
    if first_sighting {
        crate::issue::link_earlier(&s.app.store, s.app.issuer.slug(), &email).await;
    }
    let doc = request_document(&s, &stored).await?;
    Ok((StatusCode::CREATED, axum::Json(doc)).into_response())
}

pub async fn get(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let r = load(&s, &id).await?;
    Ok(axum::Json(request_document(&s, &r).await?).into_response())
}

pub async fn list(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let state = q
        .state
        .as_deref()
        .map(|name| {
            RequestState::from_name(name).ok_or_else(|| {
                AppError::unprocessable("state", "one of submitted, approved, returned, declined")
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::unprocessable(
            "limit",
            format!("between 1 and {MAX_PAGE} requests a page"),
        ));
    }
    let after = q
        .after
        .as_deref()
        .map(|a| {
            a.parse::<Uuid>().map_err(|_| {
                AppError::unprocessable("after", "the id of a request, as `next` gives it")
            })
        })
        .transpose()?;
    let requests = s
        .app
        .store
        .list_badge_requests(s.app.issuer.slug(), state, limit, after)
        .await?;
    // a full page may have a next one; the link carries the same filter
    let next = (requests.len() == limit as usize)
        .then(|| requests.last())
        .flatten()
        .map(|last| {
            let state = q
                .state
                .as_deref()
                .map(|st| format!("state={st}&"))
                .unwrap_or_default();
            format!(
                "{}/api/v1/badge-requests?{state}limit={limit}&after={}",
                s.app.issuer.base_url, last.id
            )
        });
    let items: Vec<Value> = requests
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "badge_class": r.badge_class_slug,
                "state": r.state.as_str(),
                "recipient_name": r.recipient_name,
                "requested_by": r.requested_by,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
                "award_id": r.award_id,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "items": items, "next": next })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinksBody {
    links: Vec<String>,
    #[serde(default)]
    comment: Option<String>,
}

/// `PUT /api/v1/badge-requests/{id}/links`: an educator replaces the links of a submitted or
/// returned request (an empty list drops them), with an optional comment kept in the trail.
pub async fn correct_links(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let request = load(&s, &id).await?;
    let body: LinksBody = crate::json::parse(&body.map_err(body_error)?)
        .map_err(|e| AppError::unprocessable("(body)", format!("invalid JSON body: {e}")))?;
    check_links(&body.links)?;
    let comment = optional_text("comment", body.comment)?;
    let updated = s
        .app
        .store
        .correct_badge_request_links(
            request.id,
            &body.links,
            &format!("api:{who}"),
            comment.as_deref(),
        )
        .await?;
    Ok(axum::Json(request_document(&s, &updated).await?).into_response())
}

fn transition_body(body: &[u8]) -> Result<TransitionBody, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(TransitionBody::default());
    }
    crate::json::parse(body)
        .map_err(|e| AppError::unprocessable("(body)", format!("invalid JSON body: {e}")))
}

async fn transition(
    s: HttpState,
    who: String,
    id: String,
    body: Result<Bytes, BytesRejection>,
    action: RequestAction,
) -> Result<Response, AppError> {
    let request = load(&s, &id).await?;
    let body = transition_body(&body.map_err(body_error)?)?;
    let comment = optional_text("comment", body.comment.or(body.reason))?;
    let actor = format!("api:{who}");
    let award_id = if action == RequestAction::Approve {
        Some(approve_award(&s, &request, &actor).await?)
    } else {
        None
    };
    let result = s
        .app
        .store
        .transition_badge_request(
            request.id,
            &RequestTransition {
                action,
                actor: &actor,
                comment: comment.as_deref(),
                award_id,
            },
        )
        .await;
    let updated = match result {
        Ok(r) => r,
        // approved meanwhile (a double approval): the same award, nothing else to do
        Err(StoreError::RequestState {
            state: RequestState::Approved,
            ..
        }) if action == RequestAction::Approve => load(&s, &id).await?,
        Err(e) => return Err(e.into()),
    };
    Ok(axum::Json(request_document(&s, &updated).await?).into_response())
}

/// Issues the request's award (or finds it: the idempotency key is `request:{id}`), before the
/// request is marked approved, so a request is never approved without its award.
async fn approve_award(s: &HttpState, r: &BadgeRequest, actor: &str) -> Result<Uuid, AppError> {
    if r.state == RequestState::Approved
        && let Some(award) = r.award_id
    {
        return Ok(award);
    }
    if r.state != RequestState::Submitted {
        return Err(AppError::from(StoreError::RequestState {
            id: r.id,
            state: r.state,
            action: RequestAction::Approve.as_str(),
        }));
    }
    let class = s.app.class(&r.badge_class_slug).ok_or_else(|| {
        AppError::unprocessable(
            "badge_class",
            format!(
                "the badge class \"{}\" is no longer offered",
                r.badge_class_slug
            ),
        )
    })?;
    // a link stored before links were checked at the door cannot be signed: say which, and how
    // to correct it, rather than fail at signing
    for (i, link) in r.links.iter().enumerate() {
        if let Err(why) = crate::iri::check_web_link(link) {
            return Err(AppError::unprocessable(
                &format!("links[{i}]"),
                format!(
                    "the request's link {link:?} {why}: correct or drop it (PUT /api/v1/badge-requests/{}/links), then approve again",
                    r.id
                ),
            ));
        }
    }
    let files = s.app.store.request_evidence(r.id).await?;
    if class.evidence_required && files.is_empty() && r.links.is_empty() {
        return Err(AppError::unprocessable(
            "evidence",
            format!(
                "« {} » needs evidence: add a file or a link to the request first",
                class.name
            ),
        ));
    }
    // a class may require endorsements; the award embeds those given, under the id the request
    // reserved for them
    let (reserved_id, endorsements) = crate::endorsement::flow::for_approval(&s.app, r).await?;
    if let Some(missing) =
        crate::badge_class::endorsements_missing(class.endorsements_minimum, endorsements.len())
    {
        return Err(AppError::unprocessable(
            "endorsements",
            format!(
                "« {} » needs {} endorsement(s) before it is awarded: {} received, {missing} missing (invite endorsers: POST /api/v1/badge-requests/{}/endorsement-invitations)",
                class.name,
                class.endorsements_minimum,
                endorsements.len(),
                r.id
            ),
        ));
    }
    let base = &s.app.issuer.base_url;
    let embedded = endorsements
        .iter()
        .map(|e| crate::endorsement::flow::embedded(base, e))
        .collect::<Result<Vec<_>, _>>()?;
    let payload =
        crate::bulk::seal::open(&s.app.issuer, &r.sealed_recipient).map_err(AppError::internal)?;
    let email = Email::parse(&payload.email).map_err(AppError::internal)?;
    let mut evidence_files: Vec<FileEvidence> = files
        .iter()
        .map(|f| FileEvidence {
            url: evidence_url(base, f.id),
            name: f.name.clone(),
            genre: f.genre.clone(),
            description: format!("Preuve apportée avec la demande de badge ({})", f.genre),
        })
        .collect();
    evidence_files.extend(r.links.iter().map(|link| FileEvidence {
        url: link.clone(),
        name: "Lien apporté".to_owned(),
        genre: "link".to_owned(),
        description: "Lien apporté avec la demande de badge".to_owned(),
    }));
    let award = issue(
        &s.app.issuer,
        class,
        s.app.store.as_ref(),
        AwardRequest {
            badge_class: class.slug.clone(),
            recipient: email,
            details: AwardDetails {
                recipient_name: r.recipient_name.clone(),
                evidence_url: None,
                narrative: r.narrative.clone(),
                valid_until: None,
                evidence_files,
                endorsements: embedded,
                reserved_id,
            },
            issued_by: actor.to_owned(),
            idempotency_key: Some(format!("request:{}", r.id)),
        },
    )
    .await
    .map_err(|e| match e {
        IssueError::Invalid { field, problem } => AppError::unprocessable(field, problem),
        IssueError::Store(e) => e.into(),
        other => AppError::internal(other.to_string()),
    })?;
    // An endorsement given while the award was being issued is embedded now. The award is
    // issued either way: if this fails, the next endorsement's sync embeds it.
    if let Err(e) = crate::endorsement::flow::sync_award(&s.app, award.id, actor).await {
        tracing::error!(award.id = %award.id, "the award could not be re-signed with its latest endorsements: {e}");
    }
    Ok(award.id)
}

macro_rules! transition_handler {
    ($name:ident, $action:expr) => {
        pub async fn $name(
            Tenanted(s): Tenanted,
            Caller(who): Caller,
            Path(id): Path<String>,
            body: Result<Bytes, BytesRejection>,
        ) -> Result<Response, AppError> {
            transition(s, who, id, body, $action).await
        }
    };
}

transition_handler!(approve, RequestAction::Approve);
transition_handler!(return_for_revision, RequestAction::Return);
transition_handler!(decline, RequestAction::Decline);
transition_handler!(resubmit, RequestAction::Resubmit);
