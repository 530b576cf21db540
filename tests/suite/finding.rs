//! Finding a model: `NAME@latest` and `--slot SLOT` wherever a model is
//! named, versions in semantic-version order everywhere, a bare name with several versions
//! listed, `reg list` filters, `reg diff A B`; and an unknown slot's refusal lists the slots.

use crate::util::Sandbox;
use serde_json::Value;
use std::fs;

/// Packs `files` as `name@version` signed by `key` with `extra` pack flags (type, uses,
/// description default to ruleset, detection, "rules"), and adds it with op.pem.
fn add(s: &Sandbox, key: &str, name: &str, version: &str, files: &[(&str, &str)], extra: &[&str]) {
    let dir = format!("m-{name}-{version}");
    for (path, content) in files {
        let p = s.join(&format!("{dir}/{path}"));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
    let out = format!("{dir}.tar");
    let mut args = vec![
        "bundle",
        "pack",
        &dir,
        "-o",
        &out,
        "--key",
        key,
        "--name",
        name,
        "--version",
        version,
    ];
    for (flag, default) in [
        ("--type", "ruleset"),
        ("--use", "detection"),
        ("--description", "rules"),
    ] {
        if !extra.contains(&flag) {
            args.extend([flag, default]);
        }
    }
    args.extend_from_slice(extra);
    s.ok(&args);
    s.ok(&["add", &out, "--key", "op.pem"]);
}

/// A rule file's text, distinct per version.
fn rule(version: &str) -> String {
    format!(
        "rule r_{} {{ condition: true }}\n",
        version.replace(['.', '-'], "_")
    )
}

/// Six versions of `det`, added in the order a string sort gives (not semantic-version order), and
/// `other@1.0.0`.
fn six_versions() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    for v in ["10.0.0", "2.0.0", "2.1.0", "2.10.0", "2.10.0-rc.1", "2.9.0"] {
        add(&s, "pub.pem", "det", v, &[("r.yar", &rule(v))], &[]);
    }
    add(
        &s,
        "pub.pem",
        "other",
        "1.0.0",
        &[("r.yar", &rule("o"))],
        &[],
    );
    s
}

const SEMVER_ORDER: [&str; 6] = ["2.0.0", "2.1.0", "2.9.0", "2.10.0-rc.1", "2.10.0", "10.0.0"];

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn op(s: &Sandbox, args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--key", "op.pem"]);
    s.ok(&a)
}

#[test]
fn versions_sort_in_semantic_order_in_list_and_in_a_names_listing() {
    let s = six_versions();
    let list = json(&s.ok(&["list", "--json"]));
    crate::ingest::validate("model-list.schema.json", &list);
    let versions: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "det")
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, SEMVER_ORDER);
    let text = s.ok(&["list"]);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("det ")).collect();
    for (line, v) in lines.iter().zip(SEMVER_ORDER) {
        assert!(line.split_whitespace().nth(1) == Some(v), "{text}");
    }
    assert!(text.lines().last().unwrap().starts_with("other "), "{text}");
    // `reg show NAME` lists them in the same order.
    let out = s.reg().args(["show", "det"]).output().unwrap();
    let listed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    let want: Vec<String> = SEMVER_ORDER.iter().map(|v| format!("det@{v}")).collect();
    assert_eq!(listed, want);
}

