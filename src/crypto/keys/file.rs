//! Key files: loading private keys (PKCS#8 PEM, plain or encrypted) and public keys
//! (SubjectPublicKeyInfo PEM), and writing new key pairs.

use super::encrypted::{check_encryption, unsupported_oid};
use super::{Fingerprint, KeyError, KeyText, PublicKey, SecretKey, key_text_kind};
use crate::util::create::{NewFile, refuse_existing, write_new};
use crate::util::fsutil::IoContext;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use pkcs8::der::Decode as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Largest key file reg reads: PEM keys are a few hundred bytes.
const KEY_FILE_LIMIT: u64 = 16 * 1024;

/// Where a passphrase for an encrypted key comes from (the CLI prompts; the library never does).
pub type PassphraseSource<'a> = &'a mut dyn FnMut(&Path) -> Option<Zeroizing<String>>;

/// Loads a private key file (`--key`), refusing files that others can read.
///
/// A public key given by mistake (a `.pub` file, an age recipient, an ssh public key) is said to
/// be one before the permissions are judged: a public file is world-readable by design, and
/// `chmod 600` would not make it a secret key.
pub fn load_secret(path: &Path, passphrase: PassphraseSource<'_>) -> Result<SecretKey, KeyError> {
    let text = read_key_file(path)?;
    if let Some(what) = public_key_text(&text) {
        return Err(KeyError::NotSecret {
            path: path.to_path_buf(),
            what,
        });
    }
    check_private_permissions(path)?;
    let malformed = |detail: String| KeyError::Malformed {
        path: path.to_path_buf(),
        expected: "an ed25519 private key (PKCS#8 PEM)",
        detail,
    };
    match key_text_kind(&text) {
        None | Some(KeyText::Private { .. }) => {}
        Some(kind) => {
            return Err(malformed(format!(
                "it is {}; --key takes an ed25519 private key, as `reg key gen` writes",
                kind.name()
            )));
        }
    }
    let (label, der) =
        pkcs8::der::pem::decode_vec(text.as_bytes()).map_err(|e| malformed(e.to_string()))?;
    let der = Zeroizing::new(der);
    let key = match label {
        "PRIVATE KEY" => SigningKey::from_pkcs8_der(&der).map_err(|e| malformed(e.to_string()))?,
        "ENCRYPTED PRIVATE KEY" => {
            // The scheme and its costs are checked before asking for a passphrase, so that a
            // key reg cannot or will not decrypt is refused at once.
            let info =
                pkcs8::EncryptedPrivateKeyInfoRef::from_der(&der).map_err(
                    |e| match unsupported_oid(&der) {
                        Some(what) => KeyError::UnsupportedEncryption {
                            path: path.into(),
                            what,
                        },
                        None => malformed(e.to_string()),
                    },
                )?;
            check_encryption(path, &info.encryption_algorithm)?;
            let pass = passphrase(path).ok_or_else(|| KeyError::NeedPassphrase(path.into()))?;
            let doc = info
                .decrypt(pass.as_bytes())
                .map_err(|_| KeyError::WrongPassphrase(path.into()))?;
            SigningKey::from_pkcs8_der(doc.as_bytes()).map_err(|e| malformed(e.to_string()))?
        }
        other => return Err(malformed(format!("unexpected PEM label `{other}`"))),
    };
    SecretKey::from_signing_key(key)
}

/// Loads a public key file (SubjectPublicKeyInfo PEM).
pub fn load_public(path: &Path) -> Result<PublicKey, KeyError> {
    let text = read_key_file(path)?;
    let malformed = |detail: String| KeyError::Malformed {
        path: path.to_path_buf(),
        expected: "an ed25519 public key (SubjectPublicKeyInfo PEM)",
        detail,
    };
    if text.contains("PRIVATE KEY-----") {
        return Err(malformed(
            "it is a private key; give the public key (`.pub`) instead".into(),
        ));
    }
    if let Some(kind) = key_text_kind(&text).filter(|k| *k != KeyText::Public) {
        return Err(malformed(format!(
            "it is {}; give an ed25519 public key (the `.pub` file `reg key gen` writes)",
            kind.name()
        )));
    }
    let key = VerifyingKey::from_public_key_pem(text.trim_start())
        .map_err(|e| malformed(e.to_string()))?;
    PublicKey::from_bytes(&key.to_bytes())
}

