//! `reg repair --from SRC` on real registries built by the CLI (FORMAT.md §11.13): damaged
//! objects come back from a second copy of the registry or a full export, only after their hash
//! checks; the ledger, checkpoint, config, index and refs never change; a corrupt or linked copy
//! in SRC, or another registry, restores nothing wrong.

use crate::util::{Sandbox, make_writable, snapshot};
use reg::format::id::ObjectId;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};

/// Site A: two models, one with three artifacts. Returns the site and its root fingerprint.
fn site_a() -> (Sandbox, String) {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    a.add_model(
        "big",
        "2.0.0",
        &[
            ("a.bin", "first artifact\n".into()),
            ("b.bin", "second artifact\n".into()),
            ("sub/c.bin", "third artifact\n".into()),
        ],
    );
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    (a, root)
}

/// Site B: a copy of A's `.registry` in another sandbox (its own trust file and host state),
/// pinned there.
fn site_b(a: &Sandbox, root: &str) -> Sandbox {
    let b = Sandbox::new();
    crate::util::cp_a(&a.dot(), b.path());
    b.ok(&["trust", "add", root]);
    b
}

/// Runs `reg repair --from SRC` at `s`.
fn repair_from(s: &Sandbox, src: impl AsRef<std::ffi::OsStr>) -> std::process::Output {
    s.reg()
        .args(["repair", "--from"])
        .arg(src)
        .output()
        .unwrap()
}

fn id_of(text: &str) -> String {
    ObjectId::of(text.as_bytes()).to_string()
}

fn record_id(s: &Sandbox, spec: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&s.ok(&["show", spec, "--json"])).unwrap();
    v["id"].as_str().unwrap().to_string()
}

/// Overwrites an object with other bytes.
fn corrupt(path: &Path) {
    make_writable(path);
    fs::write(path, b"not the object any more").unwrap();
}

/// The files a repair must never change, with their bytes.
fn fixed_files(s: &Sandbox) -> BTreeMap<PathBuf, Vec<u8>> {
    snapshot(&s.dot())
        .into_iter()
        .filter(|(p, _)| !p.starts_with("objects") && !p.starts_with("tmp"))
        .collect()
}

/// What was damaged in B: (kind, id).
struct Damage {
    artifact_deleted: String,
    record_corrupt: String,
    artifact_linked: String,
    entry_deleted: String,
}

/// Deletes an artifact, overwrites a record, puts a link in place of an artifact (pointing at
/// a file holding its very bytes) and deletes a non-genesis entry.
fn damage(b: &Sandbox) -> Damage {
    let d = Damage {
        artifact_deleted: id_of("second artifact\n"),
        record_corrupt: record_id(b, "det@1.0.0"),
        artifact_linked: id_of("third artifact\n"),
        entry_deleted: b.ledger_ids()[3].clone(),
    };
    fs::remove_file(b.object_path(&d.artifact_deleted)).unwrap();
    corrupt(&b.object_path(&d.record_corrupt));
    let linked = b.object_path(&d.artifact_linked);
    fs::write(b.join("lure"), "third artifact\n").unwrap();
    fs::remove_file(&linked).unwrap();
    symlink(b.join("lure"), &linked).unwrap();
    fs::remove_file(b.object_path(&d.entry_deleted)).unwrap();
    d
}

fn is_intact_object(s: &Sandbox, id: &str) {
    let p = s.object_path(id);
    let m = fs::symlink_metadata(&p).unwrap();
    assert!(m.file_type().is_file(), "{id} is a regular file again");
    assert_eq!(m.permissions().mode() & 0o777, 0o444, "{id} is read-only");
    assert_eq!(ObjectId::of(&fs::read(&p).unwrap()).to_string(), id);
}

fn fsck_fails(s: &Sandbox) {
    let out = s.reg().arg("fsck").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "fsck fails on the damaged store"
    );
}

fn fsck_passes(s: &Sandbox) {
    let out = s.ok(&["fsck"]);
    assert!(out.contains("PASS"), "{out}");
}

