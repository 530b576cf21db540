//! JSON numbers in canonical JSON: the RFC 8785 spelling, and the legacy spelling of older
//! registries (FORMAT.md §2).

use super::EncodingError;

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

/// A JSON number spelled in `form`.
///
/// In RFC 8785 every number is the IEEE-754 double it denotes: an integer is written as the
/// double nearest to it, and refused when that spelling is not its own decimal (so writing
/// never changes a value, and reading an integer token beyond 2^53 accepts exactly the
/// spellings RFC 8785 gives for doubles, such as `100000000000000000` for 1e17).
pub(super) fn number(n: &serde_json::Number, form: NumberForm) -> Result<String, EncodingError> {
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
