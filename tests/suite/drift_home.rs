//! Drift coming home (FORMAT.md §11.10, §5.12): a replica records observations as signed reports
//! in its outbox, never in its ledger; `reg drift export OUT` carries them in a report file, and
//! `reg drift import FILE` at home records each in a `drift-import` entry that keeps the
//! reporter's own signature, checked on every replay. Every refusal leaves the home registry
//! byte-for-byte unchanged.
//!
//! Two sites on real registries built by the CLI: home A (its own host trust and state) and
//! replica B, a `cp -a` copy of A's `.registry` in another sandbox, pinned there with
//! `reg trust add --head`.

use crate::craft::load;
use crate::util::{Sandbox, observation};
use reg::crypto::envelope::{self, Kind};
use reg::crypto::keys::SecretKey;
use reg::format::drift_report::{Report, ReportPayload, sort, write_file};
use reg::format::entry::{Body, DriftImport, Entry, Header};
use reg::format::id::ObjectId;
use reg::repo::ledger::Checkpoint;
use reg::repo::store::Store;
use reg::state::State;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Copies `from`'s `.registry` into `to` (as `cp -a` onto a medium and off it).
fn copy_registry(from: &Sandbox, to: &Sandbox) {
    crate::util::cp_a(&from.dot(), to.path());
}

/// Home A (root, operator, publisher, reporter `rep.pem`; models det@1.0.0 promoted and
/// det@2.0.0) and replica B: a copy of A's registry pinned on B's host, holding the reporter
/// key and two observations.
fn sites() -> (Sandbox, Sandbox, String) {
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
    a.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    let b = Sandbox::new();
    copy_registry(&a, &b);
    let code = a.ok(&["status", "--code"]).trim().to_string();
    b.ok(&["trust", "add", &root, "--head", &code]);
    fs::copy(a.join("rep.pem"), b.join("rep.pem")).unwrap();
    for (i, (end, psi)) in [
        ("2026-10-08T00:00:00Z", 0.05),
        ("2026-10-15T00:00:00Z", 0.25),
    ]
    .iter()
    .enumerate()
    {
        fs::write(
            b.join(&format!("o{i}.json")),
            observation(["2026-10-01T00:00:00Z", end], 1000, "psi-main", *psi).to_string(),
        )
        .unwrap();
    }
    (a, b, root)
}

/// B's registry without its outbox: what `drift record --outbox` must leave alone.
fn without_outbox(b: &Sandbox) -> BTreeMap<PathBuf, Vec<u8>> {
    b.snapshot()
        .into_iter()
        .filter(|(p, _)| !p.starts_with("outbox"))
        .collect()
}

/// Records `o0.json` and `o1.json` at B into its outbox, then exports them to `name`; returns
/// the file's path at A (copied there, as on a medium).
fn two_reports(a: &Sandbox, b: &Sandbox, name: &str) -> PathBuf {
    for (i, model) in ["det@1.0.0", "det@2.0.0"].iter().enumerate() {
        let out = b.ok(&[
            "drift",
            "record",
            model,
            &format!("o{i}.json"),
            "--key",
            "rep.pem",
            "--outbox",
        ]);
        assert!(out.contains("to the outbox"), "{out}");
    }
    let out = b.ok(&["drift", "export", name]);
    assert!(out.contains("wrote 2 drift report(s)"), "{out}");
    fs::copy(b.join(name), a.join(name)).unwrap();
    a.join(name)
}

/// `reg drift import FILE` at A fails with exit 1 saying `needle`, and A is unchanged.
fn import_refused(a: &Sandbox, file: &str, key: &str, needle: &str) {
    a.refused(1, &["drift", "import", file, "--key", key], needle);
}

