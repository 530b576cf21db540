//! A writer killed at any step (a failpoint that calls `abort`, which runs no cleanup, like a
//! power cut) leaves no partial or misnamed object, and a registry that holds either the whole
//! action or none of it. Two rules that a kill cannot show are checked too: the ledger append
//! is fsynced before the checkpoint names it, and a bundle is staged beside its output (so that
//! its final rename never crosses file systems).

use crate::medium::op;
use crate::util::{Sandbox, snapshot};
use std::fs;
use std::time::Duration;

/// Every file under objects/ hashes to its name.
fn assert_objects_well_named(s: &Sandbox) {
    for e in walkdir::WalkDir::new(s.dot().join("objects")) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let fan = e
                .path()
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_str()
                .unwrap();
            let name = format!("{fan}{}", e.file_name().to_str().unwrap());
            let actual = blake3::hash(&fs::read(e.path()).unwrap())
                .to_hex()
                .to_string();
            assert_eq!(
                actual,
                name,
                "partial or misnamed object {}",
                e.path().display()
            );
        }
    }
}

fn trust_publisher(s: &Sandbox, failpoint: Option<&str>) -> std::process::Output {
    let mut c = s.reg();
    c.args([
        "key",
        "trust",
        "pub.pem.pub",
        "--role",
        "publisher",
        "--key",
        "root.pem",
        "--reason",
        "model team",
    ]);
    if let Some(f) = failpoint {
        c.env("REG_FAILPOINT", f);
    }
    c.output().unwrap()
}

#[test]
fn a_writer_killed_at_any_step_leaves_all_or_nothing() {
    let steps = [
        ("put:after-write", false),
        ("put:before-rename", false),
        ("put:after-rename", false),
        ("commit:after-object", false),
        ("commit:after-index", false),
        ("commit:after-ledger", false),
        ("commit:after-checkpoint", true),
        ("commit:after-refs", true),
    ];
    for (step, committed) in steps {
        let s = Sandbox::new();
        s.init();
        let publ = s.key("pub.pem");
        let before = s.snapshot();
        let out = trust_publisher(&s, Some(step));
        assert_eq!(
            out.status.code(),
            None,
            "{step}: the process must die by a signal"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("failpoint `{step}`")));

        assert_objects_well_named(&s);
        // Whatever the step, fsck passes (lagging refs and leftovers are warnings).
        let fsck = s.reg().arg("fsck").output().unwrap();
        assert!(
            fsck.status.success(),
            "{step}: {}",
            String::from_utf8_lossy(&fsck.stdout)
        );
        let verified = s.ok(&["ledger", "verify"]);
        let keys = s.ok(&["key", "list"]);
        assert_eq!(keys.contains(&publ), committed, "{step}: {keys}");
        let expected_entries = if committed { 2 } else { 1 };
        assert!(
            verified.starts_with(&format!("ledger OK: {expected_entries} entries")),
            "{step}: {verified}"
        );
        if !committed {
            // Nothing committed: the checkpoint and the ledger up to it are as before.
            let after = s.snapshot();
            for f in ["checkpoint", "config.json"] {
                assert_eq!(
                    before[&std::path::PathBuf::from(f)],
                    after[&std::path::PathBuf::from(f)],
                    "{step}: {f}"
                );
            }
            // The interrupted action can simply be run again.
            let out = trust_publisher(&s, None);
            assert!(
                out.status.success(),
                "{step}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let verified = s.ok(&["ledger", "verify"]);
            assert!(
                verified.starts_with("ledger OK: 2 entries"),
                "{step}: {verified}"
            );
            // Residue of the crash (an extra ledger line) was removed by the next write.
            assert_eq!(s.ledger_ids().len(), 2, "{step}");
        }
    }
}

#[test]
fn a_killed_init_leaves_no_registry() {
    let s = Sandbox::new();
    s.key("root.pem");
    let out = s
        .reg()
        .args(["init", "--root-key", "root.pem"])
        .env("REG_FAILPOINT", "put:after-write")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None);
    assert!(!s.dot().exists(), "no half-made .registry");
    // Only the staging directory is left beside it, and init works afterwards.
    s.ok(&["init", "--root-key", "root.pem"]);
    s.ok(&["ledger", "verify"]);
    assert!(!snapshot(&s.dot()).is_empty());
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

