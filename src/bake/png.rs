//! PNG baking at the chunk level (PNG spec §5 chunk layout, §11.3.4.5 `iTXt`).
//!
//! Baking inserts one uncompressed `iTXt` chunk right after `IHDR` (as the reference Python
//! bakery does) and copies every other chunk byte for byte, so the pixels are untouched.
//! Unbaking walks the chunks, checks every CRC and never decodes `IDAT`.

use std::io::Read;

use super::{
    BakeError, Baked, Container, Keyword, Limits, check_input_size, check_payload_size,
    check_text_to_bake,
};

/// The eight bytes every PNG file starts with.
pub const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// The PNG spec caps a chunk's data length at 2^31 - 1 bytes.
const MAX_CHUNK_LEN: usize = 0x7fff_ffff;

/// One chunk of a PNG file, borrowed from the file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The four-letter chunk type, e.g. `b"IDAT"`.
    pub kind: [u8; 4],
    /// The chunk's data, without length, type and CRC.
    pub data: &'a [u8],
    /// The whole chunk as stored: length, type, data and CRC.
    pub raw: &'a [u8],
}

/// Most chunks read in one PNG file: an encoder splitting 8 MiB of pixels in 8 KiB `IDAT` chunks
/// writes about a thousand; 700,000 empty chunks fit in the 8 MiB an image may weigh.
pub const MAX_PNG_CHUNKS: usize = 10_000;

/// Iterates over the chunks of a PNG file, checking lengths and CRCs, up to and including `IEND`.
struct Chunks<'a> {
    bytes: &'a [u8],
    pos: usize,
    done: bool,
    read: usize,
}

impl<'a> Chunks<'a> {
    fn new(bytes: &'a [u8]) -> Result<Self, BakeError> {
        if bytes.len() < SIGNATURE.len() {
            return Err(if SIGNATURE.starts_with(bytes) && !bytes.is_empty() {
                BakeError::Truncated
            } else {
                BakeError::NotAnImage
            });
        }
        if !bytes.starts_with(SIGNATURE) {
            return Err(BakeError::NotAnImage);
        }
        Ok(Chunks {
            bytes,
            pos: SIGNATURE.len(),
            done: false,
            read: 0,
        })
    }

    fn read_chunk(&mut self) -> Result<Chunk<'a>, BakeError> {
        self.read += 1;
        if self.read > MAX_PNG_CHUNKS {
            return Err(BakeError::InvalidPng(format!(
                "more than {MAX_PNG_CHUNKS} chunks"
            )));
        }
        let rest = &self.bytes[self.pos..];
        if rest.len() < 12 {
            return Err(BakeError::Truncated);
        }
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len > MAX_CHUNK_LEN {
            return Err(BakeError::InvalidPng(format!(
                "a chunk declares {len} bytes, more than PNG allows"
            )));
        }
        let kind = [rest[4], rest[5], rest[6], rest[7]];
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(BakeError::InvalidPng(format!(
                "chunk type {:?} is not four letters",
                String::from_utf8_lossy(&kind)
            )));
        }
        let total = len.checked_add(12).ok_or(BakeError::Truncated)?;
        if rest.len() < total {
            return Err(BakeError::Truncated);
        }
        let data = &rest[8..8 + len];
        let stored_crc =
            u32::from_be_bytes([rest[8 + len], rest[9 + len], rest[10 + len], rest[11 + len]]);
        if crc(&kind, data) != stored_crc {
            return Err(BakeError::BadCrc {
                chunk: String::from_utf8_lossy(&kind).into_owned(),
            });
        }
        if self.pos == SIGNATURE.len() && (&kind != b"IHDR" || len != 13) {
            return Err(BakeError::InvalidPng("the first chunk is not IHDR".into()));
        }
        self.pos += total;
        if &kind == b"IEND" {
            self.done = true;
        }
        Ok(Chunk {
            kind,
            data,
            raw: &rest[..total],
        })
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<Chunk<'a>, BakeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let chunk = self.read_chunk();
        if chunk.is_err() {
            self.done = true;
        }
        Some(chunk)
    }
}

/// Splits a PNG file into its chunks (up to `IEND`; bytes after it are ignored), checking the
/// signature, every length and every CRC. No pixel data is decoded.
pub fn chunks(png: &[u8]) -> Result<Vec<Chunk<'_>>, BakeError> {
    let all = Chunks::new(png)?.collect::<Result<Vec<_>, _>>()?;
    Ok(all)
}

