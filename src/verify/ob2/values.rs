//! OB 2.0 primitive value types (spec "Primitive datatypes"; validator-core `ValueTypes`): IRI, URL,
//! DateTime with a time zone, email, telephone, identity hash, data URI. Plain predicates, no I/O.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

/// An absolute IRI (`scheme:rest`), or a blank node id (`_:b0`) for embedded nodes.
pub fn is_iri(s: &str) -> bool {
    if s.starts_with("_:") {
        return s.len() > 2;
    }
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(char::is_whitespace)
}

/// An http(s) URL with a host.
pub fn is_url(s: &str) -> bool {
    authority_of(s).is_some_and(|a| !a.is_empty()) && !s.chars().any(char::is_whitespace)
}

/// `host[:port]` of an http(s) URL (the "origin" OB 2.0 `allowedOrigins` lists), lower-cased.
pub fn authority_of(url: &str) -> Option<String> {
    let lower = url
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return None;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(authority.to_ascii_lowercase())
}

pub fn is_data_uri(s: &str) -> bool {
    s.starts_with("data:")
}

/// The media type of a data URI (`data:image/png;base64,…` → `image/png`).
pub fn data_uri_media_type(s: &str) -> Option<String> {
    let meta = s.strip_prefix("data:")?.split(',').next()?;
    Some(
        meta.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

pub fn is_email(s: &str) -> bool {
    crate::recipient::looks_like_email(s.trim())
}

/// E.164: `+` then 1 to 15 digits (validator-core accepts only this form).
pub fn is_telephone(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (1..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// `sha256$<hex>` or `md5$<hex>`, hex in either case.
pub fn is_identity_hash(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once('$') else {
        return false;
    };
    let len = match alg.to_ascii_lowercase().as_str() {
        "sha256" => 64,
        "md5" => 32,
        _ => return false,
    };
    hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Does `s` look like an identity hash of any algorithm (`alg$hex`)? Used to refuse a hash in a
/// `hashed: false` identity.
pub fn looks_hashed(s: &str) -> bool {
    s.split_once('$').is_some_and(|(alg, hex)| {
        !alg.is_empty()
            && alg.bytes().all(|b| b.is_ascii_alphanumeric())
            && hex.len() >= 32
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// An OB 2.0 DateTime: ISO 8601 date and time **with a time zone** (`Z`, `+01:00` or `+0100`),
/// seconds optional (`2017-10-01T00:00Z` appears in 1EdTech's samples).
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let zoned = match s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        Some(base) => format!("{base}+00:00"),
        None => s.to_string(),
    };
    [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M%z",
    ]
    .iter()
    .find_map(|f| DateTime::parse_from_str(&zoned, f).ok())
    .map(|d| d.with_timezone(&Utc))
}

/// OB 1.x dates as OB 2.0 DateTimes: Unix seconds (number or digits), a date alone, or a date and
/// time without a zone (read as UTC), as validator-core's upgrade does.
pub fn upgrade_datetime(v: &Value) -> Option<String> {
    let as_secs = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    };
    if let Some(secs) = as_secs {
        return DateTime::from_timestamp(secs as i64, 0).map(|d| d.to_rfc3339());
    }
    let s = v.as_str()?.trim();
    if parse_datetime(s).is_some() {
        return Some(s.to_string());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Some(n.and_utc().to_rfc3339());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc().to_rfc3339())
}

/// A value as a list: `null`/absent → empty, an array → its items, anything else → itself.
pub fn list_of(v: Option<&Value>) -> Vec<&Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(other) => vec![other],
    }
}

/// The id of a node reference: the string itself, or the `id` of an embedded object.
pub fn ref_id(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v.get("id").and_then(Value::as_str))
}

/// A short, safe rendering of a value for messages.
pub fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn datetimes_need_a_zone() {
        assert!(parse_datetime("2016-12-31T23:59:59Z").is_some());
        assert!(parse_datetime("2017-10-01T00:00Z").is_some());
        assert!(parse_datetime("2017-10-01T00:00:00+0100").is_some());
        assert!(parse_datetime("2017-10-01T00:00:00").is_none());
        assert!(parse_datetime("2017-10-01").is_none());
        assert_eq!(
            upgrade_datetime(&json!(1483228799)).as_deref(),
            Some("2016-12-31T23:59:59+00:00")
        );
        assert_eq!(
            upgrade_datetime(&json!("2016-12-31")).as_deref(),
            Some("2016-12-31T00:00:00+00:00")
        );
    }

    #[test]
    fn iris_urls_hashes() {
        assert!(is_iri("urn:uuid:2d391246"));
        assert!(is_iri("_:b0"));
        assert!(!is_iri("NotAKnownClass"));
        assert!(is_url("https://example.org/x"));
        assert!(!is_url("urn:uuid:1"));
        assert_eq!(
            authority_of("https://u@Example.org:8443/a").as_deref(),
            Some("example.org:8443")
        );
        assert!(is_identity_hash(
            "sha256$ecf5409f3f4b91ab60cc5ef4c02aef7032354375e70cf4d8e43f6a1d29891942"
        ));
        assert!(is_identity_hash("md5$d41d8cd98f00b204e9800998ecf8427e"));
        assert!(!is_identity_hash("sha256$abc"));
        assert!(is_telephone("+33612345678"));
        assert!(!is_telephone("06 12 34 56 78"));
        assert_eq!(
            data_uri_media_type("data:image/png;base64,AAA").as_deref(),
            Some("image/png")
        );
    }
}
