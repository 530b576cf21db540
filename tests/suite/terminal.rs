//! Passphrases are asked on a terminal: driven here through a real pseudo-terminal (Python's
//! `pty`), answering reg's prompts as a person would.

use crate::util::{Sandbox, tool};
use std::process::Command;

/// Runs reg in a pty with `args`, answering each prompt containing `prompt` with the next answer;
/// returns everything the terminal showed and the exit status.
fn in_pty(s: &Sandbox, args: &[&str], answers: &[&str]) -> (String, i32) {
    const DRIVER: &str = r#"
import os, pty, sys, json, termios, time
argv, answers = json.loads(sys.argv[1]), json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
seen, out = 0, b""
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    while seen < len(answers) and out.count(b"passphrase") > seen:
        # Answer only once reg has turned echo off, as a person typing after the prompt would;
        # answering earlier would let the terminal echo what it was sent.
        deadline = time.time() + 10
        while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < deadline:
            time.sleep(0.005)
        os.write(fd, answers[seen].encode() + b"\n")
        seen += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let reg = assert_cmd::cargo::cargo_bin("reg");
    let mut argv = vec![reg.to_str().unwrap().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let out = s
        .reg()
        .get_envs()
        .fold(Command::new(tool("python3", "python3")), |mut c, (k, v)| {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
            c
        })
        .current_dir(s.path())
        .arg("-c")
        .arg(DRIVER)
        .arg(serde_json::to_string(&argv).unwrap())
        .arg(serde_json::to_string(answers).unwrap())
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn passphrases_are_asked_on_the_terminal_and_never_echoed() {
    let s = Sandbox::new();
    let (shown, code) = in_pty(
        &s,
        &["key", "gen", "--passphrase", "root.pem"],
        &["tr0ub4dor", "tr0ub4dor"],
    );
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("new passphrase: ") && shown.contains("repeat passphrase: "),
        "{shown}"
    );
    assert!(
        !shown.contains("tr0ub4dor"),
        "the passphrase was echoed: {shown}"
    );
    assert!(
        std::fs::read_to_string(s.join("root.pem"))
            .unwrap()
            .contains("ENCRYPTED PRIVATE KEY")
    );

    let (shown, code) = in_pty(&s, &["init", "--root-key", "root.pem"], &["tr0ub4dor"]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("passphrase for root.pem: "), "{shown}");
    assert!(shown.contains("Initialized registry"), "{shown}");

    let (shown, code) = in_pty(&s, &["key", "fingerprint", "root.pem"], &["wrong"]);
    assert_eq!(code, 2, "{shown}");
    assert!(shown.contains("wrong passphrase for `root.pem`"), "{shown}");
}

#[test]
fn mismatched_new_passphrases_are_refused() {
    let s = Sandbox::new();
    let (shown, code) = in_pty(
        &s,
        &["key", "gen", "--passphrase", "k.pem"],
        &["one", "two"],
    );
    assert_eq!(code, 2, "{shown}");
    assert!(shown.contains("the passphrases do not match"), "{shown}");
    assert!(!s.join("k.pem").exists());
}
