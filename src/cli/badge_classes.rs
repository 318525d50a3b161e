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
            &config.institution,
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

/// `carnet badge-classes import [PATH…]`: class files (or folders of them; by default the
/// badge-classes folder) checked as at start-up, then stored for the institution: a new class,
/// or a new version of one (its OB 2.0 address changes; awards keep pointing at theirs).
pub(super) async fn import(settings: &Settings, paths: Vec<std::path::PathBuf>) -> ExitCode {
    let paths = if paths.is_empty() {
        vec![settings.badge_classes_dir.clone()]
    } else {
        paths
    };
    let mut classes = std::collections::BTreeMap::new();
    let mut errors = Vec::new();
    for path in &paths {
        let found = if path.is_dir() {
            crate::badge_class::load_dir(path)
        } else {
            crate::badge_class::load_file(path).map(|c| [(c.slug.clone(), c)].into())
        };
        match found {
            Ok(found) => classes.extend(found),
            Err(mut e) => errors.append(&mut e),
        }
    }
    let app = match super::commands::start(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let known = crate::award_rules::known_referentiels(
        &classes,
        app.store.as_ref(),
        app.issuer.slug(),
        Some(&crate::award_rules::shipped_dir(
            &app.config.badge_classes_dir,
        )),
    )
    .await;
    match known {
        Ok(known) => errors.extend(crate::award_rules::check_classes(&classes, &known).0),
        Err(e) => return fail(e),
    }
    if !errors.is_empty() {
        for e in errors {
            eprintln!("error  {e}");
        }
        eprintln!("Nothing was stored.");
        return ExitCode::from(1);
    }
    let by = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "cli".into())
    );
    let stored =
        crate::institution::import_classes(&app.store, app.issuer.slug(), classes.values(), &by)
            .await;
    app.store.close().await;
    match stored {
        Ok(changed) => {
            for c in classes.values() {
                let what = if changed.contains(&c.slug) {
                    "stored   "
                } else {
                    "unchanged"
                };
                println!("{what} {} — {} (version {})", c.slug, c.name, c.version());
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// `carnet badge-classes export DIR`: the institution's classes as files (TOML and image), the
/// form `import` reads.
pub(super) async fn export(settings: &Settings, dir: &std::path::Path) -> ExitCode {
    let app = match super::commands::start(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    app.store.close().await;
    if let Err(e) = std::fs::create_dir_all(dir) {
        return fail(format!("{}: {e}", dir.display()));
    }
    for c in app.classes.values() {
        let files = [
            (dir.join(format!("{}.toml", c.slug)), c.source.as_bytes()),
            (dir.join(&c.image_name), c.image_png.as_slice()),
        ];
        for (path, bytes) in files {
            if let Err(e) = std::fs::write(&path, bytes) {
                return fail(format!("{}: {e}", path.display()));
            }
        }
        println!("{} — {} (version {})", c.slug, c.name, c.version());
    }
    ExitCode::SUCCESS
}

/// `carnet badge-classes list`: the institution's stored classes.
pub(super) async fn list(settings: &Settings) -> ExitCode {
    let app = match super::commands::start(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    app.store.close().await;
    for c in app.classes.values() {
        println!("{} — {} (version {})", c.slug, c.name, c.version());
    }
    ExitCode::SUCCESS
}
