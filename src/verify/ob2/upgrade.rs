//! Reading Open Badges 0.5 / 1.0 / 1.1 documents in the 2.0 shape (validator-core
//! `UPGRADE_0_5_NODE`, `UPGRADE_1_0_NODE`, `UPGRADE_1_1_NODE`): the common fields only — `verify` →
//! `verification`, `uid`, `id` from where the document was fetched (or the 1.0 `verify.url`), a
//! `badge`/`issuer` URL, the 0.5 recipient string, dates as DateTimes with a zone, and 1.1
//! alignment names. The result is then validated as a 2.0 document.

use serde_json::{Map, Value, json};

use super::classes::Class;
use super::context::{OB2_CONTEXT, Version, version_of};
use super::values::upgrade_datetime;

/// A document in the 2.0 shape.
pub struct Upgraded {
    pub doc: Value,
}

/// Upgrades `doc` (a 1.x document, or a 2.0 one using the `verify` alias) to the 2.0 shape.
/// `fetched_from` is the address it was read at; `expected` the class the link to it implies.
pub fn upgrade(doc: Value, fetched_from: Option<&str>, expected: Option<Class>) -> Upgraded {
    let from = version_of(&doc);
    let Value::Object(mut o) = doc else {
        return Upgraded { doc };
    };
    if let Some(verify) = o.remove("verify")
        && !o.contains_key("verification")
    {
        o.insert("verification".into(), verify);
    }
    if matches!(from, Version::V1_0 | Version::V1_1) {
        let class = expected.unwrap_or_else(|| guess_class(&o));
        if from == Version::V1_0 {
            upgrade_1_0(&mut o, class, fetched_from);
        }
        upgrade_1_1(&mut o, class);
        o.insert("@context".into(), json!(OB2_CONTEXT));
    }
    Upgraded {
        doc: Value::Object(o),
    }
}

fn guess_class(o: &Map<String, Value>) -> Class {
    if let Some(class) = super::classes::class_of(&Value::Object(o.clone())) {
        return class;
    }
    // Only an assertion is awarded, verified, dated or points to a badge class (`verify` is
    // already `verification` here).
    if ["recipient", "verification", "badge", "uid", "issuedOn"]
        .iter()
        .any(|k| o.contains_key(*k))
    {
        Class::Assertion
    } else if o.contains_key("criteria") {
        Class::BadgeClass
    } else {
        Class::Profile
    }
}

fn type_name(class: Class) -> &'static str {
    match class {
        Class::Assertion => "Assertion",
        Class::BadgeClass => "BadgeClass",
        _ => "Issuer",
    }
}

