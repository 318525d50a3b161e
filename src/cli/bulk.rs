//! `carnet bulk issue | status | resume`: bulk awards from a CSV file (`docs/BULK.md`), run in this
//! process with a progress bar on stderr (indicatif), then a summary on stdout. `status` and
//! `resume` work on batches of carnets too (`carnet carnets batch`, which shares [`run_to_end`]).
//!
//! Exit codes: 0 every row issued or already issued, 1 some rows in error (or the file refused),
//! 2 could not run (settings, database, unknown job or class).

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use uuid::Uuid;

use super::{BulkAction, fail, start};
use crate::app::App;
use crate::bulk::{self, BulkError};
use crate::config::Settings;
use crate::store::{AwardCounts, BulkJob, CreatedJob, JobCounts, JobKind, JobState, RowStatus};

/// Rows issued at once by the CLI (the machine is the educator's: both cores).
const CLI_CONCURRENCY: usize = bulk::MAX_CONCURRENT_AWARDS;

pub(super) async fn run_bulk(settings: &Settings, action: BulkAction) -> ExitCode {
    let app = match start(settings).await {
        Ok(a) => a,
        Err(code) => return code,
    };
    let code = match action {
        BulkAction::Issue {
            badge_class,
            batch,
            file,
        } => issue(&app, &badge_class, batch.as_deref(), &file).await,
        BulkAction::Status { job, json } => status(&app, &job, json).await,
        BulkAction::Resume { job } => resume(&app, &job).await,
    };
    app.store.close().await;
    code
}

async fn issue(app: &App, class: &str, batch: Option<&str>, file: &Path) -> ExitCode {
    let bytes = match read_file(file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    let created = match bulk::submit(app, class, batch, bytes, &format!("cli:{user}")).await {
        Ok(c) => c,
        Err(BulkError::File(problems)) => {
            for p in problems {
                match p.line {
                    Some(line) => eprintln!(
                        "error  {}:{line}: {}: {}",
                        file.display(),
                        p.field,
                        p.problem
                    ),
                    None => eprintln!("error  {}: {}: {}", file.display(), p.field, p.problem),
                }
            }
            eprintln!("nothing was issued: correct the file, then run the command again");
            return ExitCode::from(1);
        }
        Err(BulkError::UnknownBadgeClass(c)) => {
            let known: Vec<&str> = app.classes.keys().map(String::as_str).collect();
            return fail(format!(
                "unknown badge class \"{c}\" (known: {})",
                known.join(", ")
            ));
        }
        Err(BulkError::InvalidBatch(why)) => return fail(format!("--batch: {why}")),
        Err(e) => return fail(e),
    };
    let job = created.job();
    // First on stdout, so that a script (or a person after a crash) has the job to resume.
    println!("job {}", job.id);
    if let CreatedJob::Existing(j) = &created {
        eprintln!(
            "this file already has an unfinished job ({} of {} rows done): continuing it",
            j.counts.processed(),
            j.counts.total
        );
    }
    run_to_end(app, job).await
}

async fn status(app: &App, job: &str, json: bool) -> ExitCode {
    let job = match find_job(app, job).await {
        Ok(j) => j,
        Err(code) => return code,
    };
    let rows = match app.store.bulk_rows(job.id).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&bulk::job_document(&app.issuer.base_url, &job, &rows))
                .unwrap_or_default()
        );
    } else {
        summary(&app.issuer.base_url, &job, &rows);
    }
    ExitCode::SUCCESS
}

async fn resume(app: &App, job: &str) -> ExitCode {
    let job = match find_job(app, job).await {
        Ok(j) => j,
        Err(code) => return code,
    };
    if job.state == JobState::Done {
        eprintln!("the job {} is done: nothing to resume", job.id);
    }
    let job = match wait_while_held(app, job).await {
        Ok(j) => j,
        Err(code) => return code,
    };
    run_to_end(app, &job).await
}

