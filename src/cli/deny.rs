//! `reg deny list|lift`: the artifact hashes no model may hold (FORMAT.md §5.15), and lifting a
//! denial (root-signed). Denials are made by `reg revoke --deny-bytes` and `reg purge
//! --deny-bytes`.

use super::sign::RootEntry;
use crate::cli::prelude::*;
use reg::format::id::ObjectId;
use reg::ops::deny::{Denied, lift, list};

/// Show denied artifact hashes, or lift a denial (root)
#[derive(Debug, clap::Subcommand)]
pub enum DenyCommand {
    /// Every denied artifact hash, the model whose revocation or purge denied it, and that entry
    List(ListArgs),
    /// Allow denied bytes again (a signed, reasoned `deny-lift` entry); re-admits no model
    Lift(LiftArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print JSON (schema/deny-list.schema.json)
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct LiftArgs {
    /// The denied artifact hashes (BLAKE3, 64 hex digits), as `reg deny list` prints them
    #[arg(value_name = "HASH", required = true)]
    hashes: Vec<ObjectId>,
    #[command(flatten)]
    sign: Signing<RootEntry>,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, cmd: DenyCommand) -> CommandResult {
    match cmd {
        DenyCommand::List(args) => {
            let state = ctx.open()?.state()?;
            let denials = list(&state);
            if args.json {
                jsonln!(&denials);
                return Ok(());
            }
            if denials.is_empty() {
                outln!("no artifact hash is denied");
            }
            for d in &denials {
                outln!("{}  {}  (entry {})", d.hash, d.spec, d.seq);
            }
        }
        DenyCommand::Lift(args) => {
            let key = args.sign.load()?;
            let reg = ctx.open()?;
            let done = lift(&reg, &key, args.hashes, args.sign.reason())?;
            if args.json {
                let lifted: Vec<_> = done
                    .lifted
                    .iter()
                    .map(|d| {
                        serde_json::json!({
                            "hash": d.hash.to_string(),
                            "model": d.spec,
                            "record": d.model.to_string(),
                            "seq": d.seq,
                        })
                    })
                    .collect();
                return super::written::Written::new("deny-lift", Some((&done.entry, done.seq)))
                    .with("lifted", lifted)
                    .print();
            }
            for d in &done.lifted {
                outln!(
                    "lifted the denial of {} (denied with {} at entry {})",
                    d.hash,
                    d.spec,
                    d.seq
                );
            }
            outln!(
                "{} denial(s) lifted (ledger entry {} {}); no model was re-admitted",
                done.lifted.len(),
                done.seq,
                done.entry
            );
        }
    }
    Ok(())
}

/// Prints what a revocation or a purge with `--deny-bytes` denied.
pub fn print_denied(d: Denied) -> CommandResult {
    if !d.others.is_empty() {
        errln!(
            "warning: {} hold(s) some of these bytes too: the gate now denies them there as well, and they can be neither promoted nor made active",
            d.others.join(", ")
        );
    }
    let already = if d.already > 0 {
        format!(" ({} more denied already)", d.already)
    } else {
        String::new()
    };
    outln!(
        "denied {} artifact hash(es){already}: no model may hold these bytes until a root key lifts the denial (`reg deny list`)",
        d.new
    );
    Ok(())
}
