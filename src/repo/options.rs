//! How a registry is opened: every input the library would otherwise take from the environment,
//! given explicitly ([`OpenOptions`]), and the one constructor that reads them from the
//! environment as the CLI documents it ([`OpenOptions::from_env`]).
//!
//! The library reads no environment on its own (but for the fault-injection points of debug
//! builds, `REG_FAILPOINT`, which tests use to crash it on purpose; a release build has none):
//! an embedding program may keep host state wherever it likes. Those that want the CLI's rules (the CLI itself, the examples, the Python
//! package) call [`OpenOptions::from_env`], so that `REG_TRUST`, `REG_STATE_DIR` or
//! `REG_LOCK_TIMEOUT` cannot mean one thing to `reg check` and another to a library gate.

use crate::crypto::keys::{Fingerprint, KeyError};
use crate::repo::trust::{HostPaths, HostState, TrustOptions};
use crate::util::encoding::Clock;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// How long a writer waits for the lock unless told otherwise (the CLI: `REG_LOCK_TIMEOUT`).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// How a registry is found, opened or created.
///
/// Built by [`OpenOptions::from_env`] (the CLI's rules) or [`OpenOptions::new`] and the `with_`
/// methods; non-exhaustive so that an option added later (every one has a safe default) does
/// not break a caller.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OpenOptions {
    /// Where to look for the registry ([`crate::repo::registry::discover`]): its `.registry`
    /// directory or the directory holding it (`--registry`, `REG_DIR`); none: the current
    /// directory and its parents.
    pub registry: Option<PathBuf>,
    /// Whom to trust, the host trust file, and where this host records the checkpoints it
    /// verified ([`HostState::dir`]).
    pub trust: TrustOptions,
    /// How long a writer waits for the writer lock before giving up as busy.
    pub lock_timeout: Duration,
    /// Where entry and checkpoint times, and the expiry check's "now", come from.
    pub clock: Clock,
}

impl OpenOptions {
    /// `trust`, with the default lock timeout and the system clock, discovering the registry
    /// from the current directory.
    pub fn new(trust: TrustOptions) -> OpenOptions {
        OpenOptions {
            registry: None,
            trust,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            clock: Clock::system(),
        }
    }

    /// The options of this host as the CLI reads them from the environment: see
    /// [`OpenOptions::from_vars`].
    pub fn from_env() -> Result<OpenOptions, KeyError> {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// The options the variables `var` gives, by the CLI's rules (its man page, ENVIRONMENT),
    /// with the rollback check on:
    /// - `REG_DIR`: where to look for the registry;
    /// - `REG_TRUST`: the root fingerprint to trust instead of the host trust file (a value
    ///   that is not a fingerprint is an error, never ignored: ignoring it would fall back to
    ///   other pins);
    /// - `REG_TRUST_FILE`, `REG_STATE_DIR` and their XDG and `HOME` defaults ([`HostPaths`]);
    /// - `REG_LOCK_TIMEOUT`: seconds a writer waits for the lock (anything else keeps the
    ///   default, [`DEFAULT_LOCK_TIMEOUT`]);
    /// - `SOURCE_DATE_EPOCH`: a fixed clock (a value that is not a number of seconds fails the
    ///   commands that read the time, not this).
    ///
    /// An empty value counts as unset, as the shell's `${VAR:-}` would, except
    /// `SOURCE_DATE_EPOCH`, which is then a clock that fails (an empty pin of time is a mistake
    /// to report, not a reason to use the system clock); so does a value that is not UTF-8.
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Result<OpenOptions, KeyError> {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        let paths = HostPaths::from_vars(&var);
        let explicit = set("REG_TRUST")
            .map(|v| v.to_string_lossy().parse::<Fingerprint>())
            .transpose()?;
        let lock_timeout = set("REG_LOCK_TIMEOUT")
            .and_then(|v| v.to_str().and_then(|s| s.parse::<u64>().ok()))
            .map_or(DEFAULT_LOCK_TIMEOUT, Duration::from_secs);
        let clock = clock_from_vars(&var);
        Ok(OpenOptions {
            registry: set("REG_DIR").map(PathBuf::from),
            trust: TrustOptions::new(paths.trust_file, HostState::new(paths.state_dir))
                .with_explicit(explicit),
            lock_timeout,
            clock,
        })
    }

    /// These options, looking for the registry at `path` (its `.registry` directory or the
    /// directory holding it) instead of where `REG_DIR` or the current directory says.
    pub fn with_registry(mut self, path: PathBuf) -> OpenOptions {
        self.registry = Some(path);
        self
    }

    /// These options, trusting only a registry whose genesis root is `root`, whatever the host
    /// trust file or `REG_TRUST` says.
    pub fn with_trust(mut self, root: Fingerprint) -> OpenOptions {
        self.trust.explicit = Some(root);
        self
    }

    /// These options, trusting the host trust file's pins only: a root given explicitly
    /// (`REG_TRUST`, [`Self::with_trust`]) is dropped. For reading a registry before it is
    /// pinned (`reg trust add`), never for trusting it more.
    pub fn without_explicit_trust(mut self) -> OpenOptions {
        self.trust.explicit = None;
        self
    }

    /// These options, with the host's rollback check on or off ([`HostState::rollback_check`]).
    pub fn with_rollback_check(mut self, on: bool) -> OpenOptions {
        self.trust.host.rollback_check = on;
        self
    }

    /// These options, with writers waiting `timeout` for the lock.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> OpenOptions {
        self.lock_timeout = timeout;
        self
    }

