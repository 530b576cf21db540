//! Replay refuses a forged ledger entry (FORMAT.md §5.1, §6): entries are forged the way an attacker
//! holding the medium would, with hashes, positions and chains right, so that only one check of
//! replay stands in the way: the signature, the transition's claimed state, a key's trust at the
//! entry's seq, the chain's `prev`, a forgery past the first replay chunk, and a promotion,
//! activation or re-approval that a suspension (FORMAT.md §5.14) forbids. Each refusal names the
//! entry and changes nothing. The forging helpers here serve the other modules too.

use crate::compromise::{compromise, file, head_seq, run, site};
use crate::craft;
use crate::util::{Sandbox, forge_state};
use reg::crypto::envelope::{Envelope, SignatureEntry, pae};
use reg::crypto::keys::{Fingerprint, SecretKey};
use reg::format::entry::{
    Body, Entry, Header, KeyRef, KeyTrust, Reapprove, Role, SlotChange, Transition,
};
use reg::format::id::ObjectId;
use reg::format::lifecycle::LifecycleState;
use reg::state::State;
use reg::util::encoding::b64_encode;
use serde_json::Value;
use std::fs;

const TIME: &str = "2026-01-01T00:00:00Z";

/// The state the sandbox's ledger gives, replayed here entry by entry (no signature checks:
/// the forger needs the state, not a proof).
pub(crate) fn replayed(s: &Sandbox) -> State {
    let store = reg::repo::store::Store::new(&s.dot());
    let mut state: Option<State> = None;
    for line in s.ledger_ids() {
        let id: ObjectId = line.parse().unwrap();
        let entry = reg::repo::ledger::read_entry(&store, &id).unwrap();
        match state.as_mut() {
            None => state = Some(State::from_genesis(id, &entry).unwrap().0),
            Some(st) => st.apply(id, &entry).unwrap(),
        }
    }
    state.unwrap()
}

/// Appends an entry of `body` after `state`'s head, naming `actor` as its signer but signed with
/// `signer` (the two differ for a forgery), stored as an object whose id is its hash and listed
/// in the ledger; applies it to `state` as a replay that skipped the check under test would.
/// Returns its id and seq.
fn append(
    s: &Sandbox,
    state: &mut State,
    body: Body,
    actor: &Fingerprint,
    signer: &SecretKey,
) -> (ObjectId, u64) {
    let entry = crate::util::next_entry(state, actor, TIME, body);
    let bytes = crate::util::forged_entry(&entry, signer);
    let id = store_and_list(s, &bytes);
    state.apply(id, &entry).unwrap();
    (id, state.seq())
}

/// Stores `bytes` as an object whose id is its hash and lists it at the end of the ledger.
pub(crate) fn store_and_list(s: &Sandbox, bytes: &[u8]) -> ObjectId {
    let id = ObjectId::of(bytes);
    let path = s.object_path(&id.to_string());
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, bytes).unwrap();
    let mut ledger = fs::read_to_string(s.dot().join("ledger")).unwrap();
    ledger.push_str(&format!("{id}\n"));
    fs::write(s.dot().join("ledger"), ledger).unwrap();
    id
}

/// Writes a checkpoint for `state` signed by `key` (the head entry's signer), committing to the
/// state's true hash: a replay that skipped the check under test would accept it.
pub(crate) fn checkpoint(s: &Sandbox, state: &State, key: &SecretKey) {
    let cp = reg::repo::ledger::sign_checkpoint(state, state.hash(), TIME.into(), key).unwrap();
    fs::write(s.dot().join("checkpoint"), cp).unwrap();
}

/// Asserts that `args` is refused with exit code `code` and a message naming the entry and
/// saying `why`, leaving the registry byte-for-byte unchanged.
fn refused_naming(s: &Sandbox, args: &[&str], code: i32, entry: (ObjectId, u64), why: &str) {
    let named = format!("ledger entry {} ({})", entry.1, entry.0);
    // fsck reports on stdout, the other commands on stderr.
    let err = s.refusal(code, args).stdout_too().says(&named);
    assert!(err.contains(why), "reg {args:?}: {err}");
}

