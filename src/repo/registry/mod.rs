//! A registry on disk: finding it, creating it and opening it (FORMAT.md §1, §8).
//!
//! The rest of [`Registry`] lives in this module's children, which use its type and its
//! re-exports name their items: reading the verified state on this host and recording what it
//! verified (`read.rs`), the lock that gives every reader one committed state (`readers.rs`),
//! and writing (`transaction/`). The library reads no environment: whom to
//! trust, where this host keeps its records, how long to wait for the writer lock and the clock
//! all come in [`OpenOptions`].

use crate::crypto::keys::{Fingerprint, SecretKey};
use crate::format::entry::{Entry, Header, Succession};
use crate::format::id::ObjectId;
use crate::repo::config::read_config;
use crate::repo::ledger::{self, Verified};
use crate::repo::store::Store;
use crate::repo::trust::{self, HostState, Pin, PinStatus, Seen, TrustFile};
use crate::state::{
    FORMAT_VERSION, GENESIS_NONCE_LEN, State, genesis_body, normalize_recipients, random_nonce,
};
use crate::util::encoding::{Clock, to_canonical_vec};
use crate::util::fsutil::{IoContext, IoError, fsync_dir};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::repo::config::Config;
pub use crate::repo::error::RegistryError;
pub use crate::repo::options::{DEFAULT_LOCK_TIMEOUT, OpenOptions};

mod index;
pub(in crate::repo) use index::write_index;
mod read;
mod readers;
pub(in crate::repo) mod transaction;

pub(crate) use readers::read_lock;
pub use readers::{CommitWindow, ReadLock};
pub use transaction::{Transaction, WriteLock, Written};

/// The registry directory's name (defined once, in `util::create`, where no output is written
/// inside a directory of this name).
pub const DOT_REGISTRY: &str = crate::util::create::REGISTRY_DIR;

/// An opened registry whose genesis root was checked against the host's pin.
#[derive(Debug, Clone)]
pub struct Registry {
    pub(in crate::repo) dot: PathBuf,
    pub(in crate::repo) store: Store,
    pub(in crate::repo) config: Config,
    pub(in crate::repo) pin: PinStatus,
    pub(in crate::repo) root: Fingerprint,
    pub(in crate::repo) host: HostState,
    pub(in crate::repo) floor: Option<trust::Floor>,
    pub(in crate::repo) lock_timeout: Duration,
    pub(in crate::repo) clock: Clock,
    /// The ledger's digest as last hashed by this process (its length and hasher): what a
    /// commit's record extends with the lines it appended ([`Registry::ledger_digest`]).
    pub(in crate::repo) ledger_hashed: LedgerHashed,
}

/// The ledger's digest as last hashed: its length and the hasher after it.
#[derive(Debug, Default)]
pub(in crate::repo) struct LedgerHashed(std::sync::Mutex<Option<(u64, blake3::Hasher)>>);

impl LedgerHashed {
    pub(in crate::repo) fn lock(
        &self,
    ) -> std::sync::LockResult<std::sync::MutexGuard<'_, Option<(u64, blake3::Hasher)>>> {
        self.0.lock()
    }
}

impl Clone for LedgerHashed {
    fn clone(&self) -> Self {
        LedgerHashed(std::sync::Mutex::new(
            self.0.lock().ok().and_then(|c| c.clone()),
        ))
    }
}

/// The result of one committed action.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The new entry's id.
    pub id: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The entry.
    pub entry: Entry,
    /// The state after it.
    pub state: Verified<State>,
}

