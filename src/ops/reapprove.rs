//! Re-approving a suspended model (FORMAT.md §5.14): an operator states, signed and with a
//! reason, that a model resting on a key revoked as compromised was checked, and it may be
//! promoted, made active and loaded again.
//!
//! The rule is the state's ([`crate::state::State::check_reapprove`]): the model is suspended
//! and not revoked, and the entry follows its latest lifecycle entry. Names resolve under the
//! writer lock, so `previous` is always the model's latest entry when the writer commits.

use crate::crypto::keys::SecretKey;
use crate::format::entry::{Body, Reapprove};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::Suspension;
use crate::state::resolve::{ResolveError, resolve};

/// Why a model was not re-approved.
#[derive(Debug, thiserror::Error)]
pub enum ReapproveError {
    /// The model name did not resolve.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The registry refused: the model is not suspended or is revoked
    /// ([`crate::state::StateError::NotSuspended`]), the signer's authority, duties kept apart,
    /// the lock, I/O.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// What a re-approval did.
#[derive(Debug, Clone)]
pub struct Reapproved {
    /// The `reapprove` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The model's record id.
    pub model: ObjectId,
    /// Its `name@version`.
    pub spec: String,
    /// Its lifecycle state, which a re-approval keeps.
    pub state: LifecycleState,
    /// The suspension lifted: the compromised key and its revocation.
    pub lifted: Suspension,
    /// The slots it is the active model of, sorted: the gate allows what they name again.
    pub slots: Vec<String>,
}

/// Re-approves the suspended model `spec`, signed by the operator `key`, with `reason` (what
/// was checked).
pub fn reapprove(
    reg: &Registry,
    key: &SecretKey,
    spec: &str,
    reason: &str,
) -> Result<Reapproved, ReapproveError> {
    let tx = reg.begin()?;
    let (id, model) = resolve(tx.state(), spec)?;
    let (before, state) = (model.suspended.clone(), model.state);
    let body = Body::Reapprove(Reapprove {
        model: id,
        previous: model.entry,
        reason: reason.to_string(),
    });
    let done = tx.commit(key, body)?;
    let after = &done.state;
    Ok(Reapproved {
        entry: done.id,
        seq: done.seq,
        model: id,
        spec: after.spec(&id),
        state,
        lifted: before.expect("the rule re-approves only a suspended model"),
        slots: after.slots_of(&id),
    })
}
