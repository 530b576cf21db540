//! The rules of genesis, key-trust, key-revoke, recipients and policy, and of reasons.

use super::*;
use crate::format::entry::{Genesis, MAX_CHECKPOINT_AGE_DAYS, Policy, PolicyDoc, Recipients};
use crate::format::formats::Format;

/// A genesis entry of `body` signed by `signer`, and what [`State::from_genesis`] says of it.
fn genesis(signer: &SecretKey, body: Body) -> Result<(), StateError> {
    let entry = Entry {
        header: Header {
            actor: Fx::fp(signer),
            prev: None,
            registry: None,
            seq: 0,
            time: "2026-01-01T00:00:00Z".into(),
        },
        body,
    };
    let (id, entry) = sign(signer, &entry);
    State::from_genesis(id, &entry).map(|_| ())
}

fn genesis_of(edit: impl FnOnce(&mut Genesis)) -> Body {
    let Body::Genesis(mut g) = genesis_body(key(1).public(), Vec::new(), &[7; 32], None) else {
        unreachable!("genesis_body gives a genesis")
    };
    edit(&mut g);
    Body::Genesis(g)
}

#[test]
fn genesis_rules() {
    let root = key(1);
    assert_eq!(genesis(&root, genesis_of(|_| {})), Ok(()));
    assert_eq!(
        genesis(&root, trust(&key(2), Role::Root)),
        Err(StateError::NotGenesis)
    );
    assert_eq!(
        genesis(&root, genesis_of(|g| g.format_version = 99)),
        Err(StateError::GenesisVersion(99))
    );
    assert_eq!(
        StateError::GenesisVersion(99).to_string(),
        "genesis has format version 99, this reg reads versions 1 to 5"
    );
    assert_eq!(
        genesis(&root, genesis_of(|g| g.keys.push(g.keys[0].clone()))),
        Err(StateError::GenesisKeys)
    );
    assert_eq!(
        genesis(&root, genesis_of(|g| g.keys[0].roles.push(Role::Operator))),
        Err(StateError::GenesisRoles)
    );
    assert_eq!(
        genesis(&key(2), genesis_of(|_| {})),
        Err(StateError::GenesisSigner)
    );
    assert_eq!(
        genesis(&root, genesis_of(|g| g.nonce = Some("AB".repeat(32)))),
        Err(StateError::GenesisNonce)
    );
    assert_eq!(
        StateError::GenesisNonce.to_string(),
        "the genesis nonce must be 64 lowercase hex digits (32 bytes)"
    );
    assert_eq!(
        genesis(
            &root,
            genesis_of(|g| g.recipients = vec!["age1nope".into()])
        )
        .map_err(|e| matches!(e, StateError::BadRecipient(_))),
        Err(true)
    );
    // After entry 0, a genesis is refused whoever signs it.
    let fx = Fx::new();
    assert_eq!(
        fx.check(&fx.root, genesis_of(|_| {})),
        Err(StateError::LateGenesis)
    );
}

