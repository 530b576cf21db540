//! A registry on disk: finding it, creating it, opening it, and committing one signed action
//! (FORMAT.md §1, §6).

use crate::crypto::envelope::{self, EnvelopeError, Unverified};
use crate::crypto::keys::{Fingerprint, SecretKey};
use crate::format::entry::{Body, Entry, EntryError, Header};
use crate::format::id::ObjectId;
use crate::repo::ledger::{self, LINE_LEN, LedgerError, Replay, Verified, Visit};
use crate::repo::store::{Store, StoreError};
use crate::repo::trust::{
    self, HostState, HostStateError, Pin, PinStatus, Seen, TrustError, TrustFile, TrustOptions,
};
use crate::state::{
    FORMAT_VERSION, GENESIS_NONCE_LEN, State, StateError, genesis_body, normalize_recipients,
    random_nonce,
};
use crate::util::encoding::{self, from_canonical_slice, now, to_canonical_vec};
use crate::util::fsutil::{
    IoContext, IoError, append_durably, failpoint, fsync_dir, read_small, replace_file,
    replace_file_unsynced,
};
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Largest index reg reads (about 250 bytes a model: room for millions of models).
const INDEX_LIMIT: u64 = 1 << 30;

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
    /// The checkpoint is older than the registry's policy allows.
    #[error(
        "the registry's checkpoint was signed at {time}, more than the {days} days its policy allows: refusing a stale medium until it is re-signed"
    )]
    Expired {
        /// When the checkpoint was signed.
        time: String,
        /// The policy's limit.
        days: u32,
    },
    /// `reg renew` with a key that did not sign the head entry.
    #[error("the checkpoint must be signed by the head entry's signer {head_actor}, not {given}")]
    NotHeadSigner {
        /// The key given.
        given: Fingerprint,
        /// The head entry's signer.
        head_actor: Fingerprint,
    },
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

/// An opened registry whose genesis root was checked against the host's pin.
#[derive(Debug, Clone)]
pub struct Registry {
    dot: PathBuf,
    store: Store,
    config: Config,
    pin: PinStatus,
    root: Fingerprint,
    host: HostState,
    floor: Option<trust::Floor>,
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
    pub state: State,
}

