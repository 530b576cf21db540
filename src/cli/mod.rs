//! The command-line interface: one file per command, each a clap `Args` and a `run` that calls
//! the library and prints. Errors become messages and exit codes in `error.rs` only.

/// `println!` that returns an error instead of panicking when stdout is closed (`reg log | head`),
/// and escapes what a terminal would obey (`sanitize.rs`): every line for people goes through it.
macro_rules! outln {
    ($($arg:tt)*) => {{
        $crate::cli::sanitize::write_line(std::io::stdout().lock(), format_args!($($arg)*))?;
    }};
}

/// `eprintln!` for warnings, notes and errors, escaped like `outln!`; a failed write to stderr
/// has nowhere to be reported, so it is ignored.
macro_rules! errln {
    ($($arg:tt)*) => {{
        let _ = $crate::cli::sanitize::write_line(std::io::stderr().lock(), format_args!($($arg)*));
    }};
}

/// A message for people: `outln!`, or `errln!` when standard output carries data (`-o -`,
/// `--json`), so that nothing but the data reaches it.
macro_rules! infoln {
    ($to_stderr:expr, $($arg:tt)*) => {{
        if $to_stderr {
            errln!($($arg)*);
        } else {
            outln!($($arg)*);
        }
    }};
}

/// Prints a value as `--json`: exact for a parser, safe on a terminal (`sanitize.rs`).
macro_rules! jsonln {
    ($value:expr) => {{
        $crate::cli::sanitize::write_json(std::io::stdout().lock(), $value)?;
    }};
}

/// What every command file uses from the command line's own modules, named once: a command
/// writes `use crate::cli::prelude::*`, in `key/` and `bundle/` as at the top, rather than a
/// `super::super::` path per item.
pub(crate) mod prelude {
    pub(crate) use super::Context;
    pub(crate) use super::error::{CommandError, CommandResult};
    pub(crate) use super::sign::Signing;
    pub(crate) use super::written::{Print, Written};
}

mod add;
mod bundle;
mod check;
mod clone;
mod deny;
mod diff;
mod docs;
mod drift;
mod error;
mod examples;
mod export;
mod fsck;
mod gc;
mod import;
mod init;
mod key;
mod ledger;
mod list;
mod log;
mod model_arg;
mod policy;
mod progress;
mod reapprove;
mod recipients;
mod renew;
mod repair;
mod sanitize;
mod secrets;
mod show;
mod sign;
mod slot;
mod status;
mod stdio;
mod transition;
mod trust;
mod verify;
mod written;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use error::CommandResult;
use reg::crypto::keys::Fingerprint;
use reg::format::lifecycle::LifecycleState;
use reg::ops::lifecycle::SlotPlan;
use reg::repo::registry::{self, OpenOptions, Registry};
use reg::repo::trust::PinStatus;
use reg::util::encoding::Clock;
use std::path::PathBuf;
use std::process::ExitCode;

/// reg: an offline, signed registry that governs every AI/ML model a platform may use.
#[derive(Debug, Parser)]
#[command(name = "reg", version, about, max_term_width = 100)]
pub struct Cli {
    /// The registry: its `.registry` directory or the directory holding it
    /// [default: the current directory or a parent]
    #[arg(long, global = true, env = "REG_DIR", value_name = "PATH", help_heading = GLOBAL)]
    registry: Option<PathBuf>,

    /// Trust only a registry whose genesis root key has this fingerprint (overrides host pins)
    #[arg(long, global = true, env = "REG_TRUST", value_name = "FINGERPRINT", help_heading = GLOBAL)]
    trust: Option<Fingerprint>,

    /// Skip the rollback check: do not require, read or write this host's record of the last
    /// checkpoint it verified, so an older copy of a registry is not recognised as one
    #[arg(long, global = true, help_heading = GLOBAL)]
    skip_rollback_check: bool,

