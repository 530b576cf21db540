//! `reg drift record|list|export|import`: drift observations, stored and signed (no detection
//! logic); at a replica, signed reports in the outbox that travel home (FORMAT.md §11.10).

use super::sign::{DriftEntry, DriftImportEntry};
use crate::cli::prelude::*;
use reg::report::Target;
use std::path::{Path, PathBuf};

/// Record and read drift observations (storage only: reg computes nothing from them)
#[derive(Debug, clap::Subcommand)]
pub enum DriftCommand {
    /// Record an observation of a model, signed by a reporter key
    Record(RecordArgs),
    /// A model's observations, oldest first (--all: every model's)
    List(ListArgs),
    /// At a replica: write the outbox's drift reports to a report file for the home site
    Export(ExportArgs),
    /// At the home site: record the reports of a file `reg drift export OUT` wrote at a replica
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
#[command(
    override_usage = "reg drift record [OPTIONS] --key <REPORTER.pem> <MODEL> <OBSERVATION>\n       reg drift record [OPTIONS] --key <REPORTER.pem> --slot <SLOT> <OBSERVATION>"
)]
pub struct RecordArgs {
    /// The model observed: name@version, name@latest, a name that has one version, a record id
    /// or a unique id prefix (with --slot, leave it out: the one operand is the observation)
    #[arg(value_name = "MODEL", required = true)]
    model: Option<std::ffi::OsString>,
    /// The observation (JSON, schema/drift-observation.schema.json); `-` reads standard input
    #[arg(value_name = "OBSERVATION")]
    observation: Option<PathBuf>,
    /// Instead of MODEL: the model active in this slot (`reg drift record --slot SLOT OBSERVATION`)
    #[arg(long, value_name = "SLOT")]
    slot: Option<String>,
    #[command(flatten)]
    sign: Signing<DriftEntry>,
    /// At a replica: write a signed report to the registry's outbox instead of the ledger
    /// (a replica that appends to its ledger forks from home; `reg drift export OUT` carries
    /// the outbox home)
    #[arg(long)]
    outbox: bool,
    /// Print what was done as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

/// A model's observations, oldest first; with --all, every observation of every model in
/// ledger order
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The model: name@version, name@latest (its highest release), a name that has one
    /// version, a record id, or a unique id prefix
    #[arg(value_name = "MODEL", required_unless_present_any = ["all", "slot"], conflicts_with = "slot")]
    model: Option<String>,
    /// Instead of MODEL: the model active in this slot
    #[arg(long, value_name = "SLOT")]
    slot: Option<String>,
    /// Every observation of every model, in ledger order
    #[arg(long, conflicts_with_all = ["model", "slot", "since", "metric"])]
    all: bool,
    /// With --all: one JSON object per line instead of one array
    #[arg(long, requires = "all")]
    json_lines: bool,
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

/// At a replica: write the outbox's drift reports to the report file OUT for `reg drift import`
/// at the home site (reports this ledger already records are left out, unless --all); OUT is
/// never overwritten, `-` writes standard output. An outbox with nothing to send is "nothing to
/// export", exit 0, and no file is written.
///
/// Without OUT (deprecated) it prints every observation as JSON instead, as `reg drift list
/// --all --json` does, with a note on standard error.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The report file to create from the outbox; `-` writes standard output
    #[arg(value_name = "OUT")]
    out: Option<PathBuf>,
    /// Deprecated, without OUT: as `reg drift list --all --json-lines`
    #[arg(long, conflicts_with = "out", hide = true)]
    json_lines: bool,
    /// Only reports made at or after this time (YYYY-MM-DDTHH:MM:SSZ, the report's own time)
    #[arg(long, value_name = "TIME", requires = "out")]
    since: Option<String>,
    /// Also reports this registry's ledger already records (imported back from home)
    #[arg(long, requires = "out")]
    all: bool,
    /// Print what was written as JSON (schema/drift-export.schema.json); not with OUT `-`
    #[arg(long, requires = "out")]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The report file (`reg drift export OUT` at a replica)
    file: PathBuf,
    #[command(flatten)]
    sign: Signing<DriftImportEntry>,
    /// Print what was recorded as JSON (schema/write-result.schema.json, action `drift-import`)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, cmd: DriftCommand) -> CommandResult {
    match cmd {
        DriftCommand::Record(a) => record(ctx, a),
        DriftCommand::List(a) => list(ctx, a),
        DriftCommand::Export(a) => export(ctx, a),
        DriftCommand::Import(a) => import(ctx, a),
    }
}

