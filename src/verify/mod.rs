//! Verification of OB 3.0 credentials from carnet or from anyone (CHECKLIST §7–8): read the input
//! (PNG, SVG, JSON, compact JWS), check the data model, the JSON-LD expansion, the proof, the key
//! and its controller, the validity dates and, when asked, the recipient. The result is a
//! [`Report`]; nothing here returns an error for a bad badge.

pub mod fetch;
pub mod report;
pub mod resolve;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::bake::{self, Container, Keyword, Limits};
use crate::jsonld::{self, CanonError};
use crate::ob3::conformance;
use crate::proof::data_integrity::{self, DiError};
use crate::proof::vc_jwt;
use report::{Check, Report, Summary, check_id as id};
use resolve::{KeyMaterial, ResolveError, ResolvedKey, Resolver};

/// Largest JSON document accepted (bytes).
pub const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;

pub struct Verifier {
    pub resolver: Resolver,
    pub limits: Limits,
}

const VC_V1_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";

impl Verifier {
    pub fn new(resolver: Resolver) -> Self {
        Self {
            resolver,
            limits: Limits::default(),
        }
    }

    /// Verifies a badge given as bytes: a PNG or SVG image, a JSON credential or a compact JWS.
    pub async fn verify_bytes(&self, input: &[u8], recipient: Option<&str>) -> Report {
        let trimmed = trim_ascii(input);
        if trimmed.first() == Some(&b'{') || trimmed.starts_with(b"eyJ") {
            let Ok(text) = std::str::from_utf8(trimmed) else {
                return parse_failure("le texte n'est pas en UTF-8", "the text is not UTF-8");
            };
            return self.verify_text(text, "text", recipient).await;
        }
        match bake::unbake(input, &self.limits) {
            Ok(baked) => {
                if baked.keyword == Keyword::Ob2Assertion {
                    return parse_failure(
                        "c'est un badge Open Badges 2.0 : carnet ne vérifie encore que les badges 3.0",
                        "this is an Open Badges 2.0 badge: carnet only verifies 3.0 badges so far",
                    );
                }
                let format = match baked.container {
                    Container::Png => "png",
                    Container::Svg => "svg",
                };
                let text = baked
                    .verify_attr
                    .clone()
                    .filter(|v| vc_jwt::looks_like_compact_jws(v))
                    .unwrap_or(baked.text);
                self.verify_text(&text, format, recipient).await
            }
            Err(e) => parse_failure(
                &format!("l'image n'a pas pu être lue : {e}"),
                &format!("the image could not be read: {e}"),
            ),
        }
    }

