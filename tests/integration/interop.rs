//! carnet's credentials checked by tools nobody on the project wrote.
//!
//! Starts carnet in-process (as `carnet serve` does) on `127.0.0.1:<free port>`, issues a badge
//! through `POST /api/v1/awards`, downloads it as `.json`, `.jwt`, `.png` and `.svg`, and runs
//! the third-party tools of `tests/interop/` (see its README) on them:
//!
//! - the Digital Bazaar / DCC JavaScript stack verifies the Data Integrity proof, and refuses a
//!   tampered copy;
//! - PyJWT verifies the VC-JWT, with the key found through the `kid` URL and through the JWKS;
//! - openbadgeslib unbakes the PNG and the SVG (Data Integrity and JWT forms);
//! - carnet's verifier accepts a credential signed by the DCC stack with a did:key (without
//!   `credentialStatus`), and refuses one whose issuer is not the key's controller;
//! - the DCC stack checks the credential's `credentialStatus` against carnet's signed
//!   BitstringStatusList credential (`@digitalbazaar/vc-bitstring-status-list`): not revoked at
//!   first; after `POST /api/v1/awards/{id}/revoke` the DCC verifier reports it revoked and
//!   carnet's own verifier reports it invalid, check `status` failing.
//!
//! A second test does the same for Open Badges 2.0 (`ob2_assertions_pass_ims_validator_and_bakery`):
//!
//! - the IMS validator (PyPI `openbadges`, openbadges-validator-core) validates, with 0 errors, the
//!   hosted assertion by URL, its JSON, the signed JWS, and the baked PNG and SVG of each;
//! - openbadges-bakery extracts exactly carnet's payloads from those images;
//! - after revocation the validator reports every form revoked (hosted: `410 Gone`; signed: the
//!   issuer's RevocationList).
//!
//! The tools live in `.tools/` (installed by `scripts/setup-interop.sh`). Without them the tests
//! fail and say so, unless `CARNET_SKIP_INTEROP=1`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::cli::{self, Output};
use clap::Parser;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BADGE_CLASSES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/badge-classes");
const BADGE_CLASS: &str = "securite-hygiene-au-travail";
/// 32 characters.
const TOKEN_SECRET: &str = "interop-0123456789abcdefghijklmn";
const ISSUER_EMAIL: &str = "badges@ime.example.org";
const RECIPIENT_EMAIL: &str = "interop.test@example.org";
const REVOCATION_REASON: &str = "Badge remis par erreur (test d'interopérabilité)";
/// A third-party tool that runs longer than this is killed and the check fails.
const TOOL_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    s: carnet::config::Settings,
    #[command(flatten)]
    serve: carnet::config::ServeSettings,
}

// ---- the third-party tools --------------------------------------------------------------

struct Tools {
    python: PathBuf,
    /// `.tools/venv-ob2`: the IMS OB 2.0 validator and openbadges-bakery.
    python_ob2: PathBuf,
    interop: PathBuf,
}

/// The installed tools; `None` (after a visible message) when `CARNET_SKIP_INTEROP=1`.
fn tools() -> Option<Tools> {
    if std::env::var("CARNET_SKIP_INTEROP").as_deref() == Ok("1") {
        // straight to the process's stderr: libtest's capture would hide an eprintln!
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"SKIP interop: CARNET_SKIP_INTEROP=1\n",
        );
        return None;
    }
    let root = Path::new(ROOT);
    let node_modules = root.join(".tools/node/node_modules");
    let python = root.join(".tools/venv/bin/python");
    let python_ob2 = root.join(".tools/venv-ob2/bin/python");
    let missing: Vec<String> = [&node_modules, &python, &python_ob2]
        .into_iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "the interop tools are not installed (missing: {}): run scripts/setup-interop.sh \
         (or set CARNET_SKIP_INTEROP=1 to skip these checks)",
        missing.join(", ")
    );
    Some(Tools {
        python,
        python_ob2,
        interop: root.join("tests/interop"),
    })
}

impl Tools {
    async fn node(&self, script: &str, args: &[&str]) -> Output {
        self.run("node".into(), script, args).await
    }
    async fn python(&self, script: &str, args: &[&str]) -> Output {
        self.run(self.python.clone(), script, args).await
    }
    /// A script run with the OB 2.0 venv (IMS validator, openbadges-bakery).
    async fn python_ob2(&self, script: &str, args: &[&str]) -> Output {
        self.run(self.python_ob2.clone(), script, args).await
    }
    /// `PROGRAM tests/interop/SCRIPT ARGS`, killed after `TOOL_TIMEOUT`.
    async fn run(&self, program: PathBuf, script: &str, args: &[&str]) -> Output {
        cli::Cli::program(program)
            .arg(self.interop.join(script))
            .args(args)
            .time_limit(TOOL_TIMEOUT)
            .run_async()
            .await
    }
}

