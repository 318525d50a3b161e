//! The one way the store talks to a database, so that every query is written once.
//!
//! A query is PostgreSQL's SQL with `$1`, `$2`… placeholders (SQLite reads `$N` as the N-th
//! argument too). Values are bound by kind ([`Value`]: text, integer, id, time, bytes) and rows
//! read by kind ([`Row`]); this file is the only place that knows how each backend stores a kind:
//!
//! | kind | SQLite | PostgreSQL |
//! | --- | --- | --- |
//! | id | `TEXT`, hyphenated lower case | `UUID` |
//! | time | `TEXT`, RFC 3339 UTC, six fractional digits (text order = time order) | `TIMESTAMPTZ` |
//! | integer | `INTEGER` (64 bits) | `INTEGER` / `BIGINT` (an `INT8` argument is cast on assignment) |
//!
//! Two more differences are rewritten for SQLite, which locks the whole database for a
//! write transaction (`BEGIN IMMEDIATE`, [`Db::begin`]) and compares text bytewise already:
//! ` FOR UPDATE` and ` COLLATE "C"` are removed. A list of values is spelled out
//! ([`in_list`]) rather than bound as an array. A unique violation becomes
//! [`StoreError::Conflict`] naming the constraint as PostgreSQL does ([`CONSTRAINTS`]).
//!
//! Chosen over a query builder: sea-query's sqlx binder targets sqlx 0.8, and the differences
//! are few enough for one small file.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::{Column, Row as _, TypeInfo};
use uuid::Uuid;

use super::{ConflictOn, StoreError};

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite writer waits for another writer's lock before failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A pool of connections to one database, migrated.
#[derive(Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction; dropped without [`Tx::commit`], it rolls back.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Where a query runs: on the pool (its own connection, autocommit) or in a transaction.
pub(crate) enum On<'e> {
    Db(&'e Db),
    Tx(&'e mut Tx),
}

impl<'e> From<&'e Db> for On<'e> {
    fn from(db: &'e Db) -> Self {
        On::Db(db)
    }
}

impl<'e> From<&'e mut Tx> for On<'e> {
    fn from(tx: &'e mut Tx) -> Self {
        On::Tx(tx)
    }
}

impl Db {
    /// Opens the SQLite database of a `sqlite:` URL (creating the file and its folder) and
    /// migrates it: WAL journal, foreign keys on, busy timeout.
    pub(crate) async fn open_sqlite(url: &str) -> Result<Db, StoreError> {
        let mut options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::Database)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            // The pool opens connections later: a relative path must not follow the
            // current directory if it changes after `open`.
            let file = absolute(options.get_filename())?;
            create_parent_dir(&file)?;
            options = options.filename(file);
        }
        let pool_options = if in_memory {
            // An in-memory database lives as long as its connections: keep exactly one.
            SqlitePoolOptions::new()
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new()
        };
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(StoreError::Database)?;
        SQLITE_MIGRATOR
            .run(&pool)
            .await
            .map_err(StoreError::Migration)?;
        Ok(Db::Sqlite(pool))
    }

    /// Connects to the PostgreSQL database of a `postgres://` URL and migrates it. URL
    /// parameters pass through (`?options=-c search_path=…` puts the tables in that schema).
    pub(crate) async fn open_postgres(url: &str) -> Result<Db, StoreError> {
        let connect = PgConnectOptions::from_str(url).map_err(StoreError::Database)?;
        let pool = PgPoolOptions::new()
            .connect_with(connect)
            .await
            .map_err(StoreError::Database)?;
        POSTGRES_MIGRATOR
            .run(&pool)
            .await
            .map_err(StoreError::Migration)?;
        Ok(Db::Postgres(pool))
    }

    /// `"sqlite"` or `"postgres"`.
    pub(crate) fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Starts a transaction that may write. SQLite takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a busy database waits (busy timeout) instead of failing half-way
    /// when a read lock cannot be upgraded; PostgreSQL locks rows (`FOR UPDATE`) as it goes.
    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        match self {
            Db::Sqlite(pool) => pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map(Tx::Sqlite)
                .map_err(db_error),
            Db::Postgres(pool) => pool.begin().await.map(Tx::Postgres).map_err(db_error),
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
        .map_err(db_error)
    }
}

