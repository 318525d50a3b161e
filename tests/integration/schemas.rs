//! The two backends' migrations make the same schema: the same tables, the same columns (their
//! order aside: SQLite rebuilds a table where PostgreSQL adds a column), the same nullability,
//! and types that hold the same values (SQLite's TEXT ids and
//! times are PostgreSQL's UUID and TIMESTAMPTZ: `src/store/db.rs`). A migration written for
//! one backend and forgotten, or written differently, for the other fails here.

use std::collections::BTreeMap;

use sqlx::{Connection, Row};

use crate::common::backends::{on_postgres, on_sqlite};

/// Table → its columns in order: (name, type as a family, nullable).
type Schema = BTreeMap<String, Vec<(String, &'static str, bool)>>;

/// What a column holds, whatever the backend calls it.
fn family(declared: &str) -> &'static str {
    match declared.to_ascii_uppercase().as_str() {
        "TEXT" | "UUID" | "TIMESTAMP WITH TIME ZONE" | "DATE" => "text",
        "INTEGER" | "BIGINT" | "SMALLINT" => "integer",
        "BLOB" | "BYTEA" => "bytes",
        "BOOLEAN" => "boolean",
        other => panic!("a column type this test does not know: {other}"),
    }
}

async fn sqlite_schema(url: String) -> Schema {
    carnet::store::open(&url).await.unwrap().close().await;
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for table in tables {
        let columns = sqlx::query(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(&table)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let declared: String = row.get("type");
            // a PRIMARY KEY column is NOT NULL on PostgreSQL even when SQLite does not say so
            let nullable = row.get::<i64, _>("notnull") == 0 && row.get::<i64, _>("pk") == 0;
            (row.get("name"), family(&declared), nullable)
        })
        .collect();
        schema.insert(table, columns);
    }
    schema
}

async fn postgres_schema(url: String) -> Schema {
    carnet::store::open(&url).await.unwrap().close().await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS d, \
         is_nullable::text AS n FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for row in rows {
        let declared: String = row.get("d");
        let nullable: String = row.get("n");
        schema.entry(row.get("t")).or_default().push((
            row.get("c"),
            family(&declared),
            nullable == "YES",
        ));
    }
    schema
}

#[tokio::test]
async fn both_backends_migrate_to_the_same_schema() {
    let sqlite = std::sync::Arc::new(std::sync::Mutex::new(Schema::new()));
    let into = sqlite.clone();
    on_sqlite(|url| async move {
        *into.lock().unwrap() = sqlite_schema(url).await;
    })
    .await;
    let sqlite = sqlite.lock().unwrap().clone();
    assert!(
        sqlite.contains_key("awards") && sqlite.len() >= 15,
        "{sqlite:#?}"
    );
    on_postgres(move |url| async move {
        let postgres = postgres_schema(url).await;
        assert_eq!(
            sqlite.keys().collect::<Vec<_>>(),
            postgres.keys().collect::<Vec<_>>(),
            "the same tables"
        );
        for (table, columns) in &sqlite {
            let sorted = |columns: &[(String, &'static str, bool)]| {
                let mut columns = columns.to_vec();
                columns.sort();
                columns
            };
            assert_eq!(
                sorted(columns),
                sorted(&postgres[table]),
                "the columns of {table}"
            );
        }
    })
    .await;
}