/// Finds the `.registry` directory like git finds `.git`: an explicit path (the directory itself
/// or its parent), else the current directory and its ancestors.
///
/// Whatever is found at a `.registry` path is the registry, of any kind: opening it then says
/// what is wrong ([`crate::repo::layout::check_skeleton`]). Skipping a `.registry` that is a
/// file or a dangling link would quietly use a parent's registry instead, and from inside a
/// registry a `.registry` planted below the current directory would be found first: inside
/// one, the registry is the outermost ancestor named `.registry`.
pub fn discover(explicit: Option<&Path>) -> Result<PathBuf, RegistryError> {
    // A `.registry` directory is a registry even with a damaged or missing config.json: opening
    // it then says what is wrong, instead of "no registry found".
    let present = |p: &Path| fs::symlink_metadata(p).is_ok();
    if let Some(p) = explicit {
        // Rebuilt from its components: `x/.registry/` with a trailing slash would otherwise make
        // every later `lstat` of it follow a link planted there.
        let p: PathBuf = p.components().collect();
        let p = p.as_path();
        if p.file_name().is_some_and(|n| n == DOT_REGISTRY) && present(p) {
            return Ok(p.to_path_buf());
        }
        let inner = p.join(DOT_REGISTRY);
        if present(&inner) {
            return Ok(inner);
        }
        return Err(RegistryError::NotFound(format!("at `{}`", p.display())));
    }
    let cwd = std::env::current_dir().ctx("read current directory", Path::new("."))?;
    if let Some(outer) = cwd
        .ancestors()
        .filter(|d| d.file_name().is_some_and(|n| n == DOT_REGISTRY))
        .last()
    {
        return Ok(outer.to_path_buf());
    }
    for dir in cwd.ancestors() {
        let inner = dir.join(DOT_REGISTRY);
        if present(&inner) {
            return Ok(inner);
        }
    }
    Err(RegistryError::NotFound(format!(
        "in `{}` or any parent directory",
        cwd.display()
    )))
}

/// Refuses to make a registry in `parent` when it is inside a `.registry` directory (see
/// [`discover`]).
pub(in crate::repo) fn refuse_inside_a_registry(parent: &Path) -> Result<(), RegistryError> {
    if crate::util::create::is_inside_a_registry(parent) {
        return Err(RegistryError::InsideRegistry(parent.to_path_buf()));
    }
    Ok(())
}

impl Registry {
    /// Creates a registry in `parent/.registry`, signed by `root`, and pins it on this host
    /// (in `opts.trust.file`, recording its checkpoint in `opts.trust.host`).
    ///
    /// The registry is built in a staging directory beside it and renamed into place, so that a
    /// failure leaves no half-made registry.
    ///
    /// `nonce` goes into genesis and so into the registry id (FORMAT.md §5.2): `None` draws 32
    /// fresh random bytes, which is what every real registry needs (two registries with the
    /// same root key made in the same second must not share an id); a fixed nonce is for
    /// reproducible bytes only (tests, the worked example).
    pub fn init(
        parent: &Path,
        root: &SecretKey,
        recipients: Vec<String>,
        nonce: Option<&[u8; GENESIS_NONCE_LEN]>,
        opts: &OpenOptions,
    ) -> Result<(Registry, Verified<State>), RegistryError> {
        Self::init_successor(parent, root, recipients, nonce, None, opts)
    }

