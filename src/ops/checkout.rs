//! Re-hashing a model's stored artifacts (`reg verify`) and writing them out (`reg checkout`),
//! verifying every byte as it is copied.

use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::format::manifest::{self, MANIFEST_LIMIT, SignedManifest};
use crate::query::record::PurgeView;
use crate::repo::registry::{Registry, RegistryError};
use crate::repo::store::StoreError;
use crate::state::ModelState;
use crate::util::fsutil::{IoContext, IoError, fsync_dir};
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
    /// The destination exists.
    #[error("`{0}` already exists; checkout writes a new directory")]
    Exists(PathBuf),
    /// A revoked model is never written out.
    #[error("{0} is REVOKED: its artifacts are not to be used")]
    Revoked(String),
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
fn refuse_purged(reg: &Registry, id: &ObjectId, model: &ModelState) -> Result<(), CheckoutError> {
    if !model.purged {
        return Ok(());
    }
    Err(CheckoutError::Purged {
        spec: format!("{}@{}", model.name, model.version),
        purge: crate::query::record::purge_of(reg, id).ok().flatten(),
    })
}

/// The record's manifest (hash-checked by the store, schema-checked on parse).
fn manifest_of(reg: &Registry, id: &ObjectId) -> Result<manifest::Manifest, RegistryError> {
    let bytes = reg.store().get(id, MANIFEST_LIMIT)?;
    let signed = SignedManifest::parse(bytes)
        .map_err(|e| RegistryError::corrupt_object(reg.store(), id, format!("record {id}: {e}")))?;
    Ok(signed.manifest)
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
            .copy_verified_sized(&aid, Some(a.size), &mut std::io::sink())
            .map_err(|source| CheckoutError::Artifact {
                spec: spec.clone(),
                path: a.path.clone(),
                source,
            })?;
        out.push((a.path, size));
    }
    Ok(out)
}

/// Writes a model's artifacts under `dest` (which must not exist), verifying while copying:
/// into a temporary directory beside it, renamed into place only when every file verified.
pub fn checkout(
    reg: &Registry,
    id: &ObjectId,
    model: &ModelState,
    dest: &Path,
) -> Result<u64, CheckoutError> {
    refuse_purged(reg, id, model)?;
    let spec = format!("{}@{}", model.name, model.version);
    if model.state == LifecycleState::Revoked {
        return Err(CheckoutError::Revoked(spec));
    }
    if std::fs::symlink_metadata(dest).is_ok() {
        return Err(CheckoutError::Exists(dest.to_path_buf()));
    }
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staging = crate::util::mount::StagingDir::new_in(parent, ".reg-checkout-")
        .ctx("create temporary directory in", parent)?;
    let mut total = 0;
    let artifacts = manifest_of(reg, id)?.artifacts;
    let task = crate::util::progress::task("copying", Some(artifacts.iter().map(|a| a.size).sum()));
    for a in artifacts {
        // Paths were checked at ingestion (FORMAT.md §7.3); check again before writing by name.
        manifest::check_path(&a.path).map_err(|why| {
            RegistryError::corrupt_object(
                reg.store(),
                id,
                format!("artifact path `{}`: {why}", a.path),
            )
        })?;
        let aid: ObjectId = a.blake3.parse().map_err(|_| {
            RegistryError::corrupt_object(reg.store(), id, "bad artifact id".into())
        })?;
        let target = staging.path().join(&a.path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).ctx("create directory", dir)?;
        }
        let mut file = std::fs::File::create(&target).ctx("create", &target)?;
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
    let kept = staging.keep();
    std::fs::rename(&kept, dest).ctx("rename into place", dest)?;
    fsync_dir(parent)?;
    Ok(total)
}
