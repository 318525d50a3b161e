//! `carnet badge-classes check`: the class files, and their award rules against the référentiels
//! carnet knows. A file of its own so that `commands.rs` (which runs `badge-classes`) and
//! `carnets.rs` (which uses `commands::start`) do not call each other.

use std::process::ExitCode;

use super::fail;
use crate::config::Settings;

/// `carnet badge-classes check`: every class file (the same checks as at start-up), and their
/// award rules against the référentiels carnet knows: imported (the store) and shipped (the
/// `referentiels` folder beside the badge-classes folder).
pub(super) async fn check_badge_classes(settings: &Settings) -> ExitCode {
    let classes = match crate::badge_class::load_dir(&settings.badge_classes_dir) {
        Ok(classes) => classes,
        Err(errors) => {
            for e in errors {
                eprintln!("error  {e}");
            }
            return ExitCode::from(1);
        }
    };
    let known = if classes.values().any(|c| !c.rules.is_empty()) {
        let config = match settings.validate() {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let store = match crate::store::open(&config.database_url).await {
            Ok(s) => s,
            Err(e) => {
                return fail(format!(
                    "database {}: {e}",
                    crate::store::DatabaseUrl::new(config.database_url.clone()).redacted()
                ));
            }
        };
        let known = crate::award_rules::known_referentiels(
            &classes,
            store.as_ref(),
            &config.issuer.slug,
            Some(&crate::award_rules::shipped_dir(&config.badge_classes_dir)),
        )
        .await;
        store.close().await;
        match known {
            Ok(k) => k,
            Err(e) => return fail(e),
        }
    } else {
        Vec::new()
    };
    let (errors, warnings) = crate::award_rules::check_classes(&classes, &known);
    for c in classes.values() {
        if !errors.iter().any(|e| e.file == c.file_name()) {
            println!("ok  {} — {}", c.slug, c.name);
        }
    }
    for w in &warnings {
        eprintln!("warning  {w}");
    }
    for e in &errors {
        eprintln!("error  {e}");
    }
    if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
