//! `config.json`, the registry's fixed identity: its format version and registry id
//! (FORMAT.md §1.1).

use crate::format::id::ObjectId;
use crate::repo::error::RegistryError;
use crate::state::FORMAT_VERSION;
use crate::util::encoding::{EncodingError, from_canonical_slice};
use crate::util::fsutil::read_small;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `config.json` (FORMAT.md §1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The format version.
    pub format_version: u32,
    /// The registry id (the genesis entry's id).
    pub registry_id: ObjectId,
}

/// Reads `config.json` of the registry at `dot`: a newer format is named as such, anything
/// else malformed is [`RegistryError::Config`].
pub(in crate::repo) fn read_config(dot: &Path) -> Result<Config, RegistryError> {
    let path = dot.join("config.json");
    let bytes = read_small(&path, 64 * 1024)?;
    let bad = |detail: String| RegistryError::Config {
        path: path.clone(),
        detail,
    };
    // Read the version before the strict parse, so that a newer format is named as such
    // rather than reported as unknown fields.
    let loose: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(EncodingError::from(e).to_string()))?;
    match loose.get("format_version").and_then(|v| v.as_u64()) {
        Some(v) if v > u64::from(FORMAT_VERSION) => {
            return Err(RegistryError::NewerFormat {
                path: dot.to_path_buf(),
                found: v,
            });
        }
        // Version 0 never existed: a config naming it was not written by reg.
        Some(0) => {
            return Err(bad(
                "format_version 0 is not a format version (the first is 1)".into(),
            ));
        }
        Some(_) => {}
        None => return Err(bad("no format_version".into())),
    }
    from_canonical_slice(&bytes).map_err(|e| bad(e.to_string()))
}
