//! `Profile` (issuer, creator, source, parentOrg) and the small classes it uses: `Address`,
//! `GeoCoordinates`, `IdentifierEntry`, `Image` (OB 3.0 data model, CHECKLIST §5; JSON schema
//! `achievementcredential.json`, `$defs`).

use chrono::NaiveDate;
use serde_json::Value;

use super::credential::{Credential, read_endorsements};
use super::reader::{Ctx, TypeShape, join};

/// Identifier types shared by `IdentifierEntry.identifierType` and `IdentityObject.identityType`.
pub(super) const IDENTIFIER_TYPES: &[&str] = &[
    "name",
    "sourcedId",
    "systemId",
    "productId",
    "userName",
    "accountId",
    "emailAddress",
    "nationalIdentityNumber",
    "isbn",
    "issn",
    "lisSourcedId",
    "oneRosterSourcedId",
    "sisSourcedId",
    "ltiContextId",
    "ltiDeploymentId",
    "ltiToolId",
    "ltiPlatformId",
    "ltiUserId",
    "identifier",
];

/// An issuer, creator or organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: String,
    pub types: Vec<String>,
    pub name: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub official: Option<String>,
    pub image: Option<Image>,
    pub address: Option<Address>,
    pub other_identifier: Vec<IdentifierEntry>,
    pub parent_org: Option<Box<Profile>>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub endorsement: Vec<Credential>,
    pub endorsement_jwt: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub address_country: Option<String>,
    pub address_country_code: Option<String>,
    pub address_region: Option<String>,
    pub address_locality: Option<String>,
    pub street_address: Option<String>,
    pub post_office_box_number: Option<String>,
    pub postal_code: Option<String>,
    pub geo: Option<GeoCoordinates>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoCoordinates {
    pub latitude: f64,
    pub longitude: f64,
}

/// Another identifier of a profile or achievement (`otherIdentifier[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierEntry {
    pub identifier: String,
    pub identifier_type: String,
}

/// An image: always an object in OB 3.0, whose `id` is a URL or a `data:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: String,
    pub caption: Option<String>,
}

pub(super) fn read_profile(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Profile> {
    let obj = ctx.object(v, path, "Profile")?;
    if !ctx.enter(path) {
        return None;
    }
    let id = ctx.req_uri(obj, path, "id");
    let types = ctx.types(obj, path, "Profile", TypeShape::List);
    let mut opt = |key: &str| ctx.opt_str(obj, path, key);
    let (name, email, phone, description, official) = (
        opt("name"),
        opt("email"),
        opt("phone"),
        opt("description"),
        opt("official"),
    );
    let (given_name, family_name) = (opt("givenName"), opt("familyName"));
    for key in [
        "additionalName",
        "patronymicName",
        "honorificPrefix",
        "honorificSuffix",
        "familyNamePrefix",
    ] {
        opt(key);
    }
    let url = ctx.opt_uri(obj, path, "url");
    let date_of_birth = ctx.opt_date(obj, path, "dateOfBirth");
    let image = Ctx::get(obj, "image").and_then(|v| read_image(ctx, v, &join(path, "image")));
    let address =
        Ctx::get(obj, "address").and_then(|v| read_address(ctx, v, &join(path, "address")));
    let other_identifier = ctx.list(obj, path, "otherIdentifier", read_identifier_entry);
    let parent_org = Ctx::get(obj, "parentOrg")
        .and_then(|v| read_profile(ctx, v, &join(path, "parentOrg")))
        .map(Box::new);
    let endorsement = read_endorsements(ctx, obj, path);
    let endorsement_jwt = ctx.compact_jws_list(obj, path);
    ctx.leave();

    let has_type = types.iter().any(|t| t == "Profile");
    Some(Profile {
        id: id?,
        types: has_type.then_some(types)?,
        name,
        url,
        email,
        phone,
        description,
        official,
        image,
        address,
        other_identifier,
        parent_org,
        given_name,
        family_name,
        date_of_birth,
        endorsement,
        endorsement_jwt,
    })
}

fn read_address(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Address> {
    let obj = ctx.object(v, path, "Address")?;
    let types = ctx.types(obj, path, "Address", TypeShape::List);
    let mut opt = |key: &str| ctx.opt_str(obj, path, key);
    let address = Address {
        address_country: opt("addressCountry"),
        address_country_code: opt("addressCountryCode"),
        address_region: opt("addressRegion"),
        address_locality: opt("addressLocality"),
        street_address: opt("streetAddress"),
        post_office_box_number: opt("postOfficeBoxNumber"),
        postal_code: opt("postalCode"),
        geo: Ctx::get(obj, "geo").and_then(|v| read_geo(ctx, v, &join(path, "geo"))),
    };
    types.iter().any(|t| t == "Address").then_some(address)
}

fn read_geo(ctx: &mut Ctx, v: &Value, path: &str) -> Option<GeoCoordinates> {
    let obj = ctx.object(v, path, "GeoCoordinates")?;
    let types = ctx.types(obj, path, "GeoCoordinates", TypeShape::Single);
    let mut number = |key: &str| {
        let n = ctx.opt_number(obj, path, key);
        if Ctx::get(obj, key).is_none() {
            ctx.missing(&join(path, key));
        }
        n
    };
    let (latitude, longitude) = (number("latitude"), number("longitude"));
    types.iter().any(|t| t == "GeoCoordinates").then_some(())?;
    Some(GeoCoordinates {
        latitude: latitude?,
        longitude: longitude?,
    })
}

pub(super) fn read_identifier_entry(
    ctx: &mut Ctx,
    v: &Value,
    path: &str,
) -> Option<IdentifierEntry> {
    let obj = ctx.object(v, path, "IdentifierEntry")?;
    let types = ctx.types(obj, path, "IdentifierEntry", TypeShape::Single);
    let identifier = ctx.req_str(obj, path, "identifier");
    let identifier_type = ctx.vocabulary(obj, path, "identifierType", true, IDENTIFIER_TYPES);
    ctx.closed(
        obj,
        path,
        "IdentifierEntry",
        &["type", "identifier", "identifierType"],
    );
    types.iter().any(|t| t == "IdentifierEntry").then_some(())?;
    Some(IdentifierEntry {
        identifier: identifier?,
        identifier_type: identifier_type?,
    })
}

pub(super) fn read_image(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Image> {
    if let Value::String(s) = v {
        ctx.fail(
            path,
            format!("{path} doit être un objet Image {{\"id\": \"{s}\", \"type\": \"Image\"}}, pas une simple URL"),
            format!("{path} must be an Image object {{\"id\": \"{s}\", \"type\": \"Image\"}}, not a bare URL"),
        );
        return None;
    }
    let obj = ctx.object(v, path, "Image")?;
    let types = ctx.types(obj, path, "Image", TypeShape::Single);
    let id = ctx.req_uri(obj, path, "id");
    let caption = ctx.opt_str(obj, path, "caption");
    ctx.closed(obj, path, "Image", &["id", "type", "caption"]);
    types.iter().any(|t| t == "Image").then_some(())?;
    Some(Image { id: id?, caption })
}