#[test]
fn an_entry_whose_hash_is_right_but_signature_is_the_attackers_is_refused() {
    let s = Sandbox::new();
    let (root, _, _) = s.init_with_roles();
    s.key("evil.pem");
    let evil = craft::load(&s, "evil.pem");
    let root: Fingerprint = root.parse().unwrap();
    let evil_fp = evil.public().fingerprint().clone();
    let mut state = replayed(&s);
    // The attacker grants itself root in an entry that claims to be the root's, signed with
    // its own key: the object's id is its hash, its position and chain are right.
    let grant = Body::KeyTrust(KeyTrust {
        name: None,
        key: KeyRef {
            fingerprint: evil_fp.clone(),
            public_key: b64_encode(&evil.public().to_bytes()),
        },
        reason: "self-granted".into(),
        role: Role::Root,
    });
    let forged = append(&s, &mut state, grant, &root, &evil);
    // Then, as the root it now claims to be, it signs an entry and the checkpoint with its own
    // key: no key of the registry was needed for any of it.
    let own = Body::KeyTrust(KeyTrust {
        name: None,
        key: KeyRef {
            fingerprint: evil_fp.clone(),
            public_key: b64_encode(&evil.public().to_bytes()),
        },
        reason: "operator too".into(),
        role: Role::Operator,
    });
    append(&s, &mut state, own, &evil_fp, &evil);
    checkpoint(&s, &state, &evil);
    let why = "does not verify";
    refused_naming(&s, &["ledger", "verify"], 1, forged, why);
    refused_naming(&s, &["fsck"], 1, forged, why);
    // Reads: the host has not seen this checkpoint, so they take the slow path and replay.
    refused_naming(&s, &["key", "list"], 1, forged, why);
    refused_naming(&s, &["list"], 1, forged, why);
}

#[test]
fn a_transition_that_lies_about_the_models_state_is_refused() {
    let s = Sandbox::new();
    let (_, op, _) = s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule r { condition: true }\n".into())],
    );
    s.ok(&["promote", "det@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    s.ok(&[
        "revoke",
        "det@1.0.0",
        "--reason",
        "poisoned",
        "--key",
        "op.pem",
    ]);
    let opkey = craft::load(&s, "op.pem");
    let op: Fingerprint = op.parse().unwrap();
    let state = replayed(&s);
    let (record, model) = state.find("det", "1.0.0").unwrap();
    let (record, previous) = (*record, model.entry);
    assert_eq!(model.state, LifecycleState::Revoked);
    // Signed by the operator, in its place in the chain, naming the model's latest entry: only
    // its `from` is false (DEPRECATED, from which PROMOTED is a legal move; the model is REVOKED).
    let lie = Body::Transition(Transition {
        deny: false,
        from: LifecycleState::Deprecated,
        model: record,
        previous,
        reason: "back in service".into(),
        slots: vec![],
        to: LifecycleState::Promoted,
    });
    // `apply` refuses it (that is the point): reach the state a replay that believed `from`
    // would end with by applying it to a copy where the model is what the entry says it is.
    // That replay would end with the model PROMOTED; the checkpoint commits to that state.
    let mut believed = crate::util::forge_state(&state, |v| {
        v["models"][record.to_string()]["state"] = serde_json::json!("DEPRECATED");
    });
    let forged = append(&s, &mut believed, lie, &op, &opkey);
    assert_eq!(believed.models()[&record].state, LifecycleState::Promoted);
    checkpoint(&s, &believed, &opkey);
    let why = "the transition says det@1.0.0 is Deprecated, but it is REVOKED";
    refused_naming(&s, &["ledger", "verify"], 1, forged, why);
    refused_naming(&s, &["fsck"], 1, forged, why);
    refused_naming(&s, &["status"], 1, forged, why);
    refused_naming(&s, &["show", "det@1.0.0"], 1, forged, why);
}

