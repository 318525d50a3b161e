//! Two institutions on one server (issue #13 §1–2): each issues, revokes and publishes under
//! its own name, keys and addresses; its token opens its own things only; the verifier knows
//! both as carnet's own.

use serde_json::{Value, json};

use crate::common::server::{CLASS, JSON, PNG, Server, TOKEN, add_institution, lea};

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn issue_as(s: &Server, token: &str) -> Value {
    let auth = bearer(token);
    let r = s
        .request(
            Some(lea().to_string().into_bytes()),
            "/api/v1/awards",
            &[("content-type", JSON), ("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

async fn verdict(s: &Server, png: Vec<u8>) -> Value {
    let report = s.verify(PNG, png, Some("lea@example.org")).await;
    report["verdict"].clone()
}

#[tokio::test]
async fn two_institutions_issue_revoke_and_publish_side_by_side() {
    let s = Server::new().await;
    let esat = add_institution(&s, "esat-tilly").await;

    let ime_award = s.issue().await;
    let esat_award = issue_as(&s, &esat).await;
    let base = &s.base;
    // the new institution's documents answer under its own address
    let id = esat_award["id"].as_str().unwrap();
    let credential_id = format!("{base}/issuers/esat-tilly/credentials/{id}");
    assert_eq!(esat_award["credential_id"], credential_id.as_str());
    assert_eq!(esat_award["urls"]["json"], format!("{credential_id}.json"));
    let credential = s.form(&esat_award, "json").await.json();
    assert_eq!(
        credential["issuer"]["id"],
        format!("{base}/issuers/esat-tilly")
    );
    assert_eq!(credential["issuer"]["name"], "Institution esat-tilly");
    assert_eq!(
        credential["credentialSubject"]["achievement"]["id"],
        format!("{base}/issuers/esat-tilly/badge-classes/{CLASS}")
    );
    let vm = credential["proof"][0]["verificationMethod"]
        .as_str()
        .unwrap();
    assert!(vm.contains(":issuers:esat-tilly#ed25519-1"), "{vm}");
    let status = credential["credentialStatus"]["statusListCredential"]
        .as_str()
        .unwrap();
    assert!(
        status.starts_with(&format!("{base}/issuers/esat-tilly/status/")),
        "{status}"
    );
    for path in [
        format!("/issuers/esat-tilly/badge-classes/{CLASS}"),
        format!("/issuers/esat-tilly/badge-classes/{CLASS}/image.png"),
        "/issuers/esat-tilly".into(),
        "/issuers/esat-tilly/did.json".into(),
        "/issuers/esat-tilly/keys/rsa-1".into(),
        "/ob2/issuers/esat-tilly".into(),
        status.strip_prefix(base.as_str()).unwrap().to_owned(),
    ] {
        assert_eq!(s.get(&path).await.status, 200, "{path}");
    }
    let ob2 = esat_award["ob2"]["assertion"].as_str().unwrap();
    assert!(
        ob2.starts_with(&format!("{base}/issuers/esat-tilly/ob2/assertions/")),
        "{ob2}"
    );
    assert_eq!(s.get(ob2).await.status, 200);
    let assertion = s.get(ob2).await.json();
    assert_eq!(
        s.get(assertion["badge"].as_str().unwrap()).await.status,
        200,
        "{assertion}"
    );
    // and nowhere else: not at the instance's own paths, not under the other institution
    for path in [
        format!("/credentials/{id}"),
        format!("/ob2/assertions/{id}"),
        format!("/issuers/ime/credentials/{id}"),
        format!(
            "/issuers/esat-tilly/credentials/{}",
            ime_award["id"].as_str().unwrap()
        ),
        format!("/issuers/ime/badge-classes/{CLASS}"),
        "/issuers/nope".into(),
        format!("/issuers/nope/badge-classes/{CLASS}"),
    ] {
        assert_eq!(s.get(&path).await.status, 404, "{path}");
    }
    // the first institution keeps its addresses
    assert!(
        ime_award["credential_id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{base}/credentials/"))
    );
    assert_eq!(s.get(&format!("/badge-classes/{CLASS}")).await.status, 200);

    // both verify as carnet's own, each with its own keys
    let esat_png = s.form(&esat_award, "png").await.body;
    let ime_png = s.form(&ime_award, "png").await.body;
    assert_eq!(verdict(&s, esat_png.clone()).await, "valid");
    assert_eq!(verdict(&s, ime_png.clone()).await, "valid");
    let jwt = s.form(&esat_award, "jwt").await;
    assert_eq!(jwt.status, 200);
    let report = s
        .verify("text/plain", jwt.body, Some("lea@example.org"))
        .await;
    assert_eq!(report["verdict"], "valid", "{report:#}");

    // a token revokes its own institution's awards only
    let revoke = |award: &Value, token: &str| {
        let path = format!("/api/v1/awards/{}/revoke", award["id"].as_str().unwrap());
        let auth = bearer(token);
        let s = &s;
        async move {
            s.request(
                Some(json!({"reason": "test"}).to_string().into_bytes()),
                &path,
                &[("content-type", JSON), ("authorization", &auth)],
            )
            .await
        }
    };
    assert_eq!(revoke(&ime_award, &esat).await.status, 404);
    assert_eq!(revoke(&esat_award, &esat).await.status, 200);
    assert_eq!(verdict(&s, esat_png).await, "invalid");
    assert_eq!(
        verdict(&s, ime_png).await,
        "valid",
        "the other's list is its own"
    );

    // an institution's token cannot borrow another's name; the instance's token can
    let named = s
        .request(
            Some(lea().to_string().into_bytes()),
            "/api/v1/awards",
            &[
                ("content-type", JSON),
                ("authorization", &bearer(&esat)),
                ("carnet-institution", "ime"),
            ],
        )
        .await;
    assert_eq!(named.status, 403, "{}", named.text());
    let named = s
        .request(
            Some(lea().to_string().into_bytes()),
            "/api/v1/awards",
            &[
                ("content-type", JSON),
                ("authorization", &bearer(TOKEN)),
                ("carnet-institution", "esat-tilly"),
            ],
        )
        .await;
    assert_eq!(named.status, 201, "{}", named.text());
    assert!(
        named.json()["credential_id"]
            .as_str()
            .unwrap()
            .contains("/issuers/esat-tilly/")
    );
    s.shutdown().await;
}

async fn api(
    s: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let req = match method {
        "GET" => s.client.get(s.url(path)),
        "POST" => s.client.post(s.url(path)),
        _ => s.client.patch(s.url(path)),
    };
    let req = req.header("authorization", bearer(token));
    let req = match body {
        Some(b) => req.header("content-type", JSON).body(b.to_string()),
        None => req,
    };
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn the_api_adds_institutions_and_another_node_signs_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = Server::start_in(dir.path(), None, 8 << 20).await;
    let b = Server::start_in(dir.path(), None, 8 << 20).await;
    let new = json!({"slug": "esat-b", "name": "ESAT B", "email": "contact@esat-b.example"});
    let (status, made) = api(&a, "POST", "/api/v1/institutions", TOKEN, Some(new.clone())).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["documents"], format!("{}/issuers/esat-b", a.base));
    assert_eq!(
        api(&a, "POST", "/api/v1/institutions", TOKEN, Some(new))
            .await
            .0,
        409
    );
    for (body, field) in [
        (json!({"slug": "Pas Bon", "name": "X"}), "slug"),
        (json!({"slug": "ok", "name": " "}), "name"),
        (json!({"slug": "ok", "name": "X", "email": "nope"}), "email"),
        (
            json!({"slug": "ok", "name": "X", "colour": "red"}),
            "(body)",
        ),
    ] {
        let (status, problem) = api(&a, "POST", "/api/v1/institutions", TOKEN, Some(body)).await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (422, Some(field)),
            "{problem}"
        );
    }
    // its own token, made on node A's database, opens it on node B, which loads it there
    let token = format!("carnet_{:_<43}", "esat-b");
    a.app
        .store
        .create_api_token(&carnet::store::NewApiToken {
            issuer_slug: "esat-b",
            name: "t",
            token_sha256: &carnet::evidence::token_sha256(&token),
            created_by: "test",
        })
        .await
        .unwrap();
    let classes =
        carnet::badge_class::load_dir(std::path::Path::new(crate::common::server::CLASSES_DIR))
            .unwrap();
    carnet::institution::import_classes(&a.app.store, "esat-b", classes.values(), "test")
        .await
        .unwrap();
    let award = issue_as(&b, &token).await;
    assert!(
        award["credential_id"]
            .as_str()
            .unwrap()
            .contains("/issuers/esat-b/")
    );
    let png = b.form(&award, "png").await.body;
    assert_eq!(
        verdict(&a, png).await,
        "valid",
        "node A verifies what node B signed"
    );

    // an institution's token sees and changes its own only
    let (status, list) = api(&b, "GET", "/api/v1/institutions", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let (_, all) = api(&b, "GET", "/api/v1/institutions", TOKEN, None).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "{all}");
    assert_eq!(
        api(&b, "GET", "/api/v1/institutions/ime", &token, None)
            .await
            .0,
        404
    );
    let patch = json!({"name": "ESAT de Beaumesnil", "email": null});
    let (status, changed) = api(
        &b,
        "PATCH",
        "/api/v1/institutions/esat-b",
        &token,
        Some(patch),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["name"].as_str(), &changed["email"]),
        (Some("ESAT de Beaumesnil"), &Value::Null)
    );
    assert_eq!(
        api(
            &b,
            "PATCH",
            "/api/v1/institutions/esat-b",
            &token,
            Some(json!({"url": 3}))
        )
        .await
        .0,
        422
    );
    // node A sees the new name within its reload time
    tokio::time::sleep(carnet::institution::FRESH + std::time::Duration::from_millis(200)).await;
    let profile = a.get("/issuers/esat-b").await.json();
    assert_eq!(profile["name"], "ESAT de Beaumesnil");
    a.shutdown().await;
    b.shutdown().await;
}
