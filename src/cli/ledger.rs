//! `reg ledger verify|export`: check the whole ledger, or write it out for an external audit ledger.

use crate::cli::prelude::*;
use reg::util::encoding::to_canonical_vec;
use std::io::Write as _;

/// Verify or export the signed, hash-chained ledger
#[derive(Debug, clap::Subcommand)]
pub enum LedgerCommand {
    /// Check every entry: hash, chain, sequence, signature, and the signer's role at that point
    Verify(VerifyArgs),
    /// Write every entry as one JSON line (id, seq, kind, envelope as stored, decoded payload)
    Export,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Print what was verified as JSON (schema/ledger-verify.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, cmd: LedgerCommand) -> CommandResult {
    let reg = ctx.open()?;
    // The ledger, the index and the checkpoint of one commit (FORMAT.md §6).
    let _reading = reg.read_lock()?;
    match cmd {
        LedgerCommand::Verify(args) => {
            let replay = reg.verify(&mut |_| {})?;
            let cp = &replay.checkpoint;
            // Intact but expired under its policy is not OK to use: refused like every read,
            // and not recorded (FORMAT.md §6.1).
            reg.check_fresh(&replay.state, &cp.time)?;
            reg.record(&replay.state, cp)?;
            let interrupted = replay.residue_lines > 0 || replay.partial_line;
            let index_fresh = reg.index_is_fresh(&replay);
            if args.json {
                jsonln!(&serde_json::json!({
                    "action": "ledger-verify",
                    "ok": true,
                    "registry": reg.id().to_string(),
                    "entries": cp.seq + 1,
                    "seq": cp.seq,
                    "head": cp.head.to_string(),
                    "checkpoint_time": cp.time,
                    "interrupted_write": interrupted,
                    "index_fresh": index_fresh,
                }));
            } else {
                outln!(
                    "ledger OK: {} entries, head {} (entry {}), checkpoint signed {}",
                    cp.seq + 1,
                    cp.head,
                    cp.seq,
                    cp.time
                );
            }
            if interrupted {
                errln!(
                    "warning: the ledger file lists entries after the checkpoint (an interrupted write); \
                     the next write removes them"
                );
            }
            if !index_fresh {
                errln!(
                    "warning: index/state.json does not match the checkpoint; it is not used and the next write rebuilds it"
                );
            }
        }
        LedgerCommand::Export => {
            // Refused before a line is written when the checkpoint expired under the policy.
            reg.state()?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let mut failure: Option<std::io::Error> = None;
            let replay = reg.verify(&mut |v| {
                if failure.is_some() {
                    return;
                }
                let line = to_canonical_vec(&reg::repo::ledger::export_line(v))
                    .expect("entries hold no floats or nulls");
                if let Err(e) = out.write_all(&line).and_then(|_| out.write_all(b"\n")) {
                    failure = Some(e);
                }
            })?;
            reg.record(&replay.state, &replay.checkpoint)?;
            if let Some(e) = failure {
                return Err(e.into());
            }
            out.flush()?;
        }
    }
    Ok(())
}
