//! The error of registry-level operations: opening, reading on this host, and writing.

use crate::crypto::envelope::EnvelopeError;
use crate::format::entry::EntryError;
use crate::format::id::ObjectId;
use crate::repo::ledger::LedgerError;
use crate::repo::store::{Store, StoreError};
use crate::repo::trust::{self, HostStateError, TrustError};
use crate::state::{FORMAT_VERSION, StateError};
use crate::util::encoding;
use crate::util::fsutil::IoError;
use std::path::PathBuf;

/// Errors of registry-level operations.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No registry where one was looked for.
    #[error("no registry found {0}")]
    NotFound(String),
    /// `reg init` where a registry exists.
    #[error("a registry already exists at `{0}`")]
    AlreadyExists(PathBuf),
    /// `reg init` or `reg clone` inside another registry's `.registry` directory.
    #[error(
        "`{0}` is inside a registry's `.registry` directory: a registry made there would not be found (from inside it, the registry is the outermost `.registry`), and is not part of that registry's layout"
    )]
    InsideRegistry(PathBuf),
    /// A write that would append to a replica's ledger (FORMAT.md §11.14): the replica would
    /// fork from the home site, and refuse the home site's next export.
    #[error(
        "`{0}` is a replica of the home site (made by `reg clone`): it takes its history only from the home site, and an entry written here would fork it"
    )]
    Replica(PathBuf),
    /// A registry written by a newer reg.
    #[error(
        "registry at `{path}` has format version {found}, but this reg reads only version {FORMAT_VERSION} or older"
    )]
    NewerFormat {
        /// The registry.
        path: PathBuf,
        /// The version found.
        found: u64,
    },
    /// `config.json` is malformed or disagrees with the ledger.
    #[error("`{path}`: {detail}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// An object the registry names is missing, corrupt or not what it should be.
    #[error("`{path}`: {detail}")]
    CorruptObject {
        /// The object.
        id: ObjectId,
        /// The file the message names (the object's, or the file that names it).
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Another writer holds the lock.
    #[error("registry is busy: another reg process has held `{0}` for more than {1} s")]
    Busy(PathBuf, u64),
    /// The lock on the registry directory that gives every reader one committed state (FORMAT.md
    /// §6) could not be taken, by a reader or by a writer for its commit window.
    #[error("cannot lock `{path}` {what}: {source}")]
    Unlockable {
        /// The registry directory.
        path: PathBuf,
        /// "to read it" or "to commit".
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The registry's history does not reach the minimum head its pin carries.
    #[error(
        "the registry's history does not contain {floor}, which its pin on this host requires (it has {found}): refusing a truncated or diverging medium"
    )]
    BelowFloor {
        /// The pin's floor.
        floor: trust::Floor,
        /// What the registry has instead.
        found: String,
    },
    /// The registry is stale under its policy, or dated past this host's clock (FORMAT.md §6.1).
    #[error("the registry {0}")]
    Stale(crate::state::Staleness),
    /// The registry is older than, or diverges from, what this host verified before.
    #[error(
        "the registry's checkpoint (entry {found_seq}, head {found_head}) is older than or diverges from the one this host verified (entry {seen_seq}, head {seen_head}): refusing a rolled-back or forked registry"
    )]
    RolledBack {
        /// Seq found.
        found_seq: u64,
        /// Head found.
        found_head: ObjectId,
        /// Seq seen before.
        seen_seq: u64,
        /// Head seen before.
        seen_head: ObjectId,
    },
    /// The action breaks a rule of the registry.
    #[error(transparent)]
    Refused(#[from] StateError),
    /// The ledger does not verify.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Pinned trust refuses the registry (boxed: the variant is large and rare).
    #[error(transparent)]
    Trust(Box<TrustError>),
    /// The object store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing failed.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// An entry could not be encoded.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// Encoding failed (a bad `SOURCE_DATE_EPOCH`, ...).
    #[error(transparent)]
    Encoding(#[from] encoding::EncodingError),
    /// I/O failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A link or special file where the registry layout has a directory or file.
    #[error(transparent)]
    Layout(#[from] crate::repo::layout::LayoutError),
    /// The host cannot keep its record of the verified checkpoint.
    #[error(transparent)]
    HostState(#[from] HostStateError),
}

impl From<TrustError> for RegistryError {
    fn from(e: TrustError) -> Self {
        RegistryError::Trust(Box::new(e))
    }
}

impl RegistryError {
    /// A corrupt or wrong object `id` of `store`, the message saying what is wrong.
    pub fn corrupt_object(store: &Store, id: &ObjectId, detail: String) -> RegistryError {
        RegistryError::CorruptObject {
            id: *id,
            path: store.path(id),
            detail,
        }
    }
}
