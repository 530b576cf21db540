//! `reg verify` and `reg checkout`: a model's stored artifacts, re-hashed or written out.

use super::model_arg::ModelArg;
use crate::cli::prelude::*;
use std::path::PathBuf;

/// Re-hash every stored artifact of a model
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    model: ModelArg,
    /// Print what was verified as JSON (schema/model-verify.schema.json)
    #[arg(long)]
    json: bool,
}

/// Write a model's artifacts to a new directory, or its original signed bundle to a new file,
/// verifying every byte as it is copied
///
/// With --bundle, the file is a tar holding the publisher-signed manifest exactly as this
/// registry stores it (the record) and every artifact: `reg add` admits it into another
/// registry that trusts the publisher, as the same record (a successor registry, when every
/// root key of this one is lost).
#[derive(Debug, clap::Args)]
pub struct CheckoutArgs {
    #[command(flatten)]
    model: ModelArg,
    /// The directory to create
    #[arg(
        long,
        short = 'o',
        value_name = "DIR",
        required_unless_present = "bundle"
    )]
    out: Option<PathBuf>,
    /// Instead of a directory, write the model's original signed bundle to this new file
    #[arg(long, value_name = "FILE", conflicts_with = "out")]
    bundle: Option<PathBuf>,
    /// Print what was written as JSON (schema/checkout.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn verify(ctx: &Context, args: VerifyArgs) -> CommandResult {
    let reg = ctx.open()?;
    // The state and the bytes it names, of one commit: a purge committed in between would take
    // them.
    let reading = reg.read_lock()?;
    let state = reg.state()?;
    let (id, model) = args.model.resolve(&state)?;
    let files = reg::ops::checkout::verify(&reg, &id, model)?;
    drop(reading);
    let bytes: u64 = files.iter().map(|(_, n)| n).sum();
    if args.json {
        jsonln!(&serde_json::json!({
            "action": "verify",
            "ok": true,
            "model": format!("{}@{}", model.name, model.version),
            "record": id.to_string(),
            "bytes": bytes,
            "artifacts": files
                .iter()
                .map(|(path, size)| serde_json::json!({"path": path, "size": size}))
                .collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    outln!(
        "OK: {}@{}: {} artifact(s), {bytes} bytes, every byte hashes to its BLAKE3",
        model.name,
        model.version,
        files.len()
    );
    Ok(())
}

pub fn checkout(ctx: &Context, args: CheckoutArgs) -> CommandResult {
    if let Some(dir) = &args.out {
        super::stdio::refuse_dash(dir, "a directory to check out into")?;
    }
    if let Some(file) = &args.bundle {
        super::stdio::refuse_dash(
            file,
            "the bundle file of `--bundle` (a new file, linked into place when complete)",
        )?;
    }
    let reg = ctx.open()?;
    // As for `verify`.
    let reading = reg.read_lock()?;
    let state = reg.state()?;
    let (id, model) = args.model.resolve(&state)?;
    let spec = format!("{}@{}", model.name, model.version);
    match (&args.bundle, &args.out) {
        (Some(file), _) => {
            let done = reg::ops::checkout::write_bundle(&reg, &state, &id, file)?;
            drop(reading);
            if args.json {
                return checkout_json(
                    &spec,
                    &done.record,
                    None,
                    Some(file),
                    done.artifacts,
                    done.bytes,
                );
            }
            outln!(
                "wrote the signed bundle of {}@{} to {} (record {}, {} artifact(s), {} bytes, verified)",
                model.name,
                model.version,
                file.display(),
                done.record,
                done.artifacts,
                done.bytes
            );
        }
        (None, Some(dir)) => {
            let done = reg::ops::checkout::checkout(&reg, &state, &id, dir)?;
            drop(reading);
            if args.json {
                return checkout_json(
                    &spec,
                    &done.record,
                    Some(dir),
                    None,
                    done.artifacts,
                    done.bytes,
                );
            }
            outln!(
                "checked out {spec} ({} bytes, verified) into {}",
                done.bytes,
                dir.display()
            );
        }
        (None, None) => return Err(CommandError::usage("give -o DIR or --bundle FILE")),
    }
    Ok(())
}

/// `reg checkout --json` (schema/checkout.schema.json): where the model went, a directory or a
/// bundle file, and what was written.
fn checkout_json(
    spec: &str,
    record: &reg::format::id::ObjectId,
    dir: Option<&PathBuf>,
    bundle: Option<&PathBuf>,
    artifacts: usize,
    bytes: u64,
) -> CommandResult {
    let path = |p: Option<&PathBuf>| p.map(|p| p.display().to_string());
    jsonln!(&serde_json::json!({
        "action": "checkout",
        "model": spec,
        "record": record.to_string(),
        "dir": path(dir),
        "bundle": path(bundle),
        "artifacts": artifacts,
        "bytes": bytes,
        "verified": true,
    }));
    Ok(())
}