/// Checks B after a full repair: every damaged object restored and named, nothing else changed.
fn assert_repaired(b: &Sandbox, d: &Damage, out: &str, before: &BTreeMap<PathBuf, Vec<u8>>) {
    for line in [
        format!("restored entry {} (was missing)", d.entry_deleted),
        format!("restored record {} (was corrupt)", d.record_corrupt),
        format!("restored artifact {} (was missing)", d.artifact_deleted),
        format!(
            "restored artifact {} (was not a regular file)",
            d.artifact_linked
        ),
    ] {
        assert!(out.contains(&line), "missing `{line}` in:\n{out}");
    }
    assert!(out.contains("restored 4 object(s)"), "{out}");
    for id in [
        &d.entry_deleted,
        &d.record_corrupt,
        &d.artifact_deleted,
        &d.artifact_linked,
    ] {
        is_intact_object(b, id);
    }
    assert_eq!(
        &fixed_files(b),
        before,
        "ledger, checkpoint, config, index and refs unchanged"
    );
    assert_eq!(
        fs::read_dir(b.dot().join("tmp")).unwrap().count(),
        0,
        "nothing left in tmp/"
    );
    fsck_passes(b);
    let again = b.ok(&["repair", "--from", "/nonexistent"]);
    assert!(again.contains("nothing to repair"), "{again}");
}

#[test]
fn a_second_registry_restores_every_damaged_object_and_fsck_passes_again() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    let d = damage(&b);
    fsck_fails(&b);
    let before = fixed_files(&b);
    let out = b.ok(&["repair", "--from", a.path().to_str().unwrap()]);
    assert_repaired(&b, &d, &out, &before);
}

#[test]
fn a_full_export_restores_every_damaged_object_and_fsck_passes_again() {
    let (a, root) = site_a();
    a.ok(&["export", "full.regx"]);
    let b = site_b(&a, &root);
    let d = damage(&b);
    fsck_fails(&b);
    let before = fixed_files(&b);
    let file = a.join("full.regx");
    let out = b.ok(&["repair", "--from", file.to_str().unwrap()]);
    assert!(out.contains("from transfer file"), "{out}");
    assert_repaired(&b, &d, &out, &before);
}

#[test]
fn the_dot_registry_directory_itself_is_a_source_and_a_lost_genesis_comes_back() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    let genesis = b.ledger_ids()[0].clone();
    fs::remove_file(b.object_path(&genesis)).unwrap();
    let err = b.fails(1, &["status"]);
    assert!(err.contains(&genesis), "{err}");
    let out = b.ok(&["repair", "--from", a.dot().to_str().unwrap()]);
    assert!(
        out.contains(&format!("restored entry {genesis} (was missing)")),
        "{out}"
    );
    is_intact_object(&b, &genesis);
    fsck_passes(&b);
}

#[test]
fn an_object_src_holds_corrupt_too_is_reported_and_nothing_wrong_is_restored() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    let bad = id_of("first artifact\n");
    let good = id_of("second artifact\n");
    corrupt(&a.object_path(&bad));
    corrupt(&b.object_path(&bad));
    let damaged = fs::read(b.object_path(&bad)).unwrap();
    fs::remove_file(b.object_path(&good)).unwrap();
    let out = repair_from(&b, a.path());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        // Its copy in SRC is corrupt too: named as such, or, when the damage changed its
        // length, as longer than the object (then not even copied to find out).
        stdout.contains(&format!(
            "not repaired: artifact {bad} (corrupt): SRC's copy is corrupt too"
        )) || stdout.contains(&format!(
            "not repaired: artifact {bad} (corrupt): SRC's copy is 23 bytes, more than the object's 15: not copied"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("restored artifact {good} (was missing)")),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 damaged object(s) could not be repaired"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
    assert_eq!(
        fs::read(b.object_path(&bad)).unwrap(),
        damaged,
        "left as it was"
    );
    is_intact_object(&b, &good);
}

