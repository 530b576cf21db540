//! `reg export` on real registries built by the CLI: what a transfer file carries, from which
//! base, and every refusal (FORMAT.md §11).

use crate::util::{Sandbox, copy_site, snapshot};
use reg::format::id::ObjectId;
use reg::format::transfer::{Header, ObjectKind, Reader};
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// A transfer file read back whole with the library's reader (every hash and the trailer
/// checked): its header, entry ids, and each frame's kind, id and bytes.
struct Read {
    header: Header,
    ids: Vec<String>,
    frames: Vec<(ObjectKind, String, Vec<u8>)>,
}

fn read(path: &Path) -> Read {
    let file = std::io::BufReader::new(fs::File::open(path).unwrap());
    let mut r = Reader::open(file).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let mut body = Vec::new();
        r.copy_body(&mut body).unwrap();
        frames.push((f.kind, f.id.to_string(), body));
    }
    Read {
        header: r.header().clone(),
        ids: r.entry_ids().iter().map(ObjectId::to_string).collect(),
        frames,
    }
}

/// Every object file in the store, by id.
fn store_ids(s: &Sandbox) -> BTreeSet<String> {
    snapshot(&s.dot().join("objects"))
        .into_keys()
        .map(|p| p.to_string_lossy().replace('/', ""))
        .filter(|id| id.len() == 64)
        .collect()
}

#[test]
fn a_full_export_carries_every_entry_and_every_object_and_changes_nothing() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    s.promote("alpha@1.0.0");
    let before = s.snapshot();
    let out = s.ok(&["export", "full.regx"]);
    assert!(out.contains("from genesis (full export)"), "{out}");
    assert_eq!(s.snapshot(), before, "export changed the registry");
    let t = read(&s.join("full.regx"));
    assert_eq!(t.header.base, None);
    assert_eq!(t.ids, s.ledger_ids());
    assert_eq!(t.header.head.seq as usize, s.ledger_ids().len() - 1);
    let ids: BTreeSet<String> = t.frames.iter().map(|f| f.1.clone()).collect();
    assert_eq!(ids.len(), t.frames.len(), "an object sent twice");
    assert_eq!(ids, store_ids(&s));
    for (_, id, body) in &t.frames {
        assert_eq!(&fs::read(s.object_path(id)).unwrap(), body);
    }
    let kinds: Vec<ObjectKind> = t.frames.iter().map(|f| f.0).collect();
    assert_eq!(kinds.last(), Some(&ObjectKind::Artifact));
    assert_eq!(
        kinds.iter().filter(|k| **k == ObjectKind::Record).count(),
        1
    );
}

#[test]
fn an_incremental_export_carries_only_what_the_base_lacks() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    // The receiving site's checkpoint, carried back.
    fs::copy(s.dot().join("checkpoint"), s.join("site-b.checkpoint")).unwrap();
    let base_seq = s.ledger_ids().len() - 1;
    let stored_before = store_ids(&s);
    // A new model sharing alpha's file (already at the base) and holding a new one.
    s.add_model(
        "beta",
        "1.0.0",
        &[("a.yar", "rule a {}".into()), ("b.yar", "rule b {}".into())],
    );
    s.promote("alpha@1.0.0");
    s.promote("beta@1.0.0");
    s.ok(&[
        "activate",
        "edr",
        "beta@1.0.0",
        "--reason",
        "rollout",
        "--key",
        "op.pem",
    ]);
    let out = s.ok(&["export", "inc.regx", "--since", "site-b.checkpoint"]);
    assert!(out.contains(&format!("after entry {base_seq}")), "{out}");
    let t = read(&s.join("inc.regx"));
    let ledger = s.ledger_ids();
    assert_eq!(t.header.base.unwrap().seq as usize, base_seq);
    assert_eq!(t.header.base.unwrap().head.to_string(), ledger[base_seq]);
    assert_eq!(t.ids, ledger[base_seq + 1..].to_vec());
    let new: BTreeSet<String> = store_ids(&s).difference(&stored_before).cloned().collect();
    let sent: BTreeSet<String> = t.frames.iter().map(|f| f.1.clone()).collect();
    assert_eq!(sent, new, "exactly the objects the base lacks");
    let blake = |text: &str| blake3::hash(text.as_bytes()).to_hex().to_string();
    assert!(sent.contains(&blake("rule b {}")));
    assert!(
        !sent.contains(&blake("rule a {}")),
        "the base has alpha's file"
    );
    let kinds: Vec<ObjectKind> = t.frames.iter().map(|f| f.0).collect();
    assert_eq!(
        kinds,
        [
            ObjectKind::Record,
            ObjectKind::Entry,
            ObjectKind::Entry,
            ObjectKind::Entry,
            ObjectKind::Entry,
            ObjectKind::Artifact
        ]
    );
    // The same base by number gives the same bytes.
    s.ok(&[
        "export",
        "by-seq.regx",
        "--since-seq",
        &base_seq.to_string(),
    ]);
    assert_eq!(
        fs::read(s.join("by-seq.regx")).unwrap(),
        fs::read(s.join("inc.regx")).unwrap()
    );
}

