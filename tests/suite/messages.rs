//! Messages that fit where they are printed, and one table of exit codes for every command
//! (README "Exit codes": 0 ok, 1 refused or failed check, 2 usage or I/O, 3 busy).
//!
//! CLI tests as data: each case is the environment, the arguments, the exit code, what stderr
//! must say and what it must never say; a refusal leaves `.registry/` as it was.

use crate::util::Sandbox;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;

/// One command and what it must do.
struct Case {
    /// Variables set for this run, on top of the sandbox's.
    env: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    code: i32,
    /// Each must be in what reg prints (stdout or stderr).
    says: &'static [&'static str],
    /// None may be in stderr.
    never: &'static [&'static str],
}

/// What no message of `reg bundle pack` says: a publisher is not sent to itself, and a schema
/// error speaks of flags, not of the schema's machinery.
const NOT_AT_PACK: &[&str] = &[
    "ask the publisher",
    "anyOf",
    "does not match \"^",
    "/type",
    "/uses",
    "/description",
    "manifest is invalid",
];

/// `reg bundle pack m --key pub.pem` with `rest`.
macro_rules! pack {
    ($($a:expr),* $(,)?) => {
        &["bundle", "pack", "m", "--key", "pub.pem", $($a),*]
    };
}

const CASES: &[Case] = &[
    // Schema errors at pack: the flag, the value, what is expected; exit 2 (usage).
    Case {
        env: &[],
        args: pack![
            "-o",
            "new.tar",
            "--name",
            "x",
            "--version",
            "1.0.0",
            "--type",
            "dl",
            "--use",
            "classification",
            "--description",
            "d"
        ],
        code: 2,
        says: &[
            "--type dl: expected one of ML, DL, LLM, ruleset",
            "hint: correct what is named",
        ],
        never: NOT_AT_PACK,
    },
    Case {
        env: &[],
        args: pack![
            "-o",
            "new.tar",
            "--name",
            "x",
            "--version",
            "1.0.0",
            "--type",
            "DL",
            "--use",
            "classification"
        ],
        code: 2,
        says: &["--description is required"],
        never: NOT_AT_PACK,
    },
    Case {
        env: &[],
        args: pack![
            "-o",
            "new.tar",
            "--name",
            "x",
            "--version",
            "1.0.0",
            "--type",
            "DL",
            "--use",
            "classificatio",
            "--description",
            "d"
        ],
        code: 2,
        says: &[
            "--use classificatio: expected one of classification,",
            ", or other:NAME",
        ],
        never: NOT_AT_PACK,
    },
    Case {
        env: &[],
        args: pack![
            "-o",
            "new.tar",
            "--name",
            "X",
            "--version",
            "1.0",
            "--type",
            "DL",
            "--use",
            "classification",
            "--description",
            "d"
        ],
        code: 2,
        says: &[
            "--version 1.0: expected a semantic version such as 1.4.0",
            "--name X: expected lowercase letters, digits",
        ],
        never: NOT_AT_PACK,
    },
    Case {
        env: &[],
        args: pack![
            "-o",
            "new.tar",
            "--name",
            "x",
            "--version",
            "1.0.0",
            "--type",
            "DL",
            "--use",
            "classification",
            "--description",
            "d",
            "--provenance",
            "corpus=md5:abc"
        ],
        code: 2,
        says: &["--provenance md5:abc: expected ALGORITHM:HEX"],
        never: NOT_AT_PACK,
    },
    // An existing output: exit 2 everywhere, with the same fix.
    Case {
        env: &[],
        args: pack![
            "-o",
            "taken.tar",
            "--name",
            "x",
            "--version",
            "1.0.0",
            "--type",
            "DL",
            "--use",
            "classification",
            "--description",
            "d"
        ],
        code: 2,
        says: &[
            "`taken.tar` already exists",
            "hint: choose another path, or remove it",
        ],
        never: NOT_AT_PACK,
    },
    Case {
        env: &[],
        args: &["init", "--root-key", "root.pem"],
        code: 2,
        says: &["already exists"],
        never: &[],
    },
    Case {
        env: &[],
        args: &["checkout", "det@1.0.0", "-o", "taken"],
        code: 2,
        says: &[
            "`taken` already exists",
            "hint: nothing was written: choose another path",
        ],
        never: &[],
    },
    Case {
        env: &[],
        args: &["checkout", "det@1.0.0", "--bundle", "taken.tar"],
        code: 2,
        says: &[
            "`taken.tar` already exists",
            "hint: nothing was written: choose another path",
        ],
        never: &[],
    },
    Case {
        env: &[],
        args: &["export", "taken.tar"],
        code: 2,
        says: &["already exists", "hint: choose another path, or remove it"],
        never: &[],
    },
    Case {
        env: &[],
        args: &["key", "gen", "taken.tar"],
        code: 2,
        says: &["already exists", "hint: choose another path, or remove it"],
        never: &[],
    },
    Case {
        env: &[],
        args: &["man", "-o", "taken"],
        code: 2,
        says: &[
            "`taken` already exists; reg man writes a new directory",
            "hint: choose another path, or remove it",
        ],
        never: &[],
    },
    Case {
        env: &[],
        args: &["key", "gen", "--age", "taken.tar"],
        code: 2,
        says: &[
            "`taken.tar` already exists; refusing to overwrite a key file",
            "hint: choose another path, or remove it",
        ],
        never: &["os error"],
    },
    // A public key as --key: said before any advice on permissions.
    Case {
        env: &[],
        args: &[
            "bundle",
            "pack",
            "m",
            "--key",
            "open.pub",
            "-o",
            "new.tar",
            "--name",
            "x",
            "--version",
            "1.0.0",
            "--type",
            "DL",
            "--use",
            "classification",
            "--description",
            "d",
        ],
        code: 2,
        says: &["this is a public key; --key needs the secret key file"],
        never: &["chmod", "too open"],
    },
    Case {
        env: &[],
        args: &[
            "promote",
            "det@1.0.0",
            "--reason",
            "ok",
            "--key",
            "op.pem.pub",
        ],
        code: 2,
        says: &[
            "this is a public key; --key needs the secret key file",
            "hint: give the secret key file `reg key gen` wrote beside it (`op.pem`, without .pub)",
        ],
        never: &["chmod", "too open"],
    },
    Case {
        env: &[],
        args: &[
            "promote",
            "det@1.0.0",
            "--reason",
            "ok",
            "--key",
            "site.age.pub",
        ],
        code: 2,
        says: &["an age recipient (public): this is a public key"],
        never: &["chmod", "too open"],
    },
    Case {
        env: &[],
        args: &[
            "promote",
            "det@1.0.0",
            "--reason",
            "ok",
            "--key",
            "id_ed25519.pub",
        ],
        code: 2,
        says: &["an OpenSSH public key: this is a public key"],
        never: &["chmod", "too open"],
    },
    // A reason missing, empty or blank: one usage error, exit 2.
    Case {
        env: &[],
        args: &["promote", "det@1.0.0", "--key", "op.pem"],
        code: 2,
        says: &["--reason"],
        never: &[],
    },
    Case {
        env: &[],
        args: &["promote", "det@1.0.0", "--reason", "", "--key", "op.pem"],
        code: 2,
        says: &["a reason is required"],
        never: &[],
    },
    Case {
        env: &[],
        args: &[
            "deprecate",
            "det@1.0.0",
            "--reason",
            " \t ",
            "--key",
            "op.pem",
        ],
        code: 2,
        says: &["a reason is required"],
        never: &[],
    },
    Case {
        env: &[],
        args: &[
            "key",
            "trust",
            "x.pem.pub",
            "--role",
            "operator",
            "--reason",
            "",
            "--key",
            "root.pem",
        ],
        code: 2,
        says: &["a reason is required"],
        never: &[],
    },
    // A refusal by a rule stays 1.
    Case {
        env: &[],
        args: &["promote", "det@1.0.0", "--reason", "ok", "--key", "pub.pem"],
        code: 1,
        says: &["operator"],
        never: &[],
    },
    // A variable set but empty counts as unset.
    Case {
        env: &[("REG_DIR", "")],
        args: &["status"],
        code: 0,
        says: &[],
        never: &[],
    },
    Case {
        env: &[("REG_TRUST", "")],
        args: &["status"],
        code: 0,
        says: &[],
        never: &[],
    },
    Case {
        env: &[("REG_STATE_DIR", ""), ("REG_TRUST_FILE", "")],
        args: &["list"],
        code: 0,
        says: &["det"],
        never: &[],
    },
    Case {
        env: &[("REG_GATE_LOG", "")],
        args: &["check", "m/a.txt"],
        code: 1,
        says: &["DENY"],
        never: &[],
    },
];

