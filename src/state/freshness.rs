//! Freshness (FORMAT.md §6.1): when a registry whose policy sets `checkpoint_max_age_days`
//! expires, who may make it fresh again, and what it accepts meanwhile.
//!
//! The rule rests on one signed time, the **renewal**: the `time` of the latest `renew` entry,
//! which only a key holding the `timestamp` role signs (genesis counts as one from format 3 on).
//! Any other write (a reporter's drift, an operator's add) leaves it where it was, so no key
//! that is not the root's choice for freshness can make a stale medium readable again. Format 1
//! and 2 registries have no renewal until their first `renew` entry; until then their
//! checkpoint's time stands in for it (the older rule, which the writers still apply).

use super::{State, StateError, required_role};
use crate::crypto::envelope::Kind;
use crate::format::entry::{Entry, Role};
use crate::util::encoding::{parse_rfc3339, rfc3339};

/// How far past a reader's clock a signed time may be (FORMAT.md §6.1): one day, for the drift
/// of unsynchronised air-gapped clocks; a time further ahead would make a registry that never
/// expires, and is refused.
pub const MAX_CLOCK_SKEW_SECS: u64 = 86_400;

/// Why a reader refuses a registry as stale (FORMAT.md §6.1). Its text completes "the registry"
/// or "the transfer file's history", which the caller says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Staleness {
    /// The last renewal (or, for a registry never renewed under format 3's rule, the checkpoint)
    /// is older than the policy allows.
    #[error(
        "{} {time}, more than the {days} days its policy allows: refusing a stale medium",
        basis_text(*.legacy)
    )]
    Expired {
        /// The renewal's time (or the checkpoint's).
        time: String,
        /// The policy's limit.
        days: u32,
        /// Whether the checkpoint's time stood in for a renewal (format 1 and 2).
        legacy: bool,
    },
    /// A signed time is further past the reader's clock than the skew allows.
    #[error(
        "{} {time}, more than a day after this host's clock ({now}): {}",
        .what.text(),
        .what.why()
    )]
    Future {
        /// The time found.
        time: String,
        /// The reader's clock.
        now: String,
        /// Whose time it is.
        what: SignedTime,
    },
}

fn basis_text(legacy: bool) -> &'static str {
    if legacy {
        "has its checkpoint signed at"
    } else {
        "was last renewed at"
    }
}

/// Which signed time is in the future (FORMAT.md §5.1, §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedTime {
    /// The checkpoint's.
    Checkpoint,
    /// The latest renewal's.
    Renewal,
    /// The head entry's (format 4: entry times only move forward, so it is the latest).
    Entry,
}

impl SignedTime {
    fn text(self) -> &'static str {
        match self {
            SignedTime::Checkpoint => "has its checkpoint dated",
            SignedTime::Renewal => "is renewed at",
            SignedTime::Entry => "has its last ledger entry dated",
        }
    }

    fn why(self) -> &'static str {
        match self {
            SignedTime::Checkpoint | SignedTime::Renewal => {
                "refusing a time that would never expire"
            }
            SignedTime::Entry => {
                "refusing a history dated in the future (entry times only move forward)"
            }
        }
    }

    /// Whether it is the head entry's time (whose cure is waiting or a successor, not a
    /// renewal: a renewal dated now would go back in time).
    pub fn is_entry(self) -> bool {
        self == SignedTime::Entry
    }
}

impl Staleness {
    /// Whether the registry is past its age (else a time is in the future).
    pub fn is_expired(&self) -> bool {
        matches!(self, Staleness::Expired { .. })
    }
}

impl State {
    /// The time of the latest renewal (FORMAT.md §6.1): the latest `renew` entry's, else
    /// genesis's in format 3; `None` in a format 1 or 2 registry never renewed since.
    pub fn renewed(&self) -> Option<&str> {
        self.renewed.as_deref()
    }

    /// Whether a reader whose clock reads `now` (seconds) may use this registry, whose
    /// checkpoint was signed at `checkpoint_time` (FORMAT.md §6.1). Without a
    /// `checkpoint_max_age_days` in the policy, times decide nothing and every registry is fresh.
    ///
    /// In a format-4 registry the head entry's time is checked against the clock whatever the
    /// policy (FORMAT.md §5.1): an entry dated far ahead would forbid every later entry, since
    /// times only move forward.
    pub fn check_fresh_at(&self, checkpoint_time: &str, now: u64) -> Result<(), Staleness> {
        let future = |time: &str, what: SignedTime| match parse_rfc3339(time) {
            Some(t) if t > now.saturating_add(MAX_CLOCK_SKEW_SECS) => Err(Staleness::Future {
                time: time.to_string(),
                now: rfc3339(now),
                what,
            }),
            _ => Ok(()),
        };
        let Some(days) = self.policy.checkpoint_max_age_days else {
            return match self.time() {
                Some(t) => future(t, SignedTime::Entry),
                None => Ok(()),
            };
        };
        if let Some(r) = self.renewed() {
            future(r, SignedTime::Renewal)?;
        }
        future(checkpoint_time, SignedTime::Checkpoint)?;
        if let Some(t) = self.time() {
            future(t, SignedTime::Entry)?;
        }
        let (basis, legacy) = match self.renewed() {
            Some(r) => (r, false),
            None => (checkpoint_time, true),
        };
        match parse_rfc3339(basis) {
            Some(t) if now.saturating_sub(t) > u64::from(days) * 86_400 => {
                Err(Staleness::Expired {
                    time: basis.to_string(),
                    days,
                    legacy,
                })
            }
            // Entry and checkpoint times were checked against their grammar when read.
            _ => Ok(()),
        }
    }

    /// The rule of what an expired registry accepts (FORMAT.md §6.1): an entry dated more than
    /// the policy's age after the renewal is valid only if it renews the registry or is the
    /// root's (which keeps governing its keys and policy, and may name a timestamp key).
    ///
    /// Replay passes no `legacy_basis`: it applies the rule from the first renewal on. A writer
    /// of a registry never renewed under this rule passes its checkpoint's time, the basis
    /// readers use for it.
    pub fn check_written_fresh(
        &self,
        entry: &Entry,
        legacy_basis: Option<&str>,
    ) -> Result<(), StateError> {
        self.check_fresh_to_write(entry.body.kind(), &entry.header.time, legacy_basis)
    }

    /// [`State::check_written_fresh`] for an entry of `kind` dated `time`, before it is made: so
    /// that a writer refuses before it reads gigabytes of a bundle it could not record.
    pub fn check_fresh_to_write(
        &self,
        kind: Kind,
        time: &str,
        legacy_basis: Option<&str>,
    ) -> Result<(), StateError> {
        let Some(days) = self.policy.checkpoint_max_age_days else {
            return Ok(());
        };
        if kind == Kind::Renew || required_role(kind) == Some(Role::Root) {
            return Ok(());
        }
        let Some(basis) = self.renewed().or(legacy_basis) else {
            return Ok(());
        };
        let (Some(at), Some(renewed)) = (parse_rfc3339(time), parse_rfc3339(basis)) else {
            return Ok(()); // the entry's fields were checked first; a renewal time was too
        };
        if at.saturating_sub(renewed) > u64::from(days) * 86_400 {
            return Err(StateError::WrittenExpired {
                kind,
                time: time.to_string(),
                renewed: basis.to_string(),
                days,
            });
        }
        Ok(())
    }

    /// Applies a `renew` entry: its time is the registry's renewal from now on.
    pub(super) fn apply_renew(&mut self, entry: &Entry) {
        self.renewed = Some(entry.header.time.clone());
    }
}
