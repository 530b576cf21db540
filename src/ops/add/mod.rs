//! `reg add`: admitting a model (FORMAT.md §7.5).
//!
//! The order is the point: the operator's authority is checked first, the publisher's signature
//! before any artifact byte is read, every artifact is staged and compared with the manifest,
//! and only then, under the writer lock and against the state as it is then, do the staged files
//! become objects and the `add` entry is committed. Any refusal before that drops the staged
//! files, leaving the registry exactly as it was.
//!
//! What the registry refuses of a new model whatever its signature says is refused as soon as
//! the manifest is read, before any artifact is staged: bytes the registry denies (FORMAT.md
//! §5.15), formats the policy refuses, and, when the policy requires encrypted bundles, a bundle
//! not sealed to a recipient the registry lists (§5.5). Each is checked again under the lock.

mod signer;

pub use signer::{check_publisher, check_signer};

use crate::bundle::{self, Bundle, BundleError, Decryption, Sealing, Source, Stage, Staging};
use crate::crypto::envelope::{Kind, Unverified};
use crate::crypto::keys::SecretKey;
use crate::format::entry::{Add, Body};
use crate::format::id::ObjectId;
use crate::format::manifest::{MANIFEST_LIMIT, SignedManifest};
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{State, StateError, decode_key};

/// Why `reg add` refused.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The bundle is refused.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The registry refuses (trust, ledger, lock, I/O).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The registry's policy refuses the bundle (FORMAT.md §5.5).
    #[error(transparent)]
    Policy(#[from] PolicyRefusal),
}

/// Why the registry's policy refuses a new model's bundle (FORMAT.md §5.5).
#[derive(Debug, thiserror::Error)]
pub enum PolicyRefusal {
    /// It holds artifacts in formats the policy refuses.
    #[error("the registry policy refuses these formats: {0}")]
    Formats(String),
    /// The policy requires encrypted bundles; this one is a plain tar or a directory.
    #[error("the registry policy requires encrypted bundles, and this one is not encrypted")]
    Plaintext,
    /// The policy requires bundles sealed to the registry's recipients; this one is sealed with
    /// a passphrase.
    #[error(
        "the registry policy requires bundles encrypted to its recipients, and this one is encrypted with a passphrase"
    )]
    Passphrase,
    /// The identity that opened the bundle is not that of a recipient the registry lists now:
    /// the bundle is sealed to none of them (to a recipient since removed, or another's).
    #[error(
        "the registry policy requires bundles encrypted to its recipients, and this one was opened by the identity of none of them (sealed to a recipient since removed from the registry, or to another key; the identities given for the registry's current recipients do not open it)"
    )]
    NotARecipient,
}

/// How a bundle came sealed, against the registry's recipients: what a policy requiring
/// encrypted bundles judges (FORMAT.md §5.5).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sealed {
    /// Not encrypted.
    Plain,
    /// Encrypted with a passphrase.
    Passphrase,
    /// Encrypted to recipients, opened by the identity of this recipient of the registry, or
    /// (`None`) by an identity that is no recipient of it.
    Recipient(Option<String>),
}

/// The rules a new model meets before any of its artifacts is staged, and again under the
/// writer lock: none of its bytes denied (FORMAT.md §5.15), none of its formats refused by the
/// policy, and, when the policy requires it, a bundle sealed to a recipient the registry lists
/// (§5.5). The formats are the manifest's: the reader refuses an artifact whose bytes are of
/// another format than it declares, so they are the stored bytes' too.
fn admissible(state: &State, signed: &SignedManifest, sealed: &Sealed) -> Result<(), AddError> {
    let m = &signed.manifest;
    // The schema holds each `blake3` to 64 lowercase hex digits (§7.1): an object id, always.
    let artifacts: Vec<ObjectId> = m
        .artifacts
        .iter()
        .filter_map(|a| a.blake3.parse().ok())
        .collect();
    state.check_not_denied(|| m.spec(), &artifacts)?;
    let refused = state.out_of_policy(m);
    if !refused.is_empty() {
        return Err(PolicyRefusal::Formats(crate::state::describe_refused(&refused)).into());
    }
    if state.policy().require_encrypted {
        match sealed {
            Sealed::Plain => return Err(PolicyRefusal::Plaintext.into()),
            Sealed::Passphrase => return Err(PolicyRefusal::Passphrase.into()),
            Sealed::Recipient(Some(r)) if state.recipients().contains(r) => {}
            Sealed::Recipient(_) => return Err(PolicyRefusal::NotARecipient.into()),
        }
    }
    Ok(())
}

