//! `reg key list`: the keys the registry trusts, their names, roles and status, and since when
//! and why each is trusted.

use crate::cli::prelude::*;
use reg::query::keys::KeyView;

/// List the registry's keys: name, roles, status, since when and why each is trusted
///
/// Reads the whole ledger for the times, reasons and withdrawn roles (one object read an entry).
///
/// Example: reg key list --json
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table (schema/key-list.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let reg = ctx.open()?;
    // One committed state for the keys and the ledger walked back from its head.
    let _reading = reg.read_lock()?;
    let state = reg.state()?;
    let keys = reg::query::keys::list(&reg, &state)?;
    if args.json {
        jsonln!(&keys);
        return Ok(());
    }
    outln!(
        "{:<32}  {:<26}  {:<8}  STATUS",
        "FINGERPRINT",
        "ROLES",
        "SINCE"
    );
    for k in &keys {
        print_key(k)?;
    }
    Ok(())
}

/// One key: its row, then its name, when and why it was trusted and the roles withdrawn from
/// it, each on a line of its own (free text, which a column would cut or misalign).
fn print_key(k: &KeyView) -> CommandResult {
    let roles: Vec<&str> = k.roles.iter().map(|r| r.name()).collect();
    outln!(
        "{:<32}  {:<26}  {:<8}  {}",
        k.fingerprint,
        roles.join(","),
        k.since,
        status(k)
    );
    if let Some(name) = &k.name {
        outln!("    name:      {name}");
    }
    outln!("    trusted:   entry {} at {}", k.since, k.since_time);
    match &k.reason {
        Some(reason) => outln!("    reason:    {reason}"),
        None => outln!("    reason:    (genesis: the registry's first root key)"),
    }
    if !k.withdrawn.is_empty() {
        let w: Vec<&str> = k.withdrawn.iter().map(|r| r.name()).collect();
        outln!("    withdrawn: {}", w.join(", "));
    }
    Ok(())
}

/// `trusted`, or when and which way the key was revoked (FORMAT.md §5.3): every revocation
/// before format 4 is a retirement.
fn status(k: &KeyView) -> String {
    match (k.revoked, k.revocation) {
        (Some(at), Some(how)) => format!("revoked at entry {at}, {}", how.name()),
        _ => "trusted".to_string(),
    }
}
