//! The issuing institution as the outside world sees it: its Profile, its `did:web` DID document,
//! its JWK set and each key's own URL. All ids derive from the public base URL.
//!
//! - issuer id (Profile, JSON-LD or HTML):     `{base}/issuers/{slug}`
//! - DID (did:web):                              `did:web:{host}[:{path}]:issuers:{slug}` → `{base}/issuers/{slug}/did.json`
//! - Data Integrity verification method:        `{did}#{kid}`, controller = the issuer id
//! - VC-JWT `kid` (answers one JWK):             `{base}/issuers/{slug}/keys/{kid}`
//! - JWK set of the instance:                    `{base}/.well-known/jwks.json`
//!
//! The controller = the issuer id rule is the 1EdTech validator's. The DID document lists its
//! methods by URL in `assertionMethod`; the Profile at the issuer id is also the controller
//! document (DID v1 context first, the same methods in `verificationMethod` / `assertionMethod`),
//! so verifiers that dereference the controller (jsonld-signatures, the DCC stack) find the keys.
//! Every URL and key directory is per issuer slug, ready for several institutions (one is
//! configured today). [`IssuerSettings`] (re-exported by `crate::config`) are the validated
//! settings.
//!
//! Also [`Ob2Urls`], the URLs of the issuer's OB 2.0 documents (listed in `crate::ob2`), and the
//! ids of the endorsers carnet hosts under an issuer (`crate::endorsement::profile`):
//! `{issuer id}/endorsers/{id}`, DID `{issuer DID}:endorsers:{id}`, OB 2.0
//! `{base}/ob2/issuers/{slug}/endorsers/{id}`.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::badge_class::BadgeClass;
use crate::keys::IssuerKeys;
use crate::proof::multikey::ed25519_public_multibase;

pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
pub const OB3_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
pub const DID_V1_CONTEXT: &str = "https://www.w3.org/ns/did/v1";
pub const MULTIKEY_CONTEXT: &str = "https://w3id.org/security/multikey/v1";

/// The validated issuer settings.
#[derive(Debug, Clone)]
pub struct IssuerSettings {
    pub slug: String,
    pub name: String,
    pub url: Option<String>,
    pub email: Option<String>,
    pub description: Option<String>,
    pub image: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Issuer {
    pub settings: IssuerSettings,
    /// Base URL without trailing slash.
    pub base_url: String,
    /// Where the institution's badge classes, credentials and OB 2.0 assertions answer: the base
    /// URL for the institution made before institutions were data, `{issuer id}` for the others
    /// ([`Issuer::scoped`]).
    pub docs: String,
    pub keys: IssuerKeys,
}

impl Issuer {
    pub fn new(settings: IssuerSettings, base_url: &str, keys: IssuerKeys) -> Self {
        let base_url = base_url.trim_end_matches('/').to_string();
        Self {
            settings,
            docs: base_url.clone(),
            base_url,
            keys,
        }
    }

    /// The same issuer with its documents under its own id (`/issuers/{slug}/…`).
    pub fn scoped(mut self) -> Self {
        self.docs = self.id();
        self
    }

    /// The path of [`Issuer::docs`] on this instance: `""` or `/issuers/{slug}`, for links.
    pub fn docs_path(&self) -> &str {
        self.docs.strip_prefix(&self.base_url).unwrap_or("")
    }

    pub fn slug(&self) -> &str {
        &self.settings.slug
    }

    /// The issuer id: an https URL answering the Profile.
    pub fn id(&self) -> String {
        format!("{}/issuers/{}", self.base_url, self.settings.slug)
    }

