//! Unit tests of the state's rules, on [`State`] alone (no disk). Every state here is built the
//! way replay builds one: genesis, then real entries signed with keys from fixed seeds, each
//! decoded from its envelope, its signer checked and applied through the rules.

mod authority;
mod buckets;
mod format4;
mod keys;
mod models;
mod moves;
mod suspension;

use super::{State, StateError, genesis_body};
use crate::crypto::envelope::{self, Unverified};
use crate::crypto::keys::{Fingerprint, SecretKey};
use crate::format::entry::{
    Add, Body, Entry, Header, KeyRef, KeyRevoke, KeyTrust, Role, SlotChange, SlotEffect, Transition,
};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::util::encoding::b64_encode;

/// A key from a fixed seed.
fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32]).expect("a fixed seed makes a key")
}

/// A registry's state with one key of each role, a revoked operator key, and a model in each
/// interesting position:
///
/// - `alpha@1.0.0`: REGISTERED;
/// - `beta@1.0.0`: PROMOTED, the active model of slot `prod`;
/// - `gamma@1.0.0`: PROMOTED, in no slot;
/// - `delta@1.0.0`: REVOKED, not purged.
pub(super) struct Fx {
    pub state: State,
    pub root: SecretKey,
    pub op: SecretKey,
    pub publisher: SecretKey,
    pub reporter: SecretKey,
    pub timestamp: SecretKey,
    /// An operator key, revoked at [`Fx::revoked_at`].
    pub old: SecretKey,
    pub revoked_at: u64,
    /// A key this registry never trusted.
    pub stranger: SecretKey,
    pub alpha: ObjectId,
    pub beta: ObjectId,
    pub gamma: ObjectId,
    pub delta: ObjectId,
}

impl Fx {
    pub fn new() -> Fx {
        let root = key(1);
        let genesis = Entry {
            header: Header {
                actor: root.public().fingerprint().clone(),
                prev: None,
                registry: None,
                seq: 0,
                time: "2026-01-01T00:00:00Z".into(),
            },
            body: genesis_body(root.public(), Vec::new(), &[7; 32], None),
        };
        let (id, entry) = sign(&root, &genesis);
        let (state, _) = State::from_genesis(id, &entry).expect("a valid genesis");
        let mut fx = Fx {
            state,
            root,
            op: key(2),
            publisher: key(3),
            reporter: key(4),
            timestamp: key(11),
            old: key(5),
            revoked_at: 0,
            stranger: key(6),
            alpha: record("alpha"),
            beta: record("beta"),
            gamma: record("gamma"),
            delta: record("delta"),
        };
        for (k, role) in [
            (key(2), Role::Operator),
            (key(3), Role::Publisher),
            (key(4), Role::Reporter),
            (key(5), Role::Operator),
            (key(11), Role::Timestamp),
        ] {
            fx.ok(&key(1), trust(&k, role));
        }
        fx.ok(&key(1), revoke(&key(5)));
        fx.revoked_at = fx.state.seq;
        let op = key(2);
        for name in ["alpha", "beta", "gamma", "delta"] {
            fx.ok(&op, add(name));
        }
        for m in [fx.beta, fx.gamma, fx.delta] {
            fx.ok(&op, fx.moved(&m, LifecycleState::Promoted));
        }
        fx.ok(&op, fx.set_slot("prod", Some(fx.beta)));
        fx.ok(&op, fx.moved(&fx.delta, LifecycleState::Revoked));
        fx
    }

    /// `body` as the next entry signed by `key`, through its envelope and back.
    pub fn entry(&self, key: &SecretKey, body: Body) -> (ObjectId, Entry) {
        let entry = Entry {
            header: Header {
                actor: key.public().fingerprint().clone(),
                prev: Some(self.state.head),
                registry: Some(self.state.registry),
                seq: self.state.seq + 1,
                time: "2026-01-02T00:00:00Z".into(),
            },
            body,
        };
        sign(key, &entry)
    }

    /// Signs `body` next and applies it as replay does (signer, then rules); the state is
    /// unchanged on error.
    pub fn commit(&mut self, key: &SecretKey, body: Body) -> Result<ObjectId, StateError> {
        let (id, entry) = self.entry(key, body);
        self.state.check_signer(&entry.header.actor, &entry.body)?;
        self.state.apply(id, &entry)?;
        Ok(id)
    }

    /// [`Fx::commit`], which must succeed.
    pub fn ok(&mut self, key: &SecretKey, body: Body) -> ObjectId {
        self.commit(key, body)
            .expect("the fixture's entries follow the rules")
    }

