//! Recipient identity: an email becomes a salted SHA-256 `IdentityHash` (OB 2.0 and 3.0 use the same
//! form, `sha256$<hex>` of the identifier followed by the salt). The clear email never appears in a
//! published document, a log line or the database; the recipient's name is published only when
//! given.
//!
//! [`Email`] is the one parsed form (normalised; `Debug` and `Display` mask it), checked by one
//! strict syntax, [`looks_like_email`], which the configuration and the OB 2.0 verifier use too;
//! `matches` compares a candidate with a salted hash (the verifier's `recipient` check).

use std::fmt;

use sha2::{Digest, Sha256};

use crate::hex::hex;

/// A recipient's email address, normalised (trimmed, lowercased). `Debug` and `Display` mask it.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        if s.len() > 254 || !looks_like_email(&s) {
            return Err("this is not an email address".into());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email(***)")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.split_once('@').map(|(_, d)| d).unwrap_or("");
        write!(f, "***@{domain}")
    }
}

/// Whether `s` is an email address as carnet takes one (recipients, the issuer's address, an OB 2.0
/// `email` value).
pub fn looks_like_email(s: &str) -> bool {
    // The syntax of HTML's `<input type="email">` (a "valid email address"), made stricter
    // where RFC 5321 / 5322 are: a dot-atom local part (no leading, trailing or double dot) of
    // at most 64 characters, a domain of at least two DNS labels (letters, digits, inner
    // hyphens, 63 characters each, 253 in all; no address literal such as `[127.0.0.1]`, a
    // top-level label not all digits), 254 characters in all. ASCII only: an internationalised
    // domain is written in its `xn--` form.
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    const LOCAL: &str = "!#$%&'*+/=?^_`{|}~-.";
    let local_ok = (1..=64).contains(&local.len())
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || LOCAL.contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()));
    s.len() <= 254 && local_ok && domain_ok
}

/// A salted hash of an identifier, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedIdentity {
    /// `sha256$<hex>`
    pub identity_hash: String,
    pub salt: String,
}

/// A fresh random salt (128 bits, hex).
pub fn new_salt() -> String {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).expect("the operating system's random source is available");
    hex(&b)
}

/// `sha256$` + hex(SHA-256(identifier ‖ salt)).
pub fn identity_hash(identifier: &str, salt: &str) -> String {
    let mut h = Sha256::new();
    h.update(identifier.as_bytes());
    h.update(salt.as_bytes());
    format!("sha256${}", hex(&h.finalize()))
}

pub fn hash_email(email: &Email) -> HashedIdentity {
    let salt = new_salt();
    HashedIdentity {
        identity_hash: identity_hash(email.as_str(), &salt),
        salt,
    }
}

/// Does `candidate` (as typed, then normalised) match a published hash? Accepts `sha256$` and
/// legacy `md5$` hashes, hex in either case.
pub fn matches(candidate: &str, identity_hash_value: &str, salt: Option<&str>) -> bool {
    let salt = salt.unwrap_or("");
    let Some((alg, hash)) = identity_hash_value.split_once('$') else {
        return identity_hash_value
            .trim()
            .eq_ignore_ascii_case(candidate.trim());
    };
    let forms = [candidate.to_string(), candidate.trim().to_lowercase()];
    forms
        .iter()
        .any(|form| match alg.to_ascii_lowercase().as_str() {
            "sha256" => {
                let mut h = Sha256::new();
                h.update(form.as_bytes());
                h.update(salt.as_bytes());
                hex(&h.finalize()).eq_ignore_ascii_case(hash)
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_follow_one_strict_syntax() {
        for ok in [
            "lea@example.org",
            "Lea.Martin+ime@Example.ORG",
            "o'brien@ime-tilleuls.fr",
            "a@b.co",
            "x_y-z@xn--bcher-kva.example",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a\u{0}@b.c",
            "<script>alert(1)</script>@x.y",
            "a@b..c",
            "a@[127.0.0.1]",
            "a@127.0.0.1",
            ".a@b.c",
            "a.@b.c",
            "a..b@c.d",
            "a@b",
            "a@-b.c",
            "a@b-.c",
            "a b@c.d",
            "a@b.c\u{7}",
            "\"quoted\"@b.c",
            "a@@b.c",
            "@b.c",
            "léa@example.org",
            "a@exämple.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let long_local = format!("{}@b.c", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
        let long_label = format!("a@{}.c", "b".repeat(64));
        assert!(Email::parse(&long_label).is_err());
    }

    #[test]
    fn spec_vectors() {
        // OB 2.0 spec: sha256("mayze") without salt; OB 3.0 checklist: "a@example.com" + "Kosher".
        assert_eq!(
            identity_hash("mayze", ""),
            "sha256$7a1a1b3f7d40552e4299180e346e3add12bf9a751a43d9c4ca4518febc2c60c6"
        );
        assert_eq!(
            identity_hash("a@example.com", "Kosher"),
            "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
        );
    }

    #[test]
    fn email_is_masked_and_matching_is_case_insensitive() {
        let e = Email::parse("  Lea.Martin@Example.org ").unwrap();
        assert_eq!(format!("{e:?}"), "Email(***)");
        assert_eq!(e.to_string(), "***@example.org");
        let h = hash_email(&e);
        assert!(matches(
            "LEA.MARTIN@example.org",
            &h.identity_hash,
            Some(&h.salt)
        ));
        assert!(!matches(
            "other@example.org",
            &h.identity_hash,
            Some(&h.salt)
        ));
        assert!(Email::parse("not-an-email").is_err());
    }
}
