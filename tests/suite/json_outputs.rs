//! `--json` of the commands that change or check something:
//! `key gen` (and `--age`), `trust add`, `trust remove`, `repair` (and `--dry-run`), `checkout`
//! (`-o DIR`, `--bundle FILE`), `drift export OUT` and `drift import`. Each prints one object,
//! validated here against its schema under `schema/`, built from what the command did; standard
//! output carries only the object; a refusal prints none.

use crate::gate_pin::second_host;
use crate::ingest::validate;
use crate::util::{Sandbox, cp_a};
use serde_json::Value;
use std::fs;

/// Runs `cmd`, returns (exit code, stdout, stderr).
fn run(mut cmd: assert_cmd::Command, args: &[&str]) -> (i32, String, String) {
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Parses stdout as exactly one JSON value and validates it against `schema`.
fn json(schema: &str, stdout: &str) -> Value {
    let v: Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON value ({e}): {stdout}"));
    validate(schema, &v);
    v
}

#[test]
fn key_gen_json_names_the_fingerprint_and_the_files_never_the_secret() {
    let s = Sandbox::new();
    let v = json(
        "key-gen.schema.json",
        &s.ok(&["key", "gen", "k.pem", "--json"]),
    );
    let fp = s.ok(&["key", "fingerprint", "k.pem.pub"]);
    assert_eq!(v["kind"], "ed25519");
    assert_eq!(v["fingerprint"], fp.trim());
    assert_eq!(v["private"], "k.pem");
    assert_eq!(v["public"], "k.pem.pub");
    assert_eq!(v["encrypted"], false);
    let text = v.to_string();
    let secret = fs::read_to_string(s.join("k.pem")).unwrap();
    for line in secret.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!text.contains(line), "the private key leaked: {text}");
    }

    // --passphrase: the same shape, encrypted.
    let out = s
        .reg()
        .env("REG_KEY_PASSPHRASE", "correct horse")
        .args(["key", "gen", "e.pem", "--passphrase", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = json(
        "key-gen.schema.json",
        &String::from_utf8(out.stdout).unwrap(),
    );
    assert_eq!(v["encrypted"], true);
    assert!(!v.to_string().contains("correct horse"));

    // --age: the recipient the file names, the file, never the identity's secret.
    let v = json(
        "key-gen.schema.json",
        &s.ok(&["key", "gen", "--age", "site.age", "--json"]),
    );
    let file = fs::read_to_string(s.join("site.age")).unwrap();
    assert_eq!(v["kind"], "age");
    assert_eq!(v["identity"], "site.age");
    assert!(
        file.contains(&format!(
            "# public key: {}",
            v["recipient"].as_str().unwrap()
        )),
        "{file}"
    );
    assert!(file.contains("AGE-SECRET-KEY-"));
    assert!(
        !v.to_string().to_uppercase().contains("AGE-SECRET-KEY"),
        "{v}"
    );

    // Without --json, the one line as before.
    let out = s.ok(&["key", "gen", "plain.pem"]);
    assert_eq!(
        out.trim(),
        s.ok(&["key", "fingerprint", "plain.pem.pub"]).trim()
    );
}

#[test]
fn trust_add_and_remove_json_say_what_the_host_trust_file_holds_now() {
    let s = Sandbox::new();
    let (root, _, _) = s.init_with_roles();
    let id = s.ledger_ids()[0].clone();
    let entries = s.ledger_ids().len();
    let code = s.ok(&["status", "--code"]).trim().to_string();

    let (rc, out, err) = run(
        second_host(&s),
        &["trust", "add", &root, "--head", &code, "--json"],
    );
    assert_eq!(rc, 0, "{err}");
    let v = json("trust-change.schema.json", &out);
    assert_eq!(v["action"], "trust-add");
    assert_eq!(v["pinned"], true);
    assert_eq!(v["already"], false);
    assert_eq!(v["registry"], id.as_str());
    assert_eq!(v["root"], root.as_str());
    assert_eq!(
        v["path"],
        fs::canonicalize(s.dot()).unwrap().to_str().unwrap()
    );
    assert_eq!(
        v["trust_file"],
        s.join("host2/trust.json").to_str().unwrap()
    );
    assert_eq!(v["entries"], entries);
    assert_eq!(v["floor"]["seq"], entries - 1);
    assert_eq!(v["floor"]["head"], s.ledger_ids()[entries - 1].as_str());
    assert_eq!(v["genesis_revoked"], Value::Null);
    // What pinning means still reaches the operator, on standard error.
    assert!(err.contains("out of band") && err.contains(&root), "{err}");
    // The object is what the trust file now holds.
    let (_, list, _) = run(second_host(&s), &["trust", "list", "--json"]);
    let pins: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(pins[0]["floor"], v["floor"]);

    // Already pinned: nothing done, said so.
    let trust = fs::read(s.join("host2/trust.json")).unwrap();
    let (rc, out, _) = run(second_host(&s), &["trust", "add", &root, "--json"]);
    assert_eq!(rc, 0);
    let v = json("trust-change.schema.json", &out);
    assert_eq!(
        (&v["pinned"], &v["already"]),
        (&Value::Bool(false), &Value::Bool(true))
    );
    assert_eq!(v["entries"], Value::Null);
    assert_eq!(trust, fs::read(s.join("host2/trust.json")).unwrap());

    // Remove: the pins removed; then none is left, and removing again is refused without JSON.
    let (rc, out, err) = run(second_host(&s), &["trust", "remove", &root, "--json"]);
    assert_eq!(rc, 0, "{err}");
    let v = json("trust-change.schema.json", &out);
    assert_eq!(v["action"], "trust-remove");
    let removed = v["removed"].as_array().unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0], pins[0]);
    let (_, list, _) = run(second_host(&s), &["trust", "list", "--json"]);
    assert_eq!(list.trim(), "[]");
    let (rc, out, _) = run(second_host(&s), &["trust", "remove", &root, "--json"]);
    assert_eq!((rc, out.as_str()), (1, ""));
}

