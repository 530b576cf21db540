//! `reg show`: one model's full record.

use super::Context;
use super::error::CommandResult;
use super::model_arg::{ModelArg, print_versions};
use reg::query::record::{RecordView, view};

/// Show a model's record: metadata, artifacts with their BLAKE3, publisher, state, admission
///
/// A name with several versions lists them (name@version, state, slots) and exits 2: name one
/// as NAME@VERSION, or NAME@latest for the highest.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArg,
    /// Print JSON (schema/model-record.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let reg = ctx.open()?;
    let state = reg.state()?;
    let (id, model) = match args.model.resolve(&state) {
        Ok(found) => found,
        Err(e) => {
            if !args.json {
                print_versions(&state, &e)?;
            }
            return Err(e.into());
        }
    };
    let v = view(&reg, &state, &id, model)?;
    if args.json {
        jsonln!(&super::pinned::WithTrust {
            value: &v,
            trust: super::pinned::Trust::of(reg.pin()),
        });
        return Ok(());
    }
    print_summary(&v)?;
    print_drift(&v)?;
    print_history(&v)?;
    print_artifacts(&v)
}

/// Prints the record's metadata, publisher, admission and slots, one field a line.
fn print_summary(v: &RecordView) -> CommandResult {
    let state_name = serde_json::to_value(v.state)?;
    outln!(
        "{}@{}  {}",
        v.name,
        v.version,
        state_name.as_str().unwrap_or_default()
    );
    outln!("record:      {}", v.id);
    outln!("type:        {}", v.model_type);
    outln!("uses:        {}", v.uses.join(", "));
    outln!("description: {}", v.description);
    if let Some(f) = &v.framework {
        outln!("framework:   {f}");
    }
    for (k, val) in &v.labels {
        outln!("label:       {k}={val}");
    }
    for p in &v.provenance {
        outln!("provenance:  {} {}", p.name, p.hash);
    }
    outln!(
        "publisher:   {} (packed {})",
        v.publisher.fingerprint,
        v.created
    );
    outln!(
        "added:       entry {} {} by {} at {}",
        v.added.seq,
        v.added.entry,
        v.added.operator,
        v.added.time
    );
    let sealed = match v.added.encrypted {
        Some(true) => " (received encrypted)",
        Some(false) => " (received not encrypted)",
        None => "",
    };
    outln!("bundle:      {}{sealed}", v.added.bundle);
    for slot in &v.slots {
        outln!("active in:   slot {slot}");
    }
    if let Some(s) = &v.suspended {
        outln!(
            "suspended:   key {} it rests on was revoked as compromised at entry {}: the gate denies it until an operator re-approves it (`reg reapprove {}@{}`) or revokes it",
            s.key,
            s.seq,
            v.name,
            v.version
        );
    }
    if let Some(why) = &v.blocked {
        outln!("gate denies:  {why}");
    }
    for k in &v.revoked_keys {
        outln!("revoked key: {k}");
    }
    Ok(())
}

/// Prints the drift summary, if any, with the latest observation's metrics.
fn print_drift(v: &RecordView) -> CommandResult {
    if let Some(d) = &v.drift {
        outln!(
            "drift:       {} observation(s), latest entry {}",
            d.count,
            d.last
        );
        for m in d.latest["metrics"].as_array().into_iter().flatten() {
            outln!(
                "  {:<24} {:<12} {}",
                m["name"].as_str().unwrap_or("?"),
                m["kind"].as_str().unwrap_or("?"),
                m["value"]
            );
        }
    }
    Ok(())
}

/// Prints the model's history, oldest first, one entry a line.
fn print_history(v: &RecordView) -> CommandResult {
    outln!("history:");
    for h in &v.history {
        let reason = h
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        outln!(
            "  entry {:<6} {}  {:<9} -> {:<10} by {}{reason}",
            h.seq,
            h.time,
            h.action,
            h.state.name(),
            h.actor
        );
    }
    Ok(())
}

/// Prints the artifacts, one a line, marking those that run code when loaded.
fn print_artifacts(v: &RecordView) -> CommandResult {
    outln!("artifacts:");
    for a in &v.artifacts {
        let warn = if a.runs_code_when_loaded {
            "  (runs code when loaded)"
        } else {
            ""
        };
        outln!(
            "  {}  {:>12}  {:<11}  {}{warn}",
            a.blake3,
            a.size,
            a.format.name(),
            a.path
        );
    }
    Ok(())
}
