//! The ledger: reading the entry list, replaying and verifying the chain, the checkpoint
//! (FORMAT.md §5, §6).
//!
//! [`replay`] is the one place where entries are checked: object hash, canonical form, position,
//! signer authority at that point, signature, and the kind's rules. Its result is a
//! [`Verified`] value, which only the repo layer can make.
//!
//! The checks of each entry and their fast, parallel replay are the child module `chain`: it
//! uses this module's errors and visitor, and [`replay`] drives it over the `ledger` file.

use crate::crypto::envelope::{EnvelopeError, Kind, Unverified};
use crate::crypto::keys::SecretKey;
use crate::format::entry::{Entry, EntryError};
use crate::format::id::ObjectId;
use crate::repo::store::{Store, StoreError};
use crate::state::{State, StateError, decode_key};
use crate::util::encoding::is_lower_hex;
use crate::util::fsutil::{IoError, read_small};
use std::ops::Deref;
use std::path::Path;

mod chain;
mod pipeline;

pub use crate::format::limits::ENTRY_LIMIT;
pub use chain::read_claim;
pub(crate) use chain::{Position, admit, check_unordered, claim_of_bytes, committed};

/// Bytes of one line of the `ledger` file: 64 hex digits and a newline.
pub const LINE_LEN: usize = 65;

use crate::format::checkpoint::CHECKPOINT_LIMIT;
pub use crate::format::checkpoint::Checkpoint;

/// What is wrong with one ledger entry.
#[derive(Debug, thiserror::Error)]
pub enum EntryProblem {
    /// The object is missing or corrupt.
    #[error(transparent)]
    Object(#[from] StoreError),
    /// The envelope or payload does not decode.
    #[error(transparent)]
    Decode(#[from] EntryError),
    /// The signature does not verify.
    #[error(transparent)]
    Signature(#[from] EnvelopeError),
    /// The entry is not where its fields say it is.
    #[error("{0}")]
    Position(String),
    /// The entry breaks a rule given the state before it.
    #[error(transparent)]
    Rule(#[from] StateError),
}

/// Errors of the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// An entry is invalid at its position.
    #[error("ledger entry {seq} ({id}): {problem}")]
    Entry {
        /// Its position (line of the `ledger` file).
        seq: u64,
        /// Its id.
        id: ObjectId,
        /// What is wrong.
        problem: EntryProblem,
    },
    /// The `ledger` file is malformed.
    #[error("ledger file line {line}: {detail}")]
    File {
        /// Line number, from 0.
        line: u64,
        /// What is wrong.
        detail: String,
    },
    /// Entries were cut from the end.
    #[error(
        "the checkpoint names entry {checkpoint_seq} but the ledger lists only {lines} entries: entries were removed"
    )]
    Truncated {
        /// Seq named by the checkpoint.
        checkpoint_seq: u64,
        /// Complete lines in the `ledger` file.
        lines: u64,
    },
    /// The checkpoint is missing, malformed, not signed by the head's signer, or disagrees.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// An I/O failure.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// A value that came out of a successful verification: only the repo layer constructs it (a
/// replay here, the checkpoint-checked index, a commit's own result), so that a state parsed
/// from anywhere else cannot reach code that trusts it (the load gate, [`crate::gate::Gate`]). Read it
/// through `Deref`.
#[derive(Debug, Clone)]
pub struct Verified<T>(T);

impl<T> Deref for Verified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Verified<T> {
    /// Vouches for `value`: for the repo layer's verifications only.
    pub(in crate::repo) fn new(value: T) -> Verified<T> {
        Verified(value)
    }

    /// The value, to change in ways that keep it verified (loading the buckets of a state
    /// checked against the root it was verified with): for the repo layer only.
    pub(in crate::repo) fn inner_mut(&mut self) -> &mut T {
        &mut self.0
    }

    /// Gives up the proof and returns the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl Verified<Replay> {
    /// The verified state and the checkpoint that commits to it.
    pub fn into_parts(self) -> (Verified<State>, Checkpoint) {
        (Verified(self.0.state), self.0.checkpoint)
    }
}

/// A replayed ledger.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The state at the checkpoint.
    pub state: State,
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Complete lines after the checkpoint's entry (residue of an interrupted write).
    pub residue_lines: u64,
    /// Whether the `ledger` file ends with a partial line (residue too).
    pub partial_line: bool,
}

/// An entry as the replay saw it, handed to the caller's visitor (for log and export).
pub struct Visit<'a> {
    /// The entry id.
    pub id: ObjectId,
    /// The decoded entry.
    pub entry: &'a Entry,
    /// The envelope bytes exactly as stored.
    pub envelope: &'a [u8],
    /// The canonical payload bytes.
    pub payload: &'a [u8],
    /// The state once this entry is applied: what a reader of the history asks of the entry's
    /// effects that the entry does not say (which models a compromised key suspended, which
    /// model a slot held before).
    pub state: &'a State,
}

