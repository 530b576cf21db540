//! Compromised is not retired (FORMAT.md §5.3, §5.14): `reg key revoke
//! --compromised` suspends every model resting on the key, the gate denies a suspended model
//! (`suspended`), writers refuse to promote or activate it until an operator re-approves it
//! (`reg reapprove`), and `show`, `list`, `status`, `check`, `fsck` and `log` say which way a key
//! was revoked. A retired key (no flag, and every revocation of a format-3 registry, whatever
//! its reason) keeps what it signed valid. What the readers say is in `compromise_readers`; what
//! replay refuses of a forged entry, in `forged_entries`.

use crate::forged_entries::{forge, model, replay_refuses, suspend, unsuspend};
use crate::util::Sandbox;
use reg::format::entry::{Body, Transition};
use reg::format::lifecycle::LifecycleState;
use serde_json::Value;
use std::fs;

/// The artifact of each model: `m-NAME-VERSION/rules.txt`.
pub(crate) fn file(name: &str) -> String {
    format!("m-{name}-1.0.0/rules.txt")
}

/// A format-4 site: `det@1.0.0` PROMOTED and active in slot `prod`, `alt@1.0.0` PROMOTED in no
/// slot, `new@1.0.0` REGISTERED; all published by `pub.pem`, admitted and approved by `op.pem`.
/// A second operator, `op2.pem`, approved nothing. Returns the publisher's and operator's
/// fingerprints.
pub(crate) fn site() -> (Sandbox, String, String) {
    let s = Sandbox::new();
    let (_, op, publ) = s.init_with_roles();
    s.key("op2.pem");
    s.trust("op2.pem.pub", "operator", "second operator");
    for name in ["det", "alt", "new"] {
        s.add_model(name, "1.0.0", &[("rules.txt", format!("{name} rules\n"))]);
    }
    for args in [
        &["promote", "det@1.0.0", "--reason", "validated"][..],
        &["promote", "alt@1.0.0", "--reason", "validated"],
        &["activate", "prod", "det@1.0.0", "--reason", "go live"],
    ] {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--key", "op.pem"]);
        s.ok(&a);
    }
    (s, publ, op)
}

