//! One meaning, one encoding, for typed documents too (FORMAT.md §2): objects crafted and signed
//! with the test's own keys in a real registry, each pair holding the same meaning in two
//! spellings. The canonical spelling verifies; the other is refused by `ledger verify` (entries)
//! or `add` (manifests), naming the object, and the registry is left byte-for-byte unchanged.
//!
//! Also: a format-1 registry written by reg before format 2 (kept as a fixture), whose drift
//! observations spell numbers the old way, still verifies and takes new writes.

use crate::craft::{file, good_tar, load, manifest_for};
use crate::util::Sandbox;
use reg::crypto::envelope::{self, Kind, Unverified};
use reg::format::entry::Entry;
use reg::format::id::ObjectId;
use reg::repo::ledger::{Checkpoint, read_ids, replay};
use reg::repo::store::Store;
use reg::util::encoding::to_canonical_vec;
use std::fs;

/// A format-2 registry with root, operator, publisher and reporter keys and `det@1.0.0`.
fn setup() -> (Sandbox, String) {
    let s = Sandbox::new();
    s.init_with_roles();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    s.add_model(
        "det",
        "1.0.0",
        &[("r.yar", "rule r { condition: true }\n".into())],
    );
    let state: serde_json::Value = serde_json::to_value(crate::util::read_index(&s.dot())).unwrap();
    assert_eq!(state["format_version"], 5, "reg init writes format 5");
    let record = state["models"].as_object().unwrap().keys().next().unwrap();
    (s, record.clone())
}

/// Appends, as the next entry, `payload` (canonical JSON of the entry's own fields, with the
/// string `"@"` standing for `spelling`, spliced in as raw bytes), signed by `key_file`, with a
/// checkpoint that commits to the state the entry leads to (that of the same entry spelled
/// `canonical`), signed by the same key: everything a holder of that key can do. Returns the
/// entry's id.
fn append(
    s: &Sandbox,
    kind: Kind,
    key_file: &str,
    payload: serde_json::Value,
    spelling: &str,
    canonical: &str,
) -> ObjectId {
    let dot = s.dot();
    let store = Store::new(&dot);
    let (ids, _) = read_ids(&dot.join("ledger")).unwrap();
    let before = replay(&dot, &store, &ids[0], &mut |_| {}).unwrap();
    let key = load(s, key_file);
    let mut payload = payload;
    let obj = payload.as_object_mut().unwrap();
    obj.insert(
        "actor".into(),
        key.public().fingerprint().to_string().into(),
    );
    obj.insert("prev".into(), ids.last().unwrap().to_string().into());
    obj.insert("registry".into(), ids[0].to_string().into());
    obj.insert("seq".into(), ids.len().into());
    obj.insert("time".into(), "2026-01-02T00:00:00Z".into());
    let text = String::from_utf8(to_canonical_vec(&payload).unwrap()).unwrap();
    let body = text.replace("\"@\"", spelling);
    let bytes = envelope::sign_bytes(kind, body.as_bytes(), &key).unwrap();
    let id = store.put_bytes(&bytes).unwrap();
    let mut ledger = fs::read(dot.join("ledger")).unwrap();
    ledger.extend_from_slice(format!("{id}\n").as_bytes());
    fs::write(dot.join("ledger"), ledger).unwrap();
    // The state the entry leads to, by the library's own rules, from the same meaning in its
    // canonical spelling: so that only the spelling can be refused.
    let mut state = before.state.clone();
    let twin = text.replace("\"@\"", canonical);
    let signed = envelope::sign_bytes(kind, twin.as_bytes(), &key).unwrap();
    let entry = Entry::from_envelope(&Unverified::parse(&signed).unwrap()).unwrap();
    state.apply(id, &entry).unwrap();
    let cp = Checkpoint {
        head: id,
        registry: ids[0],
        seq: ids.len() as u64,
        state: state.hash(),
        time: "2026-01-02T00:00:00Z".into(),
    };
    fs::write(
        dot.join("checkpoint"),
        envelope::sign(Kind::Checkpoint, &cp, &key).unwrap(),
    )
    .unwrap();
    id
}

/// `ledger verify` refuses the registry naming entry `id` as not canonical, and changes nothing.
fn refused_naming(s: &Sandbox, id: &ObjectId) -> String {
    let err = s.refused(1, &["ledger", "verify"], &id.to_string());
    assert!(err.contains("not canonical"), "{err}");
    err
}

/// A drift observation of `record` whose first metric's value is the placeholder.
fn observation(record: &str) -> serde_json::Value {
    let mut observation = crate::util::observation(
        ["2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"],
        10,
        "psi",
        0.0,
    );
    observation["metrics"][0]["value"] = "@".into();
    serde_json::json!({"model": record, "observation": observation})
}

