//! `reg list`: the registered models, and what revoked keys they rest on (FORMAT.md §5.14).

use super::Context;
use super::error::CommandResult;
use reg::query::revoked::{RevokedKey, revoked_keys};
use reg::state::Suspension;
use serde::Serialize;

/// List registered models
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table (schema/model-list.schema.json)
    #[arg(long)]
    json: bool,
    /// Only models in this state (registered, promoted, deprecated, revoked)
    #[arg(long, value_parser = parse_state)]
    state: Option<reg::format::lifecycle::LifecycleState>,
    /// Only models with this name
    #[arg(long)]
    name: Option<String>,
}

fn parse_state(s: &str) -> Result<reg::format::lifecycle::LifecycleState, String> {
    reg::format::lifecycle::LifecycleState::from_name(s)
        .ok_or_else(|| "expected registered, promoted, deprecated or revoked".to_string())
}

#[derive(Serialize)]
struct Row<'a> {
    id: String,
    name: &'a str,
    version: &'a str,
    state: reg::format::lifecycle::LifecycleState,
    /// Why it is suspended, if it is (FORMAT.md §5.14).
    #[serde(skip_serializing_if = "Option::is_none")]
    suspended: Option<&'a Suspension>,
    /// The revoked keys it rests on, and which way each was revoked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    revoked_keys: Vec<RevokedKey>,
    /// Why the gate denies it beyond its state: denied bytes, or out of policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let reg = ctx.open()?;
    let state = reg.state()?;
    let mut rows: Vec<Row<'_>> = Vec::new();
    for (id, m) in state
        .models()
        .iter()
        .filter(|(_, m)| args.state.is_none_or(|st| m.state == st))
        .filter(|(_, m)| args.name.as_ref().is_none_or(|n| m.name == *n))
    {
        rows.push(Row {
            id: id.to_string(),
            name: &m.name,
            version: &m.version,
            state: m.state,
            suspended: m.suspended.as_ref(),
            revoked_keys: revoked_keys(&reg, &state, id, m)?,
            blocked: reg::query::standing::blocked(&reg, &state, id, m)?,
        });
    }
    rows.sort_by(|a, b| (a.name, a.version).cmp(&(b.name, b.version)));
    if args.json {
        jsonln!(&super::pinned::each(&rows, reg.pin()));
        return Ok(());
    }
    outln!("{:<40}  {:<16}  {:<10}  RECORD", "NAME", "VERSION", "STATE");
    for r in rows {
        let state = serde_json::to_value(r.state)?;
        outln!(
            "{:<40}  {:<16}  {:<10}  {}{}",
            r.name,
            r.version,
            state.as_str().unwrap_or_default(),
            &r.id[..16],
            notes(r.suspended, &r.revoked_keys, r.blocked.as_deref())
        );
    }
    Ok(())
}

/// What `list` and `status` add after a model's row: whether it is suspended and by which key,
/// and each revoked key it rests on, which way and when; empty when there is nothing to say.
pub fn notes(
    suspended: Option<&Suspension>,
    revoked: &[RevokedKey],
    blocked: Option<&str>,
) -> String {
    let mut notes: Vec<String> = Vec::new();
    if let Some(why) = blocked {
        notes.push(format!("DENIED by the gate: {why}"));
    }
    if let Some(s) = suspended {
        // The compromised key is among the revoked keys listed next, unless it no longer is
        // one the model rests on; then it is named here.
        notes.push(if revoked.iter().any(|k| k.fingerprint == s.key) {
            "SUSPENDED".to_string()
        } else {
            format!("SUSPENDED by key {}, compromised at entry {}", s.key, s.seq)
        });
    }
    notes.extend(revoked.iter().map(ToString::to_string));
    if notes.is_empty() {
        return String::new();
    }
    format!("  [{}]", notes.join("; "))
}
