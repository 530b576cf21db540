//! `reg list`: the registered models.

use super::Context;
use super::error::CommandResult;
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
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let state = ctx.open()?.state()?;
    let mut rows: Vec<Row<'_>> = state
        .models()
        .iter()
        .filter(|(_, m)| args.state.is_none_or(|st| m.state == st))
        .filter(|(_, m)| args.name.as_ref().is_none_or(|n| m.name == *n))
        .map(|(id, m)| Row {
            id: id.to_string(),
            name: &m.name,
            version: &m.version,
            state: m.state,
        })
        .collect();
    rows.sort_by(|a, b| (a.name, a.version).cmp(&(b.name, b.version)));
    if args.json {
        jsonln!(&rows);
        return Ok(());
    }
    outln!("{:<40}  {:<16}  {:<10}  RECORD", "NAME", "VERSION", "STATE");
    for r in rows {
        let state = serde_json::to_value(r.state)?;
        outln!(
            "{:<40}  {:<16}  {:<10}  {}",
            r.name,
            r.version,
            state.as_str().unwrap_or_default(),
            &r.id[..16]
        );
    }
    Ok(())
}
