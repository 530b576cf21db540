//! Compromise and re-approval (FORMAT.md §5.14, format 4): a key revoked as compromised
//! suspends every model that rests on it, until an operator re-approves the model.
//!
//! A retired key's earlier signatures stay valid: it signed them while it was trusted. A
//! compromised key's do not stand on their own, since nobody knows since when someone else held
//! it: a model it published, admitted or approved may be the attacker's. Such a model is not
//! revoked (it may well be fine) but suspended: not promoted, not made active, denied by the
//! gate, until an operator who checked it signs a `reapprove` with a reason, or revokes it.

use super::{LifecycleState, State, StateError, Suspension};
use crate::crypto::keys::Fingerprint;
use crate::format::entry::Reapprove;
use crate::format::id::ObjectId;

impl State {
    /// The unrevoked models that rest on key `fp`: those it published, admitted or approved
    /// (and, after a re-approval, only that re-approval counts), sorted by record id.
    pub fn resting_on(&self, fp: &Fingerprint) -> Vec<ObjectId> {
        self.models
            .iter()
            .filter(|(_, m)| {
                m.state != LifecycleState::Revoked
                    && (m.publisher.as_ref() == Some(fp) || m.approvers.contains(fp))
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Suspends every model resting on `fp`, revoked as compromised at entry `seq`. A model
    /// suspended already keeps its first suspension.
    pub(super) fn suspend_resting_on(&mut self, seq: u64, fp: &Fingerprint) {
        for id in self.resting_on(fp) {
            if let Some(m) = self.models.get_mut(&id)
                && m.suspended.is_none()
            {
                m.suspended = Some(Suspension {
                    key: fp.clone(),
                    seq,
                });
            }
        }
    }

    /// Refuses to approve or activate model `id` while it is suspended.
    pub(super) fn check_not_suspended(&self, id: &ObjectId) -> Result<(), StateError> {
        match &self.model(id)?.suspended {
            Some(s) => Err(StateError::Suspended {
                spec: self.spec(id),
                key: s.key.clone(),
                at: s.seq,
            }),
            None => Ok(()),
        }
    }

    /// The rule of a re-approval (FORMAT.md §5.14): a suspended model that is not revoked,
    /// following its latest lifecycle entry. Who may sign it is the signer rule's and, under
    /// separate duties, [`State::check_duties`]'s.
    pub fn check_reapprove(&self, r: &Reapprove) -> Result<(), StateError> {
        let m = self.model(&r.model)?;
        if m.suspended.is_none() || m.state == LifecycleState::Revoked {
            return Err(StateError::NotSuspended {
                spec: self.spec(&r.model),
                revoked: m.state == LifecycleState::Revoked,
            });
        }
        if m.entry != r.previous {
            return Err(StateError::StalePrevious(Box::new(super::StalePrevious {
                spec: self.spec(&r.model),
                named: r.previous,
                latest: m.entry,
            })));
        }
        Ok(())
    }

    /// Applies a re-approval (entry `id`, signed by `actor`) that [`State::check_reapprove`]
    /// passed: the model is no longer suspended, and its approvals are `actor`'s alone, so that
    /// a later compromise of an operator whose approval it no longer needs does not suspend it
    /// again. Its publisher stays (a compromised publisher is revoked for good, and another
    /// publisher's later compromise still concerns the record it signed).
    pub(super) fn apply_reapprove(&mut self, id: ObjectId, actor: &Fingerprint, r: &Reapprove) {
        if let Some(m) = self.models.get_mut(&r.model) {
            m.suspended = None;
            m.approvers = std::collections::BTreeSet::from([actor.clone()]);
            m.entry = id;
        }
    }
}
