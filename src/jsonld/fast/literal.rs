//! Literals as the slow path writes them: JSON-LD toRdf (JSON-LD 1.1 Processing Algorithms §8.6 Object to RDF
//! Conversion) as the `json-ld` crate implements it, with its particular choices (a number is an `xsd:integer`
//! when its text parses as an `i64`; numbers of the default graph are first put in RFC 8785 canonical form,
//! those inside a named graph are not; `xsd:double` in the XSD canonical form `d.dddEn`).
//!
//! The number and JSON steps call the same functions of `json-syntax` as the crate does; only the final
//! `xsd:double` formatting (the crate uses `pretty_dtoa`, not a dependency of carnet) is written here.

use json_ld::Iri;
use json_ld::syntax::{Number, NumberBuf, Print};
use serde_json::Value;

use super::super::{Budget, to_json_syntax};

pub(super) const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
pub(super) const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";
pub(super) const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
pub(super) const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";
pub(super) const RDF_JSON: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON";

/// (lexical form, datatype) of a JSON number, `datatype` being the coerced type if any. `None`: not handled.
pub(super) fn number(
    n: &serde_json::Number,
    datatype: Option<&str>,
    canonical: bool,
) -> Option<(String, String)> {
    // The slow path's conversion: serde_json's text, read as a JSON number.
    let text = n.to_string();
    let number = Number::new(text.as_str()).ok()?;
    let number = if canonical {
        NumberBuf::from_number(&number.canonical())
    } else {
        NumberBuf::from_number(number)
    };
    // The crate compares IRIs as `iref` does (component-wise), not as strings.
    let double = datatype.is_some_and(|d| match (Iri::new(d), Iri::new(XSD_DOUBLE)) {
        (Ok(d), Ok(double)) => d == double,
        _ => false,
    });
    if number.as_i64().is_some() && !double {
        return Some((
            number.as_str().to_string(),
            datatype.unwrap_or(XSD_INTEGER).to_string(),
        ));
    }
    Some((
        xsd_double(number.as_f64_lossy())?,
        datatype.unwrap_or(XSD_DOUBLE).to_string(),
    ))
}

/// The canonical lexical form of an `xsd:double` as `pretty_dtoa` writes it with the crate's configuration
/// (E notation, capital `E`, at least one digit after the point): shortest round-trip digits.
pub(super) fn xsd_double(value: f64) -> Option<String> {
    if !value.is_finite() {
        return None;
    }
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value == 0.0 {
        return Some(format!("{sign}0.0E0"));
    }
    // Rust's `{:e}` writes the shortest digits that round-trip, as `d[.ddd]e<exp>`.
    let text = format!("{:e}", value.abs());
    let (mantissa, exponent) = text.split_once('e')?;
    // A value exactly halfway between two 17-digit decimals (1902259491222736.25): Rust and
    // `pretty_dtoa` break the tie apart, so the slow path answers (found by the differential
    // property test).
    if mantissa.bytes().filter(u8::is_ascii_digit).count() >= 17 {
        let exact = format!("{:.40e}", value.abs());
        let digits: Vec<u8> = exact
            .split('e')
            .next()?
            .bytes()
            .filter(u8::is_ascii_digit)
            .collect();
        if digits.get(17) == Some(&b'5') && digits[18..].iter().all(|&d| d == b'0') {
            return None;
        }
    }
    let mut out = String::with_capacity(text.len() + 3);
    out.push_str(sign);
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    out.push('E');
    out.push_str(exponent);
    Some(out)
}

/// The lexical form of an `rdf:JSON` literal: the value as the slow path converts it, canonicalised (RFC 8785)
/// when it is in the default graph, printed compactly.
pub(super) fn json(value: &Value, canonical: bool) -> Option<String> {
    let mut budget = Budget {
        values: usize::MAX,
        contexts: usize::MAX,
        typed: usize::MAX,
    };
    let mut json = to_json_syntax(value, 1, &mut budget).ok()?;
    if canonical {
        json.canonicalize();
    }
    Some(json.compact_print().to_string())
}
