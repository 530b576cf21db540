//! Walking a chain of ledger entries backwards through their `previous` links: a model's history
//! (its transitions back to its `add`), a model's drift observations. Such a walk costs as much
//! as the chain is long, whatever the size of the ledger.

use crate::format::entry::{Body, Entry};
use crate::format::id::ObjectId;
use crate::repo::ledger::read_entry;
use crate::repo::registry::{Registry, RegistryError};

/// How a chain links its entries: for an entry that belongs to the chain, the entry before it
/// (`Some(None)` at the chain's start); `None` for one that does not belong.
pub type Link = fn(&Body) -> Option<Option<ObjectId>>;

/// The entries of a chain, newest first, each with its id. The walk ends after the first error:
/// an entry that cannot be read, or one that does not belong to the chain (`not_member` says
/// what it is not).
pub struct Chain<'a> {
    reg: &'a Registry,
    next: Option<ObjectId>,
    link: Link,
    not_member: &'static str,
}

impl<'a> Chain<'a> {
    /// The chain that ends at `last` (nothing when `None`).
    pub fn new(
        reg: &'a Registry,
        last: Option<ObjectId>,
        link: Link,
        not_member: &'static str,
    ) -> Self {
        Chain {
            reg,
            next: last,
            link,
            not_member,
        }
    }

    /// A model's history, from its latest entry back to its `add`: its transitions and its
    /// re-approvals (FORMAT.md §5.14), which join the same chain.
    pub fn history(reg: &'a Registry, latest: ObjectId) -> Self {
        Chain::new(
            reg,
            Some(latest),
            |body| match body {
                Body::Add(_) => Some(None),
                Body::Transition(t) => Some(Some(t.previous)),
                Body::Reapprove(r) => Some(Some(r.previous)),
                _ => None,
            },
            "is not part of a model's history",
        )
    }

    /// A model's drift observations, from the last one back.
    pub fn drift(reg: &'a Registry, last: Option<ObjectId>) -> Self {
        Chain::new(
            reg,
            last,
            |body| match body {
                Body::Drift(d) => Some(d.previous),
                Body::DriftImport(d) => Some(d.previous),
                _ => None,
            },
            "is not a drift observation",
        )
    }
}

impl Iterator for Chain<'_> {
    type Item = Result<(ObjectId, Entry), RegistryError>;

    fn next(&mut self) -> Option<Self::Item> {
        let id = self.next.take()?;
        let path = || self.reg.store().path(&id);
        let entry = match read_entry(self.reg.store(), &id) {
            Ok(entry) => entry,
            Err(e) => {
                return Some(Err(RegistryError::Config {
                    path: path(),
                    detail: format!("entry {id}: {e}"),
                }));
            }
        };
        match (self.link)(&entry.body) {
            Some(previous) => {
                self.next = previous;
                Some(Ok((id, entry)))
            }
            None => Some(Err(RegistryError::Config {
                path: path(),
                detail: format!("entry {id} {}", self.not_member),
            })),
        }
    }
}
