//! Shared by integration tests: a throw-away issuer and credentials issued by it, without a
//! database; and in submodules a running server (`server`), carnet fixtures (`carnets`), the
//! browser tools (`browser`), the `carnet` binary and other programs run to completion (`cli`),
//! and the test suites declared once for SQLite and PostgreSQL (`backends`).
#![allow(dead_code)]

pub mod backends;
pub mod browser;
pub mod carnets;
pub mod cli;
pub mod server;

use std::path::Path;
use std::sync::Arc;

use carnet::badge_class::BadgeClass;
use carnet::issue::{SignedCredential, sign};
use carnet::issuer::Issuer;
use carnet::issuer::IssuerSettings;
use carnet::ob3::credential::{AwardDetails, build};
use carnet::recipient::{Email, hash_email};
use chrono::Utc;

pub struct Fixture {
    pub issuer: Arc<Issuer>,
    pub class: BadgeClass,
    _keys: tempfile::TempDir,
}

pub fn fixture() -> Fixture {
    fixture_with("ime-test")
}

pub fn fixture_with(slug: &str) -> Fixture {
    let keys_dir = tempfile::tempdir().unwrap();
    let keys = carnet::keys::load_or_create(keys_dir.path(), slug).unwrap();
    let settings = IssuerSettings {
        slug: slug.into(),
        name: "IME de test".into(),
        url: Some("https://ime.example.org".into()),
        email: Some("contact@ime.example.org".into()),
        description: Some("Un IME pour les tests.".into()),
        image: None,
    };
    let issuer = Arc::new(Issuer::new(settings, "https://badges.example.org", keys));
    let classes =
        carnet::badge_class::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("badge-classes"))
            .unwrap();
    let class = classes["securite-hygiene-au-travail"].clone();
    Fixture {
        issuer,
        class,
        _keys: keys_dir,
    }
}

impl Fixture {
    pub fn issue(&self, email: &str, details: &AwardDetails) -> SignedCredential {
        let now = Utc::now();
        let unsigned = build(
            &self.issuer,
            &self.class,
            uuid::Uuid::new_v4(),
            &hash_email(&Email::parse(email).unwrap()),
            details,
            now,
        );
        sign(&self.issuer, &unsigned, now).unwrap()
    }

    pub fn verifier(&self) -> carnet::verify::Verifier {
        carnet::verify::Verifier::new(carnet::verify::resolve::Resolver::new(
            vec![self.issuer.clone()],
            None,
        ))
    }
}

pub fn full_details() -> AwardDetails {
    AwardDetails {
        recipient_name: Some("Léa Martin".into()),
        evidence_url: Some("https://ime.example.org/preuves/42".into()),
        narrative: Some("J'ai montré les EPI à mon tuteur.".into()),
        valid_until: Some(Utc::now() + chrono::Duration::days(365)),
        ..Default::default()
    }
}
