//! `reg add` (and `reg bundle verify`): a model is admitted only after its publisher signature
//! and every artifact verify; every refusal names the file or field and leaves the registry
//! byte-for-byte as it was.

use crate::craft::{self, Tar, file, good_tar, load, manifest_for, sign};
use crate::util::Sandbox;
use crate::util::snapshot;
use reg::crypto::envelope::{self, Kind};
use std::fs;

/// A registry with root, operator and publisher keys, and a two-file model directory.
fn setup() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    fs::create_dir_all(s.join("model/shards")).unwrap();
    fs::write(s.join("model/shards/part-1.bin"), vec![7u8; 200_000]).unwrap();
    fs::write(s.join("model/config.json"), b"{\"layers\":2}").unwrap();
    s
}

fn pack(s: &Sandbox, out: &str, version: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "bundle",
        "pack",
        "model",
        "-o",
        out,
        "--key",
        "pub.pem",
        "--name",
        "detector",
        "--version",
        version,
        "--type",
        "DL",
        "--use",
        "classification",
        "--use",
        "anomaly-detection",
        "--description",
        "ransomware detector",
    ];
    args.extend_from_slice(extra);
    s.ok(&args)
}

/// `reg add BUNDLE` by the operator is refused (exit 1) saying `needle`.
fn refused(s: &Sandbox, bundle: &str, needle: &str) -> String {
    s.refused(1, &["add", bundle, "--key", "op.pem"], needle)
}

pub fn validate(schema: &str, value: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(format!("{}/schema/{schema}", env!("CARGO_MANIFEST_DIR"))).unwrap(),
    )
    .unwrap();
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema}: {errors:?}\n{value:#}");
}

#[test]
fn pack_add_list_show() {
    let s = setup();
    let packed = pack(
        &s,
        "detector.tar",
        "1.0.0",
        &[
            "--label",
            "team=dfir",
            "--provenance",
            "corpus-2026=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "--framework",
            "pytorch 2.3",
        ],
    );
    let record = packed
        .lines()
        .find_map(|l| l.strip_prefix("record id: "))
        .unwrap()
        .to_string();
    let bundle = packed
        .lines()
        .find_map(|l| l.strip_prefix("bundle:    "))
        .unwrap()
        .to_string();
    assert_eq!(
        bundle,
        blake3::hash(&fs::read(s.join("detector.tar")).unwrap())
            .to_hex()
            .to_string()
    );
    s.ok(&[
        "bundle",
        "verify",
        "detector.tar",
        "--publisher",
        "pub.pem.pub",
    ]);
    let out = s.ok(&["add", "detector.tar", "--key", "op.pem"]);
    assert!(
        out.contains(&format!(
            "added detector@1.0.0 as REGISTERED (record {record}"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("bundle BLAKE3 as received: {bundle}")),
        "{out}"
    );

    // Artifacts are objects named by their BLAKE3, byte for byte the files.
    let part = fs::read(s.join("model/shards/part-1.bin")).unwrap();
    let id = blake3::hash(&part).to_hex().to_string();
    assert_eq!(fs::read(s.object_path(&id)).unwrap(), part);
    // The record is the signed manifest as shipped.
    assert!(s.object_path(&record).is_file());

    let list: serde_json::Value = serde_json::from_str(&s.ok(&["list", "--json"])).unwrap();
    validate("model-list.schema.json", &list);
    assert_eq!(list[0]["id"], record.as_str());
    assert_eq!(list[0]["state"], "REGISTERED");
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "detector@1.0.0", "--json"])).unwrap();
    validate("model-record.schema.json", &show);
    assert_eq!(show["id"], record.as_str());
    assert_eq!(show["added"]["bundle"], bundle.as_str());
    assert_eq!(show["labels"]["team"], "dfir");
    assert_eq!(
        show["uses"],
        serde_json::json!(["anomaly-detection", "classification"])
    );
    let arts = show["artifacts"].as_array().unwrap();
    assert_eq!(arts.len(), 2);
    assert!(
        arts.iter()
            .any(|a| a["blake3"] == id.as_str() && a["path"] == "shards/part-1.bin")
    );
    // By id prefix, like git, and an unknown one.
    assert!(s.ok(&["show", &record[..8]]).contains("detector@1.0.0"));
    let err = s.fails(2, &["show", "nope@1.0.0"]);
    assert!(err.contains("no model `nope@1.0.0`"), "{err}");
    s.ok(&["ledger", "verify"]);
}

