//! Storage of awards and their audit trail, référentiels and carnets, bulk-award jobs, badge
//! requests with their evidence files and share links, endorsements: one storage layer for both
//! backends (issue #13 §4).
//!
//! The backend is chosen from the database URL scheme: `sqlite:` (the default for a
//! single institution, one file) or `postgres://` (several institutions, a shared server).
//! [`Store`] is one struct (no trait, no forwarding) whose methods live with their domain:
//! `awards.rs`, `status.rs`, `referentiels/`, `jobs/`, `requests/`, `endorsements/`; this file
//! holds the shared types, the errors and [`open`]; `db.rs` is the only place that knows the
//! dialects; `url.rs` database URLs safe to log. All SQL lives here, never in handlers.
//!
//! Migrations stay per backend, embedded, in `migrations/<backend>/`; a released one never
//! changes (0011 moved PostgreSQL's "not signed yet" VC-JWT from NULL to '', as SQLite stores
//! it). The same test suite runs on both backends (`tests/integration/storage*.rs`), and
//! `tests/integration/upgrade.rs` opens, on both, a database and key directory made by the
//! previous release (`tests/fixtures/upgrade/`, made by `scripts/make-upgrade-fixture.sh`).
//!
//! Privacy: recipients are minors and vulnerable adults, so the store never sees a clear
//! email address, only the salted hash (`sha256$<hex>`, Open Badges 2.0 §IdentityObject,
//! Open Badges 3.0 §IdentityObject) and its salt.
//!
//! Timestamps are truncated to whole microseconds before they are written, because
//! PostgreSQL keeps no more; both backends then return exactly what they were given.
//! SQLite stores them as RFC 3339 text, PostgreSQL as `TIMESTAMPTZ`.

