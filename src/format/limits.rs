//! How large each kind of signed object may be (FORMAT.md §4, §5.1, §7.2, §11.10), and the
//! writers' refusal of one over its readers' limit, worded for whoever would sign it.
//!
//! The limits are format vocabulary, so they live here rather than beside the signing code:
//! `crypto` signs and verifies bytes of any size, and every writer signs through [`sign`] or
//! [`sign_bytes`], which refuse an object every reader would refuse before it is signed.

use crate::crypto::envelope::{self, EnvelopeError, Kind, envelope_len};
use crate::crypto::keys::SecretKey;
use crate::format::checkpoint::CHECKPOINT_LIMIT;
use serde::Serialize;

/// Largest ledger entry object reg reads (entries are small; drift observations the largest).
pub const ENTRY_LIMIT: u64 = 1024 * 1024;

/// Largest manifest (model record) reg reads.
pub const MANIFEST_LIMIT: u64 = 1024 * 1024;

/// Largest drift report envelope reg reads or signs (FORMAT.md §11.10): half the entry limit,
/// so that the `drift-import` entry embedding one (base64-encoded once more by its own
/// envelope, with about 500 bytes of fields) always fits under [`ENTRY_LIMIT`].
pub const REPORT_LIMIT: u64 = 512 * 1024;

/// The largest stored object of `kind` that readers accept, in bytes: writers refuse to sign a
/// bigger one, since every reader would then refuse the registry. The checkpoint's is
/// [`CHECKPOINT_LIMIT`], the limit of every checkpoint reader (its payload has a fixed shape of
/// about 300 bytes, so only a bug could reach it: the writer refuses it all the same).
pub fn reader_limit(kind: Kind) -> u64 {
    match kind {
        Kind::Manifest => MANIFEST_LIMIT,
        Kind::DriftReport => REPORT_LIMIT,
        Kind::Checkpoint => CHECKPOINT_LIMIT,
        _ => ENTRY_LIMIT,
    }
}

/// What a person calls an object of `kind` when told it is too large.
fn object_name(kind: Kind) -> String {
    match kind {
        Kind::Manifest => "signed manifest".to_string(),
        Kind::DriftReport => "drift report".to_string(),
        Kind::Checkpoint => "checkpoint".to_string(),
        _ => format!("{} entry", kind.name()),
    }
}

/// What to change when an object of `kind` would be too large.
fn shrink_hint(kind: Kind) -> &'static str {
    match kind {
        Kind::Drift | Kind::DriftReport => "shorten the notes or split the observation",
        Kind::Manifest => {
            "pack fewer files or shorter paths, or shorten the description, labels or provenance"
        }
        Kind::Genesis | Kind::Recipients => "list fewer recipients",
        Kind::Purge | Kind::Add => "the model has too many artifacts for one entry",
        Kind::Checkpoint => "a checkpoint has a fixed shape: this is a bug in reg, report it",
        _ => "shorten the reason",
    }
}

/// Refuses a payload whose envelope would exceed what readers of `kind` accept.
pub fn check_size(kind: Kind, payload_len: usize) -> Result<(), EnvelopeError> {
    let size = envelope_len(kind, payload_len);
    let limit = reader_limit(kind);
    if size > limit {
        return Err(EnvelopeError::TooLarge {
            object: object_name(kind),
            size,
            limit,
            hint: shrink_hint(kind),
        });
    }
    Ok(())
}

/// Signs `payload` as a `kind` object with one key, refusing it first if its readers would
/// ([`check_size`]); returns the canonical envelope bytes.
pub fn sign<T: Serialize>(
    kind: Kind,
    payload: &T,
    key: &SecretKey,
) -> Result<Vec<u8>, EnvelopeError> {
    let body = crate::util::encoding::to_canonical_vec(payload).map_err(|source| {
        EnvelopeError::Encoding {
            what: "payload",
            source,
        }
    })?;
    sign_bytes(kind, &body, key)
}

/// Signs canonical payload bytes as a `kind` object; returns the canonical envelope bytes.
///
/// Every signed object reg writes goes through here, so this is where an object larger than its
/// readers accept ([`reader_limit`]) is refused, before it is signed or written.
pub fn sign_bytes(kind: Kind, body: &[u8], key: &SecretKey) -> Result<Vec<u8>, EnvelopeError> {
    check_size(kind, body.len())?;
    envelope::sign_bytes(kind, body, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_over_its_readers_limit_is_refused_before_signing() {
        let k = SecretKey::from_seed(&[5u8; 32]).unwrap();
        let limit = ENTRY_LIMIT;
        // The largest payload whose envelope fits, and one byte (one base64 group) more.
        let fits = (0..)
            .map(|n| n * 3)
            .take_while(|n| envelope_len(Kind::Drift, *n) <= limit)
            .last()
            .unwrap();
        let bytes = sign_bytes(Kind::Drift, &vec![b'a'; fits], &k).unwrap();
        assert!(bytes.len() as u64 <= limit);
        let err = sign_bytes(Kind::Drift, &vec![b'a'; fits + 1], &k).unwrap_err();
        assert!(matches!(err, EnvelopeError::TooLarge { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("over the 1 MiB limit every reader enforces: shorten the notes"),
            "{err}"
        );
    }

    /// The limits are inclusive: an object whose envelope is exactly its readers' limit is
    /// signed (and reads back at that size), one base64 group more is refused. Only kinds whose
    /// envelope can land exactly on the limit tell `>` from `>=`; some must.
    #[test]
    fn an_object_exactly_at_its_readers_limit_is_signed_and_one_byte_more_is_not() {
        let k = SecretKey::from_seed(&[5u8; 32]).unwrap();
        let mut exact = Vec::new();
        for kind in Kind::ALL {
            let limit = reader_limit(kind);
            let n = ((limit - envelope_len(kind, 0)) / 4 * 3) as usize;
            assert!(envelope_len(kind, n) <= limit && envelope_len(kind, n + 1) > limit);
            assert!(check_size(kind, n + 1).is_err(), "{kind:?}");
            if envelope_len(kind, n) == limit {
                check_size(kind, n).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
                exact.push(kind);
            }
        }
        assert!(exact.contains(&Kind::DriftReport), "{exact:?}");
        let n = ((REPORT_LIMIT - envelope_len(Kind::DriftReport, 0)) / 4 * 3) as usize;
        let bytes = sign_bytes(Kind::DriftReport, &vec![b'a'; n], &k).unwrap();
        assert_eq!(bytes.len() as u64, REPORT_LIMIT);
        assert!(matches!(
            sign_bytes(Kind::DriftReport, &vec![b'a'; n + 1], &k),
            Err(EnvelopeError::TooLarge {
                limit: REPORT_LIMIT,
                ..
            })
        ));
    }
}
