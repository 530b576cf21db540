//! Lifecycle moves only along the documented table, with a reason and an operator signature;
//! slots hold only promoted models; a revoked model is never left active. Every refusal is
//! named, its message checked, and the registry left byte-for-byte as it was.

use crate::util::Sandbox;
use std::fs;

/// A registry with three registered models: det@1.0.0, det@2.0.0 and other@1.0.0.
fn setup() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    for (name, version) in [("det", "1.0.0"), ("det", "2.0.0"), ("other", "1.0.0")] {
        let rule = format!(
            "rule {name}_{} {{ condition: true }}\n",
            version.replace('.', "_")
        );
        s.add_model(name, version, &[("rules.yar", rule)]);
    }
    s
}

fn op(s: &Sandbox, args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--key", "op.pem"]);
    s.ok(&a)
}

/// `args`, signed by the operator unless it names its key, is refused (exit 1) saying `needle`.
fn refused(s: &Sandbox, args: &[&str], needle: &str) -> String {
    let mut a = args.to_vec();
    if !a.contains(&"--key") {
        a.extend_from_slice(&["--key", "op.pem"]);
    }
    s.refused(1, &a, needle)
}

fn state_of(s: &Sandbox, spec: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&s.ok(&["show", spec, "--json"])).unwrap();
    v["state"].as_str().unwrap().to_string()
}

#[test]
fn the_full_lifecycle_with_reinstatement() {
    let s = setup();
    op(
        &s,
        &[
            "promote",
            "det@1.0.0",
            "--reason",
            "passed red-team evaluation",
        ],
    );
    op(
        &s,
        &["deprecate", "det@1.0.0", "--reason", "superseded by 2.0.0"],
    );
    op(
        &s,
        &[
            "promote",
            "det@1.0.0",
            "--reason",
            "2.0.0 regressed; reinstated",
        ],
    );
    op(
        &s,
        &["revoke", "det@1.0.0", "--reason", "training data poisoned"],
    );
    assert_eq!(state_of(&s, "det@1.0.0"), "REVOKED");
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "det@1.0.0", "--json"])).unwrap();
    crate::ingest::validate("model-record.schema.json", &show);
    let actions: Vec<&str> = show["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["add", "promote", "deprecate", "promote", "revoke"]
    );
    assert_eq!(show["history"][4]["reason"], "training data poisoned");
    let log: serde_json::Value =
        serde_json::from_str(&s.ok(&["log", "det@1.0.0", "--json"])).unwrap();
    crate::ingest::validate("log.schema.json", &log);
    assert_eq!(log.as_array().unwrap().len(), 5);
    let all: serde_json::Value = serde_json::from_str(&s.ok(&["log", "--json"])).unwrap();
    crate::ingest::validate("log.schema.json", &all);
    // The ref names the latest entry; the ledger verifies.
    let id = show["id"].as_str().unwrap();
    assert_eq!(
        fs::read_to_string(s.dot().join("refs/models").join(id))
            .unwrap()
            .trim(),
        show["history"][4]["entry"].as_str().unwrap()
    );
    s.ok(&["ledger", "verify"]);
}

#[test]
fn illegal_transitions_are_refused_with_the_allowed_moves() {
    let s = setup();
    refused(
        &s,
        &["deprecate", "det@1.0.0", "--reason", "x"],
        "cannot deprecate det@1.0.0: it is REGISTERED; allowed from REGISTERED: promote, revoke",
    );
    op(&s, &["promote", "det@1.0.0", "--reason", "ok"]);
    refused(
        &s,
        &["promote", "det@1.0.0", "--reason", "x"],
        "cannot promote det@1.0.0: it is PROMOTED; allowed from PROMOTED: deprecate, revoke",
    );
    op(&s, &["deprecate", "det@1.0.0", "--reason", "old"]);
    refused(
        &s,
        &["deprecate", "det@1.0.0", "--reason", "x"],
        "cannot deprecate det@1.0.0: it is DEPRECATED; allowed from DEPRECATED: promote, revoke",
    );
    op(&s, &["revoke", "det@1.0.0", "--reason", "bad"]);
    for verb in ["promote", "deprecate", "revoke"] {
        refused(
            &s,
            &[verb, "det@1.0.0", "--reason", "x"],
            &format!(
                "cannot {verb} det@1.0.0: it is REVOKED; nothing is allowed from REVOKED (it is final)"
            ),
        );
    }
}

