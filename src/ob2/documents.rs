//! Builders of the OB 2.0 documents (IMS OB 2.0 Final §Assertion, §BadgeClass, §Profile,
//! §CryptographicKey, §RevocationList, §"Revoking Hosted Assertions"; CHECKLIST §1). Pure functions
//! of what carnet knows at issue time; the same award gives the same texts, recipient hash, evidence
//! and dates as its OB 3.0 credential (`crate::ob3::credential`).
//!
//! Choices the IMS validator (openbadges-validator-core 1.1.2) forces or allows:
//! - `related` names the OB 3.0 twin as the OB 3.0 Implementation Guide ("Migrating") shows it:
//!   `id`, `version: "Open Badges v3p0"` and the twin's class as a full IRI (`Achievement`,
//!   `Profile`, `OpenBadgeCredential`), never the bare term `Related`, which the OB 2.0 context does
//!   not define (strict JSON-LD refuses it). The validator checks only `id` and `version` there.
//! - `publicKey` lists every RSA key (active and retired, so older signed assertions keep passing
//!   the key-ownership check); the validator accepts a single key only, so after a key rotation it
//!   reports the Profile invalid.
//! - A RevocationList with one entry also lists that assertion's id as a plain string: the
//!   validator's JSON-LD compaction turns a one-element list into an object and then misses it.
//! - An issuer Profile requires `email`: without one, the builders return
//!   [`Ob2Error::IssuerEmailMissing`].

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{OB2_CONTEXT, OB3_RELATED_VERSION, Ob2Urls};
use crate::badge_class::BadgeClass;
use crate::issuer::Issuer;
use crate::keys::{KeyError, rfc3339};
use crate::ob3::credential::{AwardDetails, FileEvidence, achievement, achievement_id};
use crate::recipient::HashedIdentity;

#[derive(Debug, thiserror::Error)]
pub enum Ob2Error {
    /// A configuration error: OB 2.0 requires the issuer's contact email.
    #[error(
        "CARNET_ISSUER_EMAIL is required for Open Badges 2.0 (the issuer Profile must give a contact email)"
    )]
    IssuerEmailMissing,
    /// No RSA key of the issuer has this key id.
    #[error("the issuer has no RSA key \"{0}\"")]
    UnknownKey(String),
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl crate::problem::Problem for Ob2Error {
    fn kind(&self) -> crate::problem::Kind {
        match self {
            Ob2Error::IssuerEmailMissing | Ob2Error::UnknownKey(_) => {
                crate::problem::Kind::NotFound
            }
            Ob2Error::Key(_) => crate::problem::Kind::Internal,
        }
    }

    fn detail(&self) -> String {
        match self {
            // said to a visitor, who cannot set it
            Ob2Error::IssuerEmailMissing => "Open Badges 2.0 is not published by this instance: \
                 its issuer has no email (CARNET_ISSUER_EMAIL)"
                .to_owned(),
            Ob2Error::UnknownKey(kid) => format!("no key \"{kid}\""),
            other => other.to_string(),
        }
    }
}

/// How an OB 2.0 assertion is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The assertion lives at its id, inside the issuer's verification scope.
    Hosted,
    /// A compact JWS signed with the issuer's RSA key `kid` (`verification.creator` = its URL).
    Signed { kid: String },
}

/// What an award gives its OB 2.0 Assertion, beside the issuer and the badge class.
#[derive(Debug, Clone)]
pub struct AssertionParts<'a> {
    pub award_id: Uuid,
    /// The award's stored salted hash: OB 2.0 and 3.0 share the `sha256(email ‖ salt)` form.
    pub recipient: &'a HashedIdentity,
    pub details: &'a AwardDetails,
    pub issued_at: DateTime<Utc>,
    pub verification: Verification,
    /// The id of the award's OB 3.0 credential, named in `related`.
    pub ob3_credential_id: &'a str,
}

/// An entry of the RevocationList.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedAward {
    pub award_id: Uuid,
    pub reason: Option<String>,
}

/// Class IRIs of the OB 3.0 twins (the OB 3.0 terms are not defined in the OB 2.0 context).
const OB3_PROFILE: &str = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Profile";
const OB3_ACHIEVEMENT: &str = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement";
const OB3_CREDENTIAL: &str = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential";

