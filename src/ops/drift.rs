//! Drift observations: stored, signed and listed; never computed (FORMAT.md §5.9).
//!
//! Each observation is a reporter-signed ledger entry that names the model's previous
//! observation, so listing a model's observations follows its own chain from the verified state:
//! as long as that model's history, whatever the size of the ledger.

use crate::crypto::keys::SecretKey;
use crate::format::entry::{Body, Drift};
use crate::format::observation::violations;
use crate::ops::lifecycle::LifecycleError;
use crate::repo::registry::{Committed, Registry, RegistryError};
use crate::state::StateError;
use crate::state::resolve::resolve;
use serde_json::Value;

/// Records `observation` for the model `spec`, signed by a reporter `key`.
///
/// An observation that names another model than `spec` is refused, as is an unknown or revoked
/// model, anything the schema or the time rules refuse (every violation listed), and an
/// observation whose signed entry would be larger than readers accept (checked before signing).
pub fn record(
    reg: &Registry,
    key: &SecretKey,
    spec: &str,
    observation: Value,
) -> Result<Committed, LifecycleError> {
    let Value::Object(observation) = observation else {
        return Err(RegistryError::Refused(StateError::Invalid(
            "an observation is a JSON object".into(),
        ))
        .into());
    };
    // Before the lock and the ledger: an observation refused here touches nothing.
    let problems = violations(&observation);
    if !problems.is_empty() {
        return Err(RegistryError::Refused(StateError::Invalid(format!(
            "the observation is invalid: {}",
            problems.join("; ")
        )))
        .into());
    }
    let tx = reg.begin()?;
    let (model, m) = resolve(tx.state(), spec)?;
    let previous = m.drift.as_ref().map(|d| d.last);
    Ok(tx.commit(
        key,
        Body::Drift(Drift {
            model,
            observation,
            previous,
            legacy_numbers: false,
        }),
    )?)
}
