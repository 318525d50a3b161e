//! Verification of OB 3.0 credentials from carnet or from anyone (CHECKLIST §7–8): read the input
//! (PNG, SVG, JSON, compact JWS), check the data model, the JSON-LD expansion, the proof, the key
//! and its controller, the validity dates and, when asked, the recipient. The result is a
//! [`Report`]; nothing here returns an error for a bad badge.
//!
//! [`Verifier`] is the engine; the `verify_*_with` functions take [`Options`] (a recipient to
//! compare, and the profile the report is judged under). Every step is bounded (`carnet bench
//! --hostile` times the worst inputs). Beside it: `checks.rs` (each check and its bilingual
//! messages), `report.rs` (sections, verdict, profiles), `conformance` (the OB 3.0 data model),
//! `jwt.rs` (the VC-JWT path), `resolve.rs` (keys), `fetch.rs` (the one outbound HTTP client),
//! `own.rs` (this instance's documents, before the web), `status.rs` (credential status),
//! `endorsements.rs` (embedded endorsements), `ob2` (the Open Badges 2.0 verifier).

mod checks;
pub mod conformance;
mod endorsements;
pub mod fetch;
mod jwt;
pub mod ob2;
pub mod own;
pub mod report;
pub mod resolve;
pub mod status;

use serde_json::Value;

use crate::bake::{self, Container, Keyword, Limits};
use crate::proof::data_integrity;
use crate::proof::ecdsa_sd;
use crate::proof::vc_jwt;
use report::{Check, Report, check_id as id};
use resolve::{KeyMaterial, Resolver};

/// Longest link accepted.
pub const MAX_URL_BYTES: usize = 2048;
/// What a link to a badge may give: a JSON-LD or JSON document, a JWT, or a baked image.
const URL_ACCEPT: &str = "application/ld+json, application/json;q=0.9, application/vc+jwt;q=0.8, image/png;q=0.7, image/svg+xml;q=0.7";

/// Does this look like an SVG document (after an optional XML declaration or BOM)?
fn looks_like_svg(body: &[u8]) -> bool {
    let head = &body[..body.len().min(1024)];
    let head = String::from_utf8_lossy(head);
    head.contains("<svg")
}

/// Most proofs a credential may carry: each costs a canonicalisation, and a real credential has
/// one (two while a key is rotated).
pub const MAX_PROOFS: usize = 4;

/// Largest JSON document accepted (bytes).
pub const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;

/// What a verification is asked for besides the badge.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// The recipient's identifier (an email), compared with the badge's hashed identity.
    pub recipient: Option<&'a str>,
    pub profile: report::Profile,
}

impl<'a> Options<'a> {
    /// The default profile, with an optional recipient.
    pub fn recipient(recipient: Option<&'a str>) -> Self {
        Self {
            recipient,
            profile: report::Profile::Default,
        }
    }
}

pub struct Verifier {
    /// The Open Badges 2.0 verifier (validator-core steps), sharing the HTTP client.
    pub ob2: ob2::Ob2Verifier,
    pub resolver: Resolver,
    pub limits: Limits,
    /// carnet's own documents (status lists...), answered without HTTP.
    pub local: Option<status::SharedLocalDocuments>,
    /// Status lists already verified (see `status::StatusListCache`).
    status_lists: status::StatusListCache,
    /// This instance's badges and OB 2.0 documents, read from its store (see `own.rs`).
    own: Option<own::SharedOwnDocuments>,
}

/// The key a Data Integrity proof is checked with, by cryptosuite.
#[derive(Clone, Copy)]
enum ProofKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
}

const VC_V1_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";

/// Where the OB 2.0 steps read documents from the web: the resolver's HTTP client, or nowhere.
fn web_source(resolver: &Resolver) -> std::sync::Arc<dyn ob2::DocumentSource> {
    match resolver.fetcher_handle() {
        Some(f) => std::sync::Arc::new(ob2::FetcherSource::new(f)),
        None => std::sync::Arc::new(ob2::OfflineSource),
    }
}

impl Verifier {
    pub fn new(resolver: Resolver) -> Self {
        Self {
            ob2: ob2::Ob2Verifier::new(web_source(&resolver)),
            resolver,
            limits: Limits::default(),
            local: None,
            status_lists: status::StatusListCache::default(),
            own: None,
        }
    }