    /// `did:web` of the issuer (host, port percent-encoded, then the path segments).
    pub fn did(&self) -> String {
        let rest = self
            .base_url
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.base_url);
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut did = format!("did:web:{}", host.replace(':', "%3A"));
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            did.push(':');
            did.push_str(seg);
        }
        format!("{did}:issuers:{}", self.settings.slug)
    }

    pub fn did_document_url(&self) -> String {
        format!("{}/did.json", self.id())
    }

    /// Verification method id of a key (used in Data Integrity proofs).
    pub fn verification_method(&self, kid: &str) -> String {
        format!("{}#{kid}", self.did())
    }

    /// URL answering the single JWK of a key (the VC-JWT `kid`).
    pub fn key_url(&self, kid: &str) -> String {
        format!("{}/keys/{kid}", self.id())
    }

    /// The Profile as embedded in credentials.
    pub fn profile(&self) -> Value {
        let s = &self.settings;
        let mut p = json!({"id": self.id(), "type": ["Profile"], "name": s.name});
        if let Some(url) = &s.url {
            p["url"] = url.clone().into();
        }
        if let Some(email) = &s.email {
            p["email"] = email.clone().into();
        }
        if let Some(d) = &s.description {
            p["description"] = d.clone().into();
        }
        if let Some(img) = &s.image {
            p["image"] = json!({"id": img, "type": "Image"});
        }
        p
    }

    /// The Profile document served at the issuer id. It is also the issuer's **controller
    /// document**: the Data Integrity verification methods name the issuer id as their
    /// `controller`, so a verifier that dereferences the controller (as jsonld-signatures does)
    /// finds the keys here, listed in `assertionMethod`. The DID v1 context comes first, as in a DID
    /// document, which defines `verificationMethod` / `assertionMethod`; the document stays a valid
    /// OB 3.0 `Profile` under strict JSON-LD expansion (a test checks it).
    pub fn profile_document(&self) -> Value {
        let mut doc =
            json!({"@context": [DID_V1_CONTEXT, MULTIKEY_CONTEXT, VC_V2_CONTEXT, OB3_CONTEXT]});
        let map = doc.as_object_mut().expect("object");
        for (k, v) in self.profile().as_object().expect("object") {
            map.insert(k.clone(), v.clone());
        }
        let methods = self.verification_methods();
        map.insert(
            "assertionMethod".into(),
            Value::Array(methods.iter().map(|m| m["id"].clone()).collect()),
        );
        map.insert("verificationMethod".into(), Value::Array(methods));
        doc
    }

    /// Every Ed25519 key (retired ones too, so old badges verify) as a Multikey verification method
    /// controlled by the issuer id.
    fn verification_methods(&self) -> Vec<Value> {
        self.keys
            .ed25519
            .iter()
            .map(|k| {
                json!({
                    "id": self.verification_method(&k.kid),
                    "type": "Multikey",
                    "controller": self.id(),
                    "publicKeyMultibase": ed25519_public_multibase(&k.verifying_key()),
                })
            })
            .collect()
    }

    /// The JWK of a key, with `kid` = its URL; `None` for an unknown kid.
    pub fn key_jwk(&self, kid: &str) -> Option<Value> {
        let mut jwk = if let Some(k) = self.keys.ed25519.iter().find(|k| k.kid == kid) {
            k.public_jwk()
        } else {
            self.keys.rsa.iter().find(|k| k.kid == kid)?.public_jwk()
        };
        jwk["kid"] = self.key_url(kid).into();
        Some(jwk)
    }

    fn all_kids(&self) -> impl Iterator<Item = &str> {
        self.keys
            .ed25519
            .iter()
            .map(|k| k.kid.as_str())
            .chain(self.keys.rsa.iter().map(|k| k.kid.as_str()))
    }

    /// All public keys (active and retired) as a JWK set.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .all_kids()
            .filter_map(|kid| self.key_jwk(kid))
            .collect();
        json!({ "keys": keys })
    }

    /// The DID document: every Ed25519 key (retired ones too, so old badges verify) as a Multikey
    /// verification method controlled by the issuer id, all listed by URL in `assertionMethod`.
    /// RSA keys (VC-JWT) are published as JWKs at their own URL and in the JWK set.
    pub fn did_document(&self) -> Value {
        let did = self.did();
        let methods = self.verification_methods();
        let ids: Vec<Value> = methods.iter().map(|m| m["id"].clone()).collect();
        json!({
            "@context": [DID_V1_CONTEXT, MULTIKEY_CONTEXT],
            "id": did,
            "alsoKnownAs": [self.id()],
            "verificationMethod": methods,
            "assertionMethod": ids,
        })
    }
}

/// The URLs of an issuer's OB 2.0 documents, all derived from the public base URL and the slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ob2Urls {
    base: String,
    docs: String,
    slug: String,
}

impl Ob2Urls {
    pub fn new(issuer: &Issuer) -> Self {
        Self {
            base: issuer.base_url.clone(),
            docs: issuer.docs.clone(),
            slug: issuer.slug().to_string(),
        }
    }

    /// The OB 2.0 issuer Profile id (its `type` is `Issuer`).
    pub fn profile(&self) -> String {
        format!("{}/ob2/issuers/{}", self.base, self.slug)
    }

    /// The CryptographicKey of an RSA key (`verification.creator` of signed assertions).
    pub fn key(&self, kid: &str) -> String {
        format!("{}/keys/{kid}", self.profile())
    }

    pub fn revocation_list(&self) -> String {
        format!("{}/revocations", self.profile())
    }

    /// The BadgeClass of this version of the class.
    pub fn badge_class(&self, class: &BadgeClass) -> String {
        self.badge_class_version(class, class.version())
    }

