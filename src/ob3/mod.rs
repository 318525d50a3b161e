//! The Open Badges 3.0 data model: building credentials and checking conformance.

pub mod conformance;
pub mod credential;
pub mod recognition;