#[test]
fn a_transition_needs_a_reason_an_operator_and_a_known_model() {
    let s = setup();
    let before = s.snapshot();
    let err = s.fails(
        2,
        &["promote", "det@1.0.0", "--reason", " ", "--key", "op.pem"],
    );
    assert!(err.contains("a reason is required"), "{err}");
    assert_eq!(before, s.snapshot());
    refused(
        &s,
        &["promote", "det@1.0.0", "--reason", "x", "--key", "root.pem"],
        "does not hold the operator role",
    );
    refused(
        &s,
        &["promote", "det@1.0.0", "--reason", "x", "--key", "pub.pem"],
        "does not hold the operator role",
    );
    let before = s.snapshot();
    let err = s.fails(
        2,
        &["promote", "det@9.9.9", "--reason", "x", "--key", "op.pem"],
    );
    assert!(err.contains("no model `det@9.9.9`"), "{err}");
    assert_eq!(before, s.snapshot());
}

#[test]
fn only_promoted_models_can_be_active() {
    let s = setup();
    refused(
        &s,
        &["activate", "ransomware", "det@1.0.0", "--reason", "x"],
        "only a PROMOTED model can be made active; det@1.0.0 is REGISTERED",
    );
    op(&s, &["promote", "det@1.0.0", "--reason", "ok"]);
    op(&s, &["deprecate", "det@1.0.0", "--reason", "old"]);
    refused(
        &s,
        &["activate", "ransomware", "det@1.0.0", "--reason", "x"],
        "only a PROMOTED model can be made active; det@1.0.0 is DEPRECATED",
    );
    op(&s, &["revoke", "det@1.0.0", "--reason", "bad"]);
    refused(
        &s,
        &["activate", "ransomware", "det@1.0.0", "--reason", "x"],
        "only a PROMOTED model can be made active; det@1.0.0 is REVOKED",
    );
    refused(
        &s,
        &["activate", "Ransomware", "det@2.0.0", "--reason", "x"],
        "invalid slot name `Ransomware`",
    );
}

#[test]
fn slot_changes_activate_replace_deactivate() {
    let s = setup();
    op(&s, &["promote", "det@1.0.0", "--reason", "ok"]);
    op(&s, &["promote", "det@2.0.0", "--reason", "ok"]);
    op(
        &s,
        &["activate", "ransomware", "det@1.0.0", "--reason", "go live"],
    );
    refused(
        &s,
        &["activate", "ransomware", "det@1.0.0", "--reason", "again"],
        "det@1.0.0 is already the active model of slot `ransomware`",
    );
    op(
        &s,
        &["activate", "ransomware", "det@2.0.0", "--reason", "upgrade"],
    );
    let status: serde_json::Value = serde_json::from_str(&s.ok(&["status", "--json"])).unwrap();
    crate::ingest::validate("status.schema.json", &status);
    assert_eq!(status[0]["slot"], "ransomware");
    assert_eq!(status[0]["version"], "2.0.0");
    assert_eq!(
        fs::read_to_string(s.dot().join("refs/slots/ransomware"))
            .unwrap()
            .trim(),
        status[0]["entry"].as_str().unwrap()
    );
    op(&s, &["deactivate", "ransomware", "--reason", "maintenance"]);
    assert!(!s.dot().join("refs/slots/ransomware").exists());
    refused(
        &s,
        &["deactivate", "ransomware", "--reason", "again"],
        "slot `ransomware` is not set",
    );
    assert_eq!(s.ok(&["status", "--json"]).trim(), "[]");
}

