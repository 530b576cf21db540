//! DSSE envelopes: how every signed object is stored and what exactly is signed (FORMAT.md §4).
//!
//! The signed bytes are DSSE's pre-authentication encoding, `PAE(payloadType, payload)`, so the
//! kind of the object is part of what is signed: a signature on one kind never verifies as another.
//!
//! Bytes only: how large each kind may be and how a refusal is worded are the format's
//! (`format::limits`), which is where reg's writers sign.

use crate::crypto::keys::{Fingerprint, KeyError, PublicKey, SecretKey};
use crate::util::encoding::{self, EncodingError, b64_decode, b64_encode};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// The payload types of FORMAT.md §4.4: one per kind of signed object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Ledger entry 0.
    Genesis,
    /// A key gains a role.
    KeyTrust,
    /// A key is revoked.
    KeyRevoke,
    /// The age recipients change.
    Recipients,
    /// The policy changes.
    Policy,
    /// A model is ingested.
    Add,
    /// A lifecycle transition.
    Transition,
    /// A slot is set or cleared.
    Slot,
    /// A drift observation.
    Drift,
    /// A drift report made at a replica, recorded at home (embeds the report).
    DriftImport,
    /// A drift report, signed by a reporter at a replica (not a ledger entry).
    DriftReport,
    /// A revoked model's artifacts are deleted.
    Purge,
    /// A timestamp key renews the registry's freshness (FORMAT.md §5.13).
    Renew,
    /// A role is withdrawn from a key that stays trusted (FORMAT.md §5.3).
    KeyWithdraw,
    /// A model suspended by a compromised key is approved again (FORMAT.md §5.14).
    Reapprove,
    /// Denied artifact hashes are allowed again (FORMAT.md §5.15).
    DenyLift,
    /// A publisher-signed bundle manifest (the model record).
    Manifest,
    /// The signed checkpoint.
    Checkpoint,
}

impl Kind {
    /// Every kind, in the order of the spec's table.
    pub const ALL: [Kind; 18] = [
        Kind::Genesis,
        Kind::KeyTrust,
        Kind::KeyRevoke,
        Kind::Recipients,
        Kind::Policy,
        Kind::Add,
        Kind::Transition,
        Kind::Slot,
        Kind::Drift,
        Kind::DriftImport,
        Kind::DriftReport,
        Kind::Purge,
        Kind::Renew,
        Kind::KeyWithdraw,
        Kind::Reapprove,
        Kind::DenyLift,
        Kind::Manifest,
        Kind::Checkpoint,
    ];

    /// The short name used in payload types and in output.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Genesis => "genesis",
            Kind::KeyTrust => "key-trust",
            Kind::KeyRevoke => "key-revoke",
            Kind::Recipients => "recipients",
            Kind::Policy => "policy",
            Kind::Add => "add",
            Kind::Transition => "transition",
            Kind::Slot => "slot",
            Kind::Drift => "drift",
            Kind::DriftImport => "drift-import",
            Kind::DriftReport => "drift-report",
            Kind::Purge => "purge",
            Kind::Renew => "renew",
            Kind::KeyWithdraw => "key-withdraw",
            Kind::Reapprove => "reapprove",
            Kind::DenyLift => "deny-lift",
            Kind::Manifest => "manifest",
            Kind::Checkpoint => "checkpoint",
        }
    }

    /// The DSSE `payloadType`.
    pub fn payload_type(self) -> String {
        format!("application/vnd.reg.{}.v1+json", self.name())
    }

    /// The kind of a `payloadType`, if reg knows it.
    pub fn from_payload_type(t: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.payload_type() == t)
    }
}

