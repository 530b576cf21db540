//! `reg add`: admit a model bundle after its signature and every artifact verify.

use super::Context;
use super::error::CommandResult;
use super::secrets::identities_and_passphrase;
use super::sign::{AddEntry, Signing};
use reg::bundle::Decryption;
use reg::ops::add::{Outcome, add};
use std::path::PathBuf;

/// Admit a model: verify the publisher signature and every artifact hash, then record it
///
/// A bundle of a model registered already is verified in full all the same: a copy that does
/// not match the record is refused, naming the file; one that matches restores any missing or
/// corrupt stored object of the model (the ledger is never changed).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle: a directory, a tar or an age-encrypted tar (told apart by content)
    bundle: PathBuf,
    #[command(flatten)]
    sign: Signing<AddEntry>,
    /// age identity file to decrypt an encrypted bundle (repeatable)
    #[arg(long = "identity", short = 'i', value_name = "FILE")]
    identities: Vec<PathBuf>,
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let key = args.sign.load()?;
    let reg = ctx.open()?;
    let (identities, mut passphrase) = identities_and_passphrase(&args.identities)?;
    let mut decryption = Decryption {
        identities,
        passphrase: &mut passphrase,
    };
    match add(&reg, &args.bundle, &mut decryption, &key)? {
        Outcome::AlreadyRegistered {
            spec,
            record,
            artifacts,
            restored,
            purged,
            resigned,
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
        } => {
            for path in code_on_load {
                errln!(
                    "warning: `{path}` is a pickle-based format: loading it runs code; prefer safetensors or ONNX"
                );
            }
            outln!("added {spec} as REGISTERED (record {record}, ledger entry {seq} {entry})");
            outln!("bundle BLAKE3 as received: {bundle_hash}");
        }
    }
    Ok(())
}
