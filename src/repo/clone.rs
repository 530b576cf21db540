//! Starting a site from a medium (FORMAT.md §11.12): a new registry made from a full transfer
//! file, every entry verified from genesis against a root this host trusts, and pinned.
//!
//! The registry is built in a staging directory beside its destination, exactly as `reg init`
//! builds one, and renamed into place only once complete: a refused or interrupted clone leaves
//! no registry behind, and never a half-made one.

use crate::crypto::keys::Fingerprint;
use crate::format::entry::Entry;
use crate::format::id::ObjectId;
use crate::format::transfer::{ObjectKind, Reader, TransferError};
use crate::repo::config::Config;
use crate::repo::incoming::{ImportError, Receive, Receiver, Start};
use crate::repo::ledger::{EntryProblem, Verified};
use crate::repo::leftovers::{self, Swept};
use crate::repo::registry::{DOT_REGISTRY, OpenOptions, Registry, RegistryError};
use crate::repo::store::Store;
use crate::repo::trust::{self, Pin, PinStatus, Seen, TrustFile};
use crate::state::{FORMAT_VERSION, State};
use crate::util::encoding::to_canonical_vec;
use crate::util::fsutil::{IoContext, fsync_dir};
use crate::util::mount::StagingDir;
use std::fs;
use std::io::Read;
use std::path::Path;

/// Whom a clone trusts: the root fingerprint given (`--trust`), else this host's pin of the
/// registry the file carries, else nobody (the clone is refused, naming the root it would pin).
/// Also returns that pin: a pin this host already holds for the registry is kept as it is,
/// floor included, and `--trust` cannot override it with another root.
fn trusted_root(
    opts: &OpenOptions,
    registry: &ObjectId,
) -> Result<(Option<Fingerprint>, Option<Pin>), RegistryError> {
    let file = TrustFile::load(&opts.trust.file)?;
    let pin = file.pins.into_iter().find(|p| p.registry == *registry);
    match (&opts.trust.explicit, &pin) {
        (Some(given), Some(p)) if *given != p.root => Err(trust::TrustError::RootMismatch {
            pinned: p.root.clone(),
            found: given.clone(),
            source_: format!(
                "pinned in `{}` (`reg trust remove` it first if the root was legitimately replaced)",
                opts.trust.file.display()
            ),
        }
        .into()),
        (Some(given), _) => Ok((Some(given.clone()), pin)),
        (None, Some(p)) => Ok((Some(p.root.clone()), pin)),
        (None, None) => Ok((None, None)),
    }
}

/// What a clone made.
#[derive(Debug)]
pub struct ClonedSite {
    /// The new registry, pinned on this host.
    pub registry: Registry,
    /// Its verified state.
    pub state: Verified<State>,
    /// The staging directories interrupted clones or inits had left in the destination:
    /// removed, or left for a person ([`leftovers`]).
    pub swept: Swept,
}

impl Registry {
    /// Makes a new registry in `parent/.registry` from the full transfer file `reader` reads,
    /// verified from genesis against the root `opts` trusts, and pins it on this host.
    pub fn clone_from<R: Read>(
        mut reader: Reader<R>,
        parent: &Path,
        opts: &OpenOptions,
    ) -> Result<ClonedSite, ImportError> {
        let dot = parent.join(DOT_REGISTRY);
        if fs::symlink_metadata(&dot).is_ok() {
            return Err(RegistryError::AlreadyExists(dot).into());
        }
        super::registry::refuse_inside_a_registry(parent)?;
        let header = reader.header().clone();
        if let Some(base) = header.base {
            return Err(ImportError::NotFull {
                base: base.seq,
                what: "clone",
            });
        }
        let first = first_entry(&mut reader, &header, opts)?;
        let created = fs::symlink_metadata(parent).is_err();
        fs::create_dir_all(parent).ctx("create directory", parent)?;
        // DEST given as a link to a directory is used as the directory it names, resolved once.
        let real = fs::canonicalize(parent).ctx("resolve", parent)?;
        let made = build(reader, &real, first, &header, opts);
        if made.is_err() && created {
            // A refused clone leaves no directory it made behind.
            let _ = fs::remove_dir(&real);
        }
        made
    }
}

