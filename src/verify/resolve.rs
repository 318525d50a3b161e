//! Key resolution (CHECKLIST §7): from a Data Integrity `verificationMethod` or a VC-JWT `kid` to a
//! public key and the key's controller.
//!
//! - carnet's own issuers: from the key ring, no fetch;
//! - `did:key`: decoded offline;
//! - `did:web`: the DID document is fetched; the method must be listed in `assertionMethod`;
//! - `https://issuer#z6Mk…` (the form 1EdTech recommends; `#zDna…` for a P-256 key): key read from the fragment, controller
//!   = the part before `#`; carnet then tries to confirm on the issuer's site that the key is listed;
//! - other https URLs: the key document (Multikey / JWK) or a controller document listing it.

use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use super::fetch::{FetchError, Fetcher, host_of};
use crate::issuer::Issuer;
use crate::proof::multikey::{decode_ed25519_multibase, decode_p256_multibase, did_key_to_ed25519};

/// Public key material.
#[derive(Debug, Clone)]
pub enum KeyMaterial {
    Ed25519(VerifyingKey),
    /// P-256, for `ecdsa-sd-2023` proofs.
    P256(p256::ecdsa::VerifyingKey),
    Jwk(Value),
}

#[derive(Debug, Clone)]
pub struct ResolvedKey {
    pub material: KeyMaterial,
    /// Who controls the key, when known (compared with the credential's issuer).
    pub controller: Option<String>,
    /// Whether a document published by the controller lists this key (false: read from the badge itself).
    pub confirmed: bool,
    /// How the key was found, for the report ("did:key", "did:web", "carnet", ...).
    pub how: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Could not check (verdict: indeterminate): network lookups are turned off.
    #[error("network lookups are turned off")]
    Offline,
    /// Could not check: the fetch failed (its kind, said in both languages; never an address).
    #[error("{0}")]
    Fetch(FetchError),
    /// The reference is wrong or the published document refuses it (verdict: invalid).
    #[error("{0}")]
    Invalid(String),
}

impl From<FetchError> for ResolveError {
    fn from(e: FetchError) -> Self {
        ResolveError::Fetch(e)
    }
}

/// carnet's own issuers when they are many and live in its database: the one a key reference
/// (a DID URL, a key URL) names, if it is one of them.
#[async_trait::async_trait]
pub trait LocalIssuers: Send + Sync {
    async fn issuer_for(&self, reference: &str) -> Option<Arc<Issuer>>;
}

pub struct Resolver {
    local: Vec<Arc<Issuer>>,
    /// Further own issuers, found by the reference (`crate::institution::Tenants`).
    source: Option<Arc<dyn LocalIssuers>>,
    /// `None`: offline (no fetch at all).
    fetcher: Option<Arc<Fetcher>>,
}

impl Resolver {
    pub fn new(local: Vec<Arc<Issuer>>, fetcher: Option<Arc<Fetcher>>) -> Self {
        Self {
            local,
            source: None,
            fetcher,
        }
    }

    /// Also resolves keys of the issuers `source` finds.
    pub fn with_source(mut self, source: Arc<dyn LocalIssuers>) -> Self {
        self.source = Some(source);
        self
    }

    async fn own_key(&self, reference: &str) -> Option<ResolvedKey> {
        if let Some(k) = local_key(&self.local, reference) {
            return Some(k);
        }
        let issuer = self.source.as_ref()?.issuer_for(reference).await?;
        local_key(std::slice::from_ref(&issuer), reference)
    }

    /// The shared HTTP client, if network lookups are on.
    pub fn fetcher_handle(&self) -> Option<Arc<Fetcher>> {
        self.fetcher.clone()
    }

    pub(crate) fn fetcher(&self) -> Result<&Fetcher, ResolveError> {
        self.fetcher.as_deref().ok_or(ResolveError::Offline)
    }
}

