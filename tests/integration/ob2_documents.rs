//! The OB 2.0 representation of an award (CHECKLIST §1, §2, §12): required properties of every
//! document, links between them, recipient hash, dates, JWS, versioned BadgeClass URLs and strict
//! JSON-LD expansion with the shipped OB 2.0 context.

use crate::common;

use std::fs;
use std::path::Path;

use carnet::badge_class::{BadgeClass, load_file};
use carnet::ob2::{
    self, AssertionParts, JwsError, OB2_CONTEXT, Ob2Error, Ob2Urls, PublicKey, RevokedAward,
    Verification,
};
use carnet::ob3::credential::{AwardDetails, achievement_id, credential_url};
use carnet::recipient::{Email, HashedIdentity, hash_email};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use uuid::Uuid;

const EMAIL: &str = "lea@example.org";

struct Award {
    id: Uuid,
    recipient: HashedIdentity,
    details: AwardDetails,
    issued_at: DateTime<Utc>,
    ob3_id: String,
}

fn award(f: &common::Fixture) -> Award {
    let id = Uuid::new_v4();
    Award {
        id,
        recipient: hash_email(&Email::parse(EMAIL).unwrap()),
        details: common::full_details(),
        issued_at: Utc::now() - Duration::minutes(1),
        ob3_id: credential_url(&f.issuer.base_url, id),
    }
}

fn assertion(f: &common::Fixture, class: &BadgeClass, a: &Award, v: Verification) -> Value {
    let parts = AssertionParts {
        award_id: a.id,
        recipient: &a.recipient,
        details: &a.details,
        issued_at: a.issued_at,
        verification: v,
        ob3_credential_id: &a.ob3_id,
    };
    ob2::assertion(&f.issuer, class, &parts).unwrap()
}

fn signed(f: &common::Fixture) -> Verification {
    Verification::Signed {
        kid: f.issuer.keys.active_rsa().kid.clone(),
    }
}

fn assert_has(doc: &Value, props: &[&str]) {
    for p in props {
        let v = doc
            .get(*p)
            .unwrap_or_else(|| panic!("missing {p} in {doc:#}"));
        assert!(!v.is_null() && v != "", "empty {p} in {doc:#}");
    }
    assert_eq!(doc["@context"], OB2_CONTEXT, "{doc:#}");
}

fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").expect("absolute URL") + 3;
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

fn assert_rfc3339_with_zone(s: &Value) {
    let s = s.as_str().expect("a date string");
    assert!(s.ends_with('Z'), "{s}");
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"));
}

