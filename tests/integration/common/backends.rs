//! One test, both databases: [`suite!`] declares each test function once per backend, as
//! `MODULE::sqlite::TEST` and `MODULE::postgres::TEST`. SQLite always (a file in a temporary
//! directory); PostgreSQL when `TEST_DATABASE_URL` is set, e.g.
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test --test integration storage`,
//! and otherwise a visible SKIP line.
//!
//! Tests run in parallel against one PostgreSQL database, so each one gets a fresh schema
//! `carnet_test_<uuid>` (through `?options=-c search_path=...`, passed on by `store::open`) and
//! drops it at the end, even when the test fails.

use std::future::Future;
use std::sync::Arc;

use carnet::store::{self, Store};
use sqlx::{AssertSqlSafe, Connection};

/// Runs `test` on a store opened on a new SQLite file, with the URL it was opened with. The file's
/// parent directory does not exist yet: `open` creates it.
pub async fn run_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Arc<Store>, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/carnet.db", dir.path().display());
    let store = store::open(&url).await.expect("open sqlite");
    assert_eq!(store.backend(), "sqlite");
    test(store.clone(), url).await;
    store.close().await;
}

/// Runs `test` on a store opened on a fresh PostgreSQL schema, with the URL it was opened with.
pub async fn run_postgres<F, Fut>(test: F)
where
    F: FnOnce(Arc<Store>, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_postgres(|url| async move {
        let store = store::open(&url).await.expect("open postgres");
        assert_eq!(store.backend(), "postgres");
        test(store.clone(), url).await;
        store.close().await;
    })
    .await
}

/// Runs `test` with the URL of a new SQLite file and nothing opened on it (the `carnet` binary
/// makes the database).
pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    test(format!("sqlite://{}/data/carnet.db", dir.path().display())).await;
}

/// Runs `test` with the URL of a fresh, empty PostgreSQL schema, dropped afterwards even when the
/// test fails; a SKIP line instead when `TEST_DATABASE_URL` is not set.
pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        // Once, straight to the process's stderr (libtest's capture would hide an eprintln!).
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"SKIP postgres: TEST_DATABASE_URL not set, the postgres:: tests check nothing\n",
            );
        });
        eprintln!("SKIP postgres: TEST_DATABASE_URL not set");
        return;
    };
    let schema = format!("carnet_test_{}", uuid::Uuid::new_v4().simple());
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
    let outcome = tokio::spawn(test(url)).await;
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Declares each test function once per backend, in modules `sqlite` and `postgres` of the
/// calling module. By what the function takes:
/// - `store: [f, ...]`: `async fn f(store: Arc<Store>)`;
/// - `url: [f, ...]`: `async fn f(store: Arc<Store>, url: String)`, the URL it was opened with;
/// - `database: [f, ...]`: `async fn f(url: String)`, an empty database nothing has opened yet.
///
/// ```ignore
/// backends::suite!(store: [insert_then_get], url: [reopening_runs_migrations_again]);
/// ```
macro_rules! suite {
    ($($kind:ident: [$($test:ident),* $(,)?]),* $(,)?) => {
        mod sqlite {
            $($($crate::common::backends::suite!(@test sqlite $kind $test);)*)*
        }
        mod postgres {
            $($($crate::common::backends::suite!(@test postgres $kind $test);)*)*
        }
    };
    (@test sqlite store $test:ident) => {
        #[tokio::test]
        async fn $test() {
            $crate::common::backends::run_sqlite(|store, _url| super::$test(store)).await
        }
    };
    (@test postgres store $test:ident) => {
        #[tokio::test]
        async fn $test() {
            $crate::common::backends::run_postgres(|store, _url| super::$test(store)).await
        }
    };
    (@test sqlite url $test:ident) => {
        #[tokio::test]
        async fn $test() {
            $crate::common::backends::run_sqlite(super::$test).await
        }
    };
    (@test postgres url $test:ident) => {
        #[tokio::test]
        async fn $test() {
            $crate::common::backends::run_postgres(super::$test).await
        }
    };
    (@test sqlite database $test:ident) => {
        #[tokio::test]
        async fn $test() {
            $crate::common::backends::on_sqlite(super::$test).await
        }
    };
    (@test postgres database $test:ident) => {
        #[tokio::test]
        async fn $test() {
            $crate::common::backends::on_postgres(super::$test).await
        }
    };
}

pub(crate) use suite;
