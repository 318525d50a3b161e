//! Verifying a VC-JWT (VC-JOSE-COSE, and VC-JWT 1.1 with the credential under `vc`): the
//! header's algorithm from a short allow-list, the key from `kid` (resolved) or an embedded `jwk`
//! (warned), the signature, the claims that repeat the credential, then the same status, dates,
//! endorsement and recipient checks as a Data Integrity credential.

use super::checks::*;
use super::report::{Check, Report, check_id as id};
use super::resolve::{KeyMaterial, ResolvedKey};
use super::{VC_V1_CONTEXT, Verifier, clr_checks, is_clr};
use crate::proof::vc_jwt;

impl Verifier {
    pub(super) async fn verify_jwt(
        &self,
        compact: &str,
        container: &str,
        recipient: Option<&str>,
    ) -> Report {
        let decoded = match vc_jwt::decode(compact) {
            Ok(d) => d,
            Err(e) => {
                return parse_failure(
                    &format!("le jeton JWT est illisible : {e}"),
                    &format!("the JWT cannot be read: {e}"),
                );
            }
        };
        let (cred, nested) = vc_jwt::credential_of(&decoded.payload);
        let mut checks = vec![Check::pass(
            id::PARSE,
            "Le badge (JWT) a été lu.",
            "The badge (JWT) was read.",
        )];
        let summary = summary(&cred, &format!("{container}+jwt"));
        if is_clr(&cred) {
            checks.extend(clr_checks(false));
            return Report::from_checks(checks, Some(summary));
        }
        let v1 = first_context(&cred) == Some(VC_V1_CONTEXT);
        if nested != v1 {
            checks.push(Check::fail(
                id::CONFORMANCE,
                "Le jeton mélange les formats VC 1.1 et VC 2.0 (« vc » et @context ne correspondent pas).",
                "The token mixes VC 1.1 and VC 2.0 (the `vc` claim and @context disagree).",
            ));
        }
        conformance_checks(&cred, &mut checks);
        jsonld_check(&cred, &mut checks).await;

        // Key: `kid` (resolved) or an embedded `jwk` (accepted with a warning: nothing ties it to the issuer).
        let key = if let Some(kid) = decoded.kid() {
            match self.resolver.jwt_kid(kid).await {
                Ok(k) => {
                    checks.push(key_check(kid, &k));
                    Some(k)
                }
                Err(e) => {
                    checks.push(resolve_failure(kid, &e));
                    None
                }
            }
        } else if let Some(jwk) = decoded.embedded_jwk() {
            checks.push(Check::warn(
                id::KEY,
                "La clé est écrite dans le jeton lui-même : carnet ne peut pas confirmer qu'elle appartient à l'émetteur.",
                "The key is written in the token itself: carnet cannot confirm it belongs to the issuer.",
            ));
            Some(ResolvedKey {
                material: KeyMaterial::Jwk(jwk.clone()),
                controller: None,
                confirmed: false,
                how: "jwk",
            })
        } else {
            checks.push(Check::fail(
                id::KEY,
                "Le jeton ne dit pas quelle clé l'a signé (ni kid ni jwk).",
                "The token names no key (no kid, no jwk).",
            ));
            None
        };
        if let Some(key) = &key {
            let jwk = match &key.material {
                KeyMaterial::Jwk(j) => j.clone(),
                KeyMaterial::Ed25519(k) => {
                    use base64::Engine;
                    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k.as_bytes());
                    serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x})
                }
                KeyMaterial::P256(k) => {
                    use base64::Engine;
                    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
                    // Uncompressed SEC1 point: 0x04 ‖ x ‖ y.
                    let point = k.to_sec1_point(false);
                    let xy = &point.as_bytes()[1..];
                    serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(&xy[..32]), "y": b64(&xy[32..])})
                }
            };
            match vc_jwt::verify_signature(&decoded, &jwk) {
                Ok(()) => checks.push(Check::pass(
                    id::PROOF,
                    "La signature du jeton est valide : le badge n'a pas été modifié.",
                    "The token's signature is valid: the badge was not changed.",
                )),
                Err(e) => checks.push(Check::fail(
                    id::PROOF,
                    format!("La signature du jeton n'est pas valide : {e}."),
                    format!("The token's signature is not valid: {e}."),
                )),
            }
            match (&key.controller, decoded.kid()) {
                (Some(_), _) => checks.push(controller_check(&cred, key)),
                // A bare JWK names no controller: it belongs to the issuer if the issuer publishes it
                // under its own id (carnet's `{issuer}/keys/{kid}`, or a fragment of the issuer id).
                (None, Some(kid)) => {
                    let issuer = issuer_id(&cred).unwrap_or("");
                    let under_issuer = !issuer.is_empty()
                        && (kid.starts_with(&format!("{issuer}/"))
                            || kid.starts_with(&format!("{issuer}#")));
                    checks.push(if under_issuer {
                        Check::pass(
                            id::CONTROLLER,
                            "La clé est publiée à l'adresse de l'émetteur du badge.",
                            "The key is published under the badge issuer's address.",
                        )
                    } else {
                        Check::warn(
                            id::CONTROLLER,
                            format!("La clé {kid} n'est pas publiée à l'adresse de l'émetteur ({issuer})."),
                            format!("The key {kid} is not published under the issuer's address ({issuer})."),
                        )
                    });
                }
                (None, None) => {}
            }
        }
        claims_checks(&decoded.payload, &cred, &mut checks);
        checks.extend(self.status_checks(&cred).await);
        self.explain_withdrawal(&cred, &mut checks).await;
        let endorsements = self.endorsement_checks_after(&cred, &checks).await;
        checks.extend(endorsements);
        finish(&cred, Some(&decoded.payload), checks, summary, recipient)
    }
}
