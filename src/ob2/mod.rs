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
//!
//! [`Ob2Urls`] makes these URLs (it lives beside the issuer's other ids, in `crate::issuer`); a
//! class's version is [`crate::badge_class::BadgeClass::version`].

pub mod documents;
pub mod jws;

pub use crate::issuer::Ob2Urls;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::Issuer;
    use uuid::Uuid;

    #[test]
    fn versions_are_twelve_hex_digits_and_never_panic() {
        let tmp = tempfile::tempdir().unwrap();
        let keys = crate::keys::load_or_create(tmp.path(), "ime").unwrap();
        let settings = crate::issuer::IssuerSettings {
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
        assert_eq!(class.version(), "abc");
    }
}
