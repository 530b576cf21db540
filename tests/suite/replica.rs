//! A replica cannot wedge itself (FORMAT.md §11.14, GUIDE §7 "A replica"): a registry made by
//! `reg clone` refuses every write that would fork it from home, each refusal's hint names a
//! command that works, and `reg import --reset FULL` is the operator's deliberate way back for
//! a replica that forked anyway (or was forked before the marker existed). Also the transfer
//! commands' `-` (standard input and output), `--json` and `clone` onto an existing registry.
//!
//! Home A and replica B are two sandboxes: two hosts, each with its own trust file and state.

use crate::ingest::validate;
use crate::util::{Sandbox, snapshot};
use std::fs;

/// Home A (root, operator, publisher, reporter `rep.pem`; det@1.0.0) exported in full as
/// `full.regx`, and replica B cloned from it (holding `rep.pem`, `op.pem` and an observation
/// `obs.json`); returns them with the root fingerprint.
fn home_and_clone() -> (Sandbox, Sandbox, String) {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.key("rep.pem");
    a.trust("rep.pem.pub", "reporter", "monitoring at site B");
    a.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule a { condition: true }\n".into())],
    );
    a.ok(&["export", "full.regx"]);
    let b = Sandbox::new();
    fs::copy(a.join("full.regx"), b.join("full.regx")).unwrap();
    for k in ["rep.pem", "rep.pem.pub", "op.pem"] {
        fs::copy(a.join(k), b.join(k)).unwrap();
    }
    b.example_observation("obs.json");
    let out = b.ok(&["clone", "full.regx", ".", "--trust", &root]);
    assert!(out.contains("a replica"), "{out}");
    (a, b, root)
}

/// B as a replica cloned by a reg older than the marker, or copied by hand: no marker on the
/// medium, and no record on this host that it made a replica (FORMAT.md §11.14).
pub fn as_if_unmarked(b: &Sandbox) {
    fs::remove_file(b.dot().join("replica")).unwrap();
    fn forget(dir: &std::path::Path) {
        for e in fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                forget(&p);
            } else if p.extension().is_some_and(|x| x == "replica") {
                fs::remove_file(&p).unwrap();
            }
        }
    }
    forget(&b.join("home"));
}

/// Copies `name` from A to B, as on a medium.
fn carry(a: &Sandbox, b: &Sandbox, name: &str) {
    fs::copy(a.join(name), b.join(name)).unwrap();
}

/// `args` at `s` exits 1 and leaves its registry byte for byte as it was; returns stderr.
fn refused_unchanged(s: &Sandbox, args: &[&str]) -> String {
    // The callers check the message themselves.
    s.refused(1, args, "")
}

fn hint(err: &str) -> &str {
    err.split("hint: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no hint in: {err}"))
}

#[test]
fn a_clone_is_marked_a_replica_and_refuses_every_write_that_would_fork_it() {
    let (a, b, _) = home_and_clone();
    // A bundle of a model home has not added, carried to the replica.
    fs::create_dir_all(a.join("m2")).unwrap();
    fs::write(a.join("m2/r.yar"), "rule n { condition: true }\n").unwrap();
    let pack = crate::util::pack_args("m2", "m2.tar", "pub.pem", "new", "1.0.0");
    a.ok(&pack.iter().map(String::as_str).collect::<Vec<_>>());
    carry(&a, &b, "m2.tar");
    let marker = fs::read_to_string(b.dot().join("replica")).unwrap();
    assert!(marker.starts_with("{\"registry\":\""), "{marker}");
    for args in [
        vec!["add", "m2.tar", "--key", "op.pem"],
        vec!["promote", "det@1.0.0", "--reason", "x", "--key", "op.pem"],
        vec!["revoke", "det@1.0.0", "--reason", "x", "--key", "op.pem"],
        vec![
            "key",
            "trust",
            "rep.pem.pub",
            "--role",
            "operator",
            "--key",
            "op.pem",
            "--reason",
            "x",
        ],
        vec!["renew", "--key", "op.pem"],
        vec!["purge", "det@1.0.0", "--reason", "x", "--key", "op.pem"],
    ] {
        let err = refused_unchanged(&b, &args);
        assert!(
            err.contains("is a replica of the home site"),
            "{args:?}: {err}"
        );
        let h = hint(&err);
        assert!(
            h.contains("make the change at the home site") && h.contains("reg import OUT"),
            "{args:?}: {err}"
        );
    }
    assert!(b.ok(&["fsck"]).starts_with("PASS"));
}

