//! Trust pinned on the host, outside `.registry/` (FORMAT.md §8).
//!
//! A medium can be replaced whole, keys and ledger included, so a registry can only vouch for
//! itself. The host decides which genesis root it trusts: a fingerprint given explicitly
//! (`--trust`, `REG_TRUST`), or the pin `reg init` wrote into the host trust file.
//!
//! Here: the check of a registry against the host's pin and the pinning itself. Beside it, one
//! concern a file: the pin file (`pin_file.rs`), the head floor a pin carries and the head code
//! that sets it (`floor.rs`), where this host keeps its files by default (`host_paths.rs`),
//! which pins `reg trust remove` selects (`selector.rs`), and the host's records of verified
//! checkpoints (`host_state.rs`).

use crate::crypto::keys::Fingerprint;
use crate::format::head_code::HeadCodeError;
use crate::format::id::ObjectId;
use crate::util::fsutil::IoError;
use std::path::{Path, PathBuf};

mod floor;
mod host_paths;
mod host_state;
mod pin_file;
mod selector;

pub use floor::{Floor, HeadWanted};
pub use host_paths::{HostPaths, RELATIVE};
pub use host_state::{HostState, HostStateError, Seen};
pub use pin_file::{Pin, TrustFile};
pub use selector::{PinKey, PinSelector};

/// Errors about pinned trust.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The registry's genesis root is not the pinned one.
    #[error(
        "the registry's genesis root key is {found}, but this host pins {pinned} ({source_}): refusing a registry whose root of trust was replaced"
    )]
    RootMismatch {
        /// The pinned fingerprint.
        pinned: Fingerprint,
        /// The genesis root found.
        found: Fingerprint,
        /// Where the pin came from.
        source_: String,
    },
    /// The registry at a pinned path is another registry.
    #[error(
        "the registry at `{}` was pinned as {} (root {}), but it is now {found} (root {found_root}): refusing a replaced registry",
        .pinned.path, .pinned.registry, .pinned.root
    )]
    Replaced {
        /// The pin of this path.
        pinned: Box<Pin>,
        /// The registry id found.
        found: ObjectId,
        /// The root found.
        found_root: Fingerprint,
    },
    /// `reg trust add` was given a fingerprint that is not the registry's genesis root.
    #[error(
        "the fingerprint given, {given}, is not the genesis root key of registry {registry} at `{}` (its root is {root}): nothing was pinned",
        .path.display()
    )]
    NotTheRoot {
        /// The fingerprint given.
        given: Fingerprint,
        /// The registry's genesis root.
        root: Fingerprint,
        /// The registry id.
        registry: ObjectId,
        /// The `.registry` directory.
        path: PathBuf,
    },
    /// `reg trust remove` matched no pin.
    #[error("no pin in the host trust file `{}` matches {what}: nothing was removed", .file.display())]
    NoSuchPin {
        /// What was asked for.
        what: String,
        /// The trust file.
        file: PathBuf,
    },
    /// The trust file is unreadable or malformed.
    #[error("host trust file `{path}`: {detail}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// I/O on the trust file.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The trust file's lock is a link or a special file.
    #[error(
        "the host trust file's lock `{}` is {found}, not a regular file: reg opens it only as a file of its own, never through a link; nothing was changed",
        .path.display()
    )]
    Lock {
        /// `trust.lock`.
        path: PathBuf,
        /// What it is.
        found: &'static str,
    },
    /// `reg trust add --head` was given text that is not a head code.
    #[error(transparent)]
    HeadCode(#[from] HeadCodeError),
    /// `reg trust add --seq`: a number of entries, which any history of that length satisfies.
    #[error(
        "`--seq {0}` proves only a history's length, not which history: any history that long passes (one cut before a revocation and padded with new entries); nothing was pinned"
    )]
    LengthOnly(String),
    /// The floor's head is not in the verified history, or not at its seq.
    #[error(
        "{wanted} is not in this registry's history ({found}): the medium is older than, or diverges from, the registry whose head was read to you; nothing was pinned"
    )]
    NotInHistory {
        /// The entry asked for.
        wanted: String,
        /// What the history has instead.
        found: String,
    },
}

/// How a command was told whom to trust.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TrustOptions {
    /// A root fingerprint given with `--trust` or `REG_TRUST`.
    pub explicit: Option<Fingerprint>,
    /// The host trust file.
    pub file: PathBuf,
    /// The host's records of verified checkpoints.
    pub host: HostState,
}

