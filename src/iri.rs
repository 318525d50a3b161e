//! The web links carnet accepts from outside (evidence links, badge request links): checked where
//! they enter, by the IRI parser the signer's JSON-LD expansion uses (`iref`, RFC 3987), so that
//! nothing accepted can fail later at signing.

/// Longest link accepted (characters).
pub const MAX_LINK_CHARS: usize = 2000;

/// Why `link` is not an `http(s)` link carnet can sign, or `Ok`.
pub fn check_web_link(link: &str) -> Result<(), String> {
    if link.chars().count() > MAX_LINK_CHARS {
        return Err(format!("is longer than {MAX_LINK_CHARS} characters"));
    }
    if link.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains a space or a control character".into());
    }
    let rest = link
        .strip_prefix("https://")
        .or_else(|| link.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return Err("has no host after https://".into());
    }
    if !percent_decodes_to_utf8(link) {
        return Err("has a percent-encoding that is not UTF-8 text (such as %b1)".into());
    }
    iref::Iri::new(link)
        .map(|_| ())
        .map_err(|_| "is not a valid web address (RFC 3987: a character that must be percent-encoded, a bad percent-encoding, or a bad host)".into())
}

/// Whether the link, its `%XX` decoded, is UTF-8: the JSON-LD stack that signs it cannot read
/// one that is not (see `jsonld::canonicalize_slow`). A `%` not followed by two hex digits is
/// left to the IRI parser.
fn percent_decodes_to_utf8(link: &str) -> bool {
    let bytes = link.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_the_signer_would_refuse_are_refused_at_the_door() {
        for ok in [
            "https://example.org/photo.jpg",
            "http://example.org:8080/a/b?c=d&e=f#g",
            "https://example.org/%C3%A9t%C3%A9",
            "https://exemple.fr/été",
            "https://[2001:db8::1]/x",
        ] {
            assert_eq!(check_web_link(ok), Ok(()), "{ok}");
        }
        for bad in [
            "https://x.invalid/a b",
            "https://x.invalid/<x>",
            "https://x.invalid/%zz",
            "https://x.invalid/credentials%b1b003e6",
            "https://x.invalid/%C3",
            "http://[::1",
            "https://x.invalid/a\u{0}b",
            "https://x.invalid/a#b#c",
            "ftp://example.org/x",
            "https://",
            "https:///path",
            "javascript:alert(1)",
        ] {
            assert!(check_web_link(bad).is_err(), "{bad:?}");
        }
        assert!(check_web_link(&format!("https://e.org/{}", "a".repeat(2000))).is_err());
    }

    /// Every link accepted here expands and signs: the JSON-LD expansion takes it as an `@id`.
    #[test]
    fn accepted_links_are_absolute_iris_for_the_json_ld_expansion() {
        for ok in [
            "https://example.org/%C3%A9t%C3%A9",
            "https://exemple.fr/été?a=1#b",
        ] {
            assert!(check_web_link(ok).is_ok());
            let doc = serde_json::json!({
                "@context": "https://www.w3.org/ns/credentials/v2",
                "id": ok,
                "type": "VerifiableCredential",
                "name": "x"
            });
            let quads = crate::jsonld::canonicalize(&doc);
            assert!(quads.is_ok(), "{ok}: {quads:?}");
        }
    }
}
