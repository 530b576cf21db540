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

/// The reg binary and `args`, for `Sandbox::in_pty`.
fn argv(args: &[&str]) -> Vec<String> {
    let mut v = vec![
        assert_cmd::cargo::cargo_bin("reg")
            .to_str()
            .unwrap()
            .to_string(),
    ];
    v.extend(args.iter().map(|a| a.to_string()));
    v
}

/// The documented pipe `reg export - --since-seq HEAD | reg import -` works when this site is
/// up to date: export writes nothing (exit 0), and an empty standard input is nothing to
/// import (exit 0, not "not a reg transfer file"); an empty FILE stays refused.
#[test]
fn an_empty_pipe_from_an_up_to_date_export_is_nothing_to_import() {
    let (a, b, _) = home_and_clone();
    let head = (a.ledger_ids().len() - 1).to_string();
    let o = a
        .reg()
        .args(["export", "-", "--since-seq", &head])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(o.stdout.is_empty());
    let before = b.snapshot();
    let out = b
        .reg()
        .args(["import", "-"])
        .write_stdin(o.stdout.clone())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("nothing to import: standard input was empty"),
        "{text}"
    );
    let out = b
        .reg()
        .args(["import", "-", "--json"])
        .write_stdin(Vec::new())
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    validate("import.schema.json", &v);
    assert_eq!(v["up_to_date"], true);
    assert_eq!(v["empty_input"], true);
    // An empty file is not a transfer file.
    fs::write(b.join("empty.regx"), b"").unwrap();
    let before_file = b.snapshot();
    b.fails(1, &["import", "empty.regx"]);
    assert_eq!(before_file, b.snapshot());
    fs::remove_file(b.join("empty.regx")).unwrap();
    assert_eq!(before, b.snapshot());
}

/// `reg export -` and `reg drift export -` write no binary to a terminal: they refuse it, as
/// `reg bundle pack -o -` does.
#[test]
fn export_and_drift_export_to_a_terminal_are_refused() {
    let (a, b, _) = home_and_clone();
    let (shown, code) = a.in_pty(&argv(&["export", "-"]), &[]);
    assert_eq!(code, 2, "{shown}");
    assert!(
        shown.contains("error: refusing to write binary output to a terminal (a transfer file"),
        "{shown}"
    );
    assert!(
        shown.contains("hint: write to a file with `reg export FILE`"),
        "{shown}"
    );
    assert!(!shown.contains("REGX") && shown.len() < 1000, "{shown}");
    let (shown, code) = b.in_pty(&argv(&["drift", "export", "-"]), &[]);
    assert_eq!(code, 2, "{shown}");
    assert!(
        shown.contains("refusing to write binary output to a terminal (a drift report file"),
        "{shown}"
    );
    assert!(!a.join("-").exists() && !b.join("-").exists());
}

/// A replica that forked from a home that has not moved since (a local entry after the clone's
/// head, home still there) is told the way out: `import` of home's export is "already up to
/// date" and names the fork, and `import --reset`, refused as a rollback, hints that home signs
/// a new entry first (a newer full export does not exist yet). Following it works.
#[test]
fn a_fork_past_an_unmoved_home_is_named_and_the_way_out_is_given() {
    let (a, b, _) = home_and_clone();
    fs::copy(a.join("op.pem"), b.join("op.pem")).unwrap();
    // An old binary (no marker) wrote an entry here; home has not moved.
    crate::replica::as_if_unmarked(&b);
    b.ok(&[
        "promote",
        "det@1.0.0",
        "--reason",
        "local",
        "--key",
        "op.pem",
    ]);
    let before = b.snapshot();
    let out = b.ok(&["import", "full.regx"]);
    assert!(out.starts_with("already up to date"), "{out}");
    assert!(
        out.contains("note: this site has 1 entry after the file's head"),
        "{out}"
    );
    assert!(out.contains("this replica has forked"), "{out}");
    assert!(out.contains("`reg renew`"), "{out}");
    assert_eq!(before, b.snapshot());
    let err = b.fails(1, &["import", "--reset", "--replica", "full.regx"]);
    assert!(err.contains("rollback refused"), "{err}");
    let hint = err.split("hint: ").nth(1).unwrap();
    assert!(
        hint.contains("this site's 1 entry after the file's head were written here"),
        "{err}"
    );
    assert!(
        hint.contains("the home site signs a new entry first"),
        "{err}"
    );
    assert!(hint.contains("`reg renew`"), "{err}");
    assert_eq!(before, b.snapshot());
    // Following it: home signs a new entry, exports in full, the reset replaces the fork.
    a.ok(&["revoke", "det@1.0.0", "--reason", "home", "--key", "op.pem"]);
    a.ok(&["export", "full2.regx"]);
    fs::copy(a.join("full2.regx"), b.join("full2.regx")).unwrap();
    b.ok(&["import", "--reset", "--replica", "full2.regx"]);
    assert_eq!(b.ledger_ids(), a.ledger_ids());
}