/// The model and the observation file of `reg drift record`: `MODEL OBSERVATION`, or
/// `--slot SLOT OBSERVATION` (clap fills the first operand first, so the one operand given with
/// --slot arrives as `model`).
fn record_operands(a: &RecordArgs) -> CommandResult<(Target, PathBuf)> {
    match (&a.slot, &a.model, &a.observation) {
        (None, Some(model), Some(obs)) => {
            let spec = model.to_str().ok_or_else(|| {
                CommandError::usage(format!("model `{}` is not UTF-8", model.to_string_lossy()))
            })?;
            Ok((Target::Spec(spec.to_string()), obs.clone()))
        }
        (Some(slot), Some(obs), None) => Ok((Target::Slot(slot.clone()), PathBuf::from(obs))),
        (Some(_), _, Some(_)) => Err(CommandError::usage(
            "--slot names the model: give only the observation file (`reg drift record --slot SLOT OBSERVATION`)",
        )),
        _ => Err(CommandError::usage(
            "give the model and the observation file: `reg drift record MODEL OBSERVATION` or `reg drift record --slot SLOT OBSERVATION`",
        )),
    }
}

fn record(ctx: &Context, a: RecordArgs) -> CommandResult {
    let (observed, observation) = record_operands(&a)?;
    let key = a.sign.load()?;
    let limit = reg::format::observation::OBSERVATION_FILE_LIMIT;
    let from_stdin = super::stdio::is_dash(&observation);
    let text = if from_stdin {
        // The same limit as a file: at most limit + 1 bytes are read.
        let name = Path::new(super::stdio::STDIN);
        reg::util::fsutil::read_small_from(std::io::stdin().lock(), name, limit)?
    } else {
        reg::util::fsutil::read_small(&observation, limit)?
    };
    let value = reg::format::observation::parse_observation(&text).map_err(|e| {
        let e = e.to_string();
        let e = e.trim_start_matches("invalid JSON: ");
        let name = if from_stdin {
            super::stdio::STDIN.to_string()
        } else {
            observation.display().to_string()
        };
        CommandError::usage(format!("`{name}` is not JSON: {e}"))
    })?;
    let reg = ctx.open()?;
    // A slot names the model active in it now, by record id: the entry is about that model,
    // whatever the slot holds later.
    let spec = match observed {
        Target::Spec(spec) => spec,
        slot @ Target::Slot(_) => slot.spec(&*reg.state()?)?,
    };
    if a.outbox {
        let done = reg::ops::drift::record_to_outbox(&reg, &key, &spec, value)?;
        if a.json {
            // Nothing written to the ledger: the report waits in the outbox.
            return Written::drift_outboxed(&done).print();
        }
        outln!(
            "wrote drift report {} of {} to the outbox (checked at entry {}; the ledger is unchanged)",
            done.report,
            done.spec,
            done.seq
        );
        return Ok(());
    }
    let done = reg::ops::drift::record(&reg, &key, &spec, value)?;
    if a.json {
        return Written::drift_recorded(&done).print();
    }
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
    // Before the registry is opened, as always: a typo is said first.
    reg::report::check_since(a.since.as_deref()).map_err(reg::report::ReportError::from)?;
    let reg = ctx.open()?;
    if a.all {
        return list_all(&reg, a.json, a.json_lines);
    }
    let state = reg.state()?;
    let target = match (a.slot, a.model) {
        (Some(slot), _) => Target::Slot(slot),
        (None, spec) => Target::Spec(spec.unwrap_or_default()),
    };
    let (id, model) = target.resolve(&state)?;
    // The observations programs read (`reg::report::observations`); the text is made of them.
    let query = reg::report::DriftQuery {
        since: a.since,
        metric: a.metric,
    };
    let list = reg::report::observations(&reg, &state, &id, model, &query)?;
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
            named(&o.reporter, o.reporter_name.as_deref())
        );
        if let (Some(report), Some(op)) = (&o.report, &o.recorded_by) {
            outln!(
                "  made at a replica: report {report}, recorded by {}",
                named(op, o.recorded_by_name.as_deref())
            );
        }
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

/// A key as people read it: `alice (0123…)`, or its fingerprint alone.
fn named(fp: &reg::crypto::keys::Fingerprint, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{name} ({fp})"),
        None => fp.to_string(),
    }
}

fn export(ctx: &Context, a: ExportArgs) -> CommandResult {
    if let Some(out) = &a.out {
        return export_reports(ctx, out, a.since, a.all, a.json);
    }
    errln!(
        "note: `reg drift export` without OUT is deprecated: it prints every observation, which `reg drift list --all --json` does; `reg drift export OUT` writes the outbox's reports for the home site"
    );
    list_all(&ctx.open()?, true, a.json_lines)
}

