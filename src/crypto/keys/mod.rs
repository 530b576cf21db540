//! ed25519 keys: files, fingerprints, strict verification (FORMAT.md §4.1).
//!
//! Private keys are PKCS#8 PEM, version 1 (the form OpenSSL 3 reads), optionally encrypted with
//! PBES2; public keys are SubjectPublicKeyInfo PEM, exactly what `openssl pkey -pubout` writes.
//! Weak (small-order) public keys are refused wherever a key is read, and every signature check
//! uses `verify_strict`.

mod ed25519;
mod encrypted;
mod file;
mod fingerprint;
mod material;

pub use ed25519::{PublicKey, SecretKey};
pub use encrypted::{
    PBKDF2_MAX_ITERATIONS, SCRYPT_MAX_LOG_N, SCRYPT_MAX_MEMORY, SCRYPT_MAX_P, SCRYPT_MAX_R,
    SCRYPT_MAX_WORK,
};
pub use file::{
    PassphraseSource, fingerprint_file, load_public, load_secret, public_path, write_key_pair,
    write_secret_file,
};
pub use fingerprint::{FINGERPRINT_CONTEXT, Fingerprint};
pub use material::{KeyText, key_text_kind, may_be_secret, parse_age_recipient, shown};

use crate::util::fsutil::IoError;
use encrypted::REENCRYPT;
use std::path::PathBuf;

/// Errors about keys and key files.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// I/O on a key file.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The private key file is readable by others.
    #[error(
        "permissions {mode:04o} for `{path}` are too open: a private key must be readable only by its owner"
    )]
    TooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a key reg understands.
    #[error("`{path}` is not {expected}: {detail}")]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What was expected.
        expected: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// A public key where a secret key file is needed (`--key KEY.pem.pub`).
    #[error("`{path}` holds {what}: this is a public key; --key needs the secret key file")]
    NotSecret {
        /// The file given.
        path: PathBuf,
        /// What it holds ([`KeyText::name`], or an OpenSSH public key).
        what: &'static str,
    },
    /// The key is encrypted and no passphrase could be obtained.
    #[error("`{0}` is passphrase-protected and no passphrase was given")]
    NeedPassphrase(PathBuf),
    /// The key is encrypted with a scheme reg does not read (FORMAT.md §4.1).
    #[error("`{path}` is encrypted with {what}, which reg does not read; {REENCRYPT}")]
    UnsupportedEncryption {
        /// The key file.
        path: PathBuf,
        /// The scheme, PRF or cipher, by name and OID.
        what: String,
    },
    /// The key's KDF parameters ask for more time or memory than reg spends (FORMAT.md §4.1).
    #[error(
        "`{path}` asks for {what}, over reg's limit ({limit}); refused before deriving any key: {REENCRYPT}"
    )]
    KdfTooCostly {
        /// The key file.
        path: PathBuf,
        /// The parameter and its value.
        what: String,
        /// The limit.
        limit: String,
    },
    /// Decryption of the key failed (deliberately unspecific, like age and ssh).
    #[error("wrong passphrase for `{0}` (or the encrypted key is damaged)")]
    WrongPassphrase(PathBuf),
    /// A small-order public key, which would let anyone forge signatures that verify.
    #[error("key {0} is a weak (small-order) ed25519 key and is refused")]
    Weak(String),
    /// 32 bytes that are not the canonical encoding of their point (y ≥ p, or a sign bit on
    /// x = 0): the same point has another encoding, hence another fingerprint.
    #[error(
        "key {0} is not the canonical encoding of an ed25519 point and is refused (the same key has another encoding; use the public key `reg key gen` or `openssl pkey -pubout` writes)"
    )]
    NonCanonical(String),
    /// A point outside the prime-order subgroup (A + a small-order point): the signer of A
    /// could appear as up to eight different keys.
    #[error(
        "key {0} has a small-order component (it is not in ed25519's prime-order subgroup) and is refused; no key made by an ed25519 key generator has one"
    )]
    MixedOrder(String),
    /// A signature that does not verify.
    #[error("signature by key {0} does not verify")]
    BadSignature(Fingerprint),
    /// A file already exists where a new key would be written.
    #[error(transparent)]
    Exists(#[from] crate::util::create::Exists),
    /// Where the output would go, or what happened to it while it was written, is refused
    /// (util::create).
    #[error(transparent)]
    Output(#[from] crate::util::create::OutputRefused),
    /// A string that is not a fingerprint: the string quoted, or what it is when quoting it
    /// could print key material ([`shown`]).
    #[error("{0} is not a key fingerprint (32 lowercase hex digits)")]
    BadFingerprint(String),
    /// The random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Rng(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use zeroize::Zeroizing;

    #[test]
    fn weak_keys_are_refused() {
        // The identity point (small order) encodes as 1 followed by zeros.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            PublicKey::from_bytes(&identity),
            Err(KeyError::Weak(_))
        ));
    }

    #[test]
    fn pem_round_trips_plain_and_encrypted() {
        let dir = tempfile::tempdir().unwrap();
        let k = SecretKey::from_seed(&[9u8; 32]).unwrap();
        let p = dir.path().join("k.pem");
        write_key_pair(&k, &p, None).unwrap();
        let loaded = load_secret(&p, &mut |_| None).unwrap();
        assert_eq!(loaded.public(), k.public());
        assert_eq!(load_public(&public_path(&p)).unwrap(), *k.public());
        assert!(matches!(
            write_key_pair(&k, &p, None),
            Err(KeyError::Exists(_))
        ));

        let e = dir.path().join("e.pem");
        write_key_pair(&k, &e, Some("hunter2")).unwrap();
        assert!(
            fs::read_to_string(&e)
                .unwrap()
                .contains("ENCRYPTED PRIVATE KEY")
        );
        let ok = load_secret(&e, &mut |_| Some(Zeroizing::new("hunter2".into()))).unwrap();
        assert_eq!(ok.public(), k.public());
        assert!(matches!(
            load_secret(&e, &mut |_| Some(Zeroizing::new("nope".into()))),
            Err(KeyError::WrongPassphrase(_))
        ));
        assert!(matches!(
            load_secret(&e, &mut |_| None),
            Err(KeyError::NeedPassphrase(_))
        ));
    }

    #[test]
    fn errors_never_quote_secrets() {
        let identity =
            "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
        for s in [identity.to_string(), identity.to_lowercase()] {
            let e = parse_age_recipient(&s).unwrap_err();
            assert!(e.contains("age identity (secret)"), "{e}");
            assert!(!e.to_lowercase().contains("qqqqqqqq"), "{e}");
            let e = s.parse::<Fingerprint>().unwrap_err().to_string();
            assert!(!e.to_lowercase().contains("qqqqqqqq"), "{e}");
        }
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            key_text_kind(pem),
            Some(KeyText::Private { encrypted: false })
        );
        assert!(!shown(pem).contains("MC4C"));
        let body = "MC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(may_be_secret(body) && !shown(body).contains("MC4C"));
        assert!(!may_be_secret(&"ab12".repeat(16)));
        assert_eq!(shown("abc"), "`abc`");
        assert!(
            parse_age_recipient("age1nope")
                .unwrap_err()
                .contains("`age1nope`")
        );
    }

    #[test]
    fn strict_verification() {
        let k = SecretKey::from_seed(&[1u8; 32]).unwrap();
        let sig = k.sign(b"msg");
        k.public().verify(b"msg", &sig).unwrap();
        assert!(k.public().verify(b"msh", &sig).is_err());
        assert!(k.public().verify(b"msg", &sig[..63]).is_err());
    }
}
