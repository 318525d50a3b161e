//! carnet's own documents, answered from its store and keys instead of over HTTP: a badge this
//! instance issued verifies whatever its base URL (a local address included, which the outbound
//! client refuses), hosted OB 2.0 assertions and their badge classes too, without carnet fetching
//! from itself.

use std::sync::Arc;

use async_trait::async_trait;

use super::ob2::{DocumentSource, Fetched, SourceError};

/// A document of this instance, answered as its HTTP route would answer it.
#[async_trait]
pub trait OwnDocuments: Send + Sync {
    /// `None` when `url` is not one of this instance's documents; otherwise the status and body
    /// its route gives (`410` for a withdrawn OB 2.0 assertion, `404` for an unknown award).
    async fn get(&self, url: &str) -> Option<Fetched>;

    /// When and why this instance withdrew the badge whose credential id is `credential_id`
    /// (a status list says only that it was); `None` for another issuer's badge or one in force.
    async fn withdrawal(&self, credential_id: &str) -> Option<Withdrawal>;
}

/// What the store knows of a withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub at: chrono::DateTime<chrono::Utc>,
    pub reason: Option<String>,
}

pub type SharedOwnDocuments = Arc<dyn OwnDocuments>;

/// The OB 2.0 verifier's source: this instance's documents first, then the web.
pub struct OwnFirst {
    pub own: SharedOwnDocuments,
    pub web: Arc<dyn DocumentSource>,
}

#[async_trait]
impl DocumentSource for OwnFirst {
    async fn get(&self, url: &str) -> Result<Fetched, SourceError> {
        match self.own.get(url).await {
            Some(doc) => Ok(doc),
            None => self.web.get(url).await,
        }
    }
}
