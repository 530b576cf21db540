//! The lifecycle state machine (FORMAT.md §5.7) and the operations that move models through it
//! and set the active model of slots.
//!
//! REGISTERED -> PROMOTED; PROMOTED -> DEPRECATED; DEPRECATED -> PROMOTED (explicit
//! reinstatement); any state but REVOKED -> REVOKED; REVOKED is terminal. Nothing else.

use crate::entry::{Body, SlotChange, SlotEffect, Transition};
use crate::keys::SecretKey;
use crate::names;
use crate::record::{ResolveError, resolve};
use crate::registry::{Committed, Registry, RegistryError};
use crate::state::{SlotState, State, StateError};
use crate::store::ObjectId;
use serde::{Deserialize, Serialize};

/// Lifecycle states of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LifecycleState {
    /// Ingested, not approved.
    Registered,
    /// Approved for use.
    Promoted,
    /// Still usable, being phased out.
    Deprecated,
    /// Never usable again.
    Revoked,
}

impl LifecycleState {
    /// The state's name as written.
    pub fn name(self) -> &'static str {
        match self {
            LifecycleState::Registered => "REGISTERED",
            LifecycleState::Promoted => "PROMOTED",
            LifecycleState::Deprecated => "DEPRECATED",
            LifecycleState::Revoked => "REVOKED",
        }
    }

    /// Parses a state name, in any case.
    pub fn from_name(s: &str) -> Option<LifecycleState> {
        [
            Self::Registered,
            Self::Promoted,
            Self::Deprecated,
            Self::Revoked,
        ]
        .into_iter()
        .find(|st| st.name().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the state machine allows `from -> to`.
pub fn allowed(from: LifecycleState, to: LifecycleState) -> bool {
    use LifecycleState::*;
    matches!(
        (from, to),
        (Registered, Promoted)
            | (Promoted, Deprecated)
            | (Deprecated, Promoted)
            | (Registered | Promoted | Deprecated, Revoked)
    )
}

/// The command that moves a model to `to`.
pub fn verb(to: LifecycleState) -> &'static str {
    match to {
        LifecycleState::Promoted => "promote",
        LifecycleState::Deprecated => "deprecate",
        LifecycleState::Revoked => "revoke",
        LifecycleState::Registered => "register",
    }
}

/// "allowed from X: promote, revoke" (or "nothing is allowed from REVOKED"), for messages.
pub fn allowed_text(from: LifecycleState) -> String {
    use LifecycleState::*;
    let moves: Vec<&str> = [Promoted, Deprecated, Revoked]
        .into_iter()
        .filter(|to| allowed(from, *to))
        .map(verb)
        .collect();
    if moves.is_empty() {
        format!("nothing is allowed from {from} (it is final)")
    } else {
        format!("allowed from {from}: {}", moves.join(", "))
    }
}

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

/// The rules of transitions and slot changes, applied to the derived state (in this module,
/// beside the state machine they enforce).
impl State {
    /// Applies a transition (FORMAT.md §5.7) to the state, checking its rules.
    pub(crate) fn apply_transition(
        &mut self,
        id: ObjectId,
        t: &Transition,
    ) -> Result<(), StateError> {
        let m = self.model(&t.model)?;
        // Built only for messages: replaying 100,000 entries should not format 100,000 names.
        let spec = || self.spec(&t.model);
        if m.state != t.from {
            return Err(StateError::Stale(format!(
                "the transition says {} is {:?}, but it is {}",
                spec(),
                t.from,
                m.state
            )));
        }
        if !allowed(t.from, t.to) {
            return Err(StateError::IllegalMove {
                verb: verb(t.to),
                spec: spec(),
                state: t.from,
            });
        }
        if m.entry != t.previous {
            return Err(StateError::Stale(format!(
                "the transition of {} names {} as its previous entry, but its latest is {}",
                spec(),
                t.previous,
                m.entry
            )));
        }
        let active = self.slots_of(&t.model);
        if t.to == LifecycleState::Revoked {
            if !t.slots.iter().map(|e| &e.slot).eq(active.iter()) {
                return Err(StateError::ActiveSlots {
                    spec: spec(),
                    slots: active,
                });
            }
        } else if !t.slots.is_empty() {
            return Err(StateError::Invalid(
                "only a revocation says what happens to slots".into(),
            ));
        }
        for e in &t.slots {
            if let Some(r) = &e.replacement {
                let rm = self.model(r)?;
                if *r == t.model || rm.state != LifecycleState::Promoted {
                    return Err(StateError::NotPromoted {
                        spec: self.spec(r),
                        state: if *r == t.model {
                            LifecycleState::Revoked
                        } else {
                            rm.state
                        },
                    });
                }
            }
        }
        for e in &t.slots {
            match &e.replacement {
                Some(r) => {
                    self.slots.insert(
                        e.slot.clone(),
                        SlotState {
                            entry: id,
                            model: *r,
                        },
                    );
                }
                None => {
                    self.slots.remove(&e.slot);
                }
            }
        }
        let m = self.models.get_mut(&t.model).expect("checked above");
        m.state = t.to;
        m.entry = id;
        Ok(())
    }

    /// Applies a slot change (FORMAT.md §5.8) to the state, checking its rules.
    pub(crate) fn apply_slot(&mut self, id: ObjectId, c: &SlotChange) -> Result<(), StateError> {
        names::check("slot name", &c.slot).map_err(|e| StateError::Invalid(e.to_string()))?;
        let current = self.slots.get(&c.slot);
        if c.previous != current.map(|s| s.entry) {
            return Err(StateError::Stale(format!(
                "the slot change of `{}` does not follow the entry that last set it",
                c.slot
            )));
        }
        match &c.model {
            Some(model) => {
                let m = self.model(model)?;
                if m.state != LifecycleState::Promoted {
                    return Err(StateError::NotPromoted {
                        spec: self.spec(model),
                        state: m.state,
                    });
                }
                if current.is_some_and(|s| s.model == *model) {
                    return Err(StateError::Invalid(format!(
                        "{} is already the active model of slot `{}`",
                        self.spec(model),
                        c.slot
                    )));
                }
                self.slots.insert(
                    c.slot.clone(),
                    SlotState {
                        entry: id,
                        model: *model,
                    },
                );
            }
            None => {
                if current.is_none() {
                    return Err(StateError::Invalid(format!("slot `{}` is not set", c.slot)));
                }
                self.slots.remove(&c.slot);
            }
        }
        Ok(())
    }
}

/// A slot and its active model, as `reg status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SlotView {
    /// The slot.
    pub slot: String,
    /// The active model's record id.
    pub model: ObjectId,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its lifecycle state (PROMOTED, or DEPRECATED while awaiting replacement).
    pub state: LifecycleState,
    /// The entry that set the slot.
    pub entry: ObjectId,
    /// When.
    pub since: String,
    /// Who set it.
    pub actor: crate::keys::Fingerprint,
}

