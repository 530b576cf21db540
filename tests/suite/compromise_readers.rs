//! What the readers say of a revoked key and of what it suspended (FORMAT.md §5.3, §5.14):
//! `show`, `list`, `status`, `check` and `fsck` say which way a key was revoked and which
//! models are suspended; a retired publisher is named retired; a format-3 registry, whose
//! revocations all retire, reads a publisher revoked with a "compromised" reason as retired and
//! refuses `--compromised`.

use crate::compromise::{compromise, gate, head_seq, json, refused, run, site};
use crate::forged_entries::{forge, replay_refuses};
use crate::util::Sandbox;
use reg::format::entry::{Body, KeyRevoke};
use serde_json::Value;

#[test]
fn show_list_status_check_and_fsck_say_which_way_a_key_was_revoked_and_what_is_suspended() {
    let (s, publ, _) = site();
    s.key("op3.pem");
    s.trust("op3.pem.pub", "operator", "temporary operator");
    s.ok(&["promote", "new@1.0.0", "--reason", "ok", "--key", "op3.pem"]);
    let op3 = crate::craft::load(&s, "op3.pem")
        .public()
        .fingerprint()
        .to_string();
    s.ok(&[
        "key", "revoke", &op3, "--key", "root.pem", "--reason", "left",
    ]);
    let retired = head_seq(&s);
    compromise(&s, &publ);
    let at = head_seq(&s);

    // key list: which way each key was revoked.
    let keys = s.ok(&["key", "list"]);
    for (fp, status) in [
        (&publ, format!("revoked at entry {at}, compromised")),
        (&op3, format!("revoked at entry {retired}, retired")),
    ] {
        let row = keys.lines().find(|l| l.starts_with(fp.as_str())).unwrap();
        assert!(row.ends_with(&status), "{row}");
    }
    let v = json(&s, &["key", "list"], "key-list.schema.json");
    let kinds: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| Some((k["fingerprint"].as_str()?, k["revocation"].as_str()?)))
        .collect();
    assert_eq!(
        kinds,
        [(publ.as_str(), "compromised"), (op3.as_str(), "retired")],
        "in the order they were trusted"
    );

    // show: the suspension, and each revoked key with its kind and entry.
    let show = s.ok(&["show", "new@1.0.0"]);
    for line in [
        format!(
            "suspended:   key {publ} it rests on was revoked as compromised at entry {at}: the gate denies it until an operator re-approves it (`reg reapprove new@1.0.0`) or revokes it"
        ),
        format!("revoked key: publisher key {publ}, compromised at entry {at}"),
        format!("revoked key: approver key {op3}, retired at entry {retired}"),
    ] {
        assert!(
            show.lines().any(|l| l == line),
            "expected `{line}` in: {show}"
        );
    }
    let v = json(&s, &["show", "new@1.0.0"], "model-record.schema.json");
    assert_eq!(v["suspended"], serde_json::json!({"key": publ, "seq": at}));
    assert_eq!(
        v["revoked_keys"],
        serde_json::json!([
            {"fingerprint": publ, "as": "publisher", "revoked": at, "kind": "compromised"},
            {"fingerprint": op3, "as": "approver", "revoked": retired, "kind": "retired"},
        ])
    );

    // list: a note after each row, and the same fields in JSON.
    let list = s.ok(&["list"]);
    let row = list.lines().find(|l| l.starts_with("new ")).unwrap();
    assert!(
        row.ends_with(&format!(
            "  [SUSPENDED; publisher key {publ}, compromised at entry {at}; approver key {op3}, retired at entry {retired}]"
        )),
        "{row}"
    );
    let v = json(&s, &["list"], "model-list.schema.json");
    let new = v
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "new")
        .unwrap();
    assert_eq!(new["suspended"]["seq"], at);
    assert_eq!(new["revoked_keys"][1]["kind"], "retired");

    // status: the slot whose model is suspended, with a warning that the gate denies it.
    let (code, out, err) = run(&s, &["status"]);
    assert_eq!(code, 0);
    let row = out.lines().find(|l| l.starts_with("prod ")).unwrap();
    assert!(row.contains("  [SUSPENDED; publisher key "), "{row}");
    assert!(
        err.contains("warning: slot `prod` runs det@1.0.0, which is suspended")
            && err.contains("the gate denies it"),
        "{err}"
    );
    let v = json(&s, &["status"], "status.schema.json");
    assert_eq!(v[0]["suspended"]["key"], publ.as_str());
    assert_eq!(v[0]["revoked_keys"][0]["kind"], "compromised");

    // fsck: each suspended model, and the slot the gate now denies.
    let (code, report) = crate::fsck::fsck_json(&s, &[]);
    assert_eq!(code, 1, "a slot running a suspended model fails fsck");
    let findings = report["findings"].as_array().unwrap();
    let of = |c: &str| -> Vec<&Value> { findings.iter().filter(|f| f["code"] == c).collect() };
    assert_eq!(of("model-suspended").len(), 3, "{findings:?}");
    assert!(
        of("model-suspended")
            .iter()
            .all(|f| f["severity"] == "warning"),
        "{findings:?}"
    );
    let active = of("suspended-active");
    assert_eq!(active.len(), 1, "{findings:?}");
    assert_eq!(active[0]["severity"], "error");
    assert!(
        active[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("slot `prod` runs det@1.0.0, which is suspended"),
        "{findings:?}"
    );
    assert!(
        of("publisher-revoked").is_empty(),
        "a compromised publisher is `model-suspended`, not `publisher-revoked`: {findings:?}"
    );
}

