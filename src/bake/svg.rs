//! SVG baking (OB 2.0 baking spec §SVG, OB 3.0 docformat §Baked Badge / SVG).
//!
//! The document is scanned with `quick-xml` only to find byte ranges (root start tag, baked
//! elements); baking then splices text into the original string, so the rest of the drawing is
//! kept exactly. Entities are never expanded: a DOCTYPE with an internal subset is refused, and
//! only the five predefined entities and character references are accepted. Nothing external
//! (DTD, stylesheet, image) is ever fetched.

use base64::Engine;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::{
    BakeError, Baked, Container, Keyword, Limits, check_input_size, check_payload_size,
    check_text_to_bake, is_xml_char,
};

/// Most elements read in one SVG (a badge drawing has tens to a few thousand): reading stops
/// there, so a file of tiny elements costs a few milliseconds, not one per element.
pub const MAX_SVG_ELEMENTS: usize = 20_000;
/// Deepest element nesting read in one SVG.
pub const MAX_SVG_DEPTH: usize = 256;

const SVG_NS: &str = "http://www.w3.org/2000/svg";
const PREFIX: &str = "openbadges";

/// What to put in the baked SVG element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvgPayload {
    /// A compact JWS (OB 3.0 VC-JWT or OB 2.0 signed assertion): `verify="<jws>"`, empty body.
    Jws(String),
    /// OB 3.0 only: a credential with an embedded proof, as JSON in the body, no `verify`.
    Json(String),
    /// OB 2.0 only: a hosted assertion, `verify="<url>"` and its JSON in the body.
    HostedJson { url: String, json: String },
}

/// One baked element found in a document.
struct Found {
    keyword: Keyword,
    /// Byte range of the whole element, start tag to end tag.
    start: usize,
    end: usize,
    verify: Option<String>,
    body: String,
}

/// What baking and unbaking need to know about a document.
struct Scan {
    /// Byte offset just past the root start tag's `>`.
    root_tag_end: usize,
    root_is_empty: bool,
    root_qname: String,
    /// `xmlns:prefix="uri"` declarations on the root element.
    root_prefixes: Vec<(String, String)>,
    found: Vec<Found>,
}

/// Returns `svg` with the payload baked as the first child of the root `<svg>` element.
///
/// Earlier elements of the same kind are removed, so re-baking replaces the payload.
pub fn bake_svg(svg: &str, keyword: Keyword, payload: SvgPayload) -> Result<String, BakeError> {
    let (verify, body) = match (keyword, payload) {
        (_, SvgPayload::Jws(jws)) => (Some(jws), None),
        (Keyword::Ob3Credential, SvgPayload::Json(json)) => (None, Some(json)),
        (Keyword::Ob2Assertion, SvgPayload::HostedJson { url, json }) => (Some(url), Some(json)),
        (Keyword::Ob3Credential, SvgPayload::HostedJson { .. }) => {
            return Err(BakeError::Unsupported(
                "an OB 3.0 image never carries a URL: bake the JWS or the signed JSON",
            ));
        }
        (Keyword::Ob2Assertion, SvgPayload::Json(_)) => {
            return Err(BakeError::Unsupported(
                "an OB 2.0 SVG needs a verify attribute: bake the JWS or the hosted URL with its JSON",
            ));
        }
    };
    for text in verify.iter().chain(body.iter()) {
        check_text_to_bake(text)?;
    }

    let scan = scan(svg, None)?;
    let ns = keyword.svg_namespace();
    let bound = scan.root_prefixes.iter().find(|(_, uri)| uri == ns);
    let prefix_taken = scan.root_prefixes.iter().any(|(p, _)| p == PREFIX);
    let (prefix, root_decl, local_decl) = match bound {
        Some((p, _)) => (p.as_str(), String::new(), String::new()),
        None if !prefix_taken => (PREFIX, format!(" xmlns:{PREFIX}=\"{ns}\""), String::new()),
        // `openbadges` already names another version's namespace on the root: declare ours on
        // the element itself, which namespace-aware readers resolve the same way.
        None => (PREFIX, String::new(), format!(" xmlns:{PREFIX}=\"{ns}\"")),
    };

    let name = format!("{prefix}:{}", keyword.svg_element());
    let mut element = format!("<{name}{local_decl}");
    if let Some(verify) = &verify {
        element.push_str(" verify=\"");
        push_attr_escaped(&mut element, verify);
        element.push('"');
    }
    element.push('>');
    if let Some(body) = &body {
        push_cdata(&mut element, body);
    }
    element.push_str(&format!("</{name}>"));

    // Edits, in document order: the root start tag's end, then removals of old elements.
    let tag_close_len = if scan.root_is_empty { 2 } else { 1 };
    let mut replacement = root_decl;
    replacement.push('>');
    replacement.push_str(&element);
    if scan.root_is_empty {
        replacement.push_str(&format!("</{}>", scan.root_qname));
    }
    let mut edits = vec![(
        scan.root_tag_end - tag_close_len,
        scan.root_tag_end,
        replacement,
    )];
    for old in scan.found.iter().filter(|f| f.keyword == keyword) {
        edits.push((old.start, old.end, String::new()));
    }

    let mut out = String::with_capacity(svg.len() + edits[0].2.len());
    let mut pos = 0;
    for (start, end, text) in &edits {
        out.push_str(&svg[pos..*start]);
        out.push_str(text);
        pos = *end;
    }
    out.push_str(&svg[pos..]);
    Ok(out)
}

