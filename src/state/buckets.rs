//! The state as a root and buckets (FORMAT.md §5.11, format 5): what lets a write re-hash and
//! rewrite the few models it changes, not all of them, and a reader load only what it reads.
//!
//! The models (by record id) and the names (`name` → `version` → record id, by the BLAKE3 of the
//! name) are each cut into buckets keyed by the first hex digits of that id or hash; each bucket
//! is a canonical JSON document of its own, and the root, which the checkpoint commits to, holds
//! the hash of every bucket instead of the maps themselves. A state read from the root has its
//! buckets' hashes and none of their contents: the registry loads the buckets an action needs
//! ([`State::needs`], [`State::needs_spec`]) and checks each against the root's hash before
//! anything reads it. Reading a bucket that was not loaded is a bug, never an empty answer: it
//! panics, so that a missing load can never read as "no such model".
//!
//! Here: the bookkeeping ([`Tree`]), the two maps ([`Models`], [`Names`]) and the root document.

use super::{Denial, KeyState, ModelState, SlotState, State, StateError};
use crate::crypto::keys::Fingerprint;
use crate::format::entry::{Body, PolicyDoc};
use crate::format::id::ObjectId;
use crate::util::encoding::to_canonical_vec;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The first format whose state is committed as a root and buckets (FORMAT.md §5.11).
pub const BUCKETS_FORMAT: u32 = 5;

/// Entries a bucket holds on average at most: a map's keys have the fewest hex digits (at
/// least one) that keep `count / 16^digits` at or below this. A write parses and re-hashes one
/// bucket of each map, so this bounds its cost whatever the registry's size.
#[cfg(not(test))]
pub const BUCKET_TARGET: u64 = 1024;
/// Small in unit tests, so that a few hundred models cross every cut.
#[cfg(test)]
pub const BUCKET_TARGET: u64 = 2;

/// The most hex digits a bucket key has (65,536 buckets: 64 million models at the target).
pub const MAX_DIGITS: usize = 4;

/// Largest bucket file a reader takes (about 250 bytes a model at the target: ample room).
pub const BUCKET_LIMIT: u64 = 64 << 20;

/// The digits of the bucket keys of a map of `count` entries.
pub fn digits_for(count: u64) -> usize {
    let mut digits = 1;
    let mut cap = BUCKET_TARGET * 16;
    while count > cap && digits < MAX_DIGITS {
        digits += 1;
        cap = cap.saturating_mul(16);
    }
    digits
}

/// The bucket of a model: the first `digits` hex digits of its record id.
pub fn model_key(id: &ObjectId, digits: usize) -> String {
    // The digits of the first bytes only: a commit keys every model in memory.
    let mut key: String = id.as_bytes()[..digits.div_ceil(2).min(32)]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    key.truncate(digits);
    key
}

/// The bucket of a name: the first `digits` hex digits of the BLAKE3 of its UTF-8 bytes.
pub fn name_key(name: &str, digits: usize) -> String {
    blake3::hash(name.as_bytes()).to_hex()[..digits].to_string()
}

/// Which map a bucket belongs to, and so the directory of its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Map {
    /// `index/models/<key>.json`: record id → model.
    Models,
    /// `index/names/<key>.json`: name → version → record id.
    Names,
}

impl Map {
    /// The directory under `.registry/index/` that holds this map's buckets.
    pub fn dir(self) -> &'static str {
        match self {
            Map::Models => "models",
            Map::Names => "names",
        }
    }
}

/// What a map's buckets are: their key length, their committed hashes, which are in memory.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// Hex digits of every key; 0 until the map was first cut (a state built by replay).
    digits: usize,
    /// Entries in the map, loaded or not.
    count: u64,
    /// The hash of each bucket as committed, for the buckets unchanged since it was read. A
    /// bucket not here is empty, or changed (then it is in memory).
    clean: BTreeMap<String, ObjectId>,
    /// The buckets in memory; `None`: all of them (a state built by replay, or fully loaded).
    loaded: Option<BTreeSet<String>>,
}