/// 1.0 and 0.5: no types, no ids (a document is known by its URL).
fn upgrade_1_0(o: &mut Map<String, Value>, class: Class, fetched_from: Option<&str>) {
    o.entry("type").or_insert_with(|| json!(type_name(class)));
    if class == Class::Assertion {
        upgrade_0_5_assertion(o);
        let hosted_url = o
            .get("verification")
            // A `verify` without its (required) type: its url is still the assertion's, as the
            // bakeries read it (mozilla/openbadges-bakery `svg.js`).
            .filter(|v| is_hosted(v) || v.get("type").is_none())
            .and_then(|v| v.get("url"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if !o.contains_key("id") {
            let id = fetched_from.map(str::to_string).or(hosted_url).or_else(|| {
                o.get("uid")
                    .and_then(Value::as_str)
                    .map(|uid| format!("uid:{uid}"))
            });
            if let Some(id) = id {
                o.insert("id".into(), json!(id));
            }
        }
    } else if !o.contains_key("id")
        && let Some(url) = fetched_from
    {
        o.insert("id".into(), json!(url));
    }
}

fn is_hosted(v: &Value) -> bool {
    matches!(
        v.get("type").and_then(Value::as_str),
        Some("hosted" | "HostedBadge")
    )
}

/// OB 0.5: `recipient` is the (hashed) email itself, `salt` and `issued_on` at the top, the badge
/// and its issuer embedded with their 0.5 names.
fn upgrade_0_5_assertion(o: &mut Map<String, Value>) {
    if let Some(Value::String(identity)) = o.get("recipient").cloned() {
        let mut recipient = json!({
            "type": "email",
            "hashed": !identity.contains('@'),
            "identity": identity,
        });
        if let Some(salt) = o.remove("salt") {
            recipient["salt"] = salt;
        }
        o.insert("recipient".into(), recipient);
        o.entry("verification")
            .or_insert_with(|| json!({"type": "HostedBadge"}));
    }
    if let Some(issued) = o.remove("issued_on") {
        o.entry("issuedOn").or_insert(issued);
    }
    if let Some(Value::Object(badge)) = o.get_mut("badge") {
        badge.entry("type").or_insert_with(|| json!("BadgeClass"));
        if let Some(Value::Object(issuer)) = badge.get_mut("issuer") {
            issuer.entry("type").or_insert_with(|| json!("Profile"));
            for (old, new) in [("contact", "email"), ("origin", "url")] {
                if !issuer.contains_key(new)
                    && let Some(v) = issuer.remove(old)
                {
                    issuer.insert(new.into(), v);
                }
            }
            if let (Some(Value::String(name)), Some(Value::String(org))) =
                (issuer.get("name").cloned(), issuer.remove("org"))
            {
                issuer.insert("name".into(), json!(format!("{name}: {org}")));
            }
        }
    }
}

/// 1.1 (and what 1.0 shares with it): dates, the verification type names, alignment names.
fn upgrade_1_1(o: &mut Map<String, Value>, class: Class) {
    if class == Class::Assertion {
        for k in ["issuedOn", "expires"] {
            if let Some(v) = o.get(k)
                && let Some(upgraded) = upgrade_datetime(v)
            {
                o.insert(k.into(), json!(upgraded));
            }
        }
        if let Some(Value::Object(v)) = o.get_mut("verification") {
            let signed = matches!(
                v.get("type").and_then(Value::as_str),
                Some("signed" | "SignedBadge")
            );
            // In 1.x, `verify.url` is the hosted assertion (hosted) or the public key (signed).
            if let Some(url) = v.remove("url")
                && signed
            {
                v.entry("creator").or_insert(url);
            }
        }
    }
    if class == Class::BadgeClass
        && let Some(alignment) = o.get_mut("alignment")
    {
        let items: Vec<&mut Value> = match alignment {
            Value::Array(a) => a.iter_mut().collect(),
            other => vec![other],
        };
        for item in items {
            if let Value::Object(a) = item {
                for (old, new) in [
                    ("url", "targetUrl"),
                    ("name", "targetName"),
                    ("description", "targetDescription"),
                ] {
                    if !a.contains_key(new)
                        && let Some(v) = a.remove(old)
                    {
                        a.insert(new.into(), v);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_1_0_hosted_assertion() {
        let doc = json!({
            "uid": "abc", "recipient": {"type": "email", "hashed": true, "salt": "s",
            "identity": "sha256$ecf5409f3f4b91ab60cc5ef4c02aef7032354375e70cf4d8e43f6a1d29891942"},
            "badge": "https://e.org/badge.json", "issuedOn": 1483228799,
            "verify": {"type": "hosted", "url": "https://e.org/a.json"}
        });
        assert_eq!(version_of(&doc), Version::V1_0);
        let u = upgrade(doc, None, None);
        assert_eq!(u.doc["id"], "https://e.org/a.json");
        assert_eq!(u.doc["type"], "Assertion");
        assert_eq!(u.doc["@context"], OB2_CONTEXT);
        assert_eq!(u.doc["verification"], json!({"type": "hosted"}));
        assert_eq!(u.doc["issuedOn"], "2016-12-31T23:59:59+00:00");
        assert_eq!(u.doc["uid"], "abc");
    }

    #[test]
    fn a_0_5_assertion() {
        let doc = json!({"recipient": "a@e.org", "issued_on": "2012-01-01",
            "badge": {"name": "b", "issuer": {"name": "I", "org": "O", "origin": "https://e.org", "contact": "c@e.org"}}});
        let u = upgrade(doc, Some("https://e.org/a"), None);
        assert_eq!(u.doc["recipient"]["hashed"], false);
        assert_eq!(u.doc["issuedOn"], "2012-01-01T00:00:00+00:00");
        assert_eq!(u.doc["badge"]["issuer"]["name"], "I: O");
        assert_eq!(u.doc["badge"]["issuer"]["url"], "https://e.org");
        assert_eq!(u.doc["id"], "https://e.org/a");
    }

    #[test]
    fn a_1_1_signed_assertion_and_badge_class() {
        let doc = json!({"@context": "https://w3id.org/openbadges/v1", "type": "Assertion", "id": "urn:uuid:1",
            "verify": {"type": "signed", "url": "https://e.org/key.pem"}, "issuedOn": "2016-01-01"});
        assert_eq!(version_of(&doc), Version::V1_1);
        let u = upgrade(doc, None, None);
        assert_eq!(u.doc["verification"]["creator"], "https://e.org/key.pem");
        let bc = json!({"@context": "https://w3id.org/openbadges/v1", "type": "BadgeClass",
            "criteria": "https://e.org/c", "alignment": [{"url": "https://e.org/s", "name": "S"}]});
        let u = upgrade(bc, Some("https://e.org/b"), Some(Class::BadgeClass));
        assert_eq!(u.doc["alignment"][0]["targetUrl"], "https://e.org/s");
    }
}
