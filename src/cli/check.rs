//! `reg check`: the load gate on the command line.

use crate::cli::prelude::*;
use reg::gate::decision_log::{LogHost, LogReport, append_log, verify_log};
use reg::gate::{Decision, Gate, GateOptions, Scope};
use reg::query::revoked::revoked_keys;
use reg::repo::registry::Registry;
use reg::state::resolve::{ResolveError, resolve, resolve_slot};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Allow a file only if its bytes, hashed now, are an artifact of an approved model
///
/// Exit 0 only if every file is allowed, 1 if any is denied. Use --slot (or --model) to require
/// the file to belong to that model: a file shared by several models is otherwise allowed if any
/// approved one holds it. A registry this host has not pinned (`reg trust add`, --trust) denies
/// every file. A link (a Hugging Face cache) is followed to a regular file and both names are
/// reported; a directory is a model directory: every file under it is checked. A path that
/// cannot be read is denied (not-found, not-regular, unreadable) and the others are still
/// checked.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The files to check: a file, a link to one, a model directory (every file under it), or
    /// `-` for standard input
    #[arg(required_unless_present = "verify_log", value_name = "PATH")]
    files: Vec<PathBuf>,
    /// Allow only artifacts of this slot's active model
    #[arg(long, conflicts_with = "model")]
    slot: Option<String>,
    /// Allow only artifacts of this model (name@version, name@latest, a name that has one
    /// version, a record id or unique prefix)
    #[arg(long)]
    model: Option<String>,
    /// Append every decision to this decision log (each line authenticated with this host's log
    /// key; reg refuses to append to a log that does not verify)
    #[arg(long, env = "REG_GATE_LOG", value_name = "FILE")]
    log: Option<PathBuf>,
    /// Verify a decision log instead of checking files: every line's MAC with this host's key,
    /// and its length against this host's record of it
    #[arg(long, value_name = "FILE", conflicts_with_all = ["slot", "model"])]
    verify_log: Option<PathBuf>,
    /// Print JSON: the decisions (schema/check.schema.json), or with --verify-log what was
    /// verified (schema/log-verify.schema.json)
    #[arg(long)]
    json: bool,
    /// Decide even if this host has not pinned the registry (it then vouches only for itself:
    /// anyone's root key can make a registry that allows anything; never for a production gate)
    #[arg(long)]
    allow_unpinned: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult<ExitCode> {
    if let Some(log) = &args.verify_log {
        return verify(ctx, log, args.json);
    }
    // Opened without Context::open's note: the gate says itself what an unpinned registry means.
    let reg = Registry::find(&ctx.opts)?;
    let gate = Gate::new(
        &reg,
        GateOptions::default().with_allow_unpinned(args.allow_unpinned),
    )?;
    let scope = match (&args.slot, &args.model) {
        (Some(slot), _) => Scope::Slot(slot.clone()),
        (None, Some(m)) => Scope::Model(resolve(gate.state(), m)?.0),
        (None, None) => Scope::Any,
    };
    if args
        .files
        .iter()
        .filter(|f| super::stdio::is_dash(f))
        .count()
        > 1
    {
        return Err(CommandError::usage(
            "`-` (standard input) is given more than once: it can be read only once",
        ));
    }
    let mut decisions: Vec<Decision> = Vec::with_capacity(args.files.len());
    for f in &args.files {
        if super::stdio::is_dash(f) {
            decisions.push(gate.check_reader(f, &mut std::io::stdin(), &scope));
        } else {
            decisions.extend(gate.check_path(f, &scope));
        }
    }
    if let Some(log) = &args.log {
        append_log(
            &LogHost::at(&ctx.opts.trust.host.dir),
            log,
            &decisions,
            &ctx.opts.clock.now()?,
        )?;
    }
    if args.json {
        jsonln!(&decisions);
    } else {
        print_decisions(&decisions)?;
    }
    print_warnings(&reg, &gate, &args, &decisions);
    Ok(ExitCode::from(if decisions.iter().all(|d| d.allowed) {
        0
    } else {
        1
    }))
}

