//! The model a report or a write is about, named as every command names one (GUIDE §4.1): a
//! spec (`name@version`, `name@latest`, a name with one version, a record id or a unique
//! prefix) or a slot (its active model). One resolver, so that the command line's `MODEL` /
//! `--slot SLOT` and a library caller's arguments find the same model.

use crate::format::id::ObjectId;
use crate::state::resolve::{ResolveError, resolve, resolve_slot};
use crate::state::{ModelState, State};

/// A model named by a spec or by the slot it is active in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Any spec `state::resolve` takes.
    Spec(String),
    /// The model active in this slot now.
    Slot(String),
}

impl Target {
    /// The record id and state of the model named, in `state`.
    pub fn resolve<'s>(
        &self,
        state: &'s State,
    ) -> Result<(ObjectId, &'s ModelState), ResolveError> {
        match self {
            Target::Spec(spec) => resolve(state, spec),
            Target::Slot(slot) => resolve_slot(state, slot),
        }
    }

    /// The spec a write should be given: a spec as it is; a slot as the record id of the model
    /// active in it now, so that the entry is about that model whatever the slot holds later.
    pub fn spec(&self, state: &State) -> Result<String, ResolveError> {
        match self {
            Target::Spec(spec) => Ok(spec.clone()),
            Target::Slot(slot) => Ok(resolve_slot(state, slot)?.0.to_string()),
        }
    }
}
