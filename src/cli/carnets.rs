//! `carnet carnets …`: import a person's carnet and see the awards it earns, list them again, and
//! confirm one (which issues it, once). The same steps as the API (`crate::award_rules::award`).
//! `batch` does it for many carnets at once, as a bulk job (`crate::bulk::carnets`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use super::commands::{read_bounded, start};
use super::fail;
use crate::app::App;
use crate::award_rules::award::{self, ConfirmError, Confirmation, Listed};
use crate::bulk::BulkError;
use crate::bulk::carnets::{MAX_BATCH_BYTES, Source};
use crate::config::Settings;
use crate::recipient::Email;
use crate::referentiel::Referentiel;
use crate::referentiel::carnet;
use crate::store::Carnet;

#[derive(Subcommand)]
pub(super) enum CarnetsAction {
    /// Import a person's carnet (JSON, docs/REFERENTIELS.md) and print the awards it earns.
    Import { file: PathBuf },
    /// The awards a carnet earns, and why the others are not earned yet.
    Proposals {
        carnet_id: String,
        /// Print the proposals as the API answers them.
        #[arg(long)]
        json: bool,
    },
    /// Confirm a proposal: issue the badge the carnet earns (once; confirming again prints the
    /// same award).
    Confirm {
        carnet_id: String,
        /// The badge class (its file name in badge-classes/, without .toml).
        badge_class: String,
        /// The person's email again (must be the carnet's): the badge then gets a fresh salted
        /// hash. Without it, the carnet's hash is used (carnet keeps no clear email).
        #[arg(long)]
        recipient: Option<String>,
        /// The person's name, published in the badge (leave out to keep it private).
        #[arg(long)]
        name: Option<String>,
    },
    /// Import a batch of carnets (e.g. a group's after an RAE jury session) and issue every badge
    /// each one earns, with a progress bar, then print a summary (docs/BULK.md). A file holds one
    /// carnet or a JSON array of them; a directory gives its .json files. Safe to rerun: nothing is
    /// imported or issued twice. Exit code: 0 every carnet done, 1 carnets in error (or the batch
    /// refused), 2 could not run.
    Batch {
        /// Carnet files (JSON, docs/REFERENTIELS.md) or directories of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Issue only this badge class (its file name in badge-classes/, without .toml); by
        /// default every class the carnets earn.
        #[arg(long)]
        badge_class: Option<String>,
    },
}

pub(super) async fn run(settings: &Settings, action: CarnetsAction) -> ExitCode {
    let app = match start(settings).await {
        Ok(a) => a,
        Err(code) => return code,
    };
    let code = match action {
        CarnetsAction::Import { file } => import(&app, &file).await,
        CarnetsAction::Proposals { carnet_id, json } => proposals(&app, &carnet_id, json).await,
        CarnetsAction::Confirm {
            carnet_id,
            badge_class,
            recipient,
            name,
        } => confirm(&app, &carnet_id, &badge_class, recipient, name).await,
        CarnetsAction::Batch { paths, badge_class } => {
            batch(&app, &paths, badge_class.as_deref()).await
        }
    };
    app.store.close().await;
    code
}

fn user() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "cli".into())
    )
}

/// The carnet and its référentiel, or the exit code after a message.
async fn find(app: &App, id: &str) -> Result<(Carnet, Referentiel), ExitCode> {
    let slug = app.issuer.slug();
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return Err(fail(format!("\"{id}\" is not a carnet id")));
    };
    let carnet = match app.store.get_carnet(uuid).await {
        Ok(Some(c)) if c.issuer_slug == slug => c,
        Ok(_) => return Err(fail(format!("no carnet {id}"))),
        Err(e) => return Err(fail(e)),
    };
    match app
        .store
        .get_referentiel(slug, &carnet.referentiel_id, &carnet.referentiel_version)
        .await
    {
        Ok(Some(r)) => Ok((carnet, r.referentiel)),
        Ok(None) => Err(fail(format!(
            "the référentiel {} {} of carnet {id} is missing",
            carnet.referentiel_id, carnet.referentiel_version
        ))),
        Err(e) => Err(fail(e)),
    }
}

