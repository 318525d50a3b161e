//! The command line: `carnet serve`, `issue`, `verify`, `bake`, `unbake`, `keys`, `badge-classes`,
//! `referentiels` (alias `referentials`), `carnets`, `awards`, `bulk`, `requests`,
//! `endorsements`, `demo`,
//! `config example`, `bench`.
//!
//! Arguments are parsed with clap; [`run`] dispatches. `config example`, `issue` and `unbake` are
//! done here, `bench` is `crate::bench`'s; the other bodies are in `commands.rs` (`serve`,
//! `revoke`, `verify`, `bake`, `keys`, `badge-classes`, `referentiels`) and in one file per group
//! of commands (`bulk.rs`, `carnets.rs`, `awards.rs`, `requests.rs`, `endorsements.rs`, `demo.rs`,
//! `badge_classes.rs`).

mod awards;
mod badge_classes;
mod bulk;
mod carnets;
mod commands;
mod demo;
mod endorsements;
mod institutions;
mod people;
mod requests;
mod tokens;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::app::App;
use crate::bake::{self, Keyword, Limits, SvgPayload};
use crate::baked::Proof;
use crate::config::{ServeSettings, Settings};
use crate::issue::{AwardRequest, issue};
use crate::ob3::credential::AwardDetails;
use crate::recipient::Email;
use crate::verify::report::{Profile, Report, Status, Verdict};

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
        /// Judge by the 1EdTech rules: a departure from the Open Badges data model makes the
        /// badge invalid (by default it is a warning, and only authenticity and validity decide).
        #[arg(long)]
        strict: bool,
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
    /// Badge classes: check files, import them for an institution, export, list.
    BadgeClasses {
        #[command(subcommand)]
        action: ClassesAction,
    },
    /// Référentiels (competence frameworks): check files, import them, list what is imported.
    #[command(visible_alias = "referentials")]
    Referentiels {
        #[command(subcommand)]
        action: ReferentielsAction,
    },
    /// Bulk awards: one badge class to every recipient of a CSV file (docs/BULK.md). Safe to
    /// rerun: nothing is issued twice.
    Bulk {
        #[command(subcommand)]
        action: BulkAction,
    },
    /// A person's carnets: import one, see the awards it earns, confirm one (issues it).
    Carnets {
        #[command(subcommand)]
        action: carnets::CarnetsAction,
    },
    /// Awards: list them (valid, revoked, expired), issue a class from a CSV file, revoke one.
    Awards {
        #[command(subcommand)]
        action: awards::AwardsAction,
    },
    /// A person's record in the institution: their awards, carnets and requests.
    People {
        #[command(subcommand)]
        action: people::PeopleAction,
    },
    /// The institutions of this instance: add, list, show, update.
    Institutions {
        #[command(subcommand)]
        action: institutions::InstitutionsAction,
    },
    /// The institution's API tokens: make one (shown once), list them with their last use,
    /// revoke one.
    Tokens {
        #[command(subcommand)]
        action: tokens::TokensAction,
    },
    /// Badge requests (the learner asks, with evidence): list, show, approve, return, decline.
    /// Through the HTTP API in this process: the same checks and steps as the API.
    Requests {
        /// Who acts (recorded in the request's history as api:NAME); default: the login name.
        #[arg(long, global = true)]
        by: Option<String>,
        #[command(subcommand)]
        action: requests::RequestsAction,
    },
    /// Endorsements by people without an account: invite an endorser for an award or a badge
    /// request (a single-use link, printed once), list invitations and endorsements, revoke an
    /// invitation. Through the HTTP API in this process.
    Endorsements {
        /// Who acts (recorded as api:NAME); default: the login name.
        #[arg(long, global = true)]
        by: Option<String>,
        #[command(subcommand)]
        action: endorsements::EndorsementsAction,
    },
    /// Load a small, fictional data set (an IME, two educators, five learners, carnets on
    /// RECTEC, badge requests in every state, awards, endorsements) into the configured
    /// database, then print a tour. Running it again adds nothing.
    Demo,
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
        /// Instead, time the worst inputs an anonymous client may send to the verifier, against
        /// the budget of 50 ms of CPU per request (fails over it; use a release build).
        #[arg(long)]
        hostile: bool,
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
    /// Store class files (or folders of them; default: the badge-classes folder) for the
    /// institution: new classes, or new versions. Nothing is stored when one is wrong.
    Import { paths: Vec<PathBuf> },
    /// Write the institution's classes (TOML file and image) into a folder.
    Export { dir: PathBuf },
    /// The institution's classes, with their versions.
    List,
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

