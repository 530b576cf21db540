//! Scripting: `-` for standard input
//! and `-o -` for standard output, as age and tar take them; `--json` on every command that
//! changes or checks something, each valid under its schema; whether the registry is pinned in
//! the JSON of `list`, `status` and `show`; progress bars only on a terminal.

use crate::ingest::validate;
use crate::util::{Sandbox, pack_args};
use serde_json::Value;
use std::process::Output;

/// Runs reg with `input` on its standard input; returns the whole output.
fn piped(s: &Sandbox, args: &[&str], input: &[u8]) -> Output {
    s.reg()
        .args(args)
        .write_stdin(input.to_vec())
        .output()
        .expect("run reg")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// `reg ARGS --json`, asserted to succeed, parsed.
fn ok_json(s: &Sandbox, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    json(&s.ok(&all))
}

/// The pack arguments of a ruleset model in `dir`, written to `out`.
fn pack(s: &Sandbox, dir: &str, out: &str, name: &str, version: &str) -> Vec<String> {
    let p = s.join(dir);
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(
        p.join("rules.yar"),
        format!("rule {name} {{ condition: true }}\n"),
    )
    .unwrap();
    pack_args(dir, out, "pub.pem", name, version)
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The reg binary and `args`, for `Sandbox::in_pty`.
fn argv(args: &[&str]) -> Vec<String> {
    let mut v = vec![
        assert_cmd::cargo::cargo_bin("reg")
            .to_str()
            .unwrap()
            .to_string(),
    ];
    v.extend(args.iter().map(|a| a.to_string()));
    v
}

#[test]
fn a_bundle_packed_to_stdout_is_verified_and_added_from_stdin() {
    let s = Sandbox::new();
    s.init_with_roles();
    let to_file = pack(&s, "m", "file.tar", "det", "1.0.0");
    s.ok(&strs(&to_file));
    let to_stdout = pack(&s, "m", "-", "det", "1.0.0");
    let out = s.reg().args(strs(&to_stdout)).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The same bytes as the file (the clock is fixed), no file named `-`, messages on stderr.
    assert_eq!(out.stdout, std::fs::read(s.join("file.tar")).unwrap());
    assert!(!s.join("-").exists(), "`-o -` created a file named `-`");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("packed det@1.0.0 (1 artifact(s)) into standard output"),
        "{stderr}"
    );
    let bundle = out.stdout;

    let v = piped(
        &s,
        &[
            "bundle",
            "verify",
            "-",
            "--publisher",
            "pub.pem.pub",
            "--json",
        ],
        &bundle,
    );
    assert!(v.status.success(), "{}", text(&v.stderr));
    let verified = json(&text(&v.stdout));
    validate("bundle-verify.schema.json", &verified);
    assert_eq!(verified["model"], "det@1.0.0");
    assert_eq!(verified["artifacts"][0]["path"], "rules.yar");

    let before = s.ledger_ids();
    let a = piped(&s, &["add", "-", "--key", "op.pem", "--json"], &bundle);
    assert!(a.status.success(), "{}", text(&a.stderr));
    let added = json(&text(&a.stdout));
    validate("add.schema.json", &added);
    let after = s.ledger_ids();
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(added["result"], "added");
    assert_eq!(added["entry"], *after.last().unwrap());
    assert_eq!(added["seq"], before.len() as u64);
    assert_eq!(added["model"], "det@1.0.0");
    assert_eq!(added["record"], verified["record"]);
    assert_eq!(added["bundle"], verified["bundle"]);
    // Staged while read, committed after: nothing is left in the store's tmp/.
    let tmp = s.dot().join("tmp");
    assert!(
        !tmp.exists() || std::fs::read_dir(&tmp).unwrap().next().is_none(),
        "staging left in {tmp:?}"
    );
    assert!(s.ok(&["list"]).contains("det"));

    // The same bundle again, from stdin: verified in full, nothing written.
    let again = piped(&s, &["add", "-", "--key", "op.pem", "--json"], &bundle);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let again = json(&text(&again.stdout));
    validate("add.schema.json", &again);
    assert_eq!(again["result"], "already-registered");
    assert_eq!(again["entry"], Value::Null);
    assert_eq!(s.ledger_ids(), after);
}

#[test]
fn a_stream_that_is_not_a_bundle_is_refused_and_changes_nothing() {
    let s = Sandbox::new();
    s.init_with_roles();
    let snap = s.snapshot();
    let out = piped(&s, &["add", "-", "--key", "op.pem"], &[b'x'; 100_000]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("`standard input` is not a bundle"),
        "{}",
        text(&out.stderr)
    );
    // A tar cut short on its way in.
    let args = pack(&s, "m", "b.tar", "det", "1.0.0");
    s.ok(&strs(&args));
    let bytes = std::fs::read(s.join("b.tar")).unwrap();
    let out = piped(
        &s,
        &["add", "-", "--key", "op.pem"],
        &bytes[..bytes.len() / 2],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(s.snapshot(), snap);
    let out = piped(
        &s,
        &["bundle", "verify", "-", "--publisher", "pub.pem.pub"],
        &bytes[..bytes.len() / 2],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn drift_record_reads_the_observation_from_stdin_within_the_file_limit() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    s.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule a { condition: true }".into())],
    );
    s.example_observation("obs.json");
    let obs = std::fs::read(s.join("obs.json")).unwrap();
    let out = piped(
        &s,
        &["drift", "record", "det@1.0.0", "-", "--key", "rep.pem"],
        &obs,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("recorded drift observation 1 of det@1.0.0"));
    let out = piped(
        &s,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "-",
            "--key",
            "rep.pem",
            "--json",
        ],
        &obs,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = json(&text(&out.stdout));
    validate("write-result.schema.json", &v);
    assert_eq!(
        (&v["action"], &v["count"]),
        (&"drift-record".into(), &2.into())
    );
    assert_eq!(v["entry"], *s.ledger_ids().last().unwrap());
    // To the outbox: no entry written, the report named.
    let ids = s.ledger_ids();
    let out = piped(
        &s,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "-",
            "--key",
            "rep.pem",
            "--outbox",
            "--json",
        ],
        &obs,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = json(&text(&out.stdout));
    validate("write-result.schema.json", &v);
    assert_eq!((&v["written"], &v["entry"]), (&false.into(), &Value::Null));
    let report = v["report"].as_str().unwrap();
    assert!(s.dot().join("outbox").join(report).is_file(), "{v:#}");
    assert_eq!(s.ledger_ids(), ids);
    let listed = json(&s.ok(&["drift", "list", "det@1.0.0", "--json"]));
    let file: Value = serde_json::from_slice(&obs).unwrap();
    assert_eq!(listed[0]["observation"], file);
    assert_eq!(listed[1]["observation"], file);

    // Over the limit a file has (16 entry limits, 16 MiB): refused after limit + 1 bytes.
    let snap = s.snapshot();
    let big = vec![b' '; 16 * 1024 * 1024 + 1];
    let out = piped(
        &s,
        &["drift", "record", "det@1.0.0", "-", "--key", "rep.pem"],
        &big,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("`standard input`: larger than the 16777216-byte limit"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(s.snapshot(), snap);
}

#[test]
fn a_bundle_is_never_written_to_a_terminal() {
    let s = Sandbox::new();
    s.init_with_roles();
    let args = pack(&s, "m", "-", "det", "1.0.0");
    let (shown, code) = s.in_pty(&argv(&strs(&args)), &[]);
    assert_eq!(code, 2, "{shown}");
    assert!(
        shown.contains("error: refusing to write binary output to a terminal"),
        "{shown}"
    );
    assert!(shown.contains("hint: write to a file with `-o FILE`, or pipe it"));
    assert!(
        !shown.contains("ustar"),
        "bundle bytes reached the terminal: {shown}"
    );
    assert!(!s.join("-").exists());
    // --json and the bundle cannot share stdout.
    let mut both = args.clone();
    both.push("--json".into());
    let err = s.fails(2, &strs(&both));
    assert!(
        err.contains("--json and `-o -` both write to standard output"),
        "{err}"
    );
}

#[test]
fn dash_is_refused_where_standard_output_cannot_be_the_output() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule a { condition: true }".into())],
    );
    let snap = s.snapshot();
    for (args, what) in [
        (vec!["key", "gen", "-"], "a key file"),
        (vec!["key", "gen", "--age", "-"], "a key file"),
        (vec!["man", "-o", "-"], "a directory of man pages"),
        (
            vec!["checkout", "det@1.0.0", "-o", "-"],
            "a directory to check out into",
        ),
        (
            vec!["checkout", "det@1.0.0", "--bundle", "-"],
            "the bundle file of `--bundle`",
        ),
        (
            vec!["init", "-", "--root-key", "root.pem"],
            "a registry's directory",
        ),
    ] {
        let err = s.fails(2, &args);
        assert!(
            err.contains(&format!("error: `-` cannot be {what}")),
            "{args:?}: {err}"
        );
        assert!(err.contains("one really named `-` is `./-`"), "{err}");
        assert!(!s.join("-").exists(), "{args:?} created `-`");
    }
    assert_eq!(s.snapshot(), snap);
}

#[test]
fn every_write_says_what_it_did_as_json() {
    let s = Sandbox::new();
    s.init_with_roles();
    let check = |v: &Value, action: &str, s: &Sandbox| {
        validate("write-result.schema.json", v);
        assert_eq!(v["action"], action, "{v:#}");
        let ids = s.ledger_ids();
        assert_eq!(v["written"], true, "{v:#}");
        assert_eq!(v["entry"], *ids.last().unwrap(), "{v:#}");
        assert_eq!(v["seq"], (ids.len() - 1) as u64, "{v:#}");
    };
    let ts = s.key("ts.pem");
    let v = ok_json(
        &s,
        &[
            "key",
            "trust",
            "ts.pem.pub",
            "--role",
            "timestamp",
            "--key",
            "root.pem",
            "--reason",
            "clock",
        ],
    );
    check(&v, "key-trust", &s);
    assert_eq!(v["key"]["fingerprint"], ts);
    assert_eq!(v["key"]["role"], "timestamp");
    assert_eq!(v["key"]["new"], true);

    s.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule a { condition: true }".into())],
    );
    s.add_model(
        "det",
        "2.0.0",
        &[("r.yar", "rule b { condition: true }".into())],
    );
    let v = ok_json(
        &s,
        &["promote", "det@1.0.0", "--key", "op.pem", "--reason", "ok"],
    );
    check(&v, "promote", &s);
    assert_eq!(
        (&v["model"], &v["from"], &v["to"]),
        (
            &"det@1.0.0".into(),
            &"REGISTERED".into(),
            &"PROMOTED".into()
        )
    );
    let record = v["record"].clone();
    s.ok(&["promote", "det@2.0.0", "--key", "op.pem", "--reason", "ok"]);

    let v = ok_json(
        &s,
        &[
            "activate",
            "scan",
            "det@1.0.0",
            "--key",
            "op.pem",
            "--reason",
            "go",
        ],
    );
    check(&v, "activate", &s);
    assert_eq!(
        (&v["slot"], &v["model"], &v["record"], &v["previous"]),
        (&"scan".into(), &"det@1.0.0".into(), &record, &Value::Null)
    );

    let v = ok_json(
        &s,
        &[
            "deprecate",
            "det@1.0.0",
            "--key",
            "op.pem",
            "--reason",
            "old",
        ],
    );
    check(&v, "deprecate", &s);
    assert_eq!(v["still_active"], serde_json::json!(["scan"]));

    let v = ok_json(
        &s,
        &[
            "revoke",
            "det@1.0.0",
            "--replace",
            "det@2.0.0",
            "--deny-bytes",
            "--key",
            "op.pem",
            "--reason",
            "bad",
        ],
    );
    check(&v, "revoke", &s);
    assert_eq!(
        v["slots"],
        serde_json::json!([{"slot": "scan", "model": "det@2.0.0"}])
    );
    assert_eq!(v["denied"]["new"], 1);

    let v = ok_json(
        &s,
        &["purge", "det@1.0.0", "--key", "op.pem", "--reason", "gone"],
    );
    check(&v, "purge", &s);
    assert_eq!(v["objects"], 1);
    assert_eq!(v["denied"], Value::Null);

    let hash = json(&s.ok(&["deny", "list", "--json"]))[0]["hash"].clone();
    let v = ok_json(
        &s,
        &[
            "deny",
            "lift",
            hash.as_str().unwrap(),
            "--key",
            "root.pem",
            "--reason",
            "fine",
        ],
    );
    check(&v, "deny-lift", &s);
    assert_eq!(v["lifted"][0]["hash"], hash);
    assert_eq!(v["lifted"][0]["model"], "det@1.0.0");

    let v = ok_json(
        &s,
        &["deactivate", "scan", "--key", "op.pem", "--reason", "pause"],
    );
    check(&v, "deactivate", &s);
    assert_eq!(
        (&v["model"], &v["previous"]),
        (&Value::Null, &"det@2.0.0".into())
    );

    let v = ok_json(
        &s,
        &[
            "policy",
            "set",
            "--refuse-format",
            "pickle",
            "--key",
            "root.pem",
            "--reason",
            "no code",
        ],
    );
    check(&v, "policy-set", &s);
    assert_eq!(
        v["policy"]["before"]["refuse_formats"],
        serde_json::json!([])
    );
    assert_eq!(
        v["policy"]["after"]["refuse_formats"],
        serde_json::json!(["pickle"])
    );
    // Already as asked: nothing written, and the JSON says so.
    let ids = s.ledger_ids();
    let v = ok_json(
        &s,
        &[
            "policy",
            "set",
            "--refuse-format",
            "pickle",
            "--key",
            "root.pem",
            "--reason",
            "again",
        ],
    );
    validate("write-result.schema.json", &v);
    assert_eq!(
        (&v["written"], &v["entry"], &v["seq"]),
        (&false.into(), &Value::Null, &Value::Null)
    );
    assert_eq!(s.ledger_ids(), ids);

    let recipient = s.ok(&["key", "gen", "--age", "id.txt"]).trim().to_string();
    let v = ok_json(
        &s,
        &[
            "recipients",
            "set",
            &recipient,
            "--key",
            "root.pem",
            "--reason",
            "seal",
        ],
    );
    check(&v, "recipients-set", &s);
    assert_eq!(v["recipients"]["after"], serde_json::json!([recipient]));

    let v = ok_json(&s, &["renew", "--key", "ts.pem"]);
    check(&v, "renew", &s);
    assert_eq!(v["actor"], ts);
    assert_eq!(v["time"], "2026-01-01T00:00:00Z");

    s.trust("ts.pem.pub", "reporter", "also reports");
    let v = ok_json(
        &s,
        &[
            "key",
            "withdraw",
            &ts,
            "--role",
            "timestamp",
            "--key",
            "root.pem",
            "--reason",
            "done",
        ],
    );
    check(&v, "key-withdraw", &s);
    assert_eq!(v["key"]["role"], "timestamp");
    assert_eq!(v["key"]["roles"], serde_json::json!(["reporter"]));

    // A compromised publisher suspends what it published; an operator re-approves it.
    let publisher = json(&s.ok(&["key", "list", "--json"]))
        .as_array()
        .unwrap()
        .iter()
        .find(|k| {
            k["roles"]
                .as_array()
                .is_some_and(|r| r.contains(&"publisher".into()))
        })
        .map(|k| k["fingerprint"].as_str().unwrap().to_string())
        .expect("a publisher key");
    let v = ok_json(
        &s,
        &[
            "key",
            "revoke",
            &publisher,
            "--compromised",
            "--key",
            "root.pem",
            "--reason",
            "stolen",
        ],
    );
    check(&v, "key-revoke", &s);
    assert_eq!(v["key"]["kind"], "compromised");
    assert_eq!(v["suspended"][0]["model"], "det@2.0.0");
    let v = ok_json(
        &s,
        &[
            "reapprove",
            "det@2.0.0",
            "--key",
            "op.pem",
            "--reason",
            "checked",
        ],
    );
    check(&v, "reapprove", &s);
    assert_eq!(
        (&v["state"], &v["suspension"]["key"]),
        (&"PROMOTED".into(), &publisher.clone().into())
    );
}

#[test]
fn init_and_gc_say_what_they_did_as_json() {
    let s = Sandbox::new();
    let root = s.key("root.pem");
    let v = ok_json(&s, &["init", "--root-key", "root.pem"]);
    validate("write-result.schema.json", &v);
    let ids = s.ledger_ids();
    assert_eq!((&v["action"], &v["seq"]), (&"init".into(), &0.into()));
    assert_eq!(
        (&v["entry"], &v["registry"]),
        (&ids[0].clone().into(), &ids[0].clone().into())
    );
    assert_eq!(v["root"], root);
    assert!(s.trust_file().exists());

    // A staging leftover, as a crash leaves one.
    let tmp = s.dot().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("leftover"), b"x").unwrap();
    let v = ok_json(&s, &["gc"]);
    validate("gc.schema.json", &v);
    assert_eq!(v["staging"].as_array().unwrap().len(), 1, "{v:#}");
    assert!(!tmp.join("leftover").exists());
}

