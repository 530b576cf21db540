//! `reg renew`: a timestamp key renews the registry's freshness (FORMAT.md §6.1).

use super::sign::RenewEntry;
use crate::cli::prelude::*;

/// Renew the registry's freshness now: a `renew` entry signed by a key the root trusts as
/// `timestamp`, what makes a registry expired under its policy
/// (`reg policy set --checkpoint-max-age DAYS`) readable again
///
/// No other write renews it, and an expired registry takes no other write but the root's.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    sign: Signing<RenewEntry>,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let done = reg.renew(&key)?;
    if args.json {
        return super::written::Written::new("renew", Some((&done.id, done.seq)))
            .with("time", &done.entry.header.time)
            .with("actor", done.entry.header.actor.to_string())
            .print();
    }
    outln!(
        "renewed at {} by {} (entry {}, {})",
        done.entry.header.time,
        done.entry.header.actor,
        done.seq,
        done.id
    );
    Ok(())
}
