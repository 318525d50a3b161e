//! `carnet bench --hostile`: what the worst inputs an anonymous client may send to the public
//! verifier cost, in CPU time, on this machine. Each input sits at (or past) one of the verifier's
//! limits; the budget is 50 ms of CPU per request in a release build (issue #12). A measurement,
//! not a test: the figures go to docs/BENCHMARKS.md. The same inputs are checked for their answer
//! (not their time) by `tests/integration/hostile_input.rs`.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::bake::{self, Keyword};
use crate::proof::{data_integrity, multikey};

/// The CPU budget of one anonymous request.
pub const BUDGET: Duration = Duration::from_millis(50);

/// One hostile input for the verifier.
pub struct Hostile {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

fn hostile(name: &'static str, bytes: impl Into<Vec<u8>>) -> Hostile {
    Hostile {
        name,
        bytes: bytes.into(),
    }
}

fn text(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("JSON")
}

/// A key an attacker makes for themself: `did:key`, resolved without any fetch.
fn attacker_key(seed: u8) -> (ed25519_dalek::SigningKey, String) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let vm = multikey::ed25519_did_key_url(&key.verifying_key());
    (key, vm)
}

/// `doc` signed by `n` attacker keys (eddsa-rdfc-2022), each proof checked in full; when the
/// document is past what canonicalisation accepts, `n` copies of `fallback` (refused as well).
fn signed_by(doc: &Value, n: u8, fallback: &Value) -> Value {
    let mut unsigned = doc.clone();
    if let Some(o) = unsigned.as_object_mut() {
        o.remove("proof");
    }
    let proofs: Vec<Value> = (0..n)
        .map(|i| {
            let (key, vm) = attacker_key(i + 1);
            data_integrity::sign_eddsa_rdfc_2022(&unsigned, &key, &vm, "2026-01-01T00:00:00Z")
                .map_or_else(|_| fallback.clone(), |signed| signed["proof"].clone())
        })
        .collect();
    let mut out = unsigned;
    out["proof"] = if proofs.len() == 1 {
        proofs[0].clone()
    } else {
        Value::Array(proofs)
    };
    out
}

/// `doc` with the proof of another document: canonicalised in full, then refused.
fn grafted(doc: &Value, proof: &Value) -> Value {
    let mut out = doc.clone();
    out["proof"] = proof.clone();
    out
}

/// `credential` with `value` under a term of its own, defined by an inline context (as anyone
/// may write).
fn with_extra(credential: &Value, value: Value) -> Value {
    let mut out = credential.clone();
    let v = "https://attacker.example/vocab#";
    let terms = json!({
        "extra": format!("{v}extra"),
        "n": format!("{v}n"),
        "a": format!("{v}a"),
        "b": format!("{v}b"),
        "next": {"@id": format!("{v}next"), "@type": "@id"},
    });
    if let Some(contexts) = out["@context"].as_array_mut() {
        contexts.push(terms);
    }
    out["extra"] = value;
    out
}

