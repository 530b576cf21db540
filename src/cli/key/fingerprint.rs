//! `reg key fingerprint`: the fingerprint of a key file.

use crate::cli::prelude::*;
use crate::cli::secrets::passphrase_source;
use std::path::PathBuf;

/// Print the fingerprint of a public or private key file (what --trust and `reg key revoke` take)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A public key (SubjectPublicKeyInfo PEM) or private key (PKCS#8 PEM) file
    file: PathBuf,
}

pub fn run(args: Args) -> CommandResult {
    let mut source = passphrase_source();
    let fp = reg::crypto::keys::fingerprint_file(&args.file, &mut source)?;
    outln!("{fp}");
    Ok(())
}
