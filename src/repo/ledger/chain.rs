//! Replaying the ledger fast: decoding and signature checks run on every core, while the rules
//! that depend on order (position, the signer's authority at that point, the kind's rules) run
//! in sequence (FORMAT.md §5.1).
//!
//! Workers (`pipeline`) read, hash-check and decode entries, learn the keys they grant (a
//! fingerprint always names the same key bytes, so this is all a signature check needs) and
//! verify signatures strictly, a bounded window ahead of the in-order pass, which checks
//! positions, authority and rules. The first failing entry in ledger order is the one reported,
//! whichever thread found it. An `add` entry's record (FORMAT.md §5.6) is read and its signature checked in
//! the parallel pass; whether its publisher may publish at that point, and whether the entry
//! says what the record says, in the ordered one.

use super::pipeline::{self, Shape};
use super::{EntryProblem, LedgerError, Visit};
use crate::crypto::envelope::Unverified;
use crate::crypto::keys::{Fingerprint, PublicKey};
use crate::format::claim::{RecordClaim, claim};
use crate::format::entry::{Body, Entry};
use crate::format::id::ObjectId;
use crate::format::limits::ENTRY_LIMIT;
use crate::format::manifest::{MANIFEST_LIMIT, SignedManifest};
use crate::repo::store::Store;
use crate::state::{State, StateError, decode_key};
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

struct Decoded {
    bytes: Vec<u8>,
    env: Unverified,
    entry: Entry,
}

fn decode(store: &Store, id: &ObjectId) -> Result<Decoded, EntryProblem> {
    let bytes = store.get(id, ENTRY_LIMIT)?;
    let (env, entry) = Entry::parse(&bytes)?;
    Ok(Decoded { bytes, env, entry })
}

/// One entry as a worker left it for the in-order pass.
struct Prepared {
    decoded: Result<Decoded, EntryProblem>,
    /// Its order-free checks; `None` when the worker did not know a key they need yet (granted
    /// by an entry another worker was still decoding): the in-order pass runs them, once every
    /// earlier entry's keys are known.
    checked: Option<Checked>,
}

/// What the order-free checks found about one entry ([`check_unordered`]).
pub(crate) struct Checked {
    signature: Result<(), EntryProblem>,
    /// An `add`'s record, read, parsed and its signature checked (FORMAT.md §5.6); `None` for
    /// other kinds. Who may publish at this point is the in-order pass's to check.
    record: Option<Result<RecordClaim, EntryProblem>>,
}

/// Where an entry must sit (FORMAT.md §5.1, rule 2): its seq, the entry before it, and the
/// registry (both absent for genesis).
pub(crate) struct Position {
    pub seq: u64,
    pub prev: Option<ObjectId>,
    pub registry: Option<ObjectId>,
}

impl Position {
    /// Line `seq` of a ledger listing `ids` from genesis, of registry `registry`.
    fn in_ledger(seq: u64, ids: &[ObjectId], registry: &ObjectId) -> Position {
        Position {
            seq,
            prev: seq.checked_sub(1).map(|p| ids[p as usize]),
            registry: (seq > 0).then_some(*registry),
        }
    }
}

/// The error of a replay that found no entry: a ledger always starts with its genesis.
fn empty() -> LedgerError {
    LedgerError::File {
        line: 0,
        detail: "the ledger is empty".into(),
    }
}

/// The checks of one entry that need no order (FORMAT.md §5.1): its signature with the key
/// `key_of` gives for its signer (an unknown signer is the in-order pass's to name, since only it
/// knows why), and for an `add` its record, read by `record`, parsed and its signature checked.
///
/// With [`admit`], the one implementation of an entry's validity: `ledger verify` runs it over
/// the ledger, `reg import` over the entries a transfer brings, so neither can forget a rule.
pub(crate) fn check_unordered(
    env: &Unverified,
    entry: &Entry,
    key_of: &dyn Fn(&Fingerprint) -> Option<PublicKey>,
    record: &dyn Fn(&ObjectId) -> Result<RecordClaim, EntryProblem>,
) -> Checked {
    Checked {
        signature: match key_of(&entry.header.actor) {
            Some(key) => env.verify_single(&key).map_err(EntryProblem::from),
            None => Ok(()),
        },
        record: match &entry.body {
            Body::Add(a) => Some(record(&a.record)),
            _ => None,
        },
    }
}

