//! `carnet bench`: credentials signed+baked per second and verified per second (eddsa-rdfc-2022 and
//! VC-JWT) on this machine, with the shipped badge class and throw-away keys. A measurement, not a
//! test: the figures go to docs/BENCHMARKS.md.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use uuid::Uuid;

use crate::bake::Keyword;
use crate::config::Settings;
use crate::issue::sign;
use crate::issuer::Issuer;
use crate::ob3::credential::{self, AwardDetails};
use crate::recipient::{Email, hash_email};
use crate::verify::Verifier;
use crate::verify::fetch::Fetcher;
use crate::verify::report::Verdict;
use crate::verify::resolve::Resolver;

/// A verifier that knows the configured issuer's keys when they exist (no key is created), and
/// fetches other issuers' keys unless `offline`.
pub async fn local_verifier(settings: &Settings, offline: bool) -> Result<Verifier, ExitCode> {
    let config = settings.validate().map_err(|e| {
        eprintln!("carnet: {e}");
        ExitCode::from(2)
    })?;
    let failed = |e: &dyn std::fmt::Display| {
        eprintln!("carnet: {e}");
        ExitCode::from(2)
    };
    // On an issuer's own installation (its instance key is here), its badges verify offline and
    // its status lists come from its database, not over HTTP.
    let instance_key = match &config.instance_key {
        crate::config::InstanceKeySource::Given(key) => Some(key.clone()),
        crate::config::InstanceKeySource::File(path) => {
            crate::keys::InstanceKey::read_file(path).map_err(|e| failed(&e))?
        }
    };
    let mut local = Vec::new();
    let mut status = None;
    if let Some(key) = instance_key {
        let store = crate::store::open(&config.database_url)
            .await
            .map_err(|e| failed(&format!("database (CARNET_DATABASE_URL): {e}")))?;
        let tenant = crate::institution::load(&store, &key, &config.base_url, &config.institution)
            .await
            .map_err(|e| failed(&e))?;
        if let Some(tenant) = tenant {
            local.push(tenant.issuer.clone());
            status = Some(Arc::new(crate::status_publisher::StatusPublisher::new(
                tenant.issuer,
                store,
            )));
        }
    }
    let fetcher = (!offline).then(|| Arc::new(Fetcher::new(config.fetch_policy())));
    let verifier = Verifier::new(Resolver::new(local, fetcher));
    Ok(match status {
        Some(s) => verifier.with_local(s),
        None => verifier,
    })
}

