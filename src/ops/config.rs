//! The registry's root-signed settings: the age recipients publishers encrypt bundles to
//! (FORMAT.md §5.4) and the policy (§5.5). Each write replaces the setting whole, is checked
//! against the state under the writer lock, and returns the setting before and after.

use crate::crypto::keys::SecretKey;
use crate::format::entry::{Body, Policy, PolicyDoc, Recipients};
use crate::format::id::ObjectId;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{StateError, normalize_recipients};

/// Why a setting was not changed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A recipient given is not an age X25519 recipient.
    #[error(transparent)]
    Recipients(StateError),
    /// The registry refused: the signer's authority, the rules of §5.4 and §5.5, the lock, I/O.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Age recipients as the ledger holds them: each checked, sorted, unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientList(Vec<String>);

impl RecipientList {
    /// Checks recipients given by a user, in any order and with repeats; none is the empty list.
    pub fn parse(list: Vec<String>) -> Result<RecipientList, ConfigError> {
        normalize_recipients(list)
            .map(RecipientList)
            .map_err(ConfigError::Recipients)
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What replacing the recipients did.
#[derive(Debug, Clone)]
pub struct RecipientsSet {
    /// The `recipients` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The recipients before.
    pub previous: Vec<String>,
    /// The recipients now.
    pub recipients: Vec<String>,
}

/// Replaces the registry's recipients with `list`, signed by the root `key`, with `reason`.
pub fn set_recipients(
    reg: &Registry,
    key: &SecretKey,
    list: RecipientList,
    reason: &str,
) -> Result<RecipientsSet, ConfigError> {
    let tx = reg.begin()?;
    let previous = tx.state().recipients().to_vec();
    let recipients = list.0;
    let done = tx.commit(
        key,
        Body::Recipients(Recipients {
            reason: reason.to_string(),
            recipients: recipients.clone(),
        }),
    )?;
    Ok(RecipientsSet {
        entry: done.id,
        seq: done.seq,
        previous,
        recipients,
    })
}

/// What replacing the policy did.
#[derive(Debug, Clone)]
pub struct PolicySet {
    /// The `policy` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The policy before.
    pub previous: PolicyDoc,
    /// The policy now.
    pub policy: PolicyDoc,
}

/// Replaces the registry's policy with `policy`, signed by the root `key`, with `reason`. The
/// refused formats may be given in any order and with repeats: the ledger holds them sorted
/// and unique.
pub fn set_policy(
    reg: &Registry,
    key: &SecretKey,
    mut policy: PolicyDoc,
    reason: &str,
) -> Result<PolicySet, ConfigError> {
    policy.refuse_formats.sort();
    policy.refuse_formats.dedup();
    let tx = reg.begin()?;
    let previous = tx.state().policy().clone();
    let done = tx.commit(
        key,
        Body::Policy(Policy {
            policy: policy.clone(),
            reason: reason.to_string(),
        }),
    )?;
    Ok(PolicySet {
        entry: done.id,
        seq: done.seq,
        previous,
        policy,
    })
}
