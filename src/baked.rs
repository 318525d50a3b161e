//! An award's badge images: the class image with the signed credential baked in (OB 3.0),
//! either the Data Integrity JSON or the VC-JWT.

use crate::badge_class::BadgeClass;
use crate::bake::{self, BakeError, Keyword, SvgPayload};
use crate::store::Award;

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

fn payload(award: &Award, proof: Proof) -> &str {
    match proof {
        Proof::DataIntegrity => &award.credential_json,
        Proof::Jwt => &award.credential_jwt,
    }
}

pub fn png(award: &Award, class: &BadgeClass, proof: Proof) -> Result<Vec<u8>, BakeError> {
    class
        .png_template
        .bake(Keyword::Ob3Credential, payload(award, proof))
}

pub fn svg(award: &Award, class: &BadgeClass, proof: Proof) -> Result<String, BakeError> {
    let image = bake::svg_wrapping_png(&class.image_png, &class.name);
    let p = match proof {
        Proof::DataIntegrity => SvgPayload::Json(award.credential_json.clone()),
        Proof::Jwt => SvgPayload::Jws(award.credential_jwt.clone()),
    };
    bake::bake_svg(&image, Keyword::Ob3Credential, p)
}
