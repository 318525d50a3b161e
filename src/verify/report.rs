//! The verification report: a list of checks, each with a stable id, a status and a message a person
//! understands in French and English, and an overall verdict.
//!
//! A verifier returns a report, not an error: "signature invalid" or "expired" are outcomes. Only
//! "could not check" situations become `Unknown` checks, which make the verdict `indeterminate`.
//!
//! A verdict answers an employer's questions in order, one [`Section`] each: authentic (read,
//! signed with a key the issuer controls, every shown term covered by the signature), in force
//! (status, dates, recipient), then conformance to the OB 2.0 / 3.0 data model; embedded
//! endorsements have a section of their own. [`Report::judged`] applies the [`Profile`]: under
//! the default one (as the DCC verifier judges) conformance failures become warnings and
//! endorsements do not decide; under `strict` (as 1EdTech's validator judges) everything does.
//! `deciding` and `reason` name the check that decided; the pages lead with it and fold the rest.

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

/// The question a check answers. An employer asks them in this order: is the badge authentic
/// (read, signed with a key its issuer controls, not changed)? Is it in force (not withdrawn,
/// within its dates, given to this person)? Only then: does it follow the standard to the letter?
/// Embedded endorsements are judged on their own: one that fails is shown as not verified on that
/// endorsement, and the badge's own signature still covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Authenticity,
    InForce,
    Conformance,
    Endorsement,
}

impl Section {
    /// The section a check id belongs to; a check may be moved with [`Check::in_section`] (an
    /// unknown context is a `context` check that stops the signature from being checked).
    pub fn of(id: &str) -> Section {
        match id {
            // `extension`: an OB 2.0 extension checked against its schema
            check_id::CONFORMANCE | check_id::CONTEXT | "extension" => Section::Conformance,
            // `revocation`: OB 2.0 revocation list or hosted `410 Gone`
            "revocation"
            | check_id::VALID_FROM
            | check_id::VALID_UNTIL
            | check_id::RECIPIENT
            | check_id::STATUS => Section::InForce,
            check_id::ENDORSEMENT => Section::Endorsement,
            _ => Section::Authenticity,
        }
    }
}

/// How strictly a badge is judged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Authentic and in force is `valid`; a departure from the OB 2.0 / 3.0 data model is a
    /// warning, as the DCC verifier (Learner Credential Wallet, VerifierPlus) judges.
    #[default]
    Default,
    /// For issuers checking their own output against the 1EdTech rules: a conformance failure or
    /// a failing embedded endorsement makes the badge `invalid`.
    Strict,
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "default" => Ok(Profile::Default),
            "strict" => Ok(Profile::Strict),
            other => Err(format!(
                "unknown profile \"{other}\": use default or strict"
            )),
        }
    }
}

