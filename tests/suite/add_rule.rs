//! The record rule of an `add` entry (FORMAT.md §5.6) and the identity of a record (§7.1).
//!
//! Each forged case is what whoever holds the medium and an operator key (but no publisher key)
//! can write: an `add` entry signed by the operator, naming a record and the hash of a file of
//! their choice, a `transition` promoting it, and a checkpoint over the resulting state, all
//! signed with the real operator key. Before the rule was part of replay, `reg ledger verify`
//! passed such a ledger and `reg check` said ALLOW for the smuggled file.

use crate::craft::{File, file, good_tar, load, manifest_for, sign};
use crate::util::Sandbox;
use reg::crypto::envelope::{self, Kind, pae};
use reg::crypto::keys::SecretKey;
use reg::format::entry::{Add, Body, Entry, Header, Transition};
use reg::format::id::ObjectId;
use reg::format::lifecycle::LifecycleState;
use reg::repo::ledger::{Checkpoint, read_ids};
use reg::repo::store::Store;
use reg::state::State;
use reg::util::encoding::b64_encode;
use std::fs;

/// The file the attacker wants a host's gate to ALLOW.
const EVIL: &[u8] = b"\x80\x04 a pickle that runs code when loaded";

/// A registry with root, operator (`op.pem`) and publisher (`pub.pem`) keys, and `evil.bin`
/// (not registered) next to it.
fn registry() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    fs::write(s.join("evil.bin"), EVIL).unwrap();
    s
}

/// Signs `body` as the next entry after `state`, by `key`, stores it, applies it to `state`
/// (the library's own rules, as today's writers apply them) and appends it to the ledger file.
fn append(s: &Sandbox, state: &mut State, key: &SecretKey, body: Body) -> ObjectId {
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
    let id = Store::new(&s.dot()).put_bytes(&bytes).unwrap();
    state.apply(id, &entry).unwrap();
    let mut ledger = fs::read(s.dot().join("ledger")).unwrap();
    ledger.extend_from_slice(format!("{id}\n").as_bytes());
    fs::write(s.dot().join("ledger"), ledger).unwrap();
    id
}

/// The verified state the registry's index holds (the sandbox's last write made it).
fn current_state(s: &Sandbox) -> State {
    let mut state: State = crate::util::read_index(&s.dot());
    state.index_names();
    state
}

/// Writes an operator-signed `add` of `add` (its `record` stored beforehand by the caller, or
/// not at all) and a `transition` promoting it, with a checkpoint the operator signs over the
/// state the library computes: a ledger whose only flaw is the record. Returns the add's seq
/// and id.
fn smuggle(s: &Sandbox, mut add: Add) -> (u64, ObjectId) {
    let op = load(s, "op.pem");
    // Format 4 names the publisher: the attacker names the registry's own, whoever signed.
    add.publisher
        .get_or_insert_with(|| load(s, "pub.pem").public().fingerprint().clone());
    let mut state = current_state(s);
    let record = add.record;
    // The attacker plants the bytes too, so nothing but the record rule stands in the way.
    for a in &add.artifacts {
        if *a == ObjectId::of(EVIL) {
            Store::new(&s.dot()).put_bytes(EVIL).unwrap();
        }
    }
    let add_id = append(s, &mut state, &op, Body::Add(add));
    let seq = state.seq();
    append(
        s,
        &mut state,
        &op,
        Body::Transition(Transition {
            deny: false,
            from: LifecycleState::Registered,
            model: record,
            previous: add_id,
            reason: "looks fine".into(),
            slots: vec![],
            to: LifecycleState::Promoted,
        }),
    );
    let cp = Checkpoint {
        head: state.head(),
        registry: state.registry(),
        seq: state.seq(),
        state: state.hash(),
        time: "2026-01-02T00:00:00Z".into(),
    };
    fs::write(
        s.dot().join("checkpoint"),
        envelope::sign(Kind::Checkpoint, &cp, &op).unwrap(),
    )
    .unwrap();
    crate::util::write_index(&s.dot(), &state);
    let (ids, _) = read_ids(&s.dot().join("ledger")).unwrap();
    assert_eq!(ids[seq as usize], add_id);
    (seq, add_id)
}

