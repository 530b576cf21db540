//! A successor registry (FORMAT.md §5.2): what a site does once every root key of its registry
//! is lost. Nobody can sign in that registry again (its history stays readable), so the site
//! makes a new one with a new root, whose genesis records, signed by that root, which registry
//! it continues and up to which entry this site verified it; the models come over from their
//! original signed records (`reg checkout --bundle`, then `reg add`).
//!
//! What the genesis names is read from the old registry's verified history, never from what its
//! medium claims: its ledger is replayed against this host's pin (and the pin's floor, and the
//! host's record of what it verified before), and its checkpoint's head is what is recorded. An
//! unpinned registry was checked only against itself, so it is refused. Its freshness is not
//! required: a registry whose roots are lost may well have expired, and the successor records
//! what this site verified, not a claim that it is current.

use crate::crypto::keys::{Fingerprint, SecretKey};
use crate::format::entry::Succession;
use crate::format::id::ObjectId;
use crate::repo::ledger::Verified;
use crate::repo::registry::{OpenOptions, Registry, RegistryError};
use crate::repo::trust::PinStatus;
use crate::state::{GENESIS_NONCE_LEN, State};
use std::path::Path;

/// Why a registry could not be succeeded.
#[derive(Debug, thiserror::Error)]
pub enum SuccessionError {
    /// The registry to succeed is not pinned on this host: its history proves nothing.
    #[error(
        "registry {registry} (root {root}) is not pinned on this host: its history was checked only against itself, so a successor cannot name it"
    )]
    Unpinned {
        /// The registry.
        registry: ObjectId,
        /// Its genesis root.
        root: Fingerprint,
    },
    /// Either registry refused: the old one's history does not verify (or is older than this
    /// host verified), or the new one cannot be made.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// What a successor of `old` records: its id, and the seq and id of the head of its history as
/// this host verifies it now (in full, against its pin).
pub fn of(old: &Registry) -> Result<Succession, SuccessionError> {
    if *old.pin() == PinStatus::Unpinned {
        return Err(SuccessionError::Unpinned {
            registry: *old.id(),
            root: old.root().clone(),
        });
    }
    let replay = old.verify(&mut |_| {})?;
    old.record(&replay.state, &replay.checkpoint)?;
    Ok(Succession {
        head: replay.checkpoint.head,
        registry: *old.id(),
        seq: replay.checkpoint.seq,
    })
}

/// Creates, in `parent/.registry`, the successor of the registry `succeeds` names, with `root`
/// as its root of trust, and pins it on this host ([`Registry::init`]).
pub fn init(
    parent: &Path,
    root: &SecretKey,
    recipients: Vec<String>,
    nonce: Option<&[u8; GENESIS_NONCE_LEN]>,
    succeeds: Succession,
    opts: &OpenOptions,
) -> Result<(Registry, Verified<State>), SuccessionError> {
    Ok(Registry::init_successor(
        parent,
        root,
        recipients,
        nonce,
        Some(succeeds),
        opts,
    )?)
}
