//! `reg init`: create a registry whose genesis entry is signed by a root key.

use super::secrets::load_key;
use crate::cli::prelude::*;
use reg::format::entry::Succession;
use reg::format::id::ObjectId;
use reg::repo::registry::{self, Registry};
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
    /// Make a successor of another registry, once every root key of it is lost: its path (its
    /// history is verified against this host's pin and its head recorded), or
    /// REGISTRY_ID:SEQ:HEAD_ENTRY_ID as this site last verified it
    #[arg(long, value_name = "PATH|ID:SEQ:HEAD", value_parser = parse_succeeds)]
    succeeds: Option<Succeeds>,
    /// Print what was made as JSON (schema/write-result.schema.json)
    #[arg(long)]
    json: bool,
}

/// What `--succeeds` names.
#[derive(Debug, Clone)]
enum Succeeds {
    /// The registry to read (its `.registry` or the directory holding it).
    Path(PathBuf),
    /// The registry id, seq and head entry id, given as they were verified elsewhere.
    Named(Succession),
}

/// `REGISTRY_ID:SEQ:HEAD_ENTRY_ID` (ids of 64 hex digits) names a head; anything else is a path.
fn parse_succeeds(s: &str) -> Result<Succeeds, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let [registry, seq, head] = parts.as_slice() else {
        return Ok(Succeeds::Path(PathBuf::from(s)));
    };
    let (Ok(registry), Ok(seq), Ok(head)) = (
        registry.parse::<ObjectId>(),
        seq.parse::<u64>(),
        head.parse::<ObjectId>(),
    ) else {
        return Ok(Succeeds::Path(PathBuf::from(s)));
    };
    if seq == 0 && head != registry {
        return Err("entry 0 of a registry is its genesis, whose id is the registry id".into());
    }
    Ok(Succeeds::Named(Succession {
        head,
        registry,
        seq,
    }))
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
    super::stdio::refuse_dash(&args.dir, "a registry's directory")?;
    let key = load_key(&args.root_key)?;
    // The registry succeeded is read before anything is made: a refusal leaves nothing behind.
    let succeeds = match args.succeeds {
        None => None,
        Some(Succeeds::Named(s)) => Some(s),
        Some(Succeeds::Path(path)) => {
            let old = Registry::open(&registry::discover(Some(&path))?, &ctx.opts)?;
            Some(reg::ops::succession::of(&old)?)
        }
    };
    let (reg, state) = match succeeds {
        None => Registry::init(
            &args.dir,
            &key,
            args.recipients,
            args.nonce.as_ref(),
            &ctx.opts,
        )?,
        Some(s) => reg::ops::succession::init(
            &args.dir,
            &key,
            args.recipients,
            args.nonce.as_ref(),
            s,
            &ctx.opts,
        )?,
    };
    if args.json {
        // The genesis entry is entry 0, and its id is the registry id.
        return super::written::Written::new("init", Some((reg.id(), 0)))
            .with("registry", reg.id().to_string())
            .with("root", state.root().to_string())
            .with("path", reg.path())
            .with("trust_file", &ctx.opts.trust.file)
            .print();
    }
    outln!(
        "Initialized registry {} in {}",
        reg.id(),
        reg.path().display()
    );
    outln!("root key: {}", state.root());
    if let Some(s) = state.succeeds() {
        outln!("{}", reg::report::succession(s));
    }
    outln!("pinned on this host in {}", ctx.opts.trust.file.display());
    Ok(())
}
