//! The JSON-LD context documents carnet ships (see `contexts/README.md` for provenance), and the offline
//! document loader that answers only them. Nothing is ever fetched: an unknown URL is an error that names it.

use std::sync::OnceLock;

use json_ld::syntax::Parse;
use json_ld::{Iri, IriBuf, LoadError, Loader, RemoteDocument};

/// (URL the document answers, document text).
const SHIPPED: &[(&str, &str)] = &[
    // W3C Verifiable Credentials
    (
        "https://www.w3.org/ns/credentials/v2",
        include_str!("contexts/credentials-v2.jsonld"),
    ),
    (
        "https://www.w3.org/2018/credentials/v1",
        include_str!("contexts/credentials-v1.jsonld"),
    ),
    // W3C CCG StatusList2021 (the status list before Bitstring Status List, still issued by the DCC tools)
    (
        "https://w3id.org/vc/status-list/2021/v1",
        include_str!("contexts/status-list-2021-v1.jsonld"),
    ),
    // Data Integrity, suites, keys
    (
        "https://w3id.org/security/data-integrity/v1",
        include_str!("contexts/data-integrity-v1.jsonld"),
    ),
    (
        "https://w3id.org/security/data-integrity/v2",
        include_str!("contexts/data-integrity-v2.jsonld"),
    ),
    (
        "https://w3id.org/security/suites/ed25519-2020/v1",
        include_str!("contexts/ed25519-signature-2020-v1.jsonld"),
    ),
    (
        "https://w3id.org/security/multikey/v1",
        include_str!("contexts/multikey-v1.jsonld"),
    ),
    (
        "https://w3id.org/security/v1",
        include_str!("contexts/security-v1.jsonld"),
    ),
    (
        "https://w3id.org/security/v2",
        include_str!("contexts/security-v2.jsonld"),
    ),
    // DID Core
    (
        "https://www.w3.org/ns/did/v1",
        include_str!("contexts/did-v1.jsonld"),
    ),
    // Open Badges 3.0 (1EdTech)
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        include_str!("contexts/ob-v3p0-context-3.0.3.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        include_str!("contexts/ob-v3p0-context-3.0.2.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        include_str!("contexts/ob-v3p0-context-3.0.1.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        include_str!("contexts/ob-v3p0-context-3.0.0.json"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
        include_str!("contexts/ob-v3p0-extensions.json"),
    ),
    // Open Badges 2.0
    (
        "https://w3id.org/openbadges/v2",
        include_str!("contexts/ob-v2-context.json"),
    ),
];

/// The context document carnet ships for this URL, if any (never fetches).
pub fn known_context(url: &str) -> Option<&'static str> {
    SHIPPED
        .iter()
        .find(|(u, _)| *u == url)
        .map(|(_, text)| *text)
}

/// Every URL `known_context` answers.
pub fn known_context_urls() -> Vec<&'static str> {
    SHIPPED.iter().map(|(u, _)| *u).collect()
}

/// Each shipped document parsed once, in `SHIPPED` order.
fn parsed() -> &'static [json_ld::syntax::Value] {
    static PARSED: OnceLock<Vec<json_ld::syntax::Value>> = OnceLock::new();
    PARSED.get_or_init(|| {
        SHIPPED
            .iter()
            .map(|(url, text)| {
                json_ld::syntax::Value::parse_str(text)
                    .unwrap_or_else(|e| panic!("shipped context {url} is not JSON: {e:?}"))
                    .0
            })
            .collect()
    })
}

/// The URL was not one carnet ships.
#[derive(Debug, thiserror::Error)]
#[error("context not shipped with carnet (never fetched)")]
pub(super) struct NotShipped;

/// Offline loader: answers the shipped contexts, refuses everything else.
pub(super) struct StaticLoader;

impl Loader for StaticLoader {
    async fn load(&self, url: &Iri) -> Result<RemoteDocument<IriBuf>, LoadError> {
        match SHIPPED.iter().position(|(u, _)| *u == url.as_str()) {
            Some(i) => Ok(RemoteDocument::new(
                Some(url.to_owned()),
                None,
                parsed()[i].clone(),
            )),
            None => Err(LoadError::new(url.to_owned(), NotShipped)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_context_is_json_with_a_context() {
        for ((url, _), doc) in SHIPPED.iter().zip(parsed()) {
            let obj = doc.as_object().unwrap_or_else(|| panic!("{url}"));
            assert!(obj.get_unique("@context").ok().flatten().is_some(), "{url}");
        }
    }

    #[test]
    fn lookup_by_url() {
        assert!(known_context("https://www.w3.org/ns/credentials/v2").is_some());
        assert!(known_context("https://example.com/context.json").is_none());
        assert_eq!(known_context_urls().len(), SHIPPED.len());
    }
}
