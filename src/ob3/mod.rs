//! The Open Badges 3.0 data model: building credentials (checking their conformance is the
//! verifier's, `crate::verify::conformance`).

pub mod credential;
pub mod recognition;
