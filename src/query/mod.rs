//! Read-only views of a verified registry: model records and their history, slot status, drift
//! observations, the revoked keys a model rests on.

pub mod chain;
pub mod drift;
pub mod history;
pub mod keys;
pub mod record;
pub mod revoked;
pub mod standing;
pub mod status;