/// Site A with one model of two artifacts, and B, a copy of A's registry pinned on B's host.
fn two_copies() -> (Sandbox, Sandbox) {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.add_model(
        "det",
        "1.0.0",
        &[
            ("a.bin", "first artifact\n".into()),
            ("b.bin", "second artifact\n".into()),
        ],
    );
    let b = Sandbox::new();
    cp_a(&a.dot(), b.path());
    b.ok(&["trust", "add", &root]);
    (a, b)
}

fn artifact_id(text: &str) -> String {
    reg::format::id::ObjectId::of(text.as_bytes()).to_string()
}

#[test]
fn repair_json_lists_what_was_restored_and_what_was_not() {
    let (a, b) = two_copies();
    let lost = artifact_id("second artifact\n");
    fs::remove_file(b.object_path(&lost)).unwrap();
    let from = a.path().to_str().unwrap();

    // --dry-run: what would be restored, nothing changed.
    let before = b.snapshot();
    let v = json(
        "repair.schema.json",
        &b.ok(&["repair", "--from", from, "--dry-run", "--json"]),
    );
    assert_eq!(b.snapshot(), before);
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["source"], "registry");
    assert_eq!(v["pinned"], true);
    assert_eq!(v["complete"], true);
    assert_eq!(
        v["restored"],
        serde_json::json!([{"kind": "artifact", "id": lost, "damage": "missing"}])
    );
    assert_eq!(v["unrepaired"], serde_json::json!([]));

    let v = json(
        "repair.schema.json",
        &b.ok(&["repair", "--from", from, "--json"]),
    );
    assert_eq!(v["dry_run"], false);
    assert_eq!(v["restored"][0]["id"], lost.as_str());
    assert!(b.object_path(&lost).is_file());
    let checked = v["checked"].as_u64().unwrap();
    assert!(checked > 2, "{v}");

    // Intact: nothing restored.
    let v = json(
        "repair.schema.json",
        &b.ok(&["repair", "--from", from, "--json"]),
    );
    assert_eq!(v["restored"], serde_json::json!([]));
    assert_eq!(v["checked"], checked);

    // Lost on both sides: named with the reason, exit 1 as without --json.
    let other = artifact_id("first artifact\n");
    fs::remove_file(a.object_path(&other)).unwrap();
    fs::remove_file(b.object_path(&other)).unwrap();
    let (rc, out, err) = run(b.reg(), &["repair", "--from", from, "--json"]);
    assert_eq!(rc, 1, "{err}");
    let v = json("repair.schema.json", &out);
    assert_eq!(v["complete"], false);
    assert_eq!(v["restored"], serde_json::json!([]));
    assert_eq!(v["unrepaired"][0]["id"], other.as_str());
    assert_eq!(v["unrepaired"][0]["damage"], "missing");
    assert!(!v["unrepaired"][0]["reason"].as_str().unwrap().is_empty());
    assert!(err.contains("error:"), "{err}");
}