#[derive(Subcommand)]
enum ReferentielsAction {
    /// Validate référentiel files (JSON or CSV, docs/REFERENTIELS.md); without FILE, every file in
    /// ./referentiels. Each problem is printed with its file, line and field.
    Check { files: Vec<PathBuf> },
    /// Validate and store a référentiel. Importing the same version again changes nothing; a new
    /// version is kept beside the old ones.
    Import { file: PathBuf },
    /// List the imported référentiels (every version).
    List,
}

#[derive(Subcommand)]
enum BulkAction {
    /// Issue the class to every valid row of the file, with a progress bar, then print a summary
    /// (each row in error with its line and reason). Exit code: 0 all issued or already issued,
    /// 1 some rows in error, 2 could not run.
    Issue {
        /// The badge class (its file name in badge-classes/, without .toml).
        #[arg(long)]
        badge_class: String,
        /// A name for this batch (e.g. 2026-juin): give a new one to award the class again to
        /// the same people; without it, a person gets the class once through bulk awards.
        #[arg(long)]
        batch: Option<String>,
        /// The CSV file: email (required), name, narrative, evidence_url, valid_until, key;
        /// `,` or `;` separated, UTF-8.
        file: PathBuf,
    },
    /// Show a job: state, counts, rows in error.
    Status {
        /// The job id `carnet bulk issue` printed.
        job: String,
        /// The whole job as JSON (as GET /api/v1/bulk-awards/{job} answers).
        #[arg(long)]
        json: bool,
    },
    /// Finish an interrupted job: issues only its pending rows.
    Resume {
        /// The job id `carnet bulk issue` printed.
        job: String,
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
                    ..Default::default()
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
                .await
            } else {
                let form = match ext.as_str() {
                    "jwt" => Proof::Jwt,
                    "json" => Proof::DataIntegrity,
                    _ => proof,
                };
                match crate::baked::signed_form(&app.issuer, app.store.as_ref(), &award, form).await
                {
                    Err(e) => Err(e.to_string()),
                    Ok(signed) => match ext.as_str() {
                        "png" => crate::baked::png(class, &signed).map_err(|e| e.to_string()),
                        "svg" => crate::baked::svg(class, form, signed)
                            .map(String::into_bytes)
                            .map_err(|e| e.to_string()),
                        _ => Ok(signed.into_bytes()),
                    },
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
            strict,
        } => {
            let profile = if strict {
                Profile::Strict
            } else {
                Profile::Default
            };
            run_verify(
                &cli.settings,
                &file,
                recipient,
                json,
                lang,
                offline,
                profile,
            )
            .await
        }
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
        Command::Keys { action } => run_keys(&cli.settings, action).await,
        Command::BadgeClasses { action } => run_classes(&cli.settings, action).await,
        Command::Referentiels { action } => run_referentiels(&cli.settings, action).await,
        Command::Carnets { action } => carnets::run(&cli.settings, action).await,
        Command::Awards { action } => awards::run(&cli.settings, action).await,
        Command::Institutions { action } => institutions::run(&cli.settings, action).await,
        Command::People { action } => people::run(&cli.settings, action).await,
        Command::Tokens { action } => tokens::run(&cli.settings, action).await,
        Command::Requests { by, action } => requests::run(&cli.settings, by, action).await,
        Command::Endorsements { by, action } => endorsements::run(&cli.settings, by, action).await,
        Command::Demo => demo::run_demo(&cli.settings).await,
        Command::Bulk { action } => bulk::run_bulk(&cli.settings, action).await,
        Command::Bench {
            iterations,
            ob2_url,
            hostile,
        } => crate::bench::run(&cli.settings, iterations, ob2_url.as_deref(), hostile).await,
    }
}

use commands::*;
