//! The gate's decision log (FORMAT.md §10): one canonical JSON line per decision, each line
//! authenticated with a key this host keeps outside the log and the medium, and the log's length
//! and last line recorded beside the key.
//!
//! A hash chain alone proves nothing to someone who can edit the file: they drop a line and
//! recompute the chain. Here each line carries a BLAKE3 keyed MAC over its content, its number
//! and the previous line's MAC, with a key only this host holds (`$REG_STATE_DIR/gate-log.key`,
//! 0600, made on first use). Editing, dropping, inserting or reordering lines breaks a MAC, a
//! number or a link that cannot be recomputed without the key; cutting lines off the end is
//! caught by the host's record of the log (`$REG_STATE_DIR/gate-logs/<log id>.json`: how many
//! lines it had and the last line's MAC). Whoever holds the host key and its state directory can
//! rewrite the log: the log proves what this host decided, to this host, and no more.

use crate::format::id::ObjectId;
use crate::gate::{Code, Decision};
use crate::util::encoding::{EncodingError, from_canonical_slice, to_canonical_vec};
use crate::util::fsutil::{IoContext, IoError, read_small, replace_file};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The `prev` of a log's first line.
pub const LOG_START: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// BLAKE3 `derive_key` context of the line MAC key (domain separation from any other use of the
/// host key).
const MAC_CONTEXT: &str = "reg 2026-11 gate decision log line MAC";

/// Longest line reg reads (a path and a reason: far below this).
const LINE_LIMIT: u64 = 1 << 20;

/// Errors of the decision log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A line does not verify.
    #[error("decision log `{}`: line {line}: {detail}", .path.display())]
    Line {
        /// The log.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        detail: String,
    },
    /// The log is shorter than this host's record of it.
    #[error(
        "decision log `{}` ends at line {lines}, but this host recorded {recorded} line(s) in it (log {log}): its last line(s) were removed",
        .path.display()
    )]
    Truncated {
        /// The log.
        path: PathBuf,
        /// Lines found.
        lines: u64,
        /// Lines recorded.
        recorded: u64,
        /// The log id.
        log: String,
    },
    /// The file at a path where this host keeps a log is empty, missing or another log.
    #[error(
        "decision log `{}`: this host recorded {recorded} line(s) of log {log} at this path, but {found}",
        .path.display()
    )]
    Replaced {
        /// The log.
        path: PathBuf,
        /// Lines recorded.
        recorded: u64,
        /// The log id recorded at this path.
        log: String,
        /// What is there now.
        found: String,
    },
    /// The log verifies, but this host has no record of its length.
    #[error(
        "decision log `{}` (log {log}): its {lines} line(s) verify, but this host has no record of the log, so lines cut from its end cannot be detected",
        .path.display()
    )]
    Unanchored {
        /// The log.
        path: PathBuf,
        /// The log id.
        log: String,
        /// Lines found.
        lines: u64,
    },
    /// An old-format (unauthenticated) log: reg does not append to it.
    #[error(
        "decision log `{}` is in the old, unauthenticated format (a bare hash chain anyone can recompute): reg no longer appends to it",
        .path.display()
    )]
    OldFormat {
        /// The log.
        path: PathBuf,
    },
    /// This host has no log key.
    #[error(
        "this host has no decision log key (`{}`): a log can only be verified by the host that wrote it",
        .0.display()
    )]
    NoKey(PathBuf),
    /// The host log key or a record is unusable.
    #[error("`{}`: {detail}", .path.display())]
    Host {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// I/O failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// One line of an authenticated decision log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogLine {
    /// ALLOW (`true`) or DENY.
    pub allowed: bool,
    /// Why, as a stable word.
    pub code: Code,
    /// The file's BLAKE3.
    pub hash: ObjectId,
    /// The log's id (32 hex digits), the same on every line: lines of another log do not fit.
    pub log: String,
    /// BLAKE3 keyed MAC of this line without `mac` (64 hex digits).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mac: Option<String>,
    /// The model, `name@version`, when one was found.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub model: Option<String>,
    /// The line's number, from 1.
    pub n: u64,
    /// The file as given.
    pub path: String,
    /// The previous line's MAC ([`LOG_START`] for the first).
    pub prev: String,
    /// Why, for people.
    pub reason: String,
    /// When.
    pub time: String,
    /// The warning that went with an ALLOW (a DEPRECATED model, a registry allowed unpinned).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub warning: Option<String>,
}

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

