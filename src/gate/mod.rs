//! The load gate: a file may be loaded only if its bytes, hashed now, are an artifact of an
//! approved model (PROMOTED; DEPRECATED with a warning), and, with a slot or model given, of
//! that one; never bytes the registry denies (FORMAT.md §5.15), never a model suspended by a
//! compromised key (§5.14), never a model the policy now refuses (§5.5). Nothing about the file
//! but its bytes is trusted: not its name, not a timestamp, not a cached hash.
//!
//! [`open_verified`] is the API consumers use: it copies the file into a private, unlinked
//! temporary file, hashes that copy ([`crate::util::hash::copy`]) and hands it back, so a file
//! swapped on disk between the check and the use is never what gets loaded.

mod decide;
pub mod decision_log;
mod paths;

pub(crate) use decide::decide;
pub use paths::{Hashed, hash_file};

use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
use crate::repo::ledger::Verified;
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::store::Store;
use crate::repo::trust::PinStatus;
use crate::state::State;
use crate::util::fsutil::{IoContext, IoError};
use crate::util::hash::CopyError;
use crate::util::hash::copy::copy_file_hashing;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// Which models may vouch for a file.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Any approved model holding it.
    Any,
    /// The active model of this slot (what consumers should use).
    Slot(String),
    /// This model.
    Model(ObjectId),
}

/// Why the gate allowed or denied a file, as a stable word scripts can match (the `reason`
/// sentence is for people and may change).
///
/// Non-exhaustive: a new reason to deny may be added, and a caller's `match` must deny it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Code {
    /// ALLOW: an artifact of a PROMOTED model.
    Promoted,
    /// ALLOW with a warning: an artifact of a DEPRECATED model.
    Deprecated,
    /// DENY: the registry is not pinned on this host, so its answer proves nothing.
    Unpinned,
    /// DENY: the slot has no active model.
    NoActiveModel,
    /// DENY: no registered model holds these bytes.
    NotRegistered,
    /// DENY: the bytes are no artifact of the slot's active model, or of the model named.
    OutOfScope,
    /// DENY: the model is REGISTERED, not approved.
    NotApproved,
    /// DENY: the model is REVOKED.
    Revoked,
    /// DENY: the bytes are denied (FORMAT.md §5.15), whatever model claims them.
    Denied,
    /// DENY: the model rests on a key revoked as compromised and is not re-approved (§5.14).
    Suspended,
    /// DENY: the model holds an artifact in a format the registry's policy refuses (§5.5).
    Policy,
    /// DENY: nothing at the path, or a link to nothing (dangling).
    NotFound,
    /// DENY: the path (or the file a link resolves to) is a directory inside a checked
    /// directory, a FIFO, socket or device, or became something else while opened.
    NotRegular,
    /// DENY: the file exists but cannot be read (permissions, a loop of links, an I/O error).
    Unreadable,
    /// DENY: a directory given to check holds no file, so nothing in it can be allowed.
    EmptyDirectory,
}

impl Code {
    /// The word, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Promoted => "promoted",
            Code::Deprecated => "deprecated",
            Code::Unpinned => "unpinned",
            Code::NoActiveModel => "no-active-model",
            Code::NotRegistered => "not-registered",
            Code::OutOfScope => "out-of-scope",
            Code::NotApproved => "not-approved",
            Code::Revoked => "revoked",
            Code::Denied => "denied",
            Code::Suspended => "suspended",
            Code::Policy => "policy",
            Code::NotFound => "not-found",
            Code::NotRegular => "not-regular",
            Code::Unreadable => "unreadable",
            Code::EmptyDirectory => "empty-directory",
        }
    }
}

/// The gate's answer for one file. Only the gate makes one (non-exhaustive): a caller reads it.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Decision {
    /// The file as given (`-` for standard input).
    pub path: PathBuf,
    /// The file a link given as `path` resolves to (docs/GUIDE.md §5): the bytes hashed are
    /// this file's, read through the descriptor opened on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<PathBuf>,
    /// Its BLAKE3, computed now; none when the file could not be read (codes `not-found`,
    /// `not-regular`, `unreadable`, `empty-directory`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<ObjectId>,
    /// ALLOW or DENY.
    pub allowed: bool,
    /// Why, as a stable word.
    pub code: Code,
    /// The model that vouches for it (or, when denied, the one it belongs to), as `name@version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Its record id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<ObjectId>,
    /// Why.
    pub reason: String,
    /// A warning that goes with an ALLOW (a DEPRECATED model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// How a [`Gate`] treats the host's trust in the registry: `GateOptions::default()` is the
/// production gate.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct GateOptions {
    /// Decide on a registry this host has not pinned (checked only against itself) instead of
    /// denying everything. Anyone can make a registry that vouches for any file, so this is for
    /// tests and first looks, never for a production gate.
    pub allow_unpinned: bool,
}

impl GateOptions {
    /// These options, deciding on an unpinned registry when `allow` ([`Self::allow_unpinned`]).
    pub fn with_allow_unpinned(mut self, allow: bool) -> GateOptions {
        self.allow_unpinned = allow;
        self
    }
}

/// The load gate of one registry as this host trusts it: the verified state, and whether its
/// genesis root is pinned (`--trust`, `REG_TRUST` or the host trust file).
///
/// Fail closed: a registry that is not pinned vouches only for itself, and a medium can carry a
/// registry made with anybody's root key, so every file is denied (code `unpinned`) unless
/// [`GateOptions::allow_unpinned`] says otherwise.
#[derive(Debug, Clone)]
pub struct Gate {
    state: Verified<State>,
    store: Store,
    pinned: bool,
    registry: ObjectId,
    root: Fingerprint,
    opts: GateOptions,
}