/// A job another process holds (a server node, or a run that was killed: its hold outlives it
/// by at most `CARNET_JOB_LEASE_SECONDS`): says so, and waits until the job is done or its
/// hold has run out.
async fn wait_while_held(app: &App, mut job: BulkJob) -> Result<BulkJob, ExitCode> {
    let mut said = false;
    loop {
        let now = chrono::Utc::now();
        let (Some(holder), Some(until)) = (&job.lease_holder, job.lease_until) else {
            return Ok(job);
        };
        if until < now || job.state == JobState::Done || holder == bulk::lease::node() {
            return Ok(job);
        }
        if !said {
            eprintln!(
                "the job {} is held by {holder} until {}: waiting for it to finish or for its hold to run out",
                job.id,
                until.format("%H:%M:%S UTC")
            );
            said = true;
        }
        let wait = (until - now).to_std().unwrap_or_default();
        tokio::time::sleep(
            wait.min(std::time::Duration::from_secs(1)) + std::time::Duration::from_millis(50),
        )
        .await;
        job = match app.store.get_bulk_job(job.id).await {
            Ok(Some(j)) => j,
            Ok(None) => return Err(fail(format!("no bulk job has the id {}", job.id))),
            Err(e) => return Err(fail(e)),
        };
    }
}

async fn find_job(app: &App, text: &str) -> Result<BulkJob, ExitCode> {
    let id: Uuid = text.trim().parse().map_err(|_| {
        fail(format!(
            "\"{text}\" is not a job id (the id `carnet bulk issue` printed)"
        ))
    })?;
    match app.store.get_bulk_job(id).await {
        Ok(Some(job)) if job.issuer_slug == app.issuer.slug() => Ok(job),
        Ok(_) => Err(fail(format!("no bulk job has the id {id}"))),
        Err(e) => Err(fail(e)),
    }
}

