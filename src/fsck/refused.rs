//! What the registry refuses that models still hold: formats the policy refuses
//! (`out-of-policy`, `policy-active`; FORMAT.md §5.5) and denied bytes (`denied-held`; §5.15).
//!
//! Neither is a replay rule: a model promoted before the policy changed, or one that shares an
//! artifact with a model revoked later with `--deny-bytes`, was valid history. They are what the
//! gate now denies although the ledger says approved, listed so that an officer acts on them
//! (revoke or deprecate the model, or change the policy or lift the denial).

use super::{Code, Fsck};
use crate::format::lifecycle::LifecycleState;
use crate::format::manifest::{MANIFEST_LIMIT, SignedManifest};
use crate::repo::registry::Registry;
use crate::state::{State, describe_refused};
use std::collections::BTreeMap;

/// Models out of policy: a warning for each PROMOTED or DEPRECATED one (the gate denies it),
/// an error for each slot whose active model is one (the gate denies what the slot names).
/// Records are read only when the policy refuses some format, as the gate reads them.
pub(super) fn check_policy(reg: &Registry, state: &State, f: &mut Fsck) {
    if state.policy().refuse_formats.is_empty() {
        return;
    }
    let active: BTreeMap<_, Vec<&String>> =
        state
            .slots()
            .iter()
            .fold(BTreeMap::new(), |mut by_model, (slot, s)| {
                by_model.entry(s.model).or_insert_with(Vec::new).push(slot);
                by_model
            });
    for (id, m) in state.models() {
        let approved = matches!(
            m.state,
            LifecycleState::Promoted | LifecycleState::Deprecated
        );
        let slots = active.get(id).map(Vec::as_slice).unwrap_or_default();
        if !approved && slots.is_empty() {
            continue;
        }
        // Read and verified by the replay a moment ago; a record gone since is fsck's
        // `object-missing` or `object-corrupt`, named there.
        let Ok(signed) = reg
            .store()
            .get(id, MANIFEST_LIMIT)
            .map_err(|e| e.to_string())
            .and_then(|b| SignedManifest::parse(b).map_err(|e| e.to_string()))
        else {
            continue;
        };
        let refused = state.out_of_policy(&signed.manifest);
        if refused.is_empty() {
            continue;
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
