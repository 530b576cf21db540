//! A replica (FORMAT.md §11.14): a registry made by `reg clone`, which takes its history from
//! the home site only, as a git clone knows its upstream.
//!
//! `reg clone` writes the marker `.registry/replica`. Every write that would append an entry to a
//! replica's ledger is refused ([`RegistryError::Replica`]): such an entry forks the replica
//! from home, and home's next export is then refused by it. Drift goes home through the outbox
//! instead (§11.10), everything else is done at home and imported.
//!
//! The marker is local and unsigned, and so is safe to lose or forge: a medium's holder who
//! deletes it only lets the operator fork the replica by mistake (which import then refuses, as
//! without it), and one who plants it only stops writes. No trust decision rests on it.
//!
//! [`Registry::reset_from`] is the deliberate way back for a replica that forked anyway (or was
//! forked before the marker existed): the operator's explicit `reg import --reset FULL` verifies
//! the home site's full export from genesis against this host's pin, as a clone does, and puts it
//! in place of the local history, which is kept under `.registry/replaced/`, outbox preserved.

use crate::format::id::ObjectId;
use crate::format::transfer::Reader;
use crate::repo::clone::{Staged, first_entry, stage};
use crate::repo::incoming::ImportError;
use crate::repo::layout::{OBJECTS, OUTBOX, REPLACED, REPLICA};
use crate::repo::ledger::{self, Verified};
use crate::repo::registry::{OpenOptions, Registry, RegistryError};
use crate::repo::trust::Seen;
use crate::state::State;
use crate::util::fsutil::{IoContext, IoError, fsync_dir};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What `reg import --reset` did.
#[derive(Debug)]
pub enum Reset {
    /// The file's history is this registry's: nothing to replace, nothing changed.
    UpToDate {
        /// The head's seq.
        seq: u64,
        /// The head.
        head: ObjectId,
    },
    /// The local history was replaced by the file's.
    Replaced(Box<Replaced>),
}

/// A history replaced by the home site's.
#[derive(Debug)]
pub struct Replaced {
    /// The state of the history now in place (verified from genesis).
    pub state: Verified<State>,
    /// The entries both histories share (entries `0 .. common`), kept.
    pub common: u64,
    /// The local entries after them, replaced (in seq order; none if the file only extends this
    /// registry's history).
    pub replaced: Vec<ObjectId>,
    /// Where the replaced history went: its `ledger`, `checkpoint`, and every object the new
    /// history lacks (`None` when nothing was replaced).
    pub aside: Option<PathBuf>,
    /// Objects moved there.
    pub objects_kept: u64,
    /// Whether an outbox was carried over.
    pub outbox: bool,
}

impl Registry {
    /// Whether this registry is marked as a replica of a home site (FORMAT.md §11.14). What the
    /// marker holds does not matter: an unreadable one still marks a replica.
    pub fn is_replica(&self) -> bool {
        fs::symlink_metadata(self.dot.join(REPLICA)).is_ok()
    }

    /// Refuses a write that would append to a replica's ledger.
    pub(in crate::repo) fn refuse_at_replica(&self) -> Result<(), RegistryError> {
        if self.is_replica() {
            return Err(RegistryError::Replica(self.dot.clone()));
        }
        Ok(())
    }