impl Tree {
    /// A map read from a root: every bucket committed, none in memory.
    fn committed(summary: Summary) -> Result<Tree, StateError> {
        let digits = summary.buckets.keys().next().map_or(1, String::len);
        let well_cut = summary.buckets.keys().all(|k| {
            k.len() == digits
                && k.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        let expected = digits_for(summary.count);
        if !(1..=MAX_DIGITS).contains(&digits)
            || !well_cut
            || (!summary.buckets.is_empty() && digits != expected)
        {
            return Err(StateError::BadIndex(
                "bucket keys of unequal or bad length".into(),
            ));
        }
        Ok(Tree {
            digits: expected,
            count: summary.count,
            clean: summary.buckets,
            loaded: Some(BTreeSet::new()),
        })
    }

    /// Whether what bucket `key` holds is in memory: it was loaded, or it was empty when the
    /// root was read (a bucket of the root not loaded yet is the one case it is not).
    fn covers(&self, key: &str) -> bool {
        self.loaded
            .as_ref()
            .is_none_or(|l| l.contains(key) || !self.clean.contains_key(key))
    }

    /// Whether every bucket is in memory (a bucket not loaded is always one the root names).
    pub fn complete(&self) -> bool {
        self.loaded
            .as_ref()
            .is_none_or(|l| self.clean.keys().all(|k| l.contains(k)))
    }

    /// The buckets of the root that are not in memory yet, among `keys`.
    fn missing<'k>(&self, keys: impl IntoIterator<Item = &'k String>) -> Vec<String> {
        keys.into_iter()
            .filter(|k| !self.covers(k) && self.clean.contains_key(*k))
            .cloned()
            .collect()
    }
}

/// A map's line in the root: its size and its buckets' hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Summary {
    /// Each non-empty bucket's key and the BLAKE3 of its canonical JSON.
    buckets: BTreeMap<String, ObjectId>,
    /// Entries in the map.
    count: u64,
}

/// Every registered model: a map by record id that may be in memory only in part (format 5).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Models {
    map: BTreeMap<ObjectId, ModelState>,
    #[serde(skip)]
    tree: Tree,
}

impl PartialEq for Models {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}
impl Eq for Models {}

impl Models {
    fn require(&self, id: &ObjectId) {
        let key = model_key(id, self.tree.digits.max(1));
        assert!(
            self.tree.digits == 0 || self.tree.covers(&key),
            "bug: the models of bucket {key} were read before they were loaded"
        );
    }

    fn require_all(&self) {
        assert!(
            self.tree.complete(),
            "bug: every model was read from a state loaded in part"
        );
    }

    /// The model registered with record `id`.
    pub fn get(&self, id: &ObjectId) -> Option<&ModelState> {
        self.require(id);
        self.map.get(id)
    }

    /// The model registered with record `id`, with its id.
    pub fn get_key_value(&self, id: &ObjectId) -> Option<(&ObjectId, &ModelState)> {
        self.require(id);
        self.map.get_key_value(id)
    }

    /// Whether record `id` is registered.
    pub fn contains_key(&self, id: &ObjectId) -> bool {
        self.get(id).is_some()
    }

    /// The models whose record id starts with the hex digits `prefix` (lowercase, at least as
    /// many as a bucket key has: one bucket holds them all).
    pub fn with_prefix(&self, prefix: &str) -> impl Iterator<Item = (&ObjectId, &ModelState)> {
        if self.tree.digits > 0 {
            let key = &prefix[..self.tree.digits.min(prefix.len())];
            assert!(
                key.len() == self.tree.digits && self.tree.covers(key),
                "bug: the models of prefix {prefix} were read before they were loaded"
            );
        }
        let lo = format!("{prefix:0<64}").parse::<ObjectId>().ok();
        let hi = format!("{prefix:f<64}").parse::<ObjectId>().ok();
        lo.zip(hi)
            .into_iter()
            .flat_map(move |(lo, hi)| self.map.range(lo..=hi))
    }

