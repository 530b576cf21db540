//! The derived state (FORMAT.md §5.11): what replaying the ledger gives, and the rules each
//! entry must satisfy against the state before it.
//!
//! The same rules run when a writer prepares an entry (so a refused action writes nothing) and
//! when a reader replays the ledger (so a forged entry is found), which keeps the two from
//! disagreeing about what is allowed. Each concern has its file, and in it a `check_*` that reads
//! the state and an `apply_*` that changes it once the check passed:
//!
//! - `keys`: genesis, who may sign what ([`State::signer`], [`State::may_publish`]), key-trust,
//!   key-revoke;
//! - `models`: add (and the record rule, [`State::check_record`]), purge;
//! - `lifecycle`: transitions and slots;
//! - `config`: recipients and policy;
//! - `drift`: drift observations.
//!
//! Here: the types, and the dispatch over an entry's kind ([`State::check`], [`State::apply`]).

use crate::crypto::keys::Fingerprint;
use crate::format::entry::{Body, Entry, PolicyDoc, Role};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The format version this build writes (and the newest it reads; it reads every older one).
/// 2: numbers are spelled as RFC 8785 says, in every object (FORMAT.md §2); a format-1 registry
/// keeps its version, and its drift observations may also hold format 1's spelling.
/// 3: freshness rests on renewals signed by a timestamp key, genesis being the first
/// (FORMAT.md §6.1); a format-1 or 2 registry takes that rule from its first `renew` entry.
/// 4: the state knows who each model rests on (its `add` names the publisher), so a key revoked
/// as compromised suspends them (§5.14), duties can be kept apart (§5.5), and entry times only
/// move forward (§5.1). Deny lists and role withdrawal hold in every format.
/// 5: the state is committed as a root and buckets of models and names (FORMAT.md §5.11), so
/// that a write re-hashes and rewrites what it changes, not every model; the rules are format
/// 4's. A registry of an older format keeps its one-document state.
pub const FORMAT_VERSION: u32 = 5;

/// The first format whose state records a model's publisher and approvers (FORMAT.md §5.11).
pub const PROVENANCE_FORMAT: u32 = 4;

mod buckets;
mod config;
mod deny;
mod drift;
mod duties;
mod duty;
mod error;
mod freshness;
mod keys;
pub mod lifecycle;
mod models;
pub mod resolve;
mod standing;
mod suspension;
#[cfg(test)]
mod tests;
mod time;

use buckets::Names;
pub use buckets::{
    BUCKET_LIMIT, BUCKETS_FORMAT, BucketFile, IndexFiles, MAX_DIGITS, Map, Models, Needs,
    digits_for,
};
pub use config::{check_policy, check_recipients, describe_refused, normalize_recipients};
pub use duty::Duty;
pub use error::{StalePrevious, StateError};
pub use freshness::{MAX_CLOCK_SKEW_SECS, SignedTime, Staleness};
pub use keys::{Action, GENESIS_NONCE_LEN, decode_key, genesis_body, random_nonce, required_role};
pub use standing::Block;
pub use time::{Backwards, TIME_FORMAT, TimeOrder, goes_back};

/// A key as the state records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyState {
    /// Base64 of the 32 public key bytes.
    pub public_key: String,
    /// Roles held, sorted.
    pub roles: BTreeSet<Role>,
    /// Seq of the entry that revoked it, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub revoked: Option<u64>,
    /// It was revoked as compromised, not retired (FORMAT.md §5.3, format 4).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub compromised: bool,
    /// Seq of the entry that first trusted it.
    pub since: u64,
    /// What people call it, as a key-trust signed it (format 4, FORMAT.md §5.3); omitted while
    /// it has none, so that states of keys without names read as before.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

/// A model as the state records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelState {
    /// Its `add` entry.
    pub added: ObjectId,
    /// The operator keys it rests on (format 4): the one that admitted it and each that promoted
    /// it, or, once re-approved, the re-approving one alone (FORMAT.md §5.14).
    #[serde(skip_serializing_if = "BTreeSet::is_empty", default)]
    pub approvers: BTreeSet<Fingerprint>,
    /// Its artifacts' ids (BLAKE3), sorted.
    pub artifacts: Vec<ObjectId>,
    /// Its latest `add` or `transition` entry.
    pub entry: ObjectId,
    /// Model name.
    pub name: String,
    /// Lifecycle state.
    pub state: LifecycleState,
    /// Its drift observations: how many, and the latest entry (FORMAT.md §5.9).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub drift: Option<DriftState>,
    /// Its bundle was age-encrypted as received (format 4; the operator's statement).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub encrypted: bool,
    /// The key that signed its record (format 4).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub publisher: Option<Fingerprint>,
    /// Whether its artifact bytes were purged (FORMAT.md §5.10).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub purged: bool,
    /// The key-revoke that suspended it, a key it rests on being compromised (FORMAT.md §5.14):
    /// until an operator re-approves it, it is not promoted, made active or allowed by the gate.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub suspended: Option<Suspension>,
    /// Model version.
    pub version: String,
}

