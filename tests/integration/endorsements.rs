//! Endorsements by people without an account (issue #5 §6), against a real server: the
//! single-use, expiring link; the endorser's page and its bounded fields; the award that carries
//! the endorsement (before issuing, through a badge request; after, re-signed); a class's minimum;
//! carnet's verifier on endorsed, tampered and standalone endorsements; and the third-party tools
//! (DCC verifier, IMS OB 2.0 validator) when they are installed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use crate::common;
use common::cli::{Cli, Output};
use common::server::*;

const AUTH: &str = "Bearer 0123456789abcdefghijklmnopqrstuv";
const ISSUER_EMAIL: &str = "--issuer-email=contact@ime.example";
const FORM: &str = "application/x-www-form-urlencoded";

async fn post_json(s: &Server, path: &str, body: Value) -> Resp {
    s.request(
        Some(body.to_string().into_bytes()),
        path,
        &[("content-type", JSON), ("authorization", AUTH)],
    )
    .await
}

async fn get_api(s: &Server, path: &str) -> Value {
    let r = s.request(None, path, &[("authorization", AUTH)]).await;
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    r.json()
}

async fn delete(s: &Server, path: &str) -> Resp {
    let r = s
        .client
        .delete(s.url(path))
        .header("authorization", AUTH)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    Resp {
        status,
        headers,
        body: r.bytes().await.unwrap().to_vec(),
    }
}