/// Errors of envelopes.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The bytes are not a canonical envelope or the payload is not of the expected shape.
    #[error("malformed {what}: {source}")]
    Encoding {
        /// The envelope or the payload.
        what: &'static str,
        /// Why.
        #[source]
        source: EncodingError,
    },
    /// The envelope holds another kind than expected.
    #[error("expected a {expected} object, found payload type `{found}`")]
    WrongKind {
        /// The expected kind's name.
        expected: &'static str,
        /// The payload type found.
        found: String,
    },
    /// The signature list is not as the format requires.
    #[error("{0}")]
    Signatures(String),
    /// A signature failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The object would be larger than every reader accepts: refused before it is signed. Made
    /// by the format's writers, which know the limits and how to name the object and the fix.
    #[error(
        "the {object} would be {}, over the {} limit every reader enforces: {hint}",
        human_size(*size),
        human_size(*limit)
    )]
    TooLarge {
        /// What the object is called (`signed manifest`, `drift entry`).
        object: String,
        /// The size the stored object would have, in bytes.
        size: u64,
        /// The readers' limit, in bytes.
        limit: u64,
        /// What to change.
        hint: &'static str,
    },
}

/// `n` bytes as people read sizes: bytes below 1 KiB, else KiB or MiB with one decimal.
fn human_size(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if n < 1024 {
        format!("{n} bytes")
    } else if f < KIB * KIB {
        format!("{:.1} KiB", f / KIB).replace(".0 ", " ")
    } else {
        format!("{:.1} MiB", f / (KIB * KIB)).replace(".0 ", " ")
    }
}

/// Bytes of the canonical envelope ([`Envelope::to_canonical`]) holding a `payload_len`-byte
/// payload of `kind` with one ed25519 signature: computed, so that an object too large for its
/// readers is refused before anything is signed.
pub fn envelope_len(kind: Kind, payload_len: usize) -> u64 {
    const FIXED: &str = r#"{"payload":"","payloadType":"","signatures":[{"keyid":"","sig":""}]}"#;
    // 32 hex digits of fingerprint; 64 signature bytes are 88 base64 characters.
    let b64 = payload_len.div_ceil(3) * 4;
    (FIXED.len() + b64 + kind.payload_type().len() + 32 + 88) as u64
}

/// A signature in an envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SignatureEntry {
    /// The signer's fingerprint.
    pub keyid: Fingerprint,
    /// The base64 signature.
    pub sig: String,
}

/// A DSSE envelope as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Base64 of the canonical payload bytes.
    pub payload: String,
    /// The kind's payload type.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// One or more signatures, sorted by keyid.
    pub signatures: Vec<SignatureEntry>,
}

impl Envelope {
    /// The canonical encoding (FORMAT.md §2) of this envelope, written directly: its members are
    /// all strings, in this fixed order.
    pub fn to_canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload.len() + 160);
        out.extend_from_slice(b"{\"payload\":");
        encoding::write_string(&self.payload, &mut out);
        out.extend_from_slice(b",\"payloadType\":");
        encoding::write_string(&self.payload_type, &mut out);
        out.extend_from_slice(b",\"signatures\":[");
        for (i, s) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"keyid\":");
            encoding::write_string(s.keyid.as_str(), &mut out);
            out.extend_from_slice(b",\"sig\":");
            encoding::write_string(&s.sig, &mut out);
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        out
    }
}

/// DSSE's pre-authentication encoding: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// Signs `payload` as a `kind` object with one key; returns the canonical envelope bytes. Any
/// size, as [`sign_bytes`]: a writer signs through `format::limits` instead.
pub fn sign<T: Serialize>(
    kind: Kind,
    payload: &T,
    key: &SecretKey,
) -> Result<Vec<u8>, EnvelopeError> {
    let body = encoding::to_canonical_vec(payload).map_err(|source| EnvelopeError::Encoding {
        what: "payload",
        source,
    })?;
    sign_bytes(kind, &body, key)
}

/// Signs canonical payload bytes as a `kind` object; returns the canonical envelope bytes.
///
/// Any size is signed: the readers' limits are the format's, and reg's writers sign through
/// `format::limits`, which refuses an object over them first. Public for tools and tests that
/// forge objects; the layer test keeps every other caller in `src/` out.
pub fn sign_bytes(kind: Kind, body: &[u8], key: &SecretKey) -> Result<Vec<u8>, EnvelopeError> {
    let ptype = kind.payload_type();
    let sig = key.sign(&pae(&ptype, body));
    let env = Envelope {
        payload: b64_encode(body),
        payload_type: ptype,
        signatures: vec![SignatureEntry {
            keyid: key.public().fingerprint().clone(),
            sig: b64_encode(&sig),
        }],
    };
    Ok(env.to_canonical())
}

