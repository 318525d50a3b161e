//! The reading context shared by the conformance readers: it walks a JSON node, turns each property
//! into a typed value and records a finding (with its JSON path) for every property that is missing
//! or has the wrong shape. Readers never stop at the first problem, so one pass reports them all.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};

use crate::verify::report::{Check, check_id};

pub(super) type Object = Map<String, Value>;

/// How deep profiles (`parentOrg`) and embedded endorsements may nest before we stop reading. Real
/// credentials nest two or three levels; the limit only guards the stack against hostile input.
const MAX_DEPTH: usize = 16;

/// Whether the JSON schema wants `type` as a list (most classes) or as one string (`Image`,
/// `IdentityObject`, `IdentifierEntry`, `GeoCoordinates`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TypeShape {
    List,
    Single,
}

pub(super) struct Ctx {
    pub(super) findings: Vec<Check>,
    /// The credential follows the VC 1.1 data model (OB 3.0 drafts): a few rules that those drafts
    /// did not have yet are reported as warnings instead of failures.
    pub(super) legacy: bool,
    depth: usize,
}

/// `a.b`, or `b` at the root.
pub(super) fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

/// A short JSON rendering of a value for messages.
pub(super) fn shown(v: &Value) -> String {
    let mut s = v.to_string();
    if s.chars().count() > 80 {
        s = s.chars().take(77).collect::<String>() + "...";
    }
    s
}

/// RFC 3986 / 3987: a scheme (`https`, `urn`, `did`, `data`...), a colon, then no spaces or
/// characters that a URI may never contain. Non-ASCII letters are allowed (IRIs).
pub(super) fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok
        && !rest.is_empty()
        && !rest
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
}

/// `ext:` followed by letters, digits, `.`, `-` or `_`: the extension form of OB vocabularies.
pub(super) fn is_extension_term(s: &str) -> bool {
    s.strip_prefix("ext:").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    })
}

impl Ctx {
    pub(super) fn new(legacy: bool) -> Self {
        Self {
            findings: Vec::new(),
            legacy,
            depth: 0,
        }
    }

    pub(super) fn fail(&mut self, path: &str, fr: String, en: String) {
        self.findings
            .push(Check::fail(check_id::CONFORMANCE, fr, en).at(path));
    }

    pub(super) fn warn(&mut self, path: &str, fr: String, en: String) {
        self.findings
            .push(Check::warn(check_id::CONFORMANCE, fr, en).at(path));
    }

    /// A rule of the final OB 3.0 data model that VC 1.1 (draft) credentials may not follow yet.
    pub(super) fn fail_unless_legacy(&mut self, path: &str, fr: String, en: String) {
        if self.legacy {
            self.warn(
                path,
                format!("{fr} (toléré pour un ancien justificatif VC 1.1)"),
                format!("{en} (tolerated for a legacy VC 1.1 credential)"),
            );
        } else {
            self.fail(path, fr, en);
        }
    }

    /// Enters one level of nesting; `false` (with a finding) when the input nests too deeply.
    pub(super) fn enter(&mut self, path: &str) -> bool {
        if self.depth >= MAX_DEPTH {
            self.fail(
                path,
                format!("{path} est imbriqué trop profondément ; lecture arrêtée"),
                format!("{path} is nested too deeply; reading stopped"),
            );
            return false;
        }
        self.depth += 1;
        true
    }

    pub(super) fn leave(&mut self) {
        self.depth -= 1;
    }

    pub(super) fn missing(&mut self, path: &str) {
        self.fail(
            path,
            format!("{path} est obligatoire mais absent"),
            format!("{path} is required but missing"),
        );
    }