#[test]
fn observations_made_at_a_replica_come_home_with_their_reporters_signature() {
    let (a, b, _) = sites();
    let (ledger_b, checkpoint_b) = (
        fs::read(b.dot().join("ledger")).unwrap(),
        fs::read(b.dot().join("checkpoint")).unwrap(),
    );
    let before_b = without_outbox(&b);
    two_reports(&a, &b, "drift.regd");
    // The replica's ledger, checkpoint, index and refs are untouched: it is still a prefix.
    assert_eq!(before_b, without_outbox(&b));
    assert_eq!(ledger_b, fs::read(b.dot().join("ledger")).unwrap());
    assert_eq!(checkpoint_b, fs::read(b.dot().join("checkpoint")).unwrap());
    assert_eq!(fs::read_dir(b.dot().join("outbox")).unwrap().count(), 2);
    assert!(b.ok(&["fsck"]).starts_with("PASS"));

    let seq_before = a.ledger_ids().len();
    let out = a.ok(&["drift", "import", "drift.regd", "--key", "op.pem"]);
    assert!(out.contains("recorded 2 drift report(s)"), "{out}");
    assert_eq!(a.ledger_ids().len(), seq_before + 2);
    let rep = a
        .ok(&["key", "fingerprint", "rep.pem.pub"])
        .trim()
        .to_string();
    let op = a
        .ok(&["key", "fingerprint", "op.pem.pub"])
        .trim()
        .to_string();
    for (model, psi) in [("det@1.0.0", 0.05), ("det@2.0.0", 0.25)] {
        let list: serde_json::Value =
            serde_json::from_str(&a.ok(&["drift", "list", model, "--json"])).unwrap();
        crate::ingest::validate("drift-list.schema.json", &list);
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1, "{model}");
        assert_eq!(list[0]["reporter"], rep.as_str());
        assert_eq!(list[0]["recorded_by"], op.as_str());
        assert_eq!(list[0]["observation"]["metrics"][0]["value"], psi);
        let text = a.ok(&["drift", "list", model]);
        assert!(text.contains(&format!("by {rep}")), "{text}");
        assert!(text.contains(&format!("recorded by {op}")), "{text}");
    }
    let show: serde_json::Value =
        serde_json::from_str(&a.ok(&["show", "det@2.0.0", "--json"])).unwrap();
    crate::ingest::validate("model-record.schema.json", &show);
    assert_eq!(show["drift"]["count"], 1);
    assert_eq!(show["drift"]["latest"]["metrics"][0]["value"], 0.25);
    let log = a.ok(&["log"]);
    assert!(log.contains(&format!("by reporter {rep}")), "{log}");
    a.ok(&["ledger", "verify"]);
    assert!(a.ok(&["fsck"]).starts_with("PASS"));

    // The same file again: every report is already recorded, nothing to do (exit 0), as an
    // import of a transfer this site has.
    let before = a.snapshot();
    let out = a.ok(&["drift", "import", "drift.regd", "--key", "op.pem"]);
    assert!(
        out.contains("already up to date: the 2 report(s) of drift.regd are recorded"),
        "{out}"
    );
    assert_eq!(before, a.snapshot(), "nothing to do writes nothing");
    // A third report waits in the replica's outbox.
    b.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "o1.json",
        "--key",
        "rep.pem",
        "--outbox",
    ]);

    // Once the replica has the home's history (here a fresh copy, its outbox moved across),
    // reports recorded at home are not exported again; --all still sends them.
    let outbox = b.join("outbox-saved");
    fs::rename(b.dot().join("outbox"), &outbox).unwrap();
    fs::remove_dir_all(b.dot()).unwrap();
    copy_registry(&a, &b);
    fs::rename(&outbox, b.dot().join("outbox")).unwrap();
    let out = b.ok(&["drift", "export", "rest.regd"]);
    assert!(out.contains("wrote 1 drift report(s)"), "{out}");
    assert!(
        out.contains("2 already recorded in this ledger left out"),
        "{out}"
    );
    let out = b.ok(&["drift", "export", "all.regd", "--all"]);
    assert!(out.contains("wrote 3 drift report(s)"), "{out}");
    let out = b.ok(&[
        "drift",
        "export",
        "none.regd",
        "--since",
        "2030-01-01T00:00:00Z",
    ]);
    assert!(out.contains("nothing to export"), "{out}");
    assert!(!b.join("none.regd").exists(), "no empty file is written");
    let err = b.fails(2, &["drift", "export", "rest.regd"]);
    assert!(err.contains("already exists"), "{err}");
    // A file of reports recorded and not: the new one is recorded, the others left out.
    fs::copy(b.join("all.regd"), a.join("all.regd")).unwrap();
    let out = a.ok(&["drift", "import", "all.regd", "--key", "op.pem"]);
    assert!(
        out.contains("recorded 1 drift report(s); 2 already recorded in this ledger left out"),
        "{out}"
    );
    // The report not yet recorded went home with it: its own file is now nothing to do.
    fs::copy(b.join("rest.regd"), a.join("rest.regd")).unwrap();
    let out = a.ok(&["drift", "import", "rest.regd", "--key", "op.pem"]);
    assert!(out.contains("already up to date: the 1 report(s)"), "{out}");
    assert!(a.ok(&["fsck"]).starts_with("PASS"));
}

