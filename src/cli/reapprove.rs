//! `reg reapprove`: an operator lifts a model's suspension (FORMAT.md §5.14).

use super::sign::ReapproveEntry;
use crate::cli::prelude::*;
use reg::format::lifecycle::LifecycleState;

/// Re-approve a suspended model: it rests on a key revoked as compromised, and was checked
///
/// Signed by an operator, with the reason. The model keeps its lifecycle state; from now on it
/// rests on this operator alone, and may be promoted, made active and loaded again.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model: name@version, a record id, or a unique id prefix
    model: String,
    #[command(flatten)]
    sign: Signing<ReapproveEntry>,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let done = reg::ops::reapprove::reapprove(&reg, &key, &args.model, args.sign.reason())?;
    if args.json {
        let slots: Vec<_> = done
            .slots
            .iter()
            .map(|slot| serde_json::json!({"slot": slot, "model": done.spec}))
            .collect();
        return super::written::Written::new("reapprove", Some((&done.entry, done.seq)))
            .model(&done.spec, &done.model)
            .with("state", done.state)
            .with(
                "suspension",
                serde_json::json!({"key": done.lifted.key.to_string(), "seq": done.lifted.seq}),
            )
            .with("slots", slots)
            .print();
    }
    outln!(
        "{}: re-approved, no longer suspended (key {} was revoked as compromised at entry {}); it stays {} (ledger entry {} {})",
        done.spec,
        done.lifted.key,
        done.lifted.seq,
        done.state,
        done.seq,
        done.entry
    );
    for slot in &done.slots {
        outln!("slot {slot}: the gate allows its active model again");
    }
    if done.state == LifecycleState::Registered {
        errln!(
            "note: {} is REGISTERED, not approved: `reg promote {} --reason TEXT --key OPERATOR.pem` approves it",
            done.spec,
            done.spec
        );
    }
    Ok(())
}
