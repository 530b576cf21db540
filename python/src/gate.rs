//! The load gate from Python: `check` and `open_verified`, as `reg check` decides and logs.
//!
//! The gate is built per call from the registry as it is now (`Gate::new` reads and verifies
//! its current state, the fast path when this host verified that checkpoint before), as `reg
//! check` builds it per run: a revocation committed after `Registry.open` denies from the next
//! call on. Hashing, copying and the state's verification run without the GIL.

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
        &r.reg,
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
        append(r, log.as_deref(), &decision)?;
        serde_json::to_string(&decision).map_err(refusal)
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
) -> PyResult<(i32, String)> {
    let log = crate::options::gate_log(log);
    py.detach(|| {
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
        let proc = format!("/proc/self/fd/{}", verified.file.as_raw_fd());
        let read_only = File::open(&proc).map_err(|e| {
            refusal(reg::util::fsutil::IoError::from_source(
                "re-open read-only the private copy of",
                &path,
                e,
            ))
        })?;
        drop(verified.file);
        append(r, log.as_deref(), &verified.decision)?;
        let decision = serde_json::to_string(&verified.decision).map_err(refusal)?;
        Ok((read_only.into_raw_fd(), decision))
    })
}