/// Every set slot with its active model, sorted by slot (one entry read per slot).
pub fn status(reg: &Registry, state: &State) -> Result<Vec<SlotView>, RegistryError> {
    let mut out = Vec::with_capacity(state.slots.len());
    for (slot, s) in &state.slots {
        let m = state
            .models
            .get(&s.model)
            .ok_or(StateError::UnknownModel(s.model))?;
        let entry = crate::ledger::read_entry(reg.store(), &s.entry).map_err(|e| {
            RegistryError::Config {
                path: reg.store().path(&s.entry),
                detail: format!("entry {}: {e}", s.entry),
            }
        })?;
        out.push(SlotView {
            slot: slot.clone(),
            model: s.model,
            name: m.name.clone(),
            version: m.version.clone(),
            state: m.state,
            entry: s.entry,
            since: entry.header.time,
            actor: entry.header.actor,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use LifecycleState::*;

    #[test]
    fn the_state_machine_is_exactly_the_documented_table() {
        let all = [Registered, Promoted, Deprecated, Revoked];
        let mut allowed_moves = Vec::new();
        for from in all {
            for to in all {
                if allowed(from, to) {
                    allowed_moves.push((from, to));
                }
            }
        }
        assert_eq!(
            allowed_moves,
            vec![
                (Registered, Promoted),
                (Registered, Revoked),
                (Promoted, Deprecated),
                (Promoted, Revoked),
                (Deprecated, Promoted),
                (Deprecated, Revoked),
            ]
        );
        assert_eq!(
            allowed_text(Revoked),
            "nothing is allowed from REVOKED (it is final)"
        );
        assert_eq!(
            allowed_text(Registered),
            "allowed from REGISTERED: promote, revoke"
        );
    }
}
