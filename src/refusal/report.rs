//! Refusals of a report (`reg::report`): each library error as its own conversion says it, and
//! what the caller asked (a bad `--since`, an unknown actor, a slot with no history) as bad
//! input (exit 2) with the hint the report gives.
#![deny(clippy::wildcard_enum_match_arm)]

use super::registry::registry;
use super::state::resolve;
use super::{Class, Refusal, classified};
use crate::report::ReportError;

impl From<ReportError> for Refusal {
    fn from(e: ReportError) -> Self {
        classified(e, |e| match e {
            ReportError::Registry(r) => registry(r),
            ReportError::Resolve(r) => resolve(r),
            ReportError::Input(i) => (Class::InvalidInput, i.hint()),
        })
    }
}
