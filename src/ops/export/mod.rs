//! `reg export`: writes a transfer file (FORMAT.md §11) holding the ledger entries after a base
//! and every object the new head has that the base does not, for a site that imports them.
//!
//! The registry is verified first (the whole ledger, pinned as every command), then the base is
//! established: none, an entry of this ledger, or a receiving site's checkpoint that must name
//! this registry and an entry this ledger has, and be signed by the key that signed that entry.
//! Objects stream from the store through the transfer writer, which hashes each one; the file
//! is written beside `OUT` and linked into place only when complete, never over an existing file.

mod base;

use crate::format::checkpoint::{self, CHECKPOINT_LIMIT, Checkpoint};
use crate::format::entry::Body;
use crate::format::id::ObjectId;
use crate::format::transfer::{self, Header, ObjectKind, Point, TransferError};
use crate::repo::ledger::{Replay, Verified};
use crate::repo::registry::{Registry, RegistryError};
use crate::util::create::{Exists, NewFile, refuse_existing};
use crate::util::fsutil::{IoContext, IoError, open_regular, read_small};
use base::{choose_base, holds};
use std::collections::HashSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// Where an export starts.
#[derive(Debug, Clone)]
pub enum Since {
    /// From genesis: a full export.
    Full,
    /// After entry `N` of this ledger.
    Seq(u64),
    /// After the entry a receiving site's checkpoint names (its bytes, as read from the file).
    Checkpoint(Vec<u8>),
}

/// Errors of `reg export`.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The registry failed to open or verify.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The transfer file could not be written as the format requires.
    #[error(transparent)]
    Transfer(#[from] TransferError),
    /// `OUT` exists, or appeared while the file was written (never replaced).
    #[error(transparent)]
    Exists(#[from] Exists),
    /// Where the output would go, or what happened to it while it was written, is refused
    /// (util::create).
    #[error(transparent)]
    Output(#[from] crate::util::create::OutputRefused),
    /// The base is the head.
    #[error("nothing to export: the base is entry {seq}, this registry's head")]
    NothingNew {
        /// The head's seq.
        seq: u64,
    },
    /// `--since-seq` past the head.
    #[error("entry {seq} is past this registry's head (entry {head})")]
    PastHead {
        /// The seq given.
        seq: u64,
        /// The head's seq.
        head: u64,
    },
    /// A `--since` checkpoint that is not from this registry's history.
    #[error("the checkpoint is not from this registry's history: {0}")]
    Foreign(String),
    /// An object the export needs is missing or unreadable in the store.
    #[error("{kind} {id}: {source}")]
    Object {
        /// What it is.
        kind: &'static str,
        /// Its id.
        id: ObjectId,
        /// What went wrong.
        #[source]
        source: IoError,
    },
    /// An artifact whose stored file is not as long as every record listing it states.
    #[error(
        "artifact {id} is {found} bytes in the store, but its record states {stated}: corrupt (nothing of it was read)"
    )]
    ArtifactSize {
        /// The artifact.
        id: ObjectId,
        /// The sizes its records state.
        stated: String,
        /// The stored file's size.
        found: u64,
    },
    /// The registry changed between its verification and the export.
    #[error(
        "the registry's checkpoint changed while it was exported (another reg committed); run the export again"
    )]
    Changed,
    /// I/O failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The transfer's header (base, head, object count, bytes).
    pub header: Header,
    /// Records carried.
    pub records: u64,
    /// Artifacts carried.
    pub artifacts: u64,
}

/// What the export needs of one verified entry.
struct Seen {
    id: ObjectId,
    actor: crate::crypto::keys::Fingerprint,
    /// For an `add`: its record and artifacts.
    add: Option<(ObjectId, Vec<ObjectId>)>,
    /// For a `purge`: the model purged.
    purged: Option<ObjectId>,
}

/// What [`export`] did.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The transfer file was written.
    Written(Exported),
    /// The base is this registry's head: nothing to export, no file written (git's "Already
    /// up to date"; the format carries at least one entry).
    UpToDate {
        /// The head's seq.
        seq: u64,
    },
}

/// What an export says when `OUT` exists.
const WRITES: &str = "export writes a new file";

/// Writes the transfer file `out` from `since` to this registry's head (FORMAT.md §11.9), or
/// nothing if the base is the head.
pub fn export(reg: &Registry, since: &Since, out: &Path) -> Result<Outcome, ExportError> {
    refuse_existing(out, WRITES)?;
    // One committed state from the replay to the last object copied (FORMAT.md §6): a purge
    // committed meanwhile would take bytes the plan names.
    let _reading = reg.read_lock()?;
    let planned = match prepare(reg, since) {
        Err(ExportError::NothingNew { seq }) => return Ok(Outcome::UpToDate { seq }),
        p => p?,
    };
    write_file(reg, out, &planned)?;
    Ok(Outcome::Written(planned.done))
}

