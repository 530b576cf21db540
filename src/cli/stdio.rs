//! `-` for standard input and standard output, as age and tar take it (GUIDE, "Scripting").
//!
//! Where a command reads a file, `-` reads standard input: `reg add -`, `reg bundle verify -`,
//! `reg drift record MODEL -`. Where it writes one, `-o -` writes standard output (`reg bundle
//! pack DIR -o -`); a binary bundle is never written to a terminal, as age refuses to. Where
//! standard output makes no sense (a key file, a directory), `-` is refused by name instead of
//! creating a file called `-`. When standard output carries data, every message goes to
//! standard error (`infoln!`).

use crate::cli::prelude::*;
use reg::bundle::Source;
use std::io::IsTerminal as _;
use std::path::Path;

/// What messages call standard input.
pub const STDIN: &str = "standard input";

/// What messages call standard output.
pub const STDOUT: &str = "standard output";

/// Whether a path argument is `-`: standard input or output.
pub fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The bundle a path argument names, where `-` reads standard input (`reg add -`, `reg bundle
/// verify -`): one reading of the argument for every command that takes a bundle.
pub fn bundle_source<'a>(path: &'a Path, stdin: &'a mut std::io::Stdin) -> Source<'a> {
    if is_dash(path) {
        Source::Stream {
            reader: stdin,
            name: Path::new(STDIN),
        }
    } else {
        Source::Path(path)
    }
}

/// Refuses to write binary data to a terminal (age's rule): the bytes would garble it and are
/// lost. Exit 2.
pub fn refuse_terminal_stdout(what: &str) -> CommandResult {
    if std::io::stdout().is_terminal() {
        return Err(CommandError::usage_hint(
            format!("refusing to write binary output to a terminal ({what} to `-o -`)"),
            "write to a file with `-o FILE`, or pipe it: `... -o - | ...`",
        ));
    }
    Ok(())
}

/// [`refuse_terminal_stdout`] for a command whose output argument is `-` itself (`reg export
/// -`, `reg drift export -`): `what` names the data, `cmd` the command. Exit 2.
pub fn refuse_terminal_dash(what: &str, cmd: &str) -> CommandResult {
    if std::io::stdout().is_terminal() {
        return Err(CommandError::usage_hint(
            format!("refusing to write binary output to a terminal ({what} to `-`)"),
            format!("write to a file with `{cmd} FILE`, or pipe it: `{cmd} - | ...`"),
        ));
    }
    Ok(())
}

/// Refuses `-` for an output that standard output cannot be (`what`: a key file, a
/// directory), rather than create a file named `-`. Exit 2.
pub fn refuse_dash(path: &Path, what: &str) -> CommandResult {
    if is_dash(path) {
        return Err(CommandError::usage_hint(
            format!("`-` cannot be {what}: standard output is not one"),
            format!("name {what}; one really named `-` is `./-`"),
        ));
    }
    Ok(())
}