    /// Answers this instance's own badges and OB 2.0 documents from its store, never over HTTP.
    pub fn with_own(mut self, own: own::SharedOwnDocuments) -> Self {
        self.ob2 = ob2::Ob2Verifier::new(std::sync::Arc::new(own::OwnFirst {
            own: own.clone(),
            web: web_source(&self.resolver),
        }));
        self.own = Some(own);
        self
    }

    /// Answers carnet's own documents (status lists) without HTTP.
    pub fn with_local(mut self, local: status::SharedLocalDocuments) -> Self {
        self.local = Some(local);
        self
    }

    /// Verifies a badge given as bytes (a PNG or SVG image, a JSON credential or a compact JWS)
    /// under the default profile.
    pub async fn verify_bytes(&self, input: &[u8], recipient: Option<&str>) -> Report {
        self.verify_bytes_with(input, Options::recipient(recipient))
            .await
    }

    /// Verifies a badge given as bytes, with a recipient and a profile.
    pub async fn verify_bytes_with(&self, input: &[u8], options: Options<'_>) -> Report {
        self.read_bytes(input, options.recipient)
            .await
            .judged(options.profile)
    }

    /// Verifies the badge a link points to under the default profile (see [`Self::verify_url_with`]).
    pub async fn verify_url(&self, url: &str, recipient: Option<&str>) -> Report {
        self.verify_url_with(url, Options::recipient(recipient))
            .await
    }

    /// Verifies the badge a link points to, with a recipient and a profile.
    pub async fn verify_url_with(&self, url: &str, options: Options<'_>) -> Report {
        self.read_url(url, options.recipient)
            .await
            .judged(options.profile)
    }

    /// A badge this instance withdrew: its status check says when and why, from the store (the
    /// status list holds only a bit).
    async fn explain_withdrawal(&self, cred: &Value, checks: &mut [Check]) {
        let Some(own) = &self.own else { return };
        let Some(check) = checks
            .iter_mut()
            .find(|c| c.reason == Some(report::reason::REVOKED))
        else {
            return;
        };
        let Some(id) = cred.get("id").and_then(Value::as_str) else {
            return;
        };
        let Some(w) = own.withdrawal(id).await else {
            return;
        };
        let (fr_reason, en_reason) = match &w.reason {
            Some(r) => (
                format!(" Raison donnée : {r}"),
                format!(" Reason given: {r}"),
            ),
            None => (String::new(), String::new()),
        };
        check.message = report::Message::new(
            format!(
                "Ce badge a été retiré par son émetteur le {}.{fr_reason}",
                w.at.format("%d/%m/%Y")
            ),
            format!(
                "This badge was withdrawn by its issuer on {}.{en_reason}",
                w.at.format("%Y-%m-%d")
            ),
        );
    }

    /// One of this instance's own badges, read from its store: what its route would answer.
    async fn own_document(&self, url: &str) -> Option<fetch::Document> {
        let own = self.own.as_ref()?.get(url).await?;
        let body = match own.body {
            ob2::Body::Json(v) => serde_json::to_vec(&v).unwrap_or_default(),
            ob2::Body::Bytes(b) => b,
            ob2::Body::Empty => Vec::new(),
        };
        Some(fetch::Document {
            status: own.status,
            content_type: None,
            body,
        })
    }

    /// The badge a link points to, from the web.
    async fn fetch_badge(&self, url: &str) -> Result<fetch::Document, Report> {
        let Some(fetcher) = self.resolver.fetcher_handle() else {
            return Err(Report::from_checks(
                vec![Check::unknown(
                    id::PARSE,
                    "Ce vérificateur ne va pas sur Internet : donnez le badge lui-même (image, JSON ou JWT).",
                    "This verifier does not go online: give the badge itself (image, JSON or JWT).",
                )],
                None,
            ));
        };
        fetcher.get_document(url, URL_ACCEPT).await.map_err(|e| {
            Report::from_checks(
                vec![Check::unknown(
                    id::PARSE,
                    format!(
                        "Le badge n'a pas pu être obtenu à l'adresse {url} ({}).",
                        e.in_french()
                    ),
                    format!("The badge could not be obtained from {url} ({e})."),
                )],
                None,
            )
        })
    }

    /// Verifies a credential given as text (JSON or compact JWS) under the default profile.
    pub async fn verify_text(
        &self,
        text: &str,
        container: &str,
        recipient: Option<&str>,
    ) -> Report {
        self.verify_text_with(text, container, Options::recipient(recipient))
            .await
    }

