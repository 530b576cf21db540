//! ed25519 keys: files, fingerprints, strict verification (FORMAT.md §4.1).
//!
//! Private keys are PKCS#8 PEM, version 1 (the form OpenSSL 3 reads), optionally encrypted with
//! PBES2; public keys are SubjectPublicKeyInfo PEM, exactly what `openssl pkey -pubout` writes.
//! Weak (small-order) public keys are refused wherever a key is read, and every signature check
//! uses `verify_strict`.

use crate::util::encoding::{hex, is_lower_hex};
use crate::util::fsutil::{IoContext, IoError};
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use pkcs8::der::Decode as _;
use pkcs8::der::pem::LineEnding;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use zeroize::Zeroizing;

/// The BLAKE3 key-derivation context of fingerprints; changing it changes every fingerprint.
pub const FINGERPRINT_CONTEXT: &str = "reg 2026-11-26 ed25519 public key fingerprint v1";

/// Largest key file reg reads: PEM keys are a few hundred bytes.
const KEY_FILE_LIMIT: u64 = 16 * 1024;

/// scrypt cost for keys reg encrypts: log2(N) = 14, r = 8, p = 1 (16 MiB), the largest setting
/// OpenSSL 3 decrypts with its default memory limit.
const SCRYPT_LOG_N: u8 = 14;

/// Most PBKDF2 iterations reg runs for an encrypted key: 2,000,000, over three times the
/// 600,000 OWASP recommends for PBKDF2-HMAC-SHA256 (2023) and 1,000 times OpenSSL's default
/// (2,048); about a second at OpenSSL's speed on this project's build machine. A key file that
/// asks for more is refused before any iteration runs: the file is input, and its cost
/// parameters must not decide how long reg hangs.
pub const PBKDF2_MAX_ITERATIONS: u32 = 2_000_000;

/// Largest scrypt log₂N reg runs (N = 2^20: 1 GiB with r = 8).
pub const SCRYPT_MAX_LOG_N: u32 = 20;
/// Largest scrypt block size r.
pub const SCRYPT_MAX_R: u32 = 32;
/// Largest scrypt parallelism p.
pub const SCRYPT_MAX_P: u32 = 16;
/// Largest scrypt memory, 128·r·N bytes: 1 GiB.
pub const SCRYPT_MAX_MEMORY: u64 = 1 << 30;
/// Largest scrypt work, N·r·p: 2^23, i.e. N = 2^20, r = 8, p = 1, a few seconds of one core.
pub const SCRYPT_MAX_WORK: u64 = 1 << 23;

/// The command that re-encrypts a key into the scheme OpenSSL 3 writes by default, which reg
/// reads.
const REENCRYPT: &str = "re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in OLD.pem -out NEW.pem`";

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
    #[error("`{0}` already exists; refusing to overwrite a key file")]
    Exists(PathBuf),
    /// A string that is not a fingerprint: the string quoted, or what it is when quoting it
    /// could print key material ([`shown`]).
    #[error("{0} is not a key fingerprint (32 lowercase hex digits)")]
    BadFingerprint(String),
    /// The random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Rng(String),
}

/// A key fingerprint: 16 bytes of BLAKE3 key derivation over the public key, in hex.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of 32 public key bytes.
    pub fn of(public: &[u8; 32]) -> Self {
        let derived = blake3::derive_key(FINGERPRINT_CONTEXT, public);
        Fingerprint(hex(&derived[..16]))
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.0)
    }
}

impl FromStr for Fingerprint {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        if is_lower_hex(s, 32) {
            Ok(Fingerprint(s.to_string()))
        } else {
            Err(KeyError::BadFingerprint(shown(s)))
        }
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An ed25519 public key that passed every check of FORMAT.md §4.1 (a canonical encoding of a
/// point of the prime-order subgroup, not weak), with its fingerprint.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    fingerprint: Fingerprint,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint)
    }
}

