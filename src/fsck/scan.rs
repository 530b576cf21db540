//! `reg fsck --scan DIR`: no model can exist on the host outside the registry.
//!
//! Every file under a scanned directory must be, by its BLAKE3, an artifact of an approved
//! model (PROMOTED; DEPRECATED passes with a warning, as at the load gate). Anything else is an
//! error finding naming the path and the format [`formats::detect`] sees in it: detection only
//! names files in the report, it never decides what is checked, so random bytes named
//! `x.onnx`, a zip, an XGBoost JSON model or a file with no extension are all checked alike.
//! Only what an explicit `--ignore` pattern matches is left out (and counted).
//!
//! Every entry is opened by the load gate's rule ([`crate::util::follow`], docs/GUIDE.md §5), so
//! `reg check` and `fsck --scan` judge a link alike: it is followed to its target's bytes and
//! the finding names both; a link that cannot be followed to a regular file (dangling, a loop, a
//! directory, a FIFO) is refused. A FIFO, socket or device is a finding and is never opened;
//! regular files are opened with `O_NONBLOCK` and checked on the descriptor, so one swapped for
//! a FIFO meanwhile cannot make fsck block.

use super::glob::Glob;
use super::{Code, Finding, Fsck, Severity};
use crate::format::formats::{self, Format, SNIFF_LEN};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::gate::{Code as GateCode, Scope, decide};
use crate::repo::ledger::Verified;
use crate::state::State;
use crate::util::follow::{FollowError, open_followed};
use serde::Serialize;
use std::fs::File;
use std::path::{Path, PathBuf};

/// What the scanned entries were found to be; these add up to `checked.scanned`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanVerdicts {
    /// Artifacts of a PROMOTED model.
    pub approved: u64,
    /// Artifacts of a DEPRECATED model (a warning each).
    pub deprecated: u64,
    /// Artifacts of a REGISTERED model only: not approved.
    pub unapproved: u64,
    /// Artifacts of REVOKED models only.
    pub revoked: u64,
    /// No artifact of any registered model.
    pub unregistered: u64,
    /// Bytes the gate denies beyond their model's lifecycle: denied bytes, a suspended model,
    /// a model out of policy.
    pub denied: u64,
    /// Not checkable: a link that cannot be followed to a regular file, a FIFO, socket or
    /// device, a file or directory that cannot be read.
    pub refused: u64,
}

/// The file a finding is about: the entry under the scanned directory, the target it links to,
/// and what its name and first bytes look like.
struct Subject {
    path: PathBuf,
    target: Option<PathBuf>,
    format: Format,
}

impl Subject {
    /// `a link to `T`: ` when the entry is a link, so that every message names both.
    fn via(&self) -> String {
        self.target
            .as_ref()
            .map(|t| format!("a link to `{}`: ", t.display()))
            .unwrap_or_default()
    }

    fn report(
        &self,
        f: &mut Fsck,
        code: Code,
        severity: Severity,
        found: (Option<ObjectId>, Option<String>),
        message: String,
    ) {
        let (object, model) = found;
        f.findings.push(Finding {
            code,
            severity,
            path: Some(self.path.clone()),
            object,
            message,
            format: Some(self.format),
            model,
            target: self.target.clone(),
        });
    }

    fn refuse(&self, f: &mut Fsck, code: Code, message: String) {
        f.counts.verdicts.refused += 1;
        self.report(f, code, Severity::Error, (None, None), message);
    }
}

/// Checks every entry under `dir` but those an `ignore` pattern matches.
/// What a scan judges files with: the verified state and the store holding its records (the
/// gate's policy reads a model's formats from its record).
pub(super) struct Judging<'a> {
    /// The verified state.
    pub state: &'a Verified<State>,
    /// The registry's store.
    pub store: &'a crate::repo::store::Store,
}

pub(super) fn scan(dir: &Path, j: &Judging<'_>, ignore: &[Glob], f: &mut Fsck) {
    let task = crate::util::progress::task(&format!("scanning {}", dir.display()), None);
    for e in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                let path = err.path().unwrap_or(dir).to_path_buf();
                if is_ignored(dir, &path, ignore) {
                    continue;
                }
                // A directory that cannot be listed hides what is in it: it fails the scan.
                f.counts.scanned += 1;
                let subject = Subject {
                    format: formats::detect(&path.to_string_lossy(), &[]),
                    path,
                    target: None,
                };
                subject.refuse(f, Code::ScanUnreadable, format!("cannot be read: {err}"));
                continue;
            }
        };
        let ft = e.file_type();
        if is_ignored(dir, e.path(), ignore) {
            if !ft.is_dir() {
                f.counts.ignored += 1;
            }
            continue;
        }
        // The scanned directory itself may be named through a link: the operator chose it.
        if ft.is_dir() || (e.depth() == 0 && e.path().is_dir()) {
            continue;
        }
        f.counts.scanned += 1;
        task.advance(check_entry(e.path(), j, f));
    }
}

/// Whether a pattern matches the entry's path relative to `dir`, or that of a directory above
/// it (below `dir`): ignoring a directory ignores what it holds.
fn is_ignored(dir: &Path, path: &Path, ignore: &[Glob]) -> bool {
    let Ok(rel) = path.strip_prefix(dir) else {
        return false;
    };
    let comps: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let comps: Vec<&str> = comps.iter().map(String::as_str).collect();
    (1..=comps.len()).any(|n| ignore.iter().any(|g| g.matches(&comps[..n])))
}

