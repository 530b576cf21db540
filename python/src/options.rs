//! How the Python package opens a registry: `reg::OpenOptions::from_vars`, the one constructor
//! the CLI and the examples also use, over this process's environment; an argument given in
//! Python stands for the CLI's flag and hides its variable, as clap lets a flag hide its `env`.

use crate::error::{invalid, refusal};
use pyo3::PyResult;
use reg::OpenOptions;
use reg::crypto::keys::Fingerprint;
use std::ffi::OsString;
use std::path::PathBuf;

/// A variable that is set and not empty: an empty one reads as unset, as the CLI reads it.
pub fn var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// The options `Registry.open(path, trust=...)` opens with: the environment's, as the CLI reads
/// it (`REG_DIR`, `REG_TRUST`, `REG_TRUST_FILE`, `REG_STATE_DIR`, the XDG and HOME defaults,
/// `REG_LOCK_TIMEOUT`, `SOURCE_DATE_EPOCH`), with `path` for `--registry` and `trust` for
/// `--trust` when given. The rollback check is always on: Python has no
/// `--skip-rollback-check`.
pub fn options(path: Option<PathBuf>, trust: Option<String>) -> PyResult<OpenOptions> {
    // The key error quotes the value as the library shows refused input (never whole).
    let explicit = match &trust {
        Some(t) => Some(
            t.parse::<Fingerprint>()
                .map_err(|e| invalid(format!("invalid value for trust: {e}")))?,
        ),
        None => None,
    };
    let given = |name: &str| match name {
        "REG_TRUST" if trust.is_some() => None,
        "REG_DIR" if path.is_some() => None,
        _ => std::env::var_os(name),
    };
    let mut opts = OpenOptions::from_vars(given).map_err(refusal)?;
    if let Some(path) = path {
        opts = opts.with_registry(path);
    }
    if let Some(root) = explicit {
        opts = opts.with_trust(root);
    }
    Ok(opts)
}

/// The decision log of `check`: the one given, else `REG_GATE_LOG` (as `reg check --log`).
pub fn gate_log(given: Option<PathBuf>) -> Option<PathBuf> {
    given.or_else(|| var("REG_GATE_LOG").map(PathBuf::from))
}
