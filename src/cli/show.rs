//! `reg show`: one model's full record, or with `--card` its model card (`card.rs`).

mod card;

use super::model_arg::{ModelArg, print_versions};
use crate::cli::prelude::*;
use reg::query::record::RecordView;

/// Show a model's record: metadata, artifacts with their BLAKE3, publisher, state, admission,
/// and its complete history (which replays the whole ledger)
///
/// A name with several versions lists them (name@version, state, slots) and exits 2: name one
/// as NAME@VERSION, or NAME@latest for the highest release.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArg,
    /// Print JSON (schema/model-record.schema.json)
    #[arg(long, conflicts_with = "card")]
    json: bool,
    /// Print a model card in Markdown: metadata, intended use, provenance, artifacts, lifecycle
    /// history with signers, slots, drift summary, gate standing
    #[arg(long)]
    card: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let reg = ctx.open()?;
    // One committed state for the record and its history (which replays the ledger).
    let _reading = reg.read_lock()?;
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
    // The record programs read (`reg::report::record`); the text is made of the same view.
    let pinned = reg::report::record(&reg, &state, &id, model)?;
    if args.json {
        jsonln!(&pinned);
        return Ok(());
    }
    let v = pinned.value;
    if args.card {
        return card::print(&v);
    }
    print_summary(&v, &state)?;
    print_drift(&v)?;
    print_history(&v)?;
    print_artifacts(&v)
}

/// Prints the record's metadata, publisher, admission and slots, one field a line.
/// Keys are named as `reg key trust --name` named them, beside their fingerprints.
fn print_summary(v: &RecordView, state: &reg::state::State) -> CommandResult {
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
    if let Some(o) = &v.owner {
        outln!("owner:       {o}");
    }
    if let Some(l) = &v.license {
        outln!("license:     {l}");
    }
    for (k, val) in &v.labels {
        outln!("label:       {k}={val}");
    }
    for p in &v.provenance {
        outln!("provenance:  {} {}", p.name, p.hash);
    }
    outln!(
        "publisher:   {} (packed {})",
        signer(&v.publisher.fingerprint, v.publisher.name.as_deref()),
        v.created
    );
    outln!(
        "added:       entry {} {} by {} at {}",
        v.added.seq,
        v.added.entry,
        signer(&v.added.operator, v.added.operator_name.as_deref()),
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
            signer(&s.key, state.key_name(&s.key)),
            s.seq,
            v.name,
            v.version
        );
    }
    if let Some(why) = &v.blocked {
        outln!("gate denies:  {why}");
    }
    for k in &v.revoked_keys {
        let key = signer(&k.fingerprint, state.key_name(&k.fingerprint));
        outln!("revoked key: {}", k.describe(&key));
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

/// Prints the model's complete history, oldest first, one entry a line: the action, the state
/// after it, who signed it (name and fingerprint), the slot and what else it did, and why.
fn print_history(v: &RecordView) -> CommandResult {
    outln!("history:");
    for h in &v.history {
        outln!("  {}", history_line(h));
    }
    Ok(())
}

/// One history item as `show` prints it (and the model card lists it).
pub fn history_line(h: &reg::query::record::HistoryItem) -> String {
    let mut text = format!(
        "entry {:<6} {}  {:<9} -> {:<10} by {}",
        h.seq,
        h.time,
        h.action,
        h.state.name(),
        signer(&h.actor, h.actor_name.as_deref())
    );
    if let Some(slot) = &h.slot {
        text.push_str(&format!("; slot {slot}"));
    }
    if let Some(detail) = &h.detail {
        text.push_str(&format!("; {detail}"));
    }
    if let Some(reason) = &h.reason {
        text.push_str(&format!(": {reason}"));
    }
    text
}

/// A key as people read it: `alice, duty operator (0123…)`, or the fingerprint alone.
pub fn signer(fp: &reg::crypto::keys::Fingerprint, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{name} ({fp})"),
        None => fp.to_string(),
    }
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
