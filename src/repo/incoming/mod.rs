//! Receiving another site's history from a transfer file (FORMAT.md §11.8): everything in the
//! file is checked against this registry's own pinned root and ledger before anything in the
//! registry changes, then committed with the protocol every write uses.
//!
//! [`Transaction::receive`] streams the file once. It places the incoming history after the
//! local head (refusing another registry's history, a rollback, a fork or a gap), verifies each
//! new entry in order exactly as a replay does (position, signer trusted for the kind at that
//! point, signature, the kind's rules, an `add`'s record), stages every new object in `tmp/`
//! as its hash is checked, checks that the objects are exactly those the new entries reach and
//! the site lacks, and checks the carried checkpoint against the state the entries give.
//! [`Transaction::accept`] then commits: objects, index, ledger, the carried checkpoint last.
//! Dropping an [`Incoming`] instead deletes what it staged: a refused file leaves the registry
//! as it was.

use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
use crate::format::transfer::{Header, Reader};
use crate::repo::ledger::{self, LedgerError, Verified};
use crate::repo::registry::transaction::{Commit, Touched, Transaction};
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::trust::PinStatus;
use crate::state::State;
use std::collections::BTreeMap;
use std::io::Read;
use tempfile::TempPath;

mod error;
mod receiver;

pub use error::ImportError;
pub(in crate::repo) use receiver::{Receiver, Start};

/// Whether [`Transaction::receive`] keeps what it checks for a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receive {
    /// Stage every new object in `tmp/` for [`Transaction::accept`].
    Stage,
    /// Check everything, staging only the entries and records the checks read back; artifacts
    /// stream through their hash check and are dropped (`reg import --dry-run`).
    DryRun,
}

/// A transfer file checked against this registry and staged, not yet committed. Dropping it
/// deletes what it staged.
#[derive(Debug)]
pub struct Incoming {
    header: Header,
    pub(in crate::repo) new_ids: Vec<ObjectId>,
    pub(in crate::repo) state: State,
    pub(in crate::repo) checkpoint: Vec<u8>,
    touched: Touched,
    pub(in crate::repo) staged: Vec<(ObjectId, TempPath)>,
    kinds: BTreeMap<&'static str, u64>,
    key_reasons: BTreeMap<Fingerprint, String>,
    already: u64,
    purged: Vec<ObjectId>,
    objects: u64,
}

impl Incoming {
    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The state after the last incoming entry (verified, not committed).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The new entries' ids, in seq order.
    pub fn new_entries(&self) -> &[ObjectId] {
        &self.new_ids
    }

    /// How many new entries of each kind.
    pub fn kinds(&self) -> &BTreeMap<&'static str, u64> {
        &self.kinds
    }

    /// The reason of the last new entry that trusts, withdraws a role from or revokes each
    /// key: why its trust changes, for `reg import` to say beside the key.
    pub fn key_reasons(&self) -> &BTreeMap<Fingerprint, String> {
        &self.key_reasons
    }

    /// Entries the file carries that this site already had (an export from an older base).
    pub fn already_had(&self) -> u64 {
        self.already
    }

    /// New objects staged for the store (entries, records, artifacts; 0 in a dry run's count of
    /// artifacts).
    pub fn objects(&self) -> u64 {
        self.objects
    }

    /// Artifact objects that purges among the new entries destroy and nothing else reaches:
    /// deleted after the commit, as at the home site (FORMAT.md §5.10, §11.2).
    pub fn purged_objects(&self) -> &[ObjectId] {
        &self.purged
    }
}