/// Reads the badge baked into an SVG: the first OB 3.0 `credential` element, else the first
/// OB 2.0 `assertion` element, matched by namespace URI whatever the prefix.
pub fn unbake_svg(svg: &[u8], limits: &Limits) -> Result<Baked, BakeError> {
    check_input_size(svg, limits)?;
    let svg = svg.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(svg);
    let svg = std::str::from_utf8(svg)
        .map_err(|_| BakeError::InvalidSvg("the file is not UTF-8 text".into()))?;
    let scan = scan(svg, Some(limits))?;
    for keyword in [Keyword::Ob3Credential, Keyword::Ob2Assertion] {
        let mut of_kind = scan.found.iter().filter(|f| f.keyword == keyword);
        let Some(found) = of_kind.next() else {
            continue;
        };
        if of_kind.next().is_some() {
            return Err(BakeError::MoreThanOneBakedChunk {
                keyword: keyword.svg_element(),
            });
        }
        let text = match (&found.verify, found.body.is_empty()) {
            (_, false) => found.body.clone(),
            (Some(verify), true) => trim_xml_space(verify).to_owned(),
            (None, true) => return Err(BakeError::NotBaked),
        };
        return Ok(Baked {
            keyword,
            text,
            container: Container::Svg,
            legacy_text_chunk: false,
            verify_attr: found.verify.clone(),
        });
    }
    Err(BakeError::NotBaked)
}

/// A small SVG badge image showing `png` (embedded as a data URI), titled `title`.
///
/// carnet's class images are PNG; this is the SVG it bakes when asked for SVG output.
pub fn svg_wrapping_png(png: &[u8], title: &str) -> String {
    let (w, h) = super::png::dimensions(png).unwrap_or((512, 512));
    let mut title_escaped = String::new();
    push_attr_escaped(&mut title_escaped, &title.replace(|c| !is_xml_char(c), ""));
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    format!(
        "<svg xmlns=\"{SVG_NS}\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
         width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
         aria-label=\"{title_escaped}\"><title>{title_escaped}</title>\
         <image width=\"{w}\" height=\"{h}\" xlink:href=\"data:image/png;base64,{data}\"/></svg>"
    )
}

