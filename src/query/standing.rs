//! What keeps a model out of service beyond its lifecycle state, for the listings (`reg list`,
//! `status`, `show`): denied bytes or a policy that refuses one of its formats (FORMAT.md §5.5,
//! §5.15), as the gate and `reg checkout` judge it ([`State::blocked`]). A suspension is shown
//! apart, with the keys it rests on.

use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{Block, ModelState, State};

/// Why model `id` (`m`) is out of service for denied bytes or the policy, in words; `None` for
/// a revoked model (nothing serves it anyway) or a suspended one (said apart). Its record is
/// read only when the policy refuses some format.
pub fn blocked(
    reg: &Registry,
    state: &State,
    id: &ObjectId,
    m: &ModelState,
) -> Result<Option<String>, RegistryError> {
    if m.state == LifecycleState::Revoked || m.suspended.is_some() {
        return Ok(None);
    }
    let manifest = crate::repo::records::policy_manifest(reg.store(), state, id)?;
    Ok(state
        .blocked(m, manifest.as_ref())
        .filter(|(b, _)| *b != Block::Suspended)
        .map(|(_, why)| why))
}