/// Reads the entry ids listed in the `ledger` file; returns them and whether a partial line ends it.
pub fn read_ids(path: &Path) -> Result<(Vec<ObjectId>, bool), LedgerError> {
    // 65 bytes an entry: the limit allows some 16 million entries.
    let bytes = read_small(path, 1 << 30)?;
    parse_lines(&bytes, 0)
}

/// Parses ledger lines (`first` is the number of the first): each an id and a newline, and at
/// the end at most the start of one, which an interrupted append leaves (hex digits, no
/// newline). Anything else no write of reg made. Returns the ids and whether a partial line
/// ends them.
pub fn parse_lines(bytes: &[u8], first: u64) -> Result<(Vec<ObjectId>, bool), LedgerError> {
    let mut ids = Vec::with_capacity(bytes.len() / LINE_LEN);
    let mut chunks = bytes.chunks_exact(LINE_LEN);
    for (line, chunk) in chunks.by_ref().enumerate() {
        let text = std::str::from_utf8(&chunk[..64])
            .ok()
            .filter(|t| is_lower_hex(t, 64));
        match (text, chunk[64]) {
            (Some(t), b'\n') => ids.push(t.parse().expect("64 lowercase hex digits")),
            _ => {
                return Err(LedgerError::File {
                    line: first + line as u64,
                    detail: "not an entry id followed by a newline".into(),
                });
            }
        }
    }
    let rest = chunks.remainder();
    if !rest.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(LedgerError::File {
            line: first + ids.len() as u64,
            detail: "an unfinished last line that is not the start of an entry id, which no interrupted write leaves: remove the bytes after the last full line".into(),
        });
    }
    Ok((ids, !rest.is_empty()))
}

/// Reads and parses the checkpoint file (not yet verified).
pub fn read_checkpoint(path: &Path) -> Result<(Unverified, Checkpoint), LedgerError> {
    let bytes = read_small(path, CHECKPOINT_LIMIT)?;
    crate::format::checkpoint::parse(&bytes).map_err(|e| LedgerError::Checkpoint(e.to_string()))
}

