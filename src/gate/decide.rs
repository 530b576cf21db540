//! The registry's answer for a hash (FORMAT.md §5.5, §5.14, §5.15): which approved model, if
//! any, vouches for the bytes, in the scope asked, and why not otherwise. Apart from the
//! [`super::Gate`] because it knows nothing of the host's trust in the registry (the gate adds
//! that), so fsck's scan may ask it of a registry it opened.

use super::{Code, Decision, Scope};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::repo::ledger::Verified;
use crate::repo::store::Store;
use crate::state::{ModelState, State};
use std::path::Path;

/// What the verified `state` (with its `store`, whose records say each model's formats) says
/// about a file whose bytes hash to `hash`.
///
/// This is the registry's answer only: it does not know whether the host trusts the registry,
/// so it is private to the crate (fsck's scan, which judges an opened registry's own files,
/// uses it): a consumer asks a [`Gate`], which also refuses a registry this host has not
/// pinned. Only a state the repo layer verified is accepted ([`Verified`]), never one parsed
/// from elsewhere.
pub(crate) fn decide(
    state: &Verified<State>,
    store: &Store,
    path: &Path,
    hash: ObjectId,
    scope: &Scope,
) -> Decision {
    let mut d = Decision {
        path: path.to_path_buf(),
        resolved: None,
        hash: Some(hash),
        allowed: false,
        code: Code::NotRegistered,
        model: None,
        record: None,
        reason: String::new(),
        warning: None,
    };
    // Denied bytes are denied before anything claims them (FORMAT.md §5.15).
    if let Some(denial) = state.denied().get(&hash) {
        d.code = Code::Denied;
        d.model = Some(state.spec(&denial.model));
        d.record = Some(denial.model);
        d.reason = format!(
            "its bytes are denied by ledger entry {} (with {}): root lifts a denial with `reg deny lift`",
            denial.seq,
            state.spec(&denial.model)
        );
        return d;
    }
    let candidates: Vec<ObjectId> = match scope {
        Scope::Any => state
            .models()
            .iter()
            .filter(|(_, m)| m.artifacts.binary_search(&hash).is_ok())
            .map(|(id, _)| *id)
            .collect(),
        Scope::Slot(slot) => match state.slots().get(slot) {
            Some(s) => vec![s.model],
            None => {
                d.code = Code::NoActiveModel;
                d.reason = format!("slot `{slot}` has no active model");
                return d;
            }
        },
        Scope::Model(id) => vec![*id],
    };
    // The candidates holding the bytes, best first: an approved model first, PROMOTED before
    // DEPRECATED, unsuspended before suspended; ties by record id, so the answer is the same
    // on every host.
    let mut ranked: Vec<(&ObjectId, &ModelState)> = candidates
        .iter()
        .filter_map(|id| state.models().get_key_value(id))
        .filter(|(_, m)| m.artifacts.binary_search(&hash).is_ok())
        .collect();
    ranked.sort_by_key(|(id, m)| (rank(m), **id));
    // The policy judges each approved, unsuspended candidate in that order: the first in
    // policy vouches; if none is, the best one is denied with the policy's reason.
    let mut refusal = None;
    let mut best = ranked.first().copied();
    for &(id, m) in ranked.iter().filter(|(_, m)| rank(m) < 2) {
        match policy_refusal(state, store, id) {
            None => {
                best = Some((id, m));
                refusal = None;
                break;
            }
            Some(r) => {
                if refusal.is_none() {
                    best = Some((id, m));
                    refusal = Some(r);
                }
            }
        }
    }
    let Some((id, m)) = best else {
        if !matches!(scope, Scope::Any) {
            d.code = Code::OutOfScope;
        }
        d.reason = match scope {
            Scope::Any => "its bytes are no artifact of any registered model".into(),
            Scope::Slot(slot) => format!(
                "its bytes are no artifact of {}, the active model of slot `{slot}`",
                state.spec(&candidates[0])
            ),
            Scope::Model(id) => format!("its bytes are no artifact of {}", state.spec(id)),
        };
        return d;
    };
    d.model = Some(format!("{}@{}", m.name, m.version));
    d.record = Some(*id);
    judge(&mut d, m);
    if let Some(reason) = refusal {
        d.allowed = false;
        d.code = Code::Policy;
        d.reason = reason;
        d.warning = None;
    }
    d
}

/// Why model `record` is out of the registry's policy (FORMAT.md §5.5), if it is: the formats
/// are its record's, so the record is read, and only when the policy refuses some format; a
/// record that cannot be read refuses (fail closed).
fn policy_refusal(state: &State, store: &Store, record: &ObjectId) -> Option<String> {
    match crate::repo::records::policy_manifest(store, state, record) {
        Ok(None) => None,
        Ok(Some(manifest)) => {
            let refused = state.out_of_policy(&manifest);
            (!refused.is_empty()).then(|| {
                format!(
                    "its model holds artifacts in formats the registry policy refuses: {}",
                    crate::state::describe_refused(&refused)
                )
            })
        }
        Err(e) => Some(format!(
            "its record could not be read to check the registry policy ({e}): run `reg fsck`"
        )),
    }
}

/// How good a candidate is: an approved model first, PROMOTED before DEPRECATED, one that is
/// not suspended before one that is; so that a file denied because its approved model is
/// suspended says `suspended`, not that some other model holding it is unapproved.
fn rank(m: &ModelState) -> u8 {
    let suspended = u8::from(m.suspended.is_some());
    match m.state {
        LifecycleState::Promoted => suspended * 2,
        LifecycleState::Deprecated => 1 + suspended * 2,
        LifecycleState::Registered => 4,
        LifecycleState::Revoked => 5,
    }
}

/// The decision for an artifact of model `m`, by its lifecycle state and, for an approved
/// model, its suspension.
fn judge(d: &mut Decision, m: &ModelState) {
    if let Some(s) = &m.suspended
        && matches!(
            m.state,
            LifecycleState::Promoted | LifecycleState::Deprecated
        )
    {
        d.code = Code::Suspended;
        d.reason = format!(
            "its model is suspended: key {} it rests on was revoked as compromised at ledger entry {}; an operator must re-approve it (`reg reapprove`)",
            s.key, s.seq
        );
        return;
    }
    match m.state {
        LifecycleState::Promoted => {
            d.allowed = true;
            d.code = Code::Promoted;
            d.reason = "an artifact of a PROMOTED model".into();
        }
        LifecycleState::Deprecated => {
            d.allowed = true;
            d.code = Code::Deprecated;
            d.reason = "an artifact of a DEPRECATED model".into();
            d.warning = Some(format!(
                "{}@{} is DEPRECATED: plan its replacement",
                m.name, m.version
            ));
        }
        LifecycleState::Registered => {
            d.code = Code::NotApproved;
            d.reason = "its model is REGISTERED, not approved".into();
        }
        LifecycleState::Revoked => {
            d.code = Code::Revoked;
            d.reason = "its model is REVOKED".into();
        }
    }
}
