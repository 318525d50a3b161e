//! The endorsement part of the storage suite (migration 0007), as `storage`: each test only sees
//! `Arc<Store>` and `backends::suite!` runs it on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (a fresh schema per test, dropped at the end), e.g.
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test --test integration storage_endorsements::`.

use std::sync::Arc;

use crate::common::backends;
use carnet::store::{
    AwardDocuments, AwardEventKind, EndorserKind, InvitationProblem, InvitationState, NewAward,
    NewBadgeRequest, NewEndorsement, NewInvitation, Store, StoreError,
};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use uuid::Uuid;

backends::suite!(
    store: [
        an_invitation_is_found_by_its_token_hash_and_lists_by_award,
        an_endorsement_uses_its_invitation_once_in_one_transaction,
        expired_revoked_and_unknown_invitations_give_nothing,
        concurrent_uses_of_one_invitation_store_one_endorsement,
        revoking_keeps_the_first_who_and_when_and_never_undoes_a_use,
        a_request_reserves_one_award_id,
        award_documents_are_replaced_only_if_unchanged_with_an_event,
        stored_values_are_bounded_by_the_database,
    ],
);

// ---- fixtures -------------------------------------------------------------------------

fn issuer() -> String {
    format!("ime-{}", Uuid::new_v4().simple())
}

fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

fn invitation(issuer: &str, award_id: Uuid, expires_in: Duration) -> NewInvitation {
    let now = micros(Utc::now());
    NewInvitation {
        id: Uuid::new_v4(),
        issuer_slug: issuer.to_owned(),
        token_sha256: format!("{:064x}", Uuid::new_v4().as_u128()),
        award_id,
        request_id: None,
        badge_class_slug: "securite".into(),
        endorser_kind: EndorserKind::Tutor,
        note: Some("Dites ce que Léa fait.".into()),
        created_by: "api:atelier".into(),
        created_at: now - Duration::days(1),
        expires_at: now - Duration::days(1) + expires_in,
    }
}

fn endorsement(invitation: &NewInvitation) -> NewEndorsement {
    NewEndorsement {
        id: Uuid::new_v4(),
        issuer_slug: invitation.issuer_slug.clone(),
        invitation_id: invitation.id,
        endorser_id: Uuid::new_v4(),
        award_id: invitation.award_id,
        request_id: invitation.request_id,
        endorser_kind: invitation.endorser_kind,
        endorser_name: "Marc Dupont".into(),
        endorser_role: "Tuteur".into(),
        endorser_organisation: Some("Boulangerie Martin".into()),
        comment: "Léa est soigneuse.".into(),
        credential_json: r#"{"type":["VerifiableCredential","EndorsementCredential"]}"#.into(),
        ob2_json: Some(r#"{"type":"Endorsement"}"#.into()),
        created_at: micros(Utc::now()),
    }
}

fn award(issuer: &str) -> NewAward {
    let id = Uuid::new_v4();
    NewAward {
        id,
        issuer_slug: issuer.to_owned(),
        badge_class_slug: "securite".into(),
        badge_class_digest: "ab".repeat(32),
        recipient_identity: format!("sha256${}", "0f".repeat(32)),
        recipient_salt: "sel".into(),
        recipient_name: None,
        credential_id: format!("https://badges.example/credentials/{id}"),
        credential_json: r#"{"proof":"one"}"#.into(),
        credential_jwt: Some("a.b.c".into()),
        rsa_kid: None,
        status_list: None,
        status_index: None,
        assertion_json: Some(r#"{"type":"Assertion"}"#.into()),
        assertion_jws: Some("d.e.f".into()),
        valid_from: micros(Utc::now()),
        valid_until: None,
        issued_by: "api:atelier".into(),
        idempotency_key: None,
        person_key: None,
    }
}

// ---- the suite ------------------------------------------------------------------------

async fn an_invitation_is_found_by_its_token_hash_and_lists_by_award(store: Arc<Store>) {
    let one = issuer();
    let award_id = Uuid::new_v4();
    let new = invitation(&one, award_id, Duration::days(14));
    let stored = store.create_endorsement_invitation(&new).await.unwrap();
    assert_eq!(stored.id, new.id);
    assert_eq!(stored.award_id, award_id);
    assert_eq!(stored.note, new.note);
    assert_eq!(stored.created_at, new.created_at);
    assert_eq!(stored.expires_at, new.expires_at);
    assert_eq!(stored.state(Utc::now()), InvitationState::Pending);
    assert_eq!(stored.endorsement_id, None);
    let found = store
        .find_endorsement_invitation(&new.token_sha256)
        .await
        .unwrap();
    assert_eq!(found.as_ref(), Some(&stored));
    assert!(
        store
            .find_endorsement_invitation(&"0".repeat(64))
            .await
            .unwrap()
            .is_none()
    );
    let second = invitation(&one, award_id, Duration::days(3));
    store.create_endorsement_invitation(&second).await.unwrap();
    store
        .create_endorsement_invitation(&invitation(&one, Uuid::new_v4(), Duration::days(3)))
        .await
        .unwrap();
    let listed: Vec<Uuid> = store
        .endorsement_invitations(award_id)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&new.id) && listed.contains(&second.id));
    // a token is never stored twice
    let mut same_token = invitation(&one, award_id, Duration::days(3));
    same_token.token_sha256 = new.token_sha256.clone();
    assert!(matches!(
        store.create_endorsement_invitation(&same_token).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn an_endorsement_uses_its_invitation_once_in_one_transaction(store: Arc<Store>) {
    let one = issuer();
    let inv = invitation(&one, Uuid::new_v4(), Duration::days(14));
    store.create_endorsement_invitation(&inv).await.unwrap();
    let new = endorsement(&inv);
    let stored = store.insert_endorsement(&new).await.unwrap();
    assert_eq!(stored.id, new.id);
    assert_eq!(stored.endorser_name, "Marc Dupont");
    assert_eq!(stored.created_at, new.created_at);
    assert_eq!(stored.ob2_json, new.ob2_json);
    let used = store
        .get_endorsement_invitation(inv.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.state(Utc::now()), InvitationState::Used);
    assert_eq!(used.used_at, Some(new.created_at));
    assert_eq!(used.endorsement_id, Some(new.id));
    // a second use writes nothing
    let again = endorsement(&inv);
    assert!(matches!(
        store.insert_endorsement(&again).await,
        Err(StoreError::InvitationUnusable(InvitationProblem::Used))
    ));
    assert!(store.get_endorsement(again.id).await.unwrap().is_none());
    assert_eq!(
        store.award_endorsements(inv.award_id).await.unwrap(),
        vec![stored.clone()]
    );
    assert_eq!(
        store
            .endorsement_by_endorser(new.endorser_id)
            .await
            .unwrap(),
        Some(stored)
    );
}

async fn expired_revoked_and_unknown_invitations_give_nothing(store: Arc<Store>) {
    let one = issuer();
    let expired = invitation(&one, Uuid::new_v4(), Duration::hours(1));
    store.create_endorsement_invitation(&expired).await.unwrap();
    assert!(matches!(
        store.insert_endorsement(&endorsement(&expired)).await,
        Err(StoreError::InvitationUnusable(InvitationProblem::Expired))
    ));
    let revoked = invitation(&one, Uuid::new_v4(), Duration::days(14));
    store.create_endorsement_invitation(&revoked).await.unwrap();
    store
        .revoke_endorsement_invitation(revoked.id, "api:atelier")
        .await
        .unwrap();
    assert!(matches!(
        store.insert_endorsement(&endorsement(&revoked)).await,
        Err(StoreError::InvitationUnusable(InvitationProblem::Revoked))
    ));
    let never = invitation(&one, Uuid::new_v4(), Duration::days(14));
    assert!(matches!(
        store.insert_endorsement(&endorsement(&never)).await,
        Err(StoreError::InvitationUnusable(InvitationProblem::Unknown))
    ));
    for award in [expired.award_id, revoked.award_id, never.award_id] {
        assert!(store.award_endorsements(award).await.unwrap().is_empty());
    }
}

async fn concurrent_uses_of_one_invitation_store_one_endorsement(store: Arc<Store>) {
    let inv = invitation(&issuer(), Uuid::new_v4(), Duration::days(14));
    store.create_endorsement_invitation(&inv).await.unwrap();
    let attempts: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            let e = endorsement(&inv);
            tokio::spawn(async move { store.insert_endorsement(&e).await })
        })
        .collect();
    let mut ok = 0;
    for a in attempts {
        match a.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::InvitationUnusable(InvitationProblem::Used)) => {}
            // SQLite: the UNIQUE invitation_id is the last guard
            Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(
        store.award_endorsements(inv.award_id).await.unwrap().len(),
        1
    );
}

async fn revoking_keeps_the_first_who_and_when_and_never_undoes_a_use(store: Arc<Store>) {
    let one = issuer();
    let inv = invitation(&one, Uuid::new_v4(), Duration::days(14));
    store.create_endorsement_invitation(&inv).await.unwrap();
    let first = store
        .revoke_endorsement_invitation(inv.id, "api:a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.revoked_by.as_deref(), Some("api:a"));
    let second = store
        .revoke_endorsement_invitation(inv.id, "api:b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.revoked_by.as_deref(), Some("api:a"));
    assert_eq!(second.revoked_at, first.revoked_at);
    assert!(
        store
            .revoke_endorsement_invitation(Uuid::new_v4(), "api:a")
            .await
            .unwrap()
            .is_none()
    );
    let used = invitation(&one, Uuid::new_v4(), Duration::days(14));
    store.create_endorsement_invitation(&used).await.unwrap();
    store.insert_endorsement(&endorsement(&used)).await.unwrap();
    let after = store
        .revoke_endorsement_invitation(used.id, "api:a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.revoked_at, None);
    assert_eq!(after.state(Utc::now()), InvitationState::Used);
}

async fn a_request_reserves_one_award_id(store: Arc<Store>) {
    let one = issuer();
    let request = NewBadgeRequest {
        id: Uuid::new_v4(),
        issuer_slug: one.clone(),
        badge_class_slug: "securite".into(),
        recipient_identity: format!("sha256${}", "1e".repeat(32)),
        recipient_salt: "sel".into(),
        recipient_name: Some("Léa".into()),
        sealed_recipient: "sealed".into(),
        narrative: None,
        links: vec![],
        requested_by: "Léa".into(),
        submitted_by: "api:atelier".into(),
        person_key: None,
    };
    store.insert_badge_request(&request).await.unwrap();
    assert_eq!(
        store.reserved_request_award_id(request.id).await.unwrap(),
        None
    );
    let first = Uuid::new_v4();
    assert_eq!(
        store
            .reserve_request_award_id(request.id, first)
            .await
            .unwrap(),
        first
    );
    // concurrent reservations all get the first one
    let tries: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .reserve_request_award_id(request.id, Uuid::new_v4())
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tries {
        assert_eq!(t.await.unwrap(), first);
    }
    assert_eq!(
        store.reserved_request_award_id(request.id).await.unwrap(),
        Some(first)
    );
    // an invitation of the request keeps its request
    let mut inv = invitation(&one, first, Duration::days(14));
    inv.request_id = Some(request.id);
    let stored = store.create_endorsement_invitation(&inv).await.unwrap();
    assert_eq!(stored.request_id, Some(request.id));
    // a reservation needs a known request
    assert!(
        store
            .reserve_request_award_id(Uuid::new_v4(), Uuid::new_v4())
            .await
            .is_err()
    );
}

async fn award_documents_are_replaced_only_if_unchanged_with_an_event(store: Arc<Store>) {
    let new = award(&issuer());
    store.insert_award(&new).await.unwrap();
    let docs = |credential: &str| AwardDocuments {
        credential_json: credential.into(),
        rsa_kid: "rsa-2".into(),
        assertion_json: Some(r#"{"type":"Assertion","endorsement":["x"]}"#.into()),
        endorsements: vec![Uuid::nil()],
        actor: "endorser:1".into(),
    };
    let replaced = store
        .replace_award_documents(new.id, &new.credential_json, &docs(r#"{"proof":"two"}"#))
        .await
        .unwrap()
        .expect("swapped");
    assert_eq!(replaced.credential_json, r#"{"proof":"two"}"#);
    // the VC-JWT of the new credential is signed on its next download, with the key named
    assert_eq!(replaced.credential_jwt, None);
    assert_eq!(replaced.rsa_kid.as_deref(), Some("rsa-2"));
    assert_eq!(replaced.assertion_jws, None);
    assert_eq!(replaced.credential_id, new.credential_id);
    assert_eq!(replaced.valid_from, new.valid_from);
    // a stale read writes nothing
    assert!(
        store
            .replace_award_documents(new.id, &new.credential_json, &docs(r#"{"proof":"three"}"#))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .replace_award_documents(Uuid::new_v4(), "{}", &docs("{}"))
            .await
            .unwrap()
            .is_none()
    );
    let now = store.get_award(new.id).await.unwrap().unwrap();
    assert_eq!(now.credential_json, r#"{"proof":"two"}"#);
    let events = store.award_events(new.id).await.unwrap();
    let kinds: Vec<AwardEventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [AwardEventKind::Issued, AwardEventKind::Endorsed]);
    assert_eq!(events[1].actor, "endorser:1");
    assert_eq!(
        events[1].detail["credential_id"],
        new.credential_id.as_str()
    );
    assert_eq!(
        events[1].detail["endorsements"][0],
        Uuid::nil().to_string().as_str()
    );
}

async fn stored_values_are_bounded_by_the_database(store: Arc<Store>) {
    let inv = invitation(&issuer(), Uuid::new_v4(), Duration::days(14));
    store.create_endorsement_invitation(&inv).await.unwrap();
    let mut long = endorsement(&inv);
    long.endorser_name = "x".repeat(201);
    assert!(store.insert_endorsement(&long).await.is_err());
    let mut empty = endorsement(&inv);
    empty.comment = String::new();
    assert!(store.insert_endorsement(&empty).await.is_err());
    // nothing written, the invitation still usable
    assert!(
        store
            .award_endorsements(inv.award_id)
            .await
            .unwrap()
            .is_empty()
    );
    store.insert_endorsement(&endorsement(&inv)).await.unwrap();
    let mut backwards = invitation(&issuer(), Uuid::new_v4(), Duration::days(14));
    backwards.expires_at = backwards.created_at - Duration::days(1);
    assert!(
        store
            .create_endorsement_invitation(&backwards)
            .await
            .is_err()
    );
}
