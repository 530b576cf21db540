//! `reg fsck --scan DIR`: every entry under DIR is checked, whatever its name or format, and
//! must be an artifact of an approved model; only what `--ignore` matches is left out. Links are
//! followed to their target's bytes (the finding names both) or refused; FIFOs and sockets are
//! findings and never make fsck block. Each scan here runs on a registry built by the CLI, and
//! checks that neither the registry nor the scanned directory changed.

use crate::util::{Sandbox, tool};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt as _, symlink};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A registry with a model in each state: `det@2.0.0` PROMOTED, `old@1.0.0` DEPRECATED,
/// `triage@1.0.0` REGISTERED, `det@1.0.0` REVOKED. Each has one artifact, `m-NAME-VERSION/rules.yar`.
fn registry() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    for (name, version) in [
        ("det", "1.0.0"),
        ("det", "2.0.0"),
        ("triage", "1.0.0"),
        ("old", "1.0.0"),
    ] {
        let rule = format!(
            "rule r_{name}_{} {{ condition: true }}\n",
            version.replace('.', "_")
        );
        s.add_model(name, version, &[("rules.yar", rule)]);
    }
    for args in [
        &["promote", "det@1.0.0", "--reason", "ok"][..],
        &["promote", "det@2.0.0", "--reason", "ok"],
        &["promote", "old@1.0.0", "--reason", "ok"],
        &["deprecate", "old@1.0.0", "--reason", "superseded"],
        &["revoke", "det@1.0.0", "--reason", "withdrawn"],
    ] {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--key", "op.pem"]);
        s.ok(&a);
    }
    fs::create_dir_all(s.join("site")).unwrap();
    s
}

/// The artifact of `name@version` (its source file, byte for byte what was added).
fn artifact(s: &Sandbox, spec: &str) -> PathBuf {
    let (name, version) = spec.split_once('@').unwrap();
    s.join(&format!("m-{name}-{version}/rules.yar"))
}

/// Bytes no format detection recognises (no magic at the start; not a safetensors header).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    out[0] = b'R';
    out[8] = b'R';
    out
}

/// Every entry under `dir` without reading through a link or opening a special file: files with
/// their bytes, links with what they name, other entries with their kind.
fn listing(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        let ft = e.file_type();
        let what = if ft.is_symlink() {
            format!("link {}", fs::read_link(e.path()).unwrap().display())
        } else if ft.is_file() {
            format!("file {:?}", fs::read(e.path()).unwrap())
        } else if ft.is_dir() {
            "dir".into()
        } else if ft.is_fifo() {
            "fifo".into()
        } else {
            "special".into()
        };
        out.insert(e.path().to_path_buf(), what);
    }
    out
}

