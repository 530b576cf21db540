//! The body of each entry kind (FORMAT.md §5): the fields each kind carries beyond the header,
//! and [`Body`], one of them. The key entries' bodies are the sibling `keys.rs`.

use super::{Genesis, KeyRevoke, KeyTrust, KeyWithdraw, Role};
use crate::crypto::envelope::{Envelope, Kind};
use crate::crypto::keys::Fingerprint;
use crate::format::formats::Format;
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::util::encoding::EncodingError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
