//! `reg renew`: re-sign the checkpoint with the current time, for the same head.

use super::{Context, load_key};
use std::path::PathBuf;

/// Re-sign the checkpoint now, for the same head: what makes a registry whose checkpoint
/// expired under its policy (`reg policy set --checkpoint-max-age DAYS`) readable again
///
/// Only the key that signed the last entry may sign its checkpoint; any write re-signs it too.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The private key that signed the head entry (`reg log` shows who)
    #[arg(long, value_name = "KEY.pem")]
    key: PathBuf,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let key = load_key(&args.key)?;
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
