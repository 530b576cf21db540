//! The one place where errors become what the user sees: one line saying what failed and where,
//! an optional `hint:` line with the fix, and a fixed exit code (README, "Exit codes").
//!
//! Every command returns a [`CommandError`] (the pattern of jj's `command_error.rs`), and every
//! library error becomes one through its `From` impl below, which decides its exit code and
//! hint: a library error type without one is a compile error at the `?` that would return it,
//! never a silent exit 2. Plain usage errors of the command line are [`CommandError::usage`].
//!
//! Every match on a library error names each of its variants: there is no wildcard arm (the
//! lint below refuses one), so a variant added to the library does not compile until it is
//! given its exit code and hint here, on purpose. To place a new error type: a `From` impl
//! calling [`classified`] with a function from its variants to a kind and hint.
#![deny(clippy::wildcard_enum_match_arm)]

use reg::bundle::BundleError;
use reg::crypto::keys::KeyError;
use reg::format::schema::Violation;
use reg::gate::decision_log::LogError;
use reg::ops::add::AddError;
use reg::ops::checkout::CheckoutError;
use reg::ops::config::ConfigError;
use reg::ops::drift::DriftError;
use reg::ops::gc::PurgeError;
use reg::ops::keys::KeysError;
use reg::ops::lifecycle::LifecycleError;
use reg::repo::ledger::{EntryProblem, LedgerError};
use reg::repo::registry::RegistryError;
use reg::repo::trust::{HostStateError, TrustError};
use reg::state::StateError;
use reg::state::resolve::ResolveError;
use reg::util::encoding::EncodingError;
use reg::util::fsutil::IoError;
use std::fmt::Display;
use std::path::Path;
use std::process::ExitCode;

/// How a command failed, which decides its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The action was refused or a verification failed (a rule, a signature, a hash, trust).
    Refused,
    /// Bad usage, unreadable input, I/O failure.
    UsageOrIo,
    /// Another writer holds the registry lock.
    Busy,
    /// The reader closed stdout (`reg log | head`): how it said it has seen enough, a success.
    Closed,
}

impl Kind {
    /// The exit code (README, "Exit codes").
    fn code(self) -> u8 {
        match self {
            Kind::Closed => 0,
            Kind::Refused => 1,
            Kind::UsageOrIo => 2,
            Kind::Busy => 3,
        }
    }
}

/// A failed command: its kind (the exit code), the message and the fix, if there is one.
#[derive(Debug)]
pub struct CommandError {
    kind: Kind,
    message: String,
    hint: Option<String>,
}

/// The result of a command.
pub type CommandResult<T = ()> = Result<T, CommandError>;

/// Most bytes of one error message. Library errors echo what they refuse through
/// `util::encoding::echo`, but a message built by a parser (serde's "unknown field `…`") can
/// carry a whole hostile input; every message is cut here, the one place messages are printed,
/// and what may still be key material in it is hidden (`echo_message`).
const MESSAGE_LIMIT: usize = 2048;

impl CommandError {
    fn new(kind: Kind, message: impl Display, hint: Option<String>) -> CommandError {
        CommandError {
            kind,
            message: reg::util::encoding::echo_message(&message.to_string(), MESSAGE_LIMIT),
            hint,
        }
    }

    /// Bad usage or input the library did not judge: exit 2, no hint.
    pub fn usage(message: impl Display) -> CommandError {
        CommandError::new(Kind::UsageOrIo, message, None)
    }

    /// Bad usage the CLI itself judges, with the fix: exit 2.
    pub fn usage_hint(message: impl Display, hint: impl Display) -> CommandError {
        CommandError::new(Kind::UsageOrIo, message, Some(hint.to_string()))
    }

    /// Prints the error (unless the reader closed stdout) and returns its exit code.
    pub fn report(self) -> ExitCode {
        if self.kind != Kind::Closed {
            errln!("error: {}", self.message);
            if let Some(hint) = &self.hint {
                errln!("hint: {hint}");
            }
        }
        ExitCode::from(self.kind.code())
    }
}

/// Builds the error from `e`'s message and the kind and hint `classify` gives it.
fn classified<E: Display>(
    e: E,
    classify: impl FnOnce(&E) -> (Kind, Option<String>),
) -> CommandError {
    let (kind, hint) = classify(&e);
    CommandError::new(kind, e, hint)
}

/// Errors whose message says it all: exit 2, no hint.
macro_rules! usage_or_io {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for CommandError {
            fn from(e: $t) -> Self {
                CommandError::usage(e)
            }
        }
    )*};
}

usage_or_io!(IoError, EncodingError);

/// A parser's message quotes what it refused: shown through `EncodingError`, which echoes it.
impl From<serde_json::Error> for CommandError {
    fn from(e: serde_json::Error) -> Self {
        CommandError::usage(EncodingError::from(e))
    }
}

/// An entry the verified state names could not be read back: the store changed under it.
impl From<EntryProblem> for CommandError {
    fn from(e: EntryProblem) -> Self {
        CommandError::new(
            Kind::Refused,
            e,
            Some("the store was altered or damaged: run `reg fsck`".into()),
        )
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return CommandError::new(Kind::Closed, e, None);
        }
        CommandError::usage(e)
    }
}