// ---- carnet, in-process --------------------------------------------------------------------

struct Server {
    base: String,
    client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    store: std::sync::Arc<carnet::store::Store>,
}

impl Server {
    /// Like `carnet serve` (src/cli.rs `run_serve`), with its data in `dir`.
    async fn start(dir: &Path) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let base = format!("http://127.0.0.1:{port}");
        let cli = Cli::try_parse_from([
            "carnet".to_string(),
            "--base-url".into(),
            base.clone(),
            "--keys-dir".into(),
            dir.join("keys").display().to_string(),
            "--database-url".into(),
            format!("sqlite://{}", dir.join("carnet.db").display()),
            "--badge-classes-dir".into(),
            BADGE_CLASSES.into(),
            "--api-tokens".into(),
            format!("interop:{TOKEN_SECRET}"),
            // OB 2.0 documents are published only when the issuer has an email
            "--issuer-email".into(),
            ISSUER_EMAIL.into(),
            // carnet's verifier may fetch this server's own documents (OB 2.0 hosted badges
            // baked by other tools), over plain http, on loopback explicitly allow-listed.
            "--fetch-allow-http=127.0.0.1".into(),
            "--fetch-allow-addresses=127.0.0.1".into(),
        ])
        .expect("settings parse");
        let config = cli.s.validate().expect("settings validate");
        let tokens = cli.serve.tokens().expect("api tokens");
        let app = carnet::app::App::start(config)
            .await
            .expect("carnet starts");
        let store = app.store.clone();
        let router = carnet::http::router(app, tokens, 8 << 20);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(carnet::http::serve(listener, router, async {
            let _ = rx.await;
        }));
        Server {
            base,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
            store,
        }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        self.store.close().await;
    }

    async fn get(&self, url: &str) -> Vec<u8> {
        let resp = self
            .client
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = resp.status();
        let body = resp.bytes().await.expect("body").to_vec();
        assert!(
            status.is_success(),
            "GET {url} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        body
    }

    async fn award(&self) -> Value {
        let body = serde_json::json!({
            "badge_class": BADGE_CLASS,
            "recipient_email": RECIPIENT_EMAIL,
            "recipient_name": "Camille Interop",
            "evidence_url": "https://example.org/evidence/interop",
            "narrative": "A checked **badge**.",
        });
        let resp = self
            .client
            .post(format!("{}/api/v1/awards", self.base))
            .header("Authorization", format!("Bearer {TOKEN_SECRET}"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("POST /api/v1/awards");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        assert_eq!(
            status.as_u16(),
            201,
            "POST /api/v1/awards answered {status}: {text}"
        );
        serde_json::from_str(&text).expect("award JSON")
    }

    /// `GET url` with an `Accept` header: (status, body).
    async fn get_with(&self, url: &str, accept: &str) -> (u16, Vec<u8>) {
        let resp = self
            .client
            .get(url)
            .header("Accept", accept)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = resp.status().as_u16();
        (status, resp.bytes().await.expect("body").to_vec())
    }

    /// `POST /api/v1/awards/{id}/revoke`; the answer.
    async fn revoke(&self, award_id: &str) -> Value {
        let resp = self
            .client
            .post(format!("{}/api/v1/awards/{award_id}/revoke", self.base))
            .header("Authorization", format!("Bearer {TOKEN_SECRET}"))
            .header("Content-Type", "application/json")
            .body(serde_json::json!({ "reason": REVOCATION_REASON }).to_string())
            .send()
            .await
            .expect("POST /api/v1/awards/{id}/revoke");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        assert!(
            status.is_success(),
            "POST /api/v1/awards/{award_id}/revoke answered {status}: {text}"
        );
        serde_json::from_str(&text).expect("revoke answer JSON")
    }

    /// carnet's own verifier (`POST /api/v1/verify`); the report.
    async fn verify(&self, body: Vec<u8>, content_type: &str) -> Value {
        let resp = self
            .client
            .post(format!("{}/api/v1/verify", self.base))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST /api/v1/verify");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        assert!(
            status.is_success(),
            "POST /api/v1/verify answered {status}: {text}"
        );
        serde_json::from_str(&text).expect("report JSON")
    }
}

// ---- soft checks: every failure is reported at the end ---------------------------------------

#[derive(Default)]
struct Checks {
    passed: usize,
    failures: Vec<String>,
}

impl Checks {
    fn check(&mut self, name: &str, ok: bool, detail: impl FnOnce() -> String) {
        if ok {
            self.passed += 1;
            eprintln!("PASS  {name}");
        } else {
            let detail = detail();
            eprintln!("FAIL  {name}\n    {detail}");
            self.failures.push(format!("{name}\n    {detail}"));
        }
    }
    fn finish(self) {
        eprintln!(
            "interop: {} passed, {} failed",
            self.passed,
            self.failures.len()
        );
        assert!(
            self.failures.is_empty(),
            "{} interop check(s) failed:\n- {}",
            self.failures.len(),
            self.failures.join("\n- ")
        );
    }
}

fn url_of<'a>(award: &'a Value, form: &str) -> &'a str {
    award["urls"][form]
        .as_str()
        .unwrap_or_else(|| panic!("the award has no urls.{form}: {award}"))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path.display().to_string()
}

