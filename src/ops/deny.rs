//! The deny list (FORMAT.md §5.15): artifact hashes no model may hold, whatever its name.
//!
//! Revoking a model stops the gate allowing it and purging destroys its bytes here, but the same
//! bytes could come back packed under another name. A revocation or a purge with `deny` (`reg
//! revoke --deny-bytes`, `reg purge --deny-bytes`, in [`super::lifecycle`] and [`super::gc`])
//! therefore denies the hashes themselves, and only a root key lifts a denial, with a signed,
//! reasoned `deny-lift` entry, written here. Lifting re-admits nothing: a revoked model stays
//! revoked.

use crate::crypto::keys::SecretKey;
use crate::format::entry::{Body, DenyLift};
use crate::format::id::ObjectId;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{Denial, State};
use serde::Serialize;

/// What a revocation or a purge with `deny` did to the model's artifact hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The model's artifact hashes the entry denied.
    pub new: usize,
    /// Those of its hashes that were denied already: an earlier denial stands, with its seq.
    pub already: usize,
    /// The other models that are not revoked and hold some of these bytes (`name@version`,
    /// sorted), which the denial binds too: the gate denies those bytes, and they can be
    /// neither promoted nor made active. Said, since a shared artifact takes them out of
    /// service as well.
    pub others: Vec<String>,
}

impl Denied {
    /// Counts, in the state before the entry, which of `artifacts` (model `model`'s) the entry
    /// denies and which are denied already, and which other live models hold them.
    pub fn count(state: &State, model: &ObjectId, artifacts: &[ObjectId]) -> Denied {
        let already = state.denied_among(artifacts).count();
        let mut others: Vec<&crate::state::ModelState> = state
            .models()
            .iter()
            .filter(|(id, m)| {
                *id != model
                    && m.state != crate::format::lifecycle::LifecycleState::Revoked
                    && m.artifacts
                        .iter()
                        .any(|a| artifacts.binary_search(a).is_ok())
            })
            .map(|(_, m)| m)
            .collect();
        // By name, then by semantic version, as every listing.
        others.sort_by(|a, b| {
            crate::format::version::compare_specs((&a.name, &a.version), (&b.name, &b.version))
        });
        Denied {
            new: artifacts.len() - already,
            already,
            others: others
                .iter()
                .map(|m| format!("{}@{}", m.name, m.version))
                .collect(),
        }
    }
}

/// One denied hash, as `reg deny list` shows it (`schema/deny-list.schema.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DenialView {
    /// The denied artifact hash (BLAKE3).
    pub hash: ObjectId,
    /// The record id of the model whose revocation or purge denied it.
    pub model: ObjectId,
    /// That model's `name@version`.
    pub spec: String,
    /// The seq of the entry that denied it.
    pub seq: u64,
}

impl DenialView {
    fn of(state: &State, hash: ObjectId, d: &Denial) -> DenialView {
        DenialView {
            hash,
            model: d.model,
            spec: state.spec(&d.model),
            seq: d.seq,
        }
    }
}

/// Every denied hash in `state`, sorted by hash.
pub fn list(state: &State) -> Vec<DenialView> {
    state
        .denied()
        .iter()
        .map(|(h, d)| DenialView::of(state, *h, d))
        .collect()
}

/// What a deny-lift did.
#[derive(Debug, Clone)]
pub struct Lifted {
    /// The `deny-lift` entry's id.
    pub entry: ObjectId,
    /// Its seq.
    pub seq: u64,
    /// The denials it lifted, sorted by hash, as they were.
    pub lifted: Vec<DenialView>,
}

/// Lifts the denial of `hashes` (in any order, with repeats: the entry lists them sorted and
/// once each), signed by the root `key`, with `reason`. Refused, with nothing written, if one
/// of them is not denied now (the rule of §5.15, checked under the writer lock).
pub fn lift(
    reg: &Registry,
    key: &SecretKey,
    mut hashes: Vec<ObjectId>,
    reason: &str,
) -> Result<Lifted, RegistryError> {
    hashes.sort();
    hashes.dedup();
    let tx = reg.begin()?;
    let state = tx.state();
    let lifted = hashes
        .iter()
        .filter_map(|h| state.denied().get(h).map(|d| DenialView::of(state, *h, d)))
        .collect();
    let done = tx.commit(
        key,
        Body::DenyLift(DenyLift {
            artifacts: hashes,
            reason: reason.to_string(),
        }),
    )?;
    Ok(Lifted {
        entry: done.id,
        seq: done.seq,
        lifted,
    })
}
