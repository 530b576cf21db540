//! The policy binds wherever it speaks (FORMAT.md §5.5), tried on registries the CLI builds: a
//! model out of policy is not promoted, activated or allowed; a pickle model promoted before the
//! policy refused pickle is no longer promotable, activatable or allowed; a plaintext bundle,
//! or one sealed to a recipient since removed, is refused where the policy means encrypted
//! bundles only; a pickle in disguise is a pickle; the gate judges only approved models that
//! are not suspended, and ranks a file by its best standing. The helpers here serve
//! `deny_list` too (the deny list and the policy meet in the gate).

use crate::util::{Sandbox, pack_args};
use reg::format::entry::PolicyDoc;
use reg::format::id::ObjectId;
use reg::repo::registry::Registry;
use serde_json::Value;
use std::fs;

/// The rule files of a model revoked as malicious.
pub(crate) fn evil_files() -> Vec<(&'static str, String)> {
    vec![
        ("evil.yar", "rule evil { condition: true }\n".into()),
        ("helper.yar", "rule helper { condition: false }\n".into()),
    ]
}

/// Packs `dir` (written by `add_model` or by hand) as `name@version`, signed by `pub.pem`, into
/// `out`, with `extra` arguments (`--recipient`); returns `out`.
pub(crate) fn pack(
    s: &Sandbox,
    dir: &str,
    (name, version): (&str, &str),
    out: &str,
    extra: &[&str],
) -> String {
    let out = out.to_string();
    let mut args = pack_args(dir, &out, "pub.pem", name, version);
    args.extend(extra.iter().map(|a| a.to_string()));
    s.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    out
}

/// The gate's decision on `file` (`reg check FILE --json` plus `extra`): whether it allowed it,
/// and its code. The exit code is asserted to agree (0 ALLOW, 1 DENY).
pub(crate) fn gate(s: &Sandbox, file: &str, extra: &[&str]) -> (bool, String) {
    let out = s
        .reg()
        .args([&["check", file, "--json"][..], extra].concat())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::ingest::validate("check.schema.json", &v);
    let allowed = v[0]["allowed"].as_bool().unwrap();
    assert_eq!(out.status.code(), Some(if allowed { 0 } else { 1 }), "{v}");
    (allowed, v[0]["code"].as_str().unwrap().to_string())
}

/// `reg fsck --json`: whether it passed, and its findings as `(code, severity, message)`.
pub(crate) fn fsck(s: &Sandbox) -> (bool, Vec<(String, String, String)>) {
    let out = s.reg().args(["fsck", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::ingest::validate("fsck-report.schema.json", &v);
    let pass = v["result"] == "PASS";
    assert_eq!(out.status.code(), Some(if pass { 0 } else { 1 }), "{v}");
    let findings = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap().to_string();
            (text("code"), text("severity"), text("message"))
        })
        .collect();
    (pass, findings)
}

/// The findings of `code` in `findings`, as `(severity, message)`.
pub(crate) fn with_code(
    findings: &[(String, String, String)],
    code: &str,
) -> Vec<(String, String)> {
    findings
        .iter()
        .filter(|(c, _, _)| c == code)
        .map(|(_, sev, msg)| (sev.clone(), msg.clone()))
        .collect()
}

/// BLAKE3 of a file's bytes, as the gate and `reg deny list` name them.
pub(crate) fn hash_of(s: &Sandbox, path: &str) -> String {
    ObjectId::of(&fs::read(s.join(path)).unwrap()).to_string()
}

/// Opens the sandbox's registry as the CLI would, with its host trust file and state, and the
/// tests' clock (entry times only move forward).
fn open(s: &Sandbox) -> Registry {
    let mut opts = s.options();
    opts.clock = reg::util::encoding::Clock::from_epoch_text(crate::util::EPOCH);
    Registry::open(&s.dot(), &opts).unwrap()
}

/// Replaces the policy through the library, signed by `root.pem`: a root-signed `policy` entry
/// like any other.
pub(crate) fn set_policy(s: &Sandbox, policy: PolicyDoc) {
    let root = crate::craft::load(s, "root.pem");
    reg::ops::config::set_policy(&open(s), &root, policy, "site policy").unwrap();
}

