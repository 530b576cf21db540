//! `reg renew`: re-sign the checkpoint with the current time, for the same head.

use super::Context;
use super::error::CommandResult;
use super::sign::{Checkpoint, Signing};

/// Re-sign the checkpoint now, for the same head: what makes a registry whose checkpoint
/// expired under its policy (`reg policy set --checkpoint-max-age DAYS`) readable again
///
/// Only the key that signed the last entry may sign its checkpoint; any write re-signs it too.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    sign: Signing<Checkpoint>,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let cp = reg.renew(&key)?;
    outln!(
        "checkpoint re-signed at {} for entry {} ({})",
        cp.time,
        cp.seq,
        cp.head
    );
    Ok(())
}
