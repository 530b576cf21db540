//! `reg import`: brings another site's history into this registry from a transfer file
//! (FORMAT.md §11.8), verified against this registry's own pin and ledger before anything
//! changes, then committed atomically; or, with a dry run, says what would change.
//!
//! The checks and the commit are the repository's ([`Transaction::receive`],
//! [`Transaction::accept`], whose commit also deletes the bytes that purges among the new
//! entries destroy, as at the home site); this module opens the file and describes the change
//! for the operator.
//!
//! [`Transaction::receive`]: crate::repo::registry::Transaction::receive
//! [`Transaction::accept`]: crate::repo::registry::Transaction::accept

use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::format::transfer::{Header, Reader};
use crate::repo::incoming::{Incoming, Receive};
use crate::repo::registry::{OpenOptions, Registry};
use crate::state::State;
use crate::util::fsutil::open_regular;
use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::Path;

pub use crate::repo::incoming::ImportError;
pub use crate::repo::replica::{Replaced, Reset};

/// What an import changed, or a dry run would change.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The file's header (registry, base, head).
    pub header: Header,
    /// Whether it was a dry run (nothing changed).
    pub dry_run: bool,
    /// The file brings nothing this site lacks: its history is this site's, up to this site's
    /// head or an older point of it. Nothing changed, nothing else is set.
    pub up_to_date: bool,
    /// The seq of this site's head before.
    pub from_seq: u64,
    /// New entries by kind.
    pub kinds: BTreeMap<&'static str, u64>,
    /// Entries the file carries that this site already had.
    pub already_had: u64,
    /// New objects stored (in a dry run: entries and records only).
    pub objects: u64,
    /// Models registered by the new entries, as `name@version`, with their state at the new
    /// head.
    pub models_added: Vec<(String, LifecycleState)>,
    /// Lifecycle changes of models this site knew: `name@version`, before, after.
    pub state_changes: Vec<(String, LifecycleState, LifecycleState)>,
    /// Slots whose active model changes: slot, before, after (`name@version`).
    pub slot_changes: Vec<(String, Option<String>, Option<String>)>,
    /// Artifact objects deleted because a purge among the new entries destroyed them.
    pub purged: Vec<ObjectId>,
    /// Keys whose trust the new entries change.
    pub keys: Vec<KeyChange>,
    /// The new entries' ids, in seq order from `from_seq + 1`.
    pub entries: Vec<ObjectId>,
}

/// Imports the transfer file `file` into `reg`, or with `dry_run` only checks it and reports
/// what would change. A refused file changes nothing.
pub fn import(reg: &Registry, file: &Path, dry_run: bool) -> Result<Imported, ImportError> {
    // Never through a link, never a FIFO or device: the medium is the attacker's.
    let f = open_regular(file)?;
    import_from(reg, f, dry_run)
}

/// Like [`import`], from a stream read once (`reg import -`: standard input), never held whole.
pub fn import_from(
    reg: &Registry,
    input: impl Read,
    dry_run: bool,
) -> Result<Imported, ImportError> {
    let tx = reg.begin_receive()?;
    let reader = Reader::open(BufReader::with_capacity(1 << 20, input))?;
    let mode = if dry_run {
        Receive::DryRun
    } else {
        Receive::Stage
    };
    let header = reader.header().clone();
    let Some(incoming) = tx.receive(reader, mode)? else {
        return Ok(up_to_date(tx.state(), header, dry_run));
    };
    let mut done = describe(tx.state(), &incoming, dry_run);
    if dry_run {
        return Ok(done);
    }
    // The commit deletes them after its commit point, in its window (FORMAT.md §6); under the
    // writer lock nothing else deletes, so those there now are those it deletes.
    done.purged = incoming
        .purged_objects()
        .iter()
        .filter(|id| std::fs::symlink_metadata(reg.store().path(id)).is_ok())
        .copied()
        .collect();
    tx.accept(incoming)?;
    Ok(done)
}

