//! `reg key gen`: a new ed25519 signing key pair, or an age identity for encrypted bundles.

use crate::cli::prelude::*;
use age::secrecy::ExposeSecret as _;
use reg::crypto::keys::{SecretKey, write_key_pair, write_secret_file};
use std::io::IsTerminal as _;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Generate an ed25519 key pair: FILE (private, PKCS#8 PEM, mode 0600) and FILE.pub
///
/// Prints the key's fingerprint on stdout. With --age, writes an age X25519 identity instead
/// (the format of age-keygen) and prints its recipient.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the private key; the public key goes to FILE.pub
    #[arg(value_name = "FILE")]
    out: PathBuf,
    /// Encrypt the private key with a passphrase (from REG_KEY_PASSPHRASE, else asked twice)
    #[arg(long, conflicts_with = "age")]
    passphrase: bool,
    /// Write an age identity (to decrypt bundles) instead of a signing key
    #[arg(long)]
    age: bool,
    /// Print what was written as JSON (schema/key-gen.schema.json): the fingerprint or the
    /// recipient and the paths, never the secret
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> CommandResult {
    // A secret key is a file of its owner's, never a stream.
    crate::cli::stdio::refuse_dash(&args.out, "a key file")?;
    if args.age {
        return age_identity(&args.out, args.json);
    }
    let pass = if args.passphrase {
        Some(new_passphrase()?)
    } else {
        None
    };
    let key = SecretKey::generate()?;
    let pub_path = write_key_pair(&key, &args.out, pass.as_deref().map(|p| p.as_str()))?;
    errln!(
        "wrote private key {} and public key {}",
        args.out.display(),
        pub_path.display()
    );
    let fingerprint = key.public().fingerprint();
    if args.json {
        jsonln!(&serde_json::json!({
            "action": "key-gen",
            "kind": "ed25519",
            "fingerprint": fingerprint.to_string(),
            "private": args.out.display().to_string(),
            "public": pub_path.display().to_string(),
            "encrypted": pass.is_some(),
        }));
        return Ok(());
    }
    outln!("{fingerprint}");
    Ok(())
}

/// An age X25519 identity file, as age-keygen writes it, readable only by its owner.
fn age_identity(out: &std::path::Path, json: bool) -> CommandResult {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let secret = identity.to_string();
    let text = Zeroizing::new(format!(
        "# created by reg\n# public key: {recipient}\n{}\n",
        secret.expose_secret()
    ));
    write_secret_file(out, text.as_bytes())?;
    errln!("wrote age identity {}", out.display());
    if json {
        // The recipient is public; the identity's secret stays in the file only.
        jsonln!(&serde_json::json!({
            "action": "key-gen",
            "kind": "age",
            "recipient": recipient,
            "identity": out.display().to_string(),
        }));
        return Ok(());
    }
    outln!("{recipient}");
    Ok(())
}

fn new_passphrase() -> CommandResult<Zeroizing<String>> {
    if let Some(p) = reg::repo::options::key_passphrase_from_vars(|name| std::env::var_os(name)) {
        if p.is_empty() {
            return Err(CommandError::usage("REG_KEY_PASSPHRASE is empty"));
        }
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::usage(
            "--passphrase needs a terminal to ask on, or REG_KEY_PASSPHRASE",
        ));
    }
    let first = Zeroizing::new(rpassword::prompt_password("new passphrase: ")?);
    let second = Zeroizing::new(rpassword::prompt_password("repeat passphrase: ")?);
    if first.is_empty() {
        return Err(CommandError::usage("the passphrase is empty"));
    }
    if first != second {
        return Err(CommandError::usage("the passphrases do not match"));
    }
    Ok(first)
}
