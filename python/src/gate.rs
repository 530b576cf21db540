//! The load gate from Python: `check` and `open_verified`, as `reg check` decides and logs.
//!
//! The gate is built per call from the registry as it is now, opened again as `reg check`
//! opens it per run (its pin and floor read again, its state verified, the fast path when this
//! host verified that checkpoint before): a revocation committed, or a pin removed, after
//! `Registry.open` denies from the next call on. Hashing, copying and the state's verification
//! run without the GIL.

use crate::NativeRegistry;
use crate::error::{denied, refusal};
use pyo3::prelude::*;
use reg::gate::decision_log::{LogHost, append_log};
use reg::state::resolve::resolve;
use reg::{Decision, Gate, GateError, GateOptions, Scope};
use std::fs::File;
use std::os::fd::{AsRawFd as _, IntoRawFd as _};
use std::path::{Path, PathBuf};

/// The gate of `r` now, and the scope `slot` or `model` names (`--slot`, `--model`).
fn gate_and_scope(
    r: &NativeRegistry,
    slot: Option<String>,
    model: Option<String>,
) -> PyResult<(Gate, Scope)> {
    let gate = Gate::new(
        &r.reopened()?,
        GateOptions::default().with_allow_unpinned(r.allow_unpinned),
    )
    .map_err(refusal)?;
    let scope = match (slot, model) {
        (Some(_), Some(_)) => {
            return Err(crate::error::invalid(
                "slot and model cannot be used together",
            ));
        }
        (Some(slot), None) => Scope::Slot(slot),
        (None, Some(m)) => Scope::Model(resolve(gate.state(), &m).map_err(refusal)?.0),
        (None, None) => Scope::Any,
    };
    Ok((gate, scope))
}

/// Appends `decision` to the decision log `log` as `reg check --log` does: authenticated with
/// this host's log key, refused when the log does not verify.
fn append(r: &NativeRegistry, log: Option<&Path>, decision: &Decision) -> PyResult<()> {
    if let Some(log) = log {
        let now = r.opts.clock.now().map_err(refusal)?;
        append_log(
            &LogHost::at(&r.opts.trust.host.dir),
            log,
            std::slice::from_ref(decision),
            &now,
        )
        .map_err(refusal)?;
    }
    Ok(())
}

/// `reg check --json PATH`: the decision for one file (a directory is no file: denied
/// `not-regular`), appended to the decision log. A denial is a decision, not an error.
pub fn check(
    r: &NativeRegistry,
    py: Python<'_>,
    path: PathBuf,
    slot: Option<String>,
    model: Option<String>,
    log: Option<PathBuf>,
) -> PyResult<String> {
    let log = crate::options::gate_log(log);
    py.detach(|| {
        let (gate, scope) = gate_and_scope(r, slot, model)?;
        let decision = gate.check(&path, &scope);
        let json = serde_json::to_string(&decision).map_err(refusal)?;
        append(r, log.as_deref(), &decision)?;
        Ok(json)
    })
}

/// `Gate::open_verified`: the private copy, re-opened read-only through `/proc/self/fd` (the
/// writable descriptor is closed, so the caller's file object cannot write the copy), and the
/// decision, appended to the decision log. A denied file raises `Denied` with its decision; a
/// path that cannot be read is denied as `reg check` denies it (`not-found`, `not-regular`,
/// `unreadable`).
pub fn open_verified(
    r: &NativeRegistry,
    py: Python<'_>,
    path: PathBuf,
    slot: Option<String>,
    model: Option<String>,
    log: Option<PathBuf>,
) -> PyResult<(Py<PyAny>, String)> {
    let log = crate::options::gate_log(log);
    let (file, decision) = py.detach(|| -> PyResult<(File, String)> {
        let (gate, scope) = gate_and_scope(r, slot, model)?;
        let deny = |d: Box<Decision>| -> PyErr {
            match append(r, log.as_deref(), &d) {
                Err(e) => e,
                Ok(()) => denied(d),
            }
        };
        let verified = match gate.open_verified(&path, &scope) {
            Ok(v) => v,
            Err(GateError::Denied(d)) => return Err(deny(d)),
            Err(e @ GateError::Follow(_)) => {
                // Not opened: the gate's own decision for the path says why, as `reg check`.
                let d = gate.check(&path, &scope);
                return Err(if d.allowed {
                    refusal(e)
                } else {
                    deny(Box::new(d))
                });
            }
            Err(e) => return Err(refusal(e)),
        };
        let io = |what: &'static str, e: std::io::Error| {
            refusal(reg::util::fsutil::IoError::from_source(what, &path, e))
        };
        // The copy is owner-read-only (the library made it so before writing it): re-opened
        // read-only, the caller's file object cannot write it either.
        let proc = format!("/proc/self/fd/{}", verified.file.as_raw_fd());
        let read_only =
            File::open(&proc).map_err(|e| io("re-open read-only the private copy of", e))?;
        drop(verified.file);
        // Said as JSON before it is logged: a decision the caller cannot be given is not
        // logged as handed over.
        let decision = serde_json::to_string(&verified.decision).map_err(refusal)?;
        append(r, log.as_deref(), &verified.decision)?;
        Ok((read_only, decision))
    })?;
    file_object(py, file).map(|f| (f, decision))
}

/// The private copy as a Python `io.FileIO` that owns its descriptor from here on: a signal
/// (Ctrl-C, a timeout) that interrupts the caller before it wraps the object closes the copy
/// when the object is collected, instead of leaking a descriptor and the file's disk space.
fn file_object(py: Python<'_>, file: File) -> PyResult<Py<PyAny>> {
    let raw = file.as_raw_fd();
    let object = py
        .import("io")?
        .getattr("FileIO")?
        .call1((raw, "rb", true))?
        .unbind();
    // FileIO closes it now; on an error above, `file` still owned it and closed it.
    let _ = file.into_raw_fd();
    Ok(object)
}
