//! What the store keeps of endorsements by people without an account (migration 0007, issue #5
//! §6); the queries, written once for both backends, are in `queries.rs`.
//!
//! - An **invitation** is a single-use, expiring link an educator gives an endorser (a tutor, a
//!   colleague...). Only the SHA-256 of its token is kept. It names the award it is about: an
//!   award already issued, or the award id a badge request reserved (`request_id` then set), so
//!   that the endorsement names the credential before it exists.
//! - An **endorsement** is what the endorser wrote, with the signed OB 3.0
//!   `EndorsementCredential` and the hosted OB 2.0 `Endorsement`. It is written in ONE
//!   transaction with the use of its invitation, so a link never gives two endorsements.
//! - An award that gains an endorsement is re-signed under the same id and status slot
//!   ([`AwardDocuments`]); the documents are replaced only if they did not change meanwhile.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;

mod queries;

text_enum! {
    /// Who the educator invites (the endorser's relation to the recipient).
    pub enum EndorserKind ("endorser kind") {
        /// An internship or company tutor.
        Tutor = "tutor",
        /// A colleague at work.
        Colleague = "colleague",
        /// Another educator.
        Educator = "educator",
        /// A partner organisation (an association, a company...).
        Partner = "partner",
    }
}

impl EndorserKind {
    pub const ALL: [EndorserKind; 4] = [
        EndorserKind::Tutor,
        EndorserKind::Colleague,
        EndorserKind::Educator,
        EndorserKind::Partner,
    ];

    /// In plain French, as the endorser's profile says it.
    pub fn label_fr(self) -> &'static str {
        match self {
            EndorserKind::Tutor => "tuteur ou tutrice en entreprise",
            EndorserKind::Colleague => "collègue de travail",
            EndorserKind::Educator => "éducateur ou éducatrice",
            EndorserKind::Partner => "organisation partenaire",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            EndorserKind::Tutor => "company tutor",
            EndorserKind::Colleague => "colleague",
            EndorserKind::Educator => "educator",
            EndorserKind::Partner => "partner organisation",
        }
    }
}

/// An invitation to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    pub id: Uuid,
    pub issuer_slug: String,
    /// SHA-256 of the token, lower-case hex; the token itself is given once, in the link.
    pub token_sha256: String,
    /// The award endorsed: issued, or reserved by `request_id`.
    pub award_id: Uuid,
    pub request_id: Option<Uuid>,
    pub badge_class_slug: String,
    pub endorser_kind: EndorserKind,
    /// The educator's note to the endorser (shown on the page, never published).
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

text_enum! {
    /// Where an invitation is.
    pub enum InvitationState ("invitation state") {
        /// Its link can still be used.
        Pending = "pending",
        /// An endorsement was given through it.
        Used = "used",
        /// Its time ran out unused.
        Expired = "expired",
        /// The educator cancelled it.
        Revoked = "revoked",
    }
}

/// A stored invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: Uuid,
    pub issuer_slug: String,
    pub award_id: Uuid,
    pub request_id: Option<Uuid>,
    pub badge_class_slug: String,
    pub endorser_kind: EndorserKind,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    /// The endorsement given through it, once used.
    pub endorsement_id: Option<Uuid>,
}

