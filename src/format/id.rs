//! Object ids: the BLAKE3-256 of an object's exact bytes (FORMAT.md §3), so that an artifact's
//! id is what `b3sum` prints.

use crate::util::encoding::{hex, is_lower_hex};
use std::fmt;
use std::str::FromStr;

/// A 32-byte BLAKE3 object id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; 32]);

impl ObjectId {
    /// The id of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        ObjectId(*blake3::hash(bytes).as_bytes())
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The id whose raw bytes are `bytes` (as a transfer file carries them, FORMAT.md §11).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ObjectId(bytes)
    }

    /// Wraps a finished BLAKE3 hash.
    pub fn from_hash(hash: blake3::Hash) -> Self {
        ObjectId(*hash.as_bytes())
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

/// Text that is not 64 lowercase hex digits; it holds the text as it may be shown (escaped and
/// cut short: an id comes from files and command lines an attacker may write).
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an object id (64 lowercase hex digits)")]
pub struct BadObjectId(pub String);

impl FromStr for ObjectId {
    type Err = BadObjectId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !is_lower_hex(s, 64) {
            return Err(BadObjectId(crate::util::encoding::echo(s)));
        }
        // is_lower_hex checked every digit above.
        let nibble = |c: u8| {
            if c.is_ascii_digit() {
                c - b'0'
            } else {
                c - b'a' + 10
            }
        };
        let b = s.as_bytes();
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        }
        Ok(ObjectId(out))
    }
}

impl serde::Serialize for ObjectId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ObjectId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(IdVisitor)
    }
}

/// Parses an id from the input's string without copying it first (an index bucket holds
/// several ids a model, and a write reads a bucket of a thousand models).
struct IdVisitor;

impl serde::de::Visitor<'_> for IdVisitor {
    type Value = ObjectId;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object id (64 lowercase hex digits)")
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<ObjectId, E> {
        s.parse().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_id_is_shown_escaped_and_cut_short() {
        let hostile = format!("\u{1b}[31m{}", "x".repeat(100_000));
        let shown = hostile.parse::<ObjectId>().unwrap_err().to_string();
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert!(shown.contains("\\u{1b}"), "{shown}");
        assert!(shown.len() < 1_000, "{} bytes", shown.len());
        let good = "ab".repeat(32);
        assert_eq!(good.parse::<ObjectId>().unwrap().to_string(), good);
    }
}