impl PublicKey {
    /// A public key from its 32 bytes, refusing invalid, weak, non-canonical and mixed-order
    /// points: every way in which one private key could otherwise appear under several
    /// encodings, hence several fingerprints (FORMAT.md §4.1). Every public key reg reads —
    /// key files, ledger entries, the index — goes through here.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let fingerprint = Fingerprint::of(bytes);
        let key =
            VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::Weak(fingerprint.to_string()))?;
        if key.is_weak() {
            return Err(KeyError::Weak(fingerprint.to_string()));
        }
        let point = key.to_edwards();
        // Decompression reduces y modulo p, so y + p decodes to the point of y: re-encoding
        // tells the two apart.
        if point.compress().to_bytes() != *bytes {
            return Err(KeyError::NonCanonical(fingerprint.to_string()));
        }
        if !point.is_torsion_free() {
            return Err(KeyError::MixedOrder(fingerprint.to_string()));
        }
        Ok(PublicKey { key, fingerprint })
    }

    /// The 32 key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The fingerprint.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// Strict RFC 8032 verification (`verify_strict`), the one rule reg uses everywhere.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        let sig = Signature::from_slice(signature)
            .map_err(|_| KeyError::BadSignature(self.fingerprint.clone()))?;
        self.key
            .verify_strict(message, &sig)
            .map_err(|_| KeyError::BadSignature(self.fingerprint.clone()))
    }

    /// SubjectPublicKeyInfo PEM, as `openssl pkey -pubout` writes it.
    pub fn to_pem(&self) -> String {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .expect("an ed25519 public key always encodes as SPKI")
    }
}

/// A private signing key, loaded from a key file.
pub struct SecretKey {
    key: SigningKey,
    public: PublicKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.public.fingerprint)
    }
}

impl SecretKey {
    /// A signing key from its 32-byte seed (tests and the worked example use fixed seeds).
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, KeyError> {
        let key = SigningKey::from_bytes(seed);
        let public = PublicKey::from_bytes(&key.verifying_key().to_bytes())?;
        Ok(SecretKey { key, public })
    }

    /// A new key from the operating system's random number generator.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| KeyError::Rng(e.to_string()))?;
        Self::from_seed(&seed)
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `message` (ed25519 is deterministic: the same message gives the same signature).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// PKCS#8 v1 PEM, optionally encrypted with PBES2 (scrypt + AES-256-CBC).
    pub fn to_pem(&self, passphrase: Option<&str>) -> Result<Zeroizing<String>, KeyError> {
        let plain = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.key.to_bytes(),
            public_key: None,
        };
        let malformed = |detail: String| KeyError::Malformed {
            path: PathBuf::from("<new key>"),
            expected: "an encodable key",
            detail,
        };
        match passphrase {
            None => plain
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| malformed(e.to_string())),
            Some(pass) => {
                let der = plain.to_pkcs8_der().map_err(|e| malformed(e.to_string()))?;
                let info = pkcs8::PrivateKeyInfoRef::from_der(der.as_bytes())
                    .map_err(|e| malformed(e.to_string()))?;
                let mut salt = [0u8; 16];
                let mut iv = [0u8; 16];
                getrandom::fill(&mut salt).map_err(|e| KeyError::Rng(e.to_string()))?;
                getrandom::fill(&mut iv).map_err(|e| KeyError::Rng(e.to_string()))?;
                let cost = pkcs8::pkcs5::scrypt::Params::new(SCRYPT_LOG_N, 8, 1)
                    .map_err(|e| malformed(e.to_string()))?;
                let params =
                    pkcs8::pkcs5::pbes2::Parameters::generate_scrypt_aes256cbc(cost, &salt, iv)
                        .map_err(|e| malformed(e.to_string()))?;
                let doc = info
                    .encrypt_with_params(params, pass.as_bytes())
                    .map_err(|e| malformed(e.to_string()))?;
                doc.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
                    .map_err(|e| malformed(e.to_string()))
            }
        }
    }
}

