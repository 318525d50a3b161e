//! `carnet demo` (issue #5 §9): a small, clearly fictional data set loaded into the configured
//! instance so a newcomer sees every state: référentiels, carnets on RECTEC (je fais, en partie,
//! declared, validated, a level too low, parts struck out), proposals earned and confirmed, badge
//! requests in each state (submitted, returned with a comment, resubmitted, approved with its
//! award, declined with a reason) with evidence, awards valid, revoked and expiring, and
//! endorsements (an issued award endorsed by a tutor, a request endorsed then approved, an
//! invitation left open to try).
//!
//! One function per part ([`referentiels`], [`carnets`], [`requests`], [`awards`],
//! [`endorsements::endorsements`]), called in that order by [`run`]. The people and stories are in
//! `data.rs`; `atelier-cuisine.json` is a fictional référentiel whose wordings have parts to strike
//! out (RECTEC's have none). Carnets' proposals are confirmed through
//! `crate::award_rules::award::confirm`, as an educator would; of the awards issued directly, one
//! is revoked and one is valid for a minute (then expired).
//!
//! Running it again adds nothing. Each item is looked for before it is created: référentiels by
//! id and version (an unchanged import), carnets by person and référentiel version (one each),
//! awards by their idempotency key (`demo:award:…` for the ones issued directly; confirmed
//! carnets and approved requests have their own keys), requests by their demo link, each
//! request's steps by the events already in its history, and endorsement invitations by their
//! note, so an interrupted run also completes. The open invitation's link is printed once: a
//! rerun says so (its token is not kept).
//!
//! Requests go through the HTTP API in this process ([`crate::http::local_api`]), with one token
//! per educator: validation, evidence sniffing and the state machine are the real ones.

pub mod data;
pub mod endorsements;

use std::io::Cursor;

use axum::http::Method;
use serde_json::json;
use uuid::Uuid;

use crate::app::App;
use crate::award_rules::award::{self, ConfirmError, Confirmation};
use crate::badge_class::BadgeClass;
use crate::http::local_api::{ApiError, LocalApi};
use crate::issue::{AwardRequest, IssueError, issue};
use crate::ob3::credential::AwardDetails;
use crate::recipient::Email;
use crate::referentiel::carnet::{parse_carnet, person_key};
use crate::referentiel::{Format, Referentiel};
use crate::store::{Award, BadgeRequest, Carnet, SavedReferentiel, StoreError};
use data::{EDUCATORS, LEARNERS, Step};

/// The RECTEC structure carnet ships (`referentiels/rectec.json`), compiled in so the demo runs
/// from any directory.
const RECTEC_JSON: &str = include_str!("../../referentiels/rectec.json");
/// A fictional référentiel whose wordings have parts to strike out (RECTEC's have none).
const CUISINE_JSON: &str = include_str!("atelier-cuisine.json");

