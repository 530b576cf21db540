//! First contact: a host that has never seen a registry can be handed a truncated history (an
//! older genuine copy, or one cut and re-checkpointed by any single key that signed its head).
//! A pin that carries a minimum head, read between the sites out of band (`reg status --code`
//! into `reg trust add --head`), refuses it; and the checkpoint is believed only when signed by
//! its head entry's signer, on the fast path as in the full replay.

use crate::util::Sandbox;
use std::fs;
use std::path::{Path, PathBuf};

fn op(s: &Sandbox, args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--key", "op.pem"]);
    s.ok(&a)
}

/// A copy of the sandbox's `.registry` at `name`, as carried on a medium.
fn carry(s: &Sandbox, name: &str) -> PathBuf {
    let dest = s.join(name);
    fs::create_dir(&dest).unwrap();
    crate::util::cp_a(&s.dot(), &dest);
    dest
}

/// Site A: a promoted, active model; a copy of the medium after an operator's entry, another
/// after a reporter's; then the model is revoked. Returns the site, its root fingerprint and the
/// two older copies.
fn site_a() -> (Sandbox, String, PathBuf, PathBuf) {
    let s = Sandbox::new();
    let (root, _, _) = s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    op(&s, &["promote", "det@1.0.0", "--reason", "ok"]);
    op(
        &s,
        &["activate", "ransomware", "det@1.0.0", "--reason", "live"],
    );
    let by_operator = carry(&s, "old-op"); // its checkpoint is signed by the operator
    let obs = serde_json::json!({
        "window": {"start": "2026-10-01T00:00:00Z", "end": "2026-10-02T00:00:00Z"},
        "baseline": "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
        "metrics": [{"name": "psi-main", "kind": "psi", "value": 0.5}],
        "samples": 100
    });
    fs::write(s.join("obs.json"), obs.to_string()).unwrap();
    s.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    let by_reporter = carry(&s, "old-rep"); // signed by the reporter
    op(
        &s,
        &[
            "revoke",
            "det@1.0.0",
            "--reason",
            "backdoored",
            "--deactivate",
        ],
    );
    (s, root, by_operator, by_reporter)
}

/// `reg` as a second host: its own trust file and state directory.
fn host_b(s: &Sandbox, state: &str, args: &[&str]) -> std::process::Output {
    s.reg()
        .env("REG_TRUST_FILE", s.join("host-b/trust.json"))
        .env("REG_STATE_DIR", s.join(state))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn at(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn status_code_read_back_into_trust_add_refuses_truncated_media_on_first_contact() {
    let (s, root, by_operator, by_reporter) = site_a();
    // Site A reads its head code to site B over the phone.
    let code = s.ok(&["status", "--code"]).trim().to_string();
    assert!(
        code.starts_with(&format!("{}-", s.ledger_ids().len() - 1)),
        "{code}"
    );
    // Without the code, a first-contact host accepts the truncated history: the revoked model
    // is still active there. That is what first contact cannot know.
    for old in [&by_operator, &by_reporter] {
        let o = host_b(
            &s,
            "b-naive",
            &["--trust", &root, "--registry", at(old), "status"],
        );
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("det@1.0.0"));
        let _ = fs::remove_dir_all(s.join("b-naive"));
    }
    // With the code, trust add refuses to pin either truncated medium, and pins nothing.
    for old in [&by_operator, &by_reporter] {
        let o = host_b(
            &s,
            "b1",
            &[
                "--registry",
                at(old),
                "trust",
                "add",
                &root,
                "--head",
                &code,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("older or was cut"), "{}", text(&o));
        assert!(
            !s.join("host-b/trust.json").exists() || {
                let t = fs::read_to_string(s.join("host-b/trust.json")).unwrap();
                !t.contains(&code[..4])
            }
        );
    }
    // The current medium pins, with the floor.
    let current = carry(&s, "current");
    let o = host_b(
        &s,
        "b2",
        &[
            "--registry",
            at(&current),
            "trust",
            "add",
            &root,
            "--head",
            &code,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("history contains entry"), "{}", text(&o));
    let list = host_b(&s, "b2", &["trust", "list", "--json"]);
    let pins: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        pins[0]["floor"]["seq"].as_u64().unwrap() as usize,
        s.ledger_ids().len() - 1
    );
    // A truncated copy of the same registry handed to this host later, even with a fresh
    // state directory (no rollback record), is refused by the pin's floor.
    for (i, old) in [&by_operator, &by_reporter].into_iter().enumerate() {
        let before = crate::util::snapshot(old);
        let state = format!("b-fresh-{i}");
        let o = host_b(&s, &state, &["--registry", at(old), "status"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("its pin on this host requires"),
            "{}",
            text(&o)
        );
        let o = host_b(
            &s,
            &state,
            &[
                "--registry",
                at(old),
                "check",
                "--slot",
                "ransomware",
                at(&s.join("m-det-1.0.0/rules.yar")),
            ],
        );
        assert_ne!(o.status.code(), Some(0), "{}", text(&o));
        let o = host_b(&s, &state, &["--registry", at(old), "ledger", "verify"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert_eq!(crate::util::snapshot(old), before);
    }
    // The current medium reads.
    let o = host_b(&s, "b3", &["--registry", at(&current), "status"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn trust_add_with_a_full_head_id_or_a_seq_sets_the_floor() {
    let (s, root, by_operator, _) = site_a();
    let ids = s.ledger_ids();
    let head = ids.last().unwrap().clone();
    let current = carry(&s, "current");
    // A full id is looked up in the verified ledger.
    let o = host_b(
        &s,
        "b1",
        &[
            "--registry",
            at(&by_operator),
            "trust",
            "add",
            &root,
            "--head",
            &head,
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is not in this registry's history"),
        "{}",
        text(&o)
    );
    let o = host_b(
        &s,
        "b1",
        &[
            "--registry",
            at(&current),
            "trust",
            "add",
            &root,
            "--seq",
            &format!("{}", ids.len() - 1),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = host_b(&s, "b-fresh", &["--registry", at(&by_operator), "list"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("only"), "{}", text(&o));
}

#[test]
fn a_checkpoint_re_signed_by_another_trusted_key_is_refused_on_the_fast_path() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    op(&s, &["promote", "det@1.0.0", "--reason", "ok"]);
    // This host verified the registry: reads now take the fast path.
    s.ok(&["list"]);
    let path = s.dot().join("checkpoint");
    let (_, cp) = reg::repo::ledger::read_checkpoint(&path).unwrap();
    // The publisher key is trusted, but it did not sign the head entry (the operator did).
    let publisher = crate::craft::load(&s, "pub.pem");
    let forged =
        reg::crypto::envelope::sign(reg::crypto::envelope::Kind::Checkpoint, &cp, &publisher)
            .unwrap();
    fs::write(&path, forged).unwrap();
    for args in [&["list"][..], &["status"], &["ledger", "verify"]] {
        let err = s.fails(1, args);
        assert!(
            err.contains("checkpoint: signature does not verify")
                || err.contains("head entry's signer"),
            "{args:?}: {err}"
        );
    }
}
