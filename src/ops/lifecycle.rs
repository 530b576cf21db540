//! Moving models through the lifecycle (FORMAT.md §5.7) and setting the active model of slots
//! (§5.8): names resolve against the state under the writer lock, and each write returns what
//! it did, typed.
//!
//! Two writer's rules sit here on top of replay's: a revocation may deny the model's bytes
//! (§5.15), and a model out of policy is neither promoted nor made active (§5.5, "Where the
//! policy binds"). The policy rule is not replay's (a model promoted before the policy changed
//! was valid history), so it is checked here, on the model's record, under the writer lock.

use crate::crypto::keys::SecretKey;
use crate::format::entry::{Body, SlotChange, SlotEffect, Transition};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::ops::deny::Denied;
use crate::repo::ledger::Verified;
use crate::repo::registry::{Registry, RegistryError, Transaction};
use crate::state::resolve::{ResolveError, resolve};
use crate::state::{Needs, State};

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
    /// A slot plan given with a move that is not a revocation.
    #[error("--deactivate and --replace only go with a revocation")]
    PlanWithoutRevocation,
    /// The model holds artifacts in formats the registry's policy refuses (FORMAT.md §5.5):
    /// it is not promoted or made active.
    #[error("{spec} is out of policy: the registry policy refuses the format of {refused}")]
    OutOfPolicy {
        /// `name@version`.
        spec: String,
        /// The refused artifacts, for people: `` `path` (format) ``, comma-separated.
        refused: String,
    },
    /// The registry refused.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// What a transition did.
#[derive(Debug, Clone)]
pub struct Transitioned {
    /// The `transition` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The model's record id.
    pub model: ObjectId,
    /// Its `name@version`.
    pub spec: String,
    /// The state it left.
    pub from: LifecycleState,
    /// The state it is in now.
    pub to: LifecycleState,
    /// The slots the same entry handed over or cleared (a revocation's plan), in entry order.
    pub slots: Vec<Handover>,
    /// The slots the model is still the active model of, sorted (a deprecation leaves them).
    pub still_active: Vec<String>,
    /// What a revocation with `deny` did to the model's artifact hashes (FORMAT.md §5.15).
    pub denied: Option<Denied>,
}

/// One slot a revocation handed over or cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    /// The slot.
    pub slot: String,
    /// `name@version` of the model now active in it; `None`: the slot was cleared.
    pub replacement: Option<String>,
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
) -> Result<Transitioned, LifecycleError> {
    move_model(reg, key, spec, to, reason, plan, false)
}

/// Revokes the model `spec` (see [`transition`]); with `deny`, the same entry denies every
/// artifact hash of the model (FORMAT.md §5.15), so that the same bytes cannot come back under
/// another name until a root key lifts the denial.
pub fn revoke(
    reg: &Registry,
    key: &SecretKey,
    spec: &str,
    reason: &str,
    plan: SlotPlan,
    deny: bool,
) -> Result<Transitioned, LifecycleError> {
    move_model(reg, key, spec, LifecycleState::Revoked, reason, plan, deny)
}

/// The one writer of transitions: [`transition`] and [`revoke`].
fn move_model(
    reg: &Registry,
    key: &SecretKey,
    spec: &str,
    to: LifecycleState,
    reason: &str,
    plan: SlotPlan,
    deny: bool,
) -> Result<Transitioned, LifecycleError> {
    // A denial counts every model holding the bytes it denies: every model is read.
    let mut needs = if deny { Needs::all() } else { Needs::default() }.spec(spec);
    if let SlotPlan::Replace(other) = &plan {
        needs = needs.spec(other);
    }
    let mut tx = reg.begin_for(&needs)?;
    let state = tx.state();
    let (id, model) = resolve(state, spec)?;
    let denied = deny.then(|| Denied::count(state, &id, &model.artifacts));
    let replacement = match (&plan, to) {
        (SlotPlan::Unspecified, _) => None,
        (_, t) if t != LifecycleState::Revoked => {
            return Err(LifecycleError::PlanWithoutRevocation);
        }
        (SlotPlan::Deactivate, _) => Some(None),
        (SlotPlan::Replace(other), _) => Some(Some(resolve(state, other)?.0)),
    };
    let slots = match replacement {
        None => Vec::new(),
        Some(replacement) => state
            .slots_of(&id)
            .into_iter()
            .map(|slot| SlotEffect { replacement, slot })
            .collect(),
    };
    let from = model.state;
    let body = Body::Transition(Transition {
        deny,
        from,
        model: id,
        previous: model.entry,
        reason: reason.to_string(),
        slots: slots.clone(),
        to,
    });
    if to == LifecycleState::Promoted {
        // The ledger's rules (and who may sign) first: their refusal is the more basic one.
        tx.check(key, &body)?;
        check_in_policy(reg, tx.state(), &id)?;
    }
    // A replacement is made active by the revocation: the policy binds it as any activation.
    if let Some(Some(r)) = replacement {
        tx.check(key, &body)?;
        check_in_policy(reg, tx.state(), &r)?;
    }
    let done = tx.commit(key, body)?;
    let after = &done.state;
    Ok(Transitioned {
        entry: done.id,
        seq: done.seq,
        model: id,
        spec: after.spec(&id),
        from,
        to,
        slots: slots
            .into_iter()
            .map(|e| Handover {
                replacement: e.replacement.map(|r| after.spec(&r)),
                slot: e.slot,
            })
            .collect(),
        still_active: after.slots_of(&id),
        denied,
    })
}

