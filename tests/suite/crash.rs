//! A writer killed at any step (a failpoint that calls `abort`, which runs no cleanup, like a
//! power cut) leaves no partial or misnamed object, and a registry that holds either the whole
//! action or none of it.

use crate::util::{Sandbox, snapshot};
use std::fs;

/// Every file under objects/ hashes to its name.
fn assert_objects_well_named(s: &Sandbox) {
    for e in walkdir::WalkDir::new(s.dot().join("objects")) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let fan = e
                .path()
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_str()
                .unwrap();
            let name = format!("{fan}{}", e.file_name().to_str().unwrap());
            let actual = blake3::hash(&fs::read(e.path()).unwrap())
                .to_hex()
                .to_string();
            assert_eq!(
                actual,
                name,
                "partial or misnamed object {}",
                e.path().display()
            );
        }
    }
}

fn trust_publisher(s: &Sandbox, failpoint: Option<&str>) -> std::process::Output {
    let mut c = s.reg();
    c.args([
        "key",
        "trust",
        "pub.pem.pub",
        "--role",
        "publisher",
        "--key",
        "root.pem",
        "--reason",
        "model team",
    ]);
    if let Some(f) = failpoint {
        c.env("REG_FAILPOINT", f);
    }
    c.output().unwrap()
}

#[test]
fn a_writer_killed_at_any_step_leaves_all_or_nothing() {
    let steps = [
        ("put:after-write", false),
        ("put:before-rename", false),
        ("put:after-rename", false),
        ("commit:after-object", false),
        ("commit:after-index", false),
        ("commit:after-ledger", false),
        ("commit:after-checkpoint", true),
        ("commit:after-refs", true),
    ];
    for (step, committed) in steps {
        let s = Sandbox::new();
        s.init();
        let publ = s.key("pub.pem");
        let before = s.snapshot();
        let out = trust_publisher(&s, Some(step));
        assert_eq!(
            out.status.code(),
            None,
            "{step}: the process must die by a signal"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("failpoint `{step}`")));

        assert_objects_well_named(&s);
        // Whatever the step, fsck passes (lagging refs and leftovers are warnings).
        let fsck = s.reg().arg("fsck").output().unwrap();
        assert!(
            fsck.status.success(),
            "{step}: {}",
            String::from_utf8_lossy(&fsck.stdout)
        );
        let verified = s.ok(&["ledger", "verify"]);
        let keys = s.ok(&["key", "list"]);
        assert_eq!(keys.contains(&publ), committed, "{step}: {keys}");
        let expected_entries = if committed { 2 } else { 1 };
        assert!(
            verified.starts_with(&format!("ledger OK: {expected_entries} entries")),
            "{step}: {verified}"
        );
        if !committed {
            // Nothing committed: the checkpoint and the ledger up to it are as before.
            let after = s.snapshot();
            for f in ["checkpoint", "config.json"] {
                assert_eq!(
                    before[&std::path::PathBuf::from(f)],
                    after[&std::path::PathBuf::from(f)],
                    "{step}: {f}"
                );
            }
            // The interrupted action can simply be run again.
            let out = trust_publisher(&s, None);
            assert!(
                out.status.success(),
                "{step}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let verified = s.ok(&["ledger", "verify"]);
            assert!(
                verified.starts_with("ledger OK: 2 entries"),
                "{step}: {verified}"
            );
            // Residue of the crash (an extra ledger line) was removed by the next write.
            assert_eq!(s.ledger_ids().len(), 2, "{step}");
        }
    }
}

#[test]
fn a_killed_init_leaves_no_registry() {
    let s = Sandbox::new();
    s.key("root.pem");
    let out = s
        .reg()
        .args(["init", "--root-key", "root.pem"])
        .env("REG_FAILPOINT", "put:after-write")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None);
    assert!(!s.dot().exists(), "no half-made .registry");
    // Only the staging directory is left beside it, and init works afterwards.
    s.ok(&["init", "--root-key", "root.pem"]);
    s.ok(&["ledger", "verify"]);
    assert!(!snapshot(&s.dot()).is_empty());
}
