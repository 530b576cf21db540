//! Read-only views of a verified registry: model records and their history, slot status, drift
//! observations.

pub mod chain;
pub mod drift;
pub mod record;
pub mod status;
