//! Reading a log: every line checked in order (its MAC, number, log id and link, or the bare
//! hash chain of the old format), with the bytes read hashed so the host's record can be matched.

use super::host::{Anchor, log_path};
use super::{LINE_LIMIT, LOG_START, LogError, LogHost, LogLine, mac_of};
use crate::format::id::ObjectId;
use crate::util::encoding::from_canonical_slice;
use crate::util::fsutil::IoContext;
use serde::Deserialize;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A line of the old, unauthenticated format (a bare hash chain), still read by `--verify-log`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OldLine {
    #[serde(rename = "allowed")]
    _allowed: bool,
    #[serde(rename = "hash")]
    _hash: ObjectId,
    #[serde(rename = "model", default)]
    _model: Option<String>,
    #[serde(rename = "path")]
    _path: String,
    prev: String,
    #[serde(rename = "reason")]
    _reason: String,
    #[serde(rename = "time")]
    _time: String,
}

/// What a read of the log found.
pub(super) struct Scan {
    /// The log id (authenticated logs).
    pub(super) log: Option<String>,
    /// Lines read.
    pub(super) lines: u64,
    /// The last line's MAC (or [`LOG_START`]).
    pub(super) head: String,
    /// An old-format log.
    pub(super) old: bool,
    /// This host's record of the log.
    pub(super) anchor: Option<Anchor>,
    /// The MAC of the line the record names.
    pub(super) at_anchor: Option<String>,
    /// Bytes read.
    pub(super) bytes: u64,
    /// BLAKE3 of the bytes read.
    pub(super) hasher: blake3::Hasher,
}

/// Reads and checks every line of an open log.
pub(super) fn scan(
    host: &LogHost,
    file: &mut File,
    path: &Path,
    key: Option<&[u8; 32]>,
) -> Result<Scan, LogError> {
    file.seek(SeekFrom::Start(0)).ctx("read", path)?;
    scan_from(host, file, path, key, empty())
}

/// The fast path of an append: when the log still starts with exactly the bytes this host
/// recorded (their BLAKE3 in the record), only the lines after them are checked.
pub(super) fn resume(
    host: &LogHost,
    file: &mut File,
    path: &Path,
    key: &[u8; 32],
) -> Result<Option<Scan>, LogError> {
    file.seek(SeekFrom::Start(0)).ctx("read", path)?;
    let mut first = Vec::new();
    io::Read::take(BufReader::new(&mut *file), LINE_LIMIT + 1)
        .read_until(b'\n', &mut first)
        .ctx("read", path)?;
    let Some(Ok(line)) = first
        .strip_suffix(b"\n")
        .map(from_canonical_slice::<LogLine>)
    else {
        return Ok(None);
    };
    let Some(anchor) = host.load_anchor(&line.log)? else {
        return Ok(None);
    };
    let len = file.metadata().ctx("stat", path)?.len();
    if anchor.path != log_path(path) || len < anchor.bytes {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(0)).ctx("read", path)?;
    let mut hasher = blake3::Hasher::new();
    let copied =
        io::copy(&mut io::Read::take(&mut *file, anchor.bytes), &mut hasher).ctx("read", path)?;
    if copied != anchor.bytes || hasher.finalize().to_hex().as_str() != anchor.digest {
        return Ok(None);
    }
    let start = Scan {
        log: Some(anchor.log.clone()),
        lines: anchor.lines,
        head: anchor.head.clone(),
        old: false,
        at_anchor: Some(anchor.head.clone()),
        bytes: anchor.bytes,
        hasher,
        anchor: Some(anchor),
    };
    scan_from(host, file, path, Some(key), start).map(Some)
}

/// Checks the lines of an open log from its current position, continuing `s`.
fn scan_from(
    host: &LogHost,
    file: &mut File,
    path: &Path,
    key: Option<&[u8; 32]>,
    mut s: Scan,
) -> Result<Scan, LogError> {
    let mut reader = BufReader::new(&mut *file);
    let mut buf = Vec::new();
    while let Some(line) = next_line(&mut reader, &mut buf, path, &mut s)? {
        // An old-format log is known by its first line.
        if s.lines == 0
            && from_canonical_slice::<LogLine>(line).is_err()
            && crate::util::encoding::from_canonical_value_slice::<OldLine>(line).is_ok()
        {
            s.old = true;
        }
        if s.old {
            check_old_line(line, path, &mut s)?;
        } else {
            check_line(host, line, path, key, &mut s)?;
        }
    }
    Ok(s)
}