    /// Verifies a credential given as text (JSON or compact JWS), with a recipient and a profile.
    pub async fn verify_text_with(
        &self,
        text: &str,
        container: &str,
        options: Options<'_>,
    ) -> Report {
        self.read_text(text, container, options.recipient)
            .await
            .judged(options.profile)
    }

    /// The checks of a badge given as bytes, judged under the strict profile.
    async fn read_bytes(&self, input: &[u8], recipient: Option<&str>) -> Report {
        let trimmed = trim_ascii(input);
        // Open Badges 2.0 (and 1.x) text: a URL, an assertion JSON or a signed assertion.
        if let Ok(text) = std::str::from_utf8(trimmed)
            && ob2::is_ob2_text(text)
        {
            return self.ob2.verify_text(text, "text", recipient).await;
        }
        if trimmed.first() == Some(&b'{') || trimmed.starts_with(b"eyJ") {
            let Ok(text) = std::str::from_utf8(trimmed) else {
                return parse_failure("le texte n'est pas en UTF-8", "the text is not UTF-8");
            };
            return self.read_text(text, "text", recipient).await;
        }
        match bake::unbake(input, &self.limits) {
            Ok(baked) => {
                let format = match baked.container {
                    Container::Png => "png",
                    Container::Svg => "svg",
                };
                let text = baked
                    .verify_attr
                    .clone()
                    .filter(|v| vc_jwt::looks_like_compact_jws(v))
                    .unwrap_or(baked.text);
                if baked.keyword == Keyword::Ob2Assertion {
                    return self.ob2.verify_text(&text, format, recipient).await;
                }
                self.read_text(&text, format, recipient).await
            }
            Err(e) => parse_failure(
                &format!("l'image n'a pas pu être lue : {e}"),
                &format!("the image could not be read: {e}"),
            ),
        }
    }

