//! Which revoked keys a model rests on, and which way each was revoked (FORMAT.md §5.3, §5.14):
//! what `reg show`, `list`, `status` and `check` say beside a model.
//!
//! A model rests on the publisher that signed its record and the operators that admitted and
//! approved it. A retired key's earlier signatures stay valid, so a model resting on one is only
//! worth a note; a compromised key's do not stand on their own, so the state suspends what rests
//! on it (`suspended`, shown apart). In a format-4 registry the state names the publisher and
//! the approvers; in an older one they are read from the record and from the model's history
//! (the `add` and each `promote`), and every revocation there reads as retirement.

use super::chain::Chain;
use crate::crypto::keys::Fingerprint;
use crate::format::entry::Body;
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
pub use crate::format::revocation::RevocationKind;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{ModelState, State};
use serde::Serialize;
use std::collections::BTreeSet;

/// What a model holds a key for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Capacity {
    /// It signed the model's record.
    Publisher,
    /// It admitted or approved the model (an operator the model rests on).
    Approver,
}

/// A revoked key a model rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevokedKey {
    /// The key.
    pub fingerprint: Fingerprint,
    /// What the model holds it for.
    #[serde(rename = "as")]
    pub capacity: Capacity,
    /// Seq of its revocation.
    pub revoked: u64,
    /// Which way.
    pub kind: RevocationKind,
}

impl RevokedKey {
    /// "publisher key KEY, retired at entry 7", the key as the caller names it (its
    /// fingerprint, or its name beside it).
    pub fn describe(&self, key: &str) -> String {
        let capacity = match self.capacity {
            Capacity::Publisher => "publisher",
            Capacity::Approver => "approver",
        };
        format!(
            "{capacity} key {key}, {} at entry {}",
            self.kind.name(),
            self.revoked
        )
    }
}

impl std::fmt::Display for RevokedKey {
    /// "publisher key FP, retired at entry 7".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe(&self.fingerprint.to_string()))
    }
}

/// The revoked keys model `id` rests on: its publisher first, then its approvers by
/// fingerprint. Nothing is read when the registry has revoked no key.
pub fn revoked_keys(
    reg: &Registry,
    state: &State,
    id: &ObjectId,
    model: &ModelState,
) -> Result<Vec<RevokedKey>, RegistryError> {
    if state.keys().values().all(|k| k.revoked.is_none()) {
        return Ok(Vec::new());
    }
    let (publisher, approvers) = if state.has_provenance() {
        (model.publisher.clone(), model.approvers.clone())
    } else {
        rests_on_before_provenance(reg, id, model)?
    };
    let mut out = Vec::new();
    let rests = publisher
        .into_iter()
        .map(|fp| (fp, Capacity::Publisher))
        .chain(approvers.into_iter().map(|fp| (fp, Capacity::Approver)));
    for (fingerprint, capacity) in rests {
        let Some(k) = state.keys().get(&fingerprint) else {
            continue;
        };
        if let Some(revoked) = k.revoked {
            out.push(RevokedKey {
                fingerprint,
                capacity,
                revoked,
                kind: RevocationKind::of(k.compromised),
            });
        }
    }
    Ok(out)
}

/// The publisher and approvers of a model in a registry before format 4, whose state does not
/// name them: the record's signer, and the signers of its `add` and of each `promote`.
fn rests_on_before_provenance(
    reg: &Registry,
    id: &ObjectId,
    model: &ModelState,
) -> Result<(Option<Fingerprint>, BTreeSet<Fingerprint>), RegistryError> {
    let signed = crate::repo::records::read_record(reg.store(), id)?;
    let mut approvers = BTreeSet::new();
    for step in Chain::history(reg, model.entry) {
        let (_, entry) = step?;
        let approves = match &entry.body {
            Body::Add(_) => true,
            Body::Transition(t) => t.to == LifecycleState::Promoted,
            _ => false,
        };
        if approves {
            approvers.insert(entry.header.actor);
        }
    }
    Ok((Some(signed.manifest.publisher), approvers))
}
