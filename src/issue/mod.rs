//! Issuing an award: build the OB 3.0 credential from a badge class, sign it (Data Integrity
//! eddsa-rdfc-2022), and store it with its OB 2.0 forms in one transaction. Its VC-JWT form
//! (RS256) is signed on first download and stored then ([`vc_jwt`]).
//!
//! [`issue`]: an idempotency key already used gives that award back; otherwise validate, take a
//! status slot (never reused), build (`crate::ob3::credential`) and sign off the async runtime
//! (Data Integrity; the OB 2.0 hosted assertion), and store the award with its "issued" event and
//! `rsa_kid` (the active RSA key, for the RS256 forms later) in one transaction. A class with
//! award rules is never issued on request alone: [`issue_recognised`] issues an award earned from
//! a carnet. `deferred.rs`: the RS256 forms (VC-JWT, OB 2.0 signed assertion) signed on first
//! download; `many.rs`: many awards of one class at once (bulk awards).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::badge_class::BadgeClass;
use crate::issuer::Issuer;
use crate::keys::rfc3339;
use crate::ob2;
use crate::ob3::credential::{self, AwardDetails};
use crate::ob3::recognition::{self, Recognised};
use crate::proof::data_integrity;
use crate::recipient::{Email, HashedIdentity, hash_email};
use crate::referentiel::carnet::{hashed_from, person_key};
use crate::status::StatusPurpose;
use crate::status_publisher;
use crate::store::{Award, NewAward, StatusSlot, Store, StoreError};

