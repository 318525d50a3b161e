//! The demo's endorsements (issue #5 §6 and §9), after the awards: a company tutor endorses an
//! award already issued (it is signed again and carries the endorsement), an educator endorses a
//! badge request that is then approved (the award is issued with the endorsement), and one
//! invitation is left open so the newcomer can open `/endorse/{token}` and try the page. In the
//! stories of `data.rs`: a tutor endorses the award Noah's carnet earned, an educator endorses
//! Noah's request, which this part then approves, and the open invitation is on Inès's request.
//!
//! The educators invite, revoke and approve through the HTTP API in this process
//! ([`crate::http::local_api`]); the endorsers, who have no account, answer through
//! [`flow::submit`], what the endorser's page calls.
//!
//! A demo invitation is found again by its note (each story has its own). A link's token is
//! known only when the invitation is made, so:
//!
//! - an endorsement already given is never given again (its invitation is used);
//! - an invitation of an interrupted run, pending but never answered, is revoked and made again
//!   (its token was lost), so the endorsement is given once;
//! - the open invitation is made once; a rerun says its link was shown by the earlier run, and
//!   how to get a new one.

use axum::http::Method;
use serde_json::json;
use uuid::Uuid;

use super::data::{self, DemoEndorsement, EDUCATORS, EndorsementTarget};
use super::{DemoError, Tour, email};
use crate::app::App;
use crate::award_rules::award::idempotency_key;
use crate::endorsement::EndorserInput;
use crate::endorsement::flow;
use crate::http::local_api::LocalApi;
use crate::referentiel::carnet::person_key;
use crate::store::{Award, BadgeRequest, Invitation, InvitationState, RequestState, StoreError};

/// What an invitation of the demo is about, once found in the store.
enum Target {
    Award(Award),
    Request(BadgeRequest),
}

impl Target {
    fn invite_path(&self) -> String {
        match self {
            Target::Award(a) => format!("/api/v1/awards/{}/endorsement-invitations", a.id),
            Target::Request(r) => {
                format!("/api/v1/badge-requests/{}/endorsement-invitations", r.id)
            }
        }
    }

    /// Whether an endorser can still be invited for it.
    fn open(&self) -> bool {
        match self {
            Target::Award(a) => a.revoked_at.is_none(),
            Target::Request(r) => {
                matches!(r.state, RequestState::Submitted | RequestState::Returned)
            }
        }
    }
}

/// The award the learner's RECTEC carnet earned, if it was confirmed.
async fn carnet_award(app: &App, learner: usize) -> Result<Option<Award>, DemoError> {
    let slug = app.issuer.slug();
    let Some(class) = app.class(data::CARNET_CLASS) else {
        return Err(DemoError::MissingClass(data::CARNET_CLASS));
    };
    let key = person_key(slug, &email(learner)?);
    for carnet in app.store.person_carnets(slug, &key).await? {
        if (
            carnet.referentiel_id.as_str(),
            carnet.referentiel_version.as_str(),
        ) != data::RECTEC
        {
            continue;
        }
        if let Some(a) = app
            .store
            .find_by_idempotency_key(slug, &idempotency_key(&carnet, class))
            .await?
        {
            return Ok(Some(a));
        }
    }
    Ok(None)
}

async fn find_target(app: &App, target: &EndorsementTarget) -> Result<Option<Target>, DemoError> {
    Ok(match target {
        EndorsementTarget::CarnetAward { learner } => {
            carnet_award(app, *learner).await?.map(Target::Award)
        }
        EndorsementTarget::Request { link } => all_requests(app)
            .await?
            .into_iter()
            .find(|r| r.links.iter().any(|l| l == link))
            .map(Target::Request),
    })
}

/// The demo's invitations for this story (found by their note), oldest first.
async fn demo_invitations(
    app: &App,
    target: &Target,
    demo: &DemoEndorsement,
) -> Result<Vec<Invitation>, DemoError> {
    let store = app.store.as_ref();
    let award_id = match target {
        Target::Award(a) => Some(a.id),
        Target::Request(r) => store.reserved_request_award_id(r.id).await?,
    };
    let Some(award_id) = award_id else {
        return Ok(Vec::new());
    };
    Ok(store
        .endorsement_invitations(award_id)
        .await?
        .into_iter()
        .filter(|i| i.note.as_deref() == Some(demo.note))
        .collect())
}

