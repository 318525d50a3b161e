//! Baking and unbaking: round trips (proptest), tampering, hostile input, and the 1EdTech and
//! bakery samples in `../shared/spec/data` (OB 3.0 validator tests; OB 2.0 validator and the
//! Mozilla and Concentric Sky bakeries' fixtures).

use std::sync::OnceLock;

use carnet::badge_image::{BadgeImageSpec, Pictogram, draw_badge};
use carnet::bake::{
    BakeError, Container, Keyword, Limits, SvgPayload, bake_png, bake_svg, svg_wrapping_png,
    unbake, unbake_png, unbake_svg,
};
use proptest::prelude::*;

const PLAIN_SVG: &str = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
    viewBox=\"0 0 10 10\">\n  <title>t</title>\n  <rect width=\"10\" height=\"10\" fill=\"red\"/>\n</svg>\n";

/// A real PNG drawn by carnet (RGBA, several IDAT-worthy pixels).
fn base_png() -> &'static [u8] {
    static PNG: OnceLock<Vec<u8>> = OnceLock::new();
    PNG.get_or_init(|| {
        let spec = BadgeImageSpec {
            title: "Test".into(),
            pictogram: Pictogram::Hand,
            colour: [20, 120, 60],
        };
        draw_badge(&spec, 96)
    })
}

fn idat(png: &[u8]) -> Vec<u8> {
    carnet::bake::png::chunks(png)
        .unwrap()
        .iter()
        .filter(|c| &c.kind == b"IDAT")
        .flat_map(|c| c.data.to_vec())
        .collect()
}

fn text_chunks(png: &[u8]) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut pos = 8;
    for c in carnet::bake::png::chunks(png).unwrap() {
        if matches!(&c.kind, b"iTXt" | b"tEXt" | b"zTXt") {
            let end = c.data.iter().position(|&b| b == 0).unwrap();
            found.push((String::from_utf8_lossy(&c.data[..end]).into_owned(), pos));
        }
        pos += c.raw.len();
    }
    found
}

fn keyword() -> impl Strategy<Value = Keyword> {
    prop_oneof![Just(Keyword::Ob3Credential), Just(Keyword::Ob2Assertion)]
}

/// Printable Unicode, plus pieces that are awkward in XML or PNG.
fn any_text() -> impl Strategy<Value = String> {
    let awkward = prop::sample::select(vec![
        "]]>",
        "]]",
        "]",
        ">",
        "<",
        "&",
        "&amp;",
        "\"",
        "'",
        "\r\n",
        "\r",
        "\n",
        "\t",
        " ",
        "é",
        "𝄞",
        "<![CDATA[",
        "{\"a\":1}",
        "a.b.c",
    ]);
    prop_oneof![
        "\\PC{1,300}",
        prop::collection::vec(awkward, 1..20).prop_map(|v| v.concat()),
    ]
}

