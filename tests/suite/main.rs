//! The integration suite: one test binary (one link on two cores), modules named after what
//! they prove.

// This whole crate is tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod util;

mod add_rule;
mod age_interop;
mod age_testkit;
mod archive_attacks;
mod canonical_numbers;
mod cli_errors;
mod clone;
mod compromise;
mod concurrency;
mod craft;
mod crash;
mod deny_policy;
mod determinism;
mod docs_gen;
mod drift;
mod drift_home;
mod duties_time;
mod ed25519_vectors;
mod escape_props;
mod escapes;
mod expiry;
mod export;
mod first_contact;
mod format_example;
mod format_governance;
mod frame_length;
mod fsck;
mod fsck_scan;
mod gate;
mod gate_log;
mod gate_pin;
mod genesis_nonce;
mod governance_ops;
mod guide;
mod help_docs;
mod import;
mod ingest;
mod input_rules;
mod interop;
mod key_canon;
mod layers;
mod ledger_tamper;
mod leftovers;
mod library_options;
mod lifecycle;
mod limits;
mod medium;
mod messages;
mod mutants_bundle;
mod mutants_fsck;
mod mutants_trust;
mod mutations;
mod one_encoding;
mod ops_outcomes;
mod readd;
mod repair;
mod runbooks;
mod secrets;
mod signature_first;
mod store;
mod terminal;
mod time_grammar;
mod transfer_vector;
mod trust_cmd;
mod trust_pin;
