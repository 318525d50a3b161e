//! The commands' bodies: what `carnet serve`, `revoke`, `verify`, `bake`, `keys`,
//! `badge-classes` and `referentiels` do once their arguments are parsed.

use std::path::Path;
use std::process::ExitCode;

use super::*;
use crate::verify::report::{Section, reason};

/// The OB 2.0 file of an award: `.png`/`.svg` baked (JWS when signed, the assertion when hosted),
/// `.json` the hosted assertion, `.jwt` the signed one.
pub(super) async fn ob2_file(
    app: &App,
    award: &crate::store::Award,
    class: &crate::badge_class::BadgeClass,
    signed: bool,
    ext: &str,
) -> Result<Vec<u8>, String> {
    let no_ob2 = || "Open Badges 2.0 needs the issuer's email: set CARNET_ISSUER_EMAIL".to_string();
    let hosted = award.assertion_json.as_ref().ok_or_else(no_ob2)?;
    let signed = signed || ext == "jwt";
    let jws = if signed {
        crate::issue::ob2_jws(&app.issuer, app.store.as_ref(), award)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(no_ob2)?
    } else {
        String::new()
    };
    let text = if signed { &jws } else { hosted };
    match ext {
        "png" => class
            .png_template
            .bake(Keyword::Ob2Assertion, text)
            .map_err(|e| e.to_string()),
        "svg" => {
            let payload = if signed {
                SvgPayload::Jws(jws.clone())
            } else {
                SvgPayload::HostedJson {
                    url: crate::ob2::Ob2Urls::new(&app.issuer).assertion(award.id),
                    json: hosted.clone(),
                }
            };
            bake::bake_svg(
                &bake::svg_wrapping_png(&class.image_png, &class.name),
                Keyword::Ob2Assertion,
                payload,
            )
            .map(String::into_bytes)
            .map_err(|e| e.to_string())
        }
        "jwt" => Ok(jws.clone().into_bytes()),
        _ => Ok(hosted.clone().into_bytes()),
    }
}

pub(super) async fn run_revoke(settings: &Settings, award_id: &str, reason: &str) -> ExitCode {
    let app = match start(settings).await {
        Ok(a) => a,
        Err(code) => return code,
    };
    let Ok(id) = award_id.parse::<uuid::Uuid>() else {
        return fail(format!(
            "\"{award_id}\" is not an award id (the id `carnet issue` printed)"
        ));
    };
    let reason = match crate::issue::validate_reason(reason) {
        Ok(r) => r,
        Err(e) => return fail(format!("--reason: {e}")),
    };
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    match app
        .store
        .revoke_award(app.issuer.slug(), id, &reason, &format!("cli:{user}"))
        .await
    {
        Ok(award) => {
            eprintln!("Badge {} revoked: {reason}", award.credential_id);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub(super) async fn start(settings: &Settings) -> Result<App, ExitCode> {
    let config = settings.validate().map_err(fail)?;
    App::start(config).await.map_err(fail)
}

pub(super) async fn run_serve(settings: &Settings, serve: ServeSettings) -> ExitCode {
    let (addr, tokens, trusted_proxies) = match (
        serve.bind_addr(),
        serve.tokens(),
        serve.trusted_proxy_addrs(),
    ) {
        (Ok(a), Ok(t), Ok(p)) => (a, t, p),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return fail(e),
    };
    let app = match start(settings).await {
        Ok(a) => a,
        Err(code) => return code,
    };
    if tokens.is_empty() {
        tracing::warn!(
            "no API token configured (CARNET_API_TOKENS): the issuing API will answer 401"
        );
    }
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => return fail(format!("--bind {addr}: {e}")),
    };
    tracing::info!(
        "carnet listening on http://{addr} (public base URL {}), issuer {}, {} badge class(es), database {}",
        app.config.base_url,
        app.issuer.id(),
        app.classes.len(),
        app.store.backend()
    );
    // Bulk-award jobs a crash or a stop left unfinished go on in the background.
    if let Err(e) = crate::bulk::resume_unfinished(&app).await {
        tracing::error!("bulk jobs to resume could not be read: {e}");
    }
    // ...and those of a node that died (several nodes on one database: bulk/lease.rs)
    tokio::spawn(crate::bulk::sweep(app.clone()));
    let store = app.store.clone();
    let serve_options = crate::http::ServeOptions {
        header_read_timeout: crate::http::HEADER_READ_TIMEOUT,
        max_connections_per_address: serve.max_connections_per_address,
        trusted_proxies: trusted_proxies.clone(),
    };
    let router = crate::http::router_with(
        app,
        crate::http::HttpOptions {
            tokens,
            max_body_bytes: serve.max_body_bytes,
            verify_rate_per_minute: serve.verify_rate_per_minute,
            verify_rate_burst: serve.verify_rate_burst,
            trusted_proxies,
            max_evidence_bytes: serve.max_evidence_bytes,
            body_read_timeout: std::time::Duration::from_secs(serve.body_read_timeout),
        },
    );
    let shutdown = async {
        // Ctrl-C, or SIGTERM from a service manager: finish the requests under way, then stop.
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
        tracing::info!("shutting down");
    };
    let result = crate::http::serve_with(listener, router, shutdown, serve_options).await;
    store.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

pub(super) const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

pub(super) fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{}: the file is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        ));
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

pub(super) async fn run_verify(
    settings: &Settings,
    file: &Path,
    recipient: Option<String>,
    json: bool,
    lang: Lang,
    offline: bool,
    profile: Profile,
) -> ExitCode {
    let bytes = match read_bounded(file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let verifier = match crate::bench::local_verifier(settings, offline).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let options = crate::verify::Options {
        recipient: recipient.as_deref(),
        profile,
    };
    let report = verifier.verify_bytes_with(&bytes, options).await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        );
    } else {
        print_report(&report, lang);
    }
    match report.verdict {
        Verdict::Valid => ExitCode::SUCCESS,
        Verdict::Invalid => ExitCode::from(1),
        Verdict::Indeterminate => ExitCode::from(2),
    }
}

