//! `reg log`: the ledger for people, newest first; a model's or a slot's history
//! (`query::history`).

use super::Context;
use super::error::{CommandError, CommandResult};
use reg::format::entry::Body;
use reg::format::lifecycle::LifecycleState;
use reg::query::history::{Event, Filter, ModelRef, SlotMove};
use serde::Serialize;

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

/// One entry as `reg log --json` shows it.
#[derive(Debug, Serialize)]
struct Row {
    seq: u64,
    id: String,
    time: String,
    kind: &'static str,
    actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    summary: String,
    /// The model the entry is about: `model` (name@version) and `record`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    model: Option<ModelRef>,
    /// The slot the entry moved: the one `--slot` asks for, else the only one it moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    slot: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<LifecycleState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<LifecycleState>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    slots: Vec<SlotMove>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suspended: Vec<ModelRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lifted: Vec<ModelRef>,
    /// What is doubtful about the entry: dated before the entry it follows, in a registry older
    /// than format 4 (FORMAT.md §5.1 rule 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let reg = ctx.open()?;
    // One committed state for the names resolved and the ledger replayed.
    let _reading = reg.read_lock()?;
    let filter = filter(&reg, &args)?;
    let events = reg::query::history::scan(&reg, &filter)?;
    if let Some(slot) = &args.slot
        && events.is_empty()
        && args.since.is_none()
        && args.actor.is_none()
    {
        // No entry ever moved it: a slot never set, most likely a typo, said as `git log` says
        // of a path it does not know (with a filter, an empty answer is an answer).
        let state = reg.state()?;
        let known: Vec<&str> = state.slots().keys().map(String::as_str).collect();
        let hint = if known.is_empty() {
            "no slot has been set in this registry (`reg activate SLOT MODEL` sets one)".to_string()
        } else {
            format!("the slots set now: {} (`reg status`)", known.join(", "))
        };
        return Err(CommandError::usage_hint(
            format!("slot `{slot}` has no history in this registry: no entry ever set it"),
            hint,
        ));
    }
    let rows = events.into_iter().map(|e| row(e, filter.slot.as_deref()));
    print(rows.collect(), args.json)
}

/// The filter the arguments ask for, each checked before the ledger is read. A step of its own
/// so that how a model or slot is named stays apart from what the log prints.
fn filter(reg: &reg::repo::registry::Registry, args: &Args) -> CommandResult<Filter> {
    if let Some(s) = &args.since
        && reg::util::encoding::parse_rfc3339(s).is_none()
    {
        return Err(CommandError::usage(format!(
            "--since `{s}`: expected a time such as 2026-01-31T00:00:00Z"
        )));
    }
    let mut filter = Filter {
        slot: args.slot.clone(),
        since: args.since.clone(),
        newest: args.max_count,
        ..Filter::default()
    };
    if args.model.is_none() && args.actor.is_none() {
        return Ok(filter);
    }
    let state = reg.state()?;
    if let Some(spec) = &args.model {
        let (id, _) = reg::state::resolve::resolve(&state, spec)?;
        filter.model = Some(id);
    }
    if let Some(spec) = &args.actor {
        let actors = reg::query::history::actors(&state, spec);
        match actors.as_slice() {
            [] => {
                return Err(CommandError::usage(format!(
                    "--actor `{spec}`: no key is named so or has a fingerprint starting so (4 hex digits or more); `reg key list` shows the keys"
                )));
            }
            [_] => {}
            many => {
                let list: Vec<String> = many.iter().map(ToString::to_string).collect();
                return Err(CommandError::usage(format!(
                    "--actor `{spec}` is ambiguous: it starts the fingerprints of {}; give more digits",
                    list.join(", ")
                )));
            }
        }
        filter.actors = Some(actors);
    }
    Ok(filter)
}

/// An event as `reg log` prints it; `slot` is the slot whose history is asked for, if one is.
fn row(e: Event, slot: Option<&str>) -> Row {
    let header = &e.entry.header;
    Row {
        seq: header.seq,
        id: e.id.to_string(),
        time: header.time.clone(),
        kind: e.entry.body.kind().name(),
        actor: header.actor.to_string(),
        actor_name: e.actor_name.clone(),
        reason: e.entry.body.reason().map(str::to_string),
        summary: summary(&e),
        // The slot the entry moved: the one asked for, else the only one it moved.
        slot: match (slot, e.slots.as_slice()) {
            (Some(s), _) => Some(s.to_string()),
            (None, [only]) => Some(only.slot.clone()),
            _ => None,
        },
        model: e.model,
        from: e.from,
        to: e.to,
        slots: e.slots,
        suspended: e.suspended,
        lifted: e.lifted,
        warning: e.warning,
    }
}

