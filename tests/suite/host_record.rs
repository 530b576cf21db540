//! This host's record of the last checkpoint it verified, which is what refuses a rollback
//! (FORMAT.md §8): it never moves backwards, it takes the ledger digest the fast path needs,
//! it refuses a fork longer than what the host saw, and a host that cannot record it gets no
//! registry and no pin.

use crate::util::{Sandbox, snapshot};
use reg::repo::trust::{HostState, Seen};
use std::fs;
use std::path::Path;

/// A registry of three entries that this host has read (so it holds a record of the checkpoint
/// at seq 2); returns the sandbox, the host state and the registry id.
fn recorded() -> (Sandbox, HostState, reg::format::id::ObjectId) {
    let s = Sandbox::new();
    s.init_with_roles();
    s.ok(&["list"]);
    let host = HostState::new(s.join("home/.local/state/reg"));
    let registry = s.ledger_ids()[0].parse().unwrap();
    (s, host, registry)
}

#[test]
fn a_slow_reader_recording_an_older_checkpoint_leaves_the_newer_record() {
    // A reader that verified seq 1 and records it after a writer recorded seq 2 (the race that
    // `record` guards against) must not lower the record: a lowered record would let a copy of
    // the registry cut back to seq 1 through as current.
    let (s, host, registry) = recorded();
    let path = host.dir.join(format!("{registry}.json"));
    let before = fs::read(&path).unwrap();
    let newer = host.load(&registry).unwrap().unwrap();
    assert_eq!(newer.seq, 2);
    let ids = s.ledger_ids();
    let older = Seen {
        head: ids[1].parse().unwrap(),
        seq: 1,
        state: reg::format::id::ObjectId::of(b"the state at seq 1"),
        ledger: None,
    };
    host.record(&registry, &older).unwrap();
    assert_eq!(host.load(&registry).unwrap(), Some(newer));
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn a_record_without_a_ledger_digest_is_replaced_by_the_same_checkpoint_with_one() {
    // Records written before the ledger digest existed lack it; the same checkpoint verified
    // again is recorded with it, so that reads can take the fast path again.
    let (_s, host, registry) = recorded();
    let full = host.load(&registry).unwrap().unwrap();
    assert!(full.ledger.is_some());
    let legacy = Seen {
        ledger: None,
        ..full.clone()
    };
    let path = host.dir.join(format!("{registry}.json"));
    fs::remove_file(&path).unwrap();
    host.record(&registry, &legacy).unwrap();
    assert_eq!(host.load(&registry).unwrap(), Some(legacy));
    host.record(&registry, &full).unwrap();
    assert_eq!(host.load(&registry).unwrap(), Some(full));
}

#[test]
fn a_host_record_replaced_by_a_link_refuses_an_older_copy_instead_of_taking_it_as_none() {
    // A record that cannot be read (here: a symbolic link, which reg never follows) is refused,
    // never taken as "no record": that would be first contact, which accepts any older copy.
    let (s, host, registry) = recorded();
    fs::create_dir(s.join("old")).unwrap();
    crate::util::cp_a(&s.dot(), &s.join("old/.registry"));
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    let err = s.fails(1, &["--registry", "old", "status"]);
    assert!(err.contains("rolled-back"), "{err}");
    let path = host.dir.join(format!("{registry}.json"));
    let target = host.dir.join("elsewhere.json");
    fs::rename(&path, &target).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let old_before = crate::util::snapshot(&s.join("old/.registry"));
    let err = s.fails(2, &["--registry", "old", "status"]);
    assert!(
        err.contains(&format!(
            "this host's record of the last checkpoint it verified, `{}`, is unreadable",
            path.display()
        )),
        "{err}"
    );
    // Nothing was written: the link and the copy are as they were.
    assert!(fs::symlink_metadata(&path).unwrap().is_symlink());
    assert_eq!(crate::util::snapshot(&s.join("old/.registry")), old_before);
}

#[test]
fn init_and_clone_on_a_host_that_cannot_record_make_no_registry_and_no_pin() {
    // `ensure_writable` is what stops a registry from being made on a host that could not
    // record its checkpoint (an unprotected registry): a state directory under a regular file
    // cannot be created, even by root.
    let s = Sandbox::new();
    s.key("root.pem");
    fs::write(s.join("not-a-dir"), b"a file").unwrap();
    let state = s.join("not-a-dir/state");
    let out = s
        .reg()
        .env("REG_STATE_DIR", &state)
        .args(["init", "--root-key", "root.pem"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !s.dot().exists(),
        "a registry was made that this host cannot record"
    );
    assert!(!s.trust_file().exists(), "a pin was written");

    let home = Sandbox::new();
    let root = home.init();
    home.ok(&["export", "full.regx"]);
    fs::copy(home.join("full.regx"), s.join("full.regx")).unwrap();
    let out = s
        .reg()
        .env("REG_STATE_DIR", &state)
        .args(["clone", "full.regx", "site", "--trust", &root])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !s.join("site/.registry").exists(),
        "a clone was installed unrecorded"
    );
    assert!(!s.trust_file().exists(), "a pin was written");
}

fn clear(dot: &Path) {
    for e in walkdir::WalkDir::new(dot) {
        crate::util::make_writable(e.unwrap().path());
    }
    fs::remove_dir_all(dot).unwrap();
}

#[test]
fn a_fork_that_is_longer_than_what_the_host_saw_is_refused() {
    let s = Sandbox::new();
    s.init_with_roles();
    fs::create_dir(s.join("fork")).unwrap();
    crate::util::cp_a(&s.dot(), &s.join("fork/.registry"));
    for k in ["a.pem", "b.pem", "c.pem"] {
        s.key(k);
    }
    // This host sees branch a: one more entry.
    s.trust("a.pem.pub", "reporter", "branch a");
    let seen = s.ledger_ids();
    // Elsewhere (another host), the copy grows two entries: its checkpoint is further along
    // than what this host saw, but at the seq this host saw it holds another head.
    for (k, why) in [("b.pem.pub", "branch b"), ("c.pem.pub", "branch b, again")] {
        let out = s
            .reg()
            .env("REG_STATE_DIR", s.join("other-host"))
            .args([
                "--registry",
                "fork",
                "key",
                "trust",
                k,
                "--role",
                "reporter",
            ])
            .args(["--key", "root.pem", "--reason", why])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    clear(&s.dot());
    crate::util::cp_a(&s.join("fork/.registry"), &s.dot());
    let fork = s.ledger_ids();
    assert_eq!(fork.len(), seen.len() + 1);
    assert_ne!(fork[seen.len() - 1], seen[seen.len() - 1]);
    let state_dir = s.join("home/.local/state/reg");
    let host_before = snapshot(&state_dir);
    for args in [&["key", "list"][..], &["ledger", "verify"], &["status"]] {
        let before = s.snapshot();
        let err = s.fails(1, args);
        let expected = format!(
            "the registry's checkpoint (entry {}, head {}) is older than or diverges from the one \
             this host verified (entry {}, head {}): refusing a rolled-back or forked registry",
            fork.len() - 1,
            fork[fork.len() - 1],
            seen.len() - 1,
            seen[seen.len() - 1]
        );
        assert!(err.contains(&expected), "reg {args:?}: {err}");
        assert_eq!(before, s.snapshot());
    }
    // The host still remembers the branch it saw, not the fork.
    assert_eq!(host_before, snapshot(&state_dir));
}