/// Each pair: the canonical spelling (RFC 8785) and another spelling of the same double, which
/// today's reg wrote itself (`10.0`, `-0.0`, `1e+16`, `1e-6`) or accepted (`0.0`).
const SAME_NUMBER: [(&str, &str); 5] = [
    ("10", "10.0"),
    ("0", "-0.0"),
    ("0", "0.0"),
    ("10000000000000000", "1e+16"),
    ("0.000001", "1e-6"),
];

#[test]
fn a_drift_entry_spelling_a_number_another_way_is_refused() {
    for (canonical, other) in SAME_NUMBER {
        let (s, record) = setup();
        let id = append(
            &s,
            Kind::Drift,
            "rep.pem",
            observation(&record),
            other,
            canonical,
        );
        let err = refused_naming(&s, &id);
        assert!(
            err.contains("RFC 8785") || err.contains("not canonical"),
            "{other}: {err}"
        );

        let (s, record) = setup();
        append(
            &s,
            Kind::Drift,
            "rep.pem",
            observation(&record),
            canonical,
            canonical,
        );
        s.ok(&["ledger", "verify"]);
        let list: serde_json::Value =
            serde_json::from_str(&s.ok(&["drift", "list", "det@1.0.0", "--json"])).unwrap();
        let value = &list[0]["observation"]["metrics"][0]["value"];
        assert_eq!(value.as_f64(), canonical.parse::<f64>().ok(), "{list}");
    }
}

#[test]
fn reg_writes_numbers_in_rfc_8785_form() {
    let (s, _) = setup();
    let obs = r#"{"window":{"start":"2026-10-01T00:00:00Z","end":"2026-10-02T00:00:00Z"},
        "baseline":"blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
        "samples":10.0,"metrics":[{"name":"a","kind":"psi","value":10.0,"threshold":-0.0},
        {"name":"b","kind":"kl","value":1e16},{"name":"c","kind":"ks","value":1e-6}]}"#;
    fs::write(s.join("obs.json"), obs).unwrap();
    s.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    let ids = s.ledger_ids();
    let store = Store::new(&s.dot());
    let bytes = store
        .get(&ids.last().unwrap().parse().unwrap(), 1 << 20)
        .unwrap();
    let payload = Unverified::parse(&bytes).unwrap().payload;
    let text = String::from_utf8(payload).unwrap();
    for spelled in [
        "\"samples\":10,",
        "\"threshold\":0,",
        "\"value\":10}",
        "\"value\":10000000000000000}",
        "\"value\":0.000001}",
    ] {
        assert!(text.contains(spelled), "{spelled} in {text}");
    }
    s.ok(&["ledger", "verify"]);
    // An integer no double holds exactly is refused before signing, naming it.
    let before = s.snapshot();
    fs::write(
        s.join("big.json"),
        obs.replace("\"samples\":10.0", "\"samples\":9007199254740993"),
    )
    .unwrap();
    let err = s.fails(
        2,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "big.json",
            "--key",
            "rep.pem",
        ],
    );
    assert!(err.contains("9007199254740993"), "{err}");
    assert_eq!(s.snapshot(), before);
}

#[test]
fn a_policy_entry_with_an_empty_list_written_out_is_refused() {
    let (s, _) = setup();
    let id = append(
        &s,
        Kind::Policy,
        "root.pem",
        serde_json::json!({"policy": "@", "reason": "nothing refused"}),
        r#"{"refuse_formats":[]}"#,
        "{}",
    );
    refused_naming(&s, &id);

    let (s, _) = setup();
    append(
        &s,
        Kind::Policy,
        "root.pem",
        serde_json::json!({"policy": "@", "reason": "nothing refused"}),
        "{}",
        "{}",
    );
    s.ok(&["ledger", "verify"]);
}

#[test]
fn a_transition_with_an_empty_slot_list_written_out_is_refused() {
    for (slots, ok) in [(",\"slots\":[]", false), ("", true)] {
        let (s, record) = setup();
        let ids = s.ledger_ids();
        let payload = serde_json::json!({
            "from": "REGISTERED", "model": record, "previous": ids.last().unwrap(),
            "reason": "@", "to": "PROMOTED",
        });
        let id = append(
            &s,
            Kind::Transition,
            "op.pem",
            payload,
            &format!("\"ok\"{slots}"),
            "\"ok\"",
        );
        if ok {
            s.ok(&["ledger", "verify"]);
        } else {
            refused_naming(&s, &id);
        }
    }
}

