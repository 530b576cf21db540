//! `reg clone`: start a site from a medium (FORMAT.md §11.12).

use crate::cli::prelude::*;
use reg::ops::clone::{clone, clone_stream};
use std::path::PathBuf;

/// Start a site from a medium: a new registry from a full transfer file or another registry
///
/// Every entry is verified from genesis against the root key given with --trust (or this
/// host's pin of the registry), every object against its BLAKE3; the new registry is pinned on
/// this host. Without a trusted root it refuses, naming the root key to check out of band.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A full transfer file (`reg export OUT` at the home site), or a registry; `-` reads a
    /// transfer from standard input
    #[arg(value_name = "SRC")]
    src: PathBuf,
    /// The directory to create the new `.registry` in
    #[arg(value_name = "DEST")]
    dest: PathBuf,
    /// Print what was cloned as JSON (schema/clone.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let done = if super::stdio::is_dash(&args.src) {
        clone_stream(std::io::stdin().lock(), &args.dest, &ctx.opts)?
    } else {
        clone(&args.src, &args.dest, &ctx.opts).map_err(|e| {
            let dir = std::fs::symlink_metadata(&args.src).is_ok_and(|m| m.is_dir());
            super::error::CommandError::from_clone(e, dir.then_some(args.src.as_path()))
        })?
    };
    if args.json {
        jsonln!(&serde_json::json!({
            "registry": done.registry.to_string(),
            "path": done.path.display().to_string(),
            "root": done.root.to_string(),
            "head": {"seq": done.seq, "id": done.head.to_string()},
            "models": done.models,
            "replica": true,
            "removed": done.removed.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "left": done.left.iter().map(|l| serde_json::json!({
                "path": l.path.display().to_string(),
                "why": l.foreign.clone().unwrap_or_default(),
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    for p in &done.removed {
        outln!(
            "removed {}, left by an interrupted clone or init",
            p.display()
        );
    }
    for l in &done.left {
        outln!(
            "left {} for a person: named like an interrupted clone's staging, but {}",
            l.path.display(),
            l.foreign.as_deref().unwrap_or_default()
        );
    }
    outln!(
        "cloned registry {} into {}: entries 0 to {} (head {}), {} model(s); pinned to root {} on this host; a replica: `reg import` brings the home site's history",
        done.registry,
        done.path.display(),
        done.seq,
        done.head,
        done.models,
        done.root
    );
    Ok(())
}
