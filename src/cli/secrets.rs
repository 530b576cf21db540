//! The secrets a command may need, asked for here and nowhere else: key passphrases, bundle
//! passphrases and age identities. Never echoed, never taken from the command line.

use super::error::BundleUse;
use super::sanitize;
use crate::cli::prelude::*;
use reg::crypto::keys::PassphraseSource;
use reg::repo::options::key_passphrase_from_vars;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Gets a key passphrase: `REG_KEY_PASSPHRASE`, else a prompt when stdin is a terminal.
pub fn passphrase_source() -> impl FnMut(&Path) -> Option<Zeroizing<String>> {
    |path: &Path| {
        if let Some(p) = key_passphrase_from_vars(|name| std::env::var_os(name)) {
            return Some(p);
        }
        if std::io::stdin().is_terminal() {
            return rpassword::prompt_password(format!(
                "passphrase for {}: ",
                sanitize::Escaped(&path.display().to_string())
            ))
            .ok()
            .map(Zeroizing::new);
        }
        None
    }
}

/// A bundle passphrase: `REG_BUNDLE_PASSPHRASE`, else asked on the terminal (twice when `new`).
pub fn bundle_passphrase(new: bool) -> Option<age::secrecy::SecretString> {
    if let Some(p) = std::env::var_os("REG_BUNDLE_PASSPHRASE") {
        return Some(p.to_string_lossy().into_owned().into());
    }
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let first = Zeroizing::new(rpassword::prompt_password("bundle passphrase: ").ok()?);
    if new {
        let again = Zeroizing::new(rpassword::prompt_password("repeat bundle passphrase: ").ok()?);
        if first != again || first.is_empty() {
            errln!("error: the passphrases do not match or are empty");
            return None;
        }
    }
    Some(first.to_string().into())
}

/// Identities from `--identity` files, and the passphrase source for scrypt bundles.
pub fn identities_and_passphrase(
    files: &[PathBuf],
) -> CommandResult<(
    reg::bundle::Identities,
    impl FnMut() -> Option<age::secrecy::SecretString>,
)> {
    for f in files {
        check_identity_file(f)?;
    }
    let identities = reg::bundle::Decryption::load_identities(files)
        .map_err(|e| CommandError::bundle(e, BundleUse::Reading))?;
    Ok((identities, || bundle_passphrase(false)))
}

/// Refuses an `--identity` file that holds another kind of key, saying which (age's own error
/// says only "non-identity data"); never prints the file's content.
fn check_identity_file(path: &Path) -> CommandResult {
    use reg::crypto::keys::{KeyText, key_text_kind};
    // A key file is small; a larger file is left to age's reader, which names the bad line.
    let Ok(bytes) = reg::util::fsutil::read_small(path, 64 * 1024) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&bytes);
    match key_text_kind(&text) {
        None | Some(KeyText::AgeIdentity) => Ok(()),
        Some(kind) => Err(CommandError::usage(format_args!(
            "`{}` is {}, not an age identity: --identity takes the identity file `reg key gen --age` \
             (or age-keygen) wrote",
            path.display(),
            kind.name()
        ))),
    }
}

/// Loads the private key given with `--key`.
pub fn load_key(path: &Path) -> Result<reg::crypto::keys::SecretKey, reg::crypto::keys::KeyError> {
    let mut source = passphrase_source();
    let source: PassphraseSource<'_> = &mut source;
    reg::crypto::keys::load_secret(path, source)
}
