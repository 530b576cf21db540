//! `reg_governance._native`: the native module of the Python package, a thin layer over the
//! `reg` library. It converts arguments, calls the library and converts back; every rule is
//! the library's. Results cross as JSON text (the CLI's `--json` documents), errors as
//! [`error::NativeError`]; the pure-Python package `reg_governance` wraps both in types.
//!
//! Every call that hashes, copies or reads the ledger releases the GIL, so Python threads gate
//! files in parallel.

mod error;
mod gate;
mod options;
mod reads;
mod writes;

use error::{NativeError, refusal};
use pyo3::prelude::*;
use reg::repo::trust::PinStatus;
use reg::{OpenOptions, Registry};
use std::path::PathBuf;

/// An opened registry, as `Registry.open` made it: checked against this host's pin, its ledger
/// verified, and the options it was opened with (for the gate and the decision log).
///
/// Every call opens it again ([`NativeRegistry::current`]), as each `reg` command does: a pin
/// removed from this host (a leaked root key) or a floor raised since `Registry.open` counts
/// from the next call, not from the next restart of a long-running server.
#[pyclass(frozen, module = "reg_governance._native")]
struct NativeRegistry {
    /// The registry as it was opened (its id, root and path; `current` for everything else).
    reg: Registry,
    /// What it was opened with: the host's state directory and clock are the decision log's.
    opts: OpenOptions,
    /// Whether the gate decides on a registry this host has not pinned.
    allow_unpinned: bool,
}

impl NativeRegistry {
    /// The registry as it is now: opened again, as each `reg` command opens it (the pin and
    /// the floor read again; the ledger by its fast path when this host verified its head).
    /// Refuses it as `Registry.open` does once this host no longer pins it (the gate instead
    /// denies every file, as `reg check` does: [`gate`]).
    fn current(&self) -> PyResult<Registry> {
        let reg = self.reopened()?;
        if *reg.pin() == PinStatus::Unpinned && !self.allow_unpinned {
            return Err(refusal(reg::refusal::unpinned(&reg)));
        }
        Ok(reg)
    }

    /// The registry opened again, pinned or not; refused when another registry now stands at
    /// its path (another one pinned on this host too would otherwise answer under this one's
    /// name), as the CLI refuses a registry replaced at a pinned path.
    fn reopened(&self) -> PyResult<Registry> {
        let now = Registry::open(self.reg.path(), &self.opts).map_err(refusal)?;
        if now.id() != self.reg.id() || now.root() != self.reg.root() {
            return Err(refusal(reg::Refusal::new(
                reg::Class::Unpinned,
                format!(
                    "the registry at `{}` is no longer the one opened: registry {} (root {}) was opened, it is now {} (root {}): refusing a replaced registry",
                    self.reg.path().display(),
                    self.reg.id(),
                    self.reg.root(),
                    now.id(),
                    now.root()
                ),
                Some("if the replacement is expected, open it again with Registry.open (after checking it as any new registry)".to_string()),
            )));
        }
        Ok(now)
    }
}

#[pymethods]
impl NativeRegistry {
    /// Finds (`path`, else `REG_DIR`, else the current directory and its parents) and opens the
    /// registry, trusting `trust` (else `REG_TRUST`) or the host's pins, and verifies its
    /// ledger against this host's record (a rolled-back or forked copy is refused). Refuses a
    /// registry not pinned on this host unless `allow_unpinned`.
    #[staticmethod]
    #[pyo3(signature = (path=None, trust=None, allow_unpinned=false))]
    fn open(
        py: Python<'_>,
        path: Option<PathBuf>,
        trust: Option<String>,
        allow_unpinned: bool,
    ) -> PyResult<NativeRegistry> {
        let opts = options::options(path, trust)?;
        let (reg, opts) = py.detach(|| -> PyResult<(Registry, OpenOptions)> {
            let reg = Registry::find(&opts).map_err(refusal)?;
            // Verified now, as every command verifies it: a rolled-back copy fails here.
            reg.state().map_err(refusal)?;
            // Found once: later calls open this directory, wherever the process's current
            // directory moves.
            let dot = std::path::absolute(reg.path()).map_err(|e| {
                refusal(reg::util::fsutil::IoError::from_source(
                    "resolve",
                    reg.path(),
                    e,
                ))
            })?;
            let reg = Registry::open(&dot, &opts).map_err(refusal)?;
            Ok((reg, opts.with_registry(dot)))
        })?;
        if *reg.pin() == PinStatus::Unpinned && !allow_unpinned {
            return Err(refusal(reg::refusal::unpinned(&reg)));
        }
        Ok(NativeRegistry {
            reg,
            opts,
            allow_unpinned,
        })
    }

    /// The `.registry` directory (absolute).
    #[getter]
    fn path(&self) -> PathBuf {
        self.reg.path().to_path_buf()
    }

    /// The registry id (hex).
    #[getter]
    fn id(&self) -> String {
        self.reg.id().to_string()
    }

    /// The genesis root key fingerprint.
    #[getter]
    fn root(&self) -> String {
        self.reg.root().to_string()
    }

