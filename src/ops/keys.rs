//! Which keys the registry trusts, and for what (FORMAT.md §5.3): a root key grants a key a
//! role, withdraws one role from it, or revokes a key for good, as retired or as compromised
//! (which suspends what rests on it, §5.14). Each write is checked against the state under the
//! writer lock and returns what changed.

use crate::crypto::keys::{Fingerprint, PublicKey, SecretKey};
use crate::format::entry::{Body, KeyRef, KeyRevoke, KeyTrust, KeyWithdraw, Role};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
pub use crate::format::revocation::RevocationKind;
use crate::repo::registry::{Registry, RegistryError};
use crate::util::encoding::b64_encode;
use std::collections::BTreeSet;

/// Why a key was not trusted or revoked.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The registry refused: the rules of §5.3 (a role held already, a revoked key, the last
    /// root key, an unknown key), the signer's authority, the lock, I/O.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// What trusting a key did.
#[derive(Debug, Clone)]
pub struct Trusted {
    /// The `key-trust` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The key trusted.
    pub fingerprint: Fingerprint,
    /// The role granted.
    pub role: Role,
    /// Every role the key holds now, sorted.
    pub roles: BTreeSet<Role>,
    /// The registry did not know the key before this entry.
    pub new_key: bool,
    /// The entry only named the key: it held the role already, had no name, and holds the same
    /// roles after (FORMAT.md §5.3).
    pub name_only: bool,
}

/// Why one key holding several roles matters: what it can then do alone that the roles exist
/// to split between keys (FORMAT.md §5.5, `separate_duties`). A warning, not a rule: the policy's
/// `separate_duties` is the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gathered {
    /// Publisher and operator: the key can publish a model and admit, promote and activate it
    /// itself, with no second key ever looking at it.
    PublishAndAdmit,
    /// Root and another role: the key that trusts keys and sets the policy also signs everyday
    /// entries, so it is kept at hand and exposed every day, and whoever holds it can grant
    /// itself any role.
    RootAndDuty,
    /// Other roles together: losing the key, or its theft, costs all of its duties at once.
    Several,
}

impl Trusted {
    /// Why the roles the key holds now matter together; empty while it holds one.
    pub fn gathered(&self) -> Vec<Gathered> {
        use Role::{Operator, Publisher, Root};
        if self.roles.len() < 2 {
            return Vec::new();
        }
        let mut why = Vec::new();
        if self.roles.contains(&Publisher) && self.roles.contains(&Operator) {
            why.push(Gathered::PublishAndAdmit);
        }
        if self.roles.contains(&Root) {
            why.push(Gathered::RootAndDuty);
        }
        if why.is_empty() {
            why.push(Gathered::Several);
        }
        why
    }
}

/// What revoking a key did.
#[derive(Debug, Clone)]
pub struct Revoked {
    /// The `key-revoke` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The key revoked.
    pub fingerprint: Fingerprint,
    /// The roles it held until this entry, sorted: it holds none from now on.
    pub roles: BTreeSet<Role>,
    /// Which way it was revoked.
    pub kind: RevocationKind,
    /// The models this entry suspended (a compromised key, FORMAT.md §5.14), by record id; a
    /// model suspended already by an earlier compromise keeps that one and is not listed.
    pub suspended: Vec<SuspendedModel>,
}

/// A model a compromised key's revocation suspended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspendedModel {
    /// Its record id.
    pub model: ObjectId,
    /// Its `name@version`.
    pub spec: String,
    /// Its lifecycle state (unchanged by the suspension).
    pub state: LifecycleState,
    /// The slots it is the active model of, sorted: the gate now denies what they name.
    pub slots: Vec<String>,
}

/// Grants `public` the `role`, signed by the root `key`, with `reason`.
pub fn trust(
    reg: &Registry,
    key: &SecretKey,
    public: &PublicKey,
    role: Role,
    reason: &str,
) -> Result<Trusted, KeysError> {
    trust_named(reg, key, public, role, None, reason)
}

