//! `reg fsck`: PASS on a sound registry; for any byte changed or file removed under
//! `.registry/`, FAIL (or, for the derived index alone, a stale-index warning) naming that file.

use crate::util::{Sandbox, make_writable};
use std::fs;
use std::path::{Path, PathBuf};

/// A populated registry: three models, transitions, a revocation, an active slot.
fn populated() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    for (name, version) in [("det", "1.0.0"), ("det", "2.0.0"), ("triage", "1.0.0")] {
        let rule = format!(
            "rule r_{name}_{} {{ condition: true }}\n",
            version.replace('.', "_")
        );
        let config = format!("{{\"model\":\"{name}\"}}");
        s.add_model(
            name,
            version,
            &[("rules.yar", rule), ("config.json", config)],
        );
    }
    for args in [
        &["promote", "det@1.0.0", "--reason", "ok"][..],
        &["promote", "det@2.0.0", "--reason", "ok"],
        &["activate", "ransomware", "det@2.0.0", "--reason", "live"],
        &[
            "revoke",
            "det@1.0.0",
            "--reason",
            "superseded and withdrawn",
        ],
    ] {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--key", "op.pem"]);
        s.ok(&a);
    }
    s
}

pub(crate) fn fsck_json(s: &Sandbox, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["fsck", "--json"];
    args.extend_from_slice(extra);
    let out = s.reg().args(&args).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "fsck --json printed no report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    crate::ingest::validate("fsck-report.schema.json", &report);
    (out.status.code().unwrap(), report)
}

fn codes(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Whether some finding names `file`: by path, by its name in the message, or (for an object)
/// by its id.
fn names(report: &serde_json::Value, file: &Path, dot: &Path) -> bool {
    let rel = file
        .strip_prefix(dot)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let object_id = rel.strip_prefix("objects/").map(|r| r.replace('/', ""));
    report["findings"].as_array().unwrap().iter().any(|f| {
        let path = f["path"].as_str().unwrap_or_default();
        let msg = f["message"].as_str().unwrap_or_default();
        path.ends_with(&rel)
            || msg.contains(&rel)
            || object_id
                .as_ref()
                .is_some_and(|id| msg.contains(id.as_str()) || f["object"] == id.as_str())
    })
}

#[test]
fn a_sound_registry_passes_and_the_report_validates() {
    let s = populated();
    let (code, report) = fsck_json(&s, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["result"], "PASS");
    assert_eq!(report["pinned"], "host");
    assert_eq!(report["checked"]["models"], 3);
    let out = s.ok(&["fsck"]);
    assert!(out.starts_with("PASS: "), "{out}");
}

#[test]
fn every_file_flipped_or_deleted_is_caught_and_named() {
    let s = populated();
    let dot = s.dot();
    let files: Vec<PathBuf> = walkdir::WalkDir::new(&dot)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().to_path_buf())
        .filter(|p| !p.ends_with("lock") && !p.starts_with(dot.join("tmp")))
        .collect();
    let state_dir = s.join("home/.local/state/reg");
    let mut tried = 0;
    for file in &files {
        let original = fs::read(file).unwrap();
        let is_index = file.starts_with(dot.join("index"));
        for action in ["flip", "delete"] {
            make_writable(file);
            if action == "flip" {
                let mut bytes = original.clone();
                let at = bytes.len() / 2;
                bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
                fs::write(file, &bytes).unwrap();
            } else {
                fs::remove_file(file).unwrap();
            }
            let (code, report) = fsck_json(&s, &[]);
            let rel = file.strip_prefix(&dot).unwrap().display().to_string();
            if is_index {
                assert!(
                    codes(&report).contains(&"index-stale".to_string()),
                    "{action} {rel}: {report:#}"
                );
            } else {
                assert_eq!(code, 1, "{action} {rel}: expected FAIL: {report:#}");
                assert_eq!(report["result"], "FAIL");
            }
            assert!(
                names(&report, file, &dot),
                "{action} {rel}: no finding names it: {report:#}"
            );
            fs::write(file, &original).unwrap();
            // fsck must not have learned a tampered state as verified.
            let _ = fs::remove_dir_all(&state_dir);
            tried += 1;
        }
    }
    assert!(tried >= 40, "only {tried} files tried");
    eprintln!(
        "fsck tamper test: {} files, {tried} alterations, each caught and named",
        files.len()
    );
    let (code, _) = fsck_json(&s, &[]);
    assert_eq!(code, 0, "restored registry passes again");
}