/// The checks of one entry in order, then its application to `state` (FORMAT.md §5.1): its
/// position (rule 2), its signer trusted for its kind at this point and its signature (rule 3),
/// an `add`'s record and the kind's rules (rule 4). On error `state` is unchanged.
pub(crate) fn admit(
    state: &mut State,
    id: ObjectId,
    entry: &Entry,
    at: &Position,
    checked: Checked,
) -> Result<(), EntryProblem> {
    check_position(entry, at)?;
    state.check_signer(&entry.header.actor, &entry.body)?;
    checked.signature?;
    if let Body::Add(a) = &entry.body {
        // Always read for an add by `check_unordered`; fail closed if not.
        let claim = checked.record.unwrap_or_else(|| {
            Err(StateError::RecordRefused {
                record: a.record,
                detail: "it was not read".into(),
            }
            .into())
        })?;
        state.check_record(a, &claim)?;
    }
    state.apply(id, entry)?;
    Ok(())
}

/// Keys by fingerprint, as the entries decoded so far grant them. A fingerprint names one key's
/// bytes (FORMAT.md §4.1), so a key learnt from any entry checks a signature exactly as the
/// state's copy would; whether its holder was trusted at that point is the in-order pass's rule.
#[derive(Default)]
struct Keys(RwLock<HashMap<Fingerprint, PublicKey>>);

