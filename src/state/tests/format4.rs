//! Format 4's rules on the state alone (FORMAT.md §5.1 rule 5, §5.3, §5.5, §5.14, §5.15): what
//! each refuses and what each changes, beside the CLI tests that reach them through writers.

use super::*;
use crate::format::entry::{DenyLift, KeyWithdraw, Policy, PolicyDoc, Reapprove};

fn compromise(key: &SecretKey) -> Body {
    Body::KeyRevoke(KeyRevoke {
        compromised: true,
        fingerprint: Fx::fp(key),
        reason: "stolen".into(),
    })
}

fn policy(doc: PolicyDoc) -> Body {
    Body::Policy(Policy {
        policy: doc,
        reason: "why".into(),
    })
}

fn duties() -> PolicyDoc {
    PolicyDoc {
        separate_duties: true,
        ..PolicyDoc::default()
    }
}

fn reapprove(fx: &Fx, model: &ObjectId) -> Body {
    Body::Reapprove(Reapprove {
        model: *model,
        previous: fx.state.models[model].entry,
        reason: "checked against the vendor's hashes".into(),
    })
}

fn lift(artifacts: Vec<ObjectId>) -> Body {
    Body::DenyLift(DenyLift {
        artifacts,
        reason: "false positive".into(),
    })
}

fn withdraw(key: &SecretKey, role: Role) -> Body {
    Body::KeyWithdraw(KeyWithdraw {
        fingerprint: Fx::fp(key),
        reason: "duties apart".into(),
        role,
    })
}

#[test]
fn a_compromised_publisher_suspends_every_model_it_published_until_reapproved() {
    let mut fx = Fx::new();
    let (root, op, publisher) = (key(1), key(2), key(3));
    fx.ok(&root, compromise(&publisher));
    let at = fx.state.seq;
    // Every unrevoked model rests on the publisher; delta is REVOKED and stays unsuspended.
    for m in [fx.alpha, fx.beta, fx.gamma] {
        let s = fx.state.models[&m].suspended.clone().expect("suspended");
        assert_eq!((s.key, s.seq), (Fx::fp(&publisher), at));
    }
    assert!(fx.state.models[&fx.delta].suspended.is_none());
    assert!(fx.state.keys[&Fx::fp(&publisher)].compromised);
    // Neither promoted nor made active; deprecating is allowed.
    let promote = fx.moved(&fx.alpha, LifecycleState::Promoted);
    assert!(matches!(
        fx.check(&op, promote),
        Err(StateError::Suspended { at: a, .. }) if a == at
    ));
    assert!(matches!(
        fx.check(&op, fx.set_slot("canary", Some(fx.gamma))),
        Err(StateError::Suspended { .. })
    ));
    fx.ok(&op, fx.moved(&fx.gamma, LifecycleState::Deprecated));
    assert!(matches!(
        fx.check(&op, fx.moved(&fx.gamma, LifecycleState::Promoted)),
        Err(StateError::Suspended { .. })
    ));
    // A re-approval lifts it, joins the model's chain, and the model rests on its signer alone.
    let id = fx.ok(&op, reapprove(&fx, &fx.gamma));
    let g = &fx.state.models[&fx.gamma];
    assert!(g.suspended.is_none());
    assert_eq!(g.entry, id);
    assert_eq!(g.approvers, std::collections::BTreeSet::from([Fx::fp(&op)]));
    fx.ok(&op, fx.moved(&fx.gamma, LifecycleState::Promoted));
    // Not suspended any more: a second re-approval is refused.
    assert!(matches!(
        fx.check(&op, reapprove(&fx, &fx.gamma)),
        Err(StateError::NotSuspended { revoked: false, .. })
    ));
    // A stale `previous` is refused.
    let Body::Reapprove(mut r) = reapprove(&fx, &fx.alpha) else {
        unreachable!()
    };
    r.previous = fx.state.models[&fx.beta].entry;
    assert!(matches!(
        fx.check(&op, Body::Reapprove(r)),
        Err(StateError::StalePrevious(_))
    ));
}

