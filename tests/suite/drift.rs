//! Drift observations: stored as reporter-signed entries, validated against the schema (every
//! violation listed), listed and exported; never computed from.

use crate::util::{Sandbox, observation};
use std::fs;

fn setup() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    for (name, v) in [("det", "1.0.0"), ("det", "2.0.0")] {
        let dir = format!("m-{v}");
        fs::create_dir(s.join(&dir)).unwrap();
        fs::write(
            s.join(&format!("{dir}/r.yar")),
            format!("rule r_{} {{ condition: true }}\n", v.replace('.', "_")),
        )
        .unwrap();
        s.ok(&[
            "bundle",
            "pack",
            &dir,
            "-o",
            &format!("{dir}.tar"),
            "--key",
            "pub.pem",
            "--name",
            name,
            "--version",
            v,
            "--type",
            "ruleset",
            "--use",
            "detection",
            "--description",
            "d",
        ]);
        s.ok(&["add", &format!("{dir}.tar"), "--key", "op.pem"]);
    }
    s.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    s.example_observation("obs.json");
    s
}

#[test]
fn record_list_export_round_trip() {
    let s = setup();
    let out = s.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    assert!(
        out.contains("recorded drift observation 1 of det@1.0.0"),
        "{out}"
    );
    for (i, (end, psi)) in [
        ("2026-10-08T00:00:00Z", 0.05),
        ("2026-10-15T00:00:00Z", 0.25),
    ]
    .iter()
    .enumerate()
    {
        let f = format!("o{i}.json");
        fs::write(
            s.join(&f),
            observation(["2026-10-01T00:00:00Z", end], 1000, "psi-main", *psi).to_string(),
        )
        .unwrap();
        s.ok(&["drift", "record", "det@1.0.0", &f, "--key", "rep.pem"]);
    }
    let list: serde_json::Value =
        serde_json::from_str(&s.ok(&["drift", "list", "det@1.0.0", "--json"])).unwrap();
    crate::ingest::validate("drift-list.schema.json", &list);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    // Stored as signed, numbers canonical: the first is the example file, value for value.
    let example: serde_json::Value =
        serde_json::from_slice(&fs::read(s.join("obs.json")).unwrap()).unwrap();
    assert_eq!(list[0]["observation"], example);
    assert_eq!(list[2]["observation"]["metrics"][0]["value"], 0.25);
    let since: serde_json::Value = serde_json::from_str(&s.ok(&[
        "drift",
        "list",
        "det@1.0.0",
        "--since",
        "2026-10-10T00:00:00Z",
        "--json",
    ]))
    .unwrap();
    assert_eq!(since.as_array().unwrap().len(), 2);
    let metric: serde_json::Value = serde_json::from_str(&s.ok(&[
        "drift",
        "list",
        "det@1.0.0",
        "--metric",
        "verdict-rate",
        "--json",
    ]))
    .unwrap();
    assert_eq!(metric.as_array().unwrap().len(), 1);
    let export: serde_json::Value = serde_json::from_str(&s.ok(&["drift", "export"])).unwrap();
    crate::ingest::validate("drift-list.schema.json", &export);
    assert_eq!(export.as_array().unwrap().len(), 3);
    let lines = s.ok(&["drift", "export", "--json-lines"]);
    assert_eq!(lines.lines().count(), 3);
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "det@1.0.0", "--json"])).unwrap();
    crate::ingest::validate("model-record.schema.json", &show);
    assert_eq!(show["drift"]["count"], 3);
    assert_eq!(show["drift"]["latest"]["metrics"][0]["value"], 0.25);
    s.ok(&["ledger", "verify"]);
    assert!(s.ok(&["fsck"]).starts_with("PASS"));
}

#[test]
fn schema_violations_are_all_listed() {
    let s = setup();
    fs::write(
        s.join("bad.json"),
        r#"{"window":{"start":"yesterday"},"baseline":"md5:abc","samples":-1,"metrics":[{"name":"x","kind":"vibes","value":"high"}],"extra":1}"#,
    )
    .unwrap();
    let before = s.snapshot();
    let err = s.fails(
        1,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "bad.json",
            "--key",
            "rep.pem",
        ],
    );
    for field in [
        "window.start yesterday: ",
        "window.end is required",
        "baseline md5:abc: ",
        "samples -1: ",
        "metrics[0].kind vibes: expected one of psi,",
        "metrics[0].value high: expected a number",
        "extra: unknown field",
    ] {
        assert!(err.contains(field), "{field} not named in: {err}");
    }
    assert_eq!(before, s.snapshot());
}

#[test]
fn unknown_revoked_and_mismatched_models_and_wrong_keys_are_refused() {
    let s = setup();
    let err = s.fails(
        2,
        &[
            "drift",
            "record",
            "nope@1.0.0",
            "obs.json",
            "--key",
            "rep.pem",
        ],
    );
    assert!(err.contains("no model `nope@1.0.0`"), "{err}");
    s.refused(
        1,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "obs.json",
            "--key",
            "op.pem",
        ],
        "does not hold the reporter role",
    );
    s.ok(&[
        "revoke",
        "det@2.0.0",
        "--reason",
        "withdrawn",
        "--key",
        "op.pem",
    ]);
    s.refused(
        1,
        &[
            "drift",
            "record",
            "det@2.0.0",
            "obs.json",
            "--key",
            "rep.pem",
        ],
        "det@2.0.0 is REVOKED: no drift is recorded for it",
    );
    let other: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "det@2.0.0", "--json"])).unwrap();
    let mut obs = observation(
        ["2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z"],
        1000,
        "psi-main",
        0.1,
    );
    obs["model"] = other["id"].clone();
    fs::write(s.join("named.json"), obs.to_string()).unwrap();
    s.refused(
        1,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "named.json",
            "--key",
            "rep.pem",
        ],
        "the observation names model",
    );
    fs::write(s.join("nan.json"), r#"{"window":{"start":"2026-10-01T00:00:00Z","end":"2026-10-02T00:00:00Z"},"baseline":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","samples":1,"metrics":[{"name":"x","kind":"psi","value":NaN}]}"#).unwrap();
    let err = s.fails(
        2,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "nan.json",
            "--key",
            "rep.pem",
        ],
    );
    assert!(err.contains("is not JSON"), "{err}");
}
