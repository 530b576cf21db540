//! Compromise, suspension and re-approval (FORMAT.md §5.3, §5.14).

use super::*;
use crate::format::entry::{Genesis, Reapprove};
use crate::state::Suspension;
use LifecycleState::*;

/// A key-revoke of `key` as compromised.
fn compromise(key: &SecretKey) -> Body {
    Body::KeyRevoke(KeyRevoke {
        compromised: true,
        fingerprint: Fx::fp(key),
        reason: "stolen".into(),
    })
}

/// A re-approval of `model` following its latest entry.
fn reapproval(fx: &Fx, model: &ObjectId) -> Body {
    Body::Reapprove(Reapprove {
        model: *model,
        previous: fx.state.models[model].entry,
        reason: "checked".into(),
    })
}

/// The fixture with a second operator, `key(7)`, that approved nothing.
fn with_second_operator() -> (Fx, SecretKey) {
    let mut fx = Fx::new();
    let op2 = key(7);
    fx.ok(&key(1), trust(&op2, Role::Operator));
    (fx, op2)
}

fn suspension(fx: &Fx, model: &ObjectId) -> Option<Suspension> {
    fx.state.models[model].suspended.clone()
}

#[test]
fn a_compromised_publisher_suspends_every_model_it_signed_that_is_not_revoked() {
    let mut fx = Fx::new();
    let publisher = Fx::fp(&key(3));
    let mut resting = vec![fx.alpha, fx.beta, fx.gamma];
    resting.sort();
    assert_eq!(
        fx.state.resting_on(&publisher),
        resting,
        "a revoked model rests on nothing"
    );
    fx.ok(&key(1), compromise(&key(3)));
    let at = fx.state.seq;
    let by = Some(Suspension {
        key: publisher.clone(),
        seq: at,
    });
    for m in [fx.alpha, fx.beta, fx.gamma] {
        assert_eq!(suspension(&fx, &m), by, "{}", fx.state.spec(&m));
    }
    assert_eq!(
        suspension(&fx, &fx.delta),
        None,
        "a REVOKED model is not suspended"
    );
    let ks = &fx.state.keys[&publisher];
    assert!(ks.compromised && ks.revoked == Some(at));
    // The lifecycle states and the slot are unchanged: a suspension is not a move.
    assert_eq!(fx.state.models[&fx.beta].state, Promoted);
    assert_eq!(fx.state.slots["prod"].model, fx.beta);
}

#[test]
fn a_retired_key_suspends_nothing_and_reads_as_not_compromised() {
    let mut fx = Fx::new();
    fx.ok(&key(1), revoke(&key(3)));
    fx.ok(&key(1), revoke(&key(2)));
    assert!(fx.state.models.values().all(|m| m.suspended.is_none()));
    assert!(!fx.state.keys[&Fx::fp(&key(3))].compromised);
    // The fixture's operator revoked at the start (retired) was never compromised either.
    assert!(!fx.state.keys[&Fx::fp(&fx.old)].compromised);
}

#[test]
fn a_compromised_operator_suspends_what_it_admitted_or_approved() {
    let (mut fx, op2) = with_second_operator();
    // A model op2 admitted and approved rests on op2 and the publisher, not on op.
    fx.ok(&op2, add("epsilon"));
    let epsilon = record("epsilon");
    fx.ok(&op2, fx.moved(&epsilon, Promoted));
    fx.ok(&key(1), compromise(&key(2)));
    for m in [fx.alpha, fx.beta, fx.gamma] {
        assert!(suspension(&fx, &m).is_some(), "{}", fx.state.spec(&m));
    }
    assert_eq!(suspension(&fx, &epsilon), None);
}

#[test]
fn a_suspended_model_keeps_its_first_suspension() {
    let (mut fx, _) = with_second_operator();
    fx.ok(&key(1), compromise(&key(2)));
    let first = fx.state.seq;
    fx.ok(&key(1), compromise(&key(3)));
    assert_eq!(
        suspension(&fx, &fx.beta),
        Some(Suspension {
            key: Fx::fp(&key(2)),
            seq: first
        })
    );
}

#[test]
fn a_reapproval_lifts_the_suspension_and_rests_the_model_on_its_operator_alone() {
    let (mut fx, op2) = with_second_operator();
    fx.ok(&key(1), compromise(&key(3)));
    let id = fx.ok(&op2, reapproval(&fx, &fx.beta));
    let m = &fx.state.models[&fx.beta];
    assert_eq!(m.suspended, None);
    assert_eq!((m.state, m.entry), (Promoted, id), "it keeps its state");
    assert_eq!(m.approvers, [Fx::fp(&op2)].into_iter().collect());
    assert_eq!(m.publisher, Some(Fx::fp(&key(3))), "its publisher stays");
    // The operator that approved it before is compromised later: the re-approved model no
    // longer rests on it, so it is not suspended again; gamma keeps its first suspension.
    let first = suspension(&fx, &fx.gamma);
    fx.ok(&key(1), compromise(&key(2)));
    assert_eq!(suspension(&fx, &fx.beta), None);
    assert_eq!(suspension(&fx, &fx.gamma), first);
    assert!(!fx.state.resting_on(&Fx::fp(&key(2))).contains(&fx.beta));
    // The operator it rests on now is compromised: it is suspended again, by that key.
    fx.ok(&key(1), compromise(&op2));
    assert_eq!(
        suspension(&fx, &fx.beta),
        Some(Suspension {
            key: Fx::fp(&op2),
            seq: fx.state.seq
        })
    );
}

