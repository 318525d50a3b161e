//! The institutions part of the storage suite (migration 0016), as `storage`: each test only
//! sees `Arc<Store>` and runs on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set.

use std::sync::Arc;

use crate::common::backends;
use carnet::store::{
    InstitutionFields, InstitutionUrls, Store, StoreError, StoredBadgeClass, StoredKey,
};
use chrono::{SubsecRound, Utc};
use uuid::Uuid;

backends::suite!(
    store: [
        an_institution_is_created_with_its_keys_once,
        updates_and_rotations_bump_the_revision,
        badge_classes_are_replaced_only_when_their_digest_changes,
        a_person_links_awards_and_earlier_ones_when_the_email_is_given_again,
    ],
);

fn slug() -> String {
    format!("ime-{}", Uuid::new_v4().simple())
}

fn fields(name: &str) -> InstitutionFields {
    InstitutionFields {
        name: name.to_owned(),
        url: Some("https://ime.example".to_owned()),
        email: Some("contact@ime.example".to_owned()),
        description: None,
        image: None,
        language: "fr".to_owned(),
    }
}

fn key(kid: &str, alg: &str) -> StoredKey {
    StoredKey {
        kid: kid.to_owned(),
        alg: alg.to_owned(),
        active: true,
        sealed: format!("sealed-{kid}"),
        created_at: Utc::now().trunc_subsecs(6),
    }
}

fn class(slug: &str, digest: &str) -> StoredBadgeClass {
    StoredBadgeClass {
        slug: slug.to_owned(),
        file: format!("name = \"{slug}\"\n"),
        image_name: format!("{slug}.png"),
        image: vec![0x89, b'P', b'N', b'G', 0, 255],
        digest: digest.to_owned(),
        revision: 0,
        updated_at: Utc::now(),
        updated_by: "camille".to_owned(),
    }
}

async fn an_institution_is_created_with_its_keys_once(store: Arc<Store>) {
    let one = slug();
    let keys = [key("ed25519-1", "ed25519"), key("rsa-1", "rsa")];
    let made = store
        .create_institution(
            &one,
            &fields("IME Beaumesnil"),
            InstitutionUrls::Instance,
            &keys,
        )
        .await
        .unwrap();
    assert_eq!((made.revision, made.urls), (1, InstitutionUrls::Instance));
    assert_eq!(store.institution(&one).await.unwrap(), Some(made.clone()));
    assert_eq!(store.institution_keys(&one).await.unwrap(), keys.to_vec());
    let again = store
        .create_institution(&one, &fields("Autre"), InstitutionUrls::Scoped, &[])
        .await;
    assert!(
        matches!(&again, Err(StoreError::InstitutionExists(s)) if *s == one),
        "{again:?}"
    );
    assert_eq!(
        store.institution(&one).await.unwrap().unwrap().fields.name,
        "IME Beaumesnil"
    );
    // a key that cannot be stored leaves no institution behind
    let two = slug();
    let twice = [key("k", "ed25519"), key("k", "rsa")];
    assert!(
        store
            .create_institution(&two, &fields("ESAT"), InstitutionUrls::Scoped, &twice)
            .await
            .is_err()
    );
    assert_eq!(store.institution(&two).await.unwrap(), None);
    assert!(
        store
            .institutions()
            .await
            .unwrap()
            .iter()
            .any(|i| i.slug == one)
    );
    assert_eq!(store.institution("nope").await.unwrap(), None);
}