/// `ledger verify`, fsck and the gate all refuse the smuggled entry, naming it and saying
/// `detail`; none of them changes the registry, and the gate never ALLOWs `evil.bin`.
fn refused(s: &Sandbox, seq: u64, id: &ObjectId, detail: &str) {
    let before = s.snapshot();
    let err = s.fails(1, &["ledger", "verify"]);
    let named = format!("ledger entry {seq} ({id}): its record ");
    assert!(err.contains(&named), "expected `{named}` in: {err}");
    assert!(err.contains("does not admit this add"), "{err}");
    assert!(err.contains(detail), "expected `{detail}` in: {err}");

    let out = s.reg().args(["fsck", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "fsck must FAIL");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::ingest::validate("fsck-report.schema.json", &report);
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["code"] == "ledger-invalid"
            && f["message"].as_str().unwrap().contains(&named)
            && f["message"].as_str().unwrap().contains(detail)),
        "fsck: {findings:?}"
    );

    let out = s.reg().args(["check", "evil.bin"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && !stdout.contains("ALLOW"),
        "the gate let the smuggled file through: {stdout}"
    );
    assert_eq!(before, s.snapshot(), "a refusal changed the registry");
}

/// An `add` of EVIL for `record`, named `smuggled@1.0.0`.
fn evil_add(record: ObjectId) -> Add {
    Add {
        artifacts: vec![ObjectId::of(EVIL)],
        bundle: ObjectId::of(EVIL),
        encrypted: false,
        publisher: None,
        name: "smuggled".into(),
        record,
        version: "1.0.0".into(),
    }
}

/// Stores a record signed by `key` over `files`, as `name@version`; returns its id.
fn record(s: &Sandbox, files: &[File], name: &str, key: &SecretKey) -> ObjectId {
    let signed = sign(&manifest_for(files, name, "1.0.0", key), key);
    Store::new(&s.dot()).put_bytes(&signed).unwrap()
}

#[test]
fn an_operator_only_add_of_a_random_record_id_is_refused() {
    let s = registry();
    let record = ObjectId::of(b"no such record");
    let (seq, id) = smuggle(&s, evil_add(record));
    refused(&s, seq, &id, &format!("object {record} is missing"));
}

#[test]
fn a_record_signed_by_the_operator_key_is_refused() {
    let s = registry();
    let op = load(&s, "op.pem");
    let record = record(&s, &[file("evil.bin", EVIL)], "smuggled", &op);
    let (seq, id) = smuggle(&s, evil_add(record));
    refused(
        &s,
        seq,
        &id,
        &format!(
            "it is signed by key {}, which is trusted as operator but not as publisher",
            op.public().fingerprint()
        ),
    );
}

#[test]
fn a_record_signed_by_an_unknown_key_is_refused() {
    let s = registry();
    let stranger = SecretKey::from_seed(&[5u8; 32]).unwrap();
    let record = record(&s, &[file("evil.bin", EVIL)], "smuggled", &stranger);
    let (seq, id) = smuggle(&s, evil_add(record));
    refused(
        &s,
        seq,
        &id,
        &format!(
            "it is signed by key {}, which this registry does not trust",
            stranger.public().fingerprint()
        ),
    );
}

#[test]
fn a_record_by_a_revoked_publisher_is_refused() {
    let s = registry();
    let fp = s.key("pub2.pem");
    s.trust("pub2.pem.pub", "publisher", "second team");
    s.ok(&[
        "key",
        "revoke",
        &fp,
        "--key",
        "root.pem",
        "--reason",
        "key leaked",
    ]);
    let revoked_at = s.ledger_ids().len() - 1;
    let pub2 = load(&s, "pub2.pem");
    let record = record(&s, &[file("evil.bin", EVIL)], "smuggled", &pub2);
    let (seq, id) = smuggle(&s, evil_add(record));
    refused(
        &s,
        seq,
        &id,
        &format!("it is signed by publisher key {fp}, revoked at entry {revoked_at}"),
    );
}

#[test]
fn an_add_whose_artifacts_differ_from_its_records_is_refused() {
    let s = registry();
    let publisher = load(&s, "pub.pem");
    // A genuine record of an innocent file, signed by the publisher; the entry lists EVIL.
    let record = record(
        &s,
        &[file("model.bin", b"innocent weights")],
        "smuggled",
        &publisher,
    );
    let (seq, id) = smuggle(&s, evil_add(record));
    refused(
        &s,
        seq,
        &id,
        "the entry lists 1 artifact(s) that are not exactly the record's 1",
    );
}

#[test]
fn an_add_whose_artifacts_add_one_to_its_records_is_refused() {
    let s = registry();
    let publisher = load(&s, "pub.pem");
    let innocent = b"innocent weights";
    let record = record(&s, &[file("model.bin", innocent)], "smuggled", &publisher);
    let mut add = evil_add(record);
    add.artifacts.push(ObjectId::of(innocent));
    add.artifacts.sort();
    Store::new(&s.dot()).put_bytes(innocent).unwrap();
    let (seq, id) = smuggle(&s, add);
    refused(
        &s,
        seq,
        &id,
        "the entry lists 2 artifact(s) that are not exactly the record's 1",
    );
}

