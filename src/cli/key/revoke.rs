//! `reg key revoke`: a root key revokes a key, for good.

use super::super::Context;
use super::super::error::CommandResult;
use super::super::sign::{RootEntry, Signing};
use reg::crypto::keys::Fingerprint;

/// Revoke a key: its signatures made after this entry are invalid; signed by a root key
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fingerprint of the key to revoke (`reg key list` shows them)
    fingerprint: Fingerprint,
    #[command(flatten)]
    sign: Signing<RootEntry>,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let done = reg::ops::keys::revoke(&reg, &key, &args.fingerprint, args.sign.reason())?;
    outln!(
        "revoked {} (ledger entry {} {})",
        done.fingerprint,
        done.seq,
        done.entry
    );
    Ok(())
}
