//! [`Tenants`]: every institution of the instance, loaded on first use and kept while its
//! revision holds. A node asks the database for the revision at most every [`FRESH`], so a
//! change made on another node (a rotation, a new class, a new name) is seen within that time.
//! It also answers the verifier's questions about carnet's own documents and keys, whichever
//! institution they belong to.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{InstitutionError, Tenant, load};
use crate::issuer::Issuer;
use crate::keys::InstanceKey;
use crate::store::Store;
use crate::verify::ob2::Fetched;

/// How long a loaded institution is used without asking for its revision.
pub const FRESH: Duration = Duration::from_secs(2);

pub struct Tenants {
    store: Arc<Store>,
    key: InstanceKey,
    base_url: String,
    /// The institution whose documents answer at the instance's own paths.
    instance: String,
    cache: RwLock<HashMap<String, (Arc<Tenant>, Instant)>>,
}

impl Tenants {
    pub fn new(store: Arc<Store>, key: InstanceKey, base_url: &str, instance: &str) -> Self {
        Self {
            store,
            key,
            base_url: base_url.trim_end_matches('/').to_owned(),
            instance: instance.to_owned(),
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// Starts with `tenant` known (the one loaded at start).
    pub fn with(self, tenant: Arc<Tenant>) -> Self {
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(tenant.institution.slug.clone(), (tenant, Instant::now()));
        self
    }

    /// The slug of the institution answering at the instance's own paths.
    pub fn instance_slug(&self) -> &str {
        &self.instance
    }

    /// The institution `slug`, `None` when there is none.
    pub async fn get(&self, slug: &str) -> Result<Option<Arc<Tenant>>, InstitutionError> {
        if !crate::text::is_slug(slug) {
            return Ok(None);
        }
        let cached = self
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(slug)
            .cloned();
        if let Some((tenant, at)) = &cached
            && at.elapsed() < FRESH
        {
            return Ok(Some(tenant.clone()));
        }
        let revision = self.store.institution_revision(slug).await?;
        let fresh = match (revision, cached) {
            (None, _) => None,
            (Some(r), Some((tenant, _))) if tenant.institution.revision == r => Some(tenant),
            _ => load(&self.store, &self.key, &self.base_url, slug)
                .await?
                .map(Arc::new),
        };
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        match &fresh {
            Some(tenant) => {
                cache.insert(slug.to_owned(), (tenant.clone(), Instant::now()));
            }
            None => {
                cache.remove(slug);
            }
        }
        Ok(fresh)
    }

    /// The institution of one of this instance's URLs or DIDs: named in it (`/issuers/{slug}`,
    /// `/ob2/issuers/{slug}`, `did:web:…:issuers:{slug}`), or the instance's own for its other
    /// paths; `None` for anything else.
    pub fn slug_in<'a>(&'a self, reference: &'a str) -> Option<&'a str> {
        let named = |rest: &'a str| {
            let end = rest.find(['/', '#', '?', ':']).unwrap_or(rest.len());
            Some(&rest[..end])
        };
        if let Some(path) = reference.strip_prefix(&self.base_url) {
            if !path.starts_with('/') {
                return None;
            }
            if let Some(rest) = path
                .strip_prefix("/issuers/")
                .or_else(|| path.strip_prefix("/ob2/issuers/"))
            {
                return named(rest);
            }
            return Some(&self.instance);
        }
        if reference.starts_with("did:web:") {
            let (_, rest) = reference.split_once(":issuers:")?;
            return named(rest);
        }
        None
    }

    async fn tenant_of(&self, reference: &str) -> Option<Arc<Tenant>> {
        let slug = self.slug_in(reference)?;
        match self.get(slug).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!("institution {slug}: {e}");
                None
            }
        }
    }
}

#[async_trait::async_trait]
impl crate::verify::resolve::LocalIssuers for Tenants {
    async fn issuer_for(&self, reference: &str) -> Option<Arc<Issuer>> {
        Some(self.tenant_of(reference).await?.issuer.clone())
    }
}

#[async_trait::async_trait]
impl crate::verify::status::LocalDocuments for Tenants {
    async fn get(&self, url: &str) -> Option<Value> {
        crate::verify::status::LocalDocuments::get(self.tenant_of(url).await?.status.as_ref(), url)
            .await
    }
}

#[async_trait::async_trait]
impl crate::verify::own::OwnDocuments for Tenants {
    async fn get(&self, url: &str) -> Option<Fetched> {
        let tenant = self.tenant_of(url).await?;
        crate::verify::own::OwnDocuments::get(tenant.own.as_ref(), url).await
    }

    async fn withdrawal(&self, credential_id: &str) -> Option<crate::verify::own::Withdrawal> {
        let tenant = self.tenant_of(credential_id).await?;
        crate::verify::own::OwnDocuments::withdrawal(tenant.own.as_ref(), credential_id).await
    }
}
