//! Institutions as data (issue #13 §1): each one an issuer with its own Profile, keys and badge
//! classes, kept in the database so that every node serves every institution.
//!
//! - [`bootstrap`], at every start: the instance key (given, read, or made on the very first
//!   start), and, the first time, the first institution from `CARNET_ISSUER_*` with the key
//!   files of `keys/<slug>/` (or new keys) and the classes of `badge-classes/`. Its documents keep
//!   answering at the instance's own paths ([`InstitutionUrls::Instance`]).
//! - [`create`] / [`update`]: `carnet institutions add | update` and the API; a new institution
//!   gets new keys and answers under `/issuers/{slug}/…`.
//! - [`load`]: an institution as the rest of carnet uses it ([`Tenant`]: its issuer with open
//!   keys, its badge classes); [`rotate_keys`]; [`import_classes`].
//!
//! Private keys are sealed under the instance key (`crate::keys::InstanceKey`), never stored
//! in clear, never beside that key.

mod registry;

pub use registry::{FRESH, Tenants};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::badge_class::{self, BadgeClass, BadgeClassError};
use crate::config::{Config, InstanceKeySource};
use crate::issuer::{Issuer, IssuerSettings};
use crate::keys::{self, InstanceKey, KeyAlg, KeyError, KeyMaterial};
use crate::own_documents::OwnDocuments;
use crate::status_publisher::StatusPublisher;
use crate::store::{
    Institution, InstitutionFields, InstitutionUrls, Store, StoreError, StoredBadgeClass, StoredKey,
};

pub use crate::store::{InstitutionFields as Fields, InstitutionUrls as Urls};

#[derive(Debug, thiserror::Error)]
pub enum InstitutionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("keys: {0}")]
    Keys(#[from] KeyError),
    #[error("badge classes:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Classes(Vec<BadgeClassError>),
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    #[error(
        "the database holds institutions, and this node has no instance key to open their keys: give it the same CARNET_INSTANCE_KEY_FILE (or CARNET_INSTANCE_KEY) as the node that made them (looked for {0})"
    )]
    NoInstanceKey(String),
}

