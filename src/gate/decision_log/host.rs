//! This host's side of the log: the key that MACs its lines and the record of each log (its
//! length, digest and last MAC) that catches lines cut from its end.

use super::{LogError, LogHost, MAC_CONTEXT};
use crate::util::create::{NewError, write_new};
use crate::util::encoding::{from_canonical_slice, to_canonical_vec};
use crate::util::fsutil::{IoContext, IoError, create_private_dir_all, read_small, replace_file};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// This host's record of one log: how long it was and how its last line ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Anchor {
    /// The log's length in bytes then.
    pub(super) bytes: u64,
    /// BLAKE3 of those bytes: an append whose log still starts with them verifies only the
    /// lines after them (the fast path); any other log is verified line by line.
    pub(super) digest: String,
    /// The last line's MAC.
    pub(super) head: String,
    /// How many lines the log had.
    pub(super) lines: u64,
    /// The log id.
    pub(super) log: String,
    /// The log's absolute path when last written or verified.
    pub(super) path: String,
}

impl LogHost {
    /// The host state directory `dir` (the CLI's: [`crate::repo::trust::HostPaths::state_dir`]).
    pub fn at(dir: &Path) -> LogHost {
        LogHost {
            dir: dir.to_path_buf(),
        }
    }

    /// The host log key file.
    pub fn key_path(&self) -> PathBuf {
        self.dir.join("gate-log.key")
    }

    fn anchors(&self) -> PathBuf {
        self.dir.join("gate-logs")
    }

    /// The MAC key, derived from the host key; `None` when there is no host key and `create`
    /// is false.
    pub(super) fn mac_key(&self, create: bool) -> Result<Option<Zeroizing<[u8; 32]>>, LogError> {
        let path = self.key_path();
        if create {
            create_private_dir_all(&self.dir).ctx("create directory", &self.dir)?;
            let mut secret = Zeroizing::new([0u8; 32]);
            getrandom::fill(secret.as_mut()).map_err(|e| LogError::Host {
                path: path.clone(),
                detail: format!("no randomness for a new key: {e}"),
            })?;
            // A new file, whole or not at all (a crash never leaves half a key to refuse).
            match write_new(&path, secret.as_ref(), ".gate-log-key-", "a new key") {
                // Another process made it first: use theirs.
                Ok(()) | Err(NewError::Exists(_)) => {}
                Err(NewError::Io(e)) => return Err(e.into()),
                Err(NewError::Refused(e)) => {
                    return Err(LogError::Host {
                        path: path.clone(),
                        detail: e.to_string(),
                    });
                }
            }
        }
        let bytes = match read_small(&path, 64) {
            Ok(b) => Zeroizing::new(b),
            Err(e) if e.source.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).ctx("stat", &path)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(LogError::Host {
                    path,
                    detail: format!(
                        "the host decision log key is readable by others (mode {:o}); run `chmod 600` on it",
                        mode & 0o777
                    ),
                });
            }
        }
        let secret: &[u8; 32] = bytes.as_slice().try_into().map_err(|_| LogError::Host {
            path: path.clone(),
            detail: format!(
                "the host decision log key must be 32 bytes, it is {}",
                bytes.len()
            ),
        })?;
        Ok(Some(Zeroizing::new(blake3::derive_key(
            MAC_CONTEXT,
            secret,
        ))))
    }

    fn anchor_path(&self, log: &str) -> PathBuf {
        self.anchors().join(format!("{log}.json"))
    }

    pub(super) fn load_anchor(&self, log: &str) -> Result<Option<Anchor>, LogError> {
        let path = self.anchor_path(log);
        match read_small(&path, 64 * 1024) {
            Ok(b) => from_canonical_slice(&b)
                .map(Some)
                .map_err(|e| LogError::Host {
                    path,
                    detail: e.to_string(),
                }),
            Err(e) if e.source.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every record whose path is `path`.
    pub(super) fn anchors_at(&self, path: &str) -> Result<Vec<Anchor>, LogError> {
        let dir = self.anchors();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(IoError::from_source("list", &dir, e).into()),
        };
        let mut out = Vec::new();
        for e in entries {
            let e = e.ctx("list", &dir)?;
            let name = e.file_name();
            let Some(log) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if let Some(a) = self.load_anchor(log)?
                && a.path == path
            {
                out.push(a);
            }
        }
        Ok(out)
    }

    pub(super) fn store_anchor(&self, anchor: &Anchor) -> Result<(), LogError> {
        let dir = self.anchors();
        create_private_dir_all(&dir).ctx("create directory", &dir)?;
        let bytes = to_canonical_vec(anchor).map_err(|e| LogError::Host {
            path: dir.clone(),
            detail: e.to_string(),
        })?;
        replace_file(&dir, &self.anchor_path(&anchor.log), &bytes)?;
        Ok(())
    }
}

/// The absolute path a record names a log by (its directory resolved, the file need not exist).
pub(super) fn log_path(path: &Path) -> String {
    let abs = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            fs::canonicalize(dir)
                .map(|d| d.join(name))
                .unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    };
    abs.to_string_lossy().into_owned()
}
