//! `carnet demo`: loads the fictional data set of [`crate::demo`] into the configured instance,
//! then prints a short tour: what is there, and what to open once `carnet serve` runs.
//!
//! Exit codes: 0 loaded (or already there), 2 could not run (what was created stays; running it
//! again completes it).

use std::process::ExitCode;

use super::commands::start;
use super::fail;
use crate::config::Settings;
use crate::demo::Tour;

pub(super) async fn run_demo(settings: &Settings) -> ExitCode {
    let app = match start(settings).await {
        Ok(a) => a,
        Err(code) => return code,
    };
    let result = crate::demo::run(&app).await;
    let base = app.issuer.base_url.clone();
    app.store.close().await;
    match result {
        Ok(tour) => {
            print_tour(&tour, &base);
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!(
            "demo: {e} (what was created stays; run `carnet demo` again to complete it)"
        )),
    }
}

fn print_tour(tour: &Tour, base: &str) {
    println!("carnet demo — fictional data: an IME, two educators, five learners");
    println!(
        "created {}, already there {}{}",
        tour.created,
        tour.existing,
        if tour.created == 0 {
            " (nothing added: the demo was loaded before)"
        } else {
            ""
        }
    );
    if tour.default_issuer {
        println!();
        println!(
            "The issuer is still « IME (nom à configurer) », and the badges carry that name. To give it one,"
        );
        println!(
            "start again from an empty database with e.g.: CARNET_ISSUER_NAME=\"IME Les Tilleuls (fictif)\" \\"
        );
        println!(
            "  CARNET_ISSUER_EMAIL=contact@ime-tilleuls.example.org carnet demo   (the email adds Open Badges 2.0)"
        );
    }
    for (part, lines) in &tour.parts {
        println!();
        println!("{part}:");
        for line in lines {
            println!("  {line}");
        }
    }
    println!();
    println!("Try:");
    println!("  carnet awards list");
    println!("  carnet requests list");
    if let Some((carnet, class)) = &tour.to_confirm {
        println!("  carnet carnets proposals {carnet}");
        println!("  carnet carnets confirm {carnet} {class}");
    }
    if let Some(award) = &tour.endorsed_award {
        println!("  carnet endorsements list --award {award}");
    }
    println!();
    println!("Then `carnet serve` and open:");
    println!("  {base}/verify                      the verification page (drop a badge image)");
    for (what, id) in &tour.badges {
        println!("  {base}/credentials/{id}   {what}");
    }
    println!(
        "  {base}/badge-classes/{}   a badge class",
        crate::demo::data::REQUEST_CLASS
    );
    if let Some(link) = &tour.endorse_link {
        println!("  {link}");
        println!(
            "      the page of an endorser: write a recommendation for Inès (the link works once; it is shown only now)"
        );
    }
    println!("With an API token (CARNET_API_TOKENS=\"atelier:<a secret of 24+ characters>\"):");
    println!("  curl -H \"Authorization: Bearer <the secret>\" {base}/api/v1/badge-requests");
    if let Some((request, file)) = &tour.approved_request {
        println!(
            "  curl -H \"Authorization: Bearer <the secret>\" {base}/api/v1/badge-requests/{request}"
        );
        if let Some(file) = file {
            println!(
                "  curl -H \"Authorization: Bearer <the secret>\" -o preuve.png {base}/evidence/{file}   (private evidence)"
            );
        }
    }
}