/// Puts first the identities of the registry's current recipients, so that age, which stops
/// at the first identity that opens a bundle, tries them first; returns, in the new order,
/// which recipient each is, if any. Only when the policy requires encrypted bundles: a bundle
/// sealed to a current recipient and to a removed one is then admitted with the identity of
/// the current one whatever order the identities were given in.
fn order_identities(state: &State, decryption: &mut Decryption<'_>) -> Vec<Option<String>> {
    if !state.policy().require_encrypted {
        return Vec::new();
    }
    let whose = bundle::recipients_of(&decryption.identities, state.recipients());
    let mut paired: Vec<_> = std::mem::take(&mut decryption.identities)
        .into_iter()
        .zip(whose)
        .collect();
    // Stable: among each kind, the order given.
    paired.sort_by_key(|(_, r)| r.is_none());
    let (identities, whose) = paired.into_iter().unzip();
    decryption.identities = identities;
    whose
}

impl From<StateError> for AddError {
    fn from(e: StateError) -> Self {
        AddError::Registry(RegistryError::Refused(e))
    }
}

/// What `reg add` did.
#[derive(Debug)]
pub enum Outcome {
    /// The model was admitted.
    Added {
        /// The `add` entry's id.
        entry: ObjectId,
        /// Its seq.
        seq: u64,
        /// The record id.
        record: ObjectId,
        /// `name@version`.
        spec: String,
        /// BLAKE3 of the bundle as received.
        bundle_hash: ObjectId,
        /// How many artifacts were verified and stored.
        artifacts: usize,
        /// Artifacts whose format runs code when loaded.
        code_on_load: Vec<String>,
    },
    /// The same record is registered already, and the bundle was verified in full against it
    /// (signature, every artifact's hash): nothing was written to the ledger, and any missing or
    /// corrupt stored object of the model was restored from the bundle's verified bytes.
    AlreadyRegistered {
        /// `name@version`.
        spec: String,
        /// The record id.
        record: ObjectId,
        /// How many artifacts were verified.
        artifacts: usize,
        /// BLAKE3 of the bundle as received.
        bundle_hash: ObjectId,
        /// What was restored, for people (an artifact and its path, or the record), and its id.
        restored: Vec<(String, ObjectId)>,
        /// The model was purged: its artifact bytes were destroyed on purpose and are not restored.
        purged: bool,
        /// The bundle's envelope, when it is not the record's but holds the same manifest signed
        /// again (FORMAT.md §7.1): the same model, whose record stays the one registered.
        resigned: Option<ObjectId>,
    },
}

/// Which registered record a manifest is, if any (FORMAT.md §7.1: a model is its signed payload,
/// the manifest, not the envelope around it): the record itself, or a registered record of the
/// same `name@version` whose payload is byte for byte this one's (the same manifest signed again:
/// ed25519 verification cannot tell two signatures of one message apart, so a publisher can mint
/// any number of envelopes for it). `None`: new. Refused: a `name@version` held by another
/// manifest, or held by a record whose object cannot be read, so cannot be compared.
fn registered_as(
    reg: &Registry,
    state: &State,
    signed: &SignedManifest,
) -> Result<Option<ObjectId>, StateError> {
    let record = ObjectId::of(&signed.bytes);
    if state.models().contains_key(&record) {
        return Ok(Some(record));
    }
    let m = &signed.manifest;
    let Some((other, _)) = state.find(&m.name, &m.version) else {
        return Ok(None);
    };
    let other = *other;
    let stored = reg
        .store()
        .get(&other, MANIFEST_LIMIT)
        .map_err(|e| e.to_string())
        .and_then(|b| Unverified::parse(&b).map_err(|e| e.to_string()));
    match stored {
        Ok(env) if env.kind == signed.envelope.kind && env.payload == signed.envelope.payload => {
            Ok(Some(other))
        }
        Ok(_) => Err(StateError::NameTaken {
            spec: m.spec(),
            record: other,
        }),
        Err(e) => Err(StateError::Invalid(format!(
            "{} is registered as record {other}, which cannot be read ({e}), so this bundle cannot be compared with it; hint: re-add the bundle that holds record {other} to restore it, and see `reg fsck`",
            m.spec()
        ))),
    }
}

