//! A registry on disk: finding it, creating it, opening it, and committing one signed action
//! (FORMAT.md §1, §6).

use crate::encoding::{self, from_canonical_slice, now, to_canonical_vec};
use crate::entry::{Body, Entry, EntryError, Header};
use crate::envelope::{self, EnvelopeError, Unverified};
use crate::fsutil::{
    IoContext, IoError, append_durably, failpoint, fsync_dir, read_small, replace_file,
};
use crate::keys::{Fingerprint, SecretKey};
use crate::ledger::{self, LINE_LEN, LedgerError, Replay, Verified, Visit};
use crate::state::{FORMAT_VERSION, State, StateError, genesis_body, normalize_recipients};
use crate::store::{ObjectId, Store, StoreError};
use crate::trust::{self, Pin, PinStatus, TrustError, TrustFile, TrustOptions};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The registry directory's name.
pub const DOT_REGISTRY: &str = ".registry";

/// Default wait for the writer lock; `REG_LOCK_TIMEOUT` (seconds) overrides it.
const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// `config.json` (FORMAT.md §1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The format version.
    pub format_version: u32,
    /// The registry id (the genesis entry's id).
    pub registry_id: ObjectId,
}

/// Errors of registry-level operations.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No registry where one was looked for.
    #[error("no registry found {0}")]
    NotFound(String),
    /// `reg init` where a registry exists.
    #[error("a registry already exists at `{0}`")]
    AlreadyExists(PathBuf),
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
    /// Another writer holds the lock.
    #[error("registry is busy: another reg process has held `{0}` for more than {1} s")]
    Busy(PathBuf, u64),
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
}

impl From<TrustError> for RegistryError {
    fn from(e: TrustError) -> Self {
        RegistryError::Trust(Box::new(e))
    }
}

/// An opened registry whose genesis root was checked against the host's pin.
#[derive(Debug, Clone)]
pub struct Registry {
    dot: PathBuf,
    store: Store,
    config: Config,
    pin: PinStatus,
    root: Fingerprint,
}

/// The result of one committed action.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The new entry's id.
    pub id: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The state after it.
    pub state: State,
}

/// Finds the `.registry` directory like git finds `.git`: an explicit path (the directory itself
/// or its parent), else the current directory and its ancestors.
pub fn discover(explicit: Option<&Path>) -> Result<PathBuf, RegistryError> {
    if let Some(p) = explicit {
        if p.file_name().is_some_and(|n| n == DOT_REGISTRY) && p.join("config.json").is_file() {
            return Ok(p.to_path_buf());
        }
        let inner = p.join(DOT_REGISTRY);
        if inner.join("config.json").is_file() {
            return Ok(inner);
        }
        return Err(RegistryError::NotFound(format!("at `{}`", p.display())));
    }
    let cwd = std::env::current_dir().ctx("read current directory", Path::new("."))?;
    for dir in cwd.ancestors() {
        let inner = dir.join(DOT_REGISTRY);
        if inner.join("config.json").is_file() {
            return Ok(inner);
        }
    }
    Err(RegistryError::NotFound(format!(
        "in `{}` or any parent directory",
        cwd.display()
    )))
}

impl Registry {
    /// Creates a registry in `parent/.registry`, signed by `root`, and pins it on this host.
    ///
    /// The registry is built in a staging directory beside it and renamed into place, so that a
    /// failure leaves no half-made registry.
    pub fn init(
        parent: &Path,
        root: &SecretKey,
        recipients: Vec<String>,
        trust_file: &Path,
    ) -> Result<(Registry, State), RegistryError> {
        let dot = parent.join(DOT_REGISTRY);
        if fs::symlink_metadata(&dot).is_ok() {
            return Err(RegistryError::AlreadyExists(dot));
        }
        let recipients = normalize_recipients(recipients)?;
        fs::create_dir_all(parent).ctx("create directory", parent)?;
        let staging = tempfile::Builder::new()
            .prefix(".registry-init-")
            .tempdir_in(parent)
            .ctx("create staging directory in", parent)?;
        let s = staging.path();
        for d in ["objects", "tmp", "index", "refs/models", "refs/slots"] {
            fs::create_dir_all(s.join(d)).ctx("create directory", &s.join(d))?;
        }
        File::create(s.join("lock")).ctx("create", &s.join("lock"))?;
        let store = Store::new(s);
        let entry = Entry {
            header: Header {
                actor: root.public().fingerprint().clone(),
                prev: None,
                registry: None,
                seq: 0,
                time: now()?,
            },
            body: genesis_body(root.public(), recipients),
        };
        let bytes = envelope::sign_bytes(entry.body.kind(), &entry.to_payload()?, root)?;
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
        let staged = staging.keep();
        fs::rename(&staged, &dot).ctx("rename into place", &dot)?;
        fsync_dir(parent)?;
        TrustFile::add_pin(
            trust_file,
            Pin {
                path: trust::absolute(&dot).to_string_lossy().into_owned(),
                registry: id,
                root: state.root.clone(),
            },
        )?;
        let reg = Registry {
            store: Store::new(&dot),
            dot,
            config,
            pin: PinStatus::HostFile(state.root.clone()),
            root: state.root.clone(),
        };
        Ok((reg, state))
    }