/// A key of one of `issuers`, when `reference` names one.
fn local_key(issuers: &[Arc<Issuer>], reference: &str) -> Option<ResolvedKey> {
    for issuer in issuers {
        // An endorser carnet hosts and signs for: the institution's Ed25519 keys under the
        // endorser's DID, controlled by the endorser's Profile id (`crate::endorsement::profile`).
        if let Some((endorser, kid)) = crate::issuer::parse_verification_method(issuer, reference) {
            let key = issuer.keys.ed25519.iter().find(|k| k.kid == kid)?;
            return Some(ResolvedKey {
                material: KeyMaterial::Ed25519(key.verifying_key()),
                controller: Some(crate::issuer::endorser_url(issuer, endorser)),
                confirmed: true,
                how: "carnet",
            });
        }
        let did_prefix = format!("{}#", issuer.did());
        let url_prefix = format!("{}/keys/", issuer.id());
        let Some(kid) = reference
            .strip_prefix(&did_prefix)
            .or_else(|| reference.strip_prefix(&url_prefix))
        else {
            continue;
        };
        if let Some(k) = issuer.keys.ed25519.iter().find(|k| k.kid == kid) {
            return Some(ResolvedKey {
                material: KeyMaterial::Ed25519(k.verifying_key()),
                controller: Some(issuer.id()),
                confirmed: true,
                how: "carnet",
            });
        }
        if let Some(jwk) = issuer.key_jwk(kid) {
            return Some(ResolvedKey {
                material: KeyMaterial::Jwk(jwk),
                controller: Some(issuer.id()),
                confirmed: true,
                how: "carnet",
            });
        }
    }
    None
}

impl Resolver {
    /// Resolves a Data Integrity verification method.
    pub async fn verification_method(&self, vm: &str) -> Result<ResolvedKey, ResolveError> {
        if let Some(k) = self.own_key(vm).await {
            return Ok(k);
        }
        if vm.starts_with("did:key:") {
            let key = did_key_to_ed25519(vm)
                .map_err(|e| ResolveError::Invalid(format!("did:key: {e}")))?;
            let did = vm.split('#').next().unwrap_or(vm);
            return Ok(ResolvedKey {
                material: KeyMaterial::Ed25519(key),
                controller: Some(did.to_string()),
                confirmed: true,
                how: "did:key",
            });
        }
        if vm.starts_with("did:web:") {
            return self.did_web(vm).await;
        }
        if let Some(method) = vm.strip_prefix("did:") {
            let name = method.split(':').next().unwrap_or_default();
            return Err(ResolveError::Invalid(format!(
                "the DID method \"{name}\" is not supported (did:key and did:web are)"
            )));
        }
        if vm.starts_with("https://") || vm.starts_with("http://") {
            return self.http_method(vm).await;
        }
        Err(ResolveError::Invalid(format!(
            "\"{vm}\" is not a URL or a DID"
        )))
    }

    /// Resolves a VC-JWT `kid` to a JWK.
    pub async fn jwt_kid(&self, kid: &str) -> Result<ResolvedKey, ResolveError> {
        if let Some(k) = self.own_key(kid).await {
            return Ok(k);
        }
        if kid.starts_with("did:") {
            return self.verification_method(kid).await;
        }
        if !(kid.starts_with("https://") || kid.starts_with("http://")) {
            return Err(ResolveError::Invalid(format!(
                "the key id \"{kid}\" is not a URL or a DID"
            )));
        }
        let doc = self
            .fetcher()?
            .get_json(kid, "application/jwk+json, application/json")
            .await?;
        let jwk = doc.get("publicKeyJwk").cloned().unwrap_or(doc.clone());
        if jwk.get("kty").is_none() {
            return Err(ResolveError::Invalid(format!(
                "{kid} does not answer a JWK"
            )));
        }
        let controller = doc
            .get("controller")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(ResolvedKey {
            material: KeyMaterial::Jwk(jwk),
            controller,
            confirmed: true,
            how: "https",
        })
    }

