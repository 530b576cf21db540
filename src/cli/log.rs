//! `reg log`: the ledger for people, newest first; a model's or a slot's history
//! (`reg::report::log`, which builds the entries `--json` prints).

use crate::cli::prelude::*;
use reg::report::{LogEntry, LogQuery};

/// Show the ledger's entries, newest first; with MODEL, every entry that concerns that model
///
/// A model's history holds its add, transitions and re-approvals, each slot it entered or
/// left, its drift observations, its purge, the key revocation that suspended it and the
/// lifting of its denial. Every form replays and verifies the whole ledger.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the entries that concern this model: name@version, a record id, or a unique id prefix
    model: Option<String>,
    /// Only the slot's history: each activation, deactivation and replacement in SLOT
    #[arg(long, value_name = "SLOT", conflicts_with = "model")]
    slot: Option<String>,
    /// Only the newest N entries (of those the other filters keep)
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    max_count: Option<usize>,
    /// Only the entries dated at or after TIME (e.g. 2026-01-31T00:00:00Z)
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only the entries signed by this key: its name (`reg key trust --name`, any case), its fingerprint, or a prefix of it (4 hex digits or more, naming one key)
    #[arg(long, value_name = "KEY")]
    actor: Option<String>,
    /// Print JSON (an array, oldest first) instead of text (schema/log.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let reg = ctx.open()?;
    // The entries programs read (`reg::report::log`), which also refuses a bad --since, an
    // unknown --actor and a slot no entry ever set; the text is made of the same entries.
    let query = LogQuery {
        model: args.model,
        slot: args.slot,
        max_count: args.max_count,
        since: args.since,
        actor: args.actor,
    };
    print(reg::report::log(&reg, &query)?, args.json)
}

fn print(rows: Vec<LogEntry>, json: bool) -> CommandResult {
    if json {
        jsonln!(&rows);
        return Ok(());
    }
    for r in rows.iter().rev() {
        outln!("entry {} {}", r.seq, r.id);
        outln!("  time:    {}", r.time);
        match &r.actor_name {
            Some(name) => outln!("  actor:   {name} ({})", r.actor),
            None => outln!("  actor:   {}", r.actor),
        }
        outln!("  {:<8} {}", format!("{}:", r.kind), r.summary);
        if let Some(reason) = &r.reason {
            outln!("  reason:  {reason}");
        }
        if let Some(warning) = &r.warning {
            outln!("  warning: {warning}");
        }
    }
    Ok(())
}
