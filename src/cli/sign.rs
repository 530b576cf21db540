//! `--key` and `--reason`: how every command that signs takes its private key and, when its
//! entry records one, why. One clap definition for all of them, flattened into each command's
//! arguments; a [`Signer`] says whose key a command takes and what it signs, as its help shows.

use reg::crypto::keys::{KeyError, SecretKey};
use std::marker::PhantomData;
use std::path::PathBuf;

/// Whose key a command takes, and whether it records a reason: what its help says of them.
pub trait Signer {
    /// `--key`'s value name: the kind of key (`ROOT.pem`, `OPERATOR.pem`, ...).
    const KEY_NAME: &'static str;
    /// `--key`'s help: whose key, and what it signs.
    const KEY_HELP: &'static str;
    /// `--reason`, when the signed entry records one.
    const REASON: Option<Reason>;
}

/// A command's `--reason`: its help, and where it stands among the arguments.
#[derive(Debug, Clone, Copy)]
pub struct Reason {
    /// Its help.
    help: &'static str,
    /// Listed before `--key` (after it otherwise).
    first: bool,
}

/// The reason the operator's entries give, listed before the key.
const OPERATOR_REASON: Option<Reason> = Some(Reason {
    help: "Why (recorded in the ledger; required)",
    first: true,
});

/// Declares a [`Signer`]: a marker type per kind of signed thing.
macro_rules! signer {
    ($(#[$doc:meta])* $name:ident, $key_name:literal, $key_help:literal, $reason:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl Signer for $name {
            const KEY_NAME: &'static str = $key_name;
            const KEY_HELP: &'static str = $key_help;
            const REASON: Option<Reason> = $reason;
        }
    };
}

signer!(
    /// A root-signed entry: key trust and revocation, recipients, policy.
    RootEntry,
    "ROOT.pem",
    "A root private key of the registry, which signs the entry",
    Some(Reason {
        help: "Why (recorded in the ledger)",
        first: false,
    })
);
signer!(
    /// An `add` entry (`reg add`).
    AddEntry,
    "OPERATOR.pem",
    "The operator's private key, which signs the ledger entry",
    None
);
signer!(
    /// A lifecycle transition (`reg promote`, `deprecate`, `revoke`).
    TransitionEntry,
    "OPERATOR.pem",
    "The operator's private key, which signs the transition",
    OPERATOR_REASON
);
signer!(
    /// A slot change (`reg activate`, `deactivate`).
    SlotEntry,
    "OPERATOR.pem",
    "The operator's private key, which signs the change",
    OPERATOR_REASON
);
signer!(
    /// A re-approval of a suspended model (`reg reapprove`).
    ReapproveEntry,
    "OPERATOR.pem",
    "The operator's private key, which signs the re-approval",
    Some(Reason {
        help: "What was checked, and why the model may be used again (recorded in the ledger; required)",
        first: true,
    })
);
signer!(
    /// A purge (`reg purge`).
    PurgeEntry,
    "OPERATOR.pem",
    "The operator's private key, which signs the purge",
    OPERATOR_REASON
);
signer!(
    /// A drift observation (`reg drift record`).
    DriftEntry,
    "REPORTER.pem",
    "The reporter's private key, which signs the observation",
    None
);
signer!(
    /// Drift reports recorded at home (`reg drift import`).
    DriftImportEntry,
    "OPERATOR.pem",
    "The home operator's private key, which signs the entries that record the reports (each keeps its reporter's signature)",
    None
);
signer!(
    /// A renewal (`reg renew`).
    RenewEntry,
    "TIMESTAMP.pem",
    "The private key of a key the root trusts as `timestamp`, which signs the renewal",
    None
);
signer!(
    /// A bundle manifest (`reg bundle pack`).
    Manifest,
    "PUBLISHER.pem",
    "The publisher's private key, which signs the manifest",
    None
);

/// `--key KEY.pem` and, when `S` records one, `--reason TEXT`; flattened into a command's
/// arguments with `#[command(flatten)]`.
#[derive(Debug)]
pub struct Signing<S> {
    key: PathBuf,
    reason: String,
    signer: PhantomData<S>,
}

impl<S: Signer> Signing<S> {
    /// Loads the private key (asking for its passphrase if it has one).
    pub fn load(&self) -> Result<SecretKey, KeyError> {
        super::secrets::load_key(&self.key)
    }

    /// The reason given; empty when `S` records none.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

const KEY: &str = "key";
const REASON: &str = "reason";

impl<S: Signer> clap::Args for Signing<S> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Self::augment(cmd, true)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment(cmd, false)
    }
}

impl<S: Signer> Signing<S> {
    /// Adds the arguments as clap's derive would for `key: PathBuf` and `reason: String` fields
    /// with `#[arg(long)]`, in `S`'s order: help, usage and man pages read as before.
    fn augment(cmd: clap::Command, required: bool) -> clap::Command {
        let key = clap::Arg::new(KEY)
            .long(KEY)
            .value_name(S::KEY_NAME)
            .required(required)
            .value_parser(clap::value_parser!(PathBuf))
            .action(clap::ArgAction::Set)
            .help(S::KEY_HELP);
        let Some(reason) = S::REASON else {
            return cmd.arg(key);
        };
        let text = clap::Arg::new(REASON)
            .long(REASON)
            .value_name("REASON")
            .required(required)
            .value_parser(reason_text)
            .action(clap::ArgAction::Set)
            .help(reason.help);
        if reason.first {
            cmd.arg(text).arg(key)
        } else {
            cmd.arg(key).arg(text)
        }
    }
}

