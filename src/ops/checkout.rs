//! Re-hashing a model's stored artifacts (`reg verify`) and writing them out (`reg checkout`),
//! verifying every byte as it is copied: as files in a new directory, or as the model's
//! original signed bundle, which another registry can admit with `reg add` (a successor
//! registry after the loss of every root key re-admits models from their signed records).

use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::format::manifest::{self, SignedManifest};
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::store::StoreError;
use crate::state::{ModelState, State};
use crate::util::create::{Exists, NewFile, create_new_dir};
use crate::util::fsutil::{IoContext, IoError};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Errors of verify and checkout.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// An artifact is missing or corrupt.
    #[error("artifact `{path}` of {spec}: {source}")]
    Artifact {
        /// `name@version`.
        spec: String,
        /// The artifact's path in the bundle.
        path: String,
        /// What is wrong.
        #[source]
        source: StoreError,
    },
    /// The destination (a directory, or a bundle file) exists, or appeared while it was
    /// written (never replaced).
    #[error(transparent)]
    Exists(#[from] Exists),
    /// Where the output would go, or what happened to it while it was written, is refused
    /// (util::create).
    #[error(transparent)]
    Output(#[from] crate::util::create::OutputRefused),
    /// A revoked model is never written out.
    #[error("{0} is REVOKED: its artifacts are not to be used")]
    Revoked(String),
    /// What the gate denies is not written out either (FORMAT.md §5.5, §5.14, §5.15): a
    /// checkout is how some sites deploy, and a bundle written out is admitted elsewhere.
    #[error("{spec} is not written out: {why}")]
    Blocked {
        /// `name@version`.
        spec: String,
        /// Why.
        why: String,
        /// Which rule.
        block: crate::state::Block,
    },
    /// The destination is inside the registry, which holds only what reg writes there.
    #[error("`{0}` is inside the registry; checkout writes outside it")]
    InsideRegistry(PathBuf),
    /// A purged model's artifacts were destroyed on purpose: there is nothing to verify or
    /// write out, and that is not damage.
    #[error("{spec} was purged{}: its artifact bytes were destroyed on purpose", purge_detail(.purge.as_ref()))]
    Purged {
        /// `name@version`.
        spec: String,
        /// The purge entry, when the ledger could be read for it.
        purge: Option<PurgeView>,
    },
    /// I/O failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// ` by ledger entry SEQ ID at TIME (reason: ...)`, or nothing when the entry is not known.
fn purge_detail(purge: Option<&PurgeView>) -> String {
    purge.map_or(String::new(), |p| {
        format!(
            " by ledger entry {} {} at {} (reason: {})",
            p.seq,
            p.entry,
            p.time,
            crate::util::encoding::echo(&p.reason)
        )
    })
}

/// Refuses a purged model, naming its purge. The entry is looked up only for the message: a
/// ledger that cannot be read for it leaves the refusal as it is, without the detail.
/// Refuses to write out model `id`: purged or revoked, or what the gate denies it for
/// (suspended, holding denied bytes, out of policy), or into the registry itself.
fn refuse_blocked(
    reg: &Registry,
    state: &State,
    id: &ObjectId,
    model: &ModelState,
    out: &Path,
) -> Result<(), CheckoutError> {
    refuse_purged(reg, id, model)?;
    let spec = state.spec(id);
    if model.state == LifecycleState::Revoked {
        return Err(CheckoutError::Revoked(spec));
    }
    // What the gate denies is not written out: the same answer (FORMAT.md §5.5, §5.14, §5.15).
    let manifest = crate::repo::records::policy_manifest(reg.store(), state, id)?;
    if let Some((block, why)) = state.blocked(model, manifest.as_ref()) {
        return Err(CheckoutError::Blocked { spec, why, block });
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let (Ok(dir), Ok(dot)) = (parent.canonicalize(), reg.path().canonicalize())
        && dir.starts_with(&dot)
    {
        return Err(CheckoutError::InsideRegistry(out.to_path_buf()));
    }
    Ok(())
}

fn refuse_purged(reg: &Registry, id: &ObjectId, model: &ModelState) -> Result<(), CheckoutError> {
    if !model.purged {
        return Ok(());
    }
    Err(CheckoutError::Purged {
        spec: format!("{}@{}", model.name, model.version),
        purge: purge_of(reg, id).ok().flatten(),
    })
}

/// The record: its bytes as stored (hash-checked by the store) and its manifest (schema-checked
/// on parse).
fn record_of(reg: &Registry, id: &ObjectId) -> Result<SignedManifest, RegistryError> {
    crate::repo::records::read_record(reg.store(), id)
}

/// The record's manifest.
fn manifest_of(reg: &Registry, id: &ObjectId) -> Result<manifest::Manifest, RegistryError> {
    Ok(record_of(reg, id)?.manifest)
}

/// An artifact's object id and bundle path, as the record states them, checked again before
/// anything is written by that name (FORMAT.md §7.3; checked at ingestion already).
fn artifact_target(
    reg: &Registry,
    id: &ObjectId,
    a: &manifest::Artifact,
) -> Result<ObjectId, RegistryError> {
    manifest::check_path(&a.path).map_err(|why| {
        RegistryError::corrupt_object(
            reg.store(),
            id,
            format!("artifact path `{}`: {why}", a.path),
        )
    })?;
    a.blake3
        .parse()
        .map_err(|_| RegistryError::corrupt_object(reg.store(), id, "bad artifact id".into()))
}

/// Re-hashes every stored artifact of a model; returns (path, size) of each.
pub fn verify(
    reg: &Registry,
    id: &ObjectId,
    model: &ModelState,
) -> Result<Vec<(String, u64)>, CheckoutError> {
    refuse_purged(reg, id, model)?;
    let spec = format!("{}@{}", model.name, model.version);
    let mut out = Vec::new();
    for a in manifest_of(reg, id)?.artifacts {
        let aid: ObjectId = a.blake3.parse().map_err(|_| {
            RegistryError::corrupt_object(reg.store(), id, format!("record {id}: bad artifact id"))
        })?;
        let size = reg
            .store()
            .verify_sized(&aid, Some(a.size))
            .map_err(|source| CheckoutError::Artifact {
                spec: spec.clone(),
                path: a.path.clone(),
                source,
            })?;
        out.push((a.path, size));
    }
    Ok(out)
}

/// What checking a model out into a directory did.
#[derive(Debug, Clone)]
pub struct CheckedOut {
    /// The model's record id.
    pub record: ObjectId,
    /// How many artifacts were written.
    pub artifacts: usize,
    /// Their bytes in all, each verified as copied.
    pub bytes: u64,
}

/// Writes a model's artifacts under `dest` (which must not exist), verifying while copying:
/// into a temporary directory beside it, renamed into place only when every file verified.
pub fn checkout(
    reg: &Registry,
    state: &State,
    id: &ObjectId,
    dest: &Path,
) -> Result<CheckedOut, CheckoutError> {
    let model = state.model(id).map_err(RegistryError::Refused)?;
    refuse_blocked(reg, state, id, model, dest)?;
    let spec = state.spec(id);
    let mut staging =
        create_new_dir::<CheckoutError>(dest, ".reg-checkout-", "checkout writes a new directory")?;
    let mut total = 0;
    let artifacts = manifest_of(reg, id)?.artifacts;
    let count = artifacts.len();
    let task = crate::util::progress::task("copying", Some(artifacts.iter().map(|a| a.size).sum()));
    for a in artifacts {
        let aid = artifact_target(reg, id, &a)?;
        let target = staging.path().join(&a.path);
        // Relative to the staging directory's descriptor, never through a link.
        let mut file = staging.create_file::<CheckoutError>(Path::new(&a.path))?;
        total += reg
            .store()
            .copy_verified_sized(&aid, Some(a.size), &mut file)
            .map_err(|source| CheckoutError::Artifact {
                spec: spec.clone(),
                path: a.path.clone(),
                source,
            })?;
        file.sync_all().ctx("sync", &target)?;
        task.advance(a.size);
    }
    staging.publish::<CheckoutError>()?;
    Ok(CheckedOut {
        record: *id,
        artifacts: count,
        bytes: total,
    })
}

/// What writing a model's bundle did.
#[derive(Debug, Clone)]
pub struct BundleWritten {
    /// The record id: the bundle's manifest is this object, byte for byte.
    pub record: ObjectId,
    /// How many artifacts it holds.
    pub artifacts: usize,
    /// Their bytes in all.
    pub bytes: u64,
}

/// Writes a model's original signed bundle to the new file `out` (FORMAT.md §7.2, a tar): first
/// `reg-manifest.json`, the record object's bytes exactly as stored, which is the
/// publisher-signed manifest, then each artifact, streamed from the store and verified against
/// its size and BLAKE3 as it is copied. Entries are written as `reg bundle pack` writes them
/// (owner 0, mode 0644, the manifest's `created` as their time), so a model packed by reg as a
/// plain tar comes back byte for byte. Written beside `out` and linked into place only when
/// complete and synced, never over a file: a failure leaves nothing at `out`.
///
/// A revoked model is refused as for a directory checkout: another registry would admit its
/// bundle as a new, unrevoked model.
pub fn write_bundle(
    reg: &Registry,
    state: &State,
    id: &ObjectId,
    out: &Path,
) -> Result<BundleWritten, CheckoutError> {
    let model = state.model(id).map_err(RegistryError::Refused)?;
    refuse_blocked(reg, state, id, model, out)?;
    let spec = state.spec(id);
    let tmp = NewFile::create::<CheckoutError>(
        out,
        ".reg-checkout-",
        "checkout writes a new bundle file and never replaces one",
    )?;
    let record = record_of(reg, id)?;
    let mut builder = tar::Builder::new(BufWriter::with_capacity(1 << 20, tmp));
    // The manifest's time, as `reg bundle pack` dates the entries.
    let mtime = crate::util::encoding::parse_rfc3339(&record.manifest.created).unwrap_or(0);
    let header = |size: u64| crate::bundle::pack::entry_header(size, mtime);
    let write_err = |e: std::io::Error| CheckoutError::Io(IoError::from_source("write", out, e));
    builder
        .append_data(
            &mut header(record.bytes.len() as u64),
            manifest::MANIFEST_NAME,
            &record.bytes[..],
        )
        .map_err(write_err)?;
    let artifacts = &record.manifest.artifacts;
    let task = crate::util::progress::task(
        "writing bundle",
        Some(artifacts.iter().map(|a| a.size).sum()),
    );
    let mut bytes = 0;
    for a in artifacts {
        let aid = artifact_target(reg, id, a)?;
        let mut h = header(a.size);
        let mut entry = builder.append_writer(&mut h, &a.path).map_err(write_err)?;
        bytes += reg
            .store()
            .copy_verified_sized(&aid, Some(a.size), &mut entry)
            .map_err(|source| CheckoutError::Artifact {
                spec: spec.clone(),
                path: a.path.clone(),
                source,
            })?;
        entry.finish().map_err(write_err)?;
        task.advance(a.size);
    }
    let tmp = builder
        .into_inner()
        .map_err(write_err)?
        .into_inner()
        .map_err(|e| write_err(e.into_error()))?;
    tmp.publish::<CheckoutError>()?;
    Ok(BundleWritten {
        record: *id,
        artifacts: artifacts.len(),
        bytes,
    })
}

/// The entry that purged a model (FORMAT.md §5.10), as messages about the model name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeView {
    /// The `purge` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// When.
    pub time: String,
    /// Why.
    pub reason: String,
}

/// The `purge` entry of the model `record`, if the ledger holds one. The state records only
/// that a model was purged, not by which entry, and no chain links a purge to its model: the
/// ledger is read from its newest entry back to the purge, which only a message about a purged
/// model needs.
pub fn purge_of(reg: &Registry, record: &ObjectId) -> Result<Option<PurgeView>, RegistryError> {
    let (ids, _) = crate::repo::ledger::read_ids(&reg.path().join(crate::repo::layout::LEDGER))?;
    for id in ids.iter().rev() {
        let entry = crate::repo::ledger::read_entry(reg.store(), id).map_err(|e| {
            RegistryError::corrupt_object(reg.store(), id, format!("entry {id}: {e}"))
        })?;
        if let crate::format::entry::Body::Purge(p) = entry.body
            && p.model == *record
        {
            return Ok(Some(PurgeView {
                entry: *id,
                seq: entry.header.seq,
                time: entry.header.time,
                reason: p.reason,
            }));
        }
    }
    Ok(None)
}