/// A value bound to a placeholder, by kind; `None` is SQL `NULL` of that kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Id(Option<Uuid>),
    Time(Option<DateTime<Utc>>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! value_from {
    ($($ty:ty => |$v:ident| $make:expr;)*) => {
        $(impl From<$ty> for Value {
            fn from($v: $ty) -> Value {
                $make
            }
        })*
    };
}

value_from! {
    String => |v| Value::Text(Some(v));
    &String => |v| Value::Text(Some(v.clone()));
    &str => |v| Value::Text(Some(v.to_owned()));
    Option<String> => |v| Value::Text(v);
    Option<&String> => |v| Value::Text(v.cloned());
    Option<&str> => |v| Value::Text(v.map(str::to_owned));
    &Option<String> => |v| Value::Text(v.clone());
    i64 => |v| Value::Int(Some(v));
    Option<i64> => |v| Value::Int(v);
    u32 => |v| Value::Int(Some(i64::from(v)));
    Option<u32> => |v| Value::Int(v.map(i64::from));
    Uuid => |v| Value::Id(Some(v));
    Option<Uuid> => |v| Value::Id(v);
    DateTime<Utc> => |v| Value::Time(Some(v));
    Option<DateTime<Utc>> => |v| Value::Time(v);
    Vec<u8> => |v| Value::Bytes(Some(v));
    &[u8] => |v| Value::Bytes(Some(v.to_vec()));
    Option<Vec<u8>> => |v| Value::Bytes(v);
}

/// A statement and its arguments: `query("… WHERE id = $1").bind(id).fetch_optional(&db)`.
#[must_use = "a query does nothing until it is run"]
pub(crate) struct Query {
    sql: Cow<'static, str>,
    args: Vec<Value>,
}

pub(crate) fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// `$first, $first+1, …` for `n` values, for `IN (…)` lists and multi-row `VALUES`.
pub(crate) fn in_list(first: usize, n: usize) -> String {
    let placeholders: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    placeholders.join(", ")
}

/// `($1, …, $columns), ($columns+1, …)…` for a multi-row `VALUES` of `rows` rows.
pub(crate) fn values(rows: usize, columns: usize) -> String {
    let rows: Vec<String> = (0..rows)
        .map(|i| format!("({})", in_list(1 + i * columns, columns)))
        .collect();
    rows.join(", ")
}

/// PostgreSQL's SQL as SQLite reads it (see the module documentation).
fn sqlite_sql(sql: Cow<'static, str>) -> Cow<'static, str> {
    if sql.contains(" FOR UPDATE") || sql.contains(" COLLATE \"C\"") {
        Cow::Owned(sql.replace(" FOR UPDATE", "").replace(" COLLATE \"C\"", ""))
    } else {
        sql
    }
}

fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

// `AssertSqlSafe`: every statement is made of this module's callers' constants and of
// placeholders (`in_list`); values only ever travel as arguments.
fn sqlite_query(
    sql: Cow<'static, str>,
    args: Vec<Value>,
) -> sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sqlite_sql(sql)));
    for value in args {
        q = match value {
            Value::Text(v) => q.bind(v),
            Value::Int(v) => q.bind(v),
            Value::Id(v) => q.bind(v.map(|id| id.hyphenated().to_string())),
            Value::Time(v) => q.bind(v.map(time_text)),
            Value::Bytes(v) => q.bind(v),
        };
    }
    q
}

fn postgres_query(
    sql: Cow<'static, str>,
    args: Vec<Value>,
) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for value in args {
        q = match value {
            Value::Text(v) => q.bind(v),
            Value::Int(v) => q.bind(v),
            Value::Id(v) => q.bind(v),
            Value::Time(v) => q.bind(v),
            Value::Bytes(v) => q.bind(v),
        };
    }
    q
}

