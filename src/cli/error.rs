//! The one place where errors become what the user sees: one line saying what failed and where,
//! an optional `hint:` line with the fix, and a fixed exit code (README, "Exit codes").

use reg::bundle::BundleError;
use reg::crypto::keys::KeyError;
use reg::ops::add::AddError;
use reg::repo::ledger::LedgerError;
use reg::repo::registry::RegistryError;
use reg::repo::trust::TrustError;
use reg::state::StateError;
use reg::state::resolve::ResolveError;
use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// The action was refused or a verification failed (a rule, a signature, a hash, trust).
pub const REFUSED: u8 = 1;
/// Bad usage, unreadable input, I/O failure.
pub const USAGE_OR_IO: u8 = 2;
/// Another writer holds the registry lock.
pub const BUSY: u8 = 3;

/// Prints an error (if any) and returns the exit code.
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    let Err(err) = result else {
        return ExitCode::from(OK);
    };
    // A closed stdout (`reg log | head`) is how the reader said it has seen enough.
    if let Some(io) = err.downcast_ref::<std::io::Error>()
        && io.kind() == std::io::ErrorKind::BrokenPipe
    {
        return ExitCode::from(OK);
    }
    let (code, hint) = classify(&err);
    errln!("error: {err}");
    if let Some(hint) = hint {
        errln!("hint: {hint}");
    }
    ExitCode::from(code)
}

fn classify(err: &anyhow::Error) -> (u8, Option<String>) {
    if let Some(e) = err.downcast_ref::<RegistryError>() {
        return registry(e);
    }
    if let Some(e) = err.downcast_ref::<AddError>() {
        return match e {
            AddError::Registry(r) => registry(r),
            AddError::Bundle(b) => bundle(b),
        };
    }
    if let Some(e) = err.downcast_ref::<reg::ops::checkout::CheckoutError>() {
        return match e {
            reg::ops::checkout::CheckoutError::Registry(r) => registry(r),
            reg::ops::checkout::CheckoutError::Io(_)
            | reg::ops::checkout::CheckoutError::Exists(_) => (USAGE_OR_IO, None),
            _ => (
                REFUSED,
                Some("the store was altered or damaged: run `reg fsck`".into()),
            ),
        };
    }
    if let Some(e) = err.downcast_ref::<BundleError>() {
        return bundle(e);
    }
    if let Some(e) = err.downcast_ref::<reg::ops::export::ExportError>() {
        return export(e);
    }
    if let Some(e) = err.downcast_ref::<reg::ops::lifecycle::LifecycleError>() {
        return match e {
            reg::ops::lifecycle::LifecycleError::Registry(r) => registry(r),
            reg::ops::lifecycle::LifecycleError::Resolve(_) => (
                USAGE_OR_IO,
                Some("`reg list` shows the registered models".into()),
            ),
        };
    }
    if err.downcast_ref::<ResolveError>().is_some() {
        return (
            USAGE_OR_IO,
            Some("`reg list` shows the registered models".into()),
        );
    }
    if let Some(e) = err.downcast_ref::<KeyError>() {
        return key(e);
    }
    if let Some(e) = err.downcast_ref::<StateError>() {
        return (REFUSED, state(e));
    }
    if let Some(e) = err.downcast_ref::<reg::gate::decision_log::LogError>() {
        return decision_log(e);
    }
    if let Some(e) = err.downcast_ref::<TrustError>() {
        return match e {
            TrustError::Io(_) | TrustError::File { .. } => (USAGE_OR_IO, Some(trust(e))),
            _ => (REFUSED, Some(trust(e))),
        };
    }
    (USAGE_OR_IO, None)
}

