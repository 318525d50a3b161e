//! `carnet requests …`: badge requests (issue #5 §4) for the educator at the command line: list,
//! show, approve (issues the badge), return with a comment, decline with a reason, resubmit.
//!
//! Every command goes through the HTTP API in this process ([`crate::http::local_api`]): the checks,
//! the state machine and the approval that issues are the API's own, not a copy. The person
//! acting (`--by`, default the login name) is recorded as the API records a token's name:
//! `api:NAME`.
//!
//! Exit codes: 0 done, 1 refused (the request is not in a state that allows it, a comment is
//! missing...), 2 could not run (settings, database, unknown request).

use std::process::ExitCode;

use axum::http::{Method, StatusCode};
use clap::Subcommand;
use serde_json::{Value, json};

use super::commands::start;
use super::fail;
use crate::config::Settings;
use crate::http::local_api::{ApiError, LocalApi};

#[derive(Subcommand)]
pub(super) enum RequestsAction {
    /// List the requests, oldest first: id, state, badge class, recipient, who asked, last change.
    List {
        /// Only the requests in this state: submitted, returned, approved, declined.
        #[arg(long)]
        state: Option<String>,
        /// Print the list as the API answers it.
        #[arg(long)]
        json: bool,
    },
    /// Show one request: its evidence, links, narrative and every step (who, when, comment).
    Show {
        id: String,
        /// Print the request as the API answers it.
        #[arg(long)]
        json: bool,
    },
    /// Approve a submitted request: the badge is issued (once), with the request's evidence.
    Approve { id: String },
    /// Send a submitted request back for revision, with a comment for the learner.
    Return {
        id: String,
        /// What to complete or change (the learner reads it).
        #[arg(long)]
        comment: String,
    },
    /// Decline a submitted request, with a reason (final).
    Decline {
        id: String,
        /// Why (the learner reads it).
        #[arg(long)]
        reason: String,
    },
    /// Submit a returned request again, once it is completed.
    Resubmit {
        id: String,
        #[arg(long)]
        comment: Option<String>,
    },
}

pub(super) async fn run(
    settings: &Settings,
    by: Option<String>,
    action: RequestsAction,
) -> ExitCode {
    let who = by.unwrap_or_else(|| std::env::var("USER").unwrap_or_else(|_| "cli".into()));
    let app = match start(settings).await {
        Ok(a) => a,
        Err(code) => return code,
    };
    let store = app.store.clone();
    let code = match LocalApi::new(app, &[who.as_str()]) {
        Ok(api) => act(&api, who.trim(), action).await,
        Err(e) => fail(format!("--by {e}")),
    };
    store.close().await;
    code
}

/// The request path of an id, refusing anything that is not a request id.
fn request_path(id: &str) -> Result<String, ExitCode> {
    id.trim()
        .parse::<uuid::Uuid>()
        .map(|id| format!("/api/v1/badge-requests/{id}"))
        .map_err(|_| fail(format!("\"{id}\" is not a badge request id")))
}

