//! `reg diff A B`: what changed from one model to another (`reg::query::diff`).

use crate::cli::prelude::*;
use reg::query::diff::{ArtifactChange, ArtifactSide, Diff, Side};
use reg::state::resolve::resolve;
use serde_json::Value;
use std::process::ExitCode;

/// Show what changed between two models: metadata fields, artifacts by path, state and slots
///
/// Typically two versions of one name (`reg diff det@1.0.0 det@latest`), but any two models.
/// Exit 0: it is a report; with --exit-code, exit 1 when the records differ, as `git diff
/// --exit-code`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The first model: name@version, name@latest, a name that has one version, a record id or
    /// a unique id prefix
    #[arg(value_name = "A")]
    a: String,
    /// The second model, named the same ways
    #[arg(value_name = "B")]
    b: String,
    /// Print JSON (schema/diff.schema.json)
    #[arg(long)]
    json: bool,
    /// Exit 1 when the records differ (a metadata field or an artifact), 0 when they do not
    #[arg(long)]
    exit_code: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult<ExitCode> {
    let reg = ctx.open()?;
    let state = reg.state()?;
    let a = resolve(&state, &args.a)?;
    let b = resolve(&state, &args.b)?;
    let d = reg::query::diff::diff(&reg, &state, (&a.0, a.1), (&b.0, b.1))?;
    if args.json {
        jsonln!(&d);
    } else {
        print(&d)?;
    }
    Ok(ExitCode::from(u8::from(args.exit_code && d.differ)))
}

/// Prints the diff: the two sides, the fields that differ, the artifacts' counts and changes.
fn print(d: &Diff) -> CommandResult {
    outln!("--- a {}", side(&d.a));
    outln!("+++ b {}", side(&d.b));
    if !d.differ {
        outln!("the records are the same: no field and no artifact differ");
        return Ok(());
    }
    for f in &d.fields {
        outln!(
            "{:<16} {} -> {}",
            format!("{}:", f.field),
            text(&f.a),
            text(&f.b)
        );
    }
    let x = &d.artifacts;
    outln!(
        "artifacts: {} added, {} removed, {} changed, {} unchanged",
        x.added.len(),
        x.removed.len(),
        x.changed.len(),
        x.unchanged
    );
    for c in &x.added {
        outln!("  + {}  {}", c.path, artifact(c.b.as_ref()));
    }
    for c in &x.removed {
        outln!("  - {}  {}", c.path, artifact(c.a.as_ref()));
    }
    for c in &x.changed {
        print_changed(c)?;
    }
    Ok(())
}

/// One artifact whose bytes changed: each side on its own line, as `git diff --stat` meets
/// cargo's `Updating a v1 -> v2`.
fn print_changed(c: &ArtifactChange) -> CommandResult {
    outln!("  ~ {}", c.path);
    outln!("      a {}", artifact(c.a.as_ref()));
    outln!("      b {}", artifact(c.b.as_ref()));
    Ok(())
}

/// `name@version (record PREFIX, STATE, slot S, …)`.
fn side(s: &Side) -> String {
    let mut notes = vec![
        format!("record {}", &s.id.to_string()[..16]),
        s.state.name().to_string(),
    ];
    notes.extend(s.slots.iter().map(|slot| format!("slot {slot}")));
    if s.purged {
        notes.push("purged".to_string());
    }
    format!("{}@{} ({})", s.name, s.version, notes.join(", "))
}

/// `BLAKE3  SIZE bytes  FORMAT`.
fn artifact(a: Option<&ArtifactSide>) -> String {
    a.map_or_else(
        || "(none)".to_string(),
        |a| format!("{}  {} bytes  {}", a.blake3, a.size, a.format.name()),
    )
}

/// A field's value for people: text as it is, a list joined by commas, absent as `(none)`.
fn text(v: &Value) -> String {
    match v {
        Value::Null => "(none)".to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "[]".to_string(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(o) => match (o.get("name"), o.get("hash")) {
            (Some(n), Some(h)) => format!("{} {}", text(n), text(h)),
            _ => v.to_string(),
        },
        other => other.to_string(),
    }
}