#[test]
fn a_corrupt_frame_in_a_transfer_file_restores_nothing_for_it_and_the_rest_still_comes_back() {
    let (a, root) = site_a();
    a.ok(&["export", "full.regx"]);
    let b = site_b(&a, &root);
    let bad = id_of("first artifact\n");
    let good = id_of("third artifact\n");
    fs::remove_file(b.object_path(&bad)).unwrap();
    fs::remove_file(b.object_path(&good)).unwrap();
    // Flip one byte of the artifact's bytes inside its frame.
    let file = a.join("full.regx");
    let mut bytes = fs::read(&file).unwrap();
    let at = bytes
        .windows(b"first artifact".len())
        .position(|w| w == b"first artifact")
        .unwrap();
    bytes[at] ^= 0x20;
    fs::write(&file, bytes).unwrap();
    let out = repair_from(&b, &file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "not repaired: artifact {bad} (missing): the transfer file's copy is corrupt"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("restored artifact {good} (was missing)")),
        "{stdout}"
    );
    assert!(!b.object_path(&bad).exists());
    is_intact_object(&b, &good);
}

#[test]
fn another_registry_is_refused_as_src_and_nothing_changes() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    damage(&b);
    let other = Sandbox::new();
    other.init_with_roles();
    other.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    other.ok(&["export", "other.regx"]);
    let before = b.snapshot();
    for src in [other.path().to_path_buf(), other.join("other.regx")] {
        let err = b.fails(1, &["repair", "--from", src.to_str().unwrap()]);
        assert!(err.contains("not this registry"), "{err}");
        assert!(
            err.contains("another registry's objects are never taken"),
            "{err}"
        );
        assert_eq!(b.snapshot(), before, "nothing changed");
    }
    let err = b.fails(2, &["repair", "--from", b.join("lure").to_str().unwrap()]);
    assert!(
        err.contains("is not a registry or a transfer file"),
        "{err}"
    );
    assert_eq!(b.snapshot(), before);
}

#[test]
fn dry_run_lists_what_it_would_restore_and_changes_nothing() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    // Only an artifact: the ledger verifies, so the dry run sees everything.
    let gone = id_of("first artifact\n");
    fs::remove_file(b.object_path(&gone)).unwrap();
    let before = b.snapshot();
    let out = b.ok(&["repair", "--from", a.path().to_str().unwrap(), "--dry-run"]);
    assert!(
        out.contains(&format!("would restore artifact {gone} (was missing)")),
        "{out}"
    );
    assert!(out.contains("would restore 1 object(s)"), "{out}");
    assert_eq!(b.snapshot(), before, "a dry run changes nothing");
    // With an entry gone, it lists it and says it stopped there.
    let d = damage(&b);
    let before = b.snapshot();
    let out = b
        .reg()
        .args(["repair", "--dry-run", "--from"])
        .arg(a.path())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "would restore entry {} (was missing)",
            d.entry_deleted
        )),
        "{stdout}"
    );
    assert!(stderr.contains("the dry run stopped"), "{stderr}");
    assert_eq!(b.snapshot(), before, "a dry run changes nothing");
}

#[test]
fn nothing_damaged_is_nothing_to_repair_and_src_is_never_read() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    let before = b.snapshot();
    let out = b.ok(&["repair", "--from", a.path().to_str().unwrap()]);
    assert!(
        out.contains("nothing to repair: all 12 objects the ledger names are intact"),
        "{out}"
    );
    assert_eq!(b.snapshot(), before);
}

