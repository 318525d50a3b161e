//! What the store keeps of badge requests and their evidence (migration 0006), issue #5 §4-§5
//! (the OB-HERO flow): the types and state machine here, the queries in `queries.rs` (requests
//! and their trail) and `evidence.rs` (files and share links), written once for both backends.
//!
//! A request is written with its "submitted" event in ONE transaction; every later transition
//! (approved, returned, declined, resubmitted) and every evidence file added is written with its
//! event, so the trail says who did what and when. Allowed transitions:
//! submitted → approved | returned | declined, returned → submitted (resubmitted).
//!
//! Privacy: no clear email. The recipient is kept as the salted hash awards carry, plus the
//! email sealed with a key derived from the issuer's private key (`bulk::seal`), which approval
//! opens to issue. Evidence files are kept in the database (several app nodes share them) with
//! their SHA-256 and the type read from their bytes; share tokens are kept as their SHA-256 only.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;

mod evidence;
mod queries;

text_enum! {
    /// Where a request is.
    pub enum RequestState ("request state") {
        /// Waiting for an educator.
        Submitted = "submitted",
        /// The award was issued (`award_id`).
        Approved = "approved",
        /// Sent back for revision with a comment; can be resubmitted.
        Returned = "returned",
        /// Refused with a reason; final.
        Declined = "declined",
    }
}

impl RequestState {
    /// Evidence can be added while the request is being written or revised.
    pub fn accepts_evidence(self) -> bool {
        matches!(self, RequestState::Submitted | RequestState::Returned)
    }
}

text_enum! {
    /// A transition asked of a request, with the state it leads to.
    pub enum RequestAction ("request action") {
        Approve = "approve",
        Return = "return",
        Decline = "decline",
        Resubmit = "resubmit",
    }
}

impl RequestAction {
    /// The state the request must be in.
    pub fn from_state(self) -> RequestState {
        match self {
            RequestAction::Resubmit => RequestState::Returned,
            _ => RequestState::Submitted,
        }
    }

    /// The state it goes to.
    pub fn to_state(self) -> RequestState {
        match self {
            RequestAction::Approve => RequestState::Approved,
            RequestAction::Return => RequestState::Returned,
            RequestAction::Decline => RequestState::Declined,
            RequestAction::Resubmit => RequestState::Submitted,
        }
    }

    /// The event it writes.
    pub fn event(self) -> RequestEventKind {
        match self {
            RequestAction::Approve => RequestEventKind::Approved,
            RequestAction::Return => RequestEventKind::Returned,
            RequestAction::Decline => RequestEventKind::Declined,
            RequestAction::Resubmit => RequestEventKind::Resubmitted,
        }
    }
}

text_enum! {
    /// What happened to a request.
    pub enum RequestEventKind ("request event") {
        Submitted = "submitted",
        EvidenceAdded = "evidence_added",
        Approved = "approved",
        Returned = "returned",
        Declined = "declined",
        Resubmitted = "resubmitted",
        /// An educator replaced the request's links (migration 0010).
        LinksCorrected = "links_corrected",
    }
}

/// A request as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBadgeRequest {
    pub id: Uuid,
    pub issuer_slug: String,
    pub badge_class_slug: String,
    /// `sha256$<hex>` salted hash of the recipient's email, as on awards.
    pub recipient_identity: String,
    pub recipient_salt: String,
    pub recipient_name: Option<String>,
    /// The recipient's email sealed under the issuer's key (`bulk::seal`), for approval.
    pub sealed_recipient: String,
    /// In the learner's own words.
    pub narrative: Option<String>,
    pub links: Vec<String>,
    /// Who asked, as they gave it (the learner or an educator on their behalf).
    pub requested_by: String,
    /// Who sent it (API token name, CLI user).
    pub submitted_by: String,
    /// The person asking, in the institution (`referentiel::carnet::person_key`).
    pub person_key: Option<String>,
}

/// A stored request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeRequest {
    pub id: Uuid,
    pub issuer_slug: String,
    pub badge_class_slug: String,
    pub recipient_identity: String,
    pub recipient_salt: String,
    pub recipient_name: Option<String>,
    pub sealed_recipient: String,
    pub narrative: Option<String>,
    pub links: Vec<String>,
    pub requested_by: String,
    pub submitted_by: String,
    pub state: RequestState,
    /// The award issued on approval.
    pub award_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A transition to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTransition<'a> {
    pub action: RequestAction,
    /// Who (API token name, CLI user).
    pub actor: &'a str,
    /// The comment of a return, the reason of a decline, an optional note otherwise.
    pub comment: Option<&'a str>,
    /// The award issued, for an approval (required then, refused otherwise).
    pub award_id: Option<Uuid>,
}

/// One line of a request's trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: RequestEventKind,
    pub comment: Option<String>,
    /// The evidence file added or the award issued, when the event concerns one.
    pub subject: Option<Uuid>,
}

/// An evidence file to add to a request; its type was read from its bytes (`evidence::sniff`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvidence {
    pub id: Uuid,
    pub request_id: Uuid,
    /// SHA-256 of `content`, lower-case hex.
    pub sha256: String,
    pub media_type: String,
    /// `image`, `document`, `audio` or `video`.
    pub genre: String,
    /// The file name as given (shown, never trusted for the type).
    pub name: String,
    pub content: Vec<u8>,
    pub added_by: String,
}

/// A stored evidence file, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    pub id: Uuid,
    pub request_id: Uuid,
    pub sha256: String,
    pub media_type: String,
    pub genre: String,
    pub name: String,
    pub size: u64,
    pub added_by: String,
    pub created_at: DateTime<Utc>,
}

/// What adding a file did: files are deduplicated by content within a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddedEvidence {
    Added(EvidenceFile),
    /// The request already had this content: the stored file, unchanged.
    Existing(EvidenceFile),
}

impl AddedEvidence {
    pub fn file(&self) -> &EvidenceFile {
        match self {
            AddedEvidence::Added(file) | AddedEvidence::Existing(file) => file,
        }
    }
}

/// A share link of an evidence file: its token is given once, only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvidenceShare {
    pub id: Uuid,
    pub evidence_id: Uuid,
    /// SHA-256 of the token, lower-case hex.
    pub token_sha256: String,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceShare {
    pub id: Uuid,
    pub evidence_id: Uuid,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

/// Checks a transition before anything is written: a return or decline needs its comment, an
/// approval its award, and nothing else carries an award.
pub(crate) fn check_transition(t: &RequestTransition<'_>) -> Result<(), StoreError> {
    let comment_missing = t.comment.is_none_or(|c| c.trim().is_empty());
    match t.action {
        RequestAction::Return | RequestAction::Decline if comment_missing => {
            Err(StoreError::InvalidTransition(format!(
                "a request cannot be {}ed without a {}",
                t.action.as_str().trim_end_matches('e'),
                if t.action == RequestAction::Return {
                    "comment"
                } else {
                    "reason"
                }
            )))
        }
        RequestAction::Approve if t.award_id.is_none() => Err(StoreError::InvalidTransition(
            "an approval records the award issued".to_owned(),
        )),
        action if action != RequestAction::Approve && t.award_id.is_some() => Err(
            StoreError::InvalidTransition("only an approval records an award".to_owned()),
        ),
        _ => Ok(()),
    }
}

/// Links are stored as a JSON array of strings.
pub(crate) fn links_to_json(links: &[String]) -> String {
    serde_json::to_string(links).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn links_from_json(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("request links are not a JSON list: {e}")))
}