    /// Opens the registry at `dot` (its `.registry` directory) and checks its genesis root
    /// against the host's pin.
    pub fn open(dot: &Path, trust_opts: &TrustOptions) -> Result<Registry, RegistryError> {
        let config = read_config(dot)?;
        let store = Store::new(dot);
        let genesis = store.get(&config.registry_id, ledger::ENTRY_LIMIT)?;
        let root = Unverified::parse(&genesis)
            .map_err(EntryError::from)
            .and_then(|env| Entry::from_envelope(&env))
            .map_err(|e| RegistryError::Config {
                path: dot.join("config.json"),
                detail: format!("registry id does not name a genesis entry: {e}"),
            })?
            .header
            .actor;
        let pin = trust::check(trust_opts, dot, &config.registry_id, &root)?;
        Ok(Registry {
            dot: dot.to_path_buf(),
            store,
            config,
            pin,
            root,
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

    /// Replays and verifies the whole ledger, calling `visit` for each entry.
    pub fn replay(
        &self,
        visit: &mut dyn FnMut(&Visit<'_>),
    ) -> Result<Verified<Replay>, RegistryError> {
        Ok(ledger::replay(
            &self.dot,
            &self.store,
            &self.config.registry_id,
            visit,
        )?)
    }

    /// The verified current state.
    pub fn state(&self) -> Result<State, RegistryError> {
        Ok(self.replay(&mut |_| {})?.into_inner().state)
    }

    /// Whether `index/state.json` holds the state the checkpoint commits to.
    pub fn index_is_fresh(&self, replay: &Replay) -> bool {
        read_small(&self.dot.join("index/state.json"), 1 << 30)
            .is_ok_and(|b| ObjectId::of(&b) == replay.checkpoint.state)
    }

    /// Appends one signed action to the ledger (FORMAT.md §6): checks it against the verified
    /// state first, so that a refused action writes nothing.
    pub fn commit(&self, key: &SecretKey, body: Body) -> Result<Committed, RegistryError> {
        self.begin()?.commit(key, body)
    }

    /// Starts a write: takes the lock, replays and verifies the ledger, removes the residue of
    /// an interrupted write. The caller may check the state and store objects before
    /// [`Transaction::commit`]; dropping the transaction instead writes no entry.
    pub fn begin(&self) -> Result<Transaction<'_>, RegistryError> {
        let lock = self.lock()?;
        let replay = self.replay(&mut |_| {})?.into_inner();
        let ledger_path = self.dot.join("ledger");
        if replay.residue_lines > 0 || replay.partial_line {
            // Lines after the checkpoint are an interrupted write that never committed.
            let keep = (replay.checkpoint.seq + 1) * LINE_LEN as u64;
            let f = OpenOptions::new()
                .write(true)
                .open(&ledger_path)
                .ctx("open", &ledger_path)?;
            f.set_len(keep).ctx("truncate residue of", &ledger_path)?;
            f.sync_all().ctx("sync", &ledger_path)?;
        }
        Ok(Transaction {
            reg: self,
            state: replay.state,
            _lock: lock,
        })
    }

    /// Takes the exclusive writer lock, waiting at most `REG_LOCK_TIMEOUT` seconds.
    pub fn lock(&self) -> Result<WriteLock, RegistryError> {
        let path = self.dot.join("lock");
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .ctx("open lock file", &path)?;
        let timeout = std::env::var("REG_LOCK_TIMEOUT")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .map_or(DEFAULT_LOCK_TIMEOUT, Duration::from_secs);
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(WriteLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(RegistryError::Busy(path, timeout.as_secs()));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(IoError::from_source("lock", &path, e).into());
                }
            }
        }
    }
}

/// A write in progress: the writer lock is held and the state is verified.
#[derive(Debug)]
pub struct Transaction<'a> {
    reg: &'a Registry,
    state: State,
    _lock: WriteLock,
}