#[test]
fn a_link_planted_at_an_object_path_in_src_is_not_followed() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    let id = id_of("first artifact\n");
    // In SRC, a link to a file holding exactly the right bytes: still not followed.
    let lure = a.join("lure");
    fs::write(&lure, "first artifact\n").unwrap();
    fs::remove_file(a.object_path(&id)).unwrap();
    symlink(&lure, a.object_path(&id)).unwrap();
    fs::remove_file(b.object_path(&id)).unwrap();
    let out = repair_from(&b, a.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "not repaired: artifact {id} (missing): SRC holds a link or special file in its place (not followed)"
        )),
        "{stdout}"
    );
    assert!(fs::symlink_metadata(b.object_path(&id)).is_err());
    // A linked fan-out directory in SRC is not followed either.
    let fan = a.object_path(&id).parent().unwrap().to_path_buf();
    let moved = a.join("fan-elsewhere");
    fs::rename(&fan, &moved).unwrap();
    fs::remove_file(moved.join(&id[2..])).unwrap();
    fs::write(moved.join(&id[2..]), "first artifact\n").unwrap();
    symlink(&moved, &fan).unwrap();
    let out = repair_from(&b, a.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("in SRC its fan-out directory is a symbolic link (not followed)"),
        "{stdout}"
    );
    assert!(fs::symlink_metadata(b.object_path(&id)).is_err());
}

#[test]
fn a_store_that_lost_every_artifact_is_repaired_holding_a_bounded_number_of_files_open() {
    // One staged file open per object until the end would fail on a large store: under a limit
    // of 48 open files, 120 lost artifacts must come back, from a registry and from a file.
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    let files: Vec<(String, String)> = (0..120)
        .map(|i| (format!("r{i:03}.yar"), format!("rule r{i} {{}}")))
        .collect();
    let files: Vec<(&str, String)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    a.add_model("many", "1.0.0", &files);
    a.ok(&["export", "full.regx"]);
    for src in [a.path().to_path_buf(), a.join("full.regx")] {
        let b = site_b(&a, &root);
        for (_, content) in &files {
            let p = b.object_path(&id_of(content));
            if p.exists() {
                fs::remove_file(p).unwrap();
            }
        }
        let reg = b.reg();
        let mut c = std::process::Command::new("bash");
        c.arg("-c")
            .arg("ulimit -n 48 && exec \"$0\" repair --from \"$1\"")
            .arg(reg.get_program())
            .arg(&src)
            .current_dir(b.path())
            .env_clear();
        for (k, v) in reg.get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        let out = c.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("restored 120 object(s)"), "{stdout}");
        fsck_passes(&b);
    }
}

#[test]
fn a_transfer_file_cut_short_restores_what_it_holds_before_the_cut_and_names_the_rest() {
    let (a, root) = site_a();
    a.ok(&["export", "full.regx"]);
    let b = site_b(&a, &root);
    let file = a.join("full.regx");
    let bytes = fs::read(&file).unwrap();
    let at = |text: &str| {
        bytes
            .windows(text.len())
            .position(|w| w == text.as_bytes())
            .unwrap()
    };
    let (x, y) = ("first artifact\n", "third artifact\n");
    let (early, late) = if at(x) < at(y) { (x, y) } else { (y, x) };
    fs::write(&file, &bytes[..at(late) + 3]).unwrap();
    for t in [early, late] {
        fs::remove_file(b.object_path(&id_of(t))).unwrap();
    }
    let out = repair_from(&b, &file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("restored artifact {} (was missing)", id_of(early))),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "not repaired: artifact {} (missing): the transfer file broke off in it: the transfer file is truncated",
            id_of(late)
        )),
        "{stdout}"
    );
    is_intact_object(&b, &id_of(early));
    assert!(!b.object_path(&id_of(late)).exists());
    assert_eq!(fs::read_dir(b.dot().join("tmp")).unwrap().count(), 0);
}

#[test]
fn a_directory_where_an_object_belongs_is_named_and_left_for_a_person() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    let id = id_of("first artifact\n");
    let p = b.object_path(&id);
    fs::remove_file(&p).unwrap();
    fs::create_dir(&p).unwrap();
    fs::write(p.join("inside"), b"kept").unwrap();
    let out = repair_from(&b, a.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "not repaired: artifact {id} (not a regular file): a directory is in its place"
        )),
        "{stdout}"
    );
    assert_eq!(
        fs::read(p.join("inside")).unwrap(),
        b"kept",
        "nothing removed"
    );
}

