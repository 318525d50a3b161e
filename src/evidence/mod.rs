//! Evidence files of badge requests (issue #5 §5): what a file really is, read from its first
//! bytes (magic numbers), never from its name or the Content-Type its sender claims.
//!
//! Only the kinds a learner brings as evidence are accepted: images (PNG, JPEG, GIF, WebP), PDF
//! documents, audio (MP3, Ogg, WAV, M4A) and video (MP4, WebM). Anything else is refused with
//! a message saying what was found and what is accepted.
//!
//! Files are private: they are opened with capability tokens (share links). A token is 32
//! random bytes, base64url; the store keeps only its SHA-256, so a database dump opens nothing.
//!
//! [`sniff`] reads the type, [`check_file`] adds the size limit and the file's SHA-256. In the
//! credential a file is `crate::ob3::credential::FileEvidence` (id = its private URL, name,
//! genre, description; the same in the OB 2.0 assertion). The HTTP flow is in
//! `crate::http::requests`, `request_evidence` and `evidence_access`.

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The default size limit of one evidence file: 20 MiB.
pub const DEFAULT_MAX_EVIDENCE_BYTES: u64 = 20 * 1024 * 1024;

/// A file fit to be kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedFile {
    pub sniffed: Sniffed,
    /// SHA-256 of the content, lower-case hex (files are deduplicated by it within a request).
    pub sha256: String,
    pub size: u64,
}

/// Why a file cannot be kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("this file is {size} bytes, more than the {limit} bytes allowed for one evidence file")]
    TooLarge { size: u64, limit: u64 },
    #[error(transparent)]
    Refused(#[from] Refused),
}

/// Checks a file before it is kept: within `max_bytes`, of an accepted kind (read from its bytes).
pub fn check_file(bytes: &[u8], max_bytes: u64) -> Result<CheckedFile, FileError> {
    let size = bytes.len() as u64;
    if size > max_bytes {
        return Err(FileError::TooLarge {
            size,
            limit: max_bytes,
        });
    }
    Ok(CheckedFile {
        sniffed: sniff(bytes)?,
        sha256: sha256_hex(bytes),
        size,
    })
}

/// SHA-256, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new share token (given once, in the share link) and the SHA-256 the store keeps of it.
pub fn new_share_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system's random source is available");
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_sha256(&token);
    (token, hash)
}

/// What the store keeps of a token, and looks a presented token up by.
pub fn token_sha256(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// What a file of evidence is shown as in a credential's evidence entry (`genre`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Genre {
    Image,
    Document,
    Audio,
    Video,
}

impl Genre {
    pub fn as_str(self) -> &'static str {
        match self {
            Genre::Image => "image",
            Genre::Document => "document",
            Genre::Audio => "audio",
            Genre::Video => "video",
        }
    }
}

/// A file type found by [`sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// The media type the file is served with.
    pub media_type: &'static str,
    pub genre: Genre,
}

impl Sniffed {
    const fn new(media_type: &'static str, genre: Genre) -> Self {
        Sniffed { media_type, genre }
    }

    /// Images are shown inline; anything else is served as an attachment.
    pub fn is_image(self) -> bool {
        self.genre == Genre::Image
    }
}

/// The accepted kinds, as told to someone whose file was refused.
pub const ACCEPTED: &str =
    "PNG, JPEG, GIF, WebP, PDF, MP3, Ogg, WAV, MP4/M4A or WebM (read from the file's content)";

/// Why a file was refused: what its first bytes look like, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this file is {found}, which is not accepted as evidence: send {ACCEPTED}", found = self.found)]
pub struct Refused {
    pub found: String,
}

/// The type of `bytes`, read from their magic numbers.
pub fn sniff(bytes: &[u8]) -> Result<Sniffed, Refused> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(Sniffed::new("image/png", Genre::Image));
    }
    if starts(b"\xff\xd8\xff") {
        return Ok(Sniffed::new("image/jpeg", Genre::Image));
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(Sniffed::new("image/gif", Genre::Image));
    }
    if starts(b"RIFF") && at(8, b"WEBP") {
        return Ok(Sniffed::new("image/webp", Genre::Image));
    }
    if starts(b"RIFF") && at(8, b"WAVE") {
        return Ok(Sniffed::new("audio/wav", Genre::Audio));
    }
    if starts(b"%PDF-") {
        return Ok(Sniffed::new("application/pdf", Genre::Document));
    }
    if starts(b"ID3") || is_mpeg_audio_frame(bytes) {
        return Ok(Sniffed::new("audio/mpeg", Genre::Audio));
    }
    if starts(b"OggS") {
        return Ok(Sniffed::new("audio/ogg", Genre::Audio));
    }
    if at(4, b"ftyp") {
        let brand = bytes.get(8..12).unwrap_or_default();
        return Ok(match brand {
            b"M4A " | b"M4B " => Sniffed::new("audio/mp4", Genre::Audio),
            _ => Sniffed::new("video/mp4", Genre::Video),
        });
    }
    if starts(b"\x1a\x45\xdf\xa3") {
        return Ok(Sniffed::new("video/webm", Genre::Video));
    }
    Err(Refused {
        found: describe(bytes).to_owned(),
    })
}

