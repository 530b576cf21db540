//! `reg key revoke`: a root key revokes a key, for good.

use super::super::{Context, load_key};
use reg::crypto::keys::Fingerprint;
use reg::format::entry::{Body, KeyRevoke};
use std::path::PathBuf;

/// Revoke a key: its signatures made after this entry are invalid; signed by a root key
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fingerprint of the key to revoke (`reg key list` shows them)
    fingerprint: Fingerprint,
    /// A root private key of the registry, which signs the entry
    #[arg(long, value_name = "ROOT.pem")]
    key: PathBuf,
    /// Why (recorded in the ledger)
    #[arg(long)]
    reason: String,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let key = load_key(&args.key)?;
    let reg = ctx.open()?;
    let done = reg.commit(
        &key,
        Body::KeyRevoke(KeyRevoke {
            fingerprint: args.fingerprint.clone(),
            reason: args.reason,
        }),
    )?;
    outln!(
        "revoked {} (ledger entry {} {})",
        args.fingerprint,
        done.seq,
        done.id
    );
    Ok(())
}
