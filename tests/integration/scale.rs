//! Scale benchmark (issue #13 §8), `#[ignore]`d: run by `scripts/bench-scale.sh`, which fills a
//! PostgreSQL schema with 1,000,000 awards across 50 institutions (`ime-01` .. `ime-50`) and runs
//! `cargo test --release --test integration scale:: -- --ignored --nocapture --test-threads=1`
//! with `CARNET_SCALE_DATABASE_URL` naming that schema (`?options=-c%20search_path%3D...`).
//! Without it, each test prints a SKIP line and checks nothing.
//!
//! - `migrate`: opens the store once (carnet migrates the empty schema before the fill).
//! - `reads`: median and p95 of ~200 warm repetitions of: one issuer's first page of awards and a
//!   page in the middle of them (keyset: the cursor of the award in the middle), `get_award` by id,
//!   `find_by_idempotency_key`, and a person's record (`Store::person`: the person, their awards
//!   oldest first through the index `awards_person (issuer_slug, person_key)` of migration 0017,
//!   their carnets and requests; the fill links every award to its person). Also, not a target: a
//!   page of 200 without `credential_json` and `assertion_json` (what a summary listing would
//!   read), and `count_awards`. Prints the plans (EXPLAIN ANALYZE) of the list queries and of the
//!   person's awards query, checked to use `awards_person`.
//! - `writes_bulk`: a bulk run of 10,000 rows through the API (`POST /api/v1/bulk-awards`), timed
//!   from the submit to the job done, 3 times (`CARNET_SCALE_BULK_RUNS`); after each, the awards,
//!   the people and the job it added are removed (the issuer's status list set back, the tables
//!   vacuumed), so that the schema holds the filled awards and people again.
//!
//! The two timed tests take one lock, so that they never run at the same time.

use std::time::{Duration, Instant};

use carnet::store::{self, AwardCursor, JobState, Store};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions};
use uuid::Uuid;

use crate::common::server::{CLASS, Server, TOKEN};

/// The issuer whose awards are listed (one of 50, 20,000 awards each).
const LIST_ISSUER: &str = "ime-25";
/// The issuer of the bulk run.
const BULK_ISSUER: &str = "ime-01";
/// Timed repetitions of each read, after untimed ones (warm: each input once, at least 20).
const REPS: usize = 200;
const BULK_ROWS: usize = 10_000;
/// Targets of issue #13 §8.
const READ_TARGET: Duration = Duration::from_millis(10);
const BULK_TARGET: Duration = Duration::from_secs(8);
/// A page without the two signed documents (not a store method: what a summary listing would read).
const SUMMARY_PAGE: &str = "SELECT id, issuer_slug, badge_class_slug, recipient_identity, \
     recipient_name, credential_id, status_list, status_index, valid_from, valid_until, issued_by, \
     idempotency_key, created_at, revoked_at, revocation_reason, rsa_kid FROM awards \
     WHERE issuer_slug = $1 AND (created_at, id) < ($3, $4) \
     ORDER BY created_at DESC, id DESC LIMIT $2";
/// `list_awards` as the store runs it, first page and after a cursor (src/store/awards.rs).
const LIST_FIRST_EXPLAIN: &str = "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM awards \
     WHERE issuer_slug = $1 ORDER BY created_at DESC, id DESC LIMIT $2";
const LIST_AFTER_EXPLAIN: &str = "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM awards \
     WHERE issuer_slug = $1 AND (created_at, id) < ($3, $4) \
     ORDER BY created_at DESC, id DESC LIMIT $2";
/// A person's awards as `Store::person` reads them (src/store/people.rs).
const PERSON_EXPLAIN: &str = "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM awards \
     WHERE issuer_slug = $1 AND person_key = $2 ORDER BY created_at, id";
/// The index of migration 0017 that a person's awards must be read through.
const PERSON_INDEX: &str = "awards_person";

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn scale_url() -> Option<String> {
    let url = std::env::var("CARNET_SCALE_DATABASE_URL").ok();
    if url.is_none() {
        eprintln!("SKIP scale: CARNET_SCALE_DATABASE_URL not set (scripts/bench-scale.sh sets it)");
    }
    url
}

