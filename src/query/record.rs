//! Model records as reg shows them: the signed manifest, with its state and how it was admitted.

use super::chain::Chain;
use super::revoked::{RevokedKey, revoked_keys};
use crate::crypto::keys::Fingerprint;
use crate::format::entry::Body;
use crate::format::formats::Format;
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::format::manifest::{Artifact, Provenance};
use crate::repo::ledger::read_entry;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{ModelState, State, Suspension};
use crate::util::encoding::b64_encode;
use serde::Serialize;
use std::collections::BTreeMap;

/// One artifact as shown.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactView {
    /// Path in the bundle.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// BLAKE3 (the object id).
    pub blake3: String,
    /// Detected format.
    pub format: Format,
    /// Whether loading it can run code (pickle-based).
    pub runs_code_when_loaded: bool,
}

/// How the model was admitted.
#[derive(Debug, Clone, Serialize)]
pub struct Admission {
    /// The `add` entry id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// When.
    pub time: String,
    /// The operator's fingerprint.
    pub operator: Fingerprint,
    /// The operator key's name, if a key-trust named it (FORMAT.md §5.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_name: Option<String>,
    /// BLAKE3 of the bundle as received.
    pub bundle: ObjectId,
    /// Whether the bundle came age-encrypted, as its `add` entry says (format 4, FORMAT.md §5.6);
    /// absent for a model added before, whose entry does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
}

/// The publisher and signature.
#[derive(Debug, Clone, Serialize)]
pub struct Publisher {
    /// Key fingerprint.
    pub fingerprint: Fingerprint,
    /// The key's name, if a key-trust named it (FORMAT.md §5.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Base64 ed25519 signature over the manifest's PAE.
    pub signature: String,
}

/// One step of a model's history: an entry that concerns it, and what the entry did to it.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryItem {
    /// The entry id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// When.
    pub time: String,
    /// Who signed it.
    pub actor: Fingerprint,
    /// `add`, `promote`, `deprecate`, `revoke` or `reapprove` (its own chain, [`history`]);
    /// in [`full_history`] also `activate`, `deactivate`, `displaced`, `drift`, `purge`,
    /// `suspend` and `deny-lift`.
    pub action: &'static str,
    /// The state after it.
    pub state: LifecycleState,
    /// Why (absent for `add`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The signer's name, if a key-trust named it (FORMAT.md §5.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    /// The slot the model entered or left (`activate`, `deactivate`, `displaced`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// What else the entry did to the model, in words: the slots a revocation cleared or
    /// handed on, the model that displaced it, the key whose compromise suspended it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A model's complete history, oldest first: every entry that concerns it
/// ([`super::history::Event::concerns`]), one item each, with the model's lifecycle state
/// after it. Reads the whole committed ledger ([`super::history::scan_committed`]): a cost that
/// grows with the ledger, where [`history`] walks the model's own chain only.
pub fn full_history(reg: &Registry, id: &ObjectId) -> Result<Vec<HistoryItem>, RegistryError> {
    let filter = super::history::Filter {
        model: Some(*id),
        ..Default::default()
    };
    let mut state = LifecycleState::Registered;
    let mut out = Vec::new();
    for e in super::history::scan_committed(reg, &filter)? {
        let (action, slot, detail) = step(&e, id);
        if let Some(to) =
            e.to.filter(|_| e.model.as_ref().is_some_and(|m| m.record == *id))
        {
            state = to;
        }
        let header = &e.entry.header;
        out.push(HistoryItem {
            entry: e.id,
            seq: header.seq,
            time: header.time.clone(),
            actor: header.actor.clone(),
            action,
            state,
            reason: e.entry.body.reason().map(str::to_string),
            actor_name: e.actor_name.clone(),
            slot,
            detail,
        });
    }
    Ok(out)
}