/// Runs `reg fsck --json --scan site EXTRA...` (killed after 60 s, so a hang fails the test),
/// validates the report against its schema and checks that fsck changed nothing, in the
/// registry or under `site/`.
fn scan(s: &Sandbox, extra: &[&str]) -> (i32, Value) {
    let (before, site_before) = (s.snapshot(), listing(&s.join("site")));
    let mut args = vec!["fsck", "--json", "--scan", "site"];
    args.extend_from_slice(extra);
    let out = s
        .reg()
        .args(&args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "fsck --json printed no report ({e}; killed after 60 s?): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    crate::ingest::validate("fsck-report.schema.json", &report);
    assert_eq!(s.snapshot(), before, "fsck changed the registry");
    assert_eq!(listing(&s.join("site")), site_before, "fsck changed site/");
    let checked = &report["checked"];
    let verdicts: u64 = checked["verdicts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        verdicts,
        checked["scanned"].as_u64().unwrap(),
        "the verdicts add up to the files scanned: {report:#}"
    );
    (out.status.code().unwrap(), report)
}

/// The scan findings (those with a path under `site/`), as (code, path) pairs, sorted.
fn scan_findings(report: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("scan-"))
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The one finding about `path`.
fn finding<'a>(report: &'a Value, path: &str) -> &'a Value {
    let found: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == path)
        .collect();
    assert_eq!(found.len(), 1, "one finding for {path}: {report:#}");
    found[0]
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|(c, p)| (c.to_string(), p.to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn random_bytes_named_like_a_model_are_unregistered_errors_naming_their_format() {
    let s = registry();
    let names = ["x.onnx", "x.pt", "x.bin", "x.gguf", "x.h5", "x.safetensors"];
    for (i, name) in names.iter().enumerate() {
        fs::write(s.join(&format!("site/{name}")), noise(i as u64, 3000)).unwrap();
    }
    let (code, report) = scan(&s, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["result"], "FAIL");
    for name in names {
        let path = format!("site/{name}");
        let f = finding(&report, &path);
        assert_eq!(f["code"], "scan-unregistered", "{f:#}");
        assert_eq!(f["severity"], "error");
        assert_eq!(f["format"], "unknown", "its bytes are no {name}: {f:#}");
        assert!(f["message"].as_str().unwrap().contains("an unknown file"));
        let id = blake3::hash(&fs::read(s.join(&path)).unwrap()).to_hex();
        assert_eq!(f["object"], id.as_str(), "names the file's BLAKE3");
    }
    assert_eq!(report["checked"]["scanned"], 6);
    assert_eq!(report["checked"]["verdicts"]["unregistered"], 6);
}

#[test]
fn a_file_of_unknown_extension_or_none_is_checked_too() {
    let s = registry();
    fs::write(s.join("site/weights.xyz"), noise(7, 500)).unwrap();
    fs::write(s.join("site/MODEL"), noise(8, 500)).unwrap();
    fs::create_dir_all(s.join("site/deep/er")).unwrap();
    fs::write(s.join("site/deep/er/.hidden"), noise(9, 500)).unwrap();
    let (code, report) = scan(&s, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        scan_findings(&report),
        pairs(&[
            ("scan-unregistered", "site/weights.xyz"),
            ("scan-unregistered", "site/MODEL"),
            ("scan-unregistered", "site/deep/er/.hidden"),
        ])
    );
    for p in ["site/weights.xyz", "site/MODEL", "site/deep/er/.hidden"] {
        assert_eq!(finding(&report, p)["format"], "unknown");
    }
}

#[test]
fn a_zip_without_a_pytorch_extension_is_an_unregistered_zip() {
    let s = registry();
    let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
    zip.extend(noise(3, 400));
    fs::write(s.join("site/archive.zip"), &zip).unwrap();
    fs::write(s.join("site/model.npz"), &zip).unwrap();
    let (code, report) = scan(&s, &[]);
    assert_eq!(code, 1);
    for p in ["site/archive.zip", "site/model.npz"] {
        let f = finding(&report, p);
        assert_eq!(f["code"], "scan-unregistered");
        assert_eq!(f["format"], "zip", "{f:#}");
    }
}

#[test]
fn an_xgboost_json_model_is_an_unregistered_json_file() {
    let s = registry();
    let xgb = r#"{"learner":{"attributes":{},"feature_names":[],"gradient_booster":{"model":{"gbtree_model_param":{"num_trees":"1"},"trees":[{"base_weights":[0.5],"left_children":[-1],"right_children":[-1],"split_conditions":[0.5],"split_indices":[0]}]},"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","num_class":"0","num_feature":"4"},"objective":{"name":"binary:logistic"}},"version":[2,0,3]}"#;
    fs::write(s.join("site/xgb-model.json"), xgb).unwrap();
    let (code, report) = scan(&s, &[]);
    assert_eq!(code, 1);
    let f = finding(&report, "site/xgb-model.json");
    assert_eq!(f["code"], "scan-unregistered");
    assert_eq!(f["format"], "json");
    assert!(f["message"].as_str().unwrap().contains("a json file"));
}

#[test]
fn a_lightgbm_text_model_is_an_unregistered_text_file() {
    let s = registry();
    let lgbm = "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=3\nobjective=binary sigmoid:1\nfeature_names=a b c d\ntree_sizes=300\n\nTree=0\nnum_leaves=2\nsplit_feature=0\nthreshold=0.5\nleaf_value=-0.1 0.1\n\nend of trees\n";
    fs::write(s.join("site/lgbm_model.txt"), lgbm).unwrap();
    fs::write(s.join("site/lgbm_model"), lgbm).unwrap();
    let (code, report) = scan(&s, &[]);
    assert_eq!(code, 1);
    assert_eq!(finding(&report, "site/lgbm_model.txt")["format"], "text");
    assert_eq!(finding(&report, "site/lgbm_model")["format"], "unknown");
    assert_eq!(report["checked"]["verdicts"]["unregistered"], 2);
}

#[test]
fn a_link_to_an_approved_artifact_passes_naming_link_and_target() {
    let s = registry();
    // One link by an absolute path, one relative through a chain of two links.
    symlink(artifact(&s, "det@2.0.0"), s.join("site/active.yar")).unwrap();
    symlink("../m-det-2.0.0/rules.yar", s.join("site/hop")).unwrap();
    symlink("hop", s.join("site/chained.bin")).unwrap();
    let (code, report) = scan(&s, &["--ignore", "hop"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["result"], "PASS");
    let target = fs::canonicalize(artifact(&s, "det@2.0.0")).unwrap();
    for p in ["site/active.yar", "site/chained.bin"] {
        let f = finding(&report, p);
        assert_eq!(f["code"], "scan-link");
        assert_eq!(f["severity"], "warning");
        assert_eq!(f["target"], target.to_str().unwrap(), "{f:#}");
        assert_eq!(f["model"], "det@2.0.0");
        let msg = f["message"].as_str().unwrap();
        assert!(msg.contains(target.to_str().unwrap()), "{msg}");
    }
    assert_eq!(report["checked"]["verdicts"]["approved"], 2);
    assert_eq!(report["checked"]["ignored"], 1);

    // The text report names both too; the scanned directory itself may be named through a link.
    symlink("site", s.join("site-link")).unwrap();
    let out = s.ok(&["fsck", "--scan", "site-link", "--ignore", "hop"]);
    assert!(
        out.contains(&format!(
            "site-link/active.yar: a link to `{}`",
            target.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(", 2 scanned files (2 approved; 1 ignored)"),
        "{out}"
    );
}

#[test]
fn a_link_to_unregistered_bytes_fails_naming_link_and_target() {
    let s = registry();
    fs::create_dir_all(s.join("elsewhere")).unwrap();
    fs::write(s.join("elsewhere/blob"), noise(11, 2000)).unwrap();
    symlink(s.join("elsewhere/blob"), s.join("site/model.onnx")).unwrap();
    let (code, report) = scan(&s, &[]);
    assert_eq!(code, 1);
    let f = finding(&report, "site/model.onnx");
    let target = fs::canonicalize(s.join("elsewhere/blob")).unwrap();
    assert_eq!(f["code"], "scan-unregistered");
    assert_eq!(f["target"], target.to_str().unwrap());
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("a link to `{}`: ", target.display()))
    );
    let id = blake3::hash(&fs::read(&target).unwrap()).to_hex();
    assert_eq!(f["object"], id.as_str(), "the target's bytes were hashed");
}

#[test]
fn a_dangling_looping_or_directory_link_is_refused_never_skipped() {
    let s = registry();
    symlink(s.join("nowhere/model.bin"), s.join("site/dangling.bin")).unwrap();
    symlink("loop-b", s.join("site/loop-a")).unwrap();
    symlink("loop-a", s.join("site/loop-b")).unwrap();
    symlink(s.join("m-det-2.0.0"), s.join("site/dir-link")).unwrap();
    let (code, report) = scan(&s, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        scan_findings(&report),
        pairs(&[
            ("scan-link-refused", "site/dangling.bin"),
            ("scan-link-refused", "site/dir-link"),
            ("scan-link-refused", "site/loop-a"),
            ("scan-link-refused", "site/loop-b"),
        ])
    );
    let f = finding(&report, "site/dangling.bin");
    assert_eq!(
        f["target"],
        s.join("nowhere/model.bin").to_str().unwrap(),
        "names what the link names"
    );
    assert!(
        finding(&report, "site/dir-link")["message"]
            .as_str()
            .unwrap()
            .contains("its target is a directory")
    );
    assert_eq!(report["checked"]["verdicts"]["refused"], 4);
}

#[test]
fn a_fifo_or_socket_is_a_finding_and_fsck_does_not_hang() {
    let s = registry();
    let fifo = s.join("site/model.onnx");
    let st = std::process::Command::new(tool("mkfifo", "coreutils"))
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let _socket = std::os::unix::net::UnixListener::bind(s.join("site/sock")).unwrap();
    // A link to a FIFO is refused without being opened either.
    symlink(&fifo, s.join("site/via-link.pt")).unwrap();
    let (code, report) = scan(&s, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        scan_findings(&report),
        pairs(&[
            ("scan-not-file", "site/model.onnx"),
            ("scan-not-file", "site/sock"),
            ("scan-link-refused", "site/via-link.pt"),
        ])
    );
    let f = finding(&report, "site/model.onnx");
    assert!(f["message"].as_str().unwrap().contains("a FIFO"), "{f:#}");
    assert_eq!(f["format"], "unknown", "named by its name only, never read");
    assert!(
        finding(&report, "site/via-link.pt")["message"]
            .as_str()
            .unwrap()
            .contains("its target is a FIFO")
    );
    assert_eq!(report["checked"]["verdicts"]["refused"], 3);
}

#[test]
fn ignore_leaves_out_exactly_what_it_matches() {
    let s = registry();
    for p in [
        "site/cache/a.bin",
        "site/cache/sub/b.bin",
        "site/notes.txt",
        "site/docs/readme.txt",
        "site/model.onnx",
        "site/cachex/c.bin",
    ] {
        let path = s.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, noise(p.len() as u64, 100)).unwrap();
    }
    // A matched FIFO is not even looked at.
    let st = std::process::Command::new(tool("mkfifo", "coreutils"))
        .arg(s.join("site/cache/pipe"))
        .status()
        .unwrap();
    assert!(st.success());

    let (code, report) = scan(&s, &["--ignore", "cache", "--ignore", "*.txt"]);
    assert_eq!(code, 1);
    assert_eq!(
        scan_findings(&report),
        pairs(&[
            ("scan-unregistered", "site/cachex/c.bin"),
            ("scan-unregistered", "site/docs/readme.txt"),
            ("scan-unregistered", "site/model.onnx"),
        ])
    );
    assert_eq!(report["checked"]["ignored"], 4);
    assert_eq!(report["checked"]["scanned"], 3);

    let (_, report) = scan(
        &s,
        &[
            "--ignore",
            "**/*.txt",
            "--ignore",
            "cache*/**",
            "--ignore",
            "model.?nnx",
        ],
    );
    assert_eq!(scan_findings(&report), vec![]);
    assert_eq!(report["result"], "PASS", "{report:#}");
    assert_eq!(report["checked"]["ignored"], 7);
    assert_eq!(report["checked"]["scanned"], 0);

    // Nothing is ignored by default, and a pattern that can match no relative path is refused.
    let (_, report) = scan(&s, &[]);
    assert_eq!(report["checked"]["ignored"], 0);
    assert_eq!(report["checked"]["scanned"], 7);
    let before = s.snapshot();
    for bad in ["/etc/*", "../site/*", "a**", ""] {
        let err = s.fails(2, &["fsck", "--scan", "site", "--ignore", bad]);
        assert!(err.contains("--ignore"), "{bad}: {err}");
    }
    let err = s.fails(2, &["fsck", "--ignore", "*.txt"]);
    assert!(err.contains("--scan"), "{err}");
    assert_eq!(s.snapshot(), before);
}

#[test]
fn the_report_counts_files_scanned_ignored_and_in_each_verdict() {
    let s = registry();
    fs::copy(artifact(&s, "det@2.0.0"), s.join("site/promoted.yar")).unwrap();
    fs::copy(artifact(&s, "det@2.0.0"), s.join("site/promoted-copy")).unwrap();
    fs::copy(artifact(&s, "old@1.0.0"), s.join("site/deprecated.yar")).unwrap();
    fs::copy(artifact(&s, "triage@1.0.0"), s.join("site/pending.yar")).unwrap();
    fs::copy(artifact(&s, "det@1.0.0"), s.join("site/revoked.yar")).unwrap();
    fs::write(s.join("site/shadow.bin"), noise(1, 64)).unwrap();
    symlink(s.join("gone"), s.join("site/dangling")).unwrap();
    fs::write(s.join("site/README.md"), "notes").unwrap();
    let (code, report) = scan(&s, &["--ignore", "README.md"]);
    assert_eq!(code, 1);
    let c = &report["checked"];
    assert_eq!(c["scanned"], 7);
    assert_eq!(c["ignored"], 1);
    assert_eq!(
        c["verdicts"],
        serde_json::json!({"approved": 2, "deprecated": 1, "unapproved": 1, "revoked": 1,
            "unregistered": 1, "denied": 0, "refused": 1})
    );
    assert_eq!(
        scan_findings(&report),
        pairs(&[
            ("scan-deprecated", "site/deprecated.yar"),
            ("scan-unapproved", "site/pending.yar"),
            ("scan-revoked", "site/revoked.yar"),
            ("scan-unregistered", "site/shadow.bin"),
            ("scan-link-refused", "site/dangling"),
        ])
    );
    assert_eq!(
        finding(&report, "site/deprecated.yar")["severity"],
        "warning"
    );
    assert_eq!(
        finding(&report, "site/deprecated.yar")["model"],
        "old@1.0.0"
    );
    assert_eq!(finding(&report, "site/pending.yar")["severity"], "error");
    assert_eq!(
        finding(&report, "site/pending.yar")["model"],
        "triage@1.0.0"
    );

    // The text report ends with the same counts.
    let out = s
        .reg()
        .args(["fsck", "--scan", "site", "--ignore", "README.md"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(", 7 scanned files (2 approved, 1 deprecated, 1 unapproved, 1 revoked, 1 unregistered, 1 refused; 1 ignored) checked"),
        "{text}"
    );
}

#[test]
fn a_revoked_file_names_its_model() {
    let s = registry();
    fs::copy(artifact(&s, "det@1.0.0"), s.join("site/renamed.onnx")).unwrap();
    let (code, report) = scan(&s, &[]);
    assert_eq!(code, 1);
    let f = finding(&report, "site/renamed.onnx");
    assert_eq!(f["code"], "scan-revoked");
    assert_eq!(f["model"], "det@1.0.0");
    assert_eq!(f["format"], "unknown");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("det@1.0.0, which is REVOKED"),
        "{f:#}"
    );
    let out = s.reg().args(["fsck", "--scan", "site"]).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains(
        "error[scan-revoked] site/renamed.onnx: an unknown file of det@1.0.0, which is REVOKED"
    ));
}

