//! `carnet people show --email …`: what the institution's record of one person links, their
//! awards (with their state), carnets and badge requests. The email is used to find the record
//! (its salted key) and to link the awards and requests made before people were recorded; it
//! is never stored nor printed.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use super::commands::start;
use super::fail;
use crate::own_documents::AwardState;
use crate::recipient::Email;
use crate::referentiel::carnet::person_key;

#[derive(Subcommand)]
pub(super) enum PeopleAction {
    /// One person's awards, carnets and requests in the institution.
    Show {
        /// The person's email (read, hashed, never kept).
        #[arg(long)]
        email: String,
        /// One JSON document.
        #[arg(long)]
        json: bool,
    },
}

fn state(s: &AwardState) -> String {
    match s {
        AwardState::Valid { .. } => "valid".into(),
        AwardState::NotYetValid { from } => format!("valid from {}", from.date_naive()),
        AwardState::Expired { since } => format!("expired since {}", since.date_naive()),
        AwardState::Revoked { at, .. } => format!("revoked on {}", at.date_naive()),
    }
}

pub(super) async fn run(settings: &crate::config::Settings, action: PeopleAction) -> ExitCode {
    let PeopleAction::Show { email, json } = action;
    let email = match Email::parse(&email) {
        Ok(e) => e,
        Err(e) => return fail(format!("--email: {e}")),
    };
    let app = match start(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let slug = app.issuer.slug().to_owned();
    crate::issue::link_earlier(&app.store, &slug, &email).await;
    let found = app.store.person(&slug, &person_key(&slug, &email)).await;
    app.store.close().await;
    let person = match found {
        Ok(Some(p)) => p,
        Ok(None) => return fail(format!("{slug} has no record of this person")),
        Err(e) => return fail(e),
    };
    let now = chrono::Utc::now();
    let awards: Vec<_> = person
        .awards
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "badge_class": a.badge_class_slug,
                "credential_id": a.credential_id,
                "issued_at": a.created_at,
                "state": state(&AwardState::of(a, now)),
            })
        })
        .collect();
    if json {
        let doc = json!({
            "institution": slug,
            "since": person.created_at,
            "awards": awards,
            "carnets": person.carnets,
            "badge_requests": person.requests,
        });
        println!("{doc}");
        return ExitCode::SUCCESS;
    }
    println!("In {slug} since {}", person.created_at.date_naive());
    println!("Awards: {}", awards.len());
    for a in &awards {
        println!(
            "  {} {} — {} ({})",
            a["issued_at"]
                .as_str()
                .unwrap_or("")
                .get(..10)
                .unwrap_or(""),
            a["badge_class"].as_str().unwrap_or(""),
            a["state"].as_str().unwrap_or(""),
            a["credential_id"].as_str().unwrap_or("")
        );
    }
    println!("Carnets: {}", person.carnets.len());
    for id in &person.carnets {
        println!("  {id}");
    }
    println!("Badge requests: {}", person.requests.len());
    for id in &person.requests {
        println!("  {id}");
    }
    ExitCode::SUCCESS
}
