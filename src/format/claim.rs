//! What an `add` entry's record claims (FORMAT.md §5.6): the part of the `add` rule that needs
//! no state and no disk, so that replay can run it on every core.

use crate::crypto::keys::{Fingerprint, PublicKey};
use crate::format::id::ObjectId;
use crate::format::manifest::SignedManifest;

/// What an `add` entry's record says (FORMAT.md §5.6), once its object hashes to its id, it
/// parses as a manifest and its signature was checked: what the state's `check_record` compares
/// with the entry and the state before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordClaim {
    /// The manifest's publisher (the envelope's only key id).
    pub publisher: Fingerprint,
    /// The public key bytes the signature verified with; `None`: not verified (no such key).
    pub verified_with: Option<[u8; 32]>,
    /// The manifest's model name.
    pub name: String,
    /// The manifest's version.
    pub version: String,
    /// The manifest's artifact ids, sorted and unique.
    pub artifacts: Vec<ObjectId>,
    /// The manifest carries `owner` or `license`, which only format 4 admits (FORMAT.md §7.1).
    pub format_4_fields: bool,
}

/// The claim of a parsed manifest (FORMAT.md §5.6), its signature checked with `key`, the key the
/// registry holds for the manifest's publisher (`None` when it holds none: the claim then says
/// it is unverified, and the state's `check_record` refuses it). A signature that does not verify
/// is refused here.
pub fn claim(signed: &SignedManifest, key: Option<&PublicKey>) -> Result<RecordClaim, String> {
    let m = &signed.manifest;
    let verified_with = match key {
        Some(key) => {
            signed.envelope.verify_single(key).map_err(|e| {
                format!(
                    "its signature does not verify with publisher key {}: {e}",
                    m.publisher
                )
            })?;
            Some(key.to_bytes())
        }
        None => None,
    };
    let mut artifacts = m
        .artifacts
        .iter()
        .map(|a| {
            a.blake3
                .parse::<ObjectId>()
                .map_err(|_| format!("artifact `{}` has no valid BLAKE3", a.path.escape_debug()))
        })
        .collect::<Result<Vec<ObjectId>, String>>()?;
    artifacts.sort();
    artifacts.dedup();
    Ok(RecordClaim {
        format_4_fields: m.needs_format_4(),
        publisher: m.publisher.clone(),
        verified_with,
        name: m.name.clone(),
        version: m.version.clone(),
        artifacts,
    })
}