/// A badge request for Léa with a link (the class requires evidence).
async fn request(s: &Server) -> String {
    let r = post_json(
        s,
        "/api/v1/badge-requests",
        json!({
            "badge_class": CLASS,
            "recipient_email": "lea@example.org",
            "recipient_name": "Léa",
            "narrative": "Je mets mes gants à l'atelier.",
            "links": ["https://video.example.org/lea"],
            "requested_by": "Léa",
        }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

async fn invite(s: &Server, path: &str, body: Value) -> Value {
    let r = post_json(s, path, body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(
        r.header("location")
            .contains("/api/v1/endorsement-invitations/")
    );
    r.json()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

fn good_form() -> Vec<u8> {
    form(&[
        ("name", "Marc Dupont"),
        ("role", "Tuteur de stage"),
        ("organisation", "Boulangerie Martin"),
        (
            "recommendation",
            "Léa met ses gants et ses lunettes sans qu'on le lui dise.\nElle range son poste.",
        ),
        ("consent", "yes"),
    ])
}

/// The path of an invitation's link (`/endorse/{token}`).
fn link_path(invitation: &Value) -> String {
    let url = invitation["url"].as_str().expect("the link is given once");
    let at = url.find("/endorse/").expect("an endorse link");
    url[at..].to_owned()
}

async fn submit(s: &Server, link: &str, body: Vec<u8>) -> Resp {
    s.request(Some(body), link, &[("content-type", FORM)]).await
}

async fn approve(s: &Server, id: &str) -> Resp {
    post_json(
        s,
        &format!("/api/v1/badge-requests/{id}/approve"),
        json!({}),
    )
    .await
}

fn check<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .collect()
}

#[tokio::test]
async fn an_endorser_endorses_a_request_once_and_the_award_carries_it() {
    let s = Server::with_args(&[ISSUER_EMAIL]).await;
    let id = request(&s).await;
    let inv = invite(
        &s,
        &format!("/api/v1/badge-requests/{id}/endorsement-invitations"),
        json!({"endorser_kind": "tutor", "note": "Merci de dire ce que Léa fait en stage."}),
    )
    .await;
    assert_eq!(inv["state"], "pending");
    assert_eq!(inv["badge_request"], id.as_str());
    // a second endorser, who answers only after the approval
    let late = invite(
        &s,
        &format!("/api/v1/badge-requests/{id}/endorsement-invitations"),
        json!({"endorser_kind": "educator"}),
    )
    .await;
    assert_eq!(
        late["award_id"], inv["award_id"],
        "one reserved id per request"
    );
    let reserved = inv["award_id"].as_str().unwrap().to_owned();
    let link = link_path(&inv);
    let token = link.rsplit('/').next().unwrap().to_owned();
    // only the token's hash is stored: the API never shows the link again
    let listed = get_api(
        &s,
        &format!("/api/v1/badge-requests/{id}/endorsement-invitations"),
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert_eq!(listed["items"][0]["id"], inv["id"]);
    assert!(listed["items"][0].get("url").is_none());
    assert!(!listed.to_string().contains(&token));

    // the page: what is endorsed, by whom it was asked, never the email; French, then English
    let page = s.get_html(&link).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(html.contains("Sécurité et hygiène au travail"), "{html}");
    assert!(html.contains("Recommander Léa"), "{html}");
    assert!(html.contains("Merci de dire ce que Léa fait en stage."));
    assert!(html.contains("seront dans le badge"));
    assert!(html.contains("<label for=\"consent\">"));
    assert!(!html.contains("lea@example.org") && !html.contains("<script"));
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert_eq!(
        page.header("content-security-policy"),
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; \
         frame-ancestors 'none'"
    );
    assert_eq!(page.header("cache-control"), "no-store");
    assert_eq!(page.header("x-robots-tag"), "noindex");
    assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"));
    // in the page shell: the institution, the language switch (to this very link)
    assert!(html.contains("<header class=\"site-header\">"), "{html}");
    assert!(html.contains(&format!("href=\"{link}?lang=en\"")), "{html}");
    let en = s.get_html(&format!("{link}?lang=en")).await;
    assert!(en.text().contains("Endorse Léa"), "{}", en.text());
    assert!(en.text().contains("<html lang=\"en\">"));

    // submitted: thanks; the same link again: 410, nothing stored twice
    let done = submit(&s, &link, good_form()).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert!(done.text().contains("Merci"), "{}", done.text());
    let again = submit(&s, &link, good_form()).await;
    assert_eq!(again.status, 410, "{}", again.text());
    assert!(again.text().contains("déjà servi"));
    assert_eq!(s.get_html(&link).await.status, 410);
    let doc = get_api(&s, &format!("/api/v1/badge-requests/{id}")).await;
    assert_eq!(doc["endorsements_required"], 0);
    assert_eq!(doc["reserved_award_id"], reserved.as_str());
    assert_eq!(doc["endorsements"].as_array().unwrap().len(), 1, "{doc}");
    let e = &doc["endorsements"][0];
    assert_eq!(e["endorser"]["name"], "Marc Dupont");
    assert_eq!(e["embedded"], Value::Null, "no award yet");
    assert_eq!(doc["endorsement_invitations"][0]["state"], "used");
    assert_eq!(doc["endorsement_invitations"][1]["state"], "pending");
    assert_eq!(doc["endorsement_invitations"][0]["endorsement"], e["id"]);

    // approval issues under the reserved id, with the endorsement embedded
    let approved = approve(&s, &id).await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    let approved = approved.json();
    assert_eq!(approved["award_id"], reserved.as_str());
    assert_eq!(approved["endorsements"][0]["embedded"], true);
    let credential = s.form(&approved["award"], "json").await.json();
    let embedded = &credential["endorsement"][0];
    assert_eq!(embedded["id"], e["url"]);
    assert_eq!(
        embedded["type"],
        json!(["VerifiableCredential", "EndorsementCredential"])
    );
    assert_eq!(embedded["credentialSubject"]["id"], credential["id"]);
    assert_eq!(embedded["issuer"]["id"], e["endorser"]["profile"]);
    let description = embedded["issuer"]["description"].as_str().unwrap();
    assert!(
        description.contains("créé par carnet pour IME Les Tilleuls"),
        "{description}"
    );
    assert!(description.contains("n'a pas vérifié son identité"));
    assert!(
        embedded["proof"][0]["verificationMethod"]
            .as_str()
            .unwrap()
            .contains(":endorsers:")
    );

    // carnet's verifier: the badge and its endorsement are valid
    let report = s
        .verify(JSON, serde_json::to_vec(&credential).unwrap(), None)
        .await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    let checks = check(&report, "endorsement");
    assert_eq!(checks.len(), 1, "{report:#}");
    assert_eq!(checks[0]["status"], "pass");
    assert_eq!(checks[0]["path"], "endorsement[0]");
    assert_eq!(
        report["summary"]["endorsements"][0]["issuer_name"],
        "Marc Dupont"
    );
    // the report still follows the documented schema
    let mut schema = s.get("/api/v1/openapi.json").await.json();
    schema["$ref"] = json!("#/components/schemas/Report");
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // the baked image carries it too
    let png = s.form(&approved["award"], "png").await.body;
    let report = s.verify(PNG, png, None).await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    assert_eq!(check(&report, "endorsement")[0]["status"], "pass");

    // the standalone endorsement verifies, as a document of its own
    let url = e["url"].as_str().unwrap();
    let standalone = s.get(&format!("{url}.json")).await;
    assert_eq!(standalone.status, 200);
    assert_eq!(standalone.header("content-type"), "application/vc+ld+json");
    let report = s.verify(JSON, standalone.body.clone(), None).await;
    assert_eq!(report["verdict"], "valid", "{report:#}");

    // the endorser's documents: Profile (controller document), DID document, OB 2.0 Profile
    let profile_url = e["endorser"]["profile"].as_str().unwrap();
    let profile = s.get(profile_url).await.json();
    assert_eq!(profile["id"], profile_url);
    assert_eq!(
        profile["assertionMethod"][0],
        embedded["proof"][0]["verificationMethod"]
    );
    let did = s.get(&format!("{profile_url}/did.json")).await.json();
    assert_eq!(did["verificationMethod"][0]["controller"], profile_url);
    let page = s.get_html(profile_url).await.text();
    assert!(page.contains("pas vérifié son identité"), "{page}");
    assert!(page.contains("<h1>Marc Dupont</h1>"), "{page}");
    assert!(page.contains("Rôle déclaré"), "{page}");
    let page = s.get_html(&format!("{profile_url}?lang=en")).await.text();
    assert!(page.contains("did not check their identity"), "{page}");
    // the endorsement's page for people: who wrote it, what, in the page shell
    let page = s.get_html(url).await;
    assert_eq!(page.status, 200);
    let page = page.text();
    assert!(
        page.contains("<h1>Recommandation de Marc Dupont</h1>"),
        "{page}"
    );
    assert!(page.contains("Elle range son poste."), "{page}");
    assert!(page.contains("<header class=\"site-header\">"), "{page}");
    assert!(page.contains(&format!("href=\"{url}.json\"")), "{page}");

    // OB 2.0: the assertion names the hosted Endorsement, whose claim is the assertion
    let assertion_url = approved["award"]["ob2"]["assertion"].as_str().unwrap();
    let assertion = s.get(assertion_url).await.json();
    let ob2_url = e["ob2_url"].as_str().unwrap();
    assert_eq!(assertion["endorsement"], json!([ob2_url]));
    let ob2 = s.get(ob2_url).await.json();
    assert_eq!(ob2["type"], "Endorsement");
    assert_eq!(ob2["claim"]["id"], assertion_url);
    let ob2_issuer = s.get(ob2["issuer"].as_str().unwrap()).await.json();
    assert_eq!(ob2_issuer["name"], "Marc Dupont");
    let jws = s
        .get(approved["award"]["ob2"]["jws"].as_str().unwrap())
        .await
        .text();
    let payload = carnet::ob2::unverified_assertion(jws.trim()).unwrap();
    assert_eq!(payload["endorsement"], json!([ob2_url]));

    // the late endorser: the issued award is re-signed with the second endorsement
    let done = submit(&s, &link_path(&late), good_form()).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert!(
        done.text().contains("maintenant dans le badge"),
        "{}",
        done.text()
    );
    let now = s.form(&approved["award"], "json").await.json();
    assert_eq!(now["endorsement"].as_array().unwrap().len(), 2);
    assert_eq!(now["id"], credential["id"]);
    let report = s
        .verify(JSON, serde_json::to_vec(&now).unwrap(), None)
        .await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    let assertion_now = s.get(assertion_url).await.json();
    assert_eq!(assertion_now["endorsement"].as_array().unwrap().len(), 2);

    // nothing public names the endorser's or the recipient's email
    for text in [
        credential.to_string(),
        profile.to_string(),
        ob2.to_string(),
        ob2_issuer.to_string(),
    ] {
        assert!(!text.contains("lea@example.org"));
    }
    s.shutdown().await;
}

#[tokio::test]
async fn an_issued_award_is_resigned_with_its_endorsement_under_the_same_id_and_slot() {
    let s = Server::with_args(&[ISSUER_EMAIL]).await;
    let award = s.issue().await;
    let award_id = award["id"].as_str().unwrap().to_owned();
    let before = s.form(&award, "json").await.json();
    let inv = invite(
        &s,
        &format!("/api/v1/awards/{award_id}/endorsement-invitations"),
        json!({"endorser_kind": "colleague", "expires_in_days": 60}),
    )
    .await;
    assert_eq!(inv["award_id"], award_id.as_str());
    let link = link_path(&inv);
    let page = s.get_html(&link).await.text();
    assert!(page.contains("collègue de travail"), "{page}");
    let done = submit(&s, &link, good_form()).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert!(
        done.text().contains("maintenant dans le badge"),
        "{}",
        done.text()
    );

    let after = s.form(&award, "json").await.json();
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["credentialStatus"], before["credentialStatus"]);
    assert_eq!(after["validFrom"], before["validFrom"]);
    assert_eq!(after["endorsement"].as_array().unwrap().len(), 1);
    assert_ne!(after["proof"], before["proof"]);
    let report = s
        .verify(JSON, serde_json::to_vec(&after).unwrap(), None)
        .await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    assert_eq!(check(&report, "endorsement")[0]["status"], "pass");
    // the VC-JWT was made again and carries it too
    let jwt = s.form(&award, "jwt").await.body;
    let report = s.verify("text/plain", jwt, None).await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    assert_eq!(check(&report, "endorsement")[0]["status"], "pass");
    // the OB 2.0 signed assertion was signed again with the endorsement
    let jws = s.get(award["ob2"]["jws"].as_str().unwrap()).await.text();
    let payload = carnet::ob2::unverified_assertion(jws.trim()).unwrap();
    assert_eq!(payload["endorsement"].as_array().unwrap().len(), 1);
    let report = s.verify("text/plain", jws.into_bytes(), None).await;
    assert_eq!(report["verdict"], "valid", "{report:#}");

    let listed = get_api(&s, &format!("/api/v1/awards/{award_id}/endorsements")).await;
    assert_eq!(listed["items"][0]["embedded"], true);
    let events = s
        .app
        .store
        .award_events(award_id.parse().unwrap())
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["issued", "endorsed"]);
    assert!(events[1].actor.starts_with("endorser:"));

    // a second endorser: appended, the first kept
    let inv = invite(
        &s,
        &format!("/api/v1/awards/{award_id}/endorsement-invitations"),
        json!({"endorser_kind": "partner"}),
    )
    .await;
    let done = submit(&s, &link_path(&inv), good_form()).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let after = s.form(&award, "json").await.json();
    assert_eq!(after["endorsement"].as_array().unwrap().len(), 2);
    let report = s
        .verify(JSON, serde_json::to_vec(&after).unwrap(), None)
        .await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    assert_eq!(check(&report, "endorsement").len(), 2);
    s.shutdown().await;
}

#[tokio::test]
async fn expired_revoked_and_unknown_links_get_a_clear_page_and_store_nothing() {
    let s = Server::new().await;
    let award = s.issue().await;
    let award_id: uuid::Uuid = award["id"].as_str().unwrap().parse().unwrap();

    // expired: an invitation whose time ran out
    let (token, token_sha256) = carnet::evidence::new_share_token();
    let now = Utc::now();
    s.app
        .store
        .create_endorsement_invitation(&carnet::store::NewInvitation {
            id: uuid::Uuid::new_v4(),
            issuer_slug: s.app.issuer.slug().to_owned(),
            token_sha256,
            award_id,
            request_id: None,
            badge_class_slug: CLASS.to_owned(),
            endorser_kind: carnet::store::EndorserKind::Tutor,
            note: None,
            created_by: "test".into(),
            created_at: now - chrono::Duration::days(15),
            expires_at: now - chrono::Duration::days(1),
        })
        .await
        .unwrap();
    let expired = format!("/endorse/{token}");
    let page = s.get_html(&expired).await;
    assert_eq!(page.status, 410);
    assert!(page.text().contains("expiré"), "{}", page.text());
    let r = submit(&s, &expired, good_form()).await;
    assert_eq!(r.status, 410, "{}", r.text());

    // revoked: the educator cancels the link; revoking twice keeps it revoked
    let inv = invite(
        &s,
        &format!("/api/v1/awards/{award_id}/endorsement-invitations"),
        json!({"endorser_kind": "educator"}),
    )
    .await;
    let api = inv["api_url"].as_str().unwrap().to_owned();
    let r = delete(&s, &api).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["state"], "revoked");
    assert_eq!(r.json()["revoked_by"], "api:test");
    assert_eq!(delete(&s, &api).await.json()["state"], "revoked");
    let link = link_path(&inv);
    let page = s.get_html(&link).await;
    assert_eq!(page.status, 410);
    assert!(page.text().contains("annulé"), "{}", page.text());
    assert_eq!(submit(&s, &link, good_form()).await.status, 410);

    // unknown or malformed links: 404, in words
    for path in [
        "/endorse/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        format!("/endorse/{}", "a".repeat(300)),
        "/endorse/%3Cscript%3E".to_owned(),
    ] {
        let page = s.get_html(&path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.text().contains("ne marche pas"));
        assert!(!page.text().contains("<script>"));
        assert_eq!(submit(&s, &path, good_form()).await.status, 404);
    }

    // nothing was stored; a used link cannot be revoked
    assert!(
        s.app
            .store
            .award_endorsements(award_id)
            .await
            .unwrap()
            .is_empty()
    );
    let inv = invite(
        &s,
        &format!("/api/v1/awards/{award_id}/endorsement-invitations"),
        json!({"endorser_kind": "educator"}),
    )
    .await;
    assert_eq!(submit(&s, &link_path(&inv), good_form()).await.status, 200);
    let r = delete(&s, inv["api_url"].as_str().unwrap()).await;
    assert_eq!(r.status, 409, "{}", r.text());
    s.shutdown().await;
}

#[tokio::test]
async fn invalid_or_oversize_fields_are_refused_precisely_and_nothing_is_stored() {
    let s = Server::new().await;
    let award = s.issue().await;
    let award_id = award["id"].as_str().unwrap().to_owned();
    let inv = invite(
        &s,
        &format!("/api/v1/awards/{award_id}/endorsement-invitations"),
        json!({"endorser_kind": "tutor"}),
    )
    .await;
    let link = link_path(&inv);
    let long_name = "x".repeat(201);
    let long_text = "é".repeat(4001);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("name", &long_name),
                ("role", "Tuteur"),
                ("recommendation", "Bien."),
                ("consent", "yes"),
            ],
            "200 caractères au plus",
        ),
        (
            vec![
                ("name", "Marc"),
                ("role", "Tuteur"),
                ("recommendation", &long_text),
                ("consent", "yes"),
            ],
            "4000 caractères au plus",
        ),
        (
            vec![
                ("name", "Marc"),
                ("role", "Tuteur"),
                ("recommendation", "Bien."),
            ],
            "Cochez la case",
        ),
        (
            vec![
                ("name", " "),
                ("role", ""),
                ("recommendation", "Bien."),
                ("consent", "yes"),
            ],
            "Écrivez votre nom",
        ),
        (
            vec![
                ("name", "Marc\u{7}"),
                ("role", "Tuteur"),
                ("recommendation", "Bien."),
                ("consent", "yes"),
            ],
            "une seule ligne",
        ),
    ];
    for (fields, expected) in cases {
        let r = submit(&s, &link, form(&fields)).await;
        assert_eq!(r.status, 422, "{expected}: {}", r.text());
        let html = r.text();
        assert!(html.contains(expected), "{expected}: {html}");
        assert!(html.contains("role=\"alert\""));
        // the field is marked, and says what is wrong with it
        let field = fields
            .iter()
            .map(|(k, _)| *k)
            .chain(["consent"])
            .find(|k| html.contains(&format!("id=\"{k}-error\"")))
            .unwrap_or_else(|| panic!("no field error: {html}"));
        let input = &html[html.find(&format!("id=\"{field}\" name=")).unwrap()..];
        let input = &input[..input.find('>').unwrap()];
        assert!(input.contains("aria-invalid=\"true\""), "{input}");
        assert!(input.contains(&format!("{field}-error\"")), "{input}");
        // what was typed is given back, so nothing is lost
        if fields.contains(&("role", "Tuteur")) {
            assert!(html.contains("value=\"Tuteur\""), "{html}");
        }
    }
    // a body over the limit, a JSON body, bytes that are not UTF-8 (read as replacement
    // characters, so the other fields are missing)
    let huge = form(&[("recommendation", &"a".repeat(70 * 1024))]);
    assert_eq!(submit(&s, &link, huge).await.status, 413);
    let r = s
        .request(Some(b"{}".to_vec()), &link, &[("content-type", JSON)])
        .await;
    assert_eq!(r.status, 415, "{}", r.text());
    assert_eq!(submit(&s, &link, b"name=%FF%FE".to_vec()).await.status, 422);
    // nothing stored: the link still works
    assert!(
        s.app
            .store
            .award_endorsements(award_id.parse().unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.get_html(&link).await.status, 200);
    assert_eq!(submit(&s, &link, good_form()).await.status, 200);
    s.shutdown().await;
}