/// As [`any_text`], without leading or trailing XML whitespace, which SVG unbaking trims.
fn trimmed_text() -> impl Strategy<Value = String> {
    any_text()
        .prop_map(|t| t.trim_matches([' ', '\t', '\n', '\r']).to_owned())
        .prop_filter("not empty", |t| !t.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn png_round_trip_and_rebake(kw in keyword(), first in any_text(), second in any_text()) {
        let limits = Limits::default();
        let once = bake_png(base_png(), kw, &first).unwrap();
        let got = unbake_png(&once, &limits).unwrap();
        prop_assert_eq!(&got.text, &first);
        prop_assert_eq!(got.keyword, kw);
        prop_assert_eq!(got.container, Container::Png);
        prop_assert!(!got.legacy_text_chunk);

        let twice = bake_png(&once, kw, &second).unwrap();
        prop_assert_eq!(unbake(&twice, &limits).unwrap().text, second);
        let chunks = text_chunks(&twice);
        prop_assert_eq!(chunks.iter().filter(|(k, _)| k == kw.png_keyword()).count(), 1);
        // Right after the 8-byte signature and the 25-byte IHDR chunk.
        prop_assert_eq!(chunks[0].1, 8 + 25);
        prop_assert_eq!(idat(&twice), idat(base_png()));
    }

    #[test]
    fn svg_round_trip_and_rebake(
        kw in keyword(),
        jws in any::<bool>(),
        first in trimmed_text(),
        second in trimmed_text(),
    ) {
        let limits = Limits::default();
        let payload = |text: &str| match (kw, jws) {
            (_, true) => SvgPayload::Jws(text.into()),
            (Keyword::Ob3Credential, false) => SvgPayload::Json(text.into()),
            (Keyword::Ob2Assertion, false) => SvgPayload::HostedJson {
                url: "https://example.org/a?x=1&y=\"2\"".into(),
                json: text.into(),
            },
        };
        let once = bake_svg(PLAIN_SVG, kw, payload(&first)).unwrap();
        let got = unbake_svg(once.as_bytes(), &limits).unwrap();
        prop_assert_eq!(&got.text, &first);
        prop_assert_eq!(got.keyword, kw);
        prop_assert_eq!(got.container, Container::Svg);
        match (kw, jws) {
            (_, true) => prop_assert_eq!(got.verify_attr.as_deref(), Some(first.as_str())),
            (Keyword::Ob3Credential, false) => prop_assert_eq!(got.verify_attr, None),
            (Keyword::Ob2Assertion, false) => prop_assert_eq!(
                got.verify_attr.as_deref(), Some("https://example.org/a?x=1&y=\"2\"")),
        }

        let twice = bake_svg(&once, kw, payload(&second)).unwrap();
        prop_assert_eq!(unbake(twice.as_bytes(), &limits).unwrap().text, second);
        let open_tag = format!("<openbadges:{}", kw.svg_element());
        prop_assert_eq!(twice.matches(&open_tag).count(), 1);
        prop_assert_eq!(twice.matches("xmlns:openbadges=").count(), 1);
        // The drawing after the root start tag is kept exactly.
        let root_end = PLAIN_SVG.find("10 10\">").unwrap() + "10 10\">".len();
        prop_assert!(twice.ends_with(&PLAIN_SVG[root_end..]));
    }

    #[test]
    fn any_changed_byte_in_the_baked_chunk_is_caught(offset in 0usize..4096, flip in 1u8..=255) {
        let baked = bake_png(base_png(), Keyword::Ob3Credential, "{\"proof\":\"zABC\"}").unwrap();
        // The iTXt chunk starts after signature and IHDR: length, type, data, CRC.
        let start = 8 + 25;
        let len = u32::from_be_bytes(baked[start..start + 4].try_into().unwrap()) as usize;
        let pos = start + 4 + offset % (len + 8); // type, data or CRC
        let mut tampered = baked.clone();
        tampered[pos] ^= flip;
        let err = unbake(&tampered, &Limits::default()).unwrap_err();
        prop_assert!(matches!(err, BakeError::BadCrc { .. } | BakeError::InvalidPng(_)), "{err}");
    }

    #[test]
    fn arbitrary_or_damaged_input_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let limits = Limits::default();
        let _ = unbake(&bytes, &limits);
        let mut png = bake_png(base_png(), Keyword::Ob2Assertion, "x").unwrap();
        let i = pos.index(png.len());
        png[i] = byte;
        let _ = unbake(&png, &limits);
        let mut svg = bake_svg(PLAIN_SVG, Keyword::Ob3Credential, SvgPayload::Json("{}".into()))
            .unwrap()
            .into_bytes();
        let i = pos.index(svg.len());
        svg[i] = byte;
        let _ = unbake(&svg, &limits);
    }
}

#[test]
fn baking_keeps_the_pixels() {
    let png = draw_badge(
        &BadgeImageSpec {
            title: "Sécurité et hygiène au travail".into(),
            pictogram: Pictogram::Helmet,
            colour: [0, 91, 168],
        },
        128,
    );
    let baked = bake_png(&png, Keyword::Ob3Credential, "{\"a\":\"é\"}").unwrap();
    let before = image::load_from_memory(&png).unwrap().to_rgba8();
    let after = image::load_from_memory(&baked).unwrap().to_rgba8();
    assert_eq!(before.dimensions(), after.dimensions());
    assert!(before.pixels().eq(after.pixels()));
}

#[test]
fn a_changed_pixel_byte_is_caught_by_the_crc() {
    let mut baked = bake_png(base_png(), Keyword::Ob3Credential, "a.b.c").unwrap();
    let chunks = text_chunks(&baked);
    let itxt_len = u32::from_be_bytes(baked[chunks[0].1..chunks[0].1 + 4].try_into().unwrap());
    let first_after_itxt = chunks[0].1 + 12 + itxt_len as usize;
    let idat_data = baked[first_after_itxt..]
        .windows(4)
        .position(|w| w == b"IDAT")
        .unwrap()
        + first_after_itxt
        + 4;
    baked[idat_data + 10] ^= 1;
    let err = unbake(&baked, &Limits::default()).unwrap_err();
    assert!(
        matches!(&err, BakeError::BadCrc { chunk } if chunk == "IDAT"),
        "{err}"
    );
}

