//! Which keys the registry trusts, and for what (FORMAT.md §5.3): a root key grants a key a
//! role, or revokes a key for good, as retired or as compromised (which suspends what rests on
//! it, §5.14). Each write is checked against the state under the writer lock and returns what
//! changed.

use crate::crypto::keys::{Fingerprint, PublicKey, SecretKey};
use crate::format::entry::{Body, KeyRef, KeyRevoke, KeyTrust, Role};
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
    let fingerprint = public.fingerprint().clone();
    let tx = reg.begin()?;
    let new_key = !tx.state().keys().contains_key(&fingerprint);
    let done = tx.commit(
        key,
        Body::KeyTrust(KeyTrust {
            key: KeyRef {
                fingerprint: fingerprint.clone(),
                public_key: b64_encode(&public.to_bytes()),
            },
            reason: reason.to_string(),
            role,
        }),
    )?;
    let roles = done
        .state
        .keys()
        .get(&fingerprint)
        .map(|k| k.roles.clone())
        .unwrap_or_default();
    Ok(Trusted {
        entry: done.id,
        seq: done.seq,
        fingerprint,
        role,
        roles,
        new_key,
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
    let roles = tx
        .state()
        .keys()
        .get(fingerprint)
        .map(|k| k.roles.clone())
        .unwrap_or_default();
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