#[test]
fn a_revoked_model_made_active_by_editing_a_ref_is_caught() {
    let s = populated();
    // Point the slot's ref at the entry that once activated... the revoked model's latest entry.
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "det@1.0.0", "--json"])).unwrap();
    let revoked_entry = show["history"].as_array().unwrap().last().unwrap()["entry"]
        .as_str()
        .unwrap()
        .to_string();
    fs::write(
        s.dot().join("refs/slots/ransomware"),
        format!("{revoked_entry}\n"),
    )
    .unwrap();
    let (code, report) = fsck_json(&s, &[]);
    assert_eq!(code, 1);
    assert!(
        codes(&report).contains(&"ref-mismatch".to_string()),
        "{report:#}"
    );
    // Consumers are not fooled either: status comes from the verified state.
    let status: serde_json::Value = serde_json::from_str(&s.ok(&["status", "--json"])).unwrap();
    assert_eq!(status[0]["version"], "2.0.0");
}

#[test]
fn an_object_smuggled_into_the_store_is_dangling() {
    let s = populated();
    let id = reg::repo::store::Store::new(&s.dot())
        .put_bytes(b"\x80\x04 a smuggled pickle")
        .unwrap();
    let (code, report) = fsck_json(&s, &[]);
    assert_eq!(code, 0, "a dangling object is a warning: {report:#}");
    let dangling: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "object-dangling")
        .collect();
    assert_eq!(dangling.len(), 1);
    assert_eq!(dangling[0]["object"], id.to_string());
}

#[test]
fn scan_fails_on_unregistered_revoked_and_unapproved_files() {
    let s = populated();
    fs::create_dir_all(s.join("host/models")).unwrap();
    fs::copy(
        s.join("m-det-2.0.0/rules.yar"),
        s.join("host/models/approved.yar"),
    )
    .unwrap();
    fs::write(s.join("host/models/config.json"), b"{}").unwrap();
    // host/ also holds the host's trust file: scan the models directory only.
    let (code, report) = fsck_json(&s, &["--scan", "host/models"]);
    assert_eq!(code, 1, "a config file is checked too: {report:#}");
    assert_eq!(report["checked"]["scanned"], 2);
    assert_eq!(codes(&report), ["scan-unregistered"]);
    let ignore = ["--scan", "host/models", "--ignore", "*.json"];
    let (code, report) = fsck_json(&s, &ignore);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["checked"]["scanned"], 1);
    assert_eq!(report["checked"]["ignored"], 1);

    fs::write(s.join("host/models/shadow.onnx"), b"\x08\x07\x12\x05torch").unwrap();
    fs::copy(
        s.join("m-det-1.0.0/rules.yar"),
        s.join("host/models/old.yar"),
    )
    .unwrap();
    fs::copy(
        s.join("m-triage-1.0.0/rules.yar"),
        s.join("host/models/pending.yar"),
    )
    .unwrap();
    let (code, report) = fsck_json(&s, &ignore);
    assert_eq!(code, 1);
    let by_code = |c: &str| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == c)
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        by_code("scan-unregistered"),
        vec!["host/models/shadow.onnx".to_string()]
    );
    assert_eq!(
        by_code("scan-revoked"),
        vec!["host/models/old.yar".to_string()]
    );
    assert_eq!(
        by_code("scan-unapproved"),
        vec!["host/models/pending.yar".to_string()]
    );
    let pending = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "scan-unapproved")
        .unwrap();
    assert_eq!(pending["severity"], "error", "not approved: {pending:#}");
    assert_eq!(pending["model"], "triage@1.0.0");
}

#[test]
fn a_replaced_root_fails_against_the_original_trust() {
    let s = populated();
    let root = s.ok(&["key", "fingerprint", "root.pem"]).trim().to_string();
    let other = Sandbox::new();
    other.init();
    let out = other
        .reg()
        .args(["fsck", "--json", "--trust", &root])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["code"], "trust-mismatch");
}

#[test]
fn without_a_pin_fsck_fails_closed_unless_allowed() {
    let s = populated();
    fs::remove_file(s.trust_file()).unwrap();
    let (code, report) = fsck_json(&s, &[]);
    assert_eq!(code, 1);
    assert_eq!(report["findings"][0]["code"], "trust-unpinned");
    let (code, report) = fsck_json(&s, &["--allow-unpinned"]);
    assert_eq!(code, 0);
    assert_eq!(report["pinned"], "none");
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("checked only against itself")
    );
}

