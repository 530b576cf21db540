//! `reg clone` (FORMAT.md §11.12): a new site made from a medium is verified from genesis
//! against a root this host trusts, pinned, and then advances by `reg import`; without a
//! trusted root, or from a damaged or partial medium, no registry is made.

use crate::util::{Sandbox, snapshot};
use std::fs;

/// Home site A with two models, one promoted and active, exported in full as `full.regx`.
fn home() -> (Sandbox, String) {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    a.add_model("beta", "2.0.0", &[("b.yar", "rule b {}".into())]);
    a.promote("alpha@1.0.0");
    a.ok(&[
        "activate",
        "detect",
        "alpha@1.0.0",
        "--reason",
        "go",
        "--key",
        "op.pem",
    ]);
    a.ok(&["export", "full.regx"]);
    (a, root)
}

/// Nothing was made at `b/site`, and `b`'s host trust and state are as they were.
fn nothing_made(
    b: &Sandbox,
    host_before: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>,
) {
    let site = b.join("site");
    if site.exists() {
        let left: Vec<_> = fs::read_dir(&site)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "a refused clone left {left:?}");
    }
    assert_eq!(
        &snapshot(b.path())
            .into_iter()
            .filter(|(p, _)| p.starts_with("host") || p.starts_with("home"))
            .collect::<std::collections::BTreeMap<_, _>>(),
        host_before
    );
}

fn host(b: &Sandbox) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    snapshot(b.path())
        .into_iter()
        .filter(|(p, _)| p.starts_with("host") || p.starts_with("home"))
        .collect()
}

