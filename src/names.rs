//! The one rule for user-chosen names that may become file names (FORMAT.md §1.2).
//!
//! Lowercase only, so two names never collide on case-insensitive media (FAT, exFAT); no leading
//! dot, so a name is never hidden, `.` or `..`; bounded, so paths stay short.

/// Longest name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// A name that breaks the rule, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid {what} `{name}`: {why} (names are 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit)"
)]
pub struct NameError {
    /// What kind of name ("model name", "slot name").
    pub what: &'static str,
    /// The name given.
    pub name: String,
    /// Which part of the rule it breaks.
    pub why: &'static str,
}

/// Checks `name` against the rule `^[a-z0-9][a-z0-9._-]{0,63}$`.
pub fn check(what: &'static str, name: &str) -> Result<(), NameError> {
    let err = |why| {
        Err(NameError {
            what,
            name: name.to_string(),
            why,
        })
    };
    let Some(first) = name.bytes().next() else {
        return err("it is empty");
    };
    if name.len() > MAX_NAME_LEN {
        return err("it is longer than 64 bytes");
    }
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return err("it must start with a lowercase letter or a digit");
    }
    if let Some(bad) = name.bytes().find(|b| {
        !(b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
    }) {
        return if bad.is_ascii_uppercase() {
            err("it has an uppercase letter")
        } else {
            err("it has a character outside a-z 0-9 . _ -")
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_and_refuses() {
        for ok in [
            "a",
            "ransomware-classifier",
            "llm_7b.q4",
            "0day",
            &"x".repeat(64),
        ] {
            assert!(check("model name", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".hidden",
            "..",
            "-x",
            "_x",
            "Upper",
            "a/b",
            "a\\b",
            "a b",
            "é",
            "a\0",
            &"x".repeat(65),
        ] {
            assert!(check("model name", bad).is_err(), "{bad:?}");
        }
    }
}
