//! OB 2.0 class validation (CHECKLIST §1; validator-core `ClassValidators`, 1EdTech `Assertion.java`
//! validation map): required properties and their value types, class by class, plus the property
//! dependencies validator-core checks (identity object, criteria, issuer id, images).
//!
//! Linked primary nodes (`badge`, `issuer`, `publicKey`, `endorsement`) are only checked to be a
//! reference here; the verifier fetches and validates them in turn.

use serde_json::Value;

use super::context::Terms;
use super::finding::{Finding, join};
use super::rules::{Kind, Prop, dependencies, props};
use super::values::{self, list_of, show};

/// The OB 2.0 classes carnet validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    clippy::enum_variant_names,
    reason = "BadgeClass is the name the specification gives the class"
)]
pub enum Class {
    Assertion,
    BadgeClass,
    Profile,
    CryptographicKey,
    RevocationList,
    Endorsement,
    AlignmentObject,
    Criteria,
    Evidence,
    IdentityObject,
    Image,
    /// An assertion's `verification`.
    AssertionVerification,
    /// An issuer's `verification` policy.
    IssuerVerification,
    EndorsementClaim,
}

impl Class {
    /// (French, English) names for messages.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Class::Assertion => (
                "l'assertion (le badge remis)",
                "the assertion (the awarded badge)",
            ),
            Class::BadgeClass => ("la classe de badge", "the badge class"),
            Class::Profile => ("le profil de l'émetteur", "the issuer's profile"),
            Class::CryptographicKey => ("la clé publique", "the public key"),
            Class::RevocationList => ("la liste de révocation", "the revocation list"),
            Class::Endorsement => ("l'approbation", "the endorsement"),
            Class::AlignmentObject => ("l'alignement", "the alignment"),
            Class::Criteria => ("les critères", "the criteria"),
            Class::Evidence => ("la preuve de réussite", "the evidence"),
            Class::IdentityObject => ("le destinataire", "the recipient"),
            Class::Image => ("l'image", "the image"),
            Class::AssertionVerification | Class::IssuerVerification => {
                ("le mode de vérification", "the verification method")
            }
            Class::EndorsementClaim => ("l'objet de l'approbation", "the endorsement's claim"),
        }
    }

    /// The `type` values that name this class (primary classes must carry one).
    fn type_names(self) -> &'static [&'static str] {
        match self {
            Class::Assertion => &["Assertion"],
            Class::BadgeClass => &["BadgeClass"],
            Class::Profile => &["Issuer", "Profile"],
            Class::CryptographicKey => &["CryptographicKey"],
            Class::RevocationList => &["RevocationList"],
            Class::Endorsement => &["Endorsement"],
            Class::AlignmentObject => &["AlignmentObject"],
            Class::Criteria => &["Criteria"],
            Class::Evidence => &["Evidence"],
            Class::Image => &["Image"],
            _ => &[],
        }
    }

    fn type_required(self) -> bool {
        matches!(
            self,
            Class::Assertion
                | Class::BadgeClass
                | Class::Profile
                | Class::RevocationList
                | Class::Endorsement
        )
    }
}

/// The class a document declares in `type`, if carnet knows one of its types.
pub fn class_of(doc: &Value) -> Option<Class> {
    const ORDER: [Class; 10] = [
        Class::Assertion,
        Class::BadgeClass,
        Class::Profile,
        Class::Endorsement,
        Class::CryptographicKey,
        Class::RevocationList,
        Class::AlignmentObject,
        Class::Criteria,
        Class::Evidence,
        Class::Image,
    ];
    let types: Vec<&str> = list_of(doc.get("type"))
        .into_iter()
        .filter_map(Value::as_str)
        .collect();
    ORDER
        .into_iter()
        .find(|c| c.type_names().iter().any(|n| types.contains(n)))
}

/// Validates `node` as `class`; findings carry paths under `path`.
pub fn validate(node: &Value, class: Class, terms: &Terms, path: &str, out: &mut Vec<Finding>) {
    let (fr_class, en_class) = class.names();
    if !node.is_object() {
        out.push(Finding::fail(
            path,
            format!(
                "{fr_class} devrait être un objet (trouvé : {}).",
                show(node)
            ),
            format!("{en_class} should be an object (found: {}).", show(node)),
        ));
        return;
    }
    check_type(node, class, terms, path, out);
    for prop in props(class) {
        check_prop(node, &prop, terms, path, out);
    }
    dependencies(node, class, path, out);
}

fn check_type(node: &Value, class: Class, terms: &Terms, path: &str, out: &mut Vec<Finding>) {
    if class == Class::IdentityObject {
        return; // its `type` is the kind of identifier, checked with the dependencies
    }
    let at = join(path, "type");
    let Some(ty) = node.get("type") else {
        if class.type_required() {
            out.push(Finding::fail(
                at,
                "La propriété obligatoire « type » manque.",
                "The required property \"type\" is missing.",
            ));
        }
        return;
    };
    let values = list_of(Some(ty));
    if values.is_empty() {
        out.push(Finding::fail(at, "Le type est vide.", "The type is empty."));
        return;
    }
    for v in &values {
        match v.as_str() {
            Some(s) if terms.is_rdf_type(s) => {}
            _ => out.push(Finding::fail(
                &at,
                format!("« {} » n'est pas un type défini par le contexte Open Badges ni une adresse (IRI).", show(v)),
                format!("\"{}\" is neither a type defined by the Open Badges context nor an IRI.", show(v)),
            )),
        }
    }
    let names = class.type_names();
    if class.type_required()
        && !values
            .iter()
            .any(|v| v.as_str().is_some_and(|s| names.contains(&s)))
    {
        out.push(Finding::fail(
            at,
            format!(
                "Le type devrait contenir {} (trouvé : {}).",
                names.join(" ou "),
                show(ty)
            ),
            format!(
                "The type should include {} (found: {}).",
                names.join(" or "),
                show(ty)
            ),
        ));
    }
}