/// An enum stored as text: `as_str` (its text, also its `Display`), `from_name` (input: `None`
/// when unknown) and `parse` (a stored text: [`StoreError::Corrupt`] naming `$what` when
/// unknown). New values need no migration.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)*
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value named `text`, if any.
            pub fn from_name(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }

            pub fn parse(text: &str) -> Result<Self, $crate::store::StoreError> {
                Self::from_name(text).ok_or_else(|| {
                    $crate::store::StoreError::Corrupt(format!("unknown {} {text:?}", $what))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod awards;
mod db;
mod endorsements;
mod institutions;
mod jobs;
pub(crate) mod people;
mod referentiels;
mod requests;
mod status;
mod tokens;
mod url;

pub use endorsements::{
    AwardDocuments, Endorsement, EndorserKind, Invitation, InvitationProblem, InvitationState,
    NewEndorsement, NewInvitation,
};
pub use institutions::{
    Institution, InstitutionFields, InstitutionUrls, StoredBadgeClass, StoredKey,
};
pub use jobs::{
    AwardCounts, BulkJob, BulkRow, CarnetOutcome, CreatedJob, JobCounts, JobKind, JobState,
    MarkedRows, NewBulkJob, NewBulkRow, NewCarnetBatch, NewCarnetRow, NewRowContent,
    PendingBulkRow, RowError, RowOutcome, RowStatus,
};
pub use people::Person;
pub use referentiels::{
    Carnet, CarnetEntryRecord, CarnetEvent, CarnetEventKind, NewCarnet, ReferentielSummary,
    SavedReferentiel, StoredReferentiel,
};
pub use requests::{
    AddedEvidence, BadgeRequest, EvidenceFile, EvidenceShare, NewBadgeRequest, NewEvidence,
    NewEvidenceShare, RequestAction, RequestEvent, RequestEventKind, RequestState,
    RequestTransition,
};
pub use tokens::{ApiTokenRecord, NewApiToken};
pub use url::DatabaseUrl;

use db::Db;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

pub use crate::status::{StatusPurpose, StatusSlot};

/// What the issuer asks the store to record: one badge given to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAward {
    /// The award id printed by `carnet issue`.
    pub id: Uuid,
    /// Which institution issued it.
    pub issuer_slug: String,
    pub badge_class_slug: String,
    /// sha256 of the badge-class file at issue time (badge classes are versioned).
    pub badge_class_digest: String,
    /// `sha256$<hex>` salted hash of the recipient's email; never the email itself.
    pub recipient_identity: String,
    pub recipient_salt: String,
    pub recipient_name: Option<String>,
    /// The OB 3.0 credential id; unique across the instance.
    pub credential_id: String,
    /// The signed credential with its Data Integrity proof, byte for byte.
    pub credential_json: String,
    /// The same credential as VC-JWT, once signed: `None` until its first download (RS256 is
    /// deterministic; see [`crate::issue::vc_jwt`]).
    pub credential_jwt: Option<String>,
    /// The issuer's RSA key that signs (or signed) the RS256 forms, VC-JWT and OB 2.0 signed
    /// assertion; `None` for awards stored before migration 0009, signed at issue time.
    pub rsa_kid: Option<String>,
    /// The credential's slot in its issuer's revocation status list, from
    /// [`Store::allocate_status_index`]: both set or both `None` (awards without a `credentialStatus`).
    pub status_list: Option<u32>,
    pub status_index: Option<u32>,
    /// The Open Badges 2.0 hosted Assertion (JSON, as served).
    pub assertion_json: Option<String>,
    /// The Open Badges 2.0 signed Assertion (compact JWS), once signed: `None` until its first
    /// download ([`crate::issue::ob2_jws`]), or when there is no OB 2.0 form.
    pub assertion_jws: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    /// Who asked: CLI user or API token name.
    pub issued_by: String,
    /// Unique per issuer when present, so that a retried bulk award is not given twice.
    pub idempotency_key: Option<String>,
    /// The person it was given to, in its institution (`referentiel::carnet::person_key`);
    /// `None` when the email is not known to the issuer.
    pub person_key: Option<String>,
}

/// An award's forms signed RS256 on their first download (migration 0009).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rs256Form {
    /// The OB 3.0 credential as VC-JWT (`credential_jwt`).
    VcJwt,
    /// The OB 2.0 signed assertion (`assertion_jws`).
    Ob2Jws,
}

/// Where a page of awards ends ([`Store::list_awards`]): the last award's `created_at` and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwardCursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

/// A stored award: what was asked for, plus what the store and later events added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Award {
    pub id: Uuid,
    pub issuer_slug: String,
    pub badge_class_slug: String,
    pub badge_class_digest: String,
    pub recipient_identity: String,
    pub recipient_salt: String,
    pub recipient_name: Option<String>,
    pub credential_id: String,
    pub credential_json: String,
    pub credential_jwt: Option<String>,
    pub rsa_kid: Option<String>,
    pub status_list: Option<u32>,
    pub status_index: Option<u32>,
    pub assertion_json: Option<String>,
    pub assertion_jws: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub issued_by: String,
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `None` while the award is valid.
    pub revoked_at: Option<DateTime<Utc>>,
    pub revocation_reason: Option<String>,
    /// Its person record (migration 0017); `None` for awards made before, until linked.
    pub person_key: Option<String>,
}

impl Award {
    /// Where the page ending with this award ends.
    pub fn cursor(&self) -> AwardCursor {
        AwardCursor {
            created_at: self.created_at,
            id: self.id,
        }
    }

    /// The award as it is written: timestamps truncated to microseconds, not revoked.
    fn from_new(new: &NewAward, created_at: DateTime<Utc>) -> Self {
        Award {
            id: new.id,
            issuer_slug: new.issuer_slug.clone(),
            badge_class_slug: new.badge_class_slug.clone(),
            badge_class_digest: new.badge_class_digest.clone(),
            recipient_identity: new.recipient_identity.clone(),
            recipient_salt: new.recipient_salt.clone(),
            recipient_name: new.recipient_name.clone(),
            credential_id: new.credential_id.clone(),
            credential_json: new.credential_json.clone(),
            credential_jwt: new.credential_jwt.clone(),
            rsa_kid: new.rsa_kid.clone(),
            status_list: new.status_list,
            status_index: new.status_index,
            assertion_json: new.assertion_json.clone(),
            assertion_jws: new.assertion_jws.clone(),
            valid_from: to_micros(new.valid_from),
            valid_until: new.valid_until.map(to_micros),
            issued_by: new.issued_by.clone(),
            idempotency_key: new.idempotency_key.clone(),
            created_at: to_micros(created_at),
            revoked_at: None,
            revocation_reason: None,
            person_key: new.person_key.clone(),
        }
    }

