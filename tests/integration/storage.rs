//! One storage suite for every backend: each test is an async function that only sees
//! `Arc<Store>`, declared by `backends::suite!` for SQLite always and for PostgreSQL (a fresh
//! schema per test) when `TEST_DATABASE_URL` is set, e.g.
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test --test integration storage::`.

use std::sync::Arc;

use crate::common::backends;
use crate::common::cli::Cli;
use carnet::store::{
    self, AwardEventKind, ConflictOn, NewAward, Rs256Form, StatusPurpose, StatusSlot, Store,
    StoreError, StoreOptions,
};
use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

// ---- fixtures -------------------------------------------------------------------------

/// An award for `issuer` with every field filled in and unique ids.
pub(crate) fn sample(issuer: &str) -> NewAward {
    let id = Uuid::new_v4();
    NewAward {
        id,
        issuer_slug: issuer.to_owned(),
        badge_class_slug: "cuisine-niveau-1".to_owned(),
        badge_class_digest: format!("sha256:{}", "ab".repeat(32)),
        recipient_identity: format!("sha256${}", "0f".repeat(32)),
        recipient_salt: "grain-de-sel".to_owned(),
        recipient_name: Some("Élodie Martin".to_owned()),
        credential_id: format!("https://badges.example/{issuer}/credentials/{id}"),
        credential_json: r#"{"type":["VerifiableCredential","OpenBadgeCredential"],"proof":{}}"#
            .to_owned(),
        credential_jwt: Some("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln".to_owned()),
        rsa_kid: Some("rsa-1".to_owned()),
        status_list: None,
        status_index: None,
        assertion_json: Some(format!(
            r#"{{"@context":"https://w3id.org/openbadges/v2","type":"Assertion","id":"https://badges.example/{issuer}/assertions/{id}"}}"#
        )),
        assertion_jws: Some("eyJhbGciOiJSUzI1NiJ9.eyJ0eXBlIjoiQXNzZXJ0aW9uIn0.c2ln".to_owned()),
        // nanoseconds on purpose: both backends keep microseconds
        valid_from: at("2025-09-01T08:30:00.123456789Z"),
        valid_until: Some(at("2028-09-01T08:30:00Z")),
        issued_by: "cli:educatrice".to_owned(),
        idempotency_key: Some(format!("bulk-{id}")),
        person_key: None,
    }
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn issuer() -> String {
    format!("ime-{}", Uuid::new_v4().simple())
}

backends::suite!(
    store: [
        badge_class_versions_keep_the_first_document,
        insert_then_get_returns_every_field,
        unknown_award_is_none,
        duplicate_credential_id_is_a_conflict_and_keeps_the_first,
        duplicate_award_id_is_a_conflict,
        duplicate_idempotency_key_is_a_conflict_within_one_issuer,
        find_by_idempotency_key_finds_the_award,
        list_and_count_page_through_one_issuer,
        insert_records_the_issued_event,
        failing_event_insert_leaves_no_award,
        clear_email_is_refused,
        ping_answers,
        allocation_is_unique_under_concurrency,
        award_status_slots_must_be_allocated_and_unique,
        revoke_records_the_reason_and_an_event,
        revoking_twice_is_refused_and_keeps_the_first_reason,
        revoking_an_unknown_award_is_not_found,
        concurrent_revocations_of_one_award_let_one_win,
        failing_revocation_event_leaves_the_award_valid,
        revoked_in_list_returns_exactly_the_revoked_indexes,
        revoked_awards_lists_one_issuers_revocations,
        referentiel_versions_are_kept_and_reimporting_is_harmless,
        carnet_round_trips_with_its_entries_and_event,
        carnet_needs_its_referentiel_version,
        one_carnet_per_person_and_referentiel_version,
        failing_entry_insert_leaves_no_carnet,
        saving_an_entry_bumps_the_revision_and_records_before_and_after,
        a_stale_or_unknown_edit_writes_nothing,
        concurrent_edits_of_one_carnet_let_one_win,
        bulk_job_is_stored_with_all_its_rows_before_anything_is_issued,
        one_node_holds_a_job_lease_until_it_expires_or_is_given_back,
        api_tokens_are_found_by_hash_until_revoked_and_used_to_the_minute,
        resending_an_unfinished_file_finds_its_job,
        finishing_a_row_counts_it_once_and_erases_its_data,
        markings_are_all_or_nothing_and_name_stored_awards,
        concurrent_markings_of_one_row_count_it_once,
        concurrent_submissions_of_one_file_make_one_job,
        unfinished_jobs_are_listed_oldest_first_per_issuer,
        badge_request_round_trips_with_its_submitted_event,
        request_transitions_follow_the_state_machine_and_record_who_and_when,
        refused_transitions_write_nothing,
        links_are_corrected_with_an_event_only_while_the_request_is_open,
        approval_needs_a_stored_award_and_concurrent_approvals_let_one_win,
        evidence_is_kept_with_its_content_and_deduplicated_per_request,
        evidence_is_refused_on_closed_or_unknown_requests,
        evidence_shares_are_found_by_token_hash_until_revoked,
        insert_awards_stores_all_or_nothing_and_skips_taken_keys,
        deferred_rs256_forms_are_stored_once,
    ],
    url: [
        reopening_runs_migrations_again_without_harm,
        allocation_opens_the_next_list_when_the_newest_is_full,
        batch_allocation_spans_lists_and_never_overlaps,
    ],
);

// ---- the suite ------------------------------------------------------------------------

async fn insert_awards_stores_all_or_nothing_and_skips_taken_keys(store: Arc<Store>) {
    let one = issuer();
    let first = store.insert_award(&sample(&one)).await.unwrap();
    let (a, c) = (sample(&one), sample(&one));
    let taken = NewAward {
        idempotency_key: first.idempotency_key.clone(),
        ..sample(&one)
    };
    let stored = store
        .insert_awards(&[a.clone(), taken.clone(), c.clone()])
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0].as_ref().map(|x| x.id), Some(a.id));
    assert!(stored[1].is_none(), "a taken key is skipped, not an error");
    assert_eq!(stored[2].as_ref().map(|x| x.id), Some(c.id));
    assert!(store.get_award(taken.id).await.unwrap().is_none());
    for id in [a.id, c.id] {
        let events = store.award_events(id).await.unwrap();
        assert_eq!(events.len(), 1, "each stored award has its issued event");
        assert_eq!(events[0].kind, AwardEventKind::Issued);
    }
    // the same key twice in one call: the second is skipped
    let key = Some(format!("twice-{}", Uuid::new_v4()));
    let (d, e) = (
        NewAward {
            idempotency_key: key.clone(),
            ..sample(&one)
        },
        NewAward {
            idempotency_key: key,
            ..sample(&one)
        },
    );
    let stored = store.insert_awards(&[d.clone(), e.clone()]).await.unwrap();
    assert!(stored[0].is_some() && stored[1].is_none());
    // any other conflict fails the whole call: nothing of it is stored
    let f = sample(&one);
    let clash = NewAward {
        credential_id: a.credential_id.clone(),
        ..sample(&one)
    };
    let refused = store.insert_awards(&[f.clone(), clash]).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert!(
        store.get_award(f.id).await.unwrap().is_none(),
        "all or nothing"
    );
    // and so does a status slot never handed out
    let g = sample(&one);
    let unallocated = NewAward {
        status_list: Some(0),
        status_index: Some(999_999),
        ..sample(&one)
    };
    let refused = store.insert_awards(&[g.clone(), unallocated]).await;
    assert!(
        matches!(refused, Err(StoreError::UnallocatedStatusSlot(_))),
        "{refused:?}"
    );
    assert!(store.get_award(g.id).await.unwrap().is_none());
    assert!(store.insert_awards(&[]).await.unwrap().is_empty());
}

async fn batch_allocation_spans_lists_and_never_overlaps(_store: Arc<Store>, url: String) {
    let small = store::open_with(
        &url,
        StoreOptions {
            status_list_size: 4,
        },
    )
    .await
    .expect("open with small lists");
    let one = issuer();
    let mut first = small
        .allocate_status_indices(&one, StatusPurpose::Revocation, 3)
        .await
        .unwrap();
    assert_eq!(by_list(&first).0, [0, 0, 0]);
    let single = small.allocate_status_index(&one, StatusPurpose::Revocation);
    first.push(single.await.unwrap());
    let (lists, indexes) = by_list(&first);
    assert_eq!(
        (lists, &indexes[&0]),
        (vec![0, 0, 0, 0], &vec![0, 1, 2, 3]),
        "list 0 full"
    );
    let batch = small.allocate_status_indices(&one, StatusPurpose::Revocation, 6);
    let (lists, indexes) = by_list(&batch.await.unwrap());
    assert_eq!(lists, [1, 1, 1, 1, 2, 2]);
    assert_eq!((indexes[&1].len(), indexes[&2].len()), (4, 2));
    let info = small.status_list(&one, StatusPurpose::Revocation, 2).await;
    assert_eq!(info.unwrap().unwrap().allocated, 2);
    assert!(
        small
            .allocate_status_indices(&one, StatusPurpose::Revocation, 0)
            .await
            .unwrap()
            .is_empty()
    );
    // concurrent batches and single allocations: every slot once, lists filled in order
    let other = issuer();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..8u32 {
        let (store, other) = (small.clone(), other.clone());
        tasks.spawn(async move {
            if n % 2 == 0 {
                store
                    .allocate_status_indices(&other, StatusPurpose::Revocation, n + 1)
                    .await
                    .unwrap()
            } else {
                vec![
                    store
                        .allocate_status_index(&other, StatusPurpose::Revocation)
                        .await
                        .unwrap(),
                ]
            }
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done.unwrap());
    }
    all.sort_by_key(|s| (s.list, s.index));
    // 1 + 3 + 5 + 7 (batches) + 4 (singles) = 20 slots: lists 0 to 4, all full
    let expected: Vec<StatusSlot> = (0..20).map(|n| slot(n / 4, n % 4)).collect();
    assert_eq!(all, expected);
    small.close().await;
}

async fn insert_then_get_returns_every_field(store: Arc<Store>) {
    let new = sample(&issuer());
    let before = Utc::now().trunc_subsecs(6);
    let inserted = store.insert_award(&new).await.unwrap();
    let after = Utc::now();

    assert_eq!(inserted.id, new.id);
    assert_eq!(inserted.issuer_slug, new.issuer_slug);
    assert_eq!(inserted.badge_class_slug, new.badge_class_slug);
    assert_eq!(inserted.badge_class_digest, new.badge_class_digest);
    assert_eq!(inserted.recipient_identity, new.recipient_identity);
    assert_eq!(inserted.recipient_salt, new.recipient_salt);
    assert_eq!(inserted.recipient_name.as_deref(), Some("Élodie Martin"));
    assert_eq!(inserted.credential_id, new.credential_id);
    assert_eq!(inserted.credential_json, new.credential_json);
    assert_eq!(inserted.credential_jwt, new.credential_jwt);
    assert_eq!(inserted.rsa_kid.as_deref(), Some("rsa-1"));
    assert_eq!(inserted.assertion_json, new.assertion_json);
    assert_eq!(inserted.assertion_jws, new.assertion_jws);
    assert_eq!((inserted.status_list, inserted.status_index), (None, None));
    assert_eq!(inserted.valid_from, at("2025-09-01T08:30:00.123456Z"));
    assert_eq!(inserted.valid_until, new.valid_until);
    assert_eq!(inserted.issued_by, new.issued_by);
    assert_eq!(inserted.idempotency_key, new.idempotency_key);
    assert!(before <= inserted.created_at && inserted.created_at <= after);
    assert_eq!(inserted.revoked_at, None);
    assert_eq!(inserted.revocation_reason, None);

    let by_id = store.get_award(new.id).await.unwrap();
    assert_eq!(by_id.as_ref(), Some(&inserted));
    let by_credential = store.get_award_by_credential_id(&new.credential_id).await;
    assert_eq!(by_credential.unwrap().as_ref(), Some(&inserted));

    // and with every optional field empty
    let bare = NewAward {
        recipient_name: None,
        valid_until: None,
        idempotency_key: None,
        assertion_json: None,
        assertion_jws: None,
        ..sample(&new.issuer_slug)
    };
    let inserted = store.insert_award(&bare).await.unwrap();
    assert_eq!(inserted.recipient_name, None);
    assert_eq!(inserted.valid_until, None);
    assert_eq!(inserted.idempotency_key, None);
    assert_eq!(inserted.assertion_json, None);
    assert_eq!(inserted.assertion_jws, None);
    assert_eq!(store.get_award(bare.id).await.unwrap(), Some(inserted));
}

/// Awards are stored without their RS256 forms (signed on the first download, migration 0009):
/// each is stored once, never replaced; an award needs them or the key that will sign them.
async fn deferred_rs256_forms_are_stored_once(store: Arc<Store>) {
    let mut new = sample(&issuer());
    new.credential_jwt = None;
    let stored = store.insert_award(&new).await.unwrap();
    assert_eq!(stored.credential_jwt, None);
    assert_eq!(stored.rsa_kid.as_deref(), Some("rsa-1"));
    assert_eq!(store.get_award(new.id).await.unwrap(), Some(stored));
    let jwt = Rs256Form::VcJwt;
    assert!(store.set_signed_form(new.id, jwt, "h.p.s").await.unwrap());
    // a second download signed the same bytes: nothing changes
    assert!(!store.set_signed_form(new.id, jwt, "o.t.h").await.unwrap());
    let signed = store.get_award(new.id).await.unwrap().unwrap();
    assert_eq!(signed.credential_jwt.as_deref(), Some("h.p.s"));
    assert!(
        !store
            .set_signed_form(Uuid::new_v4(), jwt, "h.p.s")
            .await
            .unwrap()
    );
    // the OB 2.0 signed assertion likewise
    let mut hosted_only = sample(&issuer());
    hosted_only.assertion_jws = None;
    store.insert_award(&hosted_only).await.unwrap();
    let (id, jws) = (hosted_only.id, Rs256Form::Ob2Jws);
    assert!(store.set_signed_form(id, jws, "o.b.2").await.unwrap());
    assert!(!store.set_signed_form(id, jws, "o.t.h").await.unwrap());
    let signed = store.get_award(id).await.unwrap().unwrap();
    assert_eq!(signed.assertion_jws.as_deref(), Some("o.b.2"));
    // an award without OB 2.0 form gets none
    let mut no_ob2 = sample(&issuer());
    (no_ob2.assertion_json, no_ob2.assertion_jws) = (None, None);
    store.insert_award(&no_ob2).await.unwrap();
    assert!(
        !store
            .set_signed_form(no_ob2.id, jws, "o.b.2")
            .await
            .unwrap()
    );
    let kept = store.get_award(no_ob2.id).await.unwrap().unwrap();
    assert_eq!((kept.assertion_json, kept.assertion_jws), (None, None));
    // an award with a form to sign and no key to sign it is refused, and nothing is written
    for (jwt, jws) in [(None, Some("a.b.c")), (Some("a.b.c"), None)] {
        let mut keyless = sample(&issuer());
        keyless.credential_jwt = jwt.map(str::to_owned);
        keyless.assertion_jws = jws.map(str::to_owned);
        keyless.rsa_kid = None;
        assert!(store.insert_award(&keyless).await.is_err());
        assert_eq!(store.get_award(keyless.id).await.unwrap(), None);
    }
}

async fn unknown_award_is_none(store: Arc<Store>) {
    store.insert_award(&sample(&issuer())).await.unwrap();
    assert_eq!(store.get_award(Uuid::new_v4()).await.unwrap(), None);
    let by_credential = store.get_award_by_credential_id("urn:uuid:nobody").await;
    assert_eq!(by_credential.unwrap(), None);
    let by_key = store.find_by_idempotency_key("ime-x", "nope").await;
    assert_eq!(by_key.unwrap(), None);
    assert!(store.award_events(Uuid::new_v4()).await.unwrap().is_empty());
}

async fn duplicate_credential_id_is_a_conflict_and_keeps_the_first(store: Arc<Store>) {
    let first = sample(&issuer());
    let stored = store.insert_award(&first).await.unwrap();
    let second = NewAward {
        credential_id: first.credential_id.clone(),
        recipient_name: Some("Someone Else".to_owned()),
        ..sample(&first.issuer_slug)
    };

    let error = store.insert_award(&second).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict(ConflictOn::CredentialId)),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "an award with the same credential id already exists"
    );
    let kept = store.get_award_by_credential_id(&first.credential_id).await;
    assert_eq!(kept.unwrap(), Some(stored));
    assert_eq!(store.get_award(second.id).await.unwrap(), None);
    assert!(store.award_events(second.id).await.unwrap().is_empty());
    assert_eq!(store.count_awards(&first.issuer_slug).await.unwrap(), 1);
}

async fn duplicate_award_id_is_a_conflict(store: Arc<Store>) {
    let first = sample(&issuer());
    store.insert_award(&first).await.unwrap();
    let again = NewAward {
        id: first.id,
        ..sample(&first.issuer_slug)
    };
    let error = store.insert_award(&again).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict(ConflictOn::AwardId)),
        "{error:?}"
    );
    assert_eq!(store.award_events(first.id).await.unwrap().len(), 1);
}

async fn duplicate_idempotency_key_is_a_conflict_within_one_issuer(store: Arc<Store>) {
    let (one, other) = (issuer(), issuer());
    let first = NewAward {
        idempotency_key: Some("row-17".to_owned()),
        ..sample(&one)
    };
    store.insert_award(&first).await.unwrap();

    let retry = NewAward {
        idempotency_key: Some("row-17".to_owned()),
        ..sample(&one)
    };
    let error = store.insert_award(&retry).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict(ConflictOn::IdempotencyKey)),
        "{error:?}"
    );
    assert_eq!(store.get_award(retry.id).await.unwrap(), None);

    // the same key at another issuer is another award
    let elsewhere = NewAward {
        idempotency_key: Some("row-17".to_owned()),
        ..sample(&other)
    };
    store.insert_award(&elsewhere).await.unwrap();
    // awards without a key never collide
    for _ in 0..2 {
        let unkeyed = NewAward {
            idempotency_key: None,
            ..sample(&one)
        };
        store.insert_award(&unkeyed).await.unwrap();
    }
    assert_eq!(store.count_awards(&one).await.unwrap(), 3);
}

async fn find_by_idempotency_key_finds_the_award(store: Arc<Store>) {
    let (one, other) = (issuer(), issuer());
    let award = NewAward {
        idempotency_key: Some("csv-2025-09:line-4".to_owned()),
        ..sample(&one)
    };
    let stored = store.insert_award(&award).await.unwrap();
    store.insert_award(&sample(&one)).await.unwrap();

    let found = store
        .find_by_idempotency_key(&one, "csv-2025-09:line-4")
        .await;
    assert_eq!(found.unwrap(), Some(stored));
    let wrong_issuer = store
        .find_by_idempotency_key(&other, "csv-2025-09:line-4")
        .await;
    assert_eq!(wrong_issuer.unwrap(), None);
    let wrong_key = store
        .find_by_idempotency_key(&one, "csv-2025-09:line-5")
        .await;
    assert_eq!(wrong_key.unwrap(), None);
}

async fn list_and_count_page_through_one_issuer(store: Arc<Store>) {
    let (one, other) = (issuer(), issuer());
    let mut ids = Vec::new();
    for _ in 0..7 {
        ids.push(store.insert_award(&sample(&one)).await.unwrap().id);
    }
    for _ in 0..3 {
        store.insert_award(&sample(&other)).await.unwrap();
    }

    assert_eq!(store.count_awards(&one).await.unwrap(), 7);
    assert_eq!(store.count_awards(&other).await.unwrap(), 3);
    assert_eq!(store.count_awards("ime-nobody").await.unwrap(), 0);

    let mut listed: Vec<carnet::store::Award> = Vec::new();
    for page in 0..3 {
        let after = listed.last().map(|a| a.cursor());
        let awards = store.list_awards(&one, 3, after).await.unwrap();
        assert_eq!(awards.len(), [3, 3, 1][page as usize], "page {page}");
        assert!(awards.iter().all(|award| award.issuer_slug == one));
        listed.extend(awards);
    }
    // newest first, and the pages neither overlap nor miss an award
    assert!(
        listed
            .windows(2)
            .all(|pair| pair[0].created_at >= pair[1].created_at)
    );
    let mut listed_ids: Vec<Uuid> = listed.iter().map(|award| award.id).collect();
    listed_ids.sort();
    ids.sort();
    assert_eq!(listed_ids, ids);
    let last = listed.last().map(|a| a.cursor());
    assert!(store.list_awards(&one, 3, last).await.unwrap().is_empty());
    assert!(store.list_awards(&one, 0, None).await.unwrap().is_empty());
    // a page holds the awards of one class only, and pages the same way
    let first = store
        .list_awards_of_class(&one, "cuisine-niveau-1", 4, None)
        .await
        .unwrap();
    let rest = store
        .list_awards_of_class(
            &one,
            "cuisine-niveau-1",
            4,
            first.last().map(|a| a.cursor()),
        )
        .await
        .unwrap();
    assert_eq!((first.len(), rest.len()), (4, 3));
    assert!(
        store
            .list_awards_of_class(&one, "autre", 4, None)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn insert_records_the_issued_event(store: Arc<Store>) {
    let new = sample(&issuer());
    let award = store.insert_award(&new).await.unwrap();
    let events = store.award_events(new.id).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.kind, AwardEventKind::Issued);
    assert_eq!(event.actor, "cli:educatrice");
    assert_eq!(event.at, award.created_at);
    assert_eq!(event.detail["credential_id"], new.credential_id.as_str());
    assert_eq!(
        event.detail["badge_class_digest"],
        new.badge_class_digest.as_str()
    );
    // the audit trail never holds the recipient
    let detail = event.detail.to_string();
    assert!(!detail.contains(&new.recipient_identity) && !detail.contains("Élodie"));
}

/// The award row is valid, but the "issued" event built from it breaks the CHECK on the
/// event detail size (a credential id this long does not fit in the 4096-character audit
/// detail): the second statement of the transaction fails, and the first must be undone.
async fn failing_event_insert_leaves_no_award(store: Arc<Store>) {
    let new = NewAward {
        credential_id: format!("urn:example:{}", "x".repeat(5000)),
        ..sample(&issuer())
    };
    let error = store.insert_award(&new).await.unwrap_err();
    let StoreError::Database(sqlx::Error::Database(db)) = &error else {
        panic!("expected a database error, got {error:?}");
    };
    assert_eq!(db.kind(), sqlx::error::ErrorKind::CheckViolation);
    // the event insert failed, not the award insert
    assert!(db.message().contains("award_events_detail_size"), "{db}");

    assert_eq!(store.get_award(new.id).await.unwrap(), None);
    let by_credential = store.get_award_by_credential_id(&new.credential_id).await;
    assert_eq!(by_credential.unwrap(), None);
    assert!(store.award_events(new.id).await.unwrap().is_empty());
    assert_eq!(store.count_awards(&new.issuer_slug).await.unwrap(), 0);

    // nothing is left behind that would block the same award done right
    let fixed = NewAward {
        credential_id: "urn:example:short".to_owned(),
        ..new
    };
    store.insert_award(&fixed).await.unwrap();
    assert_eq!(store.award_events(fixed.id).await.unwrap().len(), 1);
}

async fn clear_email_is_refused(store: Arc<Store>) {
    let new = NewAward {
        recipient_identity: "elodie@example.org".to_owned(),
        ..sample(&issuer())
    };
    let error = store.insert_award(&new).await.unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert_eq!(store.get_award(new.id).await.unwrap(), None);
}

async fn ping_answers(store: Arc<Store>) {
    store.ping().await.unwrap();
}

async fn reopening_runs_migrations_again_without_harm(store: Arc<Store>, url: String) {
    let stored = store.insert_award(&sample(&issuer())).await.unwrap();
    // while the first store is still open
    let again = store::open(&url).await.expect("reopen");
    assert_eq!(
        again.get_award(stored.id).await.unwrap(),
        Some(stored.clone())
    );
    again.insert_award(&sample(&issuer())).await.unwrap();
    again.close().await;
    assert_eq!(store.count_awards(&stored.issuer_slug).await.unwrap(), 1);
}

// ---- status lists and revocation --------------------------------------------------------

/// An award of `issuer` carrying a freshly allocated revocation slot.
async fn award_with_slot(store: &Store, issuer: &str) -> carnet::store::Award {
    let slot = store
        .allocate_status_index(issuer, StatusPurpose::Revocation)
        .await
        .unwrap();
    let new = NewAward {
        status_list: Some(slot.list),
        status_index: Some(slot.index),
        ..sample(issuer)
    };
    let award = store.insert_award(&new).await.unwrap();
    assert_eq!(award.status_slot(), Some(slot));
    award
}

fn slot(list: u32, index: u32) -> StatusSlot {
    StatusSlot { list, index }
}

/// Allocates `count` slots at once, each in its own task, and returns them sorted.
/// The lists of `slots`, in order, and the indexes handed out in each (slots come in an order
/// no one can guess: `status/shuffle.rs`).
fn by_list(slots: &[StatusSlot]) -> (Vec<u32>, std::collections::BTreeMap<u32, Vec<u32>>) {
    let mut indexes = std::collections::BTreeMap::<u32, Vec<u32>>::new();
    for s in slots {
        indexes.entry(s.list).or_default().push(s.index);
    }
    for list in indexes.values_mut() {
        list.sort();
        assert!(
            list.windows(2).all(|w| w[0] < w[1]),
            "a slot twice: {slots:?}"
        );
    }
    (slots.iter().map(|s| s.list).collect(), indexes)
}

async fn allocate_concurrently(store: &Arc<Store>, issuer: &str, count: usize) -> Vec<StatusSlot> {
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let (store, issuer) = (store.clone(), issuer.to_owned());
            tokio::spawn(async move {
                store
                    .allocate_status_index(&issuer, StatusPurpose::Revocation)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut slots = Vec::new();
    for task in tasks {
        slots.push(task.await.unwrap());
    }
    slots.sort();
    slots
}

async fn allocation_is_unique_under_concurrency(store: Arc<Store>) {
    let (one, other) = (issuer(), issuer());
    let slots = allocate_concurrently(&store, &one, 50).await;
    // all distinct, in list 0, in an order no one can guess
    let (lists, indexes) = by_list(&slots);
    assert_eq!((lists.len(), indexes[&0].len()), (50, 50));
    assert_ne!(
        indexes[&0],
        (0..50).collect::<Vec<u32>>(),
        "not handed out in order"
    );

    // each issuer and each purpose has lists of its own
    let suspension = store
        .allocate_status_index(&one, StatusPurpose::Suspension)
        .await;
    assert_eq!(suspension.unwrap().list, 0);
    let elsewhere = store
        .allocate_status_index(&other, StatusPurpose::Revocation)
        .await;
    assert_eq!(elsewhere.unwrap().list, 0);
    let next = store
        .allocate_status_index(&one, StatusPurpose::Revocation)
        .await
        .unwrap();
    assert_eq!(next.list, 0);
    assert!(!slots.contains(&next), "a slot never handed out twice");

    let info = store
        .status_list(&one, StatusPurpose::Revocation, 0)
        .await
        .unwrap()
        .expect("list 0 is open");
    assert_eq!(
        (info.issuer_slug.as_str(), info.purpose, info.list),
        (one.as_str(), StatusPurpose::Revocation, 0)
    );
    assert_eq!((info.size, info.allocated, info.revision), (131_072, 51, 0));
    assert_eq!(info.created_at, info.updated_at);
    let unopened = store.status_list(&one, StatusPurpose::Revocation, 1).await;
    assert_eq!(unopened.unwrap(), None);
}

async fn allocation_opens_the_next_list_when_the_newest_is_full(store: Arc<Store>, url: String) {
    let small = store::open_with(
        &url,
        StoreOptions {
            status_list_size: 4,
        },
    )
    .await
    .expect("open with small lists");
    let one = issuer();
    let mut slots = Vec::new();
    for _ in 0..9 {
        let allocated = small.allocate_status_index(&one, StatusPurpose::Revocation);
        slots.push(allocated.await.unwrap());
    }
    let (lists, indexes) = by_list(&slots);
    assert_eq!(lists, [0, 0, 0, 0, 1, 1, 1, 1, 2]);
    assert_eq!(
        (&indexes[&0], &indexes[&1]),
        (&vec![0, 1, 2, 3], &vec![0, 1, 2, 3])
    );
    let first_of_list_2 = slots[8];
    let full = small.status_list(&one, StatusPurpose::Revocation, 0).await;
    let full = full.unwrap().unwrap();
    assert_eq!((full.size, full.allocated), (4, 4));

    // many list boundaries crossed at once: no slot twice, and no list left with room
    let other = issuer();
    let slots = allocate_concurrently(&small, &other, 50).await;
    let (_, indexes) = by_list(&slots);
    assert_eq!(indexes.len(), 13, "lists 0 to 12");
    assert!(
        indexes
            .range(..12)
            .all(|(_, full)| full == &vec![0, 1, 2, 3])
    );
    assert_eq!(indexes[&12].len(), 2);

    // a list keeps the size it was opened with, whoever allocates from it
    let next = store.allocate_status_index(&one, StatusPurpose::Revocation);
    let next = next.await.unwrap();
    assert_eq!(next.list, 2);
    assert!(next.index < 4 && next != first_of_list_2);
    small.close().await;
}

async fn award_status_slots_must_be_allocated_and_unique(store: Arc<Store>) {
    let (one, other) = (issuer(), issuer());
    let with_slot = |issuer: &str, list, index| NewAward {
        status_list: Some(list),
        status_index: Some(index),
        ..sample(issuer)
    };
    // no list was ever opened
    let never = with_slot(&one, 0, 0);
    let error = store.insert_award(&never).await.unwrap_err();
    assert!(
        matches!(error, StoreError::UnallocatedStatusSlot(s) if s == slot(0, 0)),
        "{error:?}"
    );
    assert_eq!(store.get_award(never.id).await.unwrap(), None);

    let allocated = store
        .allocate_status_index(&one, StatusPurpose::Revocation)
        .await
        .unwrap();
    // past what was handed out, and another issuer's slot
    for refused in [
        with_slot(&one, 0, allocated.index + 1),
        with_slot(&other, 0, 0),
    ] {
        let error = store.insert_award(&refused).await.unwrap_err();
        assert!(
            matches!(error, StoreError::UnallocatedStatusSlot(_)),
            "{error:?}"
        );
    }

    let first = with_slot(&one, allocated.list, allocated.index);
    store.insert_award(&first).await.unwrap();
    let again = with_slot(&one, allocated.list, allocated.index);
    let error = store.insert_award(&again).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict(ConflictOn::StatusSlot)),
        "{error:?}"
    );
    assert_eq!(store.get_award(again.id).await.unwrap(), None);

    // half a slot is refused by the database
    let half = NewAward {
        status_list: Some(0),
        status_index: None,
        ..sample(&one)
    };
    let error = store.insert_award(&half).await.unwrap_err();
    let StoreError::Database(sqlx::Error::Database(db)) = &error else {
        panic!("expected a database error, got {error:?}");
    };
    assert_eq!(db.kind(), sqlx::error::ErrorKind::CheckViolation, "{db}");
    assert_eq!(store.count_awards(&one).await.unwrap(), 1);
}

async fn revoke_records_the_reason_and_an_event(store: Arc<Store>) {
    let award = award_with_slot(&store, &issuer()).await;
    let before = Utc::now().trunc_subsecs(6);
    let revoked = store
        .revoke_award(
            &award.issuer_slug,
            award.id,
            "attribué par erreur",
            "cli:directrice",
        )
        .await
        .unwrap();
    let after = Utc::now();

    let at = revoked.revoked_at.expect("revoked");
    assert!(before <= at && at <= after);
    assert_eq!(
        revoked.revocation_reason.as_deref(),
        Some("attribué par erreur")
    );
    // nothing else changed
    let unrevoked = carnet::store::Award {
        revoked_at: None,
        revocation_reason: None,
        ..revoked.clone()
    };
    assert_eq!(unrevoked, award);
    assert_eq!(store.get_award(award.id).await.unwrap(), Some(revoked));

    let events = store.award_events(award.id).await.unwrap();
    let kinds: Vec<AwardEventKind> = events.iter().map(|event| event.kind).collect();
    assert_eq!(kinds, [AwardEventKind::Issued, AwardEventKind::Revoked]);
    let event = &events[1];
    assert_eq!((event.actor.as_str(), event.at), ("cli:directrice", at));
    assert_eq!(event.detail["reason"], "attribué par erreur");
    assert_eq!(event.detail["credential_id"], award.credential_id.as_str());
    assert_eq!(event.detail["status_index"], award.status_index.unwrap());

    // the list's revision moved in the same transaction
    let info = store
        .status_list(&award.issuer_slug, StatusPurpose::Revocation, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((info.revision, info.updated_at), (1, at));
}

async fn revoking_twice_is_refused_and_keeps_the_first_reason(store: Arc<Store>) {
    let award = award_with_slot(&store, &issuer()).await;
    let first = store
        .revoke_award(&award.issuer_slug, award.id, "erreur de saisie", "cli:a")
        .await
        .unwrap();
    let error = store
        .revoke_award(&award.issuer_slug, award.id, "une autre raison", "cli:b")
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::AlreadyRevoked { id, revoked_at }
            if id == award.id && Some(revoked_at) == first.revoked_at),
        "{error:?}"
    );
    assert!(error.to_string().contains("already revoked"), "{error}");
    assert_eq!(store.get_award(award.id).await.unwrap(), Some(first));
    assert_eq!(store.award_events(award.id).await.unwrap().len(), 2);
    let info = store
        .status_list(&award.issuer_slug, StatusPurpose::Revocation, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.revision, 1);
}

async fn revoking_an_unknown_award_is_not_found(store: Arc<Store>) {
    let known = store.insert_award(&sample(&issuer())).await.unwrap();
    let id = Uuid::new_v4();
    let error = store
        .revoke_award(&known.issuer_slug, id, "inconnu", "cli:a")
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::AwardNotFound(missing) if missing == id),
        "{error:?}"
    );
    // another institution's award is unknown to this one, and stays in force
    let error = store
        .revoke_award(&issuer(), known.id, "pas le mien", "cli:a")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::AwardNotFound(_)), "{error:?}");
    assert!(
        store
            .get_award(known.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    let error = store
        .revoke_award(&known.issuer_slug, id, "inconnu", "cli:a")
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::AwardNotFound(missing) if missing == id),
        "{error:?}"
    );
    assert!(error.to_string().contains(&id.to_string()), "{error}");
    assert!(store.award_events(id).await.unwrap().is_empty());
}

async fn concurrent_revocations_of_one_award_let_one_win(store: Arc<Store>) {
    let award = award_with_slot(&store, &issuer()).await;
    let (a, b) = tokio::join!(
        store.revoke_award(&award.issuer_slug, award.id, "raison a", "cli:a"),
        store.revoke_award(&award.issuer_slug, award.id, "raison b", "cli:b"),
    );
    let (won, lost) = match (a, b) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("expected exactly one revocation to succeed: {other:?}"),
    };
    assert!(
        matches!(lost, StoreError::AlreadyRevoked { .. }),
        "{lost:?}"
    );
    assert_eq!(store.get_award(award.id).await.unwrap(), Some(won));
    let events = store.award_events(award.id).await.unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
}

/// The award update succeeds, then the "revoked" event breaks the CHECK on the audit detail
/// size: the whole revocation must be undone, so that the award is not silently withdrawn
/// without a trace (or withdrawn in the status list but not in the audit trail).
async fn failing_revocation_event_leaves_the_award_valid(store: Arc<Store>) {
    let award = award_with_slot(&store, &issuer()).await;
    let error = store
        .revoke_award(&award.issuer_slug, award.id, &"x".repeat(5000), "cli:a")
        .await
        .unwrap_err();
    let StoreError::Database(sqlx::Error::Database(db)) = &error else {
        panic!("expected a database error, got {error:?}");
    };
    assert!(db.message().contains("award_events_detail_size"), "{db}");

    assert_eq!(
        store.get_award(award.id).await.unwrap(),
        Some(award.clone())
    );
    assert_eq!(store.award_events(award.id).await.unwrap().len(), 1);
    let issuer = &award.issuer_slug;
    let in_list = store.revoked_in_list(issuer, StatusPurpose::Revocation, 0);
    assert!(in_list.await.unwrap().is_empty());
    assert!(store.revoked_awards(issuer).await.unwrap().is_empty());
    let info = store
        .status_list(issuer, StatusPurpose::Revocation, 0)
        .await;
    assert_eq!(info.unwrap().unwrap().revision, 0);

    // and it can still be revoked properly
    store
        .revoke_award(&award.issuer_slug, award.id, "raison", "cli:a")
        .await
        .unwrap();
}

async fn revoked_in_list_returns_exactly_the_revoked_indexes(store: Arc<Store>) {
    let (one, other) = (issuer(), issuer());
    let mut awards = Vec::new();
    for _ in 0..6 {
        awards.push(award_with_slot(&store, &one).await);
    }
    // revoked, but elsewhere: another issuer's list, and an award without a slot
    let elsewhere = award_with_slot(&store, &other).await;
    store
        .revoke_award(&elsewhere.issuer_slug, elsewhere.id, "r", "cli:a")
        .await
        .unwrap();
    let unlisted = store.insert_award(&sample(&one)).await.unwrap();
    store
        .revoke_award(&unlisted.issuer_slug, unlisted.id, "r", "cli:a")
        .await
        .unwrap();

    let revoked_in = |issuer: String, purpose, list| {
        let store = store.clone();
        async move { store.revoked_in_list(&issuer, purpose, list).await.unwrap() }
    };
    assert!(
        revoked_in(one.clone(), StatusPurpose::Revocation, 0)
            .await
            .is_empty()
    );
    for i in [4, 1, 5] {
        store
            .revoke_award(&awards[i].issuer_slug, awards[i].id, "r", "cli:a")
            .await
            .unwrap();
    }
    let indexes = |positions: &[usize]| -> Vec<u32> {
        positions
            .iter()
            .map(|&i| awards[i].status_index.unwrap())
            .collect()
    };
    let mut expected = indexes(&[1, 4, 5]);
    expected.sort();
    assert_eq!(
        revoked_in(one.clone(), StatusPurpose::Revocation, 0).await,
        expected,
        "ascending"
    );
    assert_eq!(
        revoked_in(other.clone(), StatusPurpose::Revocation, 0).await,
        [elsewhere.status_index.unwrap()]
    );
    assert!(
        revoked_in(one.clone(), StatusPurpose::Revocation, 1)
            .await
            .is_empty()
    );
    assert!(
        revoked_in(one.clone(), StatusPurpose::Suspension, 0)
            .await
            .is_empty()
    );
    let info = store.status_list(&one, StatusPurpose::Revocation, 0).await;
    assert_eq!(info.unwrap().unwrap().revision, 3);
}

async fn revoked_awards_lists_one_issuers_revocations(store: Arc<Store>) {
    let (one, other) = (issuer(), issuer());
    let a = award_with_slot(&store, &one).await;
    let b = store.insert_award(&sample(&one)).await.unwrap();
    let c = award_with_slot(&store, &one).await;
    let elsewhere = award_with_slot(&store, &other).await;
    assert!(store.revoked_awards(&one).await.unwrap().is_empty());

    let c = store
        .revoke_award(&c.issuer_slug, c.id, "doublon", "cli:a")
        .await
        .unwrap();
    let b = store
        .revoke_award(&b.issuer_slug, b.id, "erreur", "cli:a")
        .await
        .unwrap();
    store
        .revoke_award(&elsewhere.issuer_slug, elsewhere.id, "r", "cli:a")
        .await
        .unwrap();

    let revoked = store.revoked_awards(&one).await.unwrap();
    let summary: Vec<_> = revoked
        .iter()
        .map(|r| {
            (
                r.id,
                r.credential_id.as_str(),
                Some(r.revoked_at),
                r.reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                c.id,
                c.credential_id.as_str(),
                c.revoked_at,
                Some("doublon")
            ),
            (b.id, b.credential_id.as_str(), b.revoked_at, Some("erreur")),
        ]
    );
    assert!(!revoked.iter().any(|r| r.id == a.id));
}

// ---- not tied to a backend, or SQLite only ---------------------------------------------

#[tokio::test]
async fn status_list_size_must_be_between_one_and_the_maximum() {
    for size in [0, store::MAX_STATUS_LIST_SIZE + 1] {
        let options = StoreOptions {
            status_list_size: size,
        };
        let error = store::open_with("sqlite::memory:", options).await.err();
        assert!(
            matches!(error, Some(StoreError::InvalidOptions(_))),
            "{size}: {error:?}"
        );
    }
    let options = StoreOptions {
        status_list_size: store::MAX_STATUS_LIST_SIZE,
    };
    store::open_with("sqlite::memory:", options).await.unwrap();
}

/// A database made by release 0001 (awards, no status columns) is upgraded in place: its
/// awards keep every field and have no status slot and no OB 2.0 forms.
#[tokio::test]
async fn sqlite_upgrade_from_0001_keeps_existing_awards() {
    use std::str::FromStr;

    let dir = tempfile::tempdir().unwrap();
    let first_only = dir.path().join("migrations");
    std::fs::create_dir(&first_only).unwrap();
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        manifest.join("migrations/sqlite/0001_awards.sql"),
        first_only.join("0001_awards.sql"),
    )
    .unwrap();
    let url = format!("sqlite://{}/carnet.db", dir.path().display());
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let migrator = sqlx::migrate::Migrator::new(first_only.as_path())
        .await
        .unwrap();
    migrator.run(&pool).await.unwrap();
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO awards (id, issuer_slug, badge_class_slug, badge_class_digest, \
         recipient_identity, recipient_salt, credential_id, credential_json, credential_jwt, \
         valid_from, issued_by, created_at) \
         VALUES (?, 'ime-old', 'cuisine', 'sha256:00', 'sha256$00', 'sel', ?, '{}', 'a.b.c', \
         '2024-01-01T00:00:00.000000Z', 'cli:old', '2024-01-01T00:00:00.000000Z')",
    )
    .bind(id.to_string())
    .bind(format!("urn:uuid:{id}"))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = store::open(&url)
        .await
        .expect("upgrade to the latest schema");
    let award = store.get_award(id).await.unwrap().expect("kept");
    assert_eq!(award.credential_id, format!("urn:uuid:{id}"));
    assert_eq!((award.status_list, award.status_index), (None, None));
    assert_eq!((award.assertion_json, award.assertion_jws), (None, None));
    let revoked = store
        .revoke_award(&award.issuer_slug, id, "ancien badge", "cli:a")
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(
        store
            .revoked_in_list("ime-old", StatusPurpose::Revocation, 0)
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await;
}

#[tokio::test]
async fn unsupported_url_names_the_scheme_and_the_accepted_ones() {
    for (url, scheme) in [
        ("mysql://root:pw@localhost/carnet", "mysql"),
        ("carnet.db", "carnet.db"),
    ] {
        let error = store::open(url).await.err().expect("must fail");
        assert!(
            matches!(&error, StoreError::UnsupportedUrl(s) if s == scheme),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(&format!("{scheme:?}")), "{message}");
        assert!(message.contains("sqlite:") && message.contains("postgres://"));
        assert!(!message.contains("pw"), "{message}");
    }
}

/// Migrations are embedded: opening works from a directory with no `migrations/`, and a
/// relative `sqlite:` path is created (with its parent) under the current directory. The
/// directory is changed in a child process (`carnet awards list`), never in this one, where the
/// other tests run at the same time.
#[test]
fn sqlite_migrations_are_embedded_and_relative_paths_are_created() {
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Cli::new(elsewhere.path())
        .env("CARNET_DATABASE_URL", "sqlite:state/carnet.db")
        .args(["awards", "list"])
        .run();
    assert!(out.success(), "{}", out.describe());
    assert!(elsewhere.path().join("state/carnet.db").is_file());
    assert!(!elsewhere.path().join("migrations").exists());
}

#[tokio::test]
async fn sqlite_in_memory_keeps_data_while_open() {
    let store = store::open("sqlite::memory:").await.unwrap();
    let new = sample(&issuer());
    store.insert_award(&new).await.unwrap();
    assert!(store.get_award(new.id).await.unwrap().is_some());
    assert_eq!(store.count_awards(&new.issuer_slug).await.unwrap(), 1);
}

async fn badge_class_versions_keep_the_first_document(store: Arc<Store>) {
    let one = issuer();
    assert_eq!(
        store
            .badge_class_version(&one, "securite", "abc")
            .await
            .unwrap(),
        None
    );
    store
        .save_badge_class_version(&one, "securite", "abc", "{\"v\":1}")
        .await
        .unwrap();
    // A second write of the same version changes nothing (what assertions point at never changes).
    store
        .save_badge_class_version(&one, "securite", "abc", "{\"v\":2}")
        .await
        .unwrap();
    assert_eq!(
        store
            .badge_class_version(&one, "securite", "abc")
            .await
            .unwrap()
            .as_deref(),
        Some("{\"v\":1}")
    );
    store
        .save_badge_class_version(&one, "securite", "def", "{\"v\":3}")
        .await
        .unwrap();
    assert_eq!(
        store
            .badge_class_version(&one, "securite", "def")
            .await
            .unwrap()
            .as_deref(),
        Some("{\"v\":3}")
    );
    assert_eq!(
        store
            .badge_class_version(&issuer(), "securite", "abc")
            .await
            .unwrap(),
        None,
        "per issuer"
    );
}

// ---- référentiels and carnets -----------------------------------------------------------

mod referentiels {
    use carnet::referentiel::carnet::{
        Answer, CarnetEntry, JuryMember, Modality, Person, Recognition,
    };
    use carnet::referentiel::{Format, Referentiel};
    use carnet::store::NewCarnet;
    use chrono::NaiveDate;
    use serde_json::json;
    use uuid::Uuid;

    /// A small référentiel; `version` and `wording` vary it.
    pub fn referentiel(version: &str, wording: &str) -> Referentiel {
        let text = json!({
            "id": "agent-test", "name": "Agent de test", "version": version,
            "source": "Fictif", "licence": "Domaine public",
            "levels": [{"id": "1", "name": "Niveau 1"}, {"id": "2", "name": "Niveau 2"}],
            "competences": [
                {"id": "C1", "wording": wording, "parts": [
                    {"id": "a", "wording": "Mettre la table"}, {"id": "b", "wording": "ranger"}]},
                {"id": "C2", "wording": "Préparer son matériel"},
                {"id": "C10", "wording": "Nettoyer son poste"},
            ]
        });
        carnet::referentiel::parse(text.to_string().as_bytes(), "t.json", Format::Json).unwrap()
    }

    pub fn declared(competence: &str, answer: Answer) -> CarnetEntry {
        CarnetEntry {
            competence: competence.into(),
            answer,
            struck: vec![],
            recognition: Recognition::Declared,
            modality: None,
            date: None,
            jury: vec![],
            level: None,
            comment: None,
        }
    }

    pub fn validated(competence: &str) -> CarnetEntry {
        CarnetEntry {
            recognition: Recognition::Validated,
            modality: Some(Modality::ExterneAvecStage),
            date: NaiveDate::from_ymd_opt(2024, 6, 14),
            jury: vec![
                JuryMember {
                    name: "Mme Durand".into(),
                    role: Some("représentante du GRETA".into()),
                },
                JuryMember {
                    name: "M. Leroy".into(),
                    role: None,
                },
            ],
            level: Some("2".into()),
            comment: Some("« J'ai comparé deux cuisines. »".into()),
            ..declared(competence, Answer::JeFais)
        }
    }

    pub fn person(n: &str) -> Person {
        Person {
            person_key: format!("sha256${}", n.repeat(64 / n.len())),
            recipient_identity: format!("sha256${}", "ab".repeat(32)),
            recipient_salt: "sel".into(),
            display_name: Some("Léa".into()),
        }
    }

    pub fn new_carnet(issuer: &str, person: Person, version: &str) -> NewCarnet {
        NewCarnet {
            id: Uuid::new_v4(),
            issuer_slug: issuer.into(),
            person,
            referentiel_id: "agent-test".into(),
            referentiel_version: version.into(),
            entries: vec![
                CarnetEntry {
                    struck: vec!["b".into()],
                    ..declared("C1", Answer::JeFaisEnPartie)
                },
                validated("C2"),
                declared("C10", Answer::JeNeFaisPas),
            ],
            created_by: "api:educatrice".into(),
        }
    }
}

use carnet::referentiel::carnet::{Answer, Recognition};
use carnet::store::{CarnetEventKind, SavedReferentiel};

async fn referentiel_versions_are_kept_and_reimporting_is_harmless(store: Arc<Store>) {
    let one = issuer();
    let v1 = referentiels::referentiel("2024-1", "Mettre la table, ranger");
    let saved = store.save_referentiel(&one, &v1, "cli:educ").await.unwrap();
    assert_eq!(saved, SavedReferentiel::Created);
    // The same id, version and content again: nothing changes.
    let again = store
        .save_referentiel(&one, &v1, "api:autre")
        .await
        .unwrap();
    assert_eq!(again, SavedReferentiel::Unchanged);
    // Other content under the same version is refused, and the first is kept.
    let changed = referentiels::referentiel("2024-1", "Mettre la table");
    let error = store
        .save_referentiel(&one, &changed, "cli:educ")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::ReferentielVersionExists { id, version } if id == "agent-test" && version == "2024-1"),
        "{error:?}"
    );
    let stored = store
        .get_referentiel(&one, "agent-test", "2024-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.referentiel, v1);
    assert_eq!(stored.digest, v1.digest());
    assert_eq!(stored.imported_by, "cli:educ");
    // A new version is kept beside the old one.
    let v2 = referentiels::referentiel("2025-1", "Mettre la table");
    assert_eq!(
        store.save_referentiel(&one, &v2, "cli:educ").await.unwrap(),
        SavedReferentiel::Created
    );
    let list = store.list_referentiels(&one).await.unwrap();
    let versions: Vec<(&str, &str, u32)> = list
        .iter()
        .map(|r| (r.id.as_str(), r.version.as_str(), r.competences))
        .collect();
    assert_eq!(
        versions,
        [("agent-test", "2024-1", 3), ("agent-test", "2025-1", 3)]
    );
    assert_eq!(list[0].name, "Agent de test");
    assert_eq!(list[1].digest, v2.digest());
    // Per issuer: another institution sees none of them.
    let other = issuer();
    assert!(store.list_referentiels(&other).await.unwrap().is_empty());
    assert_eq!(
        store
            .get_referentiel(&other, "agent-test", "2024-1")
            .await
            .unwrap(),
        None
    );
}

async fn carnet_round_trips_with_its_entries_and_event(store: Arc<Store>) {
    let one = issuer();
    let r = referentiels::referentiel("2024-1", "Mettre la table, ranger");
    store.save_referentiel(&one, &r, "cli:educ").await.unwrap();
    let new = referentiels::new_carnet(&one, referentiels::person("0a"), "2024-1");
    let stored = store.insert_carnet(&new).await.unwrap();
    assert_eq!(stored.id, new.id);
    assert_eq!(stored.person, new.person);
    assert_eq!(stored.revision, 0);
    assert_eq!(stored.created_by, "api:educatrice");
    assert_eq!(stored.created_at, stored.updated_at);
    // Entries come back exactly as given, ordered by competence id (byte order on both backends).
    let competences: Vec<&str> = stored
        .entries
        .iter()
        .map(|e| e.entry.competence.as_str())
        .collect();
    assert_eq!(competences, ["C1", "C10", "C2"]);
    let mut given = new.entries.clone();
    given.sort_by(|a, b| a.competence.cmp(&b.competence));
    let back: Vec<_> = stored.entries.iter().map(|e| e.entry.clone()).collect();
    assert_eq!(back, given);
    assert!(
        stored
            .entries
            .iter()
            .all(|e| e.updated_by == "api:educatrice")
    );
    // « en partie » stays « en partie », declared stays declared.
    let c1 = stored.entry("C1").unwrap();
    assert_eq!(
        (c1.answer, c1.recognition),
        (Answer::JeFaisEnPartie, Recognition::Declared)
    );
    assert_eq!(
        store.get_carnet(new.id).await.unwrap(),
        Some(stored.clone())
    );

    let events = store.carnet_events(new.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, CarnetEventKind::Imported);
    assert_eq!(events[0].actor, "api:educatrice");
    assert_eq!(events[0].detail["entries"], 3);
    assert_eq!(store.get_carnet(Uuid::new_v4()).await.unwrap(), None);
}

async fn carnet_needs_its_referentiel_version(store: Arc<Store>) {
    let one = issuer();
    let r = referentiels::referentiel("2024-1", "Mettre la table, ranger");
    store.save_referentiel(&one, &r, "cli:educ").await.unwrap();
    let new = referentiels::new_carnet(&one, referentiels::person("0b"), "2099-9");
    let error = store.insert_carnet(&new).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::UnknownReferentiel { version, .. } if version == "2099-9"),
        "{error:?}"
    );
    // Another issuer's référentiel does not count.
    let elsewhere = referentiels::new_carnet(&issuer(), referentiels::person("0b"), "2024-1");
    let error = store.insert_carnet(&elsewhere).await.unwrap_err();
    assert!(
        matches!(error, StoreError::UnknownReferentiel { .. }),
        "{error:?}"
    );
    assert_eq!(store.get_carnet(new.id).await.unwrap(), None);
}

async fn one_carnet_per_person_and_referentiel_version(store: Arc<Store>) {
    let one = issuer();
    for version in ["2024-1", "2025-1"] {
        let r = referentiels::referentiel(version, "Mettre la table, ranger");
        store.save_referentiel(&one, &r, "cli:educ").await.unwrap();
    }
    let lea = referentiels::person("0c");
    let first = store
        .insert_carnet(&referentiels::new_carnet(&one, lea.clone(), "2024-1"))
        .await
        .unwrap();
    let again = referentiels::new_carnet(&one, lea.clone(), "2024-1");
    let error = store.insert_carnet(&again).await.unwrap_err();
    assert!(
        matches!(error, StoreError::CarnetExists(id) if id == first.id),
        "{error:?}"
    );
    assert_eq!(store.get_carnet(again.id).await.unwrap(), None);
    // A carnet on the new version is another carnet.
    let second = store
        .insert_carnet(&referentiels::new_carnet(&one, lea.clone(), "2025-1"))
        .await
        .unwrap();
    let hers = store.person_carnets(&one, &lea.person_key).await.unwrap();
    let ids: Vec<Uuid> = hers.iter().map(|c| c.id).collect();
    assert_eq!(ids, [first.id, second.id]);
    assert_eq!(hers[0], first);
    let someone_else = referentiels::person("0d").person_key;
    assert!(
        store
            .person_carnets(&one, &someone_else)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .person_carnets(&issuer(), &lea.person_key)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The third entry breaks a rule the database states (a validated entry without a jury): the
/// carnet row and the first entries were written in the same transaction and must be undone.
async fn failing_entry_insert_leaves_no_carnet(store: Arc<Store>) {
    let one = issuer();
    let r = referentiels::referentiel("2024-1", "Mettre la table, ranger");
    store.save_referentiel(&one, &r, "cli:educ").await.unwrap();
    let lea = referentiels::person("0e");
    let mut new = referentiels::new_carnet(&one, lea.clone(), "2024-1");
    new.entries[2].recognition = Recognition::Validated;
    let error = store.insert_carnet(&new).await.unwrap_err();
    let StoreError::Database(sqlx::Error::Database(db)) = &error else {
        panic!("expected a database error, got {error:?}");
    };
    assert_eq!(db.kind(), sqlx::error::ErrorKind::CheckViolation);
    assert_eq!(store.get_carnet(new.id).await.unwrap(), None);
    assert!(store.carnet_events(new.id).await.unwrap().is_empty());
    assert!(
        store
            .person_carnets(&one, &lea.person_key)
            .await
            .unwrap()
            .is_empty()
    );
    // Nothing is left that would block the same carnet done right.
    new.entries[2].recognition = Recognition::Declared;
    let stored = store.insert_carnet(&new).await.unwrap();
    assert_eq!(stored.entries.len(), 3);
}

async fn saving_an_entry_bumps_the_revision_and_records_before_and_after(store: Arc<Store>) {
    let one = issuer();
    let r = referentiels::referentiel("2024-1", "Mettre la table, ranger");
    store.save_referentiel(&one, &r, "cli:educ").await.unwrap();
    let carnet = store
        .insert_carnet(&referentiels::new_carnet(
            &one,
            referentiels::person("0f"),
            "2024-1",
        ))
        .await
        .unwrap();
    let before = carnet.entry("C1").unwrap().clone();
    let after = referentiels::validated("C1");
    let saved = store
        .save_carnet_entry(carnet.id, 0, &after, "api:jury")
        .await
        .unwrap();
    assert_eq!(saved.revision, 1);
    assert_eq!(saved.entry("C1"), Some(&after));
    assert!(saved.updated_at >= carnet.updated_at);
    let record = saved
        .entries
        .iter()
        .find(|e| e.entry.competence == "C1")
        .unwrap();
    assert_eq!(record.updated_by, "api:jury");
    // The other entries are untouched.
    assert_eq!(saved.entry("C2"), carnet.entry("C2"));
    assert_eq!(
        store.get_carnet(carnet.id).await.unwrap(),
        Some(saved.clone())
    );

    let events = store.carnet_events(carnet.id).await.unwrap();
    assert_eq!(events.len(), 2);
    let event = &events[1];
    assert_eq!(
        (event.kind, event.actor.as_str()),
        (CarnetEventKind::EntrySaved, "api:jury")
    );
    assert_eq!(event.detail["competence"], "C1");
    assert_eq!(
        event.detail["before"],
        serde_json::to_value(&before).unwrap()
    );
    assert_eq!(event.detail["after"]["answer"], "je_fais");

    // Positioning a competence the carnet did not have adds it.
    let fresh = store
        .insert_carnet(&carnet::store::NewCarnet {
            entries: vec![],
            ..referentiels::new_carnet(&one, referentiels::person("1a"), "2024-1")
        })
        .await
        .unwrap();
    assert!(fresh.entries.is_empty());
    let positioned = store
        .save_carnet_entry(
            fresh.id,
            0,
            &referentiels::declared("C2", Answer::JeFais),
            "api:x",
        )
        .await
        .unwrap();
    assert_eq!(positioned.entries.len(), 1);
    let events = store.carnet_events(fresh.id).await.unwrap();
    assert_eq!(events[1].detail["before"], serde_json::Value::Null);
}

async fn a_stale_or_unknown_edit_writes_nothing(store: Arc<Store>) {
    let one = issuer();
    let r = referentiels::referentiel("2024-1", "Mettre la table, ranger");
    store.save_referentiel(&one, &r, "cli:educ").await.unwrap();
    let carnet = store
        .insert_carnet(&referentiels::new_carnet(
            &one,
            referentiels::person("1b"),
            "2024-1",
        ))
        .await
        .unwrap();
    let edit = referentiels::declared("C2", Answer::JeFaisEnPartie);
    store
        .save_carnet_entry(carnet.id, 0, &edit, "api:a")
        .await
        .unwrap();
    // Made from revision 0, which is gone.
    let error = store
        .save_carnet_entry(
            carnet.id,
            0,
            &referentiels::declared("C2", Answer::JeFais),
            "api:b",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::CarnetChanged(id) if id == carnet.id),
        "{error:?}"
    );
    let now = store.get_carnet(carnet.id).await.unwrap().unwrap();
    assert_eq!((now.revision, now.entry("C2")), (1, Some(&edit)));
    let missing = Uuid::new_v4();
    let error = store
        .save_carnet_entry(missing, 0, &edit, "api:a")
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::CarnetNotFound(id) if id == missing),
        "{error:?}"
    );
    // An entry the database refuses (a validated « je ne fais pas ») leaves the revision as it was.
    let refused = carnet::referentiel::carnet::CarnetEntry {
        answer: Answer::JeNeFaisPas,
        ..referentiels::validated("C2")
    };
    let error = store
        .save_carnet_entry(carnet.id, 1, &refused, "api:a")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    let after = store.get_carnet(carnet.id).await.unwrap().unwrap();
    assert_eq!(after, now);
    assert_eq!(store.carnet_events(carnet.id).await.unwrap().len(), 2);
}

async fn concurrent_edits_of_one_carnet_let_one_win(store: Arc<Store>) {
    let one = issuer();
    let r = referentiels::referentiel("2024-1", "Mettre la table, ranger");
    store.save_referentiel(&one, &r, "cli:educ").await.unwrap();
    let carnet = store
        .insert_carnet(&referentiels::new_carnet(
            &one,
            referentiels::person("1c"),
            "2024-1",
        ))
        .await
        .unwrap();
    let edits: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut entry = referentiels::declared("C2", Answer::JeFais);
                entry.comment = Some(format!("édition {i}"));
                store.save_carnet_entry(carnet.id, 0, &entry, "api:x").await
            })
        })
        .collect();
    let mut won = 0;
    for edit in edits {
        match edit.await.unwrap() {
            Ok(c) => {
                won += 1;
                assert_eq!(c.revision, 1);
            }
            Err(StoreError::CarnetChanged(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(won, 1);
    let events = store.carnet_events(carnet.id).await.unwrap();
    assert_eq!(events.len(), 2);
}

// ---- bulk-award jobs (migration 0005) ------------------------------------------------

use carnet::store::{
    CreatedJob, JobCounts, JobState, NewBulkJob, NewBulkRow, NewRowContent, RowError, RowOutcome,
    RowStatus,
};

/// A job of `pending` rows to issue (lines 2, 3, ...) and one refused row after them.
fn bulk_job(issuer: &str, file: &str, pending: u32) -> NewBulkJob {
    let mut rows: Vec<NewBulkRow> = (0..pending)
        .map(|i| NewBulkRow {
            line: i + 2,
            content: NewRowContent::Pending {
                idempotency_key: format!("bulk-{file}-{i}"),
                payload: format!("sealed-{i}"),
            },
        })
        .collect();
    rows.push(NewBulkRow {
        line: pending + 2,
        content: NewRowContent::Invalid(RowError {
            field: "email".into(),
            reason: "this is not an email address".into(),
        }),
    });
    NewBulkJob {
        id: Uuid::new_v4(),
        issuer_slug: issuer.to_owned(),
        badge_class_slug: "cuisine-niveau-1".into(),
        batch: None,
        file_sha256: format!("{file:0>64}"),
        created_by: "api:educ".into(),
        rows,
    }
}

/// Marks one row; the job's counts when it was pending.
async fn mark(store: &Store, job: Uuid, line: u32, outcome: RowOutcome) -> Option<JobCounts> {
    let marked = store
        .finish_bulk_rows(job, &[(line, outcome)])
        .await
        .unwrap();
    (marked.changed == 1).then_some(marked.counts)
}

fn created(c: CreatedJob) -> carnet::store::BulkJob {
    match c {
        CreatedJob::Created(j) => j,
        CreatedJob::Existing(j) => panic!("expected a new job, got the existing {}", j.id),
    }
}

async fn api_tokens_are_found_by_hash_until_revoked_and_used_to_the_minute(store: Arc<Store>) {
    let (one, other) = (issuer(), issuer());
    let new = |issuer: &'static str, hash: &'static str| carnet::store::NewApiToken {
        issuer_slug: issuer,
        name: "tableur",
        token_sha256: hash,
        created_by: "camille",
    };
    let one: &'static str = one.leak();
    let other: &'static str = other.leak();
    let made = store.create_api_token(&new(one, "h1")).await.unwrap();
    assert_eq!((made.last_used_at, made.revoked_at), (None, None));
    let twice = store.create_api_token(&new(other, "h1")).await;
    assert!(
        matches!(&twice, Err(StoreError::Conflict(ConflictOn::Other(c))) if c == "api_tokens_sha256_key"),
        "{twice:?}"
    );
    let now = Utc::now().trunc_subsecs(6);
    let used = store.use_api_token("h1", now).await.unwrap().unwrap();
    assert_eq!(used.id, made.id);
    let listed = store.list_api_tokens(one).await.unwrap();
    assert_eq!(listed[0].last_used_at, Some(now));
    // within the minute, the use is not written again; after it, it is
    let soon = now + chrono::TimeDelta::seconds(30);
    store.use_api_token("h1", soon).await.unwrap().unwrap();
    assert_eq!(
        store.list_api_tokens(one).await.unwrap()[0].last_used_at,
        Some(now)
    );
    let later = now + chrono::TimeDelta::seconds(90);
    store.use_api_token("h1", later).await.unwrap().unwrap();
    assert_eq!(
        store.list_api_tokens(one).await.unwrap()[0].last_used_at,
        Some(later)
    );
    assert!(store.use_api_token("nope", now).await.unwrap().is_none());
    // revoked by one institution only, once
    assert!(
        store
            .revoke_api_token(other, made.id, "x")
            .await
            .unwrap()
            .is_none()
    );
    let revoked = store
        .revoke_api_token(one, made.id, "camille")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_by.as_deref(), Some("camille"));
    let again = store
        .revoke_api_token(one, made.id, "karim")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.revoked_at, again.revoked_by),
        (revoked.revoked_at, revoked.revoked_by)
    );
    assert!(
        store.use_api_token("h1", later).await.unwrap().is_none(),
        "revoked opens nothing"
    );
    assert!(store.list_api_tokens(other).await.unwrap().is_empty());
}

async fn one_node_holds_a_job_lease_until_it_expires_or_is_given_back(store: Arc<Store>) {
    let job = created(
        store
            .create_bulk_job(&bulk_job(&issuer(), "leases.csv", 3))
            .await
            .unwrap(),
    );
    let now = Utc::now();
    let later = |s: i64| now + chrono::TimeDelta::seconds(s);
    assert!(
        store
            .take_job_lease(job.id, "a", now, later(30))
            .await
            .unwrap()
    );
    assert!(
        store
            .take_job_lease(job.id, "a", now, later(30))
            .await
            .unwrap(),
        "its holder again"
    );
    assert!(
        !store
            .take_job_lease(job.id, "b", later(10), later(40))
            .await
            .unwrap(),
        "still held"
    );
    let held = store.get_bulk_job(job.id).await.unwrap().unwrap();
    assert_eq!(held.lease_holder.as_deref(), Some("a"));
    assert!(store.renew_job_lease(job.id, "a", later(60)).await.unwrap());
    assert!(
        !store
            .take_job_lease(job.id, "b", later(45), later(90))
            .await
            .unwrap(),
        "renewed"
    );
    // a lease run out is taken over, and its former holder learns it has lost it
    assert!(
        store
            .take_job_lease(job.id, "b", later(61), later(90))
            .await
            .unwrap()
    );
    assert!(
        !store
            .renew_job_lease(job.id, "a", later(120))
            .await
            .unwrap()
    );
    store.release_job_lease(job.id, "a").await.unwrap();
    assert!(
        !store
            .take_job_lease(job.id, "c", later(62), later(90))
            .await
            .unwrap(),
        "not a's to give"
    );
    store.release_job_lease(job.id, "b").await.unwrap();
    assert!(
        store
            .take_job_lease(job.id, "c", later(62), later(90))
            .await
            .unwrap(),
        "given back"
    );
    // a job done is run by nobody
    store
        .set_bulk_job_state(job.id, carnet::store::JobState::Done, None)
        .await
        .unwrap();
    store.release_job_lease(job.id, "c").await.unwrap();
    assert!(
        !store
            .take_job_lease(job.id, "d", later(63), later(90))
            .await
            .unwrap()
    );
}

async fn bulk_job_is_stored_with_all_its_rows_before_anything_is_issued(store: Arc<Store>) {
    let one = issuer();
    let new = bulk_job(&one, "a1", 3);
    let job = created(store.create_bulk_job(&new).await.unwrap());
    assert_eq!(job.id, new.id);
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(
        job.counts,
        JobCounts {
            total: 4,
            issued: 0,
            already: 0,
            failed: 1
        }
    );
    assert_eq!(job.counts.pending(), 3);
    assert_eq!((job.batch.as_deref(), job.error.as_deref()), (None, None));
    assert_eq!(job.created_by, "api:educ");
    assert_eq!(store.get_bulk_job(job.id).await.unwrap(), Some(job.clone()));
    let rows = store.bulk_rows(job.id).await.unwrap();
    let seen: Vec<(u32, RowStatus, Option<&str>)> = rows
        .iter()
        .map(|r| (r.line, r.status, r.idempotency_key.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (2, RowStatus::Pending, Some("bulk-a1-0")),
            (3, RowStatus::Pending, Some("bulk-a1-1")),
            (4, RowStatus::Pending, Some("bulk-a1-2")),
            (5, RowStatus::Error, None),
        ]
    );
    assert_eq!(
        rows[3].error,
        Some(RowError {
            field: "email".into(),
            reason: "this is not an email address".into()
        })
    );
    // Pending rows come by line, in pages, with their sealed data.
    let page = store.pending_bulk_rows(job.id, 0, 2).await.unwrap();
    let lines: Vec<(u32, &str)> = page.iter().map(|r| (r.line, r.payload.as_str())).collect();
    assert_eq!(lines, [(2, "sealed-0"), (3, "sealed-1")]);
    let page = store.pending_bulk_rows(job.id, 3, 64).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].idempotency_key, "bulk-a1-2");
    // Unknown job: nothing.
    assert_eq!(store.get_bulk_job(Uuid::new_v4()).await.unwrap(), None);
    assert!(store.bulk_rows(Uuid::new_v4()).await.unwrap().is_empty());
    // A big job goes in several inserts, still in one transaction.
    let big = created(
        store
            .create_bulk_job(&bulk_job(&one, "big", 1200))
            .await
            .unwrap(),
    );
    assert_eq!(big.counts.total, 1201);
    assert_eq!(store.bulk_rows(big.id).await.unwrap().len(), 1201);
    // Two rows of one job with one key are refused, and nothing of that job is kept.
    let mut twice = bulk_job(&one, "twice", 2);
    if let NewRowContent::Pending {
        idempotency_key, ..
    } = &mut twice.rows[1].content
    {
        *idempotency_key = "bulk-twice-0".into();
    }
    assert!(store.create_bulk_job(&twice).await.is_err());
    assert_eq!(store.get_bulk_job(twice.id).await.unwrap(), None);
}

async fn resending_an_unfinished_file_finds_its_job(store: Arc<Store>) {
    let one = issuer();
    let first = created(
        store
            .create_bulk_job(&bulk_job(&one, "f", 2))
            .await
            .unwrap(),
    );
    // The same file, class and batch: the unfinished job, nothing written.
    let again = store
        .create_bulk_job(&bulk_job(&one, "f", 2))
        .await
        .unwrap();
    assert!(
        matches!(&again, CreatedJob::Existing(j) if j.id == first.id),
        "{again:?}"
    );
    let running = store
        .set_bulk_job_state(first.id, JobState::Running, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(running.state, JobState::Running);
    assert!(running.updated_at >= first.updated_at);
    let again = store
        .create_bulk_job(&bulk_job(&one, "f", 2))
        .await
        .unwrap();
    assert_eq!(again.job().id, first.id);
    // Another batch, class or issuer is another job.
    let mut batch = bulk_job(&one, "f", 2);
    batch.batch = Some("2026-juin".into());
    let batch = created(store.create_bulk_job(&batch).await.unwrap());
    assert_eq!(batch.batch.as_deref(), Some("2026-juin"));
    let mut class = bulk_job(&one, "f", 2);
    class.badge_class_slug = "atelier".into();
    created(store.create_bulk_job(&class).await.unwrap());
    created(
        store
            .create_bulk_job(&bulk_job(&issuer(), "f", 2))
            .await
            .unwrap(),
    );
    // Once the job is done, the same file makes a new job (whose rows the keys make `already`).
    let done = store
        .set_bulk_job_state(first.id, JobState::Done, Some("ignored unless failed"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((done.state, done.error), (JobState::Done, None));
    let next = created(
        store
            .create_bulk_job(&bulk_job(&one, "f", 2))
            .await
            .unwrap(),
    );
    assert_ne!(next.id, first.id);
    // A failed job says why.
    let failed = store
        .set_bulk_job_state(next.id, JobState::Failed, Some("la classe a disparu"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.error.as_deref(), Some("la classe a disparu"));
    assert_eq!(
        store
            .set_bulk_job_state(Uuid::new_v4(), JobState::Done, None)
            .await
            .unwrap(),
        None
    );
}

async fn finishing_a_row_counts_it_once_and_erases_its_data(store: Arc<Store>) {
    let one = issuer();
    let a = store.insert_award(&sample(&one)).await.unwrap();
    let b = store.insert_award(&sample(&one)).await.unwrap();
    let job = created(
        store
            .create_bulk_job(&bulk_job(&one, "m", 3))
            .await
            .unwrap(),
    );
    let counts = mark(&store, job.id, 2, RowOutcome::Issued(a.id))
        .await
        .unwrap();
    assert_eq!(
        (
            counts.issued,
            counts.already,
            counts.failed,
            counts.pending()
        ),
        (1, 0, 1, 2)
    );
    // Marking it again changes nothing and counts nothing.
    assert_eq!(
        mark(&store, job.id, 2, RowOutcome::Already(b.id)).await,
        None
    );
    // The refused row (line 5) is not pending either; an unknown line is nothing.
    for line in [5, 99] {
        assert_eq!(
            mark(&store, job.id, line, RowOutcome::Issued(a.id)).await,
            None
        );
    }
    mark(&store, job.id, 3, RowOutcome::Already(b.id))
        .await
        .unwrap();
    let error = RowError {
        field: "valid_until".into(),
        reason: "must be in the future".into(),
    };
    let counts = mark(&store, job.id, 4, RowOutcome::Error(error.clone()))
        .await
        .unwrap();
    assert_eq!(
        counts,
        JobCounts {
            total: 4,
            issued: 1,
            already: 1,
            failed: 2
        }
    );
    assert_eq!(
        store.get_bulk_job(job.id).await.unwrap().unwrap().counts,
        counts
    );
    let rows = store.bulk_rows(job.id).await.unwrap();
    let seen: Vec<(u32, RowStatus, Option<Uuid>)> = rows
        .iter()
        .map(|r| (r.line, r.status, r.award_id))
        .collect();
    assert_eq!(
        seen,
        [
            (2, RowStatus::Issued, Some(a.id)),
            (3, RowStatus::Already, Some(b.id)),
            (4, RowStatus::Error, None),
            (5, RowStatus::Error, None),
        ]
    );
    assert_eq!(rows[2].error, Some(error));
    assert_eq!(rows[0].idempotency_key.as_deref(), Some("bulk-m-0"));
    // Nothing is pending: the sealed data of done rows is gone.
    assert!(
        store
            .pending_bulk_rows(job.id, 0, 64)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn markings_are_all_or_nothing_and_name_stored_awards(store: Arc<Store>) {
    let one = issuer();
    let job = created(
        store
            .create_bulk_job(&bulk_job(&one, "fk", 2))
            .await
            .unwrap(),
    );
    let award = store.insert_award(&sample(&one)).await.unwrap();
    // One row of the batch names no stored award: the whole batch is refused.
    let error = store
        .finish_bulk_rows(
            job.id,
            &[
                (2, RowOutcome::Issued(award.id)),
                (3, RowOutcome::Issued(Uuid::new_v4())),
            ],
        )
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    // Nothing changed: the rows are pending, the job counts nothing.
    assert_eq!(
        store.pending_bulk_rows(job.id, 0, 64).await.unwrap().len(),
        2
    );
    assert_eq!(
        store
            .get_bulk_job(job.id)
            .await
            .unwrap()
            .unwrap()
            .counts
            .issued,
        0
    );
}

async fn concurrent_markings_of_one_row_count_it_once(store: Arc<Store>) {
    let one = issuer();
    let award = store.insert_award(&sample(&one)).await.unwrap();
    let job = created(
        store
            .create_bulk_job(&bulk_job(&one, "c", 1))
            .await
            .unwrap(),
    );
    let markings: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .finish_bulk_rows(job.id, &[(2, RowOutcome::Issued(award.id))])
                    .await
            })
        })
        .collect();
    let mut counted = 0;
    for m in markings {
        if m.await.unwrap().unwrap().changed == 1 {
            counted += 1;
        }
    }
    assert_eq!(counted, 1);
    let job = store.get_bulk_job(job.id).await.unwrap().unwrap();
    assert_eq!((job.counts.issued, job.counts.pending()), (1, 0));
}

async fn concurrent_submissions_of_one_file_make_one_job(store: Arc<Store>) {
    let one = issuer();
    let submissions: Vec<_> = (0..4)
        .map(|_| {
            let (store, job) = (store.clone(), bulk_job(&one, "same", 50));
            tokio::spawn(async move { store.create_bulk_job(&job).await })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut new = 0;
    for s in submissions {
        let c = s.await.unwrap().unwrap();
        new += usize::from(matches!(c, CreatedJob::Created(_)));
        ids.insert(c.job().id);
    }
    assert_eq!((new, ids.len()), (1, 1));
    assert_eq!(store.unfinished_bulk_jobs(&one).await.unwrap().len(), 1);
}

async fn unfinished_jobs_are_listed_oldest_first_per_issuer(store: Arc<Store>) {
    let one = issuer();
    let mut ids = Vec::new();
    for file in ["u1", "u2", "u3", "u4"] {
        ids.push(
            created(
                store
                    .create_bulk_job(&bulk_job(&one, file, 1))
                    .await
                    .unwrap(),
            )
            .id,
        );
    }
    created(
        store
            .create_bulk_job(&bulk_job(&issuer(), "u1", 1))
            .await
            .unwrap(),
    );
    store
        .set_bulk_job_state(ids[1], JobState::Running, None)
        .await
        .unwrap();
    store
        .set_bulk_job_state(ids[2], JobState::Done, None)
        .await
        .unwrap();
    store
        .set_bulk_job_state(ids[3], JobState::Failed, Some("x"))
        .await
        .unwrap();
    let unfinished: Vec<(Uuid, JobState)> = store
        .unfinished_bulk_jobs(&one)
        .await
        .unwrap()
        .iter()
        .map(|j| (j.id, j.state))
        .collect();
    assert_eq!(
        unfinished,
        [(ids[0], JobState::Queued), (ids[1], JobState::Running)]
    );
}

// ---- badge requests and evidence (migration 0006) -------------------------------------

use carnet::store::{
    AddedEvidence, NewBadgeRequest, NewEvidence, NewEvidenceShare, RequestAction, RequestEventKind,
    RequestState, RequestTransition,
};

fn badge_request(issuer: &str) -> NewBadgeRequest {
    NewBadgeRequest {
        id: Uuid::new_v4(),
        issuer_slug: issuer.to_owned(),
        badge_class_slug: "securite-hygiene".into(),
        recipient_identity: format!("sha256${}", "1e".repeat(32)),
        recipient_salt: "sel".into(),
        recipient_name: Some("Léa".into()),
        sealed_recipient: "sealed-email".into(),
        narrative: Some("J'ai mis mes gants et mes lunettes.".into()),
        links: vec!["https://video.example/lea".into()],
        requested_by: "Léa (apprenante)".into(),
        submitted_by: "api:atelier".into(),
        person_key: None,
    }
}

fn transition(
    action: RequestAction,
    actor: &'static str,
    comment: Option<&'static str>,
) -> RequestTransition<'static> {
    RequestTransition {
        action,
        actor,
        comment,
        award_id: None,
    }
}

fn evidence(request: Uuid, content: &[u8], name: &str) -> NewEvidence {
    use sha2::Digest;
    NewEvidence {
        id: Uuid::new_v4(),
        request_id: request,
        sha256: sha2::Sha256::digest(content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        media_type: "image/png".into(),
        genre: "image".into(),
        name: name.into(),
        content: content.to_vec(),
        added_by: "api:atelier".into(),
    }
}

async fn badge_request_round_trips_with_its_submitted_event(store: Arc<Store>) {
    let one = issuer();
    let new = badge_request(&one);
    let before = Utc::now().trunc_subsecs(6);
    let stored = store.insert_badge_request(&new).await.unwrap();
    assert_eq!(stored.id, new.id);
    assert_eq!(stored.state, RequestState::Submitted);
    assert_eq!(stored.links, new.links);
    assert_eq!(stored.narrative, new.narrative);
    assert_eq!(stored.sealed_recipient, "sealed-email");
    assert_eq!(stored.requested_by, "Léa (apprenante)");
    assert_eq!(stored.submitted_by, "api:atelier");
    assert_eq!(stored.award_id, None);
    assert!(stored.created_at >= before);
    assert_eq!(
        store.get_badge_request(new.id).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(store.get_badge_request(Uuid::new_v4()).await.unwrap(), None);
    let events = store.badge_request_events(new.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, RequestEventKind::Submitted);
    assert_eq!(events[0].actor, "api:atelier");
    assert_eq!(events[0].at, stored.created_at);
    // listing: per issuer, per state
    store
        .insert_badge_request(&badge_request(&issuer()))
        .await
        .unwrap();
    let all = store
        .list_badge_requests(&one, None, 50, None)
        .await
        .unwrap();
    assert_eq!(all, vec![stored.clone()]);
    let submitted = store.list_badge_requests(&one, Some(RequestState::Submitted), 50, None);
    assert_eq!(submitted.await.unwrap().len(), 1);
    let returned = store.list_badge_requests(&one, Some(RequestState::Returned), 50, None);
    assert!(returned.await.unwrap().is_empty());
    // page by page (keyset: created_at, id), with or without a state
    for _ in 0..4 {
        store
            .insert_badge_request(&badge_request(&one))
            .await
            .unwrap();
    }
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_badge_requests(&one, None, 2, after)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|r| r.id);
        pages.push(page);
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let listed: Vec<_> = pages.concat();
    assert_eq!(listed[0], stored, "oldest first");
    assert!(
        listed
            .windows(2)
            .all(|w| (w[0].created_at, w[0].id) < (w[1].created_at, w[1].id))
    );
    let second =
        store.list_badge_requests(&one, Some(RequestState::Submitted), 3, Some(listed[0].id));
    assert_eq!(second.await.unwrap(), listed[1..4].to_vec());
    let unknown = store.list_badge_requests(&one, None, 2, Some(Uuid::new_v4()));
    assert!(
        unknown.await.unwrap().is_empty(),
        "an unknown cursor gives an empty page"
    );
}

async fn links_are_corrected_with_an_event_only_while_the_request_is_open(store: Arc<Store>) {
    let one = issuer();
    let mut new = badge_request(&one);
    new.links = vec![
        "https://x.invalid/a b".into(),
        "https://video.example/ok".into(),
    ];
    let request = store.insert_badge_request(&new).await.unwrap();
    let corrected = store
        .correct_badge_request_links(
            request.id,
            &["https://video.example/ok".into()],
            "api:educ",
            Some("lien cassé retiré"),
        )
        .await
        .unwrap();
    assert_eq!(corrected.links, vec!["https://video.example/ok".to_owned()]);
    assert_eq!(corrected.state, RequestState::Submitted);
    assert_eq!(
        store.get_badge_request(request.id).await.unwrap(),
        Some(corrected.clone())
    );
    let events = store.badge_request_events(request.id).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.kind, RequestEventKind::LinksCorrected);
    assert_eq!(
        (last.actor.as_str(), last.comment.as_deref()),
        ("api:educ", Some("lien cassé retiré"))
    );
    // dropping every link; then on a returned request too
    store
        .transition_badge_request(
            request.id,
            &transition(RequestAction::Return, "api:educ", Some("Une photo ?")),
        )
        .await
        .unwrap();
    let dropped = store
        .correct_badge_request_links(request.id, &[], "api:educ", None)
        .await
        .unwrap();
    assert!(dropped.links.is_empty());
    assert_eq!(dropped.state, RequestState::Returned);
    // a closed request keeps its links and its trail
    store
        .transition_badge_request(
            request.id,
            &transition(RequestAction::Resubmit, "api:atelier", None),
        )
        .await
        .unwrap();
    store
        .transition_badge_request(
            request.id,
            &transition(RequestAction::Decline, "api:educ", Some("Pas encore")),
        )
        .await
        .unwrap();
    let before = store.badge_request_events(request.id).await.unwrap().len();
    let refused = store
        .correct_badge_request_links(request.id, &["https://a.example/".into()], "api:educ", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            StoreError::RequestState {
                state: RequestState::Declined,
                ..
            }
        ),
        "{refused:?}"
    );
    assert!(
        store
            .get_badge_request(request.id)
            .await
            .unwrap()
            .unwrap()
            .links
            .is_empty()
    );
    assert_eq!(
        store.badge_request_events(request.id).await.unwrap().len(),
        before
    );
    let unknown = store
        .correct_badge_request_links(Uuid::new_v4(), &[], "api:educ", None)
        .await
        .unwrap_err();
    assert!(
        matches!(unknown, StoreError::RequestNotFound(_)),
        "{unknown:?}"
    );
}

async fn request_transitions_follow_the_state_machine_and_record_who_and_when(store: Arc<Store>) {
    let one = issuer();
    let request = store
        .insert_badge_request(&badge_request(&one))
        .await
        .unwrap();
    let returned = store
        .transition_badge_request(
            request.id,
            &transition(
                RequestAction::Return,
                "api:educ",
                Some("Ajoute une photo des gants"),
            ),
        )
        .await
        .unwrap();
    assert_eq!(returned.state, RequestState::Returned);
    assert!(returned.updated_at >= request.updated_at);
    let resubmitted = store
        .transition_badge_request(
            request.id,
            &transition(RequestAction::Resubmit, "api:atelier", None),
        )
        .await
        .unwrap();
    assert_eq!(resubmitted.state, RequestState::Submitted);
    let award = store.insert_award(&sample(&one)).await.unwrap();
    let approved = store
        .transition_badge_request(
            request.id,
            &RequestTransition {
                award_id: Some(award.id),
                ..transition(RequestAction::Approve, "api:educ", None)
            },
        )
        .await
        .unwrap();
    assert_eq!(approved.state, RequestState::Approved);
    assert_eq!(approved.award_id, Some(award.id));
    assert!(!resubmitted.sealed_recipient.is_empty());
    assert_eq!(
        approved.sealed_recipient, "",
        "the sealed email is erased once closed"
    );
    let events = store.badge_request_events(request.id).await.unwrap();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| (e.kind, e.actor.as_str(), e.comment.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (RequestEventKind::Submitted, "api:atelier", None),
            (
                RequestEventKind::Returned,
                "api:educ",
                Some("Ajoute une photo des gants")
            ),
            (RequestEventKind::Resubmitted, "api:atelier", None),
            (RequestEventKind::Approved, "api:educ", None),
        ]
    );
    assert_eq!(events[3].subject, Some(award.id));
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    // a decline is final
    let other = store
        .insert_badge_request(&badge_request(&one))
        .await
        .unwrap();
    let declined = store
        .transition_badge_request(
            other.id,
            &transition(RequestAction::Decline, "api:educ", Some("Pas ce badge")),
        )
        .await
        .unwrap();
    assert_eq!(declined.state, RequestState::Declined);
    let error = store
        .transition_badge_request(
            other.id,
            &transition(RequestAction::Resubmit, "api:atelier", None),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::RequestState {
                state: RequestState::Declined,
                action: "resubmit",
                ..
            }
        ),
        "{error:?}"
    );
}

async fn refused_transitions_write_nothing(store: Arc<Store>) {
    let one = issuer();
    let request = store
        .insert_badge_request(&badge_request(&one))
        .await
        .unwrap();
    // a return or decline needs its comment; an approval its award; a resubmit a returned request
    for (t, invalid) in [
        (transition(RequestAction::Return, "api:educ", None), true),
        (
            transition(RequestAction::Decline, "api:educ", Some("  ")),
            true,
        ),
        (transition(RequestAction::Approve, "api:educ", None), true),
        (
            transition(RequestAction::Resubmit, "api:atelier", None),
            false,
        ),
    ] {
        let error = store
            .transition_badge_request(request.id, &t)
            .await
            .unwrap_err();
        if invalid {
            assert!(
                matches!(error, StoreError::InvalidTransition(_)),
                "{error:?}"
            );
        } else {
            assert!(
                matches!(
                    error,
                    StoreError::RequestState {
                        state: RequestState::Submitted,
                        ..
                    }
                ),
                "{error:?}"
            );
        }
    }
    let error = store
        .transition_badge_request(
            Uuid::new_v4(),
            &transition(RequestAction::Resubmit, "x", None),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::RequestNotFound(_)), "{error:?}");
    assert_eq!(
        store.get_badge_request(request.id).await.unwrap(),
        Some(request.clone())
    );
    assert_eq!(
        store.badge_request_events(request.id).await.unwrap().len(),
        1
    );
}

async fn approval_needs_a_stored_award_and_concurrent_approvals_let_one_win(store: Arc<Store>) {
    let one = issuer();
    let request = store
        .insert_badge_request(&badge_request(&one))
        .await
        .unwrap();
    // an award that is not stored: refused by the database, nothing written
    let error = store
        .transition_badge_request(
            request.id,
            &RequestTransition {
                award_id: Some(Uuid::new_v4()),
                ..transition(RequestAction::Approve, "api:educ", None)
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert_eq!(
        store
            .get_badge_request(request.id)
            .await
            .unwrap()
            .unwrap()
            .state,
        RequestState::Submitted
    );
    assert_eq!(
        store.badge_request_events(request.id).await.unwrap().len(),
        1
    );

    let award = store.insert_award(&sample(&one)).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        let (id, award) = (request.id, award.id);
        tasks.push(tokio::spawn(async move {
            store
                .transition_badge_request(
                    id,
                    &RequestTransition {
                        action: RequestAction::Approve,
                        actor: "api:educ",
                        comment: None,
                        award_id: Some(award),
                    },
                )
                .await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(r) => {
                won += 1;
                assert_eq!(r.award_id, Some(award.id));
            }
            Err(StoreError::RequestState {
                state: RequestState::Approved,
                ..
            }) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(
        store.badge_request_events(request.id).await.unwrap().len(),
        2
    );
}

async fn evidence_is_kept_with_its_content_and_deduplicated_per_request(store: Arc<Store>) {
    let one = issuer();
    let request = store
        .insert_badge_request(&badge_request(&one))
        .await
        .unwrap();
    let png = b"\x89PNG\r\n\x1a\n gants";
    let first = evidence(request.id, png, "gants.png");
    let added = store.add_evidence(&first).await.unwrap();
    let AddedEvidence::Added(file) = &added else {
        panic!("{added:?}")
    };
    assert_eq!(file.id, first.id);
    assert_eq!(file.size, png.len() as u64);
    assert_eq!(file.sha256, first.sha256);
    assert_eq!(file.name, "gants.png");
    // the same content again, under another name: the stored file
    let again = store
        .add_evidence(&evidence(request.id, png, "copie.png"))
        .await
        .unwrap();
    assert_eq!(again, AddedEvidence::Existing(file.clone()));
    // other content is kept beside it
    let pdf = evidence(request.id, b"%PDF-1.7 consignes", "consignes.pdf");
    store.add_evidence(&pdf).await.unwrap();
    let files = store.request_evidence(request.id).await.unwrap();
    assert_eq!(
        files.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![first.id, pdf.id]
    );
    let (meta, content) = store.evidence_content(first.id).await.unwrap().unwrap();
    assert_eq!(&meta, file);
    assert_eq!(content, png);
    assert_eq!(store.evidence_content(Uuid::new_v4()).await.unwrap(), None);
    // the same content in another request is that request's own file
    let other = store
        .insert_badge_request(&badge_request(&one))
        .await
        .unwrap();
    let theirs = store
        .add_evidence(&evidence(other.id, png, "gants.png"))
        .await
        .unwrap();
    assert!(matches!(theirs, AddedEvidence::Added(_)));
    // one event per file added, naming it
    let events = store.badge_request_events(request.id).await.unwrap();
    let added: Vec<_> = events
        .iter()
        .filter(|e| e.kind == RequestEventKind::EvidenceAdded)
        .map(|e| e.subject)
        .collect();
    assert_eq!(added, vec![Some(first.id), Some(pdf.id)]);
}

async fn evidence_is_refused_on_closed_or_unknown_requests(store: Arc<Store>) {
    let one = issuer();
    let error = store
        .add_evidence(&evidence(Uuid::new_v4(), b"GIF89a", "a.gif"))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::RequestNotFound(_)), "{error:?}");
    let request = store
        .insert_badge_request(&badge_request(&one))
        .await
        .unwrap();
    store
        .transition_badge_request(
            request.id,
            &transition(RequestAction::Return, "api:educ", Some("photo floue")),
        )
        .await
        .unwrap();
    // returned: the learner can add a file
    store
        .add_evidence(&evidence(request.id, b"GIF89a nette", "b.gif"))
        .await
        .unwrap();
    store
        .transition_badge_request(
            request.id,
            &transition(RequestAction::Resubmit, "api:atelier", None),
        )
        .await
        .unwrap();
    store
        .transition_badge_request(
            request.id,
            &transition(RequestAction::Decline, "api:educ", Some("non")),
        )
        .await
        .unwrap();
    let error = store
        .add_evidence(&evidence(request.id, b"GIF89a tard", "c.gif"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::RequestState {
                state: RequestState::Declined,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(store.request_evidence(request.id).await.unwrap().len(), 1);
}

async fn evidence_shares_are_found_by_token_hash_until_revoked(store: Arc<Store>) {
    let one = issuer();
    let request = store
        .insert_badge_request(&badge_request(&one))
        .await
        .unwrap();
    let file = evidence(request.id, b"OggS voix", "voix.ogg");
    store.add_evidence(&file).await.unwrap();
    let share = NewEvidenceShare {
        id: Uuid::new_v4(),
        evidence_id: file.id,
        token_sha256: "ab".repeat(32),
        created_by: "api:lea".into(),
    };
    let created = store.create_evidence_share(&share).await.unwrap();
    assert_eq!(created.created_by, "api:lea");
    assert_eq!(created.revoked_at, None);
    assert_eq!(
        store
            .find_evidence_share(file.id, &share.token_sha256)
            .await
            .unwrap(),
        Some(created.clone())
    );
    // the token of one file opens no other, and a wrong token opens nothing
    let other = evidence(request.id, b"OggS autre", "autre.ogg");
    store.add_evidence(&other).await.unwrap();
    assert_eq!(
        store
            .find_evidence_share(other.id, &share.token_sha256)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_evidence_share(file.id, &"cd".repeat(32))
            .await
            .unwrap(),
        None
    );
    // a share of an unknown file
    let error = store
        .create_evidence_share(&NewEvidenceShare {
            id: Uuid::new_v4(),
            evidence_id: Uuid::new_v4(),
            ..share.clone()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::EvidenceNotFound(_)),
        "{error:?}"
    );
    // revoked: not found any more; revoking again keeps the first who and when
    let revoked = store
        .revoke_evidence_share(file.id, share.id, "api:lea")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_by.as_deref(), Some("api:lea"));
    assert!(revoked.revoked_at.is_some());
    assert_eq!(
        store
            .find_evidence_share(file.id, &share.token_sha256)
            .await
            .unwrap(),
        None
    );
    let twice = store
        .revoke_evidence_share(file.id, share.id, "api:autre")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(twice, revoked);
    assert_eq!(
        store
            .revoke_evidence_share(other.id, share.id, "api:lea")
            .await
            .unwrap(),
        None
    );
}
