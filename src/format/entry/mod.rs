//! Ledger entry payloads (FORMAT.md §5): common header fields plus one body per kind.
//!
//! A payload is one flat JSON object. It is split here into the [`Header`] every entry has and
//! the kind's [`Body`], each parsed with unknown fields refused, so that an entry carries exactly
//! the fields the format defines.

mod body;
mod keys;

pub use body::{
    Add, Body, DenyLift, Drift, DriftImport, MAX_CHECKPOINT_AGE_DAYS, Policy, PolicyDoc, Purge,
    Reapprove, Recipients, Renew, SlotChange, SlotEffect, Transition,
};
pub use keys::{
    GENESIS_NONCE_LEN, Genesis, KeyGrant, KeyRef, KeyRevoke, KeyTrust, KeyWithdraw,
    MAX_KEY_NAME_LEN, Succession, check_key_name, same_key_name,
};

use crate::crypto::envelope::{EnvelopeError, Kind, Unverified};
use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
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
    /// Renews the registry's freshness (FORMAT.md §6.1): the only role whose signature makes an
    /// expired medium readable again, as TUF's timestamp role.
    Timestamp,
}

impl Role {
    /// The role's name as written in the format and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::Publisher => "publisher",
            Role::Operator => "operator",
            Role::Reporter => "reporter",
            Role::Timestamp => "timestamp",
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

    /// Parses stored entry bytes: the envelope ([`Unverified::parse`]), then the entry in it.
    /// The one way from bytes to an entry; its signature is the caller's to check.
    pub fn parse(bytes: &[u8]) -> Result<(Unverified, Entry), EntryError> {
        let env = Unverified::parse(bytes)?;
        let entry = Entry::from_envelope(&env)?;
        Ok((env, entry))
    }

    /// Decodes the entry in a parsed envelope (whose signature is checked by the caller).
    pub fn from_envelope(env: &Unverified) -> Result<Entry, EntryError> {
        if matches!(
            env.kind,
            Kind::Manifest | Kind::Checkpoint | Kind::DriftReport
        ) {
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
            Kind::DriftImport => Body::DriftImport(body(map)?),
            Kind::Renew => Body::Renew(body(map)?),
            Kind::KeyWithdraw => Body::KeyWithdraw(body(map)?),
            Kind::Reapprove => Body::Reapprove(body(map)?),
            Kind::DenyLift => Body::DenyLift(body(map)?),
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
        crate::format::limits::check_size(self.body.kind(), payload.len())?;
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
        if let Body::KeyTrust(t) = &self.body
            && let Some(name) = &t.name
        {
            check_key_name(name).map_err(EntryError::Invalid)?;
        }
        if let Body::Drift(d) = &self.body {
            use crate::format::observation::{ObservationError, time_violations};
            let problems = time_violations(&d.observation);
            if !problems.is_empty() {
                return Err(EntryError::Invalid(
                    ObservationError::Invalid(problems).to_string(),
                ));
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
                encrypted: true,
                publisher: Some(key.public().fingerprint().clone()),
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
            envelope_len(Kind::Add, payload.len()) < crate::format::limits::ENTRY_LIMIT * 9 / 10
        );
        entry.check_writable().unwrap();
        // A purge of as many blobs with a reason of 400 KiB does not fit: refused unsigned.
        let Body::Add(a) = entry.body else {
            unreachable!()
        };
        let purge = Entry {
            header: entry.header,
            body: Body::Purge(Purge {
                deny: false,
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
