//! reg: an offline, signed, content-addressed registry that governs AI/ML model artifacts.
//!
//! The library holds every rule; the `reg` binary is a thin layer that parses arguments, calls
//! one library function per command and prints the result. The on-disk format is specified in
//! `docs/FORMAT.md`; module docs point to its sections.
//!
//! - [`store`]: content-addressed objects (BLAKE3), streamed, fsynced, verified on read.
//! - [`encoding`]: canonical JSON, base64, time.
//! - [`envelope`]: DSSE envelopes and what exactly is signed.
//! - [`keys`]: ed25519 key files, fingerprints, strict verification.
//! - [`entry`], [`state`], [`ledger`]: the signed, hash-chained ledger and the state it derives.
//! - [`registry`]: finding, creating and opening a registry; committing one action.
//! - [`trust`]: the root of trust pinned on the host.
//! - [`names`]: the rule for model and slot names.

#![forbid(unsafe_code)]

pub mod bundle;
pub mod checkout;
pub mod decision_log;
pub mod drift;
pub mod encoding;
pub mod entry;
pub mod envelope;
pub mod formats;
pub mod fsck;
pub mod fsutil;
pub mod gate;
pub mod gc;
pub mod ingest;
pub mod keys;
pub mod layout;
pub mod ledger;
pub mod lifecycle;
pub mod manifest;
pub mod names;
pub mod progress;
pub mod record;
pub mod refs;
pub mod registry;
mod replay;
pub mod schema;
pub mod state;
pub mod store;
pub mod trust;