fn check_status<'a>(report: &'a Value, id: &str) -> Option<&'a str> {
    report["checks"]
        .as_array()?
        .iter()
        .find(|c| c["id"] == id)
        .and_then(|c| c["status"].as_str())
}

// ---- the test ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carnet_credentials_pass_third_party_tools() {
    let Some(tools) = tools() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).expect("mkdir");
    let server = Server::start(dir.path()).await;
    let base = server.base.clone();
    let prefix = format!("{base}/");
    let mut c = Checks::default();

    // Issue a badge and download every form of it.
    let award = server.award().await;
    let json_bytes = server.get(url_of(&award, "json")).await;
    let jwt_bytes = server.get(url_of(&award, "jwt")).await;
    let png_bytes = server.get(url_of(&award, "png")).await;
    let png_jwt_bytes = server.get(url_of(&award, "png_jwt")).await;
    let svg_bytes = server.get(url_of(&award, "svg")).await;
    let svg_jwt_bytes = server
        .get(&format!("{}?proof=jwt", url_of(&award, "svg")))
        .await;
    let credential: Value = serde_json::from_slice(&json_bytes).expect("the .json is JSON");
    let jwt = String::from_utf8(jwt_bytes.clone()).expect("the .jwt is text");
    let jwt = jwt.trim().to_string();
    let json_file = write(&files, "credential.json", &json_bytes);
    let jwt_file = write(&files, "credential.jwt", &jwt_bytes);
    let png_file = write(&files, "badge.png", &png_bytes);
    let png_jwt_file = write(&files, "badge-jwt.png", &png_jwt_bytes);
    let svg_file = write(&files, "badge.svg", &svg_bytes);
    let svg_jwt_file = write(&files, "badge-jwt.svg", &svg_jwt_bytes);
    let issuer_id = credential["issuer"]["id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    c.check(
        "the issuer id is under the base URL",
        issuer_id.starts_with(&prefix),
        || format!("issuer.id = {issuer_id:?}"),
    );

    // 1. DCC stack: Data Integrity proof (eddsa-rdfc-2022), did:web key fetched from carnet.
    let out = tools
        .node(
            "dcc_verify.mjs",
            &["--credential", &json_file, "--allow-fetch", &prefix],
        )
        .await;
    let r = out.json_line();
    c.check(
        "DCC verifier: carnet's credential is verified",
        out.success() && r["verified"] == true,
        || out.describe(),
    );
    c.check(
        "DCC verifier: carnet's status list was fetched, its proof verified, the bit is clear",
        credential["credentialStatus"]["type"] == "BitstringStatusListEntry"
            && r["status"]["checked"] == true
            && r["revoked"] == false
            && r["status"]["results"][0]["statusPurpose"] == "revocation"
            && r["status"]["results"][0]["status"] == false,
        || out.describe(),
    );
    c.check(
        "DCC verifier: issuer.id is the key's controller, found by dereferencing it (stock path)",
        r["issuer_matches_controller"] == true
            && r["controller"] == issuer_id.as_str()
            && r["controller_source"] == "dereferenced by the proof purpose",
        || out.describe(),
    );

    let mut tampered = credential.clone();
    tampered["name"] = Value::from(format!(
        "{} (modifié)",
        credential["name"].as_str().unwrap_or("badge")
    ));
    let tampered_file = write(
        &files,
        "tampered.json",
        &serde_json::to_vec_pretty(&tampered).expect("json"),
    );
    let out = tools
        .node(
            "dcc_verify.mjs",
            &["--credential", &tampered_file, "--allow-fetch", &prefix],
        )
        .await;
    let r = out.json_line();
    c.check(
        "DCC verifier: the credential with its name changed is NOT verified",
        out.code == 1 && r["verified"] == false,
        || out.describe(),
    );

    // 2. PyJWT: the VC-JWT, key from the kid URL and from the JWKS.
    let out = tools
        .python(
            "jwt_verify.py",
            &["--token", &jwt_file, "--fetch-kid", &prefix],
        )
        .await;
    let r = out.json_line();
    c.check(
        "PyJWT: the VC-JWT is valid (key from its kid URL)",
        out.success() && r["valid"] == true,
        || out.describe(),
    );
    let jwks = format!("{base}/.well-known/jwks.json");
    let out = tools
        .python(
            "jwt_verify.py",
            &["--token", &jwt_file, "--jwks-url", &jwks],
        )
        .await;
    let r = out.json_line();
    c.check(
        "PyJWT: the VC-JWT is valid (key from the JWKS)",
        out.success() && r["valid"] == true,
        || out.describe(),
    );
    let mut parts: Vec<String> = jwt.split('.').map(str::to_string).collect();
    if parts.len() == 3 {
        // change one character of the payload
        let p = &mut parts[1];
        let last = p.pop().unwrap_or('A');
        p.push(if last == 'A' { 'B' } else { 'A' });
    }
    let bad_jwt_file = write(&files, "tampered.jwt", parts.join(".").as_bytes());
    let out = tools
        .python(
            "jwt_verify.py",
            &["--token", &bad_jwt_file, "--jwks-url", &jwks],
        )
        .await;
    c.check(
        "PyJWT: the VC-JWT with its payload changed is NOT valid",
        out.code == 1 && out.json_line()["signature_valid"] == false,
        || out.describe(),
    );

    // 3. openbadgeslib: unbake the images.
    for (name, file) in [("PNG", &png_file), ("SVG", &svg_file)] {
        let out = tools.python("unbake.py", &[file]).await;
        let unbaked: Option<Value> = serde_json::from_str(&out.stdout).ok();
        c.check(
            &format!("openbadgeslib: the {name} holds exactly the credential served at .json"),
            out.success() && unbaked.as_ref() == Some(&credential),
            || out.describe(),
        );
    }
    for (name, file) in [("PNG", &png_jwt_file), ("SVG", &svg_jwt_file)] {
        let out = tools.python("unbake.py", &[file]).await;
        c.check(
            &format!("openbadgeslib: the {name} ?proof=jwt holds the VC-JWT served at .jwt"),
            out.success() && out.stdout.trim() == jwt,
            || out.describe(),
        );
    }

    // 4. carnet's verifier on a credential signed by the DCC stack with a did:key.
    // Without credentialStatus: the status list is carnet's, signed by carnet's key, and a
    // did:key issuer cannot have entries in it.
    let mut unsigned = credential.clone();
    if let Some(o) = unsigned.as_object_mut() {
        o.remove("proof");
        o.remove("credentialStatus");
    }
    let unsigned_file = write(
        &files,
        "unsigned.json",
        &serde_json::to_vec_pretty(&unsigned).expect("json"),
    );
    let dcc_signed_file = files.join("dcc-signed.json").display().to_string();
    let out = tools
        .node(
            "dcc_sign.mjs",
            &["--unsigned", &unsigned_file, "--out", &dcc_signed_file],
        )
        .await;
    let info = out.json_line();
    c.check(
        "DCC signer: signs the credential with a did:key (issuer.id = the did:key controller)",
        out.success()
            && info["issuer_matches_controller"] == true
            && info["controller"]
                .as_str()
                .is_some_and(|d| d.starts_with("did:key:z6Mk")),
        || out.describe(),
    );
    if out.success() {
        let signed_bytes = std::fs::read(&dcc_signed_file).expect("read the signed credential");
        let signed: Value = serde_json::from_slice(&signed_bytes).expect("signed JSON");
        let vm = signed["proof"]["verificationMethod"].as_str().unwrap_or("");
        let controller = vm.split('#').next().unwrap_or("");
        c.check(
            "DCC-signed credential: issuer.id equals the did:key controller",
            signed["issuer"]["id"] == controller && controller.starts_with("did:key:"),
            || format!("issuer {} vs verificationMethod {vm}", signed["issuer"]),
        );
        let report = server
            .verify(signed_bytes.clone(), "application/json")
            .await;
        c.check(
            "DCC-signed credential: no credentialStatus",
            signed.get("credentialStatus").is_none(),
            || format!("credentialStatus = {}", signed["credentialStatus"]),
        );
        c.check(
            "carnet verifier: the DCC-signed credential (no credentialStatus) is valid",
            report["verdict"] == "valid"
                && check_status(&report, "proof") == Some("pass")
                && check_status(&report, "controller") == Some("pass"),
            || format!("report: {report}"),
        );

        let mut changed = signed.clone();
        changed["name"] = Value::from("Autre badge");
        let report = server
            .verify(
                serde_json::to_vec(&changed).expect("json"),
                "application/json",
            )
            .await;
        c.check(
            "carnet verifier: the DCC-signed credential with its name changed is invalid",
            report["verdict"] == "invalid" && check_status(&report, "proof") == Some("fail"),
            || format!("report: {report}"),
        );
    }

    // The issuer/controller rule: a did:key signature on a credential whose issuer is carnet's.
    let foreign_file = files.join("dcc-signed-foreign.json").display().to_string();
    let out = tools
        .node(
            "dcc_sign.mjs",
            &[
                "--unsigned",
                &unsigned_file,
                "--keep-issuer",
                "--out",
                &foreign_file,
            ],
        )
        .await;
    c.check(
        "DCC signer: signs with a did:key, issuer left as carnet's",
        out.success() && out.json_line()["issuer_matches_controller"] == false,
        || out.describe(),
    );
    if out.success() {
        let bytes = std::fs::read(&foreign_file).expect("read the signed credential");
        let report = server.verify(bytes, "application/json").await;
        // A did:key is tolerated (with a warning) only for issuer ids that cannot publish keys
        // (urn:uuid...); carnet's https issuer must sign with its own keys.
        c.check(
            "carnet verifier: a foreign did:key on carnet's issuer is refused (controller check)",
            check_status(&report, "proof") == Some("pass")
                && check_status(&report, "controller") == Some("fail")
                && report["verdict"] == "invalid",
            || format!("report: {report}"),
        );
        let out = tools
            .node(
                "dcc_verify.mjs",
                &["--credential", &foreign_file, "--allow-fetch", &prefix],
            )
            .await;
        c.check(
            "DCC verifier agrees: issuer != controller is NOT verified",
            out.code == 1 && out.json_line()["verified"] == false,
            || out.describe(),
        );
    }

    // 5. Revocation: the DCC verifier reads the bit in carnet's status list; so does carnet.
    let award_id = award["id"].as_str().expect("award id").to_string();
    let report = server.verify(json_bytes.clone(), "application/json").await;
    c.check(
        "carnet verifier: the credential is valid before revocation (check status passes)",
        report["verdict"] == "valid" && check_status(&report, "status") == Some("pass"),
        || format!("report: {report}"),
    );
    let revoked = server.revoke(&award_id).await;
    c.check(
        "API: the award is revoked",
        revoked["revoked_at"].is_string(),
        || format!("answer: {revoked}"),
    );
    let out = tools
        .node(
            "dcc_verify.mjs",
            &["--credential", &json_file, "--allow-fetch", &prefix],
        )
        .await;
    let r = out.json_line();
    c.check(
        "DCC verifier: the revoked credential is NOT verified, with a status error",
        out.code == 1
            && r["verified"] == false
            && r["revoked"] == true
            && r["status"]["checked"] == true
            && r["status"]["results"][0]["status"] == true
            && r["error"]
                .as_str()
                .is_some_and(|e| e.contains("credential status: revocation")),
        || out.describe(),
    );
    c.check(
        "DCC verifier: the revoked credential's proof itself is still good (controller found)",
        r["issuer_matches_controller"] == true,
        || out.describe(),
    );
    let report = server.verify(json_bytes.clone(), "application/json").await;
    c.check(
        "carnet verifier: the revoked credential is invalid, check status fails",
        report["verdict"] == "invalid"
            && check_status(&report, "status") == Some("fail")
            && check_status(&report, "proof") == Some("pass"),
        || format!("report: {report}"),
    );

    server.stop().await;
    c.finish();
}