#[test]
fn profile_and_keys_link_both_ways() {
    let f = common::fixture();
    let profile = ob2::issuer_profile(&f.issuer).unwrap();
    assert_has(&profile, &["id", "type", "name", "url", "email"]);
    assert_eq!(profile["type"], "Issuer");
    assert_eq!(profile["url"], "https://ime.example.org");
    assert_eq!(profile["email"], "contact@ime.example.org");
    assert_eq!(
        profile["id"],
        "https://badges.example.org/ob2/issuers/ime-test"
    );
    assert_eq!(
        profile["revocationList"],
        format!("{}/revocations", profile["id"].as_str().unwrap())
    );
    assert_eq!(profile["related"][0]["id"], f.issuer.id());
    assert_eq!(profile["related"][0]["version"], "Open Badges v3p0");
    assert_eq!(
        profile["related"][0]["type"][0],
        "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Profile"
    );

    let keys = profile["publicKey"].as_array().unwrap();
    assert_eq!(keys.len(), f.issuer.keys.rsa.len());
    let a = assertion(&f, &f.class, &award(&f), signed(&f));
    assert_eq!(a["verification"]["type"], "SignedBadge");
    let creator = &a["verification"]["creator"];
    assert!(keys.contains(creator), "{creator} not in {keys:?}");
    let kid = &f.issuer.keys.active_rsa().kid;
    let key = ob2::cryptographic_key(&f.issuer, kid).unwrap();
    assert_has(&key, &["id", "type", "owner", "publicKeyPem"]);
    assert_eq!(key["type"], "CryptographicKey");
    assert_eq!(&key["id"], creator);
    assert_eq!(key["owner"], profile["id"]);
    let pem = key["publicKeyPem"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    assert!(!pem.contains("PRIVATE"));
}

#[test]
fn the_profile_requires_an_email() {
    let mut f = common::fixture();
    let mut issuer = (*f.issuer).clone();
    issuer.settings.email = None;
    f.issuer = issuer.into();
    let e = ob2::issuer_profile(&f.issuer).unwrap_err();
    assert!(matches!(e, Ob2Error::IssuerEmailMissing));
    assert!(
        e.to_string()
            .contains("CARNET_ISSUER_EMAIL is required for Open Badges 2.0"),
        "{e}"
    );
}

#[test]
fn badge_class_has_every_required_property_and_links_to_its_ob3_twin() {
    let f = common::fixture();
    let bc = ob2::badge_class(&f.issuer, &f.class);
    assert_has(
        &bc,
        &[
            "id",
            "type",
            "name",
            "description",
            "image",
            "criteria",
            "issuer",
        ],
    );
    assert_eq!(bc["type"], "BadgeClass");
    assert_eq!(bc["id"], Ob2Urls::new(&f.issuer).badge_class(&f.class));
    assert_eq!(bc["issuer"], Ob2Urls::new(&f.issuer).profile());
    assert_eq!(bc["@language"], "fr");
    assert_eq!(bc["version"], &f.class.digest[..12]);
    let page = achievement_id(&f.issuer.base_url, &f.class);
    assert_eq!(bc["image"], format!("{page}/image.png"));
    assert_eq!(bc["criteria"]["id"], format!("{page}#criteria"));
    let narrative = bc["criteria"]["narrative"].as_str().unwrap();
    assert!(narrative.starts_with(&f.class.criteria), "{narrative}");
    assert_eq!(bc["tags"], serde_json::json!(f.class.tags));
    let alignment = bc["alignment"].as_array().unwrap();
    assert_eq!(alignment.len(), f.class.alignments.len());
    for al in alignment {
        assert!(
            al["targetName"].is_string() && al["targetUrl"].is_string(),
            "{al}"
        );
        assert!(al.get("type").is_none(), "OB 3.0 type leaked: {al}");
    }
    assert_eq!(bc["related"][0]["id"], page);
    assert_eq!(bc["related"][0]["version"], "Open Badges v3p0");
    // The OB 3.0 Implementation Guide's reverse link: the full IRI, not the undefined term `Related`.
    assert_eq!(
        bc["related"][0]["type"],
        serde_json::json!(["https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement"])
    );
}

#[test]
fn the_badge_class_url_follows_the_class_version() {
    let f = common::fixture();
    let tmp = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("badge-classes");
    let name = "securite-hygiene-au-travail";
    for ext in ["toml", "png"] {
        fs::copy(
            src.join(format!("{name}.{ext}")),
            tmp.path().join(format!("{name}.{ext}")),
        )
        .unwrap();
    }
    let file = tmp.path().join(format!("{name}.toml"));
    let load = || load_file(&file).unwrap();
    let urls = Ob2Urls::new(&f.issuer);
    let before = load();
    assert_eq!(urls.badge_class(&before), urls.badge_class(&load()));
    let earlier = assertion(&f, &before, &award(&f), Verification::Hosted);

    let text = fs::read_to_string(&file).unwrap();
    let changed = text.replacen(
        "criteria = \"\"\"\n",
        "criteria = \"\"\"\nJe relis la consigne.\n",
        1,
    );
    assert_ne!(
        text, changed,
        "the class file has a criteria = \"\"\"…\"\"\" entry"
    );
    fs::write(&file, changed).unwrap();
    let after = load();
    assert_ne!(before.digest, after.digest);
    assert_ne!(urls.badge_class(&before), urls.badge_class(&after));
    assert_eq!(earlier["badge"], urls.badge_class(&before));
    assert_eq!(ob2::badge_class(&f.issuer, &before)["id"], earlier["badge"]);
}

#[test]
fn hosted_assertion_is_complete_in_scope_and_hashes_the_recipient() {
    let f = common::fixture();
    let aw = award(&f);
    let a = assertion(&f, &f.class, &aw, Verification::Hosted);
    assert_has(
        &a,
        &[
            "id",
            "type",
            "recipient",
            "badge",
            "verification",
            "issuedOn",
        ],
    );
    assert_eq!(a["type"], "Assertion");
    assert!(a.get("issuer").is_none());
    assert_eq!(
        a["verification"],
        serde_json::json!({"type": "HostedBadge"})
    );
    assert_eq!(a["badge"], Ob2Urls::new(&f.issuer).badge_class(&f.class));

    // Hosted scope: the default policy (host of the Profile id) and carnet's startsWith.
    let profile = ob2::issuer_profile(&f.issuer).unwrap();
    let id = a["id"].as_str().unwrap();
    assert_eq!(
        id,
        format!("https://badges.example.org/ob2/assertions/{}", aw.id)
    );
    assert_eq!(origin(id), origin(profile["id"].as_str().unwrap()));
    assert!(id.starts_with(profile["verification"]["startsWith"].as_str().unwrap()));

    assert_rfc3339_with_zone(&a["issuedOn"]);
    assert_rfc3339_with_zone(&a["expires"]);
    assert!(a["expires"].as_str() > a["issuedOn"].as_str());

    let r = &a["recipient"];
    assert_eq!((&r["type"], &r["hashed"]), (&"email".into(), &true.into()));
    let identity = r["identity"].as_str().unwrap();
    let hex = identity.strip_prefix("sha256$").unwrap();
    assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(r["salt"], aw.recipient.salt);
    assert!(carnet::recipient::matches(
        EMAIL,
        identity,
        r["salt"].as_str()
    ));
    assert!(!carnet::recipient::matches(
        "other@example.org",
        identity,
        r["salt"].as_str()
    ));

    let ev = &a["evidence"][0];
    assert_eq!(ev["id"], "https://ime.example.org/preuves/42");
    assert_eq!(ev["narrative"], "J'ai montré les EPI à mon tuteur.");
    assert_eq!(a["related"][0]["id"], aw.ob3_id);
    assert_eq!(a["related"][0]["version"], "Open Badges v3p0");
    assert_eq!(
        a["related"][0]["type"],
        serde_json::json!(["https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential"])
    );
}

#[test]
fn without_evidence_nor_expiry_those_properties_are_absent() {
    let f = common::fixture();
    let mut aw = award(&f);
    aw.details = AwardDetails::default();
    let a = assertion(&f, &f.class, &aw, Verification::Hosted);
    assert!(a.get("evidence").is_none() && a.get("expires").is_none());
    let mut aw = award(&f);
    aw.details.evidence_url = None;
    let a = assertion(&f, &f.class, &aw, Verification::Hosted);
    assert!(a["evidence"][0].get("id").is_none());
    assert!(a["evidence"][0]["narrative"].is_string());
}

#[test]
fn signing_with_an_unknown_key_is_refused() {
    let f = common::fixture();
    let aw = award(&f);
    let parts = AssertionParts {
        award_id: aw.id,
        recipient: &aw.recipient,
        details: &aw.details,
        issued_at: aw.issued_at,
        verification: Verification::Signed {
            kid: "rsa-404".into(),
        },
        ob3_credential_id: &aw.ob3_id,
    };
    assert!(matches!(
        ob2::assertion(&f.issuer, &f.class, &parts),
        Err(Ob2Error::UnknownKey(k)) if k == "rsa-404"
    ));
}

#[test]
fn the_jws_round_trips_with_the_published_key_and_a_changed_payload_fails() {
    let f = common::fixture();
    let a = assertion(&f, &f.class, &award(&f), signed(&f));
    let jws = ob2::sign_assertion(&a, f.issuer.keys.active_rsa()).unwrap();
    assert!(carnet::proof::vc_jwt::looks_like_compact_jws(&jws));
    assert!(!jws.contains(EMAIL));

    // What a verifier does: read creator, fetch the CryptographicKey, verify with its PEM.
    let creator = ob2::unverified_assertion(&jws).unwrap()["verification"]["creator"].clone();
    let kid = creator.as_str().unwrap().rsplit('/').next().unwrap();
    let key = ob2::cryptographic_key(&f.issuer, kid).unwrap();
    let pem = key["publicKeyPem"].as_str().unwrap();
    assert_eq!(
        ob2::verify_assertion_jws(&jws, PublicKey::Pem(pem)).unwrap(),
        a
    );

    let parts: Vec<&str> = jws.split('.').collect();
    let mut forged = a.clone();
    forged["expires"] = "2099-01-01T00:00:00Z".into();
    use base64::Engine;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    assert!(matches!(
        ob2::verify_assertion_jws(&tampered, PublicKey::Pem(pem)),
        Err(JwsError::BadSignature)
    ));
}

#[test]
fn revocation_documents() {
    let f = common::fixture();
    let urls = Ob2Urls::new(&f.issuer);
    let (one, two) = (Uuid::new_v4(), Uuid::new_v4());
    let list = ob2::revocation_list(
        &f.issuer,
        &[
            RevokedAward {
                award_id: one,
                reason: Some("Décerné par erreur".into()),
            },
            RevokedAward {
                award_id: two,
                reason: None,
            },
        ],
    );
    assert_has(&list, &["id", "type", "issuer"]);
    assert_eq!(list["type"], "RevocationList");
    assert_eq!(
        list["id"],
        ob2::issuer_profile(&f.issuer).unwrap()["revocationList"]
    );
    assert_eq!(list["issuer"], urls.profile());
    let entries = list["revokedAssertions"].as_array().unwrap();
    assert_eq!(entries[0]["id"], urls.assertion(one));
    assert_eq!(entries[0]["revocationReason"], "Décerné par erreur");
    assert_eq!(entries[1], serde_json::json!({"id": urls.assertion(two)}));
    assert_eq!(entries.len(), 2);
    let empty = ob2::revocation_list(&f.issuer, &[]);
    assert_eq!(empty["revokedAssertions"], serde_json::json!([]));
    // One entry: the id is repeated as a plain string, so that the IMS validator's JSON-LD
    // compaction keeps a list (with one object, it finds nothing revoked).
    let single = ob2::revocation_list(
        &f.issuer,
        &[RevokedAward {
            award_id: one,
            reason: Some("Décerné par erreur".into()),
        }],
    );
    assert_eq!(
        single["revokedAssertions"],
        serde_json::json!([
            {"id": urls.assertion(one), "revocationReason": "Décerné par erreur"},
            urls.assertion(one),
        ])
    );

    let body = ob2::revoked_assertion(&f.issuer, one, Some("Décerné par erreur"));
    assert_eq!(
        body,
        serde_json::json!({"@context": OB2_CONTEXT, "id": urls.assertion(one), "revoked": true,
                           "revocationReason": "Décerné par erreur"})
    );
}

#[test]
fn every_document_passes_strict_json_ld_and_none_shows_the_email() {
    let f = common::fixture();
    let aw = award(&f);
    let hosted = assertion(&f, &f.class, &aw, Verification::Hosted);
    let signed_assertion = assertion(&f, &f.class, &aw, signed(&f));
    let kid = &f.issuer.keys.active_rsa().kid;
    let docs = [
        ("profile", ob2::issuer_profile(&f.issuer).unwrap()),
        ("key", ob2::cryptographic_key(&f.issuer, kid).unwrap()),
        ("badge class", ob2::badge_class(&f.issuer, &f.class)),
        ("hosted assertion", hosted.clone()),
        ("signed assertion", signed_assertion),
        (
            "revocation list",
            ob2::revocation_list(
                &f.issuer,
                &[RevokedAward {
                    award_id: aw.id,
                    reason: Some("erreur".into()),
                }],
            ),
        ),
        (
            "revoked",
            ob2::revoked_assertion(&f.issuer, aw.id, Some("erreur")),
        ),
    ];
    for (name, doc) in &docs {
        let text = doc.to_string();
        assert!(!text.contains(EMAIL), "{name} shows the email");
        let nquads = carnet::jsonld::canonicalize(doc)
            .unwrap_or_else(|e| panic!("{name} fails strict JSON-LD: {e}\n{doc:#}"));
        assert!(!nquads.is_empty(), "{name}");
    }
    // Spot checks that the terms mean what OB 2.0 says.
    let nquads = carnet::jsonld::canonicalize(&hosted).unwrap();
    let id = hosted["id"].as_str().unwrap();
    for expected in [
        format!(
            "<{id}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/openbadges#Assertion>"
        ),
        format!("<{id}> <http://purl.org/dc/terms/relation> <{}>", aw.ob3_id),
        format!(
            "<https://w3id.org/openbadges#identityHash> \"{}\"",
            aw.recipient.identity_hash
        ),
        format!(
            "<{id}> <https://w3id.org/openbadges#badge> <{}>",
            hosted["badge"].as_str().unwrap()
        ),
    ] {
        assert!(nquads.contains(&expected), "{expected}\n{nquads}");
    }
    // `@language` on the BadgeClass node is the OB 2.0 convention (the 1EdTech sample
    // `badgeclass-with-language.json` has it there): JSON-LD accepts it and does not turn it into
    // RDF, the OB 2.0 validator reads it as a property.
    let bc = ob2::badge_class(&f.issuer, &f.class);
    let nquads = carnet::jsonld::canonicalize(&bc).unwrap();
    let bc_id = bc["id"].as_str().unwrap();
    assert!(nquads.contains(&format!(
        "<{bc_id}> <https://w3id.org/openbadges#issuer> <{}>",
        bc["issuer"].as_str().unwrap()
    )));
    assert!(nquads.contains(&format!(
        "<{bc_id}> <http://purl.org/dc/terms/relation> <{}>",
        bc["related"][0]["id"].as_str().unwrap()
    )));
}
