//! `reg gc` and `reg purge`: removing bytes, never history.

use super::{Context, load_key};
use std::path::PathBuf;

/// Remove objects no ledger entry reaches, staging leftovers and purged bytes; rewrite refs
#[derive(Debug, clap::Args)]
pub struct GcArgs {}

/// Destroy a REVOKED model's artifact bytes (its record and history stay); signed, in the ledger
#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    /// The model: name@version, a record id, or a unique id prefix
    model: String,
    /// Why (recorded in the ledger; required)
    #[arg(long)]
    reason: String,
    /// The operator's private key, which signs the purge
    #[arg(long, value_name = "OPERATOR.pem")]
    key: PathBuf,
}

pub fn gc(ctx: &Context, _args: GcArgs) -> anyhow::Result<()> {
    let reg = ctx.open()?;
    let done = reg::ops::gc::gc(&reg)?;
    for (id, size) in &done.objects {
        outln!("removed object {id} ({size} bytes)");
    }
    for p in &done.staging {
        outln!("removed staging leftover {}", p.display());
    }
    for p in &done.refs {
        outln!("rewrote ref {}", p.display());
    }
    let bytes: u64 = done.objects.iter().map(|(_, n)| n).sum();
    outln!(
        "gc: {} object(s) ({bytes} bytes), {} staging file(s), {} ref(s)",
        done.objects.len(),
        done.staging.len(),
        done.refs.len()
    );
    Ok(())
}

pub fn purge(ctx: &Context, args: PurgeArgs) -> anyhow::Result<()> {
    let key = load_key(&args.key)?;
    let reg = ctx.open()?;
    let (done, freed) = reg::ops::gc::purge(&reg, &key, &args.model, &args.reason)?;
    let reg::format::entry::Body::Purge(p) = &done.entry.body else {
        anyhow::bail!("the committed entry {} is not a purge", done.id);
    };
    outln!(
        "purged {}: {} artifact object(s), {freed} bytes deleted (ledger entry {} {})",
        done.state.spec(&p.model),
        p.blobs.len(),
        done.seq,
        done.id
    );
    Ok(())
}