    /// The value as a JSON object, or a finding naming the expected class.
    pub(super) fn object<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        class: &str,
    ) -> Option<&'v Object> {
        match v {
            Value::Object(obj) => Some(obj),
            other => {
                self.fail(
                    path,
                    format!(
                        "{path} doit être un objet {class} (trouvé : {})",
                        shown(other)
                    ),
                    format!("{path} must be a {class} object (found: {})", shown(other)),
                );
                None
            }
        }
    }

    /// A property that may be absent; a `null` counts as absent (the spec asks issuers to omit
    /// nulls, and a null carries no claim).
    pub(super) fn get<'v>(obj: &'v Object, key: &str) -> Option<&'v Value> {
        obj.get(key).filter(|v| !v.is_null())
    }

    /// A required property: missing gives a finding.
    pub(super) fn required<'v>(
        &mut self,
        obj: &'v Object,
        base: &str,
        key: &str,
    ) -> Option<&'v Value> {
        let v = Self::get(obj, key);
        if v.is_none() {
            self.missing(&join(base, key));
        }
        v
    }

    fn as_string(&mut self, v: &Value, path: &str) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            other => {
                self.fail(
                    path,
                    format!(
                        "{path} doit être une chaîne de caractères (trouvé : {})",
                        shown(other)
                    ),
                    format!("{path} must be a string (found: {})", shown(other)),
                );
                None
            }
        }
    }

    pub(super) fn req_str(&mut self, obj: &Object, base: &str, key: &str) -> Option<String> {
        let v = self.required(obj, base, key)?;
        self.as_string(v, &join(base, key))
    }

    pub(super) fn opt_str(&mut self, obj: &Object, base: &str, key: &str) -> Option<String> {
        let v = Self::get(obj, key)?;
        self.as_string(v, &join(base, key))
    }

    fn as_uri(&mut self, v: &Value, path: &str) -> Option<String> {
        let s = self.as_string(v, path)?;
        if is_uri(&s) {
            Some(s)
        } else {
            self.fail(
                path,
                format!("{path} doit être une URI, par exemple https://… ou urn:uuid:… (trouvé : \"{s}\")"),
                format!("{path} must be a URI, such as https://… or urn:uuid:… (found: \"{s}\")"),
            );
            None
        }
    }

    pub(super) fn req_uri(&mut self, obj: &Object, base: &str, key: &str) -> Option<String> {
        let v = self.required(obj, base, key)?;
        self.as_uri(v, &join(base, key))
    }

    pub(super) fn opt_uri(&mut self, obj: &Object, base: &str, key: &str) -> Option<String> {
        let v = Self::get(obj, key)?;
        self.as_uri(v, &join(base, key))
    }

    /// An XML Schema `dateTime` with its time zone (`DateTimeZ` in the spec).
    pub(super) fn as_date_time(&mut self, v: &Value, path: &str) -> Option<DateTime<FixedOffset>> {
        let s = self.as_string(v, path)?;
        // chrono also takes a space or a lowercase `t` between date and time; XML Schema does not.
        let separator_ok = s.as_bytes().get(10) == Some(&b'T');
        match DateTime::parse_from_rfc3339(&s) {
            Ok(dt) if separator_ok => return Some(dt),
            _ => {}
        }
        if separator_ok && NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f").is_ok() {
            self.fail(
                path,
                format!(
                    "{path} doit indiquer le fuseau horaire, par exemple \"{s}Z\" ou \"{s}+01:00\""
                ),
                format!("{path} must include a time zone, such as \"{s}Z\" or \"{s}+01:00\""),
            );
        } else {
            self.fail(
                path,
                format!(
                    "{path} doit être une date et heure avec fuseau horaire, par exemple \
                     2024-05-01T09:00:00Z (trouvé : \"{s}\")"
                ),
                format!(
                    "{path} must be a date-time with a time zone, such as 2024-05-01T09:00:00Z \
                     (found: \"{s}\")"
                ),
            );
        }
        None
    }

    pub(super) fn opt_date_time(
        &mut self,
        obj: &Object,
        base: &str,
        key: &str,
    ) -> Option<DateTime<FixedOffset>> {
        let v = Self::get(obj, key)?;
        self.as_date_time(v, &join(base, key))
    }

    /// An XML Schema `date` (`dateOfBirth`).
    pub(super) fn opt_date(&mut self, obj: &Object, base: &str, key: &str) -> Option<NaiveDate> {
        let path = join(base, key);
        let s = self.opt_str(obj, base, key)?;
        match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Ok(d) if s.len() == 10 => Some(d),
            _ => {
                self.fail(
                    &path,
                    format!("{path} doit être une date AAAA-MM-JJ (trouvé : \"{s}\")"),
                    format!("{path} must be a YYYY-MM-DD date (found: \"{s}\")"),
                );
                None
            }
        }
    }

    pub(super) fn opt_number(&mut self, obj: &Object, base: &str, key: &str) -> Option<f64> {
        let v = Self::get(obj, key)?;
        let path = join(base, key);
        match v.as_f64() {
            Some(n) => Some(n),
            None => {
                self.fail(
                    &path,
                    format!("{path} doit être un nombre (trouvé : {})", shown(v)),
                    format!("{path} must be a number (found: {})", shown(v)),
                );
                None
            }
        }
    }

    pub(super) fn req_bool(&mut self, obj: &Object, base: &str, key: &str) -> Option<bool> {
        let v = self.required(obj, base, key)?;
        let path = join(base, key);
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.fail(
                    &path,
                    format!(
                        "{path} doit valoir true ou false (trouvé : {})",
                        shown(other)
                    ),
                    format!("{path} must be true or false (found: {})", shown(other)),
                );
                None
            }
        }
    }

    /// A term of a closed OB vocabulary (`achievementType`, `identityType`...), or its `ext:` form.
    pub(super) fn vocabulary(
        &mut self,
        obj: &Object,
        base: &str,
        key: &str,
        required: bool,
        allowed: &[&str],
    ) -> Option<String> {
        let s = if required {
            self.req_str(obj, base, key)?
        } else {
            self.opt_str(obj, base, key)?
        };
        if allowed.contains(&s.as_str()) || is_extension_term(&s) {
            return Some(s);
        }
        let path = join(base, key);
        let some: Vec<&str> = allowed.iter().take(6).copied().collect();
        self.fail(
            &path,
            format!(
                "{path} n'est pas une valeur connue (\"{s}\") : choisir parmi {}… ou une extension \"ext:…\"",
                some.join(", ")
            ),
            format!(
                "{path} is not a known value (\"{s}\"): use one of {}… or an extension \"ext:…\"",
                some.join(", ")
            ),
        );
        None
    }

    /// A multi-valued property: the schema wants an array, JSON-LD also allows one bare value,
    /// which we read with a warning. Each entry goes through `read` with its own path.
    pub(super) fn list<T>(
        &mut self,
        obj: &Object,
        base: &str,
        key: &str,
        mut read: impl FnMut(&mut Self, &Value, &str) -> Option<T>,
    ) -> Vec<T> {
        let path = join(base, key);
        match Self::get(obj, key) {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| read(self, item, &format!("{path}[{i}]")))
                .collect(),
            Some(single) => {
                self.warn(
                    &path,
                    format!("{path} : le schéma JSON officiel attend une liste ; valeur unique acceptée"),
                    format!("{path}: the official JSON schema expects an array; a single value is accepted"),
                );
                read(self, single, &path).into_iter().collect()
            }
        }
    }

    pub(super) fn strings(&mut self, obj: &Object, base: &str, key: &str) -> Vec<String> {
        self.list(obj, base, key, |ctx, v, path| ctx.as_string(v, path))
    }

    /// `type` must name `class`. Returns the type names found.
    pub(super) fn types(
        &mut self,
        obj: &Object,
        base: &str,
        class: &str,
        shape: TypeShape,
    ) -> Vec<String> {
        let path = join(base, "type");
        let Some(v) = self.required(obj, base, "type") else {
            return Vec::new();
        };
        let names = self.type_names(v, &path);
        if names.is_empty() {
            return names;
        }
        if !names.iter().any(|n| n == class) {
            let (fr, en) = match shape {
                TypeShape::List => ("doit contenir", "must contain"),
                TypeShape::Single => ("doit valoir", "must be"),
            };
            self.fail(
                &path,
                format!("{path} {fr} \"{class}\" (trouvé : {})", shown(v)),
                format!("{path} {en} \"{class}\" (found: {})", shown(v)),
            );
            return names;
        }
        match (shape, v) {
            (TypeShape::List, Value::String(_)) => self.warn(
                &path,
                format!(
                    "{path} : le schéma JSON officiel attend une liste, par exemple [\"{class}\"]"
                ),
                format!("{path}: the official JSON schema expects an array, such as [\"{class}\"]"),
            ),
            (TypeShape::Single, Value::Array(_)) => self.warn(
                &path,
                format!(
                    "{path} : le schéma JSON officiel attend la chaîne \"{class}\", pas une liste"
                ),
                format!(
                    "{path}: the official JSON schema expects the string \"{class}\", not an array"
                ),
            ),
            _ => {}
        }
        names
    }

    /// A `type` value: one string or a non-empty list of strings.
    pub(super) fn type_names(&mut self, v: &Value, path: &str) -> Vec<String> {
        let names: Option<Vec<String>> = match v {
            Value::String(s) => Some(vec![s.clone()]),
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => None,
        };
        names.unwrap_or_else(|| {
            self.fail(
                path,
                format!(
                    "{path} doit être un nom de type ou une liste de noms de type (trouvé : {})",
                    shown(v)
                ),
                format!(
                    "{path} must be a type name or a list of type names (found: {})",
                    shown(v)
                ),
            );
            Vec::new()
        })
    }

    /// Classes whose schema sets `additionalProperties: false` (`Image`, `IdentityObject`,
    /// `IdentifierEntry`): any other property fails the official schema.
    pub(super) fn closed(&mut self, obj: &Object, base: &str, class: &str, allowed: &[&str]) {
        for key in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
            let path = join(base, key);
            self.fail(
                &path,
                format!(
                    "{path} : propriété non permise dans un objet {class} (permises : {})",
                    allowed.join(", ")
                ),
                format!(
                    "{path}: property not allowed in a {class} object (allowed: {})",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// `endorsementJwt[]`: compact JWS strings (`header.payload.signature`, base64url).
    pub(super) fn compact_jws_list(&mut self, obj: &Object, base: &str) -> Vec<String> {
        self.list(obj, base, "endorsementJwt", |ctx, v, path| {
            let s = ctx.as_string(v, path)?;
            let parts: Vec<&str> = s.split('.').collect();
            let b64url = |p: &str| p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            let ok = parts.len() == 3
                && !parts[0].is_empty()
                && !parts[2].is_empty()
                && parts.iter().all(|p| b64url(p));
            if ok {
                Some(s)
            } else {
                ctx.fail(
                    path,
                    format!("{path} doit être un JWS compact (trois parties base64url séparées par des points)"),
                    format!("{path} must be a compact JWS (three base64url parts separated by dots)"),
                );
                None
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        for ok in [
            "https://example.com/a",
            "urn:uuid:1234",
            "did:key:z6Mk",
            "data:image/png;base64,AA",
            "mailto:é@x",
        ] {
            assert!(is_uri(ok), "{ok}");
        }
        for bad in [
            "",
            "example.com",
            "z6Mk",
            ":x",
            "1http://x",
            "https://a b",
            "http:",
            "C:\\dir",
        ] {
            assert!(!is_uri(bad), "{bad}");
        }
    }

    #[test]
    fn extension_terms() {
        assert!(is_extension_term("ext:MyType"));
        assert!(is_extension_term("ext:a.b-c_d"));
        assert!(!is_extension_term("ext:"));
        assert!(!is_extension_term("ext:a b"));
        assert!(!is_extension_term("MyType"));
    }
}
