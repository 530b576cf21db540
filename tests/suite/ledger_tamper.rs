//! `reg ledger verify` refuses every way of altering the ledger, naming the entry at fault; the
//! writers and gc refuse a ledger file that lost lines, and a line changed in the middle (which
//! the fast path cannot see) sends them to the full replay before anything is written or
//! deleted.

use crate::medium::{setup, tree};
use crate::util::{Sandbox, make_writable};
use reg::crypto::envelope::{self, Envelope, Kind};
use reg::crypto::keys::SecretKey;
use reg::format::entry::{Body, Entry, Header, KeyRef, KeyTrust, Role};
use reg::format::id::ObjectId;
use reg::repo::ledger::{Checkpoint, read_checkpoint, read_ids};
use reg::repo::store::Store;
use reg::state::State;
use reg::util::encoding::{b64_encode, to_canonical_vec};
use std::fs;

/// A registry with five entries: genesis, operator, publisher, a second root, its revocation.
fn registry() -> (Sandbox, String) {
    let s = Sandbox::new();
    s.init_with_roles();
    let root2 = s.key("root2.pem");
    s.trust("root2.pem.pub", "root", "second root");
    s.ok(&[
        "key",
        "revoke",
        &root2,
        "--key",
        "root.pem",
        "--reason",
        "laptop lost",
    ]);
    assert_eq!(s.ledger_ids().len(), 5);
    (s, root2)
}