/// Receives the rest of the transfer into a staging registry beside `parent/.registry`, checks
/// it against what this host knows of the registry, and installs it, marked as a replica of the
/// home site (FORMAT.md §11.14).
fn build<R: Read>(
    reader: Reader<R>,
    parent: &Path,
    first: First,
    header: &crate::format::transfer::Header,
    opts: &OpenOptions,
) -> Result<ClonedSite, ImportError> {
    let dot = parent.join(DOT_REGISTRY);
    let keep_pin = first.pin.is_some();
    let pinned = first.pin.as_ref().map(|p| p.path.clone());
    let staged = stage(reader, parent, first, header, opts)?;
    not_behind_this_host(&staged.registry, &staged.state, pinned)?;
    let Staged {
        staging,
        registry: staged_reg,
        state,
        swept,
        _held,
    } = staged;
    let reg = install(staging, &dot, staged_reg, opts, keep_pin)?;
    let seen = Seen {
        head: state.head(),
        seq: state.seq(),
        state: state.hash(),
        ledger: reg.ledger_digest(state.seq()),
    };
    reg.host
        .record(reg.id(), &seen)
        .map_err(RegistryError::from)?;
    reg.host
        .mark_replica(reg.id())
        .map_err(RegistryError::from)?;
    Ok(ClonedSite {
        registry: reg,
        state: Verified::new(state),
        swept,
    })
}

/// A complete registry verified from genesis in a staging directory beside its destination,
/// marked as a replica, not yet in place.
pub(in crate::repo) struct Staged {
    pub(in crate::repo) staging: StagingDir,
    pub(in crate::repo) registry: Registry,
    pub(in crate::repo) state: State,
    pub(in crate::repo) swept: Swept,
    /// Ours until dropped: `reg gc`, `reg fsck` and other clones leave the staging alone.
    pub(in crate::repo) _held: fs::File,
}

/// Receives the rest of the transfer into a staging registry in `parent`, verifying every
/// entry and object, and writes it there with the replica marker.
pub(in crate::repo) fn stage<R: Read>(
    mut reader: Reader<R>,
    parent: &Path,
    first: First,
    header: &crate::format::transfer::Header,
    opts: &OpenOptions,
) -> Result<Staged, ImportError> {
    // What killed clones (or inits) left here goes first: it may hold gigabytes.
    let swept = leftovers::clear(parent)?;
    let staging = StagingDir::new_in(parent, ".registry-clone-")
        .ctx("create staging directory in", parent)?;
    let held = leftovers::hold(staging.path())?;
    let staged_reg = staging_registry(staging.path(), &first, header, opts)?;
    let start = Start {
        next: 1,
        last_actor: Some(first.root.clone()),
    };
    let ids = reader.entry_ids().to_vec();
    let genesis_only = [header.registry];
    let mut rx = Receiver::new(
        &staged_reg,
        &first.state,
        &genesis_only,
        header,
        ids,
        Receive::Stage,
        start,
    );
    let task = crate::util::progress::task("cloning", Some(header.bytes));
    while let Some(frame) = reader.next_frame()? {
        rx.frame(&mut reader, frame)?;
        task.advance(frame.len);
    }
    let checkpoint = reader.checkpoint().to_vec();
    let incoming = rx.finish(header.clone(), checkpoint)?;
    let state = write(&staged_reg, incoming)?;
    mark(staging.path(), &header.registry)?;
    crate::repo::registry::set_dir_mode(staging.path())?;
    Ok(Staged {
        staging,
        registry: staged_reg,
        state,
        swept,
        _held: held,
    })
}

/// The genesis entry, checked, the trusted root it is signed by, and this host's pin of the
/// registry if it has one.
pub(in crate::repo) struct First {
    bytes: Vec<u8>,
    state: State,
    root: Fingerprint,
    pub(in crate::repo) pin: Option<Pin>,
}