/// One check of the report. `id` comes from a small stable vocabulary (see `CheckId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub status: Status,
    /// Which question the check answers (see [`Section`]).
    pub section: Section,
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
            section: Section::of(id),
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
    /// Moves the check to another section than its id's.
    pub fn in_section(mut self, section: Section) -> Self {
        self.section = section;
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
    /// The credential's status (status list bit, revocation list, hosted `410 Gone`).
    pub const STATUS: &str = "status";
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
    /// A signed credential that is not an Open Badge (a plain `VerifiableCredential`...): the
    /// Open Badges rules do not apply to it.
    pub const NOT_AN_OPEN_BADGE: &str = "not_an_open_badge";
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
    /// The profile the verdict was reached under.
    pub profile: Profile,
    /// The id of the check that decided an `invalid` or `indeterminate` verdict (`proof`,
    /// `status`, `validUntil`...); absent when the badge is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deciding: Option<&'static str>,
    /// That check's reason, when it has one (`revoked`, `expired`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Every check, grouped by section: authenticity, in force, conformance, endorsements.
    pub checks: Vec<Check>,
    /// Short facts about the badge for display (name, issuer, dates); absent when unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub format: String,
    /// What the document is, by its most specific type (`OpenBadgeCredential`,
    /// `VerifiableCredential`, `Assertion`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
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
    /// Builds a report under the strict profile: any `Fail` makes it invalid, otherwise any
    /// `Unknown` makes it indeterminate, otherwise it is valid (warnings allowed). The verifier's
    /// entry points then judge it under the profile asked for ([`Report::judged`]).
    pub fn from_checks(checks: Vec<Check>, summary: Option<Summary>) -> Self {
        Self {
            verdict: Verdict::Valid,
            profile: Profile::Strict,
            deciding: None,
            reason: None,
            checks,
            summary,
        }
        .judged(Profile::Strict)
    }

    /// The report judged under `profile`. Under the default profile a conformance failure becomes
    /// a warning that says which standard the badge does not follow exactly, and an endorsement
    /// that fails is shown as not verified without deciding the verdict. Checks are grouped by
    /// section, and the deciding check is named: the first one that counts, in the order
    /// authenticity (parse, proof, key...), in force (status before dates), conformance.
    pub fn judged(mut self, profile: Profile) -> Self {
        if profile == Profile::Default {
            let standard = match &self.summary {
                Some(s) if s.format.contains("ob2") => "Open Badges 2.0",
                _ => "Open Badges 3.0",
            };
            for c in &mut self.checks {
                if c.section == Section::Conformance && c.status == Status::Fail {
                    c.status = Status::Warn;
                    if c.reason != Some(reason::NOT_AN_OPEN_BADGE) {
                        c.message = Message::new(
                            format!(
                                "Ce badge ne suit pas exactement la norme {standard} : {}",
                                lower_first(&c.message.fr)
                            ),
                            format!(
                                "This badge does not follow the {standard} standard exactly: {}",
                                lower_first(&c.message.en)
                            ),
                        );
                    }
                }
            }
        } else {
            for c in &mut self.checks {
                if c.reason == Some(reason::NOT_AN_OPEN_BADGE) && c.status == Status::Warn {
                    c.status = Status::Fail;
                }
            }
        }
        self.checks.sort_by_key(|c| c.section);
        self.profile = profile;
        let (verdict, deciding) = match self.first_counting(Status::Fail) {
            Some(c) => (Verdict::Invalid, Some(c)),
            None => match self.first_counting(Status::Unknown) {
                Some(c) => (Verdict::Indeterminate, Some(c)),
                None => (Verdict::Valid, None),
            },
        };
        let (deciding, reason) = (deciding.map(|c| c.id), deciding.and_then(|c| c.reason));
        self.verdict = verdict;
        self.deciding = deciding;
        self.reason = reason;
        self
    }

    /// The check that decided the verdict (absent when valid).
    pub fn deciding_check(&self) -> Option<&Check> {
        match self.verdict {
            Verdict::Valid => None,
            Verdict::Invalid => self.first_counting(Status::Fail),
            Verdict::Indeterminate => self.first_counting(Status::Unknown),
        }
    }

    /// The first check with `status` that counts under the report's profile (endorsements count
    /// only under the strict one), in the order that decides: section, then [`priority`].
    fn first_counting(&self, status: Status) -> Option<&Check> {
        self.checks
            .iter()
            .filter(|c| self.profile == Profile::Strict || c.section != Section::Endorsement)
            .filter(|c| c.status == status)
            .min_by_key(|c| (c.section, priority(c.id)))
    }

    pub fn has_warnings(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Warn)
    }

    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }
}

/// Within a section, which check decides first: a badge that cannot be read, then its signature,
/// then its key; a withdrawn badge before an expired one.
fn priority(id: &str) -> u8 {
    match id {
        check_id::PARSE => 0,
        check_id::PROOF => 1,
        check_id::JSONLD => 2,
        check_id::CONTEXT => 3,
        check_id::KEY => 4,
        check_id::CONTROLLER => 5,
        check_id::STATUS => 10,
        check_id::VALID_UNTIL => 11,
        check_id::VALID_FROM => 12,
        check_id::RECIPIENT => 13,
        _ => 20,
    }
}

