//! Which pins `reg trust remove` removes (FORMAT.md §8): by genesis root or registry id,
//! optionally at one path.

use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
use std::path::{Path, PathBuf};

/// Which pins `reg trust remove` removes.
#[derive(Debug, Clone)]
pub struct PinSelector {
    /// A root fingerprint or a registry id.
    pub key: PinKey,
    /// Only the pin of the registry at this (absolute) path, when given.
    pub path: Option<PathBuf>,
}

/// A pin named by its root or its registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinKey {
    /// Every pin of this genesis root.
    Root(Fingerprint),
    /// The pin of this registry.
    Registry(ObjectId),
}

impl std::str::FromStr for PinKey {
    type Err = String;

    /// A fingerprint is 32 hex digits, a registry id 64: the length tells them apart.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(fp) = s.parse::<Fingerprint>() {
            return Ok(PinKey::Root(fp));
        }
        if let Ok(id) = s.parse::<ObjectId>() {
            return Ok(PinKey::Registry(id));
        }
        Err(
            "expected a root key fingerprint (32 lowercase hex digits) or a registry id (64)"
                .into(),
        )
    }
}

impl PinSelector {
    /// Whether it selects the pin of registry `registry`, of genesis root `root`, at `path`.
    pub(super) fn matches(&self, root: &Fingerprint, registry: &ObjectId, path: &str) -> bool {
        let key = match &self.key {
            PinKey::Root(fp) => root == fp,
            PinKey::Registry(id) => registry == id,
        };
        key && self.path.as_ref().is_none_or(|p| Path::new(path) == p)
    }
}

impl std::fmt::Display for PinSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.key {
            PinKey::Root(fp) => write!(f, "root key {fp}")?,
            PinKey::Registry(id) => write!(f, "registry {id}")?,
        }
        if let Some(p) = &self.path {
            write!(f, " at `{}`", p.display())?;
        }
        Ok(())
    }
}