#[test]
fn truncated_png_is_an_error_at_every_length() {
    let baked = bake_png(base_png(), Keyword::Ob3Credential, "a.b.c").unwrap();
    for len in 0..baked.len() {
        let err = unbake(&baked[..len], &Limits::default()).unwrap_err();
        if len >= 8 {
            assert!(matches!(err, BakeError::Truncated), "at {len}: {err}");
        }
    }
    assert_eq!(
        unbake(&baked[..20], &Limits::default())
            .unwrap_err()
            .to_string(),
        "the PNG image is truncated"
    );
}

#[test]
fn non_images_and_oversized_input_are_refused() {
    let limits = Limits::default();
    for bytes in [&b""[..], b"hello", b"GIF89a....", b"\x89PNX\r\n\x1a\n"] {
        let err = unbake(bytes, &limits).unwrap_err();
        assert_eq!(err.to_string(), "not a PNG or SVG image");
    }
    let small = Limits {
        max_input_bytes: 100,
        max_payload_bytes: 10,
    };
    let err = unbake(base_png(), &small).unwrap_err();
    assert!(matches!(err, BakeError::TooLarge { .. }), "{err}");
    let big_payload = "x".repeat(11);
    let png = bake_png(base_png(), Keyword::Ob3Credential, &big_payload).unwrap();
    let small = Limits {
        max_input_bytes: usize::MAX,
        max_payload_bytes: 10,
    };
    assert!(matches!(
        unbake(&png, &small),
        Err(BakeError::TooLarge { .. })
    ));
    let svg = bake_svg(
        PLAIN_SVG,
        Keyword::Ob3Credential,
        SvgPayload::Json(big_payload),
    )
    .unwrap();
    assert!(matches!(
        unbake(svg.as_bytes(), &small),
        Err(BakeError::TooLarge { .. })
    ));
}

#[test]
fn svg_with_entity_declarations_is_refused() {
    let laughs = "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"aaaaaaaaaa\">\
        <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\
        <svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:openbadges=\"http://openbadges.org\">\
        <openbadges:assertion verify=\"&b;\"/></svg>";
    let xxe = "<!DOCTYPE svg [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\
        <svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\">\
        <openbadges:credential><![CDATA[x]]>&xxe;</openbadges:credential></svg>";
    for svg in [laughs, xxe] {
        let err = unbake(svg.as_bytes(), &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("DOCTYPE"), "{err}");
        let err = bake_svg(svg, Keyword::Ob3Credential, SvgPayload::Jws("a.b.c".into()));
        assert!(matches!(err, Err(BakeError::InvalidSvg(_))));
    }
    let undeclared = "<svg xmlns=\"http://www.w3.org/2000/svg\" \
        xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\">\
        <openbadges:credential verify=\"&xxe;\"/></svg>";
    let err = unbake(undeclared.as_bytes(), &Limits::default()).unwrap_err();
    assert!(matches!(err, BakeError::InvalidSvg(_)), "{err}");
}

#[test]
fn unbaked_images_say_so() {
    let limits = Limits::default();
    assert!(matches!(
        unbake(base_png(), &limits),
        Err(BakeError::NotBaked)
    ));
    assert!(matches!(
        unbake(PLAIN_SVG.as_bytes(), &limits),
        Err(BakeError::NotBaked)
    ));
    assert!(matches!(
        bake_svg(
            PLAIN_SVG,
            Keyword::Ob3Credential,
            SvgPayload::HostedJson {
                url: "https://e.org".into(),
                json: "{}".into()
            }
        ),
        Err(BakeError::Unsupported(_))
    ));
    assert!(matches!(
        bake_png(base_png(), Keyword::Ob3Credential, ""),
        Err(BakeError::InvalidText(_))
    ));
    assert!(matches!(
        bake_png(base_png(), Keyword::Ob3Credential, "a\u{0}b"),
        Err(BakeError::InvalidText(_))
    ));
}

#[test]
fn svg_wrapping_a_png_carries_it_and_bakes() {
    use base64::Engine;
    let svg = svg_wrapping_png(base_png(), "Sécurité & <hygiène>");
    assert!(svg.contains("<title>Sécurité &amp; &lt;hygiène&gt;</title>"));
    assert!(svg.contains("width=\"96\" height=\"96\""));
    let b64 = svg
        .split("base64,")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(decoded, base_png());
    let baked = bake_svg(
        &svg,
        Keyword::Ob3Credential,
        SvgPayload::Jws("h.p.s".into()),
    )
    .unwrap();
    let got = unbake(baked.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        (got.container, got.text.as_str()),
        (Container::Svg, "h.p.s")
    );
}

