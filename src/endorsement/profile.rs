//! The Profile of an endorser, hosted and signed for by carnet (issue #5 §6). An endorser has no
//! account and no keys: carnet publishes a Profile for them, labelled as made by carnet from what
//! they declared, and signs their endorsement with the institution's keys under a DID of theirs.
//! The layout mirrors the institution's; the ids are made beside its own, in `crate::issuer`:
//!
//! - Profile id (JSON-LD controller document, or HTML): `{issuer id}/endorsers/{id}`
//! - DID (did:web): `{issuer DID}:endorsers:{id}` → `{issuer id}/endorsers/{id}/did.json`
//! - verification method: `{DID}#{kid}`, one per Ed25519 key of the institution, controller =
//!   the Profile id (which is the endorsement's `issuer.id`)
//! - OB 2.0 Profile: `{base}/ob2/issuers/{slug}/endorsers/{id}` (the OB 2.0 twin)
//!
//! The verify page reads the description back: [`made_by_carnet`] tells a Profile carnet made,
//! [`declared`] gives the role and organisation the endorser declared.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::issuer::{
    DID_V1_CONTEXT, Issuer, MULTIKEY_CONTEXT, OB3_CONTEXT, VC_V2_CONTEXT, endorser_did,
    endorser_url, ob2_endorser_url, verification_method,
};
use crate::ob2::{OB2_CONTEXT, Ob2Error};
use crate::proof::multikey::ed25519_public_multibase;
use crate::store::{Endorsement, EndorserKind};

/// Who endorsed, as they declared it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorserProfile {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub organisation: Option<String>,
    pub kind: EndorserKind,
}

impl From<&Endorsement> for EndorserProfile {
    fn from(e: &Endorsement) -> Self {
        EndorserProfile {
            id: e.endorser_id,
            name: e.endorser_name.clone(),
            role: e.endorser_role.clone(),
            organisation: e.endorser_organisation.clone(),
            kind: e.endorser_kind,
        }
    }
}

/// How the description of every Profile carnet makes for an endorser begins.
pub const MADE_BY_CARNET: &str = "Ce profil a été créé par carnet pour ";

/// What an endorser declared, as a Profile carnet made says it (read back from its
/// description by the verification page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub role: String,
    pub organisation: Option<String>,
}

/// Whether an endorsement's issuer is a Profile carnet made for an endorser: its id is under
/// `…/endorsers/` and its description is the one [`EndorserProfile::description`] writes.
pub fn made_by_carnet(profile_id: &str, description: &str) -> bool {
    profile_id.contains("/endorsers/") && description.starts_with(MADE_BY_CARNET)
}

/// The role and organisation in the description [`EndorserProfile::description`] writes;
/// `None` for any other text.
pub fn declared(description: &str) -> Option<Declared> {
    let rest = description.strip_prefix(MADE_BY_CARNET)?;
    let (institution, rest) = rest.split_once(
        ". Il reprend ce que la personne a déclaré. \
         carnet n'a pas vérifié son identité. Rôle déclaré : ",
    )?;
    let end = rest.rfind(&format!(". {institution} a invité cette personne comme "))?;
    let said = &rest[..end];
    let (role, organisation) = match said.rsplit_once(". Organisation déclarée : ") {
        Some((role, org)) => (role, Some(org.to_owned())),
        None => (said, None),
    };
    Some(Declared {
        role: role.to_owned(),
        organisation,
    })
}

impl EndorserProfile {
    pub fn url(&self, issuer: &Issuer) -> String {
        endorser_url(issuer, self.id)
    }