/// What entry `e` did to model `id`: the action's word, the slot it entered or left, and what
/// else, in words.
fn step(
    e: &super::history::Event,
    id: &ObjectId,
) -> (&'static str, Option<String>, Option<String>) {
    use super::history::ModelRef;
    let is = |m: &Option<ModelRef>| m.as_ref().is_some_and(|m| m.record == *id);
    let list = |ms: &[String]| (!ms.is_empty()).then(|| ms.join("; "));
    match &e.entry.body {
        Body::Add(_) => ("add", None, None),
        Body::Transition(t) if t.model == *id => {
            let mut said: Vec<String> = e
                .slots
                .iter()
                .map(|m| match &m.to {
                    Some(r) => format!("left slot {}, handed to {r}", m.slot),
                    None => format!("left slot {}, now empty", m.slot),
                })
                .collect();
            if t.deny {
                said.push("its artifact hashes denied".into());
            }
            (crate::format::lifecycle::verb(t.to), None, list(&said))
        }
        Body::Transition(_) => {
            let moved = e.slots.iter().find(|m| is(&m.to));
            (
                "activate",
                moved.map(|m| m.slot.clone()),
                moved
                    .and_then(|m| m.from.as_ref())
                    .map(|from| format!("takes over from {from}, revoked")),
            )
        }
        Body::Reapprove(_) => ("reapprove", None, None),
        Body::Slot(c) => {
            let m = e.slots.first();
            let (from, to) = (m.and_then(|m| m.from.clone()), m.and_then(|m| m.to.clone()));
            let slot = Some(c.slot.clone());
            if is(&to) {
                let displaced = from.filter(|f| f.record != *id);
                (
                    "activate",
                    slot,
                    displaced.map(|f| format!("displacing {f}")),
                )
            } else if let Some(to) = to {
                ("displaced", slot, Some(format!("by {to}")))
            } else {
                ("deactivate", slot, None)
            }
        }
        Body::Drift(_) | Body::DriftImport(_) => ("drift", None, None),
        Body::Purge(p) => (
            "purge",
            None,
            Some(format!(
                "purged: {} artifact object(s) deleted{}",
                p.blobs.len(),
                if p.deny { ", hashes denied" } else { "" }
            )),
        ),
        Body::KeyRevoke(r) => (
            "suspend",
            None,
            Some(format!("key {} revoked as compromised", r.fingerprint)),
        ),
        Body::DenyLift(l) => (
            "deny-lift",
            None,
            Some(format!(
                "{} artifact hash(es) allowed again",
                l.artifacts.len()
            )),
        ),
        // No other kind concerns a model.
        _ => ("other", None, None),
    }
}

/// A model's history, oldest first, read by following `previous` links from its latest entry:
/// as long as the model's own history, whatever the size of the ledger.
pub fn history(reg: &Registry, model: &ModelState) -> Result<Vec<HistoryItem>, RegistryError> {
    let mut out = Vec::new();
    for step in Chain::history(reg, model.entry) {
        let (id, entry) = step?;
        let (action, state, reason) = match entry.body {
            Body::Transition(t) => (crate::format::lifecycle::verb(t.to), t.to, Some(t.reason)),
            // A re-approval keeps the state: the one before it, set once the order is known.
            Body::Reapprove(r) => ("reapprove", LifecycleState::Registered, Some(r.reason)),
            // The chain's start: the only other entry it holds.
            _ => ("add", LifecycleState::Registered, None),
        };
        out.push(HistoryItem {
            entry: id,
            seq: entry.header.seq,
            time: entry.header.time,
            actor: entry.header.actor,
            action,
            state,
            reason,
            actor_name: None,
            slot: None,
            detail: None,
        });
    }
    out.reverse();
    let mut before = LifecycleState::Registered;
    for item in &mut out {
        if item.action == "reapprove" {
            item.state = before;
        }
        before = item.state;
    }
    Ok(out)
}

/// A model record as `reg show --json` prints it (`schema/model-record.schema.json`).
#[derive(Debug, Clone, Serialize)]
pub struct RecordView {
    /// Record id.
    pub id: ObjectId,
    /// Model name.
    pub name: String,
    /// Semantic version.
    pub version: String,
    /// Model type.
    #[serde(rename = "type")]
    pub model_type: String,
    /// Intended uses.
    pub uses: Vec<String>,
    /// Description.
    pub description: String,
    /// Framework.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// Who answers for the model, as the publisher signed it (format 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The model's license, as the publisher signed it (format 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Training-data references.
    pub provenance: Vec<Provenance>,
    /// Artifacts.
    pub artifacts: Vec<ArtifactView>,
    /// When the bundle was packed.
    pub created: String,
    /// Who signed it.
    pub publisher: Publisher,
    /// Lifecycle state.
    pub state: LifecycleState,
    /// How it was admitted.
    pub added: Admission,
    /// Its complete history, oldest first ([`full_history`]).
    pub history: Vec<HistoryItem>,
    /// The slots it is the active model of.
    pub slots: Vec<String>,
    /// Its drift observations: how many, and the latest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftSummary>,
    /// Why it is suspended, if it is (FORMAT.md §5.14): the gate denies it until re-approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended: Option<Suspension>,
    /// The revoked keys it rests on, and which way each was revoked (omitted when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked_keys: Vec<RevokedKey>,
    /// Why the gate denies it beyond its state: denied bytes, or out of policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
}