impl From<RegistryError> for CommandError {
    fn from(e: RegistryError) -> Self {
        classified(e, registry)
    }
}

impl From<AddError> for CommandError {
    fn from(e: AddError) -> Self {
        classified(e, |e| match e {
            AddError::Registry(r) => registry(r),
            AddError::Bundle(b) => bundle(b, BundleUse::Reading),
            AddError::Policy(p) => (Kind::Refused, Some(add_policy(p))),
        })
    }
}

impl From<CheckoutError> for CommandError {
    fn from(e: CheckoutError) -> Self {
        classified(e, |e| {
            match e {
            CheckoutError::Registry(r) => registry(r),
            CheckoutError::Io(_) => (Kind::UsageOrIo, None),
            CheckoutError::Exists(_) | CheckoutError::BundleExists(_) => (
                Kind::UsageOrIo,
                Some(format!("nothing was written: {EXISTS_HINT}")),
            ),
            CheckoutError::Revoked(_) => (Kind::Refused, None),
            CheckoutError::Blocked { spec, block, .. } => (
                Kind::Refused,
                Some(match block {
                    reg::state::Block::Suspended => format!("check the model, then `reg reapprove {spec} --reason TEXT --key OPERATOR.pem`; or revoke it"),
                    reg::state::Block::Denied => "`reg deny list` shows the denials; only a root key lifts one (`reg deny lift`)".to_string(),
                    reg::state::Block::Policy => "`reg policy show` shows the policy; revoke or deprecate the model, or have root change the policy".to_string(),
                }),
            ),
            CheckoutError::InsideRegistry(_) => (
                Kind::UsageOrIo,
                Some("write it outside `.registry/`, which holds only what reg writes there".into()),
            ),
            CheckoutError::Purged { spec, .. } => (
                Kind::Refused,
                Some(format!(
                    "nothing is damaged: a purged model's bytes are gone for good, so `reg fsck` counts nothing missing; `reg show {spec}` shows its record and history"
                )),
            ),
            CheckoutError::Artifact { .. } => (
                Kind::Refused,
                Some("the store was altered or damaged: run `reg fsck`".into()),
            ),
        }
        })
    }
}

/// Where a bundle error arose, which decides what fixes it: a publisher's own files, flags and
/// output when packing; the bundle, which only its publisher can remake, when reading. There is
/// no `From<BundleError>`: each caller says which, so a packing error never sends the user to
/// "the publisher".
#[derive(Debug, Clone, Copy)]
pub enum BundleUse {
    /// `reg bundle pack`; `flag` names a violated field as the command line sets it
    /// (`--type`), or as the manifest does for fields reg fills in itself.
    Packing {
        /// The name of a violated field.
        flag: fn(&Violation) -> String,
    },
    /// `reg add`, `reg bundle verify`: a bundle someone else made.
    Reading,
}

impl CommandError {
    /// A bundle error, judged by where it arose.
    pub fn bundle(e: BundleError, at: BundleUse) -> CommandError {
        let (kind, hint) = bundle(&e, at);
        if let BundleError::Manifest(reg::format::manifest::ManifestError::Invalid(list)) = &e
            && let BundleUse::Packing { flag } = at
        {
            let list: Vec<String> = list.iter().map(|v| v.describe(&flag(v))).collect();
            return CommandError::new(kind, format!("invalid metadata: {}", list.join("; ")), hint);
        }
        CommandError::new(kind, e, hint)
    }
}

/// What to do when something already exists where reg would write (exit 2, as a usage error:
/// reg never overwrites).
const EXISTS_HINT: &str = "choose another path, or remove it first: reg never overwrites a file";

impl From<LifecycleError> for CommandError {
    fn from(e: LifecycleError) -> Self {
        classified(e, |e| match e {
            LifecycleError::Registry(r) => registry(r),
            LifecycleError::Resolve(r) => resolve(r),
            LifecycleError::PlanWithoutRevocation => (Kind::Refused, None),
            LifecycleError::OutOfPolicy { .. } => (
                Kind::Refused,
                Some(format!(
                    "`reg policy show` shows the policy; {OUT_OF_POLICY}"
                )),
            ),
        })
    }
}

impl From<reg::ops::reapprove::ReapproveError> for CommandError {
    fn from(e: reg::ops::reapprove::ReapproveError) -> Self {
        use reg::ops::reapprove::ReapproveError as E;
        classified(e, |e| match e {
            E::Registry(r) => registry(r),
            E::Resolve(r) => resolve(r),
        })
    }
}

impl From<PurgeError> for CommandError {
    fn from(e: PurgeError) -> Self {
        classified(e, |e| match e {
            PurgeError::Registry(r) => registry(r),
            PurgeError::Resolve(r) => resolve(r),
        })
    }
}

impl From<DriftError> for CommandError {
    fn from(e: DriftError) -> Self {
        classified(e, drift)
    }
}

