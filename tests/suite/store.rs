//! The object store as the registry uses it: ids are what `b3sum` prints, objects are read-only,
//! staging is left empty.

use crate::util::{Sandbox, tool};
use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

#[test]
fn every_object_is_named_by_what_b3sum_prints_and_is_read_only() {
    let s = Sandbox::new();
    s.init_with_roles();
    let b3sum = tool("b3sum", "b3sum");
    let mut n = 0;
    for e in walkdir::WalkDir::new(s.dot().join("objects")) {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let out = Command::new(&b3sum)
            .arg("--no-names")
            .arg(e.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        let printed = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let fan = e
            .path()
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let rest = e.file_name().to_str().unwrap();
        assert_eq!(printed, format!("{fan}{rest}"));
        let mode = e.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o444, "{}", e.path().display());
        n += 1;
    }
    assert_eq!(n, 3, "genesis and two key-trust entries");
    assert_eq!(std::fs::read_dir(s.dot().join("tmp")).unwrap().count(), 0);
}

#[test]
fn a_flipped_byte_in_a_stored_object_is_named_when_read() {
    let s = Sandbox::new();
    s.init();
    let id = s.ledger_ids()[0].clone();
    let p = s.object_path(&id);
    crate::util::make_writable(&p);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&p, bytes).unwrap();
    let err = s.fails(1, &["key", "list"]);
    assert!(err.contains(&format!("object {id} is corrupt")), "{err}");
}

/// A checkout whose destination refuses the bytes (here a file-size limit, as a full disk
/// would) is blamed on the destination, not on the store: an I/O failure (exit 2) that says
/// nothing was left and the store is intact, never "run `reg fsck`"; and nothing is left.
#[test]
fn a_checkout_the_destination_cannot_hold_blames_the_destination_not_the_store() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("big", "1.0.0", &[("w.bin", "x".repeat(256 * 1024))]);
    // The shell sets the limit and ignores SIGXFSZ (so that a write past it fails with EFBIG
    // instead of killing reg), then `exec`s reg itself, which inherits both.
    let template = s.reg();
    let mut c = std::process::Command::new("sh");
    c.env_clear().current_dir(s.path());
    for (k, v) in template.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.arg("-c")
        .arg("ulimit -f 128 && trap '' XFSZ && exec \"$0\" \"$@\"")
        .arg(template.get_program())
        .args(["checkout", "big@1.0.0", "-o", "out"]);
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("writing the copy of object"), "{err}");
    assert!(err.contains("the store is intact"), "{err}");
    assert!(!err.contains("reg fsck"), "{err}");
    assert!(!s.join("out").exists());
    let left: Vec<_> = std::fs::read_dir(s.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".reg-checkout-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(s.ok(&["fsck"]).contains("PASS"));
}
