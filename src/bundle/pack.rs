//! Writing bundles (`reg bundle pack`): a signed manifest and the artifact files in one tar,
//! optionally encrypted with age.
//!
//! The tar is deterministic (sorted entries, fixed owner, mode and time from the manifest's
//! `created`), so the same files, key and clock give the same plain bundle. A file is written
//! beside its destination and renamed into place only when complete; a stream (`-o -`, standard
//! output) gets the bytes as they are made, as tar and age write, and its reader verifies them.
//!
//! Both passes over the artifacts (hashing, then archiving) report progress
//! (`util::progress`): a model is tens of GiB.

use super::{BundleError, entry_err};
use crate::crypto::keys::SecretKey;
use crate::format::formats::{self, SNIFF_LEN};
use crate::format::id::ObjectId;
use crate::format::manifest::{self, Artifact, MANIFEST_NAME, Manifest, Provenance};
use crate::util::create::{NewFile, refuse_existing};
use crate::util::encoding::{Clock, parse_rfc3339};
use crate::util::fsutil::{IoContext, IoError};
use crate::util::hash::{HashingReader, HashingWriter, copy_hashing};
use age::secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The model metadata a publisher gives (from flags or a JSON file); reg adds the artifacts,
/// the time and the publisher.
///
/// Every field may be left out of a metadata file (the flags may give it); what is then missing
/// is reported by the schema, field by field, like any other violation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Metadata {
    /// Model name.
    pub name: String,
    /// Semantic version.
    pub version: String,
    /// `ML`, `DL`, `LLM` or `ruleset`.
    #[serde(rename = "type")]
    pub model_type: String,
    /// Intended uses.
    pub uses: Vec<String>,
    /// What the model is.
    pub description: String,
    /// Framework (free text).
    #[serde(default)]
    pub framework: Option<String>,
    /// Free-form labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Named hash references to training data.
    #[serde(default)]
    pub provenance: Vec<Provenance>,
    /// Who answers for the model (format 4 registries).
    #[serde(default)]
    pub owner: Option<String>,
    /// The model's license (format 4 registries).
    #[serde(default)]
    pub license: Option<String>,
}

/// The scrypt work factor of passphrase bundles, log2(N): what the age CLI writes (256 MiB,
/// about a second), below what readers accept (`MAX_SCRYPT_LOG_N` in `bundle::decrypt`).
pub const PACK_SCRYPT_LOG_N: u8 = 18;

const _: () = assert!(PACK_SCRYPT_LOG_N <= super::decrypt::MAX_SCRYPT_LOG_N);

/// How to encrypt the bundle.
pub enum Encryption {
    /// A plain tar.
    None,
    /// To age X25519 recipients.
    Recipients(Vec<age::x25519::Recipient>),
    /// With a passphrase (scrypt).
    Passphrase(SecretString),
}

/// What `pack` wrote.
#[derive(Debug)]
pub struct Packed {
    /// The signed manifest.
    pub manifest: Manifest,
    /// Its record id (the BLAKE3 of the signed manifest).
    pub record: ObjectId,
    /// BLAKE3 of the bundle file written.
    pub bundle_hash: ObjectId,
}

/// Where `pack` writes the bundle.
pub enum Output<'a> {
    /// A new file, renamed into place when complete; never overwritten.
    File(&'a Path),
    /// A stream (standard output), written as the bundle is made; `name` names it in errors.
    Stream {
        /// Where the bytes go.
        writer: &'a mut dyn Write,
        /// What messages call it, e.g. `standard output`.
        name: &'a Path,
    },
}

/// What `reg bundle pack` says when its output exists.
const WRITES: &str = "refusing to overwrite it";

/// Packs the files under `dir` into a signed bundle written to `out`, dated by `clock`.
pub fn pack(
    dir: &Path,
    meta: Metadata,
    key: &SecretKey,
    out: Output<'_>,
    encryption: Encryption,
    clock: &Clock,
) -> Result<Packed, BundleError> {
    // Said before any file is read; the output is then published without replacing what
    // may have appeared there meanwhile.
    if let Output::File(path) = &out {
        refuse_existing(path, WRITES)?;
    }
    let files = list_files(dir)?;
    let artifacts = describe_artifacts(&files)?;
    let manifest = build_manifest(meta, artifacts, key, clock)?;
    let signed = manifest::sign(&manifest, key)?;
    let record = ObjectId::of(&signed);
    // The manifest's time, so that the tar is reproducible too.
    let mtime = parse_rfc3339(&manifest.created).unwrap_or(0);
    let bundle = Contents {
        signed: &signed,
        files: &files,
        manifest: &manifest,
        mtime,
    };
    let out = match out {
        Output::File(out) => out,
        Output::Stream { writer, name } => {
            let buffered = BufWriter::with_capacity(1 << 20, writer);
            let (mut written, bundle_hash) = encode(buffered, encryption, &bundle, name)?;
            written.flush().ctx("write", name)?;
            return Ok(Packed {
                manifest,
                record,
                bundle_hash,
            });
        }
    };
    let bundle_hash = write_bundle(out, encryption, &bundle)?;
    Ok(Packed {
        manifest,
        record,
        bundle_hash,
    })
}

