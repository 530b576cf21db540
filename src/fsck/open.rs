//! Opening the registry: its configuration, its genesis root, and how the root is pinned on
//! this host (`config-invalid`, `trust-mismatch`, `trust-unpinned`).

use super::{Code, Fsck};
use crate::repo::layout::CONFIG;
use crate::repo::registry::{OpenOptions, Registry, RegistryError};
use crate::repo::trust::PinStatus;
use std::path::Path;

/// Opens the registry at `dot`; returns it with how its root is pinned (`explicit`, `host` or
/// `none`), or `None` when it cannot be opened (the finding says why).
pub(super) fn open(
    dot: &Path,
    trust: &OpenOptions,
    allow_unpinned: bool,
    f: &mut Fsck,
) -> Option<(Registry, &'static str)> {
    let reg = match Registry::open(dot, trust) {
        Ok(r) => r,
        // Already named by check_links, with every other link.
        Err(RegistryError::Layout(_)) => return None,
        Err(e) => {
            // Opening reads config.json, the genesis object it names (a damaged one is a
            // `CorruptObject` naming config.json's registry id) and the host pin.
            let code = match &e {
                RegistryError::Trust(_) => Code::TrustMismatch,
                _ => Code::ConfigInvalid,
            };
            let path = super::ledger::error_path(&e, dot).unwrap_or_else(|| dot.join(CONFIG));
            f.error(code, Some(path), None, e.to_string());
            return None;
        }
    };
    let pinned = match reg.pin() {
        PinStatus::Explicit(_) => "explicit",
        PinStatus::HostFile(_) => "host",
        PinStatus::Unpinned => "none",
    };
    if pinned == "none" {
        let msg = format!(
            "registry {} is not pinned on this host (no --trust, REG_TRUST or host pin): it was checked only against itself",
            reg.id()
        );
        if allow_unpinned {
            f.warn(Code::TrustUnpinned, None, None, msg);
        } else {
            f.error(Code::TrustUnpinned, None, None, msg);
        }
    }
    Some((reg, pinned))
}
