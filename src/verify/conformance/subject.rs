//! `credentialSubject`: the `AchievementSubject` of a badge (with `IdentityObject` and `Result`) or
//! the `EndorsementSubject` of an endorsement (CHECKLIST §5 and §9; `verification.md` step 1 for the
//! "id and/or identifier" rule, which the JSON schema does not express).

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::achievement::{Achievement, Alignment, read_achievement, read_alignment};
use super::profile::{IDENTIFIER_TYPES, Image, Profile, read_image, read_profile};
use super::reader::{Ctx, TypeShape, is_extension_term, join};

const RESULT_STATUSES: &[&str] = &[
    "Completed",
    "Enrolled",
    "Failed",
    "InProgress",
    "OnHold",
    "Provisional",
    "Withdrew",
];

/// The person (or thing) who earned the achievement.
#[derive(Debug, Clone, PartialEq)]
pub struct AchievementSubject {
    pub id: Option<String>,
    pub types: Vec<String>,
    pub achievement: Achievement,
    pub identifier: Vec<IdentityObject>,
    pub result: Vec<SubjectResult>,
    pub source: Option<Profile>,
    pub image: Option<Image>,
    pub narrative: Option<String>,
    pub activity_start_date: Option<DateTime<FixedOffset>>,
    pub activity_end_date: Option<DateTime<FixedOffset>>,
    pub credits_earned: Option<f64>,
    pub license_number: Option<String>,
    pub role: Option<String>,
    pub term: Option<String>,
}

/// A way to recognise the recipient without an `id`: an e-mail address, a student number...,
/// in clear or hashed (`sha256$<hex>` / `md5$<hex>` of value + salt, as in OB 2.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityObject {
    pub hashed: bool,
    pub identity_hash: String,
    pub identity_type: String,
    pub salt: Option<String>,
}

/// The OB 3.0 `Result` class (named so as not to hide `std::result::Result`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectResult {
    pub types: Vec<String>,
    pub achieved_level: Option<String>,
    pub result_description: Option<String>,
    pub status: Option<String>,
    pub value: Option<String>,
    pub alignment: Vec<Alignment>,
}

/// What an endorsement is about: a credential, an achievement or a profile, by its `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorsementSubject {
    pub id: String,
    pub types: Vec<String>,
    pub endorsement_comment: Option<String>,
}

fn has(types: &[String], class: &str) -> Option<()> {
    types.iter().any(|t| t == class).then_some(())
}

pub(super) fn read_achievement_subject(
    ctx: &mut Ctx,
    v: &Value,
    path: &str,
) -> Option<AchievementSubject> {
    let obj = ctx.object(v, path, "AchievementSubject")?;
    let types = ctx.types(obj, path, "AchievementSubject", TypeShape::List);
    let id = ctx.opt_uri(obj, path, "id");
    let achievement = ctx
        .required(obj, path, "achievement")
        .and_then(|v| read_achievement(ctx, v, &join(path, "achievement")));
    let identifier = ctx.list(obj, path, "identifier", read_identity_object);
    let present = |key: &str| match Ctx::get(obj, key) {
        Some(Value::Array(items)) => !items.is_empty(),
        other => other.is_some(),
    };
    if !present("id") && !present("identifier") {
        ctx.fail(
            path,
            format!("{path} doit désigner la personne : un id et/ou au moins un identifier"),
            format!("{path} must name the recipient: an id and/or at least one identifier"),
        );
    }
    let result = ctx.list(obj, path, "result", read_result);
    let source = Ctx::get(obj, "source").and_then(|v| read_profile(ctx, v, &join(path, "source")));
    let image = Ctx::get(obj, "image").and_then(|v| read_image(ctx, v, &join(path, "image")));
    let activity_start_date = ctx.opt_date_time(obj, path, "activityStartDate");
    let activity_end_date = ctx.opt_date_time(obj, path, "activityEndDate");
    let credits_earned = ctx.opt_number(obj, path, "creditsEarned");
    let mut opt = |key: &str| ctx.opt_str(obj, path, key);
    let (narrative, license_number, role, term) = (
        opt("narrative"),
        opt("licenseNumber"),
        opt("role"),
        opt("term"),
    );

    has(&types, "AchievementSubject")?;
    Some(AchievementSubject {
        id,
        types,
        achievement: achievement?,
        identifier,
        result,
        source,
        image,
        narrative,
        activity_start_date,
        activity_end_date,
        credits_earned,
        license_number,
        role,
        term,
    })
}

