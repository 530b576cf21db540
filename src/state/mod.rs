//! The derived state (FORMAT.md §5.11): what replaying the ledger gives, and the rules each
//! entry must satisfy against the state before it.
//!
//! The same [`State::apply`] runs when a writer prepares an entry (so a refused action writes
//! nothing) and when a reader replays the ledger (so a forged entry is found), which keeps the
//! two from disagreeing about what is allowed.

use crate::crypto::keys::{Fingerprint, PublicKey};
use crate::format::entry::{Body, Entry, Genesis, KeyGrant, PolicyDoc, Role};
use crate::format::id::ObjectId;
use crate::format::lifecycle::allowed_text;
use crate::format::names;
use crate::util::encoding::{b64_decode, b64_encode, to_canonical_vec};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The format version this build writes (and the newest it reads; it reads every older one).
/// 2: numbers are spelled as RFC 8785 says, in every object (FORMAT.md §2); a format-1 registry
/// keeps its version, and its drift observations may also hold format 1's spelling.
pub const FORMAT_VERSION: u32 = 2;

pub use crate::format::lifecycle::LifecycleState;

pub mod lifecycle;
pub mod resolve;

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
    /// Seq of the entry that first trusted it.
    pub since: u64,
}

/// A model as the state records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelState {
    /// Its `add` entry.
    pub added: ObjectId,
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
    /// Whether its artifact bytes were purged (FORMAT.md §5.10).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub purged: bool,
    /// Model version.
    pub version: String,
}

/// A model's drift observations in the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftState {
    /// How many observations.
    pub count: u64,
    /// The latest drift entry.
    pub last: ObjectId,
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
    /// Format version (of genesis).
    pub format_version: u32,
    /// Id of the last entry applied.
    pub head: ObjectId,
    /// Every key ever trusted.
    pub keys: BTreeMap<Fingerprint, KeyState>,
    /// Every registered model.
    pub models: BTreeMap<ObjectId, ModelState>,
    /// The policy.
    pub policy: PolicyDoc,
    /// The age recipients.
    pub recipients: Vec<String>,
    /// The registry id.
    pub registry: ObjectId,
    /// The genesis root fingerprint (what hosts pin).
    pub root: Fingerprint,
    /// Seq of the last entry applied.
    pub seq: u64,
    /// Every slot that is set.
    pub slots: BTreeMap<String, SlotState>,
    /// `(name, version)` -> record id, derived from `models` (not part of the format); used
    /// only when it is complete, so a state read from JSON stays correct without it.
    #[serde(skip)]
    by_name: std::collections::HashMap<(String, String), ObjectId>,
}