/// Width and height from the `IHDR` chunk, without decoding anything else.
pub fn dimensions(png: &[u8]) -> Result<(u32, u32), BakeError> {
    let ihdr = Chunks::new(png)?.next().ok_or(BakeError::Truncated)??;
    let d = ihdr.data;
    Ok((
        u32::from_be_bytes([d[0], d[1], d[2], d[3]]),
        u32::from_be_bytes([d[4], d[5], d[6], d[7]]),
    ))
}

/// Returns `png` with `text` baked in one uncompressed `iTXt` chunk placed right after `IHDR`.
///
/// Any badge already baked in (an `iTXt`, `zTXt` or legacy `tEXt` chunk with either badge keyword)
/// is dropped, so re-baking replaces the payload: an image carries one badge. All other chunks are
/// copied byte for byte.
pub fn bake_png(png: &[u8], keyword: Keyword, text: &str) -> Result<Vec<u8>, BakeError> {
    PngTemplate::new(png)?.bake(keyword, text)
}

/// An image checked once (signature, every length and CRC, `IHDR` first, `IEND` last) and split
/// around the place the badge chunk goes, with any badge already baked in removed.
///
/// A badge class's image is prepared when the class is loaded; baking an award is then one
/// allocation, two copies and the CRC of the new chunk, with no re-reading of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PngTemplate {
    /// Signature and `IHDR`.
    head: Vec<u8>,
    /// Every other chunk up to and including `IEND`, badge chunks left out.
    tail: Vec<u8>,
}

impl PngTemplate {
    pub fn new(png: &[u8]) -> Result<Self, BakeError> {
        let chunks = chunks(png)?;
        if chunks.last().map(|c| &c.kind) != Some(b"IEND") {
            return Err(BakeError::Truncated);
        }
        let mut head = Vec::with_capacity(SIGNATURE.len() + 25);
        head.extend_from_slice(SIGNATURE);
        head.extend_from_slice(chunks[0].raw);
        let mut tail = Vec::with_capacity(png.len() - head.len());
        for chunk in &chunks[1..] {
            let badge = [Keyword::Ob3Credential, Keyword::Ob2Assertion]
                .iter()
                .any(|k| is_text_chunk_for(chunk, k.png_keyword().as_bytes()));
            if !badge {
                tail.extend_from_slice(chunk.raw);
            }
        }
        Ok(PngTemplate { head, tail })
    }

    /// The image with `text` baked in one uncompressed `iTXt` chunk right after `IHDR`.
    pub fn bake(&self, keyword: Keyword, text: &str) -> Result<Vec<u8>, BakeError> {
        check_text_to_bake(text)?;
        let name = keyword.png_keyword().as_bytes();
        // keyword, NUL, compression flag 0, method 0, empty language tag + NUL, empty
        // translated keyword + NUL, then the UTF-8 text.
        let data_len = name.len() + 5 + text.len();
        if data_len > MAX_CHUNK_LEN {
            return Err(BakeError::TooLarge {
                what: "baked text",
                size: text.len(),
                limit: MAX_CHUNK_LEN - name.len() - 5,
            });
        }
        let mut out = Vec::with_capacity(self.head.len() + 12 + data_len + self.tail.len());
        out.extend_from_slice(&self.head);
        out.extend_from_slice(&(data_len as u32).to_be_bytes());
        let typed = out.len();
        out.extend_from_slice(b"iTXt");
        out.extend_from_slice(name);
        out.extend_from_slice(&[0, 0, 0, 0, 0]);
        out.extend_from_slice(text.as_bytes());
        let crc = crc32fast::hash(&out[typed..]);
        out.extend_from_slice(&crc.to_be_bytes());
        out.extend_from_slice(&self.tail);
        Ok(out)
    }
}