    /// What the Profile says of itself, in plain French: who made it, from what, and that nobody
    /// checked the person's identity; then the declared role and organisation.
    pub fn description(&self, issuer: &Issuer) -> String {
        let institution = &issuer.settings.name;
        let mut d = format!(
            "Ce profil a été créé par carnet pour {institution}. \
             Il reprend ce que la personne a déclaré. \
             carnet n'a pas vérifié son identité. \
             Rôle déclaré : {}.",
            self.role
        );
        if let Some(org) = &self.organisation {
            d.push_str(&format!(" Organisation déclarée : {org}."));
        }
        d.push_str(&format!(
            " {institution} a invité cette personne comme {}.",
            self.kind.label_fr()
        ));
        d
    }

    /// The Profile as the endorsement embeds it (`issuer`).
    pub fn profile(&self, issuer: &Issuer) -> Value {
        json!({
            "id": self.url(issuer),
            "type": ["Profile"],
            "name": self.name,
            "description": self.description(issuer),
        })
    }

    /// Every Ed25519 key of the institution (retired ones too, so older endorsements verify) as a
    /// Multikey method of the endorser's DID, controlled by the endorser's Profile id.
    fn verification_methods(&self, issuer: &Issuer) -> Vec<Value> {
        issuer
            .keys
            .ed25519
            .iter()
            .map(|k| {
                json!({
                    "id": verification_method(issuer, self.id, &k.kid),
                    "type": "Multikey",
                    "controller": self.url(issuer),
                    "publicKeyMultibase": ed25519_public_multibase(&k.verifying_key()),
                })
            })
            .collect()
    }

    /// The document served at the Profile id: the OB 3.0 Profile, which is also the controller
    /// document of the endorser's keys (as the institution's is: DID v1 context first, the
    /// methods in `verificationMethod` / `assertionMethod`), so verifiers that dereference the
    /// controller find them.
    pub fn profile_document(&self, issuer: &Issuer) -> Value {
        let mut doc =
            json!({"@context": [DID_V1_CONTEXT, MULTIKEY_CONTEXT, VC_V2_CONTEXT, OB3_CONTEXT]});
        let map = doc.as_object_mut().expect("object");
        for (k, v) in self.profile(issuer).as_object().expect("object") {
            map.insert(k.clone(), v.clone());
        }
        let methods = self.verification_methods(issuer);
        map.insert(
            "assertionMethod".into(),
            Value::Array(methods.iter().map(|m| m["id"].clone()).collect()),
        );
        map.insert("verificationMethod".into(), Value::Array(methods));
        doc
    }

    /// The endorser's DID document (methods listed by id in `assertionMethod`).
    pub fn did_document(&self, issuer: &Issuer) -> Value {
        let methods = self.verification_methods(issuer);
        let ids: Vec<Value> = methods.iter().map(|m| m["id"].clone()).collect();
        json!({
            "@context": [DID_V1_CONTEXT, MULTIKEY_CONTEXT],
            "id": endorser_did(issuer, self.id),
            "alsoKnownAs": [self.url(issuer)],
            "verificationMethod": methods,
            "assertionMethod": ids,
        })
    }