impl Transaction<'_> {
    /// The verified state the entry will follow.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Checks, without writing anything, that `key` may sign `body` next and that its rules hold:
    /// so that a caller can store the objects an entry refers to only once it will be accepted.
    pub fn check(&self, key: &SecretKey, body: &Body) -> Result<(), RegistryError> {
        let entry = Entry {
            header: Header {
                actor: key.public().fingerprint().clone(),
                prev: Some(self.state.head),
                registry: Some(self.state.registry),
                seq: self.state.seq + 1,
                time: String::new(),
            },
            body: body.clone(),
        };
        self.state.authorize(&entry.header.actor, &entry.body)?;
        self.state.clone().apply(self.state.head, &entry)?;
        Ok(())
    }

    /// Signs `body` as the next entry and commits it (FORMAT.md §6, steps 2 to 5).
    pub fn commit(self, key: &SecretKey, body: Body) -> Result<Committed, RegistryError> {
        let reg = self.reg;
        let mut state = self.state;
        let entry = Entry {
            header: Header {
                actor: key.public().fingerprint().clone(),
                prev: Some(state.head),
                registry: Some(state.registry),
                seq: state.seq + 1,
                time: now()?,
            },
            body,
        };
        let trusted = state.authorize(&entry.header.actor, &entry.body)?;
        debug_assert_eq!(trusted.to_bytes(), key.public().to_bytes());
        let bytes = envelope::sign_bytes(entry.body.kind(), &entry.to_payload()?, key)?;
        let id = ObjectId::of(&bytes);
        state.apply(id, &entry)?;

        reg.store.put_bytes(&bytes)?;
        failpoint("commit:after-object");
        let tmp = reg.dot.join("tmp");
        replace_file(
            &tmp,
            &reg.dot.join("index/state.json"),
            &state.to_canonical(),
        )?;
        failpoint("commit:after-index");
        append_durably(&reg.dot.join("ledger"), format!("{id}\n").as_bytes())?;
        failpoint("commit:after-ledger");
        let cp = ledger::sign_checkpoint(&state, entry.header.time.clone(), key)?;
        replace_file(&tmp, &reg.dot.join("checkpoint"), &cp)?;
        failpoint("commit:after-checkpoint");
        Ok(Committed {
            id,
            seq: state.seq,
            state,
        })
    }
}

/// The held writer lock; dropping it releases the lock.
#[derive(Debug)]
pub struct WriteLock {
    _file: File,
}

fn read_config(dot: &Path) -> Result<Config, RegistryError> {
    let path = dot.join("config.json");
    let bytes = read_small(&path, 64 * 1024)?;
    let bad = |detail: String| RegistryError::Config {
        path: path.clone(),
        detail,
    };
    // Read the version before the strict parse, so that a newer format is named as such
    // rather than reported as unknown fields.
    let loose: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    match loose.get("format_version").and_then(|v| v.as_u64()) {
        Some(v) if v > u64::from(FORMAT_VERSION) => {
            return Err(RegistryError::NewerFormat {
                path: dot.to_path_buf(),
                found: v,
            });
        }
        Some(_) => {}
        None => return Err(bad("no format_version".into())),
    }
    from_canonical_slice(&bytes).map_err(|e| bad(e.to_string()))
}

/// Writes `index/state.json` and the checkpoint for a state (used by init; commit writes them in
/// its own order around the ledger append).
fn write_head_files(
    dot: &Path,
    state: &State,
    time: &str,
    key: &SecretKey,
) -> Result<(), RegistryError> {
    fs::write(dot.join("index/state.json"), state.to_canonical())
        .ctx("write", &dot.join("index/state.json"))?;
    let cp = ledger::sign_checkpoint(state, time.to_string(), key)?;
    fs::write(dot.join("checkpoint"), cp).ctx("write", &dot.join("checkpoint"))?;
    Ok(())
}

#[cfg(unix)]
fn set_dir_mode(dir: &Path) -> Result<(), RegistryError> {
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
