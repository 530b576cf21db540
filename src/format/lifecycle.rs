//! The lifecycle state machine (FORMAT.md §5.7), as plain data: the states and the table of
//! allowed moves. The rules that apply it to the derived state live in `state::lifecycle`.
//!
//! REGISTERED -> PROMOTED; PROMOTED -> DEPRECATED; DEPRECATED -> PROMOTED (explicit
//! reinstatement); any state but REVOKED -> REVOKED; REVOKED is terminal. Nothing else.

use serde::{Deserialize, Serialize};

/// Lifecycle states of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LifecycleState {
    /// Ingested, not approved.
    Registered,
    /// Approved for use.
    Promoted,
    /// Still usable, being phased out.
    Deprecated,
    /// Never usable again.
    Revoked,
}

impl LifecycleState {
    /// The state's name as written.
    pub fn name(self) -> &'static str {
        match self {
            LifecycleState::Registered => "REGISTERED",
            LifecycleState::Promoted => "PROMOTED",
            LifecycleState::Deprecated => "DEPRECATED",
            LifecycleState::Revoked => "REVOKED",
        }
    }

    /// Parses a state name, in any case.
    pub fn from_name(s: &str) -> Option<LifecycleState> {
        [
            Self::Registered,
            Self::Promoted,
            Self::Deprecated,
            Self::Revoked,
        ]
        .into_iter()
        .find(|st| st.name().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the state machine allows `from -> to`.
pub fn allowed(from: LifecycleState, to: LifecycleState) -> bool {
    use LifecycleState::*;
    matches!(
        (from, to),
        (Registered, Promoted)
            | (Promoted, Deprecated)
            | (Deprecated, Promoted)
            | (Registered | Promoted | Deprecated, Revoked)
    )
}

/// The command that moves a model to `to`.
pub fn verb(to: LifecycleState) -> &'static str {
    match to {
        LifecycleState::Promoted => "promote",
        LifecycleState::Deprecated => "deprecate",
        LifecycleState::Revoked => "revoke",
        LifecycleState::Registered => "register",
    }
}

/// "allowed from X: promote, revoke" (or "nothing is allowed from REVOKED"), for messages.
pub fn allowed_text(from: LifecycleState) -> String {
    use LifecycleState::*;
    let moves: Vec<&str> = [Promoted, Deprecated, Revoked]
        .into_iter()
        .filter(|to| allowed(from, *to))
        .map(verb)
        .collect();
    if moves.is_empty() {
        format!("nothing is allowed from {from} (it is final)")
    } else {
        format!("allowed from {from}: {}", moves.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LifecycleState::*;

    #[test]
    fn the_state_machine_is_exactly_the_documented_table() {
        let all = [Registered, Promoted, Deprecated, Revoked];
        let mut allowed_moves = Vec::new();
        for from in all {
            for to in all {
                if allowed(from, to) {
                    allowed_moves.push((from, to));
                }
            }
        }
        assert_eq!(
            allowed_moves,
            vec![
                (Registered, Promoted),
                (Registered, Revoked),
                (Promoted, Deprecated),
                (Promoted, Revoked),
                (Deprecated, Promoted),
                (Deprecated, Revoked),
            ]
        );
        assert_eq!(
            allowed_text(Revoked),
            "nothing is allowed from REVOKED (it is final)"
        );
        assert_eq!(
            allowed_text(Registered),
            "allowed from REGISTERED: promote, revoke"
        );
    }
}
