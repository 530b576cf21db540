//! The rules of transitions and slot changes (FORMAT.md §5.7, §5.8), applied to the derived
//! state.

use super::{SlotState, StalePrevious, State, StateError};
use crate::crypto::keys::Fingerprint;
use crate::format::entry::{SlotChange, Transition};
use crate::format::id::ObjectId;
use crate::format::lifecycle::{LifecycleState, allowed, verb};
use crate::format::names;

impl State {
    /// The rule of a transition (FORMAT.md §5.7): it follows the model's state and latest entry,
    /// the state machine allows the move, and a revocation says what happens to each slot the
    /// model is active in (cleared, or taken over by another PROMOTED model).
    pub fn check_transition(&self, t: &Transition) -> Result<(), StateError> {
        let m = self.model(&t.model)?;
        // Built only for messages: replaying 100,000 entries should not format 100,000 names.
        let spec = || self.spec(&t.model);
        if m.state != t.from {
            return Err(StateError::StaleFrom {
                spec: spec(),
                claimed: t.from,
                state: m.state,
            });
        }
        if !allowed(t.from, t.to) {
            return Err(StateError::IllegalMove {
                verb: verb(t.to),
                spec: spec(),
                state: t.from,
            });
        }
        if m.entry != t.previous {
            return Err(StateError::StalePrevious(Box::new(StalePrevious {
                spec: spec(),
                named: t.previous,
                latest: m.entry,
            })));
        }
        if t.deny && t.to != LifecycleState::Revoked {
            return Err(StateError::DenyWithoutRevocation);
        }
        if t.to == LifecycleState::Promoted {
            self.check_not_suspended(&t.model)?;
            self.check_not_denied(spec, &m.artifacts)?;
        }
        if t.to == LifecycleState::Revoked {
            let active = self.slots_of(&t.model);
            if !t.slots.iter().map(|e| &e.slot).eq(active.iter()) {
                return Err(StateError::ActiveSlots {
                    spec: spec(),
                    slots: active,
                });
            }
        } else if !t.slots.is_empty() {
            return Err(StateError::SlotsWithoutRevocation);
        }
        for r in t.slots.iter().filter_map(|e| e.replacement.as_ref()) {
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
            // A replacement is made active by this entry: what refuses an activation refuses
            // it (FORMAT.md §5.7, §5.8), bytes this same revocation denies included.
            self.check_not_suspended(r)?;
            self.check_not_denied(|| self.spec(r), &rm.artifacts)?;
            if t.deny {
                let shared: Vec<&ObjectId> = rm
                    .artifacts
                    .iter()
                    .filter(|a| m.artifacts.binary_search(a).is_ok())
                    .collect();
                if let Some(first) = shared.first() {
                    return Err(StateError::DeniedBytes {
                        spec: self.spec(r),
                        count: shared.len(),
                        first: **first,
                        at: self.seq + 1,
                    });
                }
            }
        }
        Ok(())
    }

    /// Applies a transition (entry `id`, `seq`, signed by `actor`) that
    /// [`State::check_transition`] passed: the slot effects, then the model's new state and
    /// latest entry, the promoting operator among those it rests on (format 4), and the denial
    /// of its hashes a revocation may carry.
    pub(super) fn apply_transition(
        &mut self,
        id: ObjectId,
        seq: u64,
        actor: &Fingerprint,
        t: &Transition,
    ) {
        let provenance = self.has_provenance();
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
        if let Some(m) = self.models.get_mut(&t.model) {
            m.state = t.to;
            m.entry = id;
            if provenance && t.to == LifecycleState::Promoted {
                m.approvers.insert(actor.clone());
            }
        }
        if t.deny {
            self.deny_model(seq, &t.model);
        }
    }

    /// The rule of a slot change (FORMAT.md §5.8): a valid slot name, following the entry that
    /// last set the slot; setting it names a PROMOTED model it does not hold already, clearing
    /// it needs it set.
    pub fn check_slot(&self, c: &SlotChange) -> Result<(), StateError> {
        names::check("slot name", &c.slot)?;
        let current = self.slots.get(&c.slot);
        if c.previous != current.map(|s| s.entry) {
            return Err(StateError::StaleSlot(c.slot.clone()));
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
                self.check_not_suspended(model)?;
                self.check_not_denied(|| self.spec(model), &m.artifacts)?;
                if current.is_some_and(|s| s.model == *model) {
                    return Err(StateError::AlreadyActive {
                        spec: self.spec(model),
                        slot: c.slot.clone(),
                    });
                }
            }
            None if current.is_none() => return Err(StateError::SlotNotSet(c.slot.clone())),
            None => {}
        }
        Ok(())
    }

    /// Applies a slot change (entry `id`) that [`State::check_slot`] passed.
    pub(super) fn apply_slot(&mut self, id: ObjectId, c: &SlotChange) {
        match &c.model {
            Some(model) => {
                self.slots.insert(
                    c.slot.clone(),
                    SlotState {
                        entry: id,
                        model: *model,
                    },
                );
            }
            None => {
                self.slots.remove(&c.slot);
            }
        }
    }
}