/// Where a passphrase for an encrypted key comes from (the CLI prompts; the library never does).
pub type PassphraseSource<'a> = &'a mut dyn FnMut(&Path) -> Option<Zeroizing<String>>;

/// Loads a private key file (`--key`), refusing files that others can read.
pub fn load_secret(path: &Path, passphrase: PassphraseSource<'_>) -> Result<SecretKey, KeyError> {
    check_private_permissions(path)?;
    let text = read_key_file(path)?;
    let malformed = |detail: String| KeyError::Malformed {
        path: path.to_path_buf(),
        expected: "an ed25519 private key (PKCS#8 PEM)",
        detail,
    };
    match key_text_kind(&text) {
        None | Some(KeyText::Private { .. }) => {}
        Some(KeyText::Public) => {
            return Err(malformed(
                "it is a public key; --key takes the private key".into(),
            ));
        }
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
    let public = PublicKey::from_bytes(&key.verifying_key().to_bytes())?;
    Ok(SecretKey { key, public })
}

/// Checks an encrypted key's scheme against what reg reads and its KDF costs against reg's
/// limits (FORMAT.md §4.1), before any key derivation runs.
fn check_encryption(path: &Path, scheme: &pkcs8::pkcs5::EncryptionScheme) -> Result<(), KeyError> {
    use pkcs8::pkcs5::EncryptionScheme;
    use pkcs8::pkcs5::pbes2::{Kdf, Pbkdf2Prf};
    let unsupported = |what: &str| KeyError::UnsupportedEncryption {
        path: path.into(),
        what: what.to_string(),
    };
    let costly = |what: String, limit: String| KeyError::KdfTooCostly {
        path: path.into(),
        what,
        limit,
    };
    let params = match scheme {
        EncryptionScheme::Pbes2(p) => p,
        EncryptionScheme::Pbes1(_) => {
            return Err(unsupported("PBES1 (only PBES2 is read)"));
        }
        _ => return Err(unsupported("an encryption scheme other than PBES2")),
    };
    match &params.kdf {
        Kdf::Pbkdf2(p) => {
            if p.prf == Pbkdf2Prf::HmacWithSha1 {
                return Err(unsupported(
                    "PBKDF2 with PRF hmacWithSHA1 (1.2.840.113549.2.7)",
                ));
            }
            if p.iteration_count > PBKDF2_MAX_ITERATIONS {
                return Err(costly(
                    format!("{} PBKDF2 iterations", p.iteration_count),
                    format!("{PBKDF2_MAX_ITERATIONS} iterations"),
                ));
            }
        }
        Kdf::Scrypt(p) => {
            let n = p.cost_parameter;
            let (r, pp) = (u64::from(p.block_size), u64::from(p.parallelization));
            let limits = format!(
                "N ≤ 2^{SCRYPT_MAX_LOG_N}, r ≤ {SCRYPT_MAX_R}, p ≤ {SCRYPT_MAX_P}, 128·r·N ≤ 1 GiB, N·r·p ≤ 2^23"
            );
            let too_big = !n.is_power_of_two()
                || n > 1u64 << SCRYPT_MAX_LOG_N
                || r > u64::from(SCRYPT_MAX_R)
                || pp > u64::from(SCRYPT_MAX_P)
                || 128 * r * n > SCRYPT_MAX_MEMORY
                || n * r * pp > SCRYPT_MAX_WORK;
            if too_big {
                return Err(costly(format!("scrypt N = {n}, r = {r}, p = {pp}"), limits));
            }
        }
        _ => return Err(unsupported("a PBES2 KDF other than PBKDF2 or scrypt")),
    }
    Ok(())
}

/// The name of an encryption scheme, PRF or cipher in an encrypted key that the PKCS#8 parser
/// does not know, found by its OID, for an error that says what to do instead of "unknown OID".
fn unsupported_oid(der: &[u8]) -> Option<String> {
    const KNOWN: [(&str, &str); 9] = [
        ("1.2.840.113549.3.7", "the cipher des-ede3-cbc"),
        ("1.3.14.3.2.7", "the cipher des-cbc"),
        ("1.2.840.113549.3.2", "the cipher rc2-cbc"),
        ("1.2.392.200011.61.1.1.1.2", "the cipher camellia-128-cbc"),
        ("1.2.392.200011.61.1.1.1.3", "the cipher camellia-192-cbc"),
        ("1.2.392.200011.61.1.1.1.4", "the cipher camellia-256-cbc"),
        ("1.2.410.200004.1.4", "the cipher seed-cbc"),
        (
            "1.2.840.113549.1.12.1.3",
            "PKCS#12 PBE with SHA1 and 3DES (PBES1)",
        ),
        ("1.2.840.113549.1.5.10", "PBES1 with SHA1 and DES"),
    ];
    let mut i = 0;
    while i + 2 <= der.len() {
        let len = usize::from(der[i + 1]);
        if der[i] == 0x06
            && len < 0x80
            && i + 2 + len <= der.len()
            && let Ok(oid) = pkcs8::ObjectIdentifier::from_bytes(&der[i + 2..i + 2 + len])
        {
            let text = oid.to_string();
            if let Some((_, name)) = KNOWN.iter().find(|(o, _)| *o == text) {
                return Some(format!("{name} ({text})"));
            }
            // PKCS#12 PBE schemes, and PKCS#5 ones other than PBES2 (.13) and PBKDF2 (.12).
            let pbes1 = text.starts_with("1.2.840.113549.1.12.1.")
                || (text.starts_with("1.2.840.113549.1.5.")
                    && !["1.2.840.113549.1.5.13", "1.2.840.113549.1.5.12"]
                        .contains(&text.as_str()));
            if pbes1 {
                return Some(format!("a PBES1 scheme ({text}; only PBES2 is read)"));
            }
        }
        i += 1;
    }
    None
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
        Ok(load_secret(path, passphrase)?.public.fingerprint.clone())
    } else {
        Ok(load_public(path)?.fingerprint.clone())
    }
}