#[test]
fn key_trust_rules() {
    let mut fx = Fx::new();
    let op = Fx::fp(&fx.op);
    assert_eq!(
        fx.check(&fx.root, trust(&fx.op, Role::Operator)),
        Err(StateError::AlreadyTrusted {
            fingerprint: op.clone(),
            role: Role::Operator
        })
    );
    // Another role for a trusted key is fine; the key keeps when it was first trusted.
    let since = fx.state.keys[&op].since;
    fx.ok(&key(1), trust(&key(2), Role::Reporter));
    assert_eq!(fx.state.keys[&op].since, since);
    assert_eq!(
        fx.check(&fx.root, trust(&fx.old, Role::Publisher)),
        Err(StateError::AlreadyRevoked {
            fingerprint: Fx::fp(&fx.old),
            at: fx.revoked_at
        })
    );
    // A fingerprint listed with another key's bytes.
    let Body::KeyTrust(mut t) = trust(&key(11), Role::Operator) else {
        unreachable!()
    };
    t.key.fingerprint = Fx::fp(&key(12));
    assert_eq!(
        fx.check(&fx.root, Body::KeyTrust(t.clone())),
        Err(StateError::KeyFingerprint {
            listed: Fx::fp(&key(12)),
            actual: Fx::fp(&key(11))
        })
    );
    t.key.public_key = "AAAA".into();
    assert_eq!(
        fx.check(&fx.root, Body::KeyTrust(t)),
        Err(StateError::KeyEncoding(Fx::fp(&key(12))))
    );
    // The same fingerprint with other bytes than the state holds (a state edited by hand).
    let mut edited = fx.state.clone();
    edited.keys.get_mut(&op).expect("trusted").public_key =
        b64_encode(&key(13).public().to_bytes());
    let (_, entry) = fx.entry(&fx.root, trust(&fx.op, Role::Publisher));
    assert_eq!(edited.check(&entry), Err(StateError::KeyBytesDiffer(op)));
}

#[test]
fn key_revoke_rules() {
    let mut fx = Fx::new();
    assert_eq!(
        fx.check(&fx.root, revoke(&fx.stranger)),
        Err(StateError::UnknownKey(Fx::fp(&fx.stranger)))
    );
    assert_eq!(
        fx.check(&fx.root, revoke(&fx.old)),
        Err(StateError::AlreadyRevoked {
            fingerprint: Fx::fp(&fx.old),
            at: fx.revoked_at
        })
    );
    let root = Fx::fp(&fx.root);
    assert_eq!(
        fx.check(&fx.root, revoke(&fx.root)),
        Err(StateError::LastRoot(root.clone()))
    );
    assert_eq!(
        StateError::LastRoot(root.clone()).to_string(),
        format!("refusing to revoke {root}: it is the last unrevoked root key")
    );
    // With a second root, the first can go; then the second is the last.
    fx.ok(&key(1), trust(&key(14), Role::Root));
    fx.ok(&key(14), revoke(&key(1)));
    assert_eq!(fx.state.keys[&root].revoked, Some(fx.state.seq));
    assert_eq!(
        fx.check(&key(14), revoke(&key(14))),
        Err(StateError::LastRoot(Fx::fp(&key(14))))
    );
}

fn withdraw(key: &SecretKey, role: Role) -> Body {
    Body::KeyWithdraw(crate::format::entry::KeyWithdraw {
        fingerprint: key.public().fingerprint().clone(),
        reason: "why".into(),
        role,
    })
}

#[test]
fn key_withdraw_rules() {
    let mut fx = Fx::new();
    let root = key(1);
    let rfp = Fx::fp(&root);
    // The root key also reports; root is still not taken from the last root key.
    fx.ok(&root, trust(&root, Role::Reporter));
    assert_eq!(
        fx.check(&root, withdraw(&root, Role::Root)),
        Err(StateError::LastRootWithdrawn(rfp.clone()))
    );
    assert_eq!(
        StateError::LastRootWithdrawn(rfp.clone()).to_string(),
        format!("refusing to withdraw root from {rfp}: it is the last unrevoked root key")
    );
    assert_eq!(
        fx.check(&root, withdraw(&fx.stranger, Role::Operator)),
        Err(StateError::UnknownKey(Fx::fp(&fx.stranger)))
    );
    // With a second root, the first gives root up and keeps reporting.
    fx.ok(&root, trust(&key(14), Role::Root));
    fx.ok(&root, withdraw(&root, Role::Root));
    assert_eq!(
        fx.state.keys[&rfp].roles,
        std::collections::BTreeSet::from([Role::Reporter])
    );
    assert_eq!(fx.state.keys[&rfp].revoked, None);
    assert_eq!(
        fx.check(&key(14), withdraw(&root, Role::Reporter)),
        Err(StateError::OnlyRole {
            fingerprint: rfp.clone(),
            role: Role::Reporter
        })
    );
    assert_eq!(
        fx.check(&key(14), withdraw(&root, Role::Root)),
        Err(StateError::RoleNotHeld {
            fingerprint: rfp,
            role: Role::Root
        })
    );
}