    /// Every model, by record id.
    pub fn iter(&self) -> std::collections::btree_map::Iter<'_, ObjectId, ModelState> {
        self.require_all();
        self.map.iter()
    }

    /// Every record id, sorted.
    pub fn keys(&self) -> std::collections::btree_map::Keys<'_, ObjectId, ModelState> {
        self.require_all();
        self.map.keys()
    }

    /// Every model, by record id.
    pub fn values(&self) -> std::collections::btree_map::Values<'_, ObjectId, ModelState> {
        self.require_all();
        self.map.values()
    }

    /// How many models are registered (known from the root, loaded or not).
    pub fn len(&self) -> usize {
        if self.tree.digits == 0 {
            self.map.len()
        } else {
            usize::try_from(self.tree.count).unwrap_or(usize::MAX)
        }
    }

    /// Whether no model is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every model is in memory.
    pub fn complete(&self) -> bool {
        self.tree.complete()
    }

    pub(super) fn get_mut(&mut self, id: &ObjectId) -> Option<&mut ModelState> {
        self.require(id);
        if self.tree.digits > 0 {
            self.tree.clean.remove(&model_key(id, self.tree.digits));
        }
        self.map.get_mut(id)
    }

    pub(super) fn insert(&mut self, id: ObjectId, model: ModelState) {
        self.require(&id);
        if self.tree.digits > 0 {
            self.tree.clean.remove(&model_key(&id, self.tree.digits));
        }
        if self.map.insert(id, model).is_none() {
            self.tree.count += 1;
        }
    }
}

impl std::ops::Index<&ObjectId> for Models {
    type Output = ModelState;
    fn index(&self, id: &ObjectId) -> &ModelState {
        self.get(id).expect("no such model")
    }
}

impl<'a> IntoIterator for &'a Models {
    type Item = (&'a ObjectId, &'a ModelState);
    type IntoIter = std::collections::btree_map::Iter<'a, ObjectId, ModelState>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// `name` → `version` → record id: how `name@version` finds its model. Derived from the models
/// in formats 1 to 4 (built by [`State::index_names`]), committed in buckets in format 5.
#[derive(Debug, Clone, Default)]
pub struct Names {
    map: BTreeMap<String, BTreeMap<String, ObjectId>>,
    tree: Tree,
    /// Whether `map` holds every name of the models in memory (else names are found by
    /// walking the models, which a state read from a format 1-4 index does until indexed).
    indexed: bool,
}

impl PartialEq for Names {
    /// Names are derived from, or committed with, the models, which states compare.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Names {}

impl Names {
    /// The names of a new state (genesis): indexed, and kept so by every `add`.
    pub(super) fn new_indexed() -> Names {
        Names {
            indexed: true,
            ..Names::default()
        }
    }

    fn require(&self, name: &str) {
        if self.tree.digits > 0 {
            let key = name_key(name, self.tree.digits);
            assert!(
                self.tree.covers(&key),
                "bug: the names of bucket {key} were read before they were loaded"
            );
        }
    }

    /// The versions of `name`, `None` when names are not indexed.
    fn versions(&self, name: &str) -> Option<Option<&BTreeMap<String, ObjectId>>> {
        if !self.indexed {
            return None;
        }
        self.require(name);
        Some(self.map.get(name))
    }

    fn insert(&mut self, name: &str, version: &str, id: ObjectId) {
        if !self.indexed {
            return;
        }
        self.require(name);
        if self.tree.digits > 0 {
            self.tree.clean.remove(&name_key(name, self.tree.digits));
        }
        let versions = self.map.entry(name.to_string()).or_default();
        if versions.is_empty() {
            self.tree.count += 1;
        }
        versions.insert(version.to_string(), id);
    }
}

/// What an entry or a model spec needs in memory before the rules read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// Every bucket of both maps.
    pub all: bool,
    /// The models of these records.
    pub models: BTreeSet<ObjectId>,
    /// The records whose id starts with these hex digits (at least four).
    pub prefixes: BTreeSet<String>,
    /// These names, and the models of each of their versions.
    pub names: BTreeSet<String>,
    /// The models active in these slots.
    pub slots: BTreeSet<String>,
}

impl Needs {
    /// Every bucket.
    pub fn all() -> Needs {
        Needs {
            all: true,
            ..Needs::default()
        }
    }

