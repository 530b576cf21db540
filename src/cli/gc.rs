//! `reg gc` and `reg purge`: removing bytes, never history; a purge may also deny the model's
//! bytes (`--deny-bytes`, FORMAT.md §5.15).

use super::sign::PurgeEntry;
use crate::cli::prelude::*;

/// Remove objects no ledger entry reaches, staging leftovers and purged bytes; rewrite refs
#[derive(Debug, clap::Args)]
pub struct GcArgs {
    /// Print what was removed as JSON (schema/gc.schema.json)
    #[arg(long)]
    json: bool,
}

/// Destroy a REVOKED model's artifact bytes (its record and history stay); signed, in the ledger
#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    /// The model: name@version, a record id, or a unique id prefix
    model: String,
    #[command(flatten)]
    sign: Signing<PurgeEntry>,
    /// Also deny the model's bytes: no model, under any name, may hold its artifact hashes
    /// until a root key lifts the denial (`reg deny lift`)
    #[arg(long)]
    deny_bytes: bool,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn gc(ctx: &Context, args: GcArgs) -> CommandResult {
    let reg = ctx.open()?;
    let done = reg::ops::gc::gc(&reg)?;
    if args.json {
        jsonln!(&serde_json::json!({
            "action": "gc",
            "objects": done
                .objects
                .iter()
                .map(|(id, size)| serde_json::json!({"id": id.to_string(), "size": size}))
                .collect::<Vec<_>>(),
            "bytes": done.objects.iter().map(|(_, n)| n).sum::<u64>(),
            "staging": done.staging,
            "refs": done.refs,
        }));
        return Ok(());
    }
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
        "gc: {} object(s) ({bytes} bytes), {} staging leftover(s), {} ref(s)",
        done.objects.len(),
        done.staging.len(),
        done.refs.len()
    );
    Ok(())
}

pub fn purge(ctx: &Context, args: PurgeArgs) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let done = reg::ops::gc::purge(&reg, &key, &args.model, args.sign.reason(), args.deny_bytes)?;
    if args.json {
        return super::written::Written::new("purge", Some((&done.entry, done.seq)))
            .model(&done.spec, &done.model)
            .with("objects", done.objects)
            .with("freed", done.freed)
            .with("denied", super::written::denied(&done.denied))
            .print();
    }
    outln!(
        "purged {}: {} artifact object(s), {} bytes deleted (ledger entry {} {})",
        done.spec,
        done.objects,
        done.freed,
        done.seq,
        done.entry
    );
    if let Some(d) = done.denied {
        super::deny::print_denied(d)?;
    }
    Ok(())
}