    /// The OB 2.0 Profile (issuer of the OB 2.0 `Endorsement`). OB 2.0 wants a `url` and an
    /// `email` for an issuer: the endorser's page at carnet and the institution's contact (the
    /// endorser's own address is never asked for). Endorsements are hosted under
    /// `{base}/ob2/endorsements/`, which its verification policy says.
    pub fn ob2_profile(&self, issuer: &Issuer) -> Result<Value, Ob2Error> {
        let email = issuer
            .settings
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .ok_or(Ob2Error::IssuerEmailMissing)?;
        Ok(json!({
            "@context": OB2_CONTEXT,
            "type": "Profile",
            "id": ob2_endorser_url(issuer, self.id),
            "name": self.name,
            "description": self.description(issuer),
            "url": self.url(issuer),
            "email": email,
            "verification": {
                "type": "VerificationObject",
                "startsWith": format!("{}/ob2/endorsements/", issuer.base_url),
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::{IssuerSettings, parse_verification_method};

    fn issuer() -> (Issuer, tempfile::TempDir) {
        let tmp = tempfile::tempdir().unwrap();
        let keys = crate::keys::load_or_create(tmp.path(), "ime").unwrap();
        let settings = IssuerSettings {
            slug: "ime".into(),
            name: "IME Les Tilleuls".into(),
            url: None,
            email: Some("contact@ime.example".into()),
            description: None,
            image: None,
        };
        (Issuer::new(settings, "http://127.0.0.1:8080", keys), tmp)
    }

    fn endorser() -> EndorserProfile {
        EndorserProfile {
            id: Uuid::nil(),
            name: "Marc Dupont".into(),
            role: "Tuteur de stage".into(),
            organisation: Some("Boulangerie Martin".into()),
            kind: EndorserKind::Tutor,
        }
    }

    #[test]
    fn ids_follow_the_institution_and_methods_parse_back() {
        let (i, _k) = issuer();
        let e = endorser();
        assert_eq!(
            e.url(&i),
            "http://127.0.0.1:8080/issuers/ime/endorsers/00000000-0000-0000-0000-000000000000"
        );
        let did = endorser_did(&i, e.id);
        assert_eq!(
            did,
            "did:web:127.0.0.1%3A8080:issuers:ime:endorsers:00000000-0000-0000-0000-000000000000"
        );
        let vm = verification_method(&i, e.id, "ed25519-1");
        assert_eq!(
            parse_verification_method(&i, &vm),
            Some((e.id, "ed25519-1"))
        );
        assert_eq!(
            parse_verification_method(&i, &i.verification_method("k")),
            None
        );
        assert_eq!(
            parse_verification_method(&i, &format!("{}:endorsers:nope#k", i.did())),
            None
        );
    }

    #[test]
    fn the_profile_says_carnet_made_it_and_is_strict_json_ld() {
        let (i, _k) = issuer();
        let e = endorser();
        let d = e.description(&i);
        assert!(d.contains("créé par carnet pour IME Les Tilleuls"), "{d}");
        assert!(d.contains("n'a pas vérifié son identité"), "{d}");
        assert!(d.contains("Boulangerie Martin") && d.contains("Tuteur de stage"));
        let doc = e.profile_document(&i);
        assert_eq!(doc["verificationMethod"][0]["controller"], e.url(&i));
        let vm = verification_method(&i, e.id, &i.keys.active_ed25519().kid);
        assert_eq!(doc["assertionMethod"][0], vm.as_str());
        let nquads = crate::jsonld::canonicalize(&doc).expect("strict JSON-LD");
        assert!(nquads.contains(&format!(
            "<{}> <https://w3id.org/security#assertionMethod> <{vm}>",
            e.url(&i)
        )));
        let did = e.did_document(&i);
        assert_eq!(did["assertionMethod"][0], vm.as_str());
        let ob2 = e.ob2_profile(&i).unwrap();
        assert_eq!(ob2["email"], "contact@ime.example");
        assert_eq!(ob2["url"], e.url(&i));
    }

    #[test]
    fn what_was_declared_reads_back_from_the_description() {
        let (i, _k) = issuer();
        let mut e = endorser();
        e.role = "Chef de cuisine adj.".into();
        let d = e.description(&i);
        assert!(made_by_carnet(&e.url(&i), &d));
        assert!(!made_by_carnet("https://other.example/people/1", &d));
        assert!(!made_by_carnet(&e.url(&i), "Une tutrice."));
        assert_eq!(
            declared(&d),
            Some(Declared {
                role: "Chef de cuisine adj.".into(),
                organisation: Some("Boulangerie Martin".into()),
            })
        );
        e.organisation = None;
        assert_eq!(
            declared(&e.description(&i)),
            Some(Declared {
                role: "Chef de cuisine adj.".into(),
                organisation: None,
            })
        );
        assert_eq!(declared("Ce profil a été créé par carnet pour X."), None);
        assert_eq!(declared("Une tutrice."), None);
    }
}
