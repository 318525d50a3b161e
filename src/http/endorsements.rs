//! Endorsements (issue #5 §6): the educator's API (invite an endorser for a badge request or an
//! issued award, list, revoke), and the public documents carnet hosts for endorsers: the signed
//! `EndorsementCredential`, the OB 2.0 `Endorsement`, the endorser's Profile (OB 3.0 and 2.0) and
//! DID document; for people, an endorsement and an endorser's Profile are pages
//! (`endorse_endorsement.html`, `endorse_endorser.html`). The endorser's page `/endorse/{token}`
//! is in `endorse_page.rs`; the flow itself in `crate::endorsement::flow`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::api::body_error;
use super::api::{Caller, Tenanted};
use super::html::{PageRequest, Shell, markdown, render};
use super::i18n::Lang;
use super::public::{json_ld, json_ld_text, scoped};
use super::{AppError, HttpState, endorse_page, prefers_html};
use crate::endorsement::documents::{endorsement_url, ob2_endorsement_url};
use crate::endorsement::flow::{self, InviteTarget};
use crate::endorsement::profile::EndorserProfile;
use crate::issuer::endorser_url;
use crate::store::{Award, BadgeRequest, Endorsement, Invitation};

/// The largest endorser form accepted (a 4,000-character recommendation, percent-encoded, fits).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The routes of this module (merged into the main router, which adds the shared layers).
pub(super) fn routes() -> Router<HttpState> {
    Router::new()
        .route(
            "/api/v1/badge-requests/{id}/endorsement-invitations",
            get(list_for_request).post(invite_for_request),
        )
        .route(
            "/api/v1/awards/{id}/endorsement-invitations",
            get(list_for_award).post(invite_for_award),
        )
        .route("/api/v1/awards/{id}/endorsements", get(award_endorsements))
        .route(
            "/api/v1/endorsement-invitations/{id}",
            get(get_invitation).delete(revoke_invitation),
        )
        .route(
            "/endorse/{token}",
            get(endorse_page::get)
                .post(endorse_page::post)
                .layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route("/endorsements/{file}", get(endorsement_document))
        .route("/ob2/endorsements/{id}", get(ob2_endorsement))
        .route("/issuers/{slug}/endorsers/{id}", get(endorser_profile))
        .route("/issuers/{slug}/endorsers/{id}/did.json", get(endorser_did))
        .route("/ob2/issuers/{slug}/endorsers/{id}", get(ob2_endorser))
}

/// `POST …/endorsement-invitations` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    #[serde(default)]
    endorser_kind: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    expires_in_days: Option<i64>,
}

fn parse_id(id: &str, what: &str) -> Result<Uuid, AppError> {
    id.parse()
        .map_err(|_| AppError::not_found(format!("no such {what}")))
}

async fn own_request(s: &HttpState, id: &str) -> Result<BadgeRequest, AppError> {
    let id = parse_id(id, "badge request")?;
    s.app
        .store
        .get_badge_request(id)
        .await?
        .filter(|r| r.issuer_slug == s.app.issuer.slug())
        .ok_or_else(|| AppError::not_found("no such badge request"))
}

async fn own_award(s: &HttpState, id: &str) -> Result<Award, AppError> {
    let id = parse_id(id, "award")?;
    s.app
        .store
        .get_award(id)
        .await?
        .filter(|a| a.issuer_slug == s.app.issuer.slug())
        .ok_or_else(|| AppError::not_found("no such award"))
}

async fn own_invitation(s: &HttpState, id: &str) -> Result<Invitation, AppError> {
    let id = parse_id(id, "invitation")?;
    s.app
        .store
        .get_endorsement_invitation(id)
        .await?
        .filter(|i| i.issuer_slug == s.app.issuer.slug())
        .ok_or_else(|| AppError::not_found("no such invitation"))
}

/// An invitation as the API shows it; `link` only when it was just made (the token is not kept).
pub(super) fn invitation_json(
    issuer: &crate::issuer::Issuer,
    i: &Invitation,
    link: Option<&str>,
) -> Value {
    let (base, docs) = (&issuer.base_url, &issuer.docs);
    let mut doc = json!({
        "id": i.id,
        "state": i.state(Utc::now()).as_str(),
        "endorser_kind": i.endorser_kind.as_str(),
        "note": i.note,
        "award_id": i.award_id,
        "credential_id": crate::ob3::credential::credential_url(docs, i.award_id),
        "badge_request": i.request_id,
        "badge_class": i.badge_class_slug,
        "created_by": i.created_by,
        "created_at": i.created_at,
        "expires_at": i.expires_at,
        "used_at": i.used_at,
        "revoked_at": i.revoked_at,
        "revoked_by": i.revoked_by,
        "endorsement": i.endorsement_id,
        "api_url": format!("{base}/api/v1/endorsement-invitations/{}", i.id),
    });
    if let Some(link) = link {
        doc["url"] = link.into();
    }
    doc
}