/// `carnet bench --hostile`: the worst inputs' cost against the 50 ms budget; fails over it.
async fn run_hostile(
    verifier: &Verifier,
    credential: &serde_json::Value,
    png: &[u8],
    n: u32,
) -> ExitCode {
    let inputs = hostile::worst_inputs(credential, png);
    println!(
        "worst inputs for the public verifier, {n} runs each, budget {} ms of CPU per request",
        hostile::BUDGET.as_millis()
    );
    println!(
        "{:<48} {:>10} {:>10} {:>10}  answer",
        "input", "bytes", "CPU ms", "max ms"
    );
    let mut over = false;
    for cost in hostile::measure(verifier, &inputs, n).await {
        let cpu = cost.cpu_mean.map_or("?".to_owned(), |d| {
            format!("{:.2}", d.as_secs_f64() * 1000.0)
        });
        let worst = cost.cpu_mean.unwrap_or(cost.wall_max).max(cost.wall_max);
        over |= worst > hostile::BUDGET;
        println!(
            "{:<48} {:>10} {:>10} {:>10.2}  {}{}",
            cost.name,
            cost.bytes,
            cpu,
            cost.wall_max.as_secs_f64() * 1000.0,
            cost.verdict,
            if worst > hostile::BUDGET {
                "  OVER BUDGET"
            } else {
                ""
            }
        );
    }
    let most = crate::proof::ecdsa_sd::MAX_SIGNATURES as u32;
    let t = hostile::p256_checks(most * n) / n;
    over |= t > hostile::BUDGET;
    println!(
        "{:<48} {:>10} {:>10.2} {:>10}  (the most a derived ecdsa-sd-2023 proof may ask)",
        format!("{most} P-256 signature checks"),
        "",
        t.as_secs_f64() * 1000.0,
        ""
    );
    if over {
        eprintln!("carnet bench: an input costs more than the budget");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn per_op(total: Duration, n: u32) -> (f64, f64) {
    let ms = total.as_secs_f64() * 1000.0 / f64::from(n);
    (ms, 1000.0 / ms)
}

pub mod hostile;

pub async fn run(
    settings: &Settings,
    iterations: u32,
    ob2_url: Option<&str>,
    worst_inputs: bool,
) -> ExitCode {
    let n = iterations.max(1);
    let config = match settings.validate() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("carnet: {e}");
            return ExitCode::from(2);
        }
    };
    let classes = match crate::badge_class::load_dir(&config.badge_classes_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("carnet: badge classes: {e:?}");
            return ExitCode::from(2);
        }
    };
    // A class issued on request (one with award rules is issued from carnets), the shipped one
    // first, so that figures stay comparable.
    let Some(class) = classes
        .get("securite-hygiene-au-travail")
        .or_else(|| classes.values().find(|c| c.rules.is_empty()))
        .or_else(|| classes.values().next())
    else {
        eprintln!("carnet: no badge class to benchmark with");
        return ExitCode::from(2);
    };
    let tmp = std::env::temp_dir().join(format!("carnet-bench-{}", Uuid::new_v4()));
    let keys = match crate::keys::load_or_create(&tmp, "bench") {
        Ok(k) => k,
        Err(e) => {
            eprintln!("carnet: {e}");
            return ExitCode::from(2);
        }
    };
    let mut issuer_settings = config.issuer.clone();
    issuer_settings.slug = "bench".into();
    let issuer = Arc::new(Issuer::new(issuer_settings, &config.base_url, keys));
    let email = Email::parse("lea.martin@example.org").expect("valid email");
    let details = AwardDetails {
        narrative: Some("J'ai montré les gestes de sécurité à l'atelier.".into()),
        ..Default::default()
    };
    let unsigned = |now| {
        credential::build(
            &issuer,
            class,
            Uuid::new_v4(),
            &hash_email(&email),
            &details,
            now,
        )
    };

    println!(
        "carnet bench: {n} iterations, badge class \"{}\", release={}",
        class.slug,
        !cfg!(debug_assertions)
    );
    if worst_inputs {
        let signed = sign(&issuer, &unsigned(Utc::now()), Utc::now()).expect("signing works");
        let verifier = Verifier::new(Resolver::new(vec![issuer.clone()], None));
        let code = run_hostile(&verifier, &signed.json, &class.image_png, n).await;
        let _ = std::fs::remove_dir_all(&tmp);
        return code;
    }
    // Sign (Data Integrity + VC-JWT) + bake PNG: what `carnet issue` signs, plus the VC-JWT it
    // signs on its first download (minus the database).
    let _ = sign(&issuer, &unsigned(Utc::now()), Utc::now());
    let start = Instant::now();
    let mut last = None;
    for _ in 0..n {
        let now = Utc::now();
        let signed = sign(&issuer, &unsigned(now), now).expect("signing works");
        let text = serde_json::to_string(&signed.json).expect("json");
        let png = class
            .png_template
            .bake(Keyword::Ob3Credential, &text)
            .expect("bake");
        last = Some((signed, png));
    }
    let (ms, rate) = per_op(start.elapsed(), n);
    println!(
        "sign (eddsa-rdfc-2022 + RS256 VC-JWT) + bake PNG: {ms:.3} ms/credential, {rate:.0} credentials/s"
    );
    let (signed, png) = last.expect("at least one iteration");

    // Each step separately.
    let cred = unsigned(Utc::now());
    let ed = issuer.keys.active_ed25519();
    let vm = issuer.verification_method(&ed.kid);
    let created = crate::keys::rfc3339(Utc::now());
    let t = Instant::now();
    for _ in 0..n {
        crate::proof::data_integrity::sign_eddsa_rdfc_2022(&cred, ed.signing_key(), &vm, &created)
            .expect("sign");
    }
    let (ms, rate) = per_op(t.elapsed(), n);
    println!("  sign eddsa-rdfc-2022 only:  {ms:.3} ms, {rate:.0}/s");
    let t = Instant::now();
    for _ in 0..n {
        crate::jsonld::canonicalize(&cred).expect("canonicalize");
    }
    let (ms, rate) = per_op(t.elapsed(), n);
    println!(
        "  canonicalize the credential (JSON-LD expansion + RDFC-1.0): {ms:.3} ms, {rate:.0}/s"
    );
    let t = Instant::now();
    for _ in 0..n {
        crate::jsonld::canonicalize_slow(&cred).expect("canonicalize");
    }
    let (ms, rate) = per_op(t.elapsed(), n);
    println!("    the same without the fast path (json-ld crate): {ms:.3} ms, {rate:.0}/s");
    let ed_key = ed.signing_key().clone();
    let t = Instant::now();
    for _ in 0..n {
        use ed25519_dalek::Signer;
        std::hint::black_box(ed_key.sign(&[7u8; 64]));
    }
    let (ms, _) = per_op(t.elapsed(), n);
    println!("  Ed25519 signature of the 64-byte hash pair: {ms:.3} ms");
    let signer = issuer.keys.active_rsa().signer().expect("rsa signer");
    let t = Instant::now();
    for _ in 0..n {
        crate::proof::vc_jwt::sign_rs256(&cred, signer, "kid").expect("sign");
    }
    let (ms, rate) = per_op(t.elapsed(), n);
    println!("  sign VC-JWT RS256 only:     {ms:.3} ms, {rate:.0}/s");
    let text = serde_json::to_string(&signed.json).expect("json");
    let t = Instant::now();
    for _ in 0..n {
        class
            .png_template
            .bake(Keyword::Ob3Credential, &text)
            .expect("bake");
    }
    let (ms, rate) = per_op(t.elapsed(), n);
    println!(
        "  bake PNG ({} KiB image):    {ms:.3} ms, {rate:.0}/s",
        class.image_png.len() / 1024
    );

    let verifier = Verifier::new(Resolver::new(vec![issuer.clone()], None));
    for (label, input) in [
        ("verify eddsa-rdfc-2022 (JSON)", text.as_bytes().to_vec()),
        ("verify VC-JWT RS256", signed.jwt.as_bytes().to_vec()),
        ("verify baked PNG (eddsa-rdfc-2022)", png.clone()),
    ] {
        let report = verifier.verify_bytes(&input, None).await;
        if report.verdict != Verdict::Valid {
            eprintln!("carnet bench: {label}: the credential did not verify: {report:?}");
            return ExitCode::from(1);
        }
        let t = Instant::now();
        for _ in 0..n {
            verifier.verify_bytes(&input, None).await;
        }
        let (ms, rate) = per_op(t.elapsed(), n);
        println!("{label}: {ms:.3} ms/verification, {rate:.0} verifications/s");
    }
    let _ = std::fs::remove_dir_all(&tmp);
    if let Some(url) = ob2_url {
        // As any verifier would: the assertion, its BadgeClass and issuer fetched over HTTP each time.
        let fetcher = Arc::new(Fetcher::new(config.fetch_policy()));
        let verifier = Verifier::new(Resolver::new(vec![], Some(fetcher.clone())));
        let report = verifier.verify_bytes(url.as_bytes(), None).await;
        if report.verdict != Verdict::Valid {
            eprintln!("carnet bench: {url} did not verify: {report:?}");
            return ExitCode::from(1);
        }
        let t = Instant::now();
        for _ in 0..n {
            verifier.verify_bytes(url.as_bytes(), None).await;
        }
        let (ms, rate) = per_op(t.elapsed(), n);
        println!(
            "verify OB 2.0 hosted assertion (HTTP fetches included): {ms:.3} ms/verification, {rate:.0} verifications/s"
        );
        let t = Instant::now();
        for _ in 0..n {
            let _ = fetcher.get_document(url, "application/ld+json").await;
        }
        let (ms, _) = per_op(t.elapsed(), n);
        println!("  of which one HTTP GET of the assertion on loopback: {ms:.3} ms");
        // Baking that same assertion (the JSON text the URL answers) into the class image, the
        // work openbadges-bakery is timed on in tests/interop/ob2_bench.py.
        let assertion = match fetcher.get_document(url, "application/ld+json").await {
            Ok(doc) => String::from_utf8_lossy(&doc.body).into_owned(),
            Err(e) => {
                eprintln!("carnet bench: {url}: {e}");
                return ExitCode::from(1);
            }
        };
        let m = n * 100;
        let t = Instant::now();
        for _ in 0..m {
            std::hint::black_box(
                class
                    .png_template
                    .bake(Keyword::Ob2Assertion, std::hint::black_box(&assertion))
                    .expect("bake"),
            );
        }
        let (ms, rate) = per_op(t.elapsed(), m);
        println!(
            "bake the OB 2.0 assertion ({} bytes) into the PNG ({} bytes): {:.2} µs, {rate:.0}/s",
            assertion.len(),
            class.image_png.len(),
            ms * 1000.0
        );
    }
    ExitCode::SUCCESS
}
