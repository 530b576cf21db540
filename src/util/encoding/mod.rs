//! Canonical JSON, hex, base64 and time: the byte-level encodings of FORMAT.md §2.
//!
//! Canonical JSON is used only so that writing is deterministic. Verification always hashes the
//! stored bytes; [`from_canonical_slice`] parses and then refuses any input that is not already in
//! canonical form, so one meaning has exactly one encoding.

mod echo;
mod json;
mod number;
#[cfg(test)]
mod tests;
mod time;

pub use echo::{
    ECHO_LIMIT, KEY_RUN_MIN, MESSAGE_KEY_RUN_MIN, echo, echo_message, echo_within, forbidden_char,
    holds_key_material, is_bidi_control, mask_key_material,
};
pub use json::{
    check_typed, check_typed_in, from_canonical_slice, from_canonical_value_slice,
    parse_canonical_value, parse_json_strict, parse_value_in, to_canonical_vec, write_string,
};
pub use number::{NumberForm, legacy_number, rfc8785_number};
pub use time::{Clock, MAX_TIME_SECS, parse_rfc3339, rfc3339};

use base64::Engine as _;

/// Errors of the encoding layer.
#[derive(Debug, thiserror::Error)]
pub enum EncodingError {
    /// The bytes are not JSON, or not of the expected shape. The parser's message quotes what
    /// it refused (an unknown field, a string of the wrong type): shown only through
    /// [`echo`], so that a key file read as JSON is never printed.
    #[error("invalid JSON: {}", echo(&.0.to_string()))]
    Json(#[from] serde_json::Error),
    /// The bytes are valid JSON but not in canonical form.
    #[error("not canonical JSON (same meaning, other bytes)")]
    NotCanonical,
    /// The bytes are canonical JSON, but re-encoding the typed document they hold gives other
    /// bytes: the same meaning spelled another way (an empty list or map that writers omit, a
    /// value the type normalises).
    #[error(
        "not canonical (same meaning, other bytes): re-encoding the document gives other bytes, e.g. an empty list or map writers omit"
    )]
    NotCanonicalTyped,
    /// An integer whose RFC 8785 form is not its own decimal (beyond ±2^53 and not exactly a
    /// double with those digits): writing it would change its value for every reader.
    #[error(
        "the integer {0} cannot be written exactly (numbers are IEEE-754 doubles, FORMAT.md §2): integers beyond ±2^53 are refused"
    )]
    InexactInteger(String),
    /// `null`, or a NaN or infinite number (which serde turns into `null`): never written.
    #[error("null, NaN and infinite numbers cannot be encoded")]
    NullOrNonFinite,
    /// Base64 that is malformed or not canonical.
    #[error("invalid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// `SOURCE_DATE_EPOCH` is set but not a number of seconds, or names a time after 9999.
    #[error(
        "SOURCE_DATE_EPOCH must be a non-negative integer number of seconds up to {MAX_TIME_SECS} (9999-12-31T23:59:59Z), got `{0}`"
    )]
    SourceDateEpoch(String),
    /// The clock reads a time the format cannot write (after the year 9999).
    #[error(
        "the clock reads {0} s since 1970, after 9999-12-31T23:59:59Z, which the format cannot write"
    )]
    ClockOutOfRange(u64),
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard padded base64, refusing non-canonical trailing bits.
pub fn b64_decode(text: &str) -> Result<Vec<u8>, EncodingError> {
    Ok(base64::engine::general_purpose::STANDARD.decode(text)?)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Whether `s` is exactly `len` lowercase hex digits.
pub fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