async fn pool(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
        .expect("connect to CARNET_SCALE_DATABASE_URL")
}

/// Median and 95th percentile of timed repetitions.
struct Figure {
    what: String,
    n: usize,
    median: Duration,
    p95: Duration,
    target: Option<Duration>,
}

impl Figure {
    fn new(what: impl Into<String>, mut times: Vec<Duration>, target: Option<Duration>) -> Self {
        times.sort();
        let n = times.len();
        let median = if n % 2 == 1 {
            times[n / 2]
        } else {
            (times[n / 2 - 1] + times[n / 2]) / 2
        };
        let p95 = times[(n * 95).div_ceil(100) - 1];
        Figure {
            what: what.into(),
            n,
            median,
            p95,
            target,
        }
    }

    /// Met when the 95th percentile is under the target.
    fn verdict(&self) -> &'static str {
        match self.target {
            None => "",
            Some(t) if self.p95 < t => "met",
            Some(_) => "MISSED",
        }
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.2} ms")
    }
}

fn print_table(title: &str, figures: &[Figure]) {
    println!("\n{title}");
    println!(
        "{:<60} {:>5} {:>10} {:>10} {:>8} {:>7}",
        "operation", "n", "median", "p95", "target", ""
    );
    for f in figures {
        let target = f.target.map(ms).unwrap_or_default();
        println!(
            "{:<60} {:>5} {:>10} {:>10} {:>8} {:>7}",
            f.what,
            f.n,
            ms(f.median),
            ms(f.p95),
            target.replace(".00", ""),
            f.verdict()
        );
    }
}

/// Runs `op` untimed on each input (at least 20 times: warm), then `reps` times timed, cycling
/// over the inputs.
async fn time_each<T, F, Fut>(inputs: &[T], reps: usize, mut op: F) -> Vec<Duration>
where
    F: FnMut(&T) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..inputs.len().max(20) {
        op(&inputs[i % inputs.len()]).await;
    }
    let mut times = Vec::with_capacity(reps);
    for i in 0..reps {
        let input = &inputs[i % inputs.len()];
        let started = Instant::now();
        op(input).await;
        times.push(started.elapsed());
    }
    times
}