    /// Adds what `other` needs.
    pub fn extend(&mut self, other: Needs) {
        self.all |= other.all;
        self.models.extend(other.models);
        self.prefixes.extend(other.prefixes);
        self.names.extend(other.names);
        self.slots.extend(other.slots);
    }

    /// What `spec` resolves through ([`State::needs_spec`]), added.
    pub fn spec(mut self, spec: &str) -> Needs {
        self.extend(State::needs_spec(spec));
        self
    }

    /// The model active in `slot`, added.
    pub fn slot(mut self, slot: &str) -> Needs {
        self.slots.insert(slot.to_string());
        self
    }
}

/// A bucket file to write: its map, its key and its canonical bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketFile {
    /// The map it belongs to.
    pub map: Map,
    /// Its key.
    pub key: String,
    /// Its canonical JSON.
    pub bytes: Vec<u8>,
}

/// What a commit writes to `index/`: the root (`index/state.json`, what the checkpoint commits
/// to) and the buckets that changed. A format 1-4 state is its root alone.
#[derive(Debug, Clone)]
pub struct IndexFiles {
    /// The canonical root.
    pub root: Vec<u8>,
    /// The buckets that changed, to write before the root.
    pub buckets: Vec<BucketFile>,
    /// Whether the maps were cut anew: every bucket is in `buckets`, and bucket files of the
    /// old cut are stale.
    pub recut: bool,
}

/// The root of a format 5 state: the state with its two large maps replaced by their buckets'
/// hashes (FORMAT.md §5.11).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Root {
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    denied: BTreeMap<ObjectId, Denial>,
    format_version: u32,
    head: ObjectId,
    keys: BTreeMap<Fingerprint, KeyState>,
    models: Summary,
    names: Summary,
    policy: PolicyDoc,
    recipients: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    renewed: Option<String>,
    registry: ObjectId,
    root: Fingerprint,
    seq: u64,
    slots: BTreeMap<String, SlotState>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    succeeds: Option<crate::format::entry::Succession>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    time: Option<String>,
}

/// The canonical bytes of a value the state holds (no floats, no nulls).
fn canonical<T: Serialize>(value: &T) -> Vec<u8> {
    to_canonical_vec(value).expect("the state holds no floats and no nulls")
}

impl State {
    /// Whether this state is committed as a root and buckets (format 5).
    pub fn has_buckets(&self) -> bool {
        self.format_version >= BUCKETS_FORMAT
    }

    /// A format 5 state read from its root (`index/state.json`): every small part in memory,
    /// the buckets of models and names known by their hashes only, to be loaded with
    /// [`State::load_bucket`].
    pub fn from_root(bytes: &[u8]) -> Result<State, StateError> {
        let root: Root =
            serde_json::from_slice(bytes).map_err(|e| StateError::BadIndex(e.to_string()))?;
        if root.format_version < BUCKETS_FORMAT {
            return Err(StateError::BadIndex(
                "a root of a format without buckets".into(),
            ));
        }
        let models = Models {
            map: BTreeMap::new(),
            tree: Tree::committed(root.models)?,
        };
        let names = Names {
            map: BTreeMap::new(),
            tree: Tree::committed(root.names)?,
            indexed: true,
        };
        Ok(State {
            denied: root.denied,
            format_version: root.format_version,
            head: root.head,
            keys: root.keys,
            models,
            policy: root.policy,
            recipients: root.recipients,
            renewed: root.renewed,
            registry: root.registry,
            root: root.root,
            seq: root.seq,
            slots: root.slots,
            succeeds: root.succeeds,
            time: root.time,
            names,
        })
    }

