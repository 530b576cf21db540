//! Every write a registry accepts, one module per family: each resolves its inputs against the
//! verified state, builds the entry, and commits it through one transaction.

pub mod add;
pub mod checkout;
pub mod drift;
pub mod export;
pub mod gc;
pub mod lifecycle;
