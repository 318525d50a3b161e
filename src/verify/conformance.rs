//! OB 3.0 data-model conformance of a credential, checked by carnet's own typed model.
//!
//! Owns: `@context` (CHECKLIST §5), the required properties and their types for
//! `OpenBadgeCredential`/`AchievementCredential` (§5, schema `achievementcredential.json`) and
//! `EndorsementCredential` (§9), the "id and/or identifier" rule of `verification.md` step 1 (§8),
//! and the 1EdTech validator's stricter choices (issuer must be an embedded Profile).
//! Does not own: proofs, keys, validity dates against the clock, revocation status, JSON-LD
//! expansion. Those are other checks of the verification report.
//!
//! Each finding names the JSON path of the property concerned, in French and English. Reading goes
//! on after a problem, so one pass reports every problem. VC 1.1 credentials (OB 3.0 drafts) are
//! accepted; a few rules those drafts did not have yet are then warnings.

mod achievement;
mod context;
mod credential;
mod profile;
mod reader;
mod subject;

use serde_json::Value;

use crate::verify::report::Check;

pub use achievement::{
    Achievement, Alignment, Criteria, Related, ResultDescription, RubricCriterionLevel,
};
pub use context::{OB_V3_CONTEXT, VC_V1_CONTEXT, VC_V2_CONTEXT};
pub use credential::{Credential, CredentialKind, Evidence, Link, Subject};
pub use profile::{Address, GeoCoordinates, IdentifierEntry, Image, Profile};
pub use subject::{AchievementSubject, EndorsementSubject, IdentityObject, SubjectResult};

/// Which data model the credential follows, from its first @context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VcVersion {
    /// VC Data Model 2.0 (`validFrom`, `validUntil`): what OB 3.0 specifies and carnet issues.
    V2,
    /// VC Data Model 1.1 (`issuanceDate`, `expirationDate`): accepted when verifying.
    V1_1,
}

/// Which data model the credential follows, from its first `@context` entry; `None` when that entry
/// is neither VC context.
pub fn vc_version(cred: &Value) -> Option<VcVersion> {
    context::vc_version(cred)
}

/// The outcome of reading a credential: the typed model when every required part is present and
/// well typed, and the findings (failures and warnings, each with its path).
#[derive(Debug, Clone)]
pub struct Reading {
    pub credential: Option<Credential>,
    pub findings: Vec<Check>,
}

/// Reads an OpenBadgeCredential/AchievementCredential (or EndorsementCredential) JSON into carnet's
/// typed model, reporting every departure from the OB 3.0 data model.
pub fn read_credential(cred: &Value) -> Reading {
    let mut ctx = reader::Ctx::new(false);
    if !cred.is_object() {
        let found = reader::shown(cred);
        ctx.fail(
            "",
            format!("le justificatif doit être un objet JSON (trouvé : {found})"),
            format!("the credential must be a JSON object (found: {found})"),
        );
        return Reading {
            credential: None,
            findings: ctx.findings,
        };
    }
    let credential = credential::read_credential(&mut ctx, cred, "", None);
    Reading {
        credential,
        findings: ctx.findings,
    }
}

/// Checks an OpenBadgeCredential/AchievementCredential (or EndorsementCredential) JSON against the
/// OB 3.0 data model. Returns only problems (Fail or Warn checks, with `path`); an empty Vec means
/// conformant. Does NOT check proofs, keys, dates against the clock (validity windows), or status:
/// others do.
pub fn check_credential(cred: &Value) -> Vec<Check> {
    read_credential(cred).findings
}
