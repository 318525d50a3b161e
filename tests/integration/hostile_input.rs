//! Hostile input through the public endpoint and page (issue #4 §5): every answer is a report or a
//! precise client error, never a 500 nor a hang, and nothing is fetched that the input names.
//! (Unit-level cases live next to the code: `bake_props`, `proof::vc_jwt`, `jsonld`, `ssrf`.)

use std::io::Write;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common;
use common::server::*;

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// A PNG whose `zTXt`-style compressed `iTXt` badge inflates to 64 MiB of zeros.
fn decompression_bomb() -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b'0'; 1 << 20];
    for _ in 0..64 {
        z.write_all(&zeros).unwrap();
    }
    let mut data = b"openbadgecredential\0\x01\x00\0\0".to_vec();
    data.extend(z.finish().unwrap());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    // 100000 x 100000 pixels declared: carnet never decodes pixels of an uploaded badge.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(&mut png, b"iTXt", &data);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

#[tokio::test]
async fn hostile_bodies_get_reports_or_client_errors_quickly() {
    let s = Server::with_args(&["--max-body-bytes=4194304"]).await;
    let award = s.issue().await;
    let jwt = String::from_utf8(s.form(&award, "jwt").await.body).unwrap();
    let mut parts = jwt.split('.');
    let (header, payload) = (parts.next().unwrap(), parts.next().unwrap());
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    let alg_none = format!("{}.{payload}.", b64(&json!({"alg": "none", "typ": "JWT"})));
    let mut hs = header.clone();
    hs["alg"] = json!("HS256");
    // Algorithm confusion: an HMAC "signature" keyed with the issuer's public key.
    let hs256 = format!("{}.{payload}.AAAA", b64(&hs));
    let deep = "[".repeat(200_000);
    let laughs = "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"aaaaaaaaaa\">\
        <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>\
        <svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:openbadges=\"http://openbadges.org\">\
        <openbadges:credential>&c;</openbadges:credential></svg>";
    let xxe = "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
        <svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:openbadges=\"http://openbadges.org\">\
        <openbadges:assertion verify=\"https://example.org/a\">&x;</openbadges:assertion></svg>";
    let unknown_context = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://attacker.example/ctx.jsonld"],
        "type": ["VerifiableCredential"], "issuer": "did:key:z6Mk", "credentialSubject": {}
    });
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("alg none", "text/plain", alg_none.into_bytes()),
        (
            "HS256 with the public key",
            "application/jwt",
            hs256.into_bytes(),
        ),
        ("deep JSON", JSON, deep.into_bytes()),
        (
            "billion laughs SVG",
            "image/svg+xml",
            laughs.as_bytes().to_vec(),
        ),
        (
            "external entity SVG",
            "image/svg+xml",
            xxe.as_bytes().to_vec(),
        ),
        ("decompression bomb PNG", PNG, decompression_bomb()),
        (
            "truncated PNG",
            PNG,
            b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec(),
        ),
        ("not UTF-8", "text/plain", vec![0xff, 0xfe, 0xfd, b'{']),
        (
            "unknown context",
            JSON,
            unknown_context.to_string().into_bytes(),
        ),
        ("JSON array", JSON, b"[1,2,3]".to_vec()),
        (
            "JWT with junk segments",
            "text/plain",
            b"eyJ.eyJ.###".to_vec(),
        ),
    ];
    for (name, ct, body) in cases {
        let t = Instant::now();
        let r = s.verify_raw(ct, body, None).await;
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{name}: took {:?}",
            t.elapsed()
        );
        assert!(r.status < 500, "{name}: {} {}", r.status, r.text());
        if r.status == 200 {
            let report = r.json();
            assert_ne!(report["verdict"], "valid", "{name}: {report:#}");
            let text = report.to_string();
            assert!(
                !text.contains("root:"),
                "{name}: a local file leaked: {text}"
            );
            if name == "unknown context" {
                assert!(text.contains("attacker.example/ctx.jsonld"), "{text}");
                assert!(text.contains("it was not fetched"), "{text}");
            }
        } else {
            assert_eq!(
                r.header("content-type"),
                "application/problem+json",
                "{name}"
            );
        }
    }
    // Over the body limit: 413 with a problem document.
    let big = vec![b'a'; 5 * 1024 * 1024];
    let r = s.verify_raw(PNG, big.clone(), None).await;
    assert_eq!(r.status, 413, "{}", r.text());
    s.shutdown().await;
}

