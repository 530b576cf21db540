//! The registry's keys as `reg key list` shows them (FORMAT.md §5.3): each key's name, roles,
//! status, and the entry that first trusted it, with its time and reason.
//!
//! The state holds a key's roles, name, revocation and the seq that first trusted it, not that
//! entry's time and reason, nor the roles withdrawn from it since. Those are read from the
//! ledger by walking it back from the verified head through each entry's `prev` link: every
//! entry read is the one the verified chain names (entries are content-addressed), no signature
//! is checked again, and the walk costs one object read per ledger entry.

use crate::crypto::keys::Fingerprint;
use crate::format::entry::{Body, Role};
use crate::format::id::ObjectId;
use crate::format::revocation::RevocationKind;
use crate::repo::ledger::read_entry;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::State;
use serde::Serialize;
use std::collections::BTreeMap;

/// One key as listed (`schema/key-list.schema.json`).
#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// What people call it (format 4), if a key-trust named it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The roles it holds now, sorted (none once revoked: it holds them no more, but the state
    /// keeps them to say what it held).
    pub roles: Vec<Role>,
    /// `trusted` or `revoked`.
    pub status: &'static str,
    /// Seq of the entry that first trusted it (genesis for the first root key).
    pub since: u64,
    /// That entry's time.
    pub since_time: String,
    /// That entry's id.
    pub since_entry: ObjectId,
    /// Why it was trusted, as that key-trust says (absent for the genesis key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Roles withdrawn from it since (FORMAT.md §5.3), in the order withdrawn.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withdrawn: Vec<Role>,
    /// Seq of the entry that revoked it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<u64>,
    /// Which way it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation: Option<RevocationKind>,
}

/// What the ledger says of one key that the state does not.
#[derive(Default)]
struct Found {
    since: Option<(ObjectId, String, Option<String>)>,
    withdrawn: Vec<Role>,
}

/// Every key the registry ever trusted, in the order trusted. Walks the whole ledger (see the
/// module documentation).
pub fn list(reg: &Registry, state: &State) -> Result<Vec<KeyView>, RegistryError> {
    let mut found: BTreeMap<&Fingerprint, Found> = BTreeMap::new();
    let mut next = Some(state.head());
    while let Some(id) = next {
        let entry = read_entry(reg.store(), &id).map_err(|e| {
            RegistryError::corrupt_object(reg.store(), &id, format!("entry {id}: {e}"))
        })?;
        next = entry.header.prev;
        let seq = entry.header.seq;
        let mut since = |fp: &Fingerprint, reason: Option<&str>| {
            if let Some((key, ks)) = state.keys().get_key_value(fp)
                && ks.since == seq
            {
                found.entry(key).or_default().since =
                    Some((id, entry.header.time.clone(), reason.map(str::to_string)));
            }
        };
        match &entry.body {
            Body::Genesis(_) => since(&entry.header.actor, None),
            Body::KeyTrust(t) => since(&t.key.fingerprint, Some(&t.reason)),
            Body::KeyWithdraw(w) => {
                if let Some((key, _)) = state.keys().get_key_value(&w.fingerprint) {
                    found.entry(key).or_default().withdrawn.insert(0, w.role);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (fp, ks) in state.keys() {
        let f = found.remove(fp).unwrap_or_default();
        let (since_entry, since_time, reason) = f.since.ok_or_else(|| RegistryError::Config {
            path: reg.path().join("ledger"),
            detail: format!("no entry at seq {} trusts key {fp}", ks.since),
        })?;
        out.push(KeyView {
            fingerprint: fp.clone(),
            name: ks.name.clone(),
            roles: ks.roles.iter().copied().collect(),
            status: if ks.revoked.is_some() {
                "revoked"
            } else {
                "trusted"
            },
            since: ks.since,
            since_time,
            since_entry,
            reason,
            withdrawn: f.withdrawn,
            revoked: ks.revoked,
            revocation: ks.revoked.map(|_| RevocationKind::of(ks.compromised)),
        });
    }
    // In the order they were trusted: fingerprints carry no order a person cares about.
    out.sort_by(|a, b| (a.since, &a.fingerprint).cmp(&(b.since, &b.fingerprint)));
    Ok(out)
}

/// How a key is named for people: `alice, duty operator (0123…)`, or its fingerprint alone
/// when it has no name.
pub fn named(state: &State, fp: &Fingerprint) -> String {
    match state.key_name(fp) {
        Some(name) => format!("{name} ({fp})"),
        None => fp.to_string(),
    }
}