    /// The BadgeClass of the class under another version (an award earned from a carnet names
    /// the class with its référentiel version: `crate::ob3::recognition::edition_version`).
    pub fn badge_class_version(&self, class: &BadgeClass, version: &str) -> String {
        format!("{}/ob2/badge-classes/{}/{version}", self.docs, class.slug)
    }

    /// Every assertion id starts with this; the Profile's verification policy says so (`startsWith`).
    pub fn assertions_prefix(&self) -> String {
        format!("{}/ob2/assertions/", self.docs)
    }

    pub fn assertion(&self, award_id: Uuid) -> String {
        format!("{}{award_id}", self.assertions_prefix())
    }
}

// The ids of the endorsers carnet hosts and signs for under this issuer
// (`crate::endorsement::profile`), beside the institution's own.

/// The endorser's Profile id (an https URL answering the Profile).
pub fn endorser_url(issuer: &Issuer, id: Uuid) -> String {
    format!("{}/endorsers/{id}", issuer.id())
}

/// The endorser's `did:web`.
pub fn endorser_did(issuer: &Issuer, id: Uuid) -> String {
    format!("{}:endorsers:{id}", issuer.did())
}

/// The URL of the endorser's DID document.
pub fn did_document_url(issuer: &Issuer, id: Uuid) -> String {
    format!("{}/did.json", endorser_url(issuer, id))
}

pub fn verification_method(issuer: &Issuer, id: Uuid, kid: &str) -> String {
    format!("{}#{kid}", endorser_did(issuer, id))
}

/// The endorser and key a verification method of this issuer's endorsers names, if it is one:
/// `{issuer DID}:endorsers:{uuid}#{kid}`.
pub fn parse_verification_method<'a>(issuer: &Issuer, vm: &'a str) -> Option<(Uuid, &'a str)> {
    let prefix = format!("{}:endorsers:", issuer.did());
    let (id, kid) = vm.strip_prefix(&prefix)?.split_once('#')?;
    Some((id.parse().ok()?, kid))
}

/// The endorser's OB 2.0 Profile id.
pub fn ob2_endorser_url(issuer: &Issuer, id: Uuid) -> String {
    format!(
        "{}/ob2/issuers/{}/endorsers/{id}",
        issuer.base_url,
        issuer.slug()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(base: &str) -> Issuer {
        let tmp = tempfile::tempdir().unwrap();
        let keys = crate::keys::load_or_create(tmp.path(), "ime-test").unwrap();
        let settings = IssuerSettings {
            slug: "ime-test".into(),
            name: "IME Test".into(),
            url: None,
            email: Some("contact@ime.example".into()),
            description: None,
            image: None,
        };
        Issuer::new(settings, base, keys)
    }

    #[test]
    fn did_web_encodes_port_and_path() {
        assert_eq!(
            issuer("http://127.0.0.1:8080").did(),
            "did:web:127.0.0.1%3A8080:issuers:ime-test"
        );
        assert_eq!(
            issuer("https://example.org/carnet/").did(),
            "did:web:example.org:carnet:issuers:ime-test"
        );
    }

    #[test]
    fn the_profile_is_also_the_controller_document_and_valid_json_ld() {
        let i = issuer("https://badges.example.org");
        let doc = i.profile_document();
        assert_eq!(doc["id"], i.id());
        assert_eq!(doc["type"][0], "Profile");
        let vm = i.verification_method(&i.keys.active_ed25519().kid);
        assert_eq!(doc["assertionMethod"][0], vm.as_str());
        assert_eq!(doc["verificationMethod"][0]["controller"], i.id());
        let nquads = crate::jsonld::canonicalize(&doc).expect("strict JSON-LD");
        assert!(
            nquads.contains(&format!(
                "<{}> <https://w3id.org/security#assertionMethod> <{vm}>",
                i.id()
            )),
            "{nquads}"
        );
        assert!(
            nquads.contains("<https://purl.imsglobal.org/spec/vc/ob/vocab.html#Profile>"),
            "{nquads}"
        );
    }

    #[test]
    fn did_document_lists_methods_as_strings_controlled_by_the_issuer() {
        let i = issuer("https://badges.example.org");
        let doc = i.did_document();
        let vm = &doc["verificationMethod"][0];
        assert_eq!(vm["controller"], i.id());
        assert!(
            vm["publicKeyMultibase"]
                .as_str()
                .unwrap()
                .starts_with("z6Mk")
        );
        assert!(
            doc["assertionMethod"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v.is_string())
        );
        assert_eq!(doc["assertionMethod"][0], vm["id"]);
        let jwks = i.jwks();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        assert!(!jwks.to_string().contains("\"d\""));
        let rsa_kid = &i.keys.active_rsa().kid;
        assert_eq!(i.key_jwk(rsa_kid).unwrap()["kid"], i.key_url(rsa_kid));
    }
}
