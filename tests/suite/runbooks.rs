//! The security officer's runbooks of docs/GUIDE.md §8, run end to end as written, on registries
//! built by the CLI: a compromised publisher (§8.1), a malicious model found in service (§8.2)
//! and every root key lost (§8.4). The root rotation of §8.3 is
//! `duties_time::a_root_rotation_hands_out_a_head_floor_that_refuses_what_the_old_root_signs_since`.
//! Each step asserts what the gate says, with its reason code, since that is what the runbook
//! is for.

use crate::util::{Sandbox, pack_args};
use serde_json::Value;

/// `reg check FILE [extra]... --json`: (allowed, code) of the one decision.
fn gate(s: &Sandbox, file: &str, extra: &[&str]) -> (bool, String) {
    let mut args = vec!["check", file, "--json"];
    args.extend_from_slice(extra);
    let out = s.reg().args(&args).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let d = &v[0];
    assert_eq!(
        out.status.success(),
        d["allowed"].as_bool().unwrap(),
        "exit status follows the decision"
    );
    (
        d["allowed"].as_bool().unwrap(),
        d["code"].as_str().unwrap().to_string(),
    )
}

fn allowed(s: &Sandbox, file: &str, extra: &[&str]) {
    assert_eq!(gate(s, file, extra), (true, "promoted".into()), "{file}");
}

fn denied(s: &Sandbox, file: &str, extra: &[&str], code: &str) {
    assert_eq!(gate(s, file, extra), (false, code.into()), "{file}");
}

/// A site with `det@1.0.0` active in slot `prod` and `aux@1.0.0` promoted, both published by
/// `pub.pem` and admitted and promoted by `op.pem`.
fn site() -> (Sandbox, String) {
    let s = Sandbox::new();
    let (_, _, publ) = s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule det { condition: true }\n".into())],
    );
    s.add_model(
        "aux",
        "1.0.0",
        &[("extra.yar", "rule extra { condition: false }\n".into())],
    );
    for m in ["det@1.0.0", "aux@1.0.0"] {
        s.ok(&["promote", m, "--reason", "validated", "--key", "op.pem"]);
    }
    s.ok(&[
        "activate",
        "prod",
        "det@1.0.0",
        "--reason",
        "go live",
        "--key",
        "op.pem",
    ]);
    (s, publ)
}

#[test]
fn runbook_a_compromised_publisher_suspends_its_models_until_an_operator_reapproves_them() {
    let (s, publ) = site();
    let det = "m-det-1.0.0/rules.yar";
    let aux = "m-aux-1.0.0/extra.yar";
    allowed(&s, det, &["--slot", "prod"]);
    let out = s.ok(&[
        "key",
        "revoke",
        &publ,
        "--compromised",
        "--reason",
        "key found on a shared drive",
        "--key",
        "root.pem",
    ]);
    assert!(
        out.contains("det@1.0.0") && out.contains("aux@1.0.0"),
        "{out}"
    );
    // From this entry on the gate denies both, in the slot too; nothing waited for an operator.
    denied(&s, det, &["--slot", "prod"], "suspended");
    denied(&s, aux, &[], "suspended");
    let list = s.ok(&["list"]);
    assert!(
        list.contains("SUSPENDED") || list.contains("suspended"),
        "{list}"
    );
    let status = s.ok(&["status"]);
    assert!(status.contains("SUSPENDED"), "{status}");
    let fsck = s.reg().arg("fsck").output().unwrap();
    let report = String::from_utf8_lossy(&fsck.stdout);
    assert!(report.contains("model-suspended"), "{report}");
    assert!(report.contains("suspended-active"), "{report}");
    // Checked against a trusted copy: det is re-approved; aux cannot be verified and goes.
    s.ok(&[
        "reapprove",
        "det@1.0.0",
        "--reason",
        "artifacts match the vendor's release hashes",
        "--key",
        "op.pem",
    ]);
    allowed(&s, det, &["--slot", "prod"]);
    s.ok(&[
        "revoke",
        "aux@1.0.0",
        "--reason",
        "cannot be verified",
        "--key",
        "op.pem",
    ]);
    denied(&s, aux, &[], "revoked");
    let log = s.ok(&["log"]);
    assert!(
        log.contains("as compromised") && log.contains("re-approve"),
        "{log}"
    );
    s.ok(&["ledger", "verify"]);
    let fsck = s.reg().arg("fsck").output().unwrap();
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stdout)
    );
}

