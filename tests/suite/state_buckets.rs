//! The state as a root and buckets (FORMAT.md §5.11, format 5), through the built binary: a
//! write rewrites the buckets it changes and the root, and replay agrees with it; a bucket that
//! is not the root's is never believed; a link in place of a bucket directory is refused; and a
//! format 4 registry is still read and written as format 4.

use crate::util::{Sandbox, fixture};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Every file under `index/`, by path relative to it.
fn index_files(dot: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(&dot.join("index"))
}

/// Every file under `dir`, by path relative to it.
fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            (rel.display().to_string(), fs::read(e.path()).unwrap())
        })
        .collect()
}

fn verify_json(s: &Sandbox) -> serde_json::Value {
    serde_json::from_str(&s.ok(&["ledger", "verify", "--json"])).unwrap()
}

#[test]
fn a_lifecycle_write_rewrites_its_models_bucket_and_the_root_and_replay_agrees() {
    let s = Sandbox::new();
    s.init_with_roles();
    for name in ["alpha", "beta", "gamma"] {
        s.add_model(name, "1.0.0", &[("a.yar", format!("rule {name} {{}}"))]);
    }
    let before = index_files(&s.dot());
    assert!(before.contains_key("state.json"));
    assert!(
        before.keys().any(|k| k.starts_with("models/")),
        "{before:?}"
    );
    assert!(before.keys().any(|k| k.starts_with("names/")), "{before:?}");
    s.promote("beta@1.0.0");
    let after = index_files(&s.dot());
    let changed: Vec<&String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    // beta's bucket and the root; no name changed, no other bucket.
    assert_eq!(changed.len(), 2, "{changed:?}");
    assert!(changed.iter().any(|k| *k == "state.json"));
    assert!(changed.iter().any(|k| k.starts_with("models/")));
    let bucket = &after[changed
        .iter()
        .find(|k| k.starts_with("models/"))
        .unwrap()
        .as_str()];
    assert!(String::from_utf8_lossy(bucket).contains("\"name\":\"beta\""));
    // Replay computes the same root from the whole ledger, and every bucket is as written.
    let v = verify_json(&s);
    assert_eq!(v["index_fresh"], true, "{v}");
    assert!(s.ok(&["fsck"]).contains("PASS"));
}

#[test]
fn a_bucket_that_is_not_the_roots_is_not_believed_and_the_next_write_rebuilds_it() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let files = index_files(&s.dot());
    let (rel, bytes) = files
        .iter()
        .find(|(k, v)| k.starts_with("models/") && String::from_utf8_lossy(v).contains("alpha"))
        .unwrap();
    let path = s.dot().join("index").join(rel);
    let forged = String::from_utf8_lossy(bytes).replace("REGISTERED", "PROMOTED");
    crate::util::make_writable(&path);
    fs::write(&path, forged).unwrap();
    // Readers replay the ledger instead: alpha is what the ledger says.
    let show = s.ok(&["show", "alpha@1.0.0", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert_eq!(v["state"], "REGISTERED", "{v}");
    // A warning: the index is derived, never used when it does not match.
    let json = s.reg().args(["fsck", "--json"]).output().unwrap();
    assert!(json.status.success());
    let text = String::from_utf8_lossy(&json.stdout);
    assert!(
        text.contains("index-stale") && text.contains(rel.as_str()),
        "{text}"
    );
    assert_eq!(verify_json(&s)["index_fresh"], false);
    // A write replays, and rewrites every bucket: the index holds the ledger's state again.
    s.promote("alpha@1.0.0");
    assert_eq!(verify_json(&s)["index_fresh"], true);
    assert!(s.ok(&["fsck"]).contains("PASS"));
}

#[test]
fn a_link_in_place_of_a_bucket_directory_is_refused_by_every_command() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let models = s.dot().join("index/models");
    let elsewhere = s.join("elsewhere");
    fs::rename(&models, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &models).unwrap();
    let before = files_under(&elsewhere);
    for args in [
        &["status"][..],
        &["show", "alpha@1.0.0"],
        &["promote", "alpha@1.0.0", "--reason", "x", "--key", "op.pem"],
    ] {
        let err = s.reg().args(args).output().unwrap();
        let text = String::from_utf8_lossy(&err.stderr);
        assert!(!err.status.success(), "{args:?} followed the link");
        assert!(
            text.contains("index/models") && text.contains("symbolic link"),
            "{args:?}: {text}"
        );
    }
    // Nothing was written through the link.
    assert_eq!(files_under(&elsewhere), before);
}

#[test]
fn a_format_4_registry_is_read_and_written_as_format_4() {
    let s = fixture("format4", &["root.pem", "op.pem", "pub.pem"]);
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format4/next.tar"),
        s.join("next.tar"),
    )
    .unwrap();
    assert_eq!(verify_json(&s)["index_fresh"], true);
    assert!(s.ok(&["fsck"]).contains("PASS"));
    assert!(s.ok(&["status"]).contains("det@1.0.0"));
    // Writes of every kind the fast path serves: an add, a transition, a slot change.
    s.ok(&["add", "next.tar", "--key", "op.pem"]);
    s.ok(&[
        "promote",
        "rules@2.0.0",
        "--reason",
        "tested",
        "--key",
        "op.pem",
    ]);
    s.ok(&[
        "activate",
        "prod",
        "rules@2.0.0",
        "--reason",
        "switch",
        "--key",
        "op.pem",
    ]);
    s.ok(&[
        "deprecate",
        "det@1.0.0",
        "--reason",
        "old",
        "--key",
        "op.pem",
    ]);
    let config = fs::read_to_string(s.dot().join("config.json")).unwrap();
    assert!(config.contains("\"format_version\":4"), "{config}");
    assert!(!s.dot().join("index/models").exists() && !s.dot().join("index/names").exists());
    // Still one document holding every model, which the checkpoint commits to.
    let state: serde_json::Value =
        serde_json::from_slice(&fs::read(s.dot().join("index/state.json")).unwrap()).unwrap();
    assert_eq!(state["models"].as_object().unwrap().len(), 3, "{state}");
    assert_eq!(verify_json(&s)["index_fresh"], true);
    assert!(s.ok(&["fsck"]).contains("PASS"));
    assert!(s.ok(&["status"]).contains("rules@2.0.0"));
}

#[test]
fn a_bucket_file_that_is_a_link_or_a_fifo_is_never_read_and_the_ledger_decides() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let (rel, bytes) = index_files(&s.dot())
        .into_iter()
        .find(|(k, v)| k.starts_with("models/") && String::from_utf8_lossy(v).contains("alpha"))
        .unwrap();
    let path = s.dot().join("index").join(&rel);
    // A forged copy outside the registry, linked in place of the bucket.
    let forged = s.join("forged.json");
    fs::write(
        &forged,
        String::from_utf8_lossy(&bytes).replace("REGISTERED", "PROMOTED"),
    )
    .unwrap();
    crate::util::make_writable(&path);
    fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&forged, &path).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "alpha@1.0.0", "--json"])).unwrap();
    assert_eq!(v["state"], "REGISTERED", "{v}");
    // A FIFO in its place: nothing blocks on it, and the ledger still decides.
    fs::remove_file(&path).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap()
            .success()
    );
    let v: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "alpha@1.0.0", "--json"])).unwrap();
    assert_eq!(v["state"], "REGISTERED", "{v}");
    let fsck =
        String::from_utf8_lossy(&s.reg().args(["fsck"]).output().unwrap().stdout).into_owned();
    assert!(fsck.contains("not-regular"), "{fsck}");
}
