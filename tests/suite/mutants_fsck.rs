//! Tests that kill `cargo mutants` survivors in `src/fsck/` (THREAT-MODEL.md, "Mutants that
//! cannot matter"): each asserts a finding that no other test looked at.

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
    let out = s.ok(&["fsck"]);
    assert!(out.contains("warning[staging-residue]"), "{out}");
    assert!(out.contains("object-left-behind"), "{out}");
    assert!(
        out.contains("PASS") && out.contains("0 error(s), 1 warning(s)"),
        "{out}"
    );
    s.ok(&["gc"]);
    assert!(s.ok(&["fsck"]).contains("0 error(s), 0 warning(s)"));
}
