//! `reg drift list --json` (`schema/drift-list.schema.json`): a model's drift observations,
//! oldest first, or every model's in ledger order, as signed (reg computes nothing from them).

use super::{InputError, ReportError, Target};
use crate::format::id::ObjectId;
use crate::query::drift::ObservationView;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{ModelState, State};

/// Which of a model's observations to list; the default lists them all.
#[derive(Debug, Clone, Default)]
pub struct DriftQuery {
    /// Only observations whose window ends at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Only observations with a metric of this name.
    pub metric: Option<String>,
}

/// Refuses a `since` that is not an RFC 3339 time: a typo would otherwise be an empty answer.
/// Public so that the command line checks it before it opens the registry, as it always has.
pub fn check_since(since: Option<&str>) -> Result<(), InputError> {
    match since {
        Some(s) if crate::util::encoding::parse_rfc3339(s).is_none() => Err(InputError::Since {
            given: s.to_string(),
        }),
        _ => Ok(()),
    }
}

/// The observations of the model `target` names that `query` keeps, oldest first.
pub fn drift(
    reg: &Registry,
    target: &Target,
    query: &DriftQuery,
) -> Result<Vec<ObservationView>, ReportError> {
    check_since(query.since.as_deref())?;
    let state = reg.state()?;
    let (id, model) = target.resolve(&state)?;
    Ok(observations(reg, &state, &id, model, query)?)
}

/// [`drift`] once the model is resolved (the command line names it when there is none).
pub fn observations(
    reg: &Registry,
    state: &State,
    id: &ObjectId,
    model: &ModelState,
    query: &DriftQuery,
) -> Result<Vec<ObservationView>, RegistryError> {
    crate::query::drift::list(
        reg,
        state,
        id,
        model,
        query.since.as_deref(),
        query.metric.as_deref(),
    )
}

/// Every observation of every model, in ledger order (`reg drift list --all --json`).
pub fn drift_all(reg: &Registry) -> Result<Vec<ObservationView>, ReportError> {
    let state = reg.state()?;
    let mut all = Vec::new();
    for (id, m) in state.models().iter().filter(|(_, m)| m.drift.is_some()) {
        all.extend(crate::query::drift::list(reg, &state, id, m, None, None)?);
    }
    all.sort_by_key(|o| o.seq);
    Ok(all)
}
