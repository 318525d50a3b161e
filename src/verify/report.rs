//! The verification report: a list of checks, each with a stable id, a status and a message a person
//! understands in French and English, and an overall verdict.
//!
//! A verifier returns a report, not an error: "signature invalid" or "expired" are outcomes. Only
//! "could not check" situations become `Unknown` checks, which make the verdict `indeterminate`.

use serde::Serialize;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    /// Could not be checked (unreachable key, unknown context...).
    Unknown,
}

/// A message in the two languages carnet speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub fr: String,
    pub en: String,
}

impl Message {
    pub fn new(fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            fr: fr.into(),
            en: en.into(),
        }
    }
}

/// One check of the report. `id` comes from a small stable vocabulary (see `CheckId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub status: Status,
    /// JSON path of the property concerned, when there is one (e.g. `credentialSubject.type`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub message: Message,
}

impl Check {
    pub fn new(id: &'static str, status: Status, message: Message) -> Self {
        Self {
            id,
            status,
            path: None,
            message,
        }
    }
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
    pub fn pass(id: &'static str, fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(id, Status::Pass, Message::new(fr, en))
    }
    pub fn fail(id: &'static str, fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(id, Status::Fail, Message::new(fr, en))
    }
    pub fn warn(id: &'static str, fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(id, Status::Warn, Message::new(fr, en))
    }
    pub fn unknown(id: &'static str, fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(id, Status::Unknown, Message::new(fr, en))
    }
}

/// The stable vocabulary of check ids. Clients may rely on these strings.
pub mod check_id {
    /// The input could be read (image unbaked, JSON parsed, JWS decoded).
    pub const PARSE: &str = "parse";
    /// `@context` values are known and in the right order.
    pub const CONTEXT: &str = "context";
    /// Data model conformance (required properties and types).
    pub const CONFORMANCE: &str = "conformance";
    /// JSON-LD expansion is lossless (every term is defined by the contexts).
    pub const JSONLD: &str = "jsonld";
    /// The cryptographic proof (Data Integrity or VC-JWT) is valid.
    pub const PROOF: &str = "proof";
    /// The verification key could be resolved.
    pub const KEY: &str = "key";
    /// The key's controller is the credential's issuer.
    pub const CONTROLLER: &str = "controller";
    /// `validFrom` / `issuanceDate` is not in the future.
    pub const VALID_FROM: &str = "validFrom";
    /// `validUntil` / `expirationDate` is not in the past.
    pub const VALID_UNTIL: &str = "validUntil";
    /// The credential was given to the person whose identifier the verifier supplied.
    pub const RECIPIENT: &str = "recipient";
}

/// Overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Valid,
    Invalid,
    Indeterminate,
}

/// A full verification report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    /// Short facts about the badge for display (name, issuer, dates); absent when unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub achievement_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

impl Report {
    /// Builds a report; the verdict follows from the checks: any `Fail` makes it invalid,
    /// otherwise any `Unknown` makes it indeterminate, otherwise it is valid (warnings allowed).
    pub fn from_checks(checks: Vec<Check>, summary: Option<Summary>) -> Self {
        let verdict = if checks.iter().any(|c| c.status == Status::Fail) {
            Verdict::Invalid
        } else if checks.iter().any(|c| c.status == Status::Unknown) {
            Verdict::Indeterminate
        } else {
            Verdict::Valid
        };
        Self {
            verdict,
            checks,
            summary,
        }
    }

    pub fn has_warnings(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Warn)
    }

    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_follows_worst_status() {
        let pass = Check::pass(check_id::PROOF, "ok", "ok");
        let unknown = Check::unknown(check_id::KEY, "?", "?");
        let fail = Check::fail(check_id::PROOF, "non", "no");
        assert_eq!(
            Report::from_checks(vec![pass.clone()], None).verdict,
            Verdict::Valid
        );
        assert_eq!(
            Report::from_checks(vec![pass.clone(), unknown.clone()], None).verdict,
            Verdict::Indeterminate
        );
        assert_eq!(
            Report::from_checks(vec![unknown, fail, pass], None).verdict,
            Verdict::Invalid
        );
    }
}