#[test]
fn the_same_bundle_twice_is_already_registered_without_a_new_entry() {
    let s = setup();
    pack(&s, "d.tar", "1.0.0", &[]);
    s.ok(&["add", "d.tar", "--key", "op.pem"]);
    let before = s.snapshot();
    let out = s.ok(&["add", "d.tar", "--key", "op.pem"]);
    assert!(
        out.contains("already registered as detector@1.0.0"),
        "{out}"
    );
    assert_eq!(before, s.snapshot());
}

#[test]
fn the_same_name_and_version_with_other_content_is_refused() {
    let s = setup();
    pack(&s, "a.tar", "1.0.0", &[]);
    s.ok(&["add", "a.tar", "--key", "op.pem"]);
    fs::write(s.join("model/config.json"), b"{\"layers\":3}").unwrap();
    pack(&s, "b.tar", "1.0.0", &[]);
    refused(
        &s,
        "b.tar",
        "detector@1.0.0 is already registered with other content (record",
    );
}

#[test]
fn a_directory_bundle_is_accepted_and_its_bundle_hash_is_the_manifest_hash() {
    let s = setup();
    pack(&s, "d.tar", "1.0.0", &[]);
    fs::create_dir(s.join("unpacked")).unwrap();
    let status = std::process::Command::new("tar")
        .current_dir(s.path())
        .args(["-xf", "d.tar", "-C", "unpacked"])
        .status()
        .unwrap();
    assert!(status.success());
    let out = s.ok(&["add", "unpacked", "--key", "op.pem"]);
    let manifest_hash = blake3::hash(&fs::read(s.join("unpacked/reg-manifest.json")).unwrap())
        .to_hex()
        .to_string();
    assert!(out.contains(&format!("(record {manifest_hash}")), "{out}");
    assert!(
        out.contains(&format!("bundle BLAKE3 as received: {manifest_hash}")),
        "{out}"
    );
}

#[test]
fn a_directory_bundle_with_an_extra_or_missing_file_is_refused() {
    let s = setup();
    pack(&s, "d.tar", "1.0.0", &[]);
    fs::create_dir(s.join("u")).unwrap();
    std::process::Command::new("tar")
        .current_dir(s.path())
        .args(["-xf", "d.tar", "-C", "u"])
        .status()
        .unwrap();
    fs::write(s.join("u/extra.pkl"), b"\x80\x04").unwrap();
    refused(&s, "u", "`extra.pkl`: is not listed in the manifest");
    fs::remove_file(s.join("u/extra.pkl")).unwrap();
    fs::remove_file(s.join("u/config.json")).unwrap();
    refused(&s, "u", "lacks 1 file(s) the manifest lists: `config.json`");
    std::os::unix::fs::symlink("/etc/passwd", s.join("u/config.json")).unwrap();
    refused(&s, "u", "`config.json`: is not a regular file");
}

#[test]
fn a_bad_signature_is_refused_before_any_artifact_is_read() {
    let s = setup();
    let publisher = load(&s, "pub.pem");
    let files = vec![file("model.bin", b"weights")];
    let mut signed = sign(&manifest_for(&files, "m", "1.0.0", &publisher), &publisher);
    // Flip one character of the base64 signature.
    let at = signed.len() - 10;
    signed[at] = if signed[at] == b'A' { b'B' } else { b'A' };
    // The artifact entry says 7 bytes and then the archive simply stops: a reader that read
    // artifacts first would fail on that; reg fails on the signature.
    let mut t = Tar::new().manifest(&signed).bytes;
    t.extend_from_slice(&crate::craft::header(b"model.bin", 7, b'0', b""));
    fs::write(s.join("bad.tar"), t).unwrap();
    refused(&s, "bad.tar", "manifest signature: does not verify");
}

