//! The running application: configuration, issuer (with keys), badge classes, storage and verifier,
//! assembled once at start-up and shared by the HTTP server and the CLI.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::badge_class::{BadgeClass, BadgeClassError};
use crate::config::{Config, ConfigError};
use crate::institution::{self, InstitutionError, Tenant, Tenants};
use crate::issuer::Issuer;
use crate::keys::{InstanceKey, KeyError};
use crate::own_documents::OwnDocuments;
use crate::status_publisher::StatusPublisher;
use crate::store::{self, Store, StoreError};
use crate::verify::Verifier;
use crate::verify::fetch::Fetcher;
use crate::verify::resolve::Resolver;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("badge classes:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    BadgeClasses(Vec<BadgeClassError>),
    #[error("keys: {0}")]
    Keys(#[from] KeyError),
    #[error("institution: {0}")]
    Institution(#[from] InstitutionError),
    #[error("database {url} (CARNET_DATABASE_URL): {error}{}", .error_source.as_deref().map(|s| format!(": {s}")).unwrap_or_default())]
    Store {
        url: String,
        error: StoreError,
        error_source: Option<String>,
    },
}

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub issuer: Arc<Issuer>,
    pub classes: Arc<BTreeMap<String, BadgeClass>>,
    pub store: Arc<Store>,
    pub verifier: Arc<Verifier>,
    /// The issuer's signed status lists (OB 3.0 revocation).
    pub status: Arc<StatusPublisher>,
    /// The documents of this instance's awards, read from the store (routes and verifier).
    pub own: Arc<OwnDocuments>,
    /// Under which the institutions' private keys are sealed in the database.
    pub instance_key: InstanceKey,
    /// Every institution of the instance.
    pub tenants: Arc<Tenants>,
}

impl App {
    /// Loads everything, generating keys on first start and running database migrations.
    pub async fn start(config: Config) -> Result<App, StartError> {
        let store = store::open(&config.database_url)
            .await
            .map_err(|error| StartError::Store {
                url: store::DatabaseUrl::new(config.database_url.clone()).redacted(),
                error_source: std::error::Error::source(&error).map(|s| s.to_string()),
                error,
            })?;
        let started = Self::with_store(config, store.clone()).await;
        if started.is_err() {
            store.close().await;
        }
        started
    }

    async fn with_store(config: Config, store: Arc<Store>) -> Result<App, StartError> {
        let instance_key = institution::bootstrap(&config, &store).await?;
        let slug = &config.institution;
        let tenant = institution::load(&store, &instance_key, &config.base_url, slug)
            .await?
            .ok_or_else(|| StoreError::InstitutionNotFound(slug.clone()))
            .map_err(InstitutionError::from)?;
        for file in institution::differing_files(&config.badge_classes_dir, &tenant) {
            tracing::warn!(
                "badge classes: {file} differs from the stored class, which is the one used: run `carnet badge-classes import` to store it"
            );
        }
        let issuer = tenant.issuer.clone();
        let classes = (*tenant.classes).clone();
        // Award rules name référentiel competences and levels: check them against what is
        // imported and shipped, so that a class never silently waits for a competence that
        // does not exist.
        let known = crate::award_rules::known_referentiels(
            &classes,
            store.as_ref(),
            issuer.slug(),
            Some(&crate::award_rules::shipped_dir(&config.badge_classes_dir)),
        )
        .await
        .map_err(|error| StartError::Store {
            url: store::DatabaseUrl::new(config.database_url.clone()).redacted(),
            error_source: std::error::Error::source(&error).map(|s| s.to_string()),
            error,
        })?;
        let (errors, warnings) = crate::award_rules::check_classes(&classes, &known);
        if !errors.is_empty() {
            return Err(StartError::BadgeClasses(errors));
        }
        for w in warnings {
            tracing::warn!("badge classes: {w}");
        }
        let fetcher = Arc::new(Fetcher::new(config.fetch_policy()));
        let instance = store
            .institutions()
            .await
            .map_err(InstitutionError::from)?
            .into_iter()
            .find(|i| i.urls == crate::store::InstitutionUrls::Instance)
            .map_or_else(|| config.issuer.slug.clone(), |i| i.slug);
        let tenants = Arc::new(
            Tenants::new(
                store.clone(),
                instance_key.clone(),
                &config.base_url,
                &instance,
            )
            .with(Arc::new(tenant.clone())),
        );
        // every institution's keys, status lists and documents are its own: no fetch
        let verifier = Arc::new(
            Verifier::new(
                Resolver::new(vec![issuer.clone()], Some(fetcher)).with_source(tenants.clone()),
            )
            .with_local(tenants.clone())
            .with_own(tenants.clone()),
        );
        if issuer.settings.email.is_none() {
            tracing::warn!(
                institution = issuer.slug(),
                "no issuer email: Open Badges 2.0 requires one, so awards get only their OB 3.0 form"
            );
        }
        Ok(App {
            config: Arc::new(config),
            issuer,
            classes: tenant.classes.clone(),
            store,
            verifier,
            status: tenant.status.clone(),
            own: tenant.own.clone(),
            instance_key,
            tenants,
        })
    }

    /// This application acting for another institution: its issuer, classes, status lists and
    /// documents; the rest shared.
    pub fn view(&self, tenant: &Tenant) -> App {
        App {
            issuer: tenant.issuer.clone(),
            classes: tenant.classes.clone(),
            status: tenant.status.clone(),
            own: tenant.own.clone(),
            ..self.clone()
        }
    }

    /// [`App::view`] for the institution `slug`; `None` when there is none.
    pub async fn for_institution(&self, slug: &str) -> Result<Option<App>, InstitutionError> {
        Ok(self.tenants.get(slug).await?.map(|t| self.view(&t)))
    }

    pub fn class(&self, slug: &str) -> Option<&BadgeClass> {
        self.classes.get(slug)
    }
}