#[test]
fn a_suspended_model_is_neither_promoted_nor_activated_but_may_be_deprecated_and_revoked() {
    let (mut fx, op2) = with_second_operator();
    fx.ok(&key(1), compromise(&key(3)));
    let at = fx.state.seq;
    let suspended = |spec: &str| {
        Err(StateError::Suspended {
            spec: spec.into(),
            key: Fx::fp(&key(3)),
            at,
        })
    };
    assert_eq!(
        fx.check(&op2, fx.moved(&fx.alpha, Promoted)),
        suspended("alpha@1.0.0")
    );
    fx.ok(&op2, fx.moved(&fx.beta, Deprecated));
    assert_eq!(
        fx.check(&op2, fx.moved(&fx.beta, Promoted)),
        suspended("beta@1.0.0"),
        "a DEPRECATED suspended model is not reinstated"
    );
    assert_eq!(
        fx.check(&op2, fx.set_slot("prod", Some(fx.gamma))),
        suspended("gamma@1.0.0")
    );
    assert_eq!(
        fx.check(&op2, fx.set_slot("spare", Some(fx.gamma))),
        suspended("gamma@1.0.0")
    );
    fx.ok(&op2, fx.moved(&fx.gamma, Revoked));
    fx.ok(
        &op2,
        fx.revocation(
            &fx.beta,
            vec![SlotEffect {
                replacement: None,
                slot: "prod".into(),
            }],
        ),
    );
    // After a re-approval the same moves pass.
    fx.ok(&op2, reapproval(&fx, &fx.alpha));
    fx.ok(&op2, fx.moved(&fx.alpha, Promoted));
    fx.ok(&op2, fx.set_slot("prod", Some(fx.alpha)));
}

#[test]
fn a_reapproval_needs_a_suspended_unrevoked_model_its_latest_entry_and_an_operator() {
    let (mut fx, op2) = with_second_operator();
    assert_eq!(
        fx.check(&op2, reapproval(&fx, &fx.beta)),
        Err(StateError::NotSuspended {
            spec: "beta@1.0.0".into(),
            revoked: false
        })
    );
    fx.ok(&key(1), compromise(&key(3)));
    fx.ok(&op2, fx.moved(&fx.gamma, Revoked));
    for m in [fx.gamma, fx.delta] {
        assert_eq!(
            fx.check(&op2, reapproval(&fx, &m)),
            Err(StateError::NotSuspended {
                spec: fx.state.spec(&m),
                revoked: true
            }),
            "a REVOKED model, suspended before its revocation or not"
        );
    }
    let latest = fx.state.models[&fx.beta].entry;
    let added = fx.state.models[&fx.beta].added;
    let stale = Body::Reapprove(Reapprove {
        model: fx.beta,
        previous: added,
        reason: "checked".into(),
    });
    assert_eq!(
        fx.check(&op2, stale),
        Err(StateError::StalePrevious(Box::new(
            crate::state::StalePrevious {
                spec: "beta@1.0.0".into(),
                named: added,
                latest
            }
        )))
    );
    let ghost = Body::Reapprove(Reapprove {
        model: record("nobody"),
        previous: latest,
        reason: "checked".into(),
    });
    assert_eq!(
        fx.check(&op2, ghost),
        Err(StateError::UnknownModel(record("nobody")))
    );
    let empty = Body::Reapprove(Reapprove {
        model: fx.beta,
        previous: latest,
        reason: " ".into(),
    });
    assert_eq!(fx.check(&op2, empty), Err(StateError::EmptyReason));
    assert!(matches!(
        fx.check(&key(1), reapproval(&fx, &fx.beta)),
        Err(StateError::MissingRole {
            role: Role::Operator,
            ..
        })
    ));
    // Re-approved once, the model is not suspended any more: a second one is refused.
    fx.ok(&op2, reapproval(&fx, &fx.beta));
    assert!(matches!(
        fx.check(&op2, reapproval(&fx, &fx.beta)),
        Err(StateError::NotSuspended { revoked: false, .. })
    ));
}

#[test]
fn a_compromised_root_suspends_nothing() {
    let mut fx = Fx::new();
    let root2 = key(8);
    fx.ok(&key(1), trust(&root2, Role::Root));
    fx.ok(&root2, compromise(&key(1)));
    assert!(fx.state.models.values().all(|m| m.suspended.is_none()));
    assert!(fx.state.keys[&Fx::fp(&key(1))].compromised);
    // The last root cannot be revoked, compromised or not.
    assert_eq!(
        fx.check(&root2, compromise(&root2)),
        Err(StateError::LastRoot(Fx::fp(&root2)))
    );
}

#[test]
fn a_registry_before_format_4_refuses_a_compromised_revocation() {
    let mut fx = Fx::new();
    let Body::Genesis(g) = genesis_body(key(1).public(), Vec::new(), &[7; 32], None) else {
        unreachable!("genesis_body gives a genesis")
    };
    let g = Genesis {
        format_version: 3,
        ..g
    };
    let entry = Entry {
        header: Header {
            actor: Fx::fp(&key(1)),
            prev: None,
            registry: None,
            seq: 0,
            time: "2026-01-01T00:00:00Z".into(),
        },
        body: Body::Genesis(g),
    };
    let (id, entry) = sign(&key(1), &entry);
    fx.state = State::from_genesis(id, &entry)
        .expect("a format-3 genesis")
        .0;
    fx.ok(&key(1), trust(&key(3), Role::Publisher));
    assert_eq!(
        fx.check(&key(1), compromise(&key(3))),
        Err(StateError::NeedsFormat {
            what: "revoking a key as compromised",
            needs: 4,
            version: 3
        })
    );
    // Retired, as every revocation of a format-3 registry reads.
    fx.ok(&key(1), revoke(&key(3)));
    assert!(!fx.state.keys[&Fx::fp(&key(3))].compromised);
}