mod deferred;
mod many;
pub use deferred::{ob2_jws, sign_ob2_jws, sign_vc_jwt, vc_jwt};
pub use many::{
    ReservedBatch, SignedBatch, SlotPool, issue_many, reserve_many, sign_many, sign_reserved,
    store_many,
};

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("unknown badge class \"{0}\"")]
    UnknownBadgeClass(String),
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    #[error("signing failed: {0}")]
    Signing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::problem::Problem for IssueError {
    fn kind(&self) -> crate::problem::Kind {
        use crate::problem::Kind;
        match self {
            IssueError::UnknownBadgeClass(_) | IssueError::Invalid { .. } => Kind::Invalid,
            IssueError::Signing(_) => Kind::Internal,
            IssueError::Store(e) => e.kind(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            IssueError::UnknownBadgeClass(_) => Some("badge_class"),
            IssueError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    fn detail(&self) -> String {
        match self {
            IssueError::Invalid { problem, .. } => problem.clone(),
            other => other.to_string(),
        }
    }

    fn transparent(&self) -> Option<&dyn crate::problem::Problem> {
        match self {
            IssueError::Store(e) => Some(e),
            _ => None,
        }
    }
}

/// What the educator asks for.
#[derive(Debug, Clone)]
pub struct AwardRequest {
    pub badge_class: String,
    pub recipient: Email,
    pub details: AwardDetails,
    /// Who asks (CLI user, API token name), recorded in the audit trail.
    pub issued_by: String,
    pub idempotency_key: Option<String>,
}

/// An award earned from a carnet, which an educator confirmed (`crate::award_rules::award`).
#[derive(Debug, Clone)]
pub struct RecognisedAwardRequest {
    /// The carnet's salted hash of the person's email, or a fresh one when the educator gave the
    /// email again: carnet keeps no clear email.
    pub recipient: HashedIdentity,
    /// The carnet's person record.
    pub person_key: String,
    pub details: AwardDetails,
    pub issued_by: String,
    /// Derived from the carnet, the class and the référentiel version, so that the award is never
    /// issued twice.
    pub idempotency_key: String,
    pub recognised: Recognised,
    /// For the logs.
    pub carnet_id: Uuid,
}

impl AwardRequest {
    /// Checks what the class and dates allow before anything is signed.
    fn validate(&self, now: DateTime<Utc>) -> Result<(), IssueError> {
        validate_details(&self.details, now)
    }
}

/// A class that requires endorsements (`[endorsements] minimum = N`) is awarded only with them:
/// through a badge request, where the educator invites endorsers before approving it.
fn check_endorsements(class: &BadgeClass, d: &AwardDetails) -> Result<(), IssueError> {
    match crate::badge_class::endorsements_missing(class.endorsements_minimum, d.endorsements.len())
    {
        None => Ok(()),
        Some(missing) => Err(IssueError::Invalid {
            field: "endorsements",
            problem: format!(
                "« {} » needs {} endorsement(s) before it is awarded, {missing} missing: award it through a badge request (POST /api/v1/badge-requests), invite endorsers on it, then approve it",
                class.name, class.endorsements_minimum
            ),
        }),
    }
}

/// Checks an award's details (dates, URLs, lengths) before anything is signed.
fn validate_details(d: &AwardDetails, now: DateTime<Utc>) -> Result<(), IssueError> {
    if let Some(until) = d.valid_until
        && until <= now
    {
        return Err(IssueError::Invalid {
            field: "valid_until",
            problem: "must be in the future".into(),
        });
    }
    if let Some(url) = &d.evidence_url
        && let Err(why) = crate::iri::check_web_link(url)
    {
        return Err(IssueError::Invalid {
            field: "evidence_url",
            problem: format!("\"{url}\" {why}"),
        });
    }
    if let Some(n) = &d.narrative
        && let Err(problem) = crate::text::check(n, 8000, crate::text::Lines::Many)
    {
        return Err(IssueError::Invalid {
            field: "narrative",
            problem,
        });
    }
    if let Some(name) = &d.recipient_name {
        if name.trim().is_empty() {
            return Err(IssueError::Invalid {
                field: "name",
                problem: "must be 1 to 200 characters".into(),
            });
        }
        if let Err(problem) = crate::text::check(name, 200, crate::text::Lines::One) {
            return Err(IssueError::Invalid {
                field: "name",
                problem,
            });
        }
    }
    Ok(())
}

/// The two signed forms of one credential.
#[derive(Debug, Clone)]
pub struct SignedCredential {
    pub json: Value,
    pub jwt: String,
}

/// Signs a credential in both forms with the issuer's active keys (CPU-bound: call from a
/// blocking context).
pub fn sign(
    issuer: &Issuer,
    unsigned: &Value,
    now: DateTime<Utc>,
) -> Result<SignedCredential, IssueError> {
    let json = sign_data_integrity(issuer, unsigned, now)?;
    let jwt = deferred::sign_vc_jwt(issuer, &issuer.keys.active_rsa().kid, unsigned)?;
    Ok(SignedCredential { json, jwt })
}

/// The credential with its Data Integrity proof (eddsa-rdfc-2022), by the active Ed25519 key.
pub fn sign_data_integrity(
    issuer: &Issuer,
    unsigned: &Value,
    now: DateTime<Utc>,
) -> Result<Value, IssueError> {
    let ed = issuer.keys.active_ed25519();
    let proof = data_integrity::sign_eddsa_rdfc_2022(
        unsigned,
        ed.signing_key(),
        &issuer.verification_method(&ed.kid),
        &rfc3339(now),
    )
    .map_err(|e| IssueError::Signing(e.to_string()))?;
    let mut json = unsigned.clone();
    json["proof"] = serde_json::json!([proof]);
    Ok(json)
}

/// The OB 2.0 hosted assertion of an award, which may be earned from a carnet (its assertion
/// then names the BadgeClass of the class's référentiel version and carries the narrative first
/// in its evidence). Its signed form is derived from it on first download ([`ob2_jws`]). `None`
/// when the issuer has no email: Open Badges 2.0 requires one (a warning says so at start).
#[expect(
    clippy::too_many_arguments,
    reason = "what an assertion is made of, and the recognised competences"
)]
pub fn ob2_hosted(
    issuer: &Issuer,
    class: &BadgeClass,
    award_id: Uuid,
    recipient: &crate::recipient::HashedIdentity,
    details: &AwardDetails,
    issued_at: DateTime<Utc>,
    ob3_credential_id: &str,
    recognised: Option<&Recognised>,
) -> Result<Option<String>, IssueError> {
    if issuer
        .settings
        .email
        .as_deref()
        .is_none_or(|e| e.trim().is_empty())
    {
        return Ok(None);
    }
    let parts = ob2::AssertionParts {
        award_id,
        recipient,
        details,
        issued_at,
        verification: ob2::Verification::Hosted,
        ob3_credential_id,
    };
    let mut hosted = ob2::assertion(issuer, class, &parts)
        .map_err(|e: ob2::Ob2Error| IssueError::Signing(e.to_string()))?;
    if let Some(r) = recognised {
        let url = ob2::Ob2Urls::new(issuer)
            .badge_class_version(class, &recognition::edition_version(class, &r.referentiel));
        ob2::recognise_assertion(&mut hosted, &url, &recognition::evidence(r));
    }
    Ok(Some(serde_json::to_string(&hosted).expect("json")))
}

/// Issues an award: validates, builds, signs (off the async runtime) and stores it atomically.
/// With an idempotency key already used by this issuer, returns the existing award unchanged.
///
/// A class with award rules (`[[recognises]]`) is refused here: it is awarded from a carnet
/// that earns it ([`issue_recognised`], after an educator's confirmation), never on request alone.
pub async fn issue(
    issuer: &Arc<Issuer>,
    class: &BadgeClass,
    store: &Store,
    request: AwardRequest,
) -> Result<Award, IssueError> {
    if let Some(key) = &request.idempotency_key
        && let Some(existing) = store.find_by_idempotency_key(issuer.slug(), key).await?
    {
        return Ok(existing);
    }
    if !class.rules.is_empty() {
        return Err(IssueError::Invalid {
            field: "badge_class",
            problem: format!(
                "« {} » recognises référentiel competences: it is awarded from a carnet that earns it (GET /api/v1/carnets/{{id}}/proposals, then confirm; carnet carnets proposals)",
                class.name
            ),
        });
    }
    request.validate(Utc::now())?;
    check_endorsements(class, &request.details)?;
    let email = request.recipient.clone();
    let first_sighting = first_sighting(store, issuer.slug(), &email).await;
    let award = issue_core(
        issuer,
        class,
        store,
        Core {
            person_key: Some(person_key(issuer.slug(), &request.recipient)),
            recipient: hash_email(&request.recipient),
            details: request.details,
            issued_by: request.issued_by,
            idempotency_key: request.idempotency_key,
            recognised: None,
        },
    )
    .await?;
    tracing::info!(award.id = %award.id, badge_class = %class.slug, recipient = %email, "issued badge {}", award.id);
    if first_sighting {
        link_earlier(store, issuer.slug(), &email).await;
    }
    Ok(award)
}

/// Whether the institution has no record of this person yet: only then can awards or requests
/// made before people were recorded be theirs and unlinked (every later one has its person), so
/// only then is [`link_earlier`] worth its scan.
pub async fn first_sighting(
    store: &Store,
    issuer_slug: &str,
    email: &crate::recipient::Email,
) -> bool {
    !store
        .person_known(issuer_slug, &person_key(issuer_slug, email))
        .await
        .unwrap_or(false)
}

/// Links to the person of `email` the institution's awards and requests made before people
/// were recorded (migration 0017); a failure is logged, never the caller's.
pub async fn link_earlier(store: &Store, issuer_slug: &str, email: &crate::recipient::Email) {
    let key = person_key(issuer_slug, email);
    match store
        .link_earlier(issuer_slug, &key, hashed_from(email))
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            linked = n,
            "linked earlier awards and requests to their person"
        ),
        Err(e) => tracing::warn!("earlier awards could not be linked to their person: {e}"),
    }
}