#[test]
fn checkout_json_names_the_directory_or_the_bundle_written() {
    let (a, _) = two_copies();
    let record = {
        let v: Value = serde_json::from_str(&a.ok(&["show", "det@1.0.0", "--json"])).unwrap();
        v["id"].as_str().unwrap().to_string()
    };
    let v = json(
        "checkout.schema.json",
        &a.ok(&["checkout", "det@1.0.0", "-o", "out", "--json"]),
    );
    assert_eq!(v["model"], "det@1.0.0");
    assert_eq!(v["record"], record.as_str());
    assert_eq!(v["dir"], "out");
    assert_eq!(v["bundle"], Value::Null);
    assert_eq!(v["artifacts"], 2);
    assert_eq!(
        v["bytes"],
        "first artifact\n".len() + "second artifact\n".len()
    );
    assert_eq!(
        fs::read_to_string(a.join("out/b.bin")).unwrap(),
        "second artifact\n"
    );

    let v = json(
        "checkout.schema.json",
        &a.ok(&["checkout", "det@latest", "--bundle", "det.tar", "--json"]),
    );
    assert_eq!(v["dir"], Value::Null);
    assert_eq!(v["bundle"], "det.tar");
    assert_eq!(v["record"], record.as_str());
    assert_eq!(v["artifacts"], 2);
    assert!(a.join("det.tar").is_file());

    // A refusal prints no JSON; without --json the line as before.
    let (rc, out, err) = run(a.reg(), &["checkout", "det@1.0.0", "-o", "out", "--json"]);
    assert!(
        rc != 0 && out.is_empty() && err.contains("exists"),
        "{rc} {out} {err}"
    );
    let out = a.ok(&["checkout", "det@1.0.0", "-o", "out2"]);
    assert!(out.starts_with("checked out det@1.0.0 ("), "{out}");
}

/// Home A (a reporter `rep.pem` trusted, det@1.0.0 and det@2.0.0) and B, a copy pinned on B's
/// host with the reporter key and an observation `o.json`.
fn home_and_replica() -> (Sandbox, Sandbox) {
    let a = Sandbox::new();
    let (root, _, _) = a.init_with_roles();
    a.key("rep.pem");
    a.trust("rep.pem.pub", "reporter", "monitoring at site B");
    a.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule a { condition: true }\n".into())],
    );
    a.add_model(
        "det",
        "2.0.0",
        &[("r.yar", "rule b { condition: true }\n".into())],
    );
    let b = Sandbox::new();
    cp_a(&a.dot(), b.path());
    b.ok(&["trust", "add", &root]);
    fs::copy(a.join("rep.pem"), b.join("rep.pem")).unwrap();
    b.example_observation("o.json");
    (a, b)
}