impl crate::problem::Problem for InstitutionError {
    fn kind(&self) -> crate::problem::Kind {
        use crate::problem::Kind;
        match self {
            InstitutionError::Store(e) => e.kind(),
            InstitutionError::Invalid { .. } | InstitutionError::Classes(_) => Kind::Invalid,
            InstitutionError::Keys(_) | InstitutionError::NoInstanceKey(_) => Kind::Internal,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            InstitutionError::Store(e) => e.field(),
            InstitutionError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    fn detail(&self) -> String {
        match self {
            InstitutionError::Store(e) => e.detail(),
            other => other.to_string(),
        }
    }
}

/// One institution as carnet works with it: its row, its issuer (with its keys open), its
/// badge classes (checked), its signed status lists and its award documents.
#[derive(Clone)]
pub struct Tenant {
    pub institution: Institution,
    pub issuer: Arc<Issuer>,
    pub classes: Arc<BTreeMap<String, BadgeClass>>,
    pub status: Arc<StatusPublisher>,
    pub own: Arc<OwnDocuments>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("institution", &self.institution.slug)
            .field("revision", &self.institution.revision)
            .finish_non_exhaustive()
    }
}

/// The settings an issuer publishes, from an institution's row.
pub fn settings(institution: &Institution) -> IssuerSettings {
    let f = &institution.fields;
    IssuerSettings {
        slug: institution.slug.clone(),
        name: f.name.clone(),
        url: f.url.clone(),
        email: f.email.clone(),
        description: f.description.clone(),
        image: f.image.clone(),
    }
}

/// Checks what an institution says about itself, as it enters (CLI, API).
pub fn validate(slug: &str, fields: &InstitutionFields) -> Result<(), InstitutionError> {
    let invalid = |field, problem: &str| {
        Err(InstitutionError::Invalid {
            field,
            problem: problem.to_owned(),
        })
    };
    if !crate::text::is_slug(slug) {
        return invalid(
            "slug",
            "use 1 to 40 lowercase letters, digits or hyphens (e.g. ime-beaumesnil)",
        );
    }
    use crate::text::Lines;
    for (field, value, max, lines) in [
        ("name", Some(&fields.name), 200, Lines::One),
        (
            "description",
            fields.description.as_ref(),
            2000,
            Lines::Many,
        ),
    ] {
        if let Some(v) = value
            && let Err(problem) = crate::text::check(v, max, lines)
        {
            return invalid(field, &problem);
        }
    }
    if fields.name.trim().is_empty() {
        return invalid("name", "must not be empty");
    }
    for (field, value) in [("url", &fields.url), ("image", &fields.image)] {
        if let Some(v) = value
            && !(v.starts_with("https://") || v.starts_with("http://"))
        {
            return invalid(field, "give an http(s) address");
        }
        if let Some(v) = value
            && let Err(problem) = crate::iri::check_web_link(v)
        {
            return invalid(field, &problem);
        }
    }
    if let Some(email) = &fields.email
        && !crate::recipient::looks_like_email(email)
    {
        return invalid("email", "is not an email address");
    }
    if !matches!(fields.language.as_str(), "fr" | "en") {
        return invalid("language", "fr or en");
    }
    Ok(())
}

/// The instance key of this node: given, read from its file, or made when the database holds
/// no institution yet (the very first start).
async fn instance_key(config: &Config, store: &Store) -> Result<InstanceKey, InstitutionError> {
    match &config.instance_key {
        InstanceKeySource::Given(key) => Ok(key.clone()),
        InstanceKeySource::File(path) => {
            if let Some(key) = InstanceKey::read_file(path)? {
                return Ok(key);
            }
            if !store.institutions().await?.is_empty() {
                return Err(InstitutionError::NoInstanceKey(path.display().to_string()));
            }
            let key = InstanceKey::create_file(path)?;
            tracing::info!(file = %path.display(), id = key.id(), "made the instance key");
            Ok(key)
        }
    }
}

fn seal_all(
    key: &InstanceKey,
    slug: &str,
    material: &[KeyMaterial],
) -> Result<Vec<StoredKey>, InstitutionError> {
    material
        .iter()
        .map(|m| {
            Ok(StoredKey {
                kid: m.kid.clone(),
                alg: m.alg.as_str().to_owned(),
                active: m.active,
                sealed: key.seal(slug, m)?,
                created_at: m.created,
            })
        })
        .collect()
}

/// At every start: the instance key, and, the first time, the first institution from the
/// configuration (see the module doc). Returns the instance key.
pub async fn bootstrap(config: &Config, store: &Store) -> Result<InstanceKey, InstitutionError> {
    let key = instance_key(config, store).await?;
    let slug = &config.issuer.slug;
    if let Some(found) = store.institution(slug).await? {
        if found.fields.name != config.issuer.name {
            tracing::warn!(
                institution = %slug,
                "CARNET_ISSUER_NAME differs from the institution's stored name, which is the one used: change it with `carnet institutions update {slug} --name …`"
            );
        }
        return Ok(key);
    }
    // the classes first: a wrong file stops the first start before anything is made
    let classes =
        badge_class::load_dir(&config.badge_classes_dir).map_err(InstitutionError::Classes)?;
    let mut material = keys::material_in_dir(&config.keys_dir, slug)?;
    let imported = !material.is_empty();
    if !imported {
        material = keys::new_material(&[])?;
    }
    let i = &config.issuer;
    let fields = InstitutionFields {
        name: i.name.clone(),
        url: i.url.clone(),
        email: i.email.clone(),
        description: i.description.clone(),
        image: i.image.clone(),
        language: "fr".to_owned(),
    };
    let sealed = seal_all(&key, slug, &material)?;
    // one institution answers at the instance's own paths: the first one
    let urls = if store
        .institutions()
        .await?
        .iter()
        .any(|i| i.urls == InstitutionUrls::Instance)
    {
        InstitutionUrls::Scoped
    } else {
        InstitutionUrls::Instance
    };
    match store.create_institution(slug, &fields, urls, &sealed).await {
        // another node made it at the same time
        Err(StoreError::InstitutionExists(_)) => return Ok(key),
        other => other?,
    };
    tracing::info!(
        institution = %slug,
        keys = if imported { "imported from the key files" } else { "new" },
        "made the first institution from CARNET_ISSUER_*"
    );
    if imported {
        tracing::warn!(
            "the key files of {} are in the database now, sealed, and no longer read: keep them offline as a backup, or delete them",
            config.keys_dir.join(slug).display()
        );
    }
    import_classes(store, slug, classes.values(), "import:badge-classes").await?;
    Ok(key)
}

/// Creates an institution with new keys; its documents answer under `/issuers/{slug}/…`.
pub async fn create(
    store: &Store,
    key: &InstanceKey,
    slug: &str,
    fields: &InstitutionFields,
) -> Result<Institution, InstitutionError> {
    validate(slug, fields)?;
    let material = keys::new_material(&[])?;
    let sealed = seal_all(key, slug, &material)?;
    Ok(store
        .create_institution(slug, fields, InstitutionUrls::Scoped, &sealed)
        .await?)
}

/// Changes what an institution says about itself.
pub async fn update(
    store: &Store,
    slug: &str,
    fields: &InstitutionFields,
) -> Result<Institution, InstitutionError> {
    validate(slug, fields)?;
    store
        .update_institution(slug, fields)
        .await?
        .ok_or_else(|| StoreError::InstitutionNotFound(slug.to_owned()).into())
}

async fn open_keys(
    store: &Store,
    key: &InstanceKey,
    slug: &str,
) -> Result<Vec<KeyMaterial>, InstitutionError> {
    store
        .institution_keys(slug)
        .await?
        .iter()
        .map(|k| Ok(key.open(slug, &k.kid, k.created_at, k.active, &k.sealed)?))
        .collect()
}

/// Adds a new active key of each algorithm; the older ones are retired but stay published, so
/// that badges signed earlier still verify.
pub async fn rotate_keys(
    store: &Store,
    key: &InstanceKey,
    slug: &str,
) -> Result<(), InstitutionError> {
    let existing = open_keys(store, key, slug).await?;
    let fresh = keys::new_material(&existing)?;
    if !store
        .add_institution_keys(slug, &seal_all(key, slug, &fresh)?)
        .await?
    {
        return Err(StoreError::InstitutionNotFound(slug.to_owned()).into());
    }
    Ok(())
}

/// Stores badge classes for an institution (new ones, or new versions); returns the slugs of
/// those that changed.
pub async fn import_classes<'a>(
    store: &Store,
    slug: &str,
    classes: impl IntoIterator<Item = &'a BadgeClass>,
    by: &str,
) -> Result<Vec<String>, InstitutionError> {
    let mut changed = Vec::new();
    for class in classes {
        let stored = StoredBadgeClass {
            slug: class.slug.clone(),
            file: class.source.clone(),
            image_name: class.image_name.clone(),
            image: class.image_png.clone(),
            digest: class.digest.clone(),
            revision: 0,
            updated_at: chrono::Utc::now(),
            updated_by: by.to_owned(),
        };
        if store.put_badge_class(slug, &stored).await? {
            changed.push(class.slug.clone());
        }
    }
    Ok(changed)
}

