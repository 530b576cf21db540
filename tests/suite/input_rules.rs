//! What reg accepts as input, at `bundle pack`, at `add` and in every entry it writes:
//! identifiers without control or bidirectional-formatting characters (the error names the field
//! and the code point), reasons without controls other than newline and tab, times in the
//! format's grammar (read and write), no duplicate JSON keys, and no error echoing a whole
//! oversized input. Every refused case leaves the registry byte-for-byte unchanged.

use crate::craft::{file, good_tar, load, manifest_for};
use crate::util::{Sandbox, observation};
use reg::crypto::envelope::{self, Kind};
use reg::util::encoding::to_canonical_vec;
use std::fs;

/// A registry with root, operator, publisher and reporter keys and `det@1.0.0`, promoted.
fn setup() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    s.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule r { condition: true }\n".into())],
    );
    s.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    s
}

/// The pack arguments for directory `dir` into `out`, with `extra` flags.
fn pack_args<'a>(dir: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "bundle",
        "pack",
        dir,
        "-o",
        out,
        "--key",
        "pub.pem",
        "--name",
        "m",
        "--version",
        "1.0.0",
        "--type",
        "ruleset",
        "--use",
        "detection",
        "--description",
        "d",
    ];
    a.extend_from_slice(extra);
    a
}

/// Runs a command expected to fail with `code`; checks stderr names `needles`, holds no raw
/// control or bidi character and no long echo, and that the registry is unchanged.
fn refused(s: &Sandbox, code: i32, args: &[&str], needles: &[&str]) -> String {
    // Every needle is checked below; the shared refusal checks the code and the registry.
    let err = s.refused(code, args, "");
    for n in needles {
        assert!(err.contains(n), "expected `{n}` in: {err}");
    }
    let raw = err
        .chars()
        .find(|&c| (c.is_control() && c != '\n') || reg::util::encoding::is_bidi_control(c));
    assert_eq!(
        raw, None,
        "a raw control or bidi character reached stderr: {err:?}"
    );
    assert!(
        err.len() < 2000,
        "the error echoes too much: {} bytes",
        err.len()
    );
    err
}

const FORBIDDEN: [(char, &str); 8] = [
    ('\u{202e}', "U+202E"),
    ('\u{202a}', "U+202A"),
    ('\u{2066}', "U+2066"),
    ('\u{200f}', "U+200F"),
    ('\u{061c}', "U+061C"),
    ('\u{85}', "U+0085"),
    ('\u{7f}', "U+007F"),
    ('\u{1b}', "U+001B"),
];

#[test]
fn pack_refuses_control_and_bidi_characters_in_artifact_paths() {
    let s = setup();
    for (c, code) in FORBIDDEN {
        let dir = format!("d{}", &code[2..]);
        fs::create_dir(s.join(&dir)).unwrap();
        // The classic: "invoice<RLO>fdp.exe" shows as "invoiceexe.pdf".
        fs::write(s.join(&format!("{dir}/invoice{c}fdp.exe")), b"MZ").unwrap();
        let out = format!("{dir}.tar");
        refused(
            &s,
            1,
            &pack_args(&dir, &out, &[]),
            &[code, "is not allowed"],
        );
        assert!(!s.join(&out).exists(), "{code}: a bundle was written");
    }
}

#[test]
fn pack_refuses_control_and_bidi_characters_in_names_and_provenance() {
    let s = setup();
    fs::create_dir(s.join("m")).unwrap();
    fs::write(s.join("m/r.yar"), "rule x { condition: true }\n").unwrap();
    let hash = format!("sha256:{}", "ab".repeat(32));
    for (c, code) in FORBIDDEN {
        let prov = format!("corpus{c}2026={hash}");
        // A flag's value: a usage error, named by the flag.
        refused(
            &s,
            2,
            &pack_args("m", "m.tar", &["--provenance", &prov]),
            &["--provenance", code],
        );
        let name = format!("evil{c}x");
        let mut args = pack_args("m", "m.tar", &[]);
        args[8] = &name;
        refused(&s, 2, &args, &["--name", code]);
        let label = format!("team{c}=dfir");
        refused(
            &s,
            2,
            &pack_args("m", "m.tar", &["--label", &label]),
            &["--label", code],
        );
        assert!(!s.join("m.tar").exists());
    }
    // Free text keeps them: output escapes them.
    let mut args = pack_args("m", "m.tar", &["--framework", "x\u{200f}"]);
    args[16] = "a \u{202e} b";
    s.ok(&args);
}

