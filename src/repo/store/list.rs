//! Listing the store: [`super::Store::list`] walks `objects/` once and names every entry for
//! what it is, so that fsck (which reports what is misnamed) and gc (which stops on it) read the
//! store the same way.

use super::Store;
use crate::format::id::ObjectId;
use std::fs::FileType;
use std::path::{Path, PathBuf};

/// What a name under `objects/` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// `objects/ab`: a directory named by two lowercase hex digits.
    Fan,
    /// Any other entry directly in `objects/` (a file, a link, a badly named directory).
    NotFan,
    /// `objects/ab/cdef…`: named by this object id, whatever its type.
    Object(ObjectId),
    /// Anything deeper that is not named by an object id.
    NotObject,
}

/// One entry under `objects/`, as [`Store::list`] finds it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Its path.
    pub path: PathBuf,
    /// Its type, not following a link.
    pub file_type: FileType,
    /// What its name makes it.
    pub name: Name,
}

impl Listed {
    /// Whether it sits directly in `objects/`, where only fan-out directories belong.
    pub fn is_top(&self) -> bool {
        matches!(self.name, Name::Fan | Name::NotFan)
    }
}

/// A directory under `objects/` that could not be listed, or an entry that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ListError {
    /// The path at fault, when known.
    pub path: Option<PathBuf>,
    /// What went wrong.
    pub message: String,
}

/// The walk of [`Store::list`].
#[derive(Debug)]
pub struct Listing {
    walk: walkdir::IntoIter,
}

impl Listing {
    /// The walk of the store at `objects`.
    pub(super) fn new(objects: &Path) -> Self {
        Listing {
            walk: walkdir::WalkDir::new(objects)
                .min_depth(1)
                .sort_by_file_name()
                .into_iter(),
        }
    }
}

impl Iterator for Listing {
    type Item = Result<Listed, ListError>;

    fn next(&mut self) -> Option<Self::Item> {
        let e = match self.walk.next()? {
            Ok(e) => e,
            Err(err) => {
                return Some(Err(ListError {
                    path: err.path().map(Path::to_path_buf),
                    message: err.to_string(),
                }));
            }
        };
        let file_type = e.file_type();
        let name = if e.depth() == 1 {
            let fan = crate::util::encoding::is_lower_hex(&e.file_name().to_string_lossy(), 2);
            if fan && file_type.is_dir() {
                Name::Fan
            } else {
                Name::NotFan
            }
        } else {
            match Store::id_of_path(e.path()).filter(|_| e.depth() == 2) {
                Some(id) => Name::Object(id),
                None => Name::NotObject,
            }
        };
        Some(Ok(Listed {
            path: e.into_path(),
            file_type,
            name,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn the_listing_names_every_entry_for_what_it_is() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("tmp")).unwrap();
        fs::create_dir_all(d.path().join("objects")).unwrap();
        let s = Store::new(d.path());
        let id = s.put_bytes(b"listed").unwrap();
        let objects = d.path().join("objects");
        fs::write(objects.join("stray"), b"").unwrap();
        fs::create_dir(objects.join("zz")).unwrap();
        let fan = s.path(&id).parent().unwrap().to_path_buf();
        fs::write(fan.join("not-an-id"), b"").unwrap();
        let got: Vec<(PathBuf, Name)> = s
            .list()
            .map(|e| e.unwrap())
            .map(|e| (e.path, e.name))
            .collect();
        let mut want = vec![
            (fan.clone(), Name::Fan),
            (fan.join("not-an-id"), Name::NotObject),
            (s.path(&id), Name::Object(id)),
            (objects.join("stray"), Name::NotFan),
            (objects.join("zz"), Name::NotFan),
        ];
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got, want);
        fs::remove_dir_all(&objects).unwrap();
        let err = s.list().next().unwrap().unwrap_err();
        assert_eq!(err.path.as_deref(), Some(objects.as_path()));
    }
}
