//! The body of each entry kind (FORMAT.md §5): the fields each kind carries beyond the header.

use super::Role;
use crate::crypto::envelope::{Envelope, Kind};
use crate::crypto::keys::Fingerprint;
use crate::format::formats::Format;
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::util::encoding::EncodingError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A public key as written in entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    /// Its fingerprint (checked against the bytes).
    pub fingerprint: Fingerprint,
    /// Base64 of the 32 public key bytes.
    pub public_key: String,
}

/// A key with its roles, as genesis lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyGrant {
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// Base64 of the 32 public key bytes.
    pub public_key: String,
    /// Its roles, sorted.
    pub roles: Vec<Role>,
}

/// Genesis (FORMAT.md §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The format version the registry was created with.
    pub format_version: u32,
    /// The initial root key.
    pub keys: Vec<KeyGrant>,
    /// 32 random bytes (64 lowercase hex digits) that make this registry's id unique even for
    /// the same root key, recipients and second. Writers always set it; absent only in genesis
    /// entries written before it existed, which stay valid (FORMAT.md §5.2).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nonce: Option<String>,
    /// The age recipients publishers encrypt bundles to.
    pub recipients: Vec<String>,
    /// The registry this one succeeds, after every root key of that one was lost (FORMAT.md
    /// §5.2): format 4 and later, absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub succeeds: Option<Succession>,
}

/// What a successor registry's genesis names (FORMAT.md §5.2): the registry it succeeds and the
/// head it last knew of it, so that an auditor can tie the two histories together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Succession {
    /// The id of the head entry of the registry succeeded, as last verified.
    pub head: ObjectId,
    /// The registry succeeded.
    pub registry: ObjectId,
    /// The seq of that head entry.
    pub seq: u64,
}

/// A key gains a role (FORMAT.md §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyTrust {
    /// The key.
    pub key: KeyRef,
    /// What people call the key ("alice, duty operator"), signed with the trust (format 4 and
    /// later; FORMAT.md §5.3): 1 to [`MAX_KEY_NAME_LEN`] bytes, no control or
    /// bidirectional-formatting character, no space at either end ([`check_key_name`]).
    /// Absent: the key has no name, and the entry's bytes are those of formats before names.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// Why.
    pub reason: String,
    /// The role granted.
    pub role: Role,
}

/// Longest key name, in bytes (FORMAT.md §5.3): a name is read beside a fingerprint on one line.
pub const MAX_KEY_NAME_LEN: usize = 64;

/// Whether two key names are the same name (FORMAT.md §5.3): equal once both are lowercased
/// (Unicode lowercase), so that `Alice` and `alice` cannot name two keys a person would read as
/// one. The uniqueness rule of the state compares names with this, and nothing else does.
pub fn same_key_name(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// The rule of a key name (FORMAT.md §5.3), which every reader checks and so every writer
/// first: 1 to [`MAX_KEY_NAME_LEN`] bytes, no control or bidirectional-formatting character (a
/// name is what an operator reads to tell keys apart: such characters hide or reorder it), and
/// no space at either end (so that `alice` and `alice ` are not two names). Says what is wrong.
pub fn check_key_name(name: &str) -> Result<(), String> {
    let echo = crate::util::encoding::echo;
    if name.is_empty() {
        return Err("a key name is 1 to 64 bytes; this one is empty".into());
    }
    if name.len() > MAX_KEY_NAME_LEN {
        return Err(format!(
            "a key name is 1 to {MAX_KEY_NAME_LEN} bytes; `{}` is {}",
            echo(name),
            name.len()
        ));
    }
    if let Some(c) = crate::util::encoding::forbidden_char(name) {
        return Err(format!(
            "key name `{}`: the character {c} (a control or bidirectional-formatting character) is not allowed",
            echo(name)
        ));
    }
    if name.trim() != name {
        return Err(format!(
            "key name `{}` starts or ends with a space",
            echo(name)
        ));
    }
    // Where a key is named (`reg log --actor KEY`), a fingerprint or a prefix of one names it
    // too: a name of hex digits alone could pass for another key's.
    if name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "key name `{}` is hex digits only, which could pass for a key fingerprint or a prefix of one",
            echo(name)
        ));
    }
    Ok(())
}

