//! Text from the medium never drives the operator's terminal: every control character (C0, DEL,
//! C1) and every bidirectional or invisible format character in a description, label,
//! provenance name, framework, reason, drift note or file name is shown escaped by every
//! command that prints it for people, on stdout and in errors; `--json` keeps the exact string.

use crate::util::Sandbox;
use std::fs;

/// What a hostile publisher or operator writes into free-text fields: an OSC title change, a
/// screen clear, a carriage return and backspace to overwrite the line, an 8-bit CSI, a
/// right-to-left override and isolate, an invisible mark, a BOM, DEL and a line break that
/// would forge a line of output.
const HOSTILE: &str = "ok\x1b]0;pwned\x07\x1b[2J\r\x08\u{9b}31m\u{202e}gpj.exe\u{2066}\u{200f}\u{feff}\u{7f}\nALLOW fake";

/// What writers still accept in a reason (controls other than newline and tab are refused at
/// signing, see `input_rules::reasons_refuse_controls_other_than_newline_and_tab`): right-to-left
/// override and isolate, an invisible mark, a BOM and a forged line break. Ledgers written before
/// that rule may hold any character; the output side escapes them all the same.
const HOSTILE_REASON: &str = "ok\u{202e}gpj.exe\u{2066}\u{200f}\u{feff}\nALLOW fake";

