//! `--json` of the commands that write one signed ledger entry (lifecycle moves, slots, keys,
//! policy, recipients, renew, deny lift, purge): one object of one shape,
//! `schema/write-result.schema.json`, built from what the library returned (never by reading
//! the ledger again). Every object has `action`, `written` and the `entry` id and `seq` of the
//! entry written (null when nothing was written); the rest says what changed.

use super::error::CommandResult;
use reg::format::id::ObjectId;
use serde_json::{Map, Value};

/// The object a write prints with `--json`.
pub struct Written(Map<String, Value>);

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
    pub fn with(mut self, name: &str, value: impl serde::Serialize) -> Self {
        let value = serde_json::to_value(value).expect("outcomes serialize to JSON");
        self.0.insert(name.into(), value);
        self
    }

    /// Adds `model` (`name@version`) and `record` (its id).
    pub fn model(self, spec: &str, record: &ObjectId) -> Self {
        self.with("model", spec).with("record", record.to_string())
    }

    /// Prints the object.
    pub fn print(self) -> CommandResult {
        jsonln!(&Value::Object(self.0));
        Ok(())
    }
}

/// What a revocation or a purge with `--deny-bytes` denied, as `--json` says it.
pub fn denied(d: &Option<reg::ops::deny::Denied>) -> Value {
    match d {
        None => Value::Null,
        Some(d) => serde_json::json!({
            "new": d.new,
            "already": d.already,
            "others": d.others,
        }),
    }
}