/// A key is revoked (FORMAT.md §5.3): retired, or compromised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRevoke {
    /// The key was compromised (format 4 and later): its earlier signatures no longer stand on
    /// their own, so every model it published, admitted or approved is suspended (FORMAT.md
    /// §5.14). Absent (false): the key is retired and its earlier signatures stay valid.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub compromised: bool,
    /// The key revoked.
    pub fingerprint: Fingerprint,
    /// Why.
    pub reason: String,
}

/// One role is withdrawn from a key that stays trusted with its others (FORMAT.md §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyWithdraw {
    /// The key.
    pub fingerprint: Fingerprint,
    /// Why.
    pub reason: String,
    /// The role withdrawn.
    pub role: Role,
}

/// The age recipients are replaced (FORMAT.md §5.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipients {
    /// Why.
    pub reason: String,
    /// The new list, sorted and unique.
    pub recipients: Vec<String>,
}

/// The registry's policy (FORMAT.md §5.5); absent members are defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDoc {
    /// Formats `reg add` refuses, sorted and unique.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub refuse_formats: Vec<Format>,
    /// Days after which the registry expires (FORMAT.md §6.1): readers refuse a registry whose
    /// last renewal is older, by their own clock, until a timestamp key renews it (`reg renew`),
    /// so that a stale medium stops working by itself. 1 to 36,500; absent, nothing expires.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub checkpoint_max_age_days: Option<u32>,
    /// `reg add` admits only age-encrypted bundles, decrypted by an identity whose recipient the
    /// registry lists now (FORMAT.md §5.5), so that a plaintext bundle, or one sealed to a
    /// recipient since removed, is refused. The operator's statement: the entry records
    /// `encrypted` (§5.6), replay cannot see the bundle.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub require_encrypted: bool,
    /// Duties kept apart (FORMAT.md §5.5): no key holds both publisher and operator, and the
    /// key that published a model neither admits nor approves it. Format 4 and later.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub separate_duties: bool,
}

/// The largest `checkpoint_max_age_days` (a century).
pub const MAX_CHECKPOINT_AGE_DAYS: u32 = 36_500;

/// The policy is replaced (FORMAT.md §5.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The new policy.
    pub policy: PolicyDoc,
    /// Why.
    pub reason: String,
}

/// A model is ingested (FORMAT.md §5.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Add {
    /// The record's artifact ids (their BLAKE3), sorted, unique: what the load gate allows.
    pub artifacts: Vec<ObjectId>,
    /// BLAKE3 of the bundle file as received.
    pub bundle: ObjectId,
    /// The bundle was age-encrypted as received (format 4 and later): the operator's statement,
    /// since replay never sees the bundle (FORMAT.md §5.6).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub encrypted: bool,
    /// The record's model name.
    pub name: String,
    /// The key that signed the record (format 4 and later, where it is required; replay checks
    /// it against the record): what suspension and separate duties are decided by.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub publisher: Option<Fingerprint>,
    /// The record id (the publisher-signed manifest object).
    pub record: ObjectId,
    /// The record's version.
    pub version: String,
}

/// What happens to one slot when its active model is revoked (FORMAT.md §5.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotEffect {
    /// The promoted model that takes the slot over; absent: the slot is cleared.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub replacement: Option<ObjectId>,
    /// The slot.
    pub slot: String,
}

/// A lifecycle transition (FORMAT.md §5.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// A revocation that also denies the model's artifact hashes (FORMAT.md §5.15): no model
    /// may hold them again until root lifts the denial.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub deny: bool,
    /// The model's state before.
    pub from: LifecycleState,
    /// The record id.
    pub model: ObjectId,
    /// The model's latest lifecycle entry before this one.
    pub previous: ObjectId,
    /// Why.
    pub reason: String,
    /// Slots the model is active in, and what happens to each (revocation only).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub slots: Vec<SlotEffect>,
    /// The model's state after.
    pub to: LifecycleState,
}

