//! `reg list`: the registered models.

use super::Context;
use serde::Serialize;

/// List registered models
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row<'a> {
    id: String,
    name: &'a str,
    version: &'a str,
    state: reg::state::LifecycleState,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let state = ctx.open()?.state()?;
    let mut rows: Vec<Row<'_>> = state
        .models
        .iter()
        .map(|(id, m)| Row {
            id: id.to_string(),
            name: &m.name,
            version: &m.version,
            state: m.state,
        })
        .collect();
    rows.sort_by(|a, b| (a.name, a.version).cmp(&(b.name, b.version)));
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&rows)?);
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