/// Writes a new key pair: the private key at `path` (mode 0600, created exclusively) and the
/// public key at `path.pub`.
pub fn write_key_pair(
    key: &SecretKey,
    path: &Path,
    passphrase: Option<&str>,
) -> Result<PathBuf, KeyError> {
    let pub_path = public_path(path);
    for p in [path, pub_path.as_path()] {
        if fs::symlink_metadata(p).is_ok() {
            return Err(KeyError::Exists(p.to_path_buf()));
        }
    }
    let pem = key.to_pem(passphrase)?;
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).ctx("create", path)?;
    f.write_all(pem.as_bytes()).ctx("write", path)?;
    f.sync_all().ctx("sync", path)?;
    let mut pf = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&pub_path)
        .ctx("create", &pub_path)?;
    pf.write_all(key.public.to_pem().as_bytes())
        .ctx("write", &pub_path)?;
    pf.sync_all().ctx("sync", &pub_path)?;
    Ok(pub_path)
}

/// The public key file that goes with a private key file: `PATH.pub`, like ssh-keygen.
pub fn public_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".pub");
    PathBuf::from(s)
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

/// Kinds of key material a file or argument may hold, told apart so that an error can say what
/// was given instead of quoting it: no error reg prints ever contains key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyText {
    /// An age identity (`AGE-SECRET-KEY-1...`, or a plugin's `AGE-PLUGIN-...`): a secret.
    AgeIdentity,
    /// age recipients (`age1...`): public.
    AgeRecipient,
    /// A private key in PEM (PKCS#8, encrypted or not, OpenSSH, RSA, EC, ...).
    Private {
        /// Whether the PEM says it is encrypted.
        encrypted: bool,
    },
    /// A public key in PEM (SubjectPublicKeyInfo).
    Public,
    /// An age-encrypted file.
    AgeEncrypted,
}

