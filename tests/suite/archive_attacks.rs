//! Every hostile archive is refused with a message naming the entry, and the registry is left
//! byte-for-byte as it was. Each archive is crafted byte by byte, and each test first shows,
//! with an independent reader (Python's `tarfile`), that the hostile entry is really in it.
//! Entry kinds no bundle holds (a pax global header, a GNU sparse file, a manifest that is not a
//! regular file) are refused by their kind, and the reader's two limits hold at their exact
//! bounds: a manifest of exactly the size limit and a tar of exactly the entry limit are read.

use crate::craft::{File, Tar, file, good_tar, header, load, manifest_for, python_list, sign};
use crate::util::Sandbox;
use reg::bundle::MAX_ENTRIES;
use reg::format::manifest::MANIFEST_LIMIT;

pub(crate) struct Case {
    pub(crate) s: Sandbox,
    pub(crate) files: Vec<File>,
    pub(crate) signed: Vec<u8>,
}

/// A registry with a publisher, and a signed manifest for two small files.
pub(crate) fn case() -> Case {
    let s = Sandbox::new();
    s.init_with_roles();
    let publisher = load(&s, "pub.pem");
    let files = vec![
        file("model.bin", b"weights v1 0123456789"),
        file("tokenizer.json", b"{\"vocab\":[]}"),
    ];
    let signed = sign(
        &manifest_for(&files, "victim", "1.0.0", &publisher),
        &publisher,
    );
    Case { s, files, signed }
}

impl Case {
    /// The good prefix of a bundle: the manifest and both files.
    pub(crate) fn good_prefix(&self) -> Tar {
        let mut t = Tar::new().manifest(&self.signed);
        for f in &self.files {
            t = t.file(&f.path, &f.data);
        }
        t
    }

    /// Writes `bytes` as a bundle, checks that `tarfile` sees `entry` (name, type) in it, and
    /// that `reg add` refuses it with `needle`, changing nothing.
    fn refused(&self, bytes: &[u8], entry: Option<(&[u8], u8)>, needle: &str) {
        let path = self.s.join("hostile.tar");
        std::fs::write(&path, bytes).unwrap();
        if let Some((name, kind)) = entry {
            let listed = python_list(&path);
            assert!(
                listed.iter().any(|(n, t, _)| n == name && *t == kind),
                "the crafted archive does not hold {:?} of type {}: {listed:?}",
                String::from_utf8_lossy(name),
                kind as char
            );
        }
        let err = self.refusal_of_written();
        assert!(err.contains(needle), "expected `{needle}` in: {err}");
    }

    /// Writes `bytes` as a bundle and returns `reg add`'s refusal (exit 1), checking that the
    /// registry is unchanged.
    pub(crate) fn refusal(&self, bytes: &[u8]) -> String {
        std::fs::write(self.s.join("hostile.tar"), bytes).unwrap();
        self.refusal_of_written()
    }

    /// `reg add`'s refusal of the `hostile.tar` just written, the registry unchanged.
    fn refusal_of_written(&self) -> String {
        let err = self
            .s
            .refused(1, &["add", "hostile.tar", "--key", "op.pem"], "");
        assert!(err.starts_with("error: "), "{err}");
        err
    }
}

#[test]
fn the_well_formed_crafted_bundle_is_accepted() {
    // The crafting itself is sound: without the attack, the same bundle is admitted.
    let c = case();
    std::fs::write(c.s.join("good.tar"), good_tar(&c.signed, &c.files)).unwrap();
    let out = c.s.ok(&["add", "good.tar", "--key", "op.pem"]);
    assert!(out.contains("added victim@1.0.0"), "{out}");
}

#[test]
fn absolute_path() {
    let c = case();
    let t = c
        .good_prefix()
        .file("/etc/cron.d/evil", b"* * * * * root sh")
        .end();
    c.refused(
        &t,
        Some((b"/etc/cron.d/evil", b'0')),
        "`/etc/cron.d/evil`: absolute path",
    );
}

#[test]
fn dot_dot_component() {
    let c = case();
    let t = c.good_prefix().file("../../home/op/.bashrc", b"evil").end();
    c.refused(
        &t,
        Some((b"../../home/op/.bashrc", b'0')),
        "`../../home/op/.bashrc`: `..` component",
    );
}

#[test]
fn dot_dot_hidden_in_a_gnu_long_name() {
    let c = case();
    let long = format!("{}/../../../etc/passwd", "a".repeat(120));
    let t = c
        .good_prefix()
        .gnu_long_name(long.as_bytes())
        .file("short", b"x")
        .end();
    c.refused(&t, Some((long.as_bytes(), b'0')), "`..` component");
}

