//! `reg init`: create a registry whose genesis entry is signed by a root key.

use super::Context;
use super::error::CommandResult;
use super::secrets::load_key;
use reg::repo::registry::Registry;
use reg::state::GENESIS_NONCE_LEN;
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
    /// The genesis nonce, 64 hex digits, for reproducible test registries only; by default 32
    /// fresh random bytes, so that no two registries share an id (never reuse a nonce)
    #[arg(long, value_name = "HEX", value_parser = parse_nonce)]
    nonce: Option<[u8; GENESIS_NONCE_LEN]>,
}

fn parse_nonce(s: &str) -> Result<[u8; GENESIS_NONCE_LEN], String> {
    let bad = || format!("the nonce must be {} hex digits", GENESIS_NONCE_LEN * 2);
    if s.len() != GENESIS_NONCE_LEN * 2 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut out = [0u8; GENESIS_NONCE_LEN];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

pub fn run(ctx: &Context, args: Args) -> CommandResult {
    let key = load_key(&args.root_key)?;
    let (reg, state) = Registry::init(
        &args.dir,
        &key,
        args.recipients,
        args.nonce.as_ref(),
        &ctx.opts,
    )?;
    outln!(
        "Initialized registry {} in {}",
        reg.id(),
        reg.path().display()
    );
    outln!("root key: {}", state.root());
    outln!("pinned on this host in {}", ctx.opts.trust.file.display());
    Ok(())
}
