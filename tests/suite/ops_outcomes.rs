//! The library's writes (`reg::ops`) say what they did, typed: the entry, its seq and what
//! changed, read from the state under the writer lock; a refusal is a typed error and writes
//! nothing. Each test builds its registry with the CLI, then writes through the library.

use crate::util::Sandbox;
use reg::crypto::keys::{SecretKey, load_public, load_secret};
use reg::format::entry::{PolicyDoc, Role};
use reg::format::formats::Format;
use reg::format::lifecycle::LifecycleState;
use reg::ops::config::{ConfigError, RecipientList};
use reg::ops::lifecycle::{Handover, LifecycleError, SlotPlan};
use reg::repo::registry::{Registry, RegistryError};
use reg::state::StateError;
use std::collections::BTreeSet;

/// Opens the sandbox's registry as the CLI would, with its host trust file and state.
fn open(s: &Sandbox) -> Registry {
    Registry::open(&s.dot(), &s.options()).unwrap()
}

fn secret(s: &Sandbox, name: &str) -> SecretKey {
    load_secret(&s.join(name), &mut |_: &std::path::Path| None).unwrap()
}

/// The id of the ledger's last entry.
fn head(s: &Sandbox) -> String {
    s.ledger_ids().last().unwrap().clone()
}

#[test]
fn trusting_and_revoking_a_key_report_its_roles() {
    let s = Sandbox::new();
    s.init();
    let fp = s.key("op.pem");
    let reg = open(&s);
    let root = secret(&s, "root.pem");
    let public = load_public(&s.join("op.pem.pub")).unwrap();

    let first = reg::ops::keys::trust(&reg, &root, &public, Role::Operator, "ops").unwrap();
    assert_eq!(first.fingerprint.to_string(), fp);
    assert_eq!((first.seq, first.role), (1, Role::Operator));
    assert!(first.new_key);
    assert_eq!(first.roles, BTreeSet::from([Role::Operator]));
    assert_eq!(first.entry.to_string(), head(&s));

    let second = reg::ops::keys::trust(&reg, &root, &public, Role::Reporter, "drift").unwrap();
    assert_eq!(second.seq, 2);
    assert!(!second.new_key);
    assert_eq!(
        second.roles,
        BTreeSet::from([Role::Operator, Role::Reporter])
    );

    let revoked = reg::ops::keys::revoke(
        &reg,
        &root,
        &first.fingerprint,
        reg::ops::keys::RevocationKind::Retired,
        "left",
    )
    .unwrap();
    assert_eq!(revoked.seq, 3);
    assert_eq!(revoked.roles, second.roles);
    assert_eq!(revoked.entry.to_string(), head(&s));

    let before = s.snapshot();
    let again = reg::ops::keys::revoke(
        &reg,
        &root,
        &first.fingerprint,
        reg::ops::keys::RevocationKind::Retired,
        "twice",
    )
    .unwrap_err();
    assert!(
        matches!(
            again,
            reg::ops::keys::KeysError::Registry(RegistryError::Refused(
                StateError::AlreadyRevoked { at: 3, .. }
            ))
        ),
        "{again:?}"
    );
    assert_eq!(before, s.snapshot(), "a refused revocation wrote something");
}

#[test]
fn policy_and_recipients_report_the_setting_before_and_after() {
    let s = Sandbox::new();
    s.init();
    let reg = open(&s);
    let root = secret(&s, "root.pem");

    let wanted = PolicyDoc {
        refuse_formats: vec![Format::Pickle, Format::Joblib, Format::Pickle],
        checkpoint_max_age_days: Some(30),
        ..PolicyDoc::default()
    };
    let set = reg::ops::config::set_policy(&reg, &root, wanted, "no pickles").unwrap();
    assert_eq!(set.previous, PolicyDoc::default());
    let mut sorted = vec![Format::Pickle, Format::Joblib];
    sorted.sort();
    assert_eq!(set.policy.refuse_formats, sorted, "sorted and unique");
    assert_eq!(set.entry.to_string(), head(&s));
    let cleared = reg::ops::config::set_policy(&reg, &root, PolicyDoc::default(), "allow").unwrap();
    assert_eq!(cleared.previous, set.policy);
    assert_eq!(cleared.seq, set.seq + 1);

    let a = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";
    let b = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    let list = RecipientList::parse(vec![a.into(), b.into(), a.into()]).unwrap();
    assert_eq!(list.len(), 2);
    let set = reg::ops::config::set_recipients(&reg, &root, list, "site keys").unwrap();
    assert!(set.previous.is_empty());
    let mut both = vec![a.to_string(), b.to_string()];
    both.sort();
    assert_eq!(set.recipients, both);
    assert_eq!(set.entry.to_string(), head(&s));

    let bad = RecipientList::parse(vec!["age1nope".into()]).unwrap_err();
    assert!(matches!(bad, ConfigError::Recipients(_)), "{bad:?}");
}