    /// [`Registry::init`] of a registry whose genesis names the registry it `succeeds`, when
    /// there is one (FORMAT.md §5.2: a successor made after every root key of that one was
    /// lost; `crate::ops::succession` reads what it names from that registry's verified
    /// history).
    pub fn init_successor(
        parent: &Path,
        root: &SecretKey,
        recipients: Vec<String>,
        nonce: Option<&[u8; GENESIS_NONCE_LEN]>,
        succeeds: Option<Succession>,
        opts: &OpenOptions,
    ) -> Result<(Registry, Verified<State>), RegistryError> {
        let dot = parent.join(DOT_REGISTRY);
        if fs::symlink_metadata(&dot).is_ok() {
            return Err(RegistryError::AlreadyExists(dot));
        }
        refuse_inside_a_registry(parent)?;
        let host = &opts.trust.host;
        // Before anything is created: a registry this host cannot record would be unprotected,
        // and one it cannot pin (a trust file that is relative, unreadable or malformed) would be
        // left behind unpinned.
        host.ensure_writable()?;
        TrustFile::ensure_writable(&opts.trust.file)?;
        let recipients = normalize_recipients(recipients)?;
        let nonce = match nonce {
            Some(n) => *n,
            None => random_nonce()?,
        };
        fs::create_dir_all(parent).ctx("create directory", parent)?;
        let staging = crate::util::mount::StagingDir::new_in(parent, ".registry-init-")
            .ctx("create staging directory in", parent)?;
        // Ours until this returns: `reg gc`, `reg fsck` and clones leave it alone meanwhile.
        let _held = crate::repo::leftovers::hold(staging.path())?;
        let genesis = Genesis {
            root,
            recipients,
            nonce,
            succeeds,
            time: opts.clock.now()?,
        };
        let (config, state) = genesis.stage(staging.path())?;
        let staged = staging.keep();
        crate::util::fsutil::failpoint("install:before-rename");
        // Never over what appeared at the name meanwhile, even an empty directory.
        if let Err(e) = crate::util::create::rename_noreplace(&staged, &dot) {
            // Nothing was installed (another registry got there first): the staging goes too.
            let _ = fs::remove_dir_all(&staged);
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                return Err(RegistryError::AlreadyExists(dot));
            }
            return Err(IoError::from_source("rename into place", &dot, e).into());
        }
        fsync_dir(parent)?;
        TrustFile::add_pin(
            &opts.trust.file,
            Pin {
                path: trust::absolute(&dot).to_string_lossy().into_owned(),
                registry: config.registry_id,
                root: state.root().clone(),
                floor: None,
            },
        )?;
        let reg = Registry {
            store: Store::new(&dot),
            dot,
            config,
            pin: PinStatus::HostFile(state.root().clone()),
            root: state.root().clone(),
            host: host.clone(),
            floor: None,
            lock_timeout: opts.lock_timeout,
            clock: opts.clock.clone(),
            ledger_hashed: Default::default(),
        };
        let seen = Seen {
            head: state.head(),
            seq: state.seq(),
            state: state.hash(),
            ledger: reg.ledger_digest(state.seq()),
        };
        host.record(reg.id(), &seen)?;
        Ok((reg, Verified::new(state)))
    }

    /// Finds the registry where `opts` says ([`OpenOptions::registry`], else the current
    /// directory and its parents: [`discover`]) and opens it: what every command of the CLI
    /// does first.
    pub fn find(opts: &OpenOptions) -> Result<Registry, RegistryError> {
        Registry::open(&discover(opts.registry.as_deref())?, opts)
    }

    /// Opens the registry at `dot` (its `.registry` directory) and checks its genesis root
    /// against the host's pin.
    ///
    /// A registry whose directories are links, or whose fixed files are links or special files,
    /// is refused before anything in it is read ([`crate::repo::layout::check_skeleton`]).
    pub fn open(dot: &Path, opts: &OpenOptions) -> Result<Registry, RegistryError> {
        crate::repo::layout::check_skeleton(dot)?;
        let config = read_config(dot)?;
        let store = Store::new(dot);
        let id = config.registry_id;
        let corrupt = |detail: String| RegistryError::CorruptObject {
            id,
            path: dot.join("config.json"),
            detail,
        };
        let genesis = store
            .get(&id, ledger::ENTRY_LIMIT)
            .map_err(|e| corrupt(format!("registry id {id}: {e}")))?;
        let (_, genesis) = Entry::parse(&genesis)
            .map_err(|e| corrupt(format!("registry id does not name a genesis entry: {e}")))?;
        // config.json is unsigned: its version must be the one genesis signed (FORMAT.md §1.1).
        if let crate::format::entry::Body::Genesis(g) = &genesis.body
            && g.format_version != config.format_version
        {
            return Err(corrupt(format!(
                "format_version {} is not the version {} its genesis entry names",
                config.format_version, g.format_version
            )));
        }
        let root = genesis.header.actor;
        let (pin, floor) = trust::check(&opts.trust, dot, &id, &root)?;
        Ok(Registry {
            dot: dot.to_path_buf(),
            store,
            config,
            pin,
            root,
            host: opts.trust.host.clone(),
            floor,
            lock_timeout: opts.lock_timeout,
            clock: opts.clock.clone(),
            ledger_hashed: Default::default(),
        })
    }

    /// The `.registry` directory.
    pub fn path(&self) -> &Path {
        &self.dot
    }

    /// The registry id.
    pub fn id(&self) -> &ObjectId {
        &self.config.registry_id
    }

    /// The genesis root fingerprint.
    pub fn root(&self) -> &Fingerprint {
        &self.root
    }

    /// How the genesis root was pinned.
    pub fn pin(&self) -> &PinStatus {
        &self.pin
    }

    /// The object store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The host state this registry was opened with.
    pub fn host(&self) -> &HostState {
        &self.host
    }

    /// The clock this registry was opened with.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
}