#[test]
fn a_reapproval_forgets_the_approvals_it_replaces_and_a_retired_key_suspends_nothing() {
    let mut fx = Fx::new();
    let (root, op, publisher) = (key(1), key(2), key(3));
    let op2 = key(12);
    fx.ok(&root, trust(&op2, Role::Operator));
    // Retiring the admitting operator suspends nothing.
    let before = fx.state.models.clone();
    let retired = key(13);
    fx.ok(&root, trust(&retired, Role::Operator));
    fx.ok(&root, revoke(&retired));
    assert_eq!(fx.state.models, before);
    // Compromise of op (which admitted and promoted every model) suspends them; op2 re-approves
    // beta. The publisher's later compromise suspends beta again; op's cannot recur.
    fx.ok(&root, compromise(&op));
    assert!(fx.state.models[&fx.beta].suspended.is_some());
    fx.ok(&op2, reapprove(&fx, &fx.beta));
    assert_eq!(
        fx.state.models[&fx.beta].approvers,
        std::collections::BTreeSet::from([Fx::fp(&op2)])
    );
    fx.ok(&root, compromise(&publisher));
    let s = fx.state.models[&fx.beta]
        .suspended
        .clone()
        .expect("suspended");
    assert_eq!(s.key, Fx::fp(&publisher));
    // A model suspended twice keeps its first suspension.
    let alpha = fx.state.models[&fx.alpha]
        .suspended
        .clone()
        .expect("suspended");
    assert_eq!(alpha.key, Fx::fp(&op));
}

#[test]
fn a_revocation_or_purge_may_deny_the_bytes_and_only_root_lifts_the_denial() {
    let mut fx = Fx::new();
    let (root, op) = (key(1), key(2));
    // delta is REVOKED; gamma shares the "shared tokenizer" artifact with every model.
    let Body::Transition(mut t) = fx.moved(&fx.gamma, LifecycleState::Revoked) else {
        unreachable!()
    };
    t.deny = true;
    fx.ok(&op, Body::Transition(t));
    let denied: Vec<ObjectId> = fx.state.denied().keys().copied().collect();
    assert_eq!(denied, artifacts("gamma"));
    assert!(fx.state.denied().values().all(|d| d.model == fx.gamma));
    // No add may hold them, whatever its name; alpha (sharing one) cannot be promoted.
    let Body::Add(mut again) = add("gamma") else {
        unreachable!()
    };
    again.name = "innocent".into();
    again.record = record("innocent");
    assert!(matches!(
        fx.check(&op, Body::Add(again.clone())),
        Err(StateError::DeniedBytes { count: 2, .. })
    ));
    assert!(matches!(
        fx.check(&op, fx.moved(&fx.alpha, LifecycleState::Promoted)),
        Err(StateError::DeniedBytes { count: 1, .. })
    ));
    assert!(matches!(
        fx.check(&op, fx.set_slot("prod", Some(fx.gamma))),
        Err(StateError::NotPromoted { .. })
    ));
    // deny on a move that is not a revocation is refused.
    let Body::Transition(mut t) = fx.moved(&fx.beta, LifecycleState::Deprecated) else {
        unreachable!()
    };
    t.deny = true;
    assert_eq!(
        fx.check(&op, Body::Transition(t)),
        Err(StateError::DenyWithoutRevocation)
    );
    // Lifting: root only, sorted, unique, each denied.
    let mut both = denied.clone();
    assert!(matches!(
        fx.check(&op, lift(both.clone())),
        Err(StateError::MissingRole { .. })
    ));
    both.reverse();
    assert_eq!(fx.check(&root, lift(both)), Err(StateError::DenyLiftList));
    assert_eq!(fx.check(&root, lift(vec![])), Err(StateError::DenyLiftList));
    let other = ObjectId::of(b"never denied");
    assert_eq!(
        fx.check(&root, lift(vec![other])),
        Err(StateError::NotDenied(other))
    );
    fx.ok(&root, lift(denied));
    assert!(fx.state.denied().is_empty());
    fx.ok(&op, Body::Add(again));
    // A purge denies too: delta is REVOKED, its purge with deny denies its artifacts.
    let blobs = fx.state.purgeable(&fx.delta);
    fx.ok(
        &op,
        Body::Purge(crate::format::entry::Purge {
            blobs,
            deny: true,
            model: fx.delta,
            reason: "destroy".into(),
        }),
    );
    let denied: Vec<ObjectId> = fx.state.denied().keys().copied().collect();
    assert_eq!(denied, artifacts("delta"));
}

