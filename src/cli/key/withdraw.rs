//! `reg key withdraw`: a root key takes one role from a key, which keeps its others.

use super::trust::RoleArg;
use crate::cli::prelude::*;
use crate::cli::sign::RootEntry;
use reg::crypto::keys::Fingerprint;
use reg::format::entry::Role;

/// Withdraw one role from a key, which stays trusted with its others (revoke it to end them
/// all); signed by a root key
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fingerprint of the key (`reg key list` shows them and their roles)
    fingerprint: Fingerprint,
    /// The role to withdraw
    #[arg(long, value_enum)]
    role: RoleArg,
    #[command(flatten)]
    sign: Signing<RootEntry>,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let done = reg::ops::keys::withdraw(
        &reg,
        &key,
        &args.fingerprint,
        Role::from(args.role),
        args.sign.reason(),
    )?;
    if args.json {
        return Written::new("key-withdraw", Some((&done.entry, done.seq)))
            .with(
                "key",
                serde_json::json!({
                    "fingerprint": done.fingerprint.to_string(),
                    "role": done.role,
                    "roles": done.roles,
                }),
            )
            .print();
    }
    let kept: Vec<&str> = done.roles.iter().map(|r| r.name()).collect();
    outln!(
        "withdrew {} from {}, which keeps {} (ledger entry {} {})",
        done.role,
        done.fingerprint,
        kept.join(", "),
        done.seq,
        done.entry
    );
    Ok(())
}
