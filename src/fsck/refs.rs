//! The index and the refs are what replaying the ledger gives (`index-stale`, `ref-mismatch`,
//! `ref-stale`, `refs-pending`). What a ref should say is [`crate::repo::refs::check`]'s to
//! find; whether an interrupted commit explains it is judged here.

use super::ledger::Reached;
use super::{Code, Fsck};
use crate::format::entry::Body;
use crate::format::id::ObjectId;
use crate::repo::layout::REFS_PENDING;
use crate::repo::refs::{self, RefFault};
use crate::repo::registry::Registry;
use crate::state::State;

/// Whether a fault is the lag an interrupted commit leaves: after one (the marker says one
/// happened), a ref may be missing or name an earlier entry of its own model or slot. That is a
/// warning the next write repairs; anything else no crash explains stays an error.
struct Lag<'a> {
    reg: &'a Registry,
    state: &'a State,
    reached: &'a Reached,
    pending: bool,
}

impl Lag<'_> {
    /// The ref of model `id` names `found` (`None`: it has none).
    fn model(&self, id: &ObjectId, found: Option<ObjectId>) -> bool {
        let Some(m) = self.state.models().get(id) else {
            return false;
        };
        self.pending
            && found.is_none_or(|e| {
                crate::query::record::history(self.reg, m)
                    .is_ok_and(|h| h.iter().any(|i| i.entry == e))
            })
    }

    /// The ref of `slot` names `found` (`None`: it has none, or cannot be read).
    fn slot(&self, slot: &str, found: Option<ObjectId>) -> bool {
        self.pending
            && found.is_none_or(|e| {
                self.reached.entries.contains(&e)
                    && crate::repo::ledger::read_entry(self.reg.store(), &e).is_ok_and(|entry| {
                        match &entry.body {
                            Body::Slot(c) => c.slot == slot,
                            Body::Transition(t) => t.slots.iter().any(|x| x.slot == slot),
                            _ => false,
                        }
                    })
            })
    }
}

/// The index and the refs are what replaying the ledger gives.
pub(super) fn check_index_and_refs(reg: &Registry, state: &State, reached: &Reached, f: &mut Fsck) {
    let dot = reg.path();
    let pending = refs::is_pending(dot);
    if pending {
        f.warn(
            Code::RefsPending,
            Some(dot.join(REFS_PENDING)),
            None,
            "a write was interrupted after its commit point; its refs may lag, and the next write rewrites them".into(),
        );
    }
    if let Some(index) = reg.index_mismatch(state) {
        f.warn(Code::IndexStale, Some(index), None, "the index differs from the replayed ledger; it is not used, and the next write rebuilds it".into());
    }
    let lag = Lag {
        reg,
        state,
        reached,
        pending,
    };
    for fault in refs::check(dot, state) {
        report(fault, &lag, f);
    }
}

/// One ref fault as a finding: `ref-stale` when the lag explains it, `ref-mismatch` otherwise.
fn report(fault: RefFault, lag: &Lag, f: &mut Fsck) {
    // Every model a fault names is in the state: `name@version`.
    let spec = |id: &ObjectId| lag.state.spec(id);
    match fault {
        RefFault::Model { path, id, found, .. } if found.is_some() && lag.model(&id, found) => f.warn(
            Code::RefStale,
            Some(path),
            Some(id),
            format!("the ref of {} names an earlier entry of the model, left by an interrupted write; the next write rewrites it", spec(&id)),
        ),
        RefFault::Model { path, id, want, .. } => f.error(
            Code::RefMismatch,
            Some(path),
            Some(id),
            format!(
                "the ref of {} does not name its latest entry {want}",
                spec(&id)
            ),
        ),
        RefFault::UnknownModel { path } => f.error(
            Code::RefMismatch,
            Some(path),
            None,
            "a model ref for no registered model".into(),
        ),
        RefFault::MissingModel { path, id } if lag.model(&id, None) => f.warn(
            Code::RefStale,
            Some(path),
            Some(id),
            format!("{} has no ref yet, after an interrupted write; the next write writes it", spec(&id)),
        ),
        RefFault::MissingModel { path, id } => f.error(
            Code::RefMismatch,
            Some(path),
            Some(id),
            format!("{} has no ref", spec(&id)),
        ),
        RefFault::Slot { path, name, set, found } => slot(path, &name, set, found, lag, f),
        RefFault::MissingSlot { path, name } if lag.slot(&name, None) => f.warn(
            Code::RefStale,
            Some(path),
            None,
            format!("slot `{name}` has no ref yet, after an interrupted write; the next write writes it"),
        ),
        RefFault::MissingSlot { path, name } => f.error(
            Code::RefMismatch,
            Some(path),
            None,
            format!("slot `{name}` is set but has no ref"),
        ),
    }
}

/// A slot ref that names another entry than the one that set the slot (`set`), or a ref of a
/// slot that is not set.
fn slot(
    path: std::path::PathBuf,
    name: &str,
    set: Option<ObjectId>,
    found: Option<ObjectId>,
    lag: &Lag,
    f: &mut Fsck,
) {
    match set {
        Some(entry) if lag.slot(name, found) => f.warn(
            Code::RefStale,
            Some(path),
            Some(entry),
            format!("the ref of slot `{name}` names an earlier entry that set it, left by an interrupted write; the next write rewrites it"),
        ),
        None if lag.slot(name, found) => f.warn(
            Code::RefStale,
            Some(path),
            None,
            format!("slot `{name}` was cleared by an interrupted write that did not remove its ref yet; the next write removes it"),
        ),
        Some(entry) => f.error(
            Code::RefMismatch,
            Some(path),
            Some(entry),
            format!("the ref of slot `{name}` does not name the entry that set it ({entry})"),
        ),
        None => f.error(
            Code::RefMismatch,
            Some(path),
            None,
            format!("slot `{name}` has a ref but is not set in the ledger"),
        ),
    }
}
