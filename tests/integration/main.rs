//! carnet's integration tests, in one binary (one link instead of one per file): each module is
//! what used to be a test file of its own; `common` holds what they share (a throw-away issuer,
//! a running server, carnet fixtures, the browser tools, `cli` the programs run to completion
//! with a time limit, `backends` the suites declared once and run on SQLite and PostgreSQL).
//!
//! Run one module with `cargo test --test integration MODULE::`, e.g.
//! `cargo test --test integration storage::`.

mod common;

mod api_tokens;
mod badge_requests;
mod bake_props;
mod bulk_awards;
mod carnet_awards;
mod carnet_batch;
mod cli;
mod cli_awards;
mod cli_endorsements;
mod credential_page;
mod data_integrity_vectors;
mod dcc_deviations;
mod deferred_forms;
mod demo;
mod endorsements;
mod error_pages;
mod fuzz_corpora;
mod hostile_input;
mod http_api;
mod http_referentiels;
mod http_verify;
mod institutions;
mod institutions_http;
mod institutions_side_by_side;
mod interop;
mod interop_openbadgeslib;
mod jwt_dates;
mod lists;
mod module_graph;
mod ob2_documents;
mod ob3_conformance;
mod own_badges;
mod page_browser;
mod public_pages_browser;
mod remote_keys;
mod revocation;
mod route_table;
mod samples_1edtech;
mod samples_1edtech_ob2;
mod samples_other;
mod scale;
mod schemas;
mod snapshots;
mod ssrf;
mod status_list;
mod status_list_2021;
mod storage;
mod storage_endorsements;
mod storage_institutions;
mod tamper;
mod two_nodes;
mod upgrade;
mod upload_bounds;
mod verify_page_endorsements;