fn drift(e: &DriftError) -> (Kind, Option<String>) {
    match e {
        DriftError::Registry(RegistryError::Replica(_)) => (
            Kind::Refused,
            Some("at a replica, record it in the outbox: the same `reg drift record` with --outbox; `reg drift export OUT` then carries the outbox home".into()),
        ),
        DriftError::Registry(r) => registry(r),
        DriftError::Resolve(r) => resolve(r),
        DriftError::NotAnObject | DriftError::Invalid(_) => (Kind::Refused, None),
    }
}

impl From<reg::ops::drift::OutboxError> for CommandError {
    fn from(e: reg::ops::drift::OutboxError) -> Self {
        use reg::ops::drift::OutboxError as E;
        classified(e, |e| {
            match e {
            E::Registry(r) => registry(r),
            E::Drift(d) => drift(d),
            E::Reporter(_) => (
                Kind::Refused,
                Some("a drift report is signed by a key this registry trusts with the reporter role: `reg key list` shows them".into()),
            ),
            E::Envelope(_) => (Kind::Refused, None),
            E::AlreadyThere(_) => (
                Kind::Refused,
                Some("the same report is waiting in the outbox; `reg drift export OUT` sends it".into()),
            ),
            E::OutboxFile { .. } => (
                Kind::Refused,
                Some("only reg writes `.registry/outbox/`: remove the file named (nothing was exported)".into()),
            ),
            E::Exists(_) => (Kind::UsageOrIo, Some(EXISTS_HINT.into())),
            E::Io(_) => (Kind::UsageOrIo, None),
            E::File { .. } => (
                Kind::Refused,
                Some("the report file is damaged, cut short or not one reg writes; export it again at the replica (nothing was recorded)".into()),
            ),
            E::Foreign { .. } => (
                Kind::Refused,
                Some("import a report file into the registry whose replica wrote it (nothing was recorded)".into()),
            ),
            E::Refused {
                source: StateError::ReportRecorded { .. },
                ..
            } => (
                Kind::Refused,
                Some("this file, or one holding the same report, was imported before; nothing was recorded: `reg drift export OUT` at the replica leaves out reports its ledger already holds once it has the home's history".into()),
            ),
            E::Refused { .. } => (
                Kind::Refused,
                Some("nothing was recorded: the whole file is refused; export again at the replica without the report named (or trust its reporter first)".into()),
            ),
        }
        })
    }
}

impl From<KeysError> for CommandError {
    fn from(e: KeysError) -> Self {
        classified(e, |e| match e {
            KeysError::Registry(r) => registry(r),
        })
    }
}

impl From<reg::ops::succession::SuccessionError> for CommandError {
    fn from(e: reg::ops::succession::SuccessionError) -> Self {
        use reg::ops::succession::SuccessionError as E;
        classified(e, |e| match e {
            E::Registry(r) => registry(r),
            E::Unpinned { root, .. } => (
                Kind::Refused,
                Some(format!(
                    "pin it first, with the root fingerprint and head code its owner reads to you out of band: `reg --registry PATH trust add {root} --head CODE`; nothing was created"
                )),
            ),
        })
    }
}

impl From<ConfigError> for CommandError {
    fn from(e: ConfigError) -> Self {
        classified(e, |e| {
            match e {
            ConfigError::Registry(r) => registry(r),
            ConfigError::Recipients(s) => state(s),
            ConfigError::NoChange => (
                Kind::UsageOrIo,
                Some("say what to change: --refuse-format F, --allow-format F, --checkpoint-max-age DAYS or --no-checkpoint-max-age, --[no-]require-encrypted, --[no-]separate-duties; `reg policy show` prints the policy".into()),
            ),
            ConfigError::BothWays(_) => (
                Kind::UsageOrIo,
                Some("give each format either --refuse-format or --allow-format".into()),
            ),
        }
        })
    }
}

impl From<ResolveError> for CommandError {
    fn from(e: ResolveError) -> Self {
        classified(e, resolve)
    }
}

/// A report's error (`reg::report`): each library error as its own `From` above says it; what
/// the caller asked, usage (exit 2) with the hint the report gives.
impl From<reg::report::ReportError> for CommandError {
    fn from(e: reg::report::ReportError) -> Self {
        use reg::report::ReportError;
        classified(e, |e| match e {
            ReportError::Registry(r) => registry(r),
            ReportError::Resolve(r) => resolve(r),
            ReportError::Input(i) => (Kind::UsageOrIo, i.hint()),
        })
    }
}

impl From<KeyError> for CommandError {
    fn from(e: KeyError) -> Self {
        classified(e, key)
    }
}

impl From<StateError> for CommandError {
    fn from(e: StateError) -> Self {
        classified(e, state)
    }
}

impl From<LogError> for CommandError {
    fn from(e: LogError) -> Self {
        classified(e, decision_log)
    }
}

impl From<TrustError> for CommandError {
    fn from(e: TrustError) -> Self {
        classified(e, |e| match e {
            TrustError::Io(_)
            | TrustError::File { .. }
            | TrustError::HeadCode(_)
            | TrustError::LengthOnly(_)
            | TrustError::NotInHistory { .. } => (Kind::UsageOrIo, Some(trust(e))),
            TrustError::RootMismatch { .. }
            | TrustError::Replaced { .. }
            | TrustError::NotTheRoot { .. }
            | TrustError::NoSuchPin { .. }
            | TrustError::Lock { .. } => (Kind::Refused, Some(trust(e))),
        })
    }
}

