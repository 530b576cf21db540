//! What a killed `reg clone` or `reg import` leaves (FORMAT.md §1.2, §11.8, §11.12): a clone's
//! staging directory beside `DEST/.registry` is removed by the next clone into DEST or by
//! `reg gc`, and reported by `reg fsck`, but only when it is recognisably reg's own (a link, a
//! special file, a directory outside the layout or a mount point in it is reported and left);
//! one whose maker is still at work is left alone; an import's staged files in `tmp/` are
//! reported and cleared.

use crate::util::{Sandbox, copy_site};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The failpoint after an artifact frame is staged, mid-stream.
const STAGED: &str = "receive:after-stage";

/// Home site A with two models, exported in full as `full.regx`; returns it and its root.
fn home() -> (Sandbox, String) {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    a.add_model("beta", "2.0.0", &[("b.yar", "rule beta {}".into())]);
    a.ok(&["export", "full.regx"]);
    (a, root)
}

/// `reg ARGS` in `s` as a plain command (the reg binary itself, not a wrapper).
fn command(s: &Sandbox) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("reg"));
    for (k, v) in s.reg().get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.current_dir(s.path());
    c
}

/// Runs `reg ARGS` in `s` until it reaches the failpoint `step`, where it waits, then kills it
/// there with SIGKILL: no cleanup of any kind runs.
fn kill_at(s: &Sandbox, step: &str, args: &[&str]) {
    let (mut child, _) = paused(s, step, args);
    child.kill().unwrap();
    let st = child.wait().unwrap();
    assert!(!st.success(), "killed");
}

/// The staging directories a clone or init left in `dir`.
fn staging_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(".registry-clone-") || n.starts_with(".registry-init-")
        })
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// The last component of `p`.
fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Every path under `dir` with its kind (never followed) and a regular file's bytes.
fn tree(dir: &Path) -> Vec<(PathBuf, String, Vec<u8>)> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            let ft = e.file_type();
            let bytes = if ft.is_file() {
                fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            (e.path().to_path_buf(), format!("{ft:?}"), bytes)
        })
        .collect()
}

