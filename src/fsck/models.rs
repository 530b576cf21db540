//! Models: records admitted before their publisher key was retired (`publisher-revoked`), models
//! suspended by a compromised key (`model-suspended`, FORMAT.md §5.14), and what the slots run
//! (`revoked-active`, `deprecated-active`, `suspended-active`).

use super::{Code, Fsck};
use crate::format::lifecycle::LifecycleState;
use crate::repo::registry::Registry;
use crate::state::{State, StateError};

/// Records. That each is present, a valid manifest signed by a key holding the publisher role at
/// its `add` entry, and the entry's name, version and artifacts, is the ledger's own rule
/// (FORMAT.md §5.6): the replay checked it, and a record breaking it is a `ledger-invalid`
/// finding naming the entry. What is left is the review hints: a model admitted before its
/// publisher key was retired, and a model suspended because a key it rests on was compromised.
pub(super) fn check_records(reg: &Registry, state: &State, f: &mut Fsck) {
    let active = super::refused::active_slots(state);
    let refuses = !state.policy().refuse_formats.is_empty();
    for (id, m) in state.models() {
        f.counts.models += 1;
        let spec = format!("{}@{}", m.name, m.version);
        // The record was read and its signer checked by the replay a moment ago. A format 4
        // state names that signer, so the record is read again only when the policy needs its
        // manifest or an older state does not name it (gone since only if someone is editing).
        let signed = if refuses || m.publisher.is_none() {
            let Ok(signed) = crate::repo::records::read_record(reg.store(), id) else {
                continue;
            };
            Some(signed)
        } else {
            None
        };
        if let Some(signed) = &signed
            && refuses
        {
            let slots = active.get(id).map(Vec::as_slice).unwrap_or_default();
            super::refused::check_policy(reg, state, (id, m), &signed.manifest, slots, f);
        }
        let Some(publisher) = m
            .publisher
            .as_ref()
            .or(signed.as_ref().map(|s| &s.manifest.publisher))
        else {
            continue;
        };
        // The state's one answer to "may this key publish now": a key that could when the
        // model was admitted and cannot now was revoked since. A compromised publisher
        // suspended the model, which `model-suspended` says (or it was re-approved since).
        let compromised = state.keys().get(publisher).is_some_and(|k| k.compromised);
        if let Err(StateError::RevokedSigner { at: r, .. }) = state.may_publish(publisher)
            && !compromised
        {
            f.warn(Code::PublisherRevoked, Some(reg.store().path(id)), Some(*id), format!("{spec} was admitted before its publisher key {publisher} was retired (entry {r}): its signatures stay valid; review it"));
        }
        if let Some(s) = &m.suspended
            && m.state != LifecycleState::Revoked
        {
            f.warn(Code::ModelSuspended, Some(reg.store().path(id)), Some(*id), format!("{spec} is suspended: key {} it rests on was revoked as compromised at entry {}; the gate denies it until an operator re-approves it (`reg reapprove`) or revokes it", s.key, s.seq));
        }
    }
}

/// No revoked or suspended model is active; a deprecated active model is a warning.
pub(super) fn check_slots(state: &State, f: &mut Fsck) {
    for (slot, s) in state.slots() {
        if let Some(sus) = state
            .models()
            .get(&s.model)
            .and_then(|m| m.suspended.as_ref())
        {
            f.error(
                Code::SuspendedActive,
                None,
                Some(s.model),
                format!(
                    "slot `{slot}` runs {}, which is suspended (key {} revoked as compromised at entry {}): the gate denies it",
                    state.spec(&s.model),
                    sus.key,
                    sus.seq
                ),
            );
        }
        match state.models().get(&s.model).map(|m| m.state) {
            Some(LifecycleState::Promoted) => {}
            Some(LifecycleState::Deprecated) => f.warn(
                Code::DeprecatedActive,
                None,
                Some(s.model),
                format!(
                    "slot `{slot}` runs {}, which is DEPRECATED",
                    state.spec(&s.model)
                ),
            ),
            _ => f.error(
                Code::RevokedActive,
                None,
                Some(s.model),
                format!(
                    "slot `{slot}` runs {}, which is not approved",
                    state.spec(&s.model)
                ),
            ),
        }
    }
}