    /// What [`State::check`] says of `body` signed by `key` next; asserts it changed nothing.
    pub fn check(&self, key: &SecretKey, body: Body) -> Result<(), StateError> {
        let (_, entry) = self.entry(key, body);
        let before = self.state.clone();
        let result = self.state.check(&entry);
        assert_eq!(self.state, before, "a check changes nothing");
        result
    }

    /// A transition of `model` from its state now to `to`, following its latest entry.
    pub fn moved(&self, model: &ObjectId, to: LifecycleState) -> Body {
        let m = &self.state.models[model];
        Body::Transition(Transition {
            deny: false,
            from: m.state,
            model: *model,
            previous: m.entry,
            reason: "why".into(),
            slots: Vec::new(),
            to,
        })
    }

    /// A revocation of `model` saying what happens to `slots`.
    pub fn revocation(&self, model: &ObjectId, slots: Vec<SlotEffect>) -> Body {
        let Body::Transition(mut t) = self.moved(model, LifecycleState::Revoked) else {
            unreachable!("moved gives a transition")
        };
        t.slots = slots;
        Body::Transition(t)
    }

    /// A slot change following the entry that last set `slot`.
    pub fn set_slot(&self, slot: &str, model: Option<ObjectId>) -> Body {
        Body::Slot(SlotChange {
            model,
            previous: self.state.slots.get(slot).map(|s| s.entry),
            reason: "why".into(),
            slot: slot.into(),
        })
    }

    pub fn fp(key: &SecretKey) -> Fingerprint {
        key.public().fingerprint().clone()
    }
}

/// Signs `entry` with `key` and decodes it back from the envelope, signature checked.
fn sign(key: &SecretKey, entry: &Entry) -> (ObjectId, Entry) {
    let payload = entry.to_payload().expect("a writable entry");
    let bytes = envelope::sign_bytes(entry.body.kind(), &payload, key).expect("signed");
    let env = Unverified::parse(&bytes).expect("an envelope");
    env.verify_single(key.public()).expect("its signature");
    let back = Entry::from_envelope(&env).expect("an entry");
    assert_eq!(&back, entry);
    (ObjectId::of(&bytes), back)
}

/// The record id of model `name` (the bytes are not needed: the record rule is tested apart).
fn record(name: &str) -> ObjectId {
    ObjectId::of(format!("{name} record").as_bytes())
}

/// The artifacts of model `name`: one of its own and one every model shares.
fn artifacts(name: &str) -> Vec<ObjectId> {
    let mut a = vec![
        ObjectId::of(format!("{name} weights").as_bytes()),
        ObjectId::of(b"shared tokenizer"),
    ];
    a.sort();
    a
}

/// The `add` of `name@1.0.0`.
fn add(name: &str) -> Body {
    Body::Add(Add {
        artifacts: artifacts(name),
        bundle: ObjectId::of(format!("{name} bundle").as_bytes()),
        encrypted: false,
        name: name.into(),
        publisher: Some(key(3).public().fingerprint().clone()),
        record: record(name),
        version: "1.0.0".into(),
    })
}

/// A key-trust granting `role` to `key`.
fn trust(key: &SecretKey, role: Role) -> Body {
    Body::KeyTrust(KeyTrust {
        name: None,
        key: KeyRef {
            fingerprint: key.public().fingerprint().clone(),
            public_key: b64_encode(&key.public().to_bytes()),
        },
        reason: "why".into(),
        role,
    })
}

/// A key-revoke of `key`.
fn revoke(key: &SecretKey) -> Body {
    Body::KeyRevoke(KeyRevoke {
        compromised: false,
        fingerprint: key.public().fingerprint().clone(),
        reason: "why".into(),
    })
}

/// A valid drift observation.
fn observation() -> serde_json::Map<String, serde_json::Value> {
    let value = serde_json::json!({
        "window": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"},
        "baseline": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "samples": 1000,
        "metrics": [{"name": "psi-main", "kind": "psi", "value": 0.125, "threshold": 0.2}]
    });
    let serde_json::Value::Object(map) = value else {
        unreachable!("an object literal")
    };
    map
}

/// `format_version()` reports the version genesis set (5 today), which decides whether legacy
/// number spellings are still accepted; a constant 0 or 1 would report every registry as old.
/// It has no caller inside reg, so only this test reads it.
#[test]
fn the_format_version_read_back_is_the_one_genesis_set() {
    let fx = Fx::new();
    assert_eq!(fx.state.format_version(), super::FORMAT_VERSION);
    assert_eq!(fx.state.format_version(), 5);
}
