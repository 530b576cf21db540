//! `reg init`: create a registry whose genesis entry is signed by a root key.

use super::{Context, load_key};
use reg::registry::Registry;
use std::path::PathBuf;

/// Create a new registry in DIR/.registry, with ROOT as its root of trust, and pin it on this host.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to create `.registry/` in
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The root private key (PKCS#8 PEM) that signs the genesis entry
    #[arg(long, value_name = "ROOT.pem")]
    root_key: PathBuf,
    /// An age recipient (age1...) publishers should encrypt bundles to; repeatable
    #[arg(long = "recipient", value_name = "AGE_RECIPIENT")]
    recipients: Vec<String>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let key = load_key(&args.root_key)?;
    let (reg, state) = Registry::init(
        &args.dir,
        &key,
        args.recipients,
        &ctx.trust.file,
        &ctx.trust.host,
    )?;
    outln!(
        "Initialized registry {} in {}",
        reg.id(),
        reg.path().display()
    );
    outln!("root key: {}", state.root);
    outln!("pinned on this host in {}", ctx.trust.file.display());
    Ok(())
}
