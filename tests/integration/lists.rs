//! The lists of carnets, bulk jobs and carnet batches (issue #13 §8): keyset pages, newest first,
//! `next` until the last page, each institution its own.

use serde_json::{Value, json};

use crate::common::carnets::{RECTEC, get, post};
use crate::common::server::{CLASS, JSON, Server, add_institution};

async fn page(s: &Server, url: &str) -> Value {
    let r = get(s, url).await;
    assert_eq!(r.status, 200, "GET {url}: {}", r.text());
    r.json()
}

/// Every id of a list, following `next`.
async fn walk(s: &Server, first: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut url = Some(first.to_owned());
    while let Some(u) = url {
        let p = page(s, &u).await;
        ids.extend(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        url = p["next"].as_str().map(str::to_owned);
        assert!(ids.len() < 100, "the pages end");
    }
    ids
}

#[tokio::test]
async fn carnets_and_jobs_list_newest_first_in_keyset_pages() {
    let s = Server::new().await;
    let r = post(
        &s,
        "/api/v1/referentiels",
        JSON,
        std::fs::read(RECTEC).unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let mut carnets = Vec::new();
    for i in 0..5 {
        let body = json!({
            "referentiel": {"id": "rectec", "version": "2021"},
            "person": {"email": format!("p{i}@example.org"), "display_name": format!("P{i}")},
            "entries": [],
        });
        let r = post(&s, "/api/v1/carnets", JSON, body.to_string()).await;
        assert_eq!(r.status, 201, "{}", r.text());
        carnets.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    let mut jobs = Vec::new();
    for i in 0..3 {
        let csv = format!("email;name\r\nq{i}@example.org;Q{i}\r\n");
        let r = post(
            &s,
            &format!("/api/v1/bulk-awards?badge_class={CLASS}"),
            "text/csv",
            csv,
        )
        .await;
        assert_eq!(r.status, 202, "{}", r.text());
        jobs.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    // newest first, two at a time, every one once
    carnets.reverse();
    jobs.reverse();
    assert_eq!(walk(&s, "/api/v1/carnets?limit=2").await, carnets);
    assert_eq!(walk(&s, "/api/v1/bulk-awards?limit=2").await, jobs);
    let first = page(&s, "/api/v1/carnets?limit=2").await;
    assert_eq!(first["items"][0]["display_name"], "P4");
    assert_eq!(
        first["items"][0]["referentiel"],
        json!({"id": "rectec", "version": "2021"})
    );
    assert!(
        first["items"][0].get("entries").is_none(),
        "a list holds no entries"
    );
    let one = page(&s, "/api/v1/bulk-awards").await;
    assert_eq!(one["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        one["next"],
        Value::Null,
        "a page that is not full is the last"
    );
    assert_eq!(page(&s, "/api/v1/carnet-batches").await["items"], json!([]));
    // a job of one kind is not in the other's list, nor an unknown `after`
    assert_eq!(
        page(&s, &format!("/api/v1/carnet-batches?after={}", jobs[0])).await["items"],
        json!([])
    );
    for (url, field) in [
        ("/api/v1/carnets?limit=0", "limit"),
        ("/api/v1/carnets?limit=201", "limit"),
        ("/api/v1/bulk-awards?after=nope", "after"),
    ] {
        let r = get(&s, url).await;
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (422, Some(field)),
            "{url}"
        );
    }
    assert_eq!(get(&s, "/api/v1/carnets?colour=red").await.status, 400);
    // another institution lists its own only
    let esat = add_institution(&s, "esat-tilly").await;
    let auth = format!("Bearer {esat}");
    for url in [
        "/api/v1/carnets",
        "/api/v1/bulk-awards",
        "/api/v1/carnet-batches",
    ] {
        let r = s.request(None, url, &[("authorization", &auth)]).await;
        assert_eq!(r.status, 200, "{url}");
        assert_eq!(r.json()["items"], json!([]), "{url}");
    }
    s.shutdown().await;
}
