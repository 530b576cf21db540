//! SRC of a repair: a second copy of the registry or a transfer file, read only through what
//! checks the bytes (the store's verified copy, never through a link; the transfer reader,
//! which hashes every frame it copies), and looked up by id only. A copy longer than its
//! object may be is refused by its length, never read; a transfer frame nobody wants is
//! skipped unread.

use super::{Damaged, RepairError, SourceKind};
use crate::format::id::ObjectId;
use crate::format::transfer::{self, MAGIC, TransferError};
use crate::repo::layout::OBJECTS;
use crate::repo::registry::{Config, DOT_REGISTRY};
use crate::repo::store::{Staged, Store, StoreError};
use crate::util::encoding::from_canonical_slice;
use crate::util::fsutil::{IoContext, describe, open_regular, read_small};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// SRC: a second copy of the registry, or a transfer file.
pub(super) enum Source {
    Registry { dot: PathBuf, store: Store },
    Transfer { path: PathBuf },
}

/// Called with each wanted object SRC holds intact: staged (or `None` in a dry run).
pub(super) type Found<'a> = dyn FnMut(ObjectId, Option<Staged>) -> Result<(), RepairError> + 'a;

impl Source {
    /// Opens SRC and checks it holds this registry (`ours`): a transfer file by its magic and
    /// header, a registry by its `config.json`. Nothing in SRC is followed through a link.
    pub(super) fn open(from: &Path, ours: &ObjectId) -> Result<Source, RepairError> {
        let bad = |detail: String| RepairError::Source {
            path: from.to_path_buf(),
            detail,
        };
        let meta = std::fs::symlink_metadata(from).ctx("read", from)?;
        if meta.is_file() {
            let mut file = open_regular(from)?;
            let mut magic = [0u8; MAGIC.len()];
            // A shorter file leaves zeros where the magic ends in a newline: it cannot match.
            crate::bundle::read_full(&mut file, &mut magic).ctx("read", from)?;
            if magic != *MAGIC {
                return Err(bad(
                    "a file that does not start with the transfer magic".into()
                ));
            }
            let header = Self::reader(from)?.header().clone();
            if header.registry != *ours {
                return Err(RepairError::Foreign {
                    path: from.to_path_buf(),
                    theirs: header.registry,
                    ours: *ours,
                });
            }
            return Ok(Source::Transfer {
                path: from.to_path_buf(),
            });
        }
        if !meta.is_dir() {
            return Err(bad(format!(
                "{} (a link is not followed: name what it points to)",
                describe(&meta.file_type())
            )));
        }
        let dot = if from.file_name().is_some_and(|n| n == DOT_REGISTRY) {
            from.to_path_buf()
        } else {
            from.join(DOT_REGISTRY)
        };
        for dir in [dot.clone(), dot.join(OBJECTS)] {
            match std::fs::symlink_metadata(&dir) {
                Ok(m) if m.is_dir() => {}
                Ok(m) => {
                    return Err(bad(format!(
                        "`{}` is {}, not a directory (links are not followed)",
                        dir.display(),
                        describe(&m.file_type())
                    )));
                }
                Err(_) => return Err(bad(format!("no `{}` directory", dir.display()))),
            }
        }
        let config = dot.join("config.json");
        let theirs = read_small(&config, 64 * 1024)
            .map_err(|e| bad(e.to_string()))
            .and_then(|b| {
                from_canonical_slice::<Config>(&b)
                    .map_err(|e| bad(format!("`{}`: {e}", config.display())))
            })?
            .registry_id;
        if theirs != *ours {
            return Err(RepairError::Foreign {
                path: from.to_path_buf(),
                theirs,
                ours: *ours,
            });
        }
        let store = Store::new(&dot);
        Ok(Source::Registry { dot, store })
    }

    pub(super) fn kind(&self) -> SourceKind {
        match self {
            Source::Registry { .. } => SourceKind::Registry,
            Source::Transfer { .. } => SourceKind::Transfer,
        }
    }