/// An envelope parsed from canonical bytes whose signatures are not checked yet.
#[derive(Debug, Clone)]
pub struct Unverified {
    /// The kind named by the payload type.
    pub kind: Kind,
    /// The decoded payload bytes (canonical JSON).
    pub payload: Vec<u8>,
    /// The signatures, decoded.
    pub signatures: Vec<(Fingerprint, Vec<u8>)>,
}

impl Unverified {
    /// Parses stored envelope bytes, refusing non-canonical envelopes and unknown payload types.
    pub fn parse(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        // Parse into the struct (unknown and duplicate fields refused), then check the bytes
        // are exactly its canonical encoding: one meaning, one encoding.
        let malformed = |source| EnvelopeError::Encoding {
            what: "envelope",
            source,
        };
        let env: Envelope =
            serde_json::from_slice(bytes).map_err(|e| malformed(EncodingError::from(e)))?;
        if env.to_canonical() != bytes {
            return Err(malformed(EncodingError::NotCanonical));
        }
        let kind =
            Kind::from_payload_type(&env.payload_type).ok_or_else(|| EnvelopeError::WrongKind {
                expected: "reg",
                found: env.payload_type.clone(),
            })?;
        let payload = b64_decode(&env.payload).map_err(|source| EnvelopeError::Encoding {
            what: "envelope",
            source,
        })?;
        if env.signatures.is_empty() {
            return Err(EnvelopeError::Signatures(
                "the envelope has no signature".into(),
            ));
        }
        let mut signatures = Vec::with_capacity(env.signatures.len());
        for s in env.signatures {
            if signatures
                .last()
                .is_some_and(|(prev, _): &(Fingerprint, Vec<u8>)| *prev >= s.keyid)
            {
                return Err(EnvelopeError::Signatures(
                    "signatures are not sorted by keyid, or a keyid repeats".into(),
                ));
            }
            let sig = b64_decode(&s.sig).map_err(|source| EnvelopeError::Encoding {
                what: "envelope",
                source,
            })?;
            signatures.push((s.keyid, sig));
        }
        Ok(Unverified {
            kind,
            payload,
            signatures,
        })
    }

    /// Checks the kind and parses the payload (canonical JSON, no unknown fields), refusing a
    /// payload that is not exactly the canonical encoding of the typed document it decodes to.
    pub fn payload_as<T: DeserializeOwned + Serialize>(
        &self,
        expected: Kind,
    ) -> Result<T, EnvelopeError> {
        if self.kind != expected {
            return Err(EnvelopeError::WrongKind {
                expected: expected.name(),
                found: self.kind.payload_type(),
            });
        }
        let malformed = |source| EnvelopeError::Encoding {
            what: "payload",
            source,
        };
        let value = encoding::parse_canonical_value(&self.payload).map_err(malformed)?;
        let typed: T = serde_json::from_value(value).map_err(|e| malformed(e.into()))?;
        encoding::check_typed(&typed, &self.payload).map_err(malformed)?;
        Ok(typed)
    }

    /// The one signer of an object the format allows exactly one signature on (every kind
    /// today: entries, manifests, reports, the checkpoint), refusing none or several. The one
    /// place that rule is written: callers read the signer here before they look up its key.
    pub fn single_signer(&self) -> Result<&Fingerprint, EnvelopeError> {
        match self.signatures.as_slice() {
            [(keyid, _)] => Ok(keyid),
            _ => Err(EnvelopeError::Signatures(format!(
                "{} signatures where exactly one is allowed",
                self.signatures.len()
            ))),
        }
    }

