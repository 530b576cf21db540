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

/// Prints a value as `--json`: exact for a parser, safe on a terminal (`sanitize.rs`).
macro_rules! jsonln {
    ($value:expr) => {{
        $crate::cli::sanitize::write_json(std::io::stdout().lock(), $value)?;
    }};
}

mod add;
mod bundle;
mod check;
mod docs;
mod drift;
mod error;
mod export;
mod fsck;
mod gc;
mod init;
mod key;
mod ledger;
mod list;
mod log;
mod policy;
mod progress;
mod recipients;
mod renew;
mod sanitize;
mod show;
mod slot;
mod status;
mod transition;
mod trust;
mod verify;

use clap::{Parser, Subcommand};
use reg::crypto::keys::{Fingerprint, PassphraseSource};
use reg::format::lifecycle::LifecycleState;
use reg::ops::lifecycle::SlotPlan;
use reg::repo::registry::{self, Registry};
use reg::repo::trust::{PinStatus, TrustOptions, default_trust_file};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

/// reg: an offline, signed registry that governs every AI/ML model a platform may use.
#[derive(Debug, Parser)]
#[command(name = "reg", version, about, max_term_width = 100)]
pub struct Cli {
    /// The registry: its `.registry` directory or the directory holding it
    /// [default: the current directory or a parent]
    #[arg(long, global = true, env = "REG_DIR", value_name = "PATH")]
    registry: Option<PathBuf>,

    /// Trust only a registry whose genesis root key has this fingerprint (overrides host pins)
    #[arg(long, global = true, env = "REG_TRUST", value_name = "FINGERPRINT")]
    trust: Option<Fingerprint>,

    /// Skip the rollback check: do not require, read or write this host's record of the last
    /// checkpoint it verified, so an older copy of a registry is not recognised as one
    #[arg(long, global = true)]
    skip_rollback_check: bool,

    /// No progress bars (they are only ever drawn on a terminal, on stderr)
    #[arg(long, short, global = true)]
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
    Activate(slot::ActivateArgs),
    Deactivate(slot::DeactivateArgs),
    List(list::Args),
    Show(show::Args),
    Status(status::Args),
    Renew(renew::Args),
    Fsck(fsck::Args),
    Check(check::Args),
    Verify(verify::VerifyArgs),
    Checkout(verify::CheckoutArgs),
    Export(export::Args),
    #[command(subcommand)]
    Drift(drift::DriftCommand),
    Gc(gc::GcArgs),
    Completions(docs::CompletionsArgs),
    Man(docs::ManArgs),
    Purge(gc::PurgeArgs),
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

/// What every command may need: where the registry is and whom to trust.
pub struct Context {
    registry: Option<PathBuf>,
    trust: TrustOptions,
}

impl Context {
    /// Finds and opens the registry, checking its root against the host's pin; says so on
    /// stderr when there is no pin.
    fn open(&self) -> anyhow::Result<Registry> {
        let dot = registry::discover(self.registry.as_deref())?;
        let reg = Registry::open(&dot, &self.trust)?;
        if *reg.pin() == PinStatus::Unpinned {
            errln!(
                "note: registry {} is not pinned on this host; it was checked only against itself \
                 (check its root key {} with its owner out of band, then `reg trust add` it)",
                reg.id(),
                reg.root()
            );
        }
        Ok(reg)
    }
}

/// Gets a key passphrase: `REG_KEY_PASSPHRASE`, else a prompt when stdin is a terminal.
pub fn passphrase_source() -> impl FnMut(&Path) -> Option<Zeroizing<String>> {
    |path: &Path| {
        if let Some(p) = std::env::var_os("REG_KEY_PASSPHRASE") {
            return Some(Zeroizing::new(p.to_string_lossy().into_owned()));
        }
        if std::io::stdin().is_terminal() {
            return rpassword::prompt_password(format!(
                "passphrase for {}: ",
                sanitize::Escaped(&path.display().to_string())
            ))
            .ok()
            .map(Zeroizing::new);
        }
        None
    }
}

/// A bundle passphrase: `REG_BUNDLE_PASSPHRASE`, else asked on the terminal (twice when `new`).
pub fn bundle_passphrase(new: bool) -> Option<age::secrecy::SecretString> {
    if let Some(p) = std::env::var_os("REG_BUNDLE_PASSPHRASE") {
        return Some(p.to_string_lossy().into_owned().into());
    }
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let first = Zeroizing::new(rpassword::prompt_password("bundle passphrase: ").ok()?);
    if new {
        let again = Zeroizing::new(rpassword::prompt_password("repeat bundle passphrase: ").ok()?);
        if first != again || first.is_empty() {
            errln!("error: the passphrases do not match or are empty");
            return None;
        }
    }
    Some(first.to_string().into())
}

/// Identities from `--identity` files, and the passphrase source for scrypt bundles.
pub fn identities_and_passphrase(
    files: &[PathBuf],
) -> anyhow::Result<(
    reg::bundle::Identities,
    impl FnMut() -> Option<age::secrecy::SecretString>,
)> {
    for f in files {
        check_identity_file(f)?;
    }
    let identities = reg::bundle::Decryption::load_identities(files)?;
    Ok((identities, || bundle_passphrase(false)))
}

/// Refuses an `--identity` file that holds another kind of key, saying which (age's own error
/// says only "non-identity data"); never prints the file's content.
fn check_identity_file(path: &Path) -> anyhow::Result<()> {
    use reg::crypto::keys::{KeyText, key_text_kind};
    // A key file is small; a larger file is left to age's reader, which names the bad line.
    let Ok(bytes) = reg::util::fsutil::read_small(path, 64 * 1024) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&bytes);
    match key_text_kind(&text) {
        None | Some(KeyText::AgeIdentity) => Ok(()),
        Some(kind) => anyhow::bail!(
            "`{}` is {}, not an age identity: --identity takes the identity file `reg key gen --age` \
             (or age-keygen) wrote",
            path.display(),
            kind.name()
        ),
    }
}