    /// The buckets `needs` reads that are not in memory yet: `(map, key)`, names first, since
    /// the models of a name are known only once its bucket is. Empty for a state in memory
    /// whole.
    pub fn missing(&self, needs: &Needs) -> Vec<(Map, String)> {
        if !self.has_buckets() || self.models.tree.digits == 0 {
            return Vec::new();
        }
        let (mt, nt) = (&self.models.tree, &self.names.tree);
        if needs.all {
            let names = nt.missing(nt.clean.keys());
            let models = mt.missing(mt.clean.keys());
            return (names.into_iter().map(|k| (Map::Names, k)))
                .chain(models.into_iter().map(|k| (Map::Models, k)))
                .collect();
        }
        let name_keys: BTreeSet<String> =
            needs.names.iter().map(|n| name_key(n, nt.digits)).collect();
        let names = nt.missing(&name_keys);
        if !names.is_empty() {
            return names.into_iter().map(|k| (Map::Names, k)).collect();
        }
        let mut model_keys: BTreeSet<String> = needs
            .models
            .iter()
            .map(|id| model_key(id, mt.digits))
            .collect();
        for p in &needs.prefixes {
            if p.len() >= mt.digits {
                model_keys.insert(p[..mt.digits].to_string());
            }
        }
        for slot in &needs.slots {
            if let Some(s) = self.slots.get(slot) {
                model_keys.insert(model_key(&s.model, mt.digits));
            }
        }
        for name in &needs.names {
            if let Some(Some(versions)) = self.names.versions(name) {
                model_keys.extend(versions.values().map(|id| model_key(id, mt.digits)));
            }
        }
        mt.missing(&model_keys)
            .into_iter()
            .map(|k| (Map::Models, k))
            .collect()
    }

    /// Takes bucket `key` of `map` into memory, once its bytes hash to what the root commits
    /// to (the caller read them from `index/<map>/<key>.json`) and every entry in it belongs
    /// there. A bucket that does not match is refused, and the state is unchanged.
    pub fn load_bucket(&mut self, map: Map, key: &str, bytes: &[u8]) -> Result<(), StateError> {
        let tree = match map {
            Map::Models => &self.models.tree,
            Map::Names => &self.names.tree,
        };
        let Some(want) = tree.clean.get(key) else {
            return Err(StateError::BadIndex(format!("no bucket {key} in the root")));
        };
        if ObjectId::of(bytes) != *want {
            return Err(StateError::BadIndex(format!(
                "bucket {}/{key} does not hash to the root's",
                map.dir()
            )));
        }
        let digits = tree.digits;
        let bad = |e: serde_json::Error| StateError::BadIndex(e.to_string());
        match map {
            Map::Models => {
                let part: BTreeMap<ObjectId, ModelState> =
                    serde_json::from_slice(bytes).map_err(bad)?;
                if part.keys().any(|id| model_key(id, digits) != key) {
                    return Err(StateError::BadIndex(format!(
                        "bucket models/{key} holds another bucket's model"
                    )));
                }
                self.models.map.extend(part);
                if let Some(l) = self.models.tree.loaded.as_mut() {
                    l.insert(key.to_string());
                }
            }
            Map::Names => {
                let part: BTreeMap<String, BTreeMap<String, ObjectId>> =
                    serde_json::from_slice(bytes).map_err(bad)?;
                if part.keys().any(|n| name_key(n, digits) != key) {
                    return Err(StateError::BadIndex(format!(
                        "bucket names/{key} holds another bucket's name"
                    )));
                }
                self.names.map.extend(part);
                if let Some(l) = self.names.tree.loaded.as_mut() {
                    l.insert(key.to_string());
                }
            }
        }
        Ok(())
    }

    /// What the rules read to check and apply `body` (the entries that read every model, a
    /// key revocation's suspensions or a purge's shared bytes, need every bucket).
    pub fn needs(&self, body: &Body) -> Needs {
        let mut n = Needs::default();
        let slot_model = |slot: &str| self.slots.get(slot).map(|s| s.model);
        match body {
            Body::Add(a) => {
                n.models.insert(a.record);
                n.names.insert(a.name.clone());
                let (mc, nc) = (self.models.tree.count, self.names.tree.count);
                if digits_for(mc + 1) != self.models.tree.digits
                    || digits_for(nc + 1) != self.names.tree.digits
                {
                    return Needs::all();
                }
            }
            // A denial binds every model holding the bytes (FORMAT.md §5.15).
            Body::Transition(t) if t.deny => return Needs::all(),
            Body::Transition(t) => {
                n.models.insert(t.model);
                for e in &t.slots {
                    n.models.extend(e.replacement);
                    n.models.extend(slot_model(&e.slot));
                }
            }
            Body::Slot(c) => {
                n.models.extend(c.model);
                n.models.extend(slot_model(&c.slot));
            }
            Body::Drift(d) => {
                n.models.insert(d.model);
            }
            Body::Reapprove(r) => {
                n.models.insert(r.model);
            }
            Body::KeyTrust(_) | Body::Recipients(_) | Body::Renew(_) => {}
            _ => return Needs::all(),
        }
        n
    }

