//! This host's record of the last checkpoint it verified, which is what refuses a rollback
//! (FORMAT.md §8): it never moves backwards, it takes the ledger digest the fast path needs,
//! it refuses a fork longer than what the host saw, and a host that cannot record it gets no
//! registry and no pin. A record that is missing, emptied, edited or cannot be written refuses
//! instead of accepting an older copy; an unpinned registry is never recorded; without an
//! absolute home the medium never becomes this host's trust file or records; and the
//! directories reg makes for them are private.

use crate::medium::{op, setup, tree};
use crate::util::{Sandbox, snapshot};
use reg::repo::trust::{HostState, Seen};
use std::fs;
use std::path::{Path, PathBuf};

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

#[test]
fn a_host_that_cannot_record_refuses() {
    let s = setup();
    fs::write(s.join("not-a-dir"), b"").unwrap();
    let copy = s.join("copy");
    fs::create_dir(&copy).unwrap();
    crate::util::cp_a(&s.dot(), &copy);
    let state_dir = s.join("not-a-dir/state");
    let run = |extra: &[&str]| {
        let mut c = s.reg();
        c.env("REG_STATE_DIR", &state_dir)
            .args(["--registry", copy.to_str().unwrap(), "list"])
            .args(extra);
        c.output().unwrap()
    };
    let before = tree(&copy);
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot record the verified checkpoint"),
        "{err}"
    );
    assert!(
        err.contains("hint: make the state directory writable"),
        "{err}"
    );
    let out = run(&["--skip-rollback-check"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("det"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: --skip-rollback-check"));
    // A writer refuses before it commits anything.
    let mut c = s.reg();
    c.env("REG_STATE_DIR", &state_dir).args([
        "--registry",
        copy.to_str().unwrap(),
        "promote",
        "det@2.0.0",
        "--reason",
        "x",
        "--key",
        "op.pem",
    ]);
    assert_eq!(c.output().unwrap().status.code(), Some(2));
    assert_eq!(tree(&copy), before);
}

#[test]
fn an_emptied_or_edited_host_record_refuses_an_older_copy_instead_of_accepting_it() {
    let s = setup();
    // An older copy of the medium, then the registry moves on and this host sees it.
    let old = s.join("old");
    fs::create_dir(&old).unwrap();
    crate::util::cp_a(&s.dot(), &old);
    op(
        &s,
        &[
            "revoke",
            "det@1.0.0",
            "--reason",
            "withdrawn",
            "--deactivate",
        ],
    );
    let old_reg = old.to_str().unwrap();
    let err = s.fails(1, &["--registry", old_reg, "status"]);
    assert!(err.contains("rolled-back"), "{err}");
    let records: Vec<PathBuf> = fs::read_dir(s.join("home/.local/state/reg"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    for (what, bytes) in [
        ("emptied", &b""[..]),
        ("edited", b"{\"head\":\"zz\"}"),
        ("truncated", b"{\"head\":"),
    ] {
        fs::write(record, bytes).unwrap();
        let before = tree(&old);
        let err = s.fails(2, &["--registry", old_reg, "status"]);
        assert!(err.contains("is unreadable"), "{what}: {err}");
        assert!(
            err.contains("hint: if nobody tampered with this host"),
            "{what}: {err}"
        );
        assert_eq!(tree(&old), before, "{what}");
    }
}

#[test]
fn an_unpinned_registry_is_never_recorded_so_a_fork_met_first_cannot_lock_out_the_real_one() {
    let s = setup();
    let root = s
        .ok(&["key", "fingerprint", "root.pem.pub"])
        .trim()
        .to_string();
    let fork = s.join("fork");
    fs::create_dir(&fork).unwrap();
    crate::util::cp_a(&s.dot(), &fork);
    op(&s, &["promote", "det@2.0.0", "--reason", "real"]);
    let code = s.ok(&["status", "--code"]).trim().to_string();
    // The operator key forks the copy at the same length (its own host state).
    let out = s
        .reg()
        .env("REG_STATE_DIR", s.join("fork-state"))
        .args([
            "--registry",
            fork.to_str().unwrap(),
            "deprecate",
            "det@1.0.0",
        ])
        .args(["--reason", "fork", "--key", "op.pem"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b = |args: &[&str]| {
        s.reg()
            .env("REG_TRUST_FILE", s.join("b/trust.json"))
            .env("REG_STATE_DIR", s.join("b/state"))
            .args(args)
            .output()
            .unwrap()
    };
    let f = fork.to_str().unwrap();
    // Host B meets the fork first: reads, a denied gate, a refused pin.
    b(&["--registry", f, "status"]);
    b(&["--registry", f, "fsck"]);
    assert_eq!(
        b(&["--registry", f, "trust", "add", &root, "--head", &code])
            .status
            .code(),
        Some(2)
    );
    assert!(
        !s.join("b/state").exists() || fs::read_dir(s.join("b/state")).unwrap().count() == 0,
        "nothing recorded for an unpinned registry"
    );
    // The genuine medium still pins and reads.
    let real = s.dot();
    let out = b(&[
        "--registry",
        real.to_str().unwrap(),
        "trust",
        "add",
        &root,
        "--head",
        &code,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        b(&["--registry", real.to_str().unwrap(), "status"])
            .status
            .success()
    );
}

#[test]
fn without_an_absolute_home_the_medium_never_becomes_this_hosts_trust_file_or_records() {
    // With HOME unset, empty or relative (`env -i`, a system service), the default trust file
    // and state directory were resolved against the current directory: often the medium, whose
    // holder then planted a trust file pinning their own root, and got PASS and ALLOW.
    let s = Sandbox::new();
    s.init_with_roles();
    let pinned = fs::read(s.trust_file()).unwrap();
    for planted in [
        "reg/trust.json",
        ".config/reg/trust.json",
        "xdg/reg/trust.json",
    ] {
        let p = s.join(planted);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, &pinned).unwrap();
    }
    let before = tree(s.path());
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("HOME unset", &[]),
        ("HOME empty", &[("HOME", "")]),
        ("HOME relative", &[("HOME", ".")]),
        (
            "XDG relative",
            &[("XDG_CONFIG_HOME", "xdg"), ("XDG_STATE_HOME", "xdg")],
        ),
    ];
    for (what, vars) in cases {
        let xdg = what == "XDG relative";
        let commands: &[&[&str]] = if xdg {
            // HOME is absolute here, so init would rightly make a registry: read only.
            &[&["fsck"], &["status"]]
        } else {
            &[
                &["fsck"],
                &["status"],
                &["init", "fresh", "--root-key", "root.pem"],
            ]
        };
        for args in commands {
            let mut c = s.reg();
            c.env_remove("HOME").env_remove("REG_TRUST_FILE");
            for (k, v) in vars {
                c.env(k, v);
            }
            if xdg {
                // An absolute HOME with no trust file: the relative XDG paths must not be used.
                c.env("HOME", s.join("empty-home"));
            }
            let out = c.args(*args).output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if xdg {
                // Unpinned: fsck fails, status runs with its note (FORMAT.md §8).
                assert!(
                    text.contains("not pinned on this host"),
                    "{what} {args:?}: {text}"
                );
                assert!(
                    args[0] == "status" || !out.status.success(),
                    "{what} {args:?}"
                );
            } else {
                assert!(
                    matches!(out.status.code(), Some(1 | 2)),
                    "{what} {args:?}: {text}"
                );
                assert!(text.contains("a relative path"), "{what} {args:?}: {text}");
                assert!(
                    args[0] == "fsck" || text.contains("hint: set HOME"),
                    "{what} {args:?}: a hint that fits: {text}"
                );
            }
            assert_eq!(tree(s.path()), before, "{what} {args:?}: nothing written");
        }
    }
}

#[test]
fn init_and_clone_with_a_trust_file_they_cannot_write_leave_no_unpinned_registry() {
    // The trust file was only written after the registry was in place: one that could be read
    // (or was missing) but not written left a registry behind, unpinned.
    let s = Sandbox::new();
    let root = s.init();
    let before = tree(s.path());
    let unwritable = [
        "/proc/reg-trust.json".to_string(),
        format!("{}/", s.join("no-such-dir").display()),
    ];
    for file in &unwritable {
        for args in [
            &["init", "fresh", "--root-key", "root.pem"][..],
            &["clone", ".", "fresh", "--trust", &root],
        ] {
            let out = s
                .reg()
                .env("REG_TRUST_FILE", file)
                .args(args)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(1),
                "{file} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(tree(s.path()), before, "{file} {args:?}: nothing made");
        }
    }
}

#[test]
fn the_host_state_and_trust_directories_reg_makes_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = Sandbox::new();
    s.key("root.pem");
    let mode = |p: &str| fs::metadata(s.join(p)).unwrap().permissions().mode() & 0o777;
    // The default places under HOME (no REG_TRUST_FILE, XDG_*, REG_STATE_DIR): every directory
    // reg makes on the way is 0700, as the XDG specification asks, whatever the umask lets
    // through for files.
    let out = s
        .reg()
        .env_remove("REG_TRUST_FILE")
        .args(["init", "--root-key", "root.pem"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.reg()
        .env_remove("REG_TRUST_FILE")
        .args(["check", "--log", "gate.log", "root.pem"])
        .output()
        .unwrap();
    for dir in [
        "home",
        "home/.config",
        "home/.config/reg",
        "home/.local",
        "home/.local/state",
        "home/.local/state/reg",
        "home/.local/state/reg/gate-logs",
    ] {
        assert_eq!(mode(dir), 0o700, "{dir}");
    }
    // Given explicitly: the same, and a directory that exists is left as it is.
    fs::create_dir(s.join("shared")).unwrap();
    fs::set_permissions(s.join("shared"), fs::Permissions::from_mode(0o755)).unwrap();
    let out = s
        .reg()
        .env("REG_TRUST_FILE", s.join("shared/pins/trust.json"))
        .env("REG_STATE_DIR", s.join("shared/state/reg"))
        .args([
            "trust",
            "add",
            s.ok(&["key", "fingerprint", "root.pem"]).trim(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for dir in ["shared/pins", "shared/state", "shared/state/reg"] {
        assert_eq!(mode(dir), 0o700, "{dir}");
    }
    assert_eq!(mode("shared"), 0o755);
}