/// Invites through the API: the invitation's id and its link (given this once).
async fn invite(
    api: &LocalApi,
    target: &Target,
    demo: &DemoEndorsement,
) -> Result<(Uuid, String), DemoError> {
    let body = json!({ "endorser_kind": demo.kind, "note": demo.note });
    let doc = api
        .json(
            EDUCATORS[demo.invited_by],
            Method::POST,
            &target.invite_path(),
            Some(&body),
        )
        .await?;
    let id = doc["id"].as_str().and_then(|s| s.parse().ok());
    let link = doc["url"].as_str().map(str::to_owned);
    match (id, link) {
        (Some(id), Some(link)) => Ok((id, link)),
        _ => Err(DemoError::Data(
            "the API answered an invitation without its id or link".into(),
        )),
    }
}

/// Endorsements given, approvals and the open invitation, each once.
pub async fn endorsements(app: &App, api: &LocalApi, tour: &mut Tour) -> Result<(), DemoError> {
    let part = tour.part("endorsements");
    for demo in data::endorsements() {
        let Some(target) = find_target(app, &demo.target).await? else {
            tour.line(
                part,
                format!("(skipped: what « {} » is about is not there)", demo.shows),
            );
            continue;
        };
        match &demo.endorser {
            Some(endorser) => given(app, api, tour, part, &demo, target, endorser).await?,
            None => left_open(app, api, tour, part, &demo, target).await?,
        }
    }
    Ok(())
}

fn learner_name(target: &Target) -> &str {
    match target {
        Target::Award(a) => a.recipient_name.as_deref(),
        Target::Request(r) => r.recipient_name.as_deref(),
    }
    .unwrap_or("(anonyme)")
}

/// A story whose endorser answers: the endorsement (once), then the award that carries it.
async fn given(
    app: &App,
    api: &LocalApi,
    tour: &mut Tour,
    part: usize,
    demo: &DemoEndorsement,
    target: Target,
    endorser: &data::DemoEndorser,
) -> Result<(), DemoError> {
    let store = app.store.as_ref();
    let mine = demo_invitations(app, &target, demo).await?;
    let endorsement = match mine.iter().find_map(|i| i.endorsement_id) {
        Some(id) => {
            tour.count(false);
            store
                .get_endorsement(id)
                .await?
                .ok_or_else(|| DemoError::Data(format!("endorsement {id} is missing")))?
        }
        None if !target.open() => {
            tour.line(
                part,
                format!(
                    "{}: no endorsement added (it was closed before the demo had endorsements)",
                    learner_name(&target)
                ),
            );
            return Ok(());
        }
        None => {
            // Pending ones are left from an interrupted run: their token is lost.
            for stale in mine
                .iter()
                .filter(|i| i.state(chrono::Utc::now()) == InvitationState::Pending)
            {
                api.json(
                    EDUCATORS[demo.invited_by],
                    Method::DELETE,
                    &format!("/api/v1/endorsement-invitations/{}", stale.id),
                    None,
                )
                .await?;
                tour.count(true);
            }
            let (_, link) = invite(api, &target, demo).await?;
            tour.count(true);
            let token = link.rsplit('/').next().unwrap_or_default();
            let input = EndorserInput {
                name: endorser.name.to_owned(),
                role: endorser.role.to_owned(),
                organisation: endorser.organisation.unwrap_or_default().to_owned(),
                recommendation: endorser.recommendation.to_owned(),
                consent: true,
            };
            let (_, e) = flow::submit(app, token, &input).await?;
            tour.count(true);
            e
        }
    };
    let award = match &target {
        Target::Award(a) => {
            // Normally embedded by `submit`; this completes a run interrupted in between.
            let synced = flow::sync_award(app, a.id, "demo").await?;
            let synced = synced.ok_or(StoreError::AwardNotFound(a.id))?;
            tour.count(synced.credential_json != a.credential_json);
            synced.id
        }
        Target::Request(r) => match approve(app, api, tour, demo, r).await? {
            Ok(award) => award,
            Err(state) => {
                // someone changed it between two runs: the endorsement stays with the request
                tour.line(
                    part,
                    format!(
                        "{} — request {}: endorsed by {}; the request is {state}, so not approved",
                        learner_name(&target),
                        r.id,
                        endorsement.endorser_name
                    ),
                );
                return Ok(());
            }
        },
    };
    let class_slug = match &target {
        Target::Award(a) => &a.badge_class_slug,
        Target::Request(r) => &r.badge_class_slug,
    };
    let class = app
        .class(class_slug)
        .map_or_else(|| class_slug.clone(), |c| c.name.clone());
    tour.line(
        part,
        format!(
            "{} — « {class} », award {award}: endorsed by {}, {}{} ({})",
            learner_name(&target),
            endorsement.endorser_name,
            endorsement.endorser_role,
            endorsement
                .endorser_organisation
                .as_deref()
                .map(|o| format!(", {o}"))
                .unwrap_or_default(),
            demo.shows
        ),
    );
    tour.endorsed_award.get_or_insert(award);
    match tour.badges.iter_mut().find(|(_, id)| *id == award) {
        Some((what, _)) => what.push_str(": endorsed"),
        None => tour.badges.push((
            format!("{class} — {}: endorsed", learner_name(&target)),
            award,
        )),
    }
    Ok(())
}

