//! The head floor a pin carries (FORMAT.md §8) and the head an operator asks for: what closes
//! first contact against a truncated or forked medium, set from the head code read between
//! sites ([`HeadCode`]) or a whole entry id.

use super::TrustError;
use crate::format::head_code::{HeadCode, HeadCodeError};
use crate::format::id::ObjectId;
use serde::{Deserialize, Serialize};

/// A minimum head a pin carries (FORMAT.md §8): the registry's history must reach entry `seq`,
/// and, when `head` is given, list there an entry whose id starts with `head`. It is what closes
/// first contact against a truncated medium: the sending site reads its head code
/// (`reg status --code`, [`HeadCode`]) to the receiving site over a channel the medium's holder
/// does not control. A floor without `head` (pins of older reg, `--seq`) proves only a length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Floor {
    /// The entry's sequence number.
    pub seq: u64,
    /// Lowercase hex prefix of the entry's id: [`Floor::MIN_HEAD_DIGITS`] to 64 digits. `reg
    /// trust add` writes the whole id, found in the verified ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
}

impl Floor {
    /// Fewest hex digits of a head a pin may carry: the 96 bits older reg wrote, still read
    /// (they were verified when pinned); a code read now carries [`crate::format::head_code::BITS`].
    pub const MIN_HEAD_DIGITS: usize = 24;

    /// The code read aloud between sites ([`HeadCode`]), e.g.
    /// `42-7KQ2X-M3PA9-0ZD4T-H6RWE-5NBCV-Q8XJ1-GT2M7`.
    pub fn code(seq: u64, head: &ObjectId) -> String {
        HeadCode::of(seq, head).to_string()
    }

    /// Parses a head code: the floor it names, with the code's 35 hex digits as its head.
    pub fn parse_code(code: &str) -> Result<Floor, HeadCodeError> {
        let code: HeadCode = code.parse()?;
        Ok(Floor {
            seq: code.seq,
            head: Some(code.head_hex()),
        })
    }

    /// Whether `id` is the entry the floor names at its seq.
    pub fn matches(&self, id: &ObjectId) -> bool {
        self.head
            .as_ref()
            .is_none_or(|h| id.to_string().starts_with(h.as_str()))
    }

    /// Refuses a head that is not [`Floor::MIN_HEAD_DIGITS`] to 64 lowercase hex digits: a
    /// shorter one (an empty one matches every entry) would prove next to nothing.
    pub(super) fn check(&self) -> Result<(), String> {
        match &self.head {
            Some(h)
                if h.len() < Self::MIN_HEAD_DIGITS
                    || h.len() > 64
                    || !h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
            {
                Err(format!(
                    "floor head `{}` is not {} to 64 lowercase hex digits",
                    crate::util::encoding::echo(h),
                    Self::MIN_HEAD_DIGITS
                ))
            }
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Floor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.head {
            Some(h) if h.len() == 64 => write!(f, "entry {} ({h})", self.seq),
            Some(h) => write!(f, "entry {} (head {h}…)", self.seq),
            None => write!(f, "entry {} (any entry: a length only)", self.seq),
        }
    }
}

/// The entry `reg trust add --head HEAD` asks for: a head code ([`HeadCode`]), or a full entry
/// id (64 hex digits) whose seq the verified ledger gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadWanted {
    /// A head code: the entry at `floor.seq` must start with `floor.head`.
    Code(Floor),
    /// A whole entry id, wherever it is in the history.
    Id(ObjectId),
}

impl std::str::FromStr for HeadWanted {
    type Err = TrustError;

    fn from_str(head: &str) -> Result<HeadWanted, TrustError> {
        let head = head.trim();
        if head.len() == 64
            && let Ok(id) = head.to_ascii_lowercase().parse()
        {
            return Ok(HeadWanted::Id(id));
        }
        Ok(HeadWanted::Code(Floor::parse_code(head)?))
    }
}

impl HeadWanted {
    /// Places the entry in a verified history whose entry ids are `ids`, in order: the floor
    /// to pin, with the whole id of its entry as its head, so that the pin proves all 256 bits
    /// from then on. Refuses a history that does not hold the entry (at the code's seq).
    pub fn place(self, ids: &[ObjectId]) -> Result<(Floor, ObjectId), TrustError> {
        let (at, wanted) = match &self {
            HeadWanted::Id(id) => (ids.iter().position(|x| x == id), format!("entry {id}")),
            HeadWanted::Code(f) => (usize::try_from(f.seq).ok(), f.to_string()),
        };
        let matches = |id: &ObjectId| match &self {
            HeadWanted::Id(want) => id == want,
            HeadWanted::Code(f) => f.matches(id),
        };
        let found = match at.map(|i| (i, ids.get(i))) {
            Some((i, Some(id))) if matches(id) => {
                let floor = Floor {
                    seq: i as u64,
                    head: Some(id.to_string()),
                };
                return Ok((floor, *id));
            }
            Some((i, Some(id))) => format!("it lists {id} at entry {i}"),
            Some(_) => format!(
                "it has only {} entries: the medium is older or was cut",
                ids.len()
            ),
            None => "no entry has that id".into(),
        };
        Err(TrustError::NotInHistory { wanted, found })
    }
}