/// Characters that must never reach a terminal from reg (C0 but newline, DEL, C1, and the
/// bidirectional and invisible format characters).
fn forbidden(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c,
            '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Runs reg with `args` (any exit code) and checks stdout and stderr carry no forbidden
/// character; returns (stdout, stderr).
fn clean(s: &Sandbox, args: &[&str]) -> (String, String) {
    let out = s.reg().args(args).output().unwrap();
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8(bytes.clone())
            .unwrap_or_else(|_| panic!("reg {args:?}: {stream} is not UTF-8"));
        if let Some(c) = text.chars().find(|c| forbidden(*c)) {
            panic!("reg {args:?}: {c:?} reached {stream}: {text:?}");
        }
    }
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A registry whose free-text fields all carry `HOSTILE`: a model with it in its description,
/// framework, label and provenance, promoted, activated and deprecated with it as the reason,
/// keys trusted with it, a policy and recipients set with it, a drift observation with it in
/// its notes.
fn hostile_registry() -> Sandbox {
    let s = Sandbox::new();
    s.init();
    s.key("op.pem");
    s.key("pub.pem");
    s.key("rep.pem");
    for (public, role) in [
        ("op.pem.pub", "operator"),
        ("pub.pem.pub", "publisher"),
        ("rep.pem.pub", "reporter"),
    ] {
        s.trust(public, role, HOSTILE_REASON);
    }
    fs::create_dir(s.join("m")).unwrap();
    fs::write(s.join("m/r.yar"), "rule r { condition: true }\n").unwrap();
    let label = format!("note={HOSTILE}");
    // Provenance names are identifiers: pack refuses controls and bidi characters in them
    // (`input_rules::pack_refuses_control_and_bidi_characters_in_names_and_provenance`).
    let provenance = format!("corpus={}", "sha256:".to_string() + &"0".repeat(64));
    s.ok(&[
        "bundle",
        "pack",
        "m",
        "-o",
        "m.tar",
        "--key",
        "pub.pem",
        "--name",
        "det",
        "--version",
        "1.0.0",
        "--type",
        "ruleset",
        "--use",
        "detection",
        "--description",
        HOSTILE,
        "--framework",
        HOSTILE,
        "--label",
        &label,
        "--provenance",
        &provenance,
    ]);
    s.ok(&["add", "m.tar", "--key", "op.pem"]);
    s.ok(&[
        "promote",
        "det@1.0.0",
        "--key",
        "op.pem",
        "--reason",
        HOSTILE_REASON,
    ]);
    s.ok(&[
        "activate",
        "slot-a",
        "det@1.0.0",
        "--key",
        "op.pem",
        "--reason",
        HOSTILE_REASON,
    ]);
    s.ok(&[
        "deprecate",
        "det@1.0.0",
        "--key",
        "op.pem",
        "--reason",
        HOSTILE_REASON,
    ]);
    s.ok(&[
        "policy",
        "set",
        "--refuse-format",
        "pickle",
        "--key",
        "root.pem",
        "--reason",
        HOSTILE_REASON,
    ]);
    let recipient = s.ok(&["key", "gen", "--age", "id.age"]);
    s.ok(&[
        "recipients",
        "set",
        recipient.trim(),
        "--key",
        "root.pem",
        "--reason",
        HOSTILE_REASON,
    ]);
    let mut obs = crate::util::observation(
        ["2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"],
        10,
        "psi",
        0.1,
    );
    obs["metrics"][0]["notes"] = HOSTILE.into();
    obs["notes"] = HOSTILE.into();
    fs::write(s.join("obs.json"), obs.to_string()).unwrap();
    s.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    s
}

#[test]
fn every_listing_shows_medium_text_escaped() {
    let s = hostile_registry();
    // The escaped form is visible, so the operator sees that something odd is there.
    let escaped = "ok\\x1b]0;pwned\\x07\\x1b[2J\\r\\x08\\u{9b}31m\\u{202e}gpj.exe\\u{2066}\\u{200f}\\u{feff}\\x7f\\nALLOW fake";
    let (show, _) = clean(&s, &["show", "det@1.0.0"]);
    for line in [
        format!("description: {escaped}"),
        format!("framework:   {escaped}"),
        format!("label:       note={escaped}"),
        "provenance:  corpus sha256:".to_string(),
    ] {
        assert!(show.contains(&line), "`{line}` not in: {show}");
    }
    assert!(show.contains(&format!(": {escaped}")), "{show}");
    assert!(
        !show.lines().any(|l| l.starts_with("ALLOW")),
        "a forged line: {show}"
    );
    let (log, _) = clean(&s, &["log"]);
    let escaped_reason = "ok\\u{202e}gpj.exe\\u{2066}\\u{200f}\\u{feff}\\nALLOW fake";
    assert!(
        log.contains(&format!("  reason:  {escaped_reason}")),
        "{log}"
    );
    assert!(!log.lines().any(|l| l.starts_with("ALLOW")), "{log}");
    let (history, _) = clean(&s, &["log", "det@1.0.0"]);
    assert!(history.contains(escaped_reason), "{history}");
    for args in [
        &["list"][..],
        &["status"],
        &["drift", "list", "det@1.0.0"],
        &["key", "list"],
        &["policy", "show"],
        &["recipients", "list"],
        &["fsck"],
        &["ledger", "verify"],
        &["verify", "det@1.0.0"],
    ] {
        let (out, _) = clean(&s, args);
        assert!(!out.is_empty(), "reg {args:?} printed nothing");
    }
}

#[test]
fn json_keeps_the_exact_strings_and_is_terminal_safe() {
    let s = hostile_registry();
    let json = |args: &[&str]| -> serde_json::Value {
        let (out, _) = clean(&s, args);
        serde_json::from_str(&out).unwrap()
    };
    let show = json(&["show", "det@1.0.0", "--json"]);
    assert_eq!(show["description"], HOSTILE);
    assert_eq!(show["framework"], HOSTILE);
    assert_eq!(show["labels"]["note"], HOSTILE);
    assert_eq!(show["provenance"][0]["name"], "corpus");
    assert_eq!(show["drift"]["latest"]["notes"], HOSTILE);
    let log = json(&["log", "--json"]);
    let reasons: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["reason"].as_str())
        .collect();
    assert!(reasons.len() >= 8, "{log}");
    assert!(reasons.iter().all(|r| *r == HOSTILE_REASON), "{log}");
    let drift = json(&["drift", "list", "det@1.0.0", "--json"]);
    assert_eq!(drift[0]["observation"]["notes"], HOSTILE);
    assert_eq!(drift[0]["observation"]["metrics"][0]["notes"], HOSTILE);
    let export = json(&["drift", "export"]);
    assert_eq!(export[0]["observation"]["notes"], HOSTILE);
    let (lines, _) = clean(&s, &["drift", "export", "--json-lines"]);
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["observation"]["notes"], HOSTILE);
    for args in [
        &["list", "--json"][..],
        &["status", "--json"],
        &["key", "list", "--json"],
        &["fsck", "--json"],
    ] {
        json(args);
    }
}

/// A file name with escapes, as a hostile medium holds it: a pickle, so that the scan and the
/// gate both name it.
const FILE_NAME: &str = "ev\x1b]0;pwned\x07il\u{202e}lkp.pkl";

