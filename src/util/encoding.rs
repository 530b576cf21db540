//! Canonical JSON, hex, base64 and time: the byte-level encodings of FORMAT.md §2.
//!
//! Canonical JSON is used only so that writing is deterministic. Verification always hashes the
//! stored bytes; [`from_canonical_slice`] parses and then refuses any input that is not already in
//! canonical form, so one meaning has exactly one encoding.

use base64::Engine as _;
use serde::{Deserialize as _, Serialize, de::DeserializeOwned};
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// Errors of the encoding layer.
#[derive(Debug, thiserror::Error)]
pub enum EncodingError {
    /// The bytes are not JSON, or not of the expected shape.
    #[error("invalid JSON: {0}")]
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

/// The last second the format's time grammar can write: 9999-12-31T23:59:59Z.
pub const MAX_TIME_SECS: u64 = 253_402_300_799;

/// Most bytes of an input echoed in an error message: enough to recognise it, never a whole
/// oversized input (which could flood a terminal or a log).
pub const ECHO_LIMIT: usize = 160;

/// `text` for an error message: at most [`ECHO_LIMIT`] bytes (cut on a character boundary, with
/// `…` and the full length when cut), control and bidirectional-formatting characters escaped as
/// `\u{…}`, so that an error never rewrites the terminal nor echoes a whole oversized input.
pub fn echo(text: &str) -> String {
    echo_within(text, ECHO_LIMIT)
}

/// [`echo`] with another length limit, in bytes.
pub fn echo_within(text: &str, limit: usize) -> String {
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 16);
    for c in text[..end].chars() {
        if c.is_control() || is_bidi_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    if end < text.len() {
        out.push_str(&format!("… ({} bytes)", text.len()));
    }
    out
}

/// Whether `c` is a bidirectional-formatting character (ALM, LRM, RLM, the embeddings and
/// overrides U+202A..U+202E, the isolates U+2066..U+2069): invisible characters that reorder
/// how the text around them is displayed.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// The first control (C0, DEL, C1) or bidirectional-formatting character of `text`, as
/// `U+XXXX`: such characters are refused in identifiers (paths, names) because they hide or
/// reorder what an operator reads.
pub fn forbidden_char(text: &str) -> Option<String> {
    text.chars()
        .find(|&c| c.is_control() || is_bidi_control(c))
        .map(|c| format!("U+{:04X}", c as u32))
}

/// Parses a JSON input written by a person or another program (not canonical), refusing a
/// duplicate key at any depth, as canonical inputs refuse it (FORMAT.md §2).
pub fn parse_json_strict(bytes: &[u8]) -> Result<Value, EncodingError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue::deserialize(&mut de)?;
    de.end()?;
    Ok(value.0)
}

