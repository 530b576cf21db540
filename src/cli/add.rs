//! `reg add`: admit a model bundle after its signature and every artifact verify.

use super::secrets::identities_and_passphrase;
use super::sign::AddEntry;
use super::stdio::bundle_source;
use crate::cli::prelude::*;
use reg::bundle::Decryption;
use reg::ops::add::{Outcome, add};
use std::path::PathBuf;

/// Admit a model: verify the publisher signature and every artifact hash, then record it
///
/// A bundle of a model registered already is verified in full all the same: a copy that does
/// not match the record is refused, naming the file; one that matches restores any missing or
/// corrupt stored object of the model (the ledger is never changed).
///
/// `-` reads the bundle (a tar or an age-encrypted tar) from standard input, in one pass, as
/// from a file: `ssh host cat model.tar | reg add - --key op.pem`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle: a directory, a tar or an age-encrypted tar (told apart by content); `-`
    /// reads standard input
    bundle: PathBuf,
    #[command(flatten)]
    sign: Signing<AddEntry>,
    /// age identity file to decrypt an encrypted bundle (repeatable)
    #[arg(long = "identity", short = 'i', value_name = "FILE")]
    identities: Vec<PathBuf>,
    /// Print what was done as JSON (schema/add.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let (identities, mut passphrase) = identities_and_passphrase(&args.identities)?;
    let mut decryption = Decryption {
        identities,
        passphrase: &mut passphrase,
    };
    let mut stdin = std::io::stdin();
    let source = bundle_source(&args.bundle, &mut stdin);
    let done = add(&reg, source, &mut decryption, &key)?;
    if args.json {
        for path in code_on_load(&done) {
            errln!("{}", code_on_load_warning(path));
        }
        jsonln!(&json(&done));
        return Ok(());
    }
    match done {
        Outcome::AlreadyRegistered {
            spec,
            record,
            artifacts,
            restored,
            purged,
            resigned,
            ..
        } => {
            outln!(
                "already registered as {spec} (record {record}); the bundle matches it: signature and {artifacts} artifact(s) verified"
            );
            if let Some(envelope) = resigned {
                outln!(
                    "the bundle holds the same manifest signed again (envelope {envelope}): the same model, whose record stays {record}"
                );
            }
            for (what, id) in &restored {
                outln!("restored {what} (object {id}) from the bundle's verified bytes");
            }
            // One true statement: a purged model's artifacts are absent on purpose, so "every
            // stored object is intact" would be false of it.
            if purged {
                outln!(
                    "{spec} was purged: its artifacts stay destroyed (the bundle's copies were verified, not stored){}",
                    if restored.is_empty() {
                        "; its record is intact; nothing to do"
                    } else {
                        ""
                    }
                );
            } else if restored.is_empty() {
                outln!("every stored object of it is intact; nothing to do");
            }
        }
        Outcome::Added {
            entry,
            seq,
            record,
            spec,
            bundle_hash,
            code_on_load,
            ..
        } => {
            for path in &code_on_load {
                errln!("{}", code_on_load_warning(path));
            }
            outln!("added {spec} as REGISTERED (record {record}, ledger entry {seq} {entry})");
            outln!("bundle BLAKE3 as received: {bundle_hash}");
        }
    }
    Ok(())
}

/// The artifacts of a new model whose format runs code when loaded.
fn code_on_load(done: &Outcome) -> &[String] {
    match done {
        Outcome::Added { code_on_load, .. } => code_on_load,
        Outcome::AlreadyRegistered { .. } => &[],
    }
}

fn code_on_load_warning(path: &str) -> String {
    format!(
        "warning: `{path}` is a pickle-based format: loading it runs code; prefer safetensors or ONNX"
    )
}

/// `--json` (schema/add.schema.json): what `add` did, one object.
fn json(done: &Outcome) -> serde_json::Value {
    match done {
        Outcome::Added {
            entry,
            seq,
            record,
            spec,
            bundle_hash,
            artifacts,
            code_on_load,
        } => serde_json::json!({
            "action": "add",
            "result": "added",
            "model": spec,
            "record": record.to_string(),
            "state": reg::format::lifecycle::LifecycleState::Registered,
            "entry": entry.to_string(),
            "seq": seq,
            "bundle": bundle_hash.to_string(),
            "artifacts": artifacts,
            "code_on_load": code_on_load,
            "restored": [],
            "purged": false,
            "resigned": null,
        }),
        Outcome::AlreadyRegistered {
            spec,
            record,
            artifacts,
            bundle_hash,
            restored,
            purged,
            resigned,
        } => serde_json::json!({
            "action": "add",
            "result": "already-registered",
            "model": spec,
            "record": record.to_string(),
            "state": null,
            "entry": null,
            "seq": null,
            "bundle": bundle_hash.to_string(),
            "artifacts": artifacts,
            "code_on_load": [],
            "restored": restored
                .iter()
                .map(|(what, id)| serde_json::json!({"what": what, "object": id.to_string()}))
                .collect::<Vec<_>>(),
            "purged": purged,
            "resigned": resigned.map(|r| r.to_string()),
        }),
    }
}