#[test]
fn drift_at_a_replica_is_refused_with_the_outbox_hint_and_the_hint_works() {
    let (a, b, _) = home_and_clone();
    let record = [
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ];
    let err = refused_unchanged(&b, &record);
    assert!(hint(&err).contains("--outbox"), "{err}");
    // Following the hint: the same command with --outbox writes a report, not an entry.
    let ledger = b.ledger_ids();
    let mut with_outbox = record.to_vec();
    with_outbox.push("--outbox");
    assert!(b.ok(&with_outbox).contains("to the outbox"));
    assert_eq!(ledger, b.ledger_ids());
    b.ok(&["drift", "export", "d.regd"]);
    carry(&b, &a, "d.regd");
    let out = a.ok(&["drift", "import", "d.regd", "--key", "op.pem"]);
    assert!(out.contains("recorded 1 drift report(s)"), "{out}");
    // At home the report is in the model's history.
    let log: serde_json::Value =
        serde_json::from_str(&a.ok(&["log", "det@1.0.0", "-n", "1", "--json"])).unwrap();
    validate("log.schema.json", &log);
    assert_eq!(log[0]["kind"], "drift-import", "{log:#}");
    assert_eq!(log[0]["model"], "det@1.0.0", "{log:#}");
}

#[test]
fn a_change_made_at_home_comes_to_the_replica_by_import() {
    let (a, b, _) = home_and_clone();
    let err = refused_unchanged(
        &b,
        &["promote", "det@1.0.0", "--reason", "x", "--key", "op.pem"],
    );
    assert!(hint(&err).contains("at the home site"), "{err}");
    // Following the hint: the change at home, exported from the replica's checkpoint.
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    fs::copy(b.dot().join("checkpoint"), a.join("b.checkpoint")).unwrap();
    a.ok(&["export", "u.regx", "--since", "b.checkpoint"]);
    carry(&a, &b, "u.regx");
    let out = b.ok(&["import", "u.regx"]);
    assert!(out.contains("REGISTERED -> PROMOTED"), "{out}");
    assert!(
        b.dot().join("replica").exists(),
        "an import keeps the marker"
    );
    assert!(b.ok(&["fsck"]).starts_with("PASS"));
}