fn registry(e: &RegistryError) -> (u8, Option<String>) {
    match e {
        RegistryError::NotFound(_) => (
            USAGE_OR_IO,
            Some("create one with `reg init --root-key ROOT.pem`, or name one with --registry PATH or REG_DIR".into()),
        ),
        RegistryError::AlreadyExists(_) => (
            REFUSED,
            Some("reg never re-initializes a registry; choose another directory".into()),
        ),
        RegistryError::NewerFormat { .. } => (
            USAGE_OR_IO,
            Some("this registry was written by a newer reg; use that version".into()),
        ),
        RegistryError::Busy(..) => (
            BUSY,
            Some("wait for the other reg process to finish; REG_LOCK_TIMEOUT sets the wait in seconds".into()),
        ),
        RegistryError::Refused(s) => (REFUSED, state(s)),
        RegistryError::Expired { .. } => (
            REFUSED,
            Some("at the registry's home site, `reg renew --key KEY.pem` (the key that signed the last entry) or any write re-signs the checkpoint; then carry the new medium".into()),
        ),
        RegistryError::NotHeadSigner { .. } => (
            REFUSED,
            Some("`reg log` shows who signed the last entry; use that key".into()),
        ),
        RegistryError::BelowFloor { .. } => (
            REFUSED,
            Some("the medium is older than, or diverges from, the history its owner read to you; ask them for the current medium (the pin's floor is shown by `reg trust list`)".into()),
        ),
        RegistryError::RolledBack { .. } => (
            REFUSED,
            Some("someone may be replaying an old medium; if this copy is legitimately older, use the newer one".into()),
        ),
        RegistryError::Ledger(l) => (REFUSED, Some(ledger(l))),
        RegistryError::Trust(t) => (REFUSED, Some(trust(t))),
        RegistryError::Store(_) | RegistryError::Config { .. } => (
            REFUSED,
            Some("the registry was altered or damaged; restore it from a trusted copy and run `reg ledger verify`".into()),
        ),
        RegistryError::Layout(_) => (
            REFUSED,
            Some("someone planted a link or special file in the registry; nothing was read through it or changed: run `reg fsck` to list every such path and restore the registry from a trusted copy".into()),
        ),
        RegistryError::HostState(h) => (USAGE_OR_IO, Some(host_state(h))),
        // Refused before anything was signed: the message says what to change.
        RegistryError::Envelope(reg::crypto::envelope::EnvelopeError::TooLarge { .. })
        | RegistryError::Entry(reg::format::entry::EntryError::Invalid(_)) => (REFUSED, None),
        RegistryError::Envelope(_) | RegistryError::Entry(_) | RegistryError::Encoding(_) | RegistryError::Io(_) => {
            (USAGE_OR_IO, None)
        }
    }
}

fn export(e: &reg::ops::export::ExportError) -> (u8, Option<String>) {
    use reg::ops::export::ExportError as E;
    match e {
        E::Registry(r) => registry(r),
        E::Foreign(_) => (
            REFUSED,
            Some("carry back the `.registry/checkpoint` of a site that imported from this registry, or use --since-seq N".into()),
        ),
        E::Object { .. } | E::Transfer(reg::format::transfer::TransferError::Source { .. }) => (
            REFUSED,
            Some("the store was altered or damaged; nothing was exported: run `reg fsck`".into()),
        ),
        E::Transfer(reg::format::transfer::TransferError::Io { .. }) => (USAGE_OR_IO, None),
        E::Transfer(_) => (
            REFUSED,
            Some("the transfer file is damaged, cut short or not one reg writes; export it again from the home site".into()),
        ),
        E::PastHead { .. } | E::NothingNew { .. } => (
            USAGE_OR_IO,
            Some("`reg status --code` shows this registry's head".into()),
        ),
        _ => (USAGE_OR_IO, None),
    }
}