/// What a new registry's genesis entry is made of.
struct Genesis<'a> {
    root: &'a SecretKey,
    recipients: Vec<String>,
    nonce: [u8; GENESIS_NONCE_LEN],
    succeeds: Option<Succession>,
    time: String,
}

impl Genesis<'_> {
    /// Writes a whole registry into the staging directory `s`: its skeleton, the signed genesis
    /// entry, the ledger, index, checkpoint and config.
    fn stage(self, s: &Path) -> Result<(Config, State), RegistryError> {
        make_skeleton(s)?;
        let store = Store::new(s);
        let root = self.root;
        let entry = Entry {
            header: Header {
                actor: root.public().fingerprint().clone(),
                prev: None,
                registry: None,
                seq: 0,
                time: self.time,
            },
            body: genesis_body(root.public(), self.recipients, &self.nonce, self.succeeds),
        };
        let bytes =
            crate::format::limits::sign_bytes(entry.body.kind(), &entry.to_payload()?, root)?;
        let id = store.put_bytes(&bytes)?;
        let (state, _) = State::from_genesis(id, &entry)?;
        let config = Config {
            format_version: FORMAT_VERSION,
            registry_id: id,
        };
        write_head_files(s, &state, &entry.header.time, root)?;
        fs::write(s.join("ledger"), format!("{id}\n")).ctx("write", &s.join("ledger"))?;
        let config_bytes = to_canonical_vec(&config)?;
        fs::write(s.join("config.json"), config_bytes).ctx("write", &s.join("config.json"))?;
        set_dir_mode(s)?;
        Ok((config, state))
    }
}

/// Creates the directories and the lock file of a new registry in the staging directory `s`.
pub(in crate::repo) fn make_skeleton(s: &Path) -> Result<(), RegistryError> {
    for d in ["objects", "tmp", "index", "refs/models", "refs/slots"] {
        fs::create_dir_all(s.join(d)).ctx("create directory", &s.join(d))?;
    }
    File::create(s.join("lock")).ctx("create", &s.join("lock"))?;
    Ok(())
}

/// Writes `index/` and the checkpoint for a state (used by init; commit writes them in
/// its own order around the ledger append).
fn write_head_files(
    dot: &Path,
    state: &State,
    time: &str,
    key: &SecretKey,
) -> Result<(), RegistryError> {
    let files = state.clone().index_files();
    index::write_index(dot, &files)?;
    let cp = ledger::sign_checkpoint(state, ObjectId::of(&files.root), time.to_string(), key)?;
    fs::write(dot.join("checkpoint"), cp).ctx("write", &dot.join("checkpoint"))?;
    Ok(())
}

#[cfg(unix)]
pub(in crate::repo) fn set_dir_mode(dir: &Path) -> Result<(), RegistryError> {
    use std::os::unix::fs::PermissionsExt as _;
    // tempfile makes the staging directory 0700; a registry is meant to be read by consumers
    // running as other users, like a git repository.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).ctx("set permissions of", dir)?;
    Ok(())
}

#[cfg(not(unix))]
fn set_dir_mode(_dir: &Path) -> Result<(), RegistryError> {
    Ok(())
}
