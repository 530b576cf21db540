//! The gate as loaders call it (docs/GUIDE.md §5): a link (a Hugging Face cache) is followed by
//! one rule, the same in `reg check`, the library gate and `fsck --scan`, and both names are
//! reported; a directory is a model directory; `-` is standard input; in a batch, every path
//! gets its own decision, denials of paths that cannot be read included, and all of them reach
//! the decision log.

use crate::util::Sandbox;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// `det@1.0.0` PROMOTED and active in slot `det` (artifacts `rules.yar`, `sub/extra.yar`),
/// `other@1.0.0` PROMOTED (not in the slot), `pending@1.0.0` REGISTERED.
fn registry() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[
            ("rules.yar", "rule det { condition: true }\n".into()),
            (
                "sub/extra.yar",
                "rule det_extra { condition: true }\n".into(),
            ),
        ],
    );
    s.add_model(
        "other",
        "1.0.0",
        &[("rules.yar", "rule other { condition: true }\n".into())],
    );
    s.add_model(
        "pending",
        "1.0.0",
        &[("rules.yar", "rule pending { condition: true }\n".into())],
    );
    for args in [
        &["promote", "det@1.0.0", "--reason", "ok"][..],
        &["promote", "other@1.0.0", "--reason", "ok"],
        &["activate", "det", "det@1.0.0", "--reason", "live"],
    ] {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--key", "op.pem"]);
        s.ok(&a);
    }
    s
}

/// A Hugging Face cache holding `det@1.0.0`'s two files as the hub lays them out: the bytes in
/// `blobs/<hash>`, the names in `snapshots/REV/` as relative links to them. Returns the
/// snapshot directory.
fn hf_cache(s: &Sandbox) -> PathBuf {
    let repo = s.join("hub/models--org--det");
    let snap = repo.join("snapshots/0123abcd");
    fs::create_dir_all(repo.join("blobs")).unwrap();
    fs::create_dir_all(snap.join("sub")).unwrap();
    for (name, up) in [("rules.yar", "../.."), ("sub/extra.yar", "../../..")] {
        let bytes = fs::read(s.join(&format!("m-det-1.0.0/{name}"))).unwrap();
        let blob = blake3::hash(&bytes).to_hex().to_string();
        fs::write(repo.join("blobs").join(&blob), bytes).unwrap();
        symlink(format!("{up}/blobs/{blob}"), snap.join(name)).unwrap();
    }
    snap
}

/// Runs `reg check ARGS`, killed after 10 s (a FIFO must never make it wait).
fn check(s: &Sandbox, args: &[&str]) -> Output {
    s.reg()
        .arg("check")
        .args(args)
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap()
}

