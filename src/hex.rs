//! Lowercase hexadecimal, as digests are written (badge-class and référentiel digests, identity
//! hashes, bulk-file and carnet hashes).

/// The bytes as lowercase hexadecimal, two digits each.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
