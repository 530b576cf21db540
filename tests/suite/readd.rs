//! `reg add` of a bundle whose model is registered already verifies it in full, as a new one: a
//! copy that does not match the record is refused naming the file, and a matching one repairs
//! the model's stored objects from its verified bytes, never touching the ledger.

use crate::craft::{File, Tar, file, good_tar, load, manifest_for, sign};
use crate::util::{Sandbox, make_writable};
use std::fs;

struct Case {
    s: Sandbox,
    files: Vec<File>,
    signed: Vec<u8>,
}

/// A registry holding victim@1.0.0, added from `good.tar`.
fn case() -> Case {
    let s = Sandbox::new();
    s.init_with_roles();
    let publisher = load(&s, "pub.pem");
    let files = vec![
        file("model.bin", &[7u8; 100_000]),
        file("tokenizer.json", b"{\"vocab\":[\"a\",\"b\"]}"),
    ];
    let signed = sign(
        &manifest_for(&files, "victim", "1.0.0", &publisher),
        &publisher,
    );
    fs::write(s.join("good.tar"), good_tar(&signed, &files)).unwrap();
    s.ok(&["add", "good.tar", "--key", "op.pem"]);
    Case { s, files, signed }
}

impl Case {
    fn object(&self, i: usize) -> std::path::PathBuf {
        self.s
            .object_path(blake3::hash(&self.files[i].data).to_hex().as_ref())
    }

    /// `reg add` of `bytes` is refused with `needle`; the registry is unchanged.
    fn refused(&self, bytes: &[u8], needle: &str) {
        fs::write(self.s.join("copy.tar"), bytes).unwrap();
        let err = self
            .s
            .refused(1, &["add", "copy.tar", "--key", "op.pem"], needle);
        assert!(!err.contains("already registered"), "{err}");
    }
}

#[test]
fn an_identical_copy_is_verified_and_says_so() {
    let c = case();
    let before = c.s.snapshot();
    let out = c.s.ok(&["add", "good.tar", "--key", "op.pem"]);
    assert!(
        out.contains("already registered as victim@1.0.0")
            && out.contains("the bundle matches it: signature and 2 artifact(s) verified")
            && out.contains("every stored object of it is intact; nothing to do"),
        "{out}"
    );
    assert_eq!(before, c.s.snapshot());
}

#[test]
fn a_tampered_copy_of_a_registered_bundle_is_refused_naming_the_file() {
    let c = case();
    let mut bytes = good_tar(&c.signed, &c.files);
    let at = bytes.windows(5).position(|w| w == b"vocab").unwrap();
    bytes[at] = b'V';
    c.refused(&bytes, "`tokenizer.json`: BLAKE3 is");
}

#[test]
fn a_truncated_copy_is_refused() {
    let c = case();
    let bytes = good_tar(&c.signed, &c.files);
    // Cut inside model.bin's data.
    c.refused(&bytes[..512 * 4 + c.signed.len()], "model.bin");
    // The manifest alone.
    let only = Tar::new().manifest(&c.signed).end();
    c.refused(&only, "the bundle lacks 2 file(s) the manifest lists");
}

#[test]
fn a_repacked_copy_with_a_link_or_a_fifo_in_place_of_an_artifact_is_refused() {
    let c = case();
    let link = Tar::new()
        .manifest(&c.signed)
        .raw(b"model.bin", b'2', 0, b"", b"/etc/shadow")
        .file("tokenizer.json", &c.files[1].data)
        .end();
    c.refused(&link, "`model.bin`: is a symbolic link");
    let fifo = Tar::new()
        .manifest(&c.signed)
        .raw(b"model.bin", b'6', 0, b"", b"")
        .file("tokenizer.json", &c.files[1].data)
        .end();
    c.refused(&fifo, "`model.bin`: is a FIFO");

    // A directory bundle whose artifact is a symlink, then a FIFO.
    let dir = c.s.join("unpacked");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("reg-manifest.json"), &c.signed).unwrap();
    fs::write(dir.join("tokenizer.json"), &c.files[1].data).unwrap();
    fs::write(c.s.join("real.bin"), &c.files[0].data).unwrap();
    std::os::unix::fs::symlink(c.s.join("real.bin"), dir.join("model.bin")).unwrap();
    let before = c.s.snapshot();
    let err = c.s.fails(1, &["add", "unpacked", "--key", "op.pem"]);
    assert!(err.contains("`model.bin`: is not a regular file"), "{err}");
    fs::remove_file(dir.join("model.bin")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("model.bin"))
        .status()
        .unwrap();
    assert!(made.success());
    let err = c.s.fails(1, &["add", "unpacked", "--key", "op.pem"]);
    assert!(err.contains("`model.bin`: is not a regular file"), "{err}");
    assert_eq!(before, c.s.snapshot());
}