    /// These options, with `clock` for every time written or compared.
    pub fn with_clock(mut self, clock: Clock) -> OpenOptions {
        self.clock = clock;
        self
    }
}

/// The clock `var` gives: fixed by `SOURCE_DATE_EPOCH` when it is set (reproducible bytes),
/// else the system's. For the commands that open no registry but write a time (`reg bundle
/// pack`); [`OpenOptions::from_vars`] reads it the same way.
pub fn clock_from_vars(var: impl Fn(&str) -> Option<OsString>) -> Clock {
    match var("SOURCE_DATE_EPOCH") {
        Some(text) => Clock::from_epoch_text(&text.to_string_lossy()),
        None => Clock::system(),
    }
}

/// The passphrase of an encrypted private key that `var` gives (`REG_KEY_PASSPHRASE`), for
/// the callers that never prompt (the Python package) and the CLI before it asks a terminal:
/// one reading, so that the variable cannot mean one thing to `reg promote` and another to
/// `Registry.promote`. An empty value is returned as it is; whoever needs a new passphrase
/// refuses it.
pub fn key_passphrase_from_vars(
    var: impl Fn(&str) -> Option<OsString>,
) -> Option<zeroize::Zeroizing<String>> {
    var("REG_KEY_PASSPHRASE").map(|p| zeroize::Zeroizing::new(p.to_string_lossy().into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<OpenOptions, KeyError> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        OpenOptions::from_vars(|name| map.get(name).cloned())
    }

    #[test]
    fn the_key_passphrase_is_read_from_its_one_variable() {
        let map: HashMap<&str, OsString> =
            HashMap::from([("REG_KEY_PASSPHRASE", OsString::from("s3cret"))]);
        let got = key_passphrase_from_vars(|name| map.get(name).cloned());
        assert_eq!(got.as_deref().map(String::as_str), Some("s3cret"));
        assert!(key_passphrase_from_vars(|_| None).is_none());
    }

    #[test]
    fn the_environment_gives_every_option_the_cli_documents() {
        let fp = "0123456789abcdef0123456789abcdef";
        let o = from(&[
            ("HOME", "/home/op"),
            ("REG_DIR", "/media/usb"),
            ("REG_TRUST", fp),
            ("REG_STATE_DIR", "/var/lib/reg"),
            ("REG_LOCK_TIMEOUT", "3"),
            ("SOURCE_DATE_EPOCH", "1893456000"),
        ])
        .expect("valid");
        assert_eq!(o.registry, Some(PathBuf::from("/media/usb")));
        assert_eq!(
            o.trust.explicit.as_ref().map(|f| f.to_string()),
            Some(fp.into())
        );
        assert_eq!(
            o.trust.file,
            PathBuf::from("/home/op/.config/reg/trust.json")
        );
        assert_eq!(o.trust.host.dir, PathBuf::from("/var/lib/reg"));
        assert!(o.trust.host.rollback_check);
        assert_eq!(o.lock_timeout, Duration::from_secs(3));
        assert_eq!(o.clock.now().ok().as_deref(), Some("2030-01-01T00:00:00Z"));
    }

    #[test]
    fn empty_values_are_unset_and_a_bad_timeout_keeps_the_default() {
        let o = from(&[
            ("HOME", "/home/op"),
            ("REG_DIR", ""),
            ("REG_TRUST", ""),
            ("REG_LOCK_TIMEOUT", "soon"),
        ])
        .expect("valid");
        assert_eq!(o.registry, None);
        assert!(o.trust.explicit.is_none());
        assert_eq!(o.trust.host.dir, PathBuf::from("/home/op/.local/state/reg"));
        assert_eq!(o.lock_timeout, DEFAULT_LOCK_TIMEOUT);
        assert_eq!(o.clock, Clock::system());
    }

    #[test]
    fn a_trust_value_that_is_no_fingerprint_is_an_error_not_ignored() {
        assert!(from(&[("HOME", "/h"), ("REG_TRUST", "not-a-key")]).is_err());
    }
}
