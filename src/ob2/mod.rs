//! The Open Badges 2.0 representation of carnet's awards (IMS OB 2.0 Final, CHECKLIST §1–2), beside
//! the OB 3.0 one (`crate::ob3`): the issuer Profile, its CryptographicKeys, versioned BadgeClasses,
//! Assertions (hosted or signed), the RevocationList and the hosted "revoked" answer; `jws` signs and
//! verifies OB 2.0 signed assertions (RS256 compact JWS).
//!
//! Every OB 2.0 document has its own URL under `{base}/ob2/…`, apart from the OB 3.0 ones, and uses
//! only the OB 2.0 context: the two contexts are never mixed in one document (CHECKLIST §12). The
//! twins are cross-linked with `related` (OB 3.0 Implementation Guide, "Migrating from OB 2.0").
//!
//! | document | URL |
//! | --- | --- |
//! | issuer Profile | `{base}/ob2/issuers/{slug}` |
//! | CryptographicKey | `{base}/ob2/issuers/{slug}/keys/{kid}` |
//! | RevocationList | `{base}/ob2/issuers/{slug}/revocations` |
//! | BadgeClass (one per version of the class) | `{base}/ob2/badge-classes/{class}/{version}` |
//! | Assertion (hosted and signed) | `{base}/ob2/assertions/{award_id}` |

pub mod documents;
pub mod jws;

use uuid::Uuid;

use crate::badge_class::BadgeClass;
use crate::issuer::Issuer;

pub use documents::{
    AssertionParts, Ob2Error, RevokedAward, Verification, assertion, badge_class,
    badge_class_recognising, cryptographic_key, issuer_profile, recognise_assertion,
    revocation_list, revoked_assertion,
};
pub use jws::{JwsError, PublicKey, sign_assertion, unverified_assertion, verify_assertion_jws};

/// The OB 2.0 JSON-LD context, the only one an OB 2.0 document names.
pub const OB2_CONTEXT: &str = "https://w3id.org/openbadges/v2";

/// `version` of an OB 3.0 twin named in `related` (OB 3.0 Implementation Guide, "Migrating").
pub const OB3_RELATED_VERSION: &str = "Open Badges v3p0";

/// Length of a BadgeClass version: the first hex digits of the class digest.
const VERSION_LEN: usize = 12;

/// The version of a badge class as published in its OB 2.0 URL: the first 12 hex digits of the
/// digest of its file and image, so any change to the class gives a new URL and an issued
/// assertion keeps pointing at what the recipient was awarded.
pub fn badge_class_version(class: &BadgeClass) -> &str {
    class.digest.get(..VERSION_LEN).unwrap_or(&class.digest)
}

/// The URLs of an issuer's OB 2.0 documents, all derived from the public base URL and the slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ob2Urls {
    base: String,
    slug: String,
}

impl Ob2Urls {
    pub fn new(issuer: &Issuer) -> Self {
        Self {
            base: issuer.base_url.clone(),
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
        self.badge_class_version(class, badge_class_version(class))
    }

    /// The BadgeClass of the class under another version (an award earned from a carnet names
    /// the class with its référentiel version: `crate::ob3::recognition::edition_version`).
    pub fn badge_class_version(&self, class: &BadgeClass, version: &str) -> String {
        format!("{}/ob2/badge-classes/{}/{version}", self.base, class.slug)
    }

    /// Every assertion id starts with this; the Profile's verification policy says so (`startsWith`).
    pub fn assertions_prefix(&self) -> String {
        format!("{}/ob2/assertions/", self.base)
    }

    pub fn assertion(&self, award_id: Uuid) -> String {
        format!("{}{award_id}", self.assertions_prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_twelve_hex_digits_and_never_panic() {
        let tmp = tempfile::tempdir().unwrap();
        let keys = crate::keys::load_or_create(tmp.path(), "ime").unwrap();
        let settings = crate::config::IssuerSettings {
            slug: "ime".into(),
            name: "IME".into(),
            url: None,
            email: None,
            description: None,
            image: None,
        };
        let issuer = Issuer::new(settings, "https://b.example/", keys);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("badge-classes");
        let mut class =
            crate::badge_class::load_dir(&dir).unwrap()["securite-hygiene-au-travail"].clone();
        let urls = Ob2Urls::new(&issuer);
        assert_eq!(urls.profile(), "https://b.example/ob2/issuers/ime");
        assert_eq!(
            urls.key("rsa-1"),
            "https://b.example/ob2/issuers/ime/keys/rsa-1"
        );
        assert_eq!(
            urls.badge_class(&class),
            format!(
                "https://b.example/ob2/badge-classes/securite-hygiene-au-travail/{}",
                &class.digest[..12]
            )
        );
        let id = Uuid::nil();
        assert!(urls.assertion(id).starts_with(&urls.assertions_prefix()));
        class.digest = "abc".into();
        assert_eq!(badge_class_version(&class), "abc");
    }
}