/// True if `bytes` could be an XML document (optional BOM, whitespace, then `<`).
pub(super) fn looks_like_xml(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

fn invalid(e: impl std::fmt::Display) -> BakeError {
    BakeError::InvalidSvg(e.to_string())
}

/// Parses the whole document once, recording the root start tag and every baked element.
fn scan(svg: &str, limits: Option<&Limits>) -> Result<Scan, BakeError> {
    let mut reader = NsReader::from_str(svg);
    let mut root: Option<Scan> = None;
    let mut depth = 0usize;
    // The element being read, with the depth of its content and its text so far.
    let mut current: Option<(Found, usize, String)> = None;
    let mut elements = 0usize;

    loop {
        let before = reader.buffer_position() as usize;
        let (ns, event) = reader.read_resolved_event().map_err(invalid)?;
        let ns = match ns {
            ResolveResult::Bound(n) => Some(n.0.to_owned()),
            _ => None,
        };
        let after = reader.buffer_position() as usize;
        match event {
            Event::DocType(doctype) => {
                let text = doctype.xml10_content();
                if text.contains('[') || text.contains("ENTITY") {
                    return Err(invalid(
                        "a DOCTYPE declaring entities (an internal subset) is refused",
                    ));
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                elements += 1;
                if elements > MAX_SVG_ELEMENTS {
                    return Err(invalid(format!(
                        "more than {MAX_SVG_ELEMENTS} elements (carnet reads at most that many)"
                    )));
                }
                if depth >= MAX_SVG_DEPTH {
                    return Err(invalid(format!(
                        "elements nested more than {MAX_SVG_DEPTH} deep"
                    )));
                }
                let local = e.local_name();
                let local: &str = local.as_ref();
                let Some(scanned) = root.as_mut() else {
                    root = Some(read_root(e, ns.as_deref(), local, empty, after)?);
                    depth += usize::from(!empty);
                    continue;
                };
                if current.is_none()
                    && let Some(keyword) = baked_keyword(ns.as_deref(), local)
                {
                    let found = Found {
                        keyword,
                        start: before,
                        end: after,
                        verify: verify_attribute(e)?,
                        body: String::new(),
                    };
                    if empty {
                        scanned.found.push(found);
                    } else {
                        current = Some((found, depth + 1, String::new()));
                    }
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some((mut found, content_depth, body)) = current.take() {
                    if depth + 1 == content_depth {
                        found.end = after;
                        found.body = trim_xml_space(&body).to_owned();
                        root.as_mut().expect("root seen").found.push(found);
                    } else {
                        current = Some((found, content_depth, body));
                    }
                }
            }
            Event::Text(t) => push_text(&mut current, depth, &t.xml10_content()),
            Event::CData(t) => push_text(&mut current, depth, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let c = resolve_reference(&r)?;
                push_text(&mut current, depth, &c);
            }
            Event::Eof => break,
            _ => {}
        }
        if let (Some(limits), Some((_, _, body))) = (limits, &current) {
            check_payload_size(body.len(), limits)?;
        }
    }
    if current.is_some() || depth != 0 {
        return Err(invalid("the document ends before its elements are closed"));
    }
    root.ok_or_else(|| invalid("the document has no root element"))
}

/// Appends text read inside the baked element (not inside a nested element) to its body.
/// Bakeries indent the CDATA; the surrounding whitespace is trimmed at the end tag, as JSON
/// and JWS never need it.
fn push_text(current: &mut Option<(Found, usize, String)>, depth: usize, text: &str) {
    if let Some((_, content_depth, body)) = current
        && *content_depth == depth
    {
        body.push_str(text);
    }
}

fn trim_xml_space(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r'])
}

fn read_root(
    e: &BytesStart<'_>,
    ns: Option<&str>,
    local: &str,
    empty: bool,
    tag_end: usize,
) -> Result<Scan, BakeError> {
    if local != "svg" || !matches!(ns, None | Some(SVG_NS)) {
        return Err(BakeError::NotAnImage);
    }
    let mut root_prefixes = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(invalid)?;
        let key: &str = attr.key.as_ref();
        if let Some(prefix) = key.strip_prefix("xmlns:") {
            root_prefixes.push((prefix.to_owned(), attribute_value(&attr)?));
        }
    }
    Ok(Scan {
        root_tag_end: tag_end,
        root_is_empty: empty,
        root_qname: AsRef::<str>::as_ref(&e.name()).to_owned(),
        root_prefixes,
        found: Vec::new(),
    })
}

fn baked_keyword(ns: Option<&str>, local: &str) -> Option<Keyword> {
    [Keyword::Ob3Credential, Keyword::Ob2Assertion]
        .into_iter()
        .find(|k| ns == Some(k.svg_namespace()) && local == k.svg_element())
}

fn verify_attribute(e: &BytesStart<'_>) -> Result<Option<String>, BakeError> {
    for attr in e.attributes() {
        let attr = attr.map_err(invalid)?;
        if AsRef::<str>::as_ref(&attr.key.local_name()) == "verify" {
            return Ok(Some(attribute_value(&attr)?));
        }
    }
    Ok(None)
}

/// An attribute's value with predefined entities and character references resolved; any other
/// entity is an error (it could only come from a DTD, which is never read).
fn attribute_value(
    attr: &quick_xml::events::attributes::Attribute<'_>,
) -> Result<String, BakeError> {
    let value = attr
        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .map_err(invalid)?;
    Ok(value.into_owned())
}

fn resolve_reference(r: &BytesRef<'_>) -> Result<String, BakeError> {
    if let Some(c) = r.resolve_char_ref().map_err(invalid)? {
        if !is_xml_char(c) {
            return Err(invalid(format!(
                "character reference to U+{:04X}",
                c as u32
            )));
        }
        return Ok(c.to_string());
    }
    quick_xml::escape::resolve_predefined_entity(r)
        .map(str::to_owned)
        .ok_or_else(|| invalid(format!("undefined entity &{};", &**r)))
}

/// Escapes an attribute value, keeping tabs and line breaks as character references so that
/// attribute-value normalisation gives them back unchanged.
fn push_attr_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Writes `text` as CDATA. `]]>` cannot appear inside a CDATA section, so it is split across
/// two sections; a carriage return would be turned into a line feed by any XML parser, so it
/// is written as a character reference between sections.
fn push_cdata(out: &mut String, text: &str) {
    out.push_str("<![CDATA[");
    let mut rest = text;
    while let Some(i) = rest.find(['\r', ']']) {
        out.push_str(&rest[..i]);
        if rest[i..].starts_with(']') {
            if rest[i..].starts_with("]]>") {
                out.push_str("]]]]><![CDATA[>");
                rest = &rest[i + 3..];
            } else {
                out.push(']');
                rest = &rest[i + 1..];
            }
        } else {
            out.push_str("]]>&#13;<![CDATA[");
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out.push_str("]]>");
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>"#;

    #[test]
    fn cdata_splits_terminators_and_keeps_carriage_returns() {
        let mut out = String::new();
        push_cdata(&mut out, "a]]>b\r\nc]]");
        assert_eq!(out, "<![CDATA[a]]]]><![CDATA[>b]]>&#13;<![CDATA[\nc]]]]>");
    }

    #[test]
    fn bakes_as_first_child_with_namespace_on_root() {
        let out = bake_svg(
            PLAIN,
            Keyword::Ob3Credential,
            SvgPayload::Jws("a.b.c".into()),
        )
        .unwrap();
        assert!(
            out.starts_with(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\" \
             xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\">\
             <openbadges:credential verify=\"a.b.c\"></openbadges:credential><rect"
            ),
            "{out}"
        );
    }

    #[test]
    fn self_closing_root_is_opened() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#;
        let out = bake_svg(svg, Keyword::Ob3Credential, SvgPayload::Json("{}".into())).unwrap();
        let baked = unbake_svg(out.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(baked.text, "{}");
        assert!(out.ends_with("</svg>"));
    }

    #[test]
    fn other_prefix_and_both_versions() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="http://openbadges.org" xmlns:openbadges="urn:x"><ob:assertion verify="https://e.org/a"/></svg>"#;
        let got = unbake_svg(svg.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(got.keyword, Keyword::Ob2Assertion);
        assert_eq!(got.text, "https://e.org/a");
        // `openbadges` is taken by another URI: the OB 3.0 element declares its own.
        let out = bake_svg(svg, Keyword::Ob3Credential, SvgPayload::Jws("x.y.z".into())).unwrap();
        let got = unbake_svg(out.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(
            (got.keyword, got.text.as_str()),
            (Keyword::Ob3Credential, "x.y.z")
        );
        assert!(out.contains("<ob:assertion"), "the OB 2.0 element is kept");
    }

    #[test]
    fn undefined_entity_is_refused() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:o="http://openbadges.org"><o:assertion verify="u">&xxe;</o:assertion></svg>"#;
        let err = unbake_svg(svg.as_bytes(), &Limits::default()).unwrap_err();
        assert!(matches!(err, BakeError::InvalidSvg(_)), "{err}");
    }

    #[test]
    fn html_is_not_an_image() {
        let err = unbake_svg(b"<html><body/></html>", &Limits::default()).unwrap_err();
        assert!(matches!(err, BakeError::NotAnImage));
    }

    #[test]
    fn wrapping_svg_escapes_title_and_parses() {
        let svg = svg_wrapping_png(b"not a png", "A & <B> \"c\"");
        assert!(svg.contains("<title>A &amp; &lt;B&gt; &quot;c&quot;</title>"));
        let out = bake_svg(
            &svg,
            Keyword::Ob3Credential,
            SvgPayload::Jws("j.w.s".into()),
        )
        .unwrap();
        assert_eq!(
            unbake_svg(out.as_bytes(), &Limits::default()).unwrap().text,
            "j.w.s"
        );
    }
}
