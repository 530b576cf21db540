//! Who may sign what: every kind against every role, a revoked and an unknown signer.

use super::*;
use crate::crypto::envelope::Kind;
use crate::format::entry::{Drift, Policy, PolicyDoc, Purge, Recipients, Renew};
use crate::state::required_role;

/// The role that signs each kind (FORMAT.md §5.3), written out apart from the code under test.
const SIGNS: [(Kind, Role); 12] = [
    (Kind::Genesis, Role::Root),
    (Kind::KeyTrust, Role::Root),
    (Kind::KeyRevoke, Role::Root),
    (Kind::Recipients, Role::Root),
    (Kind::Policy, Role::Root),
    (Kind::Add, Role::Operator),
    (Kind::Transition, Role::Operator),
    (Kind::Slot, Role::Operator),
    (Kind::Purge, Role::Operator),
    (Kind::Drift, Role::Reporter),
    (Kind::Renew, Role::Timestamp),
    (Kind::Manifest, Role::Publisher),
];

/// Who signs: each role's key, then a revoked key and an unknown one.
enum Who {
    Holds(Role),
    Revoked,
    Unknown,
}

fn signers(fx: &Fx) -> Vec<(Who, &SecretKey)> {
    vec![
        (Who::Holds(Role::Root), &fx.root),
        (Who::Holds(Role::Operator), &fx.op),
        (Who::Holds(Role::Publisher), &fx.publisher),
        (Who::Holds(Role::Reporter), &fx.reporter),
        (Who::Holds(Role::Timestamp), &fx.timestamp),
        (Who::Revoked, &fx.old),
        (Who::Unknown, &fx.stranger),
    ]
}

/// What the signer check must say for `who` signing `kind`, which `role` signs.
fn expected(fx: &Fx, who: &Who, key: &SecretKey, kind: Kind, role: Role) -> Result<(), StateError> {
    let fingerprint = Fx::fp(key);
    match who {
        Who::Holds(held) if *held == role => Ok(()),
        Who::Holds(held) => Err(StateError::MissingRole {
            fingerprint,
            kind,
            role,
            held: vec![*held],
        }),
        Who::Revoked => Err(StateError::RevokedSigner {
            fingerprint,
            at: fx.revoked_at,
        }),
        Who::Unknown => Err(StateError::UnknownSigner(fingerprint)),
    }
}

#[test]
fn every_kind_and_every_signer() {
    let fx = Fx::new();
    for (kind, role) in SIGNS {
        assert_eq!(required_role(kind), Some(role), "{kind:?}");
        for (who, key) in signers(&fx) {
            let fp = Fx::fp(key);
            let want = expected(&fx, &who, key, kind, role);
            assert_eq!(fx.state.check_signer(&fp, kind), want, "{kind:?} by {fp}");
            // authorize gives the key itself when the check passes.
            let authorized = fx.state.authorize(&fp, kind).map(|k| k.to_bytes());
            assert_eq!(authorized, want.map(|()| key.public().to_bytes()));
        }
    }
    assert_eq!(
        fx.state.check_signer(&Fx::fp(&fx.root), Kind::Checkpoint),
        Err(StateError::NoSigningRole(Kind::Checkpoint))
    );
}

/// A body of each entry kind that the fixture's state accepts (genesis aside: never after 0).
fn valid_bodies(fx: &Fx) -> Vec<Body> {
    let mut drift = observation();
    drift.insert("model".into(), fx.alpha.to_string().into());
    vec![
        genesis_body(fx.root.public(), Vec::new(), &[8; 32], None),
        trust(&key(9), Role::Operator),
        revoke(&fx.op),
        Body::Recipients(Recipients {
            reason: "why".into(),
            recipients: Vec::new(),
        }),
        Body::Policy(Policy {
            policy: PolicyDoc::default(),
            reason: "why".into(),
        }),
        add("epsilon"),
        fx.moved(&fx.alpha, LifecycleState::Promoted),
        fx.set_slot("prod", Some(fx.gamma)),
        Body::Purge(Purge {
            deny: false,
            blobs: fx.state.purgeable(&fx.delta),
            model: fx.delta,
            reason: "why".into(),
        }),
        Body::Drift(Drift {
            model: fx.alpha,
            observation: drift,
            previous: None,
            legacy_numbers: false,
        }),
        Body::Renew(Renew {}),
    ]
}

