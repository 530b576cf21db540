//! `reg clone`: starts a site from a medium (FORMAT.md §11.12). The source is a full transfer
//! file, or a registry, which is exported into the clone through a pipe, so that nothing is
//! written twice and a registry of any size streams.

use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
use crate::format::transfer::Reader;
use crate::ops::export::{ExportError, Since, export_to};
use crate::repo::ClonedSite;
use crate::repo::registry::{OpenOptions, Registry, RegistryError, discover};
use crate::repo::trust::PinStatus;
use crate::util::fsutil::open_regular;
use std::io::BufReader;
use std::path::{Path, PathBuf};

pub use crate::repo::incoming::ImportError;

/// Why a clone failed. No registry was made.
#[derive(Debug, thiserror::Error)]
pub enum CloneError {
    /// The history was refused, or the new registry could not be written.
    #[error(transparent)]
    Import(Box<ImportError>),
    /// The source registry could not be exported.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The source registry could not be opened.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl From<ImportError> for CloneError {
    fn from(e: ImportError) -> Self {
        CloneError::Import(Box::new(e))
    }
}

/// What a clone made.
#[derive(Debug, Clone)]
pub struct Cloned {
    /// The new `.registry` directory.
    pub path: PathBuf,
    /// The registry id.
    pub registry: ObjectId,
    /// The root fingerprint it was checked against and pinned to.
    pub root: Fingerprint,
    /// Its head's seq.
    pub seq: u64,
    /// Its head.
    pub head: ObjectId,
    /// How many models it holds.
    pub models: usize,
    /// Staging directories interrupted clones or inits had left in DEST, removed.
    pub removed: Vec<PathBuf>,
    /// Those left for a person, with why (they hold what no staging of reg holds).
    pub left: Vec<crate::repo::leftovers::Leftover>,
}

/// Clones `src` (a full transfer file, or a registry: its `.registry` or the directory holding
/// it) into `dest/.registry`, trusting the root `opts` gives or this host's pin.
pub fn clone(src: &Path, dest: &Path, opts: &OpenOptions) -> Result<Cloned, CloneError> {
    let meta = std::fs::symlink_metadata(src).map_err(|e| {
        RegistryError::from(crate::util::fsutil::IoError::from_source("read", src, e))
    })?;
    if meta.is_dir() {
        return Ok(cloned(from_registry(src, dest, opts)?));
    }
    let file = open_regular(src).map_err(RegistryError::from)?;
    clone_stream(file, dest, opts)
}

/// Like [`clone`], from a full transfer read once from `input` (`reg clone - DEST`: standard
/// input), streamed as it is verified, never held whole.
pub fn clone_stream(
    input: impl std::io::Read,
    dest: &Path,
    opts: &OpenOptions,
) -> Result<Cloned, CloneError> {
    let reader =
        Reader::open(BufReader::with_capacity(1 << 20, input)).map_err(ImportError::from)?;
    Ok(cloned(Registry::clone_from(reader, dest, opts)?))
}

fn cloned(made: ClonedSite) -> Cloned {
    let (reg, state) = (&made.registry, &made.state);
    Cloned {
        path: reg.path().to_path_buf(),
        registry: *reg.id(),
        root: reg.root().clone(),
        seq: state.seq(),
        head: state.head(),
        models: state.models().len(),
        removed: made.swept.removed,
        left: made.swept.left,
    }
}

/// Exports the source registry in full into a pipe that the clone reads: the source is opened
/// and verified against the same root the clone trusts.
fn from_registry(src: &Path, dest: &Path, opts: &OpenOptions) -> Result<ClonedSite, CloneError> {
    // Before SRC is opened, which records its head on this host: a refused clone changes
    // nothing, not even this host's record (which would then refuse DEST as behind it).
    let dest_dot = dest.join(crate::repo::registry::DOT_REGISTRY);
    if std::fs::symlink_metadata(&dest_dot).is_ok() {
        return Err(ImportError::from(RegistryError::AlreadyExists(dest_dot)).into());
    }
    let dot = discover(Some(src))?;
    let source = Registry::open(&dot, opts)?;
    if *source.pin() == PinStatus::Unpinned {
        return Err(ImportError::NoPin {
            registry: *source.id(),
            root: source.root().clone(),
        }
        .into());
    }
    let (pipe_in, mut pipe_out) = std::io::pipe().map_err(|e| {
        RegistryError::from(crate::util::fsutil::IoError::from_source(
            "create a pipe for",
            src,
            e,
        ))
    })?;
    std::thread::scope(|scope| {
        let exporter = scope.spawn(move || {
            let done = export_to(&source, &Since::Full, &mut pipe_out);
            drop(pipe_out);
            done
        });
        let cloned = Reader::open(BufReader::with_capacity(1 << 20, pipe_in))
            .map_err(ImportError::from)
            .and_then(|reader| Registry::clone_from(reader, dest, opts));
        let exported = exporter.join().expect("the export thread does not panic");
        match (cloned, exported) {
            (Ok(made), Ok(_)) => Ok(made),
            // A failed export shows as a cut-short file to the clone: report the export's reason.
            (Err(ImportError::Transfer(_)), Err(e)) => Err(e.into()),
            // A clone that stopped reading (a refusal) breaks the export's pipe: report the clone's.
            (Err(e), _) => Err(e.into()),
            (Ok(_), Err(e)) => Err(e.into()),
        }
    })
}