/// A replica's whole story: a replica forked (here by an old binary: no marker), home moved
/// on; the import is refused as a fork naming the reset, a clone at the same host as a rollback
/// naming it too; the reset replaces the history (kept aside, outbox kept), imports work
/// again, a new clone works, fsck passes.
#[test]
fn a_forked_replica_is_reset_to_home_deliberately_and_imports_again() {
    let (a, b, _) = home_and_clone();
    let cloned_seq = b.ledger_ids().len() - 1;
    // A report waiting in the outbox, which the reset must keep.
    b.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
        "--outbox",
    ]);
    // An old binary knew no marker: it wrote a drift entry, forking the replica.
    as_if_unmarked(&b);
    b.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    let forked_head = b.ledger_ids().last().unwrap().clone();
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    a.ok(&["export", "inc.regx", "--since-seq", &cloned_seq.to_string()]);
    a.ok(&["export", "full2.regx"]);
    carry(&a, &b, "inc.regx");
    carry(&a, &b, "full2.regx");

    // The import is refused as a fork; its hint names the reset.
    let err = refused_unchanged(&b, &["import", "inc.regx"]);
    assert!(err.contains("fork refused"), "{err}");
    assert!(hint(&err).contains("reg import --reset FULL"), "{err}");
    // A clone at this host is refused as behind what it verified; its hint names the reset
    // at the replica's path.
    let err = b.fails(1, &["clone", "full2.regx", "other"]);
    assert!(err.contains("older than or diverges"), "{err}");
    assert!(hint(&err).contains("import --reset FULL"), "{err}");
    assert!(
        hint(&err).contains(&b.dot().canonicalize().unwrap().display().to_string()),
        "{err}"
    );
    assert!(!b.join("other").exists());
    // --skip-rollback-check does not reach the fork (the ledgers differ).
    let err = b.fails(1, &["--skip-rollback-check", "import", "inc.regx"]);
    assert!(err.contains("fork refused"), "{err}");

    // Following the hint: a reset with a full export of home.
    // (The marker was deleted: the operator says it is a replica all the same.)
    let outbox_before = snapshot(&b.dot().join("outbox"));
    let out = b.ok(&["import", "--reset", "--replica", "full2.regx"]);
    assert!(
        out.contains("reset this replica to the home site's history"),
        "{out}"
    );
    assert!(out.contains("replaced 1 local entry"), "{out}");
    assert!(out.contains("the outbox was kept"), "{out}");
    assert_eq!(b.ledger_ids(), a.ledger_ids());
    assert_eq!(snapshot(&b.dot().join("outbox")), outbox_before);
    assert!(
        b.dot().join("replica").exists(),
        "a reset registry is a replica"
    );
    // The replaced history is kept, with the forked entry's object.
    let kept = fs::read_dir(b.dot().join("replaced"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(out.contains(&kept.display().to_string()), "{out}");
    let old_ledger = fs::read_to_string(kept.join("ledger")).unwrap();
    assert_eq!(old_ledger.lines().last(), Some(forked_head.as_str()));
    assert!(
        kept.join("objects")
            .join(&forked_head[..2])
            .join(&forked_head[2..])
            .exists()
    );
    assert!(b.ok(&["fsck"]).starts_with("PASS"));

    // Imports work again, from the replica's own checkpoint.
    a.ok(&[
        "activate",
        "detect",
        "det@1.0.0",
        "--reason",
        "go",
        "--key",
        "op.pem",
    ]);
    fs::copy(b.dot().join("checkpoint"), a.join("b.checkpoint")).unwrap();
    a.ok(&["export", "u2.regx", "--since", "b.checkpoint"]);
    carry(&a, &b, "u2.regx");
    let out = b.ok(&["import", "u2.regx"]);
    assert!(out.contains("slot detect"), "{out}");
    assert_eq!(b.ledger_ids(), a.ledger_ids());
    assert!(b.ok(&["fsck"]).starts_with("PASS"));
    // And a clone at this host works now (from a medium as new as what it verified).
    a.ok(&["export", "full3.regx"]);
    carry(&a, &b, "full3.regx");
    b.ok(&["clone", "full3.regx", "other"]);
    // The outbox still goes home.
    b.ok(&["drift", "export", "d.regd"]);
    carry(&b, &a, "d.regd");
    a.ok(&["drift", "import", "d.regd", "--key", "op.pem"]);
}

#[test]
fn a_reset_never_goes_back_on_the_same_history_and_needs_a_full_export() {
    let (a, b, _) = home_and_clone();
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    a.ok(&["export", "full2.regx"]);
    a.ok(&["export", "inc.regx", "--since-seq", "1"]);
    carry(&a, &b, "full2.regx");
    carry(&a, &b, "inc.regx");
    b.ok(&["import", "full2.regx"]);
    // The older full export is an older point of this very history: refused, unchanged.
    let err = refused_unchanged(&b, &["import", "--reset", "full.regx"]);
    assert!(err.contains("rollback refused"), "{err}");
    assert!(hint(&err).contains("never goes back"), "{err}");
    // The file is opened as an import opens it: never through a link (the medium's holder
    // chooses where a link points).
    std::os::unix::fs::symlink(b.join("full2.regx"), b.join("link.regx")).unwrap();
    let before = b.snapshot();
    let err = b.fails(2, &["import", "--reset", "link.regx"]);
    assert!(err.contains("link.regx"), "{err}");
    assert_eq!(before, b.snapshot());
    // Not a full export: refused, naming how to make one.
    let err = refused_unchanged(&b, &["import", "--reset", "inc.regx"]);
    assert!(err.contains("a reset starts from a full export"), "{err}");
    assert!(hint(&err).contains("reg import --reset OUT"), "{err}");
    // The same history: nothing to replace.
    let before = b.snapshot();
    let out = b.ok(&["import", "--reset", "full2.regx", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    validate("import.schema.json", &v);
    assert_eq!(v["reset"], false);
    assert_eq!(v["up_to_date"], true);
    assert_eq!(before, b.snapshot());
}

/// What this host verified bounds a reset (FORMAT.md §11.14): a medium rolled back behind it
/// is brought forward by home's history, which holds what the host verified, but never moved
/// to a branch that left it; nor does a local ledger altered since it was verified vouch for
/// such a branch.
#[test]
fn a_reset_never_leaves_what_this_host_verified_even_when_the_medium_lost_it() {
    let (a, b, root) = home_and_clone();
    // A branch of home's history, from a copy of home: another entry where home promotes.
    let f = crate::util::copy_site(&a, &root);
    f.ok(&[
        "promote",
        "det@1.0.0",
        "--reason",
        "elsewhere",
        "--key",
        "op.pem",
    ]);
    f.ok(&["export", "fork.regx"]);
    carry(&f, &b, "fork.regx");
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    a.ok(&["export", "full2.regx"]);
    carry(&a, &b, "full2.regx");
    // The medium as it is at the clone; then this host verifies home's next entry.
    crate::util::cp_a(&b.dot(), &b.join("at-clone"));
    b.ok(&["import", "full2.regx"]);

    // A healthy replica offered an older branch (signed by keys valid then): a marked replica
    // wrote nothing itself, so what this host verified came from home and is never dropped,
    // `--replica` or not.
    for args in [
        &["import", "--reset", "fork.regx"][..],
        &["import", "--reset", "--replica", "fork.regx"][..],
    ] {
        let err = refused_unchanged(&b, args);
        assert!(
            err.contains("never drops what it received from the home site")
                && err.contains(
                    "hint: nothing was changed; bring a full export of the home site that holds entry"
                ),
            "{err}"
        );
    }

    // Unmarked (`--replica` says it forked), the local ledger altered since it was verified
    // (its first line), its head unchanged: it no longer vouches for leaving that head.
    let marker = fs::read(b.dot().join("replica")).unwrap();
    // First the medium's holder deletes the marker: this host still knows it made a replica,
    // and `--replica` drops nothing it verified.
    fs::remove_file(b.dot().join("replica")).unwrap();
    let err = refused_unchanged(&b, &["import", "--reset", "--replica", "fork.regx"]);
    assert!(err.contains("never drops what it received"), "{err}");
    fs::write(b.dot().join("replica"), &marker).unwrap();
    as_if_unmarked(&b);
    let ledger = b.dot().join("ledger");
    let verified = fs::read_to_string(&ledger).unwrap();
    let ids = b.ledger_ids();
    let altered = verified.replacen(&ids[0], &ids[1], 1);
    fs::write(&ledger, &altered).unwrap();
    let err = refused_unchanged(&b, &["import", "--reset", "--replica", "fork.regx"]);
    assert!(err.contains("older than or diverges"), "{err}");
    fs::write(&ledger, &verified).unwrap();
    fs::write(b.dot().join("replica"), marker).unwrap();

    // The medium rolled back to the clone: the branch would leave what this host verified.
    fs::remove_dir_all(b.dot()).unwrap();
    fs::rename(b.join("at-clone"), b.dot()).unwrap();
    let err = refused_unchanged(&b, &["import", "--reset", "fork.regx"]);
    assert!(err.contains("never drops what it received"), "{err}");
    fs::remove_file(b.dot().join("replica")).unwrap();
    let err = refused_unchanged(&b, &["import", "--reset", "--replica", "fork.regx"]);
    assert!(err.contains("older than or diverges"), "{err}");
    // Home's history holds it: the reset only brings the medium forward.
    let out = b.ok(&["import", "--reset", "--replica", "full2.regx"]);
    assert!(
        out.contains("no local entry was replaced: the file extends"),
        "{out}"
    );
    assert_eq!(b.ledger_ids(), a.ledger_ids());
    assert!(b.ok(&["fsck"]).starts_with("PASS"));
}

#[test]
fn a_reset_records_the_new_head_so_the_host_no_longer_refuses_it() {
    // A copy of home made by hand (no marker), forked by a write; the host recorded the fork.
    let (a, b, _) = home_and_clone();
    as_if_unmarked(&b);
    b.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    a.ok(&["export", "full2.regx"]);
    carry(&a, &b, "full2.regx");
    // Run from elsewhere (another file system where one is at hand): the new history is built
    // beside the registry, not in the working directory, so that it can take its place.
    let elsewhere =
        tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap());
    let out = b
        .reg()
        .current_dir(elsewhere.path())
        .arg("--registry")
        .arg(b.dot())
        .args(["import", "--reset", "--replica", "--json"])
        .arg(b.join("full2.regx"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    validate("import.schema.json", &v);
    assert_eq!(v["reset"], true);
    assert_eq!(v["replaced"].as_array().unwrap().len(), 1);
    assert_eq!(v["outbox_kept"], false);
    // Kept aside: exactly the objects the new history lacks (the forked entry's), no others.
    let kept = std::path::PathBuf::from(v["kept_in"].as_str().unwrap()).join("objects");
    let objects: Vec<_> = walkdir::WalkDir::new(&kept)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(&kept).unwrap().to_path_buf())
        .collect();
    assert!(!objects.is_empty());
    assert_eq!(v["objects_kept"], objects.len());
    for o in &objects {
        assert!(!b.dot().join("objects").join(o).exists(), "{o:?}");
    }
    // Every read agrees with the host's record now.
    assert_eq!(b.ok(&["status", "--code"]), a.ok(&["status", "--code"]));
    assert!(b.ok(&["fsck"]).starts_with("PASS"));
}

#[test]
fn clone_onto_an_existing_registry_is_exit_2_and_points_to_import() {
    let (a, b, root) = home_and_clone();
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    a.ok(&["export", "full2.regx"]);
    carry(&a, &b, "full2.regx");
    let before = b.snapshot();
    let err = b.fails(2, &["clone", "full2.regx", ".", "--trust", &root]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(before, b.snapshot());
    // Following the hint: `reg --registry DEST/.registry import FILE`.
    let cmd = hint(&err)
        .split('`')
        .nth(1)
        .expect("the hint quotes a command")
        .replace("FILE", "full2.regx");
    let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    assert_eq!(args[0], "--registry", "{cmd}");
    let out = b.ok(&args);
    assert!(out.contains("REGISTERED -> PROMOTED"), "{out}");
}

#[test]
fn a_transfer_streams_through_standard_output_and_input() {
    let (a, b, root) = home_and_clone();
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    let seq = (b.ledger_ids().len() - 1).to_string();
    // `-` and `-o -` write the transfer to stdout, the summary to stderr; no file named `-`.
    let out = a
        .reg()
        .args(["export", "-", "--since-seq", &seq])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("to standard output"));
    let again = a
        .reg()
        .args(["export", "-o", "-", "--since-seq", &seq])
        .output()
        .unwrap();
    assert_eq!(out.stdout, again.stdout);
    assert!(!a.join("-").exists(), "a file named `-` was created");
    // `reg import -` reads it from stdin.
    let imported = b
        .reg()
        .args(["import", "-"])
        .write_stdin(out.stdout.clone())
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");
    assert!(String::from_utf8_lossy(&imported.stdout).contains("REGISTERED -> PROMOTED"));
    assert_eq!(b.ledger_ids(), a.ledger_ids());
    assert!(!b.join("-").exists());
    // `reg clone - DEST` too, at another host.
    let full = a.reg().args(["export", "-"]).output().unwrap();
    let c = Sandbox::new();
    let cloned = c
        .reg()
        .args(["clone", "-", "site", "--trust", &root])
        .write_stdin(full.stdout)
        .output()
        .unwrap();
    assert!(cloned.status.success(), "{cloned:?}");
    assert!(c.join("site/.registry/replica").exists());
    // `reg drift export -`: the report file on stdout, as with a file.
    b.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
        "--outbox",
    ]);
    let d = b.reg().args(["drift", "export", "-"]).output().unwrap();
    assert!(d.status.success());
    b.ok(&["drift", "export", "d.regd"]);
    assert_eq!(d.stdout, fs::read(b.join("d.regd")).unwrap());
    assert!(!b.join("-").exists());
}

#[test]
fn import_json_and_its_dry_run_name_the_keys_roles_models_and_entries() {
    let (a, b, _) = home_and_clone();
    let fp = a.key("aud.pem");
    a.trust("aud.pem.pub", "publisher", "second model team");
    a.add_model(
        "det",
        "2.0.0",
        &[("r.yar", "rule b { condition: true }\n".into())],
    );
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    fs::copy(b.dot().join("checkpoint"), a.join("b.checkpoint")).unwrap();
    a.ok(&["export", "u.regx", "--since", "b.checkpoint"]);
    carry(&a, &b, "u.regx");
    let before = b.snapshot();
    let dry: serde_json::Value =
        serde_json::from_str(&b.ok(&["import", "--dry-run", "--json", "u.regx"])).unwrap();
    validate("import.schema.json", &dry);
    assert_eq!(before, b.snapshot(), "a dry run changed the registry");
    assert_eq!(dry["dry_run"], true);
    let keys = dry["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{dry:#}");
    assert_eq!(keys[0]["fingerprint"], fp.as_str());
    assert_eq!(keys[0]["roles"], serde_json::json!(["publisher"]));
    assert_eq!(dry["models_added"][0]["model"], "det@2.0.0");
    assert_eq!(dry["state_changes"][0]["to"], "PROMOTED");
    assert_eq!(dry["new_entries"].as_array().unwrap().len(), 3);
    assert_eq!(dry["kinds"]["key-trust"], 1);
    let done: serde_json::Value =
        serde_json::from_str(&b.ok(&["import", "--json", "u.regx"])).unwrap();
    validate("import.schema.json", &done);
    assert_eq!(done["dry_run"], false);
    assert_eq!(done["new_entries"], dry["new_entries"]);
    assert_eq!(
        done["head"]["id"].as_str(),
        b.ledger_ids().last().map(String::as_str)
    );
    // Only the models whose state changed are state changes (det@1.0.0 stays PROMOTED).
    a.ok(&["promote", "det@2.0.0", "--reason", "ok", "--key", "op.pem"]);
    fs::copy(b.dot().join("checkpoint"), a.join("b.checkpoint")).unwrap();
    a.ok(&["export", "u2.regx", "--since", "b.checkpoint"]);
    carry(&a, &b, "u2.regx");
    let next: serde_json::Value =
        serde_json::from_str(&b.ok(&["import", "--json", "u2.regx"])).unwrap();
    validate("import.schema.json", &next);
    let changes = next["state_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{next:#}");
    assert_eq!(changes[0]["model"], "det@2.0.0", "{next:#}");
    assert!(next["models_added"].as_array().unwrap().is_empty());
}

#[test]
fn drift_export_without_out_is_deprecated_for_drift_list_all() {
    let a = Sandbox::new();
    a.init_with_roles();
    a.key("rep.pem");
    a.trust("rep.pem.pub", "reporter", "monitoring");
    a.add_model("det", "1.0.0", &[("r.yar", "rule a {}\n".into())]);
    a.example_observation("obs.json");
    a.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    let out = a.reg().args(["drift", "export"]).output().unwrap();
    assert!(out.status.success());
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.contains("deprecated") && note.contains("reg drift list --all --json"),
        "{note}"
    );
    let all = a.ok(&["drift", "list", "--all", "--json"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), all);
    let v: serde_json::Value = serde_json::from_str(&all).unwrap();
    validate("drift-list.schema.json", &v);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert!(a.ok(&["drift", "list", "--all"]).contains("det@1.0.0"));
}

