//! The writes for automation: lifecycle moves, slots and drift observations, each the library
//! function the CLI's command calls, with its `--json` document (`reg::report::written`) as
//! the result.
//!
//! Keys come from PEM files, loaded by the library's `load_secret`; the passphrase of an
//! encrypted key is the `passphrase` argument, else `REG_KEY_PASSPHRASE`, else none: nothing
//! here ever prompts. Signing and committing run without the GIL.

use crate::NativeRegistry;
use crate::error::{invalid, refusal};
use pyo3::prelude::*;
use reg::crypto::keys::{PassphraseSource, SecretKey, load_secret};
use reg::format::lifecycle::LifecycleState;
use reg::ops::lifecycle::{self, SlotPlan};
use reg::repo::options::key_passphrase_from_vars;
use reg::report::Target;
use reg::report::written::Written;
use serde_json::Value;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Loads the private key at `path`; its passphrase, if it is encrypted, is `passphrase`, else
/// `REG_KEY_PASSPHRASE` (as the CLI reads it), else none (the library then refuses the key).
fn load_key(path: &Path, passphrase: Option<Zeroizing<String>>) -> PyResult<SecretKey> {
    let mut source = move |_: &Path| {
        passphrase
            .clone()
            .or_else(|| key_passphrase_from_vars(|name| std::env::var_os(name)))
    };
    let source: PassphraseSource<'_> = &mut source;
    load_secret(path, source).map_err(refusal)
}

/// The JSON text of a write's document.
fn text(value: &Value) -> PyResult<String> {
    serde_json::to_string(value).map_err(refusal)
}

/// `reg promote|deprecate|revoke MODEL --json`.
#[allow(clippy::too_many_arguments)]
pub fn transition(
    r: &NativeRegistry,
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
    let passphrase = passphrase.map(Zeroizing::new);
    let to = match action {
        "promote" => LifecycleState::Promoted,
        "deprecate" => LifecycleState::Deprecated,
        "revoke" => LifecycleState::Revoked,
        other => return Err(invalid(format!("no such transition `{other}`"))),
    };
    py.detach(|| {
        let key = load_key(&key, passphrase)?;
        let done = if to == LifecycleState::Revoked {
            let plan = match (deactivate, replace) {
                (true, Some(_)) => {
                    return Err(invalid("deactivate and replace cannot be used together"));
                }
                (true, None) => SlotPlan::Deactivate,
                (false, Some(m)) => SlotPlan::Replace(m),
                (false, None) => SlotPlan::Unspecified,
            };
            lifecycle::revoke(&r.current()?, &key, &spec, &reason, plan, deny_bytes)
        } else {
            lifecycle::transition(
                &r.current()?,
                &key,
                &spec,
                to,
                &reason,
                SlotPlan::Unspecified,
            )
        }
        .map_err(refusal)?;
        text(&Written::transition(&done).into_value())
    })
}

/// `reg activate SLOT MODEL --json`.
pub fn activate(
    r: &NativeRegistry,
    py: Python<'_>,
    slot: String,
    spec: String,
    reason: String,
    key: PathBuf,
    passphrase: Option<String>,
) -> PyResult<String> {
    let passphrase = passphrase.map(Zeroizing::new);
    py.detach(|| {
        let key = load_key(&key, passphrase)?;
        let done =
            lifecycle::activate(&r.current()?, &key, &slot, &spec, &reason).map_err(refusal)?;
        text(&Written::activated(&done).into_value())
    })
}

/// `reg deactivate SLOT --json`.
pub fn deactivate(
    r: &NativeRegistry,
    py: Python<'_>,
    slot: String,
    reason: String,
    key: PathBuf,
    passphrase: Option<String>,
) -> PyResult<String> {
    let passphrase = passphrase.map(Zeroizing::new);
    py.detach(|| {
        let key = load_key(&key, passphrase)?;
        let done = lifecycle::deactivate(&r.current()?, &key, &slot, &reason).map_err(refusal)?;
        text(&Written::deactivated(&done).into_value())
    })
}

/// `reg drift record MODEL OBSERVATION --json` (or `--slot SLOT`): the observation as JSON
/// text, bounded and parsed as the CLI reads its file.
pub fn record_drift(
    r: &NativeRegistry,
    py: Python<'_>,
    spec: Option<String>,
    slot: Option<String>,
    observation: String,
    key: PathBuf,
    passphrase: Option<String>,
) -> PyResult<String> {
    let passphrase = passphrase.map(Zeroizing::new);
    let limit = reg::format::observation::OBSERVATION_FILE_LIMIT;
    if observation.len() as u64 > limit {
        return Err(invalid(format!(
            "the observation is larger than {limit} bytes"
        )));
    }
    let value =
        reg::format::observation::parse_observation(observation.as_bytes()).map_err(|e| {
            let e = e.to_string();
            invalid(format!(
                "the observation is not JSON: {}",
                e.trim_start_matches("invalid JSON: ")
            ))
        })?;
    py.detach(|| {
        let key = load_key(&key, passphrase)?;
        let registry = r.current()?;
        // A slot names the model active in it now, by record id (as `reg drift record --slot`).
        let spec = match (spec, slot) {
            (Some(spec), None) => spec,
            (None, Some(slot)) => {
                let state = registry.state().map_err(refusal)?;
                Target::Slot(slot).spec(&state).map_err(refusal)?
            }
            _ => {
                return Err(invalid(
                    "give the model or the slot, not both and not neither",
                ));
            }
        };
        let done = reg::ops::drift::record(&registry, &key, &spec, value).map_err(refusal)?;
        text(&Written::drift_recorded(&done).into_value())
    })
}