#[test]
fn an_unknown_publisher_is_refused() {
    let s = setup();
    s.key("stranger.pem");
    let stranger = load(&s, "stranger.pem");
    let files = vec![file("model.bin", b"weights")];
    fs::write(
        s.join("x.tar"),
        good_tar(
            &sign(&manifest_for(&files, "m", "1.0.0", &stranger), &stranger),
            &files,
        ),
    )
    .unwrap();
    refused(
        &s,
        "x.tar",
        &format!(
            "publisher key {} is not trusted by this registry",
            stranger.public().fingerprint()
        ),
    );
}

#[test]
fn a_revoked_publisher_is_refused() {
    let s = setup();
    pack(&s, "d.tar", "1.0.0", &[]);
    let fp = s.ok(&["key", "fingerprint", "pub.pem"]).trim().to_string();
    s.ok(&[
        "key",
        "revoke",
        &fp,
        "--key",
        "root.pem",
        "--reason",
        "publisher laptop stolen",
    ]);
    refused(
        &s,
        "d.tar",
        &format!("publisher key {fp} was revoked at entry 3"),
    );
}

#[test]
fn an_operator_key_used_as_publisher_is_refused() {
    let s = setup();
    let op = load(&s, "op.pem");
    let files = vec![file("model.bin", b"weights")];
    fs::write(
        s.join("x.tar"),
        good_tar(&sign(&manifest_for(&files, "m", "1.0.0", &op), &op), &files),
    )
    .unwrap();
    refused(
        &s,
        "x.tar",
        &format!(
            "key {} is trusted as operator but not as publisher",
            op.public().fingerprint()
        ),
    );
}

#[test]
fn a_publisher_key_cannot_sign_the_ingestion() {
    let s = setup();
    pack(&s, "d.tar", "1.0.0", &[]);
    let before = s.snapshot();
    let err = s.fails(1, &["add", "d.tar", "--key", "pub.pem"]);
    assert!(
        err.contains("signed a add entry but does not hold the operator role"),
        "{err}"
    );
    assert_eq!(before, s.snapshot());
}

#[test]
fn a_flipped_byte_in_an_artifact_is_refused_naming_it() {
    let s = setup();
    let publisher = load(&s, "pub.pem");
    let files = vec![
        file("model.bin", b"weights 0123456789"),
        file("vocab.txt", b"a b c"),
    ];
    let mut t = good_tar(
        &sign(&manifest_for(&files, "m", "1.0.0", &publisher), &publisher),
        &files,
    );
    let pos = t.windows(8).position(|w| w == b"weights ").unwrap();
    t[pos] ^= 0x20;
    fs::write(s.join("x.tar"), t).unwrap();
    let err = refused(&s, "x.tar", "`model.bin`: BLAKE3 is ");
    assert!(
        err.contains(&format!(
            "but the manifest says {}",
            blake3::hash(b"weights 0123456789").to_hex()
        )),
        "{err}"
    );
}

#[test]
fn a_size_lie_is_refused() {
    let s = setup();
    let publisher = load(&s, "pub.pem");
    let files = vec![file("model.bin", b"weights")];
    let mut m = manifest_for(&files, "m", "1.0.0", &publisher);
    m.artifacts[0].size = 6;
    fs::write(s.join("x.tar"), good_tar(&sign(&m, &publisher), &files)).unwrap();
    refused(
        &s,
        "x.tar",
        "`model.bin`: is 7 bytes, but the manifest says 6",
    );
}

#[test]
fn a_schema_violation_lists_every_field() {
    let s = setup();
    let publisher = load(&s, "pub.pem");
    let files = vec![file("model.bin", b"weights")];
    let mut m = serde_json::to_value(manifest_for(&files, "m", "1.0.0", &publisher)).unwrap();
    m["name"] = "Bad Name".into();
    m["version"] = "1.0".into();
    m["type"] = "transformer".into();
    m["uses"] = serde_json::json!([]);
    m["artifacts"][0]["blake3"] = "xyz".into();
    let signed = envelope::sign(Kind::Manifest, &m, &publisher).unwrap();
    fs::write(s.join("x.tar"), good_tar(&signed, &files)).unwrap();
    let err = refused(&s, "x.tar", "manifest is invalid: ");
    for field in [
        "name `Bad Name`: expected lowercase letters",
        "version 1.0: expected a semantic version",
        "type transformer: expected one of ML, DL, LLM, ruleset",
        "uses is required",
        "artifacts[0].blake3 xyz: expected a BLAKE3 hash",
    ] {
        assert!(err.contains(field), "{field} not named in: {err}");
    }
}