#[test]
fn a_model_out_of_policy_is_not_promoted_activated_or_allowed() {
    let s = Sandbox::new();
    s.init_with_roles();
    let pickle = |name: &str| vec![("legacy.pkl", format!("\u{80}\u{4} pickled {name}"))];
    let legacy = s.add_model("legacy", "0.1.0", &pickle("legacy"));
    s.add_model("old", "0.1.0", &pickle("old"));
    let kept = s.add_model("kept", "0.1.0", &pickle("kept"));
    s.add_model("rules", "1.0.0", &evil_files());
    for m in ["legacy@0.1.0", "kept@0.1.0", "rules@1.0.0"] {
        s.ok(&["promote", m, "--reason", "ok", "--key", "op.pem"]);
    }
    s.ok(&[
        "deprecate",
        "kept@0.1.0",
        "--reason",
        "phase out",
        "--key",
        "op.pem",
    ]);
    s.ok(&[
        "activate",
        "prod",
        "legacy@0.1.0",
        "--reason",
        "go",
        "--key",
        "op.pem",
    ]);
    assert_eq!(
        gate(&s, &format!("{legacy}/legacy.pkl"), &[]),
        (true, "promoted".into())
    );

    s.ok(&[
        "policy",
        "set",
        "--refuse-format",
        "pickle",
        "--reason",
        "no code-executing formats",
        "--key",
        "root.pem",
    ]);
    // The gate denies what the ledger promoted before the policy, in the slot too.
    for extra in [&[][..], &["--slot", "prod"]] {
        assert_eq!(
            gate(&s, &format!("{legacy}/legacy.pkl"), extra),
            (false, "policy".into())
        );
    }
    assert_eq!(
        gate(&s, &format!("{kept}/legacy.pkl"), &[]),
        (false, "policy".into())
    );
    // Writers refuse to put it in service, naming the artifact and its format.
    let err = s.refused(1, &["promote", "old@0.1.0", "--reason", "ok", "--key", "op.pem"],
        "old@0.1.0 is out of policy: the registry policy refuses the format of `legacy.pkl` (pickle)",
    );
    assert!(err.contains("hint: `reg policy show`"), "{err}");
    s.refused(
        1,
        &[
            "promote",
            "kept@0.1.0",
            "--reason",
            "reinstate",
            "--key",
            "op.pem",
        ],
        "kept@0.1.0 is out of policy",
    );
    // Who may sign is judged first: a key that may not promote is told so.
    s.refused(
        1,
        &["promote", "old@0.1.0", "--reason", "ok", "--key", "pub.pem"],
        "operator",
    );
    s.refused(
        1,
        &[
            "activate",
            "canary",
            "legacy@0.1.0",
            "--reason",
            "go",
            "--key",
            "op.pem",
        ],
        "legacy@0.1.0 is out of policy",
    );
    // fsck lists the approved models out of policy, and fails on the slot that runs one.
    let (pass, findings) = fsck(&s);
    assert!(!pass, "a slot runs a model the gate denies: {findings:?}");
    let mut out = with_code(&findings, "out-of-policy");
    out.sort();
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out.iter().all(|(sev, _)| sev == "warning"));
    assert!(
        out[0]
            .1
            .contains("kept@0.1.0 (DEPRECATED) is out of policy"),
        "{out:?}"
    );
    assert!(
        out[1]
            .1
            .contains("legacy@0.1.0 (PROMOTED) is out of policy"),
        "{out:?}"
    );
    let active = with_code(&findings, "policy-active");
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(active[0].0, "error");
    assert!(
        active[0].1.contains("slot `prod` runs legacy@0.1.0"),
        "{active:?}"
    );
    // What is in policy is untouched; a policy refusing nothing binds nothing.
    assert_eq!(
        gate(&s, "m-rules-1.0.0/evil.yar", &[]),
        (true, "promoted".into())
    );
    s.ok(&[
        "deactivate",
        "prod",
        "--reason",
        "out of policy",
        "--key",
        "op.pem",
    ]);
    let (pass, findings) = fsck(&s);
    assert!(pass, "{findings:?}");
    set_policy(&s, PolicyDoc::default());
    s.ok(&["promote", "old@0.1.0", "--reason", "ok", "--key", "op.pem"]);
    assert!(with_code(&fsck(&s).1, "out-of-policy").is_empty());
}

