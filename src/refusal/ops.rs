//! The writes of a registry's life and what they serve: checkout and verify, lifecycle,
//! re-approval, purge, drift and its outbox. The classes and hints of their errors.
#![deny(clippy::wildcard_enum_match_arm)]

use super::registry::{registry, store_class};
use super::state::resolve;
use super::{Class, Judged, Refusal, classified, exists, output_refused};
use crate::ops::checkout::CheckoutError;
use crate::ops::drift::DriftError;
use crate::ops::gc::PurgeError;
use crate::ops::lifecycle::LifecycleError;
use crate::repo::registry::RegistryError;
use crate::state::StateError;

impl From<CheckoutError> for Refusal {
    fn from(e: CheckoutError) -> Self {
        classified(e, |e| {
            match e {
            CheckoutError::Registry(r) => registry(r),
            CheckoutError::Io(_) => (Class::IoFailure, None),
            // A checkout writes many files: the hint says none of them was left.
            CheckoutError::Exists(_) => {
                let (class, hint) = exists();
                (class, hint.map(|h| format!("nothing was written: {h}")))
            }
            CheckoutError::Output(o) => output_refused(o),
            CheckoutError::Revoked(_) => (Class::Refused, None),
            CheckoutError::Blocked { spec, block, .. } => (
                Class::Refused,
                Some(match block {
                    crate::state::Block::Suspended => format!("check the model, then `reg reapprove {spec} --reason TEXT --key OPERATOR.pem`; or revoke it"),
                    crate::state::Block::Denied => "`reg deny list` shows the denials; only a root key lifts one (`reg deny lift`)".to_string(),
                    crate::state::Block::Policy => "`reg policy show` shows the policy; revoke or deprecate the model, or have root change the policy".to_string(),
                }),
            ),
            CheckoutError::InsideRegistry(_) => (
                Class::InvalidInput,
                Some("write it outside `.registry/`, which holds only what reg writes there".into()),
            ),
            CheckoutError::Purged { spec, .. } => (
                Class::Refused,
                Some(format!(
                    "nothing is damaged: a purged model's bytes are gone for good, so `reg fsck` counts nothing missing; `reg show {spec}` shows its record and history"
                )),
            ),
            CheckoutError::Artifact {
                source: crate::repo::store::StoreError::Output { .. },
                ..
            } => (
                Class::IoFailure,
                Some("nothing was left at the destination, and the store is intact: make room there, or choose another place".into()),
            ),
            CheckoutError::Artifact { source, .. } => (
                store_class(source),
                Some("the store was altered or damaged: run `reg fsck`".into()),
            ),
        }
        })
    }
}

impl From<LifecycleError> for Refusal {
    fn from(e: LifecycleError) -> Self {
        classified(e, |e| match e {
            LifecycleError::Registry(r) => registry(r),
            LifecycleError::Resolve(r) => resolve(r),
            LifecycleError::PlanWithoutRevocation => (Class::Refused, None),
            LifecycleError::OutOfPolicy { .. } => (
                Class::Refused,
                Some(format!(
                    "`reg policy show` shows the policy; {OUT_OF_POLICY}"
                )),
            ),
        })
    }
}

impl From<crate::ops::reapprove::ReapproveError> for Refusal {
    fn from(e: crate::ops::reapprove::ReapproveError) -> Self {
        use crate::ops::reapprove::ReapproveError as E;
        classified(e, |e| match e {
            E::Registry(r) => registry(r),
            E::Resolve(r) => resolve(r),
        })
    }
}

impl From<PurgeError> for Refusal {
    fn from(e: PurgeError) -> Self {
        classified(e, |e| match e {
            PurgeError::Registry(r) => registry(r),
            PurgeError::Resolve(r) => resolve(r),
        })
    }
}

impl From<DriftError> for Refusal {
    fn from(e: DriftError) -> Self {
        classified(e, drift)
    }
}

fn drift(e: &DriftError) -> Judged {
    match e {
        DriftError::Registry(RegistryError::Replica(_)) => (
            Class::Refused,
            Some("at a replica, record it in the outbox: the same `reg drift record` with --outbox; `reg drift export OUT` then carries the outbox home".into()),
        ),
        DriftError::Registry(r) => registry(r),
        DriftError::Resolve(r) => resolve(r),
        DriftError::NotAnObject | DriftError::Invalid(_) => (Class::Refused, None),
    }
}

impl From<crate::ops::drift::OutboxError> for Refusal {
    fn from(e: crate::ops::drift::OutboxError) -> Self {
        use crate::ops::drift::OutboxError as E;
        classified(e, |e| {
            match e {
            E::Registry(r) => registry(r),
            E::Drift(d) => drift(d),
            E::Reporter(_) => (
                Class::Refused,
                Some("a drift report is signed by a key this registry trusts with the reporter role: `reg key list` shows them".into()),
            ),
            E::Envelope(_) => (Class::Refused, None),
            E::AlreadyThere(_) => (
                Class::Refused,
                Some("the same report is waiting in the outbox; `reg drift export OUT` sends it".into()),
            ),
            E::OutboxFile { .. } => (
                Class::Refused,
                Some("only reg writes `.registry/outbox/`: remove the file named (nothing was exported)".into()),
            ),
            E::Exists(_) => exists(),
            E::Output(o) => output_refused(o),
            E::Io(_) => (Class::IoFailure, None),
            E::File { .. } => (
                Class::Refused,
                Some("the report file is damaged, cut short or not one reg writes; export it again at the replica (nothing was recorded)".into()),
            ),
            E::Foreign { .. } => (
                Class::Refused,
                Some("import a report file into the registry whose replica wrote it (nothing was recorded)".into()),
            ),
            E::Refused {
                source: StateError::ReportRecorded { .. },
                ..
            } => (
                Class::Refused,
                Some("this file, or one holding the same report, was imported before; nothing was recorded: `reg drift export OUT` at the replica leaves out reports its ledger already holds once it has the home's history".into()),
            ),
            E::Refused { .. } => (
                Class::Refused,
                Some("nothing was recorded: the whole file is refused; export again at the replica without the report named (or trust its reporter first)".into()),
            ),
        }
        })
    }
}

/// What to do with a model out of policy (FORMAT.md §5.5), for every message that meets one.
const OUT_OF_POLICY: &str = "a model out of policy is not promoted, made active or allowed by the gate: revoke it, or a root key changes the policy";
