//! Readers while writers commit (FORMAT.md §6, "Readers and writers"): every command that only
//! reads sees exactly one committed state, the one before a write or the one after it, never a
//! mix of two, so that a validator run on a timer raises no false alarm. A reader that meets a
//! commit in progress waits for it; a writer waits for the readers in progress before it changes
//! anything they read. What a writer read before taking the lock (a publisher's trust) is
//! checked again under it.

use crate::util::{Sandbox, cp_a, spawn, wait_for};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Child, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one run showed: exit code, stdout, stderr.
type Shown = (Option<i32>, String, String);

fn shown(out: Output) -> Shown {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts reg in a directory of its own under `runs/` (a checkout or an export writes there
/// under the same relative name every time, so that runs can be compared), with `REG_DIR`
/// naming the registry.
fn start(s: &Sandbox, runs: &AtomicUsize, args: &[String]) -> Child {
    start_with(s, runs, args, &[])
}

/// [`start`] with more variables.
fn start_with(s: &Sandbox, runs: &AtomicUsize, args: &[String], extra: &[(&str, &Path)]) -> Child {
    let n = runs.fetch_add(1, Ordering::Relaxed);
    let cwd = s.join(&format!("runs/{n}"));
    fs::create_dir_all(&cwd).unwrap();
    let template = s.reg();
    let mut c = std::process::Command::new(template.get_program());
    c.env_clear().current_dir(&cwd).env("REG_DIR", s.path());
    for (k, v) in template.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    for (k, v) in extra {
        c.env(k, v);
    }
    c.args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn run(s: &Sandbox, runs: &AtomicUsize, args: &[String]) -> Shown {
    shown(start(s, runs, args).wait_with_output().unwrap())
}

/// Every command that only reads the registry; those about one model on `model`. `check` asks
/// about `det@1.0.0`'s artifact in slot `main`, where it stays whatever the writers do.
fn readers(s: &Sandbox, model: &str) -> Vec<Vec<String>> {
    let artifact = s.join("m-det-1.0.0/r.yar");
    let artifact = artifact.to_str().unwrap();
    [
        &["fsck", "--json"][..],
        &["ledger", "verify"],
        &["ledger", "export"],
        &["status", "--json"],
        &["list", "--json"],
        &["show", model, "--json"],
        &["log", "--json"],
        &["verify", model],
        &["check", artifact, "--slot", "main", "--json"],
        &["checkout", model, "-o", "out"],
        &["export", "out.regx"],
        &["drift", "list", model],
        &["key", "list"],
        &["policy", "show"],
        &["recipients", "list"],
    ]
    .iter()
    .map(|a| a.iter().map(|s| s.to_string()).collect())
    .collect()
}

fn op(s: &Sandbox, args: &[&str]) {
    s.ok(&[args, &["--key", "op.pem"]].concat());
}

/// Packs `name@1.0.0`, one rule file, as a bundle `NAME.tar` signed by `pub.pem`.
fn pack(s: &Sandbox, name: &str) -> String {
    let dir = format!("m-{name}-1.0.0");
    fs::create_dir_all(s.join(&dir)).unwrap();
    fs::write(
        s.join(&format!("{dir}/r.yar")),
        format!("rule {name} {{ condition: true }}\n"),
    )
    .unwrap();
    let out = format!("{name}.tar");
    let args = crate::util::pack_args(&dir, &out, "pub.pem", name, "1.0.0");
    s.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    out
}

/// A registry with roles and a reporter; `det@1.0.0` promoted, active in `main`, with one drift
/// observation; `other@1.0.0` registered.
fn setup() -> (Sandbox, String) {
    let s = Sandbox::new();
    let (root, _, _) = s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    s.key("ts.pem");
    s.trust("ts.pem.pub", "timestamp", "renewals");
    for name in ["det", "other", "late", "later"] {
        pack(&s, name);
    }
    for name in ["det", "other"] {
        s.ok(&["add", &format!("{name}.tar"), "--key", "op.pem"]);
    }
    op(&s, &["promote", "det@1.0.0", "--reason", "tested"]);
    op(&s, &["activate", "main", "det@1.0.0", "--reason", "live"]);
    s.example_observation("obs.json");
    s.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    (s, root)
}

#[test]
fn a_reader_meeting_a_commit_at_any_step_waits_for_it_and_sees_the_state_before_or_after() {
    let (s, _) = setup();
    let runs = AtomicUsize::new(0);
    let readers = readers(&s, "det@1.0.0");
    let mut before: Vec<Shown> = readers.iter().map(|r| run(&s, &runs, r)).collect();
    for r in &before {
        assert_eq!(r.0, Some(0), "{r:?}");
    }
    let cases: [(&str, &[&str]); 8] = [
        (
            "commit:after-object",
            &[
                "promote",
                "other@1.0.0",
                "--reason",
                "ok",
                "--key",
                "op.pem",
            ],
        ),
        (
            "commit:after-index",
            &[
                "activate",
                "aux",
                "other@1.0.0",
                "--reason",
                "x",
                "--key",
                "op.pem",
            ],
        ),
        (
            "commit:after-ledger",
            &[
                "drift",
                "record",
                "det@1.0.0",
                "obs.json",
                "--key",
                "rep.pem",
            ],
        ),
        (
            "commit:after-checkpoint",
            &["deactivate", "aux", "--reason", "x", "--key", "op.pem"],
        ),
        (
            "commit:after-refs",
            &["revoke", "other@1.0.0", "--reason", "x", "--key", "op.pem"],
        ),
        // A purge destroys bytes after its commit point: a reader must never see the entry
        // without the deletion (fsck: `purged-present`) or the deletion without the entry.
        (
            "commit:after-refs",
            &["purge", "other@1.0.0", "--reason", "x", "--key", "op.pem"],
        ),
        (
            "commit:after-checkpoint",
            &["add", "late.tar", "--key", "op.pem"],
        ),
        // An add moves its staged artifacts into the store before it commits: in its window.
        ("put:after-rename", &["add", "later.tar", "--key", "op.pem"]),
    ];
    let (mut mixed, mut early) = (Vec::new(), Vec::new());
    for (i, (step, write)) in cases.iter().enumerate() {
        let pause = s.join(&format!("pause-{i}"));
        fs::create_dir(&pause).unwrap();
        let writer = spawn(
            &s,
            write,
            &[
                ("REG_FAILPOINT", Path::new(step)),
                ("REG_FAILPOINT_PAUSE", &pause),
            ],
        );
        wait_for(&pause.join("reached"));
        let mut during: Vec<Child> = readers.iter().map(|r| start(&s, &runs, r)).collect();
        std::thread::sleep(Duration::from_millis(300));
        for (r, c) in readers.iter().zip(during.iter_mut()) {
            if c.try_wait().unwrap().is_some() {
                early.push(format!("`reg {}` at {step}", r.join(" ")));
            }
        }
        fs::write(pause.join("go"), "").unwrap();
        let w = shown(writer.wait_with_output().unwrap());
        assert_eq!(w.0, Some(0), "{write:?} at {step}: {w:?}");
        let during: Vec<Shown> = during
            .into_iter()
            .map(|c| shown(c.wait_with_output().unwrap()))
            .collect();
        let after: Vec<Shown> = readers.iter().map(|r| run(&s, &runs, r)).collect();
        for (j, r) in readers.iter().enumerate() {
            assert_eq!(after[j].0, Some(0), "{after:?}");
            if during[j] != before[j] && during[j] != after[j] {
                mixed.push(format!(
                    "`reg {}` run while `reg {}` was paused at {step} showed neither the state before nor the one after:\n{:?}\nbefore: {:?}\nafter: {:?}",
                    r.join(" "),
                    write.join(" "),
                    during[j],
                    before[j],
                    after[j]
                ));
            }
        }
        before = after;
    }
    let runs = cases.len() * readers.len();
    assert!(
        mixed.is_empty(),
        "{} of {runs} reader runs saw a mix of two commits:\n{}",
        mixed.len(),
        mixed.join("\n\n")
    );
    assert!(
        early.is_empty(),
        "{} of {runs} reader runs did not wait for the commit: {early:?}",
        early.len()
    );
}

/// How many times the writers go through every kind of write: `REG_SOAK_CYCLES` for a longer
/// run by hand.
fn cycles() -> usize {
    std::env::var("REG_SOAK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// Whether one reader run showed a committed state: each command succeeds and says nothing on
/// stderr (but the warning `status` gives for a DEPRECATED active model), fsck passes with no
/// finding but that warning and the files a running write stages (`staging-residue`,
/// docs/FSCK.md), and the
/// model active in `main` throughout is allowed, verified and checked out. `None`: it did;
/// otherwise what was false.
fn judge(args: &[String], r: &Shown, staging: &AtomicUsize) -> Option<String> {
    let (code, out, err) = r;
    let err_ok = match args[0].as_str() {
        "status" => err
            .lines()
            .all(|l| l.starts_with("warning: slot `aux` runs ") && l.contains("DEPRECATED")),
        _ => err.is_empty(),
    };
    let out_ok = match args[0].as_str() {
        "fsck" => {
            let v: serde_json::Value = serde_json::from_str(out).unwrap_or_default();
            let findings = v["findings"].as_array().cloned().unwrap_or_default();
            let residue = findings
                .iter()
                .filter(|f| f["code"] == "staging-residue" && f["severity"] == "warning")
                .count();
            staging.fetch_add(residue, Ordering::Relaxed);
            // True of the states the writers make: `aux` runs a model they deprecated.
            let deprecated = findings
                .iter()
                .filter(|f| f["code"] == "deprecated-active" && f["severity"] == "warning")
                .count();
            v["result"] == "PASS" && residue + deprecated == findings.len()
        }
        "ledger" if args[1] == "verify" => out.starts_with("ledger OK: "),
        "verify" => out.starts_with("OK: det@1.0.0"),
        "check" => out.contains("\"allowed\": true"),
        "status" => out.contains("\"main\""),
        _ => true,
    };
    if *code == Some(0) && err_ok && out_ok {
        return None;
    }
    // fsck's findings, not its whole report.
    let out = match serde_json::from_str::<serde_json::Value>(out) {
        Ok(v) if args[0] == "fsck" => v["findings"].to_string(),
        _ => out.clone(),
    };
    Some(format!(
        "`reg {}`: exit {code:?}: {out} {err}",
        args.join(" ")
    ))
}

/// The writers: `cycles()` times every kind of write there is, one after another (writers wait
/// for each other on the writer lock anyway), each asserted to succeed. An import brings in an
/// entry made at a second site holding a copy of the registry. Returns the number of writes.
fn write_everything(s: &Sandbox, site: &Sandbox, root: &str) -> usize {
    let mut writes = 0;
    let mut w = |args: &[&str]| {
        s.ok(args);
        writes += 1;
    };
    for i in 0..cycles() {
        let m = format!("m{i}@1.0.0");
        w(&["add", &format!("m{i}.tar"), "--key", "op.pem"]);
        w(&["promote", &m, "--reason", "ok", "--key", "op.pem"]);
        w(&["activate", "aux", &m, "--reason", "x", "--key", "op.pem"]);
        w(&["drift", "record", &m, "obs.json", "--key", "rep.pem"]);
        w(&["deprecate", &m, "--reason", "x", "--key", "op.pem"]);
        let refuse: &[&str] = if i % 2 == 0 {
            &["--refuse-format", "pickle"]
        } else {
            &["--allow-format", "pickle"]
        };
        w(&[
            &["policy", "set", "--key", "root.pem", "--reason", "x"][..],
            refuse,
        ]
        .concat());
        w(&[
            "key",
            "trust",
            &format!("k{i}.pem.pub"),
            "--role",
            "reporter",
            "--key",
            "root.pem",
            "--reason",
            "x",
        ]);
        w(&["deactivate", "aux", "--reason", "x", "--key", "op.pem"]);
        w(&["revoke", &m, "--reason", "x", "--key", "op.pem"]);
        w(&["purge", &m, "--reason", "x", "--key", "op.pem"]);
        w(&["gc"]);
        w(&["renew", "--key", "ts.pem"]);
        // The second site: a copy of this registry, one entry ahead, exported since this
        // registry's checkpoint.
        fs::remove_dir_all(site.dot()).unwrap();
        cp_a(&s.dot(), &site.dot());
        site.ok(&[
            "--trust",
            root,
            "drift",
            "record",
            "det@1.0.0",
            "obs.json",
            "--key",
            "rep.pem",
        ]);
        fs::copy(s.dot().join("checkpoint"), site.join("here.checkpoint")).unwrap();
        let file = site.join(&format!("t{i}.regx"));
        let file = file.to_str().unwrap();
        site.ok(&["export", file, "--since", "here.checkpoint"]);
        w(&["import", file]);
    }
    writes
}

#[test]
fn readers_looping_against_writers_of_every_kind_never_see_a_false_state() {
    let (s, root) = setup();
    let site = crate::util::copy_site(&s, &root);
    for i in 0..cycles() {
        pack(&s, &format!("m{i}"));
        s.key(&format!("k{i}.pem"));
    }
    let readers = readers(&s, "det@1.0.0");
    let runs = AtomicUsize::new(0);
    let staging = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let false_results = Mutex::new(Vec::new());
    let times = Mutex::new(BTreeMap::<String, (u32, Duration, Duration)>::new());
    let started = Instant::now();
    let (writes, reads) = std::thread::scope(|scope| {
        let read = |first: usize| {
            let mut n = 0;
            let mut i = first;
            while !done.load(Ordering::Relaxed) || n == 0 {
                let args = &readers[i % readers.len()];
                let t = Instant::now();
                let r = run(&s, &runs, args);
                let took = t.elapsed();
                let mut times = times.lock().unwrap();
                let e = times.entry(args[..2].join(" ")).or_default();
                *e = (e.0 + 1, e.1 + took, e.2.max(took));
                if let Some(f) = judge(args, &r, &staging) {
                    false_results.lock().unwrap().push(f);
                }
                n += 1;
                i += 1;
            }
            n
        };
        let readers: Vec<_> = (0..3).map(|k| scope.spawn(move || read(k * 5))).collect();
        let writer = scope.spawn(|| write_everything(&s, &site, &root));
        // The readers stop when the writers are done, or failed.
        let writes = writer.join();
        done.store(true, Ordering::Relaxed);
        let reads: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
        let writes = writes.unwrap_or_else(|e| std::panic::resume_unwind(e));
        (writes, reads)
    });
    let false_results = false_results.into_inner().unwrap();
    println!(
        "{reads} reader runs, {writes} writes, {} false results, {} staging-residue warnings, in {:.1} s",
        false_results.len(),
        staging.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    for (cmd, (n, total, max)) in times.into_inner().unwrap() {
        println!(
            "  reg {cmd:<22} {n:>4} runs, mean {:>4} ms, max {:>4} ms",
            (total / n).as_millis(),
            max.as_millis()
        );
    }
    assert!(
        false_results.is_empty(),
        "{} of {reads} reader runs were false:\n{}",
        false_results.len(),
        false_results.join("\n")
    );
    // The last state passes as well, with nothing left staged.
    let fsck = s.ok(&["fsck"]);
    assert!(fsck.contains("0 error(s), 0 warning(s)"), "{fsck}");
}

/// The `.registry` directory, opened the way reg locks it.
fn registry_dir(s: &Sandbox) -> fs::File {
    fs::File::open(s.dot()).unwrap()
}

#[test]
fn a_reader_waits_for_a_commit_at_most_the_lock_timeout_then_says_busy() {
    let (s, _) = setup();
    let dir = registry_dir(&s);
    // What a writer holds in its commit window.
    dir.lock().unwrap();
    let t = Instant::now();
    let out = s
        .reg()
        .env("REG_LOCK_TIMEOUT", "1")
        .args(["status"])
        .output()
        .unwrap();
    assert!(t.elapsed() >= Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: registry is busy: another reg process has held `{}` for more than 1 s\nhint: wait for the other reg process to finish; REG_LOCK_TIMEOUT sets the wait in seconds\n",
            s.dot().display()
        )
    );
    dir.unlock().unwrap();
    s.ok(&["status"]);
}

#[test]
fn a_writer_waits_for_a_reader_longer_than_the_lock_timeout_and_then_commits() {
    let (s, _) = setup();
    let dir = registry_dir(&s);
    // What a long reader (a fsck of a large store) holds.
    dir.lock_shared().unwrap();
    let ledger = s.ledger_ids();
    let writer = spawn(
        &s,
        &[
            "promote",
            "other@1.0.0",
            "--reason",
            "ok",
            "--key",
            "op.pem",
        ],
        &[("REG_LOCK_TIMEOUT", Path::new("1"))],
    );
    std::thread::sleep(Duration::from_millis(2500));
    // Past its lock timeout, the writer still waits, having changed nothing yet; other readers
    // go on reading.
    assert_eq!(s.ledger_ids(), ledger);
    s.ok(&["fsck"]);
    dir.unlock().unwrap();
    let out = writer.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.ledger_ids().len(), ledger.len() + 1);
}

#[test]
fn a_reader_that_cannot_open_the_registry_directory_to_lock_it_refuses_with_a_hint() {
    use std::os::unix::fs::PermissionsExt as _;
    let (s, _) = setup();
    crate::fsck::readable_by_others(&s);
    let state = s.join("reader-state");
    fs::create_dir(&state).unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o777)).unwrap();
    // Its files can be reached by name, but the directory cannot be opened.
    fs::set_permissions(s.dot(), fs::Permissions::from_mode(0o311)).unwrap();
    let out = crate::fsck::as_other_user(&s, &state, &["status"]);
    fs::set_permissions(s.dot(), fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: cannot lock `{}` to read it: Permission denied (os error 13)\nhint: readers and writers lock the registry directory itself (FORMAT.md §6): the user running reg must be able to open it for reading\n",
            s.dot().display()
        )
    );
}

/// Runs `reader` paused after it first releases the readers' lock (a reader that holds it across
/// all its reads still holds it then), runs `writes` meanwhile, and checks that the reader showed
/// the state before the writes or the one after them: `Ok` says whether those two differ, `Err`
/// what the reader showed instead.
fn paused_between_reads(
    s: &Sandbox,
    runs: &AtomicUsize,
    reader: &[String],
    writes: &[&[&str]],
) -> Result<bool, String> {
    let before = run(s, runs, reader);
    let pause = s.join(&format!("pause-{}", runs.load(Ordering::Relaxed)));
    fs::create_dir(&pause).unwrap();
    let mut paused = start_with(
        s,
        runs,
        reader,
        &[
            ("REG_FAILPOINT", Path::new("read:released")),
            ("REG_FAILPOINT_PAUSE", &pause),
        ],
    );
    wait_for(&pause.join("reached"));
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for w in writes {
                s.ok(w);
            }
        });
        // Long enough for the writes to commit, unless the reader holds them off.
        std::thread::sleep(Duration::from_millis(600));
        fs::write(pause.join("go"), "").unwrap();
        paused.wait().unwrap();
        writer.join().unwrap();
    });
    let during = shown(paused.wait_with_output().unwrap());
    let after = run(s, runs, reader);
    if during != before && during != after {
        return Err(format!(
            "`reg {}`, paused between its reads while {writes:?} committed, showed neither the state before nor the one after:\n{during:?}\nbefore: {before:?}\nafter: {after:?}",
            reader.join(" ")
        ));
    }
    Ok(before != after)
}

