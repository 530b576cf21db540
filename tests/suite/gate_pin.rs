//! The gate fails closed on a host that has not pinned the registry: a medium can carry a
//! registry made with anybody's root key, and such a registry vouches for whatever it likes.

use crate::util::Sandbox;
use assert_cmd::Command;
use std::fs;

/// A registry with det@1.0.0 PROMOTED and active in slot `ransomware`; returns its root.
pub fn setup() -> (Sandbox, String) {
    let s = Sandbox::new();
    let root = s.init_with_roles().0;
    s.add_model("det", "1.0.0", &[("rules.yar", "rule det {}".into())]);
    for args in [
        &["promote", "det@1.0.0", "--reason", "ok"][..],
        &["activate", "ransomware", "det@1.0.0", "--reason", "live"],
    ] {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--key", "op.pem"]);
        s.ok(&a);
    }
    (s, root)
}

/// `reg` as a second host sees it: its own (empty) trust file and state.
pub fn second_host(s: &Sandbox) -> Command {
    let mut c = s.reg();
    c.env("REG_TRUST_FILE", s.join("host2/trust.json"))
        .env("REG_STATE_DIR", s.join("host2/state"));
    c
}

fn run(mut c: Command, args: &[&str]) -> (i32, String, String) {
    let out = c.args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

pub const FILE: &str = "m-det-1.0.0/rules.yar";

#[test]
fn an_unpinned_registry_denies_every_file_with_code_unpinned() {
    let (s, root) = setup();
    // The first host (which pinned it at init) allows the file.
    let (code, out, _) = run(s.reg(), &["check", "--slot", "ransomware", FILE]);
    assert_eq!(code, 0, "{out}");
    let before = s.snapshot();
    let (code, out, err) = run(second_host(&s), &["check", "--slot", "ransomware", FILE]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with("DENY")
            && out.contains("is not pinned on this host")
            && out.contains("[unpinned]"),
        "{out}"
    );
    assert!(!out.contains("ALLOW"), "{out}");
    assert!(
        err.contains("hint:") && err.contains("reg trust add FINGERPRINT"),
        "{err}"
    );
    assert!(
        err.contains(&root),
        "the hint names the registry's root: {err}"
    );
    // JSON carries the code; every scope is denied alike.
    for scope in [
        &["--slot", "ransomware"][..],
        &["--model", "det@1.0.0"],
        &[],
    ] {
        let mut a = vec!["check", "--json"];
        a.extend_from_slice(scope);
        a.push(FILE);
        let (code, out, _) = run(second_host(&s), &a);
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        crate::ingest::validate("check.schema.json", &v);
        assert_eq!(v[0]["allowed"], false);
        assert_eq!(v[0]["code"], "unpinned");
    }
    assert_eq!(before, s.snapshot());
    assert!(!s.join("host2/trust.json").exists(), "nothing was pinned");
}

#[test]
fn a_registry_made_with_anybodys_key_is_denied_on_a_second_host() {
    // The attacker's own registry, with the attacker's own root key, approves the attacker's
    // file; a host that never pinned it is handed the medium.
    let (evil, _) = setup();
    let mut c = second_host(&evil);
    c.env("REG_TRUST_FILE", evil.join("victim/trust.json"))
        .env("REG_STATE_DIR", evil.join("victim/state"));
    let (code, out, _) = run(c, &["check", "--slot", "ransomware", FILE]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("DENY") && out.contains("[unpinned]"),
        "{out}"
    );
}

#[test]
fn allow_unpinned_decides_and_warns() {
    let (s, _) = setup();
    let before = s.snapshot();
    let (code, out, err) = run(
        second_host(&s),
        &["check", "--allow-unpinned", "--slot", "ransomware", FILE],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("ALLOW") && out.contains("[promoted]"),
        "{out}"
    );
    assert!(
        err.contains("warning:") && err.contains("--allow-unpinned"),
        "{err}"
    );
    let (_, out, _) = run(
        second_host(&s),
        &["check", "--json", "--allow-unpinned", FILE],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    crate::ingest::validate("check.schema.json", &v);
    assert!(
        v[0]["warning"]
            .as_str()
            .unwrap()
            .contains("not pinned on this host"),
        "{v}"
    );
    // Still the registry's rules: a file of no model is denied for its own reason.
    fs::write(s.join("other.bin"), b"other").unwrap();
    let (code, out, _) = run(second_host(&s), &["check", "--allow-unpinned", "other.bin"]);
    assert_eq!(code, 1);
    assert!(out.contains("[not-registered]"), "{out}");
    assert_eq!(before, s.snapshot());
}

#[test]
fn pinning_with_trust_or_trust_add_makes_the_same_check_allow() {
    let (s, root) = setup();
    let (code, _, _) = run(second_host(&s), &["check", "--slot", "ransomware", FILE]);
    assert_eq!(code, 1);
    // An explicit pin is a pin.
    let (code, out, err) = run(
        second_host(&s),
        &["--trust", &root, "check", "--slot", "ransomware", FILE],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("not pinned"), "{err}");
    let (code, _, err) = run(second_host(&s), &["trust", "add", &root, "--registry", "."]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(second_host(&s), &["check", "--slot", "ransomware", FILE]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("ALLOW") && out.contains("(det@1.0.0)"),
        "{out}"
    );
    assert!(err.is_empty(), "{err}");
}

#[test]
fn the_library_gate_fails_closed_on_an_unpinned_registry() {
    use reg::gate::{Code, Gate, GateError, GateOptions, Scope, open_verified};
    let (s, root) = setup();
    let open = |explicit: Option<&str>| {
        reg::repo::registry::Registry::open(
            &s.dot(),
            &reg::OpenOptions::new(reg::repo::trust::TrustOptions::new(
                s.join("host2/trust.json"),
                reg::repo::trust::HostState::new(s.join("host2/state")),
            ))
            .with_trust(explicit.map(|f| f.parse().unwrap())),
        )
        .unwrap()
    };
    let file = s.join(FILE);
    let scope = Scope::Slot("ransomware".into());
    let unpinned = open(None);
    match open_verified(&unpinned, &file, &scope, GateOptions::default()) {
        Err(GateError::Denied(d)) => {
            assert_eq!(d.code, Code::Unpinned);
            assert!(d.model.is_none() && d.record.is_none());
        }
        other => panic!("an unpinned registry must deny: {other:?}"),
    }
    let gate = Gate::new(&unpinned, GateOptions::default().with_allow_unpinned(true)).unwrap();
    assert!(!gate.pinned());
    let ok = gate.open_verified(&file, &scope).unwrap();
    assert_eq!(ok.decision.code, Code::Promoted);
    assert!(ok.decision.warning.unwrap().contains("not pinned"));
    let pinned = open(Some(&root));
    let ok = open_verified(&pinned, &file, &scope, GateOptions::default()).unwrap();
    assert!(ok.decision.allowed && ok.decision.warning.is_none());
}
