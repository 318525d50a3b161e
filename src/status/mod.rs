//! Credential status: whether an issued credential has been withdrawn.
//!
//! - [`bitstring`]: the W3C Bitstring Status List v1.0 (W3C Recommendation, 2025): the compressed bit array
//!   (§2.1 `encodedList`, §3.2 bitstring generation and expansion), the status-list credential carnet publishes
//!   for an issuer (§2.2 `BitstringStatusListCredential`) and the `credentialStatus` entry each OB 3.0 credential
//!   carries (§2.1 `BitstringStatusListEntry`).
//! - [`status_list_2021`]: the W3C CCG StatusList2021, the list Bitstring Status List grew from, which the DCC tools
//!   still issue: read only (carnet verifies such lists, it never publishes one). The same bits, another
//!   `encodedList` form (no multibase prefix).
//!
//! Which index an award gets is decided by the store (`Store::allocate_status_index`): indexes are never reused,
//! so that revoking one award can never withdraw another.

pub mod bitstring;
pub mod shuffle;
pub mod status_list_2021;

use std::fmt;
use std::str::FromStr;

/// What a set bit means in a status list (Bitstring Status List §2.1 `statusPurpose`).
///
/// carnet's OB 3.0 credentials carry one entry, for revocation: the Open Badges 3.0 schema allows a single
/// `credentialStatus` object, not the array that an extra suspension entry would need. Lists are nonetheless kept
/// per purpose, so that suspension can be added without changing how indexes are allocated.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum StatusPurpose {
    /// Permanent: the credential is withdrawn for good.
    Revocation,
    /// Temporary: the credential may be reinstated.
    Suspension,
}

impl StatusPurpose {
    pub const ALL: [StatusPurpose; 2] = [StatusPurpose::Revocation, StatusPurpose::Suspension];

    /// The `statusPurpose` value, as the spec spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusPurpose::Revocation => "revocation",
            StatusPurpose::Suspension => "suspension",
        }
    }
}

impl fmt::Display for StatusPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StatusPurpose {
    type Err = StatusError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "revocation" => Ok(StatusPurpose::Revocation),
            "suspension" => Ok(StatusPurpose::Suspension),
            other => Err(StatusError::UnknownPurpose(other.to_owned())),
        }
    }
}

/// Where an award's status bit lives: list number `list` of its issuer (for one purpose), bit `index` of that list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusSlot {
    pub list: u32,
    pub index: u32,
}

impl fmt::Display for StatusSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "list {} index {}", self.list, self.index)
    }
}

/// Why a status list could not be read or used. The names of the spec's errors (§3.3) are given where they apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("encodedList must be multibase base64url without padding (starting with \"u\")")]
    NotMultibaseBase64Url,
    #[error("encodedList is not valid base64url without padding: {0}")]
    Base64(String),
    /// StatusList2021's `encodedList` (base64 of either alphabet, padded or not).
    #[error("encodedList is not valid base64 (RFC 4648): {0}")]
    NotBase64(String),
    #[error("encodedList is not a valid GZIP stream: {0}")]
    Gzip(String),
    /// Refused before inflating further: a small `encodedList` may expand to gigabytes (a "zip bomb").
    #[error("the status list expands to more than {limit} bytes, the most carnet accepts")]
    TooLarge { limit: usize },
    /// STATUS_LIST_LENGTH_ERROR: fewer entries than the spec's minimum (group privacy, §6.1).
    #[error(
        "the status list has {entries} entries, fewer than the minimum of {minimum} (STATUS_LIST_LENGTH_ERROR)"
    )]
    TooShort { entries: usize, minimum: usize },
    /// RANGE_ERROR: the index points past the end of the list.
    #[error("status list index {index} is outside the list of {len} entries (RANGE_ERROR)")]
    IndexOutOfRange { index: usize, len: usize },
    #[error("unknown status purpose {0:?} (carnet knows \"revocation\" and \"suspension\")")]
    UnknownPurpose(String),
}
