//! The rules of add (and its record), purge and drift.

use super::*;
use crate::format::claim::RecordClaim;
use crate::format::entry::{Drift, Purge};

fn add_with(name: &str, edit: impl FnOnce(&mut Add)) -> Body {
    let Body::Add(mut a) = add(name) else {
        unreachable!("add gives an add")
    };
    edit(&mut a);
    Body::Add(a)
}

#[test]
fn add_rules() {
    let mut fx = Fx::new();
    let op = key(2);
    assert_eq!(
        fx.check(&op, add("alpha")),
        Err(StateError::AlreadyRegistered {
            spec: "alpha@1.0.0".into(),
            record: fx.alpha
        })
    );
    let other = record("other alpha");
    assert_eq!(
        fx.check(&op, add_with("alpha", |a| a.record = other)),
        Err(StateError::NameTaken {
            spec: "alpha@1.0.0".into(),
            record: fx.alpha
        })
    );
    assert_eq!(
        fx.check(&op, add_with("epsilon", |a| a.artifacts.reverse())),
        Err(StateError::AddArtifacts)
    );
    assert_eq!(
        fx.check(&op, add_with("epsilon", |a| a.artifacts.clear())),
        Err(StateError::AddArtifacts)
    );
    assert!(matches!(
        fx.check(&op, add_with("epsilon", |a| a.name = "Bad Name".into())),
        Err(StateError::Name(_))
    ));
    assert!(matches!(
        fx.check(&op, add_with("epsilon", |a| a.version = "1..0".into())),
        Err(StateError::Version(_))
    ));
    // Another version of a registered name is another model.
    let id = fx.ok(
        &op,
        add_with("alpha", |a| {
            a.record = other;
            a.version = "2.0.0".into();
        }),
    );
    let m = &fx.state.models[&other];
    assert_eq!(
        (m.added, m.entry, m.state),
        (id, id, LifecycleState::Registered)
    );
    assert_eq!(
        fx.state.find("alpha", "2.0.0").map(|(r, _)| *r),
        Some(other)
    );
}

fn claim(publisher: &SecretKey) -> RecordClaim {
    RecordClaim {
        format_4_fields: false,
        publisher: Fx::fp(publisher),
        verified_with: Some(publisher.public().to_bytes()),
        name: "epsilon".into(),
        version: "1.0.0".into(),
        artifacts: artifacts("epsilon"),
    }
}