/// Why a model is suspended (FORMAT.md §5.14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suspension {
    /// The compromised key.
    pub key: Fingerprint,
    /// Seq of its revocation.
    pub seq: u64,
}

/// A denied artifact hash (FORMAT.md §5.15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Denial {
    /// The model whose revocation or purge denied it.
    pub model: ObjectId,
    /// Seq of that entry.
    pub seq: u64,
}

/// A model's drift observations in the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftState {
    /// How many observations (`drift` and `drift-import` entries).
    pub count: u64,
    /// The latest drift entry.
    pub last: ObjectId,
    /// The ids of the drift reports recorded for the model (FORMAT.md §5.12): what refuses a
    /// report recorded twice. Omitted while empty, so states without imports read as before.
    #[serde(skip_serializing_if = "BTreeSet::is_empty", default)]
    pub reports: BTreeSet<ObjectId>,
}

/// A slot as the state records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotState {
    /// The entry that set it.
    pub entry: ObjectId,
    /// The active model's record id.
    pub model: ObjectId,
}

/// The derived state of a registry at one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Artifact hashes no model may hold (FORMAT.md §5.15), omitted while empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    denied: BTreeMap<ObjectId, Denial>,
    /// Format version (of genesis).
    format_version: u32,
    /// Id of the last entry applied.
    head: ObjectId,
    /// Every key ever trusted.
    keys: BTreeMap<Fingerprint, KeyState>,
    /// Every registered model (in part, in a format 5 state read from its root).
    models: Models,
    /// The policy.
    policy: PolicyDoc,
    /// The age recipients.
    recipients: Vec<String>,
    /// The time of the latest renewal (FORMAT.md §6.1): genesis's from format 3 on, then each
    /// `renew` entry's. Absent in a format 1 or 2 registry until its first `renew`, so that
    /// their states, which checkpoints commit to, read as before.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    renewed: Option<String>,
    /// The registry id.
    registry: ObjectId,
    /// The genesis root fingerprint (what hosts pin).
    root: Fingerprint,
    /// Seq of the last entry applied.
    seq: u64,
    /// Every slot that is set.
    slots: BTreeMap<String, SlotState>,
    /// The registry this one succeeds (FORMAT.md §5.2), from its genesis.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    succeeds: Option<crate::format::entry::Succession>,
    /// The time of the last entry applied (format 4, FORMAT.md §5.1): the next is no earlier.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    time: Option<String>,
    /// `name` -> `version` -> record id: derived from `models` in formats 1 to 4 (not part of
    /// their format; used once indexed, so a state read from JSON stays correct without it),
    /// committed in buckets in format 5.
    #[serde(skip)]
    names: Names,
}

/// Read access to the state. Its fields are private to the `state` layer: only the rules change
/// them, so a state reached from outside is always one the rules built (or the verified index).
impl State {
    /// Format version (of genesis).
    pub fn format_version(&self) -> u32 {
        self.format_version
    }

    /// Id of the last entry applied.
    pub fn head(&self) -> ObjectId {
        self.head
    }

    /// Every key ever trusted.
    pub fn keys(&self) -> &BTreeMap<Fingerprint, KeyState> {
        &self.keys
    }

    /// The roles key `fp` holds in this state (none for a key it does not know): what a key
    /// command reports after its commit.
    pub fn roles_of(&self, fp: &Fingerprint) -> BTreeSet<Role> {
        self.keys
            .get(fp)
            .map(|k| k.roles.clone())
            .unwrap_or_default()
    }

    /// Every registered model.
    pub fn models(&self) -> &Models {
        &self.models
    }

    /// The policy.
    pub fn policy(&self) -> &PolicyDoc {
        &self.policy
    }

    /// The age recipients.
    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }

    /// The registry id.
    pub fn registry(&self) -> ObjectId {
        self.registry
    }

    /// The genesis root fingerprint (what hosts pin).
    pub fn root(&self) -> &Fingerprint {
        &self.root
    }

    /// Seq of the last entry applied.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Every slot that is set.
    pub fn slots(&self) -> &BTreeMap<String, SlotState> {
        &self.slots
    }

    /// Artifact hashes no model may hold (FORMAT.md §5.15).
    pub fn denied(&self) -> &BTreeMap<ObjectId, Denial> {
        &self.denied
    }

    /// The registry this one succeeds, if its genesis names one (FORMAT.md §5.2).
    pub fn succeeds(&self) -> Option<&crate::format::entry::Succession> {
        self.succeeds.as_ref()
    }

    /// The time of the last entry applied, in a format-4 registry (FORMAT.md §5.1).
    pub fn time(&self) -> Option<&str> {
        self.time.as_deref()
    }

    /// Whether this registry's state records who each model rests on (format 4).
    pub fn has_provenance(&self) -> bool {
        self.format_version >= PROVENANCE_FORMAT
    }

    /// The name of key `fp`, if a key-trust gave it one (FORMAT.md §5.3).
    pub fn key_name(&self, fp: &Fingerprint) -> Option<&str> {
        self.keys.get(fp)?.name.as_deref()
    }
}

