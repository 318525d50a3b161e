//! Storage of awards and their audit trail, référentiels and carnets, bulk-award jobs, badge
//! requests with their evidence files and share links, behind one trait with two backends.
//!
//! The backend is chosen from the database URL scheme: `sqlite:` (the default for a
//! single institution, one file) or `postgres://` (several institutions, a shared server).
//! Each backend has its own embedded migrations under `migrations/<backend>/`, and all
//! SQL lives in this module's backend files, never in handlers.
//!
//! Privacy: recipients are minors and vulnerable adults, so the store never sees a clear
//! email address, only the salted hash (`sha256$<hex>`, Open Badges 2.0 §IdentityObject,
//! Open Badges 3.0 §IdentityObject) and its salt.
//!
//! Timestamps are truncated to whole microseconds before they are written, because
//! PostgreSQL keeps no more; both backends then return exactly what they were given.
//! SQLite stores them as RFC 3339 text, PostgreSQL as `TIMESTAMPTZ`.

mod batch;
mod endorsements;
mod jobs;
pub mod postgres;
mod referentiels;
mod requests;
pub mod sqlite;
mod url;

pub use endorsements::{
    AwardDocuments, Endorsement, EndorserKind, Invitation, InvitationProblem, InvitationState,
    NewEndorsement, NewInvitation,
};
pub use jobs::{
    AwardCounts, BulkJob, BulkRow, CarnetOutcome, CreatedJob, JobCounts, JobKind, JobState,
    MarkedRows, NewBulkJob, NewBulkRow, NewCarnetBatch, NewCarnetRow, NewRowContent,
    PendingBulkRow, RowError, RowOutcome, RowStatus,
};
pub use referentiels::{
    Carnet, CarnetEntryRecord, CarnetEvent, CarnetEventKind, NewCarnet, ReferentielSummary,
    SavedReferentiel, StoredReferentiel,
};
pub use requests::{
    AddedEvidence, BadgeRequest, EvidenceFile, EvidenceShare, NewBadgeRequest, NewEvidence,
    NewEvidenceShare, RequestAction, RequestEvent, RequestEventKind, RequestState,
    RequestTransition,
};
pub use url::DatabaseUrl;

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
}

/// An award's forms signed RS256 on their first download (migration 0009).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rs256Form {
    /// The OB 3.0 credential as VC-JWT (`credential_jwt`).
    VcJwt,
    /// The OB 2.0 signed assertion (`assertion_jws`).
    Ob2Jws,
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
}

impl Award {
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

/// What happened to an award; stored as text, so new kinds need no migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AwardEventKind {
    Issued,
    Revoked,
    /// Re-signed with more endorsements (same id, status slot and dates).
    Endorsed,
}

impl AwardEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AwardEventKind::Issued => "issued",
            AwardEventKind::Revoked => "revoked",
            AwardEventKind::Endorsed => "endorsed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "issued" => Ok(AwardEventKind::Issued),
            "revoked" => Ok(AwardEventKind::Revoked),
            "endorsed" => Ok(AwardEventKind::Endorsed),
            other => Err(StoreError::Corrupt(format!(
                "unknown award event kind {other:?}"
            ))),
        }
    }
}

impl fmt::Display for AwardEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
    /// An endorsement invitation that cannot be used (unknown, used, expired, revoked).
    #[error("this endorsement invitation is {0}")]
    InvitationUnusable(InvitationProblem),
}

