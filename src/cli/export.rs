//! `reg export`: write a transfer file for another site (FORMAT.md §11).

use super::Context;
use reg::ops::export::{Since, export};
use std::path::PathBuf;

/// Write a transfer file for another site: the ledger entries after a base, every object they
/// reach that the base lacks, and the signed checkpoint
///
/// Without --since or --since-seq it is a full export. The file is written beside OUT and
/// renamed into place when complete; an existing OUT is never overwritten.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The transfer file to create
    #[arg(value_name = "OUT")]
    out: PathBuf,
    /// The receiving site's `.registry/checkpoint`, carried back: export only what it lacks
    #[arg(long, value_name = "CHECKPOINT_FILE", conflicts_with = "since_seq")]
    since: Option<PathBuf>,
    /// Export only the entries after entry N of this ledger
    #[arg(long, value_name = "N")]
    since_seq: Option<u64>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let since = match (&args.since, args.since_seq) {
        (Some(file), _) => Since::Checkpoint(reg::util::fsutil::read_small(
            file,
            u64::from(reg::format::transfer::MAX_CHECKPOINT),
        )?),
        (None, Some(n)) => Since::Seq(n),
        (None, None) => Since::Full,
    };
    let reg = ctx.open()?;
    let done = export(&reg, &since, &args.out)?;
    let h = &done.header;
    let from = match h.base {
        Some(b) => format!("after entry {} ({})", b.seq, b.head),
        None => "from genesis (full export)".into(),
    };
    outln!(
        "exported entries {}..{} {from} up to head {}: {} objects ({} records, {} artifacts), {} bytes, to {}",
        h.first_seq(),
        h.head.seq,
        h.head.head,
        h.objects,
        done.records,
        done.artifacts,
        h.bytes,
        args.out.display()
    );
    Ok(())
}