#[test]
fn every_class_of_error_has_its_exit_code_and_a_message_that_fits() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    fs::create_dir(s.join("m")).unwrap();
    fs::write(s.join("m/a.txt"), "weights\n").unwrap();
    fs::write(s.join("taken.tar"), "not to be replaced\n").unwrap();
    fs::create_dir(s.join("taken")).unwrap();
    s.key("x.pem");
    // A public key left world-readable, as public keys are.
    fs::copy(s.join("pub.pem.pub"), s.join("open.pub")).unwrap();
    fs::set_permissions(s.join("open.pub"), fs::Permissions::from_mode(0o644)).unwrap();
    s.ok(&["key", "gen", "--age", "site.age"]);
    let age = fs::read_to_string(s.join("site.age")).unwrap();
    let recipient = age
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap();
    fs::write(s.join("site.age.pub"), format!("{recipient}\n")).unwrap();
    fs::write(
        s.join("id_ed25519.pub"),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB8lz9nNqUoaB7N3y1oYt5r2W4p3k1JYc6m8V0a9Qb1c op@site\n",
    )
    .unwrap();
    for c in CASES {
        let before = s.snapshot();
        let taken = fs::read(s.join("taken.tar")).unwrap();
        let mut cmd = s.reg();
        for (k, v) in c.env {
            cmd.env(k, v);
        }
        let out = cmd.args(c.args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let what = format!("{:?} reg {:?}", c.env, c.args);
        assert_eq!(out.status.code(), Some(c.code), "{what}: {stderr}");
        let shown = format!("{stdout}{stderr}");
        for needle in c.says {
            assert!(
                shown.contains(needle),
                "{what}: expected `{needle}` in: {shown}"
            );
        }
        for bad in c.never {
            assert!(!stderr.contains(bad), "{what}: `{bad}` in: {stderr}");
        }
        if c.code != 0 {
            assert_eq!(before, s.snapshot(), "{what} changed the registry");
        }
        assert_eq!(taken, fs::read(s.join("taken.tar")).unwrap(), "{what}");
        assert!(!s.join("new.tar").exists(), "{what} wrote new.tar");
    }
}