/// An MPEG audio frame header without ID3 tag: 11 sync bits, layer III.
fn is_mpeg_audio_frame(bytes: &[u8]) -> bool {
    matches!(bytes, [0xff, second, ..] if second & 0xe0 == 0xe0 && second & 0x06 == 0x02)
}

/// Words for what a refused file seems to be, so that the refusal is precise.
fn describe(bytes: &[u8]) -> &'static str {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if bytes.is_empty() {
        "empty"
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        "a ZIP archive (or an office document: save it as PDF)"
    } else if starts(b"MZ") || starts(b"\x7fELF") {
        "a program"
    } else if starts(b"\xd0\xcf\x11\xe0") {
        "an old Microsoft Office document (save it as PDF)"
    } else if starts(b"<") || starts(b"\xef\xbb\xbf<") {
        "HTML, XML or SVG text"
    } else if starts(b"{") || starts(b"[") {
        "JSON text"
    } else if bytes
        .iter()
        .take(512)
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "plain text"
    } else {
        "of an unknown kind"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(bytes: &[u8]) -> &'static str {
        sniff(bytes).unwrap().media_type
    }

    #[test]
    fn files_are_checked_for_size_then_kind() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let checked = check_file(png, 1024).unwrap();
        assert_eq!(checked.sniffed.media_type, "image/png");
        assert_eq!(checked.size, png.len() as u64);
        assert_eq!(checked.sha256, sha256_hex(png));
        assert_eq!(
            check_file(png, 8).unwrap_err(),
            FileError::TooLarge {
                size: png.len() as u64,
                limit: 8
            }
        );
        // a ".png" that is really a ZIP: the name is never looked at, the bytes are
        assert!(matches!(
            check_file(b"PK\x03\x04rest", 1024),
            Err(FileError::Refused(_))
        ));
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn share_tokens_are_random_and_kept_as_their_hash() {
        let (token, hash) = new_share_token();
        let (other, _) = new_share_token();
        assert_ne!(token, other);
        assert_eq!(token.len(), 43);
        assert!(!token.contains(['+', '/', '=']));
        assert_eq!(hash, token_sha256(&token));
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, token);
    }

    #[test]
    fn accepted_kinds_are_read_from_their_magic_bytes() {
        assert_eq!(media(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(media(b"\xff\xd8\xff\xe0\0\x10JFIF"), "image/jpeg");
        assert_eq!(media(b"GIF89a\x01\0"), "image/gif");
        assert_eq!(media(b"RIFF\x10\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(media(b"RIFF\x10\0\0\0WAVEfmt "), "audio/wav");
        assert_eq!(media(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(media(b"ID3\x04\0\0"), "audio/mpeg");
        assert_eq!(media(b"\xff\xfb\x90\x64"), "audio/mpeg");
        assert_eq!(media(b"OggS\0\x02"), "audio/ogg");
        assert_eq!(media(b"\0\0\0\x20ftypisom\0\0\x02\0"), "video/mp4");
        assert_eq!(media(b"\0\0\0\x20ftypM4A \0\0\x02\0"), "audio/mp4");
        assert_eq!(media(b"\x1a\x45\xdf\xa3\x9f\x42\x86"), "video/webm");
    }

    #[test]
    fn genres_follow_the_kind() {
        assert_eq!(sniff(b"%PDF-1.4").unwrap().genre, Genre::Document);
        assert!(sniff(b"GIF87a").unwrap().is_image());
        assert!(!sniff(b"OggS").unwrap().is_image());
        assert_eq!(sniff(b"\x1a\x45\xdf\xa3").unwrap().genre.as_str(), "video");
    }

    #[test]
    fn other_files_are_refused_saying_what_they_look_like() {
        let zip = sniff(b"PK\x03\x04\x14\0\0\0").unwrap_err();
        assert!(zip.found.contains("ZIP"), "{zip}");
        assert!(zip.to_string().contains("PNG, JPEG"), "{zip}");
        assert!(sniff(b"").unwrap_err().found.contains("empty"));
        assert!(sniff(b"<svg xmlns=").unwrap_err().found.contains("SVG"));
        assert!(sniff(b"MZ\x90\0").unwrap_err().found.contains("program"));
        assert!(sniff(b"hello").unwrap_err().found.contains("plain text"));
        assert!(
            sniff(b"\x01\x02\x03")
                .unwrap_err()
                .found
                .contains("unknown")
        );
        // a truncated RIFF or ftyp header is not enough
        assert!(sniff(b"RIFF\0\0\0\0").is_err());
        assert!(sniff(b"\0\0\0").is_err());
    }
}