/// This host's record of one log: how long it was and how its last line ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Anchor {
    /// The log's length in bytes then.
    bytes: u64,
    /// BLAKE3 of those bytes: an append whose log still starts with them verifies only the
    /// lines after them (the fast path); any other log is verified line by line.
    digest: String,
    /// The last line's MAC.
    head: String,
    /// How many lines the log had.
    lines: u64,
    /// The log id.
    log: String,
    /// The log's absolute path when last written or verified.
    path: String,
}

/// Where this host keeps its decision log key and records.
#[derive(Debug, Clone)]
pub struct LogHost {
    dir: PathBuf,
}

/// What a verified log holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogReport {
    /// Every line is authenticated with this host's key, and the log is at least as long as
    /// this host's record of it.
    Authenticated {
        /// The log id.
        log: String,
        /// How many decisions.
        lines: u64,
        /// How many of them this host had recorded (the rest were appended by a write whose
        /// record did not land, e.g. a crash).
        recorded: u64,
    },
    /// An old-format log whose bare hash chain is intact: it proves nothing, anyone could have
    /// rewritten it.
    Unauthenticated {
        /// How many decisions.
        lines: u64,
    },
    /// An empty (or missing) log that this host never recorded at this path.
    Empty,
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
    fn mac_key(&self, create: bool) -> Result<Option<Zeroizing<[u8; 32]>>, LogError> {
        let path = self.key_path();
        if create {
            fs::create_dir_all(&self.dir).ctx("create directory", &self.dir)?;
            let mut secret = Zeroizing::new([0u8; 32]);
            getrandom::fill(secret.as_mut()).map_err(|e| LogError::Host {
                path: path.clone(),
                detail: format!("no randomness for a new key: {e}"),
            })?;
            let mut opts = OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                opts.mode(0o600);
            }
            match opts.open(&path) {
                Ok(mut f) => {
                    f.write_all(secret.as_ref()).ctx("write", &path)?;
                    f.sync_all().ctx("sync", &path)?;
                    crate::util::fsutil::fsync_dir(&self.dir)?;
                }
                // Another process made it first: use theirs.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(IoError::from_source("create", &path, e).into()),
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

    fn load_anchor(&self, log: &str) -> Result<Option<Anchor>, LogError> {
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
    fn anchors_at(&self, path: &str) -> Result<Vec<Anchor>, LogError> {
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

    fn store_anchor(&self, anchor: &Anchor) -> Result<(), LogError> {
        let dir = self.anchors();
        fs::create_dir_all(&dir).ctx("create directory", &dir)?;
        let bytes = to_canonical_vec(anchor).map_err(|e| LogError::Host {
            path: dir.clone(),
            detail: e.to_string(),
        })?;
        replace_file(&dir, &self.anchor_path(&anchor.log), &bytes)?;
        Ok(())
    }
}

/// The MAC of a line (its `mac` left out).
fn mac_of(key: &[u8; 32], line: &LogLine) -> Result<String, EncodingError> {
    let mut unsigned = line.clone();
    unsigned.mac = None;
    let bytes = to_canonical_vec(&unsigned)?;
    Ok(blake3::keyed_hash(key, &bytes).to_hex().to_string())
}

/// The absolute path a record names a log by (its directory resolved, the file need not exist).
fn log_path(path: &Path) -> String {
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

/// What a read of the log found.
struct Scan {
    /// The log id (authenticated logs).
    log: Option<String>,
    /// Lines read.
    lines: u64,
    /// The last line's MAC (or [`LOG_START`]).
    head: String,
    /// An old-format log.
    old: bool,
    /// This host's record of the log.
    anchor: Option<Anchor>,
    /// The MAC of the line the record names.
    at_anchor: Option<String>,
    /// Bytes read.
    bytes: u64,
    /// BLAKE3 of the bytes read.
    hasher: blake3::Hasher,
}

/// Reads and checks every line of an open log.
fn scan(
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
fn resume(
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
    loop {
        buf.clear();
        let n = io::Read::take(&mut reader, LINE_LIMIT + 1)
            .read_until(b'\n', &mut buf)
            .ctx("read", path)?;
        if n == 0 {
            return Ok(s);
        }
        s.bytes += n as u64;
        s.hasher.update(&buf);
        let i = s.lines + 1;
        let bad = |detail: String| LogError::Line {
            path: path.to_path_buf(),
            line: i,
            detail,
        };
        let Some(line) = buf.strip_suffix(b"\n") else {
            return Err(bad(if n as u64 > LINE_LIMIT {
                format!("is longer than {LINE_LIMIT} bytes")
            } else {
                "is cut short (no final newline): a write was interrupted or the file was truncated"
                    .into()
            }));
        };
        if i == 1
            && from_canonical_slice::<LogLine>(line).is_err()
            && crate::util::encoding::from_canonical_value_slice::<OldLine>(line).is_ok()
        {
            s.old = true;
        }
        if s.old {
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
            continue;
        }
        let parsed: LogLine = from_canonical_slice(line)
            .map_err(|e| bad(format!("is not a decision log line: {e}")))?;
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
    }
}

/// Checks a scanned, authenticated log against this host's records; returns how many lines the
/// host had recorded.
fn check_anchor(host: &LogHost, path: &Path, s: &Scan) -> Result<Option<Anchor>, LogError> {
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
        Err(e) => return Err(IoError::from_source("open decision log", path, e).into()),
    };
    if !file.metadata().ctx("stat", path)?.is_file() {
        return Err(not_a_file(path));
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

fn empty() -> Scan {
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

fn not_a_file(path: &Path) -> LogError {
    LogError::Host {
        path: path.to_path_buf(),
        detail: "the decision log is not a regular file".into(),
    }
}

fn no_key(e: LogError, host: &LogHost) -> LogError {
    match e {
        LogError::NoKey(_) => LogError::NoKey(host.key_path()),
        other => other,
    }
}

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
    let mut opts = OpenOptions::new();
    opts.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = opts.open(path).ctx("open decision log", path)?;
    if !file.metadata().ctx("stat", path)?.is_file() {
        return Err(not_a_file(path));
    }
    file.lock().ctx("lock decision log", path)?;
    let key = host
        .mac_key(true)?
        .ok_or_else(|| LogError::NoKey(host.key_path()))?;
    let s = match resume(host, &mut file, path, &key)? {
        Some(s) => s,
        None => scan(host, &mut file, path, Some(&key))?,
    };
    if s.old {
        return Err(LogError::OldFormat {
            path: path.to_path_buf(),
        });
    }
    check_anchor(host, path, &s)?;
    let log = match s.log {
        Some(log) => log,
        None => {
            let mut id = [0u8; 16];
            getrandom::fill(&mut id).map_err(|e| LogError::Host {
                path: path.to_path_buf(),
                detail: format!("no randomness for a log id: {e}"),
            })?;
            id.iter().map(|b| format!("{b:02x}")).collect()
        }
    };
    let mut prev = s.head;
    let mut n = s.lines;
    let mut hasher = s.hasher;
    let bytes = s.bytes;
    let mut out = Vec::new();
    for d in decisions {
        n += 1;
        let mut line = LogLine {
            allowed: d.allowed,
            code: d.code,
            hash: d.hash,
            log: log.clone(),
            mac: None,
            model: d.model.clone(),
            n,
            path: d.path.to_string_lossy().into_owned(),
            prev: prev.clone(),
            reason: d.reason.clone(),
            time: time.to_string(),
            warning: d.warning.clone(),
        };
        let bad = |e: EncodingError| LogError::Line {
            path: path.to_path_buf(),
            line: n,
            detail: e.to_string(),
        };
        let mac = mac_of(&key, &line).map_err(bad)?;
        line.mac = Some(mac.clone());
        out.extend_from_slice(&to_canonical_vec(&line).map_err(bad)?);
        out.push(b'\n');
        prev = mac;
    }
    file.write_all(&out).ctx("append to decision log", path)?;
    file.sync_all().ctx("sync decision log", path)?;
    hasher.update(&out);
    // The record follows the log: a crash in between leaves the record short, which only means
    // the last lines are not yet protected against being cut.
    host.store_anchor(&Anchor {
        bytes: bytes + out.len() as u64,
        digest: hasher.finalize().to_hex().to_string(),
        head: prev,
        lines: n,
        log,
        path: log_path(path),
    })
}
