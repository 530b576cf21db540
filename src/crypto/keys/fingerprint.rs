//! Key fingerprints: 16 bytes of BLAKE3 key derivation over the public key (FORMAT.md §4.1).

use super::{KeyError, shown};
use crate::util::encoding::{hex, is_lower_hex};
use std::fmt;
use std::str::FromStr;

/// The BLAKE3 key-derivation context of fingerprints; changing it changes every fingerprint.
pub const FINGERPRINT_CONTEXT: &str = "reg 2026-11-26 ed25519 public key fingerprint v1";

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
