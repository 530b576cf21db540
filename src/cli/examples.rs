//! One example per command, in one table: what `--help` ends with (clap's `after_help`) and
//! what the EXAMPLES section of each man page shows, so the two cannot disagree.
//!
//! The table is applied when the clap command is built ([`apply`]), keyed by the command's path
//! (`"key gen"`; `""` is `reg` itself). A command without an entry still builds: a test
//! (`help_docs`) walks every subcommand and fails on one without an example, so a new command
//! is given one on purpose, as `error.rs` does for a new error.

use clap::Command;

/// Each command's examples, by path: command lines as an operator types them, with the
/// placeholders of the usage line (`OPERATOR.pem`, `MODEL`) where a value is site-specific.
pub const EXAMPLES: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "reg key gen keys/root.pem",
            "reg init --root-key keys/root.pem",
            "reg --registry /srv/models status",
        ],
    ),
    ("init", &["reg init --root-key keys/root.pem"]),
    ("key", &["reg key list"]),
    (
        "key gen",
        &["reg key gen keys/op.pem", "reg key gen --age keys/site.age"],
    ),
    (
        "key fingerprint",
        &["reg key fingerprint keys/root.pem.pub"],
    ),
    ("key list", &["reg key list --json"]),
    (
        "key trust",
        &[
            "reg key trust keys/op.pem.pub --role operator --name \"alice, duty operator\" --reason \"duty operator\" --key keys/root.pem",
        ],
    ),
    (
        "key withdraw",
        &[
            "reg key withdraw 3f2a9c0d5e8b7a61c4d2e0f9b8a7c6d5 --role publisher --reason \"now operator only\" --key keys/root.pem",
        ],
    ),
    (
        "key revoke",
        &[
            "reg key revoke 3f2a9c0d5e8b7a61c4d2e0f9b8a7c6d5 --compromised --reason \"laptop stolen\" --key keys/root.pem",
        ],
    ),
    (
        "bundle",
        &["reg bundle verify det.tar --publisher keys/pub.pem.pub"],
    ),
    (
        "bundle pack",
        &[
            "reg bundle pack model/ -o det.tar --key keys/pub.pem --name det --version 1.0.0 --type ML --use classification --description \"detects ransomware\"",
        ],
    ),
    (
        "bundle verify",
        &["reg bundle verify det.tar --publisher keys/pub.pem.pub"],
    ),
    ("add", &["reg add det.tar --key keys/op.pem"]),
    (
        "promote",
        &["reg promote det@1.0.0 --reason \"passed evaluation\" --key keys/op.pem"],
    ),
    (
        "deprecate",
        &["reg deprecate det@1.0.0 --reason \"superseded by 1.1.0\" --key keys/op.pem"],
    ),
    (
        "revoke",
        &["reg revoke det@1.0.0 --replace det@1.1.0 --reason \"CVE-2026-1234\" --key keys/op.pem"],
    ),
    (
        "reapprove",
        &[
            "reg reapprove det@1.0.0 --reason \"checked after the key compromise\" --key keys/op2.pem",
        ],
    ),
    (
        "activate",
        &["reg activate prod det@1.0.0 --reason \"release 12\" --key keys/op.pem"],
    ),
    (
        "deactivate",
        &["reg deactivate prod --reason \"maintenance\" --key keys/op.pem"],
    ),
    (
        "list",
        &[
            "reg list",
            "reg list --state PROMOTED --type LLM --label team=soc --json",
        ],
    ),
    (
        "show",
        &[
            "reg show det@1.0.0",
            "reg show det@latest",
            "reg show --slot prod --json",
            "reg show --card det@1.0.0 > det-1.0.0.md",
        ],
    ),
    (
        "diff",
        &[
            "reg diff det@1.0.0 det@latest",
            "reg diff det@1.0.0 det@1.1.0 --json",
        ],
    ),
    ("status", &["reg status", "reg status --code"]),
    ("renew", &["reg renew --key keys/timestamp.pem"]),
    ("fsck", &["reg fsck", "reg fsck --scan /opt/models"]),
    (
        "check",
        &[
            "reg check --slot prod /opt/models/det/model.onnx",
            "reg check --slot prod --log /var/log/reg-gate.log ~/.cache/huggingface/hub/models--acme--det/snapshots/main/",
            "reg check --verify-log /var/log/reg-gate.log",
        ],
    ),
    (
        "verify",
        &["reg verify det@1.0.0", "reg verify --slot prod"],
    ),
    (
        "checkout",
        &[
            "reg checkout det@1.0.0 -o /opt/models/det",
            "reg checkout --slot prod -o /opt/models/prod",
            "reg checkout det@1.0.0 --bundle /media/usb/det-1.0.0.tar --json",
        ],
    ),
    (
        "export",
        &[
            "reg export full.regx",
            "reg export update.regx --since /media/usb/checkpoint",
            "reg export - --since-seq 41 > /media/usb/update.regx",
        ],
    ),
    (
        "import",
        &[
            "reg import --dry-run --json update.regx",
            "reg import update.regx",
            "reg import - < /media/usb/update.regx",
            "reg import --reset /media/usb/home-full.regx",
        ],
    ),
    ("clone", &["reg clone /media/usb/full.regx /srv/models"]),
    (
        "repair",
        &[
            "reg repair --from /media/usb/full.regx --dry-run --json",
            "reg repair --from /media/usb/full.regx",
        ],
    ),
    ("drift", &["reg drift list det@1.0.0"]),
    (
        "drift record",
        &[
            "reg drift record det@1.0.0 observation.json --key keys/reporter.pem",
            "reg drift record --slot prod observation.json --key keys/reporter.pem --outbox",
        ],
    ),
    (
        "drift list",
        &[
            "reg drift list det@1.0.0 --since 2026-01-01T00:00:00Z",
            "reg drift list --all --json",
        ],
    ),
    (
        "drift export",
        &[
            "reg drift export /media/usb/drift.regd",
            "reg drift export - --since 2026-10-01T00:00:00Z > drift.regd",
        ],
    ),
    (
        "drift import",
        &[
            "reg drift import /media/usb/drift.regd --key keys/op.pem",
            "reg drift import /media/usb/drift.regd --key keys/op.pem --json",
        ],
    ),
    ("gc", &["reg gc"]),
    (
        "purge",
        &["reg purge det@0.9.0 --reason \"retention ended\" --key keys/op.pem"],
    ),
    (
        "completions",
        &["reg completions bash > /etc/bash_completion.d/reg"],
    ),
    ("man", &["reg man -o /usr/local/share/man/man1"]),
    ("deny", &["reg deny list"]),
    ("deny list", &["reg deny list --json"]),
    (
        "deny lift",
        &[
            "reg deny lift 9b1e6d0c2f4a8e7d3c5b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d --reason \"false positive\" --key keys/root.pem",
        ],
    ),
    ("policy", &["reg policy show"]),
    ("policy show", &["reg policy show"]),
    (
        "policy set",
        &[
            "reg policy set --refuse-format pickle --reason \"no code in models\" --key keys/root.pem",
        ],
    ),
    ("recipients", &["reg recipients list"]),
    ("recipients list", &["reg recipients list"]),
    (
        "recipients set",
        &["reg recipients set age1... --reason \"site A decryption key\" --key keys/root.pem"],
    ),
    ("ledger", &["reg ledger verify"]),
    ("ledger verify", &["reg ledger verify"]),
    ("ledger export", &["reg ledger export > ledger.jsonl"]),
    (
        "log",
        &[
            "reg log det@1.0.0 -n 5",
            "reg log --slot prod",
            "reg log --actor \"alice, duty operator\" --since 2026-01-01T00:00:00Z --json",
        ],
    ),
    ("trust", &["reg trust list"]),
    (
        "trust add",
        &["reg trust add 3f2a9c0d5e8b7a61c4d2e0f9b8a7c6d5 --head CODE"],
    ),
    ("trust list", &["reg trust list --json"]),
    (
        "trust remove",
        &["reg trust remove 3f2a9c0d5e8b7a61c4d2e0f9b8a7c6d5"],
    ),
];