    /// What resolving `spec` reads ([`super::resolve::resolve`]): the name's bucket and its
    /// versions' models, and for a hex spec the records it may be a prefix of.
    pub fn needs_spec(spec: &str) -> Needs {
        let mut n = Needs::default();
        let name = spec.split_once('@').map_or(spec, |(name, _)| name);
        n.names.insert(name.to_string());
        let hex = spec.len() >= 4 && spec.bytes().all(|b| b.is_ascii_hexdigit());
        if hex {
            n.prefixes.insert(spec.to_ascii_lowercase());
        }
        n
    }

    /// The id of the model `name@version`, through the names when they are indexed; `None`
    /// when they are not (the caller walks the models).
    pub(super) fn find_by_name(&self, name: &str, version: &str) -> Option<Option<ObjectId>> {
        self.names
            .versions(name)
            .map(|v| v.and_then(|v| v.get(version)).copied())
    }

    /// The record ids of every version of `name`, `None` when names are not indexed.
    pub fn ids_named(&self, name: &str) -> Option<Vec<ObjectId>> {
        self.names
            .versions(name)
            .map(|v| v.map(|v| v.values().copied().collect()).unwrap_or_default())
    }

    /// Records `name@version` as record `id` (in `apply_add`).
    pub(super) fn index_name(&mut self, name: &str, version: &str, id: ObjectId) {
        self.names.insert(name, version, id);
    }

    /// Builds the name lookup of a state in memory whole (read from a format 1-4 index, or
    /// built from JSON in a test).
    pub fn index_names(&mut self) {
        if self.names.tree.digits > 0 {
            return; // read from a root: committed, loaded by bucket
        }
        let mut map: BTreeMap<String, BTreeMap<String, ObjectId>> = BTreeMap::new();
        for (id, m) in &self.models.map {
            map.entry(m.name.clone())
                .or_default()
                .insert(m.version.clone(), *id);
        }
        self.names.tree.count = map.len() as u64;
        self.names.map = map;
        self.names.indexed = true;
    }

    /// The bytes the checkpoint commits to: the canonical state (formats 1 to 4), or its root
    /// with every bucket's hash (format 5), the changed buckets hashed here.
    pub fn to_canonical(&self) -> Vec<u8> {
        if !self.has_buckets() {
            return canonical(self);
        }
        self.root_and_buckets(false).0
    }

    /// What a commit writes to `index/`, and the state then marked as committed: the root,
    /// and (format 5) each bucket that changed since the state was read.
    pub fn index_files(&mut self) -> IndexFiles {
        if !self.has_buckets() {
            return IndexFiles {
                root: canonical(self),
                buckets: Vec::new(),
                recut: false,
            };
        }
        let recut = self.needs_recut();
        let (root, buckets) = self.root_and_buckets(true);
        if recut {
            let (md, nd) = self.cuts();
            for (tree, digits) in [(&mut self.models.tree, md), (&mut self.names.tree, nd)] {
                tree.digits = digits;
                tree.clean.clear();
                tree.loaded = None;
            }
        }
        for b in &buckets {
            let tree = match b.map {
                Map::Models => &mut self.models.tree,
                Map::Names => &mut self.names.tree,
            };
            tree.clean.insert(b.key.clone(), ObjectId::of(&b.bytes));
            // In memory: what was written is what the map holds.
            if let Some(l) = tree.loaded.as_mut() {
                l.insert(b.key.clone());
            }
        }
        IndexFiles {
            root,
            buckets,
            recut,
        }
    }