impl From<reg::ops::export::ExportError> for CommandError {
    fn from(e: reg::ops::export::ExportError) -> Self {
        use reg::format::transfer::TransferError as T;
        use reg::ops::export::ExportError as E;
        classified(e, |e| {
            match e {
            E::Registry(r) => registry(r),
            E::Foreign(_) => (
                Kind::Refused,
                Some("carry back the `.registry/checkpoint` of a site that imported from this registry, or use --since-seq N".into()),
            ),
            E::Object { .. } | E::ArtifactSize { .. } | E::Transfer(T::Source { .. }) => (
                Kind::Refused,
                Some("the store was altered or damaged; nothing was exported: run `reg fsck`, and `reg repair --from COPY` puts back damaged objects".into()),
            ),
            E::Exists(_) => (Kind::UsageOrIo, Some(EXISTS_HINT.into())),
            E::Transfer(t) if transfer_io(t) => (Kind::UsageOrIo, None),
            E::Changed | E::Io(_) => (Kind::UsageOrIo, None),
            E::Transfer(_) => (
                Kind::Refused,
                Some("the transfer file is damaged, cut short or not one reg writes; export it again from the home site".into()),
            ),
            E::PastHead { .. } | E::NothingNew { .. } => (
                Kind::UsageOrIo,
                Some("`reg status --code` shows this registry's head".into()),
            ),
        }
        })
    }
}

impl From<reg::ops::import::ImportError> for CommandError {
    fn from(e: reg::ops::import::ImportError) -> Self {
        use reg::ops::import::ImportError as E;
        let again = "nothing was imported; export again at the home site with `reg export OUT --since .registry/checkpoint` (this site's checkpoint, carried back)";
        classified(e, |e| {
            match e {
            E::Registry(r) => registry(r),
            E::Unpinned(_) => (
                Kind::Refused,
                Some("pin this registry first: `reg trust add FINGERPRINT --head CODE`, with its root key's fingerprint and the head code its sending site's `reg status --code` prints, both read to you out of band".into()),
            ),
            E::Foreign { .. } => (
                Kind::Refused,
                Some("this file is for another registry; `reg status` shows this one's id".into()),
            ),
            E::NotFull { what, .. } => (
                Kind::Refused,
                Some(format!("export the whole registry at the home site (`reg export OUT`, without --since) and {}", if *what == "reset" { "reset from that: `reg import --reset OUT`" } else { "clone from that" })),
            ),
            E::BehindThisHost { pinned, .. } => (
                Kind::Refused,
                Some(match pinned {
                    Some(p) => format!("this host verified another history of this registry, at `{p}`: if that replica forked (wrote entries of its own), replace its history with the home site's there, `reg --registry {p} import --reset FULL` with a full export of home, then clone again; if this medium is older than what that copy holds, use a newer one"),
                    None => "this host verified a newer or another history of this registry: use a newer medium; if a replica of it on this host forked, replace its history there with `reg import --reset FULL` (a full export of home), then clone again".into(),
                }),
            ),
            E::NoPin { root, .. } => (
                Kind::Refused,
                Some(format!("check the root key's fingerprint {root} with the registry's owner over a channel the medium's holder does not control, then clone again with --trust {root}")),
            ),
            E::Rollback { incoming, local, .. } => (
                Kind::Refused,
                Some(format!("a reset replaces a history that diverged from the home site's; it never goes back to an older point of the same history: nothing was changed; if this site's {} entr{} after the file's head were written here (it forked from a home that has not moved since), the home site signs a new entry first (its next real change, or `reg renew` where a timestamp key exists), exports in full (`reg export FULL`), and `reg import --reset FULL` here replaces them; otherwise bring a newer full export of the home site", local.saturating_sub(*incoming), if local.saturating_sub(*incoming) == 1 { "y" } else { "ies" })),
            ),
            E::WouldDrop { seen_seq, .. } => (
                Kind::Refused,
                Some(format!("nothing was changed; bring a full export of the home site that holds entry {seen_seq} (`reg export FULL` there)")),
            ),
            E::NotReplica(_) => (
                Kind::Refused,
                Some("nothing was changed; reset only a replica; if this registry is one (copied by hand, or cloned by an older reg), say so: `reg import --reset --replica FULL`".into()),
            ),
            E::ResetKept { kept, .. } => (
                Kind::UsageOrIo,
                Some(format!("the home site's history is in place here and nothing of the old registry was removed: if `{}/outbox` exists, move it to `.registry/outbox` (reports not yet sent home); keep or delete the rest", kept.display())),
            ),
            E::Fork { local_kind: Some("drift"), .. } => (
                Kind::Refused,
                Some("this site wrote its own `drift` entry, so its ledger is no longer a copy of the home site's (a replica records drift with `reg drift record --outbox`); nothing was imported; to replace this site's history with the home site's, keeping the outbox: `reg import --reset FULL` with a full export of home (`reg export FULL` there; add --replica if this site has no replica marker)".into()),
            ),
            E::Fork { .. } => (
                Kind::Refused,
                Some("the two sites' histories diverged: a replica never writes its own entries; nothing was imported; if this site is the replica, replace its history with the home site's, keeping the outbox: `reg import --reset FULL` with a full export of home (`reg export FULL` there; add --replica if this site has no replica marker)".into()),
            ),
            E::Gap { .. } => (Kind::Refused, Some(again.to_string())),
            E::Stale(s) => (Kind::Refused, Some(stale(s))),
            E::Length { .. } => (
                Kind::Refused,
                Some("the transfer file was altered or damaged: a frame is not as long as its object; nothing was changed; write it again at the home site with `reg export`".into()),
            ),
            E::Entry { .. } | E::Missing { .. } | E::Extra { .. } | E::Checkpoint(_) => (
                Kind::Refused,
                Some(format!("the transfer file does not verify against this registry's trust and history; {again}")),
            ),
            E::Transfer(t) if transfer_io(t) => (Kind::UsageOrIo, None),
            E::Io(_) | E::Store(_) => (Kind::UsageOrIo, None),
            E::UnreadableRecord { .. } => (
                Kind::Refused,
                Some("nothing was imported; run `reg fsck`, and `reg repair --from SRC` if this site's record is damaged".into()),
            ),
            E::Transfer(_) => (
                Kind::Refused,
                Some("the transfer file is damaged, cut short or not one reg writes; check it with `reg export --verify FILE`, and export it again at the home site".into()),
            ),
            }
        })
    }
}