    async fn did_web(&self, vm: &str) -> Result<ResolvedKey, ResolveError> {
        let did = vm.split('#').next().unwrap_or(vm);
        let url = self.did_web_url(did)?;
        let doc = self
            .fetcher()?
            .get_json(&url, "application/did+json, application/json")
            .await?;
        let fragment = vm.split_once('#').map(|(_, f)| format!("#{f}"));
        let is_this = |id: &str| id == vm || fragment.as_deref() == Some(id);
        let method = doc
            .get("verificationMethod")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|m| m.get("id").and_then(Value::as_str).is_some_and(is_this))
            .ok_or_else(|| {
                ResolveError::Invalid(format!("the DID document of {did} has no method {vm}"))
            })?;
        let listed = doc
            .get("assertionMethod")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|a| {
                a.as_str().is_some_and(is_this)
                    || a.get("id").and_then(Value::as_str).is_some_and(is_this)
            });
        if !listed {
            return Err(ResolveError::Invalid(format!(
                "{vm} is not listed in assertionMethod of {did}"
            )));
        }
        let controller = method
            .get("controller")
            .and_then(Value::as_str)
            .unwrap_or(did)
            .to_string();
        Ok(ResolvedKey {
            material: key_of(method, vm)?,
            controller: Some(controller),
            confirmed: true,
            how: "did:web",
        })
    }

    fn did_web_url(&self, did: &str) -> Result<String, ResolveError> {
        let rest = did.strip_prefix("did:web:").unwrap_or_default();
        let mut parts = rest.split(':');
        let host = parts
            .next()
            .unwrap_or_default()
            .replace("%3A", ":")
            .replace("%3a", ":");
        if host.is_empty() || host.contains('/') {
            return Err(ResolveError::Invalid(format!(
                "\"{did}\" is not a valid did:web"
            )));
        }
        let path: Vec<&str> = parts.collect();
        let bare_host = host_of(&format!("https://{host}/"))
            .unwrap_or_default()
            .to_string();
        let scheme = match &self.fetcher {
            Some(f) if f.http_allowed(&bare_host) => "http",
            _ => "https",
        };
        Ok(if path.is_empty() {
            format!("{scheme}://{host}/.well-known/did.json")
        } else {
            format!("{scheme}://{host}/{}/did.json", path.join("/"))
        })
    }

    async fn http_method(&self, vm: &str) -> Result<ResolvedKey, ResolveError> {
        let (doc_url, fragment) = vm
            .split_once('#')
            .map(|(u, f)| (u, Some(f)))
            .unwrap_or((vm, None));
        // `<controller>#<publicKeyMultibase>`: the key is in the reference itself (Ed25519 or P-256).
        if let Some(frag) = fragment.filter(|f| f.starts_with("z6Mk") || f.starts_with("zDn")) {
            let material = if frag.starts_with("zDn") {
                decode_p256_multibase(frag).map(KeyMaterial::P256)
            } else {
                decode_ed25519_multibase(frag).map(KeyMaterial::Ed25519)
            }
            .map_err(|e| ResolveError::Invalid(format!("{vm}: {e}")))?;
            let confirmed = match self.fetcher.as_deref() {
                Some(f) => f
                    .get_json(doc_url, "application/ld+json, application/json")
                    .await
                    .is_ok_and(|doc| lists(&doc, vm)),
                None => false,
            };
            return Ok(ResolvedKey {
                material,
                controller: Some(doc_url.to_string()),
                confirmed,
                how: "fragment",
            });
        }
        let doc = self
            .fetcher()?
            .get_json(vm, "application/ld+json, application/json")
            .await?;
        let method = if doc.get("publicKeyMultibase").is_some() || doc.get("publicKeyJwk").is_some()
        {
            doc.clone()
        } else {
            doc.get("verificationMethod")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|m| m.get("id").and_then(Value::as_str) == Some(vm))
                .cloned()
                .ok_or_else(|| {
                    ResolveError::Invalid(format!("{vm} does not answer a verification method"))
                })?
        };
        let controller = method
            .get("controller")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(ResolvedKey {
            material: key_of(&method, vm)?,
            controller,
            confirmed: true,
            how: "https",
        })
    }
}

/// Does a controller document list this method (in verificationMethod or assertionMethod)?
fn lists(doc: &Value, vm: &str) -> bool {
    ["assertionMethod", "verificationMethod"].iter().any(|k| {
        doc.get(*k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|m| m.as_str() == Some(vm) || m.get("id").and_then(Value::as_str) == Some(vm))
    })
}

fn key_of(method: &Value, vm: &str) -> Result<KeyMaterial, ResolveError> {
    if let Some(mb) = method.get("publicKeyMultibase").and_then(Value::as_str) {
        return decode_ed25519_multibase(mb)
            .map(KeyMaterial::Ed25519)
            .map_err(|e| ResolveError::Invalid(format!("{vm}: {e}")));
    }
    if let Some(jwk) = method.get("publicKeyJwk") {
        if jwk.get("kty").and_then(Value::as_str) == Some("OKP")
            && jwk.get("crv").and_then(Value::as_str) == Some("Ed25519")
        {
            use base64::Engine;
            let x = jwk.get("x").and_then(Value::as_str).unwrap_or_default();
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(x)
                .map_err(|_| {
                    ResolveError::Invalid(format!("{vm}: publicKeyJwk.x is not base64url"))
                })?;
            let arr: [u8; 32] = bytes
                .try_into()
                .map_err(|_| ResolveError::Invalid(format!("{vm}: not an Ed25519 key")))?;
            let key = VerifyingKey::from_bytes(&arr)
                .map_err(|_| ResolveError::Invalid(format!("{vm}: not an Ed25519 key")))?;
            return Ok(KeyMaterial::Ed25519(key));
        }
        return Ok(KeyMaterial::Jwk(jwk.clone()));
    }
    Err(ResolveError::Invalid(format!(
        "{vm} has neither publicKeyMultibase nor publicKeyJwk"
    )))
}
