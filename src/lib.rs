//! carnet: an Open Badges 2.0 / 3.0 issuer and verifier for competences recognised in IME and ESAT.
//!
//! See `docs/ARCHITECTURE.md` for the map of modules and the data flow.
#![forbid(unsafe_code)]

pub mod app;
pub mod award_rules;
pub mod badge_class;
pub mod badge_image;
pub mod bake;
pub mod baked;
pub mod bench;
pub mod bulk;
pub mod cli;
pub mod config;
pub mod csv;
pub mod demo;
pub mod endorsement;
pub mod evidence;
pub mod fuzzing;
pub mod hex;
pub mod http;
pub mod institution;
pub mod iri;
pub mod issue;
pub mod issuer;
pub mod json;
pub mod jsonld;
pub mod keys;
pub mod ob2;
pub mod ob3;
pub mod own_documents;
pub mod problem;
pub mod proof;
pub mod recipient;
pub mod referentiel;
pub mod status;
pub mod status_publisher;
pub mod store;
pub mod text;
pub mod verify;
