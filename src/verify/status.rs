//! Credential status of OB 3.0 credentials (CHECKLIST §5 `credentialStatus`, §8 step 4):
//! W3C `BitstringStatusListEntry` (the status-list credential is fetched, its own proof verified,
//! its issuer compared, the bit read) and the 1EdTech `1EdTechRevocationList`.
//!
//! A list that cannot be fetched, or whose proof does not hold, gives "status unknown"
//! (`indeterminate`), never "not revoked".

use std::sync::Arc;

use serde_json::Value;

use super::Verifier;
use super::report::{Check, Status};
use crate::status::bitstring::{DecodeLimits, decode};

/// The check id of status checks.
pub const STATUS: &str = "status";

/// Documents carnet publishes itself (its status lists...), answered without HTTP.
#[async_trait::async_trait]
pub trait LocalDocuments: Send + Sync {
    /// `None` when `url` is not one of carnet's own documents.
    async fn get(&self, url: &str) -> Option<Value>;
}

pub type SharedLocalDocuments = Arc<dyn LocalDocuments>;

fn unknown(fr: String, en: String) -> Check {
    Check::unknown(STATUS, fr, en)
}

impl Verifier {
    async fn status_document(&self, url: &str) -> Result<Value, String> {
        if let Some(local) = &self.local
            && let Some(doc) = local.get(url).await
        {
            return Ok(doc);
        }
        // Uncached: a revocation must be seen at once.
        let f = self.resolver.fetcher().map_err(|e| e.to_string())?;
        let doc = f
            .get_document(
                url,
                "application/vc+ld+json, application/ld+json, application/json",
            )
            .await
            .map_err(|e| e.to_string())?;
        if !(200..300).contains(&doc.status) {
            return Err(format!("the site answered with status {}", doc.status));
        }
        serde_json::from_slice(&doc.body).map_err(|_| "the list is not JSON".to_string())
    }

    /// The checks for the credential's `credentialStatus` (none when it has no status).
    pub(super) async fn status_checks(&self, cred: &Value) -> Vec<Check> {
        let entries: Vec<&Value> = match cred.get("credentialStatus") {
            None => return vec![],
            Some(Value::Array(a)) => a.iter().collect(),
            Some(one) => vec![one],
        };
        let mut out = Vec::new();
        for entry in entries {
            match entry.get("type").and_then(Value::as_str) {
                Some("BitstringStatusListEntry") => {
                    out.push(self.bitstring_entry(cred, entry).await)
                }
                Some("1EdTechRevocationList") => {
                    out.push(self.revocation_list_1edtech(cred, entry).await)
                }
                other => out.push(Check::warn(
                    STATUS,
                    format!(
                        "Ce type de statut n'est pas pris en charge : {}.",
                        other.unwrap_or("?")
                    ),
                    format!(
                        "This status type is not supported: {}.",
                        other.unwrap_or("?")
                    ),
                )),
            }
        }
        out
    }

