//! The gate as loaders call it (docs/GUIDE.md §5): a file, a link to one (followed by the one
//! rule of [`crate::util::follow`], both names reported), a model directory, or standard input.
//! Every path gets its own decision: a path that cannot be read is denied with a code saying
//! why (`not-found`, `not-regular`, `unreadable`), never skipped and never an error that hides
//! the other paths' decisions, so a decision log records it like any other denial.

use super::{Code, Decision, Gate, Scope};
use crate::format::id::ObjectId;
use crate::util::follow::{FollowError, open_followed};
use crate::util::hash::{CopyError, hash_parallel};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// A file hashed by the rule: its BLAKE3 and, for a link, the file it resolved to.
#[derive(Debug, Clone)]
pub struct Hashed {
    /// The BLAKE3 of the bytes read through the descriptor opened.
    pub hash: ObjectId,
    /// The file a link resolved to.
    pub resolved: Option<PathBuf>,
}

/// Opens `path` by the rule of [`crate::util::follow`] (a link is followed to a regular file,
/// opened without following a link again and without blocking) and hashes what was opened
/// through that descriptor ([`crate::util::hash::hash_file`]: mapped and hashed on every core
/// when large). A file cut short, grown or written while it is hashed is refused
/// (`unreadable`, "changed while it was read"), never allowed and never a crash.
pub fn hash_file(path: &Path) -> Result<Hashed, FollowError> {
    let followed = open_followed(path)?;
    let resolved = followed.resolved;
    let task = crate::util::progress::task("hashing", Some(followed.len));
    match crate::util::hash::hash_file(&followed.file, &|n| task.advance(n)) {
        Ok((hash, _)) => Ok(Hashed {
            hash: ObjectId::from_hash(hash),
            resolved,
        }),
        Err(source) => Err(FollowError::Unreadable {
            path: path.to_path_buf(),
            resolved,
            source,
        }),
    }
}

impl Gate {
    /// Decides for the file at `path` (a link followed by the rule), or denies it with the
    /// reason it cannot be read.
    pub fn check(&self, path: &Path, scope: &Scope) -> Decision {
        match hash_file(path) {
            Ok(h) => {
                let mut d = self.decide(path, h.hash, scope);
                d.resolved = h.resolved;
                d
            }
            Err(e) => refused(&e),
        }
    }

    /// Decides for the bytes of `reader` (standard input), streamed, named `name` in the
    /// decision. A read error denies (`unreadable`).
    pub fn check_reader(
        &self,
        name: &Path,
        reader: &mut (dyn Read + Send),
        scope: &Scope,
    ) -> Decision {
        match hash_parallel(reader, &mut io::sink()) {
            Ok((hash, _)) => self.decide(name, ObjectId::from_hash(hash), scope),
            Err(CopyError::Read(e) | CopyError::Write(e)) => refused(&FollowError::Unreadable {
                path: name.to_path_buf(),
                resolved: None,
                source: e,
            }),
        }
    }

    /// Decides for a path as given on the command line: a directory (or a link to one: the
    /// caller chose it) is a model directory, checked with [`Gate::check_dir`]; anything else
    /// is one file ([`Gate::check`]).
    pub fn check_path(&self, path: &Path, scope: &Scope) -> Vec<Decision> {
        if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
            self.check_dir(path, scope)
        } else {
            vec![self.check(path, scope)]
        }
    }

    /// Decides for every entry under the directory `dir`, recursively, in file-name order: a
    /// regular file or a link (followed by the rule; a link to a directory is denied
    /// `not-regular`, never descended into) each gets a decision; so does anything else found
    /// there (a FIFO, device or socket: `not-regular`, never opened) and a directory that
    /// cannot be listed (`unreadable`). With a scope, every file must be an artifact of that
    /// model: a file that is not (a README, a stray copy) is denied `out-of-scope`. A
    /// directory with nothing in it is denied `empty-directory`. That the directory holds all
    /// of the model's artifacts is not checked (`reg checkout` writes a complete one).
    pub fn check_dir(&self, dir: &Path, scope: &Scope) -> Vec<Decision> {
        let mut out = Vec::new();
        for e in walkdir::WalkDir::new(dir)
            .follow_links(false)
            .sort_by_file_name()
        {
            match e {
                Ok(e) if e.file_type().is_dir() || e.depth() == 0 => {}
                Ok(e) => out.push(self.check(e.path(), scope)),
                Err(err) => {
                    let path = err.path().unwrap_or(dir).to_path_buf();
                    let source = err
                        .into_io_error()
                        .unwrap_or_else(|| io::Error::other("a loop of directories"));
                    out.push(refused(&FollowError::Unreadable {
                        path,
                        resolved: None,
                        source,
                    }));
                }
            }
        }
        if out.is_empty() {
            out.push(Decision {
                path: dir.to_path_buf(),
                resolved: None,
                hash: None,
                allowed: false,
                code: Code::EmptyDirectory,
                model: None,
                record: None,
                reason: "a directory with no file in it: nothing in it can be allowed".into(),
                warning: None,
            });
        }
        out
    }
}

/// The denial of a path that could not be opened or read, with the code that says why.
fn refused(e: &FollowError) -> Decision {
    let code = if e.is_not_found() {
        Code::NotFound
    } else if matches!(e, FollowError::NotRegular { .. }) {
        Code::NotRegular
    } else {
        Code::Unreadable
    };
    Decision {
        path: e.path().to_path_buf(),
        resolved: e.resolved().map(Path::to_path_buf),
        hash: None,
        allowed: false,
        code,
        model: None,
        record: None,
        reason: e.what(),
        warning: None,
    }
}