/// Like [`export`], streaming the transfer to `out` (`reg export -`: standard output), nothing
/// written if the base is the head. A failure midway leaves `out` with a cut-short file, which
/// every reader refuses (its trailer is missing).
pub fn export_stream(
    reg: &Registry,
    since: &Since,
    out: &mut dyn std::io::Write,
) -> Result<Outcome, ExportError> {
    match export_to(reg, since, out) {
        Err(ExportError::NothingNew { seq }) => Ok(Outcome::UpToDate { seq }),
        done => done.map(Outcome::Written),
    }
}

/// Streams the transfer from `since` to this registry's head into `out` (a pipe to a reader:
/// `reg clone` from a registry). What `out` received is a whole transfer file only if this
/// returns `Ok`.
pub fn export_to(
    reg: &Registry,
    since: &Since,
    out: &mut dyn std::io::Write,
) -> Result<Exported, ExportError> {
    // As in `export`.
    let _reading = reg.read_lock()?;
    let planned = prepare(reg, since)?;
    stream(reg, out, &planned)?;
    Ok(planned.done)
}

/// An export verified and planned, not yet written.
struct Planned {
    done: Exported,
    checkpoint: Vec<u8>,
    ids: Vec<ObjectId>,
    plan: Vec<(ObjectKind, ObjectId)>,
    sizes: Vec<u64>,
}

fn prepare(reg: &Registry, since: &Since) -> Result<Planned, ExportError> {
    let (replay, entries) = verify_and_collect(reg)?;
    let head = Point {
        head: replay.checkpoint.head,
        seq: replay.checkpoint.seq,
    };
    let base = choose_base(reg, &replay.state, &entries, since, head.seq)?;
    let first = base.map_or(0, |b| b.seq as usize + 1);
    let upto = head.seq as usize;
    let have = base.map_or_else(HashSet::new, |b| holds(&entries[..=b.seq as usize]));
    let need = holds(&entries[..=upto]);
    let plan = plan(&entries[first..=upto], &need, &have);
    let checkpoint = stored_checkpoint(reg, &replay.checkpoint)?;
    let (sizes, bytes) = check_objects(reg, &replay.state, &plan)?;
    let header = Header {
        base,
        bytes,
        head,
        objects: plan.len() as u64,
        registry: *reg.id(),
    };
    let ids: Vec<ObjectId> = entries[first..=upto].iter().map(|e| e.id).collect();
    let count = |k: ObjectKind| plan.iter().filter(|(kind, _)| *kind == k).count() as u64;
    let done = Exported {
        header,
        records: count(ObjectKind::Record),
        artifacts: count(ObjectKind::Artifact),
    };
    Ok(Planned {
        done,
        checkpoint,
        ids,
        plan,
        sizes,
    })
}

/// Verifies the whole ledger, as every command does, and keeps what the export needs of each
/// entry: an export carries only history this host has verified, and what it carries and from
/// where are decided from those entries alone. Records the verified checkpoint and refuses an
/// expired one, as every read does.
fn verify_and_collect(reg: &Registry) -> Result<(Verified<Replay>, Vec<Seen>), ExportError> {
    let mut entries: Vec<Seen> = Vec::new();
    let replay = reg.verify(&mut |v| {
        let (add, purged) = match &v.entry.body {
            Body::Add(a) => (Some((a.record, a.artifacts.clone())), None),
            Body::Purge(p) => (None, Some(p.model)),
            _ => (None, None),
        };
        entries.push(Seen {
            id: v.id,
            actor: v.entry.header.actor.clone(),
            add,
            purged,
        });
    })?;
    // Intact but expired under its policy is refused, as by every read, and not recorded.
    reg.check_fresh(&replay.state, &replay.checkpoint.time)?;
    // What this host verified is recorded, as after every full replay.
    reg.record(&replay.state, &replay.checkpoint)?;
    Ok((replay, entries))
}

/// The checkpoint file's bytes as stored, which the transfer carries verbatim: they must be the
/// checkpoint just verified. Under the readers' lock they are, unless a writer that does not
/// take part in it (an older reg) committed in between: the entries collected would then no
/// longer end at the stored head.
fn stored_checkpoint(reg: &Registry, verified: &Checkpoint) -> Result<Vec<u8>, ExportError> {
    let checkpoint = read_small(&reg.path().join("checkpoint"), CHECKPOINT_LIMIT)?;
    let stored = checkpoint::parse(&checkpoint).ok().map(|(_, cp)| cp);
    if stored.as_ref() != Some(verified) {
        return Err(ExportError::Changed);
    }
    Ok(checkpoint)
}