#[test]
fn revoking_an_active_model_must_say_what_happens_to_its_slot() {
    let s = setup();
    op(&s, &["promote", "det@1.0.0", "--reason", "ok"]);
    op(
        &s,
        &["activate", "ransomware", "det@1.0.0", "--reason", "live"],
    );
    op(&s, &["activate", "triage", "det@1.0.0", "--reason", "live"]);
    refused(
        &s,
        &["revoke", "det@1.0.0", "--reason", "compromised"],
        "det@1.0.0 is the active model of slot(s) ransomware, triage: say in the same action what happens to each, with --deactivate or --replace MODEL",
    );
    refused(
        &s,
        &[
            "revoke",
            "det@1.0.0",
            "--reason",
            "compromised",
            "--replace",
            "det@2.0.0",
        ],
        "only a PROMOTED model can be made active; det@2.0.0 is REGISTERED",
    );
    refused(
        &s,
        &[
            "revoke",
            "det@1.0.0",
            "--reason",
            "compromised",
            "--replace",
            "det@1.0.0",
        ],
        "only a PROMOTED model can be made active; det@1.0.0 is REVOKED",
    );
    op(&s, &["promote", "det@2.0.0", "--reason", "ok"]);
    let out = op(
        &s,
        &[
            "revoke",
            "det@1.0.0",
            "--reason",
            "compromised",
            "--replace",
            "det@2.0.0",
        ],
    );
    assert!(
        out.contains("slot ransomware: now det@2.0.0")
            && out.contains("slot triage: now det@2.0.0"),
        "{out}"
    );
    let status: serde_json::Value = serde_json::from_str(&s.ok(&["status", "--json"])).unwrap();
    assert!(
        status
            .as_array()
            .unwrap()
            .iter()
            .all(|slot| slot["version"] == "2.0.0")
    );
    // And with --deactivate, in one signed action.
    op(&s, &["promote", "other@1.0.0", "--reason", "ok"]);
    op(&s, &["activate", "aux", "other@1.0.0", "--reason", "live"]);
    let entries = s.ledger_ids().len();
    op(
        &s,
        &[
            "revoke",
            "other@1.0.0",
            "--reason",
            "vendor withdrew it",
            "--deactivate",
        ],
    );
    assert_eq!(s.ledger_ids().len(), entries + 1, "one action, one entry");
    let status = s.ok(&["status", "--json"]);
    assert!(!status.contains("\"aux\""), "{status}");
}

#[test]
fn deprecating_an_active_model_is_allowed_and_warned_about() {
    let s = setup();
    op(&s, &["promote", "det@1.0.0", "--reason", "ok"]);
    op(
        &s,
        &["activate", "ransomware", "det@1.0.0", "--reason", "live"],
    );
    let out = s
        .reg()
        .args([
            "deprecate",
            "det@1.0.0",
            "--reason",
            "phase out",
            "--key",
            "op.pem",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "warning: det@1.0.0 stays the active model of slot `ransomware` until it is replaced"
    ));
    let out = s.reg().args(["status"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("DEPRECATED"));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("warning: slot `ransomware` runs det@1.0.0, which is DEPRECATED")
    );
}

#[test]
fn list_filters_and_json_outputs_validate() {
    let s = setup();
    op(&s, &["promote", "det@2.0.0", "--reason", "ok"]);
    let promoted: serde_json::Value =
        serde_json::from_str(&s.ok(&["list", "--state", "promoted", "--json"])).unwrap();
    crate::ingest::validate("model-list.schema.json", &promoted);
    assert_eq!(promoted.as_array().unwrap().len(), 1);
    let named: serde_json::Value =
        serde_json::from_str(&s.ok(&["list", "--name", "det", "--json"])).unwrap();
    assert_eq!(named.as_array().unwrap().len(), 2);
    let keys: serde_json::Value = serde_json::from_str(&s.ok(&["key", "list", "--json"])).unwrap();
    crate::ingest::validate("key-list.schema.json", &keys);
}