    /// The transfer file at `path`, its preamble read and checked; reading it shows progress.
    fn reader(path: &Path) -> Result<transfer::Reader<impl Read + Seek>, RepairError> {
        let file = open_regular(path)?;
        let len = file.metadata().ctx("stat", path)?.len();
        let task = crate::util::progress::task("reading SRC", Some(len));
        let input = crate::util::progress::Reader::new(io::BufReader::new(file), task);
        transfer::Reader::open(input).map_err(|source| RepairError::Transfer {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Hands every wanted object SRC holds intact to `found`, staged in `stage` (none: a dry
    /// run, which only checks the bytes); returns, for wanted objects it does not hold intact,
    /// why, when there is more to say than that it does not hold them.
    /// `limits` holds the most bytes each wanted object can have: a longer copy is refused
    /// before any of it is copied.
    pub(super) fn fetch(
        &self,
        stage: Option<&Store>,
        wanted: &BTreeMap<ObjectId, Damaged>,
        limits: &BTreeMap<ObjectId, u64>,
        found: &mut Found<'_>,
    ) -> Result<BTreeMap<ObjectId, String>, RepairError> {
        match self {
            Source::Registry { dot, store } => {
                fetch_registry(dot, store, stage, wanted, limits, found)
            }
            Source::Transfer { path } => {
                let reader = Self::reader(path)?;
                fetch_transfer(reader, stage, wanted, limits, found)
            }
        }
    }
}

/// Shows the bytes that pass through as progress.
struct Progress<'a> {
    inner: &'a mut dyn Write,
    task: &'a crate::util::progress::Task,
}

impl Write for Progress<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.task.advance(n as u64);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Copies what `fill` writes into a staging file of `stage`, or only through it in a dry run.
fn take<E>(
    stage: Option<&Store>,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<Result<Option<Staged>, E>, RepairError> {
    Ok(match stage {
        None => fill(&mut io::sink()).map(|()| None),
        Some(store) => store.stage_from(fill)?.map(Some),
    })
}

/// Each wanted object from another copy of the registry, read with the store's verified copy
/// (never through a link at its name or at its fan-out directory).
fn fetch_registry(
    dot: &Path,
    src: &Store,
    stage: Option<&Store>,
    wanted: &BTreeMap<ObjectId, Damaged>,
    limits: &BTreeMap<ObjectId, u64>,
    found: &mut Found<'_>,
) -> Result<BTreeMap<ObjectId, String>, RepairError> {
    let mut why = BTreeMap::new();
    let task = crate::util::progress::task("reading SRC", None);
    for id in wanted.keys() {
        let path = src.path(id);
        if let Some(fan) = path.parent()
            && let Ok(m) = std::fs::symlink_metadata(fan)
            && !m.is_dir()
        {
            why.insert(
                *id,
                format!(
                    "in SRC its fan-out directory is {} (not followed)",
                    describe(&m.file_type())
                ),
            );
            continue;
        }
        let limit = limits.get(id).copied().unwrap_or(0);
        if let Ok(m) = std::fs::symlink_metadata(&path)
            && m.is_file()
            && m.len() > limit
        {
            why.insert(*id, too_long(m.len(), limit));
            continue;
        }
        let copied = take(stage, |w| {
            src.copy_verified(
                id,
                &mut Progress {
                    inner: &mut Limit {
                        inner: w,
                        left: limit,
                    },
                    task: &task,
                },
            )
            .map(|_| ())
        })?;
        match copied {
            Ok(staged) => found(*id, staged)?,
            Err(StoreError::Missing(_)) => {}
            Err(StoreError::Corrupt { actual, .. }) => {
                why.insert(
                    *id,
                    format!("SRC's copy is corrupt too (its bytes hash to {actual})"),
                );
            }
            Err(StoreError::NotAFile(_)) => {
                why.insert(
                    *id,
                    "SRC holds a link or special file in its place (not followed)".into(),
                );
            }
            Err(e) => {
                why.insert(
                    *id,
                    format!("reading it in `{}` failed: {e}", dot.display()),
                );
            }
        }
    }
    Ok(why)
}

/// Each wanted object from a transfer file, streamed once, each wanted frame hashed as it
/// passes; the pass stops once every wanted object was seen. A frame of an object not wanted,
/// or longer than its object can be, is skipped by its length, unread (a sparse file announces
/// a TiB at no cost to its holder). A frame that does not hash to its id is a corrupt copy (the
/// rest is still read); a file that breaks off or breaks the format ends the pass, and what it
/// did not reach is reported with why.
fn fetch_transfer<R: Read + Seek>(
    mut r: transfer::Reader<R>,
    stage: Option<&Store>,
    wanted: &BTreeMap<ObjectId, Damaged>,
    limits: &BTreeMap<ObjectId, u64>,
    found: &mut Found<'_>,
) -> Result<BTreeMap<ObjectId, String>, RepairError> {
    let mut why = BTreeMap::new();
    let mut left: BTreeSet<ObjectId> = wanted.keys().copied().collect();
    while !left.is_empty() {
        let frame = match r.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                for id in &left {
                    why.insert(*id, format!("the transfer file broke off before it: {e}"));
                }
                break;
            }
        };
        let limit = limits.get(&frame.id).copied().unwrap_or(0);
        let copied = if !left.remove(&frame.id) {
            r.skip_body().map(|_| ())
        } else if frame.len > limit {
            // Not the object: refused by its length, never read to find that out.
            why.insert(frame.id, too_long(frame.len, limit));
            r.skip_body().map(|_| ())
        } else {
            match take(stage, |w| r.copy_body(w).map(|_| ()))? {
                Ok(staged) => {
                    found(frame.id, staged)?;
                    Ok(())
                }
                Err(e) => Err(e),
            }
        };
        match copied {
            Ok(()) => {}
            Err(TransferError::HashMismatch { id, actual, .. }) => {
                if wanted.contains_key(&id) {
                    why.insert(
                        id,
                        format!("the transfer file's copy is corrupt (its bytes hash to {actual})"),
                    );
                }
            }
            Err(e) => {
                if wanted.contains_key(&frame.id) {
                    why.entry(frame.id)
                        .or_insert_with(|| format!("the transfer file broke off in it: {e}"));
                }
                for id in &left {
                    why.insert(*id, format!("the transfer file broke off before it: {e}"));
                }
                break;
            }
        }
    }
    Ok(why)
}

/// Why a copy longer than the object can be is not taken.
fn too_long(len: u64, limit: u64) -> String {
    format!("SRC's copy is {len} bytes, more than the object's {limit}: not copied")
}

/// Passes at most `left` bytes through; more is an error (a file that grows while it is read).
struct Limit<'a> {
    inner: &'a mut dyn Write,
    left: u64,
}

impl Write for Limit<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(io::Error::other("longer than the object can be"));
        }
        let n = self.inner.write(buf)?;
        self.left -= n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
