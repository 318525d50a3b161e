use super::*;
use serde_json::json;

fn vc(extra: Value) -> Value {
    let mut doc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0b7b2a1e-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": "https://example.com/issuer",
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:1"}
    });
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    doc
}

#[test]
fn canonical_form_is_sorted_nquads() {
    let out = canonicalize(&vc(json!({}))).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(!lines.is_empty() && out.ends_with(" .\n"), "{out}");
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    assert!(
        out.contains("<https://www.w3.org/2018/credentials#issuer> <https://example.com/issuer>")
    );
}

#[test]
fn undefined_term_is_named() {
    match canonicalize(&vc(json!({"foo": 1}))) {
        Err(CanonError::UndefinedTerm(t)) => assert_eq!(t, "foo"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn undefined_type_is_refused() {
    assert!(matches!(
        canonicalize(&vc(json!({"type": ["VerifiableCredential", "MadeUp"]}))),
        Err(CanonError::UndefinedTerm(t)) if t == "MadeUp"
    ));
}

#[test]
fn relative_iri_is_refused() {
    let err = canonicalize(&vc(json!({"issuer": "issuers/1"}))).unwrap_err();
    assert!(matches!(err, CanonError::Invalid(_)), "{err:?}");
}

#[test]
fn unknown_context_is_named_and_not_fetched() {
    let mut doc = vc(json!({}));
    doc["@context"] = json!([
        "https://www.w3.org/ns/credentials/v2",
        "https://example.org/ctx.json"
    ]);
    assert!(matches!(
        canonicalize(&doc),
        Err(CanonError::UnknownContext(u)) if u == "https://example.org/ctx.json"
    ));
    // Also when named from inside an inline context.
    doc["@context"] =
        json!(["https://www.w3.org/ns/credentials/v2", {"@import": "https://example.org/i.json"}]);
    assert!(matches!(
        canonicalize(&doc),
        Err(CanonError::UnknownContext(u)) if u == "https://example.org/i.json"
    ));
}

#[test]
fn inline_context_terms_are_defined() {
    let mut doc = vc(json!({"foo": 1}));
    doc["@context"] =
        json!(["https://www.w3.org/ns/credentials/v2", {"foo": "https://example.org/foo"}]);
    let out = canonicalize(&doc).unwrap();
    assert!(
        out.contains("<https://example.org/foo> \"1\"^^<http://www.w3.org/2001/XMLSchema#integer>"),
        "{out}"
    );
}

#[test]
fn deepest_accepted_nesting_works_on_a_small_stack() {
    let mut inner = json!({"id": "did:example:1"});
    for _ in 0..MAX_JSON_DEPTH - 2 {
        inner = json!({"id": "did:example:1", "next": inner});
    }
    let mut doc = vc(json!({"next": inner}));
    doc["@context"] =
        json!(["https://www.w3.org/ns/credentials/v2", {"next": "https://example.org/next"}]);
    // Test threads have 2 MiB of stack; without the worker thread this overflows in debug builds.
    let out = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || canonicalize(&doc))
        .unwrap()
        .join()
        .unwrap()
        .unwrap();
    assert!(out.contains("<https://example.org/next>"));
}

#[test]
fn deep_nesting_is_refused() {
    let mut inner = json!({"id": "did:example:1"});
    for _ in 0..100 {
        inner = json!({"id": "did:example:1", "credentialSubject": inner});
    }
    let doc = vc(json!({"credentialSubject": inner}));
    assert!(matches!(canonicalize(&doc), Err(CanonError::TooComplex(_))));
}

#[test]
fn cached_and_uncached_contexts_agree() {
    let doc = vc(json!({"name": "x"}));
    let first = canonicalize(&doc).unwrap();
    let second = canonicalize(&doc).unwrap();
    assert_eq!(first, second);
    // Same context given inline as an array holding one URL string vs a bare string.
    let mut bare = doc.clone();
    bare["@context"] = json!("https://www.w3.org/ns/credentials/v2");
    assert_eq!(canonicalize(&bare).unwrap(), first);
}

#[test]
fn repeated_contexts_are_capped() {
    let items: Vec<Value> = (0..MAX_CONTEXT_ENTRIES)
        .map(|i| json!({"@context": "https://www.w3.org/ns/credentials/v2", "id": format!("urn:x:{i}")}))
        .collect();
    let doc = vc(json!({"credentialSubject": items}));
    assert!(matches!(canonicalize(&doc), Err(CanonError::TooComplex(m)) if m.contains("@context")));
}

#[test]
fn too_many_values_are_refused() {
    let items: Vec<Value> = (0..MAX_JSON_VALUES).map(|i| json!(i)).collect();
    let mut doc = vc(json!({"n": items}));
    doc["@context"] =
        json!(["https://www.w3.org/ns/credentials/v2", {"n": "https://example.org/n"}]);
    assert!(
        matches!(canonicalize(&doc), Err(CanonError::TooComplex(m)) if m.contains("JSON values"))
    );
}

#[test]
fn not_an_object_is_invalid() {
    assert!(matches!(
        canonicalize(&json!([1])),
        Err(CanonError::Invalid(_))
    ));
}

#[test]
fn an_iri_whose_percent_encoding_is_not_utf8_is_refused_before_the_processor() {
    for iri in [
        "https://badges.example.org/cr%edentials/1",
        "https://x.example/a%b1",
    ] {
        let doc = vc(json!({"id": iri}));
        assert!(
            matches!(canonicalize_slow(&doc), Err(CanonError::Invalid(m)) if m.contains("UTF-8") && m.contains(iri)),
            "{iri}"
        );
    }
    // UTF-8 percent-encoding, and text that is no IRI, are read as usual
    let doc = vc(
        json!({"id": "https://x.example/caf%C3%A9", "name": "réussi à 50 %de", "description": "%8A"}),
    );
    assert_eq!(percent_encoding_not_utf8(&doc), None);
    assert!(canonicalize_slow(&doc).is_ok());
}
