//! Tests that kill the `cargo mutants` survivors of `src/bundle/tar.rs` (issue 11): the tar
//! reader's refusals that no archive attack reached, and its two limits at their exact bounds.
//! Each archive is crafted byte by byte, like those of `archive_attacks`.

use crate::archive_attacks::case;
use crate::craft::{Tar, header, python_list};
use reg::bundle::MAX_ENTRIES;
use reg::format::manifest::MANIFEST_LIMIT;

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

#[test]
fn a_bundle_is_staged_beside_its_output_not_in_the_current_directory() {
    // Staged elsewhere, the final rename would cross file systems (a bundle written onto the
    // medium from a home directory) and fail. Run from /proc, where nothing can be created.
    let s = crate::util::Sandbox::new();
    s.key("pub.pem");
    std::fs::create_dir_all(s.join("m")).unwrap();
    std::fs::write(s.join("m/r.yar"), "rule r {}").unwrap();
    std::fs::create_dir(s.join("out")).unwrap();
    let out = s.join("out/m.tar");
    let abs = |p: &str| s.join(p).to_string_lossy().into_owned();
    let run = s
        .reg()
        .current_dir("/proc")
        .args(crate::util::pack_args(
            &abs("m"),
            out.to_str().unwrap(),
            &abs("pub.pem"),
            "m",
            "1.0.0",
        ))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let left: Vec<_> = std::fs::read_dir(s.join("out")).unwrap().collect();
    assert_eq!(left.len(), 1, "only the bundle: {left:?}");
    s.ok(&[
        "bundle",
        "verify",
        "out/m.tar",
        "--publisher",
        "pub.pem.pub",
    ]);
}
