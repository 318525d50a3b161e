//! Badges made by another implementation, openbadgeslib (PyPI, pinned in
//! `tests/interop/requirements.txt`), verify in carnet (issue #4 §6).
//!
//! `tests/interop/openbadgeslib_issue.py` issues, with keys it generates itself and openbadgeslib's
//! own signers and baking:
//!
//! - OB 3.0 VC-JWTs signed EdDSA (issuer = the key's did:key), ES256 (issuer = the P-256 did:key)
//!   and RS256 (https issuer), the EdDSA one also baked into a PNG and an SVG. openbadgeslib puts
//!   the public key in the JOSE header as `jwk` (its only way: no `kid`), which the OB 3.0 spec
//!   allows; carnet accepts it with the warning that nothing ties that key to the issuer.
//! - OB 3.0 with a Data Integrity proof `eddsa-rdfc-2022` (verificationMethod `did:key:X#X`, issuer
//!   the same did:key), as JSON, PNG and SVG (PyLD, openbadgeslib's `[ldp]` extra, is pinned in
//!   tests/interop/requirements.txt).
//! - OB 2.0 signed assertions (RS256 compact JWS), raw and baked into a PNG and an SVG, with the
//!   Profile, CryptographicKey, BadgeClass (and its image) and RevocationList they point to, served
//!   here from a small HTTP server on 127.0.0.1; carnet's verifier gets a fetcher that may use plain
//!   http to 127.0.0.1 only (that address explicitly allow-listed). A second assertion is listed in
//!   the RevocationList.
//!
//! Every output is verified by the library verifier (`carnet::verify::Verifier`, as
//! `tests/remote_keys.rs` builds it) with the recipient's email: verdict `valid` (warnings allowed),
//! proof, key and recipient checks as expected; a copy with one byte of its payload changed
//! (re-baked with carnet's baker for the images) is `invalid`, check `proof` failing; the revoked
//! OB 2.0 assertion is `invalid`, check `revocation` failing with the list's reason.
//!
//! Python: `.tools/venv/bin/python` (scripts/setup-interop.sh), or `CARNET_OPENBADGESLIB_PYTHON`.
//! Without it the test fails and says so, unless `CARNET_SKIP_INTEROP=1` (then a visible SKIP).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::cli::Cli;
use base64::Engine as _;
use carnet::bake::{self, SvgPayload};
use carnet::verify::Verifier;
use carnet::verify::fetch::{FetchPolicy, Fetcher};
use carnet::verify::report::{Report, Status, Verdict};
use carnet::verify::resolve::Resolver;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const EMAIL: &str = "ada.lovelace@example.org";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// The Python that has openbadgeslib; `None` (after a visible message) when interop is skipped.
fn python() -> Option<PathBuf> {
    if std::env::var("CARNET_SKIP_INTEROP").as_deref() == Ok("1") {
        // straight to the process's stderr: libtest's capture would hide an eprintln!
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"SKIP interop_openbadgeslib: CARNET_SKIP_INTEROP=1\n",
        );
        return None;
    }
    let python = std::env::var_os("CARNET_OPENBADGESLIB_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join(".tools/venv/bin/python"));
    assert!(
        python.exists(),
        "openbadgeslib's Python is not installed ({} is missing): run scripts/setup-interop.sh \
         (or set CARNET_SKIP_INTEROP=1 to skip these checks)",
        python.display()
    );
    Some(python)
}

/// Runs the issuing script (killed after `SCRIPT_TIMEOUT`); its one JSON line.
fn issue_with_openbadgeslib(python: &Path, out: &Path, ob2_base: &str) -> Value {
    let ran = Cli::program(python)
        .arg(Path::new(ROOT).join("tests/interop/openbadgeslib_issue.py"))
        .arg("--out")
        .arg(out)
        .args(["--email", EMAIL, "--ob2-base", ob2_base])
        .time_limit(SCRIPT_TIMEOUT)
        .run();
    let report = ran.json_line();
    assert!(
        ran.success() && report["ok"] == true,
        "openbadgeslib_issue.py failed: {}",
        ran.describe()
    );
    report
}

// ---- a static file server for the OB 2.0 documents -----------------------------------------

/// Serves the files of `dir` at `http://127.0.0.1:<port>/<name>` (bound before the documents are
/// written, since their ids hold the port). Returns the base URL.
async fn serve_dir(listener: tokio::net::TcpListener, dir: PathBuf) {
    let app = axum::Router::new().route(
        "/{*path}",
        axum::routing::get(
            move |axum::extract::Path(path): axum::extract::Path<String>| {
                let dir = dir.clone();
                async move {
                    use axum::http::{StatusCode, header};
                    let safe = !path.contains("..") && !path.starts_with('/');
                    let file = dir.join(&path);
                    match (safe, std::fs::read(&file)) {
                        (true, Ok(body)) => {
                            let kind = match file.extension().and_then(|e| e.to_str()) {
                                Some("json") => "application/ld+json",
                                Some("png") => "image/png",
                                Some("html") => "text/html; charset=utf-8",
                                _ => "application/octet-stream",
                            };
                            (StatusCode::OK, [(header::CONTENT_TYPE, kind)], body)
                        }
                        _ => (
                            StatusCode::NOT_FOUND,
                            [(header::CONTENT_TYPE, "text/plain")],
                            b"not found".to_vec(),
                        ),
                    }
                }
            },
        ),
    );
    let _ = axum::serve(listener, app).await;
}