impl TrustOptions {
    /// The pins of the host trust file `file`, and the host's records in `host`.
    pub fn new(file: PathBuf, host: HostState) -> TrustOptions {
        TrustOptions {
            explicit: None,
            file,
            host,
        }
    }

    /// These options, trusting only a registry whose genesis root is `root` instead of the
    /// trust file's pins (none: the pins).
    pub fn with_explicit(mut self, root: Option<Fingerprint>) -> TrustOptions {
        self.explicit = root;
        self
    }
}

/// Which pin a registry was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinStatus {
    /// The explicit fingerprint.
    Explicit(Fingerprint),
    /// A pin of the host trust file.
    HostFile(Fingerprint),
    /// No pin: the registry was checked only against itself.
    Unpinned,
}

/// Checks a registry's genesis root against the host's pin (FORMAT.md §8); returns how it was
/// pinned and, for a pin of the host trust file, that pin's floor (one read of the file).
///
/// `dot` is the `.registry` directory, `registry` the id `config.json` claims and `root` the
/// fingerprint that signed the genesis entry that id names.
pub fn check(
    opts: &TrustOptions,
    dot: &Path,
    registry: &ObjectId,
    root: &Fingerprint,
) -> Result<(PinStatus, Option<Floor>), TrustError> {
    if let Some(pinned) = &opts.explicit {
        if pinned != root {
            return Err(TrustError::RootMismatch {
                pinned: pinned.clone(),
                found: root.clone(),
                source_: "given with --trust or REG_TRUST".into(),
            });
        }
        return Ok((PinStatus::Explicit(pinned.clone()), None));
    }
    let file = TrustFile::load(&opts.file)?;
    if let Some(pin) = file.pins.iter().find(|p| p.registry == *registry) {
        if pin.root != *root {
            return Err(TrustError::RootMismatch {
                pinned: pin.root.clone(),
                found: root.clone(),
                source_: format!("pinned in `{}`", opts.file.display()),
            });
        }
        return Ok((PinStatus::HostFile(pin.root.clone()), pin.floor.clone()));
    }
    let here = absolute(dot);
    if let Some(pin) = file.pins.iter().find(|p| Path::new(&p.path) == here) {
        return Err(TrustError::Replaced {
            pinned: Box::new(pin.clone()),
            found: *registry,
            found_root: root.clone(),
        });
    }
    Ok((PinStatus::Unpinned, None))
}

/// Pins a registry on this host (`reg trust add`), but only if `given`, the fingerprint the
/// operator checked out of band, is the registry's genesis root `root`: a mismatch pins nothing.
/// `dot` is the `.registry` directory, `registry` and `root` as [`check`] takes them.
pub fn pin_checked(
    file: &Path,
    dot: &Path,
    registry: &ObjectId,
    root: &Fingerprint,
    given: &Fingerprint,
    floor: Option<Floor>,
) -> Result<Pin, TrustError> {
    let path = absolute(dot);
    if given != root {
        return Err(TrustError::NotTheRoot {
            given: given.clone(),
            root: root.clone(),
            registry: *registry,
            path,
        });
    }
    let pin = Pin {
        path: path.to_string_lossy().into_owned(),
        registry: *registry,
        root: root.clone(),
        floor,
    };
    TrustFile::add_pin(file, pin.clone())?;
    Ok(pin)
}

/// The absolute, symlink-free path of a registry directory, as pins record it.
pub fn absolute(dot: &Path) -> PathBuf {
    std::fs::canonicalize(dot).unwrap_or_else(|_| dot.to_path_buf())
}

/// A verified registry whose genesis root key was revoked: what a host about to pin it by that
/// key must be told (FORMAT.md §8). The pin still names the genesis root, which signed the
/// registry's first entry; but a host that never saw the revocation can be shown a copy that the
/// old root extended another way, and only a head floor (`--head`) refuses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedGenesis {
    /// The seq of the entry that revoked the genesis root.
    pub at: u64,
    /// The root keys not revoked, sorted.
    pub roots: Vec<Fingerprint>,
}

/// Whether the genesis root of the verified `state` is revoked, and which root keys govern now.
pub fn revoked_genesis(state: &crate::state::State) -> Option<RevokedGenesis> {
    let at = state.keys().get(state.root())?.revoked?;
    let roots = state
        .keys()
        .iter()
        .filter(|(_, k)| k.revoked.is_none() && k.roles.contains(&crate::format::entry::Role::Root))
        .map(|(fp, _)| fp.clone())
        .collect();
    Some(RevokedGenesis { at, roots })
}
