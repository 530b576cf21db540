//! `reg promote`, `reg deprecate`, `reg revoke`: signed, reasoned lifecycle moves; a revocation
//! may also deny the model's bytes (`--deny-bytes`, FORMAT.md §5.15).

use super::sign::TransitionEntry;
use crate::cli::prelude::*;
use reg::format::lifecycle::LifecycleState;
use reg::ops::lifecycle::{self, SlotPlan, Transitioned, transition};

/// Arguments shared by promote and deprecate.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model: name@version, a record id, or a unique id prefix
    model: String,
    #[command(flatten)]
    sign: Signing<TransitionEntry>,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
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
    /// Also deny the model's bytes: no model, under any name, may hold its artifact hashes
    /// until a root key lifts the denial (`reg deny lift`)
    #[arg(long)]
    deny_bytes: bool,
}

/// Runs a transition to `to`.
pub fn run(ctx: &Context, args: Args, to: LifecycleState, plan: SlotPlan) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let done = transition(&reg, &key, &args.model, to, args.sign.reason(), plan)?;
    print(&done, args.json)
}

/// Prints what a transition did.
fn print(done: &Transitioned, json: bool) -> CommandResult {
    let spec = &done.spec;
    if json {
        warn_still_active(done);
        return Written::transition(done).print();
    }
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
    if let Some(d) = done.denied.clone() {
        super::deny::print_denied(d)?;
    }
    warn_still_active(done);
    Ok(())
}

/// Warns that a deprecated model stays active: a deprecation leaves slots as they were.
fn warn_still_active(done: &Transitioned) {
    if done.to == LifecycleState::Deprecated {
        for slot in &done.still_active {
            errln!(
                "warning: {} stays the active model of slot `{slot}` until it is replaced (`reg activate {slot} MODEL`)",
                done.spec
            );
        }
    }
}

/// `reg revoke`.
pub fn revoke(ctx: &Context, args: RevokeArgs) -> CommandResult {
    let plan = match (args.deactivate, args.replace) {
        (true, _) => SlotPlan::Deactivate,
        (false, Some(m)) => SlotPlan::Replace(m),
        (false, None) => SlotPlan::Unspecified,
    };
    let key = args.common.sign.load()?;
    let reg = ctx.open()?;
    let reason = args.common.sign.reason();
    let done = lifecycle::revoke(
        &reg,
        &key,
        &args.common.model,
        reason,
        plan,
        args.deny_bytes,
    )?;
    print(&done, args.common.json)
}