/// `--metadata FILE` may leave fields to the flags; what neither gives is named by its flag.
#[test]
fn a_metadata_file_may_leave_fields_out_and_what_is_missing_is_named() {
    let s = Sandbox::new();
    s.key("pub.pem");
    fs::create_dir(s.join("m")).unwrap();
    fs::write(s.join("m/a.txt"), "weights\n").unwrap();
    fs::write(s.join("meta.json"), r#"{"name": "det", "type": "ML"}"#).unwrap();
    let err = s.fails(
        2,
        &[
            "bundle",
            "pack",
            "m",
            "-o",
            "b.tar",
            "--key",
            "pub.pem",
            "--metadata",
            "meta.json",
        ],
    );
    for needle in [
        "--version is required",
        "--use is required",
        "--description is required",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert!(!err.contains("missing field"), "{err}");
    s.ok(&[
        "bundle",
        "pack",
        "m",
        "-o",
        "b.tar",
        "--key",
        "pub.pem",
        "--metadata",
        "meta.json",
        "--version",
        "1.0.0",
        "--use",
        "detection",
        "--description",
        "d",
    ]);
}

/// The error mapping names every variant of every library error: a wildcard arm would give a
/// new variant an exit code and hint nobody chose (the module also denies clippy's
/// `wildcard_enum_match_arm`).
#[test]
fn the_error_mapping_has_no_wildcard_arm() {
    let text = include_str!("../../src/cli/error.rs");
    assert!(text.contains("#![deny(clippy::wildcard_enum_match_arm)]"));
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default().trim_start();
        assert!(
            !code.starts_with("_ =>") && !code.contains("| _ =>"),
            "src/cli/error.rs:{}: a wildcard arm: {line}",
            i + 1
        );
    }
    assert!(
        !text.contains("impl From<BundleError>"),
        "a bundle error needs its context"
    );
}
