//! The per-class rules of OB 2.0 validation: which properties each class has, of which value
//! type, which are required (validator-core `ClassValidators`, 1EdTech `Assertion.java` validation
//! map), and the rules that tie properties together (validator-core `*_PROPERTY_DEPENDENCIES`).

use serde_json::Value;

use super::classes::Class;
use super::finding::{Finding, join};
use super::values::{self, show};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Iri,
    Url,
    Text,
    DateTime,
    Email,
    Telephone,
    Bool,
    /// An IRI or an embedded object (validated as the given class when it is one carnet checks).
    Node(Option<Class>),
    /// A URL, a data URI (PNG or SVG) when allowed, or an embedded Image.
    ImageRef {
        data_uri: bool,
    },
}

impl Kind {
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Kind::Iri => ("une adresse (IRI)", "an IRI"),
            Kind::Url => ("une adresse web (URL)", "a web address (URL)"),
            Kind::Text => ("un texte", "a text"),
            Kind::DateTime => (
                "une date et une heure avec fuseau horaire (ISO 8601)",
                "a date and time with a time zone (ISO 8601)",
            ),
            Kind::Email => ("une adresse email", "an email address"),
            Kind::Telephone => (
                "un numéro de téléphone international (+33…)",
                "an international phone number (+33…)",
            ),
            Kind::Bool => ("vrai ou faux", "true or false"),
            Kind::Node(_) => ("une adresse ou un objet", "an address or an object"),
            Kind::ImageRef { .. } => ("une image PNG ou SVG", "a PNG or SVG image"),
        }
    }
}

pub struct Prop {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub many: bool,
}

const fn p(name: &'static str, kind: Kind, required: bool, many: bool) -> Prop {
    Prop {
        name,
        kind,
        required,
        many,
    }
}

pub fn props(class: Class) -> Vec<Prop> {
    use Kind::*;
    match class {
        Class::Assertion => vec![
            p("id", Iri, true, false),
            p("recipient", Node(Some(Class::IdentityObject)), true, false),
            p("badge", Node(None), true, false),
            p(
                "verification",
                Node(Some(Class::AssertionVerification)),
                true,
                false,
            ),
            p("issuedOn", DateTime, true, false),
            p("expires", DateTime, false, false),
            p("image", ImageRef { data_uri: false }, false, false),
            p("narrative", Text, false, false),
            p("evidence", Node(Some(Class::Evidence)), false, true),
            p("revoked", Bool, false, false),
            p("revocationReason", Text, false, false),
            p("endorsement", Node(None), false, true),
        ],
        Class::BadgeClass => vec![
            p("id", Iri, true, false),
            p("issuer", Node(None), true, false),
            p("name", Text, true, false),
            p("description", Text, true, false),
            p("image", ImageRef { data_uri: true }, false, false),
            p("criteria", Node(Some(Class::Criteria)), true, false),
            p("alignment", Node(Some(Class::AlignmentObject)), false, true),
            p("tags", Text, false, true),
            p("endorsement", Node(None), false, true),
        ],
        Class::Profile => vec![
            p("id", Iri, true, false),
            p("name", Text, true, false),
            p("url", Url, true, false),
            p("email", Email, true, false),
            p("description", Text, false, false),
            p("image", ImageRef { data_uri: true }, false, false),
            p("telephone", Telephone, false, false),
            p("publicKey", Node(None), false, true),
            p(
                "verification",
                Node(Some(Class::IssuerVerification)),
                false,
                false,
            ),
            p("revocationList", Iri, false, false),
            p("endorsement", Node(None), false, true),
        ],
        Class::CryptographicKey => vec![
            p("id", Iri, false, false),
            p("owner", Iri, false, false),
            p("publicKeyPem", Text, false, false),
        ],
        Class::RevocationList => vec![p("id", Iri, false, false), p("issuer", Iri, false, false)],
        Class::Endorsement => vec![
            p("id", Iri, true, false),
            p("claim", Node(Some(Class::EndorsementClaim)), true, false),
            p("issuedOn", DateTime, true, false),
            p("issuer", Node(None), true, false),
            p(
                "verification",
                Node(Some(Class::AssertionVerification)),
                true,
                false,
            ),
        ],
        Class::AlignmentObject => vec![
            p("targetName", Text, true, false),
            p("targetUrl", Url, true, false),
            p("targetDescription", Text, false, false),
            p("targetFramework", Text, false, false),
            p("targetCode", Text, false, false),
        ],
        Class::Criteria => vec![
            p("id", Iri, false, false),
            p("narrative", Text, false, false),
        ],
        Class::Evidence => vec![
            p("id", Iri, false, false),
            p("narrative", Text, false, false),
            p("name", Text, false, false),
            p("description", Text, false, false),
            p("genre", Text, false, false),
            p("audience", Text, false, false),
        ],
        Class::IdentityObject => vec![
            p("identity", Text, true, false),
            p("hashed", Bool, true, false),
            p("salt", Text, false, false),
        ],
        Class::Image => vec![
            p("id", ImageRef { data_uri: true }, true, false),
            p("caption", Text, false, false),
            p("author", Iri, false, false),
        ],
        Class::AssertionVerification => vec![p("creator", Iri, false, false)],
        Class::IssuerVerification => vec![p("verificationProperty", Text, false, false)],
        Class::EndorsementClaim => vec![
            p("id", Iri, true, false),
            p("endorsementComment", Text, false, false),
        ],
    }
}

