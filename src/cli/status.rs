//! `reg status`: the slots and their active models (what consumers will be told to load).

use crate::cli::prelude::*;

/// Show each slot and its active model
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON (schema/status.schema.json)
    #[arg(long)]
    json: bool,

    /// Print only the head code, to read to a receiving site over a channel the medium's
    /// holder does not control (phone, paper): they pin it with `reg trust add FP --head CODE`
    #[arg(long, conflicts_with = "json")]
    code: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let reg = ctx.open()?;
    if args.json {
        jsonln!(&reg::report::status(&reg)?);
        return Ok(());
    }
    let state = reg.state()?;
    if args.code {
        outln!(
            "{}",
            reg::repo::trust::Floor::code(state.seq(), &state.head())
        );
        errln!(
            "read it to the receiving site; they pin with: reg trust add {} --head {}",
            reg.root(),
            reg::repo::trust::Floor::code(state.seq(), &state.head())
        );
        return Ok(());
    }
    let slots = reg::query::status::status(&reg, &state)?;
    if let Some(s) = state.succeeds() {
        outln!("this registry {}", reg::report::succession(s));
    }
    if slots.is_empty() {
        outln!("no slot is set (`reg activate SLOT MODEL` sets one)");
        return Ok(());
    }
    outln!("{:<32}  {:<40}  {:<10}  SINCE", "SLOT", "MODEL", "STATE");
    for s in &slots {
        outln!(
            "{:<32}  {:<40}  {:<10}  {}{}",
            s.slot,
            format!("{}@{}", s.name, s.version),
            s.state.name(),
            s.since,
            super::list::notes(s.suspended.as_ref(), &s.revoked_keys, s.blocked.as_deref())
        );
        if let Some(sus) = &s.suspended {
            errln!(
                "warning: slot `{}` runs {}@{}, which is suspended (key {} revoked as compromised at entry {}): the gate denies it; re-approve it (`reg reapprove {}@{}`) or give the slot another model (`reg activate {} MODEL`)",
                s.slot,
                s.name,
                s.version,
                sus.key,
                sus.seq,
                s.name,
                s.version,
                s.slot
            );
        }
        if s.state == reg::format::lifecycle::LifecycleState::Deprecated {
            errln!(
                "warning: slot `{}` runs {}@{}, which is DEPRECATED: replace it with `reg activate {} MODEL`",
                s.slot,
                s.name,
                s.version,
                s.slot
            );
        }
    }
    Ok(())
}
