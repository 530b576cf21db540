//! Opening, locking, verifying and writing a registry, and this host's trust in it: the classes
//! and hints of `RegistryError` and `TrustError`, which most other errors carry.
#![deny(clippy::wildcard_enum_match_arm)]

use super::state::{stale, state};
use super::{Class, Judged, Refusal, classified};
use crate::repo::ledger::LedgerError;
use crate::repo::registry::RegistryError;
use crate::repo::trust::{HostStateError, TrustError};

impl From<RegistryError> for Refusal {
    fn from(e: RegistryError) -> Self {
        classified(e, registry)
    }
}

impl From<TrustError> for Refusal {
    fn from(e: TrustError) -> Self {
        classified(e, |e| {
            let class = match e {
                TrustError::Io(_) => Class::IoFailure,
                // What was given (a head code, a seq) or the trust file itself is wrong; a
                // history without the head given is refused as input too (exit 2), as before.
                TrustError::File { .. }
                | TrustError::HeadCode(_)
                | TrustError::LengthOnly(_)
                | TrustError::NotInHistory { .. } => Class::InvalidInput,
                TrustError::RootMismatch { .. }
                | TrustError::Replaced { .. }
                | TrustError::NotTheRoot { .. } => Class::Unpinned,
                TrustError::NoSuchPin { .. } | TrustError::Lock { .. } => Class::Refused,
            };
            (class, Some(trust(e)))
        })
    }
}

pub(super) fn registry(e: &RegistryError) -> Judged {
    match e {
        RegistryError::NotFound(_) => (
            Class::InvalidInput,
            Some("create one with `reg init --root-key ROOT.pem`, or name one with --registry PATH or REG_DIR".into()),
        ),
        RegistryError::AlreadyExists(_) => (
            Class::InvalidInput,
            Some("reg never re-initializes a registry; choose another directory".into()),
        ),
        RegistryError::InsideRegistry(_) => (
            Class::Refused,
            Some("choose a directory outside every `.registry` directory".into()),
        ),
        RegistryError::NewerFormat { .. } => (
            Class::InvalidInput,
            Some("this registry was written by a newer reg; use that version".into()),
        ),
        RegistryError::Busy(..) => (
            Class::Busy,
            Some("wait for the other reg process to finish; REG_LOCK_TIMEOUT sets the wait in seconds".into()),
        ),
        RegistryError::Unlockable { source, .. } => (
            Class::IoFailure,
            Some(if source.kind() == std::io::ErrorKind::PermissionDenied {
                "readers and writers lock the registry directory itself (FORMAT.md §6): the user running reg must be able to open it for reading".into()
            } else {
                "the registry's file system cannot lock files (`flock`): reg writes only where it can, and reads there only from a read-only mount, where nobody can be writing".into()
            }),
        ),
        RegistryError::Refused(s) => state(s),
        RegistryError::Stale(s) => (Class::Refused, Some(stale(s))),
        RegistryError::BelowFloor { .. } => (
            Class::RollbackOrFork,
            Some("the medium is older than, or diverges from, the history its owner read to you; ask them for the current medium (the pin's floor is shown by `reg trust list`)".into()),
        ),
        RegistryError::Replica(_) => (
            Class::Refused,
            Some("make the change at the home site, then bring it here: `reg export OUT --since CHECKPOINT` there, `reg import OUT` here; drift is recorded here with `reg drift record --outbox`".into()),
        ),
        RegistryError::RolledBack { .. } => (
            Class::RollbackOrFork,
            Some("someone may be replaying an old medium; if this copy is legitimately older, use the newer one; if it is a replica that wrote entries of its own (forked), replace its history with the home site's: `reg import --reset FULL`, with a full export of home".into()),
        ),
        RegistryError::Ledger(l) => (ledger_class(l), Some(ledger(l))),
        RegistryError::Trust(t) => (trust_class(t), Some(trust(t))),
        RegistryError::Store(s) => (store_class(s), Some(DAMAGED.into())),
        RegistryError::Config { .. } | RegistryError::CorruptObject { .. } => {
            (Class::Tampered, Some(DAMAGED.into()))
        }
        RegistryError::Layout(e) => (
            if e.is_mount() {
                Class::Refused
            } else {
                Class::Tampered
            },
            Some(if e.is_mount() {
                "another file system is mounted inside the registry; reg reads, writes and removes nothing there: unmount it (`umount PATH`), then run `reg fsck`".into()
            } else if e.is_planted() {
                "someone planted a link or special file in the registry; nothing was read through it or changed: run `reg fsck` to list every such path and restore the registry from a trusted copy".into()
            } else {
                "a path of the registry is not of the kind its layout has (FORMAT.md §1); nothing was read or changed: run `reg fsck` to list what is wrong and restore the registry from a trusted copy".into()
            }),
        ),
        RegistryError::HostState(h) => (host_state_class(h), Some(host_state(h))),
        // Refused before anything was signed: the message says what to change.
        RegistryError::Envelope(crate::crypto::envelope::EnvelopeError::TooLarge { .. })
        | RegistryError::Entry(crate::format::entry::EntryError::Invalid(_)) => (Class::Refused, None),
        RegistryError::Envelope(_) | RegistryError::Entry(_) | RegistryError::Encoding(_) => {
            (Class::InvalidInput, None)
        }
        RegistryError::Io(_) => (Class::IoFailure, None),
    }
}

