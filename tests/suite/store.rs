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