    /// The award's slot in its issuer's revocation list, when it has one.
    pub fn status_slot(&self) -> Option<StatusSlot> {
        Some(StatusSlot {
            list: self.status_list?,
            index: self.status_index?,
        })
    }
}

/// A revoked award, as the OB 2.0 `RevocationList` of its issuer lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedAward {
    /// The award id; the hosted assertion's URL is built from it.
    pub id: Uuid,
    /// The OB 3.0 credential id.
    pub credential_id: String,
    pub revoked_at: DateTime<Utc>,
    /// `revocationReason`; always set by [`Store::revoke_award`].
    pub reason: Option<String>,
}

/// One status list of an issuer, for one purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListInfo {
    pub issuer_slug: String,
    pub purpose: StatusPurpose,
    pub list: u32,
    /// Entries of the list, fixed when it was opened.
    pub size: u32,
    /// Indexes handed out so far (`0..allocated`); equal to `size` when the list is full.
    pub allocated: u32,
    /// Bumped in the same transaction as every change of a bit (a revocation): a signed copy of the list made
    /// at revision `r` is current as long as the revision is still `r`. Read it before the bits.
    pub revision: u64,
    pub created_at: DateTime<Utc>,
    /// When a bit last changed (or the list was opened).
    pub updated_at: DateTime<Utc>,
}

text_enum! {
    /// What happened to an award; stored as text, so new kinds need no migration.
    pub enum AwardEventKind ("award event kind") {
        Issued = "issued",
        Revoked = "revoked",
        /// Re-signed with more endorsements (same id, status slot and dates).
        Endorsed = "endorsed",
    }
}

/// One line of an award's audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct AwardEvent {
    pub kind: AwardEventKind,
    /// Who did it: CLI user or API token name.
    pub actor: String,
    pub at: DateTime<Utc>,
    /// A small JSON object (at most 4096 characters once serialised).
    pub detail: serde_json::Value,
}

/// Which unique rule an insert broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictOn {
    AwardId,
    CredentialId,
    /// The (issuer, idempotency key) pair.
    IdempotencyKey,
    /// The (issuer, status list, status index) slot.
    StatusSlot,
    /// A constraint this code does not know yet (named as the database reported it).
    Other(String),
}