#[test]
fn ledger_verify_says_what_it_verified_as_json() {
    let s = Sandbox::new();
    s.init_with_roles();
    let v = ok_json(&s, &["ledger", "verify"]);
    validate("ledger-verify.schema.json", &v);
    let ids = s.ledger_ids();
    assert_eq!(v["entries"], ids.len() as u64);
    assert_eq!(v["head"], *ids.last().unwrap());
    assert_eq!(v["registry"], ids[0]);
    assert_eq!(v["interrupted_write"], false);
}

#[test]
fn verify_says_what_it_verified_as_json() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule a { condition: true }".into())],
    );
    let v = ok_json(&s, &["verify", "det@1.0.0"]);
    validate("model-verify.schema.json", &v);
    assert_eq!(
        (&v["model"], &v["bytes"]),
        (&"det@1.0.0".into(), &26.into())
    );
    assert_eq!(
        v["artifacts"],
        serde_json::json!([{"path": "r.yar", "size": 26}])
    );
}

#[test]
fn bundle_pack_says_what_it_packed_as_json() {
    let s = Sandbox::new();
    s.init_with_roles();
    let mut args = pack(&s, "m", "b.tar", "det", "1.0.0");
    args.push("--json".into());
    let v = json(&s.ok(&strs(&args)));
    validate("bundle-pack.schema.json", &v);
    assert_eq!(
        (&v["model"], &v["out"], &v["encrypted"]),
        (&"det@1.0.0".into(), &"b.tar".into(), &false.into())
    );
    let verified = json(&s.ok(&[
        "bundle",
        "verify",
        "b.tar",
        "--publisher",
        "pub.pem.pub",
        "--json",
    ]));
    assert_eq!(
        (&v["record"], &v["bundle"]),
        (&verified["record"], &verified["bundle"])
    );
}

