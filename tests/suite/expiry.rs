//! A policy can make checkpoints expire, so that a stale medium stops working by itself: readers
//! refuse it until the home site re-signs it (`reg renew`, or any write).

use crate::util::{EPOCH, Sandbox};

/// `SOURCE_DATE_EPOCH` `days` after the sandbox's clock.
fn later(days: u64) -> String {
    (EPOCH.parse::<u64>().unwrap() + days * 86_400).to_string()
}

fn at(s: &Sandbox, days: u64, args: &[&str]) -> std::process::Output {
    s.reg()
        .env("SOURCE_DATE_EPOCH", later(days))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn an_expired_checkpoint_is_refused_until_it_is_re_signed() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.ok(&[
        "policy",
        "set",
        "--checkpoint-max-age",
        "30",
        "--key",
        "root.pem",
        "--reason",
        "media older than a month must not be used",
    ]);
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    assert!(
        s.ok(&["policy", "show"])
            .contains("checkpoint expires after: 30 days")
    );
    // Within the limit: readable.
    assert!(at(&s, 30, &["list"]).status.success());
    // Past it: every reader refuses, and fsck fails naming the checkpoint.
    let before = s.snapshot();
    for args in [
        &["list"][..],
        &["status"],
        &["show", "det@1.0.0"],
        &["log"],
        &["ledger", "verify"],
        &["ledger", "export"],
    ] {
        let o = at(&s, 31, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("more than the 30 days its policy allows"),
            "{err}"
        );
        assert!(err.contains("hint: at the registry's home site"), "{err}");
    }
    let o = at(&s, 31, &["fsck", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "checkpoint-expired")
    );
    assert_eq!(s.snapshot(), before, "refusing changed nothing");
    // Only the head entry's signer (the operator who added the model) may re-sign it.
    let o = at(&s, 31, &["renew", "--key", "pub.pem"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("head entry's signer"));
    assert_eq!(s.snapshot(), before);
    let o = at(&s, 31, &["renew", "--key", "op.pem"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(at(&s, 31, &["list"]).status.success());
    assert!(at(&s, 31, &["ledger", "verify"]).status.success());
    // And later again, a write re-signs it as well.
    assert_eq!(at(&s, 70, &["list"]).status.code(), Some(1));
    let o = at(
        &s,
        70,
        &["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(at(&s, 70, &["list"]).status.success());
}

#[test]
fn the_policy_refuses_a_zero_or_absurd_age() {
    let s = Sandbox::new();
    s.init();
    for days in ["0", "36501"] {
        let o = s
            .reg()
            .args([
                "policy",
                "set",
                "--checkpoint-max-age",
                days,
                "--key",
                "root.pem",
                "--reason",
                "x",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{days}");
    }
}