impl KeyText {
    /// What it is, for a sentence such as "`x.age` is an age identity (secret)".
    pub fn name(self) -> &'static str {
        match self {
            KeyText::AgeIdentity => "an age identity (secret)",
            KeyText::AgeRecipient => "an age recipient (public)",
            KeyText::Private { encrypted: true } => "an encrypted private key (PEM)",
            KeyText::Private { encrypted: false } => "a private key (PEM)",
            KeyText::Public => "a public key (PEM)",
            KeyText::AgeEncrypted => "an age-encrypted file",
        }
    }

    /// Whether it holds a secret.
    pub fn is_secret(self) -> bool {
        matches!(self, KeyText::AgeIdentity | KeyText::Private { .. })
    }
}

/// What kind of key material `text` holds, if it holds any reg recognises; secrets first, so a
/// file holding a secret is never taken for a public one.
pub fn key_text_kind(text: &str) -> Option<KeyText> {
    let upper = text.to_ascii_uppercase();
    if upper.contains("AGE-SECRET-KEY-") || upper.contains("AGE-PLUGIN-") {
        return Some(KeyText::AgeIdentity);
    }
    if upper.contains("PRIVATE KEY-----") {
        return Some(KeyText::Private {
            encrypted: upper.contains("ENCRYPTED PRIVATE KEY-----")
                || upper.contains("PROC-TYPE: 4,ENCRYPTED"),
        });
    }
    if upper.contains("-----BEGIN AGE ENCRYPTED FILE-----")
        || text.starts_with("age-encryption.org/")
    {
        return Some(KeyText::AgeEncrypted);
    }
    if upper.contains("-----BEGIN PUBLIC KEY-----") {
        return Some(KeyText::Public);
    }
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    if lines
        .next()
        .is_some_and(|l| l.len() > 4 && l[..4].eq_ignore_ascii_case("age1"))
    {
        return Some(KeyText::AgeRecipient);
    }
    None
}

/// `s` quoted for an error message, unless it may be key material or is long: then only what
/// it is and its length, never its text.
pub fn shown(s: &str) -> String {
    match key_text_kind(s) {
        Some(k) if k.is_secret() => format!("the value given ({}, not shown)", k.name()),
        _ if may_be_secret(s) => format!(
            "the value given ({} characters that may be key material, not shown)",
            s.chars().count()
        ),
        _ if s.chars().count() > 80 => format!(
            "the value given ({} characters, not shown)",
            s.chars().count()
        ),
        _ => format!("`{s}`"),
    }
}

/// Whether `s` may hold key material and must not be echoed: a secret reg recognises, or a
/// long run of base64 (a line of a PEM body, a raw key) that is neither hex (hashes,
/// fingerprints) nor an age recipient (public).
pub fn may_be_secret(s: &str) -> bool {
    if key_text_kind(s).is_some_and(KeyText::is_secret) {
        return true;
    }
    let t = s.trim();
    t.len() >= 40
        && !(t.len() > 4 && t[..4].eq_ignore_ascii_case("age1"))
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
        && !t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parses an age X25519 recipient (`age1...`); the error never quotes a secret, and says what
/// to pass instead when an identity was given where its recipient belongs.
pub fn parse_age_recipient(s: &str) -> Result<age::x25519::Recipient, String> {
    s.parse::<age::x25519::Recipient>()
        .map_err(|e| match key_text_kind(s) {
            Some(KeyText::AgeIdentity) => "the value given is an age identity (secret), not a \
             recipient: pass its recipient (age1...), printed by `reg key gen --age` and kept in \
             the identity file's `# public key:` line"
                .to_string(),
            Some(k) if k.is_secret() => format!(
                "the value given is {}, not an age X25519 recipient (age1...)",
                k.name()
            ),
            _ => format!("{} is not an age X25519 recipient: {e}", shown(s)),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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
