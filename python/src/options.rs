//! How the Python package opens a registry: the CLI's environment, read the CLI's way.
//!
//! Stand-in until `reg::OpenOptions::from_env()` is on main: this mirrors `src/cli/mod.rs`
//! (`open_options`, `clock`) and [`HostPaths::from_vars`] exactly, so that a consumer sees
//! the pins, the rollback records, the lock timeout and the clock `reg` itself sees. It is the
//! one function to swap for the library's constructor.

use reg::crypto::keys::Fingerprint;
use reg::repo::registry::{DEFAULT_LOCK_TIMEOUT, OpenOptions};
use reg::repo::trust::{HostPaths, HostState, TrustOptions};
use reg::util::encoding::Clock;
use std::ffi::OsString;
use std::path::PathBuf;

/// A variable that is set and not empty: an empty one reads as unset, as the CLI reads it
/// (`REG_DIR=` is no registry path).
pub fn var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// The library's options from the environment, as the CLI builds them: `REG_TRUST_FILE`,
/// `REG_STATE_DIR` and their XDG/HOME defaults, `REG_LOCK_TIMEOUT` (seconds; anything else
/// keeps the default) and `SOURCE_DATE_EPOCH`. The rollback check is always on: Python has no
/// `--skip-rollback-check`.
pub fn options(explicit: Option<Fingerprint>) -> OpenOptions {
    let paths = HostPaths::from_vars(|name| std::env::var_os(name));
    OpenOptions {
        trust: TrustOptions {
            explicit,
            file: paths.trust_file,
            host: HostState {
                dir: paths.state_dir,
                rollback_check: true,
            },
        },
        lock_timeout: std::env::var("REG_LOCK_TIMEOUT")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .map_or(DEFAULT_LOCK_TIMEOUT, std::time::Duration::from_secs),
        clock: match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(text) => Clock::from_epoch_text(&text),
            Err(_) => Clock::system(),
        },
    }
}

/// The registry path to discover from: the one given, else `REG_DIR` (as `--registry`).
pub fn registry_path(given: Option<PathBuf>) -> Option<PathBuf> {
    given.or_else(|| var("REG_DIR").map(PathBuf::from))
}

/// The decision log of `check`: the one given, else `REG_GATE_LOG` (as `reg check --log`).
pub fn gate_log(given: Option<PathBuf>) -> Option<PathBuf> {
    given.or_else(|| var("REG_GATE_LOG").map(PathBuf::from))
}
