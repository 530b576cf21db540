//! Whether the registry is pinned on this host, in the JSON of `list`, `status` and `show`:
//! `"trust": {"pinned": true, "by": "trust-file"}`. A script reads it where a person reads the
//! note on stderr (`Context::open`), which stays.
//!
//! `by` says which pin the registry's root was checked against: `trust-file` (the host's trust
//! file, `reg trust add`), `--trust` (the `--trust` flag or `REG_TRUST`), or null when nothing
//! pins it and it was checked only against itself.

use reg::repo::trust::PinStatus;
use serde::Serialize;

/// The `trust` member.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Trust {
    /// A pin of this host vouched for the registry's root.
    pub pinned: bool,
    /// Which: `trust-file`, `--trust`, or null.
    pub by: Option<&'static str>,
}

impl Trust {
    /// What `pin` says.
    pub fn of(pin: &PinStatus) -> Trust {
        let by = match pin {
            PinStatus::Explicit(_) => Some("--trust"),
            PinStatus::HostFile(_) => Some("trust-file"),
            PinStatus::Unpinned => None,
        };
        Trust {
            pinned: by.is_some(),
            by,
        }
    }
}

/// `value`'s JSON object with the `trust` member added.
#[derive(Serialize)]
pub struct WithTrust<'a, T: Serialize> {
    #[serde(flatten)]
    pub value: &'a T,
    /// Whether the registry is pinned on this host.
    pub trust: Trust,
}

/// Each of `values` with the `trust` member added: a list's rows each say it, so that one row
/// read alone still does.
pub fn each<'a, T: Serialize>(values: &'a [T], pin: &PinStatus) -> Vec<WithTrust<'a, T>> {
    let trust = Trust::of(pin);
    values
        .iter()
        .map(|value| WithTrust { value, trust })
        .collect()
}