async fn act(api: &LocalApi, who: &str, action: RequestsAction) -> ExitCode {
    let (path, body, json_out) = match action {
        RequestsAction::List { state, json } => {
            let path = match state.as_deref() {
                Some(s) => match crate::store::RequestState::from_name(s) {
                    Some(state) => format!("/api/v1/badge-requests?state={state}"),
                    None => {
                        return fail(format!(
                            "--state: \"{s}\" is not one of submitted, returned, approved, declined"
                        ));
                    }
                },
                None => "/api/v1/badge-requests".to_owned(),
            };
            // every page, following `next` (its path: the API answers in-process here)
            let mut items = Vec::new();
            let mut path = path;
            loop {
                let page = match api.json(who, Method::GET, &path, None).await {
                    Ok(v) => v,
                    Err(e) => return refused(e),
                };
                items.extend(page["items"].as_array().cloned().unwrap_or_default());
                match page["next"]
                    .as_str()
                    .and_then(|next| next.split_once("/api/"))
                {
                    Some((_, rest)) => path = format!("/api/{rest}"),
                    None => break,
                }
            }
            let v = serde_json::json!({ "items": items });
            return if json {
                print_json(&v)
            } else {
                print_list(&v);
                ExitCode::SUCCESS
            };
        }
        RequestsAction::Show { id, json } => {
            let path = match request_path(&id) {
                Ok(p) => p,
                Err(code) => return code,
            };
            return match api.json(who, Method::GET, &path, None).await {
                Ok(v) if json => print_json(&v),
                Ok(v) => {
                    print_request(&v);
                    ExitCode::SUCCESS
                }
                Err(e) => refused(e),
            };
        }
        RequestsAction::Approve { id } => (request_path(&id).map(|p| p + "/approve"), None, false),
        RequestsAction::Return { id, comment } => (
            request_path(&id).map(|p| p + "/return"),
            Some(json!({ "comment": comment })),
            false,
        ),
        RequestsAction::Decline { id, reason } => (
            request_path(&id).map(|p| p + "/decline"),
            Some(json!({ "reason": reason })),
            false,
        ),
        RequestsAction::Resubmit { id, comment } => (
            request_path(&id).map(|p| p + "/resubmit"),
            comment.map(|c| json!({ "comment": c })),
            false,
        ),
    };
    let path = match path {
        Ok(p) => p,
        Err(code) => return code,
    };
    match api.json(who, Method::POST, &path, body.as_ref()).await {
        Ok(v) if json_out => print_json(&v),
        Ok(v) => {
            print_request(&v);
            ExitCode::SUCCESS
        }
        Err(e) => refused(e),
    }
}

/// The API's refusal as an exit code: 1 for what the request's state or content refuses, 2 for
/// what could not run.
fn refused(e: ApiError) -> ExitCode {
    match e.status {
        StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY => {
            eprintln!("carnet: refused: {}", e.detail);
            ExitCode::from(1)
        }
        StatusCode::NOT_FOUND => fail(e.detail),
        _ => fail(e),
    }
}

fn print_json(v: &Value) -> ExitCode {
    println!("{v:#}");
    ExitCode::SUCCESS
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// The date part of an RFC 3339 time.
fn day(v: &Value, key: &str) -> String {
    text(v, key).chars().take(10).collect()
}

fn print_list(v: &Value) {
    let items = v["items"].as_array().map(Vec::as_slice).unwrap_or_default();
    for r in items {
        println!(
            "{}  {:<9}  {:<30}  {:<24}  {}  (asked by {})",
            text(r, "id"),
            text(r, "state"),
            text(r, "badge_class"),
            r["recipient_name"].as_str().unwrap_or("(anonyme)"),
            day(r, "updated_at"),
            text(r, "requested_by"),
        );
    }
    println!("{} request(s)", items.len());
}

fn print_request(r: &Value) {
    println!(
        "request {}: {} — badge class {}",
        text(r, "id"),
        text(r, "state"),
        text(r, "badge_class")
    );
    println!(
        "  for {}, asked by {}, sent by {}",
        r["recipient_name"].as_str().unwrap_or("(anonyme)"),
        text(r, "requested_by"),
        text(r, "submitted_by")
    );
    if let Some(n) = r["narrative"].as_str() {
        println!("  in their words: {n}");
    }
    for link in r["links"].as_array().into_iter().flatten() {
        println!("  link: {}", link.as_str().unwrap_or(""));
    }
    for f in r["evidence"].as_array().into_iter().flatten() {
        println!(
            "  evidence: {} ({}, {} bytes) {}",
            text(f, "name"),
            text(f, "media_type"),
            f["size"],
            text(f, "url")
        );
    }
    for e in r["events"].as_array().into_iter().flatten() {
        let comment = e["comment"]
            .as_str()
            .map(|c| format!(": {c}"))
            .unwrap_or_default();
        println!(
            "  {}  {} by {}{comment}",
            day(e, "at"),
            text(e, "kind"),
            text(e, "by")
        );
    }
    if let Some(url) = r["award"]["urls"]["png"].as_str() {
        println!(
            "  badge: {}",
            r["award"]["credential_id"].as_str().unwrap_or(url)
        );
        println!("  image: {url}");
    }
}
