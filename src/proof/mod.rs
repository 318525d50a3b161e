//! Proof formats, one file each: Data Integrity (eddsa-rdfc-2022; ecdsa-sd-2023 derived proofs, verified only)
//! and VC-JWT; multikey helpers.

pub mod data_integrity;
pub mod ecdsa_sd;
pub mod multikey;
pub mod vc_jwt;