#[test]
fn a_checkpoint_of_a_fork_or_of_another_registry_is_refused() {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    // A copy of the site that then wrote its own entry: a fork at the next seq.
    let b = copy_site(&a, &root);
    b.add_model("forked", "1.0.0", &[("f.yar", "rule f {}".into())]);
    a.add_model("gamma", "1.0.0", &[("g.yar", "rule g {}".into())]);
    fs::copy(b.dot().join("checkpoint"), a.join("fork.checkpoint")).unwrap();
    let seq = a.ledger_ids().len() - 1;
    let err = a.fails(1, &["export", "x.regx", "--since", "fork.checkpoint"]);
    assert!(
        err.contains("not from this registry's history")
            && err.contains(&format!("at entry {seq} it names {}", b.ledger_ids()[seq]))
            && err.contains(&a.ledger_ids()[seq])
            && err.contains("a fork"),
        "{err}"
    );
    // Another registry altogether.
    let other = Sandbox::new();
    other.init_with_roles();
    fs::copy(other.dot().join("checkpoint"), a.join("other.checkpoint")).unwrap();
    let err = a.fails(1, &["export", "x.regx", "--since", "other.checkpoint"]);
    assert!(
        err.contains("not from this registry's history") && err.contains("it names registry"),
        "{err}"
    );
    // A site ahead of this one (the fork plus one more entry).
    b.add_model("more", "1.0.0", &[("m.yar", "rule m {}".into())]);
    b.add_model("most", "1.0.0", &[("n.yar", "rule n {}".into())]);
    fs::copy(b.dot().join("checkpoint"), a.join("ahead.checkpoint")).unwrap();
    let err = a.fails(1, &["export", "x.regx", "--since", "ahead.checkpoint"]);
    assert!(err.contains("past this registry's head"), "{err}");
    // Not a checkpoint at all.
    fs::write(a.join("junk"), "x".repeat(5000)).unwrap();
    let err = a.fails(1, &["export", "x.regx", "--since", "junk"]);
    assert!(err.contains("not a checkpoint") && err.len() < 600, "{err}");
    assert!(!a.join("x.regx").exists());
}

#[test]
fn a_checkpoint_signed_by_another_key_than_the_entrys_signer_is_refused() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    // The head entry (the add) was signed by the operator; re-sign its checkpoint with root.
    let bytes = fs::read(s.dot().join("checkpoint")).unwrap();
    let (_, cp) = reg::format::checkpoint::parse(&bytes).unwrap();
    let root = reg::crypto::keys::load_secret(&s.join("root.pem"), &mut |_| None).unwrap();
    let forged =
        reg::crypto::envelope::sign(reg::crypto::envelope::Kind::Checkpoint, &cp, &root).unwrap();
    fs::write(s.join("forged.checkpoint"), forged).unwrap();
    s.add_model("beta", "1.0.0", &[("b.yar", "rule b {}".into())]);
    let err = s.fails(1, &["export", "x.regx", "--since", "forged.checkpoint"]);
    assert!(
        err.contains("signature does not verify with the key that signed entry"),
        "{err}"
    );
}

#[test]
fn a_base_past_the_head_is_refused_and_at_the_head_is_up_to_date() {
    let s = Sandbox::new();
    s.init_with_roles();
    let head = s.ledger_ids().len() - 1;
    let err = s.fails(
        2,
        &["export", "x.regx", "--since-seq", &(head + 1).to_string()],
    );
    assert!(
        err.contains(&format!(
            "entry {} is past this registry's head (entry {head})",
            head + 1
        )),
        "{err}"
    );
    // At the head: nothing to export is success, and no file is written.
    let out = s.ok(&["export", "x.regx", "--since-seq", &head.to_string()]);
    assert!(out.contains("already up to date"), "{out}");
    fs::copy(s.dot().join("checkpoint"), s.join("same.checkpoint")).unwrap();
    let out = s.ok(&["export", "x.regx", "--since", "same.checkpoint"]);
    assert!(out.contains("already up to date"), "{out}");
    assert!(!s.join("x.regx").exists());
}

