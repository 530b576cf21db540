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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::encoding::to_canonical_vec;

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
}
