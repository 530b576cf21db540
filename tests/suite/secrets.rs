//! No output ever carries key material: every argument that takes a key, an identity, a
//! recipient, a fingerprint or a passphrase is given the wrong kind of file (an age identity, a
//! PKCS#8 private key plain and encrypted, a public key where a private one goes and the other
//! way round, an encrypted key without its passphrase), and neither stdout nor stderr may hold
//! the identity's `AGE-SECRET-KEY-1...` (in either case), any 20-character slice of it or of a
//! private key's PEM body, or a passphrase.

use crate::util::{Sandbox, snapshot, tool};
use std::fs;
use std::os::unix::fs::PermissionsExt as _;

const KEY_PASSPHRASE: &str = "correct-horse-key-passphrase";
const WRONG_PASSPHRASE: &str = "wrong-guess-passphrase-77";
const BUNDLE_PASSPHRASE: &str = "bundle-passphrase-battery-staple";

/// A registry with an operator, a publisher and a reporter, a registered model and the wrong
/// files: `id.age` (age identity), `enc.pem` (encrypted PKCS#8), `pubkey.pem` (a public key
/// readable only by its owner, so that --key looks at its content), `recipients.txt` (the
/// identity's recipient); returns the sandbox and the secret strings.
fn setup() -> (Sandbox, Vec<String>) {
    let s = Sandbox::new();
    s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    s.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule r { condition: true }\n".into())],
    );
    let recipient = s.ok(&["key", "gen", "--age", "id.age"]).trim().to_string();
    fs::write(s.join("recipients.txt"), format!("{recipient}\n")).unwrap();
    // Owner-only, so that --key reads it and says what it is instead of refusing its mode.
    fs::set_permissions(s.join("recipients.txt"), fs::Permissions::from_mode(0o600)).unwrap();
    let out = s
        .reg()
        .env("REG_KEY_PASSPHRASE", KEY_PASSPHRASE)
        .args(["key", "gen", "--passphrase", "enc.pem"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // A PKCS#8 private key of another algorithm, as OpenSSL writes it.
    let out = std::process::Command::new(tool("openssl", "openssl"))
        .current_dir(s.path())
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
            "rsa.pem",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::set_permissions(s.join("rsa.pem"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::copy(s.join("root.pem.pub"), s.join("pubkey.pem")).unwrap();
    fs::set_permissions(s.join("pubkey.pem"), fs::Permissions::from_mode(0o600)).unwrap();

    let identity = fs::read_to_string(s.join("id.age")).unwrap();
    let secret = identity
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_string();
    let mut secrets = vec![secret.to_lowercase(), secret];
    for pem in ["root.pem", "op.pem", "enc.pem", "rsa.pem"] {
        let text = fs::read_to_string(s.join(pem)).unwrap();
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        secrets.push(body);
    }
    secrets.push(KEY_PASSPHRASE.into());
    secrets.push(WRONG_PASSPHRASE.into());
    secrets.push(BUNDLE_PASSPHRASE.into());
    (s, secrets)
}

/// Every 20-character slice of every secret (a passphrase shorter than that: whole).
fn slices(secrets: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for s in secrets {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() <= 20 {
            out.push(s.clone());
            continue;
        }
        for w in chars.windows(20) {
            out.push(w.iter().collect());
        }
    }
    out
}

/// Runs a command that must fail, with `env` set, and checks that no secret slice appears in
/// its output and that the registry did not change; returns stderr.
fn refused(s: &Sandbox, secrets: &[String], env: &[(&str, &str)], args: &[&str]) -> String {
    let before = s.snapshot();
    let mut cmd = s.reg();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().unwrap();
    assert!(!out.status.success(), "reg {args:?} succeeded");
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for slice in slices(secrets) {
        assert!(
            !shown.contains(&slice),
            "reg {args:?} printed key material `{slice}`: {shown}"
        );
    }
    assert_eq!(before, s.snapshot(), "reg {args:?} changed the registry");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts `err` says what it was given, naming `kind`.
fn says(args: &str, err: &str, kind: &str) {
    assert!(err.contains(kind), "{args}: expected `{kind}` in: {err}");
}

#[test]
fn wrong_files_for_keys_are_named_not_printed() {
    let (s, secrets) = setup();
    let no_env: &[(&str, &str)] = &[];
    // Every signing command's --key, given each wrong kind of file.
    let signing: Vec<Vec<&str>> = vec![
        vec![
            "key",
            "trust",
            "rep.pem.pub",
            "--role",
            "operator",
            "--reason",
            "r",
            "--key",
        ],
        vec![
            "key",
            "revoke",
            "00000000000000000000000000000000",
            "--reason",
            "r",
            "--key",
        ],
        vec!["promote", "det@1.0.0", "--reason", "r", "--key"],
        vec!["deprecate", "det@1.0.0", "--reason", "r", "--key"],
        vec!["revoke", "det@1.0.0", "--reason", "r", "--key"],
        vec!["activate", "slot", "det@1.0.0", "--reason", "r", "--key"],
        vec!["deactivate", "slot", "--reason", "r", "--key"],
        vec!["purge", "det@1.0.0", "--reason", "r", "--key"],
        vec![
            "policy",
            "set",
            "--refuse-format",
            "pickle",
            "--reason",
            "r",
            "--key",
        ],
        vec!["recipients", "set", "--reason", "r", "--key"],
        vec!["drift", "record", "det@1.0.0", "recipients.txt", "--key"],
        vec!["add", "m-det-1.0.0.tar", "--key"],
        vec![
            "bundle",
            "pack",
            "m-det-1.0.0",
            "-o",
            "new.tar",
            "--name",
            "x",
            "--version",
            "1.0.0",
            "--type",
            "ruleset",
            "--use",
            "detection",
            "--description",
            "d",
            "--key",
        ],
        vec!["init", "fresh", "--root-key"],
    ];
    for base in &signing {
        let with = |file: &'static str| [&base[..], &[file]].concat();
        let label = base.join(" ");
        let err = refused(&s, &secrets, no_env, &with("id.age"));
        says(&label, &err, "age identity (secret)");
        let err = refused(&s, &secrets, no_env, &with("pubkey.pem"));
        says(
            &label,
            &err,
            "is a public key; --key needs the secret key file",
        );
        let err = refused(&s, &secrets, no_env, &with("recipients.txt"));
        says(&label, &err, "age recipient");
        let err = refused(&s, &secrets, no_env, &with("rsa.pem"));
        says(&label, &err, "is not an ed25519 private key");
        let err = refused(&s, &secrets, no_env, &with("enc.pem"));
        says(
            &label,
            &err,
            "passphrase-protected and no passphrase was given",
        );
        let err = refused(
            &s,
            &secrets,
            &[("REG_KEY_PASSPHRASE", WRONG_PASSPHRASE)],
            &with("enc.pem"),
        );
        says(&label, &err, "wrong passphrase");
    }
    assert!(!s.join("fresh").exists());
    assert!(!s.join("new.tar").exists());

    // Public keys expected: given private keys and the identity.
    for base in [
        &["key", "trust"][..],
        &["key", "fingerprint"],
        &["bundle", "verify", "m-det-1.0.0.tar", "--publisher"],
    ] {
        let tail: &[&str] = if base[1] == "trust" {
            &["--role", "operator", "--reason", "r", "--key", "root.pem"]
        } else {
            &[]
        };
        for (file, kind) in [
            ("id.age", "age identity (secret)"),
            ("root.pem", "private key"),
            ("enc.pem", "private key"),
            ("rsa.pem", "private key"),
            ("recipients.txt", "age recipient"),
        ] {
            if base[1] == "fingerprint" && file.ends_with(".pem") {
                continue; // a private key has a fingerprint: see below
            }
            let args = [base, &[file], tail].concat();
            let err = refused(&s, &secrets, no_env, &args);
            says(&args.join(" "), &err, kind);
        }
    }
    // The fingerprint of an encrypted key needs its passphrase; a wrong one is not echoed.
    refused(&s, &secrets, no_env, &["key", "fingerprint", "enc.pem"]);
    refused(
        &s,
        &secrets,
        &[("REG_KEY_PASSPHRASE", WRONG_PASSPHRASE)],
        &["key", "fingerprint", "enc.pem"],
    );
}

#[test]
fn wrong_files_for_recipients_and_identities_are_named_not_printed() {
    let (s, secrets) = setup();
    let secret = secrets[1].clone();
    let lower = secrets[0].clone();
    let no_env: &[(&str, &str)] = &[];
    let pack = [
        "bundle",
        "pack",
        "m-det-1.0.0",
        "-o",
        "new.tar",
        "--key",
        "pub.pem",
        "--name",
        "x",
        "--version",
        "1.0.0",
        "--type",
        "ruleset",
        "--use",
        "detection",
        "--description",
        "d",
    ];
    // A recipients file that is the identity (the reported leak), a private key, an encrypted
    // one, a public signing key.
    for (file, kind) in [
        (
            "id.age",
            "is an age identity (secret), not a list of recipients",
        ),
        ("root.pem", "is a private key (PEM)"),
        ("enc.pem", "is an encrypted private key (PEM)"),
        ("rsa.pem", "is a private key (PEM)"),
        ("pubkey.pem", "is a public key (PEM)"),
    ] {
        let args = [&pack[..], &["--recipients-file", file]].concat();
        let err = refused(&s, &secrets, no_env, &args);
        says(&args.join(" "), &err, kind);
    }
    // A secret pasted where a recipient, a fingerprint or a trust pin goes.
    for value in [&secret, &lower] {
        let args = [&pack[..], &["--recipient", value]].concat();
        let err = refused(&s, &secrets, no_env, &args);
        says("pack --recipient", &err, "pass its recipient (age1...)");
        let err = refused(
            &s,
            &secrets,
            no_env,
            &[
                "recipients",
                "set",
                value,
                "--key",
                "root.pem",
                "--reason",
                "r",
            ],
        );
        says("recipients set", &err, "pass its recipient (age1...)");
        let err = refused(
            &s,
            &secrets,
            no_env,
            &[
                "init",
                "fresh",
                "--root-key",
                "root.pem",
                "--recipient",
                value,
            ],
        );
        says("init --recipient", &err, "pass its recipient (age1...)");
        let err = refused(
            &s,
            &secrets,
            no_env,
            &["key", "revoke", value, "--key", "root.pem", "--reason", "r"],
        );
        says("key revoke", &err, "age identity (secret)");
        let err = refused(&s, &secrets, no_env, &["--trust", value, "list"]);
        says("--trust", &err, "age identity (secret)");
        let err = refused(&s, &secrets, &[("REG_TRUST", value)], &["list"]);
        says("REG_TRUST", &err, "age identity (secret)");
    }
    // A line of a private key's PEM body pasted where a value goes: not echoed either.
    let pem = fs::read_to_string(s.join("root.pem")).unwrap();
    let line = pem.lines().nth(1).unwrap();
    for args in [
        &["key", "revoke", line, "--key", "root.pem", "--reason", "r"][..],
        &["--trust", line, "list"],
        &[
            "recipients",
            "set",
            line,
            "--key",
            "root.pem",
            "--reason",
            "r",
        ],
        &[
            "init",
            "fresh",
            "--root-key",
            "root.pem",
            "--recipient",
            line,
        ],
        &[&pack[..], &["--recipient", line]].concat(),
    ] {
        let err = refused(&s, &secrets, no_env, args);
        says(&args.join(" "), &err, "not shown");
    }
    assert!(!s.join("fresh").exists());
    assert!(!s.join("new.tar").exists());

    // An age-encrypted bundle, and identity files that are not identities.
    let enc = [&pack[..], &["--recipients-file", "recipients.txt"]].concat();
    let enc: Vec<&str> = enc
        .iter()
        .map(|a| if *a == "new.tar" { "enc.tar" } else { a })
        .collect();
    s.ok(&enc);
    for (file, kind) in [
        ("root.pem", "private key (PEM), not an age identity"),
        (
            "enc.pem",
            "encrypted private key (PEM), not an age identity",
        ),
        ("rsa.pem", "private key (PEM), not an age identity"),
        ("pubkey.pem", "public key (PEM), not an age identity"),
        (
            "recipients.txt",
            "age recipient (public), not an age identity",
        ),
    ] {
        for base in [
            &["add", "enc.tar", "--key", "op.pem", "-i"][..],
            &[
                "bundle",
                "verify",
                "enc.tar",
                "--publisher",
                "pub.pem.pub",
                "-i",
            ],
        ] {
            let args = [base, &[file]].concat();
            let err = refused(&s, &secrets, no_env, &args);
            says(&args.join(" "), &err, kind);
        }
    }
    // Files that are not bundles, observations or metadata, given a secret file.
    for args in [
        &["add", "id.age", "--key", "op.pem"][..],
        &["add", "root.pem", "--key", "op.pem"],
        &["bundle", "verify", "enc.pem", "--publisher", "pub.pem.pub"],
        &["drift", "record", "det@1.0.0", "id.age", "--key", "rep.pem"],
        &[
            "drift",
            "record",
            "det@1.0.0",
            "root.pem",
            "--key",
            "rep.pem",
        ],
        &[
            "bundle",
            "pack",
            "m-det-1.0.0",
            "-o",
            "new.tar",
            "--key",
            "pub.pem",
            "--metadata",
            "id.age",
        ],
    ] {
        refused(&s, &secrets, no_env, args);
    }
}

#[test]
fn passphrases_are_never_printed() {
    let (s, secrets) = setup();
    // A bundle encrypted with a passphrase: packing, verifying with the right one and a wrong
    // one, and a key used with its passphrase, print none of them.
    let pack = [
        "bundle",
        "pack",
        "m-det-1.0.0",
        "-o",
        "pass.tar",
        "--key",
        "pub.pem",
        "--name",
        "x",
        "--version",
        "1.0.0",
        "--type",
        "ruleset",
        "--use",
        "detection",
        "--description",
        "d",
        "--passphrase",
    ];
    let run = |env: &[(&str, &str)], args: &[&str]| -> (bool, String) {
        let mut cmd = s.reg();
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.args(args).output().unwrap();
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), shown)
    };
    let bundle_env = [("REG_BUNDLE_PASSPHRASE", BUNDLE_PASSPHRASE)];
    let key_env = [("REG_KEY_PASSPHRASE", KEY_PASSPHRASE)];
    for (env, args, ok) in [
        (&bundle_env[..], &pack[..], true),
        (
            &bundle_env,
            &["bundle", "verify", "pass.tar", "--publisher", "pub.pem.pub"],
            true,
        ),
        (&key_env, &["key", "fingerprint", "enc.pem"], true),
    ] {
        let (success, shown) = run(env, args);
        assert_eq!(success, ok, "reg {args:?}: {shown}");
        for slice in slices(&secrets) {
            assert!(!shown.contains(&slice), "reg {args:?} printed `{slice}`");
        }
    }
    refused(
        &s,
        &secrets,
        &[("REG_BUNDLE_PASSPHRASE", WRONG_PASSPHRASE)],
        &["bundle", "verify", "pass.tar", "--publisher", "pub.pem.pub"],
    );
    refused(
        &s,
        &secrets,
        &[("REG_BUNDLE_PASSPHRASE", WRONG_PASSPHRASE)],
        &["add", "pass.tar", "--key", "op.pem"],
    );
}

/// Runs `args` with `env`, whatever its outcome, and checks that no 16-character piece of any
/// secret (nor an age identity's marker) is on stdout or stderr, and that neither the registry
/// nor the host's trust file and state changed; returns stderr.
fn never_printed(s: &Sandbox, secrets: &[String], env: &[(&str, &str)], args: &[&str]) -> String {
    let host = |s: &Sandbox| {
        (
            s.snapshot(),
            snapshot(&s.join("host")),
            snapshot(&s.join("home")),
        )
    };
    let before = host(s);
    let mut cmd = s.reg();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().unwrap();
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !shown.to_uppercase().contains("AGE-SECRET-KEY-1"),
        "reg {args:?} {env:?} printed an age identity: {shown}"
    );
    for secret in secrets {
        let chars: Vec<char> = secret.chars().collect();
        for w in chars.windows(16) {
            let piece: String = w.iter().collect();
            assert!(
                !shown.contains(&piece),
                "reg {args:?} {env:?} printed key material `{piece}`: {shown}"
            );
        }
    }
    assert!(
        before == host(s),
        "reg {args:?} {env:?} changed the registry or host state"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The key files a person may hand reg by mistake, all readable only by their owner (so that no
/// command stops at their mode): as `reg key gen` and OpenSSL write them, plain and encrypted;
/// an age identity whole, as its bare line, in lower case; a PEM body without its armour, on
/// its lines or on one; and a secret inside JSON, as a key and as a string. Returns their names
/// and the secrets they hold.
fn key_files(s: &Sandbox) -> (Vec<&'static str>, Vec<String>) {
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new(tool("openssl", "openssl"))
            .current_dir(s.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&["genpkey", "-algorithm", "ed25519", "-out", "ossl.pem"]);
    openssl(&[
        "genpkey",
        "-algorithm",
        "ed25519",
        "-aes256",
        "-pass",
        "pass:x",
        "-out",
        "ossl-enc.pem",
    ]);
    let read = |f: &str| fs::read_to_string(s.join(f)).unwrap();
    let identity = read("id.age")
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_string();
    let mut secrets = vec![identity.clone(), identity.to_lowercase()];
    let body = |f: &str| -> Vec<String> {
        read(f)
            .lines()
            .filter(|l| !l.starts_with("-----") && !l.contains(':') && !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    for pem in [
        "root.pem",
        "op.pem",
        "rep.pem",
        "enc.pem",
        "rsa.pem",
        "ossl.pem",
        "ossl-enc.pem",
    ] {
        secrets.push(body(pem).concat());
    }
    let write = |f: &str, text: String| fs::write(s.join(f), text).unwrap();
    write("id-line.txt", format!("{identity}\n"));
    write("id-lower.txt", identity.to_lowercase());
    write("body-lines.txt", body("ossl-enc.pem").join("\n") + "\n");
    write("body-line.txt", body("root.pem").concat());
    write("as-key.json", format!("{{\"{identity}\":1}}"));
    write("as-string.json", format!("[\"{identity}\"]"));
    write(
        "body-string.json",
        format!("{{\"pins\":\"{}\"}}", body("rsa.pem").concat()),
    );
    // A piece of a key shorter than a PEM line, which only the quoting of input hides (every
    // message is also masked where it is printed, but only runs of 40 characters and more).
    write(
        "short-key.json",
        format!("{{\"{}\":1}}", &body("root.pem").concat()[..24]),
    );
    let files = vec![
        "id.age",
        "id-line.txt",
        "id-lower.txt",
        "root.pem",
        "enc.pem",
        "rsa.pem",
        "ossl.pem",
        "ossl-enc.pem",
        "body-lines.txt",
        "body-line.txt",
        "as-key.json",
        "as-string.json",
        "body-string.json",
        "short-key.json",
    ];
    for f in &files {
        fs::set_permissions(s.join(f), fs::Permissions::from_mode(0o600)).unwrap();
    }
    (files, secrets)
}

#[test]
fn a_key_file_given_to_any_command_that_reads_a_file_is_never_printed() {
    let (s, _) = setup();
    let (files, secrets) = key_files(&s);
    s.ok(&["export", "full.xfer"]);
    // A copy with an object gone, so that repair reads its source.
    fs::create_dir(s.join("damaged")).unwrap();
    crate::util::cp_a(&s.dot(), &s.join("damaged/.registry"));
    let root = s
        .ok(&["key", "fingerprint", "root.pem.pub"])
        .trim()
        .to_string();
    let record = s.ok(&["show", "det@1.0.0", "--json"]);
    let record: serde_json::Value = serde_json::from_str(&record).unwrap();
    let gone = s
        .join("damaged/.registry/objects")
        .join(&record["id"].as_str().unwrap()[..2]);
    fs::remove_dir_all(&gone).unwrap();
    fs::create_dir(&gone).unwrap();
    // The host's decision log key exists (a first `--log` makes it, refused or not).
    s.reg()
        .args(["check", "--log", "good.log", "m-det-1.0.0/r.yar"])
        .output()
        .unwrap();
    assert!(s.join("good.log").exists());

    let commands: Vec<Vec<&str>> = vec![
        vec!["add", "{}", "--key", "op.pem"],
        vec!["add", "m-det-1.0.0.tar", "--key", "op.pem", "-i", "{}"],
        vec!["bundle", "verify", "{}", "--publisher", "pub.pem.pub"],
        vec!["bundle", "verify", "m-det-1.0.0.tar", "--publisher", "{}"],
        vec![
            "bundle",
            "verify",
            "m-det-1.0.0.tar",
            "--publisher",
            "pub.pem.pub",
            "-i",
            "{}",
        ],
        vec!["bundle", "pack", "{}", "-o", "new.tar", "--key", "pub.pem"],
        vec![
            "bundle",
            "pack",
            "m-det-1.0.0",
            "-o",
            "new.tar",
            "--key",
            "pub.pem",
            "--metadata",
            "{}",
        ],
        vec![
            "bundle",
            "pack",
            "m-det-1.0.0",
            "-o",
            "new.tar",
            "--key",
            "pub.pem",
            "--name",
            "x",
            "--version",
            "1.0.0",
            "--type",
            "ruleset",
            "--use",
            "detection",
            "--description",
            "d",
            "--recipients-file",
            "{}",
        ],
        vec!["import", "{}"],
        vec!["import", "--dry-run", "{}"],
        vec!["clone", "{}", "dest"],
        vec![
            "--registry",
            "damaged",
            "--trust",
            &root,
            "repair",
            "--from",
            "{}",
        ],
        vec!["drift", "import", "{}", "--key", "op.pem"],
        vec!["drift", "record", "det@1.0.0", "{}", "--key", "rep.pem"],
        vec![
            "drift",
            "record",
            "det@1.0.0",
            "{}",
            "--key",
            "rep.pem",
            "--outbox",
        ],
        vec!["export", "--verify", "{}"],
        vec!["export", "--since", "{}", "out.xfer"],
        vec!["check", "{}"],
        vec!["check", "--verify-log", "{}"],
        vec!["check", "--log", "{}", "m-det-1.0.0/r.yar"],
        vec!["fsck", "--scan", "{}"],
        vec!["key", "fingerprint", "{}"],
        vec![
            "key", "trust", "{}", "--role", "operator", "--key", "root.pem", "--reason", "r",
        ],
        vec!["--registry", "{}", "list"],
    ];
    // (`--key` given each wrong file: `wrong_files_for_keys_are_named_not_printed`.)
    let no_env: &[(&str, &str)] = &[];
    for file in &files {
        for command in &commands {
            let args: Vec<&str> = command
                .iter()
                .map(|a| if *a == "{}" { *file } else { *a })
                .collect();
            never_printed(&s, &secrets, no_env, &args);
        }
        // Files named by the environment: the host trust file and the decision log.
        let path = s.join(file);
        let path = path.to_str().unwrap();
        for args in [&["list"][..], &["trust", "list"], &["trust", "add", &root]] {
            never_printed(&s, &secrets, &[("REG_TRUST_FILE", path)], args);
        }
        never_printed(
            &s,
            &secrets,
            &[("REG_GATE_LOG", path)],
            &["check", "m-det-1.0.0/r.yar"],
        );
        // The registry's own files, replaced by the key file in a copy.
        for name in ["config.json", "checkpoint", "ledger", "index/state.json"] {
            let copy = s.join("copy");
            let _ = fs::remove_dir_all(&copy);
            fs::create_dir(&copy).unwrap();
            crate::util::cp_a(&s.dot(), &copy.join(".registry"));
            let target = copy.join(".registry").join(name);
            let _ = fs::remove_file(&target);
            fs::copy(s.join(file), &target).unwrap();
            for args in [&["list"][..], &["fsck"], &["log"]] {
                let args = [&["--registry", "copy", "--trust", &root][..], args].concat();
                never_printed(&s, &secrets, no_env, &args);
            }
        }
    }
    assert!(!s.join("dest").exists() && !s.join("fresh").exists() && !s.join("new.tar").exists());
    // The reported case: a report file that is an identity says what it is.
    let err = never_printed(
        &s,
        &secrets,
        no_env,
        &["drift", "import", "id-line.txt", "--key", "op.pem"],
    );
    assert!(
        err.contains("its first line is not `reg-drift-reports 1` (it is an age identity (secret); not shown)"),
        "{err}"
    );
    let err = never_printed(
        &s,
        &secrets,
        no_env,
        &["drift", "import", "body-lines.txt", "--key", "op.pem"],
    );
    assert!(err.contains("characters not shown]"), "{err}");
}