#[test]
fn list_status_and_show_say_whether_the_registry_is_pinned_here() {
    let s = Sandbox::new();
    let (root, _, _) = s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule a { condition: true }".into())],
    );
    s.ok(&["promote", "det@1.0.0", "--key", "op.pem", "--reason", "ok"]);
    s.ok(&[
        "activate",
        "scan",
        "det@1.0.0",
        "--key",
        "op.pem",
        "--reason",
        "go",
    ]);
    let pinned = serde_json::json!({"pinned": true, "by": "trust-file"});
    let check = |s: &Sandbox, extra: &[&str], trust: &Value| {
        for (args, schema) in [
            (vec!["list", "--json"], "model-list.schema.json"),
            (vec!["status", "--json"], "status.schema.json"),
            (
                vec!["show", "det@1.0.0", "--json"],
                "model-record.schema.json",
            ),
        ] {
            let out = s.reg().args(extra).args(&args).output().unwrap();
            assert!(out.status.success(), "{}", text(&out.stderr));
            let v = json(&text(&out.stdout));
            validate(schema, &v);
            let got = if v.is_array() {
                &v[0]["trust"]
            } else {
                &v["trust"]
            };
            assert_eq!(got, trust, "{args:?} {extra:?}");
            // The note on stderr stays for people.
            assert_eq!(
                text(&out.stderr).contains("is not pinned on this host"),
                trust["pinned"] == false
            );
        }
    };
    check(&s, &[], &pinned);
    check(
        &s,
        &["--trust", &root],
        &serde_json::json!({"pinned": true, "by": "--trust"}),
    );
    // Another host's view: no pin in its trust file.
    let elsewhere = s.join("elsewhere");
    let run = |args: &[&str]| {
        let mut c = s.reg();
        c.env("REG_TRUST_FILE", elsewhere.join("trust.json"))
            .env("REG_STATE_DIR", elsewhere.join("state"))
            .args(args);
        c
    };
    for (args, schema) in [
        (vec!["list", "--json"], "model-list.schema.json"),
        (vec!["status", "--json"], "status.schema.json"),
        (
            vec!["show", "det@1.0.0", "--json"],
            "model-record.schema.json",
        ),
    ] {
        let out = run(&args).output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v = json(&text(&out.stdout));
        validate(schema, &v);
        let got = if v.is_array() {
            &v[0]["trust"]
        } else {
            &v["trust"]
        };
        assert_eq!(
            got,
            &serde_json::json!({"pinned": false, "by": null}),
            "{args:?}"
        );
        assert!(text(&out.stderr).contains("is not pinned on this host"));
    }
}

