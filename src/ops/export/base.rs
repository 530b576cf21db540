//! Where an export starts (FORMAT.md §11.9): no base, entry `N` of this ledger, or the entry a
//! receiving site's checkpoint names, which must be one of this ledger's and signed by the key
//! that signed it; and what a site at that base already holds (§11.2), which is not carried.

use super::{ExportError, Seen, Since};
use crate::format::checkpoint;
use crate::format::id::ObjectId;
use crate::format::transfer::Point;
use crate::repo::ledger;
use crate::repo::registry::Registry;
use crate::state::State;
use crate::util::encoding::echo;
use std::collections::HashSet;

/// The entry the receiving site already has (`None` for a full export), from `since`: a base
/// the head does not follow leaves nothing to carry, which is refused rather than written as an
/// empty transfer (the format carries at least one entry).
pub(super) fn choose_base(
    reg: &Registry,
    state: &State,
    entries: &[Seen],
    since: &Since,
    head: u64,
) -> Result<Option<Point>, ExportError> {
    let base = match since {
        Since::Full => None,
        Since::Seq(n) => Some(base_at(entries, *n, head)?),
        Since::Checkpoint(bytes) => Some(base_of_checkpoint(reg, state, entries, bytes)?),
    };
    if let Some(b) = base
        && b.seq == head
    {
        return Err(ExportError::NothingNew { seq: head });
    }
    Ok(base)
}

/// Entry `n` of this ledger as a base.
fn base_at(entries: &[Seen], n: u64, head: u64) -> Result<Point, ExportError> {
    if n > head {
        return Err(ExportError::PastHead { seq: n, head });
    }
    Ok(Point {
        head: entries[n as usize].id,
        seq: n,
    })
}

/// The entry a receiving site's checkpoint names, if it is one of this ledger's, signed by the
/// key that signed that entry (FORMAT.md §6, §11.9).
fn base_of_checkpoint(
    reg: &Registry,
    state: &State,
    entries: &[Seen],
    bytes: &[u8],
) -> Result<Point, ExportError> {
    let foreign = |m: String| Err(ExportError::Foreign(m));
    let (env, cp) = match checkpoint::parse(bytes) {
        Ok(parsed) => parsed,
        Err(e) => return foreign(format!("not a checkpoint: {}", echo(&e.to_string()))),
    };
    if cp.registry != *reg.id() {
        return foreign(format!(
            "it names registry {}, this is registry {}",
            cp.registry,
            reg.id()
        ));
    }
    let Some(ours) = entries.get(cp.seq as usize) else {
        return foreign(format!(
            "it names entry {}, past this registry's head (entry {}): a history this registry does not have",
            cp.seq,
            entries.len() - 1
        ));
    };
    if ours.id != cp.head {
        return foreign(format!(
            "at entry {} it names {}, where this ledger has {}: a fork",
            cp.seq, cp.head, ours.id
        ));
    }
    if let Err(e) = ledger::verify_checkpoint_signature(&env, state, &ours.actor) {
        return foreign(format!(
            "its signature does not verify with the key that signed entry {} ({e})",
            cp.seq
        ));
    }
    Ok(Point {
        head: cp.head,
        seq: cp.seq,
    })
}

/// The objects a site holding exactly `entries` (a ledger prefix) has (FORMAT.md §11.2): the
/// entries, every record they register, and the artifacts of every model not purged.
pub(super) fn holds(entries: &[Seen]) -> HashSet<ObjectId> {
    let purged: HashSet<ObjectId> = entries.iter().filter_map(|e| e.purged).collect();
    let mut out = HashSet::new();
    for e in entries {
        out.insert(e.id);
        if let Some((record, artifacts)) = &e.add {
            out.insert(*record);
            if !purged.contains(record) {
                out.extend(artifacts.iter().copied());
            }
        }
    }
    out
}
