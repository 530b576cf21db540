//! Read-only views of a verified registry: model records and their history, the diff of two,
//! slot status, drift observations, listing filters, the revoked keys a model rests on.

pub mod chain;
pub mod diff;
pub mod drift;
pub mod history;
pub mod keys;
pub mod list;
pub mod record;
pub mod revoked;
pub mod standing;
pub mod status;
