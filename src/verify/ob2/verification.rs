//! OB 2.0 verification proper (CHECKLIST §1 "Hosted scope rule" and "Hosted revocation", §2, §3
//! step 6): the hosted assertion answered at its id (a `410 Gone` or `revoked: true` means revoked),
//! inside its issuer's verification policy; or the JWS (RS256 only) verified with the `publicKeyPem`
//! of `verification.creator`, a key the issuer's profile lists and whose `owner` is the issuer, then
//! the issuer's revocation list. Also the timestamps (validator-core `ASSERTION_TIMESTAMP_CHECKS`).

use josekit::jws::{RS256, deserialize_compact};
use serde_json::Value;

use super::classes::Class;
use super::graph::{Node, Run};
use super::input::Jws;
use super::source::Body;
use super::values::{self, authority_of, list_of, ref_id, show};
use super::{HOSTED, REVOCATION};
use crate::verify::report::{Check, Status, check_id as id};

/// What the hosted assertion's address answered.
pub enum Hosted {
    Found(Value),
    /// Not JSON: maybe a baked image.
    Bytes(Vec<u8>),
    /// Revoked (410 Gone); reported.
    Revoked,
    /// Could not be used; reported.
    Failed,
}

pub async fn fetch_hosted(run: &mut Run<'_>, url: &str) -> Hosted {
    let fetched = match run.get(url).await {
        Ok(f) => f,
        Err(e) => {
            run.push(Check::unknown(
                HOSTED,
                format!("Le site de l'émetteur n'a pas répondu : impossible de vérifier que le badge y est publié ({}).", e.0),
                format!("The issuer's site did not answer: could not check that the badge is published there ({}).", e.0),
            ).at("id"));
            return Hosted::Failed;
        }
    };
    match (fetched.status, fetched.body) {
        (410, body) => {
            let reason = match &body {
                Body::Json(v) => v.get("revocationReason").and_then(Value::as_str),
                _ => None,
            };
            run.push(revoked_check(reason));
            Hosted::Revoked
        }
        (200..=299, Body::Json(v)) if v.is_object() => Hosted::Found(v),
        (200..=299, Body::Bytes(b)) if !b.is_empty() => Hosted::Bytes(b),
        (200..=299, _) => {
            run.push(Check::fail(
                HOSTED,
                format!("L'adresse du badge ({url}) ne renvoie pas un document JSON."),
                format!("The badge's address ({url}) does not answer with a JSON document."),
            ));
            Hosted::Failed
        }
        (status, _) => {
            let check = if status >= 500 {
                Check::unknown(
                    HOSTED,
                    format!(
                        "Le site de l'émetteur est en panne (erreur {status}) : réessayez plus tard."
                    ),
                    format!("The issuer's site is failing (error {status}): try again later."),
                )
            } else {
                Check::fail(
                    HOSTED,
                    format!(
                        "L'émetteur ne publie pas ce badge à son adresse ({url}, erreur {status})."
                    ),
                    format!(
                        "The issuer does not publish this badge at its address ({url}, error {status})."
                    ),
                )
            };
            run.push(check);
            Hosted::Failed
        }
    }
}

fn revoked_check(reason: Option<&str>) -> Check {
    let (fr, en) = match reason.filter(|r| !r.trim().is_empty()) {
        Some(r) => (format!(" (raison : {r})"), format!(" (reason: {r})")),
        None => (String::new(), String::new()),
    };
    Check::fail(
        REVOCATION,
        format!("Le badge a été révoqué par son émetteur{fr}."),
        format!("The badge was revoked by its issuer{en}."),
    )
    .because(crate::verify::report::reason::REVOKED)
}

