//! The registry's root-signed settings: the age recipients publishers encrypt bundles to
//! (FORMAT.md §5.4) and the policy (§5.5). Each entry replaces the setting whole, is checked
//! against the state under the writer lock, and returns the setting before and after.
//!
//! The policy is also changed field by field ([`change_policy`]): the change is applied to the
//! policy as it is under the writer lock, so that setting one field never drops another (an
//! operator who only meant to set an expiry must not lift a format refusal by omission), and a
//! change that changes nothing writes no entry.

use crate::crypto::envelope::Kind;
use crate::crypto::keys::SecretKey;
use crate::format::entry::{Body, Policy, PolicyDoc, Recipients};
use crate::format::formats::Format;
use crate::format::id::ObjectId;
use crate::repo::registry::{Registry, RegistryError, Transaction};
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
    /// A policy change that names no field to change.
    #[error("no policy change given")]
    NoChange,
    /// A policy change that both refuses and allows one format.
    #[error("format `{0}` is both refused and allowed")]
    BothWays(Format),
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

/// Replaces the registry's policy with `policy` whole, signed by the root `key`, with `reason`;
/// an entry is written even when the policy is the same (a restatement, with its reason).
/// [`change_policy`] changes only the fields it names. The refused formats may be given in any
/// order and with repeats: the ledger holds them sorted and unique.
pub fn set_policy(
    reg: &Registry,
    key: &SecretKey,
    mut policy: PolicyDoc,
    reason: &str,
) -> Result<PolicySet, ConfigError> {
    sorted_unique(&mut policy.refuse_formats);
    let tx = reg.begin()?;
    let previous = tx.state().policy().clone();
    commit_policy(tx, key, previous, policy, reason)
}

/// A change to some fields of the policy; every field left `None` (or empty) keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyChange {
    /// Formats to refuse, besides those refused already.
    pub refuse_formats: Vec<Format>,
    /// Formats refused now that are no longer to be.
    pub allow_formats: Vec<Format>,
    /// The checkpoint's maximum age: `Some(Some(days))` sets it, `Some(None)` removes it.
    pub checkpoint_max_age_days: Option<Option<u32>>,
    /// Whether only encrypted bundles are admitted.
    pub require_encrypted: Option<bool>,
    /// Whether duties are kept apart.
    pub separate_duties: Option<bool>,
}

impl PolicyChange {
    /// Whether it names no field to change.
    pub fn is_empty(&self) -> bool {
        self.refuse_formats.is_empty()
            && self.allow_formats.is_empty()
            && self.checkpoint_max_age_days.is_none()
            && self.require_encrypted.is_none()
            && self.separate_duties.is_none()
    }

    /// Refuses a change that names nothing, or that refuses and allows one format (which of
    /// the two was meant cannot be guessed). A step of its own so that a caller can check a
    /// change before it asks for a key's passphrase.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.is_empty() {
            return Err(ConfigError::NoChange);
        }
        if let Some(f) = self
            .refuse_formats
            .iter()
            .find(|f| self.allow_formats.contains(f))
        {
            return Err(ConfigError::BothWays(*f));
        }
        Ok(())
    }

    /// The policy `current` becomes under this change, its refused formats sorted and unique.
    pub fn apply(&self, current: &PolicyDoc) -> PolicyDoc {
        let mut next = current.clone();
        next.refuse_formats
            .extend(self.refuse_formats.iter().copied());
        next.refuse_formats
            .retain(|f| !self.allow_formats.contains(f));
        sorted_unique(&mut next.refuse_formats);
        if let Some(age) = self.checkpoint_max_age_days {
            next.checkpoint_max_age_days = age;
        }
        if let Some(b) = self.require_encrypted {
            next.require_encrypted = b;
        }
        if let Some(b) = self.separate_duties {
            next.separate_duties = b;
        }
        next
    }
}

/// What a policy change did.
#[derive(Debug, Clone)]
pub enum PolicyChanged {
    /// A `policy` entry was committed.
    Set(PolicySet),
    /// The policy already was as asked: nothing was written.
    Unchanged(PolicyDoc),
}

/// Applies `change` to the policy as it is under the writer lock and, if that changes it,
/// commits the new policy signed by the root `key`, with `reason`.
pub fn change_policy(
    reg: &Registry,
    key: &SecretKey,
    change: &PolicyChange,
    reason: &str,
) -> Result<PolicyChanged, ConfigError> {
    change.check()?;
    let tx = reg.begin()?;
    // The signer's authority first, even for a change that writes nothing: a key that may not
    // set the policy must not be told that its change "holds".
    tx.state()
        .check_signer(key.public().fingerprint(), Kind::Policy)
        .map_err(RegistryError::Refused)?;
    let previous = tx.state().policy().clone();
    let policy = change.apply(&previous);
    if policy == previous {
        return Ok(PolicyChanged::Unchanged(previous));
    }
    commit_policy(tx, key, previous, policy, reason).map(PolicyChanged::Set)
}

/// Commits `policy` (the state's was `previous`) as a `policy` entry signed by `key`.
fn commit_policy(
    tx: Transaction<'_>,
    key: &SecretKey,
    previous: PolicyDoc,
    policy: PolicyDoc,
    reason: &str,
) -> Result<PolicySet, ConfigError> {
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

/// The refused formats as the ledger holds them (FORMAT.md §5.5): sorted, each once.
fn sorted_unique(formats: &mut Vec<Format>) {
    formats.sort();
    formats.dedup();
}