    /// No progress bars (they are only ever drawn on a terminal, on stderr)
    #[arg(long, short, global = true, help_heading = GLOBAL)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the enum does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    Init(init::Args),
    #[command(subcommand)]
    Key(key::KeyCommand),
    #[command(subcommand)]
    Bundle(bundle::BundleCommand),
    Add(add::Args),
    /// Approve a model: REGISTERED or DEPRECATED -> PROMOTED
    Promote(transition::Args),
    /// Phase a model out: PROMOTED -> DEPRECATED (it stays active until replaced)
    Deprecate(transition::Args),
    /// Revoke a model for good; say what happens to its slots with --deactivate or --replace
    Revoke(transition::RevokeArgs),
    Reapprove(reapprove::Args),
    Activate(slot::ActivateArgs),
    Deactivate(slot::DeactivateArgs),
    List(list::Args),
    Show(show::Args),
    Diff(diff::Args),
    Status(status::Args),
    Renew(renew::Args),
    Fsck(fsck::Args),
    Check(check::Args),
    Verify(verify::VerifyArgs),
    Checkout(verify::CheckoutArgs),
    Export(export::Args),
    Import(import::Args),
    Clone(clone::Args),
    Repair(repair::Args),
    #[command(subcommand)]
    Drift(drift::DriftCommand),
    Gc(gc::GcArgs),
    Completions(docs::CompletionsArgs),
    Man(docs::ManArgs),
    Purge(gc::PurgeArgs),
    #[command(subcommand)]
    Deny(deny::DenyCommand),
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    #[command(subcommand)]
    Recipients(recipients::RecipientsCommand),
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    Log(log::Args),
    #[command(subcommand)]
    Trust(trust::TrustCommand),
}

/// The help heading of the options every command takes, listed apart from its own.
const GLOBAL: &str = "Global options";

/// The global options that name or judge a registry: hidden from the help and man page of
/// every command in [`NO_REGISTRY`], which reads none.
const REGISTRY_OPTIONS: [&str; 3] = ["registry", "trust", "skip_rollback_check"];

/// The commands (paths) that open no registry: the publisher's and anyone's tools, and the
/// documentation. A group is listed when none of its commands opens one.
const NO_REGISTRY: &[&[&str]] = &[
    &["key", "gen"],
    &["key", "fingerprint"],
    &["bundle"],
    &["bundle", "pack"],
    &["bundle", "verify"],
    &["completions"],
    &["man"],
];

/// The command line as reg parses it, documents it (`--help`, `reg man`) and completes it: the
/// derived definition, with the examples of `examples.rs`, and the registry options hidden
/// where no registry is used. The global options stay accepted there, so
/// `reg --registry X key gen K` is not an error, only not advertised.
pub fn command() -> clap::Command {
    let cmd = examples::apply(Cli::command(), "");
    let hidden: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| REGISTRY_OPTIONS.contains(&a.get_id().as_str()))
        .map(|a| a.clone().hide(true))
        .collect();
    NO_REGISTRY
        .iter()
        .fold(cmd, |cmd, path| hide_in(cmd, path, &hidden))
}

/// Gives the subcommand at `path` its own hidden copy of each option of `hidden`: clap
/// propagates a global option only to subcommands that lack one of the same id, and a global
/// copy goes on down to the subcommand's own subcommands.
fn hide_in(cmd: clap::Command, path: &[&str], hidden: &[clap::Arg]) -> clap::Command {
    match path {
        [] => hidden.iter().fold(cmd, |c, a| c.arg(a.clone())),
        [first, rest @ ..] => cmd.mut_subcommand(first, |s| hide_in(s, rest, hidden)),
    }
}

/// `command()` for this environment: an option read from a variable that is set but empty
/// (`REG_DIR=`) reads it as unset, as the shell's `${REG_DIR:-}` would, instead of as an
/// empty value that fails.
fn command_for_env() -> clap::Command {
    fn unset_empty(mut cmd: clap::Command) -> clap::Command {
        let empty: Vec<clap::Id> = cmd
            .get_arguments()
            .filter(|a| {
                a.get_env()
                    .and_then(std::env::var_os)
                    .is_some_and(|v| v.is_empty())
            })
            .map(|a| a.get_id().clone())
            .collect();
        for id in empty {
            cmd = cmd.mut_arg(id, |a| a.env(None));
        }
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        for name in names {
            cmd = cmd.mut_subcommand(name, unset_empty);
        }
        cmd
    }
    unset_empty(command())
}

/// What every command may need: where the registry is, whom to trust, and what the library
/// would otherwise read from the environment.
pub struct Context {
    opts: OpenOptions,
}

impl Context {
    /// Finds and opens the registry, checking its root against the host's pin; says so on
    /// stderr when there is no pin.
    fn open(&self) -> Result<Registry, registry::RegistryError> {
        let reg = Registry::find(&self.opts)?;
        if *reg.pin() == PinStatus::Unpinned {
            errln!(
                "note: registry {} is not pinned on this host; it was checked only against itself \
                 (check its root key {} and its head code with its owner out of band, then \
                 `reg trust add FINGERPRINT --head CODE`)",
                reg.id(),
                reg.root()
            );
        }
        Ok(reg)
    }

