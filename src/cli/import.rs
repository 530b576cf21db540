//! `reg import`: bring another site's history into this registry from a transfer file
//! (FORMAT.md §11.8), or, with `--reset`, replace a replica's history with the home site's
//! (FORMAT.md §11.14).

use crate::cli::prelude::*;
use reg::ops::import::{Imported, Replaced, Reset, import, import_from, reset, reset_file};
use serde_json::json;
use std::path::PathBuf;

/// Bring the home site's new history into this registry from a transfer file
///
/// Every entry is checked against this registry's own pinned root and ledger (its signer
/// trusted for its kind at that point, its signature, its rules), every object against its
/// BLAKE3, and the history must extend this registry's head: a fork, another registry's
/// history, or a missing or extra object is refused and nothing changes. The import then
/// commits atomically, the carried checkpoint last. A file whose history this registry already
/// has is nothing to do: "already up to date", exit 0.
///
/// With --reset (a replica whose history diverged from the home site's): the file, a full
/// export of home, is verified from genesis against this host's pin as `reg clone` verifies it,
/// and replaces this registry's history; the replaced one is kept under `.registry/replaced/`
/// and the outbox is kept. It never goes back to an older point of the same history. Only a
/// replica is reset: a registry without the replica marker needs --replica as well.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The transfer file (written by `reg export` at the home site); `-` reads standard input
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Check everything and print what would change, changing nothing
    #[arg(long, conflicts_with = "reset")]
    dry_run: bool,
    /// Replace this replica's diverged history with the home site's full export FILE (the
    /// operator's explicit act: the replaced history is kept under `.registry/replaced/`)
    #[arg(long)]
    reset: bool,
    /// With --reset: this registry is a replica although it lacks the replica marker (copied by
    /// hand, or cloned by an older reg). Without the marker or this flag a reset is refused: at
    /// the home site it would replace the only copy of home's history
    #[arg(long, requires = "reset")]
    replica: bool,
    /// Print JSON (schema/import.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let reg = ctx.open()?;
    let stdin = super::stdio::is_dash(&args.file);
    if args.reset {
        let done = if stdin {
            reset(&reg, std::io::stdin().lock(), &ctx.opts, args.replica)?
        } else {
            reset_file(&reg, &args.file, &ctx.opts, args.replica)?
        };
        return print_reset(&done, args.json);
    }
    let done = if stdin {
        let mut input = std::io::BufReader::with_capacity(1 << 20, std::io::stdin().lock());
        // `reg export -` writes nothing when this site is up to date, so that its pipe into
        // `reg import -` is nothing to do, not a damaged file. An empty FILE stays refused.
        if std::io::BufRead::fill_buf(&mut input)?.is_empty() {
            if args.json {
                jsonln!(&json!({"up_to_date": true, "empty_input": true}));
            } else {
                outln!(
                    "nothing to import: standard input was empty (`reg export -` writes nothing when this site is already up to date)"
                );
            }
            return Ok(());
        }
        import_from(&reg, input, args.dry_run)?
    } else {
        import(&reg, &args.file, args.dry_run)?
    };
    if args.json {
        jsonln!(&to_json(&done));
        return Ok(());
    }
    print(&done)
}

