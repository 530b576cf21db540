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
