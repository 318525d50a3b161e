//! Revocation and the OB 2.0 form of an award, through the real router: the OB 3.0 status list,
//! the OB 2.0 hosted assertion (410 once revoked) and RevocationList, and carnet's own verifier.

use carnet::bake::{self, Keyword};
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    settings: carnet::config::Settings,
    #[command(flatten)]
    serve: carnet::config::ServeSettings,
}

const TOKEN: &str = "revocation-test-token-0123456789";

struct Server {
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(email: bool) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut argv = vec![
            "carnet".to_string(),
            format!("--base-url={base}"),
            format!("--database-url=sqlite://{}/carnet.db", dir.path().display()),
            format!("--keys-dir={}", dir.path().join("keys").display()),
            format!(
                "--badge-classes-dir={}/badge-classes",
                env!("CARGO_MANIFEST_DIR")
            ),
            format!("--api-tokens=test:{TOKEN}"),
            // carnet's verifier fetches the OB 2.0 documents the way any verifier does.
            "--fetch-allow-http=127.0.0.1".to_string(),
            "--fetch-allow-addresses=127.0.0.1".to_string(),
        ];
        if email {
            argv.push("--issuer-email=contact@ime.example.org".into());
        }
        let args = Args::try_parse_from(argv).unwrap();
        let app = carnet::app::App::start(args.settings.validate().unwrap())
            .await
            .unwrap();
        let router = carnet::http::router(app, args.serve.tokens().unwrap(), 1 << 20);
        tokio::spawn(carnet::http::serve(
            listener,
            router,
            std::future::pending(),
        ));
        Server {
            base,
            client: reqwest::Client::new(),
            _dir: dir,
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
        auth: bool,
    ) -> (u16, Vec<u8>) {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.base)
        };
        let mut req = self.client.request(method, url);
        if auth {
            req = req.bearer_auth(TOKEN);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
    }

    async fn get_json(&self, url: &str) -> (u16, Value) {
        let (status, body) = self.send(reqwest::Method::GET, url, None, false).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    async fn issue(&self) -> Value {
        let body = json!({"badge_class": "securite-hygiene-au-travail", "recipient_email": "lea@example.org"});
        let (status, body) = self
            .send(reqwest::Method::POST, "/api/v1/awards", Some(body), true)
            .await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }

    async fn verify(&self, body: Vec<u8>, content_type: &str) -> Value {
        let resp = self
            .client
            .post(format!("{}/api/v1/verify", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
    }

    async fn revoke(&self, id: &str, reason: &str, auth: bool) -> (u16, Value) {
        let (s, b) = self
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/awards/{id}/revoke"),
                Some(json!({"reason": reason})),
                auth,
            )
            .await;
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }
}

fn check<'a>(report: &'a Value, id: &str) -> Option<&'a str> {
    report["checks"]
        .as_array()?
        .iter()
        .find(|c| c["id"] == id)?["status"]
        .as_str()
}

fn list_bit(list: &Value, index: usize) -> bool {
    let encoded = list["credentialSubject"]["encodedList"].as_str().unwrap();
    let bits = carnet::status::bitstring::decode(encoded, &Default::default()).unwrap();
    bits.get(index).unwrap()
}

