//! Appending to a log: under an exclusive lock, only after the log verifies, and with the host's
//! record of it updated after the new lines are on disk.

use super::host::{Anchor, log_path};
use super::scan::{Scan, resume, scan};
use super::verify::{check_anchor, not_a_file, open_error};
use super::{LogError, LogHost, LogLine, mac_of};
use crate::gate::Decision;
use crate::util::encoding::{EncodingError, to_canonical_vec};
use crate::util::fsutil::IoContext;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Appends decisions to the decision log at `path` (created if missing), under an exclusive
/// lock so that concurrent gates keep one chain. The log must verify first (every line, and its
/// length against this host's record): reg never appends to a log that was cut, edited,
/// reordered or shortened, nor to an old-format one. The host key is made on first use.
pub fn append_log(
    host: &LogHost,
    path: &Path,
    decisions: &[Decision],
    time: &str,
) -> Result<(), LogError> {
    if decisions.is_empty() {
        return Ok(());
    }
    let mut file = open_locked(path)?;
    let key = host
        .mac_key(true)?
        .ok_or_else(|| LogError::NoKey(host.key_path()))?;
    let s = verified_tail(host, &mut file, path, &key)?;
    let log = match &s.log {
        Some(log) => log.clone(),
        None => new_log_id(path)?,
    };
    let (out, head, n) = new_lines(&key, path, &log, &s, decisions, time)?;
    file.write_all(&out).ctx("append to decision log", path)?;
    file.sync_all().ctx("sync decision log", path)?;
    let mut hasher = s.hasher;
    hasher.update(&out);
    // The record follows the log: a crash in between leaves the record short, which only means
    // the last lines are not yet protected against being cut.
    host.store_anchor(&Anchor {
        bytes: s.bytes + out.len() as u64,
        digest: hasher.finalize().to_hex().to_string(),
        head,
        lines: n,
        log,
        path: log_path(path),
    })
}

/// Opens the log for reading and appending (created if missing; never blocking on a FIFO, which
/// is refused) and takes its exclusive lock.
fn open_locked(path: &Path) -> Result<File, LogError> {
    let mut opts = OpenOptions::new();
    opts.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path).map_err(|e| open_error(path, e))?;
    let ft = file.metadata().ctx("stat", path)?.file_type();
    if !ft.is_file() {
        return Err(not_a_file(path, &ft));
    }
    file.lock().ctx("lock decision log", path)?;
    Ok(file)
}

/// Reads the log to its end, checking it: the lines after the host's record when the log still
/// starts with the recorded bytes, otherwise every line; then its length against the record.
fn verified_tail(
    host: &LogHost,
    file: &mut File,
    path: &Path,
    key: &[u8; 32],
) -> Result<Scan, LogError> {
    let s = match resume(host, file, path, key)? {
        Some(s) => s,
        None => scan(host, file, path, Some(key))?,
    };
    if s.old {
        return Err(LogError::OldFormat {
            path: path.to_path_buf(),
        });
    }
    check_anchor(host, path, &s)?;
    Ok(s)
}

/// A new log's id: 16 random bytes in hex.
fn new_log_id(path: &Path) -> Result<String, LogError> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| LogError::Host {
        path: path.to_path_buf(),
        detail: format!("no randomness for a log id: {e}"),
    })?;
    Ok(id.iter().map(|b| format!("{b:02x}")).collect())
}

/// The lines of `decisions`, each canonical JSON and a newline, following the log read into `s`;
/// with the last one's MAC and number.
fn new_lines(
    key: &[u8; 32],
    path: &Path,
    log: &str,
    s: &Scan,
    decisions: &[Decision],
    time: &str,
) -> Result<(Vec<u8>, String, u64), LogError> {
    let mut prev = s.head.clone();
    let mut n = s.lines;
    let mut out = Vec::new();
    for d in decisions {
        n += 1;
        let mut line = LogLine {
            allowed: d.allowed,
            code: d.code,
            hash: d.hash,
            log: log.to_string(),
            mac: None,
            model: d.model.clone(),
            n,
            path: d.path.to_string_lossy().into_owned(),
            prev: prev.clone(),
            reason: d.reason.clone(),
            resolved: d
                .resolved
                .as_ref()
                .map(|r| r.to_string_lossy().into_owned()),
            time: time.to_string(),
            warning: d.warning.clone(),
        };
        let bad = |e: EncodingError| LogError::Line {
            path: path.to_path_buf(),
            line: n,
            detail: e.to_string(),
        };
        let mac = mac_of(key, &line).map_err(bad)?;
        line.mac = Some(mac.clone());
        out.extend_from_slice(&to_canonical_vec(&line).map_err(bad)?);
        out.push(b'\n');
        prev = mac;
    }
    Ok((out, prev, n))
}
