//! `reg fsck`'s findings, each with its severity and code: what an interrupted write leaves (a
//! staging file, a stale ref, entries past the checkpoint) is a warning and fsck still passes;
//! what no write of reg's makes (a layout not the registry's own, a ref naming another model's
//! entry, a replay that fails) is an error naming the file to look at; the counts are what the
//! store holds.

use crate::util::Sandbox;

#[test]
fn a_deprecated_active_model_is_a_warning_and_fsck_still_passes() {
    // The slot check: a DEPRECATED model that still runs in a slot is named as a warning (not
    // an error: it stays active until replaced, by the lifecycle's rule).
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    s.ok(&[
        "promote",
        "alpha@1.0.0",
        "--reason",
        "ok",
        "--key",
        "op.pem",
    ]);
    s.ok(&[
        "activate",
        "detect",
        "alpha@1.0.0",
        "--reason",
        "go",
        "--key",
        "op.pem",
    ]);
    let clean = s.ok(&["fsck"]);
    assert!(clean.contains("0 error(s), 0 warning(s)"), "{clean}");
    s.ok(&[
        "deprecate",
        "alpha@1.0.0",
        "--reason",
        "old",
        "--key",
        "op.pem",
    ]);
    let out = s.ok(&["fsck"]);
    assert!(out.contains("warning[deprecated-active]"), "{out}");
    assert!(
        out.contains("slot `detect` runs alpha@1.0.0, which is DEPRECATED"),
        "{out}"
    );
    assert!(
        out.contains("PASS") && out.contains("0 error(s), 1 warning(s)"),
        "{out}"
    );
}

#[test]
fn a_registry_directory_that_is_a_link_is_named_and_never_walked() {
    // `.registry` itself a link to a real registry: fsck names the link, and reads nothing
    // behind it (a walk of the target would check someone else's files as if they were these).
    let s = Sandbox::new();
    std::fs::create_dir(s.join("real")).unwrap();
    s.key("root.pem");
    s.ok(&["init", "real", "--root-key", "root.pem"]);
    std::fs::create_dir(s.join("site")).unwrap();
    std::os::unix::fs::symlink(s.join("real/.registry"), s.join("site/.registry")).unwrap();
    let out = s
        .reg()
        .args(["--registry", "site", "fsck"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("error[link] site/.registry: the registry directory is a symbolic link"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 objects (0 bytes), 0 ledger entries"),
        "{stdout}"
    );
}

#[test]
fn what_an_interrupted_write_left_in_staging_is_a_warning_that_gc_clears() {
    let s = Sandbox::new();
    s.init();
    std::fs::write(s.dot().join("tmp/object-left-behind"), b"half an object").unwrap();
    // A directory too, which nothing reg stages: gc goes on but leaves it (what is under it, a
    // mount point, could reach outside the registry), and fsck says to look at it.
    std::fs::create_dir_all(s.dot().join("tmp/sub/deeper")).unwrap();
    std::fs::write(s.dot().join("tmp/sub/deeper/f"), b"x").unwrap();
    let out = s.ok(&["fsck"]);
    assert!(out.contains("warning[staging-residue]"), "{out}");
    assert!(out.contains("object-left-behind"), "{out}");
    assert!(
        out.contains("PASS") && out.contains("0 error(s), 2 warning(s)"),
        "{out}"
    );
    s.ok(&["gc"]);
    assert!(s.dot().join("tmp/sub/deeper/f").exists());
    let out = s.ok(&["fsck"]);
    assert!(out.contains("0 error(s), 1 warning(s)"), "{out}");
    assert!(out.contains("remove it by hand"), "{out}");
    std::fs::remove_dir_all(s.dot().join("tmp/sub")).unwrap();
    assert!(s.ok(&["fsck"]).contains("0 error(s), 0 warning(s)"));
}

/// Replaces `.registry/` with the copy in `backup` (`cp -a`: modes and all).
fn restore(s: &Sandbox, backup: &std::path::Path) {
    std::fs::remove_dir_all(s.dot()).unwrap();
    crate::util::cp_a(backup, &s.dot());
}

/// A copy of `.registry/` beside it, to put back between cases.
fn backup(s: &Sandbox, name: &str) -> std::path::PathBuf {
    let to = s.join(name);
    crate::util::cp_a(&s.dot(), &to);
    to
}

/// The findings of `reg fsck --json` as (severity, code, path), and its exit code.
fn findings(s: &Sandbox) -> (i32, Vec<(String, String, String)>, serde_json::Value) {
    let (code, report) = crate::fsck::fsck_json(s, &[]);
    let list = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let field = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (field("severity"), field("code"), field("path"))
        })
        .collect();
    (code, list, report)
}