/// The manifest's artifact list: each file's hash, size and format (sniffed from its first
/// bytes). A step of its own because it reads every file once, before anything is signed; the
/// tar writer reads them again and checks they did not change.
fn describe_artifacts(files: &[(String, PathBuf)]) -> Result<Vec<Artifact>, BundleError> {
    let mut artifacts = Vec::with_capacity(files.len());
    let task = crate::util::progress::task("hashing", Some(total_size(files)));
    for (rel, path) in files {
        let file = File::open(path).ctx("open", path)?;
        let mut file = Counted {
            inner: file,
            task: &task,
        };
        let mut head = Vec::with_capacity(SNIFF_LEN);
        (&mut file)
            .take(SNIFF_LEN as u64)
            .read_to_end(&mut head)
            .ctx("read", path)?;
        let mut rest = io::Cursor::new(&head).chain(file);
        let (id, size) =
            copy_hashing(&mut rest, &mut io::sink()).map_err(|_| entry_err(rel, "read failed"))?;
        artifacts.push(Artifact {
            blake3: ObjectId::from_hash(id).to_string(),
            format: formats::detect(rel, &head),
            path: rel.clone(),
            size,
        });
    }
    Ok(artifacts)
}

/// The manifest to sign: the publisher's metadata in canonical order (uses sorted and
/// deduplicated, provenance sorted by name), the artifacts, the time from `clock` and the
/// signer as publisher. A step of its own because it decides what the signature covers.
fn build_manifest(
    meta: Metadata,
    artifacts: Vec<Artifact>,
    key: &SecretKey,
    clock: &Clock,
) -> Result<Manifest, BundleError> {
    let mut uses = meta.uses;
    uses.sort();
    uses.dedup();
    let mut provenance = meta.provenance;
    provenance.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Manifest {
        artifacts,
        created: clock
            .now()
            .map_err(|e| BundleError::Archive(e.to_string()))?,
        description: meta.description,
        framework: meta.framework,
        labels: meta.labels,
        license: meta.license,
        name: meta.name,
        owner: meta.owner,
        provenance,
        publisher: key.public().fingerprint().clone(),
        model_type: meta.model_type,
        uses,
        version: meta.version,
    })
}

/// The bytes of the files, as listed (what progress counts in each pass); a file that cannot
/// be read counts 0 here and is refused when it is opened.
fn total_size(files: &[(String, PathBuf)]) -> u64 {
    files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum()
}

/// A reader that reports the bytes read through it to a task it borrows (one task spans
/// every file of a pass).
struct Counted<'t, R> {
    inner: R,
    task: &'t crate::util::progress::Task,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.task.advance(n as u64);
        Ok(n)
    }
}

/// What goes into the bundle: the signed manifest and the files it lists, dated `mtime`.
struct Contents<'a> {
    signed: &'a [u8],
    files: &'a [(String, PathBuf)],
    manifest: &'a Manifest,
    mtime: u64,
}

/// Writes the bundle, encrypted as asked, to the new file `out` ([`NewFile`]: nothing reaches
/// `out` until the whole bundle is on disk, and nothing there is replaced); returns the BLAKE3
/// of the bytes written.
fn write_bundle(
    out: &Path,
    encryption: Encryption,
    bundle: &Contents<'_>,
) -> Result<ObjectId, BundleError> {
    let new = NewFile::create::<BundleError>(out, ".reg-pack-", WRITES)?;
    let buffered = BufWriter::with_capacity(1 << 20, new);
    let (buffered, bundle_hash) = encode(buffered, encryption, bundle, out)?;
    let new = buffered
        .into_inner()
        .map_err(|e| IoError::from_source("write", out, e.into_error()))?;
    new.publish::<BundleError>()?;
    Ok(bundle_hash)
}