#[test]
fn the_ledger_append_is_fsynced_before_the_checkpoint_names_it() {
    // Killing the process (the crash tests) cannot show a missing fsync: the page cache
    // survives. Watch the system calls instead: the write that appends to the ledger, an fsync
    // of that same file, and only then the rename that puts the new checkpoint in place.
    let s = Sandbox::new();
    s.init_with_roles();
    s.key("rep.pem");
    let trace = s.join("trace.txt");
    let template = s.reg();
    let mut c = std::process::Command::new(crate::util::tool("strace", "strace"));
    c.env_clear().current_dir(s.path());
    for (k, v) in template.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    let out = c
        .args([
            "-f",
            "-qq",
            "-y",
            "-e",
            "trace=write,pwrite64,fsync,fdatasync,rename,renameat,renameat2",
        ])
        .arg("-o")
        .arg(&trace)
        .arg(template.get_program())
        .args(["key", "trust", "rep.pem.pub", "--role", "reporter"])
        .args(["--key", "root.pem", "--reason", "monitoring"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = fs::read_to_string(&trace).unwrap();
    let ledger = format!("{}>", s.dot().join("ledger").display());
    let lines: Vec<&str> = trace.lines().collect();
    let find = |from: usize, what: &dyn Fn(&str) -> bool| {
        lines[from..].iter().position(|l| what(l)).map(|i| i + from)
    };
    // `-y` shows each descriptor as `N</path>`.
    let call_on_ledger = |l: &str, call: &str| {
        l.split_once(&format!("{call}(")).is_some_and(|(_, rest)| {
            rest.split_once(',')
                .or(rest.split_once(')'))
                .is_some_and(|(fd, _)| fd.ends_with(&ledger))
        })
    };
    let write = find(0, &|l| {
        call_on_ledger(l, "write") || call_on_ledger(l, "pwrite64")
    })
    .unwrap_or_else(|| panic!("no write to {ledger} in:\n{trace}"));
    let sync = find(write, &|l| {
        call_on_ledger(l, "fsync") || call_on_ledger(l, "fdatasync")
    })
    .unwrap_or_else(|| panic!("the ledger append is never fsynced:\n{trace}"));
    let checkpoint = find(0, &|l| {
        l.contains("rename") && l.contains("/.registry/checkpoint\"")
    })
    .unwrap_or_else(|| panic!("no checkpoint rename in:\n{trace}"));
    assert!(
        write < sync && sync < checkpoint,
        "write {write}, fsync {sync}, checkpoint {checkpoint}:\n{trace}"
    );
}

#[test]
fn writers_killed_at_random_moments_never_leave_fsck_failing() {
    let s = Sandbox::new();
    s.init_with_roles();
    let mut bundles = Vec::new();
    for i in 0..6 {
        let dir = format!("k{i}");
        fs::create_dir(s.join(&dir)).unwrap();
        fs::write(
            s.join(&format!("{dir}/rules.yar")),
            format!("rule k{i} {{ condition: true }}\n"),
        )
        .unwrap();
        let out = format!("{dir}.tar");
        s.ok(&[
            "bundle",
            "pack",
            &dir,
            "-o",
            &out,
            "--key",
            "pub.pem",
            "--name",
            "k",
            "--version",
            &format!("1.0.{i}"),
            "--type",
            "ruleset",
            "--use",
            "detection",
            "--description",
            "k",
        ]);
        bundles.push(out);
    }
    s.ok(&["add", &bundles[0], "--key", "op.pem"]);
    // How long one uncut write takes here: kills are spread over that window.
    let t = std::time::Instant::now();
    op(&s, &["promote", "k@1.0.0", "--reason", "timing"]);
    let window = (t.elapsed().as_micros() as u64 * 3 / 2).max(1000);
    let mut rng = Lcg(0x5eed);
    let mut killed_mid_write = 0;
    // Until 30 kills have landed mid-write: how many rounds that takes depends on the load.
    for round in 0..240 {
        if killed_mid_write >= 30 {
            break;
        }
        let args: Vec<String> = match round % 4 {
            0 | 2 => vec![
                "add".into(),
                bundles[1 + (round / 4) % 5].clone(),
                "--key".into(),
                "op.pem".into(),
            ],
            1 => ["deprecate", "k@1.0.0", "--reason", "r", "--key", "op.pem"]
                .map(String::from)
                .to_vec(),
            _ => ["promote", "k@1.0.0", "--reason", "r", "--key", "op.pem"]
                .map(String::from)
                .to_vec(),
        };
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("reg"))
            .current_dir(s.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", s.join("home"))
            .env("REG_TRUST_FILE", s.trust_file())
            .env("SOURCE_DATE_EPOCH", crate::util::EPOCH)
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(window)));
        if child.try_wait().unwrap().is_none() {
            killed_mid_write += 1;
        }
        let _ = child.kill(); // SIGKILL: no cleanup, like a power cut
        child.wait().unwrap();
        let out = s.reg().args(["fsck"]).output().unwrap();
        assert!(
            out.status.success(),
            "round {round} ({args:?}): {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    assert!(
        killed_mid_write >= 30,
        "only {killed_mid_write} kills landed mid-write"
    );
    s.ok(&["ledger", "verify"]);
}

/// A small deterministic generator for the kill delays (no new dependency for one test).
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}
