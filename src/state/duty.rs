//! [`Duty`]: which duty an entry would join to another (FORMAT.md §5.5), the typed reason of
//! `StateError::DutiesApart`. Its own file so that the error (`error.rs`) and the rule that
//! raises it (`duties.rs`) both use it without using each other.

use crate::crypto::keys::Fingerprint;
use crate::format::entry::Role;

/// Which duty an entry would join to another (FORMAT.md §5.5): what
/// [`StateError::DutiesApart`](super::StateError::DutiesApart) says, typed, so that each refusal gets the fix that fits it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Duty {
    /// A policy turning `separate_duties` on while a key holds both publisher and operator.
    #[error("key {0} holds both publisher and operator; withdraw one of them first")]
    BothHeld(Fingerprint),
    /// A key-trust that would give a key the second of publisher and operator.
    #[error("key {fingerprint} holds {held} and may not also hold {role}")]
    Gains {
        /// The key.
        fingerprint: Fingerprint,
        /// The role it holds.
        held: Role,
        /// The role the entry grants.
        role: Role,
    },
    /// A model's publisher admits, promotes or re-approves it.
    #[error("key {fingerprint} published {spec} and may not {verb} it")]
    OwnModel {
        /// The publisher, who signed the entry.
        fingerprint: Fingerprint,
        /// `name@version` of the model.
        spec: String,
        /// "admit", "promote" or "re-approve".
        verb: &'static str,
    },
}
