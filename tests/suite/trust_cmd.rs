//! `reg trust add|list|remove`: a host pins the registries it received, like ssh's known hosts,
//! after the fingerprint is shown and explained, and only the registry's genesis root.

use crate::gate_pin::second_host;
use crate::util::Sandbox;
use std::fs;

fn run(s: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let out = second_host(s).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn host2_pins(s: &Sandbox) -> serde_json::Value {
    let (code, out, err) = run(s, &["trust", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    crate::ingest::validate("trust-list.schema.json", &v);
    v
}

fn registry_id(s: &Sandbox, dot: &std::path::Path) -> String {
    let _ = s;
    fs::read_to_string(dot.join("ledger"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn trust_add_explains_the_fingerprint_and_pins_only_the_genesis_root() {
    let s = Sandbox::new();
    let (root, op, _) = s.init_with_roles();
    let id = registry_id(&s, &s.dot());
    let before = s.snapshot();
    // A wrong fingerprint (here: a key the registry trusts, but not its genesis root).
    let (code, out, err) = run(&s, &["trust", "add", &op, "--registry", "."]);
    assert_eq!(code, 1, "{out}{err}");
    for shown in [
        id.as_str(),
        root.as_str(),
        fs::canonicalize(s.dot()).unwrap().to_str().unwrap(),
        "out of band",
    ] {
        assert!(
            out.contains(shown),
            "`{shown}` is shown before pinning: {out}"
        );
    }
    assert!(
        err.contains(&format!(
            "the fingerprint given, {op}, is not the genesis root key of registry {id}"
        )) && err.contains("nothing was pinned"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert!(!s.join("host2/trust.json").exists());
    assert_eq!(before, s.snapshot());
    // Another root key the registry trusts later is not its genesis root either.
    let root2 = s.key("root2.pem");
    s.trust("root2.pem.pub", "root", "rotation");
    let (code, _, err) = run(&s, &["trust", "add", &root2]);
    assert_eq!(code, 1);
    assert!(err.contains("is not the genesis root key"), "{err}");
    assert!(!s.join("host2/trust.json").exists());
    // A malformed fingerprint is a usage error.
    let (code, _, _) = run(&s, &["trust", "add", "nothex"]);
    assert_eq!(code, 2);

    let (code, out, err) = run(&s, &["trust", "add", &root]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("pinned registry {id} (root {root})")),
        "{out}"
    );
    let pins = host2_pins(&s);
    assert_eq!(pins.as_array().unwrap().len(), 1, "{pins}");
    assert_eq!(pins[0]["registry"], id.as_str());
    assert_eq!(pins[0]["root"], root.as_str());
    assert_eq!(
        pins[0]["path"],
        fs::canonicalize(s.dot()).unwrap().to_str().unwrap()
    );
    // Pinned: no note about being checked only against itself; adding again changes nothing.
    let (code, _, err) = run(&s, &["ledger", "verify"]);
    assert_eq!(code, 0);
    assert!(!err.contains("not pinned"), "{err}");
    let trust = fs::read(s.join("host2/trust.json")).unwrap();
    let (code, out, _) = run(&s, &["trust", "add", &root]);
    assert_eq!(code, 0);
    assert!(out.contains("already pinned"), "{out}");
    assert_eq!(trust, fs::read(s.join("host2/trust.json")).unwrap());
    let (_, out, _) = run(&s, &["trust", "list"]);
    assert!(out.contains(&id) && out.contains(&root), "{out}");
}

#[test]
fn trust_add_refuses_a_path_pinned_to_another_registry() {
    let s = Sandbox::new();
    let root = s.init();
    let pinned = fs::read(s.trust_file()).unwrap();
    // The medium now holds somebody else's registry at the pinned path.
    let other = Sandbox::new();
    let other_root = other.init();
    for e in walkdir::WalkDir::new(s.dot()) {
        crate::util::make_writable(e.unwrap().path());
    }
    fs::remove_dir_all(s.dot()).unwrap();
    crate::util::cp_a(&other.dot(), &s.dot());
    let before = s.snapshot();
    let err = s.fails(1, &["trust", "add", &other_root]);
    assert!(err.contains("refusing a replaced registry"), "{err}");
    assert!(err.contains(&format!("(root {root})")), "{err}");
    assert_eq!(pinned, fs::read(s.trust_file()).unwrap());
    assert_eq!(before, s.snapshot());
}

#[test]
fn trust_remove_by_fingerprint_or_registry_id() {
    let s = Sandbox::new();
    let root = s.key("root.pem");
    for (i, site) in ["site-a", "site-b", "site-c"].iter().enumerate() {
        // Another clock each: the same root and clock would make the same registry.
        let out = s
            .reg()
            .env("SOURCE_DATE_EPOCH", format!("{}", 1_767_225_600 + i))
            .args(["init", site, "--root-key", "root.pem"])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let id = |site: &str| registry_id(&s, &s.join(&format!("{site}/.registry")));
    let list = |s: &Sandbox| -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_str(&s.ok(&["trust", "list", "--json"])).unwrap();
        crate::ingest::validate("trust-list.schema.json", &v);
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["registry"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(list(&s).len(), 3);

    // Nothing matches: refused, the trust file unchanged.
    let trust = fs::read(s.trust_file()).unwrap();
    let err = s.fails(1, &["trust", "remove", &"ab".repeat(32)]);
    assert!(err.contains("no pin in the host trust file"), "{err}");
    let err = s.fails(1, &["trust", "remove", &"cd".repeat(16)]);
    assert!(
        err.contains(&format!("root key {}", "cd".repeat(16))),
        "{err}"
    );
    s.fails(2, &["trust", "remove", "site-a"]);
    assert_eq!(trust, fs::read(s.trust_file()).unwrap());

    // By registry id.
    let out = s.ok(&["trust", "remove", &id("site-a")]);
    assert!(
        out.contains(&format!("removed the pin of registry {}", id("site-a"))),
        "{out}"
    );
    assert!(!list(&s).contains(&id("site-a")));
    // By root, narrowed to one registry with --registry.
    s.ok(&["trust", "remove", &root, "--registry", "site-b"]);
    assert_eq!(list(&s), vec![id("site-c")]);
    // By root: every remaining pin of that root.
    s.ok(&["trust", "remove", &root]);
    assert!(list(&s).is_empty());
    let out = s.ok(&["trust", "list"]);
    assert!(out.contains("no registry is pinned"), "{out}");
    // Unpinned now: the gate denies.
    fs::write(s.join("f.bin"), b"x").unwrap();
    let out = s
        .reg()
        .args(["--registry", "site-c", "check", "f.bin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("[unpinned]"));
}

#[test]
fn trust_add_pins_nothing_when_the_ledger_does_not_verify() {
    let s = Sandbox::new();
    let (root, _, _) = s.init_with_roles();
    // Someone with the medium altered a signed entry: the right fingerprint pins nothing.
    let entry = s.ledger_ids()[1].clone();
    let p = s.object_path(&entry);
    crate::util::make_writable(&p);
    let mut bytes = fs::read(&p).unwrap();
    bytes[40] ^= 1;
    fs::write(&p, bytes).unwrap();
    let before = s.snapshot();
    let (code, _, err) = run(&s, &["trust", "add", &root]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&entry), "{err}");
    assert!(!s.join("host2/trust.json").exists());
    assert_eq!(before, s.snapshot());
}

#[test]
fn a_trust_lock_that_is_a_link_or_a_fifo_is_refused_and_never_followed() {
    let s = Sandbox::new();
    let root = s.init();
    let code = s.ok(&["status", "--code"]).trim().to_string();
    let lock = s.join("host/trust.lock");
    assert!(lock.is_file(), "init made the lock");
    fs::create_dir(s.join("victim")).unwrap();
    let victim = s.join("victim/made-through-the-link");
    let existing = s.join("victim/existing");
    fs::write(&existing, b"someone's file").unwrap();
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
    for (target, found) in [
        (Some(&victim), "a symbolic link"),
        (Some(&existing), "a symbolic link"),
        (None, "a FIFO"),
    ] {
        fs::remove_file(&lock).unwrap();
        match target {
            Some(t) => std::os::unix::fs::symlink(t, &lock).unwrap(),
            None => {
                let ok = std::process::Command::new("mkfifo")
                    .arg(&lock)
                    .status()
                    .unwrap()
                    .success();
                assert!(ok);
            }
        }
        let host = || {
            (
                host_files(&s),
                crate::util::snapshot(&s.join("victim")),
                s.snapshot(),
            )
        };
        let before = host();
        for args in [
            &["trust", "remove", &root][..],
            &["trust", "add", &root, "--head", &code],
            &["init", "fresh", "--root-key", "root.pem"],
        ] {
            let o = s.reg().args(args).output().unwrap();
            assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
            assert!(
                text(&o).ends_with(&format!(
                    "error: the host trust file's lock `{0}` is {found}, not a regular file: reg opens it only as a file of its own, never through a link; nothing was changed\n\
                     hint: remove `{0}` (reg creates the lock itself), and check the trust file beside it: whoever could plant a link there could edit the pins too\n",
                    lock.display()
                )),
                "{args:?}: {}",
                text(&o)
            );
            assert!(!victim.exists(), "{args:?} created a file through the link");
            assert!(
                before == host(),
                "{args:?} changed the host or the registry"
            );
            assert!(!s.join("fresh").exists());
        }
    }
}

/// The host directory's entries, without following a link or opening a FIFO: a regular file's
/// bytes, a link's target, or the kind of anything else.
fn host_files(s: &Sandbox) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in fs::read_dir(s.join("host")).unwrap() {
        let e = e.unwrap();
        let ft = e.file_type().unwrap();
        let what = if ft.is_symlink() {
            fs::read_link(e.path())
                .unwrap()
                .into_os_string()
                .into_encoded_bytes()
        } else if ft.is_file() {
            fs::read(e.path()).unwrap()
        } else {
            format!("{ft:?}").into_bytes()
        };
        out.push((e.file_name().to_string_lossy().into_owned(), what));
    }
    out.sort();
    out
}