#[test]
fn add_refuses_a_crafted_bundle_with_a_bidi_path_or_provenance_name() {
    let s = setup();
    let key = load(&s, "pub.pem");
    let files = vec![file("weights\u{202e}nib.exe", b"\0\0\0\0")];
    let m = manifest_for(&files, "crafted", "1.0.0", &key);
    // Signed directly, as a hostile publisher would: `manifest::sign` refuses it.
    assert!(reg::format::manifest::sign(&m, &key).is_err());
    let signed =
        envelope::sign_bytes(Kind::Manifest, &to_canonical_vec(&m).unwrap(), &key).unwrap();
    fs::write(s.join("bidi.tar"), good_tar(&signed, &files)).unwrap();
    refused(
        &s,
        1,
        &["add", "bidi.tar", "--key", "op.pem"],
        &["U+202E", "artifacts[0].path"],
    );

    let files = vec![file("w.bin", b"\0\0\0\0")];
    let mut m = manifest_for(&files, "crafted", "1.0.1", &key);
    m.provenance.push(reg::format::manifest::Provenance {
        hash: format!("sha256:{}", "cd".repeat(32)),
        name: "data\u{2066}set".into(),
    });
    let signed =
        envelope::sign_bytes(Kind::Manifest, &to_canonical_vec(&m).unwrap(), &key).unwrap();
    fs::write(s.join("prov.tar"), good_tar(&signed, &files)).unwrap();
    refused(
        &s,
        1,
        &["add", "prov.tar", "--key", "op.pem"],
        &["U+2066", "provenance[0].name"],
    );
    s.ok(&["ledger", "verify"]);
}

#[test]
fn slot_names_with_control_or_bidi_characters_are_refused_naming_the_code_point() {
    let s = setup();
    for (c, code) in FORBIDDEN {
        let slot = format!("prod{c}");
        refused(
            &s,
            1,
            &[
                "activate",
                &slot,
                "det@1.0.0",
                "--reason",
                "r",
                "--key",
                "op.pem",
            ],
            &["slot name", code],
        );
    }
}

#[test]
fn reasons_refuse_controls_other_than_newline_and_tab() {
    let s = setup();
    for (reason, code) in [
        ("ok\r\u{1b}[1Aapproved by security", "U+000D"),
        ("a\u{8}b", "U+0008"),
        ("a\u{1b}]0;title\u{7}", "U+001B"),
        ("a\u{7f}", "U+007F"),
        ("a\u{9b}31m", "U+009B"),
    ] {
        refused(
            &s,
            1,
            &[
                "deprecate",
                "det@1.0.0",
                "--reason",
                reason,
                "--key",
                "op.pem",
            ],
            &["reason", code],
        );
        refused(
            &s,
            1,
            &[
                "activate",
                "prod",
                "det@1.0.0",
                "--reason",
                reason,
                "--key",
                "op.pem",
            ],
            &["reason", code],
        );
    }
    // Newlines and tabs stay; bidi characters in free text too (output escapes them).
    s.ok(&[
        "activate",
        "prod",
        "det@1.0.0",
        "--reason",
        "line one\nline\ttwo \u{202e}",
        "--key",
        "op.pem",
    ]);
    s.ok(&["ledger", "verify"]);
}

#[test]
fn impossible_times_and_backward_windows_are_refused_in_observations() {
    let s = setup();
    for (start, end, needle) in [
        (
            "2026-02-30T00:00:00Z",
            "2026-03-01T00:00:00Z",
            "window.start",
        ),
        ("2026-01-01T00:00:00Z", "2025-02-29T00:00:00Z", "window.end"),
        ("2026-01-01T00:00:00Z", "2026-04-31T12:00:00Z", "window.end"),
        (
            "2026-10-08T00:00:00Z",
            "2026-10-01T00:00:00Z",
            "ends before it starts",
        ),
    ] {
        fs::write(
            s.join("o.json"),
            observation([start, end], 10, "psi", 0.1).to_string(),
        )
        .unwrap();
        refused(
            &s,
            1,
            &["drift", "record", "det@1.0.0", "o.json", "--key", "rep.pem"],
            &[needle],
        );
    }
    fs::write(
        s.join("o.json"),
        observation(
            ["2028-02-29T00:00:00Z", "2028-02-29T00:00:00Z"],
            10,
            "psi",
            0.1,
        )
        .to_string(),
    )
    .unwrap();
    s.ok(&["drift", "record", "det@1.0.0", "o.json", "--key", "rep.pem"]);
}

