//! Canonical JSON (FORMAT.md §2): writing, strict parsing, and the check that an input is
//! already in canonical form.

use super::number::{NumberForm, number};
use super::{EncodingError, echo};
use serde::{Deserialize as _, Serialize, de::DeserializeOwned};
use serde_json::Value;

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