    /// Where to look for the registry: `--registry`, `REG_DIR`, or none (the current directory
    /// and its parents).
    fn registry(&self) -> Option<&std::path::Path> {
        self.opts.registry.as_deref()
    }
}

/// Parses arguments, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match command_for_env()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => return error::usage_error(e),
    };
    progress::install(cli.quiet);
    let ctx = match open_options(cli.registry, cli.trust, !cli.skip_rollback_check) {
        Ok(opts) => Context { opts },
        Err(e) => return error::report(e.into()),
    };
    if cli.skip_rollback_check {
        errln!(
            "warning: --skip-rollback-check: this host neither checks nor records which checkpoint it verified; an older copy of a registry would be accepted"
        );
    }
    dispatch(&ctx, cli.command).unwrap_or_else(error::report)
}

/// The library's options from the environment, by the library's one reading of it
/// ([`OpenOptions::from_env`]), with what the command line said: clap has already read
/// `REG_DIR` and `REG_TRUST` into `--registry` and `--trust` (an empty value as unset), so
/// those win, and `--skip-rollback-check`.
fn open_options(
    registry: Option<PathBuf>,
    trust: Option<Fingerprint>,
    rollback_check: bool,
) -> Result<OpenOptions, reg::crypto::keys::KeyError> {
    // REG_TRUST is clap's to read (a malformed value was refused as the value of --trust).
    let mut opts = OpenOptions::from_vars(|name| match name {
        "REG_TRUST" => None,
        _ => std::env::var_os(name),
    })?
    .with_rollback_check(rollback_check);
    if let Some(path) = registry {
        opts = opts.with_registry(path);
    }
    if let Some(root) = trust {
        opts = opts.with_trust(root);
    }
    Ok(opts)
}

/// The clock of the commands that open no registry but write a time (`reg bundle pack`): the
/// library's reading of `SOURCE_DATE_EPOCH`.
pub fn clock() -> Clock {
    reg::repo::options::clock_from_vars(|name| std::env::var_os(name))
}

/// Runs one command. fsck and check have their own exit codes (0 PASS/ALLOW, 1 FAIL/DENY), and
/// diff with --exit-code (1 when the records differ);
/// every other command succeeds with 0, and errors get theirs in `error.rs`.
fn dispatch(ctx: &Context, command: Command) -> CommandResult<ExitCode> {
    let done = match command {
        Command::Fsck(a) => return fsck::run(ctx, a),
        Command::Check(a) => return check::run(ctx, a),
        Command::Diff(a) => return diff::run(ctx, a),
        Command::Init(a) => init::run(ctx, a),
        Command::Key(c) => key::run(ctx, c),
        Command::Bundle(c) => bundle::run(c),
        Command::Add(a) => add::run(ctx, a),
        Command::Promote(a) => {
            transition::run(ctx, a, LifecycleState::Promoted, SlotPlan::Unspecified)
        }
        Command::Deprecate(a) => {
            transition::run(ctx, a, LifecycleState::Deprecated, SlotPlan::Unspecified)
        }
        Command::Revoke(a) => transition::revoke(ctx, a),
        Command::Reapprove(a) => reapprove::run(ctx, a),
        Command::Activate(a) => slot::activate(ctx, a),
        Command::Deactivate(a) => slot::deactivate(ctx, a),
        Command::List(a) => list::run(ctx, a),
        Command::Show(a) => show::run(ctx, a),
        Command::Status(a) => status::run(ctx, a),
        Command::Renew(a) => renew::run(ctx, a),
        Command::Policy(c) => policy::run(ctx, c),
        Command::Recipients(c) => recipients::run(ctx, c),
        Command::Ledger(c) => ledger::run(ctx, c),
        Command::Log(a) => log::run(ctx, a),
        Command::Trust(c) => trust::run(ctx, c),
        Command::Verify(a) => verify::verify(ctx, a),
        Command::Checkout(a) => verify::checkout(ctx, a),
        Command::Export(a) => export::run(ctx, a),
        Command::Import(a) => import::run(ctx, a),
        Command::Clone(a) => clone::run(ctx, a),
        Command::Repair(a) => repair::run(ctx, a),
        Command::Drift(c) => drift::run(ctx, c),
        Command::Gc(a) => gc::gc(ctx, a),
        Command::Completions(a) => docs::completions(a),
        Command::Man(a) => docs::man(a),
        Command::Purge(a) => gc::purge(ctx, a),
        Command::Deny(c) => deny::run(ctx, c),
    };
    done.map(|()| ExitCode::SUCCESS)
}
