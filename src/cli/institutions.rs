//! `carnet institutions add | list | show | update`: the institutions of this instance, each an
//! issuer with its own keys (made when it is added, sealed in the database) and its own badge
//! classes, référentiels, carnets, requests and tokens. Other commands act for one of them with
//! `--institution SLUG` (default: the first, made from `CARNET_ISSUER_*`).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use super::commands::start;
use super::fail;
use crate::app::App;
use crate::config::Settings;
use crate::institution::{self, Fields, Urls};
use crate::store::Institution;

#[derive(Subcommand)]
pub(super) enum InstitutionsAction {
    /// Add an institution: it gets its own keys, and its documents answer under
    /// /issuers/SLUG/….
    Add {
        /// Its short name in URLs (lowercase letters, digits, hyphens), never changed after.
        slug: String,
        #[command(flatten)]
        fields: FieldArgs,
    },
    /// Every institution of this instance.
    List {
        /// One JSON array.
        #[arg(long)]
        json: bool,
    },
    /// One institution: its profile, its addresses and its keys.
    Show {
        slug: String,
        #[arg(long)]
        json: bool,
    },
    /// Change what an institution says about itself (only the options given; an empty value
    /// removes an optional one).
    Update {
        slug: String,
        #[command(flatten)]
        fields: FieldArgs,
    },
}

#[derive(Args)]
pub(super) struct FieldArgs {
    /// Its name, as recipients and employers read it (needed by add).
    #[arg(long)]
    name: Option<String>,
    /// Its web site.
    #[arg(long)]
    url: Option<String>,
    /// Its contact email (published in its profile; Open Badges 2.0 needs one).
    #[arg(long)]
    email: Option<String>,
    /// One or two sentences about it.
    #[arg(long)]
    description: Option<String>,
    /// Its logo: an https address.
    #[arg(long)]
    image: Option<String>,
    /// fr or en.
    #[arg(long)]
    language: Option<String>,
}

impl FieldArgs {
    /// `base` with the options given: an empty optional value removes it.
    fn apply(self, mut base: Fields) -> Fields {
        let optional = |given: Option<String>, current: Option<String>| match given {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(v.trim().to_owned()),
            None => current,
        };
        if let Some(name) = self.name {
            base.name = name.trim().to_owned();
        }
        base.url = optional(self.url, base.url);
        base.email = optional(self.email, base.email);
        base.description = optional(self.description, base.description);
        base.image = optional(self.image, base.image);
        if let Some(language) = self.language {
            base.language = language.trim().to_owned();
        }
        base
    }
}

fn document(app: &App, i: &Institution) -> serde_json::Value {
    let f = &i.fields;
    json!({
        "slug": i.slug,
        "name": f.name,
        "url": f.url,
        "email": f.email,
        "description": f.description,
        "image": f.image,
        "language": f.language,
        "issuer_id": format!("{}/issuers/{}", app.config.base_url, i.slug),
        "urls": match i.urls { Urls::Instance => "instance", Urls::Scoped => "scoped" },
        "revision": i.revision,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
    })
}

pub(super) async fn run(settings: &Settings, action: InstitutionsAction) -> ExitCode {
    let app = match start(settings).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let code = act(&app, action).await;
    app.store.close().await;
    code
}

async fn act(app: &App, action: InstitutionsAction) -> ExitCode {
    let store = &app.store;
    match action {
        InstitutionsAction::Add { slug, fields } => {
            if fields.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
                return fail("--name: give the institution's name");
            }
            let base = Fields {
                name: String::new(),
                url: None,
                email: None,
                description: None,
                image: None,
                language: "fr".into(),
            };
            let fields = fields.apply(base);
            match institution::create(store, &app.instance_key, &slug, &fields).await {
                Ok(made) => {
                    eprintln!(
                        "Institution {} added, with its own keys: {}/issuers/{}",
                        made.slug, app.config.base_url, made.slug
                    );
                    eprintln!(
                        "Act for it with --institution {} (e.g. carnet tokens create --institution {} --name …).",
                        made.slug, made.slug
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        InstitutionsAction::List { json } => match store.institutions().await {
            Ok(all) if json => {
                let docs: Vec<_> = all.iter().map(|i| document(app, i)).collect();
                println!("{}", serde_json::Value::Array(docs));
                ExitCode::SUCCESS
            }
            Ok(all) => {
                for i in &all {
                    println!("{:<24} {}", i.slug, i.fields.name);
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        InstitutionsAction::Show { slug, json } => {
            let tenant =
                institution::load(store, &app.instance_key, &app.config.base_url, &slug).await;
            let tenant = match tenant {
                Ok(Some(t)) => t,
                Ok(None) => {
                    return fail(format!(
                        "no institution {slug}: see carnet institutions list"
                    ));
                }
                Err(e) => return fail(e),
            };
            let mut doc = document(app, &tenant.institution);
            let issuer = &tenant.issuer;
            let keys: Vec<_> = issuer
                .keys
                .ed25519
                .iter()
                .map(|k| (k.kid.as_str(), "Ed25519", k.active))
                .chain(
                    issuer
                        .keys
                        .rsa
                        .iter()
                        .map(|k| (k.kid.as_str(), "RSA-2048", k.active)),
                )
                .map(|(kid, alg, active)| json!({"kid": kid, "alg": alg, "active": active}))
                .collect();
            doc["did"] = issuer.did().into();
            doc["keys"] = keys.into();
            doc["badge_classes"] = tenant.classes.keys().cloned().collect::<Vec<_>>().into();
            if json {
                println!("{doc}");
            } else {
                let f = &tenant.institution.fields;
                println!("{} — {}", tenant.institution.slug, f.name);
                println!("Issuer: {}", issuer.id());
                println!("DID: {}", issuer.did());
                for (label, value) in [
                    ("web site", &f.url),
                    ("email", &f.email),
                    ("description", &f.description),
                    ("logo", &f.image),
                ] {
                    if let Some(v) = value {
                        println!("{label}: {v}");
                    }
                }
                println!("language: {}", f.language);
                for k in doc["keys"].as_array().into_iter().flatten() {
                    let state = if k["active"] == true {
                        "active "
                    } else {
                        "retired"
                    };
                    println!(
                        "  {state} {} {}",
                        k["alg"].as_str().unwrap_or(""),
                        k["kid"].as_str().unwrap_or("")
                    );
                }
                println!("badge classes: {}", tenant.classes.len());
            }
            ExitCode::SUCCESS
        }
        InstitutionsAction::Update { slug, fields } => {
            let current = match store.institution(&slug).await {
                Ok(Some(i)) => i,
                Ok(None) => {
                    return fail(format!(
                        "no institution {slug}: see carnet institutions list"
                    ));
                }
                Err(e) => return fail(e),
            };
            let fields = fields.apply(current.fields);
            match institution::update(store, &slug, &fields).await {
                Ok(updated) => {
                    eprintln!(
                        "Institution {} updated (revision {}).",
                        updated.slug, updated.revision
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}
