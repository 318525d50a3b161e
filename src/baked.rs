//! An award's badge images: the class image with the signed credential baked in (OB 3.0),
//! either the Data Integrity JSON or the VC-JWT, as PNG (`png`) or SVG (`svg`, the class's
//! PNG wrapped in an SVG).

use std::sync::Arc;

use crate::badge_class::BadgeClass;
use crate::bake::{self, BakeError, Keyword, SvgPayload};
use crate::issue::IssueError;
use crate::issuer::Issuer;
use crate::store::{Award, Store};

/// Which signed form to bake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The JSON credential with its embedded `DataIntegrityProof` (eddsa-rdfc-2022).
    DataIntegrity,
    /// The compact JWS (VC-JWT, RS256).
    Jwt,
}

impl Proof {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "di" | "data-integrity" => Some(Proof::DataIntegrity),
            "jwt" | "vc-jwt" => Some(Proof::Jwt),
            _ => None,
        }
    }
}

/// The award's signed form `proof`: its stored credential, or its VC-JWT (signed on the first
/// download, [`crate::issue::vc_jwt`]).
pub async fn signed_form(
    issuer: &Arc<Issuer>,
    store: &Store,
    award: &Award,
    proof: Proof,
) -> Result<String, IssueError> {
    match proof {
        Proof::DataIntegrity => Ok(award.credential_json.clone()),
        Proof::Jwt => crate::issue::vc_jwt(issuer, store, award).await,
    }
}

/// The class's PNG with `signed` (the form `proof` of [`signed_form`]) baked in.
pub fn png(class: &BadgeClass, signed: &str) -> Result<Vec<u8>, BakeError> {
    class.png_template.bake(Keyword::Ob3Credential, signed)
}

/// The class's image as SVG with `signed` (the form `proof` of [`signed_form`]) baked in.
pub fn svg(class: &BadgeClass, proof: Proof, signed: String) -> Result<String, BakeError> {
    let image = bake::svg_wrapping_png(&class.image_png, &class.name);
    let p = match proof {
        Proof::DataIntegrity => SvgPayload::Json(signed),
        Proof::Jwt => SvgPayload::Jws(signed),
    };
    bake::bake_svg(&image, Keyword::Ob3Credential, p)
}