#[test]
fn a_file_whose_name_is_not_utf8_is_a_finding_and_the_json_report_still_prints() {
    use std::os::unix::ffi::OsStrExt as _;
    let s = registry();
    let name = std::ffi::OsStr::from_bytes(b"site/w\xffe\xc3.bin");
    fs::write(s.join("site").parent().unwrap().join(name), noise(5, 100)).unwrap();
    let (code, report) = scan(&s, &[]);
    assert_eq!(code, 1);
    let f = finding(&report, "site/w\\xffe\\xc3.bin");
    assert_eq!(f["code"], "scan-unregistered");
}

#[test]
fn a_scanned_directory_that_cannot_be_listed_is_counted_and_refused() {
    // What cannot be listed hides what is in it: one entry scanned, refused, and the scan fails.
    let s = Sandbox::new();
    s.init();
    let missing = s.join("not-there");
    let (code, report) = crate::fsck::fsck_json(&s, &["--scan", missing.to_str().unwrap()]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["checked"]["scanned"], 1, "{report}");
    assert_eq!(report["checked"]["verdicts"]["refused"], 1, "{report}");
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["code"] == "scan-unreadable" && f["path"] == missing.to_str().unwrap()),
        "{report}"
    );
}

#[test]
fn a_scan_is_reported_skipped_only_when_the_ledger_does_not_verify() {
    let s = Sandbox::new();
    s.init();
    std::fs::create_dir(s.join("models")).unwrap();
    let scan = ["--scan", "models"];
    let skipped = |extra: &[&str]| {
        let (_, report) = crate::fsck::fsck_json(&s, extra);
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "scan-skipped")
    };
    assert!(!skipped(&scan));
    std::fs::remove_file(s.dot().join("checkpoint")).unwrap();
    assert!(skipped(&scan));
    assert!(!skipped(&[]), "nothing to skip without --scan");
}
