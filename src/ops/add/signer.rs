//! Who signed a manifest (FORMAT.md §7.5): exactly one signature, the publisher's, by a key the
//! registry trusts as publisher now, or, for a record registered already, the key that signed
//! it then. Checked on the envelope alone, before the payload is interpreted or an artifact
//! byte is read.

use crate::bundle::BundleError;
use crate::crypto::envelope::Unverified;
use crate::crypto::keys::Fingerprint;
use crate::format::id::ObjectId;
use crate::state::{State, StateError, decode_key};

/// The one signer of a manifest envelope, its publisher ([`Unverified::single_signer`]).
fn publisher_of(envelope: &Unverified) -> Result<&Fingerprint, BundleError> {
    envelope.single_signer().map_err(|_| {
        BundleError::Unauthorized(format!(
            "a manifest has exactly one signature, the publisher's; this one has {}",
            envelope.signatures.len()
        ))
    })
}

/// Checks that the manifest envelope is signed, once, by a key the state trusts as publisher:
/// on the envelope alone, so that it runs before the payload is interpreted (FORMAT.md §7.5);
/// the payload's `publisher` is then checked to be that signer.
pub fn check_publisher(state: &State, envelope: &Unverified) -> Result<(), BundleError> {
    let unauthorized = |why: String| Err(BundleError::Unauthorized(why));
    let fp = publisher_of(envelope)?;
    let ks = match state.may_publish(fp) {
        Ok(ks) => ks,
        Err(StateError::UnknownSigner(_)) => {
            return unauthorized(format!(
                "publisher key {fp} is not trusted by this registry"
            ));
        }
        Err(StateError::RevokedSigner { at, .. }) => {
            return unauthorized(format!("publisher key {fp} was revoked at entry {at}"));
        }
        Err(StateError::MissingRole { held, .. }) => {
            let roles: Vec<&str> = held.iter().map(|r| r.name()).collect();
            return unauthorized(format!(
                "key {fp} is trusted as {} but not as publisher",
                roles.join(", ")
            ));
        }
        Err(other) => return unauthorized(other.to_string()),
    };
    let key =
        decode_key(fp, &ks.public_key).map_err(|e| BundleError::Unauthorized(e.to_string()))?;
    envelope
        .verify_single(&key)
        .map_err(|e| BundleError::Unauthorized(format!("does not verify: {e}")))
}

/// Checks the signer of the manifest envelope `id` at `reg add`. An envelope that is a record
/// registered already, byte for byte, was admitted by a ledger entry that proved its publisher
/// was trusted then; its bundle can restore the model's stored objects even after that key was
/// revoked or lost the role, as any registered model's can, and its signature is checked with
/// the key's bytes as the state keeps them (the key as trusted when the record was added: a
/// fingerprint names one key). Any other envelope, a new model or the same manifest signed
/// again, needs a publisher trusted now ([`check_publisher`]): a revoked key's new signatures
/// admit nothing.
pub fn check_signer(
    state: &State,
    envelope: &Unverified,
    id: &ObjectId,
) -> Result<(), BundleError> {
    if !state.models().contains_key(id) {
        return check_publisher(state, envelope);
    }
    let fp = publisher_of(envelope)?;
    let ks = state.keys().get(fp).ok_or_else(|| {
        BundleError::Unauthorized(format!("publisher key {fp} is not known to this registry"))
    })?;
    let key =
        decode_key(fp, &ks.public_key).map_err(|e| BundleError::Unauthorized(e.to_string()))?;
    envelope
        .verify_single(&key)
        .map_err(|e| BundleError::Unauthorized(format!("does not verify: {e}")))
}