/// Runs `reg check --json ARGS`; returns the exit code and the decisions, validated against
/// `schema/check.schema.json`.
fn check_json(s: &Sandbox, args: &[&str]) -> (i32, Vec<Value>) {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let out = check(s, &a);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    crate::ingest::validate("check.schema.json", &v);
    (
        out.status.code().expect("exited"),
        v.as_array().unwrap().clone(),
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines of a decision log, parsed.
fn log_lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn canon(p: &Path) -> String {
    fs::canonicalize(p).unwrap().to_str().unwrap().to_string()
}

#[test]
fn a_hugging_face_cache_link_is_allowed_naming_the_link_and_its_blob() {
    let s = registry();
    let snap = hf_cache(&s);
    let link = snap.join("rules.yar");
    let blob = canon(&link);
    assert!(blob.contains("/blobs/"), "{blob}");
    let before = s.snapshot();
    // Text: both names, as `ls -l` shows a link.
    let out = check(&s, &["--slot", "det", link.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(
        text.starts_with("ALLOW ")
            && text.contains(&format!("{} -> {blob} (det@1.0.0)", link.display())),
        "{text}"
    );
    // JSON: `resolved` beside `path`, the blob's bytes hashed.
    let (code, d) = check_json(&s, &["--slot", "det", link.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(d[0]["path"], link.to_str().unwrap());
    assert_eq!(d[0]["resolved"], blob.as_str());
    assert_eq!(
        d[0]["hash"],
        blake3::hash(&fs::read(&blob).unwrap()).to_hex().as_str()
    );
    // A plain file has no `resolved`.
    let (_, d) = check_json(&s, &["--slot", "det", "m-det-1.0.0/rules.yar"]);
    assert!(d[0].get("resolved").is_none(), "{d:?}");
    // The decision log names both too.
    let log = s.join("gate.log");
    let out = check(
        &s,
        &["--slot", "det", "--log", "gate.log", link.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0));
    let lines = log_lines(&log);
    assert_eq!(lines[0]["path"], link.to_str().unwrap());
    assert_eq!(lines[0]["resolved"], blob.as_str());
    assert!(stdout(&check(&s, &["--verify-log", "gate.log"])).starts_with("decision log OK: 1 "));
    assert_eq!(
        s.snapshot(),
        before,
        "checking changes nothing in the registry"
    );
}

#[test]
fn fsck_scan_follows_links_by_the_same_rule_and_names_the_same_target() {
    let s = registry();
    let snap = hf_cache(&s);
    fs::create_dir(s.join("odd")).unwrap();
    symlink("/dev/null", snap.join("null.bin")).unwrap();
    symlink("nowhere", snap.join("dangling.bin")).unwrap();
    let (_, d) = check_json(&s, &[snap.to_str().unwrap()]);
    let out = s
        .reg()
        .args(["fsck", "--json", "--scan", snap.to_str().unwrap()])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    // Every link the gate followed, fsck followed to the same file; what the gate refused,
    // fsck refused, naming the same target.
    for dec in &d {
        let f = findings
            .iter()
            .find(|f| f["path"] == dec["path"])
            .unwrap_or_else(|| panic!("no finding for {dec}: {report:#}"));
        assert_eq!(f["target"], dec["resolved"], "{f} vs {dec}");
        let gate_refused = dec.get("hash").is_none();
        let scan_refused = f["code"] == "scan-link-refused";
        assert_eq!(gate_refused, scan_refused, "{f} vs {dec}");
    }
    let codes: Vec<(&str, &str)> = d
        .iter()
        .map(|x| {
            (
                x["path"].as_str().unwrap().rsplit('/').next().unwrap(),
                x["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("dangling.bin", "not-found"),
            ("null.bin", "not-regular"),
            ("rules.yar", "promoted"),
            ("extra.yar", "promoted"),
        ]
    );
}

#[test]
fn a_link_to_a_fifo_a_directory_a_device_a_dangling_link_or_a_loop_is_denied_each_with_its_code() {
    let s = registry();
    let d = s.join("links");
    fs::create_dir(&d).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(d.join("fifo"))
            .status()
            .unwrap()
            .success()
    );
    symlink(d.join("fifo"), d.join("to-fifo")).unwrap();
    symlink(s.join("m-det-1.0.0"), d.join("to-dir")).unwrap();
    symlink("/dev/null", d.join("to-null")).unwrap();
    symlink(d.join("gone"), d.join("dangling")).unwrap();
    symlink("loop-b", d.join("loop-a")).unwrap();
    symlink("loop-a", d.join("loop-b")).unwrap();
    symlink(s.join("m-det-1.0.0/rules.yar"), d.join("good")).unwrap();
    let names = [
        "to-fifo", "to-dir", "to-null", "dangling", "loop-a", "missing", "fifo", "good",
    ];
    let paths: Vec<String> = names
        .iter()
        .map(|n| d.join(n).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["--slot", "det"];
    args.extend(paths.iter().map(String::as_str));
    let (code, dec) = check_json(&s, &args);
    assert_eq!(code, 1, "denied paths deny the batch: {dec:?}");
    let got: Vec<(&str, bool)> = dec
        .iter()
        .map(|x| (x["code"].as_str().unwrap(), x["allowed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("not-regular", false),
            // A link to a directory given on the command line is a model directory: the
            // operator chose it (one inside a checked directory is not followed).
            ("promoted", true),
            ("promoted", true),
            ("not-regular", false),
            ("not-found", false),
            ("unreadable", false),
            ("not-found", false),
            ("not-regular", false),
            ("promoted", true),
        ],
        "one decision per path, in the order given: {dec:#?}"
    );
    assert_eq!(dec[1]["path"], d.join("to-dir/rules.yar").to_str().unwrap());
    let denied: Vec<&Value> = dec.iter().filter(|x| x["allowed"] == false).collect();
    let reason = |i: usize| denied[i]["reason"].as_str().unwrap().to_string();
    assert!(reason(0).contains("its target is a FIFO"), "{}", reason(0));
    assert!(
        reason(1).contains("its target is a character device"),
        "{}",
        reason(1)
    );
    assert!(reason(2).contains("dangling"), "{}", reason(2));
    assert!(reason(3).contains("a loop of links"), "{}", reason(3));
    assert!(reason(4).contains("no such file"), "{}", reason(4));
    assert!(reason(5).contains("is a FIFO"), "{}", reason(5));
    assert_eq!(denied[0]["resolved"], canon(&d.join("fifo")).as_str());
    assert_eq!(denied[1]["resolved"], "/dev/null");
    assert_eq!(
        denied[2]["resolved"],
        d.join("gone").to_str().unwrap(),
        "what the link names"
    );
    assert_eq!(
        dec[8]["resolved"],
        canon(&s.join("m-det-1.0.0/rules.yar")).as_str()
    );
    for x in &denied {
        assert!(x.get("hash").is_none(), "never read, so no hash: {x}");
    }
    // The text names each with a `-` for the hash never computed.
    let text = stdout(&check(&s, &args));
    assert!(
        text.lines()
            .nth(6)
            .unwrap()
            .starts_with(&format!("DENY  -  {}: no such file [not-found]", paths[5])),
        "{text}"
    );
}

#[test]
fn a_missing_path_in_a_batch_with_a_log_does_not_abort_the_others_and_every_denial_is_logged() {
    let s = registry();
    let log = s.join("gate.log");
    let out = check(
        &s,
        &[
            "--slot",
            "det",
            "--log",
            log.to_str().unwrap(),
            "m-det-1.0.0/rules.yar",
            "gone.yar",
            "m-other-1.0.0/rules.yar",
            "m-det-1.0.0/sub/extra.yar",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let verdicts: Vec<&str> = text.lines().map(|l| &l[..5]).collect();
    assert_eq!(verdicts, ["ALLOW", "DENY ", "DENY ", "ALLOW"], "{text}");
    let lines = log_lines(&log);
    let logged: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["path"].as_str().unwrap(), l["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        logged,
        [
            ("m-det-1.0.0/rules.yar", "promoted"),
            ("gone.yar", "not-found"),
            ("m-other-1.0.0/rules.yar", "out-of-scope"),
            ("m-det-1.0.0/sub/extra.yar", "promoted"),
        ]
    );
    assert!(lines[1].get("hash").is_none() && lines[1]["allowed"] == false);
    let verified = stdout(&check(&s, &["--verify-log", log.to_str().unwrap()]));
    assert!(
        verified.starts_with("decision log OK: 4 decision(s)"),
        "{verified}"
    );
}

#[test]
fn a_log_that_cannot_be_written_fails_the_batch_with_exit_2_and_allows_nothing() {
    let s = registry();
    fs::create_dir(s.join("log-dir")).unwrap();
    let out = check(
        &s,
        &[
            "--slot",
            "det",
            "--log",
            "log-dir",
            "m-det-1.0.0/rules.yar",
            "gone.yar",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stdout(&out),
        "",
        "no decision printed, so nothing is ALLOWed"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
}

#[test]
fn a_model_directory_is_checked_file_by_file_in_name_order() {
    let s = registry();
    // The model's own directory, and its Hugging Face snapshot: every file allowed.
    for dir in [s.join("m-det-1.0.0"), hf_cache(&s)] {
        let (code, d) = check_json(&s, &["--slot", "det", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{d:?}");
        let paths: Vec<&str> = d.iter().map(|x| x["path"].as_str().unwrap()).collect();
        assert_eq!(
            paths,
            [
                dir.join("rules.yar").to_str().unwrap(),
                dir.join("sub/extra.yar").to_str().unwrap()
            ]
        );
    }
    // A file that is no artifact of the model is denied, the others still decided.
    fs::write(s.join("m-det-1.0.0/README.md"), "notes\n").unwrap();
    fs::copy(
        s.join("m-other-1.0.0/rules.yar"),
        s.join("m-det-1.0.0/sub/other.yar"),
    )
    .unwrap();
    symlink(s.join("m-other-1.0.0"), s.join("m-det-1.0.0/linked-dir")).unwrap();
    let (code, d) = check_json(&s, &["--slot", "det", "m-det-1.0.0"]);
    assert_eq!(code, 1);
    let got: Vec<(&str, &str)> = d
        .iter()
        .map(|x| (x["path"].as_str().unwrap(), x["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("m-det-1.0.0/README.md", "out-of-scope"),
            ("m-det-1.0.0/linked-dir", "not-regular"),
            ("m-det-1.0.0/rules.yar", "promoted"),
            ("m-det-1.0.0/sub/extra.yar", "promoted"),
            ("m-det-1.0.0/sub/other.yar", "out-of-scope"),
        ],
        "a link to a directory inside is not descended into"
    );
    // Without a scope, a file of another approved model passes: scope is what binds a
    // directory to one model.
    let (_, d) = check_json(&s, &["m-det-1.0.0/sub"]);
    assert_eq!(d[1]["code"], "promoted");
    // An empty directory allows nothing.
    fs::create_dir(s.join("empty")).unwrap();
    let (code, d) = check_json(&s, &["--slot", "det", "empty"]);
    assert_eq!(code, 1);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["code"], "empty-directory");
    assert_eq!(d[0]["path"], "empty");
}

#[test]
fn standard_input_is_hashed_as_a_file_named_dash() {
    let s = registry();
    let good = fs::read(s.join("m-det-1.0.0/rules.yar")).unwrap();
    let run = |bytes: &[u8], extra: &[&str]| {
        let out = s
            .reg()
            .args(["check", "--json", "--slot", "det", "--log", "gate.log"])
            .args(extra)
            .arg("-")
            .write_stdin(bytes.to_vec())
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        crate::ingest::validate("check.schema.json", &v);
        (out.status.code().unwrap(), v)
    };
    let (code, v) = run(&good, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["path"], "-");
    assert_eq!(v[0]["model"], "det@1.0.0");
    assert_eq!(v[0]["hash"], blake3::hash(&good).to_hex().as_str());
    let (code, v) = run(b"something else", &["m-det-1.0.0/rules.yar"]);
    assert_eq!(code, 1);
    assert_eq!(v[0]["code"], "promoted");
    assert_eq!(v[1]["path"], "-");
    assert_eq!(v[1]["code"], "out-of-scope");
    assert_eq!(
        v[1]["hash"],
        blake3::hash(b"something else").to_hex().as_str()
    );
    let logged: Vec<String> = log_lines(&s.join("gate.log"))
        .iter()
        .map(|l| l["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logged, ["-", "m-det-1.0.0/rules.yar", "-"]);
    // Read once: given twice is a usage error, and nothing is logged.
    let err = s.fails(2, &["check", "--log", "gate.log", "-", "-"]);
    assert!(err.contains("more than once"), "{err}");
    assert_eq!(log_lines(&s.join("gate.log")).len(), 3);
}

#[test]
fn an_unpinned_registry_still_denies_a_followed_link_and_a_directory() {
    let s = registry();
    let snap = hf_cache(&s);
    let out = s
        .reg()
        .env("REG_TRUST_FILE", s.join("elsewhere/trust.json"))
        .args(["check", "--json", "--slot", "det", snap.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::ingest::validate("check.schema.json", &v);
    let codes: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["unpinned", "unpinned"]);
    assert!(v[0]["resolved"].as_str().unwrap().contains("/blobs/"));
}

#[test]
fn the_library_gate_follows_a_link_and_hands_out_the_bytes_of_the_file_it_resolved() {
    use std::io::Read as _;
    let s = registry();
    let snap = hf_cache(&s);
    let link = snap.join("rules.yar");
    let opts = s.options();
    let reg = reg::repo::registry::Registry::open(&s.dot(), &opts).unwrap();
    let gate = reg::gate::Gate::new(&reg, reg::gate::GateOptions::default()).unwrap();
    let scope = reg::gate::Scope::Slot("det".into());
    let mut v = gate.open_verified(&link, &scope).unwrap();
    assert_eq!(
        v.decision.resolved.as_deref().map(|p| p.to_str().unwrap()),
        Some(canon(&link).as_str())
    );
    let mut bytes = Vec::new();
    v.file.read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, fs::read(s.join("m-det-1.0.0/rules.yar")).unwrap());
    // A link to a device is an error, never opened as the model.
    symlink("/dev/null", snap.join("null.yar")).unwrap();
    let e = gate
        .open_verified(&snap.join("null.yar"), &scope)
        .unwrap_err();
    assert!(
        e.to_string().contains("its target is a character device"),
        "{e}"
    );
}

#[test]
fn a_link_swapped_in_between_resolving_and_opening_is_refused_not_followed() {
    let s = registry();
    let snap = hf_cache(&s);
    let link = snap.join("rules.yar");
    let blob = PathBuf::from(canon(&link));
    // The blob is replaced, after the gate resolved the link to it and before it opens it, by a
    // link to other bytes (here even an approved file of the slot: it must not be followed).
    let pause = s.join("pause");
    fs::create_dir(&pause).unwrap();
    let child = crate::util::spawn(
        &s,
        &["check", "--json", "--slot", "det", link.to_str().unwrap()],
        &[
            ("REG_FAILPOINT", Path::new("follow-before-open")),
            ("REG_FAILPOINT_PAUSE", &pause),
        ],
    );
    crate::util::wait_for(&pause.join("reached"));
    fs::remove_file(&blob).unwrap();
    symlink(s.join("m-det-1.0.0/rules.yar"), &blob).unwrap();
    fs::write(pause.join("go"), "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::ingest::validate("check.schema.json", &v);
    assert_eq!(v[0]["code"], "not-regular", "{v}");
    assert!(
        v[0]["reason"]
            .as_str()
            .unwrap()
            .contains("a symbolic link, not a regular file (it changed while opened)"),
        "{v}"
    );
    assert_eq!(v[0]["resolved"], blob.to_str().unwrap());
}

/// Nothing can make the open block: a FIFO swapped in between the look and the open (which
/// has no writer, so a blocking open would wait forever) is opened without blocking and
/// refused as what it became.
#[test]
fn a_fifo_swapped_in_between_resolving_and_opening_is_refused_without_blocking() {
    let s = registry();
    let snap = hf_cache(&s);
    let link = snap.join("rules.yar");
    let blob = PathBuf::from(canon(&link));
    let pause = s.join("pause");
    fs::create_dir(&pause).unwrap();
    let mut child = crate::util::spawn(
        &s,
        &["check", "--json", "--slot", "det", link.to_str().unwrap()],
        &[
            ("REG_FAILPOINT", Path::new("follow-before-open")),
            ("REG_FAILPOINT_PAUSE", &pause),
        ],
    );
    crate::util::wait_for(&pause.join("reached"));
    fs::remove_file(&blob).unwrap();
    let made = std::process::Command::new(crate::util::tool("mkfifo", "coreutils"))
        .arg(&blob)
        .status()
        .unwrap();
    assert!(made.success());
    fs::write(pause.join("go"), "").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the gate blocked opening a FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::ingest::validate("check.schema.json", &v);
    assert_eq!(v[0]["code"], "not-regular", "{v}");
    assert!(
        v[0]["reason"]
            .as_str()
            .unwrap()
            .contains("its target is a FIFO, not a regular file (it changed while opened)"),
        "{v}"
    );
}

/// A file that vanishes between the look and the open is refused as unreadable, naming why,
/// not as a link swapped in.
#[test]
fn a_file_removed_between_resolving_and_opening_is_unreadable_not_a_swapped_link() {
    let s = registry();
    let snap = hf_cache(&s);
    let link = snap.join("rules.yar");
    let blob = PathBuf::from(canon(&link));
    let pause = s.join("pause");
    fs::create_dir(&pause).unwrap();
    let child = crate::util::spawn(
        &s,
        &["check", "--json", "--slot", "det", link.to_str().unwrap()],
        &[
            ("REG_FAILPOINT", Path::new("follow-before-open")),
            ("REG_FAILPOINT_PAUSE", &pause),
        ],
    );
    crate::util::wait_for(&pause.join("reached"));
    fs::remove_file(&blob).unwrap();
    fs::write(pause.join("go"), "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::ingest::validate("check.schema.json", &v);
    assert_eq!(v[0]["code"], "unreadable", "{v}");
    let reason = v[0]["reason"].as_str().unwrap();
    assert!(reason.contains("cannot be read"), "{v}");
    assert!(!reason.contains("symbolic link"), "{v}");
}
