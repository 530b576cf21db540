//! Trust pinned on the host, outside `.registry/` (FORMAT.md §8).
//!
//! A medium can be replaced whole, keys and ledger included, so a registry can only vouch for
//! itself. The host decides which genesis root it trusts: a fingerprint given explicitly
//! (`--trust`, `REG_TRUST`), or the pin `reg init` wrote into the host trust file.

use crate::crypto::keys::Fingerprint;
use crate::format::head_code::{HeadCode, HeadCodeError};
use crate::format::id::ObjectId;
use crate::util::encoding::{from_canonical_slice, to_canonical_vec};
use crate::util::fsutil::{IoContext, IoError, read_small, replace_file};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use crate::repo::host_state::{HostState, HostStateError, Seen};

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

/// One pin of the host trust file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// Absolute path of the `.registry` directory when it was pinned.
    pub path: String,
    /// The registry id.
    pub registry: ObjectId,
    /// The genesis root fingerprint.
    pub root: Fingerprint,
    /// The least history this host accepts for the registry (`reg trust add --head`):
    /// absent in pins written before it existed, and when none was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<Floor>,
}

/// A minimum head a pin carries (FORMAT.md §8): the registry's history must reach entry `seq`,
/// and, when `head` is given, list there an entry whose id starts with `head`. It is what closes
/// first contact against a truncated medium: the sending site reads its head code
/// (`reg status --code`, [`HeadCode`]) to the receiving site over a channel the medium's holder
/// does not control. A floor without `head` (pins of older reg, `--seq`) proves only a length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Floor {
    /// The entry's sequence number.
    pub seq: u64,
    /// Lowercase hex prefix of the entry's id: [`Floor::MIN_HEAD_DIGITS`] to 64 digits. `reg
    /// trust add` writes the whole id, found in the verified ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
}

impl Floor {
    /// Fewest hex digits of a head a pin may carry: the 96 bits older reg wrote, still read
    /// (they were verified when pinned); a code read now carries [`crate::format::head_code::BITS`].
    pub const MIN_HEAD_DIGITS: usize = 24;

    /// The code read aloud between sites ([`HeadCode`]), e.g.
    /// `42-7KQ2X-M3PA9-0ZD4T-H6RWE-5NBCV-Q8XJ1-GT2M7`.
    pub fn code(seq: u64, head: &ObjectId) -> String {
        HeadCode::of(seq, head).to_string()
    }

    /// Parses a head code: the floor it names, with the code's 35 hex digits as its head.
    pub fn parse_code(code: &str) -> Result<Floor, HeadCodeError> {
        let code: HeadCode = code.parse()?;
        Ok(Floor {
            seq: code.seq,
            head: Some(code.head_hex()),
        })
    }

    /// Whether `id` is the entry the floor names at its seq.
    pub fn matches(&self, id: &ObjectId) -> bool {
        self.head
            .as_ref()
            .is_none_or(|h| id.to_string().starts_with(h.as_str()))
    }

    /// Refuses a head that is not [`Floor::MIN_HEAD_DIGITS`] to 64 lowercase hex digits: a
    /// shorter one (an empty one matches every entry) would prove next to nothing.
    fn check(&self) -> Result<(), String> {
        match &self.head {
            Some(h)
                if h.len() < Self::MIN_HEAD_DIGITS
                    || h.len() > 64
                    || !h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
            {
                Err(format!(
                    "floor head `{}` is not {} to 64 lowercase hex digits",
                    crate::util::encoding::echo(h),
                    Self::MIN_HEAD_DIGITS
                ))
            }
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Floor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.head {
            Some(h) if h.len() == 64 => write!(f, "entry {} ({h})", self.seq),
            Some(h) => write!(f, "entry {} (head {h}…)", self.seq),
            None => write!(f, "entry {} (any entry: a length only)", self.seq),
        }
    }
}

/// The host trust file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustFile {
    /// Pins, sorted by registry id.
    pub pins: Vec<Pin>,
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

/// Where this host keeps its trust file and its state directory, by default: what the CLI
/// documents, resolved from the environment values it is given (`var` looks one up: the CLI
/// passes `std::env::var_os`). The library reads no environment itself, so an embedding
/// program can put host state wherever it likes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    /// `$REG_TRUST_FILE`, `$XDG_CONFIG_HOME/reg/trust.json` or `$HOME/.config/reg/trust.json`.
    pub trust_file: PathBuf,
    /// `$REG_STATE_DIR`, `$XDG_STATE_HOME/reg` or `$HOME/.local/state/reg`.
    pub state_dir: PathBuf,
}