fn check_prop(node: &Value, prop: &Prop, terms: &Terms, path: &str, out: &mut Vec<Finding>) {
    let at = join(path, prop.name);
    let value = node.get(prop.name);
    let items = list_of(value);
    if items.is_empty() {
        if prop.required {
            out.push(Finding::fail(
                at,
                format!("La propriété obligatoire « {} » manque.", prop.name),
                format!("The required property \"{}\" is missing.", prop.name),
            ));
        }
        return;
    }
    if !prop.many && items.len() > 1 {
        out.push(Finding::fail(
            &at,
            format!("« {} » ne doit avoir qu'une valeur.", prop.name),
            format!("\"{}\" must have a single value.", prop.name),
        ));
    }
    for item in items {
        if !value_ok(item, prop.kind, terms, &at, out) {
            let (fr, en) = prop.kind.names();
            out.push(Finding::fail(
                &at,
                format!(
                    "« {} » devrait être {fr} (trouvé : {}).",
                    prop.name,
                    show(item)
                ),
                format!("\"{}\" should be {en} (found: {}).", prop.name, show(item)),
            ));
        }
    }
}

/// Whether `v` has the kind; embedded nodes are validated (their findings go to `out`).
fn value_ok(v: &Value, kind: Kind, terms: &Terms, at: &str, out: &mut Vec<Finding>) -> bool {
    let s = v.as_str();
    match kind {
        Kind::Iri => s.is_some_and(values::is_iri),
        Kind::Url => s.is_some_and(values::is_url),
        Kind::Text => s.is_some(),
        Kind::DateTime => s.is_some_and(|s| values::parse_datetime(s).is_some()),
        Kind::Email => s.is_some_and(values::is_email),
        Kind::Telephone => s.is_some_and(values::is_telephone),
        Kind::Bool => v.is_boolean(),
        Kind::Node(class) => match v {
            Value::String(s) => values::is_iri(s),
            Value::Object(_) => {
                if let Some(class) = class {
                    validate(v, class, terms, at, out);
                }
                true
            }
            _ => false,
        },
        Kind::ImageRef { data_uri } => match v {
            Value::String(s) if values::is_data_uri(s) => {
                if !data_uri {
                    out.push(Finding::fail(
                        at,
                        "L'image de l'assertion ne peut pas être une URI « data: » : elle doit être une adresse.",
                        "The assertion's image cannot be a data: URI: it must be an address.",
                    ));
                } else if !matches!(
                    values::data_uri_media_type(s).as_deref(),
                    Some("image/png" | "image/svg+xml")
                ) {
                    out.push(Finding::fail(
                        at,
                        "L'image doit être au format PNG ou SVG.",
                        "The image must be a PNG or an SVG.",
                    ));
                }
                true
            }
            Value::String(s) => values::is_iri(s),
            Value::Object(_) => {
                validate(v, Class::Image, terms, at, out);
                true
            }
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn findings(doc: Value, class: Class) -> Vec<Finding> {
        let mut out = Vec::new();
        validate(&doc, class, &Terms::default(), "", &mut out);
        out
    }

    #[test]
    fn identity_object_rules() {
        let base = json!({"type": "Assertion", "id": "https://e.org/a", "badge": "https://e.org/b",
            "issuedOn": "2016-12-31T23:59:59Z", "verification": {"type": "hosted"},
            "recipient": {"type": "email", "hashed": false, "identity": "sha256$0123456789abcdef0123456789abcdef"}});
        let f = findings(base, Class::Assertion);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].path, "recipient.identity");
    }

    #[test]
    fn assertion_image_may_not_be_a_data_uri_but_badge_class_image_may() {
        let a = json!({"type": "Assertion", "id": "https://e.org/a", "badge": "https://e.org/b",
            "issuedOn": "2016-12-31T23:59:59Z", "verification": {"type": "hosted"}, "image": "data:image/png;base64,AA",
            "recipient": {"type": "email", "hashed": false, "identity": "a@e.org"}});
        assert_eq!(findings(a, Class::Assertion).len(), 1);
        let b = json!({"type": "BadgeClass", "id": "https://e.org/b", "issuer": "https://e.org/i",
            "name": "n", "description": "d", "criteria": {"narrative": "x"}, "image": "data:image/png;base64,AA"});
        assert!(findings(b, Class::BadgeClass).is_empty());
    }

    #[test]
    fn class_detection() {
        assert_eq!(
            class_of(&json!({"type": ["Issuer", "x:Y"]})),
            Some(Class::Profile)
        );
        assert_eq!(
            class_of(&json!({"type": "http://example.com/CoolClass"})),
            None
        );
    }
}