/// An entry that breaks a rule of the format, checked against the state before it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The signer is not a key of this registry.
    #[error("signed by key {0}, which this registry does not trust")]
    UnknownSigner(Fingerprint),
    /// The signer was revoked before this entry.
    #[error("signed by key {fingerprint} after its revocation at entry {at}")]
    RevokedSigner {
        /// The key.
        fingerprint: Fingerprint,
        /// Seq of its revocation.
        at: u64,
    },
    /// The signer lacks the role the kind requires.
    #[error("key {fingerprint} signed a {kind} entry but does not hold the {role} role")]
    MissingRole {
        /// The key.
        fingerprint: Fingerprint,
        /// The kind's name.
        kind: &'static str,
        /// The role it needed.
        role: Role,
    },
    /// The reason is empty.
    #[error("a reason is required and must not be empty")]
    EmptyReason,
    /// The key is already trusted with this role.
    #[error("key {fingerprint} already holds the {role} role")]
    AlreadyTrusted {
        /// The key.
        fingerprint: Fingerprint,
        /// The role.
        role: Role,
    },
    /// The key is revoked, which is final.
    #[error("key {fingerprint} was revoked at entry {at}; a revoked key is never trusted again")]
    AlreadyRevoked {
        /// The key.
        fingerprint: Fingerprint,
        /// Seq of its revocation.
        at: u64,
    },
    /// The key is not known.
    #[error("no key with fingerprint {0} is trusted in this registry")]
    UnknownKey(Fingerprint),
    /// Revoking this key would leave no root key.
    #[error("refusing to revoke {0}: it is the last unrevoked root key")]
    LastRoot(Fingerprint),
    /// The same record is registered already.
    #[error("already registered as {spec} (record {record})")]
    AlreadyRegistered {
        /// `name@version`.
        spec: String,
        /// The record id.
        record: ObjectId,
    },
    /// Another record holds this `name@version`.
    #[error("{spec} is already registered with other content (record {record})")]
    NameTaken {
        /// `name@version`.
        spec: String,
        /// The record that holds it.
        record: ObjectId,
    },
    /// An `add` whose record does not admit it (FORMAT.md §5.6): missing, corrupt, not a
    /// manifest, not signed by a key holding the publisher role at that point, or not the
    /// entry's name, version and artifacts.
    #[error("its record {record} does not admit this add: {detail}")]
    RecordRefused {
        /// The record id the entry names.
        record: ObjectId,
        /// What is wrong.
        detail: String,
    },
    /// A lifecycle move the state machine does not allow.
    #[error("cannot {verb} {spec}: it is {state}; {}", allowed_text(*.state))]
    IllegalMove {
        /// The verb of the refused move.
        verb: &'static str,
        /// `name@version`.
        spec: String,
        /// Its current state.
        state: LifecycleState,
    },
    /// The transition's `from` or `previous` does not match the model (a stale or forged entry).
    #[error("{0}")]
    Stale(String),
    /// A revocation that does not say what happens to the slots the model is active in.
    #[error(
        "{spec} is the active model of slot(s) {}: say in the same action what happens to each, with --deactivate or --replace MODEL",
        .slots.join(", ")
    )]
    ActiveSlots {
        /// `name@version`.
        spec: String,
        /// The slots.
        slots: Vec<String>,
    },
    /// Only a promoted model may be made active.
    #[error("only a PROMOTED model can be made active; {spec} is {state}")]
    NotPromoted {
        /// `name@version`.
        spec: String,
        /// Its state.
        state: LifecycleState,
    },
    /// A model named by id is not registered.
    #[error("no model with record id {0} is registered")]
    UnknownModel(ObjectId),
    /// Anything else malformed in an entry.
    #[error("{0}")]
    Invalid(String),
}

impl State {
    /// The state after genesis, checking its rules (FORMAT.md §5.2).
    pub fn from_genesis(id: ObjectId, entry: &Entry) -> Result<(State, PublicKey), StateError> {
        let Body::Genesis(g) = &entry.body else {
            return Err(StateError::Invalid("entry 0 is not a genesis entry".into()));
        };
        if !(1..=FORMAT_VERSION).contains(&g.format_version) {
            return Err(StateError::Invalid(format!(
                "genesis has format version {}, this reg reads versions 1 to {FORMAT_VERSION}",
                g.format_version
            )));
        }
        let [grant] = g.keys.as_slice() else {
            return Err(StateError::Invalid(
                "genesis must list exactly one key, the root key".into(),
            ));
        };
        if grant.roles != [Role::Root] {
            return Err(StateError::Invalid(
                "the genesis key must hold exactly the root role".into(),
            ));
        }
        let key = decode_key(&grant.fingerprint, &grant.public_key)?;
        if entry.header.actor != grant.fingerprint {
            return Err(StateError::Invalid(
                "genesis must be signed by its own root key".into(),
            ));
        }
        check_recipients(&g.recipients)?;
        if let Some(nonce) = &g.nonce
            && !crate::util::encoding::is_lower_hex(nonce, GENESIS_NONCE_LEN * 2)
        {
            return Err(StateError::Invalid(format!(
                "the genesis nonce must be {} lowercase hex digits ({GENESIS_NONCE_LEN} bytes)",
                GENESIS_NONCE_LEN * 2
            )));
        }
        let mut keys = BTreeMap::new();
        keys.insert(
            grant.fingerprint.clone(),
            KeyState {
                public_key: grant.public_key.clone(),
                roles: BTreeSet::from([Role::Root]),
                revoked: None,
                since: 0,
            },
        );
        let state = State {
            format_version: g.format_version,
            head: id,
            keys,
            models: BTreeMap::new(),
            policy: PolicyDoc::default(),
            recipients: g.recipients.clone(),
            registry: id,
            root: grant.fingerprint.clone(),
            seq: 0,
            slots: BTreeMap::new(),
            by_name: Default::default(),
        };
        Ok((state, key))
    }