fn print(d: &Imported) -> CommandResult {
    let h = &d.header;
    if d.up_to_date {
        outln!(
            "already up to date: this site has the file's history up to entry {} ({}), and its own head is entry {}; nothing was imported",
            h.head.seq,
            h.head.head,
            d.from_seq
        );
        let after = d.from_seq.saturating_sub(h.head.seq);
        if after > 0 {
            outln!(
                "note: this site has {after} entr{} after the file's head (entries {} to {}); if they were written here, this replica has forked from home: the home site signs a new entry (its next real change, or `reg renew` where a timestamp key exists) and exports in full (`reg export FULL`), and `reg import --reset FULL` here replaces them",
                if after == 1 { "y" } else { "ies" },
                h.head.seq + 1,
                d.from_seq
            );
        }
        return Ok(());
    }
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
    for k in &d.keys {
        let key = match &k.name {
            Some(name) => format!("{name} ({})", k.fingerprint),
            None => k.fingerprint.to_string(),
        };
        let why = k
            .reason
            .as_ref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        if k.revoked {
            outln!("  key {key}: revoked{why}");
        } else {
            outln!("  key {key}: trusted as {}{why}", k.roles.join(", "));
        }
    }
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

/// `reg import --json` (schema/import.schema.json).
fn to_json(d: &Imported) -> serde_json::Value {
    let h = &d.header;
    json!({
        "registry": h.registry.to_string(),
        "dry_run": d.dry_run,
        "up_to_date": d.up_to_date,
        "from_seq": d.from_seq,
        "head": {"seq": h.head.seq, "id": h.head.head.to_string()},
        "base": h.base.map(|b| json!({"seq": b.seq, "id": b.head.to_string()})),
        "new_entries": d.entries.iter().enumerate().map(|(i, id)| json!({
            "seq": d.from_seq + 1 + i as u64,
            "id": id.to_string(),
        })).collect::<Vec<_>>(),
        "kinds": d.kinds,
        "already_had": d.already_had,
        "objects": d.objects,
        "keys": d.keys.iter().map(|k| {
            let mut v = json!({
                "fingerprint": k.fingerprint.to_string(),
                "roles": k.roles,
                "revoked": k.revoked,
            });
            if let Some(name) = &k.name {
                v["name"] = json!(name);
            }
            if let Some(reason) = &k.reason {
                v["reason"] = json!(reason);
            }
            v
        }).collect::<Vec<_>>(),
        "models_added": d.models_added.iter().map(|(m, s)| json!({
            "model": m,
            "state": s.to_string(),
        })).collect::<Vec<_>>(),
        "state_changes": d.state_changes.iter().map(|(m, from, to)| json!({
            "model": m,
            "from": from.to_string(),
            "to": to.to_string(),
        })).collect::<Vec<_>>(),
        "slot_changes": d.slot_changes.iter().map(|(slot, from, to)| json!({
            "slot": slot,
            "from": from,
            "to": to,
        })).collect::<Vec<_>>(),
        "purged": d.purged.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

fn print_reset(done: &Reset, json: bool) -> CommandResult {
    match done {
        Reset::UpToDate { seq, head } => {
            if json {
                jsonln!(
                    &json!({"reset": false, "up_to_date": true, "head": {"seq": seq, "id": head.to_string()}})
                );
            } else {
                outln!(
                    "already up to date: this registry's history is the file's, up to entry {seq} ({head}); nothing was replaced"
                );
            }
        }
        Reset::Replaced(r) => print_replaced(r, json)?,
    }
    Ok(())
}

fn print_replaced(r: &Replaced, json: bool) -> CommandResult {
    let (seq, head) = (r.state.seq(), r.state.head());
    if json {
        jsonln!(&json!({
            "reset": true,
            "up_to_date": false,
            "head": {"seq": seq, "id": head.to_string()},
            "common": r.common,
            "replaced": r.replaced.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "kept_in": r.aside.as_ref().map(|p| p.display().to_string()),
            "objects_kept": r.objects_kept,
            "outbox_kept": r.outbox,
        }));
        return Ok(());
    }
    outln!(
        "reset this replica to the home site's history: entries 0 to {seq} (head {head}), verified from genesis against this host's pin"
    );
    match &r.aside {
        Some(p) => outln!(
            "replaced {} local entr{} after entry {} (the first {} are shared); kept with {} object(s) the new history lacks in {}",
            r.replaced.len(),
            if r.replaced.len() == 1 { "y" } else { "ies" },
            r.common.saturating_sub(1),
            r.common,
            r.objects_kept,
            p.display()
        ),
        None => outln!("no local entry was replaced: the file extends this registry's history"),
    }
    if r.outbox {
        outln!("the outbox was kept: `reg drift export OUT` sends its reports home");
    }
    Ok(())
}
