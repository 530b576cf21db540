//! reg: an offline, signed, content-addressed registry that governs AI/ML model artifacts.
//!
//! The library holds every rule; the `reg` binary is a thin layer that parses arguments, calls
//! one library function per command and prints the result. The on-disk format is specified in
//! `docs/FORMAT.md`; module docs point to its sections.
//!
//! The folders are the layers, and they form a graph: each line below names a layer, then the
//! layers it uses directly (`-`: none), and may use what those use in turn. `ops`, `query` and
//! `gate` are siblings, none using another: a reader (`query`, `gate`, and `fsck` above them)
//! never reaches the writers in `ops`. `format` and `state` do no I/O. The suite's `layers`
//! test reads every path in `src/`, holds the imports to this graph (and to this drawing),
//! keeps I/O out of `format` and `state`, and refuses files that import each other.
//!
//! ```text
//!   cli (the binary)            one file per command: parse, call one function, print
//!   ─────────────────────────────────────────────────────────────────────────────────────
//!   refusal  report, fsck       every library error as its user is told it: class (exit
//!                               code), message, hint; the one mapping the CLI and Python share
//!   report   ops, query, gate   the documents programs read (`--json`): status, list, show,
//!                               log, drift, write results; one implementation for the CLI
//!                               and Python
//!   fsck     query, gate        proves the registry matches its ledger, file by file; it
//!                               reads, so it never uses ops
//!   ops      bundle             every write: add, lifecycle and slots, keys, config, deny,
//!                               drift, import, clone, purge, gc, checkout, export, repair
//!   query    bundle             read-only views: records, history, slot status, drift
//!   gate     bundle             the load gate: only approved bytes pass; its decision log
//!   bundle   repo               reading, packing and decrypting publisher bundles
//!   repo     state              the registry on disk: layout, store, ledger, refs, host trust,
//!                               the commit; receiving an import's history; building a clone
//!   state    format             the state the ledger derives, and its rules (no I/O)
//!   format   crypto             the on-disk vocabulary as plain data (no I/O)
//!   crypto   util               ed25519 keys, DSSE envelopes
//!   util     -                  encodings; the file-system rules (new outputs, opens that
//!                               never follow a link, bounded reads); hashing; progress
//! ```

//! # The front door
//!
//! What a consumer needs is at the crate root: find and open a registry the way the CLI does,
//! then ask its gate whether bytes may be loaded.
//!
//! ```no_run
//! use reg::{Gate, GateOptions, OpenOptions, Registry, Scope};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // REG_DIR, REG_TRUST, REG_TRUST_FILE, REG_STATE_DIR, ... exactly as the CLI reads them.
//! let registry = Registry::find(&OpenOptions::from_env()?)?;
//! let gate = Gate::new(&registry, GateOptions::default())?;
//! let scope = Scope::Slot("detector".into());
//! let artifact = gate.open_verified("model.onnx".as_ref(), &scope)?;
//! // Load from `artifact.file`, a private copy of exactly the bytes the gate allowed.
//! # let _ = artifact;
//! # Ok(())
//! # }
//! ```
//!
//! The CLI, the examples and the Python package (`python/`) open registries through these.
//! Every refusal of the library becomes one class (exit code), message and hint in one place
//! ([`Refusal`]); the documents the CLI prints with `--json` are built in [`report`]: the CLI
//! and the Python package answer alike because neither builds its own.

// Denied everywhere but the one audited module that maps files (`util::hash::map`).
#![deny(unsafe_code)]

pub mod bundle;
pub mod crypto;
pub mod format;
pub mod fsck;
pub mod gate;
pub mod ops;
pub mod query;
pub mod refusal;
pub mod repo;
pub mod report;
pub mod state;
pub mod util;

pub use gate::{Code, Decision, Gate, GateError, GateOptions, Scope, VerifiedArtifact};
pub use refusal::{Class, Refusal};
pub use repo::registry::{OpenOptions, Registry, RegistryError};