#[test]
fn a_declared_format_that_the_bytes_contradict_is_refused() {
    let s = setup();
    let publisher = load(&s, "pub.pem");
    let files = vec![file(
        "model.safetensors",
        b"\x80\x04\x95 a pickle in disguise",
    )];
    let mut m = manifest_for(&files, "m", "1.0.0", &publisher);
    m.artifacts[0].format = reg::format::formats::Format::Safetensors;
    fs::write(s.join("x.tar"), good_tar(&sign(&m, &publisher), &files)).unwrap();
    refused(
        &s,
        "x.tar",
        "`model.safetensors`: the manifest says format safetensors, but its bytes are pickle",
    );
}

#[test]
fn pickle_formats_are_warned_about_and_a_policy_refuses_them() {
    let s = setup();
    fs::write(s.join("model/legacy.pkl"), b"\x80\x04\x95\x00").unwrap();
    let out = s
        .reg()
        .args([
            "bundle",
            "pack",
            "model",
            "-o",
            "p.tar",
            "--key",
            "pub.pem",
            "--name",
            "legacy",
            "--version",
            "1.0.0",
            "--type",
            "ML",
            "--use",
            "classification",
            "--description",
            "old",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("`legacy.pkl` is pickle data, which runs code when loaded")
    );
    s.ok(&[
        "policy",
        "set",
        "--refuse-format",
        "pickle",
        "--refuse-format",
        "joblib",
        "--key",
        "root.pem",
        "--reason",
        "no code-executing formats on site",
    ]);
    assert_eq!(
        s.ok(&["policy", "show"]),
        "refuse formats: [joblib, pickle]\ncheckpoint expires after: never\nrequire encrypted bundles: no\nseparate duties: no\n"
    );
    refused(
        &s,
        "p.tar",
        "the registry policy refuses these formats: `legacy.pkl` (pickle)",
    );
    s.ok(&[
        "policy",
        "set",
        "--allow-format",
        "pickle",
        "--allow-format",
        "joblib",
        "--key",
        "root.pem",
        "--reason",
        "lifted for migration",
    ]);
    let out = s
        .reg()
        .args(["add", "p.tar", "--key", "op.pem"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("warning: `legacy.pkl` is a pickle-based format")
    );
}

#[test]
fn bundle_verify_needs_the_right_publisher() {
    let s = setup();
    pack(&s, "d.tar", "1.0.0", &[]);
    let out = s.ok(&["bundle", "verify", "d.tar", "--publisher", "pub.pem.pub"]);
    assert!(out.starts_with("OK: detector@1.0.0"), "{out}");
    let err = s.fails(
        1,
        &["bundle", "verify", "d.tar", "--publisher", "op.pem.pub"],
    );
    let fp = |k: &str| s.ok(&["key", "fingerprint", k]).trim().to_string();
    assert!(
        err.contains(&format!(
            "manifest signature: signed by {}, expected {}",
            fp("pub.pem.pub"),
            fp("op.pem.pub")
        )),
        "{err}"
    );
    let err = s.fails(
        2,
        &[
            "bundle",
            "verify",
            "model/config.json",
            "--publisher",
            "pub.pem.pub",
        ],
    );
    assert!(err.contains("is not a bundle"), "{err}");
}

#[test]
fn packing_is_deterministic() {
    let s = setup();
    pack(&s, "a.tar", "1.0.0", &[]);
    pack(&s, "b.tar", "1.0.0", &[]);
    assert_eq!(
        fs::read(s.join("a.tar")).unwrap(),
        fs::read(s.join("b.tar")).unwrap()
    );
    let err = s.fails(
        2,
        &[
            "bundle",
            "pack",
            "model",
            "-o",
            "a.tar",
            "--key",
            "pub.pem",
            "--name",
            "x",
            "--version",
            "1.0.0",
            "--type",
            "ML",
            "--use",
            "classification",
            "--description",
            "d",
        ],
    );
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn a_writer_killed_during_add_leaves_the_registry_consistent() {
    for step in [
        "put:after-write",
        "commit:after-object",
        "commit:after-ledger",
    ] {
        let s = setup();
        pack(&s, "d.tar", "1.0.0", &[]);
        let out = s
            .reg()
            .args(["add", "d.tar", "--key", "op.pem"])
            .env("REG_FAILPOINT", step)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "{step}");
        s.ok(&["ledger", "verify"]);
        assert_eq!(s.ok(&["list", "--json"]).trim(), "[]", "{step}");
        // Run again: admitted.
        s.ok(&["add", "d.tar", "--key", "op.pem"]);
        assert!(s.ok(&["list"]).contains("detector"), "{step}");
    }
}

#[test]
fn metadata_can_come_from_a_json_file_and_flags_override_it() {
    let s = setup();
    fs::write(
        s.join("meta.json"),
        r#"{"name":"from-file","version":"0.9.0","type":"LLM","uses":["summarization","other:triage-notes"],
            "description":"from a file","labels":{"owner":"blue-team"},
            "provenance":[{"name":"corpus","hash":"blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"}]}"#,
    )
    .unwrap();
    s.ok(&[
        "bundle",
        "pack",
        "model",
        "-o",
        "m.tar",
        "--key",
        "pub.pem",
        "--metadata",
        "meta.json",
        "--version",
        "1.0.0",
    ]);
    s.ok(&["add", "m.tar", "--key", "op.pem"]);
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "from-file@1.0.0", "--json"])).unwrap();
    validate("model-record.schema.json", &show);
    assert_eq!(show["type"], "LLM");
    assert_eq!(
        show["uses"],
        serde_json::json!(["other:triage-notes", "summarization"])
    );
    assert_eq!(show["provenance"][0]["name"], "corpus");
    let err = s.fails(
        2,
        &[
            "bundle",
            "pack",
            "model",
            "-o",
            "bad.tar",
            "--key",
            "pub.pem",
            "--metadata",
            "meta.json",
            "--use",
            "mind-reading",
        ],
    );
    assert!(err.contains("--use mind-reading: expected one of"), "{err}");
    assert!(!s.join("bad.tar").exists());
}