    /// The key lengths the maps take at their current sizes.
    fn cuts(&self) -> (usize, usize) {
        (
            digits_for(self.models.len() as u64),
            digits_for(self.names_count()),
        )
    }

    /// How many distinct names the models have (counted from the models when names are not
    /// indexed: a state in memory whole).
    fn names_count(&self) -> u64 {
        if self.names.indexed {
            return self.names.tree.count;
        }
        let names: BTreeSet<&str> = self.models.map.values().map(|m| m.name.as_str()).collect();
        names.len() as u64
    }

    /// Whether a map is cut anew (built by replay, or grown past its key length).
    fn needs_recut(&self) -> bool {
        let (md, nd) = self.cuts();
        md != self.models.tree.digits || nd != self.names.tree.digits
    }

    /// The root and the bucket files: every bucket when `all_changed` or when a map is cut
    /// anew, else those that changed since read.
    fn root_and_buckets(&self, files: bool) -> (Vec<u8>, Vec<BucketFile>) {
        let recut = self.needs_recut();
        let (md, nd) = self.cuts();
        if recut {
            assert!(
                self.models.tree.complete() && self.names.tree.complete(),
                "bug: a map cut anew from a state loaded in part"
            );
        }
        let mut names_index = None;
        if !self.names.indexed {
            let mut s = self.clone();
            s.index_names();
            names_index = Some(s.names.map);
        }
        let names_map = names_index.as_ref().unwrap_or(&self.names.map);
        let clean = |tree: &Tree, key: &str| {
            if recut {
                None
            } else {
                tree.clean.get(key).copied()
            }
        };
        let mut out = Vec::new();
        let mut summary = |map: Map, groups: BTreeMap<String, Vec<u8>>, tree: &Tree| {
            let mut buckets = if recut {
                BTreeMap::new()
            } else {
                tree.clean.clone()
            };
            for (key, bytes) in groups {
                if clean(tree, &key).is_some() {
                    continue;
                }
                buckets.insert(key.clone(), ObjectId::of(&bytes));
                if files {
                    out.push(BucketFile { map, key, bytes });
                }
            }
            buckets
        };
        let model_groups = group(
            self.models.map.iter(),
            |id, _| model_key(id, md),
            |k| recut || !self.models.tree.clean.contains_key(k),
        );
        let name_groups = group(
            names_map.iter(),
            |n: &String, _| name_key(n, nd),
            |k| recut || !self.names.tree.clean.contains_key(k),
        );
        let models = Summary {
            buckets: summary(Map::Models, model_groups, &self.models.tree),
            count: self.models.len() as u64,
        };
        let names = Summary {
            buckets: summary(Map::Names, name_groups, &self.names.tree),
            count: self.names_count(),
        };
        let root = Root {
            denied: self.denied.clone(),
            format_version: self.format_version,
            head: self.head,
            keys: self.keys.clone(),
            models,
            names,
            policy: self.policy.clone(),
            recipients: self.recipients.clone(),
            renewed: self.renewed.clone(),
            registry: self.registry,
            root: self.root.clone(),
            seq: self.seq,
            slots: self.slots.clone(),
            succeeds: self.succeeds.clone(),
            time: self.time.clone(),
        };
        (canonical(&root), out)
    }
}

/// The canonical bytes of each bucket of `map` that `wanted` asks for, by key.
fn group<'m, K: Ord + Serialize + 'm, V: Serialize + 'm>(
    map: impl Iterator<Item = (&'m K, &'m V)>,
    key_of: impl Fn(&K, &V) -> String,
    wanted: impl Fn(&str) -> bool,
) -> BTreeMap<String, Vec<u8>> {
    let mut groups: BTreeMap<String, BTreeMap<&K, &V>> = BTreeMap::new();
    for (k, v) in map {
        let key = key_of(k, v);
        if wanted(&key) {
            groups.entry(key).or_default().insert(k, v);
        }
    }
    groups
        .into_iter()
        .map(|(key, part)| (key, canonical(&part)))
        .collect()
}