/// The examples of the command at `path` (`"key gen"`; `""` for `reg`), if it has any.
pub fn of(path: &str) -> Option<&'static [&'static str]> {
    EXAMPLES.iter().find(|(p, _)| *p == path).map(|(_, e)| *e)
}

/// Gives `cmd` (at `path`) and each of its subcommands, recursively, the examples of the table
/// as the end of their help.
pub fn apply(mut cmd: Command, path: &str) -> Command {
    if let Some(lines) = of(path) {
        let heading = cmd.get_styles().get_header();
        let mut text = format!("{heading}Examples:{heading:#}");
        for line in lines {
            text.push_str("\n  ");
            text.push_str(line);
        }
        cmd = cmd.after_help(text);
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let sub = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        cmd = cmd.mut_subcommand(&name, |s| apply(s, &sub));
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of an example as a shell would split them (double quotes group), up to a
    /// redirection.
    fn words(line: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        let mut any = false;
        for c in line.chars() {
            match c {
                '"' => {
                    quoted = !quoted;
                    any = true;
                }
                ' ' if !quoted => {
                    if any {
                        out.push(std::mem::take(&mut word));
                    }
                    any = false;
                }
                // A redirection ends the command line (`> out`, `< in`).
                '>' | '<' if !quoted => break,
                _ => {
                    word.push(c);
                    any = true;
                }
            }
        }
        if any {
            out.push(word);
        }
        out
    }

    /// Every command path of `cmd`, recursively (`help` left out).
    fn paths(cmd: &Command, path: &str, out: &mut Vec<String>) {
        out.push(path.to_string());
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let p = if path.is_empty() {
                sub.get_name().to_string()
            } else {
                format!("{path} {}", sub.get_name())
            };
            paths(sub, &p, out);
        }
    }

    #[test]
    fn every_command_has_an_example_and_every_entry_a_command() {
        let mut all = Vec::new();
        paths(&crate::cli::command(), "", &mut all);
        let missing: Vec<&String> = all.iter().filter(|p| of(p).is_none()).collect();
        assert!(
            missing.is_empty(),
            "commands without an example: {missing:?}"
        );
        for (path, lines) in EXAMPLES {
            assert!(all.iter().any(|p| p == path), "`{path}` is no command");
            assert!(!lines.is_empty(), "`{path}` has no example line");
        }
    }

    /// Each example is a command line reg accepts, of the command it illustrates.
    #[test]
    fn every_example_parses() {
        for (path, lines) in EXAMPLES {
            for line in *lines {
                let argv = words(line);
                assert_eq!(argv[0], "reg", "{line}");
                if let Err(e) = crate::cli::command().try_get_matches_from(&argv) {
                    panic!("`{line}` does not parse: {e}");
                }
                let named: Vec<&str> = path.split(' ').filter(|w| !w.is_empty()).collect();
                let mut rest = argv.iter().skip(1).filter(|w| !w.starts_with('-'));
                if !path.is_empty() && !line.starts_with("reg --") {
                    for w in named {
                        assert_eq!(rest.next().map(String::as_str), Some(w), "{line}");
                    }
                }
            }
        }
    }

    #[test]
    fn words_split_as_a_shell_does() {
        assert_eq!(
            words(r#"reg a --reason "two words" x > out"#),
            ["reg", "a", "--reason", "two words", "x"]
        );
        assert_eq!(words("reg import - < in.regx"), ["reg", "import", "-"]);
    }
}
