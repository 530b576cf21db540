//! The ledger as people read it: each entry with what it did, in the registry's words (models
//! as `name@version`, the slots a model entered or left, the models a compromised key
//! suspended), and the filters of `reg log` (a model's or a slot's history, `--actor`,
//! `--since`, `-n`).
//!
//! A model's own chain ([`super::chain::Chain::history`]: its `add`, transitions and
//! re-approvals) is cheap to walk, but much of what concerns a model is outside it: the slot
//! entries that made it active or displaced it, a revocation of another model that handed it a
//! slot, its drift observations, its purge, the key revocation that suspended it, the lifting
//! of its denial. Those are found by [`scan`], which replays and verifies the whole ledger (as
//! `reg ledger verify` does): its cost grows with the ledger, every entry read and its signature
//! checked, whatever the model. `reg log` pays it already for the full log; `reg show` reads
//! the committed ledger instead ([`scan_committed`]), trusting the verified checkpoint as every
//! read does: its cost is reading the ledger, not verifying it.

use crate::crypto::keys::Fingerprint;
use crate::format::entry::{Body, Entry, Role};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::repo::registry::{Registry, RegistryError};
use crate::state::{State, TimeOrder};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A model as the history names it: `name@version` and its record id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelRef {
    /// `name@version`.
    pub model: String,
    /// The record id.
    pub record: ObjectId,
}

impl std::fmt::Display for ModelRef {
    /// `det@1.2.0 (ab12cd34)`: the name people use, and enough of the id to tell two records
    /// of one name apart (a record re-added after a purge, say).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = self.record.to_string();
        write!(f, "{} ({})", self.model, &id[..8])
    }
}

/// One slot whose active model an entry changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotMove {
    /// The slot.
    pub slot: String,
    /// The model active before (absent: the slot was not set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<ModelRef>,
    /// The model active after (absent: the slot is cleared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<ModelRef>,
}

/// One ledger entry with what it did.
#[derive(Debug, Clone)]
pub struct Event {
    /// The entry id.
    pub id: ObjectId,
    /// The entry.
    pub entry: Entry,
    /// The signer's name, if a key-trust named it (FORMAT.md §5.3).
    pub actor_name: Option<String>,
    /// The name of the key a key-trust, key-revoke or key-withdraw is about, or of the reporter
    /// of a drift report recorded at home, if it has one.
    pub key_name: Option<String>,
    /// The model the entry is about: the one added, moved, re-approved, observed or purged;
    /// for a slot entry, the model made active, or the one that left a cleared slot.
    pub model: Option<ModelRef>,
    /// The model's state before a transition.
    pub from: Option<LifecycleState>,
    /// The model's state after a transition.
    pub to: Option<LifecycleState>,
    /// A key-trust that only named a key holding the role already (FORMAT.md §5.3).
    pub names_only: bool,
    /// The slots whose active model the entry changed: a slot entry's, a revocation's.
    pub slots: Vec<SlotMove>,
    /// The models a compromised key's revocation suspended (FORMAT.md §5.14).
    pub suspended: Vec<ModelRef>,
    /// The models whose denied artifact hashes a deny-lift allows again (FORMAT.md §5.15).
    pub lifted: Vec<ModelRef>,
    /// What is doubtful about the entry: dated before the entry it follows, in a registry
    /// older than format 4 (FORMAT.md §5.1 rule 5).
    pub warning: Option<String>,
}

impl Event {
    /// Whether the entry concerns model `id`: it is the entry's model, entered or left a slot
    /// by it, was suspended by it, or had its denial lifted by it.
    pub fn concerns(&self, id: &ObjectId) -> bool {
        let is = |m: &Option<ModelRef>| m.as_ref().is_some_and(|m| m.record == *id);
        is(&self.model)
            || self.slots.iter().any(|s| is(&s.from) || is(&s.to))
            || self.suspended.iter().any(|m| m.record == *id)
            || self.lifted.iter().any(|m| m.record == *id)
    }

    /// Whether the entry changed slot `slot`'s active model.
    pub fn moves_slot(&self, slot: &str) -> bool {
        self.slots.iter().any(|s| s.slot == slot)
    }
}

