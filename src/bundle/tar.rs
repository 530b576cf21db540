//! Tar bundles: the manifest first, then one regular file per artifact; nothing else.
//!
//! Entries are never extracted: each regular entry is streamed from the archive straight into
//! staging. Every non-regular entry type is refused, except directories, whose names are checked
//! and which are otherwise ignored. The `tar` crate honours PAX and GNU long-name headers, so the
//! name and size checked are the ones a extracting tool would use.

use super::{
    Authorize, BundleError, Checked, Expected, MAX_ENTRIES, Staging, accept_manifest, entry_err,
};
use crate::format::manifest::{MANIFEST_LIMIT, MANIFEST_NAME, SignedManifest, check_path};
use std::io::Read;
use tar::EntryType;

/// Reads a tar bundle from `reader` (plaintext).
pub(super) fn read(
    reader: &mut dyn Read,
    authorize: Authorize<'_>,
    staging: Staging<'_>,
) -> Result<(SignedManifest, Vec<Checked>), BundleError> {
    let mut archive = tar::Archive::new(reader);
    let (manifest, artifacts) = {
        let mut entries = archive.entries().map_err(archive_err)?;
        let manifest = read_manifest(&mut entries, authorize)?;
        let artifacts = read_artifacts(entries, &manifest, staging)?;
        (manifest, artifacts)
    };
    check_trailing(archive.into_inner())?;
    Ok((manifest, artifacts))
}

/// A tar read error, as the bundle error it is.
fn archive_err(e: std::io::Error) -> BundleError {
    BundleError::Archive(format!("malformed tar: {e}"))
}

/// Reads the first entry, which must be the regular file `manifest.sig` within its size limit,
/// and accepts it through `authorize`. A step of its own because the manifest is verified before
/// any artifact entry is read.
fn read_manifest(
    entries: &mut tar::Entries<'_, &mut dyn Read>,
    authorize: Authorize<'_>,
) -> Result<SignedManifest, BundleError> {
    let mut first = entries
        .next()
        .ok_or_else(|| BundleError::Archive("the tar is empty: it has no manifest".into()))?
        .map_err(archive_err)?;
    let name = entry_name(&first)?;
    if name != MANIFEST_NAME || first.header().entry_type() != EntryType::Regular {
        return Err(entry_err(
            &name,
            format!("the first entry of a bundle must be the regular file `{MANIFEST_NAME}`"),
        ));
    }
    let size = first.size();
    if size > MANIFEST_LIMIT {
        return Err(entry_err(
            &name,
            format!("the manifest is larger than {MANIFEST_LIMIT} bytes"),
        ));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    first
        .read_to_end(&mut bytes)
        .map_err(|e| entry_err(&name, format!("read failed: {e}")))?;
    accept_manifest(bytes, authorize)
}

/// Streams every entry after the manifest into staging, checked against the verified
/// `manifest`: regular files must be its artifacts, directories only have their names checked,
/// anything else is refused. A step of its own because it is the one loop over untrusted
/// entries, with the entry-count limit.
fn read_artifacts(
    entries: tar::Entries<'_, &mut dyn Read>,
    manifest: &SignedManifest,
    staging: Staging<'_>,
) -> Result<Vec<Checked>, BundleError> {
    let mut expected = Expected::new(manifest);
    let mut count = 1usize;
    for entry in entries {
        let mut entry = entry.map_err(archive_err)?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(BundleError::Archive(format!(
                "the tar has more than {MAX_ENTRIES} entries"
            )));
        }
        let name = entry_name(&entry)?;
        match entry.header().entry_type() {
            EntryType::Regular | EntryType::Continuous => {
                let (i, artifact) = expected.admit(&name, entry.size())?;
                expected.stage(i, artifact, &mut entry, staging)?;
            }
            EntryType::Directory => {
                let dir = name.strip_suffix('/').unwrap_or(&name);
                check_path(dir).map_err(|why| entry_err(&name, why))?;
            }
            other => {
                return Err(entry_err(
                    &name,
                    format!(
                        "is a {}, and a bundle holds only regular files",
                        kind_name(other)
                    ),
                ));
            }
        }
    }
    expected.finish()
}

/// Checks that only zero padding follows the end-of-archive block: anything else was smuggled
/// past every tool that stops at the end marker. A step of its own because it reads past the
/// archive, after the tar reader is done.
fn check_trailing(rest: &mut dyn Read) -> Result<(), BundleError> {
    let mut buf = [0u8; 8192];
    loop {
        let n = rest
            .read(&mut buf)
            .map_err(|e| BundleError::Archive(format!("read failed after the archive: {e}")))?;
        if n == 0 {
            break;
        }
        if buf[..n].iter().any(|b| *b != 0) {
            return Err(BundleError::Archive(
                "data follows the end of the tar archive (trailing garbage)".into(),
            ));
        }
    }
    Ok(())
}

/// The entry's name as UTF-8 (after PAX and GNU long-name headers); non-UTF-8 names are refused.
fn entry_name(entry: &tar::Entry<'_, &mut dyn Read>) -> Result<String, BundleError> {
    let raw = entry.path_bytes();
    if raw.contains(&0) {
        return Err(entry_err(
            &String::from_utf8_lossy(&raw),
            "the name holds a NUL byte",
        ));
    }
    String::from_utf8(raw.into_owned()).map_err(|e| {
        entry_err(
            &String::from_utf8_lossy(e.as_bytes()),
            "the name is not UTF-8",
        )
    })
}

fn kind_name(t: EntryType) -> &'static str {
    match t {
        EntryType::Symlink => "symbolic link",
        EntryType::Link => "hard link",
        EntryType::Char => "character device",
        EntryType::Block => "block device",
        EntryType::Fifo => "FIFO",
        EntryType::GNUSparse => "sparse file",
        EntryType::XGlobalHeader => "pax global header",
        _ => "special entry",
    }
}