fn shared_data() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"));
    if dir.exists() {
        Some(dir.join("spec/data"))
    } else {
        eprintln!("SKIP: ../shared not found");
        None
    }
}

#[test]
fn unbakes_the_1edtech_ob3_samples() {
    let Some(data) = shared_data() else { return };
    let dir = data.join("ob3/1edtech-validator-tests");
    let limits = Limits::default();
    for name in ["simple-json.png", "simple-json.svg"] {
        let got = unbake(&std::fs::read(dir.join(name)).unwrap(), &limits).unwrap();
        assert_eq!(got.keyword, Keyword::Ob3Credential, "{name}");
        assert_eq!(got.verify_attr, None, "{name}");
        let json: serde_json::Value = serde_json::from_str(&got.text).expect(name);
        assert_eq!(json["type"][1], "OpenBadgeCredential", "{name}");
    }
    for name in ["simple-jwt.png", "simple-jwt.svg"] {
        let got = unbake(&std::fs::read(dir.join(name)).unwrap(), &limits).unwrap();
        assert_eq!(got.keyword, Keyword::Ob3Credential, "{name}");
        assert_eq!(got.text.split('.').count(), 3, "{name}: a compact JWS");
        assert!(got.text.starts_with("eyJ"), "{name}");
        if name.ends_with(".svg") {
            assert_eq!(got.verify_attr.as_deref(), Some(got.text.as_str()));
        }
    }

    // Re-baking a sample (baked just before IEND) moves the chunk after IHDR, keeps one.
    let sample = std::fs::read(dir.join("simple-jwt.png")).unwrap();
    let rebaked = bake_png(&sample, Keyword::Ob3Credential, "new.jws.here").unwrap();
    let kws = text_chunks(&rebaked);
    assert_eq!(
        kws.iter()
            .filter(|(k, _)| k == "openbadgecredential")
            .count(),
        1
    );
    assert_eq!(kws[0], ("openbadgecredential".to_string(), 33));
    assert_eq!(idat(&rebaked), idat(&sample));
    assert_eq!(unbake(&rebaked, &limits).unwrap().text, "new.jws.here");

    // Same for the SVG sample, which has a DOCTYPE without internal subset.
    let svg = std::fs::read_to_string(dir.join("simple-json.svg")).unwrap();
    let rebaked = bake_svg(
        &svg,
        Keyword::Ob3Credential,
        SvgPayload::Jws("n.e.w".into()),
    )
    .unwrap();
    assert_eq!(
        rebaked.matches(":credential").count(),
        2,
        "one start and one end tag"
    );
    assert_eq!(rebaked.matches("xmlns:openbadges").count(), 1);
    assert_eq!(unbake(rebaked.as_bytes(), &limits).unwrap().text, "n.e.w");
}

#[test]
fn unbakes_the_ob2_and_legacy_samples() {
    let Some(data) = shared_data() else { return };
    let limits = Limits::default();
    let read = |p: &str| std::fs::read(data.join(p)).unwrap();

    let got = unbake(
        &read("ob2/1edtech-validator-tests/simple-badge.png"),
        &limits,
    )
    .unwrap();
    assert_eq!(got.keyword, Keyword::Ob2Assertion);
    let json: serde_json::Value = serde_json::from_str(&got.text).unwrap();
    assert_eq!(json["type"], "Assertion");

    let cs = "ob2/baked-legacy/concentricsky-openbadges-bakery";
    let got = unbake(&read(&format!("{cs}/baked_heart.png")), &limits).unwrap();
    assert_eq!(
        (got.keyword, got.container),
        (Keyword::Ob2Assertion, Container::Png)
    );
    assert!(got.text.starts_with("{\"uid\":\"123\""));
    let got = unbake(&read(&format!("{cs}/baked_example.svg")), &limits).unwrap();
    assert_eq!(got.keyword, Keyword::Ob2Assertion);
    assert_eq!(
        got.verify_attr.as_deref(),
        Some("https://example.org/assertion.json")
    );
    let json: serde_json::Value = serde_json::from_str(&got.text).unwrap();
    assert_eq!(json["uid"], "abcdef12345");

    let moz = "ob2/baked-legacy/mozilla-openbadges-bakery";
    let got = unbake(&read(&format!("{moz}/baked.svg")), &limits).unwrap();
    assert_eq!(got.text, "{\"verify\":{\"url\":\"http://example.org\"}}");
    assert_eq!(got.verify_attr.as_deref(), Some("http://example.org"));
    let got = unbake(&read(&format!("{moz}/bad-json.svg")), &limits).unwrap();
    assert_eq!(
        got.text, "{verify:{\"url\":\"http://example.org\"}}",
        "unbaking does not judge JSON"
    );
    let got = unbake(&read(&format!("{moz}/no-json.svg")), &limits).unwrap();
    assert_eq!(got.text, "http://example.org", "the hosted URL alone");

    for unbaked in [
        format!("{cs}/public_domain_heart.png"),
        format!("{cs}/unbaked_example.svg"),
        format!("{moz}/unbaked.png"),
        format!("{moz}/unbaked.svg"),
    ] {
        let err = unbake(&read(&unbaked), &limits).unwrap_err();
        assert!(matches!(err, BakeError::NotBaked), "{unbaked}: {err}");
    }

    // Baking the Mozilla unbaked PNG (which has another tEXt chunk) keeps that chunk.
    let png = bake_png(
        &read(&format!("{moz}/unbaked.png")),
        Keyword::Ob2Assertion,
        "{}",
    )
    .unwrap();
    let kws: Vec<String> = text_chunks(&png).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kws, ["openbadges", "Software"]);
}