/// Issues an award earned from a carnet (see [`RecognisedAwardRequest`]); with its idempotency
/// key already used, returns the existing award unchanged.
pub async fn issue_recognised(
    issuer: &Arc<Issuer>,
    class: &BadgeClass,
    store: &Store,
    request: RecognisedAwardRequest,
) -> Result<Award, IssueError> {
    if let Some(existing) = store
        .find_by_idempotency_key(issuer.slug(), &request.idempotency_key)
        .await?
    {
        return Ok(existing);
    }
    validate_details(&request.details, Utc::now())?;
    check_endorsements(class, &request.details)?;
    let carnet_id = request.carnet_id;
    let award = issue_core(
        issuer,
        class,
        store,
        Core {
            person_key: Some(request.person_key),
            recipient: request.recipient,
            details: request.details,
            issued_by: request.issued_by,
            idempotency_key: Some(request.idempotency_key),
            recognised: Some(request.recognised),
        },
    )
    .await?;
    tracing::info!(award.id = %award.id, badge_class = %class.slug, carnet.id = %carnet_id, "issued badge {} from carnet {carnet_id}", award.id);
    Ok(award)
}

/// What both ways of issuing have once the request is checked.
struct Core {
    /// The person record it belongs to, when the email is known.
    person_key: Option<String>,
    recipient: HashedIdentity,
    details: AwardDetails,
    issued_by: String,
    idempotency_key: Option<String>,
    recognised: Option<Recognised>,
}