impl Gate {
    /// The gate of an opened registry: verifies its state (the fast path when this host
    /// verified its checkpoint before).
    pub fn new(reg: &Registry, opts: GateOptions) -> Result<Gate, RegistryError> {
        Ok(Gate {
            state: reg.state()?,
            store: reg.store().clone(),
            pinned: *reg.pin() != PinStatus::Unpinned,
            registry: *reg.id(),
            root: reg.root().clone(),
            opts,
        })
    }

    /// The verified state the gate decides on.
    pub fn state(&self) -> &Verified<State> {
        &self.state
    }

    /// Whether the registry's genesis root is pinned on this host.
    pub fn pinned(&self) -> bool {
        self.pinned
    }

    /// Decides for a file whose bytes hash to `hash`.
    pub fn decide(&self, path: &Path, hash: ObjectId, scope: &Scope) -> Decision {
        if !self.pinned && !self.opts.allow_unpinned {
            return Decision {
                path: path.to_path_buf(),
                resolved: None,
                hash: Some(hash),
                allowed: false,
                code: Code::Unpinned,
                model: None,
                record: None,
                reason: unpinned_reason(&self.registry, &self.root),
                warning: None,
            };
        }
        let mut d = decide(&self.state, &self.store, path, hash, scope);
        if d.allowed && !self.pinned {
            let note = format!(
                "allowed by registry {} (root {}), which is not pinned on this host",
                self.registry, self.root
            );
            d.warning = Some(match d.warning.take() {
                Some(w) => format!("{w}; {note}"),
                None => note,
            });
        }
        d
    }

    /// Opens `path` for loading through the gate: see [`open_verified`].
    pub fn open_verified(&self, path: &Path, scope: &Scope) -> Result<VerifiedArtifact, GateError> {
        // A link is followed by the one rule (crate::util::follow): only a regular file is
        // opened, never blocking on a FIFO, and the copy is of the descriptor that was opened.
        let mut source = crate::util::follow::open_followed(path)?;
        let mut copy = tempfile::tempfile().ctx("create private copy of", path)?;
        // Owner-read-only before a byte is written (this descriptor, opened for writing, still
        // writes): opening the unlinked copy for writing through /proc/PID/fd then fails by
        // mistake. Not against intent: a process of this user may chmod it back, as the owner
        // of any file may, so this user (and root) are trusted with the copy, as with the
        // loader's own memory.
        copy.set_permissions(std::fs::Permissions::from_mode(0o400))
            .ctx("make read-only the private copy of", path)?;
        let hash = copy_file_hashing(&mut source.file, &mut copy).map_err(|e| match e {
            CopyError::Read(e) => IoError::from_source("read", path, e),
            CopyError::Write(e) => IoError::from_source("write private copy of", path, e),
        })?;
        let mut decision = self.decide(path, ObjectId::from_hash(hash), scope);
        decision.resolved = source.resolved;
        if !decision.allowed {
            return Err(GateError::Denied(Box::new(decision)));
        }
        copy.seek(SeekFrom::Start(0))
            .ctx("rewind private copy of", path)?;
        Ok(VerifiedArtifact {
            decision,
            file: copy,
        })
    }
}

/// Why a registry this host has not pinned is no answer: the reason of every denial with code
/// `unpinned`, and of `reg::refusal::unpinned`.
pub fn unpinned_reason(registry: &ObjectId, root: &Fingerprint) -> String {
    format!(
        "registry {registry} (root {root}) is not pinned on this host, so its answer proves nothing"
    )
}

/// Errors of the gate's file handling.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// I/O on the file.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The path does not lead to a regular file that can be opened (crate::util::follow).
    #[error(transparent)]
    Follow(#[from] crate::util::follow::FollowError),
    /// The file was denied.
    #[error("`{}` denied ({}): {}", .0.path.display(), .0.code.as_str(), .0.reason)]
    Denied(Box<Decision>),
    /// The registry's state could not be verified (boxed: the variant is large and rare).
    #[error(transparent)]
    Registry(Box<RegistryError>),
}

impl From<RegistryError> for GateError {
    fn from(e: RegistryError) -> Self {
        GateError::Registry(Box::new(e))
    }
}

/// A file the gate allowed: a private copy of exactly the bytes that were hashed.
#[derive(Debug)]
#[non_exhaustive]
pub struct VerifiedArtifact {
    /// The decision.
    pub decision: Decision,
    /// The private copy, positioned at its start.
    pub file: File,
}

/// Opens `path` for loading, through the gate of `reg`: copies it into a private unlinked
/// temporary file while hashing it, decides on that hash, and hands back the copy only when
/// allowed. A file replaced on disk after this returns cannot change what the caller reads.
///
/// Fails closed: a registry this host has not pinned denies every file (code `unpinned`) unless
/// `opts.allow_unpinned`. A consumer checking many files builds one [`Gate`] instead.
pub fn open_verified(
    reg: &Registry,
    path: &Path,
    scope: &Scope,
    opts: GateOptions,
) -> Result<VerifiedArtifact, GateError> {
    Gate::new(reg, opts)?.open_verified(path, scope)
}