/// Where awards are kept. Implementations never turn a database failure into "not found":
/// `Ok(None)` means the query ran and found nothing.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Writes the award and its "issued" audit event in ONE transaction (both or neither).
    /// A duplicate id, credential id, (issuer, idempotency key) or status slot gives
    /// [`StoreError::Conflict`]; a status slot not allocated to the issuer gives
    /// [`StoreError::UnallocatedStatusSlot`].
    async fn insert_award(&self, award: &NewAward) -> Result<Award, StoreError>;
    async fn get_award(&self, id: Uuid) -> Result<Option<Award>, StoreError>;
    async fn get_award_by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<Award>, StoreError>;
    async fn find_by_idempotency_key(
        &self,
        issuer_slug: &str,
        key: &str,
    ) -> Result<Option<Award>, StoreError>;
    /// One issuer's awards, newest first (ties broken by id, so pages never overlap).
    async fn list_awards(
        &self,
        issuer_slug: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Award>, StoreError>;
    async fn count_awards(&self, issuer_slug: &str) -> Result<u64, StoreError>;
    /// The award's audit trail, oldest first; empty for an unknown award.
    async fn award_events(&self, id: Uuid) -> Result<Vec<AwardEvent>, StoreError>;

    /// Hands out the next free slot of the issuer's status lists for `purpose`, opening the next list when the
    /// newest is full. Called before signing, since the credential carries the slot. A slot is never handed out
    /// twice, even under concurrency or when its award is never stored (the gap stays unused).
    ///
    /// Indexes are handed out in order, not at random as Bitstring Status List §2.1 recommends, because the
    /// 1EdTech validator (`BitstringStatusListProbe`) reports a RANGE_ERROR for an index at or past the list's
    /// length in *bytes* (16,384 for a minimum-size list): in-order indexes stay below it for the first 16,384
    /// awards of a list.
    async fn allocate_status_index(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
    ) -> Result<StatusSlot, StoreError>;
    /// One status list, or `None` if it was never opened.
    async fn status_list(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
        list: u32,
    ) -> Result<Option<StatusListInfo>, StoreError>;
    /// Revokes the award in ONE transaction: sets `revoked_at` and the reason, bumps the revision of its status
    /// list and writes a "revoked" audit event (all or nothing). An unknown id gives
    /// [`StoreError::AwardNotFound`]; an award already revoked gives [`StoreError::AlreadyRevoked`] and keeps
    /// its first reason. The reason is recorded in the audit detail, which holds at most 4096 characters: the
    /// caller keeps reasons short (a longer one fails with a database error, and nothing is revoked).
    async fn revoke_award(&self, id: Uuid, reason: &str, actor: &str) -> Result<Award, StoreError>;
    /// The indexes set in list `list` of the issuer for `purpose`, in increasing order: for revocation, the
    /// slots of its revoked awards. No award carries a suspension entry yet, so suspension lists are empty.
    async fn revoked_in_list(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
        list: u32,
    ) -> Result<Vec<u32>, StoreError>;
    /// The issuer's revoked awards, oldest revocation first (for the OB 2.0 `RevocationList`).
    async fn revoked_awards(&self, issuer_slug: &str) -> Result<Vec<RevokedAward>, StoreError>;
    /// Keeps the OB 2.0 BadgeClass document of a class version (the first write wins), so that
    /// assertions issued under an older wording keep resolving after the class file changes.
    async fn save_badge_class_version(
        &self,
        issuer_slug: &str,
        badge_class_slug: &str,
        version: &str,
        document: &str,
    ) -> Result<(), StoreError>;
    /// The kept document of a class version, if any award was issued under it.
    async fn badge_class_version(
        &self,
        issuer_slug: &str,
        badge_class_slug: &str,
        version: &str,
    ) -> Result<Option<String>, StoreError>;

    /// Keeps a référentiel version of an issuer (institutions import their own). Importing the
    /// same id, version and content again changes nothing ([`SavedReferentiel::Unchanged`]);
    /// another content under a stored id and version gives
    /// [`StoreError::ReferentielVersionExists`]; a new version is kept beside the older ones.
    async fn save_referentiel(
        &self,
        issuer_slug: &str,
        referentiel: &crate::referentiel::Referentiel,
        imported_by: &str,
    ) -> Result<SavedReferentiel, StoreError>;
    async fn get_referentiel(
        &self,
        issuer_slug: &str,
        id: &str,
        version: &str,
    ) -> Result<Option<StoredReferentiel>, StoreError>;
    /// The issuer's référentiels, by id then version (every version).
    async fn list_referentiels(
        &self,
        issuer_slug: &str,
    ) -> Result<Vec<ReferentielSummary>, StoreError>;
    /// Writes the carnet, all its entries and its "imported" event in ONE transaction (all or
    /// nothing). Its référentiel version must be stored ([`StoreError::UnknownReferentiel`]); one
    /// carnet per person and référentiel version ([`StoreError::CarnetExists`] names it). The
    /// caller has checked the entries against the référentiel
    /// (`referentiel::carnet::entry_problems`); the database refuses what breaks its row rules.
    async fn insert_carnet(&self, carnet: &NewCarnet) -> Result<Carnet, StoreError>;
    async fn get_carnet(&self, id: Uuid) -> Result<Option<Carnet>, StoreError>;
    /// One person's carnets within an issuer (by `Person::person_key`), oldest first.
    async fn person_carnets(
        &self,
        issuer_slug: &str,
        person_key: &str,
    ) -> Result<Vec<Carnet>, StoreError>;
    /// Positions or changes one entry, in ONE transaction with its "entry_saved" event and the
    /// carnet's revision bump. `expected_revision` is the revision the edit was made from: if
    /// another edit came first, nothing is written and [`StoreError::CarnetChanged`] is returned
    /// (read again, re-apply, retry). An unknown carnet gives [`StoreError::CarnetNotFound`].
    async fn save_carnet_entry(
        &self,
        id: Uuid,
        expected_revision: u64,
        entry: &crate::referentiel::carnet::CarnetEntry,
        actor: &str,
    ) -> Result<Carnet, StoreError>;
    /// The carnet's audit trail, oldest first; empty for an unknown carnet.
    async fn carnet_events(&self, id: Uuid) -> Result<Vec<CarnetEvent>, StoreError>;
    /// Checks that the database answers (for health checks).
    async fn ping(&self) -> Result<(), StoreError>;
    /// Closes the connection pool, waiting for connections in use (graceful shutdown).
    async fn close(&self);
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    // ---- bulk awards (migration 0005, `store/jobs.rs`) ----

    /// Writes the job (state `queued`) and ALL its rows in ONE transaction, before anything is
    /// issued. If an unfinished (queued or running) job of the same issuer, class, batch and
    /// file digest exists, writes nothing and returns it ([`CreatedJob::Existing`]).
    async fn create_bulk_job(&self, job: &NewBulkJob) -> Result<CreatedJob, StoreError>;
    async fn get_bulk_job(&self, id: Uuid) -> Result<Option<BulkJob>, StoreError>;
    /// Every row of the job, by line (empty for an unknown job).
    async fn bulk_rows(&self, job: Uuid) -> Result<Vec<BulkRow>, StoreError>;
    /// Up to `limit` pending rows of the job with a line after `after_line`, by line, with their
    /// sealed data.
    async fn pending_bulk_rows(
        &self,
        job: Uuid,
        after_line: u32,
        limit: u32,
    ) -> Result<Vec<PendingBulkRow>, StoreError>;
    /// Marks PENDING rows (by line) issued, already or error, erases their sealed data and counts
    /// them in the job, all in ONE transaction (all or nothing). Rows that are not pending (or
    /// unknown) are left as they are and not counted, so marking twice never counts twice.
    async fn finish_bulk_rows(
        &self,
        job: Uuid,
        rows: &[(u32, RowOutcome)],
    ) -> Result<MarkedRows, StoreError>;
    /// Sets the job's state (and, for `failed`, why; cleared otherwise). An unknown job gives
    /// `None`.
    async fn set_bulk_job_state(
        &self,
        job: Uuid,
        state: JobState,
        error: Option<&str>,
    ) -> Result<Option<BulkJob>, StoreError>;
    /// The issuer's queued and running jobs, oldest first (resumed at start).
    async fn unfinished_bulk_jobs(&self, issuer_slug: &str) -> Result<Vec<BulkJob>, StoreError>;

    // ---- badge requests and their evidence (migration 0006, `store/requests.rs`) ----

    /// Writes the request (state `submitted`) and its "submitted" event in ONE transaction.
    async fn insert_badge_request(
        &self,
        request: &NewBadgeRequest,
    ) -> Result<BadgeRequest, StoreError>;
    async fn get_badge_request(&self, id: Uuid) -> Result<Option<BadgeRequest>, StoreError>;
    /// The issuer's requests (in one state, or all), oldest first.
    async fn list_badge_requests(
        &self,
        issuer_slug: &str,
        state: Option<RequestState>,
    ) -> Result<Vec<BadgeRequest>, StoreError>;
    /// Moves the request and writes the event (who, when, comment) in ONE transaction. An unknown
    /// request gives [`StoreError::RequestNotFound`]; a request not in the state the action needs
    /// gives [`StoreError::RequestState`] and is left as it was; a return or decline without a
    /// comment, or an approval without its award, gives [`StoreError::InvalidTransition`].
    async fn transition_badge_request(
        &self,
        id: Uuid,
        transition: &RequestTransition<'_>,
    ) -> Result<BadgeRequest, StoreError>;
    /// Replaces the links of a submitted or returned request and writes a "links_corrected" event
    /// (who, when, `comment`) in ONE transaction: the way out for a link stored before links were
    /// checked, which could not be signed. The caller checks the new links. An unknown request
    /// gives [`StoreError::RequestNotFound`], one in another state [`StoreError::RequestState`].
    async fn correct_badge_request_links(
        &self,
        id: Uuid,
        links: &[String],
        actor: &str,
        comment: Option<&str>,
    ) -> Result<BadgeRequest, StoreError>;
    /// The request's trail, oldest first; empty for an unknown request.
    async fn badge_request_events(&self, id: Uuid) -> Result<Vec<RequestEvent>, StoreError>;
    /// Adds a file to a submitted or returned request with its "evidence_added" event, in ONE
    /// transaction; the same content twice in one request is kept once
    /// ([`AddedEvidence::Existing`], no event). An unknown request gives
    /// [`StoreError::RequestNotFound`], one in another state [`StoreError::RequestState`].
    async fn add_evidence(&self, evidence: &NewEvidence) -> Result<AddedEvidence, StoreError>;
    /// The request's files, in the order they were added.
    async fn request_evidence(&self, request_id: Uuid) -> Result<Vec<EvidenceFile>, StoreError>;
    /// One file with its content.
    async fn evidence_content(
        &self,
        id: Uuid,
    ) -> Result<Option<(EvidenceFile, Vec<u8>)>, StoreError>;
    /// Records a share link of a file; an unknown file gives [`StoreError::EvidenceNotFound`].
    async fn create_evidence_share(
        &self,
        share: &NewEvidenceShare,
    ) -> Result<EvidenceShare, StoreError>;
    /// The unrevoked share of `evidence_id` whose token has this SHA-256, if any.
    async fn find_evidence_share(
        &self,
        evidence_id: Uuid,
        token_sha256: &str,
    ) -> Result<Option<EvidenceShare>, StoreError>;
    /// Revokes a share of `evidence_id` (a second revocation keeps the first one's who and
    /// when); `None` when the file has no such share.
    async fn revoke_evidence_share(
        &self,
        evidence_id: Uuid,
        share_id: Uuid,
        actor: &str,
    ) -> Result<Option<EvidenceShare>, StoreError>;

    /// Hands out `n` slots at once, as [`Store::allocate_status_index`] would one by one, in
    /// far fewer round trips (bulk awards). In order; may span a full list and the next.
    async fn allocate_status_indices(
        &self,
        issuer_slug: &str,
        purpose: StatusPurpose,
        n: u32,
    ) -> Result<Vec<StatusSlot>, StoreError>;
    /// Stores several awards, each with its "issued" event, in ONE transaction: all of them or
    /// none. An award whose (issuer, idempotency key) is already taken is skipped (`None` at its
    /// place: the caller returns the award stored under the key); any other conflict fails the
    /// whole call with [`StoreError::Conflict`], and nothing is stored.
    async fn insert_awards(&self, awards: &[NewAward]) -> Result<Vec<Option<Award>>, StoreError>;

    // ---- listing (`carnet awards list`) ----

    /// One issuer's awards of one badge class, in the order of [`Store::list_awards`] (newest
    /// first, ties broken by id), `limit` at a time from `offset`.
    async fn list_awards_of_class(
        &self,
        issuer_slug: &str,
        badge_class_slug: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Award>, StoreError>;

    // ---- endorsements (migration 0007, `store/endorsements.rs`) ----

    /// Records an invitation (its token only as SHA-256).
    async fn create_endorsement_invitation(
        &self,
        invitation: &NewInvitation,
    ) -> Result<Invitation, StoreError>;
    async fn get_endorsement_invitation(&self, id: Uuid) -> Result<Option<Invitation>, StoreError>;
    /// The invitation whose token has this SHA-256, whatever its state.
    async fn find_endorsement_invitation(
        &self,
        token_sha256: &str,
    ) -> Result<Option<Invitation>, StoreError>;
    /// The invitations about an award id (issued or reserved by a request), oldest first.
    async fn endorsement_invitations(&self, award_id: Uuid) -> Result<Vec<Invitation>, StoreError>;
    /// Revokes an unused invitation (a second revocation keeps the first one's who and when; a
    /// used one stays used); `None` for an unknown invitation.
    async fn revoke_endorsement_invitation(
        &self,
        id: Uuid,
        actor: &str,
    ) -> Result<Option<Invitation>, StoreError>;
    /// Writes the endorsement and marks its invitation used, in ONE transaction, after checking
    /// there that the invitation is still usable at `endorsement.created_at`: an unknown, used,
    /// expired or revoked invitation gives [`StoreError::InvitationUnusable`] and writes nothing.
    async fn insert_endorsement(
        &self,
        endorsement: &NewEndorsement,
    ) -> Result<Endorsement, StoreError>;
    async fn get_endorsement(&self, id: Uuid) -> Result<Option<Endorsement>, StoreError>;
    /// The endorsement whose endorser Profile has this id.
    async fn endorsement_by_endorser(
        &self,
        endorser_id: Uuid,
    ) -> Result<Option<Endorsement>, StoreError>;
    /// The endorsements of an award id (issued or reserved), oldest first.
    async fn award_endorsements(&self, award_id: Uuid) -> Result<Vec<Endorsement>, StoreError>;
    /// The award id reserved for a badge request: `candidate` the first time, then always the
    /// same (concurrent callers all get the winner's).
    async fn reserve_request_award_id(
        &self,
        request_id: Uuid,
        candidate: Uuid,
    ) -> Result<Uuid, StoreError>;
    async fn reserved_request_award_id(&self, request_id: Uuid)
    -> Result<Option<Uuid>, StoreError>;
    /// Replaces an award's signed documents and writes its "endorsed" event in ONE transaction,
    /// only if its credential is still `expected_credential_json` (compare and swap): `None`
    /// when it changed meanwhile (read it again and retry) or the award is unknown.
    async fn replace_award_documents(
        &self,
        id: Uuid,
        expected_credential_json: &str,
        documents: &AwardDocuments,
    ) -> Result<Option<Award>, StoreError>;

    // ---- batches of carnets (migration 0008, `store/jobs.rs`) ----

    /// Writes a batch of carnets as a bulk job ([`JobKind::Carnets`], state `queued`) with ALL
    /// its rows in ONE transaction, before anything is imported or issued; then it is run,
    /// marked, listed and resumed like any bulk job. If an unfinished job of the same issuer,
    /// class filter and batch digest exists, writes nothing and returns it
    /// ([`CreatedJob::Existing`]).
    async fn create_carnet_batch(&self, job: &NewCarnetBatch) -> Result<CreatedJob, StoreError>;

    /// Stores an award's RS256 form, signed on its first download ([`crate::issue::vc_jwt`],
    /// [`crate::issue::ob2_jws`]), if it has none yet; `false` when it already had one (then
    /// nothing changes: a concurrent download signed the same bytes), when it has no OB 2.0 form,
    /// or when the award is unknown.
    async fn set_signed_form(
        &self,
        award_id: Uuid,
        form: Rs256Form,
        compact: &str,
    ) -> Result<bool, StoreError>;

    /// [`Store::find_by_idempotency_key`] for many keys in one query (a bulk page): the awards
    /// found, in no particular order; keys without an award are left out.
    async fn find_by_idempotency_keys(
        &self,
        issuer_slug: &str,
        keys: &[String],
    ) -> Result<Vec<Award>, StoreError>;
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
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, StoreOptions::default()).await
}

/// [`open`] with options.
pub async fn open_with(url: &str, options: StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    let options = options.validate()?;
    let scheme = url_scheme(url);
    let store: Arc<dyn Store> = match scheme.to_ascii_lowercase().as_str() {
        "sqlite" => Arc::new(sqlite::SqliteStore::open_with(url, options).await?),
        "postgres" | "postgresql" => {
            Arc::new(postgres::PostgresStore::open_with(url, options).await?)
        }
        _ => return Err(StoreError::UnsupportedUrl(scheme.to_owned())),
    };
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

/// Reads back a list number, index or size stored as a non-negative integer.
fn stored_u32(column: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("{column} {value} is out of range")))
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
