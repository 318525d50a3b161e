//! The documents of an endorsement (pure functions; signing is CPU-bound: call them off the async
//! runtime):
//!
//! - the OB 3.0 `EndorsementCredential` (CHECKLIST §9; schema
//!   `ob_v3p0_endorsementcredential_schema.json`): `type` [VerifiableCredential,
//!   EndorsementCredential], `issuer` = the endorser's Profile hosted by carnet, `credentialSubject`
//!   {`id` = the endorsed award's credential id, `type` [EndorsementSubject], `endorsementComment`},
//!   signed eddsa-rdfc-2022 with the institution's key under the endorser's DID;
//! - the OB 2.0 `Endorsement` (CHECKLIST §1): `claim` {`id` = the award's OB 2.0 assertion,
//!   `endorsementComment`}, `issuer` = the endorser's OB 2.0 Profile, hosted at its id;
//! - an award re-signed with more endorsements: its credential (`endorsement[]`, a new Data
//!   Integrity proof through [`crate::issue::sign_data_integrity`]) and its OB 2.0 hosted
//!   assertion (`endorsement` listing the hosted Endorsements), under the same id, status slot
//!   and dates; its RS256 forms (VC-JWT, OB 2.0 JWS) are signed again on their next download.
//!
//! Only the contexts carnet ships are needed: VC v2, OB 3.0.3 and the OB 3.0 extensions (for the
//! `credentialSchema` type `1EdTechJsonSchemaValidator2019`), as in 1EdTech's
//! `endorsement-valid.json`; they define every term used here (the embedded Profile's
//! `description`, `endorsementComment` in `EndorsementSubject`'s scope).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::profile::EndorserProfile;
use crate::issuer::{Issuer, OB3_CONTEXT, VC_V2_CONTEXT, ob2_endorser_url, verification_method};
use crate::keys::rfc3339;
use crate::ob2::{OB2_CONTEXT, Ob2Urls};
use crate::ob3::credential::OB3_EXTENSIONS_CONTEXT;
use crate::proof::data_integrity;
use crate::store::Award;

pub const ENDORSEMENT_CREDENTIAL_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json";

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("a stored document cannot be read: {0}")]
    Stored(String),
}

/// The public URL of an endorsement (its OB 3.0 credential id).
pub fn endorsement_url(base_url: &str, id: Uuid) -> String {
    format!("{base_url}/endorsements/{id}")
}

/// The URL of its hosted OB 2.0 `Endorsement`.
pub fn ob2_endorsement_url(base_url: &str, id: Uuid) -> String {
    format!("{base_url}/ob2/endorsements/{id}")
}

/// What an endorsement says.
#[derive(Debug, Clone)]
pub struct EndorsementParts<'a> {
    pub id: Uuid,
    pub endorser: &'a EndorserProfile,
    /// The endorsed award (issued, or reserved by its badge request).
    pub award_id: Uuid,
    pub comment: &'a str,
    /// The badge class's name, for the credential's `name`.
    pub class_name: &'a str,
    pub issued_at: DateTime<Utc>,
}

/// The unsigned OB 3.0 `EndorsementCredential`.
pub fn unsigned_endorsement(issuer: &Issuer, p: &EndorsementParts<'_>) -> Value {
    let base = &issuer.base_url;
    json!({
        "@context": [VC_V2_CONTEXT, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT],
        "id": endorsement_url(base, p.id),
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": format!("Recommandation de {} pour le badge « {} »", p.endorser.name, p.class_name),
        "issuer": p.endorser.profile(issuer),
        "validFrom": rfc3339(p.issued_at),
        "credentialSubject": {
            "id": crate::ob3::credential::credential_url(&issuer.docs, p.award_id),
            "type": ["EndorsementSubject"],
            "endorsementComment": p.comment,
        },
        "credentialSchema": [{
            "id": ENDORSEMENT_CREDENTIAL_SCHEMA,
            "type": "1EdTechJsonSchemaValidator2019",
        }],
    })
}

/// The signed OB 3.0 `EndorsementCredential`: a Data Integrity proof (eddsa-rdfc-2022) made with
/// the institution's active Ed25519 key under the endorser's DID.
pub fn signed_endorsement(
    issuer: &Issuer,
    p: &EndorsementParts<'_>,
) -> Result<Value, DocumentError> {
    let unsigned = unsigned_endorsement(issuer, p);
    let key = issuer.keys.active_ed25519();
    let proof = data_integrity::sign_eddsa_rdfc_2022(
        &unsigned,
        key.signing_key(),
        &verification_method(issuer, p.endorser.id, &key.kid),
        &rfc3339(p.issued_at),
    )
    .map_err(|e| DocumentError::Signing(e.to_string()))?;
    let mut signed = unsigned;
    signed["proof"] = json!([proof]);
    Ok(signed)
}

/// The hosted OB 2.0 `Endorsement`; `None` when the issuer publishes no OB 2.0 (no email).
pub fn ob2_endorsement(issuer: &Issuer, p: &EndorsementParts<'_>) -> Option<Value> {
    issuer
        .settings
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())?;
    Some(json!({
        "@context": OB2_CONTEXT,
        "type": "Endorsement",
        "id": ob2_endorsement_url(&issuer.base_url, p.id),
        "claim": {
            "id": Ob2Urls::new(issuer).assertion(p.award_id),
            "endorsementComment": p.comment,
        },
        "issuer": ob2_endorser_url(issuer, p.endorser.id),
        "issuedOn": rfc3339(p.issued_at),
        "verification": {"type": "HostedBadge"},
    }))
}

/// One endorsement to embed in an award: its signed credential, and its hosted OB 2.0 URL.
#[derive(Debug, Clone)]
pub struct ToEmbed {
    pub ob3: Value,
    pub ob2_url: Option<String>,
}