#[test]
fn fsck_names_a_retired_publisher_retired() {
    let (s, publ, _) = site();
    s.ok(&[
        "key", "revoke", &publ, "--key", "root.pem", "--reason", "rotated",
    ]);
    let at = head_seq(&s);
    let (code, report) = crate::fsck::fsck_json(&s, &[]);
    assert_eq!(code, 0);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "{findings:?}");
    for f in findings {
        assert_eq!(f["code"], "publisher-revoked");
        assert!(
            f["message"].as_str().unwrap().contains(&format!(
                "was admitted before its publisher key {publ} was retired (entry {at}): its signatures stay valid"
            )),
            "{f}"
        );
    }
    let list = json(&s, &["list"], "model-list.schema.json");
    assert!(
        list.as_array().unwrap().iter().all(|m| m["revoked_keys"]
            == serde_json::json!([{"fingerprint": publ, "as": "publisher", "revoked": at, "kind": "retired"}])
            && m.get("suspended").is_none()),
        "{list}"
    );
}

/// A copy of `tests/fixtures/format3` (a format-3 registry whose publisher was revoked with
/// the reason "COMPROMISED"), pinned, its keys 0600, and `det@1.0.0`'s artifact checked out
/// into `det/`.
fn format3() -> Sandbox {
    let s = crate::util::fixture("format3", &["root.pem", "op.pem", "pub.pem", "rep.pem"]);
    s.ok(&["checkout", "det@1.0.0", "-o", "det"]);
    s
}

#[test]
fn a_format_3_registry_reads_its_compromised_by_reason_publisher_as_retired_and_refuses_compromised()
 {
    let s = format3();
    let publ = crate::craft::load(&s, "pub.pem")
        .public()
        .fingerprint()
        .to_string();
    let op = crate::craft::load(&s, "op.pem")
        .public()
        .fingerprint()
        .to_string();
    // Entry 14 revoked the publisher with the reason "COMPROMISED": format 3 had no other way to
    // say it, and it reads as retirement (FORMAT.md §5.3).
    for extra in [&[][..], &["--slot", "prod"]] {
        let (allowed, code, err) = gate(&s, "det/model.onnx", extra);
        assert!(allowed && code == "promoted", "{extra:?}: {code}");
        assert!(
            err.contains(&format!(
                "det@1.0.0 rests on publisher key {publ}, retired at entry 14"
            )),
            "{err}"
        );
    }
    let show = s.ok(&["show", "det@1.0.0"]);
    assert!(
        show.lines()
            .any(|l| l == format!("revoked key: publisher key {publ}, retired at entry 14")),
        "{show}"
    );
    assert!(!show.contains("suspended"), "{show}");
    let v = json(&s, &["show", "det@1.0.0"], "model-record.schema.json");
    assert_eq!(v["revoked_keys"][0]["kind"], "retired");
    let log = s.ok(&["log"]);
    assert!(
        log.contains(&format!("key-revoke: revoke {publ} (retired)")),
        "{log}"
    );
    refused(
        &s,
        1,
        &[
            "key",
            "revoke",
            &op,
            "--compromised",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ],
        "revoking a key as compromised needs a registry of format 4 or later; this one is format 3",
        "a registry keeps the format it was made with; to use this, make a successor registry (`reg init --succeeds`, docs/GUIDE.md §8.4)",
    );

    // A compromised revocation forged into it is refused by replay.
    let entry = forge(
        &s,
        "root.pem",
        Body::KeyRevoke(KeyRevoke {
            compromised: true,
            fingerprint: op.parse().unwrap(),
            reason: "x".into(),
        }),
        |v| v["format_version"] = 4.into(),
        |v| {
            v["format_version"] = 3.into();
            v.as_object_mut().unwrap().remove("time");
        },
    );
    replay_refuses(
        &s,
        entry,
        "revoking a key as compromised needs a registry of format 4 or later",
        "det/model.onnx",
    );
}
