//! The registry on disk: its layout, the object store, the ledger and its replay, refs, the
//! trust pinned on the host, and the transaction that commits one action (FORMAT.md §1, §3, §6,
//! §8).

mod clone;
mod config;
mod error;
pub mod incoming;
pub mod layout;
pub mod ledger;
pub mod leftovers;
pub mod options;
pub mod outbox;
pub mod reach;
pub mod records;
pub mod refs;
pub mod registry;
pub mod replica;
pub(crate) mod sizes;
pub mod store;
pub mod trust;

pub use clone::ClonedSite;
pub use ledger::read_claim;
