//! Ledger entry payloads (FORMAT.md §5): common header fields plus one body per kind.
//!
//! A payload is one flat JSON object. It is split here into the [`Header`] every entry has and
//! the kind's [`Body`], each parsed with unknown fields refused, so that an entry carries exactly
//! the fields the format defines.

use crate::crypto::envelope::{EnvelopeError, Kind, Unverified};
use crate::crypto::keys::Fingerprint;
use crate::format::formats::Format;
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::util::encoding::{
    EncodingError, NumberForm, check_typed_in, parse_value_in, to_canonical_vec,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// The roles a key can hold (FORMAT.md §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Changes the trusted keys, the recipients and the policy.
    Root,
    /// Signs bundle manifests.
    Publisher,
    /// Signs ingestion, transitions, slot changes and purges.
    Operator,
    /// Signs drift observations.
    Reporter,
}

impl Role {
    /// The role's name as written in the format and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::Publisher => "publisher",
            Role::Operator => "operator",
            Role::Reporter => "reporter",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Fields every entry has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The signer.
    pub actor: Fingerprint,
    /// The previous entry (absent in genesis).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prev: Option<ObjectId>,
    /// The registry id (absent in genesis).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub registry: Option<ObjectId>,
    /// Position in the ledger.
    pub seq: u64,
    /// When it was made.
    pub time: String,
}

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
}

/// A key gains a role (FORMAT.md §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyTrust {
    /// The key.
    pub key: KeyRef,
    /// Why.
    pub reason: String,
    /// The role granted.
    pub role: Role,
}

/// A key is revoked (FORMAT.md §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRevoke {
    /// The key revoked.
    pub fingerprint: Fingerprint,
    /// Why.
    pub reason: String,
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
    /// Days after which a checkpoint expires: readers refuse a registry whose checkpoint is
    /// older, by their own clock, until it is re-signed (`reg renew`, or any write), so that a
    /// stale medium stops working by itself. 1 to 36,500; absent, checkpoints never expire.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub checkpoint_max_age_days: Option<u32>,
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
    /// The record's model name.
    pub name: String,
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
        }
    }

    /// The role whose key must sign an entry of this kind.
    pub fn required_role(&self) -> Role {
        match self {
            Body::Genesis(_)
            | Body::KeyTrust(_)
            | Body::KeyRevoke(_)
            | Body::Recipients(_)
            | Body::Policy(_) => Role::Root,
            Body::Add(_) | Body::Transition(_) | Body::Slot(_) | Body::Purge(_) => Role::Operator,
            Body::Drift(_) => Role::Reporter,
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
            Body::Drift(_) => None,
        }
    }

    fn to_map(&self) -> Result<Map<String, Value>, EncodingError> {
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
        };
        match value {
            Value::Object(map) => Ok(map),
            _ => unreachable!("entry bodies are structs"),
        }
    }
}

/// A ledger entry payload: header and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Common fields.
    pub header: Header,
    /// The kind's fields.
    pub body: Body,
}

/// Errors decoding an entry.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// The envelope or payload is malformed.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The payload is not canonical JSON of the right shape.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
    /// The payload type is not a ledger entry kind this version can replay.
    #[error("payload type `{0}` is not a ledger entry kind this version of reg knows")]
    NotAnEntry(String),
    /// A header field and a body field share a name (impossible for reg's kinds).
    #[error("field `{0}` appears in both header and body")]
    Clash(String),
    /// A field breaks a rule of the format (a time outside its grammar, a window that ends
    /// before it starts) or, when writing, a rule reg keeps for what it signs (controls in a
    /// reason).
    #[error("{0}")]
    Invalid(String),
}

const HEADER_FIELDS: [&str; 5] = ["actor", "prev", "registry", "seq", "time"];

impl Entry {
    /// The canonical payload bytes of this entry, once the rules every reader checks
    /// ([`Entry::check_fields`]) and those reg keeps for what it writes hold.
    pub fn to_payload(&self) -> Result<Vec<u8>, EntryError> {
        self.check_fields()?;
        if let Some(reason) = self.body.reason() {
            check_reason(reason)?;
        }
        Ok(to_canonical_vec(&self.to_value()?)?)
    }