/// The limits of what unbaking reads, each at its edge: PNG chunks, SVG elements and nesting.
#[test]
fn unbaking_stops_at_its_limits() {
    use carnet::bake::png::MAX_PNG_CHUNKS;
    use carnet::bake::svg::{MAX_SVG_DEPTH, MAX_SVG_ELEMENTS};
    let limits = Limits::default();
    let text = "{\"a\":1}";
    let baked = carnet::bake::bake_png(base_png(), Keyword::Ob3Credential, text).unwrap();
    let iend = baked.len() - 12;
    let with_chunks = |n: usize| {
        let mut png = baked[..iend].to_vec();
        // IHDR, iTXt, the image's own chunks, then the padding, then IEND
        let own = carnet::bake::png::chunks(&baked).unwrap().len();
        let mut pad = Vec::new();
        pad.extend_from_slice(&0u32.to_be_bytes());
        pad.extend_from_slice(b"zzZz");
        pad.extend_from_slice(&crc32fast::hash(b"zzZz").to_be_bytes());
        for _ in 0..n - own {
            png.extend_from_slice(&pad);
        }
        png.extend_from_slice(&baked[iend..]);
        png
    };
    let at_limit = with_chunks(MAX_PNG_CHUNKS);
    assert_eq!(
        carnet::bake::png::chunks(&at_limit).unwrap().len(),
        MAX_PNG_CHUNKS
    );
    assert_eq!(carnet::bake::unbake(&at_limit, &limits).unwrap().text, text);
    let over = with_chunks(MAX_PNG_CHUNKS + 1);
    let e = carnet::bake::unbake(&over, &limits).unwrap_err();
    assert!(e.to_string().contains("chunks"), "{e}");

    let svg = carnet::bake::svg_wrapping_png(base_png(), "Badge");
    let svg = carnet::bake::bake_svg(
        &svg,
        Keyword::Ob3Credential,
        carnet::bake::svg::SvgPayload::Json(text.into()),
    )
    .unwrap();
    let end = svg.rfind("</svg>").unwrap();
    let padded = |elements: usize, depth: usize| {
        let mut out = svg[..end].to_owned();
        for _ in 0..elements {
            out.push_str("<g/>");
        }
        for _ in 0..depth {
            out.push_str("<g>");
        }
        for _ in 0..depth {
            out.push_str("</g>");
        }
        out.push_str(&svg[end..]);
        out
    };
    // the drawing's own elements: every start tag
    let own = svg
        .match_indices('<')
        .filter(|(i, _)| !matches!(svg.as_bytes().get(i + 1), Some(b'/' | b'?' | b'!')))
        .count();
    let at_limit = padded(MAX_SVG_ELEMENTS - own, 0);
    let read = carnet::bake::unbake(at_limit.as_bytes(), &limits);
    let over =
        carnet::bake::unbake(padded(MAX_SVG_ELEMENTS + 1, 0).as_bytes(), &limits).unwrap_err();
    assert!(over.to_string().contains("elements"), "{over}");
    assert_eq!(read.unwrap().text, text);
    let deep = carnet::bake::unbake(padded(0, MAX_SVG_DEPTH - 1).as_bytes(), &limits);
    assert_eq!(deep.unwrap().text, text);
    let too_deep =
        carnet::bake::unbake(padded(0, MAX_SVG_DEPTH + 1).as_bytes(), &limits).unwrap_err();
    assert!(too_deep.to_string().contains("nested"), "{too_deep}");
}