/// An endorsement as the API shows it; `embedded`: whether the issued award carries it (`None`
/// before the award is issued).
pub(super) fn endorsement_json(s: &HttpState, e: &Endorsement, embedded: Option<bool>) -> Value {
    let issuer = &s.app.issuer;
    let base = &issuer.base_url;
    json!({
        "id": e.id,
        "url": endorsement_url(base, e.id),
        "ob2_url": e.ob2_json.as_ref().map(|_| ob2_endorsement_url(base, e.id)),
        "endorser": {
            "profile": endorser_url(issuer, e.endorser_id),
            "name": e.endorser_name,
            "role": e.endorser_role,
            "organisation": e.endorser_organisation,
            "kind": e.endorser_kind.as_str(),
        },
        "comment": e.comment,
        "award_id": e.award_id,
        "credential_id": crate::ob3::credential::credential_url(&issuer.docs, e.award_id),
        "badge_request": e.request_id,
        "invitation": e.invitation_id,
        "created_at": e.created_at,
        "embedded": embedded,
    })
}

/// Which endorsements the award (if issued) carries.
async fn embedded_flags(
    s: &HttpState,
    award_id: Uuid,
    endorsements: &[Endorsement],
) -> Result<Vec<Option<bool>>, AppError> {
    let award = s.app.store.get_award(award_id).await?;
    let present = match &award {
        Some(a) => {
            let v: Value = serde_json::from_str(&a.credential_json)
                .map_err(|e| AppError::internal(e.to_string()))?;
            Some(crate::endorsement::documents::embedded_ids(&v))
        }
        None => None,
    };
    let base = &s.app.issuer.base_url;
    Ok(endorsements
        .iter()
        .map(|e| {
            present
                .as_ref()
                .map(|p| p.contains(&endorsement_url(base, e.id)))
        })
        .collect())
}

/// The endorsement part of a badge request's document: how many its class requires, its
/// endorsements and invitations.
pub(super) async fn request_part(s: &HttpState, r: &BadgeRequest) -> Result<Value, AppError> {
    let store = s.app.store.as_ref();
    let reserved = store.reserved_request_award_id(r.id).await?;
    let (invitations, endorsements) = match reserved {
        Some(id) => (
            store.endorsement_invitations(id).await?,
            store.award_endorsements(id).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let flags = match reserved {
        Some(id) => embedded_flags(s, id, &endorsements).await?,
        None => Vec::new(),
    };
    Ok(json!({
        "endorsements_required": s.app.class(&r.badge_class_slug).map(|c| c.endorsements_minimum),
        "reserved_award_id": reserved,
        "endorsements": endorsements.iter().zip(flags).map(|(e, f)| endorsement_json(s, e, f)).collect::<Vec<_>>(),
        "endorsement_invitations": invitations.iter().map(|i| invitation_json(&s.app.issuer, i, None)).collect::<Vec<_>>(),
    }))
}

fn invite_body(body: &[u8]) -> Result<InviteBody, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(InviteBody::default());
    }
    crate::json::parse(body)
        .map_err(|e| AppError::unprocessable("(body)", format!("invalid JSON body: {e}")))
}

async fn invite(
    s: &HttpState,
    who: &str,
    target: InviteTarget<'_>,
    body: &[u8],
) -> Result<Response, AppError> {
    let body = invite_body(body)?;
    let input = crate::endorsement::validate_invitation(
        body.endorser_kind.as_deref(),
        body.note.as_deref(),
        body.expires_in_days,
    )
    .map_err(|(field, problem)| AppError::unprocessable(field, problem))?;
    let created = flow::invite(&s.app, target, &input, &format!("api:{who}")).await?;
    let base = &s.app.issuer.base_url;
    let doc = invitation_json(&s.app.issuer, &created.invitation, Some(&created.link));
    let mut resp = (StatusCode::CREATED, axum::Json(doc)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!(
        "{base}/api/v1/endorsement-invitations/{}",
        created.invitation.id
    )) {
        resp.headers_mut().insert(header::LOCATION, location);
    }
    Ok(resp)
}

/// `POST /api/v1/badge-requests/{id}/endorsement-invitations`
pub async fn invite_for_request(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let request = own_request(&s, &id).await?;
    let body = body.map_err(body_error)?;
    invite(&s, &who, InviteTarget::Request(&request), &body).await
}

