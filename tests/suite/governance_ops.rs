//! Governance for years, the parts that need no format change: a policy change
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
    assert!(
        out.contains("policy: refuse formats [] -> [pickle]\n"),
        "{out}"
    );
    // Setting only the expiry keeps the refusal: a change changes only what it names.
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
    assert!(
        err.contains("hint: say what to change: --refuse-format F"),
        "{err}"
    );
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
    assert!(
        err.contains("format `pickle` is both refused and allowed"),
        "{err}"
    );
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

/// A registry with `det@1.0.0` (from `m-det-1.0.0.tar`) revoked as `reason` and purged.
fn purged_model() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    s.ok(&[
        "revoke",
        "det@1.0.0",
        "--reason",
        "poisoned rules",
        "--key",
        "op.pem",
    ]);
    s.ok(&[
        "purge",
        "det@1.0.0",
        "--reason",
        "destroyed after review",
        "--key",
        "op.pem",
    ]);
    s
}

#[test]
fn verify_and_checkout_of_a_purged_model_say_it_was_purged_not_damaged() {
    let s = purged_model();
    s.ok(&["fsck"]);
    let purge = s.ledger_ids().last().unwrap().clone();
    let before = s.snapshot();
    for args in [
        &["verify", "det@1.0.0"][..],
        &["checkout", "det@1.0.0", "-o", "out"],
    ] {
        let err = s.fails(1, args);
        assert!(
            err.contains(&format!(
                "error: det@1.0.0 was purged by ledger entry 5 {purge} at 2026-01-01T00:00:00Z"
            )),
            "{args:?}: {err}"
        );
        assert!(err.contains("destroyed after review"), "{args:?}: {err}");
        assert!(err.contains("destroyed on purpose"), "{args:?}: {err}");
        assert!(err.contains("hint: nothing is damaged"), "{args:?}: {err}");
        assert!(!err.contains("altered or damaged"), "{args:?}: {err}");
    }
    assert!(!s.join("out").exists());
    assert_eq!(before, s.snapshot());
}

#[test]
fn re_adding_a_purged_models_bundle_says_one_true_thing() {
    let s = purged_model();
    let before = s.snapshot();
    let out = s.ok(&["add", "m-det-1.0.0.tar", "--key", "op.pem"]);
    assert!(
        out.contains("det@1.0.0 was purged: its artifacts stay destroyed"),
        "{out}"
    );
    assert!(out.contains("its record is intact; nothing to do"), "{out}");
    assert!(!out.contains("every stored object"), "{out}");
    assert_eq!(before, s.snapshot());
}

/// `pub.pem`'s fingerprint.
fn publisher_fp(s: &Sandbox) -> String {
    s.ok(&["key", "fingerprint", "pub.pem.pub"])
        .trim()
        .to_string()
}

#[test]
fn the_original_bundle_of_a_retired_publisher_restores_its_objects() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    // A new model packed before the key is retired: never registered.
    std::fs::create_dir(s.join("m2")).unwrap();
    std::fs::write(s.join("m2/r.yar"), "rule b { condition: true }\n").unwrap();
    let pack = crate::util::pack_args("m2", "m2.tar", "pub.pem", "det", "2.0.0");
    s.ok(&pack.iter().map(String::as_str).collect::<Vec<_>>());
    s.ok(&[
        "key",
        "revoke",
        &publisher_fp(&s),
        "--key",
        "root.pem",
        "--reason",
        "publisher left the team",
    ]);
    let artifact = blake3::hash(b"rule a { condition: true }\n")
        .to_hex()
        .to_string();
    std::fs::remove_file(s.object_path(&artifact)).unwrap();
    s.fails(1, &["fsck"]);
    let ledger = s.ledger_ids();
    let out = s.ok(&["add", "m-det-1.0.0.tar", "--key", "op.pem"]);
    assert!(out.contains("already registered as det@1.0.0"), "{out}");
    assert!(
        out.contains(&format!(
            "restored artifact `rules.yar` (object {artifact})"
        )),
        "{out}"
    );
    assert_eq!(ledger, s.ledger_ids(), "a restore wrote to the ledger");
    s.ok(&["fsck"]);
    s.ok(&["verify", "det@1.0.0"]);
    // A bundle whose record is not registered is refused: its publisher is revoked now.
    let before = s.snapshot();
    let err = s.fails(1, &["add", "m2.tar", "--key", "op.pem"]);
    assert!(err.contains("was revoked at entry"), "{err}");
    assert_eq!(before, s.snapshot());
}

