//! The checkpoint (FORMAT.md §6): where the ledger ends and the state it commits to, its size
//! limit, and the one parser of its signed bytes, which every reader calls (the ledger's
//! replay, the fast path, a transfer's preamble and its import, export's `--since`). Plain
//! data; reading the `checkpoint` file and verifying the signature are the repo layer's.

use crate::crypto::envelope::{EnvelopeError, Kind, Unverified};
use crate::format::id::ObjectId;
use crate::util::encoding::{self, EncodingError};
use serde::{Deserialize, Serialize};

/// Largest checkpoint reg reads, as a file or inside a transfer (FORMAT.md §6, §11.4). Its
/// payload has a fixed shape of about 300 bytes; the limit only bounds what a reader holds.
pub const CHECKPOINT_LIMIT: u64 = 64 * 1024;

/// The checkpoint payload (FORMAT.md §6). It is serialized to be signed, and decoded only by
/// [`parse`] (it does not implement `Deserialize`): no reader can decode one without the
/// time rule `parse` adds to the envelope's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    /// Id of the last committed entry.
    pub head: ObjectId,
    /// The registry id.
    pub registry: ObjectId,
    /// Seq of the last committed entry.
    pub seq: u64,
    /// BLAKE3 of the canonical state after that entry.
    pub state: ObjectId,
    /// When it was written.
    pub time: String,
}

/// The payload as decoded, before [`parse`] has checked its time: private, so that a
/// [`Checkpoint`] comes only from `parse`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decoded {
    head: ObjectId,
    registry: ObjectId,
    seq: u64,
    state: ObjectId,
    time: String,
}

/// Parses checkpoint bytes: a canonical envelope of the checkpoint type whose payload is a
/// canonical [`Checkpoint`] with a time of the format's grammar (FORMAT.md §2). The signature
/// is not checked: which key must have made it depends on the ledger, so that is the caller's.
pub fn parse(bytes: &[u8]) -> Result<(Unverified, Checkpoint), EnvelopeError> {
    let env = Unverified::parse(bytes)?;
    let Decoded {
        head,
        registry,
        seq,
        state,
        time,
    } = env.payload_as(Kind::Checkpoint)?;
    let cp = Checkpoint {
        head,
        registry,
        seq,
        state,
        time,
    };
    if encoding::parse_rfc3339(&cp.time).is_none() {
        return Err(EnvelopeError::Encoding {
            what: "payload",
            source: EncodingError::Json(serde::de::Error::custom(format!(
                "the checkpoint's time `{}` is not a time of the format",
                encoding::echo(&cp.time)
            ))),
        });
    }
    Ok((env, cp))
}