/// Models are named like git names commits. (An ambiguous prefix, which three random ids
/// rarely produce, is covered by `record::tests::resolves_like_git` on chosen ids.)
#[test]
fn a_model_is_named_by_spec_id_or_unique_prefix() {
    let s = setup();
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "det@1.0.0", "--json"])).unwrap();
    let id = show["id"].as_str().unwrap();
    for spec in [id, &id[..12], &id[..8]] {
        let out = s.ok(&["show", spec]);
        assert!(out.starts_with("det@1.0.0"), "{spec}: {out}");
    }
    let err = s.fails(2, &["show", &id[..3]]);
    assert!(
        err.contains(&format!("no model `{}`", &id[..3])),
        "a 3-digit prefix is too short: {err}"
    );
}

#[test]
fn eight_writers_at_once_make_one_linear_chain() {
    let s = Sandbox::new();
    s.init_with_roles();
    for i in 0..8 {
        let dir = format!("m{i}");
        fs::create_dir(s.join(&dir)).unwrap();
        fs::write(
            s.join(&format!("{dir}/r.yar")),
            format!("rule r{i} {{ condition: true }}\n"),
        )
        .unwrap();
        s.ok(&[
            "bundle",
            "pack",
            &dir,
            "-o",
            &format!("{dir}.tar"),
            "--key",
            "pub.pem",
            "--name",
            &format!("model-{i}"),
            "--version",
            "1.0.0",
            "--type",
            "ruleset",
            "--use",
            "detection",
            "--description",
            "r",
        ]);
        s.ok(&["add", &format!("{dir}.tar"), "--key", "op.pem"]);
    }
    let before = s.ledger_ids().len();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("reg"));
            for (k, v) in s.reg().get_envs() {
                if let Some(v) = v {
                    c.env(k, v);
                }
            }
            c.env("REG_LOCK_TIMEOUT", "60")
                .current_dir(s.path())
                .args([
                    "promote",
                    &format!("model-{i}@1.0.0"),
                    "--reason",
                    "batch approval",
                    "--key",
                    "op.pem",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(s.ledger_ids().len(), before + 8);
    assert!(
        s.ok(&["ledger", "verify"])
            .starts_with(&format!("ledger OK: {} entries", before + 8))
    );
    let promoted: serde_json::Value =
        serde_json::from_str(&s.ok(&["list", "--state", "promoted", "--json"])).unwrap();
    assert_eq!(promoted.as_array().unwrap().len(), 8);
}

#[test]
fn a_transition_killed_at_any_step_is_all_or_nothing() {
    for (step, committed) in [
        ("commit:after-object", false),
        ("commit:after-index", false),
        ("commit:after-ledger", false),
        ("commit:after-checkpoint", true),
        ("commit:after-refs", true),
    ] {
        let s = setup();
        let out = s
            .reg()
            .args(["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"])
            .env("REG_FAILPOINT", step)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "{step}");
        s.ok(&["ledger", "verify"]);
        assert_eq!(
            state_of(&s, "det@1.0.0"),
            if committed { "PROMOTED" } else { "REGISTERED" },
            "{step}"
        );
        // Refs are written after the commit point: whatever they say now, fsck passes.
        let fsck = s.reg().arg("fsck").output().unwrap();
        assert!(
            fsck.status.success(),
            "{step}: {}",
            String::from_utf8_lossy(&fsck.stdout)
        );
        if committed {
            // The next write, to another model, repairs the refs the killed one left behind.
            op(&s, &["promote", "other@1.0.0", "--reason", "ok"]);
        } else {
            op(&s, &["promote", "det@1.0.0", "--reason", "ok"]);
            assert_eq!(state_of(&s, "det@1.0.0"), "PROMOTED");
        }
        // The model's ref names its latest entry once the next write has run.
        let show: serde_json::Value =
            serde_json::from_str(&s.ok(&["show", "det@1.0.0", "--json"])).unwrap();
        let latest = show["history"].as_array().unwrap().last().unwrap()["entry"]
            .as_str()
            .unwrap()
            .to_string();
        let id = show["id"].as_str().unwrap();
        assert_eq!(
            fs::read_to_string(s.dot().join("refs/models").join(id))
                .unwrap()
                .trim(),
            latest,
            "{step}"
        );
    }
}
