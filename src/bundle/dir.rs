//! Directory bundles: `reg-manifest.json` and the artifact files, and nothing else.

use super::{
    Authorize, Bundle, BundleError, Expected, Staging, accept_manifest, entry_err, relative_name,
};
use crate::format::id::ObjectId;
use crate::format::manifest::{MANIFEST_LIMIT, MANIFEST_NAME};
use crate::util::fsutil::read_small;
use std::fs::File;
use std::path::Path;

/// Reads a directory bundle. Its bundle hash is the BLAKE3 of its manifest (FORMAT.md §5.6).
pub(super) fn read(
    root: &Path,
    authorize: Authorize<'_>,
    staging: Staging<'_>,
) -> Result<Bundle, BundleError> {
    let manifest_path = root.join(MANIFEST_NAME);
    let bytes = read_small(&manifest_path, MANIFEST_LIMIT)?;
    let bundle_hash = ObjectId::of(&bytes);
    let manifest = accept_manifest(bytes, authorize)?;
    let mut expected = Expected::new(&manifest);
    for entry in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let entry =
            entry.map_err(|e| BundleError::Archive(format!("cannot list the bundle: {e}")))?;
        let name = relative_name(root, entry.path())?;
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        if name == MANIFEST_NAME && ft.is_file() {
            continue;
        }
        if !ft.is_file() {
            return Err(entry_err(
                &name,
                "is not a regular file (a bundle holds no links or special files)",
            ));
        }
        let size = entry
            .metadata()
            .map_err(|e| entry_err(&name, format!("cannot read its metadata: {e}")))?
            .len();
        let (i, artifact) = expected.admit(&name, size)?;
        let mut file = open_nofollow(entry.path())?;
        expected.stage(i, artifact, &mut file, staging)?;
    }
    Ok(Bundle {
        manifest,
        artifacts: expected.finish()?,
        bundle_hash,
        encrypted: false,
    })
}

/// Opens an artifact the way reg opens every file ([`crate::util::fsutil::open_regular`]): a file
/// swapped for a link or a FIFO after it was listed is refused, never followed or waited on.
fn open_nofollow(path: &Path) -> Result<File, BundleError> {
    Ok(crate::util::fsutil::open_regular(path)?)
}
