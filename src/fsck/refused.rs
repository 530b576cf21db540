//! What the registry refuses that models still hold: formats the policy refuses
//! (`out-of-policy`, `policy-active`; FORMAT.md §5.5) and denied bytes (`denied-held`; §5.15).
//!
//! Neither is a replay rule: a model promoted before the policy changed, or one that shares an
//! artifact with a model revoked later with `--deny-bytes`, was valid history. They are what the
//! gate now denies although the ledger says approved, listed so that an officer acts on them
//! (revoke or deprecate the model, or change the policy or lift the denial).

use super::{Code, Fsck};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::format::manifest::Manifest;
use crate::repo::registry::Registry;
use crate::state::{ModelState, State, describe_refused};
use std::collections::BTreeMap;

/// The slots each model is active in: what makes a model out of policy an error.
pub(super) fn active_slots(state: &State) -> BTreeMap<ObjectId, Vec<&String>> {
    state
        .slots()
        .iter()
        .fold(BTreeMap::new(), |mut by_model, (slot, s)| {
            by_model.entry(s.model).or_insert_with(Vec::new).push(slot);
            by_model
        })
}

/// Model `id` (`m`, whose record's manifest is `manifest`) out of policy: a warning if it is
/// PROMOTED or DEPRECATED (the gate denies it), an error for each slot it is active in (the gate
/// denies what the slot names). Called with each record fsck reads once
/// ([`super::models::check_records`]), so no record is read twice.
pub(super) fn check_policy(
    reg: &Registry,
    state: &State,
    (id, m): (&ObjectId, &ModelState),
    manifest: &Manifest,
    slots: &[&String],
    f: &mut Fsck,
) {
    let approved = matches!(
        m.state,
        LifecycleState::Promoted | LifecycleState::Deprecated
    );
    if !approved && slots.is_empty() {
        return;
    }
    let refused = state.out_of_policy(manifest);
    if refused.is_empty() {
        return;
    }
    let spec = state.spec(id);
    let what = describe_refused(&refused);
    if approved {
        f.warn(
            Code::OutOfPolicy,
            Some(reg.store().path(id)),
            Some(*id),
            format!(
                "{spec} ({}) is out of policy: the policy refuses the format of {what}; the gate denies it (`policy`): revoke it, or a root key changes the policy",
                m.state.name()
            ),
        );
    }
    for slot in slots {
        f.error(
            Code::PolicyActive,
            None,
            Some(*id),
            format!(
                "slot `{slot}` runs {spec}, which is out of policy (the policy refuses the format of {what}): the gate denies it"
            ),
        );
    }
}

/// Models that are not REVOKED and hold denied bytes: the gate denies those bytes whatever
/// model claims them, so what the ledger calls approved or registered cannot be loaded.
pub(super) fn check_denied(state: &State, f: &mut Fsck) {
    if state.denied().is_empty() {
        return;
    }
    for (id, m) in state.models() {
        if m.state == LifecycleState::Revoked {
            continue;
        }
        let mut held = state.denied_among(&m.artifacts);
        let Some((first, denial)) = held.next() else {
            continue;
        };
        let more = held.count();
        f.warn(
            Code::DeniedHeld,
            None,
            Some(*id),
            format!(
                "{} ({}) holds {} denied artifact hash(es), first {first}, denied with {} at entry {}: the gate denies those bytes (`denied`); revoke it, or a root key lifts the denial (`reg deny lift`)",
                state.spec(id),
                m.state.name(),
                1 + more,
                state.spec(&denial.model),
                denial.seq
            ),
        );
    }
}