impl HostPaths {
    /// Resolves the defaults from the variables `var` gives: `REG_TRUST_FILE` and
    /// `REG_STATE_DIR`, else under `XDG_CONFIG_HOME` and `XDG_STATE_HOME`, else under `HOME`.
    /// An empty value counts as unset, and so does a relative `XDG_*` or `HOME` (as the XDG
    /// specification says). With none of them the paths are left relative, and every use
    /// refuses them ([`RELATIVE`]): resolved against the current directory, which is often the
    /// medium, they would let the medium's holder choose the pins and the rollback records.
    pub fn from_vars(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> HostPaths {
        let set = |name: &str| var(name).filter(|p| !p.is_empty()).map(PathBuf::from);
        let base = |name: &str| set(name).filter(|p| p.is_absolute());
        let home = |sub: &str| base("HOME").map(|h| h.join(sub));
        let trust_file = set("REG_TRUST_FILE").unwrap_or_else(|| {
            base("XDG_CONFIG_HOME")
                .or_else(|| home(".config"))
                .unwrap_or_default()
                .join("reg")
                .join("trust.json")
        });
        let state_dir = set("REG_STATE_DIR").unwrap_or_else(|| {
            base("XDG_STATE_HOME")
                .or_else(|| home(".local/state"))
                .unwrap_or_default()
                .join("reg")
        });
        HostPaths {
            trust_file,
            state_dir,
        }
    }
}

/// Why a relative trust file or state directory is refused.
pub const RELATIVE: &str = "a relative path, which would be read from the current directory (often the medium itself, whose holder would then choose this host's pins and records); set HOME, or REG_TRUST_FILE and REG_STATE_DIR, to absolute paths";

impl TrustFile {
    /// The most bytes the trust file may hold: about 100,000 pins, far beyond any host's, and a
    /// bound on what a planted file can make reg read. Every change of the file enforces it first.
    pub const LIMIT: u64 = 16 * 1024 * 1024;

