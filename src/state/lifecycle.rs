//! The rules of transitions and slot changes (FORMAT.md §5.7, §5.8), applied to the derived
//! state.

use super::{SlotState, State, StateError};
use crate::format::entry::{SlotChange, Transition};
use crate::format::id::ObjectId;
use crate::format::lifecycle::{LifecycleState, allowed, verb};
use crate::format::names;

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
