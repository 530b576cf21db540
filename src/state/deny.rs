//! The deny list (FORMAT.md §5.15): artifact hashes no model may hold.
//!
//! Revoking a model stops the gate allowing it; purging destroys its bytes here. Neither stops
//! the same bytes coming back packed under another name. A revocation or a purge can therefore
//! deny the hashes themselves: from then on no `add` may list them, no model holding them is
//! promoted or made active, and the gate denies them whatever claims them, until a root key
//! lifts the denial with a signed, reasoned `deny-lift`. It holds in every format (a state
//! without denials serializes as before).

use super::{Denial, State, StateError};
use crate::format::entry::DenyLift;
use crate::format::id::ObjectId;

impl State {
    /// The denied hashes among `artifacts` (sorted, as models and entries hold them).
    pub fn denied_among<'a>(
        &'a self,
        artifacts: &'a [ObjectId],
    ) -> impl Iterator<Item = (&'a ObjectId, &'a Denial)> + 'a {
        artifacts
            .iter()
            .filter_map(|a| self.denied.get_key_value(a))
    }

    /// Refuses `artifacts` of model `spec` if any is denied (a writer asks before it stages a
    /// bundle's bytes; replay asks of every add, promotion and activation).
    pub fn check_not_denied(
        &self,
        spec: impl FnOnce() -> String,
        artifacts: &[ObjectId],
    ) -> Result<(), StateError> {
        let mut hits = self.denied_among(artifacts);
        let Some((first, denial)) = hits.next() else {
            return Ok(());
        };
        Err(StateError::DeniedBytes {
            spec: spec(),
            count: 1 + hits.count(),
            first: *first,
            at: denial.seq,
        })
    }

    /// Denies every artifact of `model` at entry `seq`; a hash denied already keeps its first
    /// denial.
    pub(super) fn deny_model(&mut self, seq: u64, model: &ObjectId) {
        let Some(m) = self.models.get(model) else {
            return;
        };
        for a in &m.artifacts {
            self.denied
                .entry(*a)
                .or_insert(Denial { model: *model, seq });
        }
    }

    /// The rule of a deny-lift (FORMAT.md §5.15): hashes sorted, unique, at least one, each
    /// denied now.
    pub fn check_deny_lift(&self, l: &DenyLift) -> Result<(), StateError> {
        if l.artifacts.is_empty() || l.artifacts.windows(2).any(|w| w[0] >= w[1]) {
            return Err(StateError::DenyLiftList);
        }
        match l.artifacts.iter().find(|a| !self.denied.contains_key(a)) {
            Some(a) => Err(StateError::NotDenied(*a)),
            None => Ok(()),
        }
    }

    /// Applies a deny-lift that [`State::check_deny_lift`] passed.
    pub(super) fn apply_deny_lift(&mut self, l: &DenyLift) {
        for a in &l.artifacts {
            self.denied.remove(a);
        }
    }
}
