//! `reg show --card`: a model card in Markdown, made from the verified record and its history.
//!
//! Every value comes from the signed record or the verified ledger; none is typed by hand. Text
//! from the record (description, labels, owner, license, reasons) is the publisher's or an
//! operator's: Markdown's own characters in it are escaped ([`md`]), so that a description can
//! neither open a heading, a link or an HTML element nor break a table; terminal escapes are
//! `outln!`'s.

use super::signer;
use crate::cli::error::CommandResult;
use reg::format::lifecycle::LifecycleState;
use reg::query::record::RecordView;

/// Prints the card of `v`.
pub fn print(v: &RecordView) -> CommandResult {
    for line in card(v) {
        outln!("{line}");
    }
    Ok(())
}

/// The card's lines: the title, then one section each for the model, its intended use, its
/// provenance, publisher and admission, artifacts, lifecycle history, slots, drift and gate
/// standing.
pub fn card(v: &RecordView) -> Vec<String> {
    let mut out = vec![
        format!("# {}@{}", md(&v.name), md(&v.version)),
        String::new(),
        format!(
            "Model card made by reg from the signed record `{}`; every value below is the record's or the verified ledger's.",
            v.id
        ),
    ];
    section(&mut out, "Model");
    out.push("| Field | Value |".into());
    out.push("| --- | --- |".into());
    let mut row = |k: &str, val: String| out.push(format!("| {k} | {val} |"));
    row("Name", md(&v.name));
    row("Version", md(&v.version));
    row("Type", md(&v.model_type));
    row("Description", md(&v.description));
    if let Some(f) = &v.framework {
        row("Framework", md(f));
    }
    row("Owner", v.owner.as_deref().map_or("not stated".into(), md));
    row(
        "License",
        v.license.as_deref().map_or("not stated".into(), md),
    );
    for (k, val) in &v.labels {
        row("Label", format!("{} = {}", md(k), md(val)));
    }
    row("Lifecycle state", v.state.name().into());
    row("Record", format!("`{}`", v.id));

    section(&mut out, "Intended use");
    out.extend(v.uses.iter().map(|u| format!("- {}", md(u))));

    section(&mut out, "Provenance");
    if v.provenance.is_empty() {
        out.push("No training data is named in the record.".into());
    }
    out.extend(
        v.provenance
            .iter()
            .map(|p| format!("- {}: `{}`", md(&p.name), md(&p.hash))),
    );
    out.push(String::new());
    out.push(format!(
        "- Published by {}, packed {}",
        md(&signer(
            &v.publisher.fingerprint,
            v.publisher.name.as_deref()
        )),
        v.created
    ));
    out.push(format!(
        "- Added at entry {} by {} at {}; bundle `{}`{}",
        v.added.seq,
        md(&signer(&v.added.operator, v.added.operator_name.as_deref())),
        v.added.time,
        v.added.bundle,
        match v.added.encrypted {
            Some(true) => " (received encrypted)",
            Some(false) => " (received not encrypted)",
            None => "",
        }
    ));

    artifacts(&mut out, v);
    history(&mut out, v);

    section(&mut out, "Slots");
    if v.slots.is_empty() {
        out.push("Not the active model of any slot.".into());
    }
    out.extend(
        v.slots
            .iter()
            .map(|s| format!("- Active in slot {}", md(s))),
    );

    drift(&mut out, v);

    section(&mut out, "Gate standing");
    out.push(standing(v));
    out
}

/// Starts a section: a blank line, its heading, a blank line.
fn section(out: &mut Vec<String>, title: &str) {
    out.push(String::new());
    out.push(format!("## {title}"));
    out.push(String::new());
}

/// The artifacts table: path, size, format, BLAKE3, whether loading runs code.
fn artifacts(out: &mut Vec<String>, v: &RecordView) {
    section(out, "Artifacts");
    out.push("| Path | Size (bytes) | Format | BLAKE3 | Loading runs code |".into());
    out.push("| --- | ---: | --- | --- | --- |".into());
    for a in &v.artifacts {
        out.push(format!(
            "| {} | {} | {} | `{}` | {} |",
            md(&a.path),
            a.size,
            a.format.name(),
            a.blake3,
            if a.runs_code_when_loaded {
                "**yes**"
            } else {
                "no"
            }
        ));
    }
}

/// The lifecycle history table, oldest first, each entry with its signer's name and fingerprint.
fn history(out: &mut Vec<String>, v: &RecordView) {
    section(out, "Lifecycle history");
    out.push("| Entry | Time | Action | State after | Signed by | Detail | Reason |".into());
    out.push("| ---: | --- | --- | --- | --- | --- | --- |".into());
    for h in &v.history {
        let mut detail = Vec::new();
        if let Some(slot) = &h.slot {
            detail.push(format!("slot {slot}"));
        }
        if let Some(d) = &h.detail {
            detail.push(d.clone());
        }
        out.push(format!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            h.seq,
            h.time,
            h.action,
            h.state.name(),
            md(&signer(&h.actor, h.actor_name.as_deref())),
            md(&detail.join("; ")),
            md(h.reason.as_deref().unwrap_or(""))
        ));
    }
}

/// The drift summary: how many observations, the latest's entry, window and metric names.
fn drift(out: &mut Vec<String>, v: &RecordView) {
    section(out, "Drift");
    let Some(d) = &v.drift else {
        out.push("No drift observations.".into());
        return;
    };
    out.push(format!("- Observations: {}", d.count));
    out.push(format!("- Latest: entry `{}`", d.last));
    let window = &d.latest["window"];
    if let (Some(start), Some(end)) = (window["start"].as_str(), window["end"].as_str()) {
        out.push(format!("- Latest window: {} to {}", md(start), md(end)));
    }
    let names: Vec<String> = d.latest["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["name"].as_str())
        .map(md)
        .collect();
    out.push(format!("- Latest metrics: {}", names.join(", ")));
}

/// Whether the load gate allows the model, and if not why: its state, a suspension, denied
/// bytes or the policy (the gate's and `reg show`'s one answer).
fn standing(v: &RecordView) -> String {
    if let Some(s) = &v.suspended {
        return format!(
            "**Denied (suspended)**: key {} it rests on was revoked as compromised at entry {}; an operator must re-approve it.",
            s.key, s.seq
        );
    }
    if let Some(why) = &v.blocked {
        return format!("**Denied (blocked)**: {}.", md(why));
    }
    match v.state {
        LifecycleState::Promoted => "Allowed: the gate allows its artifacts (PROMOTED).".into(),
        LifecycleState::Deprecated => {
            "Allowed with a warning: the gate allows its artifacts (DEPRECATED).".into()
        }
        LifecycleState::Registered => {
            "**Denied**: REGISTERED, not promoted yet; the gate allows only approved models.".into()
        }
        LifecycleState::Revoked => "**Denied (revoked)**: the gate denies a revoked model.".into(),
    }
}

/// Text from a record or an entry, made inert in Markdown: each character Markdown gives a
/// meaning wherever it stands (emphasis, code, links, HTML, headings, tables, escapes) is
/// escaped with a backslash (parentheses, `+` and `!` mean something only after `]`, `[` or at
/// a line's start, which escaped brackets and the card's own prefixes rule out), and a line break (which would end a table row or open a block) becomes a space.
/// Other control characters are left to `outln!`, which escapes them for the terminal.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}
