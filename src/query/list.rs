//! `reg list`'s filters (GUIDE §4.1): which models a listing keeps, and the order it lists them
//! in (by name, then by semantic version, [`crate::format::version`]).
//!
//! Every filter given must match (as `--label` does for each label given); a filter on what
//! only the record says (type, uses, labels, publisher) reads the record, once per model.

use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::repo::records::read_record;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::ModelState;

/// The model types a record may have (FORMAT.md §7.1, `type`).
pub const MODEL_TYPES: [&str; 4] = ["ML", "DL", "LLM", "ruleset"];

/// What a listing keeps; an empty filter keeps every model.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only models in one of these states (any state when empty).
    pub states: Vec<LifecycleState>,
    /// Only models with this name.
    pub name: Option<String>,
    /// Only models of this type, one of [`MODEL_TYPES`] in any case.
    pub model_type: Option<String>,
    /// Only models whose intended uses include each of these.
    pub uses: Vec<String>,
    /// Only models with each of these labels, key and value.
    pub labels: Vec<(String, String)>,
    /// Only models signed by a publisher whose fingerprint starts with this (any case).
    pub publisher: Option<String>,
}

impl Filter {
    /// Whether the filter asks something only the record says.
    fn reads_record(&self) -> bool {
        self.model_type.is_some()
            || !self.uses.is_empty()
            || !self.labels.is_empty()
            || self.publisher.is_some()
    }

    /// Whether the listing keeps model `id`.
    pub fn keeps(
        &self,
        reg: &Registry,
        id: &ObjectId,
        m: &ModelState,
    ) -> Result<bool, RegistryError> {
        if !self.states.is_empty() && !self.states.contains(&m.state) {
            return Ok(false);
        }
        if self.name.as_ref().is_some_and(|n| *n != m.name) {
            return Ok(false);
        }
        if !self.reads_record() {
            return Ok(true);
        }
        let r = read_record(reg.store(), id)?.manifest;
        let publisher = r.publisher.to_string();
        Ok(self
            .model_type
            .as_ref()
            .is_none_or(|t| t.eq_ignore_ascii_case(&r.model_type))
            && self.uses.iter().all(|u| r.uses.contains(u))
            && self
                .labels
                .iter()
                .all(|(k, v)| r.labels.get(k).is_some_and(|have| have == v))
            && self
                .publisher
                .as_ref()
                .is_none_or(|p| publisher.starts_with(&p.to_ascii_lowercase())))
    }
}

/// The model type `given` names, in its spelling in records ([`MODEL_TYPES`]), any case.
pub fn model_type(given: &str) -> Option<&'static str> {
    MODEL_TYPES
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(given))
}