    /// The payload as one JSON object: the body's members and the header's.
    fn to_value(&self) -> Result<Value, EntryError> {
        let mut map = self.body.to_map()?;
        let header = match serde_json::to_value(&self.header).map_err(EncodingError::from)? {
            Value::Object(m) => m,
            _ => unreachable!("the header is a struct"),
        };
        for (k, v) in header {
            if map.insert(k.clone(), v).is_some() {
                return Err(EntryError::Clash(k));
            }
        }
        Ok(Value::Object(map))
    }

    /// Decodes the entry in a parsed envelope (whose signature is checked by the caller).
    pub fn from_envelope(env: &Unverified) -> Result<Entry, EntryError> {
        if matches!(env.kind, Kind::Manifest | Kind::Checkpoint) {
            return Err(EntryError::NotAnEntry(env.kind.payload_type()));
        }
        // One parse, one canonical check, then the object's members are moved, not copied.
        // Only a drift observation can hold floats, so only a drift entry may spell its numbers
        // as format-1 writers did (FORMAT.md §2); replay accepts that in format-1 registries only.
        let malformed = |source| EnvelopeError::Encoding {
            what: "payload",
            source,
        };
        let (value, form) = match parse_value_in(&env.payload, NumberForm::Rfc8785) {
            Ok(v) => (v, NumberForm::Rfc8785),
            Err(e) if env.kind != Kind::Drift => return Err(malformed(e).into()),
            Err(e) => match parse_value_in(&env.payload, NumberForm::Legacy) {
                Ok(v) => (v, NumberForm::Legacy),
                Err(_) => return Err(malformed(e).into()),
            },
        };
        let Value::Object(mut map) = value else {
            return Err(EncodingError::Json(serde::de::Error::custom(
                "a payload is a JSON object",
            ))
            .into());
        };
        let mut header_map = Map::new();
        for name in HEADER_FIELDS {
            if let Some(v) = map.remove(name) {
                header_map.insert(name.to_string(), v);
            }
        }
        let header: Header =
            serde_json::from_value(Value::Object(header_map)).map_err(EncodingError::from)?;
        fn body<T: DeserializeOwned>(map: Map<String, Value>) -> Result<T, EntryError> {
            Ok(serde_json::from_value(Value::Object(map)).map_err(EncodingError::from)?)
        }
        let body = match env.kind {
            Kind::Genesis => Body::Genesis(body(map)?),
            Kind::KeyTrust => Body::KeyTrust(body(map)?),
            Kind::KeyRevoke => Body::KeyRevoke(body(map)?),
            Kind::Recipients => Body::Recipients(body(map)?),
            Kind::Policy => Body::Policy(body(map)?),
            Kind::Add => Body::Add(body(map)?),
            Kind::Transition => Body::Transition(body(map)?),
            Kind::Slot => Body::Slot(body(map)?),
            Kind::Purge => Body::Purge(body(map)?),
            Kind::Drift => Body::Drift(body(map)?),
            other => return Err(EntryError::NotAnEntry(other.payload_type())),
        };
        let mut entry = Entry { header, body };
        // One meaning, one encoding for the typed entry too: re-encoding what was decoded must
        // give the signed bytes (an empty list or an absent option written out is refused).
        check_typed_in(&entry.to_value()?, &env.payload, form).map_err(malformed)?;
        if let Body::Drift(d) = &mut entry.body {
            d.legacy_numbers = form == NumberForm::Legacy;
        }
        entry.check_fields()?;
        Ok(entry)
    }

    /// Everything signing this entry would refuse, checked without signing: its fields, its
    /// reason, and the size of its envelope against the readers' limit. For a writer that must
    /// store objects before it signs the entry that refers to them (`reg add`), so that an entry
    /// refused at signing never leaves objects behind.
    pub fn check_writable(&self) -> Result<(), EntryError> {
        let payload = self.to_payload()?;
        crate::crypto::envelope::check_size(self.body.kind(), payload.len())?;
        Ok(())
    }