/// A slot is set or cleared (FORMAT.md §5.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotChange {
    /// The model made active; absent: the slot is cleared.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub model: Option<ObjectId>,
    /// The entry that last set the slot, if it was set.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub previous: Option<ObjectId>,
    /// Why.
    pub reason: String,
    /// The slot's name.
    pub slot: String,
}

/// A revoked model's artifact bytes are destroyed (FORMAT.md §5.10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purge {
    /// The artifact objects deleted: the model's, less those another unpurged model holds.
    pub blobs: Vec<ObjectId>,
    /// The purge also denies the model's artifact hashes (FORMAT.md §5.15).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub deny: bool,
    /// The record id.
    pub model: ObjectId,
    /// Why.
    pub reason: String,
}

/// A drift observation (FORMAT.md §5.9): the entry is the signed observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drift {
    /// The record id observed.
    pub model: ObjectId,
    /// The observation (`schema/drift-observation.schema.json`).
    pub observation: Map<String, Value>,
    /// The model's previous drift entry.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub previous: Option<ObjectId>,
    /// Read from an entry whose numbers are spelled as format-1 writers spelled them
    /// ([`crate::util::encoding::NumberForm::Legacy`]), not as RFC 8785 does: valid only in a
    /// format-1 registry (replay checks it against genesis). Never written.
    #[serde(skip)]
    pub legacy_numbers: bool,
}

/// A drift report made at a replica, recorded at home (FORMAT.md §5.12): the entry embeds the
/// reporter's envelope verbatim, so the reporter's own signature is checked on every replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftImport {
    /// The record id observed (the report's `model`).
    pub model: ObjectId,
    /// The model's previous drift entry (`drift` or `drift-import`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub previous: Option<ObjectId>,
    /// The reporter's drift report envelope, as signed.
    pub report: Envelope,
}

impl DriftImport {
    /// The embedded report, parsed (its signature is the state's to check, against the key
    /// trusted as reporter at the entry's position).
    pub fn open(
        &self,
    ) -> Result<crate::format::drift_report::Report, crate::format::drift_report::ReportError> {
        crate::format::drift_report::Report::from_envelope(&self.report)
    }
}

/// The registry's freshness is renewed (FORMAT.md §5.13): signed by a key holding the
/// `timestamp` role, it carries nothing but the common fields; its `time` is the new renewal
/// time (FORMAT.md §6.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Renew {}

/// A model suspended because a key it rests on was compromised is approved again by an
/// operator (FORMAT.md §5.14): from here it rests on this operator's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reapprove {
    /// The record id.
    pub model: ObjectId,
    /// The model's latest lifecycle entry before this one.
    pub previous: ObjectId,
    /// Why: what the operator checked.
    pub reason: String,
}

/// Denied artifact hashes are allowed again (FORMAT.md §5.15): root-signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenyLift {
    /// The hashes, sorted and unique, each denied now.
    pub artifacts: Vec<ObjectId>,
    /// Why.
    pub reason: String,
}

/// The body of an entry: what kind it is and its own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// See [`Genesis`].
    Genesis(Genesis),
    /// See [`KeyTrust`].
    KeyTrust(KeyTrust),
    /// See [`KeyRevoke`].
    KeyRevoke(KeyRevoke),
    /// See [`Recipients`].
    Recipients(Recipients),
    /// See [`Policy`].
    Policy(Policy),
    /// See [`Add`].
    Add(Add),
    /// See [`Transition`].
    Transition(Transition),
    /// See [`SlotChange`].
    Slot(SlotChange),
    /// See [`Purge`].
    Purge(Purge),
    /// See [`Drift`].
    Drift(Drift),
    /// See [`DriftImport`].
    DriftImport(DriftImport),
    /// See [`Renew`].
    Renew(Renew),
    /// See [`KeyWithdraw`].
    KeyWithdraw(KeyWithdraw),
    /// See [`Reapprove`].
    Reapprove(Reapprove),
    /// See [`DenyLift`].
    DenyLift(DenyLift),
}

