//! The state as a root and buckets (FORMAT.md §5.11): a writer that reads the root, loads only
//! what an entry needs, applies it and writes the buckets it changed commits to the very root
//! replay computes from the whole state, across every cut of the maps (`BUCKET_TARGET` is 2 in
//! unit tests: 32, 512 and 8,192 entries are the thresholds).

use super::{Fx, add};
use crate::format::id::ObjectId;
use crate::format::lifecycle::LifecycleState;
use crate::state::{IndexFiles, Map, Needs, State, StateError, digits_for};
use std::collections::BTreeMap;

/// `index/` kept in memory: the root and every bucket file, as a commit leaves them.
#[derive(Default)]
struct Disk {
    root: Vec<u8>,
    buckets: BTreeMap<(&'static str, String), Vec<u8>>,
    /// Buckets read since the last `take_reads`.
    reads: usize,
}

impl Disk {
    fn write(&mut self, files: IndexFiles) {
        if files.recut {
            self.buckets.clear();
        }
        for b in files.buckets {
            self.buckets.insert((b.map.dir(), b.key), b.bytes);
        }
        self.root = files.root;
    }

    /// The state as the fast path reads it: the root, then what `needs` reads.
    fn read(&mut self, needs: &Needs) -> State {
        let mut state = State::from_root(&self.root).expect("the root parses");
        loop {
            let missing = state.missing(needs);
            if missing.is_empty() {
                return state;
            }
            for (map, key) in missing {
                self.reads += 1;
                let bytes = &self.buckets[&(map.dir(), key.clone())];
                state
                    .load_bucket(map, &key, bytes)
                    .expect("a bucket matches its root");
            }
        }
    }

    fn take_reads(&mut self) -> usize {
        std::mem::take(&mut self.reads)
    }
}

/// The state as replay builds it, in memory whole with nothing committed: what its root is.
fn replayed_root(state: &State) -> Vec<u8> {
    let fresh: State = serde_json::from_value(serde_json::to_value(state).expect("serializes"))
        .expect("parses back");
    fresh.to_canonical()
}

#[test]
fn an_incremental_root_is_the_replayed_root_across_every_cut() {
    let mut fx = Fx::new();
    let op = super::key(2);
    assert_eq!(op.public().fingerprint(), fx.op.public().fingerprint());
    let mut disk = Disk::default();
    disk.write(fx.state.clone().index_files());
    assert_eq!(disk.root, replayed_root(&fx.state));
    let mut cuts = Vec::new();
    for i in 0..600 {
        let (id, entry) = fx.entry(&op, add(&format!("m{i:03}")));
        // The writer: the root, what the entry needs, the entry, the buckets it changed.
        let mut s = disk.read(&Needs::default());
        let needs = s.needs(&entry.body);
        let mut s2 = disk.read(&needs);
        std::mem::swap(&mut s, &mut s2);
        s.apply(id, &entry).expect("the add follows the rules");
        let files = s.index_files();
        if files.recut {
            cuts.push(s.models().len());
        } else {
            assert!(
                disk.take_reads() <= 2,
                "an add reads one bucket of each map"
            );
            assert!(
                files.buckets.len() <= 2,
                "an add rewrites one bucket of each map"
            );
        }
        disk.take_reads();
        disk.write(files);
        // Replay, the whole state.
        fx.state.apply(id, &entry).expect("the same entry replays");
        if i < 40 || i % 97 == 0 || cuts.last() == Some(&fx.state.models().len()) {
            assert_eq!(
                String::from_utf8_lossy(&disk.root),
                String::from_utf8_lossy(&replayed_root(&fx.state)),
                "after m{i:03}"
            );
        }
    }
    assert_eq!(disk.root, replayed_root(&fx.state));
    assert_eq!(
        cuts,
        [33, 513],
        "the maps are cut anew past 32 and 512 entries"
    );
    assert_eq!((digits_for(32), digits_for(33), digits_for(513)), (1, 2, 3));

    // A lifecycle write reads and rewrites one bucket of models, no name, and still agrees.
    let model = ObjectId::of(b"m123 record");
    let body = fx.moved(&model, LifecycleState::Promoted);
    let (id, entry) = fx.entry(&op, body);
    let mut s = disk.read(&Needs::default());
    let needs = s.needs(&entry.body);
    s = disk.read(&needs);
    assert_eq!(
        disk.take_reads(),
        1,
        "a transition reads its model's bucket alone"
    );
    s.apply(id, &entry)
        .expect("the promotion follows the rules");
    let files = s.index_files();
    assert_eq!(files.buckets.len(), 1);
    assert_eq!(files.buckets[0].map, Map::Models);
    disk.write(files);
    fx.state.apply(id, &entry).expect("replays");
    assert_eq!(disk.root, replayed_root(&fx.state));
}

#[test]
fn a_bucket_that_is_not_the_roots_is_refused_and_changes_nothing() {
    let fx = Fx::new();
    let mut disk = Disk::default();
    disk.write(fx.state.clone().index_files());
    let mut state = State::from_root(&disk.root).expect("the root parses");
    let ((dir, key), bytes) = disk
        .buckets
        .iter()
        .find(|((d, _), _)| *d == "models")
        .map(|(k, v)| (k.clone(), v.clone()))
        .expect("a bucket of models");
    assert_eq!(dir, "models");
    // Another model's state, in canonical JSON of the same shape: not the committed bytes.
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    let forged = text
        .replacen("REGISTERED", "PROMOTED", 1)
        .replacen("REVOKED", "PROMOTED", 1);
    assert_ne!(forged, text);
    let err = state
        .load_bucket(Map::Models, &key, forged.as_bytes())
        .expect_err("a changed bucket");
    assert!(matches!(err, StateError::BadIndex(_)), "{err}");
    // A bucket the root does not name, and the right bytes under another key.
    let other = if key == "0" { "1" } else { "0" };
    assert!(state.load_bucket(Map::Models, other, &bytes).is_err());
    // Nothing was taken in: the right bytes still load.
    state
        .load_bucket(Map::Models, &key, &bytes)
        .expect("the committed bucket");
}

#[test]
#[should_panic(expected = "read before they were loaded")]
fn reading_a_model_whose_bucket_was_not_loaded_panics_never_reads_as_absent() {
    let fx = Fx::new();
    let mut disk = Disk::default();
    disk.write(fx.state.clone().index_files());
    let state = disk.read(&Needs::default());
    let _ = state.models().get(&fx.alpha);
}

#[test]
fn a_models_key_is_the_first_hex_digits_of_its_record_id() {
    let id = ObjectId::of(b"any record");
    for digits in 1..=crate::state::MAX_DIGITS {
        assert_eq!(
            crate::state::buckets::model_key(&id, digits),
            id.to_string()[..digits]
        );
    }
}
