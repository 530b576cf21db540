//! Model records as reg shows them: the signed manifest, with its state and how it was admitted.

use crate::encoding::b64_encode;
use crate::entry::Body;
use crate::formats::Format;
use crate::keys::{Fingerprint, PublicKey};
use crate::ledger::read_entry;
use crate::manifest::{MANIFEST_LIMIT, Provenance, SignedManifest};
use crate::registry::{Registry, RegistryError};
use crate::state::{LifecycleState, ModelState, State, StateError};
use crate::store::{ObjectId, Store};
use serde::Serialize;
use std::collections::BTreeMap;

/// What an `add` entry's record says (FORMAT.md §5.6), once its object hashes to its id, it
/// parses as a manifest and its signature was checked: what [`State::check_record`] compares
/// with the entry and the state before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordClaim {
    /// The manifest's publisher (the envelope's only key id).
    pub publisher: Fingerprint,
    /// The public key bytes the signature verified with; `None`: not verified (no such key).
    pub verified_with: Option<[u8; 32]>,
    /// The manifest's model name.
    pub name: String,
    /// The manifest's version.
    pub version: String,
    /// The manifest's artifact ids, sorted and unique.
    pub artifacts: Vec<ObjectId>,
}

/// The claim of a parsed manifest (FORMAT.md §5.6), its signature checked with `key`, the key the
/// registry holds for the manifest's publisher (`None` when it holds none: the claim then says
/// it is unverified, and [`State::check_record`] refuses it). A signature that does not verify
/// is refused here.
pub fn claim(signed: &SignedManifest, key: Option<&PublicKey>) -> Result<RecordClaim, String> {
    let m = &signed.manifest;
    let verified_with = match key {
        Some(key) => {
            signed.envelope.verify_single(key).map_err(|e| {
                format!(
                    "its signature does not verify with publisher key {}: {e}",
                    m.publisher
                )
            })?;
            Some(key.to_bytes())
        }
        None => None,
    };
    let mut artifacts = m
        .artifacts
        .iter()
        .map(|a| {
            a.blake3
                .parse::<ObjectId>()
                .map_err(|_| format!("artifact `{}` has no valid BLAKE3", a.path.escape_debug()))
        })
        .collect::<Result<Vec<ObjectId>, String>>()?;
    artifacts.sort();
    artifacts.dedup();
    Ok(RecordClaim {
        publisher: m.publisher.clone(),
        verified_with,
        name: m.name.clone(),
        version: m.version.clone(),
        artifacts,
    })
}

/// Reads record `id` from the store (hash-checked, at most [`MANIFEST_LIMIT`] bytes), parses it
/// as a signed manifest and checks its signature with the key `key_of` gives for its publisher:
/// the part of the `add` rule that needs no state, so replay runs it on every core.
pub fn read_claim(
    store: &Store,
    id: &ObjectId,
    key_of: &dyn Fn(&Fingerprint) -> Option<PublicKey>,
) -> Result<RecordClaim, StateError> {
    let refuse = |detail: String| StateError::RecordRefused {
        record: *id,
        detail,
    };
    let bytes = store
        .get(id, MANIFEST_LIMIT)
        .map_err(|e| refuse(e.to_string()))?;
    let signed = SignedManifest::parse(bytes).map_err(|e| refuse(e.to_string()))?;
    let key = key_of(&signed.manifest.publisher);
    claim(&signed, key.as_ref()).map_err(refuse)
}

/// Errors resolving a model name.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Nothing matches.
    #[error("no model `{0}` in this registry")]
    NotFound(String),
    /// A prefix matches several records.
    #[error("`{prefix}` is ambiguous: it matches {}", .candidates.join(", "))]
    Ambiguous {
        /// The prefix given.
        prefix: String,
        /// `id (name@version)` of each match.
        candidates: Vec<String>,
    },
}

