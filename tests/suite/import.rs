//! `reg import` on real registries built by the CLI (FORMAT.md §11.8): a replica advances to the
//! home site's head only through history its own pin and ledger verify, and every refusal
//! leaves it byte-for-byte as it was.

use crate::util::{Sandbox, copy_site, snapshot};
use reg::crypto::envelope::{self, Kind};
use reg::crypto::keys::SecretKey;
use reg::format::checkpoint::Checkpoint;
use reg::format::entry::{Body, Entry, KeyRef, KeyTrust, Role};
use reg::format::id::ObjectId;
use reg::format::transfer::{Header, ObjectKind, Point, Reader, Writer};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// A site's registry and host state, to compare before and after a refused import.
fn site(s: &Sandbox) -> (BTreeMap<PathBuf, Vec<u8>>, BTreeMap<PathBuf, Vec<u8>>) {
    (s.snapshot(), snapshot(&s.join("home")))
}

/// Home site A with one model, and replica B, a copy of it pinned on its own host.
fn home_and_replica() -> (Sandbox, Sandbox, String) {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let b = copy_site(&a, &root);
    (a, b, root)
}

/// Exports from `a` what `b` lacks, using `b`'s checkpoint carried back, into `b/name`.
fn carry(a: &Sandbox, b: &Sandbox, name: &str) -> PathBuf {
    let cp = a.join(&format!("{name}.checkpoint"));
    fs::copy(b.dot().join("checkpoint"), &cp).unwrap();
    let out = a.join(name);
    a.ok(&[
        "export",
        out.to_str().unwrap(),
        "--since",
        cp.to_str().unwrap(),
    ]);
    let there = b.join(name);
    fs::copy(&out, &there).unwrap();
    there
}

/// Refuses `file` at `b` with exit `code`, leaving its registry and host state unchanged;
/// returns stderr.
/// `reg import FILE` of history the site already has: exit 0, "already up to date", unchanged.
fn up_to_date(b: &Sandbox, file: &Path) -> String {
    let before = site(b);
    let out = b.ok(&["import", file.to_str().unwrap()]);
    assert!(out.contains("already up to date"), "{out}");
    assert_eq!(
        site(b),
        before,
        "an import with nothing to do changed the site"
    );
    out
}

/// `reg import FILE` at `b` is refused with `code`, leaving its registry and home as they were
/// (the callers check the message).
fn refused(b: &Sandbox, file: &Path, code: i32) -> String {
    b.refusal(code, &["import", file.to_str().unwrap()])
        .unchanged(b.join("home"))
        .says("")
}