#[test]
fn separate_duties_refuses_a_key_holding_both_roles_and_a_publisher_approving_its_own() {
    let mut fx = Fx::new();
    let (root, op, publisher) = (key(1), key(2), key(3));
    // The publisher key also becomes an operator: the policy cannot be turned on.
    fx.ok(&root, trust(&publisher, Role::Operator));
    assert!(matches!(
        fx.check(&root, policy(duties())),
        Err(StateError::DutiesApart(m)) if m.to_string().contains(&Fx::fp(&publisher).to_string())
    ));
    // Outside the policy the publisher may promote its own model.
    assert_eq!(
        fx.check(&publisher, fx.moved(&fx.alpha, LifecycleState::Promoted)),
        Ok(())
    );
    // Withdraw publisher from it: then the policy holds.
    fx.ok(&root, withdraw(&publisher, Role::Publisher));
    fx.ok(&root, policy(duties()));
    // It may not gain publisher back, nor an operator gain publisher.
    assert!(matches!(
        fx.check(&root, trust(&publisher, Role::Publisher)),
        Err(StateError::DutiesApart(_))
    ));
    assert!(matches!(
        fx.check(&root, trust(&op, Role::Publisher)),
        Err(StateError::DutiesApart(_))
    ));
    // It published alpha: it may not promote it, another operator may.
    assert!(matches!(
        fx.check(&publisher, fx.moved(&fx.alpha, LifecycleState::Promoted)),
        Err(StateError::DutiesApart(m)) if m.to_string().contains("may not promote")
    ));
    assert_eq!(
        fx.check(&op, fx.moved(&fx.alpha, LifecycleState::Promoted)),
        Ok(())
    );
    // Nor admit a model it published.
    let Body::Add(mut a) = add("epsilon") else {
        unreachable!()
    };
    a.publisher = Some(Fx::fp(&publisher));
    assert!(matches!(
        fx.check(&publisher, Body::Add(a)),
        Err(StateError::DutiesApart(m)) if m.to_string().contains("may not admit")
    ));
}

#[test]
fn withdrawing_a_role_keeps_the_key_and_its_other_roles() {
    let mut fx = Fx::new();
    let (root, op) = (key(1), key(2));
    assert_eq!(
        fx.check(&root, withdraw(&op, Role::Publisher)),
        Err(StateError::RoleNotHeld {
            fingerprint: Fx::fp(&op),
            role: Role::Publisher
        })
    );
    assert_eq!(
        fx.check(&root, withdraw(&op, Role::Operator)),
        Err(StateError::OnlyRole {
            fingerprint: Fx::fp(&op),
            role: Role::Operator
        })
    );
    assert_eq!(
        fx.check(&root, withdraw(&key(5), Role::Operator)),
        Err(StateError::AlreadyRevoked {
            fingerprint: Fx::fp(&key(5)),
            at: fx.revoked_at
        })
    );
    // The only root keeps root even with another role.
    fx.ok(&root, trust(&root, Role::Reporter));
    assert_eq!(
        fx.check(&root, withdraw(&root, Role::Root)),
        Err(StateError::LastRootWithdrawn(Fx::fp(&root)))
    );
    fx.ok(&root, trust(&op, Role::Reporter));
    fx.ok(&root, withdraw(&op, Role::Operator));
    let k = &fx.state.keys[&Fx::fp(&op)];
    assert_eq!(k.roles, std::collections::BTreeSet::from([Role::Reporter]));
    assert!(k.revoked.is_none());
    assert!(matches!(
        fx.check(&op, fx.moved(&fx.alpha, LifecycleState::Promoted)),
        Err(StateError::MissingRole { .. })
    ));
}

#[test]
fn entry_times_only_move_forward_in_format_4() {
    let fx = Fx::new();
    assert_eq!(fx.state.time(), Some("2026-01-02T00:00:00Z"));
    let (_, mut entry) = fx.entry(&key(1), trust(&key(20), Role::Reporter));
    assert_eq!(fx.state.check(&entry), Ok(()));
    entry.header.time = "1970-01-01T00:00:00Z".into();
    assert_eq!(
        fx.state.check(&entry),
        Err(StateError::TimeBackwards {
            time: "1970-01-01T00:00:00Z".into(),
            previous: "2026-01-02T00:00:00Z".into()
        })
    );
    let mut state = fx.state.clone();
    assert!(state.apply(fx.state.head, &entry).is_err());
    assert_eq!(state, fx.state);
    assert!(super::super::time::goes_back(
        "2026-01-02T00:00:00Z",
        "2026-01-01T23:59:59Z"
    ));
    assert!(!super::super::time::goes_back(
        "2026-01-02T00:00:00Z",
        "2026-01-02T00:00:00Z"
    ));
}