/// Hosted verification once the assertion (and, when obtained, its issuer) are read.
pub fn hosted_checks(run: &mut Run<'_>, assertion: &Node, issuer: Option<&Node>, fetched: bool) {
    if assertion.get("revoked").and_then(Value::as_bool) == Some(true) {
        let reason = assertion.get("revocationReason").and_then(Value::as_str);
        run.push(revoked_check(reason));
    } else if fetched {
        run.push(Check::pass(
            REVOCATION,
            "L'émetteur publie toujours ce badge : il n'est pas révoqué.",
            "The issuer still publishes this badge: it is not revoked.",
        ));
    }
    // The address the assertion was actually read from is what the issuer's policy must cover
    // (its declared id may say anything; a mismatch is reported when it is read).
    let (Some(assertion_id), Some(issuer)) = (assertion.url.as_deref().or(assertion.id()), issuer)
    else {
        return;
    };
    let scope = scope_check(assertion_id, &issuer.value);
    let in_scope = scope.status != Status::Fail;
    run.push(scope);
    if fetched && in_scope {
        run.push(Check::pass(
            HOSTED,
            format!("Le badge est publié par son émetteur à son adresse ({assertion_id})."),
            format!("The badge is published by its issuer at its address ({assertion_id})."),
        ));
    }
}

/// validator-core `hosted_id_in_verification_scope`: `startsWith` prefixes when the issuer gives
/// them, then the allowed origins (default: the host of the issuer's id).
pub fn scope_check(assertion_id: &str, issuer: &Value) -> Check {
    let policy = issuer.get("verification").filter(|v| v.is_object());
    let starts: Vec<&str> = list_of(policy.and_then(|p| p.get("startsWith")))
        .into_iter()
        .filter_map(Value::as_str)
        .collect();
    if !starts.is_empty() && !starts.iter().any(|s| assertion_id.starts_with(s)) {
        return Check::fail(
            HOSTED,
            format!("L'adresse du badge ({assertion_id}) ne commence par aucun des préfixes que l'émetteur autorise ({}).", starts.join(", ")),
            format!("The badge's address ({assertion_id}) starts with none of the prefixes its issuer allows ({}).", starts.join(", ")),
        )
        .at("id");
    }
    let issuer_id = issuer.get("id").and_then(Value::as_str).unwrap_or("");
    let allowed: Vec<String> = match policy.and_then(|p| p.get("allowedOrigins")) {
        Some(v) => list_of(Some(v))
            .into_iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .collect(),
        None => authority_of(issuer_id).into_iter().collect(),
    };
    if allowed.is_empty() || !values::is_url(issuer_id) {
        return Check::warn(
            HOSTED,
            format!(
                "L'émetteur ({issuer_id}) n'a pas d'adresse web : carnet ne peut pas vérifier que le badge est publié sur son site."
            ),
            format!(
                "The issuer ({issuer_id}) has no web address: carnet cannot check that the badge is published on its site."
            ),
        );
    }
    match authority_of(assertion_id) {
        Some(a) if allowed.contains(&a) => Check::pass(
            HOSTED,
            format!("Le badge est publié sur un site de l'émetteur ({a})."),
            format!("The badge is published on a site of its issuer ({a})."),
        ),
        _ => Check::fail(
            HOSTED,
            format!(
                "Le badge ({assertion_id}) n'est pas publié sur un site de l'émetteur ({}).",
                allowed.join(", ")
            ),
            format!(
                "The badge ({assertion_id}) is not published on a site of its issuer ({}).",
                allowed.join(", ")
            ),
        )
        .at("id"),
    }
}

pub fn timestamp_checks(run: &mut Run<'_>, assertion: &Value) {
    let date = |k: &str| {
        assertion
            .get(k)
            .and_then(Value::as_str)
            .and_then(values::parse_datetime)
    };
    let issued = date("issuedOn");
    if let Some(on) = issued {
        run.push(
            if on > run.now {
                Check::fail(
                    id::VALID_FROM,
                    format!("Le badge est daté du futur ({}).", on.format("%d/%m/%Y")),
                    format!(
                        "The badge is dated in the future ({}).",
                        on.format("%Y-%m-%d")
                    ),
                )
                .because(crate::verify::report::reason::NOT_YET_VALID)
            } else {
                Check::pass(
                    id::VALID_FROM,
                    format!("Le badge a été délivré le {}.", on.format("%d/%m/%Y")),
                    format!("The badge was issued on {}.", on.format("%Y-%m-%d")),
                )
            }
            .at("issuedOn"),
        );
    }
    if let Some(until) = date("expires") {
        let check = if issued.is_some_and(|on| until < on) {
            Check::fail(
                id::VALID_UNTIL,
                "Le badge expire avant d'avoir été délivré.",
                "The badge expires before it was issued.",
            )
        } else if until < run.now {
            Check::fail(
                id::VALID_UNTIL,
                format!("Le badge a expiré le {}.", until.format("%d/%m/%Y")),
                format!("The badge expired on {}.", until.format("%Y-%m-%d")),
            )
            .because(crate::verify::report::reason::EXPIRED)
        } else {
            Check::pass(
                id::VALID_UNTIL,
                format!(
                    "Le badge est valable jusqu'au {}.",
                    until.format("%d/%m/%Y")
                ),
                format!("The badge is valid until {}.", until.format("%Y-%m-%d")),
            )
        };
        run.push(check.at("expires"));
    }
}