/// The rules that tie properties together (validator-core `*_PROPERTY_DEPENDENCIES`).
pub fn dependencies(node: &Value, class: Class, path: &str, out: &mut Vec<Finding>) {
    match class {
        Class::IdentityObject => identity_dependencies(node, path, out),
        Class::AssertionVerification => {
            let ok = ["hosted", "HostedBadge", "signed", "SignedBadge"];
            match node.get("type").and_then(Value::as_str) {
                Some(t) if ok.contains(&t) => {}
                other => out.push(Finding::fail(
                    join(path, "type"),
                    format!("Le mode de vérification doit être HostedBadge ou SignedBadge (trouvé : {}).", other.unwrap_or("rien")),
                    format!("The verification type must be HostedBadge or SignedBadge (found: {}).", other.unwrap_or("none")),
                )),
            }
        }
        Class::Criteria if node.get("id").is_none() && node.get("narrative").is_none() => {
            out.push(Finding::fail(
                path,
                "Les critères doivent donner une adresse (id) ou un texte (narrative).",
                "The criteria must give an address (id) or a text (narrative).",
            ));
        }
        Class::BadgeClass if node.get("image").is_none() => out.push(Finding::warn(
            join(path, "image"),
            "La classe de badge n'a pas d'image : le badge s'affichera sans visuel.",
            "The badge class has no image: the badge will be shown without a picture.",
        )),
        Class::Profile => {
            let id = node.get("id").and_then(Value::as_str).unwrap_or("");
            if !id.is_empty() && !values::is_url(id) {
                out.push(Finding::warn(
                    join(path, "id"),
                    format!("L'identifiant de l'émetteur ({id}) n'est pas une adresse web : on ne peut pas vérifier sur son site ce qu'il publie."),
                    format!("The issuer's id ({id}) is not a web address: what it publishes cannot be checked on its site."),
                ));
            }
        }
        Class::RevocationList => revocation_entries(node, path, out),
        _ => {}
    }
}

fn identity_dependencies(node: &Value, path: &str, out: &mut Vec<Finding>) {
    let kind = node.get("type").and_then(Value::as_str).unwrap_or("");
    if !["id", "email", "url", "telephone"].contains(&kind) {
        out.push(Finding::fail(
            join(path, "type"),
            format!("Le type d'identifiant du destinataire doit être email, url, telephone ou id (trouvé : « {kind} »)."),
            format!("The recipient's identifier type must be email, url, telephone or id (found: \"{kind}\")."),
        ));
    }
    let (Some(identity), Some(hashed)) = (
        node.get("identity").and_then(Value::as_str),
        node.get("hashed").and_then(Value::as_bool),
    ) else {
        return; // reported as missing or mistyped already
    };
    let at = join(path, "identity");
    if hashed && !values::is_identity_hash(identity) {
        out.push(Finding::fail(
            at,
            "L'identité est dite chiffrée (hashed) mais n'est pas de la forme sha256$… ou md5$….",
            "The identity is said to be hashed but is not of the form sha256$… or md5$….",
        ));
    } else if !hashed && values::looks_hashed(identity) {
        out.push(Finding::fail(
            at,
            "L'identité est dite en clair (hashed: false) mais ressemble à une empreinte.",
            "The identity is said to be plain (hashed: false) but looks like a hash.",
        ));
    } else if !hashed && kind == "email" && !values::is_email(identity) {
        out.push(Finding::fail(
            at,
            "L'identité du destinataire n'est pas une adresse email.",
            "The recipient's identity is not an email address.",
        ));
    }
}

fn revocation_entries(node: &Value, path: &str, out: &mut Vec<Finding>) {
    let at = join(path, "revokedAssertions");
    match node.get("revokedAssertions") {
        Some(Value::Array(entries)) => {
            for e in entries {
                let ok = match e {
                    Value::String(s) => values::is_iri(s),
                    Value::Object(o) => o
                        .get("id")
                        .or_else(|| o.get("uid"))
                        .is_some_and(Value::is_string),
                    _ => false,
                };
                if !ok {
                    out.push(Finding::fail(
                        &at,
                        format!("Entrée de liste de révocation illisible : {}.", show(e)),
                        format!("Unreadable revocation list entry: {}.", show(e)),
                    ));
                }
            }
        }
        _ => out.push(Finding::fail(
            at,
            "La liste de révocation doit avoir une liste « revokedAssertions ».",
            "The revocation list must have a \"revokedAssertions\" list.",
        )),
    }
}