/// Which entries `reg log` shows; every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only the entries that concern this model ([`Event::concerns`]).
    pub model: Option<ObjectId>,
    /// Only the entries that changed this slot's active model ([`Event::moves_slot`]).
    pub slot: Option<String>,
    /// Only the entries signed by one of these keys.
    pub actors: Option<Vec<Fingerprint>>,
    /// Only the entries dated at or after this time (`YYYY-MM-DDTHH:MM:SSZ`, which compares as
    /// text).
    pub since: Option<String>,
    /// Only the newest this many (of those the other filters keep).
    pub newest: Option<usize>,
}

impl Filter {
    fn keeps(&self, e: &Event) -> bool {
        self.model.is_none_or(|m| e.concerns(&m))
            && self.slot.as_deref().is_none_or(|s| e.moves_slot(s))
            && self
                .actors
                .as_ref()
                .is_none_or(|a| a.contains(&e.entry.header.actor))
            && self
                .since
                .as_deref()
                .is_none_or(|s| e.entry.header.time.as_str() >= s)
    }
}

/// The entries `filter` keeps, oldest first, after replaying and verifying the whole ledger
/// (see the module documentation for what that costs), checking the registry is fresh and
/// recording the checkpoint this host verified, as every full read does: `reg log`, an audit.
pub fn scan(reg: &Registry, filter: &Filter) -> Result<Vec<Event>, RegistryError> {
    let mut tracker = Tracker::default();
    let mut out = Vec::new();
    let replay = reg.verify(&mut |v| {
        let event = tracker.event(v.id, v.entry, v.state);
        if filter.keeps(&event) {
            out.push(event);
        }
    })?;
    reg.check_fresh(&replay.state, &replay.checkpoint.time)?;
    reg.record(&replay.state, &replay.checkpoint)?;
    Ok(finish(out, &replay.state, filter))
}

/// The entries `filter` keeps, as [`scan`] finds them, from the committed ledger read along the
/// chain the verified checkpoint commits to, without checking every signature again
/// ([`Registry::walk`]): a model's complete history for `reg show`, at the cost of reading the
/// ledger, not of verifying it.
pub fn scan_committed(reg: &Registry, filter: &Filter) -> Result<Vec<Event>, RegistryError> {
    let mut tracker = Tracker::default();
    let mut out = Vec::new();
    let state = reg.walk(&mut |v| {
        let event = tracker.event(v.id, v.entry, v.state);
        if filter.keeps(&event) {
            out.push(event);
        }
    })?;
    Ok(finish(out, &state, filter))
}

/// Names the signers and the keys the entries are about, from the end state (a key's name is
/// set once, so a key named after it signed an entry is still the key that signed it), and
/// keeps the newest `-n`.
fn finish(mut out: Vec<Event>, state: &State, filter: &Filter) -> Vec<Event> {
    let name = |fp: &Fingerprint| state.key_name(fp).map(str::to_string);
    for e in &mut out {
        e.actor_name = name(&e.entry.header.actor);
        e.key_name = match &e.entry.body {
            Body::KeyTrust(t) => name(&t.key.fingerprint),
            Body::KeyRevoke(r) => name(&r.fingerprint),
            Body::KeyWithdraw(w) => name(&w.fingerprint),
            // The reporter who signed the report the operator recorded.
            Body::DriftImport(d) => d.open().ok().and_then(|r| name(&r.payload.reporter)),
            _ => None,
        };
    }
    if let Some(n) = filter.newest {
        out.drain(..out.len().saturating_sub(n));
    }
    out
}

/// The keys `spec` names for `--actor`: the key named so (names compare as the uniqueness rule
/// compares them, FORMAT.md §5.3), else every key whose fingerprint starts with `spec`, 4 hex
/// digits or more, any case. Empty when none; the caller refuses more than one as ambiguous.
pub fn actors(state: &State, spec: &str) -> Vec<Fingerprint> {
    if let Some((fp, _)) = state.keys().iter().find(|(_, k)| {
        k.name
            .as_deref()
            .is_some_and(|n| crate::format::entry::same_key_name(n, spec))
    }) {
        return vec![fp.clone()];
    }
    // A prefix as git takes one: 4 hex digits or more.
    let prefix = spec.to_ascii_lowercase();
    if prefix.len() < 4 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Vec::new();
    }
    state
        .keys()
        .keys()
        .filter(|fp| fp.to_string().starts_with(&prefix))
        .cloned()
        .collect()
}

