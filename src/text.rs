//! The one rule for free text that comes from outside (names, narratives, comments): a length in
//! characters, and no control character — none at all in one-line text, only line breaks and
//! tabs in text of several lines — nor a bidirectional override, which can make text read
//! differently from what it is (« Trojan Source », CVE-2021-42574).
//!
//! Also the one rule for slugs (`is_slug`), the short ids that become part of an address.

/// Whether the text may span several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Why `text` is refused, or `Ok`.
pub fn check(text: &str, max_chars: usize, lines: Lines) -> Result<(), String> {
    if text.chars().count() > max_chars {
        return Err(format!("is longer than {max_chars} characters"));
    }
    let allowed = |c: char| lines == Lines::Many && matches!(c, '\n' | '\r' | '\t');
    if let Some(c) = text.chars().find(|&c| c.is_control() && !allowed(c)) {
        return Err(format!(
            "contains a control character (U+{:04X}){}",
            u32::from(c),
            if lines == Lines::One {
                ": it must be one line"
            } else {
                ""
            }
        ));
    }
    if let Some(c) = text
        .chars()
        .find(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Err(format!(
            "contains a bidirectional control character (U+{:04X})",
            u32::from(c)
        ));
    }
    Ok(())
}

/// Whether `s` is a slug: 1 to 40 lowercase ASCII letters, digits or inner hyphens (an issuer,
/// a badge class, a référentiel or competence id, part of an address).
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_many_lines_and_what_is_never_text() {
        assert_eq!(check("Léa Martin", 200, Lines::One), Ok(()));
        assert_eq!(check("Ligne 1\nLigne 2\r\n\tfin", 200, Lines::Many), Ok(()));
        assert!(check("Léa\nMartin", 200, Lines::One).is_err());
        for bad in [
            "a\u{0}b",
            "a\u{7}b",
            "a\u{1b}[31mb",
            "a\u{85}b",
            "a\u{202E}b",
            "a\u{2066}b",
        ] {
            assert!(check(bad, 200, Lines::Many).is_err(), "{bad:?}");
        }
        assert!(check(&"é".repeat(201), 200, Lines::Many).is_err());
        assert_eq!(check(&"é".repeat(200), 200, Lines::Many), Ok(()));
    }
}
