//! Moving history between sites: export, import, clone and repair. The classes and hints of
//! their errors, and of the transfer file they read and write.
#![deny(clippy::wildcard_enum_match_arm)]

use super::registry::registry;
use super::state::stale;
use super::{Class, Refusal, classified, exists, output_refused};
use crate::repo::registry::RegistryError;
use std::path::Path;

impl From<crate::ops::export::ExportError> for Refusal {
    fn from(e: crate::ops::export::ExportError) -> Self {
        use crate::format::transfer::TransferError as T;
        use crate::ops::export::ExportError as E;
        classified(e, |e| {
            match e {
            E::Registry(r) => registry(r),
            E::Foreign(_) => (
                Class::Refused,
                Some("carry back the `.registry/checkpoint` of a site that imported from this registry, or use --since-seq N".into()),
            ),
            E::Object { .. } | E::ArtifactSize { .. } | E::Transfer(T::Source { .. }) => (
                // An object that is not as its record states was changed in the store; one
                // that could not be read may be the file system's doing.
                if matches!(e, E::Object { .. }) {
                    Class::Refused
                } else {
                    Class::Tampered
                },
                Some("the store was altered or damaged; nothing was exported: run `reg fsck`, and `reg repair --from COPY` puts back damaged objects".into()),
            ),
            E::Exists(_) => exists(),
            E::Output(o) => output_refused(o),
            E::Transfer(t) if transfer_io(t) => (Class::IoFailure, None),
            // Another reg committed meanwhile: nothing is wrong but the timing (exit 2).
            E::Changed | E::Io(_) => (Class::IoFailure, None),
            E::Transfer(t) => (
                transfer_class(t),
                Some("the transfer file is damaged, cut short or not one reg writes; export it again from the home site".into()),
            ),
            E::PastHead { .. } | E::NothingNew { .. } => (
                Class::InvalidInput,
                Some("`reg status --code` shows this registry's head".into()),
            ),
        }
        })
    }
}

