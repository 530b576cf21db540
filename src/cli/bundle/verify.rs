//! `reg bundle verify`: check a bundle against a publisher key, without a registry.

use crate::cli::error::BundleUse;
use crate::cli::prelude::*;
use crate::cli::secrets::identities_and_passphrase;
use crate::cli::stdio::bundle_source;
use reg::bundle::{self, BundleError, Staging};
use std::path::PathBuf;

/// Check a bundle: the publisher signature, the manifest, every artifact's size, hash and format
///
/// `-` reads the bundle from standard input: `reg bundle pack ... -o - | reg bundle verify -
/// --publisher pub.pem.pub`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A bundle: a directory, a tar or an age-encrypted tar; `-` reads standard input
    bundle: PathBuf,
    /// The publisher's public key the manifest must be signed with
    #[arg(long, value_name = "PUBLISHER.pub")]
    publisher: PathBuf,
    /// age identity file to decrypt an encrypted bundle (repeatable)
    #[arg(long = "identity", short = 'i', value_name = "FILE")]
    identities: Vec<PathBuf>,
    /// Print what was verified as JSON (schema/bundle-verify.schema.json)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> CommandResult {
    let publisher = reg::crypto::keys::load_public(&args.publisher)?;
    let (identities, mut passphrase) = identities_and_passphrase(&args.identities)?;
    let mut decryption = bundle::Decryption {
        identities,
        passphrase: &mut passphrase,
    };
    let mut authorize = |stage: bundle::Stage<'_>| match stage {
        bundle::Stage::Signed { envelope, .. } => envelope
            .verify_single(&publisher)
            .map_err(|e| BundleError::Unauthorized(e.to_string())),
        bundle::Stage::Opened(_) | bundle::Stage::Parsed(_) => Ok(()),
    };
    let mut stdin = std::io::stdin();
    let source = bundle_source(&args.bundle, &mut stdin);
    let b = bundle::read(source, &mut decryption, &mut authorize, Staging::Discard)
        .map_err(|e| CommandError::bundle(e, BundleUse::Reading))?;
    let m = &b.manifest.manifest;
    if args.json {
        jsonln!(&serde_json::json!({
            "action": "bundle-verify",
            "ok": true,
            "model": m.spec(),
            "record": reg::format::id::ObjectId::of(&b.manifest.bytes).to_string(),
            "publisher": m.publisher.to_string(),
            "bundle": b.bundle_hash.to_string(),
            "encrypted": b.encrypted,
            "artifacts": b.artifacts.iter().map(|c| serde_json::json!({
                "path": c.artifact.path,
                "blake3": c.artifact.blake3,
                "size": c.artifact.size,
                "format": c.artifact.format.name(),
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    outln!(
        "OK: {} signed by {}, {} artifact(s) match the manifest",
        m.spec(),
        m.publisher,
        b.artifacts.len()
    );
    outln!(
        "bundle: {}{}",
        b.bundle_hash,
        if b.encrypted { " (encrypted)" } else { "" }
    );
    Ok(())
}
