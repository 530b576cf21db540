//! Duties kept apart (FORMAT.md §5.5, format 4): under the policy's `separate_duties`, no key
//! holds both publisher and operator, and the key that published a model neither admits nor
//! approves it.
//!
//! One key holding every role can publish, admit, promote and activate its own model: a single
//! stolen or misused key then puts any bytes in service. The rule is checked at every entry, by
//! writers and replay alike, against the entry's signer.

use super::duty::Duty;
use super::{LifecycleState, State, StateError};
use crate::crypto::keys::Fingerprint;
use crate::format::entry::{Body, Role};

impl State {
    /// The unrevoked keys holding both publisher and operator, sorted.
    pub fn duty_conflicts(&self) -> Vec<&Fingerprint> {
        self.keys
            .iter()
            .filter(|(_, k)| {
                k.revoked.is_none()
                    && k.roles.contains(&Role::Publisher)
                    && k.roles.contains(&Role::Operator)
            })
            .map(|(fp, _)| fp)
            .collect()
    }

    /// The separation-of-duties rule of an entry signed by `actor`: a policy turning it on
    /// needs format 4 and no key already holding both roles; under it, no key gains the second
    /// of them, and a model's publisher neither admits, promotes nor re-approves it.
    pub fn check_duties(&self, actor: &Fingerprint, body: &Body) -> Result<(), StateError> {
        if let Body::Policy(p) = body
            && p.policy.separate_duties
        {
            if !self.has_provenance() {
                return Err(StateError::NeedsFormat {
                    what: "separate_duties",
                    needs: super::PROVENANCE_FORMAT,
                    version: self.format_version,
                });
            }
            if let Some(fp) = self.duty_conflicts().first() {
                return Err(StateError::DutiesApart(Duty::BothHeld((*fp).clone())));
            }
        }
        if !self.policy.separate_duties {
            return Ok(());
        }
        let own = |spec: String, verb: &'static str| {
            Err(StateError::DutiesApart(Duty::OwnModel {
                fingerprint: actor.clone(),
                spec,
                verb,
            }))
        };
        match body {
            Body::KeyTrust(t) => {
                let other = match t.role {
                    Role::Publisher => Role::Operator,
                    Role::Operator => Role::Publisher,
                    _ => return Ok(()),
                };
                match self.keys.get(&t.key.fingerprint) {
                    Some(k) if k.revoked.is_none() && k.roles.contains(&other) => {
                        Err(StateError::DutiesApart(Duty::Gains {
                            fingerprint: t.key.fingerprint.clone(),
                            held: other,
                            role: t.role,
                        }))
                    }
                    _ => Ok(()),
                }
            }
            Body::Add(a) if a.publisher.as_ref() == Some(actor) => {
                own(format!("{}@{}", a.name, a.version), "admit")
            }
            Body::Transition(t)
                if t.to == LifecycleState::Promoted
                    && self.model(&t.model)?.publisher.as_ref() == Some(actor) =>
            {
                own(self.spec(&t.model), "promote")
            }
            Body::Reapprove(r) if self.model(&r.model)?.publisher.as_ref() == Some(actor) => {
                own(self.spec(&r.model), "re-approve")
            }
            _ => Ok(()),
        }
    }
}