#[test]
fn an_entry_claiming_a_key_trusted_by_a_later_entry_with_another_signature_is_refused() {
    // The operator's key is trusted by a key-trust entry, not by genesis: replay learns it from
    // that entry before it checks signatures, and must check this one against it.
    let s = Sandbox::new();
    let (_, op, _) = s.init_with_roles();
    s.add_model(
        "det",
        "1.0.0",
        &[("rules.yar", "rule r { condition: true }\n".into())],
    );
    s.key("evil.pem");
    let evil = craft::load(&s, "evil.pem");
    let opkey = craft::load(&s, "op.pem");
    let op: Fingerprint = op.parse().unwrap();
    let mut state = replayed(&s);
    let (record, model) = state.find("det", "1.0.0").unwrap();
    let promote = Body::Transition(Transition {
        deny: false,
        from: LifecycleState::Registered,
        model: *record,
        previous: model.entry,
        reason: "approved".into(),
        slots: vec![],
        to: LifecycleState::Promoted,
    });
    let forged = append(&s, &mut state, promote, &op, &evil);
    // Signed with the operator's key, so that only the entry's own signature stands in the way:
    // each defence is tested alone.
    checkpoint(&s, &state, &opkey);
    let why = format!("signature by key {op} does not verify");
    refused_naming(&s, &["ledger", "verify"], 1, forged, &why);
    refused_naming(&s, &["fsck"], 1, forged, &why);
    refused_naming(&s, &["show", "det@1.0.0"], 1, forged, &why);
    refused_naming(
        &s,
        &["check", "--model", "det@1.0.0", "m-det-1.0.0/rules.yar"],
        1,
        forged,
        &why,
    );
}

#[test]
fn a_ledger_longer_than_one_replay_chunk_verifies_and_a_forgery_in_its_second_chunk_is_named() {
    // Replay decodes and checks signatures 4096 entries at a time, the next chunk while the
    // current one is checked in order: positions and keys must carry over from one chunk to
    // the next. 4,200 root-signed policy entries, written here (the CLI would take minutes).
    let s = Sandbox::new();
    let root_fp = s.init();
    let root = craft::load(&s, "root.pem");
    let root_fp: Fingerprint = root_fp.parse().unwrap();
    s.key("evil.pem");
    let evil = craft::load(&s, "evil.pem");
    let sign = |state: &mut State, signer: &SecretKey, n: u64| {
        let entry = Entry {
            header: Header {
                actor: root_fp.clone(),
                prev: Some(state.head()),
                registry: Some(state.registry()),
                seq: state.seq() + 1,
                time: TIME.into(),
            },
            body: Body::Policy(reg::format::entry::Policy {
                policy: Default::default(),
                reason: format!("policy {n}"),
            }),
        };
        let payload = entry.to_payload().unwrap();
        let payload_type = entry.body.kind().payload_type();
        let sig = signer.sign(&pae(&payload_type, &payload));
        let bytes = Envelope {
            payload: b64_encode(&payload),
            payload_type,
            signatures: vec![SignatureEntry {
                keyid: root_fp.clone(),
                sig: b64_encode(&sig),
            }],
        }
        .to_canonical();
        let id = ObjectId::of(&bytes);
        let path = s.object_path(&id.to_string());
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &bytes).unwrap();
        state.apply(id, &entry).unwrap();
        id
    };
    let write = |signer_at: Option<u64>| {
        let mut state = replayed(&s);
        let mut lines = fs::read_to_string(s.dot().join("ledger")).unwrap();
        let mut forged = None;
        for n in 0..4200 {
            let signer = if Some(state.seq() + 1) == signer_at {
                &evil
            } else {
                &root
            };
            let id = sign(&mut state, signer, n);
            if signer_at == Some(state.seq()) {
                forged = Some((id, state.seq()));
            }
            lines.push_str(&format!("{id}\n"));
        }
        fs::write(s.dot().join("ledger"), lines).unwrap();
        checkpoint(&s, &state, &root);
        forged
    };
    let ledger = fs::read(s.dot().join("ledger")).unwrap();
    let checkpoint_bytes = fs::read(s.dot().join("checkpoint")).unwrap();
    write(None);
    let out = s.ok(&["ledger", "verify"]);
    assert!(out.starts_with("ledger OK: 4201 entries"), "{out}");
    // The same from genesis again, with entry 4150 (in the second chunk) signed by another key,
    // on a host that never saw the first one.
    fs::write(s.dot().join("ledger"), ledger).unwrap();
    fs::write(s.dot().join("checkpoint"), checkpoint_bytes).unwrap();
    fs::remove_dir_all(s.join("home/.local/state/reg")).unwrap();
    let forged = write(Some(4150)).unwrap();
    refused_naming(&s, &["ledger", "verify"], 1, forged, "does not verify");
}

