//! Bad input gets one clear error line (and a hint where there is a fix), a documented exit
//! code, and leaves the registry byte-for-byte as it was.

use crate::util::Sandbox;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;

/// Runs a failing command and checks its message, exit code, the one-line shape of the error
/// and that `.registry/` did not change.
fn refused(s: &Sandbox, code: i32, args: &[&str], needle: &str) -> String {
    let err = s.refused(code, args, needle);
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("note: ")).collect();
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
        "{err}"
    );
    err
}

#[test]
fn missing_unreadable_and_wrong_key_files() {
    let s = Sandbox::new();
    s.init();
    let trust = [
        "key",
        "trust",
        "root.pem.pub",
        "--role",
        "publisher",
        "--reason",
        "x",
        "--key",
    ];
    refused(
        &s,
        2,
        &[&trust[..], &["nope.pem"]].concat(),
        "`nope.pem`: No such file",
    );
    fs::write(s.join("junk.pem"), "not a key\n").unwrap();
    fs::set_permissions(s.join("junk.pem"), fs::Permissions::from_mode(0o600)).unwrap();
    refused(
        &s,
        2,
        &[&trust[..], &["junk.pem"]].concat(),
        "`junk.pem` is not an ed25519 private key",
    );
    fs::copy(s.join("root.pem.pub"), s.join("pubkey.pem")).unwrap();
    fs::set_permissions(s.join("pubkey.pem"), fs::Permissions::from_mode(0o600)).unwrap();
    refused(
        &s,
        2,
        &[&trust[..], &["pubkey.pem"]].concat(),
        "is a public key; --key needs the secret key file",
    );
    refused(
        &s,
        2,
        &[
            "key",
            "trust",
            "root.pem",
            "--role",
            "publisher",
            "--reason",
            "x",
            "--key",
            "root.pem",
        ],
        "it is a private key; give the public key",
    );
}

#[test]
fn a_key_file_others_can_read_is_refused_with_the_fix() {
    let s = Sandbox::new();
    s.init();
    s.key("op.pem");
    fs::set_permissions(s.join("root.pem"), fs::Permissions::from_mode(0o644)).unwrap();
    let err = refused(
        &s,
        2,
        &[
            "key",
            "trust",
            "op.pem.pub",
            "--role",
            "operator",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ],
        "permissions 0644 for `root.pem` are too open",
    );
    assert!(err.contains("hint: run `chmod 600 root.pem`"), "{err}");
}