    /// The checks of the badge a link points to (what a QR code on a printed CV holds): a hosted
    /// OB 2.0 assertion, or an OB 3.0 credential (JSON or JWT) or a baked image served there. The
    /// link is fetched through the one safe HTTP client; an OB 2.0 assertion is then verified by
    /// the validator-core steps, which fetch it again from its own id as hosted verification
    /// requires.
    async fn read_url(&self, url: &str, recipient: Option<&str>) -> Report {
        let url = url.trim();
        if url.len() > MAX_URL_BYTES {
            return parse_failure("le lien est trop long", "the link is too long");
        }
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return parse_failure(
                "le lien doit commencer par https://",
                "the link must start with https://",
            );
        }
        let doc = match self.own_document(url).await {
            Some(doc) => doc,
            None => match self.fetch_badge(url).await {
                Ok(doc) => doc,
                Err(report) => return report,
            },
        };
        let text = std::str::from_utf8(trim_ascii(&doc.body)).ok();
        // A withdrawn OB 2.0 assertion answers 410 Gone: the OB 2.0 steps report it.
        if doc.status == 410 || text.is_some_and(ob2::is_ob2_text) {
            return self.ob2.verify_text(url, "url", recipient).await;
        }
        if !(200..300).contains(&doc.status) {
            return Report::from_checks(
                vec![Check::unknown(
                    id::PARSE,
                    format!("L'adresse {url} a répondu par une erreur ({}).", doc.status),
                    format!("The address {url} answered with an error ({}).", doc.status),
                )],
                None,
            );
        }
        match text {
            Some(t) if t.starts_with('{') || vc_jwt::looks_like_compact_jws(t) => {
                self.read_text(t, "url", recipient).await
            }
            _ if doc.body.starts_with(bake::png::SIGNATURE) || looks_like_svg(&doc.body) => {
                Box::pin(self.read_bytes(&doc.body, recipient)).await
            }
            _ => parse_failure(
                &format!(
                    "l'adresse {url} ne donne pas un badge mais un document {}",
                    doc.content_type.as_deref().unwrap_or("sans type")
                ),
                &format!(
                    "the address {url} gives no badge but a {} document",
                    doc.content_type.as_deref().unwrap_or("untyped")
                ),
            ),
        }
    }

    async fn read_text(&self, text: &str, container: &str, recipient: Option<&str>) -> Report {
        let text = text.trim();
        if vc_jwt::looks_like_compact_jws(text) {
            return self.verify_jwt(text, container, recipient).await;
        }
        if text.len() > MAX_JSON_BYTES {
            return parse_failure("le document est trop grand", "the document is too large");
        }
        match crate::json::from_str(text) {
            Ok(v) if v.is_object() => {
                let mut checks = vec![Check::pass(
                    id::PARSE,
                    "Le badge a été lu.",
                    "The badge was read.",
                )];
                let summary = summary(&v, &format!("{container}+json"));
                if is_clr(&v) {
                    let unsigned = data_integrity::proofs(&v).is_empty();
                    checks.extend(clr_checks(unsigned));
                    return Report::from_checks(checks, Some(summary));
                }
                self.verify_embedded(&v, &mut checks).await;
                checks.extend(self.status_checks(&v).await);
                self.explain_withdrawal(&v, &mut checks).await;
                let endorsements = self.endorsement_checks_after(&v, &checks).await;
                checks.extend(endorsements);
                finish(&v, None, checks, summary, recipient)
            }
            Ok(_) => parse_failure("le JSON n'est pas un objet", "the JSON is not an object"),
            Err(e) => parse_failure(
                &format!("le JSON est mal formé : {e}"),
                &format!("the JSON is malformed: {e}"),
            ),
        }
    }

    async fn verify_embedded(&self, cred: &Value, checks: &mut Vec<Check>) {
        conformance_checks(cred, checks);
        let proofs: Vec<Value> = data_integrity::proofs(cred).into_iter().cloned().collect();
        if proofs.is_empty() {
            checks.push(Check::fail(
                id::PROOF,
                "Le badge n'a pas de preuve (signature).",
                "The badge has no proof (signature).",
            ));
            // Still report JSON-LD problems.
            jsonld_check(cred, checks).await;
            return;
        }
        if proofs.len() > MAX_PROOFS {
            checks.push(Check::fail(
                id::PROOF,
                format!(
                    "Le badge porte {} preuves : carnet en vérifie {MAX_PROOFS} au plus.",
                    proofs.len()
                ),
                format!(
                    "The badge carries {} proofs: carnet checks {MAX_PROOFS} at most.",
                    proofs.len()
                ),
            ));
            return;
        }
        // A proof of a type carnet does not know may still be undefined JSON-LD (data loss): the
        // strict expansion of the whole document, proofs included, tells.
        let known = ["DataIntegrityProof", "Ed25519Signature2020"];
        if proofs.iter().any(|p| {
            !p.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| known.contains(&t))
        }) {
            let mut extra = Vec::new();
            jsonld_check(cred, &mut extra).await;
            checks.extend(
                extra
                    .into_iter()
                    .filter(|c| c.status != report::Status::Pass),
            );
        }
        let mut attempts = Vec::new();
        for proof in &proofs {
            let outcome = self.check_proof(cred, proof).await;
            let ok = outcome
                .iter()
                .all(|c| c.status == report::Status::Pass || c.status == report::Status::Warn);
            attempts.push(outcome);
            if ok {
                break;
            }
        }
        // Report the successful attempt if any, else the first one.
        let best = attempts
            .iter()
            .position(|a| {
                a.iter()
                    .all(|c| c.status == report::Status::Pass || c.status == report::Status::Warn)
            })
            .unwrap_or(0);
        checks.extend(attempts.swap_remove(best));
    }

    async fn check_proof(&self, cred: &Value, proof: &Value) -> Vec<Check> {
        let mut out = Vec::new();
        let purpose = proof.get("proofPurpose").and_then(Value::as_str);
        if purpose != Some("assertionMethod") {
            out.push(Check::fail(
                id::PROOF,
                format!(
                    "La preuve doit servir à « assertionMethod » (trouvé : {}).",
                    purpose.unwrap_or("rien")
                ),
                format!(
                    "The proof purpose must be \"assertionMethod\" (found: {}).",
                    purpose.unwrap_or("none")
                ),
            ));
            return out;
        }
        let Some(vm) = proof.get("verificationMethod").and_then(Value::as_str) else {
            out.push(Check::fail(
                id::KEY,
                "La preuve ne dit pas quelle clé l'a signée.",
                "The proof does not name its key.",
            ));
            return out;
        };
        let key = match self.resolver.verification_method(vm).await {
            Ok(k) => k,
            Err(e) => {
                out.push(resolve_failure(vm, &e));
                return out;
            }
        };
        let ecdsa_sd = proof.get("type").and_then(Value::as_str)
            == Some(data_integrity::DATA_INTEGRITY_PROOF)
            && proof.get("cryptosuite").and_then(Value::as_str) == Some(ecdsa_sd::ECDSA_SD_2023);
        let public = match (&key.material, ecdsa_sd) {
            (KeyMaterial::Ed25519(k), false) => ProofKey::Ed25519(*k),
            (KeyMaterial::P256(k), true) => ProofKey::P256(*k),
            (_, false) => {
                out.push(Check::fail(
                    id::KEY,
                    format!("La clé {vm} n'est pas une clé Ed25519."),
                    format!("The key {vm} is not an Ed25519 key."),
                ));
                return out;
            }
            (_, true) => {
                out.push(Check::fail(
                    id::KEY,
                    format!("La clé {vm} n'est pas une clé P-256 (exigée par ecdsa-sd-2023)."),
                    format!("The key {vm} is not a P-256 key (which ecdsa-sd-2023 requires)."),
                ));
                return out;
            }
        };
        out.push(key_check(vm, &key));
        let legacy = proof.get("cryptosuite").and_then(Value::as_str) == Some("eddsa-2022")
            || proof.get("type").and_then(Value::as_str) == Some("Ed25519Signature2020");
        if legacy {
            out.push(Check::warn(
                id::PROOF,
                "La preuve utilise un format ancien (eddsa-2022 ou Ed25519Signature2020), encore accepté.",
                "The proof uses a legacy format (eddsa-2022 or Ed25519Signature2020), still accepted.",
            ));
        }
        let (secured, proof_owned) = (cred.clone(), proof.clone());
        let result = tokio::task::spawn_blocking(move || match public {
            ProofKey::Ed25519(k) => data_integrity::verify_proof(&secured, &proof_owned, &k),
            ProofKey::P256(k) => ecdsa_sd::verify_ecdsa_sd_2023(&secured, &proof_owned, &k),
        })
        .await;
        match result {
            Ok(Ok(())) => {
                out.push(Check::pass(
                    id::JSONLD,
                    "Tous les termes du badge sont définis par ses contextes.",
                    "Every term of the badge is defined by its contexts.",
                ));
                out.push(Check::pass(
                    id::PROOF,
                    "La signature est valide : le badge n'a pas été modifié.",
                    "The signature is valid: the badge was not changed.",
                ));
            }
            Ok(Err(e)) => out.push(di_failure(&e)),
            Err(_) => out.push(Check::unknown(
                id::PROOF,
                "La vérification a échoué de façon inattendue.",
                "Verification failed unexpectedly.",
            )),
        }
        out.push(controller_check(cred, &key));
        out
    }
}

