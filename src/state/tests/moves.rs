//! The rules of transitions and slot changes.

use super::*;
use crate::format::lifecycle::verb;
use LifecycleState::*;

fn with(body: Body, edit: impl FnOnce(&mut Transition)) -> Body {
    let Body::Transition(mut t) = body else {
        unreachable!("a transition")
    };
    edit(&mut t);
    Body::Transition(t)
}

fn effect(slot: &str, replacement: Option<ObjectId>) -> SlotEffect {
    SlotEffect {
        replacement,
        slot: slot.into(),
    }
}

#[test]
fn transitions_follow_the_model() {
    let mut fx = Fx::new();
    let op = key(2);
    // A wrong `from`: the entry is stale or forged.
    let wrong = with(fx.moved(&fx.alpha, Promoted), |t| t.from = Deprecated);
    assert_eq!(
        fx.check(&op, wrong.clone()),
        Err(StateError::StaleFrom {
            spec: "alpha@1.0.0".into(),
            claimed: Deprecated,
            state: Registered
        })
    );
    assert_eq!(
        fx.check(&op, wrong).unwrap_err().to_string(),
        "the transition says alpha@1.0.0 is Deprecated, but it is REGISTERED"
    );
    // A stale `previous`.
    let stale = with(fx.moved(&fx.alpha, Promoted), |t| t.previous = fx.beta);
    let latest = fx.state.models[&fx.alpha].entry;
    assert_eq!(
        fx.check(&op, stale),
        Err(StateError::StalePrevious(Box::new(
            crate::state::StalePrevious {
                spec: "alpha@1.0.0".into(),
                named: fx.beta,
                latest
            }
        )))
    );
    let unknown = record("nobody");
    let ghost = with(fx.moved(&fx.alpha, Promoted), |t| t.model = unknown);
    assert_eq!(fx.check(&op, ghost), Err(StateError::UnknownModel(unknown)));
    // A good move, then the one after it must follow it.
    let id = fx.ok(&op, fx.moved(&fx.alpha, Promoted));
    let m = &fx.state.models[&fx.alpha];
    assert_eq!((m.state, m.entry), (Promoted, id));
    fx.ok(&op, fx.moved(&fx.alpha, Deprecated));
    fx.ok(&op, fx.moved(&fx.alpha, Promoted));
}

#[test]
fn the_state_machine_is_enforced() {
    let fx = Fx::new();
    let op = key(2);
    // REVOKED is terminal.
    assert_eq!(
        fx.check(&op, fx.moved(&fx.delta, Promoted)),
        Err(StateError::IllegalMove {
            verb: verb(Promoted),
            spec: "delta@1.0.0".into(),
            state: Revoked
        })
    );
    // Nothing skips a step: REGISTERED -> DEPRECATED, PROMOTED -> PROMOTED.
    assert!(matches!(
        fx.check(&op, fx.moved(&fx.alpha, Deprecated)),
        Err(StateError::IllegalMove {
            state: Registered,
            ..
        })
    ));
    assert!(matches!(
        fx.check(&op, fx.moved(&fx.gamma, Promoted)),
        Err(StateError::IllegalMove {
            state: Promoted,
            ..
        })
    ));
    // Only a revocation speaks of slots.
    let with_slots = with(fx.moved(&fx.beta, Deprecated), |t| {
        t.slots = vec![effect("prod", None)]
    });
    assert_eq!(
        fx.check(&op, with_slots),
        Err(StateError::SlotsWithoutRevocation)
    );
}