impl Transaction<'_> {
    /// Reads and checks a transfer file against this registry (FORMAT.md §11.8, steps 2 to 6),
    /// changing nothing in it but staging files in `tmp/`, which the returned value owns.
    /// `None`: the file's history is this site's, up to this site's head or an older point of
    /// it, so there is nothing to import (git's "Already up to date"); the rest of the file is
    /// not read.
    pub fn receive<R: Read>(
        &self,
        mut reader: Reader<R>,
        mode: Receive,
    ) -> Result<Option<Incoming>, ImportError> {
        let reg = self.reg;
        if reg.pin == PinStatus::Unpinned {
            return Err(ImportError::Unpinned(*reg.id()));
        }
        let header = reader.header().clone();
        if header.registry != *reg.id() {
            return Err(ImportError::Foreign {
                ours: *reg.id(),
                theirs: header.registry,
            });
        }
        let local = self.state();
        let (mut local_ids, _) = ledger::read_ids(&reg.dot.join("ledger")).map_err(reg_err)?;
        local_ids.truncate(local.seq() as usize + 1);
        if local_ids.last() != Some(&local.head()) {
            // The state was verified against this file a moment ago; only a concurrent editor
            // could change it.
            return Err(ImportError::Registry(
                LedgerError::Checkpoint("the ledger file changed while it was read".into()).into(),
            ));
        }
        if !place(reg, &header, reader.entry_ids(), &local_ids)? {
            return Ok(None);
        }
        let start = Start {
            next: 0,
            last_actor: None,
        };
        let mut rx = Receiver::new(
            reg,
            local,
            &local_ids,
            &header,
            reader.entry_ids().to_vec(),
            mode,
            start,
        );
        let task = crate::util::progress::task("importing", Some(header.bytes));
        while let Some(frame) = reader.next_frame()? {
            rx.frame(&mut reader, frame)?;
            task.advance(frame.len);
        }
        let checkpoint = reader.checkpoint().to_vec();
        rx.finish(header, checkpoint).map(Some)
    }

    /// Commits a received transfer (FORMAT.md §6): its objects, the index, the ledger lines,
    /// and the carried checkpoint, the commit point; the host record, the refs and the deletion
    /// of what its purges destroy after it.
    pub fn accept(mut self, incoming: Incoming) -> Result<Verified<State>, RegistryError> {
        let reg = self.reg;
        let Incoming {
            new_ids,
            state,
            checkpoint,
            touched,
            staged,
            purged,
            ..
        } = incoming;
        for (id, _) in &staged {
            check_object_path(&reg.store.path(id))?;
        }
        let mut state = state;
        let index = state.index_files();
        let commit = Commit {
            seq_before: self.state().seq(),
            state: &state,
            index: &index,
            ids: &new_ids,
            touched: &touched,
            doomed: &purged,
        };
        let expected = ObjectId::of(&index.root);
        reg.write_commit(
            commit,
            self.open_window()?,
            || {
                for (id, path) in staged {
                    reg.store.commit_path(path, &id)?;
                }
                Ok(())
            },
            |hash| {
                if hash != expected {
                    return Err(LedgerError::Checkpoint(
                        "the state written is not the state received".into(),
                    )
                    .into());
                }
                Ok(checkpoint)
            },
        )?;
        Ok(Verified::new(state))
    }
}

fn reg_err(e: LedgerError) -> ImportError {
    ImportError::Registry(e.into())
}

/// Places the file's history against this site's (FORMAT.md §11.8 step 3): its base must be an
/// entry this site has, every entry it lists that this site has must be the same; `false` if it
/// does not reach past this site's head (nothing to import).
fn place(
    reg: &Registry,
    header: &Header,
    ids: &[ObjectId],
    local_ids: &[ObjectId],
) -> Result<bool, ImportError> {
    let local = local_ids.len() as u64 - 1;
    let kind_at = |seq: u64| {
        ledger::read_entry(&reg.store, &local_ids[seq as usize])
            .ok()
            .map(|e| e.body.kind().name())
    };
    if let Some(base) = header.base {
        if base.seq > local {
            return Err(ImportError::Gap {
                base: base.seq,
                local,
            });
        }
        if local_ids[base.seq as usize] != base.head {
            return Err(ImportError::Fork {
                seq: base.seq,
                local: local_ids[base.seq as usize],
                incoming: base.head,
                at_or_before: true,
                local_kind: kind_at(base.seq),
            });
        }
    }
    let first = header.first_seq();
    for (i, id) in ids.iter().enumerate() {
        let seq = first + i as u64;
        if seq > local {
            break;
        }
        if local_ids[seq as usize] != *id {
            return Err(ImportError::Fork {
                seq,
                local: local_ids[seq as usize],
                incoming: *id,
                at_or_before: false,
                local_kind: kind_at(seq),
            });
        }
    }
    // Every entry the file lists up to this site's head is this site's: a file of history
    // this site already holds, the same checkpoint or an older one of it.
    Ok(header.head.seq > local)
}

/// Before a commit writes anything: a new object's fan-out directory must be a directory (or
/// absent), and its own path absent, a regular file or a link (a rename replaces those as
/// names); a directory or special file planted there would stop the commit halfway.
fn check_object_path(dest: &std::path::Path) -> Result<(), RegistryError> {
    if let Some(fan) = dest.parent() {
        crate::repo::layout::check_dir(fan)?;
    }
    if let Ok(meta) = std::fs::symlink_metadata(dest) {
        let ft = meta.file_type();
        if !ft.is_file() && !ft.is_symlink() {
            return Err(crate::repo::layout::LayoutError {
                path: dest.to_path_buf(),
                found: crate::util::fsutil::describe(&ft),
                expected: "regular file",
            }
            .into());
        }
    }
    Ok(())
}
