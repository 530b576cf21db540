//! `reg log --json` (`schema/log.schema.json`): the ledger's entries, oldest first, each with
//! what it did in one line and, as data, the model, slots and states it moved; filtered to a
//! model's or a slot's history (`query::history`), the newest N, a time or a signer.

use super::{InputError, ReportError};
use crate::format::lifecycle::LifecycleState;
use crate::query::history::{Event, Filter, ModelRef, SlotMove};
use crate::repo::registry::Registry;
use serde::Serialize;

/// Which entries to list; the default lists the whole ledger.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Only the entries that concern this model: any spec `state::resolve` takes.
    pub model: Option<String>,
    /// Only the slot's history: each activation, deactivation and replacement in it.
    pub slot: Option<String>,
    /// Only the newest N entries (of those the other filters keep).
    pub max_count: Option<usize>,
    /// Only the entries dated at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Only the entries signed by this key: its name (any case), its fingerprint, or a prefix
    /// of it (4 hex digits or more, naming one key).
    pub actor: Option<String>,
}

/// One entry as `reg log --json` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// Its seq.
    pub seq: u64,
    /// Its id.
    pub id: String,
    /// Its time.
    pub time: String,
    /// Its kind (`add`, `transition`, `slot`, ...).
    pub kind: &'static str,
    /// The signer's fingerprint.
    pub actor: String,
    /// The signer's name, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    /// The reason signed with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What it did, in one line.
    pub summary: String,
    /// The model the entry is about: `model` (name@version) and `record`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
    /// The slot the entry moved: the one the query asks for, else the only one it moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// The state the model left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<LifecycleState>,
    /// The state the model entered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<LifecycleState>,
    /// Each slot it moved, from which model to which.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slots: Vec<SlotMove>,
    /// The models a compromised key's revocation suspended.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suspended: Vec<ModelRef>,
    /// The models whose denial a lift ended.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lifted: Vec<ModelRef>,
    /// What is doubtful about the entry: dated before the entry it follows, in a registry older
    /// than format 4 (FORMAT.md §5.1 rule 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The entries `query` keeps, oldest first. Every form replays and verifies the whole ledger.
pub fn log(reg: &Registry, query: &LogQuery) -> Result<Vec<LogEntry>, ReportError> {
    // One committed state for the names resolved and the ledger replayed.
    let _reading = reg.read_lock()?;
    let filter = filter(reg, query)?;
    let events = crate::query::history::scan(reg, &filter)?;
    if let Some(slot) = &query.slot
        && events.is_empty()
        && query.since.is_none()
        && query.actor.is_none()
    {
        let state = reg.state()?;
        return Err(InputError::SlotWithoutHistory {
            slot: slot.clone(),
            known: state.slots().keys().cloned().collect(),
        }
        .into());
    }
    Ok(events
        .into_iter()
        .map(|e| entry(e, filter.slot.as_deref()))
        .collect())
}

/// The filter `query` asks for, each part checked before the ledger is read: a bad time or an
/// unknown signer is refused rather than answered with nothing.
fn filter(reg: &Registry, query: &LogQuery) -> Result<Filter, ReportError> {
    super::check_since(query.since.as_deref())?;
    let mut filter = Filter {
        slot: query.slot.clone(),
        since: query.since.clone(),
        newest: query.max_count,
        ..Filter::default()
    };
    if query.model.is_none() && query.actor.is_none() {
        return Ok(filter);
    }
    let state = reg.state()?;
    if let Some(spec) = &query.model {
        let (id, _) = crate::state::resolve::resolve(&state, spec)?;
        filter.model = Some(id);
    }
    if let Some(spec) = &query.actor {
        let actors = crate::query::history::actors(&state, spec);
        match actors.as_slice() {
            [] => {
                return Err(InputError::UnknownActor {
                    given: spec.clone(),
                }
                .into());
            }
            [_] => {}
            many => {
                return Err(InputError::AmbiguousActor {
                    given: spec.clone(),
                    keys: many.to_vec(),
                }
                .into());
            }
        }
        filter.actors = Some(actors);
    }
    Ok(filter)
}

/// An event as the log shows it; `slot` is the slot whose history is asked for, if one is.
fn entry(e: Event, slot: Option<&str>) -> LogEntry {
    let header = &e.entry.header;
    LogEntry {
        seq: header.seq,
        id: e.id.to_string(),
        time: header.time.clone(),
        kind: e.entry.body.kind().name(),
        actor: header.actor.to_string(),
        actor_name: e.actor_name.clone(),
        reason: e.entry.body.reason().map(str::to_string),
        summary: super::summary::summary(&e),
        // The slot the entry moved: the one asked for, else the only one it moved.
        slot: match (slot, e.slots.as_slice()) {
            (Some(s), _) => Some(s.to_string()),
            (None, [only]) => Some(only.slot.clone()),
            _ => None,
        },
        model: e.model,
        from: e.from,
        to: e.to,
        slots: e.slots,
        suspended: e.suspended,
        lifted: e.lifted,
        warning: e.warning,
    }
}