    /// Replaces this registry's history with the one the full transfer `reader` carries
    /// (`reg import --reset`, FORMAT.md §11.14), at the operator's explicit request: the file
    /// is verified from genesis against this host's pin of the registry, as `reg clone`
    /// verifies it; then it is put in place of the local registry in one rename, the local
    /// history kept under `.registry/replaced/`, the outbox carried over, the registry marked
    /// a replica and this host's record of the verified checkpoint moved to the new head.
    ///
    /// It never goes back to an older checkpoint of the history this registry or this host
    /// verified: only to another branch, which is what the operator asks for. A registry
    /// without the marker is refused unless `unmarked` (the operator's `--replica`: it is a
    /// replica copied by hand or cloned by an older reg): at the home site a reset would
    /// replace the only copy of home's history. At a marked replica `unmarked` changes nothing.
    pub fn reset_from<R: Read>(
        &self,
        mut reader: Reader<R>,
        opts: &OpenOptions,
        unmarked: bool,
    ) -> Result<Reset, ImportError> {
        // Marked on the medium, or by this host when it made the replica: the medium's holder
        // can delete the one, not the other.
        let marked = self.is_replica() || self.host.made_replica(self.id());
        if !unmarked && !marked {
            return Err(ImportError::NotReplica(self.dot.clone()));
        }
        // `--replica` says an unmarked registry is a replica; it never relaxes the rule of a
        // marked one, whose verified history all came from home.
        let unmarked = unmarked && !marked;
        let header = reader.header().clone();
        if header.registry != *self.id() {
            return Err(ImportError::Foreign {
                ours: *self.id(),
                theirs: header.registry,
            });
        }
        if let Some(base) = header.base {
            return Err(ImportError::NotFull {
                base: base.seq,
                what: "reset",
            });
        }
        let _lock = self.lock()?;
        crate::repo::layout::check_skeleton(&self.dot).map_err(RegistryError::from)?;
        // The local history is only compared, never trusted: the new one is verified from
        // genesis, and what refuses a rollback is this host's record, outside the medium.
        let (_, cp) =
            ledger::read_checkpoint(&self.dot.join("checkpoint")).map_err(RegistryError::from)?;
        let (mut local, _) =
            ledger::read_ids(&self.dot.join("ledger")).map_err(RegistryError::from)?;
        local.truncate(cp.seq as usize + 1);
        let new = reader.entry_ids().to_vec();
        let common = new.iter().zip(&local).take_while(|(a, b)| a == b).count();
        if common == new.len() {
            if new.len() == local.len() {
                return Ok(Reset::UpToDate {
                    seq: header.head.seq,
                    head: header.head.head,
                });
            }
            return Err(ImportError::Rollback {
                incoming: header.head.seq,
                incoming_head: header.head.head,
                local: cp.seq,
                local_head: cp.head,
            });
        }
        let previous = self.host.load(self.id()).map_err(RegistryError::from)?;
        if let Some(seen) = &previous {
            self.not_back_on_seen(seen, &new, &local, &header, unmarked)?;
        }
        let parent = self.dot.parent().filter(|p| !p.as_os_str().is_empty());
        let parent = fs::canonicalize(parent.unwrap_or(Path::new(".")))
            .ctx("resolve", parent.unwrap_or(Path::new(".")))?;
        let first = first_entry(&mut reader, &header, opts)?;
        let staged = stage(reader, &parent, first, &header, opts)?;
        crate::repo::clone::check_pin_floor(&staged.registry, &staged.state)?;
        self.host.ensure_writable().map_err(RegistryError::from)?;
        let _window = self.commit_window()?;
        let replaced = self.swap(staged, previous, &local[common..], &cp)?;
        Ok(Reset::Replaced(Box::new(Replaced {
            common: common as u64,
            ..replaced
        })))
    }

    /// Refuses a history that is an older point of the one this host verified last: the host's
    /// record must be in the new history. Only for a registry the operator says is a replica
    /// that forked (`--replica`: unmarked, written by an older reg or by hand) may it instead be
    /// the local history's, which the reset then drops (its ledger must still hash as it did
    /// when verified). A marked replica writes nothing itself: what this host verified there
    /// came from home, and dropping it would let an older branch, signed by any key that was
    /// valid then, undo home's later entries (FORMAT.md §11.14).
    fn not_back_on_seen(
        &self,
        seen: &Seen,
        new: &[ObjectId],
        local: &[ObjectId],
        header: &crate::format::transfer::Header,
        unmarked: bool,
    ) -> Result<(), ImportError> {
        if new.get(seen.seq as usize) == Some(&seen.head) {
            return Ok(());
        }
        if !unmarked {
            return Err(ImportError::WouldDrop {
                seen_seq: seen.seq,
                seen_head: seen.head,
                found_seq: header.head.seq,
            });
        }
        let local_is_seen = local.get(seen.seq as usize) == Some(&seen.head)
            && (seen.ledger.is_none() || self.ledger_digest(seen.seq) == seen.ledger);
        if !local_is_seen {
            return Err(RegistryError::RolledBack {
                found_seq: header.head.seq,
                found_head: header.head.head,
                seen_seq: seen.seq,
                seen_head: seen.head,
            }
            .into());
        }
        Ok(())
    }