/// The value parser of every `--reason`: a reason that is empty or only blanks is refused while
/// the command line is parsed, a usage error (exit 2) like a missing `--reason`, before any key
/// is read. The ledger's rule refuses it too (FORMAT.md §5), for callers of the library.
pub fn reason_text(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("a reason is required: say why in words (it is empty or only blanks)".into());
    }
    Ok(text.to_string())
}

/// The error clap gives for a required argument that is missing (never reached: clap checks
/// required arguments while parsing).
fn missing(arg: &str) -> clap::Error {
    clap::Error::raw(
        clap::error::ErrorKind::MissingRequiredArgument,
        format!("--{arg} is required"),
    )
}

impl<S: Signer> clap::FromArgMatches for Signing<S> {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        let key = matches
            .remove_one::<PathBuf>(KEY)
            .ok_or_else(|| missing(KEY))?;
        let reason = match S::REASON {
            None => String::new(),
            Some(_) => matches
                .remove_one::<String>(REASON)
                .ok_or_else(|| missing(REASON))?,
        };
        Ok(Signing {
            key,
            reason,
            signer: PhantomData,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.update_from_arg_matches_mut(&mut matches.clone())
    }

    fn update_from_arg_matches_mut(
        &mut self,
        matches: &mut clap::ArgMatches,
    ) -> Result<(), clap::Error> {
        if let Some(key) = matches.remove_one::<PathBuf>(KEY) {
            self.key = key;
        }
        if S::REASON.is_some()
            && let Some(reason) = matches.remove_one::<String>(REASON)
        {
            self.reason = reason;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::Cli;
    use clap::{CommandFactory as _, Parser as _};

    /// `--key` and `--reason` of a command, in the order its help lists them, with the value
    /// name of `--key`.
    fn signing_args(path: &[&str]) -> (Vec<String>, String) {
        let mut cmd = Cli::command();
        cmd.build();
        let mut sub = &cmd;
        for p in path {
            sub = sub.find_subcommand(p).expect("a command");
        }
        let mut order = Vec::new();
        let mut key_name = String::new();
        for a in sub.get_arguments() {
            match a.get_long() {
                Some("key") => {
                    order.push("key".to_string());
                    key_name = a.get_value_names().expect("a value name")[0].to_string();
                }
                Some("reason") => order.push("reason".to_string()),
                _ => {}
            }
        }
        (order, key_name)
    }

    #[test]
    fn each_signing_command_takes_its_key_and_reason_in_its_own_order() {
        Cli::command().debug_assert();
        let operator = ["reason", "key"].map(String::from).to_vec();
        let root = ["key", "reason"].map(String::from).to_vec();
        let key_only = vec!["key".to_string()];
        let cases: &[(&[&str], &Vec<String>, &str)] = &[
            (&["promote"], &operator, "OPERATOR.pem"),
            (&["deprecate"], &operator, "OPERATOR.pem"),
            (&["revoke"], &operator, "OPERATOR.pem"),
            (&["activate"], &operator, "OPERATOR.pem"),
            (&["deactivate"], &operator, "OPERATOR.pem"),
            (&["purge"], &operator, "OPERATOR.pem"),
            (&["key", "trust"], &root, "ROOT.pem"),
            (&["key", "revoke"], &root, "ROOT.pem"),
            (&["policy", "set"], &root, "ROOT.pem"),
            (&["recipients", "set"], &root, "ROOT.pem"),
            (&["add"], &key_only, "OPERATOR.pem"),
            (&["drift", "record"], &key_only, "REPORTER.pem"),
            (&["drift", "import"], &key_only, "OPERATOR.pem"),
            (&["renew"], &key_only, "TIMESTAMP.pem"),
            (&["bundle", "pack"], &key_only, "PUBLISHER.pem"),
        ];
        for (path, order, key_name) in cases {
            assert_eq!(
                signing_args(path),
                ((*order).clone(), key_name.to_string()),
                "{path:?}"
            );
        }
    }

    #[test]
    fn the_key_and_the_reason_reach_the_command() {
        let cli = Cli::try_parse_from([
            "reg",
            "revoke",
            "m@1",
            "--key",
            "op.pem",
            "--reason",
            "why",
            "--deactivate",
        ])
        .expect("parses");
        let crate::cli::Command::Revoke(args) = cli.command else {
            panic!("not revoke: {:?}", cli.command);
        };
        let debug = format!("{args:?}");
        assert!(debug.contains("key: \"op.pem\""), "{debug}");
        assert!(debug.contains("reason: \"why\""), "{debug}");
        let missing = Cli::try_parse_from([
            "reg",
            "key",
            "revoke",
            "0123456789abcdef0123456789abcdef",
            "--key",
            "r.pem",
        ])
        .expect_err("--reason is required");
        assert_eq!(
            missing.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }
}