/// Signed verification: algorithm, key, signature, key ownership, revocation list.
pub async fn signed_checks(run: &mut Run<'_>, jws: &Jws, assertion: &Node, issuer: Option<&Node>) {
    let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != "RS256" {
        run.push(Check::fail(
            id::PROOF,
            format!("L'algorithme de signature « {alg} » est refusé : carnet n'accepte que RS256 pour Open Badges 2.0."),
            format!("The signature algorithm \"{alg}\" is refused: carnet only accepts RS256 for Open Badges 2.0."),
        ));
        return;
    }
    let Some(issuer) = issuer else {
        return; // why the issuer is missing is already reported; nothing vouches for a key
    };
    // Keys are trusted only through the issuer profile published at its own address.
    let issuer = if issuer.url.is_none() && issuer.id().is_some_and(values::is_url) {
        let reference = Value::String(issuer.id().unwrap_or_default().to_string());
        match run.node(&reference, Class::Profile, "badge.issuer").await {
            Ok(n) => n,
            Err(check) => return run.push(check),
        }
    } else {
        issuer.clone()
    };
    let listed: Vec<String> = list_of(issuer.get("publicKey"))
        .into_iter()
        .filter_map(|k| ref_id(k).map(str::to_string))
        .collect();
    let creator = assertion
        .get("verification")
        .and_then(|v| v.get("creator"))
        .and_then(ref_id)
        .map(str::to_string);
    let candidates = creator
        .clone()
        .map(|c| vec![c])
        .unwrap_or_else(|| listed.clone());
    if candidates.is_empty() {
        run.push(Check::fail(
            id::KEY,
            "Aucune clé n'est indiquée : ni verification.creator dans le badge, ni publicKey dans le profil de l'émetteur.",
            "No key is given: neither verification.creator in the badge nor publicKey in the issuer's profile.",
        ));
        return;
    }
    let mut last_failure = None;
    for key_id in &candidates {
        match verify_with_key(run, jws, key_id).await {
            Ok(key) => {
                run.push(Check::pass(
                    id::PROOF,
                    "La signature est valide : le badge n'a pas été modifié.",
                    "The signature is valid: the badge was not changed.",
                ));
                ownership_checks(run, key_id, &key, &issuer, &listed);
                revocation_list_checks(run, assertion, &issuer).await;
                return;
            }
            Err(check) => last_failure = Some(check),
        }
    }
    if let Some(check) = last_failure {
        run.push(check);
    }
}

/// Fetches the key and verifies the JWS with it; the check says why not.
async fn verify_with_key(run: &mut Run<'_>, jws: &Jws, key_id: &str) -> Result<Node, Check> {
    let key = run
        .node(
            &Value::String(key_id.to_string()),
            Class::CryptographicKey,
            "verification.creator",
        )
        .await
        .map_err(|mut c| {
            c.id = id::KEY;
            c
        })?;
    run.validate(&key, Class::CryptographicKey, "verification.creator");
    let Some(pem) = key.get("publicKeyPem").and_then(Value::as_str) else {
        return Err(Check::fail(
            id::KEY,
            format!("La clé {key_id} ne donne pas de clé publique (publicKeyPem)."),
            format!("The key {key_id} gives no public key (publicKeyPem)."),
        ));
    };
    let verifier = RS256.verifier_from_pem(pem).map_err(|_| {
        Check::fail(
            id::KEY,
            format!(
                "La clé {key_id} n'est pas une clé publique RSA d'au moins 2048 bits au format PEM."
            ),
            format!("The key {key_id} is not an RSA public key of at least 2048 bits in PEM form."),
        )
    })?;
    match deserialize_compact(&jws.compact, &verifier) {
        Ok(_) => Ok(key),
        Err(_) => Err(Check::fail(
            id::PROOF,
            format!(
                "La signature ne correspond pas à la clé {key_id} : le badge a été modifié après sa signature, ou signé avec une autre clé."
            ),
            format!(
                "The signature does not match the key {key_id}: the badge was changed after it was signed, or signed with another key."
            ),
        )),
    }
}