/// Reads the first frame, which must be the genesis entry the header names, checks it by itself
/// and checks its signer is the root this host trusts (`--trust`, else its pin of the registry);
/// without one, refuses naming the root the medium claims.
pub(in crate::repo) fn first_entry<R: Read>(
    reader: &mut Reader<R>,
    header: &crate::format::transfer::Header,
    opts: &OpenOptions,
) -> Result<First, ImportError> {
    let (trusted, pin) = trusted_root(opts, &header.registry)?;
    let Some(frame) = reader.next_frame()? else {
        return Err(TransferError::Frame {
            index: 0,
            detail: "the file holds no objects".into(),
        }
        .into());
    };
    if frame.kind != ObjectKind::Entry || frame.id != header.registry {
        return Err(ImportError::Extra {
            index: 0,
            kind: frame.kind.name(),
            id: frame.id,
        });
    }
    let bytes = reader.read_body()?;
    let (state, actor) = genesis(&header.registry, &bytes)?;
    match trusted {
        Some(fp) if fp == actor => Ok(First {
            bytes,
            state,
            root: fp,
            pin,
        }),
        Some(fp) => Err(RegistryError::from(trust::TrustError::RootMismatch {
            pinned: fp,
            found: actor,
            source_: if opts.trust.explicit.is_some() {
                "given with --trust".into()
            } else {
                format!("pinned in `{}`", opts.trust.file.display())
            },
        })
        .into()),
        None => Err(ImportError::NoPin {
            registry: header.registry,
            root: actor,
        }),
    }
}

/// A registry in the staging directory `s` holding the genesis entry: its skeleton, the genesis
/// object, a one-line ledger and its config. The rest is received into it.
fn staging_registry(
    s: &Path,
    first: &First,
    header: &crate::format::transfer::Header,
    opts: &OpenOptions,
) -> Result<Registry, ImportError> {
    crate::repo::registry::make_skeleton(s)?;
    let store = Store::new(s);
    store.put_bytes(&first.bytes)?;
    let config = Config {
        format_version: FORMAT_VERSION,
        registry_id: header.registry,
    };
    fs::write(s.join("ledger"), format!("{}\n", header.registry))
        .ctx("write", &s.join("ledger"))?;
    fs::write(
        s.join("config.json"),
        to_canonical_vec(&config).map_err(RegistryError::from)?,
    )
    .ctx("write", &s.join("config.json"))?;
    Ok(Registry {
        dot: s.to_path_buf(),
        store,
        config,
        pin: PinStatus::Explicit(first.root.clone()),
        root: first.root.clone(),
        host: opts.trust.host.clone(),
        floor: first.pin.as_ref().and_then(|p| p.floor.clone()),
        lock_timeout: opts.lock_timeout,
        clock: opts.clock.clone(),
        ledger_hashed: Default::default(),
    })
}

/// What this host already knows of the registry holds for the clone's history too: the floor
/// of its pin (`reg trust add --head`) and the last checkpoint it verified. A medium
/// older than either, or diverging from it, is refused as every read refuses it (FORMAT.md §8).
/// `pinned`: where this host's pin says a copy of the registry lives, named in the refusal.
fn not_behind_this_host(
    staged: &Registry,
    state: &State,
    pinned: Option<String>,
) -> Result<(), ImportError> {
    check_pin_floor(staged, state)?;
    if let Some(seen) = staged.host.load(staged.id()).map_err(RegistryError::from)? {
        let (_, cp) = crate::repo::ledger::read_checkpoint(&staged.dot.join("checkpoint"))
            .map_err(RegistryError::from)?;
        staged
            .check_not_rolled_back(&seen, &cp)
            .map_err(|e| match e {
                RegistryError::RolledBack {
                    found_seq,
                    found_head,
                    seen_seq,
                    seen_head,
                } => ImportError::BehindThisHost {
                    found_seq,
                    found_head,
                    seen_seq,
                    seen_head,
                    pinned,
                },
                e => e.into(),
            })?;
    }
    Ok(())
}

/// The pin's floor (`reg trust add --head`) holds for the staged history.
pub(in crate::repo) fn check_pin_floor(
    staged: &Registry,
    state: &State,
) -> Result<(), ImportError> {
    let ledger = staged.dot.join("ledger");
    if let Some(floor) = &staged.floor {
        staged.check_floor(state.seq(), crate::repo::ledger::id_at(&ledger, floor.seq))?;
    }
    Ok(())
}

