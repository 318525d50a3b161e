//! Publishing an issuer's status lists: the signed `BitstringStatusListCredential` for each
//! (purpose, list number), built from the store and re-signed only when the list's revision
//! changes (a revocation bumps it in the same transaction as the award's state), so every node
//! serving the list sees a revocation at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use serde_json::{Value, json};

use crate::issuer::Issuer;
use crate::keys::rfc3339;
use crate::proof::data_integrity;
use crate::status::bitstring::{Bitstring, BitstringStatusListCredential, StatusListIssuer};
use crate::status::{StatusPurpose, StatusSlot};
use crate::store::{Store, StoreError};
use crate::verify::status::LocalDocuments;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing the status list failed: {0}")]
    Signing(String),
}

pub struct StatusPublisher {
    issuer: Arc<Issuer>,
    store: Arc<Store>,
    /// Signed lists by (purpose, list), with the revision they were made at.
    cache: Mutex<HashMap<(StatusPurpose, u32), (u64, Value)>>,
}

/// URL of one status list of an issuer.
pub fn list_url(issuer: &Issuer, purpose: StatusPurpose, list: u32) -> String {
    format!("{}/status/{}/{list}", issuer.id(), purpose.as_str())
}

/// The `credentialStatus` entry of a credential at `slot`.
pub fn entry(issuer: &Issuer, purpose: StatusPurpose, slot: StatusSlot) -> Value {
    crate::status::bitstring::BitstringStatusListEntry::new(
        &list_url(issuer, purpose, slot.list),
        purpose,
        slot.index,
    )
    .to_json()
}

impl StatusPublisher {
    pub fn new(issuer: Arc<Issuer>, store: Arc<Store>) -> Self {
        Self {
            issuer,
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The signed list, or `None` if that list was never opened.
    pub async fn signed_list(
        &self,
        purpose: StatusPurpose,
        list: u32,
    ) -> Result<Option<Value>, PublishError> {
        let Some(info) = self
            .store
            .status_list(self.issuer.slug(), purpose, list)
            .await?
        else {
            return Ok(None);
        };
        if let Some((rev, doc)) = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(purpose, list))
            && *rev == info.revision
        {
            return Ok(Some(doc.clone()));
        }
        let set = self
            .store
            .revoked_in_list(self.issuer.slug(), purpose, list)
            .await?;
        let mut bits = Bitstring::new(info.size as usize);
        for index in set {
            bits.set(index as usize, true)
                .map_err(|e| PublishError::Signing(e.to_string()))?;
        }
        let url = list_url(&self.issuer, purpose, list);
        let issuer = StatusListIssuer::Named {
            id: self.issuer.id(),
            name: self.issuer.settings.name.clone(),
        };
        let unsigned =
            BitstringStatusListCredential::new(&url, issuer, purpose, &bits, info.updated_at)
                .to_json();
        let signer = self.issuer.clone();
        let signed = tokio::task::spawn_blocking(move || {
            let key = signer.keys.active_ed25519();
            let proof = data_integrity::sign_eddsa_rdfc_2022(
                &unsigned,
                key.signing_key(),
                &signer.verification_method(&key.kid),
                &rfc3339(Utc::now()),
            )?;
            let mut doc = unsigned;
            doc["proof"] = json!([proof]);
            Ok::<_, data_integrity::DiError>(doc)
        })
        .await
        .map_err(|e| PublishError::Signing(e.to_string()))?
        .map_err(|e| PublishError::Signing(e.to_string()))?;
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((purpose, list), (info.revision, signed.clone()));
        Ok(Some(signed))
    }

    /// (purpose, list) of one of this issuer's list URLs.
    pub fn parse_url(&self, url: &str) -> Option<(StatusPurpose, u32)> {
        let rest = url.strip_prefix(&format!("{}/status/", self.issuer.id()))?;
        let (purpose, list) = rest.split_once('/')?;
        Some((purpose.parse().ok()?, list.parse().ok()?))
    }
}

#[async_trait::async_trait]
impl LocalDocuments for StatusPublisher {
    async fn get(&self, url: &str) -> Option<Value> {
        let (purpose, list) = self.parse_url(url)?;
        match self.signed_list(purpose, list).await {
            Ok(doc) => doc,
            Err(e) => {
                tracing::error!("status list {url}: {e}");
                None
            }
        }
    }
}
