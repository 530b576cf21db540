//! `reg fsck`: PASS or FAIL, with every finding naming the file or object at fault.

use crate::cli::prelude::*;
use reg::fsck::{Glob, Options, Severity, check};
use std::path::PathBuf;
use std::process::ExitCode;

/// Check the whole registry (exit 0 PASS, 1 FAIL, 2 usage or I/O error, 3 busy)
///
/// Objects, ledger (chain, signatures, roles at each point), records and their publishers, refs
/// and index against a replay of the ledger, active slots; with --scan, every file under DIR
/// (whatever its name or format; links followed to their target's bytes) must be an artifact of
/// an approved model, unless an --ignore pattern matches it. Reads only, one committed state
/// while others write: a commit in progress is waited for (REG_LOCK_TIMEOUT seconds at most).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A directory whose every file must be an artifact of an approved model (repeatable)
    #[arg(long, value_name = "DIR")]
    scan: Vec<PathBuf>,
    /// Leave out of --scan what this pattern matches, relative to the scanned directory: `*` and
    /// `?` within a name, `**` for any depth; a matched directory with all it holds (repeatable)
    #[arg(long, value_name = "GLOB", requires = "scan")]
    ignore: Vec<Glob>,
    /// Pass without a pinned root of trust (the report says it was checked only against itself)
    #[arg(long)]
    allow_unpinned: bool,
    /// Print the report as JSON (schema/fsck-report.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult<ExitCode> {
    let report = check(
        ctx.registry(),
        &ctx.opts,
        &Options {
            scan: args.scan,
            ignore: args.ignore,
            allow_unpinned: args.allow_unpinned,
        },
    )?;
    if args.json {
        jsonln!(&report);
    } else {
        for f in &report.findings {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let at = f
                .path
                .as_ref()
                .map(|p| format!(" {}:", p.display()))
                .or_else(|| f.object.map(|o| format!(" {o}:")))
                .unwrap_or_default();
            outln!("{level}[{}]{at} {}", f.code, f.message);
        }
        let c = &report.checked;
        outln!(
            "{}: {} objects ({} bytes), {} ledger entries, {} models{} checked; {} error(s), {} warning(s)",
            report.result,
            c.objects,
            c.bytes,
            c.entries,
            c.models,
            scan_summary(c),
            report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count(),
            report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Warning)
                .count(),
        );
    }
    Ok(ExitCode::from(if report.result == "PASS" { 0 } else { 1 }))
}

/// `, N scanned files (A approved, ...; I ignored)` when something was scanned or ignored.
fn scan_summary(c: &reg::fsck::Counts) -> String {
    if c.scanned == 0 && c.ignored == 0 {
        return String::new();
    }
    let v = &c.verdicts;
    let verdicts: Vec<String> = [
        (v.approved, "approved"),
        (v.deprecated, "deprecated"),
        (v.unapproved, "unapproved"),
        (v.revoked, "revoked"),
        (v.unregistered, "unregistered"),
        (v.denied, "denied"),
        (v.refused, "refused"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    let verdicts = if verdicts.is_empty() {
        String::new()
    } else {
        format!("{}; ", verdicts.join(", "))
    };
    format!(
        ", {} scanned files ({verdicts}{} ignored)",
        c.scanned, c.ignored
    )
}
