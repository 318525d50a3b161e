//! `carnet endorsements …`: endorsements by people without an account (issue #5 §6 and §8) for
//! the educator at the command line: invite an endorser for an award or a badge request (the
//! single-use link is printed once), list the invitations and endorsements, revoke an
//! invitation.
//!
//! Every command goes through the HTTP API in this process ([`crate::http::local_api`]), as
//! `carnet requests` does: the checks (kind, note, days), the states and the answers are the
//! API's (`--kind organisation` is the API's `partner`). The person acting (`--by`, default the
//! login name) is recorded as `api:NAME`. A link's token is never stored, so no command can show
//! it again: `list` shows states, never links.
//!
//! Exit codes: 0 done, 1 refused (a used invitation, a closed request, a field out of bounds),
//! 2 could not run (settings, database, unknown award, request or invitation).

use std::process::ExitCode;

use axum::http::{Method, StatusCode};
use clap::{ArgGroup, Subcommand, ValueEnum};
use serde_json::{Value, json};
use uuid::Uuid;

use super::commands::start;
use super::fail;
use crate::config::Settings;
use crate::http::local_api::{ApiError, LocalApi};

#[derive(Subcommand)]
pub(super) enum EndorsementsAction {
    /// Invite an endorser for an issued award or a badge request (submitted or returned): prints
    /// a single-use link, once (carnet keeps no copy). Send it yourself (email, SMS, QR code).
    #[command(group(ArgGroup::new("target").required(true).args(["award", "request"])))]
    Invite {
        /// The award (the id `carnet awards list` shows): it is signed again with the
        /// endorsement.
        #[arg(long)]
        award: Option<String>,
        /// The badge request (the id `carnet requests list` shows): its award will carry the
        /// endorsement when it is approved.
        #[arg(long)]
        request: Option<String>,
        /// Who the endorser is for the learner.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// A note shown to the endorser on their page (never published).
        #[arg(long)]
        note: Option<String>,
        /// Days the link works (1 to 60; default 14).
        #[arg(long)]
        days: Option<i64>,
        /// Print the invitation as the API answers it (the link in `url`).
        #[arg(long)]
        json: bool,
    },
    /// List the invitations (pending, used, expired, revoked; never their links) and the
    /// endorsements of an award or a badge request.
    #[command(group(ArgGroup::new("target").required(true).args(["award", "request"])))]
    List {
        #[arg(long)]
        award: Option<String>,
        #[arg(long)]
        request: Option<String>,
        /// One JSON object: {"invitations": [...], "endorsements": [...]}.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an unused invitation: its link stops working (a used one cannot be revoked).
    Revoke {
        /// The invitation id (`carnet endorsements list` shows it).
        invitation_id: String,
    },
}

/// The endorser's relation to the learner.
#[derive(Clone, Copy, ValueEnum)]
pub(super) enum KindArg {
    /// A company or internship tutor.
    Tutor,
    /// A colleague at work.
    Colleague,
    /// Another educator.
    Educator,
    /// A partner organisation (the API calls it `partner`).
    #[value(alias = "partner")]
    Organisation,
}

impl KindArg {
    /// The API's name for it.
    fn api_name(self) -> &'static str {
        match self {
            KindArg::Tutor => "tutor",
            KindArg::Colleague => "colleague",
            KindArg::Educator => "educator",
            KindArg::Organisation => "partner",
        }
    }
}

