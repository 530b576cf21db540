//! Why a transfer file is refused by this registry (FORMAT.md §11.8): one error for every
//! step of a receive, each saying what in the file is wrong. Nothing in the registry has changed
//! when one is returned.

use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
use crate::format::transfer::TransferError;
use crate::repo::ledger::EntryProblem;
use crate::repo::registry::RegistryError;
use crate::repo::store::StoreError;
use crate::util::fsutil::IoError;

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
