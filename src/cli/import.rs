//! `reg import`: bring another site's history into this registry from a transfer file
//! (FORMAT.md §11.8).

use super::Context;
use super::error::CommandResult;
use reg::ops::import::{Imported, import};
use std::path::PathBuf;

/// Bring the home site's new history into this registry from a transfer file
///
/// Every entry is checked against this registry's own pinned root and ledger (its signer
/// trusted for its kind at that point, its signature, its rules), every object against its
/// BLAKE3, and the history must extend this registry's head: a rollback, a fork, another
/// registry's history, or a missing or extra object is refused and nothing changes. The import
/// then commits atomically, the carried checkpoint last.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The transfer file (written by `reg export` at the home site)
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Check everything and print what would change, changing nothing
    #[arg(long)]
    dry_run: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let reg = ctx.open()?;
    let done = import(&reg, &args.file, args.dry_run)?;
    print(&done)
}

fn print(d: &Imported) -> CommandResult {
    let h = &d.header;
    let total: u64 = d.kinds.values().sum();
    let kinds: Vec<String> = d.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let verb = if d.dry_run {
        "would import"
    } else {
        "imported"
    };
    outln!(
        "{verb} entries {} to {} (head {}): {total} new ({}), {} already here, {} new object(s)",
        d.from_seq + 1,
        h.head.seq,
        h.head.head,
        kinds.join(", "),
        d.already_had,
        d.objects
    );
    for (m, state) in &d.models_added {
        if *state == reg::format::lifecycle::LifecycleState::Registered {
            outln!("  model {m}: registered");
        } else {
            outln!("  model {m}: registered, then {state}");
        }
    }
    for (m, from, to) in &d.state_changes {
        outln!("  model {m}: {from} -> {to}");
    }
    for (slot, from, to) in &d.slot_changes {
        let name = |x: &Option<String>| x.clone().unwrap_or_else(|| "(none)".into());
        outln!("  slot {slot}: {} -> {}", name(from), name(to));
    }
    if !d.purged.is_empty() {
        outln!("  removed {} purged artifact object(s)", d.purged.len());
    }
    if d.dry_run {
        outln!("dry run: nothing was changed");
    }
    Ok(())
}