async fn import(app: &App, file: &Path) -> ExitCode {
    let bytes = match read_bounded(file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let name = file.display().to_string();
    let draft = match carnet::parse_carnet(&bytes, &name) {
        Ok(d) => d,
        Err(problems) => return problems_exit(&problems),
    };
    let stored = match draft.referentiel() {
        Some((id, version)) => match app
            .store
            .get_referentiel(app.issuer.slug(), id, version)
            .await
        {
            Ok(r) => r,
            Err(e) => return fail(e),
        },
        None => None,
    };
    let valid = match draft.validate(stored.as_ref().map(|r| &r.referentiel)) {
        Ok(v) => v,
        Err(problems) => return problems_exit(&problems),
    };
    let new = valid.into_new_carnet(app.issuer.slug(), &user());
    let carnet = match app.store.insert_carnet(&new).await {
        Ok(c) => c,
        Err(e) => return fail(format!("{name}: {e}")),
    };
    let Some(referentiel) = stored.map(|s| s.referentiel) else {
        return fail("the référentiel vanished");
    };
    println!(
        "imported carnet {} ({} {}, {} entries)",
        carnet.id,
        referentiel.id,
        referentiel.version,
        carnet.entries.len()
    );
    print_proposals(app, &carnet, &referentiel).await
}

fn problems_exit(problems: &[crate::referentiel::ImportError]) -> ExitCode {
    for p in problems {
        eprintln!("error  {p}");
    }
    ExitCode::from(1)
}

async fn proposals(app: &App, id: &str, json: bool) -> ExitCode {
    let (carnet, referentiel) = match find(app, id).await {
        Ok(found) => found,
        Err(code) => return code,
    };
    if json {
        let listed =
            match award::proposals(app.store.as_ref(), &app.classes, &carnet, &referentiel).await {
                Ok(l) => l,
                Err(e) => return fail(e),
            };
        let base = app.issuer.base_url.clone();
        let doc = award::proposals_document(
            &carnet,
            &referentiel,
            &listed,
            |class| format!("carnet carnets confirm {} {}", carnet.id, class.slug),
            |a| serde_json::json!({"id": a.id, "credential_id": a.credential_id, "json": format!("{base}/credentials/{}.json", a.id)}),
        );
        println!("{doc:#}");
        return ExitCode::SUCCESS;
    }
    print_proposals(app, &carnet, &referentiel).await
}

/// In words, for the educator: what is earned (to confirm, or already issued), what is not yet.
async fn print_proposals(app: &App, carnet: &Carnet, referentiel: &Referentiel) -> ExitCode {
    let listed = match award::proposals(app.store.as_ref(), &app.classes, carnet, referentiel).await
    {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    if listed.is_empty() {
        println!(
            "no badge class recognises competences of {} {}",
            referentiel.id, referentiel.version
        );
        return ExitCode::SUCCESS;
    }
    let (earned, not): (Vec<&Listed<'_>>, Vec<&Listed<'_>>) =
        listed.iter().partition(|l| l.proposal.earned());
    for l in &earned {
        let p = &l.proposal;
        match &l.award {
            Some(a) => println!(
                "earned  {} « {} »: issued {} ({})",
                p.class.slug,
                p.class.name,
                a.created_at.format("%Y-%m-%d"),
                a.credential_id
            ),
            None => println!(
                "earned  {} « {} »: to confirm: carnet carnets confirm {} {}",
                p.class.slug, p.class.name, carnet.id, p.class.slug
            ),
        }
        for o in &p.outcomes {
            println!("          {}", o.why());
        }
    }
    for l in &not {
        let p = &l.proposal;
        println!("not yet {} « {} »", p.class.slug, p.class.name);
        for problem in &p.problems {
            println!("          {problem}");
        }
        for o in &p.outcomes {
            let mark = if o.met() { "ok" } else { "--" };
            println!("       {mark} {}", o.why());
        }
        if let Some(a) = &l.award {
            println!(
                "          (issued earlier, {}: {})",
                a.created_at.format("%Y-%m-%d"),
                a.credential_id
            );
        }
    }
    ExitCode::SUCCESS
}

async fn confirm(
    app: &App,
    id: &str,
    slug: &str,
    recipient: Option<String>,
    name: Option<String>,
) -> ExitCode {
    let (carnet, referentiel) = match find(app, id).await {
        Ok(found) => found,
        Err(code) => return code,
    };
    let Some(class) = app.class(slug) else {
        let known: Vec<&str> = app.classes.keys().map(String::as_str).collect();
        return fail(format!(
            "unknown badge class \"{slug}\" (known: {})",
            known.join(", ")
        ));
    };
    let recipient_email = match recipient.as_deref().map(Email::parse).transpose() {
        Ok(e) => e,
        Err(e) => return fail(format!("--recipient: {e}")),
    };
    let confirmation = Confirmation {
        recipient_email,
        recipient_name: name,
        ..Confirmation::default()
    };
    match award::confirm(
        &app.issuer,
        app.store.as_ref(),
        class,
        &carnet,
        &referentiel,
        confirmation,
        &user(),
    )
    .await
    {
        Ok((a, created)) => {
            println!("{}", a.id);
            if created {
                eprintln!("Badge « {} » issued: {}", class.name, a.credential_id);
            } else {
                eprintln!(
                    "Badge « {} » was already issued from this carnet: {}",
                    class.name, a.credential_id
                );
            }
            ExitCode::SUCCESS
        }
        Err(ConfirmError::NotEarned { class, reasons }) => {
            eprintln!("carnet: this carnet does not earn « {class} »:");
            for r in reasons {
                eprintln!("  - {r}");
            }
            ExitCode::from(1)
        }
        Err(e @ ConfirmError::NotConcerned { .. }) => {
            eprintln!("carnet: {e}");
            ExitCode::from(1)
        }
        Err(e) => fail(e),
    }
}

/// `carnet carnets batch`: the files read, the batch stored as a job (or its unfinished job found
/// again), then run here with a progress bar (`carnet bulk status | resume` work on it too).
async fn batch(app: &App, paths: &[PathBuf], class: Option<&str>) -> ExitCode {
    let sources = match batch_sources(paths) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let created = match crate::bulk::carnets::submit(app, class, sources, &user()).await {
        Ok(c) => c,
        Err(BulkError::File(problems)) => {
            for p in problems {
                match p.line {
                    Some(line) => eprintln!("error  line {line}: {}: {}", p.field, p.problem),
                    None => eprintln!("error  {}: {}", p.field, p.problem),
                }
            }
            eprintln!(
                "nothing was imported or issued: correct the batch, then run the command again"
            );
            return ExitCode::from(1);
        }
        Err(BulkError::UnknownBadgeClass(c)) => {
            let known: Vec<&str> = app.classes.keys().map(String::as_str).collect();
            return fail(format!(
                "unknown badge class \"{c}\" (known: {})",
                known.join(", ")
            ));
        }
        Err(e) => return fail(e),
    };
    let job = created.job();
    // First on stdout, so that a script (or a person after a crash) has the job to resume.
    println!("job {}", job.id);
    if let crate::store::CreatedJob::Existing(j) = &created {
        eprintln!(
            "this batch already has an unfinished job ({} of {} carnets done): continuing it",
            j.counts.processed(),
            j.counts.total
        );
    }
    super::bulk::run_to_end(app, job).await
}

/// The files of a batch: each file given, and the `.json` files of each directory given (by
/// name); at most [`MAX_BATCH_BYTES`] in all.
fn batch_sources(paths: &[PathBuf]) -> Result<Vec<Source>, String> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if !meta.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            })
            .collect();
        if found.is_empty() {
            return Err(format!(
                "{}: no .json file in this directory",
                path.display()
            ));
        }
        found.sort();
        files.extend(found);
    }
    let mut total = 0u64;
    let mut sources = Vec::with_capacity(files.len());
    for file in files {
        let size = std::fs::metadata(&file)
            .map_err(|e| format!("{}: {e}", file.display()))?
            .len();
        total += size;
        if total > MAX_BATCH_BYTES as u64 {
            return Err(format!(
                "the batch is larger than {MAX_BATCH_BYTES} bytes (at {}): split it",
                file.display()
            ));
        }
        let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        sources.push(Source {
            label: Some(file.display().to_string()),
            bytes,
        });
    }
    Ok(sources)
}
