//! `carnet awards …`: the issuer's awards. `list` is read here (a table, or `--json`), `bulk` is
//! `carnet bulk issue` under the name issue #5 §8 gives it, `revoke` is `carnet revoke`.
//!
//! The list is read from the store a page (200 awards) at a time, newest first, each with its
//! state (valid, revoked, expired). It never shows an email: the store keeps only salted hashes.
//! A recipient appears by the name published in the badge, or « (anonyme) » when none was given.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde_json::json;

use super::commands::open_store;
use super::fail;
use crate::config::Settings;
use crate::store::{Award, AwardCursor, Store, StoreError};

/// Awards read from the store at a time.
const PAGE: u32 = 200;

#[derive(Subcommand)]
pub(super) enum AwardsAction {
    /// List the awards, newest first: id, badge class, date, recipient, state (valid, revoked,
    /// expired), issued by. Never an email (carnet keeps only salted hashes).
    List {
        /// Only the awards of this badge class (its file name in badge-classes/, without .toml).
        #[arg(long)]
        badge_class: Option<String>,
        /// One JSON array, with the credential's URLs.
        #[arg(long)]
        json: bool,
    },
    /// Issue a badge class to every recipient of a CSV file (the same as `carnet bulk issue`):
    /// a progress bar, then a summary. Safe to rerun: nothing is issued twice. Exit code: 0 all
    /// issued or already issued, 1 some rows in error, 2 could not run.
    Bulk {
        /// The badge class (its file name in badge-classes/, without .toml).
        #[arg(long)]
        badge_class: String,
        /// The CSV file: email (required), name, narrative, evidence_url, valid_until, key;
        /// `,` or `;` separated, UTF-8 (docs/BULK.md).
        #[arg(long)]
        csv: PathBuf,
        /// A name for this batch (e.g. 2026-juin): give a new one to award the class again to
        /// the same people.
        #[arg(long)]
        batch: Option<String>,
    },
    /// Withdraw an award (the same as `carnet revoke`): every verifier then sees it revoked.
    Revoke {
        award_id: String,
        /// Why (published in the OB 2.0 RevocationList and the hosted assertion).
        #[arg(long)]
        reason: String,
    },
}

pub(super) async fn run(settings: &Settings, action: AwardsAction) -> ExitCode {
    match action {
        AwardsAction::List { badge_class, json } => list(settings, badge_class, json).await,
        AwardsAction::Bulk {
            badge_class,
            csv,
            batch,
        } => {
            super::bulk::run_bulk(
                settings,
                super::BulkAction::Issue {
                    badge_class,
                    batch,
                    file: csv,
                },
            )
            .await
        }
        AwardsAction::Revoke { award_id, reason } => {
            super::commands::run_revoke(settings, &award_id, &reason).await
        }
    }
}

/// Where an award stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwardState {
    Valid,
    Revoked,
    Expired,
}

impl AwardState {
    pub fn of(award: &Award, now: DateTime<Utc>) -> AwardState {
        if award.revoked_at.is_some() {
            AwardState::Revoked
        } else if award.valid_until.is_some_and(|until| until <= now) {
            AwardState::Expired
        } else {
            AwardState::Valid
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AwardState::Valid => "valid",
            AwardState::Revoked => "revoked",
            AwardState::Expired => "expired",
        }
    }
}

/// The recipient as the list shows it.
fn recipient(award: &Award) -> &str {
    award.recipient_name.as_deref().unwrap_or("(anonyme)")
}

/// One award as `--json` prints it: what the table shows, plus the dates and the URLs.
pub fn award_document(base: &str, award: &Award, now: DateTime<Utc>) -> serde_json::Value {
    let page = format!("{base}/credentials/{}", award.id);
    json!({
        "id": award.id,
        "badge_class": award.badge_class_slug,
        "date": award.created_at,
        "recipient_name": award.recipient_name,
        "state": AwardState::of(award, now).as_str(),
        "issued_by": award.issued_by,
        "valid_from": award.valid_from,
        "valid_until": award.valid_until,
        "revoked_at": award.revoked_at,
        "revocation_reason": award.revocation_reason,
        "credential_id": award.credential_id,
        "url": page,
        "json": format!("{page}.json"),
        "png": format!("{page}.png"),
    })
}