/// A JSON value whose objects are checked for duplicate keys while they are parsed.
struct StrictValue(Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictValue(v) = map.next_value()?;
            if out.contains_key(&key) {
                // Which of two values counts would depend on the parser: refuse, as canonical
                // inputs do.
                return Err(serde::de::Error::custom(format!(
                    "duplicate key `{}` in one object",
                    echo(&key)
                )));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// How numbers are spelled (FORMAT.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberForm {
    /// RFC 8785 (JCS): ECMAScript's `Number.prototype.toString` of the IEEE-754 double. What
    /// reg writes, and the only form a format-2 registry holds.
    Rfc8785,
    /// What reg wrote before format 2 (serde_json 1.0.154's float layout): integers as parsed,
    /// floats always with a `.` or an exponent. Read, never written, and only in the drift
    /// observations of format-1 registries, which are the only objects that can hold floats.
    Legacy,
}

/// Encodes a value as canonical JSON (FORMAT.md §2).
pub fn to_canonical_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodingError> {
    let value = serde_json::to_value(value)?;
    let mut out = Vec::with_capacity(256);
    write_value(&value, &mut out, NumberForm::Rfc8785)?;
    Ok(out)
}

/// Parses canonical JSON into a [`Value`], refusing bytes that are not exactly its canonical
/// encoding.
pub fn parse_canonical_value(bytes: &[u8]) -> Result<Value, EncodingError> {
    parse_value_in(bytes, NumberForm::Rfc8785)
}

/// [`parse_canonical_value`] with numbers in `form`.
pub fn parse_value_in(bytes: &[u8], form: NumberForm) -> Result<Value, EncodingError> {
    let value: Value = serde_json::from_slice(bytes)?;
    let mut again = Vec::with_capacity(bytes.len());
    // A number that cannot be written in `form` (an inexact integer) is not canonical either.
    if write_value(&value, &mut again, form).is_err() || again != bytes {
        return Err(EncodingError::NotCanonical);
    }
    Ok(value)
}

/// Parses canonical JSON into the typed document `T`, refusing bytes that are not exactly the
/// canonical encoding of the JSON value ([`parse_canonical_value`]) nor exactly the canonical
/// encoding of the typed document: an empty list or map written out where writers omit it, or
/// any other spelling the type normalises, is another encoding of the same meaning.
pub fn from_canonical_slice<T: DeserializeOwned + Serialize>(
    bytes: &[u8],
) -> Result<T, EncodingError> {
    let value: T = serde_json::from_value(parse_canonical_value(bytes)?)?;
    check_typed(&value, bytes)?;
    Ok(value)
}

/// [`from_canonical_slice`] for a read-only type that has no canonical writer (an old,
/// unsigned local format): only the JSON value's encoding is checked.
pub fn from_canonical_value_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, EncodingError> {
    Ok(serde_json::from_value(parse_canonical_value(bytes)?)?)
}

/// Refuses `bytes` unless they are exactly the canonical encoding of `value`, the typed
/// document decoded from them (one meaning, one encoding).
pub fn check_typed<T: Serialize + ?Sized>(value: &T, bytes: &[u8]) -> Result<(), EncodingError> {
    check_typed_in(value, bytes, NumberForm::Rfc8785)
}

/// [`check_typed`] with numbers in `form`.
pub fn check_typed_in<T: Serialize + ?Sized>(
    value: &T,
    bytes: &[u8],
    form: NumberForm,
) -> Result<(), EncodingError> {
    let value = serde_json::to_value(value)?;
    let mut again = Vec::with_capacity(bytes.len());
    if write_value(&value, &mut again, form).is_err() || again != bytes {
        return Err(EncodingError::NotCanonicalTyped);
    }
    Ok(())
}

fn write_value(value: &Value, out: &mut Vec<u8>, form: NumberForm) -> Result<(), EncodingError> {
    match value {
        // reg never writes `null` (absent fields are omitted), and serde_json turns NaN and
        // infinities into `null`: refusing it here is what keeps them out of signed objects.
        Value::Null => return Err(EncodingError::NullOrNonFinite),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => out.extend_from_slice(number(n, form)?.as_bytes()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out, form)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sort explicitly: serde_json's map order depends on a cargo feature
            // (`preserve_order`) that another crate in the tree could switch on.
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out, form)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// A JSON number spelled in `form`.
///
/// In RFC 8785 every number is the IEEE-754 double it denotes: an integer is written as the
/// double nearest to it, and refused when that spelling is not its own decimal (so writing
/// never changes a value, and reading an integer token beyond 2^53 accepts exactly the
/// spellings RFC 8785 gives for doubles, such as `100000000000000000` for 1e17).
fn number(n: &serde_json::Number, form: NumberForm) -> Result<String, EncodingError> {
    let int = n
        .as_u64()
        .map(i128::from)
        .or_else(|| n.as_i64().map(i128::from));
    match (int, form) {
        (Some(i), NumberForm::Legacy) => Ok(i.to_string()),
        (Some(i), NumberForm::Rfc8785) => {
            let text = rfc8785_number(i as f64).ok_or(EncodingError::NullOrNonFinite)?;
            if text == i.to_string() {
                Ok(text)
            } else {
                Err(EncodingError::InexactInteger(i.to_string()))
            }
        }
        (None, form) => {
            let x = n.as_f64().ok_or(EncodingError::NullOrNonFinite)?;
            match form {
                NumberForm::Rfc8785 => rfc8785_number(x).ok_or(EncodingError::NullOrNonFinite),
                NumberForm::Legacy => legacy_number(x).ok_or(EncodingError::NullOrNonFinite),
            }
        }
    }
}

/// The shortest decimal digits that round-trip to `x` (finite, > 0), the closest to `x` among
/// them and the even one on a tie, and the exponent `n` such that `x = 0.d1d2… × 10^n`: the `k`,
/// `s` and `n` of ECMAScript's Number::toString. The digits are zmij's (Schubfach, the
/// generator serde_json uses); Rust's own `{:e}` breaks ties upwards, which RFC 8785 does not.
fn shortest_digits(x: f64) -> (String, i32) {
    let mut buffer = zmij::Buffer::new();
    let text = buffer.format_finite(x);
    if let Some((mantissa, exp)) = text.split_once('e') {
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        // zmij writes a decimal exponent with an optional sign: always an i32.
        let e: i32 = exp.trim_start_matches('+').parse().unwrap_or(0);
        return (digits.trim_end_matches('0').to_string(), e + 1);
    }
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int != "0" {
        let digits = format!("{int}{frac}");
        (digits.trim_end_matches('0').to_string(), int.len() as i32)
    } else {
        let zeros = frac.len() - frac.trim_start_matches('0').len();
        let digits = frac[zeros..].trim_end_matches('0').to_string();
        (digits, -(zeros as i32))
    }
}

/// `d[.ddd]e±N`, the exponential form both spellings use.
fn exponential(digits: &str, n: i32) -> String {
    let e = n - 1;
    let sign = if e < 0 { '-' } else { '+' };
    let (first, rest) = digits.split_at(1);
    if rest.is_empty() {
        format!("{first}e{sign}{}", e.unsigned_abs())
    } else {
        format!("{first}.{rest}e{sign}{}", e.unsigned_abs())
    }
}

/// `x` as RFC 8785 §3.2.2.3 writes it (ECMAScript `Number.prototype.toString`): `0` for both
/// zeros, plain digits from 1e-6 up to but excluding 1e21, else `d.ddde±N`; `None` for NaN and
/// the infinities, which have no spelling.
pub fn rfc8785_number(x: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    if x == 0.0 {
        return Some("0".into());
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let (digits, n) = shortest_digits(x.abs());
    let k = digits.len() as i32;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        exponential(&digits, n)
    };
    Some(format!("{sign}{body}"))
}

/// `x` as reg wrote floats before format 2 (serde_json 1.0.154, which formats with `zmij`):
/// the same shortest digits, plain from 1e-5 up to but excluding 1e16 and always with a `.`
/// (`10.0`, `-0.0`), else `d.ddde±N`. Kept to read format-1 registries; never written.
pub fn legacy_number(x: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return Some(format!("{sign}0.0"));
    }
    let (digits, n) = shortest_digits(x.abs());
    let k = digits.len() as i32;
    let e = n - 1;
    let body = if !(-5..16).contains(&e) {
        exponential(&digits, n)
    } else if k <= n {
        format!("{digits}{}.0", "0".repeat((n - k) as usize))
    } else if n > 0 {
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    };
    Some(format!("{sign}{body}"))
}

/// Appends `s` as a canonical JSON string (FORMAT.md §2).
pub fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    // Only `"`, `\` and ASCII controls are escaped; every other byte (UTF-8 continuation
    // bytes included, which are all >= 0x80) is copied as is, in runs.
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
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

/// Where the current time comes from: the system clock, or a fixed time (reproducible bytes:
/// tests, the worked example, `SOURCE_DATE_EPOCH`). The library reads no environment: the CLI
/// builds the clock from `SOURCE_DATE_EPOCH` and hands it down, and entry and checkpoint
/// times, and the expiry check, read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clock(ClockSource);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum ClockSource {
    /// The system clock.
    #[default]
    System,
    /// This many seconds since the epoch.
    Fixed(u64),
    /// Seconds as text, as `SOURCE_DATE_EPOCH` gives them: parsed at each reading, so that a
    /// bad value fails only the commands that read the time.
    Text(String),
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(ClockSource::System)
    }

    /// A clock stopped at `secs` seconds since the Unix epoch.
    pub fn fixed(secs: u64) -> Clock {
        Clock(ClockSource::Fixed(secs))
    }

    /// A clock stopped at the seconds `text` gives, as `SOURCE_DATE_EPOCH` sets them: text
    /// that is not a number of seconds up to [`MAX_TIME_SECS`] fails each reading (not this
    /// call), naming the variable.
    pub fn from_epoch_text(text: &str) -> Clock {
        Clock(ClockSource::Text(text.to_string()))
    }

    /// The current time as FORMAT.md §2 writes it.
    pub fn now(&self) -> Result<String, EncodingError> {
        let secs = match &self.0 {
            ClockSource::Text(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| *s <= MAX_TIME_SECS)
                .ok_or_else(|| EncodingError::SourceDateEpoch(echo(text)))?,
            ClockSource::Fixed(secs) => *secs,
            // A clock before 1970 is not a state worth failing on: it shows as the epoch.
            ClockSource::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        };
        if secs > MAX_TIME_SECS {
            return Err(EncodingError::ClockOutOfRange(secs));
        }
        Ok(rfc3339(secs))
    }
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (as [`rfc3339`] writes it) back to seconds since the epoch.
///
/// Only the format's grammar: digits where digits go (no sign), a real calendar date (no
/// 2026-02-30, February 29 only in leap years), hours 00-23, minutes and seconds 00-59, years
/// 1970 to 9999. Anything else is `None`.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    if b.len() != 20
        || !digits.iter().all(|&i| b[i].is_ascii_digit())
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let n = |a: usize, z: usize| text.get(a..z)?.parse::<i64>().ok();
    let (y, m, d) = (n(0, 4)?, n(5, 7)?, n(8, 10)?);
    let (hh, mm, ss) = (n(11, 13)?, n(14, 16)?, n(17, 19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if y < 1970
        || !(1..=12).contains(&m)
        || !(1..=month_days).contains(&d)
        || hh > 23
        || mm > 59
        || ss > 59
    {
        return None;
    }
    // Howard Hinnant's days_from_civil, the inverse of civil_from_days below.
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + (153 * m + 2) / 5 + d - 1;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// Howard Hinnant's `civil_from_days`: proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        let v = json!({"b": 1, "a": [true, false], "c": {"z": "x", "y": -3}});
        assert_eq!(
            to_canonical_vec(&v).unwrap(),
            br#"{"a":[true,false],"b":1,"c":{"y":-3,"z":"x"}}"#
        );
    }

    #[test]
    fn escapes_only_what_it_must() {
        let v = json!("a\"b\\c\n\u{1}/é\u{7f}");
        assert_eq!(
            to_canonical_vec(&v).unwrap(),
            "\"a\\\"b\\\\c\\n\\u0001/é\u{7f}\"".as_bytes()
        );
    }

    #[test]
    fn numbers_follow_the_documented_rule() {
        let v = json!([
            0, 42, -7, 0.5, 1.0, -0.0, 1e-7, 1.5e300, 100.0, 1e16, 1e21, 0.000001
        ]);
        assert_eq!(
            String::from_utf8(to_canonical_vec(&v).unwrap()).unwrap(),
            "[0,42,-7,0.5,1,0,1e-7,1.5e+300,100,10000000000000000,1e+21,0.000001]"
        );
        // Integers beyond 2^53 are written only when the double's spelling is their own.
        assert!(to_canonical_vec(&json!(100_000_000_000_000_000u64)).is_ok());
        for bad in [9_007_199_254_740_993u64, u64::MAX] {
            assert!(matches!(
                to_canonical_vec(&json!(bad)),
                Err(EncodingError::InexactInteger(_))
            ));
        }
    }

    /// The legacy spelling is exactly what serde_json (the writer of format-1 registries)
    /// prints, over powers of ten, integers, and pseudo-random doubles of every magnitude.
    #[test]
    fn the_legacy_spelling_is_what_serde_json_wrote() {
        let mut xs: Vec<f64> = Vec::new();
        for e in -325..=308 {
            for m in [1.0, 1.5, 9.999, 1.2345678901234567] {
                xs.push(format!("{m}e{e}").parse().unwrap());
            }
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..40_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = f64::from_bits(state);
            if x.is_finite() {
                xs.push(x);
            }
        }
        xs.extend([
            0.0,
            -0.0,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            0.1,
            0.2,
            0.3,
            10.0,
        ]);
        for x in xs.into_iter().filter(|x| x.is_finite()) {
            for x in [x, -x] {
                let serde = Value::from(x).to_string();
                assert_eq!(legacy_number(x).unwrap(), serde, "{x:e}");
                // Both spellings read back to the same double.
                let jcs = rfc8785_number(x).unwrap();
                assert_eq!(jcs.parse::<f64>().unwrap(), if x == 0.0 { 0.0 } else { x });
            }
        }
    }

    #[test]
    fn non_finite_floats_are_refused_not_nulled() {
        #[derive(serde::Serialize)]
        struct S {
            x: f64,
        }
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(
                to_canonical_vec(&S { x }),
                Err(EncodingError::NullOrNonFinite)
            ));
        }
        assert!(from_canonical_slice::<Value>(br#"{"x":null}"#).is_err());
    }

    #[test]
    fn refuses_non_canonical_inputs() {
        for text in [
            r#"{"b":1,"a":2}"#,
            r#"{"a": 1}"#,
            r#"{"a":1,"a":1}"#,
            "{\"a\":1}\n",
            r#"{"a":"\/"}"#,
            r#"{"a":1.50}"#,
            r#"{"a":10.0}"#,
            r#"{"a":-0.0}"#,
            r#"{"a":-0}"#,
            r#"{"a":1e+16}"#,
            r#"{"a":1e-6}"#,
            r#"{"a":9007199254740993}"#,
            r#"{"a":"\u00e9"}"#,
        ] {
            let r = from_canonical_slice::<Value>(text.as_bytes());
            assert!(
                matches!(r, Err(EncodingError::NotCanonical)),
                "{text}: {r:?}"
            );
        }
        assert!(from_canonical_slice::<Value>(br#"{"a":[1,"x"]}"#).is_ok());
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(b64_decode(&b64_encode(b"reg")).unwrap(), b"reg");
        assert!(b64_decode("cmVn\n").is_err());
        assert!(b64_decode("cmVnZQ").is_err(), "missing padding");
        assert!(b64_decode("cmVnZR==").is_err(), "non-zero trailing bits");
    }

    #[test]
    fn formats_time() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_827_696), "2000-02-29T12:34:56Z");
        for secs in [0u64, 951_827_696, 1_767_225_600, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs));
        }
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-01-01 00:00:00Z"), None);
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "+202-01-01T00:00:00Z",
            "2026-+1-01T00:00:00Z",
            "10000-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:60Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert!(parse_rfc3339("2028-02-29T00:00:00Z").is_some());
        assert!(parse_rfc3339("2000-02-29T00:00:00Z").is_some());
        assert_eq!(
            parse_rfc3339("9999-12-31T23:59:59Z"),
            Some(MAX_TIME_SECS),
            "the last second the grammar writes"
        );
        assert_eq!(rfc3339(MAX_TIME_SECS), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn strict_json_refuses_duplicate_keys_at_any_depth() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"x":{"b":1,"b":1}}"#,
            r#"{"m":[{"k":1,"k":2}]}"#,
        ] {
            let e = parse_json_strict(text.as_bytes()).unwrap_err().to_string();
            assert!(e.contains("duplicate key"), "{text}: {e}");
        }
        let v = parse_json_strict(br#" {"a": [1, 2.5, "x", true, {"b": {}}]} "#).unwrap();
        assert_eq!(v, serde_json::json!({"a": [1, 2.5, "x", true, {"b": {}}]}));
        assert!(parse_json_strict(br#"{"a":1} x"#).is_err());
    }

    #[test]
    fn echo_is_short_and_escaped() {
        let long = "é".repeat(1000);
        let e = echo(&long);
        assert!(e.len() < ECHO_LIMIT + 32, "{e}");
        assert!(e.ends_with("(2000 bytes)"), "{e}");
        assert_eq!(echo("a\u{1b}[2Jb\u{202e}"), "a\\u{1b}[2Jb\\u{202e}");
        assert_eq!(forbidden_char("ok\u{202e}x").as_deref(), Some("U+202E"));
        assert_eq!(forbidden_char("a\u{85}").as_deref(), Some("U+0085"));
        assert_eq!(forbidden_char("plain é"), None);
    }

    #[test]
    fn a_clock_reads_the_time_it_was_given() {
        assert_eq!(Clock::fixed(0).now().unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Clock::from_epoch_text(" 1767225600 ").now().unwrap(),
            "2026-01-01T00:00:00Z"
        );
        assert!(matches!(
            Clock::fixed(MAX_TIME_SECS + 1).now(),
            Err(EncodingError::ClockOutOfRange(_))
        ));
        assert!(Clock::system().now().is_ok());
    }

    #[test]
    fn a_bad_epoch_fails_when_read_not_when_made() {
        for text in ["", "-1", "1.5", "yesterday", "253402300800"] {
            let clock = Clock::from_epoch_text(text);
            match clock.now() {
                Err(e @ EncodingError::SourceDateEpoch(_)) => {
                    assert!(
                        e.to_string().starts_with("SOURCE_DATE_EPOCH must be"),
                        "{e}"
                    );
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