/// How many drift observations a model has, and the latest one.
#[derive(Debug, Clone, Serialize)]
pub struct DriftSummary {
    /// How many.
    pub count: u64,
    /// The latest drift entry.
    pub last: ObjectId,
    /// The latest observation.
    pub latest: serde_json::Value,
}

/// Loads and verifies (hash, canonical form, schema) a record, with its state, admission and
/// complete history (which replays the whole ledger: [`full_history`]).
pub fn view(
    reg: &Registry,
    state: &State,
    id: &ObjectId,
    model: &ModelState,
) -> Result<RecordView, RegistryError> {
    let signed = crate::repo::records::read_record(reg.store(), id)?;
    let history = full_history(reg, id)?;
    let mut added = admission(reg, id, model)?;
    added.operator_name = state.key_name(&added.operator).map(str::to_string);
    let drift = drift_summary(reg, model)?;
    let revoked_keys = revoked_keys(reg, state, id, model)?;
    let m = signed.manifest;
    Ok(RecordView {
        id: *id,
        artifacts: m.artifacts.iter().map(artifact_view).collect(),
        publisher: Publisher {
            name: state.key_name(&m.publisher).map(str::to_string),
            fingerprint: m.publisher.clone(),
            signature: b64_encode(&signed.envelope.signatures[0].1),
        },
        name: m.name,
        version: m.version,
        model_type: m.model_type,
        uses: m.uses,
        description: m.description,
        framework: m.framework,
        owner: m.owner,
        license: m.license,
        labels: m.labels,
        provenance: m.provenance,
        created: m.created,
        state: model.state,
        added,
        history,
        slots: state.slots_of(id),
        drift,
        suspended: model.suspended.clone(),
        revoked_keys,
        blocked: super::standing::blocked(reg, state, id, model)?,
    })
}

/// One manifest artifact as shown, with whether loading it runs code. A step of its own so that
/// the view's shape reads at a glance.
fn artifact_view(a: &Artifact) -> ArtifactView {
    ArtifactView {
        path: a.path.clone(),
        size: a.size,
        blake3: a.blake3.clone(),
        format: a.format,
        runs_code_when_loaded: a.format.runs_code_when_loaded(),
    }
}

/// How record `id` was admitted, read from its `add` entry. A step of its own because that entry
/// is another object, which must be read and checked to be the record's `add` entry: anything
/// else is a corrupt store.
fn admission(
    reg: &Registry,
    id: &ObjectId,
    model: &ModelState,
) -> Result<Admission, RegistryError> {
    let entry = read_entry(reg.store(), &model.added).map_err(|e| {
        RegistryError::corrupt_object(
            reg.store(),
            &model.added,
            format!("entry {}: {e}", model.added),
        )
    })?;
    let Body::Add(add) = &entry.body else {
        return Err(RegistryError::corrupt_object(
            reg.store(),
            &model.added,
            format!("entry {} is not the add entry of record {id}", model.added),
        ));
    };
    Ok(Admission {
        entry: model.added,
        seq: entry.header.seq,
        time: entry.header.time.clone(),
        operator: entry.header.actor.clone(),
        operator_name: None,
        bundle: add.bundle,
        // Format 4's adds name their publisher, and say `encrypted` (omitted when false).
        encrypted: add.publisher.is_some().then_some(add.encrypted),
    })
}

/// The model's drift observations, if any: how many, and the latest, read from its entry. A step
/// of its own because that entry is another object, checked to be a drift observation.
fn drift_summary(
    reg: &Registry,
    model: &ModelState,
) -> Result<Option<DriftSummary>, RegistryError> {
    let Some(d) = &model.drift else {
        return Ok(None);
    };
    let entry = read_entry(reg.store(), &d.last).map_err(|e| {
        RegistryError::corrupt_object(reg.store(), &d.last, format!("entry {}: {e}", d.last))
    })?;
    let corrupt = |detail: String| {
        RegistryError::corrupt_object(reg.store(), &d.last, format!("entry {}: {detail}", d.last))
    };
    let observation = match entry.body {
        Body::Drift(obs) => obs.observation,
        Body::DriftImport(i) => {
            i.open()
                .map_err(|e| corrupt(e.to_string()))?
                .payload
                .observation
        }
        _ => return Err(corrupt("not a drift observation".into())),
    };
    Ok(Some(DriftSummary {
        count: d.count,
        last: d.last,
        latest: serde_json::Value::Object(observation),
    }))
}