#[test]
fn drift_record_without_outbox_still_writes_the_ledger() {
    let (_, b, _) = sites();
    let n = b.ledger_ids().len();
    let out = b.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "o0.json",
        "--key",
        "rep.pem",
    ]);
    assert!(
        out.contains("recorded drift observation 1 of det@1.0.0"),
        "{out}"
    );
    assert_eq!(b.ledger_ids().len(), n + 1);
    assert!(!b.dot().join("outbox").exists());
}

#[test]
fn the_outbox_refuses_what_home_would_refuse_and_leaves_the_registry_alone() {
    let (a, b, _) = sites();
    fs::copy(a.join("op.pem"), b.join("op.pem")).unwrap();
    b.key("stranger.pem");
    let before = b.snapshot();
    let cases: [(&[&str], &str); 2] = [
        (
            &[
                "drift",
                "record",
                "det@1.0.0",
                "o0.json",
                "--key",
                "stranger.pem",
                "--outbox",
            ],
            "which this registry does not trust",
        ),
        (
            &[
                "drift",
                "record",
                "det@1.0.0",
                "o0.json",
                "--key",
                "op.pem",
                "--outbox",
            ],
            "does not hold the reporter role",
        ),
    ];
    for (args, needle) in cases {
        let out = b.reg().args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "expected `{needle}` in: {err}");
        assert_eq!(before, b.snapshot(), "{args:?}");
    }
    let err = b.fails(
        2,
        &[
            "drift",
            "record",
            "nope@1.0.0",
            "o0.json",
            "--key",
            "rep.pem",
            "--outbox",
        ],
    );
    assert!(err.contains("nope@1.0.0"), "{err}");
    assert_eq!(before, b.snapshot());
    // A link planted in place of the outbox is never written through.
    let elsewhere = b.join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, b.dot().join("outbox")).unwrap();
    let err = b.fails(
        1,
        &[
            "drift",
            "record",
            "det@1.0.0",
            "o0.json",
            "--key",
            "rep.pem",
            "--outbox",
        ],
    );
    assert!(err.contains("a symbolic link"), "{err}");
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    fs::remove_file(b.dot().join("outbox")).unwrap();
    // An outbox file altered after it was written is refused by the export, naming it.
    b.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "o0.json",
        "--key",
        "rep.pem",
        "--outbox",
    ]);
    let file = fs::read_dir(b.dot().join("outbox"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    crate::util::make_writable(&file);
    let mut bytes = fs::read(&file).unwrap();
    bytes[10] ^= 1;
    fs::write(&file, bytes).unwrap();
    let err = b.fails(1, &["drift", "export", "x.regd"]);
    assert!(err.contains("do not hash to its name"), "{err}");
    assert!(!b.join("x.regd").exists());
}

/// A report of `payload`'s content signed by `key`.
fn report(key: &SecretKey, payload: &ReportPayload) -> Report {
    Report::parse(&envelope::sign(Kind::DriftReport, payload, key).unwrap()).unwrap()
}

/// A genuine report payload for det@1.0.0 at A.
fn payload(a: &Sandbox, key: &SecretKey) -> ReportPayload {
    let state = current_state(a);
    let (model, _) = state.find("det", "1.0.0").unwrap();
    let serde_json::Value::Object(observation) = observation(
        ["2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z"],
        1000,
        "psi-main",
        0.5,
    ) else {
        unreachable!()
    };
    ReportPayload {
        model: *model,
        observation,
        registry: state.registry(),
        reporter: key.public().fingerprint().clone(),
        seq: state.seq(),
        time: "2026-01-01T00:00:00Z".into(),
    }
}

fn write_reports(s: &Sandbox, name: &str, registry: &ObjectId, mut reports: Vec<Report>) {
    sort(&mut reports);
    fs::write(s.join(name), write_file(registry, &reports).unwrap()).unwrap();
}

fn current_state(s: &Sandbox) -> State {
    let mut state: State = crate::util::read_index(&s.dot());
    state.index_names();
    state
}

#[test]
fn home_refuses_reports_it_cannot_vouch_for_and_stays_unchanged() {
    let (a, b, _) = sites();
    let rep = load(&a, "rep.pem");
    let registry = current_state(&a).registry();
    // An untrusted reporter key.
    a.key("stranger.pem");
    let stranger = load(&a, "stranger.pem");
    write_reports(
        &a,
        "stranger.regd",
        &registry,
        vec![report(&stranger, &payload(&a, &stranger))],
    );
    import_refused(
        &a,
        "stranger.regd",
        "op.pem",
        "which this registry does not trust",
    );
    // A key trusted, but not as reporter.
    let op = load(&a, "op.pem");
    write_reports(
        &a,
        "op.regd",
        &registry,
        vec![report(&op, &payload(&a, &op))],
    );
    import_refused(&a, "op.regd", "op.pem", "does not hold the reporter role");
    // An unknown model.
    let mut p = payload(&a, &rep);
    p.model = ObjectId::of(b"no such model");
    write_reports(&a, "model.regd", &registry, vec![report(&rep, &p)]);
    import_refused(&a, "model.regd", "op.pem", "report 1 of the file");
    // Another registry's reports (file and reports name it).
    let mut p = payload(&a, &rep);
    p.registry = ObjectId::of(b"another registry");
    let other = p.registry;
    write_reports(&a, "other.regd", &other, vec![report(&rep, &p)]);
    import_refused(&a, "other.regd", "op.pem", "not of this registry");
    // A report made at a ledger longer than home's: not a replica of this history.
    let mut p = payload(&a, &rep);
    p.seq += 5;
    write_reports(&a, "ahead.regd", &registry, vec![report(&rep, &p)]);
    import_refused(&a, "ahead.regd", "op.pem", "not a replica of this history");
    // A tampered observation: the payload changed under the reporter's signature.
    let genuine = report(&rep, &payload(&a, &rep));
    let mut env = genuine.to_envelope().unwrap();
    let mut changed = payload(&a, &rep);
    changed.observation["samples"] = serde_json::json!(1);
    env.payload =
        reg::util::encoding::b64_encode(&reg::util::encoding::to_canonical_vec(&changed).unwrap());
    let tampered = Report::parse(&env.to_canonical()).unwrap();
    write_reports(&a, "tampered.regd", &registry, vec![tampered]);
    import_refused(
        &a,
        "tampered.regd",
        "op.pem",
        "the reporter's signature does not verify",
    );
    // A good report imported with the reporter's key: only an operator records at home.
    write_reports(&a, "good.regd", &registry, vec![genuine]);
    import_refused(
        &a,
        "good.regd",
        "rep.pem",
        "does not hold the operator role",
    );

    // A genuine file from the replica, cut short, or padded past the limit.
    let file = two_reports(&a, &b, "drift.regd");
    let bytes = fs::read(&file).unwrap();
    fs::write(a.join("cut.regd"), &bytes[..bytes.len() - 100]).unwrap();
    import_refused(&a, "cut.regd", "op.pem", "truncated");
    let mut cut_at_line = bytes.clone();
    let second = bytes.iter().rposition(|&c| c == b'\n').unwrap();
    let last_start = bytes[..second].iter().rposition(|&c| c == b'\n').unwrap() + 1;
    cut_at_line.truncate(last_start);
    fs::write(a.join("line.regd"), &cut_at_line).unwrap();
    import_refused(&a, "line.regd", "op.pem", "the file ends after 1");
    let mut extra = bytes.clone();
    extra.extend_from_slice(b"junk");
    fs::write(a.join("extra.regd"), &extra).unwrap();
    import_refused(&a, "extra.regd", "op.pem", "bytes after the 2 reports");
    let big = fs::File::create(a.join("big.regd")).unwrap();
    big.set_len(reg::format::drift_report::MAX_REPORT_FILE + 1)
        .unwrap();
    let err = a.fails(2, &["drift", "import", "big.regd", "--key", "op.pem"]);
    assert!(err.contains("larger than the"), "{err}");
    fs::write(a.join("junk.regd"), b"{\"not\":\"a report file\"}\n").unwrap();
    import_refused(&a, "junk.regd", "op.pem", "not a drift report file");
    // A model revoked at home after the replica observed it: no drift is recorded for it.
    a.ok(&[
        "revoke",
        "det@2.0.0",
        "--reason",
        "withdrawn",
        "--key",
        "op.pem",
    ]);
    import_refused(&a, "drift.regd", "op.pem", "det@2.0.0 is REVOKED");
    // A reporter revoked at home after the replica recorded: refused, unknown at the head.
    let fp = a
        .ok(&["key", "fingerprint", "rep.pem.pub"])
        .trim()
        .to_string();
    a.ok(&[
        "key",
        "revoke",
        &fp,
        "--key",
        "root.pem",
        "--reason",
        "laptop lost",
    ]);
    import_refused(&a, "drift.regd", "op.pem", "after its revocation");
    assert!(a.ok(&["fsck"]).starts_with("PASS"));
}

/// Signs `body` as the next entry after `state` by `key`, stores it and appends it to the
/// ledger file; returns its id (the state is the caller's to forge).
fn append_unchecked(dot: &Path, state: &State, key: &SecretKey, body: Body) -> ObjectId {
    let entry = Entry {
        header: Header {
            actor: key.public().fingerprint().clone(),
            prev: Some(state.head()),
            registry: Some(state.registry()),
            seq: state.seq() + 1,
            time: "2026-01-02T00:00:00Z".into(),
        },
        body,
    };
    let bytes = envelope::sign_bytes(entry.body.kind(), &entry.to_payload().unwrap(), key).unwrap();
    let id = Store::new(dot).put_bytes(&bytes).unwrap();
    let mut ledger = fs::read(dot.join("ledger")).unwrap();
    ledger.extend_from_slice(format!("{id}\n").as_bytes());
    fs::write(dot.join("ledger"), ledger).unwrap();
    id
}

#[test]
fn fsck_refuses_an_embedded_report_whose_signature_is_forged() {
    let (a, _, _) = sites();
    let rep = load(&a, "rep.pem");
    let op = load(&a, "op.pem");
    // The operator embeds an observation the reporter never signed: a genuine report's
    // envelope with another payload, in an entry the operator signs, with a checkpoint the
    // operator signs over the state that entry would give.
    let genuine = report(&rep, &payload(&a, &rep));
    let mut env = genuine.to_envelope().unwrap();
    let mut forged = payload(&a, &rep);
    forged.observation["metrics"][0]["value"] = serde_json::json!(0.0);
    env.payload =
        reg::util::encoding::b64_encode(&reg::util::encoding::to_canonical_vec(&forged).unwrap());
    let state = current_state(&a);
    let model = forged.model;
    let report_id = ObjectId::of(&env.to_canonical());
    let id = append_unchecked(
        &a.dot(),
        &state,
        &op,
        Body::DriftImport(DriftImport {
            model,
            previous: None,
            report: env,
        }),
    );
    let state = crate::util::forge_state(&state, |v| {
        v["head"] = serde_json::json!(id.to_string());
        v["seq"] = serde_json::json!(state.seq() + 1);
        v["models"][model.to_string()]["drift"] = serde_json::json!({
            "count": 1, "last": id.to_string(), "reports": [report_id.to_string()]
        });
    });
    let cp = Checkpoint {
        head: state.head(),
        registry: state.registry(),
        seq: state.seq(),
        state: state.hash(),
        time: "2026-01-02T00:00:00Z".into(),
    };
    fs::write(
        a.dot().join("checkpoint"),
        envelope::sign(Kind::Checkpoint, &cp, &op).unwrap(),
    )
    .unwrap();
    crate::util::write_index(&a.dot(), &state);

    let before = a.snapshot();
    let err = a.fails(1, &["ledger", "verify"]);
    assert!(err.contains(&format!("drift report {report_id}")), "{err}");
    assert!(
        err.contains("the reporter's signature does not verify"),
        "{err}"
    );
    let out = a.reg().args(["fsck", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "fsck must FAIL");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["code"] == "ledger-invalid"
            && f["message"]
                .as_str()
                .unwrap()
                .contains("the reporter's signature does not verify")),
        "fsck: {findings:?}"
    );
    let err = a.fails(1, &["drift", "list", "det@1.0.0"]);
    assert!(err.contains("signature does not verify"), "{err}");
    assert_eq!(before, a.snapshot());
}