/// Builds, signs (off the async runtime) and stores an award atomically.
async fn issue_core(
    issuer: &Arc<Issuer>,
    class: &BadgeClass,
    store: &Store,
    core: Core,
) -> Result<Award, IssueError> {
    let slot = store
        .allocate_status_index(issuer.slug(), StatusPurpose::Revocation)
        .await?;
    let (signer, signed_class) = (issuer.clone(), class.clone());
    let prepared = tokio::task::spawn_blocking(move || {
        prepare(&signer, &signed_class, core, slot, Utc::now())
    })
    .await
    .map_err(|e| IssueError::Signing(e.to_string()))??;
    if let Some((version, document)) = &prepared.class_version {
        save_class_version(issuer, class, store, version, document).await?;
    }
    let key = prepared.new.idempotency_key.clone();
    match store.insert_award(&prepared.new).await {
        Ok(a) => Ok(a),
        // Two requests with the same idempotency key at once: the loser returns the winner's award.
        Err(StoreError::Conflict(_)) if key.is_some() => Ok(store
            .find_by_idempotency_key(issuer.slug(), key.as_deref().unwrap_or_default())
            .await?
            .ok_or_else(|| IssueError::Signing("conflicting award vanished".into()))?),
        Err(e) => Err(e.into()),
    }
}

/// An award built and signed, not stored yet.
struct Prepared {
    new: NewAward,
    /// The OB 2.0 BadgeClass version its assertion names, and that document.
    class_version: Option<(String, String)>,
}

/// Builds and signs an award in its status slot (CPU-bound: call from a blocking context).
fn prepare(
    issuer: &Issuer,
    class: &BadgeClass,
    core: Core,
    slot: StatusSlot,
    now: DateTime<Utc>,
) -> Result<Prepared, IssueError> {
    let award_id = core.details.reserved_id.unwrap_or_else(Uuid::new_v4);
    let mut details = core.details;
    if details.valid_until.is_none()
        && let Some(days) = class.validity_days
    {
        details.valid_until = Some(now + chrono::Duration::days(i64::from(days)));
    }
    let hashed = core.recipient;
    let recognised = core.recognised;
    let mut unsigned = credential::build_with(
        issuer,
        class,
        award_id,
        &hashed,
        &details,
        now,
        recognised.as_ref(),
    );
    unsigned["credentialStatus"] = status_publisher::entry(issuer, StatusPurpose::Revocation, slot);
    let credential_id = credential::credential_url(&issuer.docs, award_id);
    let signed = sign_data_integrity(issuer, &unsigned, now)?;
    let assertion_json = ob2_hosted(
        issuer,
        class,
        award_id,
        &hashed,
        &details,
        now,
        &credential_id,
        recognised.as_ref(),
    )?;
    // The assertion points at this version of the class: its document must stay servable.
    let class_version = assertion_json.is_some().then(|| match &recognised {
        None => (
            class.version().to_owned(),
            ob2::badge_class(issuer, class).to_string(),
        ),
        Some(r) => (
            recognition::edition_version(class, &r.referentiel),
            ob2::badge_class_recognising(issuer, class, &r.referentiel).to_string(),
        ),
    });
    let new = NewAward {
        id: award_id,
        issuer_slug: issuer.slug().to_string(),
        badge_class_slug: class.slug.clone(),
        badge_class_digest: class.digest.clone(),
        recipient_identity: hashed.identity_hash,
        recipient_salt: hashed.salt,
        recipient_name: details.recipient_name.clone(),
        credential_id,
        credential_json: serde_json::to_string(&signed).expect("json"),
        credential_jwt: None,
        rsa_kid: Some(issuer.keys.active_rsa().kid.clone()),
        status_list: Some(slot.list),
        status_index: Some(slot.index),
        assertion_json,
        assertion_jws: None,
        valid_from: now,
        valid_until: details.valid_until,
        issued_by: core.issued_by,
        idempotency_key: core.idempotency_key,
        person_key: core.person_key,
    };
    Ok(Prepared { new, class_version })
}

async fn save_class_version(
    issuer: &Issuer,
    class: &BadgeClass,
    store: &Store,
    version: &str,
    document: &str,
) -> Result<(), StoreError> {
    store
        .save_badge_class_version(issuer.slug(), &class.slug, version, document)
        .await
}

/// Parses `YYYY-MM-DD` (end of day, UTC) or an RFC 3339 date-time.
pub fn parse_valid_until(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|dt| dt.and_utc())
        .ok_or_else(|| format!("\"{s}\" is not a date (YYYY-MM-DD) or an RFC 3339 date-time"))
}

/// A revocation reason: trimmed, 1 to 500 characters (it is published in the RevocationList).
pub fn validate_reason(reason: &str) -> Result<String, String> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 {
        return Err("give a reason of 1 to 500 characters (it is published)".into());
    }
    Ok(r.to_string())
}
