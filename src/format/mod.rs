//! The on-disk vocabulary as plain data (FORMAT.md): object ids, ledger entries, the lifecycle
//! table, manifests and the claims their records make, artifact formats, drift observations and
//! the drift reports a replica sends home, the head code read between sites, names and the
//! order of versions, the embedded schemas, the checkpoint and its parser, the size limits of
//! signed objects (through which writers sign), and the transfer file. Parsing and checking a
//! document in isolation; the transfer codec streams over `io::Read` and `io::Write` but opens
//! no file.

pub mod checkpoint;
pub mod claim;
pub mod drift_report;
pub mod entry;
pub mod formats;
pub mod head_code;
pub mod id;
pub mod lifecycle;
pub mod limits;
pub mod manifest;
pub mod names;
pub mod observation;
pub mod pickle;
pub mod revocation;
pub mod schema;
pub mod transfer;
pub mod version;