#[test]
fn backslash() {
    let c = case();
    let t = c
        .good_prefix()
        .file("..\\..\\windows\\evil.dll", b"MZ")
        .end();
    c.refused(
        &t,
        Some((b"..\\..\\windows\\evil.dll", b'0')),
        "character '\\\\' is not allowed",
    );
}

#[test]
fn nul_in_a_pax_name() {
    let c = case();
    let t = c
        .good_prefix()
        .pax(&[("path", b"model.bin\0.exe")])
        .file("x", b"1")
        .end();
    let path = c.s.join("hostile.tar");
    std::fs::write(&path, &t).unwrap();
    // tarfile truncates nothing in PAX names: the NUL really is in the name.
    assert!(python_list(&path).iter().any(|(n, _, _)| n.contains(&0)));
    c.refused(&t, None, "the name holds a NUL byte");
}

#[test]
fn registry_and_git_names() {
    let c = case();
    let t = c
        .good_prefix()
        .file(".registry/objects/aa/bb", b"planted")
        .end();
    c.refused(
        &t,
        Some((b".registry/objects/aa/bb", b'0')),
        "`.registry` is a reserved name",
    );
    let t = c
        .good_prefix()
        .file("sub/.GIT/hooks/post-checkout", b"#!/bin/sh")
        .end();
    c.refused(
        &t,
        Some((b"sub/.GIT/hooks/post-checkout", b'0')),
        "`.GIT` is a reserved name",
    );
}

#[test]
fn symlink() {
    let c = case();
    let t = c
        .good_prefix()
        .raw(b"link", b'2', 0, b"", b"/etc/shadow")
        .end();
    c.refused(&t, Some((b"link", b'2')), "`link`: is a symbolic link");
}

#[test]
fn symlink_in_place_of_an_artifact() {
    let c = case();
    let t = Tar::new()
        .manifest(&c.signed)
        .raw(b"model.bin", b'2', 0, b"", b"/etc/shadow")
        .file("tokenizer.json", &c.files[1].data)
        .end();
    c.refused(
        &t,
        Some((b"model.bin", b'2')),
        "`model.bin`: is a symbolic link",
    );
}

#[test]
fn hardlink() {
    let c = case();
    let t = c
        .good_prefix()
        .raw(b"hard", b'1', 0, b"", b"model.bin")
        .end();
    c.refused(&t, Some((b"hard", b'1')), "`hard`: is a hard link");
}

#[test]
fn devices_and_fifos() {
    for (kind, word) in [
        (b'3', "character device"),
        (b'4', "block device"),
        (b'6', "FIFO"),
    ] {
        let c = case();
        let t = c.good_prefix().raw(b"dev", kind, 0, b"", b"").end();
        c.refused(&t, Some((b"dev", kind)), &format!("`dev`: is a {word}"));
    }
}

#[test]
fn duplicate_path() {
    let c = case();
    let t = c.good_prefix().file("model.bin", &c.files[0].data).end();
    c.refused(
        &t,
        Some((b"model.bin", b'0')),
        "`model.bin`: appears twice in the bundle",
    );
}

#[test]
fn duplicate_after_case_folding() {
    let c = case();
    let t = Tar::new()
        .manifest(&c.signed)
        .file("MODEL.bin", &c.files[0].data)
        .file("tokenizer.json", &c.files[1].data)
        .end();
    c.refused(
        &t,
        Some((b"MODEL.bin", b'0')),
        "`MODEL.bin`: differs only in case or Unicode form from `model.bin`",
    );
}

#[test]
fn duplicate_after_unicode_normalisation() {
    // The manifest lists the NFC name; the archive carries the decomposed (NFD) spelling,
    // which many file systems show as the same name.
    let s = Sandbox::new();
    s.init_with_roles();
    let publisher = load(&s, "pub.pem");
    let files = vec![file("caf\u{e9}.bin", b"nfc")];
    let signed = sign(
        &manifest_for(&files, "unicode", "1.0.0", &publisher),
        &publisher,
    );
    let c = Case { s, files, signed };
    let nfd = "cafe\u{301}.bin";
    let t = Tar::new().manifest(&c.signed).file(nfd, b"nfc").end();
    c.refused(&t, Some((nfd.as_bytes(), b'0')), "not in Unicode NFC form");
}

#[test]
fn file_not_in_the_manifest() {
    let c = case();
    let t = c
        .good_prefix()
        .file("backdoor.pkl", b"\x80\x04cos\nsystem\n")
        .end();
    c.refused(
        &t,
        Some((b"backdoor.pkl", b'0')),
        "`backdoor.pkl`: is not listed in the manifest",
    );
}