    /// Requires exactly one signature ([`Unverified::single_signer`]), by `key`, and checks it
    /// strictly.
    pub fn verify_single(&self, key: &PublicKey) -> Result<(), EnvelopeError> {
        let keyid = self.single_signer()?;
        if keyid != key.fingerprint() {
            return Err(EnvelopeError::Signatures(format!(
                "signed by {keyid}, expected {}",
                key.fingerprint()
            )));
        }
        key.verify(
            &pae(&self.kind.payload_type(), &self.payload),
            &self.signatures[0].1,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direct_envelope_encoding_is_the_canonical_one() {
        let env = Envelope {
            payload: "eyJhIjoxfQ==".into(),
            payload_type: "application/vnd.reg.add.v1+json".into(),
            signatures: vec![
                SignatureEntry {
                    keyid: "00112233445566778899aabbccddeeff".parse().unwrap(),
                    sig: "c2ln".into(),
                },
                SignatureEntry {
                    keyid: "ffeeddccbbaa99887766554433221100".parse().unwrap(),
                    sig: "c2lnMg==".into(),
                },
            ],
        };
        assert_eq!(
            env.to_canonical(),
            encoding::to_canonical_vec(&env).unwrap()
        );
    }

    #[test]
    fn the_computed_envelope_length_is_the_real_one() {
        let k = SecretKey::from_seed(&[5u8; 32]).unwrap();
        for n in [0usize, 1, 2, 3, 4, 100, 1000, 4097] {
            let body = vec![b'a'; n];
            for kind in Kind::ALL {
                let bytes = sign_bytes(kind, &body, &k).unwrap();
                assert_eq!(envelope_len(kind, n), bytes.len() as u64, "{kind:?} {n}");
            }
        }
    }

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // The example from the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn a_signature_does_not_verify_as_another_kind() {
        let k = SecretKey::from_seed(&[3u8; 32]).unwrap();
        let bytes = sign(Kind::KeyTrust, &serde_json::json!({"a": 1}), &k).unwrap();
        let u = Unverified::parse(&bytes).unwrap();
        u.verify_single(k.public()).unwrap();
        // Relabel the same payload and signature as another kind.
        let mut env: Envelope = serde_json::from_slice(&bytes).unwrap();
        env.payload_type = Kind::KeyRevoke.payload_type();
        let relabelled = encoding::to_canonical_vec(&env).unwrap();
        let u2 = Unverified::parse(&relabelled).unwrap();
        assert!(matches!(
            u2.verify_single(k.public()),
            Err(EnvelopeError::Key(KeyError::BadSignature(_)))
        ));
        assert!(matches!(
            u.payload_as::<serde_json::Value>(Kind::KeyRevoke),
            Err(EnvelopeError::WrongKind { .. })
        ));
    }

    /// Whatever kind it is, an envelope has exactly one signature: a second one, even beside a
    /// signature that verifies, is refused by the one method that names the signer, and so by
    /// every check built on it.
    #[test]
    fn a_second_signature_is_refused_even_beside_one_that_verifies() {
        let k = SecretKey::from_seed(&[3u8; 32]).unwrap();
        let other = SecretKey::from_seed(&[4u8; 32]).unwrap();
        let payload = serde_json::json!({"a": 1});
        let mut env: Envelope =
            serde_json::from_slice(&sign(Kind::Checkpoint, &payload, &k).unwrap()).unwrap();
        let theirs: Envelope =
            serde_json::from_slice(&sign(Kind::Checkpoint, &payload, &other).unwrap()).unwrap();
        env.signatures.extend(theirs.signatures);
        env.signatures.sort_by(|a, b| a.keyid.cmp(&b.keyid));
        let u = Unverified::parse(&env.to_canonical()).unwrap();
        assert_eq!(u.signatures.len(), 2);
        let e = u.single_signer().unwrap_err();
        assert!(
            e.to_string()
                .contains("2 signatures where exactly one is allowed"),
            "{e}"
        );
        for key in [&k, &other] {
            let e = u.verify_single(key.public()).unwrap_err();
            assert!(
                e.to_string()
                    .contains("2 signatures where exactly one is allowed"),
                "{e}"
            );
        }
    }
}