/// Cuts `text` to `width` characters (an ellipsis marks the cut) and pads it to that width.
fn cell(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count > width {
        let cut: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        format!("{text}{}", " ".repeat(width - count))
    }
}

/// One page of awards.
async fn page(
    store: &Store,
    issuer: &str,
    class: Option<&str>,
    after: Option<AwardCursor>,
) -> Result<Vec<Award>, StoreError> {
    match class {
        Some(class) => store.list_awards_of_class(issuer, class, PAGE, after).await,
        None => store.list_awards(issuer, PAGE, after).await,
    }
}

async fn list(settings: &Settings, class: Option<String>, json: bool) -> ExitCode {
    if let Some(c) = &class
        && !crate::text::is_slug(c)
    {
        return fail(format!(
            "--badge-class: \"{c}\" is not a badge class name (lowercase letters, digits, hyphens)"
        ));
    }
    let (config, store) = match open_store(settings).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let code = print_list(&config, store.as_ref(), class.as_deref(), json).await;
    store.close().await;
    code
}

async fn print_list(
    config: &crate::config::Config,
    store: &Store,
    class: Option<&str>,
    json: bool,
) -> ExitCode {
    let now = Utc::now();
    let issuer = config.institution.as_str();
    let mut out = std::io::stdout().lock();
    let (mut total, mut revoked, mut expired) = (0u64, 0u64, 0u64);
    let mut awards = match page(store, issuer, class, None).await {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    if awards.is_empty()
        && let Some(c) = class
        && !config.badge_classes_dir.join(format!("{c}.toml")).is_file()
    {
        return fail(format!(
            "no badge class \"{c}\" in {} and no award of it",
            config.badge_classes_dir.display()
        ));
    }
    // The class column fits the first page's classes (slugs have at most 40 characters).
    let class_width = awards
        .iter()
        .map(|a| a.badge_class_slug.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(11, 40);
    // Written as it is read, so a large store never sits in memory; a closed pipe
    // (`| head`) ends the listing quietly.
    let mut written = if json {
        write!(out, "[")
    } else {
        writeln!(
            out,
            "{}  {}  {}  {}  {}  issued by",
            cell("id", 36),
            cell("badge class", class_width),
            cell("date", 10),
            cell("recipient", 24),
            cell("state", 7)
        )
    };
    loop {
        for a in &awards {
            let state = AwardState::of(a, now);
            match state {
                AwardState::Revoked => revoked += 1,
                AwardState::Expired => expired += 1,
                AwardState::Valid => {}
            }
            written = written.and_then(|()| {
                if json {
                    let sep = if total == 0 { "\n  " } else { ",\n  " };
                    write!(out, "{sep}{}", award_document(&config.base_url, a, now))
                } else {
                    writeln!(
                        out,
                        "{}  {}  {}  {}  {}  {}",
                        a.id,
                        cell(&a.badge_class_slug, class_width),
                        a.created_at.format("%Y-%m-%d"),
                        cell(recipient(a), 24),
                        cell(state.as_str(), 7),
                        a.issued_by
                    )
                }
            });
            total += 1;
        }
        if written.is_err() {
            return ExitCode::SUCCESS;
        }
        if awards.len() < PAGE as usize {
            break;
        }
        let after = awards.last().map(Award::cursor);
        awards = match page(store, issuer, class, after).await {
            Ok(a) => a,
            Err(e) => return fail(e),
        };
    }
    // A closed pipe at the very end is not worth a message either.
    let _ = if json {
        writeln!(out, "{}]", if total == 0 { "" } else { "\n" })
    } else {
        writeln!(
            out,
            "{total} award(s): {} valid, {revoked} revoked, {expired} expired",
            total - revoked - expired
        )
    };
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_cut_with_an_ellipsis_and_padded() {
        assert_eq!(cell("Inès", 6), "Inès  ");
        assert_eq!(cell("Camille Rivière", 8), "Camille…");
        assert_eq!(cell("", 2), "  ");
    }
}