fn print(rows: Vec<Row>, json: bool) -> CommandResult {
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

/// What the entry did, in one line: models as `name@version (id8)`, keys with their names.
fn summary(ev: &Event) -> String {
    let e = &ev.entry;
    let model = || {
        ev.model
            .as_ref()
            .map_or_else(|| "?".to_string(), ModelRef::to_string)
    };
    let key = |fp: &reg::crypto::keys::Fingerprint| match &ev.key_name {
        Some(name) => format!("{name} ({fp})"),
        None => fp.to_string(),
    };
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
        Body::KeyTrust(t) => match (&t.name, ev.names_only) {
            (Some(name), true) => format!("name {} as {name} ({})", t.key.fingerprint, t.role),
            _ => format!("trust {} as {}", key(&t.key.fingerprint), t.role),
        },
        Body::KeyRevoke(r) if r.compromised => {
            let mut text = format!("revoke {} as compromised", key(&r.fingerprint));
            if !ev.suspended.is_empty() {
                let list: Vec<String> = ev.suspended.iter().map(ModelRef::to_string).collect();
                text.push_str(&format!("; suspends {}", list.join(", ")));
            }
            text
        }
        Body::KeyRevoke(r) => format!("revoke {} (retired)", key(&r.fingerprint)),
        Body::KeyWithdraw(w) => format!("withdraw role {} from {}", w.role, key(&w.fingerprint)),
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
        Body::Add(a) => format!("add {}; bundle {}", model(), a.bundle),
        Body::Transition(t) => {
            let mut text = format!(
                "{} {} ({} -> {})",
                reg::format::lifecycle::verb(t.to),
                model(),
                t.from,
                t.to
            );
            if t.deny {
                text.push_str("; its artifact hashes denied");
            }
            for m in &ev.slots {
                match &m.to {
                    Some(r) => text.push_str(&format!("; slot {} handed to {r}", m.slot)),
                    None => text.push_str(&format!("; slot {} deactivated", m.slot)),
                }
            }
            text
        }
        Body::Drift(d) => format!(
            "drift observation of {} ({} metric(s))",
            model(),
            metrics(&d.observation)
        ),
        Body::DriftImport(d) => match d.open() {
            Ok(r) => format!(
                "drift report {} of {} by reporter {} ({} metric(s))",
                r.id,
                model(),
                key(&r.payload.reporter),
                metrics(&r.payload.observation)
            ),
            Err(err) => format!("drift report of {} (unreadable: {err})", model()),
        },
        Body::Purge(p) => format!(
            "purge {}: purged, {} artifact object(s) deleted{}",
            model(),
            p.blobs.len(),
            if p.deny { ", hashes denied" } else { "" }
        ),
        Body::Reapprove(_) => format!("re-approve {}", model()),
        Body::DenyLift(l) => {
            let mut text = format!("lift the denial of {} artifact hash(es)", l.artifacts.len());
            if !ev.lifted.is_empty() {
                let list: Vec<String> = ev.lifted.iter().map(ModelRef::to_string).collect();
                text.push_str(&format!(" of {}", list.join(", ")));
            }
            text
        }
        Body::Slot(c) => {
            let moved = ev.slots.first();
            let before = moved.and_then(|m| m.from.as_ref());
            match (moved.and_then(|m| m.to.as_ref()), before) {
                (Some(to), Some(from)) if from != to => {
                    format!("activate {to} in slot {}, displacing {from}", c.slot)
                }
                (Some(to), _) => format!("activate {to} in slot {}", c.slot),
                (None, Some(from)) => format!("deactivate slot {} (was {from})", c.slot),
                (None, None) => format!("deactivate slot {}", c.slot),
            }
        }
        Body::Renew(_) => format!("renew: fresh from {}", e.header.time),
    }
}

/// How many metrics an observation holds.
fn metrics(observation: &serde_json::Map<String, serde_json::Value>) -> usize {
    observation
        .get("metrics")
        .and_then(|m| m.as_array())
        .map_or(0, |m| m.len())
}

/// What a successor's genesis says it continues (FORMAT.md §5.2), as `log` and `status` show it.
pub fn succession(s: &reg::format::entry::Succession) -> String {
    format!(
        "succeeds registry {} at entry {} ({})",
        s.registry, s.seq, s.head
    )
}
