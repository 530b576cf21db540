//! age interoperability with the real `age` binary, both ways, and passphrase bundles.

use crate::util::{Sandbox, tool};
use std::fs;
use std::process::Command;

fn setup() -> (Sandbox, String) {
    let s = Sandbox::new();
    s.init_with_roles();
    let out = Command::new(tool("age-keygen", "age"))
        .current_dir(s.path())
        .args(["-o", "site.key"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let recipient = String::from_utf8(
        Command::new("age-keygen")
            .current_dir(s.path())
            .args(["-y", "site.key"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    s.ok(&[
        "recipients",
        "set",
        &recipient,
        "--key",
        "root.pem",
        "--reason",
        "site A identity",
    ]);
    fs::create_dir_all(s.join("model")).unwrap();
    fs::write(s.join("model/weights.bin"), vec![3u8; 300_000]).unwrap();
    (s, recipient)
}

fn pack(s: &Sandbox, out: &str, version: &str, extra: &[&str]) {
    let mut args = vec![
        "bundle",
        "pack",
        "model",
        "-o",
        out,
        "--key",
        "pub.pem",
        "--name",
        "enc",
        "--version",
        version,
        "--type",
        "ML",
        "--use",
        "detection",
        "--description",
        "encrypted model",
    ];
    args.extend_from_slice(extra);
    s.ok(&args);
}

fn age(s: &Sandbox, args: &[&str]) -> std::process::Output {
    Command::new(tool("age", "age"))
        .current_dir(s.path())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_bundle_reg_encrypts_decrypts_with_age() {
    let (s, recipient) = setup();
    assert_eq!(s.ok(&["recipients", "list"]).trim(), recipient);
    pack(&s, "b.age", "1.0.0", &["--recipient", &recipient]);
    assert!(
        fs::read(s.join("b.age"))
            .unwrap()
            .starts_with(b"age-encryption.org/v1\n")
    );
    let out = age(&s, &["-d", "-i", "site.key", "-o", "b.tar", "b.age"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = crate::craft::python_list(&s.join("b.tar"));
    assert_eq!(listed[0].0, b"reg-manifest.json");
    // The decrypted tar is itself a valid bundle, and so is the encrypted one.
    s.ok(&["bundle", "verify", "b.tar", "--publisher", "pub.pem.pub"]);
    let out = s.ok(&["add", "b.age", "--key", "op.pem", "--identity", "site.key"]);
    let hash = blake3::hash(&fs::read(s.join("b.age")).unwrap())
        .to_hex()
        .to_string();
    assert!(
        out.contains(&format!("bundle BLAKE3 as received: {hash}")),
        "the ciphertext hash is recorded: {out}"
    );
}

#[test]
fn a_tar_that_age_encrypts_is_ingested() {
    let (s, recipient) = setup();
    pack(&s, "plain.tar", "1.0.0", &[]);
    assert!(
        age(&s, &["-r", &recipient, "-o", "bin.age", "plain.tar"])
            .status
            .success()
    );
    s.ok(&["add", "bin.age", "--key", "op.pem", "-i", "site.key"]);
    // ASCII-armored too, recognised by content whatever its name.
    pack(&s, "plain2.tar", "1.0.1", &[]);
    assert!(
        age(
            &s,
            &["-a", "-r", &recipient, "-o", "armored.tar", "plain2.tar"]
        )
        .status
        .success()
    );
    assert!(
        fs::read_to_string(s.join("armored.tar"))
            .unwrap()
            .starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
    );
    s.ok(&["add", "armored.tar", "--key", "op.pem", "-i", "site.key"]);
    assert_eq!(s.ok(&["list"]).lines().count(), 3);
}

#[test]
fn passphrase_bundles_both_ways() {
    let (s, _) = setup();
    // reg encrypts with a passphrase; age decrypts it (asking on a terminal, as age does).
    s.reg()
        .args([
            "bundle",
            "pack",
            "model",
            "-o",
            "p.age",
            "--key",
            "pub.pem",
            "--name",
            "enc",
            "--version",
            "2.0.0",
            "--type",
            "ML",
            "--use",
            "detection",
            "--description",
            "d",
            "--passphrase",
        ])
        .env("REG_BUNDLE_PASSPHRASE", "correct horse battery")
        .assert()
        .success();
    let age_bin = tool("age", "age").to_string_lossy().into_owned();
    let (shown, code) = s.in_pty(
        &[
            age_bin.clone(),
            "-d".into(),
            "-o".into(),
            "p.tar".into(),
            "p.age".into(),
        ],
        &["correct horse battery"],
    );
    assert_eq!(code, 0, "{shown}");
    s.ok(&["bundle", "verify", "p.tar", "--publisher", "pub.pem.pub"]);
    let out = s
        .reg()
        .args(["add", "p.age", "--key", "op.pem"])
        .env("REG_BUNDLE_PASSPHRASE", "correct horse battery")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // age encrypts with a passphrase; reg ingests it.
    pack(&s, "q.tar", "2.0.1", &[]);
    let (shown, code) = s.in_pty(
        &[
            age_bin,
            "-p".into(),
            "-o".into(),
            "q.age".into(),
            "q.tar".into(),
        ],
        &["tr0ub4dor&3", "tr0ub4dor&3"],
    );
    assert_eq!(code, 0, "{shown}");
    let before = s.snapshot();
    let err = s
        .reg()
        .args(["add", "q.age", "--key", "op.pem"])
        .env("REG_BUNDLE_PASSPHRASE", "wrong")
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&err.stderr).contains("cannot decrypt the bundle"));
    assert_eq!(before, s.snapshot());
    s.reg()
        .args(["add", "q.age", "--key", "op.pem"])
        .env("REG_BUNDLE_PASSPHRASE", "tr0ub4dor&3")
        .assert()
        .success();
}

#[test]
fn wrong_identity_and_truncated_ciphertext_are_refused() {
    let (s, recipient) = setup();
    pack(&s, "b.age", "1.0.0", &["--recipient", &recipient]);
    Command::new("age-keygen")
        .current_dir(s.path())
        .args(["-o", "other.key"])
        .output()
        .unwrap();
    let before = s.snapshot();
    let err = s.fails(1, &["add", "b.age", "--key", "op.pem", "-i", "other.key"]);
    assert!(err.contains("cannot decrypt the bundle"), "{err}");
    let err = s.fails(1, &["add", "b.age", "--key", "op.pem"]);
    assert!(
        err.contains("give the matching identity with --identity"),
        "{err}"
    );
    // Cut the ciphertext in the middle of the artifact: the plaintext released before the
    // error must never be committed.
    let bytes = fs::read(s.join("b.age")).unwrap();
    fs::write(s.join("cut.age"), &bytes[..bytes.len() / 2]).unwrap();
    let err = s.fails(1, &["add", "cut.age", "--key", "op.pem", "-i", "site.key"]);
    assert!(err.contains("truncated or was altered"), "{err}");
    // And a flipped byte in the last chunk.
    let mut flipped = bytes.clone();
    let n = flipped.len();
    flipped[n - 40] ^= 1;
    fs::write(s.join("flipped.age"), flipped).unwrap();
    let err = s.fails(
        1,
        &["add", "flipped.age", "--key", "op.pem", "-i", "site.key"],
    );
    assert!(err.contains("cannot decrypt the bundle"), "{err}");
    assert_eq!(before, s.snapshot());
}