impl ConflictOn {
    /// The conflict a unique constraint (named as PostgreSQL names it) stands for.
    pub(crate) fn from_constraint(name: &str) -> Self {
        match name {
            "awards_pkey" => ConflictOn::AwardId,
            "awards_credential_id_key" => ConflictOn::CredentialId,
            "awards_issuer_idempotency_key" => ConflictOn::IdempotencyKey,
            "awards_status_slot" => ConflictOn::StatusSlot,
            other => ConflictOn::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for ConflictOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConflictOn::AwardId => f.write_str("award id"),
            ConflictOn::CredentialId => f.write_str("credential id"),
            ConflictOn::IdempotencyKey => f.write_str("idempotency key"),
            ConflictOn::StatusSlot => f.write_str("status list slot"),
            ConflictOn::Other(constraint) => write!(f, "unique constraint {constraint}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL's scheme names no backend; holds the scheme as written.
    #[error(
        "unsupported database URL scheme {0:?}: use sqlite: (e.g. sqlite://data/carnet.db) or postgres:// (also postgresql://)"
    )]
    UnsupportedUrl(String),
    #[error("an award with the same {0} already exists")]
    Conflict(ConflictOn),
    #[error("no award has the id {0}")]
    AwardNotFound(Uuid),
    #[error("the award {id} was already revoked at {revoked_at}")]
    AlreadyRevoked { id: Uuid, revoked_at: DateTime<Utc> },
    /// An award may only carry a slot that [`Store::allocate_status_index`] handed out for its issuer.
    #[error("the revocation status slot ({0}) was not allocated to this issuer")]
    UnallocatedStatusSlot(StatusSlot),
    #[error("invalid store options: {0}")]
    InvalidOptions(String),
    #[error(
        "cannot use the path {path} for the SQLite database (resolving it or creating its directory failed)"
    )]
    SqlitePath {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("database migration failed")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// A stored value that this code cannot read back (bad uuid, timestamp, JSON...).
    #[error("corrupt data in the database: {0}")]
    Corrupt(String),
    /// A référentiel version is never changed once imported: new content needs a new version.
    #[error(
        "the référentiel {id} version {version} is already imported with a different content: give the new content a new version"
    )]
    ReferentielVersionExists { id: String, version: String },
    #[error("no référentiel {id} version {version} is imported")]
    UnknownReferentiel { id: String, version: String },
    /// One carnet per person and référentiel version; holds the existing carnet's id.
    #[error("this person already has a carnet on this référentiel version: {0}")]
    CarnetExists(Uuid),
    #[error("no carnet has the id {0}")]
    CarnetNotFound(Uuid),
    /// The carnet changed since the revision an edit was made from (another edit came first).
    #[error("the carnet {0} changed meanwhile")]
    CarnetChanged(Uuid),
    #[error("no badge request has the id {0}")]
    RequestNotFound(Uuid),
    /// The request is not in the state the action needs (holds its current state).
    #[error("the badge request {id} is {state}: it cannot be {action}d now")]
    RequestState {
        id: Uuid,
        state: RequestState,
        action: &'static str,
    },
    /// A transition that is wrong whatever the request's state (a decline without a reason...).
    #[error("{0}")]
    InvalidTransition(String),
    #[error("no evidence file has the id {0}")]
    EvidenceNotFound(Uuid),
    #[error("no institution has the slug {0}")]
    InstitutionNotFound(String),
    #[error("an institution already has the slug {0}")]
    InstitutionExists(String),
    /// An endorsement invitation that cannot be used (unknown, used, expired, revoked).
    #[error("this endorsement invitation is {0}")]
    InvitationUnusable(InvitationProblem),
}

impl crate::problem::Problem for StoreError {
    fn kind(&self) -> crate::problem::Kind {
        use crate::problem::Kind;
        match self {
            StoreError::AwardNotFound(_)
            | StoreError::CarnetNotFound(_)
            | StoreError::RequestNotFound(_)
            | StoreError::EvidenceNotFound(_)
            | StoreError::InstitutionNotFound(_)
            | StoreError::InvitationUnusable(InvitationProblem::Unknown) => Kind::NotFound,
            StoreError::InvitationUnusable(_) => Kind::Gone,
            StoreError::Conflict(_)
            | StoreError::AlreadyRevoked { .. }
            | StoreError::ReferentielVersionExists { .. }
            | StoreError::CarnetExists(_)
            | StoreError::InstitutionExists(_)
            | StoreError::CarnetChanged(_) => Kind::Conflict,
            StoreError::RequestState { .. } => Kind::WrongState,
            StoreError::UnknownReferentiel { .. } | StoreError::InvalidTransition(_) => {
                Kind::Invalid
            }
            StoreError::Database(sqlx::Error::PoolTimedOut) => Kind::Unavailable,
            StoreError::UnsupportedUrl(_)
            | StoreError::UnallocatedStatusSlot(_)
            | StoreError::InvalidOptions(_)
            | StoreError::SqlitePath { .. }
            | StoreError::Database(_)
            | StoreError::Migration(_)
            | StoreError::Corrupt(_) => Kind::Internal,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            StoreError::UnknownReferentiel { .. } => Some("referentiel.id"),
            StoreError::InvalidTransition(_) => Some("comment"),
            _ => None,
        }
    }

    fn detail(&self) -> String {
        match self {
            StoreError::InvalidTransition(why) => why.clone(),
            other => other.to_string(),
        }
    }
}

/// Where everything is kept: one body for both backends (see [`db`] for what differs).
/// Methods never turn a database failure into "not found": `Ok(None)` means the query ran and
/// found nothing. The methods live with their domain: `awards.rs` (awards, status lists,
/// BadgeClass versions), `referentiels/`, `jobs/`, `requests/`, `endorsements/`.
pub struct Store {
    db: Db,
    options: StoreOptions,
}