#[test]
fn file_missing_from_the_bundle() {
    let c = case();
    let t = Tar::new()
        .manifest(&c.signed)
        .file("model.bin", &c.files[0].data)
        .end();
    c.refused(
        &t,
        Some((b"model.bin", b'0')),
        "the bundle lacks 1 file(s) the manifest lists: `tokenizer.json`",
    );
}

#[test]
fn empty_file_dropped_or_added() {
    let s = Sandbox::new();
    s.init_with_roles();
    let publisher = load(&s, "pub.pem");
    let files = vec![file("empty.txt", b""), file("model.bin", b"w")];
    let signed = sign(
        &manifest_for(&files, "empties", "1.0.0", &publisher),
        &publisher,
    );
    let c = Case { s, files, signed };
    let dropped = Tar::new().manifest(&c.signed).file("model.bin", b"w").end();
    c.refused(
        &dropped,
        Some((b"model.bin", b'0')),
        "lacks 1 file(s) the manifest lists: `empty.txt`",
    );
    let added = c.good_prefix().file("also-empty.txt", b"").end();
    c.refused(
        &added,
        Some((b"also-empty.txt", b'0')),
        "`also-empty.txt`: is not listed in the manifest",
    );
}

#[test]
fn entry_larger_than_the_manifest_says() {
    let c = case();
    let mut big = c.files[0].data.clone();
    big.extend_from_slice(b"+appended payload");
    let t = Tar::new()
        .manifest(&c.signed)
        .file("model.bin", &big)
        .file("tokenizer.json", &c.files[1].data)
        .end();
    c.refused(
        &t,
        Some((b"model.bin", b'0')),
        "`model.bin`: is 38 bytes, but the manifest says 21",
    );
}

#[test]
fn pax_size_header_is_honoured() {
    // The ustar header says 21 bytes (what the manifest says); a PAX header says 38, and an
    // extracting tool would write 38. reg reads the size the way extractors do, and refuses.
    let c = case();
    let mut big = c.files[0].data.clone();
    big.extend_from_slice(b"+appended payload");
    let t = Tar::new()
        .manifest(&c.signed)
        .pax(&[("size", b"38")])
        .raw(b"model.bin", b'0', 21, &big, b"")
        .file("tokenizer.json", &c.files[1].data)
        .end();
    c.refused(
        &t,
        Some((b"model.bin", b'0')),
        "`model.bin`: is 38 bytes, but the manifest says 21",
    );
}

#[test]
fn manifest_not_first() {
    let c = case();
    let t = Tar::new()
        .file("model.bin", &c.files[0].data)
        .manifest(&c.signed)
        .file("tokenizer.json", &c.files[1].data)
        .end();
    c.refused(
        &t,
        Some((b"model.bin", b'0')),
        "the first entry of a bundle must be the regular file `reg-manifest.json`",
    );
}

#[test]
fn trailing_garbage() {
    let c = case();
    let mut t = good_tar(&c.signed, &c.files);
    let end = t.len();
    t.extend_from_slice(b"\x80\x04smuggled after the end of the archive");
    assert!(t[end..].iter().any(|b| *b != 0));
    // Python's tarfile stops at the end marker and never sees it: that is the point.
    c.refused(
        &t,
        Some((b"tokenizer.json", b'0')),
        "data follows the end of the tar archive",
    );
}

#[test]
fn non_utf8_name() {
    let c = case();
    let t = c.good_prefix().file_bytes(b"model\xff.bin", b"x").end();
    c.refused(&t, Some((b"model\xff.bin", b'0')), "the name is not UTF-8");
}

#[test]
fn too_many_entries() {
    let c = case();
    let mut t = c.good_prefix();
    for _ in 0..20_000 {
        t = t.raw(b"d/", b'5', 0, b"", b"");
    }
    c.refused(
        &t.end(),
        Some((b"d", b'5')),
        "the tar has more than 20000 entries",
    );
}

#[test]
fn manifest_larger_than_the_cap() {
    let c = case();
    let huge = vec![b' '; 1024 * 1024 + 1];
    let t = Tar::new().file("reg-manifest.json", &huge).end();
    c.refused(
        &t,
        Some((b"reg-manifest.json", b'0')),
        "the manifest is larger than 1048576 bytes",
    );
}

impl Tar {
    fn file_bytes(self, name: &[u8], data: &[u8]) -> Self {
        self.raw(name, b'0', data.len() as u64, data, b"")
    }
}

