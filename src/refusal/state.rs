//! The rules of the state (a refusal, but for a blank reason), the names that did not resolve
//! and the staleness of a registry: the classes and hints of `StateError`, `ResolveError` and
//! `Staleness`, which every write and read meets.
#![deny(clippy::wildcard_enum_match_arm)]

use super::{Class, Judged, Refusal, classified};
use crate::state::StateError;
use crate::state::resolve::ResolveError;
use std::fmt::Display;

impl From<StateError> for Refusal {
    fn from(e: StateError) -> Self {
        classified(e, state)
    }
}

impl From<ResolveError> for Refusal {
    fn from(e: ResolveError) -> Self {
        classified(e, resolve)
    }
}

/// A rule of the state refused the action (exit 1), except a blank reason, a usage error
/// (exit 2) like a missing one; the command line refuses both before anything runs.
pub(super) fn state(e: &StateError) -> Judged {
    // Every rule of the state is a refusal but the blank reason; the hint's match below names
    // every variant, so a new one is still placed on purpose.
    let class = if matches!(e, StateError::EmptyReason) {
        Class::InvalidInput
    } else if matches!(e, StateError::BadIndex(_)) {
        Class::Tampered
    } else {
        Class::Refused
    };
    let hint = match e {
        StateError::MissingRole { role, .. } => Some(format!(
            "this action must be signed with a key trusted as {role}; `reg key list` shows the keys and their roles"
        )),
        StateError::UnknownSigner(_) => Some(
            "`reg key list` shows the trusted keys; a root key adds one with `reg key trust`".into(),
        ),
        StateError::RevokedSigner { .. } => Some("use a key that has not been revoked".into()),
        StateError::UnknownKey(_) => Some("`reg key list` shows the trusted keys".into()),
        StateError::LastRoot(_) => Some(
            "trust another root key first (`reg key trust NEW.pub --role root`), then revoke this one".into(),
        ),
        StateError::EmptyReason => Some("say why with --reason TEXT".into()),
        StateError::BadIndex(_) => Some(
            "the index is derived from the ledger: `reg fsck` checks the registry, and the next write rebuilds the index".into(),
        ),
        StateError::WrittenExpired { .. } => Some(RENEW_HINT.into()),
        StateError::NeedsFormat { .. } => Some(
            "a registry keeps the format it was made with; to use this, make a successor registry (`reg init --succeeds`, docs/GUIDE.md §8.4)".into(),
        ),
        StateError::Suspended { spec, .. } => Some(format!(
            "check the model, then `reg reapprove {spec} --reason TEXT --key OPERATOR.pem`; or revoke it"
        )),
        StateError::NotSuspended {
            revoked: false,
            spec,
        } => Some(format!(
            "only a model suspended by a compromised key is re-approved; `reg show {spec}` says whether a key it rests on was revoked, and which way"
        )),
        StateError::NotSuspended { revoked: true, .. } => Some(
            "a revoked model is never approved again; register and promote a new version instead"
                .into(),
        ),
        StateError::DeniedBytes { first, .. } => Some(format!(
            "`reg deny list` shows the denials; only a root key lifts one (`reg deny lift {first} --reason TEXT --key ROOT.pem`)"
        )),
        StateError::NotDenied(_) => Some(
            "`reg deny list` shows the denied hashes; nothing was written".into(),
        ),
        StateError::DutiesApart(duty) => Some(duties(duty)),
        StateError::LastRootWithdrawn(_) => Some(
            "trust another root key first (`reg key trust NEW.pub --role root`), then withdraw root from this one".into(),
        ),
        StateError::KeyNameTaken { .. } => Some(
            "choose another --name; `reg key list` shows the keys' names".into(),
        ),
        StateError::KeyNameFixed { .. } => Some(
            "leave out --name, or give the key's name as `reg key list` shows it".into(),
        ),
        StateError::RoleNotHeld { .. } => {
            Some("`reg key list` shows the keys and their roles".into())
        }
        StateError::OnlyRole { fingerprint, .. } => {
            Some(format!("`reg key revoke {fingerprint}` revokes the key"))
        }
        StateError::TimeBackwards { .. } => Some(
            "check this host's clock (`date`) and SOURCE_DATE_EPOCH: it reads earlier than the ledger's last entry".into(),
        ),
        StateError::NoSigningRole(_)
        | StateError::NotGenesis
        | StateError::LateGenesis
        | StateError::GenesisVersion(_)
        | StateError::GenesisKeys
        | StateError::GenesisRoles
        | StateError::GenesisSigner
        | StateError::GenesisNonce
        | StateError::Random(_)
        | StateError::KeyEncoding(_)
        | StateError::KeyRejected { .. }
        | StateError::KeyFingerprint { .. }
        | StateError::KeyBytesDiffer(_)
        | StateError::AlreadyTrusted { .. }
        | StateError::AlreadyRevoked { .. }
        | StateError::BadRecipient(_)
        | StateError::RecipientsOrder
        | StateError::PolicyFormatsOrder
        | StateError::PolicyMaxAge(_)
        | StateError::Name(_)
        | StateError::Version(_)
        | StateError::AddArtifacts
        | StateError::AlreadyRegistered { .. }
        | StateError::NameTaken { .. }
        | StateError::RecordRefused { .. }
        | StateError::UnknownModel(_)
        | StateError::NotPurgeable { .. }
        | StateError::PurgeBlobs
        | StateError::IllegalMove { .. }
        | StateError::StaleFrom { .. }
        | StateError::StalePrevious(_)
        | StateError::ActiveSlots { .. }
        | StateError::SlotsWithoutRevocation
        | StateError::NotPromoted { .. }
        | StateError::StaleSlot(_)
        | StateError::AlreadyActive { .. }
        | StateError::SlotNotSet(_)
        | StateError::LegacyNumbers
        | StateError::DriftOnRevoked(_)
        | StateError::StaleDrift(_)
        | StateError::ObservationInvalid(_)
        | StateError::ObservationModel { .. }
        | StateError::Report { .. }
        | StateError::ReportRecorded { .. }
        | StateError::AddPublisher { .. }
        | StateError::DenyWithoutRevocation
        | StateError::DenyLiftList
        | StateError::Invalid(_) => None,
    };
    (class, hint)
}