    /// The key that may sign an entry of `body`'s kind now: trusted, unrevoked, with the role.
    pub fn authorize(&self, actor: &Fingerprint, body: &Body) -> Result<PublicKey, StateError> {
        self.check_signer(actor, body)?;
        decode_key(actor, &self.keys[actor].public_key)
    }

    /// Checks that `actor` may sign an entry of `body`'s kind now, without decoding its key.
    pub fn check_signer(&self, actor: &Fingerprint, body: &Body) -> Result<(), StateError> {
        let ks = self
            .keys
            .get(actor)
            .ok_or_else(|| StateError::UnknownSigner(actor.clone()))?;
        if let Some(at) = ks.revoked {
            return Err(StateError::RevokedSigner {
                fingerprint: actor.clone(),
                at,
            });
        }
        let role = body.required_role();
        if !ks.roles.contains(&role) {
            return Err(StateError::MissingRole {
                fingerprint: actor.clone(),
                kind: body.kind().name(),
                role,
            });
        }
        Ok(())
    }

    /// Applies an entry that follows the head, checking the rules of its kind.
    ///
    /// The caller has checked position and signature; on error the state is unchanged.
    pub fn apply(&mut self, id: ObjectId, entry: &Entry) -> Result<(), StateError> {
        if let Some(reason) = entry.body.reason()
            && reason.trim().is_empty()
        {
            return Err(StateError::EmptyReason);
        }
        let seq = entry.header.seq;
        match &entry.body {
            Body::Genesis(_) => {
                return Err(StateError::Invalid(
                    "a genesis entry can only be entry 0".into(),
                ));
            }
            Body::KeyTrust(t) => {
                let key = decode_key(&t.key.fingerprint, &t.key.public_key)?;
                match self.keys.get_mut(&t.key.fingerprint) {
                    Some(ks) => {
                        // The same fingerprint must mean the same key bytes: a 128-bit
                        // fingerprint names a key, it does not stand in for comparing it.
                        let held = b64_decode(&ks.public_key).ok();
                        if held.as_deref() != Some(key.to_bytes().as_slice()) {
                            return Err(StateError::Invalid(format!(
                                "key-trust names key {} with other public key bytes than the key trusted under that fingerprint",
                                t.key.fingerprint
                            )));
                        }
                        if let Some(at) = ks.revoked {
                            return Err(StateError::AlreadyRevoked {
                                fingerprint: t.key.fingerprint.clone(),
                                at,
                            });
                        }
                        if !ks.roles.insert(t.role) {
                            return Err(StateError::AlreadyTrusted {
                                fingerprint: t.key.fingerprint.clone(),
                                role: t.role,
                            });
                        }
                    }
                    None => {
                        self.keys.insert(
                            t.key.fingerprint.clone(),
                            KeyState {
                                public_key: t.key.public_key.clone(),
                                roles: BTreeSet::from([t.role]),
                                revoked: None,
                                since: seq,
                            },
                        );
                    }
                }
            }
            Body::KeyRevoke(r) => {
                let ks = self
                    .keys
                    .get(&r.fingerprint)
                    .ok_or_else(|| StateError::UnknownKey(r.fingerprint.clone()))?;
                if let Some(at) = ks.revoked {
                    return Err(StateError::AlreadyRevoked {
                        fingerprint: r.fingerprint.clone(),
                        at,
                    });
                }
                if ks.roles.contains(&Role::Root) {
                    let other_roots = self
                        .keys
                        .iter()
                        .filter(|(fp, k)| {
                            **fp != r.fingerprint
                                && k.revoked.is_none()
                                && k.roles.contains(&Role::Root)
                        })
                        .count();
                    if other_roots == 0 {
                        return Err(StateError::LastRoot(r.fingerprint.clone()));
                    }
                }
                if let Some(ks) = self.keys.get_mut(&r.fingerprint) {
                    ks.revoked = Some(seq);
                }
            }
            Body::Recipients(r) => {
                check_recipients(&r.recipients)?;
                self.recipients = r.recipients.clone();
            }
            Body::Policy(p) => {
                let f = &p.policy.refuse_formats;
                if f.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(StateError::Invalid(
                        "policy refuse_formats must be sorted and unique".into(),
                    ));
                }
                if p.policy
                    .checkpoint_max_age_days
                    .is_some_and(|d| d == 0 || d > crate::format::entry::MAX_CHECKPOINT_AGE_DAYS)
                {
                    return Err(StateError::Invalid(format!(
                        "policy checkpoint_max_age_days must be 1 to {}",
                        crate::format::entry::MAX_CHECKPOINT_AGE_DAYS
                    )));
                }
                self.policy = p.policy.clone();
            }
            Body::Transition(t) => self.apply_transition(id, t)?,
            Body::Slot(c) => self.apply_slot(id, c)?,
            Body::Drift(d) => {
                if d.legacy_numbers && self.format_version >= 2 {
                    return Err(StateError::Invalid(
                        "not canonical (same meaning, other bytes): the observation spells a number as format 1 did (`10.0`, `-0.0`, `1e+16`, `1e-6`); a format-2 registry holds RFC 8785 numbers only (`10`, `0`, `10000000000000000`, `0.000001`)".into(),
                    ));
                }
                let m = self.model(&d.model)?;
                if m.state == LifecycleState::Revoked {
                    return Err(StateError::Invalid(format!(
                        "{} is REVOKED: no drift is recorded for it",
                        self.spec(&d.model)
                    )));
                }
                if d.previous != m.drift.as_ref().map(|x| x.last) {
                    return Err(StateError::Stale(format!(
                        "the drift entry of {} does not follow its previous observation",
                        self.spec(&d.model)
                    )));
                }
                let value = serde_json::Value::Object(d.observation.clone());
                let problems = crate::format::schema::violations(
                    crate::format::schema::Schema::DriftObservation,
                    &value,
                    "observation",
                );
                if !problems.is_empty() {
                    return Err(StateError::Invalid(format!(
                        "the observation is invalid: {}",
                        problems.join("; ")
                    )));
                }
                if let Some(named) = d.observation.get("model")
                    && named.as_str() != Some(d.model.to_string().as_str())
                {
                    return Err(StateError::Invalid(format!(
                        "the observation names model {named}, not {}",
                        self.spec(&d.model)
                    )));
                }
                if let Some(m) = self.models.get_mut(&d.model) {
                    let count = m.drift.as_ref().map_or(0, |x| x.count) + 1;
                    m.drift = Some(DriftState { count, last: id });
                }
            }
            Body::Purge(p) => {
                let m = self.model(&p.model)?;
                if m.state != LifecycleState::Revoked || m.purged {
                    return Err(StateError::Invalid(format!(
                        "only a REVOKED model's artifacts can be purged, once; {} is {}{}",
                        self.spec(&p.model),
                        m.state,
                        if m.purged { " and purged" } else { "" }
                    )));
                }
                if p.blobs != self.purgeable(&p.model) {
                    return Err(StateError::Invalid(
                        "a purge lists exactly the model's artifacts that no other unpurged model holds".into(),
                    ));
                }
                // The model's history (its `entry` chain) is unchanged: the purge is not a move.
                if let Some(m) = self.models.get_mut(&p.model) {
                    m.purged = true;
                }
            }
            Body::Add(a) => {
                names::check("model name", &a.name)
                    .map_err(|e| StateError::Invalid(e.to_string()))?;
                names::check_version(&a.version).map_err(|e| StateError::Invalid(e.to_string()))?;
                if a.artifacts.is_empty() || a.artifacts.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(StateError::Invalid(
                        "an add entry lists its artifacts, sorted and unique".into(),
                    ));
                }
                if let Some(m) = self.models.get(&a.record) {
                    return Err(StateError::AlreadyRegistered {
                        spec: format!("{}@{}", m.name, m.version),
                        record: a.record,
                    });
                }
                if let Some((other, _)) = self.find(&a.name, &a.version) {
                    return Err(StateError::NameTaken {
                        spec: format!("{}@{}", a.name, a.version),
                        record: *other,
                    });
                }
                if self.by_name.len() == self.models.len() {
                    self.by_name
                        .insert((a.name.clone(), a.version.clone()), a.record);
                }
                self.models.insert(
                    a.record,
                    ModelState {
                        added: id,
                        artifacts: a.artifacts.clone(),
                        entry: id,
                        name: a.name.clone(),
                        drift: None,
                        purged: false,
                        state: LifecycleState::Registered,
                        version: a.version.clone(),
                    },
                );
            }
        }
        self.seq = seq;
        self.head = id;
        Ok(())
    }

    /// The record rule of an `add` entry (FORMAT.md §5.6), checked against the state before the
    /// entry: the record's publisher is a key trusted here, unrevoked, holding the publisher
    /// role, whose key is the one the record's signature was verified with; and the entry's name,
    /// version and artifacts are the record's. Without it an operator key alone could admit
    /// bytes no publisher signed. Reading the record and checking its signature is the caller's
    /// ([`crate::format::claim::claim`]), so that replay can do that part on every core.
    pub fn check_record(
        &self,
        add: &crate::format::entry::Add,
        claim: &crate::format::claim::RecordClaim,
    ) -> Result<(), StateError> {
        let refuse = |detail: String| {
            Err(StateError::RecordRefused {
                record: add.record,
                detail,
            })
        };
        let fp = &claim.publisher;
        let Some(ks) = self.keys.get(fp) else {
            return refuse(format!(
                "it is signed by key {fp}, which this registry does not trust"
            ));
        };
        if let Some(at) = ks.revoked {
            return refuse(format!(
                "it is signed by publisher key {fp}, revoked at entry {at}"
            ));
        }
        if !ks.roles.contains(&Role::Publisher) {
            let roles: Vec<&str> = ks.roles.iter().map(|r| r.name()).collect();
            return refuse(format!(
                "it is signed by key {fp}, which is trusted as {} but not as publisher",
                roles.join(", ")
            ));
        }
        if claim.verified_with.as_ref().map(|k| b64_encode(k)) != Some(ks.public_key.clone()) {
            return refuse(format!(
                "its signature was not verified with the key of publisher {fp}"
            ));
        }
        if claim.name != add.name || claim.version != add.version {
            return refuse(format!(
                "the entry says {}@{}, the record says {}@{}",
                add.name, add.version, claim.name, claim.version
            ));
        }
        if claim.artifacts != add.artifacts {
            return refuse(format!(
                "the entry lists {} artifact(s) that are not exactly the record's {}",
                add.artifacts.len(),
                claim.artifacts.len()
            ));
        }
        Ok(())
    }

    /// The canonical bytes of this state (what `index/state.json` holds).
    pub fn to_canonical(&self) -> Vec<u8> {
        to_canonical_vec(self).expect("the state holds no floats and no nulls")
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

    /// The artifacts of `model` that no other unpurged model holds, sorted: what a purge deletes.
    ///
    /// Never a record: an artifact whose bytes are another model's record (a publisher can ship
    /// one) stays, since replay reads every record to check its `add` (FORMAT.md §5.6, §5.10).
    pub fn purgeable(&self, model: &ObjectId) -> Vec<ObjectId> {
        let Some(m) = self.models.get(model) else {
            return Vec::new();
        };
        m.artifacts
            .iter()
            .filter(|a| {
                !self.models.contains_key(a)
                    && !self.models.iter().any(|(id, o)| {
                        id != model && !o.purged && o.artifacts.binary_search(a).is_ok()
                    })
            })
            .copied()
            .collect()
    }

    /// The model registered as `name@version`, if any.
    pub fn find(&self, name: &str, version: &str) -> Option<(&ObjectId, &ModelState)> {
        if self.by_name.len() == self.models.len() {
            let id = self.by_name.get(&(name.to_string(), version.to_string()))?;
            return self.models.get_key_value(id);
        }
        self.models
            .iter()
            .find(|(_, m)| m.name == name && m.version == version)
    }

    /// Builds the name lookup (after reading a state from its JSON form).
    pub fn index_names(&mut self) {
        self.by_name = self
            .models
            .iter()
            .map(|(id, m)| ((m.name.clone(), m.version.clone()), *id))
            .collect();
    }
}

