//! Building an OB 3.0 `OpenBadgeCredential` from a badge class, an issuer and a recipient
//! (CHECKLIST §5). The result is unsigned; `crate::issue` adds the proofs.
//!
//! Shape choices: arrays for multi-valued properties (the canonical JSON schema wants them), the
//! issuer Profile embedded, the recipient identified by a salted hash only, no `endorsementJwt`
//! nor top-level `jti` (not in every copy of the 3.0.3 context).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::recognition::{self, Recognised};
use crate::badge_class::BadgeClass;
use crate::issuer::{Issuer, OB3_CONTEXT, VC_V2_CONTEXT};
use crate::keys::rfc3339;
use crate::recipient::HashedIdentity;

pub const ACHIEVEMENT_CREDENTIAL_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json";
pub const OB3_EXTENSIONS_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json";

/// What an award says beyond the badge class.
#[derive(Debug, Clone, Default)]
pub struct AwardDetails {
    /// The recipient's name, published only when given (the educator's and recipient's choice).
    pub recipient_name: Option<String>,
    /// Evidence: a URL and/or a narrative, in the recipient's words.
    pub evidence_url: Option<String>,
    pub narrative: Option<String>,
    pub valid_until: Option<DateTime<Utc>>,
    /// Files of evidence carnet keeps (a badge request's), each published as its private URL.
    pub evidence_files: Vec<FileEvidence>,
    /// Endorsements of this award, signed before it is issued (a badge request's tutor): each
    /// embedded in the credential's `endorsement[]`, and named in the OB 2.0 assertion.
    pub endorsements: Vec<EmbeddedEndorsement>,
    /// The award's id when it was reserved before issuing (endorsements name the credential
    /// they endorse before it exists); `None`: a fresh one.
    pub reserved_id: Option<Uuid>,
}

/// One endorsement as an award carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedEndorsement {
    /// The signed OB 3.0 `EndorsementCredential` (Data Integrity proof).
    pub ob3: Value,
    /// The URL of the hosted OB 2.0 `Endorsement` (`None` when the issuer has no OB 2.0 forms).
    pub ob2_url: Option<String>,
}

/// A file of evidence as the credential shows it: a private URL (`{base}/evidence/{id}`, which
/// opens only with a capability token or the issuer's token), a name, a genre and a description;
/// nothing else of the file is public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEvidence {
    pub url: String,
    pub name: String,
    /// `image`, `document`, `audio` or `video`.
    pub genre: String,
    pub description: String,
}

impl FileEvidence {
    /// The OB 3.0 `Evidence` entry.
    pub fn ob3(&self) -> Value {
        json!({
            "id": self.url,
            "type": ["Evidence"],
            "name": self.name,
            "genre": self.genre,
            "description": self.description,
        })
    }

    /// The OB 2.0 `Evidence` entry: the same content.
    pub fn ob2(&self) -> Value {
        json!({
            "id": self.url,
            "type": "Evidence",
            "name": self.name,
            "genre": self.genre,
            "description": self.description,
        })
    }
}

/// Public URL of a badge class (the OB 3.0 Achievement id; HTML for browsers).
pub fn achievement_id(base_url: &str, class: &BadgeClass) -> String {
    format!("{base_url}/badge-classes/{}", class.slug)
}

pub fn credential_url(base_url: &str, award_id: Uuid) -> String {
    format!("{base_url}/credentials/{award_id}")
}

/// The OB 3.0 `Achievement` for a badge class.
pub fn achievement(base_url: &str, class: &BadgeClass) -> Value {
    let id = achievement_id(base_url, class);
    let mut criteria = class.criteria.clone();
    if class.evidence_required {
        criteria.push_str(&format!("\n\n{}", class.evidence_expected));
    }
    let mut a = json!({
        "id": id,
        "type": ["Achievement"],
        "achievementType": class.achievement_type,
        "name": class.name,
        "description": format!("{}\n\n{}", class.description, class.for_whom),
        "criteria": {"id": format!("{id}#criteria"), "narrative": criteria},
        "image": {"id": format!("{id}/image.png"), "type": "Image"},
        "inLanguage": class.language,
        "version": &class.digest[..12],
    });
    if let Some(caption) = &class.image_caption {
        a["image"]["caption"] = caption.clone().into();
    }
    if !class.tags.is_empty() {
        a["tag"] = json!(class.tags);
    }
    if !class.alignments.is_empty() {
        let aligned: Vec<Value> = class
            .alignments
            .iter()
            .enumerate()
            .map(|(i, al)| {
                let mut target_name = al.target_name.clone();
                if let Some(level) = &al.level {
                    target_name.push_str(&format!(" ({level})"));
                }
                let mut v = json!({
                    "type": ["Alignment"],
                    "targetName": target_name,
                    "targetUrl": al.target_url.clone().unwrap_or_else(|| format!("{id}#alignment-{}", i + 1)),
                    "targetFramework": al.framework,
                });
                if let Some(code) = &al.target_code {
                    v["targetCode"] = code.clone().into();
                }
                if let Some(d) = &al.target_description {
                    v["targetDescription"] = d.clone().into();
                }
                v
            })
            .collect();
        a["alignment"] = Value::Array(aligned);
    }
    a
}

