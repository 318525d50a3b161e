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
    /// Why a check failed, when the failure is one a person acts on differently (see `reason`):
    /// `revoked`, `suspended`, `expired`, `not_yet_valid`, `recipient_mismatch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub message: Message,
}

impl Check {
    pub fn new(id: &'static str, status: Status, message: Message) -> Self {
        Self {
            id,
            status,
            path: None,
            reason: None,
            message,
        }
    }
    /// Tags a failure with a stable reason from [`reason`].
    pub fn because(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
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
    /// One embedded endorsement (`endorsement[i]`): its proof, key, issuer and dates.
    pub const ENDORSEMENT: &str = "endorsement";
}

/// The stable vocabulary of failure reasons a check may carry.
pub mod reason {
    /// The issuer withdrew the badge (status list bit, revocation list, hosted 410).
    pub const REVOKED: &str = "revoked";
    /// The issuer suspended the badge for now.
    pub const SUSPENDED: &str = "suspended";
    /// The badge's validity ended.
    pub const EXPIRED: &str = "expired";
    /// The badge's validity has not started.
    pub const NOT_YET_VALID: &str = "not_yet_valid";
    /// The badge was not given to the identifier the verifier supplied.
    pub const RECIPIENT_MISMATCH: &str = "recipient_mismatch";
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
    /// What the achievement is, as its issuer describes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What the recipient had to do (criteria narrative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criteria: Option<String>,
    /// Where the criteria are published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criteria_url: Option<String>,
    /// The badge image: an https URL or a `data:image/png|svg+xml` URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The recipient's name, when the badge publishes one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_name: Option<String>,
    /// The recipient's own words about the award.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceSummary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endorsements: Vec<EndorsementSummary>,
}

/// One piece of evidence, as the badge describes it (never fetched by the verifier).
#[derive(Debug, Clone, Default, Serialize)]
pub struct EvidenceSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One endorsement embedded in the badge: who endorsed it, what they wrote, and when.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EndorsementSummary {
    /// Where it is in the badge (`endorsement[0]`): the `path` of its `endorsement` check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<String>,
    /// What the endorser's Profile says of itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When it was given (`validFrom`, or OB 2.0 `issuedOn` / VC 1.1 `issuanceDate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
}

/// Text of a JSON value that is a string, or a language map's French or English or first entry
/// (OB 3.0 allows `{"fr": "...", "en": "..."}` for names and descriptions).
pub fn text_of(v: Option<&serde_json::Value>) -> Option<String> {
    use serde_json::Value;
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Object(map) => ["fr", "en"]
            .iter()
            .find_map(|k| map.get(*k))
            .or_else(|| map.values().next())
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        _ => None,
    }
}

/// An image reference safe to put in an `<img src>` of a public page: https URLs, and data URIs of
/// PNG or SVG (an SVG shown through `<img>` runs no script). Anything else is dropped.
pub fn safe_image(v: Option<&serde_json::Value>) -> Option<String> {
    let v = v?;
    let url = v
        .as_str()
        .or_else(|| v.get("id").and_then(serde_json::Value::as_str))?;
    let ok = url.starts_with("https://")
        || url.starts_with("http://")
        || url.starts_with("data:image/png;base64,")
        || url.starts_with("data:image/svg+xml;base64,");
    (ok && url.len() <= 2 * 1024 * 1024).then(|| url.to_string())
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