#[test]
fn runbook_a_malicious_model_found_in_service_stays_denied_under_any_name() {
    let (s, _) = site();
    let evil = "m-det-1.0.0/rules.yar";
    s.ok(&[
        "revoke",
        "det@1.0.0",
        "--deactivate",
        "--deny-bytes",
        "--reason",
        "exfiltration payload",
        "--key",
        "op.pem",
    ]);
    s.ok(&[
        "purge",
        "det@1.0.0",
        "--reason",
        "destroy the payload",
        "--key",
        "op.pem",
    ]);
    let hash = blake3::hash(&std::fs::read(s.join(evil)).unwrap())
        .to_hex()
        .to_string();
    assert!(s.ok(&["deny", "list"]).contains(&hash));
    denied(&s, evil, &[], "denied");
    // The same bytes packed again under another name: refused, nothing written.
    let args = pack_args("m-det-1.0.0", "again.tar", "pub.pem", "innocent", "9.9.9");
    s.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let before = s.snapshot();
    let err = s.fails(1, &["add", "again.tar", "--key", "op.pem"]);
    assert!(err.contains("denied"), "{err}");
    assert_eq!(before, s.snapshot());
    denied(&s, evil, &[], "denied");
    // Only root lifts the denial, with a reason; then the bytes may come back under review.
    s.fails(
        1,
        &["deny", "lift", &hash, "--reason", "mine", "--key", "op.pem"],
    );
    s.ok(&[
        "deny",
        "lift",
        &hash,
        "--reason",
        "false positive, vendor advisory 2031-7",
        "--key",
        "root.pem",
    ]);
    s.ok(&["add", "again.tar", "--key", "op.pem"]);
    denied(&s, evil, &[], "not-approved");
    s.ok(&["ledger", "verify"]);
}

#[test]
fn runbook_every_root_key_lost_a_successor_readmits_the_models_from_their_signed_records() {
    let (s, _) = site();
    let det = "m-det-1.0.0/rules.yar";
    // root.pem is lost: nothing in the old registry can change any more. A new root makes the
    // successor, which names the old registry and the head this host verified.
    std::fs::remove_file(s.join("root.pem")).unwrap();
    s.key("newroot.pem");
    s.ok(&[
        "init",
        "site-b",
        "--root-key",
        "newroot.pem",
        "--succeeds",
        ".registry",
    ]);
    let b = ["--registry", "site-b"];
    let with_b = |args: &[&str]| -> Vec<String> {
        args.iter().chain(b.iter()).map(|a| a.to_string()).collect()
    };
    let run = |args: &[&str]| {
        let v = with_b(args);
        s.ok(&v.iter().map(String::as_str).collect::<Vec<_>>())
    };
    for (k, role) in [("op.pem.pub", "operator"), ("pub.pem.pub", "publisher")] {
        run(&[
            "key",
            "trust",
            k,
            "--role",
            role,
            "--key",
            "newroot.pem",
            "--reason",
            "carried over",
        ]);
    }
    let status = run(&["status"]);
    assert!(status.contains("succeeds registry"), "{status}");
    // The model comes over from its original signed record, byte for byte.
    s.ok(&["checkout", "det@1.0.0", "--bundle", "det.tar"]);
    let added = run(&["add", "det.tar", "--key", "op.pem"]);
    let old_record = s.ok(&["list", "--json"]);
    let old: Value = serde_json::from_str(&old_record).unwrap();
    let det_id = old
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "det")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(added.contains(&det_id), "the same record: {added}");
    run(&[
        "promote",
        "det@1.0.0",
        "--reason",
        "carried over from site-a",
        "--key",
        "op.pem",
    ]);
    let out = s
        .reg()
        .args(["check", det, "--json", "--registry", "site-b"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["code"], "promoted");
    assert_eq!(v[0]["record"], det_id.as_str());
    // The successor's genesis is in its ledger, signed by the new root.
    let log = run(&["log"]);
    assert!(log.contains("succeeds"), "{log}");
    run(&["ledger", "verify"]);
}
