//! Several nodes on one database (issue #13 §7): two `carnet serve` processes share a database;
//! the one running a bulk job is killed mid-way, and the other finishes the job once the dead
//! node's lease has run out, with every row issued exactly once. On PostgreSQL (what several
//! nodes use) and on SQLite (two processes on one file).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::backends::{on_postgres, on_sqlite};
use crate::common::cli::Installation;

const TOKEN: &str = "two-nodes-token-0123456789";
const CLASS: &str = "securite-hygiene-au-travail";
const ROWS: usize = 600;
/// Short, so that the test waits seconds for the take-over, not the default 30.
const LEASE_SECONDS: &str = "3";

struct Node {
    child: std::process::Child,
    base: String,
}

impl Node {
    fn start(install: &Installation) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = install
            .cli()
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--job-lease-seconds", LEASE_SECONDS])
            .env("CARNET_API_TOKENS", format!("test:{TOKEN}"))
            .spawn();
        Node {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn ready(&self, client: &reqwest::Client) {
        for _ in 0..300 {
            if let Ok(r) = client.get(format!("{}/health", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the node at {} did not start", self.base);
    }

    async fn job(&self, client: &reqwest::Client, id: &str) -> Value {
        let r = client
            .get(format!("{}/api/v1/bulk-awards/{id}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn a_job_whose_node_dies_is_finished_by_the_other_once(url: String) {
    let install = Installation::with_database(url.clone());
    let client = reqwest::Client::new();
    let mut first = Node::start(&install);
    first.ready(&client).await;
    let second = Node::start(&install);
    second.ready(&client).await;

    let mut csv = String::from("email,name\n");
    for i in 0..ROWS {
        csv.push_str(&format!("p{i}@example.org,Personne {i}\n"));
    }
    let r = client
        .post(format!(
            "{}/api/v1/bulk-awards?badge_class={CLASS}",
            first.base
        ))
        .bearer_auth(TOKEN)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let job: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let id = job["id"].as_str().unwrap().to_string();

    // the first node runs it: killed once it has issued some rows, before the end
    let started = Instant::now();
    loop {
        let job = first.job(&client, &id).await;
        assert_ne!(
            job["state"], "done",
            "the job ended before the node could be killed"
        );
        if job["counts"]["issued"].as_u64().unwrap() > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "nothing issued: {job}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    // the second takes it over once the lease has run out, and finishes it
    let job = loop {
        let job = second.job(&client, &id).await;
        if job["state"] == "done" {
            break job;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "not finished: {job}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let counts = &job["counts"];
    assert_eq!(counts["failed"], 0, "{job}");
    assert_eq!(counts["pending"], 0, "{job}");
    let done = counts["issued"].as_u64().unwrap() + counts["already"].as_u64().unwrap();
    assert_eq!(done, ROWS as u64, "{job}");

    // exactly one award per row
    let store = carnet::store::open(&url).await.unwrap();
    let rows = store.bulk_rows(id.parse().unwrap()).await.unwrap();
    let awards: HashSet<_> = rows.iter().filter_map(|r| r.award_id).collect();
    assert_eq!(awards.len(), ROWS, "each row names its own award");
    assert_eq!(
        store.count_awards("ime").await.unwrap(),
        ROWS as u64,
        "no award twice"
    );
    store.close().await;
}

#[tokio::test]
async fn on_postgres_a_job_whose_node_dies_is_finished_by_the_other_once() {
    on_postgres(a_job_whose_node_dies_is_finished_by_the_other_once).await;
}

#[tokio::test]
async fn on_sqlite_a_job_whose_node_dies_is_finished_by_the_other_once() {
    on_sqlite(a_job_whose_node_dies_is_finished_by_the_other_once).await;
}
