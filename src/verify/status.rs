//! Credential status of OB 3.0 credentials (CHECKLIST §5 `credentialStatus`, §8 step 4):
//! W3C `BitstringStatusListEntry` and its predecessor, the CCG `StatusList2021Entry` that the DCC
//! tools still issue (for both: the status-list credential is fetched, its own proof verified,
//! its issuer compared, its purpose compared, the bit read), and the 1EdTech `1EdTechRevocationList`.
//! The two status lists differ only in their type names and in `encodedList` (a multibase `u`
//! before the base64url for Bitstring, none for StatusList2021: `crate::status`); they share the
//! fetch, the cache, the checks and the messages.
//!
//! A list that cannot be fetched, or whose proof does not hold, gives "status unknown"
//! (`indeterminate`), never "not revoked". carnet's own lists come from its store (the
//! `crate::status_publisher`), re-read each time so a revocation is seen at once; others are
//! fetched and kept for their `ttl`, at most 5 minutes (`StatusListCache`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Verifier;
use super::report::{Check, Status};
use crate::status::bitstring::{Bitstring, DecodeLimits};
use crate::status::{StatusError, StatusPurpose, status_list_2021};

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

/// Which status list a status-list credential is, read from its types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListFormat {
    /// W3C Bitstring Status List v1.0 (`BitstringStatusListCredential`); also any list that does
    /// not say it is a StatusList2021 one, as before StatusList2021 was read.
    Bitstring,
    /// CCG StatusList2021: `StatusList2021Credential` whose subject is a `StatusList2021`.
    StatusList2021,
}

impl ListFormat {
    fn of(list: &Value) -> ListFormat {
        let has = |v: Option<&Value>, name: &str| match v {
            Some(Value::String(s)) => s == name,
            Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(name)),
            _ => false,
        };
        let subject = list.get("credentialSubject");
        if has(list.get("type"), status_list_2021::CREDENTIAL_TYPE)
            && has(
                subject.and_then(|s| s.get("type")),
                status_list_2021::LIST_TYPE,
            )
        {
            ListFormat::StatusList2021
        } else {
            ListFormat::Bitstring
        }
    }

    /// The list credential's type, as the messages name it.
    fn credential_type(self) -> &'static str {
        match self {
            ListFormat::Bitstring => "BitstringStatusListCredential",
            ListFormat::StatusList2021 => status_list_2021::CREDENTIAL_TYPE,
        }
    }

    fn decode(self, encoded: &str) -> Result<Bitstring, StatusError> {
        let limits = DecodeLimits::default();
        match self {
            ListFormat::Bitstring => crate::status::bitstring::decode(encoded, &limits),
            ListFormat::StatusList2021 => status_list_2021::decode(encoded, &limits),
        }
    }
}