#[test]
fn what_needs_provenance_is_refused_in_a_format_3_state() {
    let root = key(1);
    let Body::Genesis(mut g) = genesis_body(root.public(), Vec::new(), &[7; 32], None) else {
        unreachable!()
    };
    g.format_version = 3;
    let genesis = Entry {
        header: Header {
            actor: Fx::fp(&root),
            prev: None,
            registry: None,
            seq: 0,
            time: "2026-01-01T00:00:00Z".into(),
        },
        body: Body::Genesis(g.clone()),
    };
    let (id, entry) = sign(&root, &genesis);
    let (state, _) = State::from_genesis(id, &entry).expect("a format-3 genesis");
    assert_eq!(state.time(), None);
    assert!(!state.has_provenance());
    let needs = |r: Result<(), StateError>| {
        assert!(
            matches!(
                r,
                Err(StateError::NeedsFormat {
                    needs: 4,
                    version: 3,
                    ..
                })
            ),
            "{r:?}"
        )
    };
    needs(state.check_rule(&compromise(&root)));
    needs(state.check_duties(&Fx::fp(&root), &policy(duties())));
    // A format-3 add names no publisher; one that does is refused, as a format-4 add without.
    let Body::Add(a) = add("alpha") else {
        unreachable!()
    };
    assert_eq!(
        state.check_add(&a),
        Err(StateError::AddPublisher { version: 3 })
    );
    // A successor genesis needs format 4.
    g.succeeds = Some(crate::format::entry::Succession {
        head: id,
        registry: id,
        seq: 0,
    });
    let (id2, entry) = sign(
        &root,
        &Entry {
            body: Body::Genesis(g),
            ..genesis
        },
    );
    assert!(matches!(
        State::from_genesis(id2, &entry),
        Err(StateError::NeedsFormat { .. })
    ));
}

/// Under separate duties the rule binds a model's own publisher only: an operator admits and
/// re-approves what another key published, while the publisher, an operator too, may re-approve
/// its own model no more than it may promote it.
#[test]
fn separate_duties_binds_the_models_own_publisher_and_no_other_operator() {
    let mut fx = Fx::new();
    let (root, op, publisher) = (key(1), key(2), key(3));
    let (op2, other) = (key(12), key(14));
    fx.ok(&root, trust(&publisher, Role::Operator));
    fx.ok(&root, withdraw(&publisher, Role::Publisher));
    fx.ok(&root, trust(&op2, Role::Operator));
    fx.ok(&root, trust(&other, Role::Publisher));
    fx.ok(&root, policy(duties()));
    // Another publisher's model is admitted by an operator.
    let Body::Add(mut a) = add("epsilon") else {
        unreachable!()
    };
    a.publisher = Some(Fx::fp(&other));
    assert_eq!(fx.check(&op, Body::Add(a)), Ok(()));
    // op admitted and promoted every model: its compromise suspends them. The publisher (now an
    // operator) may not re-approve what it published; another operator may.
    fx.ok(&root, compromise(&op));
    assert!(matches!(
        fx.check(&publisher, reapprove(&fx, &fx.gamma)),
        Err(StateError::DutiesApart(m)) if m.to_string().contains("may not re-approve")
    ));
    assert_eq!(fx.check(&op2, reapprove(&fx, &fx.gamma)), Ok(()));
}

/// A replacement sharing bytes its revocation denies is refused as holding bytes denied at the
/// seq that revocation would take, the next one.
#[test]
fn a_replacement_holding_bytes_its_revocation_denies_names_that_revocations_seq() {
    let fx = Fx::new();
    // beta is active in prod; gamma, PROMOTED, shares beta's "shared tokenizer" artifact.
    let Body::Transition(mut t) = fx.revocation(
        &fx.beta,
        vec![SlotEffect {
            replacement: Some(fx.gamma),
            slot: "prod".into(),
        }],
    ) else {
        unreachable!()
    };
    assert_eq!(fx.check(&key(2), Body::Transition(t.clone())), Ok(()));
    t.deny = true;
    let next = fx.state.seq + 1;
    assert!(matches!(
        fx.check(&key(2), Body::Transition(t)),
        Err(StateError::DeniedBytes { ref spec, count: 1, at, .. })
            if spec == "gamma@1.0.0" && at == next
    ));
}
