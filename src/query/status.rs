//! `reg status`: every set slot and its active model, and whether the gate still allows it.

use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::query::revoked::{RevokedKey, revoked_keys};
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{State, StateError, Suspension};
use serde::Serialize;

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
    pub actor: Fingerprint,
    /// Why its model is suspended, if it is (FORMAT.md §5.14): the gate denies what the slot
    /// names until the model is re-approved or the slot gets another.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended: Option<Suspension>,
    /// The revoked keys its model rests on, and which way each was revoked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked_keys: Vec<RevokedKey>,
    /// Why the gate denies its model beyond its state: denied bytes, or out of policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
}

/// Every set slot with its active model, sorted by slot (one entry read per slot).
pub fn status(reg: &Registry, state: &State) -> Result<Vec<SlotView>, RegistryError> {
    let mut out = Vec::with_capacity(state.slots().len());
    for (slot, s) in state.slots() {
        let m = state
            .models()
            .get(&s.model)
            .ok_or(StateError::UnknownModel(s.model))?;
        let entry = crate::repo::ledger::read_entry(reg.store(), &s.entry).map_err(|e| {
            RegistryError::corrupt_object(reg.store(), &s.entry, format!("entry {}: {e}", s.entry))
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
            suspended: m.suspended.clone(),
            revoked_keys: revoked_keys(reg, state, &s.model, m)?,
            blocked: super::standing::blocked(reg, state, &s.model, m)?,
        });
    }
    Ok(out)
}