/// Prints the plan and returns it.
async fn explain(
    pool: &PgPool,
    title: &str,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> String {
    let rows = query.fetch_all(pool).await.expect("explain");
    println!("\n{title}");
    let mut plan = String::new();
    for row in rows {
        let line = row.get::<String, _>(0);
        println!("  {line}");
        plan.push_str(&line);
        plan.push('\n');
    }
    plan
}

#[tokio::test]
#[ignore = "needs PostgreSQL and CARNET_SCALE_DATABASE_URL: run by scripts/bench-scale.sh"]
async fn migrate() {
    let Some(url) = scale_url() else { return };
    let _serial = SERIAL.lock().await;
    let store = store::open(&url)
        .await
        .expect("open and migrate the scale schema");
    assert_eq!(store.backend(), "postgres");
    store.close().await;
}

/// One issuer's page of awards, checked: `limit` long, the issuer's, newest first, after `after`.
async fn page(store: &Store, limit: u32, after: Option<AwardCursor>) -> Vec<carnet::store::Award> {
    let awards = store
        .list_awards(LIST_ISSUER, limit, after)
        .await
        .expect("list_awards");
    assert_eq!(awards.len(), limit as usize);
    assert!(awards.iter().all(|a| a.issuer_slug == LIST_ISSUER));
    let keys: Vec<(DateTime<Utc>, Uuid)> = awards.iter().map(|a| (a.created_at, a.id)).collect();
    assert!(keys.windows(2).all(|w| w[0] > w[1]), "newest first");
    if let Some(c) = after {
        assert!(keys[0] < (c.created_at, c.id), "after the cursor");
    }
    awards
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and CARNET_SCALE_DATABASE_URL: run by scripts/bench-scale.sh"]
async fn reads() {
    let Some(url) = scale_url() else { return };
    let _serial = SERIAL.lock().await;
    let store = store::open(&url).await.expect("open the scale schema");
    let pool = pool(&url).await;

    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM awards")
        .fetch_one(&pool)
        .await
        .unwrap();
    let issuers: i64 = sqlx::query_scalar("SELECT count(DISTINCT issuer_slug) FROM status_lists")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        total >= 100_000,
        "the schema is not filled: run scripts/bench-scale.sh"
    );
    let mine = store.count_awards(LIST_ISSUER).await.unwrap();
    println!("\nscale: {total} awards, {issuers} issuers; {LIST_ISSUER} has {mine}");

    // The award in the middle of the issuer's list (OFFSET here only to find it, untimed).
    let middle: Uuid = sqlx::query_scalar(
        "SELECT id FROM awards WHERE issuer_slug = $1 \
         ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
    )
    .bind(LIST_ISSUER)
    .bind((mine / 2) as i64)
    .fetch_one(&pool)
    .await
    .unwrap();
    let cursor = store.get_award(middle).await.unwrap().unwrap().cursor();
    // 200 awards spread over every issuer, each with an idempotency key (bulk awards), and the
    // person each was given to.
    let sample: Vec<(Uuid, String, String, String)> = sqlx::query(
        "SELECT id, issuer_slug, idempotency_key, person_key FROM awards \
         WHERE idempotency_key IS NOT NULL AND person_key IS NOT NULL \
         AND status_index % 97 = 13 \
         ORDER BY md5(id::text) LIMIT $1",
    )
    .bind(REPS as i64)
    .fetch_all(&pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect();
    assert_eq!(sample.len(), REPS);

    let mut figures = Vec::new();
    let s: &Store = &store;
    for limit in [50u32, 200] {
        let times = time_each(&[()], REPS, |_| async move {
            page(s, limit, None).await;
        })
        .await;
        figures.push(Figure::new(
            format!("list_awards: first page of {limit}"),
            times,
            Some(READ_TARGET),
        ));
        let times = time_each(&[()], REPS, |_| async move {
            page(s, limit, Some(cursor)).await;
        })
        .await;
        figures.push(Figure::new(
            format!(
                "list_awards: page of {limit} after the middle ({})",
                mine / 2
            ),
            times,
            Some(READ_TARGET),
        ));
    }
    let p: &PgPool = &pool;
    let times = time_each(&[()], REPS, |_| async move {
        let rows = sqlx::query(SUMMARY_PAGE)
            .bind(LIST_ISSUER)
            .bind(200i64)
            .bind(cursor.created_at)
            .bind(cursor.id)
            .fetch_all(p)
            .await
            .unwrap();
        assert_eq!(rows.len(), 200);
    })
    .await;
    figures.push(Figure::new(
        "page of 200 after the middle, no signed documents (SQL)",
        times,
        None,
    ));
    let times = time_each(&sample, REPS, |(id, ..)| {
        let id = *id;
        async move {
            let award = s.get_award(id).await.unwrap().expect("found");
            assert_eq!(award.id, id);
        }
    })
    .await;
    figures.push(Figure::new("get_award(id)", times, Some(READ_TARGET)));
    let times = time_each(&sample, REPS, |(id, issuer, key, _)| {
        let (id, issuer, key) = (*id, issuer.clone(), key.clone());
        async move {
            let award = s
                .find_by_idempotency_key(&issuer, &key)
                .await
                .unwrap()
                .expect("found");
            assert_eq!(award.id, id);
        }
    })
    .await;
    figures.push(Figure::new(
        "find_by_idempotency_key(issuer, key)",
        times,
        Some(READ_TARGET),
    ));

    // A person's record: checked once (untimed), then timed on the sample's people.
    let (id, issuer, _, key) = &sample[0];
    let person = store
        .person(issuer, key)
        .await
        .unwrap()
        .expect("the sample's person is recorded (scripts/bench-scale.sh fills people)");
    let awards_of_person = person.awards.len();
    assert!(person.awards.iter().any(|a| a.id == *id));
    assert_eq!(
        person.created_at, person.awards[0].created_at,
        "created at its first award"
    );
    let times = time_each(&sample, REPS, |(id, issuer, _, key)| {
        let (id, issuer, key) = (*id, issuer.clone(), key.clone());
        async move {
            let person = s.person(&issuer, &key).await.unwrap().expect("recorded");
            assert!(person.awards.iter().any(|a| a.id == id));
            assert!(person.awards.iter().all(|a| {
                a.issuer_slug == issuer && a.person_key.as_deref() == Some(key.as_str())
            }));
            assert!(
                person
                    .awards
                    .windows(2)
                    .all(|w| (w[0].created_at, w[0].id) < (w[1].created_at, w[1].id)),
                "oldest first"
            );
        }
    })
    .await;
    figures.push(Figure::new(
        format!("Store::person(issuer, key): {awards_of_person} awards, carnets, requests"),
        times,
        Some(READ_TARGET),
    ));
    let plan = explain(
        &pool,
        &format!("EXPLAIN ANALYZE a person's awards (Store::person), through {PERSON_INDEX}:"),
        sqlx::query(PERSON_EXPLAIN).bind(issuer).bind(key),
    )
    .await;
    assert!(
        plan.contains(PERSON_INDEX),
        "a person's awards are not read through {PERSON_INDEX}"
    );

    let times = time_each(&[()], 20, |_| async move {
        assert_eq!(s.count_awards(LIST_ISSUER).await.unwrap(), mine);
    })
    .await;
    figures.push(Figure::new(
        format!("count_awards({LIST_ISSUER}) (not a target)"),
        times,
        None,
    ));

    explain(
        &pool,
        "EXPLAIN ANALYZE list_awards, first page of 50:",
        sqlx::query(LIST_FIRST_EXPLAIN)
            .bind(LIST_ISSUER)
            .bind(50i64),
    )
    .await;
    explain(
        &pool,
        "EXPLAIN ANALYZE list_awards, page of 50 after the middle:",
        sqlx::query(LIST_AFTER_EXPLAIN)
            .bind(LIST_ISSUER)
            .bind(50i64)
            .bind(cursor.created_at)
            .bind(cursor.id),
    )
    .await;
    print_table(
        &format!(
            "reads on PostgreSQL, {total} awards ({REPS} warm repetitions; target met when p95 < 10 ms)"
        ),
        &figures,
    );
    pool.close().await;
    store.close().await;
}

/// Removes the bulk jobs of the schema (the fill makes none), the awards they issued with their
/// events, and sets the issuer's status list back to its awards: the schema as filled.
async fn remove_bulk_runs(pool: &PgPool, issuer: &str) {
    let mut tx = pool.begin().await.unwrap();
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT r.award_id FROM bulk_rows r JOIN bulk_jobs j ON j.id = r.job_id \
         WHERE j.issuer_slug = $1 AND r.award_id IS NOT NULL",
    )
    .bind(issuer)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    sqlx::query("DELETE FROM award_events WHERE award_id = ANY($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .unwrap();
    // the people the bulk runs recorded (the awards issued through the API have a person key),
    // unless they have other awards (the fill's people never are the bulk run's)
    sqlx::query(
        "DELETE FROM people p WHERE p.issuer_slug = $1 \
         AND p.person_key IN (SELECT person_key FROM awards WHERE id = ANY($2)) \
         AND NOT EXISTS (SELECT 1 FROM awards a WHERE a.issuer_slug = p.issuer_slug \
                         AND a.person_key = p.person_key AND a.id <> ALL($2))",
    )
    .bind(issuer)
    .bind(&ids)
    .execute(&mut *tx)
    .await
    .unwrap();
    for statement in [
        // the jobs' rows go with them (ON DELETE CASCADE), before the awards they name
        "DELETE FROM bulk_jobs WHERE issuer_slug = $1",
        "DELETE FROM awards WHERE issuer_slug = $1 AND id = ANY($2)",
        "DELETE FROM status_lists WHERE issuer_slug = $1 AND (purpose <> 'revocation' \
         OR list_number > (SELECT coalesce(max(status_list), 0) FROM awards \
                           WHERE issuer_slug = $1))",
        "UPDATE status_lists l SET next_index = coalesce((SELECT max(status_index) + 1 \
         FROM awards a WHERE a.issuer_slug = l.issuer_slug AND a.status_list = l.list_number), 0) \
         WHERE issuer_slug = $1 AND purpose = 'revocation'",
    ] {
        let mut query = sqlx::query(statement).bind(issuer);
        if statement.contains("$2") {
            query = query.bind(&ids);
        }
        query.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and CARNET_SCALE_DATABASE_URL: run by scripts/bench-scale.sh"]
async fn writes_bulk() {
    let Some(url) = scale_url() else { return };
    let _serial = SERIAL.lock().await;
    let runs: usize = std::env::var("CARNET_SCALE_BULK_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
        .max(1);
    let pool = pool(&url).await;
    remove_bulk_runs(&pool, BULK_ISSUER).await;
    let keys = tempfile::tempdir().unwrap();
    let server = Server::start_configured(
        None,
        &[
            format!("--database-url={url}"),
            format!("--keys-dir={}", keys.path().display()),
            format!("--issuer-slug={BULK_ISSUER}"),
            format!("--issuer-name=IME {BULK_ISSUER}"),
            format!("--issuer-email=contact@{BULK_ISSUER}.example.org"),
        ],
    )
    .await;
    let store = server.app.store.clone();
    let before = store.count_awards(BULK_ISSUER).await.unwrap();
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM awards")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut csv = String::from("email;name;narrative\n");
    for i in 0..BULK_ROWS {
        csv.push_str(&format!(
            "personne.scale.{i}@example.org;Personne {i};J'ai suivi les consignes de sécurité à l'atelier {}.\n",
            i % 7
        ));
    }
    let auth = format!("Bearer {TOKEN}");
    let (mut accepted, mut done, mut loads) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        // a batch name of its own: no row is "already issued" by an earlier run
        let batch = format!("scale-{}-{run}", Utc::now().format("%Y%m%d%H%M%S"));
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        loads.push(load.split(' ').next().unwrap_or("?").to_string());
        let started = Instant::now();
        let r = server
            .request(
                Some(csv.clone().into_bytes()),
                &format!("/api/v1/bulk-awards?badge_class={CLASS}&batch={batch}"),
                &[
                    ("content-type", "text/csv; charset=utf-8"),
                    ("authorization", &auth),
                ],
            )
            .await;
        accepted.push(started.elapsed());
        assert_eq!(r.status, 202, "{}", r.text());
        let id: Uuid = r.json()["id"].as_str().unwrap().parse().unwrap();
        // polled in the store (the job's row), not through GET, whose answer lists 10,000 rows
        let job = loop {
            let job = store.get_bulk_job(id).await.unwrap().expect("the job");
            if matches!(job.state, JobState::Done | JobState::Failed) {
                break job;
            }
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "the job did not finish"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        done.push(started.elapsed());
        assert_eq!(job.state, JobState::Done, "{:?}", job.error);
        assert_eq!(
            (job.counts.total, job.counts.issued, job.counts.failed),
            (BULK_ROWS as u32, BULK_ROWS as u32, 0)
        );
        let after = store.count_awards(BULK_ISSUER).await.unwrap();
        assert_eq!(after, before + BULK_ROWS as u64);
        // the schema as filled again, for the next run (untimed)
        remove_bulk_runs(&pool, BULK_ISSUER).await;
        let count = store.count_awards(BULK_ISSUER).await.unwrap();
        assert_eq!(count, before, "the bulk run's awards removed");
        sqlx::raw_sql("VACUUM awards, award_events, bulk_rows, bulk_jobs, status_lists, people")
            .execute(&pool)
            .await
            .unwrap();
    }
    server.shutdown().await;
    pool.close().await;

    let each: Vec<String> = done.iter().map(|d| ms(*d)).collect();
    println!(
        "\nbulk runs of {BULK_ROWS} rows: {} (load average, 1 min, before each: {})",
        each.join(", "),
        loads.join(", ")
    );
    print_table(
        &format!(
            "bulk run on PostgreSQL, {total} awards ({BULK_ISSUER} had {before}; {runs} runs, wall time; met when p95 (the slowest of few) < 8 s)"
        ),
        &[
            Figure::new(
                "POST /api/v1/bulk-awards: 202 (file read, checked, stored)",
                accepted,
                None,
            ),
            Figure::new(
                format!("bulk run of {BULK_ROWS} rows: submit to done"),
                done,
                Some(BULK_TARGET),
            ),
        ],
    );
}
