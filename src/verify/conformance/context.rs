//! `@context` checks (CHECKLIST §5): the VC context first, the OB 3.0 context second, then any
//! extension contexts. These findings carry the `context` check id.

use serde_json::Value;

use super::VcVersion;
use super::reader::{join, shown};
use crate::verify::report::{Check, check_id};

pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
pub const VC_V1_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";
/// The OB 3.0 context carnet expects (spec 3.0.3).
pub const OB_V3_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

const OB_CONTEXT_PREFIX: &str = "https://purl.imsglobal.org/spec/ob/v3p0/";

/// What an `@context` entry is, as far as OB 3.0 goes.
#[derive(Debug, PartialEq, Eq)]
enum ObContext {
    /// `context-3.0.3.json`.
    Current,
    /// Another `context-3.x.y.json`, or the unversioned aliases `context.json` and
    /// `context/ob_v3p0.jsonld` that the 1EdTech validator accepts with a warning.
    Other,
    NotOb,
}

fn classify(item: &Value) -> ObContext {
    let Some(s) = item.as_str() else {
        return ObContext::NotOb;
    };
    if s == OB_V3_CONTEXT {
        return ObContext::Current;
    }
    let Some(rest) = s.strip_prefix(OB_CONTEXT_PREFIX) else {
        return ObContext::NotOb;
    };
    // The schema's pattern: `context(-3\.\d\.\d)*\.json`.
    let versioned = rest
        .strip_prefix("context-3.")
        .and_then(|r| r.strip_suffix(".json"))
        .is_some_and(|v| {
            let b = v.as_bytes();
            b.len() == 3 && b[0].is_ascii_digit() && b[1] == b'.' && b[2].is_ascii_digit()
        });
    if versioned || rest == "context.json" || rest == "context/ob_v3p0.jsonld" {
        ObContext::Other
    } else {
        ObContext::NotOb
    }
}

pub(super) fn vc_version(cred: &Value) -> Option<VcVersion> {
    let first = match cred.get("@context")? {
        Value::Array(items) => items.first()?,
        single => single,
    };
    match first.as_str()? {
        VC_V2_CONTEXT => Some(VcVersion::V2),
        VC_V1_CONTEXT => Some(VcVersion::V1_1),
        _ => None,
    }
}

pub(super) fn check(cred: &serde_json::Map<String, Value>, base: &str, out: &mut Vec<Check>) {
    let path = join(base, "@context");
    let fail = |out: &mut Vec<Check>, at: &str, fr: String, en: String| {
        out.push(Check::fail(check_id::CONTEXT, fr, en).at(at));
    };
    let warn = |out: &mut Vec<Check>, at: &str, fr: String, en: String| {
        out.push(Check::warn(check_id::CONTEXT, fr, en).at(at));
    };
    let items: &[Value] = match cred.get("@context") {
        None | Some(Value::Null) => {
            fail(
                out,
                &path,
                format!("{path} est obligatoire : [\"{VC_V2_CONTEXT}\", \"{OB_V3_CONTEXT}\"]"),
                format!("{path} is required: [\"{VC_V2_CONTEXT}\", \"{OB_V3_CONTEXT}\"]"),
            );
            return;
        }
        Some(Value::Array(items)) => items,
        Some(single) => std::slice::from_ref(single),
    };
    if !matches!(cred.get("@context"), Some(Value::Array(_))) {
        fail(
            out,
            &path,
            format!("{path} doit être une liste : le contexte VC puis le contexte Open Badges 3.0"),
            format!("{path} must be a list: the VC context, then the Open Badges 3.0 context"),
        );
    }

    let first_ok = match items.first().and_then(Value::as_str) {
        Some(VC_V2_CONTEXT) => true,
        Some(VC_V1_CONTEXT) => {
            warn(
                out,
                &format!("{path}[0]"),
                format!(
                    "ancien modèle de données VC 1.1 : accepté en vérification, mais remplacé par \
                     VC 2.0 ({VC_V2_CONTEXT})"
                ),
                format!(
                    "legacy VC 1.1 data model: accepted for verification, superseded by VC 2.0 ({VC_V2_CONTEXT})"
                ),
            );
            true
        }
        _ => {
            let found = items.first().map(shown).unwrap_or_else(|| "[]".to_string());
            fail(
                out,
                &format!("{path}[0]"),
                format!(
                    "le premier élément de {path} doit être \"{VC_V2_CONTEXT}\" (ou, pour l'ancien \
                     modèle VC 1.1, \"{VC_V1_CONTEXT}\") ; trouvé : {found}"
                ),
                format!(
                    "the first item of {path} must be \"{VC_V2_CONTEXT}\" (or, for the legacy VC 1.1 \
                     model, \"{VC_V1_CONTEXT}\"); found: {found}"
                ),
            );
            false
        }
    };

    let ob_at = items.iter().position(|i| classify(i) != ObContext::NotOb);
    match ob_at {
        None => fail(
            out,
            &path,
            format!("{path} doit contenir le contexte Open Badges 3.0 \"{OB_V3_CONTEXT}\""),
            format!("{path} must contain the Open Badges 3.0 context \"{OB_V3_CONTEXT}\""),
        ),
        // With the VC context missing, the OB context sits one place early: that is already reported.
        Some(i) if i != 1 && first_ok => fail(
            out,
            &format!("{path}[1]"),
            format!(
                "le contexte Open Badges 3.0 doit être le deuxième élément de {path} (il est en position {i})"
            ),
            format!(
                "the Open Badges 3.0 context must be the second item of {path} (it is at index {i})"
            ),
        ),
        Some(i) => {
            if classify(&items[i]) == ObContext::Other {
                let found = shown(&items[i]);
                warn(
                    out,
                    &format!("{path}[{i}]"),
                    format!(
                        "contexte Open Badges 3.0 accepté, mais la version attendue est \"{OB_V3_CONTEXT}\" (trouvé : {found})"
                    ),
                    format!(
                        "Open Badges 3.0 context accepted, but the expected version is \"{OB_V3_CONTEXT}\" (found: {found})"
                    ),
                );
            }
        }
    }

    for (i, item) in items.iter().enumerate() {
        if !matches!(item, Value::String(_) | Value::Object(_)) {
            fail(
                out,
                &format!("{path}[{i}]"),
                format!(
                    "{path}[{i}] doit être une URL de contexte ou un objet de contexte (trouvé : {})",
                    shown(item)
                ),
                format!(
                    "{path}[{i}] must be a context URL or a context object (found: {})",
                    shown(item)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_ob_contexts() {
        assert_eq!(classify(&json!(OB_V3_CONTEXT)), ObContext::Current);
        for other in [
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
            "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
            "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld",
        ] {
            assert_eq!(classify(&json!(other)), ObContext::Other, "{other}");
        }
        for not_ob in [
            "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.json",
            "https://w3id.org/openbadges/v2",
        ] {
            assert_eq!(classify(&json!(not_ob)), ObContext::NotOb, "{not_ob}");
        }
    }
}