#[test]
fn a_tar_cut_short_inside_an_artifact() {
    let c = case();
    let whole = good_tar(&c.signed, &c.files);
    // Cut inside the first artifact's data: its header promises more bytes than follow.
    let cut = 512 * 2 + c.signed.len().div_ceil(512) * 512 + 10;
    let path = c.s.join("hostile.tar");
    std::fs::write(&path, &whole[..cut]).unwrap();
    let before = c.s.snapshot();
    let err = c.s.fails(1, &["add", "hostile.tar", "--key", "op.pem"]);
    assert!(
        err.contains("`model.bin`: holds 10 bytes, but the manifest says 21"),
        "{err}"
    );
    assert_eq!(before, c.s.snapshot());
    assert_eq!(
        std::fs::read_dir(c.s.dot().join("tmp")).unwrap().count(),
        0,
        "nothing staged is left"
    );
}

#[test]
fn a_pax_global_header_among_the_artifacts_is_refused_by_its_kind() {
    // The `tar` crate hands a global header (`g`) to reg as an entry: it sets defaults for every
    // later entry in other readers, so it is refused, named for what it is.
    let c = case();
    let t = c
        .good_prefix()
        .raw(b"pax_global_header", b'g', 0, b"", b"")
        .end();
    let err = c.refusal(&t);
    assert!(
        err.contains(
            "`pax_global_header`: is a pax global header, and a bundle holds only regular files"
        ),
        "{err}"
    );
}

#[test]
fn a_gnu_sparse_entry_is_refused_by_its_kind() {
    // A GNU sparse file (`S`, in a GNU header) is data plus a map of holes another reader fills
    // with zeros: not a regular file, and refused as what it is.
    let c = case();
    let mut h = header(b"sparse.bin", 0, b'S', b"");
    h[257..265].copy_from_slice(b"ustar  \0"); // the GNU magic and version
    h[483..495].copy_from_slice(b"00000000000\0"); // the real size: no blocks, no holes
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut t = c.good_prefix();
    t.bytes.extend_from_slice(&h);
    let bytes = t.end();
    let path = c.s.join("sparse.tar");
    std::fs::write(&path, &bytes).unwrap();
    assert!(
        python_list(&path)
            .iter()
            .any(|(n, t, _)| n == b"sparse.bin" && *t == b'S'),
        "tarfile does not see the sparse entry"
    );
    let err = c.refusal(&bytes);
    assert!(
        err.contains("`sparse.bin`: is a sparse file, and a bundle holds only regular files"),
        "{err}"
    );
}

#[test]
fn a_manifest_entry_of_the_right_name_but_not_a_regular_file_is_refused() {
    // The name alone does not make the manifest: a symbolic link named `reg-manifest.json`, or
    // a contiguous file (`7`, which other tools extract as a regular one) holding the signed
    // manifest, is refused before a byte of it is read as a manifest.
    let c = case();
    for (kind, data) in [(b'2', &b""[..]), (b'7', &c.signed[..])] {
        let mut t = Tar::new().raw(
            b"reg-manifest.json",
            kind,
            data.len() as u64,
            data,
            if kind == b'2' { b"elsewhere.json" } else { b"" },
        );
        for f in &c.files {
            t = t.file(&f.path, &f.data);
        }
        let bytes = t.end();
        let path = c.s.join("kind.tar");
        std::fs::write(&path, &bytes).unwrap();
        assert!(
            python_list(&path)
                .iter()
                .any(|(n, t, _)| n == b"reg-manifest.json" && *t == kind),
            "tarfile does not see the manifest entry of type {}",
            kind as char
        );
        let err = c.refusal(&bytes);
        assert!(
            err.contains(
                "`reg-manifest.json`: the first entry of a bundle must be the regular file `reg-manifest.json`"
            ),
            "type {}: {err}",
            kind as char
        );
    }
}

#[test]
fn a_manifest_of_exactly_the_size_limit_is_read_and_judged_by_its_content() {
    // The limit is inclusive: a manifest of exactly MANIFEST_LIMIT bytes is read, and refused
    // here only because these bytes are not a signed manifest.
    let c = case();
    let limit = usize::try_from(MANIFEST_LIMIT).unwrap();
    let t = Tar::new()
        .file("reg-manifest.json", &vec![b' '; limit])
        .end();
    let err = c.refusal(&t);
    assert!(!err.contains("larger than"), "{err}");
    assert!(err.contains("malformed envelope"), "{err}");
}

#[test]
fn a_tar_of_exactly_the_entry_limit_is_accepted() {
    // The limit is inclusive: the manifest, the two files and directories up to MAX_ENTRIES
    // entries in all are read (the next one is refused, in `archive_attacks::too_many_entries`).
    let c = case();
    let mut t = c.good_prefix();
    for _ in 0..MAX_ENTRIES - 3 {
        t = t.raw(b"d/", b'5', 0, b"", b"");
    }
    std::fs::write(c.s.join("full.tar"), t.end()).unwrap();
    let out = c.s.ok(&["add", "full.tar", "--key", "op.pem"]);
    assert!(out.contains("added victim@1.0.0"), "{out}");
}
