//! Entry times (FORMAT.md §5.1, format 4): each entry is dated no earlier than the one before it.
//!
//! Times order nothing (seq does), but an auditor reads them, and freshness rests on them: a
//! ledger whose times go backwards, or an entry dated decades ahead, says something false about
//! when a decision was made. From format 4 the state keeps the last entry's time and replay
//! refuses an entry dated before it; how far ahead of a reader's clock the head may be is
//! [`State::check_fresh_at`]'s (the skew of §6.1). Older registries are only reported on
//! ([`TimeOrder`], by fsck and `reg log`), since their history was valid when written.

use super::{State, StateError};
use crate::util::encoding::parse_rfc3339;

/// The first format whose entries' times only move forward.
pub const TIME_FORMAT: u32 = 4;

impl State {
    /// The rule of an entry dated `time` (format 4): no earlier than the last entry applied.
    pub fn check_time(&self, time: &str) -> Result<(), StateError> {
        match &self.time {
            Some(previous) if goes_back(previous, time) => Err(StateError::TimeBackwards {
                time: time.to_string(),
                previous: previous.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Records the time of the entry just applied (format 4 only, so that older states, which
    /// checkpoints commit to, read as before).
    pub(super) fn apply_time(&mut self, time: &str) {
        if self.format_version >= TIME_FORMAT {
            self.time = Some(time.to_string());
        }
    }
}

/// Whether an entry dated `next` goes back in time from one dated `previous`. Times outside the
/// format's grammar were refused when their entries were read, so they compare as equal here.
pub fn goes_back(previous: &str, next: &str) -> bool {
    matches!((parse_rfc3339(previous), parse_rfc3339(next)), (Some(p), Some(n)) if n < p)
}

/// An entry dated before the entry it follows, in a registry older than format 4 (format 4's
/// replay refuses it): what `reg fsck` warns of (`time-backwards`) and `reg log` marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backwards {
    /// The entry's seq.
    pub seq: u64,
    /// Its time.
    pub time: String,
    /// The time of entry `seq - 1`.
    pub previous: String,
}

impl std::fmt::Display for Backwards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "entry {} is dated {}, before entry {} ({})",
            self.seq,
            self.time,
            self.seq.saturating_sub(1),
            self.previous
        )
    }
}

/// Follows a ledger's times entry after entry, as a replay visits them, and says which entry
/// goes back in time from the one before it ([`goes_back`]).
#[derive(Debug, Default)]
pub struct TimeOrder {
    previous: Option<String>,
}

impl TimeOrder {
    /// Takes the next entry, `seq` dated `time`: [`Backwards`] if it is dated before the last.
    pub fn next(&mut self, seq: u64, time: &str) -> Option<Backwards> {
        let back = match self.previous.take() {
            Some(previous) if goes_back(&previous, time) => Some(Backwards {
                seq,
                time: time.to_string(),
                previous,
            }),
            _ => None,
        };
        self.previous = Some(time.to_string());
        back
    }
}