fn bundle(e: &BundleError) -> (u8, Option<String>) {
    match e {
        BundleError::Io(_) => (USAGE_OR_IO, None),
        BundleError::Unauthorized(_) => (
            REFUSED,
            Some("the manifest must be signed by a key this registry trusts as publisher (`reg key list`)".into()),
        ),
        BundleError::Decrypt(_) => (
            REFUSED,
            Some("give the age identity the bundle was encrypted to with --identity, or REG_BUNDLE_PASSPHRASE for a passphrase bundle".into()),
        ),
        BundleError::NotABundle(_) => (USAGE_OR_IO, None),
        _ => (
            REFUSED,
            Some("the bundle does not match its signed manifest; nothing was added: ask the publisher for a new bundle".into()),
        ),
    }
}

fn key(e: &KeyError) -> (u8, Option<String>) {
    match e {
        KeyError::TooOpen { path, .. } => (
            USAGE_OR_IO,
            Some(format!("run `chmod 600 {}`", path.display())),
        ),
        KeyError::NeedPassphrase(_) => (
            USAGE_OR_IO,
            Some("set REG_KEY_PASSPHRASE, or run reg on a terminal to be asked".into()),
        ),
        KeyError::Exists(_) => (USAGE_OR_IO, Some("choose another file name".into())),
        KeyError::Weak(_)
        | KeyError::NonCanonical(_)
        | KeyError::MixedOrder(_)
        | KeyError::BadSignature(_) => (REFUSED, None),
        _ => (USAGE_OR_IO, None),
    }
}

fn state(e: &StateError) -> Option<String> {
    match e {
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
        _ => None,
    }
}

fn ledger(_e: &LedgerError) -> String {
    "the ledger was altered or damaged; do not use this registry, restore it from a trusted copy"
        .into()
}

fn host_state(e: &reg::repo::trust::HostStateError) -> String {
    match e {
        reg::repo::trust::HostStateError::Unreadable { path, .. } => format!(
            "if nobody tampered with this host, remove `{}` and run the command again: the registry is then verified in full, as on first contact; --skip-rollback-check skips the check for one command",
            path.display()
        ),
        reg::repo::trust::HostStateError::Unwritable { .. } => "make the state directory writable, or point REG_STATE_DIR at one that is; --skip-rollback-check skips the check for one command".into(),
    }
}

fn trust(e: &TrustError) -> String {
    match e {
        TrustError::RootMismatch { .. } | TrustError::Replaced { .. } => "if the root key was legitimately replaced, check the new fingerprint out of band and pass it with --trust".into(),
        TrustError::NotTheRoot { .. } => "ask the registry's owner for its root key fingerprint again (`reg key fingerprint ROOT.pem.pub`); if they confirm the one given, this medium does not hold their registry".into(),
        TrustError::NoSuchPin { .. } => "`reg trust list` shows this host's pins".into(),
        _ => "check the host trust file (REG_TRUST_FILE overrides its path)".into(),
    }
}

fn decision_log(e: &reg::gate::decision_log::LogError) -> (u8, Option<String>) {
    use reg::gate::decision_log::LogError as L;
    let new_file = "keep it as evidence, and log to a new file (--log NEW)";
    match e {
        L::Line { .. } | L::Truncated { .. } | L::Replaced { .. } => (
            REFUSED,
            Some(format!("the decision log was altered or damaged: {new_file}")),
        ),
        L::Unanchored { .. } => (
            REFUSED,
            Some(format!(
                "this host has no record of this log (its state directory was reset, or the log was moved here from another host): {new_file}"
            )),
        ),
        L::OldFormat { .. } => (
            REFUSED,
            Some("keep it as an archive (`reg check --verify-log` still checks its chain, unauthenticated), and log to a new file (--log NEW)".into()),
        ),
        L::NoKey(_) => (
            REFUSED,
            Some("verify the log on the host that wrote it (its key is in that host's REG_STATE_DIR)".into()),
        ),
        L::Host { .. } => (
            USAGE_OR_IO,
            Some("check the host state directory (REG_STATE_DIR)".into()),
        ),
        L::Io(_) => (USAGE_OR_IO, None),
    }
}