/// [`trust`], naming the key (FORMAT.md §5.3, format 4): the name is signed with the trust, and
/// set once (a later trust of the key may repeat it, not change it). A key that holds `role`
/// already and has no name is named by it and keeps its roles ([`Trusted::name_only`]): how a
/// key trusted before names, the genesis root key included, gets one.
pub fn trust_named(
    reg: &Registry,
    key: &SecretKey,
    public: &PublicKey,
    role: Role,
    name: Option<&str>,
    reason: &str,
) -> Result<Trusted, KeysError> {
    let fingerprint = public.fingerprint().clone();
    let tx = reg.begin()?;
    let new_key = !tx.state().keys().contains_key(&fingerprint);
    let name_only = name.is_some() && tx.state().names_only(&fingerprint, role);
    let done = tx.commit(
        key,
        Body::KeyTrust(KeyTrust {
            key: KeyRef {
                fingerprint: fingerprint.clone(),
                public_key: b64_encode(&public.to_bytes()),
            },
            name: name.map(str::to_string),
            reason: reason.to_string(),
            role,
        }),
    )?;
    let roles = done.state.roles_of(&fingerprint);
    Ok(Trusted {
        entry: done.id,
        seq: done.seq,
        fingerprint,
        role,
        roles,
        new_key,
        name_only,
    })
}

/// Revokes the key `fingerprint` for good, signed by the root `key`, with `reason`: `kind`
/// says whether it is retired or compromised (FORMAT.md §5.3). A compromised key suspends, in
/// the same entry, every model resting on it; only a format-4 registry can say so (an older one
/// refuses with [`crate::state::StateError::NeedsFormat`]).
pub fn revoke(
    reg: &Registry,
    key: &SecretKey,
    fingerprint: &Fingerprint,
    kind: RevocationKind,
    reason: &str,
) -> Result<Revoked, KeysError> {
    let tx = reg.begin()?;
    let roles = tx.state().roles_of(fingerprint);
    let done = tx.commit(
        key,
        Body::KeyRevoke(KeyRevoke {
            compromised: kind == RevocationKind::Compromised,
            fingerprint: fingerprint.clone(),
            reason: reason.to_string(),
        }),
    )?;
    let after = &done.state;
    let suspended = after
        .models()
        .iter()
        .filter(|(_, m)| m.suspended.as_ref().is_some_and(|s| s.seq == done.seq))
        .map(|(id, m)| SuspendedModel {
            model: *id,
            spec: after.spec(id),
            state: m.state,
            slots: after.slots_of(id),
        })
        .collect();
    Ok(Revoked {
        entry: done.id,
        seq: done.seq,
        fingerprint: fingerprint.clone(),
        roles,
        kind,
        suspended,
    })
}

/// What withdrawing a role did.
#[derive(Debug, Clone)]
pub struct Withdrawn {
    /// The `key-withdraw` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The key.
    pub fingerprint: Fingerprint,
    /// The role withdrawn.
    pub role: Role,
    /// The roles the key keeps, sorted (never empty: a key's only role is not withdrawn).
    pub roles: BTreeSet<Role>,
}

/// Withdraws `role` from the key `fingerprint`, which stays trusted with its other roles,
/// signed by the root `key`, with `reason`: how a key that gathered roles gives one up (under
/// the policy's `separate_duties`, FORMAT.md §5.5) without the finality of a revocation. The
/// state refuses a role the key does not hold, its only role (revoke it instead) and root
/// from the last root key.
pub fn withdraw(
    reg: &Registry,
    key: &SecretKey,
    fingerprint: &Fingerprint,
    role: Role,
    reason: &str,
) -> Result<Withdrawn, KeysError> {
    let done = reg.commit(
        key,
        Body::KeyWithdraw(KeyWithdraw {
            fingerprint: fingerprint.clone(),
            reason: reason.to_string(),
            role,
        }),
    )?;
    let roles = done.state.roles_of(fingerprint);
    Ok(Withdrawn {
        entry: done.id,
        seq: done.seq,
        fingerprint: fingerprint.clone(),
        role,
        roles,
    })
}
