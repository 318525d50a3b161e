//! The command line: `carnet serve`, `issue`, `verify`, `bake`, `unbake`, `keys`, `badge-classes`,
//! `config example`, `bench`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::app::App;
use crate::bake::{self, Keyword, Limits, SvgPayload};
use crate::baked::Proof;
use crate::config::{ServeSettings, Settings};
use crate::issue::{AwardRequest, issue};
use crate::ob3::credential::AwardDetails;
use crate::recipient::Email;
use crate::verify::report::{Report, Status, Verdict};

#[derive(Parser)]
#[command(
    name = "carnet",
    version,
    about = "Open Badges issuer and verifier: co-built badges, signed and baked into PNG images"
)]
pub struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve(ServeSettings),
    /// Issue a badge to a recipient and write it (baked .png/.svg, or bare .json/.jwt by FILE's extension).
    Issue {
        /// The badge class (its file name in badge-classes/, without .toml).
        #[arg(long)]
        badge_class: String,
        /// The recipient's email (only a salted hash is published).
        #[arg(long)]
        recipient: String,
        /// The recipient's name, published in the badge (leave out to keep it private).
        #[arg(long)]
        name: Option<String>,
        /// A link to the evidence the recipient brought.
        #[arg(long)]
        evidence_url: Option<String>,
        /// The evidence in the recipient's words (Markdown).
        #[arg(long)]
        narrative: Option<String>,
        /// Expiry date (YYYY-MM-DD or RFC 3339); default: the class's validity, else none.
        #[arg(long)]
        valid_until: Option<String>,
        /// Which signed form to write into images: Data Integrity (di) or VC-JWT (jwt).
        #[arg(long, value_enum, default_value = "di")]
        proof: ProofArg,
        /// Which Open Badges version to write: ob3 (default) or ob2.
        #[arg(long, value_enum, default_value = "ob3")]
        format: FormatArg,
        /// For --format ob2: signed (default: the file carries the whole signed assertion, which
        /// verifies without carnet answering) or hosted (the assertion lives at its URL).
        #[arg(long, value_enum, default_value = "signed")]
        verification: VerificationArg,
        /// Output file: .png, .svg, .json or .jwt.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a badge (PNG, SVG, JSON or JWT). Exit code: 0 valid, 1 invalid, 2 could not check.
    Verify {
        file: PathBuf,
        /// Check that the badge was given to this email.
        #[arg(long)]
        recipient: Option<String>,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
        /// Language of the messages.
        #[arg(long, value_enum, default_value = "fr")]
        lang: Lang,
        /// Never use the network (keys of other issuers are then "could not check").
        #[arg(long)]
        offline: bool,
    },
    /// Bake a signed credential (JSON or JWT file) into a PNG or SVG image.
    Bake {
        /// The signed credential: a .json file or a compact JWS.
        #[arg(long)]
        credential: PathBuf,
        /// The image to bake into (.png or .svg).
        #[arg(long)]
        image: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the credential baked into a PNG or SVG image.
    Unbake { file: PathBuf },
    /// Withdraw an award (the id `carnet issue` printed): every verifier then sees it revoked.
    Revoke {
        award_id: String,
        /// Why (published in the OB 2.0 RevocationList and the hosted assertion).
        #[arg(long)]
        reason: String,
    },
    /// Issuer keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Badge classes in the badge-classes directory.
    BadgeClasses {
        #[command(subcommand)]
        action: ClassesAction,
    },
    /// Configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Measure signing, baking and verifying speed on this machine.
    Bench {
        #[arg(long, default_value_t = 200)]
        iterations: u32,
        /// Also time Open Badges 2.0 verification of this hosted assertion URL (fetched each time).
        #[arg(long)]
        ob2_url: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Ob3,
    Ob2,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VerificationArg {
    Signed,
    Hosted,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProofArg {
    Di,
    Jwt,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lang {
    Fr,
    En,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Show the issuer's public keys (never the private ones).
    Show,
    /// Add a new active key of each kind; old keys stay published so earlier badges still verify.
    Rotate,
}

#[derive(Subcommand)]
enum ClassesAction {
    /// Validate every badge-class file (the same checks as at start-up).
    Check,
    /// Draw a badge image (PNG) for a new class.
    DrawImage {
        /// The text on the badge.
        #[arg(long)]
        title: String,
        #[arg(long, value_enum, default_value = "helmet")]
        pictogram: PictogramArg,
        /// Colour as RRGGBB.
        #[arg(long, default_value = "1b7f4a")]
        colour: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum PictogramArg {
    Helmet,
    Hand,
    Star,
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Print a commented example configuration.
    Example,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("carnet: {msg}");
    ExitCode::from(2)
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Config {
            action: ConfigAction::Example,
        } => {
            print!("{}", crate::config::EXAMPLE);
            ExitCode::SUCCESS
        }
        Command::Serve(serve) => run_serve(&cli.settings, serve).await,
        Command::Revoke { award_id, reason } => run_revoke(&cli.settings, &award_id, &reason).await,
        Command::Issue {
            badge_class,
            recipient,
            name,
            evidence_url,
            narrative,
            valid_until,
            proof,
            format,
            verification,
            out,
        } => {
            let app = match start(&cli.settings).await {
                Ok(a) => a,
                Err(code) => return code,
            };
            let Some(class) = app.class(&badge_class) else {
                let known: Vec<&str> = app.classes.keys().map(String::as_str).collect();
                return fail(format!(
                    "unknown badge class \"{badge_class}\" (known: {})",
                    known.join(", ")
                ));
            };
            let recipient = match Email::parse(&recipient) {
                Ok(e) => e,
                Err(e) => return fail(format!("--recipient: {e}")),
            };
            let valid_until = match valid_until
                .as_deref()
                .map(crate::issue::parse_valid_until)
                .transpose()
            {
                Ok(v) => v,
                Err(e) => return fail(format!("--valid-until: {e}")),
            };
            let ext = out
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            if !matches!(ext.as_str(), "png" | "svg" | "json" | "jwt") {
                return fail("--out: the file name must end in .png, .svg, .json or .jwt");
            }
            let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
            let request = AwardRequest {
                badge_class: class.slug.clone(),
                recipient,
                details: AwardDetails {
                    recipient_name: name,
                    evidence_url,
                    narrative,
                    valid_until,
                },
                issued_by: format!("cli:{user}"),
                idempotency_key: None,
            };
            let award = match issue(&app.issuer, class, app.store.as_ref(), request).await {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            let proof = match proof {
                ProofArg::Di => Proof::DataIntegrity,
                ProofArg::Jwt => Proof::Jwt,
            };
            let bytes = if format == FormatArg::Ob2 {
                ob2_file(
                    &app,
                    &award,
                    class,
                    verification == VerificationArg::Signed,
                    &ext,
                )
            } else {
                match ext.as_str() {
                    "png" => crate::baked::png(&award, class, proof).map_err(|e| e.to_string()),
                    "svg" => crate::baked::svg(&award, class, proof)
                        .map(String::into_bytes)
                        .map_err(|e| e.to_string()),
                    "jwt" => Ok(award.credential_jwt.clone().into_bytes()),
                    _ => Ok(award.credential_json.clone().into_bytes()),
                }
            };
            match bytes.and_then(|b| {
                std::fs::write(&out, b).map_err(|e| format!("{}: {e}", out.display()))
            }) {
                Ok(()) => {
                    println!("{}", award.id);
                    eprintln!(
                        "Badge « {} » issued: {} → {}",
                        class.name,
                        award.credential_id,
                        out.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(format!(
                    "the award {} was stored but the file could not be written: {e}",
                    award.id
                )),
            }
        }
        Command::Verify {
            file,
            recipient,
            json,
            lang,
            offline,
        } => run_verify(&cli.settings, &file, recipient, json, lang, offline).await,
        Command::Bake {
            credential,
            image,
            out,
        } => run_bake(&credential, &image, &out),
        Command::Unbake { file } => {
            let bytes = match read_bounded(&file) {
                Ok(b) => b,
                Err(e) => return fail(e),
            };
            match bake::unbake(&bytes, &Limits::default()) {
                Ok(b) => {
                    use std::io::Write;
                    let text = b
                        .verify_attr
                        .filter(|_| b.text.trim().is_empty())
                        .unwrap_or(b.text);
                    // A closed pipe (`carnet unbake x.png | head`) is not worth a panic.
                    let _ = writeln!(std::io::stdout(), "{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(format!("{}: {e}", file.display())),
            }
        }
        Command::Keys { action } => run_keys(&cli.settings, action),
        Command::BadgeClasses { action } => run_classes(&cli.settings, action),
        Command::Bench {
            iterations,
            ob2_url,
        } => crate::bench::run(&cli.settings, iterations, ob2_url.as_deref()).await,
    }
}

/// The OB 2.0 file of an award: `.png`/`.svg` baked (JWS when signed, the assertion when hosted),
/// `.json` the hosted assertion, `.jwt` the signed one.
fn ob2_file(
    app: &App,
    award: &crate::store::Award,
    class: &crate::badge_class::BadgeClass,
    signed: bool,
    ext: &str,
) -> Result<Vec<u8>, String> {
    let (Some(hosted), Some(jws)) = (&award.assertion_json, &award.assertion_jws) else {
        return Err("Open Badges 2.0 needs the issuer's email: set CARNET_ISSUER_EMAIL".into());
    };
    let text = if signed { jws } else { hosted };
    match ext {
        "png" => {
            bake::bake_png(&class.image_png, Keyword::Ob2Assertion, text).map_err(|e| e.to_string())
        }
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

async fn run_revoke(settings: &Settings, award_id: &str, reason: &str) -> ExitCode {
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
        .revoke_award(id, &reason, &format!("cli:{user}"))
        .await
    {
        Ok(award) => {
            eprintln!("Badge {} revoked: {reason}", award.credential_id);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

async fn start(settings: &Settings) -> Result<App, ExitCode> {
    let config = settings.validate().map_err(fail)?;
    App::start(config).await.map_err(fail)
}

async fn run_serve(settings: &Settings, serve: ServeSettings) -> ExitCode {
    let (addr, tokens) = match (serve.bind_addr(), serve.tokens()) {
        (Ok(a), Ok(t)) => (a, t),
        (Err(e), _) | (_, Err(e)) => return fail(e),
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
    let store = app.store.clone();
    let router = crate::http::router(app, tokens, serve.max_body_bytes);
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
    let result = crate::http::serve(listener, router, shutdown).await;
    store.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{}: the file is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        ));
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

async fn run_verify(
    settings: &Settings,
    file: &Path,
    recipient: Option<String>,
    json: bool,
    lang: Lang,
    offline: bool,
) -> ExitCode {
    let bytes = match read_bounded(file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let verifier = match crate::bench::local_verifier(settings, offline).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let report = verifier.verify_bytes(&bytes, recipient.as_deref()).await;
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

fn print_report(report: &Report, lang: Lang) {
    let fr = lang == Lang::Fr;
    let headline = match (report.verdict, fr) {
        (Verdict::Valid, true) => "✔ Ce badge est authentique et valable.",
        (Verdict::Valid, false) => "✔ This badge is authentic and valid.",
        (Verdict::Invalid, true) => "✘ Ce badge n'est pas valable.",
        (Verdict::Invalid, false) => "✘ This badge is not valid.",
        (Verdict::Indeterminate, true) => "? carnet n'a pas pu vérifier ce badge.",
        (Verdict::Indeterminate, false) => "? carnet could not check this badge.",
    };
    println!("{headline}");
    if let Some(s) = &report.summary {
        if let Some(n) = s.achievement_name.as_ref().or(s.name.as_ref()) {
            println!("  Badge: {n}");
        }
        if let Some(i) = s.issuer_name.as_ref().or(s.issuer_id.as_ref()) {
            println!("  {}: {i}", if fr { "Donné par" } else { "Issued by" });
        }
    }
    for c in &report.checks {
        let mark = match c.status {
            Status::Pass => "ok",
            Status::Fail => "ÉCHEC",
            Status::Warn => "attention",
            Status::Unknown => "?",
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

fn run_bake(credential: &Path, image: &Path, out: &Path) -> ExitCode {
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

fn run_keys(settings: &Settings, action: KeysAction) -> ExitCode {
    let config = match settings.validate() {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let keys = match action {
        KeysAction::Show => crate::keys::load_or_create(&config.keys_dir, &config.issuer.slug),
        KeysAction::Rotate => crate::keys::rotate(&config.keys_dir, &config.issuer.slug),
    };
    match keys {
        Ok(keys) => {
            let issuer = crate::issuer::Issuer::new(config.issuer.clone(), &config.base_url, keys);
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
        Err(e) => fail(e),
    }
}

fn run_classes(settings: &Settings, action: ClassesAction) -> ExitCode {
    match action {
        ClassesAction::Check => match crate::badge_class::load_dir(&settings.badge_classes_dir) {
            Ok(classes) => {
                for c in classes.values() {
                    println!("ok  {} — {}", c.slug, c.name);
                }
                ExitCode::SUCCESS
            }
            Err(errors) => {
                for e in errors {
                    eprintln!("error  {e}");
                }
                ExitCode::from(1)
            }
        },
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