/// The report as a person reads it: the verdict, the check that decided it, then every check by
/// section (authenticity, in force, conformance, endorsements).
pub(super) fn print_report(report: &Report, lang: Lang) {
    let fr = lang == Lang::Fr;
    let headline = match (report.verdict, report.reason, fr) {
        (Verdict::Valid, _, true) => "✔ Ce badge est authentique et valable.",
        (Verdict::Valid, _, false) => "✔ This badge is authentic and valid.",
        (Verdict::Invalid, Some(reason::REVOKED), true) => {
            "✘ Ce badge a été retiré par son émetteur."
        }
        (Verdict::Invalid, Some(reason::REVOKED), false) => {
            "✘ This badge was withdrawn by its issuer."
        }
        (Verdict::Invalid, Some(reason::SUSPENDED), true) => {
            "✘ Ce badge est suspendu par son émetteur."
        }
        (Verdict::Invalid, Some(reason::SUSPENDED), false) => {
            "✘ This badge is suspended by its issuer."
        }
        (Verdict::Invalid, Some(reason::EXPIRED), true) => {
            "✘ Ce badge n'est plus valable : il a expiré."
        }
        (Verdict::Invalid, Some(reason::EXPIRED), false) => {
            "✘ This badge is no longer valid: it expired."
        }
        (Verdict::Invalid, _, true) => "✘ Ce badge n'est pas valable.",
        (Verdict::Invalid, _, false) => "✘ This badge is not valid.",
        (Verdict::Indeterminate, _, true) => "? carnet n'a pas pu vérifier ce badge.",
        (Verdict::Indeterminate, _, false) => "? carnet could not check this badge.",
    };
    println!("{headline}");
    if let Some(c) = report.deciding_check() {
        let msg = if fr { &c.message.fr } else { &c.message.en };
        println!(
            "  {} {msg}",
            if fr {
                "Ce qui décide :"
            } else {
                "What decides:"
            }
        );
    }
    if let Some(s) = &report.summary {
        if let Some(n) = s.achievement_name.as_ref().or(s.name.as_ref()) {
            println!("  Badge: {n}");
        }
        if let Some(i) = s.issuer_name.as_ref().or(s.issuer_id.as_ref()) {
            println!("  {}: {i}", if fr { "Donné par" } else { "Issued by" });
        }
    }
    let mut section = None;
    for c in &report.checks {
        if section != Some(c.section) {
            section = Some(c.section);
            let title = match (c.section, fr) {
                (Section::Authenticity, true) => "Authenticité",
                (Section::Authenticity, false) => "Authenticity",
                (Section::InForce, true) => "En vigueur",
                (Section::InForce, false) => "In force",
                (Section::Conformance, true) => "Conformité à la norme",
                (Section::Conformance, false) => "Conformance to the standard",
                (Section::Endorsement, true) => "Recommandations",
                (Section::Endorsement, false) => "Endorsements",
            };
            println!("{title}");
        }
        let mark = match (c.status, fr) {
            (Status::Pass, _) => "ok",
            (Status::Fail, true) => "ÉCHEC",
            (Status::Fail, false) => "FAILED",
            (Status::Warn, true) => "attention",
            (Status::Warn, false) => "warning",
            (Status::Unknown, _) => "?",
        };
        let msg = if fr { &c.message.fr } else { &c.message.en };
        let path = c
            .path
            .as_ref()
            .map(|p| format!(" [{p}]"))
            .unwrap_or_default();
        println!("  [{mark}] {}{path}: {msg}", c.id);
    }
}