#[test]
fn fsck_checks_the_outbox_as_drift_export_does_and_names_a_fifo_not_regular() {
    let (a, b, _) = sites();
    b.ok(&[
        "drift",
        "record",
        "det@1.0.0",
        "o0.json",
        "--key",
        "rep.pem",
        "--outbox",
    ]);
    assert_eq!(crate::fsck::fsck_json(&b, &[]).0, 0);
    let outbox = b.dot().join("outbox");
    let rep = load(&a, "rep.pem");
    // Each named by the BLAKE3 of its bytes: a file that is not a drift report, a JSON
    // document that is not one either, and a genuine report signed by this registry's
    // reporter for another registry.
    let mut other = payload(&a, &rep);
    other.registry = ObjectId::of(b"another registry");
    let foreign = report(&rep, &other).bytes;
    for (bytes, why, export_says) in [
        (
            b"model weights".to_vec(),
            "not a drift report: ",
            "not a drift report: ",
        ),
        (
            br#"{"payload":"","payloadType":"x","signatures":[]}"#.to_vec(),
            "not a drift report: ",
            "not a drift report: ",
        ),
        (
            foreign,
            &*format!(
                "a report of registry {}, not of this registry",
                other.registry
            ),
            "not of this registry",
        ),
    ] {
        let path = outbox.join(ObjectId::of(&bytes).to_string());
        fs::write(&path, &bytes).unwrap();
        let before = b.snapshot();
        let (code, report) = crate::fsck::fsck_json(&b, &[]);
        assert_eq!(code, 1, "{report:#}");
        let found = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path.to_str().unwrap())
            .unwrap_or_else(|| panic!("no finding for {}: {report:#}", path.display()));
        assert_eq!(found["code"], "outbox-invalid", "{report:#}");
        assert_eq!(found["severity"], "error");
        let message = found["message"].as_str().unwrap();
        assert!(
            message.starts_with("a file in the outbox that `reg drift export` refuses: ")
                && message.contains(why)
                && message.ends_with("; remove it"),
            "{message}"
        );
        // drift export refuses the same file, for the same reason.
        let err = b.fails(1, &["drift", "export", "x.regd"]);
        assert!(err.contains(&format!("`{}`: ", path.display())), "{err}");
        assert!(err.contains(export_says), "{err}");
        assert_eq!(before, b.snapshot(), "fsck and export changed nothing");
        fs::remove_file(&path).unwrap();
    }
    assert_eq!(crate::fsck::fsck_json(&b, &[]).0, 0);
    // A FIFO, named by an id or not: `not-regular` as the format says, not `unknown-entry`,
    // and fsck does not wait on it.
    for name in [ObjectId::of(b"fifo").to_string(), "fifo".to_string()] {
        let path = outbox.join(&name);
        let ok = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let (code, report) = crate::fsck::fsck_json(&b, &[]);
        assert_eq!(code, 1, "{report:#}");
        let codes: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"] == path.to_str().unwrap())
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["not-regular"], "{name}: {report:#}");
        fs::remove_file(&path).unwrap();
    }
}