/// Runs the job (CSV or carnets) with a progress display, then prints the summary; the exit code
/// says whether rows are in error.
pub(super) async fn run_to_end(app: &App, job: &BulkJob) -> ExitCode {
    let id = job.id;
    let progress = Progress::new(job.counts.total, job.kind);
    let result = bulk::run(app, id, CLI_CONCURRENCY, &|c, a| progress.show(c, a)).await;
    progress.finish();
    let job = match result {
        Ok(job) => job,
        Err(e) => {
            return fail(format!(
                "{e}; what was issued stays issued: run `carnet bulk resume {id}` to finish"
            ));
        }
    };
    let rows = match app.store.bulk_rows(id).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    summary(&app.issuer.base_url, &job, &rows);
    if job.state != JobState::Done {
        ExitCode::from(2)
    } else if job.counts.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn summary(base_url: &str, job: &BulkJob, rows: &[crate::store::BulkRow]) {
    if job.kind == JobKind::Carnets {
        return batch_summary(&bulk::job_document(base_url, job, rows));
    }
    let c = job.counts;
    println!(
        "job {}: {} — badge class {}{}, {} rows",
        job.id,
        job.state,
        job.badge_class_slug,
        job.batch
            .as_deref()
            .map(|b| format!(", batch {b}"))
            .unwrap_or_default(),
        c.total
    );
    println!("  issued:         {}", c.issued);
    println!("  already issued: {}", c.already);
    println!("  errors:         {}", c.failed);
    if c.pending() > 0 {
        println!("  pending:        {}", c.pending());
    }
    if let Some(e) = &job.error {
        println!("  the job failed: {e}");
    }
    for row in rows.iter().filter(|r| r.status == RowStatus::Error) {
        if let Some(e) = &row.error {
            println!("  line {}, {}: {}", row.line, e.field, e.reason);
        }
    }
}

/// A batch of carnets in words: counts, then each carnet with its awards (and why the others are
/// not earned), then the carnets in error.
fn batch_summary(doc: &serde_json::Value) {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    let c = &doc["counts"];
    let class = match doc["badge_class"].as_str() {
        Some(slug) => format!("badge class {slug}"),
        None => "every class they earn".into(),
    };
    println!(
        "job {}: {} — batch of {} carnets, {class}",
        text(&doc["id"]),
        text(&doc["state"]),
        c["carnets"]
    );
    println!("  carnets done:     {}", c["done"]);
    println!("  carnets in error: {}", c["failed"]);
    if c["pending"].as_u64().unwrap_or(0) > 0 {
        println!("  carnets pending:  {}", c["pending"]);
    }
    println!("  awards issued:    {}", c["awards_issued"]);
    println!("  already issued:   {}", c["awards_already"]);
    println!("  not earned:       {}", c["not_earned"]);
    if let Some(e) = doc["error"].as_str() {
        println!("  the job failed: {e}");
    }
    let empty = Vec::new();
    for carnet in doc["carnets"].as_array().unwrap_or(&empty) {
        let at = match carnet["file"].as_str() {
            Some(file) => format!("#{} {file}", carnet["position"]),
            None => format!("#{}", carnet["position"]),
        };
        if carnet["status"] == "error" {
            // The reason names the field (and the line) itself.
            println!("  {at}: ERROR: {}", text(&carnet["reason"]));
        } else if carnet["status"] == "pending" {
            println!("  {at}: pending");
        }
        let Some(id) = carnet["carnet_id"].as_str() else {
            continue;
        };
        let how = if carnet["imported"] == true {
            "imported"
        } else {
            "already imported"
        };
        println!("  {at}: carnet {id} ({how})");
        let awards = carnet["awards"].as_array().unwrap_or(&empty);
        if awards.is_empty() {
            println!("      no badge class recognises competences of its référentiel");
        }
        for a in awards {
            let what = match a["outcome"].as_str().unwrap_or("") {
                "issued" => "issued        ",
                "already" => "already issued",
                "not_earned" => "not earned    ",
                _ => "ERROR         ",
            };
            println!(
                "      {what} {} « {} »",
                text(&a["badge_class"]),
                text(&a["name"])
            );
            for r in a["reasons"].as_array().unwrap_or(&empty) {
                println!("                     {}", text(r));
            }
        }
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > bulk::MAX_BULK_BYTES as u64 {
        return Err(format!(
            "{}: the file is {} bytes; the limit is {} (at most {} rows): split it",
            path.display(),
            meta.len(),
            bulk::MAX_BULK_BYTES,
            bulk::MAX_ROWS
        ));
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A bar that updates in place when stderr is a terminal; otherwise a line now and then (every
/// tenth of the rows, or every 2 seconds), which logs and pipes keep readable.
struct Progress {
    bar: Option<ProgressBar>,
    total: u32,
    kind: JobKind,
    last_line: Mutex<(Instant, u32)>,
}

impl Progress {
    fn new(total: u32, kind: JobKind) -> Progress {
        let unit = match kind {
            JobKind::Csv => "rows",
            JobKind::Carnets => "carnets",
        };
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(u64::from(total)), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(&format!(
                "{{bar:30}} {{pos}}/{{len}} {unit}  {{msg}}  ({{elapsed}})"
            )) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Progress {
            bar,
            total,
            kind,
            last_line: Mutex::new((Instant::now(), 0)),
        }
    }

    fn show(&self, c: JobCounts, a: AwardCounts) {
        let (msg, unit) = match self.kind {
            JobKind::Csv => (
                format!(
                    "issued {} · already {} · errors {}",
                    c.issued, c.already, c.failed
                ),
                "rows",
            ),
            JobKind::Carnets => (
                format!(
                    "awards issued {} · already {} · carnets in error {}",
                    a.issued, a.already, c.failed
                ),
                "carnets",
            ),
        };
        if let Some(bar) = &self.bar {
            bar.set_position(u64::from(c.processed()));
            bar.set_message(msg);
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        let step = (self.total / 10).max(1);
        let done = c.processed();
        if done == self.total || done >= last.1 + step || last.0.elapsed() >= Duration::from_secs(2)
        {
            eprintln!("bulk: {done}/{} {unit} ({msg})", self.total);
            *last = (Instant::now(), done);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
