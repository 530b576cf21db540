//! Where this host keeps its trust file and its state directory by default (FORMAT.md §8),
//! resolved from environment values the caller passes: the library reads no environment.

use std::path::PathBuf;

/// Where this host keeps its trust file and its state directory, by default: what the CLI
/// documents, resolved from the environment values it is given (`var` looks one up: the CLI
/// passes `std::env::var_os`). The library reads no environment itself, so an embedding
/// program can put host state wherever it likes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    /// `$REG_TRUST_FILE`, `$XDG_CONFIG_HOME/reg/trust.json` or `$HOME/.config/reg/trust.json`.
    pub trust_file: PathBuf,
    /// `$REG_STATE_DIR`, `$XDG_STATE_HOME/reg` or `$HOME/.local/state/reg`.
    pub state_dir: PathBuf,
}

impl HostPaths {
    /// Resolves the defaults from the variables `var` gives: `REG_TRUST_FILE` and
    /// `REG_STATE_DIR`, else under `XDG_CONFIG_HOME` and `XDG_STATE_HOME`, else under `HOME`.
    /// An empty value counts as unset, and so does a relative `XDG_*` or `HOME` (as the XDG
    /// specification says). With none of them the paths are left relative, and every use
    /// refuses them ([`RELATIVE`]): resolved against the current directory, which is often the
    /// medium, they would let the medium's holder choose the pins and the rollback records.
    pub fn from_vars(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> HostPaths {
        let set = |name: &str| var(name).filter(|p| !p.is_empty()).map(PathBuf::from);
        let base = |name: &str| set(name).filter(|p| p.is_absolute());
        let home = |sub: &str| base("HOME").map(|h| h.join(sub));
        let trust_file = set("REG_TRUST_FILE").unwrap_or_else(|| {
            base("XDG_CONFIG_HOME")
                .or_else(|| home(".config"))
                .unwrap_or_default()
                .join("reg")
                .join("trust.json")
        });
        let state_dir = set("REG_STATE_DIR").unwrap_or_else(|| {
            base("XDG_STATE_HOME")
                .or_else(|| home(".local/state"))
                .unwrap_or_default()
                .join("reg")
        });
        HostPaths {
            trust_file,
            state_dir,
        }
    }
}

/// Why a relative trust file or state directory is refused.
pub const RELATIVE: &str = "a relative path, which would be read from the current directory (often the medium itself, whose holder would then choose this host's pins and records); set HOME, or REG_TRUST_FILE and REG_STATE_DIR, to absolute paths";