fn related_ob3(id: &str, class_iri: &str) -> Value {
    json!([{"type": [class_iri], "id": id, "version": OB3_RELATED_VERSION}])
}

/// The issuer Profile served at [`Ob2Urls::profile`].
///
/// `url` is the configured web site, else the OB 3.0 issuer id (an https page about the issuer).
/// The verification policy narrows the default one (the host of the Profile id) to carnet's
/// assertion URLs, so another application on the same host cannot host assertions in its name.
pub fn issuer_profile(issuer: &Issuer) -> Result<Value, Ob2Error> {
    let s = &issuer.settings;
    let email = s
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or(Ob2Error::IssuerEmailMissing)?;
    let urls = Ob2Urls::new(issuer);
    let keys: Vec<String> = issuer.keys.rsa.iter().map(|k| urls.key(&k.kid)).collect();
    let mut profile = json!({
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": urls.profile(),
        "name": s.name,
        "url": s.url.clone().unwrap_or_else(|| issuer.id()),
        "email": email,
    });
    if let Some(d) = &s.description {
        profile["description"] = d.clone().into();
    }
    if let Some(img) = &s.image {
        profile["image"] = img.clone().into();
    }
    profile["publicKey"] = json!(keys);
    profile["revocationList"] = urls.revocation_list().into();
    profile["verification"] = json!({
        "type": "VerificationObject",
        "startsWith": urls.assertions_prefix(),
    });
    profile["related"] = related_ob3(&issuer.id(), OB3_PROFILE);
    Ok(profile)
}

/// The CryptographicKey of one RSA key (active or retired), served at [`Ob2Urls::key`].
pub fn cryptographic_key(issuer: &Issuer, kid: &str) -> Result<Value, Ob2Error> {
    let key = issuer
        .keys
        .rsa
        .iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| Ob2Error::UnknownKey(kid.to_string()))?;
    let urls = Ob2Urls::new(issuer);
    Ok(json!({
        "@context": OB2_CONTEXT,
        "type": "CryptographicKey",
        "id": urls.key(kid),
        "owner": urls.profile(),
        "publicKeyPem": key.public_pem()?,
    }))
}

/// The BadgeClass of this version of the class, served at [`Ob2Urls::badge_class`].
///
/// Its texts come from the OB 3.0 Achievement of the same class, so both versions say the same
/// thing. The criteria and image URLs are the class's public page and image (current version);
/// the criteria narrative is embedded, so the published version stays self-contained.
pub fn badge_class(issuer: &Issuer, class: &BadgeClass) -> Value {
    let twin = achievement(&issuer.base_url, class);
    badge_class_of(issuer, class, &twin, class.version())
}

/// The BadgeClass of a class as awarded from carnets on one référentiel version: the class's
/// own alignments plus one per recognised competence, under its own version
/// (`crate::ob3::recognition::edition_version`), so that the BadgeClass of the plain class and of
/// every référentiel version each stay what they were when their first assertion was issued.
pub fn badge_class_recognising(
    issuer: &Issuer,
    class: &BadgeClass,
    referentiel: &crate::referentiel::Referentiel,
) -> Value {
    let mut twin = achievement(&issuer.base_url, class);
    crate::ob3::recognition::extend_achievement(&mut twin, class, referentiel);
    let version = crate::ob3::recognition::edition_version(class, referentiel);
    badge_class_of(issuer, class, &twin, &version)
}

/// Points an assertion at the BadgeClass of its référentiel version and puts the narrative of
/// the recognised competences first in its evidence (as in the OB 3.0 credential).
pub fn recognise_assertion(assertion: &mut Value, badge_class_url: &str, evidence: &Value) {
    assertion["badge"] = badge_class_url.into();
    let mut ev = json!({"type": "Evidence"});
    for key in ["name", "genre", "narrative"] {
        if let Some(v) = evidence.get(key) {
            ev[key] = v.clone();
        }
    }
    let mut list = vec![ev];
    if let Some(others) = assertion["evidence"].as_array() {
        list.extend(others.iter().cloned());
    }
    assertion["evidence"] = Value::Array(list);
}