/// `reg ARGS`: exit code, stdout, stderr.
pub(crate) fn run(s: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let out = s.reg().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The gate's decision on one file (`reg check FILE --json`, plus `extra`): allowed, its code,
/// and what the command said on stderr. The exit code agrees with the decision.
pub(crate) fn gate(s: &Sandbox, path: &str, extra: &[&str]) -> (bool, String, String) {
    let mut args = vec!["check", path, "--json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(s, &args);
    let decisions: Value = serde_json::from_str(&stdout).unwrap();
    crate::ingest::validate("check.schema.json", &decisions);
    let d = &decisions[0];
    let allowed = d["allowed"].as_bool().unwrap();
    assert_eq!(code, if allowed { 0 } else { 1 }, "{stdout}{stderr}");
    (allowed, d["code"].as_str().unwrap().to_string(), stderr)
}

/// `reg key revoke FP --compromised`, signed by `root.pem`: stdout and stderr.
pub(crate) fn compromise(s: &Sandbox, fp: &str) -> (String, String) {
    let (code, out, err) = run(
        s,
        &[
            "key",
            "revoke",
            fp,
            "--compromised",
            "--key",
            "root.pem",
            "--reason",
            "key found on a stolen laptop",
        ],
    );
    assert_eq!(code, 0, "{err}");
    (out, err)
}

/// `reg ARGS --json`, checked against `schema`.
pub(crate) fn json(s: &Sandbox, args: &[&str], schema: &str) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let v: Value = serde_json::from_str(&s.ok(&a)).unwrap();
    crate::ingest::validate(schema, &v);
    v
}

/// The seq of the head entry (the entry the last write made).
pub(crate) fn head_seq(s: &Sandbox) -> u64 {
    s.ledger_ids().len() as u64 - 1
}

/// Runs `args`, which must be refused with exit `code`, saying `why` (and `hint` on its hint
/// line), leaving the registry byte for byte as it was.
pub(crate) fn refused(s: &Sandbox, code: i32, args: &[&str], why: &str, hint: &str) {
    let err = s.refused(code, args, why);
    let hint_line = err.lines().find(|l| l.starts_with("hint: ")).unwrap_or("");
    assert!(
        hint_line.contains(hint),
        "reg {args:?}: expected hint `{hint}` in: {err}"
    );
}

#[test]
fn a_compromised_publisher_suspends_what_it_signed_and_the_gate_denies_it_where_a_retired_one_is_allowed()
 {
    // Today's meaning, which a "COMPROMISED" reason does not change: the key is retired, what
    // it signed is still allowed, and the gate says on stderr whose key it rests on.
    let (s, publ, _) = site();
    let out = s.ok(&[
        "key",
        "revoke",
        &publ,
        "--key",
        "root.pem",
        "--reason",
        "COMPROMISED",
    ]);
    let retired_at = head_seq(&s);
    assert!(
        out.contains(&format!(
            "revoked {publ}, retired: its earlier signatures stay valid"
        )),
        "{out}"
    );
    let (allowed, code, err) = gate(&s, &file("det"), &["--slot", "prod"]);
    assert!(allowed, "a retired publisher's model is allowed");
    assert_eq!(code, "promoted");
    assert!(
        err.contains(&format!(
            "det@1.0.0 rests on publisher key {publ}, retired at entry {retired_at}"
        )),
        "{err}"
    );
    s.ok(&[
        "promote",
        "new@1.0.0",
        "--reason",
        "a retired key's signature stands",
        "--key",
        "op.pem",
    ]);

    // The same site, the publisher revoked as compromised: every model it published is
    // suspended in the same entry, the slot's model with them.
    let (s, publ, _) = site();
    let (out, err) = compromise(&s, &publ);
    let at = head_seq(&s);
    assert!(
        out.contains(&format!(
            "revoked {publ} as compromised (ledger entry {at} "
        )),
        "{out}"
    );
    for line in [
        "suspended alt@1.0.0 (PROMOTED)",
        "suspended det@1.0.0 (PROMOTED)",
        "suspended new@1.0.0 (REGISTERED)",
        "slot prod: its active model det@1.0.0 is suspended; the gate denies it",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "expected `{line}` in: {out}"
        );
    }
    assert!(
        err.contains("next: check each suspended model, then re-approve it (`reg reapprove MODEL"),
        "{err}"
    );
    for (path, extra) in [
        (file("det"), &["--slot", "prod"][..]),
        (file("det"), &[]),
        (file("alt"), &["--model", "alt@1.0.0"]),
    ] {
        let (allowed, code, _) = gate(&s, &path, extra);
        assert!(!allowed, "{path} {extra:?}: a suspended model is denied");
        assert_eq!(code, "suspended", "{path} {extra:?}");
    }
    let (code, stdout, _) = run(&s, &["check", &file("det"), "--slot", "prod"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(&format!(
            "key {publ} it rests on was revoked as compromised at ledger entry {at}"
        )) && stdout.ends_with("[suspended]\n"),
        "{stdout}"
    );
}

#[test]
fn a_suspended_model_is_neither_promoted_nor_activated_even_deprecated_but_can_be_deprecated_and_revoked()
 {
    let (s, publ, _) = site();
    compromise(&s, &publ);
    let at = head_seq(&s);
    let suspended =
        format!("is suspended: key {publ} it rests on was revoked as compromised at entry {at}");
    refused(
        &s,
        1,
        &["promote", "new@1.0.0", "--reason", "x", "--key", "op.pem"],
        &format!("new@1.0.0 {suspended}"),
        "then `reg reapprove new@1.0.0 --reason TEXT --key OPERATOR.pem`",
    );
    refused(
        &s,
        1,
        &[
            "activate",
            "prod",
            "alt@1.0.0",
            "--reason",
            "x",
            "--key",
            "op.pem",
        ],
        &format!("alt@1.0.0 {suspended}"),
        "`reg reapprove alt@1.0.0",
    );
    refused(
        &s,
        1,
        &[
            "activate",
            "spare",
            "alt@1.0.0",
            "--reason",
            "x",
            "--key",
            "op.pem",
        ],
        &format!("alt@1.0.0 {suspended}"),
        "`reg reapprove alt@1.0.0",
    );
    // A deprecated model of a compromised publisher is not promoted again.
    s.ok(&[
        "deprecate",
        "det@1.0.0",
        "--reason",
        "phase out",
        "--key",
        "op.pem",
    ]);
    refused(
        &s,
        1,
        &[
            "promote",
            "det@1.0.0",
            "--reason",
            "reinstate",
            "--key",
            "op.pem",
        ],
        &format!("det@1.0.0 {suspended}"),
        "`reg reapprove det@1.0.0",
    );
    let (allowed, code, _) = gate(&s, &file("det"), &["--slot", "prod"]);
    assert!(
        !allowed && code == "suspended",
        "deprecated and suspended: {code}"
    );
    s.ok(&[
        "revoke",
        "det@1.0.0",
        "--deactivate",
        "--reason",
        "withdrawn",
        "--key",
        "op.pem",
    ]);
    let (allowed, code, _) = gate(&s, &file("det"), &[]);
    assert!(!allowed && code == "revoked", "{code}");
    s.ok(&[
        "revoke",
        "new@1.0.0",
        "--reason",
        "withdrawn",
        "--key",
        "op.pem",
    ]);
    // fsck lists what is suspended and not revoked: alt@1.0.0 alone.
    let (code, report) = crate::fsck::fsck_json(&s, &[]);
    assert_eq!(code, 0, "{report}");
    let suspended: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "model-suspended")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        suspended.len() == 1 && suspended[0].starts_with("alt@1.0.0 is suspended"),
        "{suspended:?}"
    );
}