#[test]
fn a_revocation_says_what_happens_to_its_slots() {
    let mut fx = Fx::new();
    let op = key(2);
    assert_eq!(
        fx.check(&op, fx.revocation(&fx.beta, Vec::new())),
        Err(StateError::ActiveSlots {
            spec: "beta@1.0.0".into(),
            slots: vec!["prod".into()]
        })
    );
    assert_eq!(
        fx.check(&op, fx.revocation(&fx.beta, vec![effect("other", None)])),
        Err(StateError::ActiveSlots {
            spec: "beta@1.0.0".into(),
            slots: vec!["prod".into()]
        })
    );
    // The replacement must be another PROMOTED model.
    assert_eq!(
        fx.check(
            &op,
            fx.revocation(&fx.beta, vec![effect("prod", Some(fx.alpha))])
        ),
        Err(StateError::NotPromoted {
            spec: "alpha@1.0.0".into(),
            state: Registered
        })
    );
    assert_eq!(
        fx.check(
            &op,
            fx.revocation(&fx.beta, vec![effect("prod", Some(fx.beta))])
        ),
        Err(StateError::NotPromoted {
            spec: "beta@1.0.0".into(),
            state: Revoked
        })
    );
    // A model in no slot is revoked with no effects; one in a slot hands it over.
    fx.ok(&op, fx.revocation(&fx.alpha, Vec::new()));
    let id = fx.ok(
        &op,
        fx.revocation(&fx.beta, vec![effect("prod", Some(fx.gamma))]),
    );
    let prod = &fx.state.slots["prod"];
    assert_eq!((prod.model, prod.entry), (fx.gamma, id));
    assert_eq!(fx.state.models[&fx.beta].state, Revoked);
    fx.ok(&op, fx.revocation(&fx.gamma, vec![effect("prod", None)]));
    assert!(fx.state.slots.is_empty());
}

#[test]
fn slot_rules() {
    let mut fx = Fx::new();
    let op = key(2);
    assert_eq!(
        fx.check(&op, fx.set_slot("edge", Some(fx.alpha))),
        Err(StateError::NotPromoted {
            spec: "alpha@1.0.0".into(),
            state: Registered
        })
    );
    assert_eq!(
        fx.check(&op, fx.set_slot("edge", Some(fx.delta))),
        Err(StateError::NotPromoted {
            spec: "delta@1.0.0".into(),
            state: Revoked
        })
    );
    assert_eq!(
        fx.check(&op, fx.set_slot("prod", Some(fx.beta))),
        Err(StateError::AlreadyActive {
            spec: "beta@1.0.0".into(),
            slot: "prod".into()
        })
    );
    assert_eq!(
        fx.check(&op, fx.set_slot("edge", None)),
        Err(StateError::SlotNotSet("edge".into()))
    );
    assert!(matches!(
        fx.check(&op, fx.set_slot("Not A Slot", Some(fx.gamma))),
        Err(StateError::Name(_))
    ));
    // A change that does not follow the entry that last set the slot.
    let Body::Slot(mut stale) = fx.set_slot("prod", Some(fx.gamma)) else {
        unreachable!()
    };
    stale.previous = None;
    assert_eq!(
        fx.check(&op, Body::Slot(stale.clone())),
        Err(StateError::StaleSlot("prod".into()))
    );
    let id = fx.ok(&op, fx.set_slot("prod", Some(fx.gamma)));
    assert_eq!(fx.state.slots["prod"].entry, id);
    stale.previous = fx.state.slots["prod"].entry.into();
    stale.model = Some(fx.beta);
    fx.ok(&op, Body::Slot(stale));
    fx.ok(&op, fx.set_slot("prod", None));
    assert!(fx.state.slots.is_empty());
}

/// A refused entry leaves the state as it was, through [`State::apply`] as through the check.
#[test]
fn a_refused_apply_changes_nothing() {
    let mut fx = Fx::new();
    let before = fx.state.clone();
    let op = key(2);
    let refused = [
        fx.moved(&fx.delta, Promoted),
        fx.revocation(&fx.beta, Vec::new()),
        fx.set_slot("prod", Some(fx.alpha)),
        add("alpha"),
    ];
    for body in refused {
        let (id, entry) = fx.entry(&op, body);
        assert!(fx.state.apply(id, &entry).is_err());
        assert_eq!(fx.state, before);
    }
    assert!(fx.commit(&key(6), add("epsilon")).is_err());
    assert_eq!(fx.state, before);
}