fn verify_fails(s: &Sandbox, needle: &str) -> String {
    let err = s.fails(1, &["ledger", "verify"]);
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

fn load_secret(s: &Sandbox, name: &str) -> SecretKey {
    reg::crypto::keys::load_secret(&s.join(name), &mut |_| None).unwrap()
}

/// Appends a forged entry signed by `key` (and a checkpoint it signs), as an attacker holding
/// that key but no root key could.
fn append_forged(s: &Sandbox, key: &SecretKey) -> (u64, ObjectId) {
    let dot = s.dot();
    let store = Store::new(&dot);
    let (ids, _) = read_ids(&dot.join("ledger")).unwrap();
    let head = *ids.last().unwrap();
    let registry = ids[0];
    let victim = SecretKey::from_seed(&[42u8; 32]).unwrap();
    let entry = Entry {
        header: Header {
            actor: key.public().fingerprint().clone(),
            prev: Some(head),
            registry: Some(registry),
            seq: ids.len() as u64,
            time: "2026-01-02T00:00:00Z".into(),
        },
        body: Body::KeyTrust(KeyTrust {
            name: None,
            key: KeyRef {
                fingerprint: victim.public().fingerprint().clone(),
                public_key: b64_encode(&victim.public().to_bytes()),
            },
            reason: "backdoor".into(),
            role: Role::Operator,
        }),
    };
    let bytes = envelope::sign_bytes(Kind::KeyTrust, &entry.to_payload().unwrap(), key).unwrap();
    let id = store.put_bytes(&bytes).unwrap();
    let mut ledger = fs::read(dot.join("ledger")).unwrap();
    ledger.extend_from_slice(format!("{id}\n").as_bytes());
    fs::write(dot.join("ledger"), ledger).unwrap();
    let (_, old) = read_checkpoint(&dot.join("checkpoint")).unwrap();
    let cp = Checkpoint {
        head: id,
        registry,
        seq: entry.header.seq,
        state: old.state,
        time: entry.header.time.clone(),
    };
    fs::write(
        dot.join("checkpoint"),
        envelope::sign(Kind::Checkpoint, &cp, key).unwrap(),
    )
    .unwrap();
    (entry.header.seq, id)
}

#[test]
fn an_intact_ledger_verifies() {
    let (s, _) = registry();
    let out = s.ok(&["ledger", "verify"]);
    assert!(out.starts_with("ledger OK: 5 entries"), "{out}");
}

#[test]
fn a_flipped_byte_in_any_entry_object_is_named() {
    let (s, _) = registry();
    for (seq, id) in s.ledger_ids().iter().enumerate() {
        let p = s.object_path(id);
        let original = fs::read(&p).unwrap();
        // A byte in the payload, one in the signature, the last byte.
        for pos in [12, original.len() - 20, original.len() - 1] {
            let mut bytes = original.clone();
            bytes[pos] ^= 0x01;
            make_writable(&p);
            fs::write(&p, &bytes).unwrap();
            let err = s.fails(1, &["ledger", "verify"]);
            // Genesis is read when the registry is opened, before the replay names positions.
            let needle = if seq == 0 {
                format!("object {id} is corrupt")
            } else {
                format!("ledger entry {seq} ({id}): object {id} is corrupt")
            };
            assert!(err.contains(&needle), "byte {pos} of entry {seq}: {err}");
        }
        fs::write(&p, &original).unwrap();
    }
    s.ok(&["ledger", "verify"]);
}

#[test]
fn a_flipped_byte_in_the_checkpoint_or_ledger_file_is_refused() {
    let (s, _) = registry();
    let cp = s.dot().join("checkpoint");
    let original = fs::read(&cp).unwrap();
    // A bit of the payload's first field (`head` becomes `gead`: the payload no longer decodes),
    // and two characters of the signature, each replaced by another base64 character (so that
    // the signature still decodes, and fails to verify).
    let sig_at = original
        .windows(7)
        .position(|w| w == b"\"sig\":\"")
        .unwrap()
        + 7;
    let (sig, end) = (original.len() - 40, original.len() - 10);
    // 64 signature bytes are 86 base64 characters and `==`: both positions are signature bits.
    assert!(sig_at < sig && end < sig_at + 86, "{sig_at}");
    assert_eq!(
        &original[12..16],
        b"eyJo",
        "the payload starts with `{{\"h`"
    );
    for (pos, why) in [
        (
            15,
            "error: checkpoint: malformed payload: invalid JSON: unknown field `gead`",
        ),
        (sig, "error: checkpoint: signature does not verify"),
        (end, "error: checkpoint: signature does not verify"),
    ] {
        let mut bytes = original.clone();
        bytes[pos] = match bytes[pos] {
            b'A' => b'B',
            b'o' => b'n',
            _ => b'A',
        };
        fs::write(&cp, &bytes).unwrap();
        verify_fails(&s, why);
    }
    fs::write(&cp, &original).unwrap();
    let ledger = s.dot().join("ledger");
    let original = fs::read(&ledger).unwrap();
    // Another hex digit in entry 2's id: it names an object that does not exist.
    let mut bytes = original.clone();
    bytes[65 * 2 + 3] = if bytes[65 * 2 + 3] == b'0' {
        b'1'
    } else {
        b'0'
    };
    fs::write(&ledger, &bytes).unwrap();
    let named = String::from_utf8(bytes[65 * 2..65 * 2 + 64].to_vec()).unwrap();
    verify_fails(
        &s,
        &format!("ledger entry 2 ({named}): object {named} is missing"),
    );
    // A byte that is not a hex digit: the line is not an id.
    let mut bytes = original.clone();
    bytes[65 * 2 + 3] = b'g';
    fs::write(&ledger, &bytes).unwrap();
    verify_fails(&s, "ledger file line 2: not an entry id");
}

#[test]
fn a_removed_entry_is_named() {
    let (s, _) = registry();
    let ids = s.ledger_ids();
    let mut kept = ids.clone();
    kept.remove(2);
    fs::write(s.dot().join("ledger"), kept.join("\n") + "\n").unwrap();
    verify_fails(&s, &format!("ledger entry 2 ({})", ids[3]));
}

#[test]
fn a_removed_entry_object_is_named() {
    let (s, _) = registry();
    let ids = s.ledger_ids();
    fs::remove_file(s.object_path(&ids[3])).unwrap();
    verify_fails(
        &s,
        &format!("ledger entry 3 ({}): object {} is missing", ids[3], ids[3]),
    );
}

#[test]
fn two_swapped_entries_are_named() {
    let (s, _) = registry();
    let mut ids = s.ledger_ids();
    ids.swap(1, 2);
    fs::write(s.dot().join("ledger"), ids.join("\n") + "\n").unwrap();
    let err = verify_fails(&s, &format!("ledger entry 1 ({})", ids[1]));
    assert!(err.contains("it says it is entry 2"), "{err}");
}

#[test]
fn an_entry_signed_by_an_untrusted_key_is_named() {
    let (s, _) = registry();
    let stranger = SecretKey::from_seed(&[7u8; 32]).unwrap();
    let (seq, id) = append_forged(&s, &stranger);
    verify_fails(
        &s,
        &format!(
            "ledger entry {seq} ({id}): signed by key {}, which this registry does not trust",
            stranger.public().fingerprint()
        ),
    );
}

#[test]
fn an_entry_signed_by_a_non_root_key_is_named() {
    let (s, _) = registry();
    let op = load_secret(&s, "op.pem");
    let (seq, id) = append_forged(&s, &op);
    verify_fails(
        &s,
        &format!(
            "ledger entry {seq} ({id}): key {} signed a key-trust entry but does not hold the root role",
            op.public().fingerprint()
        ),
    );
}

#[test]
fn an_entry_signed_by_a_key_after_its_revocation_is_named() {
    let (s, root2) = registry();
    let revoked = load_secret(&s, "root2.pem");
    let (seq, id) = append_forged(&s, &revoked);
    verify_fails(
        &s,
        &format!(
            "ledger entry {seq} ({id}): signed by key {root2} after its revocation at entry 4"
        ),
    );
}

#[test]
fn a_ledger_with_its_last_entries_removed_is_refused() {
    let (s, _) = registry();
    let ids = s.ledger_ids();
    fs::write(s.dot().join("ledger"), ids[..3].join("\n") + "\n").unwrap();
    verify_fails(
        &s,
        "the checkpoint names entry 4 but the ledger lists only 3 entries",
    );
}

#[test]
fn a_checkpoint_edited_to_name_an_older_entry_no_longer_verifies() {
    let (s, _) = registry();
    let ids = s.ledger_ids();
    let path = s.dot().join("checkpoint");
    let mut env: Envelope = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let (_, mut cp) = read_checkpoint(&path).unwrap();
    cp.seq = 2;
    cp.head = ids[2].parse().unwrap();
    env.payload = b64_encode(&to_canonical_vec(&cp).unwrap());
    fs::write(&path, to_canonical_vec(&env).unwrap()).unwrap();
    // Cut the ledger too, as someone hiding the last entries would.
    fs::write(s.dot().join("ledger"), ids[..3].join("\n") + "\n").unwrap();
    verify_fails(&s, "checkpoint: signature does not verify");
}

#[test]
fn a_checkpoint_that_does_not_match_the_state_is_refused() {
    // A checkpoint signed by a genuine key but committing to another state (here: the state
    // hash of an older checkpoint) is refused.
    let (s, _) = registry();
    let root = load_secret(&s, "root.pem");
    let path = s.dot().join("checkpoint");
    let (_, mut cp) = read_checkpoint(&path).unwrap();
    cp.state = ObjectId::of(b"not the state");
    fs::write(&path, envelope::sign(Kind::Checkpoint, &cp, &root).unwrap()).unwrap();
    verify_fails(&s, "checkpoint: commits to state");
}

#[test]
fn a_non_canonical_re_encoding_of_an_entry_is_named() {
    let (s, _) = registry();
    let ids = s.ledger_ids();
    let original = fs::read(s.object_path(&ids[2])).unwrap();
    // Same meaning, other bytes: the envelope pretty-printed.
    let value: serde_json::Value = serde_json::from_slice(&original).unwrap();
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    assert_ne!(pretty, original);
    let store = Store::new(&s.dot());
    let new_id = store.put_bytes(&pretty).unwrap();
    let mut ids2 = ids.clone();
    ids2[2] = new_id.to_string();
    fs::write(s.dot().join("ledger"), ids2.join("\n") + "\n").unwrap();
    verify_fails(
        &s,
        &format!("ledger entry 2 ({new_id}): malformed envelope: not canonical JSON"),
    );

    // The same for the payload inside a canonical envelope: the signature still covers the
    // original bytes, and the canonical check names it first.
    let mut env: Envelope = serde_json::from_slice(&original).unwrap();
    let payload: serde_json::Value =
        serde_json::from_slice(&reg::util::encoding::b64_decode(&env.payload).unwrap()).unwrap();
    env.payload = b64_encode(&serde_json::to_vec_pretty(&payload).unwrap());
    let new_id = store.put_bytes(&to_canonical_vec(&env).unwrap()).unwrap();
    ids2[2] = new_id.to_string();
    fs::write(s.dot().join("ledger"), ids2.join("\n") + "\n").unwrap();
    verify_fails(
        &s,
        &format!("ledger entry 2 ({new_id}): malformed payload: not canonical JSON"),
    );
}

#[test]
fn a_forged_state_in_the_index_is_not_believed() {
    // The index is a cache: a planted index/state.json that grants a key a role changes nothing,
    // because the state is replayed from signed entries (and the checkpoint commits to its hash).
    let (s, _) = registry();
    let state: State = crate::util::read_index(&s.dot());
    let op = load_secret(&s, "op.pem");
    let state = crate::util::forge_state(&state, |v| {
        crate::util::edit_key(v, op.public().fingerprint(), |k| {
            k.roles.insert(Role::Root);
        })
    });
    crate::util::write_index(&s.dot(), &state);
    let err = s.fails(
        1,
        &[
            "key",
            "trust",
            "root2.pem.pub",
            "--role",
            "publisher",
            "--key",
            "op.pem",
            "--reason",
            "x",
        ],
    );
    assert!(err.contains("does not hold the root role"), "{err}");
    let out = s.reg().args(["ledger", "verify"]).output().unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("index/state.json does not match the checkpoint")
    );
}