#[test]
fn latest_names_the_highest_version_wherever_a_model_is_named() {
    let s = six_versions();
    let show = json(&s.ok(&["show", "det@latest", "--json"]));
    crate::ingest::validate("model-record.schema.json", &show);
    assert_eq!(show["version"], "10.0.0");
    assert!(s.ok(&["verify", "det@latest"]).contains("det@10.0.0"));
    assert!(s.ok(&["log", "det@latest"]).contains("det@10.0.0"));
    s.ok(&["checkout", "det@latest", "-o", "out"]);
    assert_eq!(
        fs::read_to_string(s.join("out/r.yar")).unwrap(),
        rule("10.0.0")
    );
    fs::write(s.join("x.yar"), rule("10.0.0")).unwrap();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    s.example_observation("obs.json");
    let rec = s.ok(&[
        "drift",
        "record",
        "det@latest",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    assert!(rec.contains("det@10.0.0"), "{rec}");
    let listed = json(&s.ok(&["drift", "list", "det@latest", "--json"]));
    crate::ingest::validate("drift-list.schema.json", &listed);
    assert_eq!(listed[0]["spec"], "det@10.0.0");
    // Transitions resolve it too; the gate judges what it names.
    op(&s, &["promote", "det@latest", "--reason", "evaluated"]);
    assert_eq!(
        json(&s.ok(&["show", "det@10.0.0", "--json"]))["state"],
        "PROMOTED"
    );
    // A revoked latest stays the latest: @latest is the newest version, the gate denies it.
    op(&s, &["revoke", "det@latest", "--reason", "poisoned"]);
    assert_eq!(
        json(&s.ok(&["show", "det@latest", "--json"]))["state"],
        "REVOKED"
    );
    let out = s
        .reg()
        .args([
            "check",
            "--allow-unpinned",
            "--model",
            "det@latest",
            "x.yar",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("DENY"));
    // No such name: the same refusal as any unknown model.
    let err = s.fails(2, &["show", "nope@latest"]);
    assert!(err.contains("no model `nope@latest`"), "{err}");
}

#[test]
fn a_bare_name_shows_its_only_version_or_lists_its_versions_and_says_how_to_pick() {
    let s = six_versions();
    assert_eq!(
        json(&s.ok(&["show", "other", "--json"]))["version"],
        "1.0.0"
    );
    op(&s, &["promote", "det@2.9.0", "--reason", "ok"]);
    op(
        &s,
        &["activate", "prod", "det@2.9.0", "--reason", "roll out"],
    );
    let before = s.snapshot();
    let out = s.reg().args(["show", "det"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a listing, not the record shown"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line = stdout.lines().find(|l| l.starts_with("det@2.9.0")).unwrap();
    assert!(
        line.contains("PROMOTED") && line.ends_with("slot prod"),
        "{stdout}"
    );
    assert!(
        stdout.contains("det@10.0.0") && stdout.contains("REGISTERED"),
        "{stdout}"
    );
    assert!(
        stderr.contains("`det` has 6 versions: det@2.0.0, det@2.1.0"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: name one version: `det@VERSION`, or `det@latest`"),
        "{stderr}"
    );
    // Every other command refuses the same way, the versions in its message.
    for args in [
        &["verify", "det"][..],
        &["drift", "list", "det"],
        &["log", "det"],
    ] {
        let err = s.fails(2, args);
        assert!(
            err.contains("det@2.10.0-rc.1, det@2.10.0, det@10.0.0"),
            "{args:?}: {err}"
        );
    }
    let err = s.fails(2, &["promote", "det", "--reason", "x", "--key", "op.pem"]);
    assert!(err.contains("`det` has 6 versions"), "{err}");
    assert_eq!(before, s.snapshot());
}

/// `det@1.0.0` and `det@2.0.0`, both promoted, `det@2.0.0` active in `prod`; a reporter key.
fn with_prod() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    for v in ["1.0.0", "2.0.0"] {
        add(&s, "pub.pem", "det", v, &[("r.yar", &rule(v))], &[]);
        op(&s, &["promote", &format!("det@{v}"), "--reason", "ok"]);
    }
    op(
        &s,
        &["activate", "prod", "det@2.0.0", "--reason", "roll out"],
    );
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    s.example_observation("obs.json");
    s
}

#[test]
fn slot_names_its_active_model_wherever_a_model_is_named() {
    let s = with_prod();
    let show = json(&s.ok(&["show", "--slot", "prod", "--json"]));
    assert_eq!(show["version"], "2.0.0");
    assert!(s.ok(&["show", "--slot", "prod"]).starts_with("det@2.0.0"));
    assert!(s.ok(&["verify", "--slot", "prod"]).contains("det@2.0.0"));
    s.ok(&["checkout", "--slot", "prod", "-o", "out"]);
    assert_eq!(
        fs::read_to_string(s.join("out/r.yar")).unwrap(),
        rule("2.0.0")
    );
    let rec = s.ok(&[
        "drift", "record", "--slot", "prod", "obs.json", "--key", "rep.pem",
    ]);
    assert!(rec.contains("det@2.0.0"), "{rec}");
    let listed = json(&s.ok(&["drift", "list", "--slot", "prod", "--json"]));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["spec"], "det@2.0.0");
    // MODEL and --slot are one or the other.
    let err = s.fails(2, &["show", "det@1.0.0", "--slot", "prod"]);
    assert!(err.contains("cannot be used with"), "{err}");
    s.fails(2, &["verify"]);
    let err = s.fails(
        2,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "obs.json",
            "--slot",
            "prod",
            "--key",
            "rep.pem",
        ],
    );
    assert!(err.contains("give only the observation file"), "{err}");
}

#[test]
fn an_unknown_or_empty_slot_is_refused_naming_it_and_listing_the_slots_that_have_a_model() {
    let s = with_prod();
    op(
        &s,
        &["activate", "canary", "det@1.0.0", "--reason", "roll out"],
    );
    let before = s.snapshot();
    for args in [
        &["show", "--slot", "staging"][..],
        &["verify", "--slot", "staging"],
        &["checkout", "--slot", "staging", "-o", "out"],
        &["drift", "list", "--slot", "staging"],
        &[
            "drift", "record", "--slot", "staging", "obs.json", "--key", "rep.pem",
        ],
    ] {
        let err = s.fails(2, args);
        assert!(
            err.contains("error: slot `staging` has no active model"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("hint: the slots with an active model: canary, prod (`reg status`)"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(before, s.snapshot());
    assert!(!s.join("out").exists());
    // The gate keeps its meaning: it denies, and now says which slots exist.
    fs::write(s.join("x.yar"), rule("2.0.0")).unwrap();
    let out = s
        .reg()
        .args(["check", "--allow-unpinned", "--slot", "staging", "x.yar"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("DENY"));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("hint: slot `staging` has no active model; the slots with one: canary, prod"),
        "{err}"
    );
    // A slot emptied by deactivation is refused the same way; with no slot left, it says so.
    op(&s, &["deactivate", "prod", "--reason", "maintenance"]);
    op(&s, &["deactivate", "canary", "--reason", "maintenance"]);
    let err = s.fails(2, &["show", "--slot", "prod"]);
    assert!(err.contains("slot `prod` has no active model"), "{err}");
    assert!(
        err.contains("no slot has an active model (`reg activate SLOT MODEL`"),
        "{err}"
    );
}

/// Four models of two publishers with several types, uses and labels.
fn catalogue() -> (Sandbox, String) {
    let s = Sandbox::new();
    s.init_with_roles();
    let pub2 = s.key("pub2.pem");
    s.trust("pub2.pem.pub", "publisher", "vendor");
    let one = |s: &Sandbox, key, name, version, tag: &str, extra: &[&str]| {
        let text = rule(tag);
        add(s, key, name, version, &[("r.yar", &text)], extra)
    };
    one(
        &s,
        "pub.pem",
        "det",
        "1.0.0",
        "a",
        &["--label", "team=blue", "--label", "site=x"],
    );
    one(
        &s,
        "pub.pem",
        "det",
        "2.0.0",
        "b",
        &[
            "--label",
            "team=blue",
            "--label",
            "site=y",
            "--use",
            "detection",
            "--use",
            "classification",
        ],
    );
    one(
        &s,
        "pub2.pem",
        "llm",
        "1.0.0",
        "c",
        &[
            "--type",
            "LLM",
            "--use",
            "generation",
            "--label",
            "team=red",
        ],
    );
    one(
        &s,
        "pub2.pem",
        "cls",
        "0.1.0",
        "d",
        &["--type", "ML", "--use", "classification"],
    );
    op(&s, &["promote", "det@2.0.0", "--reason", "ok"]);
    op(&s, &["promote", "llm@1.0.0", "--reason", "ok"]);
    op(&s, &["revoke", "cls@0.1.0", "--reason", "bad"]);
    (s, pub2)
}

fn listed(s: &Sandbox, filters: &[&str]) -> Vec<String> {
    let mut args = vec!["list", "--json"];
    args.extend_from_slice(filters);
    let v = json(&s.ok(&args));
    crate::ingest::validate("model-list.schema.json", &v);
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}@{}",
                r["name"].as_str().unwrap(),
                r["version"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn list_filters_by_type_use_label_publisher_and_state_and_they_combine() {
    let (s, pub2) = catalogue();
    assert_eq!(listed(&s, &["--type", "llm"]), ["llm@1.0.0"]);
    assert_eq!(listed(&s, &["--name", "det"]), ["det@1.0.0", "det@2.0.0"]);
    assert_eq!(
        listed(&s, &["--type", "ruleset"]),
        ["det@1.0.0", "det@2.0.0"]
    );
    assert_eq!(
        listed(&s, &["--use", "classification"]),
        ["cls@0.1.0", "det@2.0.0"]
    );
    assert_eq!(
        listed(&s, &["--use", "classification", "--use", "detection"]),
        ["det@2.0.0"]
    );
    assert_eq!(
        listed(&s, &["--label", "team=blue"]),
        ["det@1.0.0", "det@2.0.0"]
    );
    assert_eq!(
        listed(&s, &["--label", "team=blue", "--label", "site=x"]),
        ["det@1.0.0"]
    );
    assert!(listed(&s, &["--label", "team=green"]).is_empty());
    assert_eq!(
        listed(&s, &["--publisher", &pub2[..8]]),
        ["cls@0.1.0", "llm@1.0.0"]
    );
    assert_eq!(
        listed(&s, &["--publisher", &pub2.to_ascii_uppercase()]),
        ["cls@0.1.0", "llm@1.0.0"]
    );
    assert_eq!(
        listed(&s, &["--state", "Promoted"]),
        ["det@2.0.0", "llm@1.0.0"]
    );
    assert_eq!(
        listed(&s, &["--state", "registered,REVOKED"]),
        ["cls@0.1.0", "det@1.0.0"]
    );
    assert_eq!(
        listed(
            &s,
            &[
                "--state",
                "registered",
                "--state",
                "promoted",
                "--label",
                "team=blue"
            ]
        ),
        ["det@1.0.0", "det@2.0.0"]
    );
    assert_eq!(
        listed(
            &s,
            &[
                "--publisher",
                &pub2,
                "--state",
                "promoted",
                "--use",
                "generation",
                "--type",
                "LLM"
            ]
        ),
        ["llm@1.0.0"]
    );
    let text = s.ok(&["list", "--use", "classification", "--state", "revoked"]);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().nth(1).unwrap().starts_with("cls "), "{text}");
    for (args, needle) in [
        (
            &["list", "--type", "dl2"][..],
            "expected one of ML, DL, LLM, ruleset",
        ),
        (&["list", "--label", "team"], "expected KEY=VALUE"),
        (
            &["list", "--publisher", "xyz"],
            "expected a key fingerprint",
        ),
        (
            &["list", "--state", "active"],
            "expected registered, promoted",
        ),
    ] {
        let err = s.fails(2, args);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn diff_shows_fields_and_artifacts_that_changed_and_validates() {
    let s = Sandbox::new();
    s.init_with_roles();
    add(
        &s,
        "pub.pem",
        "det",
        "1.0.0",
        &[
            ("a.yar", "rule a { condition: true }\n"),
            ("b.yar", "rule b { condition: true }\n"),
            ("c.yar", "rule c { condition: true }\n"),
        ],
        &[
            "--label",
            "team=blue",
            "--label",
            "site=x",
            "--description",
            "first",
        ],
    );
    add(
        &s,
        "pub.pem",
        "det",
        "2.0.0",
        &[
            ("a.yar", "rule a { condition: true }\n"),
            ("b.yar", "rule b { condition: false }\n"),
            ("d.yar", "rule d { condition: true }\n"),
        ],
        &[
            "--label",
            "team=red",
            "--framework",
            "yara",
            "--description",
            "second",
            "--owner",
            "blue team",
        ],
    );
    op(&s, &["promote", "det@2.0.0", "--reason", "ok"]);
    op(
        &s,
        &["activate", "prod", "det@2.0.0", "--reason", "roll out"],
    );
    let d = json(&s.ok(&["diff", "det@1.0.0", "det@latest", "--json"]));
    crate::ingest::validate("diff.schema.json", &d);
    assert_eq!(d["a"]["version"], "1.0.0");
    assert_eq!(d["b"]["version"], "2.0.0");
    assert_eq!(d["a"]["state"], "REGISTERED");
    assert_eq!(d["b"]["state"], "PROMOTED");
    assert_eq!(d["b"]["slots"], serde_json::json!(["prod"]));
    assert_eq!(d["differ"], true);
    let fields: Vec<&str> = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "version",
            "description",
            "framework",
            "owner",
            "labels.site",
            "labels.team"
        ]
    );
    assert_eq!(d["fields"][2]["a"], Value::Null);
    assert_eq!(d["fields"][2]["b"], "yara");
    assert_eq!(d["fields"][3]["a"], Value::Null);
    assert_eq!(d["fields"][3]["b"], "blue team");
    assert_eq!(d["fields"][4]["b"], Value::Null);
    let x = &d["artifacts"];
    assert_eq!(x["added"][0]["path"], "d.yar");
    assert_eq!(x["removed"][0]["path"], "c.yar");
    assert_eq!(x["changed"][0]["path"], "b.yar");
    assert_ne!(
        x["changed"][0]["a"]["blake3"],
        x["changed"][0]["b"]["blake3"]
    );
    assert_eq!(x["unchanged"], 1);
    assert_eq!(x["added"].as_array().unwrap().len(), 1);
    let text = s.ok(&["diff", "det@1.0.0", "det@2.0.0"]);
    assert!(text.starts_with("--- a det@1.0.0 (record "), "{text}");
    assert!(text.contains("PROMOTED, slot prod)"), "{text}");
    assert!(text.contains("description:     first -> second"), "{text}");
    assert!(text.contains("labels.site:     x -> (none)"), "{text}");
    assert!(
        text.contains("artifacts: 1 added, 1 removed, 1 changed, 1 unchanged"),
        "{text}"
    );
    assert!(text.contains("  + d.yar  "), "{text}");
    assert!(text.contains("  - c.yar  "), "{text}");
    assert!(text.contains("  ~ b.yar\n      a "), "{text}");
    // A report: exit 0, unless --exit-code and they differ.
    s.fails(1, &["diff", "det@1.0.0", "det@2.0.0", "--exit-code"]);
    let same = json(&s.ok(&["diff", "det@2.0.0", "det@latest", "--json", "--exit-code"]));
    crate::ingest::validate("diff.schema.json", &same);
    assert_eq!(same["differ"], false);
    assert!(same["fields"].as_array().unwrap().is_empty());
    assert!(
        s.ok(&["diff", "det@2.0.0", "det@2.0.0"])
            .contains("the records are the same")
    );
    let err = s.fails(2, &["diff", "det@1.0.0", "det@9.9.9"]);
    assert!(err.contains("no model `det@9.9.9`"), "{err}");
}

/// Every metadata field a diff compares is compared (name, type, uses, provenance, owner,
/// license, publisher, created as well as version), and two records that differ only in metadata, with the very
/// same artifacts, differ.
#[test]
fn diff_compares_every_metadata_field_and_differs_on_metadata_alone() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.key("pub2.pem");
    s.trust("pub2.pem.pub", "publisher", "vendor");
    let r = "rule a { condition: true }\n";
    add(&s, "pub.pem", "det", "1.0.0", &[("a.yar", r)], &[]);
    fs::create_dir_all(s.join("m-cls")).unwrap();
    fs::write(s.join("m-cls/a.yar"), r).unwrap();
    let base = format!("base=blake3:{}", "ab".repeat(32));
    let out = s
        .reg()
        .env("SOURCE_DATE_EPOCH", "1800000000")
        .args([
            "bundle",
            "pack",
            "m-cls",
            "-o",
            "cls.tar",
            "--key",
            "pub2.pem",
            "--name",
            "cls",
            "--version",
            "1.1.0",
            "--type",
            "ML",
            "--use",
            "classification",
            "--description",
            "rules",
            "--provenance",
            &base,
            "--owner",
            "vision team",
            "--license",
            "Apache-2.0",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.ok(&["add", "cls.tar", "--key", "op.pem"]);
    let d = json(&s.ok(&["diff", "det@1.0.0", "cls@1.1.0", "--json"]));
    crate::ingest::validate("diff.schema.json", &d);
    let fields: Vec<&str> = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "version",
            "type",
            "uses",
            "owner",
            "license",
            "provenance",
            "publisher",
            "created"
        ]
    );
    assert_eq!(d["fields"][4]["a"], Value::Null);
    assert_eq!(d["fields"][4]["b"], "vision team");
    assert_eq!(d["fields"][5]["b"], "Apache-2.0");
    assert_eq!(d["fields"][3]["b"], serde_json::json!(["classification"]));
    assert_eq!(d["fields"][6]["a"], serde_json::json!([]));
    assert_eq!(d["artifacts"]["unchanged"], 1);
    assert_eq!(d["differ"], true, "the metadata differs");
    s.fails(1, &["diff", "det@1.0.0", "cls@1.1.0", "--exit-code"]);
}