fn badge_class_of(issuer: &Issuer, class: &BadgeClass, twin: &Value, version: &str) -> Value {
    let base = &issuer.docs;
    let urls = Ob2Urls::new(issuer);
    let page = achievement_id(base, class);
    let mut bc = json!({
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": urls.badge_class_version(class, version),
        "@language": class.language,
        "name": class.name,
        "description": twin["description"],
        "image": twin["image"]["id"],
        "criteria": {"id": twin["criteria"]["id"], "narrative": twin["criteria"]["narrative"]},
        "issuer": urls.profile(),
        "version": version,
    });
    if !class.tags.is_empty() {
        bc["tags"] = json!(class.tags);
    }
    if let Some(aligned) = twin["alignment"].as_array() {
        const ALIGNMENT_TERMS: [&str; 5] = [
            "targetName",
            "targetUrl",
            "targetFramework",
            "targetCode",
            "targetDescription",
        ];
        let alignment: Vec<Value> = aligned
            .iter()
            .map(|a| {
                let kept = ALIGNMENT_TERMS
                    .iter()
                    .filter_map(|t| a.get(*t).map(|v| (t.to_string(), v.clone())));
                Value::Object(kept.collect())
            })
            .collect();
        bc["alignment"] = Value::Array(alignment);
    }
    bc["related"] = related_ob3(&page, OB3_ACHIEVEMENT);
    bc
}

/// The Assertion of an award.
///
/// The id is the hosted URL [`Ob2Urls::assertion`] for signed assertions too: carnet hosts every
/// award, so the id stays one stable https URL (the `urn:uuid` the spec suggests is for signed
/// assertions with no home), which can answer `410 Gone` once revoked and is what the
/// RevocationList names. The evidence URL and the recipient's narrative form one `Evidence`, as
/// in the OB 3.0 credential; `expires` is the award's `validUntil`.
pub fn assertion(
    issuer: &Issuer,
    class: &BadgeClass,
    parts: &AssertionParts<'_>,
) -> Result<Value, Ob2Error> {
    let urls = Ob2Urls::new(issuer);
    let verification = match &parts.verification {
        Verification::Hosted => json!({"type": "HostedBadge"}),
        Verification::Signed { kid } => {
            if !issuer.keys.rsa.iter().any(|k| &k.kid == kid) {
                return Err(Ob2Error::UnknownKey(kid.clone()));
            }
            json!({"type": "SignedBadge", "creator": urls.key(kid)})
        }
    };
    let mut a = json!({
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": urls.assertion(parts.award_id),
        "recipient": {
            "type": "email",
            "hashed": true,
            "salt": parts.recipient.salt,
            "identity": parts.recipient.identity_hash,
        },
        "badge": urls.badge_class(class),
        "issuedOn": rfc3339(parts.issued_at),
    });
    let d = parts.details;
    if let Some(until) = d.valid_until {
        a["expires"] = rfc3339(until).into();
    }
    let mut evidence = Vec::new();
    if d.evidence_url.is_some() || d.narrative.is_some() {
        let mut ev = json!({"type": "Evidence"});
        if let Some(url) = &d.evidence_url {
            ev["id"] = url.clone().into();
        }
        if let Some(n) = &d.narrative {
            ev["narrative"] = n.clone().into();
        }
        evidence.push(ev);
    }
    evidence.extend(d.evidence_files.iter().map(FileEvidence::ob2));
    if !evidence.is_empty() {
        a["evidence"] = Value::Array(evidence);
    }
    let endorsements: Vec<Value> = d
        .endorsements
        .iter()
        .filter_map(|e| e.ob2_url.clone().map(Value::from))
        .collect();
    if !endorsements.is_empty() {
        // OB 2.0 `endorsement` is an IRI (`@type: @id`): the hosted Endorsement documents.
        a["endorsement"] = Value::Array(endorsements);
    }
    a["verification"] = verification;
    a["related"] = related_ob3(parts.ob3_credential_id, OB3_CREDENTIAL);
    Ok(a)
}