#[test]
fn a_reader_holds_off_every_commit_from_its_first_read_to_its_last() {
    let (s, _) = setup();
    let runs = AtomicUsize::new(0);
    let count = readers(&s, "x").len();
    for k in 0..count {
        let name = format!("v{k}");
        pack(&s, &name);
        s.ok(&["add", &format!("{name}.tar"), "--key", "op.pem"]);
    }
    let mut mixed = Vec::new();
    for k in 0..count {
        // A model read, then revoked and its bytes purged while the reader pauses.
        let model = format!("v{k}@1.0.0");
        let reader = &readers(&s, &model)[k];
        let revoke = ["revoke", &model, "--reason", "x", "--key", "op.pem"];
        let purge = ["purge", &model, "--reason", "x", "--key", "op.pem"];
        mixed.extend(paused_between_reads(&s, &runs, reader, &[&revoke, &purge]).err());
    }
    // gc cuts what an interrupted write left (a residue line, a dangling entry, refs to redo).
    let out = s
        .reg()
        .env("REG_FAILPOINT", "commit:after-ledger")
        .args(["promote", "other@1.0.0", "--reason", "x", "--key", "op.pem"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed at the failpoint");
    let fsck = vec!["fsck".to_string(), "--json".to_string()];
    match paused_between_reads(&s, &runs, &fsck, &[&["gc"]]) {
        Ok(changed) => assert!(changed, "gc changed nothing fsck reports"),
        Err(e) => mixed.push(e),
    }
    assert!(
        mixed.is_empty(),
        "{} of {} readers saw a mix of commits:\n{}",
        mixed.len(),
        count + 1,
        mixed.join("\n\n")
    );
}

#[test]
fn a_publisher_revoked_while_its_bundle_was_read_is_refused_under_the_lock() {
    let s = Sandbox::new();
    let (_, _, publisher) = s.init_with_roles();
    fs::create_dir(s.join("m")).unwrap();
    fs::write(s.join("m/rules.yar"), "rule r { condition: true }\n").unwrap();
    s.ok(&[
        "bundle",
        "pack",
        "m",
        "-o",
        "m.tar",
        "--key",
        "pub.pem",
        "--name",
        "det",
        "--version",
        "1.0.0",
        "--type",
        "ruleset",
        "--use",
        "detection",
        "--description",
        "rules",
    ]);
    let pause = s.join("pause");
    fs::create_dir(&pause).unwrap();
    // The add verifies the bundle against the state as it is (publisher trusted), then stops
    // just before it takes the writer lock.
    let add = spawn(
        &s,
        &["add", "m.tar", "--key", "op.pem"],
        &[
            ("REG_FAILPOINT", Path::new("add:before-lock")),
            ("REG_FAILPOINT_PAUSE", &pause),
        ],
    );
    wait_for(&pause.join("reached"));
    // Meanwhile the publisher's key is revoked and committed.
    s.ok(&[
        "key",
        "revoke",
        &publisher,
        "--key",
        "root.pem",
        "--reason",
        "key leaked",
    ]);
    let ledger = s.ledger_ids();
    let revoked_at = ledger.len() - 1;
    fs::write(pause.join("go"), "").unwrap();
    let out = add.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "publisher key {publisher} was revoked at entry {revoked_at}"
        )),
        "{err}"
    );
    // Nothing was admitted: the ledger ends with the revocation, the record and the artifact
    // are not stored, no staged file is left behind.
    assert_eq!(s.ledger_ids(), ledger);
    let rules = blake3::hash(b"rule r { condition: true }\n")
        .to_hex()
        .to_string();
    assert!(!s.object_path(&rules).exists());
    let tmp: Vec<_> = fs::read_dir(s.dot().join("tmp")).unwrap().collect();
    assert!(tmp.is_empty(), "{tmp:?}");
    assert!(!s.ok(&["list"]).contains("det"));
}