/// The hint for a registry whose store, config or objects are not what the ledger says.
const DAMAGED: &str = "the registry was altered or damaged: `reg fsck` names what; `reg repair --from COPY` puts back damaged objects from a copy of this registry or a transfer file";

/// A store that failed inside a registry: a missing, corrupt or oversized object was changed
/// under it; an I/O failure there is still exit 1 (a refusal), as it always was.
pub(super) fn store_class(e: &crate::repo::store::StoreError) -> Class {
    use crate::repo::store::StoreError as S;
    match e {
        S::Missing(_)
        | S::Corrupt { .. }
        | S::NotAFile(_)
        | S::WrongSize { .. }
        | S::TooLarge { .. } => Class::Tampered,
        S::Io(_) => Class::Refused,
        S::Output { .. } => Class::IoFailure,
    }
}

/// A ledger that does not verify was altered; one that could not be read is exit 1 too, as it
/// always was, but not said to be tampered with.
fn ledger_class(e: &LedgerError) -> Class {
    match e {
        LedgerError::Entry { .. }
        | LedgerError::File { .. }
        | LedgerError::Truncated { .. }
        | LedgerError::Checkpoint(_) => Class::Tampered,
        LedgerError::Io(_) => Class::Refused,
    }
}

/// Pinned trust refusing a registry as it opens (exit 1): a root that is not the pinned one, or
/// a history without the head its pin requires.
fn trust_class(e: &TrustError) -> Class {
    match e {
        TrustError::RootMismatch { .. }
        | TrustError::Replaced { .. }
        | TrustError::NotTheRoot { .. } => Class::Unpinned,
        TrustError::NotInHistory { .. } => Class::RollbackOrFork,
        TrustError::NoSuchPin { .. }
        | TrustError::Lock { .. }
        | TrustError::File { .. }
        | TrustError::Io(_)
        | TrustError::HeadCode(_)
        | TrustError::LengthOnly(_) => Class::Refused,
    }
}

/// The host's record could not be kept (exit 2): an environment without an absolute state
/// directory is the caller's to fix; otherwise the file system failed.
fn host_state_class(e: &HostStateError) -> Class {
    match e {
        HostStateError::Unreadable { path, .. } | HostStateError::Unwritable { path, .. }
            if path.is_relative() =>
        {
            Class::InvalidInput
        }
        HostStateError::Unreadable { .. } | HostStateError::Unwritable { .. } => Class::IoFailure,
    }
}

fn ledger(_e: &LedgerError) -> String {
    "the ledger was altered or damaged; do not use this registry, restore it from a trusted copy"
        .into()
}

fn host_state(e: &HostStateError) -> String {
    match e {
        HostStateError::Unreadable { path, .. } | HostStateError::Unwritable { path, .. }
            if path.is_relative() =>
        {
            "set HOME, or REG_STATE_DIR, to an absolute path (a relative one would be found in the current directory)".into()
        }
        HostStateError::Unreadable { path, .. } => format!(
            "if nobody tampered with this host, remove `{}` and run the command again: the registry is then verified in full, as on first contact; --skip-rollback-check skips the check for one command",
            path.display()
        ),
        HostStateError::Unwritable { .. } => "make the state directory writable, or point REG_STATE_DIR at one that is; --skip-rollback-check skips the check for one command".into(),
    }
}

fn trust(e: &TrustError) -> String {
    match e {
        TrustError::RootMismatch { .. } | TrustError::Replaced { .. } => "if the root key was legitimately replaced, check the new fingerprint out of band and pass it with --trust".into(),
        TrustError::NotTheRoot { .. } => "ask the registry's owner for its root key fingerprint again (`reg key fingerprint ROOT.pem.pub`); if they confirm the one given, this medium does not hold their registry".into(),
        TrustError::NoSuchPin { .. } => "`reg trust list` shows this host's pins".into(),
        TrustError::Lock { path, .. } => format!("remove `{}` (reg creates the lock itself), and check the trust file beside it: whoever could plant a link there could edit the pins too", path.display()),
        TrustError::HeadCode(crate::format::head_code::HeadCodeError::Old(_)) => "ask the sending site for the head code `reg status --code` prints with this version of reg (seven groups of five); nothing was pinned".into(),
        TrustError::HeadCode(_) => "ask the sending site to read the code `reg status --code` prints again, group by group; nothing was pinned".into(),
        TrustError::LengthOnly(_) => "pin with `--head CODE`: the head code the sending site's `reg status --code` prints, read to you out of band".into(),
        TrustError::NotInHistory { .. } => "ask the registry's owner for the current medium, or check the head code with them again (`reg status --code`)".into(),
        TrustError::File { path, .. } if path.is_relative() => "set HOME, or REG_TRUST_FILE and REG_STATE_DIR, to absolute paths (a relative one would be found in the current directory)".into(),
        TrustError::File { .. } | TrustError::Io(_) => {
            "check the host trust file (REG_TRUST_FILE overrides its path)".into()
        }
    }
}
