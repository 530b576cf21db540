//! `reg activate`, `reg deactivate`: the active model of a slot (the consumers' control plane).

use super::sign::SlotEntry;
use crate::cli::prelude::*;
use reg::ops::lifecycle;

/// Make a PROMOTED model the active model of a slot
#[derive(Debug, clap::Args)]
pub struct ActivateArgs {
    /// The slot: the consumers' name for a job, e.g. ransomware-classifier
    slot: String,
    /// The model: name@version, a record id, or a unique id prefix
    model: String,
    #[command(flatten)]
    sign: Signing<SlotEntry>,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

/// Clear a slot: no model is active in it any more
#[derive(Debug, clap::Args)]
pub struct DeactivateArgs {
    /// The slot
    slot: String,
    #[command(flatten)]
    sign: Signing<SlotEntry>,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn activate(ctx: &Context, args: ActivateArgs) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let done = lifecycle::activate(&reg, &key, &args.slot, &args.model, args.sign.reason())?;
    let change = &done.change;
    if args.json {
        return Written::activated(&done).print();
    }
    outln!(
        "slot {}: {} (ledger entry {} {})",
        change.slot,
        done.model,
        change.seq,
        change.entry
    );
    Ok(())
}

pub fn deactivate(ctx: &Context, args: DeactivateArgs) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let done = lifecycle::deactivate(&reg, &key, &args.slot, args.sign.reason())?;
    if args.json {
        return Written::deactivated(&done).print();
    }
    outln!(
        "slot {}: deactivated (ledger entry {} {})",
        done.slot,
        done.seq,
        done.entry
    );
    Ok(())
}
