//! Tamper tests: any change to a signed field, or one changed byte of a baked payload, makes
//! verification fail, and the report names the right check.

use crate::common;

use carnet::bake::{self, Keyword};
use carnet::verify::report::{Report, Status, Verdict};
use serde_json::Value;

fn failed(report: &Report) -> Vec<&'static str> {
    report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.id)
        .collect()
}

#[tokio::test]
async fn issued_credentials_verify_in_every_form() {
    let f = common::fixture();
    let signed = f.issue("lea@example.org", &common::full_details());
    let v = f.verifier();
    let json = serde_json::to_string(&signed.json).unwrap();
    let png = bake::bake_png(&f.class.image_png, Keyword::Ob3Credential, &json).unwrap();
    let png_jwt = bake::bake_png(&f.class.image_png, Keyword::Ob3Credential, &signed.jwt).unwrap();
    for (label, input) in [
        ("json", json.as_bytes()),
        ("jwt", signed.jwt.as_bytes()),
        ("png", &png[..]),
        ("png+jwt", &png_jwt[..]),
    ] {
        let r = v.verify_bytes(input, Some("lea@example.org")).await;
        assert_eq!(r.verdict, Verdict::Valid, "{label}: {r:#?}");
        assert!(
            !r.has_warnings(),
            "{label}: carnet's own badges verify without warnings: {r:#?}"
        );
    }
}

#[tokio::test]
async fn a_changed_signed_field_fails_the_proof_check() {
    let f = common::fixture();
    let signed = f.issue("lea@example.org", &common::full_details());
    let v = f.verifier();
    type Edit = (&'static str, fn(&mut Value));
    let edits: &[Edit] = &[
        ("name", |c| c["name"] = "Autre badge".into()),
        ("issuer.name", |c| {
            c["issuer"]["name"] = "Un autre IME".into()
        }),
        ("validFrom", |c| {
            c["validFrom"] = "2020-01-01T00:00:00Z".into()
        }),
        ("validUntil", |c| {
            c["validUntil"] = "2099-01-01T00:00:00Z".into()
        }),
        ("identityHash", |c| {
            c["credentialSubject"]["identifier"][0]["identityHash"] =
                "sha256$0000000000000000000000000000000000000000000000000000000000000000".into()
        }),
        ("criteria", |c| {
            c["credentialSubject"]["achievement"]["criteria"]["narrative"] = "Rien à faire.".into()
        }),
        ("evidence", |c| {
            c["evidence"][0]["id"] = "https://evil.example/x".into()
        }),
        ("proof.created", |c| {
            c["proof"][0]["created"] = "2001-01-01T00:00:00Z".into()
        }),
    ];
    for (label, edit) in edits {
        let mut c = signed.json.clone();
        edit(&mut c);
        let r = v.verify_bytes(c.to_string().as_bytes(), None).await;
        assert_eq!(r.verdict, Verdict::Invalid, "{label}");
        assert!(failed(&r).contains(&"proof"), "{label}: {:?}", failed(&r));
    }
}

#[tokio::test]
async fn a_changed_jwt_payload_fails_the_proof_check() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let f = common::fixture();
    let signed = f.issue("lea@example.org", &AwardDetails::default());
    let parts: Vec<&str> = signed.jwt.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["name"] = "Autre".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    let r = f.verifier().verify_bytes(forged.as_bytes(), None).await;
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(failed(&r).contains(&"proof"), "{:?}", failed(&r));
}

use carnet::ob3::credential::AwardDetails;

/// Position of the baked text inside the PNG and the bounds of its chunk.
fn baked_text_range(png: &[u8]) -> (usize, usize, usize) {
    let key = b"openbadgecredential\0\0\0\0\0";
    let start = png.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    let chunk_type_at = png[..start].windows(4).rposition(|w| w == b"iTXt").unwrap();
    let len =
        u32::from_be_bytes(png[chunk_type_at - 4..chunk_type_at].try_into().unwrap()) as usize;
    (start, chunk_type_at, chunk_type_at + 4 + len)
}

#[tokio::test]
async fn one_changed_byte_of_a_baked_payload_is_caught() {
    let f = common::fixture();
    let signed = f.issue("lea@example.org", &AwardDetails::default());
    let json = serde_json::to_string(&signed.json).unwrap();
    let png = bake::bake_png(&f.class.image_png, Keyword::Ob3Credential, &json).unwrap();
    let (text_start, chunk_type_at, data_end) = baked_text_range(&png);
    let name_at = text_start + json.find("Sécurité").unwrap() + 1;
    let v = f.verifier();

    // A damaged image: the chunk's CRC no longer matches.
    let mut damaged = png.clone();
    damaged[name_at] ^= 0x01;
    let r = v.verify_bytes(&damaged, None).await;
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(failed(&r), vec!["parse"]);

    // A forger who also fixes the CRC: the signature catches it.
    let crc = crc32fast::hash(&damaged[chunk_type_at..data_end]);
    damaged[data_end..data_end + 4].copy_from_slice(&crc.to_be_bytes());
    let r = v.verify_bytes(&damaged, None).await;
    assert_eq!(r.verdict, Verdict::Invalid, "{r:#?}");
    assert!(failed(&r).contains(&"proof"), "{:?}", failed(&r));
}

#[tokio::test]
async fn the_wrong_recipient_and_another_issuers_key_are_refused() {
    let f = common::fixture();
    let signed = f.issue("lea@example.org", &AwardDetails::default());
    let r = f
        .verifier()
        .verify_bytes(signed.json.to_string().as_bytes(), Some("tom@example.org"))
        .await;
    assert_eq!(failed(&r), vec!["recipient"]);

    // Re-signed with another issuer's (valid, published) key while still claiming the first issuer.
    let other = common::fixture_with("autre-ime");
    let mut unsigned = signed.json.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    let forged = carnet::issue::sign(&other.issuer, &unsigned, chrono::Utc::now()).unwrap();
    let v = carnet::verify::Verifier::new(carnet::verify::resolve::Resolver::new(
        vec![f.issuer.clone(), other.issuer.clone()],
        None,
    ));
    let r = v
        .verify_bytes(forged.json.to_string().as_bytes(), None)
        .await;
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(failed(&r), vec!["controller"]);
}

/// A proof array longer than any real credential's is refused before anything is canonicalised;
/// at the limit, the badge still verifies.
#[tokio::test]
async fn too_many_proofs_are_refused_and_the_limit_still_verifies() {
    let f = common::fixture();
    let signed = f.issue("lea@example.org", &common::full_details());
    let v = f.verifier();
    let proof = signed.json["proof"]
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or_else(|| signed.json["proof"].clone());
    let with = |n: usize| {
        let mut cred = signed.json.clone();
        cred["proof"] = Value::Array(vec![proof.clone(); n]);
        serde_json::to_vec(&cred).unwrap()
    };
    let r = v
        .verify_bytes(&with(carnet::verify::MAX_PROOFS), None)
        .await;
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    let r = v.verify_bytes(&with(600), None).await;
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.deciding, Some("proof"));
    assert!(
        r.deciding_check()
            .unwrap()
            .message
            .en
            .contains("600 proofs"),
        "{r:#?}"
    );
}
