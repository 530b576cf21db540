//! The one line `reg log` (text and `--json`, `schema/log.schema.json` `summary`) says of what
//! an entry did: models as `name@version (id8)`, keys with their names. Apart from
//! [`super::log`] because it knows every entry kind, and that list grows.

use crate::format::entry::Body;
use crate::query::history::{Event, ModelRef};

/// What the entry did, in one line: models as `name@version (id8)`, keys with their names.
pub(super) fn summary(ev: &Event) -> String {
    let e = &ev.entry;
    let model = || {
        ev.model
            .as_ref()
            .map_or_else(|| "?".to_string(), ModelRef::to_string)
    };
    let key = |fp: &crate::crypto::keys::Fingerprint| match &ev.key_name {
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
                crate::format::lifecycle::verb(t.to),
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
pub fn succession(s: &crate::format::entry::Succession) -> String {
    format!(
        "succeeds registry {} at entry {} ({})",
        s.registry, s.seq, s.head
    )
}