pub(super) async fn run(
    settings: &Settings,
    by: Option<String>,
    action: EndorsementsAction,
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

/// What an invitation or a listing is about.
enum Target {
    Award(Uuid),
    Request(Uuid),
}

impl Target {
    fn from_args(award: Option<String>, request: Option<String>) -> Result<Target, ExitCode> {
        let parse = |id: &str, what: &str| {
            id.trim()
                .parse::<Uuid>()
                .map_err(|_| fail(format!("\"{id}\" is not {what} id")))
        };
        match (award, request) {
            (Some(a), None) => parse(&a, "an award").map(Target::Award),
            (None, Some(r)) => parse(&r, "a badge request").map(Target::Request),
            // clap's group makes one and only one of them required
            _ => Err(fail("give --award ID or --request ID")),
        }
    }

    fn invitations_path(&self) -> String {
        match self {
            Target::Award(id) => format!("/api/v1/awards/{id}/endorsement-invitations"),
            Target::Request(id) => format!("/api/v1/badge-requests/{id}/endorsement-invitations"),
        }
    }
}

async fn act(api: &LocalApi, who: &str, action: EndorsementsAction) -> ExitCode {
    match action {
        EndorsementsAction::Invite {
            award,
            request,
            kind,
            note,
            days,
            json,
        } => {
            let target = match Target::from_args(award, request) {
                Ok(t) => t,
                Err(code) => return code,
            };
            let mut body = json!({ "endorser_kind": kind.api_name() });
            if let Some(note) = note {
                body["note"] = note.into();
            }
            if let Some(days) = days {
                body["expires_in_days"] = days.into();
            }
            match api
                .json(who, Method::POST, &target.invitations_path(), Some(&body))
                .await
            {
                Ok(v) if json => print_json(&v),
                Ok(v) => {
                    print_invited(&v);
                    ExitCode::SUCCESS
                }
                Err(e) => refused(e),
            }
        }
        EndorsementsAction::List {
            award,
            request,
            json,
        } => {
            let target = match Target::from_args(award, request) {
                Ok(t) => t,
                Err(code) => return code,
            };
            match listing(api, who, &target).await {
                Ok(v) if json => print_json(&v),
                Ok(v) => {
                    print_listing(&v);
                    ExitCode::SUCCESS
                }
                Err(e) => refused(e),
            }
        }
        EndorsementsAction::Revoke { invitation_id } => {
            let Ok(id) = invitation_id.trim().parse::<Uuid>() else {
                return fail(format!("\"{invitation_id}\" is not an invitation id"));
            };
            let path = format!("/api/v1/endorsement-invitations/{id}");
            match api.json(who, Method::DELETE, &path, None).await {
                Ok(v) => {
                    println!(
                        "Invitation {id} revoked (by {}, {}).",
                        text(&v, "revoked_by"),
                        day(&v, "revoked_at")
                    );
                    println!("Its link no longer works.");
                    ExitCode::SUCCESS
                }
                Err(e) => refused(e),
            }
        }
    }
}

/// `{"about", "invitations", "endorsements"}` of an award or a badge request, from the API.
async fn listing(api: &LocalApi, who: &str, target: &Target) -> Result<Value, ApiError> {
    match target {
        Target::Award(id) => {
            let invitations = api
                .json(who, Method::GET, &target.invitations_path(), None)
                .await?;
            let endorsements = api
                .json(
                    who,
                    Method::GET,
                    &format!("/api/v1/awards/{id}/endorsements"),
                    None,
                )
                .await?;
            Ok(json!({
                "award": id,
                "invitations": invitations["items"],
                "endorsements": endorsements["items"],
            }))
        }
        Target::Request(id) => {
            let r = api
                .json(
                    who,
                    Method::GET,
                    &format!("/api/v1/badge-requests/{id}"),
                    None,
                )
                .await?;
            Ok(json!({
                "badge_request": id,
                "state": r["state"],
                "reserved_award_id": r["reserved_award_id"],
                "award_id": r["award_id"],
                "endorsements_required": r["endorsements_required"],
                "invitations": r["endorsement_invitations"],
                "endorsements": r["endorsements"],
            }))
        }
    }
}

/// The API's refusal as an exit code: 1 for what the state or a field refuses, 2 for what could
/// not run.
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

fn print_invited(v: &Value) {
    let about = match v["badge_request"].as_str() {
        Some(r) => format!(
            "badge request {r} (its award will be {})",
            text(v, "award_id")
        ),
        None => format!("award {}", text(v, "award_id")),
    };
    println!(
        "Invitation {} ({}) for {about}, until {}:",
        text(v, "id"),
        text(v, "endorser_kind"),
        day(v, "expires_at")
    );
    println!("{}", text(v, "url"));
    println!("Send this link to the endorser. It works once.");
    println!("It is shown only now: carnet keeps no copy of it.");
}

fn print_listing(v: &Value) {
    if let Some(r) = v["badge_request"].as_str() {
        let award = v["award_id"]
            .as_str()
            .or(v["reserved_award_id"].as_str())
            .map(|a| format!(", award {a}"))
            .unwrap_or_default();
        println!("badge request {r}: {}{award}", text(v, "state"));
        if let Some(n) = v["endorsements_required"].as_u64().filter(|n| *n > 0) {
            println!("  its badge class needs {n} endorsement(s) before approval");
        }
    } else {
        println!("award {}", text(v, "award"));
    }
    let invitations = v["invitations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    println!("invitations:");
    for i in invitations {
        let when = match text(i, "state") {
            "used" => format!("used {}", day(i, "used_at")),
            "revoked" => format!(
                "revoked {} by {}",
                day(i, "revoked_at"),
                text(i, "revoked_by")
            ),
            "expired" => format!("expired {}", day(i, "expires_at")),
            _ => format!("until {}", day(i, "expires_at")),
        };
        println!(
            "  {}  {:<8}  {:<10}  made {} by {}, {when}",
            text(i, "id"),
            text(i, "state"),
            text(i, "endorser_kind"),
            day(i, "created_at"),
            text(i, "created_by"),
        );
    }
    let endorsements = v["endorsements"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    println!("endorsements:");
    for e in endorsements {
        let who = &e["endorser"];
        let organisation = who["organisation"]
            .as_str()
            .map(|o| format!(", {o}"))
            .unwrap_or_default();
        let embedded = match e["embedded"].as_bool() {
            Some(true) => "in the badge",
            Some(false) => "not yet in the badge",
            None => "in the badge once approved",
        };
        println!(
            "  {}  {}  {}, {}{organisation} ({}): {embedded}",
            text(e, "id"),
            day(e, "created_at"),
            text(who, "name"),
            text(who, "role"),
            text(who, "kind"),
        );
        for line in text(e, "comment").lines() {
            println!("      {line}");
        }
    }
    println!(
        "{} invitation(s), {} endorsement(s)",
        invitations.len(),
        endorsements.len()
    );
}