/// One non-directory entry, opened by the gate's rule ([`crate::util::follow`]): a regular file
/// is hashed, a link followed to a regular file and its target hashed, anything else refused
/// without being opened. Returns the bytes hashed.
fn check_entry(path: &Path, j: &Judging<'_>, f: &mut Fsck) -> u64 {
    let mut subject = Subject {
        path: path.to_path_buf(),
        target: None,
        // By name only until the bytes are read: reg never opens a FIFO or device to sniff it.
        format: formats::detect(&path.to_string_lossy(), &[]),
    };
    let followed = match open_followed(path) {
        Ok(followed) => followed,
        Err(e) => {
            subject.target = e.resolved().map(Path::to_path_buf);
            let code = match &e {
                FollowError::BrokenLink { .. } => Code::ScanLinkRefused,
                FollowError::NotRegular {
                    resolved: Some(_),
                    changed: false,
                    ..
                } => Code::ScanLinkRefused,
                FollowError::NotRegular { .. } => Code::ScanNotFile,
                FollowError::NotFound { .. } | FollowError::Unreadable { .. } => {
                    Code::ScanUnreadable
                }
            };
            let never = match &e {
                FollowError::NotRegular { changed: false, .. } => ": never opened",
                _ => "",
            };
            subject.refuse(f, code, format!("{}{never}", e.what()));
            return 0;
        }
    };
    subject.target = followed.resolved;
    match sniff_and_hash(followed.file) {
        Ok((head, id)) => {
            subject.format = formats::detect(&subject.path.to_string_lossy(), &head);
            judge(&subject, id, j, f);
            followed.len
        }
        Err(e) => {
            let msg = format!("{}cannot be read: {e}", subject.via());
            subject.refuse(f, Code::ScanUnreadable, msg);
            0
        }
    }
}

/// Reads the first [`SNIFF_LEN`] bytes (for the format) and hashes the whole file
/// ([`crate::util::hash::hash_file`]: mapped and hashed on every core when large, never held in
/// memory; a file changed while it is hashed fails).
fn sniff_and_hash(file: File) -> std::io::Result<(Vec<u8>, ObjectId)> {
    use std::os::unix::fs::FileExt as _;
    let mut head = vec![0u8; SNIFF_LEN];
    let mut n = 0;
    while n < SNIFF_LEN {
        match file.read_at(&mut head[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(n);
    let (hash, _) = crate::util::hash::hash_file(&file, &|_| {})?;
    Ok((head, ObjectId::from_hash(hash)))
}

/// `a safetensors file`, `an onnx file`, `an unknown file`: how messages name a format.
fn a_file_of(format: Format) -> String {
    let name = format.name();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) || format == Format::Hdf5 {
        "an"
    } else {
        "a"
    };
    format!("{article} {name} file")
}

/// The verdict on a file whose bytes hash to `id`: the load gate's, for any model.
fn judge(subject: &Subject, id: ObjectId, j: &Judging<'_>, f: &mut Fsck) {
    let state = j.state;
    let decision = decide(state, j.store, &subject.path, id, &Scope::Any);
    let model = decision
        .record
        .and_then(|r| state.models().get(&r))
        .map(|m| (m.state, format!("{}@{}", m.name, m.version)));
    let (via, file) = (subject.via(), a_file_of(subject.format));
    let Some((lifecycle, spec)) = model else {
        f.counts.verdicts.unregistered += 1;
        let msg = format!("{via}{file} that is no artifact of any registered model");
        return subject.report(
            f,
            Code::ScanUnregistered,
            Severity::Error,
            (Some(id), None),
            msg,
        );
    };
    let found = (Some(id), Some(spec.clone()));
    // Bytes the gate denies for a reason beyond the lifecycle (denied bytes, a suspended model,
    // one out of policy) are no approved file, whatever state their model is in.
    if matches!(
        decision.code,
        GateCode::Denied | GateCode::Suspended | GateCode::Policy
    ) {
        f.counts.verdicts.denied += 1;
        let msg = format!(
            "{via}{file} of {spec}, which the gate denies ({}): {}",
            decision.code.as_str(),
            decision.reason
        );
        return subject.report(f, Code::ScanDenied, Severity::Error, found, msg);
    }
    match lifecycle {
        LifecycleState::Promoted => {
            f.counts.verdicts.approved += 1;
            if subject.target.is_some() {
                let msg = format!(
                    "{via}its bytes, {file}, are an artifact of {spec} (PROMOTED); what is loaded through the link is whatever it names then"
                );
                subject.report(f, Code::ScanLink, Severity::Warning, found, msg);
            }
        }
        LifecycleState::Deprecated => {
            f.counts.verdicts.deprecated += 1;
            let msg = format!("{via}{file} of {spec}, which is DEPRECATED: plan its replacement");
            subject.report(f, Code::ScanDeprecated, Severity::Warning, found, msg);
        }
        LifecycleState::Registered => {
            f.counts.verdicts.unapproved += 1;
            let msg = format!("{via}{file} of {spec}, which is REGISTERED but not approved");
            subject.report(f, Code::ScanUnapproved, Severity::Error, found, msg);
        }
        LifecycleState::Revoked => {
            f.counts.verdicts.revoked += 1;
            let msg = format!("{via}{file} of {spec}, which is REVOKED");
            subject.report(f, Code::ScanRevoked, Severity::Error, found, msg);
        }
    }
}

/// Serializes a path as a JSON string even when it is not UTF-8 (a name on the medium can be
/// any bytes, and one such name must not keep the whole report from printing): each byte of
/// an invalid sequence is written `\xNN`; a UTF-8 path is written as it is.
pub(super) fn serialize_path<S: serde::Serializer>(
    path: &Option<PathBuf>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use std::os::unix::ffi::OsStrExt as _;
    let Some(path) = path else {
        return s.serialize_none();
    };
    let mut out = String::new();
    for chunk in path.as_os_str().as_bytes().utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    s.serialize_str(&out)
}
