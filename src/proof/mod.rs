//! Proof formats, one file each: Data Integrity (eddsa-rdfc-2022) and VC-JWT; multikey helpers.

pub mod data_integrity;
pub mod multikey;
pub mod vc_jwt;
