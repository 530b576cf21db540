//! What whoever holds the medium can plant in `.registry/` and around it (links, special files,
//! mounts, a file at an object's name, files outside the layout, another config, a registry
//! path of another kind): each is refused or survived, and nothing inside or outside the
//! registry changes when reg refuses. The ledger file's own tampering is in `ledger_tamper`,
//! the host's records in `host_record`.

use crate::util::Sandbox;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt as _, symlink};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every entry under `dir` without following anything: links as their target, FIFOs as such.
pub(crate) fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
        let ft = e.file_type();
        let v = if ft.is_symlink() {
            format!("link -> {}", fs::read_link(e.path()).unwrap().display())
        } else if ft.is_dir() {
            "dir".into()
        } else if ft.is_fifo() {
            "fifo".into()
        } else {
            blake3::hash(&fs::read(e.path()).unwrap())
                .to_hex()
                .to_string()
        };
        out.insert(rel, v);
    }
    out
}

/// A registry with one promoted model active in slot `ransomware`, and one registered model.
pub(crate) fn setup() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }\n".into())],
    );
    s.add_model(
        "det",
        "2.0.0",
        &[("rules.yar", "rule b { condition: true }\n".into())],
    );
    for args in [
        &["promote", "det@1.0.0", "--reason", "ok"][..],
        &["activate", "ransomware", "det@1.0.0", "--reason", "live"],
    ] {
        op(&s, args);
    }
    s
}

pub(crate) fn op(s: &Sandbox, args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--key", "op.pem"]);
    s.ok(&a)
}

/// Files outside the registry that a followed link would expose.
pub(crate) fn precious(s: &Sandbox) -> PathBuf {
    let dir = s.join("precious");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(dir.join("thesis.txt"), b"years of work").unwrap();
    fs::write(dir.join("sub/keys.txt"), b"more").unwrap();
    dir
}

/// Replaces `.registry/REL` (a directory) by a link to `target`.
pub(crate) fn link_dir(s: &Sandbox, rel: &str, target: &Path) {
    let p = s.dot().join(rel);
    fs::rename(&p, s.join(&format!("saved-{}", rel.replace('/', "-")))).unwrap();
    symlink(target, &p).unwrap();
}