impl From<reg::ops::repair::RepairError> for CommandError {
    fn from(e: reg::ops::repair::RepairError) -> Self {
        use reg::ops::repair::RepairError as E;
        classified(e, |e| {
            match e {
            E::Registry(r) => registry(r),
            E::Source { .. } => (
                Kind::UsageOrIo,
                Some("give --from a copy of this registry (its directory or `.registry`) or a transfer file written by `reg export`".into()),
            ),
            E::Foreign { .. } => (
                Kind::Refused,
                Some("repair only from a copy or an export of this same registry; nothing was changed".into()),
            ),
            E::Transfer { .. } => (
                Kind::Refused,
                Some("the transfer file is damaged, cut short or not one reg writes; check it with `reg export --verify FILE`".into()),
            ),
            E::Incomplete { .. } => (
                Kind::Refused,
                Some("what could be restored was; repair the rest from another copy (another site's registry, or a full `reg export` of it), then run `reg fsck`".into()),
            ),
            E::Unverified(_) => (
                Kind::Refused,
                Some("restore what is listed above, from another copy if this one lacks it, then run `reg repair` again".into()),
            ),
            E::DryRunStopped(_) => (
                Kind::Refused,
                Some("run `reg repair` without --dry-run to restore what is listed, then `reg repair --dry-run` shows the rest".into()),
            ),
            E::Io(_) => (Kind::UsageOrIo, None),
        }
        })
    }
}

impl From<reg::ops::clone::CloneError> for CommandError {
    fn from(e: reg::ops::clone::CloneError) -> Self {
        CommandError::from_clone(e, None)
    }
}