/// Cuts the last `n` lines off the `ledger` file.
fn cut_ledger(s: &Sandbox, n: usize) {
    let p = s.dot().join("ledger");
    let bytes = fs::read(&p).unwrap();
    fs::write(&p, &bytes[..bytes.len() - 65 * n]).unwrap();
}

#[test]
fn writers_and_gc_refuse_a_ledger_file_that_lost_lines() {
    let s = setup();
    // This host verified the registry: the fast path would trust its index.
    s.ok(&["status"]);
    cut_ledger(&s, 1);
    let before = tree(&s.dot());
    for args in [
        &["promote", "det@2.0.0", "--reason", "x", "--key", "op.pem"][..],
        &[
            "deactivate",
            "ransomware",
            "--reason",
            "x",
            "--key",
            "op.pem",
        ],
        &["gc"],
    ] {
        let err = s.fails(1, args);
        assert!(err.contains("entries were removed"), "{args:?}: {err}");
    }
    assert_eq!(tree(&s.dot()), before, "nothing appended, nothing deleted");
}

#[test]
fn gc_verifies_the_whole_ledger_before_deleting_anything() {
    let s = setup();
    s.ok(&["status"]);
    // A line in the middle now names another object: same length, head unchanged, so the fast
    // path cannot see it; gc would delete the entry it replaced.
    let p = s.dot().join("ledger");
    let mut lines: Vec<String> = fs::read_to_string(&p)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let show: serde_json::Value =
        serde_json::from_str(&s.ok(&["show", "det@1.0.0", "--json"])).unwrap();
    let replaced = lines[2].clone();
    lines[2] = show["artifacts"][0]["blake3"].as_str().unwrap().to_string();
    fs::write(&p, lines.join("\n") + "\n").unwrap();
    let before = tree(&s.dot());
    let err = s.fails(1, &["gc"]);
    assert!(err.contains("ledger entry 2"), "{err}");
    assert_eq!(tree(&s.dot()), before);
    assert!(
        s.object_path(&replaced).exists(),
        "the signed entry was kept"
    );
}

