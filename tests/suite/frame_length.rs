//! A frame longer than its object (FORMAT.md §11.7): a sparse file on the medium costs its holder
//! nothing, so an artifact frame announcing 1 TiB for a 9-byte artifact must be refused by its
//! 41-byte header, before a byte of it is staged, hashed or skipped by reading, by `reg import`
//! (staging, `--dry-run`, and a frame of an object the site already holds), `reg clone` and
//! `reg repair --from`.
//!
//! Every command runs under a watchdog that kills it once it has staged more than 1 MiB or run
//! 30 s, so that a regression fails the test instead of filling the disk.

use crate::import::parse;
use crate::util::{Sandbox, copy_site, snapshot};
use reg::format::id::ObjectId;
use reg::format::transfer::{ObjectKind, TRAILER_MAGIC, Writer};
use std::collections::BTreeMap;
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// What a crafted frame announces: the largest artifact frame the codec admits.
const HUGE: u64 = 1 << 40;

/// The longest a refusal may take (a debug build on a loaded machine takes about a second).
const LIMIT: Duration = Duration::from_secs(30);

/// The most bytes the watched directories may hold (a refused import stages nothing big).
const STAGED_LIMIT: u64 = 1 << 20;

/// Writes `from` to `to` with the frame of object `id` announcing `len` bytes, its body a hole
/// (the file is sparse: no disk is used), and everything else as the exporter wrote it: the
/// header's byte sum and the trailer digest match, so only that frame's length is wrong.
fn with_huge_frame(from: &Path, id: &ObjectId, len: u64, to: &Path) {
    let mut parts = parse(from);
    assert!(parts.frames.iter().any(|f| f.1 == *id), "no frame of {id}");
    parts.header.bytes = parts
        .frames
        .iter()
        .map(|f| if f.1 == *id { len } else { f.2.len() as u64 })
        .sum();
    let mut preamble = Vec::new();
    drop(Writer::new(&mut preamble, &parts.header, &parts.checkpoint, &parts.ids).unwrap());
    let mut skeleton = blake3::Hasher::new();
    skeleton.update(&preamble);
    let mut out = fs::File::create(to).unwrap();
    out.write_all(&preamble).unwrap();
    for (kind, fid, body) in &parts.frames {
        let n = if fid == id { len } else { body.len() as u64 };
        let mut head = vec![kind_byte(*kind)];
        head.extend_from_slice(fid.as_bytes());
        head.extend_from_slice(&n.to_be_bytes());
        skeleton.update(&head);
        out.write_all(&head).unwrap();
        if fid == id {
            out.seek(SeekFrom::Current(len as i64)).unwrap();
        } else {
            out.write_all(body).unwrap();
        }
    }
    out.write_all(TRAILER_MAGIC).unwrap();
    out.write_all(skeleton.finalize().as_bytes()).unwrap();
    drop(out);
    let on_disk = {
        use std::os::unix::fs::MetadataExt as _;
        fs::metadata(to).unwrap().blocks() * 512
    };
    assert!(on_disk < 1 << 20, "the crafted file is sparse");
}

fn kind_byte(k: ObjectKind) -> u8 {
    match k {
        ObjectKind::Entry => b'E',
        ObjectKind::Record => b'R',
        ObjectKind::Artifact => b'A',
    }
}