/// A copy of the frozen format-3 registry (tests/fixtures/format3), pinned on this host.
fn format3() -> Sandbox {
    crate::util::fixture("format3", &["root.pem", "op.pem", "pub.pem", "rep.pem"])
}

#[test]
fn the_format_3_pickle_model_promoted_before_its_policy_is_denied_by_the_gate() {
    let s = format3();
    // The fixture's `model.pkl`, as its README's build wrote it (checkout refuses it now: the
    // policy binds there too).
    fs::write(s.join("model.pkl"), b"\x80\x04\x95weights.").unwrap();
    s.refused(
        1,
        &["checkout", "legacy@0.1.0", "-o", "legacy"],
        "out of policy",
    );
    assert_eq!(gate(&s, "model.pkl", &[]), (false, "policy".into()));
    let (pass, findings) = fsck(&s);
    assert!(pass, "{findings:?}");
    let out = with_code(&findings, "out-of-policy");
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        out[0]
            .1
            .contains("legacy@0.1.0 (PROMOTED) is out of policy"),
        "{out:?}"
    );
    // Written before format 4, its add does not say whether the bundle came encrypted.
    let show: Value = serde_json::from_str(&s.ok(&["show", "legacy@0.1.0", "--json"])).unwrap();
    assert!(show["added"].get("encrypted").is_none(), "{show}");
}

/// A registry (root, operator, publisher) with two age identities, `a.age` and `b.age`;
/// its recipients are `a`'s, and its policy requires encrypted bundles. Returns the
/// sandbox and the two recipients.
fn sealed_site() -> (Sandbox, String, String) {
    let s = Sandbox::new();
    s.init_with_roles();
    let a = s.ok(&["key", "gen", "--age", "a.age"]).trim().to_string();
    let b = s.ok(&["key", "gen", "--age", "b.age"]).trim().to_string();
    s.ok(&[
        "recipients",
        "set",
        &a,
        "--reason",
        "site a",
        "--key",
        "root.pem",
    ]);
    fs::create_dir_all(s.join("model")).unwrap();
    for (path, body) in evil_files() {
        fs::write(s.join(&format!("model/{path}")), body).unwrap();
    }
    (s, a, b)
}