impl Keys {
    fn get(&self, fp: &Fingerprint) -> Option<PublicKey> {
        self.read().get(fp).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Fingerprint, PublicKey>> {
        // Poisoned only by a panicking worker, which the pipeline re-raises; the map itself only
        // ever holds keys whose bytes matched their fingerprint.
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes the keys `entry` grants (a genesis's, a `key trust`'s).
    fn learn(&self, entry: &Entry) {
        let grants: Vec<(&Fingerprint, &String)> = match &entry.body {
            Body::Genesis(g) => g
                .keys
                .iter()
                .map(|k| (&k.fingerprint, &k.public_key))
                .collect(),
            Body::KeyTrust(t) => vec![(&t.key.fingerprint, &t.key.public_key)],
            _ => return,
        };
        for (fp, b64) in grants {
            if !self.read().contains_key(fp)
                && let Ok(k) = decode_key(fp, b64)
            {
                let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
                map.entry(fp.clone()).or_insert(k);
            }
        }
    }

    /// The order-free checks of `d` with the keys known now ([`check_unordered`]).
    fn check(&self, store: &Store, d: &Decoded) -> Checked {
        let key_of = |fp: &Fingerprint| self.get(fp);
        let record = |id: &ObjectId| read_claim(store, id, &key_of).map_err(EntryProblem::from);
        check_unordered(&d.env, &d.entry, &key_of, &record)
    }

    /// [`Keys::check`] on a worker: `None` if a key it needs (the signer's, an `add` record's
    /// publisher's) is not known yet, so that the in-order pass checks it once every earlier
    /// entry has granted its keys, rather than an unchecked signature passing.
    fn check_ahead(&self, store: &Store, d: &Decoded) -> Option<Checked> {
        self.read().get(&d.entry.header.actor)?;
        let checked = self.check(store, d);
        match &checked.record {
            Some(Ok(claim)) if claim.verified_with.is_none() => None,
            _ => Some(checked),
        }
    }
}

/// A worker's part for the entry `id`: read, hash-check and decode it, learn the keys it grants,
/// check its signature strictly and read and check an `add`'s record.
fn prepare(store: &Store, id: &ObjectId, keys: &Keys) -> Prepared {
    let decoded = decode(store, id);
    let checked = match &decoded {
        Ok(d) => {
            keys.learn(&d.entry);
            keys.check_ahead(store, d)
        }
        // The decode error is what the in-order pass reports.
        Err(_) => None,
    };
    Prepared { decoded, checked }
}

/// Replays and verifies `ids` (the ledger up to the checkpoint), returning the state.
///
/// Workers on every core read, decode and strictly verify entries (and the records `add`
/// entries name) a bounded window ahead of the in-order pass on this thread, which checks
/// positions, authority and rules and applies each entry: memory holds the state and the
/// window, never the ledger, and the first failing entry in ledger order is the one reported,
/// whichever thread found it.
pub(crate) fn entries(
    ids: &[ObjectId],
    registry: &ObjectId,
    store: &Store,
    visit: &mut dyn FnMut(&Visit<'_>),
) -> Result<State, LedgerError> {
    entries_with(ids, registry, store, visit, Shape::for_cores())
}

/// [`entries`] with a given pipeline shape (tests use small batches and windows).
fn entries_with(
    ids: &[ObjectId],
    registry: &ObjectId,
    store: &Store,
    visit: &mut dyn FnMut(&Visit<'_>),
    shape: Shape,
) -> Result<State, LedgerError> {
    let keys = Keys::default();
    let mut state: Option<State> = None;
    pipeline::ordered(
        ids.len(),
        shape,
        |i| prepare(store, &ids[i], &keys),
        |i, prepared| {
            let seq = i as u64;
            let id = &ids[i];
            let fail = |problem: EntryProblem| LedgerError::Entry {
                seq,
                id: *id,
                problem,
            };
            let d = prepared.decoded.map_err(fail)?;
            // Every entry before this one was decoded, and its keys learnt, before it got here.
            let checked = match prepared.checked {
                Some(c) => c,
                None => keys.check(store, &d),
            };
            let at = Position::in_ledger(seq, ids, registry);
            let after = match &mut state {
                None => {
                    check_position(&d.entry, &at).map_err(fail)?;
                    let (s, _) = State::from_genesis(*id, &d.entry).map_err(|e| fail(e.into()))?;
                    checked.signature.map_err(fail)?;
                    state.insert(s)
                }
                Some(s) => {
                    admit(s, *id, &d.entry, &at, checked).map_err(fail)?;
                    s
                }
            };
            visit(&Visit {
                id: *id,
                entry: &d.entry,
                envelope: &d.bytes,
                payload: &d.env.payload,
                state: after,
            });
            Ok::<(), LedgerError>(())
        },
    )?;
    state.ok_or_else(empty)
}

/// Applies `ids` (a ledger this host verified, up to its checkpoint) to a state again, oldest
/// first, without checking signatures, authority or records again: for readers of the history
/// ([`crate::repo::registry::Registry::walk`]) that trust the committed state as every read does.
/// Each entry is still read by its hash and must sit at its position (seq, prev, registry), so
/// the chain is the one the checkpoint's head commits to; the caller compares the end state
/// with the committed one.
pub(crate) fn committed(
    ids: &[ObjectId],
    registry: &ObjectId,
    store: &Store,
    visit: &mut dyn FnMut(&Visit<'_>),
) -> Result<State, LedgerError> {
    let mut state: Option<State> = None;
    for (seq, id) in ids.iter().enumerate() {
        let seq = seq as u64;
        let fail = |problem: EntryProblem| LedgerError::Entry {
            seq,
            id: *id,
            problem,
        };
        let d = decode(store, id).map_err(fail)?;
        let at = Position::in_ledger(seq, ids, registry);
        check_position(&d.entry, &at).map_err(fail)?;
        let after = match &mut state {
            None => {
                let (s, _) = State::from_genesis(*id, &d.entry).map_err(|e| fail(e.into()))?;
                state.insert(s)
            }
            Some(s) => {
                s.apply(*id, &d.entry).map_err(|e| fail(e.into()))?;
                s
            }
        };
        visit(&Visit {
            id: *id,
            entry: &d.entry,
            envelope: &d.bytes,
            payload: &d.env.payload,
            state: after,
        });
    }
    state.ok_or_else(empty)
}

/// The entry's `seq`, `prev` and `registry` are those of its position (FORMAT.md §5.1, rule 2).
fn check_position(entry: &Entry, at: &Position) -> Result<(), EntryProblem> {
    let h = &entry.header;
    let seq = at.seq;
    if h.seq != seq {
        return Err(EntryProblem::Position(format!(
            "it says it is entry {}, but it is listed at position {seq}",
            h.seq
        )));
    }
    let expected_prev = at.prev;
    if h.prev != expected_prev {
        return Err(EntryProblem::Position(format!(
            "its prev is {}, but the entry before it is {}",
            opt(&h.prev),
            opt(&expected_prev)
        )));
    }
    let expected_registry = at.registry;
    if h.registry != expected_registry {
        return Err(EntryProblem::Position(format!(
            "it names registry {}, expected {}",
            opt(&h.registry),
            opt(&expected_registry)
        )));
    }
    Ok(())
}

fn opt(id: &Option<ObjectId>) -> String {
    id.map_or_else(|| "(none)".to_string(), |i| i.to_string())
}

/// Reads record `id` from the store (hash-checked, at most [`MANIFEST_LIMIT`] bytes), parses it
/// as a signed manifest and checks its signature with the key `key_of` gives for its publisher:
/// the part of the `add` rule that needs no state, so replay runs it on every core.
pub fn read_claim(
    store: &Store,
    id: &ObjectId,
    key_of: &dyn Fn(&Fingerprint) -> Option<PublicKey>,
) -> Result<RecordClaim, StateError> {
    let refuse = |detail: String| StateError::RecordRefused {
        record: *id,
        detail,
    };
    let bytes = store
        .get(id, MANIFEST_LIMIT)
        .map_err(|e| refuse(e.to_string()))?;
    claim_of_bytes(id, bytes, key_of)
}

/// [`read_claim`] for record bytes already in hand and hash-checked (a record received in a
/// transfer file, FORMAT.md §11.8): parses them as a signed manifest and checks its signature.
pub fn claim_of_bytes(
    id: &ObjectId,
    bytes: Vec<u8>,
    key_of: &dyn Fn(&Fingerprint) -> Option<PublicKey>,
) -> Result<RecordClaim, StateError> {
    let refuse = |detail: String| StateError::RecordRefused {
        record: *id,
        detail,
    };
    let signed = SignedManifest::parse(bytes).map_err(|e| refuse(e.to_string()))?;
    let key = key_of(&signed.manifest.publisher);
    claim(&signed, key.as_ref()).map_err(refuse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::envelope::{Envelope, Kind};
    use crate::crypto::keys::SecretKey;
    use crate::format::entry::Header;
    use crate::state::genesis_body;

    /// A one-entry ledger: its genesis, signed by `signer` but naming `root` as its actor.
    fn genesis(dot: &std::path::Path, root: &SecretKey, signer: &SecretKey) -> ObjectId {
        genesis_at(dot, root, signer, |_| {})
    }

    /// [`genesis`] with its header changed by `edit`.
    fn genesis_at(
        dot: &std::path::Path,
        root: &SecretKey,
        signer: &SecretKey,
        edit: impl FnOnce(&mut Header),
    ) -> ObjectId {
        let mut entry = Entry {
            header: Header {
                actor: root.public().fingerprint().clone(),
                prev: None,
                registry: None,
                seq: 0,
                time: "2026-01-01T00:00:00Z".into(),
            },
            body: genesis_body(root.public(), Vec::new(), &[7; 32], None),
        };
        edit(&mut entry.header);
        let payload = entry.to_payload().unwrap();
        let sign = |k: &SecretKey| -> Envelope {
            let bytes = crate::format::limits::sign_bytes(Kind::Genesis, &payload, k).unwrap();
            serde_json::from_slice(&bytes).unwrap()
        };
        let mut env = sign(root);
        // The actor's keyid, with another key's signature over the same bytes.
        env.signatures[0].sig = sign(signer).signatures[0].sig.clone();
        Store::new(dot).put_bytes(&env.to_canonical()).unwrap()
    }

    /// The genesis is self-signed: the full replay checks its signature with the root key it
    /// grants, as it checks every later entry's with the keys trusted before it.
    #[test]
    fn the_full_replay_refuses_a_genesis_whose_signature_does_not_verify() {
        let d = tempfile::tempdir().unwrap();
        for sub in ["objects", "tmp"] {
            std::fs::create_dir(d.path().join(sub)).unwrap();
        }
        let store = Store::new(d.path());
        let root = SecretKey::from_seed(&[1; 32]).unwrap();
        let other = SecretKey::from_seed(&[2; 32]).unwrap();

        let good = genesis(d.path(), &root, &root);
        let state = entries(&[good], &good, &store, &mut |_| {}).expect("a genuine genesis");
        assert_eq!(state.head(), good);

        let forged = genesis(d.path(), &root, &other);
        let err = entries(&[forged], &forged, &store, &mut |_| {})
            .expect_err("a forged genesis is refused");
        assert!(
            matches!(&err, LedgerError::Entry { seq: 0, id, .. } if *id == forged),
            "{err}"
        );
        assert!(err.to_string().contains("signature"), "{err}");
    }

    /// The genesis sits at position 0 like any entry at its own: one that says it is entry 1 is
    /// refused by the full replay as out of place, before its body is taken as a registry's start.
    #[test]
    fn the_full_replay_refuses_a_genesis_that_says_it_is_another_entry() {
        let d = tempfile::tempdir().unwrap();
        for sub in ["objects", "tmp"] {
            std::fs::create_dir(d.path().join(sub)).unwrap();
        }
        let store = Store::new(d.path());
        let root = SecretKey::from_seed(&[1; 32]).unwrap();
        let id = genesis_at(d.path(), &root, &root, |h| h.seq = 1);
        let err = entries(&[id], &id, &store, &mut |_| {}).expect_err("out of place");
        assert!(
            matches!(
                &err,
                LedgerError::Entry {
                    seq: 0,
                    problem: EntryProblem::Position(_),
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("it says it is entry 1, but it is listed at position 0"),
            "{err}"
        );
    }

    /// A ledger of `len` entries in the store at `dot`: its genesis by `root`, then `key trust`
    /// entries, each trusting a new operator key, signed by root; the entries at `bad_sig`
    /// carry another key's signature under root's key id. Returns the ids in order.
    fn long_ledger(
        dot: &std::path::Path,
        root: &SecretKey,
        len: u64,
        bad_sig: &[u64],
    ) -> Vec<ObjectId> {
        use crate::format::entry::{KeyRef, KeyTrust, Role};
        for sub in ["objects", "tmp"] {
            std::fs::create_dir_all(dot.join(sub)).unwrap();
        }
        let store = Store::new(dot);
        let forger = SecretKey::from_seed(&[9; 32]).unwrap();
        let genesis = genesis(dot, root, root);
        let mut ids = vec![genesis];
        for seq in 1..len {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&seq.to_le_bytes());
            seed[31] = 0x5a;
            let key = SecretKey::from_seed(&seed).unwrap();
            let entry = Entry {
                header: Header {
                    actor: root.public().fingerprint().clone(),
                    prev: Some(ids[seq as usize - 1]),
                    registry: Some(genesis),
                    seq,
                    time: "2026-01-01T00:00:01Z".into(),
                },
                body: Body::KeyTrust(KeyTrust {
                    key: KeyRef {
                        fingerprint: key.public().fingerprint().clone(),
                        public_key: crate::util::encoding::b64_encode(&key.public().to_bytes()),
                    },
                    name: None,
                    reason: format!("operator {seq}"),
                    role: Role::Operator,
                }),
            };
            let payload = entry.to_payload().unwrap();
            let sign = |k: &SecretKey| -> Envelope {
                let kind = entry.body.kind();
                let bytes = crate::format::limits::sign_bytes(kind, &payload, k).unwrap();
                serde_json::from_slice(&bytes).unwrap()
            };
            let mut env = sign(root);
            if bad_sig.contains(&seq) {
                env.signatures[0].sig = sign(&forger).signatures[0].sig.clone();
            }
            ids.push(store.put_bytes(&env.to_canonical()).unwrap());
        }
        ids
    }

    /// A small pipeline, so that workers run many batches ahead of the in-order pass.
    const AHEAD: Shape = Shape {
        threads: 3,
        batch: 2,
        window: 6,
    };

    /// A forged signature deep in a long ledger is found with workers running ahead of the
    /// in-order pass, and reported at its own seq; a later forgery, which the workers may reach
    /// first, is not the one reported. The entries before it were applied in order.
    #[test]
    fn a_bad_signature_deep_in_a_long_ledger_is_reported_at_its_seq() {
        let d = tempfile::tempdir().unwrap();
        let root = SecretKey::from_seed(&[1; 32]).unwrap();
        let ids = long_ledger(d.path(), &root, 300, &[211, 260]);
        let store = Store::new(d.path());
        let good = entries_with(&ids[..211], &ids[0], &store, &mut |_| {}, AHEAD)
            .expect("the entries before the forgery verify");
        assert_eq!(good.seq(), 210);

        let mut visited = Vec::new();
        let err = entries_with(
            &ids,
            &ids[0],
            &store,
            &mut |v| visited.push(v.entry.header.seq),
            AHEAD,
        )
        .expect_err("the forged entry is refused");
        assert!(
            matches!(&err, LedgerError::Entry { seq: 211, id, problem: EntryProblem::Signature(_) } if *id == ids[211]),
            "{err}"
        );
        assert!(err.to_string().contains("ledger entry 211 ("), "{err}");
        assert_eq!(
            visited,
            (0..211).collect::<Vec<u64>>(),
            "entries before it, in order"
        );
    }

    /// An entry that fails in a worker (its object is missing) stops the pipeline: the error
    /// names it, the replay returns (no worker left waiting), and no entry after it is applied.
    #[test]
    fn a_failure_in_a_worker_stops_the_replay_cleanly() {
        let d = tempfile::tempdir().unwrap();
        let root = SecretKey::from_seed(&[1; 32]).unwrap();
        let ids = long_ledger(d.path(), &root, 400, &[]);
        let store = Store::new(d.path());
        std::fs::remove_file(store.path(&ids[57])).unwrap();
        std::fs::write(store.path(&ids[300]), b"corrupt").unwrap();
        let dot = d.path().to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let store = Store::new(&dot);
            let mut last = None;
            let r = entries_with(
                &ids,
                &ids[0],
                &store,
                &mut |v| last = Some(v.entry.header.seq),
                AHEAD,
            );
            let _ = tx.send((r.err().map(|e| e.to_string()), last, ids[57]));
        });
        let (err, last, missing) = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the replay returns instead of hanging");
        let err = err.expect("refused");
        assert!(
            err.starts_with(&format!("ledger entry 57 ({missing})")),
            "{err}"
        );
        assert_eq!(last, Some(56));
    }

    /// A ledger with no entry is refused by both replays, never taken as an empty state.
    #[test]
    fn an_empty_ledger_is_refused_by_both_replays() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(d.path());
        let registry = ObjectId::of(b"r");
        for err in [
            entries(&[], &registry, &store, &mut |_| {}).err(),
            committed(&[], &registry, &store, &mut |_| {}).err(),
        ] {
            let err = err.expect("refused");
            assert!(err.to_string().contains("the ledger is empty"), "{err}");
        }
    }
}