impl From<crate::ops::import::ImportError> for Refusal {
    fn from(e: crate::ops::import::ImportError) -> Self {
        use crate::ops::import::ImportError as E;
        let again = "nothing was imported; export again at the home site with `reg export OUT --since .registry/checkpoint` (this site's checkpoint, carried back)";
        classified(e, |e| {
            match e {
            E::Registry(r) => registry(r),
            E::Unpinned(_) => (
                Class::Unpinned,
                Some("pin this registry first: `reg trust add FINGERPRINT --head CODE`, with its root key's fingerprint and the head code its sending site's `reg status --code` prints, both read to you out of band".into()),
            ),
            E::Foreign { .. } => (
                Class::Refused,
                Some("this file is for another registry; `reg status` shows this one's id".into()),
            ),
            E::NotFull { what, .. } => (
                Class::Refused,
                Some(format!("export the whole registry at the home site (`reg export OUT`, without --since) and {}", if *what == "reset" { "reset from that: `reg import --reset OUT`" } else { "clone from that" })),
            ),
            E::BehindThisHost { pinned, .. } => (
                Class::RollbackOrFork,
                Some(match pinned {
                    Some(p) => format!("this host verified another history of this registry, at `{p}`: if that replica forked (wrote entries of its own), replace its history with the home site's there, `reg --registry {p} import --reset FULL` with a full export of home, then clone again; if this medium is older than what that copy holds, use a newer one"),
                    None => "this host verified a newer or another history of this registry: use a newer medium; if a replica of it on this host forked, replace its history there with `reg import --reset FULL` (a full export of home), then clone again".into(),
                }),
            ),
            E::NoPin { root, .. } => (
                Class::Unpinned,
                Some(format!("check the root key's fingerprint {root} with the registry's owner over a channel the medium's holder does not control, then clone again with --trust {root}")),
            ),
            E::Rollback { incoming, local, .. } => (
                Class::RollbackOrFork,
                Some(format!("a reset replaces a history that diverged from the home site's; it never goes back to an older point of the same history: nothing was changed; if this site's {} entr{} after the file's head were written here (it forked from a home that has not moved since), the home site signs a new entry first (its next real change, or `reg renew` where a timestamp key exists), exports in full (`reg export FULL`), and `reg import --reset FULL` here replaces them; otherwise bring a newer full export of the home site", local.saturating_sub(*incoming), if local.saturating_sub(*incoming) == 1 { "y" } else { "ies" })),
            ),
            E::WouldDrop { seen_seq, .. } => (
                Class::RollbackOrFork,
                Some(format!("nothing was changed; bring a full export of the home site that holds entry {seen_seq} (`reg export FULL` there)")),
            ),
            E::NotReplica(_) => (
                Class::Refused,
                Some("nothing was changed; reset only a replica; if this registry is one (copied by hand, or cloned by an older reg), say so: `reg import --reset --replica FULL`".into()),
            ),
            E::ResetKept { kept, .. } => (
                Class::IoFailure,
                Some(format!("the home site's history is in place here and nothing of the old registry was removed: if `{}/outbox` exists, move it to `.registry/outbox` (reports not yet sent home); keep or delete the rest", kept.display())),
            ),
            E::Fork { local_kind: Some("drift"), .. } => (
                Class::RollbackOrFork,
                Some("this site wrote its own `drift` entry, so its ledger is no longer a copy of the home site's (a replica records drift with `reg drift record --outbox`); nothing was imported; to replace this site's history with the home site's, keeping the outbox: `reg import --reset FULL` with a full export of home (`reg export FULL` there; add --replica if this site has no replica marker)".into()),
            ),
            E::Fork { .. } => (
                Class::RollbackOrFork,
                Some("the two sites' histories diverged: a replica never writes its own entries; nothing was imported; if this site is the replica, replace its history with the home site's, keeping the outbox: `reg import --reset FULL` with a full export of home (`reg export FULL` there; add --replica if this site has no replica marker)".into()),
            ),
            E::Gap { .. } => (Class::Refused, Some(again.to_string())),
            E::Stale(s) => (Class::Refused, Some(stale(s))),
            E::Length { .. } => (
                Class::Tampered,
                Some("the transfer file was altered or damaged: a frame is not as long as its object; nothing was changed; write it again at the home site with `reg export`".into()),
            ),
            E::Entry { .. } | E::Missing { .. } | E::Extra { .. } | E::Checkpoint(_) => (
                Class::Tampered,
                Some(format!("the transfer file does not verify against this registry's trust and history; {again}")),
            ),
            E::Transfer(t) if transfer_io(t) => (Class::IoFailure, None),
            E::Io(_) | E::Store(_) => (Class::IoFailure, None),
            // A record this site verified no longer parses: its store changed under it.
            E::UnreadableRecord { .. } => (
                Class::Tampered,
                Some("nothing was imported; run `reg fsck`, and `reg repair --from SRC` if this site's record is damaged".into()),
            ),
            E::Transfer(t) => (
                transfer_class(t),
                Some("the transfer file is damaged, cut short or not one reg writes; check it with `reg export --verify FILE`, and export it again at the home site".into()),
            ),
            }
        })
    }
}

impl From<crate::ops::repair::RepairError> for Refusal {
    fn from(e: crate::ops::repair::RepairError) -> Self {
        use crate::ops::repair::RepairError as E;
        classified(e, |e| {
            match e {
            E::Registry(r) => registry(r),
            E::Source { .. } => (
                Class::InvalidInput,
                Some("give --from a copy of this registry (its directory or `.registry`) or a transfer file written by `reg export`".into()),
            ),
            E::Foreign { .. } => (
                Class::Refused,
                Some("repair only from a copy or an export of this same registry; nothing was changed".into()),
            ),
            E::Transfer { source, .. } => (
                transfer_class(source),
                Some("the transfer file is damaged, cut short or not one reg writes; check it with `reg export --verify FILE`".into()),
            ),
            E::Incomplete { .. } => (
                Class::Refused,
                Some("what could be restored was; repair the rest from another copy (another site's registry, or a full `reg export` of it), then run `reg fsck`".into()),
            ),
            E::Unverified(_) => (
                Class::Tampered,
                Some("restore what is listed above, from another copy if this one lacks it, then run `reg repair` again".into()),
            ),
            E::DryRunStopped(_) => (
                Class::Refused,
                Some("run `reg repair` without --dry-run to restore what is listed, then `reg repair --dry-run` shows the rest".into()),
            ),
            E::Io(_) => (Class::IoFailure, None),
        }
        })
    }
}

