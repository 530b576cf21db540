//! Every limit a reader enforces is enforced, with the same number, before anything is signed or
//! written: an action that would produce an object every reader refuses (and so brick the
//! registry) is refused with a clear message, the registry byte-for-byte unchanged.

use crate::util::Sandbox;
use std::fs;

/// A registry with root, operator, publisher and reporter keys and one model, `det@1.0.0`.
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
    s
}

/// An observation with `metrics` metrics, each with `notes_chars` characters of notes in
/// 4-byte UTF-8 (U+1D11E), and the longest top-level notes: valid under the schema.
fn observation(metrics: usize, notes_chars: usize) -> serde_json::Value {
    let note = "\u{1D11E}".repeat(notes_chars);
    let metrics: Vec<serde_json::Value> = (0..metrics)
        .map(|i| {
            serde_json::json!({
                "name": format!("metric-{i:03}"),
                "kind": "custom",
                "value": 0.123_456_789_012_345_6,
                "threshold": 0.987_654_321_098_765_4,
                "notes": note,
            })
        })
        .collect();
    let mut observation = crate::util::observation(
        ["2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z"],
        1000,
        "psi",
        0.0,
    );
    observation["metrics"] = metrics.into();
    observation["notes"] = "\u{1D11E}"
        .repeat(reg::format::observation::MAX_NOTES_CHARS)
        .into();
    observation
}