    /// The field rules readers and writers share that the kinds' state rules do not cover: the
    /// time is in the format's grammar (FORMAT.md §2), and a drift observation's times are too,
    /// its window not ending before it starts.
    pub fn check_fields(&self) -> Result<(), EntryError> {
        if crate::util::encoding::parse_rfc3339(&self.header.time).is_none() {
            return Err(EntryError::Invalid(format!(
                "time `{}` is not a time of the format (YYYY-MM-DDTHH:MM:SSZ, a real date, year 1970 to 9999)",
                crate::util::encoding::echo(&self.header.time)
            )));
        }
        if let Body::Drift(d) = &self.body {
            let problems = crate::format::observation::time_violations(&d.observation);
            if !problems.is_empty() {
                return Err(EntryError::Invalid(format!(
                    "the observation is invalid: {}",
                    problems.join("; ")
                )));
            }
        }
        Ok(())
    }
}

/// Refuses a reason holding a control character other than newline and tab (C0, DEL, C1):
/// a reason is free text, shown by `reg log` and `reg show`, and a carriage return, backspace or
/// escape sequence in it could only serve to rewrite what an operator reads. Readers accept
/// such reasons (their output escapes them), so older ledgers stay readable; reg never signs one.
pub fn check_reason(reason: &str) -> Result<(), EntryError> {
    match reason
        .chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t')
    {
        Some(c) => Err(EntryError::Invalid(format!(
            "the reason holds the control character U+{:04X}; only newlines and tabs are allowed in a reason",
            c as u32
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::envelope::{Kind, envelope_len};
    use crate::crypto::keys::SecretKey;

    /// `reg add` stores the artifacts before it signs its entry, so its entry must always fit:
    /// the largest one (10,000 artifacts, 64-byte name and version) is well under the limit.
    #[test]
    fn the_largest_add_entry_fits_the_readers_limit() {
        let key = SecretKey::from_seed(&[9u8; 32]).unwrap();
        let id = |i: u32| ObjectId::of(&i.to_le_bytes());
        let mut artifacts: Vec<ObjectId> = (0..crate::format::manifest::MAX_ARTIFACTS as u32)
            .map(id)
            .collect();
        artifacts.sort();
        let entry = Entry {
            header: Header {
                actor: key.public().fingerprint().clone(),
                prev: Some(id(1)),
                registry: Some(id(2)),
                seq: 1 << 53, // the largest integer every double holds exactly (FORMAT.md §2)
                time: "9999-12-31T23:59:59Z".into(),
            },
            body: Body::Add(Add {
                artifacts,
                bundle: id(3),
                name: "n".repeat(crate::format::names::MAX_NAME_LEN),
                record: id(4),
                version: format!(
                    "1.0.0-{}",
                    "a".repeat(crate::format::names::MAX_VERSION_LEN - 6)
                ),
            }),
        };
        let payload = entry.to_payload().unwrap();
        assert!(
            envelope_len(Kind::Add, payload.len()) < crate::crypto::envelope::ENTRY_LIMIT * 9 / 10
        );
        entry.check_writable().unwrap();
        // A purge of as many blobs with a reason of 400 KiB does not fit: refused unsigned.
        let Body::Add(a) = entry.body else {
            unreachable!()
        };
        let purge = Entry {
            header: entry.header,
            body: Body::Purge(Purge {
                blobs: a.artifacts,
                model: a.record,
                reason: "r".repeat(400 * 1024),
            }),
        };
        assert!(matches!(
            purge.check_writable(),
            Err(EntryError::Envelope(EnvelopeError::TooLarge { .. }))
        ));
    }

    #[test]
    fn writers_refuse_reasons_with_controls_but_keep_newlines_and_tabs() {
        assert!(check_reason("line one\nline\ttwo \u{202e}").is_ok());
        for bad in ["a\rb", "a\u{1b}[2J", "a\u{8}", "a\u{7f}", "a\u{85}", "a\0"] {
            assert!(check_reason(bad).is_err(), "{bad:?}");
        }
    }
}
