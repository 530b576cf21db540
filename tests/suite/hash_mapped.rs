//! The mapped hashing path (src/util/hash/map.rs), with the real binary: a file cut short,
//! grown or written while `reg check` hashes it is denied (`unreadable`, "changed while it was
//! read"), never allowed, and reg exits normally (a truncation under a mapping raises SIGBUS,
//! which must not kill it); no link inside `.registry/objects` is followed; special files are
//! refused before anything is mapped. The race is made deterministic by the paused failpoints
//! `hash:mapped` (the first window mapped, not yet hashed) and `hash:next-window` (the first
//! window hashed, the next not yet mapped).

use crate::util::Sandbox;
use serde_json::Value;
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A 16 MiB window (util::hash::WINDOW) and then some: the file spans two mapped windows.
const TWO_WINDOWS: usize = (16 << 20) + (1 << 20);

/// `big@1.0.0` PROMOTED, with one artifact `big.yar` of `len` bytes; returns the sandbox and a
/// copy of the artifact outside the registry, which `reg check` allows.
fn registry(len: usize) -> (Sandbox, PathBuf) {
    let s = Sandbox::new();
    s.init_with_roles();
    let line = "rule big { condition: true } // padding padding padding padding\n";
    let content: String = line.repeat(len / line.len() + 1)[..len].to_string();
    let dir = s.add_model("big", "1.0.0", &[("big.yar", content)]);
    s.ok(&["promote", "big@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    let file = s.join("checked.yar");
    fs::copy(s.join(&format!("{dir}/big.yar")), &file).unwrap();
    (s, file)
}

/// `reg check --json FILE`, paused at the failpoint `step` while `during` acts on the file.
fn check_paused(s: &Sandbox, file: &Path, step: &str, during: impl FnOnce()) -> Output {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let pause = s.join(&format!("pause-{n}"));
    fs::create_dir(&pause).unwrap();
    let child = crate::util::spawn(
        s,
        &["check", "--json", file.to_str().unwrap()],
        &[
            ("REG_FAILPOINT", Path::new(step)),
            ("REG_FAILPOINT_PAUSE", &pause),
        ],
    );
    crate::util::wait_for(&pause.join("reached"));
    during();
    fs::write(pause.join("go"), "").unwrap();
    child.wait_with_output().unwrap()
}

/// Denied as changed while read, by a process that exited on its own (not by a signal).
fn denied_as_changed(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "reg must exit normally with a denial, not die ({:?}): {stderr}",
        out.status
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["allowed"], false, "{v}");
    assert_eq!(v[0]["code"], "unreadable", "{v}");
    let reason = v[0]["reason"].as_str().unwrap();
    assert!(reason.contains("changed while it was read"), "{v}");
}

fn allowed(s: &Sandbox, file: &Path) {
    let out = s.ok(&["check", "--json", file.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["allowed"], true, "{v}");
}

/// Cut short under the mapping, before a byte was hashed: the pages past the new end raise
/// SIGBUS when read; reg survives it and denies.
#[test]
fn a_file_truncated_while_mapped_is_denied_and_reg_exits_normally() {
    let (s, file) = registry(4 << 20);
    allowed(&s, &file);
    let out = check_paused(&s, &file, "hash:mapped", || {
        let f = fs::OpenOptions::new().write(true).open(&file).unwrap();
        f.set_len(10_000).unwrap();
    });
    denied_as_changed(&out);
}

/// Written in place after the first window was hashed: the hash is that of the file as it was
/// (the approved bytes), yet the file now holds other bytes; the stamp check denies it.
#[test]
fn a_file_written_while_hashed_is_denied_though_its_hash_is_approved() {
    let (s, file) = registry(TWO_WINDOWS);
    allowed(&s, &file);
    let out = check_paused(&s, &file, "hash:next-window", || {
        let mut f = fs::OpenOptions::new().write(true).open(&file).unwrap();
        f.write_all(&[b'X'; 4096]).unwrap();
    });
    denied_as_changed(&out);
}

/// Grown, or cut short into its second window, after the first window was hashed: denied.
#[test]
fn a_file_grown_or_cut_between_windows_is_denied() {
    let (s, file) = registry(TWO_WINDOWS);
    let out = check_paused(&s, &file, "hash:next-window", || {
        let mut f = fs::OpenOptions::new().append(true).open(&file).unwrap();
        f.write_all(b"more").unwrap();
    });
    denied_as_changed(&out);
    fs::copy(s.join("m-big-1.0.0/big.yar"), &file).unwrap();
    allowed(&s, &file);
    let out = check_paused(&s, &file, "hash:next-window", || {
        let mut f = fs::OpenOptions::new().write(true).open(&file).unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.set_len((16 << 20) + 100).unwrap();
    });
    denied_as_changed(&out);
}

/// Inside the store no link is followed, even to a file with the object's exact bytes: `reg
/// verify` refuses the object, fsck names it.
#[test]
fn a_link_in_the_objects_is_never_followed() {
    let (s, file) = registry(1 << 20);
    let id = blake3::hash(&fs::read(&file).unwrap()).to_hex().to_string();
    let object = s.object_path(&id);
    let aside = s.join("aside");
    fs::copy(&object, &aside).unwrap();
    crate::util::make_writable(object.parent().unwrap());
    fs::remove_file(&object).unwrap();
    std::os::unix::fs::symlink(&aside, &object).unwrap();
    let err = s.fails(1, &["verify", "big@1.0.0"]);
    assert!(
        err.contains("not a regular file") || err.contains("link"),
        "{err}"
    );
    let out = s.reg().args(["fsck"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains(&id[2..]), "{report}");
}

/// A FIFO, a directory and a device are refused before anything is opened or mapped.
#[test]
fn special_files_are_refused_not_hashed() {
    let (s, _) = registry(1 << 20);
    let fifo = s.join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let dir = s.join("emptydir");
    fs::create_dir(&dir).unwrap();
    for (path, code) in [
        (fifo.as_path(), "not-regular"),
        (Path::new("/dev/null"), "not-regular"),
        (dir.as_path(), "empty-directory"),
    ] {
        let out = s
            .reg()
            .args(["check", "--json"])
            .arg(path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{path:?}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v[0]["code"], code, "{path:?}: {v}");
    }
}