/// Replays and verifies the whole ledger of the registry at `dot` (its `.registry` directory).
///
/// Checks every listed entry up to the checkpoint (FORMAT.md §5.1) and the checkpoint itself
/// (§6); calls `visit` with each entry in order once it is verified.
pub fn replay(
    dot: &Path,
    store: &Store,
    registry: &ObjectId,
    visit: &mut dyn FnMut(&Visit<'_>),
) -> Result<Verified<Replay>, LedgerError> {
    let (cp_env, cp) = read_checkpoint(&dot.join("checkpoint"))?;
    let (ids, partial_line) = read_ids(&dot.join("ledger"))?;
    if ids.first() != Some(registry) {
        return Err(LedgerError::File {
            line: 0,
            detail: format!("the first entry is not the genesis {registry} named by config.json"),
        });
    }
    let upto = ids.len().min(cp.seq as usize + 1);
    let state = chain::entries(&ids[..upto], registry, store, visit)?;
    // Checked after the entries, so that an entry removed from the middle is named as such
    // rather than reported as a short ledger.
    if ids.len() as u64 <= cp.seq {
        return Err(LedgerError::Truncated {
            checkpoint_seq: cp.seq,
            lines: ids.len() as u64,
        });
    }
    verify_checkpoint(&cp_env, &cp, &state, registry, store)?;
    Ok(Verified(Replay {
        residue_lines: ids.len() as u64 - cp.seq - 1,
        state,
        checkpoint: cp,
        partial_line,
    }))
}

/// Checks a checkpoint against the replayed state: its fields, and the head signer's signature.
fn verify_checkpoint(
    env: &Unverified,
    cp: &Checkpoint,
    state: &State,
    registry: &ObjectId,
    store: &Store,
) -> Result<(), LedgerError> {
    let bad = |m: String| Err(LedgerError::Checkpoint(m));
    if cp.registry != *registry {
        return bad(format!("names registry {}, not {registry}", cp.registry));
    }
    if cp.head != state.head() {
        return bad(format!(
            "names head {} but entry {} is {}",
            cp.head,
            cp.seq,
            state.head()
        ));
    }
    // The head entry's signer signs the checkpoint; its key is in the state (a key revoked by
    // the head entry itself still signed that entry, so it may sign the checkpoint for it).
    let head = read_entry(store, &cp.head).map_err(|e| LedgerError::Checkpoint(e.to_string()))?;
    verify_checkpoint_signature(env, state, &head.header.actor)?;
    let hash = state.hash();
    if cp.state != hash {
        return bad(format!(
            "commits to state {}, but replaying the ledger gives {hash}",
            cp.state
        ));
    }
    Ok(())
}

/// Signs a checkpoint for `state` (whose canonical bytes hash to `state_hash`) with the key that
/// signed its head entry.
pub fn sign_checkpoint(
    state: &State,
    state_hash: ObjectId,
    time: String,
    key: &SecretKey,
) -> Result<Vec<u8>, EnvelopeError> {
    let cp = Checkpoint {
        head: state.head(),
        registry: state.registry(),
        seq: state.seq(),
        state: state_hash,
        time,
    };
    crate::format::limits::sign(Kind::Checkpoint, &cp, key)
}

/// Reads and decodes one entry object (hash-checked by the store). Its signature is not checked
/// again: callers read entries reachable from a verified state, whose entries were verified.
pub fn read_entry(store: &Store, id: &ObjectId) -> Result<Entry, EntryProblem> {
    let bytes = store.get(id, ENTRY_LIMIT)?;
    Ok(Entry::parse(&bytes)?.1)
}

/// The id listed at line `seq` of the `ledger` file, if there is one.
pub fn id_at(path: &Path, seq: u64) -> Option<ObjectId> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let mut f = crate::util::fsutil::open_regular(path).ok()?;
    f.seek(SeekFrom::Start(seq.checked_mul(LINE_LEN as u64)?))
        .ok()?;
    let mut line = [0u8; LINE_LEN];
    f.read_exact(&mut line).ok()?;
    std::str::from_utf8(&line[..64]).ok()?.parse().ok()
}

/// Checks the checkpoint's signature on the fast path of FORMAT.md §8, where `state` is a
/// verified index: the signer must be `head_actor`, the key that signed the head entry (the same
/// rule as the full replay), and its signature must verify with that key's bytes in `state`.
/// Another trusted key re-signing the checkpoint is refused here exactly as in `ledger verify`.
pub fn verify_checkpoint_signature(
    env: &Unverified,
    state: &State,
    head_actor: &crate::crypto::keys::Fingerprint,
) -> Result<(), LedgerError> {
    let keyid = env
        .single_signer()
        .map_err(|_| LedgerError::Checkpoint("exactly one signature is allowed".into()))?;
    if keyid != head_actor {
        return Err(LedgerError::Checkpoint(format!(
            "signed by {keyid}, but the head entry's signer is {head_actor}"
        )));
    }
    let ks = state
        .keys()
        .get(keyid)
        .ok_or_else(|| LedgerError::Checkpoint(format!("signed by unknown key {keyid}")))?;
    let key =
        decode_key(keyid, &ks.public_key).map_err(|e| LedgerError::Checkpoint(e.to_string()))?;
    env.verify_single(&key)
        .map_err(|e| LedgerError::Checkpoint(format!("signature does not verify: {e}")))
}

/// One JSON line of `reg ledger export`: the entry id, its seq, the envelope as stored and the
/// decoded payload, so an external ledger can both read and re-verify it.
pub fn export_line(v: &Visit<'_>) -> serde_json::Value {
    let envelope: serde_json::Value =
        serde_json::from_slice(v.envelope).expect("verified envelopes are JSON");
    let payload: serde_json::Value =
        serde_json::from_slice(v.payload).expect("verified payloads are JSON");
    serde_json::json!({
        "id": v.id.to_string(),
        "seq": v.entry.header.seq,
        "kind": v.entry.body.kind().name(),
        "envelope": envelope,
        "payload": payload,
    })
}
