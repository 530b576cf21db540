//! What a write that signs ledger entries returns to a program (`reg promote|deprecate|revoke|
//! activate|deactivate|drift record|...  --json`): one object of one shape,
//! `schema/write-result.schema.json`, built from what the library returned (never by reading
//! the ledger again). Every object has `action`, `written` and the `entry` id and `seq` of the
//! entry written (null when nothing was written); the rest says what changed.
//!
//! The writes a library caller makes (lifecycle moves, slots, drift) have a constructor from
//! their outcome here, so that the command line and every other caller say the same; the other
//! commands build theirs with [`Written::new`] and [`Written::with`].

use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::ops::deny::Denied;
use crate::ops::drift::{Outboxed, Recorded, ReportsImported};
use crate::ops::lifecycle::{Activated, SlotSet, Transitioned};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

/// The object a write returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Written(Map<String, Value>);

impl Serialize for Written {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Written {
    /// A write of `action` that committed the entry `entry` at `seq` (`None`: nothing written).
    pub fn new(action: &str, entry: Option<(&ObjectId, u64)>) -> Self {
        let mut map = Map::new();
        map.insert("action".into(), action.into());
        map.insert("written".into(), entry.is_some().into());
        map.insert(
            "entry".into(),
            entry.map_or(Value::Null, |(id, _)| id.to_string().into()),
        );
        map.insert(
            "seq".into(),
            entry.map_or(Value::Null, |(_, seq)| seq.into()),
        );
        Written(map)
    }

    /// Adds the field `name`.
    pub fn with(mut self, name: &str, value: impl Serialize) -> Self {
        // Outcomes are plain data (strings, numbers, lists, string-keyed maps): serializing
        // them to a JSON value cannot fail, so a failure is a bug in reg, not an input.
        let value = serde_json::to_value(value).expect("outcomes serialize to JSON");
        self.0.insert(name.into(), value);
        self
    }

    /// Adds `model` (`name@version`) and `record` (its id).
    pub fn model(self, spec: &str, record: &ObjectId) -> Self {
        self.with("model", spec).with("record", record.to_string())
    }

    /// The object as a JSON value.
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }

    /// What a lifecycle move (promote, deprecate, revoke) wrote: the states, the slots a
    /// revocation handed over or cleared, the slots the model is still active in, and what a
    /// revocation denied.
    pub fn transition(done: &Transitioned) -> Self {
        let action = match done.to {
            LifecycleState::Promoted => "promote",
            LifecycleState::Deprecated => "deprecate",
            LifecycleState::Revoked => "revoke",
            LifecycleState::Registered => "register",
        };
        let slots: Vec<_> = done
            .slots
            .iter()
            .map(|h| json!({"slot": h.slot, "model": h.replacement}))
            .collect();
        Written::new(action, Some((&done.entry, done.seq)))
            .model(&done.spec, &done.model)
            .with("from", done.from)
            .with("to", done.to)
            .with("slots", slots)
            .with("still_active", &done.still_active)
            .with("denied", denied(&done.denied))
    }

    /// What activating a model in a slot wrote, and the model it displaced.
    pub fn activated(done: &Activated) -> Self {
        let change = &done.change;
        Written::new("activate", Some((&change.entry, change.seq)))
            .with("slot", &change.slot)
            .model(&done.model, &done.record)
            .with("previous", &change.previous)
    }

    /// What clearing a slot wrote: no model is active in it, `previous` was.
    pub fn deactivated(done: &SlotSet) -> Self {
        Written::new("deactivate", Some((&done.entry, done.seq)))
            .with("slot", &done.slot)
            .with("model", None::<String>)
            .with("record", None::<String>)
            .with("previous", &done.previous)
    }

    /// What recording a drift observation in the ledger wrote, and how many the model has.
    pub fn drift_recorded(done: &Recorded) -> Self {
        Written::new("drift-record", Some((&done.entry, done.seq)))
            .model(&done.spec, &done.model)
            .with("count", done.count)
    }

    /// A drift report written to a replica's outbox: nothing written to the ledger, the report
    /// waits in the outbox.
    pub fn drift_outboxed(done: &Outboxed) -> Self {
        Written::new("drift-record", None)
            .model(&done.spec, &done.model)
            .with("report", done.report.to_string())
    }

    /// What importing a replica's drift reports wrote: one entry per report, in one batch;
    /// `entry` and `seq` name the last, `recorded` all; none written when every report was
    /// recorded already.
    pub fn drift_imported(done: &ReportsImported) -> Self {
        let last = done.entries.last().map(|e| (&e.entry, e.seq));
        let recorded: Vec<_> = done
            .entries
            .iter()
            .map(|e| {
                json!({
                    "entry": e.entry.to_string(),
                    "seq": e.seq,
                    "report": e.report.to_string(),
                    "model": e.spec,
                    "record": e.model.to_string(),
                    "reporter": e.reporter.to_string(),
                })
            })
            .collect();
        let already: Vec<String> = done.already.iter().map(ToString::to_string).collect();
        Written::new("drift-import", last)
            .with("recorded", recorded)
            .with("already", already)
    }
}

/// What a revocation or a purge with `deny` denied, as a write result says it (null: nothing).
pub fn denied(d: &Option<Denied>) -> Value {
    match d {
        None => Value::Null,
        Some(d) => json!({
            "new": d.new,
            "already": d.already,
            "others": d.others,
        }),
    }
}