#[test]
fn an_entry_src_lacks_stops_before_the_records_and_artifacts_with_the_ledger_named() {
    let (a, root) = site_a();
    // An incremental export: the entries after 4 only.
    a.ok(&["export", "inc.regx", "--since-seq", "4"]);
    let b = site_b(&a, &root);
    let entry = b.ledger_ids()[3].clone();
    fs::remove_file(b.object_path(&entry)).unwrap();
    let before = b.snapshot();
    let file = a.join("inc.regx");
    let out = repair_from(&b, &file);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "not repaired: entry {entry} (missing): SRC does not hold it"
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains("the records and artifacts were not examined: ledger entry 3"),
        "{stderr}"
    );
    assert_eq!(b.snapshot(), before, "nothing to restore, nothing changed");
    // A second copy that holds it finishes the job.
    let out = b.ok(&["repair", "--from", a.path().to_str().unwrap()]);
    assert!(out.contains(&format!("restored entry {entry}")), "{out}");
    fsck_passes(&b);
}

#[test]
fn a_copy_longer_than_the_object_is_never_copied_to_this_hosts_disk() {
    // A sparse file costs the medium's holder nothing; copying it to find out that it does not
    // hash to the object would fill this host's disk. Its length alone refuses it.
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    let good = id_of("second artifact\n");
    let path = a.object_path(&good);
    make_writable(&path);
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    fs::remove_file(b.object_path(&good)).unwrap();
    let started = std::time::Instant::now();
    let out = repair_from(&b, a.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "not repaired: artifact {good} (missing): SRC's copy is {} bytes, more than the object's 16: not copied",
            4u64 << 30
        )),
        "{stdout}"
    );
    assert!(started.elapsed().as_secs() < 60, "it read the copy");
    assert_eq!(fs::read_dir(b.dot().join("tmp")).unwrap().count(), 0);
}

#[test]
fn a_forged_ledger_line_gets_nothing_restored_that_is_not_its_entry() {
    // The `ledger` file's lines are not signed: a line changed to name bytes the medium holds
    // (anything at all) must not bring those bytes into the store.
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    let blob = b"arbitrary attacker bytes\n";
    let x = ObjectId::of(blob).to_string();
    let dir = a.dot().join("objects").join(&x[..2]);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(&x[2..]), blob).unwrap();
    let ledger = b.dot().join("ledger");
    make_writable(&ledger);
    let mut lines: Vec<String> = fs::read_to_string(&ledger)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines[3] = x.clone();
    fs::write(&ledger, lines.join("\n") + "\n").unwrap();
    let objects = snapshot(&b.dot().join("objects"));
    let out = repair_from(&b, a.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "not repaired: entry {x} (missing): SRC's bytes are not a ledger entry"
        )),
        "{stdout}"
    );
    assert_eq!(
        snapshot(&b.dot().join("objects")),
        objects,
        "nothing was restored"
    );
}

#[test]
fn an_entry_is_restored_only_at_the_position_the_ledger_lists_it() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule r { condition: true }\n".into())],
    );
    s.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    let src = s.join("src");
    fs::create_dir(&src).unwrap();
    crate::util::cp_a(&s.dot(), &src);
    // Whoever holds the medium swaps two lines of the (unsigned) ledger file and deletes the two
    // entry objects, hoping repair restores each where the file now lists it.
    let ids = s.ledger_ids();
    let mut swapped = ids.clone();
    swapped.swap(3, 4);
    let ledger = s.dot().join("ledger");
    make_writable(&ledger);
    fs::write(
        &ledger,
        swapped.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    for id in &ids[3..5] {
        fs::remove_file(s.object_path(id)).unwrap();
    }
    let o = repair_from(&s, src.join(".registry"));
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(
        out.contains("SRC's bytes are entry 4, but the ledger lists this id at entry 3")
            || err.contains("SRC's bytes are entry 4, but the ledger lists this id at entry 3"),
        "{out}{err}"
    );
    for id in &ids[3..5] {
        assert!(
            !s.object_path(id).exists(),
            "{id} was restored out of place"
        );
    }
}

