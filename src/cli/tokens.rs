//! `carnet tokens create | list | revoke`: the institution's API tokens. A token is printed once,
//! when it is made (carnet keeps only its SHA-256); `list` shows each with its last use (to the
//! minute) and whether it was revoked; a revoked token opens nothing from then on. The tokens of
//! `CARNET_API_TOKENS` are not listed here: they are the instance's, set where it runs.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;
use uuid::Uuid;

use super::commands::open_store;
use super::fail;
use crate::config::Settings;
use crate::http::API_TOKEN_PREFIX;
use crate::store::{ApiTokenRecord, NewApiToken};

/// The longest token name.
const MAX_NAME: usize = 100;

#[derive(Subcommand)]
pub(super) enum TokensAction {
    /// Make a token for a program or a person (printed once: keep it where it is needed).
    Create {
        /// Who or what holds it (e.g. "tableur-atelier"), shown in every trail as token:NAME.
        #[arg(long)]
        name: String,
    },
    /// The institution's tokens: name, made by and when, last use, revoked or not. Never a token.
    List {
        /// One JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token (its id, as `list` shows it): it opens nothing from now on.
    Revoke { id: String },
}

fn who() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".into())
}

fn document(t: &ApiTokenRecord) -> serde_json::Value {
    json!({
        "id": t.id,
        "name": t.name,
        "created_by": t.created_by,
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
        "revoked_by": t.revoked_by,
    })
}

pub(super) async fn run(settings: &Settings, action: TokensAction) -> ExitCode {
    let (config, store) = match open_store(settings).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let issuer = config.institution.as_str();
    let code = match action {
        TokensAction::Create { name } => {
            let name = name.trim();
            if name.is_empty() {
                return fail("--name: give who or what holds the token");
            }
            if let Err(why) = crate::text::check(name, MAX_NAME, crate::text::Lines::One) {
                return fail(format!("--name {why}"));
            }
            let (random, _) = crate::evidence::new_share_token();
            let token = format!("{API_TOKEN_PREFIX}{random}");
            let new = NewApiToken {
                issuer_slug: issuer,
                name,
                token_sha256: &crate::evidence::token_sha256(&token),
                created_by: &who(),
            };
            match store.create_api_token(&new).await {
                Ok(made) => {
                    eprintln!(
                        "token {} for {name}: shown this once (carnet keeps only a hash of it); revoke it with `carnet tokens revoke {}`",
                        made.id, made.id
                    );
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        TokensAction::List { json } => match store.list_api_tokens(issuer).await {
            Ok(tokens) if json => {
                let all: Vec<_> = tokens.iter().map(document).collect();
                println!("{}", serde_json::Value::Array(all));
                ExitCode::SUCCESS
            }
            Ok(tokens) => {
                println!(
                    "{:<36}  {:<24}  {:<16}  {:<16}  state",
                    "id", "name", "made", "last used"
                );
                for t in &tokens {
                    let at = |d: Option<chrono::DateTime<chrono::Utc>>| {
                        d.map_or("—".to_owned(), |d| d.format("%Y-%m-%d %H:%M").to_string())
                    };
                    let state = match (&t.revoked_at, &t.revoked_by) {
                        (Some(when), by) => format!(
                            "revoked {} by {}",
                            when.format("%Y-%m-%d"),
                            by.as_deref().unwrap_or("?")
                        ),
                        (None, _) => "valid".to_owned(),
                    };
                    println!(
                        "{}  {:<24}  {:<16}  {:<16}  {state}",
                        t.id,
                        t.name.chars().take(24).collect::<String>(),
                        at(Some(t.created_at)),
                        at(t.last_used_at)
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        TokensAction::Revoke { id } => {
            let Ok(id) = id.trim().parse::<Uuid>() else {
                return fail(format!(
                    "\"{id}\" is not a token id (as `carnet tokens list` shows it)"
                ));
            };
            match store.revoke_api_token(issuer, id, &who()).await {
                Ok(Some(t)) => {
                    eprintln!(
                        "token {} ({}) revoked: it opens nothing from now on",
                        t.id, t.name
                    );
                    ExitCode::SUCCESS
                }
                Ok(None) => fail(format!("no token has the id {id}")),
                Err(e) => fail(e),
            }
        }
    };
    store.close().await;
    code
}
