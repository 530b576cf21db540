//! The one mapping from every library error to what its user is told: a [`Class`] (which fixes
//! the exit code, README "Exit codes"), one line saying what failed and where, and an optional
//! hint with the fix. The `reg` binary prints a [`Refusal`] (`src/cli/error.rs` only adds
//! `error:`/`hint:` and the exit status); the Python package raises one, by its class, with the
//! same message and hint: there is no second mapping anywhere.
//!
//! Every library error becomes a [`Refusal`] through its `From` impl in the files of this
//! module, each deciding the class and hint of its variants: a library error type without one is
//! a compile error at the `?` that would return it, never a silent exit 2. Every match names each
//! variant: there is no wildcard arm (each file that matches denies clippy's
//! `wildcard_enum_match_arm`, and a test below reads them), so a variant added to the library
//! does not compile until it is given its class and hint here, on purpose. To place a new error
//! type: a `From` impl calling `classified` with a function from its variants to a class and
//! hint.
//!
//! It sits at the top of the library, above `fsck`: it names the errors of every layer.
#![deny(clippy::wildcard_enum_match_arm)]

mod bundle;
mod gate;
mod keys;
mod ops;
mod registry;
mod report;
mod state;
mod transfer;

#[cfg(test)]
mod tests;

pub use bundle::BundleUse;
pub use gate::{unpinned, unpinned_hint};

use crate::repo::ledger::EntryProblem;
use crate::util::encoding::EncodingError;
use crate::util::fsutil::IoError;
use std::fmt::Display;

/// Why a command or call failed, refined from the exit code it gives: the Python package raises
/// an exception of this name, and the exit code stays what it always was.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// A rule refused the action (exit 1).
    Refused,
    /// The load gate denied a file: its bytes are not an approved artifact in the scope asked,
    /// or the path leads to no regular file (exit 1, as `reg check` denies it).
    Denied,
    /// A hash, a signature, or the verification of a ledger, chain or checkpoint failed: what
    /// was read is not what was written (exit 1).
    Tampered,
    /// The registry's root is not pinned on this host, or is not the pinned one (exit 1).
    Unpinned,
    /// Older than, or forked from, what this host (or the site) verified before (exit 1).
    RollbackOrFork,
    /// Bad usage or input (exit 2).
    InvalidInput,
    /// The file system failed (exit 2).
    IoFailure,
    /// Another writer holds the registry lock (exit 3).
    Busy,
    /// The reader closed standard output (`reg log | head`): how it said it has seen enough, a
    /// success (exit 0).
    Closed,
}

impl Class {
    /// The class's name, as the Python package names its exception.
    pub fn name(self) -> &'static str {
        match self {
            Class::Refused => "Refused",
            Class::Denied => "Denied",
            Class::Tampered => "Tampered",
            Class::Unpinned => "Unpinned",
            Class::RollbackOrFork => "RollbackOrFork",
            Class::InvalidInput => "InvalidInput",
            Class::IoFailure => "IOFailure",
            Class::Busy => "Busy",
            Class::Closed => "Closed",
        }
    }

    /// The exit code (README, "Exit codes").
    pub fn exit_code(self) -> u8 {
        match self {
            Class::Closed => 0,
            Class::Refused
            | Class::Denied
            | Class::Tampered
            | Class::Unpinned
            | Class::RollbackOrFork => 1,
            Class::InvalidInput | Class::IoFailure => 2,
            Class::Busy => 3,
        }
    }
}

impl Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed action as its user sees it: its class (the exit code), the message and the fix, if
/// there is one. Its `Display` is the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    class: Class,
    message: String,
    hint: Option<String>,
}

/// Most bytes of one error message. Library errors echo what they refuse through
/// `util::encoding::echo`, but a message built by a parser (serde's "unknown field `…`") can
/// carry a whole hostile input; every message is cut here, where every refusal is made, and
/// what may still be key material in it is hidden (`echo_message`).
const MESSAGE_LIMIT: usize = 2048;

/// What to do when something already exists where reg would write (exit 2, as a usage error:
/// reg never overwrites).
const EXISTS_HINT: &str = "choose another path, or remove it first: reg never overwrites a file";