/// Reads the badge baked into a PNG: the first `iTXt` `openbadgecredential` chunk, else the
/// first `iTXt` `openbadges`, else a legacy `tEXt` `openbadges` chunk (OB 1.x hosted URL).
pub fn unbake_png(png: &[u8], limits: &Limits) -> Result<Baked, BakeError> {
    check_input_size(png, limits)?;
    let mut ob3: Option<Chunk<'_>> = None;
    let mut ob2: Option<Chunk<'_>> = None;
    let mut legacy: Option<Chunk<'_>> = None;
    for chunk in Chunks::new(png)? {
        let chunk = chunk?;
        let Some(keyword) = text_chunk_keyword(&chunk) else {
            continue;
        };
        let slot = match (&chunk.kind, keyword) {
            (b"iTXt", b"openbadgecredential") => (&mut ob3, Keyword::Ob3Credential),
            (b"iTXt", b"openbadges") => (&mut ob2, Keyword::Ob2Assertion),
            (b"tEXt", b"openbadges") => {
                legacy.get_or_insert(chunk);
                continue;
            }
            _ => continue,
        };
        if slot.0.is_some() {
            return Err(BakeError::MoreThanOneBakedChunk {
                keyword: slot.1.png_keyword(),
            });
        }
        *slot.0 = Some(chunk);
    }

    if let Some((chunk, keyword)) = ob3
        .map(|c| (c, Keyword::Ob3Credential))
        .or(ob2.map(|c| (c, Keyword::Ob2Assertion)))
    {
        let text = read_itxt_text(chunk.data, limits)?;
        return Ok(baked(keyword, text, false));
    }
    if let Some(chunk) = legacy {
        // tEXt is Latin-1: each byte is one code point.
        let text_bytes = &chunk.data["openbadges".len() + 1..];
        check_payload_size(text_bytes.len(), limits)?;
        let text: String = text_bytes.iter().map(|&b| char::from(b)).collect();
        return Ok(baked(Keyword::Ob2Assertion, text, true));
    }
    Err(BakeError::NotBaked)
}

fn baked(keyword: Keyword, text: String, legacy_text_chunk: bool) -> Baked {
    Baked {
        keyword,
        text,
        container: Container::Png,
        legacy_text_chunk,
        verify_attr: None,
    }
}

/// The keyword of a `tEXt`, `zTXt` or `iTXt` chunk (the bytes before the first NUL).
fn text_chunk_keyword<'a>(chunk: &Chunk<'a>) -> Option<&'a [u8]> {
    if !matches!(&chunk.kind, b"iTXt" | b"tEXt" | b"zTXt") {
        return None;
    }
    let end = chunk.data.iter().take(80).position(|&b| b == 0)?;
    Some(&chunk.data[..end])
}

fn is_text_chunk_for(chunk: &Chunk<'_>, keyword: &[u8]) -> bool {
    text_chunk_keyword(chunk) == Some(keyword)
}

/// Decodes the text of an `iTXt` chunk, inflating it (bounded) if another tool compressed it.
fn read_itxt_text(data: &[u8], limits: &Limits) -> Result<String, BakeError> {
    let bad = |what: &str| BakeError::InvalidPng(format!("the badge iTXt chunk {what}"));
    let keyword_end = data
        .iter()
        .position(|&b| b == 0)
        .ok_or(bad("has no keyword"))?;
    let rest = &data[keyword_end + 1..];
    let [flag, method, rest @ ..] = rest else {
        return Err(bad("is cut short"));
    };
    let lang_end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or(bad("is cut short"))?;
    let rest = &rest[lang_end + 1..];
    let translated_end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or(bad("is cut short"))?;
    let raw = &rest[translated_end + 1..];

    let text = match (flag, method) {
        (0, _) => {
            check_payload_size(raw.len(), limits)?;
            raw.to_vec()
        }
        (1, 0) => inflate_bounded(raw, limits)?,
        (1, m) => return Err(BakeError::UnsupportedCompression(*m)),
        (f, _) => return Err(bad(&format!("has an invalid compression flag {f}"))),
    };
    String::from_utf8(text).map_err(|_| BakeError::InvalidText("it is not valid UTF-8".into()))
}

/// Inflates zlib data, reading at most one byte more than the payload limit.
fn inflate_bounded(compressed: &[u8], limits: &Limits) -> Result<Vec<u8>, BakeError> {
    let cap = limits.max_payload_bytes.saturating_add(1) as u64;
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|_| BakeError::InvalidPng("the compressed badge text is corrupt".into()))?;
    check_payload_size(out.len(), limits)?;
    Ok(out)
}