#[test]
fn a_clock_beyond_9999_writes_nothing() {
    let s = setup();
    let before = s.snapshot();
    let out = s
        .reg()
        .args(["deprecate", "det@1.0.0", "--reason", "r", "--key", "op.pem"])
        .env("SOURCE_DATE_EPOCH", "253402300800")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a time after 9999 was written");
    assert!(err.contains("SOURCE_DATE_EPOCH"), "{err}");
    assert_eq!(before, s.snapshot());
    // The last second of 9999 is still a time of the format.
    s.reg()
        .args(["deprecate", "det@1.0.0", "--reason", "r", "--key", "op.pem"])
        .env("SOURCE_DATE_EPOCH", "253402300799")
        .assert()
        .success();
    s.reg()
        .args(["ledger", "verify"])
        .env("SOURCE_DATE_EPOCH", "253402300799")
        .assert()
        .success();
    // A host whose clock reads 2026 refuses a head entry dated 9999 (FORMAT.md §5.1 rule 5):
    // every later entry would have to be dated 9999 too.
    let err = s.fails(1, &["ledger", "verify"]);
    assert!(
        err.contains("has its last ledger entry dated 9999-12-31T23:59:59Z, more than a day after this host's clock")
            && err.contains("refusing a history dated in the future"),
        "{err}"
    );
    // Its cure is not a renewal (which would go back in time) but waiting, or a successor.
    assert!(
        err.contains("hint: check this host's clock") && err.contains("successor registry"),
        "{err}"
    );
}

/// Appends an entry built from `payload` (a canonical JSON object, its header filled in here)
/// as the next ledger entry, signed by `key_file`, with a checkpoint it signs.
fn append_raw(s: &Sandbox, kind: Kind, key_file: &str, mut payload: serde_json::Value) {
    let dot = s.dot();
    let store = reg::repo::store::Store::new(&dot);
    let (ids, _) = reg::repo::ledger::read_ids(&dot.join("ledger")).unwrap();
    let key = load(s, key_file);
    let obj = payload.as_object_mut().unwrap();
    obj.insert(
        "actor".into(),
        key.public().fingerprint().to_string().into(),
    );
    obj.insert("prev".into(), ids.last().unwrap().to_string().into());
    obj.insert("registry".into(), ids[0].to_string().into());
    obj.insert("seq".into(), ids.len().into());
    obj.entry("time").or_insert("2026-01-02T00:00:00Z".into());
    let bytes = envelope::sign_bytes(kind, &to_canonical_vec(&payload).unwrap(), &key).unwrap();
    let id = store.put_bytes(&bytes).unwrap();
    let mut ledger = fs::read(dot.join("ledger")).unwrap();
    ledger.extend_from_slice(format!("{id}\n").as_bytes());
    fs::write(dot.join("ledger"), ledger).unwrap();
    let (_, old) = reg::repo::ledger::read_checkpoint(&dot.join("checkpoint")).unwrap();
    let cp = reg::repo::ledger::Checkpoint {
        head: id,
        registry: ids[0],
        seq: ids.len() as u64,
        state: old.state,
        time: "2026-01-02T00:00:00Z".into(),
    };
    fs::write(
        dot.join("checkpoint"),
        envelope::sign(Kind::Checkpoint, &cp, &key).unwrap(),
    )
    .unwrap();
}