#[test]
fn time_order_marks_each_entry_dated_before_the_one_it_follows() {
    let mut order = crate::state::TimeOrder::default();
    assert_eq!(order.next(0, "2026-01-01T00:00:00Z"), None);
    assert_eq!(
        order.next(1, "2026-01-01T00:00:00Z"),
        None,
        "the same second"
    );
    let back = order.next(2, "1970-01-01T00:00:00Z").expect("backwards");
    assert_eq!(
        back.to_string(),
        "entry 2 is dated 1970-01-01T00:00:00Z, before entry 1 (2026-01-01T00:00:00Z)"
    );
    // Measured from the entry before, not from the latest time seen.
    assert_eq!(order.next(3, "2000-01-01T00:00:00Z"), None);
    assert!(order.next(4, "1999-12-31T23:59:59Z").is_some());
}

#[test]
fn an_empty_reason_is_refused() {
    let fx = Fx::new();
    let Body::Transition(mut t) = fx.moved(&fx.alpha, LifecycleState::Promoted) else {
        unreachable!()
    };
    t.reason = " \n\t".into();
    assert_eq!(
        fx.check(&fx.op, Body::Transition(t)),
        Err(StateError::EmptyReason)
    );
}

fn policy(refuse_formats: Vec<Format>, days: Option<u32>) -> Body {
    Body::Policy(Policy {
        policy: PolicyDoc {
            refuse_formats,
            checkpoint_max_age_days: days,
            ..PolicyDoc::default()
        },
        reason: "why".into(),
    })
}

#[test]
fn policy_rules() {
    let mut fx = Fx::new();
    let root = key(1);
    assert_eq!(
        fx.check(&root, policy(vec![Format::Onnx, Format::Gguf], None)),
        Err(StateError::PolicyFormatsOrder)
    );
    assert_eq!(
        fx.check(&root, policy(vec![Format::Gguf, Format::Gguf], None)),
        Err(StateError::PolicyFormatsOrder)
    );
    for days in [0, MAX_CHECKPOINT_AGE_DAYS + 1] {
        assert_eq!(
            fx.check(&root, policy(Vec::new(), Some(days))),
            Err(StateError::PolicyMaxAge(days))
        );
    }
    assert_eq!(
        StateError::PolicyMaxAge(0).to_string(),
        "policy checkpoint_max_age_days must be 1 to 36500"
    );
    fx.ok(
        &root,
        policy(
            vec![Format::Gguf, Format::Onnx],
            Some(MAX_CHECKPOINT_AGE_DAYS),
        ),
    );
    assert_eq!(
        fx.state.policy.refuse_formats,
        vec![Format::Gguf, Format::Onnx]
    );
}

#[test]
fn recipients_rules() {
    let mut fx = Fx::new();
    let root = key(1);
    let mut list: Vec<String> = (0..2)
        .map(|_| age::x25519::Identity::generate().to_public().to_string())
        .collect();
    list.sort();
    let body = |recipients: Vec<String>| {
        Body::Recipients(Recipients {
            reason: "why".into(),
            recipients,
        })
    };
    let reversed: Vec<String> = list.iter().rev().cloned().collect();
    assert_eq!(
        fx.check(&root, body(reversed)),
        Err(StateError::RecipientsOrder)
    );
    let twice = vec![list[0].clone(), list[0].clone()];
    assert_eq!(
        fx.check(&root, body(twice)),
        Err(StateError::RecipientsOrder)
    );
    assert!(matches!(
        fx.check(&root, body(vec!["age1nope".into()])),
        Err(StateError::BadRecipient(_))
    ));
    fx.ok(&root, body(list.clone()));
    assert_eq!(fx.state.recipients, list);
}
