//! Reading bundles safely (FORMAT.md §7.2–7.5): a directory, a tar, or an age-encrypted tar.
//!
//! Nothing is extracted by name. The manifest comes first and its signature is checked (by the
//! caller's `authorize`) before any artifact byte is read; then each artifact is streamed once,
//! hashed while it is written to staging, and compared with the manifest. The result is a list
//! of staged files that only become objects when the caller commits them.

mod decrypt;
mod dir;
pub mod pack;
mod pipe;
mod tar;

pub use decrypt::{Decryption, Identities, decrypt_to, recipients_of};

use crate::crypto::envelope::Unverified;
use crate::format::formats::{self, SNIFF_LEN};
use crate::format::id::ObjectId;
use crate::format::manifest::{self, Artifact, ManifestError, SignedManifest};
use crate::repo::store::{Staged, Store, StoreError};
use crate::util::fsutil::IoError;
use crate::util::hash::{CopyError, HashingReader, copy_hashing};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Most entries (artifacts plus directories) reg reads from one tar.
pub const MAX_ENTRIES: usize = 20_000;

/// Why a bundle is refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The path is neither a directory, a tar nor an age file.
    #[error("`{0}` is not a bundle: expected a directory, a tar or an age-encrypted tar")]
    NotABundle(PathBuf),
    /// The manifest is missing, malformed or invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The manifest's signer is not acceptable.
    #[error("manifest signature: {0}")]
    Unauthorized(String),
    /// An archive entry or file breaks a rule; `name` is the entry or file at fault.
    #[error("`{name}`: {why}")]
    Entry {
        /// The entry's name as found.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// The archive as a whole breaks a rule.
    #[error("{0}")]
    Archive(String),
    /// Decryption failed (deliberately unspecific, like age).
    #[error("cannot decrypt the bundle: {0}")]
    Decrypt(String),
    /// Something already exists where the bundle would be written (`reg bundle pack -o OUT`),
    /// or appeared while it was written (never replaced).
    #[error(transparent)]
    OutputExists(#[from] crate::util::create::Exists),
    /// Where the output would go, or what happened to it while it was written, is refused
    /// (util::create).
    #[error(transparent)]
    Output(#[from] crate::util::create::OutputRefused),
    /// The caller's `authorize` stopped reading; its reason is the caller's to report.
    #[error("reading the bundle was stopped")]
    Stopped,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// I/O failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

fn entry_err(name: &str, why: impl Into<String>) -> BundleError {
    BundleError::Entry {
        name: crate::util::encoding::echo(name),
        why: why.into(),
    }
}

/// Where verified artifact bytes go while a bundle is read.
#[derive(Clone, Copy)]
pub enum Staging<'a> {
    /// Into the store's `tmp/`, to be committed later (`reg add`).
    Store(&'a Store),
    /// Nowhere: only hash them (`reg bundle verify`).
    Discard,
}

/// An artifact that was read, hashed and checked against the manifest.
#[derive(Debug)]
pub struct Checked {
    /// Its manifest entry.
    pub artifact: Artifact,
    /// The staged file, when staging into a store.
    pub staged: Option<Staged>,
}

/// A bundle that was read completely and matches its signed manifest.
#[derive(Debug)]
pub struct Bundle {
    /// The signed manifest (the future record).
    pub manifest: SignedManifest,
    /// Every artifact, in manifest order.
    pub artifacts: Vec<Checked>,
    /// BLAKE3 of the bundle as received (FORMAT.md §5.6).
    pub bundle_hash: ObjectId,
    /// Whether the bundle was age-encrypted.
    pub encrypted: bool,
}

/// Callback that checks a bundle before any artifact is read, in stages (FORMAT.md §7.5): how
/// it came sealed, before its manifest is read; then the manifest's signer and signature, on
/// the envelope alone, before the payload is interpreted; then the parsed manifest, once its
/// schema and rules hold.
pub type Authorize<'a> = &'a mut dyn FnMut(Stage<'_>) -> Result<(), BundleError>;

/// How a bundle came sealed: what a policy requiring encrypted bundles asks about (FORMAT.md
/// §5.5 `require_encrypted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealing {
    /// Not encrypted: a directory or a tar.
    Plain,
    /// age-encrypted with a passphrase (scrypt).
    Passphrase,
    /// age-encrypted to recipients, and opened by the identity at this index of
    /// [`Decryption::identities`] (the first, in their order, that unwrapped the file key).
    Identity(usize),
}

/// What [`Authorize`] is shown.
pub enum Stage<'a> {
    /// How the bundle came sealed; shown first, before the manifest is read (for an encrypted
    /// bundle, once its file key is unwrapped).
    Opened(Sealing),
    /// The manifest's envelope, whose payload is not interpreted yet: check the signature.
    Signed {
        /// The envelope.
        envelope: &'a Unverified,
        /// Its object id: the record id it has, or would have, in a registry (FORMAT.md §7.1).
        id: ObjectId,
    },
    /// The manifest, signed (as checked) and valid under the schema and the rules of §7.
    Parsed(&'a SignedManifest),
}

/// Where a bundle is read from.
pub enum Source<'a> {
    /// A directory, a tar or an age-encrypted tar, at a path.
    Path(&'a Path),
    /// A tar or an age-encrypted tar read once, front to back, from a stream (`reg add -`
    /// reads standard input): the same single pass as a file, so nothing is held in memory
    /// but the pipeline's fixed buffers. `name` names the stream in messages.
    Stream {
        /// The bytes of the bundle.
        reader: &'a mut (dyn Read + Send),
        /// What messages call it, e.g. `standard input`.
        name: &'a Path,
    },
}

/// Reads the bundle from `source` (a directory, a tar, or an age-encrypted tar, told apart by
/// content).
pub fn read(
    source: Source<'_>,
    decryption: &mut Decryption<'_>,
    authorize: Authorize<'_>,
    staging: Staging<'_>,
) -> Result<Bundle, BundleError> {
    let path = match source {
        Source::Path(path) => path,
        Source::Stream { reader, name } => {
            let task = crate::util::progress::task("reading bundle", None);
            let input = crate::util::progress::Reader::new(reader, task);
            return read_file(input, name, decryption, authorize, staging);
        }
    };
    let meta =
        std::fs::symlink_metadata(path).map_err(|e| IoError::from_source("read", path, e))?;
    if meta.is_dir() {
        authorize(Stage::Opened(Sealing::Plain))?;
        return dir::read(path, authorize, staging);
    }
    if !meta.is_file() {
        return Err(BundleError::NotABundle(path.to_path_buf()));
    }
    let file = crate::util::fsutil::open_regular(path)?;
    let task = crate::util::progress::task("reading bundle", Some(meta.len()));
    let input = crate::util::progress::Reader::new(file, task);
    read_file(input, path, decryption, authorize, staging)
}

/// Reads a tar or an age-encrypted tar from `input` in one pass; `path` names it in errors.
fn read_file<R: Read + Send>(
    input: R,
    path: &Path,
    decryption: &mut Decryption<'_>,
    authorize: Authorize<'_>,
    staging: Staging<'_>,
) -> Result<Bundle, BundleError> {
    let mut hashing = HashingReader::new(input);
    let mut head = vec![0u8; 512];
    let n =
        read_full(&mut hashing, &mut head).map_err(|e| IoError::from_source("read", path, e))?;
    head.truncate(n);
    let kind = sniff(&head).ok_or_else(|| BundleError::NotABundle(path.to_path_buf()))?;
    match kind {
        Sniffed::Tar => {
            authorize(Stage::Opened(Sealing::Plain))?;
            // Reading and hashing the file as received runs beside parsing, hashing and
            // writing the artifacts (see `pipe`).
            let source = io::Cursor::new(head).chain(&mut hashing);
            let (parsed, read) = pipe::pipelined(source, |r| tar::read(r, authorize, staging));
            read.map_err(|e| IoError::from_source("read", path, e))?;
            let (manifest, artifacts) = parsed?;
            Ok(Bundle {
                manifest,
                artifacts,
                bundle_hash: ObjectId::from_hash(hashing.finish()),
                encrypted: false,
            })
        }
        Sniffed::Age => {
            // Reading and hashing the ciphertext runs on a thread of its own, so that the
            // thread that decrypts (the slowest step) does nothing else (see `decrypt`).
            let source = io::Cursor::new(head).chain(&mut hashing);
            let (parsed, read) =
                pipe::pipelined(source, |r| decrypt::read(r, decryption, authorize, staging));
            // A read error reached the decryptor, which refused the stream first.
            let (manifest, artifacts) = parsed?;
            read.map_err(|e| IoError::from_source("read", path, e))?;
            Ok(Bundle {
                manifest,
                artifacts,
                bundle_hash: ObjectId::from_hash(hashing.finish()),
                encrypted: true,
            })
        }
    }
}

enum Sniffed {
    Tar,
    Age,
}

/// Tells a bundle file's kind from its first bytes, never from its name.
fn sniff(head: &[u8]) -> Option<Sniffed> {
    let unindented = &head[head.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    if head.starts_with(b"age-encryption.org/")
        || unindented.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
    {
        Some(Sniffed::Age)
    } else if head.len() >= 263 && &head[257..262] == b"ustar" {
        Some(Sniffed::Tar)
    } else {
        None
    }
}

pub(crate) use crate::util::fsutil::read_full;

/// The bundle path of a file found under `root`: relative, `/`-separated, UTF-8 (or refused).
fn relative_name(root: &Path, path: &Path) -> Result<String, BundleError> {
    let rel = path
        .strip_prefix(root)
        .expect("walkdir stays under its root");
    rel.to_str()
        .map(|s| s.replace(std::path::MAIN_SEPARATOR, "/"))
        .ok_or_else(|| entry_err(&rel.to_string_lossy(), "the name is not UTF-8"))
}

/// The artifacts a manifest expects, tracked while a bundle is read.
struct Expected {
    by_path: BTreeMap<String, (usize, Artifact)>,
    by_key: BTreeMap<String, String>,
    done: Vec<Option<Checked>>,
}

impl Expected {
    fn new(m: &SignedManifest) -> Self {
        let arts = &m.manifest.artifacts;
        Expected {
            by_path: arts
                .iter()
                .enumerate()
                .map(|(i, a)| (a.path.clone(), (i, a.clone())))
                .collect(),
            by_key: arts
                .iter()
                .map(|a| (manifest::path_key(&a.path), a.path.clone()))
                .collect(),
            done: arts.iter().map(|_| None).collect(),
        }
    }

    /// Checks a file's name and announced size against the manifest before reading its bytes.
    fn admit(&self, name: &str, size: u64) -> Result<(usize, Artifact), BundleError> {
        manifest::check_path(name).map_err(|why| entry_err(name, why))?;
        let Some((i, artifact)) = self.by_path.get(name) else {
            return Err(match self.by_key.get(&manifest::path_key(name)) {
                Some(listed) => entry_err(
                    name,
                    format!(
                        "differs only in case or Unicode form from `{listed}`, which the manifest lists"
                    ),
                ),
                None => entry_err(name, "is not listed in the manifest"),
            });
        };
        if self.done[*i].is_some() {
            return Err(entry_err(name, "appears twice in the bundle"));
        }
        if size != artifact.size {
            return Err(entry_err(
                name,
                format!("is {size} bytes, but the manifest says {}", artifact.size),
            ));
        }
        Ok((*i, artifact.clone()))
    }

    /// Streams one admitted artifact into staging and checks its hash and format.
    fn stage(
        &mut self,
        i: usize,
        artifact: Artifact,
        reader: &mut dyn Read,
        staging: Staging<'_>,
    ) -> Result<(), BundleError> {
        let mut sniff = Sniff::new(reader);
        let (id, size, staged) = match staging {
            Staging::Store(store) => {
                let staged = store.stage_large(&mut sniff)?;
                (staged.id(), staged.size(), Some(staged))
            }
            Staging::Discard => {
                let (id, size) =
                    copy_hashing(&mut sniff, &mut io::sink()).map_err(|e| match e {
                        CopyError::Read(e) | CopyError::Write(e) => {
                            entry_err(&artifact.path, format!("read failed: {e}"))
                        }
                    })?;
                (ObjectId::from_hash(id), size, None)
            }
        };
        if size != artifact.size {
            return Err(entry_err(
                &artifact.path,
                format!(
                    "holds {size} bytes, but the manifest says {}",
                    artifact.size
                ),
            ));
        }
        if id.to_string() != artifact.blake3 {
            return Err(entry_err(
                &artifact.path,
                format!("BLAKE3 is {id}, but the manifest says {}", artifact.blake3),
            ));
        }
        let detected = formats::detect(&artifact.path, &sniff.head);
        if detected != artifact.format {
            return Err(entry_err(
                &artifact.path,
                format!(
                    "the manifest says format {}, but its bytes are {detected}",
                    artifact.format
                ),
            ));
        }
        self.done[i] = Some(Checked { artifact, staged });
        Ok(())
    }

    /// Every artifact, once all were seen; names the missing ones otherwise.
    fn finish(self) -> Result<Vec<Checked>, BundleError> {
        let missing: Vec<&str> = self
            .by_path
            .iter()
            .filter(|(_, (i, _))| self.done[*i].is_none())
            .map(|(p, _)| p.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(BundleError::Archive(format!(
                "the bundle lacks {} file(s) the manifest lists: {}",
                missing.len(),
                missing
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(self.done.into_iter().flatten().collect())
    }
}

/// A reader that keeps a copy of the first [`SNIFF_LEN`] bytes for format detection, so that
/// detection needs no second read of the file.
struct Sniff<'a> {
    inner: &'a mut dyn Read,
    head: Vec<u8>,
}

impl<'a> Sniff<'a> {
    fn new(inner: &'a mut dyn Read) -> Self {
        Sniff {
            inner,
            head: Vec::with_capacity(SNIFF_LEN),
        }
    }
}

impl Read for Sniff<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let room = SNIFF_LEN - self.head.len();
        self.head.extend_from_slice(&buf[..n.min(room)]);
        Ok(n)
    }
}

/// Reads and parses the manifest bytes, then lets the caller check its signer.
fn accept_manifest(
    bytes: Vec<u8>,
    authorize: Authorize<'_>,
) -> Result<SignedManifest, BundleError> {
    // The signature first, then the payload's schema and rules (FORMAT.md §7.5).
    let envelope = SignedManifest::parse_envelope(&bytes)?;
    authorize(Stage::Signed {
        envelope: &envelope,
        id: ObjectId::of(&bytes),
    })?;
    let manifest = SignedManifest::check_payload(bytes, envelope)?;
    authorize(Stage::Parsed(&manifest))?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::{Sniff, read_full};
    use crate::format::formats::SNIFF_LEN;
    use std::io::{self, Read};

    /// A reader that fails with `errors` (in order) before it gives `data` in pieces of at most
    /// three bytes, then ends.
    struct Flaky {
        errors: Vec<io::ErrorKind>,
        data: Vec<u8>,
    }

    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if !self.errors.is_empty() {
                return Err(io::Error::from(self.errors.remove(0)));
            }
            let n = buf.len().min(self.data.len()).min(3);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn read_full_retries_an_interrupted_read_and_keeps_reading_short_ones() {
        // A signal arriving during a read of the bundle must not end it as if it failed.
        let mut r = Flaky {
            errors: vec![io::ErrorKind::Interrupted, io::ErrorKind::Interrupted],
            data: b"0123456789".to_vec(),
        };
        let mut buf = [0u8; 8];
        assert_eq!(read_full(&mut r, &mut buf).unwrap(), 8);
        assert_eq!(&buf, b"01234567");
        let mut rest = [0u8; 8];
        assert_eq!(read_full(&mut r, &mut rest).unwrap(), 2);
        assert_eq!(&rest[..2], b"89");
    }

    #[test]
    fn read_full_returns_any_other_error() {
        // Anything but an interruption is the caller's to report, not a reason to retry.
        let mut r = Flaky {
            errors: vec![io::ErrorKind::PermissionDenied],
            data: b"never read".to_vec(),
        };
        let mut buf = [0u8; 4];
        let e = read_full(&mut r, &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
    }

    #[test]
    fn sniff_keeps_only_the_first_bytes_of_an_artifact() {
        // Format detection needs the first SNIFF_LEN bytes; keeping more would hold the whole
        // artifact in memory, which streaming must never do.
        let data: Vec<u8> = (0..3 * SNIFF_LEN).map(|i| (i % 251) as u8).collect();
        let mut source = &data[..];
        let mut sniff = Sniff::new(&mut source);
        let mut sink = Vec::new();
        std::io::copy(&mut sniff, &mut sink).unwrap();
        assert_eq!(sink, data);
        assert_eq!(sniff.head, &data[..SNIFF_LEN]);
    }
}