    /// How the root was pinned, as the CLI's JSON says it: "trust-file", "--trust" or None.
    #[getter]
    fn pinned_by(&self) -> Option<&'static str> {
        match self.reg.pin() {
            PinStatus::HostFile(_) => Some("trust-file"),
            PinStatus::Explicit(_) => Some("--trust"),
            PinStatus::Unpinned => None,
        }
    }

    /// `reg check --json FILE [--slot S | --model M] [--log LOG]`, its one decision as JSON.
    #[pyo3(signature = (path, slot=None, model=None, log=None))]
    fn check(
        &self,
        py: Python<'_>,
        path: PathBuf,
        slot: Option<String>,
        model: Option<String>,
        log: Option<PathBuf>,
    ) -> PyResult<String> {
        gate::check(self, py, path, slot, model, log)
    }

    /// Opens `path` through the gate: `(file, decision_json)`, an `io.FileIO` read-only over the
    /// private verified copy. Raises `Denied` (with the decision) for a denied file.
    #[pyo3(signature = (path, slot=None, model=None, log=None))]
    fn open_verified(
        &self,
        py: Python<'_>,
        path: PathBuf,
        slot: Option<String>,
        model: Option<String>,
        log: Option<PathBuf>,
    ) -> PyResult<(Py<PyAny>, String)> {
        gate::open_verified(self, py, path, slot, model, log)
    }

    /// `reg status --json`.
    fn status(&self, py: Python<'_>) -> PyResult<String> {
        reads::status(self, py)
    }

    /// `reg list --json` with its filters.
    #[pyo3(signature = (states=None, name=None, r#type=None, uses=Vec::new(), labels=None, publisher=None))]
    #[allow(clippy::too_many_arguments)]
    fn models(
        &self,
        py: Python<'_>,
        states: Option<Vec<String>>,
        name: Option<String>,
        r#type: Option<String>,
        uses: Vec<String>,
        labels: Option<Vec<(String, String)>>,
        publisher: Option<String>,
    ) -> PyResult<String> {
        reads::models(self, py, states, name, r#type, uses, labels, publisher)
    }

    /// `reg show --json MODEL` (or `--slot SLOT`).
    #[pyo3(signature = (spec=None, slot=None))]
    fn show(&self, py: Python<'_>, spec: Option<String>, slot: Option<String>) -> PyResult<String> {
        reads::show(self, py, spec, slot)
    }

    /// `reg log --json` with its filters.
    #[pyo3(signature = (spec=None, slot=None, max_count=None, since=None, actor=None))]
    #[allow(clippy::too_many_arguments)]
    fn history(
        &self,
        py: Python<'_>,
        spec: Option<String>,
        slot: Option<String>,
        max_count: Option<usize>,
        since: Option<String>,
        actor: Option<String>,
    ) -> PyResult<String> {
        reads::history(self, py, spec, slot, max_count, since, actor)
    }

    /// `reg drift list --json MODEL` (or `--slot SLOT`, or `--all` with neither).
    #[pyo3(signature = (spec=None, slot=None))]
    fn drift(
        &self,
        py: Python<'_>,
        spec: Option<String>,
        slot: Option<String>,
    ) -> PyResult<String> {
        reads::drift(self, py, spec, slot)
    }

    /// `reg promote|deprecate|revoke SPEC --reason REASON --key KEY --json` (`action` names
    /// which; `deactivate`, `replace` and `deny_bytes` are revoke's).
    #[pyo3(signature = (action, spec, reason, key, passphrase=None, deactivate=false, replace=None, deny_bytes=false))]
    #[allow(clippy::too_many_arguments)]
    fn transition(
        &self,
        py: Python<'_>,
        action: &str,
        spec: String,
        reason: String,
        key: PathBuf,
        passphrase: Option<String>,
        deactivate: bool,
        replace: Option<String>,
        deny_bytes: bool,
    ) -> PyResult<String> {
        writes::transition(
            self, py, action, spec, reason, key, passphrase, deactivate, replace, deny_bytes,
        )
    }

    /// `reg activate SLOT SPEC --reason REASON --key KEY --json`.
    #[pyo3(signature = (slot, spec, reason, key, passphrase=None))]
    fn activate(
        &self,
        py: Python<'_>,
        slot: String,
        spec: String,
        reason: String,
        key: PathBuf,
        passphrase: Option<String>,
    ) -> PyResult<String> {
        writes::activate(self, py, slot, spec, reason, key, passphrase)
    }

    /// `reg deactivate SLOT --reason REASON --key KEY --json`.
    #[pyo3(signature = (slot, reason, key, passphrase=None))]
    fn deactivate(
        &self,
        py: Python<'_>,
        slot: String,
        reason: String,
        key: PathBuf,
        passphrase: Option<String>,
    ) -> PyResult<String> {
        writes::deactivate(self, py, slot, reason, key, passphrase)
    }

    /// `reg drift record SPEC OBSERVATION --key KEY --json` (or `--slot SLOT`), the
    /// observation as JSON text.
    #[pyo3(signature = (spec, slot, observation, key, passphrase=None))]
    fn record_drift(
        &self,
        py: Python<'_>,
        spec: Option<String>,
        slot: Option<String>,
        observation: String,
        key: PathBuf,
        passphrase: Option<String>,
    ) -> PyResult<String> {
        writes::record_drift(self, py, spec, slot, observation, key, passphrase)
    }
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeRegistry>()?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    Ok(())
}
