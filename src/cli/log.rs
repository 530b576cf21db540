//! `reg log`: the ledger for people, newest first.

use super::Context;
use super::error::CommandResult;
use reg::format::entry::{Body, Entry};
use serde::Serialize;

/// Show the ledger's entries, newest first; with MODEL, that model's history
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this model's history: name@version, a record id, or a unique id prefix
    model: Option<String>,
    /// Print JSON (an array, oldest first) instead of text (schema/log.schema.json)
    #[arg(long)]
    json: bool,
}

/// One entry as `reg log` shows it.
#[derive(Debug, Serialize)]
struct Row {
    seq: u64,
    id: String,
    time: String,
    kind: &'static str,
    actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    summary: String,
    /// What is doubtful about the entry: dated before the entry it follows, in a registry older
    /// than format 4 (FORMAT.md §5.1 rule 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let reg = ctx.open()?;
    let mut rows = Vec::new();
    if let Some(spec) = &args.model {
        // A model's history follows its own `previous` links: no ledger replay.
        let state = reg.state()?;
        let (_, model) = reg::state::resolve::resolve(&state, spec)?;
        let mut next = Some(model.entry);
        while let Some(id) = next {
            let e = reg::repo::ledger::read_entry(reg.store(), &id)?;
            next = match &e.body {
                Body::Transition(t) => Some(t.previous),
                Body::Reapprove(r) => Some(r.previous),
                _ => None,
            };
            rows.push(Row {
                seq: e.header.seq,
                id: id.to_string(),
                time: e.header.time.clone(),
                kind: e.body.kind().name(),
                actor: e.header.actor.to_string(),
                reason: e.body.reason().map(str::to_string),
                summary: summary(&e),
                warning: None,
            });
        }
        rows.reverse();
        return print(rows, args.json);
    }
    let mut times = reg::state::TimeOrder::default();
    let replay = reg.verify(&mut |v| {
        let e = v.entry;
        rows.push(Row {
            seq: e.header.seq,
            id: v.id.to_string(),
            time: e.header.time.clone(),
            kind: e.body.kind().name(),
            actor: e.header.actor.to_string(),
            reason: e.body.reason().map(str::to_string),
            summary: summary(e),
            warning: times.next(e.header.seq, &e.header.time).map(|b| {
                format!(
                    "dated before entry {} ({}): this registry's format did not refuse it",
                    b.seq.saturating_sub(1),
                    b.previous
                )
            }),
        });
    })?;
    reg.check_fresh(&replay.state, &replay.checkpoint.time)?;
    reg.record(&replay.state, &replay.checkpoint)?;
    print(rows, args.json)
}

fn print(rows: Vec<Row>, json: bool) -> CommandResult {
    if json {
        jsonln!(&rows);
        return Ok(());
    }
    for r in rows.iter().rev() {
        outln!("entry {} {}", r.seq, r.id);
        outln!("  time:    {}", r.time);
        outln!("  actor:   {}", r.actor);
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

fn summary(e: &Entry) -> String {
    match &e.body {
        Body::Genesis(g) => {
            let mut text = format!(
                "registry created, root key {}, {} recipient(s)",
                e.header.actor,
                g.recipients.len()
            );
            if let Some(s) = &g.succeeds {
                text.push_str(&format!("; {}", succession(s)));
            }
            text
        }
        Body::KeyTrust(t) => format!("trust {} as {}", t.key.fingerprint, t.role),
        Body::KeyRevoke(r) if r.compromised => {
            format!("revoke {} as compromised", r.fingerprint)
        }
        Body::KeyRevoke(r) => format!("revoke {} (retired)", r.fingerprint),
        Body::KeyWithdraw(w) => format!("withdraw role {} from {}", w.role, w.fingerprint),
        Body::Recipients(r) => format!("recipients set to [{}]", r.recipients.join(", ")),
        Body::Policy(p) => {
            let refused: Vec<&str> = p.policy.refuse_formats.iter().map(|f| f.name()).collect();
            let mut text = format!("policy set: refuse formats [{}]", refused.join(", "));
            if let Some(days) = p.policy.checkpoint_max_age_days {
                text.push_str(&format!("; expires {days} days after each renewal"));
            }
            if p.policy.require_encrypted {
                text.push_str("; encrypted bundles only");
            }
            if p.policy.separate_duties {
                text.push_str("; duties kept apart");
            }
            text
        }
        Body::Add(a) => format!(
            "add {}@{} (record {}, bundle {})",
            a.name, a.version, a.record, a.bundle
        ),
        Body::Transition(t) => {
            let mut text = format!(
                "{} {} ({} -> {})",
                reg::format::lifecycle::verb(t.to),
                t.model,
                t.from,
                t.to
            );
            if t.deny {
                text.push_str("; its artifact hashes denied");
            }
            for effect in &t.slots {
                match &effect.replacement {
                    Some(r) => text.push_str(&format!("; slot {} handed to {r}", effect.slot)),
                    None => text.push_str(&format!("; slot {} deactivated", effect.slot)),
                }
            }
            text
        }
        Body::Drift(d) => format!(
            "drift observation of {} ({} metric(s))",
            d.model,
            d.observation
                .get("metrics")
                .and_then(|m| m.as_array())
                .map_or(0, |m| m.len())
        ),
        Body::DriftImport(d) => match d.open() {
            Ok(r) => format!(
                "drift report {} of {} by reporter {} ({} metric(s))",
                r.id,
                d.model,
                r.payload.reporter,
                r.payload
                    .observation
                    .get("metrics")
                    .and_then(|m| m.as_array())
                    .map_or(0, |m| m.len())
            ),
            Err(e) => format!("drift report of {} (unreadable: {e})", d.model),
        },
        Body::Purge(p) => format!(
            "purge {} ({} artifact object(s) deleted{})",
            p.model,
            p.blobs.len(),
            if p.deny { ", hashes denied" } else { "" }
        ),
        Body::Reapprove(r) => format!("re-approve {}", r.model),
        Body::DenyLift(l) => format!("lift the denial of {} artifact hash(es)", l.artifacts.len()),
        Body::Slot(c) => match &c.model {
            Some(m) => format!("activate {m} in slot {}", c.slot),
            None => format!("deactivate slot {}", c.slot),
        },
        Body::Renew(_) => format!("renew: fresh from {}", e.header.time),
    }
}

/// What a successor's genesis says it continues (FORMAT.md §5.2), as `log` and `status` show it.
pub fn succession(s: &reg::format::entry::Succession) -> String {
    format!(
        "succeeds registry {} at entry {} ({})",
        s.registry, s.seq, s.head
    )
}