#[test]
fn bundle_pack_draws_progress_on_a_terminal_only() {
    let s = Sandbox::new();
    s.init_with_roles();
    let args = pack(&s, "m", "quiet.tar", "det", "1.0.0");
    let out = s.reg().args(strs(&args)).output().unwrap();
    assert!(out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("hashing") && !stderr.contains("packing") && !stderr.contains('\x1b'),
        "a bar was drawn on a stderr that is not a terminal: {stderr:?}"
    );
    // On a terminal: both passes over the files are shown.
    let args = pack(&s, "m", "shown.tar", "det", "1.0.0");
    let (shown, code) = s.in_pty(&argv(&strs(&args)), &[]);
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("hashing") && shown.contains("packing"),
        "{shown:?}"
    );
    // Never with --quiet.
    let mut quiet = pack(&s, "m", "q.tar", "det", "1.0.0");
    quiet.push("--quiet".into());
    let (shown, code) = s.in_pty(&argv(&strs(&quiet)), &[]);
    assert_eq!(code, 0, "{shown}");
    assert!(
        !shown.contains("hashing") && !shown.contains("packing"),
        "{shown:?}"
    );
}

#[test]
fn a_bundle_packed_into_a_pipe_closed_early_is_the_outputs_failure_not_the_files() {
    use std::io::Read as _;
    let s = Sandbox::new();
    s.key("pub.pem");
    std::fs::create_dir_all(s.join("big")).unwrap();
    // More than a pipe holds, so the writer meets the closed end while archiving the artifact.
    std::fs::write(s.join("big/w.bin"), vec![7u8; 4 << 20]).unwrap();
    let args = pack_args("big", "-", "pub.pem", "big", "1.0.0");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = crate::util::spawn(&s, &args, &[]);
    let mut head = vec![0u8; 100_000];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    // The reader has seen enough, as `| head -c` does: its end of the pipe closes here.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "an I/O failure: {err}");
    assert!(
        err.contains("write the bundle to `standard output`") && !err.contains("changed while"),
        "{err}"
    );
}