/// Ingests the bundle read from `source` (a path, or a stream read once: a bundle piped in is
/// staged in the store's `tmp/` as it is read, like a file, never held in memory), signed into
/// the ledger by the operator `key`.
pub fn add(
    reg: &Registry,
    source: Source<'_>,
    decryption: &mut Decryption<'_>,
    key: &SecretKey,
) -> Result<Outcome, AddError> {
    let state = reg.state_to_write(Kind::Add)?;
    // The operator's authority first: no point reading gigabytes for a key that cannot sign.
    state.authorize(key.public().fingerprint(), Kind::Add)?;
    let whose = order_identities(&state, decryption);
    let (read, known, sealed) = read_authorized(reg, &state, source, decryption, &whose)?;
    if known.is_some() {
        return repair(reg, read);
    }
    admit(reg, read, key, &sealed)
}

/// Reads and verifies the bundle, with the publisher's signature checked on the envelope before
/// any artifact byte is read, and says which registered record it is, if any, and how it came
/// sealed. A new model is refused as soon as its manifest is read if it is not
/// [`admissible`]. A step of its own because the bundle reader calls back into the state at
/// each stage and a refusal from the state must win over the reader's generic `Stopped`.
///
/// A bundle of a model registered already is read and verified in full all the same: a
/// tampered, truncated or re-packed copy must be refused, not waved through, and an intact one
/// is what can repair the model's stored objects. `whose` says which recipient each identity
/// of `decryption` is ([`order_identities`]).
fn read_authorized(
    reg: &Registry,
    state: &State,
    source: Source<'_>,
    decryption: &mut Decryption<'_>,
    whose: &[Option<String>],
) -> Result<(Bundle, Option<ObjectId>, Sealed), AddError> {
    let mut stop: Option<AddError> = None;
    let mut known: Option<ObjectId> = None;
    let mut sealed = Sealed::Plain;
    let mut authorize = |stage: Stage<'_>| {
        let m = match stage {
            Stage::Opened(s) => {
                sealed = match s {
                    Sealing::Plain => Sealed::Plain,
                    Sealing::Passphrase => Sealed::Passphrase,
                    Sealing::Identity(i) => Sealed::Recipient(whose.get(i).cloned().flatten()),
                };
                return Ok(());
            }
            Stage::Signed { envelope, id } => return check_signer(state, envelope, &id),
            Stage::Parsed(m) => m,
        };
        let checked = registered_as(reg, state, m)
            .map_err(AddError::from)
            .and_then(|k| {
                known = k;
                match k {
                    Some(_) => Ok(()),
                    // A replica refuses a new model before its artifacts are read, not after
                    // (a bundle of a model it holds only repairs objects, and stays allowed).
                    None if reg.is_replica() => {
                        Err(RegistryError::Replica(reg.path().to_path_buf()).into())
                    }
                    None => admissible(state, m, &sealed),
                }
            });
        checked.map_err(|e| {
            stop = Some(e);
            BundleError::Stopped
        })
    };
    let read = bundle::read(
        source,
        decryption,
        &mut authorize,
        Staging::Store(reg.store()),
    );
    if let Some(e) = stop {
        return Err(e);
    }
    Ok((read?, known, sealed))
}