/// The whole-entry check ([`State::check`]): signer first, then the kind's rule; only the
/// right role passes, and applying what passed changes the state.
#[test]
fn every_entry_kind_checked_whole_for_every_signer() {
    let fx = Fx::new();
    let bodies = valid_bodies(&fx);
    assert_eq!(bodies.len(), SIGNS.len() - 1, "every entry kind");
    for body in bodies {
        let kind = body.kind();
        let role = body.required_role();
        assert_eq!(
            required_role(kind),
            Some(role),
            "the two tables agree on {kind:?}"
        );
        for (who, key) in signers(&fx) {
            let got = fx.check(key, body.clone());
            let want = match expected(&fx, &who, key, kind, role) {
                Ok(()) if kind == Kind::Genesis => Err(StateError::LateGenesis),
                other => other,
            };
            assert_eq!(got, want, "{kind:?}");
            if got.is_ok() {
                let mut after = Fx {
                    state: fx.state.clone(),
                    ..Fx::new()
                };
                let id = after
                    .commit(key, body.clone())
                    .expect("what checks applies");
                assert_eq!(after.state.head, id);
                assert_ne!(after.state, fx.state);
            }
        }
    }
}

/// Authority follows the ledger: a key trusted later signs from then on, and not after its
/// revocation; a publisher that may publish now may not once revoked.
#[test]
fn authority_changes_with_the_ledger() {
    let mut fx = Fx::new();
    let late = key(10);
    let fp = Fx::fp(&late);
    assert!(matches!(
        fx.state.check_signer(&fp, Kind::Add),
        Err(StateError::UnknownSigner(_))
    ));
    fx.ok(&key(1), trust(&late, Role::Operator));
    assert_eq!(fx.state.check_signer(&fp, Kind::Add), Ok(()));
    fx.ok(&key(1), trust(&late, Role::Reporter));
    assert_eq!(fx.state.check_signer(&fp, Kind::Drift), Ok(()));
    assert_eq!(
        fx.state.check_signer(&fp, Kind::Policy),
        Err(StateError::MissingRole {
            fingerprint: fp.clone(),
            kind: Kind::Policy,
            role: Role::Root,
            held: vec![Role::Operator, Role::Reporter],
        })
    );
    let at = fx.ok(&key(1), revoke(&late));
    let seq = fx.state.seq;
    assert_eq!(fx.state.head, at);
    assert_eq!(
        fx.commit(&late, fx.moved(&fx.alpha, LifecycleState::Promoted)),
        Err(StateError::RevokedSigner {
            fingerprint: fp,
            at: seq
        })
    );

    let publisher = Fx::fp(&fx.publisher);
    assert!(fx.state.may_publish(&publisher).is_ok());
    assert!(fx.state.may_publish(&Fx::fp(&fx.op)).is_err());
    fx.ok(&key(1), revoke(&key(3)));
    assert_eq!(
        fx.state.may_publish(&publisher),
        Err(StateError::RevokedSigner {
            fingerprint: publisher,
            at: fx.state.seq
        })
    );
}

/// The messages users see, word for word.
#[test]
fn signer_refusals_read_as_before() {
    let fx = Fx::new();
    let op = Fx::fp(&fx.op);
    assert_eq!(
        fx.state
            .check_signer(&op, Kind::Policy)
            .unwrap_err()
            .to_string(),
        format!("key {op} signed a policy entry but does not hold the root role")
    );
    let old = Fx::fp(&fx.old);
    assert_eq!(
        fx.state
            .check_signer(&old, Kind::Add)
            .unwrap_err()
            .to_string(),
        format!(
            "signed by key {old} after its revocation at entry {}",
            fx.revoked_at
        )
    );
    let stranger = Fx::fp(&fx.stranger);
    assert_eq!(
        fx.state
            .check_signer(&stranger, Kind::Add)
            .unwrap_err()
            .to_string(),
        format!("signed by key {stranger}, which this registry does not trust")
    );
}