impl Invitation {
    /// Its state at `now`: used and revoked come first (they never change back), then expiry.
    pub fn state(&self, now: DateTime<Utc>) -> InvitationState {
        if self.used_at.is_some() {
            InvitationState::Used
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if self.expires_at <= now {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }
}

/// An endorsement to record, with its invitation's use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndorsement {
    pub id: Uuid,
    pub issuer_slug: String,
    pub invitation_id: Uuid,
    /// The id of the endorser's Profile that carnet hosts (one per endorsement).
    pub endorser_id: Uuid,
    pub award_id: Uuid,
    pub request_id: Option<Uuid>,
    pub endorser_kind: EndorserKind,
    pub endorser_name: String,
    pub endorser_role: String,
    pub endorser_organisation: Option<String>,
    pub comment: String,
    /// The signed OB 3.0 `EndorsementCredential`.
    pub credential_json: String,
    /// The hosted OB 2.0 `Endorsement` (`None` when the issuer publishes no OB 2.0).
    pub ob2_json: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A stored endorsement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorsement {
    pub id: Uuid,
    pub issuer_slug: String,
    pub invitation_id: Uuid,
    pub endorser_id: Uuid,
    pub award_id: Uuid,
    pub request_id: Option<Uuid>,
    pub endorser_kind: EndorserKind,
    pub endorser_name: String,
    pub endorser_role: String,
    pub endorser_organisation: Option<String>,
    pub comment: String,
    pub credential_json: String,
    pub ob2_json: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Why an invitation cannot give an endorsement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvitationProblem {
    Unknown,
    Used,
    Expired,
    Revoked,
}

impl fmt::Display for InvitationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvitationProblem::Unknown => "unknown",
            InvitationProblem::Used => "already used",
            InvitationProblem::Expired => "expired",
            InvitationProblem::Revoked => "revoked",
        })
    }
}

/// An award's documents re-signed with more endorsements: the same id, status slot and dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardDocuments {
    pub credential_json: String,
    /// The RSA key that will sign the new documents' RS256 forms (VC-JWT, OB 2.0 signed
    /// assertion) on their first download: the previous ones are dropped (migration 0009).
    pub rsa_kid: String,
    pub assertion_json: Option<String>,
    /// The endorsements newly embedded (recorded in the "endorsed" event).
    pub endorsements: Vec<Uuid>,
    /// Who (an endorser, through their invitation; or the educator's approval).
    pub actor: String,
}

/// The detail of an "endorsed" award event.
pub(crate) fn endorsed_event_detail(credential_id: &str, endorsements: &[Uuid]) -> String {
    serde_json::json!({
        "credential_id": credential_id,
        "endorsements": endorsements,
    })
    .to_string()
}

/// Checks, inside the transaction that uses it, that an invitation may still give its endorsement.
pub(crate) fn usable(
    invitation: Option<&Invitation>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(invitation) = invitation else {
        return Err(StoreError::InvitationUnusable(InvitationProblem::Unknown));
    };
    match invitation.state(now) {
        InvitationState::Pending => Ok(()),
        InvitationState::Used => Err(StoreError::InvitationUnusable(InvitationProblem::Used)),
        InvitationState::Expired => Err(StoreError::InvitationUnusable(InvitationProblem::Expired)),
        InvitationState::Revoked => Err(StoreError::InvitationUnusable(InvitationProblem::Revoked)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_states_follow_the_dates() {
        for kind in EndorserKind::ALL {
            assert_eq!(EndorserKind::parse(kind.as_str()).unwrap(), kind);
        }
        assert!(EndorserKind::from_name("boss").is_none());
        let now = Utc::now();
        let mut inv = Invitation {
            id: Uuid::new_v4(),
            issuer_slug: "ime".into(),
            award_id: Uuid::new_v4(),
            request_id: None,
            badge_class_slug: "c".into(),
            endorser_kind: EndorserKind::Tutor,
            note: None,
            created_by: "api:t".into(),
            created_at: now,
            expires_at: now + chrono::Duration::days(1),
            used_at: None,
            revoked_at: None,
            revoked_by: None,
            endorsement_id: None,
        };
        assert_eq!(inv.state(now), InvitationState::Pending);
        assert_eq!(
            inv.state(now + chrono::Duration::days(2)),
            InvitationState::Expired
        );
        inv.revoked_at = Some(now);
        assert_eq!(inv.state(now), InvitationState::Revoked);
        inv.used_at = Some(now);
        assert_eq!(
            inv.state(now + chrono::Duration::days(2)),
            InvitationState::Used
        );
        assert!(matches!(
            usable(Some(&inv), now),
            Err(StoreError::InvitationUnusable(InvitationProblem::Used))
        ));
        assert!(matches!(
            usable(None, now),
            Err(StoreError::InvitationUnusable(InvitationProblem::Unknown))
        ));
    }
}
