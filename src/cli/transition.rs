//! `reg promote`, `reg deprecate`, `reg revoke`: signed, reasoned lifecycle moves.

use super::{Context, load_key};
use reg::format::lifecycle::LifecycleState;
use reg::ops::lifecycle::{SlotPlan, transition};
use std::path::PathBuf;

/// Arguments shared by promote and deprecate.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model: name@version, a record id, or a unique id prefix
    model: String,
    /// Why (recorded in the ledger; required)
    #[arg(long)]
    reason: String,
    /// The operator's private key, which signs the transition
    #[arg(long, value_name = "OPERATOR.pem")]
    key: PathBuf,
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
pub fn run(ctx: &Context, args: Args, to: LifecycleState, plan: SlotPlan) -> anyhow::Result<()> {
    let key = load_key(&args.key)?;
    let reg = ctx.open()?;
    let done = transition(&reg, &key, &args.model, to, &args.reason, plan)?;
    let reg::format::entry::Body::Transition(t) = &done.entry.body else {
        anyhow::bail!("the committed entry {} is not a transition", done.id);
    };
    let spec = done.state.spec(&t.model);
    outln!(
        "{spec}: {} -> {} (ledger entry {} {})",
        t.from,
        t.to,
        done.seq,
        done.id
    );
    for e in &t.slots {
        match &e.replacement {
            Some(r) => outln!("slot {}: now {}", e.slot, done.state.spec(r)),
            None => outln!("slot {}: deactivated", e.slot),
        }
    }
    if to == LifecycleState::Deprecated {
        // A deprecation leaves slots as they were.
        for slot in done.state.slots_of(&t.model) {
            errln!(
                "warning: {spec} stays the active model of slot `{slot}` until it is replaced (`reg activate {slot} MODEL`)"
            );
        }
    }
    Ok(())
}

/// `reg revoke`.
pub fn revoke(ctx: &Context, args: RevokeArgs) -> anyhow::Result<()> {
    let plan = match (args.deactivate, args.replace) {
        (true, _) => SlotPlan::Deactivate,
        (false, Some(m)) => SlotPlan::Replace(m),
        (false, None) => SlotPlan::Unspecified,
    };
    run(ctx, args.common, LifecycleState::Revoked, plan)
}
