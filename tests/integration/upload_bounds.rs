//! The memory the public verifier gives to request bodies: a body takes its share of one budget
//! for the whole process (`VERIFY_BODY_BUDGET_BYTES`, 16 MiB) before it is read, so that more
//! large uploads than the budget holds wait, and are all answered; a body announced over the
//! limit is refused before it is read. The figures are measured by `scripts/bench-uploads.sh`.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common;
use common::server::*;

const MIB: usize = 1024 * 1024;

/// The award's PNG made `size` bytes long by a `tEXt` comment before `IEND`: still the same
/// credential, still valid.
fn padded_png(png: &[u8], size: usize) -> Vec<u8> {
    let (body, iend) = png.split_at(png.len() - 12);
    assert_eq!(&iend[4..8], b"IEND");
    let mut data = b"Comment\0".to_vec();
    data.resize(size - png.len() - 12, b'x');
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"tEXt");
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(&crc32fast::hash(&chunk[4..]).to_be_bytes());
    let out = [body, &chunk, iend].concat();
    assert_eq!(out.len(), size);
    out
}

/// A `multipart/form-data` body with the image as its `file` field.
fn form_with(file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----carnet-upload-bounds-7MA4YWxk";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"badge.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Sends `head` (request line and headers, without the blank line) then `body`, and reads the
/// whole answer (the connection is closed after it).
async fn raw(addr: &str, head: &str, body: &[u8]) -> String {
    let host = addr.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!("{head}\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), conn.read_to_end(&mut answer))
        .await
        .expect("answered")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// Ten uploads of 6 MiB at once (60 MiB: about four times the budget) and one of 20 MiB (more
/// than the whole budget, so it takes all of it) are all answered: the API's and the page's
/// verify the 6 MiB badge as valid, the 20 MiB image is reported too large to read.
#[tokio::test]
async fn more_large_bodies_than_the_budget_holds_are_all_answered() {
    let s = Server::with_args(&["--max-body-bytes=25000000"]).await;
    let award = s.issue().await;
    let png = padded_png(&s.form(&award, "png").await.body, 6 * MIB);
    let (form_type, form) = form_with(&png);
    let oversized = padded_png(&s.form(&award, "png").await.body, 20 * MIB);

    let mut uploads = tokio::task::JoinSet::new();
    for i in 0..11 {
        let (path, content_type, body) = match i {
            0..8 => ("/api/v1/verify", "image/png".to_string(), png.clone()),
            8 | 9 => ("/verify", form_type.clone(), form.clone()),
            _ => ("/api/v1/verify", "image/png".to_string(), oversized.clone()),
        };
        let request = s
            .client
            .post(s.url(path))
            .header("content-type", content_type)
            .body(body);
        uploads.spawn(async move {
            let r = request.send().await.expect("sent");
            (path, i, r.status().as_u16(), r.text().await.expect("body"))
        });
    }
    let mut answered = 0;
    while let Some(done) = uploads.join_next().await {
        let (path, i, status, text) = done.unwrap();
        assert_eq!(status, 200, "{path} #{i}: {text}");
        match (path, i) {
            ("/verify", _) => {
                assert!(text.contains("Ce badge est authentique."), "#{i}: {text}");
                // the image is not sent back (its base64 would make the page 8 MiB)
                assert!(!text.contains("data:image/png;base64,"), "#{i}");
                assert!(text.len() < 256 * 1024, "#{i}: {} bytes", text.len());
            }
            (_, 10) => {
                let report: Value = serde_json::from_str(&text).unwrap();
                assert_ne!(report["verdict"], "valid", "{report}");
                assert!(text.contains("too large"), "{report}");
            }
            _ => {
                let report: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(report["verdict"], "valid", "#{i}: {report}");
            }
        }
        answered += 1;
    }
    assert_eq!(answered, 11);
    s.shutdown().await;
}

/// A body whose `Content-Length` is over the body limit is refused at once (413), the page's
/// in its form, without waiting for the body: here none is sent.
#[tokio::test]
async fn a_body_announced_over_the_limit_is_refused_before_it_is_read() {
    let s = Server::new().await;
    let length = 8 * MIB + 1;
    for (path, content_type, says) in [
        ("/api/v1/verify", "image/png", "too_large"),
        (
            "/verify",
            "multipart/form-data; boundary=b",
            "<form", // the form again, with its message
        ),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nContent-Type: {content_type}\r\nContent-Length: {length}"
        );
        let answer = raw(&s.addr, &head, b"").await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains(says), "{path}: {answer}");
    }
    s.shutdown().await;
}

/// An evidence file announced over the evidence limit is refused at once (413), its token checked
/// first, without waiting for its bytes: here none is sent.
#[tokio::test]
async fn an_evidence_file_announced_over_its_limit_is_refused_before_it_is_read() {
    let s = Server::new().await;
    let auth = format!("Bearer {TOKEN}");
    let r = s
        .request(
            Some(
                json!({
                    "badge_class": CLASS,
                    "recipient_email": "lea@example.org",
                    "requested_by": "Léa",
                })
                .to_string()
                .into_bytes(),
            ),
            "/api/v1/badge-requests",
            &[("content-type", JSON), ("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let length = carnet::evidence::DEFAULT_MAX_EVIDENCE_BYTES + 1;
    let path = format!("/api/v1/badge-requests/{id}/evidence");
    let head = format!(
        "POST {path} HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: {length}\r\nAuthorization: {auth}"
    );
    let answer = raw(&s.addr, &head, b"").await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("too_large"), "{answer}");
    // without a token: 401, the length unread
    let head =
        format!("POST {path} HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: {length}");
    let answer = raw(&s.addr, &head, b"").await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    s.shutdown().await;
}

/// Waiting for a share of the budget does not count against the body read timeout: a badge sent
/// whole while a stalled upload holds the whole budget waits longer than that timeout (1 s here),
/// then is verified; the stalled upload gets its 408.
#[tokio::test]
async fn a_body_that_waits_for_its_share_is_not_timed_out() {
    let s = Server::with_args(&["--body-read-timeout=1", "--max-body-bytes=25000000"]).await;
    let award = s.issue().await;
    let png = s.form(&award, "png").await.body;

    // 20 MiB announced, nothing sent: it takes the whole budget, then times out
    let (addr, stalled_head) = (
        s.addr.clone(),
        format!(
            "POST /api/v1/verify HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: {}",
            20 * MIB
        ),
    );
    let stalled = tokio::spawn(async move { raw(&addr, &stalled_head, b"").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let head = format!(
        "POST /api/v1/verify HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: {}",
        png.len()
    );
    let fair = raw(&s.addr, &head, &png).await;
    assert!(fair.starts_with("HTTP/1.1 200"), "{fair}");
    assert!(fair.contains("\"verdict\":\"valid\""), "{fair}");
    let stalled = stalled.await.unwrap();
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    s.shutdown().await;
}
