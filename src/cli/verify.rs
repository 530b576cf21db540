//! `reg verify` and `reg checkout`: a model's stored artifacts, re-hashed or written out.

use super::Context;
use super::error::{CommandError, CommandResult};
use reg::state::resolve::resolve;
use std::path::PathBuf;

/// Re-hash every stored artifact of a model
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The model: name@version, a record id, or a unique id prefix
    model: String,
}

/// Write a model's artifacts to a new directory, verifying every byte as it is copied
#[derive(Debug, clap::Args)]
pub struct CheckoutArgs {
    /// The model (name@version, record id or prefix); or use --slot
    #[arg(required_unless_present = "slot")]
    model: Option<String>,
    /// The active model of this slot
    #[arg(long, conflicts_with = "model")]
    slot: Option<String>,
    /// The directory to create
    #[arg(long, short = 'o', value_name = "DIR")]
    out: PathBuf,
}

pub fn verify(ctx: &Context, args: VerifyArgs) -> CommandResult {
    let reg = ctx.open()?;
    // The state and the bytes it names, of one commit: a purge committed in between would take
    // them.
    let reading = reg.read_lock()?;
    let state = reg.state()?;
    let (id, model) = resolve(&state, &args.model)?;
    let files = reg::ops::checkout::verify(&reg, &id, model)?;
    drop(reading);
    let bytes: u64 = files.iter().map(|(_, n)| n).sum();
    outln!(
        "OK: {}@{}: {} artifact(s), {bytes} bytes, every byte hashes to its BLAKE3",
        model.name,
        model.version,
        files.len()
    );
    Ok(())
}

pub fn checkout(ctx: &Context, args: CheckoutArgs) -> CommandResult {
    let reg = ctx.open()?;
    // As for `verify`.
    let reading = reg.read_lock()?;
    let state = reg.state()?;
    let spec = match (&args.model, &args.slot) {
        (Some(m), _) => m.clone(),
        (None, Some(slot)) => {
            let s = state
                .slots()
                .get(slot)
                .ok_or_else(|| CommandError::usage(format!("slot `{slot}` has no active model")))?;
            s.model.to_string()
        }
        (None, None) => return Err(CommandError::usage("give a model or --slot")),
    };
    let (id, model) = resolve(&state, &spec)?;
    let bytes = reg::ops::checkout::checkout(&reg, &id, model, &args.out)?;
    drop(reading);
    outln!(
        "checked out {}@{} ({bytes} bytes, verified) into {}",
        model.name,
        model.version,
        args.out.display()
    );
    Ok(())
}