/// The bytes the files under `dirs` hold.
fn held(dirs: &[PathBuf]) -> u64 {
    dirs.iter()
        .flat_map(|d| walkdir::WalkDir::new(d).into_iter().flatten())
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Runs `reg ARGS` in `s`, killing it (the reg process itself) once the files under `watch`
/// hold more than [`STAGED_LIMIT`] bytes or it has run [`LIMIT`]; asserts neither happened.
fn run_watched(s: &Sandbox, args: &[&str], watch: &[PathBuf]) -> Output {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("reg"));
    for (k, v) in s.reg().get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let mut child = c
        .current_dir(s.path())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut most = 0;
    let mut why = None;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        most = most.max(held(watch));
        if most > STAGED_LIMIT {
            why = Some(format!("it staged {most} bytes"));
        } else if started.elapsed() > LIMIT {
            why = Some(format!("it ran {LIMIT:?}: it read the frame through"));
        }
        if why.is_some() {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        why.is_none(),
        "reg {args:?} was killed: {}; stderr: {}",
        why.unwrap_or_default(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn id_of(text: &str) -> ObjectId {
    ObjectId::of(text.as_bytes())
}

/// Home site A with `alpha` (artifact `rule a {}`, 9 bytes); replica B, a copy of A pinned on
/// its own host; then A adds `beta` (artifact `rule beta {}`, 12 bytes) and exports in full.
fn sites() -> (Sandbox, Sandbox, String) {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let b = copy_site(&a, &root);
    a.add_model("beta", "2.0.0", &[("b.yar", "rule beta {}".into())]);
    a.ok(&["export", "full.regx"]);
    (a, b, root)
}

/// This host's trust file and state directory (absent before a first pin).
fn host_state(s: &Sandbox) -> BTreeMap<PathBuf, Vec<u8>> {
    ["host", "home"]
        .iter()
        .map(|d| s.join(d))
        .filter(|d| d.exists())
        .flat_map(|d| snapshot(&d).into_iter().map(move |(p, b)| (d.join(p), b)))
        .collect()
}

/// B's registry and host state (its trust file and state directory).
fn site(b: &Sandbox) -> (BTreeMap<PathBuf, Vec<u8>>, BTreeMap<PathBuf, Vec<u8>>) {
    (b.snapshot(), host_state(b))
}

/// Imports `file` at `b` with `extra` arguments under the watchdog: refused with exit 1, the
/// registry and host state unchanged; returns stderr.
fn import_refused(b: &Sandbox, file: &Path, extra: &[&str]) -> String {
    let before = site(b);
    let mut args = vec!["import", file.to_str().unwrap()];
    args.extend(extra);
    let out = run_watched(b, &args, &[b.dot()]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(site(b), before, "a refused import changed the site: {err}");
    assert_eq!(fs::read_dir(b.dot().join("tmp")).unwrap().count(), 0);
    err
}

/// The one-line refusal of an artifact frame announcing [`HUGE`] bytes for one of `size`.
fn assert_length_refusal(err: &str, id: &ObjectId, size: u64) {
    assert!(
        err.contains(&format!(
            "(artifact {id}) announces {HUGE} bytes, but the record that lists it states {size}"
        )),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| !l.starts_with("hint:")).count(),
        1,
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
}

#[test]
fn an_import_refuses_an_artifact_frame_longer_than_its_record_says_before_staging_a_byte() {
    let (a, b, _) = sites();
    let beta = id_of("rule beta {}");
    let file = b.join("huge.regx");
    with_huge_frame(&a.join("full.regx"), &beta, HUGE, &file);
    let err = import_refused(&b, &file, &[]);
    assert_length_refusal(&err, &beta, 12);
    // The neighbours: one byte over, one byte short, and a dry run, which stages no artifact
    // but would read it through its hash check.
    for len in [13, 11] {
        let file = b.join(&format!("off-{len}.regx"));
        with_huge_frame(&a.join("full.regx"), &beta, len, &file);
        let err = import_refused(&b, &file, &[]);
        assert!(err.contains(&format!("announces {len} bytes")), "{err}");
    }
    let err = import_refused(&b, &file, &["--dry-run"]);
    assert_length_refusal(&err, &beta, 12);
    // The untouched file imports.
    b.ok(&["import", a.join("full.regx").to_str().unwrap()]);
    assert_eq!(b.ledger_ids(), a.ledger_ids());
}

#[test]
fn a_frame_of_an_artifact_the_site_already_holds_is_refused_by_its_length_not_read_through() {
    // A full export carries `alpha`'s artifact, which the replica already holds: its frame
    // would be read only to be skipped.
    let (a, b, _) = sites();
    let alpha = id_of("rule a {}");
    let file = b.join("huge.regx");
    with_huge_frame(&a.join("full.regx"), &alpha, HUGE, &file);
    let err = import_refused(&b, &file, &[]);
    assert_length_refusal(&err, &alpha, 9);
    let err = import_refused(&b, &file, &["--dry-run"]);
    assert_length_refusal(&err, &alpha, 9);
}

#[test]
fn a_clone_refuses_an_artifact_frame_longer_than_its_record_says_and_makes_nothing() {
    let (a, _, root) = sites();
    let c = Sandbox::new();
    let host_before = host_state(&c);
    let file = c.join("huge.regx");
    with_huge_frame(&a.join("full.regx"), &id_of("rule a {}"), HUGE, &file);
    let out = run_watched(
        &c,
        &["clone", "huge.regx", "site", "--trust", &root],
        &[c.join("site")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_length_refusal(&err, &id_of("rule a {}"), 9);
    assert!(
        !c.join("site").exists(),
        "a refused clone made its destination"
    );
    assert_eq!(host_state(&c), host_before);
}

#[test]
fn repair_from_a_transfer_file_refuses_a_frame_by_its_length_and_skips_others_unread() {
    let (a, _, root) = sites();
    let b = copy_site(&a, &root);
    let alpha = id_of("rule a {}");
    let beta = id_of("rule beta {}");
    let full = a.join("full.regx");

    // The wanted artifact's frame is longer than its record says: refused by its length, and
    // named as such (not, after reading it through, as corrupt).
    fs::remove_file(b.object_path(&alpha.to_string())).unwrap();
    let file = b.join("huge-alpha.regx");
    with_huge_frame(&full, &alpha, HUGE, &file);
    let out = run_watched(&b, &["repair", "--from", "huge-alpha.regx"], &[b.dot()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "not repaired: artifact {alpha} (missing): SRC's copy is {HUGE} bytes, more than the object's 9: not copied"
        )),
        "{stdout}"
    );
    assert!(!b.object_path(&alpha.to_string()).exists());
    assert_eq!(fs::read_dir(b.dot().join("tmp")).unwrap().count(), 0);

    // A frame of an object repair does not look for is skipped by its length, unread: the
    // wanted artifact after it comes back.
    b.ok(&["repair", "--from", full.to_str().unwrap()]);
    fs::remove_file(b.object_path(&beta.to_string())).unwrap();
    let out = run_watched(&b, &["repair", "--from", "huge-alpha.regx"], &[b.dot()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("restored artifact {beta} (was missing)")),
        "{stdout}"
    );
    assert!(b.ok(&["fsck"]).contains("PASS"));
}

#[test]
fn a_stored_artifact_longer_than_its_record_says_is_refused_by_its_size_by_export_checkout_and_verify()
 {
    let a = Sandbox::new();
    a.init_with_roles();
    a.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    // Whoever holds the medium grows the 9-byte artifact to a sparse TiB.
    let object = a.object_path(&id_of("rule a {}").to_string());
    crate::util::make_writable(&object);
    fs::OpenOptions::new()
        .write(true)
        .open(&object)
        .unwrap()
        .set_len(HUGE)
        .unwrap();
    for (args, out) in [
        (&["export", "out/x.regx"][..], "out"),
        (&["checkout", "alpha@1.0.0", "-o", "co/alpha"], "co"),
        (&["verify", "alpha@1.0.0"], "co"),
    ] {
        fs::create_dir_all(a.join(out)).unwrap();
        let o = run_watched(&a, args, &[a.join(out)]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!("is {HUGE} bytes")) && err.contains("record states 9"),
            "{args:?}: {err}"
        );
        assert!(err.contains("nothing of it was read"), "{args:?}: {err}");
        assert_eq!(fs::read_dir(a.join(out)).unwrap().count(), 0, "{args:?}");
    }
}