/// A replica forked by a write of its own (its marker deleted, as by an old binary), with a
/// report in its outbox, and home moved on and exported in full as `full2.regx` at B; returns
/// the forked entry's id.
fn forked_with_outbox(a: &Sandbox, b: &Sandbox) -> String {
    b.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
        "--outbox",
    ]);
    as_if_unmarked(b);
    b.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    a.ok(&["export", "full2.regx"]);
    carry(a, b, "full2.regx");
    b.ledger_ids().last().unwrap().clone()
}

/// An error in a step after the swap must not remove the old registry (the replaced history,
/// the only copy of the entries written here, and the outbox): the reset says it is done and
/// where the old registry is kept, whole.
#[test]
fn an_error_after_the_swap_keeps_the_replaced_registry_and_says_where() {
    for step in ["reset:keep", "reset:outbox"] {
        let (a, b, _) = home_and_clone();
        let forked = forked_with_outbox(&a, &b);
        let outbox = snapshot(&b.dot().join("outbox"));
        assert!(!outbox.is_empty());
        let old_ledger = fs::read(b.dot().join("ledger")).unwrap();
        let out = b
            .reg()
            .args(["import", "--reset", "--replica", "full2.regx"])
            .env("REG_FAILPOINT", step)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{step}: {err}");
        assert!(
            err.contains("reset done; the replaced registry is kept at "),
            "{err}"
        );
        // The new history is in place.
        assert_eq!(b.ledger_ids(), a.ledger_ids(), "{step}");
        // The old registry is where the message says, whole: its ledger with the forked entry,
        // that entry's object and its outbox.
        let kept = err
            .split("kept at ")
            .nth(1)
            .unwrap()
            .split(", as a step")
            .next()
            .unwrap();
        let kept = std::path::Path::new(kept);
        assert_eq!(fs::read(kept.join("ledger")).unwrap(), old_ledger, "{step}");
        assert!(
            kept.join("objects")
                .join(&forked[..2])
                .join(&forked[2..])
                .exists(),
            "{step}"
        );
        assert_eq!(snapshot(&kept.join("outbox")), outbox, "{step}");
        // Kept under a name no later clone's sweep of leftovers removes.
        b.ok(&["fsck"]);
        a.ok(&["export", "full3.regx"]);
        carry(&a, &b, "full3.regx");
        b.ok(&["clone", "full3.regx", "other"]);
        assert!(kept.join("ledger").exists(), "{step}: swept");
    }
}

