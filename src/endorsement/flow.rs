//! The endorsement flow, from the educator's invitation to the award that carries the
//! endorsement: [`invite`], [`open`] (what the endorser's link shows), [`submit`], and
//! [`sync_award`], which re-signs an issued award with the endorsements it does not carry yet.
//!
//! An invitation for a badge request reserves the request's award id, so the endorsement names
//! the credential before it exists. A link that is unknown is 404; used, expired, revoked, or
//! whose request was declined or award withdrawn, 410 ([`LinkProblem`]: a plain page, never a
//! 500). [`submit`] checks the form, signs off the async runtime, and stores the endorsement with
//! the use of its invitation in one transaction. [`for_approval`] gives a request's approval its
//! reserved id and endorsements.
//!
//! Embedding is idempotent and safe under concurrency: the award's documents are replaced only
//! if they did not change since they were read (compare and swap, retried), and every pass
//! embeds all the award's stored endorsements it lacks. It runs after each endorsement given
//! for an issued award and after a badge request's approval, so an endorsement given while the
//! request was being approved is embedded too.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::documents::{
    self, EndorsementParts, ToEmbed, embedded_ids, endorsement_url, ob2_endorsement_url,
};
use super::profile::EndorserProfile;
use super::{EndorserInput, FieldProblem, InvitationInput, plausible_token, validate};
use crate::app::App;
use crate::ob3::credential::EmbeddedEndorsement;
use crate::store::{
    Award, AwardDocuments, BadgeRequest, Endorsement, Invitation, InvitationProblem,
    InvitationState, NewEndorsement, NewInvitation, RequestState, StoreError,
};

/// How many times an award's documents are read again when they changed meanwhile.
const SYNC_ATTEMPTS: usize = 5;