/// The fix for an entry that would join duties the policy keeps apart (FORMAT.md §5.5).
fn duties(duty: &crate::state::Duty) -> String {
    use crate::state::Duty;
    let withdraw = |fp: &dyn Display, role: &dyn Display| {
        format!("`reg key withdraw {fp} --role {role} --reason TEXT --key ROOT.pem`")
    };
    match duty {
        Duty::BothHeld(fp) => format!(
            "withdraw publisher or operator from it first ({}), then set the policy",
            withdraw(fp, &"publisher")
        ),
        Duty::Gains {
            fingerprint,
            held,
            role,
        } => format!(
            "trust another key as {role}, or withdraw {held} from this one first ({})",
            withdraw(fingerprint, held)
        ),
        Duty::OwnModel { .. } => "another operator key must sign this: under the policy (`reg policy show`) the key that published a model neither admits, promotes nor re-approves it".into(),
    }
}

/// What renews an expired registry (FORMAT.md §6.1), for every message that meets one.
pub(super) const RENEW_HINT: &str = "renew it at its home site: `reg renew --key TIMESTAMP.pem`, with a key the root trusts as `timestamp` (`reg key trust PUB --role timestamp --key ROOT.pem`), then carry the new medium; a replica imports the home site's renewal";

/// The hint for a stale registry: renewal, or a clock to check.
pub(super) fn stale(s: &crate::state::Staleness) -> String {
    match s {
        crate::state::Staleness::Expired { .. } => RENEW_HINT.into(),
        crate::state::Staleness::Future { what, .. } if what.is_entry() => "check this host's clock (`date`); if it is right, a ledger entry was signed with a clock far ahead, and since entry times only move forward no entry can follow it before that time: wait for it, or, if it is far off, make a successor registry (docs/GUIDE.md §8.4)".into(),
        crate::state::Staleness::Future { .. } => "check this host's clock (`date`); if it is right, the medium was signed with a clock far ahead: its home site renews it with a correct clock".into(),
    }
}

/// A model name that did not resolve: exit 2, the spec does not name one model (an ambiguous
/// one included, as git's ambiguous argument); the hint says how to name one.
pub(super) fn resolve(e: &ResolveError) -> Judged {
    let hint = match e {
        ResolveError::NotFound(_) | ResolveError::Ambiguous { .. } => {
            "`reg list` shows the registered models".to_string()
        }
        ResolveError::Versions { name, .. } => {
            format!(
                "name one version: `{name}@VERSION`, or `{name}@latest` for the highest release"
            )
        }
        ResolveError::NoActiveModel { active, .. } if active.is_empty() => {
            "no slot has an active model (`reg activate SLOT MODEL` sets one)".to_string()
        }
        ResolveError::NoActiveModel { active, .. } => format!(
            "the slots with an active model: {} (`reg status`)",
            active.join(", ")
        ),
    };
    (Class::InvalidInput, Some(hint))
}
