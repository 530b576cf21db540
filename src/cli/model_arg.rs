//! The model a command acts on, the same on every command that names one: `MODEL`, any spec
//! the one resolver takes (`reg::state::resolve`: name@version, name@latest, a name with one
//! version, a record id or prefix), or `--slot SLOT`, the slot's active model (GUIDE §4.1).

use crate::cli::prelude::*;
use reg::format::id::ObjectId;
use reg::report::Target;
use reg::state::resolve::{ResolveError, versions};
use reg::state::{ModelState, State};

/// `MODEL` or `--slot SLOT`, exactly one.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct ModelArg {
    /// The model: name@version, name@latest (its highest release), a name that has one version,
    /// a record id, or a unique id prefix
    #[arg(value_name = "MODEL")]
    model: Option<String>,
    /// Instead of MODEL: the model active in this slot
    #[arg(long, value_name = "SLOT")]
    slot: Option<String>,
}

impl ModelArg {
    /// The record id and state of the model named.
    pub fn resolve<'s>(
        &self,
        state: &'s State,
    ) -> Result<(ObjectId, &'s ModelState), ResolveError> {
        match self.target() {
            Some(target) => target.resolve(state),
            // clap requires one of them.
            None => Err(ResolveError::NotFound(String::new())),
        }
    }

    /// The model named, as the library names it (`reg::report::Target`): one resolver for the
    /// command line and every other caller.
    pub fn target(&self) -> Option<Target> {
        match (&self.slot, &self.model) {
            (Some(slot), _) => Some(Target::Slot(slot.clone())),
            (None, Some(spec)) => Some(Target::Spec(spec.clone())),
            (None, None) => None,
        }
    }
}

/// For a bare name with several versions, prints them on stdout, one a line in version order
/// with its state and slots, before the error (exit 2) says how to pick one: what `reg show
/// NAME` shows instead of a record.
pub fn print_versions(state: &State, e: &ResolveError) -> CommandResult {
    let ResolveError::Versions { name, .. } = e else {
        return Ok(());
    };
    for (id, m) in versions(state, name) {
        let slots = state.slots_of(&id);
        let slots = if slots.is_empty() {
            String::new()
        } else {
            format!("  slot {}", slots.join(", "))
        };
        outln!(
            "{:<40}  {:<10}  {}{slots}",
            format!("{}@{}", m.name, m.version),
            m.state.name(),
            &id.to_string()[..16]
        );
    }
    Ok(())
}
