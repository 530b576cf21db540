//! `reg export`: write a transfer file for another site, or check one (FORMAT.md §11).

use crate::cli::prelude::*;
use reg::ops::export::{Exported, Outcome, Since, export, export_stream, verify_file};
use std::path::PathBuf;

/// Write a transfer file for another site: the ledger entries after a base, every object they
/// reach that the base lacks, and the signed checkpoint
///
/// Without --since or --since-seq it is a full export. The file is written beside OUT and
/// renamed into place when complete; an existing OUT is never overwritten; `-` writes the
/// transfer to standard output (and the summary to standard error). A base that is this
/// registry's head leaves nothing to export: "already up to date", exit 0, no file written.
/// With --verify FILE, reads a transfer file through instead and checks what it can prove by
/// itself.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The transfer file to create; `-` writes standard output
    #[arg(value_name = "OUT", required_unless_present_any = ["verify", "output"])]
    out: Option<PathBuf>,
    /// The transfer file to create, as OUT (`-o -`: standard output)
    #[arg(
        short = 'o',
        long = "output",
        value_name = "OUT",
        conflicts_with = "out"
    )]
    output: Option<PathBuf>,
    /// The receiving site's `.registry/checkpoint`, carried back: export only what it lacks
    #[arg(long, value_name = "CHECKPOINT_FILE", conflicts_with = "since_seq")]
    since: Option<PathBuf>,
    /// Export only the entries after entry N of this ledger
    #[arg(long, value_name = "N")]
    since_seq: Option<u64>,
    /// Check a transfer file instead (layout, limits, every object's BLAKE3, the trailer); its
    /// signatures are checked by the importing registry
    #[arg(long, value_name = "FILE", conflicts_with_all = ["out", "output", "since", "since_seq"])]
    verify: Option<PathBuf>,
    /// Print what was exported as JSON (schema/export.schema.json); not with OUT `-`
    #[arg(long, conflicts_with = "verify")]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    if let Some(file) = &args.verify {
        let c = verify_file(file)?;
        let h = &c.header;
        let base = match h.base {
            Some(b) => format!("after entry {} ({})", b.seq, b.head),
            None => "from genesis (full export)".into(),
        };
        outln!(
            "transfer file OK: registry {}, entries {} to {} {base}, head {}: {} entries, {} records, {} artifacts, {} bytes; every object hashes to its id",
            h.registry,
            h.first_seq(),
            h.head.seq,
            h.head.head,
            c.entries,
            c.records,
            c.artifacts,
            h.bytes
        );
        outln!(
            "note: signatures and trust are checked against the receiving registry when it imports the file"
        );
        return Ok(());
    }
    let out = args
        .out
        .or(args.output)
        .ok_or_else(|| CommandError::usage("give OUT, the transfer file to create"))?;
    let since = match (&args.since, args.since_seq) {
        (Some(file), _) => Since::Checkpoint(reg::util::fsutil::read_small(
            file,
            reg::format::checkpoint::CHECKPOINT_LIMIT,
        )?),
        (None, Some(n)) => Since::Seq(n),
        (None, None) => Since::Full,
    };
    let stdout = super::stdio::is_dash(&out);
    if stdout && args.json {
        return Err(CommandError::usage(
            "--json with OUT `-`: standard output carries the transfer itself",
        ));
    }
    if stdout {
        super::stdio::refuse_terminal_dash("a transfer file", "reg export")?;
    }
    let reg = ctx.open()?;
    let done = if stdout {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        let done = export_stream(&reg, &since, &mut w)?;
        std::io::Write::flush(&mut w)?;
        done
    } else {
        export(&reg, &since, &out)?
    };
    if args.json {
        jsonln!(&to_json(&done, &out));
        return Ok(());
    }
    let done = match done {
        Outcome::UpToDate { seq } => {
            let line = format!(
                "already up to date: the base is entry {seq}, this registry's head; nothing to export, no file written"
            );
            if stdout {
                errln!("{line}");
            } else {
                outln!("{line}");
            }
            return Ok(());
        }
        Outcome::Written(done) => done,
    };
    let line = summary(&done, &out);
    // Standard output carries the transfer itself.
    if stdout {
        errln!("{line}");
    } else {
        outln!("{line}");
    }
    Ok(())
}

/// `reg export --json` (schema/export.schema.json).
fn to_json(done: &Outcome, out: &std::path::Path) -> serde_json::Value {
    use serde_json::json;
    match done {
        Outcome::UpToDate { seq } => json!({
            "up_to_date": true,
            "out": null,
            "head": {"seq": seq},
        }),
        Outcome::Written(d) => {
            let h = &d.header;
            json!({
                "up_to_date": false,
                "out": out.display().to_string(),
                "registry": h.registry.to_string(),
                "base": h.base.map(|b| json!({"seq": b.seq, "id": b.head.to_string()})),
                "head": {"seq": h.head.seq, "id": h.head.head.to_string()},
                "objects": h.objects,
                "records": d.records,
                "artifacts": d.artifacts,
                "bytes": h.bytes,
            })
        }
    }
}

fn summary(done: &Exported, out: &std::path::Path) -> String {
    let h = &done.header;
    let from = match h.base {
        Some(b) => format!("after entry {} ({})", b.seq, b.head),
        None => "from genesis (full export)".into(),
    };
    let to = if super::stdio::is_dash(out) {
        "standard output".to_string()
    } else {
        out.display().to_string()
    };
    format!(
        "exported entries {} to {} {from}, head {}: {} objects ({} records, {} artifacts), {} bytes, to {to}",
        h.first_seq(),
        h.head.seq,
        h.head.head,
        h.objects,
        done.records,
        done.artifacts,
        h.bytes,
    )
}
