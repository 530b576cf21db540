//! Trust is pinned on the host: a registry whose root of trust was replaced is refused.

use crate::util::Sandbox;
use std::fs;

/// Builds, in another sandbox (another host), a registry with another root key.
fn foreign_registry() -> Sandbox {
    let other = Sandbox::new();
    other.init_with_roles();
    other
}

fn replace_registry(victim: &Sandbox, with: &Sandbox) {
    fs::remove_dir_all(victim.dot()).unwrap_or_else(|_| {
        // Objects are read-only; make them writable first.
        for e in walkdir::WalkDir::new(victim.dot()) {
            crate::util::make_writable(e.unwrap().path());
        }
        fs::remove_dir_all(victim.dot()).unwrap();
    });
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(with.dot())
        .arg(victim.dot())
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_replaced_registry_is_refused_by_the_host_pin() {
    let s = Sandbox::new();
    let root = s.init_with_roles().0;
    s.ok(&["key", "list"]);
    let other = foreign_registry();
    replace_registry(&s, &other);
    let before = s.snapshot();
    for args in [
        &["key", "list"][..],
        &["ledger", "verify"],
        &[
            "key",
            "trust",
            "pub.pem.pub",
            "--role",
            "reporter",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ],
    ] {
        let err = s.fails(1, args);
        assert!(err.contains("refusing a replaced registry"), "{err}");
        assert!(err.contains(&format!("(root {root})")), "{err}");
    }
    assert_eq!(before, s.snapshot());
}

#[test]
fn an_explicit_pin_refuses_another_root() {
    let s = Sandbox::new();
    let root = s.init();
    let other = foreign_registry();
    let other_root = other
        .ok(&["key", "fingerprint", "root.pem"])
        .trim()
        .to_string();
    // By flag and by environment, on a host with no pin of its own for that registry.
    let err = other.fails(1, &["--trust", &root, "ledger", "verify"]);
    assert!(
        err.contains(&format!(
            "genesis root key is {other_root}, but this host pins {root}"
        )),
        "{err}"
    );
    let out = other
        .reg()
        .env("REG_TRUST", &root)
        .args(["key", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The right pin is accepted, and says nothing about being unpinned.
    let out = other
        .reg()
        .env("REG_TRUST", &other_root)
        .args(["ledger", "verify"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not pinned"));
}

#[test]
fn a_genesis_swapped_under_the_same_registry_id_is_refused() {
    // Keep config.json (the pinned id) but swap in another registry's objects and ledger.
    let s = Sandbox::new();
    s.init();
    let config = fs::read(s.dot().join("config.json")).unwrap();
    let other = foreign_registry();
    replace_registry(&s, &other);
    fs::write(s.dot().join("config.json"), config).unwrap();
    let err = s.fails(1, &["ledger", "verify"]);
    assert!(err.starts_with("error: "), "{err}");
}

#[test]
fn an_unpinned_registry_says_it_was_checked_only_against_itself() {
    let s = Sandbox::new();
    s.init();
    fs::remove_file(s.trust_file()).unwrap();
    let out = s.reg().args(["ledger", "verify"]).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not pinned on this host; it was checked only against itself"),
        "{err}"
    );
}

#[test]
fn init_pins_the_registry_in_the_host_trust_file() {
    let s = Sandbox::new();
    let root = s.init();
    let pins: serde_json::Value =
        serde_json::from_slice(&fs::read(s.trust_file()).unwrap()).unwrap();
    let pin = &pins["pins"][0];
    assert_eq!(pin["root"], root.as_str());
    assert_eq!(
        pin["registry"],
        fs::read_to_string(s.dot().join("ledger"))
            .unwrap()
            .lines()
            .next()
            .unwrap()
    );
    assert_eq!(
        pin["path"],
        fs::canonicalize(s.dot()).unwrap().to_str().unwrap()
    );
}