/// A manifest crafted with `labels` spelled `labels_json` (or absent), as a bundle tar.
fn manifest_bundle(s: &Sandbox, labels_json: Option<&str>) -> (Vec<u8>, String) {
    let key = load(s, "pub.pem");
    let files = [file("m.yar", b"rule m { condition: true }\n")];
    let m = manifest_for(&files, "lab", "1.0.0", &key);
    let text = String::from_utf8(to_canonical_vec(&m).unwrap()).unwrap();
    let text = match labels_json {
        // `labels` sorts between `framework` (absent) and `name`.
        Some(l) => text.replace(",\"name\":", &format!(",\"labels\":{l},\"name\":")),
        None => text,
    };
    let signed = envelope::sign_bytes(Kind::Manifest, text.as_bytes(), &key).unwrap();
    let record = blake3::hash(&signed).to_hex().to_string();
    (good_tar(&signed, &files), record)
}

#[test]
fn a_manifest_with_an_empty_labels_map_written_out_is_refused_at_add() {
    let (s, _) = setup();
    let (tar, record) = manifest_bundle(&s, Some("{}"));
    fs::write(s.join("b.tar"), tar).unwrap();
    let before = s.snapshot();
    let err = s.fails(1, &["add", "b.tar", "--key", "op.pem"]);
    assert!(err.contains("not canonical"), "{err}");
    assert!(err.contains("manifest"), "{err}");
    assert_eq!(s.snapshot(), before);
    assert!(!s.object_path(&record).exists());

    let (tar, _) = manifest_bundle(&s, None);
    fs::write(s.join("c.tar"), tar).unwrap();
    s.ok(&["add", "c.tar", "--key", "op.pem"]);
    s.ok(&["ledger", "verify"]);
}

/// Copies `from` into `to`, files and directories only.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_format_1_registry_with_old_number_spellings_still_verifies_and_takes_new_writes() {
    use std::os::unix::fs::PermissionsExt as _;
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format1");
    let s = Sandbox::new();
    copy_tree(&fixture.join("registry"), &s.dot());
    fs::create_dir_all(s.dot().join("tmp")).unwrap();
    fs::create_dir_all(s.dot().join("refs/slots")).unwrap();
    for key in ["rep.pem", "rep.pem.pub"] {
        fs::copy(fixture.join(key), s.join(key)).unwrap();
    }
    fs::set_permissions(s.join("rep.pem"), fs::Permissions::from_mode(0o600)).unwrap();
    let ids = s.ledger_ids();
    let store = Store::new(&s.dot());
    let old = store.get(&ids[5].parse().unwrap(), 1 << 20).unwrap();
    let old = String::from_utf8(Unverified::parse(&old).unwrap().payload).unwrap();
    for spelled in [
        "\"threshold\":0.0",
        "\"value\":1.0",
        "\"value\":-0.0",
        "1e+16",
        "1e-6",
    ] {
        assert!(old.contains(spelled), "the fixture holds {spelled}: {old}");
    }

    let out = s.ok(&["ledger", "verify"]);
    assert!(out.contains("6 entries"), "{out}");
    let list: serde_json::Value =
        serde_json::from_str(&s.ok(&["drift", "list", "det@1.0.0", "--json"])).unwrap();
    let metrics = &list[0]["observation"]["metrics"];
    assert_eq!(metrics[0]["value"].as_f64(), Some(1.0), "{list}");
    assert_eq!(metrics[2]["value"].as_f64(), Some(1e16), "{list}");

    // New writes into a format-1 registry are spelled as RFC 8785 says, and verify.
    let obs = r#"{"window":{"start":"2026-10-02T00:00:00Z","end":"2026-10-03T00:00:00Z"},
        "baseline":"blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
        "samples":1000,"metrics":[{"name":"acc","kind":"accuracy","value":1.0}]}"#;
    fs::write(s.join("obs.json"), obs).unwrap();
    s.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "obs.json",
        "--key",
        "rep.pem",
    ]);
    let ids = s.ledger_ids();
    let new = store.get(&ids[6].parse().unwrap(), 1 << 20).unwrap();
    let new = String::from_utf8(Unverified::parse(&new).unwrap().payload).unwrap();
    assert!(new.contains("\"value\":1}"), "{new}");
    let out = s.ok(&["ledger", "verify"]);
    assert!(out.contains("7 entries"), "{out}");
    let config = fs::read_to_string(s.dot().join("config.json")).unwrap();
    assert!(
        config.contains("\"format_version\":1"),
        "the registry keeps its format: {config}"
    );
}
