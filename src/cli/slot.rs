//! `reg activate`, `reg deactivate`: the active model of a slot (the consumers' control plane).

use super::{Context, load_key};
use reg::ops::lifecycle::set_slot;
use std::path::PathBuf;

/// Make a PROMOTED model the active model of a slot
#[derive(Debug, clap::Args)]
pub struct ActivateArgs {
    /// The slot: the consumers' name for a job, e.g. ransomware-classifier
    slot: String,
    /// The model: name@version, a record id, or a unique id prefix
    model: String,
    /// Why (recorded in the ledger; required)
    #[arg(long)]
    reason: String,
    /// The operator's private key, which signs the change
    #[arg(long, value_name = "OPERATOR.pem")]
    key: PathBuf,
}

/// Clear a slot: no model is active in it any more
#[derive(Debug, clap::Args)]
pub struct DeactivateArgs {
    /// The slot
    slot: String,
    /// Why (recorded in the ledger; required)
    #[arg(long)]
    reason: String,
    /// The operator's private key, which signs the change
    #[arg(long, value_name = "OPERATOR.pem")]
    key: PathBuf,
}

pub fn activate(ctx: &Context, args: ActivateArgs) -> anyhow::Result<()> {
    let key = load_key(&args.key)?;
    let reg = ctx.open()?;
    let done = set_slot(&reg, &key, &args.slot, Some(&args.model), &args.reason)?;
    let slot = &done.state.slots[&args.slot];
    outln!(
        "slot {}: {} (ledger entry {} {})",
        args.slot,
        done.state.spec(&slot.model),
        done.seq,
        done.id
    );
    Ok(())
}

pub fn deactivate(ctx: &Context, args: DeactivateArgs) -> anyhow::Result<()> {
    let key = load_key(&args.key)?;
    let reg = ctx.open()?;
    let done = set_slot(&reg, &key, &args.slot, None, &args.reason)?;
    outln!(
        "slot {}: deactivated (ledger entry {} {})",
        args.slot,
        done.seq,
        done.id
    );
    Ok(())
}