/// The worst inputs, built from `credential`, a credential carnet signed, and `png`, a badge
/// image.
pub fn worst_inputs(credential: &Value, png: &[u8]) -> Vec<Hostile> {
    let proof = match &credential["proof"] {
        Value::Array(proofs) => proofs.first().cloned().unwrap_or(Value::Null),
        one => one.clone(),
    };
    let mut out = vec![hostile(
        "a badge carnet issued (for scale)",
        text(credential),
    )];

    // proofs
    let mut long = credential.clone();
    long["proof"] = proof.clone();
    long["proof"]["proofValue"] = Value::String(format!("z{}", "2".repeat(128 * 1024)));
    out.push(hostile("proofValue of 128 KiB (base58)", text(&long)));
    let mut many = credential.clone();
    many["proof"] = Value::Array(vec![proof.clone(); 600]);
    out.push(hostile("600 proofs", text(&many)));
    out.push(hostile(
        "4 proofs (the most checked), 4 keys",
        text(&signed_by(
            credential,
            crate::verify::MAX_PROOFS as u8,
            &proof,
        )),
    ));

    // JSON-LD and RDFC
    let values: Vec<Value> = (0..4_850).map(|i| Value::String(format!("v{i}"))).collect();
    let wide = with_extra(credential, Value::Array(values));
    out.push(hostile(
        "~5,000 JSON values (the most), 4 proofs",
        text(&signed_by(&wide, crate::verify::MAX_PROOFS as u8, &proof)),
    ));
    let mut deep = json!("fond");
    for _ in 0..60 {
        deep = json!({ "n": deep });
    }
    let nested = with_extra(credential, deep);
    out.push(hostile(
        "JSON nested 64 deep, 4 proofs",
        text(&signed_by(&nested, crate::verify::MAX_PROOFS as u8, &proof)),
    ));
    let typed = with_extra(
        credential,
        Value::Array(vec![json!({"type": "Achievement", "name": "x"}); 148]),
    );
    out.push(hostile(
        "150 typed objects on the general JSON-LD path (the most)",
        text(&grafted(&typed, &proof)),
    ));
    let twins = with_extra(
        credential,
        Value::Array(vec![json!({"a": {"b": "x"}}); 1_000]),
    );
    out.push(hostile(
        "1,000 identical blank nodes (RDFC's hard case)",
        text(&grafted(&twins, &proof)),
    ));
    let ring = with_extra(
        credential,
        Value::Array(
            (0..400)
                .map(|i| json!({"@id": format!("_:b{i}"), "next": format!("_:b{}", (i + 1) % 400)}))
                .collect(),
        ),
    );
    out.push(hostile(
        "a ring of 400 blank nodes",
        text(&grafted(&ring, &proof)),
    ));

    // endorsements
    let mut endorsement = credential.clone();
    endorsement["type"] = json!(["VerifiableCredential", "EndorsementCredential"]);
    let mut endorsed = credential.clone();
    endorsed["endorsement"] = Value::Array(vec![endorsement.clone(); 20]);
    out.push(hostile(
        "20 embedded endorsements (the most checked)",
        text(&endorsed),
    ));
    endorsed["endorsement"] = Value::Array(vec![endorsement; 200]);
    out.push(hostile("200 embedded endorsements", text(&endorsed)));

    // VC-JWT
    let (key, vm) = attacker_key(9);
    let payload = crate::proof::vc_jwt::payload_for(&wide);
    let jwt = crate::proof::vc_jwt::sign_eddsa(&payload, &key, &vm).expect("JWT");
    out.push(hostile("VC-JWT of ~5,000 JSON values, did:key", jwt));

    // images
    let json_text = String::from_utf8(text(credential)).expect("UTF-8");
    let baked = bake::bake_png(png, Keyword::Ob3Credential, &json_text).expect("bake");
    let iend = baked.len() - 12;
    let mut chunky = baked[..iend].to_vec();
    let empty_chunk = png_chunk(b"zzZz", b"");
    while chunky.len() + empty_chunk.len() + 12 < 8 * 1024 * 1024 - 64 {
        chunky.extend_from_slice(&empty_chunk);
    }
    chunky.extend_from_slice(&baked[iend..]);
    out.push(hostile("8 MiB PNG of 700,000 empty chunks", chunky));
    let mut bomb = baked[..iend].to_vec();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..(64 * 1024) {
        z.write_all(&[b' '; 1024]).expect("zlib");
    }
    let compressed = z.finish().expect("zlib");
    let mut itxt = b"openbadgecredential\0\x01\0\0\0".to_vec();
    itxt.extend_from_slice(&compressed);
    bomb.extend_from_slice(&png_chunk(b"iTXt", &itxt));
    bomb.extend_from_slice(&baked[iend..]);
    out.push(hostile("PNG with 64 MiB of text zipped", bomb));
    let svg = bake::svg_wrapping_png(png, "Badge");
    let body = svg.rfind("</svg>").expect("an SVG");
    let depth = 200_000;
    let mut deep_svg = String::with_capacity(svg.len() + depth * 8);
    deep_svg.push_str(&svg[..body]);
    for _ in 0..depth {
        deep_svg.push_str("<g>");
    }
    for _ in 0..depth {
        deep_svg.push_str("</g>");
    }
    deep_svg.push_str(&svg[body..]);
    out.push(hostile("SVG of 200,000 nested elements", deep_svg));
    let mut wide_svg = svg[..body].to_owned();
    while wide_svg.len() < 7 * 1024 * 1024 {
        wide_svg.push_str("<g a=\"1\" b=\"2\"/>");
    }
    wide_svg.push_str(&svg[body..]);
    out.push(hostile("7 MiB SVG of small elements", wide_svg));
    out
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 12);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out
}

/// This process's CPU time (user + system, every thread), from `/proc/self/stat`; `None` where
/// there is no such file.
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // the fields after the command name, which is in parentheses and may hold spaces
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux whatever the kernel's HZ
    Some(Duration::from_millis(ticks * 10))
}

/// What one input cost.
pub struct Cost {
    pub name: &'static str,
    pub bytes: usize,
    /// CPU per verification, averaged over the runs (the process's, every thread).
    pub cpu_mean: Option<Duration>,
    /// The slowest run, wall time (an upper bound of its CPU: the verifier runs one input on one
    /// thread at a time).
    pub wall_max: Duration,
    pub verdict: String,
}

/// Verifies each input `n` times with `verifier` (offline: nothing is fetched).
pub async fn measure(verifier: &crate::verify::Verifier, inputs: &[Hostile], n: u32) -> Vec<Cost> {
    let mut costs = Vec::new();
    for input in inputs {
        let report = verifier.verify_bytes(&input.bytes, None).await;
        let verdict = format!(
            "{:?}{}",
            report.verdict,
            report
                .deciding
                .map(|d| format!(
                    " ({d}{})",
                    report.reason.map(|r| format!(": {r}")).unwrap_or_default()
                ))
                .unwrap_or_default()
        );
        let cpu_before = process_cpu();
        let mut wall_max = Duration::ZERO;
        for _ in 0..n {
            let t = Instant::now();
            std::hint::black_box(verifier.verify_bytes(&input.bytes, None).await);
            wall_max = wall_max.max(t.elapsed());
        }
        let cpu_mean = match (cpu_before, process_cpu()) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a) / n),
            _ => None,
        };
        costs.push(Cost {
            name: input.name,
            bytes: input.bytes.len(),
            cpu_mean,
            wall_max,
            verdict,
        });
    }
    costs
}

/// The most P-256 signature checks a derived ecdsa-sd-2023 proof may ask for, timed alone:
/// building a valid derived proof that large needs an ecdsa-sd signer carnet does not have.
pub fn p256_checks(n: u32) -> Duration {
    use p256::ecdsa::signature::Verifier as _;
    let point = multikey::decode_p256_multikey(&[
        0x80, 0x24, 0x03, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5,
        0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39,
        0x45, 0xd8, 0x98, 0xc2, 0x96,
    ])
    .expect("P-256's generator");
    let signature = p256::ecdsa::Signature::from_slice(&[7u8; 64]).expect("in range");
    let t = Instant::now();
    for i in 0..n {
        let _ = std::hint::black_box(point.verify(&i.to_be_bytes(), &signature));
    }
    t.elapsed()
}