/// The one class and hint of every "already exists" ([`crate::util::create::Exists`], which
/// every module's error carries): a usage error (exit 2), the same fix.
fn exists() -> Judged {
    (Class::InvalidInput, Some(EXISTS_HINT.into()))
}

/// The one class and hint of every other refusal of a new output
/// ([`crate::util::create::OutputRefused`], which every module's error carries beside
/// [`crate::util::create::Exists`]): one inside a registry is a usage error (exit 2, as
/// checkout's own), one replaced while it was written was tampered with (exit 1).
fn output_refused(e: &crate::util::create::OutputRefused) -> Judged {
    use crate::util::create::OutputRefused as O;
    match e {
        O::InsideRegistry(_) => (
            Class::InvalidInput,
            Some("write it outside `.registry/`, which holds only what reg writes there".into()),
        ),
        O::Replaced { .. } | O::ReplacedAtPublish(_) | O::NotOurs(_) => (
            Class::Tampered,
            Some("someone else can write the directory it is written in: write outputs in a directory only you can write".into()),
        ),
        O::BadPath(_) => (Class::Refused, None),
    }
}

impl From<crate::util::create::OutputRefused> for Refusal {
    fn from(e: crate::util::create::OutputRefused) -> Self {
        classified(e, output_refused)
    }
}

/// The class and hint a classification gives.
type Judged = (Class, Option<String>);

impl Refusal {
    /// A refusal of `class`; the message is cut and masked as every message is. Library errors
    /// become refusals through their `From` impls; this is for what a caller judges itself.
    pub fn new(class: Class, message: impl Display, hint: Option<String>) -> Refusal {
        Refusal {
            class,
            message: crate::util::encoding::echo_message(&message.to_string(), MESSAGE_LIMIT),
            hint,
        }
    }

    /// Bad usage or input the library did not judge: exit 2, no hint.
    pub fn usage(message: impl Display) -> Refusal {
        Refusal::new(Class::InvalidInput, message, None)
    }

    /// Bad usage the caller itself judges, with the fix: exit 2.
    pub fn usage_hint(message: impl Display, hint: impl Display) -> Refusal {
        Refusal::new(Class::InvalidInput, message, Some(hint.to_string()))
    }

    /// Why it failed.
    pub fn class(&self) -> Class {
        self.class
    }

    /// The message: one line saying what failed and where.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The fix, when there is one.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The exit code the `reg` binary gives (README, "Exit codes").
    pub fn exit_code(&self) -> u8 {
        self.class.exit_code()
    }
}

impl Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refusal {}

/// Builds the refusal from `e`'s message and the class and hint `classify` gives it.
fn classified<E: Display>(e: E, classify: impl FnOnce(&E) -> Judged) -> Refusal {
    let (class, hint) = classify(&e);
    Refusal::new(class, e, hint)
}

impl From<IoError> for Refusal {
    fn from(e: IoError) -> Self {
        Refusal::new(Class::IoFailure, e, None)
    }
}

impl From<crate::util::create::Exists> for Refusal {
    fn from(e: crate::util::create::Exists) -> Self {
        classified(e, |_| exists())
    }
}

impl From<EncodingError> for Refusal {
    fn from(e: EncodingError) -> Self {
        Refusal::usage(e)
    }
}

/// A parser's message quotes what it refused: shown through `EncodingError`, which echoes it.
impl From<serde_json::Error> for Refusal {
    fn from(e: serde_json::Error) -> Self {
        Refusal::usage(EncodingError::from(e))
    }
}

/// An entry the verified state names could not be read back: the store changed under it.
impl From<EntryProblem> for Refusal {
    fn from(e: EntryProblem) -> Self {
        Refusal::new(
            Class::Tampered,
            e,
            Some("the store was altered or damaged: run `reg fsck`".into()),
        )
    }
}

impl From<std::io::Error> for Refusal {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Refusal::new(Class::Closed, e, None);
        }
        Refusal::new(Class::IoFailure, e, None)
    }
}