/// Renames the complete staging registry into place at `dot` and pins it on this host, unless
/// the host already pins the registry (`keep_pin`): that pin, with its floor, stays as it is.
fn install(
    staging: StagingDir,
    dot: &Path,
    staged: Registry,
    opts: &OpenOptions,
    keep_pin: bool,
) -> Result<Registry, ImportError> {
    // Only now, so that a refused clone changes nothing on this host either.
    opts.trust
        .host
        .ensure_writable()
        .map_err(RegistryError::from)?;
    TrustFile::ensure_writable(&opts.trust.file).map_err(RegistryError::from)?;
    let parent = dot.parent().unwrap_or(Path::new("."));
    fsync_dir(staging.path())?;
    let kept = staging.keep();
    crate::util::fsutil::failpoint("install:before-rename");
    // Never over what appeared at the name meanwhile, even an empty directory.
    if let Err(e) = crate::util::create::rename_noreplace(&kept, dot) {
        // Nothing was installed: the staging directory goes too.
        let _ = crate::util::mount::remove_tree(&kept);
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(RegistryError::AlreadyExists(dot.to_path_buf()).into());
        }
        return Err(crate::util::fsutil::IoError::from_source("rename into place", dot, e).into());
    }
    fsync_dir(parent)?;
    if !keep_pin {
        TrustFile::add_pin(
            &opts.trust.file,
            Pin {
                path: trust::absolute(dot).to_string_lossy().into_owned(),
                registry: staged.config.registry_id,
                root: staged.root.clone(),
                floor: None,
            },
        )
        .map_err(RegistryError::from)?;
    }
    Ok(Registry {
        store: Store::new(dot),
        dot: dot.to_path_buf(),
        pin: PinStatus::HostFile(staged.root.clone()),
        ..staged
    })
}

/// Checks the genesis entry by itself (FORMAT.md §5.2): its position, and its signature by the
/// root key it names; returns the state it starts and its signer.
fn genesis(id: &ObjectId, bytes: &[u8]) -> Result<(State, Fingerprint), ImportError> {
    let fail = |problem: EntryProblem| ImportError::Entry {
        seq: 0,
        id: *id,
        problem,
    };
    let (env, entry) = Entry::parse(bytes).map_err(|e| fail(e.into()))?;
    let h = &entry.header;
    if h.seq != 0 || h.prev.is_some() || h.registry.is_some() {
        return Err(fail(EntryProblem::Position(
            "the first entry is not a genesis entry at position 0".into(),
        )));
    }
    let (state, key) = State::from_genesis(*id, &entry).map_err(|e| fail(e.into()))?;
    env.verify_single(&key).map_err(|e| fail(e.into()))?;
    Ok((state, entry.header.actor))
}

/// Writes the verified history into the staging registry: objects, index, ledger, checkpoint,
/// refs. Nothing is live until the staging directory is renamed into place.
fn write(reg: &Registry, incoming: crate::repo::incoming::Incoming) -> Result<State, ImportError> {
    let crate::repo::incoming::Incoming {
        new_ids,
        state,
        checkpoint,
        staged,
        ..
    } = incoming;
    for (id, path) in staged {
        reg.store.commit_path(path, &id)?;
    }
    let mut state = state;
    crate::repo::registry::write_index(&reg.dot, &state.index_files())?;
    let lines: String = new_ids.iter().map(|id| format!("{id}\n")).collect();
    crate::util::fsutil::append_durably(&reg.dot.join("ledger"), lines.as_bytes())?;
    fs::write(reg.dot.join("checkpoint"), &checkpoint).ctx("write", &reg.dot.join("checkpoint"))?;
    crate::repo::refs::rewrite_all(&reg.dot, &state)?;
    Ok(state)
}

/// The marker's content: the registry it is a replica of (informative; its presence is what
/// counts).
#[derive(serde::Serialize)]
struct Marker<'a> {
    registry: &'a ObjectId,
}

/// Writes the replica marker into the registry directory `dot` (a staging registry): every
/// site a clone makes is a replica (FORMAT.md §11.14), and [`Registry::is_replica`] reads it.
fn mark(dot: &Path, registry: &ObjectId) -> Result<(), ImportError> {
    let path = dot.join(crate::repo::layout::REPLICA);
    let bytes = to_canonical_vec(&Marker { registry }).map_err(RegistryError::from)?;
    fs::write(&path, bytes).ctx("write", &path)?;
    Ok(())
}
