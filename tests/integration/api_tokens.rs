//! The institution's API tokens (`carnet tokens create | list | revoke`): shown once, kept as a
//! SHA-256, they open the API as `token:NAME` until revoked; the tokens of CARNET_API_TOKENS
//! keep working beside them.

use serde_json::Value;

use crate::common::cli::Installation;
use crate::common::server::{Server, TOKEN};

async fn awards_with(s: &Server, token: &str) -> u16 {
    let auth = format!("Bearer {token}");
    let path = format!("/api/v1/awards/{}", uuid::Uuid::new_v4());
    // an unknown award: 404 once the token is accepted, 401 before
    s.request(None, &path, &[("authorization", &auth)])
        .await
        .status
}

/// A token of `issuer` as `carnet tokens create` makes one, stored; the token and its record.
async fn token_of(
    store: &carnet::store::Store,
    issuer: &str,
    name: &str,
) -> (String, carnet::store::ApiTokenRecord) {
    let (random, _) = carnet::evidence::new_share_token();
    let token = format!("{}{random}", carnet::http::API_TOKEN_PREFIX);
    let new = carnet::store::NewApiToken {
        issuer_slug: issuer,
        name,
        token_sha256: &carnet::evidence::token_sha256(&token),
        created_by: "camille",
    };
    let made = store.create_api_token(&new).await.unwrap();
    (token, made)
}

#[tokio::test]
async fn a_token_opens_the_api_until_it_is_revoked() {
    let s = Server::new().await;
    let store = &s.app.store;
    let (token, made) = token_of(store, "ime", "tableur").await;
    assert_eq!(awards_with(&s, &token).await, 404, "accepted");
    assert_eq!(
        awards_with(&s, TOKEN).await,
        404,
        "the instance's tokens still work"
    );
    let used = store.list_api_tokens("ime").await.unwrap();
    assert!(used[0].last_used_at.is_some(), "its use is kept");
    // a token of the right shape that nobody made; another shape; a token of an institution
    // that is not on this instance
    let unknown = format!("carnet_{}", "A".repeat(43));
    assert_eq!(awards_with(&s, &unknown).await, 401);
    assert_eq!(awards_with(&s, "carnet_court").await, 401);
    let (elsewhere, _) = token_of(store, "ime-autre", "y").await;
    assert_eq!(
        awards_with(&s, &elsewhere).await,
        401,
        "no such institution here"
    );
    // revoked: closed
    store
        .revoke_api_token("ime", made.id, "camille")
        .await
        .unwrap();
    assert_eq!(awards_with(&s, &token).await, 401);
}

#[test]
fn the_cli_shows_a_token_once_lists_it_without_it_and_revokes_it() {
    let c = Installation::new();
    let made = c.run(&["tokens", "create", "--name", "tableur-atelier"]);
    assert_eq!(made.code, 0, "{}", made.describe());
    let token = made.stdout.trim().to_owned();
    assert!(token.starts_with("carnet_") && token.len() == 50, "{token}");
    assert!(made.stderr.contains("shown this once"), "{}", made.stderr);
    let listed = c.run(&["tokens", "list", "--json"]);
    assert_eq!(listed.code, 0, "{}", listed.describe());
    assert!(
        !listed.stdout.contains(&token),
        "a list never shows a token"
    );
    let tokens: Value = listed.json();
    assert_eq!(tokens[0]["name"], "tableur-atelier");
    assert_eq!(tokens[0]["created_by"], "camille");
    assert_eq!(tokens[0]["revoked_at"], Value::Null);
    let id = tokens[0]["id"].as_str().unwrap();
    let revoked = c.run(&["tokens", "revoke", id]);
    assert_eq!(revoked.code, 0, "{}", revoked.describe());
    let table = c.run(&["tokens", "list"]);
    assert!(table.stdout.contains("revoked"), "{}", table.stdout);
    let nameless = c.run(&["tokens", "create", "--name", " "]);
    assert_ne!(nameless.code, 0);
    assert!(nameless.stderr.contains("--name"), "{}", nameless.stderr);
    let unknown = c.run(&["tokens", "revoke", &uuid::Uuid::new_v4().to_string()]);
    assert_ne!(unknown.code, 0);
}