#[test]
fn a_clone_from_a_full_transfer_file_is_the_home_registry_pinned_and_importing() {
    let (a, root) = home();
    let b = Sandbox::new();
    fs::copy(a.join("full.regx"), b.join("full.regx")).unwrap();
    let out = b.ok(&["clone", "full.regx", "site", "--trust", &root]);
    assert!(out.contains("2 model(s)"), "{out}");
    assert!(out.contains(&format!("pinned to root {root}")), "{out}");
    let reg = ["--registry", "site"];
    let fsck = b.ok(&[&reg[..], &["fsck"]].concat());
    assert!(fsck.contains("PASS"), "{fsck}");
    for f in ["ledger", "checkpoint", "config.json", "index/state.json"] {
        assert_eq!(
            fs::read(b.join(&format!("site/.registry/{f}"))).unwrap(),
            fs::read(a.dot().join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(
        snapshot(&b.join("site/.registry/objects")),
        snapshot(&a.dot().join("objects"))
    );
    assert_eq!(
        snapshot(&b.join("site/.registry/refs")),
        snapshot(&a.dot().join("refs"))
    );
    assert!(fs::read_to_string(b.trust_file()).unwrap().contains(&root));

    // The clone is a replica: it advances by importing what the home site adds.
    a.ok(&[
        "deprecate",
        "alpha@1.0.0",
        "--reason",
        "old",
        "--key",
        "op.pem",
    ]);
    fs::copy(b.join("site/.registry/checkpoint"), a.join("b.checkpoint")).unwrap();
    a.ok(&["export", "next.regx", "--since", "b.checkpoint"]);
    fs::copy(a.join("next.regx"), b.join("next.regx")).unwrap();
    let out = b.ok(&[&reg[..], &["import", "next.regx"]].concat());
    assert!(out.contains("PROMOTED -> DEPRECATED"), "{out}");
    assert_eq!(
        fs::read(b.join("site/.registry/ledger")).unwrap(),
        fs::read(a.dot().join("ledger")).unwrap()
    );
}

#[test]
fn a_clone_from_a_registry_directory_streams_its_export() {
    let (a, root) = home();
    let b = Sandbox::new();
    let src = a.path().to_str().unwrap();
    b.ok(&["clone", src, "site", "--trust", &root]);
    assert_eq!(
        fs::read(b.join("site/.registry/ledger")).unwrap(),
        fs::read(a.dot().join("ledger")).unwrap()
    );
    assert!(b.ok(&["--registry", "site", "fsck"]).contains("PASS"));
}

#[test]
fn without_a_trusted_root_the_clone_is_refused_naming_the_root_to_check() {
    let (a, root) = home();
    let b = Sandbox::new();
    fs::copy(a.join("full.regx"), b.join("full.regx")).unwrap();
    let before = host(&b);
    let err = b.fails(1, &["clone", "full.regx", "site"]);
    assert!(err.contains(&format!("signed by {root}")), "{err}");
    assert!(
        err.contains(&format!("--trust {root}")),
        "the hint shows the way: {err}"
    );
    nothing_made(&b, &before);
    // From a registry directory, the same.
    let err = b.fails(1, &["clone", a.path().to_str().unwrap(), "site"]);
    assert!(err.contains(&format!("signed by {root}")), "{err}");
    nothing_made(&b, &before);
}

#[test]
fn a_clone_checked_against_another_root_is_refused() {
    let (a, _) = home();
    let b = Sandbox::new();
    let other = b.key("other.pem");
    fs::copy(a.join("full.regx"), b.join("full.regx")).unwrap();
    let before = host(&b);
    let err = b.fails(1, &["clone", "full.regx", "site", "--trust", &other]);
    assert!(err.contains(&other), "{err}");
    nothing_made(&b, &before);
}

#[test]
fn a_partial_or_forged_medium_makes_no_registry() {
    let (a, root) = home();
    let b = Sandbox::new();
    a.ok(&["export", "inc.regx", "--since-seq", "3"]);
    fs::copy(a.join("inc.regx"), b.join("inc.regx")).unwrap();
    let before = host(&b);
    let err = b.fails(1, &["clone", "inc.regx", "site", "--trust", &root]);
    assert!(err.contains("a clone starts from a full export"), "{err}");
    nothing_made(&b, &before);

    // A byte of the last artifact flipped: the clone reads every byte before it makes anything.
    let mut bytes = fs::read(a.join("full.regx")).unwrap();
    let at = bytes.len() - 48 - 3;
    bytes[at] ^= 0x01;
    fs::write(b.join("bad.regx"), &bytes).unwrap();
    let err = b.fails(1, &["clone", "bad.regx", "site", "--trust", &root]);
    assert!(err.contains("corrupt"), "{err}");
    nothing_made(&b, &before);

    // A clone never replaces an existing registry.
    b.ok(&[
        "clone",
        a.path().to_str().unwrap(),
        "site",
        "--trust",
        &root,
    ]);
    let made = snapshot(&b.join("site"));
    let err = b.fails(
        2,
        &[
            "clone",
            a.path().to_str().unwrap(),
            "site",
            "--trust",
            &root,
        ],
    );
    assert!(
        err.contains("already exists") || err.contains("already"),
        "{err}"
    );
    assert_eq!(snapshot(&b.join("site")), made);
}

#[test]
fn a_clone_older_than_this_hosts_record_or_its_pins_floor_is_refused_and_the_pin_kept() {
    let (a, root) = home();
    a.ok(&["export", "old.regx"]);
    a.ok(&[
        "deprecate",
        "alpha@1.0.0",
        "--reason",
        "newer",
        "--key",
        "op.pem",
    ]);
    a.ok(&["export", "new.regx"]);
    let b = Sandbox::new();
    for f in ["old.regx", "new.regx"] {
        fs::copy(a.join(f), b.join(f)).unwrap();
    }
    b.ok(&["clone", "new.regx", "site1", "--trust", &root]);

    // This host verified the newer history: an older medium is a rollback.
    let pins = fs::read(b.trust_file()).unwrap();
    let err = b.fails(1, &["clone", "old.regx", "site2", "--trust", &root]);
    assert!(err.contains("rolled"), "{err}");
    assert!(
        !b.join("site2").exists(),
        "a refused clone left its directory"
    );
    assert_eq!(fs::read(b.trust_file()).unwrap(), pins, "the pin stays");

    let head_code = b.ok(&["--registry", "site1", "status", "--code"]);
    b.ok(&[
        "--registry",
        "site1",
        "trust",
        "add",
        &root,
        "--head",
        head_code.trim(),
    ]);
    let pins = fs::read(b.trust_file()).unwrap();

    // A rebuilt host (no records) still has the pin's floor.
    fs::remove_dir_all(b.join("home")).unwrap();
    let err = b.fails(1, &["clone", "old.regx", "site2"]);
    assert!(err.contains("does not contain entry"), "{err}");
    assert_eq!(fs::read(b.trust_file()).unwrap(), pins);

    // --trust cannot replace the root this host pins the registry to.
    let other = b.key("other.pem");
    let err = b.fails(1, &["clone", "new.regx", "site3", "--trust", &other]);
    assert!(err.contains("trust remove"), "{err}");
    assert_eq!(fs::read(b.trust_file()).unwrap(), pins);

    // The newer medium clones again, under the same pin.
    b.ok(&["clone", "new.regx", "site4"]);
    assert_eq!(fs::read(b.trust_file()).unwrap(), pins);
    assert!(b.ok(&["--registry", "site4", "fsck"]).contains("PASS"));
}

/// `reg init` and `reg clone` install a staged registry by a rename that never replaces what
/// appeared at `.registry` meanwhile, not even an empty directory (which a plain rename
/// replaces silently): the newcomer is refused as an existing registry, kept as it was, and
/// the staging goes. Each command is paused just before its rename while the directory appears.
#[test]
fn a_registry_is_never_installed_over_what_appeared_at_its_name() {
    use crate::util::{spawn, wait_for};
    use std::os::unix::fs::MetadataExt as _;
    let (a, root) = home();
    let b = Sandbox::new();
    fs::copy(a.join("full.regx"), b.join("full.regx")).unwrap();
    b.key("root.pem");
    fs::create_dir(b.join("site")).unwrap();
    // The clone first: the directory planted where init installs would hold the clone's site.
    for (name, args) in [
        (
            "clone",
            vec!["clone", "full.regx", "site", "--trust", &root],
        ),
        ("init", vec!["init", "--root-key", "root.pem"]),
    ] {
        let parent = if name == "init" {
            b.path().to_path_buf()
        } else {
            b.join("site")
        };
        let pause = b.join(&format!("pause-{name}"));
        fs::create_dir(&pause).unwrap();
        let child = spawn(
            &b,
            &args,
            &[
                (
                    "REG_FAILPOINT",
                    std::path::Path::new("install:before-rename"),
                ),
                ("REG_FAILPOINT_PAUSE", &pause),
            ],
        );
        wait_for(&pause.join("reached"));
        let planted = parent.join(".registry");
        fs::create_dir(&planted).unwrap();
        let inode = fs::metadata(&planted).unwrap().ino();
        fs::write(pause.join("go"), "").unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains("a registry already exists at"),
            "{name}: {err}"
        );
        assert_eq!(fs::metadata(&planted).unwrap().ino(), inode, "{name}");
        assert_eq!(fs::read_dir(&planted).unwrap().count(), 0, "{name}");
        let left: Vec<_> = fs::read_dir(&parent)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".registry-"))
            .collect();
        assert!(left.is_empty(), "{name} left its staging: {left:?}");
    }
}
