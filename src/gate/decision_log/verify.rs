//! Verifying a log: every line, then its length and last line against this host's record.

use super::host::{Anchor, log_path};
use super::scan::{Scan, empty, scan};
use super::{LogError, LogHost, LogReport};
use crate::util::fsutil::{IoContext, IoError};
use std::fs::OpenOptions;
use std::io;
use std::path::Path;

/// Checks a scanned, authenticated log against this host's records; returns how many lines the
/// host had recorded.
pub(super) fn check_anchor(
    host: &LogHost,
    path: &Path,
    s: &Scan,
) -> Result<Option<Anchor>, LogError> {
    let here = log_path(path);
    let Some(log) = &s.log else {
        // Empty: a log this host kept here must not have been emptied or deleted.
        if let Some(a) = host.anchors_at(&here)?.into_iter().find(|a| a.lines > 0) {
            return Err(LogError::Replaced {
                path: path.to_path_buf(),
                recorded: a.lines,
                log: a.log,
                found: "the file is empty or missing (deleted or truncated)".into(),
            });
        }
        return Ok(None);
    };
    if let Some(a) = host.anchors_at(&here)?.into_iter().find(|a| a.log != *log) {
        return Err(LogError::Replaced {
            path: path.to_path_buf(),
            recorded: a.lines,
            log: a.log,
            found: format!("the file now holds log {log}"),
        });
    }
    let Some(anchor) = &s.anchor else {
        return Err(LogError::Unanchored {
            path: path.to_path_buf(),
            log: log.clone(),
            lines: s.lines,
        });
    };
    if s.lines < anchor.lines {
        return Err(LogError::Truncated {
            path: path.to_path_buf(),
            lines: s.lines,
            recorded: anchor.lines,
            log: log.clone(),
        });
    }
    if s.at_anchor.as_deref() != Some(anchor.head.as_str()) {
        // Only a holder of the host key could have made lines that verify but differ from what
        // this host wrote.
        return Err(LogError::Line {
            path: path.to_path_buf(),
            line: anchor.lines,
            detail: "differs from the line this host recorded writing there: the log was rewritten"
                .into(),
        });
    }
    Ok(Some(anchor.clone()))
}

/// Verifies a decision log: every line's MAC, number and link, and its length against this
/// host's record. A log moved to another path (rotation) is recorded at its new path, so that a
/// new log can start at the old one.
pub fn verify_log(host: &LogHost, path: &Path) -> Result<LogReport, LogError> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        // A FIFO put in the log's place must not block the reader; it is refused below.
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // Say so if this host kept a log there (deleted); otherwise just "not found".
            check_anchor(host, path, &empty())?;
            return Err(IoError::from_source("open decision log", path, e).into());
        }
        Err(e) => return Err(open_error(path, e)),
    };
    let ft = file.metadata().ctx("stat", path)?.file_type();
    if !ft.is_file() {
        return Err(not_a_file(path, &ft));
    }
    file.lock_shared().ctx("lock decision log", path)?;
    let key = host.mac_key(false)?;
    let s = scan(host, &mut file, path, key.as_deref()).map_err(|e| no_key(e, host))?;
    if s.old {
        return Ok(LogReport::Unauthenticated { lines: s.lines });
    }
    let Some(anchor) = check_anchor(host, path, &s)? else {
        return Ok(LogReport::Empty);
    };
    let here = log_path(path);
    if anchor.path != here {
        host.store_anchor(&Anchor {
            path: here,
            ..anchor.clone()
        })?;
    }
    Ok(LogReport::Authenticated {
        log: anchor.log,
        lines: s.lines,
        recorded: anchor.lines,
    })
}

/// The error for a log that could not be opened: a directory is named as what it is.
pub(super) fn open_error(path: &Path, e: io::Error) -> LogError {
    if e.raw_os_error() == Some(libc::EISDIR) {
        return LogError::NotAFile {
            path: path.to_path_buf(),
            found: "a directory",
        };
    }
    IoError::from_source("open decision log", path, e).into()
}

pub(super) fn not_a_file(path: &Path, ft: &std::fs::FileType) -> LogError {
    LogError::NotAFile {
        path: path.to_path_buf(),
        found: crate::util::fsutil::describe(ft),
    }
}

fn no_key(e: LogError, host: &LogHost) -> LogError {
    match e {
        LogError::NoKey(_) => LogError::NoKey(host.key_path()),
        other => other,
    }
}