#[test]
fn a_matching_copy_restores_missing_and_corrupt_objects_without_touching_the_ledger() {
    let c = case();
    let ledger = fs::read(c.s.dot().join("ledger")).unwrap();
    let checkpoint = fs::read(c.s.dot().join("checkpoint")).unwrap();
    // One artifact lost, the other corrupted, the record replaced by a link to outside.
    fs::remove_file(c.object(0)).unwrap();
    make_writable(&c.object(1));
    fs::write(c.object(1), b"{\"vocab\":[\"evil\"]}").unwrap();
    let record = blake3::hash(&c.signed).to_hex().to_string();
    let record_path = c.s.object_path(&record);
    make_writable(&record_path);
    fs::remove_file(&record_path).unwrap();
    fs::write(c.s.join("outside"), b"not to be touched").unwrap();
    std::os::unix::fs::symlink(c.s.join("outside"), &record_path).unwrap();
    c.s.fails(1, &["fsck"]);

    let out = c.s.ok(&["add", "good.tar", "--key", "op.pem"]);
    assert!(out.contains("the bundle matches it"), "{out}");
    for (what, data) in [
        ("artifact `model.bin`", &c.files[0].data),
        ("artifact `tokenizer.json`", &c.files[1].data),
        ("the record", &c.signed),
    ] {
        let id = blake3::hash(data).to_hex().to_string();
        assert!(
            out.contains(&format!("restored {what} (object {id})")),
            "{what}: {out}"
        );
        let p = c.s.object_path(&id);
        let meta = fs::symlink_metadata(&p).unwrap();
        assert!(meta.is_file() && meta.permissions().readonly());
        assert_eq!(&fs::read(&p).unwrap(), data);
    }
    assert!(!out.contains("nothing to do"), "{out}");
    assert_eq!(fs::read(c.s.join("outside")).unwrap(), b"not to be touched");
    assert_eq!(ledger, fs::read(c.s.dot().join("ledger")).unwrap());
    assert_eq!(checkpoint, fs::read(c.s.dot().join("checkpoint")).unwrap());
    c.s.ok(&["fsck"]);
    let tmp: Vec<_> = fs::read_dir(c.s.dot().join("tmp")).unwrap().collect();
    assert!(tmp.is_empty(), "staging left behind: {tmp:?}");
}

#[test]
fn a_tampered_copy_repairs_nothing() {
    let c = case();
    fs::remove_file(c.object(0)).unwrap();
    let mut bytes = good_tar(&c.signed, &c.files);
    let at = bytes.windows(5).position(|w| w == b"vocab").unwrap();
    bytes[at] = b'V';
    c.refused(&bytes, "`tokenizer.json`: BLAKE3 is");
    assert!(!c.object(0).exists(), "a refused bundle restored nothing");
}

#[test]
fn a_purged_models_artifacts_stay_destroyed() {
    let c = case();
    c.s.ok(&[
        "revoke",
        "victim@1.0.0",
        "--reason",
        "poisoned",
        "--key",
        "op.pem",
    ]);
    c.s.ok(&[
        "purge",
        "victim@1.0.0",
        "--reason",
        "destroy",
        "--key",
        "op.pem",
    ]);
    assert!(!c.object(0).exists());
    let before = c.s.snapshot();
    let out = c.s.ok(&["add", "good.tar", "--key", "op.pem"]);
    assert!(
        out.contains("was purged: its artifacts stay destroyed"),
        "{out}"
    );
    assert!(!c.object(0).exists() && !c.object(1).exists());
    assert_eq!(before, c.s.snapshot());
}