/// The unsigned credential.
pub fn build(
    issuer: &Issuer,
    class: &BadgeClass,
    award_id: Uuid,
    recipient: &HashedIdentity,
    details: &AwardDetails,
    issued_at: DateTime<Utc>,
) -> Value {
    build_with(issuer, class, award_id, recipient, details, issued_at, None)
}

/// The unsigned credential of an award, with the competences recognised from a carnet when it is
/// earned from one (`crate::ob3::recognition`): alignments and result descriptions on the
/// Achievement, results on the subject, the narrative as the first evidence.
pub fn build_with(
    issuer: &Issuer,
    class: &BadgeClass,
    award_id: Uuid,
    recipient: &HashedIdentity,
    details: &AwardDetails,
    issued_at: DateTime<Utc>,
    recognised: Option<&Recognised>,
) -> Value {
    let base = &issuer.docs;
    let mut identifiers = vec![json!({
        "type": "IdentityObject",
        "identityHash": recipient.identity_hash,
        "identityType": "emailAddress",
        "hashed": true,
        "salt": recipient.salt,
    })];
    if let Some(name) = &details.recipient_name {
        identifiers.push(json!({
            "type": "IdentityObject",
            "identityHash": name,
            "identityType": "name",
            "hashed": false,
        }));
    }
    let mut achievement = achievement(base, class);
    let urls = crate::issuer::Ob2Urls::new(issuer);
    let mut ob2_class = urls.badge_class(class);
    if let Some(r) = recognised {
        recognition::extend_achievement(&mut achievement, class, &r.referentiel);
        ob2_class =
            urls.badge_class_version(class, &recognition::edition_version(class, &r.referentiel));
    }
    if issuer.settings.email.is_some() {
        // The same badge in Open Badges 2.0 (CHECKLIST §12): its versioned BadgeClass.
        achievement["related"] = json!([{
            "id": ob2_class,
            "type": ["Related", "https://w3id.org/openbadges#BadgeClass"],
            "version": "Open Badges v2p0",
        }]);
    }
    let mut subject = json!({
        "type": ["AchievementSubject"],
        "identifier": identifiers,
        "achievement": achievement,
    });
    if let Some(r) = recognised {
        let results =
            recognition::results(&achievement_id(base, class), &r.referentiel, &r.outcomes);
        if !results.is_empty() {
            subject["result"] = Value::Array(results);
        }
    }
    let mut cred = json!({
        "@context": [VC_V2_CONTEXT, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT],
        "id": credential_url(base, award_id),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": class.name,
        "issuer": issuer.profile(),
        "validFrom": rfc3339(issued_at),
        "awardedDate": rfc3339(issued_at),
        "credentialSubject": subject,
        "credentialSchema": [{"id": ACHIEVEMENT_CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    });
    if let Some(until) = details.valid_until {
        cred["validUntil"] = rfc3339(until).into();
    }
    let mut evidence = Vec::new();
    if let Some(r) = recognised {
        evidence.push(recognition::evidence(r));
    }
    if details.evidence_url.is_some() || details.narrative.is_some() {
        let mut ev = json!({"type": ["Evidence"], "name": "Preuve apportée"});
        if let Some(url) = &details.evidence_url {
            ev["id"] = url.clone().into();
        }
        if let Some(n) = &details.narrative {
            ev["narrative"] = n.clone().into();
        }
        evidence.push(ev);
    }
    evidence.extend(details.evidence_files.iter().map(FileEvidence::ob3));
    if !evidence.is_empty() {
        cred["evidence"] = Value::Array(evidence);
    }
    if !details.endorsements.is_empty() {
        cred["endorsement"] = details.endorsements.iter().map(|e| e.ob3.clone()).collect();
    }
    cred
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_evidence_shows_only_its_url_name_genre_and_description() {
        let file = FileEvidence {
            url: "https://b.example/evidence/1".into(),
            name: "consignes.pdf".into(),
            genre: "document".into(),
            description: "Document apporté avec la demande".into(),
        };
        assert_eq!(
            file.ob3(),
            json!({
                "id": "https://b.example/evidence/1",
                "type": ["Evidence"],
                "name": "consignes.pdf",
                "genre": "document",
                "description": "Document apporté avec la demande",
            })
        );
        let ob2 = file.ob2();
        assert_eq!(ob2["type"], "Evidence");
        assert_eq!(ob2["id"], file.ob3()["id"]);
        assert_eq!(ob2.as_object().unwrap().len(), 5);
    }
}