    /// Reads the trust file; a missing file is an empty one. Any other failure is an error,
    /// never an empty file: the next write would replace every pin it holds.
    pub fn load(path: &Path) -> Result<TrustFile, TrustError> {
        Self::check_absolute(path)?;
        match read_small(path, Self::LIMIT) {
            Ok(bytes) => {
                let file: TrustFile =
                    from_canonical_slice(&bytes).map_err(|e| TrustError::File {
                        path: path.to_path_buf(),
                        detail: e.to_string(),
                    })?;
                for pin in &file.pins {
                    if let Some(Err(detail)) = pin.floor.as_ref().map(Floor::check) {
                        return Err(TrustError::File {
                            path: path.to_path_buf(),
                            detail: format!("the pin of registry {}: {detail}", pin.registry),
                        });
                    }
                }
                Ok(file)
            }
            Err(e) if e.source.kind() == std::io::ErrorKind::NotFound => Ok(TrustFile::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Refuses a relative path ([`RELATIVE`]), or one ending in `/`, before anything is read
    /// or created.
    fn check_absolute(path: &Path) -> Result<(), TrustError> {
        let detail = if !path.is_absolute() {
            RELATIVE
        } else if path.as_os_str().to_string_lossy().ends_with('/') {
            "a path that ends in `/` names a directory, not the trust file"
        } else {
            return Ok(());
        };
        Err(TrustError::File {
            path: path.to_path_buf(),
            detail: detail.into(),
        })
    }

    /// Fails unless the file can be read and then changed now: where it lives can be created and
    /// its lock opened. `init` and `clone` check this before they put a registry in place, so
    /// that a registry is never left behind unpinned for want of a writable trust file.
    pub fn ensure_writable(path: &Path) -> Result<(), TrustError> {
        Self::check_absolute(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        crate::util::fsutil::create_private_dir_all(dir).ctx("create directory", dir)?;
        Self::open_lock(path)?;
        Self::load(path).map(drop)
    }

    /// Opens (creating it) `trust.lock` beside the trust file `path`, never through a link: with
    /// `O_CREAT`, a link planted there would make reg create or lock any file it points at.
    fn open_lock(path: &Path) -> Result<std::fs::File, TrustError> {
        let lock_path = path.with_extension("lock");
        crate::util::fsutil::open_lock_file(&lock_path).map_err(
            |e| match std::fs::symlink_metadata(&lock_path) {
                Ok(m) if !m.is_file() => TrustError::Lock {
                    path: lock_path.clone(),
                    found: crate::util::fsutil::describe(&m.file_type()),
                },
                _ => e.into(),
            },
        )
    }

    /// Adds or replaces the pin of a registry and writes the file durably.
    pub fn add_pin(path: &Path, pin: Pin) -> Result<(), TrustError> {
        Self::update(path, |file| {
            file.pins
                .retain(|p| p.registry != pin.registry && p.path != pin.path);
            file.pins.push(pin);
            Ok(())
        })
    }

    /// Removes the pins `select` matches and writes the file durably; returns them. Matching
    /// nothing is an error (and writes nothing), so a mistyped id never looks like a removal.
    pub fn remove_pins(path: &Path, select: &PinSelector) -> Result<Vec<Pin>, TrustError> {
        Self::update(path, |file| {
            let (removed, kept): (Vec<Pin>, Vec<Pin>) =
                file.pins.drain(..).partition(|p| select.matches(p));
            file.pins = kept;
            if removed.is_empty() {
                return Err(TrustError::NoSuchPin {
                    what: select.to_string(),
                    file: path.to_path_buf(),
                });
            }
            Ok(removed)
        })
    }

    /// Reads, changes and writes the file under a lock, so that two writers on one host (two
    /// `reg init`s, an init and a `reg trust remove`) keep each other's changes. Nothing is
    /// written when `change` fails.
    fn update<T>(
        path: &Path,
        change: impl FnOnce(&mut TrustFile) -> Result<T, TrustError>,
    ) -> Result<T, TrustError> {
        Self::check_absolute(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        crate::util::fsutil::create_private_dir_all(dir).ctx("create directory", dir)?;
        let lock = Self::open_lock(path)?;
        lock.lock().ctx("lock", &path.with_extension("lock"))?;
        let mut file = TrustFile::load(path)?;
        let out = change(&mut file)?;
        file.pins.sort_by_key(|p| p.registry);
        let bytes = to_canonical_vec(&file).map_err(|e| TrustError::File {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        if bytes.len() as u64 > Self::LIMIT {
            return Err(TrustError::File {
                path: path.to_path_buf(),
                detail: format!(
                    "the change would make it {} bytes, over the {} bytes reg reads; remove pins of registries this host no longer uses (`reg trust remove`)",
                    bytes.len(),
                    Self::LIMIT
                ),
            });
        }
        replace_file(dir, path, &bytes)?;
        Ok(out)
    }
}

/// Which pins `reg trust remove` removes.
#[derive(Debug, Clone)]
pub struct PinSelector {
    /// A root fingerprint or a registry id.
    pub key: PinKey,
    /// Only the pin of the registry at this (absolute) path, when given.
    pub path: Option<PathBuf>,
}

/// A pin named by its root or its registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinKey {
    /// Every pin of this genesis root.
    Root(Fingerprint),
    /// The pin of this registry.
    Registry(ObjectId),
}

impl std::str::FromStr for PinKey {
    type Err = String;

    /// A fingerprint is 32 hex digits, a registry id 64: the length tells them apart.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(fp) = s.parse::<Fingerprint>() {
            return Ok(PinKey::Root(fp));
        }
        if let Ok(id) = s.parse::<ObjectId>() {
            return Ok(PinKey::Registry(id));
        }
        Err(
            "expected a root key fingerprint (32 lowercase hex digits) or a registry id (64)"
                .into(),
        )
    }
}

impl PinSelector {
    fn matches(&self, pin: &Pin) -> bool {
        let key = match &self.key {
            PinKey::Root(fp) => pin.root == *fp,
            PinKey::Registry(id) => pin.registry == *id,
        };
        key && self.path.as_ref().is_none_or(|p| Path::new(&pin.path) == p)
    }
}

impl std::fmt::Display for PinSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.key {
            PinKey::Root(fp) => write!(f, "root key {fp}")?,
            PinKey::Registry(id) => write!(f, "registry {id}")?,
        }
        if let Some(p) = &self.path {
            write!(f, " at `{}`", p.display())?;
        }
        Ok(())
    }
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

/// The entry `reg trust add --head HEAD` asks for: a head code ([`HeadCode`]), or a full entry
/// id (64 hex digits) whose seq the verified ledger gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadWanted {
    /// A head code: the entry at `floor.seq` must start with `floor.head`.
    Code(Floor),
    /// A whole entry id, wherever it is in the history.
    Id(ObjectId),
}

impl std::str::FromStr for HeadWanted {
    type Err = TrustError;

    fn from_str(head: &str) -> Result<HeadWanted, TrustError> {
        let head = head.trim();
        if head.len() == 64
            && let Ok(id) = head.to_ascii_lowercase().parse()
        {
            return Ok(HeadWanted::Id(id));
        }
        Ok(HeadWanted::Code(Floor::parse_code(head)?))
    }
}

impl HeadWanted {
    /// Places the entry in a verified history whose entry ids are `ids`, in order: the floor
    /// to pin, with the whole id of its entry as its head, so that the pin proves all 256 bits
    /// from then on. Refuses a history that does not hold the entry (at the code's seq).
    pub fn place(self, ids: &[ObjectId]) -> Result<(Floor, ObjectId), TrustError> {
        let (at, wanted) = match &self {
            HeadWanted::Id(id) => (ids.iter().position(|x| x == id), format!("entry {id}")),
            HeadWanted::Code(f) => (usize::try_from(f.seq).ok(), f.to_string()),
        };
        let matches = |id: &ObjectId| match &self {
            HeadWanted::Id(want) => id == want,
            HeadWanted::Code(f) => f.matches(id),
        };
        let found = match at.map(|i| (i, ids.get(i))) {
            Some((i, Some(id))) if matches(id) => {
                let floor = Floor {
                    seq: i as u64,
                    head: Some(id.to_string()),
                };
                return Ok((floor, *id));
            }
            Some((i, Some(id))) => format!("it lists {id} at entry {i}"),
            Some(_) => format!(
                "it has only {} entries: the medium is older or was cut",
                ids.len()
            ),
            None => "no entry has that id".into(),
        };
        Err(TrustError::NotInHistory { wanted, found })
    }
}

/// The absolute, symlink-free path of a registry directory, as pins record it.
pub fn absolute(dot: &Path) -> PathBuf {
    std::fs::canonicalize(dot).unwrap_or_else(|_| dot.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trust file of `n` pins of one root, at paths of `width` characters.
    fn pins(n: u32, width: usize) -> TrustFile {
        let root: Fingerprint = "00112233445566778899aabbccddeeff"
            .parse()
            .expect("a fingerprint");
        let mut pins: Vec<Pin> = (0..n)
            .map(|i| Pin {
                path: format!("/media/{i:0width$}/.registry"),
                registry: ObjectId::of(&i.to_le_bytes()),
                root: root.clone(),
                floor: None,
            })
            .collect();
        pins.sort_by_key(|p| p.registry);
        TrustFile { pins }
    }

    #[test]
    fn a_new_pin_replaces_the_pin_of_its_registry_and_the_pin_of_its_path() {
        // One pin per registry (a moved registry is pinned at its new path) and one per path
        // (a registry made again where another was): a stale pin would be matched first.
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("trust.json");
        let mut ids = pins(3, 1).pins.into_iter();
        let mut pin = |path: &str| {
            let mut p = ids.next().expect("a pin");
            p.path = path.into();
            p
        };
        let (a, b, c) = (pin("/m/a"), pin("/m/b"), pin("/m/c"));
        let moved = Pin {
            path: "/m/b".into(),
            ..a.clone()
        };
        let read = || TrustFile::load(&path).expect("read back").pins;
        TrustFile::add_pin(&path, a).expect("pin");
        TrustFile::add_pin(&path, moved.clone()).expect("pin at the new path");
        assert_eq!(read(), vec![moved]);
        TrustFile::add_pin(&path, b.clone()).expect("another registry at that path");
        assert_eq!(read(), vec![b.clone()]);
        TrustFile::add_pin(&path, c.clone()).expect("a third");
        let mut both = vec![b, c];
        both.sort_by_key(|p| p.registry);
        assert_eq!(read(), both);
    }

    #[test]
    fn a_trust_file_is_read_up_to_its_limit_and_never_written_past_it() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("trust.json");
        // Several MiB of pins, under the limit, read back as written.
        let many = pins(20_000, 200);
        let bytes = to_canonical_vec(&many).expect("serializes");
        assert!(bytes.len() > 4 << 20 && (bytes.len() as u64) < TrustFile::LIMIT);
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(TrustFile::load(&path).expect("read back"), many);
        // A file at the limit: one more pin would take it past, so adding one is refused and
        // the file kept.
        let size = |n| to_canonical_vec(&pins(n, 220)).expect("serializes").len() as u64;
        let per_pin = size(2) - size(1);
        let n = u32::try_from((TrustFile::LIMIT - size(1)) / per_pin + 1).expect("fits");
        let mut all = pins(n + 1, 220);
        let extra = all.pins.remove(7);
        let bytes = to_canonical_vec(&all).expect("serializes");
        assert!(bytes.len() as u64 <= TrustFile::LIMIT);
        assert!(bytes.len() as u64 + per_pin > TrustFile::LIMIT);
        std::fs::write(&path, &bytes).expect("write");
        let e = TrustFile::add_pin(&path, extra).expect_err("past the limit");
        assert!(e.to_string().contains("over the"), "{e}");
        assert_eq!(std::fs::read(&path).expect("read"), bytes);
        // A file past the limit, or a directory, is an error: never an empty file.
        std::fs::write(&path, vec![b' '; TrustFile::LIMIT as usize + 1]).expect("write");
        assert!(TrustFile::load(&path).is_err());
        std::fs::remove_file(&path).expect("remove");
        assert_eq!(
            TrustFile::load(&path).expect("missing: empty"),
            TrustFile::default()
        );
        std::fs::create_dir(&path).expect("mkdir");
        assert!(TrustFile::load(&path).is_err());
    }

    #[test]
    fn a_head_code_is_read_back_whatever_its_dashes_and_case_and_nothing_else_is() {
        let head = ObjectId::of(b"an entry");
        let code = Floor::code(42, &head);
        let floor = Floor::parse_code(&code).expect("the code reg prints");
        assert_eq!(floor.seq, 42);
        assert_eq!(floor.head.as_deref(), Some(&head.to_string()[..35]));
        assert!(floor.matches(&head));
        assert!(!floor.matches(&ObjectId::of(b"another entry")));
        let (seq, groups) = code.split_once('-').expect("SEQ-");
        let loose = format!(" {seq}-{} ", groups.to_lowercase().replacen('-', "", 3));
        assert_eq!(Floor::parse_code(&loose), Ok(floor));
        let hex = head.to_string();
        let old = format!(
            "42-{}-{}-{}-{}-{}-{}",
            &hex[0..4],
            &hex[4..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..24]
        );
        assert!(matches!(
            Floor::parse_code(&old),
            Err(HeadCodeError::Old(_))
        ));
        for bad in [
            format!("7-{hex}"),
            format!("7-{}", "g".repeat(35)),
            format!("x-{}", groups),
            hex.clone(),
        ] {
            assert!(Floor::parse_code(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_wanted_head_is_found_only_where_it_says() {
        let ids: Vec<ObjectId> = (0u8..5).map(|i| ObjectId::of(&[i])).collect();
        let place = |text: &str| text.parse::<HeadWanted>().expect("parses").place(&ids);
        let (floor, id) = place(&Floor::code(3, &ids[3])).expect("there");
        assert_eq!((floor.seq, id), (3, ids[3]));
        assert_eq!(floor.head, Some(ids[3].to_string()));
        // A code names its seq: the same entry under another seq is not searched for.
        for (seq, found) in [(2, "it lists"), (u64::MAX, "it has only 5 entries")] {
            let e = place(&Floor::code(seq, &ids[3]))
                .expect_err("not there")
                .to_string();
            assert!(e.contains(found), "{e}");
        }
        // A whole id, in either case, wherever it is.
        let (floor, _) = place(&ids[1].to_string().to_uppercase()).expect("found");
        assert_eq!(floor.seq, 1);
        let e = place(&ObjectId::of(b"x").to_string())
            .expect_err("absent")
            .to_string();
        assert!(e.contains("(no entry has that id)"), "{e}");
    }

    #[test]
    fn a_pin_whose_floor_head_is_not_24_to_64_hex_digits_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("trust.json");
        let pin = |head: Option<&str>| TrustFile {
            pins: vec![Pin {
                path: "/r/.registry".into(),
                registry: ObjectId::of(b"r"),
                root: "00112233445566778899aabbccddeeff".parse().expect("fp"),
                floor: Some(Floor {
                    seq: 3,
                    head: head.map(str::to_string),
                }),
            }],
        };
        let id = ObjectId::of(b"entry").to_string();
        for ok in [None, Some(&id[..24]), Some(&id[..35]), Some(id.as_str())] {
            let file = pin(ok);
            std::fs::write(&path, to_canonical_vec(&file).expect("json")).expect("write");
            assert_eq!(TrustFile::load(&path).expect("read"), file);
        }
        let upper = id[..30].to_uppercase();
        for bad in ["", &id[..23], &upper, "zz0000000000000000000000000"] {
            std::fs::write(&path, to_canonical_vec(&pin(Some(bad))).expect("json")).expect("write");
            let e = TrustFile::load(&path).expect_err(bad).to_string();
            assert!(e.contains("is not 24 to 64 lowercase hex digits"), "{e}");
        }
    }
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
