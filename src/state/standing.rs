//! What keeps a model out of service beyond its lifecycle state (FORMAT.md §5.5, §5.14, §5.15):
//! a suspension, denied bytes, a policy that refuses one of its formats. The one answer the
//! gate, `reg checkout` and the listings give, so that none of them says "approved" of a model
//! another denies.

use super::{ModelState, State};
use crate::format::manifest::Manifest;

/// Why a model is out of service although its lifecycle state may approve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// A key it rests on was revoked as compromised and no operator re-approved it (§5.14).
    Suspended,
    /// Some of its artifact hashes are denied (§5.15).
    Denied,
    /// The policy refuses one of its formats (§5.5).
    Policy,
}

impl State {
    /// Whether model `m` is out of service, and why in words: suspended first, then
    /// denied bytes, then the policy, which needs its record's `manifest` (pass it whenever
    /// the policy refuses some format; `None` skips that rule, for callers that only show).
    pub fn blocked(&self, m: &ModelState, manifest: Option<&Manifest>) -> Option<(Block, String)> {
        if let Some(s) = &m.suspended {
            return Some((
                Block::Suspended,
                format!(
                    "suspended: key {} it rests on was revoked as compromised at entry {}",
                    s.key, s.seq
                ),
            ));
        }
        let denied: Vec<_> = self.denied_among(&m.artifacts).collect();
        if let Some((first, d)) = denied.first() {
            return Some((
                Block::Denied,
                format!(
                    "{} of its artifact hashes denied, first {first} (entry {})",
                    denied.len(),
                    d.seq
                ),
            ));
        }
        let refused = manifest.map(|man| self.out_of_policy(man))?;
        (!refused.is_empty()).then(|| {
            (
                Block::Policy,
                format!(
                    "out of policy: the registry policy refuses {}",
                    super::describe_refused(&refused)
                ),
            )
        })
    }
}
