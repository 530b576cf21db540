//! Governance for years, the parts that need no format change (issue 20): a policy change
//! changes only what it names, purge and revoked publishers are reported for what they are, a
//! revoked genesis root and keys gathering roles are warned about, and a model's original signed
//! bundle can be written back out for another registry.

use crate::util::Sandbox;

/// `reg policy set` signed by `root.pem` with `flags`; returns stdout.
fn policy_set(s: &Sandbox, flags: &[&str]) -> String {
    let args = [
        &["policy", "set"][..],
        flags,
        &["--key", "root.pem", "--reason", "site rule"],
    ]
    .concat();
    s.ok(&args)
}

#[test]
fn policy_set_changes_only_the_fields_it_is_given_and_prints_them() {
    let s = Sandbox::new();
    s.init_with_roles();
    let out = policy_set(&s, &["--refuse-format", "pickle"]);
    assert!(out.contains("policy: refuse formats [] -> [pickle]\n"), "{out}");
    // Setting only the expiry keeps the refusal (it used to drop it silently).
    let out = policy_set(&s, &["--checkpoint-max-age", "30"]);
    assert!(
        out.contains("policy: checkpoint expires after never -> 30 days\n"),
        "{out}"
    );
    assert!(!out.contains("refuse formats"), "{out}");
    let out = policy_set(&s, &["--refuse-format", "joblib"]);
    assert!(
        out.contains("policy: refuse formats [pickle] -> [joblib, pickle]\n"),
        "{out}"
    );
    let out = policy_set(&s, &["--allow-format", "pickle", "--require-encrypted"]);
    assert!(
        out.contains("policy: refuse formats [joblib, pickle] -> [joblib]\n"),
        "{out}"
    );
    assert!(
        out.contains("policy: require encrypted bundles no -> yes\n"),
        "{out}"
    );
    let out = policy_set(&s, &["--separate-duties", "--no-checkpoint-max-age"]);
    assert!(out.contains("policy: separate duties no -> yes\n"), "{out}");
    assert!(
        out.contains("policy: checkpoint expires after 30 days -> never\n"),
        "{out}"
    );
    assert!(out.contains("policy set (ledger entry"), "{out}");
    assert_eq!(
        s.ok(&["policy", "show"]),
        "refuse formats: [joblib]\ncheckpoint expires after: never\nrequire encrypted bundles: yes\nseparate duties: yes\n"
    );
    let out = policy_set(&s, &["--no-require-encrypted", "--no-separate-duties"]);
    assert!(out.contains("require encrypted bundles yes -> no"), "{out}");
    assert!(out.contains("separate duties yes -> no"), "{out}");
    assert!(s.ok(&["policy", "show"]).contains("separate duties: no\n"));
}

#[test]
fn policy_set_without_a_change_is_a_usage_error_and_writes_nothing() {
    let s = Sandbox::new();
    s.init_with_roles();
    let before = s.snapshot();
    let err = s.fails(
        2,
        &["policy", "set", "--key", "root.pem", "--reason", "nothing"],
    );
    assert!(err.contains("error: no policy change given"), "{err}");
    assert!(err.contains("hint: say what to change: --refuse-format F"), "{err}");
    let err = s.fails(
        2,
        &[
            "policy",
            "set",
            "--refuse-format",
            "pickle",
            "--allow-format",
            "pickle",
            "--key",
            "root.pem",
            "--reason",
            "both",
        ],
    );
    assert!(err.contains("format `pickle` is both refused and allowed"), "{err}");
    assert_eq!(before, s.snapshot());
}

#[test]
fn policy_set_that_changes_nothing_writes_no_entry() {
    let s = Sandbox::new();
    s.init_with_roles();
    policy_set(&s, &["--refuse-format", "pickle"]);
    let before = s.snapshot();
    let out = policy_set(&s, &["--refuse-format", "pickle", "--no-separate-duties"]);
    assert!(out.contains("policy unchanged"), "{out}");
    assert!(!out.contains("policy set"), "{out}");
    assert_eq!(before, s.snapshot(), "an unchanged policy wrote something");
    // Allowing what is not refused changes nothing either; an operator's key is refused even so.
    let out = policy_set(&s, &["--allow-format", "joblib"]);
    assert!(out.contains("policy unchanged"), "{out}");
    let err = s.fails(
        1,
        &[
            "policy",
            "set",
            "--refuse-format",
            "pickle",
            "--key",
            "op.pem",
            "--reason",
            "not mine",
        ],
    );
    assert!(err.contains("root"), "{err}");
    assert_eq!(before, s.snapshot());
}