/// The bytes of the files under `dir`.
fn bytes_under(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

/// The `staging-residue` findings of `reg fsck --json` at `reg_dir`: (path, message).
fn residue(s: &Sandbox, reg_dir: &str) -> Vec<(String, String)> {
    let out = command(s)
        .args(["--registry", reg_dir, "fsck", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["result"], "PASS", "{report}");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "staging-residue")
        .map(|f| {
            assert_eq!(f["severity"], "warning", "{f}");
            (
                f["path"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A clone into `c/site` killed mid-stream, once it staged an artifact: returns the staging
/// directory it left.
fn killed_clone(c: &Sandbox, root: &str) -> PathBuf {
    kill_at(c, STAGED, &["clone", "full.regx", "site", "--trust", root]);
    assert!(!c.join("site/.registry").exists(), "no registry was made");
    let left = staging_dirs(&c.join("site"));
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".registry-clone-")
    );
    // It holds the medium's objects: with a big medium, gigabytes.
    assert!(
        fs::read_dir(left[0].join("tmp")).unwrap().count() > 0,
        "the staged objects"
    );
    left[0].clone()
}

#[test]
fn a_clone_killed_mid_way_leaves_staging_that_the_next_clone_removes() {
    let (a, root) = home();
    let c = Sandbox::new();
    fs::copy(a.join("full.regx"), c.join("full.regx")).unwrap();
    let left = killed_clone(&c, &root);
    assert!(!c.trust_file().exists(), "nothing pinned");
    let out = c.ok(&["clone", "full.regx", "site", "--trust", &root]);
    assert!(
        out.contains(&format!(
            "removed {}, left by an interrupted clone or init",
            fs::canonicalize(c.join("site"))
                .unwrap()
                .join(name(&left))
                .display()
        )),
        "{out}"
    );
    assert!(!left.exists());
    assert_eq!(staging_dirs(&c.join("site")), Vec::<PathBuf>::new());
    assert_eq!(residue(&c, "site"), vec![]);
}

#[test]
fn fsck_reports_and_gc_removes_what_a_killed_clone_left_beside_a_registry() {
    let (a, root) = home();
    let c = Sandbox::new();
    fs::copy(a.join("full.regx"), c.join("full.regx")).unwrap();
    let left = killed_clone(&c, &root);
    assert!(bytes_under(&left) > 0);
    // A registry made in that directory afterwards (init does not sweep).
    c.key("root.pem");
    c.ok(&["init", "site", "--root-key", "root.pem"]);
    let found = residue(&c, "site");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .0
            .ends_with(&*left.file_name().unwrap().to_string_lossy())
    );
    assert!(found[0].1.contains("`reg gc` removes it"), "{found:?}");
    let out = c.ok(&["--registry", "site", "gc"]);
    assert!(
        out.contains(&format!("removed staging leftover site/{}", name(&left))),
        "{out}"
    );
    assert!(!left.exists());
    assert_eq!(residue(&c, "site"), vec![]);
}

/// What a test plants in a staging lookalike.
type Plant<'a> = Box<dyn Fn(&Path) + 'a>;

/// Makes `site/.registry` (a clone of A) and, beside it, a directory named like a clone's
/// staging holding a skeleton; returns its path.
fn beside_a_registry(c: &Sandbox, a: &Sandbox, root: &str, name: &str) -> PathBuf {
    fs::copy(a.join("full.regx"), c.join("full.regx")).unwrap();
    if !c.join("site/.registry").exists() {
        c.ok(&["clone", "full.regx", "site", "--trust", root]);
    }
    let d = c.join(&format!("site/{name}"));
    for sub in ["objects/ab", "tmp", "index", "refs/models", "refs/slots"] {
        fs::create_dir_all(d.join(sub)).unwrap();
    }
    fs::write(d.join("lock"), "").unwrap();
    fs::write(d.join("tmp/object-x"), "staged").unwrap();
    d
}

#[test]
fn a_staging_lookalike_holding_a_link_a_special_file_or_another_directory_is_reported_and_left() {
    let (a, root) = home();
    let c = Sandbox::new();
    let outside = c.join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("precious"), "keep me").unwrap();
    let cases: Vec<(&str, Plant, &str)> = vec![
        (
            ".registry-clone-Link01",
            Box::new(|d: &Path| std::os::unix::fs::symlink(&outside, d.join("tmp/x")).unwrap()),
            "`tmp/x` is a symbolic link",
        ),
        (
            ".registry-clone-Fifo01",
            Box::new(|d: &Path| {
                let st = Command::new("mkfifo")
                    .arg(d.join("objects/ab/cd"))
                    .status()
                    .unwrap();
                assert!(st.success());
            }),
            "`objects/ab/cd` is a FIFO",
        ),
        (
            ".registry-clone-Dir001",
            Box::new(|d: &Path| fs::create_dir(d.join("tmp/deeper")).unwrap()),
            "`tmp/deeper` is a directory",
        ),
        (
            ".registry-init-File01",
            Box::new(|d: &Path| fs::write(d.join("notes.txt"), "mine").unwrap()),
            "`notes.txt` is a regular file",
        ),
    ];
    let mut made = Vec::new();
    for (name, plant, _) in &cases {
        let d = beside_a_registry(&c, &a, &root, name);
        plant(&d);
        made.push(d);
    }
    // And the whole lookalike a link to a directory.
    let link = c.join("site/.registry-clone-Link02");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let before: Vec<_> = made.iter().map(|d| tree(d)).collect();

    let found = residue(&c, "site");
    assert_eq!(found.len(), cases.len() + 1, "{found:?}");
    for (name, _, why) in &cases {
        let f = found
            .iter()
            .find(|f| f.0.ends_with(name))
            .unwrap_or_else(|| panic!("{name}: {found:?}"));
        assert!(f.1.contains(why), "{name}: {f:?}");
        assert!(f.1.contains("remove it by hand"), "{name}: {f:?}");
    }
    let f = found.iter().find(|f| f.0.ends_with("Link02")).unwrap();
    assert!(f.1.contains("it is a symbolic link"), "{f:?}");

    let out = c.ok(&["--registry", "site", "gc"]);
    assert!(!out.contains("removed staging leftover"), "{out}");
    for (d, b) in made.iter().zip(&before) {
        assert_eq!(&tree(d), b, "{}", d.display());
    }
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_to_string(outside.join("precious")).unwrap(),
        "keep me"
    );
    // The next clone into that directory leaves them too, and says so.
    fs::rename(c.join("site/.registry"), c.join("moved")).unwrap();
    let out = c.ok(&["clone", "full.regx", "site", "--trust", &root]);
    assert!(out.contains("left "), "{out}");
    assert!(out.contains("for a person"), "{out}");
    for (d, b) in made.iter().zip(&before) {
        assert_eq!(&tree(d), b, "{}", d.display());
    }
}

#[test]
fn a_staging_lookalike_with_a_mount_point_inside_is_left_whole() {
    // A bind mount of the same file system has the same device number: only the mount table
    // shows it; another file system shows by its device number, even with no mount table to
    // read. Each reg runs in a private mount namespace (`unshare`), so no mount outlives it.
    let (a, root) = home();
    let c = Sandbox::new();
    let d = beside_a_registry(&c, &a, &root, ".registry-clone-Mount1");
    let outside = c.join("outside");
    fs::create_dir(&outside).unwrap();
    let object = "cd".repeat(31);
    fs::write(outside.join(&object), "keep me").unwrap();
    let bind = r#"mount --bind "$1" "$2""#;
    let tmpfs_no_table =
        r#"mount -t tmpfs none "$2" && echo x > "$2/cdcd" && mount -t tmpfs none /proc"#;
    for (setup, why) in [
        (bind, "objects/ab` is a mount point"),
        (tmpfs_no_table, "`objects/ab` is on another file system"),
    ] {
        let mounted = |args: &[&str]| -> Output {
            let mut cmd = Command::new(crate::util::tool("unshare", "util-linux"));
            // Not root: a user namespace of its own makes the mounts possible (and the test
            // fails, naming the cause, where even that is not allowed), never a silent skip.
            if !is_root() {
                cmd.arg("--map-root-user");
            }
            for (k, v) in c.reg().get_envs() {
                if let Some(v) = v {
                    cmd.env(k, v);
                }
            }
            cmd.current_dir(c.path())
                .args(["--mount", "--propagation", "private", "sh", "-c"])
                .arg(format!(r#"{setup} && shift 2 && exec "$@""#))
                .arg("sh")
                .arg(&outside)
                .arg(d.join("objects/ab"))
                .arg(assert_cmd::cargo::cargo_bin("reg"))
                .args(args)
                .output()
                .unwrap()
        };
        let out = mounted(&["--registry", "site", "fsck", "--json"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let f = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "staging-residue")
            .unwrap_or_else(|| panic!("{report}"))
            .clone();
        assert!(f["message"].as_str().unwrap().contains(why), "{f}");
        let out = mounted(&["--registry", "site", "gc"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!stdout.contains("removed staging leftover"), "{stdout}");
        assert_eq!(
            fs::read_to_string(outside.join(&object)).unwrap(),
            "keep me"
        );
        assert!(d.join("tmp/object-x").exists());
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[test]
fn a_staging_directory_whose_maker_is_at_work_is_left_alone() {
    let (a, root) = home();
    let c = Sandbox::new();
    let d = beside_a_registry(&c, &a, &root, ".registry-clone-Live01");
    let lock = fs::File::open(d.join("lock")).unwrap();
    lock.lock().unwrap();
    assert_eq!(residue(&c, "site"), vec![]);
    let out = c.ok(&["--registry", "site", "gc"]);
    assert!(!out.contains("removed staging leftover"), "{out}");
    assert!(d.join("tmp/object-x").exists());
    drop(lock);
    let out = c.ok(&["--registry", "site", "gc"]);
    assert!(
        out.contains(&format!("removed staging leftover site/{}", name(&d))),
        "{out}"
    );
    assert!(!d.exists());

    // Made a moment ago and not locked yet (its maker is between the two): left alone for a
    // minute, a leftover after that.
    let young = c.join("site/.registry-clone-Young1");
    fs::create_dir(&young).unwrap();
    assert_eq!(residue(&c, "site"), vec![]);
    let out = c.ok(&["--registry", "site", "gc"]);
    assert!(!out.contains("removed staging leftover"), "{out}");
    let old = std::time::SystemTime::now() - Duration::from_secs(120);
    fs::File::open(&young).unwrap().set_modified(old).unwrap();
    assert_eq!(residue(&c, "site").len(), 1);
    let out = c.ok(&["--registry", "site", "gc"]);
    assert!(out.contains("removed staging leftover"), "{out}");
    assert!(!young.exists());
}

#[test]
fn an_import_killed_mid_way_leaves_staged_files_that_fsck_reports_and_gc_clears() {
    let (a, root) = home();
    let b = copy_site(&a, &root);
    a.add_model("gamma", "3.0.0", &[("g.yar", "rule gamma {}".into())]);
    fs::copy(b.dot().join("checkpoint"), a.join("b.checkpoint")).unwrap();
    a.ok(&["export", "next.regx", "--since", "b.checkpoint"]);
    fs::copy(a.join("next.regx"), b.join("next.regx")).unwrap();
    kill_at(&b, STAGED, &["import", "next.regx"]);
    let staged: Vec<PathBuf> = fs::read_dir(b.dot().join("tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(!staged.is_empty(), "the import staged its objects in tmp/");
    let found = residue(&b, ".");
    for p in &staged {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            found
                .iter()
                .any(|f| f.0.ends_with(&name) && f.1.contains("`reg gc` removes it")),
            "{name}: {found:?}"
        );
    }
    let out = b.ok(&["gc"]);
    assert!(out.contains("removed staging leftover"), "{out}");
    assert_eq!(fs::read_dir(b.dot().join("tmp")).unwrap().count(), 0);
    assert_eq!(residue(&b, "."), vec![]);
    b.ok(&["import", "next.regx"]);
    assert_eq!(b.ledger_ids(), a.ledger_ids());
}

/// Starts `reg ARGS` in `c` and waits until it pauses at the failpoint `step`; it goes on once
/// `go` is called.
fn paused(c: &Sandbox, step: &str, args: &[&str]) -> (std::process::Child, PathBuf) {
    let pause = c.join(&format!("pause-{step}"));
    fs::create_dir_all(&pause).unwrap();
    let child = command(c)
        .args(args)
        .env("REG_FAILPOINT", step)
        .env("REG_FAILPOINT_PAUSE", &pause)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = child;
    let started = Instant::now();
    while !pause.join("reached").exists() {
        if let Some(st) = child.try_wait().unwrap() {
            panic!("reg {args:?} ended ({st}) before the failpoint `{step}`");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "reg {args:?} never reached `{step}`"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, pause.join("go"))
}

/// A clone or init into `site`, paused mid-way, keeps its staging while another clone into
/// `site` sweeps; then it finds a registry in place, is refused as "a registry already exists"
/// (the no-clobber rename of `util::create`), and takes its staging with it.
fn at_work_while_a_clone_sweeps(step: &str, args: impl Fn(&str) -> Vec<String>, prefix: &str) {
    let (a, root) = home();
    let c = Sandbox::new();
    fs::copy(a.join("full.regx"), c.join("full.regx")).unwrap();
    c.key("root.pem");
    let args = args(&root);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (first, go) = paused(&c, step, &args);
    let working = staging_dirs(&c.join("site"));
    assert_eq!(working.len(), 1, "{working:?}");
    assert!(name(&working[0]).starts_with(prefix), "{working:?}");
    let out = c.ok(&["clone", "full.regx", "site", "--trust", &root]);
    assert!(!out.contains("removed"), "{out}");
    assert!(
        working[0].join("tmp").exists(),
        "a live staging was removed"
    );
    fs::write(go, "").unwrap();
    let out = first.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a registry already exists at"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(staging_dirs(&c.join("site")), Vec::<PathBuf>::new());
    assert!(c.ok(&["--registry", "site", "fsck"]).contains("PASS"));
}

#[test]
fn a_clone_at_work_keeps_its_staging_while_another_clone_into_the_same_directory_sweeps() {
    at_work_while_a_clone_sweeps(
        STAGED,
        |root| {
            ["clone", "full.regx", "site", "--trust", root]
                .map(String::from)
                .to_vec()
        },
        ".registry-clone-",
    );
}

#[test]
fn an_init_at_work_keeps_its_staging_while_a_clone_into_the_same_directory_sweeps() {
    at_work_while_a_clone_sweeps(
        "put:after-write",
        |_| {
            ["init", "site", "--root-key", "root.pem"]
                .map(String::from)
                .to_vec()
        },
        ".registry-init-",
    );
}