pub(super) fn run_bake(credential: &Path, image: &Path, out: &Path) -> ExitCode {
    let text = match read_bounded(credential)
        .and_then(|b| String::from_utf8(b).map_err(|_| "the credential is not UTF-8".into()))
    {
        Ok(t) => t.trim().to_string(),
        Err(e) => return fail(e),
    };
    let is_jws = crate::proof::vc_jwt::looks_like_compact_jws(&text);
    if !is_jws && serde_json::from_str::<serde_json::Value>(&text).is_err() {
        return fail("--credential: the file is neither JSON nor a compact JWS");
    }
    let img = match read_bounded(image) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let result = if img.starts_with(b"\x89PNG") {
        bake::bake_png(&img, Keyword::Ob3Credential, &text).map_err(|e| e.to_string())
    } else {
        match std::str::from_utf8(&img) {
            Ok(svg) => {
                let payload = if is_jws {
                    SvgPayload::Jws(text)
                } else {
                    SvgPayload::Json(text)
                };
                bake::bake_svg(svg, Keyword::Ob3Credential, payload)
                    .map(String::into_bytes)
                    .map_err(|e| e.to_string())
            }
            Err(_) => Err("the image is neither a PNG nor an SVG".to_string()),
        }
    };
    match result.and_then(|b| std::fs::write(out, b).map_err(|e| e.to_string())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{}: {e}", image.display())),
    }
}