#[test]
fn an_incremental_import_brings_the_replica_to_the_home_head() {
    let (a, b, _) = home_and_replica();
    a.add_model("beta", "2.0.0", &[("b.yar", "rule b {}".into())]);
    a.add_model("gamma", "3.0.0", &[("c.yar", "rule c {}".into())]);
    a.promote("alpha@1.0.0");
    a.promote("gamma@3.0.0");
    a.ok(&[
        "activate",
        "detect",
        "alpha@1.0.0",
        "--reason",
        "go",
        "--key",
        "op.pem",
    ]);
    let file = carry(&a, &b, "t1.regx");

    let before = site(&b);
    let dry = b.ok(&["import", file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(site(&b), before, "a dry run changed the site");
    assert!(dry.contains("would import entries"), "{dry}");
    assert!(dry.contains("model beta@2.0.0: registered\n"), "{dry}");
    assert!(
        dry.contains("model gamma@3.0.0: registered, then PROMOTED"),
        "{dry}"
    );
    assert!(
        dry.contains("model alpha@1.0.0: REGISTERED -> PROMOTED"),
        "{dry}"
    );
    assert!(dry.contains("slot detect: (none) -> alpha@1.0.0"), "{dry}");
    assert!(dry.contains("dry run: nothing was changed"), "{dry}");

    let out = b.ok(&["import", file.to_str().unwrap()]);
    assert!(out.starts_with("imported entries"), "{out}");
    assert_eq!(b.ledger_ids(), a.ledger_ids());
    assert_eq!(
        fs::read(b.dot().join("checkpoint")).unwrap(),
        fs::read(a.dot().join("checkpoint")).unwrap()
    );
    // The same objects, the same refs: the replica is the home registry.
    assert_eq!(
        snapshot(&b.dot().join("objects")),
        snapshot(&a.dot().join("objects"))
    );
    assert_eq!(
        snapshot(&b.dot().join("refs")),
        snapshot(&a.dot().join("refs"))
    );
    let fsck = b.ok(&["fsck"]);
    assert!(fsck.contains("PASS"), "{fsck}");
    assert_eq!(b.ok(&["status"]), a.ok(&["status"]));

    // The same file again: the replica already has it, nothing to do.
    up_to_date(&b, &file);
}

#[test]
fn an_older_or_the_same_file_again_is_already_up_to_date_and_changes_nothing() {
    let (a, b, _) = home_and_replica();
    a.promote("alpha@1.0.0");
    let old = carry(&a, &b, "old.regx");
    a.ok(&[
        "activate",
        "detect",
        "alpha@1.0.0",
        "--reason",
        "go",
        "--key",
        "op.pem",
    ]);
    let new = carry(&a, &b, "new.regx");
    b.ok(&["import", new.to_str().unwrap()]);
    let out = up_to_date(&b, &old);
    assert!(
        out.contains(&format!(
            "its own head is entry {}",
            b.ledger_ids().len() - 1
        )),
        "names this site's head: {out}"
    );
}

#[test]
fn a_fork_is_refused_naming_the_first_differing_entry_and_both_ids() {
    let (a, b, _) = home_and_replica();
    a.promote("alpha@1.0.0");
    let file = carry(&a, &b, "t.regx");
    // The replica writes an entry of its own at the same seq: its history has forked.
    b.ok(&[
        "promote",
        "alpha@1.0.0",
        "--reason",
        "local",
        "--key",
        "op.pem",
    ]);
    let seq = a.ledger_ids().len() - 1;
    let (home, ours) = (&a.ledger_ids()[seq], &b.ledger_ids()[seq]);
    assert_ne!(home, ours);
    let err = refused(&b, &file, 1);
    assert!(
        err.contains(&format!("fork refused: at entry {seq},")),
        "{err}"
    );
    assert!(
        err.contains(home.as_str()) && err.contains(ours.as_str()),
        "{err}"
    );
}

#[test]
fn a_replica_that_recorded_drift_in_its_ledger_is_told_it_forked_and_shown_the_outbox() {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.key("rep.pem");
    a.trust("rep.pem.pub", "reporter", "monitoring");
    a.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let b = copy_site(&a, &root);
    a.promote("alpha@1.0.0");
    let file = carry(&a, &b, "t.regx");
    b.example_observation("obs.json");
    let obs: serde_json::Value =
        serde_json::from_slice(&fs::read(b.join("obs.json")).unwrap()).unwrap();
    let mut obs = obs;
    let shown: serde_json::Value =
        serde_json::from_str(&b.ok(&["show", "alpha@1.0.0", "--json"])).unwrap();
    obs["model"] = shown["id"].clone();
    fs::write(b.join("obs.json"), obs.to_string()).unwrap();
    b.ok(&[
        "drift",
        "record",
        "alpha@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    let err = refused(&b, &file, 1);
    assert!(err.contains("(a `drift` entry)"), "{err}");
    assert!(err.contains("--outbox"), "{err}");
}

#[test]
fn another_registrys_history_is_refused() {
    let (a, _, _) = home_and_replica();
    a.promote("alpha@1.0.0");
    a.ok(&["export", "full.regx"]);
    let c = Sandbox::new();
    c.init_with_roles();
    fs::copy(a.join("full.regx"), c.join("full.regx")).unwrap();
    let err = refused(&c, &c.join("full.regx"), 1);
    assert!(err.contains("carries the history of registry"), "{err}");
}

#[test]
fn a_transfer_that_starts_after_the_replicas_head_is_refused_as_a_gap() {
    let (a, b, _) = home_and_replica();
    a.promote("alpha@1.0.0");
    let head = a.ledger_ids().len() - 1;
    a.ok(&[
        "activate",
        "detect",
        "alpha@1.0.0",
        "--reason",
        "go",
        "--key",
        "op.pem",
    ]);
    a.ok(&["export", "gap.regx", "--since-seq", &head.to_string()]);
    fs::copy(a.join("gap.regx"), b.join("gap.regx")).unwrap();
    let err = refused(&b, &b.join("gap.regx"), 1);
    assert!(
        err.contains("entries") && err.contains("are missing"),
        "{err}"
    );
}

#[test]
fn an_unpinned_replica_refuses_to_import() {
    let (a, b, root) = home_and_replica();
    a.promote("alpha@1.0.0");
    let file = carry(&a, &b, "t.regx");
    b.ok(&["trust", "remove", &root]);
    let err = refused(&b, &file, 1);
    assert!(err.contains("is not pinned on this host"), "{err}");
}

#[test]
fn a_link_or_a_fifo_given_as_the_file_is_refused() {
    let (a, b, _) = home_and_replica();
    a.promote("alpha@1.0.0");
    let file = carry(&a, &b, "t.regx");
    std::os::unix::fs::symlink(&file, b.join("link.regx")).unwrap();
    let err = refused(&b, &b.join("link.regx"), 2);
    assert!(err.contains("link.regx"), "{err}");
    // A FIFO is refused at once, never waited on.
    let fifo = b.join("fifo.regx");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let err = refused(&b, &fifo, 2);
    assert!(err.contains("fifo.regx"), "{err}");
}

/// A transfer file in memory: what the tests below edit and write back with the library's
/// writer, so that the result is well formed and only the importer's own checks can refuse it.
pub(crate) struct Parts {
    pub header: Header,
    pub checkpoint: Vec<u8>,
    pub ids: Vec<ObjectId>,
    pub frames: Vec<(ObjectKind, ObjectId, Vec<u8>)>,
}

pub(crate) fn parse(path: &Path) -> Parts {
    let mut r = Reader::open(fs::File::open(path).unwrap()).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let mut body = Vec::new();
        r.copy_body(&mut body).unwrap();
        frames.push((f.kind, f.id, body));
    }
    Parts {
        header: r.header().clone(),
        checkpoint: r.checkpoint().to_vec(),
        ids: r.entry_ids().to_vec(),
        frames,
    }
}

fn write(parts: &mut Parts, path: &Path) {
    parts.header.objects = parts.frames.len() as u64;
    parts.header.bytes = parts.frames.iter().map(|f| f.2.len() as u64).sum();
    let out = fs::File::create(path).unwrap();
    let mut w = Writer::new(out, &parts.header, &parts.checkpoint, &parts.ids).unwrap();
    for (kind, id, body) in &parts.frames {
        w.object(*kind, id, body.len() as u64, &mut &body[..])
            .unwrap();
    }
    w.finish().unwrap();
}

fn grant_root(to: &SecretKey) -> Body {
    Body::KeyTrust(KeyTrust {
        name: None,
        key: KeyRef {
            fingerprint: to.public().fingerprint().clone(),
            public_key: reg::util::encoding::b64_encode(&to.public().to_bytes()),
        },
        reason: "take over".into(),
        role: Role::Root,
    })
}

#[test]
fn an_entry_signed_by_a_key_the_site_does_not_trust_is_refused() {
    let (a, b, _) = home_and_replica();
    a.promote("alpha@1.0.0");
    let file = carry(&a, &b, "t.regx");
    let mut parts = parse(&file);
    // The medium's holder appends an entry, signed by a key of their own, granting it root.
    let rogue = SecretKey::generate().unwrap();
    let forged = append_convincing(&mut parts, &b, &rogue, &rogue, grant_root(&rogue));
    write(&mut parts, &b.join("forged.regx"));
    let err = refused(&b, &b.join("forged.regx"), 1);
    assert!(err.contains(&forged.to_string()), "names the entry: {err}");
    assert!(
        err.contains(&rogue.public().fingerprint().to_string()),
        "{err}"
    );
    // The untouched file still imports.
    b.ok(&["import", file.to_str().unwrap()]);
}

#[test]
fn a_trust_change_signed_by_a_key_without_the_root_role_is_refused() {
    let (a, b, _) = home_and_replica();
    a.promote("alpha@1.0.0");
    let file = carry(&a, &b, "t.regx");
    let mut parts = parse(&file);
    // The site's own operator key (trusted, but not as root) grants itself root.
    let op = crate::craft::load(&b, "op.pem");
    let forged = append_convincing(&mut parts, &b, &op, &op, grant_root(&op));
    write(&mut parts, &b.join("forged.regx"));
    let err = refused(&b, &b.join("forged.regx"), 1);
    assert!(err.contains(&forged.to_string()), "names the entry: {err}");
    assert!(err.contains("root"), "{err}");
}

#[test]
fn a_missing_or_an_extra_object_is_refused() {
    let (a, b, _) = home_and_replica();
    a.add_model("beta", "2.0.0", &[("b.yar", "rule b {}".into())]);
    let file = carry(&a, &b, "t.regx");
    let good = parse(&file);

    let mut missing = parse(&file);
    let art = missing
        .frames
        .iter()
        .position(|f| f.0 == ObjectKind::Artifact)
        .unwrap();
    let dropped = missing.frames.remove(art).1;
    write(&mut missing, &b.join("missing.regx"));
    let err = refused(&b, &b.join("missing.regx"), 1);
    assert!(err.contains(&format!("lacks artifact {dropped}")), "{err}");

    let mut record_missing = parse(&file);
    let rec = record_missing
        .frames
        .iter()
        .position(|f| f.0 == ObjectKind::Record)
        .unwrap();
    let dropped = record_missing.frames.remove(rec).1;
    write(&mut record_missing, &b.join("no-record.regx"));
    let err = refused(&b, &b.join("no-record.regx"), 1);
    assert!(err.contains(&dropped.to_string()), "{err}");

    // Bytes nothing reaches, appended as an artifact.
    let mut extra = parse(&file);
    let junk = b"smuggled".to_vec();
    let junk_id = ObjectId::of(&junk);
    extra.frames.push((ObjectKind::Artifact, junk_id, junk));
    write(&mut extra, &b.join("extra.regx"));
    let err = refused(&b, &b.join("extra.regx"), 1);
    assert!(
        err.contains(&format!("(artifact {junk_id}) is not an object")),
        "{err}"
    );
    assert!(!b.object_path(&junk_id.to_string()).exists());
    assert_eq!(good.frames.len(), 3);
}

#[test]
fn a_checkpoint_that_does_not_vouch_for_the_entries_is_refused() {
    let (a, b, _) = home_and_replica();
    a.promote("alpha@1.0.0");
    let file = carry(&a, &b, "t.regx");
    let mut parts = parse(&file);
    // Re-signed by the root key, which did not sign the head entry (the operator did).
    let root = crate::craft::load(&b, "root.pem");
    let (_, cp) = reg::format::checkpoint::parse(&parts.checkpoint).unwrap();
    parts.checkpoint = envelope::sign(Kind::Checkpoint, &cp, &root).unwrap();
    write(&mut parts, &b.join("resigned.regx"));
    let err = refused(&b, &b.join("resigned.regx"), 1);
    assert!(err.contains("checkpoint"), "{err}");

    // Signed by the right key, committing to another state.
    let op = crate::craft::load(&b, "op.pem");
    let mut wrong = cp.clone();
    wrong.state = ObjectId::of(b"another state");
    parts.checkpoint = envelope::sign(Kind::Checkpoint, &wrong, &op).unwrap();
    write(&mut parts, &b.join("state.regx"));
    let err = refused(&b, &b.join("state.regx"), 1);
    assert!(err.contains("commits to state"), "{err}");
}

#[test]
fn a_truncated_corrupt_or_oversized_file_is_refused() {
    let (a, b, _) = home_and_replica();
    a.add_model("beta", "2.0.0", &[("b.yar", "rule b {}".into())]);
    let file = carry(&a, &b, "t.regx");
    let bytes = fs::read(&file).unwrap();

    fs::write(b.join("cut.regx"), &bytes[..bytes.len() - 60]).unwrap();
    let err = refused(&b, &b.join("cut.regx"), 1);
    assert!(err.contains("truncated"), "{err}");

    // One byte of the artifact's content flipped (it is the last frame, before the trailer).
    let mut bad = bytes.clone();
    let at = bytes.len() - 48 - 3;
    bad[at] ^= 0x20;
    fs::write(b.join("corrupt.regx"), &bad).unwrap();
    let err = refused(&b, &b.join("corrupt.regx"), 1);
    assert!(err.contains("corrupt"), "{err}");

    // A header length far over the limit: refused before anything is allocated or read.
    let mut big = bytes.clone();
    big[21..25].copy_from_slice(&u32::MAX.to_be_bytes());
    fs::write(b.join("big.regx"), &big).unwrap();
    let err = refused(&b, &b.join("big.regx"), 1);
    assert!(err.contains("over the limit"), "{err}");
    assert!(err.len() < 400, "one short message: {err}");
}

#[test]
fn a_purge_among_the_new_entries_removes_the_bytes_at_the_replica_too() {
    let (a, b, _) = home_and_replica();
    let model = a.ok(&["show", "alpha@1.0.0", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&model).unwrap();
    let artifact = v["artifacts"][0]["blake3"].as_str().unwrap().to_string();
    assert!(b.object_path(&artifact).exists());
    a.ok(&[
        "revoke",
        "alpha@1.0.0",
        "--reason",
        "bad",
        "--key",
        "op.pem",
    ]);
    a.ok(&[
        "purge",
        "alpha@1.0.0",
        "--reason",
        "gone",
        "--key",
        "op.pem",
    ]);
    let file = carry(&a, &b, "t.regx");
    let out = b.ok(&["import", file.to_str().unwrap()]);
    assert!(out.contains("removed 1 purged artifact object(s)"), "{out}");
    assert!(!b.object_path(&artifact).exists());
    assert!(b.ok(&["fsck"]).contains("PASS"));
}

#[test]
fn history_passes_through_three_sites_each_with_its_own_pin() {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let b = copy_site(&a, &root);
    let c = copy_site(&b, &root);
    for round in 0..3 {
        a.add_model(
            &format!("m{round}"),
            "1.0.0",
            &[("r.yar", format!("rule r{round} {{}}"))],
        );
        a.promote(&format!("m{round}@1.0.0"));
        let to_b = carry(&a, &b, &format!("ab{round}.regx"));
        b.ok(&["import", to_b.to_str().unwrap()]);
        // B carries what it received on to C, from C's checkpoint.
        let to_c = carry(&b, &c, &format!("bc{round}.regx"));
        c.ok(&["import", to_c.to_str().unwrap()]);
        for s in [&a, &b, &c] {
            let fsck = s.ok(&["fsck"]);
            assert!(fsck.contains("PASS"), "round {round}: {fsck}");
            assert_eq!(s.ledger_ids(), a.ledger_ids());
        }
    }
    for s in [&b, &c] {
        let pins = fs::read_to_string(s.trust_file()).unwrap();
        assert!(pins.contains(&root), "{pins}");
        assert_eq!(s.ok(&["status"]), a.ok(&["status"]));
    }
}

#[test]
fn an_import_killed_at_every_write_step_leaves_the_site_as_it_was_or_advanced() {
    let (a, b0, root) = home_and_replica();
    a.add_model("beta", "2.0.0", &[("b.yar", "rule b {}".into())]);
    a.promote("alpha@1.0.0");
    carry(&a, &b0, "t.regx");
    let before_ids = b0.ledger_ids();
    for step in [
        "put:before-rename",
        "put:after-rename",
        "commit:after-object",
        "commit:after-index",
        "commit:after-ledger",
        "commit:after-checkpoint",
        "commit:after-refs",
    ] {
        let b = copy_site(&b0, &root);
        let out = b
            .reg()
            .args(["import", "t.regx"])
            .env("REG_FAILPOINT", step)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{step}: the failpoint was not reached"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(&format!("failpoint `{step}`")),
            "{step}"
        );
        let committed = step == "commit:after-checkpoint" || step == "commit:after-refs";
        let fsck = b.ok(&["fsck"]);
        assert!(fsck.contains("PASS"), "{step}: {fsck}");
        if committed {
            assert_eq!(b.ok(&["status"]), a.ok(&["status"]), "{step}");
            let out = b.ok(&["import", "t.regx"]);
            assert!(out.contains("already up to date"), "{step}: {out}");
        } else {
            assert_eq!(b.ok(&["status"]), b0.ok(&["status"]), "{step}");
            b.ok(&["import", "t.regx"]);
            assert_eq!(b.ledger_ids(), a.ledger_ids(), "{step}");
        }
        assert!(b.ledger_ids().starts_with(&before_ids), "{step}");
        assert!(b.ok(&["fsck"]).contains("PASS"), "{step}");
    }
}

#[test]
fn an_artifact_whose_bytes_are_an_entry_or_a_record_travels_once_and_imports() {
    // A publisher may ship any bytes, including a ledger entry's or a record's (both are
    // public): the transfer sends such an object once, in its first place, and the importer
    // must count it as received, or every later transfer of this history would be refused.
    let (a, b, root) = home_and_replica();
    let genesis = a.ledger_ids()[0].clone();
    let record: serde_json::Value =
        serde_json::from_str(&a.ok(&["show", "alpha@1.0.0", "--json"])).unwrap();
    let record = record["id"].as_str().unwrap().to_string();
    let dir = a.join("m-mirror-1.0.0");
    fs::create_dir_all(&dir).unwrap();
    fs::copy(a.object_path(&genesis), dir.join("genesis.bin")).unwrap();
    fs::copy(a.object_path(&record), dir.join("record.bin")).unwrap();
    a.ok(&[
        "bundle",
        "pack",
        "m-mirror-1.0.0",
        "-o",
        "mirror.tar",
        "--key",
        "pub.pem",
        "--name",
        "mirror",
        "--version",
        "1.0.0",
        "--type",
        "ML",
        "--use",
        "detection",
        "--description",
        "bytes that are also objects",
    ]);
    a.ok(&["add", "mirror.tar", "--key", "op.pem"]);
    let file = carry(&a, &b, "t.regx");
    b.ok(&["import", file.to_str().unwrap()]);
    assert!(b.ok(&["fsck"]).contains("PASS"));
    a.ok(&["export", "full.regx"]);
    let c = Sandbox::new();
    fs::copy(a.join("full.regx"), c.join("full.regx")).unwrap();
    c.ok(&["clone", "full.regx", "site", "--trust", &root]);
    assert!(c.ok(&["--registry", "site", "fsck"]).contains("PASS"));
}

#[test]
fn a_record_no_entry_claims_is_refused_where_it_stands_and_never_staged() {
    let (a, b, _) = home_and_replica();
    a.add_model("beta", "2.0.0", &[("b.yar", "rule b {}".into())]);
    let file = carry(&a, &b, "t.regx");
    let mut parts = parse(&file);
    // Two unsigned "records" ahead of everything: the second one already shows the first is
    // claimed by no entry. The file is then cut short after them: a reader that went on
    // (staging as it went) would report the truncation instead.
    let junk: Vec<Vec<u8>> = (0..2).map(|i| vec![i as u8; 4096]).collect();
    for (i, j) in junk.iter().enumerate() {
        parts
            .frames
            .insert(i, (ObjectKind::Record, ObjectId::of(j), j.clone()));
    }
    write(&mut parts, &b.join("junk.regx"));
    let bytes = fs::read(b.join("junk.regx")).unwrap();
    let cut = bytes.len() - 1500;
    fs::write(b.join("junk.regx"), &bytes[..cut]).unwrap();
    let err = refused(&b, &b.join("junk.regx"), 1);
    assert!(
        err.contains(&format!(
            "object frame 0 (record {})",
            ObjectId::of(&junk[0])
        )),
        "{err}"
    );
}

#[test]
fn a_directory_planted_at_a_new_objects_path_stops_the_import_before_it_writes() {
    let (a, b, _) = home_and_replica();
    a.add_model("beta", "2.0.0", &[("b.yar", "rule b {}".into())]);
    let file = carry(&a, &b, "t.regx");
    let parts = parse(&file);
    let art = parts
        .frames
        .iter()
        .find(|f| f.0 == ObjectKind::Artifact)
        .unwrap()
        .1
        .to_string();
    fs::create_dir_all(b.object_path(&art)).unwrap();
    let err = refused(&b, &file, 1);
    assert!(err.contains(&art[2..]), "names the path: {err}");
    fs::remove_dir(b.object_path(&art)).unwrap();
    b.ok(&["import", file.to_str().unwrap()]);
    assert!(b.ok(&["fsck"]).contains("PASS"));
}

/// Appends to `parts` a new head entry `body` naming `actor` as its signer but signed with
/// `signer`, and a checkpoint signed the same way that commits to the state an importer that
/// skipped the check under test would compute from the replica's state (`b`): so that only the
/// check under test, shared with `ledger verify`, refuses it.
fn append_convincing(
    parts: &mut Parts,
    b: &Sandbox,
    actor: &SecretKey,
    signer: &SecretKey,
    body: Body,
) -> ObjectId {
    let mut state = crate::forged_entries::replayed(b);
    for (kind, id, bytes) in &parts.frames {
        if *kind == ObjectKind::Entry && !b.ledger_ids().contains(&id.to_string()) {
            let env = reg::crypto::envelope::Unverified::parse(bytes).unwrap();
            state
                .apply(*id, &Entry::from_envelope(&env).unwrap())
                .unwrap();
        }
    }
    let fp = actor.public().fingerprint().clone();
    let entry = crate::util::next_entry(&state, &fp, "2026-01-01T00:00:00Z", body);
    let bytes = crate::util::forged_entry(&entry, signer);
    let id = ObjectId::of(&bytes);
    // What a replay without the check under test computes: the kind's own rules only.
    state.apply(id, &entry).unwrap();
    let at = parts
        .frames
        .iter()
        .position(|f| f.0 == ObjectKind::Artifact)
        .unwrap_or(parts.frames.len());
    parts.frames.insert(at, (ObjectKind::Entry, id, bytes));
    parts.ids.push(id);
    parts.header.head = Point {
        head: id,
        seq: state.seq(),
    };
    let cp = Checkpoint {
        head: id,
        registry: parts.header.registry,
        seq: state.seq(),
        state: state.hash(),
        time: "2026-01-01T00:00:00Z".into(),
    };
    let payload = reg::util::encoding::to_canonical_vec(&cp).unwrap();
    parts.checkpoint = crate::util::forged_envelope(Kind::Checkpoint, &payload, &fp, signer);
    id
}

#[test]
fn an_entry_naming_the_root_but_not_signed_by_it_is_refused_for_its_signature() {
    let (a, b, _) = home_and_replica();
    a.promote("alpha@1.0.0");
    let file = carry(&a, &b, "t.regx");
    let mut parts = parse(&file);
    // The medium's holder names the site's root as the signer of an entry granting their own key
    // root, and signs it (and its checkpoint) with that key: only the entry's signature check,
    // the one `ledger verify` makes, stands in the way.
    let root = crate::craft::load(&b, "root.pem");
    let rogue = SecretKey::generate().unwrap();
    let forged = append_convincing(&mut parts, &b, &root, &rogue, grant_root(&rogue));
    write(&mut parts, &b.join("forged.regx"));
    let err = refused(&b, &b.join("forged.regx"), 1);
    assert!(
        err.contains(&format!("({forged}) of the transfer file: signature")),
        "names the entry's signature: {err}"
    );
    assert!(err.contains("does not verify"), "{err}");
    b.ok(&["import", file.to_str().unwrap()]);
}

#[test]
fn an_add_whose_record_says_otherwise_is_refused_for_its_record() {
    let (a, b, _) = home_and_replica();
    a.promote("alpha@1.0.0");
    let file = carry(&a, &b, "t.regx");
    let mut parts = parse(&file);
    // The site's own operator key, held by whoever holds the medium, adds `evil@6.6.6` with a
    // record the publisher signed for `det@9.9.9`, record and artifact carried in the file: only
    // the record check, the one `ledger verify` makes, stands in the way.
    let publisher = crate::craft::load(&b, "pub.pem");
    let files = [crate::craft::file(
        "a.yar",
        b"rule evil { condition: true }\n",
    )];
    let manifest = crate::craft::manifest_for(&files, "det", "9.9.9", &publisher);
    let record_bytes = crate::craft::sign(&manifest, &publisher);
    let record = ObjectId::of(&record_bytes);
    let artifact = ObjectId::of(&files[0].data);
    let op = crate::craft::load(&b, "op.pem");
    let body = Body::Add(reg::format::entry::Add {
        artifacts: vec![artifact],
        bundle: record,
        encrypted: false,
        publisher: Some(publisher.public().fingerprint().clone()),
        name: "evil".into(),
        record,
        version: "6.6.6".into(),
    });
    let forged = append_convincing(&mut parts, &b, &op, &op, body);
    let at = parts.frames.iter().position(|f| f.1 == forged).unwrap();
    parts
        .frames
        .insert(at, (ObjectKind::Record, record, record_bytes));
    parts
        .frames
        .push((ObjectKind::Artifact, artifact, files[0].data.clone()));
    write(&mut parts, &b.join("forged.regx"));
    let err = refused(&b, &b.join("forged.regx"), 1);
    assert!(
        err.contains(&format!("({forged}) of the transfer file")),
        "names the entry: {err}"
    );
    assert!(err.contains("record"), "{err}");
}

#[test]
fn a_file_planted_where_a_new_objects_fan_out_directory_goes_is_refused_before_anything_changes() {
    let (a, b, _) = home_and_replica();
    a.promote("alpha@1.0.0");
    a.add_model("beta", "1.0.0", &[("b.yar", "rule b {}".into())]);
    let file = carry(&a, &b, "t.regx");
    let parts = parse(&file);
    // A new object whose fan-out directory the replica does not have yet.
    let (_, id, _) = parts
        .frames
        .iter()
        .find(|f| !b.dot().join("objects").join(&f.1.to_string()[..2]).exists())
        .expect("some new object starts a fan-out directory");
    let fan = b.dot().join("objects").join(&id.to_string()[..2]);
    fs::write(&fan, b"planted").unwrap();
    let err = refused(&b, &file, 1);
    assert!(err.contains(&fan.display().to_string()), "{err}");
    assert!(err.contains("a regular file"), "{err}");
    fs::remove_file(&fan).unwrap();
    b.ok(&["import", file.to_str().unwrap()]);
}
