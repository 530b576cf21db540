//! Models (FORMAT.md §5.6, §5.10): ingestion (`add`, and the record rule an `add` must pass)
//! and the purge of a revoked model's artifacts.

use super::{ModelState, State, StateError};
use crate::crypto::keys::Fingerprint;
use crate::format::claim::RecordClaim;
use crate::format::entry::{Add, Purge};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::format::names;
use crate::util::encoding::b64_encode;
use std::collections::BTreeSet;

impl State {
    /// The rule of an `add` entry on its own fields and the state (FORMAT.md §5.6): a valid
    /// name and version, artifacts sorted and unique and none denied, a record and a
    /// `name@version` not registered yet, and a publisher named exactly where the format has
    /// one (format 4). The record itself is [`State::check_record`]'s.
    pub fn check_add(&self, a: &Add) -> Result<(), StateError> {
        names::check("model name", &a.name)?;
        names::check_version(&a.version)?;
        if a.artifacts.is_empty() || a.artifacts.windows(2).any(|w| w[0] >= w[1]) {
            return Err(StateError::AddArtifacts);
        }
        if a.publisher.is_some() != self.has_provenance() {
            return Err(StateError::AddPublisher {
                version: self.format_version,
            });
        }
        if a.encrypted && !self.has_provenance() {
            return Err(StateError::NeedsFormat {
                what: "an add's `encrypted`",
                needs: super::PROVENANCE_FORMAT,
                version: self.format_version,
            });
        }
        self.check_not_denied(|| format!("{}@{}", a.name, a.version), &a.artifacts)?;
        if let Some(m) = self.models.get(&a.record) {
            return Err(StateError::AlreadyRegistered {
                spec: format!("{}@{}", m.name, m.version),
                record: a.record,
            });
        }
        if let Some((other, _)) = self.find(&a.name, &a.version) {
            return Err(StateError::NameTaken {
                spec: format!("{}@{}", a.name, a.version),
                record: *other,
            });
        }
        Ok(())
    }

    /// Applies an `add` (entry `id`, signed by `actor`) that [`State::check_add`] passed: a
    /// REGISTERED model, resting (format 4) on its publisher and the admitting operator.
    pub(super) fn apply_add(&mut self, id: ObjectId, actor: &Fingerprint, a: &Add) {
        let approvers = if self.has_provenance() {
            BTreeSet::from([actor.clone()])
        } else {
            BTreeSet::new()
        };
        self.index_name(&a.name, &a.version, a.record);
        self.models.insert(
            a.record,
            ModelState {
                added: id,
                approvers,
                artifacts: a.artifacts.clone(),
                entry: id,
                name: a.name.clone(),
                drift: None,
                encrypted: a.encrypted,
                publisher: a.publisher.clone(),
                purged: false,
                suspended: None,
                state: LifecycleState::Registered,
                version: a.version.clone(),
            },
        );
    }

    /// The record rule of an `add` entry (FORMAT.md §5.6), checked against the state before the
    /// entry: the record's publisher may publish at this point ([`State::may_publish`]), its key
    /// is the one the record's signature was verified with; and the entry's name, version and
    /// artifacts are the record's. Without it an operator key alone could admit bytes no
    /// publisher signed. Reading the record and checking its signature is the caller's
    /// ([`crate::format::claim::claim`]), so that replay can do that part on every core.
    pub fn check_record(&self, add: &Add, claim: &RecordClaim) -> Result<(), StateError> {
        let refuse = |detail: String| {
            Err(StateError::RecordRefused {
                record: add.record,
                detail,
            })
        };
        if claim.format_4_fields && !self.has_provenance() {
            return Err(StateError::NeedsFormat {
                what: "a record with an owner or a license (`reg bundle pack --owner/--license`)",
                needs: super::PROVENANCE_FORMAT,
                version: self.format_version,
            });
        }
        let fp = &claim.publisher;
        let ks = match self.may_publish(fp) {
            Ok(ks) => ks,
            Err(StateError::UnknownSigner(_)) => {
                return refuse(format!(
                    "it is signed by key {fp}, which this registry does not trust"
                ));
            }
            Err(StateError::RevokedSigner { at, .. }) => {
                return refuse(format!(
                    "it is signed by publisher key {fp}, revoked at entry {at}"
                ));
            }
            Err(StateError::MissingRole { held, .. }) => {
                let roles: Vec<&str> = held.iter().map(|r| r.name()).collect();
                return refuse(format!(
                    "it is signed by key {fp}, which is trusted as {} but not as publisher",
                    roles.join(", ")
                ));
            }
            Err(other) => return refuse(other.to_string()),
        };
        if let Some(named) = &add.publisher
            && named != fp
        {
            return refuse(format!(
                "the entry names publisher {named}, the record is signed by {fp}"
            ));
        }
        if claim.verified_with.as_ref().map(|k| b64_encode(k)) != Some(ks.public_key.clone()) {
            return refuse(format!(
                "its signature was not verified with the key of publisher {fp}"
            ));
        }
        if claim.name != add.name || claim.version != add.version {
            return refuse(format!(
                "the entry says {}@{}, the record says {}@{}",
                add.name, add.version, claim.name, claim.version
            ));
        }
        if claim.artifacts != add.artifacts {
            return refuse(format!(
                "the entry lists {} artifact(s) that are not exactly the record's {}",
                add.artifacts.len(),
                claim.artifacts.len()
            ));
        }
        Ok(())
    }

    /// The rule of a purge (FORMAT.md §5.10): a REVOKED model not purged yet, and exactly its
    /// [`State::purgeable`] artifacts.
    pub fn check_purge(&self, p: &Purge) -> Result<(), StateError> {
        let m = self.model(&p.model)?;
        if m.state != LifecycleState::Revoked || m.purged {
            return Err(StateError::NotPurgeable {
                spec: self.spec(&p.model),
                state: m.state,
                purged: m.purged,
            });
        }
        if p.blobs != self.purgeable(&p.model) {
            return Err(StateError::PurgeBlobs);
        }
        Ok(())
    }

    /// Applies a purge (entry `seq`) that [`State::check_purge`] passed, with the denial of
    /// the model's hashes it may carry. The model's history (its `entry` chain) is unchanged:
    /// the purge is not a move.
    pub(super) fn apply_purge(&mut self, seq: u64, p: &Purge) {
        if let Some(m) = self.models.get_mut(&p.model) {
            m.purged = true;
        }
        if p.deny {
            self.deny_model(seq, &p.model);
        }
    }

    /// The artifacts of `model` that no other unpurged model holds, sorted: what a purge deletes.
    ///
    /// Never a record: an artifact whose bytes are another model's record (a publisher can ship
    /// one) stays, since replay reads every record to check its `add` (FORMAT.md §5.6, §5.10).
    pub fn purgeable(&self, model: &ObjectId) -> Vec<ObjectId> {
        let Some(m) = self.models.get(model) else {
            return Vec::new();
        };
        m.artifacts
            .iter()
            .filter(|a| {
                !self.models.contains_key(a)
                    && !self.models.iter().any(|(id, o)| {
                        id != model && !o.purged && o.artifacts.binary_search(a).is_ok()
                    })
            })
            .copied()
            .collect()
    }
}
