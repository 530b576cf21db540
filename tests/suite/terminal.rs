//! Passphrases are asked on a terminal: driven here through a real pseudo-terminal (Python's
//! `pty`), answering reg's prompts as a person would.

use crate::util::Sandbox;

fn in_pty(s: &Sandbox, args: &[&str], answers: &[&str]) -> (String, i32) {
    let reg = assert_cmd::cargo::cargo_bin("reg");
    let mut argv = vec![reg.to_str().unwrap().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    s.in_pty(&argv, answers)
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
