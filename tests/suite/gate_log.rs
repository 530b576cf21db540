//! The gate's decision log: each line authenticated with a key only this host holds, its length
//! recorded beside the key, so that an editor of the file can neither change, drop, reorder nor
//! cut lines undetected; reg refuses to append to a log that does not verify.

use crate::gate_pin::{FILE, setup};
use crate::util::{Sandbox, snapshot};
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

fn run(s: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let out = s.reg().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn host_state(s: &Sandbox) -> PathBuf {
    s.join("home/.local/state/reg")
}

/// A log of three decisions (ALLOW, DENY, ALLOW) written by two runs of the gate.
fn logged() -> Sandbox {
    let (s, _) = setup();
    fs::write(s.join("other.bin"), b"not a model").unwrap();
    run(&s, &["check", "--log", "gate.log", FILE, "other.bin"]);
    let (code, _, err) = run(&s, &["check", "--log", "gate.log", FILE]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines(&s).len(), 3);
    s
}

fn lines(s: &Sandbox) -> Vec<String> {
    fs::read_to_string(s.join("gate.log"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(s: &Sandbox, lines: &[String]) {
    fs::write(s.join("gate.log"), lines.join("\n") + "\n").unwrap();
}

type Files = BTreeMap<PathBuf, Vec<u8>>;

/// The log, the registry and the host's records, to prove a refusal changed nothing.
fn everything(s: &Sandbox) -> (Option<Vec<u8>>, Files, Files) {
    (
        fs::read(s.join("gate.log")).ok(),
        s.snapshot(),
        snapshot(&host_state(s)),
    )
}

/// `--verify-log` fails naming `needle`, and `check --log` refuses to append, changing nothing.
fn refused(s: &Sandbox, needle: &str) {
    for args in [
        &["check", "--verify-log", "gate.log"][..],
        &["check", "--log", "gate.log", FILE],
    ] {
        let err = s
            .refusal(1, args)
            .unchanged(s.join("gate.log"))
            .unchanged(host_state(s))
            .says(needle);
        if args[1] == "--log" {
            assert!(err.contains("hint:"), "{err}");
        }
    }
}

#[test]
fn an_intact_log_verifies_and_lines_carry_a_mac_number_and_code() {
    let s = logged();
    let (code, out, _) = run(&s, &["check", "--verify-log", "gate.log"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("3 decision(s)") && out.contains("authenticated"),
        "{out}"
    );
    // The same check for a script: what was verified, as JSON against its schema.
    let (code, out, _) = run(&s, &["check", "--verify-log", "gate.log", "--json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("--verify-log --json is JSON");
    crate::ingest::validate("log-verify.schema.json", &v);
    assert_eq!(
        (&v["result"], &v["lines"], &v["recorded"]),
        (
            &serde_json::json!("authenticated"),
            &serde_json::json!(3),
            &serde_json::json!(3)
        )
    );
    let parsed: Vec<serde_json::Value> = lines(&s)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (i, l) in parsed.iter().enumerate() {
        assert_eq!(l["n"], i as u64 + 1);
        assert_eq!(l["mac"].as_str().unwrap().len(), 64);
        assert_eq!(l["log"], parsed[0]["log"]);
    }
    assert_eq!(parsed[1]["prev"], parsed[0]["mac"]);
    assert_eq!(parsed[0]["code"], "promoted");
    assert_eq!(parsed[1]["code"], "not-registered");
    // The host key: 32 bytes, private, made once.
    use std::os::unix::fs::PermissionsExt as _;
    let key = host_state(&s).join("gate-log.key");
    assert_eq!(fs::read(&key).unwrap().len(), 32);
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn an_edited_line_is_refused_even_with_the_chain_recomputed() {
    let s = logged();
    // Turn the DENY into an ALLOW; an editor without the key can only keep the old MAC.
    let mut l = lines(&s);
    l[1] = l[1].replace("\"allowed\":false", "\"allowed\":true");
    write_lines(&s, &l);
    refused(&s, "line 2: its MAC does not verify");
    // Editing a line and recomputing every MAC as an unkeyed hash does not help either.
    let mut l = lines(&s);
    let mut prev = "0".repeat(64);
    for line in l.iter_mut() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        v["prev"] = prev.clone().into();
        v.as_object_mut().unwrap().remove("mac");
        let body = serde_json::to_string(&v).unwrap();
        let mac = blake3::hash(body.as_bytes()).to_hex().to_string();
        v["mac"] = mac.clone().into();
        *line = serde_json::to_string(&v).unwrap();
        prev = mac;
    }
    write_lines(&s, &l);
    refused(&s, "line 1: its MAC does not verify");
}

#[test]
fn a_dropped_line_is_refused_naming_it() {
    let s = logged();
    let l = lines(&s);
    write_lines(&s, &[l[0].clone(), l[2].clone()]);
    refused(&s, "line 2: holds decision number 3");
    // Renumbering the moved line breaks its MAC.
    let renumbered = l[2].replace("\"n\":3", "\"n\":2");
    write_lines(&s, &[l[0].clone(), renumbered]);
    refused(&s, "line 2: its MAC does not verify");
}

#[test]
fn reordered_lines_are_refused_naming_the_line() {
    let s = logged();
    let l = lines(&s);
    write_lines(&s, &[l[0].clone(), l[2].clone(), l[1].clone()]);
    refused(&s, "line 2: holds decision number 3");
}

#[test]
fn a_cut_last_line_is_refused_and_nothing_is_glued_onto_it() {
    let s = logged();
    let bytes = fs::read(s.join("gate.log")).unwrap();
    fs::write(s.join("gate.log"), &bytes[..bytes.len() - 10]).unwrap();
    refused(&s, "line 3: is cut short (no final newline)");
}

#[test]
fn a_removed_tail_is_detected_by_the_host_record() {
    let s = logged();
    let l = lines(&s);
    write_lines(&s, &l[..2]);
    refused(&s, "ends at line 2, but this host recorded 3 line(s) in it");
    // Emptied, or deleted: the host kept a log at this path.
    fs::write(s.join("gate.log"), b"").unwrap();
    refused(&s, "this host recorded 3 line(s) of log");
    fs::remove_file(s.join("gate.log")).unwrap();
    let before = everything(&s);
    let (code, _, err) = run(&s, &["check", "--log", "gate.log", FILE]);
    assert_eq!(code, 1);
    assert!(err.contains("the file is empty or missing"), "{err}");
    // reg created the file to lock it, and left it empty: nothing was logged.
    assert_eq!(fs::read(s.join("gate.log")).unwrap(), b"");
    assert_eq!(before.1, s.snapshot());
    assert_eq!(before.2, snapshot(&host_state(&s)));
}

#[test]
fn lines_of_another_log_of_the_same_host_do_not_fit() {
    let s = logged();
    run(&s, &["check", "--log", "b.log", FILE, FILE]);
    let b: Vec<String> = fs::read_to_string(s.join("b.log"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let l = lines(&s);
    write_lines(&s, &[l[0].clone(), b[1].clone(), l[2].clone()]);
    refused(&s, "line 2: belongs to log");
    // A whole other log of this host put in place of this one.
    fs::copy(s.join("b.log"), s.join("gate.log")).unwrap();
    refused(&s, "but the file now holds log");
}

#[test]
fn another_hosts_log_is_not_verified_by_this_host() {
    let s = logged();
    let other = |args: &[&str]| {
        let out = s
            .reg()
            .env("REG_STATE_DIR", s.join("host2/state"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, err) = other(&["check", "--verify-log", "gate.log"]);
    assert_eq!(code, 1);
    assert!(err.contains("this host has no decision log key"), "{err}");
    let (code, err) = other(&["check", "--log", "gate.log", FILE]);
    assert_eq!(code, 1);
    assert!(err.contains("line 1: its MAC does not verify"), "{err}");
}

#[test]
fn an_old_format_log_is_reported_unauthenticated_and_not_appended_to() {
    let (s, _) = setup();
    let mut prev = "0".repeat(64);
    let mut text = String::new();
    for reason in ["an artifact of a PROMOTED model", "its model is REVOKED"] {
        let line = format!(
            "{{\"allowed\":true,\"hash\":\"{}\",\"path\":\"x\",\"prev\":\"{prev}\",\"reason\":\"{reason}\",\"time\":\"2026-01-01T00:00:00Z\"}}",
            "ab".repeat(32)
        );
        prev = blake3::hash(line.as_bytes()).to_hex().to_string();
        text.push_str(&line);
        text.push('\n');
    }
    fs::write(s.join("gate.log"), &text).unwrap();
    let before = everything(&s);
    let (code, out, _) = run(&s, &["check", "--verify-log", "gate.log"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("UNAUTHENTICATED: 2 decision(s) in the old format"),
        "{out}"
    );
    let (code, _, err) = run(&s, &["check", "--log", "gate.log", FILE]);
    assert_eq!(code, 1);
    assert!(err.contains("old, unauthenticated format"), "{err}");
    assert!(err.contains("log to a new file"), "{err}");
    assert_eq!(before.0, everything(&s).0);
    assert_eq!(before.1, s.snapshot());
}

#[test]
fn a_rotated_log_still_verifies_and_a_new_one_starts_at_its_path() {
    let s = logged();
    fs::rename(s.join("gate.log"), s.join("gate.log.1")).unwrap();
    // Rotation: verify the moved log first (the host then records its new path).
    let (code, out, err) = run(&s, &["check", "--verify-log", "gate.log.1"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(&s, &["check", "--log", "gate.log", FILE]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines(&s).len(), 1);
    let (code, _, _) = run(&s, &["check", "--verify-log", "gate.log.1"]);
    assert_eq!(code, 0);
    let (code, _, _) = run(&s, &["check", "--verify-log", "gate.log"]);
    assert_eq!(code, 0);
}

#[test]
fn a_host_key_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = logged();
    let key = host_state(&s).join("gate-log.key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let before = everything(&s);
    let (code, _, err) = run(&s, &["check", "--log", "gate.log", FILE]);
    assert_eq!(code, 2);
    assert!(err.contains("readable by others"), "{err}");
    assert!(!err.contains(&format!("{:x?}", fs::read(&key).unwrap())));
    assert_eq!(before, everything(&s));
}

#[test]
fn an_edit_that_keeps_the_length_is_caught_by_an_append() {
    // An append checks only the lines after the bytes the host recorded, but only when the log
    // still starts with exactly those bytes: a same-length edit inside them is still found.
    let s = logged();
    let mut l = lines(&s);
    let v: serde_json::Value = serde_json::from_str(&l[0]).unwrap();
    let hash = v["hash"].as_str().unwrap();
    let flipped: String = hash
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                if c == '0' { '1' } else { '0' }
            } else {
                c
            }
        })
        .collect();
    l[0] = l[0].replace(hash, &flipped);
    let len = fs::metadata(s.join("gate.log")).unwrap().len();
    write_lines(&s, &l);
    assert_eq!(len, fs::metadata(s.join("gate.log")).unwrap().len());
    refused(&s, "line 1: its MAC does not verify");
}

#[test]
fn concurrent_gates_keep_one_verifiable_log_and_an_unpinned_allow_says_so() {
    let (s, _) = setup();
    let children: Vec<_> = (0..6)
        .map(|i| {
            let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("reg"));
            for (k, v) in s.reg().get_envs() {
                if let Some(v) = v {
                    c.env(k, v);
                }
            }
            let mut args = vec!["check", "--log", "gate.log"];
            if i % 2 == 1 {
                // A second host's trust file: not pinned there, allowed only by the flag.
                c.env("REG_TRUST_FILE", s.join("host2/trust.json"));
                args.push("--allow-unpinned");
            }
            args.extend(std::iter::repeat_n(FILE, 20));
            c.current_dir(s.path())
                .args(&args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        assert!(c.wait_with_output().unwrap().status.success());
    }
    let (code, out, err) = run(&s, &["check", "--verify-log", "gate.log"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("120 decision(s)"), "{out}");
    let warned = lines(&s)
        .iter()
        .filter(|l| l.contains("which is not pinned on this host"))
        .count();
    assert_eq!(warned, 60);
}

#[test]
fn a_fifo_in_place_of_the_log_is_refused_without_blocking() {
    let (s, _) = setup();
    let made = std::process::Command::new("mkfifo")
        .arg(s.join("gate.log"))
        .status()
        .unwrap();
    assert!(made.success());
    for args in [
        &["check", "--verify-log", "gate.log"][..],
        &["check", "--log", "gate.log", FILE],
    ] {
        let out = s
            .reg()
            .timeout(std::time::Duration::from_secs(20))
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("is a FIFO, not a regular file"), "{err}");
    }
}
