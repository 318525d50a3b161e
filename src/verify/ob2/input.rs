//! What the OB 2.0 verifier was given (validator-core `DETECT_INPUT_TYPE`): a URL, a JSON document,
//! or a compact JWS (signed assertion). Images are unbaked before they get here; a URL that answers
//! with an image is unbaked by the verifier.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// Largest text accepted (bytes), as for OB 3.0 input.
pub const MAX_INPUT_BYTES: usize = crate::verify::MAX_JSON_BYTES;

#[derive(Debug, Clone)]
pub enum Input {
    Url(String),
    Json(Value),
    Jws(Jws),
}

/// A compact JWS, decoded but not verified.
#[derive(Debug, Clone)]
pub struct Jws {
    pub compact: String,
    pub header: Value,
    pub payload: Value,
}

/// Why the input could not be read: (French, English).
pub type Unreadable = (String, String);

pub fn detect(text: &str) -> Result<Input, Unreadable> {
    let text = text.trim().trim_start_matches('\u{feff}');
    if text.len() > MAX_INPUT_BYTES {
        return Err((
            "le document est trop grand".into(),
            "the document is too large".into(),
        ));
    }
    if text.starts_with('{') {
        return match crate::json::from_str(text) {
            Ok(v) if v.is_object() => Ok(Input::Json(v)),
            Ok(_) => Err((
                "le JSON n'est pas un objet".into(),
                "the JSON is not an object".into(),
            )),
            Err(e) => Err((
                format!("le JSON est mal formé : {e}"),
                format!("the JSON is malformed: {e}"),
            )),
        };
    }
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://"))
        && !text.chars().any(char::is_whitespace)
    {
        return Ok(Input::Url(text.to_string()));
    }
    if looks_like_jws(text) {
        return decode_jws(text).map(Input::Jws);
    }
    Err((
        "ce n'est ni une adresse, ni un JSON, ni une signature JWS".into(),
        "it is neither an address, nor JSON, nor a JWS signature".into(),
    ))
}

/// Three base64url parts separated by dots (validator-core's JWS pattern also allows `=`).
pub fn looks_like_jws(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts[..2].iter().all(|p| !p.is_empty())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
}

fn b64(part: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()
}

pub fn decode_jws(text: &str) -> Result<Jws, Unreadable> {
    let mut parts = text.split('.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return Err((
            "la signature JWS est incomplète".into(),
            "the JWS is incomplete".into(),
        ));
    };
    let header = b64(h)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .filter(Value::is_object)
        .ok_or_else(|| {
            (
                "l'en-tête de la signature JWS est illisible".to_string(),
                "the JWS header cannot be read".to_string(),
            )
        })?;
    let payload = b64(p)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .filter(Value::is_object)
        .ok_or_else(|| {
            (
                "le contenu signé n'est pas un document JSON".to_string(),
                "the signed content is not a JSON document".to_string(),
            )
        })?;
    Ok(Jws {
        compact: text.to_string(),
        header,
        payload,
    })
}

/// Is this text (JSON, JWS or URL, e.g. unbaked) an Open Badges 2.0 (or 1.x) badge rather than an
/// OB 3.0 credential? For routing in `Verifier::verify_bytes`: URLs are OB 2.0 (OB 3.0 has no
/// hosted form); JSON is OB 2.0 when its context is an Open Badges 1.x/2.0 one or absent; a JWS
/// when its payload is such a JSON document (a VC-JWT carries `vc` or a VC context instead).
pub fn is_ob2_text(text: &str) -> bool {
    match detect(text) {
        Ok(Input::Url(_)) => true,
        Ok(Input::Json(v)) => is_ob2_json(&v),
        Ok(Input::Jws(j)) => j.payload.get("vc").is_none() && is_ob2_json(&j.payload),
        Err(_) => false,
    }
}

fn is_ob2_json(v: &Value) -> bool {
    use super::context::{OB1_CONTEXTS, OB2_CONTEXT};
    let Some(ctx) = v.get("@context") else {
        // OB 1.0 / 0.5 documents have no context; a credential without one is no VC either.
        return v.get("recipient").is_some() || v.get("badge").is_some();
    };
    let items: Vec<&Value> = match ctx {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    items.iter().any(|c| match c {
        Value::String(s) => {
            s == OB2_CONTEXT
                || OB1_CONTEXTS.contains(&s.as_str())
                || s.starts_with("https://w3id.org/openbadges/")
        }
        Value::Object(o) => {
            o.get("obi").and_then(Value::as_str) == Some("https://w3id.org/openbadges#")
        }
        _ => false,
    }) && !items.iter().any(|c| {
        c.as_str().is_some_and(|s| {
            s.contains("/credentials/") || s.contains("purl.imsglobal.org/spec/ob/v3p0")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_inputs() {
        assert!(matches!(
            detect(" https://e.org/a.json\n"),
            Ok(Input::Url(_))
        ));
        assert!(matches!(detect("{\"id\": 1}"), Ok(Input::Json(_))));
        assert!(detect("{\"id\": ").is_err());
        let jws = format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(br#"{"@context":"https://w3id.org/openbadges/v2"}"#)
        );
        assert!(matches!(detect(&jws), Ok(Input::Jws(_))));
        assert!(is_ob2_text(&jws));
        assert!(!is_ob2_text(
            r#"{"@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]}"#
        ));
        assert!(is_ob2_text(
            r#"{"@context": "https://w3id.org/openbadges/v2"}"#
        ));
        assert!(is_ob2_text(r#"{"recipient": {}, "verify": {}}"#));
    }
}