impl State {
    /// Checks `entry` as the next entry without changing the state: its signer may sign its
    /// kind now ([`State::check_signer`]) and its kind's rule holds ([`State::check_rule`]).
    /// Its position and signature are the caller's.
    pub fn check(&self, entry: &Entry) -> Result<(), StateError> {
        self.check_signer(&entry.header.actor, &entry.body)?;
        self.check_written_fresh(entry, None)?;
        self.check_time(&entry.header.time)?;
        self.check_rule(&entry.body)?;
        self.check_duties(&entry.header.actor, &entry.body)
    }

    /// The rule of `body`'s kind against this state (not who signed it), without changing it.
    pub fn check_rule(&self, body: &Body) -> Result<(), StateError> {
        if let Some(reason) = body.reason()
            && reason.trim().is_empty()
        {
            return Err(StateError::EmptyReason);
        }
        match body {
            Body::Genesis(_) => Err(StateError::LateGenesis),
            Body::KeyTrust(t) => self.check_key_trust(t),
            Body::KeyRevoke(r) => self.check_key_revoke(r),
            Body::Recipients(r) => self.check_recipients(r),
            Body::Policy(p) => self.check_policy(p),
            Body::Add(a) => self.check_add(a),
            Body::Transition(t) => self.check_transition(t),
            Body::Slot(c) => self.check_slot(c),
            Body::Purge(p) => self.check_purge(p),
            Body::Drift(d) => self.check_drift(d),
            Body::DriftImport(d) => self.check_drift_import(d).map(|_| ()),
            Body::Renew(_) => Ok(()),
            Body::KeyWithdraw(w) => self.check_key_withdraw(w),
            Body::Reapprove(r) => self.check_reapprove(r),
            Body::DenyLift(l) => self.check_deny_lift(l),
        }
    }

    /// Applies an entry that follows the head, checking the rules of its kind
    /// ([`State::check_rule`]) first.
    ///
    /// The caller has checked position, signer and signature; on error the state is unchanged.
    pub fn apply(&mut self, id: ObjectId, entry: &Entry) -> Result<(), StateError> {
        self.check_written_fresh(entry, None)?;
        self.check_time(&entry.header.time)?;
        self.check_rule(&entry.body)?;
        self.check_duties(&entry.header.actor, &entry.body)?;
        let seq = entry.header.seq;
        let actor = &entry.header.actor;
        match &entry.body {
            // Refused by check_rule: only entry 0 is a genesis, and it makes the state.
            Body::Genesis(_) => return Err(StateError::LateGenesis),
            Body::KeyTrust(t) => self.apply_key_trust(seq, t),
            Body::KeyRevoke(r) => self.apply_key_revoke(seq, r),
            Body::KeyWithdraw(w) => self.apply_key_withdraw(w),
            Body::Recipients(r) => self.apply_recipients(r),
            Body::Policy(p) => self.apply_policy(p),
            Body::Add(a) => self.apply_add(id, actor, a),
            Body::Transition(t) => self.apply_transition(id, seq, actor, t),
            Body::Slot(c) => self.apply_slot(id, c),
            Body::Purge(p) => self.apply_purge(seq, p),
            Body::Reapprove(r) => self.apply_reapprove(id, actor, r),
            Body::DenyLift(l) => self.apply_deny_lift(l),
            Body::Drift(d) => self.apply_drift(id, d),
            Body::DriftImport(d) => self.apply_drift_import(id, d),
            Body::Renew(_) => self.apply_renew(entry),
        }
        self.apply_time(&entry.header.time);
        self.seq = seq;
        self.head = id;
        Ok(())
    }

    /// BLAKE3 of the canonical state: what the checkpoint commits to.
    pub fn hash(&self) -> ObjectId {
        ObjectId::of(&self.to_canonical())
    }

    pub(crate) fn model(&self, id: &ObjectId) -> Result<&ModelState, StateError> {
        self.models.get(id).ok_or(StateError::UnknownModel(*id))
    }

    /// `name@version` of a registered model (for messages).
    pub fn spec(&self, id: &ObjectId) -> String {
        self.models
            .get(id)
            .map_or_else(|| id.to_string(), |m| format!("{}@{}", m.name, m.version))
    }

    /// The slots whose active model is `id`, sorted.
    pub fn slots_of(&self, id: &ObjectId) -> Vec<String> {
        self.slots
            .iter()
            .filter(|(_, s)| s.model == *id)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The model registered as `name@version`, if any.
    pub fn find(&self, name: &str, version: &str) -> Option<(&ObjectId, &ModelState)> {
        if let Some(id) = self.find_by_name(name, version) {
            return self.models.get_key_value(&id?);
        }
        self.models
            .iter()
            .find(|(_, m)| m.name == name && m.version == version)
    }
}
