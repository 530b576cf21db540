//! ed25519 public and private keys: strict point checks, strict verification, PEM encoding.

use super::encrypted::SCRYPT_LOG_N;
use super::{Fingerprint, KeyError};
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use pkcs8::der::Decode as _;
use pkcs8::der::pem::LineEnding;
use std::fmt;
use std::path::PathBuf;
use zeroize::Zeroizing;

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
        Self::from_signing_key(SigningKey::from_bytes(seed))
    }

    /// A secret key from a decoded signing key, its public half checked like every public key
    /// reg reads.
    pub(super) fn from_signing_key(key: SigningKey) -> Result<Self, KeyError> {
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
