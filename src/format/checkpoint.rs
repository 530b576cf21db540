//! The checkpoint payload (FORMAT.md §6): where the ledger ends and the state it commits to.
//! Plain data; reading the `checkpoint` file and verifying it are the repo layer's.

use crate::format::id::ObjectId;
use serde::{Deserialize, Serialize};

/// The checkpoint payload (FORMAT.md §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