/// CHECKLIST §2: the issuer's profile lists the key (`publicKey`) and the key names the issuer
/// (`owner`): both directions.
fn ownership_checks(run: &mut Run<'_>, key_id: &str, key: &Node, issuer: &Node, listed: &[String]) {
    let issuer_id = issuer.id().unwrap_or("");
    let mut ok = true;
    if !listed.iter().any(|k| k == key_id) {
        ok = false;
        run.push(Check::fail(
            id::CONTROLLER,
            format!("Le profil de l'émetteur ({issuer_id}) ne déclare pas la clé {key_id} : rien ne prouve qu'elle est la sienne."),
            format!("The issuer's profile ({issuer_id}) does not list the key {key_id}: nothing proves it is theirs."),
        ));
    }
    match key.get("owner").and_then(Value::as_str) {
        Some(owner) if owner == issuer_id => {}
        Some(owner) => {
            ok = false;
            run.push(Check::fail(
                id::CONTROLLER,
                format!(
                    "La clé {key_id} appartient à {owner}, pas à l'émetteur du badge ({issuer_id})."
                ),
                format!(
                    "The key {key_id} belongs to {owner}, not to the badge's issuer ({issuer_id})."
                ),
            ));
        }
        None => run.push(Check::warn(
            id::CONTROLLER,
            format!("La clé {key_id} ne nomme pas son propriétaire (owner)."),
            format!("The key {key_id} does not name its owner."),
        )),
    }
    if ok {
        run.push(Check::pass(
            id::CONTROLLER,
            "La clé appartient à l'émetteur, qui la déclare dans son profil.",
            "The key belongs to the issuer, who lists it in its profile.",
        ));
    }
}

async fn revocation_list_checks(run: &mut Run<'_>, assertion: &Node, issuer: &Node) {
    let Some(list_ref) = issuer.get("revocationList").cloned() else {
        run.push(Check::pass(
            REVOCATION,
            "L'émetteur ne publie pas de liste de révocation : ce badge signé ne peut pas avoir été révoqué.",
            "The issuer publishes no revocation list: this signed badge cannot have been revoked.",
        ));
        return;
    };
    let list = match run
        .node(
            &list_ref,
            Class::RevocationList,
            "badge.issuer.revocationList",
        )
        .await
    {
        Ok(list) => list,
        Err(check) => {
            run.push(status_unknown(
                &show(&list_ref),
                &check.message.fr,
                &check.message.en,
            ));
            return;
        }
    };
    if !run.validate(&list, Class::RevocationList, "badge.issuer.revocationList") {
        run.push(status_unknown(
            &show(&list_ref),
            "la liste est mal formée",
            "the list is malformed",
        ));
        return;
    }
    let assertion_id = assertion.id();
    let uid = assertion.get("uid").and_then(Value::as_str);
    let entries = list_of(list.get("revokedAssertions"));
    let hit = entries.into_iter().find(|e| match e {
        Value::String(s) => Some(s.as_str()) == assertion_id,
        other => {
            let field = |k: &str| other.get(k).and_then(Value::as_str);
            (field("id").is_some() && field("id") == assertion_id)
                || (field("uid").is_some() && field("uid") == uid)
        }
    });
    match hit {
        Some(entry) => run.push(revoked_check(
            entry.get("revocationReason").and_then(Value::as_str),
        )),
        None => run.push(Check::pass(
            REVOCATION,
            "Le badge ne figure pas dans la liste de révocation de l'émetteur.",
            "The badge is not in the issuer's revocation list.",
        )),
    }
}

/// A revocation list that cannot be read says nothing: "status unknown", never "not revoked".
fn status_unknown(list: &str, why_fr: &str, why_en: &str) -> Check {
    Check::unknown(
        REVOCATION,
        format!(
            "Statut de révocation inconnu : la liste de révocation ({list}) n'a pas pu être lue. {why_fr}"
        ),
        format!(
            "Revocation status unknown: the revocation list ({list}) could not be read. {why_en}"
        ),
    )
}