impl From<crate::ops::clone::CloneError> for Refusal {
    fn from(e: crate::ops::clone::CloneError) -> Self {
        Refusal::from_clone(e, None)
    }
}

impl Refusal {
    /// A clone's error; `src_registry` is SRC when it is a registry directory (not a transfer
    /// file), which the hint for an existing destination then tells to export first.
    pub fn from_clone(e: crate::ops::clone::CloneError, src_registry: Option<&Path>) -> Refusal {
        use crate::ops::clone::CloneError as E;
        use crate::ops::import::ImportError as I;
        match e {
            // An existing destination is exit 2, as every "already exists" (README), with a
            // hint of its own; every other import error is mapped where import's are.
            E::Import(e) => match e.as_ref() {
                I::Registry(RegistryError::AlreadyExists(dot)) => {
                    let hint = match src_registry {
                        Some(src) => format!(
                            "to bring SRC's newer history into that registry, export it at SRC since that registry's checkpoint, then import it there: `reg --skip-rollback-check --registry {} export FILE --since {}` (the import checks every entry against that registry; recording SRC's newer head on this host would refuse the older copy before it could import), then `reg --registry {} import FILE`; to clone, choose another directory",
                            src.display(),
                            dot.join("checkpoint").display(),
                            dot.display()
                        ),
                        None => format!(
                            "to bring the home site's newer history into that registry, import it there: `reg --registry {} import FILE`; to clone, choose another directory",
                            dot.display()
                        ),
                    };
                    Refusal::new(
                        Class::InvalidInput,
                        RegistryError::AlreadyExists(dot.clone()),
                        Some(hint),
                    )
                }
                I::Registry(_)
                | I::Transfer(_)
                | I::Unpinned(_)
                | I::NotFull { .. }
                | I::BehindThisHost { .. }
                | I::NoPin { .. }
                | I::Foreign { .. }
                | I::Rollback { .. }
                | I::ResetKept { .. }
                | I::NotReplica(_)
                | I::WouldDrop { .. }
                | I::Fork { .. }
                | I::Gap { .. }
                | I::Entry { .. }
                | I::Stale(_)
                | I::Missing { .. }
                | I::Extra { .. }
                | I::Length { .. }
                | I::UnreadableRecord { .. }
                | I::Checkpoint(_)
                | I::Store(_)
                | I::Io(_) => (*e).into(),
            },
            E::Export(e) => e.into(),
            E::Registry(e) => e.into(),
        }
    }
}

/// Whether a transfer file failed to be read or written (exit 2), rather than found damaged
/// (exit 1).
fn transfer_io(t: &crate::format::transfer::TransferError) -> bool {
    use crate::format::transfer::TransferError as T;
    match t {
        T::Io { .. } => true,
        T::BadMagic
        | T::Version { .. }
        | T::Truncated(_)
        | T::Empty { .. }
        | T::TooLarge { .. }
        | T::TooMany { .. }
        | T::Header(_)
        | T::Checkpoint(_)
        | T::EntryIds(_)
        | T::Frame { .. }
        | T::HashMismatch { .. }
        | T::Trailer(_)
        | T::Source { .. } => false,
    }
}

/// A transfer file found damaged (exit 1): one whose bytes do not hash to what it announces, or
/// whose checkpoint does not vouch for its head, was altered; the rest of what it breaks is a
/// rule of the format (a truncated or foreign file, a limit).
fn transfer_class(t: &crate::format::transfer::TransferError) -> Class {
    use crate::format::transfer::TransferError as T;
    match t {
        T::HashMismatch { .. } | T::Checkpoint(_) | T::Source { .. } => Class::Tampered,
        T::Io { .. }
        | T::BadMagic
        | T::Version { .. }
        | T::Truncated(_)
        | T::Empty { .. }
        | T::TooLarge { .. }
        | T::TooMany { .. }
        | T::Header(_)
        | T::EntryIds(_)
        | T::Frame { .. }
        | T::Trailer(_) => Class::Refused,
    }
}