/// A status-list credential whose proof held, decoded.
struct VerifiedList {
    /// The proof value it was verified with: carnet's own lists are re-signed at each change, so
    /// a different value means a different list.
    proof_value: String,
    issuer: String,
    purpose: String,
    format: ListFormat,
    bits: Arc<Bitstring>,
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
    /// The list's document, or why not (in French, in English).
    async fn status_document(&self, url: &str) -> Result<Value, (String, String)> {
        if let Some(local) = &self.local
            && let Some(doc) = local.get(url).await
        {
            return Ok(doc);
        }
        let f = self.resolver.fetcher().map_err(|_| {
            (
                "le vérificateur ne consulte pas le réseau".to_owned(),
                "network lookups are turned off".to_owned(),
            )
        })?;
        let doc = f
            .get_document(
                url,
                "application/vc+ld+json, application/ld+json, application/json",
            )
            .await
            .map_err(|e| (e.in_french(), e.to_string()))?;
        if !(200..300).contains(&doc.status) {
            return Err((
                format!("le site a répondu par le code {}", doc.status),
                format!("the site answered with status {}", doc.status),
            ));
        }
        crate::json::from_slice(&doc.body).map_err(|_| {
            (
                "la liste n'est pas du JSON".to_owned(),
                "the list is not JSON".to_owned(),
            )
        })
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
            None => self.status_document(url).await.map_err(|(fr, en)| {
                unknown(
                    format!("Statut inconnu : la liste {url} n'a pas pu être obtenue ({fr})."),
                    format!("Status unknown: the list {url} could not be obtained ({en})."),
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
        let format = ListFormat::of(&list);
        let bits = format.decode(encoded).map_err(|e| {
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
                format,
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
                    out.push(self.list_entry(cred, entry, ListFormat::Bitstring).await)
                }
                Some(status_list_2021::ENTRY_TYPE) => out.push(
                    self.list_entry(cred, entry, ListFormat::StatusList2021)
                        .await,
                ),
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

    /// A `BitstringStatusListEntry` or a `StatusList2021Entry` (`format` says which list it needs).
    async fn list_entry(&self, cred: &Value, entry: &Value, format: ListFormat) -> Check {
        let purpose = entry
            .get("statusPurpose")
            .and_then(Value::as_str)
            .unwrap_or("");
        // StatusList2021 names `revocation` and `suspension` and leaves other purposes open: carnet
        // cannot tell what a set bit would mean, so such an entry is reported and not judged, as an
        // unknown status type is.
        if format == ListFormat::StatusList2021 && purpose.parse::<StatusPurpose>().is_err() {
            return Check::warn(
                STATUS,
                format!("Cet usage de statut n'est pas pris en charge : « {purpose} »."),
                format!("This status purpose is not supported: \"{purpose}\"."),
            );
        }
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
        if list.format != format {
            let expected = format.credential_type();
            return unknown(
                format!("Statut inconnu : la liste {url} n'est pas une {expected}."),
                format!("Status unknown: the list {url} is not a {expected}."),
            );
        }
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
            Err((fr, en)) => {
                return unknown(
                    format!("Statut inconnu : la liste {url} n'a pas pu être obtenue ({fr})."),
                    format!("Status unknown: the list {url} could not be obtained ({en})."),
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use ed25519_dalek::SigningKey;
    use serde_json::json;

    use super::*;
    use crate::proof::data_integrity::sign_eddsa_rdfc_2022;
    use crate::proof::multikey::ed25519_public_multibase;
    use crate::status::bitstring::{self, MIN_ENTRIES};
    use crate::verify::report::reason;
    use crate::verify::resolve::Resolver;

    const LISTS: &str = "https://status.example.org/lists";

    struct Documents(HashMap<String, Value>);

    #[async_trait::async_trait]
    impl LocalDocuments for Documents {
        async fn get(&self, url: &str) -> Option<Value> {
            self.0.get(url).cloned()
        }
    }

    /// A did:key issuer: (its DID, its key).
    fn issuer() -> (String, SigningKey) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let multibase = ed25519_public_multibase(&key.verifying_key());
        (format!("did:key:{multibase}"), key)
    }

    fn signed(mut doc: Value) -> Value {
        let (did, key) = issuer();
        let vm = format!("{did}#{}", did.trim_start_matches("did:key:"));
        doc["proof"] = sign_eddsa_rdfc_2022(&doc, &key, &vm, "2026-01-02T03:04:05Z").unwrap();
        doc
    }

    /// A StatusList2021Credential at `{LISTS}/{name}` (VC 1.1, as `@digitalbazaar/vc-status-list` makes them).
    fn list_2021(name: &str, purpose: &str, encoded_list: &str) -> (String, Value) {
        let url = format!("{LISTS}/{name}");
        let list = json!({
            "@context": ["https://www.w3.org/2018/credentials/v1", status_list_2021::CONTEXT,
                         "https://w3id.org/security/data-integrity/v2"],
            "id": url,
            "type": ["VerifiableCredential", "StatusList2021Credential"],
            "issuer": issuer().0,
            "issuanceDate": "2026-01-02T03:04:05Z",
            "credentialSubject": {"id": format!("{url}#list"), "type": "StatusList2021",
                                  "statusPurpose": purpose, "encodedList": encoded_list}
        });
        (url, signed(list))
    }

    /// The verifier, with these lists as local documents (no HTTP).
    fn verifier(lists: Vec<(String, Value)>) -> Verifier {
        Verifier::new(Resolver::new(vec![], None))
            .with_local(Arc::new(Documents(lists.into_iter().collect())))
    }

    fn credential(kind: &str, purpose: &str, list: &str, index: Value) -> Value {
        json!({
            "issuer": {"id": issuer().0, "type": ["Profile"]},
            "credentialStatus": {"id": format!("{LISTS}/{list}#{index}"), "type": kind,
                                 "statusPurpose": purpose, "statusListIndex": index,
                                 "statusListCredential": format!("{LISTS}/{list}")}
        })
    }

    fn one(mut checks: Vec<Check>) -> Check {
        assert_eq!(checks.len(), 1, "{checks:#?}");
        checks.remove(0)
    }

    #[test]
    fn the_list_format_comes_from_both_types() {
        let (_, list) = list_2021("r", "revocation", "x");
        assert_eq!(ListFormat::of(&list), ListFormat::StatusList2021);
        let mut half = list.clone();
        half["credentialSubject"]["type"] = json!("BitstringStatusList");
        assert_eq!(ListFormat::of(&half), ListFormat::Bitstring);
        let mut array = list;
        array["credentialSubject"]["type"] = json!(["StatusList2021"]);
        assert_eq!(ListFormat::of(&array), ListFormat::StatusList2021);
        assert_eq!(ListFormat::of(&json!({})), ListFormat::Bitstring);
    }

    #[tokio::test]
    async fn a_status_list_2021_entry_reads_its_bit() {
        let bits = Bitstring::with_set(MIN_ENTRIES, [5]).unwrap();
        let encoded = bitstring::encode(&bits)[1..].to_string();
        let v = verifier(vec![
            list_2021("r", "revocation", &encoded),
            list_2021("s", "suspension", &encoded),
        ]);
        let kind = status_list_2021::ENTRY_TYPE;
        let check = |purpose: &'static str, list: &'static str, index: Value| {
            let cred = credential(kind, purpose, list, index);
            let v = &v;
            async move { one(v.status_checks(&cred).await) }
        };
        let clear = check("revocation", "r", json!("6")).await;
        assert_eq!((clear.status, clear.reason), (Status::Pass, None));
        let revoked = check("revocation", "r", json!(5)).await;
        assert_eq!(
            (revoked.status, revoked.reason),
            (Status::Fail, Some(reason::REVOKED))
        );
        let suspended = check("suspension", "s", json!("5")).await;
        assert_eq!(
            (suspended.status, suspended.reason),
            (Status::Fail, Some(reason::SUSPENDED))
        );
        // The entry's purpose must be the list's.
        let mismatch = check("suspension", "r", json!("5")).await;
        assert_eq!(mismatch.status, Status::Unknown, "{mismatch:?}");
        // A purpose StatusList2021 leaves to others is not judged.
        let other = check("message", "r", json!("5")).await;
        assert_eq!(other.status, Status::Warn, "{other:?}");
        let outside = check("revocation", "r", json!(MIN_ENTRIES)).await;
        assert_eq!(outside.status, Status::Fail, "{outside:?}");
    }

    #[tokio::test]
    async fn each_entry_reads_only_its_own_list_format() {
        let bits = Bitstring::new(0);
        let (_, multibase_list) = list_2021("u", "revocation", &bitstring::encode(&bits));
        let lists = vec![
            list_2021("plain", "revocation", &bitstring::encode(&bits)[1..]),
            (format!("{LISTS}/u"), multibase_list),
        ];
        let v = verifier(lists);
        // A StatusList2021 list read for a BitstringStatusListEntry.
        let cred = credential(
            "BitstringStatusListEntry",
            "revocation",
            "plain",
            json!("1"),
        );
        let check = one(v.status_checks(&cred).await);
        assert_eq!(check.status, Status::Unknown);
        assert!(
            check
                .message
                .en
                .contains("is not a BitstringStatusListCredential"),
            "{check:?}"
        );
        // A StatusList2021 list with a multibase `encodedList`: not what StatusList2021 writes.
        let cred = credential(status_list_2021::ENTRY_TYPE, "revocation", "u", json!("1"));
        let check = one(v.status_checks(&cred).await);
        assert_eq!(check.status, Status::Unknown);
        assert!(check.message.en.contains("cannot be read"), "{check:?}");
    }

    #[tokio::test]
    async fn a_status_list_2021_entry_needs_a_status_list_2021_credential() {
        // carnet's own kind of list (BitstringStatusListCredential), signed by the same issuer.
        let url = format!("{LISTS}/bitstring");
        let list = bitstring::BitstringStatusListCredential::new(
            &url,
            bitstring::StatusListIssuer::Id(issuer().0),
            StatusPurpose::Revocation,
            &Bitstring::new(0),
            chrono::DateTime::UNIX_EPOCH,
        );
        let v = verifier(vec![(url, signed(list.to_json()))]);
        let bitstring_entry = credential(
            "BitstringStatusListEntry",
            "revocation",
            "bitstring",
            json!("1"),
        );
        assert_eq!(
            one(v.status_checks(&bitstring_entry).await).status,
            Status::Pass
        );
        let entry_2021 = credential(
            status_list_2021::ENTRY_TYPE,
            "revocation",
            "bitstring",
            json!("1"),
        );
        let check = one(v.status_checks(&entry_2021).await);
        assert_eq!(check.status, Status::Unknown);
        assert!(
            check
                .message
                .en
                .contains("is not a StatusList2021Credential"),
            "{check:?}"
        );
    }
}
