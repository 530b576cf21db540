//! Whether the registry is pinned on this host, the `trust` member of `reg list --json`, `reg
//! status --json` and `reg show --json` (`schema/model-list.schema.json`,
//! `schema/status.schema.json`, `schema/model-record.schema.json`):
//! `"trust": {"pinned": true, "by": "trust-file"}`. A program reads it where a person reads the
//! note the command line prints on stderr.
//!
//! `by` says which pin the registry's root was checked against: `trust-file` (the host's trust
//! file, `reg trust add`), `--trust` (the `--trust` flag or `REG_TRUST`), or null when nothing
//! pins it and it was checked only against itself.

use crate::repo::trust::PinStatus;
use serde::Serialize;

/// The `trust` member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// `value`'s JSON object with the `trust` member added. Owned, so that a report returns it;
/// each row of a list carries it, so that one row read alone still says it.
#[derive(Debug, Clone, Serialize)]
pub struct Pinned<T> {
    /// The document.
    #[serde(flatten)]
    pub value: T,
    /// Whether the registry is pinned on this host.
    pub trust: Trust,
}

impl<T> Pinned<T> {
    /// `value` with what `pin` says.
    pub fn new(value: T, pin: &PinStatus) -> Pinned<T> {
        Pinned {
            value,
            trust: Trust::of(pin),
        }
    }

    /// Each of `values` with what `pin` says.
    pub fn each(values: Vec<T>, pin: &PinStatus) -> Vec<Pinned<T>> {
        let trust = Trust::of(pin);
        values
            .into_iter()
            .map(|value| Pinned { value, trust })
            .collect()
    }
}
