//! Upgrade in place: a database and key directory made by an earlier release
//! (`tests/fixtures/upgrade/`, made by `scripts/make-upgrade-fixture.sh` with that release's
//! binary running `carnet demo`) open under this version, migrate, and every badge issued
//! before still answers at the same URL with the same bytes and verifies with the same keys:
//! OB 3.0 Data Integrity and VC-JWT, the OB 2.0 hosted and signed assertions, a revoked award
//! still revoked, and RS256 forms left unsigned by the old release signed now with the key the
//! award names. The same on PostgreSQL, from the dump that release made.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection};

use crate::common::backends::{on_postgres, on_sqlite};
use crate::common::server::Server;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upgrade");
/// The settings the fixture was made with (scripts/make-upgrade-fixture.sh).
const BASE_URL: &str = "https://badges.ime-exemple.example.org";
const SCHEMA: &str = "carnet_upgrade_fixture";

fn fixture(path: &str) -> PathBuf {
    Path::new(FIXTURE).join(path)
}

/// Copies the fixture's key directory (the upgrade may write to it; the fixture stays as made).
fn keys_copy(dir: &Path) -> PathBuf {
    let keys = dir.join("keys");
    let from = fixture("test-only-issuer-keys/ime");
    std::fs::create_dir_all(keys.join("ime")).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        let to = keys.join("ime").join(entry.file_name());
        std::fs::copy(entry.path(), &to).unwrap();
        // as carnet left them (git keeps no such mode: a fresh clone has them readable by all,
        // which carnet rightly refuses)
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    keys
}

async fn start(database_url: &str, keys: &Path) -> Server {
    let settings = [
        format!("--database-url={database_url}"),
        format!("--keys-dir={}", keys.display()),
        "--issuer-name=IME Les Tilleuls (fictif)".to_string(),
        "--issuer-email=contact@ime-exemple.example.org".to_string(),
        "--issuer-url=https://ime-exemple.example.org".to_string(),
    ];
    Server::start_configured(Some(BASE_URL), &settings).await
}

/// The path of a document on this instance, from its name in `awards.json`.
fn path_of(id: &str, name: &str) -> String {
    match name {
        "credential.json" => format!("/credentials/{id}.json"),
        "credential.jwt" => format!("/credentials/{id}.jwt"),
        "ob2.json" => format!("/ob2/assertions/{id}"),
        "ob2.jws" => format!("/ob2/assertions/{id}.jws"),
        other => panic!("unknown document {other}"),
    }
}

fn content_type(name: &str) -> &'static str {
    if name.ends_with(".json") {
        "application/json"
    } else {
        "text/plain"
    }
}

/// The kid of a compact JWS / JWT.
fn kid(compact: &str) -> String {
    use base64::Engine as _;
    let header = compact.split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: Value = serde_json::from_slice(&header).unwrap();
    header["kid"].as_str().unwrap_or_default().to_string()
}