#[test]
fn the_issue_drift_observation_is_refused_and_the_registry_still_verifies() {
    let s = setup();
    // Schema-valid, 256 metrics whose notes are 1024 characters of 4 bytes each: the signed
    // entry would be about 1.5 MiB.
    let obs = observation(256, 1024);
    crate::ingest::validate("drift-observation.schema.json", &obs);
    fs::write(s.join("big.json"), obs.to_string()).unwrap();
    let before = s.snapshot();
    let err = s.fails(
        1,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "big.json",
            "--key",
            "rep.pem",
        ],
    );
    assert!(
        err.contains("the drift entry would be 1.")
            && err.contains("MiB, over the 1 MiB limit every reader enforces")
            && err.contains("shorten the notes or split the observation"),
        "{err}"
    );
    assert!(err.len() < 1000, "the error echoes the input: {err}");
    assert_eq!(
        before,
        s.snapshot(),
        "the refused observation changed the registry"
    );
    s.ok(&["ledger", "verify"]);
    s.ok(&["fsck"]);
    // Split in two, each half fits and is recorded: the limit is the readers' one, no lower.
    for half in [128, 128] {
        fs::write(s.join("half.json"), observation(half, 1024).to_string()).unwrap();
        s.ok(&[
            "drift",
            "record",
            "det@1.0.0",
            "half.json",
            "--key",
            "rep.pem",
        ]);
    }
    s.ok(&["ledger", "verify"]);
    s.ok(&["fsck"]);
    let list: serde_json::Value =
        serde_json::from_str(&s.ok(&["drift", "list", "det@1.0.0", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[test]
fn a_recipients_entry_over_the_limit_is_refused_and_nothing_is_written() {
    let s = setup();
    // 13,000 recipients are about 800 KiB of payload, 1.1 MiB once in the envelope.
    let recipients: Vec<String> = (0..13_000)
        .map(|_| age::x25519::Identity::generate().to_public().to_string())
        .collect();
    let before = s.snapshot();
    let mut args = vec![
        "recipients",
        "set",
        "--key",
        "root.pem",
        "--reason",
        "many sites",
    ];
    args.extend(recipients.iter().map(String::as_str));
    let err = s.fails(1, &args);
    assert!(
        err.contains("the recipients entry would be")
            && err.contains("over the 1 MiB limit every reader enforces: list fewer recipients"),
        "{err}"
    );
    assert!(err.len() < 1000, "the error echoes the input: {err}");
    assert_eq!(
        before,
        s.snapshot(),
        "the refused entry changed the registry"
    );
    s.ok(&["ledger", "verify"]);
    // A list that fits is accepted.
    let mut args = vec![
        "recipients",
        "set",
        "--key",
        "root.pem",
        "--reason",
        "sites",
    ];
    args.extend(recipients[..1000].iter().map(String::as_str));
    s.ok(&args);
    s.ok(&["ledger", "verify"]);
}

#[test]
fn a_manifest_over_the_limit_is_refused_at_pack_and_no_bundle_is_written() {
    let s = setup();
    // 900 files with paths of about 930 bytes: a manifest of about 1.1 MiB once signed.
    let deep = format!(
        "{}/{}/{}",
        "a".repeat(240),
        "b".repeat(240),
        "c".repeat(240)
    );
    let dir = s.join("wide").join(&deep);
    fs::create_dir_all(&dir).unwrap();
    for i in 0..900 {
        fs::write(dir.join(format!("f{i:04}-{}", "x".repeat(200))), b"x").unwrap();
    }
    let before = s.snapshot();
    let root_before: Vec<_> = fs::read_dir(s.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let err = s.fails(
        1,
        &[
            "bundle",
            "pack",
            "wide",
            "-o",
            "wide.tar",
            "--key",
            "pub.pem",
            "--name",
            "wide",
            "--version",
            "1.0.0",
            "--type",
            "ML",
            "--use",
            "detection",
            "--description",
            "d",
        ],
    );
    assert!(err.contains("the signed manifest would be 1."), "{err}");
    assert!(
        err.contains("over the 1 MiB limit every reader enforces"),
        "{err}"
    );
    assert!(err.len() < 1000, "the error echoes the input: {err}");
    assert!(
        !s.join("wide.tar").exists(),
        "a bundle every registry refuses was written"
    );
    let root_after: Vec<_> = fs::read_dir(s.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(root_before, root_after, "pack left a file behind");
    assert_eq!(before, s.snapshot());
}

#[test]
fn the_schemas_state_the_limits_the_code_enforces() {
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(
            &fs::read_to_string(format!("{}/schema/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap(),
        )
        .unwrap()
    };
    let m = read("bundle-manifest.schema.json");
    let p = &m["properties"];
    assert_eq!(
        p["artifacts"]["maxItems"],
        reg::format::manifest::MAX_ARTIFACTS
    );
    assert_eq!(
        p["artifacts"]["items"]["properties"]["path"]["maxLength"],
        reg::format::manifest::MAX_PATH_LEN
    );
    assert_eq!(
        p["version"]["maxLength"],
        reg::format::names::MAX_VERSION_LEN
    );
    assert_eq!(p["name"]["maxLength"], reg::format::names::MAX_NAME_LEN);
    let name_rule = format!("{{0,{}}}$", reg::format::names::MAX_NAME_LEN - 1);
    assert!(p["name"]["pattern"].as_str().unwrap().ends_with(&name_rule));
    let limit = reg::format::manifest::MANIFEST_LIMIT.to_string();
    assert!(m["description"].as_str().unwrap().contains(&limit));

    let d = read("drift-observation.schema.json");
    let p = &d["properties"];
    assert_eq!(
        p["metrics"]["maxItems"],
        reg::format::observation::MAX_METRICS
    );
    assert_eq!(
        p["notes"]["maxLength"],
        reg::format::observation::MAX_NOTES_CHARS
    );
    assert_eq!(
        p["metrics"]["items"]["properties"]["notes"]["maxLength"],
        reg::format::observation::MAX_METRIC_NOTES_CHARS
    );
    assert_eq!(p["slot"]["maxLength"], reg::format::names::MAX_NAME_LEN);
    assert!(p["slot"]["pattern"].as_str().unwrap().ends_with(&name_rule));
    let limit = reg::repo::ledger::ENTRY_LIMIT.to_string();
    assert!(d["description"].as_str().unwrap().contains(&limit));
}

#[test]
fn a_passphrase_work_factor_over_1_gib_is_refused_at_once() {
    let s = setup();
    fs::create_dir(s.join("m")).unwrap();
    fs::write(s.join("m/r.yar"), "rule p { condition: true }\n").unwrap();
    s.reg()
        .args([
            "bundle",
            "pack",
            "m",
            "-o",
            "p.age",
            "--key",
            "pub.pem",
            "--name",
            "p",
            "--version",
            "1.0.0",
            "--type",
            "ruleset",
            "--use",
            "detection",
            "--description",
            "d",
            "--passphrase",
        ])
        .env("REG_BUNDLE_PASSPHRASE", "pw")
        .assert()
        .success();
    let bytes = fs::read(s.join("p.age")).unwrap();
    let header_end = bytes.windows(4).position(|w| w == b"\n---").unwrap();
    let header = String::from_utf8(bytes[..header_end].to_vec()).unwrap();
    // pack writes the age CLI's work factor, below what readers accept, whatever the machine.
    let stanza = header
        .lines()
        .find(|l| l.starts_with("-> scrypt "))
        .unwrap();
    assert!(stanza.ends_with(" 18"), "{stanza}");
    // Whoever holds the medium raises it: 2^21 would take 2 GiB of memory, 2^22 4 GiB.
    for log_n in ["21", "22", "30"] {
        let forged = header.replace(stanza, &format!("{} {log_n}", &stanza[..stanza.len() - 3]));
        let mut b = forged.into_bytes();
        b.extend_from_slice(&bytes[header_end..]);
        fs::write(s.join("hard.age"), b).unwrap();
        let before = s.snapshot();
        let start = std::time::Instant::now();
        let out = s
            .reg()
            .args(["add", "hard.age", "--key", "op.pem"])
            .env("REG_BUNDLE_PASSPHRASE", "pw")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!("work factor is 2^{log_n}"))
                && err.contains("reg accepts at most 2^20 (1024 MiB)"),
            "{err}"
        );
        assert!(
            start.elapsed().as_secs() < 5,
            "scrypt ran: {:?}",
            start.elapsed()
        );
        assert_eq!(before, s.snapshot());
    }
    // The bundle as packed is accepted.
    s.reg()
        .args(["add", "p.age", "--key", "op.pem"])
        .env("REG_BUNDLE_PASSPHRASE", "pw")
        .assert()
        .success();
}

#[test]
fn format_version_0_is_refused() {
    let s = setup();
    let config = s.dot().join("config.json");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text.replace("\"format_version\":5", "\"format_version\":0"),
    )
    .unwrap();
    let before = s.snapshot();
    for args in [&["ledger", "verify"][..], &["list"], &["fsck"]] {
        let out = s.reg().args(args).output().unwrap();
        let err = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{args:?} accepted format_version 0");
        assert!(
            err.contains("format_version 0 is not a format version"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(before, s.snapshot());
}

/// The checkpoint limit is the format's 64 KiB (FORMAT.md §6): a `checkpoint` file one byte
/// over it is refused by its size, before a byte of it is parsed; one at the limit is read and
/// refused only for what it holds (here, padding that is not canonical).
#[test]
fn a_checkpoint_file_over_64_kib_is_refused_by_its_size() {
    let s = setup();
    let p = s.dot().join("checkpoint");
    let mut bytes = fs::read(&p).unwrap();
    bytes.resize(64 * 1024 + 1, b' ');
    fs::write(&p, &bytes).unwrap();
    let err = s.fails(1, &["ledger", "verify"]);
    assert!(err.contains("larger than the 65536-byte limit"), "{err}");
    bytes.truncate(64 * 1024);
    fs::write(&p, &bytes).unwrap();
    let err = s.fails(1, &["ledger", "verify"]);
    assert!(!err.contains("byte limit"), "{err}");
}
