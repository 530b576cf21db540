//! The registry's configuration in the ledger (FORMAT.md §5.4, §5.5): the age recipients and the
//! policy. Their rules need nothing of the state but the lists themselves.

use super::{State, StateError};
use crate::format::entry::{MAX_CHECKPOINT_AGE_DAYS, Policy, PolicyDoc, Recipients};
use crate::format::manifest::{Artifact, Manifest};

impl State {
    /// The rule of a recipients entry (FORMAT.md §5.4): see [`check_recipients`].
    pub fn check_recipients(&self, r: &Recipients) -> Result<(), StateError> {
        check_recipients(&r.recipients)
    }

    /// Applies a recipients entry that [`State::check_recipients`] passed.
    pub(super) fn apply_recipients(&mut self, r: &Recipients) {
        self.recipients = r.recipients.clone();
    }

    /// The rule of a policy entry (FORMAT.md §5.5): see [`check_policy`].
    pub fn check_policy(&self, p: &Policy) -> Result<(), StateError> {
        check_policy(&p.policy)
    }

    /// Applies a policy entry that [`State::check_policy`] passed.
    pub(super) fn apply_policy(&mut self, p: &Policy) {
        self.policy = p.policy.clone();
    }

    /// The artifacts of `manifest` whose format the policy refuses (FORMAT.md §5.5): what makes
    /// a model out of policy wherever the policy binds (add, promote, activate, the gate, fsck).
    pub fn out_of_policy<'m>(&self, manifest: &'m Manifest) -> Vec<&'m Artifact> {
        manifest
            .artifacts
            .iter()
            .filter(|a| self.policy.refuse_formats.contains(&a.format))
            .collect()
    }
}

/// Names artifacts out of policy for people, as every refusal of the policy says it:
/// `` `path` (format) ``, comma-separated.
pub fn describe_refused(artifacts: &[&Artifact]) -> String {
    artifacts
        .iter()
        .map(|a| format!("`{}` ({})", a.path, a.format))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks a policy: refused formats sorted and unique, a checkpoint age of 1 to
/// [`MAX_CHECKPOINT_AGE_DAYS`] days if any.
pub fn check_policy(policy: &PolicyDoc) -> Result<(), StateError> {
    if policy.refuse_formats.windows(2).any(|w| w[0] >= w[1]) {
        return Err(StateError::PolicyFormatsOrder);
    }
    if let Some(days) = policy.checkpoint_max_age_days
        && (days == 0 || days > MAX_CHECKPOINT_AGE_DAYS)
    {
        return Err(StateError::PolicyMaxAge(days));
    }
    Ok(())
}

/// Checks an age recipient list: valid X25519 recipients, sorted, unique.
pub fn check_recipients(list: &[String]) -> Result<(), StateError> {
    for r in list {
        crate::crypto::keys::parse_age_recipient(r).map_err(StateError::BadRecipient)?;
    }
    if list.windows(2).any(|w| w[0] >= w[1]) {
        return Err(StateError::RecipientsOrder);
    }
    Ok(())
}

/// Sorts and de-duplicates recipients given by a user, checking each.
pub fn normalize_recipients(mut list: Vec<String>) -> Result<Vec<String>, StateError> {
    list.sort();
    list.dedup();
    check_recipients(&list)?;
    Ok(list)
}