/// Opens every object once before any byte is written (a missing, linked, special or unreadable
/// object stops the export before it starts) and returns their sizes, which the header states.
/// Each file is closed again at once: a full export of a large store must not hold one
/// descriptor per object.
///
/// An artifact must be as long as a record that lists it states (FORMAT.md §11.7): a sparse
/// file planted in the store announces a TiB at no cost, and would otherwise be streamed into
/// the transfer file before its hash failed.
fn check_objects(
    reg: &Registry,
    state: &crate::state::State,
    plan: &[(ObjectKind, ObjectId)],
) -> Result<(Vec<u64>, u64), ExportError> {
    let mut stated = crate::repo::sizes::Sizes::new(state);
    let mut sizes = Vec::with_capacity(plan.len());
    let mut bytes = 0u64;
    for (kind, id) in plan {
        let (_, len) = open_object(reg, *kind, id)?;
        if *kind == ObjectKind::Artifact {
            let read = |r: &ObjectId| {
                reg.store()
                    .get(r, crate::format::manifest::MANIFEST_LIMIT)
                    .map_err(|e| ExportError::Registry(e.into()))
            };
            let unreadable = |record: ObjectId, detail: String| {
                ExportError::Registry(RegistryError::corrupt_object(reg.store(), &record, detail))
            };
            if let Err(stated) = stated.check(id, len, read, unreadable)? {
                return Err(ExportError::ArtifactSize {
                    id: *id,
                    stated: stated
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(" or "),
                    found: len,
                });
            }
        }
        bytes += len;
        sizes.push(len);
    }
    Ok((sizes, bytes))
}

/// Opens object `id` as a regular file, never through a link, with its size.
fn open_object(
    reg: &Registry,
    kind: ObjectKind,
    id: &ObjectId,
) -> Result<(File, u64), ExportError> {
    let path = reg.store().path(id);
    let object = |source| ExportError::Object {
        kind: kind.name(),
        id: *id,
        source,
    };
    let file = open_regular(&path).map_err(object)?;
    let len = file.metadata().ctx("stat", &path).map_err(object)?.len();
    Ok((file, len))
}

/// Streams the transfer into a new file `out` ([`NewFile`]): a failed or interrupted export
/// leaves no partial file at `out`, and never replaces a file that appeared there meanwhile.
fn write_file(reg: &Registry, out: &Path, p: &Planned) -> Result<(), ExportError> {
    let new = NewFile::create::<ExportError>(out, ".reg-export-", WRITES)?;
    let mut buffered = BufWriter::new(new);
    stream(reg, &mut buffered, p)?;
    let new = buffered
        .into_inner()
        .map_err(|e| IoError::from_source("write", out, e.into_error()))?;
    new.publish()
}

/// Writes the planned transfer to `out`, each object opened again one at a time and hashed as
/// it streams: the writer refuses bytes that differ from the size announced or from the id.
fn stream(reg: &Registry, out: &mut dyn std::io::Write, p: &Planned) -> Result<(), ExportError> {
    let header = &p.done.header;
    let task = crate::util::progress::task("exporting", Some(header.bytes));
    let mut writer = transfer::Writer::new(out, header, &p.checkpoint, &p.ids)?;
    for ((kind, id), &len) in p.plan.iter().zip(&p.sizes) {
        let (mut file, _) = open_object(reg, *kind, id)?;
        writer.object(*kind, id, len, &mut file)?;
        task.advance(len);
    }
    writer.finish()?;
    Ok(())
}

/// The frames in the order of FORMAT.md §11.5: for each new entry, its new record then the
/// entry; then the new artifacts in the order their `add` entries list them; each object once.
fn plan(
    new: &[Seen],
    need: &HashSet<ObjectId>,
    have: &HashSet<ObjectId>,
) -> Vec<(ObjectKind, ObjectId)> {
    let mut sent = HashSet::new();
    let mut out = Vec::new();
    let mut carry = |kind, id: ObjectId, out: &mut Vec<_>| {
        if need.contains(&id) && !have.contains(&id) && sent.insert(id) {
            out.push((kind, id));
        }
    };
    for e in new {
        if let Some((record, _)) = &e.add {
            carry(ObjectKind::Record, *record, &mut out);
        }
        carry(ObjectKind::Entry, e.id, &mut out);
    }
    for e in new {
        if let Some((_, artifacts)) = &e.add {
            for a in artifacts {
                carry(ObjectKind::Artifact, *a, &mut out);
            }
        }
    }
    out
}

/// What [`verify_file`] found in a transfer file.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The header.
    pub header: Header,
    /// Frames of each kind: entries, records, artifacts.
    pub entries: u64,
    /// Records.
    pub records: u64,
    /// Artifacts.
    pub artifacts: u64,
}

/// Reads a transfer file through once, checking what the file itself can prove (FORMAT.md
/// §11.8, the codec's part): layout, limits, frame order, every object's hash and the trailer.
/// Signatures, trust and what the entries reach are the importer's, against its own registry.
pub fn verify_file(path: &Path) -> Result<Checked, ExportError> {
    let file = open_regular(path)?;
    let len = file.metadata().ctx("stat", path)?.len();
    let task = crate::util::progress::task("checking", Some(len));
    let mut r = transfer::Reader::open(crate::util::progress::Reader::new(
        std::io::BufReader::new(file),
        task,
    ))?;
    let (mut entries, mut records, mut artifacts) = (0, 0, 0);
    while let Some(f) = r.next_frame()? {
        r.copy_body(&mut std::io::sink())?;
        match f.kind {
            ObjectKind::Entry => entries += 1,
            ObjectKind::Record => records += 1,
            ObjectKind::Artifact => artifacts += 1,
        }
    }
    Ok(Checked {
        header: r.header().clone(),
        entries,
        records,
        artifacts,
    })
}