/// Finds the `.registry` directory like git finds `.git`: an explicit path (the directory itself
/// or its parent), else the current directory and its ancestors.
pub fn discover(explicit: Option<&Path>) -> Result<PathBuf, RegistryError> {
    // A `.registry` directory is a registry even with a damaged or missing config.json: opening
    // it then says what is wrong, instead of "no registry found".
    if let Some(p) = explicit {
        // Rebuilt from its components: `x/.registry/` with a trailing slash would otherwise make
        // every later `lstat` of it follow a link planted there.
        let p: PathBuf = p.components().collect();
        let p = p.as_path();
        if p.file_name().is_some_and(|n| n == DOT_REGISTRY) && p.is_dir() {
            return Ok(p.to_path_buf());
        }
        let inner = p.join(DOT_REGISTRY);
        if inner.is_dir() {
            return Ok(inner);
        }
        return Err(RegistryError::NotFound(format!("at `{}`", p.display())));
    }
    let cwd = std::env::current_dir().ctx("read current directory", Path::new("."))?;
    for dir in cwd.ancestors() {
        let inner = dir.join(DOT_REGISTRY);
        if inner.is_dir() {
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
        trust_file: &Path,
        host: &HostState,
    ) -> Result<(Registry, State), RegistryError> {
        let dot = parent.join(DOT_REGISTRY);
        if fs::symlink_metadata(&dot).is_ok() {
            return Err(RegistryError::AlreadyExists(dot));
        }
        // Before anything is created: a registry this host cannot record would be unprotected.
        host.ensure_writable()?;
        let recipients = normalize_recipients(recipients)?;
        let nonce = match nonce {
            Some(n) => *n,
            None => random_nonce()?,
        };
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
            body: genesis_body(root.public(), recipients, &nonce),
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
                floor: None,
            },
        )?;
        let reg = Registry {
            store: Store::new(&dot),
            dot,
            config,
            pin: PinStatus::HostFile(state.root.clone()),
            root: state.root.clone(),
            host: host.clone(),
            floor: None,
        };
        let seen = Seen {
            head: state.head,
            seq: state.seq,
            state: state.hash(),
            ledger: reg.ledger_digest(state.seq),
        };
        host.record(reg.id(), &seen)?;
        Ok((reg, state))
    }

    /// Opens the registry at `dot` (its `.registry` directory) and checks its genesis root
    /// against the host's pin.
    ///
    /// A registry whose directories are links, or whose fixed files are links or special files,
    /// is refused before anything in it is read ([`crate::repo::layout::check_skeleton`]).
    pub fn open(dot: &Path, trust_opts: &TrustOptions) -> Result<Registry, RegistryError> {
        crate::repo::layout::check_skeleton(dot)?;
        let config = read_config(dot)?;
        let store = Store::new(dot);
        let genesis = store
            .get(&config.registry_id, ledger::ENTRY_LIMIT)
            .map_err(|e| RegistryError::Config {
                path: dot.join("config.json"),
                detail: format!("registry id {}: {e}", config.registry_id),
            })?;
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
        let floor = match pin {
            PinStatus::HostFile(_) => trust::pinned_floor(&trust_opts.file, &config.registry_id)?,
            _ => None,
        };
        Ok(Registry {
            dot: dot.to_path_buf(),
            store,
            config,
            pin,
            root,
            host: trust_opts.host.clone(),
            floor,
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
    ///
    /// A host that verified a newer checkpoint of this registry before refuses an older one
    /// (a rolled-back medium) after the replay; a successful replay is recorded as seen, and
    /// not being able to record it is an error (the host could not refuse a rollback later).
    pub fn replay(
        &self,
        visit: &mut dyn FnMut(&Visit<'_>),
    ) -> Result<Verified<Replay>, RegistryError> {
        let replay = self.verify(visit)?;
        self.record(&replay.checkpoint)?;
        Ok(replay)
    }

    /// Like [`Registry::replay`] without recording anything on the host: the whole ledger, the
    /// pin's floor and this host's record are checked, and nothing is written, so that a
    /// command that may still refuse (`reg trust add`) records only once it has accepted.
    pub fn verify(
        &self,
        visit: &mut dyn FnMut(&Visit<'_>),
    ) -> Result<Verified<Replay>, RegistryError> {
        let seen = self.host.load(self.id())?;
        let at_floor = self.floor.as_ref().map(|f| f.seq);
        let mut floor_id = None;
        let replay = ledger::replay(&self.dot, &self.store, &self.config.registry_id, &mut |v| {
            if Some(v.entry.header.seq) == at_floor {
                floor_id = Some(v.id);
            }
            visit(v)
        })?;
        let cp = &replay.checkpoint;
        self.check_floor(cp.seq, floor_id)?;
        if let Some(seen) = seen {
            self.check_not_rolled_back(&seen, cp)?;
        }
        Ok(replay)
    }

    /// Records a verified checkpoint as this host's latest for the registry, if the registry is
    /// pinned. An unpinned registry is never recorded: it proves nothing yet, and a record made
    /// from whatever medium a host met first would later refuse the genuine one as a "rollback"
    /// (a medium forked by any key the registry trusts could lock the real one out).
    pub fn record(&self, cp: &ledger::Checkpoint) -> Result<(), RegistryError> {
        if self.pin == PinStatus::Unpinned {
            return Ok(());
        }
        let seen = Seen {
            head: cp.head,
            seq: cp.seq,
            state: cp.state,
            ledger: self.ledger_digest(cp.seq),
        };
        Ok(self.host.record(self.id(), &seen)?)
    }

    /// The host state this registry was opened with.
    pub fn host(&self) -> &HostState {
        &self.host
    }

    /// The verified current state.
    ///
    /// Fast path (FORMAT.md §8): when the checkpoint is the one this host verified last, the
    /// index is used after one hash and one signature check. Otherwise the whole ledger is
    /// replayed and verified, and the new checkpoint recorded.
    ///
    /// A checkpoint older than the policy's `checkpoint_max_age_days` (by this host's clock) is
    /// refused as expired; writers, which re-sign it, read through [`Registry::begin`] instead.
    pub fn state(&self) -> Result<State, RegistryError> {
        let (state, time) = self.current()?;
        self.check_fresh(&state, &time)?;
        Ok(state)
    }

    /// Refuses a checkpoint signed at `time` that the state's policy says has expired.
    pub fn check_fresh(&self, state: &State, time: &str) -> Result<(), RegistryError> {
        let Some(days) = state.policy.checkpoint_max_age_days else {
            return Ok(());
        };
        let signed = encoding::parse_rfc3339(time);
        let now = encoding::parse_rfc3339(&now()?);
        let (Some(signed), Some(now)) = (signed, now) else {
            return Ok(()); // times were checked when read; the host clock by `now`
        };
        if now.saturating_sub(signed) > u64::from(days) * 86_400 {
            return Err(RegistryError::Expired {
                time: time.to_string(),
                days,
            });
        }
        Ok(())
    }

    /// The verified current state and its checkpoint's time, expired or not.
    fn current(&self) -> Result<(State, String), RegistryError> {
        // The host record first, then the checkpoint: writers record after they commit, so a
        // checkpoint read later is never older than a record read earlier (no false rollback
        // when another process commits meanwhile).
        let seen = self.host.load(self.id())?;
        let (env, cp) = ledger::read_checkpoint(&self.dot.join("checkpoint"))?;
        if let Some(floor) = &self.floor {
            // Read from the ledger file here; the full replay checks it again on verified ids.
            self.check_floor(cp.seq, ledger::id_at(&self.dot.join("ledger"), floor.seq))?;
        }
        if let Some(seen) = &seen {
            self.check_not_rolled_back(seen, &cp)?;
            if seen.seq == cp.seq
                && seen.head == cp.head
                && seen.state == cp.state
                && seen.ledger.is_some()
                && self.ledger_digest(cp.seq) == seen.ledger
                && let Some(state) = self.verified_index(&env, &cp)
            {
                return Ok((state, cp.time));
            }
        }
        let replay = self.replay(&mut |_| {})?.into_inner();
        Ok((replay.state, replay.checkpoint.time))
    }

    /// Re-signs the checkpoint with the current time, for the same head (`reg renew`): what
    /// makes an expired registry readable again (FORMAT.md §6). Only the head entry's signer
    /// may sign its checkpoint, as always; nothing else changes.
    pub fn renew(&self, key: &SecretKey) -> Result<ledger::Checkpoint, RegistryError> {
        let _lock = self.lock()?;
        self.host.ensure_writable()?;
        let (state, _) = self.current()?;
        crate::repo::layout::check_skeleton(&self.dot)?;
        let head = ledger::read_entry(&self.store, &state.head)
            .map_err(|e| LedgerError::Checkpoint(format!("head entry {}: {e}", state.head)))?;
        if head.header.actor != *key.public().fingerprint() {
            return Err(RegistryError::NotHeadSigner {
                given: key.public().fingerprint().clone(),
                head_actor: head.header.actor,
            });
        }
        let time = now()?;
        let bytes = ledger::sign_checkpoint(&state, state.hash(), time, key)?;
        replace_file(&self.dot.join("tmp"), &self.dot.join("checkpoint"), &bytes)?;
        let (_, cp) = ledger::read_checkpoint(&self.dot.join("checkpoint"))?;
        Ok(cp)
    }

    /// BLAKE3 of the `ledger` file's first `seq + 1` lines (lines after them are the residue of
    /// an interrupted write), or `None` if it has fewer. The fast path trusts the host's record
    /// of the checkpoint, never a `ledger` file that disagrees with the one it verified: a line
    /// lost, changed or swapped anywhere sends the reader to the full replay, which names it.
    /// About 3 ms for 100,000 entries.
    pub fn ledger_digest(&self, seq: u64) -> Option<ObjectId> {
        use std::io::Read as _;
        let len = seq.checked_add(1)?.checked_mul(LINE_LEN as u64)?;
        let file = crate::util::fsutil::open_regular(&self.dot.join("ledger")).ok()?;
        let mut hasher = blake3::Hasher::new();
        let copied = std::io::copy(&mut file.take(len), &mut hasher).ok()?;
        (copied == len).then(|| ObjectId::from_hash(hasher.finalize()))
    }

    /// The index, if it hashes to the checkpoint's state and the checkpoint's signature verifies.
    fn verified_index(&self, env: &Unverified, cp: &ledger::Checkpoint) -> Option<State> {
        let bytes = read_small(&self.dot.join("index/state.json"), INDEX_LIMIT).ok()?;
        if ObjectId::of(&bytes) != cp.state {
            return None;
        }
        // The bytes hash to the state the signed checkpoint commits to, which was verified
        // canonical when it was computed: parse them directly, without a canonical re-check.
        let mut state: State = serde_json::from_slice(&bytes).ok()?;
        state.index_names();
        if state.registry != *self.id() || state.head != cp.head || state.seq != cp.seq {
            return None;
        }
        // The head entry's signer, read from the entry the checkpoint names (hash-checked by the
        // store), never from the checkpoint's own key id.
        let head = ledger::read_entry(&self.store, &cp.head).ok()?;
        ledger::verify_checkpoint_signature(env, &state, &head.header.actor).ok()?;
        Some(state)
    }

    /// Refuses a history that does not reach the pin's floor: `seq` is the checkpoint's, `id`
    /// the entry listed at the floor's seq.
    fn check_floor(&self, seq: u64, id: Option<ObjectId>) -> Result<(), RegistryError> {
        let Some(floor) = &self.floor else {
            return Ok(());
        };
        let found = match id {
            _ if seq < floor.seq => format!("only {} entries", seq + 1),
            Some(id) if floor.matches(&id) => return Ok(()),
            Some(id) => format!("entry {} with head {id}", floor.seq),
            None => format!("no entry {}", floor.seq),
        };
        Err(RegistryError::BelowFloor {
            floor: floor.clone(),
            found,
        })
    }

    /// Refuses a checkpoint older than, or diverging from, the one this host verified.
    fn check_not_rolled_back(
        &self,
        seen: &Seen,
        cp: &ledger::Checkpoint,
    ) -> Result<(), RegistryError> {
        let forked = seen.seq <= cp.seq
            && ledger::id_at(&self.dot.join("ledger"), seen.seq).is_some_and(|id| id != seen.head);
        if cp.seq < seen.seq || (cp.seq == seen.seq && cp.head != seen.head) || forked {
            return Err(RegistryError::RolledBack {
                found_seq: cp.seq,
                found_head: cp.head,
                seen_seq: seen.seq,
                seen_head: seen.head,
            });
        }
        Ok(())
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

    /// Starts a write: takes the lock, establishes the verified state and checks the registry
    /// can take a write, changing nothing yet: the residue of an interrupted write is removed,
    /// and refs it left behind repaired, only by [`Transaction::commit`], so that a refused
    /// action leaves the registry exactly as it was. The caller may check the state and store
    /// objects before committing; dropping the transaction instead writes no entry.
    pub fn begin(&self) -> Result<Transaction<'_>, RegistryError> {
        let lock = self.lock()?;
        self.host.ensure_writable()?;
        // Not `state()`: an expired checkpoint does not stop a write, which re-signs it.
        let (state, _) = self.current()?;
        self.check_writable(&state)?;
        Ok(Transaction {
            reg: self,
            state,
            _lock: lock,
        })
    }

    /// Like [`Registry::begin`], but verifies the whole ledger whatever the host recorded, and
    /// returns the ids of its entries up to the checkpoint: for `reg gc`, which deletes what no
    /// verified entry reaches and so must never trust a `ledger` file it has not verified.
    pub fn begin_verified(&self) -> Result<(Transaction<'_>, Vec<ObjectId>), RegistryError> {
        let lock = self.lock()?;
        self.host.ensure_writable()?;
        // Before anything else: gc deletes, so a link or special file anywhere stops it.
        crate::repo::layout::check_all(&self.dot)?;
        let mut ids = Vec::new();
        let state = self.replay(&mut |v| ids.push(v.id))?.into_inner().state;
        self.check_writable(&state)?;
        let tx = Transaction {
            reg: self,
            state,
            _lock: lock,
        };
        Ok((tx, ids))
    }

    /// Under the lock, with a verified state, changing nothing: the layout holds, the `ledger`
    /// file is a single-linked regular file at least as long as the checkpoint says (a write is
    /// never appended at the wrong position), and the refs-pending marker is a plain file.
    fn check_writable(&self, state: &State) -> Result<(), RegistryError> {
        crate::repo::layout::check_skeleton(&self.dot)?;
        let ledger_path = self.dot.join("ledger");
        let keep = (state.seq + 1) * LINE_LEN as u64;
        let f = crate::util::fsutil::open_regular_rw(&ledger_path, false)?;
        let len = f.metadata().ctx("read", &ledger_path)?.len();
        if len < keep {
            // The state was verified against this file a moment ago; only a concurrent editor
            // could make it shorter. Never append at the wrong position.
            return Err(LedgerError::Truncated {
                checkpoint_seq: state.seq,
                lines: len / LINE_LEN as u64,
            }
            .into());
        }
        Ok(())
    }

    /// Under the lock, as a commit starts (after its checks): removes the residue of an
    /// interrupted write, the lines after entry `seq` of the checkpoint.
    pub(crate) fn truncate_residue(&self, seq: u64) -> Result<(), RegistryError> {
        let ledger_path = self.dot.join("ledger");
        let keep = (seq + 1) * LINE_LEN as u64;
        let f = crate::util::fsutil::open_regular_rw(&ledger_path, false)?;
        let len = f.metadata().ctx("read", &ledger_path)?.len();
        if len > keep {
            // Lines after the checkpoint are an interrupted write that never committed.
            f.set_len(keep).ctx("truncate residue of", &ledger_path)?;
            f.sync_all().ctx("sync", &ledger_path)?;
        }
        Ok(())
    }

    /// Takes the exclusive writer lock, waiting at most `REG_LOCK_TIMEOUT` seconds.
    pub fn lock(&self) -> Result<WriteLock, RegistryError> {
        let path = self.dot.join("lock");
        let file = crate::util::fsutil::open_regular_rw(&path, false)?;
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

/// One entry a batch wrote: its id, seq and content.
pub type Written = (ObjectId, u64, Entry);

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
                time: now()?,
            },
            body: body.clone(),
        };
        // Signer and rule, on the state as it is: nothing is cloned to test one entry.
        self.state.check(&entry)?;
        // What signing would refuse (a bad clock, an entry over the readers' limit), refused
        // before the caller stores the objects the entry refers to.
        entry.check_fields()?;
        entry.check_writable()?;
        Ok(())
    }

    /// Signs `body` as the next entry and commits it (FORMAT.md §6, steps 2 to 5).
    pub fn commit(self, key: &SecretKey, body: Body) -> Result<Committed, RegistryError> {
        let (mut entries, state) = self.commit_batch(key, vec![body])?;
        let (id, seq, entry) = entries.pop().expect("one body gives one entry");
        Ok(Committed {
            id,
            seq,
            entry,
            state,
        })
    }

    /// Signs and commits several entries in order with one index, ledger and checkpoint write:
    /// all of them or, if any is refused or the process dies, none.
    pub fn commit_batch(
        self,
        key: &SecretKey,
        bodies: Vec<Body>,
    ) -> Result<(Vec<Written>, State), RegistryError> {
        let reg = self.reg;
        let mut state = self.state;
        let seq_before = state.seq;
        let time = now()?;
        let mut done = Vec::with_capacity(bodies.len());
        let mut objects = Vec::with_capacity(bodies.len());
        let mut touched = Touched::default();
        for body in bodies {
            let entry = Entry {
                header: Header {
                    actor: key.public().fingerprint().clone(),
                    prev: Some(state.head),
                    registry: Some(state.registry),
                    seq: state.seq + 1,
                    time: time.clone(),
                },
                body,
            };
            let trusted = state.authorize(&entry.header.actor, &entry.body)?;
            debug_assert_eq!(trusted.to_bytes(), key.public().to_bytes());
            let bytes = envelope::sign_bytes(entry.body.kind(), &entry.to_payload()?, key)?;
            let id = ObjectId::of(&bytes);
            state.apply(id, &entry)?;
            touched.add(&entry.body);
            objects.push(bytes);
            done.push((id, state.seq, entry));
        }
        let Some((head, _, _)) = done.last() else {
            return Ok((done, state));
        };
        let head = *head;
        for path in touched.ref_paths(&reg.dot) {
            crate::repo::layout::check_replaceable(&path)?;
        }
        // Every check passed: from here the registry changes. Refs an interrupted commit left
        // behind (its marker is still there) are rewritten with this commit's, after its commit
        // point.
        let repair_refs = crate::repo::refs::is_pending(&reg.dot);
        reg.truncate_residue(seq_before)?;

        for bytes in &objects {
            reg.store.put_bytes(bytes)?;
        }
        failpoint("commit:after-object");
        let tmp = reg.dot.join("tmp");
        let canonical = state.to_canonical();
        let state_hash = ObjectId::of(&canonical);
        // The index is checked against the checkpoint before any use and rebuilt when it does
        // not match, so it needs no fsync of its own.
        replace_file_unsynced(&tmp, &reg.dot.join("index/state.json"), &canonical)?;
        failpoint("commit:after-index");
        crate::repo::refs::mark_pending(&reg.dot)?;
        let lines: String = done.iter().map(|(id, _, _)| format!("{id}\n")).collect();
        append_durably(&reg.dot.join("ledger"), lines.as_bytes())?;
        failpoint("commit:after-ledger");
        let cp = ledger::sign_checkpoint(&state, state_hash, time, key)?;
        replace_file(&tmp, &reg.dot.join("checkpoint"), &cp)?;
        failpoint("commit:after-checkpoint");
        // Committed. What follows is derived and repaired by the next writer if lost.
        let recorded = match reg.pin {
            PinStatus::Unpinned => Ok(()),
            _ => reg.host.record(
                reg.id(),
                &Seen {
                    head,
                    seq: state.seq,
                    state: state_hash,
                    ledger: reg.ledger_digest(state.seq),
                },
            ),
        };
        if repair_refs {
            crate::repo::refs::rewrite_all(&reg.dot, &state)?;
            fsync_dir(&reg.dot.join("refs/models"))?;
            fsync_dir(&reg.dot.join("refs/slots"))?;
        } else {
            crate::repo::refs::write(&reg.dot, &state, &touched.models, &touched.slots)?;
        }
        failpoint("commit:after-refs");
        crate::repo::refs::clear_pending(&reg.dot)?;
        recorded?;
        Ok((done, state))
    }
}

/// The models and slots a batch of entries changed, whose refs must be rewritten.
#[derive(Default)]
struct Touched {
    models: std::collections::BTreeSet<ObjectId>,
    slots: std::collections::BTreeSet<String>,
}

impl Touched {
    fn add(&mut self, body: &Body) {
        match body {
            Body::Add(a) => {
                self.models.insert(a.record);
            }
            Body::Transition(t) => {
                self.models.insert(t.model);
                self.slots.extend(t.slots.iter().map(|e| e.slot.clone()));
            }
            Body::Slot(c) => {
                self.slots.insert(c.slot.clone());
            }
            _ => {}
        }
    }

    /// The ref files this batch will replace or remove.
    fn ref_paths(&self, dot: &Path) -> Vec<PathBuf> {
        let models = self
            .models
            .iter()
            .map(|id| crate::repo::refs::model_path(dot, id));
        let slots = self
            .slots
            .iter()
            .map(|s| crate::repo::refs::slot_path(dot, s));
        models.chain(slots).collect()
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
        // Version 0 never existed: a config naming it was not written by reg.
        Some(0) => {
            return Err(bad(
                "format_version 0 is not a format version (the first is 1)".into(),
            ));
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
    let canonical = state.to_canonical();
    fs::write(dot.join("index/state.json"), &canonical)
        .ctx("write", &dot.join("index/state.json"))?;
    let cp = ledger::sign_checkpoint(state, ObjectId::of(&canonical), time.to_string(), key)?;
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