/// Loads the private key given with `--key`.
pub fn load_key(path: &Path) -> anyhow::Result<reg::crypto::keys::SecretKey> {
    let mut source = passphrase_source();
    let source: PassphraseSource<'_> = &mut source;
    Ok(reg::crypto::keys::load_secret(path, source)?)
}

/// Parses arguments, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    progress::install(cli.quiet);
    let ctx = Context {
        registry: cli.registry,
        trust: TrustOptions {
            explicit: cli.trust,
            file: default_trust_file(),
            host: reg::repo::trust::HostState {
                dir: reg::repo::trust::state_dir(),
                rollback_check: !cli.skip_rollback_check,
            },
        },
    };
    if cli.skip_rollback_check {
        errln!(
            "warning: --skip-rollback-check: this host neither checks nor records which checkpoint it verified; an older copy of a registry would be accepted"
        );
    }
    match dispatch(&ctx, cli.command) {
        Ok(code) => code,
        Err(e) => error::finish(Err(e)),
    }
}

/// Prints a command-line parsing error (or help, or the version) as clap does, except that a
/// value that may be key material (a secret pasted where a fingerprint or recipient goes) is
/// never echoed: the message then names the argument and what the value is, not the value.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue};
    let secret = match e.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(v)) if reg::crypto::keys::may_be_secret(v) => {
            Some(match reg::crypto::keys::key_text_kind(v) {
                Some(kind) => kind.name(),
                None => "possibly key material",
            })
        }
        _ => None,
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
        // an argument cannot drive the terminal either.
        for line in e.render().to_string().lines() {
            errln!("{line}");
        }
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    };
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(a)) => a.clone(),
        _ => "an argument".to_string(),
    };
    errln!("error: invalid value for '{arg}': the value given is {kind} and is not shown");
    errln!(
        "hint: never pass a secret key on the command line; `reg --help` lists what each argument takes"
    );
    ExitCode::from(2)
}

/// Runs one command. fsck and check have their own exit codes (0 PASS/ALLOW, 1 FAIL/DENY);
/// every other command succeeds with 0, and errors get theirs in `error.rs`.
fn dispatch(ctx: &Context, command: Command) -> anyhow::Result<ExitCode> {
    let done = match command {
        Command::Fsck(a) => return fsck::run(ctx, a),
        Command::Check(a) => return check::run(ctx, a),
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
        Command::Drift(c) => drift::run(ctx, c),
        Command::Gc(a) => gc::gc(ctx, a),
        Command::Completions(a) => docs::completions(a),
        Command::Man(a) => docs::man(a),
        Command::Purge(a) => gc::purge(ctx, a),
    };
    done.map(|()| ExitCode::SUCCESS)
}