#[test]
fn an_entry_whose_prev_names_another_entry_is_named_with_both_ids() {
    // Signed by the root, listed at the position its seq says, but chained to genesis instead of
    // the entry before it: the refusal names both ids, so that an operator can see the splice.
    let s = Sandbox::new();
    let (root, _, _) = s.init_with_roles();
    let root_key = craft::load(&s, "root.pem");
    let root: Fingerprint = root.parse().unwrap();
    let state = replayed(&s);
    let genesis = state.registry();
    let entry = Entry {
        header: Header {
            actor: root.clone(),
            prev: Some(genesis),
            registry: Some(state.registry()),
            seq: state.seq() + 1,
            time: TIME.into(),
        },
        body: Body::Policy(reg::format::entry::Policy {
            policy: Default::default(),
            reason: "spliced".into(),
        }),
    };
    let bytes = reg::crypto::envelope::sign_bytes(
        entry.body.kind(),
        &entry.to_payload().unwrap(),
        &root_key,
    )
    .unwrap();
    let id = store_and_list(&s, &bytes);
    // The checkpoint covers it, committing to the state a replay that ignored `prev` would reach.
    let mut after = state.clone();
    after.apply(id, &entry).unwrap();
    checkpoint(&s, &after, &root_key);
    let why = format!(
        "its prev is {genesis}, but the entry before it is {}",
        state.head()
    );
    refused_naming(&s, &["ledger", "verify"], 1, (id, state.seq() + 1), &why);
}

/// Appends `body`, signed with key file `key`, as the next entry, with a checkpoint signed by
/// the same key committing to the state a replay without the rule under test would give:
/// `loosen` edits the state before it so that the rule passes, `restore` undoes that edit in
/// the state after it. What a medium holder with that key can write without reg. Returns the
/// entry's id and seq.
pub(crate) fn forge(
    s: &Sandbox,
    key: &str,
    body: Body,
    loosen: impl FnOnce(&mut Value),
    restore: impl FnOnce(&mut Value),
) -> (ObjectId, u64) {
    let key: SecretKey = crate::craft::load(s, key);
    let state = crate::forged_entries::replayed(s);
    let mut loose = forge_state(&state, loosen);
    let entry = crate::util::next_entry(
        &loose,
        key.public().fingerprint(),
        "2026-01-01T00:00:00Z",
        body,
    );
    let bytes = crate::util::forged_entry(&entry, &key);
    let id = crate::forged_entries::store_and_list(s, &bytes);
    loose.apply(id, &entry).unwrap();
    let after = forge_state(&loose, restore);
    crate::forged_entries::checkpoint(s, &after, &key);
    (id, entry.header.seq)
}

/// `reg ledger verify` refuses the registry, naming `entry` and saying `why`; the gate allows
/// nothing of it (`path` is an artifact of it); neither changes anything.
pub(crate) fn replay_refuses(s: &Sandbox, entry: (ObjectId, u64), why: &str, path: &str) {
    let before = s.snapshot();
    let err = s.fails(1, &["ledger", "verify"]);
    let named = format!("ledger entry {} ({})", entry.1, entry.0);
    assert!(err.contains(&named), "expected `{named}` in: {err}");
    assert!(err.contains(why), "expected `{why}` in: {err}");
    let (code, stdout, _) = run(s, &["check", path]);
    assert!(code != 0 && !stdout.contains("ALLOW"), "{stdout}");
    assert_eq!(before, s.snapshot(), "a refusal changed the registry");
}