#[test]
fn a_ledger_line_changed_in_the_middle_sends_writers_to_the_full_replay() {
    let s = setup();
    s.ok(&["status"]); // this host verified it: the fast path would apply
    let p = s.dot().join("ledger");
    let mut lines: Vec<String> = fs::read_to_string(&p)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let c = if lines[3].starts_with('0') { "1" } else { "0" };
    lines[3] = format!("{c}{}", &lines[3][1..]);
    fs::write(&p, lines.join("\n") + "\n").unwrap();
    let before = tree(&s.dot());
    let err = s.fails(
        1,
        &["promote", "det@2.0.0", "--reason", "x", "--key", "op.pem"],
    );
    assert!(err.contains("ledger entry 3"), "{err}");
    s.fails(1, &["list"]);
    assert_eq!(tree(&s.dot()), before);
}

/// The checkpoint is signed by the key that signed its head entry (FORMAT.md §6): the same
/// checkpoint re-signed by another key the registry trusts (the operator; the head entry is the
/// root's) is refused, naming both.
#[test]
fn a_checkpoint_re_signed_by_another_trusted_key_than_the_heads_signer_is_refused() {
    let (s, _) = registry();
    let op = load_secret(&s, "op.pem");
    let path = s.dot().join("checkpoint");
    let (_, cp) = read_checkpoint(&path).unwrap();
    fs::write(&path, envelope::sign(Kind::Checkpoint, &cp, &op).unwrap()).unwrap();
    verify_fails(&s, "but the head entry's signer is");
}
