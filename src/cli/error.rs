//! Where a failed command meets the terminal: `error:` and `hint:` lines and the exit status
//! (README, "Exit codes"), and clap's own parsing errors.
//!
//! Every command returns a [`CommandError`], which is the library's [`reg::refusal::Refusal`]:
//! the one mapping of every library error to its class (the exit code), message and hint lives
//! in `src/refusal/` (the Python package raises the same refusals), so a library error type
//! without a `From` impl there is a compile error at the `?` that would return it. Plain usage
//! errors of the command line are [`CommandError::usage`] and [`CommandError::usage_hint`]; a
//! bundle error is judged by where it arose ([`CommandError::bundle`] with a [`BundleUse`]).
//!
//! No match on a library error is left here; the lint stays so that none comes back with a
//! wildcard arm.
#![deny(clippy::wildcard_enum_match_arm)]

use reg::refusal::{Class, Refusal};
use std::process::ExitCode;

pub use reg::refusal::BundleUse;

/// A failed command: the library's refusal (its class, message and hint).
pub type CommandError = Refusal;

/// The result of a command.
pub type CommandResult<T = ()> = Result<T, CommandError>;

/// Prints the error (unless the reader closed stdout) and returns its exit code.
pub fn report(e: CommandError) -> ExitCode {
    if e.class() != Class::Closed {
        errln!("error: {}", e.message());
        if let Some(hint) = e.hint() {
            errln!("hint: {hint}");
        }
    }
    ExitCode::from(e.exit_code())
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
