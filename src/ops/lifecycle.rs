//! Moving models through the lifecycle (FORMAT.md §5.7) and setting the active model of slots.

use crate::crypto::keys::SecretKey;
use crate::format::entry::{Body, SlotChange, SlotEffect, Transition};
use crate::format::lifecycle::LifecycleState;
use crate::repo::registry::{Committed, Registry, RegistryError};
use crate::state::StateError;
use crate::state::resolve::{ResolveError, resolve};

/// What a revocation does to the slots the model is active in.
#[derive(Debug, Clone)]
pub enum SlotPlan {
    /// Nothing said (refused if the model is active anywhere).
    Unspecified,
    /// Clear every slot the model is active in.
    Deactivate,
    /// Hand every such slot to this model (`name@version`, id or prefix).
    Replace(String),
}

/// Errors of lifecycle operations.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// A model name did not resolve.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The registry refused.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Moves the model `spec` to `to`, signed by `key`, with `reason`; for a revocation, `plan`
/// says what happens to its slots. Names resolve under the writer lock.
pub fn transition(
    reg: &Registry,
    key: &SecretKey,
    spec: &str,
    to: LifecycleState,
    reason: &str,
    plan: SlotPlan,
) -> Result<Committed, LifecycleError> {
    let tx = reg.begin()?;
    let state = tx.state();
    let (id, model) = resolve(state, spec)?;
    let slots = match (&plan, to) {
        (SlotPlan::Unspecified, _) => Vec::new(),
        (_, t) if t != LifecycleState::Revoked => {
            return Err(RegistryError::Refused(StateError::Invalid(
                "--deactivate and --replace only go with a revocation".into(),
            ))
            .into());
        }
        (SlotPlan::Deactivate, _) => state
            .slots_of(&id)
            .into_iter()
            .map(|slot| SlotEffect {
                replacement: None,
                slot,
            })
            .collect(),
        (SlotPlan::Replace(other), _) => {
            let (rid, _) = resolve(state, other)?;
            state
                .slots_of(&id)
                .into_iter()
                .map(|slot| SlotEffect {
                    replacement: Some(rid),
                    slot,
                })
                .collect()
        }
    };
    let body = Body::Transition(Transition {
        from: model.state,
        model: id,
        previous: model.entry,
        reason: reason.to_string(),
        slots,
        to,
    });
    Ok(tx.commit(key, body)?)
}

/// Makes `spec` the active model of `slot` (`Some`), or clears the slot (`None`).
pub fn set_slot(
    reg: &Registry,
    key: &SecretKey,
    slot: &str,
    spec: Option<&str>,
    reason: &str,
) -> Result<Committed, LifecycleError> {
    let tx = reg.begin()?;
    let state = tx.state();
    let model = spec
        .map(|s| resolve(state, s))
        .transpose()?
        .map(|(id, _)| id);
    let body = Body::Slot(SlotChange {
        model,
        previous: state.slots.get(slot).map(|s| s.entry),
        reason: reason.to_string(),
        slot: slot.to_string(),
    });
    Ok(tx.commit(key, body)?)
}
