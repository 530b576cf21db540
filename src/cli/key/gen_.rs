//! `reg key gen`: a new ed25519 key pair.

use reg::keys::{SecretKey, write_key_pair};
use std::io::IsTerminal as _;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Generate an ed25519 key pair: FILE (private, PKCS#8 PEM, mode 0600) and FILE.pub
///
/// Prints the key's fingerprint on stdout.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the private key; the public key goes to FILE.pub
    #[arg(value_name = "FILE")]
    out: PathBuf,
    /// Encrypt the private key with a passphrase (from REG_KEY_PASSPHRASE, else asked twice)
    #[arg(long)]
    passphrase: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let pass = if args.passphrase {
        Some(new_passphrase()?)
    } else {
        None
    };
    let key = SecretKey::generate()?;
    let pub_path = write_key_pair(&key, &args.out, pass.as_deref().map(|p| p.as_str()))?;
    eprintln!(
        "wrote private key {} and public key {}",
        args.out.display(),
        pub_path.display()
    );
    outln!("{}", key.public().fingerprint());
    Ok(())
}

fn new_passphrase() -> anyhow::Result<Zeroizing<String>> {
    if let Some(p) = std::env::var_os("REG_KEY_PASSPHRASE") {
        let p = Zeroizing::new(p.to_string_lossy().into_owned());
        anyhow::ensure!(!p.is_empty(), "REG_KEY_PASSPHRASE is empty");
        return Ok(p);
    }
    anyhow::ensure!(
        std::io::stdin().is_terminal(),
        "--passphrase needs a terminal to ask on, or REG_KEY_PASSPHRASE"
    );
    let first = Zeroizing::new(rpassword::prompt_password("new passphrase: ")?);
    let second = Zeroizing::new(rpassword::prompt_password("repeat passphrase: ")?);
    anyhow::ensure!(!first.is_empty(), "the passphrase is empty");
    anyhow::ensure!(first == second, "the passphrases do not match");
    Ok(first)
}