/// carnet's verifier, allowed to fetch over plain http from 127.0.0.1 only.
fn verifier() -> Verifier {
    let fetcher = Fetcher::new(FetchPolicy {
        allow_http: vec!["127.0.0.1".into()],
        allow_addresses: vec!["127.0.0.1".parse().expect("address")],
    });
    Verifier::new(Resolver::new(vec![], Some(Arc::new(fetcher))))
}

// ---- tampering: one byte of the payload -----------------------------------------------------

/// The JSON text with one byte changed: the first character of the first `name` or `narrative`
/// string value (an ASCII letter, flipped to its neighbour), so the JSON stays well formed and
/// only the signature can tell.
fn tamper_json(json: &str) -> String {
    let mut bytes = json.as_bytes().to_vec();
    let at = ["\"name\"", "\"narrative\""]
        .iter()
        .find_map(|key| json.find(key).map(|i| i + key.len()))
        .unwrap_or_else(|| panic!("no name nor narrative to change in {json}"));
    let mut i = at;
    while bytes[i] != b'"' {
        i += 1; // past `:` and spaces, to the value's opening quote
    }
    let b = bytes[i + 1];
    assert!(
        b.is_ascii_alphanumeric(),
        "the value starts with {:?}",
        b as char
    );
    bytes[i + 1] = b ^ 0x01;
    String::from_utf8(bytes).expect("still UTF-8")
}

/// A compact JWS whose decoded payload has one byte changed; header and signature kept.
fn tamper_jws(jws: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jws.trim().split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS: {jws}");
    let payload =
        String::from_utf8(b64.decode(parts[1]).expect("payload base64url")).expect("payload UTF-8");
    let payload = b64.encode(tamper_json(&payload));
    format!("{}.{payload}.{}", parts[0], parts[2])
}

fn tamper_text(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        tamper_json(text)
    } else {
        tamper_jws(text)
    }
}

/// The image with its baked payload tampered, re-baked by carnet's baker (which replaces it).
fn tamper_image(image: &[u8]) -> Vec<u8> {
    let baked = bake::unbake(image, &bake::Limits::default()).expect("the image unbakes");
    let payload = baked
        .verify_attr
        .clone()
        .filter(|v| v.starts_with("eyJ"))
        .unwrap_or(baked.text.clone());
    let tampered = tamper_text(&payload);
    match baked.container {
        bake::Container::Png => {
            bake::bake_png(image, baked.keyword, &tampered).expect("re-bake the PNG")
        }
        bake::Container::Svg => {
            let svg = std::str::from_utf8(image).expect("SVG is UTF-8");
            let payload = if tampered.starts_with('{') {
                SvgPayload::Json(tampered)
            } else {
                SvgPayload::Jws(tampered)
            };
            bake::bake_svg(svg, baked.keyword, payload)
                .expect("re-bake the SVG")
                .into_bytes()
        }
    }
}

fn tamper(container: &str, bytes: &[u8]) -> Vec<u8> {
    match container {
        "png" | "svg" => tamper_image(bytes),
        _ => tamper_text(std::str::from_utf8(bytes).expect("text output"))
            .as_bytes()
            .to_vec(),
    }
}

// ---- the checks ---------------------------------------------------------------------------------

fn status(report: &Report, id: &str) -> Option<Status> {
    report.checks.iter().find(|c| c.id == id).map(|c| c.status)
}

fn message<'a>(report: &'a Report, id: &str) -> &'a str {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .map_or("", |c| c.message.en.as_str())
}

fn describe(report: &Report) -> String {
    let checks: Vec<String> = report
        .checks
        .iter()
        .map(|c| format!("{:?} {}: {}", c.status, c.id, c.message.en))
        .collect();
    format!("{:?}\n      {}", report.verdict, checks.join("\n      "))
}

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
}