#[test]
fn a_plaintext_bundle_is_refused_when_the_policy_requires_encryption() {
    let (s, a, _) = sealed_site();
    // Without the policy, a plaintext bundle is admitted, and said to be one.
    let plain = pack(&s, "model", ("plain", "1.0.0"), "plain.tar", &[]);
    s.ok(&["add", &plain, "--key", "op.pem"]);
    assert!(
        s.ok(&["show", "plain@1.0.0"])
            .contains("(received not encrypted)"),
        "reg show says how the bundle came"
    );
    set_policy(
        &s,
        PolicyDoc {
            require_encrypted: true,
            ..PolicyDoc::default()
        },
    );
    fs::write(s.join("model/more.yar"), "rule more { condition: true }\n").unwrap();
    let tar = pack(&s, "model", ("m", "1.0.0"), "m.tar", &[]);
    let err = s.refused(
        1,
        &["add", &tar, "--key", "op.pem"],
        "the registry policy requires encrypted bundles, and this one is not encrypted",
    );
    assert!(err.contains("hint: nothing was added"), "{err}");
    assert!(err.contains("reg recipients list"), "{err}");
    // A directory bundle is plaintext too.
    fs::create_dir_all(s.join("unpacked")).unwrap();
    let out = std::process::Command::new("tar")
        .current_dir(s.path())
        .args(["-xf", &tar, "-C", "unpacked"])
        .status()
        .unwrap();
    assert!(out.success());
    s.refused(
        1,
        &["add", "unpacked", "--key", "op.pem"],
        "this one is not encrypted",
    );
    // So is a passphrase: the policy asks for the registry's recipients.
    let out = s
        .reg()
        .env("REG_BUNDLE_PASSPHRASE", "correct horse battery staple")
        .args(
            pack_args("model", "pass.age", "pub.pem", "m", "1.0.0")
                .iter()
                .map(String::as_str)
                .chain(["--passphrase"]),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = s.snapshot();
    let out = s
        .reg()
        .env("REG_BUNDLE_PASSPHRASE", "correct horse battery staple")
        .args(["add", "pass.age", "--key", "op.pem"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("this one is encrypted with a passphrase"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(s.snapshot() == before);
    // Encrypted to the registry's recipient: admitted, and shown as received encrypted.
    let sealed = pack(&s, "model", ("m", "1.0.0"), "m.age", &["--recipient", &a]);
    s.ok(&["add", &sealed, "--key", "op.pem", "--identity", "a.age"]);
    assert!(s.ok(&["show", "m@1.0.0"]).contains("(received encrypted)"));
    let show: Value = serde_json::from_str(&s.ok(&["show", "m@1.0.0", "--json"])).unwrap();
    crate::ingest::validate("model-record.schema.json", &show);
    assert_eq!(show["added"]["encrypted"], true);
    let show: Value = serde_json::from_str(&s.ok(&["show", "plain@1.0.0", "--json"])).unwrap();
    assert_eq!(show["added"]["encrypted"], false);
}

#[test]
fn a_bundle_sealed_only_to_a_removed_recipient_is_refused() {
    let (s, a, b) = sealed_site();
    set_policy(
        &s,
        PolicyDoc {
            require_encrypted: true,
            ..PolicyDoc::default()
        },
    );
    // Sealed to `b`, which the registry never listed, and to `a` once `a` is removed.
    let to_b = pack(
        &s,
        "model",
        ("m", "1.0.0"),
        "to-b.age",
        &["--recipient", &b],
    );
    let err = s.refused(
        1,
        &["add", &to_b, "--key", "op.pem", "--identity", "b.age"],
        "this one was opened by the identity of none of them (sealed to a recipient since removed",
    );
    assert!(
        err.contains("hint: nothing was added: `reg recipients list`"),
        "{err}"
    );
    // Sealed to both: the identity of the listed recipient admits it, whatever the order given.
    let both = pack(
        &s,
        "model",
        ("m", "1.0.0"),
        "both.age",
        &["--recipient", &b, "--recipient", &a],
    );
    let to_a = pack(
        &s,
        "model",
        ("m", "1.0.0"),
        "to-a.age",
        &["--recipient", &a],
    );
    s.ok(&[
        "recipients",
        "set",
        &b,
        "--reason",
        "site a retired",
        "--key",
        "root.pem",
    ]);
    s.refused(
        1,
        &[
            "add",
            &to_a,
            "--key",
            "op.pem",
            "--identity",
            "a.age",
            "--identity",
            "b.age",
        ],
        "sealed to a recipient since removed",
    );
    s.ok(&[
        "add",
        &both,
        "--key",
        "op.pem",
        "--identity",
        "a.age",
        "--identity",
        "b.age",
    ]);
    assert!(s.ok(&["show", "m@1.0.0"]).contains("(received encrypted)"));
}

/// A protocol-0 pickle named `model.bin` (no `\x80` header) is a pickle to the policy: `reg add`
/// refuses it where the policy refuses pickle, instead of admitting it as `unknown` for the gate
/// to allow.
#[test]
fn a_protocol_0_pickle_under_another_name_is_refused_by_a_policy_refusing_pickle() {
    let s = Sandbox::new();
    s.init_with_roles();
    set_policy(
        &s,
        PolicyDoc {
            refuse_formats: vec![reg::format::formats::Format::Pickle],
            ..PolicyDoc::default()
        },
    );
    fs::create_dir_all(s.join("pk0")).unwrap();
    fs::write(s.join("pk0/model.bin"), b"cos\nsystem\n(S'echo pwned'\ntR.").unwrap();
    let out = s
        .reg()
        .args(pack_args("pk0", "pk0.tar", "pub.pem", "pk0", "1.0.0"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pickle"),
        "pack warns: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = s.refused(1, &["add", "pk0.tar", "--key", "op.pem"], "pickle");
    assert!(err.contains("model.bin"), "{err}");
    assert_eq!(
        gate(&s, "pk0/model.bin", &[]),
        (false, "not-registered".into())
    );
}

/// The policy judges only approved models that are not suspended (FORMAT.md §5.5, §5.14): a
/// PROMOTED or DEPRECATED model out of policy whose operator key is then revoked as compromised
/// is denied as `suspended`, which is what an officer must act on first; re-approved, the policy
/// denies it again (the gate's rank of a model's standing, and its policy threshold).
#[test]
fn a_suspended_model_out_of_policy_is_denied_as_suspended_until_reapproved() {
    let s = Sandbox::new();
    let (_, op, _) = s.init_with_roles();
    s.key("op2.pem");
    s.trust("op2.pem.pub", "operator", "second operator");
    let pickle = |name: &str| vec![("legacy.pkl", format!("\u{80}\u{4} pickled {name}"))];
    let p = s.add_model("p", "0.1.0", &pickle("p"));
    let d = s.add_model("d", "0.1.0", &pickle("d"));
    for m in ["p@0.1.0", "d@0.1.0"] {
        s.ok(&["promote", m, "--reason", "ok", "--key", "op.pem"]);
    }
    s.ok(&["deprecate", "d@0.1.0", "--reason", "old", "--key", "op.pem"]);
    set_policy(
        &s,
        PolicyDoc {
            refuse_formats: vec![reg::format::formats::Format::Pickle],
            ..PolicyDoc::default()
        },
    );
    let (p, d) = (format!("{p}/legacy.pkl"), format!("{d}/legacy.pkl"));
    assert_eq!(gate(&s, &p, &[]), (false, "policy".into()));
    assert_eq!(gate(&s, &d, &[]), (false, "policy".into()));
    s.ok(&[
        "key",
        "revoke",
        &op,
        "--compromised",
        "--key",
        "root.pem",
        "--reason",
        "stolen",
    ]);
    assert_eq!(gate(&s, &p, &[]), (false, "suspended".into()));
    assert_eq!(gate(&s, &d, &[]), (false, "suspended".into()));
    s.ok(&[
        "reapprove",
        "p@0.1.0",
        "--reason",
        "checked",
        "--key",
        "op2.pem",
    ]);
    assert_eq!(gate(&s, &p, &[]), (false, "policy".into()));
}

/// A file held by a PROMOTED and a DEPRECATED model is allowed as the PROMOTED one's, whichever
/// record id sorts first (the gate ranks a model's standing, not its id).
#[test]
fn a_file_held_by_a_promoted_and_a_deprecated_model_is_the_promoted_ones() {
    let s = Sandbox::new();
    s.init_with_roles();
    let shared = (
        "shared.yar",
        "rule shared { condition: true }\n".to_string(),
    );
    let a = s.add_model("a", "1.0.0", std::slice::from_ref(&shared));
    s.add_model("b", "1.0.0", std::slice::from_ref(&shared));
    for m in ["a@1.0.0", "b@1.0.0"] {
        s.ok(&["promote", m, "--reason", "ok", "--key", "op.pem"]);
    }
    let file = format!("{a}/shared.yar");
    let decision = |s: &Sandbox| -> Value {
        let out = s.reg().args(["check", &file, "--json"]).output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        crate::ingest::validate("check.schema.json", &v);
        let allowed = v[0]["allowed"].as_bool().unwrap();
        assert_eq!(out.status.code(), Some(if allowed { 0 } else { 1 }), "{v}");
        v[0].clone()
    };
    // Both PROMOTED: the tie goes to the smaller record id. Deprecate that one.
    let first = decision(&s)["model"].as_str().unwrap().to_string();
    let other = if first == "a@1.0.0" {
        "b@1.0.0"
    } else {
        "a@1.0.0"
    };
    s.ok(&["deprecate", &first, "--reason", "old", "--key", "op.pem"]);
    let d = decision(&s);
    assert_eq!(
        (
            d["allowed"].as_bool(),
            d["code"].as_str(),
            d["model"].as_str()
        ),
        (Some(true), Some("promoted"), Some(other)),
        "{d}"
    );
}

/// Pickles that start with another format's magic inside an opcode's argument, or with opcodes
/// no prefix list foresaw, are refused by a policy refusing pickle; a labels file that starts
/// like a pickle's GLOBAL is not (the second red-team pass).
#[test]
fn pickles_in_disguise_are_refused_and_a_labels_file_is_not() {
    let s = Sandbox::new();
    s.init_with_roles();
    set_policy(
        &s,
        PolicyDoc {
            refuse_formats: vec![reg::format::formats::Format::Pickle],
            ..PolicyDoc::default()
        },
    );
    let disguised: [&[u8]; 3] = [
        b"\x80\x02U\x04TFL30cos\nsystem\n(S'touch x'\ntR.",
        b"N0cos\nsystem\n(S'touch x'\ntR.",
        b"\x8c\x02os\x8c\x06system\x93\x8c\x07touch x\x85R.",
    ];
    for (i, bytes) in disguised.iter().enumerate() {
        let dir = format!("d{i}");
        fs::create_dir_all(s.join(&dir)).unwrap();
        fs::write(s.join(&format!("{dir}/model.tflite")), bytes).unwrap();
        let tar = format!("{dir}.tar");
        pack(&s, &dir, (&dir, "1.0.0"), &tar, &[]);
        s.refused(1, &["add", &tar, "--key", "op.pem"], "(pickle)");
    }
    s.add_model(
        "labels",
        "1.0.0",
        &[("classes.txt", "car\ncat\ndog\n".into())],
    );
    s.ok(&[
        "promote",
        "labels@1.0.0",
        "--reason",
        "ok",
        "--key",
        "op.pem",
    ]);
    assert_eq!(
        gate(&s, "m-labels-1.0.0/classes.txt", &[]),
        (true, "promoted".into())
    );
}

/// Where the policy binds, a record that cannot be read fails closed: the gate denies the
/// model's bytes (`policy`, saying the record could not be read), and promote refuses it as
/// damaged; with no format refused, nothing reads the record.
#[test]
fn a_damaged_record_under_a_policy_is_denied_by_the_gate_and_refused_by_promote() {
    let s = Sandbox::new();
    s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("det.yar", "rule det { condition: true }\n".into())],
    );
    s.add_model(
        "new",
        "1.0.0",
        &[("new.yar", "rule new { condition: true }\n".into())],
    );
    s.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    let list: Value = serde_json::from_str(&s.ok(&["list", "--json"])).unwrap();
    let record = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for name in ["det", "new"] {
        let path = s.object_path(&record(name));
        crate::util::make_writable(&path);
        let mut bytes = fs::read(&path).unwrap();
        bytes[10] ^= 1;
        fs::write(&path, bytes).unwrap();
    }
    // No format refused: the gate reads no record and allows.
    assert_eq!(
        gate(&s, "m-det-1.0.0/det.yar", &[]),
        (true, "promoted".into())
    );
    set_policy(
        &s,
        PolicyDoc {
            refuse_formats: vec![reg::format::formats::Format::Pickle],
            ..PolicyDoc::default()
        },
    );
    let out = s
        .reg()
        .args(["check", "m-det-1.0.0/det.yar", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v[0]["code"], "policy");
    assert!(
        v[0]["reason"]
            .as_str()
            .unwrap()
            .contains("its record could not be read to check the registry policy"),
        "{v}"
    );
    let err = s.refused(
        1,
        &["promote", "new@1.0.0", "--reason", "ok", "--key", "op.pem"],
        "is corrupt",
    );
    assert!(err.contains(&record("new")), "{err}");
}