/// A CLR 2.0 credential (`ClrCredential`: a learner's record holding several achievement
/// credentials) is a Verifiable Credential, but not an Open Badge.
fn is_clr(cred: &Value) -> bool {
    match cred.get("type") {
        Some(Value::String(t)) => t == "ClrCredential",
        Some(Value::Array(a)) => a.iter().any(|t| t == "ClrCredential"),
        _ => false,
    }
}

/// What carnet says of a CLR 2.0 credential: it does not verify them (its CLR context is not
/// shipped and contexts are never fetched), so "could not check", never "invalid" for a record a
/// CLR verifier may accept; without any proof it is invalid whatever it is.
fn clr_checks(unsigned: bool) -> Vec<Check> {
    let mut checks = vec![Check::unknown(
        id::CONFORMANCE,
        "Ce document est un relevé CLR 2.0 (ClrCredential), pas un badge Open Badges : carnet ne vérifie que les badges Open Badges 2.0 et 3.0, ni ce relevé ni sa signature n'ont été vérifiés. Vérifiez-le avec un outil qui connaît le format CLR, ou vérifiez un à un les badges qu'il contient.",
        "This document is a CLR 2.0 record (ClrCredential), not an Open Badge: carnet verifies Open Badges 2.0 and 3.0 only, so neither this record nor its signature was checked. Check it with a tool that knows CLR, or check the badges it holds one by one.",
    )
    .at("type")
    // its signature was not checked: the question left open is whether it is authentic
    .in_section(report::Section::Authenticity)];
    if unsigned {
        checks.push(Check::fail(
            id::PROOF,
            "Le document n'a pas de preuve (signature) : personne ne peut le vérifier.",
            "The document has no proof (signature): nobody can verify it.",
        ));
    }
    checks
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let start = if b[start..].starts_with(&[0xEF, 0xBB, 0xBF]) {
        start + 3
    } else {
        start
    };
    &b[start..]
}

use checks::*;
