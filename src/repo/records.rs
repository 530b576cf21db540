//! Reading a model's record (FORMAT.md §7.1) from the store, for what is judged from it after
//! admission: its bytes hash-checked, at most [`MANIFEST_LIMIT`], parsed as a signed manifest;
//! and the manifest the policy judges a model by (§5.5), read only when the policy refuses some
//! format. One reader, so that the gate, the writers, the listings and fsck read a record the
//! same way and name a damaged one the same way.

use crate::format::id::ObjectId;
use crate::format::manifest::{MANIFEST_LIMIT, Manifest, SignedManifest};
use crate::repo::registry::RegistryError;
use crate::repo::store::Store;
use crate::state::State;

/// The record `id`, as stored and parsed; a corrupt or malformed one is a `CorruptObject`.
pub fn read_record(store: &Store, id: &ObjectId) -> Result<SignedManifest, RegistryError> {
    let bytes = store.get(id, MANIFEST_LIMIT)?;
    SignedManifest::parse(bytes)
        .map_err(|e| RegistryError::corrupt_object(store, id, format!("record {id}: {e}")))
}

/// The manifest of record `id` when `state`'s policy refuses some format (what
/// [`State::out_of_policy`] and [`State::blocked`] need); `None`, without a read, otherwise.
pub fn policy_manifest(
    store: &Store,
    state: &State,
    id: &ObjectId,
) -> Result<Option<Manifest>, RegistryError> {
    if state.policy().refuse_formats.is_empty() {
        return Ok(None);
    }
    Ok(Some(read_record(store, id)?.manifest))
}