/// `reg check --verify-log`: verifies a decision log and says what it proves. Exit 1 for a log
/// in the old, unauthenticated format.
fn verify(ctx: &Context, log: &Path, json: bool) -> CommandResult<ExitCode> {
    let report = verify_log(&LogHost::at(&ctx.opts.trust.host.dir), log)?;
    if json {
        // `schema/log-verify.schema.json`; a log that fails is an error on stderr, as for text.
        let value = match &report {
            LogReport::Authenticated {
                log: id,
                lines,
                recorded,
            } => serde_json::json!({"file": log, "result": "authenticated", "log": id.to_string(),
                "lines": lines, "recorded": recorded}),
            LogReport::Empty => serde_json::json!({"file": log, "result": "empty", "lines": 0}),
            LogReport::Unauthenticated { lines } => {
                serde_json::json!({"file": log, "result": "unauthenticated", "lines": lines})
            }
        };
        jsonln!(&value);
        let ok = !matches!(report, LogReport::Unauthenticated { .. });
        return Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    match report {
        LogReport::Authenticated {
            log: id,
            lines,
            recorded,
        } => {
            outln!(
                "decision log OK: {lines} decision(s) (log {id}), every line authenticated with this host's log key, none missing from the {recorded} this host recorded"
            );
            Ok(ExitCode::SUCCESS)
        }
        LogReport::Empty => {
            outln!("decision log OK: empty");
            Ok(ExitCode::SUCCESS)
        }
        LogReport::Unauthenticated { lines } => {
            outln!(
                "decision log UNAUTHENTICATED: {lines} decision(s) in the old format; its hash chain is intact, but anyone who can edit the file can recompute it"
            );
            errln!(
                "hint: keep it as an archive; `reg check --log` writes authenticated logs to a new file"
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// Prints each decision, one a line.
fn print_decisions(decisions: &[Decision]) -> CommandResult {
    for d in decisions {
        let verdict = if d.allowed { "ALLOW" } else { "DENY " };
        let model = d
            .model
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        // A link's resolved file beside its name, as `ls -l` shows it; `-` for a file never read.
        let resolved = d
            .resolved
            .as_ref()
            .map(|r| format!(" -> {}", r.display()))
            .unwrap_or_default();
        let hash = d.hash.map(|h| h.to_string()).unwrap_or_else(|| "-".into());
        outln!(
            "{verdict} {hash}  {}{resolved}{model}: {} [{}]",
            d.path.display(),
            d.reason,
            d.code.as_str()
        );
    }
    Ok(())
}

/// Prints, on stderr, what an unpinned registry means for these decisions (or how to pin it),
/// then each decision's warning.
fn print_warnings(reg: &Registry, gate: &Gate, args: &Args, decisions: &[Decision]) {
    if !gate.pinned() {
        if args.allow_unpinned {
            errln!(
                "warning: registry {} is not pinned on this host; --allow-unpinned: these decisions are only its own word",
                reg.id()
            );
        } else {
            errln!("hint: {}", reg::refusal::unpinned_hint(reg));
        }
    }
    if let Some(slot) = &args.slot
        && let Err(ResolveError::NoActiveModel { active, .. }) = resolve_slot(gate.state(), slot)
    {
        // Denied, as the gate must: say which slots the operator may have meant, as the one
        // lookup of a slot's active model lists them.
        if active.is_empty() {
            errln!(
                "hint: slot `{slot}` has no active model, and no slot has one (`reg activate SLOT MODEL` sets one)"
            );
        } else {
            errln!(
                "hint: slot `{slot}` has no active model; the slots with one: {} (`reg status`)",
                active.join(", ")
            );
        }
    }
    for d in decisions {
        if let Some(w) = &d.warning {
            errln!("warning: {}: {w}", d.path.display());
        }
    }
    print_revoked_keys(reg, gate, decisions);
}

/// Warns, for each allowed file, of the revoked keys its model rests on and which way each was
/// revoked (FORMAT.md §5.3): a retired key's signatures stay valid, so the decision stands, but
/// whoever loads the file should know. A suspended model is denied, and its reason says why.
fn print_revoked_keys(reg: &Registry, gate: &Gate, decisions: &[Decision]) {
    let state = gate.state();
    for d in decisions.iter().filter(|d| d.allowed) {
        let Some((id, m)) = d.record.and_then(|r| state.models().get_key_value(&r)) else {
            continue;
        };
        let spec = state.spec(id);
        match revoked_keys(reg, state, id, m) {
            Ok(keys) => {
                for k in keys {
                    errln!("warning: {}: {spec} rests on {k}", d.path.display());
                }
            }
            Err(e) => errln!(
                "warning: {}: could not read which keys {spec} rests on: {e}",
                d.path.display()
            ),
        }
    }
}
