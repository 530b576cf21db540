//! Time: the format's RFC 3339 grammar and the clock that entries and checkpoints read.

use super::{EncodingError, echo};
use std::time::{SystemTime, UNIX_EPOCH};

/// The last second the format's time grammar can write: 9999-12-31T23:59:59Z.
pub const MAX_TIME_SECS: u64 = 253_402_300_799;

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