/// fsck's JSON report and exit code.
pub(crate) fn fsck(s: &Sandbox) -> (i32, serde_json::Value) {
    let out = s.reg().args(["fsck", "--json"]).output().unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

pub(crate) fn has_finding(report: &serde_json::Value, code: &str, path_end: &str) -> bool {
    report["findings"].as_array().unwrap().iter().any(|f| {
        f["code"] == code
            && f["severity"] == "error"
            && f["path"].as_str().is_some_and(|p| p.ends_with(path_end))
    })
}

#[test]
fn gc_never_deletes_through_a_linked_tmp() {
    let s = setup();
    let outside = precious(&s);
    link_dir(&s, "tmp", &outside);
    let (reg_before, out_before) = (tree(&s.dot()), tree(&outside));
    let (code, report) = fsck(&s);
    assert_eq!(code, 1, "{report:#}");
    assert!(has_finding(&report, "link", ".registry/tmp"), "{report:#}");
    let err = s.fails(1, &["gc"]);
    assert!(err.contains(".registry/tmp` is a symbolic link"), "{err}");
    // Writes refuse too, before anything is written.
    let err = s.fails(
        1,
        &["promote", "det@2.0.0", "--reason", "x", "--key", "op.pem"],
    );
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(tree(&outside), out_before, "nothing outside was touched");
    assert_eq!(tree(&s.dot()), reg_before, "the registry is unchanged");
}

#[test]
fn no_ref_is_written_or_read_through_a_linked_refs_directory() {
    for rel in ["refs/slots", "refs/models", "refs", "index", "objects"] {
        let s = setup();
        let outside = precious(&s);
        link_dir(&s, rel, &outside);
        let (reg_before, out_before) = (tree(&s.dot()), tree(&outside));
        for args in [
            &[
                "deactivate",
                "ransomware",
                "--reason",
                "x",
                "--key",
                "op.pem",
            ][..],
            &["gc"],
            &["status"],
            &["list"],
        ] {
            let err = s.fails(1, args);
            assert!(
                err.contains(&format!(".registry/{rel}` is a symbolic link")),
                "{rel} {args:?}: {err}"
            );
        }
        let (code, report) = fsck(&s);
        assert_eq!(code, 1);
        assert!(
            has_finding(&report, "link", &format!(".registry/{rel}")),
            "{rel}: {report:#}"
        );
        assert_eq!(
            tree(&outside),
            out_before,
            "{rel}: nothing outside was touched"
        );
        assert_eq!(
            tree(&s.dot()),
            reg_before,
            "{rel}: the registry is unchanged"
        );
    }
}

#[test]
fn a_link_anywhere_is_named_by_fsck_and_stops_writes_and_gc() {
    let s = setup();
    let outside = precious(&s);
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "det@1.0.0", "--json"])).unwrap();
    let id = show["id"].as_str().unwrap().to_string();
    let artifact = show["artifacts"][0]["blake3"].as_str().unwrap().to_string();
    // A fan-out directory of the store, a model ref and a stored object, each a link.
    let fan = s.dot().join("objects").join(&artifact[..2]);
    let copy = s.join("fan-copy");
    fs::rename(&fan, &copy).unwrap();
    symlink(&copy, &fan).unwrap();
    let err = s.fails(1, &["verify", "det@1.0.0"]);
    assert!(err.contains("is a symbolic link"), "{err}");
    fs::remove_file(&fan).unwrap();
    fs::rename(&copy, &fan).unwrap();
    let model_ref = s.dot().join("refs/models").join(&id);
    fs::rename(&model_ref, outside.join("ref")).unwrap();
    symlink(outside.join("ref"), &model_ref).unwrap();
    let (reg_before, out_before) = (tree(&s.dot()), tree(&outside));
    let (code, report) = fsck(&s);
    assert_eq!(code, 1);
    assert!(
        has_finding(&report, "link", &format!("refs/models/{id}")),
        "{report:#}"
    );
    for args in [
        &["deprecate", "det@1.0.0", "--reason", "x", "--key", "op.pem"][..],
        &["gc"],
    ] {
        let err = s.fails(1, args);
        assert!(
            err.contains(&format!("refs/models/{id}` is a symbolic link")),
            "{err}"
        );
    }
    assert_eq!(tree(&outside), out_before);
    assert_eq!(tree(&s.dot()), reg_before);
}

#[test]
fn the_registry_directory_itself_as_a_link_is_refused() {
    let s = setup();
    let elsewhere = s.join("elsewhere");
    fs::rename(s.dot(), &elsewhere).unwrap();
    symlink(&elsewhere, s.dot()).unwrap();
    let err = s.fails(1, &["list"]);
    assert!(err.contains(".registry` is a symbolic link"), "{err}");
}