pub(super) async fn run_keys(settings: &Settings, action: KeysAction) -> ExitCode {
    let app = match start(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let slug = app.issuer.slug().to_owned();
    if matches!(action, KeysAction::Rotate)
        && let Err(e) = crate::institution::rotate_keys(&app.store, &app.instance_key, &slug).await
    {
        return fail(e);
    }
    let tenant =
        crate::institution::load(&app.store, &app.instance_key, &app.config.base_url, &slug).await;
    let issuer = match tenant {
        Ok(Some(tenant)) => tenant.issuer,
        Ok(None) => return fail(format!("no institution {slug}")),
        Err(e) => return fail(e),
    };
    println!("Issuer: {}", issuer.id());
    println!("DID document: {}", issuer.did_document_url());
    for k in &issuer.keys.ed25519 {
        println!(
            "  {} Ed25519 {} — {}",
            if k.active { "active " } else { "retired" },
            k.kid,
            issuer.verification_method(&k.kid)
        );
    }
    for k in &issuer.keys.rsa {
        println!(
            "  {} RSA-2048 {} — {}",
            if k.active { "active " } else { "retired" },
            k.kid,
            issuer.key_url(&k.kid)
        );
    }
    ExitCode::SUCCESS
}

pub(super) async fn run_classes(settings: &Settings, action: ClassesAction) -> ExitCode {
    match action {
        ClassesAction::Check => super::badge_classes::check_badge_classes(settings).await,
        ClassesAction::Import { paths } => super::badge_classes::import(settings, paths).await,
        ClassesAction::Export { dir } => super::badge_classes::export(settings, &dir).await,
        ClassesAction::List => super::badge_classes::list(settings).await,
        ClassesAction::DrawImage {
            title,
            pictogram,
            colour,
            out,
        } => {
            let rgb = u32::from_str_radix(colour.trim_start_matches('#'), 16);
            let Ok(rgb) = rgb.map_err(|_| ()).and_then(|v| {
                if colour.trim_start_matches('#').len() == 6 {
                    Ok(v)
                } else {
                    Err(())
                }
            }) else {
                return fail("--colour: use six hexadecimal digits, e.g. 1b7f4a");
            };
            let spec = crate::badge_image::BadgeImageSpec {
                title,
                pictogram: match pictogram {
                    PictogramArg::Helmet => crate::badge_image::Pictogram::Helmet,
                    PictogramArg::Hand => crate::badge_image::Pictogram::Hand,
                    PictogramArg::Star => crate::badge_image::Pictogram::Star,
                },
                colour: [(rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8],
            };
            match std::fs::write(&out, crate::badge_image::draw_badge(&spec, 512)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(format!("{}: {e}", out.display())),
            }
        }
    }
}

pub(super) async fn run_referentiels(settings: &Settings, action: ReferentielsAction) -> ExitCode {
    match action {
        ReferentielsAction::Check { files } => check_referentiels(files),
        ReferentielsAction::Import { file } => import_referentiel(settings, &file).await,
        ReferentielsAction::List => list_referentiels(settings).await,
    }
}

/// The référentiel files of a directory: `*.json` and `*.csv`, sorted.
fn referentiel_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "{}: {e} (give the files to check, or run where a referentiels/ folder is)",
            dir.display()
        )
    })?;
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| x.eq_ignore_ascii_case("json") || x.eq_ignore_ascii_case("csv"))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn check_referentiels(files: Vec<std::path::PathBuf>) -> ExitCode {
    let files = if files.is_empty() {
        match referentiel_files(Path::new("referentiels")) {
            Ok(f) => f,
            Err(e) => return fail(e),
        }
    } else {
        files
    };
    let mut failed = false;
    for file in &files {
        match crate::referentiel::load_file(file) {
            Ok(r) => println!(
                "ok  {} — {} {} « {} »: {} competences, {} groups, {} levels",
                file.display(),
                r.id,
                r.version,
                r.name,
                r.competences.len(),
                r.groups.len(),
                r.levels.len()
            ),
            Err(problems) => {
                failed = true;
                for p in problems {
                    eprintln!("error  {p}");
                }
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Opens the configured store (no keys or badge classes needed).
pub(super) async fn open_store(
    settings: &Settings,
) -> Result<(crate::config::Config, std::sync::Arc<crate::store::Store>), ExitCode> {
    let config = settings.validate().map_err(fail)?;
    let store = crate::store::open(&config.database_url)
        .await
        .map_err(|e| {
            let source = std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            fail(format!(
                "database {}: {e}{source}",
                crate::store::DatabaseUrl::new(config.database_url.clone()).redacted()
            ))
        })?;
    Ok((config, store))
}

async fn import_referentiel(settings: &Settings, file: &Path) -> ExitCode {
    let r = match crate::referentiel::load_file(file) {
        Ok(r) => r,
        Err(problems) => {
            for p in problems {
                eprintln!("error  {p}");
            }
            return ExitCode::from(1);
        }
    };
    let (config, store) = match open_store(settings).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    let saved = store
        .save_referentiel(&config.institution, &r, &format!("cli:{user}"))
        .await;
    store.close().await;
    match saved {
        Ok(crate::store::SavedReferentiel::Created) => {
            println!(
                "imported {} {} « {} » ({} competences)",
                r.id,
                r.version,
                r.name,
                r.competences.len()
            );
            ExitCode::SUCCESS
        }
        Ok(crate::store::SavedReferentiel::Unchanged) => {
            println!(
                "unchanged: {} {} was already imported with the same content",
                r.id, r.version
            );
            ExitCode::SUCCESS
        }
        Err(e @ crate::store::StoreError::ReferentielVersionExists { .. }) => {
            eprintln!("error  {}: {e}", file.display());
            ExitCode::from(1)
        }
        Err(e) => fail(e),
    }
}

async fn list_referentiels(settings: &Settings) -> ExitCode {
    let (config, store) = match open_store(settings).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let list = store.list_referentiels(&config.institution).await;
    store.close().await;
    match list {
        Ok(list) => {
            for r in list {
                println!(
                    "{}  {}  « {} »  {} competences  imported {} by {}",
                    r.id,
                    r.version,
                    r.name,
                    r.competences,
                    r.imported_at.format("%Y-%m-%d"),
                    r.imported_by
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