impl Store {
    /// Which backend this is: `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.db.backend()
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        db::query("SELECT 1").execute(&self.db).await.map(|_| ())
    }

    /// Closes the pool's connections (waits for those in use).
    pub async fn close(&self) {
        self.db.close().await;
    }
}

/// Settings of a store that are not in its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Entries of each status list this store opens (lists already open keep their size). At least 1, at most
    /// [`MAX_STATUS_LIST_SIZE`]; the default is the spec's minimum, 131,072 (Bitstring Status List §2.2). A
    /// smaller size is for tests: a published list is padded to the minimum anyway.
    pub status_list_size: u32,
}

/// The largest status list a store opens: 2^24 entries, a 2 MiB bitstring.
pub const MAX_STATUS_LIST_SIZE: u32 = 1 << 24;

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            status_list_size: crate::status::bitstring::MIN_ENTRIES as u32,
        }
    }
}

impl StoreOptions {
    fn validate(self) -> Result<Self, StoreError> {
        if self.status_list_size == 0 || self.status_list_size > MAX_STATUS_LIST_SIZE {
            return Err(StoreError::InvalidOptions(format!(
                "status_list_size must be between 1 and {MAX_STATUS_LIST_SIZE}, not {}",
                self.status_list_size
            )));
        }
        Ok(self)
    }
}

/// Opens the store named by the URL and runs its embedded migrations.
///
/// * `sqlite:path` / `sqlite://path` (query parameters such as `mode` pass through): the
///   file and its parent directory are created if missing; WAL, foreign keys on, busy timeout.
/// * `postgres://` / `postgresql://`: all URL parameters pass through to the driver, so
///   `?options=-c%20search_path%3Dmy_schema` puts the tables in `my_schema`.
/// * anything else: [`StoreError::UnsupportedUrl`] naming the scheme.
pub async fn open(url: &str) -> Result<Arc<Store>, StoreError> {
    open_with(url, StoreOptions::default()).await
}

/// [`open`] with options.
pub async fn open_with(url: &str, options: StoreOptions) -> Result<Arc<Store>, StoreError> {
    let options = options.validate()?;
    let scheme = url_scheme(url);
    let db = match scheme.to_ascii_lowercase().as_str() {
        "sqlite" => Db::open_sqlite(url).await?,
        "postgres" | "postgresql" => Db::open_postgres(url).await?,
        _ => return Err(StoreError::UnsupportedUrl(scheme.to_owned())),
    };
    let store = Arc::new(Store { db, options });
    tracing::info!(
        store.backend = store.backend(),
        store.url = %DatabaseUrl::new(url),
        "opened the {} store",
        store.backend()
    );
    Ok(store)
}

/// The part before the first `:`; the whole string when there is none.
fn url_scheme(url: &str) -> &str {
    url.split_once(':').map_or(url, |(scheme, _)| scheme)
}

/// Truncates to whole microseconds, the precision both backends keep.
fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// The detail of the "issued" event: what identifies the award beyond its id.
fn issued_event_detail(award: &NewAward) -> String {
    serde_json::json!({
        "credential_id": award.credential_id,
        "badge_class": award.badge_class_slug,
        "badge_class_digest": award.badge_class_digest,
        "idempotency_key": award.idempotency_key,
        "status_list": award.status_list,
        "status_index": award.status_index,
    })
    .to_string()
}

/// The detail of the "revoked" event.
fn revoked_event_detail(award: &Award, reason: &str) -> String {
    serde_json::json!({
        "credential_id": award.credential_id,
        "reason": reason,
        "status_list": award.status_list,
        "status_index": award.status_index,
    })
    .to_string()
}

fn stored_purpose(text: &str) -> Result<StatusPurpose, StoreError> {
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("status list purpose: {e}")))
}

fn parse_event_detail(text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("award event detail is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_truncated_to_microseconds() {
        let at = DateTime::parse_from_rfc3339("2025-03-01T10:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            to_micros(at).to_rfc3339(),
            "2025-03-01T10:00:00.123456+00:00"
        );
    }
}
