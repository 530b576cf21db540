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
        Err(RegistryError::Layout(e)) => {
            // A link or special file is already named by check_links. Anything else the layout
            // refuses (a directory where it has a file, a file where it has a directory) is
            // named here: a registry that cannot be opened never passes.
            if !f.findings.iter().any(|x| x.path.as_ref() == Some(&e.path)) {
                f.error(Code::Layout, Some(e.path.clone()), None, e.to_string());
            }
            return None;
        }
        Err(e) => {
            // Opening reads config.json, the genesis object it names (a damaged one is a
            // `CorruptObject` naming config.json's registry id) and the host pin.
            let code = match &e {
                RegistryError::Trust(_) => Code::TrustMismatch,
                _ => Code::ConfigInvalid,
            };
            // Every other refusal is about config.json or what it names (the genesis object,
            // its root against the pin); the message names the object.
            f.error(code, Some(dot.join(CONFIG)), None, e.to_string());
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