/// The issuer's RevocationList, served at [`Ob2Urls::revocation_list`] (what signed-badge
/// verifiers check). An empty reason is left out.
pub fn revocation_list(issuer: &Issuer, revoked: &[RevokedAward]) -> Value {
    let urls = Ob2Urls::new(issuer);
    let mut entries: Vec<Value> = revoked
        .iter()
        .map(|r| {
            let mut e = json!({"id": urls.assertion(r.award_id)});
            if let Some(reason) = r.reason.as_deref().filter(|s| !s.trim().is_empty()) {
                e["revocationReason"] = reason.into();
            }
            e
        })
        .collect();
    // openbadges-validator-core 1.1.2 compacts a one-element list into an object, iterates its
    // keys and so never finds the assertion: the same id again, as a plain string (an entry form
    // the spec allows), keeps it a list. The object stays first, for its reason.
    if let [only] = entries.as_slice() {
        entries.push(only["id"].clone());
    }
    json!({
        "@context": OB2_CONTEXT,
        "type": "RevocationList",
        "id": urls.revocation_list(),
        "issuer": urls.profile(),
        "revokedAssertions": entries,
    })
}

/// The body answered with `410 Gone` at a revoked hosted assertion's URL (OB 2.0 §"Revoking
/// Hosted Assertions"). An empty reason is left out.
pub fn revoked_assertion(issuer: &Issuer, award_id: Uuid, reason: Option<&str>) -> Value {
    let mut body = json!({
        "@context": OB2_CONTEXT,
        "id": Ob2Urls::new(issuer).assertion(award_id),
        "revoked": true,
    });
    if let Some(reason) = reason.filter(|s| !s.trim().is_empty()) {
        body["revocationReason"] = reason.into();
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::IssuerSettings;

    fn issuer(email: Option<&str>, url: Option<&str>) -> (Issuer, tempfile::TempDir) {
        let tmp = tempfile::tempdir().unwrap();
        let keys = crate::keys::load_or_create(tmp.path(), "ime").unwrap();
        let settings = IssuerSettings {
            slug: "ime".into(),
            name: "IME".into(),
            url: url.map(Into::into),
            email: email.map(Into::into),
            description: None,
            image: None,
        };
        (Issuer::new(settings, "https://b.example", keys), tmp)
    }

    #[test]
    fn a_profile_needs_an_email_and_falls_back_to_the_ob3_id_for_url() {
        for missing in [None, Some("  ")] {
            let (i, _k) = issuer(missing, None);
            let e = issuer_profile(&i).unwrap_err();
            assert!(matches!(e, Ob2Error::IssuerEmailMissing));
            assert!(e.to_string().starts_with("CARNET_ISSUER_EMAIL is required"));
        }
        let (i, _k) = issuer(Some("c@ime.example"), None);
        let p = issuer_profile(&i).unwrap();
        assert_eq!(p["url"], "https://b.example/issuers/ime");
        assert_eq!(p["email"], "c@ime.example");
        assert!(p.get("description").is_none() && p.get("image").is_none());
        let (i, _k) = issuer(Some("c@ime.example"), Some("https://ime.example"));
        assert_eq!(issuer_profile(&i).unwrap()["url"], "https://ime.example");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let (i, _k) = issuer(Some("c@ime.example"), None);
        assert!(matches!(
            cryptographic_key(&i, "ed25519-1"),
            Err(Ob2Error::UnknownKey(k)) if k == "ed25519-1"
        ));
        let pem = cryptographic_key(&i, "rsa-1").unwrap()["publicKeyPem"].clone();
        assert!(
            pem.as_str()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
    }

    #[test]
    fn empty_reasons_are_left_out() {
        let (i, _k) = issuer(Some("c@ime.example"), None);
        let list = revocation_list(
            &i,
            &[
                RevokedAward {
                    award_id: Uuid::nil(),
                    reason: Some(" ".into()),
                },
                RevokedAward {
                    award_id: Uuid::max(),
                    reason: Some("erreur".into()),
                },
            ],
        );
        let entries = list["revokedAssertions"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "two entries, no padding");
        assert!(entries[0].get("revocationReason").is_none());
        assert_eq!(entries[1]["revocationReason"], "erreur");
        assert!(
            revoked_assertion(&i, Uuid::nil(), Some(""))
                .get("revocationReason")
                .is_none()
        );
    }
}