/// A tar bundle of one rules file and the same bundle with one byte of the file changed: same
/// size, same format, a valid publisher signature over the original.
fn altered_bundle(s: &Sandbox) -> (String, String) {
    let rules = "rule r { condition: true }\n";
    let publisher = craft::load(s, "pub.pem");
    let files = [craft::file("rules.yar", rules.as_bytes())];
    let signed = craft::sign(
        &craft::manifest_for(&files, "det", "1.0.0", &publisher),
        &publisher,
    );
    fs::write(s.join("good.tar"), craft::good_tar(&signed, &files)).unwrap();
    let altered = [craft::file(
        "rules.yar",
        rules.replace("true", "TRUE").as_bytes(),
    )];
    fs::write(s.join("bad.tar"), craft::good_tar(&signed, &altered)).unwrap();
    // The same as a directory bundle.
    fs::create_dir(s.join("bad-dir")).unwrap();
    fs::write(s.join("bad-dir/reg-manifest.json"), &signed).unwrap();
    fs::write(s.join("bad-dir/rules.yar"), &altered[0].data).unwrap();
    (
        blake3::hash(rules.as_bytes()).to_hex().to_string(),
        blake3::hash(&altered[0].data).to_hex().to_string(),
    )
}

#[test]
fn bundle_verify_refuses_an_artifact_whose_bytes_differ_from_the_manifest() {
    let s = Sandbox::new();
    s.init_with_roles();
    let (listed, actual) = altered_bundle(&s);
    s.ok(&["bundle", "verify", "good.tar", "--publisher", "pub.pem.pub"]);
    for bundle in ["bad.tar", "bad-dir"] {
        let before = snapshot(s.path());
        let err = s.fails(
            1,
            &["bundle", "verify", bundle, "--publisher", "pub.pem.pub"],
        );
        let expected = format!("`rules.yar`: BLAKE3 is {actual}, but the manifest says {listed}");
        assert!(err.contains(&expected), "{bundle}: {err}");
        assert!(!err.contains("OK:"), "{err}");
        assert_eq!(before, snapshot(s.path()));
    }
}
