//! The two kinds of key revocation (FORMAT.md §5.3): a `key-revoke` entry without
//! `compromised` retires the key, one with `"compromised":true` (format 4) says it was
//! compromised. Every revocation written before format 4 reads as retirement.

use serde::Serialize;

/// Which way a key was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RevocationKind {
    /// Lost, rotated, its holder gone: its earlier signatures stay valid.
    Retired,
    /// Someone else may have held it: its earlier signatures no longer stand on their own, and
    /// what rests on it is suspended (FORMAT.md §5.14).
    Compromised,
}

impl RevocationKind {
    /// The kind a `key-revoke` (or a revoked key's state) with this `compromised` flag says.
    pub fn of(compromised: bool) -> RevocationKind {
        if compromised {
            RevocationKind::Compromised
        } else {
            RevocationKind::Retired
        }
    }

    /// The word, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            RevocationKind::Retired => "retired",
            RevocationKind::Compromised => "compromised",
        }
    }
}
