//! The one rule for user-chosen names that may become file names (FORMAT.md §1.2).
//!
//! Lowercase only, so two names never collide on case-insensitive media (FAT, exFAT); no leading
//! dot, so a name is never hidden, `.` or `..`; bounded, so paths stay short.

/// Longest name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Longest version, in bytes.
pub const MAX_VERSION_LEN: usize = 64;

/// A name that breaks the rule, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid {what} `{name}`: {why} (names are 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit)"
)]
pub struct NameError {
    /// What kind of name ("model name", "slot name").
    pub what: &'static str,
    /// The name given, shortened and with control and bidi characters escaped
    /// ([`crate::util::encoding::echo`]): an error never rewrites the terminal nor echoes a whole
    /// oversized input.
    pub name: String,
    /// Which part of the rule it breaks.
    pub why: std::borrow::Cow<'static, str>,
}

/// Checks `name` against the rule `^[a-z0-9][a-z0-9._-]{0,63}$`.
pub fn check(what: &'static str, name: &str) -> Result<(), NameError> {
    let err = |why: &'static str| {
        Err(NameError {
            what,
            name: crate::util::encoding::echo(name),
            why: why.into(),
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
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(NameError {
            what,
            name: crate::util::encoding::echo(name),
            why: if bad.is_ascii_uppercase() {
                "it has an uppercase letter".into()
            } else {
                format!(
                    "it has the character U+{:04X}, outside a-z 0-9 . _ -",
                    bad as u32
                )
                .into()
            },
        });
    }
    Ok(())
}

/// A version that is not a semantic version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid version `{0}`: expected a semantic version such as 1.4.0 or 2.0.0-rc.1 (semver.org), at most 64 bytes"
)]
pub struct VersionError(
    /// The version given, shortened and escaped ([`crate::util::encoding::echo`]).
    pub String,
);

/// Checks a semantic version 2.0.0: `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, at most 64 bytes.
pub fn check_version(v: &str) -> Result<(), VersionError> {
    let bad = || Err(VersionError(crate::util::encoding::echo(v)));
    if v.len() > MAX_VERSION_LEN {
        return bad();
    }
    let (rest, build) = match v.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (v, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numeric = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    let ident =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 || !parts.iter().all(|p| numeric(p)) {
        return bad();
    }
    if let Some(pre) = pre
        && !pre
            .split('.')
            .all(|p| ident(p) && (!p.bytes().all(|b| b.is_ascii_digit()) || numeric(p)))
    {
        return bad();
    }
    if let Some(build) = build
        && !build.split('.').all(ident)
    {
        return bad();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{check, check_version};

    #[test]
    fn errors_name_the_code_point_and_never_echo_raw_controls_or_long_inputs() {
        let e = check("slot name", "prod\u{202e}x").unwrap_err().to_string();
        assert!(e.contains("U+202E"), "{e}");
        assert!(!e.contains('\u{202e}'), "{e}");
        let e = check("model name", "a\u{1b}[2J").unwrap_err().to_string();
        assert!(!e.contains('\u{1b}'), "{e}");
        let e = check("model name", &"x".repeat(100_000))
            .unwrap_err()
            .to_string();
        assert!(e.len() < 400, "{e}");
        let e = check_version(&"1".repeat(100_000)).unwrap_err().to_string();
        assert!(e.len() < 400, "{e}");
    }

    #[test]
    fn semantic_versions() {
        for ok in [
            "0.0.0",
            "1.2.3",
            "10.20.30",
            "1.0.0-rc.1",
            "1.0.0-alpha-a.b-c",
            "1.0.0+build.5",
            "1.0.0-0.3.7+x",
        ] {
            assert!(check_version(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.2.3-",
            "1.2.3-01",
            "1.2.3+",
            "v1.2.3",
            "1.2.3-a..b",
            "1.2.x",
        ] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

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