#[test]
fn fsck_list_and_show_work_for_a_user_without_write_access() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = populated();
    let dot = s.dot();
    // Everything read-only, and readable by others (the sandbox itself too).
    readable_by_others(&s);
    for e in walkdir::WalkDir::new(&dot) {
        let e = e.unwrap();
        let mode = if e.file_type().is_dir() { 0o555 } else { 0o444 };
        fs::set_permissions(e.path(), fs::Permissions::from_mode(mode)).unwrap();
    }
    let before = s.snapshot();
    // The reader's own state directory, where it records the checkpoint it verified (a reader
    // that cannot record refuses: see trust_pin::a_host_that_cannot_record_refuses).
    let reader_state = s.join("reader-state");
    fs::create_dir(&reader_state).unwrap();
    fs::set_permissions(&reader_state, fs::Permissions::from_mode(0o777)).unwrap();
    let as_user = |args: &[&str]| as_other_user(&s, &reader_state, args);
    for args in [
        &["fsck"][..],
        &["list"],
        &["show", "det@2.0.0"],
        &["status"],
        &["ledger", "verify"],
        &["check", "--slot", "ransomware", "m-det-2.0.0/rules.yar"],
    ] {
        let out = as_user(args);
        assert!(
            out.status.success(),
            "reg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Readers wrote nothing.
    assert_eq!(before, s.snapshot());
    for e in walkdir::WalkDir::new(&dot) {
        make_writable(e.unwrap().path());
    }
}

/// Makes everything in the sandbox readable by other users (directories 0755, files 0644).
pub(crate) fn readable_by_others(s: &Sandbox) {
    use std::os::unix::fs::PermissionsExt as _;
    for e in walkdir::WalkDir::new(s.path()) {
        let e = e.unwrap();
        let mode = if e.file_type().is_dir() { 0o755 } else { 0o644 };
        fs::set_permissions(e.path(), fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// Runs reg as a user other than the sandbox's owner, with its own writable state directory: as
/// root, permission bits do not bind, so as `nobody` through setpriv (the sandbox must be
/// readable by others).
pub(crate) fn as_other_user(
    s: &Sandbox,
    state: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    let mut c = s.reg();
    if nix_is_root() {
        let mut wrapped = std::process::Command::new(crate::util::tool("setpriv", "util-linux"));
        for (k, v) in c.get_envs() {
            if let Some(v) = v {
                wrapped.env(k, v);
            }
        }
        wrapped
            .current_dir(s.path())
            .env("HOME", "/nonexistent")
            .env("REG_STATE_DIR", state)
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(assert_cmd::cargo::cargo_bin("reg"))
            .args(args);
        wrapped.output().unwrap()
    } else {
        c.env("REG_STATE_DIR", state).args(args).output().unwrap()
    }
}

fn nix_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[test]
fn gc_removes_only_what_no_entry_reaches_and_repairs_refs() {
    let s = populated();
    let smuggled = reg::repo::store::Store::new(&s.dot())
        .put_bytes(b"smuggled weights")
        .unwrap();
    fs::write(s.dot().join("tmp/object-leftover"), b"partial").unwrap();
    let slot_ref = s.dot().join("refs/slots/ransomware");
    let good_ref = fs::read(&slot_ref).unwrap();
    fs::write(&slot_ref, format!("{smuggled}\n")).unwrap();
    let before: Vec<String> = s.ledger_ids();
    let out = s.ok(&["gc"]);
    assert!(out.contains(&format!("removed object {smuggled}")), "{out}");
    assert!(out.contains("removed staging leftover"), "{out}");
    assert!(out.contains("rewrote ref"), "{out}");
    assert!(out.contains("gc: 1 object(s)"), "{out}");
    assert_eq!(fs::read(&slot_ref).unwrap(), good_ref);
    assert_eq!(s.ledger_ids(), before, "gc writes no entry");
    let (code, report) = fsck_json(&s, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        report["findings"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
    // A second run has nothing to do.
    assert!(s.ok(&["gc"]).contains("gc: 0 object(s)"));
}

#[test]
fn purge_destroys_a_revoked_models_bytes_and_keeps_its_history() {
    let s = populated();
    let err = s.fails(
        1,
        &["purge", "det@2.0.0", "--reason", "x", "--key", "op.pem"],
    );
    assert!(
        err.contains("only a REVOKED model's artifacts can be purged"),
        "{err}"
    );
    let rules = fs::read(s.join("m-det-1.0.0/rules.yar")).unwrap();
    let config = fs::read(s.join("m-det-1.0.0/config.json")).unwrap();
    let rules_id = blake3::hash(&rules).to_hex().to_string();
    let config_id = blake3::hash(&config).to_hex().to_string();
    let out = s.ok(&[
        "purge",
        "det@1.0.0",
        "--reason",
        "destroy poisoned weights",
        "--key",
        "op.pem",
    ]);
    assert!(out.contains("purged det@1.0.0"), "{out}");
    assert!(!s.object_path(&rules_id).exists());
    // config.json is byte-identical in det@2.0.0, which still needs it: kept.
    assert_eq!(config, fs::read(s.join("m-det-2.0.0/config.json")).unwrap());
    assert!(s.object_path(&config_id).exists());
    // Record and history stay; fsck expects the bytes gone and passes.
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "det@1.0.0", "--json"])).unwrap();
    assert_eq!(show["state"], "REVOKED");
    // add, promote, revoke and the purge itself: the history is complete.
    assert_eq!(show["history"].as_array().unwrap().len(), 4);
    assert_eq!(show["history"][3]["action"], "purge");
    let (code, report) = fsck_json(&s, &[]);
    assert_eq!(code, 0, "{report:#}");
    let err = s.fails(
        1,
        &["purge", "det@1.0.0", "--reason", "again", "--key", "op.pem"],
    );
    assert!(err.contains("once"), "{err}");
    // The destroyed bytes put back are caught, and gc removes them again.
    reg::repo::store::Store::new(&s.dot())
        .put_bytes(&rules)
        .unwrap();
    let (code, report) = fsck_json(&s, &[]);
    assert_eq!(code, 1);
    assert!(
        codes(&report).contains(&"purged-present".to_string()),
        "{report:#}"
    );
    s.ok(&["gc"]);
    assert_eq!(fsck_json(&s, &[]).0, 0);
    s.ok(&["ledger", "verify"]);
}

/// The objects the findings with `code` name.
fn objects_of(report: &serde_json::Value, code: &str) -> std::collections::BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["object"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn gc_removes_exactly_what_fsck_finds_unreached_and_leaves_misnamed_files_to_a_person() {
    let s = populated();
    s.ok(&[
        "purge",
        "det@1.0.0",
        "--reason",
        "poisoned",
        "--key",
        "op.pem",
    ]);
    let store = reg::repo::store::Store::new(&s.dot());
    let rules = fs::read(s.join("m-det-1.0.0/rules.yar")).unwrap();
    let back = store.put_bytes(&rules).unwrap().to_string();
    let smuggled: Vec<String> = [&b"one"[..], b"two"]
        .iter()
        .map(|b| store.put_bytes(b).unwrap().to_string())
        .collect();
    let fan = s.object_path(&back).parent().unwrap().to_path_buf();
    let misnamed = [fan.join("not-an-id"), s.dot().join("objects/zz/x")];
    fs::create_dir(s.dot().join("objects/zz")).unwrap();
    for p in &misnamed {
        fs::write(p, b"?").unwrap();
    }
    let (code, report) = fsck_json(&s, &[]);
    assert_eq!(code, 1, "{report:#}");
    let purged = objects_of(&report, "purged-present");
    let dangling = objects_of(&report, "object-dangling");
    assert_eq!(purged, [back.clone()].into());
    assert_eq!(dangling, smuggled.iter().cloned().collect());
    for p in &misnamed {
        let named = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "object-misnamed" && f["path"].as_str() == p.to_str());
        assert!(named, "{} not named: {report:#}", p.display());
    }
    let out = s.ok(&["gc"]);
    let removed: std::collections::BTreeSet<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("removed object "))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    let unreached: std::collections::BTreeSet<String> = purged.union(&dangling).cloned().collect();
    assert_eq!(removed, unreached, "{out}");
    let (_, report) = fsck_json(&s, &[]);
    // The files, and the directory `zz` that is no fan-out directory.
    assert_eq!(codes(&report), ["object-misnamed"; 3], "{report:#}");
    assert!(misnamed.iter().all(|p| p.exists()));
}

#[test]
fn a_directory_the_checking_user_cannot_list_fails_fsck_instead_of_hiding_what_it_holds() {
    // As a user who cannot list a directory of the registry, fsck skipped it: a link or a
    // forged ref inside was never seen, and the report said PASS.
    use std::os::unix::fs::PermissionsExt as _;
    let s = populated();
    let dot = s.dot();
    readable_by_others(&s);
    let state = s.join("reader-state");
    fs::create_dir(&state).unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o777)).unwrap();
    let out = as_other_user(&s, &state, &["fsck"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for (dir, plant) in [
        ("", "evil"),
        ("tmp", "tmp/evil"),
        ("index", "index/evil"),
        ("refs/slots", "refs/slots/evil"),
    ] {
        let dir = if dir.is_empty() {
            dot.clone()
        } else {
            dot.join(dir)
        };
        std::os::unix::fs::symlink("/", dot.join(plant)).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o311)).unwrap();
        let out = as_other_user(&s, &state, &["fsck"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        fs::remove_file(dot.join(plant)).unwrap();
        assert_eq!(out.status.code(), Some(1), "{plant}: {stdout}");
        assert!(
            stdout.contains(&format!("error[unreadable] {}", dir.display())),
            "{plant}: {stdout}"
        );
    }
}
