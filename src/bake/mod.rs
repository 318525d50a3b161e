//! Baking: carrying a signed badge inside its image, and reading it back.
//!
//! - OB 2.0 baking spec (`ob_v2p0/baking/index.md`): PNG `iTXt` keyword `openbadges`,
//!   SVG `<openbadges:assertion verify="…">` in namespace `http://openbadges.org`.
//! - OB 3.0 "Baked Badge" (`ob_v3p0/docformat.md`): PNG `iTXt` keyword `openbadgecredential`,
//!   SVG `<openbadges:credential>` in namespace `https://purl.imsglobal.org/ob/v3p0`.
//!
//! Both formats are handled at the container level (PNG chunks, XML byte ranges): pixels are
//! never decoded or re-encoded, and unbaking reads no more than the [`Limits`] allow.

pub mod png;
pub mod svg;

pub use self::png::{bake_png, unbake_png};
pub use self::svg::{SvgPayload, bake_svg, svg_wrapping_png, unbake_svg};

/// Which Open Badges version a baked payload belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    /// OB 3.0: PNG keyword `openbadgecredential`, SVG `<openbadges:credential>`.
    Ob3Credential,
    /// OB 2.0 (and 1.x): PNG keyword `openbadges`, SVG `<openbadges:assertion>`.
    Ob2Assertion,
}

impl Keyword {
    /// The PNG `iTXt` keyword.
    pub fn png_keyword(self) -> &'static str {
        match self {
            Keyword::Ob3Credential => "openbadgecredential",
            Keyword::Ob2Assertion => "openbadges",
        }
    }

    /// The XML namespace URI of the SVG element.
    pub fn svg_namespace(self) -> &'static str {
        match self {
            Keyword::Ob3Credential => "https://purl.imsglobal.org/ob/v3p0",
            Keyword::Ob2Assertion => "http://openbadges.org",
        }
    }

    /// The local name of the SVG element.
    pub fn svg_element(self) -> &'static str {
        match self {
            Keyword::Ob3Credential => "credential",
            Keyword::Ob2Assertion => "assertion",
        }
    }
}

/// The kind of image a payload was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Png,
    Svg,
}

/// A payload read from a baked image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baked {
    pub keyword: Keyword,
    /// The baked text: a compact JWS, a JSON document, or (OB 1.x/2.0 hosted badges) a URL.
    ///
    /// In SVG, this is the element's body (the JSON) when it has one, else its `verify` attribute,
    /// without surrounding whitespace. In PNG it is the chunk's text exactly.
    pub text: String,
    pub container: Container,
    /// True when the text came from a pre-spec `tEXt` chunk (OB 1.x hosted URL).
    pub legacy_text_chunk: bool,
    /// The SVG `verify` attribute, when present (a JWS or the hosted assertion URL).
    pub verify_attr: Option<String>,
}

/// Upper bounds on what unbaking reads or allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest image accepted, in bytes.
    pub max_input_bytes: usize,
    /// Largest baked text accepted, in bytes (after decompression).
    pub max_payload_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 8 * 1024 * 1024,
            max_payload_bytes: 1024 * 1024,
        }
    }
}

/// Why an image could not be baked or unbaked.
#[derive(Debug, thiserror::Error)]
pub enum BakeError {
    #[error("the {what} is too large: {size} bytes, the limit is {limit} bytes")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("not a PNG or SVG image")]
    NotAnImage,
    #[error("the PNG image is truncated")]
    Truncated,
    #[error("the PNG image is damaged: chunk {chunk} has a wrong checksum (CRC)")]
    BadCrc { chunk: String },
    #[error("the PNG image is invalid: {0}")]
    InvalidPng(String),
    #[error("the image carries no badge (no baked Open Badges data found)")]
    NotBaked,
    #[error("the image carries more than one {keyword} badge, which the specification forbids")]
    MoreThanOneBakedChunk { keyword: &'static str },
    #[error("the SVG image is invalid: {0}")]
    InvalidSvg(String),
    #[error("the baked text is invalid: {0}")]
    InvalidText(String),
    #[error("the baked text is compressed with an unknown method ({0})")]
    UnsupportedCompression(u8),
    #[error("{0}")]
    Unsupported(&'static str),
}

/// Reads the badge baked into a PNG or SVG image, whichever `bytes` is.
pub fn unbake(bytes: &[u8], limits: &Limits) -> Result<Baked, BakeError> {
    check_input_size(bytes, limits)?;
    if bytes.starts_with(png::SIGNATURE) {
        unbake_png(bytes, limits)
    } else if svg::looks_like_xml(bytes) {
        unbake_svg(bytes, limits)
    } else {
        Err(BakeError::NotAnImage)
    }
}

fn check_input_size(bytes: &[u8], limits: &Limits) -> Result<(), BakeError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(BakeError::TooLarge {
            what: "image",
            size: bytes.len(),
            limit: limits.max_input_bytes,
        });
    }
    Ok(())
}

fn check_payload_size(len: usize, limits: &Limits) -> Result<(), BakeError> {
    if len > limits.max_payload_bytes {
        return Err(BakeError::TooLarge {
            what: "baked text",
            size: len,
            limit: limits.max_payload_bytes,
        });
    }
    Ok(())
}

/// Checks that `text` can be baked in both PNG and SVG: not empty, and only characters that
/// XML 1.0 can carry (JSON and JWS never need the others), so that a payload round-trips the
/// same whatever the container.
fn check_text_to_bake(text: &str) -> Result<(), BakeError> {
    if text.is_empty() {
        return Err(BakeError::InvalidText("there is nothing to bake".into()));
    }
    // Fast path over bytes: no C0 control but tab, LF, CR, and no 0xEF lead byte (the only way
    // to spell the non-characters U+FFFE and U+FFFF); otherwise look at each character.
    let bytes = text.as_bytes();
    if bytes
        .iter()
        .all(|&b| (b >= 0x20 && b != 0xEF) || b == b'\t' || b == b'\n' || b == b'\r')
    {
        return Ok(());
    }
    if let Some(c) = text.chars().find(|&c| !is_xml_char(c)) {
        return Err(BakeError::InvalidText(format!(
            "it contains the control character U+{:04X}, which an image cannot carry",
            c as u32
        )));
    }
    Ok(())
}

/// The XML 1.0 `Char` production.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}