#[test]
fn readers_refuse_signed_entries_with_times_outside_the_grammar() {
    for time in [
        "2026-02-30T00:00:00Z",
        "+202-01-01T00:00:00Z",
        "2026-01-01T24:00:00Z",
    ] {
        let s = setup();
        append_raw(
            &s,
            Kind::Slot,
            "op.pem",
            serde_json::json!({"reason": "r", "slot": "prod", "time": time}),
        );
        let err = s.fails(1, &["ledger", "verify"]);
        assert!(
            err.contains(time) && err.contains("is not a time of the format"),
            "{time}: {err}"
        );
    }
    let s = setup();
    let state: serde_json::Value = serde_json::to_value(crate::util::read_index(&s.dot())).unwrap();
    let record = state["models"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    append_raw(
        &s,
        Kind::Drift,
        "rep.pem",
        serde_json::json!({
            "model": record,
            "observation": observation(["2026-10-08T00:00:00Z", "2026-10-01T00:00:00Z"], 10, "psi", 0.1),
        }),
    );
    let err = s.fails(1, &["ledger", "verify"]);
    assert!(err.contains("the window ends before it starts"), "{err}");

    // The checkpoint, re-signed by the head entry's signer with an impossible time.
    let s = setup();
    let (_, mut cp) = reg::repo::ledger::read_checkpoint(&s.dot().join("checkpoint")).unwrap();
    cp.time = "2026-02-30T00:00:00Z".into();
    let signed = envelope::sign(Kind::Checkpoint, &cp, &load(&s, "op.pem")).unwrap();
    fs::write(s.dot().join("checkpoint"), signed).unwrap();
    let err = s.fails(1, &["ledger", "verify"]);
    assert!(
        err.contains("2026-02-30T00:00:00Z") && err.contains("not a time of the format"),
        "{err}"
    );
}

#[test]
fn duplicate_keys_are_refused_in_observations_and_metadata() {
    let s = setup();
    let text = r#"{"window":{"start":"2026-10-01T00:00:00Z","end":"2026-10-02T00:00:00Z"},"baseline":"blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262","samples":10,"samples":99999,"metrics":[{"name":"psi","kind":"psi","value":0.1}]}"#;
    fs::write(s.join("dup.json"), text).unwrap();
    refused(
        &s,
        2,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "dup.json",
            "--key",
            "rep.pem",
        ],
        &["duplicate key `samples`"],
    );
    let nested = r#"{"window":{"start":"2026-10-01T00:00:00Z","end":"2026-10-02T00:00:00Z"},"baseline":"blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262","samples":10,"metrics":[{"name":"psi","kind":"psi","value":0.1,"value":0.9}]}"#;
    fs::write(s.join("dup.json"), nested).unwrap();
    refused(
        &s,
        2,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "dup.json",
            "--key",
            "rep.pem",
        ],
        &["duplicate key `value`"],
    );
    fs::create_dir(s.join("m")).unwrap();
    fs::write(s.join("m/r.yar"), "rule x { condition: true }\n").unwrap();
    fs::write(
        s.join("meta.json"),
        r#"{"name":"m","version":"1.0.0","type":"ruleset","uses":["detection"],"description":"d","labels":{"owner":"alice","owner":"mallory"}}"#,
    )
    .unwrap();
    refused(
        &s,
        2,
        &[
            "bundle",
            "pack",
            "m",
            "-o",
            "m.tar",
            "--key",
            "pub.pem",
            "--metadata",
            "meta.json",
        ],
        &["duplicate key `owner`"],
    );
    assert!(!s.join("m.tar").exists());
}

#[test]
fn errors_never_echo_a_whole_oversized_input() {
    let s = setup();
    let huge = "x".repeat(100_000);
    refused(
        &s,
        1,
        &[
            "activate",
            &huge,
            "det@1.0.0",
            "--reason",
            "r",
            "--key",
            "op.pem",
        ],
        &["invalid slot name", "(100000 bytes)"],
    );
    fs::create_dir(s.join("m")).unwrap();
    fs::write(s.join("m/r.yar"), "rule x { condition: true }\n").unwrap();
    let version = format!("1.0.0-{huge}");
    let mut args = pack_args("m", "m.tar", &[]);
    args[10] = &version;
    refused(&s, 2, &args, &["--version"]);
    let mut obs = observation(
        ["2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"],
        10,
        "psi",
        0.1,
    );
    obs["notes"] = huge.clone().into();
    fs::write(s.join("o.json"), obs.to_string()).unwrap();
    refused(
        &s,
        1,
        &["drift", "record", "det@1.0.0", "o.json", "--key", "rep.pem"],
        &["notes"],
    );
}