/// A replica that already knows a model is REVOKED writes no report of it to its outbox: the
/// home ledger's rule for a report's model (registered, not REVOKED) is checked before signing,
/// and nothing is written.
#[test]
fn the_outbox_refuses_a_report_of_a_model_the_replica_knows_is_revoked() {
    let (a, b, root) = sites();
    a.ok(&[
        "revoke",
        "det@2.0.0",
        "--reason",
        "withdrawn",
        "--key",
        "op.pem",
    ]);
    let c = Sandbox::new();
    copy_registry(&a, &c);
    let code = a.ok(&["status", "--code"]).trim().to_string();
    c.ok(&["trust", "add", &root, "--head", &code]);
    fs::copy(a.join("rep.pem"), c.join("rep.pem")).unwrap();
    fs::copy(b.join("o0.json"), c.join("o0.json")).unwrap();
    let before = c.snapshot();
    let err = c.fails(
        1,
        &[
            "drift",
            "record",
            "det@2.0.0",
            "o0.json",
            "--key",
            "rep.pem",
            "--outbox",
        ],
    );
    assert!(err.contains("det@2.0.0 is REVOKED"), "{err}");
    assert_eq!(before, c.snapshot());
}

/// The same report recorded twice (same observation, same time, so the same bytes and name)
/// is refused the second time, naming it; the outbox keeps the one file.
#[test]
fn the_same_report_recorded_twice_to_the_outbox_is_refused_the_second_time() {
    let (_, b, _) = sites();
    let args = [
        "drift",
        "record",
        "det@1.0.0",
        "o0.json",
        "--key",
        "rep.pem",
        "--outbox",
    ];
    b.ok(&args);
    let outbox: Vec<_> = fs::read_dir(b.dot().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(outbox.len(), 1);
    let before = b.snapshot();
    let err = b.fails(1, &args);
    assert!(
        err.contains(&format!(
            "drift report {} is already in the outbox",
            outbox[0]
        )),
        "{err}"
    );
    assert_eq!(before, b.snapshot());
}

/// `reg drift export OUT` refuses an existing OUT before any work, even with nothing to export
/// (an empty outbox), and leaves what is there alone.
#[test]
fn drift_export_refuses_an_existing_file_even_with_nothing_to_export() {
    let (_, b, _) = sites();
    fs::write(b.join("out.regd"), b"theirs").unwrap();
    let before = b.snapshot();
    let err = b.fails(2, &["drift", "export", "out.regd"]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(fs::read(b.join("out.regd")).unwrap(), b"theirs");
    assert_eq!(before, b.snapshot());
}
