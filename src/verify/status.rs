//! Credential status of OB 3.0 credentials (CHECKLIST §5 `credentialStatus`, §8 step 4):
//! W3C `BitstringStatusListEntry` (the status-list credential is fetched, its own proof verified,
//! its issuer compared, the bit read) and the 1EdTech `1EdTechRevocationList`.
//!
//! A list that cannot be fetched, or whose proof does not hold, gives "status unknown"
//! (`indeterminate`), never "not revoked".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// A status-list credential whose proof held, decoded.
struct VerifiedList {
    /// The proof value it was verified with: carnet's own lists are re-signed at each change, so
    /// a different value means a different list.
    proof_value: String,
    issuer: String,
    purpose: String,
    bits: Arc<crate::status::bitstring::Bitstring>,
    verified_at: Instant,
    ttl: Duration,
}

/// Verified status lists, so that verifying the same badge twice costs neither a fetch nor the
/// list's signature check. A remote list is kept for its `ttl` (BitstringStatusList §2.1: in
/// milliseconds, default 5 minutes), at most 5 minutes; carnet's own lists are re-read from the
/// store every time (a revocation is seen at once) and only their proof check is skipped when
/// the list is the one already verified.
#[derive(Default)]
pub struct StatusListCache {
    lists: Mutex<HashMap<String, Arc<VerifiedList>>>,
}

impl std::fmt::Debug for StatusListCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusListCache").finish_non_exhaustive()
    }
}

const MAX_LIST_TTL: Duration = Duration::from_secs(300);
const MAX_CACHED_LISTS: usize = 256;

fn proof_value(list: &Value) -> Option<String> {
    crate::proof::data_integrity::proofs(list)
        .first()
        .and_then(|p| p.get("proofValue"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

impl StatusListCache {
    fn get(&self, url: &str) -> Option<Arc<VerifiedList>> {
        self.lists
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(url)
            .cloned()
    }
    fn put(&self, url: &str, list: VerifiedList) -> Arc<VerifiedList> {
        let list = Arc::new(list);
        let mut lists = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        if lists.len() >= MAX_CACHED_LISTS {
            lists.retain(|_, l| l.verified_at.elapsed() < l.ttl);
            if lists.len() >= MAX_CACHED_LISTS {
                lists.clear();
            }
        }
        lists.insert(url.to_string(), list.clone());
        list
    }
}

impl Verifier {
    async fn status_document(&self, url: &str) -> Result<Value, String> {
        if let Some(local) = &self.local
            && let Some(doc) = local.get(url).await
        {
            return Ok(doc);
        }
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

    /// The status-list credential at `url`, its proof verified and its list decoded; from the
    /// cache when it still holds (see [`StatusListCache`]).
    async fn verified_status_list(&self, url: &str) -> Result<Arc<VerifiedList>, Check> {
        let cached = self.status_lists.get(url);
        let local = match &self.local {
            Some(local) => local.get(url).await,
            None => None,
        };
        let is_local = local.is_some();
        if let Some(c) = &cached {
            let same = match &local {
                Some(doc) => proof_value(doc).as_deref() == Some(c.proof_value.as_str()),
                None => c.verified_at.elapsed() < c.ttl,
            };
            if same {
                return Ok(c.clone());
            }
        }
        let list = match local {
            Some(doc) => doc,
            None => self.status_document(url).await.map_err(|e| {
                unknown(
                    format!("Statut inconnu : la liste {url} n'a pas pu être obtenue ({e})."),
                    format!("Status unknown: the list {url} could not be obtained ({e})."),
                )
            })?,
        };
        let proofs: Vec<Value> = crate::proof::data_integrity::proofs(&list)
            .into_iter()
            .cloned()
            .collect();
        let mut proven = None;
        for proof in &proofs {
            let checks = Box::pin(self.check_proof(&list, proof)).await;
            if checks
                .iter()
                .all(|c| matches!(c.status, Status::Pass | Status::Warn))
            {
                proven = proof.get("proofValue").and_then(Value::as_str);
                break;
            }
        }
        let Some(proof_value) = proven else {
            return Err(unknown(
                format!("Statut inconnu : la signature de la liste {url} n'est pas valide."),
                format!("Status unknown: the signature of the list {url} is not valid."),
            ));
        };
        let subject = list.get("credentialSubject");
        let encoded = subject
            .and_then(|s| s.get("encodedList"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let bits = decode(encoded, &DecodeLimits::default()).map_err(|e| {
            unknown(
                format!("Statut inconnu : la liste {url} est illisible ({e})."),
                format!("Status unknown: the list {url} cannot be read ({e})."),
            )
        })?;
        let ttl = if is_local {
            Duration::ZERO
        } else {
            subject
                .and_then(|s| s.get("ttl"))
                .and_then(Value::as_u64)
                .map_or(MAX_LIST_TTL, Duration::from_millis)
                .min(MAX_LIST_TTL)
        };
        Ok(self.status_lists.put(
            url,
            VerifiedList {
                proof_value: proof_value.to_string(),
                issuer: super::checks::issuer_id(&list).unwrap_or("").to_string(),
                purpose: subject
                    .and_then(|s| s.get("statusPurpose"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                bits: Arc::new(bits),
                verified_at: Instant::now(),
                ttl,
            },
        ))
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
        let list = match self.verified_status_list(url).await {
            Ok(l) => l,
            Err(check) => return check,
        };
        // The list must be a credential of the same issuer, for the entry's purpose.
        if list.issuer != super::checks::issuer_id(cred).unwrap_or("-") {
            return unknown(
                format!(
                    "Statut inconnu : la liste {url} n'est pas publiée par l'émetteur du badge."
                ),
                format!("Status unknown: the list {url} is not published by the badge's issuer."),
            );
        }
        if list.purpose != purpose {
            let list_purpose = &list.purpose;
            return unknown(
                format!(
                    "Statut inconnu : la liste sert à « {list_purpose} », l'entrée à « {purpose} »."
                ),
                format!(
                    "Status unknown: the list is for \"{list_purpose}\", the entry for \"{purpose}\"."
                ),
            );
        }
        let bits = &list.bits;
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
