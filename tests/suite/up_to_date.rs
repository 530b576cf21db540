//! "Nothing to do" is success (git's "Already up to date"): importing a file whose history the
//! site already has, `reg export --since` at the head, and `reg drift export OUT` with nothing
//! in the outbox say so and exit 0, writing nothing; a real fork or rollback stays exit 1.

use crate::ingest::validate;
use crate::util::Sandbox;
use std::fs;

/// Home A with det@1.0.0, and B cloned from its full export `full.regx`, which B keeps.
fn home_and_clone() -> (Sandbox, Sandbox, String) {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.add_model("det", "1.0.0", &[("r.yar", "rule a {}\n".into())]);
    a.ok(&["export", "full.regx"]);
    let b = Sandbox::new();
    fs::copy(a.join("full.regx"), b.join("full.regx")).unwrap();
    b.ok(&["clone", "full.regx", ".", "--trust", &root]);
    (a, b, root)
}

#[test]
fn importing_a_file_already_imported_or_an_older_one_is_already_up_to_date() {
    let (a, b, _) = home_and_clone();
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    a.ok(&["export", "u.regx", "--since-seq", "0"]);
    fs::copy(a.join("u.regx"), b.join("u.regx")).unwrap();
    b.ok(&["import", "u.regx"]);
    let before = b.snapshot();
    for file in ["u.regx", "full.regx"] {
        let out = b.ok(&["import", file]);
        assert!(out.starts_with("already up to date"), "{file}: {out}");
        assert!(out.contains("nothing was imported"), "{out}");
        for args in [
            vec!["import", file, "--json"],
            vec!["import", "--dry-run", file, "--json"],
        ] {
            let v: serde_json::Value = serde_json::from_str(&b.ok(&args)).unwrap();
            validate("import.schema.json", &v);
            assert_eq!(v["up_to_date"], true, "{v:#}");
            assert!(v["new_entries"].as_array().unwrap().is_empty());
        }
        assert_eq!(
            before,
            b.snapshot(),
            "{file}: nothing to do changed the site"
        );
    }
}

#[test]
fn a_fork_stays_refused_with_exit_1() {
    let (a, b, root) = home_and_clone();
    // Another history at the same seq: a copy of home that moved on differently.
    let c = crate::util::copy_site(&a, &root);
    c.ok(&[
        "revoke",
        "det@1.0.0",
        "--reason",
        "other",
        "--key",
        "op.pem",
    ]);
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    a.ok(&["export", "u.regx", "--since-seq", "0"]);
    c.ok(&["export", "c.regx", "--since-seq", "0"]);
    fs::copy(a.join("u.regx"), b.join("u.regx")).unwrap();
    fs::copy(c.join("c.regx"), b.join("c.regx")).unwrap();
    b.ok(&["import", "u.regx"]);
    let before = b.snapshot();
    let err = b.fails(1, &["import", "c.regx"]);
    assert!(err.contains("fork refused"), "{err}");
    let err = b.fails(1, &["import", "--dry-run", "c.regx", "--json"]);
    assert!(err.contains("fork refused"), "{err}");
    assert_eq!(before, b.snapshot());
}

#[test]
fn export_since_the_head_writes_nothing_and_succeeds() {
    let (a, _, _) = home_and_clone();
    let head = (a.ledger_ids().len() - 1).to_string();
    let out = a.ok(&["export", "x.regx", "--since-seq", &head]);
    assert!(out.starts_with("already up to date"), "{out}");
    assert!(
        !a.join("x.regx").exists(),
        "an empty transfer file was written"
    );
    fs::copy(a.dot().join("checkpoint"), a.join("cp")).unwrap();
    assert!(
        a.ok(&["export", "x.regx", "--since", "cp"])
            .starts_with("already up to date")
    );
    assert!(!a.join("x.regx").exists());
    // To standard output: nothing on it, the note on stderr.
    let o = a
        .reg()
        .args(["export", "-", "--since-seq", &head])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already up to date"));
    // Past the head stays a usage error.
    let past = (a.ledger_ids().len()).to_string();
    a.fails(2, &["export", "x.regx", "--since-seq", &past]);
}

#[test]
fn drift_export_with_an_empty_outbox_writes_no_file_and_succeeds() {
    let (_, b, _) = home_and_clone();
    let before = b.snapshot();
    let out = b.ok(&["drift", "export", "d.regd"]);
    assert!(out.starts_with("nothing to export"), "{out}");
    assert!(
        !b.join("d.regd").exists(),
        "an empty report file was written"
    );
    let o = b.reg().args(["drift", "export", "-"]).output().unwrap();
    assert!(o.status.success());
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to export"));
    assert_eq!(before, b.snapshot());
}

#[test]
fn export_and_clone_json_say_what_they_did() {
    let (a, _, root) = home_and_clone();
    let head = (a.ledger_ids().len() - 1).to_string();
    let v: serde_json::Value =
        serde_json::from_str(&a.ok(&["export", "x.regx", "--since-seq", &head, "--json"])).unwrap();
    validate("export.schema.json", &v);
    assert_eq!(v["up_to_date"], true);
    assert!(!a.join("x.regx").exists());
    let v: serde_json::Value =
        serde_json::from_str(&a.ok(&["export", "f.regx", "--json"])).unwrap();
    validate("export.schema.json", &v);
    assert_eq!(v["out"], "f.regx");
    assert_eq!(v["base"], serde_json::Value::Null);
    assert_eq!(
        v["head"]["id"].as_str(),
        a.ledger_ids().last().map(String::as_str)
    );
    // Standard output carries the transfer: no JSON there.
    a.fails(2, &["export", "-", "--json"]);
    let c = Sandbox::new();
    fs::copy(a.join("f.regx"), c.join("f.regx")).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&c.ok(&["clone", "f.regx", "site", "--trust", &root, "--json"]))
            .unwrap();
    validate("clone.schema.json", &v);
    assert_eq!(v["root"], root.as_str());
    assert_eq!(v["models"], 1);
}