/// A finding as [`findings`] lists it.
fn finding(severity: &str, code: &str, path: &std::path::Path) -> (String, String, String) {
    (
        severity.to_string(),
        code.to_string(),
        path.to_string_lossy().into_owned(),
    )
}

#[test]
fn a_registry_whose_layout_is_not_its_own_never_passes() {
    // A directory where the layout has a file, or a file where it has a directory: the
    // registry cannot be opened, and fsck said PASS on 0 objects because it took every layout
    // refusal for a link that its walk had already named.
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let good = backup(&s, "good");
    let file_to_dir = [
        "ledger",
        "checkpoint",
        "config.json",
        "lock",
        "index/state.json",
    ];
    let dir_to_file = ["objects", "tmp", "index", "refs", "refs/slots"];
    for (path, to_dir) in file_to_dir
        .iter()
        .map(|p| (p, true))
        .chain(dir_to_file.iter().map(|p| (p, false)))
    {
        let at = s.dot().join(path);
        if to_dir {
            std::fs::remove_file(&at).unwrap();
            std::fs::create_dir(&at).unwrap();
        } else {
            std::fs::remove_dir_all(&at).unwrap();
            std::fs::write(&at, b"").unwrap();
        }
        let (code, list, _) = findings(&s);
        assert_eq!(code, 1, "{path}: {list:?}");
        let expected = finding("error", "layout", &at);
        assert!(list.contains(&expected), "{path}: {list:?}");
        let out = s.reg().arg("fsck").output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("FAIL"), "{path}: {stdout}");
        // Other commands refuse it with a hint that fits: nothing was planted.
        let err = s.fails(1, &["status"]);
        assert!(
            err.contains("not of the kind its layout has"),
            "{path}: {err}"
        );
        restore(&s, &good);
    }
    // A link is named once, as a link: the refusal to open is not a second finding.
    let ledger = s.dot().join("ledger");
    std::fs::rename(&ledger, s.join("ledger-elsewhere")).unwrap();
    std::os::unix::fs::symlink(s.join("ledger-elsewhere"), &ledger).unwrap();
    let (code, list, _) = findings(&s);
    assert_eq!(code, 1);
    assert_eq!(list, vec![finding("error", "link", &ledger)]);
    let err = s.fails(1, &["status"]);
    assert!(err.contains("planted a link or special file"), "{err}");
    restore(&s, &good);
    assert_eq!(findings(&s).0, 0);
}

/// What is done, the damage, the code and path of the first finding.
type Case<'a> = (&'a str, Box<dyn Fn() + 'a>, &'a str, std::path::PathBuf);