/// Writes the bundle, encrypted as asked, into `w`; returns `w` and the BLAKE3 of the bytes
/// written (the bundle as a registry will receive it). `out` names the destination in errors.
fn encode<W: Write>(
    w: W,
    encryption: Encryption,
    bundle: &Contents<'_>,
    out: &Path,
) -> Result<(W, ObjectId), BundleError> {
    let hashing = HashingWriter::new(w);
    let finished = match encryption {
        Encryption::None => write_tar(hashing, bundle, out)?,
        Encryption::Recipients(rs) => {
            let enc = age::Encryptor::with_recipients(rs.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| BundleError::Archive(format!("cannot encrypt: {e}")))?;
            let stream = enc.wrap_output(hashing).ctx("encrypt", out)?;
            write_tar(stream, bundle, out)?
                .finish()
                .ctx("encrypt", out)?
        }
        Encryption::Passphrase(p) => {
            // A fixed work factor, not one calibrated to this machine: a fast packer could
            // otherwise pick one above what every reader accepts.
            let mut r = age::scrypt::Recipient::new(p);
            r.set_work_factor(PACK_SCRYPT_LOG_N);
            let stream =
                age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
                    .map_err(|e| BundleError::Archive(format!("cannot encrypt: {e}")))?
                    .wrap_output(hashing)
                    .ctx("encrypt", out)?;
            write_tar(stream, bundle, out)?
                .finish()
                .ctx("encrypt", out)?
        }
    };
    let bundle_hash = ObjectId::from_hash(finished.hash());
    Ok((finished.into_inner(), bundle_hash))
}

/// The regular files under `dir`, sorted by their bundle path; links and special files refused.
fn list_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, BundleError> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let entry = entry
            .map_err(|e| BundleError::Archive(format!("cannot list `{}`: {e}", dir.display())))?;
        let rel = super::relative_name(dir, entry.path())?;
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        if !ft.is_file() {
            return Err(entry_err(
                &rel,
                "is not a regular file (links and special files cannot be packed)",
            ));
        }
        manifest::check_path(&rel).map_err(|why| entry_err(&rel, why))?;
        files.push((rel, entry.path().to_path_buf()));
    }
    if files.is_empty() {
        return Err(BundleError::Archive(format!(
            "`{}` holds no files to pack",
            dir.display()
        )));
    }
    files.sort();
    Ok(files)
}

/// Archives the manifest and the artifacts into `out`, named `name` in errors (the file being
/// written, or standard output).
fn write_tar<W: Write>(out: W, bundle: &Contents<'_>, name: &Path) -> Result<W, BundleError> {
    let Contents {
        signed,
        files,
        manifest,
        mtime,
    } = *bundle;
    let task = crate::util::progress::task("packing", Some(total_size(files)));
    let mut builder = tar::Builder::new(Watched {
        inner: out,
        failed: false,
    });
    let header = |size: u64| entry_header(size, mtime);
    let io_err =
        |e: io::Error| BundleError::Io(IoError::from_source("write the bundle to", name, e));
    builder
        .append_data(&mut header(signed.len() as u64), MANIFEST_NAME, signed)
        .map_err(io_err)?;
    for ((rel, path), artifact) in files.iter().zip(&manifest.artifacts) {
        let file = File::open(path).ctx("open", path)?;
        // Hash again while archiving: a file changed since it was hashed would make a bundle
        // that every registry refuses; say so now instead.
        let counted = Counted {
            inner: file.take(artifact.size + 1),
            task: &task,
        };
        let mut reader = HashingReader::new(counted);
        if let Err(e) = builder.append_data(&mut header(artifact.size), rel, &mut reader) {
            // A failed write is the output's (a closed pipe, a full disk), not the file's.
            return Err(if builder.get_ref().failed {
                io_err(e)
            } else {
                entry_err(rel, "changed while it was being packed")
            });
        }
        if ObjectId::from_hash(reader.finish()).to_string() != artifact.blake3 {
            return Err(entry_err(rel, "changed while it was being packed"));
        }
    }
    builder.into_inner().map(|w| w.inner).map_err(io_err)
}

/// The bundle's output, remembering whether a write to it failed, so that an error while
/// archiving an artifact is told apart: the output's, or the artifact's own.
struct Watched<W> {
    inner: W,
    failed: bool,
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        self.failed |= r.is_err();
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.failed |= r.is_err();
        r
    }
}

/// The header of every entry reg writes into a bundle (FORMAT.md §7.2): a regular file of
/// `size` bytes, mode 0644, owner 0, dated `mtime` (the manifest's `created`), so that the same
/// model gives the same bundle bytes whether `reg bundle pack` or `reg checkout --bundle` wrote
/// it.
pub fn entry_header(size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Regular);
    h
}
