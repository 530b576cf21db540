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
    crate::util::cp_a(&with.dot(), &victim.dot());
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
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "genesis root key is {other_root}, but this host pins {root}"
        )),
        "{err}"
    );
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
    let genesis = s.ledger_ids()[0].clone();
    let genesis_bytes = fs::read(s.object_path(&genesis)).unwrap();
    let other = foreign_registry();
    replace_registry(&s, &other);
    fs::write(s.dot().join("config.json"), config).unwrap();
    let err = s.fails(1, &["ledger", "verify"]);
    assert!(
        err.contains(&format!(
            "registry id {genesis}: object {genesis} is missing from the store"
        )),
        "{err}"
    );
    // With the genuine genesis object planted too (it is no secret): the ledger does not start
    // with it.
    let p = s.object_path(&genesis);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, genesis_bytes).unwrap();
    let err = s.fails(1, &["ledger", "verify"]);
    assert!(
        err.contains(&format!(
            "ledger file line 0: the first entry is not the genesis {genesis} named by config.json"
        )),
        "{err}"
    );
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

fn clear(dot: &std::path::Path) {
    for e in walkdir::WalkDir::new(dot) {
        crate::util::make_writable(e.unwrap().path());
    }
    fs::remove_dir_all(dot).unwrap();
}

#[test]
fn an_older_copy_of_a_registry_is_refused_as_a_rollback() {
    let s = Sandbox::new();
    s.init_with_roles();
    crate::util::cp_a(&s.dot(), &s.join("old"));
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    // Someone puts the older (genuine, fully valid) copy back in place.
    clear(&s.dot());
    crate::util::cp_a(&s.join("old"), &s.dot());
    for args in [&["key", "list"][..], &["ledger", "verify"]] {
        let err = s.fails(1, args);
        assert!(
            err.contains("refusing a rolled-back or forked registry"),
            "{err}"
        );
    }
    // On a host that never saw the newer one, the old copy is simply a valid registry.
    fs::remove_dir_all(s.join("home/.local/state/reg")).unwrap();
    s.ok(&["ledger", "verify"]);
}

#[test]
fn a_forked_registry_is_refused() {
    let s = Sandbox::new();
    s.init_with_roles();
    fs::create_dir(s.join("fork")).unwrap();
    crate::util::cp_a(&s.dot(), &s.join("fork/.registry"));
    s.key("a.pem");
    s.key("b.pem");
    s.trust("a.pem.pub", "reporter", "branch a");
    // The fork gets another entry at the same position, written elsewhere.
    let elsewhere = s
        .reg()
        .env("REG_STATE_DIR", s.join("other-host"))
        .args([
            "--registry",
            "fork",
            "key",
            "trust",
            "b.pem.pub",
            "--role",
            "reporter",
            "--key",
            "root.pem",
            "--reason",
            "branch b",
        ])
        .output()
        .unwrap();
    assert!(
        elsewhere.status.success(),
        "{}",
        String::from_utf8_lossy(&elsewhere.stderr)
    );
    clear(&s.dot());
    crate::util::cp_a(&s.join("fork/.registry"), &s.dot());
    let err = s.fails(1, &["key", "list"]);
    assert!(
        err.contains("refusing a rolled-back or forked registry"),
        "{err}"
    );
}

#[test]
fn a_planted_index_is_not_believed_by_a_reader() {
    // An index that does not hash to the signed checkpoint's state is ignored: the state is
    // replayed from the signed ledger instead.
    let s = Sandbox::new();
    s.init_with_roles();
    let path = s.dot().join("index/state.json");
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("\"operator\"", "\"root\"");
    fs::write(&path, text).unwrap();
    let list = s.ok(&["key", "list", "--json"]);
    let keys: serde_json::Value = serde_json::from_str(&list).unwrap();
    let roots = keys
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["roles"][0] == "root")
        .count();
    assert_eq!(roots, 1, "{list}");
}

#[test]
fn concurrent_inits_on_one_host_keep_every_pin() {
    let s = Sandbox::new();
    s.key("root.pem");
    let children: Vec<_> = (0..6)
        .map(|i| {
            let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("reg"));
            for (k, v) in s.reg().get_envs() {
                if let Some(v) = v {
                    c.env(k, v);
                }
            }
            // Another clock each: the same root and clock would make the same registry (one id).
            c.env("SOURCE_DATE_EPOCH", format!("{}", 1_767_225_600 + i))
                .current_dir(s.path())
                .args(["init", &format!("site-{i}"), "--root-key", "root.pem"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        assert!(c.wait_with_output().unwrap().status.success());
    }
    let pins: serde_json::Value =
        serde_json::from_slice(&fs::read(s.trust_file()).unwrap()).unwrap();
    assert_eq!(pins["pins"].as_array().unwrap().len(), 6, "{pins:#}");
}
