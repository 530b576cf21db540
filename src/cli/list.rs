//! `reg list`: the registered models, and what revoked keys they rest on (FORMAT.md §5.14).

use crate::cli::prelude::*;
use reg::format::lifecycle::LifecycleState;
use reg::query::list::{Filter, MODEL_TYPES};
use reg::query::revoked::RevokedKey;
use reg::state::Suspension;

/// List registered models, by name and then by semantic version (2.9.0 before 2.10.0, a
/// pre-release before its release)
///
/// Filters combine: a model is listed only if it matches every one given.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table (schema/model-list.schema.json)
    #[arg(long)]
    json: bool,
    /// Only models in this state: registered, promoted, deprecated or revoked, any case
    /// (repeat it or separate states with commas for any of several)
    #[arg(long, value_name = "STATE", value_parser = parse_state, value_delimiter = ',')]
    state: Vec<LifecycleState>,
    /// Only models with this name
    #[arg(long)]
    name: Option<String>,
    /// Only models of this type: ML, DL, LLM or ruleset, any case
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_type)]
    model_type: Option<String>,
    /// Only models whose intended uses include this one (repeatable: each must be included)
    #[arg(long = "use", value_name = "USE")]
    uses: Vec<String>,
    /// Only models with this label (repeatable: each must match)
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// Only models signed by this publisher: its key fingerprint, or a prefix of it
    #[arg(long, value_name = "FINGERPRINT", value_parser = parse_publisher)]
    publisher: Option<String>,
}

fn parse_state(s: &str) -> Result<LifecycleState, String> {
    LifecycleState::from_name(s)
        .ok_or_else(|| "expected registered, promoted, deprecated or revoked".to_string())
}

fn parse_type(s: &str) -> Result<String, String> {
    reg::query::list::model_type(s)
        .map(str::to_string)
        .ok_or_else(|| format!("expected one of {}", MODEL_TYPES.join(", ")))
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err("expected KEY=VALUE".to_string()),
    }
}

fn parse_publisher(s: &str) -> Result<String, String> {
    if (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err("expected a key fingerprint (32 hex digits) or a prefix of one".to_string())
    }
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let reg = ctx.open()?;
    let filter = Filter {
        states: args.state,
        name: args.name,
        model_type: args.model_type,
        uses: args.uses,
        labels: args.labels,
        publisher: args.publisher,
    };
    // The rows programs read (`reg::report::models`); the table is made of the same rows.
    let rows = reg::report::models(&reg, &filter)?;
    if args.json {
        jsonln!(&rows);
        return Ok(());
    }
    outln!("{:<40}  {:<16}  {:<10}  RECORD", "NAME", "VERSION", "STATE");
    for r in rows.iter().map(|r| &r.value) {
        let state = serde_json::to_value(r.state)?;
        outln!(
            "{:<40}  {:<16}  {:<10}  {}{}",
            r.name,
            r.version,
            state.as_str().unwrap_or_default(),
            &r.id[..16],
            notes(r.suspended.as_ref(), &r.revoked_keys, r.blocked.as_deref())
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