/// `import --reset` at a registry without the replica marker (the home site itself) must not
/// replace its history and mark it a replica: it is refused, unchanged, with a hint naming
/// `--replica`, which a replica copied by hand needs.
#[test]
fn a_reset_of_an_unmarked_registry_needs_replica_and_home_is_never_reset() {
    let (a, b, _) = home_and_clone();
    // Home, offered a full export of a fork of its own registry (B's, forked).
    let _ = forked_with_outbox(&a, &b);
    b.ok(&["export", "forked.regx"]);
    carry(&b, &a, "forked.regx");
    let err = refused_unchanged(&a, &["import", "--reset", "forked.regx"]);
    assert!(err.contains("is not marked a replica"), "{err}");
    assert!(
        hint(&err).contains("reg import --reset --replica FULL"),
        "{err}"
    );
    assert!(!a.dot().join("replica").exists());
    // Standard input is not read either.
    let before = a.snapshot();
    let out = a
        .reg()
        .args(["import", "--reset", "-"])
        .pipe_stdin(a.join("forked.regx"))
        .unwrap()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not marked a replica"));
    assert_eq!(before, a.snapshot());
    // B, unmarked, forked: refused the same way; with --replica the reset works and marks it.
    let err = refused_unchanged(&b, &["import", "--reset", "full2.regx"]);
    assert!(err.contains("is not marked a replica"), "{err}");
    b.ok(&["import", "--reset", "--replica", "full2.regx"]);
    assert_eq!(b.ledger_ids(), a.ledger_ids());
    assert!(b.dot().join("replica").exists());
    // --replica means nothing without --reset.
    b.fails(2, &["import", "--replica", "full2.regx"]);
}

