//! The documents this instance publishes for its awards, read from its store: the OB 3.0
//! credential (`/credentials/{id}`), the OB 2.0 hosted assertion (`410 Gone` once withdrawn), its
//! signed form, the versioned BadgeClass, the OB 2.0 issuer Profile, key and revocation list.
//!
//! The HTTP routes serve them, and the verifier reads them here instead of over HTTP
//! ([`crate::verify::own::OwnDocuments`]): carnet verifies its own badges whatever its base URL.
//!
//! [`AwardState`] is an award's state now (valid, not yet valid, expired, withdrawn), what the
//! credential page shows first.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::badge_class::BadgeClass;
use crate::issuer::Issuer;
use crate::ob2::{self, Ob2Error};
use crate::store::{Store, StoreError};
use crate::verify::ob2::{Body, Fetched};

/// An award's state now, as the store knows it: what its page says first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwardState {
    Valid {
        until: Option<DateTime<Utc>>,
    },
    NotYetValid {
        from: DateTime<Utc>,
    },
    Expired {
        since: DateTime<Utc>,
    },
    Revoked {
        at: DateTime<Utc>,
        reason: Option<String>,
    },
}

impl AwardState {
    /// A withdrawal first, then the dates.
    pub fn of(award: &crate::store::Award, now: DateTime<Utc>) -> AwardState {
        if let Some(at) = award.revoked_at {
            return AwardState::Revoked {
                at,
                reason: award.revocation_reason.clone(),
            };
        }
        match award.valid_until {
            Some(since) if since <= now => AwardState::Expired { since },
            _ if award.valid_from > now => AwardState::NotYetValid {
                from: award.valid_from,
            },
            until => AwardState::Valid { until },
        }
    }
}

pub struct OwnDocuments {
    pub issuer: Arc<Issuer>,
    pub store: Arc<Store>,
    pub classes: Arc<BTreeMap<String, BadgeClass>>,
}

#[derive(Debug, thiserror::Error)]
pub enum OwnError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ob2(#[from] Ob2Error),
    #[error("a stored document cannot be read: {0}")]
    Stored(String),
}

impl crate::problem::Problem for OwnError {
    fn kind(&self) -> crate::problem::Kind {
        use crate::problem::Kind;
        match self {
            OwnError::Store(e) => e.kind(),
            OwnError::Ob2(e) => e.kind(),
            OwnError::Stored(_) => Kind::Internal,
        }
    }

    fn transparent(&self) -> Option<&dyn crate::problem::Problem> {
        match self {
            OwnError::Store(e) => Some(e),
            OwnError::Ob2(e) => Some(e),
            OwnError::Stored(_) => None,
        }
    }
}

impl OwnDocuments {
    /// The OB 2.0 BadgeClass of `slug` in `version`: the current wording, or an older one an award
    /// was issued under (kept in the store).
    pub async fn ob2_badge_class(
        &self,
        slug: &str,
        version: &str,
    ) -> Result<Option<Value>, OwnError> {
        if let Some(class) = self.classes.get(slug)
            && class.version() == version
        {
            return Ok(Some(ob2::badge_class(&self.issuer, class)));
        }
        let kept = self
            .store
            .badge_class_version(self.issuer.slug(), slug, version)
            .await?;
        kept.as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| OwnError::Stored(e.to_string()))
    }

    /// What a withdrawn award's OB 2.0 assertion answers with its `410 Gone`; `None` while it
    /// is in force.
    pub fn ob2_withdrawn(&self, award: &crate::store::Award) -> Option<Value> {
        award.revoked_at.map(|_| {
            ob2::revoked_assertion(&self.issuer, award.id, award.revocation_reason.as_deref())
        })
    }

    /// The OB 2.0 RevocationList of this issuer.
    pub async fn ob2_revocation_list(&self) -> Result<Value, OwnError> {
        let revoked: Vec<ob2::RevokedAward> = self
            .store
            .revoked_awards(self.issuer.slug())
            .await?
            .into_iter()
            .map(|r| ob2::RevokedAward {
                award_id: r.id,
                reason: r.reason,
            })
            .collect();
        Ok(ob2::revocation_list(&self.issuer, &revoked))
    }

    /// What `url` answers, when it is one of this instance's award documents.
    async fn answer(&self, url: &str) -> Result<Option<Fetched>, OwnError> {
        // the OB 2.0 issuer's documents under the base URL, the others under the institution's
        let ob2_issuer = format!("{}/ob2/issuers/", self.issuer.base_url);
        let prefix = if url.starts_with(&ob2_issuer) {
            &self.issuer.base_url
        } else {
            &self.issuer.docs
        };
        let Some(path) = url.strip_prefix(prefix).filter(|p| p.starts_with('/')) else {
            return Ok(None);
        };
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let json = |v: Value| Ok(Some(Fetched::json(v)));
        let slug = self.issuer.slug();
        if let Some(file) = path.strip_prefix("/credentials/") {
            let (id, ext) = file.split_once('.').unwrap_or((file, ""));
            let Some(award) = self.award(id).await? else {
                return Ok(Some(Fetched::status(404)));
            };
            return match ext {
                "jwt" => {
                    let jwt = crate::issue::vc_jwt(&self.issuer, self.store.as_ref(), &award)
                        .await
                        .map_err(|e| OwnError::Stored(e.to_string()))?;
                    Ok(Some(Fetched {
                        status: 200,
                        body: Body::Bytes(jwt.into_bytes()),
                    }))
                }
                // the images carry this same signed credential
                "" | "json" | "png" | "svg" => json(parse(&award.credential_json)?),
                _ => Ok(Some(Fetched::status(404))),
            };
        }
        if let Some(file) = path.strip_prefix("/ob2/assertions/") {
            let (id, ext) = file.split_once('.').unwrap_or((file, ""));
            let award = match self.award(id).await? {
                Some(a) if a.assertion_json.is_some() => a,
                _ => return Ok(Some(Fetched::status(404))),
            };
            if let Some(body) = self.ob2_withdrawn(&award) {
                return Ok(Some(Fetched::status_json(410, body)));
            }
            return match ext {
                "" | "json" => json(parse(award.assertion_json.as_deref().unwrap_or("{}"))?),
                "jws" => {
                    let jws = crate::issue::ob2_jws(&self.issuer, self.store.as_ref(), &award)
                        .await
                        .map_err(|e| OwnError::Stored(e.to_string()))?
                        .unwrap_or_default();
                    Ok(Some(Fetched {
                        status: 200,
                        body: Body::Bytes(jws.into_bytes()),
                    }))
                }
                _ => Ok(None),
            };
        }
        if let Some(rest) = path.strip_prefix("/ob2/badge-classes/") {
            let Some((class, version)) = rest.split_once('/') else {
                return Ok(Some(Fetched::status(404)));
            };
            return match self.ob2_badge_class(class, version).await? {
                Some(doc) => json(doc),
                None => Ok(Some(Fetched::status(404))),
            };
        }
        if let Some(rest) = path.strip_prefix("/ob2/issuers/") {
            let (who, rest) = rest.split_once('/').unwrap_or((rest, ""));
            if who != slug {
                return Ok(Some(Fetched::status(404)));
            }
            return match rest.split_once('/').unwrap_or((rest, "")) {
                ("", _) => json(ob2::issuer_profile(&self.issuer)?),
                ("revocations", "") => json(self.ob2_revocation_list().await?),
                ("keys", kid) => match ob2::cryptographic_key(&self.issuer, kid) {
                    Ok(doc) => json(doc),
                    Err(_) => Ok(Some(Fetched::status(404))),
                },
                _ => Ok(Some(Fetched::status(404))),
            };
        }
        Ok(None)
    }

    /// An award of this institution by the id in its URL (anything that is not a UUID, or
    /// another institution's award, is unknown).
    pub async fn award(&self, id: &str) -> Result<Option<crate::store::Award>, StoreError> {
        match id.parse::<Uuid>() {
            Ok(id) => Ok(self
                .store
                .get_award(id)
                .await?
                .filter(|a| a.issuer_slug == self.issuer.slug())),
            Err(_) => Ok(None),
        }
    }
}

