//! `reg promote`, `reg deprecate`, `reg revoke`: signed, reasoned lifecycle moves.

use super::Context;
use super::error::CommandResult;
use super::sign::{Signing, TransitionEntry};
use reg::format::lifecycle::LifecycleState;
use reg::ops::lifecycle::{SlotPlan, transition};

/// Arguments shared by promote and deprecate.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model: name@version, a record id, or a unique id prefix
    model: String,
    #[command(flatten)]
    sign: Signing<TransitionEntry>,
}

/// Arguments of revoke.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    common: Args,
    /// If the model is active in slots, clear them in the same signed action
    #[arg(long, conflicts_with = "replace")]
    deactivate: bool,
    /// If the model is active in slots, hand them to this PROMOTED model in the same action
    #[arg(long, value_name = "MODEL")]
    replace: Option<String>,
}

/// Runs a transition to `to`.
pub fn run(ctx: &Context, args: Args, to: LifecycleState, plan: SlotPlan) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let done = transition(&reg, &key, &args.model, to, args.sign.reason(), plan)?;
    let spec = &done.spec;
    outln!(
        "{spec}: {} -> {} (ledger entry {} {})",
        done.from,
        done.to,
        done.seq,
        done.entry
    );
    for h in &done.slots {
        match &h.replacement {
            Some(r) => outln!("slot {}: now {r}", h.slot),
            None => outln!("slot {}: deactivated", h.slot),
        }
    }
    if to == LifecycleState::Deprecated {
        // A deprecation leaves slots as they were.
        for slot in &done.still_active {
            errln!(
                "warning: {spec} stays the active model of slot `{slot}` until it is replaced (`reg activate {slot} MODEL`)"
            );
        }
    }
    Ok(())
}

/// `reg revoke`.
pub fn revoke(ctx: &Context, args: RevokeArgs) -> CommandResult {
    let plan = match (args.deactivate, args.replace) {
        (true, _) => SlotPlan::Deactivate,
        (false, Some(m)) => SlotPlan::Replace(m),
        (false, None) => SlotPlan::Unspecified,
    };
    run(ctx, args.common, LifecycleState::Revoked, plan)
}