// ---- Open Badges 2.0: the IMS validator and openbadges-bakery ------------------------------

fn ob2_url<'a>(award: &'a Value, form: &str) -> &'a str {
    award["ob2"][form].as_str().unwrap_or_else(|| {
        panic!("the award has no ob2.{form} (is the issuer email set?): {award}")
    })
}

/// One line for a validator run: valid, revoked, errors and warnings.
fn validator_summary(r: &Value) -> String {
    format!(
        "valid={} revoked={} errors={} warnings={}",
        r["valid"], r["revoked"], r["errors"], r["warnings"]
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ob2_assertions_pass_ims_validator_and_bakery() {
    let Some(tools) = tools() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).expect("mkdir");
    let server = Server::start(dir.path()).await;
    let prefix = format!("{}/", server.base);
    let mut c = Checks::default();

    // Issue a badge and download every OB 2.0 form of it.
    let award = server.award().await;
    let award_id = award["id"].as_str().expect("award id").to_string();
    let assertion_url = ob2_url(&award, "assertion").to_string();
    let (status, assertion_bytes) = server.get_with(&assertion_url, "application/ld+json").await;
    assert_eq!(status, 200, "GET {assertion_url}");
    let assertion: Value =
        serde_json::from_slice(&assertion_bytes).expect("the hosted assertion is JSON");
    let jws_bytes = server.get(ob2_url(&award, "jws")).await;
    let jws = String::from_utf8(jws_bytes).expect("the JWS is text");
    let jws = jws.trim().to_string();
    let png_bytes = server.get(ob2_url(&award, "png")).await;
    let png_hosted_bytes = server.get(ob2_url(&award, "png_hosted")).await;
    let svg_bytes = server.get(ob2_url(&award, "svg")).await;
    let svg_hosted_bytes = server
        .get(&format!("{}?verification=hosted", ob2_url(&award, "svg")))
        .await;
    c.check(
        "the hosted assertion's id is its URL, on the same host and port as the issuer",
        assertion["id"] == assertion_url.as_str()
            && assertion["verification"]["type"] == "HostedBadge"
            && assertion_url.starts_with(&prefix),
        || format!("assertion: {assertion}"),
    );
    let assertion_file = write(&files, "assertion.json", &assertion_bytes);
    let jws_file = write(&files, "assertion.jws", jws.as_bytes());
    let png_file = write(&files, "signed.png", &png_bytes);
    let png_hosted_file = write(&files, "hosted.png", &png_hosted_bytes);
    let svg_file = write(&files, "signed.svg", &svg_bytes);
    let svg_hosted_file = write(&files, "hosted.svg", &svg_hosted_bytes);
    let forms: [(&str, &str); 7] = [
        ("hosted assertion URL", &assertion_url),
        ("hosted assertion JSON", &assertion_file),
        ("signed JWS", &jws_file),
        ("signed PNG", &png_file),
        ("hosted PNG", &png_hosted_file),
        ("signed SVG", &svg_file),
        ("hosted SVG", &svg_hosted_file),
    ];

    // 1. The IMS validator: 0 errors for every form, the recipient's hashed email checked.
    for (name, input) in forms {
        let out = tools
            .python_ob2(
                "ob2_validate.py",
                &[
                    input,
                    "--allow-fetch",
                    &prefix,
                    "--recipient",
                    RECIPIENT_EMAIL,
                ],
            )
            .await;
        let r = out.json_line();
        c.check(
            &format!("IMS validator: the {name} is valid, 0 errors"),
            out.success()
                && r["valid"] == true
                && r["error_count"] == 0
                && r["revoked"] == false
                && r["validation_subject"] == assertion_url.as_str()
                && r["blocked"].as_array().is_some_and(|b| b.is_empty()),
            || format!("{}\n    {}", validator_summary(&r), out.describe()),
        );
        if r["warning_count"].as_u64().is_some_and(|n| n > 0) {
            eprintln!(
                "NOTE  IMS validator warnings for the {name}: {}",
                r["warnings"]
            );
        }
    }

    // The validator checks the signature: a JWS whose payload says another date is refused.
    let bad_jws_file = write(&files, "tampered.jws", tamper_jws(&jws).as_bytes());
    let out = tools
        .python_ob2(
            "ob2_validate.py",
            &[&bad_jws_file, "--allow-fetch", &prefix],
        )
        .await;
    let r = out.json_line();
    c.check(
        "IMS validator: the JWS with its issuedOn changed is NOT valid (signature check)",
        out.code == 1
            && r["valid"] == false
            && r["errors"].as_array().is_some_and(|e| {
                e.iter().any(|m| {
                    m.as_str()
                        .is_some_and(|m| m.starts_with("VERIFY_JWS:") && m.contains("failed"))
                })
            }),
        || format!("{}\n    {}", validator_summary(&r), out.describe()),
    );

    // 2. openbadges-bakery extracts exactly carnet's payloads.
    let hosted_json = String::from_utf8(assertion_bytes.clone()).expect("UTF-8");
    for (name, file, want, what) in [
        (
            "signed PNG",
            &png_file,
            jws.as_str(),
            "the JWS served at .jws",
        ),
        (
            "signed SVG",
            &svg_file,
            jws.as_str(),
            "the JWS served at .jws",
        ),
        (
            "hosted PNG",
            &png_hosted_file,
            hosted_json.as_str(),
            "the assertion JSON served at its URL",
        ),
        (
            "hosted SVG",
            &svg_hosted_file,
            assertion_url.as_str(),
            "the assertion URL (the bakery reads the verify attribute first)",
        ),
    ] {
        let out = tools.python_ob2("bakery_unbake.py", &[file]).await;
        c.check(
            &format!("openbadges-bakery: the {name} holds exactly {what}"),
            out.success() && out.stdout == want,
            || out.describe(),
        );
    }
    // And the other way round: images baked by openbadges-bakery verify in carnet.
    let class_png = write(
        &files,
        "class.png",
        &server
            .get(&format!(
                "{}/badge-classes/{BADGE_CLASS}/image.png",
                server.base
            ))
            .await,
    );
    for (name, payload) in [("signed", &jws_file), ("hosted", &assertion_file)] {
        let out_file = files
            .join(format!("bakery-{name}.png"))
            .display()
            .to_string();
        let out = tools
            .python_ob2("bakery_bake.py", &[&class_png, payload, "--out", &out_file])
            .await;
        let report = if out.success() {
            server
                .verify(std::fs::read(&out_file).unwrap_or_default(), "image/png")
                .await
        } else {
            Value::Null
        };
        c.check(
            &format!("carnet verifies the {name} assertion baked into a PNG by openbadges-bakery"),
            report["verdict"] == "valid",
            || {
                let failed: Vec<String> = report["checks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|c| c["status"] != "pass")
                    .map(|c| format!("{}: {}", c["id"], c["message"]["en"]))
                    .collect();
                format!("{}: {failed:?} {}", out.describe(), report["verdict"])
            },
        );
    }
    let out = tools
        .python_ob2(
            "bakery_unbake.py",
            &[&json_credential_png(&server, &award, &files).await],
        )
        .await;
    c.check(
        "openbadges-bakery: the OB 3.0 PNG has no OB 2.0 payload",
        out.code == 1,
        || out.describe(),
    );

    // 3. Revocation: hosted answers 410 Gone, signed is listed in the RevocationList.
    let revoked = server.revoke(&award_id).await;
    c.check(
        "API: the award is revoked",
        revoked["revoked_at"].is_string(),
        || format!("answer: {revoked}"),
    );
    let (status, body) = server.get_with(&assertion_url, "application/ld+json").await;
    let gone: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    c.check(
        "the hosted assertion answers 410 Gone, revoked: true, with the reason",
        status == 410 && gone["revoked"] == true && gone["revocationReason"] == REVOCATION_REASON,
        || format!("{status}: {}", String::from_utf8_lossy(&body)),
    );
    for (name, input) in forms {
        let signed = name.starts_with("signed");
        let out = tools
            .python_ob2("ob2_validate.py", &[input, "--allow-fetch", &prefix])
            .await;
        let r = out.json_line();
        let how = if signed {
            r["revoked_source"] == "RevocationList" && r["revocation_reason"] == REVOCATION_REASON
        } else {
            r["fetched"][assertion_url.as_str()] == 410
        };
        c.check(
            &format!(
                "IMS validator: the revoked {name} is reported revoked ({})",
                if signed {
                    "listed in the RevocationList"
                } else {
                    "410 Gone, revoked: true"
                }
            ),
            out.code == 1 && r["valid"] == false && r["revoked"] == true && how,
            || format!("{}\n    {}", validator_summary(&r), out.describe()),
        );
    }

    server.stop().await;
    c.finish();
}

/// The compact JWS with its payload's `issuedOn` changed, signature kept.
fn tamper_jws(jws: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS: {jws}");
    let mut payload: Value =
        serde_json::from_slice(&b64.decode(parts[1]).expect("JWS payload base64url"))
            .expect("JWS payload JSON");
    payload["issuedOn"] = Value::from("2020-01-01T00:00:00Z");
    let payload = b64.encode(serde_json::to_vec(&payload).expect("json"));
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// The award's OB 3.0 PNG, written to `files`; its path.
async fn json_credential_png(server: &Server, award: &Value, files: &Path) -> String {
    let bytes = server.get(url_of(award, "png")).await;
    write(files, "ob3.png", &bytes)
}

/// `POST {base}{path}` with the API token and a JSON body; the status and the answer.
async fn post_api(server: &Server, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = server
        .client
        .post(format!("{}{path}", server.base))
        .header("Authorization", format!("Bearer {TOKEN_SECRET}"))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text)),
    )
}