/// Replaces `reg`'s history with the home site's full export read from `input`, at the
/// operator's explicit request (`reg import --reset`, FORMAT.md §11.14): verified from genesis
/// against this host's pin; the replaced history is kept under `.registry/replaced/`. `reg`
/// must carry the replica marker, or `unmarked` be set (`--replica`: the operator says it is a
/// replica all the same).
pub fn reset(
    reg: &Registry,
    input: impl Read,
    opts: &OpenOptions,
    unmarked: bool,
) -> Result<Reset, ImportError> {
    if !unmarked && !reg.is_replica() {
        return Err(ImportError::NotReplica(reg.path().to_path_buf()));
    }
    let reader = Reader::open(BufReader::with_capacity(1 << 20, input))?;
    reg.reset_from(reader, opts, unmarked)
}

/// Opens `file` for [`reset`] as [`import`] opens it.
pub fn reset_file(
    reg: &Registry,
    file: &Path,
    opts: &OpenOptions,
    unmarked: bool,
) -> Result<Reset, ImportError> {
    if !unmarked && !reg.is_replica() {
        return Err(ImportError::NotReplica(reg.path().to_path_buf()));
    }
    reset(reg, open_regular(file)?, opts, unmarked)
}

/// Nothing to import: the file's history is this site's.
fn up_to_date(before: &State, header: Header, dry_run: bool) -> Imported {
    Imported {
        header,
        dry_run,
        up_to_date: true,
        from_seq: before.seq(),
        kinds: BTreeMap::new(),
        already_had: 0,
        objects: 0,
        models_added: Vec::new(),
        state_changes: Vec::new(),
        slot_changes: Vec::new(),
        purged: Vec::new(),
        keys: Vec::new(),
        entries: Vec::new(),
    }
}

/// The change from this site's state to the incoming one, in the operator's terms.
/// A key whose trust an import changes: what an operator checks before letting a medium's
/// history in, so named as the history names it (FORMAT.md §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    /// The key.
    pub fingerprint: Fingerprint,
    /// Its name at the new head, if a key-trust gave it one.
    pub name: Option<String>,
    /// Its roles at the new head, sorted.
    pub roles: Vec<String>,
    /// Revoked at the new head.
    pub revoked: bool,
    /// The reason of the last new entry that trusts, withdraws a role from or revokes it.
    pub reason: Option<String>,
}

fn describe(before: &State, incoming: &Incoming, dry_run: bool) -> Imported {
    let after = incoming.state();
    let mut models_added = Vec::new();
    let mut state_changes = Vec::new();
    for (id, m) in after.models() {
        match before.models().get(id) {
            None => models_added.push((after.spec(id), m.state)),
            Some(old) if old.state != m.state => {
                state_changes.push((after.spec(id), old.state, m.state));
            }
            Some(_) => {}
        }
    }
    let spec_of = |s: &State, slot: &str| s.slots().get(slot).map(|x| s.spec(&x.model));
    let mut slot_changes = Vec::new();
    let names: std::collections::BTreeSet<&String> =
        before.slots().keys().chain(after.slots().keys()).collect();
    for slot in names {
        let (old, new) = (spec_of(before, slot), spec_of(after, slot));
        if old != new {
            slot_changes.push((slot.clone(), old, new));
        }
    }
    let keys = after
        .keys()
        .iter()
        .filter(|(fp, k)| before.keys().get(*fp) != Some(*k))
        .map(|(fp, k)| KeyChange {
            fingerprint: fp.clone(),
            name: k.name.clone(),
            roles: k.roles.iter().map(|r| r.to_string()).collect(),
            revoked: k.revoked.is_some(),
            reason: incoming.key_reasons().get(fp).cloned(),
        })
        .collect();
    Imported {
        header: incoming.header().clone(),
        dry_run,
        up_to_date: false,
        keys,
        entries: incoming.new_entries().to_vec(),
        from_seq: before.seq(),
        kinds: incoming.kinds().clone(),
        already_had: incoming.already_had(),
        objects: incoming.objects(),
        models_added,
        state_changes,
        slot_changes,
        purged: Vec::new(),
    }
}