/// A stored class, validated as a file would be (it was when it was stored; the rules may
/// have grown stricter since, and then the message says which class).
fn parse_stored(slug: &str, c: &StoredBadgeClass) -> Result<BadgeClass, Vec<BadgeClassError>> {
    badge_class::parse(
        &format!("{slug}/{}.toml", c.slug),
        &c.slug,
        c.file.as_bytes(),
        |name| {
            if name == c.image_name {
                Ok(c.image.clone())
            } else {
                Err(format!("{name} is not the stored image ({})", c.image_name))
            }
        },
    )
}

/// An institution as the rest of carnet uses it; `None` when there is no such institution.
pub async fn load(
    store: &Arc<Store>,
    key: &InstanceKey,
    base_url: &str,
    slug: &str,
) -> Result<Option<Tenant>, InstitutionError> {
    let Some(institution) = store.institution(slug).await? else {
        return Ok(None);
    };
    let material = open_keys(store, key, slug).await?;
    let ring = keys::from_material(slug, &material).map_err(|(kid, problem)| KeyError::Sealed {
        issuer: slug.to_owned(),
        kid,
        problem,
    })?;
    let mut classes = BTreeMap::new();
    let mut errors = Vec::new();
    for stored in store.badge_classes(slug).await? {
        match parse_stored(slug, &stored) {
            Ok(class) => {
                classes.insert(class.slug.clone(), class);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(InstitutionError::Classes(errors));
    }
    let issuer = Issuer::new(settings(&institution), base_url, ring);
    let issuer = Arc::new(match institution.urls {
        InstitutionUrls::Instance => issuer,
        InstitutionUrls::Scoped => issuer.scoped(),
    });
    let classes = Arc::new(classes);
    Ok(Some(Tenant {
        institution,
        status: Arc::new(StatusPublisher::new(issuer.clone(), store.clone())),
        own: Arc::new(OwnDocuments {
            issuer: issuer.clone(),
            store: store.clone(),
            classes: classes.clone(),
        }),
        issuer,
        classes,
    }))
}

/// The classes of a folder that differ from an institution's stored ones (to say so at start).
pub fn differing_files(dir: &Path, tenant: &Tenant) -> Vec<String> {
    let Ok(on_disk) = badge_class::load_dir(dir) else {
        return Vec::new();
    };
    on_disk
        .values()
        .filter(|c| {
            tenant
                .classes
                .get(&c.slug)
                .is_none_or(|stored| stored.digest != c.digest)
        })
        .map(|c| c.file_name())
        .collect()
}

/// What `KeyAlg` a stored key has (for listings).
pub fn alg_of(stored: &StoredKey) -> Option<KeyAlg> {
    KeyAlg::parse(&stored.alg)
}
