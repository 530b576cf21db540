//! [`StateError`]: an entry that breaks a rule of the format, checked against the state before it.
//!
//! One variant per rule that callers or tests tell apart, with typed fields; each message is the
//! one users and the test suite know, word for word.

use crate::crypto::envelope::Kind;
use crate::crypto::keys::Fingerprint;
use crate::format::entry::{GENESIS_NONCE_LEN, MAX_CHECKPOINT_AGE_DAYS, Role};
use crate::format::id::ObjectId;
use crate::format::lifecycle::{LifecycleState, allowed_text};
use crate::format::names::{NameError, VersionError};

use super::FORMAT_VERSION;
use super::duty::Duty;

/// An entry that breaks a rule of the format, checked against the state before it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    // ---- Signers (keys.rs) ----
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
    #[error(
        "key {fingerprint} signed a {} entry but does not hold the {role} role",
        .kind.name()
    )]
    MissingRole {
        /// The key.
        fingerprint: Fingerprint,
        /// The kind it signed (or would sign).
        kind: Kind,
        /// The role it needed.
        role: Role,
        /// The roles it holds, sorted.
        held: Vec<Role>,
    },
    /// No role signs this kind on its own: the checkpoint is signed by the head entry's signer.
    #[error("a {} is signed by the key that signed the head entry, not by a role", .0.name())]
    NoSigningRole(Kind),

    /// An entry written after the registry expired that neither renews it nor is the root's
    /// (FORMAT.md §6.1).
    #[error(
        "the registry expired before this {} entry at {time}: it was last renewed at {renewed}, more than the {days} days its policy allows, and an expired registry takes only a renewal or a root's entry",
        kind.name()
    )]
    WrittenExpired {
        /// The entry's kind.
        kind: Kind,
        /// The entry's time.
        time: String,
        /// The renewal (or, in a registry never renewed under format 3's rule, the checkpoint).
        renewed: String,
        /// The policy's limit.
        days: u32,
    },

    // ---- Genesis (keys.rs) ----
    /// Entry 0 is of another kind.
    #[error("entry 0 is not a genesis entry")]
    NotGenesis,
    /// A genesis entry after entry 0.
    #[error("a genesis entry can only be entry 0")]
    LateGenesis,
    /// A format version this build does not read.
    #[error(
        "genesis has format version {}, this reg reads versions 1 to {}",
        .0,
        FORMAT_VERSION
    )]
    GenesisVersion(u32),
    /// Genesis lists other than one key.
    #[error("genesis must list exactly one key, the root key")]
    GenesisKeys,
    /// The genesis key holds other roles than root.
    #[error("the genesis key must hold exactly the root role")]
    GenesisRoles,
    /// Genesis is signed by another key than its own root.
    #[error("genesis must be signed by its own root key")]
    GenesisSigner,
    /// The genesis nonce is not 32 bytes of lowercase hex.
    #[error(
        "the genesis nonce must be {} lowercase hex digits ({} bytes)",
        GENESIS_NONCE_LEN * 2,
        GENESIS_NONCE_LEN
    )]
    GenesisNonce,
    /// The operating system gave no random bytes for a nonce.
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),

    // ---- Keys (keys.rs) ----
    /// The reason is empty.
    #[error("a reason is required and must not be empty")]
    EmptyReason,
    /// A key written in an entry is not 32 bytes of base64.
    #[error("key {0}: not 32 base64 bytes")]
    KeyEncoding(Fingerprint),
    /// A key written in an entry is weak, non-canonical or of mixed order.
    #[error("{detail}")]
    KeyRejected {
        /// The fingerprint it is listed under.
        fingerprint: Fingerprint,
        /// Why (the key layer's message).
        detail: String,
    },
    /// A key written in an entry has another fingerprint than it is listed under.
    #[error("key listed as {listed} has fingerprint {actual}")]
    KeyFingerprint {
        /// The fingerprint the entry gives.
        listed: Fingerprint,
        /// The key's own.
        actual: Fingerprint,
    },
    /// A key-trust whose key bytes differ from those trusted under the same fingerprint.
    #[error(
        "key-trust names key {0} with other public key bytes than the key trusted under that fingerprint"
    )]
    KeyBytesDiffer(Fingerprint),
    /// A key-trust names its key with a name another key holds (FORMAT.md §5.3): names are
    /// what people tell keys apart by, so names differing only in case are one name.
    #[error(
        "key name `{name}` is held by key {holder} already (as `{held}`); two keys never share a name, whatever its case"
    )]
    KeyNameTaken {
        /// The name.
        name: String,
        /// The key that holds it.
        holder: Fingerprint,
        /// The name as that key holds it.
        held: String,
    },
    /// A key-trust names a key that has another name already (FORMAT.md §5.3): a key's name is
    /// set once, so that what a log said of it stays true.
    #[error(
        "key {fingerprint} is named `{held}` already; a key's name is set once, by the first key-trust that gives one"
    )]
    KeyNameFixed {
        /// The key.
        fingerprint: Fingerprint,
        /// Its name.
        held: String,
    },
    /// The key is already trusted with this role.
    #[error("key {fingerprint} already holds the {role} role")]
    AlreadyTrusted {
        /// The key.
        fingerprint: Fingerprint,
        /// The role.
        role: Role,
    },
    /// The key is revoked, which is final.
    #[error(
        "key {fingerprint} was revoked at entry {at}; a revocation is final: a revoked key is never trusted again, given or relieved of a role, or revoked again (but as compromised, once, if it was retired)"
    )]
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
    /// Withdrawing root from this key would leave no root key (FORMAT.md §5.3).
    #[error("refusing to withdraw root from {0}: it is the last unrevoked root key")]
    LastRootWithdrawn(Fingerprint),

    // ---- Config (config.rs) ----
    /// An age recipient that does not parse.
    #[error("{0}")]
    BadRecipient(String),
    /// Recipients not sorted and unique.
    #[error("recipients must be sorted and unique")]
    RecipientsOrder,
    /// The policy's refused formats not sorted and unique.
    #[error("policy refuse_formats must be sorted and unique")]
    PolicyFormatsOrder,
    /// The policy's checkpoint age out of range.
    #[error(
        "policy checkpoint_max_age_days must be 1 to {}",
        MAX_CHECKPOINT_AGE_DAYS
    )]
    PolicyMaxAge(u32),

    // ---- Models (models.rs) ----
    /// A name (model or slot) breaks the name rules.
    #[error(transparent)]
    Name(#[from] NameError),
    /// A version breaks the version rules.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// An add whose artifacts are empty, unsorted or repeated.
    #[error("an add entry lists its artifacts, sorted and unique")]
    AddArtifacts,
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
    /// A model named by id is not registered.
    #[error("no model with record id {0} is registered")]
    UnknownModel(ObjectId),
    /// A part of `index/` that does not match the root the checkpoint commits to, or is not
    /// well formed (FORMAT.md §5.11): the reader replays the ledger instead.
    #[error("the index does not match its root: {0}")]
    BadIndex(String),
    /// A purge of a model that is not revoked, or purged already.
    #[error(
        "only a REVOKED model's artifacts can be purged, once; {spec} is {state}{}",
        if *.purged { " and purged" } else { "" }
    )]
    NotPurgeable {
        /// `name@version`.
        spec: String,
        /// Its state.
        state: LifecycleState,
        /// Whether it was purged already.
        purged: bool,
    },
    /// A purge that does not list exactly what [`super::State::purgeable`] gives.
    #[error("a purge lists exactly the model's artifacts that no other unpurged model holds")]
    PurgeBlobs,

    // ---- Lifecycle and slots (lifecycle.rs) ----
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
    /// A transition whose `from` is not the model's state (a stale or forged entry).
    #[error("the transition says {spec} is {claimed:?}, but it is {state}")]
    StaleFrom {
        /// `name@version`.
        spec: String,
        /// The entry's `from`.
        claimed: LifecycleState,
        /// The model's state.
        state: LifecycleState,
    },
    /// A transition or re-approval whose `previous` is not the model's latest entry (a stale or
    /// forged entry); boxed, so that two ids do not make every error larger.
    #[error(
        "an entry of {}'s history names {} as its previous entry, but its latest is {}",
        .0.spec,
        .0.named,
        .0.latest
    )]
    StalePrevious(Box<StalePrevious>),
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
    /// Slot effects on a transition that is not a revocation.
    #[error("only a revocation says what happens to slots")]
    SlotsWithoutRevocation,
    /// Only a promoted model may be made active.
    #[error("only a PROMOTED model can be made active; {spec} is {state}")]
    NotPromoted {
        /// `name@version`.
        spec: String,
        /// Its state.
        state: LifecycleState,
    },
    /// A slot change whose `previous` is not the entry that last set the slot.
    #[error("the slot change of `{0}` does not follow the entry that last set it")]
    StaleSlot(String),
    /// A slot set to the model it already holds.
    #[error("{spec} is already the active model of slot `{slot}`")]
    AlreadyActive {
        /// `name@version`.
        spec: String,
        /// The slot.
        slot: String,
    },
    /// A slot cleared that is not set.
    #[error("slot `{0}` is not set")]
    SlotNotSet(String),

    // ---- Drift (drift.rs) ----
    /// A format-1 spelling of numbers in a format-2 registry.
    #[error(
        "not canonical (same meaning, other bytes): the observation spells a number as format 1 did (`10.0`, `-0.0`, `1e+16`, `1e-6`); a format-2 registry holds RFC 8785 numbers only (`10`, `0`, `10000000000000000`, `0.000001`)"
    )]
    LegacyNumbers,
    /// A drift observation of a revoked model.
    #[error("{0} is REVOKED: no drift is recorded for it")]
    DriftOnRevoked(String),
    /// A drift entry whose `previous` is not the model's latest observation.
    #[error("the drift entry of {0} does not follow its previous observation")]
    StaleDrift(String),
    /// An observation that breaks its schema.
    #[error("the observation is invalid: {}", .0.join("; "))]
    ObservationInvalid(Vec<String>),
    /// An observation naming another model than its entry.
    #[error("the observation names model {named}, not {spec}")]
    ObservationModel {
        /// What the observation's `model` member holds, as JSON.
        named: String,
        /// `name@version` of the entry's model.
        spec: String,
    },
    /// A drift report a `drift-import` entry embeds breaks a rule (FORMAT.md §5.12): malformed,
    /// of another registry or model, from a replica ahead of this ledger, by a key not trusted
    /// as reporter here, or with a signature that does not verify.
    #[error("drift report {report}: {detail}")]
    Report {
        /// The report id (BLAKE3 of its envelope).
        report: ObjectId,
        /// Why.
        detail: String,
    },
    /// A drift report already recorded for its model.
    #[error("drift report {report} of {spec} is already recorded in this ledger")]
    ReportRecorded {
        /// The report id.
        report: ObjectId,
        /// `name@version` of its model.
        spec: String,
    },

    // ---- Governance (suspension.rs, deny.rs, duties.rs, time.rs; format 4) ----
    /// A field or kind that only a registry of a later format holds.
    #[error("{what} needs a registry of format {needs} or later; this one is format {version}")]
    NeedsFormat {
        /// What was asked, in words.
        what: &'static str,
        /// The format it needs.
        needs: u32,
        /// The registry's format.
        version: u32,
    },
    /// An `add` names no publisher where the format requires one, or one where it has none.
    #[error("an add entry of a format {version} registry {}", if *.version >= 4 { "must name the record's publisher" } else { "names no publisher" })]
    AddPublisher {
        /// The registry's format.
        version: u32,
    },
    /// A model suspended by a compromised key is promoted or made active.
    #[error(
        "{spec} is suspended: key {key} it rests on was revoked as compromised at entry {at}; an operator must re-approve it (`reg reapprove`) or revoke it"
    )]
    Suspended {
        /// `name@version`.
        spec: String,
        /// The compromised key.
        key: Fingerprint,
        /// Seq of the compromised key's revocation.
        at: u64,
    },
    /// A re-approval of a model that is not suspended, or is revoked.
    #[error("{spec} {}", if *.revoked { "is REVOKED: a revoked model is never re-approved" } else { "is not suspended: nothing to re-approve" })]
    NotSuspended {
        /// `name@version`.
        spec: String,
        /// It is revoked.
        revoked: bool,
    },
    /// A model holding denied bytes is added, promoted or made active.
    #[error(
        "{spec} holds {count} denied artifact hash(es), first {first}, denied at entry {at}: no model may hold these bytes until root lifts the denial"
    )]
    DeniedBytes {
        /// `name@version`.
        spec: String,
        /// How many of its artifacts are denied.
        count: usize,
        /// The first denied hash.
        first: ObjectId,
        /// Seq of the entry that denied it.
        at: u64,
    },
    /// `deny` on a transition that is not a revocation.
    #[error("only a revocation or a purge can deny a model's bytes")]
    DenyWithoutRevocation,
    /// A deny-lift whose list is empty, unsorted or repeats a hash.
    #[error("a deny-lift lists its hashes sorted, unique, at least one")]
    DenyLiftList,
    /// A deny-lift names a hash that is not denied.
    #[error("artifact hash {0} is not denied")]
    NotDenied(ObjectId),
    /// An entry that breaks the policy's separation of duties (FORMAT.md §5.5).
    #[error("the policy keeps duties apart: {0}")]
    DutiesApart(Duty),
    /// A key-withdraw of a role the key does not hold.
    #[error("key {fingerprint} does not hold the {role} role")]
    RoleNotHeld {
        /// The key.
        fingerprint: Fingerprint,
        /// The role.
        role: Role,
    },
    /// A key-withdraw of a key's only role.
    #[error("{role} is the only role of key {fingerprint}: revoke the key instead")]
    OnlyRole {
        /// The key.
        fingerprint: Fingerprint,
        /// The role.
        role: Role,
    },
    /// An entry dated before the entry it follows (format 4).
    #[error(
        "the entry is dated {time}, before the entry it follows ({previous}): entry times only move forward"
    )]
    TimeBackwards {
        /// The entry's time.
        time: String,
        /// The previous entry's time.
        previous: String,
    },

    /// Anything else malformed, said in words (for refusals made before an entry exists).
    #[error("{0}")]
    Invalid(String),
}

/// What [`StateError::StalePrevious`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalePrevious {
    /// `name@version`.
    pub spec: String,
    /// The entry's `previous`.
    pub named: ObjectId,
    /// The model's latest lifecycle entry.
    pub latest: ObjectId,
}