#[test]
fn each_failed_replay_names_its_code_and_the_file_to_look_at() {
    // The code says what kind of failure it is (a rollback is not a corruption), the path what
    // to look at or restore first.
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let (code, list, report) = findings(&s);
    assert_eq!((code, list.len()), (0, 0), "{list:?}");
    let ids = s.ledger_ids();
    assert_eq!(report["checked"]["entries"], ids.len());
    let old = backup(&s, "old");
    s.ok(&[
        "promote",
        "alpha@1.0.0",
        "--reason",
        "ok",
        "--key",
        "op.pem",
    ]);
    let new = backup(&s, "new");
    let dot = s.dot();
    let head = s.ledger_ids().pop().unwrap();
    let host_record = walkdir::WalkDir::new(s.join("home"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "json") && p.to_string_lossy().contains("state")
        })
        .expect("this host's record of the registry");
    let cases: Vec<Case> = vec![
        (
            "the head entry's bytes altered",
            Box::new(|| {
                let p = s.object_path(&head);
                crate::util::make_writable(&p);
                let mut bytes = std::fs::read(&p).unwrap();
                bytes.push(b' ');
                std::fs::write(&p, bytes).unwrap();
            }),
            "ledger-invalid",
            s.object_path(&head),
        ),
        (
            "the head entry's object removed",
            Box::new(|| {
                let p = s.object_path(&head);
                std::fs::remove_file(p).unwrap();
            }),
            "ledger-invalid",
            dot.join("ledger"),
        ),
        (
            "the checkpoint replaced by garbage",
            Box::new(|| {
                std::fs::remove_file(dot.join("checkpoint")).unwrap();
                std::fs::write(dot.join("checkpoint"), b"garbage\n").unwrap();
            }),
            "ledger-invalid",
            dot.join("checkpoint"),
        ),
        (
            "this host's record emptied",
            Box::new(|| std::fs::write(&host_record, b"").unwrap()),
            "host-state",
            host_record.clone(),
        ),
        (
            "the copy from before the promotion put back",
            Box::new(|| restore(&s, &old)),
            "ledger-rollback",
            dot.join("checkpoint"),
        ),
    ];
    let record = std::fs::read(&host_record).unwrap();
    for (what, damage, want_code, want_path) in cases {
        damage();
        let (code, list, report) = findings(&s);
        assert_eq!(code, 1, "{what}: {list:?}");
        assert_eq!(report["result"], "FAIL", "{what}");
        let first = &list[0];
        assert_eq!(
            (first.0.as_str(), first.1.as_str(), first.2.as_str()),
            ("error", want_code, &*want_path.to_string_lossy()),
            "{what}: {list:?}"
        );
        restore(&s, &new);
        std::fs::write(&host_record, &record).unwrap();
        assert_eq!(findings(&s).0, 0, "{what}: restored");
    }
}

#[test]
fn entries_after_the_checkpoint_or_half_a_line_are_a_warning_and_fsck_still_passes() {
    // An interrupted write leaves whole lines after the checkpoint (killed after the ledger
    // append), or half of one; each alone is worth a warning.
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let out = s
        .reg()
        .args([
            "promote",
            "alpha@1.0.0",
            "--reason",
            "ok",
            "--key",
            "op.pem",
        ])
        .env("REG_FAILPOINT", "commit:after-ledger")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let residue = |s: &Sandbox| {
        let (code, list, _) = findings(s);
        assert_eq!(code, 0, "{list:?}");
        let want = finding("warning", "ledger-residue", &s.dot().join("ledger"));
        assert!(list.contains(&want), "{list:?}");
        assert!(list.iter().all(|f| f.0 == "warning"), "{list:?}");
    };
    residue(&s);
    let t = Sandbox::new();
    t.init();
    let ledger = t.dot().join("ledger");
    crate::util::make_writable(&ledger);
    let mut bytes = std::fs::read(&ledger).unwrap();
    bytes.extend_from_slice(b"3f2a");
    std::fs::write(&ledger, bytes).unwrap();
    residue(&t);
    assert_eq!(
        findings(&t).1.len(),
        1,
        "half a line is all there is to say"
    );
    // Bytes no interrupted write leaves are not residue: the ledger file is invalid.
    let mut bytes = std::fs::read(&ledger).unwrap();
    bytes.extend_from_slice(b"x!");
    std::fs::write(&ledger, bytes).unwrap();
    let (code, list, _) = findings(&t);
    assert_eq!(code, 1, "{list:?}");
    let invalid = finding("error", "ledger-invalid", &t.dot().join("ledger"));
    assert_eq!(list, vec![invalid]);
    // Nor does a writer remove them as residue: it refuses, and they stay for fsck to name.
    let before = std::fs::read(&ledger).unwrap();
    t.key("x.pem");
    let out = t
        .reg()
        .args([
            "key",
            "trust",
            "x.pem.pub",
            "--role",
            "operator",
            "--key",
            "root.pem",
            "--reason",
            "r",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not the start of an entry id"), "{err}");
    assert_eq!(std::fs::read(&ledger).unwrap(), before);
}

#[test]
fn the_counts_are_what_the_store_holds_and_a_damaged_artifact_is_named_once() {
    // The summary line is what an operator reads first: its object and byte counts must be
    // the store's. A damaged artifact is corrupt, not also missing.
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    s.add_model(
        "beta",
        "2.0.0",
        &[("b.yar", "rule b { condition: true }".into())],
    );
    let (mut objects, mut bytes) = (0u64, 0u64);
    for e in walkdir::WalkDir::new(s.dot().join("objects")) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            objects += 1;
            bytes += e.metadata().unwrap().len();
        }
    }
    let (code, list, report) = findings(&s);
    assert_eq!((code, list.len()), (0, 0), "{list:?}");
    assert_eq!(report["checked"]["objects"], objects);
    assert_eq!(report["checked"]["bytes"], bytes);
    let artifact = s.object_path(&format!(
        "{}",
        blake3::hash(b"rule b { condition: true }").to_hex()
    ));
    crate::util::make_writable(&artifact);
    std::fs::write(&artifact, b"rule b { condition: false }").unwrap();
    let (code, list, _) = findings(&s);
    assert_eq!(code, 1);
    assert_eq!(list, vec![finding("error", "object-corrupt", &artifact)]);
}

