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
use crate::format::transfer::{Header, Reader, TransferError};
use crate::repo::ledger::{self, EntryProblem, LedgerError, Verified};
use crate::repo::registry::transaction::{Commit, Touched, Transaction};
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::store::StoreError;
use crate::repo::trust::PinStatus;
use crate::state::State;
use crate::util::fsutil::IoError;
use std::collections::BTreeMap;
use std::io::Read;
use tempfile::TempPath;

mod receiver;

pub(in crate::repo) use receiver::{Receiver, Start};

/// Why a transfer file is refused by this registry. Nothing in the registry has changed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file itself is malformed, truncated, corrupt or over a limit.
    #[error(transparent)]
    Transfer(#[from] TransferError),
    /// The registry refused (lock, verification, I/O).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Not pinned on this host.
    #[error(
        "registry {0} is not pinned on this host: an import is checked against this host's pin of the receiving registry"
    )]
    Unpinned(ObjectId),
    /// A clone (or a reset) from a transfer that is not a full export.
    #[error("a {what} starts from a full export, and this transfer file starts after entry {base}")]
    NotFull {
        /// The file's base seq.
        base: u64,
        /// "clone" or "reset".
        what: &'static str,
    },
    /// A reset (`reg import --reset`) of a registry that is not marked a replica, without the
    /// operator saying it is one (`--replica`).
    #[error(
        "{} is not marked a replica (it has no `replica` marker): a reset would replace its history, and at the home site that history is the only copy",
        .0.display()
    )]
    NotReplica(std::path::PathBuf),
    /// A reset at a marked replica whose file does not hold the checkpoint this host verified
    /// last: a replica writes nothing itself, so everything it verified came from home, and a
    /// reset that dropped it would undo home's own entries (a revocation, a denial) for whoever
    /// offers an older branch.
    #[error(
        "this replica holds entries this host verified up to entry {seen_seq} ({seen_head}) that the file does not (it ends at entry {found_seq}): a reset at a replica never drops what it received from the home site"
    )]
    WouldDrop {
        /// The checkpoint this host verified last.
        seen_seq: u64,
        /// Its head entry.
        seen_head: ObjectId,
        /// The file's head seq.
        found_seq: u64,
    },
    /// A reset (`reg import --reset`) that put the new history in place, then failed in a step
    /// after the swap: the replaced registry is kept whole at `kept`, never removed.
    #[error(
        "reset done; the replaced registry is kept at {}, as a step after the swap failed: {source}",
        .kept.display()
    )]
    ResetKept {
        /// Where the old registry is.
        kept: std::path::PathBuf,
        /// The step that failed.
        source: crate::util::fsutil::IoError,
    },
    /// A clone whose history is older than, or diverges from, the one this host verified: a
    /// replica of the registry on this host forked, or the medium is old.
    #[error(
        "the medium's checkpoint (entry {found_seq}, head {found_head}) is older than or diverges from the one this host verified (entry {seen_seq}, head {seen_head}){}: refusing a rolled-back or forked registry",
        .pinned.as_ref().map(|p| format!(" at `{p}`")).unwrap_or_default()
    )]
    BehindThisHost {
        /// Seq found.
        found_seq: u64,
        /// Head found.
        found_head: ObjectId,
        /// Seq this host verified.
        seen_seq: u64,
        /// Head this host verified.
        seen_head: ObjectId,
        /// Where this host's pin says its copy of the registry is.
        pinned: Option<String>,
    },
    /// A clone with no root to check the history against.
    #[error(
        "no root key is trusted for registry {registry}: its genesis is signed by {root}, which is not pinned on this host and was not given with --trust"
    )]
    NoPin {
        /// The registry the medium carries.
        registry: ObjectId,
        /// The root fingerprint its genesis names (unverified: the medium says so).
        root: Fingerprint,
    },
    /// Another registry's history.
    #[error(
        "the transfer file carries the history of registry {theirs}, not of this registry ({ours})"
    )]
    Foreign {
        /// This registry's id.
        ours: ObjectId,
        /// The file's.
        theirs: ObjectId,
    },
    /// A reset (`reg import --reset`) to a history this site already holds, older than its
    /// head: it replaces a diverged history, never goes back on the same one. (An import of a
    /// file whose history this site has is no error: nothing to do.)
    #[error(
        "rollback refused: the transfer file ends at entry {incoming} ({incoming_head}), and this site already has history up to entry {local} ({local_head})"
    )]
    Rollback {
        /// The file's head seq.
        incoming: u64,
        /// The file's head id.
        incoming_head: ObjectId,
        /// This site's head seq.
        local: u64,
        /// This site's head id.
        local_head: ObjectId,
    },
    /// The file's history and this site's differ.
    #[error(
        "fork refused: at entry {seq}{}, this site has {local}{} and the transfer file has {incoming}",
        if *.at_or_before { " (or before it)" } else { "" },
        .local_kind.map(|k| format!(" (a `{k}` entry)")).unwrap_or_default()
    )]
    Fork {
        /// The first seq at which the two histories are known to differ.
        seq: u64,
        /// This site's entry id there.
        local: ObjectId,
        /// The file's.
        incoming: ObjectId,
        /// Whether the histories may differ earlier (only the file's base was compared).
        at_or_before: bool,
        /// The kind of this site's entry there, when it is a readable entry.
        local_kind: Option<&'static str>,
    },
    /// The file starts after this site's head.
    #[error(
        "the transfer file starts after entry {base}, but this site's history ends at entry {local}: entries {} to {base} are missing",
        .local + 1
    )]
    Gap {
        /// The file's base seq.
        base: u64,
        /// This site's head seq.
        local: u64,
    },
    /// An incoming entry is refused.
    #[error("entry {seq} ({id}) of the transfer file: {problem}")]
    Entry {
        /// Its seq.
        seq: u64,
        /// Its id.
        id: ObjectId,
        /// What is wrong.
        problem: EntryProblem,
    },
    /// The history the file brings is stale under its policy, or dated past this host's clock
    /// (FORMAT.md §6.1): importing it would give a registry no reader here accepts.
    #[error("the transfer file's history {0}")]
    Stale(crate::state::Staleness),
    /// An object the new entries reach and this site lacks is not in the file.
    #[error(
        "the transfer file lacks {kind} {id}, which its entries reach and this site does not have"
    )]
    Missing {
        /// What it is.
        kind: &'static str,
        /// Its id.
        id: ObjectId,
    },
    /// An object the new history does not reach (or not as the kind its frame says).
    #[error("object frame {index} ({kind} {id}) is not an object the transfer's history reaches")]
    Extra {
        /// The frame's position.
        index: u64,
        /// The kind its frame names.
        kind: &'static str,
        /// Its id.
        id: ObjectId,
    },
    /// An artifact frame whose length is not the size a record listing it states (FORMAT.md
    /// §11.7): refused by its header, before any of its bytes are read.
    #[error(
        "object frame {index} (artifact {id}) announces {len} bytes, but the record that lists it states {}: refused before any of its bytes are read",
        sizes(.stated)
    )]
    Length {
        /// The frame's position.
        index: u64,
        /// The artifact.
        id: ObjectId,
        /// The length the frame announces.
        len: u64,
        /// The sizes the records listing it state (one, unless two records disagree).
        stated: Vec<u64>,
    },
    /// A verified record, read again for the artifact sizes it states, no longer parses.
    #[error("record {record}, read for the sizes of its artifacts, cannot be read: {detail}")]
    UnreadableRecord {
        /// The record.
        record: ObjectId,
        /// Why.
        detail: String,
    },
    /// The carried checkpoint does not vouch for the state the entries give.
    #[error("the transfer file's checkpoint: {0}")]
    Checkpoint(String),
    /// Staging an object failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// I/O failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

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
        let commit = Commit {
            seq_before: self.state().seq(),
            state: &state,
            ids: &new_ids,
            touched: &touched,
            doomed: &purged,
        };
        let expected = state.hash();
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

/// The sizes in a [`ImportError::Length`] message: `9`, `9 or 12`, or none.
fn sizes(stated: &[u64]) -> String {
    match stated {
        [] => "no size".into(),
        s => s
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" or "),
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