fn read_identity_object(ctx: &mut Ctx, v: &Value, path: &str) -> Option<IdentityObject> {
    let obj = ctx.object(v, path, "IdentityObject")?;
    let types = ctx.types(obj, path, "IdentityObject", TypeShape::Single);
    let hashed = ctx.req_bool(obj, path, "hashed");
    let identity_hash = ctx.req_str(obj, path, "identityHash");
    let identity_type = ctx.req_str(obj, path, "identityType");
    let salt = ctx.opt_str(obj, path, "salt");
    ctx.closed(
        obj,
        path,
        "IdentityObject",
        &["type", "hashed", "identityHash", "identityType", "salt"],
    );

    if let Some(t) = &identity_type
        && !IDENTIFIER_TYPES.contains(&t.as_str())
        && !is_extension_term(t)
    {
        // OB 3.0 drafts used other names (e.g. "email"); the final enum says "emailAddress".
        let at = join(path, "identityType");
        ctx.fail_unless_legacy(
            &at,
            format!("{at} n'est pas une valeur connue (\"{t}\") : par exemple emailAddress, sourcedId, ou \"ext:…\""),
            format!("{at} is not a known value (\"{t}\"): for example emailAddress, sourcedId, or \"ext:…\""),
        );
    }
    if let (Some(true), Some(hash)) = (hashed, &identity_hash)
        && !is_identity_hash(hash)
    {
        let at = join(path, "identityHash");
        ctx.fail(
            &at,
            format!("{at} doit être de la forme sha256$<64 chiffres hexadécimaux> ou md5$<32 chiffres hexadécimaux> quand hashed vaut true"),
            format!("{at} must look like sha256$<64 hex digits> or md5$<32 hex digits> when hashed is true"),
        );
    }
    has(&types, "IdentityObject")?;
    Some(IdentityObject {
        hashed: hashed?,
        identity_hash: identity_hash?,
        identity_type: identity_type?,
        salt,
    })
}

/// `sha256$<64 hex>` or `md5$<32 hex>` (the OB 2.0 hashed-identity form, kept by OB 3.0).
pub(super) fn is_identity_hash(s: &str) -> bool {
    let Some((algorithm, hex)) = s.split_once('$') else {
        return false;
    };
    let len = match algorithm {
        "sha256" => 64,
        "md5" => 32,
        _ => return false,
    };
    hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

fn read_result(ctx: &mut Ctx, v: &Value, path: &str) -> Option<SubjectResult> {
    let obj = ctx.object(v, path, "Result")?;
    let types = ctx.types(obj, path, "Result", TypeShape::List);
    let achieved_level = ctx.opt_uri(obj, path, "achievedLevel");
    let result_description = ctx.opt_uri(obj, path, "resultDescription");
    let status = ctx.vocabulary(obj, path, "status", false, RESULT_STATUSES);
    let value = ctx.opt_str(obj, path, "value");
    let alignment = ctx.list(obj, path, "alignment", read_alignment);
    has(&types, "Result")?;
    Some(SubjectResult {
        types,
        achieved_level,
        result_description,
        status,
        value,
        alignment,
    })
}

pub(super) fn read_endorsement_subject(
    ctx: &mut Ctx,
    v: &Value,
    path: &str,
) -> Option<EndorsementSubject> {
    let obj = ctx.object(v, path, "EndorsementSubject")?;
    let types = ctx.types(obj, path, "EndorsementSubject", TypeShape::List);
    let id = ctx.req_uri(obj, path, "id");
    let endorsement_comment = ctx.opt_str(obj, path, "endorsementComment");
    has(&types, "EndorsementSubject")?;
    Some(EndorsementSubject {
        id: id?,
        types,
        endorsement_comment,
    })
}

#[cfg(test)]
mod tests {
    use super::is_identity_hash;

    #[test]
    fn identity_hashes() {
        assert!(is_identity_hash(
            "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
        ));
        assert!(is_identity_hash("md5$0123456789abcdef0123456789ABCDEF"));
        assert!(!is_identity_hash("sha256$b5809d8a"));
        assert!(!is_identity_hash(
            "sha1$0123456789abcdef0123456789abcdef01234567"
        ));
        assert!(!is_identity_hash("asdjhsadas"));
        assert!(!is_identity_hash("md5$0123456789abcdef0123456789abcdeg"));
    }
}