impl CommandError {
    /// A clone's error; `src_registry` is SRC when it is a registry directory (not a transfer
    /// file), which the hint for an existing destination then tells to export first.
    pub fn from_clone(e: reg::ops::clone::CloneError, src_registry: Option<&Path>) -> CommandError {
        use reg::ops::clone::CloneError as E;
        use reg::ops::import::ImportError as I;
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
                    CommandError::new(
                        Kind::UsageOrIo,
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
fn transfer_io(t: &reg::format::transfer::TransferError) -> bool {
    use reg::format::transfer::TransferError as T;
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

/// A model name that did not resolve: exit 2, the spec does not name one model (an ambiguous
/// one included, as git's ambiguous argument); the hint says how to name one.
fn resolve(e: &ResolveError) -> (Kind, Option<String>) {
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
    (Kind::UsageOrIo, Some(hint))
}

fn registry(e: &RegistryError) -> (Kind, Option<String>) {
    match e {
        RegistryError::NotFound(_) => (
            Kind::UsageOrIo,
            Some("create one with `reg init --root-key ROOT.pem`, or name one with --registry PATH or REG_DIR".into()),
        ),
        RegistryError::AlreadyExists(_) => (
            Kind::UsageOrIo,
            Some("reg never re-initializes a registry; choose another directory".into()),
        ),
        RegistryError::InsideRegistry(_) => (
            Kind::Refused,
            Some("choose a directory outside every `.registry` directory".into()),
        ),
        RegistryError::NewerFormat { .. } => (
            Kind::UsageOrIo,
            Some("this registry was written by a newer reg; use that version".into()),
        ),
        RegistryError::Busy(..) => (
            Kind::Busy,
            Some("wait for the other reg process to finish; REG_LOCK_TIMEOUT sets the wait in seconds".into()),
        ),
        RegistryError::Unlockable { source, .. } => (
            Kind::UsageOrIo,
            Some(if source.kind() == std::io::ErrorKind::PermissionDenied {
                "readers and writers lock the registry directory itself (FORMAT.md §6): the user running reg must be able to open it for reading".into()
            } else {
                "the registry's file system cannot lock files (`flock`): reg writes only where it can, and reads there only from a read-only mount, where nobody can be writing".into()
            }),
        ),
        RegistryError::Refused(s) => state(s),
        RegistryError::Stale(s) => (Kind::Refused, Some(stale(s))),
        RegistryError::BelowFloor { .. } => (
            Kind::Refused,
            Some("the medium is older than, or diverges from, the history its owner read to you; ask them for the current medium (the pin's floor is shown by `reg trust list`)".into()),
        ),
        RegistryError::Replica(_) => (
            Kind::Refused,
            Some("make the change at the home site, then bring it here: `reg export OUT --since CHECKPOINT` there, `reg import OUT` here; drift is recorded here with `reg drift record --outbox`".into()),
        ),
        RegistryError::RolledBack { .. } => (
            Kind::Refused,
            Some("someone may be replaying an old medium; if this copy is legitimately older, use the newer one; if it is a replica that wrote entries of its own (forked), replace its history with the home site's: `reg import --reset FULL`, with a full export of home".into()),
        ),
        RegistryError::Ledger(l) => (Kind::Refused, Some(ledger(l))),
        RegistryError::Trust(t) => (Kind::Refused, Some(trust(t))),
        RegistryError::Store(_)
        | RegistryError::Config { .. }
        | RegistryError::CorruptObject { .. } => (
            Kind::Refused,
            Some("the registry was altered or damaged: `reg fsck` names what; `reg repair --from COPY` puts back damaged objects from a copy of this registry or a transfer file".into()),
        ),
        RegistryError::Layout(e) => (
            Kind::Refused,
            Some(if e.is_mount() {
                "another file system is mounted inside the registry; reg reads, writes and removes nothing there: unmount it (`umount PATH`), then run `reg fsck`".into()
            } else if e.is_planted() {
                "someone planted a link or special file in the registry; nothing was read through it or changed: run `reg fsck` to list every such path and restore the registry from a trusted copy".into()
            } else {
                "a path of the registry is not of the kind its layout has (FORMAT.md §1); nothing was read or changed: run `reg fsck` to list what is wrong and restore the registry from a trusted copy".into()
            }),
        ),
        RegistryError::HostState(h) => (Kind::UsageOrIo, Some(host_state(h))),
        // Refused before anything was signed: the message says what to change.
        RegistryError::Envelope(reg::crypto::envelope::EnvelopeError::TooLarge { .. })
        | RegistryError::Entry(reg::format::entry::EntryError::Invalid(_)) => (Kind::Refused, None),
        RegistryError::Envelope(_) | RegistryError::Entry(_) | RegistryError::Encoding(_) | RegistryError::Io(_) => {
            (Kind::UsageOrIo, None)
        }
    }
}

fn bundle(e: &BundleError, at: BundleUse) -> (Kind, Option<String>) {
    use reg::repo::store::StoreError as S;
    let remake = "the bundle does not match its signed manifest; nothing was added: ask the publisher for a new bundle";
    match (e, at) {
        (BundleError::Io(_) | BundleError::NotABundle(_), _) => (Kind::UsageOrIo, None),
        (BundleError::OutputExists(_), _) => (Kind::UsageOrIo, Some(EXISTS_HINT.into())),
        (BundleError::Unauthorized(_), _) => (
            Kind::Refused,
            Some("the manifest must be signed by a key this registry trusts as publisher (`reg key list`)".into()),
        ),
        (BundleError::Decrypt(_), _) => (
            Kind::Refused,
            Some("give the age identity the bundle was encrypted to with --identity, or REG_BUNDLE_PASSPHRASE for a passphrase bundle".into()),
        ),
        // The publisher's own input: a flag's value is a usage error, as clap's are; a file of
        // the model directory or a manifest too large is refused by a rule of the format.
        (
            BundleError::Manifest(reg::format::manifest::ManifestError::Invalid(_)),
            BundleUse::Packing { .. },
        ) => (
            Kind::UsageOrIo,
            Some("correct what is named (the flag, or that field of the --metadata file); nothing was written: `reg bundle pack --help` says what each flag takes".into()),
        ),
        (
            BundleError::Manifest(
                reg::format::manifest::ManifestError::Envelope(_)
                | reg::format::manifest::ManifestError::Encoding(_),
            )
            | BundleError::Archive(_),
            BundleUse::Packing { .. },
        ) => (Kind::Refused, Some("nothing was written".into())),
        (BundleError::Entry { .. }, BundleUse::Packing { .. }) => (
            Kind::Refused,
            Some("nothing was written: rename, move or remove the file named in the model directory".into()),
        ),
        (
            BundleError::Manifest(_) | BundleError::Entry { .. } | BundleError::Archive(_),
            BundleUse::Reading,
        ) => (Kind::Refused, Some(remake.into())),
        (BundleError::Stopped, _) => (Kind::Refused, None),
        (BundleError::Store(S::Io(_)), _) => (Kind::UsageOrIo, None),
        (BundleError::Store(S::TooLarge { .. }), _) => (Kind::Refused, Some(remake.into())),
        (
            BundleError::Store(
                S::Missing(_) | S::Corrupt { .. } | S::NotAFile(_) | S::WrongSize { .. },
            ),
            _,
        ) => (
            Kind::Refused,
            Some("the registry was altered or damaged: `reg fsck` names what".into()),
        ),
    }
}

/// What to do with a model out of policy (FORMAT.md §5.5), for every message that meets one.
const OUT_OF_POLICY: &str = "a model out of policy is not promoted, made active or allowed by the gate: revoke it, or a root key changes the policy";

/// The fix for a bundle the registry's policy refuses (nothing was added).
fn add_policy(e: &reg::ops::add::PolicyRefusal) -> String {
    use reg::ops::add::PolicyRefusal as P;
    match e {
        P::Formats(_) => "nothing was added: ask the publisher for the model in another format (`reg policy show` shows the policy)".into(),
        P::Plaintext | P::Passphrase => "nothing was added: ask the publisher for the bundle encrypted to the registry's recipients (`reg recipients list`; `reg bundle pack --recipient AGE`)".into(),
        P::NotARecipient => "nothing was added: `reg recipients list` shows the registry's recipients; give the identity of one of them with --identity, or ask the publisher to encrypt the bundle to one".into(),
    }
}

fn key(e: &KeyError) -> (Kind, Option<String>) {
    match e {
        KeyError::TooOpen { path, .. } => (
            Kind::UsageOrIo,
            Some(format!("run `chmod 600 {}`", path.display())),
        ),
        KeyError::NeedPassphrase(_) => (
            Kind::UsageOrIo,
            Some("set REG_KEY_PASSPHRASE, or run reg on a terminal to be asked".into()),
        ),
        KeyError::NotSecret { path, .. } => (
            Kind::UsageOrIo,
            Some(match path.to_str().and_then(|p| p.strip_suffix(".pub")) {
                Some(secret) => format!(
                    "give the secret key file `reg key gen` wrote beside it (`{secret}`, without .pub)"
                ),
                None => "give the secret key file `reg key gen` wrote (the .pub file beside it is the public key)".into(),
            }),
        ),
        KeyError::Exists(_) => (Kind::UsageOrIo, Some(EXISTS_HINT.into())),
        KeyError::Weak(_)
        | KeyError::NonCanonical(_)
        | KeyError::MixedOrder(_)
        | KeyError::BadSignature(_) => (Kind::Refused, None),
        KeyError::Io(_)
        | KeyError::Malformed { .. }
        | KeyError::UnsupportedEncryption { .. }
        | KeyError::KdfTooCostly { .. }
        | KeyError::WrongPassphrase(_)
        | KeyError::BadFingerprint(_)
        | KeyError::Rng(_) => (Kind::UsageOrIo, None),
    }
}

/// A rule of the state refused the action (exit 1), except a blank reason, a usage error
/// (exit 2) like a missing one; the command line refuses both before anything runs.
fn state(e: &StateError) -> (Kind, Option<String>) {
    // Every rule of the state is a refusal but the blank reason; the hint's match below names
    // every variant, so a new one is still placed on purpose.
    let kind = if matches!(e, StateError::EmptyReason) {
        Kind::UsageOrIo
    } else {
        Kind::Refused
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
    (kind, hint)
}

/// The fix for an entry that would join duties the policy keeps apart (FORMAT.md §5.5).
fn duties(duty: &reg::state::Duty) -> String {
    use reg::state::Duty;
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
pub(crate) const RENEW_HINT: &str = "renew it at its home site: `reg renew --key TIMESTAMP.pem`, with a key the root trusts as `timestamp` (`reg key trust PUB --role timestamp --key ROOT.pem`), then carry the new medium; a replica imports the home site's renewal";

/// The hint for a stale registry: renewal, or a clock to check.
pub(crate) fn stale(s: &reg::state::Staleness) -> String {
    match s {
        reg::state::Staleness::Expired { .. } => RENEW_HINT.into(),
        reg::state::Staleness::Future { what, .. } if what.is_entry() => "check this host's clock (`date`); if it is right, a ledger entry was signed with a clock far ahead, and since entry times only move forward no entry can follow it before that time: wait for it, or, if it is far off, make a successor registry (docs/GUIDE.md §8.4)".into(),
        reg::state::Staleness::Future { .. } => "check this host's clock (`date`); if it is right, the medium was signed with a clock far ahead: its home site renews it with a correct clock".into(),
    }
}

fn ledger(_e: &LedgerError) -> String {
    "the ledger was altered or damaged; do not use this registry, restore it from a trusted copy"
        .into()
}

fn host_state(e: &HostStateError) -> String {
    match e {
        HostStateError::Unreadable { path, .. } | HostStateError::Unwritable { path, .. }
            if path.is_relative() =>
        {
            "set HOME, or REG_STATE_DIR, to an absolute path (a relative one would be found in the current directory)".into()
        }
        HostStateError::Unreadable { path, .. } => format!(
            "if nobody tampered with this host, remove `{}` and run the command again: the registry is then verified in full, as on first contact; --skip-rollback-check skips the check for one command",
            path.display()
        ),
        HostStateError::Unwritable { .. } => "make the state directory writable, or point REG_STATE_DIR at one that is; --skip-rollback-check skips the check for one command".into(),
    }
}

fn trust(e: &TrustError) -> String {
    match e {
        TrustError::RootMismatch { .. } | TrustError::Replaced { .. } => "if the root key was legitimately replaced, check the new fingerprint out of band and pass it with --trust".into(),
        TrustError::NotTheRoot { .. } => "ask the registry's owner for its root key fingerprint again (`reg key fingerprint ROOT.pem.pub`); if they confirm the one given, this medium does not hold their registry".into(),
        TrustError::NoSuchPin { .. } => "`reg trust list` shows this host's pins".into(),
        TrustError::Lock { path, .. } => format!("remove `{}` (reg creates the lock itself), and check the trust file beside it: whoever could plant a link there could edit the pins too", path.display()),
        TrustError::HeadCode(reg::format::head_code::HeadCodeError::Old(_)) => "ask the sending site for the head code `reg status --code` prints with this version of reg (seven groups of five); nothing was pinned".into(),
        TrustError::HeadCode(_) => "ask the sending site to read the code `reg status --code` prints again, group by group; nothing was pinned".into(),
        TrustError::LengthOnly(_) => "pin with `--head CODE`: the head code the sending site's `reg status --code` prints, read to you out of band".into(),
        TrustError::NotInHistory { .. } => "ask the registry's owner for the current medium, or check the head code with them again (`reg status --code`)".into(),
        TrustError::File { path, .. } if path.is_relative() => "set HOME, or REG_TRUST_FILE and REG_STATE_DIR, to absolute paths (a relative one would be found in the current directory)".into(),
        TrustError::File { .. } | TrustError::Io(_) => {
            "check the host trust file (REG_TRUST_FILE overrides its path)".into()
        }
    }
}

fn decision_log(e: &LogError) -> (Kind, Option<String>) {
    let new_file = "keep it as evidence, and log to a new file (--log NEW)";
    match e {
        LogError::Line { .. } | LogError::Truncated { .. } | LogError::Replaced { .. } => (
            Kind::Refused,
            Some(format!("the decision log was altered or damaged: {new_file}")),
        ),
        LogError::Unanchored { .. } => (
            Kind::Refused,
            Some(format!(
                "this host has no record of this log (its state directory was reset, or the log was moved here from another host): {new_file}"
            )),
        ),
        LogError::OldFormat { .. } => (
            Kind::Refused,
            Some("keep it as an archive (`reg check --verify-log` still checks its chain, unauthenticated), and log to a new file (--log NEW)".into()),
        ),
        LogError::NoKey(_) => (
            Kind::Refused,
            Some("verify the log on the host that wrote it (its key is in that host's REG_STATE_DIR)".into()),
        ),
        LogError::NotAFile { .. } => (
            Kind::UsageOrIo,
            Some("name a regular file: a new one, or a log this host wrote (with --log, REG_GATE_LOG or --verify-log)".into()),
        ),
        LogError::Host { .. } => (
            Kind::UsageOrIo,
            Some("check the host state directory (REG_STATE_DIR)".into()),
        ),
        LogError::Io(_) => (Kind::UsageOrIo, None),
    }
}

/// Prints a command-line parsing error (or help, or the version) as clap does, except that a
/// value that may be key material (a secret pasted where a fingerprint or recipient goes) is
/// never echoed: the message then names the argument and what the value is, not the value.
pub fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue};
    let secret = if let Some(ContextValue::String(v)) = e.get(ContextKind::InvalidValue)
        && reg::crypto::keys::may_be_secret(v)
    {
        Some(match reg::crypto::keys::key_text_kind(v) {
            Some(kind) => kind.name(),
            None => "possibly key material",
        })
    } else {
        None
    };
    let Some(kind) = secret else {
        use clap::error::ErrorKind;
        if matches!(
            e.kind(),
            ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        ) {
            e.exit()
        }
        // clap echoes the offending value: escaped like every other line reg prints, so that
        // an argument cannot drive the terminal either, and with what may be key material
        // hidden as in every error message (a secret pasted as an unexpected argument).
        for line in e.render().to_string().lines() {
            let line = reg::util::encoding::mask_key_material(
                line,
                reg::util::encoding::MESSAGE_KEY_RUN_MIN,
            );
            errln!("{line}");
        }
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    };
    let arg = if let Some(ContextValue::String(a)) = e.get(ContextKind::InvalidArg) {
        a.clone()
    } else {
        "an argument".to_string()
    };
    errln!("error: invalid value for '{arg}': the value given is {kind} and is not shown");
    errln!(
        "hint: never pass a secret key on the command line; `reg --help` lists what each argument takes"
    );
    ExitCode::from(2)
}