/// What carnet must say about a genuine output, by proof format.
fn expected_checks(proof: &str, report: &Report) -> bool {
    let common = report.verdict == Verdict::Valid
        && status(report, "proof") == Some(Status::Pass)
        && status(report, "recipient") == Some(Status::Pass);
    common
        && match proof {
            // The key comes from the JOSE header's `jwk` (openbadgeslib's only way): accepted,
            // with a warning that carnet cannot tie it to the issuer.
            "vc-jwt" => {
                status(report, "key") == Some(Status::Warn)
                    && message(report, "key").contains("written in the token itself")
                    && status(report, "jsonld") == Some(Status::Pass)
            }
            // did:key resolved offline; issuer.id is the key's controller.
            "data-integrity" => {
                status(report, "key") == Some(Status::Pass)
                    && status(report, "controller") == Some(Status::Pass)
                    && status(report, "jsonld") == Some(Status::Pass)
            }
            // CryptographicKey fetched, owned by the issuer that lists it; RevocationList read.
            "ob2-jws" => {
                status(report, "controller") == Some(Status::Pass)
                    && status(report, "revocation") == Some(Status::Pass)
            }
            _ => false,
        }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openbadgeslib_badges_verify_in_carnet() {
    let Some(python) = python() else { return };
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let base = format!("http://{}/", listener.local_addr().expect("addr"));
    let out = dir.path().to_path_buf();
    let issued = {
        let (python, out, base) = (python.clone(), out.clone(), base.clone());
        tokio::task::spawn_blocking(move || issue_with_openbadgeslib(&python, &out, &base))
            .await
            .expect("script task")
    };
    let hosted = out.join(
        issued["ob2"]["hosted_dir"]
            .as_str()
            .expect("ob2.hosted_dir"),
    );
    tokio::spawn(serve_dir(listener, hosted));
    eprintln!(
        "openbadgeslib {} issued {} outputs in {:?}",
        issued["openbadgeslib"],
        issued["outputs"].as_array().map_or(0, Vec::len),
        started.elapsed()
    );

    let outputs = issued["outputs"].as_array().expect("outputs").clone();
    let mut c = Checks::default();
    let mut proofs_seen = std::collections::BTreeSet::new();
    let verifier = verifier();
    for o in &outputs {
        let (file, proof, container) = (
            o["file"].as_str().expect("file"),
            o["proof"].as_str().expect("proof"),
            o["container"].as_str().expect("container"),
        );
        let what = format!("{file} ({proof}, {}, {container})", o["alg"]);
        let bytes = std::fs::read(out.join(file)).expect("read an output");
        let report = verifier.verify_bytes(&bytes, Some(EMAIL)).await;
        match o["expect"].as_str() {
            Some("valid") => {
                proofs_seen.insert(proof.to_string());
                c.check(
                    &format!("carnet: {what} is valid"),
                    expected_checks(proof, &report),
                    || describe(&report),
                );
                let tampered = tamper(container, &bytes);
                let report = verifier.verify_bytes(&tampered, Some(EMAIL)).await;
                c.check(
                    &format!("carnet: {what} with one payload byte changed is invalid"),
                    report.verdict == Verdict::Invalid
                        && status(&report, "proof") == Some(Status::Fail),
                    || describe(&report),
                );
            }
            Some("revoked") => c.check(
                &format!("carnet: {what}, listed in the issuer's RevocationList, is invalid"),
                report.verdict == Verdict::Invalid
                    && status(&report, "proof") == Some(Status::Pass)
                    && status(&report, "revocation") == Some(Status::Fail)
                    && message(&report, "revocation").contains("Émis par erreur"),
                || describe(&report),
            ),
            other => panic!("unknown expectation {other:?} for {file}"),
        }
    }

    // The recipient check is real: another email does not match the hashed identity.
    let jwt = std::fs::read(out.join("ob3-eddsa.jwt")).expect("the EdDSA VC-JWT");
    let report = verifier
        .verify_bytes(&jwt, Some("someone.else@example.org"))
        .await;
    c.check(
        "carnet: the VC-JWT checked against another email is invalid (recipient)",
        report.verdict == Verdict::Invalid && status(&report, "recipient") == Some(Status::Fail),
        || describe(&report),
    );

    c.check(
        "every openbadgeslib JWT and OB 2.0 form was produced",
        proofs_seen.contains("vc-jwt")
            && proofs_seen.contains("ob2-jws")
            && ["png", "svg", "jwt", "jws"]
                .iter()
                .all(|k| outputs.iter().any(|o| o["container"] == *k)),
        || format!("outputs: {outputs:?}"),
    );
    // PyLD (openbadgeslib's [ldp] extra) is pinned in tests/interop/requirements.txt: the Data
    // Integrity outputs must be there.
    let skipped = issued["skipped"].as_array().cloned().unwrap_or_default();
    c.check(
        "openbadgeslib skipped nothing (its Data Integrity signer included)",
        skipped.is_empty(),
        || format!("skipped: {skipped:?}"),
    );
    c.check(
        "openbadgeslib's Data Integrity outputs were verified",
        proofs_seen.contains("data-integrity"),
        || format!("outputs: {outputs:?}"),
    );

    eprintln!(
        "interop_openbadgeslib: {} passed, {} failed, {:?}",
        c.passed,
        c.failures.len(),
        started.elapsed()
    );
    assert!(
        c.failures.is_empty(),
        "{} check(s) failed:\n- {}",
        c.failures.len(),
        c.failures.join("\n- ")
    );
}