/// Approves the request (once) through the API: its award id, or the state that kept it from
/// being approved (returned or declined by someone meanwhile).
async fn approve(
    app: &App,
    api: &LocalApi,
    tour: &mut Tour,
    demo: &DemoEndorsement,
    request: &BadgeRequest,
) -> Result<Result<Uuid, RequestState>, DemoError> {
    let now = app
        .store
        .get_badge_request(request.id)
        .await?
        .ok_or(StoreError::RequestNotFound(request.id))?;
    let now = match (now.state, demo.approved_by) {
        (RequestState::Submitted, Some(by)) => {
            api.json(
                EDUCATORS[by],
                Method::POST,
                &format!("/api/v1/badge-requests/{}/approve", request.id),
                None,
            )
            .await?;
            tour.count(true);
            app.store
                .get_badge_request(request.id)
                .await?
                .ok_or(StoreError::RequestNotFound(request.id))?
        }
        _ => {
            tour.count(false);
            now
        }
    };
    let Some(award) = now.award_id else {
        return Ok(Err(now.state));
    };
    let first_file = app
        .store
        .request_evidence(now.id)
        .await?
        .first()
        .map(|f| f.id);
    tour.approved_request.get_or_insert((now.id, first_file));
    Ok(Ok(award))
}

/// The invitation left open for the newcomer: made once; its link is printed by the run that
/// makes it.
async fn left_open(
    app: &App,
    api: &LocalApi,
    tour: &mut Tour,
    part: usize,
    demo: &DemoEndorsement,
    target: Target,
) -> Result<(), DemoError> {
    let mine = demo_invitations(app, &target, demo).await?;
    let now = chrono::Utc::now();
    let who = learner_name(&target).to_owned();
    let again = match &target {
        Target::Request(r) => format!(
            "carnet endorsements invite --request {} --kind {}",
            r.id, demo.kind
        ),
        Target::Award(a) => format!(
            "carnet endorsements invite --award {} --kind {}",
            a.id, demo.kind
        ),
    };
    if let Some(p) = mine
        .iter()
        .find(|i| i.state(now) == InvitationState::Pending)
    {
        tour.count(false);
        tour.line(
            part,
            format!(
                "{who} — open invitation {} (made by an earlier run: its link was shown then, only once). \
                 For a new link: carnet endorsements revoke {}, then {again}",
                p.id, p.id
            ),
        );
        return Ok(());
    }
    if let Some(used) = mine.iter().find(|i| i.used_at.is_some()) {
        tour.count(false);
        tour.line(
            part,
            format!(
                "{who} — the open invitation {} was used: its endorsement is given",
                used.id
            ),
        );
        return Ok(());
    }
    if !target.open() {
        tour.line(
            part,
            format!("{who}: no invitation left open (the request is closed)"),
        );
        return Ok(());
    }
    let (id, link) = invite(api, &target, demo).await?;
    tour.count(true);
    tour.line(
        part,
        format!("{who} — open invitation {id} ({}): {link}", demo.shows),
    );
    tour.endorse_link = Some(link);
    Ok(())
}

/// Every badge request of the issuer (the demo's are few), a page at a time.
pub(super) async fn all_requests(
    app: &App,
) -> Result<Vec<crate::store::BadgeRequest>, crate::store::StoreError> {
    const PAGE: u32 = 200;
    let mut all: Vec<crate::store::BadgeRequest> = Vec::new();
    loop {
        let after = all.last().map(|r| r.id);
        let page = app
            .store
            .list_badge_requests(app.issuer.slug(), None, PAGE, after)
            .await?;
        let full = page.len() == PAGE as usize;
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}