impl Body {
    /// The kind (payload type) of this body.
    pub fn kind(&self) -> Kind {
        match self {
            Body::Genesis(_) => Kind::Genesis,
            Body::KeyTrust(_) => Kind::KeyTrust,
            Body::KeyRevoke(_) => Kind::KeyRevoke,
            Body::Recipients(_) => Kind::Recipients,
            Body::Policy(_) => Kind::Policy,
            Body::Add(_) => Kind::Add,
            Body::Transition(_) => Kind::Transition,
            Body::Slot(_) => Kind::Slot,
            Body::Purge(_) => Kind::Purge,
            Body::Drift(_) => Kind::Drift,
            Body::DriftImport(_) => Kind::DriftImport,
            Body::Renew(_) => Kind::Renew,
            Body::KeyWithdraw(_) => Kind::KeyWithdraw,
            Body::Reapprove(_) => Kind::Reapprove,
            Body::DenyLift(_) => Kind::DenyLift,
        }
    }

    /// The role whose key must sign an entry of this kind.
    pub fn required_role(&self) -> Role {
        match self {
            Body::Genesis(_)
            | Body::KeyTrust(_)
            | Body::KeyRevoke(_)
            | Body::KeyWithdraw(_)
            | Body::Recipients(_)
            | Body::Policy(_)
            | Body::DenyLift(_) => Role::Root,
            Body::Add(_)
            | Body::Transition(_)
            | Body::Slot(_)
            | Body::Purge(_)
            | Body::DriftImport(_)
            | Body::Reapprove(_) => Role::Operator,
            Body::Drift(_) => Role::Reporter,
            Body::Renew(_) => Role::Timestamp,
        }
    }

    /// The entry's reason, for the kinds that carry one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Body::Genesis(_) => None,
            Body::KeyTrust(b) => Some(&b.reason),
            Body::KeyRevoke(b) => Some(&b.reason),
            Body::Recipients(b) => Some(&b.reason),
            Body::Policy(b) => Some(&b.reason),
            Body::Add(_) => None,
            Body::Transition(b) => Some(&b.reason),
            Body::Slot(b) => Some(&b.reason),
            Body::Purge(b) => Some(&b.reason),
            Body::KeyWithdraw(b) => Some(&b.reason),
            Body::Reapprove(b) => Some(&b.reason),
            Body::DenyLift(b) => Some(&b.reason),
            Body::Drift(_) | Body::DriftImport(_) | Body::Renew(_) => None,
        }
    }

    pub(super) fn to_map(&self) -> Result<Map<String, Value>, EncodingError> {
        let value = match self {
            Body::Genesis(b) => serde_json::to_value(b)?,
            Body::KeyTrust(b) => serde_json::to_value(b)?,
            Body::KeyRevoke(b) => serde_json::to_value(b)?,
            Body::Recipients(b) => serde_json::to_value(b)?,
            Body::Policy(b) => serde_json::to_value(b)?,
            Body::Add(b) => serde_json::to_value(b)?,
            Body::Transition(b) => serde_json::to_value(b)?,
            Body::Slot(b) => serde_json::to_value(b)?,
            Body::Purge(b) => serde_json::to_value(b)?,
            Body::Drift(b) => serde_json::to_value(b)?,
            Body::DriftImport(b) => serde_json::to_value(b)?,
            Body::Renew(b) => serde_json::to_value(b)?,
            Body::KeyWithdraw(b) => serde_json::to_value(b)?,
            Body::Reapprove(b) => serde_json::to_value(b)?,
            Body::DenyLift(b) => serde_json::to_value(b)?,
        };
        match value {
            Value::Object(map) => Ok(map),
            _ => unreachable!("entry bodies are structs"),
        }
    }
}