/// Every observation of every model, in ledger order.
fn list_all(reg: &reg::repo::registry::Registry, json: bool, json_lines: bool) -> CommandResult {
    let all = reg::report::drift_all(reg)?;
    if json_lines {
        for o in &all {
            super::sanitize::write_json_line(std::io::stdout().lock(), o)?;
        }
    } else if json {
        jsonln!(&all);
    } else {
        for o in &all {
            outln!(
                "entry {} {} by {}",
                o.seq,
                o.spec,
                named(&o.reporter, o.reporter_name.as_deref())
            );
        }
        if all.is_empty() {
            outln!("no drift observation in this registry");
        }
    }
    Ok(())
}

fn export_reports(
    ctx: &Context,
    out: &Path,
    since: Option<String>,
    all: bool,
    json: bool,
) -> CommandResult {
    let stdout = super::stdio::is_dash(out);
    if stdout && json {
        return Err(CommandError::usage(
            "--json with OUT `-`: standard output carries the report file itself",
        ));
    }
    if let Some(s) = &since
        && reg::util::encoding::parse_rfc3339(s).is_none()
    {
        return Err(CommandError::usage(format!(
            "--since `{s}`: expected a time such as 2026-01-31T00:00:00Z"
        )));
    }
    let stdout = super::stdio::is_dash(out);
    if stdout {
        super::stdio::refuse_terminal_dash("a drift report file", "reg drift export")?;
    }
    let reg = ctx.open()?;
    let select = reg::ops::drift::Selection { all, since };
    let done = if stdout {
        reg::ops::drift::export_reports_to(&reg, &select, &mut std::io::stdout().lock())?
    } else {
        reg::ops::drift::export_reports(&reg, &select, out)?
    };
    if json {
        let written = !done.reports.is_empty();
        jsonln!(&serde_json::json!({
            "action": "drift-export",
            "written": written,
            "out": written.then(|| out.display().to_string()),
            "reports": done
                .reports
                .iter()
                .map(|(id, spec)| serde_json::json!({"report": id.to_string(), "model": spec}))
                .collect::<Vec<_>>(),
            "held": done.held,
            "skipped": done.skipped,
            "early": done.early,
            "bytes": done.bytes,
        }));
        return Ok(());
    }
    // Standard output carries the report file itself.
    let say = |line: String| -> CommandResult {
        if stdout {
            errln!("{line}");
        } else {
            outln!("{line}");
        }
        Ok(())
    };
    if done.reports.is_empty() {
        return say(format!(
            "nothing to export: the outbox holds {} report(s), {} of them already recorded in this registry's ledger and {} made before --since; no file written (`reg drift record MODEL OBS --key REPORTER.pem --outbox` records one)",
            done.held, done.skipped, done.early
        ));
    }
    for (id, spec) in &done.reports {
        say(format!("report {id} of {spec}"))?;
    }
    let skipped = if done.skipped > 0 {
        format!(
            "; {} already recorded in this ledger left out (--all keeps them)",
            done.skipped
        )
    } else {
        String::new()
    };
    let (to, file) = if stdout {
        ("standard output".to_string(), "FILE".to_string())
    } else {
        (out.display().to_string(), out.display().to_string())
    };
    say(format!(
        "wrote {} drift report(s) to {to} ({} bytes){skipped}; at the home site: reg drift import {file} --key OPERATOR.pem",
        done.reports.len(),
        done.bytes,
    ))
}

fn import(ctx: &Context, a: ImportArgs) -> CommandResult {
    let key = a.sign.load()?;
    let reg = ctx.open()?;
    let done = reg::ops::drift::import_reports(&reg, &key, &a.file)?;
    if a.json {
        return Written::drift_imported(&done).print();
    }
    if done.entries.is_empty() {
        outln!(
            "already up to date: the {} report(s) of {} are recorded in this ledger; nothing written",
            done.already.len(),
            a.file.display()
        );
        return Ok(());
    }
    for e in &done.entries {
        outln!(
            "recorded drift report {} of {} by reporter {} (ledger entry {} {})",
            e.report,
            e.spec,
            e.reporter,
            e.seq,
            e.entry
        );
    }
    if done.already.is_empty() {
        outln!("recorded {} drift report(s)", done.entries.len());
    } else {
        outln!(
            "recorded {} drift report(s); {} already recorded in this ledger left out",
            done.entries.len(),
            done.already.len()
        );
    }
    Ok(())
}