#[test]
fn a_dry_run_records_nothing_on_this_host_and_a_repair_records_what_it_verified() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    fs::remove_file(b.object_path(&id_of("first artifact\n"))).unwrap();
    // This host's record of the registry is gone (a new state directory): only a real repair,
    // which verified the ledger, writes it again.
    let state_dir = b.join("home/.local/state/reg");
    fs::remove_dir_all(&state_dir).unwrap();
    b.ok(&["repair", "--from", a.path().to_str().unwrap(), "--dry-run"]);
    assert!(!state_dir.exists(), "a dry run recorded a checkpoint");
    b.ok(&["repair", "--from", a.path().to_str().unwrap()]);
    assert_eq!(fs::read_dir(&state_dir).unwrap().count(), 1);
}

#[test]
fn a_dry_run_with_a_lost_genesis_says_what_it_would_restore_and_stops_there() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    let genesis = b.ledger_ids()[0].clone();
    fs::remove_file(b.object_path(&genesis)).unwrap();
    let before = b.snapshot();
    let out = repair_from_dry(&b, a.path());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("would restore entry {genesis} (was missing)")),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "the registry cannot be opened until its genesis entry {genesis} is restored"
        )),
        "{stderr}"
    );
    assert_eq!(b.snapshot(), before, "a dry run changes nothing");
}

fn repair_from_dry(s: &Sandbox, src: &Path) -> std::process::Output {
    s.reg()
        .args(["repair", "--dry-run", "--from"])
        .arg(src)
        .output()
        .unwrap()
}

#[test]
fn only_an_unpinned_registry_is_said_to_be_checked_only_against_itself() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    fs::remove_file(b.object_path(&id_of("first artifact\n"))).unwrap();
    let out = repair_from(&b, a.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("is not pinned on this host"), "{err}");
    b.ok(&["trust", "remove", &root]);
    fs::remove_file(b.object_path(&id_of("second artifact\n"))).unwrap();
    let out = repair_from(&b, a.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("is not pinned on this host; it was checked only against itself"),
        "{err}"
    );
}

#[test]
fn a_source_file_holding_only_the_start_of_the_transfer_magic_is_refused() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    // Something to repair, so that SRC is opened at all.
    fs::remove_file(b.object_path(&id_of("first artifact\n"))).unwrap();
    let before = b.snapshot();
    for n in [0, 1, 16] {
        let short = b.join(&format!("short{n}.regx"));
        fs::write(&short, &reg::format::transfer::MAGIC[..n]).unwrap();
        let err = b.fails(2, &["repair", "--from", short.to_str().unwrap()]);
        assert!(
            err.contains("a file that does not start with the transfer magic"),
            "{n}: {err}"
        );
    }
    assert_eq!(b.snapshot(), before);
}

#[test]
fn a_source_whose_registry_or_store_is_a_link_is_refused_not_followed() {
    let (a, root) = site_a();
    let b = site_b(&a, &root);
    fs::remove_file(b.object_path(&id_of("first artifact\n"))).unwrap();
    let before = b.snapshot();
    // SRC/.registry a link to A's registry; then SRC/.registry/objects a link to A's store.
    let src = b.join("src");
    fs::create_dir(&src).unwrap();
    symlink(a.dot(), src.join(".registry")).unwrap();
    let err = b.fails(2, &["repair", "--from", src.to_str().unwrap()]);
    assert!(err.contains("is a symbolic link, not a directory"), "{err}");
    fs::remove_file(src.join(".registry")).unwrap();
    crate::util::cp_a(&a.dot(), &src);
    fs::rename(src.join(".registry/objects"), b.join("store")).unwrap();
    symlink(b.join("store"), src.join(".registry/objects")).unwrap();
    let err = b.fails(2, &["repair", "--from", src.to_str().unwrap()]);
    assert!(err.contains("is a symbolic link, not a directory"), "{err}");
    assert_eq!(b.snapshot(), before);
}