/// The record id and latest entry of `spec` in the replayed state.
pub(crate) fn model(s: &Sandbox, name: &str) -> (ObjectId, ObjectId) {
    let state = crate::forged_entries::replayed(s);
    let (id, m) = state.find(name, "1.0.0").unwrap();
    (*id, m.entry)
}

/// Removes `name@1.0.0`'s suspension from a state's JSON.
pub(crate) fn unsuspend(id: ObjectId) -> impl FnOnce(&mut Value) {
    move |v| {
        v["models"][id.to_string()]
            .as_object_mut()
            .unwrap()
            .remove("suspended");
    }
}

/// Puts `name@1.0.0`'s suspension (by `key` at `seq`) back into a state's JSON.
pub(crate) fn suspend(id: ObjectId, key: &str, seq: u64) -> impl FnOnce(&mut Value) {
    let key = key.to_string();
    move |v| v["models"][id.to_string()]["suspended"] = serde_json::json!({"key": key, "seq": seq})
}

#[test]
fn a_forged_promotion_of_a_suspended_model_is_refused_by_replay() {
    let (s, publ, _) = site();
    compromise(&s, &publ);
    let at = head_seq(&s);
    let (id, latest) = model(&s, "new");
    let entry = forge(
        &s,
        "op.pem",
        Body::Transition(Transition {
            deny: false,
            from: LifecycleState::Registered,
            model: id,
            previous: latest,
            reason: "forged".into(),
            slots: vec![],
            to: LifecycleState::Promoted,
        }),
        unsuspend(id),
        suspend(id, &publ, at),
    );
    replay_refuses(&s, entry, "new@1.0.0 is suspended", &file("new"));
}

#[test]
fn a_forged_activation_of_a_suspended_model_is_refused_by_replay() {
    let (s, publ, _) = site();
    compromise(&s, &publ);
    let at = head_seq(&s);
    let (id, _) = model(&s, "alt");
    let state = crate::forged_entries::replayed(&s);
    let previous = state.slots().get("prod").map(|slot| slot.entry);
    let entry = forge(
        &s,
        "op.pem",
        Body::Slot(SlotChange {
            model: Some(id),
            previous,
            reason: "forged".into(),
            slot: "prod".into(),
        }),
        unsuspend(id),
        suspend(id, &publ, at),
    );
    replay_refuses(&s, entry, "alt@1.0.0 is suspended", &file("det"));
}

#[test]
fn a_forged_reapproval_of_a_model_not_suspended_or_naming_a_stale_entry_is_refused_by_replay() {
    let (s, publ, _) = site();
    // Not suspended: nothing to re-approve.
    let (id, latest) = model(&s, "det");
    let entry = forge(
        &s,
        "op2.pem",
        Body::Reapprove(Reapprove {
            model: id,
            previous: latest,
            reason: "forged".into(),
        }),
        suspend(id, &publ, 1),
        |_| {},
    );
    replay_refuses(&s, entry, "det@1.0.0 is not suspended", &file("det"));

    // Suspended, but naming an entry that is not its latest.
    let (s, publ, _) = site();
    compromise(&s, &publ);
    let (id, _) = model(&s, "det");
    let state = crate::forged_entries::replayed(&s);
    let stale = state.models()[&id].added;
    let entry = forge(
        &s,
        "op2.pem",
        Body::Reapprove(Reapprove {
            model: id,
            previous: stale,
            reason: "forged".into(),
        }),
        move |v| v["models"][id.to_string()]["entry"] = stale.to_string().into(),
        |_| {},
    );
    replay_refuses(
        &s,
        entry,
        &format!("an entry of det@1.0.0's history names {stale} as its previous entry"),
        &file("det"),
    );
}
