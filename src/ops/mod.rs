//! Every write a registry accepts, one module per family: each resolves its inputs against the
//! verified state under the writer lock, builds the entry, commits it through one transaction,
//! and returns a typed outcome; each has its own error.

pub mod add;
pub mod checkout;
pub mod clone;
pub mod config;
pub mod deny;
pub mod drift;
pub mod export;
pub mod gc;
pub mod import;
pub mod keys;
pub mod lifecycle;
pub mod reapprove;
pub mod repair;
pub mod succession;
