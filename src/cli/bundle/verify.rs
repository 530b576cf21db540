//! `reg bundle verify`: check a bundle against a publisher key, without a registry.

use super::super::error::{BundleUse, CommandError, CommandResult};
use super::super::secrets::identities_and_passphrase;
use reg::bundle::{self, BundleError, Staging};
use std::path::PathBuf;

/// Check a bundle: the publisher signature, the manifest, every artifact's size, hash and format
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A bundle: a directory, a tar or an age-encrypted tar
    bundle: PathBuf,
    /// The publisher's public key the manifest must be signed with
    #[arg(long, value_name = "PUBLISHER.pub")]
    publisher: PathBuf,
    /// age identity file to decrypt an encrypted bundle (repeatable)
    #[arg(long = "identity", short = 'i', value_name = "FILE")]
    identities: Vec<PathBuf>,
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
    let b = bundle::read(
        &args.bundle,
        &mut decryption,
        &mut authorize,
        Staging::Discard,
    )
    .map_err(|e| CommandError::bundle(e, BundleUse::Reading))?;
    let m = &b.manifest.manifest;
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