/// An award's documents re-signed with more endorsements.
#[derive(Debug, Clone)]
pub struct Reissued {
    pub credential_json: String,
    /// The RSA key that signs its RS256 forms on their first download
    /// ([`crate::issue::vc_jwt`], [`crate::issue::ob2_jws`]).
    pub rsa_kid: String,
    pub assertion_json: Option<String>,
}

/// The ids of the endorsements a credential already carries.
pub fn embedded_ids(credential: &Value) -> Vec<String> {
    credential
        .get("endorsement")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Appends `urls` to a document's `endorsement` list (OB 2.0: IRIs), leaving out those it has.
fn add_ob2_urls(doc: &mut Value, urls: &[String]) {
    let mut list: Vec<Value> = match doc.get("endorsement") {
        Some(Value::Array(a)) => a.clone(),
        Some(one @ Value::String(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    for url in urls {
        if !list.iter().any(|v| v.as_str() == Some(url)) {
            list.push(Value::from(url.clone()));
        }
    }
    if !list.is_empty() {
        doc["endorsement"] = Value::Array(list);
    }
}

/// Re-signs an award with `added` endorsements appended to its credential's `endorsement[]`: a
/// new proof (same id, `validFrom`, status entry), and its OB 2.0 hosted assertion listing their
/// hosted URLs. Its RS256 forms are signed again on their next download, with the RSA key active
/// now ([`Reissued::rsa_kid`]).
pub fn reissue(
    issuer: &Issuer,
    award: &Award,
    added: &[ToEmbed],
    now: DateTime<Utc>,
) -> Result<Reissued, DocumentError> {
    let stored = |e: serde_json::Error| DocumentError::Stored(e.to_string());
    let mut unsigned: Value = serde_json::from_str(&award.credential_json).map_err(stored)?;
    let Some(map) = unsigned.as_object_mut() else {
        return Err(DocumentError::Stored(
            "the credential is not an object".into(),
        ));
    };
    map.remove("proof");
    let mut list = match map.remove("endorsement") {
        Some(Value::Array(a)) => a,
        Some(one) => vec![one],
        None => Vec::new(),
    };
    list.extend(added.iter().map(|e| e.ob3.clone()));
    map.insert("endorsement".into(), Value::Array(list));
    let signed = crate::issue::sign_data_integrity(issuer, &unsigned, now)
        .map_err(|e| DocumentError::Signing(e.to_string()))?;
    let urls: Vec<String> = added.iter().filter_map(|e| e.ob2_url.clone()).collect();
    let assertion_json = match &award.assertion_json {
        Some(text) if !urls.is_empty() => {
            let mut hosted: Value = serde_json::from_str(text).map_err(stored)?;
            add_ob2_urls(&mut hosted, &urls);
            Some(serde_json::to_string(&hosted).map_err(stored)?)
        }
        other => other.clone(),
    };
    Ok(Reissued {
        credential_json: serde_json::to_string(&signed).map_err(stored)?,
        rsa_kid: issuer.keys.active_rsa().kid.clone(),
        assertion_json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::IssuerSettings;
    use crate::store::EndorserKind;

    fn issuer() -> (Issuer, tempfile::TempDir) {
        let tmp = tempfile::tempdir().unwrap();
        let keys = crate::keys::load_or_create(tmp.path(), "ime").unwrap();
        let settings = IssuerSettings {
            slug: "ime".into(),
            name: "IME".into(),
            url: None,
            email: Some("contact@ime.example".into()),
            description: None,
            image: None,
        };
        (Issuer::new(settings, "https://b.example", keys), tmp)
    }

    #[test]
    fn the_endorsement_is_signed_for_the_endorser_and_verifies() {
        let (i, _k) = issuer();
        let endorser = EndorserProfile {
            id: Uuid::new_v4(),
            name: "Marc".into(),
            role: "Tuteur".into(),
            organisation: None,
            kind: EndorserKind::Tutor,
        };
        let award_id = Uuid::new_v4();
        let parts = EndorsementParts {
            id: Uuid::new_v4(),
            endorser: &endorser,
            award_id,
            comment: "Léa est **soigneuse**.",
            class_name: "Sécurité",
            issued_at: Utc::now(),
        };
        let signed = signed_endorsement(&i, &parts).unwrap();
        assert_eq!(signed["issuer"]["id"], endorser.url(&i));
        assert_eq!(
            signed["credentialSubject"]["id"],
            format!("https://b.example/credentials/{award_id}")
        );
        let proof = &signed["proof"][0];
        let key = i.keys.active_ed25519().verifying_key();
        data_integrity::verify_proof(&signed, proof, &key).expect("the proof verifies");
        let mut tampered = signed.clone();
        tampered["credentialSubject"]["endorsementComment"] = "Autre chose".into();
        assert!(data_integrity::verify_proof(&tampered, proof, &key).is_err());
        let ob2 = ob2_endorsement(&i, &parts).unwrap();
        assert_eq!(
            ob2["claim"]["id"],
            format!("https://b.example/ob2/assertions/{award_id}")
        );
        assert_eq!(ob2["issuer"], ob2_endorser_url(&i, endorser.id));
    }

    #[test]
    fn ob2_urls_are_added_once() {
        let mut doc = json!({"endorsement": "https://x/1"});
        add_ob2_urls(&mut doc, &["https://x/1".into(), "https://x/2".into()]);
        assert_eq!(doc["endorsement"], json!(["https://x/1", "https://x/2"]));
        let mut none = json!({});
        add_ob2_urls(&mut none, &[]);
        assert!(none.get("endorsement").is_none());
    }
}