    async fn bitstring_entry(&self, cred: &Value, entry: &Value) -> Check {
        let purpose = entry
            .get("statusPurpose")
            .and_then(Value::as_str)
            .unwrap_or("");
        let index = match entry.get("statusListIndex") {
            Some(Value::String(s)) => s.parse::<usize>().ok(),
            Some(Value::Number(n)) => n.as_u64().map(|n| n as usize),
            _ => None,
        };
        let (Some(url), Some(index)) = (
            entry.get("statusListCredential").and_then(Value::as_str),
            index,
        ) else {
            return Check::fail(
                STATUS,
                "L'entrée de statut est incomplète (statusListCredential, statusListIndex).",
                "The status entry is incomplete (statusListCredential, statusListIndex).",
            );
        };
        let list = match self.status_document(url).await {
            Ok(l) => l,
            Err(e) => {
                return unknown(
                    format!("Statut inconnu : la liste {url} n'a pas pu être obtenue ({e})."),
                    format!("Status unknown: the list {url} could not be obtained ({e})."),
                );
            }
        };
        // The list must be a credential of the same issuer, with a proof that holds.
        let list_issuer = super::checks::issuer_id(&list).unwrap_or("");
        if list_issuer != super::checks::issuer_id(cred).unwrap_or("-") {
            return unknown(
                format!(
                    "Statut inconnu : la liste {url} n'est pas publiée par l'émetteur du badge."
                ),
                format!("Status unknown: the list {url} is not published by the badge's issuer."),
            );
        }
        let proofs: Vec<Value> = crate::proof::data_integrity::proofs(&list)
            .into_iter()
            .cloned()
            .collect();
        let mut proven = false;
        for proof in &proofs {
            let checks = Box::pin(self.check_proof(&list, proof)).await;
            if checks
                .iter()
                .all(|c| matches!(c.status, Status::Pass | Status::Warn))
            {
                proven = true;
                break;
            }
        }
        if !proven {
            return unknown(
                format!("Statut inconnu : la signature de la liste {url} n'est pas valide."),
                format!("Status unknown: the signature of the list {url} is not valid."),
            );
        }
        let subject = list.get("credentialSubject");
        let list_purpose = subject
            .and_then(|s| s.get("statusPurpose"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if list_purpose != purpose {
            return unknown(
                format!(
                    "Statut inconnu : la liste sert à « {list_purpose} », l'entrée à « {purpose} »."
                ),
                format!(
                    "Status unknown: the list is for \"{list_purpose}\", the entry for \"{purpose}\"."
                ),
            );
        }
        let encoded = subject
            .and_then(|s| s.get("encodedList"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let bits = match decode(encoded, &DecodeLimits::default()) {
            Ok(b) => b,
            Err(e) => {
                return unknown(
                    format!("Statut inconnu : la liste {url} est illisible ({e})."),
                    format!("Status unknown: the list {url} cannot be read ({e})."),
                );
            }
        };
        match (bits.get(index), purpose) {
            (Ok(false), "suspension") => Check::pass(
                STATUS,
                "Le badge n'est pas suspendu.",
                "The badge is not suspended.",
            ),
            (Ok(false), _) => Check::pass(
                STATUS,
                "Le badge n'a pas été retiré par l'émetteur.",
                "The badge was not withdrawn by its issuer.",
            ),
            (Ok(true), "suspension") => Check::fail(
                STATUS,
                "Le badge est suspendu par l'émetteur.",
                "The badge is suspended by its issuer.",
            )
            .because(crate::verify::report::reason::SUSPENDED),
            (Ok(true), _) => Check::fail(
                STATUS,
                "Le badge a été retiré par l'émetteur.",
                "The badge was withdrawn by its issuer.",
            )
            .because(crate::verify::report::reason::REVOKED),
            (Err(e), _) => Check::fail(
                STATUS,
                format!("L'index de statut {index} est hors de la liste ({e})."),
                format!("The status index {index} is outside the list ({e})."),
            ),
        }
    }

    /// 1EdTech Revocation List (VCRL 1.0): revoked when `revokedCredential[]` has the credential's id.
    async fn revocation_list_1edtech(&self, cred: &Value, entry: &Value) -> Check {
        let Some(url) = entry.get("id").and_then(Value::as_str) else {
            return Check::fail(
                STATUS,
                "L'entrée de statut n'a pas d'adresse (id).",
                "The status entry has no address (id).",
            );
        };
        let list = match self.status_document(url).await {
            Ok(l) => l,
            Err(e) => {
                return unknown(
                    format!("Statut inconnu : la liste {url} n'a pas pu être obtenue ({e})."),
                    format!("Status unknown: the list {url} could not be obtained ({e})."),
                );
            }
        };
        let id = cred.get("id").and_then(Value::as_str).unwrap_or("");
        let revoked = list
            .get("revokedCredential")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|r| {
                r.get("id").and_then(Value::as_str) == Some(id)
                    && r.get("revoked").and_then(Value::as_bool).unwrap_or(true)
            });
        if revoked {
            Check::fail(
                STATUS,
                "Le badge a été retiré par l'émetteur.",
                "The badge was withdrawn by its issuer.",
            )
            .because(crate::verify::report::reason::REVOKED)
        } else {
            Check::pass(
                STATUS,
                "Le badge n'a pas été retiré par l'émetteur.",
                "The badge was not withdrawn by its issuer.",
            )
        }
    }
}