#[test]
fn a_policy_change_keeps_the_fields_it_does_not_name_and_writes_nothing_when_it_changes_nothing() {
    use reg::ops::config::{PolicyChange, PolicyChanged, change_policy};
    let s = Sandbox::new();
    s.init();
    let reg = open(&s);
    let root = secret(&s, "root.pem");
    let refuse = PolicyChange {
        refuse_formats: vec![Format::Pickle],
        ..PolicyChange::default()
    };
    let PolicyChanged::Set(first) = change_policy(&reg, &root, &refuse, "no pickles").unwrap()
    else {
        panic!("a change that changes the policy writes an entry")
    };
    let age = PolicyChange {
        checkpoint_max_age_days: Some(Some(30)),
        ..PolicyChange::default()
    };
    let PolicyChanged::Set(second) = change_policy(&reg, &root, &age, "expire").unwrap() else {
        panic!("a change that changes the policy writes an entry")
    };
    assert_eq!(second.previous, first.policy);
    assert_eq!(second.policy.refuse_formats, vec![Format::Pickle]);
    assert_eq!(second.policy.checkpoint_max_age_days, Some(30));
    let before = s.snapshot();
    let again = change_policy(&reg, &root, &refuse, "again").unwrap();
    assert!(
        matches!(&again, PolicyChanged::Unchanged(p) if *p == second.policy),
        "{again:?}"
    );
    assert_eq!(before, s.snapshot(), "an unchanged policy wrote something");
    let empty = change_policy(&reg, &root, &PolicyChange::default(), "nothing").unwrap_err();
    assert!(matches!(empty, ConfigError::NoChange), "{empty:?}");
    let both = PolicyChange {
        refuse_formats: vec![Format::Joblib],
        allow_formats: vec![Format::Joblib],
        ..PolicyChange::default()
    };
    let err = change_policy(&reg, &root, &both, "both").unwrap_err();
    assert!(
        matches!(err, ConfigError::BothWays(Format::Joblib)),
        "{err:?}"
    );
    assert_eq!(before, s.snapshot());
}

/// A registry with det@1.0.0 and det@2.0.0, both promoted.
fn two_models() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    for v in ["1.0.0", "2.0.0"] {
        let rule = format!("rule r_{} {{ condition: true }}\n", v.replace('.', "_"));
        s.add_model("det", v, &[("rules.yar", rule)]);
        s.ok(&[
            "promote",
            &format!("det@{v}"),
            "--reason",
            "ok",
            "--key",
            "op.pem",
        ]);
    }
    s
}

#[test]
fn slot_changes_and_transitions_report_the_slots_they_touch() {
    let s = two_models();
    let reg = open(&s);
    let op = secret(&s, "op.pem");

    let on = reg::ops::lifecycle::activate(&reg, &op, "scan", "det@1.0.0", "go").unwrap();
    assert_eq!(on.model, "det@1.0.0");
    assert_eq!(on.change.previous, None);
    let swapped = reg::ops::lifecycle::activate(&reg, &op, "scan", "det@2.0.0", "new").unwrap();
    assert_eq!(swapped.change.previous.as_deref(), Some("det@1.0.0"));
    reg::ops::lifecycle::activate(&reg, &op, "edge", "det@2.0.0", "go").unwrap();

    let deprecated = reg::ops::lifecycle::transition(
        &reg,
        &op,
        "det@2.0.0",
        LifecycleState::Deprecated,
        "old",
        SlotPlan::Unspecified,
    )
    .unwrap();
    assert_eq!(deprecated.spec, "det@2.0.0");
    assert_eq!(
        (deprecated.from, deprecated.to),
        (LifecycleState::Promoted, LifecycleState::Deprecated)
    );
    assert!(deprecated.slots.is_empty());
    assert_eq!(deprecated.still_active, ["edge", "scan"]);

    let before = s.snapshot();
    let wrong = reg::ops::lifecycle::transition(
        &reg,
        &op,
        "det@2.0.0",
        LifecycleState::Promoted,
        "back",
        SlotPlan::Deactivate,
    )
    .unwrap_err();
    assert!(
        matches!(wrong, LifecycleError::PlanWithoutRevocation),
        "{wrong:?}"
    );
    assert_eq!(before, s.snapshot(), "a refused move wrote something");

    let revoked = reg::ops::lifecycle::transition(
        &reg,
        &op,
        "det@2.0.0",
        LifecycleState::Revoked,
        "bad",
        SlotPlan::Replace("det@1.0.0".into()),
    )
    .unwrap();
    let to_one = |slot: &str| Handover {
        slot: slot.into(),
        replacement: Some("det@1.0.0".into()),
    };
    assert_eq!(revoked.slots, [to_one("edge"), to_one("scan")]);
    assert!(revoked.still_active.is_empty());
    assert_eq!(revoked.entry.to_string(), head(&s));

    let off = reg::ops::lifecycle::deactivate(&reg, &op, "edge", "done").unwrap();
    assert_eq!(off.previous.as_deref(), Some("det@1.0.0"));
    assert_eq!(off.seq, revoked.seq + 1);
}

#[test]
fn drift_observations_are_counted_and_refusals_are_typed() {
    let s = two_models();
    s.key("rep.pem");
    s.trust("rep.pem.pub", "reporter", "monitoring");
    let reg = open(&s);
    let rep = secret(&s, "rep.pem");
    let observation: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/drift-observation.json"
    )))
    .unwrap();

    let first = reg::ops::drift::record(&reg, &rep, "det@1.0.0", observation.clone()).unwrap();
    assert_eq!((first.spec.as_str(), first.count), ("det@1.0.0", 1));
    let second = reg::ops::drift::record(&reg, &rep, "det@1.0.0", observation.clone()).unwrap();
    assert_eq!((second.count, second.model), (2, first.model));
    assert_eq!(second.entry.to_string(), head(&s));

    let before = s.snapshot();
    let not_object = reg::ops::drift::record(&reg, &rep, "det@1.0.0", serde_json::json!([1]));
    assert!(matches!(
        not_object,
        Err(reg::ops::drift::DriftError::NotAnObject)
    ));
    let mut bad = observation;
    bad["samples"] = serde_json::json!(-1);
    let invalid = reg::ops::drift::record(&reg, &rep, "det@1.0.0", bad);
    assert!(
        matches!(&invalid, Err(reg::ops::drift::DriftError::Invalid(v)) if !v.is_empty()),
        "{invalid:?}"
    );
    assert_eq!(
        before,
        s.snapshot(),
        "a refused observation wrote something"
    );
}