    /// Puts the staged registry in place of this one, then moves the outbox, earlier replaced
    /// histories and this one's ledger, checkpoint and objects the new store lacks into it.
    fn swap(
        &self,
        staged: Staged,
        previous: Option<Seen>,
        replaced: &[ObjectId],
        cp: &ledger::Checkpoint,
    ) -> Result<Replaced, ImportError> {
        let seen = Seen {
            head: staged.state.head(),
            seq: staged.state.seq(),
            state: staged.state.hash(),
            ledger: staged.registry.ledger_digest(staged.state.seq()),
        };
        let Staged {
            staging,
            registry: _,
            state,
            swept: _,
            _held,
        } = staged;
        let dot = &self.dot;
        // This host now holds a replica of the registry, whatever becomes of the medium's
        // marker (the operator said so by resetting).
        self.host
            .mark_replica(self.id())
            .map_err(RegistryError::from)?;
        // Recorded first: a crash after the swap must not leave the new history refused as a
        // fork of the old one. Put back if the swap fails.
        self.host
            .replace(self.id(), Some(&seen))
            .map_err(RegistryError::from)?;
        if let Err(e) = exchange(staging.path(), dot) {
            let _ = self.host.replace(self.id(), previous.as_ref());
            return Err(e.into());
        }
        // `staging` now names the old registry. From here on the reset is done and nothing of
        // the old registry is removed on an error: its history may be the only copy of entries
        // written here, and its outbox the only copy of drift not yet sent home.
        let old = staging.keep();
        let name = format!("{}-{}", cp.seq, &cp.head.to_string()[..16]);
        let aside = dot.join(REPLACED).join(&name);
        if let Err(source) = keep_whole(&old, dot, &aside) {
            // Under a name no sweep of staging leftovers removes, where the system lets us.
            let parent = old.parent().unwrap_or(Path::new("."));
            let named = parent.join(format!(".registry-replaced-{name}"));
            let kept = if fs::symlink_metadata(&named).is_err() && fs::rename(&old, &named).is_ok()
            {
                named
            } else {
                old
            };
            return Err(ImportError::ResetKept { kept, source });
        }
        let kept_err = |source: IoError| ImportError::ResetKept {
            kept: aside.clone(),
            source,
        };
        let mut outbox = false;
        if fs::symlink_metadata(aside.join(OUTBOX)).is_ok_and(|m| m.is_dir()) {
            crate::util::fsutil::failpoint_error("reset:outbox")
                .ctx("move the outbox to", dot)
                .map_err(kept_err)?;
            fs::rename(aside.join(OUTBOX), dot.join(OUTBOX))
                .ctx("move the outbox to", dot)
                .map_err(kept_err)?;
            outbox = true;
            fsync_dir(dot).map_err(kept_err)?;
        }
        // Earlier replaced histories go beside this one; one that cannot be moved stays inside
        // it, kept all the same.
        if let Ok(earlier) = fs::read_dir(aside.join(REPLACED)) {
            for e in earlier.flatten() {
                let to = dot.join(REPLACED).join(e.file_name());
                if fs::symlink_metadata(&to).is_err() {
                    let _ = fs::rename(e.path(), to);
                }
            }
            let _ = fs::remove_dir(aside.join(REPLACED));
        }
        let (aside, objects_kept) = if replaced.is_empty() {
            // Nothing replaced: what is left is the new registry's already.
            let _ = crate::util::mount::remove_tree(&aside);
            (None, 0)
        } else {
            let kept = prune(&aside, &dot.join(OBJECTS));
            (Some(aside), kept)
        };
        let _ = fsync_dir(&dot.join(REPLACED));
        Ok(Replaced {
            state: Verified::new(state),
            common: 0,
            replaced: replaced.to_vec(),
            aside,
            objects_kept,
            outbox,
        })
    }
}

/// Moves the whole old registry `old` to `aside` in the new registry `dot` in one rename, so
/// that it is kept as one tree before anything is taken out of it.
fn keep_whole(old: &Path, dot: &Path, aside: &Path) -> Result<(), IoError> {
    let replaced = dot.join(REPLACED);
    fs::create_dir_all(&replaced).ctx("create", &replaced)?;
    crate::util::fsutil::failpoint_error("reset:keep")
        .ctx("keep the replaced registry in", aside)?;
    fs::rename(old, aside).ctx("keep the replaced registry in", aside)?;
    fsync_dir(&replaced)?;
    fsync_dir(dot)?;
    Ok(())
}

/// Leaves in the kept registry `aside` only its `ledger`, `checkpoint` and the objects the new
/// store `new` lacks (laid out as a store); returns how many objects stay. Best effort: what
/// cannot be removed is kept, which loses nothing.
fn prune(aside: &Path, new: &Path) -> u64 {
    use crate::util::mount::remove_tree;
    if let Ok(top) = fs::read_dir(aside) {
        for e in top.flatten() {
            let n = e.file_name();
            if n == "ledger" || n == "checkpoint" || n == OBJECTS {
                continue;
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = remove_tree(&e.path());
            } else {
                let _ = fs::remove_file(e.path());
            }
        }
    }
    let mut kept = 0;
    // Never through a link: the kept tree came from the medium.
    let objects = aside.join(OBJECTS);
    if !fs::symlink_metadata(&objects).is_ok_and(|m| m.is_dir()) {
        return 0;
    }
    let Ok(fans) = fs::read_dir(&objects) else {
        return 0;
    };
    for fan in fans.flatten() {
        if !fan.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(objects) = fs::read_dir(fan.path()) else {
            continue;
        };
        for o in objects.flatten() {
            let rel = Path::new(&fan.file_name()).join(o.file_name());
            if o.file_type().is_ok_and(|t| t.is_file())
                && fs::symlink_metadata(new.join(&rel)).is_ok()
                && fs::remove_file(o.path()).is_ok()
            {
                continue;
            }
            kept += 1;
        }
        let _ = fs::remove_dir(fan.path());
    }
    kept
}

/// Swaps the directories `a` and `b` in one rename where the system can (Linux
/// `renameat2(RENAME_EXCHANGE)`), so that the registry path never lacks a registry; elsewhere
/// in two renames.
fn exchange(a: &Path, b: &Path) -> Result<(), IoError> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => {}
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
            let aside = a.with_extension("old");
            fs::rename(b, &aside).ctx("move aside", b)?;
            if let Err(e) = fs::rename(a, b) {
                let _ = fs::rename(&aside, b);
                return Err(IoError::from_source("rename into place", b, e));
            }
            fs::rename(&aside, a).ctx("move", &aside)?;
        }
        Err(e) => return Err(IoError::from_source("exchange", b, e.into())),
    }
    let parent = b.parent().filter(|p| !p.as_os_str().is_empty());
    fsync_dir(parent.unwrap_or(Path::new(".")))?;
    Ok(())
}