/// A request without a valid token is answered 401 from its headers alone: the server does not
/// wait for (nor read) a body it announces, on every authenticated route that takes one.
#[tokio::test]
async fn credentials_are_checked_before_a_body_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Server::new().await;
    let host = s.addr.trim_start_matches("http://").to_string();
    for path in [
        "/api/v1/awards",
        "/api/v1/bulk-awards?badge_class=x",
        "/api/v1/badge-requests",
        "/api/v1/badge-requests/00000000-0000-0000-0000-000000000000/evidence?filename=a.png",
        "/api/v1/badge-requests/00000000-0000-0000-0000-000000000000/approve",
        "/api/v1/carnets",
        "/api/v1/referentiels",
        "/api/v1/carnet-batches",
    ] {
        for auth in ["", "Authorization: Bearer wrong-token\r\n"] {
            let mut conn = tokio::net::TcpStream::connect(&host).await.unwrap();
            // 20 MiB announced, 10 bytes sent: a server that reads the body first never answers
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n0123456789",
                20 * 1024 * 1024
            );
            conn.write_all(head.as_bytes()).await.unwrap();
            let mut answer = vec![0u8; 512];
            let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut answer))
                .await
                .unwrap_or_else(|_| panic!("{path} {auth:?}: no answer before the body"))
                .unwrap();
            let text = String::from_utf8_lossy(&answer[..n]);
            assert!(text.starts_with("HTTP/1.1 401"), "{path} {auth:?}: {text}");
        }
    }
    s.shutdown().await;
}

/// I-JSON: an object with the same member twice means one thing to one parser and another to the
/// next; carnet refuses it, on the API (422) and in a badge given to the verifier (unreadable).
#[tokio::test]
async fn a_member_given_twice_is_refused() {
    let s = Server::new().await;
    let body = r#"{"badge_class": "securite-hygiene-au-travail", "recipient_email": "lea@example.org", "recipient_email": "tom@example.org"}"#;
    let r = s.post_award(Some(TOKEN), body).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("appears twice"), "{}", r.text());

    let award = s.issue().await;
    let credential = s.form(&award, "json").await.text();
    let twice = credential.replacen(
        '{',
        r#"{"id": "urn:uuid:00000000-0000-0000-0000-000000000000","#,
        1,
    );
    let report = s.verify("application/json", twice.into_bytes(), None).await;
    assert_eq!(report["verdict"], "invalid", "{report:#}");
    assert_eq!(report["deciding"], "parse", "{report:#}");
    assert!(
        report["checks"][0]["message"]["en"]
            .as_str()
            .unwrap()
            .contains("appears twice"),
        "{report:#}"
    );
    s.shutdown().await;
}

/// A link the signer could not sign is refused where it enters, naming the field (it used to be
/// accepted, then fail at signing with a 500).
#[tokio::test]
async fn links_that_cannot_be_signed_are_refused_at_the_door() {
    let s = Server::new().await;
    let auth = format!("Bearer {TOKEN}");
    for bad in [
        "https://x.invalid/a b",
        "https://x.invalid/<x>",
        "https://x.invalid/%zz",
        "http://[::1",
        "https://x.invalid/a\u{0}b",
        "https://x.invalid/a#b#c",
    ] {
        let mut award = lea();
        award["evidence_url"] = bad.into();
        let r = s.post_award(Some(TOKEN), award.to_string()).await;
        assert_eq!(r.status, 422, "{bad:?}: {}", r.text());
        assert_eq!(r.json()["field"], "evidence_url", "{bad:?}");

        let request = json!({
            "badge_class": "securite-hygiene-au-travail",
            "recipient_email": "lea@example.org",
            "requested_by": "Léa",
            "links": [bad],
        });
        let r = s
            .request(
                Some(request.to_string().into_bytes()),
                "/api/v1/badge-requests",
                &[
                    ("content-type", "application/json"),
                    ("authorization", &auth),
                ],
            )
            .await;
        assert_eq!(r.status, 422, "{bad:?}: {}", r.text());
        assert_eq!(r.json()["field"], "links[0]", "{bad:?}");
    }
    s.shutdown().await;
}

/// Free text with a control character or a bidirectional override is refused, naming the field.
#[tokio::test]
async fn control_characters_in_text_are_refused() {
    let s = Server::new().await;
    for (field, value, answer_field) in [
        ("recipient_name", "Léa\u{7}", "name"),
        ("recipient_name", "Léa\nMartin", "name"),
        ("recipient_name", "Léa \u{202E}nitraM", "name"),
        ("narrative", "J'ai \u{0} fait", "narrative"),
    ] {
        let mut award = lea();
        award[field] = value.into();
        let r = s.post_award(Some(TOKEN), award.to_string()).await;
        assert_eq!(r.status, 422, "{value:?}: {}", r.text());
        assert_eq!(r.json()["field"], answer_field, "{value:?}");
    }
    // several lines are fine in a narrative
    let mut award = lea();
    award["narrative"] = "J'ai rempli la fiche.\nPuis je l'ai rangée.".into();
    assert_eq!(
        s.post_award(Some(TOKEN), award.to_string()).await.status,
        201
    );
    s.shutdown().await;
}

/// A client whose body stops coming (shorter than its Content-Length) gets 408 once the body
/// read timeout passes, instead of holding the connection.
#[tokio::test]
async fn a_body_that_stops_coming_gets_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Server::with_args(&["--body-read-timeout=1"]).await;
    let host = s.addr.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /api/v1/awards HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"badge_class\":"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(20), conn.read(&mut answer))
        .await
        .expect("answered, not held open")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    s.shutdown().await;
}

