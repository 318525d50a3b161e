//! The route table (issue #13): every operation of `src/http/openapi.json` is either public, and
//! then named in [`PUBLIC`] (written by hand, so that a route made public by accident fails here),
//! or needs a token. Every token-protected operation answers 401 without a token; called with a
//! second institution's token and the first institution's ids it answers 404 and names none of
//! them (a list: 200, without them; a creation naming the first institution's things: never one
//! of them); and the first institution's things are the same afterwards.
//!
//! Every misbehaving route is collected: the test fails once, listing them all.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::carnets::{RECTEC, RECTEC_CLASS};
use crate::common::server::{CLASS, JSON, Resp, Server, TOKEN, add_institution, lea};

const OPENAPI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/openapi.json");

/// The operations anyone may call without a token. Add one here only on purpose.
const PUBLIC: &[(&str, &str)] = &[
    ("POST", "/api/v1/verify"),
    ("GET", "/evidence/{id}"),
    ("GET", "/endorsements/{id}"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/verify"),
    ("POST", "/verify"),
];

/// The methods of an OpenAPI path item that are operations checked here.
const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

const PNG_BYTES: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
const PROBLEM: &str = "application/problem+json";
const CSV: &str = "text/csv; charset=utf-8";
/// The bulk file of both institutions (`;`-separated, as in `bulk_awards.rs`).
const BULK_CSV: &str = "email;name;narrative;valid_until\r\n\
p1@example.org;Personne 1;\"A rangé l'atelier ; seul\";2030-06-30\r\n\
p2@example.org;Personne 2;\"A rangé l'atelier ; seul\";2030-06-30\r\n\
p3@example.org;Personne 3;\"A rangé l'atelier ; seul\";2030-06-30\r\n\
p4@example.org;Personne 4;\"A rangé l'atelier ; seul\";2030-06-30\r\n\
p5@example.org;Personne 5;\"A rangé l'atelier ; seul\";2030-06-30\r\n";
const BULK_QUERY: &str = "?badge_class=securite-hygiene-au-travail&batch=route-table";

/// An operation of the OpenAPI document: its method (upper case) and path template.
#[derive(Clone, Debug)]
struct Op {
    method: String,
    path: String,
}

impl Op {
    fn method(&self) -> Method {
        Method::from_bytes(self.method.as_bytes()).expect("an HTTP method")
    }

    fn has_params(&self) -> bool {
        self.path.contains('{')
    }

    /// Reads first, then writes, then deletions (so that a write that wrongly succeeds cannot
    /// hide what a read would have shown).
    fn rank(&self) -> u8 {
        match self.method.as_str() {
            "GET" => 0,
            "DELETE" => 2,
            _ => 1,
        }
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// The document's operations: the token-protected ones (`security: [{"bearer": []}]`) and the
/// public ones as (method, path).
fn operations() -> (Vec<Op>, BTreeSet<(String, String)>) {
    let text = std::fs::read_to_string(OPENAPI).expect(OPENAPI);
    let doc: Value = serde_json::from_str(&text).expect("openapi.json is JSON");
    let bearer = json!([{"bearer": []}]);
    let top = doc.get("security");
    let mut protected = vec![];
    let mut public = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("openapi.json has paths") {
        for m in METHODS {
            let Some(op) = item.get(*m) else { continue };
            let op_security = op.get("security").or(top);
            let method = m.to_uppercase();
            if op_security == Some(&bearer) {
                protected.push(Op {
                    method,
                    path: path.clone(),
                });
            } else {
                public.insert((method, path.clone()));
            }
        }
    }
    protected.sort_by_key(Op::rank);
    (protected, public)
}

/// A request body, with its content type and what to add to the path's query.
#[derive(Clone)]
struct Body {
    what: &'static str,
    content_type: &'static str,
    bytes: Vec<u8>,
    query: &'static str,
}

fn json_body(what: &'static str, value: Value) -> Body {
    Body {
        what,
        content_type: JSON,
        bytes: value.to_string().into_bytes(),
        query: "",
    }
}

/// `{}`: the token and the institution are checked before the body is looked at.
fn minimal() -> Body {
    json_body("{}", json!({}))
}

/// The bodies the other institution sends: none for GET and DELETE; `{}`, and for the
/// operations that need more, a body that would succeed with the right institution's token
/// (copied from the tests of each route).
fn bodies(op: &Op) -> Vec<Option<Body>> {
    if op.method == "GET" || op.method == "DELETE" {
        return vec![None];
    }
    let p = op.path.as_str();
    let good = match op.method.as_str() {
        "POST" if p.ends_with("/revoke") => {
            Some(json_body("a reason", json!({"reason": "Erreur de saisie"})))
        }
        "PATCH" if p.ends_with("/entries/{competence}") => Some(json_body(
            "an entry",
            json!({"answer": "je_fais", "comment": "Je prépare seul."}),
        )),
        "POST" if p.ends_with("/confirm") => Some(json_body(
            "a confirmation",
            json!({"recipient_name": "Léa",
                   "narrative": "J'ai appris à préparer mon poste avant le service."}),
        )),
        "POST" if p.ends_with("/evidence") => Some(Body {
            what: "a PNG file",
            content_type: "image/png",
            bytes: PNG_BYTES.to_vec(),
            query: "?filename=gants.png",
        }),
        "PUT" if p.ends_with("/links") => Some(json_body(
            "links",
            json!({"links": ["https://video.example.org/lea-atelier"],
                   "comment": "Le 2e lien était cassé."}),
        )),
        "POST" if p.ends_with("/return") => Some(json_body(
            "a comment",
            json!({"comment": "Ajoute une photo des lunettes"}),
        )),
        "POST" if p.ends_with("/decline") => Some(json_body(
            "a reason",
            json!({"reason": "Ce badge ne correspond pas"}),
        )),
        "POST" if p.ends_with("/endorsement-invitations") => Some(json_body(
            "an invitation",
            json!({"endorser_kind": "tutor"}),
        )),
        _ => None,
    };
    let mut out = vec![Some(minimal())];
    out.extend(good.map(Some));
    out
}

/// The values of path parameters, by (the literal segment before the parameter, its name).
type Values = BTreeMap<(String, String), Vec<String>>;

/// The concrete paths of a template, with every combination of known values; an error names
/// the parameter without a value.
fn fill(template: &str, values: &Values) -> Result<Vec<String>, String> {
    let mut paths = vec![String::new()];
    let mut literal = "";
    for segment in template.split('/').skip(1) {
        let choices = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => values
                .get(&(literal.to_string(), name.to_string()))
                .cloned()
                .ok_or_else(|| format!("no value for {{{name}}} after /{literal}/"))?,
            None => {
                literal = segment;
                vec![segment.to_string()]
            }
        };
        paths = paths
            .iter()
            .flat_map(|p| choices.iter().map(move |c| format!("{p}/{c}")))
            .collect();
    }
    Ok(paths)
}

/// The UUIDs in a text.
fn uuids(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
    let mut out = vec![];
    let mut i = 0;
    while i + 36 <= b.len() {
        let shaped = (0..36).all(|k| match k {
            8 | 13 | 18 | 23 => b[i + k] == b'-',
            _ => hex(i + k),
        });
        let bounded = (i == 0 || !hex(i - 1)) && !hex(i + 36);
        if shaped && bounded {
            out.push(String::from_utf8(b[i..i + 36].to_vec()).expect("ASCII"));
            i += 36;
        } else {
            i += 1;
        }
    }
    out
}

/// What the first institution (`ime`) made: the path parameters' values, and its secrets (every
/// UUID of its answers, the tokens of its share and invitation links), which no answer to the
/// other institution may contain.
#[derive(Default)]
struct Ime {
    values: Values,
    secrets: BTreeSet<String>,
}

impl Ime {
    fn set(&mut self, after: &str, name: &str, value: &str) {
        let key = (after.to_string(), name.to_string());
        self.values.entry(key).or_default().push(value.to_string());
    }

    fn keep(&mut self, r: &Resp) {
        self.secrets.extend(uuids(&r.text()));
    }

    /// Its secrets in `text`, but those in `except` (what the request itself sent).
    fn leaks(&self, text: &str, except: &str) -> Vec<String> {
        let found = self.secrets.iter().filter(|x| text.contains(x.as_str()));
        found
            .filter(|x| !except.contains(x.as_str()))
            .cloned()
            .collect()
    }
}

async fn call(
    s: &Server,
    method: &Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Body>,
) -> Resp {
    let query = body.map_or("", |b| b.query);
    let mut req = s
        .client
        .request(method.clone(), s.url(&format!("{path}{query}")));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req
            .header("content-type", b.content_type)
            .body(b.bytes.clone());
    }
    let r = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    let body = r.bytes().await.expect("body").to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

/// The status and the beginning of the body, for a failure's message.
fn short(r: &Resp) -> String {
    let text: String = r.text().chars().take(300).collect();
    format!("{} {text}", r.status)
}

/// Calls as `ime` (the instance token), expecting `status`; keeps the answer's ids.
async fn as_ime(
    s: &Server,
    ime: &mut Ime,
    method: Method,
    path: &str,
    body: Body,
    status: u16,
) -> Value {
    let r = call(s, &method, path, Some(TOKEN), Some(&body)).await;
    assert_eq!(r.status, status, "{method} {path} as ime: {}", r.text());
    ime.keep(&r);
    r.json()
}

/// Polls a job until it is done (or failed): its last document.
async fn finished(s: &Server, token: &str, url: &str) -> Value {
    for _ in 0..600 {
        let r = call(s, &Method::GET, url, Some(token), None).await;
        assert_eq!(r.status, 200, "GET {url}: {}", r.text());
        let job = r.json();
        if job["state"] == "done" || job["state"] == "failed" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("GET {url}: the job did not finish");
}

fn jury() -> Value {
    json!([{"name": "Mme Durand", "role": "professionnelle extérieure, métiers de la cuisine"},
           {"name": "M. Petit", "role": "directeur de l'établissement"}])
}

/// A RECTEC carnet (`carnet_batch.rs`): competence 1 validated by a jury at cercle 2.
fn rectec_carnet(email: &str) -> Value {
    json!({
        "referentiel": {"id": "rectec", "version": "2021"},
        "person": {"email": email, "display_name": "Léa"},
        "entries": [
            {"competence": "1", "answer": "je_fais", "recognition": "validated",
             "modality": "en_situation_de_travail", "date": "2024-06-14", "level": "2",
             "jury": jury()},
            {"competence": "5", "answer": "je_fais_en_partie", "date": "2024-05-02"}
        ]
    })
}

fn csv_body() -> Body {
    Body {
        what: "ime's CSV file, class and batch",
        content_type: CSV,
        bytes: BULK_CSV.as_bytes().to_vec(),
        query: BULK_QUERY,
    }
}

fn batch_body() -> Body {
    let carnets = json!([rectec_carnet("noa@example.org")]);
    json_body("ime's batch", carnets)
}

/// The other institution's answer to a job it submitted with ime's file: a job of its own (not
/// ime's, not "resubmitted"), whose finished document names none of ime's things.
async fn check_job(
    s: &Server,
    ime: &Ime,
    esat: &str,
    what: &str,
    sent: &Resp,
    ime_job: &str,
) -> Result<Value, String> {
    if sent.status != 202 {
        return Err(format!("{what}: answered {}", short(sent)));
    }
    let doc = sent.json();
    if doc["id"] == ime_job || doc["resubmitted"] != false {
        return Err(format!(
            "{what}: answered ime's job {ime_job} (resubmitted: {}): {}",
            doc["resubmitted"],
            short(sent)
        ));
    }
    let url = doc["url"].as_str().ok_or(format!("{what}: no url"))?;
    let job = finished(s, esat, url).await;
    let leaks = ime.leaks(&job.to_string(), "");
    if !leaks.is_empty() {
        return Err(format!("{what}: its job names ime's {leaks:?}: {job}"));
    }
    Ok(job)
}

#[tokio::test]
async fn public_routes_are_listed_and_protected_ones_keep_to_their_institution() {
    // 1–2. The route table: the public operations are exactly the listed ones.
    let (protected, public) = operations();
    let listed: BTreeSet<(String, String)> = PUBLIC
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let by_accident: Vec<_> = public.difference(&listed).collect();
    let not_public: Vec<_> = listed.difference(&public).collect();
    assert!(
        by_accident.is_empty() && not_public.is_empty(),
        "the public operations of openapi.json (no security: [{{\"bearer\": []}}]) are not the \
         listed ones.\npublic but not listed (made public by accident? list it in PUBLIC only on \
         purpose): {by_accident:?}\nlisted but protected or gone: {not_public:?}"
    );
    assert!(!protected.is_empty(), "no token-protected operation");

    // 3. A server with two institutions.
    let s = Server::new().await;
    let esat = add_institution(&s, "esat-tilly").await;
    let esat = esat.as_str();
    let mut ime = Ime::default();
    let mut failures: Vec<String> = vec![];

    // 4. One of each thing, made by ime (the instance token).
    let mut award = lea();
    award["idempotency_key"] = json!("route-table-lea");
    let award_body = json_body("lea() with an idempotency key", award);
    let path = "/api/v1/awards";
    let a = as_ime(&s, &mut ime, Method::POST, path, award_body.clone(), 201).await;
    let award = a["id"].as_str().expect("award id").to_owned();
    ime.set("awards", "id", &award);

    let rectec = Body {
        what: "rectec.json",
        content_type: JSON,
        bytes: std::fs::read(RECTEC).expect(RECTEC),
        query: "",
    };
    let path = "/api/v1/referentiels";
    let r = as_ime(&s, &mut ime, Method::POST, path, rectec, 201).await;
    let referentiel = r["id"].as_str().expect("référentiel id").to_owned();
    ime.set("referentiels", "id", &referentiel);
    ime.set(
        "referentiels",
        "version",
        r["version"].as_str().expect("version"),
    );

    let lea_carnet = json_body("ime's carnet", rectec_carnet("lea.martin@example.org"));
    let path = "/api/v1/carnets";
    let c = as_ime(&s, &mut ime, Method::POST, path, lea_carnet.clone(), 201).await;
    ime.set("carnets", "id", c["id"].as_str().expect("carnet id"));
    ime.set("entries", "competence", "1");
    ime.set("institutions", "slug", "ime");
    ime.set("proposals", "badge_class", RECTEC_CLASS);

    let request = json_body(
        "a badge request",
        json!({
            "badge_class": CLASS,
            "recipient_email": "lea@example.org",
            "recipient_name": "Léa",
            "narrative": "Je mets mes gants et mes lunettes à l'atelier.",
            "links": ["https://video.example.org/lea-atelier"],
            "requested_by": "Léa (apprenante)",
        }),
    );
    let path = "/api/v1/badge-requests";
    let q = as_ime(&s, &mut ime, Method::POST, path, request, 201).await;
    let request = q["id"].as_str().expect("request id").to_owned();
    ime.set("badge-requests", "id", &request);

    let png = Body {
        what: "a PNG file",
        content_type: "image/png",
        bytes: PNG_BYTES.to_vec(),
        query: "?filename=gants.png",
    };
    let path = format!("/api/v1/badge-requests/{request}/evidence");
    let e = as_ime(&s, &mut ime, Method::POST, &path, png, 201).await;
    let evidence = e["id"].as_str().expect("evidence id").to_owned();
    ime.set("evidence", "id", &evidence);

    let path = format!("/api/v1/evidence/{evidence}/shares");
    let sh = as_ime(&s, &mut ime, Method::POST, &path, minimal(), 201).await;
    ime.set("shares", "share", sh["id"].as_str().expect("share id"));
    let share_link = sh["url"].as_str().expect("share url").to_owned();
    let (_, share_token) = share_link.split_once("access=").expect("a share token");
    ime.secrets.insert(share_token.to_owned());

    let invitations = [
        (
            format!("/api/v1/awards/{award}/endorsement-invitations"),
            json!({"endorser_kind": "colleague", "expires_in_days": 60}),
        ),
        (
            format!("/api/v1/badge-requests/{request}/endorsement-invitations"),
            json!({"endorser_kind": "tutor", "note": "Merci de dire ce que Léa fait en stage."}),
        ),
    ];
    for (path, body) in invitations {
        let body = json_body("an invitation", body);
        let inv = as_ime(&s, &mut ime, Method::POST, &path, body, 201).await;
        ime.set(
            "endorsement-invitations",
            "id",
            inv["id"].as_str().expect("id"),
        );
        let url = inv["url"].as_str().expect("the invitation's link");
        let (_, token) = url.split_once("/endorse/").expect("an endorse link");
        ime.secrets.insert(token.to_owned());
    }

    // The jobs: right after ime's, the other institution sends the same file (while ime's job
    // may still run, when "the same file, class and batch" would answer the unfinished job).
    let path = "/api/v1/bulk-awards";
    let bulk = as_ime(&s, &mut ime, Method::POST, path, csv_body(), 202).await;
    let esat_bulk = call(&s, &Method::POST, path, Some(esat), Some(&csv_body())).await;
    let bulk_job = bulk["id"].as_str().expect("job id").to_owned();
    ime.set("bulk-awards", "job", &bulk_job);

    let path = "/api/v1/carnet-batches";
    let batch = as_ime(&s, &mut ime, Method::POST, path, batch_body(), 202).await;
    let esat_batch = call(&s, &Method::POST, path, Some(esat), Some(&batch_body())).await;
    let batch_job = batch["id"].as_str().expect("job id").to_owned();
    ime.set("carnet-batches", "job", &batch_job);

    for job in [&bulk, &batch] {
        let url = job["url"].as_str().expect("job url");
        let done = finished(&s, TOKEN, url).await;
        assert_eq!(done["state"], "done", "GET {url} as ime: {done:#}");
        ime.secrets.extend(uuids(&done.to_string()));
    }

    // Every protected GET answers ime its things (so the ids are right): kept, to compare at the
    // end. Their ids are ime's secrets too.
    let mut before: BTreeMap<String, String> = BTreeMap::new();
    for op in protected
        .iter()
        .filter(|op| op.method == "GET" && op.has_params())
    {
        let Ok(paths) = fill(&op.path, &ime.values) else {
            continue; // reported below
        };
        for path in paths {
            let r = call(&s, &Method::GET, &path, Some(TOKEN), None).await;
            assert_eq!(r.status, 200, "GET {path} ({op}) as ime: {}", r.text());
            ime.keep(&r);
            if op.path.ends_with("/proposals") {
                assert!(r.text().contains(RECTEC_CLASS), "GET {path}: {}", r.text());
            }
            before.insert(path, r.text());
        }
    }
    let opens = |r: &Resp| r.status == 200 && r.body == PNG_BYTES;
    let r = s.get(&share_link).await;
    assert!(opens(&r), "GET {share_link} (ime's share): {}", short(&r));
    let evidence_path = format!("/evidence/{evidence}");
    let r = call(&s, &Method::GET, &evidence_path, Some(TOKEN), None).await;
    assert!(opens(&r), "GET {evidence_path} as ime: {}", short(&r));

    // 5a. Without a token: 401, a problem document.
    for op in &protected {
        let path = match fill(&op.path, &ime.values) {
            Ok(paths) => paths[0].clone(),
            Err(why) => {
                failures.push(format!("{op}: {why} (this test needs one: add it)"));
                continue;
            }
        };
        let body = (op.method != "GET" && op.method != "DELETE").then(minimal);
        let r = call(&s, &op.method(), &path, None, body.as_ref()).await;
        if r.status != 401 || r.header("content-type") != PROBLEM {
            failures.push(format!(
                "{} {path} ({op}) without a token: {} (content-type {:?}), not 401 {PROBLEM}",
                op.method,
                short(&r),
                r.header("content-type")
            ));
        }
    }

    // 5b. With the other institution's token.
    for op in &protected {
        let Ok(paths) = fill(&op.path, &ime.values) else {
            continue; // already reported
        };
        if op.has_params() {
            // ime's ids: 404, naming none of ime's things (but those the path itself sent).
            for path in &paths {
                for body in bodies(op) {
                    let r = call(&s, &op.method(), path, Some(esat), body.as_ref()).await;
                    let with = body
                        .as_ref()
                        .map_or(String::new(), |b| format!(" with {}{}", b.what, b.query));
                    if r.status != 404 {
                        failures.push(format!(
                            "{} {path} ({op}) with esat's token{with}: {}, not 404",
                            op.method,
                            short(&r)
                        ));
                    }
                    let leaks = ime.leaks(&r.text(), path);
                    if !leaks.is_empty() {
                        failures.push(format!(
                            "{} {path} ({op}) with esat's token{with}: names ime's {leaks:?}: {}",
                            op.method,
                            short(&r)
                        ));
                    }
                }
            }
            continue;
        }
        let path = op.path.as_str();
        match (op.method.as_str(), path) {
            // Lists: 200, without ime's things (nor its référentiel).
            ("GET", _) => {
                let r = call(&s, &Method::GET, path, Some(esat), None).await;
                let mut leaks = ime.leaks(&r.text(), "");
                if r.text().contains(&format!("\"{referentiel}\"")) {
                    leaks.push(referentiel.clone());
                }
                if r.status != 200 || !leaks.is_empty() {
                    failures.push(format!(
                        "GET {path} with esat's token: {}, not 200 without ime's things \
                         (names {leaks:?})",
                        short(&r)
                    ));
                }
            }
            // ime's idempotency key: a new award of esat's own, never ime's.
            ("POST", "/api/v1/awards") => {
                let r = call(&s, &Method::POST, path, Some(esat), Some(&award_body)).await;
                let leaks = ime.leaks(&r.text(), "");
                if r.status != 201 || !leaks.is_empty() {
                    failures.push(format!(
                        "POST {path} with esat's token and ime's idempotency key: {}, not 201 \
                         with an award of esat's (names ime's {leaks:?})",
                        short(&r)
                    ));
                }
            }
            // Skipped: a référentiel file names nothing of ime's (importing RECTEC would make
            // esat's own copy, and spoil the carnet check below).
            ("POST", "/api/v1/referentiels") => {}
            // Skipped: a badge request names a badge class, and both institutions have the
            // shipped ones: nothing of ime's to name.
            ("POST", "/api/v1/badge-requests") => {}
            // Adding an institution takes an instance token.
            ("POST", "/api/v1/institutions") => {
                let body = json_body(
                    "a new institution",
                    json!({"slug": "autre", "name": "Autre"}),
                );
                let r = call(&s, &Method::POST, path, Some(esat), Some(&body)).await;
                if r.status != 403 {
                    failures.push(format!(
                        "POST {path} with esat's token: {}, not 403",
                        short(&r)
                    ));
                }
            }
            // A carnet on the référentiel only ime imported: refused.
            ("POST", "/api/v1/carnets") => {
                let r = call(&s, &Method::POST, path, Some(esat), Some(&lea_carnet)).await;
                let leaks = ime.leaks(&r.text(), "");
                if !(400..500).contains(&r.status) || r.status == 401 || !leaks.is_empty() {
                    failures.push(format!(
                        "POST {path} with esat's token, on ime's référentiel {referentiel}: {}, \
                         not a 4xx other than 401 (names ime's {leaks:?})",
                        short(&r)
                    ));
                }
            }
            // ime's file, class and batch, sent by esat (above, while ime's job ran): a job of
            // its own.
            ("POST", "/api/v1/bulk-awards") => {
                let what = "with esat's token";
                if let Err(why) = check_job(&s, &ime, esat, what, &esat_bulk, &bulk_job).await {
                    failures.push(format!("POST {path}{BULK_QUERY} {why}"));
                }
            }
            // ime's batch, sent by esat: refused, or a job of its own whose carnet fails
            // (the référentiel is ime's only).
            ("POST", "/api/v1/carnet-batches") => {
                if (400..500).contains(&esat_batch.status) && esat_batch.status != 401 {
                    let leaks = ime.leaks(&esat_batch.text(), "");
                    if !leaks.is_empty() {
                        failures.push(format!(
                            "POST {path} with esat's token: names ime's {leaks:?}: {}",
                            short(&esat_batch)
                        ));
                    }
                    continue;
                }
                let what = "with esat's token";
                match check_job(&s, &ime, esat, what, &esat_batch, &batch_job).await {
                    Err(why) => failures.push(format!("POST {path} {why}")),
                    Ok(job) => {
                        let counts = &job["counts"];
                        if counts["done"] != 0 || counts["awards_issued"] != 0 {
                            failures.push(format!(
                                "POST {path} with esat's token: a carnet on ime's référentiel \
                                 {referentiel} was imported: {job}"
                            ));
                        }
                    }
                }
            }
            _ => failures.push(format!(
                "{op}: no check with another institution's token is written for it: add one"
            )),
        }
    }

    // ime's evidence file with esat's token (a public route, opened by a bearer token too).
    let r = call(&s, &Method::GET, &evidence_path, Some(esat), None).await;
    if r.status != 404 {
        failures.push(format!(
            "GET {evidence_path} with esat's token: {}, not 404",
            short(&r)
        ));
    }

    // ime's things are as they were.
    for (path, was) in &before {
        let r = call(&s, &Method::GET, path, Some(TOKEN), None).await;
        if r.status != 200 || &r.text() != was {
            failures.push(format!(
                "GET {path} as ime after esat's calls: changed, {} (was {was})",
                short(&r)
            ));
        }
    }
    let r = s.get(&share_link).await;
    if !opens(&r) {
        failures.push(format!(
            "GET {share_link} (ime's share) after esat's calls: {}",
            short(&r)
        ));
    }

    assert!(
        failures.is_empty(),
        "{} misbehaving call(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    s.shutdown().await;
}