#[test]
fn passphrase_protected_keys() {
    let s = Sandbox::new();
    s.reg()
        .args(["key", "gen", "--passphrase", "root.pem"])
        .env("REG_KEY_PASSPHRASE", "correct horse")
        .assert()
        .success();
    assert!(
        fs::read_to_string(s.join("root.pem"))
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );
    assert_eq!(
        fs::metadata(s.join("root.pem"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    s.reg()
        .args(["init", "--root-key", "root.pem"])
        .env("REG_KEY_PASSPHRASE", "correct horse")
        .assert()
        .success();
    s.key("op.pem");
    let args = [
        "key",
        "trust",
        "op.pem.pub",
        "--role",
        "operator",
        "--key",
        "root.pem",
        "--reason",
        "x",
    ];
    let before = s.snapshot();
    let out = s
        .reg()
        .args(args)
        .env("REG_KEY_PASSPHRASE", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase for `root.pem`"));
    assert_eq!(before, s.snapshot());
    // No terminal and no REG_KEY_PASSPHRASE: say how to give one.
    let err = refused(
        &s,
        2,
        &args,
        "`root.pem` is passphrase-protected and no passphrase was given",
    );
    assert!(err.contains("hint: set REG_KEY_PASSPHRASE"), "{err}");
    s.reg()
        .args(args)
        .env("REG_KEY_PASSPHRASE", "correct horse")
        .assert()
        .success();
}

#[test]
fn trust_changes_need_a_root_key() {
    let s = Sandbox::new();
    let (_, op, publ) = s.init_with_roles();
    let new = s.key("new.pem");
    let err = refused(
        &s,
        1,
        &[
            "key",
            "trust",
            "new.pem.pub",
            "--role",
            "operator",
            "--key",
            "op.pem",
            "--reason",
            "x",
        ],
        &format!("key {op} signed a key-trust entry but does not hold the root role"),
    );
    assert!(
        err.contains("hint: this action must be signed with a key trusted as root"),
        "{err}"
    );
    refused(
        &s,
        1,
        &["key", "revoke", &op, "--key", "pub.pem", "--reason", "x"],
        &format!("key {publ} signed a key-revoke entry but does not hold the root role"),
    );
    refused(
        &s,
        1,
        &["key", "revoke", &op, "--key", "new.pem", "--reason", "x"],
        &format!("signed by key {new}, which this registry does not trust"),
    );
    refused(
        &s,
        1,
        &["recipients", "set", "--key", "op.pem", "--reason", "x"],
        &format!("key {op} signed a recipients entry but does not hold the root role"),
    );
}

#[test]
fn unknown_fingerprint_revoking_twice_trusting_twice() {
    let s = Sandbox::new();
    let (_, op, _) = s.init_with_roles();
    refused(
        &s,
        1,
        &[
            "key",
            "revoke",
            "0123456789abcdef0123456789abcdef",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ],
        "no key with fingerprint 0123456789abcdef0123456789abcdef is trusted",
    );
    // A malformed argument is a usage error, reported by clap before anything is read.
    let err = s.fails(
        2,
        &[
            "key",
            "revoke",
            "not-a-fingerprint",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ],
    );
    assert!(
        err.contains("`not-a-fingerprint` is not a key fingerprint (32 lowercase hex digits)"),
        "{err}"
    );
    refused(
        &s,
        1,
        &[
            "key",
            "trust",
            "op.pem.pub",
            "--role",
            "operator",
            "--key",
            "root.pem",
            "--reason",
            "again",
        ],
        &format!("key {op} already holds the operator role"),
    );
    s.ok(&[
        "key",
        "revoke",
        &op,
        "--key",
        "root.pem",
        "--reason",
        "left the team",
    ]);
    refused(
        &s,
        1,
        &[
            "key", "revoke", &op, "--key", "root.pem", "--reason", "again",
        ],
        &format!("key {op} was revoked at entry 3"),
    );
    refused(
        &s,
        1,
        &[
            "key",
            "trust",
            "op.pem.pub",
            "--role",
            "reporter",
            "--key",
            "root.pem",
            "--reason",
            "back",
        ],
        "a revoked key is never trusted again",
    );
    // A revoked key can no longer sign.
    refused(
        &s,
        1,
        &[
            "key",
            "trust",
            "pub.pem.pub",
            "--role",
            "reporter",
            "--key",
            "op.pem",
            "--reason",
            "x",
        ],
        &format!("signed by key {op} after its revocation at entry 3"),
    );
}

#[test]
fn the_last_root_key_cannot_be_revoked_but_a_rotated_one_can() {
    let s = Sandbox::new();
    let root = s.init();
    let err = refused(
        &s,
        1,
        &["key", "revoke", &root, "--key", "root.pem", "--reason", "x"],
        "it is the last unrevoked root key",
    );
    assert!(err.contains("hint: trust another root key first"), "{err}");
    let root2 = s.key("root2.pem");
    s.trust("root2.pem.pub", "root", "rotation");
    s.ok(&[
        "key",
        "revoke",
        &root,
        "--key",
        "root2.pem",
        "--reason",
        "rotation done",
    ]);
    refused(
        &s,
        1,
        &[
            "key",
            "revoke",
            &root2,
            "--key",
            "root2.pem",
            "--reason",
            "x",
        ],
        "last unrevoked root key",
    );
    // History signed by the old root stays valid.
    s.ok(&["ledger", "verify"]);
}

#[test]
fn an_empty_reason_is_refused() {
    let s = Sandbox::new();
    s.init();
    s.key("op.pem");
    // A usage error, refused as the command line is parsed, like a missing --reason.
    let before = s.snapshot();
    let err = s.fails(
        2,
        &[
            "key",
            "trust",
            "op.pem.pub",
            "--role",
            "operator",
            "--key",
            "root.pem",
            "--reason",
            "  ",
        ],
    );
    assert!(err.contains("a reason is required"), "{err}");
    assert_eq!(before, s.snapshot());
}

#[test]
fn a_corrupted_ledger_refuses_new_actions() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.key("rep.pem");
    let ids = s.ledger_ids();
    let p = s.object_path(&ids[1]);
    crate::util::make_writable(&p);
    let mut bytes = fs::read(&p).unwrap();
    bytes[30] ^= 4;
    fs::write(&p, bytes).unwrap();
    // As on a host that has not verified this registry yet (a medium just carried in): the
    // whole ledger is verified before the first write. (A host that verified it already trusts
    // its signed checkpoint and index; `reg ledger verify` and fsck re-check every entry.)
    fs::remove_dir_all(s.join("home/.local/state/reg")).unwrap();
    let err = refused(
        &s,
        1,
        &[
            "key",
            "trust",
            "rep.pem.pub",
            "--role",
            "reporter",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ],
        &format!("ledger entry 1 ({}): object {} is corrupt", ids[1], ids[1]),
    );
    assert!(
        err.contains("hint: the ledger was altered or damaged"),
        "{err}"
    );
}

#[test]
fn init_refuses_an_existing_registry() {
    let s = Sandbox::new();
    s.init();
    refused(
        &s,
        2,
        &["init", "--root-key", "root.pem"],
        "a registry already exists at `./.registry`",
    );
}

#[test]
fn a_newer_format_is_refused_by_name() {
    let s = Sandbox::new();
    s.init();
    let path = s.dot().join("config.json");
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("\"format_version\":5", "\"format_version\":6");
    fs::write(&path, text).unwrap();
    let err = refused(
        &s,
        2,
        &["key", "list"],
        "has format version 6, but this reg reads only version 5 or older",
    );
    assert!(
        err.contains("hint: this registry was written by a newer reg"),
        "{err}"
    );
}

#[test]
fn no_registry_found() {
    let s = Sandbox::new();
    let err = s.fails(2, &["key", "list"]);
    assert!(err.contains("error: no registry found in"), "{err}");
    assert!(err.contains("hint: create one with `reg init"), "{err}");
    let err = s.fails(2, &["--registry", "elsewhere", "key", "list"]);
    assert!(err.contains("no registry found at `elsewhere`"), "{err}");
}

#[test]
fn the_registry_is_found_like_git_finds_dot_git() {
    let s = Sandbox::new();
    s.init();
    fs::create_dir_all(s.join("a/b")).unwrap();
    s.reg()
        .current_dir(s.join("a/b"))
        .args(["ledger", "verify"])
        .assert()
        .success();
    let elsewhere = Sandbox::new();
    for p in [s.path().to_path_buf(), s.dot()] {
        elsewhere
            .reg()
            .env("REG_TRUST_FILE", s.trust_file())
            .arg("--registry")
            .arg(&p)
            .args(["ledger", "verify"])
            .assert()
            .success();
        elsewhere
            .reg()
            .env("REG_TRUST_FILE", s.trust_file())
            .env("REG_DIR", &p)
            .args(["ledger", "verify"])
            .assert()
            .success();
    }
}

#[test]
fn a_second_writer_waits_then_says_busy() {
    let s = Sandbox::new();
    s.init();
    s.key("op.pem");
    let lock = fs::OpenOptions::new()
        .write(true)
        .open(s.dot().join("lock"))
        .unwrap();
    lock.lock().unwrap();
    let before = s.snapshot();
    let out = s
        .reg()
        .env("REG_LOCK_TIMEOUT", "1")
        .args([
            "key",
            "trust",
            "op.pem.pub",
            "--role",
            "operator",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("registry is busy"));
    assert_eq!(before, s.snapshot());
    // Readers never take the lock.
    s.ok(&["ledger", "verify"]);
    lock.unlock().unwrap();
    s.trust("op.pem.pub", "operator", "x");
}

#[test]
fn invalid_recipients_are_refused() {
    let s = Sandbox::new();
    s.key("root.pem");
    let err = s.fails(
        1,
        &[
            "init",
            "--root-key",
            "root.pem",
            "--recipient",
            "age1notarecipient",
        ],
    );
    assert!(
        err.contains("`age1notarecipient` is not an age X25519 recipient"),
        "{err}"
    );
    assert!(!s.dot().exists());
}

#[test]
fn a_weak_public_key_is_refused() {
    let s = Sandbox::new();
    s.init();
    // SubjectPublicKeyInfo of the ed25519 identity point (small order): anyone could forge
    // signatures that verify under it with a lax verifier.
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, 0x01,
    ];
    der.extend_from_slice(&[0u8; 31]);
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        reg::util::encoding::b64_encode(&der)
    );
    fs::write(s.join("weak.pub"), pem).unwrap();
    refused(
        &s,
        1,
        &[
            "key",
            "trust",
            "weak.pub",
            "--role",
            "publisher",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ],
        "is a weak (small-order) ed25519 key and is refused",
    );
}

#[test]
fn a_symlink_in_the_object_store_is_never_followed() {
    let s = Sandbox::new();
    s.init_with_roles();
    let ids = s.ledger_ids();
    let p = s.object_path(&ids[1]);
    let moved = s.join("elsewhere");
    fs::rename(&p, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &p).unwrap();
    refused(
        &s,
        1,
        &["ledger", "verify"],
        &format!("object {} is not a regular file", ids[1]),
    );
}

#[test]
fn recipients_are_root_signed_and_checked() {
    let s = Sandbox::new();
    s.init();
    let r1 = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    let r2 = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";
    s.ok(&[
        "recipients",
        "set",
        r2,
        r1,
        r2,
        "--key",
        "root.pem",
        "--reason",
        "site keys",
    ]);
    // Sorted and de-duplicated: one list has one encoding.
    assert_eq!(s.ok(&["recipients", "list"]), format!("{r2}\n{r1}\n"));
    refused(
        &s,
        1,
        &[
            "recipients",
            "set",
            "age1bad",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ],
        "`age1bad` is not an age X25519 recipient",
    );
    s.ok(&[
        "recipients",
        "set",
        "--key",
        "root.pem",
        "--reason",
        "plaintext bundles only",
    ]);
    assert_eq!(s.ok(&["recipients", "list"]), "");
    s.ok(&["ledger", "verify"]);
}

#[test]
fn a_hostile_input_is_never_echoed_whole_in_an_error() {
    // A parser's own message ("unknown field `…`") can carry a whole hostile input: every
    // message is cut where errors are printed.
    let s = Sandbox::new();
    s.init_with_roles();
    let mut file = b"reg-drift-reports 1\n{\"".to_vec();
    file.extend(std::iter::repeat_n(b'A', 4 << 20));
    file.extend(b"\":1,\"count\":1}\n");
    std::fs::write(s.join("big.rep"), &file).unwrap();
    let out = s
        .reg()
        .args(["drift", "import", "big.rep", "--key", "op.pem"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr.starts_with("error: "),
        "{}",
        &stderr[..200.min(stderr.len())]
    );
    assert!(stderr.len() < 4096, "{} bytes of stderr", stderr.len());
}

#[test]
fn an_empty_part_of_a_transfer_file_and_a_log_that_is_no_file_get_messages_that_fit() {
    let s = Sandbox::new();
    s.init();
    s.ok(&["export", "full.regx"]);
    let bytes = fs::read(s.join("full.regx")).unwrap();
    let header_len = u32::from_be_bytes(bytes[21..25].try_into().unwrap()) as usize;
    let cp = 25 + header_len;
    // The checkpoint announced as 0 bytes, and the header: "empty", not "over the limit".
    let mut no_checkpoint = bytes.clone();
    no_checkpoint[cp..cp + 4].copy_from_slice(&0u32.to_be_bytes());
    fs::write(s.join("no-checkpoint.regx"), &no_checkpoint).unwrap();
    let mut no_header = bytes.clone();
    no_header[21..25].copy_from_slice(&0u32.to_be_bytes());
    fs::write(s.join("no-header.regx"), &no_header).unwrap();
    for (file, what) in [
        ("no-checkpoint.regx", "the checkpoint"),
        ("no-header.regx", "the header"),
    ] {
        for args in [
            &["import", file][..],
            &["export", "--verify", file],
            &["clone", file, "dest"],
        ] {
            let err = refused(&s, 1, args, "");
            assert!(
                err.starts_with(&format!(
                    "error: {what} is empty (0 bytes): a transfer file always carries one\n"
                )),
                "{args:?}: {err}"
            );
            assert!(!err.contains("over the limit"), "{err}");
        }
    }
    assert!(!s.join("dest").exists());
    // A FIFO, a device or a directory given as the decision log: what it is, and a hint that
    // fits (it was told to check the host state directory).
    let fifo = s.join("gate.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    fs::create_dir(s.join("logdir")).unwrap();
    let state = s.join("home/.local/state/reg");
    for (log, found) in [
        (fifo.to_str().unwrap(), "a FIFO"),
        ("/dev/full", "a character device"),
        ("/dev/null", "a character device"),
        ("logdir", "a directory"),
    ] {
        let host_before = crate::util::snapshot(&state);
        for args in [
            &["check", "--log", log, "root.pem"][..],
            &["check", "--verify-log", log],
        ] {
            let err = refused(&s, 2, args, "");
            assert_eq!(
                err,
                format!(
                    "error: decision log `{log}` is {found}, not a regular file: a decision log is a file reg appends to and reads back\n\
                     hint: name a regular file: a new one, or a log this host wrote (with --log, REG_GATE_LOG or --verify-log)\n"
                ),
                "{args:?}"
            );
        }
        assert_eq!(host_before, crate::util::snapshot(&state));
    }
}

/// `reg key gen` writes the private key 0600 and its public half 0644: the public key is meant
/// to be handed out, the private one is refused if anyone else may read it.
#[test]
fn a_new_key_is_private_and_its_public_half_is_readable_by_all() {
    let s = Sandbox::new();
    s.key("k.pem");
    let mode = |p: &str| fs::metadata(s.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("k.pem"), 0o600);
    assert_eq!(mode("k.pem.pub"), 0o644);
}