/// An award earned from a RECTEC carnet (the shipped class `organiser-mon-activite-en-cuisine`:
/// alignments, result descriptions and results, the narrative as evidence) passes the DCC
/// verifier, and its OB 2.0 assertion (the BadgeClass of the référentiel version) the IMS
/// validator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awards_earned_from_a_carnet_pass_third_party_tools() {
    let Some(tools) = tools() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).expect("mkdir");
    let server = Server::start(dir.path()).await;
    let prefix = format!("{}/", server.base);
    let mut c = Checks::default();

    let rectec = std::fs::read(Path::new(ROOT).join("referentiels/rectec.json")).expect("rectec");
    let (status, answer) =
        post_api(&server, "/api/v1/referentiels", "application/json", rectec).await;
    assert_eq!(status, 201, "{answer}");
    let carnet = serde_json::json!({
        "referentiel": {"id": "rectec", "version": "2021"},
        "person": {"email": RECIPIENT_EMAIL},
        "entries": [{"competence": "1", "answer": "je_fais", "recognition": "validated",
                     "modality": "externe", "date": "2024-06-14", "level": "3",
                     "jury": ["Mme Durand (DAVA)"]}],
    });
    let (status, answer) = post_api(
        &server,
        "/api/v1/carnets",
        "application/json",
        carnet.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let carnet_id = answer["id"].as_str().expect("carnet id").to_string();
    let (status, award) = post_api(
        &server,
        &format!("/api/v1/carnets/{carnet_id}/proposals/organiser-mon-activite-en-cuisine/confirm"),
        "application/json",
        Vec::new(),
    )
    .await;
    assert_eq!(status, 201, "{award}");

    let json_bytes = server.get(url_of(&award, "json")).await;
    let credential: Value = serde_json::from_slice(&json_bytes).expect("the .json is JSON");
    c.check(
        "the credential carries results and the competence's alignment",
        credential["credentialSubject"]["result"]
            .as_array()
            .is_some_and(|r| r.len() == 3)
            && credential["credentialSubject"]["achievement"]["alignment"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["targetCode"] == "1")),
        || format!("{credential:#}"),
    );
    let json_file = write(&files, "carnet-credential.json", &json_bytes);
    let out = tools
        .node(
            "dcc_verify.mjs",
            &["--credential", &json_file, "--allow-fetch", &prefix],
        )
        .await;
    let r = out.json_line();
    c.check(
        "DCC verifier: the award earned from a carnet is verified",
        out.success() && r["verified"] == true && r["revoked"] == false,
        || out.describe(),
    );

    let assertion_url = ob2_url(&award, "assertion").to_string();
    let out = tools
        .python_ob2(
            "ob2_validate.py",
            &[
                &assertion_url,
                "--allow-fetch",
                &prefix,
                "--recipient",
                RECIPIENT_EMAIL,
            ],
        )
        .await;
    let r = out.json_line();
    c.check(
        "IMS validator: the hosted assertion of the award earned from a carnet is valid, 0 errors",
        out.success() && r["valid"] == true && r["error_count"] == 0,
        || format!("{}\n    {}", validator_summary(&r), out.describe()),
    );
    let jws_file = write(
        &files,
        "carnet-assertion.jws",
        &server.get(ob2_url(&award, "jws")).await,
    );
    let out = tools
        .python_ob2(
            "ob2_validate.py",
            &[
                &jws_file,
                "--allow-fetch",
                &prefix,
                "--recipient",
                RECIPIENT_EMAIL,
            ],
        )
        .await;
    let r = out.json_line();
    c.check(
        "IMS validator: the signed assertion of the award earned from a carnet is valid, 0 errors",
        out.success() && r["valid"] == true && r["error_count"] == 0,
        || format!("{}\n    {}", validator_summary(&r), out.describe()),
    );
    server.stop().await;
    c.finish();
}
