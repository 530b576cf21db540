//! `reg status --json` (`schema/status.schema.json`): each slot with its active model, what
//! consumers will be told to load, each row saying whether the registry is pinned here.

use super::{Pinned, ReportError};
use crate::query::status::SlotView;
use crate::repo::registry::Registry;

/// Every slot and its active model, sorted by slot, each with the `trust` member.
pub fn status(reg: &Registry) -> Result<Vec<Pinned<SlotView>>, ReportError> {
    let state = reg.state()?;
    let slots = crate::query::status::status(reg, &state)?;
    Ok(Pinned::each(slots, reg.pin()))
}