/// `clone` from a registry directory onto an existing registry hints to export at SRC first
/// (SRC is not a file for `import FILE`), and following the hint works.
#[test]
fn clone_of_a_registry_directory_onto_an_existing_registry_says_to_export_first() {
    let (a, b, _) = home_and_clone();
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    let src = a.path().display().to_string();
    let before = b.snapshot();
    let err = b.fails(2, &["clone", &src, "."]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(before, b.snapshot());
    let h = hint(&err);
    let cmds: Vec<&str> = h.split('`').skip(1).step_by(2).collect();
    assert_eq!(cmds.len(), 2, "{err}");
    // The refused clone did not record SRC's head on this host: DEST still opens.
    b.ok(&["status"]);
    assert!(
        cmds[0].contains(&format!(
            "--skip-rollback-check --registry {src} export FILE --since "
        )),
        "{err}"
    );
    assert!(cmds[0].ends_with(".registry/checkpoint"), "{err}");
    assert!(cmds[1].ends_with("import FILE"), "{err}");
    for cmd in cmds {
        let cmd = cmd.replace("FILE", "u.regx");
        let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
        b.ok(&args);
    }
    assert_eq!(b.ledger_ids(), a.ledger_ids());
}

/// `reg add` at a replica refuses a new model as soon as its manifest is parsed, not only at the
/// lock after reading (and staging) the whole bundle: a bundle whose artifact bytes are garbage
/// gets the replica refusal, not a damaged-bundle error, so nothing past the manifest was read.
#[test]
fn add_at_a_replica_is_refused_before_the_artifacts_are_read() {
    let (a, b, _) = home_and_clone();
    fs::create_dir_all(a.join("m2")).unwrap();
    let big: String = (0..200_000).map(|i| format!("rule r{i} {{}}\n")).collect();
    fs::write(a.join("m2/r.yar"), big).unwrap();
    let pack = crate::util::pack_args("m2", "m2.tar", "pub.pem", "new", "1.0.0");
    a.ok(&pack.iter().map(String::as_str).collect::<Vec<_>>());
    let mut bytes = fs::read(a.join("m2.tar")).unwrap();
    let half = bytes.len() / 2;
    for b in &mut bytes[half..] {
        *b = 0x5a;
    }
    fs::write(b.join("m2.tar"), &bytes).unwrap();
    let err = refused_unchanged(&b, &["add", "m2.tar", "--key", "op.pem"]);
    assert!(err.contains("is a replica of the home site"), "{err}");
    // Nothing was staged in the store.
    assert!(
        fs::read_dir(b.dot().join("tmp")).unwrap().next().is_none(),
        "staged"
    );
    // At home, the same damaged bundle is refused as damaged: the replica refusal came first.
    fs::write(a.join("m2bad.tar"), &bytes).unwrap();
    let err = a.fails(1, &["add", "m2bad.tar", "--key", "op.pem"]);
    assert!(!err.contains("replica"), "{err}");
}

/// A writer that waited on the old registry's `lock` across a reset must not get that lock
/// afterwards and work in the new registry unprotected, beside a writer holding the new
/// registry's lock. Here W (gc) has opened the lock file when the reset swaps; then X takes the
/// new registry's lock and holds it. W, released, must find its lock file gone from the path
/// and wait on the new one (busy, exit 3), not run beside X.
#[test]
fn a_lock_file_swapped_away_by_a_reset_is_not_taken_as_the_registry_lock() {
    use crate::util::{spawn, wait_for};
    use std::path::Path;
    let (a, b, _) = home_and_clone();
    let _ = forked_with_outbox(&a, &b);
    let head2 = (a.ledger_ids().len() - 1).to_string();
    a.ok(&["revoke", "det@1.0.0", "--reason", "home", "--key", "op.pem"]);
    a.ok(&["export", "u.regx", "--since-seq", &head2]);
    carry(&a, &b, "u.regx");
    let pw = b.join("pause-w");
    fs::create_dir(&pw).unwrap();
    let w = spawn(
        &b,
        &["gc"],
        &[
            ("REG_FAILPOINT", Path::new("lock:opened")),
            ("REG_FAILPOINT_PAUSE", &pw),
            ("REG_LOCK_TIMEOUT", Path::new("1")),
        ],
    );
    wait_for(&pw.join("reached"));
    b.ok(&["import", "--reset", "--replica", "full2.regx"]);
    // X: another writer holds the new registry's lock.
    let x = fs::OpenOptions::new()
        .write(true)
        .open(b.dot().join("lock"))
        .unwrap();
    x.try_lock().unwrap();
    fs::write(pw.join("go"), "").unwrap();
    let out = w.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    drop(x);
    assert_eq!(
        out.status.code(),
        Some(3),
        "gc ran beside the writer: {err}"
    );
    assert!(err.contains("registry is busy"), "{err}");
    assert!(err.contains("lock`"), "{err}");
    b.ok(&["import", "u.regx"]);
    assert_eq!(b.ledger_ids(), a.ledger_ids());
}