    /// Verifies a credential given as text (JSON or compact JWS).
    pub async fn verify_text(
        &self,
        text: &str,
        container: &str,
        recipient: Option<&str>,
    ) -> Report {
        let text = text.trim();
        if vc_jwt::looks_like_compact_jws(text) {
            return self.verify_jwt(text, container, recipient).await;
        }
        if text.len() > MAX_JSON_BYTES {
            return parse_failure("le document est trop grand", "the document is too large");
        }
        match serde_json::from_str::<Value>(text) {
            Ok(v) if v.is_object() => {
                let mut checks = vec![Check::pass(
                    id::PARSE,
                    "Le badge a été lu.",
                    "The badge was read.",
                )];
                let summary = summary(&v, &format!("{container}+json"));
                self.verify_embedded(&v, &mut checks).await;
                finish(&v, checks, summary, recipient)
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
        let KeyMaterial::Ed25519(public) = key.material else {
            out.push(Check::fail(
                id::KEY,
                format!("La clé {vm} n'est pas une clé Ed25519."),
                format!("The key {vm} is not an Ed25519 key."),
            ));
            return out;
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
        let result = tokio::task::spawn_blocking(move || {
            data_integrity::verify_proof(&secured, &proof_owned, &public)
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

    async fn verify_jwt(&self, compact: &str, container: &str, recipient: Option<&str>) -> Report {
        let decoded = match vc_jwt::decode(compact) {
            Ok(d) => d,
            Err(e) => {
                return parse_failure(
                    &format!("le jeton JWT est illisible : {e}"),
                    &format!("the JWT cannot be read: {e}"),
                );
            }
        };
        let (cred, nested) = vc_jwt::credential_of(&decoded.payload);
        let mut checks = vec![Check::pass(
            id::PARSE,
            "Le badge (JWT) a été lu.",
            "The badge (JWT) was read.",
        )];
        let summary = summary(&cred, &format!("{container}+jwt"));
        let v1 = first_context(&cred) == Some(VC_V1_CONTEXT);
        if nested != v1 {
            checks.push(Check::fail(
                id::CONFORMANCE,
                "Le jeton mélange les formats VC 1.1 et VC 2.0 (« vc » et @context ne correspondent pas).",
                "The token mixes VC 1.1 and VC 2.0 (the `vc` claim and @context disagree).",
            ));
        }
        conformance_checks(&cred, &mut checks);
        jsonld_check(&cred, &mut checks).await;

        // Key: `kid` (resolved) or an embedded `jwk` (accepted with a warning: nothing ties it to the issuer).
        let key = if let Some(kid) = decoded.kid() {
            match self.resolver.jwt_kid(kid).await {
                Ok(k) => {
                    checks.push(key_check(kid, &k));
                    Some(k)
                }
                Err(e) => {
                    checks.push(resolve_failure(kid, &e));
                    None
                }
            }
        } else if let Some(jwk) = decoded.embedded_jwk() {
            checks.push(Check::warn(
                id::KEY,
                "La clé est écrite dans le jeton lui-même : carnet ne peut pas confirmer qu'elle appartient à l'émetteur.",
                "The key is written in the token itself: carnet cannot confirm it belongs to the issuer.",
            ));
            Some(ResolvedKey {
                material: KeyMaterial::Jwk(jwk.clone()),
                controller: None,
                confirmed: false,
                how: "jwk",
            })
        } else {
            checks.push(Check::fail(
                id::KEY,
                "Le jeton ne dit pas quelle clé l'a signé (ni kid ni jwk).",
                "The token names no key (no kid, no jwk).",
            ));
            None
        };
        if let Some(key) = &key {
            let jwk = match &key.material {
                KeyMaterial::Jwk(j) => j.clone(),
                KeyMaterial::Ed25519(k) => {
                    use base64::Engine;
                    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k.as_bytes());
                    serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x})
                }
            };
            match vc_jwt::verify_signature(&decoded, &jwk) {
                Ok(()) => checks.push(Check::pass(
                    id::PROOF,
                    "La signature du jeton est valide : le badge n'a pas été modifié.",
                    "The token's signature is valid: the badge was not changed.",
                )),
                Err(e) => checks.push(Check::fail(
                    id::PROOF,
                    format!("La signature du jeton n'est pas valide : {e}."),
                    format!("The token's signature is not valid: {e}."),
                )),
            }
            match (&key.controller, decoded.kid()) {
                (Some(_), _) => checks.push(controller_check(&cred, key)),
                // A bare JWK names no controller: it belongs to the issuer if the issuer publishes it
                // under its own id (carnet's `{issuer}/keys/{kid}`, or a fragment of the issuer id).
                (None, Some(kid)) => {
                    let issuer = issuer_id(&cred).unwrap_or("");
                    let under_issuer = !issuer.is_empty()
                        && (kid.starts_with(&format!("{issuer}/"))
                            || kid.starts_with(&format!("{issuer}#")));
                    checks.push(if under_issuer {
                        Check::pass(
                            id::CONTROLLER,
                            "La clé est publiée à l'adresse de l'émetteur du badge.",
                            "The key is published under the badge issuer's address.",
                        )
                    } else {
                        Check::warn(
                            id::CONTROLLER,
                            format!("La clé {kid} n'est pas publiée à l'adresse de l'émetteur ({issuer})."),
                            format!("The key {kid} is not published under the issuer's address ({issuer})."),
                        )
                    });
                }
                (None, None) => {}
            }
        }
        if !nested {
            claims_checks(&decoded.payload, &cred, &mut checks);
        }
        finish(&cred, checks, summary, recipient)
    }
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

fn parse_failure(fr: &str, en: &str) -> Report {
    Report::from_checks(
        vec![Check::fail(
            id::PARSE,
            format!("Impossible de lire le badge : {fr}."),
            format!("The badge cannot be read: {en}."),
        )],
        None,
    )
}

fn first_context(cred: &Value) -> Option<&str> {
    match cred.get("@context")? {
        Value::Array(a) => a.first()?.as_str(),
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn conformance_checks(cred: &Value, checks: &mut Vec<Check>) {
    let problems = conformance::check_credential(cred);
    let failed = problems.iter().any(|c| c.status == report::Status::Fail);
    checks.extend(problems);
    if !failed {
        checks.push(Check::pass(
            id::CONFORMANCE,
            "Le badge respecte le modèle Open Badges 3.0.",
            "The badge follows the Open Badges 3.0 data model.",
        ));
    }
}

async fn jsonld_check(cred: &Value, checks: &mut Vec<Check>) {
    let doc = cred.clone();
    match tokio::task::spawn_blocking(move || jsonld::canonicalize(&doc)).await {
        Ok(Ok(_)) => checks.push(Check::pass(
            id::JSONLD,
            "Tous les termes du badge sont définis par ses contextes.",
            "Every term of the badge is defined by its contexts.",
        )),
        Ok(Err(e)) => checks.push(canon_failure(&e)),
        Err(_) => checks.push(Check::unknown(
            id::JSONLD,
            "Vérification JSON-LD interrompue.",
            "JSON-LD check interrupted.",
        )),
    }
}

fn canon_failure(e: &CanonError) -> Check {
    match e {
        CanonError::UnknownContext(url) => Check::unknown(
            id::CONTEXT,
            format!(
                "Le contexte {url} est inconnu de carnet : il n'a pas été téléchargé, le badge n'a pas pu être vérifié."
            ),
            format!(
                "The context {url} is unknown to carnet: it was not fetched, so the badge could not be checked."
            ),
        ),
        CanonError::UndefinedTerm(t) => Check::fail(
            id::JSONLD,
            format!("Le badge contient un terme que ses contextes ne définissent pas : {t}."),
            format!("The badge contains a term its contexts do not define: {t}."),
        ),
        other => Check::fail(
            id::JSONLD,
            format!("Le badge n'est pas un JSON-LD valide : {other}."),
            format!("The badge is not valid JSON-LD: {other}."),
        ),
    }
}

fn di_failure(e: &DiError) -> Check {
    match e {
        DiError::Canon(c) => canon_failure(c),
        DiError::SignatureMismatch => Check::fail(
            id::PROOF,
            "La signature ne correspond pas : le badge a été modifié après sa signature, ou signé avec une autre clé.",
            "The signature does not match: the badge was changed after it was signed, or signed with another key.",
        ),
        DiError::UnsupportedProof(what) => Check::unknown(
            id::PROOF,
            format!("Ce type de preuve n'est pas pris en charge : {what}."),
            format!("This proof type is not supported: {what}."),
        ),
        other => Check::fail(
            id::PROOF,
            format!("La preuve est mal formée : {other}."),
            format!("The proof is malformed: {other}."),
        ),
    }
}

fn resolve_failure(reference: &str, e: &ResolveError) -> Check {
    match e {
        ResolveError::Unreachable(why) => Check::unknown(
            id::KEY,
            format!("La clé {reference} n'a pas pu être obtenue : {why}."),
            format!("The key {reference} could not be obtained: {why}."),
        ),
        ResolveError::Invalid(why) => Check::fail(
            id::KEY,
            format!("La clé {reference} est refusée : {why}."),
            format!("The key {reference} is refused: {why}."),
        ),
    }
}

fn key_check(reference: &str, key: &ResolvedKey) -> Check {
    if key.confirmed {
        Check::pass(
            id::KEY,
            format!("La clé {reference} a été trouvée ({}).", key.how),
            format!("The key {reference} was found ({}).", key.how),
        )
    } else {
        Check::warn(
            id::KEY,
            format!(
                "La clé est écrite dans le badge ({reference}) : carnet n'a pas pu confirmer sur le site de l'émetteur qu'elle est la sienne."
            ),
            format!(
                "The key is written in the badge ({reference}): carnet could not confirm on the issuer's site that it is theirs."
            ),
        )
    }
}

fn issuer_id(cred: &Value) -> Option<&str> {
    cred.get("issuer")
        .and_then(|i| i.get("id").and_then(Value::as_str).or_else(|| i.as_str()))
}

fn controller_check(cred: &Value, key: &ResolvedKey) -> Check {
    let issuer = issuer_id(cred).unwrap_or("");
    match key.controller.as_deref() {
        Some(c) if c == issuer => Check::pass(
            id::CONTROLLER,
            "La clé appartient bien à l'émetteur du badge.",
            "The key belongs to the badge's issuer.",
        ),
        // did:key names only a key: nothing ties it to an issuer id of another form (1EdTech accepts it).
        // Only for issuer ids that cannot publish keys (urn:uuid...): an issuer with an https or
        // DID id must sign with a key it controls.
        Some(c)
            if key.how == "did:key"
                && !(issuer.starts_with("https://")
                    || issuer.starts_with("http://")
                    || issuer.starts_with("did:")) =>
        {
            Check::warn(
                id::CONTROLLER,
                format!(
                    "La clé {c} n'est pas liée à l'identifiant de l'émetteur ({issuer}) : rien ne prouve qu'elle est la sienne."
                ),
                format!(
                    "The key {c} is not tied to the issuer's id ({issuer}): nothing proves it is theirs."
                ),
            )
        }
        Some(c) => Check::fail(
            id::CONTROLLER,
            format!("La clé appartient à {c}, pas à l'émetteur du badge ({issuer})."),
            format!("The key belongs to {c}, not to the badge's issuer ({issuer})."),
        ),
        None => Check::warn(
            id::CONTROLLER,
            "Le propriétaire de la clé est inconnu.",
            "The key's owner is unknown.",
        ),
    }
}

fn claims_checks(payload: &Value, cred: &Value, checks: &mut Vec<Check>) {
    let mut mismatch = |claim: &str, expected: Option<&str>, what: &str| {
        let got = payload.get(claim);
        match (got, expected) {
            (None, _) => {}
            (Some(g), Some(e)) if g.as_str() == Some(e) => {}
            (Some(_), _) => checks.push(Check::fail(
                id::PROOF,
                format!("La revendication JWT « {claim} » ne correspond pas à {what}."),
                format!("The JWT claim \"{claim}\" does not match {what}."),
            )),
        }
    };
    mismatch("iss", issuer_id(cred), "issuer.id");
    mismatch("jti", cred.get("id").and_then(Value::as_str), "id");
    mismatch(
        "sub",
        cred.pointer("/credentialSubject/id")
            .and_then(Value::as_str),
        "credentialSubject.id",
    );
    let date = |k: &str| {
        cred.get(k)
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.timestamp())
    };
    for (claim, field) in [("nbf", "validFrom"), ("exp", "validUntil")] {
        if let (Some(got), Some(want)) = (payload.get(claim).and_then(Value::as_i64), date(field))
            && got != want
        {
            checks.push(Check::fail(
                id::PROOF,
                format!("La revendication JWT « {claim} » ne correspond pas à {field}."),
                format!("The JWT claim \"{claim}\" does not match {field}."),
            ));
        }
    }
}

fn date_of(cred: &Value, keys: &[&str]) -> Option<Result<DateTime<Utc>, String>> {
    let (k, v) = keys.iter().find_map(|k| cred.get(*k).map(|v| (*k, v)))?;
    Some(
        v.as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| k.to_string()),
    )
}

fn date_checks(cred: &Value, checks: &mut Vec<Check>) {
    let now = Utc::now();
    match date_of(cred, &["validFrom", "issuanceDate"]) {
        Some(Ok(from)) if from > now => checks.push(Check::fail(
            id::VALID_FROM,
            format!(
                "Le badge n'est pas encore valable : il le sera le {}.",
                from.format("%d/%m/%Y")
            ),
            format!(
                "The badge is not valid yet: it will be on {}.",
                from.format("%Y-%m-%d")
            ),
        )),
        Some(Ok(from)) => checks.push(Check::pass(
            id::VALID_FROM,
            format!(
                "Le badge est valable depuis le {}.",
                from.format("%d/%m/%Y")
            ),
            format!("The badge is valid since {}.", from.format("%Y-%m-%d")),
        )),
        Some(Err(k)) => checks.push(Check::fail(
            id::VALID_FROM,
            format!("La date {k} est illisible."),
            format!("The date {k} cannot be read."),
        )),
        None => {}
    }
    match date_of(cred, &["validUntil", "expirationDate"]) {
        Some(Ok(until)) if until < now => checks.push(Check::fail(
            id::VALID_UNTIL,
            format!("Le badge a expiré le {}.", until.format("%d/%m/%Y")),
            format!("The badge expired on {}.", until.format("%Y-%m-%d")),
        )),
        Some(Ok(until)) => checks.push(Check::pass(
            id::VALID_UNTIL,
            format!(
                "Le badge est valable jusqu'au {}.",
                until.format("%d/%m/%Y")
            ),
            format!("The badge is valid until {}.", until.format("%Y-%m-%d")),
        )),
        Some(Err(k)) => checks.push(Check::fail(
            id::VALID_UNTIL,
            format!("La date {k} est illisible."),
            format!("The date {k} cannot be read."),
        )),
        None => {}
    }
}

/// Compares a known identifier (an email) with the credential's subject, hashing it with each salt.
fn recipient_check(cred: &Value, candidate: &str, checks: &mut Vec<Check>) {
    let subject = cred.get("credentialSubject");
    let by_id = subject
        .and_then(|s| s.get("id"))
        .and_then(Value::as_str)
        .is_some_and(|i| {
            i == candidate
                || i.strip_prefix("mailto:")
                    .is_some_and(|m| m.eq_ignore_ascii_case(candidate.trim()))
        });
    let identifiers = subject.and_then(|s| s.get("identifier")).map(|v| match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    });
    let by_identifier = identifiers.into_iter().flatten().any(|ident| {
        let kind = ident
            .get("identityType")
            .and_then(Value::as_str)
            .unwrap_or("");
        if kind != "emailAddress" {
            return false;
        }
        let value = ident
            .get("identityHash")
            .and_then(Value::as_str)
            .unwrap_or("");
        if ident
            .get("hashed")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            crate::recipient::matches(candidate, value, ident.get("salt").and_then(Value::as_str))
        } else {
            value.trim().eq_ignore_ascii_case(candidate.trim())
        }
    });
    if by_id || by_identifier {
        checks.push(Check::pass(
            id::RECIPIENT,
            "Le badge a bien été donné à cette personne.",
            "The badge was given to this person.",
        ));
    } else {
        checks.push(Check::fail(
            id::RECIPIENT,
            "Le badge n'a pas été donné à cette adresse email.",
            "The badge was not given to this email address.",
        ));
    }
}

fn finish(
    cred: &Value,
    mut checks: Vec<Check>,
    summary: Summary,
    recipient: Option<&str>,
) -> Report {
    date_checks(cred, &mut checks);
    if let Some(r) = recipient {
        recipient_check(cred, r, &mut checks);
    }
    Report::from_checks(checks, Some(summary))
}

fn summary(cred: &Value, format: &str) -> Summary {
    let s = |p: &str| cred.pointer(p).and_then(Value::as_str).map(str::to_string);
    Summary {
        format: format.to_string(),
        credential_id: s("/id"),
        name: s("/name"),
        issuer_id: issuer_id(cred).map(str::to_string),
        issuer_name: s("/issuer/name"),
        achievement_name: s("/credentialSubject/achievement/name"),
        valid_from: s("/validFrom").or_else(|| s("/issuanceDate")),
        valid_until: s("/validUntil").or_else(|| s("/expirationDate")),
    }
}