#[test]
fn drift_export_and_import_json_name_each_report_and_entry() {
    let (a, b) = home_and_replica();
    // An empty outbox: nothing written, said so, exit 0.
    let v = json(
        "drift-export.schema.json",
        &b.ok(&["drift", "export", "none.regd", "--json"]),
    );
    assert_eq!(
        (&v["written"], &v["out"]),
        (&Value::Bool(false), &Value::Null)
    );
    assert!(!b.join("none.regd").exists());

    let mut reports = Vec::new();
    for model in ["det@1.0.0", "det@2.0.0"] {
        let v = json(
            "write-result.schema.json",
            &b.ok(&[
                "drift", "record", model, "o.json", "--key", "rep.pem", "--outbox", "--json",
            ]),
        );
        reports.push(v["report"].as_str().unwrap().to_string());
    }
    // `-`: standard output carries the file, so --json is refused, and nothing is written.
    let (rc, out, err) = run(b.reg(), &["drift", "export", "-", "--json"]);
    assert_eq!((rc, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("--json"), "{err}");
    // Without OUT (the deprecated listing), --json is a usage error too.
    let (rc, _, _) = run(b.reg(), &["drift", "export", "--json"]);
    assert_eq!(rc, 2);

    let v = json(
        "drift-export.schema.json",
        &b.ok(&["drift", "export", "drift.regd", "--json"]),
    );
    assert_eq!(v["written"], true);
    assert_eq!(v["out"], "drift.regd");
    assert_eq!(v["held"], 2);
    assert_eq!(
        v["bytes"],
        fs::metadata(b.join("drift.regd")).unwrap().len()
    );
    let mut exported: Vec<(String, String)> = v["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["report"].as_str().unwrap().to_string(),
                r["model"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    exported.sort();
    let mut expected = vec![
        (reports[0].clone(), "det@1.0.0".to_string()),
        (reports[1].clone(), "det@2.0.0".to_string()),
    ];
    expected.sort();
    assert_eq!(exported, expected);

    // At home: one drift-import entry per report, the last named as the entry written.
    fs::copy(b.join("drift.regd"), a.join("drift.regd")).unwrap();
    let rep = a
        .ok(&["key", "fingerprint", "rep.pem.pub"])
        .trim()
        .to_string();
    let before = a.ledger_ids().len();
    let v = json(
        "write-result.schema.json",
        &a.ok(&["drift", "import", "drift.regd", "--key", "op.pem", "--json"]),
    );
    let ids = a.ledger_ids();
    assert_eq!(ids.len(), before + 2);
    assert_eq!(v["action"], "drift-import");
    assert_eq!(v["written"], true);
    assert_eq!(v["entry"], ids[before + 1].as_str());
    assert_eq!(v["seq"], before + 1);
    let recorded = v["recorded"].as_array().unwrap();
    assert_eq!(recorded.len(), 2);
    for (i, r) in recorded.iter().enumerate() {
        assert_eq!(r["entry"], ids[before + i].as_str());
        assert_eq!(r["seq"], before + i);
        assert_eq!(r["reporter"], rep.as_str());
        let spec = r["model"].as_str().unwrap();
        let shown: Value = serde_json::from_str(&a.ok(&["show", spec, "--json"])).unwrap();
        assert_eq!(r["record"], shown["id"]);
        assert!(exported.contains(&(r["report"].as_str().unwrap().to_string(), spec.to_string())));
    }

    // Imported again: nothing to do, said as JSON (nothing written, every report already
    // recorded), home unchanged.
    let snap = a.snapshot();
    let (rc, out, _) = run(
        a.reg(),
        &["drift", "import", "drift.regd", "--key", "op.pem", "--json"],
    );
    assert_eq!(rc, 0, "{out}");
    let again: Value = serde_json::from_str(&out).unwrap();
    crate::ingest::validate("write-result.schema.json", &again);
    assert_eq!(again["written"], false);
    assert_eq!(again["recorded"], serde_json::json!([]));
    let already: Vec<String> = again["already"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    assert_eq!(already.len(), exported.len());
    assert!(already.iter().all(|r| exported.iter().any(|(e, _)| e == r)));
    assert_eq!(snap, a.snapshot());
}

#[test]
fn trust_add_json_says_the_genesis_root_was_revoked_and_by_which_roots_it_is_governed() {
    let s = Sandbox::new();
    let root = s.init();
    let root2 = s.key("root2.pem");
    s.trust("root2.pem.pub", "root", "root rotation");
    s.ok(&[
        "key",
        "revoke",
        &root,
        "--key",
        "root2.pem",
        "--reason",
        "rotated out",
    ]);
    let (rc, out, err) = run(second_host(&s), &["trust", "add", &root, "--json"]);
    assert_eq!(rc, 0, "{err}");
    let v = json("trust-change.schema.json", &out);
    assert_eq!(v["pinned"], true);
    assert_eq!(
        v["genesis_revoked"],
        serde_json::json!({"at": 2, "roots": [root2]})
    );
    // The warning for people stays on standard error.
    assert!(
        err.contains("warning: this registry's genesis root key"),
        "{err}"
    );
}