/// `reg trust add ARGS` at a new site holding a copy of `from`'s registry: (exit code, stdout,
/// stderr).
fn trust_add_copy(from: &Sandbox, args: &[&str]) -> (Option<i32>, String, String) {
    let site = Sandbox::new();
    crate::util::cp_a(&from.dot(), &site.dot());
    let out = site
        .reg()
        .args([&["trust", "add"][..], args].concat())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn trust_add_of_a_registry_whose_genesis_root_is_revoked_warns_and_recommends_a_head() {
    let s = Sandbox::new();
    let root = s.init();
    let root2 = s.key("root2.pem");
    s.trust("root2.pem.pub", "root", "root rotation");
    // Before the rotation: no warning.
    let (code, _, err) = trust_add_copy(&s, &[&root]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("revoked"), "{err}");
    s.ok(&[
        "key",
        "revoke",
        &root,
        "--key",
        "root2.pem",
        "--reason",
        "rotated out",
    ]);
    let (code, out, err) = trust_add_copy(&s, &[&root]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("pinned registry"), "{out}");
    assert!(
        err.contains(&format!(
            "warning: this registry's genesis root key {root} was revoked at entry 2; its current root keys are {root2}"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("pin with `reg trust add {root} --head CODE`")),
        "{err}"
    );
    // With a head floor, the warning stays and says what the floor does.
    let head = s.ok(&["status", "--code"]).trim().to_string();
    let (code, _, err) = trust_add_copy(&s, &[&root, "--head", &head]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("was revoked at entry 2"), "{err}");
    assert!(err.contains("note: the --head given"), "{err}");
    assert!(!err.contains("pin with"), "{err}");
}

/// `reg key trust PUB --role ROLE` signed by `root.pem`, asserted to succeed: its stderr.
fn grant(s: &Sandbox, public: &str, role: &str) -> String {
    let out = s
        .reg()
        .args([
            "key", "trust", public, "--role", role, "--key", "root.pem", "--reason", "grant",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains(&format!("as {role}")),
        "{err}"
    );
    err
}

#[test]
fn key_trust_warns_when_one_key_gathers_roles() {
    let s = Sandbox::new();
    let (_, op, publ) = s.init_with_roles();
    let rep = s.key("rep.pem");
    assert!(!grant(&s, "rep.pem.pub", "reporter").contains("warning"));
    let err = grant(&s, "pub.pem.pub", "operator");
    assert!(
        err.contains(&format!(
            "warning: key {publ} now holds the roles publisher, operator\n"
        )),
        "{err}"
    );
    assert!(
        err.contains("can publish a model and admit, promote and activate it itself"),
        "{err}"
    );
    let err = grant(&s, "op.pem.pub", "root");
    assert!(
        err.contains(&format!("warning: key {op} now holds the roles")),
        "{err}"
    );
    assert!(
        err.contains("a root key that also signs everyday entries"),
        "{err}"
    );
    assert!(!err.contains("publish a model"), "{err}");
    let err = grant(&s, "rep.pem.pub", "timestamp");
    assert!(
        err.contains(&format!("warning: key {rep} now holds the roles")),
        "{err}"
    );
    assert!(err.contains("costs all of these duties at once"), "{err}");
}

/// Registry A with `det@1.0.0` (two files, one in a subdirectory); returns it and the record id.
fn home_with_model() -> (Sandbox, String) {
    let a = Sandbox::new();
    a.init_with_roles();
    a.add_model(
        "det",
        "1.0.0",
        &[
            ("rules.yar", "rule a { condition: true }\n".into()),
            ("sub/more.yar", "rule b { condition: false }\n".into()),
        ],
    );
    let shown: serde_json::Value =
        serde_json::from_str(&a.ok(&["show", "det@1.0.0", "--json"])).unwrap();
    let record = shown["id"].as_str().unwrap().to_string();
    (a, record)
}

/// A fresh registry B, whose operator is `op.pem` and which trusts A's publisher key.
fn successor(a: &Sandbox) -> Sandbox {
    let b = Sandbox::new();
    b.init();
    b.key("op.pem");
    b.trust("op.pem.pub", "operator", "successor operator");
    std::fs::copy(a.join("pub.pem.pub"), b.join("pub.pem.pub")).unwrap();
    b.trust("pub.pem.pub", "publisher", "the same model team");
    b
}

#[test]
fn checkout_bundle_writes_the_signed_bundle_another_registry_admits_as_the_same_record() {
    let (a, record) = home_with_model();
    let out = a.ok(&["checkout", "det@1.0.0", "--bundle", "det.tar"]);
    assert!(
        out.contains(&format!(
            "wrote the signed bundle of det@1.0.0 to det.tar (record {record}, 2 artifact(s)"
        )),
        "{out}"
    );
    // A model packed by reg as a plain tar comes back byte for byte.
    assert_eq!(
        std::fs::read(a.join("det.tar")).unwrap(),
        std::fs::read(a.join("m-det-1.0.0.tar")).unwrap()
    );
    let b = successor(&a);
    std::fs::copy(a.join("det.tar"), b.join("det.tar")).unwrap();
    let added = b.ok(&["add", "det.tar", "--key", "op.pem"]);
    assert!(
        added.contains(&format!("added det@1.0.0 as REGISTERED (record {record},")),
        "{added}"
    );
    b.ok(&["verify", "det@1.0.0"]);

    // Never over an existing file.
    let before = std::fs::read(a.join("det.tar")).unwrap();
    let err = a.fails(2, &["checkout", "det@1.0.0", "--bundle", "det.tar"]);
    assert!(err.contains("`det.tar` already exists"), "{err}");
    assert_eq!(before, std::fs::read(a.join("det.tar")).unwrap());
    a.fails(
        2,
        &["checkout", "det@1.0.0", "--bundle", "x.tar", "-o", "dir"],
    );
}

#[test]
fn a_tampered_checked_out_bundle_is_refused_by_the_other_registry() {
    let (a, _) = home_with_model();
    a.ok(&["checkout", "det@1.0.0", "--bundle", "det.tar"]);
    let b = successor(&a);
    let mut bytes = std::fs::read(a.join("det.tar")).unwrap();
    let at = bytes
        .windows(6)
        .position(|w| w == b"rule b")
        .expect("the artifact is in the tar");
    bytes[at] = b'R';
    std::fs::write(b.join("det.tar"), &bytes).unwrap();
    let before = b.snapshot();
    let err = b.fails(1, &["add", "det.tar", "--key", "op.pem"]);
    assert!(err.contains("`sub/more.yar`: BLAKE3 is"), "{err}");
    assert_eq!(before, b.snapshot());
}

#[test]
fn checkout_bundle_verifies_what_it_copies_and_refuses_revoked_and_purged_models() {
    let (a, _) = home_with_model();
    // A corrupt stored artifact: refused, and nothing left at the destination.
    let id = blake3::hash(b"rule b { condition: false }\n")
        .to_hex()
        .to_string();
    let object = a.object_path(&id);
    crate::util::make_writable(&object);
    std::fs::write(&object, b"rule b { condition: true! }\n").unwrap();
    let err = a.fails(1, &["checkout", "det@1.0.0", "--bundle", "det.tar"]);
    assert!(
        err.contains("artifact `sub/more.yar` of det@1.0.0"),
        "{err}"
    );
    assert!(!a.join("det.tar").exists());
    let left: Vec<_> = std::fs::read_dir(a.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".reg-checkout-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    let s = purged_model();
    let err = s.fails(1, &["checkout", "det@1.0.0", "--bundle", "det.tar"]);
    assert!(
        err.contains("det@1.0.0 was purged by ledger entry"),
        "{err}"
    );
    assert!(!s.join("det.tar").exists());

    let r = Sandbox::new();
    r.init_with_roles();
    r.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule a { condition: true }\n".into())],
    );
    r.ok(&["revoke", "det@1.0.0", "--reason", "bad", "--key", "op.pem"]);
    let err = r.fails(1, &["checkout", "det@1.0.0", "--bundle", "det.tar"]);
    assert!(err.contains("det@1.0.0 is REVOKED"), "{err}");
    assert!(!r.join("det.tar").exists());
}