/// Runs reg with a deadline: a command blocked on a FIFO fails the test instead of hanging it.
pub(crate) fn within_10s(s: &Sandbox, args: &[&str]) -> (i32, String) {
    let out = s
        .reg()
        .args(args)
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    let code = out
        .status
        .code()
        .expect("reg must not hang on a FIFO (killed at the deadline)");
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_fifo_where_the_registry_has_a_file_is_refused_without_hanging() {
    for rel in [
        "checkpoint",
        "config.json",
        "ledger",
        "index/state.json",
        "lock",
    ] {
        let s = setup();
        let p = s.dot().join(rel);
        fs::remove_file(&p).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .unwrap();
        assert!(status.success());
        let before = tree(&s.dot());
        for args in [
            &["status"][..],
            &["promote", "det@2.0.0", "--reason", "x", "--key", "op.pem"],
            &["ledger", "verify"],
            &["gc"],
        ] {
            let (code, err) = within_10s(&s, args);
            assert!(code == 1 || code == 2, "{rel} {args:?}: {code} {err}");
            assert!(
                err.contains(rel) && err.contains("FIFO"),
                "{rel} {args:?}: {err}"
            );
        }
        let (code, report) = fsck(&s);
        assert_eq!(code, 1, "{rel}");
        assert!(
            has_finding(&report, "not-regular", rel),
            "{rel}: {report:#}"
        );
        assert_eq!(tree(&s.dot()), before, "{rel}");
    }
}

#[test]
fn a_fifo_as_a_directory_bundle_manifest_or_artifact_is_refused_without_hanging() {
    let s = Sandbox::new();
    s.init_with_roles();
    // A bundle packed but not added yet.
    let dir = "m-det-1.0.0";
    fs::create_dir(s.join(dir)).unwrap();
    fs::write(
        s.join(&format!("{dir}/rules.yar")),
        "rule a { condition: true }\n",
    )
    .unwrap();
    s.ok(&[
        "bundle",
        "pack",
        dir,
        "-o",
        "m-det-1.0.0.tar",
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
        "d",
    ]);
    // The directory itself as a bundle, with its manifest (a FIFO) or an artifact (a FIFO).
    for victim in ["reg-manifest.json", "rules.yar"] {
        let bundle = s.join(&format!("fifo-{victim}"));
        fs::create_dir(&bundle).unwrap();
        let status = std::process::Command::new("tar")
            .arg("-xf")
            .arg(s.join(&format!("{dir}.tar")))
            .arg("-C")
            .arg(&bundle)
            .status()
            .unwrap();
        assert!(status.success());
        fs::remove_file(bundle.join(victim)).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(bundle.join(victim))
            .status()
            .unwrap();
        assert!(status.success());
        let before = tree(&s.dot());
        let b = bundle.to_str().unwrap();
        for args in [
            &["bundle", "verify", b, "--publisher", "pub.pem.pub"][..],
            &["add", b, "--key", "op.pem"],
        ] {
            let (code, err) = within_10s(&s, args);
            assert!(code == 1 || code == 2, "{victim} {args:?}: {err}");
            // Refused for what it is, naming it: not some later failure.
            assert!(
                err.contains(victim)
                    && (err.contains("FIFO") || err.contains("not a regular file")),
                "{victim} {args:?}: {err}"
            );
        }
        assert_eq!(tree(&s.dot()), before);
    }
}

#[test]
fn the_gate_follows_a_link_only_to_a_regular_file_and_never_waits_on_a_fifo() {
    let s = setup();
    let approved = s.join("m-det-1.0.0/rules.yar");
    s.ok(&["check", "--slot", "ransomware", approved.to_str().unwrap()]);
    // A link is followed to the file it names (docs/GUIDE.md §5), and both names are reported.
    let link = s.join("current.yar");
    symlink(&approved, &link).unwrap();
    let out = s.ok(&["check", "--slot", "ransomware", link.to_str().unwrap()]);
    let target = fs::canonicalize(&approved).unwrap();
    assert!(
        out.starts_with("ALLOW ")
            && out.contains(&format!("{} -> {}", link.display(), target.display())),
        "{out}"
    );
    let fifo = s.join("pipe.yar");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let via = s.join("via.yar");
    symlink(&fifo, &via).unwrap();
    for (path, found) in [(&fifo, "is a FIFO"), (&via, "its target is a FIFO")] {
        let out = s
            .reg()
            .args(["check", "--slot", "ransomware", path.to_str().unwrap()])
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // Denied like any file (exit 1), not an error: never opened, never waited on.
        assert_eq!(out.status.code(), Some(1), "{found}: {stdout}");
        assert!(
            stdout.starts_with("DENY ")
                && stdout.contains(found)
                && stdout.contains("[not-regular]"),
            "{found}: {stdout}"
        );
    }
}

#[test]
fn a_trailing_slash_does_not_make_reg_follow_a_linked_registry_directory() {
    let s = setup();
    let real = s.join("real");
    fs::rename(s.dot(), &real).unwrap();
    symlink(&real, s.dot()).unwrap();
    let before = tree(&real);
    for args in [
        &["--registry", ".registry/", "gc"][..],
        &["--registry", ".registry/", "status"],
        &[
            "--registry",
            ".registry/",
            "promote",
            "det@2.0.0",
            "--reason",
            "x",
            "--key",
            "op.pem",
        ],
    ] {
        let err = s.fails(1, args);
        assert!(err.contains("is a symbolic link"), "{args:?}: {err}");
    }
    assert_eq!(tree(&real), before);
}

#[test]
fn a_file_planted_at_an_objects_name_is_replaced_by_the_verified_bytes() {
    let s = setup();
    fs::create_dir(s.join("m-n")).unwrap();
    fs::write(s.join("m-n/rules.yar"), "rule n { condition: true }\n").unwrap();
    s.ok(&[
        "bundle",
        "pack",
        "m-n",
        "-o",
        "n.tar",
        "--key",
        "pub.pem",
        "--name",
        "n",
        "--version",
        "1.0.0",
        "--type",
        "ruleset",
        "--use",
        "detection",
        "--description",
        "n",
    ]);
    let id = blake3::hash(&fs::read(s.join("m-n/rules.yar")).unwrap())
        .to_hex()
        .to_string();
    let planted = s.object_path(&id);
    fs::create_dir_all(planted.parent().unwrap()).unwrap();
    fs::write(&planted, b"garbage").unwrap();
    s.ok(&["add", "n.tar", "--key", "op.pem"]);
    assert_eq!(
        blake3::hash(&fs::read(&planted).unwrap())
            .to_hex()
            .to_string(),
        id
    );
    let (code, report) = fsck(&s);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn the_refs_pending_marker_as_a_link_stops_writes_and_a_refused_write_keeps_the_marker() {
    let s = setup();
    let outside = precious(&s);
    let marker = s.dot().join("refs-pending");
    symlink(outside.join("thesis.txt"), &marker).unwrap();
    let before = tree(&s.dot());
    for args in [
        &["gc"][..],
        &["promote", "det@2.0.0", "--reason", "x", "--key", "op.pem"],
    ] {
        let err = s.fails(1, args);
        assert!(
            err.contains("refs-pending` is a symbolic link"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(tree(&s.dot()), before);
    fs::remove_file(&marker).unwrap();
    // A plain marker (an interrupted commit) survives a refused write: only a commit repairs.
    fs::write(&marker, b"").unwrap();
    let before = tree(&s.dot());
    s.fails(
        1,
        &[
            "activate",
            "ransomware",
            "det@1.0.0",
            "--reason",
            "again",
            "--key",
            "op.pem",
        ],
    );
    assert_eq!(tree(&s.dot()), before);
    op(&s, &["promote", "det@2.0.0", "--reason", "ok"]);
    assert!(
        !marker.exists(),
        "the next commit repaired the refs and removed it"
    );
}

#[test]
fn a_hard_linked_ledger_is_never_written_in_place() {
    let s = setup();
    let outside = s.join("outside-ledger");
    let ledger = s.dot().join("ledger");
    fs::copy(&ledger, &outside).unwrap();
    fs::remove_file(&ledger).unwrap();
    fs::hard_link(&outside, &ledger).unwrap();
    let before = fs::read(&outside).unwrap();
    let err = s.fails(
        2,
        &["promote", "det@2.0.0", "--reason", "x", "--key", "op.pem"],
    );
    assert!(err.contains("hard links"), "{err}");
    assert_eq!(fs::read(&outside).unwrap(), before);
    let (code, report) = fsck(&s);
    assert_eq!(code, 1);
    assert!(
        has_finding(&report, "link", ".registry/ledger"),
        "{report:#}"
    );
}

/// How a case puts something at a path.
type Plant<'a> = Box<dyn Fn(&Path) + 'a>;

#[test]
fn what_is_not_part_of_the_layout_fails_fsck_wherever_it_is_planted() {
    // A model file, a whole nested registry, a stray directory: reg never reads them, so
    // nothing kept there is governed, and fsck said PASS with nothing to say.
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model("alpha", "1.0.0", &[("a.yar", "rule a {}".into())]);
    let other = Sandbox::new();
    other.init();
    let dot = s.dot();
    let nest = |at: &Path| {
        crate::util::cp_a(&other.dot(), at);
    };
    fs::create_dir(dot.join("outbox")).unwrap();
    let cases: Vec<(&str, Plant)> = vec![
        ("extra", Box::new(|p| fs::write(p, b"x").unwrap())),
        (
            "model.onnx",
            Box::new(|p| fs::write(p, b"weights").unwrap()),
        ),
        ("extradir", Box::new(|p| fs::create_dir(p).unwrap())),
        (".registry", Box::new(nest)),
        ("refs/other", Box::new(|p| fs::create_dir(p).unwrap())),
        ("refs/notes", Box::new(|p| fs::write(p, b"x").unwrap())),
        ("index/extra", Box::new(|p| fs::write(p, b"x").unwrap())),
        ("index/sub", Box::new(|p| fs::create_dir(p).unwrap())),
        (
            "outbox/model.bin",
            Box::new(|p| fs::write(p, b"weights").unwrap()),
        ),
        ("outbox/.registry", Box::new(nest)),
        (
            // Named like a report, but a directory.
            "outbox/1111111111111111111111111111111111111111111111111111111111111111",
            Box::new(|p| fs::create_dir(p).unwrap()),
        ),
    ];
    for (rel, plant) in cases {
        let at = dot.join(rel);
        plant(&at);
        let (code, report) = crate::fsck::fsck_json(&s, &[]);
        assert_eq!(code, 1, "{rel}: {report}");
        let findings = report["findings"].as_array().unwrap();
        assert!(
            findings.iter().any(|f| f["code"] == "unknown-entry"
                && f["severity"] == "error"
                && f["path"] == at.to_str().unwrap()),
            "{rel}: {report}"
        );
        if at.is_dir() {
            fs::remove_dir_all(&at).unwrap();
        } else {
            fs::remove_file(&at).unwrap();
        }
    }
    // A file named like a report whose bytes are not that report.
    let forged = dot
        .join("outbox")
        .join(blake3::hash(b"a report").to_hex().as_str());
    fs::write(&forged, b"another report").unwrap();
    let (code, report) = crate::fsck::fsck_json(&s, &[]);
    assert_eq!(code, 1, "{report}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "object-corrupt" && f["path"] == forged.to_str().unwrap()),
        "{report}"
    );
    fs::remove_file(&forged).unwrap();
    assert_eq!(crate::fsck::fsck_json(&s, &[]).0, 0);
}

#[test]
fn a_registry_path_of_another_kind_is_refused_and_never_passed_over_for_another() {
    // Discovery found `.registry` only when it was a directory: a file or a dangling link in
    // its place was passed over for a parent's registry, and from inside a registry a
    // `.registry` planted below the current directory was found first.
    let s = Sandbox::new();
    s.init_with_roles();
    let site = s.join("site");
    fs::create_dir(&site).unwrap();
    for (what, plant) in [
        (
            "a file",
            Box::new(|p: &Path| fs::write(p, b"").unwrap()) as Box<dyn Fn(&Path)>,
        ),
        (
            "a dangling link",
            Box::new(|p: &Path| symlink("/nonexistent", p).unwrap()),
        ),
    ] {
        let at = site.join(".registry");
        plant(&at);
        for args in [&["fsck"][..], &["status"]] {
            let out = s.reg().current_dir(&site).args(args).output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(1), "{what} {args:?}: {text}");
            assert!(
                text.contains(at.to_str().unwrap()),
                "{what} {args:?}: {text}"
            );
        }
        fs::remove_file(&at).unwrap();
    }
    // From inside the registry, a registry planted in it is not the one checked.
    let other = Sandbox::new();
    other.init();
    crate::util::cp_a(&other.dot(), &s.dot().join(".registry"));
    for cwd in [s.dot(), s.dot().join("objects")] {
        let out = s
            .reg()
            .current_dir(&cwd)
            .args(["fsck", "--json"])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["registry"], s.dot().to_str().unwrap(), "{report}");
        assert_eq!(out.status.code(), Some(1), "{report}");
    }
}

#[test]
fn a_config_whose_version_is_not_the_one_genesis_signed_is_refused() {
    // config.json is unsigned: lowering its version (which changes how numbers may be spelled)
    // passed every check.
    let s = Sandbox::new();
    s.init();
    let config = s.dot().join("config.json");
    let text = fs::read_to_string(&config).unwrap();
    assert!(text.contains("\"format_version\":5"), "{text}");
    crate::util::make_writable(&config);
    fs::write(
        &config,
        text.replace("\"format_version\":5", "\"format_version\":1"),
    )
    .unwrap();
    let before = tree(s.path());
    let out = s.reg().arg("fsck").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[config-invalid]"), "{stdout}");
    assert!(
        stdout.contains("format_version 1 is not the version 5 its genesis entry names"),
        "{stdout}"
    );
    let err = s.fails(1, &["status"]);
    assert!(err.contains("its genesis entry names"), "{err}");
    assert_eq!(tree(s.path()), before);
}

#[test]
fn no_registry_is_made_inside_a_registry() {
    // A registry inside another's `.registry/` (its `tmp/`, say) is not found from inside it:
    // the outer one is. init and clone refuse to make one there.
    let s = Sandbox::new();
    let root = s.init();
    let before = tree(s.path());
    for (cwd, args) in [
        (s.dot().join("tmp"), &["init", "inner", "--root-key"][..]),
        (
            s.path().to_path_buf(),
            &["init", ".registry/tmp/inner", "--root-key"],
        ),
    ] {
        let mut a = args.to_vec();
        let key = s.join("root.pem");
        a.push(key.to_str().unwrap());
        let out = s.reg().current_dir(&cwd).args(&a).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{a:?}: {err}");
        assert!(
            err.contains("inside a registry's `.registry` directory"),
            "{err}"
        );
    }
    let err = s.fails(1, &["clone", ".", ".registry/tmp/inner", "--trust", &root]);
    assert!(
        err.contains("inside a registry's `.registry` directory"),
        "{err}"
    );
    // Nor through a link on the way, to a place that does not exist yet.
    symlink(s.dot().join("tmp"), s.join("lnk")).unwrap();
    let err = s.fails(1, &["init", "lnk/a/b", "--root-key", "root.pem"]);
    assert!(
        err.contains("inside a registry's `.registry` directory"),
        "{err}"
    );
    let err = s.fails(1, &["clone", ".", "lnk/inner", "--trust", &root]);
    assert!(
        err.contains("inside a registry's `.registry` directory"),
        "{err}"
    );
    fs::remove_file(s.join("lnk")).unwrap();
    assert_eq!(tree(s.path()), before);
}

#[test]
fn a_registry_path_with_a_trailing_slash_through_a_link_is_refused_by_the_library() {
    let s = Sandbox::new();
    s.init();
    // `lnk/.registry` is a link to the real one: with a trailing slash, `lstat` would follow it.
    fs::create_dir(s.join("lnk")).unwrap();
    symlink(s.dot(), s.join("lnk/.registry")).unwrap();
    for p in ["lnk/.registry/", "lnk/.registry//", "lnk/.registry/."] {
        let err = reg::repo::layout::check_skeleton(&s.join(p)).unwrap_err();
        assert!(err.to_string().contains("lnk/.registry"), "{p}: {err}");
    }
    reg::repo::layout::check_skeleton(&s.join(".registry/")).unwrap();
    let err = s.fails(1, &["--registry", "lnk/.registry/", "status"]);
    assert!(err.contains("link"), "{err}");
}

/// Runs `script` under `sh -e` in a mount namespace of its own (`unshare -m`, with `-r` when
/// not root), in the sandbox with its environment and `$REG` the binary: what it mounts is gone
/// when it ends, even if the test fails.
fn in_mount_namespace(s: &Sandbox, script: &str) -> std::process::Output {
    let reg = s.reg();
    let mut c = std::process::Command::new(crate::util::tool("unshare", "util-linux"));
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        c.arg("-r");
    }
    for (k, v) in reg.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.current_dir(s.path())
        .env("REG", reg.get_program())
        .args(["-m", "--propagation", "private", "sh", "-ec", script])
        .output()
        .unwrap()
}

#[test]
fn gc_purge_and_every_command_refuse_a_mount_inside_the_registry() {
    let s = setup();
    op(&s, &["revoke", "det@2.0.0", "--reason", "withdrawn"]);
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "det@2.0.0", "--json"])).unwrap();
    let artifact = show["artifacts"][0]["blake3"].as_str().unwrap().to_string();
    // Someone's files, named as an object gc finds unreached, a staging leftover and the
    // artifact a purge deletes would be.
    let outside = s.join("elsewhere");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("ab".repeat(31)), b"someone's data").unwrap();
    fs::write(outside.join(&artifact[2..]), b"more of it").unwrap();
    let fan = (0..=255u8)
        .map(|b| format!("{b:02x}"))
        .find(|f| !s.dot().join("objects").join(f).exists())
        .unwrap();
    fs::create_dir(s.dot().join("objects").join(&fan)).unwrap();
    let (reg_before, out_before) = (tree(&s.dot()), tree(&outside));
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    // A bind mount of a directory of the same file system (the same st_dev) at a new fan-out
    // directory, at tmp/ and at the fan-out directory of the artifact to purge; a tmpfs (another
    // st_dev) at a fan-out directory.
    for (at, how) in [
        (format!(".registry/objects/{fan}"), "mount --bind elsewhere"),
        (".registry/tmp".to_string(), "mount --bind elsewhere"),
        (
            format!(".registry/objects/{}", &artifact[..2]),
            "mount --bind elsewhere",
        ),
        (format!(".registry/objects/{fan}"), "mount -t tmpfs none"),
    ] {
        let fill = if how.contains("tmpfs") {
            format!("echo data > {at}/{}\n", "ab".repeat(31))
        } else {
            String::new()
        };
        let script = format!(
            "{how} {at}\n{fill}\
             for cmd in gc list; do \"$REG\" $cmd && echo \"$cmd: exit 0\" || echo \"$cmd: exit $?\"; done\n\
             \"$REG\" purge det@2.0.0 --reason r --key op.pem && echo \"purge: exit 0\" || echo \"purge: exit $?\"\n\
             ls -A {at}",
        );
        let o = in_mount_namespace(&s, &script);
        let shown = text(&o);
        assert!(o.status.success(), "{at} {how}: {shown}");
        // What the mount holds is all still there (listed inside the namespace for a tmpfs).
        assert_eq!(tree(&outside), out_before, "{at} {how}: {shown}");
        assert!(shown.contains(&"ab".repeat(31)), "{at} {how}: {shown}");
        let mounted = s.dot().join(at.trim_start_matches(".registry/"));
        assert!(
            shown.contains(&format!(
                "error: `{}` is on another file system or mount (something is mounted inside the registry), where the registry layout has a directory",
                mounted.display()
            )),
            "{at} {how}: {shown}"
        );
        assert!(
            shown.contains("hint: another file system is mounted inside the registry; reg reads, writes and removes nothing there: unmount it (`umount PATH`), then run `reg fsck`"),
            "{at} {how}: {shown}"
        );
        for cmd in ["gc", "list", "purge"] {
            assert!(
                shown.contains(&format!("{cmd}: exit 1")),
                "{at} {how}: {shown}"
            );
        }
        assert_eq!(
            tree(&s.dot()),
            reg_before,
            "{at} {how}: the registry is unchanged"
        );
    }
    // Unmounted, everything works again, and nothing outside was ever touched.
    op(&s, &["purge", "det@2.0.0", "--reason", "r"]);
    s.ok(&["gc"]);
    assert_eq!(tree(&outside), out_before);
}

#[test]
fn gc_never_changes_the_mode_of_a_file_it_unlinks_so_no_other_name_of_it_is_opened_up() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = Sandbox::new();
    s.init();
    // Outside files, private, each given a second name inside the registry by whoever holds the
    // medium: in `tmp/`, and as an object no entry reaches.
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let mut victims = Vec::new();
    for (i, inside) in [
        "tmp/object-planted",
        &format!("objects/ff/{}", "e".repeat(62)),
    ]
    .into_iter()
    .enumerate()
    {
        let victim = s.join(&format!("victim{i}"));
        fs::write(&victim, "private").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
        let planted = s.dot().join(inside);
        fs::create_dir_all(planted.parent().unwrap()).unwrap();
        fs::hard_link(&victim, &planted).unwrap();
        victims.push((victim, planted));
    }
    let out = s.ok(&["gc"]);
    for (victim, planted) in &victims {
        assert!(!planted.exists(), "{out}");
        assert_eq!(mode(victim), 0o600, "{}: {out}", victim.display());
        assert_eq!(fs::read_to_string(victim).unwrap(), "private");
    }
}