#[test]
fn record_rules() {
    let fx = Fx::new();
    let Body::Add(a) = add("epsilon") else {
        unreachable!()
    };
    let refused = |c: &RecordClaim| match fx.state.check_record(&a, c) {
        Err(StateError::RecordRefused { record, detail }) => {
            assert_eq!(record, a.record);
            detail
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(fx.state.check_record(&a, &claim(&fx.publisher)), Ok(()));
    let fp = |k: &SecretKey| Fx::fp(k);
    assert_eq!(
        refused(&claim(&fx.stranger)),
        format!(
            "it is signed by key {}, which this registry does not trust",
            fp(&fx.stranger)
        )
    );
    assert_eq!(
        refused(&claim(&fx.op)),
        format!(
            "it is signed by key {}, which is trusted as operator but not as publisher",
            fp(&fx.op)
        )
    );
    let mut c = claim(&fx.publisher);
    c.verified_with = None;
    assert_eq!(
        refused(&c),
        format!(
            "its signature was not verified with the key of publisher {}",
            fp(&fx.publisher)
        )
    );
    let mut c = claim(&fx.publisher);
    c.version = "1.0.1".into();
    assert_eq!(
        refused(&c),
        "the entry says epsilon@1.0.0, the record says epsilon@1.0.1"
    );
    let mut c = claim(&fx.publisher);
    c.artifacts.pop();
    assert_eq!(
        refused(&c),
        "the entry lists 2 artifact(s) that are not exactly the record's 1"
    );
    // A publisher revoked before the add.
    let mut later = Fx::new();
    later.ok(&key(1), revoke(&key(3)));
    let detail = match later.state.check_record(&a, &claim(&later.publisher)) {
        Err(StateError::RecordRefused { detail, .. }) => detail,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        detail,
        format!(
            "it is signed by publisher key {}, revoked at entry {}",
            fp(&later.publisher),
            later.state.seq
        )
    );
}

fn purge(model: ObjectId, blobs: Vec<ObjectId>) -> Body {
    Body::Purge(Purge {
        deny: false,
        blobs,
        model,
        reason: "why".into(),
    })
}

#[test]
fn purge_rules() {
    let mut fx = Fx::new();
    let op = key(2);
    // The shared artifact stays: other unpurged models hold it.
    let own = vec![ObjectId::of(b"delta weights")];
    assert_eq!(fx.state.purgeable(&fx.delta), own);
    let active = purge(fx.beta, fx.state.purgeable(&fx.beta));
    assert_eq!(
        fx.check(&op, active),
        Err(StateError::NotPurgeable {
            spec: "beta@1.0.0".into(),
            state: LifecycleState::Promoted,
            purged: false
        })
    );
    assert_eq!(
        fx.check(&op, purge(fx.delta, artifacts("delta"))),
        Err(StateError::PurgeBlobs)
    );
    let unknown = record("nobody");
    assert_eq!(
        fx.check(&op, purge(unknown, Vec::new())),
        Err(StateError::UnknownModel(unknown))
    );
    let entry = fx.state.models[&fx.delta].entry;
    fx.ok(&op, purge(fx.delta, own.clone()));
    let m = &fx.state.models[&fx.delta];
    assert!(m.purged);
    assert_eq!(m.entry, entry, "a purge is not a move");
    let again = fx.check(&op, purge(fx.delta, own));
    assert_eq!(
        again.clone().map_err(|e| e.to_string()),
        Err("only a REVOKED model's artifacts can be purged, once; delta@1.0.0 is REVOKED and purged".into())
    );
    assert!(matches!(
        again,
        Err(StateError::NotPurgeable { purged: true, .. })
    ));
}

fn drift(fx: &Fx, model: ObjectId) -> Drift {
    Drift {
        model,
        observation: observation(),
        previous: fx.state.models[&model].drift.as_ref().map(|d| d.last),
        legacy_numbers: false,
    }
}

#[test]
fn drift_rules() {
    let mut fx = Fx::new();
    let reporter = key(4);
    let first = fx.ok(&reporter, Body::Drift(drift(&fx, fx.alpha)));
    let second = fx.ok(&reporter, Body::Drift(drift(&fx, fx.alpha)));
    let d = fx.state.models[&fx.alpha].drift.clone().expect("observed");
    assert_eq!((d.count, d.last), (2, second));
    let mut stale = drift(&fx, fx.alpha);
    stale.previous = Some(first);
    assert_eq!(
        fx.check(&reporter, Body::Drift(stale)),
        Err(StateError::StaleDrift("alpha@1.0.0".into()))
    );
    assert_eq!(
        fx.check(&reporter, Body::Drift(drift(&fx, fx.delta))),
        Err(StateError::DriftOnRevoked("delta@1.0.0".into()))
    );
    let mut legacy = drift(&fx, fx.alpha);
    legacy.legacy_numbers = true;
    assert_eq!(
        fx.state.check_drift(&legacy),
        Err(StateError::LegacyNumbers)
    );
    let mut bad = drift(&fx, fx.alpha);
    bad.observation.remove("samples");
    assert!(matches!(
        fx.check(&reporter, Body::Drift(bad)),
        Err(StateError::ObservationInvalid(p)) if !p.is_empty()
    ));
    let mut elsewhere = drift(&fx, fx.alpha);
    elsewhere
        .observation
        .insert("model".into(), fx.beta.to_string().into());
    assert_eq!(
        fx.check(&reporter, Body::Drift(elsewhere)),
        Err(StateError::ObservationModel {
            named: format!("\"{}\"", fx.beta),
            spec: "alpha@1.0.0".into()
        })
    );
}