fn crc(kind: &[u8; 4], data: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(kind);
    hasher.update(data);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc(kind, data).to_be_bytes());
    }

    fn tiny_png() -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        write_chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        // One grey pixel: filter byte 0, value 0x80, zlib-compressed (stored block).
        write_chunk(
            &mut out,
            b"IDAT",
            &[
                0x78, 0x01, 0x01, 0x02, 0x00, 0xfd, 0xff, 0x00, 0x80, 0x00, 0x82, 0x00, 0x81,
            ],
        );
        write_chunk(&mut out, b"IEND", &[]);
        out
    }

    #[test]
    fn legacy_text_chunk_is_read_when_no_itxt() {
        let png = tiny_png();
        let mut with_text = SIGNATURE.to_vec();
        for c in chunks(&png).unwrap() {
            with_text.extend_from_slice(c.raw);
            if &c.kind == b"IHDR" {
                write_chunk(
                    &mut with_text,
                    b"tEXt",
                    b"openbadges\0https://example.org/a",
                );
            }
        }
        let got = unbake_png(&with_text, &Limits::default()).unwrap();
        assert_eq!(got.text, "https://example.org/a");
        assert!(got.legacy_text_chunk);
        assert_eq!(got.keyword, Keyword::Ob2Assertion);
        // Baking OB 2.0 replaces the legacy chunk.
        let rebaked = bake_png(&with_text, Keyword::Ob2Assertion, "{}").unwrap();
        let texts = chunks(&rebaked)
            .unwrap()
            .into_iter()
            .filter(|c| &c.kind == b"tEXt" || &c.kind == b"iTXt")
            .count();
        assert_eq!(texts, 1);
    }

    #[test]
    fn compressed_itxt_is_inflated_within_bounds() {
        use std::io::Write;
        let text = "{\"a\":\"".to_string() + &"x".repeat(5000) + "\"}";
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(text.as_bytes()).unwrap();
        let mut data = b"openbadgecredential\0\x01\x00\0\0".to_vec();
        data.extend(z.finish().unwrap());
        let mut png = SIGNATURE.to_vec();
        for c in chunks(&tiny_png()).unwrap() {
            if &c.kind == b"IEND" {
                write_chunk(&mut png, b"iTXt", &data);
            }
            png.extend_from_slice(c.raw);
        }
        assert_eq!(unbake_png(&png, &Limits::default()).unwrap().text, text);
        let small = Limits {
            max_payload_bytes: 1000,
            ..Limits::default()
        };
        let err = unbake_png(&png, &small).unwrap_err();
        assert!(matches!(err, BakeError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn two_chunks_with_the_same_keyword_are_refused() {
        let once = bake_png(&tiny_png(), Keyword::Ob3Credential, "a").unwrap();
        let mut twice = SIGNATURE.to_vec();
        for c in chunks(&once).unwrap() {
            if &c.kind == b"IEND" {
                write_chunk(&mut twice, b"iTXt", b"openbadgecredential\0\0\0\0\0b");
            }
            twice.extend_from_slice(c.raw);
        }
        let err = unbake_png(&twice, &Limits::default()).unwrap_err();
        assert!(matches!(err, BakeError::MoreThanOneBakedChunk { .. }));
    }

    #[test]
    fn a_template_bakes_like_bake_png_and_drops_any_earlier_badge() {
        let template = PngTemplate::new(&tiny_png()).unwrap();
        let baked = template.bake(Keyword::Ob3Credential, "{\"a\":1}").unwrap();
        assert_eq!(
            baked,
            bake_png(&tiny_png(), Keyword::Ob3Credential, "{\"a\":1}").unwrap()
        );
        // Every chunk checks out, the new one sits right after IHDR.
        let kinds: Vec<_> = chunks(&baked).unwrap().iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [*b"IHDR", *b"iTXt", *b"IDAT", *b"IEND"]);
        // Baking an OB 2.0 assertion into an image that carries an OB 3.0 credential replaces it:
        // an image carries one badge.
        let rebaked = bake_png(&baked, Keyword::Ob2Assertion, "a.b.c").unwrap();
        let got = unbake_png(&rebaked, &Limits::default()).unwrap();
        assert_eq!(
            (got.keyword, got.text.as_str()),
            (Keyword::Ob2Assertion, "a.b.c")
        );
        assert_eq!(chunks(&rebaked).unwrap().len(), 4);
        // Text an image cannot carry is refused, fast path or not.
        assert!(template.bake(Keyword::Ob2Assertion, "a\u{1}").is_err());
        assert!(template.bake(Keyword::Ob2Assertion, "a\u{FFFE}").is_err());
        assert!(
            template
                .bake(Keyword::Ob2Assertion, "é\té\u{EFFF}\u{F000}")
                .is_ok()
        );
    }

    #[test]
    fn dimensions_come_from_ihdr() {
        assert_eq!(dimensions(&tiny_png()).unwrap(), (1, 1));
    }
}
