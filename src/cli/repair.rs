//! `reg repair --from SRC`: put back damaged objects from a second registry or a transfer file
//! (FORMAT.md §11.13).

use crate::cli::prelude::*;
use reg::ops::repair::{Repaired, SourceKind, repair};
use reg::repo::registry;
use std::path::PathBuf;

/// Restore missing or damaged objects from a second copy of this registry or a transfer file
///
/// Only objects this registry names are restored: its entries, then the records and artifacts
/// its verified ledger reaches. Every byte taken from SRC must hash to the object's id, so SRC
/// need not be trusted; the ledger, checkpoint, config and refs are never changed. Exits 1 when
/// a damaged object could not be repaired.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A copy of this registry (its directory or `.registry`), or a transfer file from
    /// `reg export`
    #[arg(long, value_name = "SRC")]
    from: PathBuf,
    /// Only list what would be restored; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Print what was restored (or would be) as JSON (schema/repair.schema.json); exits 1 as
    /// without it when something is left
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let dot = registry::discover(ctx.registry())?;
    let done = repair(&dot, &ctx.opts, &args.from, args.dry_run)?;
    if let Some((id, root)) = &done.unpinned {
        errln!(
            "note: registry {id} is not pinned on this host; it was checked only against itself \
             (check its root key {root} and its head code with its owner out of band, then \
             `reg trust add FINGERPRINT --head CODE`)"
        );
    }
    if args.json {
        jsonln!(&to_json(&done, &args.from));
        done.finish()?;
        return Ok(());
    }
    let verb = if done.dry_run {
        "would restore"
    } else {
        "restored"
    };
    for d in &done.restored {
        outln!(
            "{verb} {} {} (was {})",
            d.kind.name(),
            d.id,
            d.damage.name()
        );
    }
    for u in &done.unrepaired {
        let d = &u.object;
        outln!(
            "not repaired: {} {} ({}): {}",
            d.kind.name(),
            d.id,
            d.damage.name(),
            u.reason
        );
    }
    outln!("{}", summary(&done, &args.from));
    done.finish()?;
    Ok(())
}

/// `reg repair --json` (schema/repair.schema.json).
fn to_json(done: &Repaired, from: &std::path::Path) -> serde_json::Value {
    use serde_json::json;
    let object = |d: &reg::ops::repair::Damaged| json!({"kind": d.kind.name(), "id": d.id.to_string(), "damage": d.damage.code()});
    json!({
        "action": "repair",
        "dry_run": done.dry_run,
        "from": from.display().to_string(),
        "source": match done.source {
            SourceKind::Registry => "registry",
            SourceKind::Transfer => "transfer",
        },
        "pinned": done.unpinned.is_none(),
        "checked": done.checked,
        "restored": done.restored.iter().map(object).collect::<Vec<_>>(),
        "unrepaired": done.unrepaired.iter().map(|u| {
            let mut o = object(&u.object);
            o["reason"] = u.reason.clone().into();
            o
        }).collect::<Vec<_>>(),
        "unverified": done.unverified,
        "complete": done.finish().is_ok(),
    })
}

/// The last line: what was restored from where, or that nothing needed it.
fn summary(done: &Repaired, from: &std::path::Path) -> String {
    if done.restored.is_empty() && done.unrepaired.is_empty() && done.unverified.is_none() {
        return format!(
            "nothing to repair: all {} objects the ledger names are intact",
            done.checked
        );
    }
    let src = match done.source {
        SourceKind::Registry => "registry",
        SourceKind::Transfer => "transfer file",
    };
    let verb = if done.dry_run {
        "would restore"
    } else {
        "restored"
    };
    format!(
        "repair: {verb} {} object(s) from {src} `{}`; {} not repaired; {} objects checked",
        done.restored.len(),
        from.display(),
        done.unrepaired.len(),
        done.checked
    )
}