#[tokio::test]
async fn revoking_withdraws_the_award_in_every_form() {
    let server = Server::start(true).await;
    let award = server.issue().await;
    let id = award["id"].as_str().unwrap();
    let (_, cred) = server
        .get_json(award["urls"]["json"].as_str().unwrap())
        .await;
    let status = &cred["credentialStatus"];
    assert_eq!(status["type"], "BitstringStatusListEntry");
    assert_eq!(status["statusPurpose"], "revocation");
    let index: usize = status["statusListIndex"].as_str().unwrap().parse().unwrap();
    let list_url = status["statusListCredential"].as_str().unwrap().to_string();

    // Before: the list is signed by the issuer, the bit is clear, every form verifies.
    let (code, list) = server.get_json(&list_url).await;
    assert_eq!(code, 200);
    assert_eq!(list["issuer"]["id"], cred["issuer"]["id"]);
    assert!(list["proof"][0]["proofValue"].is_string());
    assert!(!list_bit(&list, index));
    let report = server
        .verify(cred.to_string().into_bytes(), "application/json")
        .await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    assert_eq!(check(&report, "status"), Some("pass"));
    let (code, hosted) = server
        .get_json(award["ob2"]["assertion"].as_str().unwrap())
        .await;
    assert_eq!(code, 200);
    assert_eq!(hosted["verification"]["type"], "HostedBadge");

    let (_, ob2_png) = server
        .send(
            reqwest::Method::GET,
            award["ob2"]["png"].as_str().unwrap(),
            None,
            false,
        )
        .await;
    for (body, ct) in [
        (ob2_png.clone(), "image/png"),
        (
            award["ob2"]["assertion"]
                .as_str()
                .unwrap()
                .as_bytes()
                .to_vec(),
            "text/plain",
        ),
    ] {
        let report = server.verify(body, ct).await;
        assert_eq!(report["verdict"], "valid", "OB 2.0 {ct}: {report:#}");
    }

    // Revoking needs the token and a reason; an unknown award is 404.
    assert_eq!(server.revoke(id, "Donné par erreur", false).await.0, 401);
    assert_eq!(server.revoke(id, "  ", true).await.0, 422);
    assert_eq!(
        server
            .revoke("7d1c2f5e-0000-4000-8000-000000000000", "x", true)
            .await
            .0,
        404
    );
    let (code, body) = server.revoke(id, "Donné par erreur", true).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["revocation_reason"], "Donné par erreur");
    assert_eq!(server.revoke(id, "encore", true).await.0, 409);

    // After: the bit is set, carnet's verifier says invalid with the status check failing.
    let (_, list) = server.get_json(&list_url).await;
    assert!(list_bit(&list, index));
    let report = server
        .verify(cred.to_string().into_bytes(), "application/json")
        .await;
    assert_eq!(report["verdict"], "invalid");
    assert_eq!(check(&report, "status"), Some("fail"));
    let (_, png) = server
        .send(
            reqwest::Method::GET,
            award["urls"]["png"].as_str().unwrap(),
            None,
            false,
        )
        .await;
    assert_eq!(server.verify(png, "image/png").await["verdict"], "invalid");

    // OB 2.0 in carnet's verifier: the signed PNG and the hosted URL were valid, now revoked.
    for (body, ct) in [
        (ob2_png.clone(), "image/png"),
        (
            award["ob2"]["assertion"]
                .as_str()
                .unwrap()
                .as_bytes()
                .to_vec(),
            "text/plain",
        ),
    ] {
        let report = server.verify(body, ct).await;
        assert_eq!(report["verdict"], "invalid", "{report:#}");
        assert_eq!(check(&report, "revocation"), Some("fail"), "{report:#}");
    }

    // OB 2.0: the hosted assertion answers 410 with the reason; the RevocationList names it.
    let (code, gone) = server
        .get_json(award["ob2"]["assertion"].as_str().unwrap())
        .await;
    assert_eq!(code, 410);
    assert_eq!(gone["revoked"], true);
    assert_eq!(gone["revocationReason"], "Donné par erreur");
    let (_, profile) = server.get_json("/ob2/issuers/ime").await;
    let (_, revocations) = server
        .get_json(profile["revocationList"].as_str().unwrap())
        .await;
    assert!(
        revocations
            .to_string()
            .contains(award["ob2"]["assertion"].as_str().unwrap()),
        "{revocations:#}"
    );
}

#[tokio::test]
async fn the_ob2_documents_are_served_and_linked() {
    let server = Server::start(true).await;
    let award = server.issue().await;
    let (code, hosted) = server
        .get_json(award["ob2"]["assertion"].as_str().unwrap())
        .await;
    assert_eq!(code, 200);
    assert_eq!(hosted["@context"], "https://w3id.org/openbadges/v2");
    assert_eq!(hosted["recipient"]["hashed"], true);
    assert!(!hosted.to_string().contains("lea@example.org"));
    let (code, class) = server.get_json(hosted["badge"].as_str().unwrap()).await;
    assert_eq!(code, 200, "the versioned BadgeClass is served");
    let (code, profile) = server.get_json(class["issuer"].as_str().unwrap()).await;
    assert_eq!(code, 200);
    assert_eq!(profile["email"], "contact@ime.example.org");
    let key_url = profile["publicKey"][0].as_str().unwrap().to_string();
    let (code, key) = server.get_json(&key_url).await;
    assert_eq!(code, 200);
    assert_eq!(key["owner"], profile["id"]);
    assert!(
        key["publicKeyPem"]
            .as_str()
            .unwrap()
            .contains("BEGIN PUBLIC KEY")
    );
    // The signed form: a JWS whose creator is that key, baked into the PNG by default.
    let (_, jws) = server
        .send(
            reqwest::Method::GET,
            award["ob2"]["jws"].as_str().unwrap(),
            None,
            false,
        )
        .await;
    let jws = String::from_utf8(jws).unwrap();
    let payload = carnet::ob2::verify_assertion_jws(
        &jws,
        carnet::ob2::PublicKey::Pem(key["publicKeyPem"].as_str().unwrap()),
    )
    .unwrap();
    assert_eq!(payload["verification"]["creator"], key_url.as_str());
    let (_, png) = server
        .send(
            reqwest::Method::GET,
            award["ob2"]["png"].as_str().unwrap(),
            None,
            false,
        )
        .await;
    let baked = bake::unbake(&png, &bake::Limits::default()).unwrap();
    assert_eq!(baked.keyword, Keyword::Ob2Assertion);
    assert_eq!(baked.text, jws);
    let (_, png) = server
        .send(
            reqwest::Method::GET,
            award["ob2"]["png_hosted"].as_str().unwrap(),
            None,
            false,
        )
        .await;
    let baked = bake::unbake(&png, &bake::Limits::default()).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&baked.text).unwrap(), hosted);
}

#[tokio::test]
async fn without_an_issuer_email_awards_are_ob3_only_and_say_why() {
    let server = Server::start(false).await;
    let award = server.issue().await;
    assert!(award.get("ob2").is_none());
    let id = award["id"].as_str().unwrap();
    let (code, body) = server.get_json(&format!("/ob2/assertions/{id}")).await;
    assert_eq!(code, 404);
    assert!(body["detail"].as_str().unwrap().contains("email"), "{body}");
    let (code, body) = server.get_json("/ob2/issuers/ime").await;
    assert_eq!(code, 404);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("CARNET_ISSUER_EMAIL"),
        "{body}"
    );
}