#[test]
fn an_existing_out_is_never_overwritten() {
    let s = Sandbox::new();
    s.init_with_roles();
    fs::write(s.join("taken.regx"), "keep me").unwrap();
    let err = s.fails(2, &["export", "taken.regx"]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(fs::read(s.join("taken.regx")).unwrap(), b"keep me");
}

#[test]
fn a_corrupt_object_stops_the_export_and_leaves_nothing() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let id = blake3::hash(b"rule a {}").to_hex().to_string();
    let path = s.object_path(&id);
    crate::util::make_writable(&path);
    fs::write(&path, "rule A {}").unwrap();
    let err = s.fails(1, &["export", "x.regx"]);
    assert!(err.contains(&id) && err.contains("corrupt"), "{err}");
    assert!(!s.join("x.regx").exists());
    let left: Vec<_> = fs::read_dir(s.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".reg-export-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_purged_models_artifacts_are_never_exported_and_never_needed() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let before_purge = s.ledger_ids().len() - 1;
    s.ok(&[
        "revoke",
        "alpha@1.0.0",
        "--reason",
        "bad",
        "--key",
        "op.pem",
    ]);
    s.ok(&["purge", "alpha@1.0.0", "--reason", "bad", "--key", "op.pem"]);
    let a = blake3::hash(b"rule a {}").to_hex().to_string();
    assert!(
        !s.object_path(&a).exists(),
        "the purge deleted the artifact"
    );
    // A full export holds what the registry holds: the record and history, not the bytes.
    s.ok(&["export", "full.regx"]);
    let t = read(&s.join("full.regx"));
    let sent: BTreeSet<String> = t.frames.iter().map(|f| f.1.clone()).collect();
    assert_eq!(sent, store_ids(&s));
    assert!(!sent.contains(&a));
    // From before the purge: the revoke and the purge, nothing else.
    s.ok(&[
        "export",
        "inc.regx",
        "--since-seq",
        &before_purge.to_string(),
    ]);
    let t = read(&s.join("inc.regx"));
    assert_eq!(t.frames.len(), 2);
    assert!(t.frames.iter().all(|f| f.0 == ObjectKind::Entry));
    // The same bytes admitted again by another model: the base that had them gets no copy,
    // a full export does.
    s.add_model("gamma", "1.0.0", &[("a.yar", "rule a {}".into())]);
    s.ok(&[
        "export",
        "inc2.regx",
        "--since-seq",
        &before_purge.to_string(),
    ]);
    let t = read(&s.join("inc2.regx"));
    assert!(
        !t.frames.iter().any(|f| f.1 == a),
        "the base holds alpha's bytes"
    );
    s.ok(&["export", "full2.regx"]);
    let t = read(&s.join("full2.regx"));
    assert!(
        t.frames
            .iter()
            .any(|f| f.1 == a && f.0 == ObjectKind::Artifact)
    );
}

#[test]
fn verify_reads_a_transfer_file_back_and_refuses_a_damaged_one() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".repeat(1000))]);
    s.ok(&["export", "full.regx"]);
    let out = s.ok(&["export", "--verify", "full.regx"]);
    let seq = s.ledger_ids().len() - 1;
    assert!(
        out.contains("transfer file OK")
            && out.contains(&format!("entries 0 to {seq} from genesis"))
            && out.contains("1 records, 1 artifacts"),
        "{out}"
    );
    let good = fs::read(s.join("full.regx")).unwrap();
    // A byte of the artifact (the 9,000 bytes of rules near the end) changed.
    let mut bad = good.clone();
    let at = bad.len() - 48 - 4000;
    bad[at] ^= 0x20;
    fs::write(s.join("bad.regx"), &bad).unwrap();
    let err = s.fails(1, &["export", "--verify", "bad.regx"]);
    assert!(err.contains("the transfer file is corrupt"), "{err}");
    // Cut short.
    fs::write(s.join("cut.regx"), &good[..good.len() - 100]).unwrap();
    let err = s.fails(1, &["export", "--verify", "cut.regx"]);
    assert!(err.contains("truncated"), "{err}");
    // Not a transfer file at all.
    let err = s.fails(1, &["export", "--verify", "m-alpha-1.0.0.tar"]);
    assert!(err.contains("not a reg transfer file"), "{err}");
}

#[test]
fn a_full_export_holds_a_bounded_number_of_files_open() {
    // Opening every object up front and keeping it open needs one descriptor per object: a
    // store of a hundred thousand objects would fail. Under a limit of 48 open files, a store
    // of more than 100 objects must still export.
    let s = Sandbox::new();
    s.init_with_roles();
    let files: Vec<(String, String)> = (0..120)
        .map(|i| (format!("r{i:03}.yar"), format!("rule r{i} {{}}")))
        .collect();
    let files: Vec<(&str, String)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    s.add_model("many", "1.0.0", &files);
    assert!(store_ids(&s).len() > 120);
    let reg = s.reg();
    let program = reg.get_program().to_owned();
    let mut c = std::process::Command::new("bash");
    c.arg("-c")
        .arg("ulimit -n 48 && exec \"$0\" export full.regx")
        .arg(program)
        .current_dir(s.path())
        .env_clear();
    for (k, v) in reg.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        read(&s.join("full.regx")).header.objects as usize,
        store_ids(&s).len()
    );
}

/// No output goes inside `.registry/`, which holds only what reg writes there (a transfer file
/// or a key file there broke fsck): refused before anything is written, the registry as it was.
#[test]
fn an_output_inside_the_registry_is_refused_and_the_registry_is_unchanged() {
    let s = Sandbox::new();
    s.init_with_roles();
    let inside = "is inside a registry's `.registry` directory";
    s.refused(2, &["export", ".registry/x.regx"], inside);
    s.refused(2, &["key", "gen", ".registry/k"], inside);
    s.refused(2, &["export", ".registry/tmp/x.regx"], inside);
    assert!(!s.join(".registry/x.regx").exists());
    assert!(!s.join(".registry/k").exists());
}
