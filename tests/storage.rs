//! One storage suite for every backend: each test is an async function that only sees
//! `Arc<dyn Store>`, run on SQLite always (a file in a temporary directory) and on
//! PostgreSQL when `TEST_DATABASE_URL` is set, e.g.
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test --test storage`.
//!
//! Tests run in parallel against one PostgreSQL database, so each one gets a fresh schema
//! `carnet_test_<uuid>` (through `?options=-c search_path=...`, passed on by `open`) and
//! drops it at the end, even when the test fails.

use std::future::Future;
use std::sync::Arc;

use carnet::store::{self, AwardEventKind, ConflictOn, NewAward, Store, StoreError};
use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{AssertSqlSafe, Connection};
use uuid::Uuid;

// ---- fixtures -------------------------------------------------------------------------

/// An award for `issuer` with every field filled in and unique ids.
fn sample(issuer: &str) -> NewAward {
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
        credential_jwt: "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln".to_owned(),
        // nanoseconds on purpose: both backends keep microseconds
        valid_from: at("2025-09-01T08:30:00.123456789Z"),
        valid_until: Some(at("2028-09-01T08:30:00Z")),
        issued_by: "cli:educatrice".to_owned(),
        idempotency_key: Some(format!("bulk-{id}")),
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

async fn run_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    // a missing parent directory: `open` creates it
    let url = format!("sqlite://{}/data/carnet.db", dir.path().display());
    let store = store::open(&url).await.expect("open sqlite");
    assert_eq!(store.backend(), "sqlite");
    test(store.clone(), url).await;
    store.close().await;
}

async fn run_postgres<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("SKIP postgres: TEST_DATABASE_URL not set");
        return;
    };
    let schema = format!("carnet_test_{}", Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to TEST_DATABASE_URL");
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    // In a task, so that a failing test still drops its schema below.
    let outcome = tokio::spawn(async move {
        let store = store::open(&url).await.expect("open postgres");
        assert_eq!(store.backend(), "postgres");
        test(store.clone(), url).await;
        store.close().await;
    })
    .await;
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Declares each suite function once per backend: `sqlite::name` and `postgres::name`.
/// `store` tests take the store; `url` tests take the store and the URL it was opened with.
macro_rules! suite {
    (store: [$($store_test:ident),* $(,)?], url: [$($url_test:ident),* $(,)?] $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $store_test() {
                super::run_sqlite(|store, _url| super::$store_test(store)).await
            })*
            $(#[tokio::test]
            async fn $url_test() {
                super::run_sqlite(super::$url_test).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $store_test() {
                super::run_postgres(|store, _url| super::$store_test(store)).await
            })*
            $(#[tokio::test]
            async fn $url_test() {
                super::run_postgres(super::$url_test).await
            })*
        }
    };
}

suite!(
    store: [
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
    ],
    url: [reopening_runs_migrations_again_without_harm],
);

// ---- the suite ------------------------------------------------------------------------

async fn insert_then_get_returns_every_field(store: Arc<dyn Store>) {
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
        ..sample(&new.issuer_slug)
    };
    let inserted = store.insert_award(&bare).await.unwrap();
    assert_eq!(inserted.recipient_name, None);
    assert_eq!(inserted.valid_until, None);
    assert_eq!(inserted.idempotency_key, None);
    assert_eq!(store.get_award(bare.id).await.unwrap(), Some(inserted));
}

async fn unknown_award_is_none(store: Arc<dyn Store>) {
    store.insert_award(&sample(&issuer())).await.unwrap();
    assert_eq!(store.get_award(Uuid::new_v4()).await.unwrap(), None);
    let by_credential = store.get_award_by_credential_id("urn:uuid:nobody").await;
    assert_eq!(by_credential.unwrap(), None);
    let by_key = store.find_by_idempotency_key("ime-x", "nope").await;
    assert_eq!(by_key.unwrap(), None);
    assert!(store.award_events(Uuid::new_v4()).await.unwrap().is_empty());
}

async fn duplicate_credential_id_is_a_conflict_and_keeps_the_first(store: Arc<dyn Store>) {
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

async fn duplicate_award_id_is_a_conflict(store: Arc<dyn Store>) {
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

async fn duplicate_idempotency_key_is_a_conflict_within_one_issuer(store: Arc<dyn Store>) {
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

async fn find_by_idempotency_key_finds_the_award(store: Arc<dyn Store>) {
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

async fn list_and_count_page_through_one_issuer(store: Arc<dyn Store>) {
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

    let mut listed = Vec::new();
    for page in 0..3 {
        let awards = store.list_awards(&one, 3, page * 3).await.unwrap();
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
    assert!(store.list_awards(&one, 3, 7).await.unwrap().is_empty());
    assert!(store.list_awards(&one, 0, 0).await.unwrap().is_empty());
}

async fn insert_records_the_issued_event(store: Arc<dyn Store>) {
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
async fn failing_event_insert_leaves_no_award(store: Arc<dyn Store>) {
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

async fn clear_email_is_refused(store: Arc<dyn Store>) {
    let new = NewAward {
        recipient_identity: "elodie@example.org".to_owned(),
        ..sample(&issuer())
    };
    let error = store.insert_award(&new).await.unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert_eq!(store.get_award(new.id).await.unwrap(), None);
}

async fn ping_answers(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
}

async fn reopening_runs_migrations_again_without_harm(store: Arc<dyn Store>, url: String) {
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

// ---- not tied to a backend, or SQLite only ---------------------------------------------

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
/// relative `sqlite:` path is created (with its parent) under the current directory.
#[tokio::test]
async fn sqlite_migrations_are_embedded_and_relative_paths_are_created() {
    let elsewhere = tempfile::tempdir().unwrap();
    let previous = std::env::current_dir().unwrap();
    std::env::set_current_dir(elsewhere.path()).unwrap();
    // Other tests use absolute paths only, so changing the directory does not affect them.
    let opened = store::open("sqlite:state/carnet.db").await;
    std::env::set_current_dir(previous).unwrap();

    let store = opened.expect("open from another directory");
    assert!(elsewhere.path().join("state/carnet.db").is_file());
    let award = store.insert_award(&sample(&issuer())).await.unwrap();
    assert_eq!(store.get_award(award.id).await.unwrap(), Some(award));
    store.close().await;
}

#[tokio::test]
async fn sqlite_in_memory_keeps_data_while_open() {
    let store = store::open("sqlite::memory:").await.unwrap();
    let new = sample(&issuer());
    store.insert_award(&new).await.unwrap();
    assert!(store.get_award(new.id).await.unwrap().is_some());
    assert_eq!(store.count_awards(&new.issuer_slug).await.unwrap(), 1);
}