#[test]
fn after_an_interrupted_write_a_ref_naming_another_models_entry_is_still_an_error() {
    // An interrupted commit explains a ref that lags behind its own model's history, nothing
    // else: a ref moved to another model's entry is a mismatch, marker or not.
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    s.add_model("beta", "1.0.0", &[("b.yar", "rule b {}".into())]);
    let out = s
        .reg()
        .args([
            "promote",
            "alpha@1.0.0",
            "--reason",
            "ok",
            "--key",
            "op.pem",
        ])
        .env("REG_FAILPOINT", "commit:after-checkpoint")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed at the failpoint");
    let show = |spec: &str| -> serde_json::Value {
        serde_json::from_str(&s.ok(&["show", spec, "--json"])).unwrap()
    };
    let alpha = show("alpha@1.0.0");
    let beta = show("beta@1.0.0");
    let alpha_ref = s
        .dot()
        .join("refs/models")
        .join(alpha["id"].as_str().unwrap());
    let (code, list, _) = findings(&s);
    assert_eq!(code, 0, "{list:?}");
    assert!(
        list.contains(&finding("warning", "ref-stale", &alpha_ref)),
        "{list:?}"
    );
    let beta_entry = beta["history"][0]["entry"].as_str().unwrap();
    crate::util::make_writable(&alpha_ref);
    std::fs::write(&alpha_ref, format!("{beta_entry}\n")).unwrap();
    let (code, list, _) = findings(&s);
    assert_eq!(code, 1, "{list:?}");
    assert!(
        list.contains(&finding("error", "ref-mismatch", &alpha_ref)),
        "{list:?}"
    );
}

