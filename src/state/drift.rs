//! Drift observations (FORMAT.md §5.9): a chain of signed observations per model.

use super::{DriftState, State, StateError};
use crate::format::entry::Drift;
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::format::schema::{Schema, violations};

impl State {
    /// The rule of a drift entry (FORMAT.md §5.9): numbers spelled as the registry's format
    /// says, a model that is not REVOKED, following its previous observation, an observation
    /// valid against its schema and naming no other model.
    pub fn check_drift(&self, d: &Drift) -> Result<(), StateError> {
        if d.legacy_numbers && self.format_version >= 2 {
            return Err(StateError::LegacyNumbers);
        }
        let m = self.model(&d.model)?;
        if m.state == LifecycleState::Revoked {
            return Err(StateError::DriftOnRevoked(self.spec(&d.model)));
        }
        if d.previous != m.drift.as_ref().map(|x| x.last) {
            return Err(StateError::StaleDrift(self.spec(&d.model)));
        }
        let value = serde_json::Value::Object(d.observation.clone());
        let problems = violations(Schema::DriftObservation, &value, "observation");
        if !problems.is_empty() {
            return Err(StateError::ObservationInvalid(problems));
        }
        if let Some(named) = d.observation.get("model")
            && named.as_str() != Some(d.model.to_string().as_str())
        {
            return Err(StateError::ObservationModel {
                named: named.to_string(),
                spec: self.spec(&d.model),
            });
        }
        Ok(())
    }

    /// Applies a drift entry (`id`) that [`State::check_drift`] passed.
    pub(super) fn apply_drift(&mut self, id: ObjectId, d: &Drift) {
        if let Some(m) = self.models.get_mut(&d.model) {
            let count = m.drift.as_ref().map_or(0, |x| x.count) + 1;
            m.drift = Some(DriftState { count, last: id });
        }
    }
}