/// `POST /api/v1/awards/{id}/endorsement-invitations`
pub async fn invite_for_award(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let award = own_award(&s, &id).await?;
    let body = body.map_err(body_error)?;
    invite(&s, &who, InviteTarget::Award(&award), &body).await
}

async fn invitations_of(s: &HttpState, award_id: Option<Uuid>) -> Result<Response, AppError> {
    let items = match award_id {
        Some(id) => s.app.store.endorsement_invitations(id).await?,
        None => Vec::new(),
    };
    Ok(axum::Json(json!({
        "items": items.iter().map(|i| invitation_json(&s.app.issuer, i, None)).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// `GET /api/v1/badge-requests/{id}/endorsement-invitations`
pub async fn list_for_request(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let request = own_request(&s, &id).await?;
    let reserved = s.app.store.reserved_request_award_id(request.id).await?;
    invitations_of(&s, reserved).await
}

/// `GET /api/v1/awards/{id}/endorsement-invitations`
pub async fn list_for_award(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let award = own_award(&s, &id).await?;
    invitations_of(&s, Some(award.id)).await
}

/// `GET /api/v1/awards/{id}/endorsements`
pub async fn award_endorsements(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let award = own_award(&s, &id).await?;
    let endorsements = s.app.store.award_endorsements(award.id).await?;
    let flags = embedded_flags(&s, award.id, &endorsements).await?;
    Ok(axum::Json(json!({
        "items": endorsements.iter().zip(flags).map(|(e, f)| endorsement_json(&s, e, f)).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// `GET /api/v1/endorsement-invitations/{id}`
pub async fn get_invitation(
    Tenanted(s): Tenanted,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let invitation = own_invitation(&s, &id).await?;
    Ok(axum::Json(invitation_json(&s.app.issuer, &invitation, None)).into_response())
}

/// `DELETE /api/v1/endorsement-invitations/{id}`: the link stops working (a used one stays used:
/// `409`).
pub async fn revoke_invitation(
    Tenanted(s): Tenanted,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let invitation = own_invitation(&s, &id).await?;
    if invitation.used_at.is_some() {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "wrong_state",
            "this invitation was already used: its endorsement is given",
        ));
    }
    let revoked = s
        .app
        .store
        .revoke_endorsement_invitation(invitation.id, &format!("api:{who}"))
        .await?
        .ok_or_else(|| AppError::not_found("no such invitation"))?;
    if revoked.used_at.is_some() {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "wrong_state",
            "this invitation was used meanwhile: its endorsement is given",
        ));
    }
    Ok(axum::Json(invitation_json(&s.app.issuer, &revoked, None)).into_response())
}

// ---- public documents -------------------------------------------------------------------

/// An endorsement by its id, with the state acting for its institution.
async fn public_endorsement(s: &HttpState, id: &str) -> Result<(HttpState, Endorsement), AppError> {
    let not_found = || AppError::not_found("no such endorsement");
    let id: Uuid = id.parse().map_err(|_| not_found())?;
    let e = s
        .app
        .store
        .get_endorsement(id)
        .await?
        .ok_or_else(not_found)?;
    Ok((scoped(s, &e.issuer_slug).await?, e))
}

async fn public_endorser(
    s: &HttpState,
    slug: &str,
    id: &str,
) -> Result<(HttpState, Endorsement), AppError> {
    let s = scoped(s, slug).await?;
    let not_found = || AppError::not_found("no such endorser");
    let id: Uuid = id.parse().map_err(|_| not_found())?;
    let e = s
        .app
        .store
        .endorsement_by_endorser(id)
        .await?
        .filter(|e| e.issuer_slug == s.app.issuer.slug())
        .ok_or_else(not_found)?;
    Ok((s, e))
}

/// `GET /endorsements/{id}[.json]`: the signed `EndorsementCredential` (or a page for people).
pub async fn endorsement_document(
    State(s): State<HttpState>,
    Path(file): Path<String>,
    page: PageRequest,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (id, ext) = file.split_once('.').unwrap_or((&file, ""));
    if !matches!(ext, "" | "json") {
        return Err(AppError::not_found("unknown format: use .json"));
    }
    let (s, e) = public_endorsement(&s, id).await?;
    if ext.is_empty() && prefers_html(&headers) {
        return Ok(endorsement_page(&s, &page, &e));
    }
    Ok(json_ld_text(e.credential_json, "application/vc+ld+json"))
}

#[derive(askama::Template)]
#[template(path = "endorse_endorsement.html")]
struct EndorsementPage {
    shell: Shell,
    wrote: String,
    declared: Vec<String>,
    /// The recommendation, as HTML made by `markdown` (escaped).
    comment: String,
    made: Vec<String>,
    profile_href: String,
    json_href: String,
}

#[derive(askama::Template)]
#[template(path = "endorse_endorser.html")]
struct EndorserPage {
    shell: Shell,
    declared: Vec<String>,
    made: Vec<String>,
    endorsement_href: String,
}

/// What the person declared: their role, and their organisation if they gave one.
fn declared(lang: Lang, profile: &EndorserProfile) -> Vec<String> {
    let mut lines = vec![lang.fill("endorse.person.role", &[("role", &profile.role)])];
    if let Some(org) = &profile.organisation {
        lines.push(lang.fill("endorse.person.organisation", &[("organisation", org)]));
    }
    lines
}

/// Who made the document, in the visitor's words: `made_by` (already filled), then what the
/// profile's signed description says (`EndorserProfile::description`), one idea per line.
fn made(lang: Lang, s: &HttpState, profile: &EndorserProfile, made_by: String) -> Vec<String> {
    let institution = s.app.issuer.settings.name.as_str();
    let kind = profile.kind;
    vec![
        made_by,
        lang.msg("endorse.person.declared").to_owned(),
        lang.msg("endorse.person.not_checked").to_owned(),
        lang.fill(
            "endorse.person.invited_as",
            &[
                ("institution", institution),
                ("kind", lang.t(kind.label_fr(), kind.label_en())),
            ],
        ),
    ]
}

/// A page for people who open an endorsement's link.
fn endorsement_page(s: &HttpState, page: &PageRequest, e: &Endorsement) -> Response {
    let lang = page.lang;
    let issuer = &s.app.issuer;
    let profile = EndorserProfile::from(e);
    let name = [("name", e.endorser_name.as_str())];
    let institution = [("institution", issuer.settings.name.as_str())];
    let shell = page.shell(s, lang.fill("endorse.endorsement.title", &name));
    let body = EndorsementPage {
        wrote: lang.fill("endorse.endorsement.wrote", &name),
        declared: declared(lang, &profile),
        comment: markdown(&e.comment),
        made: made(
            lang,
            s,
            &profile,
            lang.fill("endorse.endorsement.made_by", &institution),
        ),
        profile_href: shell.href(&profile.url(issuer)),
        json_href: format!("{}.json", endorsement_url(&issuer.base_url, e.id)),
        shell,
    };
    render(StatusCode::OK, &body)
}

/// `GET /ob2/endorsements/{id}`: the hosted OB 2.0 `Endorsement`.
pub async fn ob2_endorsement(
    State(s): State<HttpState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (_, e) = public_endorsement(&s, &id).await?;
    let doc = e.ob2_json.ok_or_else(|| {
        AppError::not_found("Open Badges 2.0 is not published for this endorsement")
    })?;
    Ok(json_ld_text(doc, "application/ld+json"))
}

/// `GET /issuers/{slug}/endorsers/{id}`: the endorser's Profile (its keys' controller document),
/// or a page for people.
pub async fn endorser_profile(
    State(s): State<HttpState>,
    Path((slug, id)): Path<(String, String)>,
    page: PageRequest,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (s, e) = public_endorser(&s, &slug, &id).await?;
    let issuer = &s.app.issuer;
    let profile = EndorserProfile::from(&e);
    if prefers_html(&headers) {
        let lang = page.lang;
        let institution = [("institution", issuer.settings.name.as_str())];
        let shell = page.shell(&s, e.endorser_name.as_str());
        let body = EndorserPage {
            declared: declared(lang, &profile),
            made: made(
                lang,
                &s,
                &profile,
                lang.fill("endorse.endorser.made_by", &institution),
            ),
            endorsement_href: shell.href(&endorsement_url(&issuer.base_url, e.id)),
            shell,
        };
        return Ok(render(StatusCode::OK, &body));
    }
    Ok(json_ld(
        profile.profile_document(issuer),
        "application/ld+json",
    ))
}

/// `GET /issuers/{slug}/endorsers/{id}/did.json`
pub async fn endorser_did(
    State(s): State<HttpState>,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (s, e) = public_endorser(&s, &slug, &id).await?;
    Ok(json_ld(
        EndorserProfile::from(&e).did_document(&s.app.issuer),
        "application/did+json",
    ))
}

/// `GET /ob2/issuers/{slug}/endorsers/{id}`: the endorser's OB 2.0 Profile.
pub async fn ob2_endorser(
    State(s): State<HttpState>,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (s, e) = public_endorser(&s, &slug, &id).await?;
    let doc = EndorserProfile::from(&e)
        .ob2_profile(&s.app.issuer)
        .map_err(|_| {
            AppError::not_found(
                "Open Badges 2.0 is not published by this instance: its issuer has no email",
            )
        })?;
    Ok(json_ld(doc, "application/ld+json"))
}