#[test]
fn file_names_and_paths_in_reports_and_errors_are_escaped() {
    let s = hostile_registry();
    fs::create_dir(s.join("scan")).unwrap();
    let file = format!("scan/{FILE_NAME}");
    fs::write(
        s.join(&file),
        b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.",
    )
    .unwrap();
    let before = s.snapshot();

    let (fsck, _) = clean(&s, &["fsck", "--scan", "scan"]);
    assert!(
        fsck.contains("ev\\x1b]0;pwned\\x07il\\u{202e}lkp.pkl"),
        "{fsck}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&clean(&s, &["fsck", "--scan", "scan", "--json"]).0).unwrap();
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(paths.iter().any(|p| p.ends_with(FILE_NAME)), "{report}");

    let (check, _) = clean(&s, &["check", &file]);
    assert!(check.starts_with("DENY"), "{check}");
    let decisions: serde_json::Value =
        serde_json::from_str(&clean(&s, &["check", &file, "--json"]).0).unwrap();
    assert!(
        decisions[0]["path"].as_str().unwrap().ends_with(FILE_NAME),
        "{decisions}"
    );

    // Errors that name a file on the medium: a bundle that is not one, a missing bundle, a
    // registry directory that holds none.
    for args in [
        &["add", &file, "--key", "op.pem"][..],
        &["bundle", "verify", &file, "--publisher", "pub.pem.pub"],
        &["add", &format!("{file}.missing"), "--key", "op.pem"],
        &["--registry", &format!("{file}.d"), "list"],
        &["checkout", "det@1.0.0", "-o", &file],
    ] {
        let out = s.reg().args(args).output().unwrap();
        assert!(!out.status.success(), "reg {args:?} succeeded");
        let (_, err) = clean(&s, args);
        assert!(err.starts_with("error: "), "reg {args:?}: {err}");
        assert_eq!(err.lines().filter(|l| l.starts_with("error: ")).count(), 1);
    }
    assert_eq!(
        before,
        s.snapshot(),
        "a refused command changed the registry"
    );
}

#[test]
fn artifact_paths_with_bidi_never_reach_the_terminal_raw() {
    // Pack and add may refuse such a path (names and paths are checked at input); whatever
    // they decide, neither they nor any listing prints it raw.
    let s = Sandbox::new();
    s.init_with_roles();
    fs::create_dir(s.join("m")).unwrap();
    fs::write(s.join("m/r.yar"), "rule r { condition: true }\n").unwrap();
    fs::write(
        s.join("m/model\u{202e}lmy.yar"),
        "rule q { condition: true }\n",
    )
    .unwrap();
    let pack = [
        "bundle",
        "pack",
        "m",
        "-o",
        "m.tar",
        "--key",
        "pub.pem",
        "--name",
        "bidi",
        "--version",
        "1.0.0",
        "--type",
        "ruleset",
        "--use",
        "detection",
        "--description",
        "d",
    ];
    let (packed, _) = clean(&s, &pack);
    if packed.is_empty() {
        return;
    }
    let (added, _) = clean(&s, &["add", "m.tar", "--key", "op.pem"]);
    if added.is_empty() {
        return;
    }
    let (show, _) = clean(&s, &["show", "bidi@1.0.0"]);
    assert!(show.contains("model\\u{202e}lmy.yar"), "{show}");
    clean(&s, &["verify", "bidi@1.0.0"]);
    let v: serde_json::Value =
        serde_json::from_str(&clean(&s, &["show", "bidi@1.0.0", "--json"]).0).unwrap();
    assert_eq!(v["artifacts"][0]["path"], "model\u{202e}lmy.yar");
}

/// The escaping is done in one place only if nothing in the CLI prints around it: every line
/// for people goes through `outln!`/`errln!`, every JSON document through `jsonln!` (or the
/// JSON writers of `sanitize.rs`). A print added later without them fails here, naming it.
#[test]
fn every_cli_print_goes_through_the_escaping_module() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut offences = Vec::new();
    for entry in walkdir::WalkDir::new(&root) {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = fs::read_to_string(entry.path()).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let raw_print = [
                "println!(",
                "print!(",
                "eprintln!(",
                "eprint!(",
                "writeln!(",
            ]
            .iter()
            .any(|m| {
                code.match_indices(m)
                    .any(|(at, _)| !code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
            });
            let json_as_text = code.contains("outln!(") && code.contains("serde_json::to_string");
            if raw_print || json_as_text {
                offences.push(format!(
                    "{}:{}: {}",
                    entry.path().display(),
                    i + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "print through outln!/errln!/jsonln! (src/cli/sanitize.rs):\n{}",
        offences.join("\n")
    );
}