/// What the replay knew before each entry that the entry's effects are judged against: the
/// slots' active models, the denied hashes, the entry times.
#[derive(Default)]
struct Tracker {
    slots: BTreeMap<String, ObjectId>,
    denied: BTreeMap<ObjectId, ObjectId>,
    /// The roles of each key without a name: what tells a key-trust that only names a key.
    unnamed: BTreeMap<Fingerprint, BTreeSet<Role>>,
    times: TimeOrder,
}

impl Tracker {
    /// The event of entry `id`, given the state once it is applied; then remembers what the
    /// next entry is judged against.
    fn event(&mut self, id: ObjectId, entry: &Entry, after: &State) -> Event {
        let named = |record: &ObjectId| ModelRef {
            model: after.spec(record),
            record: *record,
        };
        let mut e = Event {
            id,
            entry: entry.clone(),
            actor_name: None,
            key_name: None,
            names_only: false,
            model: None,
            from: None,
            to: None,
            slots: Vec::new(),
            suspended: Vec::new(),
            lifted: Vec::new(),
            warning: self
                .times
                .next(entry.header.seq, &entry.header.time)
                .map(|b| {
                    format!(
                        "dated before entry {} ({}): this registry's format did not refuse it",
                        b.seq.saturating_sub(1),
                        b.previous
                    )
                }),
        };
        match &entry.body {
            Body::Add(a) => {
                e.model = Some(ModelRef {
                    model: format!("{}@{}", a.name, a.version),
                    record: a.record,
                });
            }
            Body::Transition(t) => {
                e.model = Some(named(&t.model));
                e.from = Some(t.from);
                e.to = Some(t.to);
                e.slots = t
                    .slots
                    .iter()
                    .map(|s| SlotMove {
                        slot: s.slot.clone(),
                        from: Some(named(&t.model)),
                        to: s.replacement.as_ref().map(named),
                    })
                    .collect();
            }
            Body::Slot(c) => {
                let before = self.slots.get(&c.slot).map(named);
                e.model = c.model.as_ref().map(named).or_else(|| before.clone());
                e.slots = vec![SlotMove {
                    slot: c.slot.clone(),
                    from: before,
                    to: c.model.as_ref().map(named),
                }];
            }
            Body::KeyTrust(t) => {
                e.names_only = t.name.is_some()
                    && self
                        .unnamed
                        .get(&t.key.fingerprint)
                        .is_some_and(|roles| roles.contains(&t.role));
            }
            Body::Reapprove(r) => e.model = Some(named(&r.model)),
            Body::Purge(p) => e.model = Some(named(&p.model)),
            Body::Drift(d) => e.model = Some(named(&d.model)),
            Body::DriftImport(d) => e.model = Some(named(&d.model)),
            Body::KeyRevoke(r) if r.compromised => {
                let seq = entry.header.seq;
                e.suspended = after
                    .models()
                    .iter()
                    .filter(|(_, m)| m.suspended.as_ref().is_some_and(|s| s.seq == seq))
                    .map(|(id, _)| named(id))
                    .collect();
            }
            Body::DenyLift(l) => {
                let mut models: Vec<ObjectId> = l
                    .artifacts
                    .iter()
                    .filter_map(|a| self.denied.get(a).copied())
                    .collect();
                models.sort();
                models.dedup();
                e.lifted = models.iter().map(named).collect();
            }
            // Entries about no one model; named here, so that a new kind that concerns a model
            // does not compile until its history is said.
            Body::Genesis(_)
            | Body::KeyRevoke(_)
            | Body::KeyWithdraw(_)
            | Body::Recipients(_)
            | Body::Policy(_)
            | Body::Renew(_) => {}
        }
        if matches!(entry.body, Body::Slot(_) | Body::Transition(_)) {
            self.slots = after
                .slots()
                .iter()
                .map(|(name, s)| (name.clone(), s.model))
                .collect();
        }
        if matches!(
            entry.body,
            Body::Genesis(_) | Body::KeyTrust(_) | Body::KeyWithdraw(_) | Body::KeyRevoke(_)
        ) {
            self.unnamed = after
                .keys()
                .iter()
                .filter(|(_, k)| k.name.is_none())
                .map(|(fp, k)| (fp.clone(), k.roles.clone()))
                .collect();
        }
        if matches!(
            entry.body,
            Body::Transition(_) | Body::Purge(_) | Body::DenyLift(_)
        ) {
            self.denied = after
                .denied()
                .iter()
                .map(|(hash, d)| (*hash, d.model))
                .collect();
        }
        e
    }
}
