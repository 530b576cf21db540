//! `reg key list`: the keys the registry trusts, their roles and status.

use super::super::Context;
use super::super::error::CommandResult;

/// List the registry's keys with their roles and status
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let state = ctx.open()?.state()?;
    // In the order they were trusted: fingerprints carry no order a person cares about.
    let mut keys: Vec<_> = state.keys().iter().collect();
    keys.sort_by_key(|(fp, k)| (k.since, (*fp).clone()));
    if args.json {
        let keys: Vec<serde_json::Value> = keys
            .iter()
            .map(|(fp, k)| {
                let mut v = serde_json::json!({
                    "fingerprint": fp,
                    "roles": k.roles,
                    "since": k.since,
                    "status": if k.revoked.is_some() { "revoked" } else { "trusted" },
                });
                if let Some(at) = k.revoked {
                    v["revoked"] = at.into();
                    v["revocation"] = revocation(k).into();
                }
                v
            })
            .collect();
        jsonln!(&keys);
        return Ok(());
    }
    outln!(
        "{:<32}  {:<26}  {:<8}  STATUS",
        "FINGERPRINT",
        "ROLES",
        "SINCE"
    );
    for (fp, k) in keys {
        let roles: Vec<&str> = k.roles.iter().map(|r| r.name()).collect();
        let status = match k.revoked {
            Some(at) => format!("revoked at entry {at}, {}", revocation(k)),
            None => "trusted".to_string(),
        };
        outln!(
            "{fp:<32}  {:<26}  {:<8}  {status}",
            roles.join(","),
            k.since
        );
    }
    Ok(())
}

/// Which way a revoked key was revoked (FORMAT.md §5.3): every revocation before format 4 is a
/// retirement.
fn revocation(k: &reg::state::KeyState) -> &'static str {
    reg::format::revocation::RevocationKind::of(k.compromised).name()
}