/// Everything a client of the earlier release could see, seen again after the upgrade.
async fn still_serves_and_verifies(server: &Server, made_by: &str) {
    let dir = fixture(made_by);
    // the same keys, under the same ids
    let jwks: Value =
        serde_json::from_slice(&std::fs::read(dir.join("jwks.json")).unwrap()).unwrap();
    let now = server.get("/.well-known/jwks.json").await;
    assert_eq!(now.status, 200);
    assert_eq!(now.json(), jwks, "the key set changed");
    let kids: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str().map(str::to_string))
        .collect();

    let awards: Value =
        serde_json::from_slice(&std::fs::read(dir.join("awards.json")).unwrap()).unwrap();
    let awards = awards["awards"].as_array().unwrap();
    assert!(awards.len() >= 4, "the fixture holds the demo's awards");
    let mut signed_now = 0;
    for award in awards {
        let id = award["id"].as_str().unwrap();
        let revoked = award["state"] == "revoked";
        for (name, kept) in award["documents"].as_object().unwrap() {
            let path = path_of(id, name);
            let answer = server.get(&path).await;
            match &kept["status"] {
                Value::Number(status) if status.as_u64() == Some(200) => {
                    assert_eq!(answer.status, 200, "{path}");
                    let before = std::fs::read(dir.join(kept["file"].as_str().unwrap())).unwrap();
                    assert!(answer.body == before, "{path} changed after the upgrade");
                }
                Value::Number(status) => {
                    assert_eq!(Some(u64::from(answer.status)), status.as_u64(), "{path}");
                    continue;
                }
                // left unsigned by the earlier release: signed now, with a key it published
                // (the VC-JWT names it; the OB 2.0 assertion names its key's URL, which the
                // verifier below follows)
                _ => {
                    assert_eq!(answer.status, 200, "{path}: {}", answer.text());
                    if name == "credential.jwt" {
                        assert!(
                            kids.contains(&kid(&answer.text())),
                            "{path} signed by a new key"
                        );
                    }
                    signed_now += 1;
                }
            }
            if name == "ob2.json" {
                continue; // the hosted assertion is verified through its signed form
            }
            let report = server
                .verify(content_type(name), answer.body.clone(), None)
                .await;
            let checks = serde_json::to_string_pretty(&report["checks"]).unwrap();
            if revoked {
                assert_eq!(report["verdict"], "invalid", "{path}: {checks}");
                assert_eq!(report["reason"], "revoked", "{path}: {checks}");
            } else if report["verdict"] != "valid" {
                // the demo's award valid for one minute has expired since
                assert_eq!(report["reason"], "expired", "{path}: {checks}");
            }
        }
    }
    assert_eq!(
        signed_now, 2,
        "one award's VC-JWT and OB 2.0 signed assertion were left unsigned"
    );

    // a badge issued now takes the next slot of the list opened before the upgrade, which goes
    // on handing out its slots in order (lists opened since have a shuffle key), and verifies
    let store = &server.app.store;
    let purpose = carnet::store::StatusPurpose::Revocation;
    let before = store.status_list("ime", purpose, 0).await.unwrap().unwrap();
    let award = server.issue().await;
    let id: uuid::Uuid = award["id"].as_str().unwrap().parse().unwrap();
    let stored = store.get_award(id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status_list, stored.status_index),
        (Some(0), Some(before.allocated))
    );
    let credential = server.form(&award, "json").await;
    let report = server
        .verify("application/json", credential.body, None)
        .await;
    assert_eq!(report["verdict"], "valid", "{report}");
}

#[tokio::test]
async fn a_sqlite_database_of_the_earlier_release_upgrades_and_its_badges_still_verify() {
    on_sqlite(|url| async move {
        let file = url.strip_prefix("sqlite://").unwrap();
        std::fs::create_dir_all(Path::new(file).parent().unwrap()).unwrap();
        std::fs::copy(fixture("sqlite/carnet.db"), file).unwrap();
        let keys = keys_copy(Path::new(file).parent().unwrap());
        let server = start(&url, &keys).await;
        still_serves_and_verifies(&server, "sqlite").await;
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_postgres_database_of_the_earlier_release_upgrades_and_its_badges_still_verify() {
    on_postgres(|url| async move {
        // the dump, restored into the fresh schema this test was given
        let schema = url.rsplit("search_path%3D").next().unwrap().to_string();
        let base = std::env::var("TEST_DATABASE_URL").unwrap();
        let dump = std::fs::read_to_string(fixture("postgres.sql")).unwrap();
        // psql's own commands (`\restrict`…) are not SQL
        let dump: String = dump
            .lines()
            .filter(|line| !line.starts_with('\\'))
            .collect::<Vec<_>>()
            .join("\n")
            .replace(&format!("CREATE SCHEMA {SCHEMA};"), "")
            .replace(SCHEMA, &schema);
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(dump))
            .execute(&mut admin)
            .await
            .expect("the dump restores");
        let dir = tempfile::tempdir().unwrap();
        let keys = keys_copy(dir.path());
        let server = start(&url, &keys).await;
        still_serves_and_verifies(&server, "postgres").await;
        server.shutdown().await;
    })
    .await;
}