/// Refuses to put in service (promote, activate) a model out of policy: one holding an
/// artifact whose format the registry's policy refuses (FORMAT.md §5.5), by the rule
/// [`State::out_of_policy`] that `reg add`, the gate and fsck apply too. The formats are the
/// record's, so the record is read, and only when the policy refuses some format; a record that
/// cannot be read refuses (fail closed).
fn check_in_policy(reg: &Registry, state: &State, id: &ObjectId) -> Result<(), LifecycleError> {
    let Some(manifest) = crate::repo::records::policy_manifest(reg.store(), state, id)? else {
        return Ok(());
    };
    let refused = state.out_of_policy(&manifest);
    if refused.is_empty() {
        return Ok(());
    }
    Err(LifecycleError::OutOfPolicy {
        spec: state.spec(id),
        refused: crate::state::describe_refused(&refused),
    })
}

/// What a slot change did.
#[derive(Debug, Clone)]
pub struct SlotSet {
    /// The `slot` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The slot.
    pub slot: String,
    /// `name@version` of the model that was active in it before, if any.
    pub previous: Option<String>,
}

/// What activating a model in a slot did.
#[derive(Debug, Clone)]
pub struct Activated {
    /// The change.
    pub change: SlotSet,
    /// `name@version` of the model now active in the slot.
    pub model: String,
    /// Its record id.
    pub record: ObjectId,
}

/// Makes the model `spec` the active model of `slot`, signed by `key`, with `reason`.
pub fn activate(
    reg: &Registry,
    key: &SecretKey,
    slot: &str,
    spec: &str,
    reason: &str,
) -> Result<Activated, LifecycleError> {
    let tx = reg.begin_for(&Needs::default().spec(spec).slot(slot))?;
    let (model, _) = resolve(tx.state(), spec)?;
    let (change, after) = commit_slot(tx, key, slot, Some((reg, model)), reason)?;
    Ok(Activated {
        change,
        model: after.spec(&model),
        record: model,
    })
}

/// Clears `slot`: no model is active in it any more. Signed by `key`, with `reason`.
pub fn deactivate(
    reg: &Registry,
    key: &SecretKey,
    slot: &str,
    reason: &str,
) -> Result<SlotSet, LifecycleError> {
    let tx = reg.begin_for(&Needs::default().slot(slot))?;
    Ok(commit_slot(tx, key, slot, None, reason)?.0)
}

/// Commits the `slot` entry that makes `model` (of `reg`) the active model of `slot` (`None`:
/// clears it), if the model is in policy; returns the change and the state after it.
fn commit_slot(
    mut tx: Transaction<'_>,
    key: &SecretKey,
    slot: &str,
    activate: Option<(&Registry, ObjectId)>,
    reason: &str,
) -> Result<(SlotSet, Verified<State>), LifecycleError> {
    let model = activate.map(|(_, m)| m);
    let state = tx.state();
    let before = state.slots().get(slot);
    let previous = before.map(|s| state.spec(&s.model));
    let body = Body::Slot(SlotChange {
        model,
        previous: before.map(|s| s.entry),
        reason: reason.to_string(),
        slot: slot.to_string(),
    });
    if let Some((reg, model)) = activate {
        // The ledger's rules (and who may sign) first: their refusal is the more basic one.
        tx.check(key, &body)?;
        check_in_policy(reg, tx.state(), &model)?;
    }
    let done = tx.commit(key, body)?;
    let change = SlotSet {
        entry: done.id,
        seq: done.seq,
        slot: slot.to_string(),
        previous,
    };
    Ok((change, done.state))
}
