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

/// A file big enough that hashing it is a task worth a bar.
fn big_file(s: &Sandbox) -> String {
    let data: Vec<u8> = (0..48 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(s.join("big.bin"), data).unwrap();
    "big.bin".to_string()
}

#[test]
fn a_progress_bar_is_drawn_on_a_terminal_on_stderr() {
    let s = Sandbox::new();
    s.init();
    let f = big_file(&s);
    let (shown, code) = in_pty(&s, &["check", &f], &[]);
    assert_eq!(code, 1, "an unregistered file is denied: {shown}");
    assert!(
        shown.contains("hashing [") && shown.contains("/48.00 MiB"),
        "no bar drawn: {shown:?}"
    );
    assert!(
        shown.contains("\u{1b}["),
        "a bar redraws with escape codes: {shown:?}"
    );
}

#[test]
fn no_escape_codes_off_a_terminal_or_with_no_color_or_quiet() {
    let s = Sandbox::new();
    s.init();
    let f = big_file(&s);
    // Not a terminal: plain, whatever the environment.
    let out = s.reg().args(["check", &f]).output().unwrap();
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(
            !text.contains('\u{1b}'),
            "escape code off a terminal: {text:?}"
        );
        assert!(!text.contains("hashing"), "{text:?}");
    }
    // On a terminal, with NO_COLOR or --quiet: no bar, no escape codes.
    let reg = assert_cmd::cargo::cargo_bin("reg")
        .to_string_lossy()
        .into_owned();
    for (argv, env) in [
        (vec![reg.clone(), "check".into(), f.clone()], Some("1")),
        (
            vec![reg.clone(), "--quiet".into(), "check".into(), f.clone()],
            None,
        ),
    ] {
        let (shown, _) = in_pty_env(&s, &argv, env.map(|v| ("NO_COLOR", v)));
        assert!(!shown.contains('\u{1b}'), "{argv:?} {env:?}: {shown:?}");
        assert!(!shown.contains("hashing"), "{shown:?}");
    }
}

fn in_pty_env(s: &Sandbox, argv: &[String], env: Option<(&str, &str)>) -> (String, i32) {
    match env {
        Some((k, v)) => {
            // The pty driver passes the sandbox's environment on; add one variable for the child.
            let mut with = vec!["/usr/bin/env".to_string(), format!("{k}={v}")];
            with.extend_from_slice(argv);
            s.in_pty(&with, &[])
        }
        None => s.in_pty(argv, &[]),
    }
}