#[tokio::test]
async fn concurrent_submissions_of_one_link_store_one_endorsement() {
    let s = Server::new().await;
    let award = s.issue().await;
    let award_id = award["id"].as_str().unwrap().to_owned();
    let inv = invite(
        &s,
        &format!("/api/v1/awards/{award_id}/endorsement-invitations"),
        json!({"endorser_kind": "tutor"}),
    )
    .await;
    let link = link_path(&inv);
    let (a, b, c) = tokio::join!(
        submit(&s, &link, good_form()),
        submit(&s, &link, good_form()),
        submit(&s, &link, good_form()),
    );
    let mut statuses = vec![a.status, b.status, c.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 410, 410]);
    let stored = s
        .app
        .store
        .award_endorsements(award_id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let credential = s.form(&award, "json").await.json();
    assert_eq!(credential["endorsement"].as_array().unwrap().len(), 1);
    s.shutdown().await;
}

#[tokio::test]
async fn invitations_are_checked_and_need_the_token() {
    let s = Server::new().await;
    let id = request(&s).await;
    let path = format!("/api/v1/badge-requests/{id}/endorsement-invitations");
    let r = s
        .request(
            Some(json!({"endorser_kind": "tutor"}).to_string().into_bytes()),
            &path,
            &[("content-type", JSON)],
        )
        .await;
    assert_eq!(r.status, 401);
    for (body, field) in [
        (json!({}), "endorser_kind"),
        (json!({"endorser_kind": "boss"}), "endorser_kind"),
        (
            json!({"endorser_kind": "tutor", "expires_in_days": 61}),
            "expires_in_days",
        ),
        (
            json!({"endorser_kind": "tutor", "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"endorser_kind": "tutor", "note": "n".repeat(1001)}),
            "note",
        ),
        (
            json!({"endorser_kind": "tutor", "email": "x@y.z"}),
            "(body)",
        ),
    ] {
        let r = post_json(&s, &path, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text());
        assert_eq!(r.json()["field"], field, "{body}");
    }
    let unknown =
        "/api/v1/badge-requests/00000000-0000-4000-8000-000000000000/endorsement-invitations";
    assert_eq!(
        post_json(&s, unknown, json!({"endorser_kind": "tutor"}))
            .await
            .status,
        404
    );
    // a declined request, a revoked award: 409
    let r = post_json(
        &s,
        &format!("/api/v1/badge-requests/{id}/decline"),
        json!({"reason": "pas encore"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post_json(&s, &path, json!({"endorser_kind": "tutor"})).await;
    assert_eq!(r.status, 409, "{}", r.text());
    let award = s.issue().await;
    let award_id = award["id"].as_str().unwrap();
    let r = post_json(
        &s,
        &format!("/api/v1/awards/{award_id}/revoke"),
        json!({"reason": "erreur"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post_json(
        &s,
        &format!("/api/v1/awards/{award_id}/endorsement-invitations"),
        json!({"endorser_kind": "tutor"}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text());
    s.shutdown().await;
}

#[tokio::test]
async fn an_invitation_link_for_a_declined_request_or_a_revoked_award_says_so() {
    let s = Server::new().await;
    let id = request(&s).await;
    let inv = invite(
        &s,
        &format!("/api/v1/badge-requests/{id}/endorsement-invitations"),
        json!({"endorser_kind": "tutor"}),
    )
    .await;
    let r = post_json(
        &s,
        &format!("/api/v1/badge-requests/{id}/decline"),
        json!({"reason": "pas encore"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let page = s.get_html(&link_path(&inv)).await;
    assert_eq!(page.status, 410);
    assert!(page.text().contains("refusée"), "{}", page.text());

    let award = s.issue().await;
    let award_id = award["id"].as_str().unwrap();
    let inv = invite(
        &s,
        &format!("/api/v1/awards/{award_id}/endorsement-invitations"),
        json!({"endorser_kind": "tutor"}),
    )
    .await;
    post_json(
        &s,
        &format!("/api/v1/awards/{award_id}/revoke"),
        json!({"reason": "erreur"}),
    )
    .await;
    let r = submit(&s, &link_path(&inv), good_form()).await;
    assert_eq!(r.status, 410);
    assert!(r.text().contains("retiré"), "{}", r.text());
    s.shutdown().await;
}

/// A copy of the shipped class that requires `minimum` endorsements.
fn classes_requiring(minimum: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let shipped = Path::new(CLASSES_DIR);
    let toml = std::fs::read_to_string(shipped.join(format!("{CLASS}.toml"))).unwrap();
    let toml = toml.replace("minimum = 0", &format!("minimum = {minimum}"));
    assert!(toml.contains(&format!("minimum = {minimum}")));
    std::fs::write(dir.path().join(format!("{CLASS}.toml")), toml).unwrap();
    std::fs::copy(
        shipped.join(format!("{CLASS}.png")),
        dir.path().join(format!("{CLASS}.png")),
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn a_class_that_requires_endorsements_is_not_approved_before_they_are_in() {
    let classes = classes_requiring(2);
    let s =
        Server::with_args(&[&format!("--badge-classes-dir={}", classes.path().display())]).await;
    // issued directly (API, CLI, bulk), such a class is refused: endorsers are invited on a request
    let direct = post_json(
        &s,
        "/api/v1/awards",
        json!({"badge_class": CLASS, "recipient_email": "lea.martin@example.org"}),
    )
    .await;
    assert_eq!(direct.status, 422, "{}", direct.text());
    assert_eq!(direct.json()["field"], "endorsements");
    let detail = direct.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("2 missing") && detail.contains("badge request"),
        "{detail}"
    );
    let id = request(&s).await;
    let r = approve(&s, &id).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let problem = r.json();
    assert_eq!(problem["field"], "endorsements");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("0 received, 2 missing"), "{detail}");
    let doc = get_api(&s, &format!("/api/v1/badge-requests/{id}")).await;
    assert_eq!(doc["endorsements_required"], 2);
    assert_eq!(doc["state"], "submitted");

    for kind in ["tutor", "colleague"] {
        let inv = invite(
            &s,
            &format!("/api/v1/badge-requests/{id}/endorsement-invitations"),
            json!({"endorser_kind": kind}),
        )
        .await;
        if kind == "tutor" {
            assert_eq!(submit(&s, &link_path(&inv), good_form()).await.status, 200);
            let r = approve(&s, &id).await;
            assert_eq!(r.status, 422, "{}", r.text());
            assert!(
                r.json()["detail"]
                    .as_str()
                    .unwrap()
                    .contains("1 received, 1 missing")
            );
        } else {
            assert_eq!(submit(&s, &link_path(&inv), good_form()).await.status, 200);
        }
    }
    let r = approve(&s, &id).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let approved = r.json();
    let credential = s.form(&approved["award"], "json").await.json();
    assert_eq!(credential["endorsement"].as_array().unwrap().len(), 2);
    let report = s
        .verify(JSON, serde_json::to_vec(&credential).unwrap(), None)
        .await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_tampered_endorsement_is_shown_not_verified_even_when_the_issuer_signs_again() {
    let s = Server::new().await;
    let award = s.issue().await;
    let award_id = award["id"].as_str().unwrap().to_owned();
    let inv = invite(
        &s,
        &format!("/api/v1/awards/{award_id}/endorsement-invitations"),
        json!({"endorser_kind": "tutor"}),
    )
    .await;
    assert_eq!(submit(&s, &link_path(&inv), good_form()).await.status, 200);
    let credential = s.form(&award, "json").await.json();
    let mut tampered = credential.clone();
    tampered["endorsement"][0]["credentialSubject"]["endorsementComment"] =
        "Léa est la meilleure de toute la région.".into();

    // as given: the badge's own proof fails, and so does the endorsement's
    let report = s
        .verify(JSON, serde_json::to_vec(&tampered).unwrap(), None)
        .await;
    assert_eq!(report["verdict"], "invalid", "{report:#}");
    let e = check(&report, "endorsement");
    assert_eq!(e[0]["status"], "fail", "{report:#}");
    assert!(
        e[0]["message"]["fr"]
            .as_str()
            .unwrap()
            .contains("Marc Dupont")
    );

    // signed again by the issuer: the badge's proof passes, the endorsement's still fails
    let mut unsigned = tampered.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    let resigned = carnet::issue::sign(&s.app.issuer, &unsigned, Utc::now()).unwrap();
    let resigned_bytes = serde_json::to_vec(&resigned.json).unwrap();
    // the strict profile: the failing endorsement decides
    let strict = s.verify_strict(JSON, resigned_bytes.clone()).await;
    assert_eq!(strict["verdict"], "invalid", "{strict:#}");
    assert_eq!(strict["deciding"], "endorsement", "{strict:#}");
    // the default profile: the badge is authentic and in force, its own signature covers the
    // endorsement, which is shown as not verified
    let report = s.verify(JSON, resigned_bytes, None).await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    assert!(
        check(&report, "proof")
            .iter()
            .all(|c| c["status"] == "pass"),
        "{report:#}"
    );
    let e = check(&report, "endorsement");
    assert_eq!(e[0]["status"], "fail");
    assert_eq!(e[0]["path"], "endorsement[0]");
    assert!(
        e[0]["message"]["en"]
            .as_str()
            .unwrap()
            .contains("its signature does not match"),
        "{report:#}"
    );

    // an endorsement about another badge, embedded and signed again: refused too
    let other = s.issue().await;
    let mut moved = s.form(&other, "json").await.json();
    moved.as_object_mut().unwrap().remove("proof");
    moved["endorsement"] = json!([credential["endorsement"][0]]);
    let resigned = carnet::issue::sign(&s.app.issuer, &moved, Utc::now()).unwrap();
    let resigned_bytes = serde_json::to_vec(&resigned.json).unwrap();
    let strict = s.verify_strict(JSON, resigned_bytes.clone()).await;
    assert_eq!(strict["verdict"], "invalid", "{strict:#}");
    let report = s.verify(JSON, resigned_bytes, None).await;
    assert_eq!(report["verdict"], "valid", "{report:#}");
    assert_eq!(
        check(&report, "endorsement")[0]["status"],
        "fail",
        "{report:#}"
    );
    assert!(
        check(&report, "endorsement")[0]["message"]["en"]
            .as_str()
            .unwrap()
            .contains("about something else"),
        "{report:#}"
    );

    // the standalone endorsement, changed: invalid
    let mut standalone = credential["endorsement"][0].clone();
    standalone["issuer"]["name"] = "Quelqu'un d'autre".into();
    let report = s
        .verify(JSON, serde_json::to_vec(&standalone).unwrap(), None)
        .await;
    assert_eq!(report["verdict"], "invalid", "{report:#}");
    s.shutdown().await;
}

// ---- third-party tools ------------------------------------------------------------------

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TOOL_TIMEOUT: Duration = Duration::from_secs(180);

/// The installed tools (`node_modules`, the OB 2.0 virtualenv), or `None` after a visible
/// message when `CARNET_SKIP_INTEROP=1`. Missing tools fail the test and say how to install them,
/// as `tests/interop.rs` does.
fn tools() -> Option<PathBuf> {
    if std::env::var("CARNET_SKIP_INTEROP").as_deref() == Ok("1") {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"SKIP endorsement interop: CARNET_SKIP_INTEROP=1\n",
        );
        return None;
    }
    let root = Path::new(ROOT);
    let missing: Vec<String> = [
        root.join(".tools/node/node_modules"),
        root.join(".tools/venv-ob2/bin/python"),
        PathBuf::from("/usr/bin/chromium"),
    ]
    .into_iter()
    .filter(|p| !p.exists())
    .map(|p| p.display().to_string())
    .collect();
    assert!(
        missing.is_empty(),
        "the interop tools are not installed (missing: {}): run scripts/setup-interop.sh \
         (or set CARNET_SKIP_INTEROP=1 to skip these checks)",
        missing.join(", ")
    );
    Some(root.to_owned())
}

/// Runs a tool off the runtime (the server keeps serving), killed after `TOOL_TIMEOUT`.
async fn run(program: PathBuf, args: Vec<String>) -> Output {
    Cli::program(program)
        .args(args)
        .time_limit(TOOL_TIMEOUT)
        .run_async()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endorsed_awards_and_endorsements_pass_the_dcc_verifier_and_the_ims_validator() {
    let Some(root) = tools() else {
        return;
    };
    let s = Server::with_args(&[ISSUER_EMAIL]).await;
    let prefix = format!("{}/", s.base);
    let id = request(&s).await;
    let inv = invite(
        &s,
        &format!("/api/v1/badge-requests/{id}/endorsement-invitations"),
        json!({"endorser_kind": "tutor"}),
    )
    .await;
    assert_eq!(submit(&s, &link_path(&inv), good_form()).await.status, 200);
    let approved = approve(&s, &id).await.json();
    let award = &approved["award"];
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let credential = s.form(award, "json").await.json();
    let award_file = write("award.json", &serde_json::to_vec(&credential).unwrap());
    let endorsement_url = approved["endorsements"][0]["url"].as_str().unwrap();
    let standalone = s.get(&format!("{endorsement_url}.json")).await.body;
    let endorsement_file = write("endorsement.json", &standalone);
    let mut tampered = credential.clone();
    tampered["endorsement"][0]["credentialSubject"]["endorsementComment"] = "Changé.".into();
    let tampered_file = write("tampered.json", &serde_json::to_vec(&tampered).unwrap());
    let node = |file: &str| {
        vec![
            root.join("tests/interop/dcc_verify_endorsed.mjs")
                .display()
                .to_string(),
            "--credential".to_owned(),
            file.to_owned(),
            "--allow-fetch".to_owned(),
            prefix.clone(),
        ]
    };

    // the endorsed award (its status list checked too) and each endorsement it embeds
    let out = run(PathBuf::from("node"), node(&award_file)).await;
    let r = out.json_line();
    assert!(
        r["verified"] == true
            && r["credential_verified"] == true
            && r["endorsements"].as_array().is_some_and(|e| e.len() == 1)
            && r["endorsements"][0]["verified"] == true
            && r["endorsements"][0]["issuer_matches_controller"] == true,
        "DCC: the endorsed award and its endorsement verify\n{}",
        out.describe()
    );
    eprintln!("PASS  DCC verifier: the endorsed award and its endorsement: {r}");
    // the standalone EndorsementCredential
    let out = run(PathBuf::from("node"), node(&endorsement_file)).await;
    let r = out.json_line();
    assert!(
        r["verified"] == true && r["issuer_matches_controller"] == true,
        "DCC: the standalone endorsement verifies\n{}",
        out.describe()
    );
    eprintln!("PASS  DCC verifier: the standalone EndorsementCredential");
    // a changed endorsement: refused (the award's proof and the endorsement's)
    let out = run(PathBuf::from("node"), node(&tampered_file)).await;
    let r = out.json_line();
    assert!(
        out.code == 1 && r["verified"] == false && r["endorsements"][0]["verified"] == false,
        "DCC: the changed endorsement is refused\n{}",
        out.describe()
    );
    eprintln!(
        "PASS  DCC verifier: a changed endorsement is refused: {}",
        r["error"]
    );

    // the IMS OB 2.0 validator: the assertion with its endorsement, by URL
    let assertion = award["ob2"]["assertion"].as_str().unwrap();
    let out = run(
        root.join(".tools/venv-ob2/bin/python"),
        vec![
            root.join("tests/interop/ob2_validate.py")
                .display()
                .to_string(),
            assertion.to_owned(),
            "--allow-fetch".to_owned(),
            prefix.clone(),
            "--recipient".to_owned(),
            "lea@example.org".to_owned(),
        ],
    )
    .await;
    let r = out.json_line();
    let ob2_url = approved["endorsements"][0]["ob2_url"].as_str().unwrap();
    assert!(
        r["valid"] == true && r["error_count"] == 0 && r["fetched"].get(ob2_url).is_some(),
        "IMS validator: the endorsed assertion is valid and its Endorsement was fetched\n{}",
        out.describe()
    );
    eprintln!("PASS  IMS validator: the endorsed assertion, 0 errors");

    // the endorser's page in Chromium with axe-core: the form, its error page (fr, en), then sent
    // with the keyboard only (thank-you page) and opened again (410), without any violation; the
    // keyboard meets the shell's header (3 stops) before the form; nothing wider than 320 px
    let inv = invite(
        &s,
        &format!(
            "/api/v1/awards/{}/endorsement-invitations",
            approved["award_id"].as_str().unwrap()
        ),
        json!({"endorser_kind": "partner", "note": "Une ligne.\nUne autre."}),
    )
    .await;
    let link = inv["url"].as_str().unwrap().to_owned();
    let out = run(
        PathBuf::from("node"),
        vec![
            root.join("tests/interop/endorse_page_check.mjs")
                .display()
                .to_string(),
            "--link".to_owned(),
            link,
        ],
    )
    .await;
    let r = out.json_line();
    let pages = r["pages"].as_array().map_or(0, Vec::len);
    assert!(
        r["ok"] == true && pages == 6,
        "axe-core: the endorser's pages have no violation, fit 320 px, and the keyboard sends \
         the form\n{}",
        out.describe()
    );
    eprintln!(
        "PASS  axe-core: {pages} endorser pages without violation, 320 px wide, sent with the \
         keyboard"
    );
    if r["warning_count"].as_u64().is_some_and(|n| n > 0) {
        eprintln!("NOTE  IMS validator warnings: {}", r["warnings"]);
    }
    s.shutdown().await;
}