/// The fingerprint of a public or private key file (for `reg key fingerprint`).
pub fn fingerprint_file(
    path: &Path,
    passphrase: PassphraseSource<'_>,
) -> Result<Fingerprint, KeyError> {
    let text = read_key_file(path)?;
    if text.contains("PRIVATE KEY-----") {
        Ok(load_secret(path, passphrase)?
            .public()
            .fingerprint()
            .clone())
    } else {
        Ok(load_public(path)?.fingerprint().clone())
    }
}

/// What a key file's "already exists" says.
const WRITES: &str = "refusing to overwrite a key file";

/// Writes `bytes`, secret key material (an age identity), to the new file `path`, readable by
/// its owner only (mode 0600), by the one rule of new outputs ([`crate::util::create`]).
pub fn write_secret_file(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    write_new::<KeyError>(path, bytes, ".reg-key-", WRITES)
}

/// Writes a new key pair: the private key at `path` (mode 0600) and the public key at
/// `path.pub` (mode 0644), each a new file ([`crate::util::create`]: written whole, never over
/// a file). Both names are checked before either is written; a public key file that appears
/// meanwhile takes the private key just written away with it.
pub fn write_key_pair(
    key: &SecretKey,
    path: &Path,
    passphrase: Option<&str>,
) -> Result<PathBuf, KeyError> {
    let pub_path = public_path(path);
    for p in [path, pub_path.as_path()] {
        refuse_existing(p, WRITES)?;
    }
    let pem = key.to_pem(passphrase)?;
    write_secret_file(path, pem.as_bytes())?;
    let public = NewFile::create::<KeyError>(&pub_path, ".reg-key-", WRITES).and_then(|mut f| {
        f.set_mode(0o644)?;
        f.write_all(key.public().to_pem().as_bytes())
            .ctx("write", &pub_path)?;
        f.publish::<KeyError>()
    });
    if public.is_err() {
        // Best effort: the private key is ours, written a moment ago.
        let _ = fs::remove_file(path);
    }
    public.map(|()| pub_path)
}

/// The public key file that goes with a private key file: `PATH.pub`, like ssh-keygen.
pub fn public_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".pub");
    PathBuf::from(s)
}

/// What public key `text` holds, if it holds one and no secret: a PEM public key, age
/// recipients, or an OpenSSH public key line (`ssh-ed25519 AAAA...`).
fn public_key_text(text: &str) -> Option<&'static str> {
    match key_text_kind(text) {
        Some(kind @ (KeyText::Public | KeyText::AgeRecipient)) => Some(kind.name()),
        Some(_) => None,
        None => text
            .lines()
            .map(str::trim)
            .any(|l| {
                ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"]
                    .iter()
                    .any(|p| l.starts_with(p))
                    && l.contains(" AAAA")
            })
            .then_some("an OpenSSH public key"),
    }
}

fn read_key_file(path: &Path) -> Result<String, KeyError> {
    let bytes = crate::util::fsutil::read_small(path, KEY_FILE_LIMIT)?;
    String::from_utf8(bytes).map_err(|_| KeyError::Malformed {
        path: path.to_path_buf(),
        expected: "a PEM key file",
        detail: "it is not text".into(),
    })
}

#[cfg(unix)]
fn check_private_permissions(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = fs::metadata(path).ctx("read", path)?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_permissions(_path: &Path) -> Result<(), KeyError> {
    Ok(())
}