#[test]
fn a_reapproval_lifts_the_suspension_and_promote_activate_and_the_gate_work_again() {
    let (s, publ, _) = site();
    compromise(&s, &publ);
    let at = head_seq(&s);
    let out = s.ok(&[
        "reapprove",
        "det@1.0.0",
        "--reason",
        "rules diffed against the source repository",
        "--key",
        "op2.pem",
    ]);
    let seq = head_seq(&s);
    assert!(
        out.contains(&format!(
            "det@1.0.0: re-approved, no longer suspended (key {publ} was revoked as compromised at entry {at}); it stays PROMOTED (ledger entry {seq} "
        )),
        "{out}"
    );
    assert!(
        out.contains("slot prod: the gate allows its active model again"),
        "{out}"
    );
    let (allowed, code, err) = gate(&s, &file("det"), &["--slot", "prod"]);
    assert!(allowed && code == "promoted", "{code}");
    assert!(
        err.contains(&format!(
            "det@1.0.0 rests on publisher key {publ}, compromised at entry {at}"
        )),
        "the gate still says whose key it rests on: {err}"
    );

    // A REGISTERED model re-approved can be promoted and made active.
    let (code, _, err) = run(
        &s,
        &[
            "reapprove",
            "new@1.0.0",
            "--reason",
            "checked",
            "--key",
            "op2.pem",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: new@1.0.0 is REGISTERED, not approved: `reg promote new@1.0.0"),
        "{err}"
    );
    s.ok(&["promote", "new@1.0.0", "--reason", "ok", "--key", "op2.pem"]);
    s.ok(&[
        "activate",
        "prod",
        "new@1.0.0",
        "--reason",
        "x",
        "--key",
        "op2.pem",
    ]);
    let (allowed, code, _) = gate(&s, &file("new"), &["--slot", "prod"]);
    assert!(allowed && code == "promoted", "{code}");

    // The re-approval is part of the model's history, in show, log and their JSON.
    let show = s.ok(&["show", "det@1.0.0"]);
    let line = format!(
        "  entry {seq:<6} 2026-01-01T00:00:00Z  reapprove -> PROMOTED   by {}: rules diffed against the source repository",
        crate::craft::load(&s, "op2.pem").public().fingerprint()
    );
    assert!(
        show.lines().any(|l| l == line),
        "expected `{line}` in: {show}"
    );
    assert!(!show.contains("suspended:"), "{show}");
    let v = json(&s, &["show", "det@1.0.0"], "model-record.schema.json");
    let actions: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    // Its complete history: the slot it entered, the suspension, the re-approval,
    // and being displaced in its slot by new@1.0.0.
    assert_eq!(
        actions,
        [
            "add",
            "promote",
            "activate",
            "suspend",
            "reapprove",
            "displaced"
        ]
    );
    assert!(v.get("suspended").is_none(), "{v}");
    let log = s.ok(&["log", "det@1.0.0"]);
    assert!(log.contains("reapprove: re-approve "), "{log}");
    assert!(
        log.contains("add det@1.0.0"),
        "log MODEL follows the re-approval back: {log}"
    );
    let full = s.ok(&["log"]);
    assert!(
        full.contains(&format!("key-revoke: revoke {publ} as compromised")),
        "{full}"
    );
    // alt@1.0.0 is still suspended: fsck says so; nothing else is wrong (refs included).
    let (code, report) = crate::fsck::fsck_json(&s, &[]);
    let findings: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(code, 0, "{findings:?}");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].0, "model-suspended");
    assert!(
        findings[0].1.starts_with("alt@1.0.0 is suspended"),
        "{findings:?}"
    );
}

#[test]
fn a_reapproval_is_refused_for_a_model_not_suspended_or_revoked_and_needs_an_operator() {
    let (s, publ, _) = site();
    refused(
        &s,
        1,
        &["reapprove", "det@1.0.0", "--reason", "x", "--key", "op.pem"],
        "det@1.0.0 is not suspended: nothing to re-approve",
        "`reg show det@1.0.0` says whether a key it rests on was revoked",
    );
    compromise(&s, &publ);
    s.ok(&[
        "revoke",
        "alt@1.0.0",
        "--reason",
        "not worth checking",
        "--key",
        "op.pem",
    ]);
    refused(
        &s,
        1,
        &["reapprove", "alt@1.0.0", "--reason", "x", "--key", "op.pem"],
        "alt@1.0.0 is REVOKED: a revoked model is never re-approved",
        "register and promote a new version instead",
    );
    refused(
        &s,
        1,
        &[
            "reapprove",
            "det@1.0.0",
            "--reason",
            "x",
            "--key",
            "root.pem",
        ],
        "signed a reapprove entry but does not hold the operator role",
        "must be signed with a key trusted as operator",
    );
    refused(
        &s,
        2,
        &[
            "reapprove",
            "nope@1.0.0",
            "--reason",
            "x",
            "--key",
            "op.pem",
        ],
        "nope@1.0.0",
        "`reg list` shows the registered models",
    );
    refused(
        &s,
        2,
        &["reapprove", "det@1.0.0", "--reason", " ", "--key", "op.pem"],
        "a reason is required: say why in words",
        "",
    );
}

#[test]
fn a_compromised_operator_suspends_what_it_admitted_or_approved_and_another_operator_reapproves() {
    let (s, _, op) = site();
    // op2 admits and promotes one model of its own: it rests on op2, not op.
    s.add_model("own", "1.0.0", &[("rules.txt", "own rules\n".into())]);
    let (out, _) = compromise(&s, &op);
    for spec in ["alt@1.0.0", "det@1.0.0", "new@1.0.0", "own@1.0.0"] {
        assert!(out.contains(&format!("suspended {spec} (")), "{out}");
    }
    // add_model admits with op.pem: own@1.0.0 rests on op too. A model admitted by op2 alone:
    let dir = "m-solo-1.0.0";
    fs::create_dir(s.join(dir)).unwrap();
    fs::write(s.join(&format!("{dir}/rules.txt")), "solo rules\n").unwrap();
    let args = crate::util::pack_args(dir, "solo.tar", "pub.pem", "solo", "1.0.0");
    s.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    s.ok(&["add", "solo.tar", "--key", "op2.pem"]);
    s.ok(&[
        "promote",
        "solo@1.0.0",
        "--reason",
        "ok",
        "--key",
        "op2.pem",
    ]);
    let (allowed, code, _) = gate(&s, &file("solo"), &[]);
    assert!(allowed && code == "promoted", "{code}");
    // The compromised key can sign nothing more, its re-approval of its own model included.
    refused(
        &s,
        1,
        &["reapprove", "det@1.0.0", "--reason", "x", "--key", "op.pem"],
        "after its revocation",
        "use a key that has not been revoked",
    );
    s.ok(&[
        "reapprove",
        "det@1.0.0",
        "--reason",
        "checked",
        "--key",
        "op2.pem",
    ]);
    let (allowed, code, _) = gate(&s, &file("det"), &["--slot", "prod"]);
    assert!(allowed && code == "promoted", "{code}");
    let show = s.ok(&["show", "det@1.0.0"]);
    assert!(
        !show.contains("revoked key: approver"),
        "after its re-approval det@1.0.0 rests on op2 alone: {show}"
    );
}

#[test]
fn revoking_a_root_as_compromised_suspends_nothing_and_points_to_the_root_rotation_runbook() {
    let (s, _, _) = site();
    let root = crate::craft::load(&s, "root.pem")
        .public()
        .fingerprint()
        .to_string();
    s.key("root2.pem");
    s.trust("root2.pem.pub", "root", "second root");
    let (code, out, err) = run(
        &s,
        &[
            "key",
            "revoke",
            &root,
            "--compromised",
            "--key",
            "root2.pem",
            "--reason",
            "root key copied",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("revoked {root} as compromised")),
        "{out}"
    );
    assert!(!out.contains("suspended "), "a root signs no model: {out}");
    let floor = s.ok(&["status", "--code"]).trim().to_string();
    assert!(
        err.contains(&format!("warning: {root} held root"))
            && err.contains("root-rotation runbook (docs/GUIDE.md §8.3)")
            && err.contains(&format!("`reg trust add {root} --head {floor}`")),
        "{err}"
    );
    let (allowed, code, _) = gate(&s, &file("det"), &["--slot", "prod"]);
    assert!(allowed && code == "promoted", "{code}");
}

#[test]
fn a_replica_imports_a_compromise_and_a_reapproval_and_its_gate_and_refs_follow() {
    let (a, publ, _) = site();
    let root = crate::craft::load(&a, "root.pem")
        .public()
        .fingerprint()
        .to_string();
    let b = crate::util::copy_site(&a, &root);
    compromise(&a, &publ);
    a.ok(&[
        "reapprove",
        "det@1.0.0",
        "--reason",
        "checked",
        "--key",
        "op2.pem",
    ]);
    fs::copy(b.dot().join("checkpoint"), a.join("b.checkpoint")).unwrap();
    a.ok(&["export", "update.regx", "--since", "b.checkpoint"]);
    fs::copy(a.join("update.regx"), b.join("update.regx")).unwrap();
    b.ok(&["import", "update.regx"]);
    let (allowed, code, _) = gate(&b, &file("det"), &["--slot", "prod"]);
    assert!(allowed && code == "promoted", "{code}");
    let (allowed, code, _) = gate(&b, &file("alt"), &[]);
    assert!(!allowed && code == "suspended", "{code}");
    // The re-approval is det's latest entry at the replica too: its ref names it.
    let (code, report) = crate::fsck::fsck_json(&b, &[]);
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(code, 0, "{report}");
    assert_eq!(codes, ["model-suspended", "model-suspended"], "{report}");
}

/// A key retired (a laptop lost) and later found in someone else's hands: revoked again as
/// compromised, the retirement becomes a compromise and what rests on it is suspended; its
/// first revocation's seq stays, and a third revocation is refused.
#[test]
fn a_retired_key_found_compromised_later_is_revoked_again_as_compromised() {
    let (s, publ, _) = site();
    s.ok(&[
        "key",
        "revoke",
        &publ,
        "--key",
        "root.pem",
        "--reason",
        "laptop lost",
    ]);
    let retired = head_seq(&s);
    let (allowed, code, _) = gate(&s, &file("det"), &["--slot", "prod"]);
    assert!(allowed && code == "promoted", "{code}");
    let (out, _) = compromise(&s, &publ);
    assert!(out.contains("suspended det@1.0.0"), "{out}");
    let (allowed, code, _) = gate(&s, &file("det"), &["--slot", "prod"]);
    assert!(!allowed && code == "suspended", "{code}");
    let keys = json(&s, &["key", "list"], "key-list.schema.json");
    let k = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["fingerprint"] == publ.as_str())
        .unwrap();
    assert_eq!(k["revoked"], retired, "{k}");
    refused(
        &s,
        1,
        &[
            "key",
            "revoke",
            &publ,
            "--compromised",
            "--key",
            "root.pem",
            "--reason",
            "again",
        ],
        "revoked",
        "",
    );
    s.ok(&["ledger", "verify"]);
}

/// Retiring a root (the rotation runbook) also prints the floor every host needs.
#[test]
fn retiring_a_root_prints_the_floor_of_the_rotation_runbook() {
    let (s, _, _) = site();
    let root = crate::craft::load(&s, "root.pem")
        .public()
        .fingerprint()
        .to_string();
    s.key("root2.pem");
    s.trust("root2.pem.pub", "root", "rotation");
    let (code, _, err) = run(
        &s,
        &[
            "key",
            "revoke",
            &root,
            "--key",
            "root2.pem",
            "--reason",
            "rotated out",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let floor = s.ok(&["status", "--code"]).trim().to_string();
    assert!(
        err.contains(&format!("`reg trust add {root} --head {floor}`")),
        "{err}"
    );
}

/// The same bytes in a suspended PROMOTED model and in an unsuspended REGISTERED one: the gate
/// names the suspension, the reason the approved model does not vouch for them.
#[test]
fn the_gate_names_the_suspension_when_another_unapproved_model_holds_the_same_bytes() {
    let (s, publ, _) = site();
    s.key("pub2.pem");
    s.trust("pub2.pem.pub", "publisher", "second team");
    fs::create_dir_all(s.join("twin")).unwrap();
    fs::copy(s.join(&file("det")), s.join("twin/rules.txt")).unwrap();
    let args = crate::util::pack_args("twin", "twin.tar", "pub2.pem", "twin", "1.0.0");
    s.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    s.ok(&["add", "twin.tar", "--key", "op2.pem"]);
    compromise(&s, &publ);
    let (allowed, code, _) = gate(&s, &file("det"), &[]);
    assert!(!allowed && code == "suspended", "{code}");
}

/// A revocation that hands a slot over makes the replacement active: a suspended replacement is
/// refused as `reg activate` refuses it, by the writer and by replay (FORMAT.md §5.7).
#[test]
fn a_revocation_cannot_hand_a_slot_to_a_suspended_model() {
    let (s, publ, _) = site();
    compromise(&s, &publ);
    refused(
        &s,
        1,
        &[
            "revoke",
            "det@1.0.0",
            "--replace",
            "alt@1.0.0",
            "--reason",
            "compromised",
            "--key",
            "op.pem",
        ],
        "alt@1.0.0 is suspended",
        "reg reapprove alt@1.0.0",
    );
    // Forged by hand with a checkpoint that vouches for it: replay refuses it.
    let at = head_seq(&s);
    let (alt, _) = model(&s, "alt");
    let (det, latest) = model(&s, "det");
    let entry = forge(
        &s,
        "op.pem",
        Body::Transition(Transition {
            deny: false,
            from: LifecycleState::Promoted,
            model: det,
            previous: latest,
            reason: "forged".into(),
            slots: vec![reg::format::entry::SlotEffect {
                replacement: Some(alt),
                slot: "prod".into(),
            }],
            to: LifecycleState::Revoked,
        }),
        unsuspend(alt),
        suspend(alt, &publ, at),
    );
    replay_refuses(&s, entry, "alt@1.0.0 is suspended", &file("alt"));
}

/// `reg checkout` writes out no suspended model, by slot or as a bundle another registry would
/// admit: the gate's answer, not only the lifecycle's.
#[test]
fn checkout_writes_out_no_suspended_model() {
    let (s, publ, _) = site();
    compromise(&s, &publ);
    for args in [
        &["checkout", "--slot", "prod", "-o", "out"][..],
        &["checkout", "det@1.0.0", "--bundle", "det.tar"],
    ] {
        refused(
            &s,
            1,
            args,
            "det@1.0.0 is not written out: suspended: key",
            "reg reapprove det@1.0.0",
        );
    }
    assert!(!s.join("out").exists() && !s.join("det.tar").exists());
}

/// A compromised operator chose what its slots run: its revocation names each slot whose
/// current setting it signed, for review (a slot change approves nothing, so it suspends
/// nothing by itself).
#[test]
fn a_compromised_operators_revocation_names_the_slots_it_set() {
    let (s, _, op) = site();
    let (out, err) = compromise(&s, &op);
    assert!(out.contains("suspended det@1.0.0"), "{out}");
    assert!(
        err.contains("review: slot prod runs det@1.0.0, set by this key"),
        "{err}"
    );
}
