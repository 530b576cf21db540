//! The `--json` documents of the writes, as the CLI builds them today (`src/cli/written.rs`,
//! `transition.rs`, `slot.rs`, `drift.rs`), until `reg::report::Written` is on main: then each
//! function here becomes one call of it and this file goes.

use reg::format::id::ObjectId;
use reg::ops::drift::Recorded;
use reg::ops::lifecycle::{Activated, SlotSet, Transitioned};
use serde_json::{Map, Value, json};

/// The fields every write document starts with.
fn written(action: &str, entry: &ObjectId, seq: u64) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("action".into(), action.into());
    map.insert("written".into(), true.into());
    map.insert("entry".into(), entry.to_string().into());
    map.insert("seq".into(), seq.into());
    map
}

/// `reg promote|deprecate|revoke --json`.
pub fn transitioned(done: &Transitioned) -> Value {
    let action = match done.to {
        reg::format::lifecycle::LifecycleState::Promoted => "promote",
        reg::format::lifecycle::LifecycleState::Deprecated => "deprecate",
        reg::format::lifecycle::LifecycleState::Revoked => "revoke",
        reg::format::lifecycle::LifecycleState::Registered => "register",
    };
    let mut m = written(action, &done.entry, done.seq);
    m.insert("model".into(), done.spec.clone().into());
    m.insert("record".into(), done.model.to_string().into());
    m.insert("from".into(), json!(done.from));
    m.insert("to".into(), json!(done.to));
    let slots: Vec<Value> = done
        .slots
        .iter()
        .map(|h| json!({"slot": h.slot, "model": h.replacement}))
        .collect();
    m.insert("slots".into(), slots.into());
    m.insert("still_active".into(), json!(done.still_active));
    m.insert(
        "denied".into(),
        match &done.denied {
            None => Value::Null,
            Some(d) => json!({"new": d.new, "already": d.already, "others": d.others}),
        },
    );
    Value::Object(m)
}

/// `reg activate --json`.
pub fn activated(done: &Activated) -> Value {
    let c = &done.change;
    let mut m = written("activate", &c.entry, c.seq);
    m.insert("slot".into(), c.slot.clone().into());
    m.insert("model".into(), done.model.clone().into());
    m.insert("record".into(), done.record.to_string().into());
    m.insert("previous".into(), json!(c.previous));
    Value::Object(m)
}

/// `reg deactivate --json`.
pub fn deactivated(done: &SlotSet) -> Value {
    let mut m = written("deactivate", &done.entry, done.seq);
    m.insert("slot".into(), done.slot.clone().into());
    m.insert("model".into(), Value::Null);
    m.insert("record".into(), Value::Null);
    m.insert("previous".into(), json!(done.previous));
    Value::Object(m)
}

/// `reg drift record --json`.
pub fn drift_recorded(done: &Recorded) -> Value {
    let mut m = written("drift-record", &done.entry, done.seq);
    m.insert("model".into(), done.spec.clone().into());
    m.insert("record".into(), done.model.to_string().into());
    m.insert("count".into(), done.count.into());
    Value::Object(m)
}