fn parse(text: &str) -> Result<Value, OwnError> {
    serde_json::from_str(text).map_err(|e| OwnError::Stored(e.to_string()))
}

#[async_trait::async_trait]
impl crate::verify::own::OwnDocuments for OwnDocuments {
    async fn withdrawal(&self, credential_id: &str) -> Option<crate::verify::own::Withdrawal> {
        let prefix = format!("{}/credentials/", self.issuer.docs);
        let id = credential_id.strip_prefix(&prefix)?;
        match self.award(id).await {
            Ok(Some(award)) => award.revoked_at.map(|at| crate::verify::own::Withdrawal {
                at,
                reason: award.revocation_reason,
            }),
            Ok(None) => None,
            Err(e) => {
                tracing::error!("withdrawal of {credential_id}: {e}");
                None
            }
        }
    }

    async fn get(&self, url: &str) -> Option<Fetched> {
        match self.answer(url).await {
            Ok(found) => found,
            Err(e) => {
                // the verifier then says it could not check, as for a site that does not answer
                tracing::error!("own document {url}: {e}");
                Some(Fetched::status(500))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn award(
        from: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        revoked: Option<DateTime<Utc>>,
    ) -> crate::store::Award {
        crate::store::Award {
            id: Uuid::nil(),
            issuer_slug: "ime".into(),
            badge_class_slug: "c".into(),
            badge_class_digest: "d".into(),
            recipient_identity: "sha256$00".into(),
            recipient_salt: "s".into(),
            recipient_name: None,
            credential_id: "urn:uuid:0".into(),
            credential_json: "{}".into(),
            credential_jwt: None,
            rsa_kid: None,
            status_list: None,
            status_index: None,
            assertion_json: None,
            assertion_jws: None,
            valid_from: from,
            valid_until: until,
            issued_by: "t".into(),
            idempotency_key: None,
            created_at: from,
            revoked_at: revoked,
            revocation_reason: revoked.map(|_| "erreur".into()),
            person_key: None,
        }
    }

    #[test]
    fn a_withdrawal_comes_before_the_dates() {
        let now = Utc::now();
        let day = Duration::days(1);
        assert_eq!(
            AwardState::of(&award(now - day, None, None), now),
            AwardState::Valid { until: None }
        );
        assert_eq!(
            AwardState::of(&award(now - day * 3, Some(now - day), None), now),
            AwardState::Expired { since: now - day }
        );
        assert_eq!(
            AwardState::of(&award(now + day, None, None), now),
            AwardState::NotYetValid { from: now + day }
        );
        assert_eq!(
            AwardState::of(
                &award(now - day * 3, Some(now - day), Some(now - day * 2)),
                now
            ),
            AwardState::Revoked {
                at: now - day * 2,
                reason: Some("erreur".into())
            }
        );
    }
}