#[test]
fn a_slot_ref_an_interrupted_write_left_behind_is_a_warning_and_another_entry_an_error() {
    // Killed after its commit point, an activation leaves the slot's ref missing (first
    // activation) or naming the entry that set it before: the lag the marker explains, which
    // the next write repairs, so fsck warns and passes.
    let s = Sandbox::new();
    s.init_with_roles();
    for name in ["alpha", "beta"] {
        s.add_model(name, "1.0.0", &[("r.yar", format!("rule {name} {{}}"))]);
        let spec = format!("{name}@1.0.0");
        s.ok(&["promote", &spec, "--reason", "ok", "--key", "op.pem"]);
    }
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "alpha@1.0.0", "--json"])).unwrap();
    let add_entry = show["history"][0]["entry"].as_str().unwrap().to_string();
    let slot_ref = s.dot().join("refs/slots/detect");
    let stale = finding("warning", "ref-stale", &slot_ref);
    for spec in ["alpha@1.0.0", "beta@1.0.0"] {
        let out = s
            .reg()
            .args([
                "activate", "detect", spec, "--reason", "go", "--key", "op.pem",
            ])
            .env("REG_FAILPOINT", "commit:after-checkpoint")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "killed at the failpoint");
        let (code, list, _) = findings(&s);
        assert_eq!(code, 0, "{spec}: {list:?}");
        assert!(list.contains(&stale), "{spec}: {list:?}");
        // The lag explains only an entry that set this slot: not any entry the ledger holds.
        let left = std::fs::read(&slot_ref).ok();
        if left.is_some() {
            crate::util::make_writable(&slot_ref);
        }
        std::fs::write(&slot_ref, format!("{add_entry}\n")).unwrap();
        let (code, list, _) = findings(&s);
        assert_eq!(code, 1, "{spec}: {list:?}");
        let mismatch = finding("error", "ref-mismatch", &slot_ref);
        assert!(list.contains(&mismatch), "{spec}: {list:?}");
        match left {
            Some(bytes) => std::fs::write(&slot_ref, bytes).unwrap(),
            None => std::fs::remove_file(&slot_ref).unwrap(),
        }
        // The next write repairs the refs (a round trip through DEPRECATED).
        for (verb, reason) in [("deprecate", "old"), ("promote", "back")] {
            s.ok(&[verb, "alpha@1.0.0", "--reason", reason, "--key", "op.pem"]);
        }
        assert!(!findings(&s).1.contains(&stale), "{spec}: repaired");
    }
    // A revocation that hands the slot over sets it too: a slot cleared after it by a killed
    // deactivation still has a ref naming the revocation, which the lag explains.
    s.ok(&[
        "revoke",
        "beta@1.0.0",
        "--replace",
        "alpha@1.0.0",
        "--reason",
        "bad",
        "--key",
        "op.pem",
    ]);
    let out = s
        .reg()
        .args([
            "deactivate",
            "detect",
            "--reason",
            "stop",
            "--key",
            "op.pem",
        ])
        .env("REG_FAILPOINT", "commit:after-checkpoint")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed at the failpoint");
    let (code, list, _) = findings(&s);
    assert_eq!(code, 0, "{list:?}");
    assert!(list.contains(&stale), "{list:?}");
    // Without an interrupted write, a ref of a slot the ledger never set is no lag.
    for (verb, reason) in [("deprecate", "old"), ("promote", "back")] {
        s.ok(&[verb, "alpha@1.0.0", "--reason", reason, "--key", "op.pem"]);
    }
    let ghost = s.dot().join("refs/slots/ghost");
    std::fs::write(&ghost, format!("{add_entry}\n")).unwrap();
    let (code, list, _) = findings(&s);
    assert_eq!(code, 1, "{list:?}");
    let mismatch = finding("error", "ref-mismatch", &ghost);
    assert!(list.contains(&mismatch), "{list:?}");
}

#[test]
fn a_model_an_interrupted_add_left_without_a_ref_is_a_warning() {
    // Killed after its commit point, an add leaves the new model registered with no ref yet:
    // the lag the marker explains, which the next write repairs.
    let s = Sandbox::new();
    s.init_with_roles();
    std::fs::create_dir(s.join("m")).unwrap();
    std::fs::write(s.join("m/r.yar"), "rule r {}").unwrap();
    let args = crate::util::pack_args("m", "m.tar", "pub.pem", "gamma", "1.0.0");
    s.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let out = s
        .reg()
        .args(["add", "m.tar", "--key", "op.pem"])
        .env("REG_FAILPOINT", "commit:after-checkpoint")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed at the failpoint");
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "gamma@1.0.0", "--json"])).unwrap();
    let model_ref = s
        .dot()
        .join("refs/models")
        .join(show["id"].as_str().unwrap());
    assert!(!model_ref.exists());
    let (code, list, _) = findings(&s);
    assert_eq!(code, 0, "{list:?}");
    let stale = finding("warning", "ref-stale", &model_ref);
    assert!(list.contains(&stale), "{list:?}");
}