/// Runs `$query` with the method `$method` wherever `$on` says, turning each backend's
/// result into ours with `|$r, $row| $make` (`$row` is the constructor of [`Row`]).
macro_rules! run {
    ($query:expr, $on:expr, $method:ident, |$r:ident, $row:ident| $make:expr) => {{
        let Query { sql, args } = $query;
        match $on {
            On::Db(Db::Sqlite(pool)) => {
                let $row = Row::Sqlite;
                sqlite_query(sql, args).$method(pool).await.map(|$r| $make)
            }
            On::Tx(Tx::Sqlite(tx)) => {
                let $row = Row::Sqlite;
                sqlite_query(sql, args)
                    .$method(&mut **tx)
                    .await
                    .map(|$r| $make)
            }
            On::Db(Db::Postgres(pool)) => {
                let $row = Row::Postgres;
                postgres_query(sql, args)
                    .$method(pool)
                    .await
                    .map(|$r| $make)
            }
            On::Tx(Tx::Postgres(tx)) => {
                let $row = Row::Postgres;
                postgres_query(sql, args)
                    .$method(&mut **tx)
                    .await
                    .map(|$r| $make)
            }
        }
        .map_err(db_error)
    }};
}

impl Query {
    pub(crate) fn bind(mut self, value: impl Into<Value>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Binds every value of a list, in order (for an [`in_list`]).
    pub(crate) fn bind_all<V: Into<Value>>(mut self, values: impl IntoIterator<Item = V>) -> Self {
        self.args.extend(values.into_iter().map(Into::into));
        self
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) async fn execute(self, on: impl Into<On<'_>>) -> Result<u64, StoreError> {
        run!(self, on.into(), execute, |done, _row| done.rows_affected())
    }

    pub(crate) async fn fetch_all(self, on: impl Into<On<'_>>) -> Result<Vec<Row>, StoreError> {
        run!(self, on.into(), fetch_all, |rows, row| rows
            .into_iter()
            .map(row)
            .collect())
    }

    pub(crate) async fn fetch_optional(
        self,
        on: impl Into<On<'_>>,
    ) -> Result<Option<Row>, StoreError> {
        run!(self, on.into(), fetch_optional, |found, row| found.map(row))
    }

    pub(crate) async fn fetch_one(self, on: impl Into<On<'_>>) -> Result<Row, StoreError> {
        run!(self, on.into(), fetch_one, |found, row| row(found))
    }

    /// Every row, each read by `read`.
    pub(crate) async fn fetch_all_with<T>(
        self,
        on: impl Into<On<'_>>,
        read: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.fetch_all(on).await?.iter().map(read).collect()
    }

    /// The row if there is one, read by `read`.
    pub(crate) async fn fetch_optional_with<T>(
        self,
        on: impl Into<On<'_>>,
        read: impl FnOnce(&Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.fetch_optional(on)
            .await?
            .as_ref()
            .map(read)
            .transpose()
    }

    /// The one row, read by `read`.
    pub(crate) async fn fetch_one_with<T>(
        self,
        on: impl Into<On<'_>>,
        read: impl FnOnce(&Row) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        read(&self.fetch_one(on).await?)
    }
}

/// A row read back; its getters name the column and say what was wrong with it.
pub(crate) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

fn corrupt(name: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column {name}: {error}"))
}

fn parse_time(name: &str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|e| corrupt(name, format!("{text:?} is not RFC 3339: {e}")))
}

fn parse_id(name: &str, text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| corrupt(name, format!("{text:?} is not a UUID: {e}")))
}

fn required<T>(name: &str, value: Option<T>) -> Result<T, StoreError> {
    value.ok_or_else(|| corrupt(name, "NULL where a value is required"))
}

