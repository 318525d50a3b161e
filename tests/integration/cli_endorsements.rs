//! `carnet endorsements invite | list | revoke` (issue #5 §6 and §8), run as an educator would:
//! the built binary, settings from `CARNET_*` variables, a SQLite file and keys in a temporary
//! directory. The link is printed once and works; `list` shows states, never a link; `revoke`
//! makes the link answer 410 (opened through the HTTP router in this process). Exit codes: 0
//! done, 1 refused, 2 could not run; never a panic.

use crate::common::cli::{BADGE_CLASSES, Installation, Output};
use axum::http::{Method, StatusCode};
use carnet::http::local_api::LocalApi;
use clap::Parser;
use serde_json::json;

const SAFETY: &str = "securite-hygiene-au-travail";

/// The endorser's link `carnet endorsements invite` printed.
fn link(out: &Output) -> String {
    out.stdout
        .lines()
        .find(|l| l.starts_with("http://localhost:8080/endorse/"))
        .unwrap_or_else(|| panic!("no link printed: {}", out.stdout))
        .to_owned()
}

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    settings: carnet::config::Settings,
}

/// Issues an award to Léa with `carnet issue`; its id.
fn award(c: &Installation) -> String {
    let out = c.run(&[
        "issue",
        "--badge-class",
        SAFETY,
        "--recipient",
        "lea@example.org",
        "--name",
        "Léa",
        "--out",
        c.path("lea.json").to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout.trim().to_owned()
}

/// The installation's HTTP API in this process (as `carnet serve` would answer), for what the
/// command line does not do: send a badge request, open or answer a link.
async fn api(c: &Installation) -> (LocalApi, carnet::app::App) {
    let args = Args::try_parse_from([
        "carnet".to_owned(),
        format!("--database-url={}", c.database_url()),
        format!("--keys-dir={}", c.path("keys").display()),
        format!("--badge-classes-dir={BADGE_CLASSES}"),
    ])
    .expect("settings parse");
    let config = args.settings.validate().expect("settings validate");
    let app = carnet::app::App::start(config).await.expect("app starts");
    (LocalApi::new(app.clone(), &["test"]).unwrap(), app)
}

/// What the endorser's link answers: its HTTP status.
async fn open(api: &LocalApi, link: &str) -> StatusCode {
    let path = &link[link.find("/endorse/").unwrap()..];
    match api
        .call("test", Method::GET, path, "text/html", Vec::new())
        .await
    {
        Ok((status, _)) => status,
        Err(e) => e.status,
    }
}

/// The endorser's form sent through the link.
async fn answer(api: &LocalApi, link: &str) -> StatusCode {
    let path = &link[link.find("/endorse/").unwrap()..];
    let form = "name=Marc+Dupont&role=Tuteur&organisation=Boulangerie&recommendation=L%C3%A9a+range+son+poste.&consent=yes";
    match api
        .call(
            "test",
            Method::POST,
            path,
            "application/x-www-form-urlencoded",
            form.as_bytes().to_vec(),
        )
        .await
    {
        Ok((status, _)) => status,
        Err(e) => e.status,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_prints_its_link_once_lists_as_pending_and_revoking_closes_the_link() {
    let c = Installation::new();
    let award = award(&c);
    let invited = c.run(&[
        "endorsements",
        "--by",
        "Camille",
        "invite",
        "--award",
        &award,
        "--kind",
        "tutor",
        "--note",
        "Merci de dire ce que Léa fait en stage.",
        "--days",
        "3",
    ]);
    assert_eq!(invited.code, 0, "{}", invited.stderr);
    let link = link(&invited);
    let token = link.rsplit('/').next().unwrap().to_owned();
    assert!(token.len() >= 40, "{link}");
    assert!(
        invited.stdout.contains("It is shown only now"),
        "{}",
        invited.stdout
    );

    // listed as pending, by whom, never with its link
    let listed = c.run(&["endorsements", "list", "--award", &award, "--json"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(!listed.stdout.contains(&token));
    let doc = listed.json();
    let invitation = &doc["invitations"][0];
    assert_eq!(invitation["state"], "pending", "{doc:#}");
    assert_eq!(invitation["endorser_kind"], "tutor");
    assert_eq!(invitation["created_by"], "api:Camille");
    assert_eq!(
        invitation["note"],
        "Merci de dire ce que Léa fait en stage."
    );
    assert!(invitation.get("url").is_none(), "{invitation}");
    assert_eq!(doc["endorsements"], json!([]));
    let id = invitation["id"].as_str().unwrap().to_owned();
    let table = c.run(&["endorsements", "list", "--award", &award]);
    assert!(
        table.stdout.contains(&format!("{id}  pending")),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains(&token));

    // the link works, until it is revoked: then 410
    {
        let (api, app) = api(&c).await;
        assert_eq!(open(&api, &link).await, StatusCode::OK);
        app.store.close().await;
    }
    let revoked = c.run(&["endorsements", "revoke", &id]);
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    assert!(
        revoked.stdout.contains("no longer works"),
        "{}",
        revoked.stdout
    );
    {
        let (api, app) = api(&c).await;
        assert_eq!(open(&api, &link).await, StatusCode::GONE);
        assert_eq!(answer(&api, &link).await, StatusCode::GONE);
        app.store.close().await;
    }
    let doc = c
        .run(&["endorsements", "list", "--award", &award, "--json"])
        .json();
    assert_eq!(doc["invitations"][0]["state"], "revoked");
    assert_eq!(doc["invitations"][0]["revoked_by"], "api:camille");
    assert_eq!(doc["endorsements"], json!([]));

    // `organisation` is the API's `partner`; an answered link gives an endorsement in the badge,
    // and a used invitation cannot be revoked
    let invited = c.run(&[
        "endorsements",
        "invite",
        "--award",
        &award,
        "--kind",
        "organisation",
        "--json",
    ]);
    assert_eq!(invited.code, 0, "{}", invited.stderr);
    let doc = invited.json();
    assert_eq!(doc["endorser_kind"], "partner");
    let used_id = doc["id"].as_str().unwrap().to_owned();
    {
        let (api, app) = api(&c).await;
        assert_eq!(
            answer(&api, doc["url"].as_str().unwrap()).await,
            StatusCode::OK
        );
        app.store.close().await;
    }
    let listed = c.run(&["endorsements", "list", "--award", &award]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        listed.stdout.contains(&format!("{used_id}  used")),
        "{}",
        listed.stdout
    );
    assert!(
        listed
            .stdout
            .contains("Marc Dupont, Tuteur, Boulangerie (partner): in the badge"),
        "{}",
        listed.stdout
    );
    assert!(listed.stdout.contains("2 invitation(s), 1 endorsement(s)"));
    let refused = c.run(&["endorsements", "revoke", &used_id]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("already used"),
        "{}",
        refused.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_badge_request_can_be_endorsed_before_it_is_approved() {
    let c = Installation::new();
    let request = {
        let (api, app) = api(&c).await;
        let body = json!({
            "badge_class": SAFETY,
            "recipient_email": "lea@example.org",
            "recipient_name": "Léa",
            "narrative": "Je mets mes gants.",
            "links": ["https://example.org/lea/gants"],
            "requested_by": "Léa",
        });
        let doc = api
            .json("test", Method::POST, "/api/v1/badge-requests", Some(&body))
            .await
            .unwrap();
        app.store.close().await;
        doc["id"].as_str().unwrap().to_owned()
    };
    let invited = c.run(&[
        "endorsements",
        "invite",
        "--request",
        &request,
        "--kind",
        "educator",
    ]);
    assert_eq!(invited.code, 0, "{}", invited.stderr);
    link(&invited);
    assert!(
        invited.stdout.contains(&format!("badge request {request}")),
        "{}",
        invited.stdout
    );
    let doc = c
        .run(&["endorsements", "list", "--request", &request, "--json"])
        .json();
    assert_eq!(doc["state"], "submitted");
    assert!(doc["reserved_award_id"].is_string(), "{doc:#}");
    assert_eq!(doc["invitations"][0]["state"], "pending");
    assert_eq!(doc["invitations"][0]["badge_request"], request.as_str());
    let table = c.run(&["endorsements", "list", "--request", &request]);
    assert!(
        table
            .stdout
            .contains(&format!("badge request {request}: submitted")),
        "{}",
        table.stdout
    );

    // a declined request cannot be endorsed: refused (1)
    let declined = c.run(&["requests", "decline", &request, "--reason", "Pas encore."]);
    assert_eq!(declined.code, 0, "{}", declined.stderr);
    let refused = c.run(&[
        "endorsements",
        "invite",
        "--request",
        &request,
        "--kind",
        "tutor",
    ]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("declined"), "{}", refused.stderr);
}

#[test]
fn bad_input_is_refused_clearly() {
    let c = Installation::new();
    let award = award(&c);
    let unknown = uuid::Uuid::new_v4().to_string();
    for (args, code, says) in [
        (
            vec!["invite", "--award", "pas-un-id", "--kind", "tutor"],
            2,
            "is not an award id",
        ),
        (
            vec!["invite", "--award", &unknown, "--kind", "tutor"],
            2,
            "no such award",
        ),
        (
            vec!["invite", "--request", &unknown, "--kind", "tutor"],
            2,
            "no such badge request",
        ),
        (
            vec![
                "invite", "--award", &award, "--kind", "tutor", "--days", "61",
            ],
            1,
            "expires_in_days",
        ),
        (
            vec!["invite", "--award", &award, "--kind", "boss"],
            2,
            "boss",
        ),
        (vec!["invite", "--kind", "tutor"], 2, "--award"),
        (
            vec![
                "invite",
                "--award",
                &award,
                "--request",
                &unknown,
                "--kind",
                "tutor",
            ],
            2,
            "cannot be used with",
        ),
        (vec!["list"], 2, "--award"),
        (vec!["revoke", "pas-un-id"], 2, "is not an invitation id"),
        (vec!["revoke", &unknown], 2, "no such invitation"),
        (
            vec!["--by", "a:b", "list", "--award", &award],
            2,
            "without ':'",
        ),
    ] {
        let mut all = vec!["endorsements"];
        all.extend(args.iter().copied());
        let out = c.run(&all);
        assert_eq!(out.code, code, "{all:?}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(says), "{all:?}: {}", out.stderr);
    }
    // nothing was made by the refused calls
    let doc = c
        .run(&["endorsements", "list", "--award", &award, "--json"])
        .json();
    assert_eq!(doc["invitations"], json!([]));
}