async fn updates_and_rotations_bump_the_revision(store: Arc<Store>) {
    let one = slug();
    store
        .create_institution(
            &one,
            &fields("IME"),
            InstitutionUrls::Scoped,
            &[key("ed25519-1", "ed25519"), key("rsa-1", "rsa")],
        )
        .await
        .unwrap();
    let mut changed = fields("IME APEER Tilly");
    changed.language = "en".to_owned();
    let updated = store
        .update_institution(&one, &changed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((updated.revision, &updated.fields), (2, &changed));
    assert_eq!(updated.urls, InstitutionUrls::Scoped);
    assert_eq!(store.institution_revision(&one).await.unwrap(), Some(2));
    assert_eq!(
        store.update_institution("nope", &changed).await.unwrap(),
        None
    );
    // a rotation retires the active key of the same algorithm only
    assert!(
        store
            .add_institution_keys(&one, &[key("ed25519-2", "ed25519")])
            .await
            .unwrap()
    );
    let keys = store.institution_keys(&one).await.unwrap();
    let state: Vec<(&str, bool)> = keys.iter().map(|k| (k.kid.as_str(), k.active)).collect();
    assert_eq!(
        state,
        [("ed25519-1", false), ("rsa-1", true), ("ed25519-2", true)]
    );
    assert_eq!(store.institution_revision(&one).await.unwrap(), Some(3));
    assert!(
        !store
            .add_institution_keys("nope", &[key("x", "rsa")])
            .await
            .unwrap()
    );
}

async fn badge_classes_are_replaced_only_when_their_digest_changes(store: Arc<Store>) {
    let (one, other) = (slug(), slug());
    for s in [&one, &other] {
        store
            .create_institution(s, &fields("IME"), InstitutionUrls::Scoped, &[])
            .await
            .unwrap();
    }
    assert!(
        store
            .put_badge_class(&one, &class("cuisine", "sha256:aa"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_badge_class(&one, &class("cuisine", "sha256:aa"))
            .await
            .unwrap()
    );
    assert!(
        store
            .put_badge_class(&one, &class("cuisine", "sha256:bb"))
            .await
            .unwrap()
    );
    assert!(
        store
            .put_badge_class(&one, &class("accueil", "sha256:cc"))
            .await
            .unwrap()
    );
    let classes = store.badge_classes(&one).await.unwrap();
    let seen: Vec<(&str, &str, i64)> = classes
        .iter()
        .map(|c| (c.slug.as_str(), c.digest.as_str(), c.revision))
        .collect();
    assert_eq!(
        seen,
        [("accueil", "sha256:cc", 1), ("cuisine", "sha256:bb", 2)]
    );
    assert_eq!(classes[1].image, class("x", "y").image);
    // three changes, three revisions after the first
    assert_eq!(store.institution_revision(&one).await.unwrap(), Some(4));
    assert!(store.badge_classes(&other).await.unwrap().is_empty());
    let unknown = store
        .put_badge_class("nope", &class("cuisine", "sha256:aa"))
        .await;
    assert!(
        matches!(unknown, Err(StoreError::InstitutionNotFound(_))),
        "{unknown:?}"
    );
}

async fn a_person_links_awards_and_earlier_ones_when_the_email_is_given_again(store: Arc<Store>) {
    use carnet::recipient::{Email, identity_hash};
    use carnet::referentiel::carnet::{hashed_from, person_key};
    let (one, other) = (slug(), slug());
    let email = Email::parse("lea.martin@example.org").unwrap();
    let key = person_key(&one, &email);
    assert_eq!(store.person(&one, &key).await.unwrap(), None);
    assert!(!store.person_known(&one, &key).await.unwrap());
    // an award given to the person now
    let mut now = crate::storage::sample(&one);
    now.person_key = Some(key.clone());
    let now = store.insert_award(&now).await.unwrap();
    // recorded, but what was made before is still to be looked for
    assert!(!store.person_known(&one, &key).await.unwrap());
    // two made before people were recorded: hers, and someone else's; and hers elsewhere
    let earlier = |issuer: &str, who: &str| {
        let mut a = crate::storage::sample(issuer);
        a.recipient_salt = format!("sel-{}", Uuid::new_v4().simple());
        a.recipient_identity = identity_hash(who, &a.recipient_salt);
        a
    };
    let hers = store
        .insert_award(&earlier(&one, email.as_str()))
        .await
        .unwrap();
    store
        .insert_award(&earlier(&one, "karim@example.org"))
        .await
        .unwrap();
    let elsewhere = store
        .insert_award(&earlier(&other, email.as_str()))
        .await
        .unwrap();
    let person = store.person(&one, &key).await.unwrap().unwrap();
    assert_eq!(
        person.awards.iter().map(|a| a.id).collect::<Vec<_>>(),
        [now.id]
    );
    assert!(person.carnets.is_empty() && person.requests.is_empty());
    // her email given again links hers, in this institution only, once
    assert_eq!(
        store
            .link_earlier(&one, &key, hashed_from(&email))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .link_earlier(&one, &key, hashed_from(&email))
            .await
            .unwrap(),
        0
    );
    assert!(store.person_known(&one, &key).await.unwrap());
    assert!(!store.person_known(&other, &key).await.unwrap());
    let person = store.person(&one, &key).await.unwrap().unwrap();
    let ids: Vec<Uuid> = person.awards.iter().map(|a| a.id).collect();
    assert_eq!(ids, [now.id, hers.id]);
    assert_eq!(person.awards[1].person_key.as_deref(), Some(key.as_str()));
    assert_eq!(
        store
            .get_award(elsewhere.id)
            .await
            .unwrap()
            .unwrap()
            .person_key,
        None
    );
    assert_eq!(store.person(&other, &key).await.unwrap(), None);
}