impl Row {
    fn get<'r, T>(&'r self, name: &str) -> Result<T, StoreError>
    where
        T: sqlx::Decode<'r, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + sqlx::Decode<'r, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>,
    {
        match self {
            Row::Sqlite(row) => row.try_get(name),
            Row::Postgres(row) => row.try_get(name),
        }
        .map_err(|e| corrupt(name, e))
    }

    /// The PostgreSQL type of a column ("INT4", "UUID"…); `None` on SQLite, whose values
    /// carry their own storage class.
    fn postgres_type(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self {
            Row::Sqlite(_) => Ok(None),
            Row::Postgres(row) => {
                let column = row.try_column(name).map_err(|e| corrupt(name, e))?;
                Ok(Some(column.type_info().name().to_owned()))
            }
        }
    }

    pub(crate) fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.get(name)
    }

    pub(crate) fn text(&self, name: &str) -> Result<String, StoreError> {
        required(name, self.opt_text(name)?)
    }

    pub(crate) fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.postgres_type(name)?.as_deref() {
            Some("INT4") => Ok(self.get::<Option<i32>>(name)?.map(i64::from)),
            Some("INT2") => Ok(self.get::<Option<i16>>(name)?.map(i64::from)),
            _ => self.get(name),
        }
    }

    pub(crate) fn int(&self, name: &str) -> Result<i64, StoreError> {
        required(name, self.opt_int(name)?)
    }

    /// A list number, index, size or count: a non-negative integer that fits 32 bits.
    pub(crate) fn opt_u32(&self, name: &str) -> Result<Option<u32>, StoreError> {
        self.opt_int(name)?
            .map(|v| u32::try_from(v).map_err(|_| corrupt(name, format!("{v} is out of range"))))
            .transpose()
    }

    pub(crate) fn u32(&self, name: &str) -> Result<u32, StoreError> {
        required(name, self.opt_u32(name)?)
    }

    /// A count or revision: a non-negative integer.
    pub(crate) fn u64(&self, name: &str) -> Result<u64, StoreError> {
        let v = self.int(name)?;
        u64::try_from(v).map_err(|_| corrupt(name, format!("{v} is negative")))
    }

    pub(crate) fn opt_id(&self, name: &str) -> Result<Option<Uuid>, StoreError> {
        match self.postgres_type(name)?.as_deref() {
            Some("UUID") => self.get(name),
            _ => self
                .opt_text(name)?
                .map(|text| parse_id(name, &text))
                .transpose(),
        }
    }

    pub(crate) fn id(&self, name: &str) -> Result<Uuid, StoreError> {
        required(name, self.opt_id(name)?)
    }

    pub(crate) fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.postgres_type(name)?.as_deref() {
            Some("TIMESTAMPTZ") => self.get(name),
            _ => self
                .opt_text(name)?
                .map(|text| parse_time(name, &text))
                .transpose(),
        }
    }

    pub(crate) fn time(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        required(name, self.opt_time(name)?)
    }

    pub(crate) fn bytes(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        required(name, self.get(name)?)
    }
}

/// Every unique constraint: its name (as PostgreSQL reports it), then its table and columns,
/// which SQLite names instead ("UNIQUE constraint failed: awards.issuer_slug, awards.id").
pub(crate) const CONSTRAINTS: &[&str] = &[
    "awards_pkey: awards(id)",
    "institutions_pkey: institutions(slug)",
    "institution_keys_pkey: institution_keys(issuer_slug, kid)",
    "badge_classes_pkey: badge_classes(issuer_slug, slug)",
    "awards_credential_id_key: awards(credential_id)",
    "awards_issuer_idempotency_key: awards(issuer_slug, idempotency_key)",
    "awards_status_slot: awards(issuer_slug, status_list, status_index)",
    "status_lists_pkey: status_lists(issuer_slug, purpose, list_number)",
    "badge_class_versions_pkey: badge_class_versions(issuer_slug, badge_class_slug, version)",
    "referentiels_pkey: referentiels(issuer_slug, id, version)",
    "carnets_pkey: carnets(id)",
    "carnets_person_referentiel: carnets(issuer_slug, person_key, referentiel_id, \
     referentiel_version)",
    "carnet_entries_pkey: carnet_entries(carnet_id, competence)",
    "bulk_jobs_pkey: bulk_jobs(id)",
    "bulk_jobs_unfinished_file: bulk_jobs(issuer_slug, kind, badge_class_slug, batch, file_sha256)",
    "bulk_rows_pkey: bulk_rows(job_id, line)",
    "bulk_rows_job_key: bulk_rows(job_id, idempotency_key)",
    "badge_requests_pkey: badge_requests(id)",
    "evidence_files_pkey: evidence_files(id)",
    "evidence_files_request_sha256: evidence_files(request_id, sha256)",
    "evidence_shares_pkey: evidence_shares(id)",
    "evidence_shares_token_key: evidence_shares(token_sha256)",
    "endorsement_invitations_pkey: endorsement_invitations(id)",
    "endorsement_invitations_token_key: endorsement_invitations(token_sha256)",
    "endorsements_pkey: endorsements(id)",
    "endorsements_invitation_key: endorsements(invitation_id)",
    "endorsements_endorser_key: endorsements(endorser_id)",
    "request_award_reservations_pkey: request_award_reservations(request_id)",
    "request_award_reservations_award_key: request_award_reservations(award_id)",
    "api_tokens_pkey: api_tokens(id)",
    "api_tokens_sha256_key: api_tokens(token_sha256)",
];

