//! `reg list --json` (`schema/model-list.schema.json`): the registered models a filter keeps
//! (`query::list::Filter`), by name and then by semantic version, with what the gate would say
//! beyond their state: suspended, resting on revoked keys, or blocked (FORMAT.md §5.14).

use super::{Pinned, ReportError};
use crate::format::lifecycle::LifecycleState;
use crate::query::list::Filter;
use crate::query::revoked::{RevokedKey, revoked_keys};
use crate::repo::registry::Registry;
use crate::state::Suspension;
use serde::Serialize;

/// One model of the list.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    /// Its record id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its lifecycle state.
    pub state: LifecycleState,
    /// Why it is suspended, if it is (FORMAT.md §5.14).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended: Option<Suspension>,
    /// The revoked keys it rests on, and which way each was revoked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked_keys: Vec<RevokedKey>,
    /// Why the gate denies it beyond its state: denied bytes, or out of policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
}

/// The models `filter` keeps, in version order, each with the `trust` member.
pub fn models(reg: &Registry, filter: &Filter) -> Result<Vec<Pinned<ModelRow>>, ReportError> {
    let state = reg.state()?;
    let mut rows: Vec<ModelRow> = Vec::new();
    for (id, m) in state.models() {
        if !filter.keeps(reg, id, m)? {
            continue;
        }
        rows.push(ModelRow {
            id: id.to_string(),
            name: m.name.clone(),
            version: m.version.clone(),
            state: m.state,
            suspended: m.suspended.clone(),
            revoked_keys: revoked_keys(reg, &state, id, m)?,
            blocked: crate::query::standing::blocked(reg, &state, id, m)?,
        });
    }
    rows.sort_by(|a, b| {
        crate::format::version::compare_specs(
            (a.name.as_str(), a.version.as_str()),
            (b.name.as_str(), b.version.as_str()),
        )
    });
    Ok(Pinned::each(rows, reg.pin()))
}