/// « Le champ… » → « le champ… », for a message that follows a colon; an acronym (`OB`, `JSON`)
/// keeps its capitals.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => a
            .to_lowercase()
            .chain(std::iter::once(b))
            .chain(chars)
            .collect(),
        _ => s.to_string(),
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

    fn conformance_failure() -> Check {
        Check::fail(
            check_id::CONFORMANCE,
            "Issuer.image doit être un objet Image.",
            "Issuer.image must be an Image object.",
        )
        .at("issuer.image")
    }

    #[test]
    fn conformance_decides_only_under_the_strict_profile() {
        let checks = vec![
            conformance_failure(),
            Check::pass(check_id::PROOF, "ok", "ok"),
        ];
        let strict = Report::from_checks(checks.clone(), None);
        assert_eq!(strict.verdict, Verdict::Invalid);
        assert_eq!(strict.deciding, Some(check_id::CONFORMANCE));
        let default = Report::from_checks(checks, None).judged(Profile::Default);
        assert_eq!(default.verdict, Verdict::Valid);
        assert_eq!(default.deciding, None);
        let warned = &default.checks[1];
        assert_eq!(warned.status, Status::Warn);
        assert_eq!(
            warned.message.fr,
            "Ce badge ne suit pas exactement la norme Open Badges 3.0 : issuer.image doit être un objet Image."
        );
        assert_eq!(warned.path.as_deref(), Some("issuer.image"));
    }

    #[test]
    fn the_signature_decides_before_the_data_model_and_revocation_before_expiry() {
        let checks = vec![
            conformance_failure(),
            Check::fail(check_id::VALID_UNTIL, "expiré", "expired").because(reason::EXPIRED),
            Check::fail(check_id::STATUS, "retiré", "revoked").because(reason::REVOKED),
            Check::fail(check_id::CONTROLLER, "autre", "other"),
            Check::fail(check_id::PROOF, "modifié", "changed"),
        ];
        for profile in [Profile::Default, Profile::Strict] {
            let r = Report::from_checks(checks.clone(), None).judged(profile);
            assert_eq!(r.deciding, Some(check_id::PROOF), "{profile:?}");
            assert_eq!(r.checks[0].section, Section::Authenticity);
            assert_eq!(
                r.checks.last().map(|c| c.section),
                Some(Section::Conformance)
            );
        }
        let in_force = Report::from_checks(checks[..3].to_vec(), None).judged(Profile::Default);
        assert_eq!(in_force.deciding, Some(check_id::STATUS));
        assert_eq!(in_force.reason, Some(reason::REVOKED));
        let expired = Report::from_checks(checks[..2].to_vec(), None).judged(Profile::Default);
        assert_eq!(expired.reason, Some(reason::EXPIRED));
        assert_eq!(
            expired.deciding_check().map(|c| c.id),
            Some(check_id::VALID_UNTIL)
        );
    }

    #[test]
    fn a_failing_endorsement_does_not_decide_by_default() {
        let checks = vec![
            Check::pass(check_id::PROOF, "ok", "ok"),
            Check::fail(check_id::ENDORSEMENT, "non vérifiée", "not verified").at("endorsement[0]"),
        ];
        let r = Report::from_checks(checks.clone(), None).judged(Profile::Default);
        assert_eq!(r.verdict, Verdict::Valid);
        assert_eq!(r.checks[1].status, Status::Fail, "shown as not verified");
        assert_eq!(Report::from_checks(checks, None).verdict, Verdict::Invalid);
    }

    #[test]
    fn a_credential_that_is_not_an_open_badge_is_said_so_plainly() {
        let plain = Check::fail(
            check_id::CONFORMANCE,
            "Ce document n'est pas un badge.",
            "Not a badge.",
        )
        .because(reason::NOT_AN_OPEN_BADGE);
        let r = Report::from_checks(vec![plain.clone()], None).judged(Profile::Default);
        assert_eq!(r.verdict, Verdict::Valid);
        assert_eq!(r.checks[0].message.fr, "Ce document n'est pas un badge.");
        assert_eq!(r.checks[0].status, Status::Warn);
        assert_eq!(
            Report::from_checks(vec![plain], None).verdict,
            Verdict::Invalid
        );
    }

    #[test]
    fn profiles_are_read_from_their_names() {
        assert_eq!("strict".parse::<Profile>(), Ok(Profile::Strict));
        assert_eq!(" default ".parse::<Profile>(), Ok(Profile::Default));
        assert!("lax".parse::<Profile>().is_err());
        assert_eq!(lower_first("JSON mal formé"), "JSON mal formé");
        assert_eq!(lower_first("Le champ"), "le champ");
    }
}