/// Why an endorser's link cannot be used (the page says it plainly; never a 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    Unknown,
    Used,
    Expired(DateTime<Utc>),
    Revoked,
    /// The badge request was declined.
    RequestClosed,
    /// The award was withdrawn.
    AwardRevoked,
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// A field of an API call (422).
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    /// The request or award is not in a state that allows it (409).
    #[error("{0}")]
    Conflict(String),
    #[error("the endorsement link cannot be used: {0:?}")]
    Link(LinkProblem),
    /// The endorser's form (422 page).
    #[error("the form has {} problem(s)", .0.len())]
    Form(Vec<FieldProblem>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl crate::problem::Problem for FlowError {
    fn kind(&self) -> crate::problem::Kind {
        use crate::problem::Kind;
        match self {
            FlowError::Invalid { .. } | FlowError::Form(_) => Kind::Invalid,
            FlowError::Conflict(_) => Kind::WrongState,
            FlowError::Link(LinkProblem::Unknown) => Kind::NotFound,
            FlowError::Link(_) => Kind::Gone,
            FlowError::Store(e) => e.kind(),
            FlowError::Internal(_) => Kind::Internal,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            FlowError::Invalid { field, .. } => Some(field),
            FlowError::Form(problems) => problems.first().map(|p| p.field),
            _ => None,
        }
    }

    fn detail(&self) -> String {
        match self {
            FlowError::Invalid { problem, .. } => problem.clone(),
            other => other.to_string(),
        }
    }

    fn transparent(&self) -> Option<&dyn crate::problem::Problem> {
        match self {
            FlowError::Store(e) => Some(e),
            _ => None,
        }
    }
}

/// What an invitation is about.
#[derive(Debug, Clone, Copy)]
pub enum InviteTarget<'a> {
    /// Before the award: the request reserves the award's id.
    Request(&'a BadgeRequest),
    /// An award already issued: it will be re-signed with the endorsement.
    Award(&'a Award),
}

/// A new invitation, with its link (the token appears only here, once).
#[derive(Debug, Clone)]
pub struct CreatedInvitation {
    pub invitation: Invitation,
    pub link: String,
}

/// The link of an invitation's token.
pub fn link(base_url: &str, token: &str) -> String {
    format!("{base_url}/endorse/{token}")
}

/// Records an invitation for a badge request (submitted or returned) or an issued award.
pub async fn invite(
    app: &App,
    target: InviteTarget<'_>,
    input: &InvitationInput,
    actor: &str,
) -> Result<CreatedInvitation, FlowError> {
    let store = app.store.as_ref();
    let (award_id, request_id, class_slug) = match target {
        InviteTarget::Request(r) => {
            match r.state {
                RequestState::Submitted | RequestState::Returned => {}
                RequestState::Approved => {
                    return Err(FlowError::Conflict(format!(
                        "the badge request is approved: invite endorsers for its award (POST /api/v1/awards/{}/endorsement-invitations)",
                        r.award_id.map(|a| a.to_string()).unwrap_or_default()
                    )));
                }
                RequestState::Declined => {
                    return Err(FlowError::Conflict(
                        "the badge request was declined: nobody can endorse it".into(),
                    ));
                }
            }
            if app.class(&r.badge_class_slug).is_none() {
                return Err(FlowError::Invalid {
                    field: "badge_class",
                    problem: format!(
                        "the badge class \"{}\" is no longer offered",
                        r.badge_class_slug
                    ),
                });
            }
            let reserved = store.reserve_request_award_id(r.id, Uuid::new_v4()).await?;
            // approved meanwhile under another id (before the reservation): refuse
            if let Some(now) = store.get_badge_request(r.id).await?
                && now.state == RequestState::Approved
                && now.award_id != Some(reserved)
            {
                return Err(FlowError::Conflict(
                    "the badge request was approved meanwhile: invite endorsers for its award"
                        .into(),
                ));
            }
            (reserved, Some(r.id), r.badge_class_slug.clone())
        }
        InviteTarget::Award(a) => {
            if a.revoked_at.is_some() {
                return Err(FlowError::Conflict(
                    "the award was revoked: nobody can endorse it".into(),
                ));
            }
            (a.id, None, a.badge_class_slug.clone())
        }
    };
    let (token, token_sha256) = crate::evidence::new_share_token();
    let now = Utc::now();
    let invitation = store
        .create_endorsement_invitation(&NewInvitation {
            id: Uuid::new_v4(),
            issuer_slug: app.issuer.slug().to_owned(),
            token_sha256,
            award_id,
            request_id,
            badge_class_slug: class_slug,
            endorser_kind: input.kind,
            note: input.note.clone(),
            created_by: actor.to_owned(),
            created_at: now,
            expires_at: now + chrono::Duration::days(i64::from(input.expires_in_days)),
        })
        .await?;
    tracing::info!(invitation.id = %invitation.id, award.id = %award_id, "invited an endorser for award {award_id}");
    Ok(CreatedInvitation {
        invitation,
        link: link(&app.issuer.base_url, &token),
    })
}

/// What an endorser's link shows: the invitation and what it is about.
#[derive(Debug, Clone)]
pub struct Opened {
    pub invitation: Invitation,
    pub class_name: String,
    /// The recipient's name when the award publishes one (never an email).
    pub recipient_name: Option<String>,
    /// Whether the award is issued (else its badge request is still open).
    pub award_issued: bool,
}

fn link_problem(p: InvitationProblem, invitation: Option<&Invitation>) -> LinkProblem {
    match p {
        InvitationProblem::Unknown => LinkProblem::Unknown,
        InvitationProblem::Used => LinkProblem::Used,
        InvitationProblem::Revoked => LinkProblem::Revoked,
        InvitationProblem::Expired => {
            LinkProblem::Expired(invitation.map_or_else(Utc::now, |i| i.expires_at))
        }
    }
}

/// Looks a link's token up: the invitation if it can still be used, else why not.
pub async fn open(app: &App, token: &str) -> Result<Opened, FlowError> {
    if !plausible_token(token) {
        return Err(FlowError::Link(LinkProblem::Unknown));
    }
    let store = app.store.as_ref();
    let invitation = store
        .find_endorsement_invitation(&crate::evidence::token_sha256(token))
        .await?
        .filter(|i| i.issuer_slug == app.issuer.slug())
        .ok_or(FlowError::Link(LinkProblem::Unknown))?;
    match invitation.state(Utc::now()) {
        InvitationState::Pending => {}
        InvitationState::Used => return Err(FlowError::Link(LinkProblem::Used)),
        InvitationState::Revoked => return Err(FlowError::Link(LinkProblem::Revoked)),
        InvitationState::Expired => {
            return Err(FlowError::Link(LinkProblem::Expired(invitation.expires_at)));
        }
    }
    let mut recipient_name = None;
    let mut award_issued = false;
    if let Some(request_id) = invitation.request_id {
        let request = store
            .get_badge_request(request_id)
            .await?
            .ok_or(FlowError::Link(LinkProblem::Unknown))?;
        if request.state == RequestState::Declined {
            return Err(FlowError::Link(LinkProblem::RequestClosed));
        }
        recipient_name = request.recipient_name;
    }
    match store.get_award(invitation.award_id).await? {
        Some(award) if award.revoked_at.is_some() => {
            return Err(FlowError::Link(LinkProblem::AwardRevoked));
        }
        Some(award) => {
            award_issued = true;
            recipient_name = recipient_name.or(award.recipient_name);
        }
        None if invitation.request_id.is_none() => {
            return Err(FlowError::Link(LinkProblem::Unknown));
        }
        None => {}
    }
    let class_name = app
        .class(&invitation.badge_class_slug)
        .map_or_else(|| invitation.badge_class_slug.clone(), |c| c.name.clone());
    Ok(Opened {
        invitation,
        class_name,
        recipient_name,
        award_issued,
    })
}

/// The endorser's submission: checks the link then the form, signs the endorsement (off the
/// async runtime), stores it with the use of its invitation, and embeds it in the award when the
/// award is issued. A link gives one endorsement: a second submission is
/// [`LinkProblem::Used`] and stores nothing.
pub async fn submit(
    app: &App,
    token: &str,
    input: &EndorserInput,
) -> Result<(Opened, Endorsement), FlowError> {
    let opened = open(app, token).await?;
    let valid = validate(input).map_err(FlowError::Form)?;
    let invitation = &opened.invitation;
    let endorser = EndorserProfile {
        id: Uuid::new_v4(),
        name: valid.name.clone(),
        role: valid.role.clone(),
        organisation: valid.organisation.clone(),
        kind: invitation.endorser_kind,
    };
    let id = Uuid::new_v4();
    let now = Utc::now();
    let (ob3, ob2) = {
        let issuer = app.issuer.clone();
        let endorser = endorser.clone();
        let (award_id, comment, class_name) = (
            invitation.award_id,
            valid.comment.clone(),
            opened.class_name.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let parts = EndorsementParts {
                id,
                endorser: &endorser,
                award_id,
                comment: &comment,
                class_name: &class_name,
                issued_at: now,
            };
            let ob3 = documents::signed_endorsement(&issuer, &parts)?;
            Ok::<_, documents::DocumentError>((ob3, documents::ob2_endorsement(&issuer, &parts)))
        })
        .await
        .map_err(|e| FlowError::Internal(e.to_string()))?
        .map_err(|e| FlowError::Internal(e.to_string()))?
    };
    let new = NewEndorsement {
        id,
        issuer_slug: app.issuer.slug().to_owned(),
        invitation_id: invitation.id,
        endorser_id: endorser.id,
        award_id: invitation.award_id,
        request_id: invitation.request_id,
        endorser_kind: invitation.endorser_kind,
        endorser_name: valid.name,
        endorser_role: valid.role,
        endorser_organisation: valid.organisation,
        comment: valid.comment,
        credential_json: ob3.to_string(),
        ob2_json: ob2.map(|v| v.to_string()),
        created_at: now,
    };
    let stored = match app.store.insert_endorsement(&new).await {
        Ok(e) => e,
        Err(StoreError::InvitationUnusable(p)) => {
            return Err(FlowError::Link(link_problem(p, Some(invitation))));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(endorsement.id = %stored.id, award.id = %stored.award_id, "endorsement {} given for award {}", stored.id, stored.award_id);
    // An issued award carries it at once. If embedding fails, the endorsement stays stored and
    // the next sync (another endorsement, an approval) embeds it.
    if app.store.get_award(stored.award_id).await?.is_some()
        && let Err(e) = sync_award(app, stored.award_id, &format!("endorser:{}", endorser.id)).await
    {
        tracing::error!(award.id = %stored.award_id, "the award could not be re-signed with endorsement {}: {e}", stored.id);
    }
    Ok((opened, stored))
}

/// One stored endorsement as an award embeds it.
pub fn embedded(base_url: &str, e: &Endorsement) -> Result<EmbeddedEndorsement, FlowError> {
    Ok(EmbeddedEndorsement {
        ob3: serde_json::from_str(&e.credential_json)
            .map_err(|err| FlowError::Internal(format!("endorsement {}: {err}", e.id)))?,
        ob2_url: e
            .ob2_json
            .as_ref()
            .map(|_| ob2_endorsement_url(base_url, e.id)),
    })
}

/// What a badge request's approval issues with: its reserved award id (if an endorser was ever
/// invited) and its endorsements, oldest first.
pub async fn for_approval(
    app: &App,
    request: &BadgeRequest,
) -> Result<(Option<Uuid>, Vec<Endorsement>), FlowError> {
    let store = app.store.as_ref();
    let Some(reserved) = store.reserved_request_award_id(request.id).await? else {
        return Ok((None, Vec::new()));
    };
    Ok((Some(reserved), store.award_endorsements(reserved).await?))
}

/// Re-signs an issued award with every stored endorsement of it that it does not carry yet (same
/// id, status slot and dates; an "endorsed" event). A revoked or unknown award is left alone.
pub async fn sync_award(
    app: &App,
    award_id: Uuid,
    actor: &str,
) -> Result<Option<Award>, FlowError> {
    let store = app.store.as_ref();
    let base = &app.issuer.base_url;
    for _ in 0..SYNC_ATTEMPTS {
        let Some(award) = store.get_award(award_id).await? else {
            return Ok(None);
        };
        if award.revoked_at.is_some() || award.issuer_slug != app.issuer.slug() {
            return Ok(Some(award));
        }
        let credential: serde_json::Value = serde_json::from_str(&award.credential_json)
            .map_err(|e| FlowError::Internal(format!("award {award_id}: {e}")))?;
        let present = embedded_ids(&credential);
        let missing: Vec<Endorsement> = store
            .award_endorsements(award_id)
            .await?
            .into_iter()
            .filter(|e| !present.contains(&endorsement_url(base, e.id)))
            .collect();
        if missing.is_empty() {
            return Ok(Some(award));
        }
        let to_embed = missing
            .iter()
            .map(|e| {
                embedded(base, e).map(|x| ToEmbed {
                    ob3: x.ob3,
                    ob2_url: x.ob2_url,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let issuer = app.issuer.clone();
        let read = award.clone();
        let reissued = tokio::task::spawn_blocking(move || {
            documents::reissue(&issuer, &read, &to_embed, Utc::now())
        })
        .await
        .map_err(|e| FlowError::Internal(e.to_string()))?
        .map_err(|e| FlowError::Internal(e.to_string()))?;
        let replaced = store
            .replace_award_documents(
                award_id,
                &award.credential_json,
                &AwardDocuments {
                    credential_json: reissued.credential_json,
                    rsa_kid: reissued.rsa_kid,
                    assertion_json: reissued.assertion_json,
                    endorsements: missing.iter().map(|e| e.id).collect(),
                    actor: actor.to_owned(),
                },
            )
            .await?;
        if let Some(updated) = replaced {
            tracing::info!(award.id = %award_id, "award {award_id} re-signed with {} more endorsement(s)", missing.len());
            return Ok(Some(updated));
        }
    }
    Err(FlowError::Internal(format!(
        "award {award_id} kept changing while it was re-signed with its endorsements"
    )))
}