/// Bytes of the genesis nonce (FORMAT.md §5.2): 256 bits, so that two registries never share
/// an id by chance.
pub const GENESIS_NONCE_LEN: usize = 32;

/// The genesis body for a new registry; `nonce` is fresh random bytes ([`random_nonce`]) except
/// where a caller needs reproducible bytes (tests, the worked example).
pub fn genesis_body(
    root: &PublicKey,
    recipients: Vec<String>,
    nonce: &[u8; GENESIS_NONCE_LEN],
) -> Body {
    Body::Genesis(Genesis {
        format_version: FORMAT_VERSION,
        keys: vec![KeyGrant {
            fingerprint: root.fingerprint().clone(),
            public_key: b64_encode(&root.to_bytes()),
            roles: vec![Role::Root],
        }],
        nonce: Some(crate::util::encoding::hex(nonce)),
        recipients,
    })
}

/// A genesis nonce from the operating system's random number generator.
pub fn random_nonce() -> Result<[u8; GENESIS_NONCE_LEN], StateError> {
    let mut nonce = [0u8; GENESIS_NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| {
        StateError::Invalid(format!(
            "the operating system's random number generator failed: {e}"
        ))
    })?;
    Ok(nonce)
}

/// Decodes a key written in an entry, checking that its fingerprint matches and it is not weak.
pub fn decode_key(fingerprint: &Fingerprint, b64: &str) -> Result<PublicKey, StateError> {
    let bytes = b64_decode(b64)
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| StateError::Invalid(format!("key {fingerprint}: not 32 base64 bytes")))?;
    let key = PublicKey::from_bytes(&bytes).map_err(|e| StateError::Invalid(e.to_string()))?;
    if key.fingerprint() != fingerprint {
        return Err(StateError::Invalid(format!(
            "key listed as {fingerprint} has fingerprint {}",
            key.fingerprint()
        )));
    }
    Ok(key)
}

/// Checks an age recipient list: valid X25519 recipients, sorted, unique.
pub fn check_recipients(list: &[String]) -> Result<(), StateError> {
    for r in list {
        crate::crypto::keys::parse_age_recipient(r).map_err(StateError::Invalid)?;
    }
    if list.windows(2).any(|w| w[0] >= w[1]) {
        return Err(StateError::Invalid(
            "recipients must be sorted and unique".into(),
        ));
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
