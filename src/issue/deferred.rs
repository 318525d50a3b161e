//! An award's RS256 forms, signed on their first download (migration 0009): the credential as
//! VC-JWT, and the OB 2.0 signed assertion (the hosted one with `verification` SignedBadge, as a
//! compact JWS). RS256 (PKCS#1 v1.5) is deterministic: computed later with the RSA key recorded
//! at issue time (`Award::rsa_kid`), they are the same bytes they would have been then. Issuing
//! thus signs once (Ed25519, the Data Integrity proof) instead of three times; the two RSA
//! signatures were most of a bulk award's CPU time, and many badges are never downloaded in those
//! forms. Each is stored once signed; a concurrent download signs the same bytes.

use std::sync::Arc;

use serde_json::{Value, json};

use super::IssueError;
use crate::issuer::Issuer;
use crate::keys::RsaKey;
use crate::ob2::{self, Ob2Urls};
use crate::proof::vc_jwt as jwt;
use crate::store::{Award, Rs256Form, Store};

fn rsa_key<'a>(issuer: &'a Issuer, kid: &str) -> Result<&'a RsaKey, IssueError> {
    issuer.keys.rsa(kid).ok_or_else(|| {
        IssueError::Signing(format!(
            "the RSA key \"{kid}\" of issuer \"{}\" is not in its keys folder",
            issuer.slug()
        ))
    })
}

/// The credential (without proof) as VC-JWT, signed RS256 by the issuer's RSA key `kid` (active
/// or retired: an award keeps the key it was issued under). CPU-bound.
pub fn sign_vc_jwt(issuer: &Issuer, kid: &str, unsigned: &Value) -> Result<String, IssueError> {
    let rsa = rsa_key(issuer, kid)?;
    let signer = rsa
        .signer()
        .map_err(|e| IssueError::Signing(e.to_string()))?;
    jwt::sign_rs256(unsigned, signer, &issuer.key_url(&rsa.kid))
        .map_err(|e| IssueError::Signing(e.to_string()))
}

/// The OB 2.0 signed assertion of a hosted one: the same document with `verification`
/// SignedBadge naming the key `kid`, as a compact JWS signed by it. CPU-bound.
pub fn sign_ob2_jws(issuer: &Issuer, kid: &str, hosted: &str) -> Result<String, IssueError> {
    let rsa = rsa_key(issuer, kid)?;
    let mut assertion: Value = serde_json::from_str(hosted)
        .map_err(|e| IssueError::Signing(format!("the stored assertion: {e}")))?;
    if !assertion.is_object() {
        return Err(IssueError::Signing(
            "the stored assertion is not an object".into(),
        ));
    }
    // in place: the key keeps its position, the document is the one signed at issue time
    assertion["verification"] = json!({
        "type": "SignedBadge",
        "creator": Ob2Urls::new(issuer).key(&rsa.kid),
    });
    ob2::sign_assertion(&assertion, rsa).map_err(|e| IssueError::Signing(e.to_string()))
}

fn key_of(award: &Award) -> Result<String, IssueError> {
    award.rsa_kid.clone().ok_or_else(|| {
        IssueError::Signing(format!(
            "award {} has neither its RS256 forms nor the key to sign them",
            award.id
        ))
    })
}

/// Stores a form signed on its first download.
async fn keep(
    store: &Store,
    award: &Award,
    form: Rs256Form,
    compact: &str,
) -> Result<(), IssueError> {
    if store.set_signed_form(award.id, form, compact).await? {
        tracing::info!(award.id = %award.id, ?form, "signed {form:?} of award {} on its first download", award.id);
    }
    Ok(())
}

/// An award's VC-JWT: stored, or signed now from its stored credential (proof left out) and
/// stored.
pub async fn vc_jwt(
    issuer: &Arc<Issuer>,
    store: &Store,
    award: &Award,
) -> Result<String, IssueError> {
    if let Some(jwt) = &award.credential_jwt {
        return Ok(jwt.clone());
    }
    let kid = key_of(award)?;
    let (signer, credential) = (issuer.clone(), award.credential_json.clone());
    let jwt = tokio::task::spawn_blocking(move || {
        let mut unsigned: Value = serde_json::from_str(&credential)
            .map_err(|e| IssueError::Signing(format!("the stored credential: {e}")))?;
        if let Some(map) = unsigned.as_object_mut() {
            map.shift_remove("proof");
        }
        sign_vc_jwt(&signer, &kid, &unsigned)
    })
    .await
    .map_err(|e| IssueError::Signing(e.to_string()))??;
    keep(store, award, Rs256Form::VcJwt, &jwt).await?;
    Ok(jwt)
}

/// An award's OB 2.0 signed assertion: stored, or signed now from its hosted assertion and
/// stored; `None` when the award has no OB 2.0 form (its issuer had no email).
pub async fn ob2_jws(
    issuer: &Arc<Issuer>,
    store: &Store,
    award: &Award,
) -> Result<Option<String>, IssueError> {
    let Some(hosted) = &award.assertion_json else {
        return Ok(None);
    };
    if let Some(jws) = &award.assertion_jws {
        return Ok(Some(jws.clone()));
    }
    let kid = key_of(award)?;
    let (signer, hosted) = (issuer.clone(), hosted.clone());
    let jws = tokio::task::spawn_blocking(move || sign_ob2_jws(&signer, &kid, &hosted))
        .await
        .map_err(|e| IssueError::Signing(e.to_string()))??;
    keep(store, award, Rs256Form::Ob2Jws, &jws).await?;
    Ok(Some(jws))
}