/// Reads the next line into `buf` and adds its bytes to `s`; returns it without its newline,
/// or `None` at the end of the log.
fn next_line<'b>(
    reader: &mut impl BufRead,
    buf: &'b mut Vec<u8>,
    path: &Path,
    s: &mut Scan,
) -> Result<Option<&'b [u8]>, LogError> {
    buf.clear();
    let n = io::Read::take(reader, LINE_LIMIT + 1)
        .read_until(b'\n', buf)
        .ctx("read", path)?;
    if n == 0 {
        return Ok(None);
    }
    s.bytes += n as u64;
    s.hasher.update(buf);
    let Some(line) = buf.strip_suffix(b"\n") else {
        return Err(bad_line(
            path,
            s.lines + 1,
            if n as u64 > LINE_LIMIT {
                format!("is longer than {LINE_LIMIT} bytes")
            } else {
                "is cut short (no final newline): a write was interrupted or the file was truncated"
                    .into()
            },
        ));
    };
    Ok(Some(line))
}

/// The error of line `line` of the log at `path`.
fn bad_line(path: &Path, line: u64, detail: String) -> LogError {
    LogError::Line {
        path: path.to_path_buf(),
        line,
        detail,
    }
}

/// Checks the next line of an old-format log: its `prev` is the BLAKE3 of the line before.
fn check_old_line(line: &[u8], path: &Path, s: &mut Scan) -> Result<(), LogError> {
    let i = s.lines + 1;
    let bad = |detail: String| bad_line(path, i, detail);
    let old: OldLine = crate::util::encoding::from_canonical_value_slice(line)
        .map_err(|e| bad(format!("is not an old-format decision log line: {e}")))?;
    let expected = if i == 1 { LOG_START } else { s.head.as_str() };
    if old.prev != expected {
        return Err(bad(format!(
            "its prev is {}, but the line before it hashes to {expected} (a line was removed, changed or reordered)",
            old.prev
        )));
    }
    s.head = blake3::hash(line).to_hex().to_string();
    s.lines = i;
    Ok(())
}

/// Checks the next line of an authenticated log: its MAC, its log id, its number and its link to
/// the line before.
fn check_line(
    host: &LogHost,
    line: &[u8],
    path: &Path,
    key: Option<&[u8; 32]>,
    s: &mut Scan,
) -> Result<(), LogError> {
    let i = s.lines + 1;
    let bad = |detail: String| bad_line(path, i, detail);
    let parsed: LogLine =
        from_canonical_slice(line).map_err(|e| bad(format!("is not a decision log line: {e}")))?;
    let Some(key) = key else {
        return Err(LogError::NoKey(PathBuf::new()));
    };
    let mac = mac_of(key, &parsed).map_err(|e| bad(e.to_string()))?;
    if parsed.mac.as_deref() != Some(mac.as_str()) {
        return Err(bad(
            "its MAC does not verify with this host's log key: the line was edited, or written by another host"
                .into(),
        ));
    }
    match &s.log {
        None => {
            s.log = Some(parsed.log.clone());
            s.anchor = host.load_anchor(&parsed.log)?;
        }
        Some(log) if *log != parsed.log => {
            return Err(bad(format!(
                "belongs to log {}, not to log {log} of line 1: lines of another log were put in",
                parsed.log
            )));
        }
        Some(_) => {}
    }
    if parsed.n != i {
        return Err(bad(format!(
            "holds decision number {}: lines before it were removed, added or reordered",
            parsed.n
        )));
    }
    if parsed.prev != s.head {
        return Err(bad(
            "does not follow line before it (its prev is not that line's MAC): lines were reordered"
                .into(),
        ));
    }
    if s.anchor.as_ref().is_some_and(|a| a.lines == i) {
        s.at_anchor = Some(mac.clone());
    }
    s.head = mac;
    s.lines = i;
    Ok(())
}

pub(super) fn empty() -> Scan {
    Scan {
        log: None,
        lines: 0,
        head: LOG_START.to_string(),
        old: false,
        anchor: None,
        at_anchor: None,
        bytes: 0,
        hasher: blake3::Hasher::new(),
    }
}
