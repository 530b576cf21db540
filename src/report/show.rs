//! `reg show --json` (`schema/model-record.schema.json`): one model's full record, verified,
//! with its state, admission, slots, drift summary and complete history (which replays the
//! whole ledger), and whether the registry is pinned here.

use super::{Pinned, ReportError, Target};
use crate::format::id::ObjectId;
use crate::query::record::{RecordView, view};
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{ModelState, State};

/// The record of the model `target` names.
pub fn show(reg: &Registry, target: &Target) -> Result<Pinned<RecordView>, ReportError> {
    // One committed state for the name resolved, the record and its history.
    let _reading = reg.read_lock()?;
    let state = reg.state()?;
    let (id, model) = target.resolve(&state)?;
    Ok(record(reg, &state, &id, model)?)
}

/// The record of model `id` (`model`) of `state`: [`show`] once the model is resolved, for a
/// caller that resolves it itself (the command line lists a bare name's versions first) and
/// holds the read lock for one committed state.
pub fn record(
    reg: &Registry,
    state: &State,
    id: &ObjectId,
    model: &ModelState,
) -> Result<Pinned<RecordView>, RegistryError> {
    Ok(Pinned::new(view(reg, state, id, model)?, reg.pin()))
}