/// Finds a model by `name@version`, record id, or unique id prefix (at least 4 hex digits), like git.
pub fn resolve<'s>(
    state: &'s State,
    spec: &str,
) -> Result<(ObjectId, &'s ModelState), ResolveError> {
    if let Some((name, version)) = spec.split_once('@') {
        return state
            .find(name, version)
            .map(|(id, m)| (*id, m))
            .ok_or_else(|| ResolveError::NotFound(spec.to_string()));
    }
    if spec.len() >= 4 && spec.bytes().all(|b| b.is_ascii_hexdigit()) {
        let prefix = spec.to_ascii_lowercase();
        let matches: Vec<(&ObjectId, &ModelState)> = state
            .models
            .iter()
            .filter(|(id, _)| id.to_string().starts_with(&prefix))
            .collect();
        return match matches.as_slice() {
            [(id, m)] => Ok((**id, m)),
            [] => Err(ResolveError::NotFound(spec.to_string())),
            many => Err(ResolveError::Ambiguous {
                prefix: spec.to_string(),
                candidates: many
                    .iter()
                    .map(|(id, m)| format!("{id} ({}@{})", m.name, m.version))
                    .collect(),
            }),
        };
    }
    Err(ResolveError::NotFound(spec.to_string()))
}

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
    /// BLAKE3 of the bundle as received.
    pub bundle: ObjectId,
}

/// The publisher and signature.
#[derive(Debug, Clone, Serialize)]
pub struct Publisher {
    /// Key fingerprint.
    pub fingerprint: Fingerprint,
    /// Base64 ed25519 signature over the manifest's PAE.
    pub signature: String,
}

/// One step of a model's history (its `add` entry, then each transition).
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
    /// `add`, `promote`, `deprecate` or `revoke`.
    pub action: &'static str,
    /// The state after it.
    pub state: LifecycleState,
    /// Why (absent for `add`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A model's history, oldest first, read by following `previous` links from its latest entry:
/// as long as the model's own history, whatever the size of the ledger.
pub fn history(reg: &Registry, model: &ModelState) -> Result<Vec<HistoryItem>, RegistryError> {
    let mut out = Vec::new();
    let mut next = Some(model.entry);
    while let Some(id) = next {
        let entry = read_entry(reg.store(), &id).map_err(|e| RegistryError::Config {
            path: reg.store().path(&id),
            detail: format!("entry {id}: {e}"),
        })?;
        let (action, state, reason, previous) = match &entry.body {
            Body::Add(_) => ("add", LifecycleState::Registered, None, None),
            Body::Transition(t) => (
                crate::lifecycle::verb(t.to),
                t.to,
                Some(t.reason.clone()),
                Some(t.previous),
            ),
            _ => {
                return Err(RegistryError::Config {
                    path: reg.store().path(&id),
                    detail: format!("entry {id} is not part of a model's history"),
                });
            }
        };
        out.push(HistoryItem {
            entry: id,
            seq: entry.header.seq,
            time: entry.header.time.clone(),
            actor: entry.header.actor.clone(),
            action,
            state,
            reason,
        });
        next = previous;
    }
    out.reverse();
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
    /// Its history, oldest first.
    pub history: Vec<HistoryItem>,
    /// The slots it is the active model of.
    pub slots: Vec<String>,
    /// Its drift observations: how many, and the latest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftSummary>,
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

/// Loads and verifies (hash, canonical form, schema) a record, with its state and admission.
pub fn view(
    reg: &Registry,
    state: &State,
    id: &ObjectId,
    model: &ModelState,
) -> Result<RecordView, RegistryError> {
    let bytes = reg.store().get(id, MANIFEST_LIMIT)?;
    let signed = SignedManifest::parse(bytes).map_err(|e| RegistryError::Config {
        path: reg.store().path(id),
        detail: format!("record {id}: {e}"),
    })?;
    let history = history(reg, model)?;
    let entry = read_entry(reg.store(), &model.added).map_err(|e| RegistryError::Config {
        path: reg.store().path(&model.added),
        detail: format!("entry {}: {e}", model.added),
    })?;
    let Body::Add(add) = &entry.body else {
        return Err(RegistryError::Config {
            path: reg.store().path(&model.added),
            detail: format!("entry {} is not the add entry of record {id}", model.added),
        });
    };
    let m = signed.manifest;
    Ok(RecordView {
        id: *id,
        artifacts: m
            .artifacts
            .iter()
            .map(|a| ArtifactView {
                path: a.path.clone(),
                size: a.size,
                blake3: a.blake3.clone(),
                format: a.format,
                runs_code_when_loaded: a.format.runs_code_when_loaded(),
            })
            .collect(),
        publisher: Publisher {
            fingerprint: m.publisher.clone(),
            signature: b64_encode(&signed.envelope.signatures[0].1),
        },
        name: m.name,
        version: m.version,
        model_type: m.model_type,
        uses: m.uses,
        description: m.description,
        framework: m.framework,
        labels: m.labels,
        provenance: m.provenance,
        created: m.created,
        state: model.state,
        added: Admission {
            entry: model.added,
            seq: entry.header.seq,
            time: entry.header.time.clone(),
            operator: entry.header.actor.clone(),
            bundle: add.bundle,
        },
        history,
        slots: state.slots_of(id),
        drift: match &model.drift {
            None => None,
            Some(d) => {
                let entry =
                    read_entry(reg.store(), &d.last).map_err(|e| RegistryError::Config {
                        path: reg.store().path(&d.last),
                        detail: format!("entry {}: {e}", d.last),
                    })?;
                let Body::Drift(obs) = entry.body else {
                    return Err(RegistryError::Config {
                        path: reg.store().path(&d.last),
                        detail: format!("entry {} is not a drift observation", d.last),
                    });
                };
                Some(DriftSummary {
                    count: d.count,
                    last: d.last,
                    latest: serde_json::Value::Object(obs.observation),
                })
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state with two models whose record ids share the prefix `abcd`.
    fn state() -> State {
        let model = |name: &str| {
            serde_json::json!({"added": "0".repeat(64), "artifacts": [], "entry": "0".repeat(64),
                "name": name, "state": "REGISTERED", "version": "1.0.0"})
        };
        let a = format!("abcd{}", "1".repeat(60));
        let b = format!("abcd{}", "2".repeat(60));
        let mut models = serde_json::Map::new();
        models.insert(a, model("alpha"));
        models.insert(b, model("beta"));
        serde_json::from_value(serde_json::json!({
            "format_version": 1, "head": "0".repeat(64), "keys": {}, "models": models,
            "policy": {}, "recipients": [], "registry": "0".repeat(64),
            "root": "0".repeat(32), "seq": 3, "slots": {}
        }))
        .unwrap()
    }

    #[test]
    fn resolves_like_git() {
        let s = state();
        assert_eq!(resolve(&s, "alpha@1.0.0").unwrap().1.name, "alpha");
        assert_eq!(resolve(&s, "abcd1").unwrap().1.name, "alpha");
        assert_eq!(
            resolve(&s, &format!("abcd{}", "2".repeat(60)))
                .unwrap()
                .1
                .name,
            "beta"
        );
        match resolve(&s, "abcd") {
            Err(ResolveError::Ambiguous { candidates, .. }) => {
                assert_eq!(candidates.len(), 2);
                assert!(
                    candidates[0].contains("(alpha@1.0.0)")
                        && candidates[1].contains("(beta@1.0.0)")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(resolve(&s, "abc"), Err(ResolveError::NotFound(_))),
            "too short a prefix"
        );
        assert!(matches!(
            resolve(&s, "gamma@1.0.0"),
            Err(ResolveError::NotFound(_))
        ));
        assert!(matches!(
            resolve(&s, "ffff"),
            Err(ResolveError::NotFound(_))
        ));
    }
}