/// A client that sends its headers slowly (Slowloris) is cut off once the header read timeout
/// passes; a whole request on the same server is answered, and the server stops when asked.
#[tokio::test]
async fn a_client_that_sends_headers_slowly_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = carnet::http::ServeOptions {
        header_read_timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let server = tokio::spawn(carnet::http::serve_with(
        listener,
        router,
        async {
            let _ = stopped.await;
        },
        options,
    ));

    let mut ok = tokio::net::TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    ok.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut rest))
        .await
        .expect("the slow client was cut off, not held open");
    // closed by the server: end of stream (possibly after a 408), or a reset
    assert!(
        read.is_err() || rest.is_empty() || rest.starts_with(b"HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

/// One address may hold only so many connections open at once; the next is closed before
/// anything is read, and a place freed is given again.
#[tokio::test]
async fn one_address_holds_only_so_many_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = carnet::http::ServeOptions {
        max_connections_per_address: 2,
        ..Default::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(carnet::http::serve_with(
        listener,
        router,
        async {
            let _ = stopped.await;
        },
        options,
    ));
    async fn ask(conn: &mut tokio::net::TcpStream) -> String {
        let _ = conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let mut answer = vec![0u8; 256];
        match tokio::time::timeout(Duration::from_secs(5), conn.read(&mut answer)).await {
            Ok(Ok(n)) => String::from_utf8_lossy(&answer[..n]).into_owned(),
            Ok(Err(e)) => format!("error: {e}"),
            Err(_) => "no answer".into(),
        }
    }
    let mut one = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut two = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(ask(&mut one).await.starts_with("HTTP/1.1 200"));
    assert!(ask(&mut two).await.starts_with("HTTP/1.1 200"));
    // a third, while both stay open (keep-alive): closed without an answer
    let mut three = tokio::net::TcpStream::connect(addr).await.unwrap();
    let got = ask(&mut three).await;
    assert!(!got.starts_with("HTTP/1.1 200"), "{got}");
    // one closes: a new one is served
    drop(one);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut four = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(ask(&mut four).await.starts_with("HTTP/1.1 200"));
    let _ = stop.send(());
    drop((two, four));
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

/// The inputs of `carnet bench --hostile` (each at or past one of the verifier's limits) get a
/// report that is not "valid", naming what decided, and never a panic. Their cost is measured by
/// the benchmark (docs/BENCHMARKS.md), not here.
#[tokio::test]
async fn the_benchmarks_worst_inputs_get_a_report() {
    let f = common::fixture();
    let signed = f.issue("lea@example.org", &common::full_details());
    let v = f.verifier();
    let inputs = carnet::bench::hostile::worst_inputs(&signed.json, &f.class.image_png);
    assert!(inputs.len() >= 15);
    for input in &inputs[1..] {
        let r = v.verify_bytes(&input.bytes, None).await;
        if input.name.contains("endorsements") {
            // a badge carnet signed, with endorsements that fail: they are shown, never decide
            let shown = r
                .checks
                .iter()
                .filter(|c| c.id.starts_with("endorsement"))
                .count();
            assert!(
                (1..=20 * 4).contains(&shown),
                "{}: {shown} checks",
                input.name
            );
            if input.name.starts_with("200") {
                // too large to be read as JSON-LD: its endorsements cost nothing, one check says so
                assert_eq!(shown, 1, "{}: {:#?}", input.name, r.checks);
                assert_eq!(r.deciding, Some("jsonld"), "{}", input.name);
            }
            continue;
        }
        assert_ne!(
            r.verdict,
            carnet::verify::report::Verdict::Valid,
            "{}",
            input.name
        );
        assert!(r.deciding.is_some(), "{}: {r:#?}", input.name);
    }
    let scale = v.verify_bytes(&inputs[0].bytes, None).await;
    assert_eq!(scale.verdict, carnet::verify::report::Verdict::Valid);
}

/// A document that made the `json-ld` stack panic (an IRI whose percent-encoding is not UTF-8:
/// `…/credentials%b1…`, found by the `jsonld_rdf` fuzzer) gets a report, not a 500; and such a
/// link is refused at the door, so it can never reach the signer.
#[tokio::test]
async fn an_iri_that_is_not_utf8_once_decoded_gets_a_report_or_a_422() {
    let s = Server::new().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions/jsonld_rdf");
    for entry in std::fs::read_dir(dir).unwrap() {
        let body = std::fs::read(entry.unwrap().path()).unwrap();
        let r = s.verify_raw("application/json", body, None).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_ne!(r.json()["verdict"], "valid");
    }
    let mut award = lea();
    award["evidence_url"] = json!("https://example.org/photos%b1");
    let r = s.post_award(Some(TOKEN), award.to_string()).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], "evidence_url");
}