/// The constraint SQLite's message is about: "UNIQUE constraint failed: t.a, t.b" names the
/// columns ([`CONSTRAINTS`]), "…: index 'name'" an index.
fn sqlite_constraint(message: &str) -> String {
    let what = message.rsplit_once(": ").map_or(message, |(_, what)| what);
    if let Some(index) = what
        .strip_prefix("index '")
        .and_then(|rest| rest.strip_suffix('\''))
    {
        return index.to_owned();
    }
    let columns = what.split_whitespace().collect::<Vec<_>>().join(" ");
    CONSTRAINTS
        .iter()
        .filter_map(|constraint| constraint.split_once(": "))
        .find(|(_, on)| sqlite_columns(on) == columns)
        .map_or(columns, |(name, _)| name.to_owned())
}

/// `t(a, b)` as SQLite names it: `t.a, t.b`.
fn sqlite_columns(on: &str) -> String {
    let (table, columns) = on.trim_end_matches(')').split_once('(').unwrap_or((on, ""));
    let named: Vec<String> = columns
        .split(", ")
        .map(|c| format!("{table}.{c}"))
        .collect();
    named.join(", ")
}

/// The one place where database errors are classified: a unique violation becomes
/// [`StoreError::Conflict`] naming its constraint, the rest [`StoreError::Database`].
pub(crate) fn db_error(error: sqlx::Error) -> StoreError {
    if let Some(db) = error.as_database_error()
        && db.is_unique_violation()
    {
        let constraint = match db.constraint() {
            Some(name) => name.to_owned(),
            None => sqlite_constraint(db.message()),
        };
        return StoreError::Conflict(ConflictOn::from_constraint(&constraint));
    }
    StoreError::Database(error)
}

fn absolute(file: &std::path::Path) -> Result<std::path::PathBuf, StoreError> {
    std::path::absolute(file).map_err(|source| StoreError::SqlitePath {
        path: file.to_owned(),
        source,
    })
}

fn create_parent_dir(file: &std::path::Path) -> Result<(), StoreError> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::SqlitePath {
                path: dir.to_owned(),
                source,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_reads_postgres_sql_without_row_locks_or_collations() {
        assert_eq!(
            sqlite_sql("SELECT a FROM t WHERE id = $1 ORDER BY a COLLATE \"C\" FOR UPDATE".into()),
            "SELECT a FROM t WHERE id = $1 ORDER BY a"
        );
        assert!(matches!(sqlite_sql("SELECT 1".into()), Cow::Borrowed(_)));
    }

    #[test]
    fn lists_are_spelled_out() {
        assert_eq!(in_list(3, 3), "$3, $4, $5");
        assert_eq!(in_list(1, 1), "$1");
        assert_eq!(in_list(1, 0), "");
    }

    #[test]
    fn sqlite_unique_violations_are_named_as_postgres_names_them() {
        assert_eq!(
            sqlite_constraint(
                "UNIQUE constraint failed: awards.issuer_slug, awards.idempotency_key"
            ),
            "awards_issuer_idempotency_key"
        );
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: index 'bulk_jobs_unfinished_file'"),
            "bulk_jobs_unfinished_file"
        );
        assert_eq!(
            sqlite_constraint(
                "UNIQUE constraint failed: carnets.issuer_slug, carnets.person_key, \
                 carnets.referentiel_id, carnets.referentiel_version"
            ),
            "carnets_person_referentiel"
        );
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: awards.id"),
            "awards_pkey"
        );
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: t.x"),
            "t.x",
            "an unknown constraint keeps SQLite's words"
        );
    }
}