/// Under the writer lock, checks the verified bundle again against the state as it is then,
/// and admits it: the staged files become objects and the `add` entry is committed. A step of
/// its own because everything here holds the lock, and nothing before it may.
fn admit(
    reg: &Registry,
    read: Bundle,
    key: &SecretKey,
    sealed: &Sealed,
) -> Result<Outcome, AddError> {
    let record = ObjectId::of(&read.manifest.bytes);
    let m = read.manifest.manifest.clone();
    crate::util::fsutil::failpoint("add:before-lock");
    let mut tx = reg.begin()?;
    // The state may have moved while the bundle was read: check again under the lock.
    check_signer(tx.state(), &read.manifest.envelope, &record)?;
    if registered_as(reg, tx.state(), &read.manifest)?.is_some() {
        // Registered by another writer meanwhile: verify against it and repair, as above.
        drop(tx);
        return repair(reg, read);
    }
    admissible(tx.state(), &read.manifest, sealed)?;
    let body = Body::Add(add_entry(tx.state(), &read, record)?);
    tx.check(key, &body)?;
    let code_on_load = read
        .artifacts
        .iter()
        .filter(|c| c.artifact.format.runs_code_when_loaded())
        .map(|c| c.artifact.path.clone())
        .collect();
    let artifact_count = read.artifacts.len();
    // Readers see the new objects only with the entry that reaches them (FORMAT.md §6); the
    // artifacts' bytes go to the disk before, not while readers wait.
    for staged in read.artifacts.iter().filter_map(|c| c.staged.as_ref()) {
        staged.sync().map_err(RegistryError::from)?;
    }
    tx.open_window()?;
    for checked in read.artifacts {
        if let Some(staged) = checked.staged {
            reg.store().commit(staged).map_err(RegistryError::from)?;
        }
    }
    reg.store()
        .put_bytes(&read.manifest.bytes)
        .map_err(RegistryError::from)?;
    let committed = tx.commit(key, body)?;
    Ok(Outcome::Added {
        artifacts: artifact_count,
        entry: committed.id,
        seq: committed.seq,
        record,
        spec: m.spec(),
        bundle_hash: read.bundle_hash,
        code_on_load,
    })
}

/// The `add` entry for the verified bundle, checked by the ledger's own rule for an add
/// (FORMAT.md §5.6) against `state`, the state under the lock. A step of its own because it is
/// exactly the check replay makes: the entry says what the record says, by construction, and is
/// checked all the same, so that no writer can commit an entry readers refuse.
fn add_entry(state: &State, read: &Bundle, record: ObjectId) -> Result<Add, StateError> {
    let m = &read.manifest.manifest;
    let fp = &m.publisher;
    let publisher_key = state
        .keys()
        .get(fp)
        .and_then(|ks| decode_key(fp, &ks.public_key).ok());
    let claim = crate::format::claim::claim(&read.manifest, publisher_key.as_ref())
        .map_err(|detail| StateError::RecordRefused { record, detail })?;
    // Format 4 names the publisher and says whether the bundle came sealed (FORMAT.md §5.6).
    let provenance = state.has_provenance();
    let add = Add {
        artifacts: claim.artifacts.clone(),
        bundle: read.bundle_hash,
        encrypted: provenance && read.encrypted,
        name: m.name.clone(),
        publisher: provenance.then(|| claim.publisher.clone()),
        record,
        version: m.version.clone(),
    };
    state.check_record(&add, &claim)?;
    Ok(add)
}

/// A fully verified bundle of a registered model: restores, under the writer lock, any of the
/// model's stored objects that is missing or corrupt from the bundle's verified bytes. Never
/// writes to the ledger. A purged model's artifacts stay destroyed.
fn repair(reg: &Registry, read: Bundle) -> Result<Outcome, AddError> {
    let envelope = ObjectId::of(&read.manifest.bytes);
    let tx = reg.begin()?;
    // Models are never removed from the state: a record seen before is still there.
    let record = registered_as(reg, tx.state(), &read.manifest)?
        .ok_or(RegistryError::Refused(StateError::UnknownModel(envelope)))?;
    let model = tx
        .state()
        .models()
        .get(&record)
        .ok_or(RegistryError::Refused(StateError::UnknownModel(record)))?;
    let purged = model.purged;
    let mut restored = Vec::new();
    let artifacts = read.artifacts.len();
    let bundle_hash = read.bundle_hash;
    if !purged {
        for checked in read.artifacts {
            if let Some(staged) = checked.staged {
                let id = staged.id();
                if reg.store().restore(staged).map_err(RegistryError::from)? {
                    restored.push((
                        format!("artifact `{}`", checked.artifact.path.escape_debug()),
                        id,
                    ));
                }
            }
        }
    }
    // The record is restored only from its own envelope; a re-signed one is another object,
    // never stored (it was compared with the record, which is therefore intact).
    if envelope == record {
        let staged = reg
            .store()
            .stage(&mut &read.manifest.bytes[..])
            .map_err(RegistryError::from)?;
        if reg.store().restore(staged).map_err(RegistryError::from)? {
            restored.push(("the record".into(), record));
        }
    }
    drop(tx);
    Ok(Outcome::AlreadyRegistered {
        spec: read.manifest.manifest.spec(),
        record,
        artifacts,
        bundle_hash,
        restored,
        purged,
        resigned: (envelope != record).then_some(envelope),
    })
}