#[test]
fn an_add_whose_name_or_version_differ_from_its_records_is_refused() {
    for (name, version) in [("other", "1.0.0"), ("smuggled", "2.0.0")] {
        let s = registry();
        let publisher = load(&s, "pub.pem");
        let record = record(&s, &[file("evil.bin", EVIL)], "smuggled", &publisher);
        let mut add = evil_add(record);
        add.name = name.into();
        add.version = version.into();
        let (seq, id) = smuggle(&s, add);
        refused(
            &s,
            seq,
            &id,
            &format!("the entry says {name}@{version}, the record says smuggled@1.0.0"),
        );
    }
}

#[test]
fn an_add_whose_record_is_an_entry_not_a_manifest_is_refused() {
    let s = registry();
    // A validly signed object of the wrong kind: the genesis entry.
    let genesis: ObjectId = s.ledger_ids()[0].parse().unwrap();
    let (seq, id) = smuggle(&s, evil_add(genesis));
    refused(&s, seq, &id, "manifest");
}

#[test]
fn an_honest_registry_and_a_purged_model_still_verify_in_full() {
    let s = registry();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }".into())],
    );
    s.ok(&[
        "revoke",
        "det@1.0.0",
        "--key",
        "op.pem",
        "--reason",
        "false positives",
    ]);
    s.ok(&[
        "purge",
        "det@1.0.0",
        "--key",
        "op.pem",
        "--reason",
        "disk space",
    ]);
    // A fresh host (its own state directory) replays the whole ledger: the purged model's add
    // still finds its record.
    let out = s
        .reg()
        .env("REG_STATE_DIR", s.join("fresh-state"))
        .args(["ledger", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.ok(&["fsck"]);
}

/// A second, valid signature of `message` by the key with `seed`, made with `nonce` instead of
/// RFC 8032's deterministic one (the RFC's reference algorithm, in Python): what a publisher
/// who signs the same manifest again can produce. Verification cannot tell the two apart.
fn sign_with_nonce(seed: &[u8; 32], message: &[u8], nonce: &[u8]) -> [u8; 64] {
    const SCRIPT: &str = r#"
import hashlib, sys
p = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
d = -121665 * pow(121666, p - 2, p) % p
def H(b): return hashlib.sha512(b).digest()
def add(P, Q):
    A = (P[1] - P[0]) * (Q[1] - Q[0]) % p; B = (P[1] + P[0]) * (Q[1] + Q[0]) % p
    C = 2 * P[3] * Q[3] * d % p; D = 2 * P[2] * Q[2] % p
    E, F, G, K = B - A, D - C, D + C, B + A
    return (E * F % p, G * K % p, F * G % p, E * K % p)
def mul(s, P):
    Q = (0, 1, 1, 0)
    while s > 0:
        if s & 1: Q = add(Q, P)
        P = add(P, P); s >>= 1
    return Q
def enc(P):
    zi = pow(P[2], p - 2, p); x = P[0] * zi % p; y = P[1] * zi % p
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")
gy = 4 * pow(5, p - 2, p) % p
x2 = (gy * gy - 1) * pow(d * gy * gy + 1, p - 2, p) % p
gx = pow(x2, (p + 3) // 8, p)
if (gx * gx - x2) % p: gx = gx * pow(2, (p - 1) // 4, p) % p
if gx & 1: gx = p - gx
G = (gx, gy, 1, gx * gy % p)
seed, msg, nonce = (bytes.fromhex(a) for a in sys.argv[1:4])
h = H(seed); a = int.from_bytes(h[:32], "little"); a &= (1 << 254) - 8; a |= 1 << 254
A = enc(mul(a, G))
r = int.from_bytes(H(nonce + msg), "little") % L
R = enc(mul(r, G))
k = int.from_bytes(H(R + A + msg), "little") % L
print((R + int.to_bytes((r + k * a) % L, 32, "little")).hex())
"#;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let out = std::process::Command::new(crate::util::tool("python3", "python3"))
        .arg("-c")
        .arg(SCRIPT)
        .args([hex(seed), hex(message), hex(nonce)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let bytes: Vec<u8> = (0..128)
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

/// A registry whose publisher key has a known seed, holding `victim@1.0.0` added from
/// `good.tar`; returns the sandbox, the files, the signed record and a second envelope of the
/// same manifest with another valid signature (its own record id).
fn resigned_case() -> (Sandbox, Vec<File>, Vec<u8>, Vec<u8>) {
    let s = Sandbox::new();
    s.init_with_roles();
    let seed = [9u8; 32];
    let publisher = SecretKey::from_seed(&seed).unwrap();
    fs::write(s.join("pub9.pem.pub"), publisher.public().to_pem()).unwrap();
    s.trust("pub9.pem.pub", "publisher", "seeded team key");
    let files = vec![
        file("model.bin", &[3u8; 5000]),
        file("labels.txt", b"a\nb\n"),
    ];
    let m = manifest_for(&files, "victim", "1.0.0", &publisher);
    let first = sign(&m, &publisher);
    // The same payload, signed again with another nonce.
    let env = reg::crypto::envelope::Unverified::parse(&first).unwrap();
    let message = pae(&Kind::Manifest.payload_type(), &env.payload);
    let sig = sign_with_nonce(&seed, &message, b"another nonce");
    publisher.public().verify(&message, &sig).unwrap();
    let old_sig = b64_encode(&env.signatures[0].1);
    let text = String::from_utf8(first.clone()).unwrap();
    assert_eq!(text.matches(&old_sig).count(), 1);
    let second = text.replace(&old_sig, &b64_encode(&sig)).into_bytes();
    assert_ne!(first, second, "two envelopes of one manifest");
    reg::format::manifest::SignedManifest::parse(second.clone())
        .unwrap()
        .envelope
        .verify_single(publisher.public())
        .unwrap();
    fs::write(s.join("good.tar"), good_tar(&first, &files)).unwrap();
    fs::write(s.join("resigned.tar"), good_tar(&second, &files)).unwrap();
    s.ok(&["add", "good.tar", "--key", "op.pem"]);
    (s, files, first, second)
}

#[test]
fn a_resigned_manifest_is_the_same_model_already_registered() {
    let (s, _files, first, second) = resigned_case();
    let record = ObjectId::of(&first);
    let before = s.snapshot();
    let out = s.ok(&["add", "resigned.tar", "--key", "op.pem"]);
    assert!(
        out.contains(&format!(
            "already registered as victim@1.0.0 (record {record})"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "the same manifest signed again (envelope {})",
            ObjectId::of(&second)
        )),
        "{out}"
    );
    assert_eq!(
        before,
        s.snapshot(),
        "nothing is written for the same model"
    );
    assert!(!s.object_path(&ObjectId::of(&second).to_string()).exists());
    let listed = s.ok(&["list"]);
    assert_eq!(listed.matches("victim").count(), 1, "{listed}");
}

#[test]
fn a_resigned_manifest_whose_registered_record_is_lost_is_refused_naming_it() {
    let (s, _files, first, _second) = resigned_case();
    let record = ObjectId::of(&first).to_string();
    let path = s.object_path(&record);
    crate::util::make_writable(&path);
    fs::remove_file(&path).unwrap();
    let before = s.snapshot();
    let err = s.fails(1, &["add", "resigned.tar", "--key", "op.pem"]);
    assert!(
        err.contains(&format!(
            "victim@1.0.0 is registered as record {record}, which cannot be read"
        )),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(before, s.snapshot());
    // The record's own bundle restores it, and then the re-signed one is recognised.
    s.ok(&["add", "good.tar", "--key", "op.pem"]);
    let out = s.ok(&["add", "resigned.tar", "--key", "op.pem"]);
    assert!(out.contains("signed again"), "{out}");
}

#[test]
fn a_purge_never_deletes_a_record_shipped_as_another_models_artifact() {
    let s = registry();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule a { condition: true }".into())],
    );
    let state = current_state(&s);
    let (record, _) = state.find("det", "1.0.0").unwrap();
    let record_bytes = fs::read(s.object_path(&record.to_string())).unwrap();
    // A second model ships det's record, byte for byte, as one of its files.
    s.add_model(
        "carrier",
        "1.0.0",
        &[
            (
                "copy.json",
                String::from_utf8(record_bytes.clone()).unwrap(),
            ),
            ("rules.yar", "rule b { condition: false }".into()),
        ],
    );
    s.ok(&[
        "revoke",
        "carrier@1.0.0",
        "--key",
        "op.pem",
        "--reason",
        "withdrawn",
    ]);
    s.ok(&[
        "purge",
        "carrier@1.0.0",
        "--key",
        "op.pem",
        "--reason",
        "disk space",
    ]);
    assert_eq!(
        fs::read(s.object_path(&record.to_string())).unwrap(),
        record_bytes,
        "the purge deleted det's record"
    );
    let out = s
        .reg()
        .env("REG_STATE_DIR", s.join("fresh-state"))
        .args(["ledger", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.ok(&["fsck"]);
}