/// The issuer name carnet starts with until it is configured.
const DEFAULT_ISSUER_NAME: &str = "IME (nom à configurer)";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "the badge class \"{0}\" is missing from the badge-classes directory: the demo uses the classes carnet ships"
    )]
    MissingClass(&'static str),
    /// The embedded data does not pass the import rules (a bug of the demo).
    #[error("the demo's own data is refused: {0}")]
    Data(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the API refused a demo step: {0}")]
    Api(#[from] ApiError),
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error(transparent)]
    Confirm(#[from] ConfirmError),
    #[error("endorsement: {0}")]
    Endorsement(#[from] crate::endorsement::flow::FlowError),
}

/// What the demo did, for the tour.
#[derive(Debug, Default)]
pub struct Tour {
    /// Items created by this run (référentiels, carnets, awards, requests and their steps).
    pub created: u32,
    /// Items found from an earlier run.
    pub existing: u32,
    /// The issuer is still the default one: the tour says how to name it.
    pub default_issuer: bool,
    /// (part, lines) in the order of the parts.
    pub parts: Vec<(&'static str, Vec<String>)>,
    /// A carnet whose proposal is left to confirm, with the class: (carnet id, class slug).
    pub to_confirm: Option<(Uuid, String)>,
    /// Awards to open: (what, award id).
    pub badges: Vec<(String, Uuid)>,
    /// The request approved with evidence, and its first file.
    pub approved_request: Option<(Uuid, Option<Uuid>)>,
    /// An award that carries an endorsement.
    pub endorsed_award: Option<Uuid>,
    /// The link of the invitation left open, when this run made it (it is shown once).
    pub endorse_link: Option<String>,
}

impl Tour {
    fn count(&mut self, created: bool) {
        if created {
            self.created += 1;
        } else {
            self.existing += 1;
        }
    }

    fn part(&mut self, name: &'static str) -> usize {
        self.parts.push((name, Vec::new()));
        self.parts.len() - 1
    }

    fn line(&mut self, part: usize, text: String) {
        self.parts[part].1.push(text);
    }
}

/// Loads every part; stops at the first error (what was created stays, and a rerun completes).
pub async fn run(app: &App) -> Result<Tour, DemoError> {
    let mut tour = Tour {
        default_issuer: app.issuer.settings.name == DEFAULT_ISSUER_NAME,
        ..Tour::default()
    };
    let request_class = class(app, data::REQUEST_CLASS)?;
    class(app, data::CARNET_CLASS)?;
    let api = LocalApi::new(app.clone(), &EDUCATORS).map_err(DemoError::Data)?;
    referentiels(app, &mut tour).await?;
    carnets(app, &mut tour).await?;
    requests(app, &api, &mut tour).await?;
    awards(app, request_class, &mut tour).await?;
    endorsements::endorsements(app, &api, &mut tour).await?;
    Ok(tour)
}

fn class<'a>(app: &'a App, slug: &'static str) -> Result<&'a BadgeClass, DemoError> {
    app.class(slug).ok_or(DemoError::MissingClass(slug))
}

/// The learners' email (the demo's data are well-formed: a failure is a bug).
fn email(learner: usize) -> Result<Email, DemoError> {
    Email::parse(LEARNERS[learner].email).map_err(|e| DemoError::Data(e.to_string()))
}

/// RECTEC (shipped) and the fictional cuisine référentiel, imported unless they already are.
pub async fn referentiels(app: &App, tour: &mut Tour) -> Result<(), DemoError> {
    let part = tour.part("référentiels");
    for (file, text) in [
        ("referentiels/rectec.json", RECTEC_JSON),
        ("src/demo/atelier-cuisine.json", CUISINE_JSON),
    ] {
        let r = crate::referentiel::parse(text.as_bytes(), file, Format::Json).map_err(|p| {
            DemoError::Data(
                p.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let saved = app
            .store
            .save_referentiel(app.issuer.slug(), &r, EDUCATORS[0])
            .await?;
        let created = saved == SavedReferentiel::Created;
        tour.count(created);
        tour.line(
            part,
            format!(
                "{} {} « {} »: {} competences{}",
                r.id,
                r.version,
                r.name,
                r.competences.len(),
                if created { "" } else { " (already imported)" }
            ),
        );
    }
    Ok(())
}

async fn referentiel(app: &App, (id, version): (&str, &str)) -> Result<Referentiel, DemoError> {
    app.store
        .get_referentiel(app.issuer.slug(), id, version)
        .await?
        .map(|s| s.referentiel)
        .ok_or_else(|| DemoError::Data(format!("the référentiel {id} {version} is not imported")))
}

/// The learners' carnets, and the confirmation of the proposals the demo confirms.
pub async fn carnets(app: &App, tour: &mut Tour) -> Result<(), DemoError> {
    let part = tour.part("carnets");
    let slug = app.issuer.slug().to_owned();
    for demo in data::carnets() {
        let learner = &LEARNERS[demo.learner];
        let referentiel = referentiel(app, demo.referentiel).await?;
        let key = person_key(&slug, &email(demo.learner)?);
        let existing = app
            .store
            .person_carnets(&slug, &key)
            .await?
            .into_iter()
            .find(|c| {
                c.referentiel_id == referentiel.id && c.referentiel_version == referentiel.version
            });
        let carnet = match existing {
            Some(c) => {
                tour.count(false);
                c
            }
            None => {
                let c = import_carnet(app, &demo, &referentiel).await?;
                tour.count(true);
                c
            }
        };
        tour.line(
            part,
            format!(
                "{} — {} {}: carnet {} ({})",
                learner.name, referentiel.id, referentiel.version, carnet.id, demo.shows
            ),
        );
        let listed =
            award::proposals(app.store.as_ref(), &app.classes, &carnet, &referentiel).await?;
        for l in listed {
            let class = l.proposal.class;
            if !l.proposal.earned() {
                let why: Vec<String> = l
                    .proposal
                    .outcomes
                    .iter()
                    .filter(|o| !o.met())
                    .map(|o| o.why())
                    .chain(l.proposal.problems.iter().cloned())
                    .collect();
                tour.line(
                    part,
                    format!("    not yet « {} »: {}", class.name, why.join(" ; ")),
                );
                continue;
            }
            match (l.award, demo.confirmed_by) {
                (Some(a), _) => {
                    tour.count(false);
                    tour.line(
                        part,
                        format!("    earned « {} », issued: {}", class.name, a.id),
                    );
                    tour.badges
                        .push((format!("{} — {}", class.name, learner.name), a.id));
                }
                (None, Some(educator)) => {
                    let (a, created) = award::confirm(
                        &app.issuer,
                        app.store.as_ref(),
                        class,
                        &carnet,
                        &referentiel,
                        Confirmation {
                            recipient_name: Some(learner.name.to_owned()),
                            ..Confirmation::default()
                        },
                        EDUCATORS[educator],
                    )
                    .await?;
                    tour.count(created);
                    tour.line(
                        part,
                        format!(
                            "    earned « {} », confirmed by {}: award {}",
                            class.name, EDUCATORS[educator], a.id
                        ),
                    );
                    tour.badges
                        .push((format!("{} — {}", class.name, learner.name), a.id));
                }
                (None, None) => {
                    tour.line(
                        part,
                        format!(
                            "    earned « {} », to confirm: carnet carnets confirm {} {} --name \"{}\"",
                            class.name, carnet.id, class.slug, learner.name
                        ),
                    );
                    tour.to_confirm
                        .get_or_insert((carnet.id, class.slug.clone()));
                }
            }
        }
    }
    Ok(())
}

/// Imports one carnet as `carnet carnets import` does: the JSON format, its checks, the store.
async fn import_carnet(
    app: &App,
    demo: &data::DemoCarnet,
    referentiel: &Referentiel,
) -> Result<Carnet, DemoError> {
    let learner = &LEARNERS[demo.learner];
    let file = json!({
        "referentiel": {"id": referentiel.id, "version": referentiel.version},
        "person": {"email": learner.email, "display_name": learner.name},
        "entries": demo.entries,
    });
    let refused = |p: Vec<crate::referentiel::ImportError>| {
        DemoError::Data(
            p.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    };
    let name = format!("demo carnet of {}", learner.key);
    let valid = parse_carnet(file.to_string().as_bytes(), &name)
        .map_err(refused)?
        .validate(Some(referentiel))
        .map_err(refused)?;
    let new = valid.into_new_carnet(app.issuer.slug(), EDUCATORS[0]);
    Ok(app.store.insert_carnet(&new).await?)
}

/// Badge requests in every state, through the API.
pub async fn requests(app: &App, api: &LocalApi, tour: &mut Tour) -> Result<(), DemoError> {
    let part = tour.part("badge requests");
    let stored = endorsements::all_requests(app).await?;
    for demo in data::requests() {
        let learner = &LEARNERS[demo.learner];
        let found = stored
            .iter()
            .find(|r| r.links.iter().any(|l| l == demo.link))
            .cloned();
        let request = match found {
            Some(r) => {
                tour.count(false);
                r
            }
            None => {
                let created = submit(app, api, &demo).await?;
                tour.count(true);
                created
            }
        };
        // Each step wrote one event after the "submitted" one: resume after those.
        let done = app
            .store
            .badge_request_events(request.id)
            .await?
            .len()
            .saturating_sub(1);
        for (i, step) in demo.steps.iter().enumerate() {
            if i < done {
                tour.count(false);
                continue;
            }
            take_step(api, request.id, &demo, step).await?;
            tour.count(true);
        }
        let request = app
            .store
            .get_badge_request(request.id)
            .await?
            .ok_or(StoreError::RequestNotFound(request.id))?;
        tour.line(
            part,
            format!(
                "{} — request {}: {} ({})",
                learner.name, request.id, request.state, demo.shows
            ),
        );
        if let Some(award_id) = request.award_id {
            tour.badges.push((
                format!("Sécurité et hygiène au travail — {}", learner.name),
                award_id,
            ));
            let first_file = app
                .store
                .request_evidence(request.id)
                .await?
                .first()
                .map(|f| f.id);
            tour.approved_request
                .get_or_insert((request.id, first_file));
        }
    }
    Ok(())
}

async fn submit(
    app: &App,
    api: &LocalApi,
    demo: &data::DemoRequest,
) -> Result<BadgeRequest, DemoError> {
    let learner = &LEARNERS[demo.learner];
    let body = json!({
        "badge_class": data::REQUEST_CLASS,
        "recipient_email": learner.email,
        "recipient_name": learner.name,
        "narrative": demo.narrative,
        "links": [demo.link],
        "requested_by": demo.requested_by,
    });
    let doc = api
        .json(
            EDUCATORS[demo.sent_by],
            Method::POST,
            "/api/v1/badge-requests",
            Some(&body),
        )
        .await?;
    let id: Uuid = doc["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| DemoError::Data("the API answered a request without its id".into()))?;
    Ok(app
        .store
        .get_badge_request(id)
        .await?
        .ok_or(StoreError::RequestNotFound(id))?)
}

async fn take_step(
    api: &LocalApi,
    id: Uuid,
    demo: &data::DemoRequest,
    step: &Step,
) -> Result<(), DemoError> {
    let path = format!("/api/v1/badge-requests/{id}");
    match step {
        Step::Evidence { name, colour } => {
            api.call(
                EDUCATORS[demo.sent_by],
                Method::POST,
                &format!("{path}/evidence?filename={name}"),
                "application/octet-stream",
                evidence_png(*colour),
            )
            .await?;
        }
        Step::Return { by, comment } => {
            let body = json!({ "comment": comment });
            api.json(
                EDUCATORS[*by],
                Method::POST,
                &format!("{path}/return"),
                Some(&body),
            )
            .await?;
        }
        Step::Resubmit { by, comment } => {
            let body = json!({ "comment": comment });
            api.json(
                EDUCATORS[*by],
                Method::POST,
                &format!("{path}/resubmit"),
                Some(&body),
            )
            .await?;
        }
        Step::Approve { by } => {
            api.json(
                EDUCATORS[*by],
                Method::POST,
                &format!("{path}/approve"),
                None,
            )
            .await?;
        }
        Step::Decline { by, reason } => {
            let body = json!({ "reason": reason });
            api.json(
                EDUCATORS[*by],
                Method::POST,
                &format!("{path}/decline"),
                Some(&body),
            )
            .await?;
        }
    }
    Ok(())
}

/// A tiny photo stand-in: a 32×32 square of `colour` with a white tick, as a PNG.
pub fn evidence_png(colour: [u8; 3]) -> Vec<u8> {
    let mut img = image::RgbImage::from_pixel(32, 32, image::Rgb(colour));
    let white = image::Rgb([255, 255, 255]);
    for i in 0..6u32 {
        for w in 0..3u32 {
            img.put_pixel(7 + i, 15 + i + w, white);
        }
    }
    for i in 0..13u32 {
        for w in 0..3u32 {
            img.put_pixel(12 + i, 20 - i + w, white);
        }
    }
    let mut out = Cursor::new(Vec::new());
    // Encoding an in-memory RGB image to PNG cannot fail short of running out of memory.
    if img.write_to(&mut out, image::ImageFormat::Png).is_err() {
        return Vec::new();
    }
    out.into_inner()
}

/// Awards issued directly: one revoked, one valid for a minute (then expired).
pub async fn awards(
    app: &App,
    class: &BadgeClass,
    tour: &mut Tour,
) -> Result<Vec<Award>, DemoError> {
    let part = tour.part("awards issued directly");
    let mut issued = Vec::new();
    for demo in data::awards() {
        let learner = &LEARNERS[demo.learner];
        let educator = EDUCATORS[demo.issued_by];
        let mut award = match app
            .store
            .find_by_idempotency_key(app.issuer.slug(), demo.key)
            .await?
        {
            Some(a) => {
                tour.count(false);
                a
            }
            None => {
                let request = AwardRequest {
                    badge_class: class.slug.clone(),
                    recipient: email(demo.learner)?,
                    details: AwardDetails {
                        recipient_name: Some(learner.name.to_owned()),
                        narrative: Some(demo.narrative.to_owned()),
                        evidence_url: Some(format!("{}{}/atelier", data::LINK_PREFIX, learner.key)),
                        valid_until: demo
                            .valid_seconds
                            .map(|s| chrono::Utc::now() + chrono::Duration::seconds(s)),
                        ..AwardDetails::default()
                    },
                    issued_by: educator.to_owned(),
                    idempotency_key: Some(demo.key.to_owned()),
                };
                let a = issue(&app.issuer, class, app.store.as_ref(), request).await?;
                tour.count(true);
                a
            }
        };
        if let Some(reason) = demo.revoked {
            if award.revoked_at.is_none() {
                award = app
                    .store
                    .revoke_award(app.issuer.slug(), award.id, reason, educator)
                    .await?;
                tour.count(true);
            } else {
                tour.count(false);
            }
        }
        tour.line(
            part,
            format!(
                "{} — {} ({}): award {} — {}",
                learner.name, class.name, demo.key, award.id, demo.shows
            ),
        );
        tour.badges.push((
            format!("{} — {}: {}", class.name, learner.name, demo.state),
            award.id,
        ));
        issued.push(award);
    }
    Ok(issued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evidence_is_a_png_that_carnet_accepts() {
        let png = evidence_png([1, 2, 3]);
        let sniffed = crate::evidence::sniff(&png).expect("a PNG");
        assert_eq!(sniffed.media_type, "image/png");
        assert_ne!(png, evidence_png([3, 2, 1]));
    }

    #[test]
    fn the_demo_uses_only_reserved_example_addresses() {
        for l in &LEARNERS {
            assert!(l.email.ends_with("@example.org"), "{}", l.email);
        }
        for r in data::requests() {
            assert!(r.link.starts_with(data::LINK_PREFIX), "{}", r.link);
        }
    }

    #[test]
    fn the_embedded_referentiels_pass_the_import_rules() {
        for (file, text) in [("rectec", RECTEC_JSON), ("cuisine", CUISINE_JSON)] {
            crate::referentiel::parse(text.as_bytes(), file, Format::Json)
                .unwrap_or_else(|p| panic!("{file}: {p:?}"));
        }
    }
}
