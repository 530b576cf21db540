//! `reg drift record|list|export`: drift observations, stored and signed (no detection logic).

use super::Context;
use super::error::{CommandError, CommandResult};
use super::sign::{DriftEntry, Signing};
use reg::state::resolve::resolve;
use std::path::PathBuf;

/// Record and read drift observations (storage only: reg computes nothing from them)
#[derive(Debug, clap::Subcommand)]
pub enum DriftCommand {
    /// Record an observation of a model, signed by a reporter key
    Record(RecordArgs),
    /// A model's observations, oldest first
    List(ListArgs),
    /// Every observation of every model
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The model observed: name@version, a record id, or a unique id prefix
    model: String,
    /// The observation (JSON, schema/drift-observation.schema.json)
    observation: PathBuf,
    #[command(flatten)]
    sign: Signing<DriftEntry>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The model: name@version, a record id, or a unique id prefix
    model: String,
    /// Only observations whose window ends at or after this time (YYYY-MM-DDTHH:MM:SSZ)
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only observations with a metric of this name
    #[arg(long, value_name = "NAME")]
    metric: Option<String>,
    /// Print JSON (schema/drift-list.schema.json)
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// One JSON object per line instead of one array
    #[arg(long)]
    json_lines: bool,
}

pub fn run(ctx: &Context, cmd: DriftCommand) -> CommandResult {
    match cmd {
        DriftCommand::Record(a) => record(ctx, a),
        DriftCommand::List(a) => list(ctx, a),
        DriftCommand::Export(a) => export(ctx, a),
    }
}

fn record(ctx: &Context, a: RecordArgs) -> CommandResult {
    let key = a.sign.load()?;
    let text = reg::util::fsutil::read_small(
        &a.observation,
        reg::format::observation::OBSERVATION_FILE_LIMIT,
    )?;
    let value = reg::format::observation::parse_observation(&text).map_err(|e| {
        let e = e.to_string();
        let e = e.trim_start_matches("invalid JSON: ");
        CommandError::usage(format!("`{}` is not JSON: {e}", a.observation.display()))
    })?;
    let reg = ctx.open()?;
    let done = reg::ops::drift::record(&reg, &key, &a.model, value)?;
    outln!(
        "recorded drift observation {} of {} (ledger entry {} {})",
        done.count,
        done.spec,
        done.seq,
        done.entry
    );
    Ok(())
}

fn list(ctx: &Context, a: ListArgs) -> CommandResult {
    if let Some(s) = &a.since
        && reg::util::encoding::parse_rfc3339(s).is_none()
    {
        return Err(CommandError::usage(format!(
            "--since `{s}`: expected a time such as 2026-01-31T00:00:00Z"
        )));
    }
    let reg = ctx.open()?;
    let state = reg.state()?;
    let (id, model) = resolve(&state, &a.model)?;
    let list = reg::query::drift::list(&reg, &id, model, a.since.as_deref(), a.metric.as_deref())?;
    if a.json {
        jsonln!(&list);
        return Ok(());
    }
    for o in &list {
        let window = &o.observation["window"];
        outln!(
            "entry {} {}..{} samples {} by {}",
            o.seq,
            window["start"].as_str().unwrap_or("?"),
            window["end"].as_str().unwrap_or("?"),
            o.observation["samples"],
            o.reporter
        );
        for m in o.observation["metrics"].as_array().into_iter().flatten() {
            let threshold = m
                .get("threshold")
                .map(|t| format!(" (threshold {t})"))
                .unwrap_or_default();
            outln!(
                "  {:<24} {:<12} {}{threshold}",
                m["name"].as_str().unwrap_or("?"),
                m["kind"].as_str().unwrap_or("?"),
                m["value"]
            );
        }
    }
    if list.is_empty() {
        outln!("no drift observation of {}@{}", model.name, model.version);
    }
    Ok(())
}

fn export(ctx: &Context, a: ExportArgs) -> CommandResult {
    let reg = ctx.open()?;
    let state = reg.state()?;
    let mut all = Vec::new();
    for (id, m) in state.models().iter().filter(|(_, m)| m.drift.is_some()) {
        all.extend(reg::query::drift::list(&reg, id, m, None, None)?);
    }
    all.sort_by_key(|o| o.seq);
    if a.json_lines {
        for o in &all {
            super::sanitize::write_json_line(std::io::stdout().lock(), o)?;
        }
    } else {
        jsonln!(&all);
    }
    Ok(())
}
