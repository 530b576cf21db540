//! Why a document could not be built: the library's errors as they are, and what the caller
//! asked that cannot be answered ([`InputError`]), with the message and hint `reg` prints (exit
//! 2, usage). Typed, so that each caller (the command line, Python) decides how to show them.

use crate::crypto::keys::Fingerprint;
use crate::repo::registry::RegistryError;
use crate::state::resolve::ResolveError;

/// Why a report failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading or verifying the registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The model or slot named does not resolve to one model.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// What was asked cannot be answered as asked.
    #[error(transparent)]
    Input(#[from] InputError),
}

/// What a caller asked that a report refuses before (or instead of) answering: bad usage, not
/// a verdict on the registry. The messages name the command line's options, as `reg` prints
/// them; every other caller passes the same values under the same names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// `since` is not an RFC 3339 time: checked first, so that a typo is not an empty answer.
    #[error("--since `{given}`: expected a time such as 2026-01-31T00:00:00Z")]
    Since {
        /// The time given.
        given: String,
    },
    /// `actor` names no key: no name matches and no fingerprint starts so.
    #[error(
        "--actor `{given}`: no key is named so or has a fingerprint starting so (4 hex digits or more); `reg key list` shows the keys"
    )]
    UnknownActor {
        /// The name or prefix given.
        given: String,
    },
    /// `actor` is a prefix of several keys' fingerprints: which one is meant is not guessed.
    #[error(
        "--actor `{given}` is ambiguous: it starts the fingerprints of {}; give more digits",
        .keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    AmbiguousActor {
        /// The prefix given.
        given: String,
        /// The keys it starts.
        keys: Vec<Fingerprint>,
    },
    /// A slot's history asked, unfiltered, of a slot no entry ever set: most likely a typo,
    /// said as `git log` says of a path it does not know (with a filter, an empty answer is an
    /// answer).
    #[error("slot `{slot}` has no history in this registry: no entry ever set it")]
    SlotWithoutHistory {
        /// The slot given.
        slot: String,
        /// The slots set now, sorted.
        known: Vec<String>,
    },
}

impl InputError {
    /// The fix, when there is more to say than the message.
    pub fn hint(&self) -> Option<String> {
        match self {
            InputError::Since { .. }
            | InputError::UnknownActor { .. }
            | InputError::AmbiguousActor { .. } => None,
            InputError::SlotWithoutHistory { known, .. } if known.is_empty() => Some(
                "no slot has been set in this registry (`reg activate SLOT MODEL` sets one)".into(),
            ),
            InputError::SlotWithoutHistory { known, .. } => Some(format!(
                "the slots set now: {} (`reg status`)",
                known.join(", ")
            )),
        }
    }
}
